//! A fourth province (issue 17 §4): the 示例省 fixture, made by `jijiao tenant new shili` with its own
//! plugin crate, joins by `tenant sync` beside the three real ones with no server change and runs the
//! whole journey — registration, approval, a claim through its plugin's route, the yearly status, a
//! certificate.

use jijiao_tests::{Backend, TestServer, both, json_of, workspace_root};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::*;

const CODE: &str = "shili";
const YEAR: i64 = 2025;

/// The committed fixture is what the scaffolder makes (but for the plugin pin and the fixture's header).
#[test]
fn the_fixture_is_what_tenant_new_makes() {
    let out = tempfile::tempdir().unwrap();
    let new =
        jijiao::tenancy::scaffold::NewProvince {
            code: CODE, name: "示例省专业技术人员继续教育平台", province: "示例省", region: "99"
        };
    let written = jijiao::tenancy::scaffold::create(&new, &out.path().join("tenants"), &out.path().join("plugins")).unwrap();
    assert!(written.len() >= 10, "{written:?}");
    let fixture = workspace_root().join("tests/fixtures/tenants").join(CODE);
    let plugin = workspace_root().join("plugins").join(CODE);
    for path in written {
        let (committed, made) = match path.strip_prefix(out.path().join("plugins").join(CODE)) {
            Ok(rest) => (plugin.join(rest), path.clone()),
            Err(_) => (fixture.join(path.strip_prefix(out.path().join("tenants").join(CODE)).unwrap()), path.clone()),
        };
        let keep = |text: String| -> Vec<String> {
            text.lines().filter(|l| !l.starts_with('#') && !l.starts_with("sha256 = ")).map(str::to_owned).collect()
        };
        let committed_text = std::fs::read_to_string(&committed).unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
        assert_eq!(
            keep(committed_text),
            keep(std::fs::read_to_string(&made).unwrap()),
            "{} differs from what the scaffolder makes",
            committed.display()
        );
    }
    // Nothing is overwritten.
    let again = jijiao::tenancy::scaffold::create(&new, &out.path().join("tenants"), &out.path().join("plugins"));
    assert!(again.unwrap_err().to_string().contains("exists already"));
    let bad = jijiao::tenancy::scaffold::NewProvince { code: "Bad Code", ..new };
    assert!(jijiao::tenancy::scaffold::create(&bad, out.path(), out.path()).is_err());
}

async fn a_fourth_province_runs_the_whole_journey(backend: Backend) {
    // The three provinces and the fixture in one tenants folder, synced at start.
    let tenants = tempfile::tempdir().unwrap();
    for tenant in ["hunan", "henan", "hubei"] {
        copy_dir(&workspace_root().join("tenants").join(tenant), &tenants.path().join(tenant));
    }
    copy_dir(&workspace_root().join("tests/fixtures/tenants").join(CODE), &tenants.path().join(CODE));
    let dir = tenants.path().to_path_buf();
    let s = TestServer::start_with(backend, move |config| config.tenants_dir = dir).await;
    let home = s.client().get(s.url(CODE, "/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("示例省专业技术人员继续教育平台"), "the portal is served: {home}");

    // Registration, approved on the plugin's route by the school's supervising authority.
    let school = org_id(&s, CODE, "unit", "第一中学").await;
    let id = new_id(44);
    let (status, body) = register_staff(&s, CODE, &staff_form(school, &id, "陈新")).await;
    assert_eq!((status, body["status"].as_str()), (201, Some("pending")), "{body}");
    let authority = s.demo(CODE, "authority", 401).await;
    let items = pending(&authority, &s, CODE).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let (status, body) = decide(&authority, &s, CODE, &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let staff = s.login(CODE, "staff", &id, "Passw0rd2026").await;

    // A claim through the plugin's catalogue and route.
    let fields = json!({"subject": "professional", "name": "示例省骨干教师研修", "organiser": "示例省教育厅", "start_date": "2025-03-01",
                        "end_date": "2025-03-20", "hours": 90});
    let (status, claim) = json_of(
        staff.post(s.api(CODE, "/claims")).json(&json!({"year": YEAR, "activity": "training", "fields": fields})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    let claim = claim["id"].as_i64().unwrap();
    let proof = Form::new().part("file", Part::bytes(PDF.to_vec()).file_name("结业证书.pdf"));
    assert_eq!(staff.post(s.api(CODE, &format!("/claims/{claim}/attachments"))).multipart(proof).send().await.unwrap().status(), 201);
    let (status, detail) = json_of(staff.post(s.api(CODE, &format!("/claims/{claim}/submit"))).send().await.unwrap()).await;
    assert_eq!((status, detail["steps"].as_array().map(Vec::len)), (200, Some(1)), "{detail}");
    let (_, queue) = json_of(authority.get(s.api(CODE, "/approvals?kind=claim")).send().await.unwrap()).await;
    let step = queue["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("the claim waits for the authority: {queue}"));
    assert_eq!(decide(&authority, &s, CODE, &[step], "approve", None).await.0, 200);

    // The year judged by the fixture's plugin, and its certificate.
    let (_, status_body) = json_of(staff.get(s.api(CODE, &format!("/me/status?year={YEAR}"))).send().await.unwrap()).await;
    assert_eq!((status_body["met"].as_bool(), &status_body["required"]["total"]), (Some(true), &json!(90)), "{status_body}");
    let (status, certificate) = json_of(
        staff.post(s.api(CODE, "/certificates/applications")).json(&json!({"kind": "qualified", "year": YEAR})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{certificate}");
    assert!(certificate["number"].as_str().is_some_and(|n| n.starts_with("SH")), "{certificate}");

    // The other provinces are untouched and see none of it.
    let hunan = s.demo("hunan", "system", 701).await;
    let (_, queue) = json_of(hunan.get(s.api("hunan", "/approvals?kind=registration&status=all")).send().await.unwrap()).await;
    assert!(!queue.to_string().contains("陈新"), "{queue}");
    assert_eq!(json_of(hunan.get(s.api(CODE, "/me")).send().await.unwrap()).await.0, 401, "a Hunan session is nothing in 示例省");
}
both!(a_fourth_province_runs_the_whole_journey, a_fourth_province_runs_the_whole_journey, backend);
