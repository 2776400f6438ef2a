//! Shared steps of the flows.

use jijiao_tests::{TestServer, id_number, json_of};
use reqwest::Client;
use serde_json::{Value, json};

/// The id of a demo org found through the public picker (`GET /orgs`).
pub async fn org_id(s: &TestServer, tenant: &str, kind: &str, name_part: &str) -> i64 {
    let res = s.client().get(s.api(tenant, "/orgs")).query(&[("kind", kind), ("q", name_part)]).send().await.unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    body["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("no {kind} named like {name_part} in {tenant}: {body}"))
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
