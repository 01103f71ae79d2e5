//! Terraform resources that only matter as links of an escape path: node groups, Fargate
//! profiles, instance profiles, Pod Identity associations, ECS services, and what an
//! instance's user data says about the metadata service. Their references to other
//! resources are filled in from the expressions as written ([`super::refs`]).

use super::resources::Ctx;
use crate::facts::{
    EcsService, Facts, FargateProfile, FargateSelector, InstanceProfile, Locs, NodeGroup,
    PodIdentity,
};
use crate::parse::{Node, Value};
use std::collections::BTreeMap;

/// A known string attribute.
fn text(values: &Node, key: &str) -> Option<String> {
    values
        .get(key)
        .filter(|n| !n.is_unknown())
        .and_then(Node::scalar_text)
        .filter(|s| !s.is_empty())
}

/// The first object of a nested block (plan JSON writes blocks as lists).
fn block<'a>(values: &'a Node, key: &str) -> Option<&'a Node> {
    let b = values.get(key)?;
    b.items().first().or(b.is_map().then_some(b))
}

/// A map of strings (labels), and whether it is written but unknown.
fn string_map(node: Option<&Node>) -> (BTreeMap<String, String>, bool) {
    match node {
        Some(n) if n.is_unknown() => (BTreeMap::new(), true),
        Some(n) => (
            n.entries()
                .iter()
                .filter_map(|e| Some((e.key.clone(), e.value.scalar_text()?)))
                .collect(),
            n.entries().iter().any(|e| e.value.is_unknown()),
        ),
        None => (BTreeMap::new(), false),
    }
}

fn key_locs(values: &Node, keys: &[(&str, &'static str)]) -> Locs {
    keys.iter()
        .filter_map(|(k, f)| Some((*f, values.entry(k)?.key_pos)))
        .collect()
}

/// `aws_eks_node_group`.
pub fn node_group(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let (labels, labels_unknown) = string_map(values.get("labels"));
    let taints = values
        .get("taint")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            let effect = text(t, "effect")?;
            // The API's spellings (NO_SCHEDULE) and Kubernetes' (NoSchedule).
            let effect = match effect.as_str() {
                "NO_SCHEDULE" => "NoSchedule".to_string(),
                "NO_EXECUTE" => "NoExecute".to_string(),
                "PREFER_NO_SCHEDULE" => "PreferNoSchedule".to_string(),
                _ => effect,
            };
            (effect != "PreferNoSchedule").then(|| {
                format!(
                    "{}={}:{effect}",
                    text(t, "key").unwrap_or_default(),
                    text(t, "value").unwrap_or_default()
                )
            })
        })
        .collect();
    let lt = block(values, "launch_template");
    facts.node_groups.push(NodeGroup {
        resource: ctx.address.to_string(),
        name: text(values, "node_group_name"),
        cluster: text(values, "cluster_name"),
        labels,
        labels_unknown,
        taints,
        ami_type: text(values, "ami_type"),
        version: text(values, "version"),
        capacity_type: text(values, "capacity_type"),
        node_role: text(values, "node_role_arn"),
        node_role_refs: Vec::new(),
        launch_template: lt.is_some(),
        launch_template_id: lt.and_then(|b| text(b, "id").or_else(|| text(b, "name"))),
        launch_template_refs: Vec::new(),
        file: ctx.file.to_string(),
        loc: values.pos,
        locs: key_locs(
            values,
            &[
                ("node_role_arn", "node_role"),
                ("launch_template", "launch_template"),
                ("labels", "labels"),
                ("ami_type", "ami_type"),
            ],
        ),
    });
}

/// `aws_eks_fargate_profile`.
pub fn fargate_profile(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    let selectors = values
        .get("selector")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(|s| FargateSelector {
            namespace: text(s, "namespace"),
            labels: string_map(s.get("labels")).0,
        })
        .collect();
    facts.fargate_profiles.push(FargateProfile {
        resource: ctx.address.to_string(),
        cluster: text(values, "cluster_name"),
        selectors,
        file: ctx.file.to_string(),
        loc: values.pos,
    });
}

/// `aws_iam_instance_profile`.
pub fn instance_profile(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    facts.instance_profiles.push(InstanceProfile {
        resource: ctx.address.to_string(),
        name: text(values, "name"),
        role: text(values, "role"),
        role_refs: Vec::new(),
        file: ctx.file.to_string(),
        loc: values.pos,
        locs: key_locs(values, &[("role", "role")]),
    });
}

/// `aws_eks_pod_identity_association`.
pub fn pod_identity(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    facts.pod_identities.push(PodIdentity {
        resource: ctx.address.to_string(),
        cluster: text(values, "cluster_name"),
        namespace: text(values, "namespace"),
        service_account: text(values, "service_account"),
        role: text(values, "role_arn"),
        role_refs: Vec::new(),
        file: ctx.file.to_string(),
        loc: values.pos,
        locs: key_locs(values, &[("role_arn", "role")]),
    });
}

/// `aws_ecs_service`.
pub fn ecs_service(ctx: &Ctx, values: &Node, facts: &mut Facts) {
    facts.ecs_services.push(EcsService {
        resource: ctx.address.to_string(),
        cluster: text(values, "cluster"),
        cluster_refs: Vec::new(),
        task_definition: text(values, "task_definition"),
        task_definition_refs: Vec::new(),
        launch_type: text(values, "launch_type"),
        capacity_providers: values
            .get("capacity_provider_strategy")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| text(s, "capacity_provider"))
            .collect(),
        file: ctx.file.to_string(),
        loc: values.pos,
    });
}

/// The instance profile an instance, launch configuration or launch template names:
/// a name (`iam_instance_profile = "x"`), or a launch template's `iam_instance_profile
/// { name | arn }` block.
pub fn instance_profile_of(values: &Node) -> Option<String> {
    let p = values.get("iam_instance_profile")?;
    match &p.value {
        Value::Str(_) => p.scalar_text().filter(|s| !s.is_empty()),
        _ => {
            let b = p.items().first().or(p.is_map().then_some(p))?;
            text(b, "arn").or_else(|| text(b, "name"))
        }
    }
}

/// What an instance's user data says about the metadata service and the cluster it
/// joins.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserData {
    /// Joins an ECS cluster.
    pub ecs: bool,
    /// The ECS cluster's name, when written.
    pub ecs_cluster: Option<String>,
    /// `ECS_AWSVPC_BLOCK_IMDS=true`.
    pub awsvpc_block_imds: bool,
    /// An iptables rule drops traffic from `docker+` to 169.254.169.254.
    pub bridge_blocked: bool,
    /// Joins an EKS cluster.
    pub eks: bool,
    /// Written but unknown.
    pub unknown: bool,
}

/// Reads `user_data` (or `user_data_base64`), base64-decoded when it is base64.
pub fn user_data(values: &Node) -> UserData {
    let node = values
        .get("user_data")
        .filter(|n| n.value != Value::Null)
        .or_else(|| values.get("user_data_base64"));
    let Some(node) = node.filter(|n| n.value != Value::Null) else {
        return UserData::default();
    };
    if node.is_unknown() {
        return UserData {
            unknown: true,
            ..UserData::default()
        };
    }
    let Some(raw) = node.scalar_text() else {
        return UserData::default();
    };
    let decoded = decode_if_base64(&raw);
    read_user_data(decoded.as_deref().unwrap_or(&raw))
}

/// The text inside base64 user data (a launch template's is always base64).
fn decode_if_base64(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() || t.contains(' ') || t.contains('\n') && t.lines().count() < 2 {
        return None;
    }
    let bytes = crate::parse::hcl::funcs::base64_decode(t)?;
    String::from_utf8(bytes).ok()
}

/// Reads user data text (shell, cloud-init, MIME multi-part).
pub fn read_user_data(text: &str) -> UserData {
    let mut out = UserData::default();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') && !l.starts_with("#!") {
            continue;
        }
        if let Some(at) = l.find("ECS_CLUSTER=") {
            out.ecs = true;
            let rest = &l[at + "ECS_CLUSTER=".len()..];
            let name: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !name.is_empty() {
                out.ecs_cluster = Some(name);
            }
        }
        let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.contains("ECS_AWSVPC_BLOCK_IMDS=true") {
            out.awsvpc_block_imds = true;
        }
        // `iptables --insert DOCKER-USER 1 --in-interface docker+ --destination
        // 169.254.169.254/32 --jump DROP` (the ECS documentation's rule).
        if l.contains("iptables")
            && l.contains("docker+")
            && l.contains("169.254.169.254")
            && (l.contains("DROP") || l.contains("REJECT"))
        {
            out.bridge_blocked = true;
        }
        if l.contains("/etc/eks/bootstrap.sh")
            || l.contains("node.eks.aws/")
            || l.contains("kind: NodeConfig")
        {
            out.eks = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_says_what_it_blocks() {
        let u = read_user_data(
            "#!/bin/bash\necho ECS_CLUSTER=ci-cluster >> /etc/ecs/ecs.config\necho 'ECS_AWSVPC_BLOCK_IMDS=true' >> /etc/ecs/ecs.config\niptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP\n",
        );
        assert_eq!(
            u,
            UserData {
                ecs: true,
                ecs_cluster: Some("ci-cluster".into()),
                awsvpc_block_imds: true,
                bridge_blocked: true,
                eks: false,
                unknown: false
            }
        );
        let eks = read_user_data("#!/bin/bash\n/etc/eks/bootstrap.sh my-cluster\n");
        assert!(eks.eks && !eks.ecs);
        let encoded = crate::parse::hcl::funcs::base64_encode(
            b"#!/bin/bash\necho ECS_CLUSTER=x >> /etc/ecs/ecs.config\n",
        );
        assert_eq!(decode_if_base64(&encoded).unwrap().lines().count(), 2);
        assert!(decode_if_base64("not base64 at all").is_none());
    }
}
