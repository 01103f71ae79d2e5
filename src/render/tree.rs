//! Small edits on [`Node`] trees, for renderers that change documents in place.

use crate::parse::{Entry, Node, Pos, Value};

/// The value of `key` in a mapping, to change.
pub fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// Sets `key` to `value` in a mapping: an existing key keeps its place (and its own
/// position, unless `key_pos` is given); a new key is appended at `key_pos` (or at the
/// value's position). Does nothing to a node that is not a mapping.
pub fn set(node: &mut Node, key: &str, key_pos: Option<Pos>, value: Node) {
    let Value::Map(entries) = &mut node.value else {
        return;
    };
    if let Some(e) = entries.iter_mut().rev().find(|e| e.key == key) {
        if let Some(p) = key_pos {
            e.key_pos = p;
        }
        e.value = value;
        return;
    }
    entries.push(Entry {
        key: key.to_string(),
        key_pos: key_pos.unwrap_or(value.pos),
        value,
    });
}

/// Removes `key` from a mapping; returns whether it was there.
pub fn remove(node: &mut Node, key: &str) -> bool {
    let Value::Map(entries) = &mut node.value else {
        return false;
    };
    let before = entries.len();
    entries.retain(|e| e.key != key);
    entries.len() != before
}

/// The mapping under `key`, created empty at `pos` when missing or null. `None` when
/// `node` is not a mapping or the key holds something else.
pub fn map_mut<'a>(node: &'a mut Node, key: &str, pos: Pos) -> Option<&'a mut Node> {
    if !node.is_map() {
        return None;
    }
    let missing = match node.get(key) {
        None => true,
        Some(n) => matches!(n.value, Value::Null),
    };
    if missing {
        set(node, key, Some(pos), Node::new(pos, Value::Map(Vec::new())));
    }
    get_mut(node, key).filter(|n| n.is_map())
}

/// A string node.
pub fn string(pos: Pos, text: &str) -> Node {
    Node::new(pos, Value::Str(text.to_string()))
}

/// A scalar as text, as Kubernetes reads a name or a label (`yes` stays `true`).
pub fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::scalar_text)
}

/// The string at a chain of keys.
pub fn text_at(node: &Node, keys: &[&str]) -> Option<String> {
    text(node.path(keys))
}

/// The node at a chain of keys, to change.
pub fn path_mut<'a>(node: &'a mut Node, keys: &[&str]) -> Option<&'a mut Node> {
    keys.iter().try_fold(node, |n, k| get_mut(n, k))
}

/// The value as plain JSON (positions dropped; unknown values as null).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for e in entries {
                m.insert(e.key.clone(), to_json(&e.value));
            }
            J::Object(m)
        }
    }
}
