//! `data "aws_iam_policy_document"` rendered to policy JSON, as the AWS provider does,
//! so `.json` references resolve and IAM findings point at the data source's lines.
//!
//! Statements come from `source_policy_documents` first, then the data source's own
//! `statement` blocks (a `sid` already present is replaced), then
//! `override_policy_documents` (same `sid` replaced, others appended).

use super::provider_defaults;
use crate::parse::hcl::value::{FileId, Val, V};
use crate::parse::Pos;
use std::collections::BTreeMap;

/// Adds the `json` attribute to a policy document's evaluated attributes.
pub fn render(attrs: V, file: FileId) -> V {
    let Val::Map(map) = &attrs.val else {
        return attrs;
    };
    let pos = attrs.pos;
    let mut statements: Vec<V> = Vec::new();
    let mut unknown = false;
    let mut merge_docs = |key: &str, statements: &mut Vec<V>| {
        let Some((_, list)) = map.get(key) else {
            return;
        };
        match &list.val {
            Val::List(docs) => {
                for d in docs {
                    match document_statements(d) {
                        Some(st) => merge(statements, st),
                        None => unknown = true,
                    }
                }
            }
            Val::Null => {}
            _ => unknown = true,
        }
    };
    merge_docs("source_policy_documents", &mut statements);
    let own: Vec<V> = match map.get("statement").map(|(_, v)| v) {
        Some(V {
            val: Val::List(blocks),
            ..
        }) => blocks.iter().map(|b| statement(b, file)).collect(),
        // `.tf.json` may write a single block as an object.
        Some(
            one @ V {
                val: Val::Map(_), ..
            },
        ) => vec![statement(one, file)],
        _ => Vec::new(),
    };
    merge(&mut statements, own);
    merge_docs("override_policy_documents", &mut statements);

    let mut doc = BTreeMap::new();
    let version = map
        .get("version")
        .map(|(p, v)| (*p, v.clone()))
        .unwrap_or((pos, V::new(pos, file, Val::Str("2012-10-17".into()))));
    doc.insert("Version".to_string(), version);
    if let Some((p, id)) = map.get("policy_id") {
        doc.insert("Id".to_string(), (*p, id.clone()));
    }
    let statement_pos = map.get("statement").map_or(pos, |(p, _)| *p);
    doc.insert(
        "Statement".to_string(),
        (
            statement_pos,
            V::new(statement_pos, file, Val::List(statements)),
        ),
    );
    let doc = V::new(pos, file, Val::Map(doc));
    let json = if unknown {
        V::new(pos, file, Val::Unknown)
    } else {
        crate::parse::hcl::funcs::call("jsonencode", &[doc], pos, file)
            .unwrap_or_else(|_| V::new(pos, file, Val::Unknown))
    };
    let mut out = map.clone();
    out.insert("json".to_string(), (pos, json.clone()));
    out.insert("minified_json".to_string(), (pos, json));
    V::new(pos, file, Val::Map(out))
}

/// The statements of a policy given as JSON text (or an encoded document).
fn document_statements(d: &V) -> Option<Vec<V>> {
    let doc = match &d.val {
        Val::Encoded(_, doc) => (**doc).clone(),
        Val::Str(s) => {
            let node = crate::parse::json::parse(s).ok()?;
            let mut v = V::from_node(&node, d.file, 0);
            relocate(&mut v, d.pos);
            v
        }
        _ => return None,
    };
    let Val::Map(m) = &doc.val else { return None };
    match m.get("Statement").map(|(_, v)| v) {
        Some(V {
            val: Val::List(items),
            ..
        }) => Some(items.clone()),
        Some(
            one @ V {
                val: Val::Map(_), ..
            },
        ) => Some(vec![one.clone()]),
        _ => Some(Vec::new()),
    }
}

fn relocate(v: &mut V, pos: Pos) {
    v.pos = pos;
    match &mut v.val {
        Val::List(items) => items.iter_mut().for_each(|i| relocate(i, pos)),
        Val::Map(m) => m.values_mut().for_each(|(kp, i)| {
            *kp = pos;
            relocate(i, pos);
        }),
        _ => {}
    }
}

fn sid(v: &V) -> Option<String> {
    match &v.val {
        Val::Map(m) => m
            .get("Sid")
            .and_then(|(_, s)| s.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// Adds `new` statements: one with the `sid` of an existing statement replaces it,
/// others are appended (the provider's rule for its own statements and for overrides).
fn merge(into: &mut Vec<V>, new: Vec<V>) {
    for st in new {
        match sid(&st).and_then(|s| into.iter().position(|e| sid(e).as_deref() == Some(&s))) {
            Some(i) => into[i] = st,
            None => into.push(st),
        }
    }
}

/// A `statement` block → a policy statement, each key at its attribute's position, as
/// the provider renders it: null and empty arguments are left out (no `NotAction` for
/// `not_actions = []`), an absent or null `effect` is the provider's default (`Allow`),
/// an unknown one stays unknown.
fn statement(block: &V, file: FileId) -> V {
    let Val::Map(b) = &block.val else {
        return block.clone();
    };
    // Set and not empty: what the provider writes into the document.
    let given = |key: &str| {
        b.get(key).filter(|(_, v)| match &v.val {
            Val::Null => false,
            Val::List(items) => !items.is_empty(),
            _ => true,
        })
    };
    let mut st = BTreeMap::new();
    for (from, to) in [
        ("sid", "Sid"),
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some((p, v)) = given(from) {
            st.insert(to.to_string(), (*p, v.clone()));
        }
    }
    let effect = given("effect").map(|(p, v)| (*p, v.clone())).or_else(|| {
        let default = provider_defaults::text(
            "data.aws_iam_policy_document",
            "statement.effect",
            &crate::parse::Node::new(block.pos, crate::parse::Value::Null),
        )?;
        Some((block.pos, V::new(block.pos, file, Val::Str(default))))
    });
    if let Some(effect) = effect {
        st.insert("Effect".to_string(), effect);
    }
    for (block_key, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        if let Some((p, list)) = given(block_key) {
            st.insert(key.to_string(), (*p, principals(list, *p, file)));
        }
    }
    if let Some((p, list)) = given("condition") {
        st.insert("Condition".to_string(), (*p, conditions(list, *p, file)));
    }
    V::new(block.pos, file, Val::Map(st))
}

/// `principals { type = "AWS", identifiers = [...] }` blocks → `{"AWS": [...]}`;
/// type `*` with identifiers `["*"]` → `"*"`.
fn principals(list: &V, pos: Pos, file: FileId) -> V {
    let Val::List(blocks) = &list.val else {
        return V::new(pos, file, Val::Unknown);
    };
    let mut by_type: BTreeMap<String, (Pos, V)> = BTreeMap::new();
    for b in blocks {
        let Val::Map(m) = &b.val else { continue };
        let Some(kind) = m.get("type").and_then(|(_, t)| t.as_str()) else {
            return V::new(pos, file, Val::Unknown);
        };
        let Some((ipos, ids)) = m.get("identifiers") else {
            continue;
        };
        if kind == "*" {
            return V::new(*ipos, ids.file, Val::Str("*".into()));
        }
        let entry = by_type
            .entry(kind.to_string())
            .or_insert_with(|| (*ipos, V::new(*ipos, ids.file, Val::List(Vec::new()))));
        if let (Val::List(all), Val::List(new)) = (&mut entry.1.val, &ids.val) {
            all.extend(new.iter().cloned());
        }
    }
    V::new(pos, file, Val::Map(by_type))
}

/// `condition { test, variable, values }` blocks → `{test: {variable: values}}`.
fn conditions(list: &V, pos: Pos, file: FileId) -> V {
    let Val::List(blocks) = &list.val else {
        return V::new(pos, file, Val::Unknown);
    };
    let mut out: BTreeMap<String, (Pos, V)> = BTreeMap::new();
    for b in blocks {
        let Val::Map(m) = &b.val else { continue };
        let (Some(test), Some(variable)) = (
            m.get("test").and_then(|(_, t)| t.as_str()),
            m.get("variable").and_then(|(_, v)| v.as_str()),
        ) else {
            continue;
        };
        let values = m
            .get("values")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| V::new(b.pos, file, Val::List(Vec::new())));
        let entry = out
            .entry(test.to_string())
            .or_insert_with(|| (b.pos, V::new(b.pos, file, Val::Map(BTreeMap::new()))));
        if let Val::Map(vars) = &mut entry.1.val {
            vars.insert(variable.to_string(), (b.pos, values));
        }
    }
    V::new(pos, file, Val::Map(out))
}
