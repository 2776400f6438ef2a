//! Notices (issue 18 §2, seed 001 §4 当地站内消息): an admin writes to its subtree — everyone, only staff,
//! only admins, or one organisation below it; recipients read them in the inbox with the messages, with
//! a detail page, read state and the header's unread count; the sender lists, counts reads and
//! withdraws. Nothing is written per recipient at send time; nobody outside the audience sees a notice.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::*;

async fn get(client: &Client, s: &TestServer, path: &str) -> (u16, Value) {
    json_of(client.get(s.api("hunan", path)).send().await.unwrap()).await
}

async fn post(client: &Client, s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api("hunan", path)).json(&body).send().await.unwrap()).await
}

async fn send(client: &Client, s: &TestServer, title: &str, audience: Value) -> i64 {
    let (status, body) =
        post(client, s, "/notices", json!({"title": title, "body": format!("{title}的正文。"), "audience": audience})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// The titles of this test's notices in an inbox (newest first; the demo's own notices left out) and
/// how many notices the inbox holds in all.
async fn inbox(client: &Client, s: &TestServer, query: &str) -> (Vec<String>, i64) {
    let (status, body) = get(client, s, &format!("/messages?kind=notice&per_page=200{query}")).await;
    assert_eq!(status, 200, "{body}");
    let titles = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .filter(|t| TITLES.contains(&t.as_str()))
        .collect();
    (titles, body["total"].as_i64().unwrap())
}

const TITLES: &[&str] = &["全省继续教育工作通知", "教务处学习安排", "主管部门管理员会议", "医院专场培训"];

async fn notices_reach_their_audience_and_no_one_else(s: TestServer) {
    let province = s.demo("hunan", "province", 601).await;
    let bureau = s.demo("hunan", "hr", 501).await;
    let authority = s.demo("hunan", "authority", 401).await;
    let school_admin = s.demo("hunan", "unit", 201).await;
    let hospital_admin = s.demo("hunan", "unit", 202).await;
    let teacher = s.demo("hunan", "staff", 101).await;
    let nurse = s.demo("hunan", "staff", 102).await;
    let hospital = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit' AND name LIKE '%中心医院'").await;

    let everyone = send(&province, &s, "全省继续教育工作通知", json!({})).await;
    send(&school_admin, &s, "教务处学习安排", json!({"who": "staff"})).await;
    send(&authority, &s, "主管部门管理员会议", json!({"who": "admins"})).await;
    send(&bureau, &s, "医院专场培训", json!({"org_id": hospital})).await;
    assert_eq!(s.count("SELECT COUNT(*) FROM notice_reads").await, 0, "nothing written per recipient");

    let expect = [
        (&teacher, vec!["教务处学习安排", "全省继续教育工作通知"]),
        (&nurse, vec!["医院专场培训", "全省继续教育工作通知"]),
        (&school_admin, vec!["主管部门管理员会议", "全省继续教育工作通知"]),
        (&hospital_admin, vec!["医院专场培训", "全省继续教育工作通知"]),
        (&bureau, vec!["全省继续教育工作通知"]),
        (&province, vec![]),
    ];
    for (i, (client, titles)) in expect.iter().enumerate() {
        let (got, total) = inbox(client, &s, "").await;
        assert_eq!(got, *titles, "recipient {i}");
        assert!(total >= titles.len() as i64, "recipient {i}");
    }
    let elsewhere = s.demo("henan", "staff", 101).await;
    let (status, body) = json_of(elsewhere.get(s.api("henan", "/messages?kind=notice&per_page=200")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("全省继续教育工作通知"), "{body}");
    assert_eq!(json_of(elsewhere.get(s.api("henan", &format!("/notices/{everyone}"))).send().await.unwrap()).await.0, 404);

    // Unread counts and reading: the API's total, the detail page, the header.
    let (_, unread) = get(&teacher, &s, "/messages?unread=1").await;
    let before = unread["total"].as_i64().unwrap();
    assert!(before >= 2, "{unread}");
    let html = teacher.get(s.url("hunan", &format!("/notices/{everyone}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("全省继续教育工作通知的正文。") && html.contains("发布单位"), "{html}");
    assert!(!html.contains("撤回通知"), "recipients cannot withdraw");
    let (_, unread) = get(&teacher, &s, "/messages?unread=1").await;
    assert_eq!(unread["total"].as_i64().unwrap(), before - 1, "opening a notice reads it: {unread}");
    let home = teacher.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(&format!(r#"<span class="badge unmet">{}</span>"#, before - 1)), "header count: {home}");
    assert_eq!(
        json_of(teacher.post(s.api("hunan", &format!("/notices/{everyone}/read"))).send().await.unwrap()).await.0,
        204,
        "again: no change"
    );
    let (status, marked) = json_of(teacher.post(s.api("hunan", "/messages/read-all")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{marked}");
    assert_eq!(get(&teacher, &s, "/messages?unread=1").await.1["total"], 0);

    // The sender's list counts reads; people outside the audience cannot open or read it.
    let (_, sent) = get(&province, &s, "/notices").await;
    assert_eq!((sent["items"][0]["id"].as_i64(), sent["items"][0]["reads"].as_i64()), (Some(everyone), Some(1)), "{sent}");
    assert_eq!(sent["items"][0]["audience_label"], "全部人员", "{sent}");
    let staff_only = sent_id(&school_admin, &s).await;
    assert_eq!(get(&nurse, &s, &format!("/notices/{staff_only}")).await.0, 404);
    assert_eq!(json_of(nurse.post(s.api("hunan", &format!("/notices/{staff_only}/read"))).send().await.unwrap()).await.0, 404);
    assert_eq!(get(&hospital_admin, &s, &format!("/notices/{staff_only}")).await.0, 404);
    assert_eq!(get(&teacher, &s, "/notices").await.0, 403, "staff send nothing");

    // Withdrawal: only the sending organisation, once; recipients no longer see it.
    assert_eq!(post(&school_admin, &s, &format!("/notices/{everyone}/withdraw"), json!({})).await.0, 404);
    assert_eq!(post(&province, &s, &format!("/notices/{everyone}/withdraw"), json!({})).await.0, 204);
    let (status, body) = post(&province, &s, &format!("/notices/{everyone}/withdraw"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_withdrawn")), "{body}");
    assert!(!inbox(&nurse, &s, "").await.0.contains(&"全省继续教育工作通知".to_owned()));
    assert_eq!(get(&nurse, &s, &format!("/notices/{everyone}")).await.0, 404);
    let (_, mine) = get(&province, &s, &format!("/notices/{everyone}")).await;
    assert!(mine["withdrawn_at"].is_string(), "the sender still sees it: {mine}");
}
both!(notices_reach_their_audience_and_no_one_else, notices_reach_their_audience_and_no_one_else);

async fn sent_id(client: &Client, s: &TestServer) -> i64 {
    get(client, s, "/notices").await.1["items"][0]["id"].as_i64().unwrap()
}

async fn bad_notices_change_nothing(s: TestServer) {
    let school_admin = s.demo("hunan", "unit", 201).await;
    let hospital = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit' AND name LIKE '%中心医院'").await;
    let henan_org = s.count("SELECT id FROM orgs WHERE tenant_id = 'henan' AND kind = 'province'").await;
    let before = s.count("SELECT COUNT(*) FROM notices").await;
    for (body, field) in [
        (json!({"title": " ", "body": "内容"}), "title"),
        (json!({"title": "标题", "body": "长".repeat(5001)}), "body"),
        (json!({"title": "长".repeat(101), "body": "内容"}), "title"),
        (json!({"title": "标题", "body": "内容", "audience": {"who": "everyone"}}), "audience.who"),
        (json!({"title": "标题", "body": "内容", "audience": {"org_id": hospital}}), "audience.org_id"),
        (json!({"title": "标题", "body": "内容", "audience": {"org_id": henan_org}}), "audience.org_id"),
    ] {
        let (status, answer) = post(&school_admin, &s, "/notices", body).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let teacher = s.demo("hunan", "staff", 101).await;
    assert_eq!(post(&teacher, &s, "/notices", json!({"title": "标题", "body": "内容"})).await.0, 403);
    assert_eq!(s.count("SELECT COUNT(*) FROM notices").await, before, "nothing stored");

    // The page: the form keeps what was typed and says what is wrong, in Chinese.
    let html = school_admin.get(s.url("hunan", "/notices")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("本单位已发布的通知"), "{html}");
    let form = [("csrf_token", csrf_in(&html)), ("title", "暑期培训".to_owned()), ("body", String::new()), ("who", "staff".to_owned())];
    let res = school_admin.post(s.url("hunan", "/notices")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("请填写内容") && html.contains("暑期培训"), "{html}");
    let form = [
        ("csrf_token", csrf_in(&html)),
        ("title", "暑期培训".to_owned()),
        ("body", "七月集中学习。".to_owned()),
        ("who", "staff".to_owned()),
    ];
    let res = school_admin.post(s.url("hunan", "/notices")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let html = school_admin.get(format!("{}{location}", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("通知已发布") && html.contains("仅工作人员"), "{html}");
    let inbox = teacher.get(s.url("hunan", "/messages")).send().await.unwrap().text().await.unwrap();
    assert!(inbox.contains("暑期培训") && inbox.contains("通知公告") && inbox.contains("未读"), "{inbox}");
}
both!(bad_notices_change_nothing, bad_notices_change_nothing);

/// A message is its account's alone: its page and API, read and read-all, for nobody else.
async fn a_message_is_its_readers_alone(s: TestServer) {
    let teacher = s.demo("hunan", "staff", 101).await;
    let account: i64 = s
        .count(&format!(
            "SELECT id FROM accounts WHERE tenant_id = 'hunan' AND id_number = '{}'",
            jijiao::demo::demo_id_number("hunan", 101)
        ))
        .await;
    let mut tx = s.db.begin().await.unwrap();
    jijiao::messages::send_tx(&mut tx, "hunan", account, "学时申报已通过", "您的学时申报已通过审核。").await.unwrap();
    tx.commit().await.unwrap();
    let id = s.count(&format!("SELECT MAX(id) FROM messages WHERE tenant_id = 'hunan' AND account_id = {account}")).await;

    let nurse = s.demo("hunan", "staff", 102).await;
    assert_eq!(get(&nurse, &s, &format!("/messages/{id}")).await.0, 404);
    assert_eq!(nurse.get(s.url("hunan", &format!("/messages/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(post(&nurse, &s, &format!("/messages/{id}/read"), json!({})).await.0, 404);
    assert_eq!(post(&nurse, &s, "/messages/read-all", json!({})).await.0, 200);
    let elsewhere = s.demo("henan", "staff", 101).await;
    let (status, _) = json_of(elsewhere.get(s.api("henan", &format!("/messages/{id}"))).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, message) = get(&teacher, &s, &format!("/messages/{id}")).await;
    assert_eq!((status, message["title"].as_str()), (200, Some("学时申报已通过")), "{message}");
    assert!(message["read_at"].is_null(), "others' read-all left it unread: {message}");
    let html = teacher.get(s.url("hunan", &format!("/messages/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("您的学时申报已通过审核。"), "{html}");
    assert!(get(&teacher, &s, &format!("/messages/{id}")).await.1["read_at"].is_string(), "opening the page read it");
}
both!(a_message_is_its_readers_alone, a_message_is_its_readers_alone);
