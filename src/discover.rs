//! Discovery: command-line paths → the files to scan, in a stable order.
//!
//! Directories are walked respecting `.gitignore` and `.ignore` (also outside a git
//! checkout), never entering `.git`, `.terraform` or `node_modules`. Files named on the
//! command line are always scanned; files found by walking only when their name says
//! they may hold something breakout reads. Symbolic links are followed inside the
//! scanned folder only (a link to a file or folder outside it is passed over with the
//! reason), loops are reported, not followed, and a file reached by two paths (a
//! linked folder and the folder itself) is scanned once, under the path that uses no
//! link.

use std::path::{Path, PathBuf};

/// Folders never worth entering.
const SKIP_DIRS: &[&str] = &[".git", ".terraform", "node_modules", ".hg", ".svn"];

/// How a file's text is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML (one or more documents).
    Yaml,
    /// JSON.
    Json,
    /// A Dockerfile (or Containerfile).
    Dockerfile,
    /// A Terraform `.tf` file (read with the rest of its folder's module).
    Terraform,
}

/// A file to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The file's path as the user will see it (`-` is standard input).
    pub path: PathBuf,
    /// The format its name implies, if any (content decides otherwise).
    pub format: Option<Format>,
    /// Named on the command line (or standard input): always ours, so a file that does
    /// not parse is an error. Files found by walking are ours only when their name or
    /// content says so.
    pub named: bool,
}

/// A path that could not be walked or a file that was passed over, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The path concerned.
    pub path: PathBuf,
    /// What happened.
    pub message: String,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files to scan, sorted by path, without duplicates.
    pub files: Vec<Candidate>,
    /// Paths that could not be read (missing, loops): these fail the scan.
    pub errors: Vec<Problem>,
    /// Files deliberately passed over (links leaving the scanned folder).
    pub passed_over: Vec<Problem>,
}

/// A path as the report shows it: as written, with bytes that are not UTF-8 (a file
/// name from another system's encoding) escaped as `\xNN`, so such files are scanned
/// and listed rather than silently dropped, and two of them never show the same name.
pub fn display_path(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if let Ok(text) = std::str::from_utf8(bytes) {
            return text.to_string();
        }
        let mut out = String::with_capacity(bytes.len() + 8);
        for chunk in bytes.utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        path.display().to_string()
    }
}

/// The format a file name implies: `.yaml`/`.yml`, `.json`, and the Dockerfile names
/// (`Dockerfile`, `Containerfile`, `Dockerfile.*`, `*.Dockerfile`, any case).
pub fn format_of(path: &Path) -> Option<Format> {
    // Called for every file a walk meets: compares without allocating.
    let name = path.file_name()?.to_string_lossy();
    let name = name.as_ref();
    let ends_with = |suffix: &str| {
        name.len() >= suffix.len()
            && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    let starts_with = |prefix: &str| {
        name.len() >= prefix.len()
            && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let dockerfile = |stem: &str| {
        let dotted = name.len() > stem.len();
        name.eq_ignore_ascii_case(stem)
            || (dotted
                && starts_with(stem)
                && name.as_bytes()[stem.len()] == b'.'
                && !ends_with(".dockerignore"))
            || (dotted && ends_with(stem) && name.as_bytes()[name.len() - stem.len() - 1] == b'.')
    };
    if dockerfile("dockerfile") || dockerfile("containerfile") {
        return Some(Format::Dockerfile);
    }
    // Kustomize also reads a kustomization file named `Kustomization`.
    if name == "Kustomization" {
        return Some(Format::Yaml);
    }
    if [".tf", ".tf.json", ".tfvars", ".tfvars.json"]
        .iter()
        .any(|ext| ends_with(ext))
    {
        return Some(Format::Terraform);
    }
    let ext = path.extension()?.to_string_lossy();
    if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") {
        Some(Format::Yaml)
    } else if ext.eq_ignore_ascii_case("json") {
        Some(Format::Json)
    } else {
        None
    }
}

/// Whether a file's name alone makes it one of breakout's inputs, so that a walked
/// file that does not parse is an error rather than passed over: Dockerfiles,
/// Terraform files and compose files (`compose.yaml`, `docker-compose.yml`,
/// `docker-compose.prod.yml`, `compose.override.yaml`, …).
pub fn named_as_ours(path: &Path) -> bool {
    match format_of(path) {
        Some(Format::Dockerfile | Format::Terraform) => true,
        Some(Format::Yaml) => path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_ascii_lowercase)
            .is_some_and(|n| n.starts_with("docker-compose") || n.starts_with("compose.")),
        _ => false,
    }
}

/// Expands `paths` (files, directories or `-`) into the files to scan.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut out = Discovered::default();
    // What the directory entries' inodes say (free: no system call), so that only
    // files that may be the same are looked at twice (`drop_second_paths`).
    let mut walked_inodes = WalkedInodes::default();
    for path in paths {
        if path.as_os_str() == "-" {
            out.files.push(Candidate {
                path: path.clone(),
                format: None,
                named: true,
            });
        } else if path.is_dir() {
            walk(path, &mut out, &mut walked_inodes);
        } else if path.is_file() {
            out.files.push(Candidate {
                path: path.clone(),
                format: format_of(path),
                named: true,
            });
        } else {
            let message = match std::fs::symlink_metadata(path) {
                Ok(_) => "cannot read: broken symbolic link or not a regular file".to_string(),
                Err(e) => format!("cannot read: {e}"),
            };
            out.errors.push(Problem {
                path: path.clone(),
                message,
            });
        }
    }
    // A file both named and walked counts as named. Sorted by a key that orders as
    // `Path` does: comparing paths component by component was a twentieth of the wall
    // time of a scan of ten thousand files, most of it spent on their common folders.
    out.files
        .sort_by_cached_key(|c| (path_order_key(&c.path), !c.named));
    out.files.dedup_by(|a, b| a.path == b.path);
    // Two walks (`scan a a/b`) or a walk and a named file may reach one file twice.
    walked_inodes.exact |= paths.len() > 1;
    drop_second_paths(&mut out.files, &walked_inodes);
    // The walk runs on several threads: its reports come in no set order.
    out.errors.sort_by(|a, b| a.path.cmp(&b.path));
    out.passed_over.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Bytes that sort as `path` sorts (`Path`'s order compares components, in the order
/// of [`Component`](std::path::Component)'s variants, then their names): each component
/// as its variant's rank and its name, ended by a zero byte, which no name holds and
/// which sorts before every name byte and rank.
fn path_order_key(path: &Path) -> Vec<u8> {
    use std::path::Component;
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for c in path.components() {
        let rank = match c {
            Component::Prefix(_) => 1,
            Component::RootDir => 2,
            Component::CurDir => 3,
            Component::ParentDir => 4,
            Component::Normal(_) => 5,
        };
        key.push(rank);
        key.extend_from_slice(c.as_os_str().as_encoded_bytes());
        key.push(0);
    }
    key
}

/// What the walks learnt about the identity of the files they found.
#[derive(Default)]
struct WalkedInodes {
    /// Walked files whose directory entry gives the same inode as another's (hard
    /// links): the only walked files that may be one file, when `exact` is not set.
    shared: std::collections::HashSet<std::ffi::OsString>,
    /// Every file must be looked up (`stat`): a walk followed a symbolic link, an entry
    /// gave no inode, or several paths were given, so one file may have been reached
    /// under two names.
    exact: bool,
}

/// Keeps one path per file when the same file is reached twice (through a linked
/// folder, named twice by different paths, or hard-linked): the one that goes through
/// no symbolic link, else the shortest, else the first in order. Findings would
/// otherwise be reported twice.
///
/// Looking every file up costs a system call each, a tenth of a scan of ten thousand
/// manifests; without links followed and with a single walk, two paths can only be one
/// file if their directory entries give the same inode, so only those are looked up.
fn drop_second_paths(files: &mut Vec<Candidate>, walked: &WalkedInodes) {
    use std::collections::HashMap;
    // Named files were not walked: only the entries of walked ones were compared.
    let look_up =
        |c: &Candidate| walked.exact || c.named || walked.shared.contains(c.path.as_os_str());
    let mut by_identity: HashMap<FileIdentity, Vec<usize>> = HashMap::new();
    for (i, c) in files.iter().enumerate() {
        if !look_up(c) {
            continue;
        }
        if let Some(id) = file_identity(&c.path) {
            by_identity.entry(id).or_default().push(i);
        }
    }
    let mut drop = vec![false; files.len()];
    for indices in by_identity.into_values().filter(|v| v.len() > 1) {
        let keep = *indices
            .iter()
            .min_by_key(|&&i| {
                let p = &files[i].path;
                (!is_direct(p), p.components().count(), p.clone())
            })
            .expect("a group has members");
        let named = indices.iter().any(|&i| files[i].named);
        files[keep].named |= named;
        for i in indices.into_iter().filter(|&i| i != keep) {
            drop[i] = true;
        }
    }
    let mut index = 0;
    files.retain(|_| {
        index += 1;
        !drop[index - 1]
    });
}

/// Device and inode: the same file under any path.
type FileIdentity = (u64, u64);

#[cfg(unix)]
fn file_identity(path: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> Option<FileIdentity> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.canonicalize().ok()?.hash(&mut h);
    Some((0, h.finish()))
}

/// Whether no component of `path` is a symbolic link (it is its own real path,
/// relative to the current folder when it is relative).
fn is_direct(path: &Path) -> bool {
    let Ok(real) = path.canonicalize() else {
        return false;
    };
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return false,
        }
    };
    lexical(&absolute) == real
}

/// Collapses `.` and `..` without touching the file system (`./a/../b` → `b`), so
/// that two spellings of a path compare equal.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                // `/..` is `/`; a leading `..` stays.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(c),
            },
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

/// What the walk makes of one entry.
enum Walked {
    /// A file to scan, with its inode when the entry gives one.
    File(Candidate, Option<u64>),
    /// A path that could not be walked.
    Error(Problem),
    /// A file passed over, with the reason.
    PassedOver(Problem),
}

/// Walks `root` on as many threads as the scan has: opening folders, reading
/// `.gitignore` files and looking at links are system calls, and a serial walk of ten
/// thousand files was a fifth of the scan's wall time.
fn walk(root: &Path, out: &mut Discovered, inodes: &mut WalkedInodes) {
    use std::sync::{Arc, Mutex};
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // Linked folders that lead out of the scanned folder, noted by the entry filter;
    // whether any link was followed.
    let outside: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let followed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (filter_root, filter_outside, filter_followed) = (
        canonical_root.clone(),
        Arc::clone(&outside),
        Arc::clone(&followed),
    );
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(true)
        .threads(rayon::current_num_threads())
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if is_dir
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n))
            {
                return false;
            }
            if is_dir && e.path_is_symlink() && e.depth() > 0 {
                let inside = e
                    .path()
                    .canonicalize()
                    .is_ok_and(|t| t.starts_with(&filter_root));
                if !inside {
                    if let Ok(mut v) = filter_outside.lock() {
                        v.push(e.path().to_path_buf());
                    }
                    return false;
                }
                filter_followed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            true
        })
        .build_parallel();
    let found: Mutex<Vec<Walked>> = Mutex::default();
    walker.run(|| {
        let (found, root, canonical_root, followed) = (&found, root, &canonical_root, &followed);
        Box::new(move |entry| {
            let seen = match entry {
                Ok(e) => {
                    if e.path_is_symlink() && !e.file_type().is_some_and(|t| t.is_dir()) {
                        followed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    look_at(&e, root, canonical_root)
                }
                Err(e) => Some(Walked::Error(Problem {
                    path: error_path(&e).unwrap_or_else(|| root.to_path_buf()),
                    message: walk_error_message(&e),
                })),
            };
            if let Some(seen) = seen {
                found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(seen);
            }
            ignore::WalkState::Continue
        })
    });
    let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut entries_per_inode: std::collections::HashMap<u64, usize> = Default::default();
    for seen in &found {
        match seen {
            Walked::File(_, Some(ino)) => *entries_per_inode.entry(*ino).or_default() += 1,
            Walked::File(_, None) => inodes.exact = true,
            _ => {}
        }
    }
    for seen in found {
        match seen {
            Walked::File(c, ino) => {
                if ino.is_some_and(|ino| entries_per_inode[&ino] > 1) {
                    inodes.shared.insert(c.path.clone().into_os_string());
                }
                out.files.push(c);
            }
            Walked::Error(p) => out.errors.push(p),
            Walked::PassedOver(p) => out.passed_over.push(p),
        }
    }
    inodes.exact |= followed.load(std::sync::atomic::Ordering::Relaxed);
    let outside = std::mem::take(&mut *outside.lock().unwrap_or_else(|e| e.into_inner()));
    for path in outside {
        out.passed_over.push(Problem {
            path,
            message: "symbolic link to a folder outside the scanned folder; not followed".into(),
        });
    }
}

/// What one walked entry is for the scan: a file to scan, one passed over, or nothing.
fn look_at(entry: &ignore::DirEntry, root: &Path, canonical_root: &Path) -> Option<Walked> {
    let file_type = entry.file_type()?;
    if file_type.is_dir() {
        return None;
    }
    let format = format_of(entry.path())?;
    if !file_type.is_file() {
        // A named pipe, socket or device with one of our names: never opened.
        return Some(Walked::PassedOver(Problem {
            path: entry.path().to_path_buf(),
            message: "not a regular file (a named pipe, socket or device); not read".into(),
        }));
    }
    if let Some(chart) = helm_chart_of(entry.path(), root) {
        return Some(Walked::PassedOver(Problem {
            path: entry.path().to_path_buf(),
            message: format!(
                "Helm template of chart {0}: render it and scan the output \
                 (`helm template RELEASE {0} | breakout scan -`)",
                chart.display()
            ),
        }));
    }
    if entry.path_is_symlink() {
        let inside = entry
            .path()
            .canonicalize()
            .is_ok_and(|t| t.starts_with(canonical_root));
        if !inside {
            return Some(Walked::PassedOver(Problem {
                path: entry.path().to_path_buf(),
                message: "symbolic link to a file outside the scanned folder".into(),
            }));
        }
    }
    #[cfg(unix)]
    let ino = entry.ino();
    #[cfg(not(unix))]
    let ino = None;
    Some(Walked::File(
        Candidate {
            path: entry.path().to_path_buf(),
            format: Some(format),
            named: false,
        },
        ino,
    ))
}

/// The chart folder when `path` lies in a chart's `templates/` folder (a sibling
/// `Chart.yaml`): Go templates are not YAML until Helm renders them.
fn helm_chart_of(path: &Path, root: &Path) -> Option<PathBuf> {
    // Most paths have no `templates` folder: no need to split them into folders.
    if !path
        .as_os_str()
        .as_encoded_bytes()
        .windows(b"templates".len())
        .any(|w| w == b"templates")
    {
        return None;
    }
    path.ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(root))
        .find(|dir| dir.file_name() == Some("templates".as_ref()))
        .and_then(Path::parent)
        .filter(|chart| chart.join("Chart.yaml").is_file())
        .map(Path::to_path_buf)
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn walk_error_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::Loop { ancestor, .. } => format!(
            "symbolic link loop (points back to {}); not followed",
            ancestor.display()
        ),
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error_message(err)
        }
        other => format!("cannot read: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_respecting_ignores_and_skipping_tool_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "a.yaml",
            "b.yml",
            "c.json",
            "notes.md",
            "node_modules/x.yaml",
            ".terraform/m.json",
            "ignored/y.yaml",
            ".github/w.yaml",
        ] {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "kind: Pod\n").unwrap();
        }
        fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        let found = discover(&[root.to_path_buf()]);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|c| {
                c.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, [".github/w.yaml", "a.yaml", "b.yml", "c.json"]);
        assert!(found.errors.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_errors_and_outside_links_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("ok.yaml"), "a: 1").unwrap();
        fs::write(outside.path().join("secret.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("s.yaml"))
            .unwrap();
        let found = discover(std::slice::from_ref(&root));
        assert_eq!(found.files.len(), 1, "{:?}", found.files);
        assert_eq!(found.errors.len(), 1);
        assert!(
            found.errors[0].message.contains("loop"),
            "{:?}",
            found.errors
        );
        assert_eq!(found.passed_over.len(), 1);
    }

    #[test]
    fn helm_templates_are_passed_over_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("charts/web");
        fs::create_dir_all(chart.join("templates/sub")).unwrap();
        fs::write(chart.join("Chart.yaml"), "name: web\n").unwrap();
        fs::write(chart.join("values.yaml"), "image: x\n").unwrap();
        fs::write(
            chart.join("templates/sub/d.yaml"),
            "kind: {{ .Values.k }}\n",
        )
        .unwrap();
        fs::create_dir_all(dir.path().join("other/templates")).unwrap();
        fs::write(dir.path().join("other/templates/p.yaml"), "kind: Pod\n").unwrap();
        let found = discover(&[dir.path().to_path_buf()]);
        let files: Vec<_> = found
            .files
            .iter()
            .map(|c| c.path.file_name().unwrap())
            .collect();
        assert_eq!(files, ["Chart.yaml", "values.yaml", "p.yaml"]);
        assert_eq!(found.passed_over.len(), 1);
        assert!(found.passed_over[0].message.contains("helm template"));
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_found_and_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9-pod.yaml");
        fs::write(dir.path().join(name), "kind: Pod\n").unwrap();
        let found = discover(&[dir.path().to_path_buf()]);
        assert_eq!(found.files.len(), 1);
        let shown = display_path(&found.files[0].path);
        assert!(shown.ends_with("caf\\xe9-pod.yaml"), "{shown}");
    }

    #[test]
    fn formats_by_name() {
        let cases: &[(&str, Option<Format>)] = &[
            ("Dockerfile", Some(Format::Dockerfile)),
            ("dockerfile", Some(Format::Dockerfile)),
            ("DOCKERFILE.prod", Some(Format::Dockerfile)),
            ("api.Dockerfile", Some(Format::Dockerfile)),
            ("Containerfile", Some(Format::Dockerfile)),
            ("x.containerfile", Some(Format::Dockerfile)),
            ("Dockerfile.dockerignore", None),
            ("Dockerfilex", None),
            ("xDockerfile", None),
            (".dockerfile", Some(Format::Dockerfile)),
            ("Kustomization", Some(Format::Yaml)),
            ("kustomization", None),
            ("main.tf", Some(Format::Terraform)),
            ("MAIN.TF", Some(Format::Terraform)),
            ("x.tf.json", Some(Format::Terraform)),
            ("prod.tfvars", Some(Format::Terraform)),
            ("a.auto.tfvars.json", Some(Format::Terraform)),
            ("pod.yaml", Some(Format::Yaml)),
            ("pod.YML", Some(Format::Yaml)),
            ("plan.json", Some(Format::Json)),
            ("notes.md", None),
            ("tf", None),
            ("é.yaml", Some(Format::Yaml)),
            ("Dockerfile.é", Some(Format::Dockerfile)),
            ("é.dockerfile", Some(Format::Dockerfile)),
        ];
        for (name, want) in cases {
            assert_eq!(format_of(Path::new(name)), *want, "{name}");
            assert_eq!(format_of(&Path::new("dir").join(name)), *want, "dir/{name}");
        }
    }

    #[test]
    fn the_sort_key_orders_paths_as_path_does() {
        use proptest::prelude::*;
        // Names that sort around the separator (`-`, `.`, `0` against `/`), empty and
        // dot components, doubled and trailing separators, absolute and relative paths.
        let part = prop::sample::select(vec![
            "a", "a-b", "a.b", "a0", "ab", "-", ".", "..", "", "b", "A", "é", "a b",
        ]);
        let path = (
            any::<bool>(),
            prop::collection::vec(part, 0..5),
            any::<bool>(),
        )
            .prop_map(|(absolute, parts, trailing)| {
                let mut p = if absolute {
                    "/".to_string()
                } else {
                    String::new()
                };
                p.push_str(&parts.join("/"));
                if trailing {
                    p.push('/');
                }
                PathBuf::from(p)
            });
        proptest!(|(a in path.clone(), b in path)| {
            prop_assert_eq!(
                path_order_key(&a).cmp(&path_order_key(&b)),
                a.cmp(&b),
                "{:?} against {:?}", a, b
            );
        });
    }

    #[test]
    fn lexical_paths() {
        for (path, want) in [
            ("./a/../b/Dockerfile", "b/Dockerfile"),
            ("../other/./Dockerfile", "../other/Dockerfile"),
            ("a/../../x", "../x"),
            ("/../etc", "/etc"),
            ("/srv/app/./x/..", "/srv/app"),
        ] {
            assert_eq!(lexical(Path::new(path)), PathBuf::from(want), "{path}");
        }
    }

    #[test]
    fn missing_paths_are_errors() {
        let found = discover(&[PathBuf::from("/definitely/not/here.yaml")]);
        assert_eq!(found.errors.len(), 1);
    }
}
