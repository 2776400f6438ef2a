//! `jijiao tenant new <code>`: the folders a new province starts from — its tenant folder (tenant.toml,
//! policy.csv, rules.toml, basic data, regions, authorities, theme, cases) and its rule plugin's crate —
//! filled from the templates in `server/scaffold/` with the province's code and names. Nothing is
//! overwritten; what to edit and run next is printed.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The files of a new province: (path under the tenant folder or, with `plugin/`, the plugin crate; template).
const FILES: &[(&str, &str)] = &[
    ("tenant.toml", include_str!("../../scaffold/tenant.toml")),
    ("policy.csv", include_str!("../../scaffold/policy.csv")),
    ("rules.toml", include_str!("../../scaffold/rules.toml")),
    ("data/basic.toml", include_str!("../../scaffold/basic.toml")),
    ("data/regions.csv", include_str!("../../scaffold/regions.csv")),
    ("data/authorities.csv", include_str!("../../scaffold/authorities.csv")),
    ("theme/logo.svg", include_str!("../../scaffold/logo.svg")),
    ("theme/banner.svg", include_str!("../../scaffold/banner.svg")),
    ("cases/.keep", ""),
    ("plugin/Cargo.toml", include_str!("../../scaffold/plugin-Cargo.toml")),
    ("plugin/src/lib.rs", include_str!("../../scaffold/plugin-lib.rs")),
];

/// What a new province is called.
pub struct NewProvince<'a> {
    /// Lower-case ASCII letters and digits: the tenant's code, folder and plugin name
    pub code: &'a str,
    /// The portal's name (河北省专业技术人员继续教育信息管理系统)
    pub name: &'a str,
    /// The province (河北省)
    pub province: &'a str,
    /// The first two digits of the province's region codes (13 for 河北)
    pub region: &'a str,
}

/// Writes the new province's tenant folder under `tenants_dir` and its plugin crate under `plugins_dir`;
/// returns the files written.
pub fn create(new: &NewProvince, tenants_dir: &Path, plugins_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let code = new.code;
    if code.len() < 2
        || code.len() > 20
        || !code.starts_with(|c: char| c.is_ascii_lowercase())
        || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        bail!("the code must be 2 to 20 lower-case ASCII letters and digits, starting with a letter: {code:?}");
    }
    if new.region.len() != 2 || !new.region.chars().all(|c| c.is_ascii_digit()) {
        bail!("--region must be the two digits the province's region codes start with: {:?}", new.region);
    }
    let tenant_dir = tenants_dir.join(code);
    let plugin_dir = plugins_dir.join(code);
    for dir in [&tenant_dir, &plugin_dir] {
        if dir.exists() {
            bail!("{} exists already; nothing was written", dir.display());
        }
    }
    let short: String = new.province.trim_end_matches(['省', '市']).chars().take(2).collect();
    let type_name: String = code[..1].to_ascii_uppercase() + &code[1..];
    let fill = |template: &str| {
        template
            .replace("@CODE@", code)
            .replace("@NAME@", new.name)
            .replace("@PROVINCE@", new.province)
            .replace("@SHORT@", &short)
            .replace("@REGION@", new.region)
            .replace("@PREFIX@", &code[..2].to_ascii_uppercase())
            .replace("@TYPE@", &type_name)
    };
    let mut written = Vec::new();
    for (path, template) in FILES {
        let target = match path.strip_prefix("plugin/") {
            Some(rest) => plugin_dir.join(rest),
            None => tenant_dir.join(path),
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, fill(template)).with_context(|| format!("cannot write {}", target.display()))?;
        written.push(target);
    }
    Ok(written)
}

/// What the operator does next, printed after the files.
pub fn next_steps(code: &str, tenants_dir: &Path, plugins_dir: &Path) -> String {
    format!(
        "Next:\n\
         1. Edit {t}/{code}/tenant.toml (hosts, hotline, words), data/regions.csv and data/authorities.csv with the\n   province's real regions and industry authorities, and rules.toml with its yearly requirement.\n\
         2. Add \"{p}/{code}\" to the workspace members in Cargo.toml, change {p}/{code}/src/lib.rs to the province's rules,\n   and build: cargo xtask plugins\n\
         3. Put the sha256 of {p}/dist/{code}-0.1.0.wasm into the [[rules]] entry of tenant.toml and check the rules:\n   jijiao rules test {t}/{code}/cases/\n\
         4. Join the platform: jijiao tenant sync (no server change; restart the servers to serve the new portal).\n\
         5. Make the province's first system administrator (the org is the provincial department's id,
   `jijiao tenant list` then the 组织机构 page): jijiao admin create --tenant {code} --org ID --role system_admin --id-number … --name …",
        t = tenants_dir.display(),
        p = plugins_dir.display(),
    )
}
