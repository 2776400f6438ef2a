//! A real headless Chromium registers and logs in through one tenant's pages (issue 2, tests).
//! Needs Debian's `chromium` and `chromium-driver` (installed by .ci/run). Outside CI the test is
//! skipped with a message when they are missing; in CI (`CI=true`) their absence fails it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use jijiao_tests::{Backend, TestServer};

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn browser() -> Option<(fantoccini::Client, Driver, tempfile::TempDir)> {
    let have = std::path::Path::new("/usr/bin/chromium").exists() && std::path::Path::new("/usr/bin/chromedriver").exists();
    if !have {
        assert!(std::env::var("CI").is_err(), "CI must install chromium and chromium-driver (see .ci/run)");
        eprintln!("skipping browser test: /usr/bin/chromium or /usr/bin/chromedriver missing");
        return None;
    }
    jijiao_tests::install_crypto();
    let port = free_port();
    let driver = Driver(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,1024".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), serde_json::json!({"binary": "/usr/bin/chromium", "args": args}));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..50 {
        if let Ok(client) = ClientBuilder::rustls().expect("tls").capabilities(caps.clone()).connect(&url).await {
            return Some((client, driver, profile));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start");
}

/// Finds and clicks, retrying while a navigation replaces the page under the driver's feet.
async fn click(client: &fantoccini::Client, locator: Locator<'_>) {
    let mut last = None;
    for _ in 0..20 {
        match client.find(locator).await {
            Ok(element) => match element.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e.to_string()),
            },
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not click {locator:?}: {last:?}");
}

async fn fill(client: &fantoccini::Client, name: &str, value: &str) {
    let field = client.find(Locator::Css(&format!("[name='{name}']"))).await.unwrap_or_else(|e| panic!("field {name}: {e}"));
    field.clear().await.ok();
    field.send_keys(value).await.unwrap();
}

async fn choose(client: &fantoccini::Client, name: &str, value: &str) {
    let select = client.find(Locator::Css(&format!("select[name='{name}']"))).await.unwrap();
    select.select_by_value(value).await.unwrap_or_else(|e| panic!("select {name}={value}: {e}"));
}

async fn set_date(client: &fantoccini::Client, name: &str, value: &str) {
    // Date inputs take typed digits in the locale's order; setting the value is locale-proof.
    client
        .execute(&format!("document.querySelector(\"[name='{name}']\").value = arguments[0];"), vec![serde_json::json!(value)])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_register_and_login_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    let id = crate::common::new_id(77);

    c.goto(&s.url("hunan", "/")).await.unwrap();
    assert!(c.source().await.unwrap().contains("湖南省事业单位工作人员培训管理平台"));
    click(&c, Locator::LinkText("个人注册")).await;
    // Step 1: find the unit.
    fill(&c, "q", "第一中学").await;
    click(&c, Locator::Css("form[role=search] button[type=submit]")).await;
    c.wait().for_element(Locator::Css("table.list")).await.unwrap();
    click(&c, Locator::LinkText("选择此单位")).await;
    c.wait().for_element(Locator::Css("#register-form")).await.unwrap();
    // Step 2: the form. First submit it with a wrong ID number: the page says what is wrong.
    fill(&c, "name", "浏览器").await;
    fill(&c, "id_number", "430104199003150000").await;
    fill(&c, "password", "Browser2026ok").await;
    choose(&c, "gender", jijiao::ids::gender_of(&id)).await;
    fill(&c, "phone", "13812340000").await;
    fill(&c, "email", "browser@example.com").await;
    fill(&c, "native_place", "湖南长沙").await;
    choose(&c, "education", "master").await;
    fill(&c, "major", "计算机").await;
    fill(&c, "school", "湖南大学").await;
    set_date(&c, "graduated_on", "2014-06-30").await;
    fill(&c, "title", "工程师").await;
    choose(&c, "title_level", "intermediate").await;
    choose(&c, "post", "technical").await;
    click(&c, Locator::Css("#register-form button[type=submit]")).await;
    let error = c.wait().for_element(Locator::Css(".field-error[data-field=id_number]")).await.unwrap();
    assert_eq!(error.text().await.unwrap(), "身份证号码校验位不正确", "the form shows the field error");
    // Fix it; the other fields kept their values, the password must be typed again.
    fill(&c, "id_number", &id).await;
    fill(&c, "password", "Browser2026ok").await;
    click(&c, Locator::Css("#register-form button[type=submit]")).await;
    c.wait().for_element(Locator::Css("[data-status]")).await.unwrap();
    assert!(c.source().await.unwrap().contains("data-status=\"active\""), "Hunan staff are active at once");

    // Log in through the login page and land on the account page.
    c.goto(&s.url("hunan", "/login")).await.unwrap();
    choose(&c, "user_type", "staff").await;
    fill(&c, "id_number", &id).await;
    fill(&c, "password", "Browser2026ok").await;
    click(&c, Locator::Css("form.form button[type=submit]")).await;
    c.wait().for_element(Locator::Css("dl.facts")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("浏览器") && page.contains("第一中学"), "account page shows the person and unit");
    assert!(!page.contains(&id), "the ID number is masked");
    c.close().await.unwrap();
}

async fn login_page(c: &fantoccini::Client, s: &TestServer, tenant: &str, user_type: &str, seq: u32) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&s.url(tenant, "/login")).await.unwrap();
    choose(c, "user_type", user_type).await;
    fill(c, "id_number", &jijiao::demo::demo_id_number(tenant, seq)).await;
    fill(c, "password", jijiao::demo::DEMO_PASSWORD).await;
    click(c, Locator::Css("form.form button[type=submit]")).await;
    c.wait().for_element(Locator::Css("aside.sidenav")).await.unwrap();
}

/// Issue 4: a staff member claims hours for a patent with a proof file; the unit admin and the
/// supervising department approve it through their queues; the claim shows as approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_with_attachment_submitted_and_approved_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    login_page(&c, &s, "hunan", "staff", 101).await;
    click(&c, Locator::LinkText("学时申报")).await;
    click(&c, Locator::LinkText("新建申报")).await;
    choose(&c, "year", "2025").await;
    choose(&c, "activity", "patent").await;
    click(&c, Locator::Css("form.inline-form button[type=submit]")).await;
    c.wait().for_element(Locator::Css("[name='f.name']")).await.unwrap();
    fill(&c, "f.name", "一种教学演示装置").await;
    set_date(&c, "f.start_date", "2025-03-01").await;
    set_date(&c, "f.end_date", "2025-03-05").await;
    click(&c, Locator::Css("form.grid button.primary")).await;
    c.wait().for_element(Locator::Css("input[type=file]")).await.unwrap();
    // Submitting without the proof: the page says which file is missing.
    click(&c, Locator::Css("form[action$='/submit'] button")).await;
    let error = c.wait().for_element(Locator::Css("li[data-field=attachment]")).await.unwrap();
    assert!(error.text().await.unwrap().contains("请上传"));
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("专利证书.pdf");
    std::fs::write(&proof, crate::common::PDF).unwrap();
    c.find(Locator::Css("input[type=file]")).await.unwrap().send_keys(&proof.display().to_string()).await.unwrap();
    click(&c, Locator::Css("form[enctype] button[type=submit]")).await;
    c.wait().for_element(Locator::LinkText("专利证书.pdf")).await.unwrap();
    click(&c, Locator::Css("form[action$='/submit'] button")).await;
    c.wait().for_element(Locator::Css("[data-status=submitted]")).await.unwrap();

    // The unit admin passes it on from the queue.
    login_page(&c, &s, "hunan", "unit", 201).await;
    click(&c, Locator::LinkText("学时审核")).await;
    click(&c, Locator::Css("input[name=ids]")).await;
    click(&c, Locator::Css("button[value=approve].primary")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.source().await.unwrap().contains("已审核 1 条记录"));

    // The supervising department opens it, sees the proof, and approves it on its page.
    login_page(&c, &s, "hunan", "authority", 401).await;
    click(&c, Locator::LinkText("学时审核")).await;
    click(&c, Locator::LinkText("详细")).await;
    c.wait().for_element(Locator::LinkText("专利证书.pdf")).await.unwrap();
    click(&c, Locator::Css("button[value=approve]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();

    login_page(&c, &s, "hunan", "staff", 101).await;
    click(&c, Locator::LinkText("学时申报")).await;
    click(&c, Locator::LinkText("查看")).await;
    c.wait().for_element(Locator::Css("[data-status=approved]")).await.unwrap();
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source = 'activity'").await, 1);
    c.close().await.unwrap();
}

/// Issue 6 part 5: a Henan institution declares its class from the 申报花名册 page; the HR bureau opens
/// the declaration, passes every student with the select-all box, and approves it; the students get
/// their hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_declared_and_audited_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    login_page(&c, &s, "henan", "institution", 301).await;
    click(&c, Locator::LinkText("培训班管理")).await;
    click(&c, Locator::LinkText("申报花名册")).await;
    c.wait().for_element(Locator::Css("form[action$='/declare'] button.primary")).await.unwrap();
    click(&c, Locator::Css("form[action$='/declare'] button.primary")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.source().await.unwrap().contains("审核中"));

    login_page(&c, &s, "henan", "hr", 501).await;
    click(&c, Locator::LinkText("培训班学时审核")).await;
    click(&c, Locator::LinkText("详细")).await;
    click(&c, Locator::LinkText("查看申报学员并逐个审核")).await;
    c.wait().for_element(Locator::Css("input[data-select-all]")).await.unwrap();
    click(&c, Locator::Css("input[data-select-all]")).await;
    click(&c, Locator::Css("button[name=verdict][value=pass]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.source().await.unwrap().contains("已标记 2 名学员"));
    click(&c, Locator::LinkText("审核本申报（通过 / 不通过）")).await;
    click(&c, Locator::Css("button[value=approve]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source = 'offline'").await, 2);
    c.close().await.unwrap();
}

/// Issue 15 §1: a Hunan school admin opens a staff member's page, 调出 to the hospital; the hospital's
/// admin confirms it in 调入审核; the person is the hospital's and the school's record says 已调入.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_out_and_confirmed_in_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    let hospital: (String,) =
        s.db.one(jijiao::db::q("SELECT name FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:hospital'")).await.unwrap();
    let id_number = jijiao::demo::demo_id_number("hunan", 101);
    login_page(&c, &s, "hunan", "unit", 201).await;
    let person = s.count(&format!("SELECT id FROM people WHERE id_number = '{id_number}'")).await;
    c.goto(&s.url("hunan", &format!("/staff/{person}"))).await.unwrap();
    click(&c, Locator::LinkText("调出")).await;
    // A unit that does not exist is named on the form, and nothing is filed.
    fill(&c, "to_unit", "不存在的单位").await;
    fill(&c, "reason", "工作调动").await;
    click(&c, Locator::Css("form.form button.primary")).await;
    let error = c.wait().for_element(Locator::Css("[data-field=to_unit_id]")).await.unwrap();
    assert!(error.text().await.unwrap().contains("找不到该单位"));
    fill(&c, "to_unit", &hospital.0).await;
    click(&c, Locator::Css("form.form button.primary")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.source().await.unwrap().contains("待审核"));

    login_page(&c, &s, "hunan", "unit", 202).await;
    click(&c, Locator::LinkText("调入审核")).await;
    click(&c, Locator::LinkText("详细")).await;
    c.wait().for_element(Locator::LinkText("调转详情")).await.unwrap();
    assert!(c.source().await.unwrap().contains("工作调动"));
    click(&c, Locator::Css("button[value=approve]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert_eq!(
        s.count(&format!("SELECT unit_id FROM people WHERE id = {person}")).await,
        s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:hospital'").await
    );

    login_page(&c, &s, "hunan", "unit", 201).await;
    click(&c, Locator::LinkText("人员调转")).await;
    click(&c, Locator::LinkText("调出")).await;
    c.wait().for_element(Locator::Css("table.list")).await.unwrap();
    assert!(c.source().await.unwrap().contains("已调入"));
    c.close().await.unwrap();
}

/// Issue 15 §2: a Hunan staff member asks for a new title level on 职称变更; the profile keeps the old one
/// until the unit's admin approves it in 职称变更审核, where old → new is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn title_change_filed_and_approved_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    login_page(&c, &s, "hunan", "staff", 101).await;
    click(&c, Locator::LinkText("个人中心")).await;
    click(&c, Locator::LinkText("职称变更")).await;
    // Nothing filled in: the page says so and files nothing.
    click(&c, Locator::Css("form.grid button.primary")).await;
    c.wait().for_element(Locator::Css("[data-field=fields]")).await.unwrap();
    choose(&c, "title_level", "senior").await;
    choose(&c, "title_series", "school_teacher").await;
    click(&c, Locator::Css("form.grid button.primary")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("待审核的变更") && page.contains("正高级"), "the pending change is shown");
    let id_number = jijiao::demo::demo_id_number("hunan", 101);
    let level: (String,) =
        s.db.one(jijiao::db::q("SELECT title_level FROM people WHERE id_number = $1").bind(id_number.clone())).await.unwrap();
    assert_eq!(level.0, "intermediate", "not before approval");

    login_page(&c, &s, "hunan", "unit", 201).await;
    click(&c, Locator::LinkText("职称变更审核")).await;
    click(&c, Locator::LinkText("详细")).await;
    c.wait().for_element(Locator::Css("button[value=approve]")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("中级") && page.contains("正高级") && page.contains("中小学教师"), "old → new on the review page");
    click(&c, Locator::Css("button[value=approve]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    let level: (String,) = s.db.one(jijiao::db::q("SELECT title_level FROM people WHERE id_number = $1").bind(id_number)).await.unwrap();
    assert_eq!(level.0, "senior");
    c.close().await.unwrap();
}

/// Issue 16 §2: the province's 职称系列分布 shows the server's SVG chart (the image loads and has a size)
/// beside the table, and 导出数据 offers the workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn title_distribution_chart_is_shown() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    login_page(&c, &s, "hunan", "province", 601).await;
    click(&c, Locator::LinkText("职称系列分布")).await;
    c.wait().for_element(Locator::Css("figure.chart img")).await.unwrap();
    let mut width = 0;
    for _ in 0..50 {
        let loaded = c
            .execute("const img = document.querySelector('figure.chart img'); return img.complete ? img.naturalWidth : 0;", vec![])
            .await
            .unwrap();
        width = loaded.as_i64().unwrap_or(0);
        if width > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(width >= 640, "the SVG chart loaded: {width}");
    let page = c.source().await.unwrap();
    assert!(page.contains("卫生技术人员") && page.contains("总计") && page.contains("导出数据"), "{page}");
    let export = c.find(Locator::LinkText("导出数据")).await.unwrap().attr("href").await.unwrap().unwrap_or_default();
    assert!(export.ends_with(&format!("/stats/titles.xlsx?year={}", jijiao::hours::this_year())), "{export}");
    c.close().await.unwrap();
}

/// Issue 18 §1 and §3: a staff member files feedback with an attachment through the page; the
/// province sees it waiting, replies and closes it; the staff member's header then counts the unread
/// reply, and the feedback page shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_filed_and_answered_through_pages() {
    let Some((c, _driver, _profile)) = browser().await else { return };
    let s = TestServer::start(Backend::Sqlite).await;
    login_page(&c, &s, "hunan", "staff", 101).await;
    // The demo's two notices wait unread; reading them all empties the header's count.
    let unread = c.find(Locator::Css("[data-count=unread] .badge")).await.unwrap().text().await.unwrap();
    assert_eq!(unread, "2", "the province's and the bureau's notices");
    click(&c, Locator::Css("[data-count=unread]")).await;
    click(&c, Locator::Css("form[action$='/messages/read-all'] button")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.find(Locator::Css("[data-count=unread] .badge")).await.is_err(), "nothing unread");
    click(&c, Locator::LinkText("意见反馈")).await;
    choose(&c, "category", "platform").await;
    fill(&c, "text", "课程视频在手机上无法播放。").await;
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("截图.pdf");
    std::fs::write(&shot, crate::common::PDF).unwrap();
    c.find(Locator::Css("input[name=attachment]")).await.unwrap().send_keys(&shot.display().to_string()).await.unwrap();
    click(&c, Locator::Css("form[enctype] button[type=submit]")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("反馈已提交") && page.contains("平台问题") && page.contains("待处理"), "{page}");

    login_page(&c, &s, "hunan", "province", 601).await;
    click(&c, Locator::LinkText("意见反馈")).await;
    click(&c, Locator::LinkText("查看")).await;
    c.wait().for_element(Locator::LinkText("截图.pdf")).await.unwrap();
    fill(&c, "text", "已通知平台修复。").await;
    click(&c, Locator::Css("input[name=close]")).await;
    click(&c, Locator::Css("form.form button.primary")).await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(c.source().await.unwrap().contains("已办结"));

    login_page(&c, &s, "hunan", "staff", 101).await;
    let unread = c.find(Locator::Css("[data-count=unread] .badge")).await.unwrap().text().await.unwrap();
    assert_eq!(unread, "1", "the header counts the reply's message");
    click(&c, Locator::LinkText("意见反馈")).await;
    click(&c, Locator::LinkText("查看")).await;
    let page = c.source().await.unwrap();
    assert!(page.contains("已通知平台修复。") && page.contains("已办结"), "{page}");
    c.close().await.unwrap();
}
