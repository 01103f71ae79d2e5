//! Evaluation: policies (YAML data) select facts with JSONPath and become findings.

mod eval;
mod policy;

pub use eval::{evaluate, evaluate_split};
pub use policy::{builtin, load_dir, Policy, Severity};

use serde::Serialize;

/// Where a finding points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// Path of the file as given or discovered.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How sure a finding is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The input says so.
    #[default]
    High,
    /// It rests on a value breakout cannot resolve: reported, not dropped.
    Low,
}

/// One rule violated by one resource at one place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable rule id, e.g. `BRK201`.
    pub rule_id: String,
    /// Rule slug, e.g. `runtime-socket-mount`.
    pub slug: String,
    /// Rule title.
    pub title: String,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, naming the resource.
    pub message: String,
    /// The resource, e.g. `Deployment shop/api`.
    pub resource: String,
    /// The offending key, or the enclosing object when the key is missing.
    pub location: Location,
    /// How to fix it.
    pub remediation: String,
    /// `high`, or `low` when the finding rests on a value breakout cannot resolve.
    pub confidence: Confidence,
    /// Stable across runs and unrelated edits: rule, file, resource and subject hashed.
    pub fingerprint: String,
    /// Other places the finding rests on (another file that decides the value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<RelatedLocation>,
    /// A Terraform plan's finding: what the plan does to the resource, and whether the
    /// plan introduces the finding or keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanStatus>,
}

/// What a plan does to a finding's resource, and to the finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanStatus {
    /// Terraform's action on the resource: `create`, `update`, `replace`, `no-op` or
    /// `read` (a state's resources are `no-op`).
    pub action: &'static str,
    /// Whether the plan introduces the finding or keeps it.
    pub change: Change,
}

/// Whether a plan introduces a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The resource is created or replaced, or the rule did not fire on what it had
    /// before.
    Introduced,
    /// The rule fired before too (or the resource is not changed).
    Existing,
}

impl Change {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Introduced => "introduced",
            Change::Existing => "existing",
        }
    }
}

/// Another place a finding rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelatedLocation {
    /// Path of the file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What that place says.
    pub message: String,
}

impl Finding {
    /// Report order: file, line, column, rule, message.
    pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        (&a.location, &a.rule_id, &a.message).cmp(&(&b.location, &b.rule_id, &b.message))
    }
}
