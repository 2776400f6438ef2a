//! The route tables: every domain's pages and JSON API merged into the page and API shells, the
//! OpenAPI document listing every API operation, and the portal's front page. This is the one layer
//! that names every domain.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, platform_page};

/// Routes that belong to no tenant: health, metrics, static assets and the OpenAPI document (the one
/// [`api`] built with the routes, serialized once).
pub fn global_routes(document: &utoipa::openapi::OpenApi) -> Router<AppState> {
    let document = axum::body::Bytes::from(serde_json::to_vec(document).expect("the OpenAPI document serializes"));
    let serve = move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document) };
    crate::web::global_routes().route("/api/openapi.json", get(serve))
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

/// The JSON API, nested under `/api/v1`, and its OpenAPI document. Each domain registers its operations
/// together with their routes (`utoipa_axum::routes!` takes the path and method from the operation's
/// `#[utoipa::path]`), so the document lists exactly what is served; the paths are written relative to
/// the API's root and documented under `/t/{tenant}/api/v1`.
pub fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::auth::api::routes(state))
        .merge(crate::people::api::routes(state))
        .merge(crate::orgs::api::routes(state))
        .merge(crate::approvals::api_routes())
        .merge(crate::claims::api::routes())
        .merge(crate::todos::api::routes())
        .merge(crate::certificates::api::routes(state))
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
        .merge(crate::roles::api::routes())
        .split_for_parts();
    let paths = std::mem::take(&mut document.paths.paths);
    document.paths.paths = paths.into_iter().map(|(path, item)| (format!("/t/{{tenant}}/api/v1{path}"), item)).collect();
    utoipa::Modify::modify(&Conventions, &mut document);
    // Each request kind's subject: `ApprovalDetail.subject` is one of the registered kinds' details.
    crate::approvals::document_subjects(&mut document);
    (crate::api::shell(routes), document)
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
            Some(user) if user.account.role == Role::Staff => {
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
#[openapi(info(
    title = "jijiao API",
    description = "继教 multi-tenant continuing-education platform. Every path is also served under a tenant's own host without the /t/{tenant} prefix."
))]
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

/// An optional query parameter that is not text also takes a blank value: list queries read `year=` (or
/// `year=+`) as not given, since a browser's form sends its blank fields that way.
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
    // Blank, that is: the server trims the value first (`web::empty_as_none`).
    let empty = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^\s*$")).description(Some("Blank: not given"));
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
