//! What the benchmarks share: the generated Kubernetes corpus and peak memory.

use std::fmt::Write as _;

/// One multi-document file: Deployments, DaemonSets and CronJobs with a mix of
/// hardened and vulnerable settings, deterministic for a given seed.
pub fn manifest(seed: usize, workloads: usize) -> String {
    let mut out = String::new();
    for i in 0..workloads {
        let n = seed * 1000 + i;
        let (kind, api, prefix, indent) = match n % 3 {
            0 => (
                "Deployment",
                "apps/v1",
                "spec:\n  replicas: 2\n  template:\n",
                "    ",
            ),
            1 => ("DaemonSet", "apps/v1", "spec:\n  template:\n", "    "),
            _ => (
                "CronJob",
                "batch/v1",
                "spec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n",
                "        ",
            ),
        };
        let _ = write!(
            out,
            "---\napiVersion: {api}\nkind: {kind}\nmetadata:\n  name: app-{n}\n  namespace: team-{}\n  labels: {{app: app-{n}, tier: backend}}\n{prefix}",
            n % 17
        );
        let _ = write!(
            out,
            "{indent}metadata:\n{indent}  labels: {{app: app-{n}}}\n{indent}spec:\n{indent}  serviceAccountName: sa-{n}\n{indent}  hostNetwork: {}\n{indent}  securityContext:\n{indent}    runAsNonRoot: {}\n{indent}  containers:\n",
            n.is_multiple_of(11),
            n.is_multiple_of(2)
        );
        for c in 0..2 {
            let _ = write!(
                out,
                "{indent}  - name: c{c}\n{indent}    image: registry.example.com/app-{n}:{c}.4.1\n{indent}    ports: [{{containerPort: 8080}}]\n{indent}    env:\n{indent}    - {{name: MODE, value: production}}\n{indent}    - {{name: LOG_LEVEL, value: info}}\n{indent}    securityContext:\n{indent}      privileged: {}\n{indent}      allowPrivilegeEscalation: {}\n{indent}      readOnlyRootFilesystem: {}\n{indent}      capabilities: {{drop: [ALL], add: [{}]}}\n{indent}    volumeMounts:\n{indent}    - {{name: data, mountPath: /data}}\n{indent}    - {{name: sock, mountPath: /var/run/docker.sock}}\n",
                n.is_multiple_of(13),
                n.is_multiple_of(3),
                !n.is_multiple_of(4),
                if n.is_multiple_of(7) { "SYS_ADMIN" } else { "NET_BIND_SERVICE" }
            );
        }
        let sock = if n.is_multiple_of(5) {
            "/var/run/docker.sock"
        } else {
            "/srv/sock"
        };
        let _ = write!(
            out,
            "{indent}  volumes:\n{indent}  - {{name: data, emptyDir: {{}}}}\n{indent}  - {{name: sock, hostPath: {{path: {sock}}}}}\n"
        );
    }
    out
}

/// Peak resident memory of this process so far, in MiB (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
