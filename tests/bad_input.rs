//! Hostile and broken inputs: the binary, run on a folder holding one bad file next to
//! a good, vulnerable manifest. A bad file must fail the scan with exit code 2 and a
//! `file:line:column: message` on standard error, and must not hide the good file's
//! findings, crash, or hang. Inputs that only look odd (empty, CRLF, BOM, big, not
//! Kubernetes at all) must scan normally.
//!
//! Every input is written at test time into a temporary folder; large and binary
//! inputs are generated, never committed.

mod common;

use common::Run;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// The good manifest every case scans next to its bad file.
const GOOD: &str = include_str!("../samples/k8s/vulnerable/orders-api.yaml");
/// Its name as the report shows it (the scan runs on `in` from the temp folder).
const GOOD_NAME: &str = "in/orders-api.yaml";
/// What the good manifest reports on its own: rule, line, column.
const GOOD_FINDINGS: &[(&str, u64, u64)] = &[
    ("BRK503", 15, 1),
    ("BRK301", 36, 9),
    ("BRK401", 39, 11),
    ("BRK604", 39, 11),
];

fn run(dir: &Path, args: &[&str]) -> Run {
    common::breakout(dir, args)
}

/// A temp folder with `in/orders-api.yaml`; bad files go next to it.
struct Case {
    root: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("in")).unwrap();
        fs::write(root.path().join(GOOD_NAME), GOOD).unwrap();
        Case { root }
    }

    /// Writes `in/<name>` and returns its path.
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        common::write_file(&self.root.path().join("in"), name, bytes);
        self.root.path().join("in").join(name)
    }

    /// `breakout scan in --format json` plus `extra` arguments.
    fn scan(&self, extra: &[&str]) -> Run {
        let mut args = vec!["scan", "in", "--format", "json"];
        args.extend_from_slice(extra);
        run(self.root.path(), &args)
    }
}

/// (rule, line, column) of every finding in `file`, in report order.
fn findings_in(report: &Value, file: &str) -> Vec<(String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .filter(|f| f["location"]["file"] == file)
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_good_reported(report: &Value) {
    let want: Vec<(String, u64, u64)> = GOOD_FINDINGS
        .iter()
        .map(|(r, l, c)| (r.to_string(), *l, *c))
        .collect();
    assert_eq!(
        findings_in(report, GOOD_NAME),
        want,
        "the good manifest's findings must still be reported"
    );
}

/// Where an error must point.
#[derive(Clone, Copy, Debug)]
enum At {
    /// Exactly this line and column.
    Exact(u32, u32),
    /// This line, any column.
    Line(u32),
    /// A position is given; the caller checks it.
    Some,
    /// No position (the file could not be read at all).
    Nowhere,
}

/// Checks a failed scan: exit 2, exactly one error for `file` on stderr in the
/// `file:line:col: message` form, the same error in the JSON report, the good
/// file's findings still there. Returns the error's (line, column, message).
fn assert_failed(
    run: &Run,
    file: &str,
    at: At,
    says: &[&str],
) -> (Option<u32>, Option<u32>, String) {
    assert_error(run, file, at, says, 1)
}

/// As [`assert_failed`], for a file that is refused but still judged: JSON with a
/// trailing comma or a raw line break that holds an IAM policy. What it holds is read
/// (its statements are counted, its findings reported beside the error), and it counts
/// as failed, not scanned.
fn assert_failed_but_judged(
    run: &Run,
    file: &str,
    at: At,
    says: &[&str],
) -> (Option<u32>, Option<u32>, String) {
    let found = assert_error(run, file, at, says, 1);
    let report = run.json();
    assert!(
        report["summary"]["policy_statements"].as_u64() >= Some(1),
        "{file} is refused but what it holds must still be judged: {:#}",
        report["summary"]
    );
    found
}

fn assert_error(
    run: &Run,
    file: &str,
    at: At,
    says: &[&str],
    scanned: u64,
) -> (Option<u32>, Option<u32>, String) {
    assert_eq!(
        run.code,
        Some(2),
        "exit code\nstderr:\n{}\nstdout:\n{}",
        run.stderr,
        run.stdout
    );
    let lines = run.errors_for(file);
    assert_eq!(
        lines.len(),
        1,
        "expected one error for {file} on stderr:\n{}",
        run.stderr
    );
    let rest = &lines[0][file.len() + 1..];
    let (line, column, message) = parse_position(rest);
    match at {
        At::Exact(l, c) => assert_eq!(
            (line, column),
            (Some(l), Some(c)),
            "position of: {}",
            lines[0]
        ),
        At::Line(l) => {
            assert_eq!(line, Some(l), "line of: {}", lines[0]);
            assert!(column.is_some(), "no column in: {}", lines[0]);
        }
        At::Some => assert!(
            line.is_some() && column.is_some(),
            "no position in: {}",
            lines[0]
        ),
        At::Nowhere => assert_eq!((line, column), (None, None), "{}", lines[0]),
    }
    let lower = message.to_lowercase();
    assert!(
        says.iter().any(|w| lower.contains(&w.to_lowercase())),
        "message of {file} should say one of {says:?}: {message}"
    );

    let report = run.json();
    let errors: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["file"] == file)
        .collect();
    assert_eq!(errors.len(), 1, "{:#}", report["errors"]);
    assert_eq!(errors[0]["line"].as_u64(), line.map(u64::from));
    assert_eq!(errors[0]["column"].as_u64(), column.map(u64::from));
    assert_eq!(errors[0]["message"], message.as_str());
    assert_eq!(
        report["summary"]["files_failed"], 1,
        "{:#}",
        report["summary"]
    );
    assert_eq!(
        report["summary"]["files_scanned"], scanned,
        "{:#}",
        report["summary"]
    );
    assert_good_reported(&report);
    (line, column, message)
}

/// Splits `12:5: message` / `12: message` / ` message` (after `file:`).
fn parse_position(rest: &str) -> (Option<u32>, Option<u32>, String) {
    let mut parts = rest.splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let Ok(line) = first.parse::<u32>() else {
        return (None, None, rest.trim_start().to_string());
    };
    let second = parts.next().unwrap_or("");
    match second.parse::<u32>() {
        Ok(column) => (
            Some(line),
            Some(column),
            parts.next().unwrap_or("").trim_start().to_string(),
        ),
        Err(_) => {
            let msg = rest.split_once(':').map(|x| x.1).unwrap_or("");
            (Some(line), None, msg.trim_start().to_string())
        }
    }
}

/// A scan that must succeed with the good file's findings (exit 1) and no error.
fn assert_fine(run: &Run) -> Value {
    assert_eq!(run.code, Some(1), "exit code\nstderr:\n{}", run.stderr);
    assert!(
        !run.stderr.contains("error"),
        "unexpected error:\n{}",
        run.stderr
    );
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["files_failed"], 0);
    assert_good_reported(&report);
    report
}

/// 1-based character column of the first occurrence of `needle` in line `line`.
fn column_of(text: &str, line: u32, needle: &str) -> u32 {
    let l = text.lines().nth(line as usize - 1).unwrap();
    let byte = l
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not on line {line}"));
    l[..byte].chars().count() as u32 + 1
}

// ---------------------------------------------------------------------------------
// Inputs that must fail the scan

const TAB_INDENTED: &str = "\
apiVersion: v1
kind: Service
metadata:
\tname: payments
  namespace: shop
spec:
  selector:
    app: payments
  ports:
    - port: 80
";

#[test]
fn yaml_tab_indentation_is_an_error_on_its_line() {
    let case = Case::new();
    case.write("service.yaml", TAB_INDENTED);
    let run = case.scan(&[]);
    assert_failed(&run, "in/service.yaml", At::Line(4), &["tab"]);
}

#[test]
fn yaml_tab_indentation_points_at_the_tab() {
    let case = Case::new();
    case.write("service.yaml", TAB_INDENTED);
    let run = case.scan(&[]);
    assert_failed(&run, "in/service.yaml", At::Exact(4, 1), &["tab"]);
}

const DEPLOYMENT_HEAD: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: payments
          image: registry.example.com/shop/payments:1.0
";

#[test]
fn unclosed_flow_sequence_at_end_of_file_points_at_the_bracket() {
    let text = format!("{DEPLOYMENT_HEAD}          args: [\"--port\", \"8080\"\n");
    let case = Case::new();
    case.write("payments.yaml", &text);
    let run = case.scan(&[]);
    let col = column_of(&text, 12, "[");
    assert_failed(
        &run,
        "in/payments.yaml",
        At::Exact(12, col),
        &["unclosed", "flow sequence", "']'"],
    );
}

#[test]
fn unclosed_flow_sequence_followed_by_more_keys_is_an_error() {
    let text = format!(
        "{DEPLOYMENT_HEAD}          args: [\"--port\", \"8080\"\n          ports:\n            - containerPort: 8080\n"
    );
    let case = Case::new();
    case.write("payments.yaml", &text);
    let run = case.scan(&[]);
    let (line, _, _) = assert_failed(&run, "in/payments.yaml", At::Some, &[""]);
    assert!(
        matches!(line, Some(12 | 13)),
        "the error should be at the bracket (12) or where the parser gave up (13): {}",
        run.stderr
    );
}

#[test]
fn unclosed_flow_sequence_followed_by_more_keys_names_the_bracket() {
    let text = format!(
        "{DEPLOYMENT_HEAD}          args: [\"--port\", \"8080\"\n          ports:\n            - containerPort: 8080\n"
    );
    let case = Case::new();
    case.write("payments.yaml", &text);
    let run = case.scan(&[]);
    let (line, column, message) = assert_failed(&run, "in/payments.yaml", At::Some, &[""]);
    assert!(
        (line, column) == (Some(12), Some(column_of(&text, 12, "[")))
            || message.contains("12:17")
            || message.contains("line 12"),
        "the error should lead to the unclosed bracket at 12:17: {message}"
    );
}

#[test]
fn binary_file_named_yaml_is_an_error_at_the_first_nul() {
    // A gzip'd manifest saved under its old name: magic 1f 8b, method 08, flags 00.
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00, 0x5d, 0x3c, 0x91, 0x66, 0x00, 0x03];
    gz.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let case = Case::new();
    case.write("deploy.yaml", &gz);
    let run = case.scan(&[]);
    assert_failed(&run, "in/deploy.yaml", At::Exact(1, 4), &["binary", "NUL"]);
}

#[test]
fn binary_content_after_text_is_located() {
    let mut bytes = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  blob: ab".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 1, 2, 3]);
    let case = Case::new();
    case.write("blob.yaml", &bytes);
    let run = case.scan(&[]);
    assert_failed(&run, "in/blob.yaml", At::Exact(4, 11), &["binary", "NUL"]);
}

/// The classic billion laughs: nine levels of nine aliases each, 9^9 strings.
fn billion_laughs() -> String {
    let mut text = String::from(
        "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text
}

#[test]
fn yaml_alias_bomb_is_refused_quickly() {
    let text = billion_laughs();
    assert_eq!(text.lines().count(), 9);
    let case = Case::new();
    case.write("laughs.yaml", &text);
    // The alias budget refuses it before expanding (the error below says so); an
    // expansion that ran away would be killed by the runner's hang timeout. No wall-clock
    // assertion: timings belong in benchmarks, and a loaded machine made this one flaky.
    let run = case.scan(&[]);
    let (line, column, _) = assert_failed(&run, "in/laughs.yaml", At::Some, &["alias"]);
    // It points at an alias, on one of the lines that use them.
    let (line, column) = (line.unwrap(), column.unwrap());
    assert!((2..=9).contains(&line), "line {line}");
    let src = text.lines().nth(line as usize - 1).unwrap();
    let at: String = src.chars().skip(column as usize - 1).take(2).collect();
    assert_eq!(at, "*a", "{line}:{column} is not an alias in {src:?}");
}

#[test]
fn yaml_alias_bomb_message_is_whole() {
    let case = Case::new();
    case.write("laughs.yaml", billion_laughs());
    let run = case.scan(&[]);
    let (_, _, message) = assert_failed(&run, "in/laughs.yaml", At::Some, &["alias"]);
    assert_eq!(
        message.matches('(').count(),
        message.matches(')').count(),
        "unbalanced parentheses: {message}"
    );
    assert!(!message.trim_end().ends_with("(used"), "{message}");
}

const POLICY_TRAILING_COMMA: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadOrders",
      "Effect": "Allow",
      "Action": ["dynamodb:GetItem", "dynamodb:Query"],
      "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
    }
  ]
}
"#;

#[test]
fn json_trailing_comma_is_located_at_the_comma() {
    let case = Case::new();
    case.write("orders-read.json", POLICY_TRAILING_COMMA);
    let run = case.scan(&[]);
    let line8 = POLICY_TRAILING_COMMA.lines().nth(7).unwrap();
    let col = line8.rfind(',').unwrap() as u32 + 1;
    assert_failed_but_judged(
        &run,
        "in/orders-read.json",
        At::Exact(8, col),
        &["trailing comma"],
    );
}

/// A policy cut off in the middle of a string (an interrupted download).
const POLICY_CUT_OFF: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "dynamodb:*"#;

#[test]
fn json_unterminated_string_at_end_of_file_is_located_at_its_quote() {
    let case = Case::new();
    case.write("orders-admin.json", POLICY_CUT_OFF);
    let run = case.scan(&[]);
    let col = column_of(POLICY_CUT_OFF, 6, "\"dynamodb");
    assert_failed(
        &run,
        "in/orders-admin.json",
        At::Exact(6, col),
        &["unterminated"],
    );
}

/// A closing quote forgotten at the end of a line.
const POLICY_UNTERMINATED: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "dynamodb:*,
      "Resource": "*"
    }
  ]
}
"#;

#[test]
fn json_unterminated_string_before_more_lines_is_an_error() {
    let case = Case::new();
    case.write("orders-admin.json", POLICY_UNTERMINATED);
    let run = case.scan(&[]);
    let (line, _, _) = assert_failed(&run, "in/orders-admin.json", At::Some, &[""]);
    assert!(matches!(line, Some(6 | 7)), "{}", run.stderr);
}

#[test]
fn json_unterminated_string_before_more_lines_is_located_at_its_quote() {
    let case = Case::new();
    case.write("orders-admin.json", POLICY_UNTERMINATED);
    let run = case.scan(&[]);
    let col = column_of(POLICY_UNTERMINATED, 6, "\"dynamodb");
    assert_failed(
        &run,
        "in/orders-admin.json",
        At::Exact(6, col),
        &["unterminated", "string", "control character", "line break"],
    );
}

#[test]
fn json_string_with_a_raw_line_break_is_rejected() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Read\nOrders\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"dynamodb:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    let case = Case::new();
    case.write("orders.json", text);
    let run = case.scan(&[]);
    assert_failed_but_judged(
        &run,
        "in/orders.json",
        At::Line(5),
        &[
            "control character",
            "line break",
            "newline",
            "unterminated",
            "string",
        ],
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let text = "[".repeat(100_000) + &"]".repeat(100_000);
    let case = Case::new();
    case.write("deep.json", &text);
    let run = case.scan(&[]);
    let (_, column, _) = assert_failed(
        &run,
        "in/deep.json",
        At::Line(1),
        &["nesting", "depth", "recursion"],
    );
    assert!(column.unwrap() <= 100_000, "{column:?}");
}

#[test]
fn deeply_nested_yaml_flow_is_an_error_not_a_crash() {
    let text = "spec: ".to_string() + &"[".repeat(100_000) + &"]".repeat(100_000) + "\n";
    let case = Case::new();
    case.write("deep.yaml", &text);
    let run = case.scan(&[]);
    let (_, column, _) = assert_failed(
        &run,
        "in/deep.yaml",
        At::Line(1),
        &["nesting", "depth", "recursion"],
    );
    assert!(column.unwrap() <= 100_006, "{column:?}");
}

/// A mapping nested 300 levels deep, one key per line: `k0:`, `  k1:`, ...
fn deep_block_yaml() -> String {
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    text.push_str(&format!("{}leaf: 1\n", "  ".repeat(300)));
    text
}

#[test]
fn deeply_nested_yaml_block_is_an_error_at_a_key() {
    let text = deep_block_yaml();
    let case = Case::new();
    case.write("deep.yaml", &text);
    let run = case.scan(&[]);
    let (line, column, _) = assert_failed(
        &run,
        "in/deep.yaml",
        At::Some,
        &["nesting", "depth", "recursion"],
    );
    // It points at the first key that is too deep: a key written at that position.
    let (line, column) = (line.unwrap(), column.unwrap());
    let src = text.lines().nth(line as usize - 1).unwrap();
    assert_eq!(column as usize, 2 * (line as usize - 1) + 1, "{src:?}");
}

#[test]
fn yaml_nested_below_the_limit_is_scanned() {
    // 100 levels of sequences under a ConfigMap's data: valid, and under the limit.
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  tree:\n");
    for i in 0..100 {
        text.push_str(&format!("{}-\n", "  ".repeat(i + 2)));
    }
    text.push_str(&format!("{}- leaf\n", "  ".repeat(102)));
    let case = Case::new();
    case.write("deep.yaml", &text);
    let report = assert_fine(&case.scan(&[]));
    // A ConfigMap is a Kubernetes object: read, nothing to check.
    assert_eq!(report["summary"]["files_scanned"], 2);
    assert_eq!(report["summary"]["files_skipped"], 0);
}

#[test]
fn deeply_nested_yaml_error_is_in_user_terms() {
    let case = Case::new();
    case.write("deep.yaml", deep_block_yaml());
    let run = run_in_case(&case, &["scan", "in/deep.yaml", "--format", "json"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let report = run.json();
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("depth") || message.contains("nest"),
        "{message}"
    );
    assert!(
        !message.contains('{') && !message.contains("budget"),
        "{message}"
    );
}

#[test]
fn non_utf8_bytes_are_located_in_characters() {
    // Windows-1252 text in a ConfigMap; the line also holds UTF-8 `ü` and `ß`, which
    // count as one column each.
    let mut bytes = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: storefront-copy\n  namespace: shop\ndata:\n  greeting: \"Gr\xC3\xBC\xC3\x9Fe aus K\xC3\xB6ln\"\n".to_vec();
    let prefix = "  tagline: \"Grüße, Caf";
    bytes.extend_from_slice(prefix.as_bytes());
    bytes.extend_from_slice(b"\xE9 cr\xE8me\"\n");
    let case = Case::new();
    case.write("copy.yaml", &bytes);
    let run = case.scan(&[]);
    let col = prefix.chars().count() as u32 + 1;
    assert_eq!(col, 23);
    assert_failed(&run, "in/copy.yaml", At::Exact(8, col), &["UTF-8"]);
}

#[test]
fn non_utf8_bytes_in_json_are_located() {
    let bytes =
        b"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\": \"Fran\xE7ais\"}]\n}\n";
    let case = Case::new();
    case.write("fr.json", bytes);
    let run = case.scan(&[]);
    let col = "  \"Statement\": [{\"Sid\": \"Fran".chars().count() as u32 + 1;
    assert_failed(&run, "in/fr.json", At::Exact(3, col), &["UTF-8"]);
}

#[test]
fn file_above_the_size_limit_is_an_error_without_position() {
    let case = Case::new();
    let path = case.write("huge.yaml", b"");
    // Sparse: no disk space used, and refused before it is parsed.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(breakout::MAX_FILE_BYTES + 1)
        .unwrap();
    let run = case.scan(&[]);
    let mib = (breakout::MAX_FILE_BYTES / (1024 * 1024)).to_string();
    let (_, _, message) = assert_failed(&run, "in/huge.yaml", At::Nowhere, &["larger than"]);
    assert!(message.contains(&mib), "{message}");
}

#[test]
fn file_exactly_at_the_size_limit_is_read() {
    let case = Case::new();
    let path = case.write("big.yaml", b"");
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(breakout::MAX_FILE_BYTES)
        .unwrap();
    let run = case.scan(&[]);
    // Not refused for its size: read, and found to be NUL bytes.
    assert_failed(&run, "in/big.yaml", At::Exact(1, 1), &["binary"]);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported_not_followed() {
    let case = Case::new();
    let sub = case.root.path().join("in/sub");
    fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink("..", sub.join("loop")).unwrap();
    let run = case.scan(&[]);
    assert_failed(&run, "in/sub/loop", At::Nowhere, &["loop"]);
    let report = run.json();
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["file"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| *f == GOOD_NAME),
        "scanned through the loop: {files:?}"
    );
}

#[cfg(unix)]
#[test]
fn self_referencing_symlink_is_an_error() {
    let case = Case::new();
    std::os::unix::fs::symlink("self.yaml", case.root.path().join("in/self.yaml")).unwrap();
    let run = case.scan(&[]);
    assert_failed(
        &run,
        "in/self.yaml",
        At::Nowhere,
        &["symbolic links", "loop"],
    );
}

#[cfg(unix)]
#[test]
fn fifo_named_yaml_does_not_hang() {
    let case = Case::new();
    let fifo = case.root.path().join("in/pipe.yaml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // Found by walking: not a regular file, so not opened (opening would block).
    let run = case.scan(&[]);
    assert_fine(&run);
    // Named on the command line: refused, not opened.
    let run = run_in_case(
        &case,
        &["scan", "in/pipe.yaml", GOOD_NAME, "--format", "json"],
    );
    assert_failed(&run, "in/pipe.yaml", At::Nowhere, &["not a regular file"]);
}

fn run_in_case(case: &Case, args: &[&str]) -> Run {
    run(case.root.path(), args)
}

#[test]
fn missing_path_on_the_command_line_is_an_error() {
    let case = Case::new();
    let run = run_in_case(
        &case,
        &["scan", "in", "k8s/payments.yaml", "--format", "json"],
    );
    assert_failed(&run, "k8s/payments.yaml", At::Nowhere, &["cannot read"]);
}

#[test]
fn duplicate_key_is_an_error_at_the_second_key_and_the_last_value_is_judged() {
    // The second securityContext silently replaces the hardened one in most YAML
    // readers; the API server rejects the manifest under strict field validation and
    // keeps the last value where it only warns. The error stays (exit 2), and the
    // document is judged with the last value, so a Deployment is never left unscanned.
    let text = format!(
        "{DEPLOYMENT_HEAD}          securityContext:\n            runAsNonRoot: true\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false\n          securityContext:\n            privileged: true\n"
    );
    let case = Case::new();
    case.write("payments.yaml", &text);
    let run = case.scan(&[]);
    // Refused and judged: counted as failed, not scanned (the counts add up to the
    // files read).
    let (_, _, message) =
        assert_failed(&run, "in/payments.yaml", At::Exact(16, 11), &["duplicate"]);
    assert!(message.contains("securityContext"), "{message}");
    assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
    let report = run.json();
    let rules: Vec<String> = findings_in(&report, "in/payments.yaml")
        .into_iter()
        .map(|(rule, _, _)| rule)
        .collect();
    assert!(rules.contains(&"BRK601".to_string()), "{rules:?}");
    assert!(rules.contains(&"BRK401".to_string()), "{rules:?}");
}

#[test]
fn several_bad_files_are_all_reported_and_sorted() {
    let case = Case::new();
    case.write("b-tab.yaml", TAB_INDENTED);
    case.write("a-comma.json", POLICY_TRAILING_COMMA);
    case.write("c-bin.yaml", [0u8, 1, 2]);
    let run = case.scan(&[]);
    assert_eq!(run.code, Some(2));
    let report = run.json();
    let failed: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["in/a-comma.json", "in/b-tab.yaml", "in/c-bin.yaml"]
    );
    assert_eq!(report["summary"]["files_failed"], 3);
    let stderr_files: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("breakout: error: "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(stderr_files, failed);
    assert_good_reported(&report);
}

// ---------------------------------------------------------------------------------
// Inputs that are odd but fine

#[test]
fn good_manifest_alone() {
    let case = Case::new();
    let report = assert_fine(&case.scan(&[]));
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["summary"]["findings"], GOOD_FINDINGS.len());
}

#[test]
fn empty_and_blank_files_are_skipped() {
    let case = Case::new();
    case.write("empty.yaml", "");
    case.write("blank.yml", "\n  \n\n");
    case.write("empty.json", "");
    let report = assert_fine(&case.scan(&[]));
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["summary"]["files_skipped"], 3);
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("in/blank.yml", "empty file"),
            ("in/empty.json", "empty file"),
            ("in/empty.yaml", "empty file"),
        ]
    );
}

/// Copies the vulnerable samples into `dir`, converting line ends with `convert`.
fn copy_samples(dir: &Path, convert: impl Fn(&[u8]) -> Vec<u8>) {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for kind in ["k8s", "iam"] {
        let from = samples.join(kind).join("vulnerable");
        let to = dir.join(kind);
        fs::create_dir_all(&to).unwrap();
        for entry in fs::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            fs::write(to.join(path.file_name().unwrap()), convert(&bytes)).unwrap();
        }
    }
}

fn all_findings(dir: &Path) -> (Vec<(String, String, u64, u64)>, Value) {
    let run = run(dir, &["scan", ".", "--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", run.stderr);
    let list = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    (list, report)
}

fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 20);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

fn with_bom(bytes: &[u8]) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), bytes].concat()
}

#[test]
fn crlf_line_ends_give_the_same_findings_and_positions() {
    let lf = tempfile::tempdir().unwrap();
    let crlf = tempfile::tempdir().unwrap();
    copy_samples(lf.path(), |b| b.to_vec());
    copy_samples(crlf.path(), to_crlf);
    let sample = fs::read(crlf.path().join("k8s/orders-api.yaml")).unwrap();
    assert!(sample.windows(2).any(|w| w == b"\r\n"));
    let (want, want_report) = all_findings(lf.path());
    let (got, got_report) = all_findings(crlf.path());
    assert!(want.len() > 40, "{}", want.len());
    assert_eq!(got, want);
    assert_eq!(got_report["summary"], want_report["summary"]);
}

#[test]
fn crlf_line_ends_give_the_same_error_positions() {
    let case = Case::new();
    case.write("service.yaml", to_crlf(TAB_INDENTED.as_bytes()));
    case.write(
        "orders-read.json",
        to_crlf(POLICY_TRAILING_COMMA.as_bytes()),
    );
    let run = case.scan(&[]);
    assert_eq!(run.code, Some(2));
    let report = run.json();
    let positions: Vec<(&str, u64)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["file"].as_str().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        positions,
        [("in/orders-read.json", 8), ("in/service.yaml", 4)]
    );
    let comma = report["errors"][0]["column"].as_u64().unwrap();
    let line8 = POLICY_TRAILING_COMMA.lines().nth(7).unwrap();
    assert_eq!(comma, line8.rfind(',').unwrap() as u64 + 1);
    assert_good_reported(&report);
}

#[test]
fn utf8_bom_gives_the_same_findings_and_positions() {
    let plain = tempfile::tempdir().unwrap();
    let bom = tempfile::tempdir().unwrap();
    copy_samples(plain.path(), |b| b.to_vec());
    copy_samples(bom.path(), with_bom);
    let (want, _) = all_findings(plain.path());
    let (got, _) = all_findings(bom.path());
    assert_eq!(got, want);
}

#[test]
fn utf8_bom_does_not_shift_first_line_columns() {
    // A one-line policy: its findings and its errors are on line 1, where a BOM is.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
    let broken = r#"{"Version": "2012-10-17", "Statement": [],}"#;
    let case = Case::new();
    case.write("plain.json", policy);
    case.write("bom.json", with_bom(policy.as_bytes()));
    case.write("plain-broken.json", broken);
    case.write("bom-broken.json", with_bom(broken.as_bytes()));
    let run = case.scan(&[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let report = run.json();
    let plain = findings_in(&report, "in/plain.json");
    let plain_cols: Vec<_> = plain.iter().map(|(r, l, c)| (r.as_str(), *l, *c)).collect();
    let action = policy.find("\"Action\"").unwrap() as u64 + 1;
    assert!(
        plain_cols.contains(&("BRK101", 1, action)),
        "BRK101 should point at Action ({action}): {plain_cols:?}"
    );
    assert_eq!(findings_in(&report, "in/bom.json"), plain);
    let comma = broken.rfind(',').unwrap() as u32 + 1;
    let errs = run.errors_for("in/bom-broken.json");
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(&format!("in/bom-broken.json:1:{comma}: ")),
        "{}",
        errs[0]
    );
    assert!(
        run.errors_for("in/plain-broken.json")[0]
            .starts_with(&format!("in/plain-broken.json:1:{comma}: ")),
        "{}",
        run.stderr
    );
}

#[test]
fn yaml_without_kubernetes_objects_is_skipped() {
    let case = Case::new();
    case.write(
        "ci.yaml",
        "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test\n",
    );
    case.write(
        "site.yml",
        "- hosts: web\n  become: true\n  tasks:\n    - name: install nginx\n      apt:\n        name: nginx\n        state: present\n",
    );
    case.write(
        "comments.yaml",
        "# nothing here yet\n---\n# still nothing\n",
    );
    case.write(
        "package.json",
        r#"{"name": "storefront", "version": "1.4.0", "scripts": {"build": "vite build"}}"#,
    );
    let report = assert_fine(&case.scan(&[]));
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["summary"]["files_skipped"], 4);
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            "in/ci.yaml",
            "in/comments.yaml",
            "in/package.json",
            "in/site.yml"
        ]
    );
    for s in report["skipped"].as_array().unwrap() {
        assert!(
            s["reason"]
                .as_str()
                .unwrap()
                .contains("no Kubernetes object"),
            "{s}"
        );
    }
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        GOOD_FINDINGS.len()
    );
}

#[test]
fn ten_megabyte_manifest_of_deployments_is_scanned_whole() {
    // Every Deployment of the good manifest, renamed, until the file passes 10 MB.
    let deployment = GOOD
        .split("\n---\n")
        .find(|d| d.contains("kind: Deployment"))
        .unwrap();
    assert!(deployment.contains("  name: orders-api\n  namespace: shop\n"));
    let mut text = String::with_capacity(10_600_000);
    let mut count: u64 = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str("---\n");
        text.push_str(&deployment.replace(
            "  name: orders-api\n  namespace: shop\n",
            &format!("  name: orders-api-{count}\n  namespace: shop\n"),
        ));
        text.push('\n');
        count += 1;
    }
    let case = Case::new();
    case.write("bundle.yaml", &text);
    let report = assert_fine(&case.scan(&[]));
    let summary = &report["summary"];
    assert_eq!(summary["files_scanned"], 2);
    assert_eq!(summary["workloads"], count + 1, "{summary:#}");
    assert_eq!(summary["containers"], count + 1);
    assert_eq!(
        summary["findings"],
        GOOD_FINDINGS.len() as u64 * (count + 1)
    );
    assert_eq!(summary["by_rule"]["BRK301"], count + 1);
    assert_eq!(
        findings_in(&report, "in/bundle.yaml").len(),
        GOOD_FINDINGS.len() * count as usize
    );
    // The last Deployment's finding is on the right line of a 10 MB file.
    let last_runas = text.rfind("runAsUser: 0").unwrap();
    let line = text[..last_runas].matches('\n').count() as u64 + 1;
    let last = findings_in(&report, "in/bundle.yaml")
        .into_iter()
        .filter(|(r, _, _)| r == "BRK301")
        .map(|(_, l, _)| l)
        .max()
        .unwrap();
    assert_eq!(last, line, "BRK301 points at the pod's runAsUser key");
}
