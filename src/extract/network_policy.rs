//! Kubernetes NetworkPolicies → what they do to egress towards the instance metadata
//! service (169.254.169.254, port 80). Which pods they select is linked later
//! ([`crate::link`]), across files.

use crate::facts::{Facts, LabelSelector, Locs, NetworkPolicy, SelectorTerm};
use crate::parse::Node;

/// The instance metadata service's address.
pub const IMDS: [u8; 4] = [169, 254, 169, 254];

/// Extracts a `networking.k8s.io` NetworkPolicy.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) {
    let meta = doc.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "(unnamed)".into());
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::scalar_text);
    let spec = doc.get("spec");
    let egress = spec.and_then(|s| s.get("egress"));
    // Egress is isolated when policyTypes says so, or, without policyTypes, when the
    // policy has an egress section.
    let isolates_egress = match spec.and_then(|s| s.get("policyTypes")) {
        Some(types) => types.items().iter().any(|t| t.as_str() == Some("Egress")),
        None => egress.is_some(),
    };
    let mut locs = Locs::new();
    if let Some(e) = spec.and_then(|s| s.entry("egress")) {
        locs.insert("egress", e.key_pos);
    }
    let allows_imds = egress
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .any(rule_allows_imds);
    facts.network_policies.push(NetworkPolicy {
        resource: match &namespace {
            Some(ns) => format!("NetworkPolicy {ns}/{name}"),
            None => format!("NetworkPolicy {name}"),
        },
        name,
        namespace,
        pod_selector: selector(spec.and_then(|s| s.get("podSelector"))),
        isolates_egress,
        allows_imds,
        file: file.to_string(),
        loc: doc.pos,
        locs,
    });
}

/// A label selector; a missing or empty one selects every pod of the namespace.
fn selector(node: Option<&Node>) -> LabelSelector {
    let Some(node) = node else {
        return LabelSelector::default();
    };
    let match_labels = node
        .get("matchLabels")
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| Some((e.key.clone(), e.value.scalar_text()?)))
        .collect();
    let match_expressions = node
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| {
            Some(SelectorTerm {
                key: x.get("key")?.scalar_text()?,
                operator: x.get("operator")?.scalar_text()?,
                values: x
                    .get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::scalar_text)
                    .collect(),
            })
        })
        .collect();
    LabelSelector {
        match_labels,
        match_expressions,
    }
}

/// Whether one egress rule lets traffic reach 169.254.169.254:80.
fn rule_allows_imds(rule: &Node) -> bool {
    let ports = rule.get("ports").map(Node::items).unwrap_or_default();
    let port_ok = ports.is_empty()
        || ports.iter().any(|p| {
            let protocol = p.get("protocol").and_then(Node::as_str).unwrap_or("TCP");
            let port = p.get("port");
            protocol == "TCP"
                && match port.and_then(Node::as_i64) {
                    Some(n) => {
                        let end = p.get("endPort").and_then(Node::as_i64).unwrap_or(n);
                        (n..=end).contains(&80)
                    }
                    // No port, or a named port: every port of the protocol, or one
                    // breakout cannot resolve (an IMDS endpoint has no port names).
                    None => port.is_none(),
                }
        });
    if !port_ok {
        return false;
    }
    let to = rule.get("to").map(Node::items).unwrap_or_default();
    // No `to`: every destination.
    to.is_empty()
        || to.iter().any(|peer| {
            peer.get("ipBlock").is_some_and(|b| {
                let inside = b
                    .get("cidr")
                    .and_then(Node::as_str)
                    .is_some_and(|c| cidr_contains(c, IMDS));
                let excepted = b
                    .get("except")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .any(|c| cidr_contains(c, IMDS));
                inside && !excepted
            })
        })
}

/// Whether an IPv4 CIDR (`169.254.0.0/16`) contains `ip`; IPv6 blocks contain no IPv4
/// address.
pub fn cidr_contains(cidr: &str, ip: [u8; 4]) -> bool {
    let (addr, len) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let Ok(len) = len.trim().parse::<u32>() else {
        return false;
    };
    let octets: Vec<u8> = addr
        .trim()
        .split('.')
        .filter_map(|o| o.parse().ok())
        .collect();
    let [a, b, c, d] = octets[..] else {
        return false;
    };
    if len > 32 {
        return false;
    }
    let net = u32::from_be_bytes([a, b, c, d]);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    net & mask == u32::from_be_bytes(ip) & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;

    fn policy(spec: &str) -> NetworkPolicy {
        let text = format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: shop}}\nspec:\n{spec}"
        );
        let mut facts = Facts::default();
        extract(&yaml::parse(&text).unwrap()[0], "np.yaml", &mut facts);
        facts.network_policies.remove(0)
    }

    #[test]
    fn cidrs() {
        assert!(cidr_contains("0.0.0.0/0", IMDS));
        assert!(cidr_contains("169.254.0.0/16", IMDS));
        assert!(cidr_contains("169.254.169.254/32", IMDS));
        assert!(cidr_contains("169.254.169.254", IMDS));
        assert!(!cidr_contains("10.0.0.0/8", IMDS));
        assert!(!cidr_contains("::/0", IMDS));
        assert!(!cidr_contains("garbage", IMDS));
    }

    #[test]
    fn egress_rules_and_imds() {
        let deny_all = policy("  podSelector: {}\n  policyTypes: [Egress]\n");
        assert!(deny_all.isolates_egress && !deny_all.allows_imds);
        let open = policy("  podSelector: {}\n  egress:\n  - {}\n");
        assert!(
            open.isolates_egress && open.allows_imds,
            "no `to`: everywhere"
        );
        let excepted = policy(
            "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}\n",
        );
        assert!(!excepted.allows_imds);
        assert_eq!(excepted.pod_selector.match_labels["app"], "api");
        let dns_only = policy(
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 53, protocol: UDP}]\n",
        );
        assert!(!dns_only.allows_imds);
        let pods_only = policy(
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {}}]\n",
        );
        assert!(!pods_only.allows_imds, "pods are not the metadata service");
        let ingress_only = policy("  podSelector: {}\n  ingress: []\n");
        assert!(!ingress_only.isolates_egress);
        let http = policy(
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 169.254.0.0/16}}]\n    ports: [{port: 80}]\n",
        );
        assert!(http.allows_imds);
    }
}
