//! Rendering: manifests that a tool assembles before Kubernetes sees them, turned into
//! the objects Kubernetes would get, between parsing and extraction.
//!
//! Kustomize is rendered here rather than in an extractor because what it produces is
//! documents, not facts: the same Kubernetes extractor then reads a rendered object as
//! it reads a file, and every value keeps the file and line it came from (a base, a
//! patch, a kustomization entry). Rendered Helm output is traced to its templates.
//! Nothing is fetched and nothing is run: remote resources and Helm charts are listed
//! as not scanned.

pub mod helm;
pub mod kustomize;
pub mod tree;
