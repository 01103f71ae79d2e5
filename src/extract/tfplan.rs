//! `terraform show -json` plans → facts, through the same resource extractors as HCL.
//!
//! A plan's `planned_values` hold every resource as it will be after apply, by address,
//! with nested blocks as lists of objects: the shape the Terraform extractors read.
//! Values known only after apply are `null` there and marked in the resource change's
//! `after_unknown`; they become unknown, not absent. Resources the plan deletes are not
//! in `planned_values`, so only the risk the plan introduces or keeps is reported.

use super::terraform::{file_id, policy_document, resources};
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
    // A plan's resources, or a shown state's.
    let root = doc
        .path(&["planned_values", "root_module"])
        .or_else(|| doc.path(&["values", "root_module"]));
    if let Some(root) = root {
        module(root, file, &unknown, facts, 0);
    }
    // Which role a node group uses, and the like: from the configuration's references.
    super::terraform::refs::plan_refs(doc, facts);
}

fn module(
    m: &Node,
    file: &str,
    unknown: &BTreeMap<String, &Node>,
    facts: &mut Facts,
    depth: usize,
) {
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
        if let Some(marks) = unknown.get(address) {
            mark_unknown(&mut values, marks);
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
            module(child, file, unknown, facts, depth + 1);
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
