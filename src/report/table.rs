//! The table report: findings grouped by file, then totals by severity and by rule,
//! file counts, and every input that could not be read.

use super::{count_by_rule, count_by_severity, suppressed_count, terminal_text, Style};
use crate::engine::{Finding, Severity};
use crate::Report;
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};
use std::fmt::Write;

/// The rule families, by the hundreds digit of the rule id.
const FAMILIES: &[(char, &str)] = &[
    ('1', "DynamoDB access"),
    ('2', "host mounts"),
    ('3', "root users"),
    ('4', "writable filesystems"),
    ('5', "metadata service and host network"),
    ('6', "privileges and host namespaces"),
    ('9', "escape paths"),
];

/// `DynamoDB access 9, host mounts 24, …`: findings per family, in family order.
fn by_family(report: &Report) -> String {
    FAMILIES
        .iter()
        .filter_map(|(digit, name)| {
            let n = report
                .findings
                .iter()
                .filter(|f| f.is_active() && f.rule_id.chars().nth(3) == Some(*digit))
                .count();
            (n > 0).then(|| format!("{name} {n}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text re-flowed into lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// Renders the report as text tables. Suppressed findings are counted, and listed
/// only when `show_suppressed`.
pub fn render(report: &Report, style: Style, show_suppressed: bool) -> String {
    let mut out = String::new();
    let mut by_file: Vec<(&str, Vec<&Finding>)> = Vec::new();
    let active: Vec<&Finding> = report.findings.iter().filter(|f| f.is_active()).collect();
    let suppressed = suppressed_count(report);
    for f in report
        .findings
        .iter()
        .filter(|f| show_suppressed || f.is_active())
    {
        match by_file.last_mut() {
            Some((file, list)) if *file == f.location.file => list.push(f),
            _ => by_file.push((&f.location.file, vec![f])),
        }
    }
    for (file, findings) in &by_file {
        let _ = writeln!(out, "{}", bold(&terminal_text(file), style));
        let mut t = table(style);
        // A plan's findings say whether the plan introduces them, in a column of their
        // own.
        let plan = findings.iter().any(|f| f.plan.is_some());
        let mut header = vec!["Line:Col", "Severity", "Rule", "Resource"];
        if plan {
            header.push("Plan");
        }
        header.push("Finding");
        t.set_header(header);
        for f in findings {
            let mut text = strip_resource(&f.message, &f.resource).to_string();
            if let Some(s) = &f.suppression {
                let reason = s.reason.as_deref().unwrap_or("no reason given");
                let _ = write!(text, " [suppressed ({}): {reason}]", s.kind.as_str());
            }
            let mut row = vec![
                Cell::new(format!("{}:{}", f.location.line, f.location.column)),
                severity_cell(f.severity, style),
                Cell::new(&f.rule_id),
                Cell::new(cell_text(&f.resource)),
            ];
            if plan {
                row.push(Cell::new(
                    f.plan
                        .as_ref()
                        .map(|p| format!("{} ({})", p.change.as_str(), p.action))
                        .unwrap_or_default(),
                ));
            }
            row.push(Cell::new(with_steps(
                &cell_text(&with_related(&text, f)),
                f,
            )));
            t.add_row(row);
        }
        let _ = writeln!(out, "{t}\n");
    }

    let _ = writeln!(out, "{}", bold("Summary", style));
    if active.is_empty() {
        let _ = writeln!(out, "No findings.");
        if suppressed > 0 {
            let _ = writeln!(out, "{}", suppressed_line(suppressed, show_suppressed));
        }
    } else {
        let mut t = table(style);
        t.set_header(["Rule", "Severity", "Findings", "Title"]);
        let by_rule = count_by_rule(report);
        let mut rules: Vec<&Finding> = Vec::new();
        // One row per rule, with its most severe active finding (a rule such as BRK901
        // gives several severities).
        for f in &active {
            match rules.iter_mut().find(|r| r.rule_id == f.rule_id) {
                Some(r) if f.severity > r.severity => *r = f,
                Some(_) => {}
                None => rules.push(f),
            }
        }
        rules.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule_id.cmp(&b.rule_id)));
        for r in &rules {
            t.add_row(vec![
                Cell::new(format!("{} {}", r.rule_id, r.slug)),
                severity_cell(r.severity, style),
                Cell::new(by_rule[r.rule_id.as_str()]).set_alignment(CellAlignment::Right),
                Cell::new(&r.title),
            ]);
        }
        let _ = writeln!(out, "{t}");
        let counts: Vec<String> = count_by_severity(report)
            .into_iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        let n = active.len();
        let noun = if n == 1 { "finding" } else { "findings" };
        let _ = writeln!(out, "{n} {noun}: {}", counts.join(", "));
        if suppressed > 0 {
            let _ = writeln!(out, "{}", suppressed_line(suppressed, show_suppressed));
        }
        if let Some(line) = super::plan_summary(report) {
            let _ = writeln!(out, "{}", capitalized(&line));
        }
        let width = usize::from(style.width.unwrap_or(120)).clamp(60, 120);
        for (i, line) in wrap(&format!("By family: {}", by_family(report)), width - 2)
            .iter()
            .enumerate()
        {
            let indent = if i == 0 { "" } else { "  " };
            let _ = writeln!(out, "{indent}{line}");
        }
        let low = active
            .iter()
            .filter(|f| f.confidence == crate::engine::Confidence::Low)
            .count();
        if low > 0 {
            let _ = writeln!(
                out,
                "{low} of them at low confidence: they rest on values known only at apply time"
            );
        }
    }
    if !active.is_empty() {
        let _ = writeln!(out, "\n{}", bold("How to fix", style));
        let mut seen: Vec<&str> = Vec::new();
        let mut rules: Vec<&Finding> = active
            .iter()
            .copied()
            .filter(|f| {
                let new = !seen.contains(&f.rule_id.as_str());
                seen.push(&f.rule_id);
                new
            })
            .map(|r| {
                report
                    .findings
                    .iter()
                    .filter(|f| f.rule_id == r.rule_id)
                    .max_by_key(|f| f.severity)
                    .unwrap_or(r)
            })
            .collect();
        rules.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule_id.cmp(&b.rule_id)));
        let width = usize::from(style.width.unwrap_or(120)).clamp(60, 120);
        for r in rules {
            let lines = wrap(&r.remediation, width - 10);
            for (i, line) in lines.iter().enumerate() {
                let id = if i == 0 { r.rule_id.as_str() } else { "" };
                let _ = writeln!(out, "  {id:<8}{line}");
            }
        }
        let _ = writeln!(
            out,
            "  (`breakout policies show ID` explains each rule in full)\n"
        );
    }
    let s = &report.stats;
    let counted =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        out,
        "Files: {} scanned, {} skipped, {} failed · {}, {}, {}, {}, {}",
        s.files_scanned,
        s.files_skipped,
        s.files_failed,
        counted(s.workloads, "workload", "workloads"),
        counted(s.containers, "container", "containers"),
        counted(s.images, "image", "images"),
        counted(s.instances, "instance", "instances"),
        counted(s.policy_statements, "policy statement", "policy statements"),
    );
    if report.findings.is_empty() {
        if let Some(line) = super::plan_summary(report) {
            let _ = writeln!(out, "{}", capitalized(&line));
        }
    }
    for p in &report.plans {
        for n in &p.not_located {
            let _ = writeln!(
                out,
                "{}: {} located in the {}, not in .tf files: {}",
                terminal_text(&p.file),
                counted(n.resources, "resource is", "resources are"),
                p.kind,
                terminal_text(&n.reason),
            );
        }
    }
    if !report.modules_not_scanned.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Terraform modules not scanned", style));
        for m in &report.modules_not_scanned {
            let _ = writeln!(out, "  {}", terminal_text(m));
        }
    }
    if !report.stale_suppressions.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Stale suppressions", style));
        for s in &report.stale_suppressions {
            let _ = writeln!(out, "  {}", terminal_text(&s.to_string()));
        }
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Could not scan", style));
        for e in &report.errors {
            let _ = writeln!(out, "  {}", terminal_text(&e.to_string()));
        }
    }
    out
}

/// The line with its first letter in upper case.
fn capitalized(line: &str) -> String {
    let mut chars = line.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `3 suppressed (--show-suppressed lists them)`.
fn suppressed_line(n: usize, shown: bool) -> String {
    if shown {
        format!("{n} suppressed (listed above, marked [suppressed])")
    } else {
        format!("{n} suppressed (--show-suppressed lists them)")
    }
}

fn table(style: Style) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = style.width {
        t.set_width(width);
    }
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn severity_cell(s: Severity, style: Style) -> Cell {
    let cell = Cell::new(s.as_str());
    if !style.color {
        return cell;
    }
    let color = match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
    };
    cell.fg(color).add_attribute(Attribute::Bold)
}

fn bold(text: &str, style: Style) -> String {
    if style.color {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Words longer than this are broken before the table lays them out: comfy-table's
/// own splitting of a long word is quadratic in its length (a 1 MB value took
/// minutes). Shorter ones (paths) are left to it, to break only where a column ends.
const LONGEST_WORD: usize = 200;

/// Text from a scanned file for a table cell: control characters escaped, words
/// longer than [`LONGEST_WORD`] broken into pieces.
fn cell_text(text: &str) -> String {
    let safe = terminal_text(text);
    let mut out = String::with_capacity(safe.len());
    for (i, word) in safe.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.chars().count() <= LONGEST_WORD {
            out.push_str(word);
            continue;
        }
        let chars: Vec<char> = word.chars().collect();
        for (j, piece) in chars.chunks(LONGEST_WORD).enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.extend(piece);
        }
    }
    out
}

/// The message, then the places it rests on elsewhere (`see app/Dockerfile:7`).
fn with_related(message: &str, f: &crate::engine::Finding) -> String {
    let mut out = message.to_string();
    for r in &f.related_locations {
        out.push_str(&format!(" (see {}:{})", r.file, r.line));
    }
    out
}

/// A chain's steps under its message, one per line, indented: `↳ BRK201 line 31:
/// what` in the finding's own file (the table's heading), `↳ eks.tf:32: what` in
/// another.
fn with_steps(message: &str, f: &crate::engine::Finding) -> String {
    let mut out = message.to_string();
    for s in &f.steps {
        let rule = if s.rule.is_empty() {
            String::new()
        } else {
            format!("{} ", s.rule)
        };
        let place = if s.file == f.location.file {
            format!("line {}", s.line)
        } else {
            format!("{}:{}", s.file, s.line)
        };
        // Each step on its own line; what it says comes from scanned files.
        out.push_str(&format!(
            "\n  ↳ {rule}{}: {}",
            cell_text(&place),
            cell_text(&s.what)
        ));
    }
    out
}

/// The resource has its own column: drop a leading `resource: ` (or `resource → `,
/// an escape path's start) from the message.
fn strip_resource<'a>(message: &'a str, resource: &str) -> &'a str {
    message
        .strip_prefix(resource)
        .map(|m| m.trim_start_matches(':').trim_start())
        .map(|m| m.strip_prefix("→ ").unwrap_or(m))
        .filter(|m| !m.is_empty())
        .unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_controls_and_break_long_words() {
        let long = "x".repeat(500);
        assert_eq!(
            cell_text(&format!("a\x1b[2J {long}")),
            format!(
                "a\\x1b[2J {} {} {}",
                &long[..200],
                &long[200..400],
                &long[400..]
            )
        );
    }

    #[test]
    fn wrapping_keeps_words_whole_and_lines_short() {
        let lines = wrap(
            "Remove `hostNetwork: true` (Kubernetes) or `network_mode: host` (compose).",
            30,
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(
            lines.join(" "),
            "Remove `hostNetwork: true` (Kubernetes) or `network_mode: host` (compose)."
        );
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }
}
