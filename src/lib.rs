//! breakout: finds container-escape and credential-theft paths in infrastructure code.
//!
//! The pipeline runs one way, one module per stage:
//! [`discover`] → [`parse`] → [`extract`] → [`link`] → [`paths`] → [`engine`] →
//! [`suppress`] → [`report`].
//! [`scan`] runs it and returns a [`Report`]; the binary only parses arguments,
//! picks a report format and sets the exit code.
#![warn(missing_docs)]

pub mod config;
pub mod discover;
pub mod engine;
pub mod extract;
pub mod facts;
pub mod link;
pub mod parse;
pub mod paths;
pub mod render;
pub mod report;
pub mod suppress;

use discover::{Candidate, Format};
use engine::{Finding, Policy};
pub use extract::terraform::Inputs as TerraformInputs;
use facts::Facts;
pub use parse::{FileError, MAX_FILE_BYTES};
use parse::{Node, ParseError};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// The folder of the configuration Terraform plans were made from (`--tf-root`);
    /// by default each plan's own folder.
    pub tf_root: Option<PathBuf>,
    /// Of a plan's findings, report only those the plan introduces (`--new-only`).
    pub new_only: bool,
    /// Files not to scan: globs (`exclude` in the configuration file) over paths
    /// relative to a folder.
    pub exclude: Option<Exclude>,
    /// The configuration file in use: never scanned as an input.
    pub config_file: Option<PathBuf>,
    /// Ignore entries, baseline and `--require-reason` for the suppress stage.
    pub suppress: suppress::Settings,
    /// Told how many files are done, out of how many, as the scan goes.
    pub progress: Option<Progress>,
    /// Leave [`Report::facts`] empty, for outputs that do not list the facts: they are
    /// the largest part of a scan's memory after parsing.
    pub drop_facts: bool,
}

/// Path globs whose files are not scanned, relative to `base`.
#[derive(Clone, Debug)]
pub struct Exclude {
    /// The compiled globs.
    pub globs: globset::GlobSet,
    /// The folder they are relative to (the configuration file's).
    pub base: PathBuf,
}

impl Exclude {
    /// Whether `path` (as discovered) is excluded.
    pub fn excludes(&self, path: &std::path::Path) -> bool {
        suppress::relative_to(&path.display().to_string(), &self.base)
            .is_some_and(|rel| self.globs.is_match(rel))
    }
}

/// A callback told `(done, total)` files as the scan goes (a progress bar).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
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
    /// The Terraform plans (and shown states) scanned: where their resources were
    /// found, what they introduce and keep.
    pub plans: Vec<extract::tfplan::PlanReport>,
    /// Ignore comments, annotations and configuration entries that did not apply.
    pub stale_suppressions: Vec<suppress::StaleSuppression>,
    /// The rules that were evaluated, in catalog order.
    pub rules: Vec<Policy>,
}

/// What became of one file.
enum Outcome {
    /// Read and judged, with the file's `breakout:ignore` comments.
    Facts(Facts, Option<suppress::Notes>),
    /// Judged, and also an error: the file is refused by the tools that read it, but
    /// breakout could still read what it holds.
    Partial(Facts, Vec<FileError>, Option<suppress::Notes>),
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
    let mut found = discover::discover(&opts.paths);
    // The configuration file is never an input; `exclude` globs keep files out, except
    // those named on the command line.
    let config_file = opts
        .config_file
        .as_ref()
        .and_then(|p| p.canonicalize().ok());
    found.files.retain(|c| {
        let name = c
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let named = opts.paths.contains(&c.path);
        let is_config = config::FILE_NAMES.contains(&name)
            || config_file.is_some() && c.path.canonicalize().ok() == config_file;
        !is_config && (named || !opts.exclude.as_ref().is_some_and(|e| e.excludes(&c.path)))
    });
    // Kustomize: root kustomizations are rendered and judged as Kubernetes would get
    // them; the files they consume are not judged again on their own.
    let folders = Folders::default();
    let kustomized = render_kustomizations(&mut found.files, opts, &folders);
    let total = found.files.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = |n: usize| {
        if let Some(p) = &opts.progress {
            let now = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
            (p.0)(now, total);
        }
    };
    let mut report = Report {
        rules: opts.policies.clone(),
        ..Report::default()
    };
    for p in found.errors {
        report.errors.push(FileError::new(
            &discover::display_path(&p.path),
            None,
            p.message,
        ));
    }
    for p in found.passed_over {
        report.skipped.push(Skipped {
            file: discover::display_path(&p.path),
            reason: p.message,
        });
    }
    let (terraform, files): (Vec<Candidate>, Vec<Candidate>) = found
        .files
        .into_iter()
        .partition(|c| c.format == Some(Format::Terraform));
    let outcomes: Vec<(String, Outcome)> = files
        .par_iter()
        .map(|c| {
            let mut outcome = scan_file(c, opts, &folders);
            let file = display_name(c);
            if let Outcome::Facts(f, _) | Outcome::Partial(f, ..) = &mut outcome {
                f.shrink_to_fit();
                f.origin = folders.real_folder_of(std::path::Path::new(&file));
            }
            tick(1);
            (file, outcome)
        })
        .collect();
    let mut notes: BTreeMap<String, suppress::Notes> = terraform
        .par_iter()
        .filter_map(|c| {
            let file = display_name(c);
            let syntax = suppress::Syntax::of(Format::Terraform, &file)?;
            let text = parse::read_text(&c.path).ok()?;
            Some((file, suppress::Notes::read(&text, syntax)))
        })
        .collect();
    // Terraform files (modules and variable files) count one by one; their facts come
    // per module.
    let mut scanned = terraform.len();
    let mut tf_roots = Vec::new();
    let mut module_facts = Vec::new();
    let modules_out = scan_terraform(&terraform, opts);
    tick(terraform.len());
    for module in modules_out {
        report.errors.extend(module.errors);
        report.modules_not_scanned.extend(module.unscanned_modules);
        let mut facts = module.facts;
        facts.origin = module.loaded_dirs.first().cloned();
        module_facts.push(facts);
        tf_roots.push(module.loaded_dirs.first().cloned());
    }
    // A file refused but still judged counts as failed, not scanned: the counts add
    // up to the files read.
    let mut partial = 0;
    // The files' facts take the place of their outcomes (the standard library collects
    // in place when the items are no larger): at ten thousand files, a second list
    // beside the outcomes was a tenth of the peak memory.
    let mut per_file: Vec<Facts> = outcomes
        .into_iter()
        .filter_map(|(file, outcome)| match outcome {
            Outcome::Facts(f, n) => {
                if let Some(n) = n {
                    notes.insert(file, n);
                }
                Some(f)
            }
            Outcome::Partial(f, errors, n) => {
                if let Some(n) = n {
                    notes.insert(file, n);
                }
                report.errors.extend(errors);
                partial += 1;
                Some(f)
            }
            Outcome::Skipped(reason) => {
                report.skipped.push(Skipped { file, reason });
                None
            }
            Outcome::Failed(e) => {
                report.errors.push(e);
                None
            }
        })
        .collect();
    scanned += per_file.len() - partial;
    // Modules first: `tf_roots` are theirs.
    per_file.splice(0..0, module_facts);
    scanned += kustomized.files;
    per_file.extend(kustomized.facts);
    report.errors.extend(kustomized.errors);
    report.modules_not_scanned.extend(kustomized.not_scanned);
    report.modules_not_scanned.sort();
    report.modules_not_scanned.dedup();
    let judged = judge(&mut per_file, &tf_roots, opts, &notes)?;
    (report.findings, report.plans) = (judged.findings, judged.plans);
    // Findings in files the scan did not read itself (installed Terraform modules).
    let unread: std::collections::BTreeSet<String> = report
        .findings
        .iter()
        .map(|f| f.location.file.clone())
        .filter(|f| !notes.contains_key(f))
        .collect();
    for file in unread {
        let path = std::path::Path::new(&file);
        let syntax = discover::format_of(path).and_then(|f| suppress::Syntax::of(f, &file));
        if let (Some(syntax), Ok(text)) = (syntax, parse::read_text(path)) {
            notes.insert(file, suppress::Notes::read(&text, syntax));
        }
    }
    let suppressed = suppress::apply(
        &mut report.findings,
        &per_file,
        &notes,
        &opts.policies,
        &opts.suppress,
    );
    report.stale_suppressions = suppressed.stale;
    report.errors.extend(suppressed.errors);
    report
        .errors
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    report.skipped.sort_by(|a, b| a.file.cmp(&b.file));
    report.stats = Stats {
        files_scanned: scanned,
        files_skipped: report.skipped.len(),
        files_failed: report.errors.len(),
        ..judged.counts
    };
    if opts.drop_facts {
        // Freed on a worker while the caller writes the report: freeing ten thousand
        // files' facts one allocation at a time is work nobody needs to wait for.
        rayon::spawn(move || drop(per_file));
    } else {
        report.facts = Facts::concat(per_file);
    }
    Ok(report)
}

/// What judging the facts gave.
struct Judged {
    /// The findings, sorted.
    findings: Vec<Finding>,
    /// The reviews of the Terraform plans among the files.
    plans: Vec<extract::tfplan::PlanReport>,
    /// The facts of the files, counted (the fact counts of [`Stats`]).
    counts: Stats,
}

/// Links the facts of all files, evaluates the policies over them and reviews the
/// Terraform plans among them (`tf_roots`: the root folder of each Terraform module,
/// the first facts of `per_file`). Findings come back sorted.
///
/// With [`ScanOptions::drop_facts`], each file's facts are freed once judged, but for
/// what suppression reads ([`keep_for_suppression`]; `notes`: the ignore comments of
/// the files read so far): the findings then take the room the facts had, and the
/// scan's peak memory is not facts and findings together.
fn judge(
    per_file: &mut Vec<Facts>,
    tf_roots: &[Option<PathBuf>],
    opts: &ScanOptions,
    notes: &BTreeMap<String, suppress::Notes>,
) -> anyhow::Result<Judged> {
    let files = per_file.len();
    extract::tfplan::drop_replaced(per_file, tf_roots);
    // What a plan's updates had before is linked and judged like the rest.
    let befores = extract::tfplan::take_before(per_file);
    link::link(per_file);
    // Escape paths over the linked facts, each on its workload's facts (BRK901).
    // Only when a policy selects them: a scan without BRK901 (`--skip BRK901`) does
    // not pay for them.
    if opts
        .policies
        .iter()
        .any(engine::Policy::selects_escape_paths)
    {
        paths::paths(per_file);
    }
    // Policies select within one fact: files are judged in groups of a few hundred
    // facts, in parallel, so that only a group's JSON form is alive per thread. A plan
    // (whose findings its review reads back) and a plan's `before` facts are judged on
    // their own; a group's findings are kept with its first file.
    // Counted before judging frees them.
    let counts = count_facts(&per_file[..files]);
    let groups = judged_together(per_file, files);
    let by_group: Vec<Vec<Finding>> = in_groups(per_file, &groups)
        .into_par_iter()
        .zip(&groups)
        .map(|(facts, r)| {
            let doc = serde_json::to_value(facts::FactsGroup(facts))?;
            let mut found = engine::evaluate_split(&opts.policies, doc)?;
            found.shrink_to_fit();
            // The plan review reads a plan's facts after judging; a plan's `before`
            // facts (past `files`) are dropped at its end.
            if opts.drop_facts && r.start < files && facts.iter().all(|f| f.plans.is_empty()) {
                facts
                    .iter_mut()
                    .for_each(|f| keep_for_suppression(f, notes));
            }
            Ok(found)
        })
        .collect::<anyhow::Result<_>>()?;
    let mut findings: Vec<Vec<Finding>> = vec![Vec::new(); per_file.len()];
    for (r, found) in groups.iter().zip(by_group) {
        findings[r.start] = found;
    }
    let plans = extract::tfplan::review(per_file, &mut findings, &befores, opts.new_only);
    per_file.truncate(files);
    findings.truncate(files);
    let mut all: Vec<Finding> = Vec::with_capacity(findings.iter().map(Vec::len).sum());
    for found in findings {
        all.extend(found);
    }
    sort_in_place(&mut all, Finding::order);
    Ok(Judged {
        findings: all,
        plans,
        counts,
    })
}

/// `facts` cut into the consecutive `groups` (which cover it in order).
fn in_groups<'a>(
    mut facts: &'a mut [Facts],
    groups: &[std::ops::Range<usize>],
) -> Vec<&'a mut [Facts]> {
    let mut parts = Vec::with_capacity(groups.len());
    for r in groups {
        let (part, rest) = std::mem::take(&mut facts).split_at_mut(r.len());
        parts.push(part);
        facts = rest;
    }
    debug_assert!(facts.is_empty(), "the groups cover every file");
    parts
}

/// The facts of `facts` counted, for [`Stats`].
fn count_facts(facts: &[Facts]) -> Stats {
    let count = |n: fn(&Facts) -> usize| facts.iter().map(n).sum();
    Stats {
        workloads: count(|f| f.workloads.len()),
        containers: count(|f| f.containers.len()),
        policy_statements: count(|f| f.iam_statements.len()),
        images: count(|f| f.images.len()),
        instances: count(|f| f.instances.len()),
        ..Stats::default()
    }
}

/// Frees a judged file's facts but for what suppression reads after judging: the
/// ignore annotations, and the workloads, images and instances (where they start, for
/// an ignore comment above them) of files that may have ignore comments. A file in
/// `notes` without any was read and has none; a file not in it (an installed module's,
/// a file a kustomization read) has its comments read later.
fn keep_for_suppression(facts: &mut Facts, notes: &BTreeMap<String, suppress::Notes>) {
    let commented = |file: &str| notes.get(file).is_none_or(|n| !n.directives.is_empty());
    let mut kept = Facts {
        ignore_annotations: std::mem::take(&mut facts.ignore_annotations),
        origin: facts.origin.take(),
        ..Facts::default()
    };
    kept.workloads = std::mem::take(&mut facts.workloads);
    kept.workloads.retain(|w| commented(&w.file));
    kept.images = std::mem::take(&mut facts.images);
    kept.images.retain(|i| commented(&i.file));
    kept.instances = std::mem::take(&mut facts.instances);
    kept.instances.retain(|i| commented(&i.file));
    kept.workloads.shrink_to_fit();
    kept.images.shrink_to_fit();
    kept.instances.shrink_to_fit();
    *facts = kept;
}

/// Sorts `items` by `compare`, stably, on the scan's threads, without a second copy of
/// them: the order is worked out on their indices, then the items are moved into it
/// along its cycles. Sorting 28,650 findings themselves needed room for all of them
/// again, a tenth of the scan's peak memory.
fn sort_in_place<T: Sync>(items: &mut [T], compare: impl Fn(&T, &T) -> std::cmp::Ordering + Sync) {
    let all: &[T] = items;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.par_sort_by(|&a, &b| compare(&all[a], &all[b]));
    let all = items;
    // `all[j]` must become what is now at `all[order[j]]`; a visited place is marked by
    // pointing at itself.
    for start in 0..order.len() {
        let mut j = start;
        while order[j] != j {
            let from = order[j];
            order[j] = j;
            if from == start {
                break;
            }
            all.swap(j, from);
            j = from;
        }
    }
}

/// Facts per group of files judged as one fact document.
const FACTS_PER_GROUP: usize = 32;

/// Consecutive files whose facts are judged as one document: of the first `files`
/// (the scanned files), those without a plan, up to [`FACTS_PER_GROUP`] facts a group;
/// every other one alone.
fn judged_together(per_file: &[Facts], files: usize) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut facts_in_last = 0;
    for (i, f) in per_file.iter().enumerate() {
        let alone = i >= files || !f.plans.is_empty();
        let n = f.serialized_len();
        match groups.last_mut() {
            // A file alone leaves its group full, so that nothing joins it.
            Some(last) if !alone && facts_in_last + n <= FACTS_PER_GROUP => {
                last.end = i + 1;
                facts_in_last += n;
            }
            _ => {
                groups.push(i..i + 1);
                facts_in_last = if alone { usize::MAX / 2 } else { n };
            }
        }
    }
    groups
}

/// What rendering the scan's kustomizations gave.
#[derive(Default)]
struct Kustomized {
    /// The facts of each root kustomization's objects.
    facts: Vec<Facts>,
    /// Files that could not be read, patches that could not be applied.
    errors: Vec<FileError>,
    /// Remote resources, Helm charts and plugins, not rendered.
    not_scanned: Vec<String>,
    /// Files the kustomizations read (scanned through them).
    files: usize,
}

/// Renders the root kustomizations among the files found and takes the files they
/// consume (resources, patches, kustomization files) out of `files`.
fn render_kustomizations(
    files: &mut Vec<Candidate>,
    opts: &ScanOptions,
    folders: &Folders,
) -> Kustomized {
    use render::kustomize;
    let found: Vec<kustomize::Found> = files
        .iter()
        .filter(|c| c.path.as_os_str() != "-" && kustomize::is_kustomization_file(&c.path))
        .filter_map(|c| {
            // Overlays name their bases by relative paths (`../../base`): a
            // kustomization reads within its repository (the folder that holds `.git`),
            // or within the scanned folder outside one.
            let root = scan_root_of(c, opts, folders)?;
            let repo = root.ancestors().find(|d| d.join(".git").exists());
            Some(kustomize::Found {
                file: c.path.clone(),
                scan_root: repo.map_or(root.clone(), std::path::Path::to_path_buf),
            })
        })
        .collect();
    if found.is_empty() {
        return Kustomized::default();
    }
    let out = kustomize::render_all(&found);
    let before = files.len();
    files.retain(|c| {
        !c.path
            .canonicalize()
            .is_ok_and(|p| out.consumed.contains(&p))
    });
    let facts = out
        .roots
        .par_iter()
        .map(|root| {
            let mut facts = Facts::default();
            for obj in &root.objects {
                let file = obj.pos.file_or(&root.kustomization);
                extract::document(obj, &file, &mut facts);
            }
            let by = facts::Evidence {
                what: format!("rendered by the kustomization in {}", root.folder),
                file: root.kustomization.clone(),
                loc: parse::Pos::new(1, 1),
            };
            facts.mark_rendered(&by, None);
            facts.origin = Some(root.dir.clone());
            facts
        })
        .collect();
    Kustomized {
        facts,
        errors: out.errors,
        not_scanned: out.not_scanned,
        files: before - files.len(),
    }
}

fn display_name(c: &Candidate) -> String {
    if c.path.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        discover::display_path(&c.path)
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

/// The scanned folder a file was found in (canonical): the deepest path given on the
/// command line that holds it, or its own folder for a named file. Files a document
/// refers to (a compose `.env`) are read only from inside it.
fn scan_root_of(c: &Candidate, opts: &ScanOptions, folders: &Folders) -> Option<PathBuf> {
    let real = folders.real_folder_of(&c.path)?;
    folders
        .roots(opts)
        .iter()
        .filter(|r| real.starts_with(r))
        .max_by_key(|r| r.as_os_str().len())
        .cloned()
        .or(Some(real))
}

/// Canonical folders, each looked up once per scan rather than once per file: a
/// canonicalisation costs a `readlink` per path component, which at ten thousand
/// files was a fifth of the scan's CPU time.
#[derive(Default)]
struct Folders {
    /// Keyed by the path's bytes: hashing a `Path` splits it into components.
    known: std::sync::Mutex<std::collections::HashMap<std::ffi::OsString, Option<PathBuf>>>,
    /// The scanned folders (of the paths on the command line), canonical.
    roots: std::sync::OnceLock<Vec<PathBuf>>,
}

impl Folders {
    /// The folders of the paths on the command line, canonical, worked out once.
    fn roots(&self, opts: &ScanOptions) -> &[PathBuf] {
        self.roots.get_or_init(|| {
            opts.paths
                .iter()
                .filter(|p| p.as_os_str() != "-")
                .filter_map(|p| {
                    let dir = if p.is_dir() { p.clone() } else { folder_of(p) };
                    self.canonical(&dir)
                })
                .collect()
        })
    }

    /// `dir`, canonical (`None` when it cannot be resolved).
    fn canonical(&self, dir: &std::path::Path) -> Option<PathBuf> {
        if let Some(hit) = self
            .known
            .lock()
            .ok()
            .and_then(|m| m.get(dir.as_os_str()).cloned())
        {
            return hit;
        }
        // A folder that is not a link is where its parent really is, under its own
        // name: one `lstat` instead of a `readlink` per component of the path.
        let real = match (dir.parent(), dir.file_name()) {
            (Some(parent), Some(name))
                if !parent.as_os_str().is_empty()
                    && std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) =>
            {
                self.canonical(parent).map(|p| p.join(name))
            }
            _ => dir.canonicalize().ok(),
        };
        if let Ok(mut m) = self.known.lock() {
            m.insert(dir.as_os_str().to_owned(), real.clone());
        }
        real
    }

    /// The canonical folder that holds `file` (its link, when `file` is a symbolic
    /// link: the walk keeps only links whose target is inside the scanned folder).
    fn real_folder_of(&self, file: &std::path::Path) -> Option<PathBuf> {
        self.canonical(&folder_of(file))
    }
}

/// The folder a file is in (`.` for a bare file name).
fn folder_of(path: &std::path::Path) -> std::path::PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Reads, parses and extracts one file.
fn scan_file(c: &Candidate, opts: &ScanOptions, folders: &Folders) -> Outcome {
    match parse::read_limited(&c.path) {
        Ok(bytes) => scan_bytes(c, &bytes, opts, folders),
        Err(message) => Outcome::Failed(FileError::new(&display_name(c), None, message)),
    }
}

/// Scans one file's contents, given under a name that stands for the file (its
/// extension and name decide the format as in a folder walk), through every stage:
/// parse, extract, link, evaluate. Nothing is read from disk but what the contents
/// refer to (a compose file's `.env`, Terraform's `file()`), relative to the name.
/// For embedding and for fuzzing the whole pipeline on one input.
pub fn scan_contents(name: &str, bytes: &[u8], opts: &ScanOptions) -> anyhow::Result<Report> {
    let path = PathBuf::from(name);
    let candidate = Candidate {
        format: discover::format_of(&path),
        path,
        named: true,
    };
    let mut report = Report::default();
    let mut per_file = Vec::new();
    match scan_bytes(&candidate, bytes, opts, &Folders::default()) {
        Outcome::Facts(f, _) => per_file.push(f),
        Outcome::Partial(f, errors, _) => {
            per_file.push(f);
            report.errors.extend(errors);
        }
        Outcome::Skipped(reason) => report.skipped.push(Skipped {
            file: name.to_string(),
            reason,
        }),
        Outcome::Failed(e) => report.errors.push(e),
    }
    let judged = judge(&mut per_file, &[], opts, &BTreeMap::new())?;
    (report.findings, report.plans) = (judged.findings, judged.plans);
    if !opts.drop_facts {
        report.facts = Facts::concat(per_file);
    }
    Ok(report)
}

/// Parses and extracts one file's contents.
fn scan_bytes(c: &Candidate, bytes: &[u8], opts: &ScanOptions, folders: &Folders) -> Outcome {
    let file = display_name(c);
    let fail = |pos: Option<parse::Pos>, message: String| {
        Outcome::Failed(FileError::new(&file, pos, message))
    };
    let text = match parse::decode_text(bytes) {
        Ok(t) => t,
        Err(e) => return fail(e.pos, e.message),
    };
    if text.trim().is_empty() {
        return Outcome::Skipped("empty file".into());
    }
    let format = c.format.unwrap_or_else(|| sniff(text));
    // A YAML key written twice: an error at the repeated key, yet the documents are
    // readable (the last value wins) and judged.
    let mut duplicates: Vec<ParseError> = Vec::new();
    let notes = |format: Format| {
        suppress::Syntax::of(format, &file).map(|syntax| suppress::Notes::read(text, syntax))
    };
    let docs: Result<Vec<Node>, ParseError> = match format {
        Format::Yaml => parse::yaml::parse_lenient(text).map(|(docs, dups)| {
            duplicates = dups;
            docs
        }),
        Format::Json if extract::tfplan::sniff(text) => {
            parse::json::parse_pruned(text, &extract::tfplan::prune).map(|n| vec![n])
        }
        Format::Json => parse::json::parse(text).map(|n| vec![n]),
        // Terraform files are scanned by folder (`scan_terraform`); only standard input
        // arrives here, as a one-file module.
        Format::Terraform => {
            let out = extract::terraform::scan_source(&file, text, &opts.terraform);
            return match out.errors.into_iter().next() {
                Some(e) => Outcome::Failed(e),
                None => Outcome::Facts(out.facts, notes(Format::Terraform)),
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
                    Outcome::Facts(facts, notes(Format::Dockerfile))
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
    let root = scan_root_of(c, opts, folders);
    // `helm template` output names each document's template (`# Source:`): findings
    // name it too.
    let templates = if format == Format::Yaml && render::helm::is_rendered(text) {
        render::helm::sources(text, &docs)
    } else {
        Vec::new()
    };
    for (i, doc) in docs.iter().enumerate() {
        let before = facts.counts();
        recognised |= extract::document_within(
            doc,
            &file,
            root.as_deref(),
            opts.tf_root.as_deref(),
            &mut facts,
        );
        if let Some(Some(template)) = templates.get(i) {
            let by = facts::Evidence {
                what: format!("rendered from Helm template {template}"),
                file: template.clone(),
                loc: parse::Pos::new(1, 1),
            };
            facts.mark_rendered_from(&before, &by, Some(template));
        }
    }
    match duplicates.first() {
        None if recognised => Outcome::Facts(facts, notes(format)),
        None => Outcome::Skipped(NOTHING_RECOGNISED.into()),
        // Ours, refused by the API server under strict validation, still judged.
        Some(_) if recognised => Outcome::Partial(
            facts,
            duplicates.iter().map(|e| failed_error(&file, e)).collect(),
            notes(format),
        ),
        Some(e) if walked_only && !extract::looks_like_ours(text) => {
            Outcome::Skipped(not_ours_reason(format, e))
        }
        Some(e) => fail(e.pos, e.message.clone()),
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
                // JSON has no comments to suppress with: no notes.
                Outcome::Partial(facts, vec![failed_error(file, &strict)], None)
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
    FileError::new(file, e.pos, e.message.clone())
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

#[cfg(test)]
mod tests {
    #[test]
    fn sorting_in_place_is_a_stable_sort() {
        use proptest::prelude::*;
        proptest!(|(items in prop::collection::vec((0u8..4, any::<u16>()), 0..300))| {
            let mut want = items.clone();
            want.sort_by_key(|i| i.0);
            let mut got = items;
            super::sort_in_place(&mut got, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, want);
        });
    }

    use super::*;

    #[test]
    fn one_file_from_memory_goes_through_every_stage() {
        let opts = ScanOptions {
            policies: engine::builtin(),
            ..Default::default()
        };
        let pod = b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      securityContext: {privileged: true}\n";
        let report = scan_contents("pod.yaml", pod, &opts).unwrap();
        let rules: Vec<&str> = report.findings.iter().map(|f| f.rule_id.as_str()).collect();
        assert!(
            rules.contains(&"BRK601") && rules.contains(&"BRK504"),
            "{rules:?}"
        );
        let tf = b"resource \"aws_iam_policy\" \"p\" {\n  policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = \"*\"}]})\n}\n";
        let report = scan_contents("main.tf", tf, &opts).unwrap();
        assert!(report.findings.iter().any(|f| f.rule_id == "BRK101"));
        let report = scan_contents("notes.json", b"{\"a\": 1,}", &opts).unwrap();
        assert!(report.findings.is_empty() && report.errors.len() == 1);
    }

    #[test]
    fn a_group_serializes_as_its_facts_would() {
        // Every list, empty: the group names the same lists in the same order.
        let empty = Facts::default();
        assert_eq!(
            serde_json::to_value(facts::FactsGroup(std::slice::from_ref(&empty))).unwrap(),
            serde_json::to_value(&empty).unwrap()
        );
        // Real facts of several kinds, from two files: the group is their concatenation.
        let opts = ScanOptions {
            policies: engine::builtin(),
            ..Default::default()
        };
        let read = |name: &str, text: &[u8]| scan_contents(name, text, &opts).unwrap().facts;
        let pod = read(
            "pod.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: nginx\n      volumeMounts: [{name: d, mountPath: /d}]\n  volumes: [{name: d, hostPath: {path: /var/run/docker.sock}}]\n",
        );
        let policy = read(
            "policy.json",
            br#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}"#,
        );
        assert!(!pod.containers.is_empty() && !policy.iam_statements.is_empty());
        let both = [pod, policy];
        let group = serde_json::to_value(facts::FactsGroup(&both)).unwrap();
        let [pod, policy] = both;
        let mut all = Facts::default();
        all.extend(pod);
        all.extend(policy);
        assert_eq!(group, serde_json::to_value(&all).unwrap());
        assert_eq!(
            all.serialized_len(),
            all.workloads.len() + all.containers.len() + all.iam_statements.len()
        );
    }

    /// Lines of YAML, Terraform and Dockerfile text that proptest mixes into inputs.
    const PIECES: &[&str] = &[
        "apiVersion: v1\n",
        "kind: Pod\n",
        "metadata: {name: p}\n",
        "spec:\n",
        "  hostNetwork: true\n",
        "  containers:\n",
        "    - name: c\n",
        "      securityContext: {privileged: true, runAsUser: 0}\n",
        "      volumeMounts: [{name: s, mountPath: /s}]\n",
        "  volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]\n",
        "---\n",
        "é€𝄞: [\n",
        "\t- x\n",
        "resource \"aws_iam_policy\" \"p\" {\n",
        "  policy = jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = \"*\"}]})\n",
        "}\n",
        "locals { a = [for i in range(3) : \"${i}\"] }\n",
        "FROM alpine:3.20 AS b\n",
        "USER root\n",
        "ARG A=${B}${B}\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

        /// Every finding points inside the file it names, and scanning the same input
        /// twice gives the same JSON report, byte for byte.
        #[test]
        fn positions_stay_inside_the_file_and_rescans_are_identical(
            picks in proptest::collection::vec(0usize..PIECES.len(), 0..24),
            name in proptest::sample::select(vec!["pod.yaml", "main.tf", "Dockerfile", "x.json"]),
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let opts = ScanOptions { policies: engine::builtin(), ..Default::default() };
            let first = scan_contents(name, text.as_bytes(), &opts).unwrap();
            let lines: Vec<&str> = text.split('\n').collect();
            for f in &first.findings {
                let line = f.location.line as usize;
                proptest::prop_assert!(line >= 1 && line <= lines.len(), "{f:?} in {text:?}");
                let width = lines[line - 1].chars().count() + 1;
                proptest::prop_assert!(f.location.column >= 1 && f.location.column as usize <= width, "{f:?} in {text:?}");
            }
            let again = scan_contents(name, text.as_bytes(), &opts).unwrap();
            proptest::prop_assert_eq!(report::json::render(&first), report::json::render(&again));
        }
    }
}
