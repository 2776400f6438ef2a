//! Templates compiled into the binary, with per-tenant overrides from `tenants/<code>/theme/templates/`.

use std::collections::HashMap;
use std::path::Path;

use minijinja::Environment;
use serde_json::Value;

use crate::error::AppError;
use crate::tenancy::Tenants;

/// Templates compiled into the binary; a tenant may override any of them with a file of the same name
/// in `tenants/<code>/theme/templates/`.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("forgot.html", include_str!("../../templates/forgot.html")),
    ("reset.html", include_str!("../../templates/reset.html")),
    ("password.html", include_str!("../../templates/password.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("register.html", include_str!("../../templates/register.html")),
    ("register_org.html", include_str!("../../templates/register_org.html")),
    ("registered.html", include_str!("../../templates/registered.html")),
    ("messages.html", include_str!("../../templates/messages.html")),
    ("approvals.html", include_str!("../../templates/approvals.html")),
    ("approval.html", include_str!("../../templates/approval.html")),
    ("approval_macros.html", include_str!("../../templates/approval_macros.html")),
    ("approval_registration.html", include_str!("../../templates/approval_registration.html")),
    ("approval_claim.html", include_str!("../../templates/approval_claim.html")),
    ("approval_exemption.html", include_str!("../../templates/approval_exemption.html")),
    ("approval_plan.html", include_str!("../../templates/approval_plan.html")),
    ("approval_declaration.html", include_str!("../../templates/approval_declaration.html")),
    ("approval_filing.html", include_str!("../../templates/approval_filing.html")),
    ("approval_filing_roster.html", include_str!("../../templates/approval_filing_roster.html")),
    ("approval_transfer.html", include_str!("../../templates/approval_transfer.html")),
    ("approval_change.html", include_str!("../../templates/approval_change.html")),
    ("approval_annual_report.html", include_str!("../../templates/approval_annual_report.html")),
    ("annual_reports.html", include_str!("../../templates/annual_reports.html")),
    ("annual_report.html", include_str!("../../templates/annual_report.html")),
    ("materials.html", include_str!("../../templates/materials.html")),
    ("feedback.html", include_str!("../../templates/feedback.html")),
    ("feedback_item.html", include_str!("../../templates/feedback_item.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("notices.html", include_str!("../../templates/notices.html")),
    ("claims.html", include_str!("../../templates/claims.html")),
    ("claim.html", include_str!("../../templates/claim.html")),
    ("claim_form.html", include_str!("../../templates/claim_form.html")),
    ("todos.html", include_str!("../../templates/todos.html")),
    ("todo.html", include_str!("../../templates/todo.html")),
    ("certificates.html", include_str!("../../templates/certificates.html")),
    ("verify.html", include_str!("../../templates/verify.html")),
    ("certificates_manage.html", include_str!("../../templates/certificates_manage.html")),
    ("exemptions.html", include_str!("../../templates/exemptions.html")),
    ("transfers.html", include_str!("../../templates/transfers.html")),
    ("transfer.html", include_str!("../../templates/transfer.html")),
    ("transfer_form.html", include_str!("../../templates/transfer_form.html")),
    ("changes.html", include_str!("../../templates/changes.html")),
    ("admins.html", include_str!("../../templates/admins.html")),
    ("accounts.html", include_str!("../../templates/accounts.html")),
    ("stats_overview.html", include_str!("../../templates/stats_overview.html")),
    ("stats_titles.html", include_str!("../../templates/stats_titles.html")),
    ("orgs.html", include_str!("../../templates/orgs.html")),
    ("one_time_code.html", include_str!("../../templates/one_time_code.html")),
    ("people.html", include_str!("../../templates/people.html")),
    ("basic_data.html", include_str!("../../templates/basic_data.html")),
    ("requirements.html", include_str!("../../templates/requirements.html")),
    ("basic_orgs.html", include_str!("../../templates/basic_orgs.html")),
    ("roles.html", include_str!("../../templates/roles.html")),
    ("role.html", include_str!("../../templates/role.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("hours.html", include_str!("../../templates/hours.html")),
    ("staff_status.html", include_str!("../../templates/staff_status.html")),
    ("staff_detail.html", include_str!("../../templates/staff_detail.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("jobs.html", include_str!("../../templates/jobs.html")),
    ("platforms.html", include_str!("../../templates/platforms.html")),
    ("platform_days.html", include_str!("../../templates/platform_days.html")),
    ("orders.html", include_str!("../../templates/orders.html")),
    ("subjects.html", include_str!("../../templates/subjects.html")),
    ("plans.html", include_str!("../../templates/plans.html")),
    ("plan.html", include_str!("../../templates/plan.html")),
    ("plan_form.html", include_str!("../../templates/plan_form.html")),
    ("plan_facts.html", include_str!("../../templates/plan_facts.html")),
    ("classes.html", include_str!("../../templates/classes.html")),
    ("class_form.html", include_str!("../../templates/class_form.html")),
    ("class.html", include_str!("../../templates/class.html")),
    ("roster.html", include_str!("../../templates/roster.html")),
    ("declaration.html", include_str!("../../templates/declaration.html")),
    ("filings.html", include_str!("../../templates/filings.html")),
    ("filing.html", include_str!("../../templates/filing.html")),
    ("filing_form.html", include_str!("../../templates/filing_form.html")),
    ("filing_fields.html", include_str!("../../templates/filing_fields.html")),
    ("filing_sheet.html", include_str!("../../templates/filing_sheet.html")),
];

pub struct Templates {
    default: Environment<'static>,
    by_tenant: HashMap<String, Environment<'static>>,
}

fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_filter("mask_id", |s: String| crate::ids::mask_id_number(&s));
    env.add_filter("china_time", |s: String| crate::china_time::filter(&s, crate::china_time::minute));
    env.add_filter("china_date", |s: String| crate::china_time::filter(&s, crate::china_time::date));
    env
}

impl Templates {
    pub fn load(tenants_dir: &Path, tenants: &Tenants) -> anyhow::Result<Templates> {
        let mut default = new_env();
        for (name, source) in TEMPLATES {
            default.add_template(name, source)?;
        }
        let mut by_tenant = HashMap::new();
        for tenant in tenants.all() {
            let dir = tenants_dir.join(tenant.code()).join("theme/templates");
            if !dir.is_dir() {
                continue;
            }
            let mut env = new_env();
            for (name, source) in TEMPLATES {
                let override_path = dir.join(name);
                let text = if override_path.is_file() { std::fs::read_to_string(&override_path)? } else { (*source).to_owned() };
                env.add_template_owned(name.to_string(), text)?;
            }
            by_tenant.insert(tenant.code().to_owned(), env);
        }
        Ok(Templates { default, by_tenant })
    }

    /// Whether a template of this name is compiled in.
    pub fn has(&self, name: &str) -> bool {
        self.default.get_template(name).is_ok()
    }

    pub fn render(&self, tenant: Option<&str>, name: &str, ctx: &Value) -> Result<String, AppError> {
        let env = tenant.and_then(|t| self.by_tenant.get(t)).unwrap_or(&self.default);
        env.get_template(name).and_then(|t| t.render(minijinja::value::Serde(ctx))).map_err(AppError::internal)
    }
}
