//! All end-to-end tests in one binary (link time matters on two cores). Every test runs against a real
//! server on a random port, on SQLite and on PostgreSQL (`both!`).

mod accounts;
mod admin;
mod admins;
mod annual_reports;
mod auth;
mod browser;
mod certificates;
mod certificates_pdf;
mod changes;
mod claims;
mod common;
mod crawler;
mod feedback;
mod filings;
mod hostile;
mod hours;
mod institutions;
mod isolation;
mod jobs;
mod notices;
mod oidc;
mod orgs;
mod plans;
mod platforms;
mod portal;
mod progress;
mod registration;
mod requirements;
mod roles;
mod stats;
mod storage;
mod sweep;
mod todos;
mod transfers;
mod work_materials;
