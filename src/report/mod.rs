//! Reports: one module per output format, each a pure function of the [`Report`].

pub mod json;
pub mod table;

use crate::engine::Severity;
use crate::Report;
use std::collections::BTreeMap;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings grouped by file, then a summary (for people).
    Table,
    /// The versioned JSON report (`docs/json-report.md`).
    Json,
    /// The facts policies select from (`docs/facts.md`), for writing policies.
    Facts,
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

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report),
        Format::Facts => {
            let mut out = serde_json::to_string_pretty(&report.facts)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            out.push('\n');
            out
        }
    }
}

/// Findings per severity, most severe first, zero counts included.
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
            report.findings.iter().filter(|f| f.severity == s).count(),
        )
    })
    .collect()
}

/// Findings per rule id.
pub fn count_by_rule(report: &Report) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for f in &report.findings {
        *out.entry(f.rule_id.as_str()).or_insert(0) += 1;
    }
    out
}
