//! The `breakout` command line: argument parsing, output and exit codes only.
//! Everything else lives in the library (`breakout::scan`).

use anyhow::{bail, Context, Result};
use breakout::engine::{self, Policy, Severity};
use breakout::report::{self, Format, Style};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
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
    Scan(ScanArgs),
    /// List the policy catalog, or explain one policy.
    Policies {
        #[command(subcommand)]
        action: Option<PoliciesAction>,
        /// Also load the policies in this folder.
        #[arg(long, value_name = "DIR", global = true)]
        policies: Option<PathBuf>,
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

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or folders to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low, value_name = "SEVERITY")]
    fail_on: Severity,
    /// Which findings count for `--fail-on`: `low` (default) counts every finding, `high`
    /// only those that do not rest on a value known only at apply time. Both are
    /// reported either way.
    #[arg(long, value_enum, default_value_t = FailConfidence::Low, value_name = "CONFIDENCE")]
    fail_on_confidence: FailConfidence,
    /// Run only these rules (ids or slugs, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    only: Vec<String>,
    /// Do not run these rules (ids or slugs, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    skip: Vec<String>,
    /// Also load the policies (YAML) in this folder.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Policies { action, policies } => list_policies(action, policies),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("breakout: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_policies(dir: Option<&PathBuf>) -> Result<Vec<Policy>> {
    let mut all = engine::builtin();
    if let Some(dir) = dir {
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

fn scan(args: ScanArgs) -> Result<ExitCode> {
    let policies = select(
        load_policies(args.policies.as_ref())?,
        &args.only,
        &args.skip,
    )?;
    let opts = breakout::ScanOptions {
        paths: args.paths,
        policies,
        docker_target: args.target,
        terraform: breakout::TerraformInputs {
            var_files: args.var_files,
            vars: args.vars,
            // Terraform reads `TF_VAR_name` for root module variables; so does breakout.
            env: std::env::vars()
                .filter_map(|(k, v)| Some((k.strip_prefix("TF_VAR_")?.to_string(), v)))
                .collect(),
        },
        tf_root: args.tf_root,
        new_only: args.new_only,
    };
    let report = breakout::scan(&opts)?;
    for e in &report.errors {
        // File names and messages quote scanned files: never raw to a terminal.
        eprintln!(
            "breakout: error: {}",
            breakout::report::terminal_text(&e.to_string())
        );
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        // Files and pipes get a fixed width so the output is the same everywhere.
        width: if to_terminal { None } else { Some(120) },
    };
    let text = report::render(&report, args.format, style);
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
        }
    }
    Ok(if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if report.findings.iter().any(|f| {
        f.severity >= args.fail_on
            && (args.fail_on_confidence == FailConfidence::Low
                || f.confidence == breakout::engine::Confidence::High)
    }) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn list_policies(action: Option<PoliciesAction>, dir: Option<PathBuf>) -> Result<ExitCode> {
    let all = load_policies(dir.as_ref())?;
    let mut out = String::new();
    match action {
        None => out.push_str(&catalog(&all)),
        Some(PoliciesAction::Show { id }) => {
            let Some(p) = all.iter().find(|p| p.is_named(&id)) else {
                bail!("unknown rule `{id}` (see `breakout policies`)");
            };
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
