//! Terraform plan review end to end: change status per action and per rule family,
//! findings located at the `.tf` lines by address (modules, installed modules, what
//! cannot be found), the plan and its configuration scanned together, policy
//! documents read while planning, shown states, `--new-only`, `--tf-root`, and the
//! Markdown pull-request comment (golden files, escaping, GitHub-flavoured Markdown
//! structure, truncation).
//!
//! Plans are written by hand, in `terraform show -json`'s format (format_version 1.2):
//! `planned_values`, `resource_changes` with `actions`, `before`, `after` and
//! `after_unknown`, `prior_state`, and `configuration` with its module calls.

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;

use common::{command, finish, write_tree as write, Run, ROOT};

// ---------------------------------------------------------------------------------
// Plans, written the way Terraform writes them

/// One resource instance of a plan.
#[derive(Clone)]
struct R {
    /// `module.a["x"].module.b`, or empty for the root module.
    module: &'static str,
    data: bool,
    rtype: &'static str,
    name: &'static str,
    index: Option<Value>,
    actions: &'static [&'static str],
    before: Value,
    after: Value,
    after_unknown: Value,
}

impl R {
    fn new(rtype: &'static str, name: &'static str, actions: &'static [&'static str]) -> R {
        R {
            module: "",
            data: false,
            rtype,
            name,
            index: None,
            actions,
            before: Value::Null,
            after: Value::Null,
            after_unknown: json!({}),
        }
    }

    fn values(mut self, before: Value, after: Value) -> R {
        self.before = before;
        self.after = after;
        self
    }

    fn in_module(mut self, module: &'static str) -> R {
        self.module = module;
        self
    }

    fn address(&self) -> String {
        let mut a = String::new();
        if !self.module.is_empty() {
            a.push_str(self.module);
            a.push('.');
        }
        if self.data {
            a.push_str("data.");
        }
        a.push_str(&format!("{}.{}", self.rtype, self.name));
        match &self.index {
            Some(Value::String(k)) => a.push_str(&format!("[{}]", json!(k))),
            Some(i) => a.push_str(&format!("[{i}]")),
            None => {}
        }
        a
    }

    fn value_representation(&self, values: &Value) -> Value {
        let mut r = json!({
            "address": self.address(),
            "mode": if self.data { "data" } else { "managed" },
            "type": self.rtype,
            "name": self.name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": values,
            "sensitive_values": {},
        });
        if let Some(i) = &self.index {
            r["index"] = i.clone();
        }
        r
    }
}

/// The parent of a module address (`module.a["x"].module.b` → `module.a["x"]`).
fn parent(module: &str) -> &str {
    module.rfind(".module.").map_or("", |i| &module[..i])
}

/// A values representation (`planned_values`, `prior_state.values`) of `resources`,
/// child modules nested by address.
fn values_representation(resources: &[(String, Value)]) -> Value {
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for (m, _) in resources {
        let mut m = m.as_str();
        while !m.is_empty() {
            modules.insert(m.to_string());
            m = parent(m);
        }
    }
    fn module(address: &str, modules: &BTreeSet<String>, resources: &[(String, Value)]) -> Value {
        let mut out = json!({
            "resources": resources.iter().filter(|(m, _)| m == address).map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        });
        let children: Vec<Value> = modules
            .iter()
            .filter(|m| parent(m) == address)
            .map(|m| module(m, modules, resources))
            .collect();
        if !children.is_empty() {
            out["child_modules"] = json!(children);
        }
        if !address.is_empty() {
            out["address"] = json!(address);
        }
        out
    }
    json!({ "root_module": module("", &modules, resources) })
}

/// The configuration representation: every module call (`./modules/NAME`) and every
/// resource, with a constant expression for each value it has after the change.
fn configuration(resources: &[R]) -> Value {
    fn module(path: &[String], resources: &[R]) -> Value {
        let here: Vec<Value> = resources
            .iter()
            .filter(|r| calls(r.module) == path)
            .map(|r| {
                let expressions: serde_json::Map<String, Value> = r
                    .after
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, v)| !v.is_null() && !v.is_array())
                    .map(|(k, v)| (k.clone(), json!({ "constant_value": v })))
                    .collect();
                json!({
                    "address": format!("{}{}.{}", if r.data { "data." } else { "" }, r.rtype, r.name),
                    "mode": if r.data { "data" } else { "managed" },
                    "type": r.rtype,
                    "name": r.name,
                    "provider_config_key": "aws",
                    "expressions": expressions,
                    "schema_version": 0,
                })
            })
            .collect();
        let mut children: BTreeSet<String> = BTreeSet::new();
        for r in resources {
            let c = calls(r.module);
            if c.len() > path.len() && c[..path.len()] == *path {
                children.insert(c[path.len()].clone());
            }
        }
        let mut calls_out = serde_json::Map::new();
        for child in children {
            let mut p = path.to_vec();
            p.push(child.clone());
            calls_out.insert(
                child.clone(),
                json!({ "source": format!("./modules/{child}"), "module": module(&p, resources) }),
            );
        }
        json!({ "resources": here, "module_calls": calls_out })
    }
    json!({
        "provider_config": { "aws": { "name": "aws", "full_name": "registry.terraform.io/hashicorp/aws" } },
        "root_module": module(&[], resources),
    })
}

/// Module call names of a module address.
fn calls(module: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut plain = String::new();
    for c in module.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let parts: Vec<&str> = plain.split('.').collect();
    for w in parts.windows(2) {
        if w[0] == "module" {
            out.push(w[1].to_string());
        }
    }
    out
}

/// A plan of `resources`, with `prior_data` (data sources read while planning).
fn plan(resources: &[R], prior_data: &[(R, Value)]) -> String {
    let planned: Vec<(String, Value)> = resources
        .iter()
        .filter(|r| !r.after.is_null())
        .map(|r| (r.module.to_string(), r.value_representation(&r.after)))
        .collect();
    let mut prior: Vec<(String, Value)> = resources
        .iter()
        .filter(|r| !r.before.is_null() && !r.data)
        .map(|r| (r.module.to_string(), r.value_representation(&r.before)))
        .collect();
    for (d, values) in prior_data {
        prior.push((d.module.to_string(), d.value_representation(values)));
    }
    let changes: Vec<Value> = resources
        .iter()
        .map(|r| {
            let mut c = json!({
                "address": r.address(),
                "mode": if r.data { "data" } else { "managed" },
                "type": r.rtype,
                "name": r.name,
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": r.actions,
                    "before": r.before,
                    "after": r.after,
                    "after_unknown": r.after_unknown,
                    "before_sensitive": if r.before.is_null() { json!(false) } else { json!({}) },
                    "after_sensitive": if r.after.is_null() { json!(false) } else { json!({}) },
                },
            });
            if !r.module.is_empty() {
                c["module_address"] = json!(r.module);
            }
            if let Some(i) = &r.index {
                c["index"] = i.clone();
            }
            c
        })
        .collect();
    let mut all: Vec<R> = resources.to_vec();
    all.extend(prior_data.iter().map(|(r, _)| r.clone()));
    serde_json::to_string_pretty(&json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": values_representation(&planned),
        "resource_changes": changes,
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": "1.9.8",
            "values": values_representation(&prior),
        },
        "configuration": configuration(&all),
        "timestamp": "2026-11-24T09:41:17Z",
        "errored": false,
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------------
// Running breakout

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = command(dir, args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    finish(&mut cmd)
}

/// One finding, as the tests look at it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct F {
    rule: String,
    resource: String,
    file: String,
    line: u64,
    action: String,
    change: String,
}

fn findings(report: &Value) -> Vec<F> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| F {
            rule: f["rule_id"].as_str().unwrap().to_string(),
            resource: f["resource"].as_str().unwrap().to_string(),
            file: f["location"]["file"].as_str().unwrap().to_string(),
            line: f["location"]["line"].as_u64().unwrap(),
            action: f["plan"]["action"].as_str().unwrap_or("").to_string(),
            change: f["plan"]["change"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// `(resource, rule)` → `action/change` of a report's findings.
fn status(report: &Value) -> BTreeMap<(String, String), String> {
    findings(report)
        .into_iter()
        .map(|f| ((f.resource, f.rule), format!("{}/{}", f.action, f.change)))
        .collect()
}

fn key(resource: &str, rule: &str) -> (String, String) {
    (resource.to_string(), rule.to_string())
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in\n{text}")) as u64
        + 1
}

fn policy(actions: &[&str], resource: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}).to_string()
}

fn containers(privileged: bool, user: &str, read_only: bool) -> String {
    json!([{
        "name": "app", "image": "registry.example.com/app:1.2.3", "essential": true,
        "privileged": privileged, "user": user, "readonlyRootFilesystem": read_only,
        "mountPoints": [], "portMappings": [], "environment": [], "volumesFrom": []
    }])
    .to_string()
}

fn task(privileged: bool, user: &str, read_only: bool) -> Value {
    json!({
        "family": "app", "network_mode": "awsvpc", "requires_compatibilities": ["FARGATE"],
        "cpu": "256", "memory": "512", "container_definitions": containers(privileged, user, read_only),
        "volume": [], "pid_mode": null, "ipc_mode": null, "task_role_arn": null, "execution_role_arn": null,
    })
}

fn launch_template(tokens: &str, hops: i64) -> Value {
    json!({
        "name": "nodes", "image_id": "ami-0c2b0d3fb02824d92", "instance_type": "m6i.large",
        "metadata_options": [{"http_endpoint": "enabled", "http_tokens": tokens,
            "http_put_response_hop_limit": hops, "http_protocol_ipv6": "disabled", "instance_metadata_tags": "disabled"}],
    })
}

fn deployment(privileged: bool, host_pid: bool) -> Value {
    json!({
        "metadata": [{"name": "agent", "namespace": "ops", "labels": {"app": "agent"}}],
        "spec": [{
            "replicas": "1",
            "selector": [{"match_labels": {"app": "agent"}}],
            "template": [{
                "metadata": [{"labels": {"app": "agent"}}],
                "spec": [{
                    "host_pid": host_pid,
                    "host_network": false,
                    "container": [{
                        "name": "agent", "image": "registry.example.com/agent:3.1",
                        "security_context": [{
                            "privileged": privileged, "run_as_non_root": true, "run_as_user": "10001",
                            "allow_privilege_escalation": false, "read_only_root_filesystem": true,
                        }],
                    }],
                }],
            }],
        }],
    })
}

// ---------------------------------------------------------------------------------
// Change status

/// Every action Terraform plans: what it does to the findings of the resource.
#[test]
fn each_action_gives_its_change_status() {
    let wide = policy(&["dynamodb:*"], "*");
    let narrow = policy(
        &["dynamodb:GetItem"],
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
    );
    let resources = [
        R::new("aws_iam_policy", "created", &["create"])
            .values(Value::Null, json!({"name": "created", "policy": wide})),
        R::new("aws_iam_policy", "replaced", &["delete", "create"])
            .values(json!({"name": "old", "policy": wide}), json!({"name": "replaced", "policy": wide})),
        R::new("aws_iam_policy", "replaced_reversed", &["create", "delete"])
            .values(json!({"name": "old", "policy": wide}), json!({"name": "replaced", "policy": wide})),
        R::new("aws_iam_policy", "unchanged", &["no-op"])
            .values(json!({"name": "unchanged", "policy": wide}), json!({"name": "unchanged", "policy": wide})),
        R::new("aws_iam_policy", "widened", &["update"])
            .values(json!({"name": "widened", "policy": narrow}), json!({"name": "widened", "policy": wide})),
        R::new("aws_iam_policy", "renamed", &["update"])
            .values(json!({"name": "a", "policy": wide}), json!({"name": "b", "policy": wide})),
        R::new("aws_iam_policy", "deleted", &["delete"])
            .values(json!({"name": "deleted", "policy": wide}), Value::Null),
        R {
            data: true,
            after_unknown: json!({"json": true, "id": true}),
            ..R::new("aws_iam_policy_document", "deferred", &["read"]).values(
                Value::Null,
                json!({"json": null, "statement": [{"actions": ["dynamodb:DeleteItem"], "resources": ["*"], "effect": "Allow"}]}),
            )
        },
    ];
    let dir = write(&[("plan.json", &plan(&resources, &[]))]);
    let report = run_in(
        dir.path(),
        &["scan", "plan.json", "-f", "json", "--only", "BRK101,BRK102"],
        None,
    );
    let report = report.assert_code(1).json();
    let got = status(&report);
    let want: BTreeMap<_, _> = [
        ("aws_iam_policy.created", "BRK101", "create/introduced"),
        ("aws_iam_policy.created", "BRK102", "create/introduced"),
        ("aws_iam_policy.replaced", "BRK101", "replace/introduced"),
        ("aws_iam_policy.replaced", "BRK102", "replace/introduced"),
        (
            "aws_iam_policy.replaced_reversed",
            "BRK101",
            "replace/introduced",
        ),
        (
            "aws_iam_policy.replaced_reversed",
            "BRK102",
            "replace/introduced",
        ),
        ("aws_iam_policy.unchanged", "BRK101", "no-op/existing"),
        ("aws_iam_policy.unchanged", "BRK102", "no-op/existing"),
        ("aws_iam_policy.widened", "BRK101", "update/introduced"),
        ("aws_iam_policy.widened", "BRK102", "update/introduced"),
        ("aws_iam_policy.renamed", "BRK101", "update/existing"),
        ("aws_iam_policy.renamed", "BRK102", "update/existing"),
        (
            "data.aws_iam_policy_document.deferred",
            "BRK102",
            "read/introduced",
        ),
    ]
    .into_iter()
    .map(|(r, rule, s)| (key(r, rule), s.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(report["summary"]["introduced"], 9);
    assert_eq!(report["summary"]["existing"], 4);
    assert_eq!(report["plans"][0]["introduced"], 9);
    assert_eq!(report["plans"][0]["existing"], 4);
}

/// Introduced and kept findings, rule family by rule family: an update judged over its
/// `before` values exactly as over its `after` values.
#[test]
fn updates_introduce_or_keep_findings_in_every_rule_family() {
    let wide = policy(&["dynamodb:*"], "*");
    let reads = policy(&["dynamodb:GetItem"], "*");
    let resources = [
        // IAM: a statement grows from GetItem to every action (BRK101 introduced); its
        // Resource was already every table, but for reads only (BRK102 introduced too).
        R::new("aws_iam_role_policy", "app", &["update"]).values(
            json!({"name": "app", "role": "app", "policy": reads}),
            json!({"name": "app", "role": "app", "policy": wide}),
        ),
        // IAM: a role keeps its managed policy through an update of its description
        // (BRK103 kept)…
        R::new("aws_iam_role", "app", &["update"]).values(
            json!({"name": "app", "description": "old", "assume_role_policy": policy(&["sts:AssumeRole"], "*"),
                   "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"], "inline_policy": []}),
            json!({"name": "app", "description": "new", "assume_role_policy": policy(&["sts:AssumeRole"], "*"),
                   "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"], "inline_policy": []}),
        ),
        // …while an attachment moved to another role grants it to someone new
        // (introduced: the finding names its holder).
        R::new("aws_iam_role_policy_attachment", "full", &["update"]).values(
            json!({"role": "a", "policy_arn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}),
            json!({"role": "b", "policy_arn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}),
        ),
        // ECS: the container becomes privileged (BRK601 introduced) and still runs as
        // root (BRK301 kept); its root filesystem becomes read-only (BRK401 gone).
        R::new("aws_ecs_task_definition", "app", &["update"])
            .values(task(false, "0", false), task(true, "0", true)),
        // Instances: tokens no longer required (BRK501 introduced), hop limit 2 kept
        // (BRK502).
        R::new("aws_launch_template", "nodes", &["update"])
            .values(launch_template("required", 2), launch_template("optional", 2)),
        // Kubernetes provider: the pod shares the host PID namespace (BRK603
        // introduced), its container was and stays privileged (BRK601 kept).
        R::new("kubernetes_deployment_v1", "agent", &["update"])
            .values(deployment(true, false), deployment(true, true)),
    ];
    let dir = write(&[("plan.json", &plan(&resources, &[]))]);
    let report = run_in(dir.path(), &["scan", "plan.json", "-f", "json"], None).json();
    let got = status(&report);
    let expect = |resource: &str, rule: &str, want: &str| {
        assert_eq!(
            got.get(&key(resource, rule)).map(String::as_str),
            Some(want),
            "{resource} {rule} in {got:#?}"
        );
    };
    expect("aws_iam_role_policy.app", "BRK101", "update/introduced");
    expect("aws_iam_role_policy.app", "BRK102", "update/introduced");
    expect("aws_iam_role.app", "BRK103", "update/existing");
    expect(
        "aws_iam_role_policy_attachment.full (b)",
        "BRK103",
        "update/introduced",
    );
    expect("aws_ecs_task_definition.app", "BRK601", "update/introduced");
    expect("aws_ecs_task_definition.app", "BRK301", "update/existing");
    expect("aws_launch_template.nodes", "BRK501", "update/introduced");
    expect("aws_launch_template.nodes", "BRK502", "update/existing");
    let k8s = "kubernetes_deployment_v1.agent (Deployment ops/agent)";
    expect(k8s, "BRK603", "update/introduced");
    expect(k8s, "BRK601", "update/existing");
    assert!(
        !got.contains_key(&key("aws_ecs_task_definition.app", "BRK401")),
        "the update fixed BRK401: {got:#?}"
    );
    // Every finding of the plan has a status.
    assert!(findings(&report).iter().all(|f| !f.change.is_empty()));
}

/// A policy document read while planning is in `prior_state` only: read from there,
/// reported once (under the resource that holds its document, with that resource's
/// change), and kept when no resource of the plan holds it.
#[test]
fn policy_documents_read_while_planning_come_from_the_prior_state() {
    let held = policy(
        &["dynamodb:*"],
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
    );
    let alone = policy(&["dynamodb:*"], "*");
    let document = |name: &'static str| R {
        data: true,
        ..R::new("aws_iam_policy_document", name, &[])
    };
    let resources = [R::new("aws_iam_role_policy", "app", &["create"]).values(
        Value::Null,
        json!({"name": "app", "role": "app", "policy": held}),
    )];
    let prior = [
        (
            document("held"),
            json!({"id": "1", "json": held, "statement": []}),
        ),
        (
            document("alone"),
            json!({"id": "2", "json": alone, "statement": []}),
        ),
    ];
    let dir = write(&[("plan.json", &plan(&resources, &prior))]);
    let report = run_in(
        dir.path(),
        &["scan", "plan.json", "-f", "json", "--only", "BRK101,BRK102"],
        None,
    )
    .json();
    let got = status(&report);
    assert_eq!(
        got,
        [
            (
                key("aws_iam_role_policy.app", "BRK101"),
                "create/introduced".to_string()
            ),
            (
                key("data.aws_iam_policy_document.alone", "BRK101"),
                "read/existing".to_string()
            ),
            (
                key("data.aws_iam_policy_document.alone", "BRK102"),
                "read/existing".to_string()
            ),
        ]
        .into_iter()
        .collect()
    );
}

/// `terraform show -json` of a state: the resources that exist, all kept.
#[test]
fn a_shown_state_is_existing_resources_located_in_the_configuration() {
    let tf = "resource \"aws_launch_template\" \"nodes\" {\n  name = \"nodes\"\n\n  metadata_options {\n    http_tokens = \"optional\"\n  }\n}\n";
    let state = json!({
        "format_version": "1.0",
        "terraform_version": "1.9.8",
        "values": values_representation(&[(
            String::new(),
            R::new("aws_launch_template", "nodes", &[]).value_representation(&launch_template("optional", 1)),
        )]),
    });
    let dir = write(&[("main.tf", tf), ("state.json", &state.to_string())]);
    let report = run_in(dir.path(), &["scan", "state.json", "-f", "json"], None).json();
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (
            f[0].rule.as_str(),
            f[0].file.as_str(),
            f[0].line,
            f[0].action.as_str(),
            f[0].change.as_str()
        ),
        (
            "BRK501",
            "main.tf",
            line_of(tf, "http_tokens"),
            "no-op",
            "existing"
        )
    );
    assert_eq!(report["plans"][0]["kind"], "state");
    assert_eq!(report["summary"]["existing"], 1);
    // A state introduces nothing: no plan summary line.
    let table = run_in(dir.path(), &["scan", "state.json"], None);
    assert!(!table.stdout.contains("introduces"), "{}", table.stdout);
}

// ---------------------------------------------------------------------------------
// Locations

const ROOT_TF: &str = r#"module "nodes" {
  source = "./modules/nodes"
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"
}

module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}

resource "aws_iam_role_policy" "app" {
  name = "app"
  role = "app"
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = "dynamodb:*"
      Resource = "*"
    }]
  })
}
"#;

const NODES_TF: &str = r#"module "workers" {
  source   = "./workers"
  for_each = toset(["a", "b"])
}

resource "aws_launch_template" "this" {
  name = "nodes"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
}
"#;

const WORKERS_TF: &str = r#"resource "aws_ecs_task_definition" "this" {
  family                   = "worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"

  container_definitions = jsonencode([{
    name       = "worker"
    image      = "registry.example.com/worker:1.0"
    privileged = true
    user       = "10001"
  }])
}
"#;

/// What `terraform init` installs: the registry module's files under
/// `.terraform/modules/eks`, listed in `modules.json`.
const EKS_TF: &str = r#"resource "aws_launch_template" "this" {
  name = "eks-nodes"

  metadata_options {
    http_tokens = "optional"
  }
}
"#;

const MODULES_JSON: &str = r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"nodes","Source":"./modules/nodes","Dir":"modules/nodes"},{"Key":"eks","Source":"registry.terraform.io/terraform-aws-modules/eks/aws","Version":"20.8.4","Dir":".terraform/modules/eks"}]}"#;

fn located_plan() -> String {
    let wide = policy(&["dynamodb:*"], "*");
    plan(
        &[
            R::new("aws_iam_role_policy", "app", &["create"])
                .values(Value::Null, json!({"name": "app", "role": "app", "policy": wide})),
            R::new("aws_launch_template", "this", &["update"])
                .in_module("module.nodes")
                .values(launch_template("required", 1), launch_template("required", 2)),
            R {
                index: None,
                ..R::new("aws_ecs_task_definition", "this", &["create"])
                    .in_module("module.nodes.module.workers[\"a\"]")
                    .values(Value::Null, {
                        let mut t = task(true, "10001", true);
                        t["family"] = json!("worker");
                        t
                    })
            },
            R::new("aws_launch_template", "this", &["create"])
                .in_module("module.eks")
                .values(Value::Null, launch_template("optional", 1)),
            R::new("aws_instance", "nat", &["create"])
                .in_module("module.vpc")
                .values(Value::Null, json!({"ami": "ami-1", "metadata_options": [{"http_tokens": "optional", "http_endpoint": "enabled", "http_put_response_hop_limit": 1}]})),
        ],
        &[],
    )
}

fn located_dir() -> tempfile::TempDir {
    write(&[
        ("infra/main.tf", ROOT_TF),
        ("infra/modules/nodes/main.tf", NODES_TF),
        ("infra/modules/nodes/workers/main.tf", WORKERS_TF),
        ("infra/.terraform/modules/eks/main.tf", EKS_TF),
        ("infra/.terraform/modules/modules.json", MODULES_JSON),
        ("infra/plan.json", &located_plan()),
    ])
}

/// Each finding at the `.tf` line that declares its value, found by address through
/// local module calls (nested, with instance keys) and the modules `terraform init`
/// installed; the plan's position as a related location; what cannot be found stays
/// in the plan, and the report says why, once.
#[test]
fn findings_point_at_the_tf_lines_through_module_calls() {
    let dir = located_dir();
    let run = run_in(dir.path(), &["scan", "infra/plan.json", "-f", "json"], None);
    let report = run.assert_code(1).json();
    let got: BTreeSet<(String, String, u64)> = findings(&report)
        .into_iter()
        .map(|f| (f.rule, f.file, f.line))
        .collect();
    let want: BTreeSet<(String, String, u64)> = [
        (
            "BRK101",
            "infra/main.tf",
            line_of(ROOT_TF, "policy = jsonencode"),
        ),
        (
            "BRK102",
            "infra/main.tf",
            line_of(ROOT_TF, "policy = jsonencode"),
        ),
        (
            "BRK502",
            "infra/modules/nodes/main.tf",
            line_of(NODES_TF, "hop_limit = 2"),
        ),
        (
            "BRK601",
            "infra/modules/nodes/workers/main.tf",
            line_of(WORKERS_TF, "container_definitions"),
        ),
        (
            "BRK501",
            "infra/.terraform/modules/eks/main.tf",
            line_of(EKS_TF, "http_tokens"),
        ),
        ("BRK501", "infra/plan.json", 0),
    ]
    .into_iter()
    .map(|(r, f, l)| (r.to_string(), f.to_string(), l))
    .collect();
    // The module nobody installed stays in the plan: compare its file only.
    let located: BTreeSet<_> = got
        .iter()
        .filter(|(_, f, _)| f != "infra/plan.json")
        .cloned()
        .collect();
    let wanted: BTreeSet<_> = want
        .iter()
        .filter(|(_, f, _)| f != "infra/plan.json")
        .cloned()
        .collect();
    assert_eq!(located, wanted);
    assert!(
        got.iter()
            .any(|(r, f, _)| r == "BRK501" && f == "infra/plan.json"),
        "{got:#?}"
    );

    // The plan's position of each located finding is a related location; a finding in
    // a module `terraform init` installed also points at the root module's call.
    for f in report["findings"].as_array().unwrap() {
        let related = f["related_locations"].as_array();
        if f["location"]["file"] == "infra/plan.json" {
            assert!(related.is_none(), "{f:#}");
            continue;
        }
        let mut related = related.unwrap().clone();
        if f["location"]["file"] == "infra/.terraform/modules/eks/main.tf" {
            let call = related.remove(0);
            assert_eq!(
                call,
                json!({"file": "infra/main.tf", "line": line_of(ROOT_TF, "module \"eks\""), "column": 1,
                       "message": "module.eks, installed by terraform init, is called here"})
            );
        }
        assert_eq!(related.len(), 1, "{f:#}");
        let r = &related[0];
        assert_eq!(r["file"], "infra/plan.json");
        assert!(
            r["message"].as_str().unwrap().starts_with("the plan: "),
            "{r}"
        );
        let plan_text = std::fs::read_to_string(dir.path().join("infra/plan.json")).unwrap();
        let line = plan_text
            .lines()
            .nth(r["line"].as_u64().unwrap() as usize - 1)
            .unwrap();
        assert!(
            line.trim_start().starts_with('{'),
            "a resource change starts there: {line}"
        );
    }
    let plans = &report["plans"][0];
    assert_eq!(plans["configuration"], "infra");
    assert_eq!(plans["located"], 4);
    assert_eq!(
        plans["not_located"],
        json!([{"reason": "module.vpc (terraform-aws-modules/vpc/aws): remote source, not installed (run `terraform init` to have it read)", "resources": 1}])
    );
    // Said once, in the table too.
    let table = run_in(dir.path(), &["scan", "infra/plan.json"], None);
    assert_eq!(
        table.stdout.matches("not installed").count(),
        1,
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("1 resource is located in the plan, not in .tf files"),
        "{}",
        table.stdout
    );
}

/// Without `.tf` files the plan's positions are used, and the report says why once;
/// `--tf-root` names the configuration's folder, for a plan anywhere, standard input
/// included.
#[test]
fn tf_root_names_the_configuration_for_a_plan_elsewhere_or_on_stdin() {
    let dir = located_dir();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::rename(
        dir.path().join("infra/plan.json"),
        dir.path().join("out/plan.json"),
    )
    .unwrap();
    let alone = run_in(dir.path(), &["scan", "out/plan.json", "-f", "json"], None).json();
    assert!(findings(&alone).iter().all(|f| f.file == "out/plan.json"));
    assert_eq!(
        alone["plans"][0]["not_located"],
        json!([{"reason": "no .tf files in out (name the configuration's folder with --tf-root DIR)", "resources": 5}])
    );
    let table = run_in(dir.path(), &["scan", "out/plan.json"], None).stdout;
    assert_eq!(table.matches("--tf-root").count(), 1, "{table}");

    let rooted = run_in(
        dir.path(),
        &["scan", "out/plan.json", "--tf-root", "infra", "-f", "json"],
        None,
    )
    .json();
    let text = std::fs::read_to_string(dir.path().join("out/plan.json")).unwrap();
    let stdin = run_in(
        dir.path(),
        &["scan", "-", "--tf-root", "infra", "-f", "json"],
        Some(&text),
    )
    .json();
    for report in [&rooted, &stdin] {
        let files: BTreeSet<String> = findings(report).into_iter().map(|f| f.file).collect();
        assert!(files.contains("infra/main.tf"), "{files:?}");
        assert!(
            files.contains("infra/modules/nodes/workers/main.tf"),
            "{files:?}"
        );
        assert_eq!(report["plans"][0]["located"], 4);
    }
    assert_eq!(stdin["plans"][0]["file"], "<stdin>");
}

/// The common CI layout: the plan next to its configuration, scanned as a folder. Each
/// resource and rule is reported once: the plan's finding, with its resolved values
/// and change status, at the configuration's line.
#[test]
fn a_folder_with_configuration_and_plan_reports_each_resource_once() {
    let dir = located_dir();
    // A resource the plan does not know (added after it was made) is the
    // configuration's to report.
    std::fs::write(
        dir.path().join("infra/extra.tf"),
        "resource \"aws_instance\" \"bastion\" {\n  ami = \"ami-1\"\n}\n",
    )
    .unwrap();
    let report = run_in(dir.path(), &["scan", "infra", "-f", "json"], None).json();
    let all = findings(&report);
    let mut seen = BTreeSet::new();
    for f in &all {
        assert!(
            seen.insert((f.resource.clone(), f.rule.clone())),
            "{} {} reported twice: {all:#?}",
            f.resource,
            f.rule
        );
    }
    let by_resource: BTreeMap<&str, &F> = all.iter().map(|f| (f.resource.as_str(), f)).collect();
    let lt = by_resource["module.nodes.aws_launch_template.this"];
    assert_eq!(
        (lt.file.as_str(), lt.change.as_str()),
        ("infra/modules/nodes/main.tf", "introduced")
    );
    let bastion = by_resource["aws_instance.bastion"];
    assert_eq!(
        (bastion.file.as_str(), bastion.change.as_str()),
        ("infra/extra.tf", "")
    );
    // The configuration alone would judge the same resources, at the same lines and
    // with the same fingerprints.
    let config = run_in(
        dir.path(),
        &["scan", "infra/main.tf", "infra/modules", "-f", "json"],
        None,
    )
    .json();
    let plan_only = run_in(dir.path(), &["scan", "infra/plan.json", "-f", "json"], None).json();
    let prints = |r: &Value| -> BTreeSet<(String, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["resource"] == "aws_iam_role_policy.app")
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().into(),
                    f["fingerprint"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(prints(&config), prints(&plan_only));
    assert!(!prints(&config).is_empty());
    // Counts agree with what is reported: one launch template per module instance.
    assert_eq!(
        report["summary"]["instances"],
        report_instances(&plan_only) + 1
    );
}

fn report_instances(r: &Value) -> u64 {
    r["summary"]["instances"].as_u64().unwrap()
}

/// A plan's finding is the configuration's: an ignore comment at its `.tf` line
/// suppresses it.
#[test]
fn ignore_comments_in_the_configuration_apply_to_the_plan() {
    let dir = located_dir();
    let nodes = dir.path().join("infra/modules/nodes/main.tf");
    let text = std::fs::read_to_string(&nodes).unwrap().replace(
        "    http_put_response_hop_limit = 2",
        "    # breakout:ignore BRK502 the agent needs IMDS until it moves to IRSA\n    http_put_response_hop_limit = 2",
    );
    std::fs::write(&nodes, text).unwrap();
    let report = run_in(dir.path(), &["scan", "infra/plan.json", "-f", "json"], None).json();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "BRK502")
        .unwrap();
    assert_eq!(f["suppression"]["kind"], "inline", "{f:#}");
    assert_eq!(f["plan"]["change"], "introduced");
    let md = run_in(
        dir.path(),
        &["scan", "infra/plan.json", "-f", "markdown"],
        None,
    )
    .stdout;
    assert!(
        md.contains("1 suppressed finding not shown (1 inline)."),
        "{md}"
    );
    assert!(!md.contains("BRK502"), "{md}");
}

// ---------------------------------------------------------------------------------
// --new-only

#[test]
fn new_only_reports_and_fails_on_what_the_plan_introduces() {
    let wide = policy(&["dynamodb:*"], "*");
    let resources = [
        // High findings the plan keeps.
        R::new("aws_iam_policy", "legacy", &["no-op"]).values(
            json!({"name": "legacy", "policy": wide}),
            json!({"name": "legacy", "policy": wide}),
        ),
        // A medium finding it introduces.
        R::new("aws_launch_template", "nodes", &["update"]).values(
            launch_template("required", 1),
            launch_template("required", 2),
        ),
    ];
    let k8s = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x:1\n      securityContext: {privileged: true}\n";
    let dir = write(&[("plan.json", &plan(&resources, &[])), ("pod.yaml", k8s)]);
    let all = run_in(
        dir.path(),
        &["scan", "plan.json", "--fail-on", "high", "-f", "json"],
        None,
    );
    all.assert_code(1);
    let new = run_in(
        dir.path(),
        &[
            "scan",
            "plan.json",
            "--fail-on",
            "high",
            "--new-only",
            "-f",
            "json",
        ],
        None,
    );
    let report = new.assert_code(0).json();
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0].rule.as_str(), f[0].change.as_str()),
        ("BRK502", "introduced")
    );
    assert_eq!(report["summary"]["findings"], 1);
    assert_eq!(report["summary"]["existing"], 0);
    assert_eq!(report["plans"][0]["existing"], 2, "counted, not shown");
    assert!(new.stderr.is_empty(), "{}", new.stderr);
    // Other inputs are unaffected.
    let both = run_in(dir.path(), &["scan", ".", "--new-only", "-f", "json"], None).json();
    assert!(findings(&both)
        .iter()
        .any(|f| f.rule == "BRK601" && f.change.is_empty()));
    // The table says what was kept.
    let table = run_in(dir.path(), &["scan", "plan.json", "--new-only"], None).stdout;
    assert!(
        table.contains("This plan introduces 1 finding (0 critical), keeps 2"),
        "{table}"
    );
    let md = run_in(
        dir.path(),
        &["scan", "plan.json", "--new-only", "-f", "markdown"],
        None,
    )
    .stdout;
    assert!(
        md.contains("2 existing findings the plan keeps not shown (`--new-only`)"),
        "{md}"
    );
}

// ---------------------------------------------------------------------------------
// The table

#[test]
fn the_table_shows_the_change_and_sums_up_the_plan() {
    let run = run_in(
        Path::new(ROOT),
        &["scan", "samples/tfplan/review/plan.json"],
        None,
    );
    run.assert_code(1);
    let out = &run.stdout;
    assert!(
        out.contains("samples/tfplan/review/modules/nodes/main.tf\n"),
        "{out}"
    );
    assert!(out.contains("┆ Plan "), "a column of its own: {out}");
    assert!(
        ["┆ introduced ", "┆ (update) ", "┆ existing ", "┆ (no-op) "]
            .iter()
            .all(|cell| out.contains(cell)),
        "{out}"
    );
    assert!(
        out.contains("This plan introduces 1 finding (0 critical), keeps 1\n"),
        "{out}"
    );
    // Not a plan: no column, no plan line.
    let k8s = run_in(
        Path::new(ROOT),
        &["scan", "samples/k8s/vulnerable/orders-api.yaml"],
        None,
    )
    .stdout;
    assert!(
        !k8s.contains("┆ Plan ") && !k8s.contains("introduces"),
        "{k8s}"
    );
}

/// The sample plan review: what the README shows.
#[test]
fn the_review_sample_introduces_one_finding_and_keeps_another() {
    for target in ["samples/tfplan/review", "samples/tfplan/review/plan.json"] {
        let report = run_in(Path::new(ROOT), &["scan", target, "-f", "json"], None).json();
        let got: Vec<(String, String, u64, String)> = findings(&report)
            .into_iter()
            .map(|f| (f.rule, f.file, f.line, f.change))
            .collect();
        let main =
            std::fs::read_to_string(Path::new(ROOT).join("samples/tfplan/review/main.tf")).unwrap();
        let nodes = std::fs::read_to_string(
            Path::new(ROOT).join("samples/tfplan/review/modules/nodes/main.tf"),
        )
        .unwrap();
        assert_eq!(
            got,
            [
                (
                    "BRK401".into(),
                    "samples/tfplan/review/main.tf".into(),
                    line_of(&main, "container_definitions"),
                    "existing".into()
                ),
                (
                    "BRK502".into(),
                    "samples/tfplan/review/modules/nodes/main.tf".into(),
                    line_of(&nodes, "http_put_response_hop_limit"),
                    "introduced".into()
                ),
            ],
            "{target}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Markdown

/// Checks that `md` is GitHub-flavoured Markdown of the expected shape: tables whose
/// rows all have the header's cells, no HTML but `<details>` and `<summary>`, no link
/// or image; returns the text of every table cell, row by row.
fn gfm_cells(md: &str) -> Vec<Vec<String>> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut rows = Vec::new();
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    let mut width = 0;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                let h = h.trim();
                assert!(
                    matches!(h, "<details>" | "</details>")
                        || (h.starts_with("<summary>") && h.ends_with("</summary>"))
                        || h == "<summary>"
                        || h == "</summary>",
                    "raw HTML: {h:?}\n{md}"
                );
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                panic!("a link or image in\n{md}")
            }
            Event::Start(Tag::Table(align)) => width = align.len(),
            Event::Start(Tag::TableHead | Tag::TableRow) => row = Some(Vec::new()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                let r = row.take().unwrap();
                assert_eq!(r.len(), width, "row {r:?} in\n{md}");
                rows.push(r);
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.as_mut().unwrap().push(cell.take().unwrap()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                assert!(cell.is_none(), "a line break in a cell:\n{md}")
            }
            _ => {}
        }
    }
    rows
}

#[test]
fn markdown_of_a_plan_review() {
    let run = run_in(
        Path::new(ROOT),
        &["scan", "samples/tfplan/review/plan.json", "-f", "markdown"],
        None,
    );
    run.assert_code(1);
    gfm_cells(&run.stdout);
    assert!(run
        .stdout
        .starts_with("### breakout: 1 medium finding introduced by this plan\n"));
    insta::assert_snapshot!("markdown_plan_review", run.stdout);
}

#[test]
fn markdown_of_a_scan_without_plan() {
    let run = run_in(
        Path::new(ROOT),
        &["scan", "samples/compose/vulnerable", "-f", "markdown"],
        None,
    );
    run.assert_code(1);
    let cells = gfm_cells(&run.stdout);
    assert!(cells.len() > 2);
    assert!(
        run.stdout.lines().next().unwrap().ends_with(" found"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("<details>"));
    insta::assert_snapshot!("markdown_found", run.stdout);
    let clean = run_in(
        Path::new(ROOT),
        &["scan", "samples/compose/hardened", "-f", "markdown"],
        None,
    );
    clean.assert_code(0);
    assert!(
        clean.stdout.starts_with("### breakout: no findings\n"),
        "{}",
        clean.stdout
    );
}

/// Names from scanned files that try to break out of their cell, inject HTML, links,
/// emphasis or terminal controls are shown as they are, escaped.
#[test]
fn markdown_escapes_what_scanned_files_say() {
    let hostile = "evil|</details><img src=x onerror=alert(1)>`[x](https://e.example)`*b*\u{1b}[2J\nnext $m$ &lt;";
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\n  namespace: \"a|b\"\nspec:\n  containers:\n    - name: {}\n      image: \"x`y``z|w\"\n      securityContext: {{privileged: true}}\n",
        json!(hostile),
        json!(hostile)
    );
    let dir = write(&[("pod|`<b>.yaml", &pod)]);
    let run = run_in(
        dir.path(),
        &["scan", ".", "-f", "markdown", "--only", "BRK601"],
        None,
    );
    run.assert_code(1);
    let cells = gfm_cells(&run.stdout);
    let row = &cells[1];
    let shown = "evil|</details><img src=x onerror=alert(1)>`[x](https://e.example)`*b*\\x1b[2J\\nnext $m$ &lt;";
    assert_eq!(row[2], format!("Pod a|b/{shown}"), "{}", run.stdout);
    assert_eq!(row[3], "./pod|`<b>.yaml:10");
    assert!(row[4].contains(shown), "{}", row[4]);
    insta::assert_snapshot!("markdown_hostile", run.stdout);
}

/// Past 65,000 characters the longest table is cut, and says by how much.
#[test]
fn markdown_is_cut_to_fit_a_comment() {
    let wide = policy(&["dynamodb:*"], "*");
    let names: Vec<&'static str> = (0..900)
        .map(|i| &*Box::leak(format!("p{i:04}").into_boxed_str()))
        .collect();
    let mut resources: Vec<R> = names
        .iter()
        .map(|n| {
            R::new("aws_iam_policy", n, &["create"])
                .values(Value::Null, json!({"name": n, "policy": wide}))
        })
        .collect();
    resources.extend(names[..30].iter().map(|n| {
        R::new("aws_launch_template", n, &["no-op"]).values(
            launch_template("optional", 1),
            launch_template("optional", 1),
        )
    }));
    let dir = write(&[("plan.json", &plan(&resources, &[]))]);
    let md = run_in(dir.path(), &["scan", "plan.json", "-f", "markdown"], None).stdout;
    assert!(md.chars().count() <= 65_000, "{}", md.chars().count());
    assert!(
        md.starts_with("### breakout: 1800 high findings introduced by this plan\n"),
        "{}",
        &md[..200]
    );
    let cut: usize = md
        .lines()
        .find_map(|l| {
            l.strip_prefix('_')?
                .split(" more findings not shown here")
                .next()?
                .parse()
                .ok()
        })
        .expect("the cut is said");
    let rows = gfm_cells(&md).len() - 2; // two header rows
    assert_eq!(rows + cut, 1800 + 30, "every finding is shown or counted");
    // The kept findings, the shorter table, are whole.
    assert!(md.contains("<summary>30 existing findings the plan keeps</summary>"));
    assert!(md.trim_end().ends_with("explains a rule._"));
}

// ---------------------------------------------------------------------------------
// The bench plan's shape, as a sanity check of the fast path on one line

#[test]
fn a_plan_on_one_line_is_read_like_a_pretty_one() {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("samples/tfplan/review/plan.json")).unwrap();
    let one_line = serde_json::to_string(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
    let dir = write(&[("plan.json", &one_line)]);
    for f in ["main.tf", "modules/nodes/main.tf"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(
            PathBuf::from(ROOT).join("samples/tfplan/review").join(f),
            to,
        )
        .unwrap();
    }
    let a = run_in(dir.path(), &["scan", "plan.json", "-f", "json"], None).json();
    let b = run_in(
        &PathBuf::from(ROOT).join("samples/tfplan/review"),
        &["scan", "plan.json", "-f", "json"],
        None,
    )
    .json();
    let strip = |r: &Value| -> Vec<(String, String, u64, String)> {
        findings(r)
            .into_iter()
            .map(|f| (f.rule, f.file, f.line, f.change))
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
}
