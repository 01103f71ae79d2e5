//! GitHub Actions workflow commands: one annotation per active finding, shown on the
//! pull request's diff and in the run summary.
//!
//! `::error file=F,line=L,col=C,title=BRK201 runtime-socket-mount::message`, with
//! critical and high findings as `error`, medium as `warning` and low as `notice`.
//! Stale suppressions are warnings, files that could not be scanned errors. Values are
//! escaped as the runner requires, and text from scanned files loses its control
//! characters, so a file cannot inject a workflow command of its own.

use crate::engine::Severity;
use crate::Report;
use std::fmt::Write;
use std::path::Path;

/// The workflow command of a severity.
pub fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

/// Escapes a command's message: `%`, `\r` and `\n` (other control characters and
/// bidirectional overrides are written as `\u{…}` so they cannot reach the log).
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if super::unsafe_for_terminals(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[allow(clippy::too_many_arguments)]
fn annotation(
    out: &mut String,
    root: Option<&Path>,
    command: &str,
    file: &str,
    line: Option<u32>,
    column: Option<u32>,
    title: &str,
    message: &str,
) {
    let file = super::relative_path(file, root);
    let mut props = vec![format!("file={}", escape_property(&file))];
    if let Some(l) = line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = column {
        props.push(format!("col={c}"));
    }
    props.push(format!("title={}", escape_property(title)));
    let _ = writeln!(
        out,
        "::{command} {}::{}",
        props.join(","),
        escape_data(message)
    );
}

/// Renders the report as workflow commands, one per line. Paths are given relative to
/// `source_root` (the working folder, where the runner checks the repository out).
pub fn render(report: &Report, source_root: Option<&Path>) -> String {
    let mut out = String::new();
    for f in report.findings.iter().filter(|f| f.is_active()) {
        annotation(
            &mut out,
            source_root,
            command(f.severity),
            &f.location.file,
            Some(f.location.line),
            Some(f.location.column),
            &format!("{} {}", f.rule_id, f.slug),
            &format!("{}\n\nHow to fix: {}", f.message, f.remediation),
        );
    }
    for s in &report.stale_suppressions {
        annotation(
            &mut out,
            source_root,
            "warning",
            &s.file,
            Some(s.line),
            Some(s.column),
            "breakout stale suppression",
            &s.describe(),
        );
    }
    for e in &report.errors {
        annotation(
            &mut out,
            source_root,
            "error",
            &e.file,
            e.line,
            e.column,
            "breakout could not scan",
            &e.message,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50% of a\r\nb"), "50%25 of a%0D%0Ab");
        assert_eq!(escape_property("k8s/a,b: c.yaml"), "k8s/a%2Cb%3A c.yaml");
        // A message cannot end the command early or smuggle a terminal escape.
        assert_eq!(
            escape_data("x\n::error::injected\u{1b}[2J"),
            "x%0A::error::injected\\u{1b}[2J"
        );
    }
}
