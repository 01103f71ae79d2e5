//! Linking: facts that only make sense across files, computed after every file is
//! extracted and before policies run. Each file here links one kind of reference:
//!
//! - [`egress`]: Kubernetes workloads ← the NetworkPolicies that select their pods
//!   (can they reach the instance metadata service?);
//! - [`builds`]: compose services → the scanned Dockerfile stage that builds their
//!   image (which user they run as), and Dockerfiles → the stage compose builds.

pub mod builds;
pub mod calico;
pub mod egress;

use crate::facts::Facts;

/// Links the facts of all files of a scan (each element is one file's or module's).
pub fn link(all: &mut [Facts]) {
    egress::imds_egress_of_workloads(all);
    builds::compose_builds(all);
}
