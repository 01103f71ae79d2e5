//! `terraform show -json` plans → facts, through the same resource extractors as HCL.
//!
//! A plan's `planned_values` hold every resource as it will be after apply, by address,
//! with nested blocks as lists of objects: the shape the Terraform extractors read.
//! Values known only after apply are `null` there and marked in the resource change's
//! `after_unknown`; they become unknown, not absent. Resources the plan deletes are not
//! in `planned_values`, so only the risk the plan introduces or keeps is reported.
//!
//! An argument the provider computes when it is not set (`network_mode` of an
//! `aws_ecs_task_definition`) is unknown in the plan even when the configuration
//! leaves it out. When the plan's `configuration` shows the resource without that
//! argument, it is not set, and the provider's documented default applies (see
//! [`provider_defaults`]): it is not reported as a value decided at apply.

use super::terraform::{file_id, policy_document, provider_defaults, resources};
use crate::facts::Facts;
use crate::parse::hcl::value::V;
use crate::parse::{Node, Value};
use std::collections::BTreeMap;

/// Whether a JSON document is a plan (or `terraform show -json` of a state).
pub fn is_plan(doc: &Node) -> bool {
    doc.get("format_version").is_some()
        && (doc.get("planned_values").is_some()
            || doc.get("resource_changes").is_some()
            || doc.get("values").is_some())
}

/// Extracts the facts of every resource the plan will leave in place.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) {
    let mut unknown: BTreeMap<String, &Node> = BTreeMap::new();
    for change in doc
        .get("resource_changes")
        .map(Node::items)
        .unwrap_or_default()
    {
        if let (Some(address), Some(after_unknown)) = (
            change.get("address").and_then(Node::as_str),
            change.path(&["change", "after_unknown"]),
        ) {
            unknown.insert(address.to_string(), after_unknown);
        }
    }
    let mut configured = BTreeMap::new();
    if let Some(c) = doc.path(&["configuration", "root_module"]) {
        configuration(c, String::new(), &mut configured, 0);
    }
    let plan = Plan {
        file,
        unknown,
        configured,
    };
    // A plan's resources, or a shown state's.
    let root = doc
        .path(&["planned_values", "root_module"])
        .or_else(|| doc.path(&["values", "root_module"]));
    if let Some(root) = root {
        module(root, &plan, facts, 0);
    }
    // Which role a node group uses, and the like: from the configuration's references.
    super::terraform::refs::plan_refs(doc, facts);
}

/// What every resource of a plan is read with.
struct Plan<'a> {
    file: &'a str,
    /// `after_unknown` by resource address.
    unknown: BTreeMap<String, &'a Node>,
    /// The configuration's `expressions` of each resource, by module path without
    /// instance keys (`module.a.module.b.`) and resource (`aws_x.y`, `data.aws_x.y`);
    /// `None` for a resource configured with no argument.
    configured: BTreeMap<(String, String), Option<&'a Node>>,
}

/// Collects the configured resources of a module of the plan's `configuration`.
fn configuration<'a>(
    m: &'a Node,
    prefix: String,
    out: &mut BTreeMap<(String, String), Option<&'a Node>>,
    depth: usize,
) {
    for r in m.get("resources").map(Node::items).unwrap_or_default() {
        if let Some(address) = r.get("address").and_then(Node::as_str) {
            out.insert((prefix.clone(), address.to_string()), r.get("expressions"));
        }
    }
    if depth < 32 {
        for call in m.get("module_calls").map(Node::entries).unwrap_or_default() {
            if let Some(child) = call.value.get("module") {
                configuration(
                    child,
                    format!("{prefix}module.{}.", call.key),
                    out,
                    depth + 1,
                );
            }
        }
    }
}

/// A module address without its instance keys: `module.a["x"].module.b[0]` →
/// `module.a.module.b.` (with the trailing dot, empty for the root module).
fn module_path(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for c in address.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if !out.is_empty() {
        out.push('.');
    }
    out
}

/// Removes the values of `path` (an argument, dotted through nested blocks) that the
/// plan marks unknown although the configuration does not set them: the provider
/// computed them, and its default applies.
fn unset_if_unconfigured(values: &mut Node, expressions: Option<&Node>, path: &[&str]) {
    let Value::Map(entries) = &mut values.value else {
        return;
    };
    let configured = expressions.and_then(|e| e.get(path[0]));
    match path {
        [] => {}
        [leaf] => {
            if configured.is_none() {
                entries.retain(|e| !(e.key == *leaf && e.value.is_unknown()));
            }
        }
        [block, rest @ ..] => {
            let Some(e) = entries.iter_mut().find(|e| e.key == *block) else {
                return;
            };
            let inner = configured.and_then(|c| c.items().first().or(c.is_map().then_some(c)));
            match &mut e.value.value {
                Value::Seq(items) => {
                    for item in items {
                        unset_if_unconfigured(item, inner, rest);
                    }
                }
                Value::Map(_) => unset_if_unconfigured(&mut e.value, inner, rest),
                _ => {}
            }
        }
    }
}

fn module(m: &Node, plan: &Plan, facts: &mut Facts, depth: usize) {
    let file = plan.file;
    let path = module_path(m.get("address").and_then(Node::as_str).unwrap_or(""));
    for r in m.get("resources").map(Node::items).unwrap_or_default() {
        let (Some(address), Some(rtype)) = (
            r.get("address").and_then(Node::as_str),
            r.get("type").and_then(Node::as_str),
        ) else {
            continue;
        };
        let data = r.get("mode").and_then(Node::as_str) == Some("data");
        if !resources::handles(rtype, data) {
            continue;
        }
        let Some(values) = r.get("values") else {
            continue;
        };
        let mut values = values.clone();
        if let Some(marks) = plan.unknown.get(address) {
            mark_unknown(&mut values, marks);
        }
        let name = r.get("name").and_then(Node::as_str).unwrap_or("");
        let key = if data {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        if let Some(expressions) = plan.configured.get(&(path.clone(), key)) {
            let resource = if data {
                format!("data.{rtype}")
            } else {
                rtype.to_string()
            };
            for d in provider_defaults::all()
                .iter()
                .filter(|d| d.resource == resource)
            {
                let attribute: Vec<&str> = d.attribute.split('.').collect();
                unset_if_unconfigured(&mut values, *expressions, &attribute);
            }
        }
        if data && rtype == "aws_iam_policy_document" {
            values = rendered(values, file);
        }
        let ctx = resources::Ctx {
            rtype,
            address,
            file,
        };
        resources::extract(&ctx, &values, facts);
    }
    if depth < 32 {
        for child in m.get("child_modules").map(Node::items).unwrap_or_default() {
            module(child, plan, facts, depth + 1);
        }
    }
}

/// Replaces the values `after_unknown` marks `true` by unknown (the plan writes them as
/// `null` or leaves them out).
fn mark_unknown(values: &mut Node, marks: &Node) {
    match (&mut values.value, &marks.value) {
        (_, Value::Bool(true)) => values.value = Value::Unknown,
        (Value::Map(entries), Value::Map(mark_entries)) => {
            for m in mark_entries {
                match entries.iter_mut().find(|e| e.key == m.key) {
                    Some(e) => mark_unknown(&mut e.value, &m.value),
                    None if m.value.as_bool() == Some(true) => entries.push(crate::parse::Entry {
                        key: m.key.clone(),
                        key_pos: values.pos,
                        value: Node::new(values.pos, Value::Unknown),
                    }),
                    None => {}
                }
            }
        }
        (Value::Seq(items), Value::Seq(mark_items)) => {
            for (item, m) in items.iter_mut().zip(mark_items) {
                mark_unknown(item, m);
            }
        }
        _ => {}
    }
}

/// A policy document data source whose `json` the plan does not know yet (read at
/// apply) is rendered from its `statement` blocks, as the provider will.
fn rendered(values: Node, file: &str) -> Node {
    let known = values
        .get("json")
        .is_some_and(|j| matches!(j.value, Value::Str(_)));
    if known {
        return values;
    }
    let fid = file_id(file);
    let pos = values.pos;
    let v = V::from_node(&values, fid, 0);
    policy_document::render(v, fid).to_node(fid, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_iam_policy.app", "mode": "managed", "type": "aws_iam_policy",
       "values": {"name": "app", "policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"}]}"}},
      {"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document",
       "values": {"json": null, "statement": [{"actions": ["dynamodb:DeleteItem"], "resources": [null], "effect": null}]}}
    ],
    "child_modules": [{"address": "module.nodes", "resources": [
      {"address": "module.nodes.aws_launch_template.lt", "mode": "managed", "type": "aws_launch_template",
       "values": {"metadata_options": [{"http_tokens": null, "http_put_response_hop_limit": 2, "http_endpoint": "enabled"}]}}
    ]}]
  }},
  "resource_changes": [
    {"address": "data.aws_iam_policy_document.d", "change": {"actions": ["read"], "after_unknown": {"json": true, "statement": [{"resources": [true]}]}}},
    {"address": "module.nodes.aws_launch_template.lt", "change": {"actions": ["create"], "after_unknown": {"metadata_options": [{"http_tokens": true}]}}}
  ]
}"#;

    fn facts() -> Facts {
        let doc = json::parse(PLAN).unwrap();
        assert!(is_plan(&doc));
        let mut facts = Facts::default();
        extract(&doc, "plan.json", &mut facts);
        facts
    }

    #[test]
    fn resources_of_every_module_by_address() {
        let f = facts();
        let holders: Vec<_> = f
            .iam_statements
            .iter()
            .map(|s| s.resource.as_str())
            .collect();
        assert_eq!(
            holders,
            ["aws_iam_policy.app", "data.aws_iam_policy_document.d"]
        );
        assert!(f.iam_statements[0].dynamodb.all_actions);
        assert_eq!(
            f.instances[0].resource,
            "module.nodes.aws_launch_template.lt"
        );
    }

    /// `network_mode` is computed by the provider: unset, the plan shows it unknown. The
    /// configuration says it is not set, so the default (`bridge`) applies; set from a
    /// variable known only at apply, it stays unknown.
    #[test]
    fn computed_arguments_the_configuration_leaves_out_take_the_default() {
        let plan = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"child_modules": [{"address": "module.svc[\"web\"]", "resources": [
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.unset", "mode": "managed", "type": "aws_ecs_task_definition", "name": "unset",
     "values": {"family": "a", "network_mode": null, "container_definitions": "[]"}},
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.from_var", "mode": "managed", "type": "aws_ecs_task_definition", "name": "from_var",
     "values": {"family": "b", "network_mode": null, "container_definitions": "[]"}}
  ]}]}},
  "resource_changes": [
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.unset", "change": {"actions": ["create"], "after_unknown": {"network_mode": true}}},
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.from_var", "change": {"actions": ["create"], "after_unknown": {"network_mode": true}}}
  ],
  "configuration": {"root_module": {"module_calls": {"svc": {"module": {"resources": [
    {"address": "aws_ecs_task_definition.unset", "mode": "managed", "type": "aws_ecs_task_definition", "name": "unset",
     "expressions": {"family": {"constant_value": "a"}}},
    {"address": "aws_ecs_task_definition.from_var", "mode": "managed", "type": "aws_ecs_task_definition", "name": "from_var",
     "expressions": {"network_mode": {"references": ["var.mode"]}}}
  ]}}}}}
}"#;
        let doc = json::parse(plan).unwrap();
        let mut facts = Facts::default();
        extract(&doc, "plan.json", &mut facts);
        let w = |name: &str| facts.workloads.iter().find(|w| w.name == name).unwrap();
        assert_eq!(w("a").network_mode.as_deref(), Some("bridge"));
        assert!(w("a").unknown.is_empty(), "{:?}", w("a").unknown);
        assert_eq!(w("b").network_mode, None);
        assert_eq!(w("b").unknown.get("host_network"), Some(&true));
        assert_eq!(
            module_path("module.a[\"x]y\"].module.b[0]"),
            "module.a.module.b."
        );
        assert_eq!(module_path(""), "");
    }

    #[test]
    fn after_unknown_values_are_unknown_not_absent() {
        let f = facts();
        let lt = &f.instances[0];
        assert_eq!(
            lt.imdsv1_allowed,
            crate::facts::Tri::Unknown,
            "http_tokens is known after apply"
        );
        assert_eq!(lt.hop_limit_above_one, crate::facts::Tri::Yes);
        // The document is rendered from its statements; its resource is unknown, which
        // may name a table.
        let d = &f.iam_statements[1];
        assert_eq!(d.dynamodb.actions, ["DeleteItem"]);
    }
}
