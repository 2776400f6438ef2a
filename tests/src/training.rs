//! Shared steps for tests of training institutions: subjects and approved plans to build on.

use serde_json::{Value, json};

use crate::{TestServer, json_of};

/// The year the helpers' subjects and plans are for.
pub const YEAR: i64 = 2025;

/// The demo admin keeping subjects of a kind: the province HR department (601) the public ones, the
/// demo authority (401) the professional ones.
pub fn keeper(subject_kind: &str) -> (&'static str, u32) {
    if subject_kind == "public" { ("province", 601) } else { ("authority", 401) }
}

/// The id of an enabled subject of `subject_kind` for [`YEAR`] named `name`, created by its keeper when
/// missing.
pub async fn subject(s: &TestServer, tenant: &str, subject_kind: &str, name: &str) -> i64 {
    let (user_type, seq) = keeper(subject_kind);
    let admin = s.demo(tenant, user_type, seq).await;
    let (status, body) = json_of(
        admin.get(s.api(tenant, "/subjects")).query(&[("mine", "1"), ("year", &YEAR.to_string()), ("q", name)]).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    if let Some(found) = body["items"].as_array().and_then(|items| items.iter().find(|i| i["name"] == name)) {
        return found["id"].as_i64().unwrap();
    }
    let (status, body) =
        json_of(admin.post(s.api(tenant, "/subjects")).json(&json!({"name": name, "year": YEAR})).send().await.unwrap()).await;
    assert_eq!(status, 201, "creating subject {name}: {body}");
    body["id"].as_i64().unwrap()
}

/// A valid plan body for a subject (Henan's professional plans go to the authority).
pub fn plan_body(name: &str, subject_kind: &str, subject_id: i64) -> Value {
    let mut body = json!({
        "name": name, "subject_kind": subject_kind, "subject_id": subject_id, "year": YEAR, "credit_year": YEAR,
        "mode": "face_to_face", "planned_count": 60, "hours": "24.5", "start_date": "2025-05-10", "end_date": "2025-05-12",
        "place": "培训中心一号教室"
    });
    if subject_kind == "professional" {
        body["choice"] = json!("authority");
    }
    body
}

/// Which demo admin reviews a route step, by the step's role.
fn reviewer(step_role: &str) -> (&'static str, u32) {
    match step_role {
        "hr_admin" => ("hr", 501),
        "province_admin" => ("province", 601),
        _ => ("authority", 401),
    }
}

/// Creates a plan of `subject_kind` as institution 301 (a subject is created when needed), approves
/// every step of its route as whoever's queue it lands in, and returns the approved plan's id.
pub async fn approved_plan(s: &TestServer, tenant: &str, subject_kind: &str) -> i64 {
    let subject_id = subject(s, tenant, subject_kind, &format!("测试{}科目", if subject_kind == "public" { "公需" } else { "专业" })).await;
    let institution = s.demo(tenant, "institution", 301).await;
    let name = format!("测试培训计划 {}", rand::random::<u32>());
    let (status, plan) =
        json_of(institution.post(s.api(tenant, "/plans")).json(&plan_body(&name, subject_kind, subject_id)).send().await.unwrap()).await;
    assert_eq!(status, 201, "{plan}");
    let id = plan["id"].as_i64().unwrap();
    for _ in 0..5 {
        let (status, detail) = json_of(institution.get(s.api(tenant, &format!("/plans/{id}"))).send().await.unwrap()).await;
        assert_eq!(status, 200, "{detail}");
        if detail["status"] == "approved" {
            return id;
        }
        let step = detail["steps"].as_array().unwrap().iter().find(|st| st["status"] == "pending").cloned().expect("a pending step");
        let (user_type, seq) = reviewer(step["step_role"].as_str().unwrap_or(""));
        let admin = s.demo(tenant, user_type, seq).await;
        let (status, body) = json_of(
            admin
                .post(s.api(tenant, "/approvals/decisions"))
                .json(&json!({"ids": [step["approval_id"]], "decision": "approve"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "approving plan {id} as {user_type} {seq}: {body}");
    }
    panic!("plan {id} was not approved after five steps");
}
