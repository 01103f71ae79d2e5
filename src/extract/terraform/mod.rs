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
//!
//! The work is split by job, one file each:
//! - [`load`]: reading a folder's `.tf` files and the modules they call;
//! - `variables`: what `var.x` is (root inputs, module arguments, defaults,
//!   `nullable`), converted to its type constraint by [`types`];
//! - `instance`: one module instance and the lazy evaluation of its references;
//! - `expand`: `count`/`for_each` instances and module calls;
//! - `extract`: resource instances into plan JSON's shape, then [`resources`].

mod expand;
mod extract;
mod instance;
pub mod links;
pub mod load;
pub mod locate;
pub mod policy_document;
pub mod provider_defaults;
pub mod refs;
pub mod resources;
pub mod types;
mod variables;

pub use load::is_terraform_file;
pub use variables::Inputs;

use crate::facts::Facts;
use crate::parse::hcl::value::FileId;
use crate::parse::{FileError, LineIndex, Pos};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use instance::{Instance, Shared};
use load::{installed_modules, Arena, Module, TfFile};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Evaluation work allowed for one top-level item (a local, an attribute of a resource
/// instance, a module input) and for a whole configuration: a `for` over a huge range
/// makes its own item unknown, not the rest of the module.
pub(crate) const ITEM_BUDGET: u64 = 500_000;
pub(crate) const CONFIG_BUDGET: u64 = 50_000_000;

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

/// The id of a file path: its [`Origin`](crate::parse::Origin) handle, so a value
/// evaluated in one file can name that file wherever it is used.
pub fn file_id(path: &str) -> FileId {
    crate::parse::Origin::of(path).index()
}

/// Scans a root module: the `.tf` files in `dir`. When `named` is given (files named on
/// the command line), only their resources are reported; the folder's other files
/// still supply what they refer to. `root` bounds what `file()` and module sources may
/// read.
pub fn scan_root(dir: &Path, named: Option<&[PathBuf]>, root: &Path, inputs: &Inputs) -> Outcome {
    let mut out = Outcome::default();
    let mut arena = Arena {
        installed: installed_modules(dir, root),
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
        installed: installed_modules(&cwd, &root),
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
        reference_depth: Cell::new(0),
        refused_instances: Cell::new(0),
        rendered: RefCell::new(Vec::new()),
        errors: RefCell::new(Vec::new()),
        extra_files: RefCell::new(Vec::new()),
        module_of_file: arena
            .modules
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.files.iter().map(move |f| (f.id, i)))
            .collect(),
    };
    let root_inputs = variables::root_variables(&shared, dir, inputs);
    let instance = Instance::new(&shared, root_index, String::new(), root_inputs, Vec::new());
    instance.extract(&mut out.facts, &mut out.unscanned_modules);
    let refused = shared.refused_instances.get();
    let mut errors = shared.errors.into_inner();
    if refused > 1 {
        if let Some(first) = errors
            .iter_mut()
            .find(|e| e.message.contains("module instances in this configuration"))
        {
            first.message.push_str(&format!(
                " (nor are {} more instances beyond the limit)",
                refused - 1
            ));
        }
    }
    out.errors.extend(group_alike(errors));
    out.errors
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out.errors.dedup();
}

/// Errors that say the same thing at the same place for different instances of a
/// module (`module.a[0]…`, `module.a[1]…`) become one, with a count: a module called
/// a thousand times must not print a thousand lines.
fn group_alike(errors: Vec<FileError>) -> Vec<FileError> {
    let mask = |m: &str| -> String {
        let mut out = String::with_capacity(m.len());
        let mut in_key = false;
        for c in m.chars() {
            match c {
                '[' => {
                    in_key = true;
                    out.push_str("[…");
                }
                ']' => {
                    in_key = false;
                    out.push(']');
                }
                _ if in_key => {}
                c => out.push(c),
            }
        }
        out
    };
    let mut groups: Vec<(FileError, usize)> = Vec::new();
    let mut index: std::collections::HashMap<(String, Option<u32>, Option<u32>, String), usize> =
        std::collections::HashMap::new();
    for e in errors {
        let key = (e.file.clone(), e.line, e.column, mask(&e.message));
        match index.get(&key) {
            Some(&i) => groups[i].1 += 1,
            None => {
                index.insert(key, groups.len());
                groups.push((e, 0));
            }
        }
    }
    groups
        .into_iter()
        .map(|(mut e, more)| {
            if more > 0 {
                e.message
                    .push_str(&format!(" (and {more} more like this for other instances)"));
            }
            e
        })
        .collect()
}

/// An error in `file`, at `pos` when known.
fn file_error(file: &str, pos: Option<Pos>, message: String) -> FileError {
    FileError::new(file, pos, message)
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
