//! The JSON report, schema version 1 (documented in `docs/json-report.md`).
//! Fields are only ever added within a version; renaming or removing one bumps it.

use super::{count_by_change, count_by_rule, count_by_severity, suppressed_count};
use crate::engine::Change;
use crate::Report;
use serde_json::{json, Map, Value};

/// The schema version this module writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The report's top level, in the order of the schema.
#[derive(serde::Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Value,
    modules_not_scanned: &'a [String],
    summary: Value,
    plans: &'a [crate::extract::tfplan::PlanReport],
    findings: &'a [crate::engine::Finding],
    errors: &'a [crate::FileError],
    skipped: &'a [crate::Skipped],
    stale_suppressions: &'a [crate::suppress::StaleSuppression],
}

/// Renders the report as pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes the JSON report to `w` as it is serialized, without holding it whole in
/// memory (at 28,650 findings the text is 23 MB).
pub fn write(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let by_severity: Map<String, Value> = count_by_severity(report)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    // The summary is small and built as a value; the findings and the rest are
    // serialized from the report where they are (a `Value` copy of 28,650 findings took
    // more memory than the scan itself), in the same order and form.
    let summary = json!({
        "files_scanned": report.stats.files_scanned,
        "files_skipped": report.stats.files_skipped,
        "files_failed": report.stats.files_failed,
        "workloads": report.stats.workloads,
        "containers": report.stats.containers,
        "policy_statements": report.stats.policy_statements,
        "images": report.stats.images,
        "instances": report.stats.instances,
        "findings": report.findings.len(),
        "active": report.findings.len() - suppressed_count(report),
        "suppressed": suppressed_count(report),
        "by_severity": by_severity,
        "by_rule": count_by_rule(report),
        "introduced": count_by_change(report, Change::Introduced),
        "existing": count_by_change(report, Change::Existing),
    });
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: json!({ "name": "breakout", "version": env!("CARGO_PKG_VERSION") }),
        modules_not_scanned: &report.modules_not_scanned,
        summary,
        plans: &report.plans,
        findings: &report.findings,
        errors: &report.errors,
        skipped: &report.skipped,
        stale_suppressions: &report.stale_suppressions,
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}
