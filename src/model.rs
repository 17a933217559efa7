//! Ownership markers and the resource groups every command shares.

use serde::Serialize;
use std::collections::BTreeMap;

/// Tag/label key marking what kedactl manages (the Kubernetes recommended label).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "kedactl";
/// Tag/label key naming the stack that owns a resource; `down` deletes only its own.
pub const STACK: &str = "kedactl.io/stack";

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// IAM roles, trust and inline policies
    Iam,
    /// SQS queues (and dead-letter queues)
    Queue,
    /// ECR repositories
    Registry,
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
    fn only_defaults_to_everything() {
        assert!(Only::default().includes(Group::Iam));
        let only = Only::new(vec![Group::Queue]);
        assert!(only.includes(Group::Queue) && !only.includes(Group::Iam));
    }
}
