//! Discovery: command-line paths → the files to scan, in a stable order.
//!
//! Directories are walked respecting `.gitignore` and `.ignore` (also outside a git
//! checkout), never entering `.git`, `.terraform` or `node_modules`. Files named on the
//! command line are always scanned; files found by walking only when their name says
//! they may hold something breakout reads. Symbolic links are followed inside the
//! scanned folder only, and loops are reported, not followed.

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

/// The format a file name implies: `.yaml`/`.yml`, `.json`, and the Dockerfile names
/// (`Dockerfile`, `Containerfile`, `Dockerfile.*`, `*.Dockerfile`, any case).
pub fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let dockerfile = |stem: &str| {
        name == stem
            || (name.starts_with(&format!("{stem}.")) && !name.ends_with(".dockerignore"))
            || name.ends_with(&format!(".{stem}"))
    };
    if dockerfile("dockerfile") || dockerfile("containerfile") {
        return Some(Format::Dockerfile);
    }
    if [".tf", ".tf.json", ".tfvars", ".tfvars.json"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return Some(Format::Terraform);
    }
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "yaml" | "yml" => Some(Format::Yaml),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// Expands `paths` (files, directories or `-`) into the files to scan.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut out = Discovered::default();
    for path in paths {
        if path.as_os_str() == "-" {
            out.files.push(Candidate {
                path: path.clone(),
                format: None,
            });
        } else if path.is_dir() {
            walk(path, &mut out);
        } else if path.is_file() {
            out.files.push(Candidate {
                path: path.clone(),
                format: format_of(path),
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
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.files.dedup_by(|a, b| a.path == b.path);
    out
}

fn walk(root: &Path, out: &mut Discovered) {
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(true)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n)))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.errors.push(Problem {
                    path: error_path(&e).unwrap_or_else(|| root.to_path_buf()),
                    message: walk_error_message(&e),
                });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(format) = format_of(entry.path()) else {
            continue;
        };
        if let Some(chart) = helm_chart_of(entry.path(), root) {
            out.passed_over.push(Problem {
                path: entry.path().to_path_buf(),
                message: format!(
                    "Helm template of chart {}: render it (`helm template`) and scan the output",
                    chart.display()
                ),
            });
            continue;
        }
        if entry.path_is_symlink() {
            let inside = entry
                .path()
                .canonicalize()
                .is_ok_and(|t| t.starts_with(&canonical_root));
            if !inside {
                out.passed_over.push(Problem {
                    path: entry.path().to_path_buf(),
                    message: "symbolic link to a file outside the scanned folder".into(),
                });
                continue;
            }
        }
        out.files.push(Candidate {
            path: entry.path().to_path_buf(),
            format: Some(format),
        });
    }
}

/// The chart folder when `path` lies in a chart's `templates/` folder (a sibling
/// `Chart.yaml`): Go templates are not YAML until Helm renders them.
fn helm_chart_of(path: &Path, root: &Path) -> Option<PathBuf> {
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

    #[test]
    fn missing_paths_are_errors() {
        let found = discover(&[PathBuf::from("/definitely/not/here.yaml")]);
        assert_eq!(found.errors.len(), 1);
    }
}
