//! Network policies → what they do to egress towards the instance metadata service
//! (169.254.169.254 and fd00:ec2::254, port 80): Kubernetes `NetworkPolicy`, Calico
//! `NetworkPolicy` and `GlobalNetworkPolicy` (projectcalico.org), Cilium
//! `CiliumNetworkPolicy` and `CiliumClusterwideNetworkPolicy`. Which pods they select
//! is linked later ([`crate::link`]), across files.

use crate::facts::{Facts, LabelSelector, Locs, NetworkPolicy};
use crate::parse::Node;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The instance metadata service's address.
pub const IMDS: [u8; 4] = [169, 254, 169, 254];

/// The instance metadata service's IPv6 address (Nitro instances that enable it).
pub const IMDS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// Both addresses of the metadata service, IPv4 first.
pub fn imds_addresses() -> [IpAddr; 2] {
    [IpAddr::V4(Ipv4Addr::from(IMDS)), IpAddr::V6(IMDS_V6)]
}

/// Extracts a network policy of any of the three flavours.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) {
    let api = doc
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default();
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
    if api.contains("projectcalico.org") {
        calico(doc, kind == "GlobalNetworkPolicy", file, facts);
    } else if api.starts_with("cilium.io/") {
        cilium(doc, kind == "CiliumClusterwideNetworkPolicy", file, facts);
    } else if kind == "NetworkPolicy" {
        kubernetes(doc, file, facts);
    }
}

/// `Kind ns/name`.
fn resource_name(kind: &str, name: &str, namespace: &Option<String>) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Extracts a `networking.k8s.io` NetworkPolicy.
fn kubernetes(doc: &Node, file: &str, facts: &mut Facts) {
    let (name, namespace) = super::k8s::name_and_namespace(doc);
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
    let [v4, v6] = imds_addresses();
    let rules = egress.map(Node::items).unwrap_or_default();
    let allows_imds = rules.iter().any(|r| rule_allows(r, v4));
    let allows_v6 = rules.iter().any(|r| rule_allows(r, v6));
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
        flavor: "kubernetes",
        cluster_wide: false,
        selector_expression: None,
        namespace_selector_expression: None,
        order: None,
        // Egress rules count only when the policy governs egress.
        imds_action: (isolates_egress && allows_imds).then(|| "allow".into()),
        imds_v6_action: (isolates_egress && allows_v6).then(|| "allow".into()),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: doc.pos,
        locs,
    });
}

/// A Calico `NetworkPolicy` or `GlobalNetworkPolicy`: ordered rules with actions.
fn calico(doc: &Node, global: bool, file: &str, facts: &mut Facts) {
    let (name, namespace) = super::k8s::name_and_namespace(doc);
    let spec = doc.get("spec");
    let egress = spec.and_then(|s| s.get("egress"));
    let rules = egress.map(Node::items).unwrap_or_default();
    // `types` defaults to Ingress, plus Egress when the policy has egress rules.
    let isolates_egress = match spec.and_then(|s| s.get("types")) {
        Some(types) => types.items().iter().any(|t| t.as_str() == Some("Egress")),
        None => !rules.is_empty(),
    };
    let action = |ip: IpAddr| -> Option<String> {
        if !isolates_egress {
            return None;
        }
        rules.iter().find_map(|r| {
            let action = r.get("action").and_then(Node::as_str)?.to_ascii_lowercase();
            (action != "log" && calico_rule_matches(r, ip)).then_some(action)
        })
    };
    let [v4, v6] = imds_addresses();
    let mut locs = Locs::new();
    if let Some(e) = spec.and_then(|s| s.entry("egress")) {
        locs.insert("egress", e.key_pos);
    }
    let text = |key: &str| spec.and_then(|s| s.get(key)).and_then(Node::scalar_text);
    let imds_action = action(v4);
    let kind = if global {
        "GlobalNetworkPolicy"
    } else {
        "NetworkPolicy"
    };
    facts.network_policies.push(NetworkPolicy {
        resource: format!("Calico {}", resource_name(kind, &name, &namespace)),
        name,
        namespace: if global { None } else { namespace },
        pod_selector: LabelSelector::default(),
        isolates_egress,
        allows_imds: imds_action.as_deref() == Some("allow"),
        flavor: "calico",
        cluster_wide: global,
        // An empty selector selects every endpoint.
        selector_expression: Some(text("selector").unwrap_or_else(|| "all()".into())),
        namespace_selector_expression: text("namespaceSelector"),
        order: spec
            .and_then(|s| s.get("order"))
            .and_then(|o| o.scalar_text())
            .and_then(|o| o.parse().ok()),
        imds_action,
        imds_v6_action: action(v6),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: doc.pos,
        locs,
    });
}

/// Whether a Calico egress rule matches TCP traffic to `ip` port 80.
fn calico_rule_matches(rule: &Node, ip: IpAddr) -> bool {
    let tcp = |p: &Node| {
        p.as_str()
            .map(|s| s.eq_ignore_ascii_case("TCP"))
            .or_else(|| p.as_i64().map(|n| n == 6))
            .unwrap_or(false)
    };
    if rule.get("protocol").is_some_and(|p| !tcp(p)) || rule.get("notProtocol").is_some_and(tcp) {
        return false;
    }
    if rule
        .get("ipVersion")
        .and_then(Node::as_i64)
        .is_some_and(|v| v != if ip.is_ipv4() { 4 } else { 6 })
    {
        return false;
    }
    let dest = rule.get("destination");
    let list = |key: &str| -> Vec<String> {
        dest.and_then(|d| d.get(key))
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect()
    };
    let nets = list("nets");
    if dest.and_then(|d| d.get("nets")).is_some() && !nets.iter().any(|c| cidr_contains_ip(c, ip)) {
        return false;
    }
    if list("notNets").iter().any(|c| cidr_contains_ip(c, ip)) {
        return false;
    }
    // Endpoints, services and domains are not the metadata service.
    if [
        "selector",
        "namespaceSelector",
        "serviceAccounts",
        "services",
        "domains",
    ]
    .iter()
    .any(|k| dest.and_then(|d| d.get(k)).is_some())
    {
        return false;
    }
    let port_80 = |p: &str| match p.split_once(':') {
        Some((a, b)) => {
            matches!((a.trim().parse::<u16>(), b.trim().parse::<u16>()), (Ok(a), Ok(b)) if (a..=b).contains(&80))
        }
        None => p.trim() == "80",
    };
    if dest.and_then(|d| d.get("ports")).is_some() && !list("ports").iter().any(|p| port_80(p)) {
        return false;
    }
    !list("notPorts").iter().any(|p| port_80(p))
}

/// A `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy`: allow rules, and deny
/// rules that win over them.
fn cilium(doc: &Node, clusterwide: bool, file: &str, facts: &mut Facts) {
    let (name, namespace) = super::k8s::name_and_namespace(doc);
    // `spec`, or several rules in `specs`.
    let specs: Vec<&Node> = match (doc.get("spec"), doc.get("specs")) {
        (Some(s), _) => vec![s],
        (None, Some(list)) => list.items().iter().collect(),
        _ => Vec::new(),
    };
    let kind = if clusterwide {
        "CiliumClusterwideNetworkPolicy"
    } else {
        "CiliumNetworkPolicy"
    };
    for (i, spec) in specs.into_iter().enumerate() {
        // Host policies (`nodeSelector`) do not select pods.
        let Some(selector_node) = spec.get("endpointSelector") else {
            continue;
        };
        let egress = spec.get("egress");
        let deny = spec.get("egressDeny");
        let allows = |ip| {
            egress
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .any(|r| cilium_rule_matches(r, ip))
        };
        let denies = |ip| {
            deny.map(Node::items)
                .unwrap_or_default()
                .iter()
                .any(|r| cilium_rule_matches(r, ip))
        };
        let action = |ip| {
            if denies(ip) {
                Some("deny".to_string())
            } else if allows(ip) {
                Some("allow".to_string())
            } else {
                None
            }
        };
        let default_deny = spec
            .path(&["enableDefaultDeny", "egress"])
            .and_then(Node::as_bool)
            .unwrap_or(true);
        let [v4, v6] = imds_addresses();
        let mut locs = Locs::new();
        if let Some(e) = spec.entry("egressDeny").or_else(|| spec.entry("egress")) {
            locs.insert("egress", e.key_pos);
        }
        let imds_action = action(v4);
        let mut selector = selector(Some(selector_node));
        // `k8s:app` and `any:app` are the label `app`.
        selector.match_labels = selector
            .match_labels
            .into_iter()
            .map(|(k, v)| (cilium_key(&k), v))
            .collect();
        for t in &mut selector.match_expressions {
            t.key = cilium_key(&t.key);
        }
        let suffix = if i == 0 {
            String::new()
        } else {
            format!(" (rule {})", i + 1)
        };
        facts.network_policies.push(NetworkPolicy {
            resource: format!("{}{suffix}", resource_name(kind, &name, &namespace)),
            name: name.clone(),
            namespace: if clusterwide { None } else { namespace.clone() },
            pod_selector: selector,
            isolates_egress: egress.is_some() && default_deny,
            allows_imds: imds_action.as_deref() == Some("allow"),
            flavor: "cilium",
            cluster_wide: clusterwide,
            selector_expression: None,
            namespace_selector_expression: None,
            order: None,
            imds_action,
            imds_v6_action: action(v6),
            rendered_by: Vec::new(),
            file: file.to_string(),
            loc: spec.pos,
            locs,
        });
    }
}

/// A Cilium label key without its source prefix.
fn cilium_key(k: &str) -> String {
    k.strip_prefix("k8s:")
        .or_else(|| k.strip_prefix("any:"))
        .unwrap_or(k)
        .to_string()
}

/// Whether a Cilium egress (or egressDeny) rule matches TCP traffic to `ip` port 80.
fn cilium_rule_matches(rule: &Node, ip: IpAddr) -> bool {
    let strings = |n: Option<&Node>| -> Vec<String> {
        n.map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect()
    };
    let l3_keys = [
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toEndpoints",
        "toServices",
        "toFQDNs",
        "toGroups",
        "toNodes",
    ];
    let l3 = if l3_keys.iter().any(|k| rule.get(k).is_some()) {
        strings(rule.get("toCIDR"))
            .iter()
            .any(|c| cidr_contains_ip(c, ip))
            || rule
                .get("toCIDRSet")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .any(|set| {
                    set.get("cidr")
                        .and_then(Node::as_str)
                        .is_some_and(|c| cidr_contains_ip(c, ip))
                        && !strings(set.get("except"))
                            .iter()
                            .any(|c| cidr_contains_ip(c, ip))
                })
            // The metadata service is outside the cluster: the `world` entity.
            || strings(rule.get("toEntities")).iter().any(|e| {
                match e.to_ascii_lowercase().as_str() {
                    "world" | "all" => true,
                    "world-ipv4" => ip.is_ipv4(),
                    "world-ipv6" => ip.is_ipv6(),
                    _ => false,
                }
            })
    } else {
        // Only ports: every destination.
        true
    };
    if !l3 {
        return false;
    }
    let to_ports = rule.get("toPorts").map(Node::items).unwrap_or_default();
    to_ports.is_empty()
        || to_ports.iter().any(|tp| {
            let ports = tp.get("ports").map(Node::items).unwrap_or_default();
            ports.is_empty()
                || ports.iter().any(|p| {
                    let protocol = p
                        .get("protocol")
                        .and_then(Node::as_str)
                        .unwrap_or("ANY")
                        .to_ascii_uppercase();
                    let port = p
                        .get("port")
                        .and_then(Node::scalar_text)
                        .unwrap_or_default();
                    let end = p.get("endPort").and_then(Node::as_i64);
                    let n: i64 = port.parse().unwrap_or(-1);
                    (protocol == "TCP" || protocol == "ANY")
                        && (n == 0 || n == 80 || end.is_some_and(|e| (n..=e).contains(&80)))
                })
        })
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
    let match_expressions = super::k8s::match_expressions(node);
    LabelSelector {
        match_labels,
        match_expressions,
    }
}

/// Whether one Kubernetes egress rule lets TCP traffic reach `ip` port 80.
fn rule_allows(rule: &Node, ip: IpAddr) -> bool {
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
                    .is_some_and(|c| cidr_contains_ip(c, ip));
                let excepted = b
                    .get("except")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .any(|c| cidr_contains_ip(c, ip));
                inside && !excepted
            })
        })
}

/// Whether an IPv4 CIDR (`169.254.0.0/16`) contains `ip`; IPv6 blocks contain no IPv4
/// address.
pub fn cidr_contains(cidr: &str, ip: [u8; 4]) -> bool {
    cidr_contains_ip(cidr, IpAddr::V4(Ipv4Addr::from(ip)))
}

/// Whether a CIDR (`169.254.0.0/16`, `fd00:ec2::/32`, or a bare address) contains
/// `ip`. Blocks of the other family contain nothing.
pub fn cidr_contains_ip(cidr: &str, ip: IpAddr) -> bool {
    let cidr = cidr.trim();
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => match l.trim().parse::<u32>() {
            Ok(l) => (a.trim(), Some(l)),
            Err(_) => return false,
        },
        None => (cidr, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let (net, ip, bits) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        // An IPv6 block (`::/0`) holds no IPv4 address, and the other way round.
        _ => return false,
    };
    let len = len.unwrap_or(bits);
    if len > bits {
        return false;
    }
    let shift = bits - len;
    let mask = if shift >= 128 {
        0
    } else {
        (u128::MAX << shift)
            & if bits == 32 {
                u128::from(u32::MAX)
            } else {
                u128::MAX
            }
    };
    net & mask == ip & mask
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
    fn cidrs_of_both_families_with_except_lists() {
        let [v4, v6] = imds_addresses();
        assert!(cidr_contains_ip("fd00:ec2::/32", v6));
        assert!(cidr_contains_ip("fd00:ec2::254/128", v6));
        assert!(cidr_contains_ip("fd00:ec2::254", v6));
        assert!(cidr_contains_ip("::/0", v6));
        assert!(!cidr_contains_ip("fe80::/10", v6));
        assert!(
            !cidr_contains_ip("0.0.0.0/0", v6),
            "IPv4 blocks hold no IPv6 address"
        );
        assert!(!cidr_contains_ip("::/0", v4), "and the other way round");
        assert!(!cidr_contains_ip("fd00:ec2::/129", v6));
        assert!(cidr_contains_ip("169.254.169.254/32", v4));
        let v6_open = policy(
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {cidr: 0.0.0.0/0, except: [169.254.0.0/16]}\n    - ipBlock: {cidr: '::/0', except: ['fd00::/8']}\n",
        );
        assert!(!v6_open.allows_imds);
        assert_eq!(v6_open.imds_v6_action, None, "fd00::/8 is excepted");
        let v6_allowed = policy(
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {cidr: '::/0', except: ['fd00:ec2::253/128']}\n",
        );
        assert_eq!(v6_allowed.imds_v6_action.as_deref(), Some("allow"));
        assert_eq!(v6_allowed.imds_action, None);
    }

    fn one(text: &str) -> NetworkPolicy {
        let mut facts = Facts::default();
        extract(&yaml::parse(text).unwrap()[0], "np.yaml", &mut facts);
        facts.network_policies.remove(0)
    }

    #[test]
    fn calico_rules_in_order() {
        let p = one(
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\nspec:\n  selector: app == 'x'\n  order: 100\n  egress:\n  - action: Log\n  - action: Allow\n    protocol: UDP\n  - action: Deny\n    protocol: TCP\n    destination: {nets: [169.254.0.0/16], ports: ['1:1024']}\n  - action: Allow\n",
        );
        assert_eq!(
            (p.flavor, p.cluster_wide, p.order),
            ("calico", true, Some(100.0))
        );
        assert_eq!(p.imds_action.as_deref(), Some("deny"));
        assert_eq!(
            p.imds_v6_action.as_deref(),
            Some("allow"),
            "the deny names only IPv4"
        );
        assert!(p.isolates_egress && p.namespace.is_none());
        assert_eq!(p.selector_expression.as_deref(), Some("app == 'x'"));
        let not_nets = one(
            "apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: shop}\nspec:\n  types: [Egress]\n  egress:\n  - action: Allow\n    destination: {notNets: [169.254.169.254/32]}\n",
        );
        assert_eq!(not_nets.imds_action, None);
        assert_eq!(not_nets.selector_expression.as_deref(), Some("all()"));
    }

    #[test]
    fn cilium_deny_rules_and_entities() {
        let p = one(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c, namespace: shop}\nspec:\n  endpointSelector: {matchLabels: {'k8s:app': api}}\n  egress:\n  - toEntities: [world]\n  egressDeny:\n  - toCIDRSet: [{cidr: 169.254.0.0/16, except: [169.254.170.2/32]}]\n    toPorts: [{ports: [{port: '80', protocol: TCP}]}]\n",
        );
        assert_eq!(p.flavor, "cilium");
        assert_eq!(p.pod_selector.match_labels["app"], "api");
        assert_eq!(p.imds_action.as_deref(), Some("deny"));
        assert_eq!(
            p.imds_v6_action.as_deref(),
            Some("allow"),
            "world holds fd00:ec2::254"
        );
        let ports = one(
            "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c}\nspec:\n  endpointSelector: {}\n  egress:\n  - toPorts: [{ports: [{port: '443', protocol: TCP}]}]\n",
        );
        assert!(ports.cluster_wide && ports.isolates_egress);
        assert_eq!(ports.imds_action, None, "only port 443 is allowed");
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
