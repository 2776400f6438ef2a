//! 查询统计 (issue 16 §2): the title-series distribution, known data in and exact numbers out, over the
//! caller's subtree only, as JSON, xlsx, an SVG chart and a page.

use calamine::Reader;
use jijiao::db::q;
use jijiao_tests::{TestServer, both, json_of};
use serde_json::Value;

use crate::common::*;

fn cells(stats: &Value) -> Vec<(String, String, i64, i64)> {
    let mut rows: Vec<(String, String, i64, i64)> = stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["series"].as_str().unwrap().into(),
                r["level"].as_str().unwrap().into(),
                r["staff"].as_i64().unwrap(),
                r["met"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn the_title_distribution_counts_the_scope(s: TestServer) {
    let year = 2024;
    let (teacher, nurse) = (demo_person(&s, "hunan", 101).await, demo_person(&s, "hunan", 102).await);
    s.db.run(q("UPDATE people SET title_series = 'school_teacher' WHERE id = $1").bind(teacher)).await.unwrap();
    // The teacher meets 2024 (30 public + 60 professional in Hunan); the nurse does not.
    grant(&s, "hunan", teacher, year, "public", 3000, "st-1").await;
    grant(&s, "hunan", teacher, year, "professional", 6000, "st-2").await;
    grant(&s, "hunan", nurse, year, "public", 1000, "st-3").await;
    s.drain_jobs().await;
    // A registration still waiting for approval (Henan's units approve theirs) is nobody's staff yet.
    let henan_school = org_id(&s, "henan", "unit", "第一中学").await;
    let (_, registered) = register_staff(&s, "henan", &staff_form(henan_school, &new_id(61), "待审")).await;
    assert_eq!(registered["status"], "pending", "{registered}");

    let province = s.demo("hunan", "province", 601).await;
    let (status, stats) = json_of(province.get(s.api("hunan", &format!("/stats/titles?year={year}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        cells(&stats),
        vec![("health".into(), "intermediate".into(), 1, 0), ("school_teacher".into(), "intermediate".into(), 1, 1)],
        "{stats}"
    );
    assert_eq!((stats["total_staff"].as_i64(), stats["total_met"].as_i64()), (Some(2), Some(1)));
    let names: Vec<&str> = stats["series"].as_array().unwrap().iter().map(|s| s["series_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["中小学教师", "卫生技术人员"], "basic data's order and names");
    // Another year: nobody has met it.
    let (_, other) = json_of(province.get(s.api("hunan", "/stats/titles?year=2023")).send().await.unwrap()).await;
    assert_eq!((other["total_staff"].as_i64(), other["total_met"].as_i64()), (Some(2), Some(0)), "{other}");

    // Scope: each unit its own; staff and other tenants nothing.
    let school_admin = s.demo("hunan", "unit", 201).await;
    let (_, own) = json_of(school_admin.get(s.api("hunan", &format!("/stats/titles?year={year}"))).send().await.unwrap()).await;
    assert_eq!(cells(&own), vec![("school_teacher".into(), "intermediate".into(), 1, 1)], "{own}");
    let hospital_admin = s.demo("hunan", "unit", 202).await;
    let (_, own) = json_of(hospital_admin.get(s.api("hunan", &format!("/stats/titles?year={year}"))).send().await.unwrap()).await;
    assert_eq!(cells(&own), vec![("health".into(), "intermediate".into(), 1, 0)], "{own}");
    let staff = s.demo("hunan", "staff", 101).await;
    for path in ["/stats/titles", "/stats/titles.xlsx", "/stats/titles.svg"] {
        assert_eq!(staff.get(s.api("hunan", path)).send().await.unwrap().status(), 403, "{path}");
    }
    let henan = s.demo("henan", "province", 601).await;
    let (_, theirs) = json_of(henan.get(s.api("henan", &format!("/stats/titles?year={year}"))).send().await.unwrap()).await;
    assert_eq!(
        (theirs["total_staff"].as_i64(), theirs["total_met"].as_i64()),
        (Some(2), Some(0)),
        "Henan's two, not the pending one: {theirs}"
    );
    assert_eq!(json_of(province.get(s.api("hunan", "/stats/titles?year=1800")).send().await.unwrap()).await.0, 400);

    // The export: the header and the numbers.
    let res = province.get(s.api("hunan", &format!("/stats/titles.xlsx?year={year}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..5], ["职称系列", "职称等级", "专技人员数", "已达标人数", "未达标人数"]);
    assert_eq!(rows[1][..4], ["中小学教师", "中级", "1", "1"], "{rows:?}");
    assert_eq!(rows.last().unwrap()[..4], ["总计", "", "2", "1"], "{rows:?}");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export.title_stats'").await, 1);

    // The completion by region: the province's cities (the capital holds both), a city's counties, and
    // on the dashboards the chart.
    let (status, regions) = json_of(province.get(s.api("hunan", &format!("/stats/regions?year={year}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{regions}");
    let with_staff: Vec<(String, i64, i64)> = regions
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["staff"].as_i64() > Some(0))
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["staff"].as_i64().unwrap(), r["met"].as_i64().unwrap()))
        .collect();
    assert_eq!(with_staff, vec![("长沙市人力资源和社会保障局".to_owned(), 2, 1)], "{regions}");
    assert!(regions.as_array().unwrap().len() > 1, "every city, those without staff too");
    let city = s.demo("hunan", "hr", 501).await;
    let (_, counties) = json_of(city.get(s.api("hunan", &format!("/stats/regions?year={year}"))).send().await.unwrap()).await;
    let own = counties.as_array().unwrap().last().cloned().unwrap();
    assert_eq!(
        (own["name"].as_str(), own["staff"].as_i64(), own["met"].as_i64()),
        (Some("本级"), Some(2), Some(1)),
        "the city's own units: {counties}"
    );
    let home = province.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/stats/regions.svg"), "{home}");
    let svg = province.get(s.url("hunan", "/stats/regions.svg")).send().await.unwrap().text().await.unwrap();
    assert!(svg.contains("长沙市") && !svg.contains("长沙市人力资源") && svg.contains("<rect"), "the region's short name: {svg}");
    let county = county_admin(&s, "hunan", "430102", 31).await;
    let (_, none) = json_of(county.get(s.api("hunan", &format!("/stats/regions?year={year}"))).send().await.unwrap()).await;
    assert_eq!(none, serde_json::json!([]), "a county has no regions below it");
    assert!(!county.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap().contains("/stats/regions.svg"));
    assert!(!school_admin.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap().contains("/stats/regions.svg"));

    // The chart and the page that shows it.
    let res = province.get(s.url("hunan", &format!("/stats/titles.svg?year={year}"))).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/svg+xml; charset=utf-8");
    let svg = res.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("中小学教师") && svg.contains("已达标") && svg.contains("<rect"), "{svg}");
    let html = province.get(s.url("hunan", &format!("/stats/titles?year={year}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(">职称系列分布</a>") && html.contains(&format!("/stats/titles.svg?year={year}")) && html.contains("导出数据"),
        "{html}"
    );
    assert!(html.contains("达标率 <strong>50.0%</strong>"), "{html}");
}
both!(the_title_distribution_counts_the_scope, the_title_distribution_counts_the_scope);

/// Grants a credit from a source other than an online platform (学时学习).
async fn grant_offline(s: &TestServer, person: i64, year: i64, subject: &str, hours: i64, reference: &str) {
    let mut tx = s.db.begin().await.unwrap();
    let credit = jijiao::hours::NewCredit {
        person_id: person,
        year,
        subject,
        hours,
        source: "activity",
        source_ref: reference,
        course: None,
        granted_by: None,
    };
    jijiao::hours::grant_tx(&mut tx, "hunan", credit).await.unwrap().expect("a new credit");
    tx.commit().await.unwrap();
}

/// A row's numbers in the seed's column order after the name: staff, learners (all, public,
/// professional × total, online, offline), qualified people, courses, overall.
fn numbers(row: &Value) -> Vec<i64> {
    let l = &row["learners"];
    let mut out = vec![row["staff"].as_i64().unwrap()];
    for group in ["all", "public", "professional"] {
        for kind in ["total", "online", "offline"] {
            out.push(l[group][kind].as_i64().unwrap());
        }
    }
    out.extend(["qualified_people", "qualified_courses", "qualified_overall"].iter().map(|k| row[k].as_i64().unwrap()));
    out
}

fn row<'a>(overview: &'a Value, name_part: &str) -> &'a Value {
    overview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().contains(name_part))
        .unwrap_or_else(|| panic!("no row {name_part}: {overview}"))
}

/// Issue 16 §1: 继教综合统计查询 — known credits in, the seed's columns out, per level and per authority,
/// drilled down to departments, filtered, exported, and only over the caller's subtree.
async fn the_overview_counts_learners_and_the_qualified(s: TestServer) {
    let year = 2024;
    let (teacher, nurse) = (demo_person(&s, "hunan", 101).await, demo_person(&s, "hunan", 102).await);
    // The teacher learns online (public) and offline (professional) and meets the year; the nurse only
    // learns online and meets nothing.
    grant(&s, "hunan", teacher, year, "public", 3000, "ov-1").await;
    grant_offline(&s, teacher, year, "professional", 6000, "ov-2").await;
    grant(&s, "hunan", nurse, year, "public", 1000, "ov-3").await;
    s.drain_jobs().await;
    let both_people = vec![2, 2, 2, 1, 2, 2, 0, 1, 0, 1, 1, 1, 1];
    let teacher_only = vec![1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1];
    let nurse_only = vec![1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0];

    let province = s.demo("hunan", "province", 601).await;
    let get = |client: &reqwest::Client, query: String| {
        let url = s.api("hunan", &format!("/stats/overview?year={year}{query}"));
        let request = client.get(url);
        async move { json_of(request.send().await.unwrap()).await }
    };
    let (status, overview) = get(&province, String::new()).await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(numbers(&overview["total"]), both_people, "{overview}");
    assert_eq!(overview["total"]["pass_rate"].as_f64(), Some(0.5));
    let capital = row(&overview, "长沙市");
    assert_eq!(numbers(capital), both_people);
    let capital_id = capital["org_id"].as_i64().unwrap();
    let capital_units = s.count(&format!("SELECT COUNT(*) FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit' AND status = 'active' AND path LIKE (SELECT path FROM orgs WHERE id = {capital_id}) || '%'")).await;
    assert!(capital_units >= 2);
    assert_eq!(capital["units"].as_i64(), Some(capital_units), "{capital}");
    let cities = overview["rows"].as_array().unwrap();
    assert!(
        cities.len() > 1 && cities.iter().filter(|r| r["staff"].as_i64() > Some(0)).count() == 1,
        "every city, one with staff: {overview}"
    );

    // Per industry authority: the school's 教育厅, and the hospital without one.
    let (_, by_authority) = get(&province, "&by=authority".to_owned()).await;
    assert_eq!(numbers(row(&by_authority, "教育厅")), teacher_only, "{by_authority}");
    assert_eq!(numbers(row(&by_authority, "无行业主管部门")), nurse_only, "{by_authority}");
    assert_eq!(row(&by_authority, "教育厅")["units"].as_i64(), Some(1));

    // Down a level: the capital's units, then the school's departments (with a link to the people).
    let (_, city) = get(&province, format!("&parent={capital_id}")).await;
    assert_eq!(numbers(row(&city, "第一中学")), teacher_only, "{city}");
    assert_eq!(numbers(row(&city, "中心医院")), nurse_only, "{city}");
    let school_id = row(&city, "第一中学")["org_id"].as_i64().unwrap();
    let (_, school) = get(&province, format!("&parent={school_id}")).await;
    assert_eq!(numbers(row(&school, "教务处")), teacher_only, "{school}");
    assert_eq!(row(&school, "教务处")["drill"], "people");
    assert_eq!(numbers(&school["total"]), teacher_only);

    // Filters: a region, an authority.
    let (_, capital_only) = get(&province, format!("&region={capital_id}")).await;
    assert_eq!(numbers(&capital_only["total"]), both_people);
    let authority_id = row(&by_authority, "教育厅")["org_id"].as_i64().unwrap();
    let (_, supervised) = get(&province, format!("&authority={authority_id}")).await;
    assert_eq!(numbers(&supervised["total"]), teacher_only, "{supervised}");

    // Scope: a unit sees itself; other subtrees are 404; staff 403; another tenant its own.
    let school_admin = s.demo("hunan", "unit", 201).await;
    let (status, own) = get(&school_admin, String::new()).await;
    assert_eq!((status, numbers(&own["total"])), (200, teacher_only.clone()), "{own}");
    let hospital_id = row(&city, "中心医院")["org_id"].as_i64().unwrap();
    assert_eq!(get(&school_admin, format!("&parent={hospital_id}")).await.0, 404);
    assert_eq!(get(&school_admin, format!("&parent={capital_id}")).await.0, 404);
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(get(&staff, String::new()).await.0, 403);
    assert_eq!(staff.get(s.api("hunan", "/stats/overview.xlsx")).send().await.unwrap().status(), 403);
    let henan = s.demo("henan", "province", 601).await;
    let (status, theirs) = json_of(henan.get(s.api("henan", &format!("/stats/overview?year={year}"))).send().await.unwrap()).await;
    assert_eq!((status, theirs["total"]["learners"]["all"]["total"].as_i64()), (200, Some(0)), "{theirs}");
    assert_eq!(json_of(henan.get(s.api("henan", &format!("/stats/overview?parent={capital_id}"))).send().await.unwrap()).await.0, 404);

    // Bad input.
    for (query, code) in [("&by=everything", 422), ("&nature=nonsense", 422), ("&region=999999", 422)] {
        let (status, body) = get(&province, query.to_owned()).await;
        assert_eq!(status, code, "{query}: {body}");
    }
    assert_eq!(get(&school_admin, "&by=authority".to_owned()).await.0, 422, "a unit has no authorities below it");
    assert_eq!(json_of(province.get(s.api("hunan", "/stats/overview?year=1800")).send().await.unwrap()).await.0, 400);

    // The export: the seed's two-row header, the rows and 总计.
    let res = province.get(s.api("hunan", &format!("/stats/overview.xlsx?year={year}&parent={capital_id}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..6], ["序号", "单位/地区", "用人单位总数", "继续教育机构总数", "专技人员总数", "当年总学习人数"], "{rows:?}");
    assert_eq!(rows[0][8], "当年公共科目学习人数");
    assert_eq!(rows[1][5..8], ["总学习人数", "网络学习人数", "学时学习人数"]);
    let total = rows.last().unwrap();
    assert_eq!(total[1], "总计");
    assert_eq!(total[4..17], ["2", "2", "2", "1", "2", "2", "0", "1", "0", "1", "1", "1", "1"], "{rows:?}");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export.overview_stats'").await, 1);

    // The page: the table, 查看 one level down, 查看人员 for a department.
    let html = province.get(s.url("hunan", &format!("/stats?year={year}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("继教综合统计") && html.contains("专技综合合格人数") && html.contains("50.0%"), "{html}");
    assert!(html.contains(&format!("parent={capital_id}")), "{html}");
    let html = province.get(s.url("hunan", &format!("/stats?year={year}&parent={school_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("查看人员") && html.contains(&format!("status?year={year}&amp;unit={school_id}&amp;department=")), "{html}");
}
both!(the_overview_counts_learners_and_the_qualified, the_overview_counts_learners_and_the_qualified);

/// A unit's numbers counted from the ledger itself, in `numbers`' order up to the learners: its staff and
/// the people with a valid credit of the year in each of the nine classes.
async fn from_the_ledger(s: &TestServer, tenant: &str, unit: i64, year: i64) -> Vec<i64> {
    let mut out = vec![
        s.count(&format!(
            "SELECT COUNT(*) FROM people p WHERE p.tenant_id = '{tenant}' AND p.unit_id = {unit} AND EXISTS (SELECT 1 FROM accounts a \
             WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff' AND a.status = 'active')"
        ))
        .await,
    ];
    for subject in ["", " AND k.subject = 'public'", " AND k.subject = 'professional'"] {
        for source in ["", " AND k.source = 'online'", " AND k.source <> 'online'"] {
            out.push(
                s.count(&format!(
                    "SELECT COUNT(*) FROM people p WHERE p.tenant_id = '{tenant}' AND p.unit_id = {unit} AND EXISTS (SELECT 1 FROM credits k \
                     WHERE k.tenant_id = p.tenant_id AND k.person_id = p.id AND k.year = {year} AND k.revoked_at IS NULL{subject}{source})"
                ))
                .await,
            );
        }
    }
    out
}

/// Issue 16, speed: the statistics count learners from per-person-year tallies that triggers on the
/// ledger keep. After random grants, revocations, a deletion, a transfer and a title change, the tallies
/// equal the credits grouped afresh, every unit's row equals its count from the ledger, and the title
/// distribution equals the people counted afresh.
async fn the_statistics_agree_with_the_ledger(s: TestServer) {
    use rand::{Rng, SeedableRng};
    let tenant = "hubei";
    let unit = |key: &'static str| {
        let s = &s;
        async move { s.count(&format!("SELECT id FROM orgs WHERE tenant_id = '{tenant}' AND ext_key = 'demo:unit:{key}'")).await }
    };
    let (school, hospital) = (unit("school").await, unit("hospital").await);
    let people = [demo_person(&s, tenant, 101).await, demo_person(&s, tenant, 102).await];
    let capital: i64 = s.count(&format!("SELECT parent_id FROM orgs WHERE id = {school}")).await;
    let province = s.demo(tenant, "province", 601).await;
    let tallies_match = || async {
        let differ = |a: &str, b: &str| format!("SELECT COUNT(*) FROM ({a} EXCEPT {b}) x");
        let ledger = "SELECT tenant_id, person_id, year, \
            SUM(CASE WHEN subject = 'public' AND source = 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN subject = 'public' AND source <> 'online' THEN 1 ELSE 0 END), \
            SUM(CASE WHEN subject = 'professional' AND source = 'online' THEN 1 ELSE 0 END), SUM(CASE WHEN subject = 'professional' AND source <> 'online' THEN 1 ELSE 0 END) \
            FROM credits WHERE revoked_at IS NULL GROUP BY tenant_id, person_id, year";
        let tallies = "SELECT tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline FROM learning \
            WHERE public_online + public_offline + professional_online + professional_offline > 0";
        assert_eq!((s.count(&differ(ledger, tallies)).await, s.count(&differ(tallies, ledger)).await), (0, 0), "tallies = ledger");
    };
    let rows_match = |year: i64| {
        let (s, province) = (&s, &province);
        async move {
            let url = s.api(tenant, &format!("/stats/overview?year={year}&parent={capital}"));
            let (status, city) = json_of(province.get(url).send().await.unwrap()).await;
            assert_eq!(status, 200, "{city}");
            for (name, id) in [("第一中学", school), ("中心医院", hospital)] {
                assert_eq!(numbers(row(&city, name))[..10], from_the_ledger(s, tenant, id, year).await[..], "{name} {year}: {city}");
            }
            // The title distribution, against the people and their stored status themselves.
            let url = s.api(tenant, &format!("/stats/titles?year={year}"));
            let (status, titles) = json_of(province.get(url).send().await.unwrap()).await;
            assert_eq!(status, 200, "{titles}");
            let direct: Vec<(String, String, i64, i64)> =
                s.db.all(
                    q("SELECT COALESCE(p.title_series, ''), p.title_level, COUNT(*), \
                       SUM(CASE WHEN y.computed_at IS NOT NULL AND y.met THEN 1 ELSE 0 END) \
                       FROM people p LEFT JOIN year_status y ON y.tenant_id = p.tenant_id AND y.person_id = p.id AND y.year = $2 \
                       WHERE p.tenant_id = $1 AND EXISTS (SELECT 1 FROM accounts a WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id \
                       AND a.user_type = 'staff' AND a.status = 'active') \
                       GROUP BY COALESCE(p.title_series, ''), p.title_level ORDER BY 1, 2")
                    .bind(tenant)
                    .bind(year),
                )
                .await
                .unwrap();
            assert_eq!(cells(&titles), direct, "{year}: {titles}");
        }
    };

    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let mut granted: Vec<i64> = Vec::new();
    for round in 0..2 {
        for i in 0..30 {
            let mut tx = s.db.begin().await.unwrap();
            if granted.is_empty() || rng.gen_bool(0.7) {
                let reference = format!("agree-{round}-{i}");
                let credit = jijiao::hours::NewCredit {
                    person_id: people[rng.gen_range(0..2)],
                    year: rng.gen_range(2024..=2025),
                    subject: ["public", "professional"][rng.gen_range(0..2)],
                    hours: 100 * rng.gen_range(1..10),
                    source: ["online", "activity", "offline"][rng.gen_range(0..3)],
                    source_ref: &reference,
                    course: None,
                    granted_by: None,
                };
                granted.push(jijiao::hours::grant_tx(&mut tx, tenant, credit).await.unwrap().expect("a new credit"));
            } else {
                let credit = granted.swap_remove(rng.gen_range(0..granted.len()));
                jijiao::hours::revoke_tx(&mut tx, tenant, credit, None, "核查撤销").await.unwrap();
            }
            tx.commit().await.unwrap();
        }
        if round == 0 {
            // A deleted credit leaves the tallies too (nothing in the platform deletes one; the trigger
            // covers it all the same).
            let credit = granted.pop().unwrap();
            s.db.run(q("DELETE FROM credits WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(credit)).await.unwrap();
        }
        tallies_match().await;
        for year in [2024, 2025] {
            rows_match(year).await;
        }
        if round == 0 {
            // The teacher moves to the hospital (its approval as the transfer tests go); their learning
            // now counts there.
            let school_admin = s.demo(tenant, "unit", 201).await;
            let body = serde_json::json!({"person_id": people[0], "to_unit_id": hospital, "reason": "工作调动"});
            let (status, body) = json_of(school_admin.post(s.api(tenant, "/transfers")).json(&body).send().await.unwrap()).await;
            assert_eq!(status, 201, "{body}");
            let bureau = s.demo(tenant, "hr", 501).await;
            let (_, queue) = json_of(bureau.get(s.api(tenant, "/approvals?kind=transfer")).send().await.unwrap()).await;
            let ids: Vec<i64> = queue["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
            assert_eq!(ids.len(), 1, "{queue}");
            assert_eq!(decide(&bureau, &s, tenant, &ids, "approve", None).await.0, 200);
            assert_eq!(s.count(&format!("SELECT unit_id FROM people WHERE id = {}", people[0])).await, hospital);
            rows_match(2024).await;
            rows_match(2025).await;
            // A new title level moves the nurse in the title distribution (nothing else is marked now).
            s.db.run(
                q("UPDATE people SET title_level = 'senior', title_series = 'health' WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(people[1]),
            )
            .await
            .unwrap();
            rows_match(2025).await;
        }
    }
    // Both people learned something in some year, and the hospital now holds both.
    let (_, city) =
        json_of(province.get(s.api(tenant, &format!("/stats/overview?year=2024&parent={capital}"))).send().await.unwrap()).await;
    assert_eq!(numbers(row(&city, "中心医院"))[0], 2, "{city}");
}
both!(the_statistics_agree_with_the_ledger, the_statistics_agree_with_the_ledger);

/// A large tenant's first build of a year's summaries is a job, not a request's work: readers of that
/// year are told to come back (503 `stats_building`, in words on the page), the job is queued once for
/// all of them, and once it ran the numbers are there and later changes are folded in by the readers
/// again. Start-up queues this year's build for every tenant that lacks it.
async fn a_large_tenants_first_summary_is_built_by_a_job(backend: jijiao_tests::Backend) {
    // Every tenant counts as large here.
    let s = TestServer::start_with(backend, |c| c.jobs.inline_summary_people = 0).await;
    s.drain_jobs().await;
    let year = 2024;
    let (teacher, nurse) = (demo_person(&s, "hunan", 101).await, demo_person(&s, "hunan", 102).await);
    grant(&s, "hunan", teacher, year, "public", 3000, "big-1").await;
    grant(&s, "hunan", teacher, year, "professional", 6000, "big-2").await;
    s.drain_jobs().await;

    let province = s.demo("hunan", "province", 601).await;
    let titles = s.api("hunan", &format!("/stats/titles?year={year}"));
    let (status, body) = json_of(province.get(&titles).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("stats_building")), "{body}");
    let (status, body) = json_of(province.get(s.api("hunan", &format!("/staff/status?year={year}"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("stats_building")), "{body}");
    let page = province.get(s.url("hunan", &format!("/stats?year={year}"))).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("2024 年的统计数据正在生成"), "the page says why");
    let builds = |jobs: Vec<jijiao::jobs::Job>| {
        jobs.into_iter().filter(|j| j.kind == "stats.build_summary").map(|j| (j.tenant_id, j.state, j.payload)).collect::<Vec<_>>()
    };
    assert_eq!(
        builds(s.jobs().await),
        vec![("hunan".to_owned(), "queued".to_owned(), format!("{{\"year\":{year}}}"))],
        "one build for three readers"
    );

    s.drain_jobs().await;
    let (status, stats) = json_of(province.get(&titles).send().await.unwrap()).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!((stats["total_staff"].as_i64(), stats["total_met"].as_i64()), (Some(2), Some(1)), "{stats}");
    // Once built, a change is folded in by the next reader (the nurse meets the year too).
    grant(&s, "hunan", nurse, year, "public", 3000, "big-3").await;
    grant(&s, "hunan", nurse, year, "professional", 6000, "big-4").await;
    s.drain_jobs().await;
    let (status, stats) = json_of(province.get(&titles).send().await.unwrap()).await;
    assert_eq!((status, stats["total_met"].as_i64()), (200, Some(2)), "{stats}");
    assert_eq!(province.get(s.url("hunan", &format!("/stats?year={year}"))).send().await.unwrap().status(), 200);
    // Another tenant's year is its own build.
    let henan = s.demo("henan", "province", 601).await;
    let (status, _) = json_of(henan.get(s.api("henan", &format!("/stats/titles?year={year}"))).send().await.unwrap()).await;
    assert_eq!(status, 503);

    // Start-up: this year for every tenant without it, once however often it is asked.
    s.drain_jobs().await;
    jijiao::stats::summary::prepare(&s.state).await.unwrap();
    jijiao::stats::summary::prepare(&s.state).await.unwrap();
    let this_year = jijiao::china_time::this_year();
    let mut queued: Vec<(String, String, String)> = builds(s.jobs().await).into_iter().filter(|j| j.1 == "queued").collect();
    queued.sort();
    let expected: Vec<(String, String, String)> =
        ["henan", "hubei", "hunan"].iter().map(|t| (t.to_string(), "queued".to_owned(), format!("{{\"year\":{this_year}}}"))).collect();
    assert_eq!(queued, expected);
    s.drain_jobs().await;
    jijiao::stats::summary::prepare(&s.state).await.unwrap();
    assert!(builds(s.jobs().await).iter().all(|j| j.1 == "done"), "nothing left to build");
}
both!(a_large_tenants_first_summary_is_built_by_a_job, a_large_tenants_first_summary_is_built_by_a_job, backend);
