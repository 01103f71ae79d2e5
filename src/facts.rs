//! The fact model: the contract between extractors and policies.
//!
//! Extractors turn format knowledge into these records; policies select them with
//! JSONPath over their JSON form (documented field by field in `docs/facts.md`).
//! Every record carries its `file`, its own position (`loc`) and the position of
//! each field that came from a specific key (`locs`), so a finding can point at
//! the offending key, or at the record when the key is missing.

use crate::parse::Pos;
use serde::Serialize;
use std::collections::BTreeMap;

/// Positions of individual fields of a fact, by field name.
pub type Locs = BTreeMap<&'static str, Pos>;

/// Fields of a fact whose value is written but cannot be resolved (always `true`).
pub type Unknown = BTreeMap<&'static str, bool>;

/// Everything the extractors found in a scan.
#[derive(Debug, Default, Serialize)]
pub struct Facts {
    /// Pods and the controllers that template them.
    pub workloads: Vec<Workload>,
    /// Every container of every workload (init and ephemeral containers too).
    pub containers: Vec<Container>,
    /// Every statement of every IAM policy document.
    pub iam_statements: Vec<IamStatement>,
    /// Managed policies attached to roles, users and groups.
    pub policy_attachments: Vec<PolicyAttachment>,
    /// Images that Dockerfiles build.
    pub images: Vec<Image>,
    /// Instance metadata settings of EC2 instances and launch templates.
    pub instances: Vec<InstanceMetadata>,
    /// Kubernetes NetworkPolicies, reduced to what they do to egress towards IMDS.
    pub network_policies: Vec<NetworkPolicy>,
    /// Every stage of every Dockerfile, as the image it would build: for the link
    /// stage (compose services built with a `target`), not for policies, which judge
    /// `images`.
    #[serde(skip)]
    pub build_stages: Vec<BuildStage>,
    /// `breakout.dev/ignore` annotations, for the suppress stage (not a fact policies
    /// select from, so not in the fact document).
    #[serde(skip)]
    pub ignore_annotations: Vec<IgnoreAnnotation>,
    /// Kubernetes ServiceAccounts, with the IAM role IRSA gives their pods.
    pub service_accounts: Vec<ServiceAccount>,
    /// IAM roles (Terraform `aws_iam_role`, account-authorization details).
    pub iam_roles: Vec<IamRole>,
    /// Policies bound to roles: inline policies and attached managed policies.
    pub role_policies: Vec<RolePolicy>,
    /// Customer managed policies, so attachments can be followed to their statements.
    pub customer_policies: Vec<CustomerPolicy>,
    /// EKS managed node groups (`aws_eks_node_group`).
    pub node_groups: Vec<NodeGroup>,
    /// EKS Fargate profiles: pods they select run on Fargate, without a node.
    pub fargate_profiles: Vec<FargateProfile>,
    /// EC2 instance profiles: the role an instance or launch template hands its
    /// processes.
    pub instance_profiles: Vec<InstanceProfile>,
    /// EKS Pod Identity associations (`aws_eks_pod_identity_association`).
    pub pod_identities: Vec<PodIdentity>,
    /// ECS services: where a task definition runs (launch type, cluster).
    pub ecs_services: Vec<EcsService>,
    /// Escape paths: chains from a workload to the DynamoDB grants its credentials
    /// reach, built by the paths stage after linking (BRK901 selects them).
    pub escape_paths: Vec<EscapePath>,
    /// Where these facts come from, canonical: a Terraform root module's folder, or
    /// the folder of the file. The link stage prefers what is nearest (a repository of
    /// several environments or examples).
    #[serde(skip)]
    pub origin: Option<std::path::PathBuf>,
    /// The Terraform plans (and states) these facts come from, for their review after
    /// the policies are evaluated: not for policies.
    #[serde(skip)]
    pub plans: Vec<crate::extract::tfplan::Review>,
}

/// A `breakout.dev/ignore` annotation on a Kubernetes object or its pod template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreAnnotation {
    /// The workload it is on, as findings name it, e.g. `Deployment shop/api`.
    pub resource: String,
    /// The annotation's value as written, e.g. `BRK401,BRK302=reason`.
    pub value: String,
    /// File the object is in.
    pub file: String,
    /// Position of the annotation's value.
    pub loc: Pos,
}

impl Facts {
    /// All files' facts in one, the lists that grow long allocated once at their final
    /// size (appending file by file grew them by doubling, holding both copies at each
    /// step).
    pub fn concat(per_file: Vec<Facts>) -> Facts {
        let mut all = Facts::default();
        let total = |n: fn(&Facts) -> usize| per_file.iter().map(n).sum::<usize>();
        all.workloads.reserve_exact(total(|f| f.workloads.len()));
        all.containers.reserve_exact(total(|f| f.containers.len()));
        all.iam_statements
            .reserve_exact(total(|f| f.iam_statements.len()));
        all.images.reserve_exact(total(|f| f.images.len()));
        all.instances.reserve_exact(total(|f| f.instances.len()));
        all.network_policies
            .reserve_exact(total(|f| f.network_policies.len()));
        for f in per_file {
            all.extend(f);
        }
        all
    }

    /// Appends another file's facts.
    pub fn extend(&mut self, other: Facts) {
        self.workloads.extend(other.workloads);
        self.containers.extend(other.containers);
        self.iam_statements.extend(other.iam_statements);
        self.policy_attachments.extend(other.policy_attachments);
        self.images.extend(other.images);
        self.instances.extend(other.instances);
        self.network_policies.extend(other.network_policies);
        self.build_stages.extend(other.build_stages);
        self.ignore_annotations.extend(other.ignore_annotations);
        self.service_accounts.extend(other.service_accounts);
        self.iam_roles.extend(other.iam_roles);
        self.role_policies.extend(other.role_policies);
        self.customer_policies.extend(other.customer_policies);
        self.node_groups.extend(other.node_groups);
        self.fargate_profiles.extend(other.fargate_profiles);
        self.instance_profiles.extend(other.instance_profiles);
        self.pod_identities.extend(other.pod_identities);
        self.ecs_services.extend(other.ecs_services);
        self.escape_paths.extend(other.escape_paths);
        self.plans.extend(other.plans);
    }

    /// Gives back the room each list grew into and does not use. A file's facts live
    /// until every file is judged, and a list of one workload keeps room for four after
    /// its first push: at ten thousand files that spare room was most of the heap.
    /// Every kind of fact is named here, so a new one cannot be forgotten.
    pub fn shrink_to_fit(&mut self) {
        let Facts {
            workloads,
            containers,
            iam_statements,
            policy_attachments,
            images,
            instances,
            network_policies,
            build_stages,
            ignore_annotations,
            service_accounts,
            iam_roles,
            role_policies,
            customer_policies,
            node_groups,
            fargate_profiles,
            instance_profiles,
            pod_identities,
            ecs_services,
            escape_paths,
            origin: _,
            plans,
        } = self;
        workloads.shrink_to_fit();
        containers.shrink_to_fit();
        iam_statements.shrink_to_fit();
        policy_attachments.shrink_to_fit();
        images.shrink_to_fit();
        instances.shrink_to_fit();
        network_policies.shrink_to_fit();
        build_stages.shrink_to_fit();
        ignore_annotations.shrink_to_fit();
        service_accounts.shrink_to_fit();
        iam_roles.shrink_to_fit();
        role_policies.shrink_to_fit();
        customer_policies.shrink_to_fit();
        node_groups.shrink_to_fit();
        fargate_profiles.shrink_to_fit();
        instance_profiles.shrink_to_fit();
        pod_identities.shrink_to_fit();
        ecs_services.shrink_to_fit();
        escape_paths.shrink_to_fit();
        plans.shrink_to_fit();
    }

    /// Keeps only the facts whose `resource` passes `keep` (annotations, build stages,
    /// plans and the origin stay). Every kind of fact is named here, so a new one
    /// cannot be forgotten.
    pub fn retain_resources(&mut self, keep: impl Fn(&str) -> bool) {
        let Facts {
            workloads,
            containers,
            iam_statements,
            policy_attachments,
            images,
            instances,
            network_policies,
            build_stages: _,
            ignore_annotations: _,
            service_accounts,
            iam_roles,
            role_policies,
            customer_policies,
            node_groups,
            fargate_profiles,
            instance_profiles,
            pod_identities,
            ecs_services,
            escape_paths,
            origin: _,
            plans: _,
        } = self;
        workloads.retain(|f| keep(&f.resource));
        containers.retain(|f| keep(&f.resource));
        iam_statements.retain(|f| keep(&f.resource));
        policy_attachments.retain(|f| keep(&f.resource));
        images.retain(|f| keep(&f.resource));
        instances.retain(|f| keep(&f.resource));
        network_policies.retain(|f| keep(&f.resource));
        service_accounts.retain(|f| keep(&f.resource));
        iam_roles.retain(|f| keep(&f.resource));
        role_policies.retain(|f| keep(&f.resource));
        customer_policies.retain(|f| keep(&f.resource));
        node_groups.retain(|f| keep(&f.resource));
        fargate_profiles.retain(|f| keep(&f.resource));
        instance_profiles.retain(|f| keep(&f.resource));
        pod_identities.retain(|f| keep(&f.resource));
        ecs_services.retain(|f| keep(&f.resource));
        escape_paths.retain(|f| keep(&f.resource));
    }
}

impl Facts {
    /// Marks the Kubernetes facts from `from` on (workloads, containers, network
    /// policies, service accounts, annotations) as rendered: `by` joins their
    /// `rendered_by`, and with `template` (a Helm template's path) their resource is
    /// named `RESOURCE (TEMPLATE)`.
    pub fn mark_rendered_from(&mut self, from: &FactCounts, by: &Evidence, template: Option<&str>) {
        let rename = |r: &mut String| {
            if let Some(t) = template {
                *r = format!("{r} ({t})");
            }
        };
        for w in &mut self.workloads[from.workloads..] {
            w.rendered_by.push(by.clone());
            rename(&mut w.resource);
        }
        for c in &mut self.containers[from.containers..] {
            c.rendered_by.push(by.clone());
            rename(&mut c.resource);
            for m in &mut c.mounts {
                rename(&mut m.resource);
            }
        }
        for n in &mut self.network_policies[from.network_policies..] {
            n.rendered_by.push(by.clone());
            rename(&mut n.resource);
        }
        for s in &mut self.service_accounts[from.service_accounts..] {
            s.rendered_by.push(by.clone());
            rename(&mut s.resource);
        }
        for a in &mut self.ignore_annotations[from.ignore_annotations..] {
            rename(&mut a.resource);
        }
    }

    /// [`Facts::mark_rendered_from`] for every fact.
    pub fn mark_rendered(&mut self, by: &Evidence, template: Option<&str>) {
        self.mark_rendered_from(&FactCounts::default(), by, template);
    }

    /// How many facts of the kinds a rendered object yields there are so far.
    pub fn counts(&self) -> FactCounts {
        FactCounts {
            workloads: self.workloads.len(),
            containers: self.containers.len(),
            network_policies: self.network_policies.len(),
            service_accounts: self.service_accounts.len(),
            ignore_annotations: self.ignore_annotations.len(),
        }
    }
}

/// Several files' facts as one fact document: the JSON form of their [`Facts`]
/// concatenated, list by list, without copying a fact. Policies select within one fact,
/// so what they find does not depend on how files are grouped; judging a few hundred
/// files' facts as one document spares the per-document cost (a JSON object of twenty
/// lists, each policy's query started again) that dominated on small files.
pub struct FactsGroup<'a>(pub &'a [Facts]);

/// The lists of [`Facts`] that its JSON form holds, in its order (`#[serde(skip)]`
/// ones left out). The test `a_group_serializes_as_its_facts_would` fails when a list
/// is added to `Facts` and not here.
macro_rules! serialized_lists {
    ($m:ident) => {
        $m!(
            workloads,
            containers,
            iam_statements,
            policy_attachments,
            images,
            instances,
            network_policies,
            service_accounts,
            iam_roles,
            role_policies,
            customer_policies,
            node_groups,
            fargate_profiles,
            instance_profiles,
            pod_identities,
            ecs_services,
            escape_paths
        )
    };
}

impl Facts {
    /// How many facts the JSON form holds (nested ones not counted).
    pub fn serialized_len(&self) -> usize {
        macro_rules! sum {
            ($($list:ident),*) => { 0 $(+ self.$list.len())* };
        }
        serialized_lists!(sum)
    }
}

impl Serialize for FactsGroup<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        /// One list of every file in the group, as one sequence.
        struct Chained<'a, T: 'a, F: Fn(&'a Facts) -> &'a [T]>(&'a [Facts], F);
        impl<'a, T: Serialize + 'a, F: Fn(&'a Facts) -> &'a [T]> Serialize for Chained<'a, T, F> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().flat_map(|f| (self.1)(f)))
            }
        }
        let mut map = serializer.serialize_map(None)?;
        macro_rules! entries {
            ($($list:ident),*) => {
                $(map.serialize_entry(stringify!($list), &Chained(self.0, |f: &'_ Facts| &f.$list[..]))?;)*
            };
        }
        serialized_lists!(entries);
        map.end()
    }
}

/// Lengths of the fact lists a Kubernetes object adds to, for marking what one object
/// added ([`Facts::mark_rendered_from`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FactCounts {
    /// `workloads`.
    pub workloads: usize,
    /// `containers`.
    pub containers: usize,
    /// `network_policies`.
    pub network_policies: usize,
    /// `service_accounts`.
    pub service_accounts: usize,
    /// `ignore_annotations`.
    pub ignore_annotations: usize,
}

/// One stage of a Dockerfile and the image it builds (`docker build --target`).
#[derive(Clone, Debug)]
pub struct BuildStage {
    /// The stage's `AS` name, lower-cased as Docker compares it.
    pub name: Option<String>,
    /// The stage is the file's last.
    pub last: bool,
    /// The image the stage builds.
    pub image: Image,
}

/// A place elsewhere that a fact rests on, for a finding's related locations: the
/// Dockerfile line that decides a compose service's user, the plan a value comes from.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// What the place says, in words.
    pub what: String,
    /// The file.
    pub file: String,
    /// The position.
    pub loc: Pos,
}

/// How compose builds a service's image: `build: ./app` or `build: {context,
/// dockerfile, target}`.
#[derive(Clone, Debug, Serialize)]
pub struct ComposeBuild {
    /// The build context as written.
    pub context: String,
    /// The Dockerfile's path: the context joined with `dockerfile` (default
    /// `Dockerfile`), relative to where the compose file's path is.
    pub dockerfile: String,
    /// The build stage (`target`); the last stage when not set.
    pub target: Option<String>,
}

/// A tri-state answer where the input does not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tri {
    /// The input says so.
    Yes,
    /// The input rules it out.
    No,
    /// The input leaves it to something breakout cannot see (an image, a default).
    Unknown,
}

/// A pod, or a controller's pod template.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    /// Human name of the resource, e.g. `Deployment shop/api`.
    pub resource: String,
    /// Where it runs: `kubernetes`, `ecs` or `compose`.
    pub platform: &'static str,
    /// Kubernetes kind (`Deployment`, `CronJob`, …).
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when written.
    pub namespace: Option<String>,
    /// `serviceAccountName` (or the deprecated `serviceAccount`), when written.
    pub service_account: Option<String>,
    /// Pod template labels (`metadata.labels` for a bare Pod).
    pub labels: BTreeMap<String, String>,
    /// `hostNetwork: true`.
    pub host_network: bool,
    /// `hostPID: true`.
    pub host_pid: bool,
    /// `hostIPC: true`.
    pub host_ipc: bool,
    /// ECS `networkMode` (`awsvpc`, `bridge`, `host`, `none`) or compose `network_mode`.
    pub network_mode: Option<String>,
    /// ECS `taskRoleArn`: the credentials the containers get.
    pub task_role: Option<String>,
    /// ECS `executionRoleArn`: the credentials the agent uses to pull and start.
    pub execution_role: Option<String>,
    /// Fields whose value is written but unknown (a Terraform variable without value,
    /// an attribute known after apply), e.g. `{"host_network": true}`.
    pub unknown: Unknown,
    /// Kubernetes only, linked across the scanned files: `yes` when the pods can open
    /// connections to the instance metadata service (169.254.169.254:80) because no
    /// NetworkPolicy isolates their egress or one that does allows it; `no` when every
    /// policy selecting them for egress leaves it out; `unknown` elsewhere.
    pub imds_egress: Tri,
    /// Why, in words, for messages.
    pub imds_egress_reason: String,
    /// Kubernetes only, linked like `imds_egress`: whether the pods can open connections
    /// to the metadata service's IPv6 address (fd00:ec2::254, port 80). It answers only
    /// on instances that enable it (`http_protocol_ipv6`).
    pub imds_egress_v6: Tri,
    /// Why, in words.
    pub imds_egress_v6_reason: String,
    /// Kubernetes `nodeSelector`: the node labels the pods require.
    pub node_selector: BTreeMap<String, String>,
    /// Kubernetes required node affinity
    /// (`requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`).
    pub node_affinity: Vec<NodeSelectorTerm>,
    /// Kubernetes `tolerations`, as `key=value:effect` (`key` alone for `Exists`,
    /// `*` for a toleration of every taint).
    pub tolerations: Vec<String>,
    /// Terraform: the resources the task role's expression refers to
    /// (`aws_iam_role.app`).
    pub task_role_refs: Vec<String>,
    /// ECS `requiresCompatibilities` (`EC2`, `FARGATE`, `EXTERNAL`).
    pub launch_types: Vec<String>,
    /// Where the object was rendered from, for a finding's related locations: the
    /// kustomization that built it, or the Helm template that `helm template` names in
    /// its `# Source:` comment. Empty for objects written as they are.
    pub rendered_by: Vec<Evidence>,
    /// File the resource is in.
    pub file: String,
    /// Position of the resource (its first key).
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// One container with its effective security settings (pod-level settings applied).
#[derive(Clone, Debug, Serialize)]
pub struct Container {
    /// The workload's human name, e.g. `Deployment shop/api`.
    pub resource: String,
    /// Where it runs: `kubernetes`, `ecs`, `compose` or `docker` (an image).
    pub platform: &'static str,
    /// Container name.
    pub name: String,
    /// `container`, `initContainer` or `ephemeralContainer`.
    pub container_type: &'static str,
    /// Image reference, when written.
    pub image: Option<String>,
    /// Privileged mode (`securityContext.privileged`, ECS/compose `privileged`).
    pub privileged: Option<bool>,
    /// `securityContext.allowPrivilegeEscalation`; `false` for `no-new-privileges`.
    pub allow_privilege_escalation: Option<bool>,
    /// Read-only root filesystem (`readOnlyRootFilesystem`, ECS `readonlyRootFilesystem`,
    /// compose `read_only`).
    pub read_only_root_filesystem: Option<bool>,
    /// The user as written: `runAsUser: 0`, `user: "1000:1000"`, `USER app`.
    pub user_setting: Option<String>,
    /// Why nothing rules root out, when `runs_as_root` is `unknown`.
    pub root_unknown_reason: Option<String>,
    /// Effective `runAsUser` (container, else pod), or the numeric user of other formats.
    pub run_as_user: Option<i64>,
    /// Effective `runAsGroup` (container, else pod).
    pub run_as_group: Option<i64>,
    /// Effective `runAsNonRoot` (container, else pod).
    pub run_as_non_root: Option<bool>,
    /// `yes`: UID 0 is set; `no`: a non-zero UID or `runAsNonRoot: true`; else `unknown`
    /// (the image decides).
    pub runs_as_root: Tri,
    /// `capabilities.add`, upper-cased without the `CAP_` prefix.
    pub capabilities_added: Vec<String>,
    /// The added capabilities that enable escape or host compromise.
    pub dangerous_capabilities: Vec<String>,
    /// The workload shares the host network namespace.
    pub host_network: bool,
    /// The workload shares the host PID namespace.
    pub host_pid: bool,
    /// The workload shares the host IPC namespace.
    pub host_ipc: bool,
    /// Host paths this container mounts.
    pub mounts: Vec<HostMount>,
    /// compose: how the service's image is built, when it is built from a local
    /// Dockerfile.
    pub build: Option<ComposeBuild>,
    /// compose: the scanned Dockerfile stage that builds the image, and the user it
    /// runs as (linked across files).
    pub built_image: Option<Evidence>,
    /// Fields whose value is written but unknown, e.g. `{"privileged": true}`.
    pub unknown: Unknown,
    /// Where the object was rendered from, for a finding's related locations: the
    /// kustomization that built it, or the Helm template that `helm template` names in
    /// its `# Source:` comment. Empty for objects written as they are.
    pub rendered_by: Vec<Evidence>,
    /// File the container is in.
    pub file: String,
    /// Position of the container.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// A host path mounted into a container (a volume that no container mounts is not here).
#[derive(Clone, Debug, Serialize)]
pub struct HostMount {
    /// The workload's human name.
    pub resource: String,
    /// The container that mounts it.
    pub container: String,
    /// Volume name.
    pub volume: String,
    /// Host path as written, joined with the mount's `subPath`.
    pub host_path: String,
    /// Normalised host path (`/var/run` → `/run`, no duplicate or trailing slashes).
    pub normalized_path: String,
    /// Path inside the container.
    pub mount_path: String,
    /// The mount is read-only (a read-only socket can still be connected to).
    pub read_only: bool,
    /// The path is a container-runtime socket or a folder that holds one.
    pub runtime_socket: bool,
    /// Which runtime sockets it exposes, e.g. `the Docker socket`.
    pub exposes: Option<String>,
    /// The path is, contains or lies inside a sensitive host location
    /// (`data/sensitive-host-paths.yaml`); locations that matter only when writable
    /// (`/usr/bin`, `/etc/passwd`) do not count for a read-only mount.
    pub sensitive: bool,
    /// Why the path is sensitive, e.g. `it contains /etc/shadow: password hashes of the
    /// host's users`.
    pub sensitive_reason: Option<String>,
    /// The path is a socket file itself (not a folder).
    pub socket_file: bool,
    /// File the volume is in.
    pub file: String,
    /// Position of the host path.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// What kind of IAM policy a statement belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Attached to a role, user or group: no `Principal`.
    Identity,
    /// Attached to a resource (a table, a bucket): has a `Principal`.
    Resource,
    /// A role's trust policy: who may assume it. Not a grant of permissions.
    Trust,
}

/// One statement of an IAM policy, with what it grants on DynamoDB worked out.
#[derive(Clone, Debug, Serialize)]
pub struct IamStatement {
    /// Who holds the policy, e.g. `IAM policy orders-writer` or `Role app inline policy db`.
    pub resource: String,
    /// The policy's name (the file name when the document has none).
    pub policy: String,
    /// Identity, resource or trust policy.
    pub kind: PolicyKind,
    /// `Sid "Name"` or `statement N` (1-based), for messages.
    pub statement: String,
    /// The `Sid`, when written.
    pub sid: Option<String>,
    /// `Allow` or `Deny` (empty when unknown: see `unknown`).
    pub effect: String,
    /// `Action` patterns as written (empty when `NotAction` is used).
    pub actions: Vec<String>,
    /// `NotAction` patterns as written.
    pub not_actions: Vec<String>,
    /// `Resource` patterns as written (empty when `NotResource` is used).
    pub resources: Vec<String>,
    /// `NotResource` patterns as written.
    pub not_resources: Vec<String>,
    /// Principals as `TYPE:value` (`*` alone for `"Principal": "*"`).
    pub principals: Vec<String>,
    /// `NotPrincipal` entries, the same way: an Allow with them reaches everyone else.
    pub not_principals: Vec<String>,
    /// An Allow (or a statement whose effect is unknown) to every principal (`*`,
    /// `AWS: *`, or a `NotPrincipal` that does not list everyone).
    pub public: bool,
    /// Condition keys used, e.g. `aws:SourceVpce`.
    pub condition_keys: Vec<String>,
    /// A condition limits who can use a public grant (source account, org, VPC endpoint, IP, …).
    pub restricting_condition: bool,
    /// ` (narrowed by a condition on …)` or empty, for messages.
    pub condition_note: String,
    /// What the statement grants on DynamoDB (for a statement whose effect is unknown,
    /// what it grants if it is an Allow).
    pub dynamodb: DynamoGrant,
    /// Fields whose value is written but known only at apply time: `{"effect": true}`
    /// for an `Effect` that may be Allow or Deny.
    pub unknown: Unknown,
    /// What is known only at apply time, for messages: `has an action known only at
    /// apply time`, `has an effect known only at apply time`, both, or empty.
    pub unknown_note: String,
    /// File the policy is in.
    pub file: String,
    /// Position of the statement.
    pub loc: Pos,
    /// Positions of `action` (Action or NotAction), `resource`, `principal`, `condition`,
    /// `effect`.
    pub locs: Locs,
}

/// The DynamoDB actions a statement grants, as an exact set over the action catalog.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DynamoGrant {
    /// Every DynamoDB action is granted.
    pub all_actions: bool,
    /// How many actions are granted.
    pub count: usize,
    /// Granted action names (without `dynamodb:`), sorted.
    pub actions: Vec<String>,
    /// Granted actions that read data or metadata.
    pub read: Vec<String>,
    /// Granted actions that create or change items, tables or settings.
    pub write: Vec<String>,
    /// Granted actions that delete items, tables or backups.
    pub delete: Vec<String>,
    /// Granted actions that manage access, tagging, retention or capacity.
    pub admin: Vec<String>,
    /// `write`, `delete` and `admin` together.
    pub modifying: Vec<String>,
    /// Actions a Deny statement in the same policy takes back.
    pub denied: Vec<String>,
    /// The statement's resources cover every table (`*`, `table/*`, an account-wide wildcard,
    /// or a `NotResource` that leaves tables in).
    pub every_table: bool,
    /// An `Action`/`NotAction` entry is known only at apply time, so the grant may be
    /// larger than `actions`.
    pub unknown_actions: bool,
    /// `all 79 DynamoDB actions` or the action names, for messages.
    pub summary: String,
    /// The modifying actions as a list, for messages.
    pub modifying_summary: String,
    /// `every table` or the resource patterns, for messages.
    pub scope: String,
}

/// A managed policy attached to a role, user or group.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyAttachment {
    /// The holder, e.g. `Role app`.
    pub resource: String,
    /// The attached policy's ARN (or name when only the name is known).
    pub policy_arn: String,
    /// The policy's name.
    pub policy_name: String,
    /// An AWS managed policy that grants every DynamoDB action.
    pub grants_all_dynamodb: bool,
    /// An AWS managed policy that grants DynamoDB writes or deletes on every resource.
    pub grants_dynamodb_writes: bool,
    /// What it grants, for messages.
    pub grant_summary: String,
    /// File the attachment is in.
    pub file: String,
    /// Position of the attachment.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// The image a Dockerfile builds: its final stage (or the chosen build target).
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    /// Human name, e.g. `Dockerfile stage runtime` or `Dockerfile image FROM alpine:3.20`.
    pub resource: String,
    /// Always `docker`.
    pub platform: &'static str,
    /// The stage that becomes the image: `stage NAME` or `stage N` (1-based).
    pub stage: String,
    /// That stage's base as written after `ARG` substitution (`(unknown)` when it depends
    /// on a build argument without default).
    pub base_image: String,
    /// How many stages the file has.
    pub stages: usize,
    /// The effective `USER` after substitution: the stage's last, else the one inherited
    /// from the stage it is built on. `None` when no stage sets one or it is unknown.
    pub user: Option<String>,
    /// The stage the effective user comes from, when inherited (`stage base`).
    pub user_stage: Option<String>,
    /// The numeric UID when the user is numeric or root.
    pub run_as_user: Option<i64>,
    /// `yes`: the last USER is root, or there is none and the base is an outside image
    /// (root unless that image sets another); `no`: a non-root USER; `unknown`: the user
    /// or base depends on a build argument without default.
    pub runs_as_root: Tri,
    /// Why, in words, for messages.
    pub root_reason: String,
    /// File the Dockerfile is.
    pub file: String,
    /// Position of the stage's `FROM`.
    pub loc: Pos,
    /// `user`: position of the deciding `USER` instruction.
    pub locs: Locs,
}

/// How an EC2 instance, launch template or launch configuration answers the instance
/// metadata service (169.254.169.254), from its `metadata_options`.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceMetadata {
    /// The resource address, e.g. `aws_launch_template.nodes`.
    pub resource: String,
    /// The resource type (`aws_instance`, `aws_launch_template`, `aws_launch_configuration`).
    pub kind: String,
    /// A `metadata_options` block is written.
    pub metadata_options: bool,
    /// `http_endpoint` as written (`enabled`, `disabled`), when set.
    pub http_endpoint: Option<String>,
    /// `http_tokens` as written (`optional`, `required`), when set.
    pub http_tokens: Option<String>,
    /// `http_put_response_hop_limit`, when set.
    pub hop_limit: Option<i64>,
    /// `yes`: the endpoint is on and `http_tokens` is written and not `required`; `no`:
    /// tokens required or the endpoint disabled; `unknown`: a value breakout cannot
    /// evaluate decides, or `http_tokens` is not set (the AMI and the account decide).
    pub imdsv1_allowed: Tri,
    /// `http_tokens` is not set (no `metadata_options`, not in it, or null): EC2 then
    /// requires tokens when the AMI is flagged IMDSv2-only (`ImdsSupport` `v2.0`, as on
    /// Amazon Linux 2023) or the account's default says so, and allows IMDSv1 otherwise.
    pub http_tokens_unset: bool,
    /// Why `imdsv1_allowed` is `unknown`, in words for messages; `""` otherwise.
    pub imdsv1_reason: String,
    /// `yes`: the endpoint is on and the hop limit is above 1, so a container behind the
    /// host's network stack reaches IMDS; unset means 1.
    pub hop_limit_above_one: Tri,
    /// EKS managed node groups that launch their nodes from this launch template (their
    /// pods sit behind the hop limit).
    pub eks_node_groups: Vec<String>,
    /// `http_protocol_ipv6` as written (`enabled` makes fd00:ec2::254 answer too).
    pub http_protocol_ipv6: Option<String>,
    /// The instance profile (`iam_instance_profile`: a name, or an ARN in a launch
    /// template's block), when known.
    pub iam_instance_profile: Option<String>,
    /// The resources the instance profile's expression refers to
    /// (`aws_iam_instance_profile.nodes`).
    pub iam_instance_profile_refs: Vec<String>,
    /// The user data joins an ECS cluster (`ECS_CLUSTER=`): an ECS container instance.
    pub ecs_container_instance: bool,
    /// The cluster the user data joins, when known.
    pub ecs_cluster: Option<String>,
    /// The user data sets `ECS_AWSVPC_BLOCK_IMDS=true`: tasks in `awsvpc` mode cannot
    /// reach the metadata service.
    pub ecs_awsvpc_block_imds: bool,
    /// The user data drops traffic from `docker+` interfaces to 169.254.169.254
    /// (iptables): containers in `bridge` mode cannot reach the metadata service.
    pub bridge_imds_blocked: bool,
    /// The user data joins an EKS cluster (`/etc/eks/bootstrap.sh`, nodeadm's
    /// `NodeConfig`): a self-managed Kubernetes node.
    pub eks_node: bool,
    /// The user data is written but unknown, so what it blocks is unknown.
    pub user_data_unknown: bool,
    /// File the resource is in.
    pub file: String,
    /// Position of the resource.
    pub loc: Pos,
    /// `metadata_options`, `http_tokens`, `http_endpoint`, `hop_limit`: their keys.
    pub locs: Locs,
}

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`.
    pub match_expressions: Vec<SelectorTerm>,
}

/// One `matchExpressions` term.
#[derive(Clone, Debug, Serialize)]
pub struct SelectorTerm {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values for `In` and `NotIn`.
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether a pod with `labels` is selected (an empty selector selects every pod).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|t| {
                let value = labels.get(&t.key);
                match t.operator.as_str() {
                    "In" => value.is_some_and(|v| t.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !t.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// A Kubernetes NetworkPolicy, reduced to its effect on egress towards the instance
/// metadata service.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkPolicy {
    /// `NetworkPolicy ns/name`.
    pub resource: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when written.
    pub namespace: Option<String>,
    /// The pods it applies to, in its namespace.
    pub pod_selector: LabelSelector,
    /// It isolates the selected pods' egress (`policyTypes` has `Egress`, or it has an
    /// `egress` section).
    pub isolates_egress: bool,
    /// One of its egress rules allows 169.254.169.254 on TCP port 80.
    pub allows_imds: bool,
    /// `kubernetes` (networking.k8s.io), `calico` (projectcalico.org) or `cilium`.
    pub flavor: &'static str,
    /// A Calico `GlobalNetworkPolicy` or a `CiliumClusterwideNetworkPolicy`: every
    /// namespace.
    pub cluster_wide: bool,
    /// Calico: the `selector` expression (`app == 'api'`, `all()`); `pod_selector` is
    /// then unused.
    pub selector_expression: Option<String>,
    /// Calico: the `namespaceSelector` expression of a global policy.
    pub namespace_selector_expression: Option<String>,
    /// Calico `order` (lower first; none is last).
    pub order: Option<f64>,
    /// What its egress rules do to 169.254.169.254:80, first match first (Calico),
    /// deny over allow (Cilium): `allow`, `deny`, `pass`, or null when no rule matches.
    pub imds_action: Option<String>,
    /// The same for the IPv6 address fd00:ec2::254.
    pub imds_v6_action: Option<String>,
    /// Where the object was rendered from, for a finding's related locations: the
    /// kustomization that built it, or the Helm template that `helm template` names in
    /// its `# Source:` comment. Empty for objects written as they are.
    pub rendered_by: Vec<Evidence>,
    /// File the policy is in.
    pub file: String,
    /// Position of the policy.
    pub loc: Pos,
    /// `egress`: position of its egress rules.
    pub locs: Locs,
}

/// One required node-affinity term (`nodeSelectorTerms[]`): a node must satisfy every
/// expression of a term, and one term of the list.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeSelectorTerm {
    /// `matchExpressions` on node labels.
    pub match_expressions: Vec<SelectorTerm>,
    /// The term also has `matchFields` (node name), which breakout cannot match.
    pub match_fields: bool,
}

/// A Kubernetes ServiceAccount, reduced to the IAM role its pods get through IRSA.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceAccount {
    /// `ServiceAccount ns/name`.
    pub resource: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when written.
    pub namespace: Option<String>,
    /// The `eks.amazonaws.com/role-arn` annotation, when written and known.
    pub role_arn: Option<String>,
    /// Terraform (`kubernetes_service_account`): the resources the annotation's
    /// expression refers to, e.g. `aws_iam_role.app`.
    pub role_refs: Vec<String>,
    /// Where the object was rendered from, for a finding's related locations: the
    /// kustomization that built it, or the Helm template that `helm template` names in
    /// its `# Source:` comment. Empty for objects written as they are.
    pub rendered_by: Vec<Evidence>,
    /// File the object is in.
    pub file: String,
    /// Position of the object.
    pub loc: Pos,
    /// `role_arn`: position of the annotation.
    pub locs: Locs,
}

/// An IAM role.
#[derive(Clone, Debug, Serialize)]
pub struct IamRole {
    /// `aws_iam_role.nodes` (Terraform address) or `Role nodes` (IAM JSON).
    pub resource: String,
    /// The role name, when known.
    pub name: Option<String>,
    /// The role ARN, when known (IAM JSON, a plan of an existing role).
    pub arn: Option<String>,
    /// Services and principals its trust policy lets assume it
    /// (`Service:ec2.amazonaws.com`, `Federated:…`), for messages.
    pub trusted: Vec<String>,
    /// File the role is in.
    pub file: String,
    /// Position of the role.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// A policy bound to a role: an inline policy, or a managed policy attached to it.
#[derive(Clone, Debug, Serialize)]
pub struct RolePolicy {
    /// The resource that binds them (`aws_iam_role_policy_attachment.nodes["…"]`,
    /// `Role app`).
    pub resource: String,
    /// `inline` or `attached`.
    pub kind: &'static str,
    /// The role as written: a name or an ARN, when known.
    pub role: Option<String>,
    /// Terraform: the resources the role expression refers to (`aws_iam_role.nodes`).
    pub role_refs: Vec<String>,
    /// `inline`: the `resource` of the policy's statements in `iam_statements`.
    /// `attached`: the policy's ARN (or name) as written, when known.
    pub policy: Option<String>,
    /// Terraform: the resources the policy expression refers to: an attached
    /// `aws_iam_policy.app`, or the `data.aws_iam_policy_document.app` an inline
    /// policy is written with.
    pub policy_refs: Vec<String>,
    /// Terraform, `attached`, when the ARN is known only after apply
    /// (`arn:${partition}:iam::aws:policy/NAME`): the AWS managed policies the
    /// expression's text names.
    pub aws_managed_names: Vec<String>,
    /// File the binding is in.
    pub file: String,
    /// Position of the binding (the policy ARN or the inline policy).
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// A customer managed policy: how attachments name it, and the `resource` its
/// statements carry.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerPolicy {
    /// The `resource` of its statements in `iam_statements` (`aws_iam_policy.app`,
    /// `IAM policy app`).
    pub resource: String,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its ARN, when known.
    pub arn: Option<String>,
    /// Terraform: the policy document data sources its `policy` refers to
    /// (`data.aws_iam_policy_document.app`), whose statements are its own.
    pub document_refs: Vec<String>,
    /// File the policy is in.
    pub file: String,
    /// Position of the policy.
    pub loc: Pos,
}

/// An EKS managed node group.
#[derive(Clone, Debug, Serialize)]
pub struct NodeGroup {
    /// `aws_eks_node_group.default`.
    pub resource: String,
    /// `node_group_name`, when known.
    pub name: Option<String>,
    /// `cluster_name`, when known.
    pub cluster: Option<String>,
    /// Kubernetes labels EKS puts on its nodes (`labels`).
    pub labels: BTreeMap<String, String>,
    /// `labels` is written but unknown.
    pub labels_unknown: bool,
    /// Taints (`key=value:effect`) with effect `NoSchedule` or `NoExecute`: pods
    /// without a matching toleration do not run there.
    pub taints: Vec<String>,
    /// `ami_type`, when known (`AL2_x86_64`, `AL2023_x86_64_STANDARD`, …).
    pub ami_type: Option<String>,
    /// `version` (Kubernetes version), when known.
    pub version: Option<String>,
    /// `capacity_type`, when known.
    pub capacity_type: Option<String>,
    /// `node_role_arn` as written, when known.
    pub node_role: Option<String>,
    /// The resources `node_role_arn` refers to (`aws_iam_role.nodes`).
    pub node_role_refs: Vec<String>,
    /// A `launch_template` block is written.
    pub launch_template: bool,
    /// The launch template's `id` or `name` as written, when known.
    pub launch_template_id: Option<String>,
    /// The resources the launch template block refers to (`aws_launch_template.nodes`).
    pub launch_template_refs: Vec<String>,
    /// File the node group is in.
    pub file: String,
    /// Position of the node group.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// An EKS Fargate profile: pods it selects run on Fargate.
#[derive(Clone, Debug, Serialize)]
pub struct FargateProfile {
    /// `aws_eks_fargate_profile.default`.
    pub resource: String,
    /// `cluster_name`, when known.
    pub cluster: Option<String>,
    /// Its selectors: a pod in `namespace` (wildcards `*`, `?`) with every label of
    /// `labels` runs on Fargate.
    pub selectors: Vec<FargateSelector>,
    /// File the profile is in.
    pub file: String,
    /// Position of the profile.
    pub loc: Pos,
}

/// One `selector` block of a Fargate profile.
#[derive(Clone, Debug, Serialize)]
pub struct FargateSelector {
    /// The namespace pattern, when known.
    pub namespace: Option<String>,
    /// Labels the pod must have.
    pub labels: BTreeMap<String, String>,
}

/// An EC2 instance profile.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceProfile {
    /// `aws_iam_instance_profile.nodes`.
    pub resource: String,
    /// `name`, when known.
    pub name: Option<String>,
    /// `role` as written (a role name), when known.
    pub role: Option<String>,
    /// The resources `role` refers to.
    pub role_refs: Vec<String>,
    /// File the profile is in.
    pub file: String,
    /// Position of the profile.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// An EKS Pod Identity association: pods of a service account get a role.
#[derive(Clone, Debug, Serialize)]
pub struct PodIdentity {
    /// `aws_eks_pod_identity_association.app`.
    pub resource: String,
    /// `cluster_name`, when known.
    pub cluster: Option<String>,
    /// `namespace`, when known.
    pub namespace: Option<String>,
    /// `service_account`, when known.
    pub service_account: Option<String>,
    /// `role_arn` as written, when known.
    pub role: Option<String>,
    /// The resources `role_arn` refers to.
    pub role_refs: Vec<String>,
    /// File the association is in.
    pub file: String,
    /// Position of the association.
    pub loc: Pos,
    /// Positions of fields set by a key.
    pub locs: Locs,
}

/// An ECS service: where a task definition runs.
#[derive(Clone, Debug, Serialize)]
pub struct EcsService {
    /// `aws_ecs_service.api`.
    pub resource: String,
    /// `cluster` as written (name or ARN), when known.
    pub cluster: Option<String>,
    /// The resources `cluster` refers to.
    pub cluster_refs: Vec<String>,
    /// `task_definition` as written, when known.
    pub task_definition: Option<String>,
    /// The resources `task_definition` refers to (`aws_ecs_task_definition.api`).
    pub task_definition_refs: Vec<String>,
    /// `launch_type` (`EC2`, `FARGATE`, `EXTERNAL`), when written.
    pub launch_type: Option<String>,
    /// Capacity providers of `capacity_provider_strategy` (`FARGATE`, `FARGATE_SPOT`,
    /// or an Auto Scaling group's provider).
    pub capacity_providers: Vec<String>,
    /// File the service is in.
    pub file: String,
    /// Position of the service.
    pub loc: Pos,
}

/// One step of an escape path, with the place that shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PathStep {
    /// The rule whose ingredient this step is (`BRK201`), or empty for a link.
    pub rule: String,
    /// The resource the step is about.
    pub resource: String,
    /// What the step is, in words.
    pub what: String,
    /// File of the evidence.
    pub file: String,
    /// Position of the evidence.
    pub loc: Pos,
}

/// An escape path: from a workload, through its doors (a breakout ingredient, its
/// reach of the metadata service, or its own credentials), to a role and what that
/// role grants in DynamoDB. One per workload and end role.
#[derive(Clone, Debug, Serialize)]
pub struct EscapePath {
    /// The workload, e.g. `Deployment ci/image-builder`.
    pub resource: String,
    /// Identifies the path among the workload's: the end role.
    pub name: String,
    /// The doors, most direct first: `host-breakout` (a: out of the container onto the
    /// node), `metadata` (b: the node's credentials from the metadata service),
    /// `own-role` (c: the workload's own role).
    pub kinds: Vec<&'static str>,
    /// The role at the end.
    pub role: String,
    /// What the role grants in DynamoDB, for messages.
    pub grant: String,
    /// The grant: `all` (every DynamoDB action), `every-table` (write, delete or admin
    /// actions on every table), `writes` (narrower, with writes), `unknown`.
    pub grant_kind: &'static str,
    /// `critical`, `high` or `medium`, from the doors and the grant.
    pub severity: &'static str,
    /// `high`, or `low` when a link of the path is unknown.
    pub confidence: &'static str,
    /// Which links are unknown, in words (empty when none).
    pub unknown_reason: String,
    /// The path on one line, e.g. `Deployment ci/image-builder → docker.sock (BRK201)
    /// → node group default → role eks-node → AmazonDynamoDBFullAccess: every DynamoDB
    /// action on every table`.
    pub path: String,
    /// The steps in order, each with its evidence.
    pub steps: Vec<PathStep>,
    /// File of the workload.
    pub file: String,
    /// Position of the first step in the workload's file.
    pub loc: Pos,
}
