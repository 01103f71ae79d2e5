//! The HTML report: one self-contained file for auditors (no external script, style
//! sheet, font or image; a Content-Security-Policy that forbids loading any), with
//! what was scanned, an inline-SVG summary by severity and by rule family, the escape
//! paths as step chains, and the findings in a table to filter, sort, expand (source
//! snippet, remediation, peer rule ids) and print. Suppressed findings are listed
//! apart with their reasons.
//!
//! The page is an askama template (`src/report/html/report.html`): askama checks it
//! at compile time and HTML-escapes every value unless told otherwise, so text from
//! scanned files (names, values, source lines) can only ever be text. Only the
//! report's own style sheet and script are inserted as they are. Text from scanned
//! files also goes through [`terminal_text`], so control characters and bidirectional
//! overrides show as escapes instead of reordering what the reader sees. The output
//! depends on the report and the scanned files only: no timestamp.

use super::{count_by_severity, family, terminal_text, ScanInfo, FAMILIES};
use crate::engine::{Confidence, Finding, Policy, Severity};
use crate::Report;
use askama::Template;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The report's style sheet (screen and print).
const CSS: &str = include_str!("html/report.css");
/// The report's script: filters, sorting, expanding rows, filters kept in the URL.
const SCRIPT: &str = include_str!("html/report.js");

/// Lines shown on each side of a finding's line.
const CONTEXT_LINES: usize = 3;
/// Longest part of a source line shown: a longer line (a plan written on one line) is
/// shown around the finding's column.
const MAX_LINE_CHARS: usize = 160;
/// Files larger than this are not read again for snippets.
const MAX_SNIPPET_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Renders the report as one HTML page.
pub fn render(report: &Report, scan: &ScanInfo) -> String {
    let page = page(report, scan);
    let mut out = page
        .render()
        .unwrap_or_else(|e| format!("<!doctype html><title>breakout</title><p>{e}</p>"));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The page as the template sees it.
#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    version: &'static str,
    css: &'static str,
    script: &'static str,
    title: String,
    paths: Vec<String>,
    options: Vec<(String, String)>,
    kinds: Vec<(String, usize)>,
    files_scanned: usize,
    files_skipped: usize,
    files_failed: usize,
    counts: Vec<(String, usize)>,
    active: usize,
    suppressed_total: usize,
    /// By severity, then by rule family.
    charts: Vec<Chart>,
    chains: Vec<Chain>,
    findings: Vec<Row>,
    suppressed: Vec<Row>,
    rules: Vec<(String, String)>,
    families: Vec<String>,
    files: Vec<String>,
    errors: Vec<String>,
    skipped: Vec<(String, String)>,
    modules_not_scanned: Vec<String>,
    stale: Vec<String>,
}

/// A horizontal bar chart drawn in SVG.
struct Chart {
    /// Accessible name of the chart.
    label: String,
    height: u32,
    bars: Vec<Bar>,
}

struct Bar {
    label: String,
    count: usize,
    /// Top of the bar's row.
    y: u32,
    /// Baseline of the row's text.
    text_y: u32,
    width: u32,
    /// Where the count is written: after the bar.
    count_x: u32,
    /// CSS class giving the colour.
    class: String,
}

/// An escape path, drawn as a chain of steps.
struct Chain {
    id: usize,
    severity: &'static str,
    resource: String,
    message: String,
    low_confidence: bool,
    steps: Vec<StepView>,
}

struct StepView {
    rule: String,
    resource: String,
    place: String,
    what: String,
}

/// One finding: a row and its details.
struct Row {
    id: usize,
    severity: &'static str,
    rank: u8,
    rule: String,
    slug: String,
    title: String,
    family: &'static str,
    resource: String,
    file: String,
    /// The file's folder, with its trailing `/` (empty for a bare file name).
    dir: String,
    /// The file's name.
    name: String,
    line: u32,
    column: u32,
    message: String,
    remediation: String,
    low_confidence: bool,
    snippet: Option<Vec<SourceLine>>,
    snippet_note: String,
    peers: Vec<(String, String)>,
    references: Vec<String>,
    related: Vec<String>,
    steps: Vec<StepView>,
    suppression: Option<SuppressionView>,
    /// What a Terraform plan does to the finding (`introduced (update)`); empty for
    /// other inputs.
    plan: String,
    /// Everything the text search looks in, lower-cased.
    search: String,
}

struct SourceLine {
    number: u32,
    text: String,
    marked: bool,
}

struct SuppressionView {
    kind: &'static str,
    reason: String,
    place: String,
}

/// Text from a scanned file, made visible: control characters and bidirectional
/// overrides as escapes (HTML escaping is the template's).
fn text(s: &str) -> String {
    terminal_text(s).into_owned()
}

/// Text a policy wrote over several lines (remediation), as one paragraph.
fn prose(s: &str) -> String {
    text(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn page(report: &Report, scan: &ScanInfo) -> Page {
    let policies: BTreeMap<&str, &Policy> =
        report.rules.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut snippets = Snippets::default();
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    for (i, f) in report.findings.iter().enumerate() {
        let row = row(i + 1, f, policies.get(f.rule_id.as_str()), &mut snippets);
        if f.is_active() {
            findings.push(row);
        } else {
            suppressed.push(row);
        }
    }
    // Most severe first, then in report order.
    let mut with_steps: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_active() && !f.steps.is_empty())
        .collect();
    with_steps.sort_by_key(|(i, f)| (std::cmp::Reverse(f.severity), *i));
    let chains = with_steps
        .into_iter()
        .map(|(i, f)| Chain {
            id: i + 1,
            severity: f.severity.as_str(),
            resource: text(&f.resource),
            message: text(&f.message),
            low_confidence: f.confidence == Confidence::Low,
            steps: steps(f),
        })
        .collect();
    let rules: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .map(|f| {
            (
                text(&f.rule_id),
                format!("{} {}", text(&f.rule_id), text(&f.slug)),
            )
        })
        .collect();
    let mut families: Vec<String> = Vec::new();
    for name in FAMILIES
        .iter()
        .map(|(_, n)| *n)
        .chain(std::iter::once("other rules"))
    {
        if report.findings.iter().any(|f| family(&f.rule_id) == name) {
            families.push(name.to_string());
        }
    }
    let files: BTreeSet<String> = report
        .findings
        .iter()
        .map(|f| text(&f.location.file))
        .collect();
    let counts: Vec<(String, usize)> = count_by_severity(report)
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n))
        .collect();
    let severity_chart = chart(
        "Active findings by severity",
        counts
            .iter()
            .map(|(s, n)| (s.clone(), *n, format!("sev-{s}")))
            .collect(),
    );
    let family_chart = chart(
        "Active findings by rule family",
        FAMILIES
            .iter()
            .map(|(_, name)| *name)
            .chain(std::iter::once("other rules"))
            .filter_map(|name| {
                let n = report
                    .findings
                    .iter()
                    .filter(|f| f.is_active() && family(&f.rule_id) == name)
                    .count();
                (n > 0 || name != "other rules").then(|| (name.to_string(), n, "family".into()))
            })
            .collect(),
    );
    let paths: Vec<String> = scan.paths.iter().map(|p| text(p)).collect();
    let title = if paths.is_empty() {
        "breakout report".to_string()
    } else {
        format!("breakout report: {}", paths.join(", "))
    };
    Page {
        version: env!("CARGO_PKG_VERSION"),
        css: CSS,
        script: SCRIPT,
        title,
        paths,
        options: scan
            .options
            .iter()
            .map(|(k, v)| (text(k), text(v)))
            .collect(),
        kinds: input_kinds(report),
        files_scanned: report.stats.files_scanned,
        files_skipped: report.stats.files_skipped,
        files_failed: report.stats.files_failed,
        active: findings.len(),
        suppressed_total: suppressed.len(),
        counts,
        charts: vec![severity_chart, family_chart],
        chains,
        findings,
        suppressed,
        rules: rules.into_iter().collect(),
        families,
        files: files.into_iter().collect(),
        errors: report.errors.iter().map(|e| text(&e.to_string())).collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| (text(&s.file), text(&s.reason)))
            .collect(),
        modules_not_scanned: report.modules_not_scanned.iter().map(|m| text(m)).collect(),
        stale: report
            .stale_suppressions
            .iter()
            .map(|s| text(&s.to_string()))
            .collect(),
    }
}

/// Bars of `(label, count, class)`, scaled to the largest count.
fn chart(label: &str, bars: Vec<(String, usize, String)>) -> Chart {
    const ROW: u32 = 26;
    const LABEL_WIDTH: u32 = 250;
    const BAR_MAX: u32 = 310;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = bars
        .into_iter()
        .enumerate()
        .map(|(i, (label, count, class))| {
            let y = i as u32 * ROW;
            // A zero still shows as a sliver, so every row reads as a bar.
            let width = if count == 0 {
                1
            } else {
                ((count as u64 * BAR_MAX as u64) / max as u64).max(3) as u32
            };
            Bar {
                label,
                count,
                y: y + 4,
                text_y: y + 18,
                width,
                count_x: LABEL_WIDTH + width + 8,
                class,
            }
        })
        .collect();
    Chart {
        label: label.to_string(),
        height: bars.len() as u32 * ROW + 4,
        bars,
    }
}

/// A chain's steps, each with its place (`file:line`).
fn steps(f: &Finding) -> Vec<StepView> {
    f.steps
        .iter()
        .map(|s| StepView {
            rule: text(&s.rule),
            resource: text(&s.resource),
            place: format!("{}:{}:{}", text(&s.file), s.line, s.column),
            what: text(&s.what),
        })
        .collect()
}

fn row(id: usize, f: &Finding, policy: Option<&&Policy>, snippets: &mut Snippets) -> Row {
    let (snippet, snippet_note) = match snippets.around(&f.location.file, f.location.line) {
        Ok(lines) => (Some(lines), String::new()),
        Err(why) => (None, why),
    };
    let peers: Vec<(String, String)> = policy
        .map(|p| {
            p.peers
                .iter()
                .filter(|(_, ids)| !ids.is_empty())
                .map(|(tool, ids)| (text(&super::peer_tool_name(tool)), ids.join(", ")))
                .collect()
        })
        .unwrap_or_default();
    // Only web links become links: a user policy's `javascript:` reference stays text.
    let references = policy
        .map(|p| {
            p.references
                .iter()
                .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let related = f
        .related_locations
        .iter()
        .map(|r| {
            text(&format!(
                "{}:{}:{}: {}",
                r.file, r.line, r.column, r.message
            ))
        })
        .collect();
    let suppression = f.suppression.as_ref().map(|s| SuppressionView {
        kind: s.kind.as_str(),
        reason: text(s.reason.as_deref().unwrap_or("no reason given")),
        place: match s.line {
            Some(line) => format!("{}:{line}", text(&s.file)),
            None => text(&s.file),
        },
    });
    let (dir, name) = match f.location.file.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), f.location.file.as_str()),
    };
    let plan = f
        .plan
        .as_ref()
        .map(|p| format!("{} ({})", p.change.as_str(), p.action))
        .unwrap_or_default();
    let search = [
        plan.as_str(),
        f.rule_id.as_str(),
        &f.slug,
        &f.title,
        &f.resource,
        &f.location.file,
        &f.message,
        f.severity.as_str(),
    ]
    .join(" ")
    .to_lowercase();
    Row {
        id,
        severity: f.severity.as_str(),
        rank: severity_rank(f.severity),
        rule: text(&f.rule_id),
        slug: text(&f.slug),
        title: text(&f.title),
        family: family(&f.rule_id),
        resource: text(&f.resource),
        file: text(&f.location.file),
        dir: text(&dir),
        name: text(name),
        line: f.location.line,
        column: f.location.column,
        message: text(&f.message),
        remediation: prose(&f.remediation),
        low_confidence: f.confidence == Confidence::Low,
        snippet,
        snippet_note,
        peers,
        references,
        related,
        steps: steps(f),
        suppression,
        plan,
        search: text(&search),
    }
}

/// Source lines read at report time, one file at a time (findings come sorted by
/// file, so each file is read once).
#[derive(Default)]
struct Snippets {
    /// The file last read, and its lines or why it could not be read.
    current: Option<(String, Result<Vec<String>, String>)>,
}

impl Snippets {
    /// The lines around `line` of `file`, the line itself marked; or why there are none.
    fn around(&mut self, file: &str, line: u32) -> Result<Vec<SourceLine>, String> {
        if self.current.as_ref().map(|(f, _)| f.as_str()) != Some(file) {
            self.current = Some((file.to_string(), read_lines(file)));
        }
        let Some((_, lines)) = &self.current else {
            unreachable!("set above")
        };
        let lines = lines.as_ref().map_err(Clone::clone)?;
        let at = line as usize;
        if at == 0 || at > lines.len() {
            return Err(format!(
                "source not shown: the file has {} lines now",
                lines.len()
            ));
        }
        let from = at.saturating_sub(CONTEXT_LINES).max(1);
        let to = (at + CONTEXT_LINES).min(lines.len());
        Ok((from..=to)
            .map(|n| SourceLine {
                number: n as u32,
                text: lines[n - 1].clone(),
                marked: n == at,
            })
            .collect())
    }
}

/// A scanned file's lines as shown: tabs expanded, control characters escaped, long
/// lines cut to [`MAX_LINE_CHARS`] (the cut marked with `…`).
fn read_lines(file: &str) -> Result<Vec<String>, String> {
    if file == "-" || file == "<stdin>" {
        return Err("source not shown: read from standard input".into());
    }
    let bytes = crate::parse::read_limited(Path::new(file))
        .map_err(|e| format!("source not shown: {e}"))?;
    if bytes.len() > MAX_SNIPPET_FILE_BYTES {
        return Err("source not shown: file larger than 16 MiB".into());
    }
    let source = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes));
    Ok(source
        .split('\n')
        .map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l).replace('\t', "    ");
            let shown: String = if l.chars().count() > MAX_LINE_CHARS {
                let head: String = l.chars().take(MAX_LINE_CHARS).collect();
                format!("{head}…")
            } else {
                l
            };
            text(&shown)
        })
        .collect())
}

/// Files scanned by kind of input, worked out from what the facts came from: the
/// file name for Terraform (`.tf`, `.tf.json`), Terraform addresses for plans, then
/// what the file held (Kubernetes objects, a compose file, ECS task definitions, a
/// Dockerfile, IAM policies). Files that held nothing breakout judges (Terraform
/// variables, outputs) are counted by the caller as the rest of the files scanned.
fn input_kinds(report: &Report) -> Vec<(String, usize)> {
    const ORDER: &[&str] = &[
        "Kubernetes manifests",
        "Terraform configurations",
        "Terraform plans",
        "Compose files",
        "ECS task definitions",
        "Dockerfiles",
        "IAM policy documents",
    ];
    let facts = &report.facts;
    // (file, resource, kind as an index into ORDER) for every fact that tells
    let mut seen: Vec<(&str, &str, usize)> = Vec::new();
    for w in &facts.workloads {
        let kind = match w.platform {
            "kubernetes" => 0,
            "compose" => 3,
            _ => 4,
        };
        seen.push((&w.file, &w.resource, kind));
    }
    seen.extend(
        facts
            .network_policies
            .iter()
            .map(|n| (&*n.file, &*n.resource, 0)),
    );
    seen.extend(
        facts
            .service_accounts
            .iter()
            .map(|s| (&*s.file, &*s.resource, 0)),
    );
    seen.extend(facts.images.iter().map(|i| (&*i.file, &*i.resource, 5)));
    seen.extend(
        facts
            .iam_statements
            .iter()
            .map(|s| (&*s.file, &*s.resource, 6)),
    );
    seen.extend(
        facts
            .policy_attachments
            .iter()
            .map(|a| (&*a.file, &*a.resource, 6)),
    );
    seen.extend(facts.iam_roles.iter().map(|r| (&*r.file, &*r.resource, 6)));
    seen.extend(facts.instances.iter().map(|i| (&*i.file, &*i.resource, 1)));
    seen.extend(
        facts
            .node_groups
            .iter()
            .map(|g| (&*g.file, &*g.resource, 1)),
    );
    // A file's kind: Terraform by its name, a plan by its addresses, else the most
    // telling of its facts (a compose file's services before the Dockerfiles they build).
    let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
    for (file, resource, kind) in seen {
        let kind = if file.ends_with(".tf") || file.ends_with(".tf.json") {
            1
        } else if file.ends_with(".json") && is_terraform_address(resource) {
            2
        } else {
            kind
        };
        let slot = by_file.entry(file).or_insert(kind);
        *slot = (*slot).min(kind);
    }
    let mut counts = vec![0usize; ORDER.len()];
    for kind in by_file.values() {
        counts[*kind] += 1;
    }
    let known: usize = counts.iter().sum();
    let mut out: Vec<(String, usize)> = ORDER
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    let rest = report.stats.files_scanned.saturating_sub(known);
    if rest > 0 {
        out.push((
            "files with nothing to judge (Services, ConfigMaps, Terraform variables, …)".into(),
            rest,
        ));
    }
    out
}

/// `aws_iam_role.app`, `module.nodes.aws_launch_template.this[0]`: a resource address
/// as plans write them.
fn is_terraform_address(resource: &str) -> bool {
    let mut parts = resource.split('.');
    let first = parts.next().unwrap_or("");
    let typed = |t: &str| {
        t.contains('_')
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let rest: Vec<&str> = parts.collect();
    !resource.contains(' ')
        && (first == "module" || first == "data" || typed(first))
        && !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_addresses() {
        assert!(is_terraform_address("aws_iam_role.app"));
        assert!(is_terraform_address(
            "module.nodes.aws_launch_template.this"
        ));
        assert!(!is_terraform_address("Deployment shop/api"));
        assert!(!is_terraform_address("orders-api-policy.json"));
    }

    #[test]
    fn charts_scale_to_the_largest_count() {
        let c = chart(
            "x",
            vec![
                ("a".into(), 10, "c".into()),
                ("b".into(), 5, "c".into()),
                ("z".into(), 0, "c".into()),
            ],
        );
        assert_eq!(c.bars[0].width, 310);
        assert_eq!(c.bars[1].width, 155);
        assert_eq!(c.bars[2].width, 1);
    }
}
