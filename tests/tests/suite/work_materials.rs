//! Yearly work materials (issue 18 §4, seed 004 §5.3): a supervising department files, edits, replaces
//! and deletes its materials; the provincial department above it lists and downloads them; bad input,
//! other tenants and other subtrees change and see nothing.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::common::*;

fn material(year: &str, category: &str, title: &str, file: Option<(&[u8], &str)>) -> Form {
    let form = Form::new().text("year", year.to_owned()).text("category", category.to_owned()).text("title", title.to_owned());
    match file {
        Some((bytes, name)) => form.part("file", Part::bytes(bytes.to_vec()).file_name(name.to_owned())),
        None => form,
    }
}

async fn file(client: &Client, s: &TestServer, tenant: &str, form: Form) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/work-materials")).multipart(form).send().await.unwrap()).await
}

async fn list(client: &Client, s: &TestServer, tenant: &str, query: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, &format!("/work-materials{query}"))).send().await.unwrap()).await
}

async fn work_materials_are_filed_edited_and_read_above(s: TestServer) {
    let authority = s.demo("hunan", "authority", 401).await;
    let province = s.demo("hunan", "province", 601).await;
    let (status, body) = json_of(
        authority
            .post(s.api("hunan", "/work-materials"))
            .multipart(material("2026", "guide", "2026年学习指南", Some((PDF, "指南.pdf"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // The department above lists and downloads it.
    let (status, listed) = list(&province, &s, "hunan", "?year=2026&category=guide").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["category_label"], "学习指南");
    let res = province.get(s.api("hunan", &format!("/work-materials/{id}/file"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    // Only the filing department edits it; a new file replaces the old.
    let edit = || material("2026", "notice", "2026年工作通知", Some((b"%PDF-1.4\n% new\n%%EOF\n", "通知.pdf")));
    let res = province.put(s.api("hunan", &format!("/work-materials/{id}"))).multipart(edit()).send().await.unwrap();
    assert_eq!(res.status(), 403, "the province reads, it does not file");
    let res = authority.put(s.api("hunan", &format!("/work-materials/{id}"))).multipart(edit()).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let (_, listed) = list(&authority, &s, "hunan", "").await;
    assert_eq!(
        (listed["items"][0]["title"].as_str(), listed["items"][0]["filename"].as_str()),
        (Some("2026年工作通知"), Some("通知.pdf")),
        "{listed}"
    );
    let page = province.get(s.url("hunan", "/materials")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("2026年工作通知") && page.contains(&format!("/materials/{id}/file")) && !page.contains("<summary>修改</summary>"),
        "{page}"
    );
    let res = authority.delete(s.api("hunan", &format!("/work-materials/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(s.count("SELECT COUNT(*) FROM work_materials").await, 0);
}
both!(work_materials_are_filed_edited_and_read_above, work_materials_are_filed_edited_and_read_above);

async fn bad_materials_change_nothing_and_others_see_nothing(s: TestServer) {
    let authority = s.demo("hubei", "authority", 401).await;
    let stored = "SELECT (SELECT COUNT(*) FROM work_materials) + (SELECT COUNT(*) FROM blobs)";
    let before = s.count(stored).await;
    for (form, field) in [
        (material("2026", "guide", "指南", None), "file"),
        (material("1999", "guide", "指南", Some((PDF, "a.pdf"))), "year"),
        (material("2026", "budget", "指南", Some((PDF, "a.pdf"))), "category"),
        (material("2026", "guide", "", Some((PDF, "a.pdf"))), "title"),
    ] {
        let (status, body) = file(&authority, &s, "hubei", form).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let (status, body) = json_of(
        authority
            .post(s.api("hubei", "/work-materials"))
            .multipart(material("2026", "guide", "指南", Some((b"MZ\x90\x00", "a.pdf"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_file_type")), "{body}");
    assert_eq!(s.count(stored).await, before, "nothing stored");
    for client in [s.demo("hubei", "unit", 201).await, s.demo("hubei", "staff", 101).await, s.demo("hubei", "institution", 301).await] {
        let res = client
            .post(s.api("hubei", "/work-materials"))
            .multipart(material("2026", "guide", "指南", Some((PDF, "a.pdf"))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    }
    let (status, body) = json_of(
        authority
            .post(s.api("hubei", "/work-materials"))
            .multipart(material("2026", "guide", "指南", Some((PDF, "a.pdf"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // Another tenant's province and a county bureau outside the authority's subtree see nothing.
    let other = s.demo("henan", "province", 601).await;
    assert_eq!(other.get(s.api("henan", &format!("/work-materials/{id}/file"))).send().await.unwrap().status(), 404);
    assert_eq!(list(&other, &s, "henan", "").await.1["total"], 0);
    let county = county_admin(&s, "hubei", "420103", 2).await;
    assert_eq!(county.get(s.api("hubei", &format!("/work-materials/{id}/file"))).send().await.unwrap().status(), 404);
    assert_eq!(list(&county, &s, "hubei", "").await.1["total"], 0);
    assert_eq!(county.delete(s.api("hubei", &format!("/work-materials/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(s.count("SELECT COUNT(*) FROM work_materials").await, 1);
}
both!(bad_materials_change_nothing_and_others_see_nothing, bad_materials_change_nothing_and_others_see_nothing);
