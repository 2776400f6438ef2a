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
