//! To-dos (待办事项, seed 001 §5): a unit admin assigns a training or an activity to some of the unit's
//! staff; each person uploads proof; the admin accepts it or returns it with a reason. Both sides see
//! every assignee's state.

pub mod api;
pub mod pages;

use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::CurrentUser;
use crate::auth::Role;
use crate::db::{Filters, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;
use crate::{audit, messages, storage};

pub const KINDS: &[(&str, &str)] = &[("training", "培训"), ("activity", "活动")];
crate::codes::code_enum! {
    /// Where one assignee's proof stands.
    pub enum ItemStatus {
        Open = ("open", "待上传"),
        Uploaded = ("uploaded", "已上传待确认"),
        Accepted = ("accepted", "已确认"),
        Returned = ("returned", "已退回"),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewTodo {
    /// training or activity
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub due_on: Option<String>,
    /// People of the admin's unit
    #[serde(default)]
    pub person_ids: Vec<i64>,
}

/// A to-do with how far its assignees are.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Todo {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub due_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub unit_id: i64,
    /// People assigned
    pub assigned: i64,
    /// Of them, with proof waiting for the admin
    pub uploaded: i64,
    /// Of them, with proof accepted
    pub accepted: i64,
}

/// One assignee's part of a to-do.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub todo_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub status: ItemStatus,
    #[sqlx(skip)]
    pub status_label: &'static str,
    pub blob_id: Option<i64>,
    pub filename: Option<String>,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub title: String,
    pub kind: String,
    pub due_on: Option<NaiveDate>,
}

impl Item {
    fn labelled(mut self) -> Self {
        self.status_label = self.status.label();
        self
    }
}

const TODO_SELECT: &str = "SELECT t.id, t.kind, t.title, t.description, t.due_on, t.created_at, t.unit_id, \
     (SELECT COUNT(*) FROM todo_items i WHERE i.tenant_id = t.tenant_id AND i.todo_id = t.id) AS assigned, \
     (SELECT COUNT(*) FROM todo_items i WHERE i.tenant_id = t.tenant_id AND i.todo_id = t.id AND i.status = 'uploaded') AS uploaded, \
     (SELECT COUNT(*) FROM todo_items i WHERE i.tenant_id = t.tenant_id AND i.todo_id = t.id AND i.status = 'accepted') AS accepted \
     FROM todos t";
const ITEM_SELECT: &str = "SELECT i.id, i.todo_id, i.person_id, p.name AS person_name, i.status, i.blob_id, b.filename, i.note, i.updated_at, \
     t.title, t.kind, t.due_on FROM todo_items i JOIN todos t ON t.tenant_id = i.tenant_id AND t.id = i.todo_id \
     JOIN people p ON p.tenant_id = i.tenant_id AND p.id = i.person_id LEFT JOIN blobs b ON b.tenant_id = i.tenant_id AND b.id = i.blob_id";

/// The unit a to-do admin manages (unit admins only).
async fn admin_unit(state: &AppState, user: &CurrentUser) -> Result<i64, AppError> {
    user.authorize(state, "todos", "manage").await?;
    user.account.org_id.filter(|_| user.account.role == Role::UnitAdmin).ok_or_else(AppError::forbidden)
}

/// Assigns a to-do to people of the admin's unit; each gets a message. One transaction.
pub async fn create(state: &AppState, user: &CurrentUser, input: &NewTodo) -> Result<i64, AppError> {
    let unit = admin_unit(state, user).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    if !KINDS.iter().any(|(k, _)| *k == input.kind) {
        errors.add("kind", "请选择类型：培训或活动");
    }
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        errors.add("title", "请填写名称（不超过 100 字）");
    }
    if input.description.chars().count() > 1000 {
        errors.add("description", "说明不能超过 1000 字");
    }
    let due_on = match input.due_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                errors.add("due_on", "截止日期格式应为 YYYY-MM-DD");
                None
            }
        },
    };
    let mut people = input.person_ids.clone();
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        errors.add("person_ids", "请至少选择一名人员");
    }
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    let now = Utc::now();
    let id = tx
        .scalar(
            q("INSERT INTO todos (tenant_id, unit_id, created_by, kind, title, description, due_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(tenant)
                .bind(unit)
                .bind(user.account.id)
                .bind(&input.kind)
                .bind(title)
                .bind(input.description.trim())
                .bind(due_on)
                .bind(now),
        )
        .await?;
    for person in &people {
        let account: Option<(i64, Option<i64>)> = tx
            .opt(
                q("SELECT p.id, (SELECT MIN(a.id) FROM accounts a WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id) FROM people p \
                   WHERE p.tenant_id = $1 AND p.id = $2 AND p.unit_id = $3")
                .bind(tenant)
                .bind(*person)
                .bind(unit),
            )
            .await?;
        // Someone outside the unit is not someone the admin can see.
        let Some((_, account)) = account else {
            return Err(AppError::invalid([("person_ids".to_owned(), "所选人员不在本单位".to_owned())].into()));
        };
        tx.run(
            q("INSERT INTO todo_items (tenant_id, todo_id, person_id, status, updated_at) VALUES ($1, $2, $3, 'open', $4)")
                .bind(tenant)
                .bind(id)
                .bind(*person)
                .bind(now),
        )
        .await?;
        if let Some(account) = account {
            messages::send_tx(&mut tx, tenant, account, "新的待办事项", &format!("单位给您分配了待办事项：{title}，请上传证明材料。"))
                .await?;
        }
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "todo.created", "todo", Some(id), json!({"people": people.len()})).await?;
    tx.commit().await?;
    Ok(id)
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        /// Staff: open, uploaded, accepted or returned
        pub status: Option<String>,
        /// Title contains
        pub q: Option<String>,
    }
}

/// A row of the to-do list: a unit admin sees its to-dos, a person their own items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Listed {
    Todo(Todo),
    Item(Item),
}

/// A unit admin's to-dos with counts, or a person's own items.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Listed>, i64), AppError> {
    let tenant = user.tenant_code();
    let text = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(person) = user.account.person_id {
        user.authorize(state, "todos", "read").await?;
        let mut filters = Filters::tenant("i.tenant_id", tenant);
        filters.and("i.person_id = ?", person);
        if let Some(status) = crate::codes::filter::<ItemStatus>(query.status.as_deref(), "status", "状态")? {
            filters.and("i.status = ?", status);
        }
        if let Some(text) = text {
            filters.contains(&["t.title"], text);
        }
        let from = "FROM todo_items i JOIN todos t ON t.tenant_id = i.tenant_id AND t.id = i.todo_id";
        let total = state.db.scalar(filters.count(from)).await?;
        let items: Vec<Item> = state.db.all(filters.page(ITEM_SELECT, "i.id DESC", query.page, query.per_page())).await?;
        return Ok((items.into_iter().map(|item| Listed::Item(item.labelled())).collect(), total));
    }
    let unit = admin_unit(state, user).await?;
    let mut filters = Filters::tenant("t.tenant_id", tenant);
    filters.and("t.unit_id = ?", unit);
    if let Some(text) = text {
        filters.contains(&["t.title"], text);
    }
    let total = state.db.scalar(filters.count("FROM todos t")).await?;
    let items: Vec<Todo> = state.db.all(filters.page(TODO_SELECT, "t.id DESC", query.page, query.per_page())).await?;
    Ok((items.into_iter().map(Listed::Todo).collect(), total))
}

/// One to-do and the items the caller sees of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TodoDetail {
    pub todo: Todo,
    /// Every assignee's item for the unit's admin; the caller's own for an assignee
    pub items: Vec<Item>,
    /// Whether the caller is the unit's admin
    pub admin: bool,
}

/// One to-do: for its unit's admin every assignee's state; for an assignee their own item.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<TodoDetail, AppError> {
    let tenant = user.tenant_code();
    let todo: Option<Todo> = state.db.opt(q(format!("{TODO_SELECT} WHERE t.tenant_id = $1 AND t.id = $2")).bind(tenant).bind(id)).await?;
    let Some(todo) = todo else { return Err(AppError::not_found()) };
    if let Some(person) = user.account.person_id {
        user.authorize(state, "todos", "read").await?;
        let item: Option<Item> = state
            .db
            .opt(
                q(format!("{ITEM_SELECT} WHERE i.tenant_id = $1 AND i.todo_id = $2 AND i.person_id = $3"))
                    .bind(tenant)
                    .bind(id)
                    .bind(person),
            )
            .await?;
        let Some(item) = item else { return Err(AppError::not_found()) };
        return Ok(TodoDetail { todo, items: vec![item.labelled()], admin: false });
    }
    if admin_unit(state, user).await? != todo.unit_id {
        return Err(AppError::not_found());
    }
    let items: Vec<Item> = state
        .db
        .all(q(format!("{ITEM_SELECT} WHERE i.tenant_id = $1 AND i.todo_id = $2 ORDER BY p.name, i.id")).bind(tenant).bind(id))
        .await?;
    Ok(TodoDetail { todo, items: items.into_iter().map(Item::labelled).collect(), admin: true })
}

/// The assignee uploads proof (again, after a return); the item waits for the admin's confirmation.
pub async fn upload(state: &AppState, user: &CurrentUser, id: i64, filename: &str, bytes: Vec<u8>) -> Result<(), AppError> {
    user.authorize(state, "todos", "read").await?;
    let tenant = user.tenant_code();
    let person = user.account.person_id.ok_or_else(AppError::not_found)?;
    let item: Option<(i64, ItemStatus)> = state
        .db
        .opt(
            q("SELECT id, status FROM todo_items WHERE tenant_id = $1 AND todo_id = $2 AND person_id = $3")
                .bind(tenant)
                .bind(id)
                .bind(person),
        )
        .await?;
    let Some((item_id, status)) = item else { return Err(AppError::not_found()) };
    if status == ItemStatus::Accepted {
        return Err(AppError::conflict("already_accepted", "单位已确认，无需再上传"));
    }
    let mut tx = state.db.begin().await?;
    let blob = storage::upload::store_attachment(state, &mut tx, tenant, filename, bytes).await?;
    let changed = tx
        .run(
            q("UPDATE todo_items SET status = 'uploaded', blob_id = $3, note = NULL, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status <> 'accepted'")
                .bind(tenant)
                .bind(item_id)
                .bind(blob)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_accepted", "单位已确认，无需再上传"));
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "todo.uploaded", "todo", Some(id), json!({"item": item_id})).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewInput {
    pub item_ids: Vec<i64>,
    /// accept or return
    pub decision: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The admin accepts or returns uploaded proofs, all or none.
pub async fn review(state: &AppState, user: &CurrentUser, id: i64, input: &ReviewInput) -> Result<usize, AppError> {
    let unit = admin_unit(state, user).await?;
    let tenant = user.tenant_code();
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let mut errors = FieldErrors::default();
    let status = match input.decision.as_str() {
        "accept" => Some(ItemStatus::Accepted),
        "return" => Some(ItemStatus::Returned),
        _ => {
            errors.add("decision", "请选择确认或退回");
            None
        }
    };
    if status == Some(ItemStatus::Returned) && reason.is_none() {
        errors.add("reason", "退回时请填写原因");
    }
    if input.item_ids.is_empty() {
        errors.add("item_ids", "请至少选择一条记录");
    }
    errors.finish()?;
    let status = status.expect("checked above");
    let owned: Option<(i64,)> =
        state.db.opt(q("SELECT id FROM todos WHERE tenant_id = $1 AND id = $2 AND unit_id = $3").bind(tenant).bind(id).bind(unit)).await?;
    if owned.is_none() {
        return Err(AppError::not_found());
    }
    let mut tx = state.db.begin().await?;
    for item in &input.item_ids {
        let changed = tx
            .run(
                q("UPDATE todo_items SET status = $4, note = $5, updated_at = $6 WHERE tenant_id = $1 AND todo_id = $2 AND id = $3 AND status = 'uploaded'")
                    .bind(tenant)
                    .bind(id)
                    .bind(*item)
                    .bind(status)
                    .bind(reason.map(str::to_owned))
                    .bind(Utc::now()),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::conflict("not_uploaded", format!("第 {item} 条尚未上传材料或已处理，请刷新后重试")));
        }
    }
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        &format!("todo.{status}"),
        "todo",
        Some(id),
        json!({"items": input.item_ids, "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(input.item_ids.len())
}

/// A proof file: for its uploader and the to-do's unit admin.
pub async fn proof(state: &AppState, user: &CurrentUser, id: i64, item_id: i64) -> Result<Response, AppError> {
    let tenant = user.tenant_code();
    let row: Option<(i64, i64, Option<i64>)> = state
        .db
        .opt(
            q("SELECT i.person_id, t.unit_id, i.blob_id FROM todo_items i JOIN todos t ON t.tenant_id = i.tenant_id AND t.id = i.todo_id \
               WHERE i.tenant_id = $1 AND i.todo_id = $2 AND i.id = $3")
            .bind(tenant)
            .bind(id)
            .bind(item_id),
        )
        .await?;
    let Some((person, unit, Some(blob))) = row else { return Err(AppError::not_found()) };
    let allowed = user.account.person_id == Some(person) || (user.account.role == Role::UnitAdmin && user.account.org_id == Some(unit));
    if !allowed {
        return Err(AppError::not_found());
    }
    storage::upload::download(state, tenant, blob).await
}
