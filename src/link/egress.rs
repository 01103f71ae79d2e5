//! Which Kubernetes workloads can reach the instance metadata service, from the
//! NetworkPolicies anywhere in the scan that select their pods.

use crate::facts::{Facts, NetworkPolicy, Tri};

/// Decides `imds_egress` for every Kubernetes workload of the scan.
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
            let (egress, reason) = imds_egress(&w.namespace, &w.labels, w.host_network, &policies);
            w.imds_egress = egress;
            w.imds_egress_reason = reason;
        }
    }
}

/// Whether pods with these labels in this namespace can reach 169.254.169.254:80.
fn imds_egress(
    namespace: &Option<String>,
    labels: &std::collections::BTreeMap<String, String>,
    host_network: bool,
    policies: &[NetworkPolicy],
) -> (Tri, String) {
    if host_network {
        // NetworkPolicies do not apply to host-network pods: BRK504 says the rest.
        return (
            Tri::Yes,
            "it uses the host network, which NetworkPolicies do not govern".into(),
        );
    }
    let selecting: Vec<&NetworkPolicy> = policies
        .iter()
        .filter(|p| {
            p.isolates_egress && &p.namespace == namespace && p.pod_selector.matches(labels)
        })
        .collect();
    if selecting.is_empty() {
        return (
            Tri::Yes,
            "no NetworkPolicy restricts its pods' egress".into(),
        );
    }
    match selecting.iter().find(|p| p.allows_imds) {
        Some(p) => (
            Tri::Yes,
            format!("{} allows egress that includes 169.254.169.254", p.resource),
        ),
        None => (
            Tri::No,
            format!(
                "egress is limited by {}",
                selecting
                    .iter()
                    .map(|p| p.resource.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
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
