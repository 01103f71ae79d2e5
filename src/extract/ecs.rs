//! ECS task definitions → workload and container facts.
//!
//! Reads the `register-task-definition` input shape, the `describe-task-definition`
//! output (a `taskDefinition` wrapper) and a bare list of container definitions (what
//! Terraform's `container_definitions` holds). Task-level settings are looked up under
//! both their ECS JSON names (`networkMode`) and their Terraform names (`network_mode`),
//! so the Terraform extractor passes its attribute values through the same functions.
//!
//! What ECS does that the peers miss: a container's `user` decides root (no `user`
//! means the image decides), a host volume only matters through a container's
//! `mountPoints` (or `volumesFrom` another container that mounts it), and a `local`
//! Docker volume with a bind option is a host path too.

use super::container::{self as shared, MountSpec};
use crate::facts::{Container, Facts, HostMount, Locs, Tri, Unknown, Workload};
use crate::parse::{Node, Pos};

/// Keys only ECS container definitions have: they tell a bare list of container
/// definitions from any other list of named images.
const ECS_CONTAINER_KEYS: &[&str] = &[
    "essential",
    "portMappings",
    "mountPoints",
    "logConfiguration",
    "linuxParameters",
    "readonlyRootFilesystem",
    "memoryReservation",
    "dockerSecurityOptions",
    "volumesFrom",
    "firelensConfiguration",
];

/// A volume a task offers its containers, reduced to what matters: its host path.
#[derive(Clone, Debug)]
pub struct Volume {
    /// The volume's name, which `mountPoints[].sourceVolume` refers to.
    pub name: String,
    /// The host path and where it is written, for bind mounts of the host.
    pub host_path: Option<(String, Pos)>,
}

/// Extracts a task definition (either shape) or a bare container-definition list;
/// returns whether the document was one.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) -> bool {
    if let Some(task) = task_definition(doc) {
        let family = task.get("family").and_then(Node::scalar_text);
        let revision = task.get("revision").and_then(Node::scalar_text);
        let name = match (&family, &revision) {
            (Some(f), Some(r)) => format!("{f}:{r}"),
            (Some(f), None) => f.clone(),
            _ => file_stem(file),
        };
        let w = workload(task, format!("ECS task definition {name}"), name, file);
        let defs = task.get("containerDefinitions").expect("checked");
        extract_containers(defs, &volumes(task), &w, facts);
        facts.workloads.push(w);
        return true;
    }
    if is_container_definition_list(doc) {
        let name = file_stem(file);
        let w = workload(doc, format!("ECS container definitions {name}"), name, file);
        extract_containers(doc, &[], &w, facts);
        facts.workloads.push(w);
        return true;
    }
    false
}

/// The task definition in a document: the document itself or its `taskDefinition`.
fn task_definition(doc: &Node) -> Option<&Node> {
    let task = doc.get("taskDefinition").unwrap_or(doc);
    task.get("containerDefinitions")
        .filter(|d| matches!(d.value, crate::parse::Value::Seq(_)))
        .map(|_| task)
}

/// A list whose items are all named images, at least one with an ECS-only key.
fn is_container_definition_list(doc: &Node) -> bool {
    let items = doc.items();
    !items.is_empty()
        && items
            .iter()
            .all(|c| c.get("name").is_some() && c.get("image").is_some())
        && items
            .iter()
            .any(|c| ECS_CONTAINER_KEYS.iter().any(|k| c.get(k).is_some()))
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

/// The first of several spellings of a key (ECS JSON, Terraform).
fn first<'a>(node: &'a Node, keys: &[&str]) -> Option<&'a crate::parse::Entry> {
    keys.iter().find_map(|k| node.entry(k))
}

/// The workload of a task: network, PID and IPC modes and the roles, from a task
/// definition in ECS JSON or Terraform attribute shape.
pub fn workload(task: &Node, resource: String, name: String, file: &str) -> Workload {
    let mut locs = Locs::new();
    let mut unknown = Unknown::new();
    let mut mode = |keys: &[&str], field: &'static str| -> Option<String> {
        let e = first(task, keys)?;
        if e.value.is_unknown() {
            locs.insert(field, e.key_pos);
            unknown.insert(field, true);
            return None;
        }
        let value = e.value.scalar_text()?;
        if value == "host" {
            locs.insert(field, e.key_pos);
        }
        Some(value)
    };
    let network_mode = mode(&["networkMode", "network_mode"], "host_network");
    let pid_mode = mode(&["pidMode", "pid_mode"], "host_pid");
    let ipc_mode = mode(&["ipcMode", "ipc_mode"], "host_ipc");
    if let Some(e) = first(task, &["taskRoleArn", "task_role_arn"]) {
        locs.insert("task_role", e.key_pos);
    }
    let role = |keys: &[&str]| {
        first(task, keys)
            .filter(|e| !e.value.is_unknown())
            .and_then(|e| e.value.scalar_text())
    };
    Workload {
        resource,
        platform: "ecs",
        kind: "TaskDefinition".into(),
        name,
        namespace: None,
        service_account: None,
        labels: Default::default(),
        host_network: network_mode.as_deref() == Some("host"),
        host_pid: pid_mode.as_deref() == Some("host"),
        host_ipc: ipc_mode.as_deref() == Some("host"),
        network_mode,
        task_role: role(&["taskRoleArn", "task_role_arn"]),
        execution_role: role(&["executionRoleArn", "execution_role_arn"]),
        unknown,
        imds_egress: Tri::Unknown,
        imds_egress_reason: String::new(),
        imds_egress_v6: Tri::Unknown,
        imds_egress_v6_reason: String::new(),
        node_selector: Default::default(),
        node_affinity: Vec::new(),
        tolerations: Vec::new(),
        task_role_refs: Vec::new(),
        launch_types: first(
            task,
            &["requiresCompatibilities", "requires_compatibilities"],
        )
        .map(|e| {
            e.value
                .items()
                .iter()
                .filter_map(Node::scalar_text)
                .collect()
        })
        .unwrap_or_default(),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: task.pos,
        locs,
    }
}

/// The task's volumes that bind a host path: `host.sourcePath` (Terraform `host_path`),
/// or a `local` Docker volume whose options bind a device path.
pub fn volumes(task: &Node) -> Vec<Volume> {
    let list = first(task, &["volumes", "volume"]).map_or(&[][..], |e| e.value.items());
    list.iter()
        .filter_map(|v| {
            let name = v.get("name").and_then(Node::scalar_text)?;
            let host_node = v
                .path(&["host", "sourcePath"])
                .or_else(|| v.get("host_path"))
                .or_else(|| docker_volume_bind(v));
            let host_path =
                host_node.and_then(|n| Some((n.scalar_text().filter(|p| !p.is_empty())?, n.pos)));
            Some(Volume { name, host_path })
        })
        .collect()
}

/// The device of a `local` Docker volume mounted with `o: bind` (the way to bind a host
/// folder through a volume driver).
fn docker_volume_bind(v: &Node) -> Option<&Node> {
    let config = v.get("dockerVolumeConfiguration").or_else(|| {
        // Terraform writes a nested block as a list of one object.
        let block = v.get("docker_volume_configuration")?;
        block.items().first().or(Some(block))
    })?;
    let driver = first(config, &["driver"]).and_then(|e| e.value.scalar_text());
    if driver.as_deref().is_some_and(|d| d != "local") {
        return None;
    }
    let opts = &first(config, &["driverOpts", "driver_opts"])?.value;
    let bind = opts.get("o").and_then(Node::scalar_text).is_some_and(|o| {
        o.split(',')
            .any(|x| x.trim() == "bind" || x.trim() == "rbind")
    });
    if !bind {
        return None;
    }
    opts.get("device")
}

/// Container facts for a list of ECS container definitions (JSON shape, as ECS and
/// Terraform's `container_definitions` both hold them).
pub fn extract_containers(defs: &Node, volumes: &[Volume], w: &Workload, facts: &mut Facts) {
    let first_new = facts.containers.len();
    for def in defs.items().iter().filter(|d| d.is_map()) {
        facts.containers.push(container(def, volumes, w));
    }
    share_volumes_from(defs, &mut facts.containers[first_new..]);
}

fn container(def: &Node, volumes: &[Volume], w: &Workload) -> Container {
    // A name or image known only after apply (a variable without value) keeps the
    // container: what is known about it is still judged.
    let name_node = def.get("name");
    let name = match name_node {
        Some(n) if n.is_unknown() => "(unknown)".to_string(),
        _ => name_node
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| "(unnamed)".into()),
    };
    let mut locs = Locs::new();
    let mut unknown = Unknown::new();
    for (key, field) in [
        ("name", "name"),
        ("image", "image"),
        ("privileged", "privileged"),
        ("readonlyRootFilesystem", "read_only_root_filesystem"),
        ("user", "run_as_user"),
    ] {
        if def.get(key).is_some_and(Node::is_unknown) {
            unknown.insert(field, true);
        }
    }
    let add = def.path(&["linuxParameters", "capabilities", "add"]);
    if add.is_some_and(|a| a.is_unknown() || a.items().iter().any(Node::is_unknown)) {
        unknown.insert("capabilities_added", true);
    }

    let user_node = setting(
        &mut locs,
        Some(def),
        "user",
        &["run_as_user", "user_setting"],
    );
    let user = user_node
        .and_then(Node::scalar_text)
        .filter(|u| !u.trim().is_empty());
    let (runs_as_root, run_as_user) = user
        .as_deref()
        .map_or((Tri::Unknown, None), shared::parse_user);
    let run_as_group = user
        .as_deref()
        .and_then(|u| u.split_once(':'))
        .and_then(|(_, g)| g.trim().parse().ok());
    let root_unknown_reason = (runs_as_root == Tri::Unknown).then(|| match user_node {
        Some(n) if n.is_unknown() => "`user` is known only after apply".to_string(),
        Some(_) => "`user` is empty, so the image's USER decides".to_string(),
        None => "no `user` is set, so the image's USER decides".to_string(),
    });

    let privileged =
        setting(&mut locs, Some(def), "privileged", &["privileged"]).and_then(Node::as_bool);
    let read_only_root_filesystem = setting(
        &mut locs,
        Some(def),
        "readonlyRootFilesystem",
        &["read_only_root_filesystem"],
    )
    .and_then(Node::as_bool);
    let linux = def.get("linuxParameters");
    let caps = setting(
        &mut locs,
        linux.and_then(|l| l.get("capabilities")),
        "add",
        &["capabilities_added", "dangerous_capabilities"],
    );
    let capabilities_added = shared::capabilities(caps);
    let no_new_privileges = def
        .get("dockerSecurityOptions")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .any(|o| o.trim() == "no-new-privileges" || o.trim() == "no-new-privileges:true");
    if no_new_privileges {
        setting(
            &mut locs,
            Some(def),
            "dockerSecurityOptions",
            &["allow_privilege_escalation"],
        );
    }
    if let Some(e) = def.entry("image") {
        locs.insert("image", e.key_pos);
    }

    Container {
        resource: w.resource.clone(),
        platform: "ecs",
        dangerous_capabilities: shared::dangerous(&capabilities_added),
        capabilities_added,
        mounts: host_mounts(def, linux, volumes, &name, w),
        build: None,
        built_image: None,
        unknown,
        name,
        container_type: "container",
        image: def.get("image").and_then(Node::scalar_text),
        privileged,
        allow_privilege_escalation: no_new_privileges.then_some(false),
        read_only_root_filesystem,
        user_setting: user.map(|u| format!("user: {u}")),
        root_unknown_reason,
        run_as_user,
        run_as_group,
        run_as_non_root: None,
        runs_as_root,
        host_network: w.host_network,
        host_pid: w.host_pid,
        host_ipc: w.host_ipc,
        rendered_by: Vec::new(),
        file: w.file.clone(),
        loc: def.pos,
        locs,
    }
}

/// A key's value, recording the key's position for the given fact fields.
fn setting<'a>(
    locs: &mut Locs,
    node: Option<&'a Node>,
    key: &str,
    fields: &[&'static str],
) -> Option<&'a Node> {
    let e = node?.entry(key)?;
    for f in fields {
        locs.insert(f, e.key_pos);
    }
    Some(&e.value)
}

/// `mountPoints` joined to the task's host volumes, and `linuxParameters.devices`.
fn host_mounts(
    def: &Node,
    linux: Option<&Node>,
    volumes: &[Volume],
    container: &str,
    w: &Workload,
) -> Vec<HostMount> {
    let mut mounts = Vec::new();
    for m in def.get("mountPoints").map(Node::items).unwrap_or_default() {
        let Some(source) = m.get("sourceVolume").and_then(Node::scalar_text) else {
            continue;
        };
        // The last definition of a name wins, as with a JSON object's duplicate keys.
        let Some((host_path, host_pos)) = volumes
            .iter()
            .rev()
            .find(|v| v.name == source)
            .and_then(|v| v.host_path.clone())
        else {
            continue;
        };
        mounts.push(shared::host_mount(MountSpec {
            resource: &w.resource,
            container,
            volume: source,
            host_path,
            mount_path: m
                .get("containerPath")
                .and_then(Node::scalar_text)
                .unwrap_or_default(),
            read_only: m.get("readOnly").and_then(Node::as_bool).unwrap_or(false),
            file: &w.file,
            host_pos,
            mount_pos: m.entry("containerPath").map(|e| e.key_pos),
        }));
    }
    // A device mapping exposes a host device node, which is a host path like any other.
    for d in linux
        .and_then(|l| l.get("devices"))
        .map(Node::items)
        .unwrap_or_default()
    {
        let Some(path_node) = d.get("hostPath") else {
            continue;
        };
        let Some(host_path) = path_node.scalar_text() else {
            continue;
        };
        // No permissions means read, write and mknod.
        let permissions = d.get("permissions").map(Node::items).unwrap_or_default();
        let read_only =
            !permissions.is_empty() && permissions.iter().all(|p| p.as_str() == Some("read"));
        mounts.push(shared::host_mount(MountSpec {
            resource: &w.resource,
            container,
            volume: "device".into(),
            mount_path: d
                .get("containerPath")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| host_path.clone()),
            host_path,
            read_only,
            file: &w.file,
            host_pos: path_node.pos,
            mount_pos: d.entry("containerPath").map(|e| e.key_pos),
        }));
    }
    mounts
}

/// `volumesFrom` gives a container every mount of its source container: a socket
/// mounted into a sidecar reaches the container that borrows the sidecar's volumes.
fn share_volumes_from(defs: &Node, containers: &mut [Container]) {
    let defs: Vec<&Node> = defs.items().iter().filter(|d| d.is_map()).collect();
    let mut borrows = Vec::new();
    for (borrower, def) in defs.iter().enumerate() {
        for from in def.get("volumesFrom").map(Node::items).unwrap_or_default() {
            let source = from.get("sourceContainer").and_then(Node::as_str);
            if let Some(lender) = containers
                .iter()
                .position(|c| Some(c.name.as_str()) == source)
            {
                borrows.push(shared::Borrow {
                    borrower,
                    lender,
                    read_only: from.get("readOnly").and_then(Node::as_bool) == Some(true),
                    pos: def.entry("volumesFrom").map_or(from.pos, |e| e.key_pos),
                });
            }
        }
    }
    shared::borrow_mounts(containers, &borrows);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    fn facts(text: &str) -> Facts {
        let mut facts = Facts::default();
        assert!(extract(
            &json::parse(text).unwrap(),
            "task.json",
            &mut facts
        ));
        facts
    }

    const TASK: &str = r#"{
  "family": "ingest",
  "networkMode": "host",
  "pidMode": "host",
  "ipcMode": "task",
  "taskRoleArn": "arn:aws:iam::111122223333:role/ingest-task",
  "executionRoleArn": "arn:aws:iam::111122223333:role/ecsTaskExecutionRole",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "example/app:1.2",
      "user": "root",
      "privileged": true,
      "readonlyRootFilesystem": false,
      "linuxParameters": {
        "capabilities": {"add": ["SYS_ADMIN", "NET_BIND_SERVICE"]},
        "devices": [{"hostPath": "/dev/fuse", "permissions": ["read", "write"]}]
      },
      "mountPoints": [
        {"sourceVolume": "docker", "containerPath": "/var/run/docker.sock"},
        {"sourceVolume": "scratch", "containerPath": "/tmp"}
      ]
    },
    {
      "name": "sidecar",
      "image": "example/sidecar",
      "user": "1000:1000",
      "readonlyRootFilesystem": true,
      "dockerSecurityOptions": ["no-new-privileges"],
      "volumesFrom": [{"sourceContainer": "app", "readOnly": true}]
    },
    {"name": "nobody-set", "image": "example/tool"}
  ],
  "volumes": [
    {"name": "docker", "host": {"sourcePath": "/var/run/docker.sock"}},
    {"name": "scratch", "host": {}},
    {"name": "logs", "dockerVolumeConfiguration": {"driver": "local", "driverOpts": {"type": "none", "o": "bind", "device": "/var/log"}}},
    {"name": "unused", "host": {"sourcePath": "/etc"}}
  ]
}"#;

    #[test]
    fn task_settings_become_workload_facts() {
        let f = facts(TASK);
        let w = &f.workloads[0];
        assert_eq!(w.resource, "ECS task definition ingest");
        assert_eq!(w.platform, "ecs");
        assert!(w.host_network && w.host_pid && !w.host_ipc);
        assert_eq!(w.network_mode.as_deref(), Some("host"));
        assert_eq!(w.locs["host_network"].line, 3);
        assert_eq!(w.locs["host_pid"].line, 4);
        assert!(w
            .task_role
            .as_deref()
            .unwrap()
            .ends_with("role/ingest-task"));
        assert!(w.execution_role.is_some());
    }

    #[test]
    fn users_decide_root() {
        let f = facts(TASK);
        let [app, sidecar, unset] = &f.containers[..] else {
            panic!("three containers")
        };
        assert_eq!(app.runs_as_root, Tri::Yes);
        assert_eq!(app.user_setting.as_deref(), Some("user: root"));
        assert_eq!(app.locs["run_as_user"].line, 12);
        assert_eq!(
            (
                sidecar.runs_as_root,
                sidecar.run_as_user,
                sidecar.run_as_group
            ),
            (Tri::No, Some(1000), Some(1000))
        );
        assert_eq!(unset.runs_as_root, Tri::Unknown);
        assert!(unset
            .root_unknown_reason
            .as_deref()
            .unwrap()
            .contains("user"));
    }

    #[test]
    fn container_settings() {
        let f = facts(TASK);
        let app = &f.containers[0];
        assert_eq!(app.privileged, Some(true));
        assert_eq!(app.read_only_root_filesystem, Some(false));
        assert_eq!(app.dangerous_capabilities, ["SYS_ADMIN"]);
        assert_eq!(app.locs["capabilities_added"].line, 16);
        assert!(app.host_network && app.host_pid);
        let sidecar = &f.containers[1];
        assert_eq!(sidecar.allow_privilege_escalation, Some(false));
        assert_eq!(sidecar.read_only_root_filesystem, Some(true));
    }

    #[test]
    fn mount_points_join_host_volumes_and_devices() {
        let f = facts(TASK);
        let app = &f.containers[0];
        let paths: Vec<_> = app.mounts.iter().map(|m| m.host_path.as_str()).collect();
        assert_eq!(paths, ["/var/run/docker.sock", "/dev/fuse"]);
        assert!(app.mounts[0].runtime_socket && app.mounts[0].socket_file);
        assert_eq!(app.mounts[0].loc.line, 35, "points at sourcePath");
        // A device is judged by what it is: /dev/fuse is not the host's disk or memory.
        assert!(!app.mounts[1].sensitive && !app.mounts[1].read_only);
    }

    #[test]
    fn volumes_from_borrows_the_source_containers_mounts() {
        let f = facts(TASK);
        let sidecar = &f.containers[1];
        assert_eq!(sidecar.mounts.len(), 2);
        assert_eq!(sidecar.mounts[0].container, "sidecar");
        assert!(sidecar.mounts.iter().all(|m| m.read_only));
    }

    #[test]
    fn local_docker_volume_with_bind_is_a_host_path() {
        let f = facts(
            r#"{"family": "f", "containerDefinitions": [{"name": "a", "image": "i",
                "mountPoints": [{"sourceVolume": "logs", "containerPath": "/logs"},
                                {"sourceVolume": "efs", "containerPath": "/data"}]}],
              "volumes": [
                {"name": "logs", "dockerVolumeConfiguration": {"driver": "local", "driverOpts": {"o": "bind", "device": "/var/log"}}},
                {"name": "efs", "dockerVolumeConfiguration": {"driver": "rexray/efs", "driverOpts": {"o": "bind", "device": "/etc"}}}
              ]}"#,
        );
        let m = &f.containers[0].mounts;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].host_path, "/var/log");
        assert!(m[0].sensitive);
    }

    #[test]
    fn describe_output_and_bare_container_lists() {
        let f = facts(
            r#"{"taskDefinition": {"family": "web", "revision": 7, "containerDefinitions": [{"name": "a", "image": "i"}]}}"#,
        );
        assert_eq!(f.workloads[0].resource, "ECS task definition web:7");
        let f = facts(r#"[{"name": "a", "image": "i", "essential": true}]"#);
        assert_eq!(f.workloads[0].resource, "ECS container definitions task");
        assert_eq!(f.containers[0].name, "a");
        // A list of named images without an ECS key is not a container-definition list.
        let list = json::parse(r#"[{"name": "a", "image": "i"}]"#).unwrap();
        assert!(!extract(&list, "x.json", &mut Facts::default()));
    }

    #[test]
    fn terraform_attribute_names_are_read_too() {
        let task = json::parse(
            r#"{"family": "f", "network_mode": "host", "pid_mode": "host",
                "task_role_arn": "arn:aws:iam::1:role/r",
                "volume": [{"name": "sock", "host_path": "/run/containerd/containerd.sock"},
                           {"name": "logs", "docker_volume_configuration": [{"driver": "local", "driver_opts": {"o": "bind", "device": "/var/log"}}]}]}"#,
        )
        .unwrap();
        let w = workload(
            &task,
            "aws_ecs_task_definition.f".into(),
            "f".into(),
            "main.tf",
        );
        assert!(w.host_network && w.host_pid);
        assert_eq!(w.task_role.as_deref(), Some("arn:aws:iam::1:role/r"));
        let v = volumes(&task);
        assert_eq!(
            v[0].host_path.as_ref().unwrap().0,
            "/run/containerd/containerd.sock"
        );
        assert_eq!(v[1].host_path.as_ref().unwrap().0, "/var/log");
    }
}
