//! Change audits in the JSON API: a person's own title changes and an admin's changes of their own
//! organisation — file, list, withdraw. Decisions go through `POST /api/v1/approvals/decisions` with kind
//! `person_change` or `org_change`.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ChangeRequest, NewChange};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

/// The answer to filing a change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Filed {
    pub id: i64,
    /// `pending`, or `approved` where the route has no step
    pub status: super::ChangeStatus,
}

crate::paging::list_query! {
    #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ChangeQuery {}
}

#[utoipa::path(post, path = "/me/changes", request_body = NewChange, tag = "changes",
    responses((status = 201, body = Filed, description = "Filed; waiting for the route's approval"),
              (status = 403, description = "no_profile: an admin account has no profile"),
              (status = 409, description = "change_pending: a change of this person waits already"),
              (status = 422, description = "Field errors: unknown fields, invalid values, values that change nothing")))]
pub async fn api_file(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewChange>) -> Result<Response, AppError> {
    let (id, status) = super::file(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Filed { id, status })).into_response())
}

#[utoipa::path(get, path = "/me/changes", tag = "changes",
    params(ChangeQuery),
    responses((status = 200, body = crate::api::Paged<ChangeRequest>, description = "The caller's title changes, newest first")))]
pub async fn api_mine(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<crate::api::Paged<ChangeRequest>>, AppError> {
    let paging = query.paging();
    let (items, total) = super::mine(&state, &user, paging).await?;
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

/// `POST /changes/{id}/withdraw`: a person's own change, or an organisation's by its admin.
#[utoipa::path(post, path = "/changes/{id}/withdraw", tag = "changes",
    params(("id" = i64, Path, description = "Change id")),
    responses((status = 204, description = "Withdrawn"), (status = 404, description = "Not the caller's change"),
              (status = 409, description = "already_decided")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/orgs/{id}/changes", tag = "changes",
    request_body(content(
        (NewChange = "application/json"),
        (NewChange = "multipart/form-data")
    )),
    params(("id" = i64, Path, description = "The caller's own organisation")),
    responses((status = 201, body = Filed, description = "Filed; waiting for the route's approval. With a new licence scan the body is \
multipart: a `fields` part (the JSON object) and a `licence` file"),
              (status = 404, description = "Not the caller's own organisation"),
              (status = 409, description = "change_pending: a change of this organisation waits already"),
              (status = 422, description = "Field errors: unknown fields, invalid values, values that change nothing")))]
pub async fn api_file_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, AppError> {
    let multipart = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/"));
    let (input, scan) = if multipart {
        let form = Multipart::from_request(request, &state).await.map_err(|e| AppError::bad_request("bad_form", e.body_text()))?;
        let (fields, scan, _) = super::read_multipart(form).await?;
        (NewChange { fields }, scan)
    } else {
        let Json(input) =
            Json::<NewChange>::from_request(request, &state).await.map_err(|e| AppError::bad_request("bad_json", e.body_text()))?;
        (input, None)
    };
    let (id, status) = super::file_org(&state, &user, id, &input, scan).await?;
    Ok((StatusCode::CREATED, Json(Filed { id, status })).into_response())
}

#[utoipa::path(get, path = "/changes/{id}/licence", tag = "changes",
    params(("id" = i64, Path, description = "Change id")),
    responses((status = 200, description = "The licence scan uploaded with the change, served with its stored type (PDF or an image)",
               content_type = "application/octet-stream"),
              (status = 404, description = "No scan, or neither the organisation's admin nor a reviewer in scope")))]
pub async fn api_scan(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    super::scan(&state, &user, id).await
}

#[utoipa::path(get, path = "/orgs/{id}/changes", tag = "changes",
    params(("id" = i64, Path, description = "The caller's own organisation"), ChangeQuery),
    responses((status = 200, body = crate::api::Paged<ChangeRequest>, description = "The organisation's changes, newest first"),
              (status = 404, description = "Not the caller's own organisation")))]
pub async fn api_of_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<crate::api::Paged<ChangeRequest>>, AppError> {
    let paging = query.paging();
    let (_, items, total) = super::of_org(&state, &user, id, paging).await?;
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_mine, api_file))
        .routes(routes!(api_of_org, api_file_org))
        .routes(routes!(api_scan))
        .routes(routes!(api_withdraw))
}
