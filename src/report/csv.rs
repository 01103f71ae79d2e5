//! The CSV report: one row per finding (suppressed ones included, with their
//! suppression), RFC 4180 (CRLF line ends, fields quoted when they hold a comma, a
//! quote or a line break), UTF-8, a header row. The columns and their order are part
//! of the interface (`docs/reports.md`): new columns are only ever added at the end.

use crate::engine::Finding;
use crate::Report;

/// The header row, in order.
pub const COLUMNS: &[&str] = &[
    "severity",
    "rule_id",
    "slug",
    "title",
    "resource",
    "file",
    "line",
    "column",
    "message",
    "remediation",
    "confidence",
    "suppression_kind",
    "suppression_reason",
    "plan_change",
    "fingerprint",
];

/// Renders the findings as CSV, in report order (file, line, column, rule).
pub fn render(report: &Report) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory fails only on a row of the wrong length, which COLUMNS and
    // `row` rule out.
    let _ = w.write_record(COLUMNS);
    for f in &report.findings {
        let _ = w.write_record(row(f));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// One finding's fields, in [`COLUMNS`] order.
fn row(f: &Finding) -> Vec<String> {
    let (kind, reason) = match &f.suppression {
        Some(s) => (
            s.kind.as_str().to_string(),
            s.reason.clone().unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    let confidence = match f.confidence {
        crate::engine::Confidence::High => "high",
        crate::engine::Confidence::Low => "low",
    };
    vec![
        f.severity.as_str().to_string(),
        cell(&f.rule_id),
        cell(&f.slug),
        cell(&f.title),
        cell(&f.resource),
        cell(&f.location.file),
        f.location.line.to_string(),
        f.location.column.to_string(),
        cell(&f.message),
        cell(&f.remediation),
        confidence.to_string(),
        kind,
        cell(&reason),
        plan_change(f),
        f.fingerprint.clone(),
    ]
}

/// `introduced` or `existing` for a finding of a Terraform plan; empty otherwise.
fn plan_change(f: &Finding) -> String {
    f.plan
        .as_ref()
        .map(|p| p.change.as_str().to_string())
        .unwrap_or_default()
}

/// A text field as a spreadsheet may safely open it: a value that starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would be read as a formula by Excel,
/// LibreOffice and Google Sheets (CSV injection), so it gets a leading `'`, which
/// they show as text. Values from scanned files (resource names, messages) are
/// anyone's to write.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Deployment a/b"), "Deployment a/b");
    }
}
