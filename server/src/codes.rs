//! Codes that code compares (roles, statuses): enums whose variants carry the code stored in the
//! database and sent in JSON, and the Chinese label pages show. A row holding an unknown code fails to
//! load instead of slipping past a comparison.

/// Declares a code enum: `Variant = ("code", "标签")` per variant. It serialises as its code, binds and
/// loads as TEXT on both backends, and has `as_str`, `label`, `parse` and `ALL`.
macro_rules! code_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored and sent in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// What pages call it.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            pub fn parse(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                $name::parse(&code).ok_or_else(|| serde::de::Error::unknown_variant(&code, &[$($code),+]))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl crate::db::ToValue for $name {
            fn to_value(self) -> crate::db::Value {
                crate::db::ToValue::to_value(self.as_str())
            }
        }

        impl $crate::codes::Code for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn label(self) -> &'static str {
                $name::label(self)
            }
            fn parse(code: &str) -> Option<$name> {
                $name::parse(code)
            }
        }

        $crate::codes::text_column!($name, sqlx::Sqlite);
        $crate::codes::text_column!($name, sqlx::Postgres);
    };
}

/// What every [`code_enum!`] type is, for code that serves them all.
pub trait Code: Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    fn label(self) -> &'static str;
    fn parse(code: &str) -> Option<Self>;
}

/// A list filter's code from the query string: none when empty, else one of `E`'s codes, or 422 on
/// `field` naming the choices.
pub fn filter<E: Code>(value: Option<&str>, field: &str, what: &str) -> Result<Option<E>, crate::error::AppError> {
    match value.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        code => E::parse(code).map(Some).ok_or_else(|| {
            let choices: Vec<String> = E::ALL.iter().map(|e| format!("{}（{}）", e.as_str(), e.label())).collect();
            crate::error::field_error(field, format!("{what}须为 {}", choices.join("、")))
        }),
    }
}

/// The `{code, name}` choices of a page's select.
pub fn choices<E: Code>(items: impl IntoIterator<Item = E>) -> Vec<serde_json::Value> {
    items.into_iter().map(|e| serde_json::json!({"code": e.as_str(), "name": e.label()})).collect()
}

/// Loads a code enum from a TEXT column of one backend.
macro_rules! text_column {
    ($name:ident, $db:ty) => {
        impl sqlx::Type<$db> for $name {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <String as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <String as sqlx::Type<$db>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, $db> for $name {
            fn decode(value: <$db as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let code = <String as sqlx::Decode<$db>>::decode(value)?;
                $name::parse(&code).ok_or_else(|| format!("unknown {} code {code:?}", stringify!($name)).into())
            }
        }
    };
}

pub(crate) use {code_enum, text_column};
