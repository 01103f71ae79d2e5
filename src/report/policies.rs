//! The rule reference in Markdown (`breakout policies --format markdown`), which is
//! `docs/policies.md`: the policy format (a fixed text, `policies/head.md`), then
//! every rule with its rationale, what it flags, a vulnerable and a fixed example,
//! how to fix it, its peers' equivalent rules and references.
//!
//! The examples are fixture files, `tests/fixtures/rules/examples/<ID>/vulnerable/`
//! and `…/fixed/`, embedded at build time (`build.rs`), so the binary writes the
//! reference without the repository, and the test suite scans the very files the
//! reference shows. What breakout reports on a one-file vulnerable example is worked
//! out here, by scanning it.

use super::peer_tool_name;
use crate::engine::Policy;
use std::fmt::Write;

include!(concat!(env!("OUT_DIR"), "/examples.rs"));

/// The policy format and the catalog's introduction.
const HEAD: &str = include_str!("policies/head.md");

/// One file of a rule's example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExampleFile {
    /// The file's name (relative to its example's folder).
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// A built-in rule's example: `vulnerable` (the rule fires) or `fixed` (it does not).
pub fn example(rule_id: &str, variant: &str) -> Vec<ExampleFile> {
    EXAMPLES
        .iter()
        .filter(|(id, v, _, _)| *id == rule_id && *v == variant)
        .map(|(_, _, name, text)| ExampleFile { name, text })
        .collect()
}

/// The whole reference: the policy format, the catalog table, then one section per
/// rule, in catalog order.
pub fn markdown(policies: &[Policy]) -> String {
    let mut out = String::from(HEAD);
    let all_builtin = policies.iter().all(is_builtin);
    out.push_str(if all_builtin {
        "## Built-in rules\n\n"
    } else {
        "## Built-in rules and your own\n\n"
    });
    out.push_str("| ID | slug | severity | title | selects |\n| --- | --- | --- | --- | --- |\n");
    for p in policies {
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} | `{}` |",
            p.id,
            anchor(p),
            p.slug,
            p.severity.as_str(),
            table_text(&p.title),
            fact_type(&p.select)
        );
    }
    out.push_str(
        "\nGenerated from `policies/*.yaml` and the examples in `tests/fixtures/rules/examples/`; \
         `breakout policies show ID` prints the same text for one rule.\n",
    );
    for p in policies {
        out.push('\n');
        out.push_str(&rule_section(p));
    }
    out
}

/// One rule's section.
pub fn rule_section(p: &Policy) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {} {}\n", p.id, p.slug);
    let source = if is_builtin(p) {
        let file = p.origin.trim_start_matches("built-in ");
        format!(" · [`policies/{file}`](../policies/{file})")
    } else {
        format!(" · `{}`", p.origin)
    };
    let at_most = if p.severity_from.is_some() {
        " (at most)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "**{}** · severity **{}**{at_most}{source}\n",
        p.title,
        p.severity.as_str()
    );
    let _ = writeln!(out, "**Why it matters**\n\n{}\n", p.rationale.trim());

    out.push_str("**What it flags**\n\n");
    match &p.unknown {
        Some(u) => {
            let _ = writeln!(
                out,
                "- Selects: `{}`, and at low confidence (a value known only at apply time) `{u}`",
                p.select
            );
        }
        None => {
            let _ = writeln!(out, "- Selects: `{}`", p.select);
        }
    }
    if p.at.is_empty() {
        out.push_str("- Points at: the matched fact (its first key)\n");
    } else {
        let fields: Vec<String> = p.at.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(
            out,
            "- Points at: {} (else the fact itself)",
            fields.join(", then ")
        );
    }
    if let Some(field) = &p.severity_from {
        let _ = writeln!(
            out,
            "- Severity: the matched fact's `{field}`, at most {}",
            p.severity.as_str()
        );
    }
    let _ = writeln!(out, "- Message: `{}`", p.message.trim());
    if let Some(m) = &p.unknown_message {
        let _ = writeln!(out, "- Message at low confidence: `{}`", m.trim());
    }
    if let Some(field) = &p.steps {
        let _ = writeln!(
            out,
            "- Steps: `{field}`, each with its rule, resource, file, line, column and what it shows (`steps` in the JSON report, indented under the message in the table, a chain in HTML)"
        );
    }
    out.push('\n');

    let vulnerable = example(&p.id, "vulnerable");
    let fixed = example(&p.id, "fixed");
    if !vulnerable.is_empty() {
        out.push_str("**Example: flagged**\n\n");
        out.push_str(&files(&vulnerable));
        let found = findings(p, &vulnerable);
        if !found.is_empty() {
            let _ = writeln!(out, "breakout reports:\n\n```\n{}\n```\n", found.join("\n"));
        }
    }
    if !fixed.is_empty() {
        out.push_str("**Example: fixed**\n\n");
        out.push_str(&files(&fixed));
        if fixed.len() == 1 && findings(p, &fixed).is_empty() {
            let _ = writeln!(out, "breakout reports no {} finding.\n", p.id);
        }
    }

    let _ = writeln!(out, "**How to fix**\n\n{}\n", p.remediation.trim());

    out.push_str("**Peer equivalents**\n\n");
    let peers: Vec<String> = p
        .peers
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(tool, ids)| {
            let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
            format!("- {}: {}", peer_tool_name(tool), ids.join(", "))
        })
        .collect();
    if peers.is_empty() {
        let tools: Vec<String> = p.peers.keys().map(|t| peer_tool_name(t)).collect();
        if tools.is_empty() {
            out.push_str("None listed.\n");
        } else {
            let _ = writeln!(out, "None: no equivalent in {}.", tools.join(", "));
        }
    } else {
        out.push_str(&peers.join("\n"));
        out.push('\n');
    }
    if !p.references.is_empty() {
        let refs: Vec<String> = p.references.iter().map(|r| format!("<{r}>")).collect();
        let _ = writeln!(out, "\nReferences: {}", refs.join(", "));
    }
    out
}

/// An example's files, each under its name in a fenced block.
fn files(example: &[ExampleFile]) -> String {
    let mut out = String::new();
    for f in example {
        let fence = if f.text.contains("```") {
            "````"
        } else {
            "```"
        };
        let text = f.text.trim_end_matches('\n');
        let _ = writeln!(
            out,
            "`{}`:\n\n{fence}{}\n{text}\n{fence}\n",
            f.name,
            language(f.name)
        );
    }
    out
}

/// What the rule reports on a one-file example, as `file:line:column RULE message`
/// lines, a chain's steps under its line (an example of several files is not scanned
/// here).
fn findings(p: &Policy, example: &[ExampleFile]) -> Vec<String> {
    let [file] = example else {
        return Vec::new();
    };
    let opts = crate::ScanOptions {
        policies: vec![p.clone()],
        ..Default::default()
    };
    match crate::scan_contents(file.name, file.text.as_bytes(), &opts) {
        Ok(report) => report
            .findings
            .iter()
            .map(|f| {
                let mut line = format!(
                    "{}:{}:{} {} {}",
                    f.location.file, f.location.line, f.location.column, f.rule_id, f.message
                );
                for s in &f.steps {
                    let rule = if s.rule.is_empty() {
                        String::new()
                    } else {
                        format!("{} ", s.rule)
                    };
                    let _ = write!(line, "\n  ↳ {rule}{}:{}: {}", s.file, s.line, s.what);
                }
                line
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The fenced block's language, from the file name.
fn language(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        "yaml"
    } else if lower.ends_with(".json") {
        "json"
    } else if lower.ends_with(".tf") {
        "hcl"
    } else if lower.contains("dockerfile") || lower.contains("containerfile") {
        "dockerfile"
    } else {
        ""
    }
}

fn is_builtin(p: &Policy) -> bool {
    p.origin.starts_with("built-in ")
}

/// The heading's anchor as GitHub makes it: `### BRK101 dynamodb-wildcard-action` →
/// `brk101-dynamodb-wildcard-action`.
fn anchor(p: &Policy) -> String {
    format!("{} {}", p.id, p.slug)
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The fact type a selector starts from: `$.containers[…]` → `containers`.
fn fact_type(select: &str) -> &str {
    let rest = select.trim_start_matches('$').trim_start_matches('.');
    let end = rest.find(['[', '.']).unwrap_or(rest.len());
    &rest[..end]
}

/// Text for a Markdown table cell (`|` would end the cell).
fn table_text(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_types_and_anchors() {
        assert_eq!(
            fact_type("$.containers[*].mounts[?@.x == true]"),
            "containers"
        );
        assert_eq!(fact_type("$.escape_paths[?@.a]"), "escape_paths");
        let p = crate::engine::builtin().into_iter().next().unwrap();
        assert_eq!(anchor(&p), "brk101-dynamodb-wildcard-action");
    }
}
