//! Tenants never see each other: every tenant route, called by a user of another tenant, gives nothing.

use jijiao_tests::{TestServer, both, json_of};
use serde_json::json;

use crate::common::*;

async fn other_tenants_get_nothing(s: TestServer) {
    // A pending Henan registration, and Henan's own ids.
    let unit = org_id(&s, "henan", "unit", "第一中学").await;
    let (status, _) = register_staff(&s, "henan", &staff_form(unit, &new_id(40), "隔离")).await;
    assert_eq!(status, 201);
    let henan_admin = s.demo("henan", "unit", 201).await;
    let approval = pending(&henan_admin, &s, "henan").await[0]["id"].as_i64().unwrap();
    let (_, me) = json_of(henan_admin.get(s.api("henan", "/me")).send().await.unwrap()).await;
    let henan_account = me["account"]["id"].as_i64().unwrap();

    // Hunan's most powerful admins see none of it and can change none of it.
    for (user_type, seq) in [("province", 601), ("system", 701), ("unit", 201)] {
        let hunan = s.demo("hunan", user_type, seq).await;
        if user_type != "unit" {
            // (Hunan's unit admins do not review registrations at all.)
            assert!(pending(&hunan, &s, "hunan").await.iter().all(|a| a["id"] != json!(approval)));
        }
        let (status, _) = decide(&hunan, &s, "hunan", &[approval], "approve", None).await;
        assert_eq!(status, 404, "{user_type} deciding another tenant's approval");
        let (status, _) = json_of(hunan.get(s.api("hunan", &format!("/orgs/{unit}"))).send().await.unwrap()).await;
        assert_eq!(status, 404, "{user_type} browsing another tenant's org");
        let (status, _) = json_of(
            hunan.post(s.api("hunan", &format!("/orgs/{unit}/departments"))).json(&json!({"name": "渗透部"})).send().await.unwrap(),
        )
        .await;
        assert!(status == 404 || status == 403, "{user_type} adding a department to another tenant's org: {status}");
        for action in ["/status", "/reset-code"] {
            let res = hunan
                .post(s.api("hunan", &format!("/accounts/{henan_account}{action}")))
                .json(&json!({"status": "disabled"}))
                .send()
                .await
                .unwrap();
            assert!(res.status() == 404 || res.status() == 403, "{user_type} {action} on another tenant's account: {}", res.status());
        }
        // The same session against the other tenant's path is not a session there.
        let (status, _) = json_of(hunan.get(s.api("henan", "/me")).send().await.unwrap()).await;
        assert_eq!(status, 401);
    }
    let (status, _) = json_of(
        henan_admin
            .post(s.api("henan", "/approvals/decisions"))
            .json(&json!({"ids": [approval], "decision": "approve"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "the approval was untouched by the attempts");

    // A session cookie presented to another tenant is worthless even when sent by hand.
    let cookie = s.demo_session_cookie("hunan", "staff", 101).await;
    let res = s.client().get(s.api("henan", "/me")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = s.client().get(s.api("hunan", "/me")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Messages of another account (or tenant) cannot be touched.
    let hunan_staff = s.demo("hunan", "staff", 101).await;
    let (status, _) = json_of(hunan_staff.post(s.api("hunan", "/messages/1/read")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    // Credentials are per tenant: Henan demo staff cannot log in to Hunan.
    let (status, _) = login_status(&s, "hunan", "staff", &jijiao::demo::demo_id_number("henan", 101), jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!(status, 401);
    // The public picker only lists the tenant's own organisations.
    let (_, orgs) = json_of(s.client().get(s.api("hunan", "/orgs?kind=unit&q=郑州")).send().await.unwrap()).await;
    assert_eq!(orgs["total"], 0);
    // Unknown tenants are 404, never another tenant.
    let res = s.client().get(format!("{}/t/nowhere/api/v1/orgs", s.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = s.client().get(format!("{}/api/v1/orgs", s.base)).header("Host", "unknown.localhost").send().await.unwrap();
    assert_eq!(res.status(), 404);
    // A tenant's own host name works without the prefix.
    let res = s.client().get(format!("{}/api/v1/orgs?kind=unit", s.base)).header("Host", "hubei.localhost").send().await.unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200);
    assert!(body["items"][0]["name"].as_str().unwrap().starts_with("武汉"), "{body}");
}
both!(other_tenants_get_nothing, other_tenants_get_nothing);

/// PostgreSQL's row-level security is a second wall behind the queries' own tenant predicates: inside a
/// tenant's work (a request, a job) a statement that forgets `tenant_id = $1` sees and changes only that
/// tenant's rows (also in a task it spawns), a row of another tenant cannot be written, every table with a tenant_id carries the
/// wall, and the server's role does not bypass it. (SQLite has no such wall.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_walls_off_other_tenants_under_a_forgetful_query() {
    use jijiao::db::{q, within_tenant};
    let s = TestServer::start(jijiao_tests::Backend::Postgres).await;
    let all = s.count("SELECT COUNT(*) FROM people").await;
    let hunan = s.count("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan'").await;
    assert!(0 < hunan && hunan < all, "demo people in several tenants: {hunan} of {all}");
    let seen = within_tenant("hunan", s.db.scalar(q("SELECT COUNT(*) FROM people"))).await.unwrap();
    assert_eq!(seen, hunan, "a query without its tenant predicate sees only the tenant's rows");
    let db = s.db.clone();
    let spawned =
        within_tenant("hunan", async move { jijiao::db::spawn(async move { db.scalar(q("SELECT COUNT(*) FROM people")).await }).await })
            .await
            .unwrap()
            .unwrap();
    assert_eq!(spawned, hunan, "a task spawned during the tenant's work keeps its wall");
    let changed = within_tenant("hunan", s.db.run(q("UPDATE people SET phone = '13800000000' WHERE tenant_id = 'henan'"))).await.unwrap();
    assert_eq!(changed, 0, "nor changes another tenant's");
    let planted = within_tenant(
        "hunan",
        s.db.run(q("INSERT INTO basic_data (tenant_id, kind, code, name) VALUES ('henan', 'industry', 'planted', '植入')")),
    )
    .await;
    assert!(planted.is_err(), "nor writes a row of another tenant");
    assert_eq!(s.count("SELECT COUNT(*) FROM basic_data WHERE code = 'planted'").await, 0);
    // Outside any tenant's work (start-up, the job queue's claim) every row is visible.
    assert_eq!(s.db.scalar(q("SELECT COUNT(*) FROM people")).await.unwrap(), all);

    let unwalled = s
        .count(
            "SELECT COUNT(*) FROM information_schema.columns c JOIN pg_class r ON r.relname = c.table_name \
             JOIN pg_namespace n ON n.oid = r.relnamespace AND n.nspname = c.table_schema \
             WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND r.relkind = 'r' \
             AND NOT (r.relrowsecurity AND r.relforcerowsecurity)",
        )
        .await;
    assert_eq!(unwalled, 0, "every table with a tenant_id has forced row-level security (a new table needs its policy)");
    let bypass = s.count("SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls)").await;
    assert_eq!(bypass, 0, "the server's role is bound by the wall");
}
