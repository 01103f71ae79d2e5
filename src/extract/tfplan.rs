//! `terraform show -json` plans → facts, through the same resource extractors as HCL,
//! and the review of a plan: what it introduces, what it keeps.
//!
//! A plan's `planned_values` hold every resource as it will be after apply, by address,
//! with nested blocks as lists of objects: the shape the Terraform extractors read.
//! Values known only after apply are `null` there and marked in the resource change's
//! `after_unknown`; they become unknown, not absent. Resources the plan deletes are not
//! in `planned_values`, so only the risk the plan introduces or keeps is reported.
//! Policy documents read while planning are only in `prior_state`: they are read from
//! there. `terraform show -json` of a state (`values`, no plan) gives existing
//! resources.
//!
//! An argument the provider computes when it is not set (`network_mode` of an
//! `aws_ecs_task_definition`) is unknown in the plan even when the configuration
//! leaves it out. When the plan's `configuration` shows the resource without that
//! argument, it is not set, and the provider's documented default applies (see
//! [`provider_defaults`]): it is not reported as a value decided at apply.
//!
//! **Locations.** Each resource is looked up by address in the configuration the plan
//! was made from ([`locate`]: the plan's folder, or `--tf-root`), and its values take
//! the positions of the `.tf` lines that declare them, so its findings are the
//! configuration's findings (same file, line and fingerprint) and the plan's position
//! becomes a related location. What cannot be found stays in the plan, and the
//! [`PlanReport`] says why.
//!
//! **Change status.** The values an update had before (`change.before`) go through the
//! same extractors and rules ([`Review::before`]): a finding of the update is
//! `existing` when the same rule fired on the same subject before, `introduced` when
//! not. A create or a replace introduces all its findings, a no-op keeps them all.

use super::terraform::locate::{self, Locator, Target};
use super::terraform::{file_id, policy_document, provider_defaults, refs, resources};
use crate::engine::{Change, Finding, PlanStatus, RelatedLocation};
use crate::facts::Facts;
use crate::parse::hcl::value::V;
use crate::parse::json::Objects;
use crate::parse::{Node, Pos, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Whether JSON text looks like `terraform show -json` output (Terraform writes
/// `format_version` first), so that it can be parsed with [`prune`].
pub fn sniff(text: &str) -> bool {
    let head = &text.as_bytes()[..text.len().min(4096)];
    text.trim_start().starts_with('{')
        && head
            .windows(b"\"format_version\"".len())
            .any(|w| w == b"\"format_version\"")
}

/// The parts of a plan breakout does not read, left out while parsing
/// ([`crate::parse::json::parse_pruned`]): a plan repeats every resource's values in
/// `planned_values`, in its change's `after` and `before` and in `prior_state`, with
/// their sensitivity alongside, and most resources are of types breakout does not
/// read. Kept: `planned_values` of the types breakout reads (what the plan leaves in
/// place), their `after_unknown`, their `before` for an update (a no-op keeps what was
/// there, a create or replace introduces everything), and the data sources of the
/// prior state (read while planning). Terraform writes `mode` and `type` before
/// `values` and `change`, and `actions` before `before`; in another order, less is
/// left out.
pub fn prune(path: &[String], key: &str, objects: Objects) -> bool {
    // The type of the resource whose entry this is, `up` objects out.
    let unread = |up: usize| {
        objects
            .str(up, "type")
            .is_some_and(|t| !resources::handles(t, objects.str(up, "mode") == Some("data")))
    };
    match path {
        [] => matches!(
            key,
            "resource_drift" | "relevant_attributes" | "output_changes" | "checks" | "variables"
        ),
        [changes, change] if changes == "resource_changes" && change == "change" => match key {
            "after" | "before_sensitive" | "after_sensitive" | "replace_paths" => true,
            "after_unknown" => unread(1),
            "before" => {
                unread(1)
                    || objects
                        .up(0)
                        .and_then(|c| c.iter().find(|e| e.key == "actions"))
                        .is_some_and(|a| action_of(&a.value) != Some("update"))
            }
            _ => false,
        },
        [first, ..] if first == "planned_values" || first == "values" => match key {
            "sensitive_values" => true,
            "values" => unread(0),
            _ => false,
        },
        [first, ..] if first == "prior_state" => match key {
            "sensitive_values" => true,
            // Only data sources are read from the prior state.
            "values" => objects.str(0, "mode") == Some("managed") || unread(0),
            _ => false,
        },
        _ => false,
    }
}

/// Whether a JSON document is a plan (or `terraform show -json` of a state).
pub fn is_plan(doc: &Node) -> bool {
    doc.get("format_version").is_some()
        && (doc.get("planned_values").is_some()
            || doc.get("resource_changes").is_some()
            || doc.get("values").is_some())
}

/// Terraform's actions for a change, as one word: `create`, `read`, `update`,
/// `replace` (`["delete", "create"]` or `["create", "delete"]`), `delete`, `no-op`,
/// `forget`.
pub fn action_of(actions: &Node) -> Option<&'static str> {
    let words: Vec<&str> = actions.items().iter().filter_map(Node::as_str).collect();
    Some(match words.as_slice() {
        ["no-op"] => "no-op",
        ["create"] => "create",
        ["read"] => "read",
        ["update"] => "update",
        ["delete", "create"] | ["create", "delete"] => "replace",
        ["delete"] => "delete",
        ["forget"] => "forget",
        _ => return None,
    })
}

/// What the review of one plan needs once its facts are judged: the action on each
/// resource, where the plan shows it, and the facts of what updates change.
#[derive(Debug, Default)]
pub struct Review {
    /// The report's account of the plan.
    pub report: PlanReport,
    /// The canonical folder of the configuration its resources were found in.
    pub root_dir: Option<PathBuf>,
    /// Each resource instance breakout reads, by address.
    pub resources: BTreeMap<String, Resource>,
    /// The addresses of everything the plan holds (managed and data, any action),
    /// without instance keys: a configuration scan's findings on them are replaced by
    /// the plan's.
    pub covered: BTreeSet<String>,
    /// Facts of the values updated resources (and data sources read again) had before:
    /// judged like the plan's own, to tell what the plan introduces.
    pub before: Facts,
}

/// One resource instance of a plan.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Terraform's action (see [`action_of`]).
    pub action: &'static str,
    /// Where the plan shows its change (or its values).
    pub pos: Pos,
    /// Its values were found in the configuration: its findings point there.
    pub located: bool,
    /// Its values before the change were judged ([`Review::before`]).
    pub has_before: bool,
    /// A data source read while planning: in the prior state only.
    pub pos_in_prior: bool,
    /// For a resource of a module `terraform init` installed: the root module's call
    /// of it (file, position, call name), where the change under review sets what the
    /// module does.
    pub call: Option<(String, Pos, String)>,
}

/// A plan (or state) in the report: where its resources were found, and what it
/// introduces and keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlanReport {
    /// The plan file.
    pub file: String,
    /// `plan`, or `state` for `terraform show -json` of a state.
    pub kind: &'static str,
    /// The folder its resources were looked up in (the plan's own, or `--tf-root`).
    pub configuration: String,
    /// Resources found there (their findings point at the `.tf` files).
    pub located: usize,
    /// Why the others were not, each reason once with how many resources it covers.
    pub not_located: Vec<NotLocated>,
    /// Findings the plan introduces (before `--new-only`).
    pub introduced: usize,
    /// Findings it keeps (before `--new-only`).
    pub existing: usize,
}

/// Resources whose findings stay in the plan file, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotLocated {
    /// Why, e.g. `no .tf files in infra` or `module.eks (terraform-aws-modules/eks/aws):
    /// remote source, not installed (run `terraform init` to have it read)`.
    pub reason: String,
    /// How many resources.
    pub resources: usize,
}

/// Extracts the facts of every resource the plan will leave in place (or the state
/// holds), located in the configuration in `tf_root` (default: the plan's folder), and
/// records the plan's review in `facts.plans`.
pub fn extract(doc: &Node, file: &str, tf_root: Option<&Path>, facts: &mut Facts) {
    let mut changes: BTreeMap<&str, &Node> = BTreeMap::new();
    for change in doc
        .get("resource_changes")
        .map(Node::items)
        .unwrap_or_default()
    {
        // A deposed object's change is a delete of an object the address no longer
        // names.
        if change.get("deposed").is_some() {
            continue;
        }
        if let Some(address) = change.get("address").and_then(Node::as_str) {
            changes.insert(address, change);
        }
    }
    let mut configured = BTreeMap::new();
    if let Some(c) = doc.path(&["configuration", "root_module"]) {
        configuration(c, String::new(), &mut configured, 0);
    }
    let state = doc.get("planned_values").is_none() && doc.get("values").is_some();
    let dir = tf_root.map_or_else(|| folder_of(file), Path::to_path_buf);
    let locator = Locator::new(&dir);
    let mut prior: BTreeMap<&str, &Node> = BTreeMap::new();
    if let Some(root) = doc.path(&["prior_state", "values", "root_module"]) {
        module_resources(root, &mut |r| {
            if let Some(a) = r.get("address").and_then(Node::as_str) {
                prior.insert(a, r);
            }
        });
    }
    let mut plan = Plan {
        file,
        changes,
        configured,
        prior,
        locator,
        state,
        review: Review {
            report: PlanReport {
                file: file.to_string(),
                kind: if state { "state" } else { "plan" },
                configuration: crate::discover::display_path(&dir),
                ..PlanReport::default()
            },
            ..Review::default()
        },
        not_located: BTreeMap::new(),
        policies: BTreeSet::new(),
    };
    plan.review.root_dir = plan.locator.root_dir().map(Path::to_path_buf);
    for address in plan.changes.keys().chain(plan.prior.keys()) {
        plan.review.covered.insert(refs::without_keys(address));
    }
    // A plan's resources, or a shown state's.
    let root = doc
        .path(&["planned_values", "root_module"])
        .or_else(|| doc.path(&["values", "root_module"]));
    if let Some(root) = root {
        module(root, &mut plan, facts, 0);
    }
    // Policy documents read while planning are in the prior state only. One whose
    // document a resource of the plan holds is reported there, with that resource's
    // change; the others as read, and kept.
    let read: Vec<&Node> = plan
        .prior
        .values()
        .filter(|r| r.get("mode").and_then(Node::as_str) == Some("data"))
        .filter(|r| {
            let a = r.get("address").and_then(Node::as_str).unwrap_or("");
            !plan.review.resources.contains_key(a)
        })
        .copied()
        .collect();
    for r in read {
        let json = r.path(&["values", "json"]).and_then(Node::as_str);
        if json.is_some_and(|j| plan.policies.contains(j)) {
            continue;
        }
        resource(r, "read", &mut plan, facts);
    }
    // Which role a node group uses, and the like: from the configuration's references,
    // for what updates had before as for what the plan leaves.
    super::terraform::refs::plan_refs(doc, facts);
    super::terraform::refs::plan_refs(doc, &mut plan.review.before);
    plan.review.report.not_located = plan
        .not_located
        .into_iter()
        .map(|(reason, resources)| NotLocated { reason, resources })
        .collect();
    facts.plans.push(plan.review);
}

/// Sets the plan status of a plan's findings (`findings`, from the facts the plan's
/// [`Review`] belongs to), given the findings of its `before` facts, and adds the
/// plan's position as a related location to those located in the configuration.
pub fn annotate(review: &Review, findings: &mut [Finding], before: &[Finding]) {
    let fired_before: BTreeSet<(&str, &str)> = before
        .iter()
        .map(|f| (f.rule_id.as_str(), f.fingerprint.as_str()))
        .collect();
    for f in findings {
        let Some((address, r)) = review
            .resources
            .get_key_value(&f.resource[..address_end(&f.resource)])
        else {
            continue;
        };
        let change = match r.action {
            "no-op" => Change::Existing,
            "update" | "read" if r.has_before => {
                if fired_before.contains(&(f.rule_id.as_str(), f.fingerprint.as_str())) {
                    Change::Existing
                } else {
                    Change::Introduced
                }
            }
            // Read while planning: what is there now (a resource holding its document
            // carries the change).
            "read" if review.report.kind == "plan" && !r.has_before && r.pos_in_prior => {
                Change::Existing
            }
            _ => Change::Introduced,
        };
        f.plan = Some(PlanStatus {
            action: r.action,
            change,
        });
        if let Some((file, at, call)) = &r.call {
            f.related_locations.push(RelatedLocation {
                file: file.clone(),
                line: at.line,
                column: at.column,
                message: format!("module.{call}, installed by terraform init, is called here"),
            });
        }
        if r.located {
            f.related_locations.push(RelatedLocation {
                file: review.report.file.clone(),
                line: r.pos.line,
                column: r.pos.column,
                message: format!("the {}: {address} ({})", review.report.kind, r.action),
            });
        }
    }
}

/// Moves the `before` facts of every plan review in `per_file` to the end of it (to be
/// linked and judged with the rest), and says whose they are: `(file, review)` for
/// each, in order.
pub fn take_before(per_file: &mut Vec<Facts>) -> Vec<(usize, usize)> {
    let mut owners = Vec::new();
    let mut moved = Vec::new();
    for (i, facts) in per_file.iter_mut().enumerate() {
        for (j, review) in facts.plans.iter_mut().enumerate() {
            owners.push((i, j));
            moved.push(std::mem::take(&mut review.before));
        }
    }
    per_file.extend(moved);
    owners
}

/// Reviews the plans among the scanned files, once every file's facts are judged
/// (`findings[i]` are `per_file[i]`'s; the `before` facts that [`take_before`] moved
/// follow the files, owned as it said): sets the plan status of each plan finding,
/// and with `new_only` drops the findings a plan keeps. Returns the plans' accounts.
pub fn review(
    per_file: &[Facts],
    findings: &mut [Vec<Finding>],
    owners: &[(usize, usize)],
    new_only: bool,
) -> Vec<PlanReport> {
    let files = per_file.len() - owners.len();
    let mut reports = Vec::new();
    let mut reviews: Vec<&Review> = Vec::new();
    for (i, facts) in per_file[..files].iter().enumerate() {
        for (j, review) in facts.plans.iter().enumerate() {
            let before = owners
                .iter()
                .position(|&o| o == (i, j))
                .map(|k| findings[files + k].clone())
                .unwrap_or_default();
            annotate(review, &mut findings[i], &before);
            let mut report = review.report.clone();
            for f in &findings[i] {
                match f.plan.as_ref().map(|p| p.change) {
                    Some(Change::Introduced) => report.introduced += 1,
                    Some(Change::Existing) => report.existing += 1,
                    None => {}
                }
            }
            reports.push(report);
            reviews.push(review);
        }
    }
    if new_only {
        for list in findings[..files].iter_mut() {
            list.retain(|f| {
                f.plan
                    .as_ref()
                    .is_none_or(|p| p.change == Change::Introduced)
            });
        }
    }
    reports.sort_by(|a, b| a.file.cmp(&b.file));
    reports
}

/// Drops the facts a configuration scan found on the resources of a plan made from
/// that configuration (`tf_roots[i]`: the root folder of the Terraform module whose
/// facts are `per_file[i]`): the plan judges them, with its resolved values and its
/// change, so each resource and rule is reported once.
pub fn drop_replaced(per_file: &mut [Facts], tf_roots: &[Option<PathBuf>]) {
    let reviews: Vec<(PathBuf, BTreeSet<String>)> = per_file
        .iter()
        .flat_map(|f| &f.plans)
        .filter_map(|r| Some((r.root_dir.clone()?, r.covered.clone())))
        .collect();
    if reviews.is_empty() {
        return;
    }
    for (facts, root) in per_file.iter_mut().zip(tf_roots) {
        let Some(root) = root else { continue };
        let covered: Vec<&BTreeSet<String>> = reviews
            .iter()
            .filter(|(r, _)| r == root)
            .map(|(_, c)| c)
            .collect();
        if covered.is_empty() {
            continue;
        }
        facts.retain_resources(|resource| {
            let address = refs::without_keys(&resource[..address_end(resource)]);
            !covered.iter().any(|c| c.contains(&address))
        });
    }
}

/// Where the address ends in a fact's `resource` (`aws_iam_role.app inline policy x`,
/// `module.a["b c"].aws_x.y (Deployment ns/n)`): at the first space outside an
/// instance key.
fn address_end(resource: &str) -> usize {
    let mut depth = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in resource.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted && depth > 0 => depth -= 1,
            ' ' if depth == 0 => return i,
            _ => {}
        }
    }
    resource.len()
}

/// The folder a file is in (`.` for a bare name or standard input).
fn folder_of(file: &str) -> PathBuf {
    if file == "<stdin>" {
        return PathBuf::from(".");
    }
    match Path::new(file).parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What every resource of a plan is read with.
struct Plan<'a> {
    file: &'a str,
    /// The change of each resource instance, by address.
    changes: BTreeMap<&'a str, &'a Node>,
    /// The configuration's `expressions` of each resource, by module path without
    /// instance keys (`module.a.module.b.`) and resource (`aws_x.y`, `data.aws_x.y`);
    /// `None` for a resource configured with no argument.
    configured: BTreeMap<(String, String), Option<&'a Node>>,
    /// The prior state's resources, by address.
    prior: BTreeMap<&'a str, &'a Node>,
    locator: Locator,
    state: bool,
    review: Review,
    /// Why resources were not located, with how many.
    not_located: BTreeMap<String, usize>,
    /// The policy documents the plan's resources hold, as text.
    policies: BTreeSet<String>,
}

/// Calls `f` on every resource of a module of a values representation and of its
/// child modules.
fn module_resources<'a>(m: &'a Node, f: &mut dyn FnMut(&'a Node)) {
    fn walk<'a>(m: &'a Node, f: &mut dyn FnMut(&'a Node), depth: usize) {
        for r in m.get("resources").map(Node::items).unwrap_or_default() {
            f(r);
        }
        if depth < 32 {
            for child in m.get("child_modules").map(Node::items).unwrap_or_default() {
                walk(child, f, depth + 1);
            }
        }
    }
    walk(m, f, 0)
}

/// Collects the configured resources of a module of the plan's `configuration`.
fn configuration<'a>(
    m: &'a Node,
    prefix: String,
    out: &mut BTreeMap<(String, String), Option<&'a Node>>,
    depth: usize,
) {
    for r in m.get("resources").map(Node::items).unwrap_or_default() {
        if let Some(address) = r.get("address").and_then(Node::as_str) {
            out.insert((prefix.clone(), address.to_string()), r.get("expressions"));
        }
    }
    if depth < 32 {
        for call in m.get("module_calls").map(Node::entries).unwrap_or_default() {
            if let Some(child) = call.value.get("module") {
                configuration(
                    child,
                    format!("{prefix}module.{}.", call.key),
                    out,
                    depth + 1,
                );
            }
        }
    }
}

/// Removes the values of `path` (an argument, dotted through nested blocks) that the
/// plan marks unknown although the configuration does not set them: the provider
/// computed them, and its default applies.
fn unset_if_unconfigured(values: &mut Node, expressions: Option<&Node>, path: &[&str]) {
    let Value::Map(entries) = &mut values.value else {
        return;
    };
    let configured = expressions.and_then(|e| e.get(path[0]));
    match path {
        [] => {}
        [leaf] => {
            if configured.is_none() {
                entries.retain(|e| !(e.key == *leaf && e.value.is_unknown()));
            }
        }
        [block, rest @ ..] => {
            let Some(e) = entries.iter_mut().find(|e| e.key == *block) else {
                return;
            };
            let inner = configured.and_then(|c| c.items().first().or(c.is_map().then_some(c)));
            match &mut e.value.value {
                Value::Seq(items) => {
                    for item in items {
                        unset_if_unconfigured(item, inner, rest);
                    }
                }
                Value::Map(_) => unset_if_unconfigured(&mut e.value, inner, rest),
                _ => {}
            }
        }
    }
}

fn module(m: &Node, plan: &mut Plan, facts: &mut Facts, depth: usize) {
    for r in m.get("resources").map(Node::items).unwrap_or_default() {
        let address = r.get("address").and_then(Node::as_str).unwrap_or("");
        let action = match plan.changes.get(address) {
            Some(change) => change.path(&["change", "actions"]).and_then(action_of),
            None if plan.state => Some("no-op"),
            // Terraform lists every resource instance among the changes: one that is
            // not listed (a plan written by hand) is taken as new.
            None => Some("create"),
        };
        match action {
            Some("delete" | "forget") | None => continue,
            Some(action) => resource(r, action, plan, facts),
        }
    }
    if depth < 32 {
        for child in m.get("child_modules").map(Node::items).unwrap_or_default() {
            module(child, plan, facts, depth + 1);
        }
    }
}

/// Reads one resource instance of the plan (or state) into `facts`, and what it had
/// before into the review.
fn resource(r: &Node, action: &'static str, plan: &mut Plan, facts: &mut Facts) {
    let (Some(address), Some(rtype)) = (
        r.get("address").and_then(Node::as_str),
        r.get("type").and_then(Node::as_str),
    ) else {
        return;
    };
    let data = r.get("mode").and_then(Node::as_str) == Some("data");
    // Documents the plan's resources hold, so that a policy document read while
    // planning is not reported twice.
    if !data {
        collect_policies(r.get("values"), &mut plan.policies);
    }
    if !resources::handles(rtype, data) {
        return;
    }
    let Some(values) = r.get("values") else {
        return;
    };
    let name = r.get("name").and_then(Node::as_str).unwrap_or("");
    let module_address = address_module(address);
    let calls = locate::module_calls(module_address);
    let calls: Vec<&str> = calls.iter().map(String::as_str).collect();
    let target = match plan.locator.find(&calls, data, rtype, name) {
        Ok(t) => Some(t),
        Err(why) => {
            *plan.not_located.entry(why).or_default() += 1;
            None
        }
    };
    let change = plan.changes.get(address).copied();
    let mut values = values.clone();
    if let Some(marks) = change.and_then(|c| c.path(&["change", "after_unknown"])) {
        mark_unknown(&mut values, marks);
    }
    let path = refs::without_keys(module_address);
    let path = if path.is_empty() {
        path
    } else {
        format!("{path}.")
    };
    let key = if data {
        format!("data.{rtype}.{name}")
    } else {
        format!("{rtype}.{name}")
    };
    if let Some(expressions) = plan.configured.get(&(path, key)) {
        let resource = if data {
            format!("data.{rtype}")
        } else {
            rtype.to_string()
        };
        for d in provider_defaults::all()
            .iter()
            .filter(|d| d.resource == resource)
        {
            let attribute: Vec<&str> = d.attribute.split('.').collect();
            unset_if_unconfigured(&mut values, *expressions, &attribute);
        }
    }
    // The values before: an update's, or a data source's previous read.
    let before = match action {
        "update" => change.and_then(|c| c.path(&["change", "before"])),
        "read" if change.is_some() => plan.prior.get(address).and_then(|p| p.get("values")),
        _ => None,
    }
    .filter(|b| b.is_map());
    let pos = change.map_or(r.pos, |c| c.pos);
    plan.review.report.located += usize::from(target.is_some());
    let call = target
        .filter(|t| plan.locator.installed(*t))
        .and_then(|_| calls.first())
        .and_then(|c| {
            let (file, at) = plan.locator.call_site(c)?;
            Some((file, at, c.to_string()))
        });
    plan.review.resources.insert(
        address.to_string(),
        Resource {
            action,
            pos,
            located: target.is_some(),
            has_before: before.is_some(),
            pos_in_prior: change.is_none() && data,
            call,
        },
    );
    read_values(plan, target, address, rtype, data, values, facts);
    if let Some(before) = before {
        let mut before_facts = std::mem::take(&mut plan.review.before);
        read_values(
            plan,
            target,
            address,
            rtype,
            data,
            before.clone(),
            &mut before_facts,
        );
        plan.review.before = before_facts;
    }
}

/// Extracts one set of values of a resource, at its configuration's positions when
/// located.
fn read_values(
    plan: &Plan,
    target: Option<Target>,
    address: &str,
    rtype: &str,
    data: bool,
    mut values: Node,
    facts: &mut Facts,
) {
    let file = match target {
        Some(t) => {
            plan.locator.relocate(t, &mut values);
            plan.locator.file(t)
        }
        None => plan.file,
    };
    if data && rtype == "aws_iam_policy_document" {
        values = rendered(values, file);
    }
    let ctx = resources::Ctx {
        rtype,
        address,
        file,
    };
    resources::extract(&ctx, &values, facts);
}

/// The module part of a resource address: `module.a["x"].aws_b.c[0]` → `module.a["x"]`.
fn address_module(address: &str) -> &str {
    // The resource part is the last `TYPE.NAME` (or `data.TYPE.NAME`) after the last
    // module step; module steps are `module.NAME` with an optional key.
    let mut end = 0;
    let mut rest = address;
    let mut consumed = 0;
    while let Some(after) = rest.strip_prefix("module.") {
        let name_len = after.find(['.', '[']).unwrap_or(after.len());
        let mut step = "module.".len() + name_len;
        if after[name_len..].starts_with('[') {
            step += key_len(&after[name_len..]);
        }
        end = consumed + step;
        let next = &rest[step..];
        match next.strip_prefix('.') {
            Some(n) => {
                consumed += step + 1;
                rest = n;
            }
            None => break,
        }
    }
    &address[..end]
}

/// The length of an instance key at the start of `s` (`["a]b"]`, `[0]`).
fn key_len(s: &str) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Policy documents held by a resource's values (`policy`, `assume_role_policy`, an
/// inline policy's `policy`), as text.
fn collect_policies(values: Option<&Node>, out: &mut BTreeSet<String>) {
    let Some(values) = values else { return };
    for key in ["policy", "assume_role_policy"] {
        if let Some(text) = values.get(key).and_then(Node::as_str) {
            out.insert(text.to_string());
        }
    }
    for inline in values
        .get("inline_policy")
        .map(Node::items)
        .unwrap_or_default()
    {
        collect_policies(Some(inline), out);
    }
}

/// Replaces the values `after_unknown` marks `true` by unknown (the plan writes them as
/// `null` or leaves them out).
fn mark_unknown(values: &mut Node, marks: &Node) {
    match (&mut values.value, &marks.value) {
        (_, Value::Bool(true)) => values.value = Value::Unknown,
        (Value::Map(entries), Value::Map(mark_entries)) => {
            for m in mark_entries {
                match entries.iter_mut().find(|e| e.key == m.key) {
                    Some(e) => mark_unknown(&mut e.value, &m.value),
                    None if m.value.as_bool() == Some(true) => entries.push(crate::parse::Entry {
                        key: m.key.clone(),
                        key_pos: values.pos,
                        value: Node::new(values.pos, Value::Unknown),
                    }),
                    None => {}
                }
            }
        }
        (Value::Seq(items), Value::Seq(mark_items)) => {
            for (item, m) in items.iter_mut().zip(mark_items) {
                mark_unknown(item, m);
            }
        }
        _ => {}
    }
}

/// A policy document data source whose `json` the plan does not know yet (read at
/// apply) is rendered from its `statement` blocks, as the provider will.
fn rendered(values: Node, file: &str) -> Node {
    let known = values
        .get("json")
        .is_some_and(|j| matches!(j.value, Value::Str(_)));
    if known {
        return values;
    }
    let fid = file_id(file);
    let pos = values.pos;
    let v = V::from_node(&values, fid, 0);
    policy_document::render(v, fid).to_node(fid, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {
    "resources": [
      {"address": "aws_iam_policy.app", "mode": "managed", "type": "aws_iam_policy",
       "values": {"name": "app", "policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":\"*\"}]}"}},
      {"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document",
       "values": {"json": null, "statement": [{"actions": ["dynamodb:DeleteItem"], "resources": [null], "effect": null}]}}
    ],
    "child_modules": [{"address": "module.nodes", "resources": [
      {"address": "module.nodes.aws_launch_template.lt", "mode": "managed", "type": "aws_launch_template",
       "values": {"metadata_options": [{"http_tokens": null, "http_put_response_hop_limit": 2, "http_endpoint": "enabled"}]}}
    ]}]
  }},
  "resource_changes": [
    {"address": "data.aws_iam_policy_document.d", "change": {"actions": ["read"], "after_unknown": {"json": true, "statement": [{"resources": [true]}]}}},
    {"address": "module.nodes.aws_launch_template.lt", "change": {"actions": ["create"], "after_unknown": {"metadata_options": [{"http_tokens": true}]}}}
  ]
}"#;

    fn facts() -> Facts {
        let doc = json::parse(PLAN).unwrap();
        assert!(is_plan(&doc));
        let mut facts = Facts::default();
        extract(
            &doc,
            "plan.json",
            Some(Path::new("/nonexistent")),
            &mut facts,
        );
        facts
    }

    #[test]
    fn resources_of_every_module_by_address() {
        let f = facts();
        let holders: Vec<_> = f
            .iam_statements
            .iter()
            .map(|s| s.resource.as_str())
            .collect();
        assert_eq!(
            holders,
            ["aws_iam_policy.app", "data.aws_iam_policy_document.d"]
        );
        assert!(f.iam_statements[0].dynamodb.all_actions);
        assert_eq!(
            f.instances[0].resource,
            "module.nodes.aws_launch_template.lt"
        );
    }

    /// `network_mode` is computed by the provider: unset, the plan shows it unknown. The
    /// configuration says it is not set, so the default (`bridge`) applies; set from a
    /// variable known only at apply, it stays unknown.
    #[test]
    fn computed_arguments_the_configuration_leaves_out_take_the_default() {
        let plan = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"child_modules": [{"address": "module.svc[\"web\"]", "resources": [
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.unset", "mode": "managed", "type": "aws_ecs_task_definition", "name": "unset",
     "values": {"family": "a", "network_mode": null, "container_definitions": "[]"}},
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.from_var", "mode": "managed", "type": "aws_ecs_task_definition", "name": "from_var",
     "values": {"family": "b", "network_mode": null, "container_definitions": "[]"}}
  ]}]}},
  "resource_changes": [
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.unset", "change": {"actions": ["create"], "after_unknown": {"network_mode": true}}},
    {"address": "module.svc[\"web\"].aws_ecs_task_definition.from_var", "change": {"actions": ["create"], "after_unknown": {"network_mode": true}}}
  ],
  "configuration": {"root_module": {"module_calls": {"svc": {"module": {"resources": [
    {"address": "aws_ecs_task_definition.unset", "mode": "managed", "type": "aws_ecs_task_definition", "name": "unset",
     "expressions": {"family": {"constant_value": "a"}}},
    {"address": "aws_ecs_task_definition.from_var", "mode": "managed", "type": "aws_ecs_task_definition", "name": "from_var",
     "expressions": {"network_mode": {"references": ["var.mode"]}}}
  ]}}}}}
}"#;
        let doc = json::parse(plan).unwrap();
        let mut facts = Facts::default();
        extract(
            &doc,
            "plan.json",
            Some(Path::new("/nonexistent")),
            &mut facts,
        );
        let w = |name: &str| facts.workloads.iter().find(|w| w.name == name).unwrap();
        assert_eq!(w("a").network_mode.as_deref(), Some("bridge"));
        assert!(w("a").unknown.is_empty(), "{:?}", w("a").unknown);
        assert_eq!(w("b").network_mode, None);
        assert_eq!(w("b").unknown.get("host_network"), Some(&true));
        assert_eq!(
            address_module("module.a[\"x]y\"].module.b[0].aws_c.d[\"e.f\"]"),
            "module.a[\"x]y\"].module.b[0]"
        );
        assert_eq!(address_module("aws_c.d"), "");
        assert_eq!(address_module("module.m.data.aws_c.d"), "module.m");
    }

    /// What a plan's reader leaves out: every copy but one, the resources it does not
    /// read, `before` but for an update, the prior state but for data sources.
    #[test]
    fn plans_are_read_without_what_is_not_judged() {
        let text = r#"{"format_version": "1.2",
  "variables": {"x": {"value": 1}},
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "values": {"bucket": "b"}, "sensitive_values": {}},
    {"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "values": {"policy": "{}"}, "sensitive_values": {}}]}},
  "resource_changes": [
    {"address": "aws_iam_policy.p", "type": "aws_iam_policy", "change": {"actions": ["update"], "before": {"policy": "{}"}, "after": {"policy": "{}"}, "after_unknown": {}, "before_sensitive": {}}},
    {"address": "aws_iam_policy.q", "type": "aws_iam_policy", "change": {"actions": ["no-op"], "before": {"policy": "{}"}, "after": {}, "after_unknown": {}}},
    {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "change": {"actions": ["update"], "before": {}, "after": {}, "after_unknown": {}}}],
  "prior_state": {"values": {"root_module": {"resources": [
    {"address": "aws_iam_policy.p", "mode": "managed", "type": "aws_iam_policy", "values": {"policy": "{}"}},
    {"address": "data.aws_iam_policy_document.d", "mode": "data", "type": "aws_iam_policy_document", "values": {"json": "{}"}}]}}}
}"#;
        let doc = crate::parse::json::parse_pruned(text, &prune).unwrap();
        assert!(doc.get("variables").is_none());
        let planned = doc
            .path(&["planned_values", "root_module", "resources"])
            .unwrap()
            .items();
        assert!(
            planned[0].get("values").is_none(),
            "a type breakout does not read"
        );
        assert!(planned[0].get("sensitive_values").is_none());
        assert!(planned[1].get("values").is_some());
        let changes = doc.get("resource_changes").unwrap().items();
        let change = |i: usize| changes[i].get("change").unwrap();
        assert!(change(0).get("before").is_some() && change(0).get("after").is_none());
        assert!(change(0).get("after_unknown").is_some());
        assert!(change(0).get("before_sensitive").is_none());
        assert!(
            change(1).get("before").is_none(),
            "a no-op keeps what it had"
        );
        assert!(change(2).get("before").is_none() && change(2).get("after_unknown").is_none());
        let prior = doc
            .path(&["prior_state", "values", "root_module", "resources"])
            .unwrap()
            .items();
        assert!(prior[0].get("values").is_none() && prior[1].get("values").is_some());
        assert!(sniff(text) && !sniff("[{\"format_version\": 1}]"));
    }

    #[test]
    fn after_unknown_values_are_unknown_not_absent() {
        let f = facts();
        let lt = &f.instances[0];
        assert_eq!(
            lt.imdsv1_allowed,
            crate::facts::Tri::Unknown,
            "http_tokens is known after apply"
        );
        assert_eq!(lt.hop_limit_above_one, crate::facts::Tri::Yes);
        // The document is rendered from its statements; its resource is unknown, which
        // may name a table.
        let d = &f.iam_statements[1];
        assert_eq!(d.dynamodb.actions, ["DeleteItem"]);
    }
}
