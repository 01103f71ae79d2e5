//! Patches: Kubernetes strategic merge (`patchesStrategicMerge`, `patches` with an
//! object) and JSON 6902 (`patchesJson6902`, `patches` with a list of operations).
//!
//! Every value a patch sets keeps the patch's position (and file), so a finding on it
//! points at the patch line; what the patch leaves alone keeps the base's.

use super::super::tree;
use crate::parse::{Node, Pos, Value};

/// What a strategic merge patch does to the object it targets.
pub enum Merged {
    /// The object, patched.
    Kept,
    /// `$patch: delete` at the top: the object is removed.
    Deleted,
}

/// List fields of built-in Kubernetes objects that merge by a key (their
/// `x-kubernetes-patch-merge-key`), by field name.
const MERGE_KEYS: &[(&str, &[&str])] = &[
    ("containers", &["name"]),
    ("initContainers", &["name"]),
    ("ephemeralContainers", &["name"]),
    ("volumes", &["name"]),
    ("volumeMounts", &["mountPath"]),
    ("volumeDevices", &["devicePath"]),
    ("env", &["name"]),
    ("imagePullSecrets", &["name"]),
    ("hostAliases", &["ip"]),
    (
        "topologySpreadConstraints",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    ("resourceClaims", &["name"]),
    ("schedulingGates", &["name"]),
    ("readinessGates", &["conditionType"]),
    ("secrets", &["name"]),
    ("conditions", &["type"]),
];

/// Applies a strategic merge patch to `target`. `builtin`: the object is a built-in
/// Kubernetes kind, whose lists merge only where Kubernetes says; other kinds merge
/// lists of named items by `name`, as Kustomize infers.
pub fn strategic(target: &mut Node, patch: &Node, builtin: bool) -> Merged {
    if directive(patch) == Some("delete") {
        return Merged::Deleted;
    }
    merge_map(target, patch, builtin, None);
    Merged::Kept
}

/// The `$patch` directive of a mapping.
fn directive(n: &Node) -> Option<&str> {
    n.get("$patch").and_then(Node::as_str)
}

/// A patch mapping without its directives (`$patch`, `$retainKeys`,
/// `$setElementOrder/…`, `$deleteFromPrimitiveList/…`).
fn without_directives(n: &Node) -> Node {
    let value = match &n.value {
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .filter(|e| !e.key.starts_with('$'))
                .map(|e| crate::parse::Entry {
                    key: e.key.clone(),
                    key_pos: e.key_pos,
                    value: without_directives(&e.value),
                })
                .collect(),
        ),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .filter(|i| directive(i).is_none() || i.entries().len() > 1)
                .map(without_directives)
                .collect(),
        ),
        other => other.clone(),
    };
    Node::new(n.pos, value)
}

fn merge_map(target: &mut Node, patch: &Node, builtin: bool, _field: Option<&str>) {
    if directive(patch) == Some("replace") || !target.is_map() {
        *target = without_directives(patch);
        return;
    }
    for e in patch.entries() {
        if let Some(list) = e.key.strip_prefix("$deleteFromPrimitiveList/") {
            if let Some(Value::Seq(items)) = tree::get_mut(target, list).map(|n| &mut n.value) {
                let gone: Vec<Option<String>> =
                    e.value.items().iter().map(Node::scalar_text).collect();
                items.retain(|i| !gone.contains(&i.scalar_text()));
            }
            continue;
        }
        if e.key.starts_with('$') {
            continue;
        }
        if matches!(e.value.value, Value::Null) {
            tree::remove(target, &e.key);
            continue;
        }
        let existing = tree::get_mut(target, &e.key);
        match (existing, &e.value.value) {
            (Some(t), Value::Map(_)) if t.is_map() => {
                if directive(&e.value) == Some("delete") {
                    tree::remove(target, &e.key);
                } else {
                    merge_map(t, &e.value, builtin, Some(&e.key));
                }
            }
            (Some(t), Value::Seq(_)) if matches!(t.value, Value::Seq(_)) => {
                merge_list(t, &e.value, &e.key, builtin);
            }
            _ => {
                if directive(&e.value) == Some("delete") {
                    tree::remove(target, &e.key);
                } else {
                    tree::set(
                        target,
                        &e.key,
                        Some(e.key_pos),
                        without_directives(&e.value),
                    );
                }
            }
        }
    }
}

/// The keys a list's items merge by, if it merges.
fn merge_keys(field: &str, target: &Node, patch: &Node, builtin: bool) -> Option<Vec<String>> {
    if let Some((_, keys)) = MERGE_KEYS.iter().find(|(f, _)| *f == field) {
        return Some(keys.iter().map(|k| k.to_string()).collect());
    }
    if builtin {
        return None;
    }
    // Kustomize infers `name` for lists of objects whose items all have one.
    let named = |n: &Node| {
        let items = n.items();
        !items.is_empty() && items.iter().all(|i| i.get("name").is_some())
    };
    (named(target) || named(patch)).then(|| vec!["name".to_string()])
}

fn merge_list(target: &mut Node, patch: &Node, field: &str, builtin: bool) {
    // A list-level `$patch: replace` item replaces the whole list.
    if patch
        .items()
        .iter()
        .any(|i| directive(i) == Some("replace") && i.entries().len() == 1)
    {
        *target = without_directives(patch);
        return;
    }
    let Some(keys) = merge_keys(field, target, patch, builtin) else {
        *target = without_directives(patch);
        return;
    };
    let key_of = |n: &Node| -> Option<Vec<Option<String>>> {
        if !n.is_map() {
            return None;
        }
        let k: Vec<Option<String>> = keys
            .iter()
            .map(|k| n.get(k).and_then(Node::scalar_text))
            .collect();
        k.iter().any(Option::is_some).then_some(k)
    };
    let Value::Seq(items) = &mut target.value else {
        return;
    };
    // As Kustomize orders a merged list: the patch's items first, in its order (merged
    // with the target's item of the same key), then the target's other items.
    let mut rest: Vec<Option<Node>> = std::mem::take(items).into_iter().map(Some).collect();
    let mut out: Vec<Node> = Vec::with_capacity(rest.len() + patch.items().len());
    for p in patch.items() {
        let Some(k) = key_of(p) else {
            // An item without its key: added as it is.
            out.push(without_directives(p));
            continue;
        };
        let at = rest
            .iter()
            .position(|i| i.as_ref().is_some_and(|i| key_of(i).as_ref() == Some(&k)));
        match (at, directive(p)) {
            (Some(i), Some("delete")) => rest[i] = None,
            (None, Some("delete")) => {}
            (Some(i), Some("replace")) => {
                rest[i] = None;
                out.push(without_directives(p));
            }
            (Some(i), _) => {
                let mut item = rest[i].take().expect("found above");
                merge_map(&mut item, p, builtin, Some(field));
                out.push(item);
            }
            (None, _) => out.push(without_directives(p)),
        }
    }
    out.extend(rest.into_iter().flatten());
    *items = out;
}

/// Why a JSON patch operation could not be applied.
pub struct PatchError {
    /// Where the operation is written.
    pub pos: Pos,
    /// What went wrong.
    pub message: String,
}

/// Applies JSON 6902 operations (`op`, `path`, `value`, `from`) to `target` in order.
pub fn json6902(target: &mut Node, ops: &Node) -> Result<(), PatchError> {
    for op in ops.items() {
        let pos = op.pos;
        let fail = |message: String| PatchError { pos, message };
        let name = op.get("op").and_then(Node::as_str).unwrap_or_default();
        let path = op.get("path").and_then(Node::as_str).unwrap_or_default();
        let pointer =
            parse_pointer(path).ok_or_else(|| fail(format!("invalid JSON pointer `{path}`")))?;
        match name {
            "add" | "replace" => {
                let value = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| fail(format!("`{name}` needs a value")))?;
                let key_pos = op.entry("value").map(|e| e.key_pos).unwrap_or(pos);
                put(target, &pointer, value, key_pos, name == "add")
                    .map_err(|m| fail(format!("{name} {path}: {m}")))?;
            }
            "remove" => {
                take(target, &pointer).map_err(|m| fail(format!("remove {path}: {m}")))?;
            }
            "move" | "copy" => {
                let from = op.get("from").and_then(Node::as_str).unwrap_or_default();
                let from_ptr = parse_pointer(from)
                    .ok_or_else(|| fail(format!("invalid JSON pointer `{from}`")))?;
                let value = if name == "move" {
                    take(target, &from_ptr)
                } else {
                    lookup(target, &from_ptr)
                        .cloned()
                        .ok_or_else(|| "no such path".to_string())
                }
                .map_err(|m| fail(format!("{name} from {from}: {m}")))?;
                put(target, &pointer, value, pos, true)
                    .map_err(|m| fail(format!("{name} {path}: {m}")))?;
            }
            "test" => {
                let want = op.get("value").map(tree::to_json);
                let got = lookup(target, &pointer).map(tree::to_json);
                if want != got {
                    return Err(fail(format!("test {path}: the value differs")));
                }
            }
            other => return Err(fail(format!("unknown operation `{other}`"))),
        }
    }
    Ok(())
}

/// An RFC 6901 pointer as its reference tokens.
fn parse_pointer(p: &str) -> Option<Vec<String>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    let rest = p.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

fn lookup<'a>(node: &'a Node, pointer: &[String]) -> Option<&'a Node> {
    pointer.iter().try_fold(node, |n, t| match &n.value {
        Value::Map(_) => n.get(t),
        Value::Seq(items) => t.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn lookup_mut<'a>(node: &'a mut Node, pointer: &[String]) -> Option<&'a mut Node> {
    let mut cur = node;
    for t in pointer {
        cur = match &mut cur.value {
            Value::Map(entries) => &mut entries.iter_mut().rev().find(|e| &e.key == t)?.value,
            Value::Seq(items) => items.get_mut(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Adds or replaces the value at `pointer`.
fn put(
    target: &mut Node,
    pointer: &[String],
    value: Node,
    key_pos: Pos,
    add: bool,
) -> Result<(), String> {
    let Some((last, parent_ptr)) = pointer.split_last() else {
        *target = value;
        return Ok(());
    };
    let parent = lookup_mut(target, parent_ptr).ok_or("no such path")?;
    match &mut parent.value {
        Value::Map(_) => {
            if !add && parent.get(last).is_none() {
                return Err("no such path".into());
            }
            tree::set(parent, last, Some(key_pos), value);
            Ok(())
        }
        Value::Seq(items) => {
            let i = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("`{last}` is not a list index"))?
            };
            if add {
                if i > items.len() {
                    return Err("index out of range".into());
                }
                items.insert(i, value);
            } else {
                *items.get_mut(i).ok_or("index out of range")? = value;
            }
            Ok(())
        }
        _ => Err("the parent is not an object or a list".into()),
    }
}

/// Removes the value at `pointer` and returns it.
fn take(target: &mut Node, pointer: &[String]) -> Result<Node, String> {
    let (last, parent_ptr) = pointer
        .split_last()
        .ok_or("cannot remove the whole object")?;
    let parent = lookup_mut(target, parent_ptr).ok_or("no such path")?;
    match &mut parent.value {
        Value::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| &e.key == last)
                .ok_or("no such path")?;
            Ok(entries.remove(i).value)
        }
        Value::Seq(items) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            if i >= items.len() {
                return Err("index out of range".into());
            }
            Ok(items.remove(i))
        }
        _ => Err("no such path".into()),
    }
}
