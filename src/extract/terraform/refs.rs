//! Which resources an attribute refers to, read from the expression as written.
//!
//! Values known only after apply (`aws_iam_role.nodes.arn`) evaluate to unknown, but
//! the link stage still needs to know *which* role a node group uses. So, for the
//! attributes that name another resource (a node group's role, an attachment's role
//! and policy, an instance profile, a task role), the expression is walked for
//! references: `aws_iam_role.nodes.arn` names `aws_iam_role.nodes`; a `local.x` is
//! followed into its expression, and a `var.x` into the argument the calling module
//! passed. The addresses carry the module prefix, so they compare with fact
//! addresses (`module.eks.aws_iam_role.this[0]` is named by
//! `module.eks.aws_iam_role.this`).

use super::{blocks, Decl, Instance};
use crate::facts::Facts;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::visit::{visit_traversal, Visit};
use std::collections::{BTreeMap, BTreeSet};

/// How deep `local` and `var` references are followed.
const MAX_DEPTH: usize = 8;

/// The attributes read, per resource type: (path to the attribute, the fact field it
/// fills).
const LINKS: &[(&str, &[&str], Field)] = &[
    ("aws_eks_node_group", &["node_role_arn"], Field::NodeRole),
    (
        "aws_eks_node_group",
        &["launch_template", "id"],
        Field::LaunchTemplate,
    ),
    (
        "aws_eks_node_group",
        &["launch_template", "name"],
        Field::LaunchTemplate,
    ),
    ("aws_iam_role_policy", &["role"], Field::PolicyRole),
    (
        "aws_iam_role_policy_attachment",
        &["role"],
        Field::PolicyRole,
    ),
    (
        "aws_iam_role_policy_attachment",
        &["policy_arn"],
        Field::PolicyPolicy,
    ),
    ("aws_iam_policy_attachment", &["roles"], Field::PolicyRole),
    (
        "aws_iam_policy_attachment",
        &["policy_arn"],
        Field::PolicyPolicy,
    ),
    (
        "aws_iam_role_policy_attachments_exclusive",
        &["role_name"],
        Field::PolicyRole,
    ),
    (
        "aws_iam_role_policy_attachments_exclusive",
        &["policy_arns"],
        Field::PolicyPolicy,
    ),
    ("aws_iam_instance_profile", &["role"], Field::ProfileRole),
    (
        "aws_instance",
        &["iam_instance_profile"],
        Field::InstanceProfile,
    ),
    (
        "aws_launch_configuration",
        &["iam_instance_profile"],
        Field::InstanceProfile,
    ),
    (
        "aws_launch_template",
        &["iam_instance_profile", "name"],
        Field::InstanceProfile,
    ),
    (
        "aws_launch_template",
        &["iam_instance_profile", "arn"],
        Field::InstanceProfile,
    ),
    (
        "aws_eks_pod_identity_association",
        &["role_arn"],
        Field::PodIdentityRole,
    ),
    (
        "aws_ecs_task_definition",
        &["task_role_arn"],
        Field::TaskRole,
    ),
    ("aws_ecs_service", &["task_definition"], Field::ServiceTask),
    ("aws_ecs_service", &["cluster"], Field::ServiceCluster),
];

/// Fact fields that hold references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    NodeRole,
    LaunchTemplate,
    PolicyRole,
    PolicyPolicy,
    ProfileRole,
    InstanceProfile,
    PodIdentityRole,
    TaskRole,
    ServiceTask,
    ServiceCluster,
    ServiceAccountRole,
}

/// Whether a fact address is an instance of the resource at `base`.
pub fn is_instance_of(address: &str, base: &str) -> bool {
    address == base
        || address
            .strip_prefix(base)
            .is_some_and(|r| r.starts_with('['))
}

/// Adds `refs` to the list, keeping it sorted and without duplicates.
fn add(list: &mut Vec<String>, refs: &BTreeSet<String>) {
    list.extend(refs.iter().cloned());
    list.sort();
    list.dedup();
}

impl Instance<'_> {
    /// Fills the reference fields of the facts of this instance's resources.
    pub(super) fn link_refs(&self, facts: &mut Facts) {
        let kubernetes_sa =
            |t: &str| t == "kubernetes_service_account" || t == "kubernetes_service_account_v1";
        for ((rtype, name), decl) in &self.resources {
            let base = self.prefixed(&format!("{rtype}.{name}"));
            let mut wanted: Vec<(&[&str], Field)> = LINKS
                .iter()
                .filter(|(t, _, _)| t == rtype)
                .map(|(_, path, field)| (*path, *field))
                .collect();
            if kubernetes_sa(rtype) {
                wanted.push((&["metadata", "annotations"], Field::ServiceAccountRole));
            }
            for (path, field) in wanted {
                let refs = self.refs_at(*decl, path);
                if refs.is_empty() {
                    continue;
                }
                fill(facts, &base, field, &refs);
            }
        }
    }

    /// The resources the attribute at `path` (nested blocks, then the attribute) of a
    /// resource block refers to.
    fn refs_at(&self, decl: Decl<'_, Block>, path: &[&str]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Some((attr, blocks_path)) = path.split_last() else {
            return out;
        };
        let mut bodies: Vec<&Body> = vec![&decl.item.body];
        for b in blocks_path {
            bodies = bodies
                .into_iter()
                .flat_map(|body| {
                    blocks(body, b)
                        .map(|blk| &blk.body)
                        .chain(dynamic_contents(body, b))
                })
                .collect();
        }
        for body in bodies {
            if let Some(a) = body.get_attribute(attr) {
                self.refs_in(&a.value, &mut out, 0);
            }
        }
        out
    }

    /// Adds the resources `expr` refers to, following locals and variables.
    pub(super) fn refs_in(&self, expr: &Expression, out: &mut BTreeSet<String>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut found = Collector::default();
        found.visit_expr(expr);
        for (root, name) in found.refs {
            match root.as_str() {
                "local" => {
                    if let Some(d) = self.locals.get(&name) {
                        self.refs_in(&d.item.value, out, depth + 1);
                    }
                }
                "var" => {
                    if let Some(refs) = self.input_refs.get(&name) {
                        out.extend(refs.iter().cloned());
                    }
                }
                "data" | "module" | "each" | "count" | "self" | "path" | "terraform" => {}
                rtype if rtype.contains('_') => {
                    out.insert(self.prefixed(&format!("{rtype}.{name}")));
                }
                _ => {}
            }
        }
    }

    /// The resources each argument of a module call refers to (in this, the calling
    /// instance), for the callee's `var.` references.
    pub(super) fn module_input_refs(
        &self,
        decl: Decl<'_, Block>,
    ) -> BTreeMap<String, BTreeSet<String>> {
        let mut out = BTreeMap::new();
        for a in decl.item.body.attributes() {
            let mut refs = BTreeSet::new();
            self.refs_in(&a.value, &mut refs, 0);
            if !refs.is_empty() {
                out.insert(a.key.value().to_string(), refs);
            }
        }
        out
    }
}

/// The `content` bodies of `dynamic "name"` blocks.
fn dynamic_contents<'b>(body: &'b Body, name: &'b str) -> impl Iterator<Item = &'b Body> + 'b {
    blocks(body, "dynamic")
        .filter(move |d| super::label(d, 0).as_deref() == Some(name))
        .flat_map(|d| blocks(&d.body, "content").map(|c| &c.body))
}

/// Sets a fact's reference field for every fact of the resource at `base`.
fn fill(facts: &mut Facts, base: &str, field: Field, refs: &BTreeSet<String>) {
    let of = |r: &str| is_instance_of(r, base);
    match field {
        Field::NodeRole => facts
            .node_groups
            .iter_mut()
            .filter(|g| of(&g.resource))
            .for_each(|g| add(&mut g.node_role_refs, refs)),
        Field::LaunchTemplate => facts
            .node_groups
            .iter_mut()
            .filter(|g| of(&g.resource))
            .for_each(|g| add(&mut g.launch_template_refs, refs)),
        Field::PolicyRole => facts
            .role_policies
            .iter_mut()
            .filter(|p| of(&p.resource))
            .for_each(|p| add(&mut p.role_refs, refs)),
        Field::PolicyPolicy => facts
            .role_policies
            .iter_mut()
            .filter(|p| of(&p.resource))
            .for_each(|p| add(&mut p.policy_refs, refs)),
        Field::ProfileRole => facts
            .instance_profiles
            .iter_mut()
            .filter(|p| of(&p.resource))
            .for_each(|p| add(&mut p.role_refs, refs)),
        Field::InstanceProfile => facts
            .instances
            .iter_mut()
            .filter(|i| of(&i.resource))
            .for_each(|i| add(&mut i.iam_instance_profile_refs, refs)),
        Field::PodIdentityRole => facts
            .pod_identities
            .iter_mut()
            .filter(|p| of(&p.resource))
            .for_each(|p| add(&mut p.role_refs, refs)),
        Field::TaskRole => facts
            .workloads
            .iter_mut()
            .filter(|w| of(&w.resource))
            .for_each(|w| add(&mut w.task_role_refs, refs)),
        Field::ServiceTask => facts
            .ecs_services
            .iter_mut()
            .filter(|s| of(&s.resource))
            .for_each(|s| add(&mut s.task_definition_refs, refs)),
        Field::ServiceCluster => facts
            .ecs_services
            .iter_mut()
            .filter(|s| of(&s.resource))
            .for_each(|s| add(&mut s.cluster_refs, refs)),
        Field::ServiceAccountRole => facts
            .service_accounts
            .iter_mut()
            // The provider's objects are named `address (ServiceAccount ns/name)`.
            .filter(|s| of(s.resource.split(" (").next().unwrap_or_default()))
            .for_each(|s| add(&mut s.role_refs, refs)),
    }
}

/// Collects `root.name` pairs of the traversals in an expression.
#[derive(Default)]
struct Collector {
    refs: Vec<(String, String)>,
}

impl Visit for Collector {
    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr {
            if let Some(TraversalOperator::GetAttr(name)) =
                node.operators.first().map(|o| o.value())
            {
                self.refs
                    .push((root.value().to_string(), name.value().to_string()));
            }
        }
        visit_traversal(self, node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_match_their_resource() {
        assert!(is_instance_of("aws_iam_role.a", "aws_iam_role.a"));
        assert!(is_instance_of("aws_iam_role.a[0]", "aws_iam_role.a"));
        assert!(is_instance_of(
            "module.m.aws_iam_role.a[\"x\"]",
            "module.m.aws_iam_role.a"
        ));
        assert!(!is_instance_of("aws_iam_role.ab", "aws_iam_role.a"));
    }
}
