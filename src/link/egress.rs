//! Which Kubernetes workloads can reach the instance metadata service, from the
//! network policies anywhere in the scan that select their pods: Kubernetes
//! NetworkPolicies, Calico NetworkPolicies and GlobalNetworkPolicies, Cilium
//! CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, for the IPv4 address
//! (169.254.169.254) and the IPv6 one (fd00:ec2::254).
//!
//! How they combine, for traffic to one address: a Cilium deny rule that matches it
//! wins over everything; otherwise the policies that select the pod are taken in
//! Calico's order (Calico `order`, lower first; Kubernetes and Cilium policies at
//! 1000, where Calico puts Kubernetes policies; Calico policies without `order`
//! last), and the first that has a rule for the address decides (`allow` or `deny`;
//! `pass` goes on to the next); when none has one, the pod is blocked if any of them
//! isolates its egress and free otherwise. A policy whose reach breakout cannot tell
//! (a Calico namespace selector on labels of a namespace it has not seen) is taken
//! both ways: when the answer differs, it is unknown.

use super::calico;
use crate::facts::{Facts, NetworkPolicy, Tri};
use std::collections::BTreeMap;

/// Decides `imds_egress` and `imds_egress_v6` for every Kubernetes workload of the scan.
pub fn imds_egress_of_workloads(all: &mut [Facts]) {
    let policies: Vec<NetworkPolicy> = all
        .iter()
        .flat_map(|f| f.network_policies.iter().cloned())
        .collect();
    for facts in all.iter_mut() {
        for w in facts
            .workloads
            .iter_mut()
            // A workload whose extractor already decided (or declined to) keeps that.
            .filter(|w| w.platform == "kubernetes" && w.imds_egress_reason.is_empty())
        {
            let (egress, reason) =
                imds_egress(&w.namespace, &w.labels, w.host_network, &policies, false);
            w.imds_egress = egress;
            w.imds_egress_reason = reason;
            let (egress, reason) =
                imds_egress(&w.namespace, &w.labels, w.host_network, &policies, true);
            w.imds_egress_v6 = egress;
            w.imds_egress_v6_reason = reason;
        }
    }
}

/// Whether a policy selects pods with these labels in this namespace: `None` when
/// breakout cannot tell.
pub fn selects(
    p: &NetworkPolicy,
    namespace: &Option<String>,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let ns = namespace.clone().unwrap_or_else(|| "default".into());
    match p.flavor {
        "calico" => {
            if !p.cluster_wide && &p.namespace != namespace {
                return Some(false);
            }
            let ns_known = |k: &str| -> Result<Option<String>, ()> {
                match k {
                    "projectcalico.org/name" | "kubernetes.io/metadata.name" => {
                        Ok(Some(ns.clone()))
                    }
                    _ => Err(()),
                }
            };
            let in_namespace = match &p.namespace_selector_expression {
                Some(e) if p.cluster_wide => calico::parse(e)?.eval(&ns_known)?,
                _ => true,
            };
            if !in_namespace {
                return Some(false);
            }
            let pod = |k: &str| -> Result<Option<String>, ()> {
                Ok(match k {
                    "projectcalico.org/namespace" => Some(ns.clone()),
                    "projectcalico.org/orchestrator" => Some("k8s".into()),
                    _ => labels.get(k).cloned(),
                })
            };
            calico::parse(p.selector_expression.as_deref().unwrap_or("all()"))?.eval(&pod)
        }
        "cilium" => {
            if !p.cluster_wide && &p.namespace != namespace {
                return Some(false);
            }
            let mut with_ns = labels.clone();
            with_ns.insert("io.kubernetes.pod.namespace".into(), ns);
            Some(p.pod_selector.matches(&with_ns))
        }
        _ => Some(&p.namespace == namespace && p.pod_selector.matches(labels)),
    }
}

/// Whether pods with these labels in this namespace can reach the metadata service's
/// IPv4 (or, with `v6`, IPv6) address on port 80.
fn imds_egress(
    namespace: &Option<String>,
    labels: &BTreeMap<String, String>,
    host_network: bool,
    policies: &[NetworkPolicy],
    v6: bool,
) -> (Tri, String) {
    if host_network {
        // NetworkPolicies do not apply to host-network pods: BRK504 says the rest.
        return (
            Tri::Yes,
            "it uses the host network, which NetworkPolicies do not govern".into(),
        );
    }
    let address = if v6 {
        "fd00:ec2::254"
    } else {
        "169.254.169.254"
    };
    let mut certain: Vec<&NetworkPolicy> = Vec::new();
    let mut uncertain: Vec<&NetworkPolicy> = Vec::new();
    for p in policies {
        match selects(p, namespace, labels) {
            Some(true) => certain.push(p),
            Some(false) => {}
            None => uncertain.push(p),
        }
    }
    let with = decide(
        &certain
            .iter()
            .chain(&uncertain)
            .copied()
            .collect::<Vec<_>>(),
        v6,
        address,
    );
    let without = decide(&certain, v6, address);
    if with.0 != without.0 {
        let names: Vec<&str> = uncertain.iter().map(|p| p.resource.as_str()).collect();
        return (
            Tri::Unknown,
            format!(
                "it depends on whether {} select its pods, which breakout cannot tell",
                names.join(", ")
            ),
        );
    }
    without
}

/// The verdict of the policies that select a pod, for traffic to one address.
fn decide(selecting: &[&NetworkPolicy], v6: bool, address: &str) -> (Tri, String) {
    let action = |p: &NetworkPolicy| {
        if v6 {
            p.imds_v6_action.clone()
        } else {
            p.imds_action.clone()
        }
    };
    if let Some(p) = selecting
        .iter()
        .find(|p| p.flavor == "cilium" && action(p).as_deref() == Some("deny"))
    {
        return (
            Tri::No,
            format!("{} denies egress to {address}", p.resource),
        );
    }
    let mut ordered: Vec<&NetworkPolicy> = selecting.to_vec();
    let rank = |p: &NetworkPolicy| match (p.flavor, p.order) {
        ("calico", Some(o)) => o,
        ("calico", None) => f64::INFINITY,
        _ => 1000.0,
    };
    ordered.sort_by(|a, b| {
        rank(a)
            .total_cmp(&rank(b))
            .then_with(|| a.resource.cmp(&b.resource))
    });
    for p in &ordered {
        match action(p).as_deref() {
            Some("allow") => {
                return (
                    Tri::Yes,
                    format!("{} allows egress that includes {address}", p.resource),
                )
            }
            Some("deny") => {
                return (
                    Tri::No,
                    format!("{} denies egress to {address}", p.resource),
                )
            }
            _ => {}
        }
    }
    let isolating: Vec<&str> = ordered
        .iter()
        .filter(|p| p.isolates_egress)
        .map(|p| p.resource.as_str())
        .collect();
    if isolating.is_empty() {
        let what = if selecting.iter().all(|p| p.flavor == "kubernetes") {
            "NetworkPolicy"
        } else {
            "network policy"
        };
        (Tri::Yes, format!("no {what} restricts its pods' egress"))
    } else {
        (
            Tri::No,
            format!("egress is limited by {}", isolating.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::imds_egress_of_workloads as link;
    use super::*;
    use crate::parse::yaml;

    fn facts(text: &str) -> Facts {
        let mut facts = Facts::default();
        for doc in yaml::parse(text).unwrap() {
            crate::extract::k8s::extract(&doc, "f.yaml", &mut facts);
        }
        facts
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop, labels: {app: api}}\nspec:\n  containers: [{name: a}]\n";

    #[test]
    fn a_pod_without_an_egress_policy_reaches_imds() {
        let mut all = [facts(POD)];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::Yes);
    }

    #[test]
    fn selectors_with_match_labels_and_match_expressions() {
        let pod = |labels: &str| {
            facts(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop, labels: {{{labels}}}}}\nspec:\n  containers: [{{name: a}}]\n"
            ))
        };
        let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec:\n  podSelector:\n    matchLabels: {tier: web}\n    matchExpressions:\n    - {key: app, operator: In, values: [api, web]}\n    - {key: env, operator: NotIn, values: [dev]}\n    - {key: team, operator: Exists}\n    - {key: legacy, operator: DoesNotExist}\n  policyTypes: [Egress]\n";
        for (labels, selected) in [
            ("tier: web, app: api, team: a", true),
            ("tier: web, app: api, team: a, env: prod", true),
            ("tier: web, app: api, team: a, env: dev", false),
            ("tier: web, app: db, team: a", false),
            ("tier: web, app: api", false),
            ("tier: web, app: api, team: a, legacy: 'yes'", false),
            ("app: api, team: a", false),
        ] {
            let mut all = [pod(labels), facts(deny)];
            link(&mut all);
            let expected = if selected { Tri::No } else { Tri::Yes };
            assert_eq!(all[0].workloads[0].imds_egress, expected, "{labels}");
        }
    }

    #[test]
    fn calico_order_cilium_deny_and_ipv6() {
        let allow_all = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: shop}\nspec:\n  podSelector: {}\n  egress: [{}]\n";
        let calico = |order: u32, action: &str, selector: &str| {
            format!("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: g}}\nspec:\n  selector: \"{selector}\"\n  order: {order}\n  types: [Egress]\n  egress:\n  - action: {action}\n    destination: {{nets: [169.254.169.254/32]}}\n  - action: Allow\n")
        };
        // Calico's deny at order 10 comes before the Kubernetes allow (1000).
        let mut all = [
            facts(POD),
            facts(allow_all),
            facts(&calico(10, "Deny", "app == 'api'")),
        ];
        link(&mut all);
        let w = &all[0].workloads[0];
        assert_eq!(w.imds_egress, Tri::No, "{}", w.imds_egress_reason);
        assert!(w
            .imds_egress_reason
            .contains("Calico GlobalNetworkPolicy g denies"));
        assert_eq!(w.imds_egress_v6, Tri::Yes, "the deny names only IPv4");
        // At order 2000, after the Kubernetes allow.
        let mut all = [
            facts(POD),
            facts(allow_all),
            facts(&calico(2000, "Deny", "app == 'api'")),
        ];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::Yes);
        // A selector that does not match the pod.
        let mut all = [facts(POD), facts(&calico(10, "Deny", "app == 'web'"))];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::Yes);
        // A namespace selector on labels breakout has not seen: unknown.
        let ns = calico(10, "Deny", "all()").replace(
            "  order:",
            "  namespaceSelector: team == 'payments'\n  order:",
        );
        let mut all = [facts(POD), facts(&ns)];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::Unknown);
        let by_name = calico(10, "Deny", "all()").replace(
            "  order:",
            "  namespaceSelector: projectcalico.org/name == 'shop'\n  order:",
        );
        let mut all = [facts(POD), facts(&by_name)];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::No);
        // Cilium: a deny wins over an allow, in any policy.
        let cilium = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c}\nspec:\n  endpointSelector: {matchLabels: {'k8s:io.kubernetes.pod.namespace': shop}}\n  egressDeny:\n  - toCIDR: [169.254.169.254/32, 'fd00:ec2::254/128']\n";
        let mut all = [facts(POD), facts(allow_all), facts(cilium)];
        link(&mut all);
        let w = &all[0].workloads[0];
        assert_eq!((w.imds_egress, w.imds_egress_v6), (Tri::No, Tri::No));
    }

    #[test]
    fn policies_in_other_files_and_namespaces() {
        let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Egress]}\n";
        let other_ns = deny.replace("namespace: shop", "namespace: billing");
        let mut all = [facts(POD), facts(&other_ns)];
        link(&mut all);
        assert_eq!(
            all[0].workloads[0].imds_egress,
            Tri::Yes,
            "another namespace"
        );
        let mut all = [facts(POD), facts(deny)];
        link(&mut all);
        let w = &all[0].workloads[0];
        assert_eq!(w.imds_egress, Tri::No);
        assert!(w.imds_egress_reason.contains("NetworkPolicy shop/deny"));
        // A second policy that opens everything again wins: policies add up.
        let open = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: shop}\nspec:\n  podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}\n  egress: [{}]\n";
        let mut all = [facts(POD), facts(deny), facts(open)];
        link(&mut all);
        assert_eq!(all[0].workloads[0].imds_egress, Tri::Yes);
    }
}
