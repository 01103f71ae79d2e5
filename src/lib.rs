//! breakout: finds container-escape and credential-theft paths in infrastructure code.
//!
//! The pipeline runs one way, one module per stage:
//! [`discover`] → [`parse`] → [`extract`] → [`link`] → [`paths`] → [`engine`] →
//! [`report`].
//! [`scan`] runs it and returns a [`Report`]; the binary only parses arguments,
//! picks a report format and sets the exit code.
#![warn(missing_docs)]

pub mod discover;
pub mod engine;
pub mod extract;
pub mod facts;
pub mod link;
pub mod parse;
pub mod paths;
pub mod report;

use discover::{Candidate, Format};
use engine::{Finding, Policy};
use facts::Facts;
use parse::{Node, ParseError};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Read;
use std::path::PathBuf;

/// Files above this size are reported as errors rather than read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    pub terraform: extract::terraform::Inputs,
}

/// An input that could not be read or parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
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
    Facts(Facts),
    /// Judged, and also an error: the file is refused by the tools that read it, but
    /// breakout could still read what it holds.
    Partial(Facts, FileError),
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
        report.errors.push(FileError {
            file: p.path.display().to_string(),
            line: None,
            column: None,
            message: p.message,
        });
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
        let mut facts = module.facts;
        facts.origin = module.loaded_dirs.first().cloned();
        per_file.push(facts);
    }
    let modules = per_file.len();
    // A file refused but still judged counts as failed, not scanned: the counts add
    // up to the files read.
    let mut partial = 0;
    for (file, outcome) in outcomes {
        let origin = || {
            std::path::Path::new(&file)
                .canonicalize()
                .ok()
                .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        };
        match outcome {
            Outcome::Facts(mut f) => {
                f.origin = origin();
                per_file.push(f)
            }
            Outcome::Partial(mut f, e) => {
                f.origin = origin();
                per_file.push(f);
                report.errors.push(e);
                partial += 1;
            }
            Outcome::Skipped(reason) => report.skipped.push(Skipped { file, reason }),
            Outcome::Failed(e) => report.errors.push(e),
        }
    }
    scanned += per_file.len() - modules - partial;
    report.stats.files_scanned = scanned;
    report.modules_not_scanned.sort();
    report.modules_not_scanned.dedup();
    link::link(&mut per_file);
    // Escape paths over the linked facts, each on its workload's facts (BRK901).
    // Only when a policy selects them: a scan without BRK901 (`--skip BRK901`) does
    // not pay for them.
    if opts
        .policies
        .iter()
        .any(engine::Policy::selects_escape_paths)
    {
        paths::paths(&mut per_file);
    }
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
        Outcome::Failed(FileError {
            file: file.clone(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message,
        })
    };
    let bytes = match read_limited(c) {
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
    let docs: Result<Vec<Node>, ParseError> = match format {
        Format::Yaml => parse::yaml::parse(text),
        Format::Json => parse::json::parse(text).map(|n| vec![n]),
        // Terraform files are scanned by folder (`scan_terraform`); only standard input
        // arrives here, as a one-file module.
        Format::Terraform => {
            let out = extract::terraform::scan_source(&file, text, &opts.terraform);
            return match out.errors.into_iter().next() {
                Some(e) => Outcome::Failed(e),
                None => Outcome::Facts(out.facts),
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
                    Outcome::Facts(facts)
                }
                Err(e) => fail(e.pos, e.message),
            };
        }
    };
    // A file found by walking is ours only when its name or its content says so: JSON
    // with comments (`tsconfig.json`) or a Helm values template that does not parse is
    // passed over with the reason, unless it looks like one of our inputs.
    let walked_only = !c.named && !discover::named_as_ours(&c.path);
    let docs = match docs {
        Ok(d) => d,
        Err(e) if walked_only && !e.limit && format == Format::Json => {
            return lenient_json(text, &file, e);
        }
        Err(e) if walked_only && !e.limit && !extract::looks_like_ours(text) => {
            return Outcome::Skipped(not_ours_reason(format, &e));
        }
        Err(e) => return fail(e.pos, e.message),
    };
    let mut facts = Facts::default();
    let mut recognised = false;
    for doc in &docs {
        recognised |= extract::document(doc, &file, &mut facts);
    }
    if recognised {
        Outcome::Facts(facts)
    } else {
        Outcome::Skipped(NOTHING_RECOGNISED.into())
    }
}

const NOTHING_RECOGNISED: &str = "no Kubernetes object, IAM policy or other recognised content";

/// A walked `.json` file that strict JSON refuses: read again allowing comments and
/// trailing commas (JSONC: `tsconfig.json`, `.eslintrc.json`, `appsettings.json`). If it
/// then holds nothing breakout reads it is passed over; if it holds (or, unreadable even
/// so, looks like it holds) one of our inputs, the strict error stands, because AWS,
/// Kubernetes and Terraform refuse such files too — and what it holds is still judged.
fn lenient_json(text: &str, file: &str, strict: ParseError) -> Outcome {
    match parse::json::parse_lenient(text) {
        Ok(doc) => {
            let mut facts = Facts::default();
            if extract::document(&doc, file, &mut facts) {
                Outcome::Partial(facts, failed_error(file, &strict))
            } else if extract::looks_like_ours(text) {
                Outcome::Failed(failed_error(file, &strict))
            } else {
                Outcome::Skipped(format!(
                    "JSON with comments or trailing commas (JSONC); {NOTHING_RECOGNISED}"
                ))
            }
        }
        Err(_) if extract::looks_like_ours(text) => Outcome::Failed(failed_error(file, &strict)),
        Err(_) => Outcome::Skipped(not_ours_reason(Format::Json, &strict)),
    }
}

/// A parse error as the report's error for `file`.
fn failed_error(file: &str, e: &ParseError) -> FileError {
    FileError {
        file: file.to_string(),
        line: e.pos.map(|p| p.line),
        column: e.pos.map(|p| p.column),
        message: e.message.clone(),
    }
}

/// Why a walked file that does not parse, and does not look like one of our inputs,
/// is passed over.
fn not_ours_reason(format: Format, e: &ParseError) -> String {
    let kind = match format {
        Format::Json => "JSON",
        _ => "YAML",
    };
    let at = e
        .pos
        .map(|p| format!(" at {}:{}", p.line, p.column))
        .unwrap_or_default();
    format!(
        "not valid {kind}{at} ({}), and nothing in it looks like a Kubernetes object, \
         compose file, IAM policy, task definition or Terraform plan",
        e.message
    )
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

/// Reads a file (or standard input), refusing anything above [`MAX_FILE_BYTES`].
fn read_limited(c: &Candidate) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let limit = MAX_FILE_BYTES + 1;
    let result = if c.path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(&c.path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result.map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "file is larger than {} MiB; not scanned",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    Ok(buf)
}

/// Reads a file as text within the size limit (BOM stripped, binary and invalid UTF-8
/// refused with their position), for loaders that read files themselves (Terraform
/// modules, `file()`).
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, (Option<parse::Pos>, String)> {
    let candidate = Candidate {
        path: path.to_path_buf(),
        format: None,
        named: true,
    };
    let bytes = read_limited(&candidate).map_err(|m| (None, m))?;
    parse::decode_text(&bytes)
        .map(str::to_string)
        .map_err(|e| (e.pos, e.message))
}
