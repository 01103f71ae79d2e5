//! The configuration file, `.breakout.yaml` (documented key by key in
//! `docs/configuration.md`).
//!
//! Found at the scan root (the first path's folder), then in its parents up to the
//! repository root (the folder that holds `.git`), or named with `--config`. Every
//! unknown key and bad value is an error at its `file:line:column`. Command-line
//! options override the file.

use crate::engine::{Confidence, Policy, Severity};
use crate::parse::{Node, Pos, Value};
use crate::suppress::IgnoreEntry;
use crate::FileError;
use std::path::{Path, PathBuf};

/// The names the configuration file may have, in the order they are looked for.
pub const FILE_NAMES: &[&str] = &[".breakout.yaml", ".breakout.yml"];

/// The top-level keys.
const KEYS: &[&str] = &[
    "fail-on",
    "fail-on-confidence",
    "only",
    "skip",
    "severity",
    "exclude",
    "policies",
    "terraform",
    "docker-target",
    "ignore",
];

/// A rule named in the file, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// The ID or slug as written.
    pub name: String,
    /// Where it is written.
    pub pos: Pos,
}

/// The settings a configuration file gives.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file, as found or named (relative to the working folder when under it).
    pub file: String,
    /// Its folder, absolute: relative paths in the file are relative to it.
    pub dir: PathBuf,
    /// `fail-on`.
    pub fail_on: Option<Severity>,
    /// `fail-on-confidence`: `high` counts only high-confidence findings.
    pub fail_on_confidence: Option<Confidence>,
    /// `only`.
    pub only: Vec<RuleRef>,
    /// `skip`.
    pub skip: Vec<RuleRef>,
    /// `severity`: per-rule overrides.
    pub severity: Vec<(RuleRef, Severity)>,
    /// `exclude`: path globs, relative to `dir`.
    pub exclude: Option<crate::Exclude>,
    /// `policies`: extra policy folders, resolved against `dir`.
    pub policies: Vec<PathBuf>,
    /// `terraform.var-files`, resolved against `dir`.
    pub var_files: Vec<PathBuf>,
    /// `terraform.vars`.
    pub vars: Vec<(String, String)>,
    /// `docker-target`.
    pub docker_target: Option<String>,
    /// `ignore` entries.
    pub ignore: Vec<IgnoreEntry>,
}

/// The configuration file for a scan of `first_path` (`-` for standard input: the
/// working folder): `.breakout.yaml` in the scan root or one of its parents, up to
/// the repository root. Outside a repository only the scan root is looked at.
pub fn find(first_path: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let start = if first_path.as_os_str() == "-" {
        cwd.clone()
    } else {
        let p = cwd.join(first_path);
        if p.is_dir() {
            p
        } else {
            p.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| cwd.clone())
        }
    };
    let start = start.canonicalize().unwrap_or(start);
    let repo_root = start.ancestors().find(|d| d.join(".git").exists());
    let folders: Vec<&Path> = match repo_root {
        Some(root) => start
            .ancestors()
            .take_while(|d| d.starts_with(root))
            .collect(),
        None => vec![start.as_path()],
    };
    for dir in folders {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(shown(&candidate, &cwd));
            }
        }
    }
    None
}

/// `path` relative to `cwd` when it is under it.
fn shown(path: &Path, cwd: &Path) -> PathBuf {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    path.strip_prefix(&cwd)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Reads and checks a configuration file. Rule names are checked later, against the
/// policies loaded ([`Config::check_rules`]).
pub fn load(path: &Path) -> Result<Config, FileError> {
    let file = path.display().to_string();
    let fail = |pos: Option<Pos>, message: String| FileError {
        file: file.clone(),
        line: pos.map(|p| p.line),
        column: pos.map(|p| p.column),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(None, format!("cannot read: {e}")))?;
    let text = crate::parse::decode_text(&bytes).map_err(|e| fail(e.pos, e.message))?;
    let docs = crate::parse::yaml::parse(text).map_err(|e| fail(e.pos, e.message))?;
    let dir = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut config = Config {
        file: file.clone(),
        dir,
        ..Config::default()
    };
    let mut docs = docs.into_iter().filter(|d| d.value != Value::Null);
    let Some(doc) = docs.next() else {
        return Ok(config);
    };
    if let Some(extra) = docs.next() {
        return Err(fail(
            Some(extra.pos),
            "one YAML document expected; this is a second one".into(),
        ));
    }
    let Value::Map(entries) = &doc.value else {
        return Err(fail(
            Some(doc.pos),
            "expected a mapping of settings (`fail-on: high`, `ignore: [...]`, …)".into(),
        ));
    };
    let err = |pos: Pos, message: String| fail(Some(pos), message);
    for e in entries {
        let v = &e.value;
        match e.key.as_str() {
            "fail-on" => config.fail_on = Some(severity(v).map_err(|m| err(v.pos, m))?),
            "fail-on-confidence" => {
                config.fail_on_confidence = Some(match v.as_str() {
                    Some("low") => Confidence::Low,
                    Some("high") => Confidence::High,
                    _ => return Err(err(v.pos, "expected `low` or `high`".into())),
                })
            }
            "only" => config.only = rules(v).map_err(|(p, m)| err(p, m))?,
            "skip" => config.skip = rules(v).map_err(|(p, m)| err(p, m))?,
            "severity" => {
                let Value::Map(items) = &v.value else {
                    return Err(err(
                        v.pos,
                        "expected a mapping of rule to severity (`BRK401: medium`)".into(),
                    ));
                };
                for item in items {
                    let s = severity(&item.value).map_err(|m| err(item.value.pos, m))?;
                    let rule = RuleRef {
                        name: item.key.clone(),
                        pos: item.key_pos,
                    };
                    config.severity.push((rule, s));
                }
            }
            "exclude" => {
                let globs = strings(v, "path globs").map_err(|(p, m)| err(p, m))?;
                let set = glob_set(&globs).map_err(|(p, m)| err(p, m))?;
                config.exclude = Some(crate::Exclude {
                    globs: set,
                    base: config.dir.clone(),
                });
            }
            "policies" => {
                for (folder, pos) in strings(v, "folders").map_err(|(p, m)| err(p, m))? {
                    let p = config.dir.join(&folder);
                    if !p.is_dir() {
                        return Err(err(pos, format!("`{folder}` is not a folder")));
                    }
                    config.policies.push(p);
                }
            }
            "terraform" => terraform(v, &mut config).map_err(|(p, m)| err(p, m))?,
            "docker-target" => match v.scalar_text() {
                Some(t) if !t.is_empty() => config.docker_target = Some(t),
                _ => return Err(err(v.pos, "expected a stage name".into())),
            },
            "ignore" => {
                let Value::Seq(items) = &v.value else {
                    return Err(err(
                        v.pos,
                        "expected a list of entries (`- rule: BRK401`)".into(),
                    ));
                };
                for item in items {
                    let entry = ignore_entry(item, &config).map_err(|(p, m)| err(p, m))?;
                    config.ignore.push(entry);
                }
            }
            other => {
                return Err(err(
                    e.key_pos,
                    format!(
                        "unknown key `{other}` (expected one of: {})",
                        KEYS.join(", ")
                    ),
                ))
            }
        }
    }
    Ok(config)
}

impl Config {
    /// Checks that every rule the file names exists among `policies`.
    pub fn check_rules(&self, policies: &[Policy]) -> Result<(), FileError> {
        let named = self
            .only
            .iter()
            .chain(&self.skip)
            .chain(self.severity.iter().map(|(r, _)| r))
            .cloned()
            .chain(self.ignore.iter().map(|e| RuleRef {
                name: e.rule.clone(),
                pos: e.pos,
            }));
        for r in named {
            if !policies.iter().any(|p| p.is_named(&r.name)) {
                return Err(FileError {
                    file: self.file.clone(),
                    line: Some(r.pos.line),
                    column: Some(r.pos.column),
                    message: format!("unknown rule `{}` (see `breakout policies`)", r.name),
                });
            }
        }
        Ok(())
    }
}

type Located<T> = Result<T, (Pos, String)>;

fn severity(v: &Node) -> Result<Severity, String> {
    match v.as_str() {
        Some("low") => Ok(Severity::Low),
        Some("medium") => Ok(Severity::Medium),
        Some("high") => Ok(Severity::High),
        Some("critical") => Ok(Severity::Critical),
        _ => Err("expected `low`, `medium`, `high` or `critical`".into()),
    }
}

/// A list of non-empty strings, each with its position.
fn strings(v: &Node, what: &str) -> Located<Vec<(String, Pos)>> {
    let Value::Seq(items) = &v.value else {
        return Err((v.pos, format!("expected a list of {what}")));
    };
    items
        .iter()
        .map(|i| match i.as_str() {
            Some(s) if !s.trim().is_empty() => Ok((s.to_string(), i.pos)),
            _ => Err((i.pos, format!("expected one of a list of {what}"))),
        })
        .collect()
}

fn rules(v: &Node) -> Located<Vec<RuleRef>> {
    Ok(strings(v, "rule IDs or slugs")?
        .into_iter()
        .map(|(name, pos)| RuleRef { name, pos })
        .collect())
}

/// Compiles path globs: `*` stays within a folder, `**` crosses folders.
fn glob_set(globs: &[(String, Pos)]) -> Located<globset::GlobSet> {
    let mut builder = globset::GlobSetBuilder::new();
    for (g, pos) in globs {
        let glob = globset::GlobBuilder::new(g.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| (*pos, format!("bad glob `{g}`: {}", e.kind())))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| {
        (
            globs.first().map(|g| g.1).unwrap_or_default(),
            e.to_string(),
        )
    })
}

fn terraform(v: &Node, config: &mut Config) -> Located<()> {
    let Value::Map(entries) = &v.value else {
        return Err((
            v.pos,
            "expected a mapping with `var-files` and `vars`".into(),
        ));
    };
    for e in entries {
        match e.key.as_str() {
            "var-files" => {
                for (f, _) in strings(&e.value, "variable files")? {
                    config.var_files.push(config.dir.join(f));
                }
            }
            "vars" => {
                let Value::Map(vars) = &e.value.value else {
                    return Err((
                        e.value.pos,
                        "expected a mapping of variable name to value".into(),
                    ));
                };
                for var in vars {
                    let value = var.value.scalar_text().ok_or((
                        var.value.pos,
                        "expected a string, number or boolean (write lists and maps as HCL in a string)"
                            .to_string(),
                    ))?;
                    config.vars.push((var.key.clone(), value));
                }
            }
            other => {
                return Err((
                    e.key_pos,
                    format!("unknown key `terraform.{other}` (expected `var-files` or `vars`)"),
                ))
            }
        }
    }
    Ok(())
}

fn ignore_entry(item: &Node, config: &Config) -> Located<IgnoreEntry> {
    let Value::Map(entries) = &item.value else {
        return Err((
            item.pos,
            "expected an entry with `rule` (and `paths`, `resources`, `reason`, `expires`)".into(),
        ));
    };
    let mut entry = IgnoreEntry {
        rule: String::new(),
        paths: Vec::new(),
        path_set: None,
        resources: Vec::new(),
        reason: None,
        expires: None,
        file: config.file.clone(),
        pos: item.pos,
        base: config.dir.clone(),
    };
    for e in entries {
        let v = &e.value;
        match e.key.as_str() {
            "rule" => match v.scalar_text() {
                Some(r) if !r.trim().is_empty() => {
                    entry.rule = r.trim().to_string();
                    entry.pos = v.pos;
                }
                _ => return Err((v.pos, "expected a rule ID or slug".into())),
            },
            "paths" => {
                let globs = strings(v, "path globs")?;
                entry.path_set = Some(glob_set(&globs)?);
                entry.paths = globs.into_iter().map(|(g, _)| g).collect();
            }
            "resources" => {
                entry.resources = strings(v, "resource names")?
                    .into_iter()
                    .map(|(r, _)| r)
                    .collect();
            }
            "reason" => match v.scalar_text() {
                Some(r) if !r.trim().is_empty() => entry.reason = Some(r.trim().to_string()),
                _ => return Err((v.pos, "expected the reason as text".into())),
            },
            "expires" => {
                let text = v.scalar_text().unwrap_or_default();
                let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .map_err(|_| (v.pos, "expected a date, YYYY-MM-DD".to_string()))?;
                entry.expires = Some(date);
            }
            other => {
                return Err((
                    e.key_pos,
                    format!(
                        "unknown key `{other}` in an ignore entry (expected rule, paths, resources, reason, expires)"
                    ),
                ))
            }
        }
    }
    if entry.rule.is_empty() {
        return Err((item.pos, "ignore entry without `rule`".into()));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, FileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".breakout.yaml");
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    fn error_at(text: &str) -> (Option<u32>, Option<u32>, String) {
        let e = load_text(text).unwrap_err();
        (e.line, e.column, e.message)
    }

    #[test]
    fn every_key_is_read() {
        let c = load_text(
            "fail-on: high\nfail-on-confidence: high\nonly: [BRK201, BRK401]\nskip: [BRK302]\n\
             severity:\n  BRK401: medium\nexclude: [\"vendor/**\"]\ndocker-target: runtime\n\
             terraform:\n  var-files: [prod.tfvars]\n  vars:\n    region: eu-west-1\n    replicas: 3\n\
             ignore:\n  - rule: BRK401\n    paths: [\"legacy/**\"]\n    resources: [\"Deployment legacy/old-app\"]\n\
             \x20   reason: legacy apps write to their root filesystem\n    expires: 2027-06-30\n",
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Severity::High));
        assert_eq!(c.fail_on_confidence, Some(Confidence::High));
        assert_eq!(c.only.len(), 2);
        assert_eq!(c.skip[0].name, "BRK302");
        assert_eq!(c.severity[0].1, Severity::Medium);
        assert_eq!(c.docker_target.as_deref(), Some("runtime"));
        assert!(c.var_files[0].ends_with("prod.tfvars"));
        assert_eq!(
            c.vars,
            vec![
                ("region".to_string(), "eu-west-1".to_string()),
                ("replicas".to_string(), "3".to_string())
            ]
        );
        let e = &c.ignore[0];
        assert_eq!(e.rule, "BRK401");
        assert!(e
            .path_set
            .as_ref()
            .unwrap()
            .is_match("legacy/app/deploy.yaml"));
        assert!(!e
            .path_set
            .as_ref()
            .unwrap()
            .is_match("apps/legacy/deploy.yaml"));
        assert_eq!(e.expires.unwrap().to_string(), "2027-06-30");
        assert_eq!(e.pos, Pos::new(15, 11));
        let x = c.exclude.unwrap();
        assert!(x.globs.is_match("vendor/a/b.yaml"));
    }

    #[test]
    fn bad_keys_and_values_are_located() {
        assert_eq!(
            error_at("fail-on: high\nfial-on: low\n"),
            (
                Some(2),
                Some(1),
                format!(
                    "unknown key `fial-on` (expected one of: {})",
                    KEYS.join(", ")
                )
            )
        );
        assert_eq!(
            error_at("fail-on: severe\n"),
            (
                Some(1),
                Some(10),
                "expected `low`, `medium`, `high` or `critical`".into()
            )
        );
        let (l, c, m) = error_at("ignore:\n  - rule: BRK401\n    expires: next year\n");
        assert_eq!((l, c), (Some(3), Some(14)), "{m}");
        let (l, c, m) = error_at("ignore:\n  - rule: BRK401\n    path: [a]\n");
        assert_eq!((l, c), (Some(3), Some(5)));
        assert!(m.contains("unknown key `path`"), "{m}");
        let (l, _, m) = error_at("exclude: [\"a/[\"]\n");
        assert_eq!(l, Some(1));
        assert!(m.starts_with("bad glob"), "{m}");
        let (l, _, m) = error_at("ignore:\n  - reason: x\n");
        assert_eq!(l, Some(2));
        assert!(m.contains("without `rule`"), "{m}");
        let (l, _, _) = error_at("terraform:\n  vars:\n    tags: [a]\n");
        assert_eq!(l, Some(3));
        let (l, _, m) = error_at("only: BRK201\n");
        assert_eq!(l, Some(1));
        assert!(m.contains("list"), "{m}");
        let (l, c, _) = error_at("skip: [a\n");
        assert!(l.is_some() && c.is_some());
    }

    #[test]
    fn an_empty_file_is_an_empty_configuration() {
        let c = load_text("# nothing yet\n").unwrap();
        assert!(c.ignore.is_empty() && c.fail_on.is_none());
    }

    #[test]
    fn unknown_rules_are_located() {
        let c = load_text("severity:\n  BRK999: low\n").unwrap();
        let e = c.check_rules(&crate::engine::builtin()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        let c = load_text("ignore:\n  - rule: runtime-socket-mount\n").unwrap();
        assert!(c.check_rules(&crate::engine::builtin()).is_ok());
    }
}
