//! The rules' Rust and JSON vocabulary: what the CLI reads and prints and what the rest of the server passes
//! in, converted to and from the plugin interface's compact records (hours in hundredths, enums for codes)
//! of every API version the host supports.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::host::v0_1::jijiao::rules::types as w1;
use super::host::v0_2::jijiao::rules::types as w2;
use super::host::v0_3::jijiao::rules::types as w3;

/// Hours as fixed-point hundredths; JSON carries them as decimal numbers with at most two decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hours(pub u32);

impl Hours {
    /// Parses a decimal with at most two fractional digits.
    pub fn from_decimal(value: f64) -> Option<Hours> {
        let hundredths = value * 100.0;
        let rounded = hundredths.round();
        let exact = (hundredths - rounded).abs() < 1e-6;
        (value.is_finite() && value >= 0.0 && exact && rounded <= f64::from(u32::MAX)).then_some(Hours(rounded as u32))
    }

    pub fn to_decimal(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole hours print as integers (90), others as decimals (12.5).
        if self.0.is_multiple_of(100) { serializer.serialize_u32(self.0 / 100) } else { serializer.serialize_f64(self.to_decimal()) }
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Hours::from_decimal(value).ok_or_else(|| serde::de::Error::custom(format!("学时须为最多两位小数的非负数：{value}")))
    }
}

/// Declares a JSON-facing enum (snake_case names) and its two-way mapping to the interface's enum of every
/// API version, so the names are written once.
macro_rules! wit_enum {
    ($(#[$meta:meta])* $name:ident <=> $wit:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        wit_enum!(@map $name, w1::$wit, $($variant),+);
        wit_enum!(@map $name, w2::$wit, $($variant),+);
        wit_enum!(@map $name, w3::$wit, $($variant),+);
    };
    (@map $name:ident, $wit:path, $($variant:ident),+) => {
        impl From<$name> for $wit {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$wit>::$variant),+ }
            }
        }

        impl From<$wit> for $name {
            fn from(value: $wit) -> Self {
                match value { $(<$wit>::$variant => $name::$variant),+ }
            }
        }
    };
}

wit_enum!(
    /// 公需科目 / 专业科目
    Subject <=> Subject { Public, Professional }
);
wit_enum!(
    /// Which subjects an activity type grants hours in.
    #[derive(utoipa::ToSchema)]
    SubjectGroup <=> SubjectGroup { Public, Professional, Both, Either }
);
wit_enum!(Source <=> Source { Online, Offline, Activity, Recognized });
wit_enum!(
    /// 岗位类别
    Post <=> Post { Management, Technical, Worker }
);
wit_enum!(
    /// What a form field takes.
    #[derive(utoipa::ToSchema)]
    FieldKind <=> FieldKind { Text, Number, Date, Choice, File }
);

/// What an approval route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    StaffRegistration,
    OrgRegistration,
    ActivityClaim,
    TrainingPlan,
    ClassDeclaration,
    // Added in API 0.3.0; plugins built against an older API are routed by the host (`host_route`).
    StaffTransfer,
    PersonChange,
    OrgChange,
    ParentChange,
    WorkMaterials,
    InstitutionAnnualPlan,
    InstitutionAnnualSummary,
}

wit_enum!(@map RequestKind, w3::RequestKind, StaffRegistration, OrgRegistration, ActivityClaim, TrainingPlan, ClassDeclaration,
    StaffTransfer, PersonChange, OrgChange, ParentChange, WorkMaterials, InstitutionAnnualPlan, InstitutionAnnualSummary);

/// The request kinds API 0.1.0 and 0.2.0 know, as those versions spell them; `None` for a kind added later.
macro_rules! legacy_request_kind {
    ($($w:ident),+) => {$(
        impl $w::RequestKind {
            pub(super) fn from_model(kind: RequestKind) -> Option<Self> {
                Some(match kind {
                    RequestKind::StaffRegistration => $w::RequestKind::StaffRegistration,
                    RequestKind::OrgRegistration => $w::RequestKind::OrgRegistration,
                    RequestKind::ActivityClaim => $w::RequestKind::ActivityClaim,
                    RequestKind::TrainingPlan => $w::RequestKind::TrainingPlan,
                    RequestKind::ClassDeclaration => $w::RequestKind::ClassDeclaration,
                    _ => return None,
                })
            }
        }
    )+};
}

legacy_request_kind!(w1, w2);

impl RequestKind {
    /// The route of a kind that the plugin's API version does not know (it predates the kind): one step,
    /// the applicant's own admin for transfers (the receiving unit) and person changes, its supervising
    /// department (else its HR bureau) for the rest, as most provinces' manuals route them.
    pub fn host_route(self, applicant: Applicant) -> Route {
        let role = match self {
            RequestKind::StaffTransfer | RequestKind::PersonChange => Role::UnitAdmin,
            _ => Role::AuthorityAdmin,
        };
        Route { steps: vec![Step { role, level: applicant.level }] }
    }
}
wit_enum!(OrgLevel <=> OrgLevel { Province, City, County });
wit_enum!(Role <=> Role { UnitAdmin, InstitutionAdmin, AuthorityAdmin, HrAdmin, ProvinceAdmin });

/// Conversions between the model and the records that have the same shape in every API version.
macro_rules! common_records {
    ($w:ident) => {
        impl $w::Credit {
            /// The interface's credit; the course name becomes its 1-based index among the year's required
            /// courses (0: not one of them).
            pub(super) fn from_model(credit: &Credit, course: u16) -> Self {
                $w::Credit { subject: credit.subject.into(), hours: credit.hours.0, source: credit.source.into(), course }
            }
        }

        impl From<$w::Totals> for Totals {
            fn from(t: $w::Totals) -> Self {
                Totals { public: Hours(t.public), professional: Hours(t.professional), total: Hours(t.total) }
            }
        }

        impl From<(u16, $w::Progress)> for YearStatus {
            fn from((year, p): (u16, $w::Progress)) -> Self {
                YearStatus {
                    year,
                    met: p.met,
                    required: p.required.into(),
                    counted: p.counted.into(),
                    shortfall: p.shortfall.into(),
                    notes: p.notes,
                }
            }
        }

        impl From<$w::Activity> for Activity {
            fn from(a: $w::Activity) -> Self {
                let fields = a
                    .fields
                    .into_iter()
                    .map(|f| {
                        let kind = FieldKind::from(f.kind);
                        let max = match (f.max, kind) {
                            (0, _) => None,
                            (n, FieldKind::Number) => Some(Hours(n).to_decimal()),
                            (n, _) => Some(f64::from(n)),
                        };
                        let choices = f.choices.into_iter().map(|(code, label)| Choice { code, label }).collect();
                        Field { key: f.key, label: f.label, kind, required: f.required, max, choices }
                    })
                    .collect();
                Activity { code: a.code, name: a.name, subject: a.subject.into(), fields }
            }
        }

        impl From<Result<Vec<$w::Grant>, Vec<$w::FieldError>>> for Assessment {
            fn from(result: Result<Vec<$w::Grant>, Vec<$w::FieldError>>) -> Self {
                match result {
                    Ok(grants) => Assessment::Granted {
                        ok: True,
                        grants: grants.into_iter().map(|g| Grant { subject: g.subject.into(), hours: Hours(g.hours) }).collect(),
                    },
                    Err(errors) => Assessment::Rejected { ok: False, errors: field_errors(errors) },
                }
            }
        }

        impl From<$w::FieldError> for (String, String) {
            fn from(e: $w::FieldError) -> Self {
                (e.field, e.message)
            }
        }

        impl $w::RouteRequest {
            /// The request in this version's records, with its kind as `kind` spelled it.
            pub(super) fn with_kind(r: &RouteInput, kind: $w::RequestKind) -> Self {
                $w::RouteRequest {
                    kind,
                    subject: r.subject.map(Into::into),
                    applicant: $w::Applicant { level: r.applicant.level.into() },
                    choice: r.choice.clone(),
                }
            }
        }

        impl From<$w::Step> for Step {
            fn from(s: $w::Step) -> Self {
                Step { role: s.role.into(), level: s.level.into() }
            }
        }

        impl From<$w::Eligibility> for (bool, Vec<String>) {
            fn from(e: $w::Eligibility) -> Self {
                (e.eligible, e.reasons)
            }
        }
    };
}

common_records!(w1);
common_records!(w2);
common_records!(w3);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    #[serde(default = "default_post")]
    pub post: Post,
    /// Title level code from the tenant's basic data; empty uses the "*" requirement row.
    #[serde(default)]
    pub title_level: String,
}

fn default_post() -> Post {
    Post::Technical
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    pub subject: Subject,
    pub hours: Hours,
    pub source: Source,
    /// Course name; matched against the year's required courses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
}

/// A person-year: the input of `status` and `certificate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonYear {
    pub year: u16,
    pub person: Person,
    #[serde(default)]
    pub credits: Vec<Credit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub public: Hours,
    pub professional: Hours,
    pub total: Hours,
}

/// A person's standing for a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearStatus {
    pub year: u16,
    pub met: bool,
    pub required: Totals,
    pub counted: Totals,
    pub shortfall: Totals,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub kind: String,
    pub eligible: bool,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginIdentity {
    pub name: String,
    pub version: String,
    pub api: String,
    pub sha256: String,
}

/// One field of an activity's claim form.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Field {
    /// The form value's key
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// Text: most characters; number: largest value (hours). Absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A choice field's choices; absent for other kinds
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

/// One choice of a choice field.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// An activity type of the rules plugin's catalogue, with the form a claim of it fills in.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    pub code: String,
    pub name: String,
    pub subject: SubjectGroup,
    pub fields: Vec<Field>,
}

/// `jijiao rules describe` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Description {
    pub tenant: String,
    pub plugin: PluginIdentity,
    pub activities: Vec<Activity>,
}

/// An activity claim to assess.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    pub year: u16,
    pub activity: String,
    /// Form values; numbers may be given as JSON numbers.
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
    #[serde(default = "default_person")]
    pub person: Person,
}

fn default_person() -> Person {
    Person { post: Post::Technical, title_level: String::new() }
}

impl ClaimInput {
    /// The form's values as the interface carries them: strings (numbers as their JSON text).
    pub(super) fn field_texts(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub subject: Subject,
    pub hours: Hours,
}

/// `jijiao rules assess` output: the grants, or what is wrong per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Assessment {
    Granted { ok: True, grants: Vec<Grant> },
    Rejected { ok: False, errors: BTreeMap<String, String> },
}

/// `true` in JSON, as a type, so `Assessment` reads `{"ok":true,…}` both ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct True;
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct False;

macro_rules! bool_literal {
    ($name:ident, $value:expr) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_bool($value)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if bool::deserialize(deserializer)? == $value { Ok($name) } else { Err(serde::de::Error::custom("unexpected ok")) }
            }
        }
    };
}
bool_literal!(True, true);
bool_literal!(False, false);

/// A plugin's field errors by field; the first message per field is the one to fix first.
pub(super) fn field_errors<E: Into<(String, String)>>(errors: Vec<E>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (field, message) in errors.into_iter().map(Into::into) {
        map.entry(field).or_insert(message);
    }
    map
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub level: OrgLevel,
}

/// An approval-route request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// Which year's plugin decides (default: this year).
    #[serde(default)]
    pub year: Option<u16>,
    pub kind: RequestKind,
    #[serde(default)]
    pub subject: Option<Subject>,
    pub applicant: Applicant,
    #[serde(default)]
    pub choice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub role: Role,
    pub level: OrgLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub steps: Vec<Step>,
}
