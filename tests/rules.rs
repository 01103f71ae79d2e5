//! One fixture per rule (`tests/fixtures/rules/<ID>.yaml` or `.json`) with cases that must and
//! must not fire, and a snapshot of what the rule reports on it: a rule's behaviour
//! is read in one place. Resource names (or statement Sids) in the fixtures start with
//! `flag-` or `pass-`, and the test checks that the findings agree with the names.

use breakout::{engine, scan, ScanOptions};
use std::path::Path;

fn run_rule(id: &str) -> String {
    let dir = Path::new("tests/fixtures/rules");
    let fixture = ["yaml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{id}.{ext}")))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no fixture for {id}"));
    let policies = engine::builtin()
        .into_iter()
        .filter(|p| p.id == id)
        .collect();
    let report = scan(&ScanOptions {
        paths: vec![fixture],
        policies,
        ..Default::default()
    })
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        !report.findings.is_empty(),
        "{id} does not fire on its fixture"
    );
    for f in &report.findings {
        assert!(
            !f.resource.contains("pass-") && !f.message.contains("pass-"),
            "{id} fired on a pass case: {}",
            f.message
        );
    }
    // Every `flag-` name in the facts (resources, statement Sids) needs a finding.
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
        .chain(facts.policy_attachments.iter().map(|a| a.resource.clone()));
    for label in labels {
        for token in label
            .split([' ', '"', '/'])
            .filter(|t| t.starts_with("flag-"))
        {
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.resource.contains(token) || f.message.contains(token)),
                "{id} missed {token}"
            );
        }
    }
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} {}",
                f.location.line, f.location.column, f.rule_id, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! rule_tests {
    ($($name:ident => $id:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!($id, run_rule($id));
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
    brk401 => "BRK401",
    brk504 => "BRK504",
    brk601 => "BRK601",
    brk602 => "BRK602",
    brk603 => "BRK603",
    brk604 => "BRK604",
}
