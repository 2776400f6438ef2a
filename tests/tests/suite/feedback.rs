//! Feedback (issue 18 §1, seed 001 §7): staff file it (with an attachment or without), the organisation
//! the tenant names replies and closes it, the filer reads the reply and gets a message; bad input,
//! other organisations and other tenants change and see nothing.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::*;

async fn get(client: &Client, s: &TestServer, tenant: &str, path: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await
}

async fn post(client: &Client, s: &TestServer, tenant: &str, path: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, path)).json(&body).send().await.unwrap()).await
}

/// Hunan: feedback goes to the provincial HR department, which replies, then closes it.
async fn feedback_is_answered_by_the_province(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let province = s.demo("hunan", "province", 601).await;
    let form = Form::new()
        .text("category", "illegal_training")
        .text("text", "某机构以培训名义收费后不组织培训。")
        .part("attachment", Part::bytes(PDF.to_vec()).file_name("收费凭证.pdf"));
    let (status, body) = json_of(staff.post(s.api("hunan", "/feedback")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = post(&staff, &s, "hunan", "/feedback", json!({"category": "suggestion", "text": "希望增加手机端。"})).await;
    assert_eq!(status, 201, "{body}");

    let (_, queue) = get(&province, &s, "hunan", "/feedback?status=open").await;
    assert_eq!(queue["total"], 2, "{queue}");
    let html = province.get(s.url("hunan", "/feedback")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("违规培训") && html.contains("某机构以培训名义收费后不组织培训。") && html.contains("待处理"), "{html}");
    let (status, item) = get(&province, &s, "hunan", &format!("/feedback/{id}")).await;
    assert_eq!(status, 200, "{item}");
    assert_eq!((item["category_label"].as_str(), item["attachment_name"].as_str()), (Some("违规培训"), Some("收费凭证.pdf")), "{item}");
    let res = province.get(s.api("hunan", &format!("/feedback/{id}/attachment"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    // The filer cannot answer their own feedback.
    assert_eq!(post(&staff, &s, "hunan", &format!("/feedback/{id}/reply"), json!({"text": "自己回复"})).await.0, 403);

    let (status, body) = post(&province, &s, "hunan", &format!("/feedback/{id}/reply"), json!({"text": "已转交市人社局核查。"})).await;
    assert_eq!(status, 204, "{body}");
    let (_, mine) = get(&staff, &s, "hunan", &format!("/feedback/{id}")).await;
    assert_eq!((mine["status"].as_str(), mine["reply"].as_str()), (Some("replied"), Some("已转交市人社局核查。")), "{mine}");
    let (status, _) =
        post(&province, &s, "hunan", &format!("/feedback/{id}/reply"), json!({"text": "核查属实，已处理。", "close": true})).await;
    assert_eq!(status, 204);
    let (status, body) = post(&province, &s, "hunan", &format!("/feedback/{id}/reply"), json!({"text": "再次回复"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("closed")), "{body}");
    let (_, mine) = get(&staff, &s, "hunan", "/feedback?status=closed").await;
    assert_eq!(mine["items"][0]["status_label"], "已办结", "{mine}");
    let (_, messages) = get(&staff, &s, "hunan", "/messages").await;
    assert!(messages.to_string().contains("核查属实，已处理。"), "{messages}");
    let html = staff.get(s.url("hunan", &format!("/feedback/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("核查属实，已处理。") && html.contains("已办结") && !html.contains("回复并办结"), "{html}");
}
both!(feedback_is_answered_by_the_province, feedback_is_answered_by_the_province);

/// Henan names the filer's HR bureau; bad input stores nothing; others see nothing.
async fn feedback_goes_where_the_tenant_says_and_nowhere_else(s: TestServer) {
    let staff = s.demo("henan", "staff", 101).await;
    let stored = "SELECT (SELECT COUNT(*) FROM feedback) + (SELECT COUNT(*) FROM blobs)";
    let before = s.count(stored).await;
    for (body, field) in [
        (json!({"category": "complaint", "text": "内容"}), "category"),
        (json!({"category": "platform", "text": "  "}), "text"),
        (json!({"category": "platform", "text": "长".repeat(1001)}), "text"),
    ] {
        let (status, answer) = post(&staff, &s, "henan", "/feedback", body).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let form = Form::new()
        .text("category", "platform")
        .text("text", "无法登录")
        .part("attachment", Part::bytes(b"MZ\x90\x00".to_vec()).file_name("a.pdf"));
    let (status, answer) = json_of(staff.post(s.api("henan", "/feedback")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, answer["code"].as_str()), (422, Some("bad_file_type")), "{answer}");
    assert_eq!(s.count(stored).await, before, "nothing stored");

    let (status, body) = post(&staff, &s, "henan", "/feedback", json!({"category": "platform", "text": "视频无法播放"})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let bureau = s.demo("henan", "hr", 501).await;
    let (_, queue) = get(&bureau, &s, "henan", "/feedback").await;
    assert_eq!(queue["total"], 1, "Henan: the staff member's HR bureau answers: {queue}");
    let province = s.demo("henan", "province", 601).await;
    assert_eq!(get(&province, &s, "henan", &format!("/feedback/{id}")).await.0, 404, "not sent to the province");
    assert_eq!(get(&province, &s, "henan", "/feedback").await.1["total"], 0);
    // Other staff and other tenants see nothing.
    let other = s.demo("henan", "staff", 102).await;
    assert_eq!(get(&other, &s, "henan", &format!("/feedback/{id}")).await.0, 404);
    let elsewhere = s.demo("hunan", "province", 601).await;
    assert_eq!(get(&elsewhere, &s, "hunan", &format!("/feedback/{id}")).await.0, 404);
    assert_eq!(post(&elsewhere, &s, "hunan", &format!("/feedback/{id}/reply"), json!({"text": "x"})).await.0, 404);
    let (status, _) =
        post(&bureau, &s, "henan", &format!("/feedback/{id}/reply"), json!({"text": "已联系平台处理。", "close": true})).await;
    assert_eq!(status, 204);
}
both!(feedback_goes_where_the_tenant_says_and_nowhere_else, feedback_goes_where_the_tenant_says_and_nowhere_else);
