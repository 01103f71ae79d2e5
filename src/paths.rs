//! The paths stage: escape paths from each workload to the DynamoDB grants its
//! credentials reach, over the linked facts of the whole scan. Runs after linking and
//! before evaluation; each path becomes an [`EscapePath`] fact on the workload's own
//! facts, which BRK901 selects.
//!
//! Three kinds of door lead from a workload to a role:
//!
//! - (a) `host-breakout`: a container can take the node (a runtime socket, BRK201; a
//!   writable sensitive host path, BRK202; privileged, BRK601; a dangerous capability,
//!   BRK602; the host's PID or IPC namespace, BRK603), and from the node the metadata
//!   service hands out the node's role, unless its endpoint is disabled;
//! - (b) `metadata`: the workload reaches the metadata service (BRK503, or for ECS its
//!   network mode: `host` always, `bridge` and `awsvpc` unless the instance's user
//!   data blocks it) and the node answers it (IMDSv1, BRK501; IMDSv2 with a hop limit
//!   above 1, BRK502; anything from the host network, BRK504);
//! - (c) `own-role`: the workload's own credentials (IRSA, EKS Pod Identity, an ECS
//!   task role).
//!
//! A Kubernetes workload runs on every scanned node group whose labels and taints its
//! `nodeSelector`, required node affinity and tolerations allow, unless a Fargate
//! profile selects it; an ECS task on the container instances of its cluster, unless
//! it runs on Fargate. Where the scan holds several clusters, those defined nearest
//! the workload (folder-wise) are taken. One path per workload and end role, with every door that
//! leads there. A link breakout cannot resolve (a role that is not in the scan, a
//! hop limit known only after apply) makes the path's confidence low, and is
//! followed only when the known part already holds a door of kind (a) or (b).

use crate::extract::terraform::refs::refers_to;
use crate::facts::{
    Container, EcsService, EscapePath, Facts, FargateProfile, PathStep, PodIdentity,
    ServiceAccount, Tri, Workload,
};
use crate::link::nodes::{machines, schedulable, Machine};
use crate::link::roles::{indexed, step, GrantKind, RoleLink, Roles};
use rayon::prelude::*;

/// Builds every escape path of the scan and puts each on its workload's facts.
pub fn paths(all: &mut [Facts]) {
    let found: Vec<(usize, EscapePath)> = {
        let all: &[Facts] = all;
        let roles = Roles::new(all);
        let (kubernetes, ecs) = machines(all, &roles);
        let scan = Scan {
            roles: &roles,
            kubernetes: &kubernetes,
            ecs: &ecs,
            service_accounts: indexed(all, |f| &f.service_accounts),
            pod_identities: indexed(all, |f| &f.pod_identities),
            fargate: all.iter().flat_map(|f| &f.fargate_profiles).collect(),
            services: indexed(all, |f| &f.ecs_services),
        };
        // Workloads are followed in parallel: at ten thousand files this stage was a
        // fortieth of the scan's wall time on one core. The order is the files'.
        all.par_iter()
            .enumerate()
            .flat_map_iter(|(i, f)| {
                let scan = &scan;
                f.workloads.iter().flat_map(move |w| {
                    let containers: Vec<&Container> = f
                        .containers
                        .iter()
                        .filter(|c| c.resource == w.resource && c.file == w.file)
                        .collect();
                    workload_paths(scan, (i, w), &containers)
                        .into_iter()
                        .map(move |p| (i, p))
                })
            })
            .collect()
    };
    for (i, p) in found {
        all[i].escape_paths.push(p);
    }
    for f in all.iter_mut() {
        f.escape_paths.sort_by(|a, b| {
            (&a.file, a.loc, &a.resource, &a.name).cmp(&(&b.file, b.loc, &b.resource, &b.name))
        });
    }
}

/// What every workload's paths are built from.
struct Scan<'a> {
    roles: &'a Roles<'a>,
    kubernetes: &'a [Machine<'a>],
    ecs: &'a [Machine<'a>],
    service_accounts: Vec<(usize, &'a ServiceAccount)>,
    pod_identities: Vec<(usize, &'a PodIdentity)>,
    fargate: Vec<&'a FargateProfile>,
    services: Vec<(usize, &'a EcsService)>,
}

/// A door: its label in the path's one-line form, and its step.
type Door = (String, PathStep);

/// One way from the workload to a role.
struct Part {
    kind: &'static str,
    doors: Vec<Door>,
    /// The machine or identity it goes through, for the one-line form.
    via: Option<String>,
    /// What shows the node answers (a launch template's setting).
    evidence: Vec<PathStep>,
    /// The machine's or identity's steps up to the role.
    steps: Vec<PathStep>,
    role: Option<usize>,
    /// How the role is named, when it is not known.
    role_unknown: Option<String>,
    /// The links that are not known.
    unknown: Vec<String>,
}

/// A host-breakout ingredient of a workload's containers, with its label.
fn breakout_doors(w: &Workload, containers: &[&Container]) -> Vec<Door> {
    let mut doors: Vec<Door> = Vec::new();
    for c in containers {
        for m in &c.mounts {
            let (rule, label, what) = if m.runtime_socket {
                let label = if m.socket_file {
                    m.normalized_path
                        .rsplit('/')
                        .next()
                        .unwrap_or(&m.host_path)
                        .to_string()
                } else {
                    format!("host path {}", m.host_path)
                };
                let exposes = m.exposes.as_deref().unwrap_or("a runtime socket");
                (
                    "BRK201",
                    label,
                    format!("container {} mounts {} ({exposes})", c.name, m.host_path),
                )
            } else if owns_node(m) {
                (
                    "BRK202",
                    format!("host path {}", m.host_path),
                    format!(
                        "container {} mounts {} writable ({})",
                        c.name,
                        m.host_path,
                        m.sensitive_reason.as_deref().unwrap_or("sensitive")
                    ),
                )
            } else {
                continue;
            };
            doors.push((
                format!("{label} ({rule})"),
                step(rule, &w.resource, what, &m.file, m.loc),
            ));
        }
        if c.privileged == Some(true) {
            let at = c.locs.get("privileged").copied().unwrap_or(c.loc);
            doors.push((
                "privileged (BRK601)".into(),
                step(
                    "BRK601",
                    &w.resource,
                    format!("container {} runs privileged", c.name),
                    &c.file,
                    at,
                ),
            ));
        }
        if !c.dangerous_capabilities.is_empty() {
            let at = c
                .locs
                .get("dangerous_capabilities")
                .copied()
                .unwrap_or(c.loc);
            let caps = c.dangerous_capabilities.join("+");
            doors.push((
                format!("{caps} (BRK602)"),
                step(
                    "BRK602",
                    &w.resource,
                    format!("container {} adds {caps}", c.name),
                    &c.file,
                    at,
                ),
            ));
        }
    }
    for (on, field, label) in [
        (w.host_pid, "host_pid", "hostPID"),
        (w.host_ipc, "host_ipc", "hostIPC"),
    ] {
        if on {
            let at = w.locs.get(field).copied().unwrap_or(w.loc);
            doors.push((
                format!("{label} (BRK603)"),
                step(
                    "BRK603",
                    &w.resource,
                    format!("shares the host's {} namespace", &label[4..]),
                    &w.file,
                    at,
                ),
            ));
        }
    }
    // Most direct first: by rule, then where they are.
    doors.sort_by(|a, b| (&a.1.rule, a.1.loc).cmp(&(&b.1.rule, b.1.loc)));
    let mut seen = Vec::new();
    doors.retain(|(label, _)| {
        let new = !seen.contains(label);
        seen.push(label.clone());
        new
    });
    doors
}

/// Whether a sensitive host mount gives the node away: written to, every sensitive
/// location lets a container plant what the host runs as root (a cron entry, a
/// systemd unit, a binary, a kubelet credential), except the log folders, which only
/// let it trick log readers.
fn owns_node(m: &crate::facts::HostMount) -> bool {
    m.sensitive
        && !m.read_only
        && !(m.normalized_path == "/var/log" || m.normalized_path.starts_with("/var/log/"))
}

/// How a workload reaches the metadata service, if it does: the door, and whether
/// it needs the node to answer containers (`pods`) or processes on the host.
enum Reach {
    /// No door, or one breakout cannot see.
    None,
    /// Through the host's network: the node answers if its endpoint is on.
    Host(Door),
    /// From its own network namespace, over IPv4 or IPv6.
    Pods(Door, bool),
    /// It depends on the machine's user data (ECS bridge and awsvpc modes).
    Ecs(&'static str),
}

fn kubernetes_reach(w: &Workload) -> Vec<Reach> {
    if w.host_network {
        let at = w.locs.get("host_network").copied().unwrap_or(w.loc);
        return vec![Reach::Host((
            "host network (BRK504)".into(),
            step(
                "BRK504",
                &w.resource,
                "shares the host network: the node's metadata service answers it".into(),
                &w.file,
                at,
            ),
        ))];
    }
    let mut out = Vec::new();
    if w.imds_egress == Tri::Yes {
        out.push(Reach::Pods(
            (
                "169.254.169.254 (BRK503)".into(),
                step(
                    "BRK503",
                    &w.resource,
                    format!("can reach 169.254.169.254: {}", w.imds_egress_reason),
                    &w.file,
                    w.loc,
                ),
            ),
            false,
        ));
    }
    if w.imds_egress_v6 == Tri::Yes && w.imds_egress != Tri::Yes {
        out.push(Reach::Pods(
            (
                "fd00:ec2::254 (BRK503)".into(),
                step(
                    "BRK503",
                    &w.resource,
                    format!("can reach fd00:ec2::254: {}", w.imds_egress_v6_reason),
                    &w.file,
                    w.loc,
                ),
            ),
            true,
        ));
    }
    out
}

fn ecs_reach(w: &Workload) -> Reach {
    match w.network_mode.as_deref() {
        Some("host") => {
            let at = w.locs.get("host_network").copied().unwrap_or(w.loc);
            Reach::Host((
                "host network (BRK504)".into(),
                step(
                    "BRK504",
                    &w.resource,
                    "network mode host: the instance's metadata service answers it".into(),
                    &w.file,
                    at,
                ),
            ))
        }
        Some("none") => Reach::None,
        Some("awsvpc") => Reach::Ecs("awsvpc"),
        None if w.unknown.contains_key("host_network") => Reach::None,
        // ECS's default on Linux instances.
        _ => Reach::Ecs("bridge"),
    }
}

/// Whether a Fargate profile selects the pod.
fn on_fargate(w: &Workload, profiles: &[&FargateProfile]) -> Option<String> {
    let ns = w.namespace.as_deref().unwrap_or("default");
    profiles
        .iter()
        .find(|p| {
            p.selectors.iter().any(|s| {
                s.namespace
                    .as_deref()
                    .is_some_and(|pattern| crate::extract::iam::wildcard_match(pattern, ns))
                    && s.labels.iter().all(|(k, v)| w.labels.get(k) == Some(v))
            })
        })
        .map(|p| p.resource.clone())
}

/// The ECS services that run a task definition: by Terraform reference in the same
/// configuration, else by family.
fn services_of<'a>(
    (w_at, w): (usize, &Workload),
    services: &[(usize, &'a EcsService)],
) -> Vec<&'a EcsService> {
    services
        .iter()
        .filter(|(s_at, s)| {
            if s.task_definition_refs.is_empty() {
                s.task_definition.as_deref().is_some_and(|t| {
                    let family = t.rsplit('/').next().unwrap_or(t);
                    family.split(':').next() == Some(w.name.as_str())
                })
            } else {
                *s_at == w_at
                    && s.task_definition_refs
                        .iter()
                        .any(|r| refers_to(r, &w.resource))
            }
        })
        .map(|(_, s)| *s)
        .collect()
}

/// Parts through a machine: host breakout and metadata reach.
fn machine_parts(
    w: &Workload,
    m: &Machine,
    breakout: &[Door],
    reach: &[Reach],
    sched: Tri,
    parts: &mut Vec<Part>,
) {
    let mut base_unknown = Vec::new();
    if sched == Tri::Unknown {
        base_unknown.push(format!(
            "whether its pods are scheduled on {} is not known",
            m.display
        ));
    }
    let role = |part: &mut Part| match &m.role {
        RoleLink::Found(v) => v.clone(),
        RoleLink::Unknown(name, why) => {
            part.role_unknown = Some(name.clone());
            part.unknown.push(why.clone());
            Vec::new()
        }
    };
    let mut push = |mut part: Part| {
        let found = role(&mut part);
        if found.is_empty() {
            parts.push(part);
        } else {
            for r in found {
                parts.push(Part {
                    kind: part.kind,
                    doors: part.doors.clone(),
                    via: part.via.clone(),
                    evidence: part.evidence.clone(),
                    steps: part.steps.clone(),
                    role: Some(r),
                    role_unknown: None,
                    unknown: part.unknown.clone(),
                });
            }
        }
    };
    if !breakout.is_empty() && m.answer.host != Tri::No {
        let mut unknown = base_unknown.clone();
        if m.answer.host == Tri::Unknown {
            unknown.push(format!(
                "whether {}'s metadata endpoint is enabled is known only after apply",
                m.display
            ));
        }
        push(Part {
            kind: "host-breakout",
            doors: breakout.to_vec(),
            via: Some(m.display.clone()),
            evidence: Vec::new(),
            steps: m.steps.clone(),
            role: None,
            role_unknown: None,
            unknown,
        });
    }
    for r in reach {
        let (door, answer, label, evidence) = match r {
            Reach::None => continue,
            Reach::Host(d) => (d.clone(), m.answer.host, None, None),
            Reach::Pods(d, v6) => {
                if *v6 && !m.answer.ipv6 {
                    continue;
                }
                let ev = m.answer.evidence.clone();
                (
                    d.clone(),
                    m.answer.pods,
                    ev.as_ref().map(|e| e.1.clone()),
                    ev.map(|e| e.0),
                )
            }
            Reach::Ecs(mode) => {
                let blocked = if *mode == "bridge" {
                    m.bridge_blocked
                } else {
                    m.awsvpc_blocked
                };
                if blocked == Tri::Yes {
                    continue;
                }
                let at = w.locs.get("host_network").copied().unwrap_or(w.loc);
                let door = (
                    format!("169.254.169.254 ({mode} network mode)"),
                    step(
                        "",
                        &w.resource,
                        format!(
                            "network mode {mode}: its containers reach 169.254.169.254 unless the instance blocks it"
                        ),
                        &w.file,
                        at,
                    ),
                );
                let ev = m.answer.evidence.clone();
                let mut answer = m.answer.pods;
                if blocked == Tri::Unknown && answer == Tri::Yes {
                    answer = Tri::Unknown;
                }
                (
                    door,
                    answer,
                    ev.as_ref().map(|e| e.1.clone()),
                    ev.map(|e| e.0),
                )
            }
        };
        if answer == Tri::No {
            continue;
        }
        let mut unknown = base_unknown.clone();
        if answer == Tri::Unknown {
            unknown.push(
                m.answer
                    .unknown
                    .clone()
                    .unwrap_or_else(|| format!("whether {} answers is not known", m.display)),
            );
        }
        let label = match (label, &evidence) {
            (Some(l), Some(e)) if !e.rule.is_empty() => format!("{} + {l} ({})", door.0, e.rule),
            (Some(l), _) => format!("{} + {l}", door.0),
            _ => door.0.clone(),
        };
        push(Part {
            kind: "metadata",
            doors: vec![(label, door.1)],
            via: Some(m.display.clone()),
            evidence: evidence.into_iter().collect(),
            steps: m.steps.clone(),
            role: None,
            role_unknown: None,
            unknown,
        });
    }
}

/// Of several facts (with the element each is in), those nearest element `at`: the
/// longest common folder of where they come from.
fn nearest<'a, T>(roles: &Roles, at: usize, found: Vec<(usize, &'a T)>) -> Vec<(usize, &'a T)> {
    let best = found
        .iter()
        .map(|(i, _)| roles.nearness(at, *i))
        .max()
        .unwrap_or(0);
    found
        .into_iter()
        .filter(|(i, _)| roles.nearness(at, *i) == best)
        .collect()
}

/// The workload's own role: IRSA or Pod Identity for pods, the task role for ECS.
fn own_parts(scan: &Scan, (w_at, w): (usize, &Workload), parts: &mut Vec<Part>) {
    let mut push = |label: String, steps: Vec<PathStep>, link: RoleLink| {
        // An unknown role has no risky step before it: no path.
        if let RoleLink::Found(found) = link {
            for r in found {
                parts.push(Part {
                    kind: "own-role",
                    doors: vec![(label.clone(), steps[0].clone())],
                    via: None,
                    evidence: Vec::new(),
                    steps: steps[1..].to_vec(),
                    role: Some(r),
                    role_unknown: None,
                    unknown: Vec::new(),
                });
            }
        }
    };
    match w.platform {
        "kubernetes" => {
            let ns = w.namespace.as_deref().unwrap_or("default");
            let account = w.service_account.as_deref().unwrap_or("default");
            let uses = step(
                "",
                &w.resource,
                format!("runs as service account {ns}/{account}"),
                &w.file,
                w.loc,
            );
            // The same account in several places (environments): the nearest.
            let accounts = nearest(
                scan.roles,
                w_at,
                scan.service_accounts
                    .iter()
                    .filter(|(_, s)| {
                        s.name == account && s.namespace.as_deref().unwrap_or("default") == ns
                    })
                    .copied()
                    .collect(),
            );
            for (sa_at, sa) in accounts {
                if sa.role_arn.is_none() && sa.role_refs.is_empty() {
                    continue;
                }
                let at = sa.locs.get("role_arn").copied().unwrap_or(sa.loc);
                let sa_step = step(
                    "",
                    &sa.resource,
                    format!(
                        "{} is annotated with role {} (IRSA)",
                        sa.resource,
                        sa.role_arn
                            .as_deref()
                            .or(sa.role_refs.first().map(String::as_str))
                            .unwrap_or_default()
                    ),
                    &sa.file,
                    at,
                );
                push(
                    format!("service account {account} (IRSA)"),
                    vec![uses.clone(), sa_step],
                    scan.roles
                        .resolve(sa.role_arn.as_deref(), &sa.role_refs, sa_at),
                );
            }
            for &(p_at, p) in scan.pod_identities.iter().filter(|(_, p)| {
                p.service_account.as_deref() == Some(account)
                    && p.namespace.as_deref().unwrap_or("default") == ns
            }) {
                let at = p.locs.get("role").copied().unwrap_or(p.loc);
                let p_step = step(
                    "",
                    &p.resource,
                    format!("{} gives {ns}/{account} its role", p.resource),
                    &p.file,
                    at,
                );
                push(
                    format!("service account {account} (Pod Identity)"),
                    vec![uses.clone(), p_step],
                    scan.roles.resolve(p.role.as_deref(), &p.role_refs, p_at),
                );
            }
        }
        "ecs" if w.task_role.is_some() || !w.task_role_refs.is_empty() => {
            let at = w.locs.get("task_role").copied().unwrap_or(w.loc);
            let s = step(
                "",
                &w.resource,
                format!(
                    "its containers get the task role {}",
                    w.task_role
                        .as_deref()
                        .or(w.task_role_refs.first().map(String::as_str))
                        .unwrap_or_default()
                ),
                &w.file,
                at,
            );
            push(
                "task role".into(),
                vec![s],
                scan.roles
                    .resolve(w.task_role.as_deref(), &w.task_role_refs, w_at),
            );
        }
        _ => {}
    }
}

/// The machines nearest the workload: in a repository of several clusters (examples,
/// environments), a manifest runs on the cluster defined nearest it, folder-wise;
/// where they are all equally near (one cluster, or manifests apart from the
/// infrastructure), on all of them.
fn nearest_machines<'a>(
    scan: &Scan,
    at: usize,
    machines: &'a [Machine<'a>],
) -> Vec<&'a Machine<'a>> {
    let best = machines
        .iter()
        .map(|m| scan.roles.nearness(at, m.at))
        .max()
        .unwrap_or(0);
    machines
        .iter()
        .filter(|m| scan.roles.nearness(at, m.at) == best)
        .collect()
}

/// Every path of one workload.
fn workload_paths(
    scan: &Scan,
    (w_at, w): (usize, &Workload),
    containers: &[&Container],
) -> Vec<EscapePath> {
    let mut parts: Vec<Part> = Vec::new();
    let breakout = breakout_doors(w, containers);
    match w.platform {
        "kubernetes" if on_fargate(w, &scan.fargate).is_none() => {
            let reach = kubernetes_reach(w);
            for m in nearest_machines(scan, w_at, scan.kubernetes) {
                let sched = schedulable(w, m);
                if sched != Tri::No {
                    machine_parts(w, m, &breakout, &reach, sched, &mut parts);
                }
            }
        }
        "ecs" => {
            let services = services_of((w_at, w), &scan.services);
            let fargate_service = |s: &EcsService| {
                s.launch_type.as_deref() == Some("FARGATE")
                    || (!s.capacity_providers.is_empty()
                        && s.capacity_providers
                            .iter()
                            .all(|c| c.starts_with("FARGATE")))
            };
            let fargate = if services.is_empty() {
                !w.launch_types.is_empty() && w.launch_types.iter().all(|t| t == "FARGATE")
            } else {
                services.iter().all(|s| fargate_service(s))
            };
            if !fargate {
                let clusters: Vec<String> = services
                    .iter()
                    .filter_map(|s| s.cluster.as_deref())
                    .map(|c| c.rsplit('/').next().unwrap_or(c).to_string())
                    .collect();
                let reach = [ecs_reach(w)];
                for m in nearest_machines(scan, w_at, scan.ecs) {
                    let in_cluster = clusters.is_empty()
                        || m.ecs_cluster.as_ref().is_none_or(|c| clusters.contains(c));
                    if in_cluster {
                        machine_parts(w, m, &breakout, &reach, Tri::Yes, &mut parts);
                    }
                }
            }
        }
        _ => {}
    }
    own_parts(scan, (w_at, w), &mut parts);
    assemble(scan, w, parts)
}

/// Groups the parts by end role and turns each group into a path.
fn assemble(scan: &Scan, w: &Workload, parts: Vec<Part>) -> Vec<EscapePath> {
    // Known roles first (in the roles' order), then unknown ones by name.
    let mut groups: std::collections::BTreeMap<(Option<usize>, Option<&str>), Vec<&Part>> =
        std::collections::BTreeMap::new();
    for p in &parts {
        let key = match p.role {
            Some(r) => (Some(r), None),
            None => (None, Some(p.role_unknown.as_deref().unwrap_or_default())),
        };
        groups.entry(key).or_default().push(p);
    }
    let mut groups: Vec<Vec<&Part>> = groups.into_values().collect();
    // `None` sorts before `Some`: put the unknown roles last.
    groups.sort_by_key(|g| g[0].role.is_none());
    let mut out = Vec::new();
    for group in groups {
        let certain: Vec<&Part> = group
            .iter()
            .copied()
            .filter(|p| p.unknown.is_empty())
            .collect();
        let (group, confidence) = if certain.is_empty() {
            (group, "low")
        } else {
            (certain, "high")
        };
        let role = group[0].role;
        let grant = role.map(|r| &scan.roles.grants[r]);
        let grant_kind = role.map(|r| scan.roles.summaries[r].0);
        // A known role that grants no DynamoDB writes ends no path; one whose policies
        // are not all in the scan does, at low confidence, behind a door of (a) or (b).
        // The workload's own role is a path only when it grants every action or writes
        // on every table: scoped to its tables, it is what least privilege asks for.
        let node_doors = group.iter().any(|p| p.kind != "own-role");
        let group: Vec<&Part> = match grant_kind {
            Some(GrantKind::All | GrantKind::EveryTable) => group,
            _ => group.into_iter().filter(|p| p.kind != "own-role").collect(),
        };
        if group.is_empty() {
            continue;
        }
        let (grant_kind_str, grant_text, mut confidence, mut unknown_reason) =
            match (grant, grant_kind) {
                (Some(_), Some(kind)) if kind != GrantKind::None => (
                    kind.as_str(),
                    scan.roles.summaries[role.unwrap_or_default()].1.clone(),
                    confidence,
                    Vec::new(),
                ),
                (Some(g), _) if !g.unknown.is_empty() && node_doors => (
                    "unknown",
                    "what it grants is not known".to_string(),
                    "low",
                    g.unknown.clone(),
                ),
                (Some(_), _) => continue,
                (None, _) => (
                    "unknown",
                    "what it grants is not known".into(),
                    "low",
                    Vec::new(),
                ),
            };
        let group: Vec<&Part> = if grant_kind_str == "unknown" {
            group.into_iter().filter(|p| p.kind != "own-role").collect()
        } else {
            group
        };
        if group.is_empty() {
            continue;
        }
        for p in &group {
            unknown_reason.extend(p.unknown.iter().cloned());
        }
        unknown_reason.sort();
        unknown_reason.dedup();
        if !unknown_reason.is_empty() {
            confidence = "low";
        }
        let mut kinds: Vec<&'static str> = Vec::new();
        for k in ["host-breakout", "metadata", "own-role"] {
            if group.iter().any(|p| p.kind == k) {
                kinds.push(k);
            }
        }
        let severity = match grant_kind_str {
            "all" | "every-table" if kinds.iter().any(|k| *k != "own-role") => "critical",
            "all" | "every-table" => "high",
            _ => "medium",
        };
        let mut doors: Vec<String> = Vec::new();
        let mut vias: Vec<String> = Vec::new();
        let mut steps: Vec<PathStep> = Vec::new();
        let add_step = |s: &PathStep, steps: &mut Vec<PathStep>| {
            if !steps
                .iter()
                .any(|x| x.file == s.file && x.loc == s.loc && x.what == s.what)
            {
                steps.push(s.clone());
            }
        };
        for p in &group {
            for (label, s) in &p.doors {
                if !doors.contains(label) {
                    doors.push(label.clone());
                }
                add_step(s, &mut steps);
            }
        }
        for p in &group {
            for s in &p.evidence {
                add_step(s, &mut steps);
            }
        }
        for p in &group {
            if let Some(v) = &p.via {
                if !vias.contains(v) {
                    vias.push(v.clone());
                }
            }
            for s in &p.steps {
                add_step(s, &mut steps);
            }
        }
        let role_name = match role {
            Some(r) => scan.roles.name(r),
            None => group[0]
                .role_unknown
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        };
        if let Some(r) = role {
            let rr = scan.roles.roles[r];
            let trusted = if rr.trusted.is_empty() {
                String::new()
            } else {
                format!(" (trusted by {})", rr.trusted.join(", "))
            };
            add_step(
                &crate::link::roles::role_step(rr, format!("role {role_name}{trusted}")),
                &mut steps,
            );
            if let Some(g) = grant {
                for (_, s, _) in g.sources.iter().take(5) {
                    add_step(s, &mut steps);
                }
            }
        }
        let role_text = format!("role {role_name}");
        let mut line = vec![w.resource.clone(), doors.join(", ")];
        if !vias.is_empty() {
            line.push(vias.join(", "));
        }
        line.push(role_text);
        line.push(grant_text.clone());
        let loc = steps
            .iter()
            .find(|s| s.file == w.file)
            .map_or(w.loc, |s| s.loc);
        out.push(EscapePath {
            resource: w.resource.clone(),
            name: match role {
                Some(r) => scan.roles.roles[r].resource.clone(),
                None => role_name.clone(),
            },
            kinds,
            role: role_name,
            grant: grant_text,
            grant_kind: grant_kind_str,
            severity,
            confidence,
            unknown_reason: unknown_reason.join("; "),
            path: line.join(" → "),
            steps,
            file: w.file.clone(),
            loc,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::terraform::{scan_source, Inputs};

    fn terraform(text: &str) -> Facts {
        terraform_in("main.tf", text)
    }

    fn terraform_in(file: &str, text: &str) -> Facts {
        let out = scan_source(file, text, &Inputs::default());
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out.facts
    }

    fn manifests(text: &str) -> Facts {
        let mut facts = Facts::default();
        for doc in crate::parse::yaml::parse(text).unwrap() {
            crate::extract::document(&doc, "k8s.yaml", &mut facts);
        }
        facts
    }

    /// Links and builds the paths; returns every path of the scan, in order.
    fn run(mut all: Vec<Facts>) -> Vec<EscapePath> {
        crate::link::link(&mut all);
        paths(&mut all);
        all.into_iter().flat_map(|f| f.escape_paths).collect()
    }

    const NODES: &str = r#"
resource "aws_launch_template" "lt" {
  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
}
resource "aws_iam_role" "node" {
  name = "eks-node"
}
resource "aws_iam_role_policy_attachment" "full" {
  role       = aws_iam_role.node.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
}
resource "aws_eks_node_group" "default" {
  cluster_name    = "c"
  node_group_name = "default"
  node_role_arn   = aws_iam_role.node.arn
  labels          = { pool = "general" }
  launch_template {
    id = aws_launch_template.lt.id
  }
}
"#;

    const SOCKET: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: image-builder, namespace: ci}\nspec:\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers:\n        - name: builder\n          image: docker\n          volumeMounts: [{name: s, mountPath: /var/run/docker.sock}]\n      volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]\n";

    const DENY_IMDS: &str = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: fence, namespace: ci}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]\n";

    #[test]
    fn a_breakout_onto_a_node_group_ends_in_its_role_critical() {
        let paths = run(vec![
            terraform(NODES),
            manifests(&format!("{SOCKET}{DENY_IMDS}")),
        ]);
        assert_eq!(paths.len(), 1);
        let p = &paths[0];
        assert_eq!(
            p.path,
            "Deployment ci/image-builder → docker.sock (BRK201) → node group c/default → role eks-node → AmazonDynamoDBFullAccess: every DynamoDB action on every table"
        );
        assert_eq!(
            (p.severity, p.confidence, p.grant_kind),
            ("critical", "high", "all")
        );
        assert_eq!(p.kinds, ["host-breakout"]);
        let rules: Vec<&str> = p.steps.iter().map(|s| s.rule.as_str()).collect();
        assert_eq!(rules, ["BRK201", "", "", "", "BRK103"]);
        assert_eq!(p.steps[0].file, "k8s.yaml");
        assert_eq!(p.steps[4].file, "main.tf");
        assert_eq!(p.loc, p.steps[0].loc, "the finding points at the door");
    }

    #[test]
    fn metadata_reach_needs_a_node_that_answers_pods() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  containers: [{name: a, image: x}]\n";
        let paths = run(vec![terraform(NODES), manifests(pod)]);
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].kinds, ["metadata"]);
        assert!(
            paths[0]
                .path
                .contains("169.254.169.254 (BRK503) + hop limit 2 (BRK502)"),
            "{}",
            paths[0].path
        );
        // A hop limit of 1 with tokens required: the node does not answer pods.
        let hop1 = NODES.replace(
            "http_put_response_hop_limit = 2",
            "http_put_response_hop_limit = 1",
        );
        assert!(run(vec![terraform(&hop1), manifests(pod)]).is_empty());
        // A host-network pod is answered whatever the hop limit.
        let host = pod.replace("spec:\n", "spec:\n  hostNetwork: true\n");
        let paths = run(vec![terraform(&hop1), manifests(&host)]);
        assert_eq!(paths.len(), 1);
        assert!(paths[0].path.contains("host network (BRK504)"));
    }

    #[test]
    fn node_groups_a_pod_cannot_run_on_are_not_followed() {
        let pinned = SOCKET.replace(
            "    spec:\n      containers:",
            "    spec:\n      nodeSelector: {pool: gpu}\n      containers:",
        );
        assert!(run(vec![
            terraform(NODES),
            manifests(&format!("{pinned}{DENY_IMDS}"))
        ])
        .is_empty());
        let matching = SOCKET.replace(
            "    spec:\n      containers:",
            "    spec:\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: pool, operator: In, values: [gpu]}]\n              - matchExpressions: [{key: eks.amazonaws.com/nodegroup, operator: In, values: [default]}, {key: kubernetes.io/os, operator: In, values: [linux]}]\n      containers:",
        );
        assert_eq!(
            run(vec![
                terraform(NODES),
                manifests(&format!("{matching}{DENY_IMDS}"))
            ])
            .len(),
            1
        );
        // A taint keeps pods off unless they tolerate it.
        let tainted = NODES.replace(
            "labels          = { pool = \"general\" }",
            "labels          = { pool = \"general\" }\n  taint {\n    key    = \"dedicated\"\n    value  = \"ci\"\n    effect = \"NO_SCHEDULE\"\n  }",
        );
        assert!(run(vec![
            terraform(&tainted),
            manifests(&format!("{SOCKET}{DENY_IMDS}"))
        ])
        .is_empty());
        let tolerating = SOCKET.replace(
            "    spec:\n      containers:",
            "    spec:\n      tolerations: [{key: dedicated, operator: Exists}]\n      containers:",
        );
        assert_eq!(
            run(vec![
                terraform(&tainted),
                manifests(&format!("{tolerating}{DENY_IMDS}"))
            ])
            .len(),
            1
        );
        // Fargate pods have no node.
        let fargate = format!(
            "{NODES}\nresource \"aws_eks_fargate_profile\" \"ci\" {{\n  cluster_name = \"c\"\n  selector {{\n    namespace = \"c?\"\n  }}\n}}\n"
        );
        assert!(run(vec![
            terraform(&fargate),
            manifests(&format!("{SOCKET}{DENY_IMDS}"))
        ])
        .is_empty());
    }

    #[test]
    fn deny_statements_of_any_attached_policy_take_back_actions() {
        let guarded = format!(
            "{NODES}\nresource \"aws_iam_policy\" \"guard\" {{\n  name   = \"guard\"\n  policy = jsonencode({{ Statement = [{{ Effect = \"Deny\", Action = [\"dynamodb:DeleteTable\", \"dynamodb:DeleteItem\"], Resource = \"*\" }}] }})\n}}\nresource \"aws_iam_role_policy_attachment\" \"guard\" {{\n  role       = aws_iam_role.node.name\n  policy_arn = aws_iam_policy.guard.arn\n}}\n"
        );
        let paths = run(vec![
            terraform(&guarded),
            manifests(&format!("{SOCKET}{DENY_IMDS}")),
        ]);
        assert_eq!(paths[0].grant_kind, "every-table");
        assert!(
            paths[0]
                .grant
                .ends_with("every DynamoDB action but DeleteItem, DeleteTable on every table"),
            "{}",
            paths[0].grant
        );
        // A Deny on one table takes nothing from a policy that allows on `*`.
        let narrow = guarded.replace(
            "Resource = \"*\" }",
            "Resource = \"arn:aws:dynamodb:*:*:table/audit\" }",
        );
        let paths = run(vec![
            terraform(&narrow),
            manifests(&format!("{SOCKET}{DENY_IMDS}")),
        ]);
        assert_eq!(paths[0].grant_kind, "all");
        // Every write taken back: no path.
        let all_writes = guarded.replace(
            "Action = [\"dynamodb:DeleteTable\", \"dynamodb:DeleteItem\"]",
            "NotAction = [\"dynamodb:Get*\", \"dynamodb:Query\", \"dynamodb:Scan\", \"dynamodb:Describe*\", \"dynamodb:List*\", \"dynamodb:BatchGet*\", \"dynamodb:PartiQLSelect\", \"dynamodb:ConditionCheckItem\"]",
        );
        assert!(run(vec![
            terraform(&all_writes),
            manifests(&format!("{SOCKET}{DENY_IMDS}"))
        ])
        .is_empty());
    }

    #[test]
    fn a_role_outside_the_scan_is_low_confidence_behind_a_door_only() {
        let outside = NODES.replace(
            "node_role_arn   = aws_iam_role.node.arn",
            "node_role_arn   = \"arn:aws:iam::1:role/elsewhere\"",
        );
        let paths = run(vec![
            terraform(&outside),
            manifests(&format!("{SOCKET}{DENY_IMDS}")),
        ]);
        assert_eq!(paths.len(), 1);
        assert_eq!(
            (paths[0].confidence, paths[0].severity, paths[0].grant_kind),
            ("low", "medium", "unknown")
        );
        assert!(paths[0]
            .unknown_reason
            .contains("arn:aws:iam::1:role/elsewhere is not in the scan"));
        // The pod's own role outside the scan, without a door: nothing.
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop, annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/nowhere'}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: app, namespace: shop}\nspec:\n  serviceAccountName: app\n  containers: [{name: a, image: x}]\n";
        assert!(run(vec![manifests(sa)]).is_empty());
    }

    #[test]
    fn own_roles_irsa_pod_identity_and_ecs_task_roles() {
        let roles = r#"
resource "aws_iam_role" "app" {
  name = "app"
  inline_policy {
    name   = "all"
    policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "dynamodb:*", Resource = "*" }] })
  }
}
resource "aws_iam_role" "scoped" {
  name = "scoped"
  inline_policy {
    name   = "own"
    policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "dynamodb:PutItem", Resource = "arn:aws:dynamodb:eu-west-1:1:table/own" }] })
  }
}
resource "aws_eks_pod_identity_association" "worker" {
  cluster_name    = "c"
  namespace       = "shop"
  service_account = "worker"
  role_arn        = aws_iam_role.app.arn
}
resource "aws_ecs_task_definition" "job" {
  family                   = "job"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  task_role_arn            = aws_iam_role.app.arn
  container_definitions    = jsonencode([{ name = "j", image = "x", essential = true }])
}
"#;
        let k8s = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop, annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/app'}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: narrow, namespace: shop, annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/scoped'}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec:\n  serviceAccountName: api\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: worker, namespace: shop}\nspec:\n  serviceAccountName: worker\n  containers: [{name: a, image: x}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: narrow, namespace: shop}\nspec:\n  serviceAccountName: narrow\n  containers: [{name: a, image: x}]\n";
        let paths = run(vec![terraform(roles), manifests(k8s)]);
        let got: Vec<(&str, &str, &str)> = paths
            .iter()
            .map(|p| (p.resource.as_str(), p.severity, p.kinds[0]))
            .collect();
        assert_eq!(
            got,
            [
                ("aws_ecs_task_definition.job", "high", "own-role"),
                ("Pod shop/api", "high", "own-role"),
                ("Pod shop/worker", "high", "own-role"),
            ],
            "a role scoped to its own table is no path"
        );
        assert!(paths[1]
            .path
            .contains("service account api (IRSA) → role app"));
        assert!(paths[2]
            .path
            .contains("service account worker (Pod Identity) → role app"));
    }

    #[test]
    fn ecs_network_modes_and_user_data() {
        let infra = |user_data: &str| {
            format!(
                r#"
resource "aws_iam_role" "instance" {{
  name                = "ecs-instance"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
}}
resource "aws_iam_instance_profile" "instance" {{
  name = "ecs-instance"
  role = aws_iam_role.instance.name
}}
resource "aws_instance" "ecs" {{
  iam_instance_profile = aws_iam_instance_profile.instance.name
  user_data            = "{user_data}"
}}
resource "aws_ecs_task_definition" "bridge" {{
  family                = "bridge"
  network_mode          = "bridge"
  container_definitions = jsonencode([{{ name = "j", image = "x", essential = true }}])
}}
resource "aws_ecs_task_definition" "vpc" {{
  family                = "vpc"
  network_mode          = "awsvpc"
  container_definitions = jsonencode([{{ name = "j", image = "x", essential = true }}])
}}
"#
            )
        };
        // aws_instance without metadata_options: IMDSv1 answers containers, or, on an
        // IMDSv2-only AMI, IMDSv2 with a hop limit of 2.
        let open = run(vec![terraform(&infra(
            "echo ECS_CLUSTER=jobs >> /etc/ecs/ecs.config",
        ))]);
        let resources: Vec<&str> = open.iter().map(|p| p.resource.as_str()).collect();
        assert_eq!(
            resources,
            [
                "aws_ecs_task_definition.bridge",
                "aws_ecs_task_definition.vpc"
            ]
        );
        assert!(
            open[0]
                .path
                .contains("(bridge network mode) + IMDSv1 or hop limit 2 (BRK501)"),
            "{}",
            open[0].path
        );
        let blocked = run(vec![terraform(&infra(
            "echo ECS_CLUSTER=jobs >> /etc/ecs/ecs.config; echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config; iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP",
        ))]);
        assert!(
            blocked.is_empty(),
            "{:?}",
            blocked.iter().map(|p| &p.path).collect::<Vec<_>>()
        );
    }

    #[test]
    fn roles_from_account_authorization_details() {
        let details = r#"{"RoleDetailList": [{"RoleName": "ci-runner", "Arn": "arn:aws:iam::1:role/ci-runner",
            "RolePolicyList": [{"PolicyName": "tables", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}}],
            "AttachedManagedPolicies": [{"PolicyName": "guard", "PolicyArn": "arn:aws:iam::1:policy/guard"}]}],
          "Policies": [{"PolicyName": "guard", "Arn": "arn:aws:iam::1:policy/guard", "PolicyVersionList": [{"IsDefaultVersion": true,
            "Document": {"Statement": [{"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}]}}]}]}"#;
        let mut iam = Facts::default();
        let doc = crate::parse::json::parse(details).unwrap();
        assert!(crate::extract::document(&doc, "auth.json", &mut iam));
        let k8s = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner, namespace: ci, annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/ci-runner'}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: runner, namespace: ci}\nspec:\n  serviceAccountName: runner\n  containers: [{name: a, image: x}]\n";
        let paths = run(vec![iam, manifests(k8s)]);
        assert_eq!(paths.len(), 1);
        assert_eq!(
            paths[0].path,
            "Pod ci/runner → service account runner (IRSA) → role ci-runner → Role ci-runner inline policy tables statement 1: every DynamoDB action but DeleteTable on every table"
        );
        assert_eq!(
            (paths[0].severity, paths[0].grant_kind),
            ("high", "every-table")
        );
    }

    #[test]
    fn paths_come_out_in_the_same_order_whatever_the_input_order() {
        let k8s = manifests(&format!(
            "{SOCKET}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: api, namespace: shop}}\nspec:\n  containers: [{{name: a, image: x}}]\n"
        ));
        let second = NODES
            .replace("\"default\"", "\"second\"")
            .replace("eks-node", "eks-node-2");
        let a = run(vec![
            terraform(NODES),
            terraform_in("second.tf", &second),
            k8s,
        ]);
        let k8s = manifests(&format!(
            "{SOCKET}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: api, namespace: shop}}\nspec:\n  containers: [{{name: a, image: x}}]\n"
        ));
        let b = run(vec![
            k8s,
            terraform_in("second.tf", &second),
            terraform(NODES),
        ]);
        let text = |v: &[EscapePath]| v.iter().map(|p| p.path.clone()).collect::<Vec<_>>();
        assert_eq!(text(&a), text(&b));
        assert_eq!(
            a.len(),
            4,
            "two workloads, two node groups with their own roles"
        );
    }
}
