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

/// Extracts facts from one parsed document; returns whether any extractor
/// recognised it.
pub fn document(doc: &Node, file: &str, facts: &mut Facts) -> bool {
    if k8s::is_object(doc) {
        k8s::extract(doc, file, facts);
        return true;
    }
    if tfplan::is_plan(doc) {
        tfplan::extract(doc, file, facts);
        return true;
    }
    if compose::is_compose(doc) {
        compose::extract(doc, file, facts);
        return true;
    }
    ecs::extract(doc, file, facts) || iam::extract(doc, file, facts)
}
