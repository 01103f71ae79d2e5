//! Terraform configurations → facts.
//!
//! A folder of `.tf` files is one module. Modules are loaded (with the local modules
//! they call, which `source` names literally) before evaluation; evaluation is lazy
//! and by reference, the way Terraform orders it: a local, resource or module output
//! is evaluated when something refers to it, once, and a reference back to something
//! still being evaluated is a cycle, reported with its position. Each resource
//! instance (`count`, `for_each`) is then evaluated into the attribute shape plan JSON
//! has (nested blocks as lists of objects) and handed to [`resources`], which the
//! plan reader shares.

pub mod links;
pub mod policy_document;
pub mod refs;
pub mod resources;

use crate::facts::Facts;
use crate::parse::hcl::eval::{EvalError, Evaluator, Scope, DEFAULT_BUDGET};
use crate::parse::hcl::value::{FileId, Val, V};
use crate::parse::{LineIndex, Node, Pos};
use crate::FileError;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use hcl_edit::Span;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Modules nested deeper than this are a cycle or a mistake.
const MAX_MODULE_DEPTH: usize = 16;

/// Instances of one resource or module beyond this are not expanded.
const MAX_INSTANCES: usize = 1_000;

/// Module instances in one configuration beyond this are not expanded.
const MAX_MODULE_INSTANCES: usize = 1_000;

/// Evaluation work allowed for one top-level item (a local, an attribute of a resource
/// instance, a module input) and for a whole configuration: a `for` over a huge range
/// makes its own item unknown, not the rest of the module.
const ITEM_BUDGET: u64 = 500_000;
const CONFIG_BUDGET: u64 = 50_000_000;

/// One parsed `.tf` file.
pub struct TfFile {
    /// Path as the user sees it.
    pub display: String,
    /// Stable id for positions.
    pub id: FileId,
    /// The text.
    pub text: Arc<str>,
    /// The parsed body.
    pub body: Body,
    /// Whether its resources are reported (files named on the command line, or all).
    pub reported: bool,
}

/// A module: the `.tf` files of one folder.
pub struct Module {
    /// The folder (canonical).
    pub dir: PathBuf,
    /// Its files, sorted by name.
    pub files: Vec<TfFile>,
}

/// What scanning one root module produced.
#[derive(Default)]
pub struct Outcome {
    /// Facts of every resource in the root module and the local modules it calls.
    pub facts: Facts,
    /// Files that could not be parsed, cycles, and other errors.
    pub errors: Vec<FileError>,
    /// Module calls that were not followed (registry, git, outside the scanned folder).
    pub unscanned_modules: Vec<String>,
    /// How many `.tf` files were read.
    pub files: usize,
    /// The folders of every module loaded (the root and the local modules it calls).
    pub loaded_dirs: Vec<PathBuf>,
}

/// Variables given on the command line and in var files, for root modules.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// `--var-file` paths, applied after `terraform.tfvars` and `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`, applied last.
    pub vars: Vec<(String, String)>,
    /// `TF_VAR_NAME` environment variables (the CLI passes them), applied first, as
    /// Terraform does.
    pub env: Vec<(String, String)>,
}

/// A stable id for a file path.
pub fn file_id(path: &str) -> FileId {
    path.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

/// Scans a root module: the `.tf` files in `dir`. When `named` is given (files named on
/// the command line), only their resources are reported; the folder's other files
/// still supply what they refer to. `root` bounds what `file()` and module sources may
/// read.
pub fn scan_root(dir: &Path, named: Option<&[PathBuf]>, root: &Path, inputs: &Inputs) -> Outcome {
    let mut out = Outcome::default();
    let mut arena = Arena {
        installed: installed_modules(dir),
        ..Arena::default()
    };
    let Some(root_index) = arena.load(dir, "", named, root, &mut out) else {
        return out;
    };
    evaluate(&arena, root_index, dir, root, inputs, &mut out);
    out
}

/// Scans Terraform text that has no folder (standard input) as a one-file root module;
/// relative paths and local modules start at the current folder.
pub fn scan_source(display: &str, text: &str, inputs: &Inputs) -> Outcome {
    let mut out = Outcome::default();
    let body = match crate::parse::hcl::parse(text) {
        Ok(b) => b,
        Err(e) => {
            out.errors.push(file_error(display, e.pos, e.message));
            return out;
        }
    };
    let cwd = PathBuf::from(".");
    let root = cwd.canonicalize().unwrap_or_else(|_| cwd.clone());
    let mut arena = Arena {
        installed: installed_modules(&cwd),
        ..Arena::default()
    };
    let module = Module {
        dir: root.clone(),
        files: vec![TfFile {
            display: display.to_string(),
            id: file_id(display),
            text: Arc::from(text),
            body,
            reported: true,
        }],
    };
    let index = arena.register(module, &cwd, "", &root, &mut out);
    evaluate(&arena, index, &cwd, &root, inputs, &mut out);
    out
}

/// Evaluates the root module `root_index` of a loaded arena and extracts its facts.
fn evaluate(
    arena: &Arena,
    root_index: usize,
    dir: &Path,
    root: &Path,
    inputs: &Inputs,
    out: &mut Outcome,
) {
    out.files = arena.modules.iter().map(|m| m.files.len()).sum();
    out.loaded_dirs = arena.modules.iter().map(|m| m.dir.clone()).collect();
    let lines: Vec<Vec<LineIndex>> = arena
        .modules
        .iter()
        .map(|m| m.files.iter().map(|f| LineIndex::new(&f.text)).collect())
        .collect();
    let shared = Shared {
        arena,
        lines: &lines,
        root: root.to_path_buf(),
        root_dir: arena.modules[root_index].dir.clone(),
        budget: Cell::new(CONFIG_BUDGET),
        module_instances: Cell::new(0),
        rendered: RefCell::new(Vec::new()),
        errors: RefCell::new(Vec::new()),
        extra_files: RefCell::new(Vec::new()),
    };
    let root_inputs = root_variables(&shared, dir, inputs);
    let instance = Instance::new(&shared, root_index, String::new(), root_inputs, Vec::new());
    instance.extract(&mut out.facts, &mut out.unscanned_modules);
    out.errors.extend(shared.errors.into_inner());
    out.errors
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out.errors.dedup();
}

/// Every loaded module, so instances can borrow them for the whole evaluation.
#[derive(Default)]
struct Arena {
    modules: Vec<Module>,
    by_dir: HashMap<PathBuf, usize>,
    /// Module calls by (calling module, call name): the callee, or why not followed.
    calls: HashMap<(usize, String), Result<usize, String>>,
    /// Where `terraform init` put remote modules: module key (`eks.node_group`) →
    /// folder (display path), from `.terraform/modules/modules.json`. Reading them is
    /// reading files already on disk; nothing is fetched.
    installed: BTreeMap<String, PathBuf>,
}

/// The remote modules `terraform init` installed for the root module in `dir`.
fn installed_modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    let manifest = dir.join(".terraform/modules/modules.json");
    let Ok(text) = crate::read_text(&manifest) else {
        return BTreeMap::new();
    };
    let Ok(doc) = crate::parse::json::parse(&text) else {
        return BTreeMap::new();
    };
    doc.get("Modules")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let key = m.get("Key")?.as_str()?;
            let folder = m.get("Dir")?.as_str()?;
            (!key.is_empty()).then(|| (key.to_string(), lexical_join(dir, folder)))
        })
        .collect()
}

impl Arena {
    /// Loads the module in `dir` and, recursively, the local modules it calls.
    fn load(
        &mut self,
        dir: &Path,
        key: &str,
        named: Option<&[PathBuf]>,
        root: &Path,
        out: &mut Outcome,
    ) -> Option<usize> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Some(&i) = self.by_dir.get(&canonical) {
            return Some(i);
        }
        let module = read_module(dir, &canonical, named, &mut out.errors)?;
        Some(self.register(module, dir, key, root, out))
    }

    /// Adds a module and, recursively, loads the modules it calls. `display_dir` is the
    /// folder as the user sees it; `key` the module's key (`eks.node_group`).
    fn register(
        &mut self,
        module: Module,
        display_dir: &Path,
        key: &str,
        root: &Path,
        out: &mut Outcome,
    ) -> usize {
        let canonical = module.dir.clone();
        let display_dir = display_dir.to_path_buf();
        let index = self.modules.len();
        self.by_dir.insert(canonical.clone(), index);
        let calls: Vec<(String, Option<String>)> = module
            .files
            .iter()
            .flat_map(|f| blocks(&f.body, "module"))
            .filter_map(|b| {
                let name = label(b, 0)?;
                let source = b
                    .body
                    .get_attribute("source")
                    .and_then(|a| literal_string(&a.value));
                Some((name, source))
            })
            .collect();
        self.modules.push(module);
        for (name, source) in calls {
            let child_key = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            let result = match source.as_deref() {
                Some(s) if s.starts_with("./") || s.starts_with("../") => {
                    let target = canonical.join(s);
                    let target = target.canonicalize().unwrap_or(target);
                    if !target.starts_with(root) {
                        Err(format!("module.{name} ({s}): outside the scanned folder"))
                    } else if !target.is_dir() {
                        Err(format!("module.{name} ({s}): folder not found"))
                    } else {
                        // Read through the caller's path, so files show as the user
                        // wrote the paths (relative), not as absolute paths.
                        let child = lexical_join(&display_dir, s);
                        self.load(&child, &child_key, None, root, out)
                            .ok_or_else(|| format!("module.{name} ({s}): no .tf files"))
                    }
                }
                // A remote module `terraform init` already installed is read where it
                // lies; one that is not installed is listed as not scanned.
                Some(s) => match self.installed.get(&child_key).cloned() {
                    Some(folder)
                        if folder
                            .canonicalize()
                            .is_ok_and(|c| c.starts_with(root) && c.is_dir()) =>
                    {
                        self.load(&folder, &child_key, None, root, out).ok_or_else(|| {
                            format!("module.{name} ({s}): installed, but no .tf files")
                        })
                    }
                    _ => Err(format!(
                        "module.{name} ({s}): remote source, not installed (run `terraform init` to have it read)"
                    )),
                },
                None => Err(format!("module.{name}: no literal source")),
            };
            self.calls.insert((index, name), result);
        }
        index
    }
}

/// Reads and parses the `.tf` files of a folder.
fn read_module(
    dir: &Path,
    canonical: &Path,
    named: Option<&[PathBuf]>,
    errors: &mut Vec<FileError>,
) -> Option<Module> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_terraform_file(p) && p.is_file())
        .collect();
    paths.sort();
    let named_canonical: Option<Vec<PathBuf>> = named.map(|n| {
        n.iter()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .collect()
    });
    let mut files = Vec::new();
    for path in paths {
        let display = match named.and_then(|n| {
            n.iter()
                .find(|p| p.canonicalize().ok() == path.canonicalize().ok())
        }) {
            Some(p) => p.display().to_string(),
            None => path.display().to_string(),
        };
        let reported = named_canonical
            .as_ref()
            .is_none_or(|n| path.canonicalize().is_ok_and(|c| n.contains(&c)));
        let text = match crate::read_text(&path) {
            Ok(t) => t,
            Err((pos, message)) => {
                if reported {
                    errors.push(file_error(&display, pos, message));
                }
                continue;
            }
        };
        // `.tf.json` is rewritten as native syntax, line for line.
        let text = if display.ends_with(".json") {
            match crate::parse::json::parse(&text) {
                Ok(doc) => crate::parse::hcl::json_syntax::to_hcl(&doc),
                Err(e) => {
                    if reported {
                        errors.push(file_error(&display, e.pos, e.message));
                    }
                    continue;
                }
            }
        } else {
            text
        };
        match crate::parse::hcl::parse(&text) {
            Ok(body) => files.push(TfFile {
                id: file_id(&display),
                display,
                text: Arc::from(text.as_str()),
                body,
                reported,
            }),
            Err(e) => {
                if reported {
                    errors.push(file_error(&display, e.pos, e.message));
                }
            }
        }
    }
    (!files.is_empty()).then(|| Module {
        dir: canonical.to_path_buf(),
        files,
    })
}

/// `dir/rel` with `.` and `..` resolved lexically (`a/b` + `../c` → `a/c`).
fn lexical_join(dir: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in dir.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `*.tf` and `*.tf.json`.
pub fn is_terraform_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tf") || n.ends_with(".tf.json"))
}

fn file_error(file: &str, pos: Option<Pos>, message: String) -> FileError {
    FileError {
        file: file.to_string(),
        line: pos.map(|p| p.line),
        column: pos.map(|p| p.column),
        message,
    }
}

/// Blocks of a kind at the top of a body.
fn blocks<'b>(body: &'b Body, ident: &'b str) -> impl Iterator<Item = &'b Block> + 'b {
    body.iter().filter_map(move |s| match s {
        Structure::Block(b) if b.ident.value().as_str() == ident => Some(b),
        _ => None,
    })
}

/// A block's label `i` as text.
fn label(b: &Block, i: usize) -> Option<String> {
    b.labels.get(i).map(|l| match l {
        BlockLabel::Ident(id) => id.value().to_string(),
        BlockLabel::String(s) => s.value().to_string(),
    })
}

/// A plain string literal (module `source` must be one).
fn literal_string(e: &Expression) -> Option<String> {
    match e {
        Expression::String(s) => Some(s.value().to_string()),
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            for el in t.iter() {
                out.push_str(el.as_literal()?.value());
            }
            Some(out)
        }
        _ => None,
    }
}

/// What all instances of one scan share.
struct Shared<'a> {
    arena: &'a Arena,
    lines: &'a [Vec<LineIndex<'a>>],
    /// The scanned folder: nothing outside it is read.
    root: PathBuf,
    /// The root module's folder: where relative `file()` paths start, as in Terraform.
    root_dir: PathBuf,
    /// Evaluation work left for the whole configuration.
    budget: Cell<u64>,
    /// Module instances created so far.
    module_instances: Cell<usize>,
    /// Policy documents reported as data sources, by where their document starts.
    rendered: RefCell<Vec<(FileId, Pos)>>,
    errors: RefCell<Vec<FileError>>,
    /// Files read by `file()`/`templatefile()`, kept alive for their positions.
    extra_files: RefCell<Vec<Arc<str>>>,
}

impl Shared<'_> {
    fn report(&self, file: &str, pos: Pos, message: String) {
        self.errors
            .borrow_mut()
            .push(file_error(file, Some(pos), message));
    }
}

/// A declaration: which file and which block or attribute.
struct Decl<'m, T> {
    file: usize,
    item: &'m T,
}

impl<T> Clone for Decl<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Decl<'_, T> {}

/// A value being computed or computed.
#[derive(Clone)]
enum Slot {
    InProgress,
    Done(V),
}

/// One instance of a module (the root, or `module.app["x"]`) with its variable values.
struct Instance<'m> {
    shared: &'m Shared<'m>,
    index: usize,
    module: &'m Module,
    /// `module.app` for a child, empty for the root.
    address: String,
    inputs: BTreeMap<String, V>,
    variables: BTreeMap<String, Decl<'m, Block>>,
    locals: BTreeMap<String, Decl<'m, Attribute>>,
    resources: BTreeMap<(String, String), Decl<'m, Block>>,
    data: BTreeMap<(String, String), Decl<'m, Block>>,
    modules: BTreeMap<String, Decl<'m, Block>>,
    outputs: BTreeMap<String, Decl<'m, Block>>,
    /// Resources and data sources declared twice (data?, (type, name), the second one).
    duplicates: Vec<(bool, (String, String), Decl<'m, Block>)>,
    cache: RefCell<BTreeMap<String, Slot>>,
    children: RefCell<BTreeMap<String, Rc<Instance<'m>>>>,
    /// Module folders (arena indexes) from the root down to this instance's caller: a
    /// call back into one of them, or into this one, is a cycle.
    ancestors: Vec<usize>,
    /// The resources each input's expression refers to in the caller ([`refs`]).
    input_refs: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// The literal text of each input's expression in the caller ([`refs`]).
    input_literals: BTreeMap<String, String>,
}

impl<'m> Instance<'m> {
    fn new(
        shared: &'m Shared<'m>,
        index: usize,
        address: String,
        inputs: BTreeMap<String, V>,
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

    fn file(&self, i: usize) -> &'m TfFile {
        &self.module.files[i]
    }

    fn evaluator<'b>(&'b self, file: usize, budget: &'b Cell<u64>) -> Evaluator<'b> {
        Evaluator::new(
            self,
            self.module.files[file].id,
            &self.shared.lines[self.index][file],
            budget,
        )
    }

    /// A budget for one top-level item: [`ITEM_BUDGET`], or what is left of the
    /// configuration's. Give it back with [`Self::spent`].
    fn item_budget(&self) -> Cell<u64> {
        Cell::new(ITEM_BUDGET.min(self.shared.budget.get()))
    }

    /// Charges the configuration for what an item used.
    fn spent(&self, start: u64, budget: &Cell<u64>) {
        let used = start.saturating_sub(budget.get());
        self.shared
            .budget
            .set(self.shared.budget.get().saturating_sub(used));
    }

    fn pos(&self, file: usize, span: Option<std::ops::Range<usize>>) -> Pos {
        span.map_or(Pos::new(1, 1), |s| {
            self.shared.lines[self.index][file].pos(s.start)
        })
    }

    fn prefixed(&self, address: &str) -> String {
        if self.address.is_empty() {
            address.to_string()
        } else {
            format!("{}.{address}", self.address)
        }
    }

    /// Evaluates once per key, detecting cycles.
    fn memo(&self, key: &str, pos: Pos, compute: impl FnOnce() -> V) -> Result<V, EvalError> {
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
        self.cache
            .borrow_mut()
            .insert(key.to_string(), Slot::InProgress);
        let v = compute();
        self.cache
            .borrow_mut()
            .insert(key.to_string(), Slot::Done(v.clone()));
        Ok(v)
    }

    /// Evaluates an expression of file `file`; errors become unknown (fatal ones are
    /// reported).
    fn eval_in(&self, file: usize, e: &Expression, bindings: &[(&str, V)]) -> V {
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

    fn unknown_after(&self, err: EvalError, file: usize, e: &Expression) -> V {
        let pos = self.pos(file, e.span());
        if err.fatal {
            let f = self.file(file);
            self.shared.report(&f.display, err.pos, err.message);
        }
        V::new(pos, self.file(file).id, Val::Unknown)
    }

    fn variable_value(&self, name: &str, pos: Pos) -> Option<V> {
        if let Some(v) = self.inputs.get(name) {
            return Some(v.clone());
        }
        let decl = self.variables.get(name)?;
        Some(match decl.item.body.get_attribute("default") {
            Some(a) => self.eval_in(decl.file, &a.value, &[]),
            None => V::new(pos, 0, Val::Unknown),
        })
    }

    fn local_value(&self, name: &str, pos: Pos) -> Result<Option<V>, EvalError> {
        let Some(decl) = self.locals.get(name).copied() else {
            return Ok(None);
        };
        self.memo(&format!("local.{name}"), pos, || {
            self.eval_in(decl.file, &decl.item.value, &[])
        })
        .map(Some)
    }

    /// All instances of a resource or data source, as a reference sees them.
    fn resource_value(
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

    /// How a resource or module block expands.
    fn instances(&self, decl: Decl<'m, Block>) -> Expansion {
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

    /// A block's attributes and nested blocks in plan JSON's shape.
    fn block_value(
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

    fn body_into(
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
    fn dynamic_into(
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

    /// Evaluates each instance of a resource or data source block as its expansion says,
    /// with its instance key. An unknown `count`/`for_each` gives one instance judged
    /// with unknown `count.index`/`each`.
    fn expand(&self, decl: Decl<'m, Block>, rtype: &str, expansion: Expansion) -> Vec<(Key, V)> {
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
    fn module_value(&self, name: &str, pos: Pos) -> Result<Option<V>, EvalError> {
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
    fn child(
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
            inputs.insert(key.to_string(), self.eval_in(decl.file, &a.value, bindings));
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

    fn outputs_value(&self, pos: Pos, file: FileId) -> V {
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

    /// Extracts the facts of every resource and data source instance, then the child
    /// modules'.
    fn extract(&self, facts: &mut Facts, unscanned: &mut Vec<String>) {
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
                    let node = v.to_node(file.id, fallback);
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
    fn link_node_groups(&self, facts: &mut Facts) {
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
fn rendered_document(v: &V) -> Option<(FileId, Pos)> {
    let Val::Map(m) = &v.val else { return None };
    match &m.get("json")?.1.val {
        Val::Encoded(_, doc) => Some((doc.file, doc.pos)),
        _ => None,
    }
}

/// `v` with the policy documents already reported replaced by null.
fn without_documents(v: V, reported: &[(FileId, Pos)]) -> V {
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

/// An instance's key: none, `[0]`, `["orders"]`, or `[*]` when unknown.
enum Key {
    None,
    Index(usize),
    Name(String),
    Unknown,
}

impl Key {
    /// The address suffix, as Terraform prints it.
    fn suffix(&self) -> String {
        match self {
            Key::None => String::new(),
            Key::Index(i) => format!("[{i}]"),
            Key::Name(n) => format!("[{n:?}]"),
            Key::Unknown => "[*]".into(),
        }
    }

    /// The key in a `for_each` map of instances.
    fn name(self) -> String {
        match self {
            Key::Name(n) => n,
            Key::Index(i) => i.to_string(),
            Key::None | Key::Unknown => String::new(),
        }
    }
}

/// How many instances a block has.
enum Expansion {
    Single,
    Unknown,
    Count(usize),
    Each(Vec<(String, V)>),
}

fn count_object(i: usize, pos: Pos, file: FileId) -> V {
    V::new(
        pos,
        file,
        Val::Map(BTreeMap::from([(
            "index".to_string(),
            (pos, V::new(pos, file, Val::Num(i as f64))),
        )])),
    )
}

fn each_object(key: &str, value: V, pos: Pos, file: FileId) -> V {
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

/// Appends a nested block to the list under its name (plan JSON's shape).
fn push_block(map: &mut BTreeMap<String, (Pos, V)>, name: &str, kpos: Pos, block: V) {
    let entry = map
        .entry(name.to_string())
        .or_insert_with(|| (kpos, V::new(kpos, block.file, Val::List(Vec::new()))));
    if let Val::List(items) = &mut entry.1.val {
        items.push(block);
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
            ("var", Some(name)) => this.variable_value(name, pos).map(|v| (v, 1)),
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
        let text = crate::read_text(&canonical).map_err(|(_, m)| m)?;
        let text: Arc<str> = Arc::from(text.as_str());
        self.shared.extra_files.borrow_mut().push(text.clone());
        Ok((text, file_id(&canonical.display().to_string())))
    }
}

/// The root module's variable values: `terraform.tfvars`, `*.auto.tfvars` (sorted),
/// `--var-file`s, then `--var`s; later ones win.
fn root_variables(shared: &Shared, dir: &Path, inputs: &Inputs) -> BTreeMap<String, V> {
    let mut files: Vec<PathBuf> = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let tfvars = dir.join(name);
        if tfvars.is_file() {
            files.push(tfvars);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json")
        })
        .collect();
    auto.sort();
    files.extend(auto);
    files.extend(inputs.var_files.iter().cloned());
    // Environment variables come first; every file and `--var` overrides them.
    let mut values: BTreeMap<String, V> = inputs
        .env
        .iter()
        .map(|(name, raw)| (name.clone(), command_line_value(raw)))
        .collect();
    for f in files {
        let display = f.display().to_string();
        let text = match crate::read_text(&f) {
            Ok(t) => t,
            Err((pos, m)) => {
                shared
                    .errors
                    .borrow_mut()
                    .push(file_error(&display, pos, m));
                continue;
            }
        };
        if display.ends_with(".json") {
            match crate::parse::json::parse(&text) {
                Ok(doc) => {
                    for e in doc.entries() {
                        values.insert(e.key.clone(), V::from_node(&e.value, file_id(&display), 0));
                    }
                }
                Err(e) => shared
                    .errors
                    .borrow_mut()
                    .push(file_error(&display, e.pos, e.message)),
            }
            continue;
        }
        match crate::parse::hcl::parse(&text) {
            Ok(body) => {
                let lines = LineIndex::new(&text);
                let scope = crate::parse::hcl::eval::NoScope;
                let budget = Cell::new(DEFAULT_BUDGET);
                let mut ev = Evaluator::new(&scope, file_id(&display), &lines, &budget);
                for a in body.attributes() {
                    match ev.eval(&a.value) {
                        Ok(v) => {
                            values.insert(a.key.value().to_string(), v);
                        }
                        Err(e) => shared.report(&display, e.pos, e.message),
                    }
                }
            }
            Err(e) => shared
                .errors
                .borrow_mut()
                .push(file_error(&display, e.pos, e.message)),
        }
    }
    for (name, raw) in &inputs.vars {
        values.insert(name.clone(), command_line_value(raw));
    }
    values
}

/// A `--var` or `TF_VAR_` value: HCL syntax if it parses (lists, maps, numbers), else
/// a string, as Terraform reads them.
fn command_line_value(raw: &str) -> V {
    let text = format!("v = {raw}\n");
    let lines = LineIndex::new(&text);
    let scope = crate::parse::hcl::eval::NoScope;
    let budget = Cell::new(DEFAULT_BUDGET);
    let parsed = crate::parse::hcl::parse(&text).ok();
    parsed
        .as_ref()
        .and_then(|b| b.get_attribute("v"))
        .and_then(|a| {
            Evaluator::new(&scope, 1, &lines, &budget)
                .eval(&a.value)
                .ok()
        })
        .unwrap_or_else(|| V::new(Pos::new(1, 1), 1, Val::Str(raw.to_string())))
}
