//! Rendered Helm output: `helm template` writes `# Source: CHART/templates/FILE.yaml`
//! before each document. A finding on such a document names that template (in the
//! resource and as a related location), so a person knows which template to change.
//!
//! Chart folders themselves are not rendered: their templates are Go templates, not
//! YAML, until Helm renders them (`helm template … | breakout scan -`).

use crate::parse::Node;

/// The template each document comes from: the `# Source:` comment in the lines just
/// before it (comments and blank lines after the `---`), or `None`.
pub fn sources(text: &str, docs: &[Node]) -> Vec<Option<String>> {
    let lines: Vec<&str> = text.lines().collect();
    docs.iter()
        .map(|d| {
            let first = d.pos.line as usize;
            lines
                .get(..first.saturating_sub(1).min(lines.len()))?
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.is_empty() || l.starts_with('#'))
                .find_map(|l| {
                    let rest = l.strip_prefix('#')?.trim_start();
                    let path = rest.strip_prefix("Source:")?.trim();
                    (!path.is_empty()).then(|| path.to_string())
                })
        })
        .collect()
}

/// Whether text looks like `helm template` output (a `# Source:` comment line).
pub fn is_rendered(text: &str) -> bool {
    // Most files have no such comment: one substring search rules them out.
    text.contains("# Source:")
        && text
            .lines()
            .any(|l| l.trim_start().starts_with("# Source:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_takes_the_source_comment_above_it() {
        let text = "---\n# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n---\n# Source: web/templates/deploy.yaml\n# another comment\n\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n";
        let docs = crate::parse::yaml::parse(text).unwrap();
        let got = sources(text, &docs);
        assert_eq!(
            got,
            [
                Some("web/templates/sa.yaml".to_string()),
                Some("web/templates/deploy.yaml".to_string()),
                None
            ]
        );
        assert!(is_rendered(text));
        assert!(!is_rendered("kind: Pod\n"));
    }
}
