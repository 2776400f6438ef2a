//! jijiao (继教): multi-tenant continuing-education hour management.
//!
//! One module per domain word (see DESIGN.md): a handler reads "parse → authorize → domain → render".

pub mod accounts;
pub mod annual_reports;
pub mod api;
pub mod app;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod basic_data;
pub mod certificates;
pub mod changes;
pub mod china_time;
pub mod claims;
pub mod cli;
pub mod codes;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod feedback;
pub mod fields;
pub mod hours;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod kinds;
pub mod mail;
pub mod memo;
pub mod messages;
pub mod observability;
pub mod orgs;
pub mod paging;
pub mod people;
pub mod requirements;
pub mod roles;
pub mod rules;
pub mod spreadsheet;
pub mod state;
pub mod stats;
pub mod storage;
pub mod tenancy;
pub mod todos;
pub mod training;
pub mod transfers;
pub mod web;
pub mod work_materials;

/// The allocator `jijiao serve` runs on (set in main.rs, and by the benchmarks that host the server):
/// many threads allocating small buffers per request spent about a sixth of the CPU in glibc's malloc.
pub use mimalloc::MiMalloc;
