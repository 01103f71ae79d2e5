//! Container knowledge shared by every format (Kubernetes, ECS, compose, Dockerfile):
//! capability names, user strings, and host mounts.

use super::host_path;
use crate::facts::{Container, HostMount, Locs, Tri};
use crate::parse::Pos;

/// Capabilities that give a container a way out or control of the node.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
];

/// `cap_sys_admin` → `SYS_ADMIN`.
pub fn normalize_capability(c: &str) -> String {
    let up = c.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map(str::to_string).unwrap_or(up)
}

/// The capabilities a `capabilities.add` list names, normalised (non-strings skipped).
pub fn capabilities(add: Option<&crate::parse::Node>) -> Vec<String> {
    add.map(crate::parse::Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(crate::parse::Node::scalar_text)
        .map(|c| normalize_capability(&c))
        .collect()
}

/// The dangerous ones among normalised capability names.
pub fn dangerous(caps: &[String]) -> Vec<String> {
    caps.iter()
        .filter(|c| DANGEROUS_CAPABILITIES.contains(&c.as_str()))
        .cloned()
        .collect()
}

/// Reads a user string (`root`, `0`, `0:0`, `1000:1000`, `app`, `app:staff`) the way
/// Docker does: the part before `:` is the user. Returns whether it is root and the
/// numeric UID when there is one.
pub fn parse_user(user: &str) -> (Tri, Option<i64>) {
    let name = user.split(':').next().unwrap_or("").trim();
    if name.is_empty() {
        return (Tri::Unknown, None);
    }
    match name.parse::<i64>() {
        Ok(0) => (Tri::Yes, Some(0)),
        Ok(uid) => (Tri::No, Some(uid)),
        Err(_) if name == "root" => (Tri::Yes, Some(0)),
        // A name resolves in the image's /etc/passwd; only `root` is UID 0 by convention.
        Err(_) => (Tri::No, None),
    }
}

/// Where a host path is mounted into a container.
pub struct MountSpec<'a> {
    /// The workload's human name.
    pub resource: &'a str,
    /// The container's name.
    pub container: &'a str,
    /// The volume's name (or the host path itself for inline binds).
    pub volume: String,
    /// The host path as written.
    pub host_path: String,
    /// Where it appears inside the container.
    pub mount_path: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// The file.
    pub file: &'a str,
    /// Position of the host path.
    pub host_pos: Pos,
    /// Position of the mount's target, when written separately.
    pub mount_pos: Option<Pos>,
}

/// Builds the mount fact, classifying what the host path exposes.
pub fn host_mount(m: MountSpec) -> HostMount {
    let exposure = host_path::classify(&m.host_path, m.read_only);
    let mut locs = Locs::from([("host_path", m.host_pos)]);
    if let Some(p) = m.mount_pos {
        locs.insert("mount_path", p);
    }
    HostMount {
        resource: m.resource.to_string(),
        container: m.container.to_string(),
        volume: m.volume,
        exposes: exposure.describe(),
        runtime_socket: !exposure.runtimes.is_empty(),
        socket_file: exposure.socket_file,
        sensitive: exposure.sensitive,
        sensitive_reason: exposure.sensitive_reason,
        normalized_path: exposure.normalized,
        host_path: m.host_path,
        mount_path: m.mount_path,
        read_only: m.read_only,
        file: m.file.to_string(),
        loc: m.host_pos,
        locs,
    }
}

/// One container borrowing another's volumes (ECS `volumesFrom`, compose `volumes_from`).
pub struct Borrow {
    /// Index of the borrowing container.
    pub borrower: usize,
    /// Index of the container whose mounts it gets.
    pub lender: usize,
    /// The borrowed mounts are read-only.
    pub read_only: bool,
    /// Where the borrowing is written: the borrowed mounts are reported there.
    pub pos: Pos,
}

/// Gives each borrower its lenders' host mounts. Borrowing chains (a from b from c), so
/// this repeats until nothing changes, at most once per container.
pub fn borrow_mounts(containers: &mut [Container], borrows: &[Borrow]) {
    for _ in 0..containers.len() {
        let mut changed = false;
        for b in borrows {
            if b.borrower == b.lender {
                continue;
            }
            let borrower = &containers[b.borrower];
            let new: Vec<HostMount> = containers[b.lender]
                .mounts
                .iter()
                .filter(|m| {
                    !borrower
                        .mounts
                        .iter()
                        .any(|own| own.host_path == m.host_path && own.mount_path == m.mount_path)
                })
                .map(|m| {
                    let read_only = m.read_only || b.read_only;
                    // A read-only borrow can make a write-only location harmless.
                    let exposure = host_path::classify(&m.host_path, read_only);
                    HostMount {
                        resource: borrower.resource.clone(),
                        container: borrower.name.clone(),
                        read_only,
                        sensitive: exposure.sensitive,
                        sensitive_reason: exposure.sensitive_reason,
                        file: borrower.file.clone(),
                        loc: b.pos,
                        locs: Locs::from([("host_path", b.pos)]),
                        ..m.clone()
                    }
                })
                .collect();
            changed |= !new.is_empty();
            containers[b.borrower].mounts.extend(new);
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_as_docker_reads_them() {
        assert_eq!(parse_user("root"), (Tri::Yes, Some(0)));
        assert_eq!(parse_user("0:0"), (Tri::Yes, Some(0)));
        assert_eq!(parse_user("root:staff"), (Tri::Yes, Some(0)));
        assert_eq!(parse_user("1000:0"), (Tri::No, Some(1000)));
        assert_eq!(parse_user("nginx"), (Tri::No, None));
        assert_eq!(parse_user(""), (Tri::Unknown, None));
    }

    #[test]
    fn capabilities_are_normalised() {
        let caps: Vec<String> = ["cap_sys_admin", " net_bind_service"]
            .iter()
            .map(|c| normalize_capability(c))
            .collect();
        assert_eq!(caps, ["SYS_ADMIN", "NET_BIND_SERVICE"]);
        assert_eq!(dangerous(&caps), ["SYS_ADMIN"]);
    }
}
