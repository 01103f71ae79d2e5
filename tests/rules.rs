//! One fixture per rule (`tests/fixtures/rules/<ID>.yaml`) with cases that must and
//! must not fire, and a snapshot of what the rule reports on it: a rule's behaviour
//! is read in one place. Resource names in the fixtures start with `flag-` or `pass-`,
//! and the test checks that the findings agree with the names.

use breakout::{engine, scan, ScanOptions};
use std::path::Path;

fn run_rule(id: &str) -> String {
    let fixture = Path::new("tests/fixtures/rules").join(format!("{id}.yaml"));
    let policies = engine::builtin()
        .into_iter()
        .filter(|p| p.id == id)
        .collect();
    let report = scan(&ScanOptions {
        paths: vec![fixture],
        policies,
    })
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(
        !report.findings.is_empty(),
        "{id} does not fire on its fixture"
    );
    for f in &report.findings {
        assert!(
            !f.resource.contains(" pass-") && !f.message.contains("pass-"),
            "{id} fired on a pass case: {}",
            f.message
        );
    }
    for w in &report.facts.workloads {
        if w.name.starts_with("flag-") {
            assert!(
                report.findings.iter().any(|f| f.resource == w.resource),
                "{id} missed {}",
                w.resource
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
