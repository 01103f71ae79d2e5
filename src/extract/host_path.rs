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

/// Host folders whose exposure gives away the node: a mount of one of these, of
/// anything under one, or of a folder that contains one is sensitive.
const SENSITIVE: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/etc",
    "/root",
    "/home",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/usr",
    "/run",
    "/var/log",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
];

/// What a host path exposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// The normalised path.
    pub normalized: String,
    /// Runtimes whose socket the path is or holds (sorted, deduplicated).
    pub runtimes: Vec<&'static str>,
    /// The path is a socket file itself.
    pub socket_file: bool,
    /// The path is a sensitive folder, under one, or above one.
    pub sensitive: bool,
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

/// Classifies a host path. Besides absolute paths it reads the forms compose accepts:
/// `~/…` (the home folder of whoever starts the containers: credentials live there),
/// relative paths (the project folder: nothing of the host's), and the Windows Docker
/// pipe `\\.\pipe\docker_engine`.
pub fn classify(path: &str) -> Exposure {
    let path = path.trim();
    if path
        .to_ascii_lowercase()
        .replace('/', "\\")
        .ends_with("\\pipe\\docker_engine")
    {
        return Exposure {
            normalized: path.to_string(),
            runtimes: vec!["Docker"],
            socket_file: true,
            sensitive: false,
        };
    }
    if let Some(rest) = path.strip_prefix('~') {
        // `~/x` or `~user/x`: somebody's home folder.
        let below = rest.split_once('/').map_or("", |(_, r)| r);
        let mut e = classify(&format!("/home/~/{below}"));
        e.normalized = e.normalized.replacen("/home/~", "~", 1);
        return e;
    }
    if !path.starts_with('/') {
        return Exposure {
            normalized: path.to_string(),
            runtimes: Vec::new(),
            socket_file: false,
            sensitive: false,
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
    let sensitive = !socket_file
        && SENSITIVE
            .iter()
            .any(|s| is_within(&normalized, s) || is_within(s, &normalized));
    Exposure {
        normalized,
        runtimes,
        socket_file,
        sensitive,
    }
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

/// `path` equals `dir` or lies under it.
fn is_within(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || (path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

fn matches_pattern(path: &str, pattern: &str) -> bool {
    let (p, q): (Vec<_>, Vec<_>) = (segments(path), segments(pattern));
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *b == "*" || a == b)
}

fn is_ancestor_of_pattern(path: &str, pattern: &str) -> bool {
    let (p, q): (Vec<_>, Vec<_>) = (segments(path), segments(pattern));
    p.len() < q.len() && p.iter().zip(&q).all(|(a, b)| *b == "*" || a == b)
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
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
        let e = classify("/var/run/docker.sock");
        assert!(e.socket_file && !e.sensitive);
        assert_eq!(e.describe().unwrap(), "the Docker socket");
        let e = classify("/run/containerd");
        assert_eq!(
            e.describe().unwrap(),
            "the folder holding the containerd socket"
        );
        let e = classify("/var/run/");
        assert!(e.runtimes.len() >= 4 && e.sensitive && !e.socket_file);
        assert!(classify("/run/user/1000/podman/podman.sock").socket_file);
        assert!(classify("/").runtimes.contains(&"Docker"));
        assert!(classify("/var/snap/microk8s/common/run").runtimes == ["containerd"]);
    }

    #[test]
    fn sensitive_folders_below_and_above() {
        assert!(classify("/etc/kubernetes/pki").sensitive);
        assert!(classify("/var/lib").sensitive, "contains /var/lib/kubelet");
        assert!(classify("/proc").sensitive);
        let e = classify("/data/app");
        assert!(!e.sensitive && e.runtimes.is_empty());
        assert!(
            !classify("/etcd-data").sensitive,
            "a prefix is not a parent"
        );
    }

    #[test]
    fn home_relative_and_windows_paths() {
        let e = classify("~/.aws");
        assert!(e.sensitive && e.runtimes.is_empty());
        assert_eq!(e.normalized, "~/.aws");
        let e = classify("~/.docker/run/docker.sock");
        assert!(e.socket_file && e.runtimes == ["Docker"]);
        for relative in [".", "./data", "../config", "data"] {
            let e = classify(relative);
            assert!(!e.sensitive && e.runtimes.is_empty(), "{relative}");
        }
        let e = classify(r"\\.\pipe\docker_engine");
        assert!(e.socket_file && e.runtimes == ["Docker"]);
    }
}
