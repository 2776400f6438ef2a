//! A crawler in the browser (issue 22 §8): for every role of every tenant it opens the portal signed in,
//! follows every menu entry, link and pagination control it finds (one page per path shape, bounded), at
//! 1366 px and at 390 px, and fails on what a person would see as unfinished: a link answering 4xx/5xx or
//! leading to the login page, a page without the portal's styles, an internal code in the visible text,
//! a page whose menu marks no entry, or a staff page wider than a phone's screen.
//! `JIJIAO_TEST_SCREENSHOTS=DIR` saves a screenshot of every page at both widths.

use std::collections::{BTreeSet, VecDeque};

use fantoccini::Client;
use jijiao_tests::{Backend, TestServer};
use reqwest::Url;
use serde_json::json;

/// Codes that are the platform's own words (roles, login types, statuses, request and subject kinds):
/// none of them may reach a page as text. Grow it with every new code enum.
const INTERNAL_CODES: &[&str] = &[
    // roles and login types
    "staff",
    "unit_admin",
    "institution_admin",
    "authority_admin",
    "hr_admin",
    "province_admin",
    "system_admin",
    "unit",
    "institution",
    "authority",
    "hr_bureau",
    "department",
    // statuses
    "draft",
    "submitted",
    "pending",
    "approved",
    "rejected",
    "returned",
    "withdrawn",
    "deleted",
    "active",
    "disabled",
    "issued",
    "revoked",
    "signed",
    "queued",
    "running",
    "succeeded",
    "failed",
    "accepted",
    "open",
    "closed",
    "replied",
    // request kinds
    "registration",
    "claim",
    "filing",
    "filing_roster",
    "plan",
    "declaration",
    "transfer",
    "person_change",
    "org_change",
    "parent_change",
    "exemption",
    "annual_plan",
    "annual_summary",
    "work_materials",
    // subjects, sources and levels
    "public",
    "professional",
    "online",
    "offline",
    "recognized",
    "province",
    "city",
    "county",
    "senior",
    "intermediate",
    "junior",
];

/// Pages opened per role (one per path shape); the demo's menus lead to fewer.
const MAX_PAGES: usize = 90;

const ROLES: [(&str, u32); 7] =
    [("staff", 101), ("unit", 201), ("institution", 301), ("authority", 401), ("hr", 501), ("province", 601), ("system", 701)];

/// What the page script reports of the page on screen.
#[derive(serde::Deserialize)]
struct Seen {
    codes: Vec<String>,
    styled: bool,
    menu: bool,
    current: usize,
    links: Vec<String>,
    overflow: i64,
    width: i64,
}

const LOOK: &str = r#"
const codes = new Set(arguments[0]);
// A master-data code an administrator keeps is shown on purpose, in an element marked data-code.
const kept = [...document.querySelectorAll('[data-code]')].filter(e => !e.hidden);
kept.forEach(e => { e.hidden = true; });
const text = document.body ? document.body.innerText : '';
kept.forEach(e => { e.hidden = false; });
// Whole words only: an e-mail address or an id that contains a code is not one.
const found = [...text.matchAll(/[\w.@-]+/g)].filter(m => codes.has(m[0]))
  .map(m => text.slice(Math.max(0, m.index - 12), m.index + m[0].length + 12).replace(/\s+/g, ' '));
const styled = [...document.styleSheets].some(s => {
  try { return (s.href || '').endsWith('/static/app.css') && s.cssRules.length > 0; } catch (e) { return false; }
}) && !!document.querySelector('header.topbar');
// Search and filter forms (GET) as a person would first send them: each list's first real choice.
const queries = [...document.querySelectorAll('form')].filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'get').map(f => {
  const url = new URL(f.action, location.href);
  const pairs = new URLSearchParams();
  for (const e of f.elements) {
    if (!e.name || e.disabled || ((e.type === 'checkbox' || e.type === 'radio') && !e.checked)) continue;
    const first = e.tagName === 'SELECT' ? [...e.options].find(o => o.value !== '') : null;
    pairs.append(e.name, e.tagName === 'SELECT' && e.value === '' && first ? first.value : e.value);
  }
  url.search = pairs.toString();
  return url.href;
});
return {
  codes: found,
  styled,
  menu: !!document.querySelector('aside.sidenav'),
  current: document.querySelectorAll('aside.sidenav [aria-current="page"]').length,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href).concat(queries),
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  width: window.innerWidth,
};
"#;

/// Status, content type and final address of a GET from inside the page (with the session's cookies).
const FETCH: &str = r#"
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'})
  .then(r => done([r.status, r.headers.get('content-type') || '', r.url]))
  .catch(e => done([0, String(e), '']));
"#;

/// One visit per path shape: digits become `{n}`, query values that are numbers too (pages, years,
/// ids), post-redirect notices are dropped.
fn shape(url: &Url) -> String {
    let digits = |s: &str| if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) { "{n}".to_owned() } else { s.to_owned() };
    let path: Vec<String> = url.path().split('/').map(digits).collect();
    let query: BTreeSet<String> = url
        .query_pairs()
        .filter(|(k, _)| !matches!(k.as_ref(), "done" | "count" | "next"))
        .map(|(k, v)| format!("{k}={}", digits(&v)))
        .collect();
    format!("{}?{}", path.join("/"), query.into_iter().collect::<Vec<_>>().join("&"))
}

struct Crawl<'a> {
    c: &'a Client,
    tenant: &'a str,
    who: String,
    staff: bool,
    screenshots: Option<std::path::PathBuf>,
    faults: Vec<String>,
    shots: usize,
}

impl Crawl<'_> {
    fn fault(&mut self, url: &str, what: String) {
        self.faults.push(format!("{} {}: {url}: {what}", self.tenant, self.who));
    }

    async fn look(&self) -> Seen {
        let seen = self.c.execute(LOOK, vec![json!(INTERNAL_CODES)]).await.expect("page script");
        serde_json::from_value(seen).expect("page report")
    }

    async fn screenshot(&mut self, url: &Url, width: u32) {
        let Some(dir) = &self.screenshots else { return };
        self.shots += 1;
        let name = format!("{}-{}-{:03}-{width}-{}.png", self.tenant, self.who, self.shots, url.path().replace('/', "_"));
        if let Ok(png) = self.c.screenshot().await {
            std::fs::write(dir.join(name), png).expect("screenshot written");
        }
    }

    /// Opens `url` (reached from `from`) and checks it at both widths; answers the links on it.
    async fn visit(&mut self, url: &Url, from: &str) -> Vec<String> {
        let answer = self.c.execute_async(FETCH, vec![json!(url.as_str())]).await.expect("fetch script");
        let (status, content_type, landed) =
            (answer[0].as_u64().unwrap_or(0), answer[1].as_str().unwrap_or("").to_owned(), answer[2].as_str().unwrap_or("").to_owned());
        if !(200..400).contains(&status) {
            self.fault(url.as_str(), format!("answered {status} {content_type} (linked from {from})"));
            return Vec::new();
        }
        if landed.contains("/login") && !url.path().ends_with("/login") {
            self.fault(url.as_str(), format!("leads to the login page (linked from {from})"));
            return Vec::new();
        }
        if !content_type.starts_with("text/html") {
            return Vec::new(); // a download: its status is what a link can get wrong
        }
        self.c.goto(url.as_str()).await.expect("navigation");
        let seen = self.look().await;
        if !seen.styled {
            self.fault(url.as_str(), "has no portal styles".into());
        }
        if !seen.codes.is_empty() {
            self.fault(url.as_str(), format!("shows internal codes {:?} (linked from {from})", seen.codes));
        }
        if seen.menu && seen.current != 1 {
            self.fault(url.as_str(), format!("marks {} menu entries as current (linked from {from})", seen.current));
        }
        self.screenshot(url, 1366).await;
        self.c.set_window_size(390, 844).await.expect("narrow window");
        let narrow = self.look().await;
        assert_eq!(narrow.width, 390, "the browser narrows its window to a phone's width");
        if self.staff && narrow.overflow > 0 {
            self.fault(url.as_str(), format!("is {} px wider than a 390 px screen", narrow.overflow));
        }
        self.screenshot(url, 390).await;
        self.c.set_window_size(1366, 900).await.expect("wide window");
        seen.links
    }
}

async fn crawl_role(c: &Client, s: &TestServer, tenant: &str, user_type: &str, seq: u32) -> Vec<String> {
    let base = Url::parse(&s.url(tenant, "/")).unwrap();
    let prefix = base.path().trim_end_matches('/').to_owned() + "/";
    // The session of an API login, put into the browser (the login form has its own browser test).
    let cookie = s.demo_session_cookie(tenant, user_type, seq).await;
    c.goto(&s.url(tenant, "/login")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    c.execute("document.cookie = arguments[0] + '; path=/';", vec![json!(cookie)]).await.unwrap();

    let mut crawl = Crawl {
        c,
        tenant,
        who: format!("{user_type}{seq}"),
        staff: user_type == "staff",
        screenshots: std::env::var_os("JIJIAO_TEST_SCREENSHOTS").map(Into::into),
        faults: Vec::new(),
        shots: 0,
    };
    if crawl.staff {
        // The width check can fail: a page made wider than the phone is caught.
        c.goto(base.as_str()).await.unwrap();
        c.set_window_size(390, 844).await.unwrap();
        c.execute(
            "const d = document.createElement('div'); d.className = 'probe'; d.textContent = 'x'.repeat(400); document.body.append(d);",
            vec![],
        )
        .await
        .unwrap();
        assert!(crawl.look().await.overflow > 0, "the crawler sees a page wider than the window");
        c.set_window_size(1366, 900).await.unwrap();
    }
    let mut seen_shapes = BTreeSet::new();
    let mut queue = VecDeque::from([(base.clone(), "(start)".to_owned())]);
    seen_shapes.insert(shape(&base));
    let mut opened = 0;
    while let Some((url, from)) = queue.pop_front() {
        if opened == MAX_PAGES {
            break;
        }
        opened += 1;
        for link in crawl.visit(&url, &from).await {
            let Ok(mut next) = Url::parse(&link) else { continue };
            next.set_fragment(None);
            let ours = next.origin() == base.origin() && next.path().starts_with(&prefix);
            if ours && !next.path().ends_with("/logout") && seen_shapes.insert(shape(&next)) {
                queue.push_back((next, url.to_string()));
            }
        }
    }
    assert!(opened > 3, "{tenant} {user_type}{seq}: the crawl found only {opened} pages");
    eprintln!("crawled {tenant} {user_type}{seq}: {opened} pages");
    crawl.faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_finds_a_finished_portal_by_following_links() {
    if crate::browser::browser().await.is_none() {
        return;
    }
    let s = std::sync::Arc::new(TestServer::start(Backend::Sqlite).await);
    let only = std::env::var("JIJIAO_TEST_CRAWL_TENANT").ok();
    // One browser per tenant, side by side: most of a page's time is spent waiting on the other side.
    let crawls: Vec<_> = ["hunan", "henan", "hubei"]
        .into_iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == *t))
        .map(|tenant| {
            let s = s.clone();
            tokio::spawn(async move {
                let (c, _driver, _profile) = crate::browser::browser().await.expect("browser");
                c.set_window_size(1366, 900).await.unwrap();
                let mut faults = Vec::new();
                for (user_type, seq) in ROLES {
                    faults.extend(crawl_role(&c, &s, tenant, user_type, seq).await);
                }
                c.close().await.unwrap();
                faults
            })
        })
        .collect();
    let mut faults = Vec::new();
    for crawl in crawls {
        faults.extend(crawl.await.expect("crawl"));
    }
    assert!(faults.is_empty(), "{} faults:\n{}", faults.len(), faults.join("\n"));
}

#[test]
fn a_path_shape_ignores_ids_pages_and_notices() {
    let url = |s: &str| Url::parse(s).unwrap();
    assert_eq!(shape(&url("http://h/t/x/claims/12?page=3&done=saved")), shape(&url("http://h/t/x/claims/7?page=1")));
    assert_ne!(shape(&url("http://h/t/x/approvals?kind=claim")), shape(&url("http://h/t/x/approvals?kind=plan")));
}
