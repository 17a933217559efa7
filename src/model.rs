//! Ownership markers and the resource groups every command shares.

use serde::Serialize;
use std::collections::BTreeMap;

/// Tag/label key marking what kedactl manages (the Kubernetes recommended label).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "kedactl";
/// Tag/label key naming the stack that owns a resource; `down` deletes only its own.
pub const STACK: &str = "kedactl.io/stack";

/// Tag key prefix naming a cluster that uses a shared regional resource (queue, repository):
/// `kedactl.io/cluster/<name>`. One key per cluster, so `up`/`down` of two clusters add and
/// remove their own keys without a read-modify-write of a shared value, and `down` deletes the
/// resource only when no other cluster's key is left.
pub const CLUSTER_PREFIX: &str = "kedactl.io/cluster/";

/// Tag key prefix recording a managed policy kedactl attached to a role (`apps[].managedPolicies`):
/// `kedactl.io/attached/<hash of the ARN>`. `up` detaches only policies it recorded, so one a
/// person or another tool attached stays when it is not (or no longer) in the config.
pub const ATTACHED_PREFIX: &str = "kedactl.io/attached/";

/// The tag key that records `cluster` as a user of a queue or repository.
pub fn cluster_tag(cluster: &str) -> String {
    format!("{CLUSTER_PREFIX}{cluster}")
}

/// The clusters a queue's or repository's tags name as users, other than `cluster`.
pub fn other_clusters<'a>(tags: &'a BTreeMap<String, String>, cluster: &str) -> Vec<&'a str> {
    tags.keys()
        .filter_map(|k| k.strip_prefix(CLUSTER_PREFIX))
        .filter(|c| *c != cluster)
        .collect()
}

/// The tags (AWS) and labels (Kubernetes) every owned resource carries.
pub fn ownership(stack: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (STACK.to_string(), stack.to_string()),
    ])
}

/// Does a resource with these tags belong to this stack? The stack tag decides; a missing
/// managed-by tag is drift that `up` repairs.
pub fn is_owned(tags: &BTreeMap<String, String>, stack: &str) -> bool {
    tags.get(STACK).is_some_and(|s| s == stack)
}

/// The parts of a stack, as `--only` names them: one CI job can run one group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// IAM roles, trust and inline policies
    Iam,
    /// SQS queues (and dead-letter queues)
    Queue,
    /// ECR repositories
    Registry,
    /// What other triggers read and kedactl creates: an AMP workspace and its scraper, a Kinesis
    /// stream, a DynamoDB table
    Source,
    /// The Pod Identity Agent add-on and pod identity associations
    Eks,
    /// The KEDA installation
    Keda,
    /// The app's Kubernetes objects
    App,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Iam => "iam",
            Group::Queue => "queue",
            Group::Registry => "registry",
            Group::Source => "source",
            Group::Eks => "eks",
            Group::Keda => "keda",
            Group::App => "app",
        }
    }
}

/// Which groups a command works on: all, or those given with --only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Only(Vec<Group>);

impl Only {
    pub fn new(groups: Vec<Group>) -> Self {
        Only(groups)
    }

    pub fn includes(&self, g: Group) -> bool {
        self.0.is_empty() || self.0.contains(&g)
    }
}

/// The inline policy kedactl puts on the identity role.
pub const IDENTITY_POLICY: &str = "kedactl-sqs-access";
/// The SQS attribute naming a queue's KMS key.
pub const KMS_KEY: &str = "KmsMasterKeyId";

/// `kind`, `metadata.namespace` and `metadata.name` of a manifest, for messages and file names.
pub fn object_ref(object: &serde_json::Value) -> (String, Option<String>, String) {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let ns = object["metadata"]["namespace"].as_str().map(str::to_string);
    (s(&object["kind"]), ns, s(&object["metadata"]["name"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_is_decided_by_the_stack_tag() {
        let tags = ownership("prod");
        assert!(is_owned(&tags, "prod"));
        assert!(!is_owned(&tags, "dev"));
        let mut partial = tags.clone();
        partial.remove(MANAGED_BY);
        assert!(is_owned(&partial, "prod"));
        partial.remove(STACK);
        assert!(!is_owned(&partial, "prod"));
    }

    #[test]
    fn other_clusters_are_read_from_their_own_tag_keys() {
        let mut tags = ownership("prod");
        assert!(other_clusters(&tags, "a").is_empty());
        tags.insert(cluster_tag("a"), "arn:aws:eks:us-east-1:1:cluster/a".into());
        assert!(other_clusters(&tags, "a").is_empty());
        tags.insert(cluster_tag("b"), "arn:aws:eks:us-east-1:1:cluster/b".into());
        assert_eq!(other_clusters(&tags, "a"), ["b"]);
    }

    #[test]
    fn only_defaults_to_everything() {
        assert!(Only::default().includes(Group::Iam));
        let only = Only::new(vec![Group::Queue]);
        assert!(only.includes(Group::Queue) && !only.includes(Group::Iam));
    }
}
