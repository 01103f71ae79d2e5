//! Evaluation: policies (YAML data) select facts with JSONPath and become findings.

mod eval;
mod policy;

pub use eval::{evaluate, evaluate_split};
pub use policy::{builtin, load_dir, Policy, Severity};

use serde::Serialize;
use std::sync::Arc;

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
    /// Rule slug, e.g. `runtime-socket-mount` (shared with the policy).
    pub slug: Arc<str>,
    /// Rule title (shared with the policy).
    pub title: Arc<str>,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, naming the resource.
    pub message: String,
    /// The resource, e.g. `Deployment shop/api`.
    pub resource: String,
    /// The offending key, or the enclosing object when the key is missing.
    pub location: Location,
    /// How to fix it (shared with the policy).
    pub remediation: Arc<str>,
    /// `high`, or `low` when the finding rests on a value breakout cannot resolve.
    pub confidence: Confidence,
    /// Stable across runs and unrelated edits: rule, file, resource and subject hashed.
    pub fingerprint: String,
    /// Other places the finding rests on (another file that decides the value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<RelatedLocation>,
    /// Set by the suppress stage when an ignore comment, annotation, config entry or
    /// baseline covers the finding. A suppressed finding stays in the report but does
    /// not count for `--fail-on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// For a chain (an escape path, BRK901): its steps in order, each with the place
    /// that shows it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// A Terraform plan's finding: what the plan does to the resource, and whether the
    /// plan introduces the finding or keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanStatus>,
}

/// One step of a chain finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The rule whose ingredient the step is (`BRK201`), or empty for a link.
    pub rule: String,
    /// The resource the step is about.
    pub resource: String,
    /// Path of the file that shows it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What the step is, in words.
    pub what: String,
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

/// How a finding was suppressed (`docs/configuration.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `breakout:ignore` comment in the scanned file.
    Inline,
    /// The Kubernetes annotation `breakout.dev/ignore` on the object or its pod template.
    Annotation,
    /// An `ignore` entry of the configuration file.
    Config,
    /// The finding's fingerprint is in the `--baseline` report.
    Baseline,
}

impl SuppressionKind {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::Inline => "inline",
            SuppressionKind::Annotation => "annotation",
            SuppressionKind::Config => "config",
            SuppressionKind::Baseline => "baseline",
        }
    }

    /// Written in the scanned file itself (SARIF `inSource`), rather than beside it.
    pub fn in_source(self) -> bool {
        matches!(self, SuppressionKind::Inline | SuppressionKind::Annotation)
    }
}

/// Why a finding does not count, and where that is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Comment, annotation, config entry or baseline.
    pub kind: SuppressionKind,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// The file the suppression is written in (the scanned file, the configuration
    /// file or the baseline report).
    pub file: String,
    /// Its 1-based line, when it has one.
    pub line: Option<u32>,
}

impl Finding {
    /// Whether the finding counts (is not suppressed).
    pub fn is_active(&self) -> bool {
        self.suppression.is_none()
    }

    /// Report order: file, line, column, rule, message.
    pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        (&a.location, &a.rule_id, &a.message).cmp(&(&b.location, &b.rule_id, &b.message))
    }
}
