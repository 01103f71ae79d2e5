//! Runs each policy's JSONPath over the fact document and turns matches into findings.

use super::{Confidence, Finding, Location, Policy, RelatedLocation, Severity, Step as ChainStep};
use anyhow::Result;
use serde_json::Value;

/// Evaluates `policies` over the fact document (the JSON form of
/// [`Facts`](crate::facts::Facts)). Findings come back sorted.
pub fn evaluate(policies: &[Policy], facts: &Value) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for policy in policies {
        let query = policy.query.as_ref().expect("policies are parsed on load");
        let queries = std::iter::once((query, Confidence::High))
            .chain(policy.unknown_query.as_ref().map(|q| (q, Confidence::Low)));
        for (query, confidence) in queries {
            for m in query.query_located(facts) {
                let path: Vec<Step> = m
                    .location()
                    .iter()
                    .map(|e| match e {
                        serde_json_path::PathElement::Name(k) => Step::Key(k),
                        serde_json_path::PathElement::Index(i) => Step::Index(*i),
                    })
                    .collect();
                if let Some(f) = finding(policy, facts, &path, confidence) {
                    findings.push(f);
                }
            }
        }
    }
    findings.sort_by(Finding::order);
    findings.dedup();
    Ok(findings)
}

/// Facts per piece when [`evaluate_split`] divides a large fact document.
const FACTS_PER_PIECE: usize = 1000;

/// [`evaluate`], on pieces of the fact document in parallel when it holds many facts
/// (a plan of thousands of resources is one file): every policy selects within one
/// fact, so its findings do not depend on how the facts are grouped.
pub fn evaluate_split(policies: &[Policy], facts: Value) -> Result<Vec<Finding>> {
    use rayon::prelude::*;
    let Value::Object(kinds) = facts else {
        return evaluate(policies, &facts);
    };
    let total: usize = kinds
        .values()
        .map(|v| v.as_array().map_or(0, Vec::len))
        .sum();
    let pieces = total.div_ceil(FACTS_PER_PIECE);
    if pieces <= 1 {
        return evaluate(policies, &Value::Object(kinds));
    }
    let mut docs: Vec<serde_json::Map<String, Value>> = vec![serde_json::Map::new(); pieces];
    for (kind, list) in kinds {
        match list {
            Value::Array(items) => {
                let per = items.len().div_ceil(pieces).max(1);
                let mut items = items.into_iter();
                for doc in docs.iter_mut() {
                    doc.insert(
                        kind.clone(),
                        Value::Array(items.by_ref().take(per).collect()),
                    );
                }
            }
            other => {
                for doc in docs.iter_mut() {
                    doc.insert(kind.clone(), other.clone());
                }
            }
        }
    }
    let found: Vec<Vec<Finding>> = docs
        .into_par_iter()
        .map(|doc| evaluate(policies, &Value::Object(doc)))
        .collect::<Result<_>>()?;
    let mut findings: Vec<Finding> = found.into_iter().flatten().collect();
    findings.sort_by(Finding::order);
    findings.dedup();
    Ok(findings)
}

/// One step of a match's normalized path (`$['a'][0]`).
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Builds the finding for a match at `path`: the chain of objects from the root to
/// the match supplies the position, the resource and the template fields.
fn finding(
    policy: &Policy,
    root: &Value,
    path: &[Step<'_>],
    confidence: Confidence,
) -> Option<Finding> {
    let mut chain: Vec<&Value> = vec![root];
    for step in path {
        let cur = *chain.last()?;
        chain.push(match step {
            Step::Key(k) => cur.get(*k)?,
            Step::Index(i) => cur.get(*i)?,
        });
    }
    let matched = *chain.last()?;
    // Innermost fact (an object with a file and a position) on the chain.
    let fact_at = chain.iter().rposition(|v| v.get("loc").is_some())?;
    let fact = chain[fact_at];
    let file = fact.get("file")?.as_str()?.to_string();

    let field_pos = |obj: &Value, field: &str| obj.get("locs")?.get(field).cloned();
    let pos = policy
        .at
        .iter()
        .find_map(|f| field_pos(matched, f))
        .or_else(|| match (path.last(), fact_at + 1 == chain.len() - 1) {
            // The match is a field of the fact: point at that field's key.
            (Some(Step::Key(k)), true) => field_pos(fact, k),
            _ => None,
        })
        .or_else(|| fact.get("loc").cloned())?;
    // A position in another file than the fact's (a Kustomize patch, a Terraform
    // module's output) says so; the fact's own place becomes a related location.
    let fact_file = file;
    let file = pos
        .get("file")
        .and_then(Value::as_str)
        .map_or_else(|| fact_file.clone(), str::to_string);
    let location = Location {
        file,
        line: pos.get("line")?.as_u64()? as u32,
        column: pos.get("column")?.as_u64()? as u32,
    };

    let lookup = |name: &str| -> Option<String> {
        chain.iter().rev().find_map(|obj| {
            let v = name.split('.').try_fold(*obj, |v, k| v.get(k))?;
            Some(text(v))
        })
    };
    let message = match (confidence, &policy.unknown_message) {
        (Confidence::Low, Some(m)) => render(m, &lookup),
        (Confidence::Low, None) => format!(
            "{} (low confidence: it rests on a value known only at apply time)",
            render(&policy.message, &lookup)
        ),
        (Confidence::High, _) => render(&policy.message, &lookup),
    };
    let resource = lookup("resource").unwrap_or_default();
    // The key path inside the resource: the container, the volume, the IAM statement
    // or attached policy, and the field the rule points at. Never a line number.
    let subject = [
        lookup("container").or_else(|| lookup("name")),
        lookup("volume"),
        lookup("statement"),
        lookup("policy_arn"),
        policy.at.first().cloned(),
    ];
    let fingerprint = fingerprint(&[
        &policy.id,
        &fingerprint_path(&location.file),
        &resource,
        &subject
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("|"),
    ]);
    let mut related_locations: Vec<RelatedLocation> = Vec::new();
    if location.file != fact_file {
        if let Some(user) = declared_at(root, fact, &resource, &fact_file).and_then(|loc| {
            let mut at = evidence(&serde_json::json!({"file": fact_file, "loc": loc}))?;
            at.message = format!("the value is used by {resource}, declared here");
            Some(at)
        }) {
            related_locations.push(user);
        }
    }
    related_locations.extend(
        policy
            .related
            .iter()
            .filter_map(|name| chain.iter().rev().find_map(|obj| obj.get(name)))
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().filter_map(evidence).collect(),
                one => evidence(one).into_iter().collect::<Vec<_>>(),
            }),
    );
    related_locations.dedup();
    let severity = policy
        .severity_from
        .as_deref()
        .and_then(|field| matched.get(field)?.as_str())
        .and_then(|s| match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        })
        .map_or(policy.severity, |s| s.min(policy.severity));
    let steps = policy
        .steps
        .as_deref()
        .and_then(|name| matched.get(name))
        .map(Value::as_array)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|v| {
            let ev = evidence(v)?;
            Some(ChainStep {
                rule: v.get("rule").map(text).unwrap_or_default(),
                resource: v.get("resource").map(text).unwrap_or_default(),
                file: ev.file,
                line: ev.line,
                column: ev.column,
                what: ev.message,
            })
        })
        .collect();
    Some(Finding {
        rule_id: policy.id.clone(),
        slug: policy.slug.clone(),
        title: policy.title.clone(),
        severity,
        message,
        resource,
        location,
        remediation: policy.remediation.clone(),
        confidence,
        fingerprint,
        related_locations,
        suppression: None,
        steps,
        plan: None,
    })
}

/// Where `resource` is declared in its fact's own file: the fact's position when it is
/// there, else that of another fact of the same resource that is (a container built in
/// another module belongs to the task definition declared here).
fn declared_at<'v>(
    root: &'v Value,
    fact: &'v Value,
    resource: &str,
    file: &str,
) -> Option<&'v Value> {
    let in_file = |loc: &Value| loc.get("file").is_none_or(|f| f.as_str() == Some(file));
    if let Some(loc) = fact.get("loc").filter(|l| in_file(l)) {
        return Some(loc);
    }
    root.as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter(|f| {
            f.get("resource").and_then(Value::as_str) == Some(resource)
                && f.get("file").and_then(Value::as_str) == Some(file)
        })
        .filter_map(|f| f.get("loc"))
        .find(|l| in_file(l))
}

/// An evidence fact (`{what, file, loc}`) as a related location.
fn evidence(v: &Value) -> Option<RelatedLocation> {
    let loc = v.get("loc")?;
    Some(RelatedLocation {
        // A position that names its own file wins over the evidence's.
        file: loc
            .get("file")
            .or_else(|| v.get("file"))?
            .as_str()?
            .to_string(),
        line: loc.get("line")?.as_u64()? as u32,
        column: loc.get("column")?.as_u64()? as u32,
        message: v.get("what").map(text).unwrap_or_default(),
    })
}

/// A fact value as message text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "not set".into(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Replaces `{field}` with the looked-up value; unknown fields stay as written.
fn render(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template.trim();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The file path as fingerprints see it: `./a/./b` and `a/b` are the same file.
fn fingerprint_path(file: &str) -> String {
    let mut rest = file;
    while let Some(r) = rest.strip_prefix("./") {
        rest = r.trim_start_matches('/');
    }
    let mut out = rest.replace("/./", "/");
    while out.contains("/./") {
        out = out.replace("/./", "/");
    }
    out
}

/// FNV-1a 64 over the parts: stable across runs, platforms and versions.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(select: &str, at: Option<&str>, message: &str) -> Policy {
        let mut text = format!(
            "id: T1\nslug: t\ntitle: T\nseverity: high\nrationale: r\nremediation: fix\nselect: \"{select}\"\nmessage: \"{message}\"\npeers: {{}}\n"
        );
        if let Some(at) = at {
            text.push_str(&format!("at: {at}\n"));
        }
        Policy::parse(&text, "test").unwrap()
    }

    fn doc() -> Value {
        json!({"containers": [
            {"resource": "Pod p", "name": "a", "privileged": true, "file": "f.yaml",
             "loc": {"line": 5, "column": 3}, "locs": {"privileged": {"line": 8, "column": 7}},
             "mounts": [{"volume": "v", "file": "f.yaml", "loc": {"line": 20, "column": 9}, "locs": {}}]},
            {"resource": "Pod p", "name": "b", "privileged": null, "file": "f.yaml",
             "loc": {"line": 10, "column": 3}, "locs": {}, "mounts": []}
        ]})
    }

    #[test]
    fn unknown_selectors_give_low_confidence_findings() {
        let text = "id: T1\nslug: t\ntitle: T\nseverity: high\nrationale: r\nremediation: fix\nselect: \"$.containers[?@.privileged == true]\"\nunknown: \"$.containers[?@.unknown.privileged == true]\"\nmessage: \"{name} is privileged\"\npeers: {}\n";
        let p = Policy::parse(text, "test").unwrap();
        let facts = json!({"containers": [
            {"resource": "r", "name": "a", "privileged": true, "unknown": {}, "file": "f", "loc": {"line": 1, "column": 1}, "locs": {}},
            {"resource": "r", "name": "b", "privileged": null, "unknown": {"privileged": true}, "file": "f", "loc": {"line": 2, "column": 1}, "locs": {}},
            {"resource": "r", "name": "c", "privileged": null, "unknown": {}, "file": "f", "loc": {"line": 3, "column": 1}, "locs": {}}
        ]});
        let f = evaluate(&[p], &facts).unwrap();
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.message.as_str(), f.confidence))
            .collect();
        assert_eq!(got[0], ("a is privileged", Confidence::High));
        assert_eq!(got[1].1, Confidence::Low);
        assert!(got[1].0.starts_with("b is privileged (low confidence"));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn rfc_9535_functions_work_as_the_policy_guide_says() {
        // docs/facts.md, "Writing selectors": `count` over a node list, `length`,
        // `match` (whole string) and `search` (anywhere).
        let names = |select: &str| -> Vec<String> {
            let p = policy(select, None, "{name}");
            evaluate(&[p], &doc())
                .unwrap()
                .into_iter()
                .map(|f| f.message)
                .collect()
        };
        assert_eq!(names("$.containers[?count(@.mounts[*]) == 0]"), ["b"]);
        assert_eq!(names("$.containers[?length(@.mounts) > 0]"), ["a"]);
        assert_eq!(names("$.containers[?match(@.name, 'a|b')]"), ["a", "b"]);
        assert_eq!(names("$.containers[?search(@.resource, 'od')]"), ["a", "b"]);
        assert!(names("$.containers[?match(@.resource, 'od')]").is_empty());
    }

    #[test]
    fn points_at_the_key_or_falls_back_to_the_fact() {
        let p = policy(
            "$.containers[?@.privileged != false]",
            Some("privileged"),
            "{resource}: {name}",
        );
        let f = evaluate(&[p], &doc()).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].location.line, f[0].location.column), (8, 7));
        assert_eq!(f[0].message, "Pod p: a");
        assert_eq!(f[1].location.line, 10, "no key written: the container");
    }

    #[test]
    fn a_selected_field_points_at_its_key_and_nested_facts_at_themselves() {
        let p = policy("$.containers[*].privileged", None, "x");
        let f = evaluate(&[p], &doc()).unwrap();
        assert_eq!(f[0].location.line, 8);
        let p = policy(
            "$.containers[*].mounts[*]",
            None,
            "{name} mounts {volume} {missing}",
        );
        let f = evaluate(&[p], &doc()).unwrap();
        assert_eq!(f[0].location.line, 20);
        assert_eq!(f[0].message, "a mounts v {missing}");
    }

    #[test]
    fn a_large_document_gives_the_same_findings_in_pieces() {
        let p = policy(
            "$.containers[?@.privileged == true]",
            Some("privileged"),
            "{name}",
        );
        let containers: Vec<Value> = (0..2500)
            .map(|i| {
                json!({"resource": "Pod p", "name": format!("c{i}"), "privileged": i % 3 == 0,
                "file": "f.yaml", "loc": {"line": i + 1, "column": 1}, "locs": {}})
            })
            .collect();
        let doc = json!({"containers": containers, "workloads": []});
        let whole = evaluate(std::slice::from_ref(&p), &doc).unwrap();
        let split = evaluate_split(&[p], doc).unwrap();
        assert_eq!(whole.len(), 834);
        assert_eq!(whole, split);
    }

    #[test]
    fn fingerprint_paths_ignore_dot_segments() {
        assert_eq!(fingerprint_path("./k8s/./a.yaml"), "k8s/a.yaml");
        assert_eq!(fingerprint_path(".//k8s/a.yaml"), "k8s/a.yaml");
        assert_eq!(fingerprint_path("/abs/./k8s/a.yaml"), "/abs/k8s/a.yaml");
        assert_eq!(fingerprint_path("../up/a.yaml"), "../up/a.yaml");
    }

    #[test]
    fn statements_of_one_policy_have_their_own_fingerprints() {
        let p = policy("$.iam_statements[*]", None, "{statement}");
        let facts = json!({"iam_statements": [
            {"resource": "IAM policy p", "statement": "Sid \"A\"", "file": "p.json", "loc": {"line": 3, "column": 5}, "locs": {}},
            {"resource": "IAM policy p", "statement": "Sid \"B\"", "file": "p.json", "loc": {"line": 9, "column": 5}, "locs": {}}
        ]});
        let f = evaluate(&[p], &facts).unwrap();
        assert_eq!(f.len(), 2);
        assert_ne!(f[0].fingerprint, f[1].fingerprint);
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}
