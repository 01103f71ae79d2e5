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

use super::blocks;
use super::instance::{Decl, Instance};
use crate::facts::Facts;
use hcl_edit::expr::FuncCall;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::visit::{visit_func_call, visit_traversal, Visit};
use std::collections::{BTreeMap, BTreeSet};

/// How deep `local` and `var` references are followed.
const MAX_DEPTH: usize = 8;

/// Literal text collected for one expression beyond this is not needed.
const MAX_LITERAL_TEXT: usize = 256 * 1024;

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
    (
        "aws_iam_role",
        &["inline_policy", "policy"],
        Field::PolicyPolicy,
    ),
    (
        "aws_iam_role",
        &["managed_policy_arns"],
        Field::PolicyPolicy,
    ),
    ("aws_iam_policy", &["policy"], Field::CustomerDocument),
    ("aws_iam_role_policy", &["role"], Field::PolicyRole),
    ("aws_iam_role_policy", &["policy"], Field::PolicyPolicy),
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
    CustomerDocument,
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
        // `each.value` stands for what `for_each` iterates over.
        let each = decl.item.body.get_attribute("for_each").map(|a| &a.value);
        for body in bodies {
            if let Some(a) = body.get_attribute(attr) {
                self.refs_with(&a.value, each, &mut out, 0);
            }
        }
        out
    }

    /// Adds the resources `expr` refers to, following locals and variables.
    pub(super) fn refs_in(&self, expr: &Expression, out: &mut BTreeSet<String>, depth: usize) {
        self.refs_with(expr, None, out, depth);
    }

    /// [`Self::refs_in`], with `each.` standing for the `for_each` expression `each`.
    fn refs_with(
        &self,
        expr: &Expression,
        each: Option<&Expression>,
        out: &mut BTreeSet<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut found = Collector::default();
        found.visit_expr(expr);
        for (root, name, next) in found.refs {
            match root.as_str() {
                // A data source: `data.aws_iam_policy_document.x` (a policy document
                // reported on its own), `data.aws_iam_role.x` (a role outside).
                "data" => {
                    if let Some(n) = next {
                        out.insert(self.prefixed(&format!("data.{name}.{n}")));
                    }
                }
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
                "each" => {
                    if let Some(e) = each {
                        self.refs_in(e, out, depth + 1);
                    }
                }
                "module" | "count" | "self" | "path" | "terraform" => {}
                rtype if rtype.contains('_') => {
                    out.insert(self.prefixed(&format!("{rtype}.{name}")));
                }
                _ => {}
            }
        }
    }

    /// The literal text of an expression: its strings and template text, through
    /// locals, variables, `each.` and the files `templatefile()`/`file()` read (their
    /// text as written). What an unknown interpolation would add is not in it.
    pub(super) fn literals_with(
        &self,
        (expr, file): (&Expression, usize),
        each: Option<&Expression>,
        out: &mut String,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || out.len() > MAX_LITERAL_TEXT {
            return;
        }
        let mut found = Literals::default();
        found.visit_expr(expr);
        for text in &found.text {
            out.push_str(text);
            out.push('\n');
        }
        for (root, name, next) in &found.refs {
            match root.as_str() {
                "local" => {
                    if let Some(d) = self.locals.get(name) {
                        self.literals_with((&d.item.value, d.file), None, out, depth + 1);
                    }
                }
                "var" => {
                    if let Some(t) = self.input_literals.get(name) {
                        out.push_str(t);
                        out.push('\n');
                    }
                }
                // `each.value` is every value `for_each` holds; `each.value.x`, the `x`
                // of each, when `for_each` spells them out.
                "each" => match (each, next) {
                    (Some(e), None) => self.literals_with((e, file), None, out, depth + 1),
                    (Some(e), Some(attr)) => self.project((e, file), attr, out, depth + 1),
                    _ => {}
                },
                _ => {}
            }
        }
        // The template a `templatefile` or `file` call reads, when its path is known.
        for path in &found.files {
            let v = self.eval_in(file, path, &[]);
            if let Some(p) = v.as_str() {
                if let Ok((text, _)) = crate::parse::hcl::eval::Scope::read_file(self, p) {
                    out.push_str(&text);
                    out.push('\n');
                }
            }
        }
    }

    /// The literal text of attribute `attr` of every value of an object written out
    /// (a `for_each` map of objects), following locals to it; nothing for anything
    /// else (a `for` expression, a variable): better nothing than everything.
    fn project(
        &self,
        (expr, file): (&Expression, usize),
        attr: &str,
        out: &mut String,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        match expr {
            Expression::Object(obj) => {
                for (_, value) in obj.iter() {
                    if let Expression::Object(item) = value.expr() {
                        for (key, v) in item.iter() {
                            let k = match key {
                                hcl_edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(e) => match e {
                                    Expression::String(s) => s.value().to_string(),
                                    _ => continue,
                                },
                            };
                            if k == attr {
                                self.literals_with((v.expr(), file), None, out, depth + 1);
                            }
                        }
                    }
                }
            }
            Expression::Traversal(t) => {
                let Expression::Variable(root) = &t.expr else {
                    return;
                };
                let Some(TraversalOperator::GetAttr(name)) = t.operators.first().map(|o| o.value())
                else {
                    return;
                };
                if root.value().as_str() == "local" && t.operators.len() == 1 {
                    if let Some(d) = self.locals.get(name.value().as_str()) {
                        self.project((&d.item.value, d.file), attr, out, depth + 1);
                    }
                }
            }
            Expression::Parenthesis(p) => self.project((p.inner(), file), attr, out, depth + 1),
            _ => {}
        }
    }

    /// The literal text of each argument of a module call, for the callee's `var.`.
    pub(super) fn module_input_literals(&self, decl: Decl<'_, Block>) -> BTreeMap<String, String> {
        let each = decl.item.body.get_attribute("for_each").map(|a| &a.value);
        decl.item
            .body
            .attributes()
            .filter_map(|a| {
                let mut text = String::new();
                self.literals_with((&a.value, decl.file), each, &mut text, 0);
                (!text.trim().is_empty()).then(|| (a.key.value().to_string(), text))
            })
            .collect()
    }

    /// For instances and launch templates whose user data is known only after apply,
    /// reads what its literal text says (`ECS_CLUSTER=`, `/etc/eks/bootstrap.sh`, the
    /// IMDS blocks): the interpolations left unknown rarely hold those.
    pub(super) fn link_user_data(&self, facts: &mut Facts) {
        for ((rtype, name), decl) in &self.resources {
            if !matches!(
                rtype.as_str(),
                "aws_instance" | "aws_launch_template" | "aws_launch_configuration"
            ) {
                continue;
            }
            let base = self.prefixed(&format!("{rtype}.{name}"));
            if !facts
                .instances
                .iter()
                .any(|i| is_instance_of(&i.resource, &base) && i.user_data_unknown)
            {
                continue;
            }
            let Some(a) = decl
                .item
                .body
                .get_attribute("user_data")
                .or_else(|| decl.item.body.get_attribute("user_data_base64"))
            else {
                continue;
            };
            let each = decl.item.body.get_attribute("for_each").map(|a| &a.value);
            let mut text = String::new();
            self.literals_with((&a.value, decl.file), each, &mut text, 0);
            let read = super::links::read_user_data(&text);
            for i in facts
                .instances
                .iter_mut()
                .filter(|i| is_instance_of(&i.resource, &base) && i.user_data_unknown)
            {
                i.ecs_container_instance |= read.ecs;
                i.eks_node |= read.eks;
                i.ecs_awsvpc_block_imds |= read.awsvpc_block_imds;
                i.bridge_imds_blocked |= read.bridge_blocked;
                if i.ecs_cluster.is_none() {
                    i.ecs_cluster = read.ecs_cluster.clone();
                }
            }
        }
    }

    /// For attachments whose policy ARN is known only after apply (a partition from a
    /// data source), the AWS managed policies the expression's text names.
    pub(super) fn link_managed_names(&self, facts: &mut Facts) {
        for ((rtype, name), decl) in &self.resources {
            if !matches!(
                rtype.as_str(),
                "aws_iam_role_policy_attachment"
                    | "aws_iam_policy_attachment"
                    | "aws_iam_role_policy_attachments_exclusive"
                    | "aws_iam_role"
            ) {
                continue;
            }
            let base = self.prefixed(&format!("{rtype}.{name}"));
            let unknown = |p: &crate::facts::RolePolicy| {
                is_instance_of(&p.resource, &base) && p.kind == "attached" && p.policy.is_none()
            };
            if !facts.role_policies.iter().any(unknown) {
                continue;
            }
            let attr = ["policy_arn", "policy_arns", "managed_policy_arns"]
                .iter()
                .find_map(|k| decl.item.body.get_attribute(k));
            let Some(a) = attr else { continue };
            let each = decl.item.body.get_attribute("for_each").map(|a| &a.value);
            let mut text = String::new();
            self.literals_with((&a.value, decl.file), each, &mut text, 0);
            let names = aws_managed_names(&text);
            if names.is_empty() {
                continue;
            }
            for p in facts.role_policies.iter_mut().filter(|p| unknown(p)) {
                p.aws_managed_names = names.clone();
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
        Field::CustomerDocument => facts
            .customer_policies
            .iter_mut()
            .filter(|p| of(&p.resource))
            .for_each(|p| add(&mut p.document_refs, refs)),
        Field::ServiceAccountRole => facts
            .service_accounts
            .iter_mut()
            // The provider's objects are named `address (ServiceAccount ns/name)`.
            .filter(|s| of(s.resource.split(" (").next().unwrap_or_default()))
            .for_each(|s| add(&mut s.role_refs, refs)),
    }
}

/// Collects `root.name[.next]` of the traversals in an expression.
#[derive(Default)]
struct Collector {
    refs: Vec<(String, String, Option<String>)>,
}

impl Visit for Collector {
    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr {
            let attr = |i: usize| match node.operators.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(n)) => Some(n.value().to_string()),
                _ => None,
            };
            if let Some(name) = attr(0) {
                self.refs.push((root.value().to_string(), name, attr(1)));
            }
        }
        visit_traversal(self, node);
    }
}

/// The AWS managed policy names in the literal text of an ARN expression: the text
/// must spell `:iam::aws:policy`, and a name is what follows `policy/` or a `/` that
/// starts a piece of text (`"${local.prefix}/AmazonEKSWorkerNodePolicy"`).
fn aws_managed_names(text: &str) -> Vec<String> {
    if !text.contains(":iam::aws:policy") {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for piece in text.split(|c: char| c.is_whitespace() || c == '"' || c == ',') {
        let name = match piece.rfind("policy/") {
            Some(i) => &piece[i + "policy/".len()..],
            None => match piece.strip_prefix('/') {
                Some(n) => n,
                None => continue,
            },
        };
        // `service-role/Name` keeps its last segment.
        let name = name.rsplit('/').next().unwrap_or(name);
        if !name.is_empty()
            && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        {
            out.push(name.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Collects the literal text of an expression, the references it makes, and the
/// path arguments of `templatefile`/`file` calls.
#[derive(Default)]
struct Literals {
    text: Vec<String>,
    refs: Vec<(String, String, Option<String>)>,
    files: Vec<Expression>,
}

impl Visit for Literals {
    fn visit_string(&mut self, node: &hcl_edit::Decorated<String>) {
        self.text.push(node.value().clone());
    }

    // The text of string templates and heredocs, between their interpolations.
    fn visit_literal(&mut self, node: &hcl_edit::Spanned<String>) {
        self.text.push(node.value().clone());
    }

    fn visit_traversal(&mut self, node: &Traversal) {
        let mut c = Collector::default();
        c.visit_traversal(node);
        self.refs.extend(c.refs);
        visit_traversal(self, node);
    }

    fn visit_func_call(&mut self, node: &FuncCall) {
        let name = node.name.name.value().as_str();
        if name == "templatefile" || name == "file" {
            if let Some(path) = node.args.iter().next() {
                self.files.push(path.clone());
            }
        }
        visit_func_call(self, node);
    }
}

/// The module instances of an address (`module.a["x"].module.b`) and the rest
/// (`aws_iam_role.this[0]`).
fn split_modules(address: &str) -> (Vec<&str>, &str) {
    let mut modules = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let bytes = after.as_bytes();
        let mut i = 0;
        let mut depth = 0;
        let mut quoted = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' if depth > 0 => quoted = !quoted,
                b'\\' if quoted => i += 1,
                b'[' if !quoted => depth += 1,
                b']' if !quoted => depth -= 1,
                b'.' if depth == 0 && !quoted => break,
                _ => {}
            }
            i += 1;
        }
        let len = "module.".len() + i;
        modules.push(&rest[..len]);
        rest = rest.get(len + 1..).unwrap_or("");
    }
    (modules, rest)
}

/// An address without its instance keys (`module.a.aws_iam_role.this`).
pub fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            if escaped {
                escaped = false;
            } else if quoted && c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = !quoted;
            } else if !quoted && c == '[' {
                depth += 1;
            } else if !quoted && c == ']' {
                depth -= 1;
            }
            continue;
        }
        if c == '[' {
            depth = 1;
            continue;
        }
        out.push(c);
    }
    out
}

/// Whether a reference names the resource at `address`: an instance of it, or, for a
/// plan's configuration reference (which has no instance keys), the same resource in
/// any instance.
pub fn refers_to(reference: &str, address: &str) -> bool {
    is_instance_of(address, reference)
        || (!reference.contains('[') && without_keys(address) == reference)
}

/// A plan's references, read from its `configuration`: for each resource of a type in
/// [`LINKS`], the references of the attributes read, relative to the module, with how
/// many modules up they are (a `var.` reference is followed into the calling module's
/// argument).
pub fn plan_refs(doc: &crate::parse::Node, facts: &mut Facts) {
    let Some(root) = doc.path(&["configuration", "root_module"]) else {
        return;
    };
    let mut found: Found = Vec::new();
    plan_module(root, "", &BTreeMap::new(), &mut found, 0);
    for (config_address, field, refs) in found {
        let matching = |address: &str| without_keys(address) == config_address;
        let absolute = |address: &str| -> BTreeSet<String> {
            let (modules, _) = split_modules(address);
            refs.iter()
                .filter(|(up, _)| *up <= modules.len())
                .map(|(up, r)| {
                    let mut parts: Vec<&str> = modules[..modules.len() - up].to_vec();
                    parts.push(r);
                    parts.join(".")
                })
                .collect()
        };
        fill_matching(facts, &matching, field, &absolute);
    }
}

type Found = Vec<(String, Field, Vec<(usize, String)>)>;

/// Walks one module of a plan's configuration. `inputs`: for each variable, the
/// references of the calling module's argument, relative to the caller.
fn plan_module(
    m: &crate::parse::Node,
    prefix: &str,
    inputs: &BTreeMap<String, Vec<(usize, String)>>,
    found: &mut Found,
    depth: usize,
) {
    use crate::parse::Node;
    let refs_of = |expr: Option<&Node>| -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut stack: Vec<&Node> = expr.into_iter().collect();
        while let Some(e) = stack.pop() {
            for r in e
                .get("references")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
            {
                if let Some(var) = r.strip_prefix("var.") {
                    let var = var.split(['.', '[']).next().unwrap_or(var);
                    for (up, x) in inputs.get(var).into_iter().flatten() {
                        out.push((up + 1, x.clone()));
                    }
                    continue;
                }
                let parts: Vec<&str> = r.splitn(4, '.').collect();
                if let ["data", rtype, name, ..] = parts[..] {
                    let name = name.split('[').next().unwrap_or(name);
                    out.push((0, format!("data.{rtype}.{name}")));
                    continue;
                }
                if let [rtype, name, ..] = parts[..] {
                    let excluded = ["data", "module", "local", "each", "count", "path", "self"];
                    if rtype.contains('_') && !excluded.contains(&rtype) {
                        let name = name.split('[').next().unwrap_or(name);
                        out.push((0, format!("{rtype}.{name}")));
                    }
                }
            }
            // Nested blocks: a map of expressions, or a list of such maps.
            for e2 in e.entries() {
                if e2.key != "references" && e2.key != "constant_value" {
                    stack.push(&e2.value);
                }
            }
            stack.extend(e.items());
        }
        out.sort();
        out.dedup();
        out
    };
    for r in m.get("resources").map(Node::items).unwrap_or_default() {
        let (Some(address), Some(rtype)) = (
            r.get("address").and_then(Node::as_str),
            r.get("type").and_then(Node::as_str),
        ) else {
            continue;
        };
        if r.get("mode").and_then(Node::as_str) == Some("data") {
            continue;
        }
        let full = if prefix.is_empty() {
            address.to_string()
        } else {
            format!("{prefix}.{address}")
        };
        let expressions = r.get("expressions");
        for (t, path, field) in LINKS {
            if t != &rtype {
                continue;
            }
            // `launch_template` blocks are lists of maps of expressions.
            let mut nodes: Vec<&Node> = expressions.into_iter().collect();
            for key in *path {
                nodes = nodes
                    .into_iter()
                    .flat_map(|n| {
                        let v = n.get(key);
                        let items: Vec<&Node> = match v {
                            Some(v) if !v.items().is_empty() => v.items().iter().collect(),
                            Some(v) => vec![v],
                            None => Vec::new(),
                        };
                        items
                    })
                    .collect();
            }
            let refs: Vec<(usize, String)> =
                nodes.into_iter().flat_map(|n| refs_of(Some(n))).collect();
            if !refs.is_empty() {
                found.push((full.clone(), *field, refs));
            }
        }
    }
    if depth >= 32 {
        return;
    }
    for call in m.get("module_calls").map(Node::entries).unwrap_or_default() {
        let Some(child) = call.value.get("module") else {
            continue;
        };
        let child_inputs: BTreeMap<String, Vec<(usize, String)>> = call
            .value
            .get("expressions")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .map(|e| (e.key.clone(), refs_of(Some(&e.value))))
            .filter(|(_, r)| !r.is_empty())
            .collect();
        let child_prefix = if prefix.is_empty() {
            format!("module.{}", call.key)
        } else {
            format!("{prefix}.module.{}", call.key)
        };
        plan_module(child, &child_prefix, &child_inputs, found, depth + 1);
    }
}

/// Like [`fill`], for the facts whose address `matching` accepts, with references
/// made absolute for each fact's module instance.
fn fill_matching(
    facts: &mut Facts,
    matching: &dyn Fn(&str) -> bool,
    field: Field,
    absolute: &dyn Fn(&str) -> BTreeSet<String>,
) {
    macro_rules! each {
        ($list:expr, $res:ident, $target:ident) => {
            for x in $list.iter_mut().filter(|x| matching(&x.$res)) {
                let refs = absolute(&x.$res);
                add(&mut x.$target, &refs);
            }
        };
    }
    match field {
        Field::NodeRole => each!(facts.node_groups, resource, node_role_refs),
        Field::LaunchTemplate => each!(facts.node_groups, resource, launch_template_refs),
        Field::PolicyRole => each!(facts.role_policies, resource, role_refs),
        Field::PolicyPolicy => each!(facts.role_policies, resource, policy_refs),
        Field::ProfileRole => each!(facts.instance_profiles, resource, role_refs),
        Field::InstanceProfile => each!(facts.instances, resource, iam_instance_profile_refs),
        Field::PodIdentityRole => each!(facts.pod_identities, resource, role_refs),
        Field::TaskRole => each!(facts.workloads, resource, task_role_refs),
        Field::ServiceTask => each!(facts.ecs_services, resource, task_definition_refs),
        Field::ServiceCluster => each!(facts.ecs_services, resource, cluster_refs),
        Field::CustomerDocument => each!(facts.customer_policies, resource, document_refs),
        Field::ServiceAccountRole => {}
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
        assert!(refers_to(
            "module.m.aws_iam_role.a",
            "module.m[\"x.y\"].aws_iam_role.a[0]"
        ));
        assert!(!refers_to(
            "module.m[\"y\"].aws_iam_role.a",
            "module.m[\"x\"].aws_iam_role.a[0]"
        ));
    }

    #[test]
    fn managed_policy_names_in_arn_templates() {
        let text = "arn:\n:iam::aws:policy\n/AmazonEKSWorkerNodePolicy\n/AmazonEKS_CNI_Policy\narn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM\n";
        assert_eq!(
            aws_managed_names(text),
            [
                "AmazonEC2RoleforSSM",
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy"
            ]
        );
        assert!(aws_managed_names("/AmazonDynamoDBFullAccess").is_empty());
    }

    #[test]
    fn module_instances_of_an_address() {
        let (m, rest) = split_modules("module.a[\"x.y\"].module.b[0].aws_iam_role.r[\"k\"]");
        assert_eq!(m, ["module.a[\"x.y\"]", "module.b[0]"]);
        assert_eq!(rest, "aws_iam_role.r[\"k\"]");
        assert_eq!(
            without_keys("module.a[\"x]y\"].aws_iam_role.r[0]"),
            "module.a.aws_iam_role.r"
        );
    }
}
