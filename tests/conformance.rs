//! Conformance with the peers' own test fixtures (`../shared/corpus`, or the folder
//! in `BREAKOUT_CORPUS`). Each case is one fixture file and one peer rule, with the
//! breakout rules that express it; breakout agrees when it flags the file with one of
//! those rules exactly when the peer expects a finding.
//!
//! Every disagreement must be listed with its reason in `tests/conformance/exceptions.txt`
//! (and every listed exception must still be a disagreement), and agreement, counting
//! exceptions as disagreements, must stay at or above `THRESHOLD`.

use breakout::{engine, scan, ScanOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Input kinds breakout reads today.
const KINDS: &[&str] = &["k8s", "iam", "dockerfile", "compose", "terraform", "tfplan"];
/// Minimum share of agreeing cases.
const THRESHOLD: f64 = 0.90;

fn corpus_dir() -> PathBuf {
    std::env::var_os("BREAKOUT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// `id: reason` lines; `#` starts a comment.
/// Our own writing of a case the manifest describes only in words.
fn transcribed(id: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/transcribed");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s == id)
        })
}

fn exceptions() -> BTreeMap<String, String> {
    let text = include_str!("conformance/exceptions.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once(':').expect("`id: reason`");
            (id.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// A peer's resource name (`Kind/name`, `Kind.namespace.name`) as kind and name.
fn peer_resource(name: &str) -> Option<(&str, &str)> {
    if let Some((kind, rest)) = name.split_once('/') {
        return Some((kind, rest));
    }
    let mut parts = name.splitn(3, '.');
    let kind = parts.next()?;
    let last = parts.last()?;
    Some((kind, last))
}

/// Whether breakout's resource label (`Kind ns/name`, `Kind name`, or a Terraform
/// address such as `module.m.aws_instance.web[0]` or `data.aws_iam_policy_document.d`)
/// is that resource.
fn same_resource(label: &str, kind: &str, name: &str) -> bool {
    let first = label.split_whitespace().next().unwrap_or(label);
    let address = first.split('[').next().unwrap_or(first);
    let mut parts: Vec<&str> = address.split('.').collect();
    while parts.first() == Some(&"module") && parts.len() > 2 {
        parts.drain(..2);
    }
    match parts.as_slice() {
        ["data", rtype, n] => (kind == "data" || kind == *rtype) && *n == name,
        [rtype, n] if rtype.contains('_') => kind == *rtype && *n == name,
        _ => {
            let Some((k, rest)) = label.split_once(' ') else {
                return false;
            };
            let n = rest.rsplit('/').next().unwrap_or(rest);
            k.eq_ignore_ascii_case(kind) && n == name
        }
    }
}

#[test]
fn agrees_with_peer_fixtures() {
    let dir = corpus_dir();
    let manifest = dir.join("MANIFEST.jsonl");
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        println!(
            "skipped: no corpus at {} (set BREAKOUT_CORPUS)",
            dir.display()
        );
        return;
    };
    let policies = engine::builtin();
    let exceptions = exceptions();
    let (mut agree, mut total, mut parse_only) = (0, 0, 0);
    let (mut res_agree, mut res_total) = (0, 0);
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut lines_agree, mut lines_total) = (0, 0);
    let mut line_misses: Vec<String> = Vec::new();
    let mut res_misses: Vec<String> = Vec::new();
    let mut disagreements: Vec<String> = Vec::new();
    let mut stale: Vec<&String> = exceptions.keys().collect();
    let mut failures: Vec<String> = Vec::new();

    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("manifest line is JSON");
        let kind = case["kind"].as_str().unwrap_or_default();
        if !KINDS.contains(&kind) {
            continue;
        }
        let id = case["id"].as_str().unwrap().to_string();
        // Inline cases (no file in the corpus) are written out in `transcribed/`.
        let case_path = match case["path"].as_str() {
            Some(p) => dir.join(p),
            None => match transcribed(&id) {
                Some(p) => p,
                None => {
                    failures.push(format!("{id}: inline case with no file in transcribed/"));
                    continue;
                }
            },
        };
        let path = case_path.display().to_string();
        let rules: Vec<&str> = case["breakout_rules"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let report = scan(&ScanOptions {
            paths: vec![case_path.clone()],
            policies: policies.clone(),
            ..Default::default()
        })
        .expect("scan runs");
        if !report.errors.is_empty() && !exceptions.contains_key(&id) {
            failures.push(format!("{id} {path}: {}", report.errors[0]));
        }
        if rules.is_empty() {
            parse_only += 1;
            continue;
        }
        total += 1;
        let flagged = report
            .findings
            .iter()
            .any(|f| rules.contains(&f.rule_id.as_str()));
        for res in case["expected_findings"].as_array().into_iter().flatten() {
            let (Some(name), Some(want)) = (res["resource"].as_str(), res["expect"].as_str())
            else {
                continue;
            };
            let Some((kind, name)) = peer_resource(name) else {
                continue;
            };
            let hit = report.findings.iter().any(|f| {
                rules.contains(&f.rule_id.as_str()) && same_resource(&f.resource, kind, name)
            });
            res_total += 1;
            if hit == (want == "flag") {
                res_agree += 1;
            } else {
                res_misses.push(format!("{id} {kind}/{name}: peer expects {want}"));
            }
        }
        // Where the peer says which lines, do the findings point at the same lines?
        let peer_lines: Vec<u64> = case["expected_lines"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        // Only KICS states exact lines; checkov names the first line of the resource.
        if flagged && !peer_lines.is_empty() && case["source"] == "kics" {
            lines_total += 1;
            let ours: Vec<u64> = report
                .findings
                .iter()
                .filter(|f| rules.contains(&f.rule_id.as_str()))
                .map(|f| u64::from(f.location.line))
                .collect();
            if peer_lines.iter().all(|l| ours.contains(l)) {
                lines_agree += 1;
            } else {
                line_misses.push(format!(
                    "{id}: peer lines {peer_lines:?}, breakout {ours:?}"
                ));
            }
        }
        let expected = case["expect"] == "flag";
        stale.retain(|e| **e != id);
        let kind_counts = by_kind
            .entry(KINDS.iter().find(|k| **k == kind).unwrap())
            .or_default();
        kind_counts.1 += 1;
        if flagged == expected {
            agree += 1;
            kind_counts.0 += 1;
            if exceptions.contains_key(&id) {
                failures.push(format!("{id}: listed as an exception but now agrees"));
            }
        } else {
            let got = if flagged { "flags" } else { "passes" };
            let line = format!(
                "{id} {path}: peer expects {}, breakout {got} ({})",
                case["expect"],
                case["rule_ref"].as_str().unwrap_or_default()
            );
            if !exceptions.contains_key(&id) {
                failures.push(format!("unexplained disagreement: {line}"));
            }
            disagreements.push(line);
        }
    }
    let share = agree as f64 / total.max(1) as f64;
    println!(
        "conformance: {agree}/{total} cases agree ({:.1}%), {} disagreements (all in exceptions.txt: {}), {parse_only} parse-only cases",
        share * 100.0,
        disagreements.len(),
        failures.iter().all(|f| !f.starts_with("unexplained")),
    );
    for (kind, (a, t)) in &by_kind {
        // Per kind for the record: a few explained exceptions move a small kind a lot.
        println!("  {kind}: {a}/{t} ({:.1}%)", *a as f64 * 100.0 / *t as f64);
    }
    for d in &disagreements {
        println!("  {d}");
    }
    println!("lines (cases where both flag and the peer names lines): {lines_agree}/{lines_total} contain every peer line");
    for m in &line_misses {
        println!("  {m}");
    }
    println!("per resource (multi-resource files): {res_agree}/{res_total} agree");
    for m in &res_misses {
        println!("  {m}");
    }
    for s in stale {
        failures.push(format!("{s}: exception names no case of a supported kind"));
    }
    assert!(
        total > 0,
        "no case of kinds {KINDS:?} in {}",
        manifest.display()
    );
    assert!(
        failures.is_empty(),
        "conformance problems:\n{}",
        failures.join("\n")
    );
    assert!(
        share >= THRESHOLD,
        "agreement {:.1}% is below {:.0}%",
        share * 100.0,
        THRESHOLD * 100.0
    );
}
