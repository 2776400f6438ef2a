//! Yearly progress (issue 4 §1, §2, §7, §8): the stored yearly status follows the ledger through
//! background recomputes; staff see their bars, notes, history and credits; admins list their scope's
//! staff with filters and drill down (seed 003 "查看继续教育信息"); operators import history and watch
//! the jobs from the admin pages.

use jijiao::db::q;
use jijiao::hours::{NewCredit, grant_tx, revoke_tx};
use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::*;

/// The stored row: (met, counted public, counted professional, state).
async fn stored(s: &TestServer, tenant: &str, person: i64, year: i64) -> Option<(bool, i64, i64, &'static str)> {
    jijiao::hours::status::get(&s.db, tenant, person, year)
        .await
        .unwrap()
        .map(|r| (r.met, r.counted_public, r.counted_professional, r.state()))
}

async fn queued_recomputes(s: &TestServer) -> usize {
    s.jobs().await.iter().filter(|j| j.kind == jijiao::hours::status::RECOMPUTE_JOB && j.state == "queued").count()
}

fn csrf_in(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).expect("a form with a CSRF token")[1].to_owned()
}

async fn page(client: &Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn status_follows_the_ledger(s: TestServer) {
    let person = demo_person(&s, "hunan", 101).await;
    // A grant marks the person-year stale and queues its recompute in the same transaction …
    let public = grant(&s, "hunan", person, 2024, "public", 3000, "t-1").await;
    assert_eq!(stored(&s, "hunan", person, 2024).await, Some((false, 0, 0, "pending")));
    // … once: a second credit of the same person-year finds the recompute still waiting.
    let professional = grant(&s, "hunan", person, 2024, "professional", 6000, "t-2").await;
    assert_eq!(queued_recomputes(&s).await, 1);
    assert!(s.drain_jobs().await >= 1);
    assert_eq!(stored(&s, "hunan", person, 2024).await, Some((true, 3000, 6000, "computed")), "30 + 60 meets Hunan's year");
    let row = jijiao::hours::status::get(&s.db, "hunan", person, 2024).await.unwrap().unwrap();
    assert_eq!(row.plugin_sha256.as_deref().map(str::len), Some(64), "the judging plugin is recorded");
    assert!(row.computed_at.is_some());

    // A duplicate source reference changes nothing and queues nothing.
    let mut tx = s.db.begin().await.unwrap();
    let again = NewCredit {
        person_id: person,
        year: 2024,
        subject: "public",
        hours: 3000,
        source: "online",
        source_ref: "t-1",
        course: None,
        granted_by: None,
    };
    assert_eq!(grant_tx(&mut tx, "hunan", again).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(queued_recomputes(&s).await, 0);

    // Revoking keeps the row and recomputes the year.
    let mut tx = s.db.begin().await.unwrap();
    assert_eq!(revoke_tx(&mut tx, "hunan", professional, None, "重复登记").await.unwrap(), Some((person, 2024)));
    tx.commit().await.unwrap();
    assert_eq!(stored(&s, "hunan", person, 2024).await.map(|r| r.3), Some("stale"), "old numbers stay visible, marked stale");
    let mut tx = s.db.begin().await.unwrap();
    assert_eq!(revoke_tx(&mut tx, "hunan", professional, None, "again").await.unwrap(), None, "revoked once");
    tx.commit().await.unwrap();
    s.drain_jobs().await;
    assert_eq!(stored(&s, "hunan", person, 2024).await, Some((false, 3000, 0, "computed")));
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE revoked_at IS NOT NULL").await, 1);
    let _ = public;

    // A new title level is judged again for this year (once its change audit is approved).
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, mut profile) = json_of(staff.get(s.api("hunan", "/me/profile")).send().await.unwrap()).await;
    let this_year = jijiao::hours::this_year();
    let (status, body) =
        json_of(staff.post(s.api("hunan", "/me/changes")).json(&json!({"fields": {"title_level": "senior"}})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(queued_recomputes(&s).await, 0, "not before it is approved");
    let unit_admin = s.demo("hunan", "unit", 201).await;
    let (_, queue) = json_of(unit_admin.get(s.api("hunan", "/approvals?kind=person_change")).send().await.unwrap()).await;
    let (status, body) = decide(&unit_admin, &s, "hunan", &[queue["items"][0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(queued_recomputes(&s).await, 1, "the title level changed");
    profile["title_level"] = json!("senior");
    profile["graduated_on"] = json!("2002-07-01");
    assert_eq!(stored(&s, "hunan", person, this_year).await.map(|r| r.3), Some("pending"));
    s.drain_jobs().await;
    assert_eq!(stored(&s, "hunan", person, this_year).await.map(|r| r.3), Some("computed"));
    // Saving the profile again without a change to title level or post queues nothing.
    let (status, _) = json_of(staff.patch(s.api("hunan", "/me/profile")).json(&profile).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(queued_recomputes(&s).await, 0);

    // The operator's batched recompute judges every person of the tenant for a year.
    let rules = &s.state.rules;
    let n = jijiao::hours::status::recompute_year(&s.db, rules, "hunan", 2023, |_| {}).await.unwrap();
    assert_eq!(n as i64, s.count("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan'").await);
    assert_eq!(stored(&s, "hunan", person, 2023).await, Some((false, 0, 0, "computed")));
    assert_eq!(s.count("SELECT COUNT(*) FROM year_status WHERE tenant_id <> 'hunan'").await, 0, "other tenants untouched");
}
both!(status_follows_the_ledger, status_follows_the_ledger);

async fn staff_page_shows_bars_and_notes(s: TestServer) {
    let person = demo_person(&s, "hunan", 101).await;
    // 2021 has required public courses (seed 002) that these online hours do not name.
    grant(&s, "hunan", person, 2021, "public", 3000, "p-1").await;
    grant(&s, "hunan", person, 2021, "professional", 4050, "p-2").await;
    grant(&s, "hunan", person, 2024, "public", 3000, "p-3").await;
    grant(&s, "hunan", person, 2024, "professional", 6000, "p-4").await;
    let staff = s.demo("hunan", "staff", 101).await;
    // Before any worker ran, the person's own page judges the year itself and says when.
    let (status, html) = page(&staff, s.url("hunan", "/hours?year=2021")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("2021 年度学时进度"), "{html}");
    assert_eq!(html.matches("<progress").count(), 3, "a bar per subject and the total: {html}");
    assert!(html.contains("尚差 19.5 学时"), "professional shortfall 60 - 40.5: {html}");
    assert!(html.contains("未达标") && html.contains("计算时间"), "{html}");
    let notes = jijiao::hours::status::get(&s.db, "hunan", person, 2021).await.unwrap().unwrap().notes();
    assert!(!notes.is_empty());
    assert!(html.contains(notes[0].as_str()), "the plugin's notes are shown: {notes:?}");
    // History: every year with credits, and this year.
    let this_year = jijiao::hours::this_year();
    for year in [2021, 2024, this_year] {
        assert!(html.contains(&format!("data-year=\"{year}\"")), "{year} in the history");
    }
    // The met year.
    let (_, html) = page(&staff, s.url("hunan", "/hours?year=2024")).await;
    assert!(html.contains("已达标") && html.contains("已完成"), "{html}");
    // Credits with filters and an empty state.
    let (_, html) = page(&staff, s.url("hunan", "/hours?year=2024&credit_year=2021&subject=professional")).await;
    assert!(html.contains("40.5") && !html.contains("<td>2024</td>"), "{html}");
    let (_, html) = page(&staff, s.url("hunan", "/hours?credit_year=2021&source=offline")).await;
    assert!(html.contains("暂无符合条件的学时记录"), "{html}");
    let (status, _) = page(&staff, s.url("hunan", "/hours?subject=nonsense")).await;
    assert_eq!(status, 400);
    // The API: /me/status keeps the rules' shape; /me/years lists the history with states.
    let (status, body) = json_of(staff.get(s.api("hunan", "/me/status?year=2024")).send().await.unwrap()).await;
    assert_eq!((status, body["met"].as_bool()), (200, Some(true)), "{body}");
    let (_, body) = json_of(staff.get(s.api("hunan", "/me/years")).send().await.unwrap()).await;
    let years: Vec<(i64, String)> =
        body["items"].as_array().unwrap().iter().map(|y| (y["year"].as_i64().unwrap(), y["state"].as_str().unwrap().to_owned())).collect();
    assert!(years.contains(&(2021, "computed".into())) && years.contains(&(2024, "computed".into())), "{body}");
    // Another person with no credits gets an empty state; admins have no ledger of their own.
    let other = s.demo("hunan", "staff", 102).await;
    let (status, html) = page(&other, s.url("hunan", "/hours")).await;
    assert_eq!(status, 200);
    // (Not a bare "40.5": the page's random CSRF token may contain it.)
    assert!(html.contains("暂无符合条件的学时记录") && !html.contains("data-year=\"2021\""), "{html}");
    assert!(html.contains(">我的学时</a>"), "staff have the menu entry");
    let admin = s.demo("hunan", "unit", 201).await;
    let (status, html) = page(&admin, s.url("hunan", "/hours")).await;
    assert_eq!(status, 200);
    assert!(html.contains("管理员账号没有个人学时档案") && !html.contains(">我的学时</a>"), "{html}");
    let (status, body) = json_of(admin.get(s.api("hunan", "/me/years")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("no_person")));
    // Another tenant's staff see none of it.
    let henan = s.demo("henan", "staff", 101).await;
    let (_, body) = json_of(henan.get(s.api("henan", "/me/years")).send().await.unwrap()).await;
    assert!(body["items"].as_array().unwrap().iter().all(|y| y["state"] == "pending"), "{body}");
    assert_eq!(henan.get(s.url("hunan", "/hours")).send().await.unwrap().status(), 303, "a Henan session is no Hunan login");
}
both!(staff_page_shows_bars_and_notes, staff_page_shows_bars_and_notes);

fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

async fn list(s: &TestServer, client: &Client, tenant: &str, query: &str) -> Value {
    let (status, body) = json_of(client.get(s.api(tenant, &format!("/staff/status?{query}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

async fn admin_lists_filter_and_stay_in_scope(s: TestServer) {
    let (one, two) = (demo_person(&s, "hunan", 101).await, demo_person(&s, "hunan", 102).await);
    grant(&s, "hunan", one, 2024, "public", 3000, "a-1").await;
    grant(&s, "hunan", one, 2024, "professional", 6000, "a-2").await;
    grant(&s, "hunan", two, 2024, "public", 1000, "a-3").await;
    s.drain_jobs().await;
    // A third person of the school, never computed for 2024.
    let school = org_id(&s, "hunan", "unit", "第一中学").await;
    let (status, body) = register_staff(&s, "hunan", &staff_form(school, &new_id(61), "李新")).await;
    assert_eq!(status, 201, "{body}");

    let city = s.demo("hunan", "hr", 501).await;
    let body = list(&s, &city, "hunan", "year=2024").await;
    assert_eq!(names(&body), ["李新", "湘一", "湘二"], "{body}");
    assert_eq!(
        (body["summary"]["total"].as_i64(), body["summary"]["met"].as_i64(), body["summary"]["not_met"].as_i64()),
        (Some(3), Some(1), Some(1))
    );
    assert!(body["items"].as_array().unwrap().iter().all(|p| p["id_number"].as_str().unwrap().contains('*')), "masked: {body}");
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&met=yes").await), ["湘一"]);
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&met=no").await), ["湘二"]);
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&met=none").await), ["李新"]);
    for (met, total) in [("yes", 1), ("no", 1), ("none", 1), ("", 3)] {
        assert_eq!(list(&s, &city, "hunan", &format!("year=2024&met={met}")).await["total"], total, "the total follows the met filter");
    }
    let hospital = org_id(&s, "hunan", "unit", "中心医院").await;
    assert_eq!(names(&list(&s, &city, "hunan", &format!("year=2024&unit={hospital}")).await), ["湘二"]);
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&q=湘").await), ["湘一", "湘二"]);
    let id = jijiao::demo::demo_id_number("hunan", 102);
    assert_eq!(names(&list(&s, &city, "hunan", &format!("year=2024&q={id}")).await), ["湘二"]);
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&title_level=senior").await), Vec::<String>::new());
    assert_eq!(list(&s, &city, "hunan", "year=2024&per_page=1&page=2").await["items"].as_array().unwrap().len(), 1, "paged");
    let met = list(&s, &city, "hunan", "year=2024&met=yes").await;
    assert_eq!((met["items"][0]["counted"]["total"].as_f64(), met["items"][0]["state"].as_str()), (Some(90.0), Some("computed")));
    // Bad filters are refused with a code; empty form fields mean "any".
    let (status, body) = json_of(city.get(s.api("hunan", "/staff/status?met=maybe")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_met")));
    assert_eq!(names(&list(&s, &city, "hunan", "year=2024&unit=&department=&met=").await).len(), 3);

    // The school's admin sees its unit only, and filters by department.
    let school_admin = s.demo("hunan", "unit", 201).await;
    assert_eq!(names(&list(&s, &school_admin, "hunan", "year=2024").await), ["李新", "湘一"]);
    let teaching: i64 = s.db.scalar(q("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:dept:teaching'")).await.unwrap();
    assert_eq!(names(&list(&s, &school_admin, "hunan", &format!("year=2024&department={teaching}")).await), ["湘一"]);
    assert_eq!(
        names(&list(&s, &school_admin, "hunan", &format!("year=2024&unit={hospital}")).await),
        Vec::<String>::new(),
        "no unit outside one's scope"
    );
    // The supervising authority sees the school it supervises.
    let authority = s.demo("hunan", "authority", 401).await;
    assert_eq!(names(&list(&s, &authority, "hunan", "year=2024").await), ["李新", "湘一"]);
    // The hospital's admin cannot see the school's staff, listed or directly.
    let hospital_admin = s.demo("hunan", "unit", 202).await;
    assert_eq!(names(&list(&s, &hospital_admin, "hunan", "year=2024").await), ["湘二"]);
    assert_eq!(hospital_admin.get(s.api("hunan", &format!("/staff/{one}/years"))).send().await.unwrap().status(), 404);
    assert_eq!(hospital_admin.get(s.api("hunan", &format!("/staff/{one}/credits"))).send().await.unwrap().status(), 404);
    assert_eq!(hospital_admin.get(s.url("hunan", &format!("/staff/{one}"))).send().await.unwrap().status(), 404);
    // Staff cannot list; another tenant's admins get nothing of Hunan's.
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(staff.get(s.api("hunan", "/staff/status")).send().await.unwrap().status(), 403);
    assert_eq!(staff.get(s.api("hunan", &format!("/staff/{two}/years"))).send().await.unwrap().status(), 403);
    let henan = s.demo("henan", "province", 601).await;
    let body = list(&s, &henan, "henan", "year=2024").await;
    assert!(names(&body).iter().all(|n| n.starts_with('豫')), "{body}");
    assert_eq!(henan.get(s.api("henan", &format!("/staff/{one}/years"))).send().await.unwrap().status(), 404);
    assert_eq!(henan.get(s.api("henan", &format!("/staff/{one}/credits"))).send().await.unwrap().status(), 404);
    assert_eq!(henan.get(s.api("hunan", "/staff/status")).send().await.unwrap().status(), 401);

    // The page shows the same list with its filters; the export carries the filtered rows and is audited.
    let (status, html) = page(&city, s.url("hunan", "/staff/status?year=2024&met=yes")).await;
    assert_eq!(status, 200);
    assert!(html.contains("湘一") && !html.contains("湘二") && html.contains("已达标"), "{html}");
    assert!(html.contains("符合条件 3 人：已达标 1 人，未达标 1 人，未计算 1 人"), "{html}");
    assert!(html.contains(&format!("/staff/{one}\">查看继续教育信息")), "drill-down link");
    let (_, html) = page(&school_admin, s.url("hunan", "/staff/status?year=2024")).await;
    assert!(html.contains("教务处") && !html.contains("全部单位"), "a unit admin filters by department, not unit: {html}");
    let res = city.get(s.url("hunan", "/staff/status.xlsx?year=2024&met=no")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx (zip) file");
    let (action, detail): (String, String) =
        s.db.one(q("SELECT action, detail FROM audit_log WHERE tenant_id = 'hunan' AND action = 'export.staff_status'")).await.unwrap();
    assert_eq!(action, "export.staff_status");
    assert!(detail.contains("\"rows\":1") && detail.contains("\"met\":\"no\""), "{detail}");
    assert_eq!(staff.get(s.url("hunan", "/staff/status.xlsx")).send().await.unwrap().status(), 403);

    // The counts follow the ledger at once (they are added up from a summary the marks keep current):
    // the hospital's person completes the year, the newcomer changes title level.
    grant(&s, "hunan", two, 2024, "public", 2000, "a-4").await;
    grant(&s, "hunan", two, 2024, "professional", 6000, "a-5").await;
    s.drain_jobs().await;
    let body = list(&s, &city, "hunan", "year=2024").await;
    assert_eq!(
        (body["summary"]["total"].as_i64(), body["summary"]["met"].as_i64(), body["summary"]["not_met"].as_i64()),
        (Some(3), Some(2), Some(0))
    );
    s.db.run(q("UPDATE people SET title_level = 'senior' WHERE tenant_id = 'hunan' AND name = '李新'")).await.unwrap();
    let senior = list(&s, &city, "hunan", "year=2024&title_level=senior").await;
    assert_eq!(
        (names(&senior), senior["total"].as_i64(), senior["summary"]["total"].as_i64()),
        (vec!["李新".to_owned()], Some(1), Some(1))
    );
    let school_only = list(&s, &school_admin, "hunan", "year=2024").await;
    assert_eq!(
        (school_only["total"].as_i64(), school_only["summary"]["met"].as_i64()),
        (Some(2), Some(1)),
        "the school's counts: {school_only}"
    );

    // Counts are kept between requests under the summary's version; a unit moving out of the city (a
    // new path) makes a new version, so the city's counts lose its people at once.
    let counts = |body: &Value| (body["summary"]["total"].as_i64(), body["summary"]["met"].as_i64());
    assert_eq!(counts(&list(&s, &city, "hunan", "year=2024").await), (Some(3), Some(2)));
    assert_eq!(counts(&list(&s, &city, "hunan", "year=2024").await), (Some(3), Some(2)), "the same again, kept");
    s.db.run(
        q("UPDATE orgs SET path = (SELECT p.path FROM orgs p WHERE p.tenant_id = 'hunan' AND p.kind = 'province') || id || '/' \
           WHERE tenant_id = 'hunan' AND id = $1")
        .bind(hospital),
    )
    .await
    .unwrap();
    let moved = list(&s, &city, "hunan", "year=2024").await;
    assert_eq!((names(&moved), counts(&moved)), (vec!["李新".to_owned(), "湘一".to_owned()], (Some(2), Some(1))), "{moved}");
}
both!(admin_lists_filter_and_stay_in_scope, admin_lists_filter_and_stay_in_scope);

/// The options of the 人员学时 page's unit drop-down: (id, selected).
fn unit_options(html: &str) -> Vec<(i64, bool)> {
    let start = html.find("<select name=\"unit\">").unwrap_or_else(|| panic!("no unit filter: {html}"));
    let select = &html[start..start + html[start..].find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(2) // before the first option, and 全部单位
        .map(|option| (option[..option.find('"').unwrap()].parse().unwrap(), option.contains("\" selected>")))
        .collect()
}

/// A province has tens of thousands of units: the 人员学时 page lists the first 200 by name and finds
/// the others by a part of their name or credit code, a search matching one unit choosing it.
async fn a_unit_among_many_is_found_by_name(s: TestServer) {
    let hospital = org_id(&s, "hunan", "unit", "中心医院").await;
    for n in 1..=201 {
        s.db.run(
            q("INSERT INTO orgs (tenant_id, kind, name, credit_code, parent_id, supervisor_id, level, region_code, hr_bureau_id, path, \
               supervisor_path, status, created_at, updated_at) \
               SELECT tenant_id, kind, $1, $2, parent_id, supervisor_id, level, region_code, hr_bureau_id, path || $3, supervisor_path || $3, \
               status, created_at, updated_at FROM orgs WHERE tenant_id = 'hunan' AND id = $4")
            .bind(format!("测试单位{n:03}"))
            .bind(format!("91430100MA4L{n:06}"))
            .bind(format!("x{n}/"))
            .bind(hospital),
        )
        .await
        .unwrap();
    }
    let city = s.demo("hunan", "hr", 501).await;
    let (city_path,): (String,) =
        s.db.one(
            q("SELECT o.path FROM accounts a JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id \
                   WHERE a.tenant_id = 'hunan' AND a.user_type = 'hr' AND a.id_number = $1")
            .bind(jijiao::demo::demo_id_number("hunan", 501)),
        )
        .await
        .unwrap();
    let open = |query: &str| page(&city, s.url("hunan", &format!("/staff/status?year=2024&{query}")));

    let (status, html) = open("").await;
    assert_eq!(status, 200);
    assert_eq!(unit_options(&html).len(), 200, "the first 200 units by name");
    assert!(html.contains("单位较多，下拉框仅列出按名称排序的前 200 个") && html.contains("name=\"unit_q\""), "{html}");
    // A unit beyond the listed ones, chosen by a link, is listed and chosen.
    let last: i64 =
        s.db.scalar(
            q("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit' AND (path LIKE $1 OR supervisor_path LIKE $1) \
                   ORDER BY name DESC, id DESC LIMIT 1")
            .bind(format!("{city_path}%")),
        )
        .await
        .unwrap();
    let (_, html) = open(&format!("unit={last}")).await;
    assert_eq!(unit_options(&html)[0], (last, true), "{html}");

    // A search matching one unit chooses it; the list shows its staff only.
    let (_, html) = open("unit_q=%E4%B8%AD%E5%BF%83%E5%8C%BB%E9%99%A2").await; // 中心医院
    assert_eq!(unit_options(&html), [(hospital, true)]);
    assert!(html.contains("湘二") && !html.contains("湘一"), "{html}");
    // Several matches narrow the drop-down and choose none (a credit code's part matches too).
    let (_, html) = open("unit_q=%E6%B5%8B%E8%AF%95%E5%8D%95%E4%BD%8D19").await; // 测试单位19
    assert_eq!(unit_options(&html).len(), 10, "190–199: {html}");
    assert!(unit_options(&html).iter().all(|(_, selected)| !selected) && html.contains("湘一") && html.contains("湘二"));
    let (_, html) = open("unit_q=MA4L000123").await;
    assert_eq!(unit_options(&html).len(), 1);
    // The search decides: a chosen unit it does not match gives way.
    let (_, html) = open(&format!("unit={hospital}&unit_q=%E6%B5%8B%E8%AF%95%E5%8D%95%E4%BD%8D123")).await; // 测试单位123
    assert_eq!(unit_options(&html).len(), 1);
    assert!(unit_options(&html)[0].1 && !html.contains("湘二"), "{html}");
    // Another city's unit, or another province's, is not found; wildcards are text.
    s.db.run(
        q("INSERT INTO orgs (tenant_id, kind, name, parent_id, level, region_code, path, status, created_at, updated_at) \
           SELECT tenant_id, kind, '城外单位', NULL, level, region_code, '/outside/', status, created_at, updated_at FROM orgs \
           WHERE tenant_id = 'hunan' AND id = $1")
        .bind(hospital),
    )
    .await
    .unwrap();
    let (henan_unit,): (String,) =
        s.db.one(q("SELECT name FROM orgs WHERE tenant_id = 'henan' AND kind = 'unit' ORDER BY id LIMIT 1")).await.unwrap();
    for name in ["城外单位".to_owned(), henan_unit, "%".to_owned()] {
        let (status, html) = open(&format!("unit_q={}", urlencoding(&name))).await;
        assert_eq!(status, 200);
        assert!(unit_options(&html).is_empty() && html.contains("的单位，已显示全部单位的人员"), "{name}: {html}");
    }
}
both!(a_unit_among_many_is_found_by_name, a_unit_among_many_is_found_by_name);

/// Percent-encodes a query value.
fn urlencoding(text: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("v", text)]).unwrap().query().unwrap()[2..].to_owned()
}

/// Seed 003 "查看继续教育信息": one person's profile, years and credits for an admin above them.
async fn drill_down(s: TestServer) {
    let one = demo_person(&s, "hunan", 101).await;
    grant(&s, "hunan", one, 2024, "public", 3000, "d-1").await;
    grant(&s, "hunan", one, 2024, "professional", 6000, "d-2").await;
    grant(&s, "hunan", one, 2022, "public", 1250, "d-3").await;
    s.drain_jobs().await;
    let city = s.demo("hunan", "hr", 501).await;
    let (status, body) = json_of(city.get(s.api("hunan", &format!("/staff/{one}/years"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["person"]["name"], "湘一");
    assert!(body["person"]["id_number"].as_str().unwrap().contains('*'));
    let years: Vec<(i64, Value)> =
        body["items"].as_array().unwrap().iter().map(|y| (y["year"].as_i64().unwrap(), y["met"].clone())).collect();
    assert!(years.contains(&(2024, json!(true))) && years.contains(&(2022, json!(false))), "{body}");
    let (_, body) = json_of(city.get(s.api("hunan", &format!("/staff/{one}/credits?year=2022"))).send().await.unwrap()).await;
    assert_eq!((body["total"].as_i64(), body["items"][0]["hours"].as_f64()), (Some(1), Some(12.5)));
    let (status, html) = page(&city, s.url("hunan", &format!("/staff/{one}"))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("湘一 的继续教育信息") && html.contains("第一中学") && html.contains("中学一级教师"), "{html}");
    assert!(html.contains("data-year=\"2024\"") && html.contains("data-year=\"2022\"") && html.contains("12.5"), "{html}");
    let (_, html) = page(&city, s.url("hunan", &format!("/staff/{one}?credit_year=2024&subject=public"))).await;
    assert!(html.contains("<td>30</td>") && !html.contains("12.5</td>"), "{html}");
    assert_eq!(city.get(s.url("hunan", "/staff/999999")).send().await.unwrap().status(), 404);
}
both!(drill_down, drill_down);

async fn import_page_round_trip(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hunan", 102);
    let csv = format!(
        "id_number,name,year,subject,hours,source,reference\n{id},湘二,2023,public,30,online,imp-1\n{id},湘二,2023,专业,60,offline,imp-2\n{id},错名,2023,public,5,online,imp-3\n"
    );
    let province = s.demo("hunan", "province", 601).await;
    let (status, html) = page(&province, s.url("hunan", "/admin/import")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("导入历史学时") && html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains(">学时导入</a>"), "in the province admin's menu");
    let token = csrf_in(&html);
    let upload = |token: &str, name: &str, body: Vec<u8>| {
        Form::new().text("csrf_token", token.to_owned()).part("file", Part::bytes(body).file_name(name.to_owned()))
    };
    let res = province
        .post(s.url("hunan", "/admin/import"))
        .multipart(upload(&token, "history.csv", csv.clone().into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("导入 2 行") && html.contains("出错 1 行") && html.contains("name_mismatch"), "{html}");
    assert!(html.find("data-status=\"error\"").unwrap() < html.find("data-status=\"imported\"").unwrap(), "failed rows first");
    // The imported credits are in the ledger and their year is recomputed by the jobs.
    let two = demo_person(&s, "hunan", 102).await;
    assert_eq!(stored(&s, "hunan", two, 2023).await.map(|r| r.3), Some("pending"));
    s.drain_jobs().await;
    assert_eq!(stored(&s, "hunan", two, 2023).await, Some((true, 3000, 6000, "computed")));
    // The same file again through the API (same code path): duplicates only.
    let form = Form::new().part("file", Part::bytes(csv.into_bytes()).file_name("history.csv"));
    let (status, body) = json_of(province.post(s.api("hunan", "/credits/imports")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["imported"].as_u64(), body["duplicates"].as_u64(), body["errors"].as_u64()), (Some(0), Some(2), Some(1)));
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'import.credits'").await, 2, "every import is audited");
    // The page's own column names and words: Chinese headers, a source by its label.
    let chinese = format!("身份证号,姓名,计入年度,科目,学时,来源,记录编号\n{id},湘二,2023,公共科目,4,网络培训,imp-4\n");
    let form = Form::new().part("file", Part::bytes(chinese.into_bytes()).file_name("history.csv"));
    let (status, body) = json_of(province.post(s.api("hunan", "/credits/imports")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, body["imported"].as_u64()), (200, Some(1)), "{body}");
    // A file without the columns, or without a CSRF token, changes nothing.
    let res = province
        .post(s.url("hunan", "/admin/import"))
        .multipart(upload(&token, "bad.csv", "身份证,姓名\n1,2\n".as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("文件缺少这些列") && html.contains("身份证号"), "{html}");
    let res = province.post(s.url("hunan", "/admin/import")).multipart(upload("forged", "x.csv", b"a".to_vec())).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // Unit admins and staff may not import; another tenant's admin cannot reach Hunan's people.
    let unit = s.demo("hunan", "unit", 202).await;
    assert_eq!(unit.get(s.url("hunan", "/admin/import")).send().await.unwrap().status(), 403);
    let form = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("a.csv"));
    assert_eq!(unit.post(s.api("hunan", "/credits/imports")).multipart(form).send().await.unwrap().status(), 403);
    let henan = s.demo("henan", "province", 601).await;
    let csv = format!("id_number,name,year,subject,hours,source,reference\n{id},湘二,2023,public,30,online,imp-9\n");
    let form = Form::new().part("file", Part::bytes(csv.into_bytes()).file_name("h.csv"));
    let (status, body) = json_of(henan.post(s.api("henan", "/credits/imports")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, body["rows"][0]["code"].as_str()), (200, Some("unknown_person")), "{body}");
    // The same uploaded as xlsx.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["id_number", "name", "year", "subject", "hours", "source", "reference"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    for (col, value) in [id.as_str(), "湘二", "2022", "public", "8", "recognized", "imp-x"].iter().enumerate() {
        sheet.write_string(1, col as u16, *value).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let form = Form::new().part("file", Part::bytes(bytes).file_name("history.xlsx"));
    let (status, body) = json_of(province.post(s.api("hunan", "/credits/imports")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, body["imported"].as_u64()), (200, Some(1)), "{body}");
}
both!(import_page_round_trip, import_page_round_trip);

async fn jobs_page_shows_failures_and_retries(s: TestServer) {
    let now = chrono::Utc::now();
    let insert = |tenant: &'static str, state: &'static str, error: Option<&'static str>| {
        q("INSERT INTO jobs (tenant_id, kind, payload, state, attempts, max_attempts, run_after, last_error, created_at, updated_at) \
           VALUES ($1, 'mail.send', '{}', $2, 8, 8, $3, $4, $3, $3) RETURNING id")
        .bind(tenant)
        .bind(state)
        .bind(now)
        .bind(error)
    };
    let failed = s.db.scalar(insert("hunan", "failed", Some("SMTP 连接被拒绝：127.0.0.1:25"))).await.unwrap();
    let done = s.db.scalar(insert("hunan", "done", None)).await.unwrap();
    let henan_failed = s.db.scalar(insert("henan", "failed", Some("henan error"))).await.unwrap();

    let system = s.demo("hunan", "system", 701).await;
    let (status, html) = page(&system, s.url("hunan", "/admin/jobs?state=failed")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("SMTP 连接被拒绝") && html.contains(&format!("data-job=\"{failed}\"")), "{html}");
    assert!(!html.contains("henan error") && !html.contains(&format!("data-job=\"{done}\"")), "failed only, this tenant only");
    assert!(html.contains(&format!("/admin/jobs/{failed}/retry")), "a retry button");
    // Retry from the page: back to the list with a notice; the job is due again with fresh attempts.
    let res =
        system.post(s.url("hunan", &format!("/admin/jobs/{failed}/retry"))).form(&[("csrf_token", csrf_in(&html))]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("/admin/jobs?done=job_retried&count=1"), "{location}");
    let (_, html) = page(&system, format!("{}{location}", s.base)).await;
    assert!(html.contains("任务已重新排队"), "{html}");
    let job = s.jobs().await.into_iter().find(|j| j.id == failed).unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
    let (_, html) = page(&system, s.url("hunan", "/admin/jobs?state=failed")).await;
    assert!(html.contains("没有失败的后台任务"), "empty state: {html}");
    // The API: the tenant's jobs with their errors; a done job cannot be retried; another tenant's job is not found.
    let (status, body) = json_of(system.get(s.api("hunan", "/jobs")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<i64> = body["items"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&failed) && ids.contains(&done) && !ids.contains(&henan_failed), "{body}");
    assert!(body["items"][0].get("payload").is_none(), "payloads are never shown");
    let (status, body) = json_of(system.post(s.api("hunan", &format!("/jobs/{done}/retry"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_retryable")));
    assert_eq!(system.post(s.api("hunan", &format!("/jobs/{henan_failed}/retry"))).send().await.unwrap().status(), 404);
    let (status, _) = json_of(system.get(s.api("hunan", "/jobs?state=nonsense")).send().await.unwrap()).await;
    assert_eq!(status, 400);
    // Only system admins.
    let province = s.demo("hunan", "province", 601).await;
    assert_eq!(province.get(s.url("hunan", "/admin/jobs")).send().await.unwrap().status(), 403);
    assert_eq!(province.get(s.api("hunan", "/jobs")).send().await.unwrap().status(), 403);
    let (_, html) = page(&province, s.url("hunan", "/")).await;
    assert!(!html.contains(">后台任务</a>"), "no menu entry for others");
    let (_, html) = page(&system, s.url("hunan", "/")).await;
    assert!(html.contains(">后台任务</a>"), "the system admin's menu has it");
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'job.retry' AND object_id = {failed}")).await, 1);
}
both!(jobs_page_shows_failures_and_retries, jobs_page_shows_failures_and_retries);

/// New rules for a tenant (tenant sync with another rules.toml) mark every stored year stale and
/// queue one batched recompute per year; an unchanged sync queues nothing.
async fn tenant_sync_recomputes_on_new_rules(s: TestServer) {
    let one = demo_person(&s, "hunan", 101).await;
    grant(&s, "hunan", one, 2024, "public", 3000, "r-1").await;
    grant(&s, "hunan", one, 2024, "professional", 6000, "r-2").await;
    s.drain_jobs().await;
    let root = jijiao_tests::workspace_root().join("tenants");
    jijiao::tenancy::sync::sync_dir(&s.db, &root).await.unwrap();
    assert!(s.jobs().await.iter().all(|j| j.state == "done"), "unchanged rules queue nothing");
    // A copy of the tenants folder where Hunan requires 100 professional hours.
    let dir = tempfile::tempdir().unwrap();
    for tenant in ["hunan", "henan", "hubei"] {
        copy_dir(&root.join(tenant), &dir.path().join(tenant));
    }
    let rules = dir.path().join("hunan/rules.toml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let changed = text.replacen(
        "requirements = [{ title_level = \"*\", public = 30, professional = 60, total = 90 }]",
        "requirements = [{ title_level = \"*\", public = 30, professional = 100, total = 130 }]",
        1,
    );
    assert_ne!(text, changed, "the test edits Hunan's requirement row");
    std::fs::write(&rules, changed).unwrap();
    jijiao::tenancy::sync::sync_dir(&s.db, dir.path()).await.unwrap();
    let queued: Vec<_> = s.jobs().await.into_iter().filter(|j| j.state == "queued").collect();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!((queued[0].kind.as_str(), queued[0].tenant_id.as_str()), (jijiao::hours::status::RECOMPUTE_YEAR_JOB, "hunan"));
    assert_eq!(stored(&s, "hunan", one, 2024).await.map(|r| r.3), Some("stale"));
    // The server's rules were loaded from the original folder, so the recompute judges as before; what
    // matters here is that the year was recomputed in one batch and is current again.
    s.drain_jobs().await;
    assert_eq!(stored(&s, "hunan", one, 2024).await.map(|r| r.3), Some("computed"));
    assert!(
        s.count("SELECT COUNT(*) FROM year_status WHERE tenant_id = 'hunan' AND year = 2024").await
            >= s.count("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan'").await,
        "the batch stores every person of the tenant"
    );
}
both!(tenant_sync_recomputes_on_new_rules, tenant_sync_recomputes_on_new_rules);

/// Every route of this module is in the OpenAPI document.
async fn routes_are_documented(s: TestServer) {
    let (_, doc) = json_of(s.client().get(format!("{}/api/openapi.json", s.base)).send().await.unwrap()).await;
    for path in [
        "/t/{tenant}/api/v1/me/years",
        "/t/{tenant}/api/v1/staff/status",
        "/t/{tenant}/api/v1/staff/{person_id}/years",
        "/t/{tenant}/api/v1/staff/{person_id}/credits",
        "/t/{tenant}/api/v1/credits/imports",
        "/t/{tenant}/api/v1/jobs",
        "/t/{tenant}/api/v1/jobs/{id}/retry",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
}
both!(routes_are_documented, routes_are_documented);
