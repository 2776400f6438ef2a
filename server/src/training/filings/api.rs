//! Offline filings in the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::*;
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::training::DeletedCount;

#[utoipa::path(get, path = "/filings", params(ListQuery), tag = "filings",
    responses((status = 200, body = Paged<FilingView>, description = "The caller's organisation's offline training filings"), (status = 403, description = "Not a unit or authority admin")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<FilingView>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    let items = items.iter().map(|f| f.view(&user.tenant.tenant.settings.words)).collect();
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(post, path = "/filings", request_body = FilingBody, tag = "filings",
    responses((status = 201, body = FilingDetail, description = "Filed; the first step of the plugin's route is in its queue"),
              (status = 422, description = "Per-field errors (also the plugin's, e.g. `choice`); nothing stored"), (status = 403, description = "Not allowed")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<FilingBody>) -> Result<Response, AppError> {
    let filing = create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, &user, filing.id).await?)).into_response())
}

#[utoipa::path(get, path = "/filings/{id}", tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, body = FilingDetail, description = "The filing, its route and trail, and what the caller may do"), (status = 404, description = "Not the caller's organisation's, nor on a route they review")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<FilingDetail>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/filings/{id}", request_body = FilingBody, tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, body = FilingDetail, description = "Edited and resubmitted as a new round"), (status = 409, description = "Accepted: final"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<FilingBody>,
) -> Result<Json<FilingDetail>, AppError> {
    update(&state, &user, id, &body).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(delete, path = "/filings/{id}", tag = "filings", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Accepted: final"), (status = 404, description = "Not the caller's organisation's")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    delete(&state, &user, &[id]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/filings/{id}/withdraw", tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, body = FilingDetail, description = "Withdrawn from the reviewers' queue"), (status = 409, description = "Not pending")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<FilingDetail>, AppError> {
    withdraw(&state, &user, id).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

/// The body of `POST /filings/deletions`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct FilingIds {
    #[serde(default)]
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/filings/deletions", request_body = FilingIds, tag = "filings",
    responses((status = 200, body = DeletedCount, description = "Every listed filing deleted"), (status = 404, description = "A filing is not the caller's organisation's; nothing deleted"),
              (status = 409, description = "A filing is accepted; nothing deleted"), (status = 422, description = "No ids")))]
pub async fn api_delete_many(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<FilingIds>,
) -> Result<Json<DeletedCount>, AppError> {
    Ok(Json(DeletedCount { deleted: delete(&state, &user, &input.ids).await? }))
}

/// `?page=&per_page=` of a list's participants.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParticipantQuery {
    #[serde(default = "crate::paging::first_page")]
    pub page: i64,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/filings/{id}/roster", tag = "filings",
    params(("id" = i64, Path, description = "Filing id"), ParticipantQuery),
    responses((status = 200, body = roster::RosterView, description = "The filing's latest list (or none) and one page of its participants"),
              (status = 404, description = "Not the caller's organisation's filing, nor on a route they review")))]
pub async fn api_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ParticipantQuery>,
) -> Result<Json<roster::RosterView>, AppError> {
    Ok(Json(roster::view(&state, &user, id, crate::paging::Paging::new(query.page, query.per_page)).await?))
}

#[utoipa::path(post, path = "/filings/{id}/roster", tag = "filings",
    params(("id" = i64, Path, description = "Filing id")),
    request_body(content(
        (roster::RosterBody = "application/json"),
        (String = "multipart/form-data")
    ), description = "JSON rows, or multipart with a `file`: xlsx or UTF-8 CSV with the columns 身份证号 (id_number), 姓名 (name), 学时 (hours)"),
    responses((status = 201, body = roster::Roster, description = "Stored; it waits in the accepting organisation's queue (kind filing_roster)"),
              (status = 409, description = "not_accepted (the filing is not accepted), roster_exists (one is pending), roster_confirmed"),
              (status = 422, description = "`file` says what is wrong; `rows` lists every row's problem (unknown ID number, name, duplicate, hours); nothing stored")))]
pub async fn api_upload_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    use axum::extract::FromRequest;
    let multipart =
        request.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/"));
    let saved = if multipart {
        let form =
            axum::extract::Multipart::from_request(request, &state).await.map_err(|e| AppError::bad_request("bad_form", e.body_text()))?;
        let form = crate::storage::upload::read_multipart_form(form, "file").await?;
        let file = form.file.ok_or_else(|| crate::error::field_error("file", "请选择名单文件"))?;
        roster::upload_file(&state, &user, id, &file.filename, &file.bytes).await?
    } else {
        let Json(body) = Json::<roster::RosterBody>::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request("bad_json", e.body_text()))?;
        roster::upload(&state, &user, id, &body.rows(), None).await?
    };
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

#[utoipa::path(post, path = "/filings/{id}/roster/withdraw", tag = "filings",
    params(("id" = i64, Path, description = "Filing id")),
    responses((status = 204, description = "The pending list is withdrawn"), (status = 409, description = "not_pending")))]
pub async fn api_withdraw_roster(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    roster::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_roster, api_upload_roster).layer(axum::extract::DefaultBodyLimit::disable()))
        .routes(routes!(api_withdraw_roster))
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_delete_many))
        .routes(routes!(api_get, api_update, api_delete))
        .routes(routes!(api_withdraw))
}
