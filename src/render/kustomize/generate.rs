//! `configMapGenerator` and `secretGenerator`: the ConfigMaps and Secrets Kustomize
//! generates, named with the content hash Kustomize appends (so the names that pods
//! refer to match what `kubectl kustomize` prints).
//!
//! A Secret's values are read only to compute that hash: the rendered Secret holds
//! empty strings in their place, so no secret value reaches a fact or a report.

use super::super::tree;
use crate::parse::{Entry, Node, Pos, Value};
use base64::Engine;
use sha2::Digest;

/// One generated object and how it joins the objects already built.
pub struct Generated {
    /// The object.
    pub obj: Node,
    /// `create` (default), `merge` or `replace`.
    pub behavior: String,
    /// Its name gets Kustomize's content hash.
    pub hash: bool,
}

/// What a generator reads: files relative to the kustomization, inside the scan.
pub trait Sources {
    /// The text of a file the generator names, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// Generates the objects of one `configMapGenerator` or `secretGenerator` item.
/// `secret`: a Secret (values base64-encoded, then blanked); `options`: the
/// kustomization's `generatorOptions`.
pub fn generate(
    item: &Node,
    secret: bool,
    options: Option<&Node>,
    sources: &dyn Sources,
) -> Result<Generated, (Pos, String)> {
    let pos = item.pos;
    let name = tree::text(item.get("name")).ok_or((pos, "a generator needs a name".to_string()))?;
    let mut pairs: Vec<(String, String, Pos)> = Vec::new();
    for lit in item.get("literals").map(Node::items).unwrap_or_default() {
        let text = lit.scalar_text().unwrap_or_default();
        let (k, v) = text.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or((
            lit.pos,
            format!("invalid literal `{text}`, expected KEY=VALUE"),
        ))?;
        pairs.push((k.to_string(), remove_quotes(v).to_string(), lit.pos));
    }
    let envs = item
        .get("envs")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .chain(item.get("env").filter(|e| e.as_str().is_some()));
    for env in envs {
        let path = env.scalar_text().unwrap_or_default();
        let text = sources.read(&path).map_err(|m| (env.pos, m))?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            pairs.push((k.to_string(), v.to_string(), env.pos));
        }
    }
    for file in item.get("files").map(Node::items).unwrap_or_default() {
        let spec = file.scalar_text().unwrap_or_default();
        let (key, path) = match spec.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => (
                std::path::Path::new(&spec)
                    .file_name()
                    .map_or(spec.clone(), |f| f.to_string_lossy().into_owned()),
                spec.clone(),
            ),
        };
        let text = sources.read(&path).map_err(|m| (file.pos, m))?;
        pairs.push((key, text, file.pos));
    }
    let opt = |key: &str| {
        item.path(&["options", key])
            .or_else(|| options.and_then(|o| o.get(key)))
    };
    let kind = if secret { "Secret" } else { "ConfigMap" };
    let mut meta = vec![entry("name", pos, tree::string(pos, &name))];
    if let Some(ns) = item.get("namespace") {
        meta.push(entry("namespace", ns.pos, ns.clone()));
    }
    for (key, field) in [("labels", "labels"), ("annotations", "annotations")] {
        // Per-item options win over `generatorOptions`, key by key.
        let mut merged: Vec<Entry> = Vec::new();
        for src in [
            options.and_then(|o| o.get(key)),
            item.path(&["options", key]),
        ]
        .into_iter()
        .flatten()
        {
            for e in src.entries() {
                merged.retain(|m| m.key != e.key);
                merged.push(e.clone());
            }
        }
        if !merged.is_empty() {
            meta.push(entry(field, pos, Node::new(pos, Value::Map(merged))));
        }
    }
    let data: Vec<Entry> = pairs
        .iter()
        .map(|(k, v, p)| {
            let value = if secret {
                base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
            } else {
                v.clone()
            };
            entry(k, *p, tree::string(*p, &value))
        })
        .collect();
    let mut fields = vec![
        entry("apiVersion", pos, tree::string(pos, "v1")),
        entry("kind", pos, tree::string(pos, kind)),
        entry("metadata", pos, Node::new(pos, Value::Map(meta))),
    ];
    if secret {
        let t = tree::text(item.get("type")).unwrap_or_else(|| "Opaque".into());
        fields.push(entry("type", pos, tree::string(pos, &t)));
    }
    if !data.is_empty() {
        fields.push(entry("data", pos, Node::new(pos, Value::Map(data))));
    }
    if opt("immutable").and_then(Node::as_bool) == Some(true) {
        fields.push(entry("immutable", pos, Node::new(pos, Value::Bool(true))));
    }
    let hash = opt("disableNameSuffixHash").and_then(Node::as_bool) != Some(true);
    Ok(Generated {
        obj: Node::new(pos, Value::Map(fields)),
        behavior: tree::text(item.get("behavior")).unwrap_or_else(|| "create".into()),
        hash,
    })
}

fn entry(key: &str, pos: Pos, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        key_pos: pos,
        value,
    }
}

/// `"x"` and `'x'` lose their quotes (Kustomize's literal sources).
fn remove_quotes(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// Kustomize's name suffix for a ConfigMap or Secret: the first ten hex digits of the
/// SHA-256 of its kind, (empty) name and data as Go's `json.Marshal` writes them, with `0`,
/// `1`, `3`, `a` and `e` replaced so that no word forms.
pub fn name_hash(obj: &Node) -> String {
    let kind = tree::text(obj.get("kind")).unwrap_or_default();
    // Kustomize looks the name up as one field called `metadata/name`, which no object
    // has: its hash always sees an empty name.
    let name = String::new();
    let data = |key: &str| obj.get(key).map(tree::to_json);
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), kind.clone().into());
    m.insert("name".into(), name.into());
    m.insert("data".into(), data("data").unwrap_or_else(|| "".into()));
    if kind == "Secret" {
        m.insert(
            "type".into(),
            tree::text(obj.get("type")).map_or_else(|| "".into(), Into::into),
        );
        if let Some(s) = data("stringData").filter(|s| s.is_object()) {
            m.insert("stringData".into(), s);
        }
    } else if let Some(b) = data("binaryData").filter(|b| b.is_object()) {
        m.insert("binaryData".into(), b);
    }
    let text = go_json(&serde_json::Value::Object(m));
    let digest = sha2::Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's `json.Marshal` writes a `map[string]interface{}`: keys sorted, `<`,
/// `>`, `&`, U+2028 and U+2029 escaped.
fn go_json(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", go_string(k), go_json(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        J::Array(items) => format!(
            "[{}]",
            items.iter().map(go_json).collect::<Vec<_>>().join(",")
        ),
        J::String(s) => go_string(s),
        other => other.to_string(),
    }
}

fn go_string(s: &str) -> String {
    let plain = serde_json::to_string(s).unwrap_or_default();
    plain
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A Secret with its values blanked: what the scan keeps.
pub fn blank_secret(obj: &mut Node) {
    for key in ["data", "stringData"] {
        if let Some(Value::Map(entries)) = tree::get_mut(obj, key).map(|n| &mut n.value) {
            for e in entries {
                e.value.value = Value::Str(String::new());
            }
        }
    }
}
