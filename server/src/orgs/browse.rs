//! Browsing the org tree: one organisation with its children, ancestors and admins, for the API and the
//! pages alike.

use crate::auth::CurrentUser;
use crate::db::Filters;
use crate::error::AppError;
use crate::paging::{Paging, Search};
use crate::state::AppState;
use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize, Default)]
pub struct ChildrenQuery {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub status: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    pub page: i64,
}

/// A direct child of a browsed organisation (in the regional tree or supervised by it).
#[derive(Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Child {
    pub id: i64,
    pub kind: super::OrgKind,
    #[sqlx(skip)]
    pub kind_label: &'static str,
    pub name: String,
    pub level: String,
    pub region_code: Option<String>,
    pub status: super::OrgStatus,
    #[sqlx(skip)]
    pub status_label: &'static str,
    pub credit_code: Option<String>,
}

/// An organisation with one page of its children, its ancestors and (for account managers) its admins.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Browse {
    pub org: Org,
    pub kind_label: &'static str,
    /// One page (20) of the direct children
    pub children: Vec<Child>,
    /// All direct children matching the filters
    pub total: i64,
    /// Where this page stands among the children's pages
    pub pager: crate::paging::Pager,
    /// `[id, name]` of each ancestor within the caller's own subtree, root first
    pub ancestors: Vec<(i64, String)>,
    /// Empty unless the caller manages accounts
    pub admins: Vec<admins::AdminRow>,
    /// The caller's own organisation
    pub is_own: bool,
}

/// An org in the caller's subtree with one page of its direct children.
pub async fn browse(state: &AppState, user: &CurrentUser, id: Option<i64>, query: &ChildrenQuery) -> Result<Browse, AppError> {
    user.authorize(state, "orgs", "read").await?;
    let tenant = user.tenant_code();
    let scope = scope(user)?;
    let id = id.or(user.account.org_id).ok_or_else(AppError::not_found)?;
    let org = get_in_scope(&state.db, tenant, &scope, id).await?;
    let mut filters = Filters::tenant("tenant_id", tenant);
    // Children in the regional tree and, for an authority, the units and institutions it supervises.
    filters.and_same("(parent_id = ? OR supervisor_id = ?)", org.id);
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        filters.and("kind = ?", kind);
    }
    if let Some(status) = query.status.as_deref().filter(|k| !k.is_empty()) {
        filters.and("status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["name"], text);
    }
    let total = state.db.scalar(filters.count("FROM orgs")).await?;
    let mut children: Vec<Child> = state
        .db
        .all(filters.page("SELECT id, kind, name, level, region_code, status, credit_code FROM orgs", "kind, name, id", query.page, 20))
        .await?;
    for child in &mut children {
        (child.kind_label, child.status_label) = (child.kind.label(), child.status.label());
    }
    let ancestors: Vec<(i64, String)> = {
        let ids: Vec<i64> = org.path.split('/').filter_map(|s| s.parse().ok()).collect();
        let mut out = Vec::new();
        let own_root = user.account.org_path.clone().unwrap_or_default();
        for ancestor in ids {
            if let Some(a) = get(&state.db, tenant, ancestor).await?
                && a.path.starts_with(&own_root)
            {
                out.push((a.id, a.name));
            }
        }
        out
    };
    let admins = if user.can(state, "accounts", "manage").await {
        admins::list(state, user, org.id, &Default::default()).await?.1
    } else {
        Vec::new()
    };
    Ok(Browse {
        kind_label: org.kind.label(),
        is_own: Some(org.id) == user.account.org_id,
        org,
        children,
        total,
        pager: Paging::new(query.page, None).pager(total),
        ancestors,
        admins,
    })
}
