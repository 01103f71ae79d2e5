//! What breakout knows about DynamoDB permissions: every IAM action with its class
//! (`data/dynamodb-actions.json`, from the AWS Service Authorization Reference) and
//! the AWS managed policies that grant all of DynamoDB or its writes
//! (`data/aws-managed-dynamodb.json`). Both are embedded and parsed once.

use serde::Deserialize;
use std::sync::OnceLock;

/// One DynamoDB IAM action.
#[derive(Clone, Debug, Deserialize)]
pub struct Action {
    /// Action name without the prefix, e.g. `PutItem`.
    pub name: String,
    /// AWS access level (Read, Write, List, Tagging, Permissions management).
    pub access_level: String,
    /// breakout's class: `read`, `write`, `delete` or `admin`.
    pub class: String,
    /// `dynamodb:PutItem`, as policies write it (filled in when the catalog loads).
    #[serde(skip)]
    pub full_name: String,
}

#[derive(Deserialize)]
struct Catalog {
    actions: Vec<Action>,
}

/// An AWS managed policy that grants DynamoDB broadly.
#[derive(Clone, Debug, Deserialize)]
pub struct ManagedPolicy {
    /// Policy name.
    pub name: String,
    /// Policy ARN.
    pub arn: String,
    /// `all` (every DynamoDB action) or `write` (writes or deletes on every resource).
    pub grants: String,
    /// Write actions it allows on every resource.
    pub write_actions_on_every_resource: Vec<String>,
    /// The grant is narrowed by a condition in the policy.
    pub conditional: bool,
}

#[derive(Deserialize)]
struct ManagedList {
    policies: Vec<ManagedPolicy>,
}

/// Every DynamoDB action, sorted by name.
pub fn actions() -> &'static [Action] {
    static CATALOG: OnceLock<Vec<Action>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let c: Catalog = serde_json::from_str(include_str!("../../data/dynamodb-actions.json"))
            .expect("embedded DynamoDB catalog is valid");
        let mut actions = c.actions;
        actions.sort_by(|a, b| a.name.cmp(&b.name));
        for a in &mut actions {
            a.full_name = format!("dynamodb:{}", a.name);
        }
        actions
    })
}

/// The managed policy named by `arn_or_name` (ARN, or bare name), if it grants DynamoDB broadly.
pub fn managed_policy(arn_or_name: &str) -> Option<&'static ManagedPolicy> {
    static LIST: OnceLock<Vec<ManagedPolicy>> = OnceLock::new();
    let list = LIST.get_or_init(|| {
        let l: ManagedList =
            serde_json::from_str(include_str!("../../data/aws-managed-dynamodb.json"))
                .expect("embedded managed-policy list is valid");
        l.policies
    });
    let key = arn_or_name.trim();
    // Accept any partition (aws, aws-cn, aws-us-gov) and a `service-role/` path.
    let name = key.rsplit('/').next().unwrap_or(key);
    list.iter().find(|p| {
        p.arn == key
            || (key.starts_with("arn:aws") && key.contains(":iam::aws:policy/") && p.name == name)
            || (!key.contains(':') && p.name == key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_covers_the_known_write_actions_and_is_classified() {
        let names: Vec<&str> = actions().iter().map(|a| a.name.as_str()).collect();
        for must in [
            "GetItem",
            "PutItem",
            "DeleteTable",
            "PartiQLSelect",
            "GetRecords",
            "PutResourcePolicy",
        ] {
            assert!(names.contains(&must), "{must} missing");
        }
        assert!(actions().len() >= 50, "{} actions", actions().len());
        for a in actions() {
            assert!(
                ["read", "write", "delete", "admin"].contains(&a.class.as_str()),
                "{} has class {}",
                a.name,
                a.class
            );
        }
        // Every write the managed-policy data names must be in the catalog.
        let p = managed_policy("AmazonDynamoDBFullAccess").unwrap();
        for w in &p.write_actions_on_every_resource {
            let n = w.trim_start_matches("dynamodb:");
            assert!(names.contains(&n), "{w} missing from the catalog");
        }
    }

    #[test]
    fn managed_policies_match_by_arn_or_name() {
        assert!(managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(managed_policy("arn:aws-us-gov:iam::aws:policy/PowerUserAccess").is_some());
        assert!(managed_policy("AmazonDynamoDBFullAccess").is_some());
        assert!(managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess").is_none());
        assert!(managed_policy("AmazonDynamoDBReadOnlyAccess").is_none());
    }
}
