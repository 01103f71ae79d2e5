//! The table report: findings grouped into tables (by file for a handful of files,
//! by rule family for more, or as `--group-by` asks), then totals by severity and by
//! rule, how to fix each rule, file counts, and every input that could not be read.
//! Text outside the tables is wrapped at the table width without splitting a word
//! that fits on a line.

use super::{
    count_by_rule, count_by_severity, family, suppressed_count, terminal_text, Style, FAMILIES,
};
use crate::engine::{Finding, Severity};
use crate::Report;
use comfy_table::{
    presets, Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table,
    Width,
};
use std::fmt::Write;

/// How the table report groups findings into tables (`--group-by`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// By file when the findings are in at most 5 files, by rule family otherwise.
    #[default]
    Auto,
    /// One table per file: line and column in a column.
    File,
    /// One table per rule: file and line in a column.
    Rule,
    /// One table per rule family (DynamoDB access, host mounts, …).
    Family,
    /// One table per severity, most severe first.
    Severity,
}

/// Up to this many files with findings, `auto` makes one table per file (the help
/// text of [`GroupBy::Auto`] says 5).
pub const FILES_FOR_FILE_TABLES: usize = 5;

/// Width used when neither the caller nor a terminal gives one.
const DEFAULT_WIDTH: usize = 120;

/// Below this width, finding tables have three columns instead of five.
const NARROW: usize = 100;

/// Narrowest layout: below it tables cannot hold their columns.
const MIN_WIDTH: usize = 40;

/// `DynamoDB access 9, host mounts 24, …`: findings per family, in family order.
fn by_family(report: &Report) -> String {
    FAMILIES
        .iter()
        .filter_map(|(_, name)| {
            let n = report
                .findings
                .iter()
                .filter(|f| f.is_active() && family(&f.rule_id) == *name)
                .count();
            (n > 0).then(|| format!("{name} {n}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text re-flowed into lines of at most `width` characters. A word is never split if
/// it fits on a line of its own; a longer one (a path, a hash) is cut into pieces, so
/// no line is longer than `width`.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_widths(text, width, width)
}

/// [`wrap`] with a first line of `first` characters and the others of `rest`.
fn wrap_widths(text: &str, first: usize, rest: usize) -> Vec<String> {
    let room = |i: usize| if i == 0 { first } else { rest }.max(1);
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let i = lines.len() - 1;
            let len = lines[i].chars().count();
            let sep = usize::from(len > 0);
            if len + sep + word.len() <= room(i) {
                if sep == 1 {
                    lines[i].push(' ');
                }
                lines[i].extend(word.drain(..));
            } else if len > 0 {
                lines.push(String::new());
            } else {
                // Longer than a whole line: as much as fits, the rest on the next.
                lines[i].extend(word.drain(..room(i)));
                lines.push(String::new());
            }
        }
    }
    if lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// `text` wrapped at `width`, the first line indented by `first_indent` spaces and the
/// others by `indent`, as lines ending in a line break. Control characters are
/// escaped first.
fn wrapped(text: &str, width: usize, first_indent: usize, indent: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let safe = terminal_text(&flat);
    let room = |indent: usize| width.saturating_sub(indent).max(MIN_WIDTH / 2);
    wrap_widths(&safe, room(first_indent), room(indent))
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let pad = if i == 0 { first_indent } else { indent };
            format!("{}{line}\n", " ".repeat(pad))
        })
        .collect()
}

/// A path shortened from the left to at most `budget` characters by dropping leading
/// folders (`…/vulnerable/orders-api.yaml`); the file name is never shortened, so a
/// long one stays whole.
pub fn shorten_path(path: &str, budget: usize) -> String {
    if path.chars().count() <= budget {
        return path.to_string();
    }
    let parts: Vec<&str> = path.split('/').collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut len = 2; // `…/`
    for part in parts.iter().rev() {
        let add = part.chars().count() + usize::from(!kept.is_empty());
        if !kept.is_empty() && len + add > budget {
            break;
        }
        len += add;
        kept.push(part);
    }
    if kept.len() == parts.len() {
        return path.to_string();
    }
    kept.reverse();
    format!("…/{}", kept.join("/"))
}

/// One group of findings: its heading and its rows.
struct Group<'a> {
    heading: String,
    findings: Vec<&'a Finding>,
}

/// The findings shown (active, and suppressed with `show_suppressed`) in groups.
fn groups<'a>(shown: &[&'a Finding], group_by: GroupBy) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    let mut push = |key: String, f: &'a Finding| match out.iter_mut().find(|g| g.heading == key) {
        Some(g) => g.findings.push(f),
        None => out.push(Group {
            heading: key,
            findings: vec![f],
        }),
    };
    match group_by {
        GroupBy::Auto | GroupBy::File => {
            for f in shown {
                push(f.location.file.clone(), f);
            }
        }
        GroupBy::Rule => {
            let mut sorted = shown.to_vec();
            sorted.sort_by(|a, b| a.rule_id.cmp(&b.rule_id).then(Finding::order(a, b)));
            for f in sorted {
                push(format!("{} {}: {}", f.rule_id, f.slug, f.title), f);
            }
        }
        GroupBy::Family => {
            let mut sorted = shown.to_vec();
            let rank = |f: &Finding| {
                FAMILIES
                    .iter()
                    .position(|(_, n)| *n == family(&f.rule_id))
                    .unwrap_or(FAMILIES.len())
            };
            sorted.sort_by(|a, b| {
                rank(a)
                    .cmp(&rank(b))
                    .then(a.rule_id.cmp(&b.rule_id))
                    .then(Finding::order(a, b))
            });
            for f in sorted {
                push(family(&f.rule_id).to_string(), f);
            }
        }
        GroupBy::Severity => {
            let mut sorted = shown.to_vec();
            sorted.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(a.rule_id.cmp(&b.rule_id))
                    .then(Finding::order(a, b))
            });
            for f in sorted {
                push(f.severity.as_str().to_string(), f);
            }
        }
    }
    out
}

/// The width text is laid out in: the caller's, the terminal's, or 120.
fn layout_width(style: Style) -> usize {
    let width = style
        .width
        .or_else(|| table(style).width())
        .map_or(DEFAULT_WIDTH, usize::from);
    width.max(MIN_WIDTH)
}

/// Renders the report as text tables. Suppressed findings are counted, and listed
/// only when `show_suppressed`.
pub fn render(report: &Report, style: Style, show_suppressed: bool, group_by: GroupBy) -> String {
    let mut out = String::new();
    let width = layout_width(style);
    let style = Style {
        width: Some(u16::try_from(width).unwrap_or(u16::MAX)),
        ..style
    };
    let active: Vec<&Finding> = report.findings.iter().filter(|f| f.is_active()).collect();
    let suppressed = suppressed_count(report);
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| show_suppressed || f.is_active())
        .collect();
    let mut files: Vec<&str> = shown.iter().map(|f| f.location.file.as_str()).collect();
    files.dedup();
    let group_by = match group_by {
        GroupBy::Auto if files.len() <= FILES_FOR_FILE_TABLES => GroupBy::File,
        GroupBy::Auto => GroupBy::Family,
        other => other,
    };
    // The location column of tables that are not per file: paths shortened from the
    // left so that the findings keep most of the width.
    let path_budget = (width / 4).clamp(20, 48);
    for group in groups(&shown, group_by) {
        let heading = match group_by {
            GroupBy::File => terminal_text(&group.heading).into_owned(),
            _ => format!("{} ({})", group.heading, count(group.findings.len())),
        };
        out.push_str(&bold_lines(&wrapped(&heading, width, 0, 2), style));
        let mut t = table(style);
        let per_file = group_by == GroupBy::File;
        // Below 100 columns the severity shares the rule's cell and the resource stays
        // in the message, so that the finding keeps room enough to read.
        let narrow = width < NARROW;
        // A plan's findings say whether the plan introduces them: in a column of their
        // own, or at the head of the finding's text when the table is narrow.
        let plan = group.findings.iter().any(|f| f.plan.is_some());
        let mut header = vec![if per_file { "Line:Col" } else { "Location" }];
        match (narrow, group_by) {
            (true, GroupBy::Rule) => header.push("Severity"),
            (true, _) => header.push("Rule"),
            (false, _) => {
                if group_by != GroupBy::Severity {
                    header.push("Severity");
                }
                if group_by != GroupBy::Rule {
                    header.push("Rule");
                }
                header.push("Resource");
                if plan {
                    header.push("Plan");
                }
            }
        }
        header.push("Finding");
        t.set_header(header);
        let location_of = |f: &Finding| {
            if per_file {
                format!("{}:{}", f.location.line, f.location.column)
            } else {
                let line = format!(":{}", f.location.line);
                let budget = path_budget.saturating_sub(line.len());
                format!(
                    "{}{line}",
                    shorten_path(&terminal_text(&f.location.file), budget)
                )
            }
        };
        // Paths in the finding's text (steps, related places) are shortened to fit the
        // finding's column after their `↳ BRK201 ` and before their `:line:`.
        let in_cell =
            {
                let longest = |w: &dyn Fn(&Finding) -> usize| {
                    group.findings.iter().map(|f| w(f)).max().unwrap_or(0)
                };
                let mut others = vec![longest(&|f| location_of(f).chars().count())
                    .min(if per_file { 12 } else { path_budget })];
                match (narrow, group_by) {
                    (true, GroupBy::Rule) | (true, GroupBy::Severity) => others.push(8),
                    (true, _) => others.push(8.max(longest(&|f| f.rule_id.chars().count()))),
                    (false, _) => {
                        if group_by != GroupBy::Severity {
                            others.push(8);
                        }
                        if group_by != GroupBy::Rule {
                            others.push(longest(&|f| f.rule_id.chars().count()).max(4));
                        }
                        others.push(
                            longest(&|f| f.resource.chars().count())
                                .min((width * 3 / 10).clamp(16, 40)),
                        );
                        if plan {
                            others.push(longest(&|f| {
                                plan_cell(f)
                                    .lines()
                                    .map(|l| l.chars().count())
                                    .max()
                                    .unwrap_or(0)
                            }));
                        }
                    }
                }
                let columns = others.len() + 1;
                let finding = width
                    .saturating_sub(columns + 1 + 2 * columns)
                    .saturating_sub(others.iter().sum());
                finding.saturating_sub(13).max(16)
            };
        for f in &group.findings {
            let mut text = if narrow {
                f.message.clone()
            } else {
                strip_resource(&f.message, &f.resource).to_string()
            };
            if let Some(s) = &f.suppression {
                let reason = s.reason.as_deref().unwrap_or("no reason given");
                let _ = write!(text, " [suppressed ({}): {reason}]", s.kind.as_str());
            }
            if narrow && f.plan.is_some() {
                text = format!("{}: {text}", plan_status(f));
            }
            let location = location_of(f);
            let mut row = vec![Cell::new(cell_text(&location))];
            match (narrow, group_by) {
                (true, GroupBy::Rule) => row.push(severity_cell(f.severity, style)),
                (true, GroupBy::Severity) => row.push(Cell::new(cell_text(&f.rule_id))),
                (true, _) => row.push(coloured(
                    Cell::new(format!(
                        "{}\n{}",
                        cell_text(&f.rule_id),
                        f.severity.as_str()
                    )),
                    f.severity,
                    style,
                )),
                (false, _) => {
                    if group_by != GroupBy::Severity {
                        row.push(severity_cell(f.severity, style));
                    }
                    if group_by != GroupBy::Rule {
                        row.push(Cell::new(cell_text(&f.rule_id)));
                    }
                    row.push(Cell::new(cell_text(&f.resource)));
                    if plan {
                        row.push(Cell::new(plan_cell(f)));
                    }
                }
            }
            row.push(Cell::new(with_steps(
                &cell_text(&with_related(&text, f, in_cell)),
                f,
                in_cell,
            )));
            t.add_row(row);
        }
        // The finding's text gets the room: the location and the resource columns are
        // held to a share of the width.
        let mut limits = vec![(0, if per_file { 12 } else { path_budget })];
        if !narrow {
            let resource = t.column_count() - if plan { 3 } else { 2 };
            limits.push((resource, (width * 3 / 10).clamp(16, 40)));
        }
        for (i, most) in limits {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(ColumnConstraint::UpperBoundary(Width::Fixed(
                    u16::try_from(most + 2).unwrap_or(u16::MAX),
                )));
            }
        }
        let _ = writeln!(out, "{t}\n");
    }

    let _ = writeln!(out, "{}", bold("Summary", style));
    // Under the counts, with or without findings: what is suppressed, what a plan brings.
    let suppressed_and_plan = |out: &mut String| {
        if suppressed > 0 {
            out.push_str(&wrapped(
                &suppressed_line(suppressed, show_suppressed),
                width,
                0,
                2,
            ));
        }
        if let Some(line) = super::plan_summary(report) {
            out.push_str(&wrapped(&super::capitalized(&line), width, 0, 2));
        }
    };
    if active.is_empty() {
        let _ = writeln!(out, "No findings.");
        suppressed_and_plan(&mut out);
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
        out.push_str(&wrapped(
            &format!("{}: {}", count(active.len()), counts.join(", ")),
            width,
            0,
            2,
        ));
        suppressed_and_plan(&mut out);
        out.push_str(&wrapped(
            &format!("By family: {}", by_family(report)),
            width,
            0,
            2,
        ));
        let low = active
            .iter()
            .filter(|f| f.confidence == crate::engine::Confidence::Low)
            .count();
        if low > 0 {
            out.push_str(&wrapped(
                &format!(
                    "{low} of them at low confidence: they rest on values known only at apply time"
                ),
                width,
                0,
                2,
            ));
        }
    }
    if !active.is_empty() {
        let _ = writeln!(out, "\n{}", bold("How to fix", style));
        let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        let mut rules: Vec<&Finding> = active
            .iter()
            .copied()
            .filter(|f| seen.insert(f.rule_id.as_str()))
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
        let id_width = rules
            .iter()
            .map(|r| r.rule_id.chars().count())
            .max()
            .unwrap_or(0)
            + 2;
        for r in rules {
            let text = wrapped(&r.remediation, width, 2 + id_width, 2 + id_width);
            let id = terminal_text(&r.rule_id);
            // The id goes into the first line's indent.
            let _ = write!(out, "  {id:<id_width$}{}", text.trim_start_matches(' '));
        }
        out.push_str(&wrapped(
            "(`breakout policies show ID` explains each rule in full)",
            width,
            2,
            2,
        ));
        out.push('\n');
    }
    let s = &report.stats;
    let counted =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    out.push_str(&wrapped(
        &format!(
            "Files: {} scanned, {} skipped, {} failed · {}, {}, {}, {}, {}",
            s.files_scanned,
            s.files_skipped,
            s.files_failed,
            counted(s.workloads, "workload", "workloads"),
            counted(s.containers, "container", "containers"),
            counted(s.images, "image", "images"),
            counted(s.instances, "instance", "instances"),
            counted(s.policy_statements, "policy statement", "policy statements"),
        ),
        width,
        0,
        2,
    ));
    for p in &report.plans {
        for n in &p.not_located {
            let line = format!(
                "{}: {} located in the {}, not in .tf files: {}",
                p.file,
                counted(n.resources, "resource is", "resources are"),
                p.kind,
                n.reason,
            );
            out.push_str(&wrapped(&line, width, 0, 2));
        }
    }
    let lists: [(&str, Vec<String>); 3] = [
        ("Not scanned", report.modules_not_scanned.clone()),
        (
            "Stale suppressions",
            report
                .stale_suppressions
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
        (
            "Could not scan",
            report.errors.iter().map(ToString::to_string).collect(),
        ),
    ];
    for (title, items) in lists {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", bold(title, style));
        for item in items {
            out.push_str(&wrapped(&item, width, 2, 4));
        }
    }
    out
}

/// What a plan does to a finding: `introduced (update)`.
fn plan_status(f: &Finding) -> String {
    f.plan
        .as_ref()
        .map(|p| format!("{} ({})", p.change.as_str(), p.action))
        .unwrap_or_default()
}

/// The plan column's cell: the change over the action, `introduced` / `(update)`.
fn plan_cell(f: &Finding) -> String {
    f.plan
        .as_ref()
        .map(|p| format!("{}\n({})", p.change.as_str(), p.action))
        .unwrap_or_default()
}

/// `1 finding`, `3 findings`.
fn count(n: usize) -> String {
    format!("{n} {}", if n == 1 { "finding" } else { "findings" })
}

/// Each line of `text` in bold (on a colour terminal).
fn bold_lines(text: &str, style: Style) -> String {
    text.lines()
        .map(|l| format!("{}\n", bold(l, style)))
        .collect()
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
    coloured(Cell::new(s.as_str()), s, style)
}

/// A cell in the severity's colour (on a colour terminal).
fn coloured(cell: Cell, s: Severity, style: Style) -> Cell {
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
    // comfy-table measures a cell by its longest line in a u16 and overflows past
    // 65,535 characters: text that long is broken into lines first.
    if out.len() > LONGEST_CELL_LINE {
        out = wrap(&out, LONGEST_CELL_LINE).join("\n");
    }
    out
}

/// Cell text longer than this (in bytes) is laid out in lines of this many
/// characters before the table sees it.
const LONGEST_CELL_LINE: usize = 1000;

/// The message, then the places it rests on elsewhere (`see app/Dockerfile:7`).
/// Paths inside the finding's text are shortened to `budget` characters.
fn with_related(message: &str, f: &crate::engine::Finding, budget: usize) -> String {
    let mut out = message.to_string();
    for r in &f.related_locations {
        out.push_str(&format!(
            " (see {}:{})",
            shorten_path(&r.file, budget),
            r.line
        ));
    }
    out
}

/// A chain's steps under its message, one per line, indented: `↳ BRK201 line 31:
/// what` in the finding's own file (the table's heading), `↳ eks.tf:32: what` in
/// another (its path shortened to `budget` characters).
fn with_steps(message: &str, f: &crate::engine::Finding, budget: usize) -> String {
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
            format!("{}:{}", shorten_path(&s.file, budget), s.line)
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
        let huge = cell_text(&"y".repeat(100_000));
        assert!(huge.lines().all(|l| l.chars().count() <= LONGEST_CELL_LINE));
        assert_eq!(huge.chars().filter(|c| *c == 'y').count(), 100_000);
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
        // A word longer than the line is cut; one that fits moves to the next line whole.
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["avery", "veryv", "erylo", "ngwor", "d x"]
        );
        assert_eq!(wrap("ab abcde", 5), ["ab", "abcde"]);
        assert_eq!(
            wrap_widths("one two three four", 7, 5),
            ["one two", "three", "four"]
        );
        assert_eq!(wrap("", 10), [""]);
    }

    #[test]
    fn paths_are_shortened_from_the_left_by_whole_folders() {
        let p = "samples/escape-path/vulnerable/manifests/image-builder.yaml";
        assert_eq!(shorten_path(p, 80), p);
        assert_eq!(shorten_path(p, 32), "…/manifests/image-builder.yaml");
        assert_eq!(shorten_path(p, 20), "…/image-builder.yaml");
        // The file name is never cut, even when it alone is longer.
        assert_eq!(shorten_path(p, 8), "…/image-builder.yaml");
        assert_eq!(
            shorten_path("a-very-long-file-name.yaml", 8),
            "a-very-long-file-name.yaml"
        );
    }

    #[test]
    fn rule_families() {
        assert_eq!(family("BRK201"), "host mounts");
        assert_eq!(family("BRK901"), "escape paths");
        assert_eq!(family("ACME201"), "other rules");
        assert_eq!(family("BRK2"), "other rules");
    }
}
