//! Suppressions as a team adopting breakout writes them: inline comments in every input
//! kind that has comments (Kubernetes YAML, compose, Dockerfile, Terraform with `#`,
//! `//` and `/* */`), the Kubernetes annotation, `.breakout.yaml` entries for the JSON
//! inputs (IAM, ECS), baselines, stale suppressions, `--require-reason`, and the
//! configuration file's other keys and its errors.
//!
//! Each test copies the samples into a temporary repository and edits them there.

mod common;

use common::{breakout, Run, ROOT};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// A temporary repository (it has a `.git` folder) holding copies of samples.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        Repo { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies a sample file or folder to `to` inside the repository.
    fn copy(&self, sample: &str, to: &str) -> &Repo {
        copy_tree(&Path::new(ROOT).join(sample), &self.path().join(to));
        self
    }

    fn write(&self, to: &str, text: &str) -> &Repo {
        common::write_file(self.path(), to, text);
        self
    }

    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.path().join(file)).unwrap()
    }

    /// Puts `comment` on its own line above the first line containing `needle`,
    /// with that line's indentation.
    fn above(&self, file: &str, needle: &str, comment: &str) -> &Repo {
        let text = self.read(file);
        let mut out = Vec::new();
        let mut done = false;
        for line in text.lines() {
            if !done && code(line) && line.contains(needle) {
                let indent: String = line.chars().take_while(|c| *c == ' ').collect();
                out.push(format!("{indent}{comment}"));
                done = true;
            }
            out.push(line.to_string());
        }
        assert!(done, "{needle} not in {file}");
        self.write(file, &(out.join("\n") + "\n"))
    }

    /// Appends ` comment` to the first line containing `needle`.
    fn after(&self, file: &str, needle: &str, comment: &str) -> &Repo {
        let text = self.read(file);
        let mut done = false;
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                if !done && code(l) && l.contains(needle) {
                    done = true;
                    format!("{l} {comment}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert!(done, "{needle} not in {file}");
        self.write(file, &(lines.join("\n") + "\n"))
    }

    /// 1-based line of the first line, comment or not, containing `needle`.
    fn comment_line(&self, file: &str, needle: &str) -> u64 {
        self.read(file)
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {file}")) as u64
            + 1
    }

    /// 1-based line of the first code line containing `needle`.
    fn line_of(&self, file: &str, needle: &str) -> u64 {
        self.read(file)
            .lines()
            .position(|l| code(l) && l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in {file}")) as u64
            + 1
    }

    fn scan(&self, args: &[&str]) -> Run {
        breakout(self.path(), args)
    }
}

/// A line that is not only a comment (the samples explain themselves in comments).
fn code(line: &str) -> bool {
    !line.trim_start().starts_with('#')
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}

/// `(file, rule, line) -> finding` of a JSON report.
fn by_place(report: &Value) -> Vec<(String, String, u64, Value)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f.clone(),
            )
        })
        .collect()
}

/// The suppression of the findings of `rule` in `file` (at `line` when given).
fn suppressions(report: &Value, file: &str, rule: &str, line: Option<u64>) -> Vec<Value> {
    let found: Vec<Value> = by_place(report)
        .into_iter()
        .filter(|(f, r, l, _)| f == file && r == rule && line.is_none_or(|x| x == *l))
        .map(|(_, _, _, f)| f["suppression"].clone())
        .collect();
    assert!(!found.is_empty(), "no {rule} finding in {file} at {line:?}");
    found
}

/// The suppression of a single finding.
fn suppression(report: &Value, file: &str, rule: &str, line: Option<u64>) -> Value {
    let all = suppressions(report, file, rule, line);
    assert_eq!(all.len(), 1, "{rule} in {file}: {all:?}");
    all.into_iter().next().unwrap()
}

fn assert_suppressed(s: &Value, kind: &str, reason: Option<&str>, file: &str, line: u64) {
    assert_eq!(s["kind"], kind, "{s}");
    assert_eq!(s["reason"].as_str(), reason, "{s}");
    assert_eq!(s["file"], file, "{s}");
    assert_eq!(s["line"], line, "{s}");
}

/// The repository every suppression test starts from: one file of each kind.
fn adopted_repo() -> Repo {
    let repo = Repo::new();
    repo.copy(
        "samples/k8s/vulnerable/log-agent-daemonset.yaml",
        "k8s/log-agent.yaml",
    )
    .copy(
        "samples/compose/vulnerable/docker-compose.yml",
        "compose/docker-compose.yml",
    )
    .copy("samples/docker/vulnerable/Dockerfile", "docker/Dockerfile")
    .copy("samples/terraform/vulnerable", "terraform")
    .copy(
        "samples/iam/vulnerable/orders-api-policy.json",
        "iam/orders-api-policy.json",
    )
    .copy(
        "samples/ecs/vulnerable/ci-agent-task.json",
        "ecs/ci-agent-task.json",
    );
    // Kubernetes: trailing comment on the offending key; comment above the workload's
    // first line (all its findings of that rule); the annotation on the pod template.
    repo.after(
        "k8s/log-agent.yaml",
        "path: /var/log",
        "# breakout:ignore BRK202 fluent-bit tails the node's logs",
    )
    .above(
        "k8s/log-agent.yaml",
        "apiVersion: apps/v1",
        "# breakout:ignore imds-egress-unblocked,BRK601 the logging namespace has an egress firewall",
    );
    let text = repo.read("k8s/log-agent.yaml").replacen(
        "  template:\n    metadata:\n",
        "  template:\n    metadata:\n      annotations:\n        breakout.dev/ignore: \"BRK401=buffers in /tmp, BRK604\"\n",
        1,
    );
    repo.write("k8s/log-agent.yaml", &text);
    // Compose: a comment above the service (whole service) and above a volume line.
    repo.above(
        "compose/docker-compose.yml",
        "  node-exporter:",
        "# breakout:ignore BRK504,BRK603,host-pid-ipc node-exporter reads host metrics",
    )
    .above(
        "compose/docker-compose.yml",
        "/var/run/docker.sock:/var/run/docker.sock",
        "# breakout:ignore runtime-socket-mount: the runner drives the host's Docker",
    );
    // Dockerfile: a comment above the final stage's FROM.
    repo.above(
        "docker/Dockerfile",
        "FROM python:3.12-slim",
        "# breakout:ignore BRK303 the entrypoint drops to uid 10001 with gosu",
    );
    // Terraform: `#` above a resource (all its findings of those rules), `//` trailing,
    // `/* */` trailing.
    repo.above(
        "terraform/ecs.tf",
        "resource \"aws_ecs_task_definition\" \"ci_agent\"",
        "# breakout:ignore BRK601,BRK401 the CI agent builds images with the host daemon",
    )
    .after(
        "terraform/eks.tf",
        "http_put_response_hop_limit = var.node_imds_hop_limit",
        "// breakout:ignore imds-hop-limit pods use IRSA, never the node role",
    )
    .after(
        "terraform/iam.tf",
        "Action   = \"dynamodb:*\"",
        "/* breakout:ignore BRK101 orders-api owns the whole orders table */",
    );
    // The annotation in Terraform's kubernetes provider.
    let text = repo.read("terraform/kubernetes.tf").replacen(
        "    labels = {\n      app = \"image-builder\"\n    }\n  }\n",
        "    labels = {\n      app = \"image-builder\"\n    }\n    annotations = {\n      \"breakout.dev/ignore\" = \"BRK604=the builder needs setuid, BRK401\"\n    }\n  }\n",
        1,
    );
    assert!(text.contains("breakout.dev/ignore"));
    repo.write("terraform/kubernetes.tf", &text);
    // JSON has no comments: the configuration file.
    repo.write(
        ".breakout.yaml",
        "# Accepted risks, reviewed quarterly.\n\
         ignore:\n\
         \x20 - rule: BRK102\n\
         \x20   paths: [\"iam/*.json\"]\n\
         \x20   resources: [\"IAM policy orders-api-*\"]\n\
         \x20   reason: the orders table is the account's only table\n\
         \x20 - rule: privileged-container\n\
         \x20   paths: [\"ecs/**\"]\n\
         \x20   reason: docker-in-docker build agent\n\
         \x20   expires: 2999-12-31\n\
         \x20 - rule: BRK301\n\
         \x20   paths: [\"ecs/**\"]\n\
         \x20   reason: was accepted until the agent moved to kaniko\n\
         \x20   expires: 2020-01-31\n\
         \x20 - rule: BRK504\n\
         \x20   paths: [\"k8s/**\"]\n\
         \x20   reason: nothing in k8s/ uses the host network\n",
    );
    repo
}

#[test]
fn suppressions_in_every_input_kind() {
    let repo = adopted_repo();
    let run = repo.scan(&["scan", ".", "--format", "json"]);
    run.assert_code(1);
    let report = run.json();
    let k8s = "./k8s/log-agent.yaml";
    let at = |file: &str, needle: &str| repo.line_of(file.trim_start_matches("./"), needle);
    let comment =
        |file: &str, needle: &str| repo.comment_line(file.trim_start_matches("./"), needle);

    // Kubernetes.
    assert_suppressed(
        &suppression(&report, k8s, "BRK202", Some(at(k8s, "path: /var/log"))),
        "inline",
        Some("fluent-bit tails the node's logs"),
        k8s,
        at(k8s, "path: /var/log"),
    );
    let other_mount = suppression(
        &report,
        k8s,
        "BRK202",
        Some(at(k8s, "path: /var/lib/docker/containers")),
    );
    assert!(
        other_mount.is_null(),
        "only the commented line: {other_mount}"
    );
    assert_suppressed(
        &suppression(&report, k8s, "BRK503", None),
        "inline",
        Some("the logging namespace has an egress firewall"),
        k8s,
        comment(k8s, "breakout:ignore imds-egress-unblocked"),
    );
    let annotation_line = at(k8s, "breakout.dev/ignore");
    assert_suppressed(
        &suppression(&report, k8s, "BRK401", None),
        "annotation",
        Some("buffers in /tmp"),
        k8s,
        annotation_line,
    );
    assert_suppressed(
        &suppression(&report, k8s, "BRK604", None),
        "annotation",
        None,
        k8s,
        annotation_line,
    );
    assert!(suppression(&report, k8s, "BRK201", None).is_null());
    assert!(suppression(&report, k8s, "BRK301", None).is_null());

    // Compose: the whole node-exporter service, and one volume line of the runner.
    let compose = "./compose/docker-compose.yml";
    let service_comment = comment(compose, "node-exporter reads host metrics");
    for rule in ["BRK504", "BRK603"] {
        for s in suppressions(&report, compose, rule, None)
            .iter()
            .zip(
                by_place(&report)
                    .iter()
                    .filter(|(f, r, ..)| f == compose && r == rule),
            )
            .filter(|(_, (_, _, _, f))| f["resource"] == "compose service node-exporter")
            .map(|(s, _)| s)
        {
            assert_suppressed(
                s,
                "inline",
                Some("node-exporter reads host metrics"),
                compose,
                service_comment,
            );
        }
    }
    let ipc_of_cache = by_place(&report)
        .into_iter()
        .find(|(f, r, _, x)| {
            f == compose && r == "BRK603" && x["resource"] == "compose service cache"
        })
        .unwrap();
    assert!(ipc_of_cache.3["suppression"].is_null(), "another service");
    let socket_line = at(compose, "/var/run/docker.sock:/var/run/docker.sock");
    assert_suppressed(
        &suppression(&report, compose, "BRK201", Some(socket_line)),
        "inline",
        Some("the runner drives the host's Docker"),
        compose,
        socket_line - 1,
    );

    // Dockerfile: the final stage.
    let docker = "./docker/Dockerfile";
    assert_suppressed(
        &suppression(&report, docker, "BRK303", None),
        "inline",
        Some("the entrypoint drops to uid 10001 with gosu"),
        docker,
        comment(docker, "breakout:ignore BRK303"),
    );

    // Terraform: the whole task definition for two rules, and trailing `//` and `/* */`.
    let ecs = "./terraform/ecs.tf";
    for rule in ["BRK601", "BRK401"] {
        assert_suppressed(
            &suppression(&report, ecs, rule, None),
            "inline",
            Some("the CI agent builds images with the host daemon"),
            ecs,
            comment(ecs, "breakout:ignore BRK601,BRK401"),
        );
    }
    assert!(suppression(&report, ecs, "BRK201", None).is_null());
    let eks = "./terraform/eks.tf";
    assert_suppressed(
        &suppression(&report, eks, "BRK502", None),
        "inline",
        Some("pods use IRSA, never the node role"),
        eks,
        at(eks, "http_put_response_hop_limit"),
    );
    let iam_tf = "./terraform/iam.tf";
    assert_suppressed(
        &suppression(&report, iam_tf, "BRK101", Some(at(iam_tf, "dynamodb:*"))),
        "inline",
        Some("orders-api owns the whole orders table"),
        iam_tf,
        at(iam_tf, "dynamodb:*"),
    );

    let k8s_tf = "./terraform/kubernetes.tf";
    let annotation_tf = at(k8s_tf, "breakout.dev/ignore");
    assert_suppressed(
        &suppression(&report, k8s_tf, "BRK604", None),
        "annotation",
        Some("the builder needs setuid"),
        k8s_tf,
        annotation_tf,
    );
    assert_suppressed(
        &suppression(&report, k8s_tf, "BRK401", None),
        "annotation",
        None,
        k8s_tf,
        annotation_tf,
    );
    assert!(suppression(&report, k8s_tf, "BRK201", None).is_null());

    // JSON inputs through the configuration file.
    assert_suppressed(
        &suppression(&report, "./iam/orders-api-policy.json", "BRK102", None),
        "config",
        Some("the orders table is the account's only table"),
        ".breakout.yaml",
        3,
    );
    assert!(suppression(&report, "./iam/orders-api-policy.json", "BRK101", None).is_null());
    assert_suppressed(
        &suppression(&report, "./ecs/ci-agent-task.json", "BRK601", None),
        "config",
        Some("docker-in-docker build agent"),
        ".breakout.yaml",
        7,
    );
    assert!(
        suppression(&report, "./ecs/ci-agent-task.json", "BRK301", None).is_null(),
        "expired"
    );

    // Stale: the rule the k8s comment names that never fired there, the expired entry,
    // the entry whose paths hold no such finding.
    let stale: Vec<(String, u64, String, String)> = report["stale_suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["rule"].as_str().unwrap().to_string(),
                s["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        stale,
        vec![
            (
                k8s.to_string(),
                comment(k8s, "breakout:ignore imds-egress-unblocked"),
                "BRK601".to_string(),
                "matched no finding".to_string()
            ),
            (
                ".breakout.yaml".to_string(),
                11,
                "BRK301".to_string(),
                "expired on 2020-01-31; it no longer applies".to_string()
            ),
            (
                ".breakout.yaml".to_string(),
                15,
                "BRK504".to_string(),
                "matched no finding".to_string()
            ),
        ]
    );
    for (file, line, rule, problem) in &stale {
        let warning = format!("breakout: warning: {file}:{line}:");
        let l = run
            .stderr
            .lines()
            .find(|l| l.starts_with(&warning) && l.contains(rule.as_str()))
            .unwrap_or_else(|| panic!("no warning for {file}:{line}\n{}", run.stderr));
        assert!(l.ends_with(problem.as_str()), "{l}");
    }

    // Counts: suppressed findings are in the report, not in the severity totals.
    let summary = &report["summary"];
    let total = report["findings"].as_array().unwrap().len() as u64;
    let suppressed = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppression"].is_null())
        .count() as u64;
    assert_eq!(summary["findings"], total);
    assert_eq!(summary["suppressed"], suppressed);
    assert_eq!(summary["active"], total - suppressed);
    let by_severity: u64 = summary["by_severity"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_severity, total - suppressed);
    // 4 in k8s/, 3 in compose/, 1 in docker/, 6 in terraform/, 2 by the config file.
    assert_eq!(suppressed, 16);
}

#[test]
fn suppressed_findings_do_not_fail_the_scan_but_stay_in_the_report() {
    let repo = Repo::new();
    repo.copy("samples/docker/vulnerable/Dockerfile", "Dockerfile")
        .above(
            "Dockerfile",
            "FROM python:3.12-slim",
            "# breakout:ignore BRK303 runs as uid 10001 via the entrypoint",
        );
    let run = repo.scan(&["scan", ".", "-f", "json"]);
    run.assert_code(0);
    assert_eq!(run.json()["findings"].as_array().unwrap().len(), 1);
    assert_eq!(run.json()["summary"]["suppressed"], 1);

    let table = repo.scan(&["scan", "."]);
    table.assert_code(0);
    assert!(table.stdout.contains("No findings."), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("1 suppressed (--show-suppressed lists them)"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("BRK303"), "{}", table.stdout);
    let shown = repo.scan(&["scan", ".", "--show-suppressed"]);
    assert!(shown.stdout.contains("BRK303"), "{}", shown.stdout);
    assert!(shown.stdout.contains("[suppressed"), "{}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains("1 suppressed (listed above, marked [suppressed])"),
        "{}",
        shown.stdout
    );
}

#[test]
fn require_reason_makes_a_bare_suppression_an_error_at_its_place() {
    let repo = Repo::new();
    repo.copy(
        "samples/k8s/vulnerable/orders-api.yaml",
        "k8s/orders-api.yaml",
    )
    .after(
        "k8s/orders-api.yaml",
        "runAsUser: 0",
        "# breakout:ignore BRK301",
    )
    .write(
        ".breakout.yaml",
        "ignore:\n  - rule: BRK401\n  - rule: BRK604\n    reason: the app needs setuid ping\n",
    );
    let line = repo.line_of("k8s/orders-api.yaml", "runAsUser: 0");
    // Without the flag both apply.
    let run = repo.scan(&["scan", ".", "-f", "json"]);
    for rule in ["BRK301", "BRK401", "BRK604"] {
        assert!(
            !suppression(&run.json(), "./k8s/orders-api.yaml", rule, None).is_null(),
            "{rule}"
        );
    }
    let run = repo.scan(&["scan", ".", "-f", "json", "--require-reason"]);
    run.assert_code(2);
    let col = repo
        .read("k8s/orders-api.yaml")
        .lines()
        .nth(line as usize - 1)
        .unwrap()
        .find('#')
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!(
            "breakout: error: ./k8s/orders-api.yaml:{line}:{col}: suppression of BRK301 gives no reason (--require-reason)"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "breakout: error: .breakout.yaml:2:11: suppression of BRK401 gives no reason (--require-reason)"
        ),
        "{}",
        run.stderr
    );
    let report = run.json();
    assert!(suppression(&report, "./k8s/orders-api.yaml", "BRK301", None).is_null());
    assert!(suppression(&report, "./k8s/orders-api.yaml", "BRK401", None).is_null());
    assert!(!suppression(&report, "./k8s/orders-api.yaml", "BRK604", None).is_null());
    assert_eq!(report["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn a_baseline_survives_line_shifts_and_reordering_and_lets_only_new_findings_through() {
    let repo = Repo::new();
    repo.copy("samples", "samples");
    // Two manifests in one file, to reorder them later.
    let orders = repo.read("samples/k8s/vulnerable/orders-api.yaml");
    let backup = repo.read("samples/k8s/vulnerable/db-backup-cronjob.yaml");
    repo.write(
        "samples/k8s/vulnerable/bundle.yaml",
        &format!("{orders}\n---\n{backup}"),
    );
    fs::remove_file(repo.path().join("samples/k8s/vulnerable/orders-api.yaml")).unwrap();
    fs::remove_file(
        repo.path()
            .join("samples/k8s/vulnerable/db-backup-cronjob.yaml"),
    )
    .unwrap();
    let before = repo.scan(&["scan", "samples", "-f", "json", "-o", "baseline.json"]);
    before.assert_code(1);
    let baseline: Value = serde_json::from_str(&repo.read("baseline.json")).unwrap();
    let baselined = baseline["findings"].as_array().unwrap().len();
    assert!(baselined > 100, "{baselined}");

    // Everything in the baseline: nothing active, exit 0.
    let run = repo.scan(&[
        "scan",
        "samples",
        "-f",
        "json",
        "--baseline",
        "baseline.json",
    ]);
    run.assert_code(0);
    assert_eq!(run.json()["summary"]["active"], 0);

    // Ten blank lines on top, documents swapped, a new vulnerable container, and the
    // scan started as ./samples this time.
    let shifted = format!("{}{backup}\n---\n{orders}", "\n".repeat(10));
    let with_new = shifted.replacen(
        "\n      containers:\n",
        "\n      containers:\n        - name: debug-shell\n          image: busybox:1.36\n          securityContext:\n            privileged: true\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            runAsNonRoot: true\n            runAsUser: 10001\n",
        1,
    );
    assert_ne!(with_new, shifted, "the new container went in");
    repo.write("samples/k8s/vulnerable/bundle.yaml", &with_new);
    let run = repo.scan(&[
        "scan",
        "./samples",
        "-f",
        "json",
        "--baseline",
        "baseline.json",
    ]);
    run.assert_code(1);
    let report = run.json();
    let active: Vec<(String, String, u64, Value)> = by_place(&report)
        .into_iter()
        .filter(|(.., f)| f["suppression"].is_null())
        .collect();
    assert_eq!(active.len(), 1, "{active:#?}");
    let (file, rule, _, finding) = &active[0];
    assert_eq!(file, "./samples/k8s/vulnerable/bundle.yaml");
    assert_eq!(rule, "BRK601");
    assert!(finding["message"].as_str().unwrap().contains("debug-shell"));
    // The rest are baselined, pointing into the baseline report.
    let s = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule_id"] == "BRK301"
                && f["location"]["file"] == "./samples/k8s/vulnerable/bundle.yaml"
        })
        .unwrap()["suppression"]
        .clone();
    assert_eq!(s["kind"], "baseline");
    assert_eq!(s["file"], "baseline.json");
    assert!(s["line"].as_u64().unwrap() > 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), baselined + 1);
}

#[test]
fn a_baseline_that_is_not_a_report_is_a_usage_error() {
    let repo = Repo::new();
    repo.copy("samples/k8s/vulnerable/orders-api.yaml", "orders.yaml")
        .write("not-a-report.json", "{\n  \"findings\": []\n}\n")
        .write(
            "broken.json",
            "{\n  \"schema_version\": 1,\n  \"findings\": [\n",
        );
    let run = repo.scan(&["scan", ".", "--baseline", "not-a-report.json"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("breakout: error: not-a-report.json:1:1: not a breakout JSON report"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no report on a usage error");
    let run = repo.scan(&["scan", ".", "--baseline", "broken.json"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("breakout: error: broken.json:"),
        "{}",
        run.stderr
    );
    let run = repo.scan(&["scan", ".", "--baseline", "missing.json"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("missing.json: cannot read baseline"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_and_malformed_inline_suppressions_are_stale_warnings() {
    let repo = Repo::new();
    repo.copy("samples/k8s/vulnerable/orders-api.yaml", "orders.yaml")
        .after(
            "orders.yaml",
            "runAsUser: 0",
            "# breakout:ignore BRK3O1 typo in the ID",
        )
        .above("orders.yaml", "apiVersion", "# breakout:ignore")
        .above(
            "orders.yaml",
            "kind: Deployment",
            "# breakout:ignore=BRK401",
        );
    let run = repo.scan(&["scan", "orders.yaml", "-f", "json"]);
    run.assert_code(1);
    let problems: Vec<String> = run.json()["stale_suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}:{} {}", s["line"], s["rule"], s["problem"]))
        .collect();
    assert_eq!(
        problems,
        vec![
            format!(
                "{}:\"\" \"names no rule\"",
                repo.line_of("orders.yaml", "apiVersion") - 1
            ),
            format!(
                "{}:\"\" \"must be followed by a space and rule IDs\"",
                repo.line_of("orders.yaml", "kind: Deployment") - 1
            ),
            format!(
                "{}:\"BRK3O1\" \"names no known rule (see `breakout policies`)\"",
                repo.line_of("orders.yaml", "runAsUser: 0")
            ),
        ]
    );
    // Rules that did not run are neither used nor stale.
    let run = repo.scan(&["scan", "orders.yaml", "-f", "json", "--only", "BRK401"]);
    assert_eq!(
        run.json()["stale_suppressions"].as_array().unwrap().len(),
        3
    );
    // --quiet: no warning lines.
    let quiet = repo.scan(&["scan", "orders.yaml", "-f", "json", "--quiet"]);
    assert_eq!(quiet.stderr, "");
}

#[test]
fn the_configuration_file_is_found_up_to_the_repository_root_and_never_scanned() {
    let repo = Repo::new();
    repo.copy(
        "samples/k8s/vulnerable/orders-api.yaml",
        "apps/shop/orders.yaml",
    )
    .write(".breakout.yaml", "fail-on: critical\n");
    // From a subfolder, the repository root's file applies: no critical finding, exit 0.
    let run = repo.scan(&["scan", "apps/shop", "-f", "json"]);
    run.assert_code(0);
    let report = run.json();
    assert!(report["skipped"].as_array().unwrap().is_empty(), "{report}");
    // The command line overrides the file.
    repo.scan(&["scan", "apps/shop", "--fail-on", "high"])
        .assert_code(1);
    // A nearer file wins.
    repo.write("apps/.breakout.yaml", "fail-on: high\n");
    repo.scan(&["scan", "apps/shop/orders.yaml"]).assert_code(1);
    // --config names another.
    repo.write(
        "ci/strict.yaml",
        "fail-on: low\nskip: [BRK301, BRK401, BRK503, BRK604]\n",
    );
    repo.scan(&["scan", "apps", "--config", "ci/strict.yaml"])
        .assert_code(0);
    // Scanning the folder that holds it does not scan it as an input.
    let run = repo.scan(&["scan", ".", "-f", "json", "--config", "ci/strict.yaml"]);
    let skipped = run.json()["skipped"].clone();
    assert!(skipped.as_array().unwrap().is_empty(), "{skipped}");

    // Above the repository root nothing is read.
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join(".breakout.yaml"), "fail-on: critical\n").unwrap();
    let inner = outer.path().join("repo");
    fs::create_dir_all(inner.join(".git")).unwrap();
    copy_tree(
        &Path::new(ROOT).join("samples/k8s/vulnerable/orders-api.yaml"),
        &inner.join("orders.yaml"),
    );
    breakout(&inner, &["scan", "."]).assert_code(1);
}

#[test]
fn configuration_keys_apply() {
    let repo = Repo::new();
    repo.copy(
        "samples/docker/vulnerable/worker.Dockerfile",
        "docker/worker.Dockerfile",
    )
    .copy(
        "samples/k8s/vulnerable/orders-api.yaml",
        "k8s/orders-api.yaml",
    )
    .copy(
        "samples/k8s/vulnerable/search-statefulset.yaml",
        "vendor/search.yaml",
    )
    .copy("samples/terraform/vulnerable", "tf");
    let policies = repo.path().join("policies");
    fs::create_dir_all(&policies).unwrap();
    fs::write(
        policies.join("ACME001.yaml"),
        "id: ACME001\nslug: no-latest\ntitle: Image tag latest\nseverity: low\nrationale: r\nremediation: pin it\nselect: \"$.containers[?@.image == 'busybox:latest']\"\nmessage: \"{resource} uses latest\"\n",
    )
    .unwrap();
    let base = repo.scan(&["scan", ".", "-f", "json"]);
    let base_rules = base.rules();
    assert!(base_rules.contains("BRK301"));
    assert!(by_place(&base.json())
        .iter()
        .any(|(f, ..)| f.starts_with("./vendor/")));

    repo.write(
        ".breakout.yaml",
        "fail-on: high\nfail-on-confidence: high\nskip: [BRK503]\nseverity:\n  BRK604: critical\n\
         exclude: [\"vendor/**\"]\npolicies: [policies]\ndocker-target: build\n\
         terraform:\n  vars:\n    node_imds_hop_limit: 1\n",
    );
    let run = repo.scan(&["scan", ".", "-f", "json"]);
    run.assert_code(1);
    let report = run.json();
    let places = by_place(&report);
    assert!(
        !places.iter().any(|(f, ..)| f.starts_with("./vendor/")),
        "excluded"
    );
    assert!(!run.rules().contains("BRK503"), "skipped");
    let esc = places.iter().find(|(_, r, ..)| r == "BRK604").unwrap();
    assert_eq!(esc.3["severity"], "critical", "severity override");
    // The hop limit variable resolves to 1: no BRK502 in tf/.
    assert!(!places
        .iter()
        .any(|(f, r, ..)| f.starts_with("./tf/") && r == "BRK502"));
    assert!(base.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == "BRK502"));
    // docker-target: the build stage of worker.Dockerfile is judged, not its last.
    let image = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["file"] == "./docker/worker.Dockerfile")
        .map(|f| f["resource"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let base_image = base.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["file"] == "./docker/worker.Dockerfile")
        .map(|f| f["resource"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_ne!(image, &base_image, "{image:?} vs {base_image:?}");
    // The command line overrides: --skip replaces the file's list.
    let run = repo.scan(&["scan", ".", "-f", "json", "--skip", "BRK301"]);
    assert!(run.rules().contains("BRK503"));
    assert!(!run.rules().contains("BRK301"));
    let _ = PathBuf::new();
}

#[test]
fn configuration_errors_name_the_file_line_and_column() {
    let repo = Repo::new();
    repo.copy("samples/k8s/vulnerable/orders-api.yaml", "orders.yaml");
    for (text, expected) in [
        (
            "fail-on: high\nignore:\n  - rule: BRK401\n    path: [\"legacy/**\"]\n",
            ".breakout.yaml:4:5: unknown key `path` in an ignore entry",
        ),
        (
            "fial-on: high\n",
            ".breakout.yaml:1:1: unknown key `fial-on`",
        ),
        (
            "fail-on: severe\n",
            ".breakout.yaml:1:10: expected `low`, `medium`, `high` or `critical`",
        ),
        (
            "ignore:\n  - rule: BRK401\n    expires: 30/06/2027\n",
            ".breakout.yaml:3:14: expected a date, YYYY-MM-DD",
        ),
        (
            "severity:\n  BRK999: low\n",
            ".breakout.yaml:2:3: unknown rule `BRK999`",
        ),
        ("skip: [BRK401\n", ".breakout.yaml:"),
        (
            "exclude: [\"a/{b\"]\n",
            ".breakout.yaml:1:11: bad glob `a/{b`",
        ),
    ] {
        repo.write(".breakout.yaml", text);
        let run = repo.scan(&["scan", "."]);
        run.assert_code(2);
        assert!(
            run.stderr
                .starts_with(&format!("breakout: error: {expected}")),
            "{text}\n{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}
