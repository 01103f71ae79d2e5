//! The machines workloads run on: EKS managed node groups, self-managed Kubernetes
//! nodes and ECS container instances; whether they answer the metadata service; which
//! role they hand out; and which of them a pod can be scheduled on.
//!
//! Defaults assumed where the configuration is silent (sources in `docs/facts.md`):
//!
//! - An EKS managed node group without a launch template runs from one EKS generates.
//!   For Amazon Linux 2 AMI types (`AL2_*`) that template leaves IMDSv1 on and sets a
//!   hop limit of 2: pods reach the node's credentials. For Amazon Linux 2023
//!   (`AL2023_*`, the default AMI type from Kubernetes 1.30) it requires IMDSv2 with a
//!   hop limit of 1: pods do not. For other AMI types (Bottlerocket, Windows, custom),
//!   or when neither `ami_type` nor `version` says which, the answer is unknown.
//! - A node answers processes on the node itself (a container that broke out, or a
//!   `hostNetwork` pod) unless its metadata endpoint is disabled.
//! - Well-known node labels: EKS sets `eks.amazonaws.com/nodegroup` (the node group's
//!   name) and `eks.amazonaws.com/capacityType` (`ON_DEMAND` unless `capacity_type`
//!   says `SPOT`); the kubelet sets `kubernetes.io/os` and `kubernetes.io/arch` (from
//!   the AMI type). Labels whose value depends on the instance (zone, region, instance
//!   type, host name) are taken to be satisfiable by some node of the group.

use super::roles::{indexed, step, RoleLink, Roles};
use crate::extract::terraform::refs::refers_to;
use crate::facts::{
    Facts, InstanceMetadata, InstanceProfile, NodeGroup, NodeSelectorTerm, PathStep, SelectorTerm,
    Tri, Workload,
};
use std::collections::BTreeMap;

/// Whether a node answers the metadata service, for containers behind its network
/// stack (`pods`) and for processes on the node itself (`host`).
#[derive(Clone, Debug)]
pub struct Answer {
    /// Containers with their own network namespace (IMDSv1, or a hop limit above 1).
    pub pods: Tri,
    /// Processes on the node, or sharing its network.
    pub host: Tri,
    /// The IPv6 endpoint is enabled.
    pub ipv6: bool,
    /// What shows the answer for containers (a launch template's setting, with its
    /// rule), and its short label (`hop limit 2`).
    pub evidence: Option<(PathStep, String)>,
    /// Why it is unknown, when it is.
    pub unknown: Option<String>,
}

/// A machine that runs workloads.
pub struct Machine<'a> {
    /// `node group default`, `ECS instances aws_launch_template.ecs`.
    pub display: String,
    /// The node group, or the instance fact.
    pub group: Option<&'a NodeGroup>,
    /// The instance or launch template, when in the scan.
    pub instance: Option<&'a InstanceMetadata>,
    /// Node labels, when known (managed node groups).
    pub labels: Option<BTreeMap<String, String>>,
    /// Taints pods must tolerate.
    pub taints: Vec<String>,
    /// The metadata answer.
    pub answer: Answer,
    /// The role it hands out.
    pub role: RoleLink,
    /// The steps from the machine to its role (node group, launch template, instance
    /// profile).
    pub steps: Vec<PathStep>,
    /// The ECS cluster it joins, when known.
    pub ecs_cluster: Option<String>,
    /// For ECS: `bridge` containers cannot reach the metadata service (user data).
    pub bridge_blocked: Tri,
    /// For ECS: `awsvpc` tasks cannot reach the metadata service (user data).
    pub awsvpc_blocked: Tri,
    /// The element of the scan's facts it is in.
    pub at: usize,
}

/// The answer of an instance or launch template, from its metadata options.
fn answer_of(m: &InstanceMetadata) -> Answer {
    let disabled = m.http_endpoint.as_deref() == Some("disabled");
    let at = |field: &str| m.locs.get(field).copied().unwrap_or(m.loc);
    let (pods, evidence) = if disabled {
        (Tri::No, None)
    } else if m.imdsv1_allowed == Tri::Yes {
        let label = "IMDSv1".to_string();
        let what = format!("{} answers IMDSv1 (tokens not required)", m.resource);
        (
            Tri::Yes,
            Some((
                step("BRK501", &m.resource, what, &m.file, at("http_tokens")),
                label,
            )),
        )
    } else if m.hop_limit_above_one == Tri::Yes {
        let hop = m.hop_limit.map_or("above 1".to_string(), |h| h.to_string());
        let label = format!("hop limit {hop}");
        let what = format!("{} answers containers: IMDSv2 hop limit {hop}", m.resource);
        (
            Tri::Yes,
            Some((
                step("BRK502", &m.resource, what, &m.file, at("hop_limit")),
                label,
            )),
        )
    } else if m.imdsv1_allowed == Tri::Unknown
        && m.http_tokens_unset
        && m.hop_limit.is_none()
        && !m.locs.contains_key("hop_limit")
    {
        // Neither set: most AMIs answer IMDSv1; an IMDSv2-only AMI (Amazon Linux 2023)
        // requires tokens but raises the hop limit to 2. Containers reach it either way.
        let label = "IMDSv1 or hop limit 2".to_string();
        let what = format!(
            "{} sets neither http_tokens nor a hop limit: it answers IMDSv1, or, on an \
             IMDSv2-only AMI, IMDSv2 with a hop limit of 2",
            m.resource
        );
        (
            Tri::Yes,
            Some((
                step("BRK501", &m.resource, what, &m.file, at("http_tokens")),
                label,
            )),
        )
    } else if m.imdsv1_allowed == Tri::Unknown || m.hop_limit_above_one == Tri::Unknown {
        (Tri::Unknown, None)
    } else {
        (Tri::No, None)
    };
    let endpoint_unknown = m.http_endpoint.is_none() && m.locs.contains_key("http_endpoint");
    Answer {
        pods,
        host: if disabled {
            Tri::No
        } else if endpoint_unknown {
            Tri::Unknown
        } else {
            Tri::Yes
        },
        ipv6: m.http_protocol_ipv6.as_deref() == Some("enabled"),
        unknown: (pods == Tri::Unknown).then(|| {
            if m.http_tokens_unset && m.imdsv1_allowed == Tri::Unknown {
                format!("{} may answer IMDSv1: {}", m.resource, m.imdsv1_reason)
            } else {
                format!(
                    "{}'s metadata options are known only after apply",
                    m.resource
                )
            }
        }),
        evidence,
    }
}

/// The answer of the launch template EKS generates for a managed node group.
fn generated_answer(g: &NodeGroup) -> Answer {
    let family = match g.ami_type.as_deref() {
        Some(t) if t.starts_with("AL2023") => Some("AL2023"),
        Some(t) if t.starts_with("AL2_") => Some("AL2"),
        Some(_) => None,
        None => match g.version.as_deref().and_then(minor_version) {
            Some(v) if v >= 30 => Some("AL2023"),
            Some(_) => Some("AL2"),
            None => None,
        },
    };
    let at = g.locs.get("ami_type").copied().unwrap_or(g.loc);
    match family {
        Some("AL2") => Answer {
            pods: Tri::Yes,
            host: Tri::Yes,
            ipv6: false,
            evidence: Some((
                step(
                    "",
                    &g.resource,
                    format!(
                        "{} has no launch template: the one EKS generates for Amazon Linux 2 answers IMDSv1 with a hop limit of 2",
                        g.resource
                    ),
                    &g.file,
                    at,
                ),
                "EKS default launch template (AL2: IMDSv1, hop limit 2)".into(),
            )),
            unknown: None,
        },
        Some(_) => Answer {
            pods: Tri::No,
            host: Tri::Yes,
            ipv6: false,
            evidence: None,
            unknown: None,
        },
        None => Answer {
            pods: Tri::Unknown,
            host: Tri::Yes,
            ipv6: false,
            evidence: None,
            unknown: Some(format!(
                "{} has no launch template and its AMI type ({}) does not say how EKS's default one answers",
                g.resource,
                g.ami_type.as_deref().unwrap_or("not set")
            )),
        },
    }
}

/// `1.30` → 30.
fn minor_version(v: &str) -> Option<u32> {
    v.trim().strip_prefix("1.")?.split('.').next()?.parse().ok()
}

/// The role an instance hands out through its instance profile.
fn instance_role(
    (m_at, m): (usize, &InstanceMetadata),
    profiles: &[(usize, &InstanceProfile)],
    roles: &Roles,
    steps: &mut Vec<PathStep>,
) -> Option<RoleLink> {
    if m.iam_instance_profile.is_none() && m.iam_instance_profile_refs.is_empty() {
        return None;
    }
    let named = |(p_at, p): &(usize, &InstanceProfile)| {
        if m.iam_instance_profile_refs.is_empty() {
            m.iam_instance_profile.as_deref().is_some_and(|v| {
                let name = v.rsplit('/').next().unwrap_or(v);
                p.name.as_deref() == Some(name)
            })
        } else {
            *p_at == m_at
                && m.iam_instance_profile_refs
                    .iter()
                    .any(|r| refers_to(r, &p.resource))
        }
    };
    let Some(&(p_at, p)) = profiles.iter().find(|p| named(p)) else {
        let what = m
            .iam_instance_profile
            .clone()
            .or_else(|| m.iam_instance_profile_refs.first().cloned())
            .unwrap_or_default();
        return Some(RoleLink::Unknown(
            format!("of instance profile {what} (not in the scan)"),
            format!("instance profile {what} is not in the scan"),
        ));
    };
    steps.push(step(
        "",
        &p.resource,
        format!("{} hands out its role through {}", m.resource, p.resource),
        &p.file,
        p.locs.get("role").copied().unwrap_or(p.loc),
    ));
    Some(roles.resolve(p.role.as_deref(), &p.role_refs, p_at))
}

/// Every machine in the scan: Kubernetes nodes first, then ECS container instances.
pub fn machines<'a>(all: &'a [Facts], roles: &Roles) -> (Vec<Machine<'a>>, Vec<Machine<'a>>) {
    let mut groups = indexed(all, |f| &f.node_groups);
    groups.sort_by(|(_, a), (_, b)| {
        (&a.file, a.loc, &a.resource).cmp(&(&b.file, b.loc, &b.resource))
    });
    let mut instances = indexed(all, |f| &f.instances);
    instances.sort_by(|(_, a), (_, b)| {
        (&a.file, a.loc, &a.resource).cmp(&(&b.file, b.loc, &b.resource))
    });
    let profiles = indexed(all, |f| &f.instance_profiles);
    // Within one configuration: a launch template the node group names.
    let template_of = |g_at: usize, g: &NodeGroup| {
        instances
            .iter()
            .find(|(m_at, m)| {
                *m_at == g_at
                    && m.kind == "aws_launch_template"
                    && (m.eks_node_groups.contains(&g.resource)
                        || g.launch_template_refs
                            .iter()
                            .any(|r| refers_to(r, &m.resource)))
            })
            .map(|(i, m)| (*i, *m))
    };
    let mut kubernetes = Vec::new();
    let mut used_templates: Vec<(usize, &str)> = Vec::new();
    for &(g_at, g) in &groups {
        // `cluster/name` tells apart the `default` node groups of several clusters.
        let name = match (&g.cluster, &g.name) {
            (Some(c), Some(n)) => format!("{c}/{n}"),
            (None, Some(n)) => n.clone(),
            _ => g.resource.clone(),
        };
        let mut steps = vec![step(
            "",
            &g.resource,
            format!("node group {name} ({})", g.resource),
            &g.file,
            g.loc,
        )];
        let template = template_of(g_at, g);
        let answer = match (g.launch_template, template) {
            (_, Some((m_at, m))) => {
                used_templates.push((m_at, &m.resource));
                answer_of(m)
            }
            (false, None) => generated_answer(g),
            (true, None) => Answer {
                pods: Tri::Unknown,
                host: Tri::Yes,
                ipv6: false,
                evidence: None,
                unknown: Some(format!(
                    "{}'s launch template is not in the scan",
                    g.resource
                )),
            },
        };
        let role = roles.resolve(g.node_role.as_deref(), &g.node_role_refs, g_at);
        if let Some(at) = g.locs.get("node_role") {
            steps.push(step(
                "",
                &g.resource,
                format!("{}'s nodes run as its node role", g.resource),
                &g.file,
                *at,
            ));
        }
        let mut labels = well_known(g);
        labels.extend(g.labels.clone());
        kubernetes.push(Machine {
            display: format!("node group {name}"),
            group: Some(g),
            instance: template.map(|(_, m)| m),
            labels: (!g.labels_unknown).then_some(labels),
            taints: g.taints.clone(),
            answer,
            role,
            steps,
            ecs_cluster: None,
            bridge_blocked: Tri::No,
            awsvpc_blocked: Tri::No,
            at: g_at,
        });
    }
    let mut ecs = Vec::new();
    for &(m_at, m) in &instances {
        if used_templates.contains(&(m_at, m.resource.as_str())) || !m.eks_node_groups.is_empty() {
            continue;
        }
        if !(m.eks_node || m.ecs_container_instance) {
            continue;
        }
        let mut steps = vec![step(
            "",
            &m.resource,
            format!(
                "{} {}",
                if m.eks_node {
                    "Kubernetes node"
                } else {
                    "ECS container instance"
                },
                m.resource
            ),
            &m.file,
            m.loc,
        )];
        let Some(role) = instance_role((m_at, m), &profiles, roles, &mut steps) else {
            continue;
        };
        let user_data = |known: bool| {
            if known {
                Tri::Yes
            } else if m.user_data_unknown {
                Tri::Unknown
            } else {
                Tri::No
            }
        };
        let machine = Machine {
            display: if m.eks_node {
                format!("node {}", m.resource)
            } else {
                format!("ECS instance {}", m.resource)
            },
            group: None,
            instance: Some(m),
            labels: None,
            taints: Vec::new(),
            answer: answer_of(m),
            role,
            steps,
            ecs_cluster: m.ecs_cluster.clone(),
            bridge_blocked: user_data(m.bridge_imds_blocked),
            awsvpc_blocked: user_data(m.ecs_awsvpc_block_imds),
            at: m_at,
        };
        if m.eks_node {
            kubernetes.push(machine);
        } else {
            ecs.push(machine);
        }
    }
    (kubernetes, ecs)
}

/// The labels EKS and the kubelet put on every node of a managed group.
fn well_known(g: &NodeGroup) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(n) = &g.name {
        out.insert("eks.amazonaws.com/nodegroup".into(), n.clone());
    }
    out.insert(
        "eks.amazonaws.com/capacityType".into(),
        g.capacity_type
            .clone()
            .unwrap_or_else(|| "ON_DEMAND".into()),
    );
    let ami = g.ami_type.as_deref().unwrap_or("");
    out.insert(
        "kubernetes.io/os".into(),
        if ami.starts_with("WINDOWS") {
            "windows"
        } else {
            "linux"
        }
        .into(),
    );
    if !ami.is_empty() {
        out.insert(
            "kubernetes.io/arch".into(),
            if ami.contains("ARM") {
                "arm64"
            } else {
                "amd64"
            }
            .into(),
        );
    }
    out
}

/// Node labels every node has, with values breakout does not know but some node of a
/// group satisfies.
const SATISFIABLE: &[&str] = &[
    "kubernetes.io/hostname",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.ebs.csi.aws.com/zone",
    "eks.amazonaws.com/nodegroup-image",
    "eks.amazonaws.com/sourceLaunchTemplateId",
    "eks.amazonaws.com/sourceLaunchTemplateVersion",
    "k8s.io/cloud-provider-aws",
];

/// A node label's value: known, absent, or unknown; satisfiable ones say so.
enum Label {
    Value(String),
    Absent,
    Any,
    Unknown,
}

fn label(m: &Machine, key: &str) -> Label {
    if SATISFIABLE.contains(&key) {
        return Label::Any;
    }
    if key == "beta.kubernetes.io/os" || key == "beta.kubernetes.io/arch" {
        return label(m, &key.replace("beta.", ""));
    }
    match &m.labels {
        Some(l) => match l.get(key) {
            Some(v) => Label::Value(v.clone()),
            None if key == "kubernetes.io/arch" => Label::Unknown,
            None => Label::Absent,
        },
        None if key == "kubernetes.io/os" => Label::Value("linux".into()),
        None => Label::Unknown,
    }
}

fn expression_matches(m: &Machine, t: &SelectorTerm) -> Tri {
    let yes = |b: bool| if b { Tri::Yes } else { Tri::No };
    match (label(m, &t.key), t.operator.as_str()) {
        (Label::Unknown, _) => Tri::Unknown,
        (Label::Any, "DoesNotExist") => Tri::No,
        (Label::Any, _) => Tri::Yes,
        (Label::Value(v), "In") => yes(t.values.contains(&v)),
        (Label::Value(v), "NotIn") => yes(!t.values.contains(&v)),
        (Label::Value(_), "Exists") => Tri::Yes,
        (Label::Value(_), "DoesNotExist") => Tri::No,
        (Label::Value(v), op @ ("Gt" | "Lt")) => {
            match (
                v.parse::<i64>(),
                t.values.first().and_then(|x| x.parse::<i64>().ok()),
            ) {
                (Ok(a), Some(b)) => yes(if op == "Gt" { a > b } else { a < b }),
                _ => Tri::No,
            }
        }
        (Label::Absent, "NotIn" | "DoesNotExist") => Tri::Yes,
        (Label::Absent, _) => Tri::No,
        (Label::Value(_), _) => Tri::Unknown,
    }
}

/// Three-valued AND.
fn and(items: impl IntoIterator<Item = Tri>) -> Tri {
    let mut out = Tri::Yes;
    for t in items {
        match t {
            Tri::No => return Tri::No,
            Tri::Unknown => out = Tri::Unknown,
            Tri::Yes => {}
        }
    }
    out
}

/// Whether a pod can be scheduled on the machine: its `nodeSelector`, its required
/// node affinity (one term must hold, every expression of it) and its tolerations of
/// the machine's taints.
pub fn schedulable(w: &Workload, m: &Machine) -> Tri {
    let selector = and(w.node_selector.iter().map(|(k, v)| {
        expression_matches(
            m,
            &SelectorTerm {
                key: k.clone(),
                operator: "In".into(),
                values: vec![v.clone()],
            },
        )
    }));
    let affinity = if w.node_affinity.is_empty() {
        Tri::Yes
    } else {
        let terms: Vec<Tri> = w
            .node_affinity
            .iter()
            .map(|t: &NodeSelectorTerm| {
                let fields = if t.match_fields {
                    Tri::Unknown
                } else {
                    Tri::Yes
                };
                and(t
                    .match_expressions
                    .iter()
                    .map(|x| expression_matches(m, x))
                    .chain([fields]))
            })
            .collect();
        if terms.contains(&Tri::Yes) {
            Tri::Yes
        } else if terms.contains(&Tri::Unknown) {
            Tri::Unknown
        } else {
            Tri::No
        }
    };
    let tolerated = and(m.taints.iter().map(|t| {
        if w.tolerations.iter().any(|tol| tolerates(tol, t)) {
            Tri::Yes
        } else {
            Tri::No
        }
    }));
    and([selector, affinity, tolerated])
}

/// Whether a toleration (`key=value:Effect`, `key:Effect`, `key`, `*`) tolerates a
/// taint (`key=value:Effect`).
pub fn tolerates(toleration: &str, taint: &str) -> bool {
    if toleration == "*" {
        return true;
    }
    let (t_kv, t_effect) = taint.rsplit_once(':').unwrap_or((taint, ""));
    let (t_key, t_value) = t_kv.split_once('=').unwrap_or((t_kv, ""));
    // `key=value:Effect` (Equal) or `key:Effect` (Exists); the effect is optional.
    let known_effects = ["NoSchedule", "NoExecute", "PreferNoSchedule"];
    let (head, effect) = match toleration.rsplit_once(':') {
        Some((h, e)) if known_effects.contains(&e) => (h, Some(e)),
        _ => (toleration, None),
    };
    if effect.is_some_and(|e| e != t_effect) {
        return false;
    }
    match head.split_once('=') {
        Some((k, v)) => k == t_key && v == t_value,
        None => head == t_key || head.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerations_match_taints() {
        assert!(tolerates("*", "gpu=true:NoSchedule"));
        assert!(tolerates("gpu", "gpu=true:NoSchedule"));
        assert!(tolerates("gpu:NoSchedule", "gpu=true:NoSchedule"));
        assert!(!tolerates("gpu:NoExecute", "gpu=true:NoSchedule"));
        assert!(tolerates("gpu=true:NoSchedule", "gpu=true:NoSchedule"));
        assert!(!tolerates("gpu=false", "gpu=true:NoSchedule"));
        assert!(!tolerates("other", "gpu=true:NoSchedule"));
    }

    #[test]
    fn versions() {
        assert_eq!(minor_version("1.30"), Some(30));
        assert_eq!(minor_version("1.29.3"), Some(29));
        assert_eq!(minor_version("x"), None);
    }
}
