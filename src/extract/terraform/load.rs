//! Module loading: the `.tf` files of a folder, parsed, and the local and installed
//! modules they call, read before anything is evaluated. Nothing is fetched: a remote
//! module is read only where `terraform init` already put it.

use super::{blocks, file_error, file_id, label, literal_string, Outcome};
use crate::parse::hcl::value::FileId;
use crate::parse::{FileError, Node};
use hcl_edit::structure::Body;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Every loaded module, so instances can borrow them for the whole evaluation.
#[derive(Default)]
pub(super) struct Arena {
    pub(super) modules: Vec<Module>,
    pub(super) by_dir: HashMap<PathBuf, usize>,
    /// Module calls by (calling module, call name): the callee, or why not followed.
    pub(super) calls: HashMap<(usize, String), Result<usize, String>>,
    /// Where `terraform init` put remote modules: module key (`eks.node_group`) →
    /// folder (display path), from `.terraform/modules/modules.json`. Reading them is
    /// reading files already on disk; nothing is fetched.
    pub(super) installed: BTreeMap<String, PathBuf>,
}

/// The remote modules `terraform init` installed for the root module in `dir`.
pub(super) fn installed_modules(dir: &Path, root: &Path) -> BTreeMap<String, PathBuf> {
    let manifest = dir.join(".terraform/modules/modules.json");
    let Ok(text) = crate::parse::read_text_within(&manifest, root) else {
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
    pub(super) fn load(
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
        let module = read_module(dir, &canonical, named, root, &mut out.errors)?;
        Some(self.register(module, dir, key, root, out))
    }

    /// Adds a module and, recursively, loads the modules it calls. `display_dir` is the
    /// folder as the user sees it; `key` the module's key (`eks.node_group`).
    pub(super) fn register(
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
pub(super) fn read_module(
    dir: &Path,
    canonical: &Path,
    named: Option<&[PathBuf]>,
    root: &Path,
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
        // A `.tf` that links out of the scanned folder is not read (named files are
        // the user's choice).
        let read = if named.is_some() && reported {
            crate::parse::read_text(&path)
        } else {
            crate::parse::read_text_within(&path, root)
        };
        let text = match read {
            Ok(t) => t,
            // The folder walk lists it as passed over, with the reason.
            Err((_, m)) if m == crate::parse::OUTSIDE_ROOT => continue,
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
pub(super) fn lexical_join(dir: &Path, rel: &str) -> PathBuf {
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
