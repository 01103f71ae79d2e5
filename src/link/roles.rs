//! IAM roles, by name, ARN and Terraform reference, and what each grants in DynamoDB.
//!
//! A role's grant is every Allow statement of its policies: inline policies
//! (`aws_iam_role.inline_policy`, `aws_iam_role_policy`, an account's
//! `RolePolicyList`), attached customer policies scanned in the same run
//! (`aws_iam_policy`, an account's `Policies`), AWS managed policies (the bundled
//! `data/aws-managed-dynamodb.json`) and `managed_policy_arns`. IAM evaluates a role's
//! policies together, so an unconditional Deny in any of them takes back what it
//! covers from the Allows of all the others: the same rule, and the same action
//! catalog, BRK101–BRK104 apply within one policy.

use crate::extract::terraform::refs::{refers_to, without_keys};
use crate::extract::{dynamodb, iam};
use crate::facts::{
    CustomerPolicy, Facts, IamRole, IamStatement, PathStep, PolicyKind, RolePolicy,
};
use crate::parse::Pos;
use std::collections::{BTreeSet, HashMap};

/// What a role grants in DynamoDB, and where that comes from.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Every DynamoDB action granted, after Deny subtraction.
    pub actions: BTreeSet<String>,
    /// Write, delete and admin actions granted on every table.
    pub every_table: BTreeSet<String>,
    /// The statements and managed policies that grant writes, with their rule
    /// (BRK101, BRK102, BRK103), a description and a short name (the managed policy's,
    /// or the statement's), most severe first.
    pub sources: Vec<(GrantKind, PathStep, String)>,
    /// A policy bound to the role is not in the scan: it may grant more.
    pub unknown: Vec<String>,
}

/// How broad a grant is, from least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GrantKind {
    /// Nothing that writes.
    None,
    /// Writes, deletes or admin actions on some tables.
    Writes,
    /// Writes, deletes or admin actions on every table (BRK102).
    EveryTable,
    /// Every DynamoDB action (BRK101, BRK103).
    All,
}

impl GrantKind {
    /// The fact spelling (`all`, `every-table`, `writes`).
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::All => "all",
            GrantKind::EveryTable => "every-table",
            GrantKind::Writes => "writes",
            GrantKind::None => "none",
        }
    }
}

impl Grant {
    /// The broadest kind.
    pub fn kind(&self) -> GrantKind {
        if self.actions.len() == dynamodb::actions().len() {
            GrantKind::All
        } else if !self.every_table.is_empty() {
            GrantKind::EveryTable
        } else if self.actions.iter().any(|a| is_modifying(a)) {
            GrantKind::Writes
        } else {
            GrantKind::None
        }
    }

    /// `AmazonDynamoDBFullAccess: every DynamoDB action on every table`, naming the
    /// broadest source.
    pub fn summary(&self) -> String {
        let mut sources: Vec<&(GrantKind, PathStep, String)> = self.sources.iter().collect();
        sources.sort_by_key(|s| std::cmp::Reverse(s.0));
        let all = dynamodb::actions();
        let missing: Vec<&str> = all
            .iter()
            .filter(|a| !self.actions.contains(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        let what = match self.kind() {
            GrantKind::All => "every DynamoDB action".to_string(),
            // Every action but a few a Deny takes back.
            GrantKind::EveryTable if !missing.is_empty() && missing.len() <= 4 => format!(
                "every DynamoDB action but {} on every table",
                missing.join(", ")
            ),
            GrantKind::EveryTable => format!(
                "{} on every table",
                list(&self.every_table.iter().cloned().collect::<Vec<_>>())
            ),
            _ => {
                let writes: Vec<String> = self
                    .actions
                    .iter()
                    .filter(|a| is_modifying(a))
                    .cloned()
                    .collect();
                format!("{} on some tables", list(&writes))
            }
        };
        let what = if self.kind() == GrantKind::All && !self.every_table.is_empty() {
            format!("{what} on every table")
        } else {
            what
        };
        match sources.first() {
            Some((_, _, name)) => {
                let more = sources.len() - 1;
                let and = if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                };
                format!("{name}{and}: {what}")
            }
            None => what,
        }
    }
}

/// `PutItem, DeleteItem` or `12 actions (PutItem, …)`.
fn list(actions: &[String]) -> String {
    if actions.len() <= 4 {
        actions.join(", ")
    } else {
        format!("{} actions ({}, …)", actions.len(), actions[..3].join(", "))
    }
}

fn is_modifying(action: &str) -> bool {
    static MODIFYING: std::sync::OnceLock<BTreeSet<&'static str>> = std::sync::OnceLock::new();
    MODIFYING
        .get_or_init(|| {
            dynamodb::actions()
                .iter()
                .filter(|a| a.class != "read")
                .map(|a| a.name.as_str())
                .collect()
        })
        .contains(action)
}

/// A role reference resolved.
#[derive(Clone, Debug)]
pub enum RoleLink {
    /// The roles it names (several when several scanned roles match).
    Found(Vec<usize>),
    /// Not in the scan: how it is named (`arn:aws:iam::1:role/x (not in the scan)`),
    /// and why it is unknown, in words.
    Unknown(String, String),
}

/// Every role of the scan with its grant.
///
/// Terraform addresses are unique only within one configuration, so a reference by
/// address (`aws_iam_role.nodes`) is resolved within the facts of the same root
/// module (the same element of the scan's facts); names and ARNs are the account's,
/// and resolve across the whole scan.
pub struct Roles<'a> {
    /// The roles, sorted by file, position and resource.
    pub roles: Vec<&'a IamRole>,
    /// The element of the scan's facts each role is in.
    pub at: Vec<usize>,
    /// Where each element of the scan's facts comes from ([`Facts::origin`]).
    pub origins: Vec<Option<std::path::PathBuf>>,
    /// Their grants, by index.
    pub grants: Vec<Grant>,
    /// Each grant's kind and summary, worked out once.
    pub summaries: Vec<(GrantKind, String)>,
    /// The roles by Terraform address, so a lookup reads the few candidates rather
    /// than every role (plans with thousands of roles made it quadratic).
    by_address: AddressIndex<'a>,
    /// The roles by ARN and by name.
    by_arn: HashMap<&'a str, Vec<usize>>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Roles<'a> {
    /// Indexes the roles of every file and works out their grants.
    pub fn new(all: &'a [Facts]) -> Self {
        let mut roles: Vec<(usize, &IamRole)> = indexed(all, |f| &f.iam_roles);
        roles.sort_by(|(_, a), (_, b)| {
            (&a.file, a.loc, &a.resource).cmp(&(&b.file, b.loc, &b.resource))
        });
        roles.dedup_by(|(i, a), (j, b)| i == j && a.resource == b.resource && a.file == b.file);
        let bindings = indexed(all, |f| &f.role_policies);
        let customer = indexed(all, |f| &f.customer_policies);
        let statements: Vec<(usize, &IamStatement)> = indexed(all, |f| &f.iam_statements)
            .into_iter()
            .filter(|(_, s)| s.kind == PolicyKind::Identity)
            .collect();
        let links = Links::new(&bindings, &statements);
        let grants: Vec<Grant> = roles
            .iter()
            .map(|r| grant(*r, &bindings, &customer, &statements, &links))
            .collect();
        let mut by_address = AddressIndex::default();
        let mut by_arn: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (at, r)) in roles.iter().enumerate() {
            by_address.add(*at, &r.resource, i);
            if let Some(arn) = r.arn.as_deref() {
                by_arn.entry(arn).or_default().push(i);
            }
            if let Some(name) = r.name.as_deref() {
                by_name.entry(name).or_default().push(i);
            }
        }
        let summaries = grants
            .iter()
            .map(|g: &Grant| (g.kind(), g.summary()))
            .collect();
        Roles {
            summaries,
            origins: all.iter().map(|f| f.origin.clone()).collect(),
            at: roles.iter().map(|(i, _)| *i).collect(),
            roles: roles.into_iter().map(|(_, r)| r).collect(),
            grants,
            by_address,
            by_arn,
            by_name,
        }
    }

    /// The roles a reference in element `at` names: by Terraform reference (in the
    /// same element), else by ARN or name. When a name matches roles in several
    /// places (two environments of one repository), the roles nearest the reference
    /// (the longest common folder of where their facts come from) are taken.
    pub fn resolve(&self, value: Option<&str>, refs: &[String], at: usize) -> RoleLink {
        // Candidates from the indexes, then the same tests as a scan of every role.
        let mut candidates: Vec<usize> = Vec::new();
        for x in refs {
            self.by_address.candidates(at, x, &mut candidates);
        }
        if refs.is_empty() {
            if let Some(v) = value {
                candidates.extend(self.by_arn.get(v).into_iter().flatten());
                if let Some(name) = role_name_of(v) {
                    candidates.extend(self.by_name.get(name).into_iter().flatten());
                }
            }
        }
        let mut found: BTreeSet<usize> = BTreeSet::new();
        for i in candidates {
            let r = self.roles[i];
            let by_ref = self.at[i] == at && refs.iter().any(|x| refers_to(x, &r.resource));
            let by_name = refs.is_empty() && value.is_some_and(|v| names_role(v, r));
            if by_ref || by_name {
                found.insert(i);
            }
        }
        if refs.is_empty() && found.len() > 1 {
            let near = |i: &usize| self.nearness(at, self.at[*i]);
            let best = found.iter().map(near).max().unwrap_or(0);
            found.retain(|i| near(i) == best);
        }
        if !found.is_empty() {
            return RoleLink::Found(found.into_iter().collect());
        }
        let (name, why) = match (value, refs.first()) {
            (Some(v), _) => (
                format!("{v} (not in the scan)"),
                format!("role {v} is not in the scan"),
            ),
            (None, Some(r)) if r.contains("data.aws_iam_role.") => (
                format!("{r} (read from the account)"),
                format!("role {r} is read from the account, not in the scan"),
            ),
            (None, Some(r)) => (
                format!("{r} (not in the scan)"),
                format!("role {r} is not in the scan"),
            ),
            (None, None) => (
                "known only after apply".to_string(),
                "the role is known only after apply".to_string(),
            ),
        };
        RoleLink::Unknown(name, why)
    }

    /// How near two elements of the scan's facts are: the folders their origins
    /// share.
    pub fn nearness(&self, a: usize, b: usize) -> usize {
        match (&self.origins[a], &self.origins[b]) {
            (Some(x), Some(y)) => x
                .components()
                .zip(y.components())
                .take_while(|(p, q)| p == q)
                .count(),
            _ => 0,
        }
    }

    /// A role's display name: its name, else its resource.
    pub fn name(&self, i: usize) -> String {
        let r = self.roles[i];
        r.name.clone().unwrap_or_else(|| r.resource.clone())
    }
}

/// Whether a role name or ARN names the role.
fn names_role(value: &str, r: &IamRole) -> bool {
    if r.arn.as_deref() == Some(value) {
        return true;
    }
    role_name_of(value).is_some_and(|name| r.name.as_deref() == Some(name))
}

/// The role name a name or ARN gives (none for an ARN of something else than a role).
fn role_name_of(value: &str) -> Option<&str> {
    if value.starts_with("arn:") {
        if !value.contains(":role/") {
            return None;
        }
        Some(value.rsplit('/').next().unwrap_or(value))
    } else {
        Some(value)
    }
}

/// Facts by Terraform address within an element of the scan's facts, for
/// [`refers_to`] lookups: every address a reference can name shares with it either
/// the part before its first `[` (an instance of it) or, for a reference without
/// keys, its text with the keys left out. Lookups give candidates; callers apply
/// `refers_to` itself, so the index changes what is read, never what matches.
#[derive(Default)]
struct AddressIndex<'a> {
    by_stem: HashMap<(usize, &'a str), Vec<usize>>,
    by_unkeyed: HashMap<(usize, String), Vec<usize>>,
}

/// The part of an address before its first `[`.
fn stem(address: &str) -> &str {
    address.split('[').next().unwrap_or(address)
}

impl<'a> AddressIndex<'a> {
    fn add(&mut self, at: usize, address: &'a str, i: usize) {
        self.by_stem.entry((at, stem(address))).or_default().push(i);
        if address.contains('[') {
            self.by_unkeyed
                .entry((at, without_keys(address)))
                .or_default()
                .push(i);
        }
    }

    /// Adds the facts at `at` whose address `reference` may refer to.
    fn candidates(&self, at: usize, reference: &str, out: &mut Vec<usize>) {
        // `by_stem` also holds every address without keys under its own text.
        if let Some(v) = self.by_stem.get(&(at, stem(reference))) {
            out.extend(v);
        }
        if !reference.contains('[') {
            if let Some(v) = self.by_unkeyed.get(&(at, reference.to_string())) {
                out.extend(v);
            }
        }
    }
}

/// Role bindings and policy statements indexed for [`grant`].
struct Links<'a> {
    /// Bindings by the Terraform address their role references name.
    bindings_by_ref: ReverseIndex<'a>,
    /// Bindings without references by their role value, and by the role name it gives.
    bindings_by_value: HashMap<&'a str, Vec<usize>>,
    bindings_by_name: HashMap<&'a str, Vec<usize>>,
    /// Statements by the address of the policy that holds them.
    statements: AddressIndex<'a>,
    statements_by_holder: HashMap<(usize, &'a str), Vec<usize>>,
}

/// References indexed by what they can name: for a reference `x` in element `at`,
/// an address `a` with `refers_to(x, a)` has `stem(a) == stem(x)` or, when `x` has
/// no keys, `without_keys(a) == x`.
#[derive(Default)]
struct ReverseIndex<'a> {
    by_stem: HashMap<(usize, &'a str), Vec<usize>>,
    by_text: HashMap<(usize, &'a str), Vec<usize>>,
}

impl<'a> ReverseIndex<'a> {
    fn add(&mut self, at: usize, reference: &'a str, i: usize) {
        self.by_stem
            .entry((at, stem(reference)))
            .or_default()
            .push(i);
        if !reference.contains('[') {
            self.by_text.entry((at, reference)).or_default().push(i);
        }
    }

    /// Adds the holders of references in element `at` that may name `address`.
    fn candidates(&self, at: usize, address: &str, out: &mut Vec<usize>) {
        if let Some(v) = self.by_stem.get(&(at, stem(address))) {
            out.extend(v);
        }
        if address.contains('[') {
            let unkeyed = without_keys(address);
            if let Some(v) = self.by_text.get(&(at, unkeyed.as_str())) {
                out.extend(v);
            }
        }
    }
}

impl<'a> Links<'a> {
    fn new(bindings: &[(usize, &'a RolePolicy)], statements: &[(usize, &'a IamStatement)]) -> Self {
        let mut links = Links {
            bindings_by_ref: ReverseIndex::default(),
            bindings_by_value: HashMap::new(),
            bindings_by_name: HashMap::new(),
            statements: AddressIndex::default(),
            statements_by_holder: HashMap::new(),
        };
        for (i, &(at, b)) in bindings.iter().enumerate() {
            for x in &b.role_refs {
                links.bindings_by_ref.add(at, x, i);
            }
            if b.role_refs.is_empty() {
                if let Some(v) = b.role.as_deref() {
                    links.bindings_by_value.entry(v).or_default().push(i);
                    if let Some(name) = role_name_of(v) {
                        links.bindings_by_name.entry(name).or_default().push(i);
                    }
                }
            }
        }
        for (i, &(at, s)) in statements.iter().enumerate() {
            links.statements.add(at, &s.resource, i);
            links
                .statements_by_holder
                .entry((at, s.resource.as_str()))
                .or_default()
                .push(i);
        }
        links
    }

    /// The bindings that may bind a policy to the role, in their order.
    fn bindings_of(&self, role_at: usize, role: &IamRole) -> Vec<usize> {
        let mut out = Vec::new();
        self.bindings_by_ref
            .candidates(role_at, &role.resource, &mut out);
        if let Some(arn) = role.arn.as_deref() {
            out.extend(self.bindings_by_value.get(arn).into_iter().flatten());
        }
        if let Some(name) = role.name.as_deref() {
            out.extend(self.bindings_by_name.get(name).into_iter().flatten());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The statements that may be held by `holder` or named by `refs` in element
    /// `at`, in their order.
    fn statements_of(&self, at: usize, holder: &str, refs: &[String]) -> Vec<usize> {
        let mut out = Vec::new();
        out.extend(
            self.statements_by_holder
                .get(&(at, holder))
                .into_iter()
                .flatten(),
        );
        for x in refs {
            self.statements.candidates(at, x, &mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether a policy ARN or name names the customer policy.
fn names_policy(value: &str, p: &CustomerPolicy) -> bool {
    if p.arn.as_deref() == Some(value) {
        return true;
    }
    let name = if value.starts_with("arn:") {
        value.rsplit('/').next().unwrap_or(value)
    } else {
        value
    };
    p.name.as_deref() == Some(name)
}

/// The facts of one kind, with the element of the scan's facts each is in.
pub fn indexed<'a, T>(
    all: &'a [Facts],
    list: impl Fn(&'a Facts) -> &'a Vec<T>,
) -> Vec<(usize, &'a T)> {
    all.iter()
        .enumerate()
        .flat_map(|(i, f)| list(f).iter().map(move |x| (i, x)))
        .collect()
}

/// Whether a binding in element `b_at` binds its policy to the role in `r_at`: by
/// Terraform reference within one configuration, else by name or ARN.
fn binds((b_at, b): (usize, &RolePolicy), (r_at, r): (usize, &IamRole)) -> bool {
    if b.role_refs.is_empty() {
        b.role.as_deref().is_some_and(|v| names_role(v, r))
    } else {
        b_at == r_at && b.role_refs.iter().any(|x| refers_to(x, &r.resource))
    }
}

/// A step for a statement that grants writes.
fn statement_step(s: &IamStatement, rule: &str, what: String) -> PathStep {
    PathStep {
        rule: rule.into(),
        resource: format!("{} {}", s.resource, s.statement),
        what,
        file: s.file.clone(),
        loc: s.locs.get("action").copied().unwrap_or(s.loc),
    }
}

/// What a role grants.
fn grant(
    (role_at, role): (usize, &IamRole),
    bindings: &[(usize, &RolePolicy)],
    customer: &[(usize, &CustomerPolicy)],
    statements: &[(usize, &IamStatement)],
    links: &Links<'_>,
) -> Grant {
    let mut out = Grant::default();
    // The role's statements (from every policy bound to it) and its AWS managed policies.
    let mut own: Vec<&IamStatement> = Vec::new();
    let mut managed: Vec<(&RolePolicy, &'static dynamodb::ManagedPolicy, String)> = Vec::new();
    // A policy's statements are in the same element as the policy.
    let holders = |at: usize, holder: &str, refs: &[String]| -> Vec<&IamStatement> {
        links
            .statements_of(at, holder, refs)
            .into_iter()
            .map(|i| &statements[i])
            .filter(|(i, s)| {
                *i == at && (s.resource == holder || refs.iter().any(|x| refers_to(x, &s.resource)))
            })
            .map(|(_, s)| *s)
            .collect()
    };
    let candidates = links.bindings_of(role_at, role);
    for &(b_at, b) in candidates
        .iter()
        .map(|&i| &bindings[i])
        .filter(|b| binds(**b, (role_at, role)))
    {
        let mut matched = false;
        if b.kind == "inline" {
            let holder = b.policy.clone().unwrap_or_default();
            own.extend(holders(b_at, &holder, &b.policy_refs));
            matched = true;
        }
        // An ARN known only after apply whose text names AWS managed policies.
        if b.kind == "attached" && b.policy.is_none() && !b.aws_managed_names.is_empty() {
            for name in &b.aws_managed_names {
                if let Some(p) = dynamodb::managed_policy(name) {
                    managed.push((b, p, name.clone()));
                }
            }
            matched = true;
        }
        if let Some(arn) = b.policy.as_deref().filter(|_| b.kind == "attached") {
            if let Some(p) = dynamodb::managed_policy(arn) {
                managed.push((b, p, arn.to_string()));
                matched = true;
            } else if arn.contains(":iam::aws:policy/") {
                // Another AWS managed policy: grants no DynamoDB writes.
                matched = true;
            }
        }
        if b.kind == "attached" {
            for &(c_at, c) in customer.iter().filter(|(c_at, c)| {
                if b.policy_refs.is_empty() {
                    b.policy.as_deref().is_some_and(|v| names_policy(v, c))
                } else {
                    *c_at == b_at && b.policy_refs.iter().any(|x| refers_to(x, &c.resource))
                }
            }) {
                own.extend(holders(c_at, &c.resource, &c.document_refs));
                matched = true;
            }
            // Inline documents a role's own `managed_policy_arns` cannot hold; but an
            // attachment of a data-source document does not exist either.
            if !matched {
                out.unknown
                    .push(match (&b.policy, b.policy_refs.is_empty()) {
                        (Some(arn), _) => format!("policy {arn} is not in the scan"),
                        (None, false) => format!(
                            "a policy attached by {} is known only after apply (from {})",
                            b.resource,
                            b.policy_refs.join(", ")
                        ),
                        (None, true) => format!(
                            "a policy attached by {} is known only after apply",
                            b.resource
                        ),
                    });
            }
        }
    }
    own.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
    own.dedup_by(|a, b| a.file == b.file && a.loc == b.loc && a.resource == b.resource);
    let denies: Vec<&IamStatement> = own.iter().filter(|s| s.effect == "Deny").copied().collect();
    let catalog = dynamodb::actions();
    for s in own.iter().filter(|s| s.effect == "Allow") {
        let taken: BTreeSet<&String> = denies
            .iter()
            .filter(|d| iam::deny_covers_statement(d, s))
            .flat_map(|d| &d.dynamodb.actions)
            .collect();
        // An action entry known only after apply: what the written `Action` patterns
        // grant is the known part; a `NotAction` one is not known at all.
        let known: Vec<String> = if s.dynamodb.unknown_actions {
            out.unknown.push(format!(
                "{} {} has actions known only after apply",
                s.resource, s.statement
            ));
            catalog
                .iter()
                .filter(|a| s.dynamodb.actions.contains(&a.name))
                .filter(|a| {
                    s.actions
                        .iter()
                        .any(|p| iam::wildcard_match(p, &a.full_name))
                })
                .map(|a| a.name.clone())
                .collect()
        } else {
            s.dynamodb.actions.clone()
        };
        let granted: Vec<String> = known.into_iter().filter(|a| !taken.contains(a)).collect();
        let modifying: Vec<String> = granted
            .iter()
            .filter(|a| is_modifying(a))
            .cloned()
            .collect();
        if modifying.is_empty() {
            out.actions.extend(granted);
            continue;
        }
        let kind = if granted.len() == catalog.len() {
            GrantKind::All
        } else if s.dynamodb.every_table {
            GrantKind::EveryTable
        } else {
            GrantKind::Writes
        };
        let (rule, what) = match kind {
            GrantKind::All => (
                "BRK101",
                format!(
                    "grants all {} DynamoDB actions on {}",
                    catalog.len(),
                    s.dynamodb.scope
                ),
            ),
            GrantKind::EveryTable => (
                "BRK102",
                format!("grants {} on every table", list(&modifying)),
            ),
            _ => (
                "",
                format!("grants {} on {}", list(&modifying), s.dynamodb.scope),
            ),
        };
        out.sources.push((
            kind,
            statement_step(s, rule, what),
            format!("{} {}", s.resource, s.statement),
        ));
        if s.dynamodb.every_table {
            out.every_table.extend(modifying);
        }
        out.actions.extend(granted);
    }
    for (b, p, arn) in managed {
        // A managed policy allows on `*`: only a Deny on `*` takes anything back.
        let taken: BTreeSet<&String> = denies
            .iter()
            .filter(|d| {
                d.condition_keys.is_empty()
                    && d.not_resources.is_empty()
                    && d.resources.iter().any(|r| r == "*")
            })
            .flat_map(|d| &d.dynamodb.actions)
            .collect();
        let granted: Vec<String> = if p.grants == "all" {
            catalog.iter().map(|a| a.name.clone()).collect()
        } else {
            p.write_actions_on_every_resource
                .iter()
                .map(|a| a.trim_start_matches("dynamodb:").to_string())
                .collect()
        };
        let granted: Vec<String> = granted.into_iter().filter(|a| !taken.contains(a)).collect();
        let modifying: Vec<String> = granted
            .iter()
            .filter(|a| is_modifying(a))
            .cloned()
            .collect();
        let kind = if granted.len() == catalog.len() {
            GrantKind::All
        } else if !modifying.is_empty() {
            GrantKind::EveryTable
        } else {
            GrantKind::None
        };
        if kind != GrantKind::None {
            let what = if kind == GrantKind::All {
                "every DynamoDB action on every table".to_string()
            } else {
                format!("{} on every table", list(&modifying))
            };
            out.sources.push((
                kind,
                PathStep {
                    rule: "BRK103".into(),
                    resource: b.resource.clone(),
                    what: format!("attaches {}: {what}", p.name),
                    file: b.file.clone(),
                    loc: b.loc,
                },
                p.name.clone(),
            ));
            let _ = &arn;
        }
        out.every_table.extend(modifying);
        out.actions.extend(granted);
    }
    out.sources.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| (&a.1.file, a.1.loc).cmp(&(&b.1.file, b.1.loc)))
    });
    out.unknown.sort();
    out.unknown.dedup();
    out
}

/// A role as a path step.
pub fn role_step(r: &IamRole, what: String) -> PathStep {
    PathStep {
        rule: String::new(),
        resource: r.resource.clone(),
        what,
        file: r.file.clone(),
        loc: r.loc,
    }
}

/// A position, for steps of facts that have one.
pub fn step(rule: &str, resource: &str, what: String, file: &str, loc: Pos) -> PathStep {
    PathStep {
        rule: rule.to_string(),
        resource: resource.to_string(),
        what,
        file: file.to_string(),
        loc,
    }
}
