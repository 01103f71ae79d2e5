//! The JSON report of `samples/` and of a small generated corpus, byte for byte against
//! stored expectations (`tests/data/golden/`), so that work on speed or memory cannot
//! change a finding, a location, an error or their order unnoticed.
//!
//! The expectations were written by the release before the event YAML reader
//! (issue 15). After an intended change of the report, rewrite them with
//! `BLESS=1 cargo test --test report_golden` and review the diff; `GOLDEN_CORPUS=DIR`
//! writes the generated corpus to DIR, to compare builds by hand.

mod common;

use common::{breakout, ROOT};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(ROOT).join("tests/data/golden").join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 writes it)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
        panic!(
            "{name} differs from {} from line {}:\nexpected: {:?}\nactual:   {:?}",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn samples_report_is_unchanged() {
    let run = breakout(Path::new(ROOT), &["scan", "samples", "--format", "json"]);
    run.assert_code(1);
    check("samples.json", &run.stdout);
}

/// Kubernetes manifests that use what the YAML reader must keep (anchors, merge keys,
/// block and quoted scalars, YAML 1.1 booleans, legacy octal, flow collections, several
/// documents, CRLF, a BOM), the escape-path ingredients across files, and inputs that
/// are errors (a tab, a duplicate key, an unclosed bracket, a complex key).
fn corpus(dir: &Path) {
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for i in 0..24 {
        let mut t = String::new();
        let flag = |m: usize| if i % m == 0 { "yes" } else { "false" };
        let _ = write!(
            t,
            "# file {i}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: team-{}\n  labels: {{app: web-{i}, tier: \"front\"}}\nspec:\n  replicas: {}\n  template:\n    metadata:\n      labels:\n        app: web-{i}\n    spec:\n      serviceAccountName: sa-{}\n      hostNetwork: {}\n      hostPID: {}\n      securityContext: &psc\n        runAsUser: {}\n        fsGroup: 0{}\n      containers:\n",
            i % 3,
            i % 4,
            i % 5,
            flag(5),
            flag(7),
            if i % 6 == 0 { 0 } else { 1000 + i },
            644 + i % 3,
        );
        for c in 0..(1 + i % 3) {
            let _ = write!(
                t,
                "      - name: c{c}\n        image: 'registry.example.com/web:{c}.{i}'\n        command: [\"/bin/sh\", \"-c\"]\n        args:\n        - |\n          echo start {i}\n          exec server --port 80{c}\n        securityContext:\n          privileged: {}\n          allowPrivilegeEscalation: {}\n          readOnlyRootFilesystem: {}\n          capabilities: {{add: [{}], drop: [ALL]}}\n        volumeMounts:\n        - {{name: sock, mountPath: /var/run/docker.sock}}\n",
                flag(4 + c),
                if (i + c) % 3 == 0 { "On" } else { "off" },
                flag(2),
                if (i + c) % 5 == 0 { "SYS_ADMIN" } else { "NET_BIND_SERVICE" },
            );
        }
        let _ = write!(
            t,
            "      volumes:\n      - name: sock\n        hostPath:\n          path: {}\n          type: Socket\n",
            if i % 2 == 0 { "/var/run/docker.sock" } else { "/srv/app.sock" }
        );
        if i % 4 == 1 {
            let _ = write!(
                t,
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: debug-{i}\n  annotations:\n    note: >\n      folded text\n      over lines\nspec:\n  base: &c\n    image: busybox\n    securityContext: {{privileged: true}}\n  containers:\n  - <<: *c\n    name: debug\n  - <<: [*c]\n    name: debug2\n    securityContext: {{runAsUser: 0}}\n"
            );
        }
        if i % 4 == 2 {
            let _ = write!(
                t,
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{}\n  namespace: team-{}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/app-{}\n",
                i % 5,
                i % 3,
                i % 5
            );
        }
        let name = format!("k8s/team-{}/app-{i}.yaml", i % 3);
        if i % 8 == 3 {
            write(&name, &t.replace('\n', "\r\n"));
        } else if i % 8 == 5 {
            write(&name, &format!("\u{feff}{t}"));
        } else {
            write(&name, &t);
        }
    }
    let mut tf = String::new();
    for r in 0..5 {
        let _ = write!(
            tf,
            "resource \"aws_iam_role\" \"app_{r}\" {{\n  name = \"app-{r}\"\n  assume_role_policy = \"{{}}\"\n}}\n\nresource \"aws_iam_role_policy\" \"app_{r}\" {{\n  role = aws_iam_role.app_{r}.id\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect = \"Allow\"\n      Action = \"{}\"\n      Resource = \"*\"\n    }}]\n  }})\n}}\n\nresource \"aws_launch_template\" \"nodes_{r}\" {{\n  metadata_options {{\n    http_tokens = \"{}\"\n    http_put_response_hop_limit = {}\n  }}\n}}\n\n",
            if r % 2 == 0 { "dynamodb:*" } else { "dynamodb:PutItem" },
            if r % 2 == 0 { "optional" } else { "required" },
            1 + r % 2
        );
    }
    write("terraform/main.tf", &tf);
    write(
        "iam/policy.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\"}\n  ]\n}\n",
    );
    write(
        "docker/Dockerfile",
        "FROM alpine:3.20 AS build\nRUN echo build\nFROM alpine:3.20\nUSER root\nCMD [\"sh\"]\n",
    );
    write(
        "compose/docker-compose.yml",
        "services:\n  web:\n    image: nginx\n    privileged: true\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n",
    );
    // Errors: each named with its line and column, the other files still scanned.
    write(
        "bad/tab.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n",
    );
    write(
        "bad/duplicate.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  hostNetwork: true\n  hostNetwork: false\n  containers:\n  - name: a\n    image: a\n",
    );
    write(
        "bad/unclosed.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: [{name: a, image: b}\n  volumes: []\n",
    );
    write(
        "bad/complex-key.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  ? [a, b]\n  : c\n",
    );
    write(
        "bad/plan.json",
        "{\"format_version\": \"1.2\", \"resource_changes\": [\n",
    );
}

#[test]
fn generated_corpus_report_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    // `GOLDEN_CORPUS=DIR` also writes the corpus there, to scan it with another build.
    if let Some(keep) = std::env::var_os("GOLDEN_CORPUS") {
        corpus(Path::new(&keep));
    }
    let run = breakout(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    check("generated.json", &run.stdout);
    // The errors on standard error, in order, are part of the contract too.
    check("generated.stderr", &run.stderr);
}
