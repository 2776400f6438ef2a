//! The page shell: templates (embedded, with per-tenant overrides), the `Page` extractor, static assets,
//! the platform index and the error page.

pub mod templates;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::auth::csrf::CsrfToken;
use crate::auth::{CurrentUser, MaybeUser};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{TenantCtx, Words};

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What the page header counts for a signed-in user (unread messages, items waiting for review), as a
/// JSON object for `base.html`. The layer that knows the domains installs it at start-up, so the shell
/// names none of them.
pub type HeaderCounts = for<'a> fn(&'a AppState, &'a CurrentUser) -> BoxFuture<'a, Result<Value, AppError>>;

static HEADER_COUNTS: std::sync::OnceLock<HeaderCounts> = std::sync::OnceLock::new();

/// Installs the header's counts (start-up; a later call keeps the first).
pub fn install_header_counts(counts: HeaderCounts) {
    HEADER_COUNTS.get_or_init(|| counts);
}

/// What a page handler needs to render: the tenant, the user (if any), the CSRF token and the menu.
pub struct Page {
    pub state: AppState,
    pub tenant: TenantCtx,
    pub user: Option<CurrentUser>,
    pub csrf: CsrfToken,
    nav: Vec<Value>,
    /// Where a page below a menu entry lies: the home page and that entry.
    crumbs: Vec<Value>,
    /// A fixed notice code from a redirect after a successful action (`?done=decided&count=3`); codes,
    /// not text, so that a crafted link cannot put words on the page.
    done: Option<(String, i64)>,
    /// The header's counts for a signed-in user ([`install_header_counts`]).
    counts: Value,
}

/// Reads an optional number where "" means "any" or "none": a form's text, or a JSON number.
pub fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(i64),
        Text(String),
    }
    match serde::Deserialize::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrText::Number(n)) => Ok(Some(n)),
        Some(NumberOrText::Text(text)) => match text.trim() {
            "" => Ok(None),
            t => t.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("不是有效的数字：{t}"))),
        },
    }
}

/// Where an action's page redirects after success: back to `path` with a notice code.
pub fn done_redirect(base: &str, path: &str, code: &str, count: i64) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{base}{path}{sep}done={code}&count={count}")).into_response()
}

/// Post-redirect notices: `?done=<code>&count=<n>` → text.
const NOTICES: &[(&str, &str)] = &[
    ("decided", "已审核 {n} 条记录"),
    ("department_added", "部门已添加"),
    ("department_deleted", "部门已删除"),
    ("account_disabled", "账号已禁用"),
    ("account_enabled", "账号已启用"),
    ("admin_added", "管理员已添加"),
    ("admin_removed", "已移除该管理员的管理权限"),
    ("super_admin_set", "已设为超级管理员"),
    ("saved", "已保存"),
    ("transfer_started", "调转申请已提交，等待调入方审核"),
    ("transfer_withdrawn", "调转申请已撤回"),
    ("change_filed", "职称变更申请已提交，审核通过后生效"),
    ("change_withdrawn", "职称变更申请已撤回"),
    ("report_filed", "已提交，等待审核"),
    ("report_withdrawn", "报送已撤回，可修改后重新提交"),
    ("material_filed", "材料已报送"),
    ("feedback_filed", "反馈已提交，处理后将回复您"),
    ("feedback_replied", "已回复"),
    ("notice_sent", "通知已发布"),
    ("certificates_issued", "已开具 {n} 份证书"),
    ("roster_uploaded", "学时名单已上传，等待受理部门确认"),
    ("roster_withdrawn", "学时名单已撤回，可修改后重新上传"),
    ("notice_withdrawn", "通知已撤回"),
    ("all_read", "已将 {n} 条消息标为已读"),
    ("uploaded", "附件已上传"),
    ("removed", "附件已删除"),
    ("submitted", "已提交审核"),
    ("withdrawn", "已撤回，可修改后重新提交"),
    ("deleted", "已删除"),
    ("job_retried", "任务已重新排队，将尽快运行"),
    ("imported", "已导入 {n} 条成绩"),
    ("marked", "已标记 {n} 名学员"),
    ("subjects_enabled", "已启用 {n} 个科目"),
    ("subjects_disabled", "已停用 {n} 个科目"),
];

#[derive(serde::Deserialize)]
struct DoneQuery {
    done: Option<String>,
    count: Option<i64>,
}

/// Menu entries: (path, label, object, action) — shown when casbin allows.
const NAV: &[(&str, &str, &str, &str)] = &[
    ("/", "首页", "profile", "read"),
    ("/account", "个人中心", "profile", "read"),
    ("/hours", "我的学时", "hours", "read"),
    ("/messages", "站内消息", "messages", "read"),
    ("/notices", "发布通知", "notices", "send"),
    ("/claims", "学时申报", "claims", "apply"),
    ("/todos", "待办事项", "todos", "read"),
    ("/certificates", "我的证书", "certificates", "apply"),
    ("/verify", "培训记录查询", "profile", "read"),
    ("/certificates/manage", "证书打印", "certificates", "print"),
    ("/exemptions", "免训申请", "exemptions", "file"),
    ("/approvals?kind=exemption", "免训审核", "exemptions", "review"),
    ("/orders", "我的订单", "orders", "read"),
    ("/todos", "待办事项", "todos", "manage"),
    ("/approvals?kind=registration", "注册审核", "registrations", "review"),
    ("/approvals?kind=claim", "学时审核", "claims", "review"),
    ("/filings", "线下培训备案", "filings", "file"),
    ("/approvals?kind=filing", "备案审核", "filings", "review"),
    ("/approvals?kind=filing_roster", "学时名单确认", "filings", "review"),
    ("/orgs", "组织机构", "orgs", "read"),
    ("/admins", "管理员管理", "accounts", "manage"),
    ("/roles", "角色管理", "accounts", "manage"),
    ("/accounts", "用户管理", "accounts", "list"),
    ("/people", "人员管理", "people", "read"),
    ("/transfers", "人员调转", "transfers", "start"),
    ("/approvals?kind=transfer", "调入审核", "transfers", "review"),
    ("/approvals?kind=person_change", "职称变更审核", "person_changes", "review"),
    ("/org/changes", "单位信息变更", "org_changes", "apply"),
    ("/approvals?kind=org_change", "单位信息变更审核", "org_changes", "review"),
    ("/approvals?kind=parent_change", "更换上级部门审核", "org_changes", "review"),
    ("/staff/status", "人员学时", "people", "read"),
    ("/stats", "综合统计", "stats", "read"),
    ("/stats/titles", "职称系列分布", "stats", "read"),
    ("/admin/import", "学时导入", "credits", "import"),
    ("/admin/platforms", "培训平台", "platforms", "manage"),
    ("/classes", "培训班管理", "classes", "manage"),
    ("/approvals?kind=declaration", "培训班学时审核", "declarations", "review"),
    ("/subjects", "培训科目", "subjects", "manage"),
    ("/plans", "培训计划", "plans", "manage"),
    ("/approvals?kind=plan", "计划审核", "plans", "review"),
    ("/annual-reports", "年度计划与总结", "annual_reports", "file"),
    ("/approvals?kind=annual_plan", "机构年度计划审核", "annual_reports", "review"),
    ("/approvals?kind=annual_summary", "机构年度总结审核", "annual_reports", "review"),
    ("/annual-reports", "机构年度报送记录", "annual_reports", "review"),
    ("/materials", "年度工作材料", "work_materials", "file"),
    ("/materials", "下级年度工作材料", "work_materials", "read"),
    ("/admin/jobs", "后台任务", "jobs", "manage"),
    ("/basic-data", "基础数据", "basic_data", "manage"),
    ("/requirements", "年度学时要求", "basic_data", "manage"),
    ("/feedback", "意见反馈", "feedback", "file"),
    ("/account/password", "修改密码", "password", "change"),
];

/// Hours, claims and to-dos are a person's (claims and to-dos also their unit admin's): a wildcard grant (system admins) does not
/// make them useful to others, so the menu leaves them out.
fn personal_page_fits(path: &str, user: &CurrentUser) -> bool {
    match path {
        "/hours" | "/certificates" | "/orders" => user.account.person_id.is_some(),
        "/claims" | "/todos" => user.account.person_id.is_some() || user.account.role == Role::UnitAdmin,
        // Exemptions are offered where the tenant says so (Hunan); the menu follows.
        "/exemptions" | "/approvals?kind=exemption" => user.tenant.tenant.settings.certificates.exemption_proof,
        // Plans are an institution's own (a wildcard grant does not make one an institution).
        "/plans" | "/classes" => user.account.role == Role::InstitutionAdmin,
        // Roles are the super admin's to define (a system administrator's for the province's department).
        "/roles" => (user.account.super_admin || user.account.role == Role::SystemAdmin) && !user.account.roles_assigned,
        // Filings are filed by units and authorities (seed 002 申报单位), not by a wildcard grant.
        "/filings" => matches!(user.account.role, Role::UnitAdmin | Role::AuthorityAdmin),
        _ => true,
    }
}

/// Marks the menu entry of the page asked for (`current`): the entry whose path is the request's, its
/// `?kind=` too where the entry names one; else, for a page below an entry (`/filings/12` below
/// `/filings`), the entry with the longest such path, and then the breadcrumbs lead home and to it.
fn orient(nav: &mut [Value], base: &str, uri: &axum::http::Uri) -> Vec<Value> {
    let path = uri.path().strip_prefix(base).filter(|p| p.starts_with('/')).unwrap_or(uri.path());
    let kind =
        axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(uri).ok().and_then(|q| q.0.get("kind").cloned());
    let entry = |item: &Value| -> (String, Option<String>) {
        let full = item["path"].as_str().unwrap_or_default();
        match full.split_once("?kind=") {
            Some((p, k)) => (p.to_owned(), Some(k.to_owned())),
            None => (full.to_owned(), None),
        }
    };
    let exact = nav.iter().position(|item| {
        let (p, k) = entry(item);
        p == path && (k.is_none() || k == kind)
    });
    if let Some(i) = exact {
        nav[i]["current"] = json!(true);
        return Vec::new();
    }
    let below = nav
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            let (p, k) = entry(item);
            k.is_none() && p != "/" && path.starts_with(&format!("{p}/"))
        })
        .max_by_key(|(_, item)| item["path"].as_str().map_or(0, str::len))
        .map(|(i, _)| i);
    below.map_or_else(Vec::new, |i| mark_below(nav, i, base))
}

/// Marks menu entry `i` current and returns the breadcrumbs of a page below it: home, then the entry.
fn mark_below(nav: &mut [Value], i: usize, base: &str) -> Vec<Value> {
    nav[i]["current"] = json!(true);
    vec![json!({"href": format!("{base}/"), "label": "首页"}), json!({"href": nav[i]["href"], "label": nav[i]["label"]})]
}

impl FromRequestParts<AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tenant = TenantCtx::from_request_parts(parts, state).await?;
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf = CsrfToken::from_request_parts(parts, state).await?;
        let mut nav = Vec::new();
        if let Some(user) = &user {
            for (path, label, object, action) in NAV {
                // One entry per page even when several grants lead to it.
                if !nav.iter().any(|n: &Value| n["path"] == *path)
                    && personal_page_fits(path, user)
                    && user.can(state, object, action).await
                {
                    nav.push(json!({"href": format!("{}{}", tenant.base, path), "label": label, "path": path}));
                }
            }
        }
        let crumbs = orient(&mut nav, &tenant.base, &parts.uri);
        let done =
            axum::extract::Query::<DoneQuery>::try_from_uri(&parts.uri).ok().and_then(|q| q.0.done.map(|d| (d, q.0.count.unwrap_or(0))));
        let counts = match (&user, HEADER_COUNTS.get()) {
            (Some(user), Some(counts)) => counts(state, user).await?,
            _ => Value::Null,
        };
        Ok(Page { state: state.clone(), tenant, user, csrf, nav, crumbs, done, counts })
    }
}

impl Page {
    /// Places the page below the menu entry `entry` (its path as in the menu, `?kind=` included) when the
    /// address alone placed it nowhere (an approval's detail lies below its kind's queue; an admin
    /// without 管理员管理 in the menu reaches the own organisation's admins from 组织机构).
    pub fn under(mut self, entry: &str) -> Self {
        let placed = self.nav.iter().any(|item| item["current"] == json!(true));
        if !placed && let Some(i) = self.nav.iter().position(|item| item["path"] == entry) {
            self.crumbs = mark_below(&mut self.nav, i, &self.tenant.base);
        }
        self
    }

    pub fn require_user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or_else(AppError::unauthorized)
    }

    pub fn render(&self, template: &str, ctx: Value) -> Result<Response, AppError> {
        self.render_status(StatusCode::OK, template, ctx)
    }

    pub fn render_status(&self, status: StatusCode, template: &str, mut ctx: Value) -> Result<Response, AppError> {
        if let Value::Object(map) = &mut ctx {
            map.insert("tenant".into(), tenant_json(&self.tenant));
            map.insert("base".into(), json!(self.tenant.base));
            map.insert("csrf".into(), json!(self.csrf.0));
            map.insert("nav".into(), json!(self.nav));
            map.insert("crumbs".into(), json!(self.crumbs));
            map.insert("counts".into(), self.counts.clone());
            if let Some((code, n)) = &self.done
                && let Some((_, text)) = NOTICES.iter().find(|(c, _)| c == code)
            {
                map.entry("notice").or_insert_with(|| json!(text.replace("{n}", &n.to_string())));
            }
            map.insert(
                "user".into(),
                self.user.as_ref().map_or(Value::Null, |u| {
                    json!({"name": u.account.name, "role": u.account.role, "user_type": u.account.user_type,
                           "org_name": u.account.org_name, "must_change_password": u.account.must_change_password})
                }),
            );
        }
        let html = self.state.templates.render(Some(self.tenant.code()), template, &ctx)?;
        Ok((status, Html(html)).into_response())
    }
}

pub fn tenant_json(tenant: &TenantCtx) -> Value {
    let s = &tenant.tenant.settings;
    let w = &s.words;
    let words = json!({"public": w.public, "professional": w.professional, "filing_form": w.filing_form,
                       "public_short": Words::short(&w.public), "professional_short": Words::short(&w.professional)});
    json!({"code": s.code, "name": s.name, "short_name": s.short_name, "province": s.province, "theme": s.theme, "words": words})
}

/// `scheme://host` of the request, for links in mails; `public_url` wins when configured.
pub fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if !state.config.public_url.is_empty() {
        return state.config.public_url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Routes that belong to no tenant.
pub fn global_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::observability::scrape))
        .route("/static/app.css", get(|| async { static_asset("text/css; charset=utf-8", include_str!("../../static/app.css")) }))
        .route("/static/app.js", get(|| async { static_asset("text/javascript; charset=utf-8", include_str!("../../static/app.js")) }))
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.scalar(crate::db::q("SELECT COUNT(*) FROM tenants")).await {
        Ok(n) if n > 0 => "ready".into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response(),
    }
}

/// The shell around the domains' tenant pages: the theme's assets, a 404 page for anything else, and
/// errors turned into Chinese error pages (401 redirects to the login page).
pub fn shell(state: AppState, pages: Router<AppState>) -> Router<AppState> {
    Router::new()
        .route("/theme/{file}", get(theme_asset))
        .route("/theme.css", get(theme_css))
        .merge(pages)
        .fallback(|| async { AppError::not_found() })
        .layer(middleware::from_fn(crate::error::uniform_errors))
        .layer(middleware::from_fn_with_state(state, html_errors))
}

/// The platform's own front page listing every portal; with 404 it says first that the portal asked for
/// does not exist (an unknown `/t/<code>/…` or host name).
pub fn platform_page(state: &AppState, status: StatusCode) -> Result<Response, AppError> {
    let tenants: Vec<Value> = state
        .tenants
        .all()
        .iter()
        .map(|t| json!({"code": t.code(), "name": t.settings.name, "short_name": t.settings.short_name, "theme": t.settings.theme}))
        .collect();
    let html = state.templates.render(None, "index.html", &json!({"tenants": tenants, "missing": status == StatusCode::NOT_FOUND}))?;
    Ok((status, Html(html)).into_response())
}

impl axum::extract::OptionalFromRequestParts<AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        if parts.extensions.get::<TenantCtx>().is_none() {
            return Ok(None);
        }
        <Page as FromRequestParts<AppState>>::from_request_parts(parts, state).await.map(Some)
    }
}

/// Serves the tenant's theme files (logo, banner): only plain file names with image or CSS types.
async fn theme_asset(
    State(state): State<AppState>,
    tenant: TenantCtx,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let content_type = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("css") => "text/css; charset=utf-8",
        Some("ico") => "image/x-icon",
        _ => return Err(AppError::not_found()),
    };
    if file.contains('/') || file.contains("..") || file.starts_with('.') {
        return Err(AppError::not_found());
    }
    let path = state.config.tenants_dir.join(tenant.code()).join("theme").join(&file);
    let bytes = tokio::fs::read(&path).await.map_err(|_| AppError::not_found())?;
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], bytes).into_response())
}

/// The tenant's colours as CSS variables (inline styles are barred by the CSP).
async fn theme_css(tenant: TenantCtx) -> Response {
    let theme = &tenant.tenant.settings.theme;
    let clean = |c: &str| c.chars().filter(|ch| ch.is_ascii_alphanumeric() || *ch == '#').collect::<String>();
    let css = format!(":root {{ --primary: {}; --accent: {}; }}\n", clean(&theme.primary), clean(&theme.accent));
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], css).into_response()
}

/// Turns error responses of page routes into pages: 401 goes to the login page, others render
/// `error.html` with the error's Chinese message.
async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let tenant = request.extensions().get::<TenantCtx>().cloned();
    let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let csrf = request.extensions().get::<CsrfToken>().cloned();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(err) = response.extensions().get::<AppError>().cloned() else {
        return response;
    };
    let Some(tenant) = tenant else {
        return response;
    };
    if err.code == "password_change_required" {
        return Redirect::to(&format!("{}/account/password", tenant.base)).into_response();
    }
    if err.status == StatusCode::UNAUTHORIZED {
        let next = format!("{}{}", tenant.base, path);
        return Redirect::to(&format!("{}/login?next={}", tenant.base, urlencoding::encode(&next))).into_response();
    }
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let error =
        json!({"status": err.status.as_u16(), "code": err.code, "message": err.message, "fields": err.fields, "request_id": request_id});
    // The same shell as every page: the user's name and menu (looked up again, only for errors).
    let mut parts = Request::new(()).into_parts().0;
    parts.headers = headers;
    parts.extensions.insert(tenant.clone());
    if let Some(csrf) = &csrf {
        parts.extensions.insert(csrf.clone());
    }
    if let Ok(page) = Page::from_request_parts(&mut parts, &state).await
        && let Ok(rendered) = page.render_status(err.status, "error.html", json!({"error": error}))
    {
        return rendered;
    }
    let ctx = json!({
        "tenant": tenant_json(&tenant), "base": tenant.base, "csrf": csrf.map(|c| c.0), "nav": [], "user": null, "error": error,
    });
    match state.templates.render(Some(tenant.code()), "error.html", &ctx) {
        Ok(html) => (err.status, Html(html)).into_response(),
        Err(_) => response,
    }
}
