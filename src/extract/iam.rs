//! IAM policy documents → statement facts with the exact DynamoDB grant.
//!
//! A document can come from anywhere (a policy JSON file, AWS CLI output, later a
//! Terraform attribute): [`extract_policy`] takes the spanned document. Semantics:
//! `Statement` as object or list; `Action`/`NotAction`/`Resource`/`NotResource` as
//! string or list; action patterns matched case-insensitively with `*` and `?`
//! anywhere; `Allow` + `NotAction` grants every action not excluded; an unconditional
//! `Deny` in the same policy takes back what it covers; conditions are recorded.

use super::dynamodb;
use crate::facts::{
    CustomerPolicy, DynamoGrant, Facts, IamRole, IamStatement, Locs, PolicyAttachment, PolicyKind,
    RolePolicy,
};
use crate::parse::{json, Node, Value};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Condition keys that limit who can use a grant made to every principal.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:userid",
    "aws:username",
    "aws:calledvia",
];

/// Recognises the IAM shapes breakout reads and extracts them. Returns whether `doc`
/// was one: a policy document, or the output of `aws iam get-policy-version`,
/// `get-role-policy` / `get-user-policy` / `get-group-policy`, or
/// `get-account-authorization-details`.
pub fn extract(doc: &Node, file: &str, facts: &mut Facts) -> bool {
    let stem = file_stem(file);
    if doc.get("Statement").is_some() {
        extract_policy(doc, &format!("IAM policy {stem}"), &stem, None, file, facts);
        return true;
    }
    if let Some(d) = doc.path(&["PolicyVersion", "Document"]) {
        with_document(d, |d| {
            extract_policy(d, &format!("IAM policy {stem}"), &stem, None, file, facts)
        });
        return true;
    }
    if let Some(d) = doc.get("PolicyDocument") {
        let name = text(doc.get("PolicyName")).unwrap_or_else(|| stem.clone());
        let holder = [
            ("RoleName", "Role"),
            ("UserName", "User"),
            ("GroupName", "Group"),
        ]
        .iter()
        .find_map(|(k, label)| Some(format!("{label} {}", text(doc.get(k))?)));
        let resource = match &holder {
            Some(h) => format!("{h} inline policy {name}"),
            None => format!("IAM policy {name}"),
        };
        if let Some(role) = text(doc.get("RoleName")) {
            facts
                .role_policies
                .push(role_policy(&role, "inline", &resource, file, d.pos));
        }
        with_document(d, |d| {
            extract_policy(d, &resource, &name, None, file, facts)
        });
        return true;
    }
    let lists = [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ];
    if lists.iter().any(|k| doc.get(k).is_some()) {
        account_details(doc, file, facts);
        return true;
    }
    false
}

/// `aws iam get-account-authorization-details`: inline policies, attached managed
/// policies and trust policies of every role, user and group, and the default
/// version of every customer managed policy.
fn account_details(doc: &Node, file: &str, facts: &mut Facts) {
    for (list, label, name_key, inline_key) in [
        ("RoleDetailList", "Role", "RoleName", "RolePolicyList"),
        ("UserDetailList", "User", "UserName", "UserPolicyList"),
        ("GroupDetailList", "Group", "GroupName", "GroupPolicyList"),
    ] {
        for holder in doc.get(list).map(Node::items).unwrap_or_default() {
            let name = text(holder.get(name_key)).unwrap_or_else(|| "(unnamed)".into());
            let who = format!("{label} {name}");
            let is_role = label == "Role";
            let trust_start = facts.iam_statements.len();
            for p in holder.get(inline_key).map(Node::items).unwrap_or_default() {
                let pname = text(p.get("PolicyName")).unwrap_or_default();
                if let Some(d) = p.get("PolicyDocument") {
                    let resource = format!("{who} inline policy {pname}");
                    if is_role {
                        facts
                            .role_policies
                            .push(role_policy(&name, "inline", &resource, file, p.pos));
                    }
                    with_document(d, |d| {
                        extract_policy(d, &resource, &pname, None, file, facts)
                    });
                }
            }
            if let Some(d) = holder.get("AssumeRolePolicyDocument") {
                let resource = format!("{who} trust policy");
                with_document(d, |d| {
                    extract_policy(d, &resource, "trust", Some(PolicyKind::Trust), file, facts)
                });
            }
            for a in holder
                .get("AttachedManagedPolicies")
                .map(Node::items)
                .unwrap_or_default()
            {
                let arn = text(a.get("PolicyArn")).or_else(|| text(a.get("PolicyName")));
                if let Some(arn) = arn {
                    let locs = Locs::from([("policy_arn", a.pos)]);
                    facts
                        .policy_attachments
                        .push(attachment(&who, &arn, file, a.pos, locs));
                    if is_role {
                        facts
                            .role_policies
                            .push(role_policy(&name, "attached", &arn, file, a.pos));
                    }
                }
            }
            if is_role {
                let trusted = facts.iam_statements[trust_start..]
                    .iter()
                    .filter(|s| s.kind == PolicyKind::Trust && s.effect == "Allow")
                    .flat_map(|s| s.principals.iter().cloned())
                    .collect();
                facts.iam_roles.push(IamRole {
                    resource: who.clone(),
                    name: Some(name.clone()),
                    arn: text(holder.get("Arn")),
                    trusted,
                    file: file.to_string(),
                    loc: holder.pos,
                    locs: Locs::new(),
                });
            }
        }
    }
    for p in doc.get("Policies").map(Node::items).unwrap_or_default() {
        let name = text(p.get("PolicyName")).unwrap_or_default();
        let default = p
            .get("PolicyVersionList")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .find(|v| v.get("IsDefaultVersion").and_then(Node::as_bool) == Some(true));
        facts.customer_policies.push(CustomerPolicy {
            resource: format!("IAM policy {name}"),
            name: Some(name.clone()),
            arn: text(p.get("Arn")),
            document_refs: Vec::new(),
            file: file.to_string(),
            loc: p.pos,
        });
        if let Some(d) = default.and_then(|v| v.get("Document")) {
            let resource = format!("IAM policy {name}");
            with_document(d, |d| {
                extract_policy(d, &resource, &name, None, file, facts)
            });
        }
    }
}

/// A policy bound to a role named in IAM JSON.
fn role_policy(
    role: &str,
    kind: &'static str,
    policy: &str,
    file: &str,
    pos: crate::parse::Pos,
) -> RolePolicy {
    RolePolicy {
        resource: format!("Role {role}"),
        kind,
        role: Some(role.to_string()),
        role_refs: Vec::new(),
        policy: Some(policy.to_string()),
        policy_refs: Vec::new(),
        aws_managed_names: Vec::new(),
        file: file.to_string(),
        loc: pos,
        locs: Locs::new(),
    }
}

/// Whether an unconditional Deny statement takes back, for every resource the Allow
/// statement names, the actions it covers: the rule each policy applies to its own
/// statements, for statements of different policies of one role.
pub fn deny_covers_statement(deny: &IamStatement, allow: &IamStatement) -> bool {
    deny.effect == "Deny"
        && deny.condition_keys.is_empty()
        && deny.not_resources.is_empty()
        && (deny.resources.iter().any(|p| p == "*")
            || (!allow.resources.is_empty()
                && allow.not_resources.is_empty()
                && allow
                    .resources
                    .iter()
                    .all(|r| deny.resources.iter().any(|p| wildcard_match(p, r)))))
}

/// A managed-policy attachment fact, judged against the embedded list.
pub fn attachment(
    holder: &str,
    arn: &str,
    file: &str,
    pos: crate::parse::Pos,
    locs: Locs,
) -> PolicyAttachment {
    let known = dynamodb::managed_policy(arn);
    let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
    let grant_summary = match known {
        Some(p) if p.grants == "all" => "every DynamoDB action on every table".to_string(),
        Some(p) => format!(
            "DynamoDB writes on every table ({})",
            p.write_actions_on_every_resource
                .iter()
                .map(|a| a.trim_start_matches("dynamodb:"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    PolicyAttachment {
        resource: holder.to_string(),
        policy_arn: arn.to_string(),
        policy_name: name,
        grants_all_dynamodb: known.is_some_and(|p| p.grants == "all"),
        grants_dynamodb_writes: known.is_some_and(|p| p.grants != "all"),
        grant_summary,
        file: file.to_string(),
        loc: pos,
        locs,
    }
}

/// Calls `f` with the policy document in `node`: an object, or a JSON string
/// (URL-encoded as the IAM API returns it), whose positions are then the string's.
pub fn with_document(node: &Node, f: impl FnOnce(&Node)) {
    let doc: Option<Cow<Node>> = match &node.value {
        Value::Map(_) => Some(Cow::Borrowed(node)),
        Value::Str(s) => {
            // The IAM API returns documents URL-encoded; the AWS CLI decodes them.
            let decoded = if s.trim_start().starts_with('{') {
                s.clone()
            } else {
                percent_decode(s)
            };
            json::parse(&decoded).ok().map(|mut d| {
                d.relocate(node.pos);
                Cow::Owned(d)
            })
        }
        _ => None,
    };
    if let Some(d) = doc {
        f(&d);
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One statement as written, with its DynamoDB grant before Deny subtraction.
struct Raw<'a> {
    node: &'a Node,
    index: usize,
    sid: Option<String>,
    effect: String,
    actions: Vec<String>,
    not_actions: Vec<String>,
    resources: Vec<String>,
    not_resources: Vec<String>,
    principals: Vec<String>,
    not_principals: Vec<String>,
    /// `Resource` entries that are unknown (Terraform values known after apply).
    unknown_resources: usize,
    /// An `Action`/`NotAction` entry is unknown.
    unknown_actions: bool,
    /// `Effect` is unknown (a Terraform value known after apply).
    unknown_effect: bool,
    condition_keys: Vec<String>,
    restricting_condition: bool,
    granted: BTreeSet<usize>,
}

/// Extracts every statement of a policy document held by `holder`.
pub fn extract_policy(
    doc: &Node,
    holder: &str,
    policy: &str,
    kind_hint: Option<PolicyKind>,
    file: &str,
    facts: &mut Facts,
) {
    let Some(st) = doc.get("Statement") else {
        return;
    };
    let nodes: Vec<&Node> = match &st.value {
        Value::Map(_) => vec![st],
        Value::Seq(items) => items.iter().filter(|n| n.is_map()).collect(),
        _ => Vec::new(),
    };
    let raws: Vec<Raw> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| raw_statement(n, i))
        .collect();
    let kind = kind_hint.unwrap_or_else(|| {
        if raws
            .iter()
            .all(|r| r.principals.is_empty() && r.not_principals.is_empty())
        {
            PolicyKind::Identity
        } else if raws
            .iter()
            .all(|r| !r.actions.is_empty() && r.actions.iter().all(|a| is_trust_action(a)))
        {
            PolicyKind::Trust
        } else {
            PolicyKind::Resource
        }
    });
    let catalog = dynamodb::actions();
    for r in &raws {
        let mut granted = r.granted.clone();
        let mut denied = BTreeSet::new();
        // A statement whose effect is unknown is judged as the Allow it may be.
        if r.effect.eq_ignore_ascii_case("allow") || r.unknown_effect {
            for d in raws.iter().filter(|d| {
                d.effect.eq_ignore_ascii_case("deny")
                    && d.condition_keys.is_empty()
                    && deny_covers(d, r)
            }) {
                for i in d.granted.intersection(&r.granted) {
                    denied.insert(*i);
                }
            }
            granted.retain(|i| !denied.contains(i));
        }
        let names = |set: &BTreeSet<usize>, class: Option<&str>| -> Vec<String> {
            set.iter()
                .map(|&i| &catalog[i])
                .filter(|a| class.is_none_or(|c| a.class == c))
                .map(|a| a.name.clone())
                .collect()
        };
        let all_actions = granted.len() == catalog.len();
        let every_table = covers_every_table(&r.resources, &r.not_resources);
        let modifying: Vec<String> = granted
            .iter()
            .map(|&i| &catalog[i])
            .filter(|a| a.class != "read")
            .map(|a| a.name.clone())
            .collect();
        let summary = if all_actions {
            format!("all {} DynamoDB actions", catalog.len())
        } else {
            list_summary(&names(&granted, None))
        };
        let modifying_summary = if all_actions {
            format!("all {} write, delete and admin actions", modifying.len())
        } else {
            list_summary(&modifying)
        };
        let scope = if every_table {
            "every table".to_string()
        } else if !r.not_resources.is_empty() {
            format!("everything except {}", r.not_resources.join(", "))
        } else {
            // Only the DynamoDB resources say where the grant applies; a resource known
            // only after apply (a Terraform attribute) is named as such.
            let mut named: Vec<String> = r
                .resources
                .iter()
                .filter(|p| may_name_dynamodb(p))
                .cloned()
                .collect();
            if r.unknown_resources > 0 {
                named.push("a resource known only after apply".into());
            }
            if named.is_empty() {
                r.resources.join(", ")
            } else {
                named.join(", ")
            }
        };
        let mut locs = Locs::new();
        for (key, field) in [
            ("Action", "action"),
            ("NotAction", "action"),
            ("Resource", "resource"),
            ("NotResource", "resource"),
            ("Principal", "principal"),
            ("NotPrincipal", "principal"),
            ("Condition", "condition"),
            ("Effect", "effect"),
        ] {
            if let Some(e) = r.node.entry(key) {
                locs.insert(field, e.key_pos);
            }
        }
        // `NotPrincipal` with Allow grants everyone but the listed principals: public,
        // unless it lists everyone.
        let everyone = |p: &String| p == "*" || p == "AWS:*";
        let public = (r.effect == "Allow" || r.unknown_effect)
            && (r.principals.iter().any(everyone)
                || (!r.not_principals.is_empty() && !r.not_principals.iter().any(everyone)));
        facts.iam_statements.push(IamStatement {
            resource: holder.to_string(),
            policy: policy.to_string(),
            kind,
            statement: match &r.sid {
                Some(s) if !s.is_empty() => format!("Sid \"{s}\""),
                _ => format!("statement {}", r.index + 1),
            },
            sid: r.sid.clone(),
            effect: r.effect.clone(),
            actions: r.actions.clone(),
            not_actions: r.not_actions.clone(),
            resources: r.resources.clone(),
            not_resources: r.not_resources.clone(),
            principals: r.principals.clone(),
            not_principals: r.not_principals.clone(),
            public,
            condition_keys: r.condition_keys.clone(),
            restricting_condition: r.restricting_condition,
            condition_note: if r.condition_keys.is_empty() {
                String::new()
            } else {
                format!(
                    " (narrowed by a condition on {})",
                    r.condition_keys.join(", ")
                )
            },
            dynamodb: DynamoGrant {
                all_actions,
                count: granted.len(),
                actions: names(&granted, None),
                read: names(&granted, Some("read")),
                write: names(&granted, Some("write")),
                delete: names(&granted, Some("delete")),
                admin: names(&granted, Some("admin")),
                modifying,
                denied: names(&denied, None),
                every_table,
                unknown_actions: r.unknown_actions,
                summary,
                modifying_summary,
                scope,
            },
            unknown: if r.unknown_effect {
                crate::facts::Unknown::from([("effect", true)])
            } else {
                crate::facts::Unknown::new()
            },
            unknown_note: match (r.unknown_actions, r.unknown_effect) {
                (true, true) => "has an effect and an action known only at apply time",
                (true, false) => "has an action known only at apply time",
                (false, true) => "has an effect known only at apply time",
                (false, false) => "",
            }
            .to_string(),
            file: file.to_string(),
            loc: r.node.pos,
            locs,
        });
    }
}

fn raw_statement(n: &Node, index: usize) -> Raw<'_> {
    let strings = |key: &str| -> Vec<String> {
        match n.get(key) {
            Some(v) => match &v.value {
                Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
                _ => v.scalar_text().into_iter().collect(),
            },
            None => Vec::new(),
        }
    };
    let actions = strings("Action");
    let not_actions = strings("NotAction");
    let resources = strings("Resource");
    let not_resources = strings("NotResource");
    // `Action: "*"` on an S3 bucket grants nothing on DynamoDB: the resources must be
    // able to name a DynamoDB resource. An unknown resource (a Terraform attribute known
    // after apply) might.
    let unknown_resources = n.get("Resource").map_or(0, |r| {
        usize::from(r.is_unknown()) + r.items().iter().filter(|i| i.is_unknown()).count()
    });
    let unknown_resource = unknown_resources > 0;
    let reaches_dynamodb = if n.get("NotResource").is_some() {
        !not_resources.iter().any(|p| covers_all_dynamodb(p))
    } else if n.get("Resource").is_some() {
        unknown_resource || resources.iter().any(|p| may_name_dynamodb(p))
    } else {
        true
    };
    // An Action entry known only at apply time could be anything.
    let unknown_in = |key: &str| {
        n.get(key)
            .is_some_and(|a| a.is_unknown() || a.items().iter().any(Node::is_unknown))
    };
    let unknown_actions = reaches_dynamodb && (unknown_in("Action") || unknown_in("NotAction"));
    let catalog = dynamodb::actions();
    let not_action = n.get("NotAction").is_some();
    // An unknown NotAction entry may exclude any action: nothing is granted for certain
    // (`unknown_actions` says it may be more).
    let not_action_unknown = unknown_in("NotAction");
    let granted: BTreeSet<usize> = if !reaches_dynamodb || not_action_unknown {
        BTreeSet::new()
    } else if not_action {
        let named = catalog_matches(catalog, &not_actions);
        (0..catalog.len()).filter(|i| !named.contains(i)).collect()
    } else {
        catalog_matches(catalog, &actions)
    };
    let (condition_keys, restricting_condition) = conditions(n.get("Condition"));
    // IAM spells the effect `Allow`/`Deny`; other spellings are read the same way.
    let effect = match text(n.get("Effect")) {
        Some(e) if e.eq_ignore_ascii_case("allow") => "Allow".to_string(),
        Some(e) if e.eq_ignore_ascii_case("deny") => "Deny".to_string(),
        other => other.unwrap_or_default(),
    };
    let unknown_effect = n.get("Effect").is_some_and(Node::is_unknown);
    Raw {
        node: n,
        index,
        sid: text(n.get("Sid")),
        effect,
        actions,
        not_actions,
        resources,
        not_resources,
        principals: principals(n.get("Principal")),
        not_principals: principals(n.get("NotPrincipal")),
        unknown_resources,
        unknown_actions,
        unknown_effect,
        condition_keys,
        restricting_condition,
        granted,
    }
}

/// The catalog actions (by index) that any of `patterns` matches, as
/// [`wildcard_match`] decides. A pattern without `*` or `?` matches only the action it
/// names, whatever the case: it is looked up instead of matched against every action
/// (most statements name their actions, and this ran for every statement).
fn catalog_matches(catalog: &[dynamodb::Action], patterns: &[String]) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    for p in patterns {
        if p.contains(['*', '?']) {
            found.extend((0..catalog.len()).filter(|&i| wildcard_match(p, &catalog[i].full_name)));
        } else if let Some(i) = catalog
            .iter()
            .position(|a| a.full_name.eq_ignore_ascii_case(p))
        {
            found.insert(i);
        }
    }
    found
}

/// `"*"` → `*`; `{"AWS": ["a", "b"], "Service": "s"}` → `AWS:a`, `AWS:b`, `Service:s`.
fn principals(p: Option<&Node>) -> Vec<String> {
    let Some(p) = p else { return Vec::new() };
    if let Some(s) = p.scalar_text() {
        return vec![s];
    }
    let mut out = Vec::new();
    for e in p.entries() {
        let values: Vec<String> = match &e.value.value {
            Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            _ => e.value.scalar_text().into_iter().collect(),
        };
        out.extend(values.into_iter().map(|v| format!("{}:{v}", e.key)));
    }
    out
}

/// The condition keys used, and whether one of them limits who the grant reaches
/// (with a concrete value, not `*`).
fn conditions(c: Option<&Node>) -> (Vec<String>, bool) {
    let mut keys = Vec::new();
    let mut restricting = false;
    for op in c.map(Node::entries).unwrap_or_default() {
        for e in op.value.entries() {
            keys.push(e.key.clone());
            let values: Vec<String> = match &e.value.value {
                Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
                _ => e.value.scalar_text().into_iter().collect(),
            };
            let concrete = !values.is_empty() && values.iter().all(|v| v != "*");
            let op_name = op.key.to_ascii_lowercase();
            let negative = op_name.contains("not") || op_name.starts_with("null");
            if concrete
                && !negative
                && RESTRICTING_KEYS.contains(&e.key.to_ascii_lowercase().as_str())
            {
                restricting = true;
            }
        }
    }
    keys.sort();
    keys.dedup();
    (keys, restricting)
}

fn is_trust_action(a: &str) -> bool {
    let a = a.to_ascii_lowercase();
    a.starts_with("sts:assumerole") || a == "sts:tagsession" || a == "sts:setsourceidentity"
}

/// Whether Deny `d` applies to every resource Allow `a` names.
fn deny_covers(d: &Raw, a: &Raw) -> bool {
    if !d.not_resources.is_empty() {
        return false;
    }
    if d.resources.iter().any(|p| p == "*") {
        return true;
    }
    !a.resources.is_empty()
        && a.not_resources.is_empty()
        && a.resources
            .iter()
            .all(|r| d.resources.iter().any(|p| wildcard_match(p, r)))
}

/// Whether a statement's resources include every DynamoDB table.
/// Sample DynamoDB ARNs of every resource type, to test what a pattern covers.
const DYNAMODB_ARNS: &[&str] = &[
    "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/index/by-customer",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2024-01-01T00:00:00.000",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/backup/01234567890123-abcdefgh",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/export/01234567890123-abcdefgh",
    "arn:aws:dynamodb::111122223333:global-table/orders",
];

/// Whether a `Resource` pattern can name some DynamoDB resource.
fn may_name_dynamodb(p: &str) -> bool {
    // A template placeholder (`${var.table_arn}`) is filled in later: it might.
    if p.contains("${") {
        return true;
    }
    let parts: Vec<&str> = p.splitn(4, ':').collect();
    match parts.as_slice() {
        ["*"] => true,
        // A wildcard before the service field can stand for the service.
        [a, b, ..] if a.contains('*') || b.contains('*') => true,
        [_, _, service, ..] => wildcard_match(service, "dynamodb"),
        _ => p.contains('*'),
    }
}

/// Whether a `NotResource` pattern excludes every DynamoDB resource.
fn covers_all_dynamodb(p: &str) -> bool {
    DYNAMODB_ARNS.iter().all(|arn| wildcard_match(p, arn))
}

fn covers_every_table(resources: &[String], not_resources: &[String]) -> bool {
    if !not_resources.is_empty() {
        return !not_resources.iter().any(|p| pattern_covers_every_table(p));
    }
    resources.iter().any(|p| pattern_covers_every_table(p))
}

/// A probe no literal name contains: only wildcards match it.
const PROBE: &str = "\u{7f}probe\u{7f}";

fn pattern_covers_every_table(p: &str) -> bool {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if let [arn, _partition, service, _region, _account, res] = parts[..] {
        // Any region and any account: an account-wide table wildcard still covers
        // every table that account has.
        wildcard_match(arn, "arn")
            && wildcard_match(service, "dynamodb")
            && wildcard_match(res, &format!("table/{PROBE}"))
    } else {
        wildcard_match(
            p,
            &format!("arn:aws:dynamodb:{PROBE}:{PROBE}:table/{PROBE}"),
        )
    }
}

/// IAM wildcard matching: `*` any run of characters, `?` one character, ASCII case
/// ignored (action names are case-insensitive; resource patterns rarely differ in case).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    // Bytes, compared ASCII-case-insensitively: IAM action and ARN patterns are ASCII,
    // and a multi-byte character only ever equals itself. No allocation: this runs for
    // every catalog action against every pattern of every statement.
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn list_summary(names: &[String]) -> String {
    const SHOWN: usize = 12;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{} DynamoDB actions ({}, …)",
            names.len(),
            names[..SHOWN].join(", ")
        )
    }
}

fn text(n: Option<&Node>) -> Option<String> {
    n.and_then(Node::scalar_text)
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::IamStatement;

    fn statements(doc: &str) -> Vec<IamStatement> {
        let mut facts = Facts::default();
        assert!(extract(&json::parse(doc).unwrap(), "p.json", &mut facts));
        facts.iam_statements
    }

    fn one(statement: &str) -> IamStatement {
        statements(&format!(
            r#"{{"Version": "2012-10-17", "Statement": {statement}}}"#
        ))
        .remove(0)
    }

    fn facts(doc: &str) -> Facts {
        let mut facts = Facts::default();
        assert!(extract(&json::parse(doc).unwrap(), "p.json", &mut facts));
        facts
    }

    #[test]
    fn looking_up_a_named_action_matches_as_wildcards_do() {
        let catalog = dynamodb::actions();
        let mut patterns: Vec<String> = vec![
            "dynamodb:GetItem".into(),
            "DYNAMODB:getitem".into(),
            "dynamodb:GetItems".into(),
            "dynamodb:".into(),
            "s3:GetObject".into(),
            "dynamodb:*".into(),
            "*".into(),
            "dynamodb:?etItem".into(),
            "dynamodb:*Item".into(),
            "dynamodb:Get*".into(),
            "dynamodb:GetItem ".into(),
            "".into(),
            "dynamodb:é".into(),
        ];
        patterns.extend(catalog.iter().map(|a| a.full_name.to_uppercase()));
        for p in &patterns {
            let want: BTreeSet<usize> = (0..catalog.len())
                .filter(|&i| wildcard_match(p, &catalog[i].full_name))
                .collect();
            assert_eq!(
                catalog_matches(catalog, std::slice::from_ref(p)),
                want,
                "{p}"
            );
        }
        let want: BTreeSet<usize> = (0..catalog.len())
            .filter(|&i| {
                patterns
                    .iter()
                    .any(|p| wildcard_match(p, &catalog[i].full_name))
            })
            .collect();
        assert_eq!(catalog_matches(catalog, &patterns), want);
    }

    fn granted(action: &str) -> Vec<String> {
        one(&format!(
            r#"{{"Effect": "Allow", "Action": {action}, "Resource": "*"}}"#
        ))
        .dynamodb
        .actions
    }

    #[test]
    fn statement_as_object_or_list_and_action_as_string_or_list() {
        let a = one(r#"{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}"#);
        let b = one(r#"[{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": ["*"]}]"#);
        assert_eq!(a.dynamodb.actions, ["GetItem"]);
        assert_eq!(b.dynamodb.actions, ["GetItem"]);
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards_anywhere() {
        let all = dynamodb::actions().len();
        for p in [
            r#""dynamodb:*""#,
            r#""DynamoDB:*""#,
            r#""*""#,
            r#""*:*""#,
            r#""dynamo*:*""#,
        ] {
            assert_eq!(granted(p).len(), all, "{p}");
        }
        let items = granted(r#""dynamodb:*Item""#);
        assert!(items.iter().all(|a| a.ends_with("Item")), "{items:?}");
        for a in [
            "GetItem",
            "PutItem",
            "DeleteItem",
            "UpdateItem",
            "BatchWriteItem",
            "BatchGetItem",
        ] {
            assert!(items.contains(&a.to_string()), "{a} in {items:?}");
        }
        assert_eq!(granted(r#""dynamodb:?etItem""#), ["GetItem"]);
        assert_eq!(
            granted(r#"["s3:*", "ec2:Describe*"]"#),
            Vec::<String>::new()
        );
        assert!(wildcard_match("a*b*c", "aXXbYYc") && !wildcard_match("a*b", "ac"));
    }

    #[test]
    fn not_action_grants_everything_not_excluded() {
        let s = one(
            r#"{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}"#,
        );
        assert!(s.dynamodb.all_actions);
        let s = one(r#"{"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}"#);
        assert!(!s.dynamodb.all_actions);
        assert!(s.dynamodb.actions.contains(&"PutItem".to_string()));
        assert!(!s.dynamodb.actions.iter().any(|a| a.starts_with("Delete")));
    }

    #[test]
    fn deny_grants_nothing_and_takes_back_what_it_covers() {
        let s = statements(
            r#"{"Statement": [
              {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"},
              {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*",
               "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
            ]}"#,
        );
        let allow = &s[0].dynamodb;
        assert!(!allow.all_actions);
        assert!(allow.denied.iter().all(|a| a.starts_with("Delete")) && !allow.denied.is_empty());
        assert!(
            allow.actions.contains(&"PutItem".to_string()),
            "a conditional Deny takes nothing back"
        );
        assert_eq!(s[1].effect, "Deny");
    }

    #[test]
    fn deny_on_other_resources_takes_nothing_back() {
        let s = statements(
            r#"{"Statement": [
              {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:us-east-1:1:table/*"},
              {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:us-east-1:1:table/audit"}
            ]}"#,
        );
        assert!(s[0].dynamodb.all_actions);
    }

    #[test]
    fn resources_must_be_able_to_name_dynamodb() {
        let grant = |resource: &str| {
            let f = facts(&format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Action": "*", "Resource": {resource}}}]}}"#
            ));
            f.iam_statements[0].dynamodb.count
        };
        assert_eq!(grant(r#""arn:aws:s3:::bucket/*""#), 0);
        assert_eq!(
            grant(r#"["arn:aws:iam::aws:policy/AdministratorAccess"]"#),
            0
        );
        assert_eq!(grant(r#""arn:aws:dynamodb:eu-west-1:1:table/orders""#), 79);
        assert_eq!(grant(r#""arn:aws:dynamo*:*:*:*""#), 79);
        assert_eq!(grant(r#""arn:*:*""#), 79);
        assert_eq!(grant(r#""${var.table_arn}""#), 79);
        let f = facts(
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:dynamodb:*"}]}"#,
        );
        assert_eq!(
            f.iam_statements[0].dynamodb.count, 0,
            "NotResource excludes every DynamoDB ARN"
        );
        let f = facts(
            r#"{"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:dynamodb:*:*:table/audit"}]}"#,
        );
        assert_eq!(f.iam_statements[0].dynamodb.count, 79);
    }

    #[test]
    fn not_principal_with_allow_is_public_and_effect_case_is_normalised() {
        let f = facts(
            r#"{"Statement": [{"Effect": "allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "dynamodb:GetItem", "Resource": "*"}]}"#,
        );
        let s = &f.iam_statements[0];
        assert_eq!(s.effect, "Allow");
        assert!(s.public && s.kind == PolicyKind::Resource);
        assert_eq!(s.not_principals, ["AWS:arn:aws:iam::1:root"]);
        let f = facts(
            r#"{"Statement": [{"Effect": "Allow", "NotPrincipal": "*", "Action": "dynamodb:GetItem", "Resource": "*"}]}"#,
        );
        assert!(!f.iam_statements[0].public);
    }

    #[test]
    fn every_table_includes_account_wide_wildcards_and_not_resource() {
        let every = |r: &str| {
            one(&format!(
                r#"{{"Effect": "Allow", "Action": "dynamodb:PutItem", {r}}}"#
            ))
            .dynamodb
            .every_table
        };
        assert!(every(r#""Resource": "*""#));
        assert!(every(r#""Resource": "arn:aws:dynamodb:*:*:table/*""#));
        assert!(every(
            r#""Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/*""#
        ));
        assert!(every(
            r#""Resource": ["arn:aws:dynamodb:eu-west-1:1:table/a", "arn:aws:dynamodb:*"]"#
        ));
        assert!(!every(
            r#""Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/orders""#
        ));
        assert!(!every(
            r#""Resource": "arn:aws:dynamodb:*:*:table/orders*""#
        ));
        assert!(!every(
            r#""Resource": "arn:aws:dynamodb:*:*:table/*/index/*""#
        ));
        assert!(every(
            r#""NotResource": "arn:aws:dynamodb:*:*:table/audit""#
        ));
        assert!(!every(r#""NotResource": "arn:aws:dynamodb:*:*:table/*""#));
    }

    #[test]
    fn conditions_are_recorded_and_restricting_ones_recognised() {
        let s = one(
            r#"{"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}"#,
        );
        assert_eq!(s.kind, PolicyKind::Resource);
        assert!(s.public && s.restricting_condition);
        assert_eq!(s.condition_keys, ["aws:PrincipalOrgID"]);
        assert!(s.condition_note.contains("aws:PrincipalOrgID"));
        let s = one(
            r#"{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "dynamodb:*", "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}"#,
        );
        assert!(
            s.public && !s.restricting_condition,
            "a negated condition does not restrict"
        );
    }

    #[test]
    fn trust_policies_are_recognised() {
        let s = one(
            r#"{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}"#,
        );
        assert_eq!(s.kind, PolicyKind::Trust);
        assert_eq!(s.principals, ["Service:ec2.amazonaws.com"]);
    }

    #[test]
    fn findings_point_at_the_action_key() {
        let s = statements("{\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"NotAction\": \"iam:*\",\n    \"Resource\": \"*\"\n  }]\n}");
        assert_eq!(s[0].locs["action"].line, 4);
        assert_eq!(s[0].locs["resource"].line, 5);
    }

    #[test]
    fn aws_cli_outputs() {
        let s = statements(
            r#"{"PolicyVersion": {"VersionId": "v3", "IsDefaultVersion": true,
                "Document": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}}}"#,
        );
        assert_eq!(s[0].resource, "IAM policy p");
        let s = statements(
            r#"{"RoleName": "app", "PolicyName": "db", "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}}}"#,
        );
        assert_eq!(s[0].resource, "Role app inline policy db");

        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22dynamodb%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let doc = format!(
            r#"{{"RoleDetailList": [{{"RoleName": "app",
                 "AssumeRolePolicyDocument": {{"Statement": [{{"Effect": "Allow", "Principal": {{"Service": "ecs-tasks.amazonaws.com"}}, "Action": "sts:AssumeRole"}}]}},
                 "RolePolicyList": [{{"PolicyName": "inline", "PolicyDocument": "{encoded}"}}],
                 "AttachedManagedPolicies": [{{"PolicyName": "AmazonDynamoDBFullAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"}},
                                             {{"PolicyName": "ReadOnly", "PolicyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"}}]}}],
               "Policies": [{{"PolicyName": "custom", "PolicyVersionList": [
                 {{"IsDefaultVersion": false, "Document": {{"Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}}]}}}},
                 {{"IsDefaultVersion": true, "Document": {{"Statement": [{{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}}]}}}}]}}]}}"#
        );
        let mut facts = Facts::default();
        assert!(extract(
            &json::parse(&doc).unwrap(),
            "auth.json",
            &mut facts
        ));
        let res: Vec<_> = facts
            .iam_statements
            .iter()
            .map(|s| (s.resource.as_str(), s.kind))
            .collect();
        assert_eq!(
            res,
            [
                ("Role app inline policy inline", PolicyKind::Identity),
                ("Role app trust policy", PolicyKind::Trust),
                ("IAM policy custom", PolicyKind::Identity)
            ]
        );
        assert!(
            facts.iam_statements[0].dynamodb.all_actions,
            "URL-encoded document decoded"
        );
        assert_eq!(
            facts.iam_statements[2].dynamodb.actions,
            ["GetItem"],
            "default version only"
        );
        let att = &facts.policy_attachments;
        assert_eq!(att.len(), 2);
        assert!(
            att[0].grants_all_dynamodb
                && !att[1].grants_all_dynamodb
                && !att[1].grants_dynamodb_writes
        );
    }

    #[test]
    fn unrelated_json_is_not_iam() {
        let mut facts = Facts::default();
        assert!(!extract(
            &json::parse(r#"{"name": "x", "version": "1.0"}"#).unwrap(),
            "package.json",
            &mut facts
        ));
    }
}
