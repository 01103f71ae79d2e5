//! Hostile input: each class of file that once crashed, hung or exhausted a scan,
//! placed next to a good manifest. Every run is under a memory limit and a timeout;
//! it must exit 0, 1 or 2, keep the good manifest's finding, and give a located
//! error for the bad input where the input is wrong (or none where breakout can
//! still read it). The limits these cases meet are listed in `docs/limits.md`.

mod common;

use common::{assert_no_crash, write_file as write, Run, BIN};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Killed past this: a hang. Generous for a debug build on a loaded 2-core machine.
const TIMEOUT: Duration = Duration::from_secs(90);
/// Address space allowed to one scan.
const MEMORY_LIMIT_BYTES: u64 = 3 << 30;

/// A privileged Pod: BRK601 at line 8.
const GOOD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n";

/// Runs `breakout scan . ARGS` in `dir` under the memory limit and the timeout.
fn scan(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .arg("scan")
        .arg(".")
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CI");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: MEMORY_LIMIT_BYTES,
                    rlim_max: MEMORY_LIMIT_BYTES,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(TIMEOUT);
    let start = Instant::now();
    let out = cmd.output().expect("breakout runs");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    };
    assert_no_crash(&run);
    assert!(
        matches!(run.code, Some(0..=2)),
        "exit {:?}\n{}",
        run.code,
        run.stderr
    );
    run
}

/// A folder holding the good manifest, then whatever the case adds.
fn case() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", GOOD);
    dir
}

/// Scans as JSON and checks the good manifest's finding is there.
fn scan_json(dir: &Path) -> (Run, Value) {
    let run = scan(dir, &["--format", "json"]);
    let report = run.json();
    let good = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["location"]["file"] == "./good.yaml" && f["rule_id"] == "BRK601");
    assert!(good, "the good manifest's finding is lost:\n{}", run.stderr);
    (run, report)
}

/// The report's errors for files under `prefix`, as `file:line: message`.
fn errors_under(report: &Value, prefix: &str) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| norm(e["file"].as_str().unwrap()).starts_with(norm(prefix)))
        .map(|e| {
            format!(
                "{}:{}: {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// A path without a leading `./` (Terraform module files are shown without it).
fn norm(path: &str) -> &str {
    path.strip_prefix("./").unwrap_or(path)
}

/// Exactly one located error under `prefix`, saying `says`.
fn one_located_error(report: &Value, prefix: &str, says: &str) {
    let errors = errors_under(report, prefix);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains(says), "{errors:#?}");
    let e = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| norm(e["file"].as_str().unwrap()).starts_with(norm(prefix)))
        .unwrap();
    assert!(e["line"].is_u64(), "not located: {e}");
}

const POLICY: &str = "resource \"aws_iam_policy\" \"wide\" {\n  policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = \"*\"}]})\n}\n";

/// The wide policy's BRK101 in `file`: the rest of a module survives its bad part.
fn has_policy_finding(report: &Value, file: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        norm(f["location"]["file"].as_str().unwrap()) == norm(file) && f["rule_id"] == "BRK101"
    })
}

#[test]
fn huge_and_odd_numbers_in_functions() {
    let dir = case();
    write(
        dir.path(),
        "tf/main.tf",
        format!("resource \"aws_iam_policy\" \"s\" {{\n  name        = substr(\"ab\", 1, 1e30)\n  description = substr(\"abc\", -1e30, -5)\n  path        = element([\"a\"], 1e300)\n  policy      = \"{{}}\"\n}}\n{POLICY}"),
    );
    let (_, report) = scan_json(dir.path());
    assert!(errors_under(&report, "./tf").is_empty());
    assert!(has_policy_finding(&report, "./tf/main.tf"));
}

#[test]
fn a_chain_of_thousands_of_locals() {
    let dir = case();
    let mut tf = String::from("locals {\n");
    for i in 0..5400 {
        tf.push_str(&format!("  l{i} = local.l{}\n", i + 1));
    }
    tf.push_str("  l5400 = \"x\"\n}\nresource \"aws_iam_policy\" \"c\" {\n  name = local.l0\n  policy = \"{}\"\n}\n");
    tf.push_str(POLICY);
    write(dir.path(), "tf/main.tf", tf);
    let (_, report) = scan_json(dir.path());
    one_located_error(&report, "./tf/main.tf", "references in a chain");
    assert!(has_policy_finding(&report, "./tf/main.tf"));
}

#[test]
fn values_that_double_until_gigabytes() {
    let dir = case();
    let mut strings = String::from("locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n");
    for i in 1..=30 {
        strings.push_str(&format!(
            "  s{i} = \"${{local.s{p}}}${{local.s{p}}}\"\n",
            p = i - 1
        ));
    }
    strings.push_str(
        "}\nresource \"aws_iam_policy\" \"d\" {\n  name = local.s30\n  policy = \"{}\"\n}\n",
    );
    write(dir.path(), "strings/main.tf", strings + POLICY);
    let mut lists = String::from("locals {\n  l0 = [\"x\"]\n  j0 = \"x\"\n");
    for i in 1..40 {
        lists.push_str(&format!("  l{i} = concat(local.l{p}, local.l{p})\n  j{i} = jsonencode([local.j{p}, local.j{p}])\n", p = i - 1));
    }
    lists.push_str("}\nresource \"aws_iam_policy\" \"k\" {\n  name = length(local.l39)\n  description = local.j39\n  policy = \"{}\"\n}\n");
    write(dir.path(), "lists/main.tf", lists + POLICY);
    write(
        dir.path(),
        "replace/main.tf",
        format!("locals {{\n  a = join(\"\", [for i in range(20000) : \"a\"])\n  b = replace(local.a, \"a\", local.a)\n}}\nresource \"aws_iam_policy\" \"r\" {{\n  name = local.b\n  policy = \"{{}}\"\n}}\n{POLICY}"),
    );
    write(
        dir.path(),
        "join/main.tf",
        format!("locals {{\n  long = join(\"\", [for i in range(1000) : \"abcdefghijklmnop\"])\n  j = join(\",\", [for i in range(100000) : local.long])\n}}\nresource \"aws_iam_policy\" \"j\" {{\n  name = local.j\n  policy = \"{{}}\"\n}}\n{POLICY}"),
    );
    write(
        dir.path(),
        "files/main.tf",
        format!("locals {{\n  all = [for i in range(100000) : file(\"${{path.module}}/big.txt\")]\n}}\nresource \"aws_iam_policy\" \"f\" {{\n  name = length(local.all)\n  policy = \"{{}}\"\n}}\n{POLICY}"),
    );
    write(dir.path(), "files/big.txt", "x".repeat(1_000_000));
    let mut docker = String::from("FROM alpine:3.20\nARG A0=xxxxxxxxxxxxxxxx\n");
    for i in 1..=40 {
        docker.push_str(&format!("ARG A{i}=${{A{p}}}${{A{p}}}\n", p = i - 1));
    }
    docker.push_str("USER ${A40}\n");
    write(dir.path(), "image/Dockerfile", docker);
    let (_, report) = scan_json(dir.path());
    for module in ["strings", "replace", "join", "files"] {
        let errors = errors_under(&report, &format!("./{module}/"));
        assert!(!errors.is_empty(), "{module}: no error");
        assert!(
            errors.iter().all(|e| e.contains("budget")
                || e.contains("larger than")
                || e.contains("more than breakout evaluates")),
            "{module}: {errors:#?}"
        );
        assert!(
            has_policy_finding(&report, &format!("./{module}/main.tf")),
            "{module}"
        );
    }
    assert!(!errors_under(&report, "./lists/").is_empty());
    // The Dockerfile's user is too large to expand: unknown, judged at low confidence.
    let image = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["file"] == "./image/Dockerfile")
        .expect("the image is judged");
    assert_eq!(image["confidence"], "low");
}

#[cfg(unix)]
fn fifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[cfg(unix)]
#[test]
fn named_pipes_where_files_are_read() {
    let dir = case();
    let root = dir.path();
    write(
        root,
        "tf/main.tf",
        format!("variable \"x\" {{\n  default = \"x\"\n}}\n{POLICY}"),
    );
    fifo(&root.join("tf/x.auto.tfvars"));
    write(
        root,
        "tffile/main.tf",
        format!("resource \"aws_iam_policy\" \"f\" {{\n  name = file(\"${{path.module}}/pipe\")\n  policy = \"{{}}\"\n}}\n{POLICY}"),
    );
    fifo(&root.join("tffile/pipe"));
    write(
        root,
        "mods/main.tf",
        format!("module \"m\" {{\n  source = \"terraform-aws-modules/iam/aws\"\n}}\n{POLICY}"),
    );
    fifo(&root.join("mods/.terraform/modules/modules.json"));
    write(
        root,
        "stack/docker-compose.yml",
        "services:\n  web:\n    image: nginx\n    privileged: true\n",
    );
    fifo(&root.join("stack/.env"));
    fifo(&root.join("pod.yaml"));
    let (_, report) = scan_json(root);
    one_located_error_or_unlocated(&report, "./tf/x.auto.tfvars", "not a regular file");
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["file"] == "./pod.yaml"
            && s["reason"].as_str().unwrap().contains("not a regular file")),
        "a pipe with a manifest's name is passed over with the reason: {skipped:#?}"
    );
    for file in ["./tf/main.tf", "./tffile/main.tf", "./mods/main.tf"] {
        assert!(has_policy_finding(&report, file), "{file}");
    }
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["file"] == "./stack/docker-compose.yml"
                && f["rule_id"] == "BRK601")
    );
}

/// One error for `file` (a pipe has no line to point at).
fn one_located_error_or_unlocated(report: &Value, file: &str, says: &str) {
    let errors: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| norm(e["file"].as_str().unwrap()) == norm(file))
        .collect();
    assert_eq!(errors.len(), 1, "{file}: {:#}", report["errors"]);
    assert!(
        errors[0]["message"].as_str().unwrap().contains(says),
        "{:#}",
        errors[0]
    );
}

#[cfg(unix)]
#[test]
fn links_out_of_the_scanned_folder_are_not_followed() {
    let dir = case();
    let root = dir.path();
    std::os::unix::fs::symlink("/", root.join("rootfs")).unwrap();
    write(root, "tf/main.tf", format!("variable \"x\" {{}}\n{POLICY}"));
    std::os::unix::fs::symlink("/etc/passwd", root.join("tf/terraform.tfvars")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("tf/evil.tf")).unwrap();
    write(
        root,
        "stack/docker-compose.yml",
        "services:\n  web:\n    image: nginx\n    user: \"${RUN_AS}\"\n",
    );
    std::os::unix::fs::symlink("/etc/passwd", root.join("stack/.env")).unwrap();
    let (run, report) = scan_json(root);
    assert!(!run.stdout.contains("root:x:0") && !run.stderr.contains("root:x:0"));
    assert!(
        errors_under(&report, "./").is_empty(),
        "{:#}",
        report["errors"]
    );
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    for link in ["./rootfs", "./tf/terraform.tfvars", "./tf/evil.tf"] {
        assert!(
            skipped.contains(&link),
            "{link} not passed over: {skipped:?}"
        );
    }
    assert!(has_policy_finding(&report, "./tf/main.tf"));
    // `.env` was not read: the user stays unknown.
    let web = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["file"] == "./stack/docker-compose.yml" && f["rule_id"] == "BRK302")
        .expect("BRK302 on the compose service");
    assert!(web["message"]
        .as_str()
        .unwrap()
        .contains("comes from the environment"));
}

#[test]
fn one_line_plans_and_arrays() {
    let dir = case();
    let mut resources = Vec::new();
    for i in 0..8000 {
        resources.push(format!(
            "{{\"address\":\"aws_iam_policy.p{i}\",\"mode\":\"managed\",\"type\":\"aws_iam_policy\",\"name\":\"p{i}\",\"values\":{{\"name\":\"é{i}\",\"policy\":\"{{\\\"Statement\\\":[{{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"dynamodb:*\\\",\\\"Resource\\\":\\\"*\\\"}}]}}\"}}}}"
        ));
    }
    write(
        dir.path(),
        "plan.json",
        format!("{{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.8\",\"planned_values\":{{\"root_module\":{{\"resources\":[{}]}}}}}}", resources.join(",")),
    );
    let numbers: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    write(
        dir.path(),
        "numbers.json",
        format!("[{}]", numbers.join(",")),
    );
    let (_, report) = scan_json(dir.path());
    let in_plan = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["file"] == "./plan.json" && f["rule_id"] == "BRK101")
        .count();
    assert_eq!(in_plan, 8000);
    assert!(report["errors"].as_array().unwrap().is_empty());
}

#[test]
fn collections_of_a_hundred_thousand() {
    let dir = case();
    let list: Vec<String> = (0..99_999).map(|i| format!("k{}", i % 1000)).collect();
    write(dir.path(), "tf/list.txt", list.join(","));
    write(
        dir.path(),
        "tf/main.tf",
        format!("locals {{\n  all = split(\",\", file(\"${{path.module}}/list.txt\"))\n  d = distinct(local.all)\n  s = toset(local.all)\n}}\nresource \"aws_iam_policy\" \"q\" {{\n  name = length(local.d)\n  description = length(local.s)\n  policy = \"{{}}\"\n}}\n{POLICY}"),
    );
    let mut stages = String::new();
    for i in 0..100_000 {
        stages.push_str(&format!("FROM alpine AS s{i}\nRUN true\n"));
    }
    write(dir.path(), "stages.Dockerfile", stages);
    let (_, report) = scan_json(dir.path());
    assert!(has_policy_finding(&report, "./tf/main.tf"));
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["location"]["file"] == "./stages.Dockerfile"));
}

#[test]
fn a_module_called_a_million_times_says_so_once() {
    let dir = case();
    write(
        dir.path(),
        "tf/main.tf",
        "module \"a\" {\n  source = \"./a\"\n  count = 1000\n}\n",
    );
    write(
        dir.path(),
        "tf/a/main.tf",
        "module \"b\" {\n  source = \"../b\"\n  count = 1000\n}\n",
    );
    write(dir.path(), "tf/b/main.tf", POLICY);
    let (run, report) = scan_json(dir.path());
    let lines = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("breakout: error:"))
        .count();
    assert_eq!(
        lines,
        1,
        "{}",
        run.stderr.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    one_located_error(&report, "./tf/a/main.tf", "more instances beyond the limit");
}

#[test]
fn a_one_megabyte_word_in_the_table() {
    let dir = case();
    write(
        dir.path(),
        "long.yaml",
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\nspec:\n  containers:\n    - name: c\n      image: x\n      securityContext: {{privileged: true}}\n", "a".repeat(1_000_000)),
    );
    let run = scan(dir.path(), &[]);
    run.assert_code(1);
    assert!(run.stdout.contains("good.yaml"));
    assert!(
        run.stdout.lines().all(|l| l.chars().count() <= 200),
        "a line wider than the table"
    );
}

#[cfg(unix)]
#[test]
fn names_and_values_with_control_characters_never_reach_the_terminal_raw() {
    use std::os::unix::ffi::OsStrExt;
    let dir = case();
    let root = dir.path();
    let forged = "x\nbreakout: error: forged.yaml";
    write(
        root,
        forged,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[2J\\e]0;title\\a\"\nspec:\n  containers:\n    - name: \"c\\r\\u202e\"\n      securityContext: {privileged: true}\n",
    );
    fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"caf\xe9.yaml")),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: [\n",
    )
    .unwrap();
    for args in [
        &[][..],
        &["--format", "github"][..],
        &["--format", "json"][..],
    ] {
        let run = scan(root, args);
        for out in [&run.stdout, &run.stderr] {
            assert!(
                !out.contains('\x1b') && !out.contains('\u{7}') && !out.contains('\r'),
                "{args:?}: raw control characters"
            );
            // JSON is for programs, and escapes control characters by construction; the
            // text formats escape bidirectional overrides too.
            assert!(
                args.contains(&"json") || !out.contains('\u{202e}'),
                "{args:?}: a raw override"
            );
            assert!(
                !out.lines()
                    .any(|l| l.starts_with("breakout: error: forged")),
                "{args:?}: a forged line\n{out}"
            );
        }
        assert!(
            run.stderr.contains("caf\\xe9.yaml:"),
            "{args:?}: the non-UTF-8 name is shown escaped:\n{}",
            run.stderr
        );
    }
}
