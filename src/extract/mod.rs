//! Extraction: parsed documents → [`Facts`](crate::facts::Facts), by domain, not
//! by file format: the IAM extractor reads a policy wherever it comes from.

pub mod compose;
pub mod container;
pub mod dockerfile;
pub mod dynamodb;
pub mod ecs;
pub mod host_path;
pub mod iam;
pub mod k8s;
pub mod network_policy;
pub mod terraform;
pub mod tfplan;

use crate::facts::Facts;
use crate::parse::Node;
use std::path::Path;

/// Extracts facts from one parsed document; returns whether any extractor
/// recognised it. Files the document refers to (a compose `.env`) are read only from
/// the document's own folder.
pub fn document(doc: &Node, file: &str, facts: &mut Facts) -> bool {
    document_within(doc, file, None, None, facts)
}

/// As [`document`], reading the files the document refers to from anywhere inside
/// `root` (the scanned folder, canonical), and locating a plan's resources in the
/// configuration in `tf_root` (`--tf-root`; by default the plan's own folder).
pub fn document_within(
    doc: &Node,
    file: &str,
    root: Option<&Path>,
    tf_root: Option<&Path>,
    facts: &mut Facts,
) -> bool {
    if k8s::is_object(doc) {
        k8s::extract(doc, file, facts);
        return true;
    }
    if tfplan::is_plan(doc) {
        tfplan::extract(doc, file, tf_root, facts);
        return true;
    }
    if compose::is_compose(doc) {
        compose::extract_within(doc, file, root, facts);
        return true;
    }
    ecs::extract(doc, file, facts) || iam::extract(doc, file, facts)
}

/// Whether text that does not parse still looks like one of breakout's inputs, so
/// that its syntax error is reported rather than the file passed over: a Kubernetes
/// object (`apiVersion` and `kind` keys), a compose file (top-level `services`), an IAM
/// policy (`Statement`), an ECS task definition (`containerDefinitions`) or a Terraform
/// plan (`format_version` with `terraform_version`). JSON keys count quoted; YAML keys
/// at the start of a line (after indentation or a `- `).
pub fn looks_like_ours(text: &str) -> bool {
    let quoted = |key: &str| text.contains(&format!("\"{key}\""));
    if quoted("Statement")
        || quoted("containerDefinitions")
        || (quoted("format_version") && quoted("terraform_version"))
        || (quoted("apiVersion") && quoted("kind"))
    {
        return true;
    }
    let (mut api_version, mut kind, mut services) = (false, false, false);
    for line in text.lines() {
        if line.starts_with("services:") {
            services = true;
        }
        let key = line.trim_start().trim_start_matches("- ").trim_start();
        let starts_key = |k: &str| {
            key.strip_prefix(k)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        };
        api_version |= starts_key("apiVersion");
        kind |= starts_key("kind");
        if (api_version && kind) || services {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::looks_like_ours;

    #[test]
    fn what_looks_like_an_input() {
        for ours in [
            "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .x }}}",
            "- apiVersion: apps/v1\n  kind: Deployment\n  spec: [",
            "services:\n  web:\n    image: x\n\tbad",
            "{\"Version\": \"2012-10-17\", \"Statement\": [ // note\n]}",
            "{\"containerDefinitions\": [,]}",
            "{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\",}",
        ] {
            assert!(looks_like_ours(ours), "{ours}");
        }
        for not_ours in [
            "{\"compilerOptions\": {\"strict\": true,}, // ts\n}",
            "replicaCount: {{ .Values.replicas }}\nimage:\n  kind: x",
            "on: push\njobs:\n  build:\n    services:\n      db:\n        image: postgres",
            "{\"kind\": \"tsconfig\",}",
        ] {
            assert!(!looks_like_ours(not_ours), "{not_ours}");
        }
    }
}
