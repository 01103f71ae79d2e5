//! One instance of a module (the root, or `module.app["x"]`): its declarations, and
//! lazy, memoised evaluation of what its expressions refer to (`var.`, `local.`,
//! resources, data sources, `module.`, `path.`), with cycles reported.

use super::expand::Expansion;
use super::load::{Arena, Module, TfFile};
use super::variables::Given;
use super::{file_error, file_id, label, ITEM_BUDGET};
use crate::parse::hcl::eval::{EvalError, Evaluator, Scope};
use crate::parse::hcl::value::{FileId, Val, V};
use crate::parse::{FileError, LineIndex, Pos};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// References resolved inside one another deeper than this are refused. Real
/// configurations chain a few dozen; each level costs stack.
pub(super) const MAX_REFERENCE_DEPTH: usize = 200;

/// What all instances of one scan share.
pub(super) struct Shared<'a> {
    pub(super) arena: &'a Arena,
    pub(super) lines: &'a [Vec<LineIndex<'a>>],
    /// The scanned folder: nothing outside it is read.
    pub(super) root: PathBuf,
    /// The root module's folder: where relative `file()` paths start, as in Terraform.
    pub(super) root_dir: PathBuf,
    /// Evaluation work left for the whole configuration.
    pub(super) budget: Cell<u64>,
    /// Module instances created so far.
    pub(super) module_instances: Cell<usize>,
    /// How many references are being resolved inside one another right now
    /// (`local.a` → `local.b` → …): bounded, so a crafted chain of thousands of locals
    /// is a located error rather than a stack overflow.
    pub(super) reference_depth: Cell<usize>,
    /// Module instances not expanded because the configuration reached
    /// `MAX_MODULE_INSTANCES`: the first is reported, the rest counted.
    pub(super) refused_instances: Cell<usize>,
    /// Policy documents reported as data sources, by where their document starts.
    pub(super) rendered: RefCell<Vec<(FileId, Pos)>>,
    pub(super) errors: RefCell<Vec<FileError>>,
    /// Files read by `file()`/`templatefile()`, kept alive for their positions.
    pub(super) extra_files: RefCell<Vec<Arc<str>>>,
    /// The module (arena index) of every `.tf` file loaded, by file id.
    pub(super) module_of_file: std::collections::HashMap<FileId, usize>,
}

impl Shared<'_> {
    pub(super) fn report(&self, file: &str, pos: Pos, message: String) {
        self.errors
            .borrow_mut()
            .push(file_error(file, Some(pos), message));
    }
}

/// A declaration: which file and which block or attribute.
pub(super) struct Decl<'m, T> {
    pub(super) file: usize,
    pub(super) item: &'m T,
}

impl<T> Clone for Decl<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Decl<'_, T> {}

/// A value being computed or computed.
#[derive(Clone)]
pub(super) enum Slot {
    InProgress,
    Done(V),
}

/// One instance of a module (the root, or `module.app["x"]`) with its variable values.
pub(super) struct Instance<'m> {
    pub(super) shared: &'m Shared<'m>,
    pub(super) index: usize,
    pub(super) module: &'m Module,
    /// `module.app` for a child, empty for the root.
    pub(super) address: String,
    pub(super) inputs: BTreeMap<String, Given>,
    pub(super) variables: BTreeMap<String, Decl<'m, Block>>,
    pub(super) locals: BTreeMap<String, Decl<'m, Attribute>>,
    pub(super) resources: BTreeMap<(String, String), Decl<'m, Block>>,
    pub(super) data: BTreeMap<(String, String), Decl<'m, Block>>,
    pub(super) modules: BTreeMap<String, Decl<'m, Block>>,
    pub(super) outputs: BTreeMap<String, Decl<'m, Block>>,
    /// Resources and data sources declared twice (data?, (type, name), the second one).
    pub(super) duplicates: Vec<(bool, (String, String), Decl<'m, Block>)>,
    pub(super) cache: RefCell<BTreeMap<String, Slot>>,
    pub(super) children: RefCell<BTreeMap<String, Rc<Instance<'m>>>>,
    /// Module folders (arena indexes) from the root down to this instance's caller: a
    /// call back into one of them, or into this one, is a cycle.
    pub(super) ancestors: Vec<usize>,
    /// The resources each input's expression refers to in the caller ([`super::refs`]).
    pub(super) input_refs: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// The literal text of each input's expression in the caller ([`super::refs`]).
    pub(super) input_literals: BTreeMap<String, String>,
}

impl<'m> Instance<'m> {
    pub(super) fn new(
        shared: &'m Shared<'m>,
        index: usize,
        address: String,
        inputs: BTreeMap<String, Given>,
        ancestors: Vec<usize>,
    ) -> Self {
        let module = &shared.arena.modules[index];
        let mut inst = Instance {
            shared,
            index,
            module,
            address,
            inputs,
            variables: BTreeMap::new(),
            locals: BTreeMap::new(),
            resources: BTreeMap::new(),
            data: BTreeMap::new(),
            modules: BTreeMap::new(),
            outputs: BTreeMap::new(),
            duplicates: Vec::new(),
            cache: RefCell::new(BTreeMap::new()),
            children: RefCell::new(BTreeMap::new()),
            ancestors,
            input_refs: BTreeMap::new(),
            input_literals: BTreeMap::new(),
        };
        for (fi, f) in module.files.iter().enumerate() {
            for s in f.body.iter() {
                let Structure::Block(b) = s else { continue };
                let decl = Decl { file: fi, item: b };
                match (b.ident.value().as_str(), label(b, 0), label(b, 1)) {
                    ("variable", Some(n), _) => {
                        inst.variables.entry(n).or_insert(decl);
                    }
                    ("locals", _, _) => {
                        for a in b.body.attributes() {
                            inst.locals
                                .entry(a.key.value().to_string())
                                .or_insert(Decl { file: fi, item: a });
                        }
                    }
                    (kind @ ("resource" | "data"), Some(t), Some(n)) => {
                        let data = kind == "data";
                        let map = if data {
                            &mut inst.data
                        } else {
                            &mut inst.resources
                        };
                        let key = (t.clone(), n.clone());
                        match map.get(&key) {
                            // A file not named on the command line only gives context:
                            // the named file's declaration wins, without complaint.
                            Some(_) if !f.reported => {}
                            Some(first) if !module.files[first.file].reported => {
                                map.insert(key, decl);
                            }
                            Some(first) => {
                                let first_file = &module.files[first.file].display;
                                let first_line = shared.lines[index][first.file]
                                    .pos(first.item.span().map_or(0, |s| s.start))
                                    .line;
                                let prefix = if data { "data." } else { "" };
                                shared.report(
                                    &f.display,
                                    shared.lines[index][fi].pos(b.span().map_or(0, |s| s.start)),
                                    format!(
                                        "duplicate {kind} {prefix}{t}.{n}: already declared at {first_file}:{first_line} (Terraform refuses this module; both are judged)"
                                    ),
                                );
                                inst.duplicates.push((data, (t, n), decl));
                            }
                            None => {
                                map.insert((t, n), decl);
                            }
                        }
                    }
                    ("module", Some(n), _) => {
                        inst.modules.insert(n, decl);
                    }
                    ("output", Some(n), _) => {
                        inst.outputs.insert(n, decl);
                    }
                    _ => {}
                }
            }
        }
        inst
    }

    pub(super) fn file(&self, i: usize) -> &'m TfFile {
        &self.module.files[i]
    }

    pub(super) fn evaluator<'b>(&'b self, file: usize, budget: &'b Cell<u64>) -> Evaluator<'b> {
        Evaluator::new(
            self,
            self.module.files[file].id,
            &self.shared.lines[self.index][file],
            budget,
        )
    }

    /// A budget for one top-level item: [`ITEM_BUDGET`], or what is left of the
    /// configuration's. Give it back with [`Self::spent`].
    pub(super) fn item_budget(&self) -> Cell<u64> {
        Cell::new(ITEM_BUDGET.min(self.shared.budget.get()))
    }

    /// Charges the configuration for what an item used.
    pub(super) fn spent(&self, start: u64, budget: &Cell<u64>) {
        let used = start.saturating_sub(budget.get());
        self.shared
            .budget
            .set(self.shared.budget.get().saturating_sub(used));
    }

    pub(super) fn pos(&self, file: usize, span: Option<std::ops::Range<usize>>) -> Pos {
        span.map_or(Pos::new(1, 1), |s| {
            self.shared.lines[self.index][file].pos(s.start)
        })
    }

    pub(super) fn prefixed(&self, address: &str) -> String {
        if self.address.is_empty() {
            address.to_string()
        } else {
            format!("{}.{address}", self.address)
        }
    }

    /// Evaluates once per key, detecting cycles.
    pub(super) fn memo(
        &self,
        key: &str,
        pos: Pos,
        compute: impl FnOnce() -> V,
    ) -> Result<V, EvalError> {
        if let Some(slot) = self.cache.borrow().get(key) {
            return match slot {
                Slot::Done(v) => Ok(v.clone()),
                Slot::InProgress => Err(EvalError {
                    pos,
                    file: 0,
                    message: format!(
                        "{} refers to itself (a reference cycle)",
                        self.prefixed(key)
                    ),
                    fatal: true,
                }),
            };
        }
        let depth = self.shared.reference_depth.get();
        if depth >= MAX_REFERENCE_DEPTH {
            return Err(EvalError {
                pos,
                file: 0,
                message: format!(
                    "{} is reached through more than {MAX_REFERENCE_DEPTH} references in a chain; values here are unknown",
                    self.prefixed(key)
                ),
                fatal: true,
            });
        }
        self.cache
            .borrow_mut()
            .insert(key.to_string(), Slot::InProgress);
        self.shared.reference_depth.set(depth + 1);
        let v = compute();
        self.shared.reference_depth.set(depth);
        self.cache
            .borrow_mut()
            .insert(key.to_string(), Slot::Done(v.clone()));
        Ok(v)
    }

    /// Evaluates an expression of file `file`; errors become unknown (fatal ones are
    /// reported).
    pub(super) fn eval_in(&self, file: usize, e: &Expression, bindings: &[(&str, V)]) -> V {
        let budget = self.item_budget();
        let start = budget.get();
        let mut ev = self.evaluator(file, &budget);
        for (n, v) in bindings {
            ev.bind(n, v.clone());
        }
        let v = match ev.eval(e) {
            Ok(v) => v,
            Err(err) => self.unknown_after(err, file, e),
        };
        self.spent(start, &budget);
        v
    }

    pub(super) fn unknown_after(&self, err: EvalError, file: usize, e: &Expression) -> V {
        let pos = self.pos(file, e.span());
        if err.fatal {
            let f = self.file(file);
            self.shared.report(&f.display, err.pos, err.message);
        }
        V::new(pos, self.file(file).id, Val::Unknown)
    }

    pub(super) fn local_value(&self, name: &str, pos: Pos) -> Result<Option<V>, EvalError> {
        let Some(decl) = self.locals.get(name).copied() else {
            return Ok(None);
        };
        self.memo(&format!("local.{name}"), pos, || {
            self.eval_in(decl.file, &decl.item.value, &[])
        })
        .map(Some)
    }

    /// All instances of a resource or data source, as a reference sees them.
    pub(super) fn resource_value(
        &self,
        data: bool,
        rtype: &str,
        name: &str,
        pos: Pos,
    ) -> Result<Option<V>, EvalError> {
        let key = (rtype.to_string(), name.to_string());
        let decl = match if data {
            self.data.get(&key)
        } else {
            self.resources.get(&key)
        } {
            Some(d) => *d,
            None => return Ok(None),
        };
        let address = if data {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        self.memo(&address, pos, || {
            let fid = self.file(decl.file).id;
            let bpos = self.pos(decl.file, decl.item.span());
            let v = |val| V::new(bpos, fid, val);
            match self.instances(decl) {
                Expansion::Unknown => v(Val::Unknown),
                Expansion::Single => self.expand(decl, rtype, Expansion::Single).remove(0).1,
                e @ Expansion::Count(_) => v(Val::List(
                    self.expand(decl, rtype, e)
                        .into_iter()
                        .map(|(_, o)| o)
                        .collect(),
                )),
                e @ Expansion::Each(_) => v(Val::Map(
                    self.expand(decl, rtype, e)
                        .into_iter()
                        .map(|(k, o)| (k.name(), (bpos, o)))
                        .collect(),
                )),
            }
        })
        .map(Some)
    }

    pub(super) fn outputs_value(&self, pos: Pos, file: FileId) -> V {
        let mut map = BTreeMap::new();
        for (name, decl) in &self.outputs {
            let v = match decl.item.body.get_attribute("value") {
                Some(a) => self.eval_in(decl.file, &a.value, &[]),
                None => V::new(pos, file, Val::Null),
            };
            map.insert(name.clone(), (pos, v));
        }
        V::new(pos, file, Val::Map(map))
    }
}

impl<'m> Scope for Instance<'m> {
    fn reference(
        &self,
        root: &str,
        attrs: &[&str],
        pos: Pos,
    ) -> Result<Option<(V, usize)>, EvalError> {
        let this = self;
        let first = attrs.first().copied();
        let value = match (root, first) {
            ("var", Some(name)) => this.variable_value(name, pos)?.map(|v| (v, 1)),
            ("local", Some(name)) => this.local_value(name, pos)?.map(|v| (v, 1)),
            ("module", Some(name)) => this.module_value(name, pos)?.map(|v| (v, 1)),
            ("data", Some(rtype)) => match attrs.get(1) {
                Some(name) => this.resource_value(true, rtype, name, pos)?.map(|v| (v, 2)),
                None => None,
            },
            ("path", Some(kind)) => {
                let dir = match kind {
                    "module" => &this.module.dir,
                    "root" | "cwd" => &this.shared.root_dir,
                    _ => return Ok(None),
                };
                Some((V::new(pos, 0, Val::Str(dir.display().to_string())), 1))
            }
            ("terraform", Some("workspace")) => {
                Some((V::new(pos, 0, Val::Str("default".into())), 1))
            }
            ("count" | "each" | "self", _) => Some((V::new(pos, 0, Val::Unknown), 0)),
            (rtype, Some(name)) if rtype.contains('_') => {
                match this.resource_value(false, rtype, name, pos)? {
                    Some(v) => Some((v, 1)),
                    // A resource of another file that is not reported, or a typo: unknown.
                    None => Some((V::new(pos, 0, Val::Unknown), 1)),
                }
            }
            _ => None,
        };
        Ok(value)
    }

    fn read_file(&self, path: &str) -> Result<(Arc<str>, FileId), String> {
        let p = Path::new(path);
        let full = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.shared.root_dir.join(p)
        };
        let canonical = full
            .canonicalize()
            .map_err(|e| format!("cannot read: {e}"))?;
        if !canonical.starts_with(&self.shared.root) {
            return Err("outside the scanned folder: not read".into());
        }
        let text = crate::parse::read_text(&canonical).map_err(|(_, m)| m)?;
        let text: Arc<str> = Arc::from(text.as_str());
        self.shared.extra_files.borrow_mut().push(text.clone());
        Ok((text, file_id(&canonical.display().to_string())))
    }
}
