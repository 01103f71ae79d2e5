//! What a folder walk takes as ours, and what it passes over: a monorepo's JSONC and
//! templated YAML are skipped with their reason, a file that looks like one of our
//! inputs but does not parse is an error, and a file reached twice through a
//! symbolic link is reported once.

use serde_json::Value;

use std::path::Path;

mod common;

use common::{command, finish, write_file as write, ROOT};

/// Runs `breakout scan ARGS --format json` in `dir`: (exit code, report, stderr).
fn scan(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut full = vec!["scan"];
    full.extend_from_slice(args);
    full.extend(["--format", "json"]);
    let run = finish(&mut command(dir, &full));
    let report = run.json();
    (run.code.expect("an exit code"), report, run.stderr)
}

/// (file, line, rule) of every finding.
fn findings(report: &Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n      securityContext: {privileged: true}\n";

#[test]
fn a_monorepo_fails_only_for_its_infrastructure() {
    let (code, report, stderr) = scan(Path::new(ROOT), &["tests/fixtures/monorepo"]);
    assert_eq!(code, 1, "the manifest's finding, nothing failed:\n{stderr}");
    assert_eq!(
        report["summary"]["files_failed"], 0,
        "{:#}",
        report["errors"]
    );
    assert_eq!(report["summary"]["files_scanned"], 1);
    let found = findings(&report);
    assert!(found.contains(&(
        "tests/fixtures/monorepo/deploy/k8s/orders-api.yaml".into(),
        18,
        "BRK601".into()
    )));
    assert!(found
        .iter()
        .all(|(f, _, _)| f.ends_with("deploy/k8s/orders-api.yaml")));
    // Every other file is passed over, counted, and says why.
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let file = s["file"].as_str().unwrap();
            let file = file.strip_prefix("tests/fixtures/monorepo/").unwrap();
            (file, s["reason"].as_str().unwrap())
        })
        .collect();
    let reason = |file: &str| {
        skipped
            .iter()
            .find(|(f, _)| *f == file)
            .unwrap_or_else(|| panic!("{file} not skipped: {skipped:#?}"))
            .1
    };
    assert_eq!(skipped.len(), 8, "{skipped:#?}");
    assert_eq!(report["summary"]["files_skipped"], 8);
    for jsonc in [
        "web/tsconfig.json",
        "web/.eslintrc.json",
        ".vscode/settings.json",
        "services/api/appsettings.json",
    ] {
        assert!(
            reason(jsonc).contains("JSONC"),
            "{jsonc}: {}",
            reason(jsonc)
        );
    }
    assert!(reason("web/package.json").contains("no Kubernetes object"));
    assert!(reason("services/api/config/settings.yaml").contains("no Kubernetes object"));
    for template in [
        "deploy/chart/orders/values.yaml",
        ".github/workflows/ci.yml",
    ] {
        let why = reason(template);
        assert!(why.starts_with("not valid YAML at "), "{template}: {why}");
    }
    assert!(stderr.is_empty() || !stderr.contains("error"), "{stderr}");
}

#[test]
fn a_file_that_looks_like_ours_but_does_not_parse_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "good/pod.yaml", PRIVILEGED_POD);
    // A manifest with a tab: Kubernetes refuses it too.
    write(
        root,
        "k8s/broken.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
    );
    // An IAM policy with a comment and a trailing comma: refused, and still judged.
    write(
        root,
        "iam/admin.json",
        "{\n  \"Version\": \"2012-10-17\", // for the ops team\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\"},]\n}\n",
    );
    // A task definition that is not even JSONC.
    write(
        root,
        "ecs/task.json",
        "{\"family\": \"api\", \"containerDefinitions\": [{\"name\": \"api\" \"image\": \"x\"}]}",
    );
    // A compose file is ours by its name, whatever it holds.
    write(
        root,
        "docker-compose.yml",
        "services:\n  web:\n\timage: x\n",
    );
    let (code, report, stderr) = scan(root, &["."]);
    assert_eq!(code, 2, "{stderr}");
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["column"]
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            "./docker-compose.yml:3:1",
            "./ecs/task.json:1:58",
            "./iam/admin.json:2:28",
            "./k8s/broken.yaml:4:1"
        ]
    );
    for e in ["docker-compose.yml:3:1", "iam/admin.json:2:28: Comments"] {
        assert!(stderr.contains(e), "{e} not on stderr:\n{stderr}");
    }
    let found = findings(&report);
    assert!(found.contains(&("./good/pod.yaml".into(), 8, "BRK601".into())));
    assert!(
        found.contains(&("./iam/admin.json".into(), 3, "BRK101".into())),
        "the refused policy is still judged: {found:?}"
    );
}

#[test]
fn a_file_named_on_the_command_line_is_always_ours() {
    let (code, report, stderr) = scan(
        Path::new(ROOT),
        &["tests/fixtures/monorepo/web/tsconfig.json"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        report["errors"][0]["file"],
        "tests/fixtures/monorepo/web/tsconfig.json"
    );
    assert_eq!(report["errors"][0]["line"], 2);
    assert!(
        stderr.contains("tsconfig.json:2:3: Comments are not allowed"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_folder_reached_twice_through_a_link_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "wireguard/docker-compose.yml",
        "services:\n  wg:\n    build: .\n    cap_add: [NET_ADMIN, SYS_MODULE]\n    volumes:\n      - /lib/modules:/lib/modules\n",
    );
    write(
        root,
        "wireguard/Dockerfile",
        "FROM alpine:3.20\nRUN apk add wireguard-tools\n",
    );
    write(
        root,
        "wireguard/main.tf",
        "resource \"aws_iam_policy\" \"wg\" {\n  policy = jsonencode({Version = \"2012-10-17\", Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = \"*\"}]})\n}\n",
    );
    write(root, "k8s/pod.yaml", PRIVILEGED_POD);
    std::os::unix::fs::symlink("wireguard", root.join("wg")).unwrap();
    std::os::unix::fs::symlink("../k8s/pod.yaml", root.join("wireguard/pod.yaml")).unwrap();
    let (_, report, stderr) = scan(root, &["."]);
    let found = findings(&report);
    let mut unique = found.clone();
    unique.dedup();
    assert_eq!(found, unique, "reported twice:\n{found:#?}");
    for (file, _, _) in &found {
        assert!(
            file.starts_with("./wireguard/") || file.starts_with("./k8s/"),
            "reported through the link: {file}"
        );
    }
    let rules = |file: &str| -> Vec<String> {
        found
            .iter()
            .filter(|(f, _, _)| f == file)
            .map(|(_, _, r)| r.clone())
            .collect()
    };
    assert!(rules("./wireguard/docker-compose.yml").contains(&"BRK602".to_string()));
    assert!(rules("./wireguard/Dockerfile").contains(&"BRK303".to_string()));
    assert!(rules("./wireguard/main.tf").contains(&"BRK101".to_string()));
    assert!(rules("./k8s/pod.yaml").contains(&"BRK601".to_string()));
    assert_eq!(report["summary"]["files_failed"], 0, "{stderr}");
    // Named twice, by two paths: once, under the path without a link.
    let (_, twice, _) = scan(root, &["wireguard/pod.yaml", "k8s/pod.yaml"]);
    let files: Vec<String> = findings(&twice).into_iter().map(|(f, _, _)| f).collect();
    assert_eq!(files.len(), rules("./k8s/pod.yaml").len(), "{files:?}");
    assert!(files.iter().all(|f| f == "k8s/pod.yaml"), "{files:?}");
}

#[cfg(unix)]
#[test]
fn a_hard_linked_file_and_nested_paths_are_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "k8s/pod.yaml", PRIVILEGED_POD);
    write(root, "other/unrelated.yaml", PRIVILEGED_POD);
    std::fs::hard_link(root.join("k8s/pod.yaml"), root.join("k8s/copy.yaml")).unwrap();
    let (_, report, stderr) = scan(root, &["."]);
    let files: std::collections::BTreeSet<String> =
        findings(&report).into_iter().map(|(f, _, _)| f).collect();
    // Two names of one file: the first in order; a separate file with the same text is
    // its own.
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        ["./k8s/copy.yaml", "./other/unrelated.yaml"],
        "{stderr}"
    );
    // A folder and a folder inside it: each file once, under the shorter path.
    let (_, nested, _) = scan(root, &["k8s", "./k8s/", "other"]);
    let mut files: Vec<String> = findings(&nested).into_iter().map(|(f, _, _)| f).collect();
    files.dedup();
    assert_eq!(files, ["k8s/copy.yaml", "other/unrelated.yaml"]);
}

#[cfg(unix)]
#[test]
fn a_linked_folder_outside_the_scan_is_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "etc/pod.yaml", PRIVILEGED_POD);
    let root = dir.path().join("repo");
    write(&root, "k8s/pod.yaml", PRIVILEGED_POD);
    std::os::unix::fs::symlink(outside.path().join("etc"), root.join("hostetc")).unwrap();
    let (code, report, stderr) = scan(&root, &["."]);
    assert_eq!(code, 1, "{stderr}");
    assert!(findings(&report)
        .iter()
        .all(|(f, _, _)| f.starts_with("./k8s/")));
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:#?}");
    assert_eq!(skipped[0]["file"], "./hostetc");
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("outside the scanned folder"));
}

#[test]
fn compose_services_are_judged_by_the_dockerfiles_they_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "compose.yaml",
        "services:\n  api:\n    build: ./api\n  worker:\n    build:\n      context: ./worker\n      target: runtime\n",
    );
    write(
        root,
        "api/Dockerfile",
        "FROM python:3.12-slim\nRUN useradd --uid 10001 app\nUSER 10001\nCMD [\"gunicorn\", \"app:app\"]\n",
    );
    write(
        root,
        "worker/Dockerfile",
        "FROM python:3.12-slim AS runtime\nCMD [\"python\", \"-m\", \"worker\"]\n\nFROM runtime AS test\nUSER 10001\n",
    );
    let (_, report, _) = scan(root, &["--only", "BRK302,BRK303", "."]);
    let found = findings(&report);
    assert_eq!(
        found,
        [
            ("./compose.yaml".to_string(), 4, "BRK302".to_string()),
            ("./worker/Dockerfile".to_string(), 1, "BRK303".to_string()),
        ],
        "api runs as 10001; worker's `runtime` stage (not the last) is root"
    );
    let worker = &report["findings"][0];
    assert_eq!(
        worker["related_locations"][0]["file"],
        "./worker/Dockerfile"
    );
    assert_eq!(worker["related_locations"][0]["line"], 1);
    assert!(worker["message"]
        .as_str()
        .unwrap()
        .contains("worker/Dockerfile (stage runtime) runs as root"));
}
