//! The `breakout` command line: argument parsing, output and exit codes only.
//! Everything else lives in the library (`breakout::scan`).

use anyhow::{anyhow, bail, Context, Result};
use breakout::config::{self, Config};
use breakout::engine::{self, Confidence, Policy, Severity};
use breakout::report::{self, Format, Style};
use breakout::suppress::Baseline;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Finds container-escape and credential-theft paths in infrastructure code.
#[derive(Parser)]
#[command(name = "breakout", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files and folders (or `-` for standard input) and report findings.
    Scan(Box<ScanArgs>),
    /// List the policy catalog, or explain one policy.
    Policies {
        #[command(subcommand)]
        action: Option<PoliciesAction>,
        /// Also load the policies in this folder.
        #[arg(long, value_name = "DIR", global = true)]
        policies: Option<PathBuf>,
        /// `text` (default), or `markdown`: the whole rule reference, as
        /// docs/policies.md (with `show ID`, that rule's section).
        #[arg(long, short, value_enum, value_name = "FORMAT", global = true)]
        format: Option<CatalogFormat>,
    },
}

#[derive(Subcommand)]
enum PoliciesAction {
    /// Explain one policy: rationale, remediation, selector and peer equivalents.
    Show {
        /// Rule id or slug, e.g. BRK201 or runtime-socket-mount.
        id: String,
    },
}

/// How `breakout policies` writes the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CatalogFormat {
    /// One line per rule (`show`: one rule in full), for a terminal.
    Text,
    /// The rule reference in Markdown (docs/policies.md).
    Markdown,
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or folders to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Report format (repeatable: each `--output` that follows a `--format` receives
    /// it; at most one format goes to standard output). Default: table.
    #[arg(long, short, value_enum, value_name = "FORMAT")]
    format: Vec<Format>,
    /// Write the report of the `--format` before it to this file instead of standard
    /// output (repeatable).
    #[arg(long, short, value_name = "FILE")]
    output: Vec<PathBuf>,
    /// Exit with 1 when an active finding is at or above this severity [default: low].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Which findings count for `--fail-on`: `low` (default) counts every finding, `high`
    /// only those that do not rest on a value known only at apply time. Both are
    /// reported either way.
    #[arg(long, value_enum, value_name = "CONFIDENCE")]
    fail_on_confidence: Option<FailConfidence>,
    /// Run only these rules (ids or slugs, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    only: Vec<String>,
    /// Do not run these rules (ids or slugs, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    skip: Vec<String>,
    /// Also load the policies (YAML) in this folder (repeatable).
    #[arg(long, value_name = "DIR")]
    policies: Vec<PathBuf>,
    /// The Dockerfile build stage that becomes the image, as `docker build --target`
    /// (Dockerfiles without it are judged by their last stage).
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// A Terraform variable for root modules, as `terraform -var` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// A Terraform variable file for root modules, as `terraform -var-file` (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Of a Terraform plan's findings, report (and fail on) only those the plan
    /// introduces; other inputs are unaffected.
    #[arg(long)]
    new_only: bool,
    /// The folder of the configuration Terraform plans were made from, where their
    /// findings are located (default: each plan's own folder).
    #[arg(long, value_name = "DIR")]
    tf_root: Option<PathBuf>,
    /// The configuration file [default: `.breakout.yaml` in the scan root or a parent
    /// folder, up to the repository root].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Accept the findings of an earlier JSON report (`--format json`): those whose
    /// fingerprint it holds are suppressed with kind `baseline`.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// List suppressed findings in the table too (they are always in json, sarif and
    /// junit).
    #[arg(long)]
    show_suppressed: bool,
    /// How the table groups findings: `auto` (by file for up to 5 files with findings,
    /// else by rule family), `file`, `rule`, `family` or `severity`.
    #[arg(long, value_enum, value_name = "GROUP", default_value = "auto")]
    group_by: report::table::GroupBy,
    /// A suppression (comment, annotation, config entry) without a reason is an error.
    #[arg(long)]
    require_reason: bool,
    /// Print nothing but the report: no warnings, no progress, no error lines (errors
    /// stay in the report and the exit code).
    #[arg(long, short)]
    quiet: bool,
}

/// `NAME=VALUE` for `--var`.
fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{s}`: expected NAME=VALUE")),
    }
}

/// The lowest confidence a finding needs to fail the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FailConfidence {
    /// Every finding fails the scan.
    Low,
    /// Only findings that do not rest on an unknown value fail the scan.
    High,
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Scan(args) => {
            let sub = matches.subcommand_matches("scan").expect("scan was given");
            let indices = |id: &str| -> Vec<usize> {
                sub.indices_of(id)
                    .map(Iterator::collect)
                    .unwrap_or_default()
            };
            match outputs(&args, &indices("format"), &indices("output")) {
                Ok(outs) => scan(*args, outs),
                Err(e) => Err(e),
            }
        }
        Command::Policies {
            action,
            policies,
            format,
        } => list_policies(action, policies, format.unwrap_or(CatalogFormat::Text)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("breakout: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Pairs each `--output` with the `--format` written before it on the command line
/// (one of each pairs whatever their order). Formats without an output go to standard
/// output; only one may.
fn outputs(
    args: &ScanArgs,
    format_at: &[usize],
    output_at: &[usize],
) -> Result<Vec<(Format, Option<PathBuf>)>> {
    if args.format.len() <= 1 && args.output.len() <= 1 {
        let format = args.format.first().copied().unwrap_or(Format::Table);
        return Ok(vec![(format, args.output.first().cloned())]);
    }
    let mut outs: Vec<(Format, Option<PathBuf>)> = args.format.iter().map(|f| (*f, None)).collect();
    for (path, at) in args.output.iter().zip(output_at) {
        let Some(i) = format_at.iter().rposition(|f| f < at) else {
            bail!(
                "--output {} comes before any --format: write `--format FORMAT --output FILE` pairs",
                path.display()
            );
        };
        if let Some(other) = &outs[i].1 {
            bail!(
                "--format {} is followed by two outputs ({} and {})",
                outs[i].0.as_str(),
                other.display(),
                path.display()
            );
        }
        outs[i].1 = Some(path.clone());
    }
    let to_stdout: Vec<&str> = outs
        .iter()
        .filter(|(_, o)| o.is_none())
        .map(|(f, _)| f.as_str())
        .collect();
    if to_stdout.len() > 1 {
        bail!(
            "{} formats would go to standard output ({}): give each but one an --output FILE",
            to_stdout.len(),
            to_stdout.join(", ")
        );
    }
    Ok(outs)
}

fn load_policies(dirs: &[PathBuf]) -> Result<Vec<Policy>> {
    let mut all = engine::builtin();
    for dir in dirs {
        for p in engine::load_dir(dir)? {
            // Rules are named case-insensitively everywhere else (`--only`, `show`).
            if let Some(clash) = all
                .iter()
                .find(|b| b.id.eq_ignore_ascii_case(&p.id) || b.slug.eq_ignore_ascii_case(&p.slug))
            {
                bail!(
                    "{}: id or slug of `{}` is already used by {}",
                    p.origin,
                    p.id,
                    clash.origin
                );
            }
            all.push(p);
        }
    }
    Ok(all)
}

/// Keeps the policies `--only` names (all when empty) and drops those `--skip` names.
fn select(all: Vec<Policy>, only: &[String], skip: &[String]) -> Result<Vec<Policy>> {
    for key in only.iter().chain(skip) {
        if !all.iter().any(|p| p.is_named(key)) {
            bail!("unknown rule `{key}` (see `breakout policies`)");
        }
    }
    Ok(all
        .into_iter()
        .filter(|p| only.is_empty() || only.iter().any(|k| p.is_named(k)))
        .filter(|p| !skip.iter().any(|k| p.is_named(k)))
        .collect())
}

/// The configuration file named with `--config`, or found from the first path.
fn load_config(args: &ScanArgs) -> Result<Config> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => config::find(args.paths.first().map_or(Path::new("."), PathBuf::as_path)),
    };
    match path {
        Some(p) => config::load(&p).map_err(|e| anyhow!("{e}")),
        None => Ok(Config::default()),
    }
}

fn scan(args: ScanArgs, outs: Vec<(Format, Option<PathBuf>)>) -> Result<ExitCode> {
    let config = load_config(&args)?;
    // Command-line options override the file.
    let policy_dirs = if args.policies.is_empty() {
        config.policies.clone()
    } else {
        args.policies.clone()
    };
    let mut all = load_policies(&policy_dirs)?;
    config.check_rules(&all).map_err(|e| anyhow!("{e}"))?;
    for (rule, severity) in &config.severity {
        if let Some(p) = all.iter_mut().find(|p| p.is_named(&rule.name)) {
            p.severity = *severity;
        }
    }
    let names = |refs: &[config::RuleRef]| refs.iter().map(|r| r.name.clone()).collect();
    let only: Vec<String> = if args.only.is_empty() {
        names(&config.only)
    } else {
        args.only.clone()
    };
    let skip: Vec<String> = if args.skip.is_empty() {
        names(&config.skip)
    } else {
        args.skip.clone()
    };
    let known_rules = all
        .iter()
        .map(|p| (p.id.clone(), p.slug.to_string()))
        .collect();
    let policies = select(all, &only, &skip)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    let fail_on_confidence = args
        .fail_on_confidence
        .unwrap_or(match config.fail_on_confidence {
            Some(Confidence::High) => FailConfidence::High,
            _ => FailConfidence::Low,
        });
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path).map_err(|e| anyhow!("{e}"))?),
        None => None,
    };
    let progress = (!args.quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty()))
    .then(progress::bar);
    let opts = breakout::ScanOptions {
        paths: args.paths.clone(),
        policies,
        docker_target: args.target.clone().or(config.docker_target.clone()),
        terraform: breakout::TerraformInputs {
            var_files: config
                .var_files
                .iter()
                .chain(&args.var_files)
                .cloned()
                .collect(),
            vars: config.vars.iter().chain(&args.vars).cloned().collect(),
            // Terraform reads `TF_VAR_name` for root module variables; so does breakout.
            env: std::env::vars()
                .filter_map(|(k, v)| Some((k.strip_prefix("TF_VAR_")?.to_string(), v)))
                .collect(),
        },
        tf_root: args.tf_root.clone(),
        new_only: args.new_only,
        exclude: config.exclude.clone(),
        config_file: (!config.file.is_empty()).then(|| PathBuf::from(&config.file)),
        suppress: breakout::suppress::Settings {
            ignore: config.ignore.clone(),
            baseline,
            require_reason: args.require_reason,
            known_rules,
            today: None,
        },
        progress: progress.as_ref().map(|p| p.callback()),
        drop_facts: !outs.iter().any(|(f, _)| f.reads_facts()),
    };
    let report = breakout::scan(&opts)?;
    drop(progress);
    if !args.quiet {
        for e in &report.errors {
            eprintln!("breakout: error: {}", report::terminal_text(&e.to_string()));
        }
        // A table on standard output lists them itself.
        let table_on_stdout = outs.iter().any(|(f, o)| *f == Format::Table && o.is_none());
        for s in report
            .stale_suppressions
            .iter()
            .filter(|_| !table_on_stdout)
        {
            eprintln!(
                "breakout: warning: {}",
                report::terminal_text(&s.to_string())
            );
        }
    }
    let source_root = std::env::current_dir().ok();
    let scan_info = report::ScanInfo {
        paths: args.paths.iter().map(|p| p.display().to_string()).collect(),
        options: scan_options(&args, &config, fail_on, fail_on_confidence, &only, &skip),
    };
    for (format, output) in &outs {
        let to_terminal = output.is_none() && std::io::stdout().is_terminal();
        let options = report::Options {
            style: Style {
                color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
                // `COLUMNS` when set; else the terminal's width, and for files and pipes
                // a fixed width, so the output is the same everywhere.
                width: columns().or(if to_terminal { None } else { Some(120) }),
            },
            show_suppressed: args.show_suppressed,
            source_root: source_root.clone(),
            group_by: args.group_by,
            scan: scan_info.clone(),
        };
        match output {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                report::write(&report, *format, &options, &mut out)
                    .and_then(|()| out.flush())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                // A closed pipe (`| head`) is not an error worth reporting.
                let _ =
                    report::write(&report, *format, &options, &mut out).and_then(|()| out.flush());
            }
        }
    }
    let code = if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if report.findings.iter().any(|f| {
        f.is_active()
            && f.severity >= fail_on
            && (fail_on_confidence == FailConfidence::Low || f.confidence == Confidence::High)
    }) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends here: freeing every finding and fact one by one would only
    // delay the exit (tens of milliseconds on a large tree); the system takes the
    // memory back at once.
    std::mem::forget(report);
    Ok(code)
}

/// The width `COLUMNS` asks for (a number from 40 up), as terminals and `less` set it.
fn columns() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c >= 40)
}

/// The settings that decide what was judged and how it counts, for reports that say
/// what was scanned (HTML): `--fail-on` always, the others when set. Variable values
/// are left out (they may be secrets): only their names.
fn scan_options(
    args: &ScanArgs,
    config: &Config,
    fail_on: Severity,
    fail_on_confidence: FailConfidence,
    only: &[String],
    skip: &[String],
) -> Vec<(String, String)> {
    let mut out = vec![("--fail-on".to_string(), fail_on.as_str().to_string())];
    if fail_on_confidence == FailConfidence::High {
        out.push(("--fail-on-confidence".into(), "high".into()));
    }
    let paths = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list: [(&str, String); 9] = [
        ("--only", only.join(",")),
        ("--skip", skip.join(",")),
        ("--policies", paths(&args.policies)),
        ("--config", config.file.clone()),
        (
            "--baseline",
            args.baseline
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("--target", args.target.clone().unwrap_or_default()),
        ("--var-file", paths(&args.var_files)),
        (
            "--var",
            args.vars
                .iter()
                .map(|(name, _)| format!("{name}=…"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "--require-reason",
            if args.require_reason { "yes" } else { "" }.to_string(),
        ),
    ];
    out.extend(
        list.into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v)),
    );
    out
}

/// The progress bar: on a terminal's standard error, for scans longer than half a
/// second.
mod progress {
    use breakout::Progress;
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Shown once the scan has run for this long.
    const DELAY: Duration = Duration::from_millis(500);

    /// A bar that appears only after [`DELAY`] and is cleared when dropped.
    pub struct Bar {
        started: Instant,
        bar: Arc<Mutex<Option<ProgressBar>>>,
    }

    pub fn bar() -> Bar {
        Bar {
            started: Instant::now(),
            bar: Arc::new(Mutex::new(None)),
        }
    }

    impl Bar {
        pub fn callback(&self) -> Progress {
            let started = self.started;
            let slot = Arc::clone(&self.bar);
            Progress(Arc::new(move |done, total| {
                if started.elapsed() < DELAY {
                    return;
                }
                let Ok(mut slot) = slot.lock() else { return };
                let bar = slot.get_or_insert_with(|| {
                    let bar = ProgressBar::with_draw_target(
                        Some(total as u64),
                        ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} scanning {pos}/{len} files {wide_bar} {elapsed}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar
                });
                bar.set_position(done as u64);
            }))
        }
    }

    impl Drop for Bar {
        fn drop(&mut self) {
            if let Ok(mut slot) = self.bar.lock() {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

fn list_policies(
    action: Option<PoliciesAction>,
    dir: Option<PathBuf>,
    format: CatalogFormat,
) -> Result<ExitCode> {
    let all = load_policies(dir.as_slice())?;
    let mut out = String::new();
    match action {
        None if format == CatalogFormat::Markdown => {
            out.push_str(&report::policies::markdown(&all));
        }
        None => out.push_str(&catalog(&all)),
        Some(PoliciesAction::Show { id }) => {
            let Some(p) = all.iter().find(|p| p.is_named(&id)) else {
                bail!("unknown rule `{id}` (see `breakout policies`)");
            };
            if format == CatalogFormat::Markdown {
                out.push_str(&report::policies::rule_section(p));
                let _ = std::io::stdout().lock().write_all(out.as_bytes());
                return Ok(ExitCode::SUCCESS);
            }
            out.push_str(&format!("{} {}: {}\n", p.id, p.slug, p.title));
            out.push_str(&format!("severity: {}\n\n", p.severity.as_str()));
            out.push_str(&format!("Why it matters\n{}\n\n", indent(&p.rationale)));
            out.push_str(&format!("How to fix\n{}\n\n", indent(&p.remediation)));
            out.push_str(&format!("Selects\n  {}\n", p.select));
            if let Some(u) = &p.unknown {
                out.push_str(&format!(
                    "\nAt low confidence, where a value is known only at apply time\n  {u}\n"
                ));
            }
            if !p.peers.is_empty() {
                out.push_str("\nPeer equivalents\n");
                for (tool, ids) in &p.peers {
                    let ids = if ids.is_empty() {
                        "none".to_string()
                    } else {
                        ids.join(", ")
                    };
                    out.push_str(&format!("  {tool}: {ids}\n"));
                }
            }
            if !p.references.is_empty() {
                out.push_str("\nReferences\n");
                for r in &p.references {
                    out.push_str(&format!("  {r}\n"));
                }
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// One line per policy: id, severity, slug and title, in columns as wide as their
/// widest entry (user policies can bring longer ids and slugs).
fn catalog(all: &[Policy]) -> String {
    let width = |f: fn(&Policy) -> &str| all.iter().map(|p| f(p).chars().count()).max();
    let id_w = width(|p| &p.id).unwrap_or(0);
    let sev_w = width(|p| p.severity.as_str()).unwrap_or(0);
    let slug_w = width(|p| &p.slug).unwrap_or(0);
    all.iter()
        .map(|p| {
            format!(
                "{:<id_w$} {:<sev_w$} {:<slug_w$} {}\n",
                p.id,
                p.severity.as_str(),
                p.slug,
                p.title
            )
        })
        .collect()
}

fn indent(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
