//! The JSON report, schema version 1 (documented in `docs/json-report.md`).
//! Fields are only ever added within a version; renaming or removing one bumps it.

use super::{count_by_change, count_by_rule, count_by_severity, suppressed_count};
use crate::engine::{Change, Finding};
use crate::Report;
use serde_json::{json, Map, Value};

/// The schema version this module writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The report's top level before the findings, in the order of the schema.
#[derive(serde::Serialize)]
struct Head<'a> {
    schema_version: u32,
    tool: Value,
    modules_not_scanned: &'a [String],
    summary: Value,
    plans: &'a [crate::extract::tfplan::PlanReport],
}

/// The report's top level after the findings, in the order of the schema.
#[derive(serde::Serialize)]
struct Tail<'a> {
    errors: &'a [crate::FileError],
    skipped: &'a [crate::Skipped],
    stale_suppressions: &'a [crate::suppress::StaleSuppression],
}

/// Findings serialized at once, each part on one of the threads: bounds the text held
/// in memory to this many findings' (a finding is about 800 bytes of JSON).
const FINDINGS_PER_BATCH: usize = 4096;

/// Findings one thread serializes at a time.
const FINDINGS_PER_PART: usize = 256;

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
    let head = Head {
        schema_version: SCHEMA_VERSION,
        tool: json!({ "name": "breakout", "version": env!("CARGO_PKG_VERSION") }),
        modules_not_scanned: &report.modules_not_scanned,
        summary,
        plans: &report.plans,
    };
    let tail = Tail {
        errors: &report.errors,
        skipped: &report.skipped,
        stale_suppressions: &report.stale_suppressions,
    };
    // One pretty-printed object, written in three parts: the head without its closing
    // `\n}`, the findings (serialized in parallel: at 28,650 findings writing them on
    // one thread was a tenth of the scan's wall time), the tail without its `{`.
    let head = serde_json::to_vec_pretty(&head)?;
    w.write_all(head.strip_suffix(b"\n}").unwrap_or(&head))?;
    w.write_all(b",\n  \"findings\": ")?;
    write_findings(&report.findings, w)?;
    let tail = serde_json::to_vec_pretty(&tail)?;
    w.write_all(b",")?;
    w.write_all(tail.strip_prefix(b"{").unwrap_or(&tail))?;
    w.write_all(b"\n")
}

/// Writes `findings` as the pretty-printed array a member of the top-level object is,
/// byte for byte as `serde_json` would, its parts serialized on several threads.
fn write_findings(findings: &[Finding], w: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    if findings.is_empty() {
        return w.write_all(b"[]");
    }
    w.write_all(b"[")?;
    let mut first = true;
    for batch in findings.chunks(FINDINGS_PER_BATCH) {
        let parts: Vec<Vec<u8>> = batch
            .par_chunks(FINDINGS_PER_PART)
            .map(|part| {
                let mut out = Vec::with_capacity(part.len() * 1024);
                for finding in part {
                    out.extend_from_slice(b",\n    ");
                    indented(&serde_json::to_vec_pretty(finding)?, &mut out);
                }
                Ok(out)
            })
            .collect::<serde_json::Result<_>>()?;
        for part in &parts {
            // The first element has no comma before it.
            w.write_all(if first { &part[1..] } else { part })?;
            first = false;
        }
    }
    w.write_all(b"\n  ]")
}

/// Appends `text` (a pretty-printed value) to `out` two levels deeper: every line but
/// the first is indented four more spaces. The formatter writes every line break
/// there is; those in strings are escaped.
fn indented(text: &[u8], out: &mut Vec<u8>) {
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out.extend_from_slice(first);
    }
    for line in lines {
        out.extend_from_slice(b"\n    ");
        out.extend_from_slice(line);
    }
}
