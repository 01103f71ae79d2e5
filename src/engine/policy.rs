//! Policy files: one YAML document per rule, with its selector, message,
//! rationale, remediation and the peers' equivalent rule ids.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json_path::JsonPath;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/policies.rs"));

/// Severity, ordered from least to most severe.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Hardening advice.
    Low,
    /// One ingredient of an escape.
    Medium,
    /// An escape or host compromise on its own, with some effort.
    High,
    /// A direct way out of the container or to the node's credentials.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A rule as data.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Stable id, e.g. `BRK201`.
    pub id: String,
    /// Stable slug, e.g. `runtime-socket-mount`.
    pub slug: Arc<str>,
    /// One-line title.
    pub title: Arc<str>,
    /// How bad a finding is.
    pub severity: Severity,
    /// Why it matters.
    pub rationale: String,
    /// How to fix it (trimmed). Shared with every finding of the rule: at tens of
    /// thousands of findings, copies per finding were a third of the scan's memory.
    pub remediation: Arc<str>,
    /// RFC 9535 JSONPath over the fact document (see `docs/facts.md`); every match is a finding.
    pub select: String,
    /// Field (or list of fields, first written wins) of the matched fact whose position
    /// the finding points at; the fact's own position when none was written.
    #[serde(default, deserialize_with = "one_or_many")]
    pub at: Vec<String>,
    /// Message template: `{field}` is replaced by that field of the matched fact or
    /// of the fact that contains it.
    pub message: String,
    /// Fields (of the matched fact or the facts that contain it) holding evidence from
    /// elsewhere (`{what, file, loc}` objects, or lists of them), reported as the
    /// finding's related locations: the Dockerfile line that decides a compose
    /// service's user, for example.
    #[serde(default, deserialize_with = "one_or_many")]
    pub related: Vec<String>,
    /// Field of the matched fact holding the finding's severity (`low`, `medium`,
    /// `high`, `critical`), for a rule whose severity depends on what it found (an
    /// escape path's grant); `severity` is then the highest it gives, and the one used
    /// when the field holds something else.
    #[serde(default)]
    pub severity_from: Option<String>,
    /// Field of the matched fact holding the steps of a chain (a list of
    /// `{rule, resource, what, file, loc}` objects), reported as the finding's steps.
    #[serde(default)]
    pub steps: Option<String>,
    /// Optional JSONPath for facts where the answer rests on a value breakout cannot
    /// resolve (a Terraform variable without value, an attribute known after apply):
    /// each match is a finding of low confidence (DESIGN.md decision 4).
    #[serde(default)]
    pub unknown: Option<String>,
    /// Message template for those findings (default: `message`).
    #[serde(default)]
    pub unknown_message: Option<String>,
    /// Equivalent rules of peer tools, by tool (`checkov`, `trivy`, `kics`, `kube-linter`, `hadolint`).
    #[serde(default)]
    pub peers: BTreeMap<String, Vec<String>>,
    /// Further reading.
    #[serde(default)]
    pub references: Vec<String>,
    /// The parsed selector.
    #[serde(skip)]
    pub(crate) query: Option<JsonPath>,
    /// The parsed `unknown` selector.
    #[serde(skip)]
    pub(crate) unknown_query: Option<JsonPath>,
    /// Where the policy came from (`built-in` or a file path).
    #[serde(skip)]
    pub origin: String,
}

impl Policy {
    /// Parses and validates one policy.
    pub fn parse(text: &str, origin: &str) -> Result<Policy> {
        let mut p: Policy = serde_saphyr::from_str(text).map_err(|e| {
            // `file:line:column: message`, as for the files a scan reads.
            let e = crate::parse::yaml::to_parse_error(text, &e);
            match e.pos {
                Some(pos) => anyhow::anyhow!("{origin}:{pos}: invalid policy: {}", e.message),
                None => anyhow::anyhow!("{origin}: invalid policy: {}", e.message),
            }
        })?;
        p.remediation = Arc::from(p.remediation.trim());
        let query = JsonPath::parse(&p.select)
            .map_err(|e| anyhow::anyhow!("{origin}: invalid JSONPath `{}`: {e}", p.select))?;
        p.query = Some(query);
        if let Some(u) = &p.unknown {
            let q = JsonPath::parse(u)
                .map_err(|e| anyhow::anyhow!("{origin}: invalid JSONPath `{u}`: {e}"))?;
            p.unknown_query = Some(q);
        }
        p.origin = origin.to_string();
        if p.id.trim().is_empty() || p.slug.trim().is_empty() {
            bail!("{origin}: a policy needs an id and a slug");
        }
        Ok(p)
    }

    /// Whether the policy selects escape paths (the paths stage runs only then).
    pub fn selects_escape_paths(&self) -> bool {
        self.select.contains("escape_paths")
            || self
                .unknown
                .as_deref()
                .is_some_and(|u| u.contains("escape_paths"))
    }

    /// Whether `key` names this policy by id or slug (case-insensitive).
    pub fn is_named(&self, key: &str) -> bool {
        self.id.eq_ignore_ascii_case(key) || self.slug.eq_ignore_ascii_case(key)
    }
}

/// Accepts `at: field` as well as `at: [field, other]`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The built-in policies, sorted by id.
pub fn builtin() -> Vec<Policy> {
    let mut out: Vec<Policy> = BUILTIN
        .iter()
        .map(|(name, text)| {
            Policy::parse(text, &format!("built-in {name}")).expect("built-in policies are valid")
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Loads every `*.yaml`/`*.yml` in `dir` (not recursive), sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Policy>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read policy folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read policy {}", f.display()))?;
            Policy::parse(&text, &f.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_policy_is_valid_and_complete() {
        let all = builtin();
        assert!(!all.is_empty());
        for p in &all {
            assert!(p.id.starts_with("BRK"), "{}", p.id);
            assert!(!p.rationale.trim().is_empty(), "{} rationale", p.id);
            assert!(!p.remediation.trim().is_empty(), "{} remediation", p.id);
            assert!(!p.peers.is_empty(), "{} lists no peer equivalents", p.id);
        }
        let mut ids: Vec<_> = all.iter().map(|p| &p.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "duplicate ids");
    }

    #[test]
    fn invalid_policies_are_rejected_with_their_origin() {
        let bad = "id: X1\nslug: x\ntitle: t\nseverity: high\nrationale: r\nremediation: r\nselect: '$[?'\nmessage: m\n";
        let e = Policy::parse(bad, "mine.yaml").unwrap_err().to_string();
        assert!(e.contains("mine.yaml") && e.contains("JSONPath"), "{e}");
        let e = Policy::parse("id: X1\nbogus: 1\n", "mine.yaml").unwrap_err();
        assert!(format!("{e:#}").contains("mine.yaml"));
    }

    #[test]
    fn yaml_errors_in_policies_are_located_like_scan_errors() {
        let e =
            Policy::parse("id: X1\nslug: x\ntitle: \"open\nseverity: low\n", "p.yaml").unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "p.yaml:3:8: invalid policy: unclosed quote"
        );
        let e = Policy::parse("id: X1\nslug: x\nseverty: low\n", "p.yaml").unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.starts_with("p.yaml:3:1: invalid policy: unknown field `severty`"),
            "{e}"
        );
    }
}
