//! Terraform resources → facts. Each extractor reads one resource instance's attribute
//! values in plan JSON's shape (nested blocks as lists of objects), whether they were
//! evaluated from HCL or read from a plan, and hands policies, container definitions
//! and pod specs to the domain extractors (IAM, ECS, Kubernetes).

use super::links;
use super::provider_defaults;
use crate::extract::{ecs, iam, k8s};
use crate::facts::{
    CustomerPolicy, Facts, IamRole, InstanceMetadata, Locs, PolicyKind, RolePolicy, Tri,
};
use crate::parse::{json, Entry, Node, Value};
use std::borrow::Cow;

/// What an extractor knows about the instance besides its values.
pub struct Ctx<'a> {
    /// The resource type, e.g. `aws_iam_policy`.
    pub rtype: &'a str,
    /// The instance address as Terraform prints it, e.g. `module.app.aws_iam_policy.p["x"]`.
    pub address: &'a str,
    /// The file the resource is written in.
    pub file: &'a str,
}

/// Whether breakout reads this resource type (`data` for data sources).
pub fn handles(rtype: &str, data: bool) -> bool {
    if data {
        return rtype == "aws_iam_policy_document";
    }
    matches!(
        rtype,
        "aws_iam_policy"
            | "aws_iam_role_policy"
            | "aws_iam_user_policy"
            | "aws_iam_group_policy"
            | "aws_iam_role"
            | "aws_iam_role_policy_attachment"
            | "aws_iam_user_policy_attachment"
            | "aws_iam_group_policy_attachment"
            | "aws_iam_policy_attachment"
            | "aws_iam_role_policy_attachments_exclusive"
            | "aws_dynamodb_resource_policy"
            | "aws_ecs_task_definition"
            | "aws_batch_job_definition"
            | "aws_instance"
            | "aws_launch_template"
            | "aws_launch_configuration"
            | "aws_eks_node_group"
            | "aws_eks_fargate_profile"
            | "aws_iam_instance_profile"
            | "aws_eks_pod_identity_association"
            | "aws_ecs_service"
    ) || k8s_kind(rtype).is_some()
}

/// Extracts the facts of one resource instance. A null argument is an unset one (the
/// provider's default applies, see [`provider_defaults`]): nulls are dropped first, at
/// every depth, so no extractor mistakes one for a value or for unknown.
pub fn extract(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let values = &without_nulls(values);
    let a = ctx.address;
    match ctx.rtype {
        "aws_iam_policy_document" => policy(ctx, values.get("json"), a, None, facts),
        "aws_iam_policy" => {
            facts.customer_policies.push(CustomerPolicy {
                resource: a.to_string(),
                name: known_text(values, "name"),
                arn: known_text(values, "arn"),
                document_refs: Vec::new(),
                file: ctx.file.to_string(),
                loc: values.pos,
            });
            policy(
                ctx,
                values.get("policy"),
                a,
                Some(PolicyKind::Identity),
                facts,
            )
        }
        "aws_iam_role_policy" => {
            facts.role_policies.push(RolePolicy {
                resource: a.to_string(),
                kind: "inline",
                role: known_text(values, "role"),
                role_refs: Vec::new(),
                policy: Some(a.to_string()),
                policy_refs: Vec::new(),
                aws_managed_names: Vec::new(),
                file: ctx.file.to_string(),
                loc: values.get("policy").map_or(values.pos, |p| p.pos),
                locs: Locs::new(),
            });
            policy(
                ctx,
                values.get("policy"),
                a,
                Some(PolicyKind::Identity),
                facts,
            )
        }
        "aws_iam_user_policy" | "aws_iam_group_policy" => policy(
            ctx,
            values.get("policy"),
            a,
            Some(PolicyKind::Identity),
            facts,
        ),
        "aws_dynamodb_resource_policy" => policy(
            ctx,
            values.get("policy"),
            a,
            Some(PolicyKind::Resource),
            facts,
        ),
        "aws_iam_role" => role(ctx, values, facts),
        "aws_iam_role_policy_attachment"
        | "aws_iam_user_policy_attachment"
        | "aws_iam_group_policy_attachment"
        | "aws_iam_policy_attachment"
        | "aws_iam_role_policy_attachments_exclusive" => attachment(ctx, values, facts),
        "aws_ecs_task_definition" => task_definition(ctx, values, facts),
        "aws_batch_job_definition" => batch_job(ctx, values, facts),
        "aws_instance" | "aws_launch_template" | "aws_launch_configuration" => {
            metadata(ctx, values, facts)
        }
        "aws_eks_node_group" => links::node_group(ctx, values, facts),
        "aws_eks_fargate_profile" => links::fargate_profile(ctx, values, facts),
        "aws_iam_instance_profile" => links::instance_profile(ctx, values, facts),
        "aws_eks_pod_identity_association" => links::pod_identity(ctx, values, facts),
        "aws_ecs_service" => links::ecs_service(ctx, values, facts),
        rtype => {
            if let Some((api, kind)) = k8s_kind(rtype) {
                kubernetes(ctx, values, api, kind, facts);
            }
        }
    }
}

/// A JSON document held by an attribute: already a document (a `jsonencode`d or
/// heredoc value, a plan's decoded JSON), or JSON text whose positions become the
/// attribute's.
pub fn document(node: &Node) -> Option<Cow<'_, Node>> {
    match &node.value {
        Value::Map(_) | Value::Seq(_) => Some(Cow::Borrowed(node)),
        Value::Str(s) => {
            let mut doc = json::parse(s).ok()?;
            doc.relocate(node.pos);
            Some(Cow::Owned(doc))
        }
        _ => None,
    }
}

/// A policy attribute → IAM statements (a policy document already reported as a data
/// source arrives here as null).
fn policy(
    ctx: &Ctx,
    node: Option<&Node>,
    holder: &str,
    kind: Option<PolicyKind>,
    facts: &mut Facts,
) {
    let Some(doc) = node.and_then(document) else {
        return;
    };
    let name = ctx
        .address
        .rsplit_once('.')
        .map_or(ctx.address, |(_, n)| n)
        .to_string();
    iam::extract_policy(&doc, holder, &name, kind, ctx.file, facts);
}

/// A string attribute whose value is known.
fn known_text(values: &Node, key: &str) -> Option<String> {
    values
        .get(key)
        .filter(|n| !n.is_unknown())
        .and_then(Node::scalar_text)
        .filter(|s| !s.is_empty())
}

/// `aws_iam_role`: the trust policy, inline policies and `managed_policy_arns`.
fn role(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let trust_start = facts.iam_statements.len();
    let bind = |kind: &'static str, policy: Option<String>, pos| RolePolicy {
        resource: ctx.address.to_string(),
        kind,
        role: None,
        role_refs: vec![ctx.address.to_string()],
        policy,
        policy_refs: Vec::new(),
        aws_managed_names: Vec::new(),
        file: ctx.file.to_string(),
        loc: pos,
        locs: Locs::new(),
    };
    if let Some(trust) = values.get("assume_role_policy").and_then(document) {
        iam::extract_policy(
            &trust,
            ctx.address,
            "trust policy",
            Some(PolicyKind::Trust),
            ctx.file,
            facts,
        );
    }
    for inline in values
        .get("inline_policy")
        .map(Node::items)
        .unwrap_or_default()
    {
        let name = inline
            .get("name")
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| "inline".into());
        let holder = format!("{} inline policy {name}", ctx.address);
        // Bound even when its document is reported as a data source (then null here).
        facts
            .role_policies
            .push(bind("inline", Some(holder.clone()), inline.pos));
        if let Some(doc) = inline.get("policy").and_then(document) {
            iam::extract_policy(
                &doc,
                &holder,
                &name,
                Some(PolicyKind::Identity),
                ctx.file,
                facts,
            );
        }
    }
    for arn in values
        .get("managed_policy_arns")
        .map(Node::items)
        .unwrap_or_default()
    {
        if let Some(a) = arn.as_str() {
            let locs = Locs::from([("policy_arn", arn.pos)]);
            facts
                .policy_attachments
                .push(iam::attachment(ctx.address, a, ctx.file, arn.pos, locs));
        }
        let known = arn.as_str().map(str::to_string);
        facts.role_policies.push(bind("attached", known, arn.pos));
    }
    let trusted = facts.iam_statements[trust_start..]
        .iter()
        .filter(|s| s.kind == PolicyKind::Trust && s.effect == "Allow")
        .flat_map(|s| s.principals.iter().cloned())
        .collect();
    facts.iam_roles.push(IamRole {
        resource: ctx.address.to_string(),
        name: known_text(values, "name"),
        arn: known_text(values, "arn"),
        trusted,
        file: ctx.file.to_string(),
        loc: values.pos,
        locs: Locs::new(),
    });
}

/// `*_policy_attachment`: a managed policy attached to a role, user or group.
fn attachment(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let arns: Vec<&Node> = match values.get("policy_arn") {
        Some(n) => vec![n],
        None => values
            .get("policy_arns")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .collect(),
    };
    // Who holds it: the role/user/group named in the resource, by name when known.
    let holder = ["role", "user", "group", "role_name"]
        .iter()
        .find_map(|k| Some(format!("{} ({})", ctx.address, values.get(k)?.as_str()?)))
        .unwrap_or_else(|| ctx.address.to_string());
    // The roles it binds: `role`, `role_name` or the list `roles` (users and groups
    // do not run workloads).
    let roles: Vec<Option<String>> = if ctx.rtype == "aws_iam_policy_attachment" {
        let list = values.get("roles");
        let items = list.map(Node::items).unwrap_or_default();
        let known: Vec<Option<String>> = items
            .iter()
            .filter(|n| !n.is_unknown())
            .filter_map(Node::scalar_text)
            .map(Some)
            .collect();
        if list.is_some_and(|l| l.is_unknown()) || items.iter().any(Node::is_unknown) {
            known.into_iter().chain([None]).collect()
        } else {
            known
        }
    } else if matches!(
        ctx.rtype,
        "aws_iam_role_policy_attachment" | "aws_iam_role_policy_attachments_exclusive"
    ) {
        vec![known_text(values, "role").or_else(|| known_text(values, "role_name"))]
    } else {
        Vec::new()
    };
    for arn in &arns {
        if let Some(a) = arn.as_str() {
            let locs = Locs::from([("policy_arn", arn.pos)]);
            facts
                .policy_attachments
                .push(iam::attachment(&holder, a, ctx.file, arn.pos, locs));
        }
    }
    for role in roles {
        let mut arn_nodes: Vec<&Node> = arns.clone();
        if arn_nodes.is_empty() {
            arn_nodes.push(values);
        }
        for arn in arn_nodes {
            facts.role_policies.push(RolePolicy {
                resource: ctx.address.to_string(),
                kind: "attached",
                role: role.clone(),
                role_refs: Vec::new(),
                policy: (!arn.is_unknown())
                    .then(|| arn.as_str().map(str::to_string))
                    .flatten(),
                policy_refs: Vec::new(),
                aws_managed_names: Vec::new(),
                file: ctx.file.to_string(),
                loc: arn.pos,
                locs: Locs::new(),
            });
        }
    }
}

/// `aws_ecs_task_definition`: the task's settings and `container_definitions`.
fn task_definition(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let family = values
        .get("family")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| ctx.address.to_string());
    let mut w = ecs::workload(values, ctx.address.to_string(), family, ctx.file);
    if values.get("network_mode").is_none() {
        w.network_mode = provider_defaults::text(ctx.rtype, "network_mode", values);
    }
    if let Some(defs) = values.get("container_definitions").and_then(document) {
        ecs::extract_containers(&defs, &ecs::volumes(values), &w, facts);
    }
    facts.workloads.push(w);
}

/// `aws_batch_job_definition`: `container_properties` is one ECS container definition
/// with its own volumes.
fn batch_job(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let Some(props) = values.get("container_properties").and_then(document) else {
        return;
    };
    let name = values
        .get("name")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| ctx.address.to_string());
    let w = ecs::workload(&props, ctx.address.to_string(), name, ctx.file);
    let list = Node::new(props.pos, Value::Seq(vec![props.clone().into_owned()]));
    ecs::extract_containers(&list, &ecs::volumes(&props), &w, facts);
    facts.workloads.push(w);
}

/// `metadata_options` of an instance, launch template or launch configuration.
fn metadata(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let block = values
        .get("metadata_options")
        .and_then(|b| b.items().first().or(b.is_map().then_some(b)));
    let entry_of = |key: &str| block.and_then(|b| b.entry(key));
    let text = |key: &str| entry_of(key).map(|e| e.value.clone());
    let mut locs = Locs::new();
    if let Some(e) = values.entry("metadata_options") {
        locs.insert("metadata_options", e.key_pos);
    }
    for (key, field) in [
        ("http_tokens", "http_tokens"),
        ("http_endpoint", "http_endpoint"),
        ("http_put_response_hop_limit", "hop_limit"),
    ] {
        if let Some(e) = entry_of(key) {
            locs.insert(field, e.key_pos);
        }
    }
    let endpoint = text("http_endpoint");
    let tokens = text("http_tokens");
    let hop = text("http_put_response_hop_limit");
    let known = |n: &Option<Node>| n.as_ref().is_none_or(|n| !n.is_unknown());
    let endpoint_str = endpoint.as_ref().and_then(Node::scalar_text);
    let tokens_str = tokens.as_ref().and_then(Node::scalar_text);
    let number = |h: &Node| {
        h.as_i64()
            .or_else(|| h.as_str().and_then(|s| s.trim().parse().ok()))
    };
    let hop_limit = hop.as_ref().and_then(number);
    // What the provider uses for an argument left unset.
    let default =
        |key: &str| provider_defaults::text(ctx.rtype, &format!("metadata_options.{key}"), values);
    let effective = |written: &Option<Node>, text: &Option<String>, key: &str| match written {
        Some(_) => text.clone(),
        None => default(key),
    };
    let endpoint_eff = effective(&endpoint, &endpoint_str, "http_endpoint");
    let tokens_eff = effective(&tokens, &tokens_str, "http_tokens");
    let hop_eff = match &hop {
        Some(_) => hop_limit,
        None => default("http_put_response_hop_limit").and_then(|h| h.parse().ok()),
    };
    let disabled = endpoint_eff.as_deref() == Some("disabled");
    // Not set (or null): EC2 decides at launch, from the AMI and the account.
    let tokens_unset = tokens
        .as_ref()
        .is_none_or(|t| matches!(t.value, Value::Null));
    let (imdsv1_allowed, imdsv1_reason) = if disabled {
        (Tri::No, String::new())
    } else if !known(&endpoint) || !known(&tokens) {
        (
            Tri::Unknown,
            "http_tokens or http_endpoint is known only at apply time".to_string(),
        )
    } else if tokens_eff.as_deref() == Some("required") {
        (Tri::No, String::new())
    } else if tokens_unset {
        (
            Tri::Unknown,
            format!(
                "http_tokens is not set{}, so the AMI and the account decide: EC2 requires \
                 tokens for AMIs registered with ImdsSupport v2.0 (Amazon Linux 2023) or \
                 when the account's default says so, and allows IMDSv1 otherwise",
                if block.is_some() {
                    ""
                } else {
                    " (no metadata_options block)"
                }
            ),
        )
    } else {
        (Tri::Yes, String::new())
    };
    let hop_limit_above_one = if disabled {
        Tri::No
    } else if !known(&hop) || !known(&endpoint) {
        Tri::Unknown
    } else if hop_eff.is_some_and(|h| h > 1) {
        Tri::Yes
    } else {
        Tri::No
    };
    let loc = values.pos;
    let user = links::user_data(values);
    facts.instances.push(InstanceMetadata {
        resource: ctx.address.to_string(),
        kind: ctx.rtype.to_string(),
        metadata_options: block.is_some(),
        http_endpoint: endpoint_str,
        http_tokens: tokens_str,
        hop_limit,
        imdsv1_allowed,
        http_tokens_unset: tokens_unset,
        imdsv1_reason,
        hop_limit_above_one,
        eks_node_groups: Vec::new(),
        http_protocol_ipv6: text("http_protocol_ipv6")
            .as_ref()
            .filter(|n| !n.is_unknown())
            .and_then(Node::scalar_text),
        iam_instance_profile: links::instance_profile_of(values),
        iam_instance_profile_refs: Vec::new(),
        ecs_container_instance: user.ecs,
        ecs_cluster: user.ecs_cluster,
        ecs_awsvpc_block_imds: user.awsvpc_block_imds,
        bridge_imds_blocked: user.bridge_blocked,
        eks_node: user.eks,
        user_data_unknown: user.unknown,
        file: ctx.file.to_string(),
        loc,
        locs,
    });
}

/// `node` without its null map entries, at every depth (list items stay).
fn without_nulls(node: &Node) -> Node {
    let value = match &node.value {
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .filter(|e| e.value.value != Value::Null)
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_pos: e.key_pos,
                    value: without_nulls(&e.value),
                })
                .collect(),
        ),
        Value::Seq(items) => Value::Seq(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    };
    Node::new(node.pos, value)
}

/// Kubernetes provider resource types → (apiVersion, kind).
fn k8s_kind(rtype: &str) -> Option<(&'static str, &'static str)> {
    let base = rtype.strip_suffix("_v1").unwrap_or(rtype);
    Some(match base {
        "kubernetes_pod" => ("v1", "Pod"),
        "kubernetes_deployment" => ("apps/v1", "Deployment"),
        "kubernetes_daemonset" | "kubernetes_daemon_set" => ("apps/v1", "DaemonSet"),
        "kubernetes_stateful_set" => ("apps/v1", "StatefulSet"),
        "kubernetes_replication_controller" => ("v1", "ReplicationController"),
        "kubernetes_job" => ("batch/v1", "Job"),
        "kubernetes_cron_job" => ("batch/v1", "CronJob"),
        "kubernetes_service_account" => ("v1", "ServiceAccount"),
        _ => return None,
    })
}

/// Blocks the kubernetes provider writes singular that the API writes plural.
const PLURAL: &[(&str, &str)] = &[
    ("container", "containers"),
    ("init_container", "initContainers"),
    ("ephemeral_container", "ephemeralContainers"),
    ("volume", "volumes"),
    ("volume_mount", "volumeMounts"),
];

/// Blocks that are objects in the API (the provider writes every block as a list).
const SINGULAR: &[&str] = &[
    "metadata",
    "spec",
    "template",
    "job_template",
    "security_context",
    "capabilities",
    "host_path",
];

/// A kubernetes provider resource → a Kubernetes object, then the Kubernetes extractor.
fn kubernetes(ctx: &Ctx, values: &Node, api: &str, kind: &str, facts: &mut Facts) {
    let mut entries = vec![
        Entry {
            key: "apiVersion".into(),
            key_pos: values.pos,
            value: Node::new(values.pos, Value::Str(api.into())),
        },
        Entry {
            key: "kind".into(),
            key_pos: values.pos,
            value: Node::new(values.pos, Value::Str(kind.into())),
        },
    ];
    let converted = to_api(values);
    entries.extend(converted.entries().iter().cloned());
    let doc = Node::new(values.pos, Value::Map(entries));
    let (w0, c0) = (facts.workloads.len(), facts.containers.len());
    let a0 = facts.ignore_annotations.len();
    let s0 = facts.service_accounts.len();
    k8s::extract(&doc, ctx.file, facts);
    for a in &mut facts.ignore_annotations[a0..] {
        a.resource = format!("{} ({})", ctx.address, a.resource);
    }
    // Name the resource by its address, keeping the Kubernetes name for the reader.
    for w in &mut facts.workloads[w0..] {
        w.resource = format!("{} ({})", ctx.address, w.resource);
        // The provider's network policies are not read yet: no verdict either way.
        w.imds_egress_reason = "kubernetes_network_policy resources are not read yet".into();
    }
    for s in &mut facts.service_accounts[s0..] {
        s.resource = format!("{} ({})", ctx.address, s.resource);
    }
    for c in &mut facts.containers[c0..] {
        c.resource = format!("{} ({})", ctx.address, c.resource);
        for m in &mut c.mounts {
            m.resource = c.resource.clone();
        }
    }
}

/// snake_case keys → camelCase, singular blocks → objects, repeated blocks → plural lists.
fn to_api(n: &Node) -> Node {
    match &n.value {
        Value::Map(entries) => {
            let mut out = Vec::new();
            for e in entries {
                if let Some((_, plural)) = PLURAL.iter().find(|(s, _)| *s == e.key) {
                    out.push(Entry {
                        key: plural.to_string(),
                        key_pos: e.key_pos,
                        value: Node::new(
                            e.value.pos,
                            Value::Seq(e.value.items().iter().map(to_api).collect()),
                        ),
                    });
                    continue;
                }
                let value = if SINGULAR.contains(&e.key.as_str()) {
                    e.value
                        .items()
                        .first()
                        .map_or_else(|| to_api(&e.value), to_api)
                } else {
                    to_api(&e.value)
                };
                out.push(Entry {
                    key: camel(&e.key),
                    key_pos: e.key_pos,
                    value,
                });
            }
            Node::new(n.pos, Value::Map(out))
        }
        Value::Seq(items) => Node::new(n.pos, Value::Seq(items.iter().map(to_api).collect())),
        _ => n.clone(),
    }
}

/// `run_as_non_root` → `runAsNonRoot`; `host_pid` → `hostPID`, `host_ipc` → `hostIPC`.
fn camel(key: &str) -> String {
    match key {
        "host_pid" => return "hostPID".into(),
        "host_ipc" => return "hostIPC".into(),
        _ => {}
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_keys_become_api_keys() {
        assert_eq!(camel("read_only_root_filesystem"), "readOnlyRootFilesystem");
        assert_eq!(camel("host_pid"), "hostPID");
        assert_eq!(camel("service_account_name"), "serviceAccountName");
    }
}
