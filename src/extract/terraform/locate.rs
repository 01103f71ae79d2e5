//! Where a plan's resources are declared: the `.tf` block of a resource address, found
//! in the configuration folder the plan was made from, through the module calls of the
//! address (local `source`s, and remote ones `terraform init` installed, listed in
//! `.terraform/modules/modules.json`).
//!
//! A plan's values are read with the positions of the configuration: each attribute at
//! the line that sets it, each nested block at its own line, and what the
//! configuration does not write (a provider default, a value computed at apply) at the
//! resource block. So a plan's findings point at the `.tf` line a reviewer edits, and
//! are the same findings (same file, same fingerprint) as the configuration's.
//!
//! Nothing is evaluated here: blocks are found by their labels, attributes by their
//! names, and the configuration's own errors are the configuration scan's business.

use super::load::{installed_modules, Arena};
use super::refs::without_keys;
use super::Outcome;
use crate::parse::{Node, Pos, Value};
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::Span;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `.tf` files of a plan's configuration, loaded once for all its resources.
pub struct Locator {
    arena: Arena,
    /// The root module, when the folder holds `.tf` files.
    root: Option<usize>,
    /// The folder, as the user gave it.
    dir: PathBuf,
    /// Line starts of each file of each module.
    lines: Vec<Vec<Lines>>,
    /// Resource and data blocks of each module.
    blocks: Vec<Blocks>,
}

/// The resource and data blocks of a module: (data, type, name) → (file, index of the
/// block in its file's body).
type Blocks = HashMap<(bool, String, String), (usize, usize)>;

/// A resource block found for an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    module: usize,
    file: usize,
    block: usize,
}

impl Locator {
    /// Loads the configuration in `dir` (the root module) and the modules it calls. A
    /// module's `source` may lead anywhere in the repository `dir` is in (the nearest
    /// folder above it with a `.git`), or, outside a repository, under the current
    /// folder; never further.
    pub fn new(dir: &Path) -> Locator {
        let bound = bound(dir);
        let mut arena = Arena {
            installed: installed_modules(dir, &bound),
            ..Arena::default()
        };
        let mut ignored = Outcome::default();
        let root = arena.load(dir, "", None, &bound, &mut ignored);
        let lines = arena
            .modules
            .iter()
            .map(|m| m.files.iter().map(|f| Lines::new(f.text.clone())).collect())
            .collect();
        let blocks = arena
            .modules
            .iter()
            .map(|m| {
                let mut out = HashMap::new();
                for (fi, f) in m.files.iter().enumerate() {
                    for (bi, s) in f.body.iter().enumerate() {
                        let Structure::Block(b) = s else { continue };
                        let data = match b.ident.value().as_str() {
                            "resource" => false,
                            "data" => true,
                            _ => continue,
                        };
                        if let (Some(t), Some(n)) = (label(b, 0), label(b, 1)) {
                            // The first declaration wins, as the configuration scan
                            // reports a second one as an error.
                            out.entry((data, t, n)).or_insert((fi, bi));
                        }
                    }
                }
                out
            })
            .collect();
        Locator {
            arena,
            root,
            dir: dir.to_path_buf(),
            lines,
            blocks,
        }
    }

    /// Whether the folder holds a configuration at all.
    pub fn has_configuration(&self) -> bool {
        self.root.is_some()
    }

    /// The folder, as the user gave it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The canonical folder of the root module.
    pub fn root_dir(&self) -> Option<&Path> {
        self.root.map(|r| self.arena.modules[r].dir.as_path())
    }

    /// The block that declares a resource: `calls` are the module call names of its
    /// module (`["nodes"]` for `module.nodes["a"]`), `data` whether it is a data source.
    /// When it cannot be found, why, in words.
    pub fn find(
        &self,
        calls: &[&str],
        data: bool,
        rtype: &str,
        name: &str,
    ) -> Result<Target, String> {
        let Some(mut module) = self.root else {
            return Err(format!(
                "no .tf files in {} (name the configuration's folder with --tf-root DIR)",
                self.dir.display()
            ));
        };
        for (depth, call) in calls.iter().enumerate() {
            match self.arena.calls.get(&(module, call.to_string())) {
                Some(Ok(child)) => module = *child,
                Some(Err(why)) => {
                    let prefix: String = calls[..depth]
                        .iter()
                        .map(|c| format!("module.{c}."))
                        .collect();
                    return Err(format!("{prefix}{why}"));
                }
                None => {
                    let path: Vec<String> = calls[..=depth]
                        .iter()
                        .map(|c| format!("module.{c}"))
                        .collect();
                    return Err(format!(
                        "{}: no such module call in the configuration",
                        path.join(".")
                    ));
                }
            }
        }
        let key = (data, rtype.to_string(), name.to_string());
        match self.blocks[module].get(&key) {
            Some(&(file, block)) => Ok(Target {
                module,
                file,
                block,
            }),
            None => Err(format!(
                "{}{}{rtype}.{name}: not declared in the configuration",
                calls
                    .iter()
                    .map(|c| format!("module.{c}."))
                    .collect::<String>(),
                if data { "data." } else { "" }
            )),
        }
    }

    /// Whether a target lies in a module `terraform init` installed (under
    /// `.terraform/modules`), which the change under review does not edit.
    pub fn installed(&self, t: Target) -> bool {
        let dir = &self.arena.modules[t.module].dir;
        dir.components()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0].as_os_str() == ".terraform" && w[1].as_os_str() == "modules")
    }

    /// Where the root module calls the module `call` (`module "call" {`): its file and
    /// position.
    pub fn call_site(&self, call: &str) -> Option<(String, Pos)> {
        let root = self.root?;
        for (fi, f) in self.arena.modules[root].files.iter().enumerate() {
            for b in super::blocks(&f.body, "module") {
                if label(b, 0).as_deref() == Some(call) {
                    let pos = b
                        .span()
                        .map_or(Pos::new(1, 1), |s| self.lines[root][fi].pos(s.start));
                    let display = f.display.strip_prefix("./").unwrap_or(&f.display);
                    return Some((display.to_string(), pos));
                }
            }
        }
        None
    }

    /// The file a target is in, as the user sees its path (`main.tf`, not `./main.tf`,
    /// for a plan in the current folder).
    pub fn file(&self, t: Target) -> &str {
        let display = &self.arena.modules[t.module].files[t.file].display;
        display.strip_prefix("./").unwrap_or(display)
    }

    /// The position of the block.
    pub fn pos(&self, t: Target) -> Pos {
        let block = self.block(t);
        self.at(t, block.span())
    }

    /// Moves a resource's values (in plan JSON's shape) to the positions of the block
    /// that declares them.
    pub fn relocate(&self, t: Target, values: &mut Node) {
        let block = self.block(t);
        let at = self.at(t, block.span());
        self.body(t, values, &block.body, at);
    }

    fn block(&self, t: Target) -> &Block {
        match self.arena.modules[t.module].files[t.file].body.get(t.block) {
            Some(Structure::Block(b)) => b,
            _ => unreachable!("targets index blocks"),
        }
    }

    fn at(&self, t: Target, span: Option<std::ops::Range<usize>>) -> Pos {
        span.map_or(Pos::new(1, 1), |s| {
            self.lines[t.module][t.file].pos(s.start)
        })
    }

    /// A block's values: attributes at their keys and expressions, nested blocks at
    /// theirs, the rest at `at`.
    fn body(&self, t: Target, node: &mut Node, body: &Body, at: Pos) {
        node.pos = at;
        let Value::Map(entries) = &mut node.value else {
            node.relocate(at);
            return;
        };
        for e in entries {
            if let Some(a) = body.get_attribute(&e.key) {
                e.key_pos = self.at(t, a.key.span());
                self.expression(t, &mut e.value, &a.value);
                continue;
            }
            let written: Vec<&Block> = body.get_blocks(&e.key).collect();
            let dynamic: Vec<&Block> = body
                .get_blocks("dynamic")
                .filter(|b| label(b, 0).as_deref() == Some(e.key.as_str()))
                .collect();
            match (written.first(), dynamic.first()) {
                (None, None) => {
                    e.key_pos = at;
                    e.value.relocate(at);
                }
                (first, dynamic_first) => {
                    let head = first.or(dynamic_first).expect("one of them");
                    let key_pos = self.at(t, head.ident.span());
                    e.key_pos = key_pos;
                    self.blocks_into(t, &mut e.value, &written, dynamic_first.copied(), key_pos);
                }
            }
        }
    }

    /// The items of a nested block list, each at the block it comes from: written
    /// blocks matched to items by the literal values they share (sets of blocks come
    /// back in the provider's order), a `dynamic` block's items at its `content`.
    fn blocks_into(
        &self,
        t: Target,
        node: &mut Node,
        written: &[&Block],
        dynamic: Option<&Block>,
        at: Pos,
    ) {
        node.pos = at;
        let items: &mut [Node] = match &mut node.value {
            Value::Seq(items) => items,
            Value::Map(_) => std::slice::from_mut(node),
            _ => {
                node.relocate(at);
                return;
            }
        };
        let mut used = vec![false; written.len()];
        for item in items.iter_mut() {
            let best = (0..written.len()).filter(|&i| !used[i]).max_by_key(|&i| {
                (
                    shared_literals(item, &written[i].body),
                    std::cmp::Reverse(i),
                )
            });
            match (best, dynamic) {
                (Some(i), None) => {
                    used[i] = true;
                    let pos = self.at(t, written[i].span());
                    self.body(t, item, &written[i].body, pos);
                }
                // Written blocks and a dynamic one: a written block only where its
                // literals say it is the one.
                (Some(i), Some(_)) if shared_literals(item, &written[i].body) > 0 => {
                    used[i] = true;
                    let pos = self.at(t, written[i].span());
                    self.body(t, item, &written[i].body, pos);
                }
                (_, Some(d)) => {
                    let pos = self.at(t, d.span());
                    match d.body.get_blocks("content").next() {
                        Some(content) => self.body(t, item, &content.body, pos),
                        None => item.relocate(pos),
                    }
                }
                (None, None) => item.relocate(at),
            }
        }
    }

    /// A value at its expression: an object's entries at their keys, a tuple's items
    /// at theirs, anything computed at the expression itself.
    fn expression(&self, t: Target, node: &mut Node, expr: &Expression) {
        let at = self.at(t, expr.span());
        match (&mut node.value, expr) {
            (Value::Map(entries), Expression::Object(object)) => {
                node.pos = at;
                for e in entries {
                    let written = object
                        .iter()
                        .find(|(k, _)| object_key(k).as_deref() == Some(e.key.as_str()));
                    match written {
                        Some((k, v)) => {
                            e.key_pos = self.at(t, k.span());
                            self.expression(t, &mut e.value, v.expr());
                        }
                        None => {
                            e.key_pos = at;
                            e.value.relocate(at);
                        }
                    }
                }
            }
            (Value::Seq(items), Expression::Array(array)) if items.len() == array.len() => {
                node.pos = at;
                for (item, e) in items.iter_mut().zip(array.iter()) {
                    self.expression(t, item, e);
                }
            }
            // Parentheses around a literal.
            (_, Expression::Parenthesis(inner)) => self.expression(t, node, inner.inner()),
            _ => node.relocate(at),
        }
    }
}

/// How many literal attributes of a block have the item's value: which written block
/// an item of a set came from.
fn shared_literals(item: &Node, body: &Body) -> usize {
    body.iter()
        .filter_map(|s| match s {
            Structure::Attribute(a) => Some(a),
            Structure::Block(_) => None,
        })
        .filter(|a| {
            let Some(v) = item.get(a.key.value().as_str()) else {
                return false;
            };
            match &a.value {
                Expression::String(s) => v.as_str() == Some(s.value().as_str()),
                Expression::Bool(b) => v.as_bool() == Some(*b.value()),
                Expression::Number(n) => v
                    .scalar_text()
                    .and_then(|t| t.parse::<f64>().ok())
                    .zip(n.value().as_f64())
                    .is_some_and(|(a, b)| a == b),
                _ => false,
            }
        })
        .count()
}

/// An object key as text, when it is a name or a literal string.
fn object_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(id) => Some(id.value().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.value().to_string()),
        _ => None,
    }
}

fn label(b: &Block, i: usize) -> Option<String> {
    b.labels.get(i).map(|l| match l {
        BlockLabel::Ident(id) => id.value().to_string(),
        BlockLabel::String(s) => s.value().to_string(),
    })
}

/// How far up module sources may lead: the repository `dir` is in, else the current
/// folder when `dir` is under it, else `dir` itself.
fn bound(dir: &Path) -> PathBuf {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if let Some(repo) = canonical.ancestors().find(|a| a.join(".git").exists()) {
        return repo.to_path_buf();
    }
    match std::env::current_dir().and_then(|d| d.canonicalize()) {
        Ok(cwd) if canonical.starts_with(&cwd) => cwd,
        _ => canonical,
    }
}

/// Line starts of a `.tf` file, for positions (`.tf` lines are short: a column is
/// counted from its line's start).
struct Lines {
    text: Arc<str>,
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: Arc<str>) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { text, starts }
    }

    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column = self.text[self.starts[line]..]
            .char_indices()
            .take_while(|(i, _)| self.starts[line] + i < offset)
            .count();
        Pos::new(line as u32 + 1, column as u32 + 1)
    }
}

/// The module call names of a module address: `module.a["x"].module.b[0]` →
/// `["a", "b"]`.
pub fn module_calls(module_address: &str) -> Vec<String> {
    let mut names = Vec::new();
    let plain = without_keys(module_address);
    let parts: Vec<&str> = plain.split('.').collect();
    let mut i = 0;
    while i + 1 < parts.len() {
        if parts[i] == "module" {
            names.push(parts[i + 1].to_string());
            i += 2;
        } else {
            i += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    fn write(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn module_call_names_skip_instance_keys() {
        assert_eq!(module_calls("module.a[\"x.y\"].module.b[0]"), ["a", "b"]);
        assert_eq!(module_calls(""), Vec::<String>::new());
    }

    #[test]
    fn attributes_blocks_and_modules_are_found_at_their_lines() {
        let dir = write(&[
            (
                "main.tf",
                "module \"nodes\" {\n  source = \"./modules/nodes\"\n}\n\nresource \"aws_iam_policy\" \"p\" {\n  name = \"p\"\n  policy = jsonencode({\n    Statement = []\n  })\n  tags = {\n    team = \"x\"\n  }\n}\n",
            ),
            (
                "modules/nodes/lt.tf",
                "resource \"aws_launch_template\" \"this\" {\n  name = \"n\"\n\n  metadata_options {\n    http_tokens = var.tokens\n    http_put_response_hop_limit = 2\n  }\n}\n",
            ),
        ]);
        let loc = Locator::new(dir.path());
        assert!(loc.has_configuration());
        let t = loc.find(&[], false, "aws_iam_policy", "p").unwrap();
        assert!(loc.file(t).ends_with("main.tf"));
        let mut v = json::parse("{\"name\": \"p\", \"policy\": \"{}\", \"arn\": null, \"tags\": {\"team\": \"x\", \"other\": \"y\"}}").unwrap();
        loc.relocate(t, &mut v);
        assert_eq!(v.pos, Pos::new(5, 1));
        assert_eq!(v.entry("policy").unwrap().key_pos, Pos::new(7, 3));
        assert_eq!(v.get("policy").unwrap().pos, Pos::new(7, 12));
        assert_eq!(
            v.entry("arn").unwrap().key_pos,
            Pos::new(5, 1),
            "not written: the block"
        );
        assert_eq!(v.path(&["tags", "team"]).unwrap().pos, Pos::new(11, 12));
        assert_eq!(v.path(&["tags", "other"]).unwrap().pos, Pos::new(10, 10));

        let t = loc
            .find(&["nodes"], false, "aws_launch_template", "this")
            .unwrap();
        assert!(
            loc.file(t).ends_with("modules/nodes/lt.tf"),
            "{}",
            loc.file(t)
        );
        let mut v = json::parse("{\"metadata_options\": [{\"http_tokens\": null, \"http_put_response_hop_limit\": 2, \"http_endpoint\": \"enabled\"}]}").unwrap();
        loc.relocate(t, &mut v);
        let mo = &v.get("metadata_options").unwrap().items()[0];
        assert_eq!(v.entry("metadata_options").unwrap().key_pos, Pos::new(4, 3));
        assert_eq!(mo.pos, Pos::new(4, 3));
        assert_eq!(
            mo.entry("http_put_response_hop_limit").unwrap().key_pos,
            Pos::new(6, 5)
        );
        assert_eq!(mo.entry("http_endpoint").unwrap().key_pos, Pos::new(4, 3));

        let e = loc
            .find(&["nodes"], false, "aws_instance", "x")
            .unwrap_err();
        assert_eq!(
            e,
            "module.nodes.aws_instance.x: not declared in the configuration"
        );
        let e = loc.find(&["eks"], false, "aws_instance", "x").unwrap_err();
        assert_eq!(e, "module.eks: no such module call in the configuration");
        let none = Locator::new(&dir.path().join("modules/nodes/missing"));
        assert!(!none.has_configuration());
        assert!(none
            .find(&[], false, "a", "b")
            .unwrap_err()
            .starts_with("no .tf files in "));
    }

    #[test]
    fn set_blocks_are_matched_by_their_literals_and_dynamic_blocks_at_their_content() {
        let dir = write(&[(
            "main.tf",
            "resource \"aws_ecs_task_definition\" \"t\" {\n  volume {\n    name = \"a\"\n  }\n  volume {\n    name      = \"docker\"\n    host_path = \"/var/run/docker.sock\"\n  }\n}\n\nresource \"aws_instance\" \"i\" {\n  dynamic \"metadata_options\" {\n    for_each = [1]\n    content {\n      http_tokens = \"optional\"\n    }\n  }\n}\n",
        )]);
        let loc = Locator::new(dir.path());
        let t = loc
            .find(&[], false, "aws_ecs_task_definition", "t")
            .unwrap();
        let mut v = json::parse("{\"volume\": [{\"name\": \"docker\", \"host_path\": \"/var/run/docker.sock\"}, {\"name\": \"a\", \"host_path\": null}]}").unwrap();
        loc.relocate(t, &mut v);
        let vols = v.get("volume").unwrap().items();
        assert_eq!(vols[0].entry("host_path").unwrap().key_pos, Pos::new(7, 5));
        assert_eq!(vols[1].pos, Pos::new(2, 3));
        let t = loc.find(&[], false, "aws_instance", "i").unwrap();
        let mut v =
            json::parse("{\"metadata_options\": [{\"http_tokens\": \"optional\"}]}").unwrap();
        loc.relocate(t, &mut v);
        let mo = &v.get("metadata_options").unwrap().items()[0];
        assert_eq!(mo.entry("http_tokens").unwrap().key_pos, Pos::new(15, 7));
    }
}
