//! Extraction: parsed documents → [`Facts`](crate::facts::Facts), by domain.

pub mod host_path;
pub mod k8s;
