//! Per-rule fixtures with cases that must and must not fire, and one snapshot per rule
//! of what the rule reports on them: a rule's behaviour is read in one place.
//!
//! A rule's fixtures are `tests/fixtures/rules/<ID>.yaml` or `.json`, plus every file in
//! the folder `tests/fixtures/rules/<ID>/` (ECS task definitions, compose files,
//! Dockerfiles: every input format that feeds the rule; a sub-folder is scanned whole,
//! for cases that span files), scanned together. Resource
//! names (workloads, ECS families, compose services, final Dockerfile stages, statement
//! Sids, Terraform instances and launch templates) start with `flag-` or `pass-`, and
//! the test checks that the findings agree with the names. Snapshot lines read
//! `file:line:column rule message`, the file relative to `tests/fixtures/rules`.

use breakout::{engine, scan, ScanOptions};
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/rules";

/// The rule's fixture files: `<ID>.yaml|json`, then the files of `<ID>/`, sorted.
fn fixtures(id: &str) -> Vec<PathBuf> {
    let dir = Path::new(FIXTURES);
    let mut files: Vec<PathBuf> = ["yaml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{id}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir.join(id)) {
        let mut more: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        more.sort();
        files.extend(more);
    }
    assert!(!files.is_empty(), "no fixture for {id}");
    files
}

/// The rule's findings on its fixtures, one line each, and the ways they disagree with
/// the fixtures' `flag-`/`pass-` names.
fn run_rule(id: &str) -> (String, Vec<String>) {
    let policies = engine::builtin()
        .into_iter()
        .filter(|p| p.id == id)
        .collect();
    let report = scan(&ScanOptions {
        paths: fixtures(id),
        policies,
        ..Default::default()
    })
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // A fixture that nothing reads would pass silently.
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(
        !report.findings.is_empty(),
        "{id} does not fire on its fixtures"
    );
    let mut problems = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.resource.contains("pass-") || f.message.contains("pass-"))
    {
        problems.push(format!(
            "{id} fired on a pass case: {}: {}",
            f.location, f.message
        ));
    }
    // Every `flag-` name in the facts (resources, statement Sids, images) needs a finding.
    let facts = &report.facts;
    let labels = facts
        .workloads
        .iter()
        .map(|w| w.resource.clone())
        .chain(
            facts
                .iam_statements
                .iter()
                .map(|s| format!("{} {}", s.resource, s.statement)),
        )
        .chain(facts.policy_attachments.iter().map(|a| a.resource.clone()))
        .chain(facts.images.iter().map(|i| i.resource.clone()))
        // Terraform addresses (`aws_instance.flag-x[0]`): the name after the type.
        .chain(facts.instances.iter().map(|i| i.resource.replace('.', " ")));
    for label in labels {
        for token in label
            .split([' ', '"', '/'])
            .filter(|t| t.starts_with("flag-"))
        {
            if !report
                .findings
                .iter()
                .any(|f| f.resource.contains(token) || f.message.contains(token))
            {
                problems.push(format!("{id} missed {token}"));
            }
        }
    }
    let lines = report
        .findings
        .iter()
        .map(|f| {
            let file = f.location.file.replace('\\', "/");
            let file = file
                .strip_prefix(FIXTURES)
                .map_or(file.as_str(), |f| f.trim_start_matches('/'));
            let related: String = f
                .related_locations
                .iter()
                .map(|r| {
                    let file = r.file.replace('\\', "/");
                    let file = file
                        .strip_prefix(FIXTURES)
                        .map_or(file.as_str(), |f| f.trim_start_matches('/'));
                    format!("\n    related {file}:{}:{} {}", r.line, r.column, r.message)
                })
                .collect();
            format!(
                "{file}:{}:{} {} {}{related}",
                f.location.line, f.location.column, f.rule_id, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    (lines, problems)
}

macro_rules! rule_tests {
    ($($name:ident => $id:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            // The snapshot first, so that a disagreement still leaves it to review.
            let (findings, problems) = run_rule($id);
            insta::assert_snapshot!($id, findings);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    )*};
}

rule_tests! {
    brk101 => "BRK101",
    brk102 => "BRK102",
    brk103 => "BRK103",
    brk104 => "BRK104",
    brk201 => "BRK201",
    brk202 => "BRK202",
    brk301 => "BRK301",
    brk302 => "BRK302",
    brk303 => "BRK303",
    brk401 => "BRK401",
    brk501 => "BRK501",
    brk502 => "BRK502",
    brk503 => "BRK503",
    brk504 => "BRK504",
    brk601 => "BRK601",
    brk602 => "BRK602",
    brk603 => "BRK603",
    brk604 => "BRK604",
    brk901 => "BRK901",
}
