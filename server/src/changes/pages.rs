//! The change forms and histories: 个人中心 → 职称变更 (`/account/changes`) for a person's title, 单位信息变更
//! (`/org/changes`) for an admin's own organisation. Reviewers decide in the approval queue.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{NewChange, Subject};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::orgs::OrgKind;
use crate::paging::Paging;
use crate::state::AppState;
use crate::storage::upload::Upload;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/changes", get(person_page).post(person_submit))
        .route("/org/changes", get(org_page).post(org_submit))
        .route("/changes/{id}/withdraw", post(withdraw_submit))
        .route("/changes/{id}/licence", get(super::api::api_scan))
}

/// A posted form: the non-empty values of the subject's fields (the CSRF token and others left out).
type Form = BTreeMap<String, String>;

fn asked(subject: Subject, form: &Form) -> Map<String, Value> {
    subject
        .fields()
        .iter()
        .filter_map(|(key, _, _)| {
            form.get(*key).map(|v| v.trim()).filter(|v| !v.is_empty()).map(|v| ((*key).to_owned(), Value::String(v.to_owned())))
        })
        .collect()
}

/// Where a subject's page lives, and what it is called.
fn place(subject: Subject) -> (&'static str, &'static str, &'static str, &'static str) {
    match subject {
        // (path, heading, back link, back label)
        Subject::Person => ("/account/changes", "职称变更", "/account", "返回个人中心"),
        Subject::Org | Subject::Parent => ("/org/changes", "单位信息变更", "/orgs", "返回组织机构"),
    }
}

async fn render(
    state: &AppState,
    page: &Page,
    subject: Subject,
    form: Option<&Form>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let tenant = user.tenant_code();
    let mut parent = Value::Null;
    let (values, items, total, name) = match subject {
        Subject::Person => {
            let person_id = user.account.person_id.ok_or_else(AppError::forbidden)?;
            let person = crate::people::profile(&state.db, tenant, person_id).await?.ok_or_else(AppError::not_found)?;
            let (items, total) = super::mine(state, user, Paging::new(1, Some(50))).await?;
            (super::person_values(&person), items, total, person.name)
        }
        Subject::Org | Subject::Parent => {
            let org_id = user.account.org_id.ok_or_else(AppError::forbidden)?;
            let (org, items, total) = super::of_org(state, user, org_id, Paging::new(1, Some(50))).await?;
            if matches!(org.kind, OrgKind::Unit | OrgKind::Institution) {
                parent = json!({"current": org.supervisor_id, "authorities": super::authorities(&state.db, tenant).await?,
                                "pending": items.iter().find(|c| c.status == super::ChangeStatus::Pending && c.subject == "parent")});
            }
            (super::org_values(&org), items, total, org.name)
        }
    };
    let fields = super::form_fields(&state.db, tenant, subject, &values).await?;
    let (path, heading, back, back_label) = place(subject);
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "changes.html",
        json!({"heading": heading, "name": name, "action": path, "multipart": subject != Subject::Person, "back": back, "back_label": back_label, "fields": fields,
               "items": items, "total": total, "parent": parent,
               "pending": items.iter().find(|c| c.status == super::ChangeStatus::Pending && c.subject != "parent"),
               "form": form, "errors": err.map(|e| &e.fields), "error": err.map(|e| &e.message)}),
    )
}

async fn submit(state: &AppState, page: &Page, subject: Subject, form: Form, scan: Option<Upload>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    // The organisation page's second form asks for a new supervising department alone.
    let fields = if subject == Subject::Org && form.contains_key("supervisor_id") { Subject::Parent } else { subject };
    let input = NewChange { fields: asked(fields, &form) };
    let filed = match subject {
        Subject::Person => super::file(state, user, &input).await,
        Subject::Org | Subject::Parent => {
            super::file_org(state, user, user.account.org_id.ok_or_else(AppError::forbidden)?, &input, scan).await
        }
    };
    match filed {
        Ok(_) => Ok(done_redirect(&page.tenant.base, place(subject).0, "change_filed", 1)),
        Err(err) if err.fixable_on_page() => render(state, page, subject, Some(&form), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn person_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render(&state, &page, Subject::Person, None, None).await
}

async fn person_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<Form>) -> Result<Response, AppError> {
    submit(&state, &page, Subject::Person, form, None).await
}

async fn org_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render(&state, &page, Subject::Org, None, None).await
}

/// The organisation's forms are multipart: a new licence scan may come along.
async fn org_submit(State(state): State<AppState>, page: Page, headers: HeaderMap, multipart: Multipart) -> Result<Response, AppError> {
    let (fields, scan, csrf) = super::read_multipart(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    let form: Form = fields.into_iter().filter_map(|(key, value)| value.as_str().map(|v| (key, v.to_owned()))).collect();
    submit(&state, &page, Subject::Org, form, scan).await
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Form>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::withdraw(&state, user, id).await?;
    let back = if user.account.person_id.is_some() { Subject::Person } else { Subject::Org };
    Ok(done_redirect(&page.tenant.base, place(back).0, "change_withdrawn", 1))
}
