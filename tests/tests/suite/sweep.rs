//! Every route the server serves, called by everyone who should get nothing from it. The routes are read
//! from the router itself, so a route added without a fixture here fails this test: each fixture fills
//! the route's path with a real object of a Henan victim (a claim, a person, a class…) and says which
//! Henan accounts may see it. Every other caller — anonymous, each role of Hunan on its own portal with
//! Henan's ids and with its session on Henan's portal, each Henan account outside the object's scope —
//! calls every method of the route and must be refused (or, on lists and forms, get only its own rows);
//! no answer may carry a victim's marked text, and the sweep changes no row.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jijiao_tests::{TestServer, both, json_of};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::common::*;

const VICTIM: &str = "henan";
const OTHER: &str = "hunan";
/// Henan's demo accounts: staff 101 (school) and 102 (hospital), unit admins 201 (school) and 202
/// (hospital), institution 301, authority 401 and 402 (supervising the school and the institution, not
/// the hospital), the capital's HR bureau 501, the province 601, the system administrator 701.
const HENAN: [(&str, u32); 10] = [
    ("staff", 101),
    ("staff", 102),
    ("unit", 201),
    ("unit", 202),
    ("institution", 301),
    ("authority", 401),
    ("authority", 402),
    ("hr", 501),
    ("province", 601),
    ("system", 701),
];
const HUNAN: [(&str, u32); 7] =
    [("staff", 101), ("unit", 201), ("institution", 301), ("authority", 401), ("hr", 501), ("province", 601), ("system", 701)];

/// Who may get an answer from a route.
#[derive(Clone, Copy)]
enum Access {
    /// Anyone: public pages, verification by number, assets, health.
    Open,
    /// Each caller gets its own (a list, a form, its profile): only the markers are checked.
    Own,
    /// A Henan object: only these Henan accounts may get an answer; everyone else is refused.
    Only(&'static [u32]),
    /// Keyed by a code every tenant has (basic data, platforms): other tenants get their own; in Henan
    /// only these accounts may get an answer.
    Shared(&'static [u32]),
    /// Ends the caller's session: called anonymously only.
    Anonymous,
}

/// The people who see a hospital staff member's own records: the person, the hospital's admin, the
/// capital's HR bureau above it, the province and the system administrator.
const HOSPITAL_PERSON: &[u32] = &[102, 202, 501, 601, 701];
const HOSPITAL: &[u32] = &[202, 501, 601, 701];
/// The training institution's own objects and the departments above it.
const INSTITUTION: &[u32] = &[301, 401, 402, 501, 601, 701];
const TENANT_ADMINS: &[u32] = &[601, 701];
/// The demo's transfer moved staff 102 from the school to the hospital: both sides and the school's
/// authority see it.
const TRANSFER: &[u32] = &[102, 201, 202, 401, 402, 501, 601, 701];
/// The province's subject catalogue, which institutions plan from and departments read.
const SUBJECT: &[u32] = &[301, 401, 402, 501, 601, 701];

/// A victim's text: nobody outside `viewers` may ever receive it.
struct Secret {
    marker: String,
    viewers: &'static [u32],
}

/// A well-formed body for a route that changes a victim's object, so that a refusal comes from the
/// authorization and not from a parser rejecting `{}`.
#[derive(Clone)]
enum Body {
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
    /// Text fields and a PDF in the `file` field named here.
    Upload(Vec<(&'static str, String)>, &'static str),
}

struct Victim {
    fixtures: BTreeMap<&'static str, (String, Access)>,
    bodies: BTreeMap<&'static str, Body>,
    secrets: Vec<Secret>,
}

async fn created(res: reqwest::Response, what: &str) -> i64 {
    let (status, body) = json_of(res).await;
    assert!(status == 200 || status == 201, "{what}: {status} {body}");
    body["id"].as_i64().unwrap_or_else(|| panic!("{what}: no id in {body}"))
}

/// Creates the Henan victim's objects (each with a marker in its text) and names every route's path.
async fn victim(s: &TestServer) -> Victim {
    let api = |path: &str| s.api(VICTIM, path);
    let pdf = || Part::bytes(PDF.to_vec()).file_name("证明.pdf");
    let staff = s.demo(VICTIM, "staff", 102).await;
    let hospital_admin = s.demo(VICTIM, "unit", 202).await;
    let institution_admin = s.demo(VICTIM, "institution", 301).await;
    let authority_admin = s.demo(VICTIM, "authority", 401).await;
    let id = |sql: String| async move { s.count(&sql).await };
    let hospital = id("SELECT id FROM orgs WHERE tenant_id = 'henan' AND ext_key = 'demo:unit:hospital'".into()).await;
    let person = demo_person(s, VICTIM, 102).await;
    let account = id(format!("SELECT id FROM accounts WHERE person_id = {person}")).await;
    let (_, me) = json_of(hospital_admin.get(api("/me")).send().await.unwrap()).await;
    let hospital_admin_account = me["account"]["id"].as_i64().unwrap();
    const PHONE: &str = "13912340102";
    s.db.run(jijiao::db::q(format!("UPDATE people SET phone = '{PHONE}' WHERE id = {person}"))).await.unwrap();

    // A claim with an attachment, submitted: it waits in the hospital's queue.
    let claim = created(
        staff
            .post(api("/claims"))
            .json(&json!({"year": 2025, "activity": "patent", "choice": "hr_bureau",
                          "fields": {"subject": "professional", "name": "靶标专利", "start_date": "2025-03-01", "end_date": "2025-03-05"}}))
            .send()
            .await
            .unwrap(),
        "claim",
    )
    .await;
    let attach = staff.post(api(&format!("/claims/{claim}/attachments"))).multipart(Form::new().part("file", pdf())).send().await.unwrap();
    assert_eq!(attach.status(), 201);
    let attachment = id(format!("SELECT id FROM claim_attachments WHERE claim_id = {claim}")).await;
    assert_eq!(staff.post(api(&format!("/claims/{claim}/submit"))).send().await.unwrap().status(), 200);
    let approval = id(format!("SELECT id FROM approvals WHERE subject_type = 'claim' AND subject_id = {claim}")).await;

    let todo = created(
        hospital_admin
            .post(api("/todos"))
            .json(&json!({"kind": "training", "title": "靶标待办", "description": "请上传结业证书", "due_on": "2026-12-31", "person_ids": [person]}))
            .send()
            .await
            .unwrap(),
        "todo",
    )
    .await;
    let item = id(format!("SELECT id FROM todo_items WHERE todo_id = {todo}")).await;
    let notice = created(
        hospital_admin.post(api("/notices")).json(&json!({"title": "靶标通知", "body": "通知正文"})).send().await.unwrap(),
        "notice",
    )
    .await;
    let (_, inbox) = json_of(staff.get(api("/messages")).send().await.unwrap()).await;
    let message =
        inbox["items"].as_array().unwrap().iter().find(|m| m["kind"] != "notice").expect("a message to the victim")["id"].as_i64().unwrap();
    let feedback = created(
        staff
            .post(api("/feedback"))
            .multipart(Form::new().text("category", "platform").text("text", "靶标反馈").part("attachment", pdf()))
            .send()
            .await
            .unwrap(),
        "feedback",
    )
    .await;
    let material = created(
        authority_admin
            .post(api("/work-materials"))
            .multipart(Form::new().text("year", "2026").text("category", "guide").text("title", "靶标材料").part("file", pdf()))
            .send()
            .await
            .unwrap(),
        "work material",
    )
    .await;
    // A change of the person's own record, waiting for review (its marker must not travel).
    created(staff.post(api("/me/changes")).json(&json!({"fields": {"title": "靶标职称"}})).send().await.unwrap(), "person change").await;
    let org_change = created(
        hospital_admin
            .post(api(&format!("/orgs/{hospital}/changes")))
            .multipart(Form::new().text("fields", json!({"contact_name": "靶标联系人"}).to_string()).part("licence", pdf()))
            .send()
            .await
            .unwrap(),
        "org change",
    )
    .await;
    let department = created(
        hospital_admin.post(api(&format!("/orgs/{hospital}/departments"))).json(&json!({"name": "影像科"})).send().await.unwrap(),
        "department",
    )
    .await;
    // The demo's transfer (school → hospital), the hospital's filing, the institution's plan and class.
    let transfer = id(format!("SELECT id FROM transfers WHERE person_id = {person}")).await;
    s.db.run(jijiao::db::q(format!("UPDATE transfers SET reason = '靶标调动' WHERE id = {transfer}"))).await.unwrap();
    let filing = id(format!("SELECT MIN(id) FROM training_filings WHERE org_id = {hospital}")).await;
    s.db.run(jijiao::db::q(format!("UPDATE training_filings SET subject = '靶标备案' WHERE id = {filing}"))).await.unwrap();
    let class = id("SELECT MIN(id) FROM training_classes WHERE tenant_id = 'henan'".into()).await;
    let plan = id(format!("SELECT plan_id FROM training_classes WHERE id = {class}")).await;
    let subject = id(format!("SELECT subject_id FROM training_plans WHERE id = {plan}")).await;
    s.db.run(jijiao::db::q(format!("UPDATE training_classes SET name = '靶标班' WHERE id = {class}"))).await.unwrap();
    s.db.run(jijiao::db::q(format!("UPDATE training_plans SET name = '靶标计划' WHERE id = {plan}"))).await.unwrap();
    let score = id(format!("SELECT MIN(id) FROM class_scores WHERE class_id = {class}")).await;
    let declaration = created(
        institution_admin.post(api(&format!("/classes/{class}/declaration"))).json(&json!({})).send().await.unwrap(),
        "declaration",
    )
    .await;
    let report = created(
        institution_admin
            .post(api("/annual-reports"))
            .multipart(
                Form::new()
                    .text("kind", "plan")
                    .text("year", "2026")
                    .text("title", "靶标年度计划")
                    .text("content", "一、培训目标")
                    .text("classes", "3")
                    .text("trainees", "90")
                    .part("document", pdf()),
            )
            .send()
            .await
            .unwrap(),
        "annual report",
    )
    .await;
    let job = id("SELECT MIN(id) FROM jobs WHERE tenant_id = 'henan'".into()).await;
    // A custom role of the hospital, held by a second hospital admin.
    let role = created(
        hospital_admin.post(api("/roles")).json(&json!({"name": "审核员", "permissions": ["registrations:review"]})).send().await.unwrap(),
        "role",
    )
    .await;
    let deputy = created(
        hospital_admin
            .post(api(&format!("/orgs/{hospital}/admins")))
            .json(&json!({"source": "new", "id_number": jijiao_tests::id_number("410102", "19900101", 55), "name": "副管理员",
                          "phone": "13800005555", "email": "deputy@example.com"}))
            .send()
            .await
            .unwrap(),
        "deputy admin",
    )
    .await;
    let assigned = hospital_admin.put(api(&format!("/accounts/{deputy}/roles"))).json(&json!({"roles": [role]})).send().await.unwrap();
    assert_eq!(assigned.status(), 200);
    let (platform,): (String,) =
        s.db.one(jijiao::db::q("SELECT code FROM platforms WHERE tenant_id = 'henan' ORDER BY code LIMIT 1"))
            .await
            .expect("a Henan platform");
    let (kind, code): (String, String) =
        s.db.one(jijiao::db::q("SELECT kind, code FROM basic_data WHERE tenant_id = 'henan' ORDER BY kind, code LIMIT 1"))
            .await
            .expect("Henan basic data");
    let this_year = jijiao::hours::this_year();

    let secrets = [
        (PHONE, HOSPITAL_PERSON),
        ("靶标专利", HOSPITAL_PERSON),
        ("靶标待办", &[102, 202][..]),
        ("靶标通知", &[102, 202][..]),
        ("靶标反馈", &[102, 501][..]),
        ("靶标材料", &[401, 402, 601, 701][..]),
        ("靶标职称", HOSPITAL_PERSON),
        ("靶标联系人", HOSPITAL),
        ("靶标调动", TRANSFER),
        ("靶标备案", HOSPITAL),
        ("靶标班", &[101, 102, 301, 401, 402, 501, 601, 701][..]),
        ("靶标计划", INSTITUTION),
        ("靶标年度计划", INSTITUTION),
    ]
    .into_iter()
    .map(|(marker, viewers)| Secret { marker: marker.to_owned(), viewers })
    .collect();

    use Access::*;
    let only = |path: String, viewers: &'static [u32]| (path, Only(viewers));
    let mut fixtures: BTreeMap<&'static str, (String, Access)> = BTreeMap::new();
    // Routes every caller may call (public, or answering with the caller's own rows).
    for (route, access) in [
        ("/", Own),
        ("/.well-known/openid-configuration", Open),
        ("/account", Own),
        ("/account/changes", Own),
        ("/account/contact", Own),
        ("/account/password", Own),
        ("/accounts", Own),
        ("/accounts/status", Own),
        ("/admin/import", Own),
        ("/admin/jobs", Own),
        ("/admin/platforms", Own),
        ("/admins", Own),
        ("/annual-reports", Own),
        ("/api/openapi.json", Open),
        ("/approvals", Own),
        ("/basic-data", Own),
        ("/requirements", Own),
        ("/roles", Own),
        ("/api/v1/roles", Own),
        ("/api/v1/permissions", Own),
        ("/certificates", Own),
        ("/certificates/batch-issue", Own),
        ("/certificates/manage", Own),
        ("/certificates/print", Own),
        ("/certificates/recognition", Own),
        ("/claims", Own),
        ("/claims/new", Own),
        ("/classes", Own),
        ("/classes/delete", Own),
        ("/classes/new", Own),
        ("/exemptions", Own),
        ("/feedback", Own),
        ("/filings", Own),
        ("/filings/delete", Own),
        ("/filings/roster-template.xlsx", Own),
        ("/forgot", Open),
        ("/healthz", Open),
        ("/hours", Own),
        ("/login", Open),
        ("/logout", Anonymous),
        ("/materials", Own),
        ("/messages", Own),
        ("/messages/read-all", Own),
        ("/metrics", Open),
        ("/notices", Own),
        ("/oauth/authorize", Open),
        ("/oauth/jwks", Open),
        ("/oauth/token", Open),
        ("/oauth/userinfo", Open),
        ("/orders", Own),
        ("/org/changes", Own),
        ("/orgs", Own),
        ("/people", Own),
        ("/plans", Own),
        ("/plans/delete", Own),
        ("/plans/new", Own),
        ("/readyz", Open),
        ("/register", Open),
        ("/register/org", Open),
        ("/reset", Open),
        ("/staff/status", Own),
        ("/staff/status.xlsx", Own),
        ("/static/app.css", Open),
        ("/static/app.js", Open),
        ("/stats", Own),
        ("/stats/overview.xlsx", Own),
        ("/stats/regions.svg", Own),
        ("/stats/titles", Own),
        ("/stats/titles.svg", Own),
        ("/stats/titles.xlsx", Own),
        ("/subjects", Own),
        ("/subjects/status", Own),
        ("/theme.css", Open),
        ("/todos", Own),
        ("/transfers", Own),
        ("/transfers/new", Own),
        ("/verify", Open),
        ("/verify/person", Open),
        // The API's own root: an unknown path, answered as JSON.
        ("/api/v1", Open),
        ("/api/v1/accounts", Own),
        ("/api/v1/accounts/status", Own),
        ("/api/v1/activities", Own),
        ("/api/v1/annual-reports", Own),
        ("/api/v1/approvals", Own),
        ("/api/v1/approvals/decisions", Own),
        ("/api/v1/approvals/groups", Own),
        ("/api/v1/certificates", Own),
        ("/api/v1/certificates/applications", Own),
        ("/api/v1/certificates/batch-issue", Own),
        ("/api/v1/certificates/lookup", Open),
        ("/api/v1/certificates/print", Own),
        ("/api/v1/certificates/recognition", Own),
        ("/api/v1/claims", Own),
        ("/api/v1/classes", Own),
        ("/api/v1/classes/delete", Own),
        ("/api/v1/credits/imports", Own),
        ("/api/v1/exemptions", Own),
        ("/api/v1/feedback", Own),
        ("/api/v1/filings", Own),
        ("/api/v1/filings/deletions", Own),
        ("/api/v1/jobs", Own),
        ("/api/v1/keys", Open),
        ("/api/v1/me", Own),
        ("/api/v1/me/certificates", Own),
        ("/api/v1/me/changes", Own),
        ("/api/v1/me/contact", Own),
        ("/api/v1/me/credits", Own),
        ("/api/v1/me/orders", Own),
        ("/api/v1/me/password", Own),
        ("/api/v1/me/profile", Own),
        ("/api/v1/me/status", Own),
        ("/api/v1/me/todo-counts", Own),
        ("/api/v1/me/years", Own),
        ("/api/v1/messages", Own),
        ("/api/v1/messages/read-all", Own),
        ("/api/v1/notices", Own),
        ("/api/v1/orgs", Own),
        ("/api/v1/password-resets", Open),
        ("/api/v1/password-resets/confirm", Open),
        ("/api/v1/people", Own),
        ("/api/v1/plans", Own),
        ("/api/v1/plans/delete", Own),
        ("/api/v1/platform/completions", Open),
        ("/api/v1/platform/me", Open),
        ("/api/v1/platform/orders", Open),
        ("/api/v1/platform/reconciliation", Open),
        ("/api/v1/platform/rejections.xlsx", Open),
        ("/api/v1/registrations/orgs", Open),
        ("/api/v1/registrations/staff", Open),
        ("/api/v1/session", Anonymous),
        ("/api/v1/staff/status", Own),
        ("/api/v1/stats/overview", Own),
        ("/api/v1/stats/overview.xlsx", Own),
        ("/api/v1/stats/regions", Own),
        ("/api/v1/stats/regions.svg", Own),
        ("/api/v1/stats/titles", Own),
        ("/api/v1/stats/titles.svg", Own),
        ("/api/v1/stats/titles.xlsx", Own),
        ("/api/v1/subjects", Own),
        ("/api/v1/subjects/status", Own),
        ("/api/v1/todos", Own),
        ("/api/v1/transfers", Own),
        ("/api/v1/work-materials", Own),
    ] {
        fixtures.insert(route, (route.to_owned(), access));
    }
    // Anyone may verify a certificate by its number and see the theme's files.
    for (route, path) in [
        ("/certificates/{number}/badge", "/certificates/HN0000000000/badge"),
        ("/certificates/{number}/pdf", "/certificates/HN0000000000/pdf"),
        ("/api/v1/certificates/{number}", "/api/v1/certificates/HN0000000000"),
        ("/api/v1/certificates/{number}/badge", "/api/v1/certificates/HN0000000000/badge"),
        ("/api/v1/certificates/{number}/pdf", "/api/v1/certificates/HN0000000000/pdf"),
        ("/theme/{file}", "/theme/logo.svg"),
    ] {
        fixtures.insert(route, (path.to_owned(), Open));
    }
    // The victim's objects, on the pages and in the API.
    let both = |route: &'static str, path: String, viewers: &'static [u32], fixtures: &mut BTreeMap<&'static str, (String, Access)>| {
        fixtures.insert(route, only(path.clone(), viewers));
        fixtures.insert(Box::leak(format!("/api/v1{route}").into_boxed_str()), only(format!("/api/v1{path}"), viewers));
    };
    for (route, path, viewers) in [
        ("/accounts/{id}/reset-code", format!("/accounts/{account}/reset-code"), HOSPITAL),
        ("/accounts/{id}/status", format!("/accounts/{account}/status"), HOSPITAL),
        ("/annual-reports/{id}", format!("/annual-reports/{report}"), INSTITUTION),
        ("/annual-reports/{id}/document", format!("/annual-reports/{report}/document"), INSTITUTION),
        ("/annual-reports/{id}/withdraw", format!("/annual-reports/{report}/withdraw"), INSTITUTION),
        ("/approvals/{id}", format!("/approvals/{approval}"), HOSPITAL_PERSON),
        ("/changes/{id}/licence", format!("/changes/{org_change}/licence"), HOSPITAL),
        ("/changes/{id}/withdraw", format!("/changes/{org_change}/withdraw"), HOSPITAL),
        ("/claims/{id}", format!("/claims/{claim}"), HOSPITAL_PERSON),
        ("/claims/{id}/attachments", format!("/claims/{claim}/attachments"), HOSPITAL_PERSON),
        ("/claims/{id}/attachments/{attachment}", format!("/claims/{claim}/attachments/{attachment}"), HOSPITAL_PERSON),
        ("/classes/{id}", format!("/classes/{class}"), INSTITUTION),
        ("/classes/{id}/scores", format!("/classes/{class}/scores"), INSTITUTION),
        ("/classes/{id}/scores/delete", format!("/classes/{class}/scores/delete"), INSTITUTION),
        ("/classes/{id}/scores/import", format!("/classes/{class}/scores/import"), INSTITUTION),
        ("/classes/{id}/scores/{score}", format!("/classes/{class}/scores/{score}"), INSTITUTION),
        ("/declarations/{id}", format!("/declarations/{declaration}"), INSTITUTION),
        ("/declarations/{id}/verdicts", format!("/declarations/{declaration}/verdicts"), INSTITUTION),
        ("/feedback/{id}", format!("/feedback/{feedback}"), &[102, 501]),
        ("/feedback/{id}/attachment", format!("/feedback/{feedback}/attachment"), &[102, 501]),
        ("/filings/{id}", format!("/filings/{filing}"), HOSPITAL),
        ("/filings/{id}/roster", format!("/filings/{filing}/roster"), HOSPITAL),
        ("/messages/{id}", format!("/messages/{message}"), &[102]),
        ("/messages/{id}/read", format!("/messages/{message}/read"), &[102]),
        ("/notices/{id}", format!("/notices/{notice}"), &[102, 202]),
        ("/notices/{id}/withdraw", format!("/notices/{notice}/withdraw"), &[202]),
        ("/orgs/{id}/departments", format!("/orgs/{hospital}/departments"), HOSPITAL),
        ("/plans/{id}", format!("/plans/{plan}"), INSTITUTION),
        ("/todos/{id}", format!("/todos/{todo}"), &[102, 202]),
        ("/todos/{id}/items/{item}/proof", format!("/todos/{todo}/items/{item}/proof"), &[102, 202]),
        ("/todos/{id}/proof", format!("/todos/{todo}/proof"), &[102, 202]),
        ("/todos/{id}/review", format!("/todos/{todo}/review"), &[202]),
        ("/transfers/{id}", format!("/transfers/{transfer}"), TRANSFER),
        ("/transfers/{id}/withdraw", format!("/transfers/{transfer}/withdraw"), TRANSFER),
    ] {
        both(route, path, viewers, &mut fixtures);
    }
    // Routes only one side has.
    for (route, path, viewers) in [
        ("/admin/jobs/{id}/retry", format!("/admin/jobs/{job}/retry"), TENANT_ADMINS),
        ("/admin/platforms/{code}", format!("/admin/platforms/{platform}"), TENANT_ADMINS),
        ("/admin/platforms/{code}/credentials", format!("/admin/platforms/{platform}/credentials"), TENANT_ADMINS),
        ("/admin/platforms/{code}/rejections.xlsx", format!("/admin/platforms/{platform}/rejections.xlsx?day=2026-01-05"), TENANT_ADMINS),
        ("/basic-data/{kind}", format!("/basic-data/{kind}"), TENANT_ADMINS),
        ("/basic-data/{kind}/{code}", format!("/basic-data/{kind}/{code}"), TENANT_ADMINS),
        ("/api/v1/basic-data/{kind}", format!("/api/v1/basic-data/{kind}"), TENANT_ADMINS),
        ("/api/v1/basic-data/{kind}/{code}", format!("/api/v1/basic-data/{kind}/{code}"), TENANT_ADMINS),
        ("/requirements/{year}", format!("/requirements/{this_year}"), TENANT_ADMINS),
        ("/requirements/{year}/reset", format!("/requirements/{this_year}/reset"), TENANT_ADMINS),
        ("/api/v1/requirements/{year}", format!("/api/v1/requirements/{this_year}"), TENANT_ADMINS),
    ] {
        fixtures.insert(route, (path, Shared(viewers)));
    }
    for (route, path, viewers) in [
        ("/claims/{id}/attachments/{attachment}/delete", format!("/claims/{claim}/attachments/{attachment}/delete"), HOSPITAL_PERSON),
        ("/claims/{id}/edit", format!("/claims/{claim}/edit"), HOSPITAL_PERSON),
        ("/claims/{id}/{action}", format!("/claims/{claim}/withdraw"), HOSPITAL_PERSON),
        ("/classes/{id}/declare", format!("/classes/{class}/declare"), INSTITUTION),
        ("/classes/{id}/edit", format!("/classes/{class}/edit"), INSTITUTION),
        ("/classes/{id}/roster", format!("/classes/{class}/roster"), INSTITUTION),
        ("/departments/{id}/delete", format!("/departments/{department}/delete"), HOSPITAL),
        ("/departments/{id}/rename", format!("/departments/{department}/rename"), HOSPITAL),
        ("/filings/{id}/edit", format!("/filings/{filing}/edit"), HOSPITAL),
        ("/filings/{id}/{action}", format!("/filings/{filing}/withdraw"), HOSPITAL),
        ("/materials/{id}", format!("/materials/{material}"), &[401, 402, 601, 701]),
        ("/materials/{id}/delete", format!("/materials/{material}/delete"), &[401, 402]),
        ("/materials/{id}/file", format!("/materials/{material}/file"), &[401, 402, 601, 701]),
        ("/orgs/{id}/admins", format!("/orgs/{hospital}/admins"), HOSPITAL),
        ("/orgs/{id}/admins/{account_id}/remove", format!("/orgs/{hospital}/admins/{hospital_admin_account}/remove"), HOSPITAL),
        ("/orgs/{id}/licence", format!("/orgs/{hospital}/licence"), HOSPITAL),
        ("/orgs/{id}/super-admin", format!("/orgs/{hospital}/super-admin"), HOSPITAL),
        ("/plans/{id}/delete", format!("/plans/{plan}/delete"), INSTITUTION),
        ("/plans/{id}/edit", format!("/plans/{plan}/edit"), INSTITUTION),
        ("/staff/{person_id}", format!("/staff/{person}"), HOSPITAL),
        ("/subjects/{id}/edit", format!("/subjects/{subject}/edit"), SUBJECT),
        ("/api/v1/changes/{id}/licence", format!("/api/v1/changes/{org_change}/licence"), HOSPITAL),
        ("/api/v1/classes/{id}/declaration", format!("/api/v1/classes/{class}/declaration"), INSTITUTION),
        ("/api/v1/declarations/{id}/students", format!("/api/v1/declarations/{declaration}/students"), INSTITUTION),
        ("/api/v1/claims/{id}/submit", format!("/api/v1/claims/{claim}/submit"), HOSPITAL_PERSON),
        ("/api/v1/claims/{id}/withdraw", format!("/api/v1/claims/{claim}/withdraw"), HOSPITAL_PERSON),
        ("/api/v1/departments/{id}", format!("/api/v1/departments/{department}"), HOSPITAL),
        ("/api/v1/feedback/{id}/reply", format!("/api/v1/feedback/{feedback}/reply"), &[501]),
        ("/api/v1/filings/{id}/roster/withdraw", format!("/api/v1/filings/{filing}/roster/withdraw"), HOSPITAL),
        ("/api/v1/filings/{id}/withdraw", format!("/api/v1/filings/{filing}/withdraw"), HOSPITAL),
        ("/api/v1/jobs/{id}/retry", format!("/api/v1/jobs/{job}/retry"), TENANT_ADMINS),
        ("/api/v1/notices/{id}/read", format!("/api/v1/notices/{notice}/read"), &[102, 202]),
        ("/api/v1/orgs/{id}", format!("/api/v1/orgs/{hospital}"), HOSPITAL),
        ("/api/v1/orgs/{id}/admins", format!("/api/v1/orgs/{hospital}/admins"), HOSPITAL),
        ("/api/v1/orgs/{id}/admins/{account_id}", format!("/api/v1/orgs/{hospital}/admins/{hospital_admin_account}"), HOSPITAL),
        ("/api/v1/orgs/{id}/changes", format!("/api/v1/orgs/{hospital}/changes"), HOSPITAL),
        ("/api/v1/orgs/{id}/licence", format!("/api/v1/orgs/{hospital}/licence"), HOSPITAL),
        ("/api/v1/orgs/{id}/super-admin", format!("/api/v1/orgs/{hospital}/super-admin"), HOSPITAL),
        ("/api/v1/staff/{person_id}/credits", format!("/api/v1/staff/{person}/credits"), HOSPITAL),
        ("/api/v1/staff/{person_id}/years", format!("/api/v1/staff/{person}/years"), HOSPITAL),
        ("/api/v1/subjects/{id}", format!("/api/v1/subjects/{subject}"), SUBJECT),
        ("/api/v1/work-materials/{id}", format!("/api/v1/work-materials/{material}"), &[401, 402, 601, 701]),
        ("/api/v1/work-materials/{id}/file", format!("/api/v1/work-materials/{material}/file"), &[401, 402, 601, 701]),
        ("/roles/{id}", format!("/roles/{role}"), &[202]),
        ("/roles/{id}/delete", format!("/roles/{role}/delete"), &[202]),
        ("/accounts/{id}/roles", format!("/accounts/{deputy}/roles"), &[202]),
        ("/api/v1/roles/{id}", format!("/api/v1/roles/{role}"), &[202]),
        ("/api/v1/accounts/{id}/roles", format!("/api/v1/accounts/{deputy}/roles"), &[202]),
    ] {
        fixtures.insert(route, only(path, viewers));
    }
    let staff_id = jijiao::demo::demo_id_number(VICTIM, 102);
    let form = |pairs: &[(&'static str, &str)]| Body::Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
    let material = vec![("year", "2026".to_owned()), ("category", "guide".to_owned()), ("title", "改过的材料".to_owned())];
    let bodies = BTreeMap::from([
        ("/accounts/{id}/status", form(&[("status", "disabled")])),
        ("/api/v1/accounts/{id}/status", Body::Json(json!({"status": "disabled"}))),
        ("/basic-data/{kind}", form(&[("code", "sweep"), ("name", "新条目")])),
        ("/basic-data/{kind}/{code}", form(&[("name", "改过的名称")])),
        ("/api/v1/basic-data/{kind}", Body::Json(json!({"code": "sweep", "name": "新条目"}))),
        ("/api/v1/basic-data/{kind}/{code}", Body::Json(json!({"name": "改过的名称"}))),
        ("/requirements/{year}", form(&[("title_level", "*"), ("public", "1"), ("professional", "1"), ("total", "2")])),
        ("/api/v1/requirements/{year}", Body::Json(json!({"rows": [{"title_level": "*", "public": 1, "professional": 1, "total": 2}]}))),
        ("/roles/{id}", form(&[("name", "改过的角色"), ("permissions", "registrations:review")])),
        ("/roles/{id}/delete", form(&[("reassign", "unit_admin")])),
        ("/accounts/{id}/roles", form(&[("roles", "unit_admin")])),
        ("/api/v1/roles/{id}", Body::Json(json!({"name": "改过的角色", "permissions": ["registrations:review"]}))),
        ("/api/v1/accounts/{id}/roles", Body::Json(json!({"roles": ["unit_admin"]}))),
        ("/claims/{id}/attachments", Body::Upload(vec![], "file")),
        ("/api/v1/claims/{id}/attachments", Body::Upload(vec![], "file")),
        (
            "/api/v1/claims/{id}",
            Body::Json(json!({"year": 2025, "activity": "patent", "choice": "hr_bureau",
                              "fields": {"subject": "professional", "name": "改过的专利", "start_date": "2025-03-01", "end_date": "2025-03-05"}})),
        ),
        ("/classes/{id}/scores/import", Body::Upload(vec![], "file")),
        ("/api/v1/classes/{id}/scores/import", Body::Upload(vec![], "file")),
        ("/api/v1/classes/{id}/scores", Body::Json(json!({"id_number": staff_id, "score": 80}))),
        ("/api/v1/classes/{id}/scores/{score}", Body::Json(json!({"score": 81}))),
        ("/api/v1/classes/{id}/scores/delete", Body::Json(json!({"ids": [score]}))),
        (
            "/api/v1/classes/{id}",
            Body::Json(json!({"plan_id": plan, "name": "改过的班", "capacity": 10, "start_date": "2025-05-01", "end_date": "2025-05-02"})),
        ),
        ("/api/v1/declarations/{id}/verdicts", Body::Json(json!({"all": true, "verdict": "pass"}))),
        ("/departments/{id}/rename", form(&[("name", "改过的科室")])),
        ("/api/v1/feedback/{id}/reply", Body::Json(json!({"text": "已收到", "close": true}))),
        ("/filings/{id}/roster", Body::Upload(vec![], "file")),
        ("/materials/{id}", Body::Upload(material.clone(), "file")),
        ("/api/v1/work-materials/{id}", Body::Upload(material, "file")),
        ("/orgs/{id}/departments", form(&[("name", "新科室")])),
        ("/api/v1/orgs/{id}/departments", Body::Json(json!({"name": "新科室"}))),
        ("/api/v1/orgs/{id}/changes", Body::Json(json!({"fields": {"contact_name": "改过的联系人"}}))),
        ("/orgs/{id}/super-admin", form(&[("account_id", &hospital_admin_account.to_string())])),
        ("/api/v1/orgs/{id}/super-admin", Body::Json(json!({"account_id": hospital_admin_account}))),
        ("/api/v1/subjects/{id}", Body::Json(json!({"name": "改过的科目", "year": 2026}))),
        ("/todos/{id}/proof", Body::Upload(vec![], "file")),
        ("/api/v1/todos/{id}/proof", Body::Upload(vec![], "file")),
        ("/api/v1/todos/{id}/review", Body::Json(json!({"item_ids": [item], "decision": "accept"}))),
    ]);
    Victim { fixtures, bodies, secrets }
}

/// The route templates the server serves, read from its router: axum lists no routes, but its router's
/// debug form names every path template (`RouteId(n): "/claims/{id}"`).
fn served_routes(s: &TestServer) -> BTreeSet<String> {
    let debug = format!("{:?}", jijiao::app::router(s.state.clone()));
    let re = regex::Regex::new(r#"RouteId\(\d+\): "(/[^"]*)""#).unwrap();
    // Fallbacks (unknown paths) are axum's own catch-all routes, not the server's.
    re.captures_iter(&debug).map(|c| c[1].to_owned()).filter(|path| !path.contains("__private__axum")).collect()
}

struct Caller {
    label: String,
    client: Client,
    /// The portal it calls.
    tenant: &'static str,
    /// Its Henan demo number, for Henan accounts.
    henan: Option<u32>,
    csrf: String,
}

async fn caller(s: &TestServer, label: String, client: Client, tenant: &'static str, henan: Option<u32>) -> Caller {
    let html = client.get(s.url(tenant, "/login")).send().await.unwrap().text().await.unwrap();
    let page = client.get(s.url(tenant, "/account/password")).send().await.unwrap();
    // A signed-in caller's token is bound to its session: take it from a page it can open.
    let csrf = if page.status() == 200 { csrf_in(&page.text().await.unwrap()) } else { csrf_in(&html) };
    Caller { label, client, tenant, henan, csrf }
}

/// The victim tenant's row counts in the tables a request could change, and the counts by status that a
/// decision or a disabled account would change (other tenants may change their own rows through their
/// own portals).
pub(crate) async fn fingerprint(s: &TestServer) -> String {
    const TABLES: &str = "accounts approvals blobs certificates change_requests claim_attachments claims class_declarations \
        class_scores credits declaration_students exemptions feedback filing_rosters institution_reports messages notices orgs people \
        todo_items todos training_classes training_filings training_plans training_subjects transfers work_materials basic_data platforms year_requirements custom_roles casbin_rules";
    let counts = TABLES
        .split_whitespace()
        .map(|t| format!("(SELECT COUNT(*) FROM {t} WHERE tenant_id = '{VICTIM}')"))
        .collect::<Vec<_>>()
        .join(" || '/' || ");
    let statuses = format!(
        "(SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND tenant_id = '{VICTIM}') || '/' || \
         (SELECT COUNT(*) FROM accounts WHERE status = 'active' AND tenant_id = '{VICTIM}')"
    );
    let (value,): (String,) = s.db.one(jijiao::db::q(format!("SELECT {counts} || '/' || {statuses}"))).await.expect("fingerprint");
    value
}

async fn sweep_every_route(s: TestServer) {
    let victim = victim(&s).await;
    let routes = served_routes(&s);
    assert!(routes.len() > 200, "the router's routes were read: {}", routes.len());
    let missing: Vec<_> = routes.iter().filter(|r| !victim.fixtures.contains_key(r.as_str())).collect();
    assert!(missing.is_empty(), "routes without a fixture in the sweep (give each a victim's path and who may see it): {missing:#?}");
    let stale: Vec<_> = victim.fixtures.keys().filter(|r| !routes.contains(**r)).collect();
    assert!(stale.is_empty(), "fixtures for routes the server does not serve: {stale:#?}");

    let mut callers = vec![caller(&s, "匿名".into(), s.client(), VICTIM, None).await];
    for (user_type, seq) in HUNAN {
        callers.push(caller(&s, format!("湖南 {user_type} {seq}"), s.demo(OTHER, user_type, seq).await, OTHER, None).await);
    }
    // A Hunan session presented to Henan's portal.
    callers.push(caller(&s, "湖南 system 701 在河南".into(), s.demo(OTHER, "system", 701).await, VICTIM, None).await);
    for (user_type, seq) in HENAN {
        callers.push(caller(&s, format!("河南 {user_type} {seq}"), s.demo(VICTIM, user_type, seq).await, VICTIM, Some(seq)).await);
    }

    let before = fingerprint(&s).await;

    let victim = Arc::new(victim);
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut calls = tokio::task::JoinSet::new();
    let methods = [Method::GET, Method::POST, Method::PUT, Method::DELETE];
    for caller in callers.into_iter().map(Arc::new) {
        for (route, (path, access)) in victim.fixtures.iter() {
            let refused_only = match (access, caller.henan) {
                (Access::Anonymous, _) if caller.label != "匿名" => continue,
                (Access::Only(viewers) | Access::Shared(viewers), Some(seq)) if viewers.contains(&seq) => continue,
                (Access::Only(_), _) => true,
                (Access::Shared(_), Some(_)) => true,
                // Another tenant on its own portal gets its own rows for the same code.
                (Access::Shared(_), None) => caller.tenant == VICTIM,
                _ => false,
            };
            for method in methods.clone() {
                let (caller, victim, limit, s_base) = (caller.clone(), victim.clone(), limit.clone(), s.base.clone());
                let (route, path) = (route.to_string(), path.clone());
                let body = victim.bodies.get(route.as_str()).cloned();
                calls.spawn(async move {
                    let _permit = limit.acquire().await.unwrap();
                    let url = format!("{s_base}/t/{}{path}", caller.tenant);
                    let mut request = caller.client.request(method.clone(), &url);
                    let csrf = ("csrf_token", caller.csrf.clone());
                    if method != Method::GET {
                        request = match (body.clone(), path.starts_with("/api/")) {
                            (Some(Body::Json(value)), _) => request.json(&value),
                            (Some(Body::Form(mut fields)), _) => {
                                fields.push(csrf);
                                request.form(&fields)
                            }
                            (Some(Body::Upload(fields, file)), _) => {
                                let form = fields.into_iter().chain([csrf]).fold(Form::new(), |form, (k, v)| form.text(k, v));
                                request.multipart(form.part(file, Part::bytes(PDF.to_vec()).file_name("证明.pdf")))
                            }
                            (None, true) => request.json(&json!({})),
                            (None, false) => request.form(&[csrf]),
                        };
                    }
                    let res = request.send().await.unwrap();
                    let status = res.status().as_u16();
                    let location = res.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned();
                    let (body_text, decoded) = readable_text(res.bytes().await.unwrap().to_vec()).await;
                    let mut faults = Vec::new();
                    let call = format!("{} {method} {route} ({path})", caller.label);
                    if status >= 500 {
                        faults.push(format!("{call}: {status} {}", body_text.chars().take(200).collect::<String>()));
                    }
                    for secret in &victim.secrets {
                        let sees = caller.henan.is_some_and(|seq| secret.viewers.contains(&seq));
                        if !sees && body_text.contains(&secret.marker) {
                            faults.push(format!("{call}: {status} answers {:?}", secret.marker));
                        }
                    }
                    let outcome = match status {
                        401 | 403 | 404 | 405 => "refused",
                        400 | 413 | 415 | 422 => "refused before parsing",
                        300..=399 if location.contains("/login") => "refused",
                        _ => "answered",
                    };
                    // A well-formed change to someone else's object is refused for who asks, not for what it says.
                    if refused_only && body.is_some() && method != Method::GET && outcome == "refused before parsing" {
                        faults.push(format!(
                            "{call}: {status} validated before authorizing: {}",
                            body_text.chars().take(200).collect::<String>()
                        ));
                    }
                    if refused_only && outcome == "answered" {
                        faults.push(format!("{call}: {status} {location} {}", body_text.chars().take(200).collect::<String>()));
                    }
                    (refused_only.then_some(outcome), decoded, faults)
                });
            }
        }
    }
    let mut faults = Vec::new();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    while let Some(done) = calls.join_next().await {
        let (outcome, decoded, found) = done.unwrap();
        total += 1;
        if let Some(kind) = decoded {
            *tally.entry(kind).or_default() += 1;
        }
        if let Some(outcome) = outcome {
            *tally.entry(outcome).or_default() += 1;
        }
        faults.extend(found);
    }
    faults.sort();
    assert!(faults.is_empty(), "{} of {total} calls leaked or failed:\n{}", faults.len(), faults.join("\n"));
    assert_eq!(fingerprint(&s).await, before, "the sweep changed rows");
    // Exports other callers may take (their own statistics) were read cell by cell, so the spreadsheet
    // reading above is exercised, not assumed.
    assert!(tally.get("xlsx").is_some_and(|&n| n > 0), "no answer was read as a spreadsheet: {tally:?}");
    eprintln!("route sweep: {} routes, {total} calls; outcomes on victims' objects and answers read as files: {tally:?}", routes.len());
}

both!(every_route_refuses_everyone_outside_the_victims_scope, sweep_every_route);

/// An answer's text as its reader would see it: a spreadsheet's cells (an .xlsx is a zip of compressed
/// XML, where a name would not show in the raw bytes) and a PDF's text as poppler extracts it, after
/// the raw bytes themselves.
/// Also says which decoding it took.
async fn readable_text(bytes: Vec<u8>) -> (String, Option<&'static str>) {
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    if bytes.starts_with(b"PK\x03\x04") {
        use calamine::Reader;
        let Ok(mut book) = calamine::Xlsx::new(std::io::Cursor::new(bytes)) else { return (raw, None) };
        let cells: Vec<String> = book
            .worksheets()
            .into_iter()
            .flat_map(|(name, range)| std::iter::once(name).chain(range.rows().flatten().map(ToString::to_string).collect::<Vec<_>>()))
            .collect();
        return (format!("{raw}\n{}", cells.join("\n")), Some("xlsx"));
    }
    if bytes.starts_with(b"%PDF") {
        let text = tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("answer.pdf");
            std::fs::write(&file, &bytes).unwrap();
            // A PDF poppler cannot read (the tiny fixture attachments) is judged by its raw bytes.
            std::process::Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&file).arg("-").output().ok().filter(|o| o.status.success())
        })
        .await
        .unwrap();
        return match text {
            Some(output) => (format!("{raw}\n{}", String::from_utf8_lossy(&output.stdout)), Some("pdf")),
            None => (raw, None),
        };
    }
    (raw, None)
}

/// The OpenAPI document describes the API the router serves: every API path and no other, every
/// documented method served, the `{tenant}` parameter a string everywhere, operation ids unique, and
/// every operation's success declares what it answers (a schema, or a file's media type; 204 has none),
/// so a client can be generated from the document and schemathesis can hold each answer to it.
async fn the_document_describes_the_served_api(s: TestServer) {
    let (status, document) = json_of(s.client().get(format!("{}/api/openapi.json", s.base)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let served: BTreeSet<String> = served_routes(&s)
        .iter()
        .filter_map(|route| route.strip_prefix("/api/v1"))
        .filter(|route| !route.is_empty())
        .map(str::to_owned)
        .collect();
    let paths = document["paths"].as_object().expect("paths");
    let documented: BTreeSet<String> = paths
        .keys()
        .map(|path| path.strip_prefix("/t/{tenant}/api/v1").unwrap_or_else(|| panic!("{path} is not a tenant API path")).to_owned())
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "served but not documented: {undocumented:#?}");
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(unserved.is_empty(), "documented but not served: {unserved:#?}");

    // Every reference resolves; an approval's subject is one of the registered kinds' subject schemas
    // (kinds of one shape share theirs), and its trail is typed.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let schemas = &document["components"]["schemas"];
    let mut all = Vec::new();
    refs(&document, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} is not a component"));
        assert!(schemas.get(name).is_some(), "{r} does not resolve");
    }
    let detail = &schemas["ApprovalDetail"]["properties"];
    let mut subjects = Vec::new();
    refs(&detail["subject"], &mut subjects);
    let subjects: Vec<&str> = subjects.iter().map(|r| r.trim_start_matches("#/components/schemas/")).collect();
    assert_eq!(
        subjects,
        [
            "RegistrationSubject",
            "ClaimRecord",
            "ExemptionSubject",
            "PlanDetail",
            "DeclarationWithPlan",
            "FilingHistory",
            "RosterSubject",
            "TransferDetail",
            "ChangeSubject",
            "ReportDetail"
        ]
    );
    let which = detail["subject"]["description"].as_str().unwrap();
    assert!(which.contains("ChangeSubject for `person_change`, `org_change`, `parent_change`"), "{which}");
    assert_eq!(detail["trail"]["items"]["$ref"], "#/components/schemas/AuditEntry");

    let placeholder = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
    let mut ids = BTreeSet::new();
    let client = s.client();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_owned()), "{method} {path}: operationId {id} repeats");
            let tenant: Vec<_> = operation["parameters"].as_array().into_iter().flatten().filter(|p| p["name"] == "tenant").collect();
            assert_eq!(tenant.len(), 1, "{method} {path}: one tenant parameter");
            assert_eq!((tenant[0]["in"].as_str(), tenant[0]["schema"]["type"].as_str()), (Some("path"), Some("string")), "{method} {path}");
            let successes: Vec<_> = operation["responses"].as_object().unwrap().iter().filter(|(code, _)| code.starts_with('2')).collect();
            assert!(!successes.is_empty(), "{method} {path}: no success response");
            for (code, response) in successes {
                let content = response["content"].as_object();
                if code == "204" {
                    assert!(content.is_none(), "{method} {path}: 204 with a body");
                    continue;
                }
                let content = content.unwrap_or_else(|| panic!("{method} {path}: {code} declares no body"));
                for (media, body) in content {
                    if media == "application/json" {
                        assert!(body["schema"].is_object(), "{method} {path}: {code} JSON without a schema");
                    }
                }
            }
            // Anonymous, with ids that exist nowhere: refused or not found, but never "method not allowed".
            let concrete = placeholder.replace_all(path.strip_prefix("/t/{tenant}/api/v1").unwrap(), "1");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut request = client.request(method.clone(), s.api(VICTIM, &concrete));
            if method != Method::GET {
                request = request.json(&json!({}));
            }
            let status = request.send().await.unwrap().status();
            assert_ne!(status, 405, "{method} {path} is documented but not served");
        }
    }
}

both!(the_openapi_document_describes_the_served_api, the_document_describes_the_served_api);

/// Property-based calls of the whole API, generated from its document by schemathesis (PyPI, installed by
/// .ci/run; outside CI the test is skipped with a message when it is missing), as Henan's system
/// administrator: no 5xx, no status, content type or body the document does not declare, no request the
/// schema forbids accepted, and the stateful checks (a deleted object stays gone, a created one is
/// there, authentication is not ignored). Not checked yet: that every schema-valid request is accepted
/// (the schemas are looser than the validation behind them).
async fn the_api_holds_under_generated_calls(s: TestServer) {
    let python = std::env::var("JIJIAO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let installed = std::process::Command::new(&python).args(["-c", "import schemathesis"]).status().is_ok_and(|status| status.success());
    if !installed {
        assert!(std::env::var("CI").is_err(), "CI must install schemathesis (see .ci/run)");
        eprintln!("skipping the generated API calls: `{python} -c 'import schemathesis'` fails (pip install schemathesis)");
        return;
    }
    let cookie = s.demo_session_cookie(VICTIM, "system", 701).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    // Every path names the tenant: generated codes would only ever meet "no such tenant".
    std::fs::write(&config, format!("[parameters]\n\"path.tenant\" = \"{VICTIM}\"\n")).unwrap();
    let document = format!("{}/api/openapi.json", s.base);
    let cookie_header = format!("Cookie: {cookie}");
    // CI replays one seed, so a landing is never decided by luck; elsewhere every run explores new
    // inputs (JIJIAO_TEST_SCHEMATHESIS_SEED replays a reported one).
    let seed = std::env::var("JIJIAO_TEST_SCHEMATHESIS_SEED").ok().or_else(|| std::env::var("CI").is_ok().then(|| "20261206".to_owned()));
    let seed_args = seed.iter().flat_map(|seed| ["--seed".to_owned(), seed.clone()]);
    let args = [
        "--config-file",
        config.to_str().unwrap(),
        "run",
        &document,
        "--exclude-checks",
        "positive_data_acceptance",
        // Signing out or changing the password would end the run's session.
        "--exclude-path-regex",
        "/session|password",
        "--max-examples",
        "10",
        "--workers",
        "2",
        "--header",
        &cookie_header,
    ];
    let run = tokio::process::Command::new(&python)
        .args(["-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"])
        .args(args)
        .args(seed_args)
        .current_dir(dir.path())
        .output()
        .await
        .expect("schemathesis runs");
    let output = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "schemathesis found failures:\n{output}\n{}", String::from_utf8_lossy(&run.stderr));
    let summary: Vec<_> = output.lines().filter(|line| line.contains(" generated, ") || line.starts_with("Seed")).map(str::trim).collect();
    eprintln!("schemathesis: {}", summary.join("; "));
}

both!(the_api_holds_under_calls_generated_from_its_document, the_api_holds_under_generated_calls);
