//! Login throttling and captcha, CSRF on forms, foreign origins on the API, password change and reset
//! by one-time link (issue 2 §5).

use jijiao::db::q;
use jijiao_tests::{TestServer, both, json_of};
use serde_json::json;

use crate::common::*;

async fn captcha_after_three_failures_and_lock_after_ten(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hunan", 101);
    for attempt in 1..=3 {
        let (status, body) = login_status(&s, "hunan", "staff", &id, "wrong-password-1").await;
        assert_eq!((status, body["code"].as_str()), (401, Some("bad_credentials")), "attempt {attempt}");
        assert_eq!(body["captcha"].is_object(), attempt == 3, "a captcha comes with the third failure: {body}");
    }
    // Now even the right password needs the captcha.
    let (status, body) = login_status(&s, "hunan", "staff", &id, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("captcha_required")), "{body}");
    let captcha_id = body["captcha"]["id"].as_str().unwrap().to_owned();
    assert!(body["captcha"]["image"].as_str().unwrap().starts_with("data:image/png;base64,"));
    let wrong = json!({"user_type": "staff", "id_number": id, "password": jijiao::demo::DEMO_PASSWORD, "captcha_id": captcha_id, "captcha_answer": "0000"});
    let (status, body) = json_of(s.client().post(s.api("hunan", "/session")).json(&wrong).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_captcha")), "{body}");
    // A fresh captcha, answered right (the test reads the answer the server stored).
    let captcha_id = body["captcha"]["id"].as_str().unwrap().to_owned();
    let (answer,): (String,) = s.db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha_id)).await.unwrap();
    let right = json!({"user_type": "staff", "id_number": id, "password": jijiao::demo::DEMO_PASSWORD, "captcha_id": captcha_id, "captcha_answer": answer.to_lowercase()});
    let (status, body) = json_of(s.client().post(s.api("hunan", "/session")).json(&right).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    // A captcha is good for one try only.
    let (status, _) = json_of(s.client().post(s.api("hunan", "/session")).json(&right).send().await.unwrap()).await;
    assert_eq!(status, 401);

    // Ten failures lock the account key for a while, whatever the password.
    let other = jijiao::demo::demo_id_number("hunan", 102);
    let mut last = 0;
    for _ in 0..12 {
        last = login_status(&s, "hunan", "staff", &other, "nope-nope-1").await.0;
    }
    let (status, body) = login_status(&s, "hunan", "staff", &other, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("locked")), "after {last}: {body}");
}
both!(captcha_after_three_failures_and_lock_after_ten, captcha_after_three_failures_and_lock_after_ten);

async fn forms_need_csrf_tokens(s: TestServer) {
    let client = s.client();
    let id = jijiao::demo::demo_id_number("henan", 101);
    let form = [("user_type", "staff"), ("id_number", id.as_str()), ("password", jijiao::demo::DEMO_PASSWORD)];
    // No token: refused, even with the right password.
    let res = client.post(s.url("henan", "/login")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("页面已过期"));
    // A token from another browser (cookie) does not match.
    let html = s.client().get(s.url("henan", "/login")).send().await.unwrap().text().await.unwrap();
    let foreign = csrf_in(&html);
    let mut with_foreign = form.to_vec();
    with_foreign.push(("csrf_token", foreign.as_str()));
    let html = client.get(s.url("henan", "/login")).send().await.unwrap().text().await.unwrap();
    let res = client.post(s.url("henan", "/login")).form(&with_foreign).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // The page's own token works and leads to the account page.
    let token = csrf_in(&html);
    let mut with_token = form.to_vec();
    with_token.push(("csrf_token", token.as_str()));
    let res = client.post(s.url("henan", "/login")).form(&with_token).send().await.unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let account = client.get(s.url("henan", "/account")).send().await.unwrap().text().await.unwrap();
    assert!(account.contains("豫一"), "the account page shows the demo staff name");
}
both!(forms_need_csrf_tokens, forms_need_csrf_tokens);

async fn api_refuses_foreign_origins(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hunan", 101);
    let res = s
        .client()
        .post(s.api("hunan", "/session"))
        .header("Origin", "https://evil.example")
        .json(&json!({"user_type": "staff", "id_number": id, "password": jijiao::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("foreign_origin")));
    // A form-encoded body cannot log in through the JSON API.
    let res = s.client().post(s.api("hunan", "/session")).form(&[("user_type", "staff"), ("id_number", &id)]).send().await.unwrap();
    assert_eq!(res.status(), 415);
    // Not logged in: 401 with a code.
    let (status, body) = json_of(s.client().get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
}
both!(api_refuses_foreign_origins, api_refuses_foreign_origins);

async fn password_change_and_reset_link(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hubei", 101);
    let staff = s.demo("hubei", "staff", 101).await;
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    let (status, body) =
        json_of(staff.post(s.api("hubei", "/me/password")).json(&change("wrong", "Better2026x")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["old_password"].is_string()), (422, true), "{body}");
    let (status, body) =
        json_of(staff.post(s.api("hubei", "/me/password")).json(&change(jijiao::demo::DEMO_PASSWORD, "short")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["new_password"].is_string()), (422, true), "{body}");
    let (status, _) =
        json_of(staff.post(s.api("hubei", "/me/password")).json(&change(jijiao::demo::DEMO_PASSWORD, "Better2026x")).send().await.unwrap())
            .await;
    assert_eq!(status, 204);
    s.login("hubei", "staff", &id, "Better2026x").await;

    // Reset by one-time link, delivered through the file outbox.
    let email = "staff101@hubei.demo.jijiao.local";
    let (status, _) = json_of(
        s.client()
            .post(s.api("hubei", "/password-resets"))
            .json(&json!({"user_type": "staff", "id_number": id, "email": email}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202);
    // A wrong e-mail gets the same answer and sends nothing.
    let (status, _) = json_of(
        s.client()
            .post(s.api("hubei", "/password-resets"))
            .json(&json!({"user_type": "staff", "id_number": id, "email": "x@y.cn"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202);
    s.drain_jobs().await;
    let outbox: Vec<_> = std::fs::read_dir(s.data_dir.join("outbox")).unwrap().filter_map(Result::ok).collect();
    assert_eq!(outbox.len(), 1, "exactly one mail");
    let mail = jijiao_tests::mail_text(&std::fs::read(outbox[0].path()).unwrap());
    let token =
        regex::Regex::new(r"reset\?token=([A-Za-z0-9_-]+)").unwrap().captures(&mail).expect("a reset link in the mail")[1].to_owned();
    let confirm = |password: &str| json!({"token": token, "new_password": password});
    let (status, _) =
        json_of(s.client().post(s.api("hubei", "/password-resets/confirm")).json(&confirm("Reset2026ok")).send().await.unwrap()).await;
    assert_eq!(status, 204);
    s.login("hubei", "staff", &id, "Reset2026ok").await;
    // The link works once.
    let (status, body) =
        json_of(s.client().post(s.api("hubei", "/password-resets/confirm")).json(&confirm("Again2026ok")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_token")));
    // The old session was ended by the reset.
    let (status, _) = json_of(staff.get(s.api("hubei", "/me")).send().await.unwrap()).await;
    assert_eq!(status, 401);
}
both!(password_change_and_reset_link, password_change_and_reset_link);

/// The person may edit their profile except name, ID number and unit (seed 003).
async fn profile_update_keeps_identity(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, before) = json_of(staff.get(s.api("hunan", "/me/profile")).send().await.unwrap()).await;
    let mut update = before.clone();
    update["phone"] = json!("13911112222");
    update["title_level"] = json!("deputy_senior");
    update["name"] = json!("改名");
    update["unit_id"] = json!(1);
    update["graduated_on"] = json!("2002-07-01");
    update["title_date"] = json!("2015-09-01");
    // The title changes only through a change audit (issue 15 §2): a new level here is a field error.
    let (status, body) = json_of(staff.patch(s.api("hunan", "/me/profile")).json(&update).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["title_level"].is_string()), (422, true), "{body}");
    update["title_level"] = before["title_level"].clone();
    let (status, after) = json_of(staff.patch(s.api("hunan", "/me/profile")).json(&update).send().await.unwrap()).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["phone"], "13911112222");
    assert_eq!(after["title_level"], before["title_level"]);
    assert_eq!(after["name"], before["name"]);
    assert_eq!(after["unit_id"], before["unit_id"]);
    update["email"] = json!("not-an-email");
    let (status, body) = json_of(staff.patch(s.api("hunan", "/me/profile")).json(&update).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["email"].is_string()), (422, true));
}
both!(profile_update_keeps_identity, profile_update_keeps_identity);

/// Issue 15 §3: admins, who have no person profile, keep their own phone and e-mail current; staff use
/// their profile for that.
async fn admins_maintain_their_own_contact(s: TestServer) {
    let admin = s.demo("hubei", "unit", 201).await;
    let patch = |client: &reqwest::Client, body: serde_json::Value| {
        let request = client.patch(s.api("hubei", "/me/contact")).json(&body);
        async move { json_of(request.send().await.unwrap()).await }
    };
    let (status, body) = patch(&admin, json!({"phone": "123", "email": "nope"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["phone"].is_string() && body["fields"]["email"].is_string(), "{body}");
    assert_eq!(patch(&admin, json!({"phone": "13712345678", "email": "unit201@example.com"})).await.0, 204);
    let (_, me) = json_of(admin.get(s.api("hubei", "/me")).send().await.unwrap()).await;
    assert_eq!((me["account"]["phone"].as_str(), me["account"]["email"].as_str()), (Some("13712345678"), Some("unit201@example.com")));
    let staff = s.demo("hubei", "staff", 101).await;
    let (status, body) = patch(&staff, json!({"phone": "13712345678", "email": "s@example.com"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("use_profile")), "{body}");
    // The account page carries the form.
    let html = admin.get(s.url("hubei", "/account")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("修改联系方式") && html.contains("13712345678"), "{html}");
}
both!(admins_maintain_their_own_contact, admins_maintain_their_own_contact);
