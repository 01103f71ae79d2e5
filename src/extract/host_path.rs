//! What a host path exposes: container-runtime sockets and sensitive host folders.
//! Shared by every container format (Kubernetes, ECS, compose).

/// Runtime sockets by normalised path (`/var/run` is written `/run`). `*` matches one
/// path segment (a UID for rootless runtimes).
const SOCKETS: &[(&str, &str)] = &[
    ("/run/docker.sock", "Docker"),
    ("/run/user/*/docker.sock", "Docker"),
    ("/run/dockershim.sock", "Docker"),
    ("/run/cri-dockerd.sock", "Docker"),
    ("/run/containerd/containerd.sock", "containerd"),
    ("/run/k3s/containerd/containerd.sock", "containerd"),
    (
        "/var/snap/microk8s/common/run/containerd.sock",
        "containerd",
    ),
    ("/run/crio/crio.sock", "CRI-O"),
    ("/run/podman/podman.sock", "Podman"),
    ("/run/user/*/podman/podman.sock", "Podman"),
    // Docker Desktop and Colima keep the socket in the user's home folder.
    ("/home/*/.docker/run/docker.sock", "Docker"),
    ("/home/*/.docker/desktop/docker.sock", "Docker"),
    ("/home/*/.colima/default/docker.sock", "Docker"),
];

/// One entry of `data/sensitive-host-paths.yaml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitivePath {
    path: String,
    scope: Scope,
    access: Access,
    why: String,
}

/// Whether an entry covers what lies inside its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Scope {
    /// The path itself, and folders that contain it.
    Exact,
    /// Also everything inside the path.
    Subtree,
}

/// Which mounts of an entry are sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Access {
    /// Read-only ones too.
    Any,
    /// Writable ones only.
    Write,
}

/// The sensitive host paths, read once from the data file embedded at build time.
fn sensitive_paths() -> &'static [SensitivePath] {
    static LIST: std::sync::OnceLock<Vec<SensitivePath>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        serde_saphyr::from_str(include_str!("../../data/sensitive-host-paths.yaml"))
            .expect("data/sensitive-host-paths.yaml is valid (a unit test reads it)")
    })
}

/// What a host path exposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// The normalised path.
    pub normalized: String,
    /// Runtimes whose socket the path is or holds (sorted, deduplicated).
    pub runtimes: Vec<&'static str>,
    /// The path is a socket file itself.
    pub socket_file: bool,
    /// The path is, contains or lies inside a sensitive location
    /// (`data/sensitive-host-paths.yaml`), taking read-only mounts into account.
    pub sensitive: bool,
    /// Why, for messages: `it contains /etc/shadow: password hashes of the host's users`.
    pub sensitive_reason: Option<String>,
}

impl Exposure {
    /// A phrase for messages, e.g. `the Docker socket` or
    /// `the folder holding the Docker and containerd sockets`.
    pub fn describe(&self) -> Option<String> {
        let names = join_words(&self.runtimes);
        match (self.runtimes.len(), self.socket_file) {
            (0, _) => None,
            (_, true) => Some(format!("the {names} socket")),
            (1, false) => Some(format!("the folder holding the {names} socket")),
            (_, false) => Some(format!("the folder holding the {names} sockets")),
        }
    }
}

/// Classifies a host path mounted read-only or writable. Besides absolute paths it
/// reads the forms compose accepts: `~/…` (the home folder of whoever starts the
/// containers: credentials live there), relative paths (the project folder: nothing of
/// the host's), and the Windows Docker pipe `\\.\pipe\docker_engine`.
pub fn classify(path: &str, read_only: bool) -> Exposure {
    let path = path.trim();
    if is_docker_pipe(path) {
        return Exposure {
            normalized: path.to_string(),
            runtimes: vec!["Docker"],
            socket_file: true,
            sensitive: false,
            sensitive_reason: None,
        };
    }
    if let Some(rest) = path.strip_prefix('~') {
        // `~/x` or `~user/x`: somebody's home folder.
        let below = rest.split_once('/').map_or("", |(_, r)| r);
        let mut e = classify(&format!("/home/~/{below}"), read_only);
        e.normalized = e.normalized.replacen("/home/~", "~", 1);
        e.sensitive_reason = e
            .sensitive_reason
            .map(|r| r.replace("/home/*/", "~/").replace("/home/~", "~"));
        return e;
    }
    if !path.starts_with('/') {
        return Exposure {
            normalized: path.to_string(),
            runtimes: Vec::new(),
            socket_file: false,
            sensitive: false,
            sensitive_reason: None,
        };
    }
    let normalized = normalize(path);
    let mut runtimes: Vec<&'static str> = Vec::new();
    let mut socket_file = false;
    for (socket, runtime) in SOCKETS {
        if matches_pattern(&normalized, socket) {
            socket_file = true;
            runtimes.push(runtime);
        } else if is_ancestor_of_pattern(&normalized, socket) {
            runtimes.push(runtime);
        }
    }
    runtimes.sort_unstable_by_key(|r| r.to_ascii_lowercase());
    runtimes.dedup();
    let sensitive_reason = if socket_file {
        None
    } else {
        sensitive_reason(&normalized, read_only)
    };
    Exposure {
        normalized,
        runtimes,
        socket_file,
        sensitive: sensitive_reason.is_some(),
        sensitive_reason,
    }
}

/// Why mounting `path` is sensitive, from the first entry of the data file that
/// covers it, or `None`.
fn sensitive_reason(path: &str, read_only: bool) -> Option<String> {
    sensitive_paths()
        .iter()
        .filter(|e| e.access == Access::Any || !read_only)
        .find_map(|e| {
            if matches_pattern(path, &e.path) {
                Some(e.why.clone())
            } else if is_ancestor_of_pattern(path, &e.path) {
                Some(format!("it contains {}: {}", e.path, e.why))
            } else if e.scope == Scope::Subtree && is_inside_pattern(path, &e.path) {
                Some(format!("inside {}: {}", e.path, e.why))
            } else {
                None
            }
        })
}

/// Lexical normalisation: collapses `//`, `.` and `..`, drops a trailing slash,
/// and writes `/var/run` as `/run` (one is a symlink to the other on every distribution).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.trim().split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.len() >= 2 && parts[0] == "var" && parts[1] == "run" {
        parts.remove(0);
    }
    format!("/{}", parts.join("/"))
}

/// `path` is what `pattern` names (segment by segment, `*` and `prefix*` wildcards).
fn matches_pattern(path: &str, pattern: &str) -> bool {
    compare_to_pattern(path, pattern) == Some(std::cmp::Ordering::Equal)
}

/// `path` is a folder above what `pattern` names.
fn is_ancestor_of_pattern(path: &str, pattern: &str) -> bool {
    compare_to_pattern(path, pattern) == Some(std::cmp::Ordering::Less)
}

/// `path` lies below what `pattern` names.
fn is_inside_pattern(path: &str, pattern: &str) -> bool {
    compare_to_pattern(path, pattern) == Some(std::cmp::Ordering::Greater)
}

/// `None` when a segment `path` and `pattern` both have does not match; else how their
/// numbers of segments compare. Called for every pattern and every host path: it
/// walks both without collecting them.
fn compare_to_pattern(path: &str, pattern: &str) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    let mut p = segments(path);
    let mut q = segments(pattern);
    loop {
        match (p.next(), q.next()) {
            (Some(a), Some(b)) if segment_matches(a, b) => {}
            (Some(_), Some(_)) => return None,
            (None, None) => return Some(Ordering::Equal),
            (Some(_), None) => return Some(Ordering::Greater),
            (None, Some(_)) => return Some(Ordering::Less),
        }
    }
}

/// One path segment against a pattern segment: `*` matches any, `sd*` by prefix.
fn segment_matches(segment: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => segment.starts_with(prefix),
        None => segment == pattern,
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The Windows Docker pipe, `\\.\pipe\docker_engine`, in any case and with either slash.
fn is_docker_pipe(path: &str) -> bool {
    const PIPE: &[u8] = b"\\pipe\\docker_engine";
    let b = path.as_bytes();
    b.len() >= PIPE.len()
        && b[b.len() - PIPE.len()..].iter().zip(PIPE).all(|(x, y)| {
            let x = if *x == b'/' {
                b'\\'
            } else {
                x.to_ascii_lowercase()
            };
            x == *y
        })
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalize("/var/run/docker.sock"), "/run/docker.sock");
        assert_eq!(normalize("//var//run/./docker.sock/"), "/run/docker.sock");
        assert_eq!(
            normalize("/var/lib/../run/crio/"),
            "/var/run/crio".replace("/var", "")
        );
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("/var/run"), "/run");
    }

    #[test]
    fn sockets_and_their_folders() {
        let e = classify("/var/run/docker.sock", true);
        assert!(e.socket_file && !e.sensitive);
        assert_eq!(e.describe().unwrap(), "the Docker socket");
        let e = classify("/run/containerd", false);
        assert_eq!(
            e.describe().unwrap(),
            "the folder holding the containerd socket"
        );
        let e = classify("/var/run/", false);
        assert!(e.runtimes.len() >= 4 && e.sensitive && !e.socket_file);
        assert_eq!(
            e.sensitive_reason.as_deref(),
            Some("it contains /run/systemd: systemd's private socket, which starts services as root on the host")
        );
        assert!(classify("/run/user/1000/podman/podman.sock", false).socket_file);
        assert!(classify("/", false).runtimes.contains(&"Docker"));
        assert!(classify("/var/snap/microk8s/common/run", false).runtimes == ["containerd"]);
    }

    #[test]
    fn sensitive_folders_below_and_above() {
        assert!(classify("/etc/kubernetes/pki", false).sensitive);
        assert!(
            classify("/var/lib", false).sensitive,
            "contains /var/lib/kubelet"
        );
        assert!(classify("/etc", true).sensitive, "contains /etc/shadow");
        assert!(classify("/var/lib/kubelet/pods", true).sensitive);
        assert!(classify("/proc", false).sensitive);
        let e = classify("/data/app", false);
        assert!(!e.sensitive && e.runtimes.is_empty());
        assert!(
            !classify("/etcd-data", false).sensitive,
            "a prefix is not a parent"
        );
    }

    #[test]
    fn home_relative_and_windows_paths() {
        let e = classify("~/.aws", false);
        assert!(e.sensitive && e.runtimes.is_empty());
        assert_eq!(e.normalized, "~/.aws");
        let e = classify("~", true);
        assert_eq!(
            e.sensitive_reason.as_deref(),
            Some("it contains ~/.ssh: a user's SSH keys")
        );
        assert!(!classify("~/minecraft_data", false).sensitive);
        let e = classify("~/.docker/run/docker.sock", false);
        assert!(e.socket_file && e.runtimes == ["Docker"]);
        for relative in [".", "./data", "../config", "data"] {
            let e = classify(relative, false);
            assert!(!e.sensitive && e.runtimes.is_empty(), "{relative}");
        }
        for pipe in [r"\\.\pipe\docker_engine", "//./PIPE/Docker_Engine"] {
            let e = classify(pipe, false);
            assert!(e.socket_file && e.runtimes == ["Docker"], "{pipe}");
        }
        assert!(!classify(r"\\.\pipe\docker_engine2", false).socket_file);
    }

    #[test]
    fn the_data_file_reads_and_explains_every_entry() {
        let list = sensitive_paths();
        assert!(list.len() > 40);
        for e in list {
            assert!(e.path.starts_with('/'), "{}", e.path);
            // One line, and no parentheses: messages put the reason in parentheses.
            assert!(
                !e.why.trim().is_empty() && !e.why.contains(['\n', '(']),
                "{}",
                e.path
            );
            assert_eq!(normalize(&e.path), e.path, "write {} normalised", e.path);
        }
    }

    /// The benign mounts seen on real compose collections, and the dangerous ones.
    #[test]
    fn paths_are_judged_by_what_they_expose_not_by_prefix() {
        for (path, read_only) in [
            ("/etc/localtime", true),
            ("/etc/localtime", false),
            ("/etc/timezone", true),
            ("/var/run/utmp", true),
            ("/etc/pihole/", false),
            ("/usr/share/appdata/x/config", false),
            ("/run/user/1000/pulse", false),
            ("/dev/dri", false),
            ("/dev/snd", false),
            ("/lib/modules", true),
            ("/usr", true),
            ("/etc/ssl/certs", true),
            ("/home/pi/minecraft_data", false),
            ("/srv/data", false),
            ("/opt/app/config", false),
            ("/mnt/media", false),
        ] {
            let e = classify(path, read_only);
            assert!(
                !e.sensitive,
                "{path} (read-only {read_only}): {:?}",
                e.sensitive_reason
            );
        }
        for (path, read_only) in [
            ("/", true),
            ("/etc", true),
            ("/etc/shadow", true),
            ("/etc/passwd", false),
            ("/proc", true),
            ("/proc/1/root", true),
            ("/sys/fs/cgroup", true),
            ("/dev", false),
            ("/dev/sda1", false),
            ("/dev/nvme0n1", true),
            ("/dev/mem", true),
            ("/var/log", true),
            ("/var/log/pods", true),
            ("/var/lib/docker/containers", true),
            ("/var/lib/kubelet", true),
            ("/etc/kubernetes/pki", true),
            ("/root/.ssh", true),
            ("/home", true),
            ("/home/ubuntu/.kube/config", true),
            ("/lib/modules", false),
            ("/usr", false),
            ("/usr/local/bin", false),
            ("/boot", false),
            ("/etc/cron.d", false),
            ("/var/spool/cron/crontabs", false),
            ("/run/dbus/system_bus_socket", true),
        ] {
            let e = classify(path, read_only);
            assert!(e.sensitive, "{path} (read-only {read_only})");
            assert!(e.sensitive_reason.is_some());
        }
        assert_eq!(
            classify("/etc", true).sensitive_reason.as_deref(),
            Some("it contains /etc/shadow: password hashes of the host's users")
        );
        assert_eq!(
            classify("/var/log/pods", true)
                .sensitive_reason
                .as_deref()
                .map(|r| r.split(';').next().unwrap()),
            Some("inside /var/log: the host's and other containers' logs")
        );
    }
}
