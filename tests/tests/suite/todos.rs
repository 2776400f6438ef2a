//! To-dos (issue 4 §4, seed 001 §5): a unit admin assigns a training to staff, staff upload proof, the
//! admin accepts or returns it; both see the state; nobody else sees anything.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::PDF;

async fn upload(client: &Client, s: &TestServer, tenant: &str, id: i64) -> u16 {
    let form = Form::new().part("file", Part::bytes(PDF.to_vec()).file_name("结业证书.pdf"));
    client.post(s.api(tenant, &format!("/todos/{id}/proof"))).multipart(form).send().await.unwrap().status().as_u16()
}

async fn assign_upload_accept(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, me) = json_of(staff.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let person = me["account"]["person_id"].as_i64().unwrap();
    let todo = json!({"kind": "training", "title": "2025 年师德师风专题培训", "description": "请上传结业证书", "due_on": "2025-12-31", "person_ids": [person]});

    // Bad input changes nothing; staff cannot assign; another unit cannot assign this person.
    let (status, body) =
        json_of(unit.post(s.api("hunan", "/todos")).json(&json!({"kind": "x", "title": "", "person_ids": []})).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["kind"].is_string() && body["fields"]["title"].is_string() && body["fields"]["person_ids"].is_string(),
        "{body}"
    );
    assert_eq!(staff.post(s.api("hunan", "/todos")).json(&todo).send().await.unwrap().status(), 403);
    let other_unit = s.demo("hunan", "unit", 202).await;
    assert_eq!(other_unit.post(s.api("hunan", "/todos")).json(&todo).send().await.unwrap().status(), 422);
    assert_eq!(s.count("SELECT COUNT(*) FROM todos").await, 0);

    let (status, body) = json_of(unit.post(s.api("hunan", "/todos")).json(&todo).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (_, list) = json_of(staff.get(s.api("hunan", "/todos")).send().await.unwrap()).await;
    assert_eq!((list["total"].as_i64(), list["items"][0]["status"].as_str()), (Some(1), Some("open")), "{list}");
    let (_, messages) = json_of(staff.get(s.api("hunan", "/messages")).send().await.unwrap()).await;
    assert!(messages["items"].as_array().unwrap().iter().any(|m| m["title"] == "新的待办事项"), "{messages}");

    assert_eq!(upload(&staff, &s, "hunan", id).await, 204);
    let (_, detail) = json_of(unit.get(s.api("hunan", &format!("/todos/{id}"))).send().await.unwrap()).await;
    assert_eq!(detail["items"][0]["status"], "uploaded", "{detail}");
    let item = detail["items"][0]["id"].as_i64().unwrap();
    let proof = s.api("hunan", &format!("/todos/{id}/items/{item}/proof"));
    assert_eq!(unit.get(&proof).send().await.unwrap().bytes().await.unwrap().as_ref(), PDF);

    // Returned with a reason, uploaded again, accepted; after that nothing more to upload.
    let review = |decision: &str, reason: Option<&str>| json!({"item_ids": [item], "decision": decision, "reason": reason});
    assert_eq!(unit.post(s.api("hunan", &format!("/todos/{id}/review"))).json(&review("return", None)).send().await.unwrap().status(), 422);
    assert_eq!(
        unit.post(s.api("hunan", &format!("/todos/{id}/review")))
            .json(&review("return", Some("证书不清晰")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (_, mine) = json_of(staff.get(s.api("hunan", &format!("/todos/{id}"))).send().await.unwrap()).await;
    assert_eq!((mine["items"][0]["status"].as_str(), mine["items"][0]["note"].as_str()), (Some("returned"), Some("证书不清晰")));
    assert_eq!(
        unit.post(s.api("hunan", &format!("/todos/{id}/review"))).json(&review("accept", None)).send().await.unwrap().status(),
        409,
        "nothing uploaded since"
    );
    assert_eq!(upload(&staff, &s, "hunan", id).await, 204);
    assert_eq!(unit.post(s.api("hunan", &format!("/todos/{id}/review"))).json(&review("accept", None)).send().await.unwrap().status(), 200);
    assert_eq!(upload(&staff, &s, "hunan", id).await, 409);

    // Nobody else sees it or its proof.
    let others = [
        ("hunan", s.demo("hunan", "staff", 102).await),
        ("hunan", other_unit),
        ("henan", s.demo("henan", "unit", 201).await),
        ("henan", s.demo("henan", "staff", 101).await),
    ];
    for (tenant, client) in &others {
        assert_eq!(client.get(s.api(tenant, &format!("/todos/{id}"))).send().await.unwrap().status(), 404, "{tenant}");
        assert_eq!(client.get(s.api(tenant, &format!("/todos/{id}/items/{item}/proof"))).send().await.unwrap().status(), 404, "{tenant}");
        let status =
            client.post(s.api(tenant, &format!("/todos/{id}/review"))).json(&review("return", Some("x"))).send().await.unwrap().status();
        assert!(status == 404 || status == 403, "{tenant}: {status}");
        assert!(upload(client, &s, tenant, id).await == 404 || upload(client, &s, tenant, id).await == 403);
        let (_, list) = json_of(client.get(s.api(tenant, "/todos")).send().await.unwrap()).await;
        assert_eq!(list["total"], 0, "{tenant}: {list}");
    }
    let (_, mine) = json_of(staff.get(s.api("hunan", &format!("/todos/{id}"))).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["status"], "accepted");
}
both!(assign_upload_accept, assign_upload_accept);
