//! Shared steps of the flows.

use jijiao::db::q;
use jijiao_tests::{TestServer, id_number, json_of};
use reqwest::Client;
use reqwest::multipart::Form;
use serde_json::{Value, json};

/// The id of a demo org found through the public picker (`GET /orgs`).
pub async fn org_id(s: &TestServer, tenant: &str, kind: &str, name_part: &str) -> i64 {
    let res = s.client().get(s.api(tenant, "/orgs")).query(&[("kind", kind), ("q", name_part)]).send().await.unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    body["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("no {kind} named like {name_part} in {tenant}: {body}"))
}

/// Grants a credit the way every caller does (claims, platforms, imports): through `grant_tx`.
pub async fn grant(s: &TestServer, tenant: &str, person: i64, year: i64, subject: &str, hours: i64, reference: &str) -> i64 {
    let mut tx = s.db.begin().await.unwrap();
    let credit = jijiao::hours::NewCredit {
        person_id: person,
        year,
        subject,
        hours,
        source: "online",
        source_ref: reference,
        course: None,
        granted_by: None,
    };
    let id = jijiao::hours::grant_tx(&mut tx, tenant, credit).await.unwrap().expect("a new credit");
    tx.commit().await.unwrap();
    id
}

/// The person of a demo staff account (`seq` 101 or 102).
pub async fn demo_person(s: &TestServer, tenant: &str, seq: u32) -> i64 {
    let id = jijiao::demo::demo_id_number(tenant, seq);
    s.db.scalar(q("SELECT id FROM people WHERE tenant_id = $1 AND id_number = $2").bind(tenant).bind(id)).await.unwrap()
}

/// A complete, valid staff registration for a unit (seeds 001/002 fields).
pub fn staff_form(unit_id: i64, id: &str, name: &str) -> Value {
    let gender = jijiao::ids::gender_of(id);
    json!({
        "name": name, "id_number": id, "password": "Passw0rd2026", "gender": gender, "ethnicity": "01",
        "phone": "13812345678", "email": format!("{}@example.com", &id[12..]), "native_place": "湖南长沙",
        "education": "bachelor", "major": "临床医学", "school": "中南大学", "graduated_on": "2010-07-01",
        "unit_id": unit_id, "title": "主治医师", "title_level": "intermediate", "title_date": "2015-09-01", "post": "technical"
    })
}

pub fn new_id(seq: u32) -> String {
    id_number("430104", "19900315", seq)
}

pub async fn register_staff(s: &TestServer, tenant: &str, form: &Value) -> (u16, Value) {
    json_of(s.client().post(s.api(tenant, "/registrations/staff")).json(form).send().await.unwrap()).await
}

pub async fn login_status(s: &TestServer, tenant: &str, user_type: &str, id: &str, password: &str) -> (u16, Value) {
    json_of(
        s.client()
            .post(s.api(tenant, "/session"))
            .json(&json!({"user_type": user_type, "id_number": id, "password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub async fn pending(client: &Client, s: &TestServer, tenant: &str) -> Vec<Value> {
    let (status, body) = json_of(client.get(s.api(tenant, "/approvals?kind=registration")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

pub async fn decide(client: &Client, s: &TestServer, tenant: &str, ids: &[i64], decision: &str, reason: Option<&str>) -> (u16, Value) {
    json_of(
        client
            .post(s.api(tenant, "/approvals/decisions"))
            .json(&json!({"ids": ids, "decision": decision, "reason": reason}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The smallest PDF that type sniffing accepts, as a licence scan.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A complete organisation registration (multipart) without its licence part.
pub fn org_form(kind: &str, name: &str, credit: &str, region: &str, admin_id: &str) -> Form {
    Form::new()
        .text("kind", kind.to_owned())
        .text("name", name.to_owned())
        .text("credit_code", credit.to_owned())
        .text("region_code", region.to_owned())
        .text("contact_phone", "13700000000")
        .text("address", "芙蓉中路 100 号")
        .text("admin_name", "周敏")
        .text("admin_id_number", admin_id.to_owned())
        .text("admin_password", "Admin2026ok")
        .text("admin_phone", "13700000001")
        .text("admin_email", "admin@example.com")
}

pub async fn bureau(s: &TestServer, tenant: &str, region: &str) -> i64 {
    s.db.scalar(q("SELECT id FROM orgs WHERE tenant_id = $1 AND ext_key = $2").bind(tenant).bind(format!("hr:{region}"))).await.unwrap()
}

/// A county bureau's admin, created the way an operator bootstraps admins.
pub async fn county_admin(s: &TestServer, tenant: &str, region: &str, seq: u32) -> reqwest::Client {
    let org = bureau(s, tenant, region).await;
    let id = id_number(region, "19850505", seq);
    jijiao::auth::admin::create(&s.db, tenant, org, "hr_admin", &id, "县局管理员", "County2026ok").await.expect("admin create");
    s.login(tenant, "hr", &id, "County2026ok").await
}

/// Extracts the CSRF token from a rendered form.
pub fn csrf_in(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).map(|c| c[1].to_owned()).expect("a form with a CSRF token")
}

/// Copies a folder tree (a tenants folder to edit in a test).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
