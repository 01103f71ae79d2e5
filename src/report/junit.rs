//! JUnit XML (written with `quick-junit`), for test dashboards such as GitLab's
//! test report and Jenkins.
//!
//! One test suite per scanned file (a clean file has an empty suite), one test case per
//! rule and resource: it fails with every active finding of that rule on that resource,
//! and is skipped when all of them are suppressed. A file that could not be scanned has
//! one test case with an error. No timestamps: the same scan gives the same bytes.

use crate::engine::Finding;
use crate::Report;
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    // Every scanned file, clean ones too.
    let f = &report.facts;
    let mut files: BTreeSet<&str> = BTreeSet::new();
    files.extend(f.workloads.iter().map(|x| x.file.as_str()));
    files.extend(f.containers.iter().map(|x| x.file.as_str()));
    files.extend(f.iam_statements.iter().map(|x| x.file.as_str()));
    files.extend(f.policy_attachments.iter().map(|x| x.file.as_str()));
    files.extend(f.images.iter().map(|x| x.file.as_str()));
    files.extend(f.instances.iter().map(|x| x.file.as_str()));
    files.extend(f.network_policies.iter().map(|x| x.file.as_str()));
    files.extend(report.findings.iter().map(|x| x.location.file.as_str()));
    files.extend(report.errors.iter().map(|e| e.file.as_str()));

    let mut junit = Junit::new("breakout");
    for file in files {
        let mut suite = TestSuite::new(file);
        // Test cases by rule and resource, in finding order.
        let mut cases: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
        for finding in report.findings.iter().filter(|x| x.location.file == file) {
            cases
                .entry((finding.rule_id.as_str(), finding.resource.as_str()))
                .or_default()
                .push(finding);
        }
        for ((rule, resource), findings) in cases {
            suite.add_test_case(test_case(rule, resource, &findings));
        }
        for e in report.errors.iter().filter(|e| e.file == file) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(e.message.as_str())
                .set_type("could not scan")
                .set_description(e.to_string());
            let mut case = TestCase::new("could not scan", status);
            case.set_classname("breakout");
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    let mut out = junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write JUnit XML: {e} -->"));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn test_case(rule: &str, resource: &str, findings: &[&Finding]) -> TestCase {
    let first = findings[0];
    let active: Vec<&&Finding> = findings.iter().filter(|f| f.is_active()).collect();
    let status = if let Some(lead) = active.first() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let mut description = String::new();
        for f in &active {
            let _ = writeln!(
                description,
                "{}: {} ({}, {} confidence)",
                f.location,
                f.message,
                f.severity.as_str(),
                serde_json::to_value(f.confidence)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
        }
        let _ = write!(description, "\nHow to fix: {}", first.remediation);
        let message = if active.len() == 1 {
            lead.message.clone()
        } else {
            format!("{} (and {} more)", lead.message, active.len() - 1)
        };
        status
            .set_message(message)
            .set_type(lead.severity.as_str())
            .set_description(description);
        status
    } else {
        let mut status = TestCaseStatus::skipped();
        let reasons: Vec<String> = findings
            .iter()
            .filter_map(|f| f.suppression.as_ref())
            .map(|s| {
                format!(
                    "suppressed ({}): {}",
                    s.kind.as_str(),
                    s.reason.as_deref().unwrap_or("no reason given")
                )
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        status.set_message(reasons.join("; "));
        status
    };
    let mut case = TestCase::new(format!("{rule} {}: {resource}", first.slug), status);
    case.set_classname(format!("breakout.{rule}"));
    case
}
