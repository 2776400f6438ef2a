//! Certificates (issue 5): eligibility from the plugin, one valid certificate per person, kind and year
//! even under simultaneous applications, PDFs rendered by a job with a QR code that carries a signed
//! proof, public verification by number, recognition proofs, exemptions, batch printing, Open Badges
//! export, automatic issue, tenant isolation.

use jijiao::db::q;
use jijiao_tests::pdf::{pdf_pages, pdf_qr, pdf_text};
use jijiao_tests::{TestServer, both, json_of};
use serde_json::{Value, json};

/// Puts credits straight into a demo person's ledger (as an import would).
async fn credit(s: &TestServer, tenant: &str, person: i64, subject: &str, hundredths: i64, reference: &str) {
    credit_from(s, tenant, person, 2025, subject, hundredths, "online", reference).await;
}

async fn credit_from(s: &TestServer, tenant: &str, person: i64, year: i64, subject: &str, hundredths: i64, source: &str, reference: &str) {
    let mut tx = s.db.begin().await.unwrap();
    jijiao::hours::grant_tx(
        &mut tx,
        tenant,
        jijiao::hours::NewCredit {
            person_id: person,
            year,
            subject,
            hours: hundredths,
            source,
            source_ref: reference,
            course: Some("课程"),
            granted_by: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The person id of a logged-in staff client.
async fn person_of(s: &TestServer, tenant: &str, client: &reqwest::Client) -> i64 {
    let (_, me) = json_of(client.get(s.api(tenant, "/me")).send().await.unwrap()).await;
    me["account"]["person_id"].as_i64().unwrap_or_else(|| panic!("person_id in /me: {me}"))
}

/// A demo staff member's year that qualifies (30 public + 60 professional), and its certificate.
async fn qualified_certificate(s: &TestServer, tenant: &str, seq: u32, kind: &str) -> (reqwest::Client, i64, String) {
    let staff = s.demo(tenant, "staff", seq).await;
    let person = person_of(s, tenant, &staff).await;
    credit(s, tenant, person, "public", 3000, &format!("q:{person}:1")).await;
    credit(s, tenant, person, "professional", 6000, &format!("q:{person}:2")).await;
    let (status, body) =
        json_of(staff.post(s.api(tenant, "/certificates/applications")).json(&json!({"kind": kind, "year": 2025})).send().await.unwrap())
            .await;
    assert_eq!(status, 201, "{body}");
    (staff, person, body["number"].as_str().unwrap().to_owned())
}

async fn bytes_of(res: reqwest::Response) -> (u16, String, Vec<u8>) {
    let status = res.status().as_u16();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, res.bytes().await.unwrap().to_vec())
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

async fn pdf_with_qr_signature_badge_and_access(s: TestServer) {
    let (staff, person, number) = qualified_certificate(&s, "hunan", 101, "in_service").await;
    let pdf_url = s.api("hunan", &format!("/certificates/{number}/pdf"));
    // The PDF comes from a background job: until it ran, the history says "generating".
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/certificates")).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["state"], "generating", "{mine}");
    let (status, body) = json_of(staff.get(&pdf_url).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("generating")), "{body}");
    s.drain_jobs().await;
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/certificates")).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["state"], "ready", "{mine}");

    let (status, content_type, pdf) = bytes_of(staff.get(&pdf_url).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    let name: String =
        s.db.one(q("SELECT name FROM people WHERE tenant_id = 'hunan' AND id = $1").bind(person)).await.map(|r: (String,)| r.0).unwrap();
    let text = pdf_text(&pdf);
    for expected in [name.as_str(), number.as_str(), "在岗培训证书", "湖南省人力资源和社会保障厅", "30", "60", "90"] {
        assert!(text.contains(expected), "{expected:?} in the PDF text: {text}");
    }
    // The QR code opens the public verification page with the signed proof, which checks out.
    let qr = pdf_qr(&pdf);
    assert!(qr.contains(&format!("/t/hunan/verify?number={number}&proof=")), "{qr}");
    let page = s.client().get(&qr).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-signature=\"valid\"") && page.contains("data-verify=\"valid\""), "{page}");
    let proof = jijiao::certificates::cli::extract_proof(qr.as_bytes()).unwrap();

    // Offline, with the published keys only: the PDF and the URL verify; a tampered proof does not.
    let (status, jwks) = json_of(s.client().get(s.api("hunan", "/keys")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{jwks}");
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("hunan-keys.json");
    std::fs::write(&keys_file, jwks.to_string()).unwrap();
    let pdf_file = dir.path().join("certificate.pdf");
    std::fs::write(&pdf_file, &pdf).unwrap();
    assert!(jijiao::certificates::cli::verify_offline(pdf_file.to_str().unwrap(), &keys_file).unwrap(), "the PDF verifies offline");
    assert!(jijiao::certificates::cli::verify_offline(&qr, &keys_file).unwrap());
    let parts: Vec<&str> = proof.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["num"], number.as_str());
    claims["pro"] = json!(9000);
    let forged = format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2]);
    assert!(!jijiao::certificates::cli::verify_offline(&forged, &keys_file).unwrap(), "a forged proof fails");
    let (_, record) =
        json_of(s.client().get(format!("{}?proof={forged}", s.api("hunan", &format!("/certificates/{number}")))).send().await.unwrap())
            .await;
    assert_eq!(record["signature"]["result"], "invalid", "{record}");
    let page = s
        .client()
        .get(format!("{}&proof={forged}", s.url("hunan", &format!("/verify?number={number}"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-signature=\"invalid\""), "{page}");
    // Henan's keys do not verify Hunan's certificates.
    let (_, henan_keys) = json_of(s.client().get(s.api("henan", "/keys")).send().await.unwrap()).await;
    std::fs::write(&keys_file, henan_keys.to_string()).unwrap();
    assert!(!jijiao::certificates::cli::verify_offline(&qr, &keys_file).unwrap());
    // A record changed after signing no longer matches its genuine proof.
    s.db.run(q("UPDATE certificates SET unit_name = '别的单位' WHERE number = $1").bind(&number)).await.unwrap();
    let (_, record) =
        json_of(s.client().get(format!("{}?proof={proof}", s.api("hunan", &format!("/certificates/{number}")))).send().await.unwrap())
            .await;
    assert_eq!(record["signature"]["result"], "mismatch", "{record}");
    assert!(!jijiao::certificates::cli::verify_number(&s.db, "hunan", &number).await.unwrap());
    s.db.run(q("UPDATE certificates SET unit_name = $2 WHERE number = $1").bind(&number).bind(claims["unit"].as_str().unwrap()))
        .await
        .unwrap();
    assert!(jijiao::certificates::cli::verify_number(&s.db, "hunan", &number).await.unwrap());

    // Open Badges 3.0: a signed OpenBadgeCredential that verifies; any change breaks the proof.
    let (status, badge) = json_of(staff.get(s.api("hunan", &format!("/certificates/{number}/badge"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{badge}");
    assert_eq!(badge["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
    assert_eq!(badge["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(jijiao::certificates::badge::verify(&badge), Ok(()));
    let mut changed = badge.clone();
    changed["credentialSubject"]["result"][0]["value"] = json!("99");
    assert!(jijiao::certificates::badge::verify(&changed).is_err());

    // Who may download: the owner and admins whose scope holds the person; nobody else, in no tenant.
    let school_admin = s.demo("hunan", "unit", 201).await;
    assert_eq!(school_admin.get(&pdf_url).send().await.unwrap().status(), 200);
    for (tenant, user_type, seq) in [("hunan", "staff", 102), ("hunan", "unit", 202), ("henan", "unit", 201), ("henan", "staff", 101)] {
        let other = s.demo(tenant, user_type, seq).await;
        // A session of another tenant is no session here.
        let expected = if tenant == "hunan" { 404 } else { 401 };
        assert_eq!(other.get(&pdf_url).send().await.unwrap().status(), expected, "{tenant} {user_type} {seq}");
        assert_eq!(other.get(s.api(tenant, &format!("/certificates/{number}/pdf"))).send().await.unwrap().status(), 404);
        assert_eq!(other.get(s.api(tenant, &format!("/certificates/{number}/badge"))).send().await.unwrap().status(), 404);
    }
    assert_eq!(s.client().get(&pdf_url).send().await.unwrap().status(), 401);
    // The history page offers the download.
    let page = staff.get(s.url("hunan", "/certificates")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("/certificates/{number}/pdf")) && page.contains("data-state=\"ready\""), "{page}");
}
both!(pdf_with_qr_signature_badge_and_access, pdf_with_qr_signature_badge_and_access);

async fn recognition_proof_counts_recognised_platforms_and_voids_the_previous(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let person = person_of(&s, "hunan", &staff).await;
    let year = jijiao::hours::this_year();
    let url = s.api("hunan", "/certificates/recognition");
    let (status, body) = json_of(staff.post(&url).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("no_online_hours")), "{body}");
    // A recognised platform reports two courses (through its signed API); an imported credit of the
    // same year does not count.
    let keys = jijiao::training::platforms::issue(&s.db, "hunan", "ischinese", true, None).await.unwrap();
    let name: String =
        s.db.one(q("SELECT name FROM people WHERE tenant_id = 'hunan' AND id = $1").bind(person)).await.map(|r: (String,)| r.0).unwrap();
    let record = |id: &str, subject: &str, hours: f64| {
        json!({"record_id": id, "id_number": jijiao::demo::demo_id_number("hunan", 101), "name": name, "course_code": format!("C-{id}"),
               "course_title": format!("网络课程{id}"), "subject": subject, "hours": hours,
               "completed_at": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339(), "year": year})
    };
    let body = json!({"records": [record("r1", "public", 12.0), record("r2", "professional", 20.5)]}).to_string().into_bytes();
    let path = "/t/hunan/api/v1/platform/completions";
    let mut req = s.client().post(format!("{}{path}", s.base)).header("content-type", "application/json");
    for (header, value) in jijiao::training::platforms::signed_headers(&keys.key_id, &keys.secret, "POST", path, &body) {
        req = req.header(header, value);
    }
    let (status, answer) = json_of(req.body(body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["results"].as_array().unwrap().iter().all(|r| r["status"] == "accepted"), "{answer}");
    credit_from(&s, "hunan", person, year, "professional", 5000, "import", "i:1").await;
    let (status, first) = json_of(staff.post(&url).send().await.unwrap()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["detail"]["courses"].as_array().unwrap().len(), 2, "{first}");
    assert_eq!((first["hours"]["public"].as_f64(), first["hours"]["professional"].as_f64()), (Some(12.0), Some(20.5)), "{first}");
    assert_eq!(first["year"].as_i64(), Some(year));
    // Asked again: a new proof, and the first one is void — verification says so.
    let (status, second) = json_of(staff.post(&url).send().await.unwrap()).await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(first["number"], second["number"]);
    let first_number = first["number"].as_str().unwrap();
    let (_, record) = json_of(s.client().get(s.api("hunan", &format!("/certificates/{first_number}"))).send().await.unwrap()).await;
    assert_eq!((record["valid"].as_bool(), record["status"].as_str()), (Some(false), Some("void")), "{record}");
    let (_, record) =
        json_of(s.client().get(s.api("hunan", &format!("/certificates/{}", second["number"].as_str().unwrap()))).send().await.unwrap())
            .await;
    assert_eq!((record["valid"].as_bool(), record["courses"].as_i64()), (Some(true), Some(2)), "{record}");
    assert_eq!(s.count("SELECT COUNT(*) FROM certificates WHERE kind = 'recognition' AND status = 'valid'").await, 1);
    // Its PDF lists the courses.
    s.drain_jobs().await;
    let (status, _, pdf) =
        bytes_of(staff.get(s.api("hunan", &format!("/certificates/{}/pdf", second["number"].as_str().unwrap()))).send().await.unwrap())
            .await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf);
    assert!(text.contains("继教学时互认证明") && text.contains("网络课程r2") && text.contains("20.5"), "{text}");
    let page = staff.get(s.url("hunan", "/certificates")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-recognition") && page.contains("已作废"), "{page}");
    // Provinces without the proof: not found.
    let henan = s.demo("henan", "staff", 101).await;
    assert_eq!(henan.post(s.api("henan", "/certificates/recognition")).send().await.unwrap().status(), 404);
}
both!(
    recognition_proof_counts_recognised_platforms_and_voids_the_previous,
    recognition_proof_counts_recognised_platforms_and_voids_the_previous
);

async fn exemption_filed_by_the_unit_approved_above_and_downloaded(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let person = person_of(&s, "hunan", &staff).await;
    let id_number = jijiao::demo::demo_id_number("hunan", 101);
    let unit = s.demo("hunan", "unit", 201).await;
    let url = s.api("hunan", "/exemptions");
    let filing = |id: &str, reason: &str| json!({"id_number": id, "year": 2025, "reason": reason});
    // Bad input: nothing filed.
    let (status, body) = json_of(unit.post(&url).json(&filing(&id_number, " ")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["reason"].is_string()), (422, true), "{body}");
    let hospital_staff = jijiao::demo::demo_id_number("hunan", 102);
    let (status, body) = json_of(unit.post(&url).json(&filing(&hospital_staff, "援外医疗")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["id_number"].is_string()), (422, true), "another unit's person: {body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM exemptions").await, 0);
    let (status, body) = json_of(unit.post(&url).json(&filing(&id_number, "援外支教一年")).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = json_of(unit.post(&url).json(&filing(&id_number, "援外支教一年")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_filed")), "{body}");
    // Staff cannot file; Henan offers no exemptions.
    assert_eq!(staff.post(&url).json(&filing(&id_number, "x")).send().await.unwrap().status(), 403);
    let henan_unit = s.demo("henan", "unit", 201).await;
    assert_eq!(henan_unit.get(s.api("henan", "/exemptions")).send().await.unwrap().status(), 404);

    // The school's supervising authority decides it; the HR bureau and other tenants see nothing.
    let authority = s.demo("hunan", "authority", 401).await;
    let (_, queue) = json_of(authority.get(s.api("hunan", "/approvals?kind=exemption")).send().await.unwrap()).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    let approval = items[0]["id"].as_i64().unwrap();
    for (tenant, user_type, seq) in [("hunan", "hr", 501), ("henan", "authority", 401)] {
        let other = s.demo(tenant, user_type, seq).await;
        let (_, queue) = json_of(other.get(s.api(tenant, "/approvals?kind=exemption")).send().await.unwrap()).await;
        assert_eq!(queue["items"].as_array().map_or(0, Vec::len), 0, "{tenant} {user_type}: {queue}");
    }
    let page = authority.get(s.url("hunan", &format!("/approvals/{approval}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("援外支教一年"), "{page}");
    let (status, body) = json_of(
        authority
            .post(s.api("hunan", "/approvals/decisions"))
            .json(&json!({"ids": [approval], "decision": "approve"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    s.drain_jobs().await;
    // The person downloads the exemption proof.
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/certificates")).send().await.unwrap()).await;
    let proof = mine["items"].as_array().unwrap().iter().find(|c| c["kind"] == "exemption").cloned().unwrap_or_else(|| panic!("{mine}"));
    assert_eq!((proof["state"].as_str(), proof["kind_name"].as_str()), (Some("ready"), Some("免训证明")), "{proof}");
    let (status, _, pdf) =
        bytes_of(staff.get(s.api("hunan", &format!("/certificates/{}/pdf", proof["number"].as_str().unwrap()))).send().await.unwrap())
            .await;
    assert_eq!(status, 200);
    assert!(pdf_text(&pdf).contains("援外支教一年"));
    let (_, list) = json_of(unit.get(&url).send().await.unwrap()).await;
    assert_eq!(
        (list["items"][0]["status"].as_str(), list["items"][0]["certificate_number"].as_str()),
        (Some("approved"), proof["number"].as_str()),
        "{list}"
    );
    let _ = person;
    // The pages render.
    for path in ["/exemptions", "/certificates/manage"] {
        let res = unit.get(s.url("hunan", path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}
both!(exemption_filed_by_the_unit_approved_above_and_downloaded, exemption_filed_by_the_unit_approved_above_and_downloaded);

async fn admins_print_many_certificates_into_one_pdf(s: TestServer) {
    let (_, _, school) = qualified_certificate(&s, "henan", 101, "qualified").await;
    let (_, _, hospital) = qualified_certificate(&s, "henan", 102, "qualified").await;
    let unit = s.demo("henan", "unit", 201).await;
    // The unit admin's list holds its own staff only.
    let (status, list) = json_of(unit.get(s.api("henan", "/certificates?year=2025")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{list}");
    let numbers: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec![school.as_str()], "{list}");
    // The status filter takes the certificate statuses (and "all"); anything else names them.
    let (_, void) = json_of(unit.get(s.api("henan", "/certificates?year=2025&status=void")).send().await.unwrap()).await;
    assert_eq!(void["total"], 0, "{void}");
    let (_, all) = json_of(unit.get(s.api("henan", "/certificates?year=2025&status=all")).send().await.unwrap()).await;
    assert_eq!(all["total"], 1, "{all}");
    let (status, bad) = json_of(unit.get(s.api("henan", "/certificates?status=nonsense")).send().await.unwrap()).await;
    assert_eq!(status, 422, "{bad}");
    assert!(bad["fields"]["status"].as_str().is_some_and(|m| m.contains("作废")), "{bad}");
    let print = s.api("henan", "/certificates/print");
    let (status, content_type, pdf) = bytes_of(unit.post(&print).json(&json!({"numbers": [school]})).send().await.unwrap()).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert_eq!(pdf_pages(&pdf), 1);
    // Another unit's certificate is not found; nothing chosen is a clear error.
    assert_eq!(unit.post(&print).json(&json!({"numbers": [school, hospital]})).send().await.unwrap().status(), 404);
    let (status, body) = json_of(unit.post(&print).json(&json!({"numbers": []})).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["numbers"].is_string()), (422, true), "{body}");
    // The HR bureau prints everything in its scope that the filters find, into one PDF.
    let hr = s.demo("henan", "hr", 501).await;
    let (status, _, pdf) =
        bytes_of(hr.post(s.api("henan", "/certificates/print")).json(&json!({"all": true, "year": 2025})).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(pdf_pages(&pdf), 2);
    let text = pdf_text(&pdf);
    assert!(text.contains(&school) && text.contains(&hospital), "{text}");
    // The page form does the same.
    let page = unit.get(s.url("henan", "/certificates/manage?year=2025")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&school) && !page.contains(&hospital), "{page}");
    // Staff and other tenants cannot print Henan's certificates.
    let staff = s.demo("henan", "staff", 101).await;
    assert_eq!(staff.post(&print).json(&json!({"numbers": [school]})).send().await.unwrap().status(), 403);
    let hunan = s.demo("hunan", "unit", 201).await;
    assert_eq!(hunan.post(s.api("hunan", "/certificates/print")).json(&json!({"numbers": [school]})).send().await.unwrap().status(), 404);
    let (_, list) = json_of(hunan.get(s.api("hunan", "/certificates?year=2025")).send().await.unwrap()).await;
    assert_eq!(list["total"].as_i64(), Some(0), "{list}");
}
both!(admins_print_many_certificates_into_one_pdf, admins_print_many_certificates_into_one_pdf);

async fn hunan_issues_in_service_certificates_by_itself(s: TestServer) {
    for tenant in ["hunan", "henan"] {
        let staff = s.demo(tenant, "staff", 101).await;
        let person = person_of(&s, tenant, &staff).await;
        // grant_tx queues the year's recompute; the recompute issues what the tenant auto-issues.
        credit(&s, tenant, person, "public", 3000, "a:1").await;
        credit(&s, tenant, person, "professional", 6000, "a:2").await;
        s.drain_jobs().await;
        let (_, mine) = json_of(staff.get(s.api(tenant, "/me/certificates")).send().await.unwrap()).await;
        let kinds: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
        let expected: Vec<&str> = if tenant == "hunan" { vec!["in_service"] } else { vec![] };
        assert_eq!(kinds, expected, "{tenant}: {mine}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM certificates WHERE document_state = 'ready'").await, 1);
}
both!(hunan_issues_in_service_certificates_by_itself, hunan_issues_in_service_certificates_by_itself);

/// Issue 16 §3: in Henan (and Hubei) admins issue, in one batch, the certificates of everyone qualified in
/// their subtree who has none yet; then print them together.
async fn admins_issue_the_qualified_in_one_batch(s: TestServer) {
    let teacher = s.demo("henan", "staff", 101).await;
    let teacher_id = person_of(&s, "henan", &teacher).await;
    let nurse = s.demo("henan", "staff", 102).await;
    let nurse_id = person_of(&s, "henan", &nurse).await;
    credit(&s, "henan", teacher_id, "public", 3000, "b:1").await;
    credit(&s, "henan", teacher_id, "professional", 6000, "b:2").await;
    credit(&s, "henan", nurse_id, "public", 1000, "b:3").await;
    s.drain_jobs().await;
    let issue = s.api("henan", "/certificates/batch-issue");
    let valid = "SELECT COUNT(*) FROM certificates WHERE tenant_id = 'henan' AND status = 'valid'";

    // Bad input, nobody qualified, the wrong people: clear errors, nothing issued.
    let hospital = s.demo("henan", "unit", 202).await;
    for (body, field) in [(json!({"year": 2025, "kind": "bogus"}), "kind"), (json!({"kind": "qualified"}), "year")] {
        let (status, answer) = json_of(hospital.post(&issue).json(&body).send().await.unwrap()).await;
        assert_eq!((status, answer["fields"][field].is_string()), (422, true), "{answer}");
    }
    let (status, answer) = json_of(hospital.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap()).await;
    assert_eq!((status, answer["code"].as_str()), (422, Some("nothing_to_issue")), "the nurse has not met 2025: {answer}");
    assert_eq!(teacher.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap().status(), 403);
    let hunan = s.demo("hunan", "unit", 201).await;
    let res =
        hunan.post(s.api("hunan", "/certificates/batch-issue")).json(&json!({"year": 2025, "kind": "in_service"})).send().await.unwrap();
    assert_eq!(res.status(), 403, "Hunan issues its certificates by itself");
    assert_eq!(s.count(valid).await, 0);

    // The HR bureau issues the teacher's; again, nobody is left.
    let hr = s.demo("henan", "hr", 501).await;
    let (status, done) = json_of(hr.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!((done["numbers"].as_array().unwrap().len(), done["not_eligible"].as_i64()), (1, Some(0)), "{done}");
    let (_, mine) = json_of(teacher.get(s.api("henan", "/me/certificates")).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["number"], done["numbers"][0], "{mine}");
    let (status, answer) = json_of(hr.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap()).await;
    assert_eq!((status, answer["code"].as_str()), (422, Some("nothing_to_issue")), "{answer}");

    // Once the nurse qualifies, only admins whose subtree holds her issue hers: the school's cannot.
    credit(&s, "henan", nurse_id, "public", 2000, "b:4").await;
    credit(&s, "henan", nurse_id, "professional", 6000, "b:5").await;
    s.drain_jobs().await;
    let school = s.demo("henan", "unit", 201).await;
    let (status, _) = json_of(school.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap()).await;
    assert_eq!(status, 422);
    let (status, done) = json_of(hospital.post(&issue).json(&json!({"year": 2025, "kind": "qualified"})).send().await.unwrap()).await;
    assert_eq!((status, done["numbers"].as_array().map(Vec::len)), (200, Some(1)), "{done}");
    assert_eq!(s.count(valid).await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'certificate.batch_issued'").await, 2);

    // Printed together; the page offers the batch where admins issue, not in Hunan.
    let (status, _, pdf) =
        bytes_of(hr.post(s.api("henan", "/certificates/print")).json(&json!({"all": true, "year": 2025})).send().await.unwrap()).await;
    assert_eq!((status, pdf_pages(&pdf)), (200, 2));
    let page = hr.get(s.url("henan", "/certificates/manage")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("批量开具证书"), "{page}");
    let page = s.demo("hunan", "hr", 501).await.get(s.url("hunan", "/certificates/manage")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("批量开具证书"), "{page}");
}
both!(admins_issue_the_qualified_in_one_batch, admins_issue_the_qualified_in_one_batch);
