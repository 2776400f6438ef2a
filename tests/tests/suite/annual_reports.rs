//! CE institutions' yearly plan and work summary (issue 18 §5, seed 004 §5.1.5): the institution files
//! with a document, the department the tenant's plugin names audits it in the approval queue, the
//! institution is told; bad input and other tenants' or others' requests change and see nothing.

use chrono::Datelike;
use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::common::*;

/// A year a plan may be for (this year in China or the next) and one a summary may cover.
fn plan_year() -> i64 {
    i64::from(chrono::Utc::now().year()) + 1
}

fn summary_year() -> i64 {
    i64::from(chrono::Utc::now().year()) - 1
}

fn report(kind: &str, year: i64, title: &str, document: Option<(&[u8], &str)>) -> Form {
    let form = Form::new()
        .text("kind", kind.to_owned())
        .text("year", year.to_string())
        .text("title", title.to_owned())
        .text("content", "一、培训目标\n二、培训安排".to_owned())
        .text("classes", "12")
        .text("trainees", "860");
    match document {
        Some((bytes, name)) => form.part("document", Part::bytes(bytes.to_vec()).file_name(name.to_owned())),
        None => form,
    }
}

async fn file(client: &Client, s: &TestServer, tenant: &str, form: Form) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/annual-reports")).multipart(form).send().await.unwrap()).await
}

async fn get(client: &Client, s: &TestServer, tenant: &str, path: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await
}

async fn queue(client: &Client, s: &TestServer, tenant: &str, kind: &str) -> Vec<Value> {
    let (status, body) = get(client, s, tenant, &format!("/approvals?kind={kind}")).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// Hunan: the institution's supervising department (the 教育厅) approves the plan; the approval page
/// shows the report and its document; the institution is told and sees it approved.
async fn a_yearly_plan_is_filed_and_approved(s: TestServer) {
    let institution = s.demo("hunan", "institution", 301).await;
    let authority = s.demo("hunan", "authority", 401).await;
    let year = plan_year();
    let (status, body) = file(&institution, &s, "hunan", report("plan", year, "年度继续教育培训计划", Some((PDF, "计划.pdf")))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_i64().unwrap();
    // One plan a year while it waits or stands.
    let (status, body) = file(&institution, &s, "hunan", report("plan", year, "又一份", Some((PDF, "计划.pdf")))).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("report_exists")), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM institution_reports").await, 1);

    let items = queue(&authority, &s, "hunan", "annual_plan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(queue(&authority, &s, "hunan", "annual_summary").await.is_empty());
    // The reviewer's to-do counts (API and home page) say what waits in each of its queues.
    let (status, counts) = get(&authority, &s, "hunan", "/me/todo-counts").await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!((counts["annual_plan"].as_i64(), counts["annual_summary"].as_i64()), (Some(1), Some(0)), "{counts}");
    assert_eq!(counts["claim"], 0, "every queue the reviewer has, zeros too: {counts}");
    let home = authority.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("data-kind=\"annual_plan\"><h3>机构年度计划</h3><p><strong>1</strong>"), "{home}");
    // Every page's header counts what waits in all the reviewer's queues.
    let page = authority.get(s.url("hunan", "/annual-reports")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-count=\"waiting\">待审核 <span class=\"badge unmet\">1</span>"), "{page}");
    let (_, counts) = get(&institution, &s, "hunan", "/me/todo-counts").await;
    assert_eq!(counts, serde_json::json!({}), "an institution reviews no queue");
    let approval = items[0]["id"].as_i64().unwrap();
    let (status, detail) = get(&authority, &s, "hunan", &format!("/approvals/{approval}")).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subject"]["report"]["title"], "年度继续教育培训计划");
    let html = authority.get(s.url("hunan", &format!("/approvals/{approval}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("计划培训班次") && html.contains(&format!("/annual-reports/{id}/document\">计划.pdf</a>")), "{html}");
    let res = authority.get(s.api("hunan", &format!("/annual-reports/{id}/document"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    // The authority lists its institutions' reports.
    let (_, listed) = get(&authority, &s, "hunan", "/annual-reports?kind=plan&status=pending").await;
    assert_eq!(listed["total"], 1, "{listed}");

    // The demo's notices read first, so that the header counts only the decision's message.
    assert_eq!(institution.post(s.api("hunan", "/messages/read-all")).send().await.unwrap().status(), 200);
    let (status, body) = decide(&authority, &s, "hunan", &[approval], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, counts) = get(&authority, &s, "hunan", "/me/todo-counts").await;
    assert_eq!(counts["annual_plan"], 0, "{counts}");
    let (_, mine) = get(&institution, &s, "hunan", &format!("/annual-reports/{id}")).await;
    assert_eq!(mine["report"]["status"], "approved", "{mine}");
    assert_eq!(mine["report"]["status_label"], "已通过");
    let header = institution.get(s.url("hunan", "/annual-reports")).send().await.unwrap().text().await.unwrap();
    assert!(header.contains("data-count=\"unread\">站内消息 <span class=\"badge unmet\">1</span>"), "{header}");
    assert!(!header.contains("data-count=\"waiting\""), "the institution reviews nothing: {header}");
    let (_, messages) = get(&institution, &s, "hunan", "/messages").await;
    assert!(messages.to_string().contains("年度报送已通过审核"), "{messages}");
    // An approved plan cannot be withdrawn; the page shows it with its trail.
    let res = institution.post(s.api("hunan", &format!("/annual-reports/{id}/withdraw"))).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let html = institution.get(s.url("hunan", &format!("/annual-reports/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已通过") && html.contains("提交报送") && !html.contains("撤回报送"), "{html}");
}
both!(a_yearly_plan_is_filed_and_approved, a_yearly_plan_is_filed_and_approved);

/// Henan: the HR bureau audits; a rejected summary is filed again; a withdrawn one leaves the queue.
async fn a_rejected_or_withdrawn_summary_is_filed_again(s: TestServer) {
    let institution = s.demo("henan", "institution", 301).await;
    let bureau = s.demo("henan", "hr", 501).await;
    let year = summary_year();
    let (status, body) = file(&institution, &s, "henan", report("summary", year, "年度工作总结", Some((PDF, "总结.pdf")))).await;
    assert_eq!(status, 201, "{body}");
    let first = body["id"].as_i64().unwrap();
    let items = queue(&bureau, &s, "henan", "annual_summary").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let (_, counts) = get(&bureau, &s, "henan", "/me/todo-counts").await;
    assert_eq!(counts["annual_summary"], 1, "{counts}");
    let (status, body) = decide(&bureau, &s, "henan", &[items[0]["id"].as_i64().unwrap()], "reject", Some("缺少培训人次统计")).await;
    assert_eq!(status, 200, "{body}");
    let (_, messages) = get(&institution, &s, "henan", "/messages").await;
    assert!(messages.to_string().contains("缺少培训人次统计"), "{messages}");

    let (status, body) = file(&institution, &s, "henan", report("summary", year, "年度工作总结（修改）", Some((PDF, "总结2.pdf")))).await;
    assert_eq!(status, 201, "{body}");
    let second = body["id"].as_i64().unwrap();
    assert_ne!(first, second);
    let res = institution.post(s.api("henan", &format!("/annual-reports/{second}/withdraw"))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(queue(&bureau, &s, "henan", "annual_summary").await.is_empty());
    let (_, listed) = get(&institution, &s, "henan", "/annual-reports").await;
    let statuses: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["withdrawn", "rejected"], "{listed}");
    let (status, body) = file(&institution, &s, "henan", report("summary", year, "年度工作总结（再次）", Some((PDF, "总结3.pdf")))).await;
    assert_eq!(status, 201, "{body}");
}
both!(a_rejected_or_withdrawn_summary_is_filed_again, a_rejected_or_withdrawn_summary_is_filed_again);

/// Bad input is refused with the field named and stores nothing; only institutions file; other tenants
/// and admins outside the scope see nothing.
async fn bad_reports_change_nothing_and_others_see_nothing(s: TestServer) {
    let institution = s.demo("hubei", "institution", 301).await;
    let stored = "SELECT (SELECT COUNT(*) FROM institution_reports) + (SELECT COUNT(*) FROM blobs) + (SELECT COUNT(*) FROM approvals)";
    let before = s.count(stored).await;
    let long_title = "题".repeat(101);
    for (form, field) in [
        (report("plan", plan_year(), "计划", None), "document"),
        (report("plan", plan_year() + 3, "计划", Some((PDF, "a.pdf"))), "year"),
        (report("summary", plan_year() + 1, "总结", Some((PDF, "a.pdf"))), "year"),
        (report("budget", plan_year(), "计划", Some((PDF, "a.pdf"))), "kind"),
        (report("plan", plan_year(), &long_title, Some((PDF, "a.pdf"))), "title"),
        (report("plan", plan_year(), "=HYPERLINK(\"x\")", Some((PDF, "a.pdf"))), "title"),
    ] {
        let (status, body) = file(&institution, &s, "hubei", form).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let (status, body) =
        file(&institution, &s, "hubei", report("plan", plan_year(), "计划", Some((b"MZ\x90\x00 not a pdf", "a.pdf")))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_file_type")), "{body}");
    let form = report("plan", plan_year(), "计划", Some((PDF, "a.pdf"))).text("classes", "很多");
    let (status, _) = file(&institution, &s, "hubei", form).await;
    assert_eq!(status, 422);
    assert_eq!(s.count(stored).await, before, "nothing stored");
    // Staff and unit admins file nothing.
    for client in [s.demo("hubei", "staff", 101).await, s.demo("hubei", "unit", 201).await] {
        let (status, _) = file(&client, &s, "hubei", report("plan", plan_year(), "计划", Some((PDF, "a.pdf")))).await;
        assert_eq!(status, 403);
        assert_eq!(get(&client, &s, "hubei", "/annual-reports").await.0, 403);
    }

    let (status, body) = file(&institution, &s, "hubei", report("plan", plan_year(), "计划", Some((PDF, "a.pdf")))).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // Another tenant's admins, with the same rights there, find nothing under this id.
    for (tenant, client) in [("henan", s.demo("henan", "authority", 401).await), ("henan", s.demo("henan", "institution", 301).await)] {
        for path in [format!("/annual-reports/{id}"), format!("/annual-reports/{id}/document")] {
            let status = client.get(s.api(tenant, &path)).send().await.unwrap().status();
            assert_eq!(status, 404, "{tenant} {path}");
        }
        let (_, listed) = get(&client, &s, tenant, "/annual-reports").await;
        assert_eq!(listed["total"], 0, "{listed}");
    }
    let other_institution = s.demo("henan", "institution", 301).await;
    assert_eq!(other_institution.post(s.api("henan", &format!("/annual-reports/{id}/withdraw"))).send().await.unwrap().status(), 404);
    // A bureau whose subtree does not hold the institution sees nothing either.
    let county = county_admin(&s, "hubei", "420103", 1).await;
    assert_eq!(get(&county, &s, "hubei", &format!("/annual-reports/{id}")).await.0, 404);
    let (_, listed) = get(&county, &s, "hubei", "/annual-reports").await;
    assert_eq!(listed["total"], 0, "{listed}");
    assert!(queue(&county, &s, "hubei", "annual_plan").await.is_empty());
}
both!(bad_reports_change_nothing_and_others_see_nothing, bad_reports_change_nothing_and_others_see_nothing);
