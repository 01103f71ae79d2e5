//! Terraform configurations end to end, through `breakout::scan`: variables and their
//! precedence, locals, `count`/`for_each`, local and remote modules, `file()` and
//! `templatefile()`, heredoc and `jsonencode` policies, policy documents, the resource
//! extractors (IAM, ECS, Batch, metadata options, the kubernetes provider), bad input,
//! and the samples in `samples/terraform`.
//!
//! Each test writes a small module into a temporary folder (or reads
//! `tests/fixtures/terraform/`) and asserts which rule fired, on which resource address,
//! in which file and on which line. Lines are looked up in the module text with
//! [`line_of`], so a test states the line it means ("the line of `Action =`").
//!

use breakout::facts::Tri;
use breakout::TerraformInputs as Inputs;
use breakout::{scan, Report, ScanOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;

use common::{write_tree as write, ROOT};

// ---------------------------------------------------------------------------------
// Helpers

/// Scans `paths` with the built-in policies and Terraform `inputs`.
fn run(paths: &[PathBuf], inputs: Inputs) -> Report {
    scan(&ScanOptions {
        paths: paths.to_vec(),
        policies: breakout::engine::builtin(),
        terraform: inputs,
        ..Default::default()
    })
    .unwrap()
}

fn scan_dir(dir: &Path) -> Report {
    run(&[dir.to_path_buf()], Inputs::default())
}

/// `file` relative to `root` (as written or canonical), with `/` separators.
fn rel(file: &str, root: &Path) -> String {
    let file = file.replace('\\', "/");
    let mut prefixes = vec![root.display().to_string()];
    if let Ok(c) = root.canonicalize() {
        prefixes.push(c.display().to_string());
    }
    for p in prefixes {
        let p = p.replace('\\', "/");
        if let Some(rest) = file.strip_prefix(&p) {
            return rest.trim_start_matches('/').to_string();
        }
    }
    file
}

/// A finding as tests compare it: rule, resource, file (relative to the scanned folder)
/// and line.
type Hit = (String, String, String, u32);

/// The findings of a report, in report order.
fn hits(report: &Report, root: &Path) -> Vec<Hit> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.resource.clone(),
                rel(&f.location.file, root),
                f.location.line,
            )
        })
        .collect()
}

/// Asserts the findings are exactly `expected` (in any order).
#[track_caller]
fn assert_hits(report: &Report, root: &Path, expected: &[(&str, &str, &str, u32)]) {
    let mut got = hits(report, root);
    got.sort();
    let mut want: Vec<Hit> = expected
        .iter()
        .map(|(r, res, f, l)| (r.to_string(), res.to_string(), f.to_string(), *l))
        .collect();
    want.sort();
    assert_eq!(got, want, "findings differ (errors: {:?})", report.errors);
}

#[track_caller]
fn assert_no_errors(report: &Report) {
    assert!(report.errors.is_empty(), "errors: {:#?}", report.errors);
}

/// The 1-based line of the first line of `text` that contains `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in the text")) as u32
        + 1
}

/// The 1-based line of the `n`th (0-based) line of `text` that contains `needle`.
#[track_caller]
fn nth_line_of(text: &str, needle: &str, n: usize) -> u32 {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text {} times", n + 1))
        .0 as u32
        + 1
}

/// The actions of the statement with `sid` held by `resource`.
#[track_caller]
fn actions_of(report: &Report, resource: &str, sid: &str) -> Vec<String> {
    report
        .facts
        .iam_statements
        .iter()
        .find(|s| s.resource == resource && s.sid.as_deref() == Some(sid))
        .unwrap_or_else(|| {
            panic!(
                "no statement {sid} on {resource}: {:?}",
                report
                    .facts
                    .iam_statements
                    .iter()
                    .map(|s| (&s.resource, &s.sid))
                    .collect::<Vec<_>>()
            )
        })
        .actions
        .clone()
}

/// Runs `f` on another thread and fails if it takes longer than `limit` (a hang).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(16 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

/// An `aws_iam_policy` whose one statement has the given `Action` and `Resource`
/// expressions, written with `jsonencode`.
fn policy(name: &str, action: &str, resource: &str) -> String {
    format!(
        r#"resource "aws_iam_policy" "{name}" {{
  name = "{name}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Effect   = "Allow"
        Action   = {action}
        Resource = {resource}
      }},
    ]
  }})
}}
"#
    )
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------
// Variables

const PRECEDENCE_VARIABLES: &str = r#"variable "only_default" {
  default = "s3:FromDefault"
}

variable "from_tfvars" {
  default = "s3:FromDefault"
}

variable "from_auto" {
  default = "s3:FromDefault"
}

variable "auto_order" {
  default = "s3:FromDefault"
}

variable "from_var_file" {
  default = "s3:FromDefault"
}

variable "var_file_order" {
  default = "s3:FromDefault"
}

variable "from_cli" {
  default = "s3:FromDefault"
}

variable "cli_order" {
  default = "s3:FromDefault"
}

variable "cli_list" {
  type    = list(string)
  default = []
}
"#;

const PRECEDENCE_MAIN: &str = r#"resource "aws_iam_policy" "p" {
  name = "layers"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "OnlyDefault", Effect = "Allow", Action = var.only_default, Resource = "*" },
      { Sid = "FromTfvars", Effect = "Allow", Action = var.from_tfvars, Resource = "*" },
      { Sid = "FromAuto", Effect = "Allow", Action = var.from_auto, Resource = "*" },
      { Sid = "AutoOrder", Effect = "Allow", Action = var.auto_order, Resource = "*" },
      { Sid = "FromVarFile", Effect = "Allow", Action = var.from_var_file, Resource = "*" },
      { Sid = "VarFileOrder", Effect = "Allow", Action = var.var_file_order, Resource = "*" },
      { Sid = "FromCli", Effect = "Allow", Action = var.from_cli, Resource = "*" },
      { Sid = "CliOrder", Effect = "Allow", Action = var.cli_order, Resource = "*" },
      { Sid = "CliList", Effect = "Allow", Action = var.cli_list, Resource = "*" },
    ]
  })
}
"#;

/// Terraform's order: defaults, `terraform.tfvars`, `*.auto.tfvars` in name order,
/// `-var-file` in order, `-var` in order; later wins.
#[test]
fn variables_take_values_in_terraforms_precedence() {
    let dir = write(&[
        ("variables.tf", PRECEDENCE_VARIABLES),
        ("main.tf", PRECEDENCE_MAIN),
        (
            "terraform.tfvars",
            r#"from_tfvars   = "s3:FromTfvars"
from_auto     = "s3:FromTfvars"
from_var_file = "s3:FromTfvars"
from_cli      = "s3:FromTfvars"
"#,
        ),
        (
            "b.auto.tfvars",
            r#"auto_order = "s3:FromAutoB"
"#,
        ),
        (
            "a.auto.tfvars",
            r#"from_auto     = "s3:FromAutoA"
auto_order    = "s3:FromAutoA"
from_var_file = "s3:FromAutoA"
"#,
        ),
        (
            "env/one.tfvars",
            r#"from_var_file  = "s3:FromVarFileOne"
var_file_order = "s3:FromVarFileOne"
from_cli       = "s3:FromVarFileOne"
"#,
        ),
        (
            "env/two.tfvars",
            r#"var_file_order = "s3:FromVarFileTwo"
"#,
        ),
    ]);
    let inputs = Inputs {
        var_files: vec![
            dir.path().join("env/one.tfvars"),
            dir.path().join("env/two.tfvars"),
        ],
        vars: vec![
            ("from_cli".into(), "s3:FromCli".into()),
            ("cli_order".into(), "s3:First".into()),
            ("cli_order".into(), "s3:Last".into()),
            // HCL syntax: a list.
            ("cli_list".into(), r#"["dynamodb:*"]"#.into()),
        ],
        // TF_VAR_ values come first: terraform.tfvars overrides this one.
        env: vec![("from_tfvars".into(), "s3:FromEnv".into())],
    };
    let report = run(&[dir.path().to_path_buf()], inputs);
    assert_no_errors(&report);
    let p = "aws_iam_policy.p";
    for (sid, want) in [
        ("OnlyDefault", "s3:FromDefault"),
        ("FromTfvars", "s3:FromTfvars"),
        ("FromAuto", "s3:FromAutoA"),
        ("AutoOrder", "s3:FromAutoB"),
        ("FromVarFile", "s3:FromVarFileOne"),
        ("VarFileOrder", "s3:FromVarFileTwo"),
        ("FromCli", "s3:FromCli"),
        ("CliOrder", "s3:Last"),
        ("CliList", "dynamodb:*"),
    ] {
        assert_eq!(actions_of(&report, p, sid), strings(&[want]), "{sid}");
    }
    // Only the list given with --var grants DynamoDB: BRK101 and BRK102 on its line.
    let line = line_of(PRECEDENCE_MAIN, "Sid = \"CliList\"");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", p, "main.tf", line),
            ("BRK102", p, "main.tf", line),
        ],
    );
}

/// `TF_VAR_name` overrides a default, as in Terraform. It is read as HCL for a variable
/// whose type is not primitive (`list(string)` here), and literally for a primitive type
/// or no type (Terraform's "literal" parsing mode): the untyped `literal` is the string
/// `["dynamodb:*"]`, which grants nothing.
#[test]
fn environment_variables_override_defaults() {
    let main = format!(
        "variable \"actions\" {{\n  type    = list(string)\n  default = [\"s3:GetObject\"]\n}}\n\n\
         variable \"literal\" {{\n  default = [\"s3:GetObject\"]\n}}\n\n{}\n{}",
        policy("p", "var.actions", "\"*\""),
        policy("q", "var.literal", "\"*\"")
    );
    let dir = write(&[("main.tf", &main)]);
    let inputs = Inputs {
        env: vec![
            ("actions".into(), r#"["dynamodb:*"]"#.into()),
            ("literal".into(), r#"["dynamodb:*"]"#.into()),
        ],
        ..Default::default()
    };
    let report = run(&[dir.path().to_path_buf()], inputs);
    assert_no_errors(&report);
    let action = line_of(&main, "Action");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.p", "main.tf", action),
            (
                "BRK102",
                "aws_iam_policy.p",
                "main.tf",
                line_of(&main, "Resource"),
            ),
        ],
    );
    assert_eq!(
        actions_of_any(&report, "aws_iam_policy.q"),
        strings(&[r#"["dynamodb:*"]"#])
    );
}

/// Without the var files and --var, the same module has no finding: the values above
/// came from the inputs, not from somewhere else.
#[test]
fn variables_without_inputs_use_their_defaults() {
    let dir = write(&[
        ("variables.tf", PRECEDENCE_VARIABLES),
        ("main.tf", PRECEDENCE_MAIN),
    ]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(&report, dir.path(), &[]);
    assert_eq!(
        actions_of(&report, "aws_iam_policy.p", "FromCli"),
        strings(&["s3:FromDefault"])
    );
    assert_eq!(
        actions_of(&report, "aws_iam_policy.p", "CliList"),
        Vec::<String>::new()
    );
}

/// A variable with no default and no value is unknown: a policy resting on it is
/// reported at low confidence (DESIGN.md decision 4), never as certain, never dropped,
/// and that is not an error.
#[test]
fn a_variable_without_value_makes_the_policy_unknown() {
    let main = format!(
        r#"variable "table_actions" {{
  type = list(string)
}}

{}"#,
        policy("unknown", "var.table_actions", "\"*\"")
    );
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK101",
                "aws_iam_policy.unknown",
                "main.tf",
                line_of(&main, "Action"),
            ),
            (
                "BRK102",
                "aws_iam_policy.unknown",
                "main.tf",
                line_of(&main, "Resource"),
            ),
        ],
    );
    assert!(report
        .findings
        .iter()
        .all(|f| f.confidence == breakout::engine::Confidence::Low));
    assert!(report.findings[0]
        .message
        .contains("known only at apply time"));
    // The policy was read (it is not skipped), its actions are just not known.
    assert!(report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource == "aws_iam_policy.unknown"));
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
}

#[test]
fn a_var_file_that_does_not_parse_is_an_error_with_its_position() {
    let main = policy("p", "var.actions", "\"*\"");
    let main = format!("variable \"actions\" {{\n  default = \"s3:GetObject\"\n}}\n\n{main}");
    let dir = write(&[
        ("main.tf", &main),
        ("broken.auto.tfvars", "actions = [\"dynamodb:*\"\n"),
    ]);
    let report = scan_dir(dir.path());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert!(e.file.ends_with("broken.auto.tfvars"), "{e:?}");
    assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    // The module is still scanned, with the default.
    assert_eq!(
        actions_of_any(&report, "aws_iam_policy.p"),
        strings(&["s3:GetObject"])
    );
}

fn actions_of_any(report: &Report, resource: &str) -> Vec<String> {
    report
        .facts
        .iam_statements
        .iter()
        .find(|s| s.resource == resource)
        .unwrap_or_else(|| panic!("no statement on {resource}"))
        .actions
        .clone()
}

// ---------------------------------------------------------------------------------
// Locals

/// Locals refer to locals declared after them and go through functions; the finding is
/// on the line of `Action =`.
#[test]
fn locals_refer_to_locals_in_any_order() {
    let main = format!(
        r#"locals {{
  actions       = [local.action]
  action        = "${{local.service}}:*"
  service       = lower(local.upper_service)
  upper_service = "DYNAMODB"
  table_arn     = format("arn:aws:dynamodb:%s:%s:table/%s", "eu-west-1", "111122223333", "orders")
}}

{}"#,
        policy("p", "local.actions", "local.table_arn")
    );
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(
        actions_of_any(&report, "aws_iam_policy.p"),
        strings(&["dynamodb:*"])
    );
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "aws_iam_policy.p",
            "main.tf",
            line_of(&main, "Action   = local.actions"),
        )],
    );
}

#[test]
fn a_locals_cycle_is_an_error_at_its_reference_and_other_files_are_scanned() {
    let cycle = r#"locals {
  first  = local.second
  second = "${local.third}-x"
  third  = local.first
}

resource "aws_iam_policy" "uses_cycle" {
  name   = local.first
  policy = "{}"
}
"#;
    let other = policy("fine", "\"dynamodb:*\"", "\"*\"");
    let dir = write(&[("cycle.tf", cycle), ("other.tf", &other)]);
    let report = within(Duration::from_secs(60), {
        let d = dir.path().to_path_buf();
        move || scan_dir(&d)
    });
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(rel(&e.file, dir.path()), "cycle.tf");
    assert!(e.message.contains("cycle"), "{e:?}");
    // The reference that closes the cycle: `local.first` in `third`.
    assert_eq!(
        e.line,
        Some(line_of(cycle, "third  = local.first")),
        "{e:?}"
    );
    assert!(e.column.is_some());
    let action = line_of(&other, "Action");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.fine", "other.tf", action),
            ("BRK102", "aws_iam_policy.fine", "other.tf", action + 1),
        ],
    );
}

// ---------------------------------------------------------------------------------
// count and for_each

const EXPANSION: &str = r#"variable "tables" {
  default = ["orders", "payments"]
}

variable "enabled" {
  default = false
}

resource "aws_iam_policy" "p" {
  count = length(var.tables)
  name  = "p-${count.index}"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:*"
      Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/${var.tables[count.index]}"
    }]
  })
}

resource "aws_iam_policy" "q" {
  for_each = { orders = "dynamodb:*", reports = "dynamodb:GetItem" }
  name     = each.key
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = each.value
      Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/${each.key}"
    }]
  })
}

resource "aws_iam_policy" "none" {
  count = 0
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "*" }]
  })
}

resource "aws_iam_policy" "disabled" {
  count = var.enabled ? 1 : 0
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "*" }]
  })
}

resource "aws_iam_policy" "no_tables" {
  for_each = toset([])
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "*" }]
  })
}
"#;

#[test]
fn count_and_for_each_give_indexed_addresses_and_zero_gives_none() {
    let dir = write(&[("main.tf", EXPANSION)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let action = line_of(EXPANSION, "Action   = \"dynamodb:*\"");
    let each = line_of(EXPANSION, "Action   = each.value");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.p[0]", "main.tf", action),
            ("BRK101", "aws_iam_policy.p[1]", "main.tf", action),
            ("BRK101", "aws_iam_policy.q[\"orders\"]", "main.tf", each),
        ],
    );
    // count.index and each.key reached the values.
    let resources = |address: &str| {
        report
            .facts
            .iam_statements
            .iter()
            .find(|s| s.resource == address)
            .unwrap()
            .resources
            .clone()
    };
    assert_eq!(
        resources("aws_iam_policy.p[1]"),
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/payments"])
    );
    assert_eq!(
        resources("aws_iam_policy.q[\"reports\"]"),
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/reports"])
    );
    assert!(!report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource.contains("none")
            || s.resource.contains("disabled")
            || s.resource.contains("no_tables")));
}

/// An unknown count judges the configuration once, as `[*]`.
#[test]
fn an_unknown_count_is_judged_once() {
    let main = format!(
        "variable \"replicas\" {{\n  type = number\n}}\n\n{}",
        policy(
            "p",
            "\"dynamodb:*\"",
            "\"arn:aws:dynamodb:eu-west-1:111122223333:table/t\""
        )
        .replace("  name = \"p\"\n", "  count = var.replicas\n")
    );
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "aws_iam_policy.p[*]",
            "main.tf",
            line_of(&main, "Action"),
        )],
    );
}

// ---------------------------------------------------------------------------------
// Modules

const APP_MODULE: &str = r#"variable "name" {
  type = string
}

variable "table" {
  type = string
}

resource "aws_iam_policy" "this" {
  name = "${var.name}-tables"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Tables"
        Effect   = "Allow"
        Action   = "dynamodb:*"
        Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/${var.table}"
      },
    ]
  })
}

output "policy_name" {
  value = "${var.name}-tables"
}
"#;

#[test]
fn a_local_module_is_expanded_with_its_inputs_and_addressed_as_terraform_does() {
    let main = r#"module "app" {
  source = "./modules/app"
  name   = "orders"
  table  = "orders-prod"
}

module "per_team" {
  source   = "./modules/app"
  for_each = toset(["billing", "search"])
  name     = each.key
  table    = "${each.key}-prod"
}

module "counted" {
  source = "./modules/app"
  count  = 1
  name   = "counted"
  table  = "counted-${count.index}"
}

# A module output flows back into the root.
resource "aws_iam_policy" "from_output" {
  name = module.app.policy_name
  policy = jsonencode({
    Statement = [{ Sid = "Read", Effect = "Allow", Action = "s3:GetObject", Resource = "*" }]
  })
}
"#;
    let dir = write(&[("main.tf", main), ("modules/app/main.tf", APP_MODULE)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let action = line_of(APP_MODULE, "Action   = \"dynamodb:*\"");
    let file = "modules/app/main.tf";
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "module.app.aws_iam_policy.this", file, action),
            (
                "BRK101",
                "module.per_team[\"billing\"].aws_iam_policy.this",
                file,
                action,
            ),
            (
                "BRK101",
                "module.per_team[\"search\"].aws_iam_policy.this",
                file,
                action,
            ),
            (
                "BRK101",
                "module.counted[0].aws_iam_policy.this",
                file,
                action,
            ),
        ],
    );
    let resources = |address: &str| {
        report
            .facts
            .iam_statements
            .iter()
            .find(|s| s.resource == address)
            .unwrap_or_else(|| panic!("no {address}"))
            .resources
            .clone()
    };
    assert_eq!(
        resources("module.app.aws_iam_policy.this"),
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-prod"])
    );
    assert_eq!(
        resources("module.per_team[\"search\"].aws_iam_policy.this"),
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/search-prod"])
    );
    assert_eq!(
        resources("module.counted[0].aws_iam_policy.this"),
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/counted-0"])
    );
    assert!(
        report.modules_not_scanned.is_empty(),
        "{:?}",
        report.modules_not_scanned
    );
    // The module folder is not also scanned as a root of its own.
    assert!(!report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource == "aws_iam_policy.this"));
}

#[test]
fn remote_modules_are_listed_as_not_scanned() {
    let main = r#"module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
  name    = "orders"
}

module "shared" {
  source = "git::https://example.com/infra/modules.git//iam?ref=v1.2.0"
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(
        report.modules_not_scanned.len(),
        2,
        "{:?}",
        report.modules_not_scanned
    );
    let listed = report.modules_not_scanned.join("\n");
    assert!(
        listed.contains("module.vpc (terraform-aws-modules/vpc/aws)"),
        "{listed}"
    );
    assert!(
        listed
            .contains("module.shared (git::https://example.com/infra/modules.git//iam?ref=v1.2.0)"),
        "{listed}"
    );
    assert!(
        listed.contains("main.tf"),
        "names the calling file: {listed}"
    );
}

/// A registry module `terraform init` installed under `.terraform/modules` is read from
/// there (nothing is fetched), nested modules included, with Terraform's addresses.
#[test]
fn modules_installed_by_terraform_init_are_read() {
    let main = r#"module "workers" {
  source  = "example/workers/aws"
  version = "1.0.0"
  actions = ["dynamodb:*"]
}

module "missing" {
  source = "example/missing/aws"
}
"#;
    let workers = r#"variable "actions" {}

module "queue" {
  source = "./modules/queue"
}
"#;
    let queue = r#"resource "aws_iam_policy" "q" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:PutItem", Resource = "*" }]
  })
}
"#;
    let manifest = r#"{"Modules": [
  {"Key": "", "Source": "", "Dir": "."},
  {"Key": "workers", "Source": "registry.terraform.io/example/workers/aws", "Version": "1.0.0", "Dir": ".terraform/modules/workers"},
  {"Key": "workers.queue", "Source": "./modules/queue", "Dir": ".terraform/modules/workers/modules/queue"}
]}"#;
    let dir = write(&[
        ("main.tf", main),
        (".terraform/modules/modules.json", manifest),
        (".terraform/modules/workers/main.tf", workers),
        (".terraform/modules/workers/modules/queue/main.tf", queue),
    ]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK102",
            "module.workers.module.queue.aws_iam_policy.q",
            ".terraform/modules/workers/modules/queue/main.tf",
            line_of(queue, "Action"),
        )],
    );
    let listed = report.modules_not_scanned.join("\n");
    assert!(
        listed.contains("module.missing") && listed.contains("not installed"),
        "{listed}"
    );
    assert!(!listed.contains("module.workers"), "{listed}");
}

/// A module outside the scanned folder is not read, even through a symbolic link.
#[test]
fn a_module_outside_the_scanned_folder_is_not_read() {
    let dir = write(&[
        (
            "outside/main.tf",
            &policy("outside", "\"dynamodb:*\"", "\"*\""),
        ),
        (
            "root/main.tf",
            r#"module "shared" {
  source = "../outside"
}
"#,
        ),
    ]);
    let root = dir.path().join("root");
    let report = scan_dir(&root);
    assert_no_errors(&report);
    assert_hits(&report, &root, &[]);
    assert_eq!(report.modules_not_scanned.len(), 1);
    assert!(
        report.modules_not_scanned[0]
            .contains("module.shared (../outside): outside the scanned folder"),
        "{:?}",
        report.modules_not_scanned
    );
    assert!(report.facts.iam_statements.is_empty());
}

#[cfg(unix)]
#[test]
fn a_module_linked_from_outside_the_scanned_folder_is_not_read() {
    let dir = write(&[
        (
            "outside/main.tf",
            &policy("outside", "\"dynamodb:*\"", "\"*\""),
        ),
        (
            "root/main.tf",
            r#"module "linked" {
  source = "./linked"
}
"#,
        ),
    ]);
    let root = dir.path().join("root");
    std::os::unix::fs::symlink(dir.path().join("outside"), root.join("linked")).unwrap();
    let report = scan_dir(&root);
    assert!(
        report
            .modules_not_scanned
            .join("\n")
            .contains("module.linked (./linked)"),
        "{:?}",
        report.modules_not_scanned
    );
    assert!(
        !report
            .facts
            .iam_statements
            .iter()
            .any(|s| s.resource.starts_with("module.linked")),
        "{:?}",
        hits(&report, &root)
    );
}

#[test]
fn a_module_calling_itself_is_an_error_not_a_hang() {
    let main = format!(
        r#"module "again" {{
  source = "./"
}}

{}"#,
        policy("p", "\"dynamodb:GetItem\"", "\"*\"")
    );
    let dir = write(&[("main.tf", &main)]);
    let report = within(Duration::from_secs(60), {
        let d = dir.path().to_path_buf();
        move || scan_dir(&d)
    });
    assert!(!report.errors.is_empty());
    let e = &report.errors[0];
    assert_eq!(rel(&e.file, dir.path()), "main.tf");
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("module cycle"), "{e:?}");
    // The root's own policy is still judged.
    assert!(report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource == "aws_iam_policy.p"));
}

#[test]
fn modules_calling_each_other_are_an_error_not_a_hang() {
    let dir = write(&[
        (
            "a/main.tf",
            r#"module "b" {
  source = "../b"
}
"#,
        ),
        (
            "b/main.tf",
            r#"module "a" {
  source = "../a"
}
"#,
        ),
    ]);
    let report = within(Duration::from_secs(60), {
        let d = dir.path().to_path_buf();
        move || scan_dir(&d)
    });
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.message.contains("module cycle")),
        "{:?}",
        report.errors
    );
}

/// A self-calling module should be refused as a cycle once, not expanded 16 levels deep:
/// today each level repeats the module's resources (17 copies of every finding here),
/// and with `count = 2` the expansion is exponential (2^17 instances: 27 s and 7.5 GB;
/// `count = 3` takes a minute and 15 GB, `count = 10` does not finish).
#[test]
fn a_module_cycle_is_not_expanded() {
    let main = format!(
        r#"module "again" {{
  source = "./"
}}

{}"#,
        policy("p", "\"dynamodb:*\"", "\"*\"")
    );
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let action = line_of(&main, "Action");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.p", "main.tf", action),
            ("BRK102", "aws_iam_policy.p", "main.tf", action + 1),
        ],
    );
}

// ---------------------------------------------------------------------------------
// file() and templatefile()

const TABLE_POLICY_JSON: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Everything",
      "Effect": "Allow",
      "Action": "dynamodb:*",
      "Resource": "*"
    }
  ]
}
"#;

const TABLE_POLICY_TEMPLATE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Tables",
      "Effect": "Allow",
      "Action": ${jsonencode(actions)},
      "Resource": [
%{ for t in tables ~}
        "arn:aws:dynamodb:eu-west-1:111122223333:table/${t}",
%{ endfor ~}
        "arn:aws:dynamodb:eu-west-1:111122223333:table/${last}"
      ]
    }
  ]
}
"#;

/// Values from another file (a JSON policy, a template) are reported where they are
/// used: the line of `policy = file(...)`.
#[test]
fn file_and_templatefile_policies_are_reported_at_the_use_site() {
    let main = r#"resource "aws_iam_policy" "from_file" {
  name   = "from-file"
  policy = file("${path.module}/policies/everything.json")
}

resource "aws_iam_policy" "from_template" {
  name = "from-template"
  policy = templatefile("${path.module}/policies/tables.json.tpl", {
    actions = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    tables  = ["orders", "payments"]
    last    = "*"
  })
}

resource "aws_iam_policy" "relative" {
  name   = "relative"
  policy = file("policies/everything.json")
}
"#;
    let dir = write(&[
        ("main.tf", main),
        ("policies/everything.json", TABLE_POLICY_JSON),
        ("policies/tables.json.tpl", TABLE_POLICY_TEMPLATE),
    ]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let file = line_of(main, "policy = file(\"${path.module}");
    let template = line_of(main, "policy = templatefile(");
    let relative = line_of(main, "policy = file(\"policies/");
    // The JSON file is also an IAM policy in its own right, with its own lines.
    let json = "policies/everything.json";
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.from_file", "main.tf", file),
            ("BRK102", "aws_iam_policy.from_file", "main.tf", file),
            (
                "BRK102",
                "aws_iam_policy.from_template",
                "main.tf",
                template,
            ),
            ("BRK101", "aws_iam_policy.relative", "main.tf", relative),
            ("BRK102", "aws_iam_policy.relative", "main.tf", relative),
            (
                "BRK101",
                "IAM policy everything",
                json,
                line_of(TABLE_POLICY_JSON, "\"Action\""),
            ),
            (
                "BRK102",
                "IAM policy everything",
                json,
                line_of(TABLE_POLICY_JSON, "\"Resource\""),
            ),
        ],
    );
    // The template rendered its loop and its jsonencode.
    let st = report
        .facts
        .iam_statements
        .iter()
        .find(|s| s.resource == "aws_iam_policy.from_template")
        .unwrap();
    assert_eq!(
        st.actions,
        strings(&["dynamodb:PutItem", "dynamodb:DeleteItem"])
    );
    assert_eq!(st.resources.len(), 3, "{:?}", st.resources);
    assert!(
        st.resources[0].ends_with("table/orders"),
        "{:?}",
        st.resources
    );
}

/// `templatefile("../../etc/passwd")`, absolute paths and paths that leave the scanned
/// folder are not read: the value is unknown (no finding from the outside file), and
/// nothing panics.
#[test]
fn file_reads_never_leave_the_scanned_folder() {
    let dir = write(&[
        ("outside/everything.json", TABLE_POLICY_JSON),
        (
            "root/main.tf",
            r#"resource "aws_iam_policy" "traversal" {
  policy = templatefile("../../etc/passwd", {})
}

resource "aws_iam_policy" "absolute" {
  policy = file("/etc/passwd")
}

resource "aws_iam_policy" "sibling" {
  policy = file("../outside/everything.json")
}

resource "aws_iam_policy" "module_path" {
  policy = templatefile("${path.module}/../outside/everything.json", {})
}

resource "aws_iam_policy" "missing" {
  policy = file("${path.module}/no-such-file.json")
}
"#,
        ),
    ]);
    let root = dir.path().join("root");
    let report = scan_dir(&root);
    assert_hits(&report, &root, &[]);
    assert!(
        report.facts.iam_statements.is_empty(),
        "{:?}",
        report.facts.iam_statements
    );
    // Refused reads are unknown values, not input errors.
    assert_no_errors(&report);
}

#[cfg(unix)]
#[test]
fn file_does_not_follow_a_link_out_of_the_scanned_folder() {
    let dir = write(&[
        ("outside/everything.json", TABLE_POLICY_JSON),
        (
            "root/main.tf",
            r#"resource "aws_iam_policy" "linked" {
  policy = file("${path.module}/linked.json")
}
"#,
        ),
    ]);
    let root = dir.path().join("root");
    std::os::unix::fs::symlink(
        dir.path().join("outside/everything.json"),
        root.join("linked.json"),
    )
    .unwrap();
    let report = scan_dir(&root);
    assert!(
        !report
            .facts
            .iam_statements
            .iter()
            .any(|s| s.resource == "aws_iam_policy.linked"),
        "{:?}",
        hits(&report, &root)
    );
}

// ---------------------------------------------------------------------------------
// Evaluation limits

#[test]
fn a_for_over_a_huge_range_does_not_hang() {
    let main = r#"locals {
  huge   = [for i in range(1e9) : "dynamodb:Action${i}"]
  nested = [for i in range(5000) : [for j in range(5000) : i * j]]
}

resource "aws_iam_policy" "huge" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = local.huge, Resource = "*" }]
  })
}

resource "aws_iam_policy" "nested" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = local.nested, Resource = "*" }]
  })
}
"#;
    let dir = write(&[("main.tf", main)]);
    let started = Instant::now();
    let report = within(Duration::from_secs(120), {
        let d = dir.path().to_path_buf();
        move || scan_dir(&d)
    });
    assert!(started.elapsed() < Duration::from_secs(120));
    // The actions are unknown: both policies are reported, at low confidence only.
    let action = line_of(main, "Action = local.huge");
    let nested = line_of(main, "Action = local.nested");
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", "aws_iam_policy.huge", "main.tf", action),
            ("BRK102", "aws_iam_policy.huge", "main.tf", action),
            ("BRK101", "aws_iam_policy.nested", "main.tf", nested),
            ("BRK102", "aws_iam_policy.nested", "main.tf", nested),
        ],
    );
    assert!(report
        .findings
        .iter()
        .all(|f| f.confidence == breakout::engine::Confidence::Low));
    // range(1e9) is refused, a located error at the call (its value unknown); 25
    // million iterations exhaust the budget, a clear error at the `for` (the errors
    // that follow are `budget_exhaustion_is_contained`).
    assert!(report.errors.len() >= 2, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(rel(&e.file, dir.path()), "main.tf");
    assert_eq!(e.line, Some(line_of(main, "huge   = ")));
    assert!(e.message.contains("range of 1000000000 elements"), "{e:?}");
    let e = &report.errors[1];
    assert!(e.message.contains("budget"), "{e:?}");
    assert_eq!(e.line, Some(line_of(main, "nested = ")));
    assert!(report.errors[1..]
        .iter()
        .all(|e| e.message.contains("budget")));
}

/// Once one local exhausts the module's evaluation budget, every expression evaluated
/// after it fails too: an unrelated, literal `dynamodb:*` policy loses its findings and
/// each later attribute adds a "budget exhausted" error (one per resource, in every
/// file of the module).
#[test]
fn budget_exhaustion_is_contained() {
    let main = r#"locals {
  nested = [for i in range(5000) : [for j in range(5000) : i * j]]
}

resource "aws_iam_policy" "a_uses_nested" {
  name   = "n-${length(local.nested)}"
  policy = "{}"
}

resource "aws_iam_policy" "b_unrelated" {
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/t" }]
  })
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "aws_iam_policy.b_unrelated",
            "main.tf",
            line_of(main, "Action"),
        )],
    );
}

// ---------------------------------------------------------------------------------
// Where policy findings point

/// A JSON heredoc keeps its lines: the finding is on the line of `"Action"` inside it.
#[test]
fn a_heredoc_policy_finding_is_on_the_line_inside_the_heredoc() {
    let main = r#"variable "table" {
  default = "orders"
}

resource "aws_iam_role_policy" "heredoc" {
  name = "heredoc"
  role = "app"

  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "dynamodb:*",
      "Resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/${var.table}"
    }
  ]
}
EOF
}

resource "aws_iam_policy" "indented" {
  name = "indented"
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": ["dynamodb:Scan", "dynamodb:DeleteTable"],
          "Resource": "*"
        }
      ]
    }
  POLICY
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK101",
                "aws_iam_role_policy.heredoc",
                "main.tf",
                line_of(main, "\"Action\": \"dynamodb:*\""),
            ),
            (
                "BRK102",
                "aws_iam_policy.indented",
                "main.tf",
                line_of(main, "\"Resource\": \"*\""),
            ),
        ],
    );
    assert_eq!(
        report
            .facts
            .iam_statements
            .iter()
            .find(|s| s.resource == "aws_iam_role_policy.heredoc")
            .unwrap()
            .resources,
        strings(&["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"])
    );
}

/// A `jsonencode` policy: BRK101 on the line of `Action =`, BRK102 on `Resource =`.
#[test]
fn a_jsonencode_policy_finding_is_on_the_line_of_the_key() {
    let main = policy("p", "[\"dynamodb:*\"]", "\"*\"");
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK101",
                "aws_iam_policy.p",
                "main.tf",
                line_of(&main, "Action   ="),
            ),
            (
                "BRK102",
                "aws_iam_policy.p",
                "main.tf",
                line_of(&main, "Resource ="),
            ),
        ],
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BRK101")
        .unwrap();
    assert_eq!(f.location.column, 9);
}

/// `Action = local.x` with the local in another file: the finding is on the line of
/// `Action =` in this file (the key keeps its position; the value is reported at its use).
#[test]
fn a_value_from_another_file_keeps_the_position_of_its_key() {
    let main = policy(
        "p",
        "local.actions",
        "\"arn:aws:dynamodb:eu-west-1:111122223333:table/t\"",
    );
    let dir = write(&[
        ("main.tf", &main),
        ("locals.tf", "locals {\n  actions = [\"dynamodb:*\"]\n}\n"),
    ]);
    let report = scan_dir(dir.path());
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "aws_iam_policy.p",
            "main.tf",
            line_of(&main, "Action   ="),
        )],
    );
}

/// The same through a variable default (`http_put_response_hop_limit = var.hop_limit`,
/// declared in variables.tf) and a module input: the finding is on the attribute, not on
/// the enclosing block.
#[test]
fn variables_and_module_inputs_keep_the_position_of_their_key() {
    let lt = r#"resource "aws_launch_template" "nodes" {
  name_prefix = "nodes-"

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = var.hop_limit
  }
}

module "app" {
  source  = "./modules/app"
  actions = ["dynamodb:*"]
}
"#;
    let module = format!(
        "variable \"actions\" {{\n  type = list(string)\n}}\n\n{}",
        policy(
            "this",
            "var.actions",
            "\"arn:aws:dynamodb:eu-west-1:111122223333:table/t\""
        )
    );
    let dir = write(&[
        ("main.tf", lt),
        (
            "variables.tf",
            "variable \"hop_limit\" {\n  default = 2\n}\n",
        ),
        ("modules/app/main.tf", &module),
    ]);
    let report = scan_dir(dir.path());
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK502",
                "aws_launch_template.nodes",
                "main.tf",
                line_of(lt, "http_put_response_hop_limit"),
            ),
            (
                "BRK101",
                "module.app.aws_iam_policy.this",
                "modules/app/main.tf",
                line_of(&module, "Action   ="),
            ),
        ],
    );
}

/// `each.value` written in the same file points at the value in the collection; the
/// same collection in another file should point at the use (`policy_arn = each.value`),
/// as variables and locals do, but falls back to the resource block.
#[test]
fn each_value_from_another_file_is_reported_at_its_use() {
    let locals = r#"locals {
  arns = toset([
    "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
  ])
}
"#;
    let main = r#"resource "aws_iam_role_policy_attachment" "a" {
  for_each = local.arns

  role       = "app"
  policy_arn = each.value
}
"#;
    let dir = write(&[("locals.tf", locals), ("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK103",
            "aws_iam_role_policy_attachment.a[\"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess\"] (app)",
            "main.tf",
            line_of(main, "policy_arn = each.value"),
        )],
    );
}

#[test]
fn each_value_in_the_same_file_points_at_the_value() {
    let main = r#"resource "aws_iam_role_policy_attachment" "a" {
  for_each = { full = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess" }

  role       = "app"
  policy_arn = each.value
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK103",
            "aws_iam_role_policy_attachment.a[\"full\"] (app)",
            "main.tf",
            line_of(main, "for_each"),
        )],
    );
}

// ---------------------------------------------------------------------------------
// aws_iam_policy_document

const DOCUMENTS: &str = r#"variable "tables" {
  default = {
    orders   = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
    payments = ["dynamodb:GetItem"]
  }
}

data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Logs"
    actions   = ["logs:PutLogEvents"]
    resources = ["*"]
  }

  statement {
    sid       = "Replaced"
    actions   = ["dynamodb:*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "override" {
  statement {
    sid       = "Replaced"
    actions   = ["dynamodb:GetItem"]
    resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]
  }

  statement {
    sid       = "Admin"
    actions   = ["dynamodb:DeleteTable"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "app" {
  source_policy_documents   = [data.aws_iam_policy_document.base.json]
  override_policy_documents = [data.aws_iam_policy_document.override.json]

  dynamic "statement" {
    for_each = var.tables
    content {
      sid       = "Table${replace(statement.key, "-", "")}"
      actions   = statement.value
      resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/*"]
    }
  }

  statement {
    sid       = "Public"
    actions   = ["dynamodb:GetItem"]
    resources = ["*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}

resource "aws_iam_policy" "app" {
  name   = "app"
  policy = data.aws_iam_policy_document.app.json
}
"#;

/// source_policy_documents, the data source's own and dynamic statements, then
/// override_policy_documents (same Sid replaced); findings on the data source's lines.
#[test]
fn policy_documents_merge_sources_dynamic_statements_and_overrides() {
    let dir = write(&[("main.tf", DOCUMENTS)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let app = "data.aws_iam_policy_document.app";
    let sids: Vec<String> = report
        .facts
        .iam_statements
        .iter()
        .filter(|s| s.resource == app)
        .filter_map(|s| s.sid.clone())
        .collect();
    assert_eq!(
        sids,
        strings(&[
            "Logs",
            "Replaced",
            "Tableorders",
            "Tablepayments",
            "Public",
            "Admin"
        ])
    );
    // The override replaced the broad statement.
    assert_eq!(
        actions_of(&report, app, "Replaced"),
        strings(&["dynamodb:GetItem"])
    );
    let dynamic = line_of(
        DOCUMENTS,
        "resources = [\"arn:aws:dynamodb:eu-west-1:111122223333:table/*\"]",
    );
    let base = "data.aws_iam_policy_document.base";
    let over = "data.aws_iam_policy_document.override";
    let hits_on = |sid: &str, rule: &str| {
        report
            .findings
            .iter()
            .filter(|f| f.resource == app && f.rule_id == rule && f.message.contains(sid))
            .map(|f| f.location.line)
            .collect::<Vec<_>>()
    };
    // The merged document's own statements point at the data source's lines.
    assert_eq!(hits_on("Tableorders", "BRK102"), vec![dynamic]);
    assert_eq!(
        hits_on("Admin", "BRK102"),
        vec![line_of(DOCUMENTS, "actions   = [\"dynamodb:DeleteTable\"]") + 1]
    );
    // The source and override documents are reported on their own too.
    assert!(report
        .findings
        .iter()
        .any(|f| f.resource == base && f.rule_id == "BRK101"));
    assert!(report
        .findings
        .iter()
        .any(|f| f.resource == over && f.rule_id == "BRK102"));
    // Principal "*" renders as "*".
    let public = report
        .facts
        .iam_statements
        .iter()
        .find(|s| s.resource == app && s.sid.as_deref() == Some("Public"))
        .unwrap();
    assert_eq!(public.principals, strings(&["*"]));
}

/// The `aws_iam_policy` that uses a document is not reported a second time.
#[test]
fn a_policy_document_used_by_a_policy_is_reported_once() {
    let dir = write(&[("main.tf", DOCUMENTS)]);
    let report = scan_dir(dir.path());
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.resource == "aws_iam_policy.app"),
        "{:#?}",
        hits(&report, dir.path())
    );
    assert!(!report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource == "aws_iam_policy.app"));
    let mut keys: Vec<(String, u32, String)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.location.line, f.message.clone()))
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before, "a finding is repeated");
}

const DOC_ALL: &str = r#"data "aws_iam_policy_document" "all" {
  statement {
    actions   = ["dynamodb:*"]
    resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]
  }
}
"#;

/// An inline policy of `aws_iam_role` built from a document repeats the document's
/// findings under the role (same rule, same line, twice).
#[test]
fn a_policy_document_used_by_a_role_inline_policy_is_reported_once() {
    let main = format!(
        r#"{DOC_ALL}
resource "aws_iam_role" "app" {{
  name               = "app"
  assume_role_policy = "{{}}"

  inline_policy {{
    name   = "tables"
    policy = data.aws_iam_policy_document.all.json
  }}
}}
"#
    );
    let dir = write(&[("main.tf", &main)]);
    let report = scan_dir(dir.path());
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "data.aws_iam_policy_document.all",
            "main.tf",
            line_of(&main, "actions"),
        )],
    );
}

/// A document passed to a local module as an input is reported again by the module's
/// `aws_iam_policy` (at the module's resource block).
#[test]
fn a_policy_document_passed_to_a_module_is_reported_once() {
    let main = format!(
        r#"{DOC_ALL}
module "app" {{
  source      = "./modules/app"
  policy_json = data.aws_iam_policy_document.all.json
}}
"#
    );
    let dir = write(&[
        ("main.tf", &main),
        (
            "modules/app/main.tf",
            r#"variable "policy_json" {
  type = string
}

resource "aws_iam_policy" "this" {
  policy = var.policy_json
}
"#,
        ),
    ]);
    let report = scan_dir(dir.path());
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "data.aws_iam_policy_document.all",
            "main.tf",
            line_of(&main, "actions"),
        )],
    );
}

// ---------------------------------------------------------------------------------
// Managed policies and resource policies

#[test]
fn managed_policies_and_public_resource_policies() {
    let main = r#"resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = "{}"
  managed_policy_arns = [
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
  ]
}

resource "aws_iam_user_policy_attachment" "ops" {
  user       = "ops"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_group_policy_attachment" "readers" {
  group      = "readers"
  policy_arn = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
}

resource "aws_dynamodb_resource_policy" "orders" {
  resource_arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = "*"
        Action    = ["dynamodb:GetItem"]
        Resource  = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
      },
      {
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action    = ["dynamodb:Query"]
        Resource  = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders"
        Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } }
      },
    ]
  })
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK103",
                "aws_iam_role.app",
                "main.tf",
                line_of(main, "AmazonDynamoDBFullAccess"),
            ),
            (
                "BRK103",
                "aws_iam_user_policy_attachment.ops (ops)",
                "main.tf",
                line_of(main, "AdministratorAccess"),
            ),
            (
                "BRK104",
                "aws_dynamodb_resource_policy.orders",
                "main.tf",
                line_of(main, "Principal = \"*\""),
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------
// Containers: ECS, Batch, the kubernetes provider

const ECS: &str = r#"resource "aws_ecs_task_definition" "agent" {
  family       = "agent"
  network_mode = "host"
  pid_mode     = "host"

  container_definitions = jsonencode([
    {
      name      = "agent"
      image     = "example/agent:1.0"
      essential = true
      mountPoints = [
        { sourceVolume = "docker", containerPath = "/var/run/docker.sock" },
        { sourceVolume = "scratch", containerPath = "/scratch" },
      ]
    },
  ])

  volume {
    name      = "docker"
    host_path = "/var/run/docker.sock"
  }

  volume {
    name = "scratch"
  }
}
"#;

#[test]
fn ecs_task_definition_host_volumes_and_mount_points() {
    let dir = write(&[("main.tf", ECS)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let task = "aws_ecs_task_definition.agent";
    let found = hits(&report, dir.path());
    let line_for = |rule: &str| {
        found
            .iter()
            .filter(|h| h.0 == rule && h.1 == task)
            .map(|h| h.3)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line_for("BRK201"),
        vec![line_of(ECS, "host_path = \"/var/run/docker.sock\"")]
    );
    assert_eq!(line_for("BRK504"), vec![line_of(ECS, "network_mode")]);
    assert_eq!(line_for("BRK603"), vec![line_of(ECS, "pid_mode")]);
    // No user: nothing prevents root. Writable root filesystem.
    assert_eq!(line_for("BRK302").len(), 1, "{found:?}");
    assert_eq!(line_for("BRK401").len(), 1, "{found:?}");
    let c = &report.facts.containers[0];
    assert_eq!(
        c.mounts.len(),
        1,
        "the task-scoped volume is not a host mount"
    );
    assert_eq!(c.mounts[0].host_path, "/var/run/docker.sock");
    assert_eq!(c.mounts[0].mount_path, "/var/run/docker.sock");
    assert!(c.mounts[0].runtime_socket);
}

#[test]
fn batch_job_definition_container_properties() {
    let main = r#"resource "aws_batch_job_definition" "reindex" {
  name = "reindex"
  type = "container"

  container_properties = jsonencode({
    image      = "example/reindex:2.1"
    command    = ["reindex", "--all"]
    privileged = true
    user       = "root"
    volumes = [
      { name = "host-proc", host = { sourcePath = "/proc" } },
    ]
    mountPoints = [
      { sourceVolume = "host-proc", containerPath = "/host/proc", readOnly = true },
    ]
    resourceRequirements = [
      { type = "VCPU", value = "2" },
      { type = "MEMORY", value = "4096" },
    ]
  })
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let job = "aws_batch_job_definition.reindex";
    let found = hits(&report, dir.path());
    let at = |rule: &str| {
        found
            .iter()
            .find(|h| h.0 == rule && h.1 == job)
            .unwrap_or_else(|| panic!("no {rule}: {found:?}"))
            .3
    };
    assert_eq!(at("BRK601"), line_of(main, "privileged = true"));
    assert_eq!(at("BRK301"), line_of(main, "user       = \"root\""));
    assert_eq!(at("BRK202"), line_of(main, "sourcePath = \"/proc\""));
    assert!(found.iter().any(|h| h.0 == "BRK401" && h.1 == job));
}

const KUBERNETES: &str = r#"resource "kubernetes_pod_v1" "debug" {
  metadata {
    name      = "debug"
    namespace = "ops"
  }

  spec {
    host_network = true
    host_pid     = true

    container {
      name  = "shell"
      image = "busybox:1.36"

      security_context {
        privileged = true
        capabilities {
          add = ["SYS_ADMIN"]
        }
      }
    }
  }
}

resource "kubernetes_deployment" "api" {
  metadata {
    name      = "api"
    namespace = "shop"
  }

  spec {
    replicas = 2
    selector {
      match_labels = { app = "api" }
    }

    template {
      metadata {
        labels = { app = "api" }
      }

      spec {
        container {
          name  = "api"
          image = "example/api:3.2"

          security_context {
            run_as_user                = 0
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
          }
        }
      }
    }
  }
}

resource "kubernetes_cron_job_v1" "backup" {
  metadata {
    name      = "backup"
    namespace = "db"
  }

  spec {
    schedule = "0 3 * * *"

    job_template {
      metadata {}

      spec {
        template {
          metadata {}

          spec {
            security_context {
              run_as_non_root = true
              run_as_user     = 1000
            }

            container {
              name  = "backup"
              image = "example/backup:1.0"

              security_context {
                allow_privilege_escalation = false
                read_only_root_filesystem  = true
                capabilities {
                  drop = ["ALL"]
                }
              }

              volume_mount {
                name       = "node-logs"
                mount_path = "/logs"
                read_only  = true
              }
            }

            volume {
              name = "node-logs"
              host_path {
                path = "/var/log"
              }
            }
          }
        }
      }
    }
  }
}
"#;

#[test]
fn kubernetes_provider_workloads_and_security_contexts() {
    let dir = write(&[("main.tf", KUBERNETES)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let mut found = hits(&report, dir.path());
    found.sort();
    let pod = "kubernetes_pod_v1.debug (Pod ops/debug)";
    let api = "kubernetes_deployment.api (Deployment shop/api)";
    let cron = "kubernetes_cron_job_v1.backup (CronJob db/backup)";
    let line = |rule: &str, resource: &str| {
        found
            .iter()
            .filter(|h| h.0 == rule && h.1 == resource)
            .map(|h| h.3)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("BRK504", pod),
        vec![line_of(KUBERNETES, "host_network = true")]
    );
    assert_eq!(
        line("BRK603", pod),
        vec![line_of(KUBERNETES, "host_pid     = true")]
    );
    assert_eq!(
        line("BRK601", pod),
        vec![line_of(KUBERNETES, "privileged = true")]
    );
    assert_eq!(
        line("BRK602", pod),
        vec![line_of(KUBERNETES, "add = [\"SYS_ADMIN\"]")]
    );
    assert_eq!(
        line("BRK301", api),
        vec![line_of(KUBERNETES, "run_as_user                = 0")]
    );
    // The deployment forbids escalation and writes: only root is wrong with it.
    assert!(
        line("BRK604", api).is_empty() && line("BRK401", api).is_empty(),
        "{found:?}"
    );
    // The cron job is hardened but for its hostPath of /var/log.
    let cron_rules: Vec<&str> = found
        .iter()
        .filter(|h| h.1 == cron)
        .map(|h| h.0.as_str())
        .collect();
    assert_eq!(cron_rules, vec!["BRK202"], "{found:?}");
    assert_eq!(
        line("BRK202", cron),
        vec![line_of(KUBERNETES, "path = \"/var/log\"")]
    );
    let mut kinds: Vec<(&str, &str)> = report
        .facts
        .workloads
        .iter()
        .map(|w| (w.kind.as_str(), w.name.as_str()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("CronJob", "backup"),
            ("Deployment", "api"),
            ("Pod", "debug")
        ]
    );
    let backup = report
        .facts
        .containers
        .iter()
        .find(|c| c.resource == cron)
        .unwrap();
    assert_eq!(backup.runs_as_root, Tri::No);
    assert_eq!(backup.run_as_user, Some(1000));
}

// ---------------------------------------------------------------------------------
// Instance metadata

#[test]
fn launch_templates_learn_the_eks_node_groups_that_use_them() {
    let main = r#"resource "aws_launch_template" "nodes" {
  name_prefix = "nodes-"

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
}

resource "aws_eks_node_group" "default" {
  cluster_name    = "orders"
  node_group_name = "default"
  node_role_arn   = "arn:aws:iam::111122223333:role/nodes"
  subnet_ids      = ["subnet-1"]

  launch_template {
    id      = aws_launch_template.nodes.id
    version = aws_launch_template.nodes.latest_version
  }

  scaling_config {
    desired_size = 1
    min_size     = 1
    max_size     = 1
  }
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK502",
            "aws_launch_template.nodes",
            "main.tf",
            line_of(main, "http_put_response_hop_limit"),
        )],
    );
    let lt = &report.facts.instances[0];
    assert_eq!(lt.eks_node_groups, strings(&["aws_eks_node_group.default"]));
    assert_eq!(lt.imdsv1_allowed, Tri::No);
    assert_eq!(lt.hop_limit, Some(2));
}

// ---------------------------------------------------------------------------------
// Bad input, single files, .tf.json

#[test]
fn an_hcl_syntax_error_is_located_and_the_other_files_are_scanned() {
    let broken = r#"resource "aws_iam_policy" "broken" {
  name = "broken"
  policy = jsonencode({
    Statement = [
  })
}
"#;
    let good = policy(
        "good",
        "\"dynamodb:*\"",
        "\"arn:aws:dynamodb:eu-west-1:111122223333:table/t\"",
    );
    let dir = write(&[("broken.tf", broken), ("good.tf", &good)]);
    let report = scan_dir(dir.path());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(rel(&e.file, dir.path()), "broken.tf");
    assert!(e.message.contains("HCL syntax error"), "{e:?}");
    assert!(matches!(e.line, Some(3..=5)), "{e:?}");
    assert!(e.column.is_some_and(|c| c > 0), "{e:?}");
    assert_eq!(report.stats.files_failed, 1);
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK101",
            "aws_iam_policy.good",
            "good.tf",
            line_of(&good, "Action"),
        )],
    );
}

/// A file named on the command line reports only its own resources, and still sees the
/// variables and locals of the files next to it.
#[test]
fn a_single_named_file_sees_its_siblings_variables() {
    let named = format!(
        "{}\n{}",
        policy("named", "local.actions", "var.resource"),
        policy("own", "[\"dynamodb:GetItem\"]", "\"*\"")
    );
    let sibling = format!(
        r#"variable "resource" {{
  default = "*"
}}

locals {{
  actions = ["dynamodb:*"]
}}

{}"#,
        policy("sibling", "\"dynamodb:*\"", "\"*\"")
    );
    let dir = write(&[("policy.tf", &named), ("vars.tf", &sibling)]);
    let report = run(&[dir.path().join("policy.tf")], Inputs::default());
    assert_no_errors(&report);
    let found = hits(&report, dir.path());
    assert!(
        found.iter().all(|h| h.2 == "policy.tf"),
        "only the named file: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|h| h.0 == "BRK101" && h.1 == "aws_iam_policy.named"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|h| h.0 == "BRK102" && h.1 == "aws_iam_policy.named"),
        "{found:?}"
    );
    assert!(!report
        .facts
        .iam_statements
        .iter()
        .any(|s| s.resource == "aws_iam_policy.sibling"));
    assert_eq!(
        actions_of_any(&report, "aws_iam_policy.named"),
        strings(&["dynamodb:*"])
    );
    // The whole folder reports the sibling too.
    let all = scan_dir(dir.path());
    assert!(all
        .findings
        .iter()
        .any(|f| f.resource == "aws_iam_policy.sibling"));
}

/// A named file whose policy is a data source in a sibling file: the data source is not
/// reported (it is not in the named file) and the policy that uses it becomes unknown,
/// so the named file's grant goes unreported.
#[test]
fn a_single_named_file_sees_its_siblings_policy_documents() {
    let named = r#"resource "aws_iam_policy" "uses_sibling_doc" {
  name   = "uses-sibling-doc"
  policy = data.aws_iam_policy_document.sibling.json
}
"#;
    let sibling = r#"data "aws_iam_policy_document" "sibling" {
  statement {
    actions   = ["dynamodb:DeleteItem"]
    resources = ["*"]
  }
}
"#;
    let dir = write(&[("policy.tf", named), ("docs.tf", sibling)]);
    let report = run(&[dir.path().join("policy.tf")], Inputs::default());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id == "BRK102" && rel(&f.location.file, dir.path()) == "policy.tf"),
        "{:?}",
        hits(&report, dir.path())
    );
}

#[test]
fn terraform_json_syntax_keeps_its_lines() {
    let json = r#"{
  "variable": {
    "actions": { "default": ["dynamodb:*"] }
  },
  "resource": {
    "aws_iam_policy": {
      "json_syntax": {
        "name": "json-syntax",
        "policy": "${jsonencode({Version = \"2012-10-17\", Statement = [{Effect = \"Allow\", Action = var.actions, Resource = \"*\"}]})}"
      }
    },
    "aws_instance": {
      "web": {
        "ami": "ami-0123456789abcdef0",
        "instance_type": "t3.micro",
        "metadata_options": {
          "http_tokens": "optional"
        }
      }
    }
  }
}
"#;
    let dir = write(&[("main.tf.json", json)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let found = hits(&report, dir.path());
    assert!(
        found.contains(&(
            "BRK501".into(),
            "aws_instance.web".into(),
            "main.tf.json".into(),
            line_of(json, "\"http_tokens\"")
        )),
        "{found:?}"
    );
    assert!(
        found.iter().any(|h| h.0 == "BRK101"
            && h.1 == "aws_iam_policy.json_syntax"
            && h.3 == line_of(json, "\"policy\"")),
        "{found:?}"
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
}

// ---------------------------------------------------------------------------------
// The samples

fn sample(kind: &str) -> PathBuf {
    Path::new(ROOT).join("samples/terraform").join(kind)
}

/// Every rule the vulnerable sample is documented to fire, each on the line of the
/// offending key (or the resource, when the key is missing).
#[test]
fn the_vulnerable_sample_fires_its_rules_on_the_offending_lines() {
    let dir = sample("vulnerable");
    let report = scan_dir(&dir);
    assert_no_errors(&report);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(
        report.modules_not_scanned.is_empty(),
        "{:?}",
        report.modules_not_scanned
    );
    let text = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let (iam, ecs, eks, bastion, k8s, dynamodb, worker) = (
        text("iam.tf"),
        text("ecs.tf"),
        text("eks.tf"),
        text("bastion.tf"),
        text("kubernetes.tf"),
        text("dynamodb.tf"),
        text("modules/worker/main.tf"),
    );
    let json = text("policies/ci-agent.json");
    let found = hits(&report, &dir);
    let expect: Vec<(&str, &str, &str, u32)> = vec![
        (
            "BRK101",
            "aws_iam_policy.orders_api",
            "iam.tf",
            line_of(&iam, "Action   = \"dynamodb:*\""),
        ),
        (
            "BRK102",
            "aws_iam_policy.orders_api",
            "iam.tf",
            line_of(&iam, "Resource = \"*\""),
        ),
        (
            "BRK102",
            "data.aws_iam_policy_document.ingest",
            "iam.tf",
            line_of(&iam, ":table/*\"]"),
        ),
        (
            "BRK101",
            "aws_iam_role_policy.ci_agent",
            "ecs.tf",
            line_of(&ecs, "policy = file("),
        ),
        (
            "BRK102",
            "aws_iam_role_policy.ci_agent",
            "ecs.tf",
            line_of(&ecs, "policy = file("),
        ),
        (
            "BRK101",
            "IAM policy ci-agent",
            "policies/ci-agent.json",
            line_of(&json, "\"Action\""),
        ),
        (
            "BRK504",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "network_mode"),
        ),
        (
            "BRK301",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "user  "),
        ),
        (
            "BRK601",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "privileged  "),
        ),
        (
            "BRK401",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "readonlyRootFilesystem"),
        ),
        (
            "BRK201",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "host_path = \"/var/run/docker.sock\""),
        ),
        (
            "BRK202",
            "aws_ecs_task_definition.ci_agent",
            "ecs.tf",
            line_of(&ecs, "host_path = \"/var/lib/docker\""),
        ),
        (
            "BRK104",
            "aws_dynamodb_resource_policy.orders[0]",
            "dynamodb.tf",
            line_of(&dynamodb, "policy = templatefile("),
        ),
        (
            "BRK501",
            "aws_instance.bastion",
            "bastion.tf",
            line_of(&bastion, "resource \"aws_instance\""),
        ),
        (
            "BRK201",
            "kubernetes_deployment_v1.image_builder (Deployment builds/image-builder)",
            "kubernetes.tf",
            // The host path, not the `mount_path` above it.
            nth_line_of(&k8s, "path = \"/var/run/docker.sock\"", 1),
        ),
        (
            "BRK301",
            "kubernetes_deployment_v1.image_builder (Deployment builds/image-builder)",
            "kubernetes.tf",
            line_of(&k8s, "run_as_user = 0"),
        ),
        (
            "BRK101",
            "module.worker[\"invoices\"].aws_iam_role_policy.tables",
            "modules/worker/main.tf",
            line_of(&worker, "policy = templatefile("),
        ),
        (
            "BRK401",
            "module.worker[\"refunds\"].aws_ecs_task_definition.this",
            "modules/worker/main.tf",
            line_of(&worker, "readonlyRootFilesystem"),
        ),
    ];
    let missing: Vec<_> = expect
        .iter()
        .filter(|(r, res, f, l)| {
            !found
                .iter()
                .any(|h| h.0 == *r && h.1 == *res && h.2 == *f && h.3 == *l)
        })
        .collect();
    assert!(missing.is_empty(), "missing {missing:#?}\nfound {found:#?}");
    // The hop limit comes from a variable default in variables.tf: the finding is on
    // the attribute in eks.tf.
    assert!(
        found.contains(&(
            "BRK502".into(),
            "aws_launch_template.nodes".into(),
            "eks.tf".into(),
            line_of(
                &eks,
                "http_put_response_hop_limit = var.node_imds_hop_limit"
            ),
        )),
        "{found:#?}"
    );
    // BRK103 is checked on its resource here; its line is in
    // `the_vulnerable_sample_points_at_each_value` (a known bug).
    assert!(found.iter().any(|h| h.0 == "BRK103"
        && h.1.starts_with("aws_iam_role_policy_attachment.nodes[\"arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess\"]")
        && h.2 == "iam.tf"));
    // The rules the sample's header names, and no others.
    let rules: std::collections::BTreeSet<&str> = found.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        vec![
            "BRK101", "BRK102", "BRK103", "BRK104", "BRK201", "BRK202", "BRK301", "BRK401",
            "BRK501", "BRK502", "BRK504", "BRK601", "BRK604", "BRK901"
        ]
    );
    // The ingest document is reported once, not again through aws_iam_policy.ingest.
    assert!(!found.iter().any(|h| h.1 == "aws_iam_policy.ingest"));
    // The refunds worker's actions are scoped to its table: no DynamoDB finding.
    assert!(!found.iter().any(|h| h
        .1
        .starts_with("module.worker[\"refunds\"].aws_iam_role_policy")));
}

/// BRK103 from `policy_arn = each.value`, the set being `local.node_policies` in
/// locals.tf, points at the resource block (iam.tf:70), not at `policy_arn` (iam.tf:74).
#[test]
fn the_vulnerable_sample_points_at_each_value() {
    let dir = sample("vulnerable");
    let report = scan_dir(&dir);
    let iam = std::fs::read_to_string(dir.join("iam.tf")).unwrap();
    let found = hits(&report, &dir);
    let at = |rule: &str| found.iter().find(|h| h.0 == rule).unwrap().3;
    assert_eq!(at("BRK103"), line_of(&iam, "policy_arn = each.value"));
}

/// The hardened twin has no finding, and not because its values are unknown.
#[test]
fn the_hardened_sample_has_no_finding_and_knows_why() {
    let dir = sample("hardened");
    let report = scan_dir(&dir);
    assert_no_errors(&report);
    assert_hits(&report, &dir, &[]);
    assert!(
        report.modules_not_scanned.is_empty(),
        "{:?}",
        report.modules_not_scanned
    );
    let facts = &report.facts;
    assert_eq!(facts.instances.len(), 2);
    for i in &facts.instances {
        assert_eq!(
            (i.imdsv1_allowed, i.hop_limit_above_one, i.hop_limit),
            (Tri::No, Tri::No, Some(1)),
            "{}",
            i.resource
        );
    }
    // Every DynamoDB grant is on named tables, with known actions.
    let dynamo: Vec<_> = facts
        .iam_statements
        .iter()
        .filter(|s| s.dynamodb.count > 0)
        .collect();
    assert!(dynamo.len() >= 8, "{}", dynamo.len());
    for s in dynamo {
        assert!(
            !s.resources.is_empty()
                && s.resources
                    .iter()
                    .all(|r| r.contains(":table/orders-prod-")),
            "{} {}: {:?}",
            s.resource,
            s.statement,
            s.resources
        );
    }
    // The same workloads as the vulnerable sample, non-root and read-only.
    assert_eq!(facts.containers.len(), 4);
    for c in &facts.containers {
        assert_eq!(c.runs_as_root, Tri::No, "{}", c.resource);
        assert_eq!(c.read_only_root_filesystem, Some(true), "{}", c.resource);
        assert!(c.mounts.is_empty(), "{}", c.resource);
    }
    let vulnerable = scan_dir(&sample("vulnerable"));
    assert_eq!(vulnerable.facts.containers.len(), facts.containers.len());
    assert_eq!(vulnerable.facts.instances.len(), facts.instances.len());
}

/// Scanning the sample twice gives the same findings, byte for byte.
#[test]
fn the_samples_scan_deterministically() {
    let dir = sample("vulnerable");
    let a = scan_dir(&dir);
    let b = scan_dir(&dir);
    let show = |r: &Report| {
        r.findings
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f.location, f.rule_id, f.message, f.fingerprint
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(show(&a), show(&b));
}

/// Module files are reported by the path the user gave, like the root's files
/// (`samples/terraform/vulnerable/modules/worker/main.tf`), not by their absolute path:
/// absolute paths would leak the checkout folder into reports and change fingerprints
/// (and so baselines) from one machine to the next.
#[test]
fn module_files_are_reported_relative_to_what_was_scanned() {
    let dir = write(&[
        (
            "main.tf",
            "module \"app\" {\n  source = \"./modules/app\"\n  name   = \"a\"\n  table  = \"t\"\n}\n",
        ),
        ("modules/app/main.tf", APP_MODULE),
    ]);
    let cwd = std::env::current_dir().unwrap();
    // Scan by a relative path, as users do.
    let relative = pathdiff(dir.path(), &cwd);
    let report = run(std::slice::from_ref(&relative), Inputs::default());
    let f = &report.findings[0];
    assert_eq!(
        f.location.file.replace('\\', "/"),
        format!("{}/modules/app/main.tf", relative.display()),
    );
}

/// `to` relative to `from` (both absolute), with `..` as needed.
fn pathdiff(to: &Path, from: &Path) -> PathBuf {
    let to: Vec<_> = to.components().collect();
    let from: Vec<_> = from.components().collect();
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------
// Terraform's value semantics: type constraints, optional attributes, `nullable`, null
// and unknown, provider defaults (issue 9). Each reproduces what real modules (the
// terraform-aws-modules family) do.

/// The findings of a report with their confidence, as `(rule, resource, low?)`.
fn rules_with_confidence(report: &Report) -> Vec<(String, String, bool)> {
    let mut v: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.resource.clone(),
                f.confidence == breakout::engine::Confidence::Low,
            )
        })
        .collect();
    v.sort();
    v
}

const METADATA_TYPED: &str = r#"variable "mo" {
  type = object({
    http_tokens = optional(string, "required")
    hop         = optional(number, 1)
  })
  default = {}
}

resource "aws_launch_template" "lt" {
  metadata_options {
    http_tokens                 = var.mo.http_tokens
    http_put_response_hop_limit = var.mo.hop
  }
}
"#;

/// `optional(T, default)` fills an attribute the value leaves out: Terraform gives
/// `"required"` and `1`, so neither BRK501 nor BRK502 fires (not even at low
/// confidence).
#[test]
fn optional_attribute_defaults_are_applied() {
    let dir = write(&[("main.tf", METADATA_TYPED)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(&report, dir.path(), &[]);
    let lt = &report.facts.instances[0];
    assert_eq!(lt.http_tokens.as_deref(), Some("required"));
    assert_eq!(lt.hop_limit, Some(1));
    assert_eq!(lt.imdsv1_allowed, Tri::No);
    assert_eq!(lt.hop_limit_above_one, Tri::No);
}

/// Module arguments pass through the called module's variable types: the caller sets
/// the hop limit only, the module's `optional(string, "required")` supplies the tokens.
/// `nullable = false` makes a null argument take the variable's default.
#[test]
fn module_arguments_are_converted_to_the_called_modules_types() {
    let child = r#"variable "mo" {
  type = object({
    http_tokens = optional(string, "required")
    hop         = optional(number, 1)
  })
  default  = {}
  nullable = false
}

resource "aws_launch_template" "lt" {
  metadata_options {
    http_tokens                 = var.mo.http_tokens
    http_put_response_hop_limit = var.mo.hop
  }
}
"#;
    let root = r#"module "hop2" {
  source = "./nodes"
  mo     = { hop = "2" }
}

module "nulled" {
  source = "./nodes"
  mo     = null
}
"#;
    let dir = write(&[("main.tf", root), ("nodes/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    // "2" is converted to the number 2; http_tokens comes from the type's default.
    assert_hits(
        &report,
        dir.path(),
        &[(
            "BRK502",
            "module.hop2.aws_launch_template.lt",
            "nodes/main.tf",
            line_of(child, "http_put_response_hop_limit"),
        )],
    );
    assert!(report
        .findings
        .iter()
        .all(|f| f.confidence == breakout::engine::Confidence::High));
    let nulled = report
        .facts
        .instances
        .iter()
        .find(|i| i.resource == "module.nulled.aws_launch_template.lt")
        .unwrap();
    assert_eq!(nulled.http_tokens.as_deref(), Some("required"));
    assert_eq!(nulled.hop_limit, Some(1));
}

/// Without `nullable = false`, a null argument overrides the default: the value is null,
/// which for a resource argument means "not set" (the provider's default), not unknown.
#[test]
fn a_null_argument_is_not_set_not_unknown() {
    let child = r#"variable "tokens" {
  type    = string
  default = "required"
}

resource "aws_instance" "i" {
  metadata_options {
    http_tokens = var.tokens
  }
}
"#;
    let root = "module \"m\" {\n  source = \"./child\"\n  tokens = null\n}\n";
    let dir = write(&[("main.tf", root), ("child/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    // http_tokens unset: not unknown, but EC2 decides from the AMI and the account, so
    // BRK501 reports it at low confidence, saying why.
    assert_eq!(
        rules_with_confidence(&report),
        [(
            "BRK501".to_string(),
            "module.m.aws_instance.i".to_string(),
            true
        )]
    );
    assert!(report.findings[0]
        .message
        .contains("http_tokens is not set"));
}

const ECS_TYPED: &str = r#"variable "container_definitions" {
  type = map(object({
    create    = optional(bool, true)
    image     = string
    user      = optional(string)
    essential = optional(bool)
  }))
  default = {
    app = {
      image = "app:1"
      user  = "0"
    }
  }
}

resource "aws_ecs_task_definition" "t" {
  family       = "t"
  network_mode = "awsvpc"
  container_definitions = jsonencode([
    for k, v in var.container_definitions : {
      name                   = k
      image                  = v.image
      user                   = v.user
      essential              = v.essential
      readonlyRootFilesystem = true
    } if v.create
  ])
}
"#;

/// An absent optional attribute is null: `if v.create` keeps the element (`create`
/// defaults to true), and the container that runs as UID 0 is reported, at high
/// confidence. Before, the filter saw unknown and the containers vanished.
#[test]
fn an_absent_optional_attribute_is_null_and_filters_keep_their_elements() {
    let dir = write(&[("main.tf", ECS_TYPED)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(report.facts.containers.len(), 1, "{:?}", report.facts);
    let c = &report.facts.containers[0];
    assert_eq!(c.name, "app");
    assert_eq!(c.runs_as_root, Tri::Yes);
    assert_eq!(
        rules_with_confidence(&report),
        [(
            "BRK301".to_string(),
            "aws_ecs_task_definition.t".to_string(),
            false
        )]
    );
}

/// A managed-policy attachment behind a `nullable = false` bool that the caller passes
/// as null: the variable's default (true) applies, the attachment has its real key.
#[test]
fn a_nullable_false_bool_keeps_its_default_and_its_attachment() {
    let child = r#"variable "attach" {
  type     = bool
  default  = true
  nullable = false
}

variable "policies" {
  type    = map(string)
  default = {}
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = { for k, v in var.policies : k => v if var.attach }
  role       = "app"
  policy_arn = each.value
}
"#;
    let root = r#"module "role" {
  source   = "./role"
  attach   = null
  policies = { ddb = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess" }
}
"#;
    let dir = write(&[("main.tf", root), ("role/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(
        rules_with_confidence(&report),
        [(
            "BRK103".to_string(),
            "module.role.aws_iam_role_policy_attachment.this[\"ddb\"] (app)".to_string(),
            false
        )]
    );
}

/// `count`/`for_each` that rest on typed values resolve: instances get their keys, not
/// `[*]`, and a module called with `create = false` produces nothing.
#[test]
fn count_and_for_each_resolve_through_types_and_create_false_produces_nothing() {
    let child = r#"variable "create" {
  type     = bool
  default  = true
  nullable = false
}

variable "groups" {
  type = map(object({
    create = optional(bool, true)
    hop    = optional(number, 1)
  }))
  default = {}
}

resource "aws_launch_template" "this" {
  for_each = { for k, v in var.groups : k => v if var.create && v.create }
  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = each.value.hop
  }
}
"#;
    let root = r#"module "on" {
  source = "./groups"
  groups = {
    a = { hop = 2 }
    b = {}
    c = { create = false, hop = 3 }
  }
}

module "off" {
  source = "./groups"
  create = false
  groups = { a = { hop = 2 } }
}
"#;
    let dir = write(&[("main.tf", root), ("groups/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let mut resources: Vec<&str> = report
        .facts
        .instances
        .iter()
        .map(|i| i.resource.as_str())
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "module.on.aws_launch_template.this[\"a\"]",
            "module.on.aws_launch_template.this[\"b\"]"
        ]
    );
    assert_eq!(
        rules_with_confidence(&report),
        [(
            "BRK502".to_string(),
            "module.on.aws_launch_template.this[\"a\"]".to_string(),
            false
        )]
    );
}

/// `aws_iam_policy_document`: `not_actions = []` (or null, or absent) is no NotAction,
/// so `ecr:CreateRepository` on `*` grants nothing in DynamoDB; an absent or null
/// `effect` is Allow (the data source's default).
#[test]
fn policy_document_empty_not_actions_and_default_effect() {
    let main = r#"data "aws_iam_policy_document" "ecr" {
  statement {
    sid         = "EmptyNotActions"
    actions     = ["ecr:CreateRepository"]
    not_actions = []
    resources   = ["*"]
  }
  statement {
    sid         = "NullNotActions"
    actions     = ["ecr:CreateRepository"]
    not_actions = null
    effect      = null
    resources   = ["*"]
  }
}

data "aws_iam_policy_document" "ddb" {
  statement {
    sid       = "NullEffect"
    effect    = null
    actions   = ["dynamodb:*"]
    resources = ["*"]
  }
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let doc = "data.aws_iam_policy_document.ddb";
    assert_hits(
        &report,
        dir.path(),
        &[
            ("BRK101", doc, "main.tf", line_of(main, "\"dynamodb:*\"")),
            ("BRK102", doc, "main.tf", line_of(main, "resources = [")),
        ],
    );
    let st = |sid: &str| {
        report
            .facts
            .iam_statements
            .iter()
            .find(|s| s.sid.as_deref() == Some(sid))
            .unwrap()
            .clone()
    };
    for sid in ["EmptyNotActions", "NullNotActions"] {
        assert!(st(sid).not_actions.is_empty(), "{sid}");
        assert_eq!(st(sid).dynamodb.count, 0, "{sid}");
    }
    assert_eq!(st("NullEffect").effect, "Allow");
}

/// The statement shape of terraform-aws-modules (`not_actions = statement.value.
/// not_actions` over a list of objects with optional attributes) grants only what its
/// actions say.
#[test]
fn policy_document_statements_from_typed_objects() {
    let main = r#"variable "statements" {
  type = list(object({
    sid           = optional(string)
    actions       = optional(list(string))
    not_actions   = optional(list(string))
    effect        = optional(string)
    resources     = optional(list(string))
    not_resources = optional(list(string))
  }))
  default = [
    {
      sid       = "ECRPullThroughCache"
      actions   = ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]
      resources = ["*"]
    }
  ]
}

data "aws_iam_policy_document" "role" {
  dynamic "statement" {
    for_each = var.statements
    content {
      sid           = statement.value.sid
      actions       = statement.value.actions
      not_actions   = statement.value.not_actions
      effect        = statement.value.effect
      resources     = statement.value.resources
      not_resources = statement.value.not_resources
    }
  }
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(&report, dir.path(), &[]);
    let st = &report.facts.iam_statements[0];
    assert_eq!(st.effect, "Allow");
    assert!(st.not_actions.is_empty() && st.not_resources.is_empty());
    assert_eq!(st.dynamodb.count, 0);
}

/// An `effect` known only at apply time, with `dynamodb:*` on `*`: reported at low
/// confidence (it may be Allow), never silent.
#[test]
fn an_unknown_effect_is_reported_at_low_confidence() {
    let main = r#"variable "eff" {
  type = string
}

data "aws_iam_policy_document" "d" {
  statement {
    effect    = var.eff
    actions   = ["dynamodb:*"]
    resources = ["*"]
  }
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let doc = "data.aws_iam_policy_document.d";
    assert_eq!(
        rules_with_confidence(&report),
        [
            ("BRK101".to_string(), doc.to_string(), true),
            ("BRK102".to_string(), doc.to_string(), true),
        ]
    );
    assert!(
        report.findings[0].message.contains("effect"),
        "{}",
        report.findings[0].message
    );
}

/// An unknown `not_actions` may exclude anything: low confidence, never a certain
/// grant of every action.
#[test]
fn an_unknown_not_actions_is_low_confidence() {
    let main = r#"variable "excluded" {
  type = list(string)
}

data "aws_iam_policy_document" "d" {
  statement {
    not_actions = var.excluded
    resources   = ["*"]
  }
}
"#;
    let dir = write(&[("main.tf", main)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let doc = "data.aws_iam_policy_document.d";
    assert_eq!(
        rules_with_confidence(&report),
        [
            ("BRK101".to_string(), doc.to_string(), true),
            ("BRK102".to_string(), doc.to_string(), true),
        ]
    );
}

/// The module's own default (`awsvpc`, `nullable = false`) is read when the caller
/// passes null; an unset `network_mode` is the provider's: `bridge` on EC2, `awsvpc`
/// where Fargate is required. No BRK504/BRK603, not even at low confidence.
#[test]
fn ecs_network_mode_defaults_are_applied() {
    let child = r#"variable "network_mode" {
  type     = string
  default  = "awsvpc"
  nullable = false
}

variable "pid_mode" {
  type    = string
  default = null
}

resource "aws_ecs_task_definition" "this" {
  family       = "svc"
  network_mode = var.network_mode
  pid_mode     = var.pid_mode
  container_definitions = jsonencode([{
    name = "app", image = "app:1", user = "1000", essential = true,
    readonlyRootFilesystem = true
  }])
}
"#;
    let root = r#"variable "services" {
  type = map(object({
    network_mode = optional(string)
    pid_mode     = optional(string)
  }))
  default = { web = {} }
}

module "service" {
  source       = "./service"
  for_each     = var.services
  network_mode = each.value.network_mode
  pid_mode     = each.value.pid_mode
}

resource "aws_ecs_task_definition" "ec2" {
  family = "ec2"
  container_definitions = jsonencode([{
    name = "app", image = "app:1", user = "1000", essential = true,
    readonlyRootFilesystem = true
  }])
}

resource "aws_ecs_task_definition" "fargate" {
  family                   = "fargate"
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([{
    name = "app", image = "app:1", user = "1000", essential = true,
    readonlyRootFilesystem = true
  }])
}
"#;
    let dir = write(&[("main.tf", root), ("service/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(&report, dir.path(), &[]);
    let mode = |resource: &str| {
        report
            .facts
            .workloads
            .iter()
            .find(|w| w.resource == resource)
            .unwrap_or_else(|| panic!("no {resource}: {:?}", report.facts.workloads))
            .network_mode
            .clone()
    };
    assert_eq!(
        mode("module.service[\"web\"].aws_ecs_task_definition.this").as_deref(),
        Some("awsvpc")
    );
    assert_eq!(
        mode("aws_ecs_task_definition.ec2").as_deref(),
        Some("bridge")
    );
    assert_eq!(
        mode("aws_ecs_task_definition.fargate").as_deref(),
        Some("awsvpc")
    );
}

/// terraform-aws-modules/ecs builds each container definition as
/// `{ for k, v in local.definition : k => v if v != null }`. With an image known only at
/// apply (an SSM parameter), Terraform makes the whole object unknown, and the container
/// running as `user = "0"` vanished. Only the image's key is in doubt: the container is
/// kept, its user read, BRK301 reported at high confidence.
#[test]
fn a_container_with_an_unknown_image_keeps_its_known_user() {
    let child = r#"variable "image" {
  type = string
}

variable "user" {
  type    = string
  default = null
}

locals {
  definition = {
    name                   = "log-router"
    image                  = var.image
    user                   = var.user
    essential              = true
    readonlyRootFilesystem = true
    privileged             = null
  }
  container_definition = { for k, v in local.definition : k => v if v != null }
}

output "container_definition" {
  value = local.container_definition
}
"#;
    let root = r#"data "aws_ssm_parameter" "fluentbit" {
  name = "/aws/service/aws-for-fluent-bit/stable"
}

module "container" {
  source = "./container"
  image  = data.aws_ssm_parameter.fluentbit.value
  user   = "0"
}

resource "aws_ecs_task_definition" "this" {
  family                = "svc"
  network_mode          = "awsvpc"
  container_definitions = jsonencode([module.container.container_definition])
}
"#;
    let dir = write(&[("main.tf", root), ("container/main.tf", child)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(report.facts.containers.len(), 1, "{:?}", report.facts);
    let c = &report.facts.containers[0];
    assert_eq!(c.name, "log-router");
    assert_eq!(c.runs_as_root, Tri::Yes);
    assert_eq!(c.image, None, "the image is known only at apply");
    assert_eq!(
        rules_with_confidence(&report),
        [(
            "BRK301".to_string(),
            "aws_ecs_task_definition.this".to_string(),
            false
        )]
    );
}

// References for escape paths (BRK901)

/// A node group in a module whose role comes in through a variable, from a role of the
/// calling module known only after apply: the link is read from the expressions, and
/// a `local` between them is followed.
#[test]
fn references_are_followed_through_module_variables_and_locals() {
    let dir = write(&[
        (
            "main.tf",
            r#"
resource "aws_iam_role" "nodes" {
  name_prefix         = "nodes-"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
}
locals {
  node_role = aws_iam_role.nodes.arn
}
module "workers" {
  source    = "./workers"
  role_arn  = local.node_role
}
"#,
        ),
        (
            "workers/main.tf",
            r#"
variable "role_arn" {}
resource "aws_launch_template" "this" {
  metadata_options {
    http_tokens                 = "optional"
  }
}
resource "aws_eks_node_group" "this" {
  cluster_name    = "c"
  node_group_name = "workers"
  node_role_arn   = var.role_arn
  launch_template {
    name = aws_launch_template.this.name
  }
}
"#,
        ),
        (
            "k8s/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  containers: [{name: a, image: x}]\n",
        ),
    ]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let g = &report.facts.node_groups[0];
    assert_eq!(g.node_role_refs, ["aws_iam_role.nodes"]);
    assert_eq!(
        g.launch_template_refs,
        ["module.workers.aws_launch_template.this"]
    );
    let paths: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "BRK901")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        paths,
        ["Pod shop/api → 169.254.169.254 (BRK503) + IMDSv1 (BRK501) → node group c/workers → role aws_iam_role.nodes → AmazonDynamoDBFullAccess: every DynamoDB action on every table"]
    );
}

/// A plan's `configuration` gives the references the planned values lack (the role's
/// ARN is known only after apply), through module calls too.
#[test]
fn plan_references_link_a_node_group_to_its_role() {
    let plan = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_iam_role.nodes", "mode": "managed", "type": "aws_iam_role", "name": "nodes",
       "values": {"name": "nodes", "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]}}
    ],
    "child_modules": [{"address": "module.ng", "resources": [
      {"address": "module.ng.aws_eks_node_group.this", "mode": "managed", "type": "aws_eks_node_group", "name": "this",
       "values": {"cluster_name": "c", "node_group_name": "ng", "node_role_arn": null, "ami_type": "AL2_x86_64"}}
    ]}]
  }},
  "resource_changes": [
    {"address": "module.ng.aws_eks_node_group.this", "change": {"actions": ["create"], "after_unknown": {"node_role_arn": true}}}
  ],
  "configuration": {"root_module": {
    "resources": [{"address": "aws_iam_role.nodes", "mode": "managed", "type": "aws_iam_role", "name": "nodes", "expressions": {}}],
    "module_calls": {"ng": {"source": "./ng", "expressions": {"role": {"references": ["aws_iam_role.nodes.arn", "aws_iam_role.nodes"]}},
      "module": {"resources": [{"address": "aws_eks_node_group.this", "mode": "managed", "type": "aws_eks_node_group", "name": "this",
        "expressions": {"node_role_arn": {"references": ["var.role"]}}}]}}}
  }}
}"#;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  containers: [{name: a, image: x}]\n";
    let dir = write(&[("plan.json", plan), ("pod.yaml", pod)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_eq!(
        report.facts.node_groups[0].node_role_refs,
        ["aws_iam_role.nodes"]
    );
    let path = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BRK901")
        .map(|f| f.message.clone())
        .unwrap_or_default();
    assert!(
        path.contains("EKS default launch template (AL2: IMDSv1, hop limit 2) → node group c/ng → role nodes → AmazonDynamoDBFullAccess"),
        "{path}"
    );
}

/// A container definition built in a module and passed out through an output is
/// located in the module's file, where its settings are written, with the task
/// definition that uses it as a related location; merged into a map in the caller,
/// its keys keep their own file too.
#[test]
fn values_from_another_module_are_located_where_they_are_written() {
    let module = "variable \"name\" {\n  type = string\n}\n\nlocals {\n  definition = {\n    name                   = var.name\n    image                  = \"nginx:1.27\"\n    readonlyRootFilesystem = false\n    privileged             = true\n  }\n}\n\noutput \"json\" {\n  value = jsonencode([local.definition])\n}\n\noutput \"wrapper\" {\n  value = { inner = local.definition }\n}\n";
    let caller = "module \"ctr\" {\n  source = \"../../modules/ctr\"\n  name   = \"app\"\n}\n\nresource \"aws_ecs_task_definition\" \"json\" {\n  family                = \"json\"\n  container_definitions = module.ctr.json\n}\n\nresource \"aws_ecs_task_definition\" \"merged\" {\n  family                = \"merged\"\n  container_definitions = jsonencode([merge(module.ctr.wrapper.inner, { cpu = 256 })])\n}\n";
    let dir = write(&[
        ("modules/ctr/main.tf", module),
        ("examples/x/main.tf", caller),
    ]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    let privileged = line_of(module, "privileged");
    for resource in [
        "aws_ecs_task_definition.json",
        "aws_ecs_task_definition.merged",
    ] {
        let f = report
            .findings
            .iter()
            .find(|f| f.rule_id == "BRK601" && f.resource == resource)
            .unwrap_or_else(|| panic!("no BRK601 on {resource}: {:#?}", report.findings));
        assert_eq!(
            (rel(&f.location.file, dir.path()), f.location.line),
            ("modules/ctr/main.tf".to_string(), privileged),
            "{resource}"
        );
        let used = &f.related_locations[0];
        assert_eq!(rel(&used.file, dir.path()), "examples/x/main.tf");
        // The resource block, or the expression in it that uses the value.
        let block = line_of(caller, &format!("\"{}\"", &resource[24..]));
        assert!((block..block + 3).contains(&used.line), "{used:?}");
        assert!(used.message.contains(resource), "{}", used.message);
    }
    // The module's name argument is written in the caller: a finding on the container
    // as a whole stays on the container definition's own object.
    let w = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BRK401" && f.resource == "aws_ecs_task_definition.json")
        .unwrap();
    assert_eq!(w.location.line, line_of(module, "readonlyRootFilesystem"));
}

/// A container definition whose name or image is known only after apply is kept,
/// named `(unknown)`, and judged on what is known: in `jsonencode`, in a JSON heredoc
/// with interpolations and in a `templatefile()`.
#[test]
fn container_definitions_with_unknown_names_are_judged() {
    let main = "variable \"name\" {\n  type = string\n}\n\nvariable \"image\" {\n  type = string\n}\n\nresource \"aws_ecs_task_definition\" \"encoded\" {\n  family = \"encoded\"\n  container_definitions = jsonencode([\n    {\n      name                   = var.name\n      image                  = var.image\n      readonlyRootFilesystem = false\n      user                   = \"1000\"\n    },\n  ])\n}\n\nresource \"aws_ecs_task_definition\" \"heredoc\" {\n  family = \"heredoc\"\n  container_definitions = <<EOT\n[\n  {\n    \"name\": \"${var.name}\",\n    \"image\": \"app:${var.image}\",\n    \"cpu\": ${var.image},\n    \"readonlyRootFilesystem\": false\n  }\n]\nEOT\n}\n\nresource \"aws_ecs_task_definition\" \"template\" {\n  family = \"template\"\n  container_definitions = templatefile(\"${path.module}/defs.tpl\", { name = var.name })\n}\n";
    let tpl =
        "[{\"name\": \"${name}\", \"image\": \"x\", \"privileged\": true, \"user\": \"0\"}]\n";
    let dir = write(&[("main.tf", main), ("defs.tpl", tpl)]);
    let report = scan_dir(dir.path());
    assert_no_errors(&report);
    assert_hits(
        &report,
        dir.path(),
        &[
            (
                "BRK401",
                "aws_ecs_task_definition.encoded",
                "main.tf",
                line_of(main, "readonlyRootFilesystem = false"),
            ),
            (
                "BRK302",
                "aws_ecs_task_definition.heredoc",
                "main.tf",
                line_of(main, "\"name\": \"${var.name}\"") - 1,
            ),
            (
                "BRK401",
                "aws_ecs_task_definition.heredoc",
                "main.tf",
                line_of(main, "\"readonlyRootFilesystem\""),
            ),
            (
                "BRK301",
                "aws_ecs_task_definition.template",
                "main.tf",
                line_of(main, "templatefile"),
            ),
            (
                "BRK401",
                "aws_ecs_task_definition.template",
                "main.tf",
                line_of(main, "templatefile"),
            ),
            (
                "BRK601",
                "aws_ecs_task_definition.template",
                "main.tf",
                line_of(main, "templatefile"),
            ),
        ],
    );
    let names: Vec<(&str, &str)> = report
        .facts
        .containers
        .iter()
        .map(|c| (c.resource.as_str(), c.name.as_str()))
        .collect();
    assert!(names.iter().all(|(_, n)| *n == "(unknown)"), "{names:?}");
    assert_eq!(names.len(), 3);
    let c = &report.facts.containers[0];
    assert!(c.unknown.contains_key("name") && c.unknown.contains_key("image"));
    assert!(report
        .findings
        .iter()
        .all(|f| f.message.contains("container (unknown)")));
}
