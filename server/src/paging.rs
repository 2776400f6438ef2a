//! Paging and list filters shared by every list, page and JSON alike: the `page`/`per_page` query
//! fields ([`list_query!`]), the page size rule, the pager templates show, and the one "contains" search that behaves the same on SQLite and PostgreSQL.

use serde_json::json;

use crate::db::Filters;

/// The page a list starts on when none is asked for (`#[serde(default = "crate::paging::first_page")]`).
pub fn first_page() -> i64 {
    1
}

/// One page of a list: its number (from 1) and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    /// The asked page and size: 20 a page unless asked, at most 200.
    pub fn new(page: i64, per_page: Option<i64>) -> Paging {
        Paging::sized(page, per_page, 20, 200)
    }

    /// The asked page and size, with this list's own default size and upper bound.
    pub fn sized(page: i64, per_page: Option<i64>, default: i64, max: i64) -> Paging {
        Paging { page: page.max(1), per_page: per_page.unwrap_or(default).clamp(1, max) }
    }

    /// One page holding all `total` rows (short lists served whole in the paged shape).
    pub fn all(total: i64) -> Paging {
        Paging { page: 1, per_page: total.max(1) }
    }

    /// Rows to skip before this page.
    pub fn offset(&self) -> i64 {
        crate::db::page_offset(self.page, self.per_page)
    }

    /// Paging facts for templates: current page, pages, previous/next.
    pub fn pager(&self, total: i64) -> Pager {
        let Paging { page, per_page } = *self;
        let pages = ((total + per_page - 1) / per_page).max(1);
        Pager { page, pages, total, per_page, prev: (page > 1).then_some(page - 1), next: (page < pages).then_some(page + 1) }
    }
}

/// Where a page stands among a list's pages (what the page templates' pagination draws).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub per_page: i64,
    /// The previous page, if any
    pub prev: Option<i64>,
    /// The next page, if any
    pub next: Option<i64>,
}

/// A list's query string with the paging fields every list takes: declares the struct as written
/// plus `page` (from 1) and `per_page` (20 unless asked, at most 200; a leading
/// `per_page(default, max);` changes both), and `paging()`/`per_page()`.
///
/// The fields are the struct's own rather than a `#[serde(flatten)]`ed `Paging`: a flattened struct
/// receives every query-string value as a string, so its numbers would not parse, and the OpenAPI
/// parameters would not list them.
macro_rules! list_query {
    (per_page($default:expr, $max:expr); $(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $crate::paging::list_query!(@sized $default, $max; $(#[$meta])* $vis struct $name { $($body)* });
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $crate::paging::list_query!(@sized 20, 200; $(#[$meta])* $vis struct $name { $($body)* });
    };
    (
        @sized $default:expr, $max:expr;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $ty,)*
            /// Page number, from 1
            #[serde(default = "crate::paging::first_page")]
            pub page: i64,
            /// Page size
            pub per_page: Option<i64>,
        }

        impl $name {
            /// The page asked for, with this list's page size rule.
            #[allow(dead_code)]
            pub fn paging(&self) -> $crate::paging::Paging {
                $crate::paging::Paging::sized(self.page, self.per_page, $default, $max)
            }

            /// The page size asked for, within this list's bounds.
            #[allow(dead_code)]
            pub fn per_page(&self) -> i64 {
                self.paging().per_page
            }
        }
    };
}
pub(crate) use list_query;

/// A list page's link with its filters kept (empty ones left out), ending so that `page=N` can be
/// appended: `/staff?year=2024&` or `/staff?`.
pub fn query_href(path: &str, pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, v.as_str())).collect();
    let query = serde_urlencoded::to_string(kept).unwrap_or_default();
    if query.is_empty() { format!("{path}?") } else { format!("{path}?{query}&") }
}

/// The first `n` rows of a picker's query (a drop-down of units or staff, never the whole province) and
/// whether there were more.
pub async fn first_rows<T: crate::db::Record>(
    db: &crate::db::Db,
    query: crate::db::Query,
    n: usize,
) -> Result<(Vec<T>, bool), sqlx::Error> {
    let mut rows: Vec<T> = db.all(query.push_sql(&format!(" LIMIT {}", n + 1))).await?;
    let more = rows.len() > n;
    rows.truncate(n);
    Ok((rows, more))
}

/// `%`, `_` and `\` in searched text stand for themselves.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The text searches of list filters, the same on both backends.
pub trait Search {
    /// Keeps rows where any of `columns` contains `text`, ignoring case on both backends (SQLite's
    /// `LIKE` ignores ASCII case, PostgreSQL's does not, so both sides are lowered); `%`, `_` and `\`
    /// in the text match themselves.
    fn contains(&mut self, columns: &[&str], text: &str) -> &mut Self;

    /// Keeps rows where `column` starts with `prefix` (region codes and the like), `%`/`_`/`\` taken
    /// literally.
    fn starts_with(&mut self, column: &str, prefix: &str) -> &mut Self;

    /// The people search of admin lists: a whole ID number is looked up exactly in `id_column` (lists
    /// show it masked), any other text is looked for in `name_column`.
    fn name_or_id_number(&mut self, name_column: &str, id_column: &str, text: &str) -> &mut Self;
}

impl Search for Filters {
    fn contains(&mut self, columns: &[&str], text: &str) -> &mut Self {
        let condition = columns.iter().map(|c| format!("LOWER({c}) LIKE LOWER(?) ESCAPE '\\'")).collect::<Vec<_>>().join(" OR ");
        self.and_same(&format!("({condition})"), format!("%{}%", escape_like(text)))
    }

    fn starts_with(&mut self, column: &str, prefix: &str) -> &mut Self {
        self.and(&format!("{column} LIKE ? ESCAPE '\\'"), format!("{}%", escape_like(prefix)))
    }

    fn name_or_id_number(&mut self, name_column: &str, id_column: &str, text: &str) -> &mut Self {
        match crate::ids::check_id_number(text) {
            Ok(id_number) => self.and(&format!("{id_column} = ?"), id_number),
            Err(_) => self.contains(&[name_column], text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    list_query! {
        #[derive(Debug, serde::Deserialize)]
        struct Sample {
            q: Option<String>,
            year: Option<i32>,
        }
    }

    fn parse(query: &str) -> Sample {
        let uri: axum::http::Uri = format!("/x?{query}").parse().unwrap();
        axum::extract::Query::<Sample>::try_from_uri(&uri).unwrap().0
    }

    #[test]
    fn query_strings_carry_page_and_size() {
        let asked = parse("page=2&per_page=5&q=x&year=2024");
        assert_eq!(asked.paging(), Paging { page: 2, per_page: 5 });
        assert_eq!((asked.q.as_deref(), asked.year), (Some("x"), Some(2024)));
        assert_eq!(asked.paging().offset(), 5);
        assert_eq!(Paging::new(i64::MAX, Some(200)).offset(), i64::MAX, "no overflow");
        assert_eq!(parse("").paging(), Paging { page: 1, per_page: 20 });
        assert_eq!(parse("page=0&per_page=1000").paging(), Paging { page: 1, per_page: 200 });
        let uri: axum::http::Uri = "/x?page=two".parse().unwrap();
        assert!(axum::extract::Query::<Sample>::try_from_uri(&uri).is_err());
    }

    list_query! {
        per_page(50, 500);
        #[derive(Debug, serde::Deserialize)]
        struct Long {}
    }

    #[test]
    fn a_list_may_have_its_own_page_size() {
        let uri: axum::http::Uri = "/x?per_page=900".parse().unwrap();
        let asked = axum::extract::Query::<Long>::try_from_uri(&uri).unwrap().0;
        assert_eq!(asked.paging(), Paging { page: 1, per_page: 500 });
        let uri: axum::http::Uri = "/x".parse().unwrap();
        assert_eq!(axum::extract::Query::<Long>::try_from_uri(&uri).unwrap().0.per_page(), 50);
    }

    #[test]
    fn pager_and_paged_shape() {
        let paging = Paging::new(2, Some(5));
        assert_eq!(
            serde_json::to_value(paging.pager(11)).unwrap(),
            json!({"page": 2, "pages": 3, "total": 11, "per_page": 5, "prev": 1, "next": 3})
        );
        assert_eq!(Paging::new(1, None).pager(0).pages, 1);
        let paged = serde_json::to_value(crate::api::Paged::new(vec![1], 11, paging)).unwrap();
        assert_eq!(paged, json!({"items": [1], "total": 11, "page": 2, "per_page": 5}));
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}

/// The query string as a form sends it: a field left blank (`?year=&status=approved`) is a field not
/// given, so every optional filter of every list and page accepts a blank choice without its own
/// deserializer. Otherwise as axum's `Query`; a query that still does not fit its struct is 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let given = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(given)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
        let filled = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        serde_urlencoded::from_str(&filled).map(Query).map_err(|err| {
            crate::error::AppError::from_status(axum::http::StatusCode::BAD_REQUEST).with_extra(json!({"detail": err.to_string()}))
        })
    }
}
