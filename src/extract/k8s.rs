//! Kubernetes manifests → workload and container facts.
//!
//! Knows where each kind keeps its pod spec, that pod-level `securityContext`
//! user settings are inherited by every container unless the container overrides
//! them (and that `privileged`, `allowPrivilegeEscalation`, `readOnlyRootFilesystem`
//! and capabilities exist only on containers), and that a hostPath volume is only
//! exposed through a container's `volumeMounts`.

use super::container::{self as shared, MountSpec};
use crate::facts::{
    Container, Facts, HostMount, IgnoreAnnotation, Locs, NodeSelectorTerm, SelectorTerm, Tri,
    Unknown, Workload,
};
use crate::parse::Node;

/// The annotation that suppresses findings on a workload: `"BRK401,BRK302=reason"`.
pub const IGNORE_ANNOTATION: &str = "breakout.dev/ignore";

/// Whether a document is a Kubernetes object (has string `apiVersion` and `kind`).
pub fn is_object(doc: &Node) -> bool {
    doc.get("apiVersion").and_then(Node::as_str).is_some()
        && doc.get("kind").and_then(Node::as_str).is_some()
}

/// Extracts facts from one document. Objects of kinds without a pod spec, CRDs and
/// anything else yield nothing.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) {
    let Some(kind) = doc.get("kind").and_then(Node::as_str) else {
        return;
    };
    if kind == "List" || kind.ends_with("List") {
        for item in doc.get("items").map(Node::items).unwrap_or_default() {
            extract(item, file, facts);
        }
        return;
    }
    if matches!(
        kind,
        "NetworkPolicy"
            | "GlobalNetworkPolicy"
            | "CiliumNetworkPolicy"
            | "CiliumClusterwideNetworkPolicy"
    ) {
        super::network_policy::extract(doc, file, facts);
        return;
    }
    if kind == "ServiceAccount" {
        service_account(doc, file, facts);
        return;
    }
    let Some(template) = pod_template(doc, kind) else {
        return;
    };
    let Some(spec) = template.get("spec").filter(|s| s.is_map()) else {
        return;
    };
    let (name, namespace) = name_and_namespace(doc);
    let resource = match &namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    };
    let labels = template
        .path(&["metadata", "labels"])
        .map(|l| {
            l.entries()
                .iter()
                .filter_map(|e| Some((e.key.clone(), e.value.scalar_text()?)))
                .collect()
        })
        .unwrap_or_default();

    let mut locs = Locs::new();
    let mut unknown = Unknown::new();
    let mut flag = |key: &'static str, field: &'static str| -> bool {
        match spec.entry(key) {
            Some(e) if e.value.as_bool() == Some(true) => {
                locs.insert(field, e.key_pos);
                true
            }
            Some(e) if e.value.is_unknown() => {
                locs.insert(field, e.key_pos);
                unknown.insert(field, true);
                false
            }
            _ => false,
        }
    };
    let host_network = flag("hostNetwork", "host_network");
    let host_pid = flag("hostPID", "host_pid");
    let host_ipc = flag("hostIPC", "host_ipc");
    let workload = Workload {
        resource,
        platform: "kubernetes",
        kind: kind.to_string(),
        name,
        namespace,
        service_account: ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|k| spec.get(k).and_then(Node::scalar_text)),
        labels,
        host_network,
        host_pid,
        host_ipc,
        network_mode: None,
        task_role: None,
        execution_role: None,
        unknown,
        imds_egress: Tri::Unknown,
        imds_egress_reason: String::new(),
        imds_egress_v6: Tri::Unknown,
        imds_egress_v6_reason: String::new(),
        node_selector: spec
            .get("nodeSelector")
            .map(|n| {
                n.entries()
                    .iter()
                    .filter_map(|e| Some((e.key.clone(), e.value.scalar_text()?)))
                    .collect()
            })
            .unwrap_or_default(),
        node_affinity: node_affinity(spec),
        tolerations: tolerations(spec),
        task_role_refs: Vec::new(),
        launch_types: Vec::new(),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: doc.pos,
        locs,
    };

    // `breakout.dev/ignore` on the object and on its pod template (one object may be
    // its own template: a Pod).
    let mut annotated: Vec<&Node> = vec![doc];
    if !std::ptr::eq(template, doc) {
        annotated.push(template);
    }
    for node in annotated {
        if let Some(v) = node.path(&["metadata", "annotations", IGNORE_ANNOTATION]) {
            facts.ignore_annotations.push(IgnoreAnnotation {
                resource: workload.resource.clone(),
                value: v.scalar_text().unwrap_or_default(),
                file: file.to_string(),
                loc: v.pos,
            });
        }
    }

    let pod_sc = spec.get("securityContext");
    for (key, container_type) in [
        ("initContainers", "initContainer"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeralContainer"),
    ] {
        for c in spec.get(key).map(Node::items).unwrap_or_default() {
            if c.is_map() {
                let container = container_facts(c, container_type, spec, pod_sc, &workload);
                facts.containers.push(container);
            }
        }
    }
    facts.workloads.push(workload);
}

/// A ServiceAccount and the IAM role its `eks.amazonaws.com/role-arn` annotation names.
fn service_account(doc: &Node, file: &str, facts: &mut Facts) {
    let meta = doc.get("metadata");
    let (name, namespace) = name_and_namespace(doc);
    let annotation = meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.entry("eks.amazonaws.com/role-arn"));
    let mut locs = Locs::new();
    if let Some(e) = annotation {
        locs.insert("role_arn", e.key_pos);
    }
    facts.service_accounts.push(crate::facts::ServiceAccount {
        resource: match &namespace {
            Some(ns) => format!("ServiceAccount {ns}/{name}"),
            None => format!("ServiceAccount {name}"),
        },
        name,
        namespace,
        role_arn: annotation
            .filter(|e| !e.value.is_unknown())
            .and_then(|e| e.value.scalar_text())
            .filter(|s| !s.is_empty()),
        role_refs: Vec::new(),
        rendered_by: Vec::new(),
        file: file.to_string(),
        loc: doc.pos,
        locs,
    });
}

/// `metadata.name` (`(unnamed)` when missing) and `metadata.namespace` of an object.
pub(crate) fn name_and_namespace(doc: &Node) -> (String, Option<String>) {
    let meta = doc.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "(unnamed)".into());
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Node::scalar_text);
    (name, namespace)
}

/// The `matchExpressions` of a label or node selector (`key`, `operator`, `values`).
pub(crate) fn match_expressions(selector: &Node) -> Vec<SelectorTerm> {
    selector
        .get("matchExpressions")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|x| {
            Some(SelectorTerm {
                key: x.get("key")?.scalar_text()?,
                operator: x.get("operator")?.scalar_text()?,
                values: x
                    .get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::scalar_text)
                    .collect(),
            })
        })
        .collect()
}

/// The required node-affinity terms of a pod spec.
fn node_affinity(spec: &Node) -> Vec<NodeSelectorTerm> {
    spec.path(&[
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    ])
    .map(Node::items)
    .unwrap_or_default()
    .iter()
    .map(|t| NodeSelectorTerm {
        match_expressions: match_expressions(t),
        match_fields: t.get("matchFields").is_some_and(|f| !f.items().is_empty()),
    })
    .collect()
}

/// A pod spec's tolerations as `key=value:effect` (`key:effect` for `Exists`, `*` for
/// a toleration without key and operator `Exists`).
fn tolerations(spec: &Node) -> Vec<String> {
    spec.get("tolerations")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let text = |k: &str| t.get(k).and_then(Node::scalar_text).unwrap_or_default();
            let (key, op, value, effect) =
                (text("key"), text("operator"), text("value"), text("effect"));
            let head = match (key.is_empty(), op == "Exists") {
                (true, true) => "*".to_string(),
                (_, true) => key,
                _ => format!("{key}={value}"),
            };
            if effect.is_empty() {
                head
            } else {
                format!("{head}:{effect}")
            }
        })
        .collect()
}

/// The node that holds `spec` (the pod spec) and `metadata` (pod labels) for a kind.
fn pod_template<'a>(doc: &'a Node, kind: &str) -> Option<&'a Node> {
    let api = doc
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default();
    let core = !api.contains('/')
        || ["apps/", "batch/", "extensions/"]
            .iter()
            .any(|g| api.starts_with(g));
    let knative = api.starts_with("serving.knative.dev/");
    match kind {
        "Pod" if core => Some(doc),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
            if core =>
        {
            doc.path(&["spec", "template"])
        }
        "DeploymentConfig" if core || api.starts_with("apps.openshift.io/") => {
            doc.path(&["spec", "template"])
        }
        "CronJob" if core => doc.path(&["spec", "jobTemplate", "spec", "template"]),
        "PodTemplate" if core => doc.get("template"),
        // Knative: Service and Configuration template a Revision, whose spec is a pod spec.
        "Revision" if knative => Some(doc),
        "Service" | "Configuration" if knative => doc.path(&["spec", "template"]),
        _ if core => None,
        // Other resources that template pods the Deployment way (Argo Rollouts,
        // OpenKruise, …), recognised by shape: a `spec.template.spec.containers` list.
        _ => doc.path(&["spec", "template"]).filter(|t| {
            !t.path(&["spec", "containers"])
                .map_or(&[][..], Node::items)
                .is_empty()
        }),
    }
}

fn container_facts(
    c: &Node,
    container_type: &'static str,
    spec: &Node,
    pod_sc: Option<&Node>,
    w: &Workload,
) -> Container {
    let name = c
        .get("name")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "(unnamed)".into());
    let sc = c.get("securityContext");
    let mut locs = Locs::new();
    let mut unknown = Unknown::new();
    // Settings written with a value breakout cannot resolve (Terraform's kubernetes
    // provider with a variable): unknown, not absent.
    for (key, field, inheritable) in [
        ("privileged", "privileged", false),
        (
            "allowPrivilegeEscalation",
            "allow_privilege_escalation",
            false,
        ),
        ("readOnlyRootFilesystem", "read_only_root_filesystem", false),
        ("runAsUser", "run_as_user", true),
        ("runAsNonRoot", "run_as_non_root", true),
    ] {
        let own = sc.and_then(|s| s.get(key));
        let value = if inheritable {
            own.or_else(|| pod_sc.and_then(|s| s.get(key)))
        } else {
            own
        };
        if value.is_some_and(Node::is_unknown) {
            unknown.insert(field, true);
        }
    }
    let add = sc.and_then(|s| s.path(&["capabilities", "add"]));
    if add.is_some_and(|a| a.is_unknown() || a.items().iter().any(Node::is_unknown)) {
        unknown.insert("capabilities_added", true);
    }

    // A container-only setting: its value and the position of its key.
    let mut own_bool = |key: &str, field: &'static str| -> Option<bool> {
        let e = sc?.entry(key)?;
        locs.insert(field, e.key_pos);
        e.value.as_bool()
    };
    let privileged = own_bool("privileged", "privileged");
    let allow_privilege_escalation =
        own_bool("allowPrivilegeEscalation", "allow_privilege_escalation");
    let read_only_root_filesystem = own_bool("readOnlyRootFilesystem", "read_only_root_filesystem");

    // An inheritable setting: the container's own key wins over the pod's.
    let mut inherited = |key: &str, field: &'static str| -> Option<&Node> {
        let e = sc
            .and_then(|s| s.entry(key))
            .or_else(|| pod_sc.and_then(|s| s.entry(key)))?;
        locs.insert(field, e.key_pos);
        Some(&e.value)
    };
    let run_as_user = inherited("runAsUser", "run_as_user").and_then(int_value);
    let run_as_group = inherited("runAsGroup", "run_as_group").and_then(int_value);
    let run_as_non_root = inherited("runAsNonRoot", "run_as_non_root").and_then(Node::as_bool);
    let runs_as_root = match (run_as_user, run_as_non_root) {
        (Some(0), _) => Tri::Yes,
        (Some(_), _) | (None, Some(true)) => Tri::No,
        _ => Tri::Unknown,
    };

    let caps = sc.and_then(|s| s.path(&["capabilities", "add"]));
    if let Some(e) = sc
        .and_then(|s| s.get("capabilities"))
        .and_then(|c| c.entry("add"))
    {
        locs.insert("capabilities_added", e.key_pos);
        locs.insert("dangerous_capabilities", e.key_pos);
    }
    let capabilities_added = shared::capabilities(caps);
    let dangerous_capabilities = shared::dangerous(&capabilities_added);

    if let Some(e) = c.entry("image") {
        locs.insert("image", e.key_pos);
    }
    // A missing setting points at the securityContext it belongs in, where there is one:
    // the container's, or for inheritable settings the pod's.
    let container_sc = c.entry("securityContext").map(|e| e.key_pos);
    let pod_sc_pos = spec.entry("securityContext").map(|e| e.key_pos);
    for (field, inheritable) in [
        ("privileged", false),
        ("allow_privilege_escalation", false),
        ("read_only_root_filesystem", false),
        ("run_as_non_root", true),
        ("run_as_user", true),
    ] {
        let enclosing = container_sc.or(if inheritable { pod_sc_pos } else { None });
        if let (false, Some(pos)) = (locs.contains_key(field), enclosing) {
            locs.insert(field, pos);
        }
    }
    let user_setting = run_as_user.map(|u| format!("runAsUser: {u}"));
    let root_unknown_reason = (runs_as_root == Tri::Unknown)
        .then(|| "no runAsNonRoot: true and no non-zero runAsUser, so the image decides".into());
    Container {
        resource: w.resource.clone(),
        platform: "kubernetes",
        user_setting,
        root_unknown_reason,
        name: name.clone(),
        container_type,
        image: c.get("image").and_then(Node::scalar_text),
        privileged,
        allow_privilege_escalation,
        read_only_root_filesystem,
        run_as_user,
        run_as_group,
        run_as_non_root,
        runs_as_root,
        capabilities_added,
        dangerous_capabilities,
        host_network: w.host_network,
        host_pid: w.host_pid,
        host_ipc: w.host_ipc,
        mounts: host_mounts(c, spec, &name, w),
        build: None,
        built_image: None,
        unknown,
        rendered_by: Vec::new(),
        file: w.file.clone(),
        loc: c.pos,
        locs,
    }
}

/// The container's volumeMounts joined to the pod's hostPath volumes.
fn host_mounts(c: &Node, spec: &Node, container: &str, w: &Workload) -> Vec<HostMount> {
    let volumes = spec.get("volumes").map(Node::items).unwrap_or_default();
    let mut mounts = Vec::new();
    for m in c.get("volumeMounts").map(Node::items).unwrap_or_default() {
        let Some(volume) = m.get("name").and_then(Node::scalar_text) else {
            continue;
        };
        let Some(host) = volumes
            .iter()
            .rev()
            .find(|v| v.get("name").and_then(Node::scalar_text).as_deref() == Some(&volume))
            .and_then(|v| v.get("hostPath"))
        else {
            continue;
        };
        let Some(path_node) = host.get("path") else {
            continue;
        };
        let Some(mut host_path) = path_node.scalar_text() else {
            continue;
        };
        // A subPath narrows the mount to something below the volume's path.
        if let Some(sub) = m.get("subPath").and_then(Node::scalar_text) {
            if !sub.is_empty() {
                host_path = format!("{}/{}", host_path.trim_end_matches('/'), sub);
            }
        }
        mounts.push(shared::host_mount(MountSpec {
            resource: &w.resource,
            container,
            volume,
            host_path,
            mount_path: m
                .get("mountPath")
                .and_then(Node::scalar_text)
                .unwrap_or_default(),
            read_only: m.get("readOnly").and_then(Node::as_bool).unwrap_or(false),
            file: &w.file,
            host_pos: path_node.pos,
            mount_pos: m.entry("mountPath").map(|e| e.key_pos),
        }));
    }
    mounts
}

/// An integer, also when written as a quoted number.
fn int_value(n: &Node) -> Option<i64> {
    n.as_i64()
        .or_else(|| n.as_str().and_then(|s| s.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml;

    fn facts(text: &str) -> Facts {
        let mut facts = Facts::default();
        for doc in yaml::parse(text).unwrap() {
            if is_object(&doc) {
                extract(&doc, "t.yaml", &mut facts);
            }
        }
        facts
    }

    #[test]
    fn pod_user_settings_are_inherited_unless_the_container_overrides() {
        let f = facts(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 0, runAsNonRoot: false}\n  containers:\n  - name: a\n  - name: b\n    securityContext: {runAsUser: 1000}\n",
        );
        let [a, b] = &f.containers[..] else { panic!() };
        assert_eq!((a.run_as_user, a.runs_as_root), (Some(0), Tri::Yes));
        assert_eq!(a.locs["run_as_user"].line, 5, "points at the pod's key");
        assert_eq!((b.run_as_user, b.runs_as_root), (Some(1000), Tri::No));
        assert_eq!(b.locs["run_as_user"].line, 9);
    }

    #[test]
    fn container_only_settings_are_not_inherited() {
        let f = facts(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {readOnlyRootFilesystem: true, privileged: true, allowPrivilegeEscalation: false}\n  containers:\n  - name: a\n",
        );
        let c = &f.containers[0];
        assert_eq!(c.read_only_root_filesystem, None);
        assert_eq!(c.privileged, None);
        assert_eq!(c.allow_privilege_escalation, None);
        assert_eq!(c.runs_as_root, Tri::Unknown);
    }

    #[test]
    fn every_container_list_is_read() {
        let f = facts(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i}]\n  containers: [{name: c}]\n  ephemeralContainers: [{name: e}]\n",
        );
        let types: Vec<_> = f
            .containers
            .iter()
            .map(|c| (c.name.as_str(), c.container_type))
            .collect();
        assert_eq!(
            types,
            [
                ("i", "initContainer"),
                ("c", "container"),
                ("e", "ephemeralContainer")
            ]
        );
    }

    #[test]
    fn host_paths_count_only_when_mounted_and_subpath_narrows_them() {
        let f = facts(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    volumeMounts:\n    - {name: run, mountPath: /s, subPath: docker.sock, readOnly: true}\n  volumes:\n  - {name: run, hostPath: {path: /var/run}}\n  - {name: unused, hostPath: {path: /etc}}\n",
        );
        let m = &f.containers[0].mounts;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].host_path, "/var/run/docker.sock");
        assert_eq!(m[0].normalized_path, "/run/docker.sock");
        assert!(m[0].runtime_socket && m[0].socket_file && m[0].read_only);
        assert_eq!(m[0].loc.line, 10, "points at the hostPath path");
    }

    #[test]
    fn workload_kinds_lists_and_crds() {
        let f = facts(concat!(
            "apiVersion: v1\nkind: List\nitems:\n",
            "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: x}]}}}}}}\n",
            "- {apiVersion: v1, kind: PodTemplate, metadata: {name: t}, template: {spec: {containers: [{name: x}]}}}\n",
            "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r, namespace: shop}\nspec: {template: {metadata: {labels: {app: r}}, spec: {serviceAccountName: sa, containers: [{name: x}]}}}\n",
            "---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: k}\nspec: {template: {spec: {containers: [{image: x}]}}}\n",
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{name: x}]}}}\n",
            "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
        ));
        let names: Vec<_> = f.workloads.iter().map(|w| w.resource.as_str()).collect();
        assert_eq!(
            names,
            ["CronJob c", "PodTemplate t", "Rollout shop/r", "Service k"]
        );
        let r = &f.workloads[2];
        assert_eq!(r.service_account.as_deref(), Some("sa"));
        assert_eq!(r.labels.get("app").map(String::as_str), Some("r"));
    }

    #[test]
    fn capabilities_are_normalised() {
        let f = facts(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext: {capabilities: {add: [cap_sys_admin, ' net_bind_service']}}\n",
        );
        let c = &f.containers[0];
        assert_eq!(c.capabilities_added, ["SYS_ADMIN", "NET_BIND_SERVICE"]);
        assert_eq!(c.dangerous_capabilities, ["SYS_ADMIN"]);
    }
}
