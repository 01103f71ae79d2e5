//! docker-compose files → workload and container facts, one workload per service.
//!
//! Reads `volumes` in the short (`src:dst:mode`) and long syntax, named volumes that the
//! top-level `volumes` binds to a host folder (`driver_opts: {o: bind, device: …}`),
//! `devices`, `volumes_from`, `user`, `read_only`, `privileged`, `cap_add`,
//! `security_opt`, and `network_mode`/`pid`/`ipc: host`. Values go through compose's
//! `${VAR:-default}` interpolation first: a written default is the value, a variable
//! with none is unknown (the shell or `.env` supplies it).

use super::container::{self as shared, Borrow, MountSpec};
use crate::facts::{ComposeBuild, Container, Facts, HostMount, Locs, Tri, Unknown, Workload};
use crate::parse::substitute::{self, Lookup, Syntax};
use crate::parse::{Entry, Node, Pos, Value};
use std::collections::BTreeMap;

const COMPOSE: Syntax = Syntax {
    escape: None,
    dollar_dollar: true,
};

/// Whether a document is a compose file: a `services` mapping of services that have an
/// `image`, a `build` or an `extends`.
pub fn is_compose(doc: &Node) -> bool {
    let Some(services) = doc.get("services").filter(|s| s.is_map()) else {
        return false;
    };
    let entries = services.entries();
    !entries.is_empty()
        && entries
            .iter()
            .all(|e| e.value.is_map() || e.value.value == crate::parse::Value::Null)
        && entries.iter().any(|e| {
            ["image", "build", "extends"]
                .iter()
                .any(|k| e.value.get(k).is_some())
        })
}

/// Extracts every service of a compose file, reading its `.env` only from inside its
/// own folder.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) {
    extract_within(doc, file, None, facts)
}

/// Extracts every service of a compose file. Its `.env` is read when its real path
/// lies inside `root` (the scanned folder, canonical), or the compose file's own
/// folder when no root is given.
pub fn extract_within(doc: &Node, file: &str, root: Option<&std::path::Path>, facts: &mut Facts) {
    let Some(services) = doc.get("services") else {
        return;
    };
    let vars = if file == "<stdin>" {
        Vars::default()
    } else {
        Vars::beside(file, root)
    };
    let named_volumes = doc.get("volumes");
    let first_new = facts.containers.len();
    let mut borrows = Vec::new();
    let names: Vec<&str> = services.entries().iter().map(|e| e.key.as_str()).collect();
    let effective: Vec<Node> = services
        .entries()
        .iter()
        .map(|e| extended(services, &e.value, 0))
        .collect();
    for (index, entry) in services.entries().iter().enumerate() {
        let service = &effective[index];
        let w = workload(
            &vars,
            &entry.key,
            service,
            &names,
            &effective,
            file,
            entry.key_pos,
        );
        facts
            .containers
            .push(container(&vars, &entry.key, service, named_volumes, &w));
        facts.workloads.push(w);
        for from in service
            .get("volumes_from")
            .map(Node::items)
            .unwrap_or_default()
        {
            let Some(text) = from.scalar_text() else {
                continue;
            };
            // `service[:ro]`; `container:name[:ro]` names a container outside the file.
            let mut parts = text.split(':');
            let source = parts.next().unwrap_or_default();
            if let Some(lender) = names.iter().position(|n| *n == source) {
                borrows.push(Borrow {
                    borrower: index,
                    lender,
                    read_only: parts.any(|p| p == "ro"),
                    pos: from.pos,
                });
            }
        }
    }
    shared::borrow_mounts(&mut facts.containers[first_new..], &borrows);
}

/// A string that names a variable without default: written, but unknown.
fn unresolved(vars: &Vars, node: &Node) -> bool {
    node.as_str().is_some_and(|t| t.contains('$')) && interpolate(vars, node).is_none()
}

/// The variables a compose file is interpolated with: its project's `.env` file. Any
/// other variable comes from the shell that runs compose: unknown.
#[derive(Default)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// Reads `KEY=VALUE` lines (`export`, quotes and comments as compose reads them).
    pub fn parse(text: &str) -> Vars {
        let mut vars = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            let v = match (v.chars().next(), v.chars().last()) {
                (Some(q @ ('"' | '\'')), Some(e)) if q == e && v.len() >= 2 => &v[1..v.len() - 1],
                _ => v.split(" #").next().unwrap_or(v).trim_end(),
            };
            vars.insert(k.trim().to_string(), v.to_string());
        }
        Vars(vars)
    }

    /// The `.env` next to the compose file, if it can be read and lies inside `root`
    /// (else the compose file's folder).
    fn beside(file: &str, root: Option<&std::path::Path>) -> Vars {
        let dir = match std::path::Path::new(file).parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        let own = dir.canonicalize().ok();
        let Some(root) = root.or(own.as_deref()) else {
            return Vars::default();
        };
        crate::parse::read_text_within(&dir.join(".env"), root)
            .map(|t| Vars::parse(&t))
            .unwrap_or_default()
    }
}

/// Compose interpolation of a scalar: `None` when it depends on an unset variable.
fn interpolate(vars: &Vars, node: &Node) -> Option<String> {
    let text = node.scalar_text()?;
    substitute::substitute(&text, COMPOSE, &|name| match vars.0.get(name) {
        Some(v) => Lookup::Known(v.clone()),
        None => Lookup::Unknown,
    })
}

/// Keys whose lists `extends` adds to the base's instead of replacing them.
const MERGED_LISTS: &[&str] = &[
    "volumes",
    "devices",
    "cap_add",
    "security_opt",
    "volumes_from",
];

/// A service with what it `extends` (in the same file) merged under it: its own keys
/// win, and lists of mounts, devices and capabilities add up, as compose merges them.
/// `extends` from another file is not followed.
fn extended(services: &Node, service: &Node, depth: usize) -> Node {
    let base_name = match service.get("extends") {
        Some(e) if e.get("file").is_some() => None,
        Some(e) => e
            .get("service")
            .and_then(Node::scalar_text)
            .or_else(|| e.as_str().map(str::to_string)),
        None => None,
    };
    let Some(base) = base_name
        .and_then(|n| services.get(&n))
        .filter(|_| depth < 10)
    else {
        return service.clone();
    };
    let base = extended(services, base, depth + 1);
    let mut entries: Vec<Entry> = base
        .entries()
        .iter()
        .filter(|e| e.key != "extends")
        .cloned()
        .collect();
    for own in service.entries() {
        match entries.iter_mut().find(|e| e.key == own.key) {
            Some(e) if MERGED_LISTS.contains(&own.key.as_str()) => {
                let mut items = e.value.items().to_vec();
                items.extend(own.value.items().iter().cloned());
                *e = Entry {
                    value: Node::new(own.value.pos, Value::Seq(items)),
                    ..own.clone()
                };
            }
            Some(e) => *e = own.clone(),
            None => entries.push(own.clone()),
        }
    }
    Node::new(service.pos, Value::Map(entries))
}

/// Whether a service's `network_mode`, `pid` or `ipc` is the host's, directly or by
/// joining (`service:other`) a service that is, and the value as written.
fn host_mode(
    vars: &Vars,
    key: &str,
    service: &Node,
    names: &[&str],
    services: &[Node],
    depth: usize,
) -> (Option<String>, bool) {
    let Some(value) = service.get(key).and_then(|v| interpolate(vars, v)) else {
        return (None, false);
    };
    let joined = value
        .strip_prefix("service:")
        .and_then(|n| names.iter().position(|x| *x == n));
    let host = match joined {
        _ if value == "host" => true,
        Some(i) if depth < 10 => host_mode(vars, key, &services[i], names, services, depth + 1).1,
        _ => false,
    };
    (Some(value), host)
}

fn workload(
    vars: &Vars,
    name: &str,
    service: &Node,
    names: &[&str],
    services: &[Node],
    file: &str,
    pos: Pos,
) -> Workload {
    let mut locs = Locs::new();
    let mut unknown = Unknown::new();
    let mut host = |key: &str, field: &'static str| -> (Option<String>, bool) {
        let (value, is_host) = host_mode(vars, key, service, names, services, 0);
        if let (true, Some(e)) = (is_host, service.entry(key)) {
            locs.insert(field, e.key_pos);
        }
        // Written, but from a variable without default.
        if let Some(e) = service.entry(key).filter(|e| unresolved(vars, &e.value)) {
            locs.insert(field, e.key_pos);
            unknown.insert(field, true);
        }
        (value, is_host)
    };
    let (network_mode, host_network) = host("network_mode", "host_network");
    let (_, host_pid) = host("pid", "host_pid");
    let (_, host_ipc) = host("ipc", "host_ipc");
    Workload {
        resource: format!("compose service {name}"),
        platform: "compose",
        kind: "Service".into(),
        name: name.to_string(),
        namespace: None,
        service_account: None,
        labels: Default::default(),
        host_network,
        host_pid,
        host_ipc,
        network_mode,
        task_role: None,
        execution_role: None,
        unknown,
        imds_egress: Tri::Unknown,
        imds_egress_reason: String::new(),
        imds_egress_v6: Tri::Unknown,
        imds_egress_v6_reason: String::new(),
        node_selector: Default::default(),
        node_affinity: Vec::new(),
        tolerations: Vec::new(),
        task_role_refs: Vec::new(),
        launch_types: Vec::new(),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: pos,
        locs,
    }
}

/// A boolean, also when written as a string (compose accepts `"true"`).
fn as_bool(vars: &Vars, node: &Node) -> Option<bool> {
    node.as_bool().or_else(
        || match interpolate(vars, node)?.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
    )
}

fn container(
    vars: &Vars,
    name: &str,
    service: &Node,
    named_volumes: Option<&Node>,
    w: &Workload,
) -> Container {
    let mut locs = Locs::new();
    let mut key = |k: &str, fields: &[&'static str]| -> Option<&Node> {
        let e = service.entry(k)?;
        for f in fields {
            locs.insert(f, e.key_pos);
        }
        Some(&e.value)
    };
    let user_node = key("user", &["run_as_user", "user_setting"]);
    let privileged = key("privileged", &["privileged"]).and_then(|v| as_bool(vars, v));
    let read_only = key("read_only", &["read_only_root_filesystem"]).and_then(|v| as_bool(vars, v));
    let caps = key("cap_add", &["capabilities_added", "dangerous_capabilities"]);
    let security_opt = service.entry("security_opt");

    let mut unknown = Unknown::new();
    for (key, field) in [
        ("privileged", "privileged"),
        ("read_only", "read_only_root_filesystem"),
        ("user", "run_as_user"),
    ] {
        if service.get(key).is_some_and(|v| unresolved(vars, v)) {
            unknown.insert(field, true);
        }
    }
    if caps.is_some_and(|c| c.items().iter().any(|c| unresolved(vars, c))) {
        unknown.insert("capabilities_added", true);
    }
    let user_written = user_node.and_then(Node::scalar_text);
    let user = user_node.map(|u| interpolate(vars, u));
    let (runs_as_root, run_as_user, root_unknown_reason) = match &user {
        None => (
            Tri::Unknown,
            None,
            Some("no `user` is set, so the image's USER decides".to_string()),
        ),
        Some(None) => (
            Tri::Unknown,
            None,
            Some(format!(
                "`user: {}` comes from the environment",
                user_written.as_deref().unwrap_or_default()
            )),
        ),
        Some(Some(u)) => {
            let (tri, uid) = shared::parse_user(u);
            let reason = (tri == Tri::Unknown).then(|| "`user` is empty".to_string());
            (tri, uid, reason)
        }
    };
    let run_as_group = user
        .clone()
        .flatten()
        .and_then(|u| u.split_once(':')?.1.trim().parse().ok());

    let capabilities_added: Vec<String> = caps
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| interpolate(vars, c))
        .map(|c| shared::normalize_capability(&c))
        .collect();
    let no_new_privileges = security_opt
        .map(|e| e.value.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| interpolate(vars, c))
        .any(|o| {
            let o = o.replace('=', ":");
            o == "no-new-privileges" || o == "no-new-privileges:true"
        });
    if no_new_privileges {
        if let Some(e) = security_opt {
            locs.insert("allow_privilege_escalation", e.key_pos);
        }
    }
    if let Some(e) = service.entry("image") {
        locs.insert("image", e.key_pos);
    }
    Container {
        resource: w.resource.clone(),
        platform: "compose",
        name: name.to_string(),
        container_type: "container",
        image: service.get("image").and_then(|i| interpolate(vars, i)),
        privileged,
        allow_privilege_escalation: no_new_privileges.then_some(false),
        read_only_root_filesystem: read_only,
        user_setting: user_written.map(|u| format!("user: {u}")),
        root_unknown_reason,
        run_as_user,
        run_as_group,
        run_as_non_root: None,
        runs_as_root,
        dangerous_capabilities: shared::dangerous(&capabilities_added),
        capabilities_added,
        host_network: w.host_network,
        host_pid: w.host_pid,
        host_ipc: w.host_ipc,
        mounts: host_mounts(vars, name, service, named_volumes, w),
        build: build(vars, service, &w.file),
        built_image: None,
        unknown,
        rendered_by: Vec::new(),
        file: w.file.clone(),
        loc: w.loc,
        locs,
    }
}

/// How the service's image is built from a local Dockerfile: `build: ./app`, or
/// `build: {context, dockerfile, target}` (the Dockerfile relative to the context).
/// Remote contexts (git, URLs), inline Dockerfiles and values from unset variables
/// give none: there is no scanned file to link to.
fn build(vars: &Vars, service: &Node, file: &str) -> Option<ComposeBuild> {
    let build = service.get("build")?;
    let (context, dockerfile, target) = if build.is_map() {
        let text = |k: &str| build.get(k).map(|v| interpolate(vars, v));
        let context = text("context").unwrap_or(Some(".".into()))?;
        let dockerfile = text("dockerfile").unwrap_or(Some("Dockerfile".into()))?;
        let target = match text("target") {
            Some(t) => Some(t?),
            None => None,
        };
        (context, dockerfile, target)
    } else {
        (interpolate(vars, build)?, "Dockerfile".to_string(), None)
    };
    let remote = ["://", "git@", "github.com/"]
        .iter()
        .any(|m| context.contains(m));
    if remote || build.get("dockerfile_inline").is_some() {
        return None;
    }
    let folder = std::path::Path::new(file)
        .parent()
        .unwrap_or_else(|| std::path::Path::new(""));
    let path = folder.join(&context).join(&dockerfile);
    let dockerfile = crate::discover::lexical(&path).display().to_string();
    Some(ComposeBuild {
        context,
        dockerfile,
        target,
    })
}

/// A volume entry reduced to what matters: where it comes from on the host.
struct Bind {
    volume: String,
    host_path: String,
    host_pos: Pos,
    mount_path: String,
    mount_pos: Option<Pos>,
    read_only: bool,
}

fn host_mounts(
    vars: &Vars,
    name: &str,
    service: &Node,
    named_volumes: Option<&Node>,
    w: &Workload,
) -> Vec<HostMount> {
    let mut binds = Vec::new();
    for v in service.get("volumes").map(Node::items).unwrap_or_default() {
        let bind = if v.is_map() {
            long_volume(vars, v, named_volumes)
        } else {
            short_volume(vars, v, named_volumes)
        };
        binds.extend(bind);
    }
    for d in service.get("devices").map(Node::items).unwrap_or_default() {
        let Some(text) = interpolate(vars, d) else {
            continue;
        };
        let (host, rest) = split_host(&text);
        let target = rest.split(':').next().filter(|t| !t.is_empty());
        binds.push(Bind {
            volume: "device".into(),
            mount_path: target.unwrap_or(host).to_string(),
            host_path: host.to_string(),
            host_pos: d.pos,
            mount_pos: None,
            read_only: false,
        });
    }
    binds
        .into_iter()
        .map(|b| {
            shared::host_mount(MountSpec {
                resource: &w.resource,
                container: name,
                volume: b.volume,
                host_path: b.host_path,
                mount_path: b.mount_path,
                read_only: b.read_only,
                file: &w.file,
                host_pos: b.host_pos,
                mount_pos: b.mount_pos,
            })
        })
        .collect()
}

/// `SRC:DST[:MODE]`: SRC is a host path when it starts with `/`, `.`, `~` or a drive
/// letter; otherwise it names a volume. A lone `DST` is an anonymous volume.
fn short_volume(vars: &Vars, v: &Node, named_volumes: Option<&Node>) -> Option<Bind> {
    // A source from an unset variable stays as written: visible in the facts, and not
    // a known host folder.
    let text = interpolate(vars, v).or_else(|| v.scalar_text())?;
    let (source, rest) = split_host(&text);
    if rest.is_empty() {
        return None;
    }
    let (target, mode) = split_host(rest);
    let target = target.to_string();
    let read_only = mode.split(',').any(|m| m == "ro");
    let (volume, host_path, host_pos) = if is_path(source) {
        (source.to_string(), source.to_string(), v.pos)
    } else {
        let (path, pos) = named_bind(vars, source, named_volumes)?;
        (source.to_string(), path, pos)
    };
    Some(Bind {
        volume,
        host_path,
        host_pos,
        mount_path: target,
        mount_pos: None,
        read_only,
    })
}

/// `{type: bind|volume, source, target, read_only}`.
fn long_volume(vars: &Vars, v: &Node, named_volumes: Option<&Node>) -> Option<Bind> {
    let kind = v.get("type").and_then(|t| interpolate(vars, t));
    let source_node = v.get("source")?;
    let source = interpolate(vars, source_node)?;
    let (volume, host_path, host_pos) = match kind.as_deref() {
        Some("bind") => (source.clone(), source, source_node.pos),
        Some("volume") | None => {
            let (path, pos) = named_bind(vars, &source, named_volumes)?;
            (source, path, pos)
        }
        _ => return None,
    };
    Some(Bind {
        volume,
        host_path,
        host_pos,
        mount_path: v
            .get("target")
            .and_then(|t| interpolate(vars, t))
            .unwrap_or_default(),
        mount_pos: v.entry("target").map(|e| e.key_pos),
        read_only: v
            .get("read_only")
            .and_then(|r| as_bool(vars, r))
            .unwrap_or(false),
    })
}

/// The host folder a named volume binds (`driver: local`, `driver_opts.o: bind`).
fn named_bind(vars: &Vars, name: &str, named_volumes: Option<&Node>) -> Option<(String, Pos)> {
    let volume = named_volumes?.get(name)?;
    let driver = volume.get("driver").and_then(|d| interpolate(vars, d));
    if driver.as_deref().is_some_and(|d| d != "local") {
        return None;
    }
    let opts = volume.get("driver_opts")?;
    let bind = opts
        .get("o")
        .and_then(|o| interpolate(vars, o))
        .is_some_and(|o| {
            o.split(',')
                .any(|x| x.trim() == "bind" || x.trim() == "rbind")
        });
    let device = opts.get("device")?;
    bind.then(|| Some((interpolate(vars, device)?, device.pos)))
        .flatten()
}

/// Splits `PATH:REST` where PATH may be a Windows path (`C:\data`, `\\.\pipe\x`).
fn split_host(text: &str) -> (&str, &str) {
    let b = text.as_bytes();
    let skip = if b.len() > 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && matches!(b[2], b'\\' | b'/')
    {
        2
    } else {
        0
    };
    match text[skip..].find(':') {
        Some(i) => (&text[..skip + i], &text[skip + i + 1..]),
        None => (text, ""),
    }
}

fn is_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~', '\\', '$'])
        || (source.len() > 2 && source.as_bytes()[1] == b':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;

    fn facts(text: &str) -> Facts {
        let mut facts = Facts::default();
        let docs = yaml::parse(text).unwrap();
        assert!(is_compose(&docs[0]));
        extract(&docs[0], "compose.yaml", &mut facts);
        facts
    }

    const FILE: &str = "\
services:
  agent:
    image: portainer/agent:2.19
    user: root
    privileged: true
    network_mode: host
    pid: host
    cap_add: [SYS_ADMIN, net_bind_service]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - ./config:/config
      - data:/data
      - logs:/logs
      - /scratch
      - type: bind
        source: /etc
        target: /host/etc
        read_only: true
    devices:
      - /dev/fuse:/dev/fuse:rwm
  web:
    image: nginx:${NGINX_TAG:-1.27}
    user: \"${UID}:${GID}\"
    read_only: true
    security_opt: [\"no-new-privileges:true\"]
    volumes_from: [agent:ro]
  job:
    build: .
    user: \"10001:10001\"
    ipc: host
volumes:
  data: {}
  logs:
    driver: local
    driver_opts: {type: none, o: bind, device: /var/log}
";

    #[test]
    fn services_become_workloads() {
        let f = facts(FILE);
        let names: Vec<_> = f.workloads.iter().map(|w| w.resource.as_str()).collect();
        assert_eq!(
            names,
            [
                "compose service agent",
                "compose service web",
                "compose service job"
            ]
        );
        let agent = &f.workloads[0];
        assert!(agent.host_network && agent.host_pid && !agent.host_ipc);
        assert_eq!(agent.locs["host_network"].line, 6);
        assert!(f.workloads[2].host_ipc);
    }

    #[test]
    fn container_settings_and_users() {
        let f = facts(FILE);
        let [agent, web, job] = &f.containers[..] else {
            panic!()
        };
        assert_eq!(agent.runs_as_root, Tri::Yes);
        assert_eq!(agent.locs["run_as_user"].line, 4);
        assert_eq!(agent.privileged, Some(true));
        assert_eq!(agent.dangerous_capabilities, ["SYS_ADMIN"]);
        assert_eq!(web.runs_as_root, Tri::Unknown);
        assert!(web
            .root_unknown_reason
            .as_deref()
            .unwrap()
            .contains("environment"));
        assert_eq!(web.image.as_deref(), Some("nginx:1.27"));
        assert_eq!(web.read_only_root_filesystem, Some(true));
        assert_eq!(web.allow_privilege_escalation, Some(false));
        assert_eq!((job.runs_as_root, job.run_as_group), (Tri::No, Some(10001)));
    }

    #[test]
    fn volumes_in_every_syntax() {
        let f = facts(FILE);
        let agent = &f.containers[0];
        let mounts: Vec<_> = agent
            .mounts
            .iter()
            .map(|m| (m.host_path.as_str(), m.mount_path.as_str(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("/var/run/docker.sock", "/var/run/docker.sock", true),
                ("./config", "/config", false),
                ("/var/log", "/logs", false),
                ("/etc", "/host/etc", true),
                ("/dev/fuse", "/dev/fuse", false),
            ]
        );
        assert!(agent.mounts[0].runtime_socket);
        assert_eq!(agent.mounts[0].loc.line, 10);
        assert!(
            !agent.mounts[1].sensitive,
            "a project folder is not the host's"
        );
        assert_eq!(
            agent.mounts[2].loc.line, 35,
            "points at the volume's device"
        );
        assert_eq!(agent.mounts[3].loc.line, 16);
    }

    #[test]
    fn volumes_from_borrows_mounts() {
        let f = facts(FILE);
        let web = &f.containers[1];
        assert_eq!(web.mounts.len(), 5);
        assert!(web
            .mounts
            .iter()
            .all(|m| m.read_only && m.container == "web"));
    }

    #[test]
    fn windows_paths_and_the_docker_pipe() {
        let f = facts(
            "services:\n  a:\n    image: x\n    volumes:\n      - \\\\.\\pipe\\docker_engine:\\\\.\\pipe\\docker_engine\n      - C:\\data:C:\\data\n",
        );
        let m = &f.containers[0].mounts;
        assert_eq!(m[0].host_path, r"\\.\pipe\docker_engine");
        assert!(m[0].runtime_socket);
        assert_eq!(
            (m[1].host_path.as_str(), m[1].mount_path.as_str()),
            (r"C:\data", r"C:\data")
        );
    }

    #[test]
    fn extends_and_joined_namespaces() {
        let f = facts(
            "services:\n  base:\n    image: x\n    privileged: true\n    network_mode: host\n    volumes: [/etc:/etc]\n  child:\n    extends: base\n    volumes: [/proc:/proc]\n  peer:\n    image: y\n    network_mode: service:child\n    pid: container:abc\n",
        );
        let child = &f.containers[1];
        assert_eq!(child.privileged, Some(true));
        assert_eq!(child.mounts.len(), 2, "volumes add up");
        assert!(f.workloads[1].host_network);
        let peer = &f.workloads[2];
        assert!(peer.host_network, "joins a service on the host network");
        assert_eq!(peer.locs["host_network"].line, 12);
        assert!(!peer.host_pid);
    }

    #[test]
    fn dot_env_values_fill_the_variables() {
        let vars = Vars::parse(
            "# comment\nexport UID=0\nSOCK=\"/var/run/docker.sock\"\nTAG='1.27' \nEMPTY=\nNOTE=x # trailing\n",
        );
        assert_eq!(vars.0["UID"], "0");
        assert_eq!(vars.0["SOCK"], "/var/run/docker.sock");
        assert_eq!(vars.0["TAG"], "1.27");
        assert_eq!(vars.0["EMPTY"], "");
        assert_eq!(vars.0["NOTE"], "x");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "RUN_AS=0\nSOCK=/var/run/docker.sock\n",
        )
        .unwrap();
        let file = dir.path().join("compose.yaml");
        let text = "services:\n  a:\n    image: x\n    user: \"${RUN_AS}\"\n    volumes: [\"${SOCK}:/s\", \"${OTHER}:/o\"]\n";
        let mut facts = Facts::default();
        extract(
            &yaml::parse(text).unwrap()[0],
            file.to_str().unwrap(),
            &mut facts,
        );
        let c = &facts.containers[0];
        assert_eq!(c.runs_as_root, Tri::Yes, "user from .env");
        assert!(c.mounts[0].runtime_socket, "volume source from .env");
        assert_eq!(
            c.mounts[1].host_path,
            "${OTHER}:/o".split(':').next().unwrap()
        );
    }

    #[test]
    fn what_is_not_a_compose_file() {
        for text in [
            "services: [a, b]\n",
            "services: {}\n",
            "services:\n  a: {ports: [80]}\n",
            "name: x\n",
        ] {
            assert!(!is_compose(&yaml::parse(text).unwrap()[0]), "{text}");
        }
    }
}
