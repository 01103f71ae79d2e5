//! Kustomize, rendered the way `kubectl kustomize` builds it, offline: nothing is
//! fetched and nothing is run.
//!
//! A folder with a `kustomization.yaml` (`kustomization.yml`, `Kustomization`) is a
//! kustomization. Its `resources` (files, and folders that are kustomizations, built
//! first), generators and `components` are gathered, then its transformers run in
//! Kustomize's order: `patchesStrategicMerge`, `patches`, `namespace`, `namePrefix` and
//! `nameSuffix`, `commonLabels` and `labels`, `commonAnnotations`, `patchesJson6902`,
//! `replicas`, `images`. Once the root is built, generated names get their content
//! hash and references to renamed objects (a ServiceAccount in a pod spec, a ConfigMap
//! in a volume) follow them.
//!
//! Every value keeps the file and line it came from ([`crate::parse::Origin`]): the
//! base resource, the patch that set it, or the kustomization entry that did. Remote
//! resources, `helmCharts` and plugins are listed as not scanned, with the reason.

mod generate;
mod merge;
mod transform;

use super::tree;
use crate::parse::{FileError, Node, Origin, Pos, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The names a kustomization file may have, in the order Kustomize looks for them.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Kustomizations nested deeper than this (resources of resources …) are refused: a
/// cycle through symbolic links, or a crafted chain.
const MAX_DEPTH: usize = 64;

/// Objects one root kustomization may render; past it the rest is refused with an error.
const MAX_OBJECTS: usize = 100_000;

/// Whether a file is a kustomization file, by name.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// A kustomization to consider: its file as the report names it, and the scanned folder
/// it was found in (nothing outside it is read).
#[derive(Clone, Debug)]
pub struct Found {
    /// The kustomization file, as discovered.
    pub file: PathBuf,
    /// The scanned folder (canonical).
    pub scan_root: PathBuf,
}

/// The objects of one root kustomization, as Kustomize would print them.
#[derive(Debug)]
pub struct Rendered {
    /// The kustomization file, as the report names it.
    pub kustomization: String,
    /// Its folder, as the report names it.
    pub folder: String,
    /// Its folder, canonical.
    pub dir: PathBuf,
    /// The rendered objects; every position names its file.
    pub objects: Vec<Node>,
}

/// What rendering every kustomization of a scan gave.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One entry per root kustomization (one that no other scanned kustomization
    /// includes).
    pub roots: Vec<Rendered>,
    /// Every file read to render them (canonical): not judged again on its own.
    pub consumed: BTreeSet<PathBuf>,
    /// Files that could not be read or parsed, patches that could not be applied.
    pub errors: Vec<FileError>,
    /// What was not rendered: remote resources, Helm charts, plugins, resources outside
    /// the scanned folder, as `kustomization file: what (source): why`.
    pub not_scanned: Vec<String>,
}

/// Renders the root kustomizations among `found`.
pub fn render_all(found: &[Found]) -> Outcome {
    let mut out = Outcome::default();
    // Kustomization folders, canonical, and the folders each one includes.
    let mut includes: BTreeMap<PathBuf, (Found, BTreeSet<PathBuf>)> = BTreeMap::new();
    for f in found {
        let Some(dir) = f.file.parent().and_then(|d| {
            let d = if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            };
            d.canonicalize().ok()
        }) else {
            continue;
        };
        // The first of the names Kustomize looks for is the one it reads.
        if kustomization_in(&dir).as_deref() != f.file.canonicalize().ok().as_deref() {
            out.consumed.extend(f.file.canonicalize().ok());
            continue;
        }
        let inc = direct_includes(&dir, &f.scan_root);
        includes.insert(dir, (f.clone(), inc));
    }
    let included: BTreeSet<&PathBuf> = includes
        .iter()
        .flat_map(|(d, (_, inc))| inc.iter().filter(move |i| *i != d))
        .collect();
    for (dir, (f, _)) in &includes {
        if included.contains(dir) {
            continue;
        }
        let mut b = Builder::new(&f.scan_root);
        let shown_file = crate::discover::display_path(&f.file);
        let folder = shown_folder(&shown_file);
        let mut acc = Vec::new();
        b.build(dir, &folder, false, &mut acc, None);
        b.finish(&mut acc);
        out.consumed.extend(b.consumed);
        out.errors.extend(b.errors);
        out.not_scanned.extend(b.not_scanned);
        out.roots.push(Rendered {
            kustomization: shown_file,
            folder,
            dir: dir.clone(),
            objects: acc.into_iter().map(|r| r.obj).collect(),
        });
    }
    out.not_scanned.sort();
    out.not_scanned.dedup();
    out.errors.dedup();
    out
}

/// The folder part of a shown file name (`.` for a bare name).
fn shown_folder(file: &str) -> String {
    match Path::new(file).parent() {
        Some(p) if !p.as_os_str().is_empty() => crate::discover::display_path(p),
        _ => ".".to_string(),
    }
}

/// `rel` under the shown folder `base`, as the report names it (`./k8s` + `../base/x`
/// → `./base/x`).
fn shown_join(base: &str, rel: &str) -> String {
    let joined = crate::discover::lexical(&Path::new(base).join(rel));
    let text = crate::discover::display_path(&joined);
    let text = if text.is_empty() {
        ".".to_string()
    } else {
        text
    };
    if base.starts_with("./") && !text.starts_with('.') && !text.starts_with('/') {
        format!("./{text}")
    } else {
        text
    }
}

/// The kustomization file Kustomize reads in a folder.
fn kustomization_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
}

/// Whether a resource names something remote (a URL, a git repository).
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
        || entry.contains(".git//")
}

/// The kustomization folders a kustomization names in `resources`, `bases` and
/// `components` (canonical), for telling roots from what they include.
fn direct_includes(dir: &Path, scan_root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let Some(file) = kustomization_in(dir) else {
        return out;
    };
    let Ok(text) = crate::parse::read_text_within(&file, scan_root) else {
        return out;
    };
    let Ok(docs) = crate::parse::yaml::parse_lenient(&text).map(|(d, _)| d) else {
        return out;
    };
    let Some(doc) = docs.first() else { return out };
    for key in ["resources", "bases", "components"] {
        for item in doc.get(key).map(Node::items).unwrap_or_default() {
            let Some(rel) = item.as_str() else { continue };
            if is_remote(rel) {
                continue;
            }
            if let Ok(p) = dir.join(rel).canonicalize() {
                if p.is_dir() {
                    out.insert(p);
                }
            }
        }
    }
    out
}

/// One object being built, with the names it had (Kustomize matches patches and
/// references by any of them).
#[derive(Clone, Debug)]
pub struct Res {
    /// The object.
    pub obj: Node,
    /// (namespace, name) it had, the original first.
    pub ids: Vec<(Option<String>, String)>,
    /// A generated ConfigMap or Secret whose name gets the content hash.
    hash: bool,
}

impl Res {
    fn new(obj: Node) -> Res {
        let ns = tree::text_at(&obj, &["metadata", "namespace"]);
        let name = tree::text_at(&obj, &["metadata", "name"]).unwrap_or_default();
        Res {
            obj,
            ids: vec![(ns, name)],
            hash: false,
        }
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.obj
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or_default()
    }

    fn api_version(&self) -> &str {
        self.obj
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or_default()
    }

    /// The API group (`apps`; `""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The API version (`v1`).
    pub fn version(&self) -> &str {
        let v = self.api_version();
        v.rsplit_once('/').map_or(v, |(_, v)| v)
    }

    /// The current name.
    pub fn name(&self) -> Option<String> {
        tree::text_at(&self.obj, &["metadata", "name"])
    }

    /// The current namespace.
    pub fn namespace(&self) -> Option<String> {
        tree::text_at(&self.obj, &["metadata", "namespace"])
    }

    /// Records the current name and namespace after a change.
    fn renamed(&mut self) {
        let now = (self.namespace(), self.name().unwrap_or_default());
        if self.ids.last() != Some(&now) {
            self.ids.push(now);
        }
    }

    /// Whether the object is a built-in Kubernetes kind (its lists merge only by the
    /// keys Kubernetes defines).
    fn builtin(&self) -> bool {
        let g = self.group();
        !g.contains('.') || g.ends_with(".k8s.io")
    }
}

/// Builds kustomizations below one scanned folder.
struct Builder {
    scan_root: PathBuf,
    consumed: BTreeSet<PathBuf>,
    errors: Vec<FileError>,
    not_scanned: Vec<String>,
    /// Kustomization folders being built, for cycles.
    stack: Vec<PathBuf>,
    /// Something was not rendered (remote, outside): a patch without a target may be
    /// meant for it, so it is not an error.
    partial: bool,
    objects: usize,
}

/// A kustomization file, read.
struct Kust {
    /// The file as the report names it.
    shown: String,
    /// The folder as the report names it.
    folder: String,
    /// The folder, canonical.
    dir: PathBuf,
    /// Its text (for inline patches' positions).
    text: String,
    /// The document.
    doc: Node,
}

impl Builder {
    fn new(scan_root: &Path) -> Builder {
        Builder {
            scan_root: scan_root.to_path_buf(),
            consumed: BTreeSet::new(),
            errors: Vec::new(),
            not_scanned: Vec::new(),
            stack: Vec::new(),
            partial: false,
            objects: 0,
        }
    }

    fn error(&mut self, pos: Pos, fallback: &str, message: impl Into<String>) {
        self.errors
            .push(FileError::new(&pos.file_or(fallback), Some(pos), message));
    }

    fn skip(&mut self, k: &Kust, what: String, why: &str) {
        self.partial = true;
        self.not_scanned.push(format!("{}: {what}: {why}", k.shown));
    }

    /// Reads and parses a file inside the scanned folder, every position marked with its
    /// shown name. `None` after reporting why.
    fn load(
        &mut self,
        real: &Path,
        shown: &str,
        at: Option<(Pos, &str)>,
    ) -> Option<(String, Vec<Node>)> {
        let text = match crate::parse::read_text_within(real, &self.scan_root) {
            Ok(t) => t,
            Err((pos, message)) => {
                match at {
                    Some((p, f)) => self.error(p, f, format!("{shown}: {message}")),
                    None => self.errors.push(FileError::new(shown, pos, message)),
                }
                return None;
            }
        };
        self.consumed.extend(real.canonicalize().ok());
        let origin = Origin::of(shown);
        match crate::parse::yaml::parse_lenient(&text) {
            Ok((mut docs, dups)) => {
                for d in dups {
                    self.errors.push(FileError::new(shown, d.pos, d.message));
                }
                docs.iter_mut().for_each(|d| d.set_origin(origin));
                Some((text, docs))
            }
            Err(e) => {
                self.errors.push(FileError::new(shown, e.pos, e.message));
                None
            }
        }
    }

    /// Builds the kustomization in `dir` into `acc` (a component changes `acc` itself).
    fn build(
        &mut self,
        dir: &Path,
        folder: &str,
        component: bool,
        acc: &mut Vec<Res>,
        at: Option<(Pos, String)>,
    ) {
        if self.stack.contains(&dir.to_path_buf()) || self.stack.len() >= MAX_DEPTH {
            let message = if self.stack.len() >= MAX_DEPTH {
                format!("kustomizations nested deeper than {MAX_DEPTH}; not rendered")
            } else {
                "this kustomization includes itself (a cycle); not rendered again".to_string()
            };
            match &at {
                Some((p, f)) => self.error(*p, f, message),
                None => self.errors.push(FileError::new(folder, None, message)),
            }
            return;
        }
        let Some(file) = kustomization_in(dir) else {
            let message = format!("{folder}: no kustomization.yaml in this folder");
            match &at {
                Some((p, f)) => self.error(*p, f, message),
                None => self.errors.push(FileError::new(folder, None, message)),
            }
            return;
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shown = shown_join(folder, &name);
        let Some((text, docs)) =
            self.load(&file, &shown, at.as_ref().map(|(p, f)| (*p, f.as_str())))
        else {
            return;
        };
        let doc = docs
            .into_iter()
            .next()
            .unwrap_or(Node::new(Pos::new(1, 1), Value::Null));
        let k = Kust {
            shown,
            folder: folder.to_string(),
            dir: dir.to_path_buf(),
            text,
            doc,
        };
        self.stack.push(dir.to_path_buf());
        if component {
            self.kustomize(&k, acc);
        } else {
            let mut own = Vec::new();
            self.kustomize(&k, &mut own);
            acc.extend(own);
        }
        self.stack.pop();
    }

    /// Resources, generators, components, then transformers, on `own`.
    fn kustomize(&mut self, k: &Kust, own: &mut Vec<Res>) {
        let doc = &k.doc;
        for key in ["resources", "bases"] {
            for item in doc.get(key).map(Node::items).unwrap_or_default() {
                self.resource(k, item, own);
            }
        }
        self.generators(k, own);
        for item in doc.get("components").map(Node::items).unwrap_or_default() {
            let Some(rel) = item.as_str() else { continue };
            if is_remote(rel) {
                self.skip(k, format!("component {rel}"), "remote; not fetched");
                continue;
            }
            match self.local(k, rel, item.pos, "component") {
                Some((real, shown)) if real.is_dir() => {
                    self.build(&real, &shown, true, own, Some((item.pos, k.shown.clone())))
                }
                Some(_) => self.error(
                    item.pos,
                    &k.shown,
                    format!("component {rel} is not a folder"),
                ),
                None => {}
            }
        }
        for key in ["helmCharts", "helmChartInflationGenerator"] {
            for item in doc.get(key).map(Node::items).unwrap_or_default() {
                let name = tree::text(item.get("name")).unwrap_or_else(|| "(unnamed)".into());
                let repo = tree::text(item.get("repo")).unwrap_or_default();
                self.skip(
                    k,
                    format!("helmCharts {name} ({repo})"),
                    &format!(
                        "Helm charts are not run; render them (`kubectl kustomize --enable-helm {} | breakout scan -`)",
                        k.folder
                    ),
                );
            }
        }
        for key in ["generators", "validators"] {
            if !doc.get(key).map(Node::items).unwrap_or_default().is_empty() {
                self.skip(
                    k,
                    key.to_string(),
                    "plugins are not run; what they change is not seen",
                );
            }
        }
        for key in ["replacements", "vars"] {
            if !doc.get(key).map(Node::items).unwrap_or_default().is_empty() {
                self.not_scanned.push(format!(
                    "{}: {key}: not applied; the fields they would set keep their written values",
                    k.shown
                ));
            }
        }
        // Transformers, in Kustomize's order.
        for item in doc
            .get("patchesStrategicMerge")
            .map(Node::items)
            .unwrap_or_default()
        {
            self.strategic_patch_item(k, item, own);
        }
        for item in doc.get("patches").map(Node::items).unwrap_or_default() {
            self.patch_item(k, item, own);
        }
        if let Some(e) = doc
            .entry("namespace")
            .filter(|e| e.value.as_str().is_some_and(|s| !s.is_empty()))
        {
            for r in own.iter_mut() {
                transform::namespace(r, &e.value, e.key_pos);
            }
        }
        let affix = |key: &str| {
            doc.get(key)
                .and_then(|n| Some((n.as_str()?.to_string(), n.pos)))
                .filter(|(s, _)| !s.is_empty())
        };
        let (prefix, suffix) = (affix("namePrefix"), affix("nameSuffix"));
        if prefix.is_some() || suffix.is_some() {
            for r in own.iter_mut() {
                transform::rename(r, prefix.as_ref(), suffix.as_ref());
            }
        }
        self.labels(k, own);
        if let Some(e) = doc.entry("commonAnnotations") {
            let pairs = pairs(&e.value);
            let specs = transform::config().common_annotations.clone();
            for r in own.iter_mut() {
                transform::add_pairs(r, &specs, &pairs, e.key_pos);
            }
        }
        for item in doc
            .get("patchesJson6902")
            .map(Node::items)
            .unwrap_or_default()
        {
            self.json_patch_item(k, item, own);
        }
        for item in doc.get("replicas").map(Node::items).unwrap_or_default() {
            let (Some(name), Some(count)) = (tree::text(item.get("name")), item.get("count"))
            else {
                continue;
            };
            for r in own
                .iter_mut()
                .filter(|r| r.ids.iter().any(|(_, n)| *n == name))
            {
                transform::replicas(r, count);
            }
        }
        for item in doc.get("images").map(Node::items).unwrap_or_default() {
            let Some(name) = tree::text(item.get("name")) else {
                continue;
            };
            let field = |k: &str| tree::text(item.get(k));
            let rule = transform::ImageRule {
                name,
                new_name: field("newName"),
                new_tag: field("newTag"),
                digest: field("digest"),
                tag_suffix: field("tagSuffix"),
                pos: item
                    .entry("newTag")
                    .or_else(|| item.entry("digest"))
                    .or_else(|| item.entry("newName"))
                    .map_or(item.pos, |e| e.value.pos),
            };
            for r in own.iter_mut() {
                transform::images(r, &rule);
            }
        }
        self.transformers(k, own);
    }

    /// A local path a kustomization names, inside the scanned folder: (real, shown).
    fn local(&mut self, k: &Kust, rel: &str, pos: Pos, what: &str) -> Option<(PathBuf, String)> {
        let shown = shown_join(&k.folder, rel);
        let Ok(real) = k.dir.join(rel).canonicalize() else {
            self.error(pos, &k.shown, format!("{what} {rel}: not found"));
            return None;
        };
        if !real.starts_with(&self.scan_root) {
            self.skip(
                k,
                format!("{what} {rel}"),
                "outside the repository (or the scanned folder); not read",
            );
            return None;
        }
        // As Kustomize: a file must be in or below the kustomization's folder (other
        // kustomizations may be anywhere).
        if real.is_file() && !real.starts_with(&k.dir) {
            self.error(
                pos,
                &k.shown,
                format!(
                    "{what} {rel} is not in or below the kustomization's folder; \
                     Kustomize refuses it"
                ),
            );
            return None;
        }
        Some((real, shown))
    }

    fn resource(&mut self, k: &Kust, item: &Node, own: &mut Vec<Res>) {
        let Some(rel) = item.as_str() else {
            self.error(item.pos, &k.shown, "a resource must be a path or a URL");
            return;
        };
        if is_remote(rel) {
            self.skip(
                k,
                format!("resource {rel}"),
                &format!(
                    "remote; not fetched (render it with `kubectl kustomize {} | breakout scan -`)",
                    k.folder
                ),
            );
            return;
        }
        let Some((real, shown)) = self.local(k, rel, item.pos, "resource") else {
            return;
        };
        if real.is_dir() {
            self.build(&real, &shown, false, own, Some((item.pos, k.shown.clone())));
            return;
        }
        let Some((_, docs)) = self.load(&real, &shown, Some((item.pos, &k.shown))) else {
            return;
        };
        for d in docs {
            self.add_object(d, own, &shown);
        }
    }

    /// Adds a document's objects (the items of a `List`).
    fn add_object(&mut self, d: Node, own: &mut Vec<Res>, shown: &str) {
        if matches!(d.value, Value::Null) {
            return;
        }
        let kind = tree::text(d.get("kind")).unwrap_or_default();
        if kind.ends_with("List") && d.get("items").is_some() {
            for item in d.get("items").map(Node::items).unwrap_or_default() {
                self.add_object(item.clone(), own, shown);
            }
            return;
        }
        if !d.is_map() || d.get("kind").is_none() {
            self.error(
                d.pos,
                shown,
                "not a Kubernetes object (no kind); Kustomize refuses it",
            );
            return;
        }
        if self.objects >= MAX_OBJECTS {
            if self.objects == MAX_OBJECTS {
                self.error(d.pos, shown, format!("more than {MAX_OBJECTS} objects in one kustomization; the rest is not rendered"));
                self.objects += 1;
            }
            return;
        }
        self.objects += 1;
        own.push(Res::new(d));
    }

    fn generators(&mut self, k: &Kust, own: &mut Vec<Res>) {
        struct Reader<'b> {
            dir: &'b Path,
            root: &'b Path,
            read: std::cell::RefCell<Vec<PathBuf>>,
        }
        impl generate::Sources for Reader<'_> {
            fn read(&self, path: &str) -> Result<String, String> {
                let real = self.dir.join(path);
                let text = crate::parse::read_text_within(&real, self.root)
                    .map_err(|(_, m)| format!("{path}: {m}"))?;
                self.read.borrow_mut().extend(real.canonicalize().ok());
                Ok(text)
            }
        }
        let scan_root = self.scan_root.clone();
        let reader = Reader {
            dir: &k.dir,
            root: &scan_root,
            read: Default::default(),
        };
        let options = k.doc.get("generatorOptions");
        for (key, secret) in [("configMapGenerator", false), ("secretGenerator", true)] {
            for item in k.doc.get(key).map(Node::items).unwrap_or_default() {
                let g = match generate::generate(item, secret, options, &reader) {
                    Ok(g) => g,
                    Err((pos, m)) => {
                        self.error(pos, &k.shown, m);
                        continue;
                    }
                };
                let mut res = Res::new(g.obj);
                res.hash = g.hash;
                let same = own.iter().position(|r| {
                    r.kind() == res.kind()
                        && r.ids.iter().any(|(_, n)| Some(n) == res.name().as_ref())
                });
                match (g.behavior.as_str(), same) {
                    ("merge", Some(i)) => {
                        for field in ["data", "metadata"] {
                            if let Some(p) = res.obj.get(field).cloned() {
                                let mut patch = Node::new(
                                    p.pos,
                                    Value::Map(vec![crate::parse::Entry {
                                        key: field.to_string(),
                                        key_pos: p.pos,
                                        value: p,
                                    }]),
                                );
                                if field == "metadata" {
                                    if let Some(m) = tree::get_mut(&mut patch, "metadata") {
                                        tree::remove(m, "name");
                                    }
                                }
                                merge::strategic(&mut own[i].obj, &patch, true);
                            }
                        }
                        own[i].hash = own[i].hash && res.hash;
                    }
                    ("replace", Some(i)) => {
                        res.ids = own[i].ids.clone();
                        own[i] = res;
                    }
                    ("merge" | "replace", None) => {
                        self.error(
                            item.pos,
                            &k.shown,
                            format!(
                                "{key} {}: nothing to {} (no such object in the resources)",
                                res.name().unwrap_or_default(),
                                g.behavior
                            ),
                        );
                    }
                    _ => own.push(res),
                }
            }
        }
        self.consumed.extend(reader.read.into_inner());
    }

    /// The `transformers` field, after the built-in fields (as Kustomize runs them):
    /// configurations of Kustomize's built-in transformers (`apiVersion: builtin`) are
    /// applied; any other plugin is not run and listed as not scanned.
    fn transformers(&mut self, k: &Kust, own: &mut Vec<Res>) {
        for item in k
            .doc
            .get("transformers")
            .map(Node::items)
            .unwrap_or_default()
        {
            let docs = match item.as_str() {
                Some(rel) if is_remote(rel) => {
                    self.skip(k, format!("transformer {rel}"), "remote; not fetched");
                    continue;
                }
                Some(rel) => match self.local(k, rel, item.pos, "transformer") {
                    Some((real, shown)) if real.is_file() => self
                        .load(&real, &shown, Some((item.pos, &k.shown)))
                        .map(|(_, d)| d)
                        .unwrap_or_default(),
                    Some(_) => {
                        self.skip(
                            k,
                            format!("transformer {rel}"),
                            "a folder of transformer plugins; not run",
                        );
                        continue;
                    }
                    None => continue,
                },
                // Written inline in the kustomization.
                None => vec![item.clone()],
            };
            for d in docs.iter().filter(|d| d.is_map()) {
                self.builtin_transformer(k, d, own);
            }
        }
    }

    /// Applies one built-in transformer's configuration; other kinds are listed as not
    /// scanned.
    fn builtin_transformer(&mut self, k: &Kust, d: &Node, own: &mut Vec<Res>) {
        let kind = tree::text(d.get("kind")).unwrap_or_default();
        let builtin = tree::text(d.get("apiVersion")).as_deref() == Some("builtin");
        match (builtin, kind.as_str()) {
            (true, "LabelTransformer" | "AnnotationsTransformer") => {
                let key = if kind == "LabelTransformer" {
                    "labels"
                } else {
                    "annotations"
                };
                let Some(values) = d.get(key) else { return };
                let specs = field_specs(d.get("fieldSpecs"));
                let pairs = pairs(values);
                for r in own.iter_mut() {
                    transform::add_pairs(r, &specs, &pairs, values.pos);
                }
            }
            (true, "NamespaceTransformer") => {
                if let Some(ns) = d
                    .get("metadata")
                    .and_then(|m| m.get("namespace"))
                    .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
                {
                    for r in own.iter_mut() {
                        transform::namespace(r, ns, ns.pos);
                    }
                }
            }
            (true, "PrefixSuffixTransformer") => {
                let affix = |key: &str| {
                    d.get(key)
                        .and_then(|n| Some((n.as_str()?.to_string(), n.pos)))
                        .filter(|(s, _)| !s.is_empty())
                };
                let (prefix, suffix) = (affix("prefix"), affix("suffix"));
                for r in own.iter_mut() {
                    transform::rename(r, prefix.as_ref(), suffix.as_ref());
                }
            }
            (true, "PatchTransformer" | "PatchStrategicMergeTransformer") => {
                self.patch_item(k, d, own)
            }
            (true, "PatchJson6902Transformer") => self.json_patch_item(k, d, own),
            _ => {
                let name = tree::text(d.get("metadata").and_then(|m| m.get("name")))
                    .unwrap_or_else(|| "(unnamed)".into());
                self.skip(
                    k,
                    format!("transformer {kind} {name}"),
                    "plugins are not run; what they change is not seen",
                );
            }
        }
    }

    fn labels(&mut self, k: &Kust, own: &mut [Res]) {
        let cfg = transform::config();
        let mut sets: Vec<LabelSet> = Vec::new();
        for item in k.doc.get("labels").map(Node::items).unwrap_or_default() {
            let Some(p) = item.get("pairs") else { continue };
            let flag = |key: &str| item.get(key).and_then(Node::as_bool) == Some(true);
            let mut specs = field_specs(item.get("fields"));
            if flag("includeSelectors") {
                specs.extend(cfg.common_labels.iter().cloned());
            } else {
                if flag("includeTemplates") {
                    specs.extend(cfg.template_labels.iter().cloned());
                }
                specs.push(transform::FieldSpec {
                    path: "metadata/labels".into(),
                    create: true,
                    group: None,
                    version: None,
                    kind: None,
                });
            }
            sets.push((pairs(p), specs, item.pos));
        }
        if let Some(e) = k.doc.entry("commonLabels") {
            sets.push((pairs(&e.value), cfg.common_labels.clone(), e.key_pos));
        }
        for (pairs, specs, pos) in sets {
            for r in own.iter_mut() {
                transform::add_pairs(r, &specs, &pairs, pos);
            }
        }
    }

    /// Parses patch text: a file (`path`) or inline text (`patch`), positions in the file
    /// they are written in.
    fn patch_docs(&mut self, k: &Kust, inline: Option<&Node>, path: Option<&Node>) -> Vec<Node> {
        if let Some(p) = path {
            let Some(rel) = p.as_str() else {
                return Vec::new();
            };
            let Some((real, shown)) = self.local(k, rel, p.pos, "patch") else {
                return Vec::new();
            };
            return self
                .load(&real, &shown, Some((p.pos, &k.shown)))
                .map(|(_, d)| d)
                .unwrap_or_default();
        }
        let Some(text_node) = inline else {
            return Vec::new();
        };
        let Some(text) = text_node.as_str() else {
            // A patch written as YAML rather than as text.
            return vec![text_node.clone()];
        };
        match crate::parse::yaml::parse(text) {
            Ok(mut docs) => {
                let (lines, columns) = inline_offset(&k.text, text_node.pos);
                let origin = text_node.pos.origin;
                for d in docs.iter_mut() {
                    shift(d, lines, columns, origin);
                }
                docs
            }
            Err(e) => {
                self.error(
                    text_node.pos,
                    &k.shown,
                    format!("inline patch: {}", e.message),
                );
                Vec::new()
            }
        }
    }

    fn strategic_patch_item(&mut self, k: &Kust, item: &Node, own: &mut Vec<Res>) {
        // A path to a file, or (older kustomizations) the patch itself as a string.
        let docs = match item.as_str() {
            Some(s) if s.contains('\n') || s.contains(": ") => self.patch_docs(k, Some(item), None),
            Some(_) => self.patch_docs(k, None, Some(item)),
            None => vec![item.clone()],
        };
        for d in docs {
            if d.is_map() {
                self.apply_strategic(k, &d, None, own);
            }
        }
    }

    fn patch_item(&mut self, k: &Kust, item: &Node, own: &mut Vec<Res>) {
        // A bare file name: Kustomize refuses the kustomization (`patches` entries are
        // mappings). Said as an error; the file is still read as the patch its author
        // meant, so that it is not judged as a workload of its own.
        let docs = if let Some(rel) = item.as_str() {
            self.error(
                item.pos,
                &k.shown,
                format!(
                    "patches entry {rel} is a bare file name; Kustomize refuses it \
                     (write `- path: {rel}`); read here as that"
                ),
            );
            self.patch_docs(k, None, Some(item))
        } else {
            self.patch_docs(k, item.get("patch"), item.get("path"))
        };
        let target = item.get("target");
        for d in docs {
            match &d.value {
                Value::Seq(_) => {
                    let Some(t) = target else {
                        self.error(d.pos, &k.shown, "a JSON patch needs a target");
                        continue;
                    };
                    self.apply_json(k, &d, t, own);
                }
                Value::Map(_) => self.apply_strategic(k, &d, target, own),
                _ => {}
            }
        }
    }

    fn json_patch_item(&mut self, k: &Kust, item: &Node, own: &mut [Res]) {
        let Some(t) = item.get("target") else {
            self.error(item.pos, &k.shown, "patchesJson6902 needs a target");
            return;
        };
        for d in self.patch_docs(k, item.get("patch"), item.get("path")) {
            self.apply_json(k, &d, t, own);
        }
    }

    fn apply_json(&mut self, k: &Kust, ops: &Node, target: &Node, own: &mut [Res]) {
        let mut hit = false;
        for r in own.iter_mut().filter(|r| selected(r, target)) {
            hit = true;
            if let Err(e) = merge::json6902(&mut r.obj, ops) {
                self.error(e.pos, &k.shown, format!("JSON patch: {}", e.message));
            }
            r.renamed();
        }
        if !hit && !self.partial {
            self.error(
                target.pos,
                &k.shown,
                "the patch's target matches no object; Kustomize refuses this kustomization",
            );
        }
    }

    fn apply_strategic(
        &mut self,
        k: &Kust,
        patch: &Node,
        target: Option<&Node>,
        own: &mut Vec<Res>,
    ) {
        let mut deleted: Vec<usize> = Vec::new();
        let mut hit = false;
        // With a target, the patch's own kind and name do not matter: it is applied to
        // every object the target selects.
        let body = match target {
            Some(_) => {
                let mut b = patch.clone();
                tree::remove(&mut b, "kind");
                tree::remove(&mut b, "apiVersion");
                if let Some(m) = tree::get_mut(&mut b, "metadata") {
                    tree::remove(m, "name");
                    tree::remove(m, "namespace");
                }
                b
            }
            None => patch.clone(),
        };
        for (i, r) in own.iter_mut().enumerate() {
            let ok = match target {
                Some(t) => selected(r, t),
                None => matches_patch(r, patch),
            };
            if !ok {
                continue;
            }
            hit = true;
            let builtin = r.builtin();
            if let merge::Merged::Deleted = merge::strategic(&mut r.obj, &body, builtin) {
                deleted.push(i);
            }
            r.renamed();
        }
        for i in deleted.into_iter().rev() {
            own.remove(i);
        }
        if !hit && !self.partial {
            self.error(
                patch.pos,
                &k.shown,
                "the patch matches no object; Kustomize refuses this kustomization",
            );
        }
    }

    /// Once the root is built: generated names get their hash, references follow the
    /// renamed objects, and Secrets lose their values.
    fn finish(&mut self, acc: &mut [Res]) {
        for r in acc.iter_mut().filter(|r| r.hash) {
            let hash = generate::name_hash(&r.obj);
            if let Some(meta) = tree::get_mut(&mut r.obj, "metadata") {
                if let Some(name) = tree::get_mut(meta, "name") {
                    if let Some(s) = name.as_str() {
                        name.value = Value::Str(format!("{s}-{hash}"));
                    }
                }
            }
            r.renamed();
        }
        transform::fix_references(acc);
        // Kustomize drops `metadata.annotations` when it is empty or null (it keeps its
        // own bookkeeping there while building).
        for r in acc.iter_mut() {
            if let Some(meta) = tree::get_mut(&mut r.obj, "metadata") {
                let empty = meta.get("annotations").is_some_and(|a| match &a.value {
                    Value::Null => true,
                    Value::Map(m) => m.is_empty(),
                    _ => false,
                });
                if empty {
                    tree::remove(meta, "annotations");
                }
            }
        }
        for r in acc.iter_mut().filter(|r| r.kind() == "Secret") {
            generate::blank_secret(&mut r.obj);
        }
    }
}

/// Labels to add (key, value, position), where, and the position of the entry.
type LabelSet = (Vec<(String, Node, Pos)>, Vec<transform::FieldSpec>, Pos);

/// The key/value pairs of a labels or annotations map, with the kustomization's
/// positions.
/// Kustomize field specs (`path`, `create`, `group`, `version`, `kind`), as written in
/// `labels[].fields` and in a built-in transformer's `fieldSpecs`.
fn field_specs(list: Option<&Node>) -> Vec<transform::FieldSpec> {
    list.map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|fs| {
            Some(transform::FieldSpec {
                path: tree::text(fs.get("path"))?,
                create: fs.get("create").and_then(Node::as_bool).unwrap_or(false),
                group: tree::text(fs.get("group")),
                version: tree::text(fs.get("version")),
                kind: tree::text(fs.get("kind")),
            })
        })
        .collect()
}

fn pairs(map: &Node) -> Vec<(String, Node, Pos)> {
    map.entries()
        .iter()
        .map(|e| {
            let v = match &e.value.value {
                Value::Str(_) => e.value.clone(),
                _ => tree::string(e.value.pos, &e.value.scalar_text().unwrap_or_default()),
            };
            (e.key.clone(), v, e.key_pos)
        })
        .collect()
}

/// Whether an object is the one a patch without a target names (kind, name, and
/// namespace when the patch has one; any name the object had).
fn matches_patch(r: &Res, patch: &Node) -> bool {
    let kind = tree::text(patch.get("kind"));
    let name = tree::text_at(patch, &["metadata", "name"]);
    let ns = tree::text_at(patch, &["metadata", "namespace"]);
    let group = tree::text(patch.get("apiVersion")).map(|v| {
        v.rsplit_once('/')
            .map_or(String::new(), |(g, _)| g.to_string())
    });
    kind.as_deref() == Some(r.kind())
        && group.is_none_or(|g| g == r.group())
        && name.is_some_and(|n| r.ids.iter().any(|(_, x)| *x == n))
        && ns.is_none_or(|n| {
            r.ids
                .iter()
                .any(|(x, _)| x.as_deref().unwrap_or("default") == n)
        })
}

/// Whether an object is selected by a `target` (group, version, kind, name and
/// namespace are anchored regular expressions; label and annotation selectors).
fn selected(r: &Res, t: &Node) -> bool {
    let re = |key: &str| -> Option<Option<regex::Regex>> {
        let pattern = tree::text(t.get(key))?;
        Some(regex::Regex::new(&format!("^(?:{pattern})$")).ok())
    };
    let matches = |key: &str, values: &[&str]| match re(key) {
        None => true,
        Some(None) => false,
        Some(Some(re)) => values.iter().any(|v| re.is_match(v)),
    };
    let names: Vec<&str> = r.ids.iter().map(|(_, n)| n.as_str()).collect();
    let namespaces: Vec<&str> = r
        .ids
        .iter()
        .map(|(n, _)| n.as_deref().unwrap_or("default"))
        .collect();
    matches("group", &[r.group()])
        && matches("version", &[r.version()])
        && matches("kind", &[r.kind()])
        && matches("name", &names)
        && matches("namespace", &namespaces)
        && selector_matches(t.get("labelSelector"), r.obj.path(&["metadata", "labels"]))
        && selector_matches(
            t.get("annotationSelector"),
            r.obj.path(&["metadata", "annotations"]),
        )
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) against a map.
fn selector_matches(selector: Option<&Node>, labels: Option<&Node>) -> bool {
    let Some(sel) = selector.and_then(Node::as_str) else {
        return true;
    };
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::scalar_text);
    // Split on commas outside parentheses.
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&sel[start..]);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|term| {
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .collect()
            };
            if let Some((k, rest)) = term.split_once(" notin ") {
                return get(k.trim()).is_none_or(|v| !set(rest).contains(&v));
            }
            if let Some((k, rest)) = term.split_once(" in ") {
                return get(k.trim()).is_some_and(|v| set(rest).contains(&v));
            }
            if let Some((k, v)) = term.split_once("!=") {
                return get(k.trim()).as_deref() != Some(v.trim());
            }
            if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                return get(k.trim()).as_deref() == Some(v.trim());
            }
            if let Some(k) = term.strip_prefix('!') {
                return get(k.trim()).is_none();
            }
            get(term).is_some()
        })
}

/// How far the text of an inline patch at `pos` in a kustomization is from the start of
/// its file: a block scalar (`patch: |-`) starts on the next line, indented; a quoted
/// or plain string starts at `pos`.
fn inline_offset(text: &str, pos: Pos) -> (u32, u32) {
    let line = text
        .lines()
        .nth(pos.line.saturating_sub(1) as usize)
        .unwrap_or_default();
    let at: String = line
        .chars()
        .skip(pos.column.saturating_sub(1) as usize)
        .collect();
    if at.starts_with('|') || at.starts_with('>') {
        let indent = text
            .lines()
            .skip(pos.line as usize)
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len());
        (pos.line, indent as u32)
    } else {
        (pos.line.saturating_sub(1), pos.column.saturating_sub(1))
    }
}

/// Moves a parsed node by whole lines and columns, into `origin`'s file.
fn shift(n: &mut Node, lines: u32, columns: u32, origin: Origin) {
    let mv = |p: &mut Pos| {
        *p = Pos::new(p.line + lines, p.column + columns).in_file(origin);
    };
    mv(&mut n.pos);
    match &mut n.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| shift(i, lines, columns, origin)),
        Value::Map(entries) => {
            for e in entries {
                mv(&mut e.key_pos);
                shift(&mut e.value, lines, columns, origin);
            }
        }
        _ => {}
    }
}
