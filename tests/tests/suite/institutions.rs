//! Training institutions (issue 6 part 5): classes under approved plans, scores by ID number and by
//! spreadsheet, the roster, one declaration per class routed by the plugin, the reviewer's per-student
//! audit, and credits for the students who passed — for Henan, on both backends; other tenants and
//! outsiders see nothing.

use jijiao::demo::demo_id_number;
use jijiao_tests::training::approved_plan;
use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::*;

async fn post(client: &Client, s: &TestServer, tenant: &str, path: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, path)).json(&body).send().await.unwrap()).await
}

async fn get(client: &Client, s: &TestServer, tenant: &str, path: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await
}

async fn import(client: &Client, s: &TestServer, class: i64, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    json_of(client.post(s.api("henan", &format!("/classes/{class}/scores/import"))).multipart(form).send().await.unwrap()).await
}

fn class_body(plan: &Value, name: &str, capacity: i64) -> Value {
    json!({"plan_id": plan["id"], "name": name, "capacity": capacity, "start_date": plan["start_date"], "end_date": plan["end_date"],
           "place": "郑州市金水路 1 号", "teacher": "王老师"})
}

/// The CSRF token a page's form carries.
async fn page_csrf(client: &Client, url: &str) -> (String, String) {
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    let token = re.captures(&html).map(|c| c[1].to_owned()).unwrap_or_else(|| panic!("no CSRF token on {url}: {html}"));
    (token, html)
}

/// A form post that succeeded (303 back to a page), followed: the page it lands on.
async fn landed(client: &Client, s: &TestServer, res: reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "expected a redirect after the form");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    client.get(format!("{}{location}", s.base)).send().await.unwrap().text().await.unwrap()
}

/// A spreadsheet of scores with the Chinese headers institutions use.
fn score_sheet(rows: &[[&str; 4]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["身份证号", "姓名", "成绩", "备注"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn henan_plan_class_scores_declaration_credits(s: TestServer) {
    let institution = s.demo("henan", "institution", 301).await;
    // The demo data has a class with scores in each tenant: count from there.
    let (classes_before, scores_before) =
        (s.count("SELECT COUNT(*) FROM training_classes").await, s.count("SELECT COUNT(*) FROM class_scores").await);
    let plan_id = approved_plan(&s, "henan", "public").await;
    let (status, plan) = get(&institution, &s, "henan", &format!("/plans/{plan_id}")).await;
    assert_eq!(status, 200, "{plan}");
    let planned = plan["planned_count"].as_i64().unwrap();

    // Bad classes change nothing: capacity over the plan, dates outside it, an unknown plan.
    let mut bad = class_body(&plan, "", planned + 1);
    bad["start_date"] = json!("1999-01-01");
    let (status, body) = post(&institution, &s, "henan", "/classes", bad).await;
    assert_eq!(status, 422, "{body}");
    for field in ["name", "capacity", "start_date"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let (status, body) = post(
        &institution,
        &s,
        "henan",
        "/classes",
        json!({"plan_id": 999_999, "name": "x", "capacity": 1,
        "start_date": "2026-01-01", "end_date": "2026-01-02"}),
    )
    .await;
    assert_eq!((status, body["fields"]["plan_id"].is_string()), (422, true), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM training_classes").await, classes_before);

    let (status, class) = post(&institution, &s, "henan", "/classes", class_body(&plan, "2026 年第一期公需科目培训班", 3)).await;
    assert_eq!(status, 201, "{class}");
    let class_id = class["id"].as_i64().unwrap();
    assert_eq!(class["declaration_label"], "未申报");

    // Scores by ID number: unknown person, wrong name and a bad score are per-field errors.
    let staff_a = demo_id_number("henan", 101);
    let staff_b = demo_id_number("henan", 102);
    let path = format!("/classes/{class_id}/scores");
    let (status, body) = post(&institution, &s, "henan", &path, json!({"id_number": new_id(77), "score": 80})).await;
    assert_eq!((status, body["fields"]["id_number"].is_string()), (422, true), "{body}");
    let (status, body) = post(&institution, &s, "henan", &path, json!({"id_number": staff_a, "name": "冒名", "score": "101"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["name"].is_string() && body["fields"]["score"].is_string(), "{body}");
    let (status, score) = post(&institution, &s, "henan", &path, json!({"id_number": staff_a, "score": "88.5", "remark": "优秀"})).await;
    assert_eq!(status, 201, "{score}");
    assert_eq!((score["score"].as_f64(), score["passed"].as_bool()), (Some(88.5), Some(true)), "{score}");
    assert!(score["id_number"].as_str().unwrap().contains('*'), "ID numbers are masked: {score}");
    let (status, body) = post(&institution, &s, "henan", &path, json!({"id_number": staff_a, "score": 70})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_scored")), "{body}");

    // A spreadsheet with bad rows imports nothing and names every bad row.
    let sheet = score_sheet(&[[staff_b.as_str(), "", "59", ""], ["123", "", "70", ""], [staff_b.as_str(), "", "abc", ""]]);
    let (status, body) = import(&institution, &s, class_id, "成绩.xlsx", sheet).await;
    assert_eq!(status, 422, "{body}");
    let rows: Vec<i64> = body["rows"].as_array().unwrap().iter().map(|r| r["row"].as_i64().unwrap()).collect();
    assert!(rows.contains(&3) && rows.contains(&4), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM class_scores").await, scores_before + 1);
    // A good one adds new students and updates those already in the class.
    let sheet = score_sheet(&[[staff_b.as_str(), "", "59", "缺课"], [staff_a.as_str(), "", "90", ""]]);
    let (status, body) = import(&institution, &s, class_id, "成绩.xlsx", sheet).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["added"].as_i64(), body["updated"].as_i64()), (Some(1), Some(1)), "{body}");
    let (_, listed) = get(&institution, &s, "henan", &format!("/classes/{class_id}/scores?result=failed")).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["remark"], "缺课");

    // Capacity holds: a class of one cannot take two.
    let (_, small) = post(&institution, &s, "henan", "/classes", class_body(&plan, "小班", 1)).await;
    let small_id = small["id"].as_i64().unwrap();
    let sheet = score_sheet(&[[staff_a.as_str(), "", "80", ""], [staff_b.as_str(), "", "80", ""]]);
    let (status, body) = import(&institution, &s, small_id, "成绩.xlsx", sheet).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("class_full")), "{body}");
    let (status, _) = post(&institution, &s, "henan", "/classes/delete", json!({"ids": [small_id]})).await;
    assert_eq!(status, 200);

    // The roster page shows who will be declared.
    let (_, roster) = page_csrf(&institution, &s.url("henan", &format!("/classes/{class_id}/roster"))).await;
    assert!(roster.contains("申报花名册") && roster.contains("缺课") && roster.contains("申报学时"), "{roster}");

    // Declaring routes by the plugin: Henan public → the HR bureau (city 501), not the authority.
    let (status, declaration) = post(&institution, &s, "henan", &format!("/classes/{class_id}/declaration"), json!({})).await;
    assert_eq!(status, 201, "{declaration}");
    let declaration_id = declaration["id"].as_i64().unwrap();
    assert_eq!((declaration["students"].as_i64(), declaration["passed"].as_i64()), (Some(2), Some(1)), "{declaration}");
    let (status, body) = post(&institution, &s, "henan", &format!("/classes/{class_id}/declaration"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_declared")), "once per class: {body}");
    let (status, body) = post(&institution, &s, "henan", &path, json!({"id_number": new_id(78), "score": 80})).await;
    assert!(status == 409 || status == 422, "scores are frozen once declared: {status} {body}");
    let (status, body) =
        json_of(institution.put(s.api("henan", &format!("/classes/{class_id}"))).json(&class_body(&plan, "改名", 3)).send().await.unwrap())
            .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("class_declared")), "{body}");

    let hr = s.demo("henan", "hr", 501).await;
    let authority = s.demo("henan", "authority", 401).await;
    let (_, queue) = get(&hr, &s, "henan", "/approvals?kind=declaration").await;
    let item =
        queue["items"].as_array().unwrap().iter().find(|i| i["subject_id"] == json!(declaration_id)).cloned().expect("in the HR queue");
    let (_, other) = get(&authority, &s, "henan", "/approvals?kind=declaration").await;
    assert_eq!(other["total"], 0, "public declarations do not go to the authority: {other}");
    let (status, _) = get(&authority, &s, "henan", &format!("/declarations/{declaration_id}/students")).await;
    assert_eq!(status, 404, "not on the authority's route");

    // The reviewer searches by name and by result, and marks students.
    let (status, students) = get(&hr, &s, "henan", &format!("/declarations/{declaration_id}/students?result=failed")).await;
    assert_eq!((status, students["total"].as_i64()), (200, Some(1)), "{students}");
    let failed_row = students["items"][0]["id"].as_i64().unwrap();
    let name_b = students["items"][0]["name"].as_str().unwrap().to_owned();
    let (_, by_name) = json_of(
        hr.get(s.api("henan", &format!("/declarations/{declaration_id}/students"))).query(&[("q", name_b.as_str())]).send().await.unwrap(),
    )
    .await;
    assert_eq!(by_name["total"], 1, "{by_name}");
    // The reviewer overrides the institution: the failed student passes on appeal, then is failed again
    // by a batch over the search.
    let verdicts = format!("/declarations/{declaration_id}/verdicts");
    let (status, body) = post(&hr, &s, "henan", &verdicts, json!({"ids": [failed_row], "verdict": "pass"})).await;
    assert_eq!((status, body["marked"].as_i64()), (200, Some(1)), "{body}");
    let (status, body) = post(&hr, &s, "henan", &verdicts, json!({"all": true, "q": name_b, "verdict": "fail"})).await;
    assert_eq!((status, body["marked"].as_i64()), (200, Some(1)), "{body}");
    let (status, body) = post(&hr, &s, "henan", &verdicts, json!({"ids": [failed_row], "verdict": "maybe"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post(&institution, &s, "henan", &verdicts, json!({"ids": [failed_row], "verdict": "pass"})).await;
    assert_eq!(status, 403, "the institution cannot mark its own students");

    // Approving settles the rest by the institution's result and grants the passed student the hours.
    let (status, body) = decide(&hr, &s, "henan", &[item["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, done) = get(&institution, &s, "henan", &format!("/declarations/{declaration_id}")).await;
    assert_eq!(
        (done["status"].as_str(), done["verdict_pass"].as_i64(), done["verdict_fail"].as_i64()),
        (Some("approved"), Some(1), Some(1)),
        "{done}"
    );
    let (status, _) = post(&hr, &s, "henan", &verdicts, json!({"ids": [failed_row], "verdict": "pass"})).await;
    assert_eq!(status, 409, "decided declarations are closed");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source = 'offline'").await, 1);
    s.drain_jobs().await;
    let staff = s.demo("henan", "staff", 101).await;
    let credit_year = plan["credit_year"].as_i64().unwrap();
    let (_, credits) = get(&staff, &s, "henan", &format!("/me/credits?year={credit_year}")).await;
    let offline: Vec<&Value> = credits["items"].as_array().unwrap().iter().filter(|c| c["source"] == "offline").collect();
    assert_eq!(offline.len(), 1, "{credits}");
    assert_eq!((offline[0]["subject"].as_str(), offline[0]["hours"].as_f64()), (Some("public"), plan["hours"].as_f64()), "{credits}");
    let other_staff = s.demo("henan", "staff", 102).await;
    let (_, credits) = get(&other_staff, &s, "henan", &format!("/me/credits?year={credit_year}")).await;
    assert!(credits["items"].as_array().unwrap().iter().all(|c| c["source"] != "offline"), "the failed student gets nothing: {credits}");
    let (_, messages) = get(&institution, &s, "henan", "/messages").await;
    assert!(messages.to_string().contains("培训班学时申报已通过"), "{messages}");
}
both!(henan_plan_class_scores_declaration_credits, henan_plan_class_scores_declaration_credits);

async fn professional_declarations_need_a_department_and_can_be_rejected(s: TestServer) {
    let institution = s.demo("henan", "institution", 301).await;
    let plan_id = approved_plan(&s, "henan", "professional").await;
    let (_, plan) = get(&institution, &s, "henan", &format!("/plans/{plan_id}")).await;
    let (_, class) = post(&institution, &s, "henan", "/classes", class_body(&plan, "专业科目培训班", 2)).await;
    let class_id = class["id"].as_i64().unwrap();
    let path = format!("/classes/{class_id}/declaration");
    let (status, body) = post(&institution, &s, "henan", &path, json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["class"].is_string(), "no scores yet: {body}");
    post(
        &institution,
        &s,
        "henan",
        &format!("/classes/{class_id}/scores"),
        json!({"id_number": demo_id_number("henan", 101), "score": 75}),
    )
    .await;
    let (status, body) = post(&institution, &s, "henan", &path, json!({})).await;
    assert_eq!((status, body["fields"]["choice"].is_string()), (422, true), "Henan asks where professional ones go: {body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM class_declarations").await, 0);
    // The roster page offers the choice the plugin asks for.
    let (_, roster) = page_csrf(&institution, &s.url("henan", &format!("/classes/{class_id}/roster"))).await;
    assert!(roster.contains("送审部门") && roster.contains("行业主管部门"), "{roster}");
    let (status, declaration) = post(&institution, &s, "henan", &path, json!({"choice": "authority"})).await;
    assert_eq!(status, 201, "{declaration}");
    let authority = s.demo("henan", "authority", 401).await;
    let (_, queue) = get(&authority, &s, "henan", "/approvals?kind=declaration").await;
    let approval = queue["items"][0]["id"].as_i64().expect("in the authority's queue");
    let (status, _) = decide(&authority, &s, "henan", &[approval], "reject", None).await;
    assert_eq!(status, 422, "a rejection needs a reason");
    let (status, body) = decide(&authority, &s, "henan", &[approval], "reject", Some("成绩证明不全")).await;
    assert_eq!(status, 200, "{body}");
    let (_, done) = get(&institution, &s, "henan", &format!("/declarations/{}", declaration["id"])).await;
    assert_eq!(done["status"], "rejected");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source = 'offline'").await, 0);
}
both!(professional_declarations_need_a_department_and_can_be_rejected, professional_declarations_need_a_department_and_can_be_rejected);

async fn classes_pages_work_for_institutions_and_reviewers(s: TestServer) {
    let institution = s.demo("henan", "institution", 301).await;
    let plan_id = approved_plan(&s, "henan", "public").await;
    let (_, list) = page_csrf(&institution, &s.url("henan", "/classes")).await;
    assert!(list.contains("职业道德培训第一期") && list.contains("申报花名册"), "the demo class: {list}");
    let (_, none) = page_csrf(&institution, &s.url("henan", "/classes?q=没有这个班")).await;
    assert!(none.contains("没有符合条件的培训班"), "empty state: {none}");
    // New class through the form; a mistake re-renders with the Chinese message.
    let (csrf, form) = page_csrf(&institution, &s.url("henan", "/classes/new")).await;
    assert!(form.contains(&format!("value=\"{plan_id}\"")), "approved plans are offered: {form}");
    let (_, plan) = get(&institution, &s, "henan", &format!("/plans/{plan_id}")).await;
    let fields = |name: &str, capacity: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("plan_id".to_owned(), plan_id.to_string()),
            ("name".to_owned(), name.to_owned()),
            ("capacity".to_owned(), capacity.to_owned()),
            ("start_date".to_owned(), plan["start_date"].as_str().unwrap().to_owned()),
            ("end_date".to_owned(), plan["end_date"].as_str().unwrap().to_owned()),
        ]
    };
    let res = institution.post(s.url("henan", "/classes/new")).form(&fields("页面班", "0")).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("培训班人数应为正整数"));
    let res = institution.post(s.url("henan", "/classes/new")).form(&fields("页面班", "2")).send().await.unwrap();
    let page = landed(&institution, &s, res).await;
    assert!(page.contains("页面班") && page.contains("成绩录入"), "{page}");
    let (_, classes) = get(&institution, &s, "henan", "/classes").await;
    let class_id = classes["items"][0]["id"].as_i64().unwrap();

    // A score through the page form, then a bad one.
    let class_url = s.url("henan", &format!("/classes/{class_id}/scores"));
    let form =
        [("csrf_token", csrf.as_str()), ("id_number", &demo_id_number("henan", 101)), ("score", "92"), ("passed", ""), ("remark", "")];
    let res = institution.post(&class_url).form(&form).send().await.unwrap();
    assert!(landed(&institution, &s, res).await.contains("92"));
    let form = [("csrf_token", csrf.as_str()), ("id_number", "123"), ("score", "92"), ("passed", ""), ("remark", "")];
    let res = institution.post(&class_url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("身份证号码格式不正确"));

    // Declare through the roster page; the reviewer's audit page lists the student and marks in batch.
    let res = institution
        .post(s.url("henan", &format!("/classes/{class_id}/declare")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(landed(&institution, &s, res).await.contains("已提交审核"));
    let (_, listed) = get(&institution, &s, "henan", &format!("/classes/{class_id}")).await;
    let declaration_id = listed["declaration_id"].as_i64().unwrap();
    let hr = s.demo("henan", "hr", 501).await;
    let (hr_csrf, audit) = page_csrf(&hr, &s.url("henan", &format!("/declarations/{declaration_id}"))).await;
    assert!(audit.contains("批量合格") && audit.contains("全部不合格") && audit.contains("页面班"), "{audit}");
    let res = hr
        .post(s.url("henan", &format!("/declarations/{declaration_id}/verdicts")))
        .form(&[("csrf_token", hr_csrf.as_str()), ("all", "1"), ("verdict", "fail"), ("q", ""), ("result", "")])
        .send()
        .await
        .unwrap();
    assert!(landed(&hr, &s, res).await.contains("审核不合格"));
    let (_, queue) = page_csrf(&hr, &s.url("henan", "/approvals?kind=declaration")).await;
    assert!(
        queue.contains("页面班") && queue.contains("按申报机构") && queue.contains("继续教育培训中心"),
        "grouped by institution: {queue}"
    );
    let (_, plans) = page_csrf(&hr, &s.url("henan", "/approvals?kind=plan")).await;
    assert!(plans.contains("按申报机构") && plans.contains("没有待审核的培训计划"), "{plans}");
}
both!(classes_pages_work_for_institutions_and_reviewers, classes_pages_work_for_institutions_and_reviewers);

async fn classes_and_declarations_stay_in_their_tenant_and_scope(s: TestServer) {
    let institution = s.demo("henan", "institution", 301).await;
    let scores_before = s.count("SELECT COUNT(*) FROM class_scores").await;
    let plan_id = approved_plan(&s, "henan", "public").await;
    let (_, plan) = get(&institution, &s, "henan", &format!("/plans/{plan_id}")).await;
    let (_, class) = post(&institution, &s, "henan", "/classes", class_body(&plan, "隔离班", 2)).await;
    let class_id = class["id"].as_i64().unwrap();
    post(
        &institution,
        &s,
        "henan",
        &format!("/classes/{class_id}/scores"),
        json!({"id_number": demo_id_number("henan", 101), "score": 80}),
    )
    .await;
    let (_, declaration) = post(&institution, &s, "henan", &format!("/classes/{class_id}/declaration"), json!({})).await;
    let declaration_id = declaration["id"].as_i64().unwrap();
    let score_id = s.count("SELECT MAX(id) FROM declaration_students").await;
    let class_score = s.count(&format!("SELECT MAX(id) FROM class_scores WHERE class_id = {class_id}")).await;

    // Other tenants' institution and reviewers get nothing, whatever they try.
    for (tenant, user_type, seq) in
        [("hunan", "institution", 301), ("hubei", "institution", 301), ("hunan", "hr", 501), ("hubei", "province", 601)]
    {
        let other = s.demo(tenant, user_type, seq).await;
        for path in [
            format!("/classes/{class_id}"),
            format!("/classes/{class_id}/scores"),
            format!("/declarations/{declaration_id}"),
            format!("/declarations/{declaration_id}/students"),
        ] {
            let (status, body) = get(&other, &s, tenant, &path).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} GET {path}: {status} {body}");
        }
        let (_, list) = get(&other, &s, tenant, "/classes").await;
        assert!(!list.to_string().contains("隔离班"), "{tenant} {user_type} lists Henan's class: {list}");
        for (path, body) in [
            (format!("/classes/{class_id}/scores"), json!({"id_number": demo_id_number("henan", 102), "score": 80})),
            (format!("/classes/{class_id}/declaration"), json!({})),
            ("/classes/delete".to_owned(), json!({"ids": [class_id]})),
            (format!("/declarations/{declaration_id}/verdicts"), json!({"ids": [score_id], "verdict": "fail"})),
        ] {
            let (status, _) = post(&other, &s, tenant, &path, body).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} POST {path}: {status}");
        }
        for (path, body) in [
            (format!("/classes/{class_id}"), class_body(&plan, "x", 1)),
            (format!("/classes/{class_id}/scores/{class_score}"), json!({"score": 1})),
        ] {
            let (status, _) = json_of(other.put(s.api(tenant, &path)).json(&body).send().await.unwrap()).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} PUT {path}: {status}");
        }
        let (status, _) = post(&other, &s, tenant, &format!("/classes/{class_id}/scores/delete"), json!({"ids": [class_score]})).await;
        assert!(status == 404 || status == 403, "{tenant} {user_type} deleting scores: {status}");
        let form = Form::new().part("file", Part::bytes(score_sheet(&[])).file_name("成绩.xlsx"));
        let res = other.post(s.api(tenant, &format!("/classes/{class_id}/scores/import"))).multipart(form).send().await.unwrap();
        assert!(res.status() == 404 || res.status() == 403, "{tenant} {user_type} importing scores: {}", res.status());
        for page in [
            format!("/declarations/{declaration_id}"),
            format!("/classes/{class_id}"),
            format!("/classes/{class_id}/edit"),
            format!("/classes/{class_id}/roster"),
        ] {
            let res = other.get(s.url(tenant, &page)).send().await.unwrap();
            assert!(res.status() == 404 || res.status() == 403, "{tenant} page {page}: {}", res.status());
        }
    }
    // In Henan: staff and unit admins are not institutions; reviewers off the route see nothing.
    for (user_type, seq) in [("staff", 101), ("unit", 201)] {
        let outsider = s.demo("henan", user_type, seq).await;
        let (status, _) = get(&outsider, &s, "henan", "/classes").await;
        assert_eq!(status, 403, "{user_type}");
        let (status, _) = get(&outsider, &s, "henan", &format!("/declarations/{declaration_id}/students")).await;
        assert_eq!(status, 404, "{user_type}");
    }
    let authority = s.demo("henan", "authority", 401).await;
    let (status, _) =
        post(&authority, &s, "henan", &format!("/declarations/{declaration_id}/verdicts"), json!({"ids": [score_id], "verdict": "fail"}))
            .await;
    assert_eq!(status, 404);
    assert_eq!(s.count("SELECT COUNT(*) FROM declaration_students WHERE verdict <> 'pending'").await, 0, "nothing was marked");
    assert_eq!(s.count("SELECT COUNT(*) FROM class_scores").await, scores_before + 1, "nothing was added");
}
both!(classes_and_declarations_stay_in_their_tenant_and_scope, classes_and_declarations_stay_in_their_tenant_and_scope);
