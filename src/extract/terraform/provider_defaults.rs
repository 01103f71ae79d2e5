//! What the AWS provider does with an argument left unset (or set to null) — the table
//! in `data/aws-provider-defaults.json`, each entry with its source. Embedded and
//! parsed once. A null argument is an unset one: Terraform's rule for resource
//! arguments.

use crate::parse::{Node, Value};
use serde::Deserialize;
use std::sync::OnceLock;

/// One provider default.
#[derive(Clone, Debug, Deserialize)]
pub struct ProviderDefault {
    /// The resource type (`data.` prefix for a data source).
    pub resource: String,
    /// The argument, dotted through nested blocks (`metadata_options.http_tokens`).
    pub attribute: String,
    /// Applies only when another argument contains a value.
    #[serde(default)]
    pub when: Option<When>,
    /// The value the provider uses.
    pub default: serde_json::Value,
    /// Where this is documented.
    pub source: String,
    /// What else to know.
    #[serde(default)]
    pub note: Option<String>,
}

/// The condition of a default: `attribute` (a string or a list of strings) contains
/// `contains`.
#[derive(Clone, Debug, Deserialize)]
pub struct When {
    /// The other argument, at the resource's top level.
    pub attribute: String,
    /// The value it must contain.
    pub contains: String,
}

#[derive(Deserialize)]
struct Table {
    defaults: Vec<ProviderDefault>,
}

/// Every entry, in the file's order.
pub fn all() -> &'static [ProviderDefault] {
    static TABLE: OnceLock<Vec<ProviderDefault>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t: Table =
            serde_json::from_str(include_str!("../../../data/aws-provider-defaults.json"))
                .expect("embedded provider defaults are valid");
        t.defaults
    })
}

/// The default of `attribute` of `resource` for a resource whose values are `values`:
/// the first entry whose condition holds. `None` when there is none, or when the
/// argument a condition reads is unknown (the default is then unknown too).
pub fn lookup(resource: &str, attribute: &str, values: &Node) -> Option<&'static ProviderDefault> {
    for d in all()
        .iter()
        .filter(|d| d.resource == resource && d.attribute == attribute)
    {
        let Some(when) = &d.when else {
            return Some(d);
        };
        let Some(other) = values.get(&when.attribute) else {
            continue;
        };
        if other.is_unknown() || other.items().iter().any(Node::is_unknown) {
            return None;
        }
        let holds = match &other.value {
            Value::Seq(items) => items
                .iter()
                .any(|i| i.as_str() == Some(when.contains.as_str())),
            _ => other.as_str() == Some(when.contains.as_str()),
        };
        if holds {
            return Some(d);
        }
    }
    None
}

/// The default as text (`"optional"`, `1` → `"1"`).
pub fn text(resource: &str, attribute: &str, values: &Node) -> Option<String> {
    match &lookup(resource, attribute, values)?.default {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    #[test]
    fn every_entry_has_a_source_and_a_known_resource() {
        for d in all() {
            assert!(d.source.starts_with("https://"), "{d:?}");
            let rtype = d.resource.trim_start_matches("data.");
            assert!(
                super::super::resources::handles(rtype, d.resource.starts_with("data.")),
                "{d:?}"
            );
        }
    }

    #[test]
    fn conditions_choose_the_entry() {
        let ec2 = json::parse(r#"{"family": "x"}"#).unwrap();
        let fargate = json::parse(r#"{"requires_compatibilities": ["FARGATE"]}"#).unwrap();
        let both = json::parse(r#"{"requires_compatibilities": ["EC2", "FARGATE"]}"#).unwrap();
        let net = |v: &Node| text("aws_ecs_task_definition", "network_mode", v);
        assert_eq!(net(&ec2).as_deref(), Some("bridge"));
        assert_eq!(net(&fargate).as_deref(), Some("awsvpc"));
        assert_eq!(net(&both).as_deref(), Some("awsvpc"));
        let hop = text(
            "aws_launch_template",
            "metadata_options.http_put_response_hop_limit",
            &ec2,
        );
        assert_eq!(hop.as_deref(), Some("1"));
        assert_eq!(text("aws_instance", "nothing", &ec2), None);
    }

    #[test]
    fn an_unknown_condition_gives_no_default() {
        let mut v = json::parse(r#"{"requires_compatibilities": ["FARGATE"]}"#).unwrap();
        if let Value::Map(entries) = &mut v.value {
            entries[0].value.value = Value::Unknown;
        }
        assert_eq!(
            lookup("aws_ecs_task_definition", "network_mode", &v).map(|d| &d.default),
            None
        );
    }
}
