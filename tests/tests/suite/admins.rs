//! An organisation's admins (issue 15 §3, seed 004 §5.1.1.3): the list, adding admins three ways, removing
//! admin rights, and the one super admin who manages the others.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::*;

async fn admins(client: &Client, s: &TestServer, org: i64) -> (u16, Value) {
    json_of(client.get(s.api("hunan", &format!("/orgs/{org}/admins"))).send().await.unwrap()).await
}

async fn add(client: &Client, s: &TestServer, org: i64, body: Value) -> (u16, Value) {
    json_of(client.post(s.api("hunan", &format!("/orgs/{org}/admins"))).json(&body).send().await.unwrap()).await
}

async fn remove(client: &Client, s: &TestServer, org: i64, account: i64, successor: Option<i64>) -> (u16, Value) {
    let mut url = s.api("hunan", &format!("/orgs/{org}/admins/{account}"));
    if let Some(successor) = successor {
        url.push_str(&format!("?successor_id={successor}"));
    }
    json_of(client.delete(url).send().await.unwrap()).await
}

async fn designate(client: &Client, s: &TestServer, org: i64, account: i64) -> (u16, Value) {
    json_of(client.post(s.api("hunan", &format!("/orgs/{org}/super-admin"))).json(&json!({"account_id": account})).send().await.unwrap())
        .await
}

fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("{name} in {list}"))
}

async fn an_organisations_admins_have_one_super_admin(s: TestServer) {
    let school = org_id(&s, "hunan", "unit", "第一中学").await;
    let hospital = org_id(&s, "hunan", "unit", "中心医院").await;
    let super_admin = s.demo("hunan", "unit", 201).await;
    let (status, list) = admins(&super_admin, &s, school).await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(1)), "{list}");
    let first = by_name(&list, "湘单位").clone();
    assert_eq!(first["super_admin"], true, "a new organisation's first admin is its super admin: {list}");

    // 选择成为管理员: a staff member of the school keeps their password and logs in as an admin.
    let staff_person = demo_person(&s, "hunan", 101).await;
    let (status, body) = add(&super_admin, &s, school, json!({"source": "staff", "person_id": staff_person})).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["code"].is_null(), "{body}");
    let staff_admin_id = body["id"].as_i64().unwrap();
    let staff_id_number = jijiao::demo::demo_id_number("hunan", 101);
    let staff_admin = s.login("hunan", "unit", &staff_id_number, jijiao::demo::DEMO_PASSWORD).await;
    // 注册成为管理员: a newcomer gets a one-time code that must be changed.
    let newcomer = new_id(77);
    let (status, body) = add(
        &super_admin,
        &s,
        school,
        json!({"source": "new", "id_number": newcomer, "name": "新管理", "phone": "13800001111", "email": "x@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let code = body["code"].as_str().unwrap().to_owned();
    let newcomer_id = body["id"].as_i64().unwrap();
    let (_, me) = json_of(s.login("hunan", "unit", &newcomer, &code).await.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["must_change_password"], true, "{me}");
    // 添加成为管理员: the institution's admin, already on the platform, keeps their password.
    let institution_id_number = jijiao::demo::demo_id_number("hunan", 301);
    let (status, body) = add(&super_admin, &s, school, json!({"source": "account", "id_number": institution_id_number})).await;
    assert_eq!(status, 201, "{body}");
    s.login("hunan", "unit", &institution_id_number, jijiao::demo::DEMO_PASSWORD).await;

    // Bad input changes nothing.
    let before = s.count("SELECT COUNT(*) FROM accounts").await;
    let hospital_person = demo_person(&s, "hunan", 102).await;
    for (body, status, what) in [
        (json!({"source": "staff", "person_id": hospital_person}), 422, "person_id"),
        (json!({"source": "staff"}), 422, "person_id"),
        (json!({"source": "account", "id_number": new_id(78)}), 422, "id_number"),
        (json!({"source": "new", "id_number": "123", "name": "张三", "phone": "1", "email": "x"}), 422, "id_number"),
        (json!({"source": "account", "id_number": institution_id_number}), 409, "already_admin"),
        (json!({"source": "account", "id_number": jijiao::demo::demo_id_number("hunan", 202)}), 409, "already_admin"),
    ] {
        let (got, answer) = add(&super_admin, &s, school, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["fields"][what].is_string() || answer["code"] == what, "{what}: {answer}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM accounts").await, before);

    // An ordinary admin sees the list but manages nobody of their own organisation.
    let (status, list) = admins(&staff_admin, &s, school).await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(4)), "{list}");
    assert_eq!(list["items"][0]["super_admin"], true, "super admin first: {list}");
    let first_id = first["id"].as_i64().unwrap();
    for (status, body) in [
        add(&staff_admin, &s, school, json!({"source": "account", "id_number": jijiao::demo::demo_id_number("hunan", 401)})).await,
        remove(&staff_admin, &s, school, newcomer_id, None).await,
        designate(&staff_admin, &s, school, staff_admin_id).await,
        json_of(
            staff_admin
                .post(s.api("hunan", &format!("/accounts/{newcomer_id}/status")))
                .json(&json!({"status": "disabled"}))
                .send()
                .await
                .unwrap(),
        )
        .await,
    ] {
        assert_eq!((status, body["code"].as_str()), (403, Some("super_admin_only")), "{body}");
    }
    // Nobody removes themselves.
    assert_eq!(remove(&super_admin, &s, school, first_id, Some(staff_admin_id)).await.0, 400);

    // Above the school: the super admin goes only with a successor.
    let province = s.demo("hunan", "province", 601).await;
    let (status, body) = remove(&province, &s, school, first_id, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("super_admin_required")), "{body}");
    let (status, body) = remove(&province, &s, school, first_id, Some(staff_admin_id)).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = login_status(&s, "hunan", "unit", &jijiao::demo::demo_id_number("hunan", 201), jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("removed")), "{body}");
    assert_eq!(super_admin.get(s.api("hunan", "/me")).send().await.unwrap().status(), 401, "the removed admin's session ended");
    let (_, list) = admins(&staff_admin, &s, school).await;
    assert_eq!(list["total"], 3, "removed admins are not listed: {list}");
    assert_eq!(by_name(&list, "湘一")["super_admin"], true, "{list}");

    // The new super admin hands the title on and becomes an ordinary admin.
    let staff_admin = s.login("hunan", "unit", &staff_id_number, jijiao::demo::DEMO_PASSWORD).await;
    let (status, body) = designate(&staff_admin, &s, school, newcomer_id).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = designate(&province, &s, school, newcomer_id).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_super_admin")), "{body}");
    let staff_admin = s.login("hunan", "unit", &staff_id_number, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!(remove(&staff_admin, &s, school, newcomer_id, None).await.0, 403);
    assert_eq!(s.count("SELECT COUNT(*) FROM accounts WHERE super_admin = TRUE AND tenant_id = 'hunan' AND org_id IN (SELECT id FROM orgs WHERE name LIKE '%第一中学')").await, 1);
    // A removed admin added again gets the same account back.
    let (status, body) =
        add(&province, &s, school, json!({"source": "account", "id_number": jijiao::demo::demo_id_number("hunan", 201)})).await;
    assert_eq!((status, body["id"].as_i64()), (201, Some(first_id)), "{body}");

    // The hospital's only admin cannot be removed.
    let (_, list) = admins(&province, &s, hospital).await;
    let only = list["items"][0]["id"].as_i64().unwrap();
    let (status, body) = remove(&province, &s, hospital, only, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_admin")), "{body}");

    // Other organisations' admins and other tenants see nothing.
    let hospital_admin = s.demo("hunan", "unit", 202).await;
    assert_eq!(admins(&hospital_admin, &s, school).await.0, 404);
    assert_eq!(add(&hospital_admin, &s, school, json!({"source": "staff", "person_id": staff_person})).await.0, 404);
    assert_eq!(remove(&hospital_admin, &s, school, newcomer_id, None).await.0, 404);
    assert_eq!(designate(&hospital_admin, &s, school, staff_admin_id).await.0, 404);
    let henan = s.demo("henan", "province", 601).await;
    for path in [format!("/orgs/{school}/admins"), format!("/orgs/{school}/super-admin")] {
        let status = henan.post(s.api("henan", &path)).json(&json!({"account_id": staff_admin_id})).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(json_of(henan.get(s.api("henan", &format!("/orgs/{school}/admins"))).send().await.unwrap()).await.0, 404);
}
both!(an_organisations_admins_have_one_super_admin, an_organisations_admins_have_one_super_admin);

/// The 管理员管理 page: the list with the super admin marked, the three ways to add, and removal.
async fn the_admins_page(s: TestServer) {
    let school = org_id(&s, "hunan", "unit", "第一中学").await;
    let admin = s.demo("hunan", "unit", 201).await;
    let html = admin.get(s.url("hunan", "/admins")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">管理员管理</a>") && html.contains("超级管理员") && html.contains("湘单位"), "{html}");
    assert!(html.contains("选择成为管理员") && html.contains("注册成为管理员") && html.contains("添加成为管理员"), "{html}");
    assert!(html.contains("湘一（"), "the school's staff are offered: {html}");
    // A unit's staff may be thousands: 查找人员 narrows the offer by name or ID number.
    let offered = |html: &str| html.contains("湘一（");
    let id_number = jijiao::demo::demo_id_number("hunan", 101);
    for (search, found) in [("湘一", true), (id_number.as_str(), true), ("湘二", false), ("%", false)] {
        let url = reqwest::Url::parse_with_params(&s.url("hunan", "/admins"), [("staff_q", search)]).unwrap();
        let html = admin.get(url).send().await.unwrap().text().await.unwrap();
        assert_eq!(offered(&html), found, "{search}: {html}");
        assert!(html.contains("name=\"staff_q\"") && html.contains(&format!("value=\"{search}\"")), "{html}");
        assert_eq!(html.contains("的本单位人员。"), !found, "{search}: {html}");
    }
    let csrf = csrf_in(&html);
    let person = demo_person(&s, "hunan", 101).await.to_string();
    let add_staff = || {
        admin
            .post(s.url("hunan", &format!("/orgs/{school}/admins")))
            .form(&[("csrf_token", csrf.as_str()), ("source", "staff"), ("person_id", person.as_str())])
            .send()
    };
    let res = add_staff().await.unwrap();
    assert_eq!(res.status(), 303);
    let html = admin.get(s.url("hunan", "/admins")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("湘一") && html.contains("设为超级管理员"), "{html}");
    // A duplicate says why on the page.
    let res = add_staff().await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("已是"), "the page names the conflict");
    let (_, list) = admins(&admin, &s, school).await;
    let added = by_name(&list, "湘一")["id"].as_i64().unwrap();
    let res = admin
        .post(s.url("hunan", &format!("/orgs/{school}/admins/{added}/remove")))
        .form(&[("csrf_token", csrf.as_str()), ("successor_id", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = admin.get(s.url("hunan", "/admins?q=湘一")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("没有符合条件的管理员"), "{html}");
    // Staff have no such page.
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(staff.get(s.url("hunan", "/admins")).send().await.unwrap().status(), 403);
}
both!(the_admins_page, the_admins_page);
