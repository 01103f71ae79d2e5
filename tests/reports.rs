//! Reports for auditors: the HTML page (self-contained, escaped, deterministic,
//! suppressed findings apart), the CSV export (RFC 4180, parses back to the JSON
//! report's findings), and the table's grouping and layout at 80 columns.
//! `tests/browser.rs` opens the HTML in a real browser.

mod common;

use common::{command, finish, Run, ROOT};
use std::fs;
use std::path::Path;

fn breakout(args: &[&str]) -> Run {
    finish(&mut command(Path::new(ROOT), args))
}

fn breakout_in(dir: &Path, args: &[&str]) -> Run {
    finish(&mut command(dir, args))
}

fn breakout_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(Path::new(ROOT), args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    finish(&mut cmd)
}

// ---------------------------------------------------------------------------------
// HTML

#[test]
fn html_is_one_self_contained_deterministic_file() {
    let run = breakout(&["scan", "samples", "--format", "html"]);
    run.assert_code(1);
    let html = &run.stdout;
    assert!(html.starts_with("<!doctype html>"), "{}", &html[..100]);
    assert!(html.trim_end().ends_with("</html>"));
    // Nothing is loaded from anywhere: no external script, style sheet, font, image or
    // frame, and a policy that forbids them.
    for banned in [
        "<script src",
        "<link",
        "@import",
        "url(",
        "<img",
        "<iframe",
        "@font-face",
    ] {
        assert!(!html.contains(banned), "the page contains `{banned}`");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert_eq!(html.matches("<script").count(), 1, "one script: ours");
    assert_eq!(html.matches("<style").count(), 1, "one style sheet: ours");
    // What was scanned, the summary, escape paths, findings with their details.
    assert!(html.contains("<code>samples</code>"));
    assert!(html.contains(concat!("version ", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("Kubernetes manifests: "));
    assert!(html.contains("<svg") && html.contains("Active findings by rule family"));
    assert!(html.contains("id=\"paths\"") && html.contains("class=\"steps\""));
    assert!(html.contains("data-rule=\"BRK201\""));
    assert!(
        html.contains("Checkov: <code>CKV_K8S_27</code>"),
        "peer rule ids"
    );
    assert!(html.contains("class=\"line marked\""), "a source snippet");
    assert!(html.contains("@media print"));
    // Same input, same bytes: no timestamp, no random order.
    let again = breakout(&["scan", "samples", "--format", "html"]);
    assert!(again.stdout == *html, "two runs differ");
}

/// A manifest named `<script>alert(1)</script>`, in a file whose name is markup too,
/// renders as text everywhere: header, table, details, snippet, filters.
#[test]
fn html_escapes_everything_from_scanned_files() {
    let dir = tempfile::tempdir().unwrap();
    let name = "<img src=x onerror=alert(2)>.yaml";
    fs::write(
        dir.path().join(name),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"<script>alert(1)</script>\"\n  namespace: \"a&b\\\"c\"\nspec:\n  containers:\n    - name: \"x' onmouseover='alert(3)\"\n      image: busybox\n      securityContext: {privileged: true}\n",
    )
    .unwrap();
    let run = breakout_in(dir.path(), &["scan", ".", "--format", "html"]);
    run.assert_code(1);
    let html = &run.stdout;
    assert!(
        !html.contains("<script>alert(1)"),
        "raw script tag in the page"
    );
    assert!(!html.contains("<img src=x"), "raw img tag in the page");
    assert!(!html.contains("' onmouseover='"), "raw quote in the page");
    // askama writes `<` and `>` as numeric references.
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(html.contains("&#60;img src=x onerror=alert(2)&#62;.yaml"));
    assert_eq!(html.matches("<script").count(), 1);
    // Control characters and bidirectional overrides are shown as escapes.
    fs::write(
        dir.path().join("bidi.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: \"evil\\u202etxt\"}\nspec:\n  containers: [{name: c, image: x, securityContext: {privileged: true}}]\n",
    )
    .unwrap();
    let run = breakout_in(dir.path(), &["scan", "bidi.yaml", "--format", "html"]);
    assert!(!run.stdout.contains('\u{202e}'));
    assert!(run.stdout.contains("evil\\u{202e}txt"));
}

#[test]
fn html_lists_suppressed_findings_apart_with_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec:\n  containers:\n    - name: c\n      image: x\n      # breakout:ignore BRK601 the agent loads kernel modules, reviewed in SEC-12\n      securityContext: {privileged: true}\n",
    )
    .unwrap();
    let run = breakout_in(dir.path(), &["scan", ".", "--format", "html"]);
    let html = &run.stdout;
    let at = html
        .find("id=\"suppressed\"")
        .expect("a suppressed section");
    let section = &html[at..];
    assert!(section.contains("data-rule=\"BRK601\""), "{section}");
    assert!(section.contains("the agent loads kernel modules, reviewed in SEC-12"));
    assert!(section.contains("Suppressed (inline)"));
    let table = &html[html.find("id=\"findings-table\"").unwrap()..at];
    assert!(
        !table.contains("data-rule=\"BRK601\""),
        "not among active findings"
    );
}

#[test]
fn html_says_what_a_plan_does_to_each_finding() {
    let html = breakout(&["scan", "samples/tfplan/review", "--format", "html"]).stdout;
    let row = |rule: &str| {
        let at = html.find(&format!("data-rule=\"{rule}\"")).unwrap();
        &html[at..at + html[at..].find("</tr>").unwrap()]
    };
    assert!(row("BRK502").contains("<span class=\"plan\">introduced (update)</span>"));
    assert!(row("BRK401").contains("<span class=\"plan\">existing (no-op)</span>"));
}

#[test]
fn html_source_snippets_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // One line of 200,000 characters holding the finding (a plan written on one line).
    let padding = format!("\"x\": \"{}\", ", "a".repeat(200_000));
    fs::write(
        dir.path().join("task.json"),
        format!("{{{padding}\"containerDefinitions\": [{{\"name\": \"c\", \"image\": \"x\", \"privileged\": true}}]}}\n"),
    )
    .unwrap();
    let run = breakout_in(
        dir.path(),
        &["scan", ".", "--format", "html", "--only", "BRK601"],
    );
    run.assert_code(1);
    assert!(run.stdout.len() < 200_000, "{} bytes", run.stdout.len());
    assert!(run.stdout.contains("class=\"line marked\""));
}

// ---------------------------------------------------------------------------------
// CSV

#[test]
fn csv_has_a_header_and_one_row_per_finding_in_report_order() {
    let json = breakout(&["scan", "samples", "--format", "json"]).json();
    let run = breakout(&["scan", "samples", "--format", "csv"]);
    run.assert_code(1);
    assert!(run.stdout.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, breakout::report::csv::COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(rows.len(), findings.len());
    for (row, f) in rows.iter().zip(findings) {
        let col = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(col("rule_id"), f["rule_id"]);
        assert_eq!(col("severity"), f["severity"]);
        assert_eq!(col("file"), f["location"]["file"]);
        assert_eq!(col("line"), f["location"]["line"].to_string());
        assert_eq!(
            col("message"),
            f["message"],
            "multi-line and quoted text survive"
        );
        assert_eq!(col("remediation"), f["remediation"]);
        assert_eq!(col("fingerprint"), f["fingerprint"]);
        assert_eq!(
            col("plan_change"),
            f["plan"]["change"].as_str().unwrap_or(""),
            "a plan's findings say what the plan does to them"
        );
    }
}

#[test]
fn csv_carries_suppressions_and_defuses_formulas() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: \"=HYPERLINK(\\\"http://x\\\")\"}\nspec:\n  containers:\n    - name: c\n      image: x\n      # breakout:ignore BRK601 reviewed, \"kept\"\n      securityContext: {privileged: true}\n",
    )
    .unwrap();
    let run = breakout_in(
        dir.path(),
        &["scan", ".", "--format", "csv", "--only", "BRK601,BRK401"],
    );
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let suppressed = rows.iter().find(|r| &r[1] == "BRK601").unwrap();
    assert_eq!(&suppressed[11], "inline");
    assert_eq!(&suppressed[12], "reviewed, \"kept\"");
    // The resource is `Pod =HYPERLINK(…)`; a message that starts with the resource
    // would start with `Pod`: nothing starts with `=`.
    for r in &rows {
        for field in r.iter() {
            assert!(!field.starts_with('='), "{field}");
        }
    }
}

// ---------------------------------------------------------------------------------
// The table

/// Lines longer than `width` characters.
fn long_lines(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > width)
        .map(str::to_string)
        .collect()
}

#[test]
fn table_fits_80_columns_and_keeps_words_whole() {
    let run = breakout_env(&["scan", "samples"], &[("COLUMNS", "80")]);
    run.assert_code(1);
    let out = &run.stdout;
    assert_eq!(long_lines(out, 80), Vec::<String>::new());
    // Many files: one table per rule family, with the file and line in a column,
    // paths shortened from the left.
    assert!(out.starts_with("DynamoDB access ("), "{}", &out[..200]);
    assert!(out.contains("\nescape paths ("));
    assert!(out.contains("│ …/"), "shortened paths");
    // Text under the tables: every remediation word is whole on some line.
    let fix = &out[out.find("How to fix\n").unwrap()..];
    let words: Vec<&str> = fix.split_whitespace().collect();
    for p in breakout::engine::builtin() {
        for word in p.remediation.split_whitespace() {
            assert!(
                words.contains(&word),
                "{}: `{word}` was split or lost:\n{fix}",
                p.id
            );
        }
    }
}

#[test]
fn table_groups_as_asked() {
    let file = breakout(&["scan", "samples/k8s/vulnerable", "--group-by", "file"]);
    assert!(
        file.stdout
            .starts_with("samples/k8s/vulnerable/ci-runners-list.yaml\n"),
        "{}",
        file.stdout
    );
    let rule = breakout(&["scan", "samples/k8s/vulnerable", "--group-by", "rule"]);
    assert!(
        rule.stdout.starts_with(
            "BRK201 runtime-socket-mount: Container-runtime socket mounted into a container ("
        ),
        "{}",
        rule.stdout
    );
    let severity = breakout(&["scan", "samples/k8s/vulnerable", "--group-by", "severity"]);
    assert!(
        severity.stdout.starts_with("critical ("),
        "{}",
        severity.stdout
    );
    let family = breakout(&["scan", "samples/k8s/vulnerable", "--group-by", "family"]);
    assert!(
        family.stdout.starts_with("host mounts ("),
        "{}",
        family.stdout
    );
    // auto: by file for a handful of files, by family beyond.
    let few = breakout(&["scan", "samples/escape-path/vulnerable"]);
    assert!(
        few.stdout.starts_with("samples/escape-path/vulnerable/"),
        "{}",
        few.stdout
    );
    let many = breakout(&["scan", "samples"]);
    assert!(
        many.stdout.starts_with("DynamoDB access ("),
        "{}",
        many.stdout
    );
}

#[test]
fn table_shortens_deep_paths_from_the_left_and_never_cuts_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir
        .path()
        .join("platform/clusters/production/eu-west-1/workloads/payments");
    fs::create_dir_all(&deep).unwrap();
    for i in 0..7 {
        fs::write(
            deep.join(format!("payments-ledger-reconciliation-worker-{i}.yaml")),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers: [{{name: c, image: x, securityContext: {{privileged: true}}}}]\n"),
        )
        .unwrap();
    }
    let mut cmd = command(dir.path(), &["scan", ".", "--only", "BRK601"]);
    cmd.env("COLUMNS", "80");
    let run = finish(&mut cmd);
    assert_eq!(long_lines(&run.stdout, 80), Vec::<String>::new());
    // The file name is whole (maybe across two lines of its cell), after `…/`.
    let cells: String = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("│ "))
        .map(|l| l.split(" ┆").next().unwrap().trim())
        .collect();
    for i in 0..7 {
        assert!(
            cells.contains(&format!(
                "…/payments-ledger-reconciliation-worker-{i}.yaml:5"
            )),
            "{}",
            run.stdout
        );
    }
}
