//! A `terraform show -json` plan of many module instances, on one line as Terraform
//! writes it, and the configuration it was made from: a root module that calls
//! `./modules/svc` once per service. Each instance holds nine resources, four of them
//! of types breakout does not read (they only cost parsing), in a realistic mix of
//! actions: mostly no-op, some updates (before and after differ), creates, replaces,
//! deletes, and a policy document read at plan time (in `prior_state` only).

use serde_json::{json, Value};

/// The configuration: `(relative path, text)`.
pub fn configuration() -> Vec<(&'static str, String)> {
    let root = r#"variable "services" {
  type = list(string)
}

module "svc" {
  source   = "./modules/svc"
  for_each = toset(var.services)
  name     = each.key
}
"#;
    let svc = r#"variable "name" {
  type = string
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = { service = var.name }
}

resource "aws_iam_role_policy" "task" {
  name = "${var.name}-dynamodb"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
      Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/${var.name}"
    }]
  })
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["EC2"]
  network_mode             = "bridge"
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name  = var.name
    image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/${var.name}:1.4.2"
  }])

  volume {
    name      = "data"
    host_path = "/srv/${var.name}"
  }
}

resource "aws_launch_template" "nodes" {
  name      = "${var.name}-nodes"
  user_data = filebase64("${path.module}/user-data.sh")

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_security_group" "this" {
  name   = var.name
  vpc_id = "vpc-0abc"
}

resource "aws_s3_bucket" "logs" {
  bucket = "${var.name}-logs"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

resource "aws_sqs_queue" "jobs" {
  name = "${var.name}-jobs"
}
"#;
    vec![
        ("main.tf", root.to_string()),
        ("modules/svc/main.tf", svc.to_string()),
    ]
}

/// One resource instance of the plan.
struct Res {
    rtype: &'static str,
    name: &'static str,
    data: bool,
    actions: &'static [&'static str],
    before: Option<Value>,
    after: Option<Value>,
    after_unknown: Value,
}

fn policy(actions: &[&str], resource: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})
        .to_string()
}

fn containers(name: &str, user: Option<&str>, read_only: bool) -> String {
    let env: Vec<Value> = (0..12)
        .map(|k| json!({"name": format!("SETTING_{k}"), "value": format!("value-{name}-{k}")}))
        .collect();
    let mut c = json!({
        "name": name, "image": format!("111122223333.dkr.ecr.eu-west-1.amazonaws.com/{name}:1.4.2"),
        "cpu": 256, "memory": 512, "essential": true, "environment": env,
        "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
        "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": false}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": format!("/ecs/{name}"), "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}},
        "readonlyRootFilesystem": read_only,
    });
    if let Some(u) = user {
        c["user"] = json!(u);
    }
    json!([c]).to_string()
}

fn tags(name: &str) -> Value {
    json!({"service": name, "team": "platform", "cost-center": "cc-1234", "managed-by": "terraform"})
}

/// The nine resources of service `i`, with their actions.
fn service(i: usize) -> Vec<Res> {
    let name = format!("svc-{i:05}");
    let arn = |kind: &str| format!("arn:aws:iam::111122223333:{kind}/{name}");
    // Which kind of change this service sees.
    let kind = i % 20;
    let (main_action, created): (&'static [&'static str], bool) = match kind {
        0 | 1 => (&["create"], true),
        2..=4 => (&["update"], false),
        5 => (&["delete", "create"], false),
        _ => (&["no-op"], false),
    };
    let dynamo_before = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"];
    let dynamo_after: &[&str] = if kind == 3 {
        &["dynamodb:*"]
    } else {
        &dynamo_before
    };
    let table = format!("arn:aws:dynamodb:eu-west-1:111122223333:table/{name}");
    let assume = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}).to_string();
    let role = json!({
        "name": format!("{name}-task"), "assume_role_policy": assume, "arn": arn("role"),
        "id": format!("{name}-task"), "path": "/", "max_session_duration": 3600,
        "force_detach_policies": false, "description": "", "inline_policy": [],
        "managed_policy_arns": [], "permissions_boundary": null, "tags": tags(&name), "tags_all": tags(&name),
        "unique_id": format!("AROA{i:016}"), "create_date": "2026-01-02T03:04:05Z",
    });
    let role_policy = |actions: &[&str]| json!({"name": format!("{name}-dynamodb"), "role": format!("{name}-task"), "id": format!("{name}-task:{name}-dynamodb"), "policy": policy(actions, &table), "name_prefix": null});
    let task = |user: Option<&str>, ro: bool, mode: &str| {
        json!({
            "family": name, "network_mode": mode, "requires_compatibilities": ["EC2"],
            "container_definitions": containers(&name, user, ro), "task_role_arn": arn("role"),
            "execution_role_arn": null, "cpu": null, "memory": null, "pid_mode": null, "ipc_mode": null,
            "arn": format!("arn:aws:ecs:eu-west-1:111122223333:task-definition/{name}:7"), "revision": 7,
            "volume": [{"name": "data", "host_path": format!("/srv/{name}"), "docker_volume_configuration": [], "efs_volume_configuration": [], "fsx_windows_file_server_volume_configuration": [], "configure_at_launch": false}],
            "placement_constraints": [], "proxy_configuration": [], "runtime_platform": [], "ephemeral_storage": [], "inference_accelerator": [],
            "skip_destroy": false, "track_latest": false, "tags": tags(&name), "tags_all": tags(&name),
        })
    };
    let lt = |tokens: &str, hops: i64| {
        json!({
            "name": format!("{name}-nodes"), "id": format!("lt-{i:017x}"), "arn": format!("arn:aws:ec2:eu-west-1:111122223333:launch-template/lt-{i:017x}"),
            "default_version": 1, "latest_version": 3, "image_id": "ami-0123456789abcdef0", "instance_type": "m6i.large",
            "user_data": "IyEvYmluL2Jhc2gKc2V0IC1ldW8gcGlwZWZhaWwKL2V0Yy9la3MvYm9vdHN0cmFwLnNoIGNsdXN0ZXIgLS1rdWJlbGV0LWV4dHJhLWFyZ3MgJy0tbm9kZS1sYWJlbHM9dGVhbT1wbGF0Zm9ybScK",
            "metadata_options": [{"http_endpoint": "enabled", "http_tokens": tokens, "http_put_response_hop_limit": hops, "http_protocol_ipv6": "disabled", "instance_metadata_tags": "disabled"}],
            "block_device_mappings": [{"device_name": "/dev/xvda", "no_device": "", "virtual_name": "", "ebs": [{"volume_size": 50, "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true", "iops": 3000, "throughput": 125, "kms_key_id": "", "snapshot_id": ""}]}],
            "tag_specifications": [{"resource_type": "instance", "tags": tags(&name)}],
            "network_interfaces": [], "monitoring": [{"enabled": true}], "tags": tags(&name), "tags_all": tags(&name),
        })
    };
    let sg = json!({
        "name": name, "vpc_id": "vpc-0abc", "id": format!("sg-{i:017x}"), "description": "Managed by Terraform",
        "ingress": [{"from_port": 8080, "to_port": 8080, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": "app"}],
        "egress": [{"from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": ""}],
        "revoke_rules_on_delete": false, "tags": tags(&name), "tags_all": tags(&name),
    });
    let bucket = json!({
        "bucket": format!("{name}-logs"), "id": format!("{name}-logs"), "arn": format!("arn:aws:s3:::{name}-logs"),
        "bucket_domain_name": format!("{name}-logs.s3.amazonaws.com"), "force_destroy": false, "object_lock_enabled": false,
        "versioning": [{"enabled": true, "mfa_delete": false}], "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}], "bucket_key_enabled": false}]}],
        "hosted_zone_id": "Z1BKCTXD74EZPE", "region": "eu-west-1", "request_payer": "BucketOwner", "tags": tags(&name), "tags_all": tags(&name),
    });
    let logs = json!({"name": format!("/ecs/{name}"), "retention_in_days": 30, "arn": format!("arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/{name}"), "kms_key_id": "", "skip_destroy": false, "log_group_class": "STANDARD", "tags": tags(&name), "tags_all": tags(&name)});
    let queue = json!({"name": format!("{name}-jobs"), "id": format!("https://sqs.eu-west-1.amazonaws.com/111122223333/{name}-jobs"), "visibility_timeout_seconds": 30, "message_retention_seconds": 345600, "max_message_size": 262144, "delay_seconds": 0, "receive_wait_time_seconds": 0, "fifo_queue": false, "sqs_managed_sse_enabled": true, "tags": tags(&name), "tags_all": tags(&name)});
    let document = json!({"json": assume_document(), "id": "1234567890", "statement": [{"actions": ["sts:AssumeRole"], "effect": "Allow", "principals": [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}], "resources": [], "sid": "", "condition": [], "not_actions": [], "not_principals": [], "not_resources": []}], "version": "2012-10-17"});

    let same = |rtype: &'static str, name: &'static str, v: Value| Res {
        rtype,
        name,
        data: false,
        actions: main_action,
        before: (!created).then(|| v.clone()),
        after: Some(v),
        after_unknown: if created {
            json!({"id": true, "arn": true})
        } else {
            json!({})
        },
    };
    let mut out = vec![
        Res {
            rtype: "aws_iam_policy_document",
            name: "assume",
            data: true,
            actions: &[],
            before: None,
            after: Some(document),
            after_unknown: json!({}),
        },
        same("aws_iam_role", "task", role),
        Res {
            before: (!created).then(|| role_policy(&dynamo_before)),
            ..same("aws_iam_role_policy", "task", role_policy(dynamo_after))
        },
        // Updates: the container gives up its read-only root filesystem (introduced) or
        // keeps running as root (kept); the launch template raises its hop limit.
        Res {
            before: (!created).then(|| {
                task(
                    if kind == 4 { Some("0") } else { None },
                    kind != 2,
                    "bridge",
                )
            }),
            ..same(
                "aws_ecs_task_definition",
                "this",
                task(
                    if kind == 4 { Some("0") } else { None },
                    kind != 2 && kind != 0,
                    "bridge",
                ),
            )
        },
        Res {
            before: (!created).then(|| lt("required", 1)),
            ..same(
                "aws_launch_template",
                "nodes",
                lt(
                    if kind == 4 { "optional" } else { "required" },
                    if kind == 2 { 2 } else { 1 },
                ),
            )
        },
        same("aws_security_group", "this", sg),
        same("aws_s3_bucket", "logs", bucket),
        same("aws_cloudwatch_log_group", "this", logs),
        same("aws_sqs_queue", "jobs", queue),
    ];
    // One service in fifty is removed: every resource deleted.
    if i % 50 == 49 {
        for r in out.iter_mut().filter(|r| !r.data) {
            r.actions = &["delete"];
            r.after = None;
            r.after_unknown = json!({});
        }
    }
    out
}

fn assume_document() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}).to_string()
}

fn resource(module: &str, r: &Res, values: &Value) -> Value {
    let mode = if r.data { "data" } else { "managed" };
    let prefix = if r.data { "data." } else { "" };
    json!({
        "address": format!("{module}.{prefix}{}.{}", r.rtype, r.name),
        "mode": mode, "type": r.rtype, "name": r.name,
        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values, "sensitive_values": {},
    })
}

/// The plan of `services` module instances, as one line of JSON, written piece by piece
/// so that the generator's own memory stays small beside the scan's.
pub fn plan(services: usize) -> String {
    let (mut planned, mut prior, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..services {
        let module = format!("module.svc[\"svc-{i:05}\"]");
        let (mut p, mut s) = (Vec::new(), Vec::new());
        for r in service(i) {
            if r.data {
                // Read while planning: in the prior state only.
                s.push(resource(&module, &r, r.after.as_ref().unwrap()));
                continue;
            }
            if let Some(after) = &r.after {
                p.push(resource(&module, &r, after));
            }
            if let Some(before) = &r.before {
                s.push(resource(&module, &r, before));
            }
            changes.push(
                json!({
                    "address": format!("{module}.{}.{}", r.rtype, r.name),
                    "module_address": module, "mode": "managed", "type": r.rtype, "name": r.name,
                    "provider_name": "registry.terraform.io/hashicorp/aws",
                    "change": {
                        "actions": r.actions, "before": r.before, "after": r.after,
                        "after_unknown": r.after_unknown, "before_sensitive": if r.before.is_some() { json!({}) } else { json!(false) },
                        "after_sensitive": if r.after.is_some() { json!({}) } else { json!(false) },
                    },
                })
                .to_string(),
            );
        }
        planned.push(json!({"address": module, "resources": p}).to_string());
        prior.push(json!({"address": module, "resources": s}).to_string());
    }
    let expressions = |pairs: Value| pairs;
    let configuration = json!({
        "provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
        "root_module": {
            "module_calls": {"svc": {
                "source": "./modules/svc",
                "expressions": {"name": {"references": ["each.key"]}},
                "for_each_expression": {"references": ["var.services"]},
                "module": {
                    "resources": [
                        {"address": "aws_iam_role.task", "mode": "managed", "type": "aws_iam_role", "name": "task", "provider_config_key": "aws", "schema_version": 0,
                         "expressions": expressions(json!({"name": {"references": ["var.name"]}, "assume_role_policy": {"references": ["data.aws_iam_policy_document.assume.json", "data.aws_iam_policy_document.assume"]}}))},
                        {"address": "aws_iam_role_policy.task", "mode": "managed", "type": "aws_iam_role_policy", "name": "task", "provider_config_key": "aws", "schema_version": 0,
                         "expressions": {"name": {"references": ["var.name"]}, "role": {"references": ["aws_iam_role.task.id", "aws_iam_role.task"]}, "policy": {"references": ["var.name"]}}},
                        {"address": "aws_ecs_task_definition.this", "mode": "managed", "type": "aws_ecs_task_definition", "name": "this", "provider_config_key": "aws", "schema_version": 1,
                         "expressions": {"family": {"references": ["var.name"]}, "network_mode": {"constant_value": "bridge"}, "requires_compatibilities": {"constant_value": ["EC2"]}, "task_role_arn": {"references": ["aws_iam_role.task.arn", "aws_iam_role.task"]}, "container_definitions": {"references": ["var.name"]}, "volume": [{"name": {"constant_value": "data"}, "host_path": {"references": ["var.name"]}}]}},
                        {"address": "aws_launch_template.nodes", "mode": "managed", "type": "aws_launch_template", "name": "nodes", "provider_config_key": "aws", "schema_version": 0,
                         "expressions": {"name": {"references": ["var.name"]}, "user_data": {"references": ["path.module"]}, "metadata_options": [{"http_endpoint": {"constant_value": "enabled"}, "http_tokens": {"constant_value": "required"}, "http_put_response_hop_limit": {"constant_value": 1}}]}},
                        {"address": "aws_security_group.this", "mode": "managed", "type": "aws_security_group", "name": "this", "provider_config_key": "aws", "schema_version": 1, "expressions": {"name": {"references": ["var.name"]}, "vpc_id": {"constant_value": "vpc-0abc"}}},
                        {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs", "provider_config_key": "aws", "schema_version": 0, "expressions": {"bucket": {"references": ["var.name"]}}},
                        {"address": "aws_cloudwatch_log_group.this", "mode": "managed", "type": "aws_cloudwatch_log_group", "name": "this", "provider_config_key": "aws", "schema_version": 0, "expressions": {"name": {"references": ["var.name"]}, "retention_in_days": {"constant_value": 30}}},
                        {"address": "aws_sqs_queue.jobs", "mode": "managed", "type": "aws_sqs_queue", "name": "jobs", "provider_config_key": "aws", "schema_version": 0, "expressions": {"name": {"references": ["var.name"]}}},
                        {"address": "data.aws_iam_policy_document.assume", "mode": "data", "type": "aws_iam_policy_document", "name": "assume", "provider_config_key": "aws", "schema_version": 0,
                         "expressions": {"statement": [{"actions": {"constant_value": ["sts:AssumeRole"]}, "principals": [{"type": {"constant_value": "Service"}, "identifiers": {"constant_value": ["ecs-tasks.amazonaws.com"]}}]}]}}
                    ],
                    "variables": {"name": {}}
                }
            }},
            "variables": {"services": {}}
        }
    });
    let names: Vec<String> = (0..services).map(|i| format!("svc-{i:05}")).collect();
    let mut out = String::with_capacity(
        planned
            .iter()
            .chain(&prior)
            .chain(&changes)
            .map(String::len)
            .sum::<usize>()
            + 16384,
    );
    out.push_str(
        r#"{"format_version":"1.2","terraform_version":"1.9.8","variables":{"services":{"value":"#,
    );
    out.push_str(&json!(names).to_string());
    out.push_str(r#"}},"planned_values":{"root_module":{"child_modules":["#);
    out.push_str(&planned.join(","));
    drop(planned);
    out.push_str(r#"]}},"resource_changes":["#);
    out.push_str(&changes.join(","));
    drop(changes);
    out.push_str(r#"],"prior_state":{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":{"child_modules":["#);
    out.push_str(&prior.join(","));
    out.push_str(r#"]}}},"configuration":"#);
    out.push_str(&configuration.to_string());
    out.push_str(r#","timestamp":"2026-11-02T10:00:00Z","errored":false}"#);
    out
}
