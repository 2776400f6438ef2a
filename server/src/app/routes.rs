//! The route tables: every domain's pages and JSON API merged into the page and API shells, the
//! OpenAPI document listing every API operation, and the portal's front page. This is the one layer
//! that names every domain.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use utoipa::OpenApi;

use crate::auth::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, platform_page};

/// Routes that belong to no tenant: health, metrics, static assets and the OpenAPI document.
pub fn global_routes() -> Router<AppState> {
    crate::web::global_routes().route("/api/openapi.json", get(openapi_json))
}

/// Tenant pages. Errors they return become Chinese error pages (401 redirects to the login page).
pub fn page_routes(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(home))
        .merge(crate::auth::pages::routes(&state))
        .merge(crate::people::pages::routes(&state))
        .merge(crate::orgs::pages::routes(&state))
        .merge(crate::messages::pages::routes())
        .merge(crate::people::admin::page_routes())
        .merge(crate::basic_data::pages::routes())
        .merge(crate::approvals::page_routes())
        .merge(crate::claims::pages::routes())
        .merge(crate::todos::pages::routes())
        .merge(crate::certificates::pages::routes(&state))
        .merge(crate::hours::page_routes())
        .merge(crate::jobs::admin::page_routes())
        .merge(crate::training::page_routes())
        .merge(crate::transfers::pages::routes())
        .merge(crate::changes::pages::routes())
        .merge(crate::accounts::pages::routes())
        .merge(crate::stats::pages::routes())
        .merge(crate::annual_reports::pages::routes())
        .merge(crate::work_materials::pages::routes())
        .merge(crate::feedback::pages::routes())
        .merge(crate::requirements::pages::routes())
        .merge(crate::roles::pages::routes())
        .merge(crate::auth::oidc::routes());
    crate::web::shell(state, pages)
}

/// The JSON API, nested under `/api/v1`.
pub fn api_routes(state: AppState) -> Router<AppState> {
    crate::api::shell(
        Router::new()
            .merge(crate::auth::api::routes(&state))
            .merge(crate::people::api::routes(&state))
            .merge(crate::orgs::api::routes(&state))
            .merge(crate::approvals::api_routes())
            .merge(crate::claims::api::routes())
            .merge(crate::todos::api::routes())
            .merge(crate::certificates::api::routes(&state))
            .merge(crate::messages::api::routes())
            .merge(crate::hours::api_routes())
            .merge(crate::training::api_routes())
            .merge(crate::transfers::api::routes())
            .merge(crate::changes::api::routes())
            .merge(crate::accounts::api::routes())
            .merge(crate::stats::api::routes())
            .merge(crate::annual_reports::api::routes())
            .merge(crate::work_materials::api::routes())
            .merge(crate::feedback::api::routes())
            .merge(crate::jobs::admin::api_routes())
            .merge(crate::people::admin::api_routes())
            .merge(crate::basic_data::api::routes())
            .merge(crate::requirements::api::routes())
            .merge(crate::roles::api::routes()),
    )
}

/// The header's counts for a signed-in user: unread messages and, for reviewers, the items waiting in
/// all their queues (installed into the page shell at start-up).
pub fn header_counts<'a>(
    state: &'a AppState,
    user: &'a crate::auth::CurrentUser,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<serde_json::Value, AppError>> + Send + 'a>> {
    Box::pin(async move {
        let unread = crate::messages::inbox::unread_count(&state.db, &crate::messages::Recipient::of(&user.account)).await?;
        let waiting: i64 = crate::approvals::pending_counts(state, user).await?.iter().map(|c| c.pending).sum();
        Ok(json!({"unread": unread, "waiting": waiting}))
    })
}

/// A tenant's home page, or without a tenant the platform's own front page linking every portal.
async fn home(State(state): State<AppState>, page: Option<Page>) -> Result<Response, AppError> {
    if let Some(page) = page {
        // 进入培训平台 (seed 001 §4): staff go to a platform's site, which signs them in through
        // the OpenID Connect provider (auth::oidc).
        let platforms = match &page.user {
            Some(user) if user.account.user_type == "staff" => {
                crate::training::platforms::list(&state.db, page.tenant.code()).await?.into_iter().filter(|p| p.enabled).collect()
            }
            _ => Vec::new(),
        };
        // The province's and the cities' dashboards show the year's completion by region.
        let region_chart = match (&page.user, page.user.as_ref().and_then(|u| u.account.org_id)) {
            (Some(user), Some(org)) => {
                matches!(user.account.role, Role::ProvinceAdmin | Role::HrAdmin)
                    && user.can(&state, "stats", "read").await
                    && crate::stats::has_regions(&state.db, page.tenant.code(), org).await?
            }
            _ => false,
        };
        // Hubei's admin home "实时提示待办事项" (seed 004 §5): what waits in each queue.
        let todo_counts = match &page.user {
            Some(user) => crate::approvals::pending_counts(&state, user).await?,
            None => Vec::new(),
        };
        return page.render("home.html", json!({"platforms": platforms, "region_chart": region_chart, "todo_counts": todo_counts}));
    }
    platform_page(&state, StatusCode::OK)
}

#[derive(OpenApi)]
#[openapi(
    modifiers(&Conventions),
    info(
        title = "jijiao API",
        description = "继教 multi-tenant continuing-education platform. Every path is also served under a tenant's own host without the /t/{tenant} prefix."
    ),
    paths(
        crate::auth::api::api_login,
        crate::auth::api::api_logout,
        crate::auth::api::api_me,
        crate::auth::api::api_change_password,
        crate::auth::api::api_request_reset,
        crate::auth::api::api_confirm_reset,
        crate::people::api::api_register,
        crate::people::api::api_profile,
        crate::people::api::api_update_profile,
        crate::people::admin::api_list,
        crate::orgs::admins::api_licence,
        crate::training::platforms::api_me,
        crate::orgs::api::api_search,
        crate::orgs::api::api_register,
        crate::orgs::api::api_browse,
        crate::orgs::api::api_add_department,
        crate::accounts::api::api_list,
        crate::stats::api::api_overview,
        crate::stats::api::api_overview_xlsx,
        crate::stats::api::api_titles,
        crate::stats::api::api_titles_xlsx,
        crate::stats::api::api_titles_svg,
        crate::stats::api::api_regions,
        crate::stats::api::api_regions_svg,
        crate::accounts::api::api_set_statuses,
        crate::accounts::api::api_set_status,
        crate::accounts::api::api_reset_code,
        crate::orgs::admins::api_list,
        crate::orgs::admins::api_add_admin,
        crate::orgs::admins::api_remove,
        crate::orgs::admins::api_designate,
        crate::approvals::api_list,
        crate::approvals::api_decide,
        crate::approvals::api_detail,
        crate::approvals::api_groups,
        crate::approvals::api_todo_counts,
        crate::claims::api::api_activities,
        crate::claims::api::api_list,
        crate::claims::api::api_create,
        crate::claims::api::api_get,
        crate::claims::api::api_update,
        crate::claims::api::api_delete,
        crate::claims::api::api_add_attachment,
        crate::claims::api::download,
        crate::claims::api::api_remove_attachment,
        crate::claims::api::api_submit,
        crate::claims::api::api_withdraw,
        crate::todos::api::api_list,
        crate::todos::api::api_create,
        crate::todos::api::api_detail,
        crate::todos::api::api_upload,
        crate::todos::api::api_review,
        crate::todos::api::download,
        crate::certificates::api::api_apply,
        crate::certificates::api::api_recognition,
        crate::certificates::api::api_mine,
        crate::certificates::api::api_verify,
        crate::certificates::api::api_lookup,
        crate::certificates::api::download,
        crate::certificates::api::badge,
        crate::certificates::api::api_keys,
        crate::certificates::api::api_admin_list,
        crate::certificates::api::api_print,
        crate::certificates::api::api_issue_batch,
        crate::certificates::api::api_file_exemption,
        crate::certificates::api::api_exemptions,
        crate::orgs::api::api_rename_department,
        crate::orgs::api::api_delete_department,
        crate::people::api::api_update_contact,
        crate::transfers::api::api_start,
        crate::transfers::api::api_list,
        crate::transfers::api::api_get,
        crate::transfers::api::api_withdraw,
        crate::annual_reports::api::api_file,
        crate::annual_reports::api::api_list,
        crate::annual_reports::api::api_get,
        crate::annual_reports::api::api_document,
        crate::annual_reports::api::api_withdraw,
        crate::work_materials::api::api_file,
        crate::work_materials::api::api_list,
        crate::work_materials::api::api_update,
        crate::work_materials::api::api_delete,
        crate::work_materials::api::api_download,
        crate::feedback::api::api_file,
        crate::feedback::api::api_list,
        crate::feedback::api::api_get,
        crate::feedback::api::api_reply,
        crate::feedback::api::api_attachment,
        crate::changes::api::api_file,
        crate::changes::api::api_mine,
        crate::changes::api::api_withdraw,
        crate::changes::api::api_file_org,
        crate::changes::api::api_of_org,
        crate::changes::api::api_scan,
        crate::hours::api_my_credits,
        crate::hours::api_my_status,
        crate::hours::pages::api_my_years,
        crate::hours::admin::api_staff_status,
        crate::hours::admin::api_staff_years,
        crate::hours::admin::api_staff_credits,
        crate::hours::import::api_import,
        crate::training::completions::api_completions,
        crate::training::orders::api_orders,
        crate::training::orders::api_my_orders,
        crate::training::reconciliation::api_reconciliation,
        crate::training::reconciliation::api_rejections,
        crate::training::classes::api::api_list,
        crate::training::classes::api::api_create,
        crate::training::classes::api::api_get,
        crate::training::classes::api::api_update,
        crate::training::classes::api::api_delete,
        crate::training::classes::api::api_scores,
        crate::training::classes::api::api_add_score,
        crate::training::classes::api::api_update_score,
        crate::training::classes::api::api_delete_scores,
        crate::training::classes::api::api_import,
        crate::training::declarations::api_declare,
        crate::training::declarations::api_get,
        crate::training::declarations::api_students,
        crate::training::declarations::api_mark,
        crate::training::subjects::api::api_list,
        crate::training::subjects::api::api_create,
        crate::training::subjects::api::api_get,
        crate::training::subjects::api::api_update,
        crate::training::subjects::api::api_set_status,
        crate::training::plans::api::api_list,
        crate::training::plans::api::api_create,
        crate::training::plans::api::api_get,
        crate::training::plans::api::api_update,
        crate::training::plans::api::api_delete,
        crate::training::plans::api::api_delete_many,
        crate::training::filings::api::api_list,
        crate::training::filings::api::api_roster,
        crate::training::filings::api::api_upload_roster,
        crate::training::filings::api::api_withdraw_roster,
        crate::training::filings::api::api_create,
        crate::training::filings::api::api_get,
        crate::training::filings::api::api_update,
        crate::training::filings::api::api_delete,
        crate::training::filings::api::api_withdraw,
        crate::training::filings::api::api_delete_many,
        crate::jobs::admin::api_list,
        crate::jobs::admin::api_retry,
        crate::messages::api::api_list,
        crate::messages::api::api_get,
        crate::messages::api::api_mark_read,
        crate::messages::api::api_mark_all_read,
        crate::messages::api::api_send,
        crate::messages::api::api_sent,
        crate::messages::api::api_get_notice,
        crate::messages::api::api_notice_read,
        crate::messages::api::api_withdraw,
        crate::basic_data::api::api_list,
        crate::basic_data::api::api_add,
        crate::basic_data::api::api_update,
        crate::requirements::api::api_get,
        crate::requirements::api::api_put,
        crate::requirements::api::api_reset,
        crate::roles::api::api_list,
        crate::roles::api::api_create,
        crate::roles::api::api_get,
        crate::roles::api::api_update,
        crate::roles::api::api_delete,
        crate::roles::api::api_permissions,
        crate::roles::api::api_account_roles,
        crate::roles::api::api_assign,
    ),
    components(schemas(
        crate::stats::TitleStats,
        crate::stats::overview::Overview,
        crate::stats::overview::OverviewRow,
        crate::stats::overview::LearnerGroups,
        crate::stats::overview::Learners,
        crate::stats::overview::Breakdown,
        crate::stats::TitleRow,
        crate::stats::SeriesTotal,
        crate::stats::RegionRow,
        crate::accounts::api::StatusInput,
        crate::accounts::api::BatchStatusInput,
        crate::accounts::api::Changed,
        crate::accounts::api::OneTimeCode,
        crate::auth::login::LoginInput,
        crate::auth::login::PasswordChange,
        crate::auth::login::ResetRequest,
        crate::auth::login::ResetConfirm,
        crate::people::registration::StaffRegistration,
        crate::people::ProfileUpdate,
        crate::people::ContactUpdate,
        crate::orgs::registration::OrgRegistration,
        crate::orgs::NewDepartment,
        crate::orgs::admins::NewAdmin,
        crate::basic_data::ItemInput,
        crate::requirements::RequirementTable,
        crate::requirements::Requirement,
        crate::requirements::TableSource,
        crate::requirements::RequirementsInput,
        crate::requirements::RequirementInput,
        crate::roles::CustomRole,
        crate::roles::Permission,
        crate::roles::RoleInput,
        crate::roles::AssignInput,
        crate::roles::HeldRole,
        crate::roles::AccountRoles,
        crate::approvals::DecisionInput,
        crate::approvals::Approval,
        crate::approvals::Group,
        crate::approvals::Groups,
        crate::training::platforms::PlatformIdentity,
        crate::approvals::PendingCount,
        crate::claims::ClaimBody,
        crate::todos::NewTodo,
        crate::todos::ReviewInput,
        crate::certificates::Application,
        crate::certificates::api::LookupInput,
        crate::certificates::PrintInput,
        crate::certificates::exemptions::Filing,
        crate::transfers::NewTransfer,
        crate::transfers::Transfer,
        crate::transfers::api::Started,
        crate::annual_reports::NewReport,
        crate::annual_reports::Report,
        crate::annual_reports::api::Filed,
        crate::work_materials::MaterialInput,
        crate::work_materials::Material,
        crate::feedback::NewFeedback,
        crate::feedback::Reply,
        crate::feedback::Feedback,
        crate::messages::Entry,
        crate::messages::EntryKind,
        crate::messages::api::Marked,
        crate::messages::notices::NewNotice,
        crate::messages::notices::AudienceInput,
        crate::messages::notices::Audience,
        crate::messages::notices::Notice,
        crate::api::Created,
        crate::changes::NewChange,
        crate::changes::ChangeRequest,
        crate::changes::FieldChange,
        crate::changes::api::Filed,
        crate::training::completions::Batch,
        crate::training::classes::ClassBody,
        crate::training::classes::ScoreBody,
        crate::training::classes::api::Ids,
        crate::training::classes::ImportResult,
        crate::training::roster::RowError,
        crate::training::filings::roster::RosterBody,
        crate::training::filings::roster::RosterLine,
        crate::training::filings::roster::Roster,
        crate::training::filings::roster::RosterStatus,
        crate::training::declarations::DeclareBody,
        crate::training::declarations::VerdictBody,
        crate::training::subjects::SubjectBody,
        crate::training::subjects::StatusInput,
        crate::training::plans::PlanBody,
        crate::training::plans::api::DeleteInput,
        crate::training::filings::FilingBody,
        crate::training::filings::api::FilingIds,
    ))
)]
pub struct ApiDoc;

/// What every operation shares, applied to the generated document once instead of on each handler: the
/// `{tenant}` path parameter is a tenant's code; the operation id is made from the method and the path,
/// so it is unique by construction (handler names such as `api_list` repeat across modules); and every
/// operation may answer the errors any request can meet, all in the one `Error` body
/// (`crate::error::uniform_errors` turns every API error into it).
struct Conventions;

/// The errors any operation can answer, besides those it documents itself.
const COMMON_ERRORS: [(u16, &str); 10] = [
    (400, "Malformed query string or body"),
    (401, "Not signed in (or a platform's signature is missing, wrong, stale or replayed)"),
    (403, "Not allowed, or a cross-site or CSRF-less request"),
    (404, "No such object for the caller"),
    (408, "Request timed out"),
    (409, "The object's state does not allow it"),
    (413, "Body or upload too large"),
    (415, "JSON operations take `Content-Type: application/json`"),
    (422, "Per-field errors in `fields`"),
    (429, "Too many attempts; try later"),
];

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ComponentsBuilder, Content, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};
        let error = ObjectBuilder::new()
            .property("code", ObjectBuilder::new().schema_type(Type::String).description(Some("Machine-readable error code")))
            .property("message", ObjectBuilder::new().schema_type(Type::String).description(Some("The message shown to people (Chinese)")))
            .property(
                "fields",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("Per-field messages, on 422")),
            )
            .required("code")
            .required("message");
        openapi.components.get_or_insert_with(|| ComponentsBuilder::new().build()).schemas.insert("Error".into(), error.into());
        let error = Content::new(Some(Ref::from_schema_name("Error")));
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                operation.operation_id = Some(operation_id(method, path));
                if path.contains("{tenant}") {
                    let parameters = operation.parameters.get_or_insert_with(Vec::new);
                    parameters.retain(|p| p.name != "tenant");
                    let tenant = ParameterBuilder::new()
                        .name("tenant")
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .description(Some("The tenant's code (hunan, henan, hubei…)"))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build();
                    parameters.insert(0, tenant);
                }
                for parameter in operation.parameters.iter_mut().flatten() {
                    accept_empty_when_optional(parameter);
                }
                for (status, description) in COMMON_ERRORS {
                    let response = operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| ResponseBuilder::new().description(description).into());
                    if let RefOr::T(response) = response
                        && response.content.is_empty()
                    {
                        response.content.insert("application/json".into(), error.clone());
                    }
                }
            }
        }
    }
}

/// An optional query parameter that is not text also takes an empty value: list queries read `year=` as
/// not given, since a browser's form sends its blank fields that way.
fn accept_empty_when_optional(parameter: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{RefOr, Required};
    let Some(RefOr::T(Schema::Object(object))) = &parameter.schema else { return };
    let text = match &object.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(types) => types.contains(&Type::String),
        SchemaType::AnyValue => true,
    };
    if text || !matches!(parameter.parameter_in, ParameterIn::Query) || matches!(parameter.required, Required::True) {
        return;
    }
    let empty = ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)).description(Some("Empty: not given"));
    parameter.schema = Some(AnyOfBuilder::new().item(object.clone()).item(empty).into());
}

/// `get_claims_by_id_attachments`, from `get` and `/t/{tenant}/api/v1/claims/{id}/attachments`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path.trim_start_matches("/t/{tenant}").trim_start_matches("/api/v1");
    let words =
        rest.split('/').filter(|s| !s.is_empty()).map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(parameter) => format!("by_{parameter}"),
            None => segment.replace(['-', '.'], "_"),
        });
    std::iter::once(method.to_owned()).chain(words).collect::<Vec<_>>().join("_")
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
