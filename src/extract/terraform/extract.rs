//! Extraction: each resource and data source instance evaluated into plan JSON's
//! attribute shape (nested blocks as lists of objects, `dynamic` blocks expanded) and
//! handed to [`resources`](super::resources), then the child modules'.

use super::expand::MAX_INSTANCES;
use super::instance::Instance;
use super::{blocks, label, policy_document, resources};
use crate::facts::Facts;
use crate::parse::hcl::eval::Evaluator;
use crate::parse::hcl::value::{FileId, Val, V};
use crate::parse::Pos;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::rc::Rc;

impl<'m> Instance<'m> {
    /// A block's attributes and nested blocks in plan JSON's shape.
    pub(super) fn block_value(
        &self,
        file: usize,
        block: &Block,
        bindings: &[(&str, V)],
        rtype: Option<&str>,
    ) -> V {
        let fid = self.file(file).id;
        let pos = self.pos(file, block.span());
        // One resource instance is one item of work.
        let budget = self.item_budget();
        let start = budget.get();
        let mut ev = self.evaluator(file, &budget);
        for (n, v) in bindings {
            ev.bind(n, v.clone());
        }
        let mut map = BTreeMap::new();
        self.body_into(&mut ev, file, &block.body, &mut map, rtype.is_some());
        drop(ev);
        self.spent(start, &budget);
        let mut v = V::new(pos, fid, Val::Map(map));
        if rtype == Some("aws_iam_policy_document") {
            v = policy_document::render(v, fid);
        }
        v
    }

    pub(super) fn body_into(
        &self,
        ev: &mut Evaluator<'_>,
        file: usize,
        body: &Body,
        map: &mut BTreeMap<String, (Pos, V)>,
        top: bool,
    ) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.value().as_str();
                    if top && matches!(key, "count" | "for_each" | "provider" | "depends_on") {
                        continue;
                    }
                    let v = match ev.eval(&a.value) {
                        Ok(v) => v,
                        Err(e) => self.unknown_after(e, file, &a.value),
                    };
                    map.insert(key.to_string(), (self.pos(file, a.key.span()), v));
                }
                Structure::Block(b) => {
                    let ident = b.ident.value().as_str();
                    if top && matches!(ident, "lifecycle" | "provisioner" | "connection") {
                        continue;
                    }
                    if ident == "dynamic" {
                        self.dynamic_into(ev, file, b, map);
                        continue;
                    }
                    let mut inner = BTreeMap::new();
                    self.body_into(ev, file, &b.body, &mut inner, false);
                    push_block(
                        map,
                        ident,
                        self.pos(file, b.ident.span()),
                        V::new(
                            self.pos(file, b.span()),
                            self.file(file).id,
                            Val::Map(inner),
                        ),
                    );
                }
            }
        }
    }

    /// `dynamic "x" { for_each = …; iterator = it; content { … } }` → blocks `x`.
    pub(super) fn dynamic_into(
        &self,
        ev: &mut Evaluator<'_>,
        file: usize,
        b: &Block,
        map: &mut BTreeMap<String, (Pos, V)>,
    ) {
        let Some(name) = label(b, 0) else { return };
        let kpos = self.pos(file, b.span());
        let fid = self.file(file).id;
        let iterator = b
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(v) => Some(v.value().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| name.clone());
        let Some(content) = blocks(&b.body, "content").next() else {
            return;
        };
        let collection = match b.body.get_attribute("for_each").map(|a| ev.eval(&a.value)) {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let _ =
                    self.unknown_after(e, file, &b.body.get_attribute("for_each").unwrap().value);
                return;
            }
            None => return,
        };
        let items: Vec<(V, V)> = match collection.val {
            // A map whose keys are not all known: unknown, below.
            Val::Map(_) if collection.partial => vec![(
                V::new(kpos, fid, Val::Unknown),
                V::new(kpos, fid, Val::Unknown),
            )],
            Val::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (V::new(v.pos, v.file, Val::Num(i as f64)), v))
                .collect(),
            Val::Map(m) => m
                .into_iter()
                .map(|(k, (p, v))| (V::new(p, v.file, Val::Str(k)), v))
                .collect(),
            // An unknown collection: one block whose contents are unknown where they
            // depend on the iterator, so a fixed setting inside is still seen.
            _ => vec![(
                V::new(kpos, fid, Val::Unknown),
                V::new(kpos, fid, Val::Unknown),
            )],
        };
        for (key, value) in items.into_iter().take(MAX_INSTANCES) {
            let it = V::new(
                kpos,
                fid,
                Val::Map(BTreeMap::from([
                    ("key".to_string(), (kpos, key)),
                    ("value".to_string(), (kpos, value)),
                ])),
            );
            ev.bind(&iterator, it);
            let mut inner = BTreeMap::new();
            self.body_into(ev, file, &content.body, &mut inner, false);
            ev.unbind();
            push_block(map, &name, kpos, V::new(kpos, fid, Val::Map(inner)));
        }
    }

    /// Extracts the facts of every resource and data source instance, then the child
    /// modules'.
    pub(super) fn extract(&self, facts: &mut Facts, unscanned: &mut Vec<String>) {
        let all = [(true, &self.data), (false, &self.resources)];
        let declared = all
            .iter()
            .flat_map(|(data, map)| map.iter().map(move |(k, d)| (*data, k, d)));
        // Duplicates are errors Terraform refuses; they are still judged, so nothing in
        // a folder of examples goes unread.
        let duplicates = self.duplicates.iter().map(|(data, k, d)| (*data, k, d));
        for (data, (rtype, name), decl) in declared.chain(duplicates) {
            {
                // Files not named on the command line only supply what named ones use.
                if !resources::handles(rtype, data) || !self.file(decl.file).reported {
                    continue;
                }
                let base = if data {
                    format!("data.{rtype}.{name}")
                } else {
                    format!("{rtype}.{name}")
                };
                let file = self.file(decl.file);
                let fallback = self.pos(decl.file, decl.item.span());
                let instances: Vec<(String, V)> = self
                    .expand(*decl, rtype, self.instances(*decl))
                    .into_iter()
                    .map(|(k, v)| (format!("{base}{}", k.suffix()), v))
                    .collect();
                for (address, v) in instances {
                    // A policy document is reported as the data source; where a role,
                    // policy or module uses it, its statements are not reported again.
                    let v = if data && rtype == "aws_iam_policy_document" {
                        if let Some(doc) = rendered_document(&v) {
                            self.shared.rendered.borrow_mut().push(doc);
                        }
                        v
                    } else {
                        without_documents(v, &self.shared.rendered.borrow())
                    };
                    // A value another module's files wrote (a container definition
                    // passed out through an output, an argument of the caller) stays
                    // located there; one from this module's other files (a variable's
                    // default) is reported where it is used.
                    let foreign = |o: crate::parse::Origin| {
                        self.shared
                            .module_of_file
                            .get(&o.index())
                            .is_some_and(|&m| m != self.index)
                    };
                    let node = v.to_node_tracing(file.id, fallback, &foreign);
                    let ctx = resources::Ctx {
                        rtype,
                        address: &self.prefixed(&address),
                        file: &file.display,
                    };
                    resources::extract(&ctx, &node, facts);
                }
            }
        }
        self.link_node_groups(facts);
        self.link_refs(facts);
        self.link_user_data(facts);
        self.link_managed_names(facts);
        for (name, decl) in &self.modules {
            if !self.file(decl.file).reported {
                continue;
            }
            match self.shared.arena.calls.get(&(self.index, name.clone())) {
                // Instantiates the module (and its instances): extracted below.
                Some(Ok(_)) => {
                    let _ = self.module_value(name, Pos::new(1, 1));
                }
                Some(Err(why)) => {
                    unscanned.push(format!("{}: {why}", self.file(decl.file).display))
                }
                None => {}
            }
        }
        let children: Vec<(String, Rc<Instance<'m>>)> = self
            .children
            .borrow()
            .iter()
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect();
        for (key, c) in children {
            let name = key.split('[').next().unwrap_or(&key);
            if self
                .modules
                .get(name)
                .is_some_and(|d| self.file(d.file).reported)
            {
                c.extract(facts, unscanned);
            }
        }
    }
}

impl Instance<'_> {
    /// EKS managed node groups run their nodes from a launch template: the template's
    /// metadata fact learns which node groups (and so which pods) it serves. The link is
    /// read from the configuration (`launch_template { id = aws_launch_template.x.id }`),
    /// since the id itself is known only after apply.
    pub(super) fn link_node_groups(&self, facts: &mut Facts) {
        for ((rtype, name), decl) in &self.resources {
            if rtype != "aws_eks_node_group" {
                continue;
            }
            let Some(lt) = blocks(&decl.item.body, "launch_template").next() else {
                continue;
            };
            let template = ["id", "name"].iter().find_map(|k| {
                let Expression::Traversal(t) = &lt.body.get_attribute(k)?.value else {
                    return None;
                };
                let Expression::Variable(root) = &t.expr else {
                    return None;
                };
                if root.value().as_str() != "aws_launch_template" {
                    return None;
                }
                match t.operators.first().map(|o| o.value()) {
                    Some(hcl_edit::expr::TraversalOperator::GetAttr(n)) => {
                        Some(n.value().to_string())
                    }
                    _ => None,
                }
            });
            let Some(template) = template else { continue };
            let template = self.prefixed(&format!("aws_launch_template.{template}"));
            let group = self.prefixed(&format!("{rtype}.{name}"));
            for fact in facts.instances.iter_mut().filter(|f| {
                f.resource == template || f.resource.starts_with(&format!("{template}["))
            }) {
                if !fact.eks_node_groups.contains(&group) {
                    fact.eks_node_groups.push(group.clone());
                }
            }
        }
    }
}

/// The identity of a rendered policy document: where its document starts.
pub(super) fn rendered_document(v: &V) -> Option<(FileId, Pos)> {
    let Val::Map(m) = &v.val else { return None };
    match &m.get("json")?.1.val {
        Val::Encoded(_, doc) => Some((doc.file, doc.pos)),
        _ => None,
    }
}

/// `v` with the policy documents already reported replaced by null.
pub(super) fn without_documents(v: V, reported: &[(FileId, Pos)]) -> V {
    if reported.is_empty() {
        return v;
    }
    let val = match v.val {
        Val::Encoded(_, ref doc) if reported.contains(&(doc.file, doc.pos)) => Val::Null,
        Val::List(items) => Val::List(
            items
                .into_iter()
                .map(|i| without_documents(i, reported))
                .collect(),
        ),
        Val::Map(m) => Val::Map(
            m.into_iter()
                .map(|(k, (p, i))| (k, (p, without_documents(i, reported))))
                .collect(),
        ),
        other => other,
    };
    V { val, ..v }
}

/// Appends a nested block to the list under its name (plan JSON's shape).
pub(super) fn push_block(map: &mut BTreeMap<String, (Pos, V)>, name: &str, kpos: Pos, block: V) {
    let entry = map
        .entry(name.to_string())
        .or_insert_with(|| (kpos, V::new(kpos, block.file, Val::List(Vec::new()))));
    if let Val::List(items) = &mut entry.1.val {
        items.push(block);
    }
}
