//! Reports: one module per output format, each a pure function of the [`Report`].

pub mod csv;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod policies;
pub mod sarif;
pub mod table;

use crate::engine::{Change, Severity};
use crate::Report;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by file, then a summary (for people).
    Table,
    /// The versioned JSON report (`docs/json-report.md`).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps, IDEs).
    Sarif,
    /// JUnit XML, for test dashboards: one test suite per file.
    Junit,
    /// GitHub Actions workflow commands: annotations on the changed lines.
    Github,
    /// The facts policies select from (`docs/facts.md`), for writing policies.
    Facts,
    /// One self-contained HTML file for auditors: summary, escape paths, a findings
    /// table to filter, sort and print (`docs/reports.md`).
    Html,
    /// One row per finding, RFC 4180, for spreadsheets (`docs/reports.md`).
    Csv,
    /// A pull-request comment (GitHub-flavoured Markdown): for a Terraform plan, what
    /// it introduces, then what it keeps.
    Markdown,
}

impl Format {
    /// Whether the report lists the facts themselves (every resource, not only those
    /// with findings): the scan keeps them only for these.
    pub fn reads_facts(self) -> bool {
        matches!(self, Format::Facts | Format::Html | Format::Junit)
    }

    /// The name as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
            Format::Facts => "facts",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }
}

/// How a report is laid out for its reader.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Use colours (a terminal that did not set `NO_COLOR`).
    pub color: bool,
    /// Width to lay tables out in; `None` asks the terminal.
    pub width: Option<u16>,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: Some(120),
        }
    }
}

/// Everything a format may need besides the report.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Layout for people.
    pub style: Style,
    /// List suppressed findings in the table too.
    pub show_suppressed: bool,
    /// The folder relative file paths are relative to (the working folder): SARIF
    /// gives it as `originalUriBaseIds.SRCROOT`.
    pub source_root: Option<PathBuf>,
    /// How the table groups findings (`--group-by`).
    pub group_by: table::GroupBy,
    /// What was asked for, for the HTML report's header.
    pub scan: ScanInfo,
}

/// What the scan was asked to do, for reports that describe it (the HTML header).
#[derive(Clone, Debug, Default)]
pub struct ScanInfo {
    /// The paths given on the command line (`-` for standard input).
    pub paths: Vec<String>,
    /// Options that change what is judged or reported, as (option, value), in the
    /// order the command line documents them.
    pub options: Vec<(String, String)>,
}

/// Writes `report` in `format` to `w`: the JSON report as it is serialized, the other
/// formats rendered first.
pub fn write(
    report: &Report,
    format: Format,
    options: &Options,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, w),
        _ => w.write_all(render(report, format, options).as_bytes()),
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, options: &Options) -> String {
    match format {
        Format::Table => table::render(
            report,
            options.style,
            options.show_suppressed,
            options.group_by,
        ),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report),
        Format::Sarif => sarif::render(report, options.source_root.as_deref()),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report, options.source_root.as_deref()),
        Format::Html => html::render(report, &options.scan),
        Format::Csv => csv::render(report),
        Format::Facts => {
            let mut out = serde_json::to_string_pretty(&report.facts)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            out.push('\n');
            out
        }
    }
}

/// A finding's file as CI services want it: relative to `root` when it is under it,
/// without a leading `./`.
pub fn relative_path(file: &str, root: Option<&std::path::Path>) -> String {
    let path = std::path::Path::new(file);
    let path = match root {
        Some(r) if path.is_absolute() => path.strip_prefix(r).unwrap_or(path),
        _ => path,
    };
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.is_absolute() {
        path.display().to_string()
    } else {
        parts.join("/")
    }
}

/// Active (not suppressed) findings per severity, most severe first, zero counts
/// included.
pub fn count_by_severity(report: &Report) -> Vec<(Severity, usize)> {
    [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .into_iter()
    .map(|s| {
        (
            s,
            report
                .findings
                .iter()
                .filter(|f| f.is_active() && f.severity == s)
                .count(),
        )
    })
    .collect()
}

/// Active (not suppressed) findings of Terraform plans that the plans introduce, or
/// keep.
pub fn count_by_change(report: &Report, change: Change) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.is_active() && f.plan.as_ref().is_some_and(|p| p.change == change))
        .count()
}

/// The line with its first letter in upper case (a sentence made of
/// [`plan_summary`]).
pub(crate) fn capitalized(line: &str) -> String {
    let mut chars = line.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `this plan introduces 2 findings (1 critical), keeps 1` (`these 2 plans introduce
/// …`), or `None` when no plan was scanned. Suppressed findings do not count; kept
/// findings left out by `--new-only` do.
pub fn plan_summary(report: &Report) -> Option<String> {
    if report.plans.iter().all(|p| p.kind != "plan") {
        return None;
    }
    let plans = report.plans.iter().filter(|p| p.kind == "plan").count();
    let introduced: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            f.is_active()
                && f.plan
                    .as_ref()
                    .is_some_and(|p| p.change == Change::Introduced)
        })
        .collect();
    let critical = introduced
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let suppressed_kept = report
        .findings
        .iter()
        .filter(|f| {
            !f.is_active()
                && f.plan
                    .as_ref()
                    .is_some_and(|p| p.change == Change::Existing)
        })
        .count();
    let kept = report.plans.iter().map(|p| p.existing).sum::<usize>() - suppressed_kept;
    let n = introduced.len();
    let (subject, verb, keeps) = if plans == 1 {
        ("this plan".to_string(), "introduces", "keeps")
    } else {
        (format!("these {plans} plans"), "introduce", "keep")
    };
    Some(format!(
        "{subject} {verb} {n} {} ({critical} critical), {keeps} {kept}",
        if n == 1 { "finding" } else { "findings" },
    ))
}

/// Active (not suppressed) findings per rule id.
pub fn count_by_rule(report: &Report) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.is_active()) {
        *out.entry(f.rule_id.as_str()).or_insert(0) += 1;
    }
    out
}

/// A character that must not reach a terminal or a log raw: a control character
/// (C0, DEL, C1) or a bidirectional override that reorders what a reader sees.
pub fn unsafe_for_terminals(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text from a scanned file made safe for a terminal: control characters (C0, DEL,
/// C1, which include the ESC of colour and cursor sequences) and the bidirectional
/// overrides that reorder what a reader sees are written as escapes (`\x1b`,
/// `\n`, `\u{202e}`), so a file name or a YAML value can neither forge output lines
/// nor drive the terminal. JSON and SARIF escape by construction; every text format
/// passes such strings through here.
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    let unsafe_char = unsafe_for_terminals;
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The rule families, by the hundreds digit of a built-in rule id.
pub const FAMILIES: &[(char, &str)] = &[
    ('1', "DynamoDB access"),
    ('2', "host mounts"),
    ('3', "root users"),
    ('4', "writable filesystems"),
    ('5', "metadata service and host network"),
    ('6', "privileges and host namespaces"),
    ('9', "escape paths"),
];

/// The family of a rule: by the hundreds digit of a built-in id (`BRK201`: host
/// mounts), `other rules` for user policies with ids of their own.
pub fn family(rule_id: &str) -> &'static str {
    let digit = rule_id
        .strip_prefix("BRK")
        .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.chars().next());
    FAMILIES
        .iter()
        .find(|(d, _)| Some(*d) == digit)
        .map_or("other rules", |(_, name)| name)
}

/// A peer tool's name as it spells itself: `checkov` → `Checkov`.
pub fn peer_tool_name(tool: &str) -> String {
    match tool {
        "checkov" => "Checkov".into(),
        "trivy" => "Trivy".into(),
        "kics" => "KICS".into(),
        other => other.to_string(),
    }
}

/// How many findings are suppressed.
pub fn suppressed_count(report: &Report) -> usize {
    report.findings.iter().filter(|f| !f.is_active()).count()
}

#[cfg(test)]
mod tests {
    use super::terminal_text;

    #[test]
    fn control_characters_and_overrides_are_escaped() {
        assert_eq!(terminal_text("Deployment shop/api"), "Deployment shop/api");
        assert_eq!(
            terminal_text("evil\nbreakout: error: forged\x1b[31m"),
            "evil\\nbreakout: error: forged\\x1b[31m"
        );
        assert_eq!(
            terminal_text("a\u{202e}txt.exe\u{9b}"),
            "a\\u{202e}txt.exe\\x9b"
        );
        assert_eq!(terminal_text("tab\there é €"), "tab\\there é €");
    }
}
