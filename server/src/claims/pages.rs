//! Claim pages: the list, the form, the detail with attachments and actions.

use super::{ClaimBody, ListQuery};
use crate::auth::CurrentUser;
use crate::auth::Role;
use crate::auth::csrf::{self, CsrfForm};
use crate::db::q;
use crate::error::AppError;
use crate::rules::model::{Activity, FieldKind, SubjectGroup};
use crate::state::AppState;
use crate::tenancy::Words;
use crate::web::{Page, done_redirect};
use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::api::download;
use super::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/claims", get(list_page))
        .route("/claims/new", get(new_page).post(new_submit))
        .route("/claims/{id}", get(detail_page))
        .route("/claims/{id}/edit", get(edit_page).post(edit_submit))
        .route("/claims/{id}/attachments", post(attachment_submit))
        .route("/claims/{id}/attachments/{attachment}", get(download))
        .route("/claims/{id}/attachments/{attachment}/delete", post(attachment_delete))
        .route("/claims/{id}/{action}", post(action_submit))
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::list(&state, user, &query).await?;
    let items: Vec<ClaimView> = items.into_iter().map(super::Claim::into_view).collect();
    page.render(
        "claims.html",
        json!({
            "items": items,
            "statuses": crate::codes::choices(super::ClaimStatus::ALL.iter().copied()),
            "query": {"year": query.year, "status": query.status, "q": query.q},
            "on_behalf": user.account.person_id.is_none(),
            "pager": query.paging().pager(total),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    year: Option<i64>,
    activity: Option<String>,
    person_id: Option<i64>,
}

/// The claim form: the year and activity pickers, and once an activity is chosen its fields as the
/// plugin defines them. `values`/`errors` refill it after a failed save.
async fn form_data(
    state: &AppState,
    user: &CurrentUser,
    year: i64,
    activity: Option<&str>,
    values: &BTreeMap<String, String>,
    claim_id: Option<i64>,
) -> Result<Value, AppError> {
    let tenant = user.tenant_code();
    let activities = super::catalogue(state, tenant, year).await?;
    let chosen = activity.and_then(|code| activities.iter().find(|a| a.code == code));
    let fields: Vec<Value> = chosen
        .map(|a| {
            a.fields
                .iter()
                .map(|f| {
                    let kind = serde_json::to_value(f.kind).unwrap_or_default();
                    json!({"key": f.key, "label": f.label, "kind": kind, "required": f.required, "max": f.max,
                           "choices": f.choices, "value": values.get(&f.key), "long": f.kind == FieldKind::Text && f.max.unwrap_or(0.0) > 200.0})
                })
                .collect()
        })
        .unwrap_or_default();
    let unit_level = match user.account.org_id {
        Some(org) => crate::orgs::get(&state.db, tenant, org).await?.map(|o| o.level).unwrap_or_default(),
        None => String::new(),
    };
    let staff: Vec<Value> = if user.account.person_id.is_none() && user.account.role == Role::UnitAdmin {
        let rows: Vec<(i64, String, String)> = state
            .db
            .all(
                q("SELECT id, name, id_number FROM people WHERE tenant_id = $1 AND unit_id = $2 ORDER BY name, id LIMIT 2000")
                    .bind(tenant)
                    .bind(user.account.org_id),
            )
            .await?;
        rows.into_iter()
            .map(|(id, name, id_number)| json!({"id": id, "name": name, "id_number": crate::ids::mask_id_number(&id_number)}))
            .collect()
    } else {
        Vec::new()
    };
    let this = this_year();
    Ok(json!({
        "years": ((this - 5)..=this).rev().collect::<Vec<_>>(),
        "year": year,
        "activity_groups": activity_groups(&user.tenant.tenant.settings.words, &activities),
        "activity": chosen.map(|a| json!({"code": a.code, "name": a.name, "subject": a.subject})),
        "fields": fields,
        "values": values,
        "staff": staff,
        "offers_choice": super::offers_choice(state, tenant, year, if unit_level.is_empty() { "city" } else { &unit_level }).await,
        "claim_id": claim_id,
    }))
}

/// An activity type's subject group as the province's documents write it (seed 001 lists the types under
/// 专业科目, 公共科目 and 专业科目+公共科目).
fn group_label(words: &Words, group: SubjectGroup) -> String {
    match group {
        SubjectGroup::Professional => words.professional.clone(),
        SubjectGroup::Public => words.public.clone(),
        SubjectGroup::Both => format!("{}+{}", words.professional, words.public),
        SubjectGroup::Either => format!("{}或{}（任选其一）", words.public, words.professional),
    }
}

/// The catalogue for the form's select: one group per subject group, in the order the catalogue first
/// names them, each with its activity types in catalogue order.
fn activity_groups(words: &Words, activities: &[Activity]) -> Vec<Value> {
    let mut groups: Vec<(SubjectGroup, Vec<Value>)> = Vec::new();
    for a in activities {
        let item = json!({"code": a.code, "name": a.name});
        match groups.iter_mut().find(|(group, _)| *group == a.subject) {
            Some((_, items)) => items.push(item),
            None => groups.push((a.subject, vec![item])),
        }
    }
    groups.into_iter().map(|(group, items)| json!({"label": group_label(words, group), "activities": items})).collect()
}

async fn new_page(State(state): State<AppState>, page: Page, Query(query): Query<NewQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "claims", "apply").await?;
    let mut values = BTreeMap::new();
    if let Some(person) = query.person_id {
        values.insert("person_id".to_owned(), person.to_string());
    }
    let data = form_data(&state, user, query.year.unwrap_or_else(this_year), query.activity.as_deref(), &values, None).await?;
    page.render("claim_form.html", data)
}

/// The form's flat fields: `year`, `activity`, `person_id`, `choice` and `f.<key>` for the activity's fields.
fn body_from_form(form: &BTreeMap<String, String>) -> Result<ClaimBody, AppError> {
    let year = form.get("year").and_then(|y| y.trim().parse().ok()).unwrap_or(0);
    let fields = form.iter().filter_map(|(k, v)| k.strip_prefix("f.").map(|key| (key.to_owned(), Value::String(v.clone())))).collect();
    Ok(ClaimBody {
        year,
        activity: form.get("activity").cloned().unwrap_or_default(),
        fields,
        person_id: form.get("person_id").and_then(|p| p.trim().parse().ok()),
        choice: form.get("choice").cloned().filter(|c| !c.is_empty()),
    })
}

fn form_values(form: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    form.iter().map(|(k, v)| (k.strip_prefix("f.").unwrap_or(k).to_owned(), v.clone())).collect()
}

/// Renders the form again with the errors of a failed save (client errors only).
async fn form_again(
    state: &AppState,
    page: &Page,
    form: &BTreeMap<String, String>,
    claim_id: Option<i64>,
    err: AppError,
) -> Result<Response, AppError> {
    if !err.fixable_on_page() {
        return Err(err);
    }
    let user = page.require_user()?;
    let body = body_from_form(form)?;
    let year = if body.year == 0 { this_year() } else { body.year };
    let mut data = form_data(state, user, year, Some(&body.activity), &form_values(form), claim_id).await?;
    data["error"] = json!(err.message);
    data["errors"] = json!(err.fields);
    page.render_status(err.status, "claim_form.html", data)
}

async fn new_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::create(&state, user, &body_from_form(&form)?).await {
        Ok(claim) => Ok(done_redirect(&page.tenant.base, &format!("/claims/{}", claim.id), "saved", 1)),
        Err(err) => form_again(&state, &page, &form, None, err).await,
    }
}

/// The claim page's data: the claim as the API shows it, and the upload size limit.
async fn detail_data(state: &AppState, user: &CurrentUser, id: i64) -> Result<Value, AppError> {
    let mut data = json!(super::detail(state, user, id).await?);
    data["upload_limit_mb"] = json!(state.config.upload_limit_mb);
    Ok(data)
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("claim.html", detail_data(&state, user, id).await?)
}

/// The edit form; `?year=&activity=` switches the draft to another year or activity before saving.
async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<NewQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let claim = super::editable_by(&state, user, id).await?;
    if !claim.editable() {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能修改"));
    }
    let mut values: BTreeMap<String, String> =
        claim.form_values().into_iter().map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
    values.insert("person_id".to_owned(), claim.person_id.to_string());
    if let Some(choice) = &claim.route_choice {
        values.insert("choice".to_owned(), choice.clone());
    }
    let year = query.year.unwrap_or(claim.year);
    let activity = query.activity.unwrap_or(claim.activity);
    let data = form_data(&state, user, year, Some(&activity), &values, Some(id)).await?;
    page.render("claim_form.html", data)
}

async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::update(&state, user, id, &body_from_form(&form)?).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, &format!("/claims/{id}"), "saved", 1)),
        Err(err) => form_again(&state, &page, &form, Some(id), err).await,
    }
}

/// Renders the claim page with an error (a failed upload, submit or withdrawal) instead of an error page,
/// so the user sees what to fix next to the claim.
async fn detail_with_error(state: &AppState, page: &Page, id: i64, err: AppError) -> Result<Response, AppError> {
    if !err.fixable_on_page() {
        return Err(err);
    }
    let user = page.require_user()?;
    let mut data = detail_data(state, user, id).await?;
    data["error"] = json!(err.message);
    data["errors"] = json!(err.fields);
    page.render_status(err.status, "claim.html", data)
}

async fn attachment_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = match crate::storage::upload::read_form_upload(multipart).await {
        Ok(upload) => {
            csrf::verify(&headers, upload.csrf.as_deref())?;
            super::add_attachment(&state, user, id, upload.field.as_deref(), &upload.filename, upload.bytes).await.map(|_| ())
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Ok(done_redirect(&page.tenant.base, &format!("/claims/{id}"), "uploaded", 1)),
        Err(err) => detail_with_error(&state, &page, id, err).await,
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn attachment_delete(
    State(state): State<AppState>,
    page: Page,
    Path((id, attachment)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::remove_attachment(&state, user, id, attachment).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, &format!("/claims/{id}"), "removed", 1)),
        Err(err) => detail_with_error(&state, &page, id, err).await,
    }
}

/// submit, withdraw and delete buttons on the claim page.
async fn action_submit(
    State(state): State<AppState>,
    page: Page,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let base = &page.tenant.base;
    let result = match action.as_str() {
        "submit" => super::submit(&state, user, id).await.map(|_| done_redirect(base, &format!("/claims/{id}"), "submitted", 1)),
        "withdraw" => super::withdraw(&state, user, id).await.map(|_| done_redirect(base, &format!("/claims/{id}"), "withdrawn", 1)),
        "delete" => super::delete(&state, user, id).await.map(|_| done_redirect(base, "/claims", "deleted", 1)),
        _ => return Err(AppError::not_found()),
    };
    match result {
        Ok(response) => Ok(response),
        Err(err) => detail_with_error(&state, &page, id, err).await,
    }
}
