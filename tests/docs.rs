//! The documentation tells the truth: every built-in rule is in the rule reference with
//! its slug, title and severity, and every field a fact can have is described in
//! `docs/facts.md`, so a policy author never meets an undocumented field.

use breakout::{engine, scan, ScanOptions};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

mod common;

use common::ROOT;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
}

#[test]
fn every_builtin_rule_is_in_the_reference() {
    let doc = read("docs/policies.md");
    for p in engine::builtin() {
        let heading = format!("### {} {}", p.id, p.slug);
        let Some(at) = doc.find(&heading) else {
            panic!("docs/policies.md has no `{heading}` section");
        };
        let section = &doc[at..];
        let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
        assert!(
            section.contains(&*p.title),
            "{}: title `{}` missing",
            p.id,
            p.title
        );
        assert!(
            section.contains(&format!("severity **{}**", p.severity.as_str())),
            "{}: severity {} missing",
            p.id,
            p.severity.as_str()
        );
        // The remediation's first sentence, whatever the line wrapping.
        let first: String = p
            .remediation
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        let flat: String = section.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&first),
            "{}: remediation out of date in docs/policies.md (starts `{first}`)",
            p.id
        );
    }
}

/// Every key of every fact the samples produce.
fn fact_keys(v: &Value, out: &mut BTreeSet<String>, under_map_of_fields: bool) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                // `locs` and `unknown` are keyed by field names, `labels` by the user.
                if !under_map_of_fields {
                    out.insert(k.clone());
                }
                let maps_fields = matches!(
                    k.as_str(),
                    "locs" | "unknown" | "labels" | "match_labels" | "loc"
                );
                fact_keys(child, out, maps_fields);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| fact_keys(i, out, false)),
        _ => {}
    }
}

#[test]
fn every_fact_field_is_documented() {
    let report = scan(&ScanOptions {
        paths: vec![Path::new(ROOT).join("samples")],
        policies: Vec::new(),
        ..Default::default()
    })
    .unwrap();
    let facts = serde_json::to_value(&report.facts).unwrap();
    let mut keys = BTreeSet::new();
    fact_keys(&facts, &mut keys, false);
    assert!(
        keys.len() > 60,
        "the samples should exercise every fact type"
    );
    let doc = read("docs/facts.md");
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields not described in docs/facts.md: {missing:?}"
    );
}

/// Every provider default breakout applies is in docs/terraform.md's table, by its
/// argument's last name and its value.
#[test]
fn every_provider_default_is_documented() {
    let doc = read("docs/terraform.md");
    let at = doc
        .find("## Provider defaults")
        .expect("docs/terraform.md has a Provider defaults section");
    let section = &doc[at..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    for d in breakout::extract::terraform::provider_defaults::all() {
        let value = match &d.default {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let resource = d.resource.trim_start_matches("data.");
        for needle in [resource, d.attribute.as_str(), value.as_str()] {
            assert!(
                section.contains(&format!("`{needle}`")),
                "docs/terraform.md's provider defaults do not mention `{needle}` ({d:?})"
            );
        }
    }
}

/// `docs/policies.md` is the output of `breakout policies --format markdown`. With
/// `BREAKOUT_UPDATE_DOCS=1` the test writes it instead.
#[test]
fn the_rule_reference_is_what_the_binary_generates() {
    let run = common::breakout(Path::new(ROOT), &["policies", "--format", "markdown"]);
    run.assert_code(0);
    let generated = run.stdout;
    let path = Path::new(ROOT).join("docs/policies.md");
    if std::env::var_os("BREAKOUT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = read("docs/policies.md");
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or(
                committed.lines().count().min(generated.lines().count()),
                |i| i,
            )
            + 1;
        panic!(
            "docs/policies.md differs from `breakout policies --format markdown` from line {line} on \
             (it is generated from policies/*.yaml, tests/fixtures/rules/examples/ and \
             src/report/policies/head.md): run `BREAKOUT_UPDATE_DOCS=1 cargo test --test docs` \
             or `cargo run -- policies --format markdown > docs/policies.md`"
        );
    }
}

/// Every built-in rule has a vulnerable and a fixed example among its fixtures
/// (`tests/fixtures/rules/examples/<ID>/`), and they show it: the rule fires on the
/// vulnerable one and not on the fixed one, each read cleanly.
#[test]
fn every_rule_has_a_vulnerable_and_a_fixed_example() {
    let root = Path::new(ROOT).join("tests/fixtures/rules/examples");
    for p in engine::builtin() {
        for (variant, fires) in [("vulnerable", true), ("fixed", false)] {
            assert!(
                !breakout::report::policies::example(&p.id, variant).is_empty(),
                "{}: no {variant} example (tests/fixtures/rules/examples/{}/{variant}/)",
                p.id,
                p.id
            );
            let report = scan(&ScanOptions {
                paths: vec![root.join(&p.id).join(variant)],
                policies: vec![p.clone()],
                ..Default::default()
            })
            .unwrap();
            assert!(
                report.errors.is_empty(),
                "{} {variant}: {:?}",
                p.id,
                report.errors
            );
            assert!(
                report.skipped.is_empty(),
                "{} {variant}: {:?}",
                p.id,
                report.skipped
            );
            assert_eq!(
                !report.findings.is_empty(),
                fires,
                "{} {variant} example: {:?}",
                p.id,
                report
                    .findings
                    .iter()
                    .map(|f| &f.message)
                    .collect::<Vec<_>>()
            );
        }
    }
}
