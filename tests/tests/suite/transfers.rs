//! Staff transfers (issue 15 §1): 调出 by the sending unit, 调入审核 by the receiving side as the tenant's
//! plugin routes it, the person's ledger following them, and the old unit losing sight of them.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::*;

async fn demo_unit(s: &TestServer, tenant: &str, key: &str) -> i64 {
    s.count(&format!("SELECT id FROM orgs WHERE tenant_id = '{tenant}' AND ext_key = 'demo:unit:{key}'")).await
}

async fn start(client: &Client, s: &TestServer, tenant: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/transfers")).json(&body).send().await.unwrap()).await
}

async fn queue(client: &Client, s: &TestServer, tenant: &str) -> Vec<Value> {
    let (status, body) = json_of(client.get(s.api(tenant, "/approvals?kind=transfer")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn get(client: &Client, s: &TestServer, tenant: &str, path: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await
}

/// Hubei routes a transfer to the receiving unit's supervising department (the hospital has none, so its
/// HR bureau); on approval the person moves with their ledger, and the old unit loses sight of them.
async fn an_approved_transfer_moves_the_person_and_their_history(s: TestServer) {
    let hospital = demo_unit(&s, "hubei", "hospital").await;
    let person = demo_person(&s, "hubei", 101).await;
    let school_admin = s.demo("hubei", "unit", 201).await;
    let hospital_admin = s.demo("hubei", "unit", 202).await;
    let bureau = s.demo("hubei", "hr", 501).await;
    let staff = s.demo("hubei", "staff", 101).await;
    let credits_before = s.count(&format!("SELECT COUNT(*) FROM credits WHERE tenant_id = 'hubei' AND person_id = {person}")).await;
    assert_eq!(get(&hospital_admin, &s, "hubei", &format!("/staff/{person}/years")).await.0, 404, "not yet the hospital's");

    let (status, body) =
        start(&school_admin, &s, "hubei", json!({"person_id": person, "to_unit_id": hospital, "reason": "工作调动"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_i64().unwrap();
    // A second transfer while one waits: refused, nothing added.
    let (status, body) = start(&school_admin, &s, "hubei", json!({"person_id": person, "to_unit_id": hospital, "reason": "再次"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("transfer_pending")), "{body}");
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM transfers WHERE person_id = {person}")).await, 1);

    // Hubei: the receiving unit's supervising department decides, not the unit itself.
    assert!(queue(&hospital_admin, &s, "hubei").await.is_empty());
    let items = queue(&bureau, &s, "hubei").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let (status, detail) = get(&bureau, &s, "hubei", &format!("/approvals/{}", items[0]["id"])).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subject"]["transfer"]["to_unit_id"], hospital);
    // Both sides see it in their records; in and out are told apart.
    let (_, out) = get(&school_admin, &s, "hubei", "/transfers?direction=out&status=pending").await;
    assert_eq!(out["total"], 1, "{out}");
    let (_, into) = get(&school_admin, &s, "hubei", "/transfers?direction=in&status=pending").await;
    assert_eq!(into["total"], 0, "{into}");
    let (_, into) = get(&hospital_admin, &s, "hubei", "/transfers?direction=in&status=pending").await;
    assert_eq!(into["total"], 1, "{into}");
    assert_eq!(into["items"][0]["status_label"], "待审核");
    assert!(!into["items"][0]["id_number"].as_str().unwrap().contains("19800101"), "ID numbers are masked: {into}");

    let (status, body) = decide(&bureau, &s, "hubei", &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = get(&staff, &s, "hubei", "/me").await;
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM credits WHERE tenant_id = 'hubei' AND person_id = {person}")).await, credits_before);
    // The old unit no longer sees the person; the new one sees the whole history.
    assert_eq!(get(&school_admin, &s, "hubei", &format!("/staff/{person}/years")).await.0, 404);
    let (status, years) = get(&hospital_admin, &s, "hubei", &format!("/staff/{person}/years")).await;
    assert_eq!(status, 200, "{years}");
    let (_, out) = get(&school_admin, &s, "hubei", "/transfers?direction=out&status=approved").await;
    assert_eq!(out["items"][0]["id"], id, "the sending side keeps the record: {out}");
    assert_eq!(me["profile"]["unit_id"], hospital, "{me}");
    // The person was told.
    let (_, messages) = get(&staff, &s, "hubei", "/messages").await;
    assert!(messages.to_string().contains("人员调转已完成"), "{messages}");
}
both!(an_approved_transfer_moves_the_person_and_their_history, an_approved_transfer_moves_the_person_and_their_history);

/// Hunan routes to the receiving unit's own admin; a refusal leaves the person where they were, and the
/// sending side can start again. Bad input changes nothing.
async fn refused_and_bad_transfers_change_nothing(s: TestServer) {
    let (school, hospital) = (demo_unit(&s, "hunan", "school").await, demo_unit(&s, "hunan", "hospital").await);
    let person = demo_person(&s, "hunan", 101).await;
    let school_admin = s.demo("hunan", "unit", 201).await;
    let hospital_admin = s.demo("hunan", "unit", 202).await;
    let other_tenant_unit = demo_unit(&s, "henan", "hospital").await;

    for (body, field) in [
        (json!({"person_id": person, "to_unit_id": school, "reason": "同单位"}), "to_unit_id"),
        (json!({"person_id": person, "to_unit_id": other_tenant_unit, "reason": "跨省"}), "to_unit_id"),
        (json!({"person_id": person, "to_unit_id": hospital, "reason": "  "}), "reason"),
        (json!({"person_id": person, "to_unit_id": hospital, "reason": "日期", "effective_on": "2026-13-01"}), "effective_on"),
    ] {
        let (status, answer) = start(&school_admin, &s, "hunan", body).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    // Someone outside the caller's unit is nobody to it.
    let (status, _) = start(&hospital_admin, &s, "hunan", json!({"person_id": person, "to_unit_id": hospital, "reason": "抢人"})).await;
    assert_eq!(status, 404);
    let (status, _) = get(&school_admin, &s, "hunan", "/transfers?direction=sideways").await;
    assert_eq!(status, 422);
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM transfers WHERE person_id = {person}")).await, 0);

    let (status, body) = start(
        &school_admin,
        &s,
        "hunan",
        json!({"person_id": person, "to_unit_id": hospital, "reason": "工作调动", "effective_on": "2026-12-01"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // Another tenant's admins and the sending side's unrelated units get nothing.
    let henan_admin = s.demo("henan", "province", 601).await;
    assert!(matches!(get(&henan_admin, &s, "hunan", &format!("/transfers/{id}")).await.0, 401 | 403 | 404));
    assert_eq!(get(&henan_admin, &s, "henan", &format!("/transfers/{id}")).await.0, 404);
    let (_, list) = get(&henan_admin, &s, "henan", "/transfers").await;
    assert_eq!(list["total"], 1, "only Henan's own demo transfer: {list}");
    assert!(list["items"][0]["reason"].as_str().unwrap().contains("演示"), "{list}");

    // In the tenant, an admin without the transfer grant (the institution's) gets nothing either.
    let institution = s.demo("hunan", "institution", 301).await;
    assert_eq!(get(&institution, &s, "hunan", &format!("/transfers/{id}")).await.0, 403);
    assert_eq!(institution.post(s.api("hunan", &format!("/transfers/{id}/withdraw"))).send().await.unwrap().status(), 403);
    let items = queue(&hospital_admin, &s, "hunan").await;
    assert_eq!(items.len(), 1, "Hunan: the receiving unit's admin decides");
    let (status, body) = decide(&hospital_admin, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "reject", Some("编制已满")).await;
    assert_eq!(status, 200, "{body}");
    let (_, transfer) = get(&school_admin, &s, "hunan", &format!("/transfers/{id}")).await;
    assert_eq!(transfer["transfer"]["status"], "rejected", "{transfer}");
    assert_eq!(s.count(&format!("SELECT unit_id FROM people WHERE id = {person}")).await, school);
    assert!(transfer["trail"].to_string().contains("编制已满"), "{transfer}");

    // Started again and withdrawn by the sender before anyone decided.
    let (status, body) =
        start(&school_admin, &s, "hunan", json!({"person_id": person, "to_unit_id": hospital, "reason": "再次调动"})).await;
    assert_eq!(status, 201, "{body}");
    let again = body["id"].as_i64().unwrap();
    let withdraw = |client: &Client| client.post(s.api("hunan", &format!("/transfers/{again}/withdraw"))).send();
    assert_eq!(withdraw(&hospital_admin).await.unwrap().status(), 403, "only the sending side withdraws");
    assert_eq!(withdraw(&school_admin).await.unwrap().status(), 204);
    assert_eq!(withdraw(&school_admin).await.unwrap().status(), 409);
    assert!(queue(&hospital_admin, &s, "hunan").await.is_empty());
    assert_eq!(s.count(&format!("SELECT unit_id FROM people WHERE id = {person}")).await, school);

    // A draft claim goes with the person when a transfer is finally confirmed.
    let staff = s.demo("hunan", "staff", 101).await;
    let (status, claim) = json_of(
        staff
            .post(s.api("hunan", "/claims"))
            .json(&json!({"year": 2025, "activity": "patent", "fields": {"name": "一种教学演示装置", "start_date": "2025-03-01", "end_date": "2025-03-05"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    let (status, _) = start(&school_admin, &s, "hunan", json!({"person_id": person, "to_unit_id": hospital, "reason": "第三次"})).await;
    assert_eq!(status, 201);
    let items = queue(&hospital_admin, &s, "hunan").await;
    let (status, body) = decide(&hospital_admin, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.count(&format!("SELECT unit_id FROM claims WHERE id = {}", claim["id"])).await, hospital);
    assert_eq!(s.count(&format!("SELECT unit_id FROM people WHERE id = {person}")).await, hospital);
    assert_eq!(get(&school_admin, &s, "hunan", &format!("/staff/{person}/years")).await.0, 404);
}
both!(refused_and_bad_transfers_change_nothing, refused_and_bad_transfers_change_nothing);
