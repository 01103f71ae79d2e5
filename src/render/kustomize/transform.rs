//! Kustomize's built-in transformers, driven by its own field specifications
//! (`data/kustomize-fieldspecs.yaml`): which fields `commonLabels`, `namespace`,
//! `images`, `replicas` and name references touch, kind by kind.
//!
//! A value a transformer sets takes the position of the kustomization entry that asks
//! for it (the `namespace:` line, the `images:` item), so a finding on it points there.

use super::super::tree;
use super::Res;
use crate::parse::{Node, Pos, Value};
use serde::Deserialize;
use std::sync::OnceLock;

/// Where a transformer writes: a slash-separated path (lists are walked through; `\/`
/// is a slash inside a key) in objects of a group, version and kind.
#[derive(Clone, Debug, Deserialize)]
pub struct FieldSpec {
    /// The path.
    pub path: String,
    /// Create the field (and what holds it) when missing.
    #[serde(default)]
    pub create: bool,
    /// Only objects of this API group.
    #[serde(default)]
    pub group: Option<String>,
    /// Only objects of this API version.
    #[serde(default)]
    pub version: Option<String>,
    /// Only objects of this kind.
    #[serde(default)]
    pub kind: Option<String>,
}

/// A kind whose name other objects refer to, and where.
#[derive(Clone, Debug, Deserialize)]
pub struct NameReference {
    /// The referred kind.
    pub kind: String,
    /// Its group, when it matters.
    #[serde(default)]
    pub group: Option<String>,
    /// Its version, when it matters.
    #[serde(default)]
    pub version: Option<String>,
    /// The fields that hold its name.
    #[serde(rename = "fieldSpecs")]
    pub field_specs: Vec<FieldSpec>,
}

/// Kustomize's default field specifications.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// `commonLabels` and `labels` with `includeSelectors`.
    pub common_labels: Vec<FieldSpec>,
    /// `labels` with `includeTemplates`.
    pub template_labels: Vec<FieldSpec>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<FieldSpec>,
    /// `images`.
    pub images: Vec<FieldSpec>,
    /// `namespace` (besides every namespaced object's `metadata/namespace`).
    pub namespace: Vec<FieldSpec>,
    /// `replicas`.
    pub replicas: Vec<FieldSpec>,
    /// Name references, fixed when a referred object is renamed.
    pub name_reference: Vec<NameReference>,
}

/// The embedded configuration.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        serde_saphyr::from_str(include_str!("../../../data/kustomize-fieldspecs.yaml"))
            .expect("embedded Kustomize field specifications are valid")
    })
}

/// Kinds that are not namespaced (the namespace transformer leaves them alone).
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "APIService",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "FlowSchema",
    "CSIDriver",
    "CSINode",
    "RuntimeClass",
    "PodSecurityPolicy",
    "IngressClass",
    "VolumeAttachment",
    "VolumeSnapshotClass",
    "CertificateSigningRequest",
    "ComponentStatus",
    "TokenReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
    "StorageVersion",
    "GlobalNetworkPolicy",
    "GlobalNetworkSet",
    "CiliumClusterwideNetworkPolicy",
    "ClusterIssuer",
];

/// Whether a field spec applies to an object.
fn applies(fs: &FieldSpec, r: &Res) -> bool {
    fs.kind.as_deref().is_none_or(|k| k == r.kind())
        && fs.group.as_deref().is_none_or(|g| g == r.group())
        && fs.version.as_deref().is_none_or(|v| v == r.version())
}

/// A field spec's path as keys (`\/` kept as a slash inside a key; a trailing `[]`
/// dropped: lists are walked through anyway).
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.strip_suffix("[]").map(str::to_string).unwrap_or(s))
        .collect()
}

/// Calls `f` on every node at `path` under `node` (through lists), creating the path
/// when `create` (maps on the way, and the last field as an empty map when `leaf_map`,
/// else as null for `f` to fill).
fn visit(node: &mut Node, path: &[String], create: bool, at: Pos, f: &mut dyn FnMut(&mut Node)) {
    if let Value::Seq(items) = &mut node.value {
        for i in items {
            visit(i, path, create, at, f);
        }
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        f(node);
        return;
    };
    if !node.is_map() {
        return;
    }
    if node.get(first).is_none() || matches!(node.get(first).map(|n| &n.value), Some(Value::Null)) {
        if !create {
            return;
        }
        let fresh = if rest.is_empty() {
            Node::new(at, Value::Null)
        } else {
            Node::new(at, Value::Map(Vec::new()))
        };
        tree::set(node, first, Some(at), fresh);
    }
    if let Some(child) = tree::get_mut(node, first) {
        visit(child, rest, create, at, f);
    }
}

/// Applies `f` at every field spec of `specs` that applies to `r`.
pub fn at_fields(r: &mut Res, specs: &[FieldSpec], at: Pos, f: &mut dyn FnMut(&mut Node)) {
    for fs in specs {
        if applies(fs, r) {
            visit(&mut r.obj, &segments(&fs.path), fs.create, at, f);
        }
    }
}

/// Adds `pairs` (key, value, position of the key in the kustomization) to the map at
/// each field spec.
pub fn add_pairs(r: &mut Res, specs: &[FieldSpec], pairs: &[(String, Node, Pos)], at: Pos) {
    at_fields(r, specs, at, &mut |n| {
        if matches!(n.value, Value::Null) {
            *n = Node::new(at, Value::Map(Vec::new()));
        }
        for (k, v, kpos) in pairs {
            tree::set(n, k, Some(*kpos), v.clone());
        }
    });
}

/// Sets the namespace of a namespaced object (and the fields Kustomize adds to it).
pub fn namespace(r: &mut Res, ns: &Node, key_pos: Pos) {
    if CLUSTER_SCOPED.contains(&r.kind()) {
        // A Namespace object takes the name (Kustomize's `metadata/name` of Namespace).
        if r.kind() == "Namespace" {
            let specs = config().namespace.clone();
            at_fields(r, &specs, key_pos, &mut |n| *n = ns.clone());
            r.renamed();
        }
        return;
    }
    if let Some(meta) = tree::map_mut(&mut r.obj, "metadata", key_pos) {
        tree::set(meta, "namespace", Some(key_pos), ns.clone());
    }
    let specs: Vec<FieldSpec> = config()
        .namespace
        .iter()
        .filter(|f| f.kind.as_deref() != Some("Namespace"))
        .cloned()
        .collect();
    at_fields(r, &specs, key_pos, &mut |n| *n = ns.clone());
    // RoleBinding subjects that name a ServiceAccount in the default namespace (or in
    // none) follow it, as Kustomize's `defaultOnly`.
    if matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding") {
        if let Some(Value::Seq(subjects)) =
            tree::get_mut(&mut r.obj, "subjects").map(|n| &mut n.value)
        {
            for s in subjects {
                let sa = s.get("kind").and_then(Node::as_str) == Some("ServiceAccount");
                let default = s
                    .get("namespace")
                    .and_then(Node::as_str)
                    .is_none_or(|n| n == "default" || n.is_empty());
                if sa && default {
                    tree::set(s, "namespace", Some(key_pos), ns.clone());
                }
            }
        }
    }
    r.renamed();
}

/// Prefixes and suffixes the object's name.
pub fn rename(r: &mut Res, prefix: Option<&(String, Pos)>, suffix: Option<&(String, Pos)>) {
    // Kustomize leaves the names of CRDs alone (they must match their group).
    if r.kind() == "CustomResourceDefinition" || r.kind() == "Namespace" {
        return;
    }
    let Some(meta) = tree::get_mut(&mut r.obj, "metadata") else {
        return;
    };
    let Some(name) = meta.get("name").and_then(Node::scalar_text) else {
        return;
    };
    let pos = suffix.or(prefix).map(|(_, p)| *p).unwrap_or_default();
    let new = format!(
        "{}{name}{}",
        prefix.map_or("", |(p, _)| p.as_str()),
        suffix.map_or("", |(s, _)| s.as_str())
    );
    let key_pos = meta.entry("name").map(|e| e.key_pos);
    tree::set(meta, "name", key_pos, tree::string(pos, &new));
    r.renamed();
}

/// An `images` entry: the image name it matches, and what it sets.
pub struct ImageRule {
    /// The image name matched (`nginx`, `ghcr.io/org/app`).
    pub name: String,
    /// `newName`.
    pub new_name: Option<String>,
    /// `newTag`.
    pub new_tag: Option<String>,
    /// `digest`.
    pub digest: Option<String>,
    /// `tagSuffix`.
    pub tag_suffix: Option<String>,
    /// Where the entry is written.
    pub pos: Pos,
}

/// Sets container images as an `images` entry says: every `containers` and
/// `initContainers` list anywhere in the object (not in CRDs), then the field specs.
pub fn images(r: &mut Res, rule: &ImageRule) {
    if r.kind() == "CustomResourceDefinition" {
        return;
    }
    let pattern = regex::Regex::new(&format!(
        "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$",
        rule.name
    ))
    .ok();
    let Some(pattern) = pattern else { return };
    let mut set = |n: &mut Node| {
        let Some(value) = n.as_str() else { return };
        if !pattern.is_match(value) {
            return;
        }
        let (mut name, mut tag, mut digest) = split_image(value);
        if let Some(new) = &rule.new_name {
            name = new.clone();
        }
        match (&rule.new_tag, &rule.digest, &rule.tag_suffix) {
            (Some(t), Some(d), _) => {
                tag = t.clone();
                digest = d.clone();
            }
            (Some(t), None, _) => {
                tag = t.clone();
                digest.clear();
            }
            (None, Some(d), _) => {
                tag.clear();
                digest = d.clone();
            }
            (None, None, Some(s)) => {
                tag.push_str(s);
                digest.clear();
            }
            _ => {}
        }
        let mut out = name;
        if !tag.is_empty() {
            out = format!("{out}:{tag}");
        }
        if !digest.is_empty() {
            out = format!("{out}@{digest}");
        }
        *n = tree::string(rule.pos, &out);
    };
    containers_images(&mut r.obj, &mut set);
    // Kustomize sets images where they are; it creates none.
    let specs: Vec<FieldSpec> = config()
        .images
        .iter()
        .map(|f| FieldSpec {
            create: false,
            ..f.clone()
        })
        .collect();
    at_fields(r, &specs, rule.pos, &mut |n| {
        if n.as_str().is_some() {
            set(n)
        }
    });
}

/// Calls `f` on the `image` of every item of every `containers` and `initContainers`
/// list in the tree.
fn containers_images(node: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                containers_images(&mut e.value, f);
                if e.key == "containers" || e.key == "initContainers" {
                    if let Value::Seq(items) = &mut e.value.value {
                        for c in items {
                            if let Some(img) = tree::get_mut(c, "image") {
                                f(img);
                            }
                        }
                    }
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| containers_images(i, f)),
        _ => {}
    }
}

/// An image reference as name, tag and digest (Kustomize's `image.Split`).
fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|i| i + slash);
    let colon = search.find(':').map(|i| i + slash);
    match (colon, at) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (c, Some(d)) if c.is_none_or(|c| d < c) => (
            image[..d].to_string(),
            String::new(),
            image[d + 1..].to_string(),
        ),
        (Some(c), Some(d)) => (
            image[..c].to_string(),
            image[c + 1..d].to_string(),
            image[d + 1..].to_string(),
        ),
        (Some(c), None) => (
            image[..c].to_string(),
            image[c + 1..].to_string(),
            String::new(),
        ),
        (None, Some(_)) => unreachable!("handled above"),
    }
}

/// Sets `spec.replicas` (for the kinds Kustomize knows) to `count`.
pub fn replicas(r: &mut Res, count: &Node) {
    let specs = config().replicas.clone();
    at_fields(r, &specs, count.pos, &mut |n| *n = count.clone());
}

/// A renamed object: kind, `group/version`, the names it had, its current name, the
/// namespaces it had.
type Renamed = (String, String, Vec<String>, String, Vec<Option<String>>);

/// Fixes the names other objects use to refer to renamed objects (a ServiceAccount in a
/// pod spec, a ConfigMap in a volume), as Kustomize does once everything is built.
pub fn fix_references(all: &mut [Res]) {
    let cfg = config();
    // Renamed objects: (kind, group/version, old names, current name, namespaces old and
    // new).
    let renamed: Vec<Renamed> = all
        .iter()
        .filter(|r| r.ids.len() > 1)
        .map(|r| {
            (
                r.kind().to_string(),
                format!("{}/{}", r.group(), r.version()),
                r.ids.iter().map(|(_, n)| n.clone()).collect(),
                r.name().unwrap_or_default(),
                r.ids.iter().map(|(ns, _)| ns.clone()).collect(),
            )
        })
        .collect();
    if renamed.is_empty() {
        return;
    }
    for r in all.iter_mut() {
        let referrer_ns = r.namespace();
        let referrer_old_ns = r.ids.first().and_then(|(ns, _)| ns.clone());
        let cluster = CLUSTER_SCOPED.contains(&r.kind());
        for nr in &cfg.name_reference {
            let candidates: Vec<&Renamed> = renamed
                .iter()
                .filter(|(k, gv, ..)| {
                    let (g, v) = gv.split_once('/').unwrap_or_default();
                    *k == nr.kind
                        && nr
                            .group
                            .as_deref()
                            .is_none_or(|want| want == g || want.starts_with(&format!("{g}/")))
                        && nr.version.as_deref().is_none_or(|want| want == v)
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let referral_cluster = CLUSTER_SCOPED.contains(&nr.kind.as_str());
            let pick = |old: &str, ns: Option<&str>| -> Option<(String, Option<String>)> {
                let fits: Vec<_> = candidates
                    .iter()
                    .filter(|(_, _, olds, ..)| olds.iter().any(|o| o == old))
                    .filter(|(.., nss)| {
                        referral_cluster
                            || (cluster && ns.is_none())
                            || nss.iter().any(|n| n.as_deref() == ns)
                            || nss.iter().any(|n| n.as_deref() == referrer_ns.as_deref())
                            || nss
                                .iter()
                                .any(|n| n.as_deref() == referrer_old_ns.as_deref())
                    })
                    .collect();
                let (_, _, _, current, nss) = fits.first()?;
                Some((current.clone(), nss.last().cloned().flatten()))
            };
            for fs in &nr.field_specs {
                if !applies(fs, r) {
                    continue;
                }
                let segs = segments(&fs.path);
                let ns_hint = referrer_ns.clone();
                visit(
                    &mut r.obj,
                    &segs,
                    false,
                    Pos::default(),
                    &mut |n| match &mut n.value {
                        Value::Str(s) => {
                            if let Some((new, _)) = pick(s, ns_hint.as_deref()) {
                                *s = new;
                            }
                        }
                        Value::Seq(items) => {
                            for i in items {
                                if let Value::Str(s) = &mut i.value {
                                    if let Some((new, _)) = pick(s, ns_hint.as_deref()) {
                                        *s = new;
                                    }
                                }
                            }
                        }
                        // `subjects` items and webhook services: `{kind?, name, namespace}`.
                        Value::Map(_) => {
                            if n.get("kind")
                                .and_then(Node::as_str)
                                .is_some_and(|k| k != nr.kind)
                            {
                                return;
                            }
                            let Some(old) = n.get("name").and_then(Node::scalar_text) else {
                                return;
                            };
                            let ns = n
                                .get("namespace")
                                .and_then(Node::scalar_text)
                                .or(ns_hint.clone());
                            if let Some((new, new_ns)) = pick(&old, ns.as_deref()) {
                                if let Some(name) = tree::get_mut(n, "name") {
                                    name.value = Value::Str(new);
                                }
                                if let (Some(new_ns), Some(v)) =
                                    (new_ns, tree::get_mut(n, "namespace"))
                                {
                                    v.value = Value::Str(new_ns);
                                }
                            }
                        }
                        _ => {}
                    },
                );
            }
        }
    }
}
