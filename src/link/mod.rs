//! Linking: facts that only make sense across files, computed after every file is
//! extracted and before policies run. Each file here links one kind of reference:
//!
//! - [`egress`]: Kubernetes workloads ← the NetworkPolicies that select their pods
//!   (can they reach the instance metadata service?);
//! - [`builds`]: compose services → the scanned Dockerfile stage that builds their
//!   image (which user they run as), and Dockerfiles → the stage compose builds;
//! - [`roles`]: IAM roles by name, ARN and Terraform reference → what they grant in
//!   DynamoDB across their policies ([`calico`] reads Calico selectors for
//!   [`egress`]);
//! - [`nodes`]: node groups, self-managed nodes and ECS instances → their metadata
//!   answer, their role, and which pods they can run.
//!
//! The paths stage ([`crate::paths`]) builds escape paths over these links.

pub mod builds;
pub mod calico;
pub mod egress;
pub mod nodes;
pub mod roles;

use crate::facts::Facts;

/// Links the facts of all files of a scan (each element is one file's or module's).
pub fn link(all: &mut [Facts]) {
    egress::imds_egress_of_workloads(all);
    builds::compose_builds(all);
}
