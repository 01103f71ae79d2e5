//! The Markdown report: a pull-request comment (GitHub-flavoured Markdown).
//!
//! First line a verdict, then a table of the findings that count (for a Terraform plan,
//! those it introduces; for anything else, those found), then the findings a plan
//! keeps in a collapsed `<details>` section, then what was left out (suppressed
//! findings, `--new-only`, files that could not be scanned). The only HTML is
//! `<details>` and `<summary>`; text from scanned files is escaped so that it can
//! neither break the table nor turn into links, HTML or mentions of formatting. The
//! comment stays under [`MAX_CHARS`] (GitHub refuses comments of 65,536 characters):
//! past that, rows are cut from the longest table, and the table says how many.

use super::{plan_summary, terminal_text};
use crate::engine::{Change, Finding, Severity};
use crate::Report;
use std::fmt::Write;

/// The longest comment rendered, in characters.
pub const MAX_CHARS: usize = 65_000;

/// A table cell's text is cut to this many characters.
const MAX_CELL_CHARS: usize = 400;

/// The short fix is cut to this many characters.
const MAX_FIX_CHARS: usize = 160;

/// Errors listed before the rest are counted.
const MAX_ERRORS: usize = 20;

/// Renders the report as a pull-request comment.
pub fn render(report: &Report) -> String {
    render_within(report, MAX_CHARS)
}

/// A table of findings, rendered row by row so that it can be cut.
struct Section {
    /// What comes before the rows (a heading, the table's header).
    head: String,
    /// One line per finding.
    rows: Vec<String>,
    /// What closes the section.
    tail: String,
    /// Rows cut to fit.
    cut: usize,
}

impl Section {
    fn len(&self) -> usize {
        self.head.chars().count()
            + self.rows.iter().map(|r| r.chars().count()).sum::<usize>()
            + self.tail.chars().count()
            + if self.cut > 0 { 120 } else { 0 }
    }

    fn render(&self, out: &mut String) {
        out.push_str(&self.head);
        for r in &self.rows {
            out.push_str(r);
        }
        if self.cut > 0 {
            let _ = writeln!(
                out,
                "\n_{} more {} not shown here: the comment would be too long (see the JSON report, `--format json`)._",
                self.cut,
                noun(self.cut, "finding", "findings")
            );
        }
        out.push_str(&self.tail);
    }
}

/// [`render`] within `limit` characters.
fn render_within(report: &Report, limit: usize) -> String {
    let counted: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !is_suppressed(f) && !is_kept(f))
        .collect();
    let kept: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !is_suppressed(f) && is_kept(f))
        .collect();

    let mut head = String::new();
    let _ = writeln!(head, "### breakout: {}\n", verdict(report, &counted));
    if let Some(line) = plan_summary(report) {
        let _ = writeln!(head, "{}.\n", super::capitalized(&line));
    }

    let mut sections = Vec::new();
    if !counted.is_empty() {
        sections.push(table(&counted, String::new(), String::new()));
    }
    if !kept.is_empty() {
        let summary = format!(
            "<details>\n<summary>{} existing {} the plan keeps</summary>\n\n",
            kept.len(),
            noun(kept.len(), "finding", "findings")
        );
        sections.push(table(&kept, summary, "\n</details>\n".to_string()));
    }

    let foot = footer(report);
    let fixed = head.chars().count() + foot.chars().count() + sections.len();
    // Cut rows from the longest table until the comment fits.
    while fixed + sections.iter().map(Section::len).sum::<usize>() > limit {
        let Some(longest) = sections
            .iter_mut()
            .filter(|s| !s.rows.is_empty())
            .max_by_key(|s| s.len())
        else {
            break;
        };
        longest.rows.pop();
        longest.cut += 1;
    }

    let mut out = head;
    for s in &sections {
        s.render(&mut out);
        out.push('\n');
    }
    out.push_str(&foot);
    out
}

/// The first line: what counts, by severity, and where it comes from.
fn verdict(report: &Report, counted: &[&Finding]) -> String {
    let plans = report.plans.iter().filter(|p| p.kind == "plan").count();
    let from_plans: Vec<&Finding> = counted
        .iter()
        .copied()
        .filter(|f| f.plan.is_some())
        .collect();
    let found: Vec<&Finding> = counted
        .iter()
        .copied()
        .filter(|f| f.plan.is_none())
        .collect();
    let by_plan = if plans > 1 {
        format!("by these {plans} plans")
    } else {
        "by this plan".to_string()
    };
    let mut parts = Vec::new();
    if plans > 0 {
        parts.push(match by_severity(&from_plans) {
            Some(counts) => format!("{counts} introduced {by_plan}"),
            None => format!("no finding introduced {by_plan}"),
        });
    }
    match by_severity(&found) {
        Some(counts) if plans > 0 => parts.push(format!("{counts} found in other files")),
        Some(counts) => parts.push(format!("{counts} found")),
        None if plans == 0 => parts.push("no findings".to_string()),
        None => {}
    }
    let failed = report.errors.len();
    if failed > 0 {
        parts.push(format!(
            "{failed} {} could not be scanned",
            noun(failed, "input", "inputs")
        ));
    }
    parts.join("; ")
}

/// `2 critical and 1 high finding`, or `None` for none.
fn by_severity(findings: &[&Finding]) -> Option<String> {
    let counts: Vec<(usize, Severity)> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .into_iter()
    .map(|s| (findings.iter().filter(|f| f.severity == s).count(), s))
    .filter(|(n, _)| *n > 0)
    .collect();
    let (last, _) = *counts.last()?;
    let words: Vec<String> = counts
        .iter()
        .map(|(n, s)| format!("{n} {}", s.as_str()))
        .collect();
    let list = match words.as_slice() {
        [one] => one.clone(),
        [init @ .., end] => format!("{} and {end}", init.join(", ")),
        [] => unreachable!("counts is not empty"),
    };
    Some(format!("{list} {}", noun(last, "finding", "findings")))
}

/// A table of findings, most severe first.
fn table(findings: &[&Finding], before: String, after: String) -> Section {
    let mut sorted = findings.to_vec();
    sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| Finding::order(a, b))
    });
    let mut head = before;
    head.push_str("| Severity | Rule | Resource | Where | Finding | How to fix |\n");
    head.push_str("| --- | --- | --- | --- | --- | --- |\n");
    let rows = sorted
        .iter()
        .map(|f| {
            let action = f
                .plan
                .as_ref()
                .map(|p| format!(" ({})", p.action))
                .unwrap_or_default();
            format!(
                "| {} | {} | {}{} | {} | {} | {} |\n",
                f.severity.as_str(),
                code(&f.rule_id),
                code(&f.resource),
                action,
                code(&format!("{}:{}", f.location.file, f.location.line)),
                text(strip_resource(&f.message, &f.resource)),
                fix(&f.remediation, &f.resource),
            )
        })
        .collect();
    Section {
        head,
        rows,
        tail: after,
        cut: 0,
    }
}

/// What was left out, where findings could not be located, what failed, and how to
/// read more.
fn footer(report: &Report) -> String {
    let mut out = String::new();
    let mut suppressed: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &report.findings {
        if let Some(s) = &f.suppression {
            *suppressed.entry(s.kind.as_str()).or_default() += 1;
        }
    }
    let total: usize = suppressed.values().sum();
    if total > 0 {
        let kinds: Vec<String> = suppressed
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        let _ = writeln!(
            out,
            "{total} suppressed {} not shown ({}).\n",
            noun(total, "finding", "findings"),
            kinds.join(", ")
        );
    }
    let kept: usize = report.plans.iter().map(|p| p.existing).sum();
    let shown_kept = report.findings.iter().filter(|f| is_kept(f)).count();
    if kept > shown_kept {
        let n = kept - shown_kept;
        let _ = writeln!(
            out,
            "{n} existing {} the plan keeps not shown (`--new-only`).\n",
            noun(n, "finding", "findings")
        );
    }
    for p in &report.plans {
        for n in &p.not_located {
            let _ = writeln!(
                out,
                "{} {} located in {}, not in `.tf` files: {}\n",
                n.resources,
                noun(n.resources, "resource is", "resources are"),
                code(&p.file),
                text(&n.reason)
            );
        }
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "Could not be scanned:\n");
        for e in report.errors.iter().take(MAX_ERRORS) {
            let _ = writeln!(out, "- {}", text(&e.to_string()));
        }
        if report.errors.len() > MAX_ERRORS {
            let _ = writeln!(out, "- and {} more", report.errors.len() - MAX_ERRORS);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "_breakout {}: `breakout policies show RULE` explains a rule._",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// Whether a finding is one a plan keeps.
fn is_kept(f: &Finding) -> bool {
    f.plan
        .as_ref()
        .is_some_and(|p| p.change == Change::Existing)
}

/// Whether a finding is suppressed (it does not count, and is not listed).
fn is_suppressed(f: &Finding) -> bool {
    !f.is_active()
}

/// The first sentence of a rule's remediation, on one line, for a table cell (at most
/// [`MAX_FIX_CHARS`] characters, cut at a word); where the remediation goes platform by
/// platform (`Kubernetes: … ECS: … compose: …`), the sentence for the finding's
/// platform. It is the rule's text, not the scanned files': its Markdown (code spans)
/// is kept, but it cannot break the table or bring HTML.
fn fix(remediation: &str, resource: &str) -> String {
    let flat = remediation.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentences = sentences(&flat);
    let platform = platform(resource);
    let labelled = |s: &&&str| {
        s.split_once(": ").is_some_and(|(label, _)| {
            !label.contains('`') && label.split([' ', ',']).any(|w| Some(w) == platform)
        })
    };
    let chosen = match sentences.first() {
        Some(first)
            if first.split_once(": ").is_some_and(|(l, _)| {
                ["Kubernetes", "ECS", "compose"]
                    .iter()
                    .any(|p| l.contains(p))
            }) =>
        {
            *sentences.iter().find(labelled).unwrap_or(first)
        }
        Some(first) => *first,
        None => "",
    };
    let mut sentence = chosen.to_string();
    if sentence.chars().count() > MAX_FIX_CHARS {
        let mut short = String::new();
        for word in sentence.split(' ') {
            if short.chars().count() + word.chars().count() + 1 > MAX_FIX_CHARS - 1 {
                break;
            }
            if !short.is_empty() {
                short.push(' ');
            }
            short.push_str(word);
        }
        short.push('…');
        sentence = short;
    }
    let mut out = String::with_capacity(sentence.len());
    for c in terminal_text(&sentence).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    // A code span cut open would swallow the rest of the row.
    if out.matches('`').count() % 2 == 1 {
        out = out.replace('`', "");
    }
    out
}

/// Sentences: up to each `. ` outside code spans.
fn sentences(flat: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_code = false;
    for (i, c) in flat.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '.' if !in_code
                && (i + 1 == flat.len() || flat[i + 1..].starts_with(' '))
                && !["e.g", "i.e", "etc", "vs"]
                    .iter()
                    .any(|a| flat[..i].ends_with(a)) =>
            {
                out.push(flat[start..=i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !flat[start..].trim().is_empty() {
        out.push(flat[start..].trim());
    }
    out
}

/// The platform a finding's resource runs on, as remediations name it.
fn platform(resource: &str) -> Option<&'static str> {
    const KINDS: &[&str] = &[
        "Pod",
        "Deployment",
        "DaemonSet",
        "StatefulSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
    ];
    let first = resource.split(' ').next().unwrap_or("");
    if resource.starts_with("compose service") {
        Some("compose")
    } else if resource.starts_with("ECS task definition")
        || first.contains("aws_ecs_task_definition")
        || first.contains("aws_batch_job_definition")
    {
        Some("ECS")
    } else if first.contains("kubernetes_") || KINDS.contains(&first) {
        Some("Kubernetes")
    } else {
        None
    }
}

/// Text from a scanned file as Markdown that shows it as it is: control characters
/// escaped, every character Markdown or GitHub would act on (emphasis, links, HTML,
/// code, tables, math, entities, strikethrough) backslash-escaped, one line.
fn text(s: &str) -> String {
    let safe = terminal_text(s);
    let safe = cut(&safe);
    let mut out = String::with_capacity(safe.len() + 8);
    for c in safe.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text from a scanned file as a code span: nothing in it is Markdown, a pipe is
/// escaped for the table (GitHub unescapes it inside the span), and the fence is
/// longer than any run of backticks in it.
fn code(s: &str) -> String {
    let safe = terminal_text(s);
    let safe = cut(&safe).replace('|', "\\|");
    if safe.is_empty() {
        return String::new();
    }
    let longest = safe.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if safe.starts_with('`') || safe.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{safe}{pad}{fence}")
}

/// At most [`MAX_CELL_CHARS`] characters, with an ellipsis when cut.
fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_CELL_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_CELL_CHARS - 1).collect();
    out.push('…');
    out
}

/// The resource has its own column: drop a leading `resource: ` from the message.
fn strip_resource<'a>(message: &'a str, resource: &str) -> &'a str {
    message
        .strip_prefix(resource)
        .map(|m| m.trim_start_matches(':').trim_start())
        .filter(|m| !m.is_empty())
        .unwrap_or(message)
}

fn noun<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_text_cannot_escape_its_cell() {
        assert_eq!(
            text("a|b <img src=x> [l](u) *e* `c`\n$x$ &amp;"),
            "a\\|b \\<img src=x\\> \\[l\\](u) \\*e\\* \\`c\\`\\\\n\\$x\\$ \\&amp;"
        );
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y``z"), "```x`y``z```");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code("evil\u{1b}[2J"), "`evil\\x1b[2J`");
        assert_eq!(code(""), "");
    }

    #[test]
    fn the_fix_is_the_first_sentence_on_one_line() {
        let fix = |r: &str| fix(r, "Deployment a/b");
        assert_eq!(
            fix("Set `http_tokens = \"required\"`. Then\nmore."),
            "Set `http_tokens = \"required\"`."
        );
        assert_eq!(fix("Use `a. b` here: x | y"), "Use `a. b` here: x \\| y");
        let long = format!("{}.", "word ".repeat(60).trim());
        let short = fix(&long);
        assert!(
            short.chars().count() <= MAX_FIX_CHARS && short.ends_with("word…"),
            "{short}"
        );
        assert_eq!(fix("a <b> & c"), "a &lt;b&gt; &amp; c");
    }

    #[test]
    fn the_fix_for_the_findings_platform() {
        let r = "Kubernetes: set `a: b`. ECS and compose: set `user`. Also this.";
        assert_eq!(fix(r, "Pod p"), "Kubernetes: set `a: b`.");
        assert_eq!(
            fix(r, "compose service web"),
            "ECS and compose: set `user`."
        );
        assert_eq!(
            fix(r, "module.x.aws_ecs_task_definition.t"),
            "ECS and compose: set `user`."
        );
        assert_eq!(fix(r, "Dockerfile stage x"), "Kubernetes: set `a: b`.");
        assert_eq!(
            fix("Set a UID, e.g. `10001`. More.", "Pod p"),
            "Set a UID, e.g. `10001`."
        );
        assert_eq!(
            fix("Remove it (Kubernetes). More.", "compose service a"),
            "Remove it (Kubernetes)."
        );
    }
}
