//! Certificates (issue 5, first part): eligibility from the plugin, one valid certificate per person, kind
//! and year even under simultaneous applications, public verification by number, tenant isolation.

use jijiao::db::q;
use jijiao_tests::{TestServer, both, json_of};
use serde_json::json;

/// Puts credits straight into a demo person's ledger (as an import would).
async fn credit(s: &TestServer, tenant: &str, person: i64, subject: &str, hundredths: i64, reference: &str) {
    let mut tx = s.db.begin().await.unwrap();
    jijiao::hours::grant_tx(
        &mut tx,
        tenant,
        jijiao::hours::NewCredit {
            person_id: person,
            year: 2025,
            subject,
            hours: hundredths,
            source: "online",
            source_ref: reference,
            course: None,
            granted_by: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn hunan_in_service_boundaries_one_valid_and_public_verification(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, me) = json_of(staff.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let person = me["account"]["person_id"].as_i64().unwrap();
    let apply = |kind: &str| json!({"kind": kind, "year": 2025});
    let url = s.api("hunan", "/certificates/applications");

    // 29.5 public + 60.5 professional is not an in-service year (seed 001: 30 + 60).
    credit(&s, "hunan", person, "public", 2950, "t:1").await;
    credit(&s, "hunan", person, "professional", 6050, "t:2").await;
    let (status, body) = json_of(staff.post(&url).json(&apply("in_service")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("not_eligible")), "{body}");
    assert!(!body["reasons"].as_array().unwrap().is_empty(), "{body}");
    let (status, body) = json_of(staff.post(&url).json(&apply("qualified")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["kind"].is_string()), (422, true), "Henan's kind is not Hunan's: {body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM certificates").await, 0);

    // 30 + 60: eligible. Two simultaneous applications give one certificate.
    credit(&s, "hunan", person, "public", 50, "t:3").await;
    let (a, b) = tokio::join!(staff.post(&url).json(&apply("in_service")).send(), staff.post(&url).json(&apply("in_service")).send());
    let (a, b) = (json_of(a.unwrap()).await, json_of(b.unwrap()).await);
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{a:?} {b:?}");
    assert_eq!(a.1["number"], b.1["number"]);
    assert_eq!(s.count("SELECT COUNT(*) FROM certificates WHERE status = 'valid'").await, 1);
    let number = a.1["number"].as_str().unwrap().to_owned();
    assert_eq!(a.1["hours"]["public"].as_f64(), Some(30.0), "{a:?}");
    // Pre-job needs 40 hours in all: also met.
    assert_eq!(staff.post(&url).json(&apply("pre_job")).send().await.unwrap().status(), 201);
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/certificates")).send().await.unwrap()).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2, "{mine}");

    // Anyone verifies it by number, without logging in; the name is partly masked.
    let (status, record) = json_of(s.client().get(s.api("hunan", &format!("/certificates/{number}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!((record["valid"].as_bool(), record["kind"].as_str(), record["year"].as_i64()), (Some(true), Some("in_service"), Some(2025)));
    let name: String =
        s.db.one(q("SELECT name FROM people WHERE tenant_id = 'hunan' AND id = $1").bind(person)).await.map(|r: (String,)| r.0).unwrap();
    assert_eq!(record["person_name"].as_str(), Some(jijiao::certificates::mask_name(&name).as_str()));
    assert_ne!(record["person_name"].as_str(), Some(name.as_str()));
    let page = s.client().get(s.url("hunan", &format!("/verify?number={number}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-verify=\"valid\"") && page.contains("有效证书"), "{page}");
    // Another tenant, or a made-up number, finds nothing; other tenants' staff cannot see it as theirs.
    assert_eq!(s.client().get(s.api("henan", &format!("/certificates/{number}"))).send().await.unwrap().status(), 404);
    assert_eq!(s.client().get(s.api("hunan", "/certificates/HN2025NOSUCHONE")).send().await.unwrap().status(), 404);
    let henan = s.demo("henan", "staff", 101).await;
    let (_, theirs) = json_of(henan.get(s.api("henan", "/me/certificates")).send().await.unwrap()).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    // Seed 001 §12: the record by full ID number and exact name, behind a captcha; a wrong name finds nothing.
    let id_number: String =
        s.db.one(q("SELECT id_number FROM people WHERE tenant_id = 'hunan' AND id = $1").bind(person))
            .await
            .map(|r: (String,)| r.0)
            .unwrap();
    for (name_given, captcha_right, expect) in [(name.as_str(), true, "found"), ("李四", true, "none"), (name.as_str(), false, "error")] {
        let visitor = s.client();
        let page = visitor.get(s.url("hunan", "/verify")).send().await.unwrap().text().await.unwrap();
        let field = |key: &str| {
            let marker = format!("name=\"{key}\" value=\"");
            let start = page.find(&marker).unwrap_or_else(|| panic!("{key} on the page")) + marker.len();
            page[start..].split('"').next().unwrap().to_owned()
        };
        let (csrf, captcha) = (field("csrf_token"), field("captcha_id"));
        let answer: String = s.db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha)).await.map(|r: (String,)| r.0).unwrap();
        let answer = if captcha_right { answer } else { "WRONG".to_owned() };
        let form = [
            ("csrf_token", csrf.as_str()),
            ("captcha_id", &captcha),
            ("captcha_answer", &answer),
            ("id_number", &id_number),
            ("name", name_given),
        ];
        let res = visitor.post(s.url("hunan", "/verify/person")).form(&form).send().await.unwrap();
        let body = res.text().await.unwrap();
        assert!(body.contains(&format!("data-lookup=\"{expect}\"")), "{name_given} {captcha_right}: {body}");
        assert_eq!(body.contains(&number), expect == "found");
    }

    // The same through the API: the captcha comes with the first refusal.
    let api = s.client();
    let url_lookup = s.api("hunan", "/certificates/lookup");
    let (status, body) = json_of(api.post(&url_lookup).json(&json!({"id_number": id_number, "name": name})).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("captcha_required")), "{body}");
    for (name_given, found) in [("李四", 0), (name.as_str(), 2)] {
        let captcha = body["captcha"]["id"].as_str().unwrap().to_owned();
        let (status, body) = json_of(
            api.post(&url_lookup)
                .json(&json!({"id_number": id_number, "name": name_given, "captcha_id": captcha, "captcha_answer": "WRONG"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, body["code"].as_str()), (422, Some("bad_captcha")), "{body}");
        let captcha = body["captcha"]["id"].as_str().unwrap().to_owned();
        let answer: String = s.db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha)).await.map(|r: (String,)| r.0).unwrap();
        let (status, result) = json_of(
            api.post(&url_lookup)
                .json(&json!({"id_number": id_number, "name": name_given, "captcha_id": captcha, "captcha_answer": answer}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["items"].as_array().unwrap().len(), found, "{name_given}: {result}");
    }

    // The same person and name asked of another tenant: nothing.
    let url_henan = s.api("henan", "/certificates/lookup");
    let (_, body) = json_of(api.post(&url_henan).json(&json!({"id_number": id_number, "name": name})).send().await.unwrap()).await;
    let captcha = body["captcha"]["id"].as_str().unwrap().to_owned();
    let answer: String = s.db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha)).await.map(|r: (String,)| r.0).unwrap();
    let (status, result) = json_of(
        api.post(&url_henan)
            .json(&json!({"id_number": id_number, "name": name, "captcha_id": captcha, "captcha_answer": answer}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, result["items"].as_array().map(Vec::len)), (200, Some(0)), "{result}");

    // Revoking a credit the certificate stood on revokes it, and verification says so; applying again
    // is judged on what is left.
    let credit_id: i64 =
        s.db.one(q("SELECT id FROM credits WHERE tenant_id = 'hunan' AND source_ref = 't:3'")).await.map(|r: (i64,)| r.0).unwrap();
    let mut tx = s.db.begin().await.unwrap();
    jijiao::hours::revoke_tx(&mut tx, "hunan", credit_id, None, "重复登记").await.unwrap();
    tx.commit().await.unwrap();
    let (_, record) = json_of(s.client().get(s.api("hunan", &format!("/certificates/{number}"))).send().await.unwrap()).await;
    assert_eq!((record["valid"].as_bool(), record["status"].as_str()), (Some(false), Some("revoked")), "{record}");
    assert!(record["void_reason"].as_str().unwrap().contains("重复登记"), "{record}");
    let (status, body) = json_of(staff.post(&url).json(&apply("in_service")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("not_eligible")), "29.5 public again: {body}");
    // Admins without a person of their own do not apply.
    let unit = s.demo("hunan", "unit", 201).await;
    assert_eq!(unit.post(&url).json(&apply("in_service")).send().await.unwrap().status(), 403);
}
both!(hunan_in_service_boundaries_one_valid_and_public_verification, hunan_in_service_boundaries_one_valid_and_public_verification);
