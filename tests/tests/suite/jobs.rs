//! Background jobs and mail through them (issue 4 §6, §8): decisions are mailed through a real SMTP
//! server by a jobs worker; an unreachable mail server never fails the decision, its job is retried with
//! backoff, ends failed with its error for the operator, and goes out once retried; two workers sharing
//! one database never run a job twice.

use jijiao::db::q;
use jijiao::jobs::Job;
use jijiao::state::AppState;
use jijiao_tests::services::{SmtpServer, free_port};
use jijiao_tests::{Backend, TestServer, both, json_of};

use crate::common::*;

/// A Henan staff registration approved by the school's admin; returns the applicant's e-mail.
async fn approve_henan_registration(s: &TestServer, seq: u32) -> String {
    let unit = org_id(s, "henan", "unit", "第一中学").await;
    let form = staff_form(unit, &new_id(seq), "王芳");
    let (status, body) = register_staff(s, "henan", &form).await;
    assert_eq!(status, 201, "{body}");
    let unit_admin = s.demo("henan", "unit", 201).await;
    let items = pending(&unit_admin, s, "henan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let (status, body) = decide(&unit_admin, s, "henan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    form["email"].as_str().unwrap().to_owned()
}

fn mail_jobs(jobs: &[Job]) -> Vec<&Job> {
    jobs.iter().filter(|j| j.kind == "mail.send").collect()
}

async fn decisions_are_mailed_over_smtp(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let s = TestServer::start_with(backend, |config| smtp.configure(config)).await;
    let email = approve_henan_registration(&s, 40).await;
    // The request only queued the mail; a worker delivers it.
    assert!(smtp.messages().is_empty(), "no mail is sent inside the request");
    assert_eq!(s.drain_jobs().await, 1);

    let delivered = smtp.messages();
    assert_eq!(delivered.len(), 1, "exactly one mail arrived");
    let mail = mail_parser::MessageParser::default().parse(&delivered[0]).expect("a parsable mail");
    assert_eq!(mail.subject(), Some("注册审核已通过"));
    let to = mail.to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned);
    assert_eq!(to.as_deref(), Some(email.as_str()));
    let from = mail.from().and_then(|a| a.first()).expect("a sender");
    assert_eq!(from.address(), Some("noreply@henan.jijiao.local"));
    assert_eq!(from.name(), Some("河南省专业技术人员继续教育信息管理系统"));
    let body = mail.body_text(0).expect("a text body");
    assert!(body.contains("您的注册申请") && body.contains("已审核通过"), "{body}");
    assert!(body.contains("王芳"), "the mail names the application: {body}");

    let jobs = s.jobs().await;
    let sent = mail_jobs(&jobs);
    assert_eq!((sent[0].state.as_str(), sent[0].attempts), ("done", 1));
    // Nothing is left to do.
    assert_eq!(s.drain_jobs().await, 0);
    assert_eq!(smtp.messages().len(), 1);
}
both!(decisions_are_mailed_over_smtp, decisions_are_mailed_over_smtp, backend);

async fn unreachable_smtp_is_retried_then_failed_then_retried_by_hand(backend: Backend) {
    let nobody_listens = free_port();
    let s = TestServer::start_with(backend, |config| {
        config.mail.backend = "smtp".into();
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_port = nobody_listens;
        // Only the decision mail's retries are counted below: keep the reviewers' digest out of the way.
        config.mail.digest_minutes = 100_000;
    })
    .await;
    let email = approve_henan_registration(&s, 41).await;
    // The decision took effect whatever happens to the mail.
    let id = new_id(41);
    let staff = s.login("henan", "staff", &id, "Passw0rd2026").await;
    let (_, messages) = json_of(staff.get(s.api("henan", "/messages")).send().await.unwrap()).await;
    assert_eq!(messages["items"][0]["title"], "注册审核已通过", "{messages}");

    // First attempt: refused, queued again for later with the error recorded.
    let started = chrono::Utc::now();
    assert_eq!(s.drain_jobs().await, 1);
    let jobs = s.jobs().await;
    let job = mail_jobs(&jobs)[0].clone();
    assert_eq!((job.state.as_str(), job.attempts), ("queued", 1), "{job:?}");
    assert!(job.last_error.as_deref().is_some_and(|e| !e.is_empty()), "the error is recorded: {job:?}");
    assert!(job.run_after > started, "the retry waits: {job:?}");
    assert!(job.payload.contains(&email));
    // Not due yet: running the queue now does nothing.
    assert_eq!(s.drain_jobs().await, 0);

    // Each retry waits longer than the one before, until the attempts are used up.
    let mut job = job;
    let mut waits = Vec::new();
    while job.state == "queued" {
        let due = job.run_after;
        assert_eq!(s.run_jobs_at(due).await, 1);
        let next = s.jobs().await.into_iter().find(|j| j.id == job.id).unwrap();
        if next.state == "queued" {
            waits.push(next.run_after - due);
        }
        job = next;
    }
    assert_eq!((job.state.as_str(), job.attempts), ("failed", job.max_attempts), "{job:?}");
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "exponential backoff: {waits:?}");
    let failed = jijiao::jobs::list(&s.db, Some("failed"), Some("henan"), 50).await.unwrap();
    assert_eq!(failed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![job.id]);
    let line = jijiao::jobs::describe(&failed[0]);
    assert!(line.contains("failed") && line.contains("mail.send") && line.contains(job.last_error.as_deref().unwrap()), "{line}");
    assert_eq!(s.run_jobs_at(job.run_after + chrono::Duration::days(1)).await, 0, "a failed job stays failed");

    // The operator fixes the mail server and retries: a server with the new configuration on the same
    // database delivers it.
    let smtp = SmtpServer::start().await;
    let retried = jijiao::jobs::retry(&s.db, job.id).await.unwrap();
    assert_eq!((retried.state.as_str(), retried.attempts), ("queued", 0));
    let mut config = s.state.config.clone();
    smtp.configure(&mut config);
    let fixed = AppState::from_db(config, s.db.clone()).await.unwrap();
    assert_eq!(jijiao::jobs::run_due(&fixed, "fixed", chrono::Utc::now()).await.unwrap(), 1);
    assert_eq!(smtp.messages().len(), 1);
    let done = jijiao::jobs::retry(&s.db, job.id).await.unwrap_err();
    assert!(done.to_string().contains("is done"), "{done}");
    assert!(jijiao::jobs::retry(&s.db, 999_999).await.is_err());
    assert!(jijiao::jobs::list(&s.db, Some("lost"), None, 10).await.is_err(), "unknown states are refused");
}
both!(unreachable_smtp_is_retried_then_failed_then_retried_by_hand, unreachable_smtp_is_retried_then_failed_then_retried_by_hand, backend);

/// Two servers' workers on one database: every job runs exactly once.
async fn two_workers_never_run_a_job_twice(backend: Backend) {
    let s = TestServer::start(backend).await;
    const JOBS: usize = 120;
    let mut tx = s.db.begin().await.unwrap();
    for n in 0..JOBS {
        jijiao::mail::queue::queue_tx(&mut tx, "hunan", &format!("person{n}@example.com"), "测试", "正文").await.unwrap();
    }
    tx.commit().await.unwrap();
    // A second process: its own connection pool on the same database and the same outbox.
    let other = jijiao::app::build_state(s.state.config.clone()).await.unwrap();
    let now = chrono::Utc::now();
    let first = tokio::spawn({
        let state = s.state.clone();
        async move { jijiao::jobs::run_due(&state, "first", now).await.unwrap() }
    });
    let second = tokio::spawn(async move { jijiao::jobs::run_due(&other, "second", now).await.unwrap() });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first + second, JOBS, "first ran {first}, second {second}");
    let jobs = s.jobs().await;
    assert!(jobs.iter().all(|j| j.state == "done" && j.attempts == 1), "every job ran once");
    let outbox = std::fs::read_dir(s.data_dir.join("outbox")).unwrap().count();
    assert_eq!(outbox, JOBS, "one mail per job");
}
both!(two_workers_never_run_a_job_twice, two_workers_never_run_a_job_twice, backend);

/// Finished jobs go once older than `jobs.keep_done_days` (the first worker of each process sweeps hourly):
/// a platform batch queues a job per 1,000 records, so the table would otherwise grow with ingest. Queued
/// and failed jobs stay, whatever their age.
async fn old_finished_jobs_are_deleted(s: TestServer) {
    assert_eq!(s.state.config.jobs.keep_done_days, 14, "the default retention");
    let now = chrono::Utc::now();
    let old = now - chrono::Duration::days(30);
    let mut ids = Vec::new();
    let mut tx = s.db.begin().await.unwrap();
    for _ in 0..4 {
        ids.push(jijiao::jobs::enqueue_tx(&mut tx, "hunan", &jijiao::hours::status::RecomputeMany { items: vec![] }).await.unwrap());
    }
    tx.commit().await.unwrap();
    for (id, state, touched) in [(ids[0], "done", old), (ids[1], "done", now), (ids[2], "failed", old), (ids[3], "queued", old)] {
        s.db.run(q("UPDATE jobs SET state = $1, updated_at = $2 WHERE id = $3").bind(state).bind(touched).bind(id)).await.unwrap();
    }
    let deleted = jijiao::jobs::purge_done(&s.db, now - chrono::Duration::days(14)).await.unwrap();
    assert_eq!(deleted, 1);
    let left: Vec<i64> = s.jobs().await.iter().map(|j| j.id).filter(|id| ids.contains(id)).collect();
    assert_eq!(left, ids[1..].to_vec(), "only the month-old finished job went");
}
both!(old_finished_jobs_are_deleted, old_finished_jobs_are_deleted);
