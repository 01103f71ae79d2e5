//! breakout: finds container-escape and credential-theft paths in infrastructure code.
//!
//! The pipeline runs one way, one module per stage:
//! [`discover`] → [`parse`] → [`extract`] → [`engine`] → [`report`].
//! [`scan`] runs it and returns a [`Report`]; the binary only parses arguments,
//! picks a report format and sets the exit code.
#![warn(missing_docs)]

pub mod discover;
pub mod engine;
pub mod extract;
pub mod facts;
pub mod link;
pub mod parse;
pub mod report;

use discover::{Candidate, Format};
use engine::{Finding, Policy};
pub use extract::terraform::Inputs as TerraformInputs;
use facts::Facts;
pub use parse::{FileError, MAX_FILE_BYTES};
use parse::{Node, ParseError};
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// What to scan and with which policies.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Files, directories, or `-` for standard input.
    pub paths: Vec<PathBuf>,
    /// The policies to evaluate (built-in and user, already filtered by `--only`/`--skip`).
    pub policies: Vec<Policy>,
    /// The Dockerfile build stage that becomes the image (`docker build --target`);
    /// files without that stage use their last stage.
    pub docker_target: Option<String>,
    /// Terraform variable values for root modules (`--var`, `--var-file`).
    pub terraform: TerraformInputs,
}

/// A file that was read but holds nothing breakout checks, or was passed over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Counts for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Files that held something breakout checks.
    pub files_scanned: usize,
    /// Files read but skipped (no recognised content, empty, passed over).
    pub files_skipped: usize,
    /// Files that could not be read or parsed.
    pub files_failed: usize,
    /// Workloads (pods and pod templates) found.
    pub workloads: usize,
    /// Containers found.
    pub containers: usize,
    /// IAM policy statements found.
    pub policy_statements: usize,
    /// Dockerfile images found.
    pub images: usize,
    /// EC2 instances, launch templates and launch configurations found.
    pub instances: usize,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings, sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Inputs that failed, sorted by file.
    pub errors: Vec<FileError>,
    /// Files skipped, with the reason.
    pub skipped: Vec<Skipped>,
    /// Counts.
    pub stats: Stats,
    /// The facts the policies were evaluated over.
    pub facts: Facts,
    /// Terraform module calls that were not followed (remote sources, outside the
    /// scanned folder), as `file: module.name (source): why`.
    pub modules_not_scanned: Vec<String>,
}

/// What became of one file.
enum Outcome {
    /// Its facts, and the errors that did not stop it from being judged (a YAML key
    /// written twice).
    Facts(Facts, Vec<FileError>),
    Skipped(String),
    Failed(FileError),
}

/// Runs the whole pipeline. Fails only when the policies cannot be evaluated;
/// unreadable inputs are reported in [`Report::errors`].
pub fn scan(opts: &ScanOptions) -> anyhow::Result<Report> {
    // Parsers recurse up to their nesting limits; rayon's default 2 MiB worker stacks
    // are too small for that in debug builds, so workers get the main thread's 8 MiB.
    rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .build()?
        .install(|| scan_in_pool(opts))
}

/// Stack size of the scanning threads.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn scan_in_pool(opts: &ScanOptions) -> anyhow::Result<Report> {
    let found = discover::discover(&opts.paths);
    let mut report = Report::default();
    for p in found.errors {
        report.errors.push(FileError::new(
            &p.path.display().to_string(),
            None,
            p.message,
        ));
    }
    for p in found.passed_over {
        report.skipped.push(Skipped {
            file: p.path.display().to_string(),
            reason: p.message,
        });
    }
    let (terraform, files): (Vec<Candidate>, Vec<Candidate>) = found
        .files
        .into_iter()
        .partition(|c| c.format == Some(Format::Terraform));
    let outcomes: Vec<(String, Outcome)> = files
        .par_iter()
        .map(|c| (display_name(c), scan_file(c, opts)))
        .collect();
    let mut per_file: Vec<Facts> = Vec::new();
    // Terraform files (modules and variable files) count one by one; their facts come
    // per module.
    let mut scanned = terraform.len();
    for module in scan_terraform(&terraform, opts) {
        report.errors.extend(module.errors);
        report.modules_not_scanned.extend(module.unscanned_modules);
        per_file.push(module.facts);
    }
    let modules = per_file.len();
    for (file, outcome) in outcomes {
        match outcome {
            Outcome::Facts(f, errors) => {
                per_file.push(f);
                report.errors.extend(errors);
            }
            Outcome::Skipped(reason) => report.skipped.push(Skipped { file, reason }),
            Outcome::Failed(e) => report.errors.push(e),
        }
    }
    scanned += per_file.len() - modules;
    report.stats.files_scanned = scanned;
    report.modules_not_scanned.sort();
    report.modules_not_scanned.dedup();
    link::link(&mut per_file);
    // Policies select within a file's facts: evaluating file by file, in parallel,
    // keeps only one file's JSON form alive per thread.
    let findings: Vec<Vec<Finding>> = per_file
        .par_iter()
        .map(|facts| engine::evaluate(&opts.policies, &serde_json::to_value(facts)?))
        .collect::<anyhow::Result<_>>()?;
    report.findings = findings.into_iter().flatten().collect();
    report.findings.sort_by(engine::Finding::order);
    for f in per_file {
        report.facts.extend(f);
    }
    report
        .errors
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    report.skipped.sort_by(|a, b| a.file.cmp(&b.file));
    report.stats.files_skipped = report.skipped.len();
    report.stats.files_failed = report.errors.len();
    report.stats.workloads = report.facts.workloads.len();
    report.stats.containers = report.facts.containers.len();
    report.stats.policy_statements = report.facts.iam_statements.len();
    report.stats.images = report.facts.images.len();
    report.stats.instances = report.facts.instances.len();
    Ok(report)
}

fn display_name(c: &Candidate) -> String {
    if c.path.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        c.path.display().to_string()
    }
}

/// Scans the Terraform files: each folder is a module, evaluated as a root unless
/// another scanned module calls it (then its resources are reported through the
/// caller, with `module.` addresses).
fn scan_terraform(files: &[Candidate], opts: &ScanOptions) -> Vec<extract::terraform::Outcome> {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    let roots: Vec<PathBuf> = opts
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .map(|p| {
            let dir = if p.is_dir() { p.clone() } else { folder_of(p) };
            dir.canonicalize().unwrap_or(dir)
        })
        .collect();
    // Files named on the command line limit what their folder reports.
    let mut by_dir: BTreeMap<PathBuf, (Vec<PathBuf>, bool)> = BTreeMap::new();
    for c in files {
        let dir = folder_of(&c.path);
        let named = opts.paths.contains(&c.path);
        let entry = by_dir.entry(dir).or_default();
        entry.0.push(c.path.clone());
        entry.1 |= !named;
    }
    let jobs: Vec<(PathBuf, Vec<PathBuf>, bool)> = by_dir
        .into_iter()
        .map(|(dir, (paths, walked))| (dir, paths, walked))
        .collect();
    let mut outcomes: Vec<(PathBuf, extract::terraform::Outcome)> = jobs
        .par_iter()
        .map(|(dir, paths, walked)| {
            let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            let root = roots
                .iter()
                .filter(|r| canonical.starts_with(r))
                .max_by_key(|r| r.as_os_str().len())
                .cloned()
                .unwrap_or_else(|| canonical.clone());
            let named = (!walked).then_some(paths.as_slice());
            let out = extract::terraform::scan_root(dir, named, &root, &opts.terraform);
            (canonical, out)
        })
        .collect();
    // A module another scanned module calls is reported through its caller (a pair
    // that call each other both stay roots).
    let loaded: Vec<(PathBuf, Vec<PathBuf>)> = outcomes
        .iter()
        .map(|(d, o)| (d.clone(), o.loaded_dirs.clone()))
        .collect();
    let mut keep = loaded.iter().map(|(x, xl)| {
        !loaded
            .iter()
            .any(|(y, yl)| y != x && yl.contains(x) && !xl.contains(y))
    });
    outcomes.retain(|_| keep.next().unwrap_or(true));
    outcomes.into_iter().map(|(_, o)| o).collect()
}

/// The folder a file is in (`.` for a bare file name).
fn folder_of(path: &std::path::Path) -> std::path::PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Reads, parses and extracts one file.
fn scan_file(c: &Candidate, opts: &ScanOptions) -> Outcome {
    let file = display_name(c);
    let fail = |pos: Option<parse::Pos>, message: String| {
        Outcome::Failed(FileError::new(&file, pos, message))
    };
    let bytes = match parse::read_limited(&c.path) {
        Ok(b) => b,
        Err(msg) => return fail(None, msg),
    };
    let text = match parse::decode_text(&bytes) {
        Ok(t) => t,
        Err(e) => return fail(e.pos, e.message),
    };
    if text.trim().is_empty() {
        return Outcome::Skipped("empty file".into());
    }
    let format = c.format.unwrap_or_else(|| sniff(text));
    // Errors that leave the documents readable: reported, and the documents judged.
    let mut errors: Vec<FileError> = Vec::new();
    let docs: Result<Vec<Node>, ParseError> = match format {
        Format::Yaml => parse::yaml::parse_lenient(text).map(|(docs, duplicates)| {
            errors.extend(
                duplicates
                    .into_iter()
                    .map(|e| FileError::new(&file, e.pos, e.message)),
            );
            docs
        }),
        Format::Json => parse::json::parse(text).map(|n| vec![n]),
        // Terraform files are scanned by folder (`scan_terraform`); only standard input
        // arrives here, as a one-file module.
        Format::Terraform => {
            let out = extract::terraform::scan_source(&file, text, &opts.terraform);
            return match out.errors.into_iter().next() {
                Some(e) => Outcome::Failed(e),
                None => Outcome::Facts(out.facts, Vec::new()),
            };
        }
        Format::Dockerfile => {
            if !parse::dockerfile::looks_like_dockerfile(text) {
                return Outcome::Skipped("no FROM instruction: not a Dockerfile".into());
            }
            let mut facts = Facts::default();
            return match parse::dockerfile::parse(text) {
                Ok(d) => {
                    extract::dockerfile::extract(
                        &d,
                        &file,
                        opts.docker_target.as_deref(),
                        &mut facts,
                    );
                    Outcome::Facts(facts, Vec::new())
                }
                Err(e) => fail(e.pos, e.message),
            };
        }
    };
    let docs = match docs {
        Ok(d) => d,
        Err(e) => return fail(e.pos, e.message),
    };
    let mut facts = Facts::default();
    let mut recognised = false;
    for doc in &docs {
        recognised |= extract::document(doc, &file, &mut facts);
    }
    if recognised || !errors.is_empty() {
        Outcome::Facts(facts, errors)
    } else {
        Outcome::Skipped("no Kubernetes object, IAM policy or other recognised content".into())
    }
}

/// JSON if the text starts like JSON, a Dockerfile if its first instruction is `FROM`
/// or `ARG`, YAML otherwise.
fn sniff(text: &str) -> Format {
    match text.trim_start().chars().next() {
        Some('{') | Some('[') => Format::Json,
        _ if parse::dockerfile::looks_like_dockerfile(text) => Format::Dockerfile,
        _ if looks_like_terraform(text) => Format::Terraform,
        _ => Format::Yaml,
    }
}

/// Whether text starts like a Terraform file: its first word, after comments, is a
/// top-level block type followed by a label or a brace.
fn looks_like_terraform(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"));
    first.is_some_and(|l| {
        let mut words = l.split_whitespace();
        let kind = words.next().unwrap_or("");
        let next = words.next().unwrap_or("");
        matches!(
            kind,
            "resource"
                | "data"
                | "variable"
                | "module"
                | "locals"
                | "provider"
                | "terraform"
                | "output"
        ) && (next.starts_with('"') || next.starts_with('{'))
    })
}
