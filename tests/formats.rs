//! The CI formats on the samples: SARIF validated against the official 2.1.0 schema
//! (vendored in tests/data), JUnit parsed back, GitHub workflow commands escaped as
//! the runner requires, and several formats written by one scan.

mod common;

use common::{breakout, command, finish, ROOT};
use serde_json::Value;
use std::fs;
use std::path::Path;

fn schema() -> jsonschema::Validator {
    let text = fs::read_to_string(Path::new(ROOT).join("tests/data/sarif-schema-2.1.0.json"))
        .expect("the vendored schema");
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft4::new(&schema).expect("the schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, sarif: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Every sample folder, scanned on its own.
fn sample_folders() -> Vec<String> {
    let mut out = Vec::new();
    for kind in fs::read_dir(Path::new(ROOT).join("samples")).unwrap() {
        let kind = kind.unwrap().file_name().into_string().unwrap();
        for variant in ["vulnerable", "hardened"] {
            out.push(format!("samples/{kind}/{variant}"));
        }
    }
    out.sort();
    out
}

#[test]
fn sarif_of_every_sample_validates_against_the_official_schema() {
    let validator = schema();
    // The validator itself rejects a broken log.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]});
    assert!(!validator.is_valid(&broken), "driver.name is required");
    let mut results = 0;
    for folder in sample_folders() {
        let run = breakout(Path::new(ROOT), &["scan", &folder, "-f", "sarif"]);
        assert!(matches!(run.code, Some(0 | 1)), "{folder}: {}", run.stderr);
        let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_valid(&validator, &sarif, &folder);
        let json = breakout(Path::new(ROOT), &["scan", &folder, "-f", "json"]).json();
        let found = sarif["runs"][0]["results"].as_array().unwrap().len();
        assert_eq!(
            found,
            json["findings"].as_array().unwrap().len(),
            "{folder}"
        );
        results += found;
    }
    assert!(results > 100, "{results}");
}

#[test]
fn sarif_carries_rules_locations_fingerprints_and_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    let k8s = fs::read_to_string(Path::new(ROOT).join("samples/k8s/vulnerable/orders-api.yaml"))
        .unwrap()
        .replace(
            "        runAsUser: 0\n",
            "        runAsUser: 0 # breakout:ignore BRK301 migrating to uid 10001 in PR 812\n",
        );
    fs::create_dir_all(dir.path().join("k8s")).unwrap();
    fs::write(dir.path().join("k8s/orders api.yaml"), k8s).unwrap();
    fs::write(
        dir.path().join(".breakout.yaml"),
        "ignore:\n  - rule: BRK401\n    reason: scratch space in the image\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    let run = breakout(dir.path(), &["scan", ".", "-f", "sarif"]);
    run.assert_code(2);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid(&schema(), &sarif, "suppressions and errors");
    let run0 = &sarif["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "breakout");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(
        rules.len(),
        breakout::engine::builtin().len(),
        "every rule that ran"
    );
    let socket = rules.iter().find(|r| r["id"] == "BRK201").unwrap();
    assert_eq!(socket["name"], "runtime-socket-mount");
    assert_eq!(socket["properties"]["security-severity"], "9.5");
    assert!(socket["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("security")));
    assert!(socket["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("**How to fix**"));
    assert!(!socket["shortDescription"]["text"]
        .as_str()
        .unwrap()
        .is_empty());
    assert!(!socket["fullDescription"]["text"]
        .as_str()
        .unwrap()
        .is_empty());
    for (id, score) in [("BRK301", "8.0"), ("BRK604", "5.5"), ("BRK401", "3.0")] {
        let r = rules.iter().find(|r| r["id"] == id).unwrap();
        assert_eq!(r["properties"]["security-severity"], score, "{id}");
    }

    let results = run0["results"].as_array().unwrap();
    let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    let root_user = by_rule("BRK301");
    assert_eq!(root_user["level"], "error");
    assert_eq!(
        rules[root_user["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "BRK301"
    );
    let loc = &root_user["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "k8s/orders%20api.yaml");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 36);
    assert_eq!(loc["region"]["startColumn"], 9);
    assert_eq!(
        root_user["partialFingerprints"]["breakout/v1"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
    let s = &root_user["suppressions"][0];
    assert_eq!(s["kind"], "inSource");
    assert_eq!(s["status"], "accepted");
    assert_eq!(s["justification"], "migrating to uid 10001 in PR 812");
    let s = &by_rule("BRK401")["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["justification"], "scratch space in the image");
    assert!(by_rule("BRK604").get("suppressions").is_none());
    assert_eq!(by_rule("BRK604")["level"], "warning");
    assert_eq!(by_rule("BRK401")["level"], "note");
    let root = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );

    let invocation = &run0["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.yaml"
    );
}

#[test]
fn junit_parses_back_with_a_suite_per_file_and_skipped_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let k8s = fs::read_to_string(
        Path::new(ROOT).join("samples/k8s/vulnerable/log-agent-daemonset.yaml"),
    )
    .unwrap()
    .replace(
        "            path: /var/log\n",
        "            path: /var/log # breakout:ignore BRK202 tails node logs\n",
    )
    .replace(
        "            path: /var/lib/docker/containers\n",
        "            path: /var/lib/docker/containers # breakout:ignore BRK202 reads container logs\n",
    );
    fs::write(dir.path().join("log-agent.yaml"), k8s).unwrap();
    for f in [
        "orders-api-policy.json",
        "orders-table-resource-policy.json",
    ] {
        fs::copy(
            Path::new(ROOT).join("samples/iam/hardened").join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    fs::write(dir.path().join("broken.json"), "{\"Statement\": [}\n").unwrap();
    let run = breakout(dir.path(), &["scan", ".", "-f", "junit"]);
    run.assert_code(2);
    let report = quick_junit::Report::deserialize_from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        suites,
        [
            "./broken.json",
            "./log-agent.yaml",
            "./orders-api-policy.json",
            "./orders-table-resource-policy.json"
        ]
    );
    let agent = &report.test_suites[1];
    let json = breakout(dir.path(), &["scan", "log-agent.yaml", "-f", "json"]).json();
    let pairs: std::collections::BTreeSet<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().into(),
                f["resource"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        agent.test_cases.len(),
        pairs.len(),
        "one case per rule and resource"
    );
    let case = |prefix: &str| {
        agent
            .test_cases
            .iter()
            .find(|c| c.name.as_str().starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
    };
    let mounts = case("BRK202 sensitive-host-path: DaemonSet logging/fluent-bit");
    match &mounts.status {
        quick_junit::TestCaseStatus::Skipped { message, .. } => {
            let m = message.as_ref().unwrap().as_str();
            assert!(
                m.contains("suppressed (inline): reads container logs"),
                "{m}"
            );
            assert!(m.contains("suppressed (inline): tails node logs"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    let socket = case("BRK201 runtime-socket-mount");
    match &socket.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            ..
        } => {
            assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
            assert_eq!(ty.as_ref().unwrap().as_str(), "critical");
            assert!(message
                .as_ref()
                .unwrap()
                .as_str()
                .contains("/var/run/docker.sock"));
            assert!(description
                .as_ref()
                .unwrap()
                .as_str()
                .contains("How to fix"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        socket.classname.as_ref().unwrap().as_str(),
        "breakout.BRK201"
    );
    assert_eq!(agent.failures, pairs.len() - 1);
    assert_eq!(agent.skipped, 1);
    assert!(report.test_suites[2].test_cases.is_empty(), "a clean file");
    let broken = &report.test_suites[0].test_cases[0];
    assert!(matches!(
        broken.status,
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Error,
            ..
        }
    ));
    // Deterministic: no timestamps, same bytes twice.
    assert!(!run.stdout.contains("timestamp"));
    assert_eq!(
        run.stdout,
        breakout(dir.path(), &["scan", ".", "-f", "junit"]).stdout
    );
}

#[test]
fn github_commands_are_escaped_as_the_runner_requires() {
    let dir = tempfile::tempdir().unwrap();
    // A file name with a comma and a colon, and a workload name with a line break, a
    // percent sign and a terminal escape (legal in a YAML double-quoted string).
    fs::create_dir_all(dir.path().join("k8s")).unwrap();
    fs::write(
        dir.path().join("k8s/app,v2:blue.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\n::error::100%\\e[2J\"\nspec:\n  containers:\n    - name: app\n      image: app:1\n      securityContext:\n        privileged: true\n        runAsNonRoot: true\n        allowPrivilegeEscalation: false\n        readOnlyRootFilesystem: true\n",
    )
    .unwrap();
    let run = breakout(dir.path(), &["scan", ".", "-f", "github"]);
    run.assert_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("::")), "{}", run.stdout);
    let privileged = lines
        .iter()
        .find(|l| l.contains("title=BRK601 privileged-container"))
        .unwrap();
    assert!(
        privileged.starts_with(
            "::error file=k8s/app%2Cv2%3Ablue.yaml,line=10,col=9,title=BRK601 privileged-container::Pod evil%0A::error::100%25\\u{1b}[2J"
        ),
        "{privileged}"
    );
    assert!(!run.stdout.contains('\u{1b}'));
    let medium = lines.iter().find(|l| l.contains("title=BRK503")).unwrap();
    assert!(medium.starts_with("::warning "), "{medium}");
    // Suppressed findings are not annotated; stale suppressions are warnings.
    let text = fs::read_to_string(dir.path().join("k8s/app,v2:blue.yaml"))
        .unwrap()
        .replace(
            "privileged: true",
            "privileged: true # breakout:ignore BRK601,BRK302 GPU driver installer",
        );
    fs::write(dir.path().join("k8s/app,v2:blue.yaml"), text).unwrap();
    let run = breakout(dir.path(), &["scan", ".", "-f", "github"]);
    assert!(
        !run.stdout.contains("BRK601 privileged-container"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "::warning file=k8s/app%2Cv2%3Ablue.yaml,line=10,col=26,title=breakout stale suppression::breakout:ignore BRK302: matched no finding"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn several_formats_from_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let sarif = format!("{out}/breakout.sarif");
    let junit = format!("{out}/breakout.xml");
    let run = breakout(
        Path::new(ROOT),
        &[
            "scan",
            "samples/k8s",
            "-f",
            "sarif",
            "-o",
            &sarif,
            "-f",
            "table",
            "--format",
            "junit",
            "--output",
            &junit,
        ],
    );
    run.assert_code(1);
    assert!(run.stdout.contains("Summary"), "the table on stdout");
    let s: Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    quick_junit::Report::deserialize_from_str(&fs::read_to_string(&junit).unwrap()).unwrap();

    // The old single pair still works in either order.
    let json = format!("{out}/r.json");
    breakout(
        Path::new(ROOT),
        &["scan", "samples/k8s", "-o", &json, "-f", "json"],
    )
    .assert_code(1);
    assert!(fs::read_to_string(&json)
        .unwrap()
        .contains("schema_version"));

    for (args, message) in [
        (
            vec!["-f", "json", "-f", "sarif"],
            "2 formats would go to standard output (json, sarif)",
        ),
        (
            vec!["-o", "x.json", "-f", "json", "-f", "sarif"],
            "--output x.json comes before any --format",
        ),
        (
            vec!["-f", "json", "-o", "a.json", "-o", "b.json", "-f", "table"],
            "--format json is followed by two outputs",
        ),
    ] {
        let mut all = vec!["scan", "samples/k8s"];
        all.extend(args);
        let run = breakout(dir.path(), &all);
        run.assert_code(2);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
}

#[test]
fn quiet_prints_only_the_report_and_pipes_get_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    // A broken manifest: ours by its content, so an error (exit 2).
    fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    fs::copy(
        Path::new(ROOT).join("samples/k8s/vulnerable/orders-api.yaml"),
        dir.path().join("orders.yaml"),
    )
    .unwrap();
    let loud = breakout(dir.path(), &["scan", ".", "-f", "json"]);
    loud.assert_code(2);
    assert!(loud.stderr.contains("breakout: error: ./broken.yaml:"));
    let quiet = breakout(dir.path(), &["scan", ".", "-f", "json", "--quiet"]);
    quiet.assert_code(2);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, loud.stdout);
    // A long scan on a pipe: nothing on stderr but what is wrong (no progress bar).
    let run =
        finish(command(Path::new(ROOT), &["scan", "samples", "-f", "json"]).env("CI", "true"));
    run.assert_code(1);
    assert_eq!(run.stderr, "");
}

/// An escape path reaches code scanning as a flow: its steps, in order, each at the
/// file and line that shows it.
#[test]
fn sarif_escape_paths_carry_their_steps_as_code_flows() {
    let run = breakout(
        Path::new(ROOT),
        &["scan", "samples/escape-path/vulnerable", "-f", "sarif"],
    );
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid(&schema(), &sarif, "escape paths");
    let json = breakout(
        Path::new(ROOT),
        &["scan", "samples/escape-path/vulnerable", "-f", "json"],
    )
    .json();
    let paths: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "BRK901")
        .collect();
    assert!(!paths.is_empty());
    for r in paths {
        let steps = r["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .expect("a flow");
        assert!(steps.len() >= 3, "{r:#}");
        let finding = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["message"] == r["message"]["text"])
            .expect("the same finding in JSON");
        let want = finding["steps"].as_array().unwrap();
        assert_eq!(steps.len(), want.len());
        for (i, (s, w)) in steps.iter().zip(want).enumerate() {
            assert_eq!(s["executionOrder"], i);
            let region = &s["location"]["physicalLocation"]["region"];
            assert_eq!(region["startLine"], w["line"]);
        }
    }
}
