//! Instance expansion: how many instances a resource, data source or module call has
//! (`count`, `for_each`), their keys, and how a module call becomes child module
//! instances with their inputs.

use super::instance::{Decl, Instance};
use super::variables::Given;
use crate::parse::hcl::eval::EvalError;
use crate::parse::hcl::value::{FileId, Val, V};
use crate::parse::Pos;
use hcl_edit::structure::Block;
use hcl_edit::Span;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Modules nested deeper than this are a cycle or a mistake.
pub(super) const MAX_MODULE_DEPTH: usize = 16;

/// Instances of one resource or module beyond this are not expanded.
pub(super) const MAX_INSTANCES: usize = 1_000;

/// Module instances in one configuration beyond this are not expanded.
pub(super) const MAX_MODULE_INSTANCES: usize = 1_000;

/// An instance's key: none, `[0]`, `["orders"]`, or `[*]` when unknown.
pub(super) enum Key {
    None,
    Index(usize),
    Name(String),
    Unknown,
}

impl Key {
    /// The address suffix, as Terraform prints it.
    pub(super) fn suffix(&self) -> String {
        match self {
            Key::None => String::new(),
            Key::Index(i) => format!("[{i}]"),
            Key::Name(n) => format!("[{n:?}]"),
            Key::Unknown => "[*]".into(),
        }
    }

    /// The key in a `for_each` map of instances.
    pub(super) fn name(self) -> String {
        match self {
            Key::Name(n) => n,
            Key::Index(i) => i.to_string(),
            Key::None | Key::Unknown => String::new(),
        }
    }
}

/// How many instances a block has.
pub(super) enum Expansion {
    Single,
    Unknown,
    Count(usize),
    Each(Vec<(String, V)>),
}

pub(super) fn count_object(i: usize, pos: Pos, file: FileId) -> V {
    V::new(
        pos,
        file,
        Val::Map(BTreeMap::from([(
            "index".to_string(),
            (pos, V::new(pos, file, Val::Num(i as f64))),
        )])),
    )
}

pub(super) fn each_object(key: &str, value: V, pos: Pos, file: FileId) -> V {
    V::new(
        pos,
        file,
        Val::Map(BTreeMap::from([
            (
                "key".to_string(),
                (pos, V::new(pos, file, Val::Str(key.to_string()))),
            ),
            ("value".to_string(), (pos, value)),
        ])),
    )
}

impl<'m> Instance<'m> {
    /// How a resource or module block expands.
    pub(super) fn instances(&self, decl: Decl<'m, Block>) -> Expansion {
        let body = &decl.item.body;
        if let Some(a) = body.get_attribute("count") {
            let v = self.eval_in(decl.file, &a.value, &[]);
            return match crate::parse::hcl::funcs::to_number(&v) {
                Some(n) if n >= 0.0 => Expansion::Count((n as usize).min(MAX_INSTANCES)),
                _ => Expansion::Unknown,
            };
        }
        if let Some(a) = body.get_attribute("for_each") {
            let v = self.eval_in(decl.file, &a.value, &[]);
            return match v.val {
                // Which keys it has is not known.
                Val::Map(_) if v.partial => Expansion::Unknown,
                Val::Map(m) => Expansion::Each(
                    m.into_iter()
                        .take(MAX_INSTANCES)
                        .map(|(k, (_, v))| (k, v))
                        .collect(),
                ),
                Val::List(items) => Expansion::Each(
                    items
                        .into_iter()
                        .take(MAX_INSTANCES)
                        .filter_map(|i| Some((i.as_str()?.to_string(), i)))
                        .collect(),
                ),
                _ => Expansion::Unknown,
            };
        }
        Expansion::Single
    }

    /// Evaluates each instance of a resource or data source block as its expansion says,
    /// with its instance key. An unknown `count`/`for_each` gives one instance judged
    /// with unknown `count.index`/`each`.
    pub(super) fn expand(
        &self,
        decl: Decl<'m, Block>,
        rtype: &str,
        expansion: Expansion,
    ) -> Vec<(Key, V)> {
        let file = self.file(decl.file);
        let fallback = self.pos(decl.file, decl.item.span());
        let object = |b: &[(&str, V)]| {
            let mut v = self.block_value(decl.file, decl.item, b, Some(rtype));
            v.open = true;
            v
        };
        match expansion {
            Expansion::Single => vec![(Key::None, object(&[]))],
            Expansion::Count(n) => (0..n)
                .map(|i| {
                    let count = count_object(i, fallback, file.id);
                    (Key::Index(i), object(&[("count", count)]))
                })
                .collect(),
            Expansion::Each(items) => items
                .into_iter()
                .map(|(k, v)| {
                    let each = each_object(&k, v, fallback, file.id);
                    (Key::Name(k), object(&[("each", each)]))
                })
                .collect(),
            Expansion::Unknown => {
                let unknown = V::new(fallback, file.id, Val::Unknown);
                let b = [("count", unknown.clone()), ("each", unknown)];
                vec![(Key::Unknown, object(&b))]
            }
        }
    }

    /// A child module instance's outputs.
    pub(super) fn module_value(&self, name: &str, pos: Pos) -> Result<Option<V>, EvalError> {
        let Some(decl) = self.modules.get(name).copied() else {
            return Ok(None);
        };
        self.memo(&format!("module.{name}"), pos, || {
            let fid = self.file(decl.file).id;
            let bpos = self.pos(decl.file, decl.item.span());
            let outputs = |child: Option<Rc<Instance<'m>>>| match child {
                Some(c) => c.outputs_value(bpos, fid),
                None => {
                    let mut v = V::new(bpos, fid, Val::Map(BTreeMap::new()));
                    v.open = true;
                    v
                }
            };
            match self.instances(decl) {
                Expansion::Single => outputs(self.child(name, decl, String::new(), &[])),
                // count/for_each unknown: the module is still judged once, with unknown
                // count.index/each, like a resource; its outputs are unknown.
                Expansion::Unknown => {
                    let unknown = V::new(bpos, fid, Val::Unknown);
                    let b = [("count", unknown.clone()), ("each", unknown)];
                    let _ = self.child(name, decl, "[*]".into(), &b);
                    V::new(bpos, fid, Val::Unknown)
                }
                Expansion::Count(n) => V::new(
                    bpos,
                    fid,
                    Val::List(
                        (0..n)
                            .map(|i| {
                                outputs(self.child(
                                    name,
                                    decl,
                                    format!("[{i}]"),
                                    &[("count", count_object(i, bpos, fid))],
                                ))
                            })
                            .collect(),
                    ),
                ),
                Expansion::Each(items) => V::new(
                    bpos,
                    fid,
                    Val::Map(
                        items
                            .into_iter()
                            .map(|(k, v)| {
                                let each = each_object(&k, v, bpos, fid);
                                let child =
                                    self.child(name, decl, format!("[{k:?}]"), &[("each", each)]);
                                (k, (bpos, outputs(child)))
                            })
                            .collect(),
                    ),
                ),
            }
        })
        .map(Some)
    }

    /// The child instance for `module.name` + `key`, created once.
    pub(super) fn child(
        &self,
        name: &str,
        decl: Decl<'m, Block>,
        key: String,
        bindings: &[(&str, V)],
    ) -> Option<Rc<Instance<'m>>> {
        let callee = match self
            .shared
            .arena
            .calls
            .get(&(self.index, name.to_string()))?
        {
            Ok(i) => *i,
            Err(_) => return None,
        };
        let cache_key = format!("{name}{key}");
        if let Some(c) = self.children.borrow().get(&cache_key) {
            return Some(c.clone());
        }
        let address = self.prefixed(&format!("module.{name}{key}"));
        let refuse = |why: String| {
            let f = self.file(decl.file);
            self.shared
                .report(&f.display, self.pos(decl.file, decl.item.span()), why);
            None
        };
        // A module that calls itself, directly or through others, would never end.
        if callee == self.index || self.ancestors.contains(&callee) {
            return refuse(format!(
                "module.{name} calls a module that is already calling it (a module cycle); not expanded"
            ));
        }
        if self.ancestors.len() + 1 > MAX_MODULE_DEPTH {
            return refuse(format!(
                "{address}: modules nested more than {MAX_MODULE_DEPTH} deep; not expanded"
            ));
        }
        // count/for_each at every level multiply: a bound on all instances of a scan.
        let made = self.shared.module_instances.get();
        if made >= MAX_MODULE_INSTANCES {
            let refused = self.shared.refused_instances.get();
            self.shared.refused_instances.set(refused + 1);
            if refused > 0 {
                return None;
            }
            return refuse(format!(
                "{address}: more than {MAX_MODULE_INSTANCES} module instances in this configuration; not expanded"
            ));
        }
        self.shared.module_instances.set(made + 1);
        // Arguments other than the meta-arguments are the child's variables.
        let mut inputs = BTreeMap::new();
        for a in decl.item.body.attributes() {
            let key = a.key.value().as_str();
            if matches!(
                key,
                "source" | "version" | "count" | "for_each" | "providers" | "depends_on"
            ) {
                continue;
            }
            let value = self.eval_in(decl.file, &a.value, bindings);
            inputs.insert(key.to_string(), Given::Value(value));
        }
        let mut ancestors = self.ancestors.clone();
        ancestors.push(self.index);
        let mut child = Instance::new(self.shared, callee, address, inputs, ancestors);
        child.input_refs = self.module_input_refs(decl);
        child.input_literals = self.module_input_literals(decl);
        let child = Rc::new(child);
        self.children.borrow_mut().insert(cache_key, child.clone());
        Some(child)
    }
}
