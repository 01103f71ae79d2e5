//! The command line as CI pipelines, reviewers and auditors use it: the JSON report's
//! shape, `--output`, `--fail-on`, `--only`/`--skip`, the policy catalog, standard
//! input, user policies, determinism, colours, the table summary, and the samples.
//!
//! Every test runs the built binary from the crate root, so sample paths read as users
//! write them (`samples/k8s/...`).

mod common;

use common::{command, finish, Run, BIN, ROOT};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Fires BRK301 (high) at 36:9, BRK401 (low) and BRK604 (medium) at 39:11.
const ORDERS: &str = "samples/k8s/vulnerable/orders-api.yaml";
const ORDERS_POLICY: &str = "samples/iam/vulnerable/orders-api-policy.json";

/// Runs breakout from the crate root.
fn breakout(args: &[&str]) -> Run {
    finish(&mut command(Path::new(ROOT), args))
}

fn breakout_in(dir: &Path, args: &[&str]) -> Run {
    finish(&mut command(dir, args))
}

/// (file, rule, line, column) of every finding, in report order.
fn findings(report: &Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The built-in policies as written in `policies/*.yaml`, by ID.
fn policy_files() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(Path::new(ROOT).join("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let policy: Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let id = policy["id"].as_str().unwrap().to_string();
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            id,
            "policy file named after its id"
        );
        out.insert(id, policy);
    }
    assert!(out.len() >= 14, "{:?}", out.keys());
    out
}

/// Files directly in `dir` (the samples are flat folders).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Files under `dir`, at any depth, whose names breakout reads (templates and other
/// files a module only refers to are not scanned on their own).
fn readable_files_under(dir: &Path) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                readable_files_under(&p)
            } else {
                usize::from(breakout::discover::format_of(&p).is_some())
            }
        })
        .sum()
}

fn sample_dirs(kind: &str) -> Vec<String> {
    let mut dirs: Vec<String> = fs::read_dir(Path::new(ROOT).join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join(kind).is_dir())
        .map(|p| {
            format!(
                "samples/{}/{kind}",
                p.file_name().unwrap().to_str().unwrap()
            )
        })
        .collect();
    dirs.sort();
    dirs
}

// ---------------------------------------------------------------------------------
// The JSON report

#[test]
fn json_report_has_the_documented_shape() {
    let run = breakout(&["scan", ORDERS, "--format", "json"]);
    run.assert_code(1);
    assert_eq!(run.stderr, "");
    assert!(run.stdout.ends_with("}\n"), "pretty JSON with a newline");
    let report = run.json();
    for key in [
        "schema_version",
        "tool",
        "summary",
        "findings",
        "errors",
        "skipped",
    ] {
        assert!(report.get(key).is_some(), "missing top-level {key}");
    }
    assert_eq!(report["schema_version"], 1);
    assert_eq!(
        report["tool"],
        json!({"name": "breakout", "version": env!("CARGO_PKG_VERSION")})
    );

    let summary = &report["summary"];
    for (key, want) in [
        ("files_scanned", 1),
        ("files_skipped", 0),
        ("files_failed", 0),
        ("workloads", 1),
        ("containers", 1),
        ("policy_statements", 0),
        ("findings", 4),
    ] {
        assert_eq!(summary[key], want, "summary.{key}: {summary:#}");
    }
    // Always the four severities, most severe first, zeros included.
    let by_severity: Vec<(&str, u64)> = summary["by_severity"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(
        by_severity,
        [("critical", 0), ("high", 1), ("medium", 2), ("low", 1)]
    );
    assert_eq!(
        summary["by_rule"],
        json!({"BRK301": 1, "BRK401": 1, "BRK503": 1, "BRK604": 1})
    );

    let policies = policy_files();
    // Findings are sorted by position: BRK503 points at the Deployment itself (15:1).
    assert_eq!(report["findings"][0]["rule_id"], "BRK503");
    assert_eq!(report["findings"][0]["confidence"], "high");
    let first = &report["findings"][1];
    for key in [
        "rule_id",
        "slug",
        "title",
        "severity",
        "message",
        "resource",
        "location",
        "remediation",
        "confidence",
        "fingerprint",
    ] {
        assert!(first.get(key).is_some(), "finding lacks {key}: {first:#}");
    }
    assert_eq!(first["rule_id"], "BRK301");
    assert_eq!(first["slug"], "runs-as-root");
    assert_eq!(first["title"], "Container runs as root");
    assert_eq!(first["severity"], "high");
    assert_eq!(
        first["message"],
        "Deployment shop/orders-api: container orders-api runs as root (runAsUser: 0)"
    );
    assert_eq!(first["resource"], "Deployment shop/orders-api");
    assert_eq!(
        first["location"],
        json!({"file": ORDERS, "line": 36, "column": 9})
    );
    assert_eq!(
        first["remediation"].as_str().unwrap(),
        policies["BRK301"]["remediation"].as_str().unwrap().trim()
    );
    let fp = first["fingerprint"].as_str().unwrap();
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "fingerprint {fp}"
    );
    assert_eq!(
        findings(&report)[2..],
        [
            (ORDERS.to_string(), "BRK401".to_string(), 39, 11),
            (ORDERS.to_string(), "BRK604".to_string(), 39, 11),
        ]
    );
    assert_eq!(report["errors"], json!([]));
    assert_eq!(report["skipped"], json!([]));
}

#[test]
fn json_summary_agrees_with_the_findings() {
    let run = breakout(&["scan", "samples", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let summary = &report["summary"];
    let list = report["findings"].as_array().unwrap();
    assert_eq!(summary["findings"], list.len());
    assert!(list.len() > 50, "{}", list.len());

    let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_severity: BTreeMap<&str, u64> = BTreeMap::new();
    for f in list {
        *by_rule.entry(f["rule_id"].as_str().unwrap()).or_default() += 1;
        *by_severity
            .entry(f["severity"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(summary["by_rule"], json!(by_rule));
    for sev in ["critical", "high", "medium", "low"] {
        assert_eq!(
            summary["by_severity"][sev],
            by_severity.get(sev).copied().unwrap_or(0),
            "{sev}"
        );
    }
    assert_eq!(
        summary["files_skipped"],
        report["skipped"].as_array().unwrap().len()
    );
    assert_eq!(
        summary["files_failed"],
        report["errors"].as_array().unwrap().len()
    );
    // Sorted by file, line, column, rule.
    let keys = findings(&report);
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| (&a.0, a.2, a.3, &a.1).cmp(&(&b.0, b.2, b.3, &b.1)));
    assert_eq!(keys, sorted);
}

#[test]
fn every_finding_names_its_rule_and_a_real_place() {
    let policies = policy_files();
    let run = breakout(&["scan", "samples", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let id = f["rule_id"].as_str().unwrap();
        let policy = policies
            .get(id)
            .unwrap_or_else(|| panic!("{id} has no policies/{id}.yaml"));
        assert_eq!(f["slug"], policy["slug"], "{f:#}");
        assert_eq!(f["title"], policy["title"], "{f:#}");
        // A rule whose severity depends on what it found (`severity_from`) gives at
        // most its own.
        if policy.get("severity_from").is_some() {
            let order = ["low", "medium", "high", "critical"];
            let rank = |v: &Value| order.iter().position(|s| v.as_str() == Some(s));
            assert!(
                rank(&f["severity"]).is_some() && rank(&f["severity"]) <= rank(&policy["severity"]),
                "{f:#}"
            );
        } else {
            assert_eq!(f["severity"], policy["severity"], "{f:#}");
        }
        assert_eq!(
            f["remediation"].as_str().unwrap(),
            policy["remediation"].as_str().unwrap().trim()
        );
        let message = f["message"].as_str().unwrap();
        let resource = f["resource"].as_str().unwrap();
        assert!(
            !resource.is_empty() && message.contains(resource),
            "message names the resource: {f:#}"
        );
        assert_eq!(
            unfilled_placeholder(message),
            None,
            "unfilled placeholder in message: {message}"
        );
        // The location is inside the file.
        let file = f["location"]["file"].as_str().unwrap();
        let lines = texts.entry(file.to_string()).or_insert_with(|| {
            fs::read_to_string(Path::new(ROOT).join(file))
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect()
        });
        let line = f["location"]["line"].as_u64().unwrap() as usize;
        let column = f["location"]["column"].as_u64().unwrap() as usize;
        assert!(line >= 1 && line <= lines.len(), "{f:#}");
        let text = &lines[line - 1];
        assert!(
            column >= 1 && column <= text.chars().count(),
            "column {column} beyond line {line} of {file}: {text:?}"
        );
        // It points at something written there, not at blank space.
        let at = text.chars().nth(column - 1).unwrap();
        assert!(!at.is_whitespace(), "{file}:{line}:{column} is blank");
    }
}

/// A `{field}` template placeholder left in a message (`${VAR}` is the input's own text).
fn unfilled_placeholder(message: &str) -> Option<&str> {
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        let dollar = rest[..open].ends_with('$');
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !dollar
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
        {
            return Some(name);
        }
        rest = after;
    }
    None
}

#[test]
fn fingerprints_survive_unrelated_edits() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(Path::new(ROOT).join(ORDERS)).unwrap();
    fs::write(dir.path().join("orders-api.yaml"), &text).unwrap();
    let first = breakout_in(dir.path(), &["scan", "orders-api.yaml", "--format", "json"]);
    let shifted = format!("# owner: team-orders\n# reviewed: yes\n# ticket: SHOP-1234\n{text}");
    fs::write(dir.path().join("orders-api.yaml"), shifted).unwrap();
    let second = breakout_in(dir.path(), &["scan", "orders-api.yaml", "--format", "json"]);
    let (a, b) = (first.json(), second.json());
    let pairs: Vec<(&Value, &Value)> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["findings"].as_array().unwrap())
        .collect();
    assert_eq!(pairs.len(), 4);
    for (x, y) in pairs {
        assert_eq!(x["fingerprint"], y["fingerprint"]);
        assert_eq!(
            x["location"]["line"].as_u64().unwrap() + 3,
            y["location"]["line"].as_u64().unwrap()
        );
    }
    let fps: BTreeSet<&str> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 4, "distinct findings, distinct fingerprints");
}

// ---------------------------------------------------------------------------------
// --output

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let target = "samples/k8s/vulnerable";
    for format in ["json", "table", "sarif", "junit", "github"] {
        let path = dir.path().join(format!("report.{format}"));
        let run = breakout(&[
            "scan",
            target,
            "--format",
            format,
            "--output",
            path.to_str().unwrap(),
        ]);
        run.assert_code(1);
        assert_eq!(run.stdout, "", "{format}: nothing on stdout");
        assert_eq!(run.stderr, "", "{format}");
        let written = fs::read_to_string(&path).unwrap();
        let piped = breakout(&["scan", target, "--format", format]);
        assert_eq!(written, piped.stdout, "{format}: file = piped output");
        assert!(!written.contains('\x1b'), "{format}: no colours in a file");
    }
    let report: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["summary"]["files_scanned"], 7);
    // `-o` is the short form.
    let short = dir.path().join("short.json");
    let run = breakout(&["scan", ORDERS, "-f", "json", "-o", short.to_str().unwrap()]);
    run.assert_code(1);
    assert_eq!(run.stdout, "");
    let report: Value = serde_json::from_str(&fs::read_to_string(&short).unwrap()).unwrap();
    assert_eq!(report["summary"]["findings"], 4);
}

#[test]
fn output_file_that_cannot_be_written_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/folder/report.json");
    let run = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "-o",
        path.to_str().unwrap(),
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("cannot write") && run.stderr.contains("report.json"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

// ---------------------------------------------------------------------------------
// --fail-on

#[test]
fn fail_on_sets_the_exit_code_not_the_report() {
    // orders-api: one high, two medium, one low finding.
    for (threshold, code) in [("low", 1), ("medium", 1), ("high", 1), ("critical", 0)] {
        let run = breakout(&["scan", ORDERS, "--format", "json", "--fail-on", threshold]);
        run.assert_code(code);
        assert_eq!(
            run.json()["summary"]["findings"],
            4,
            "--fail-on {threshold} must not filter the report"
        );
    }
    assert_eq!(breakout(&["scan", ORDERS]).code, Some(1), "default is low");
    // Only the low finding: medium and above pass.
    for (threshold, code) in [("low", 1), ("medium", 0), ("high", 0), ("critical", 0)] {
        let run = breakout(&[
            "scan",
            ORDERS,
            "--only",
            "BRK401",
            "--format",
            "json",
            "--fail-on",
            threshold,
        ]);
        run.assert_code(code);
        assert_eq!(run.rules(), set(&["BRK401"]));
    }
    // A critical finding (BRK201, the runtime socket) fails every threshold.
    let socket = "samples/k8s/vulnerable/log-agent-daemonset.yaml";
    for threshold in ["low", "medium", "high", "critical"] {
        breakout(&["scan", socket, "--fail-on", threshold]).assert_code(1);
    }
    // No findings: 0 whatever the threshold (with the NetworkPolicy that limits the
    // pods' egress, which lives in its own file).
    breakout(&[
        "scan",
        "samples/k8s/hardened/orders-api.yaml",
        "samples/k8s/hardened/network-policies.yaml",
        "--fail-on",
        "low",
    ])
    .assert_code(0);
}

#[test]
fn unreadable_input_wins_over_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        Path::new(ROOT).join(ORDERS),
        dir.path().join("orders-api.yaml"),
    )
    .unwrap();
    fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    for threshold in ["low", "critical"] {
        let run = breakout_in(
            dir.path(),
            &["scan", ".", "--format", "json", "--fail-on", threshold],
        );
        run.assert_code(2);
        assert_eq!(run.json()["summary"]["findings"], 4);
    }
}

/// Findings that rest on a value known only at apply time are always reported; whether
/// they fail the scan is the user's choice.
#[test]
fn fail_on_confidence_keeps_low_confidence_findings_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.tf"),
        "variable \"privileged\" {}\n\nresource \"aws_ecs_task_definition\" \"t\" {\n  family = \"t\"\n  container_definitions = jsonencode([{\n    name = \"app\", image = \"x\", user = \"10001\", readonlyRootFilesystem = true,\n    privileged = var.privileged\n  }])\n}\n",
    )
    .unwrap();
    let run = breakout_in(dir.path(), &["scan", ".", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let found = report["findings"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["rule_id"], "BRK601");
    assert_eq!(found[0]["confidence"], "low");
    let run = breakout_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--fail-on-confidence",
            "high",
        ],
    );
    run.assert_code(0);
    assert_eq!(
        run.json()["findings"].as_array().unwrap().len(),
        1,
        "still reported"
    );
}

#[test]
fn fail_on_rejects_an_unknown_severity() {
    let run = breakout(&["scan", ORDERS, "--fail-on", "severe"]);
    run.assert_code(2);
    assert!(run.stderr.contains("severe"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn usage_errors_exit_2() {
    breakout(&[]).assert_code(2);
    breakout(&["scan", "--no-such-flag", ORDERS]).assert_code(2);
    breakout(&["scan", ORDERS, "--format", "yaml"]).assert_code(2);
    breakout(&["frobnicate"]).assert_code(2);
    let help = breakout(&["scan", "--help"]);
    help.assert_code(0);
    for flag in [
        "--format",
        "--output",
        "--fail-on",
        "--only",
        "--skip",
        "--policies",
    ] {
        assert!(help.stdout.contains(flag), "{flag} in help");
    }
}

// ---------------------------------------------------------------------------------
// --only / --skip

#[test]
fn only_and_skip_select_rules_by_id_or_slug() {
    let all = breakout(&["scan", ORDERS, "--format", "json"]);
    assert_eq!(all.rules(), set(&["BRK301", "BRK401", "BRK503", "BRK604"]));

    let by_id = breakout(&["scan", ORDERS, "--format", "json", "--only", "BRK301"]);
    by_id.assert_code(1);
    assert_eq!(by_id.rules(), set(&["BRK301"]));
    for same in ["runs-as-root", "brk301", "RUNS-AS-ROOT"] {
        let run = breakout(&["scan", ORDERS, "--format", "json", "--only", same]);
        assert_eq!(run.stdout, by_id.stdout, "--only {same}");
    }

    let two = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--only",
        "BRK301,writable-root-filesystem",
    ]);
    assert_eq!(two.rules(), set(&["BRK301", "BRK401"]));
    let repeated = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--only",
        "BRK301",
        "--only",
        "writable-root-filesystem",
    ]);
    assert_eq!(repeated.stdout, two.stdout);

    let skipped = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--skip",
        "BRK401",
        "--skip",
        "privilege-escalation",
        "--skip",
        "imds-egress-unblocked",
    ]);
    skipped.assert_code(1);
    assert_eq!(skipped.rules(), set(&["BRK301"]));
    assert_eq!(skipped.stdout, by_id.stdout);

    // --skip wins over --only; nothing left to fail on.
    let none = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--only",
        "BRK301",
        "--skip",
        "runs-as-root",
    ]);
    none.assert_code(0);
    assert_eq!(none.json()["summary"]["findings"], 0);

    // Rules that do not apply to the input: a clean run.
    let iam_only = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--only",
        "BRK101,BRK102",
    ]);
    iam_only.assert_code(0);
    assert_eq!(iam_only.json()["summary"]["files_scanned"], 1);
}

#[test]
fn unknown_rule_in_only_or_skip_is_a_usage_error() {
    for args in [
        ["--only", "BRK999"],
        ["--skip", "BRK999"],
        ["--only", "runs-as-rooot"],
    ] {
        let mut full = vec!["scan", ORDERS, "--format", "json"];
        full.extend_from_slice(&args);
        let run = breakout(&full);
        run.assert_code(2);
        assert_eq!(run.stdout, "", "no report on a usage error");
        assert!(
            run.stderr.contains(&format!("unknown rule `{}`", args[1])),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("breakout policies"),
            "points at the catalog: {}",
            run.stderr
        );
    }
}

// ---------------------------------------------------------------------------------
// breakout policies

#[test]
fn policies_lists_every_builtin_policy() {
    let policies = policy_files();
    let run = breakout(&["policies"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), policies.len(), "{}", run.stdout);
    let listed: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let ids: Vec<&str> = policies.keys().map(String::as_str).collect();
    assert_eq!(listed, ids, "every policy, sorted by id");
    for (line, policy) in lines.iter().zip(policies.values()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[1], policy["severity"].as_str().unwrap(), "{line}");
        assert_eq!(words[2], policy["slug"].as_str().unwrap(), "{line}");
        assert!(
            line.trim_end().ends_with(policy["title"].as_str().unwrap()),
            "{line}"
        );
    }
    for id in [
        "BRK101", "BRK102", "BRK103", "BRK104", "BRK201", "BRK202", "BRK301", "BRK302", "BRK401",
        "BRK504", "BRK601", "BRK602", "BRK603", "BRK604",
    ] {
        assert!(listed.contains(&id), "{id} listed");
    }
}

#[test]
fn policies_list_columns_are_aligned() {
    let run = breakout(&["policies"]);
    let policies = policy_files();
    let starts: BTreeSet<usize> = run
        .stdout
        .lines()
        .zip(policies.values())
        .map(|(line, p)| line.find(p["title"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        starts.len(),
        1,
        "titles start at columns {starts:?}:\n{}",
        run.stdout
    );
}

#[test]
fn policies_show_explains_a_rule() {
    let policies = policy_files();
    let brk201 = &policies["BRK201"];
    let run = breakout(&["policies", "show", "BRK201"]);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(
        out.starts_with(&format!(
            "BRK201 runtime-socket-mount: {}\nseverity: critical\n",
            brk201["title"].as_str().unwrap()
        )),
        "{out}"
    );
    // Rationale, then remediation, each line indented, in order.
    let why = out.find("Why it matters\n").expect("rationale heading");
    let fix = out.find("How to fix\n").expect("remediation heading");
    assert!(why < fix);
    for (field, from, to) in [("rationale", why, fix), ("remediation", fix, out.len())] {
        let section = &out[from..to];
        let mut at = 0;
        for line in brk201[field].as_str().unwrap().trim().lines() {
            let want = format!("\n  {line}\n");
            let found = section[at..]
                .find(&want)
                .unwrap_or_else(|| panic!("{field} line {line:?} missing or out of order:\n{out}"));
            at += found + 1;
        }
    }
    assert!(out.contains(brk201["select"].as_str().unwrap()), "{out}");
    assert!(out.contains("checkov: CKV_K8S_27"), "{out}");
    assert!(out.contains("kube-linter: docker-sock"), "{out}");
    // By slug, any case: the same page.
    let by_slug = breakout(&["policies", "show", "Runtime-Socket-Mount"]);
    assert_eq!(by_slug.stdout, run.stdout);
}

#[test]
fn policies_show_unknown_rule_is_an_error() {
    let run = breakout(&["policies", "show", "BRK999"]);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("unknown rule `BRK999`"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------
// Standard input

fn breakout_stdin(args: &[&str], input: &[u8]) -> Run {
    finish(command(Path::new(ROOT), args).write_stdin(input.to_vec()))
}

#[test]
fn stdin_manifest_is_reported_as_stdin() {
    let text = fs::read(Path::new(ROOT).join(ORDERS)).unwrap();
    let run = breakout_stdin(&["scan", "-", "--format", "json"], &text);
    run.assert_code(1);
    let report = run.json();
    let from_file = breakout(&["scan", ORDERS, "--format", "json"]).json();
    let expect: Vec<_> = findings(&from_file)
        .into_iter()
        .map(|(_, r, l, c)| ("<stdin>".to_string(), r, l, c))
        .collect();
    assert_eq!(findings(&report), expect);
    assert_eq!(report["summary"]["files_scanned"], 1);
}

#[test]
fn stdin_json_policy_is_recognised_by_content() {
    let text = fs::read(Path::new(ROOT).join(ORDERS_POLICY)).unwrap();
    let run = breakout_stdin(&["scan", "-", "--format", "json"], &text);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(
        findings(&report),
        [
            ("<stdin>".to_string(), "BRK101".to_string(), 7, 7),
            ("<stdin>".to_string(), "BRK102".to_string(), 8, 7),
        ]
    );
    assert_eq!(report["summary"]["policy_statements"], 2);
}

/// Terraform on standard input is a one-file module, judged like the file itself.
#[test]
fn stdin_terraform_is_a_one_file_module() {
    let path = "samples/terraform/vulnerable/bastion.tf";
    let text = fs::read(Path::new(ROOT).join(path)).unwrap();
    let run = breakout_stdin(&["scan", "-", "--format", "json"], &text);
    run.assert_code(1);
    let from_file = breakout(&["scan", path, "--format", "json"]).json();
    let expect: Vec<_> = findings(&from_file)
        .into_iter()
        .map(|(_, r, l, c)| ("<stdin>".to_string(), r, l, c))
        .collect();
    assert!(!expect.is_empty());
    assert_eq!(findings(&run.json()), expect);
    // A syntax error is located on standard input.
    let run = breakout_stdin(
        &["scan", "-"],
        b"resource \"aws_instance\" \"x\" {\n  ami = \n}\n",
    );
    run.assert_code(2);
    assert!(run.stderr.contains("<stdin>:2:"), "{}", run.stderr);
}

#[test]
fn stdin_with_files_and_empty_stdin() {
    let text = fs::read(Path::new(ROOT).join(ORDERS)).unwrap();
    let run = breakout_stdin(&["scan", ORDERS_POLICY, "-", "--format", "json"], &text);
    run.assert_code(1);
    let files: BTreeSet<String> = findings(&run.json())
        .into_iter()
        .map(|(f, _, _, _)| f)
        .collect();
    assert_eq!(files, set(&["<stdin>", ORDERS_POLICY]));

    let empty = breakout_stdin(&["scan", "-", "--format", "json"], b"");
    empty.assert_code(0);
    let report = empty.json();
    assert_eq!(
        report["skipped"],
        json!([{"file": "<stdin>", "reason": "empty file"}])
    );

    let broken = breakout_stdin(&["scan", "-", "--format", "json"], b"kind: Pod\nspec: [\n");
    broken.assert_code(2);
    assert!(
        broken.stderr.starts_with("breakout: error: <stdin>:"),
        "{}",
        broken.stderr
    );
}

// ---------------------------------------------------------------------------------
// User policies (--policies DIR)

const IMAGE_DIGEST_POLICY: &str = r#"id: ACME001
slug: image-not-pinned
title: Container image is not pinned by digest
severity: medium
rationale: |
  A tag can be moved to another image at any time; only a digest names one image.
remediation: |
  Reference the image by digest: `image: registry.example.com/app@sha256:...`.
select: $.containers[?search(@.image, ':[^/@]+$')]
at: image
message: "{resource}: container {name} uses image {image} without a digest"
peers:
  kube-linter: [latest-tag]
"#;

fn policy_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn custom_policy_adds_findings() {
    let dir = policy_dir(&[("image-digest.yaml", IMAGE_DIGEST_POLICY)]);
    let pol = dir.path().to_str().unwrap();
    let run = breakout(&["scan", ORDERS, "--format", "json", "--policies", pol]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(
        run.rules(),
        set(&["ACME001", "BRK301", "BRK401", "BRK503", "BRK604"])
    );
    let acme: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "ACME001")
        .collect();
    assert_eq!(acme.len(), 1);
    let f = acme[0];
    assert_eq!(f["slug"], "image-not-pinned");
    assert_eq!(f["severity"], "medium");
    assert_eq!(
        f["message"],
        "Deployment shop/orders-api: container orders-api uses image registry.example.com/shop/orders-api:2.14.1 without a digest"
    );
    assert_eq!(
        f["location"],
        json!({"file": ORDERS, "line": 40, "column": 11})
    );
    assert_eq!(
        f["remediation"],
        "Reference the image by digest: `image: registry.example.com/app@sha256:...`."
    );
    // Selected like a built-in.
    let only = breakout(&[
        "scan",
        ORDERS,
        "--format",
        "json",
        "--policies",
        pol,
        "--only",
        "image-not-pinned",
    ]);
    assert_eq!(only.rules(), set(&["ACME001"]));
    let fail = breakout(&[
        "scan",
        ORDERS,
        "--policies",
        pol,
        "--only",
        "ACME001",
        "--fail-on",
        "high",
    ]);
    fail.assert_code(0);
    // Without --policies it is unknown.
    breakout(&["scan", ORDERS, "--only", "ACME001"]).assert_code(2);
}

#[test]
fn custom_policy_is_listed_and_shown() {
    let dir = policy_dir(&[("image-digest.yaml", IMAGE_DIGEST_POLICY)]);
    let pol = dir.path().to_str().unwrap();
    let list = breakout(&["policies", "--policies", pol]);
    list.assert_code(0);
    let last = list.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("ACME001") && last.contains("image-not-pinned"),
        "{}",
        list.stdout
    );
    assert_eq!(
        list.stdout.lines().count(),
        breakout(&["policies"]).stdout.lines().count() + 1
    );
    let show = breakout(&["policies", "show", "ACME001", "--policies", pol]);
    show.assert_code(0);
    assert!(
        show.stdout.starts_with(
            "ACME001 image-not-pinned: Container image is not pinned by digest\nseverity: medium\n"
        ),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("kube-linter: latest-tag"));
}

#[test]
fn invalid_custom_policies_are_rejected_naming_the_file() {
    let bad_yaml = "id: ACME002\nslug: bad-yaml\ntitle: \"unterminated\nseverity: low\n";
    let bad_path = IMAGE_DIGEST_POLICY.replace(
        "select: $.containers[?search(@.image, ':[^/@]+$')]",
        "select: $.containers[?@.image ==]",
    );
    let dup_id = IMAGE_DIGEST_POLICY.replace("id: ACME001", "id: BRK201");
    let dup_slug = IMAGE_DIGEST_POLICY.replace("slug: image-not-pinned", "slug: runs-as-root");
    let typo = IMAGE_DIGEST_POLICY.replace("severity: medium", "severty: medium");
    let bad_severity = IMAGE_DIGEST_POLICY.replace("severity: medium", "severity: urgent");
    let cases: [(&str, &str, &[&str]); 6] = [
        ("broken.yaml", bad_yaml, &[":3:8:"]),
        (
            "jsonpath.yaml",
            &bad_path,
            &["JSONPath", "$.containers[?@.image ==]"],
        ),
        ("dup-id.yaml", &dup_id, &["BRK201"]),
        ("dup-slug.yaml", &dup_slug, &["BRK301"]),
        ("typo.yaml", &typo, &["severty"]),
        ("severity.yaml", &bad_severity, &["urgent"]),
    ];
    for (name, text, says) in cases {
        let dir = policy_dir(&[("ok.yaml", IMAGE_DIGEST_POLICY), (name, text)]);
        let pol = dir.path().to_str().unwrap();
        for args in [
            vec!["scan", ORDERS, "--format", "json", "--policies", pol],
            vec!["policies", "--policies", pol],
        ] {
            let run = breakout(&args);
            run.assert_code(2);
            assert_eq!(run.stdout, "", "{name}: no report");
            assert!(
                run.stderr
                    .contains(&dir.path().join(name).display().to_string()),
                "{name}: the error names the file:\n{}",
                run.stderr
            );
            for word in says {
                assert!(run.stderr.contains(word), "{name}: {word}:\n{}", run.stderr);
            }
        }
    }
    // Two user policies with one id.
    let twin = IMAGE_DIGEST_POLICY.replace("slug: image-not-pinned", "slug: image-pinned-2");
    let dir = policy_dir(&[("a.yaml", IMAGE_DIGEST_POLICY), ("b.yaml", &twin)]);
    let run = breakout(&["scan", ORDERS, "--policies", dir.path().to_str().unwrap()]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("b.yaml") && run.stderr.contains("a.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_policies_folder_is_an_error() {
    let run = breakout(&["scan", ORDERS, "--policies", "no-such-policies"]);
    run.assert_code(2);
    assert!(run.stderr.contains("no-such-policies"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

// ---------------------------------------------------------------------------------
// Determinism and presentation

#[test]
fn output_is_byte_for_byte_deterministic() {
    for format in ["json", "table", "sarif", "junit", "github"] {
        let first = breakout(&["scan", "samples", "--format", format]);
        first.assert_code(1);
        assert!(first.stdout.len() > 5000, "{format}");
        let again = breakout(&["scan", "samples", "--format", format]);
        assert_eq!(again.stdout, first.stdout, "{format}: second run differs");
        let one_thread = finish(
            command(Path::new(ROOT), &["scan", "samples", "--format", format])
                .env("RAYON_NUM_THREADS", "1"),
        );
        assert_eq!(
            one_thread.stdout, first.stdout,
            "{format}: one thread differs"
        );
        let many = finish(
            command(Path::new(ROOT), &["scan", "samples", "--format", format])
                .env("RAYON_NUM_THREADS", "7"),
        );
        assert_eq!(many.stdout, first.stdout, "{format}: seven threads differ");
    }
}

#[test]
fn output_does_not_depend_on_argument_order() {
    let a = breakout(&[
        "scan",
        "samples/iam/vulnerable",
        "samples/k8s/vulnerable",
        "--format",
        "json",
    ]);
    let b = breakout(&[
        "scan",
        "samples/k8s/vulnerable",
        "samples/iam/vulnerable",
        "--format",
        "json",
    ]);
    assert_eq!(a.stdout, b.stdout);
    // A file named twice is scanned once.
    let twice = breakout(&["scan", ORDERS, ORDERS, "--format", "json"]);
    assert_eq!(twice.json()["summary"]["findings"], 4);
}

#[test]
fn scan_without_a_path_scans_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("k8s")).unwrap();
    fs::copy(
        Path::new(ROOT).join(ORDERS),
        dir.path().join("k8s/orders-api.yaml"),
    )
    .unwrap();
    let run = breakout_in(dir.path(), &["scan", "--format", "json"]);
    run.assert_code(1);
    let files: BTreeSet<String> = findings(&run.json())
        .into_iter()
        .map(|(f, _, _, _)| f)
        .collect();
    assert_eq!(files, set(&["./k8s/orders-api.yaml"]));
}

#[test]
fn closed_output_pipe_is_not_an_error() {
    // `breakout scan big/ --format json | head -c 100`: a large report, a reader that
    // stops early. The exit code still reflects the findings; nothing panics.
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let runners =
        fs::read(Path::new(ROOT).join("samples/k8s/vulnerable/ci-runners-list.yaml")).unwrap();
    for i in 0..100 {
        fs::write(dir.path().join(format!("runners-{i:03}.yaml")), &runners).unwrap();
    }
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The read end is closed here, long before the report (about 1 MB) is written.
    assert!(head.starts_with(b"{\n  \"schema_version\": 1"));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn no_escape_codes_when_output_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("broken.json"), "{\"Statement\": [}\n").unwrap();
    fs::copy(
        Path::new(ROOT).join(ORDERS),
        dir.path().join("orders-api.yaml"),
    )
    .unwrap();
    for format in ["table", "json"] {
        let run = breakout_in(dir.path(), &["scan", ".", "--format", format]);
        run.assert_code(2);
        assert!(
            !run.stdout.contains('\x1b'),
            "{format} stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains('\x1b'),
            "{format} stderr:\n{}",
            run.stderr
        );
    }
    // Pipes get a fixed 120 columns.
    let table = breakout(&["scan", "samples/k8s/vulnerable"]);
    let widest = table
        .stdout
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert_eq!(widest, 120, "{}", table.stdout);
}

/// Runs breakout with its standard output on a pseudo-terminal; returns the exit code
/// and everything written to the terminal.
#[cfg(unix)]
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 50,
        ws_col: 160,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: two out-pointers to ints, no name buffer, default settings, a valid size.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two open descriptors that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        // SAFETY: a valid descriptor; keeps other tests' children from inheriting it.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let mut cmd = Command::new(BIN);
    cmd.current_dir(ROOT)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("breakout starts");
    drop(cmd); // our copy of the terminal's slave side
    let pid = child.id() as libc::pid_t;
    let (done, wait_done) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if wait_done.recv_timeout(Duration::from_secs(300)).is_err() {
            // SAFETY: our own child, not yet reaped (the reader has not finished).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut terminal = fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match terminal.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux: EIO once the child has closed the last slave descriptor.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("reading the terminal: {e}"),
        }
    }
    let _ = done.send(());
    let status = child.wait().unwrap();
    watchdog.join().unwrap();
    (status.code(), String::from_utf8(out).expect("UTF-8 output"))
}

#[cfg(unix)]
#[test]
fn colours_on_a_terminal_unless_no_color() {
    let args = ["scan", "samples/k8s/vulnerable"];
    let (code, coloured) = on_terminal(&args, &[]);
    assert_eq!(code, Some(1));
    assert!(
        coloured.contains("\x1b[1mSummary\x1b[0m"),
        "bold heading on a terminal:\n{coloured}"
    );
    assert!(coloured.contains("BRK201"), "{coloured}");

    let (code, plain) = on_terminal(&args, &[("NO_COLOR", "1")]);
    assert_eq!(code, Some(1));
    assert!(!plain.contains('\x1b'), "NO_COLOR=1:\n{plain}");
    assert!(
        plain.contains("Summary") && plain.contains("BRK201"),
        "{plain}"
    );

    // An empty NO_COLOR does not count (no-color.org).
    let (_, empty) = on_terminal(&args, &[("NO_COLOR", "")]);
    assert!(empty.contains("\x1b["), "NO_COLOR='':\n{empty}");

    // JSON never has colours, terminal or not.
    let (code, json) = on_terminal(&["scan", ORDERS, "--format", "json"], &[]);
    assert_eq!(code, Some(1));
    assert!(!json.contains('\x1b'), "{json}");
}

#[cfg(unix)]
#[test]
fn output_file_has_no_colours_even_from_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.txt");
    let (code, shown) = on_terminal(
        &[
            "scan",
            "samples/k8s/vulnerable",
            "-o",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert_eq!(shown, "", "nothing on the terminal");
    let written = fs::read_to_string(&path).unwrap();
    assert!(!written.contains('\x1b'), "{written}");
    assert_eq!(
        written,
        breakout(&["scan", "samples/k8s/vulnerable"]).stdout
    );
}

#[test]
fn table_summarises_findings_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir(root.join("repo")).unwrap();
    fs::copy(
        Path::new(ROOT).join(ORDERS),
        root.join("repo/orders-api.yaml"),
    )
    .unwrap();
    fs::write(
        root.join("repo/ci.yaml"),
        "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    )
    .unwrap();
    fs::write(
        root.join("repo/broken.json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [],\n}\n",
    )
    .unwrap();
    let run = breakout_in(root, &["scan", "repo"]);
    run.assert_code(2);
    let out = &run.stdout;
    assert!(out.starts_with("repo/orders-api.yaml\n"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("BRK301"))
        .expect("a row for BRK301");
    assert!(
        row.contains("36:9") && row.contains("high") && row.contains("Deployment shop/orders-api"),
        "{row}"
    );
    assert!(out.contains("\nSummary\n"), "{out}");
    assert!(
        out.contains("4 findings: 0 critical, 1 high, 2 medium, 1 low\n"),
        "{out}"
    );
    assert!(
        out.contains("Files: 1 scanned, 1 skipped, 1 failed"),
        "{out}"
    );
    let could_not = out.find("Could not scan\n").expect("failures listed");
    assert!(
        out[could_not..].contains("  repo/broken.json:3:18: Trailing commas are not allowed"),
        "{out}"
    );
    assert_eq!(
        run.stderr,
        "breakout: error: repo/broken.json:3:18: Trailing commas are not allowed\n"
    );
}

// ---------------------------------------------------------------------------------
// The samples

#[test]
fn hardened_samples_have_no_findings() {
    let dirs = sample_dirs("hardened");
    assert!(dirs.len() >= 2, "{dirs:?}");
    let files: usize = dirs
        .iter()
        .map(|d| readable_files_under(&Path::new(ROOT).join(d)))
        .sum();
    let mut args = vec!["scan"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--format", "json"]);
    let run = breakout(&args);
    run.assert_code(0);
    let report = run.json();
    assert_eq!(report["findings"], json!([]), "{:#}", report["findings"]);
    assert_eq!(report["errors"], json!([]));
    assert_eq!(
        report["skipped"],
        json!([]),
        "every hardened sample is read"
    );
    assert_eq!(report["summary"]["files_scanned"], files);
    assert!(report["summary"]["workloads"].as_u64().unwrap() >= 7);

    let mut args = vec!["scan"];
    args.extend(dirs.iter().map(String::as_str));
    let table = breakout(&args);
    table.assert_code(0);
    assert!(table.stdout.contains("No findings."), "{}", table.stdout);
}

#[test]
fn vulnerable_samples_fire_every_kubernetes_and_iam_rule() {
    let k8s = breakout(&["scan", "samples/k8s/vulnerable", "--format", "json"]);
    k8s.assert_code(1);
    assert_eq!(
        k8s.rules(),
        set(&[
            "BRK201", "BRK202", "BRK301", "BRK302", "BRK401", "BRK503", "BRK504", "BRK601",
            "BRK602", "BRK603", "BRK604",
        ])
    );
    let iam = breakout(&["scan", "samples/iam/vulnerable", "--format", "json"]);
    iam.assert_code(1);
    assert_eq!(iam.rules(), set(&["BRK101", "BRK102", "BRK103", "BRK104"]));

    // Every vulnerable sample demonstrates something.
    for (run, dir) in [
        (&k8s, "samples/k8s/vulnerable"),
        (&iam, "samples/iam/vulnerable"),
    ] {
        let report = run.json();
        assert_eq!(report["errors"], json!([]));
        let with_findings: BTreeSet<String> = findings(&report)
            .into_iter()
            .map(|(f, _, _, _)| f)
            .collect();
        for file in files_in(&Path::new(ROOT).join(dir)) {
            let name = format!("{dir}/{}", file.file_name().unwrap().to_str().unwrap());
            assert!(with_findings.contains(&name), "{name} has no finding");
        }
    }
}

#[test]
fn vulnerable_samples_fire_the_rules_their_comments_name() {
    let dir = "samples/k8s/vulnerable";
    let report = breakout(&["scan", dir, "--format", "json"]).json();
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, rule, _, _) in findings(&report) {
        fired.entry(file).or_default().insert(rule);
    }
    for file in files_in(&Path::new(ROOT).join(dir)) {
        let text = fs::read_to_string(&file).unwrap();
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        let named: BTreeSet<String> = header
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                w.len() == 6 && w.starts_with("BRK") && w[3..].bytes().all(|b| b.is_ascii_digit())
            })
            .map(str::to_string)
            .collect();
        let name = format!("{dir}/{}", file.file_name().unwrap().to_str().unwrap());
        assert!(!named.is_empty(), "{name}: its header names no rule");
        let got = fired.get(&name).cloned().unwrap_or_default();
        let missing: Vec<_> = named.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "{name}: the header names {missing:?} but they do not fire (fired {got:?})"
        );
    }
}

#[test]
fn escape_path_sample_gives_critical_and_high_paths_with_their_steps() {
    let dir = "samples/escape-path/vulnerable";
    let run = breakout(&["scan", dir, "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    assert_eq!(report["errors"], json!([]));
    let paths: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "BRK901")
        .collect();
    let got: BTreeSet<(String, String)> = paths
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("critical", "Deployment ci/image-builder"),
        ("high", "Deployment payments/payments-api"),
        ("high", "aws_ecs_task_definition.reports"),
    ]
    .iter()
    .map(|(s, r)| (s.to_string(), r.to_string()))
    .collect();
    assert_eq!(got, expected);
    let builder = paths
        .iter()
        .find(|f| f["resource"] == "Deployment ci/image-builder")
        .unwrap();
    assert_eq!(
        builder["message"],
        "Deployment ci/image-builder → docker.sock (BRK201), 169.254.169.254 (BRK503) + hop limit 2 (BRK502) → node group escape-demo/default → role eks-node → AmazonDynamoDBFullAccess: every DynamoDB action on every table"
    );
    let steps = builder["steps"].as_array().unwrap();
    let rules: Vec<&str> = steps.iter().map(|s| s["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["BRK201", "BRK503", "BRK502", "", "", "", "BRK103"]);
    for s in steps {
        let text = fs::read_to_string(Path::new(ROOT).join(s["file"].as_str().unwrap())).unwrap();
        let line = s["line"].as_u64().unwrap() as usize;
        assert!(line >= 1 && line <= text.lines().count(), "{s:#}");
        assert!(!s["what"].as_str().unwrap().is_empty());
    }
    // The table: the path on one line of the message, its steps indented under it.
    let table = breakout(&["scan", dir, "--only", "BRK901"]).stdout;
    assert!(
        table.contains("↳ BRK201 line 31: container builder mounts"),
        "{table}"
    );
    assert!(
        table.contains("↳ BRK502 samples/escape-path/vulnerable/eks.tf:32:"),
        "{table}"
    );
    // Every file's header names rules that fire on it.
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, rule, _, _) in findings(&report) {
        fired.entry(file).or_default().insert(rule);
    }
    for name in [
        "eks.tf",
        "iam.tf",
        "ecs.tf",
        "manifests/image-builder.yaml",
        "manifests/payments-api.yaml",
    ] {
        let text = fs::read_to_string(Path::new(ROOT).join(dir).join(name)).unwrap();
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        let named: BTreeSet<String> = header
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() == 6 && w.starts_with("BRK"))
            .map(str::to_string)
            .collect();
        let file = format!("{dir}/{name}");
        // BRK901 is reported on the workload's file: the node's and the IRSA role's
        // files name it for the path they end.
        let got = fired.get(&file).cloned().unwrap_or_default();
        let elsewhere = |r: &str| r == "BRK901" && (name == "eks.tf" || name == "iam.tf");
        let missing: Vec<_> = named
            .iter()
            .filter(|r| !got.contains(*r) && !elsewhere(r))
            .collect();
        assert!(
            missing.is_empty(),
            "{file}: {missing:?} named but not fired ({got:?})"
        );
    }
}
