//! SARIF 2.1.0 (OASIS), as GitHub code scanning and other SARIF viewers read it.
//!
//! One run. `tool.driver.rules` lists every rule that ran (ID, slug as `name`, title,
//! rationale, remediation as `help`, `security-severity` and tags); each finding is a
//! result with its rule, level, message, location relative to `%SRCROOT%` (the working
//! folder), the fingerprint as a partial fingerprint, and for suppressed findings a
//! `suppressions` entry (`inSource` for comments and annotations, `external` for the
//! configuration file and baselines). Files that could not be scanned and stale
//! suppressions are notifications of the invocation.

use crate::engine::{Finding, Policy, Severity, SuppressionKind};
use crate::Report;
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, CodeFlow, Invocation, Location, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, Result as SarifResult, Run, Sarif, Suppression, ThreadFlow,
    ThreadFlowLocation, Tool, ToolComponent,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `uriBaseId` relative locations are relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// The key of breakout's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "breakout/v1";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's `security-severity` (a CVSS-like score) of a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The rule family a rule ID belongs to, as a tag.
fn family_tag(id: &str) -> Option<&'static str> {
    Some(match id.chars().nth(3)? {
        '1' => "dynamodb",
        '2' => "host-mounts",
        '3' => "root-user",
        '4' => "filesystem",
        '5' => "metadata-service",
        '6' => "privileges",
        '9' => "escape-path",
        _ => return None,
    })
}

fn text(s: &str) -> Message {
    Message {
        text: Some(s.to_string()),
        ..Message::default()
    }
}

/// Policy text re-flowed: lines of a paragraph joined, paragraphs kept apart (viewers
/// wrap text themselves).
fn reflow(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn multiformat(text: &str, markdown: Option<String>) -> MultiformatMessageString {
    let mut m = MultiformatMessageString::builder()
        .text(reflow(text))
        .build();
    m.markdown = markdown;
    m
}

fn properties(entries: &[(&str, serde_json::Value)], tags: Vec<String>) -> PropertyBag {
    PropertyBag {
        tags: (!tags.is_empty()).then_some(tags),
        additional_properties: entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn rule(p: &Policy) -> ReportingDescriptor {
    let mut tags = vec!["security".to_string()];
    tags.extend(family_tag(&p.id).map(str::to_string));
    let help_markdown = format!(
        "**{}**\n\n{}\n\n**How to fix**\n\n{}",
        p.title.trim(),
        reflow(&p.rationale),
        reflow(&p.remediation)
    );
    let mut d = ReportingDescriptor::builder().id(p.id.clone()).build();
    d.name = Some(p.slug.to_string());
    d.short_description = Some(multiformat(&p.title, None));
    d.full_description = Some(multiformat(&p.rationale, None));
    d.help = Some(multiformat(&p.remediation, Some(help_markdown)));
    d.default_configuration = Some(ReportingConfiguration {
        level: Some(json!(level(p.severity))),
        ..ReportingConfiguration::default()
    });
    d.properties = Some(properties(
        &[
            ("security-severity", json!(security_severity(p.severity))),
            ("precision", json!("high")),
        ],
        tags,
    ));
    d
}

/// A file as a SARIF artifact location: relative to `%SRCROOT%` when it is under the
/// source root (or already relative), an absolute `file://` URI otherwise.
fn artifact(file: &str, root: Option<&Path>) -> ArtifactLocation {
    let path = Path::new(file);
    let relative: Option<PathBuf> = if path.is_absolute() {
        root.and_then(|r| path.strip_prefix(r).ok().map(Path::to_path_buf))
    } else {
        Some(path.to_path_buf())
    };
    match relative {
        Some(rel) => {
            let parts: Vec<String> = rel
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| encode(&c.as_os_str().to_string_lossy()))
                .collect();
            ArtifactLocation {
                uri: Some(parts.join("/")),
                uri_base_id: Some(SRCROOT.to_string()),
                ..ArtifactLocation::default()
            }
        }
        None => ArtifactLocation {
            uri: Some(file_uri(path)),
            ..ArtifactLocation::default()
        },
    }
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/path` (with a trailing slash for folders when `folder`).
fn file_uri(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(encode(&s.to_string_lossy())),
            _ => None,
        })
        .collect();
    format!("file:///{}", parts.join("/"))
}

fn location(file: &str, line: Option<u32>, column: Option<u32>, root: Option<&Path>) -> Location {
    let region = line.map(|l| Region {
        start_line: Some(i64::from(l)),
        start_column: column.map(i64::from),
        ..Region::default()
    });
    Location {
        physical_location: Some(PhysicalLocation {
            artifact_location: Some(artifact(file, root)),
            region,
            ..PhysicalLocation::default()
        }),
        ..Location::default()
    }
}

fn result(f: &Finding, rule_index: Option<usize>, root: Option<&Path>) -> SarifResult {
    let suppressions = f.suppression.as_ref().map(|s| {
        let kind = if s.kind.in_source() {
            "inSource"
        } else {
            "external"
        };
        let mut props = vec![("kind", json!(s.kind.as_str()))];
        if s.kind == SuppressionKind::Baseline {
            props.push(("baseline", json!(s.file)));
        }
        let mut sup = Suppression::builder().kind(json!(kind)).build();
        sup.status = Some(json!("accepted"));
        sup.justification = s.reason.clone();
        sup.location = Some(location(&s.file, s.line, None, root));
        sup.properties = Some(properties(&props, Vec::new()));
        vec![sup]
    });
    let mut r = SarifResult::builder().message(text(&f.message)).build();
    r.rule_id = Some(f.rule_id.clone());
    r.rule_index = rule_index.map(|i| i as i64);
    r.level = Some(serde_json::from_value(json!(level(f.severity))).expect("a SARIF result level"));
    r.locations = Some(vec![location(
        &f.location.file,
        Some(f.location.line),
        Some(f.location.column),
        root,
    )]);
    if !f.related_locations.is_empty() {
        r.related_locations = Some(
            f.related_locations
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    let mut l = location(&rel.file, Some(rel.line), Some(rel.column), root);
                    l.id = Some(i as i64);
                    l.message = Some(text(&rel.message));
                    l
                })
                .collect(),
        );
    }
    // An escape path's steps, in order: code scanning shows them as the finding's flow.
    if !f.steps.is_empty() {
        let locations: Vec<ThreadFlowLocation> = f
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut l = location(&step.file, Some(step.line), Some(step.column), root);
                let what = if step.rule.is_empty() {
                    step.what.clone()
                } else {
                    format!("{} ({})", step.what, step.rule)
                };
                l.message = Some(text(&what));
                let mut tfl = ThreadFlowLocation::builder().location(l).build();
                tfl.execution_order = Some(i as i64);
                tfl
            })
            .collect();
        let thread = ThreadFlow::builder().locations(locations).build();
        let mut flow = CodeFlow::builder().thread_flows(vec![thread]).build();
        flow.message = Some(text(&f.message));
        r.code_flows = Some(vec![flow]);
    }
    r.partial_fingerprints = Some(BTreeMap::from([(
        FINGERPRINT_KEY.to_string(),
        f.fingerprint.clone(),
    )]));
    r.suppressions = suppressions;
    let mut props = vec![
        ("resource", json!(f.resource)),
        ("severity", json!(f.severity.as_str())),
        ("confidence", json!(f.confidence)),
    ];
    // A plan's finding: what the plan does to the resource, and to the finding.
    if let Some(p) = &f.plan {
        props.push(("plan", json!(p)));
    }
    r.properties = Some(properties(&props, Vec::new()));
    r
}

/// Renders the report as a SARIF 2.1.0 log (pretty-printed, trailing newline).
/// `source_root` is the folder relative paths are relative to.
pub fn render(report: &Report, source_root: Option<&Path>) -> String {
    let mut rules: Vec<&Policy> = report.rules.iter().collect();
    // Rules of findings that are not in the catalog given (a report built by hand).
    let missing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !report.rules.iter().any(|p| p.id == f.rule_id))
        .collect();
    let mut descriptors: Vec<ReportingDescriptor> = rules.drain(..).map(rule).collect();
    for f in missing {
        if !descriptors.iter().any(|d| d.id == f.rule_id) {
            let mut d = ReportingDescriptor::builder().id(f.rule_id.clone()).build();
            d.name = Some(f.slug.to_string());
            d.short_description = Some(multiformat(&f.title, None));
            d.help = Some(multiformat(&f.remediation, None));
            descriptors.push(d);
        }
    }
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| {
            let index = descriptors.iter().position(|d| d.id == f.rule_id);
            result(f, index, source_root)
        })
        .collect();
    let mut notifications: Vec<Notification> = Vec::new();
    for e in &report.errors {
        let mut n = Notification::builder().message(text(&e.message)).build();
        n.level = Some(json!("error"));
        n.locations = Some(vec![location(&e.file, e.line, e.column, source_root)]);
        notifications.push(n);
    }
    for s in &report.stale_suppressions {
        let mut n = Notification::builder()
            .message(text(&format!("stale suppression: {s}")))
            .build();
        n.level = Some(json!("warning"));
        n.locations = Some(vec![location(
            &s.file,
            Some(s.line),
            Some(s.column),
            source_root,
        )]);
        notifications.push(n);
    }
    let mut invocation = Invocation::builder()
        .execution_successful(report.errors.is_empty())
        .build();
    invocation.tool_execution_notifications = (!notifications.is_empty()).then_some(notifications);
    let original_uri_base_ids = source_root.map(|root| {
        let mut uri = file_uri(root);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        BTreeMap::from([(
            SRCROOT.to_string(),
            ArtifactLocation {
                uri: Some(uri),
                ..ArtifactLocation::default()
            },
        )])
    });
    let mut driver = ToolComponent::builder().name("breakout").build();
    driver.version = Some(env!("CARGO_PKG_VERSION").to_string());
    driver.full_name = Some(concat!("breakout ", env!("CARGO_PKG_VERSION")).to_string());
    driver.semantic_version = Some(env!("CARGO_PKG_VERSION").to_string());
    driver.information_uri = information_uri();
    driver.rules = Some(descriptors);
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.results = Some(results);
    run.invocations = Some(vec![invocation]);
    run.original_uri_base_ids = original_uri_base_ids;
    run.column_kind = Some(json!("unicodeCodePoints"));
    let log = Sarif {
        schema: Some(SCHEMA_URI.to_string()),
        version: json!("2.1.0"),
        runs: vec![run],
        inline_external_properties: None,
        properties: None,
    };
    let mut out = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    out.push('\n');
    out
}

/// Where breakout is documented: the package's repository or homepage.
fn information_uri() -> Option<String> {
    [
        option_env!("CARGO_PKG_REPOSITORY"),
        option_env!("CARGO_PKG_HOMEPAGE"),
    ]
    .into_iter()
    .flatten()
    .find(|u| !u.is_empty())
    .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris_or_file_uris() {
        let root = Path::new("/work/repo");
        let a = artifact("./k8s/my app.yaml", Some(root));
        assert_eq!(a.uri.as_deref(), Some("k8s/my%20app.yaml"));
        assert_eq!(a.uri_base_id.as_deref(), Some(SRCROOT));
        let a = artifact("/work/repo/k8s/a.yaml", Some(root));
        assert_eq!(a.uri.as_deref(), Some("k8s/a.yaml"));
        let a = artifact("/elsewhere/a.yaml", Some(root));
        assert_eq!(a.uri.as_deref(), Some("file:///elsewhere/a.yaml"));
        assert_eq!(a.uri_base_id, None);
        assert_eq!(
            artifact("<stdin>", Some(root)).uri.as_deref(),
            Some("%3Cstdin%3E")
        );
    }
}
