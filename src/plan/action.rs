//! The typed actions a plan is made of, and their one-line descriptions.

use super::observed::Tags;
use crate::render::policy::canonical;
use crate::triggers::resource::Kind as ResourceKind;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a step does to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Create,
    Update,
    Delete,
    /// Waits, restarts, checks: no resource is created or changed by itself.
    Run,
}

impl Change {
    pub fn symbol(self) -> char {
        match self {
            Change::Create => '+',
            Change::Update => '~',
            Change::Delete => '-',
            Change::Run => '>',
        }
    }
}

/// One typed action; the executor interprets it, nothing here has side effects.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    CreateAddon {
        addon: String,
        tags: Tags,
    },
    WaitAddonActive {
        addon: String,
    },
    CreateRole {
        role: String,
        trust: Value,
        tags: Tags,
    },
    UpdateTrustPolicy {
        role: String,
        trust: Value,
    },
    PutRolePolicy {
        role: String,
        policy: String,
        document: Value,
    },
    TagRole {
        role: String,
        tags: Tags,
    },
    CreateQueue {
        queue: String,
        attributes: BTreeMap<String, String>,
        tags: Tags,
    },
    SetQueueAttributes {
        queue: String,
        url: String,
        attributes: BTreeMap<String, String>,
    },
    TagQueue {
        queue: String,
        url: String,
        tags: Tags,
    },
    /// `down` of one cluster of several: this cluster's `kedactl.io/cluster/…` key goes.
    UntagQueue {
        queue: String,
        url: String,
        keys: Vec<String>,
    },
    CreateRepository {
        repository: String,
        tags: Tags,
    },
    TagRepository {
        repository: String,
        arn: String,
        tags: Tags,
    },
    UntagRepository {
        repository: String,
        arn: String,
        keys: Vec<String>,
    },
    /// A trigger's resource (an AMP workspace); the step waits until it is usable.
    CreateResource {
        resource: ResourceKind,
        name: String,
        tags: Tags,
        /// `Resource::settings`: what the create call needs besides the name.
        #[serde(skip_serializing_if = "serde_json::Value::is_null")]
        settings: serde_json::Value,
    },
    TagResource {
        resource: ResourceKind,
        name: String,
        arn: String,
        tags: Tags,
    },
    UntagResource {
        resource: ResourceKind,
        name: String,
        arn: String,
        keys: Vec<String>,
    },
    DeleteResource {
        resource: ResourceKind,
        name: String,
        /// The service's id (an AMP workspace id).
        id: String,
        arn: String,
    },
    CreateAssociation {
        namespace: String,
        service_account: String,
        role_arn: String,
        tags: Tags,
    },
    UpdateAssociation {
        association_id: String,
        namespace: String,
        service_account: String,
        role_arn: String,
    },
    /// `helm upgrade --install` of the pinned chart, after a marker that says which stack did it.
    InstallKeda {
        namespace: String,
        service_account: String,
        version: String,
        /// IRSA mode: the operator role for the chart's service-account annotation.
        #[serde(skip_serializing_if = "Option::is_none")]
        irsa_role_arn: Option<String>,
        stack: String,
    },
    /// Server-side apply of one object (field manager `kedactl`).
    Apply {
        kind: String,
        namespace: Option<String>,
        name: String,
        manifest: Value,
    },
    /// Pods read Pod Identity credentials only at creation: recreate them after an association change.
    RestartDeployment {
        namespace: String,
        deployment: String,
        reason: String,
    },
    /// Check the running pods got AWS_CONTAINER_CREDENTIALS_FULL_URI / _AUTHORIZATION_TOKEN_FILE.
    VerifyPodIdentity {
        namespace: String,
        deployment: String,
    },
    /// Delete one Kubernetes object and wait until it is gone.
    DeleteObject {
        kind: String,
        namespace: Option<String>,
        name: String,
    },
    /// `helm uninstall` of a KEDA this stack installed (then its marker and namespace).
    UninstallKeda {
        namespace: String,
        stack: String,
        /// The namespace was created by this stack and held nothing else when observed.
        delete_namespace: bool,
    },
    DeleteAssociation {
        association_id: String,
        namespace: String,
        service_account: String,
    },
    DeleteQueue {
        queue: String,
        url: String,
    },
    DeleteRepository {
        repository: String,
        /// Delete the images too (`down --force`).
        force: bool,
    },
    DeleteRolePolicy {
        role: String,
        policy: String,
    },
    DetachRolePolicy {
        role: String,
        policy_arn: String,
    },
    DeleteRole {
        role: String,
    },
    /// Only an add-on kedactl created (tagged with this stack).
    DeleteAddon {
        addon: String,
    },
}

impl Action {
    /// The documents a step writes (a manifest, a policy, a trust): where a resource's id may
    /// stand as a placeholder until the run creates it.
    pub fn documents_mut(&mut self) -> Vec<&mut Value> {
        match self {
            Action::Apply { manifest, .. } => vec![manifest],
            Action::PutRolePolicy { document, .. } => vec![document],
            Action::CreateRole { trust, .. } | Action::UpdateTrustPolicy { trust, .. } => {
                vec![trust]
            }
            _ => vec![],
        }
    }

    /// Runs against the Kubernetes API (or helm) rather than AWS.
    pub fn on_cluster(&self) -> bool {
        matches!(
            self,
            Action::InstallKeda { .. }
                | Action::Apply { .. }
                | Action::RestartDeployment { .. }
                | Action::VerifyPodIdentity { .. }
                | Action::DeleteObject { .. }
                | Action::UninstallKeda { .. }
        )
    }

    /// One line for people.
    pub fn summary(&self, change: Change) -> String {
        match self {
            Action::CreateAddon { addon, .. } => format!("create EKS add-on {addon}"),
            Action::WaitAddonActive { addon } => format!("wait until add-on {addon} is ACTIVE"),
            Action::CreateRole { role, trust, .. } => {
                format!("create IAM role {role} (trusted by {})", principals(trust))
            }
            Action::UpdateTrustPolicy { role, trust } => {
                format!(
                    "update the trust policy of IAM role {role} (trusted by {})",
                    principals(trust)
                )
            }
            Action::PutRolePolicy { role, policy, .. } => {
                let verb = if change == Change::Create {
                    "add"
                } else {
                    "update"
                };
                format!("{verb} inline policy {policy} on IAM role {role}")
            }
            Action::TagRole { role, .. } => {
                format!("tag IAM role {role} as owned by this stack")
            }
            Action::CreateQueue {
                queue, attributes, ..
            } => {
                let attrs: Vec<String> = attributes
                    .iter()
                    .map(|(k, v)| {
                        if k == "RedrivePolicy" {
                            "RedrivePolicy".into()
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect();
                format!("create SQS queue {queue} ({})", attrs.join(", "))
            }
            Action::SetQueueAttributes {
                queue, attributes, ..
            } => {
                let keys: Vec<&str> = attributes.keys().map(String::as_str).collect();
                format!("set {} on SQS queue {queue}", keys.join(", "))
            }
            Action::TagQueue { queue, .. } => {
                format!("tag SQS queue {queue} as owned by this stack")
            }
            Action::UntagQueue { queue, .. } => {
                format!("untag SQS queue {queue}: this cluster no longer uses it")
            }
            Action::CreateRepository { repository, .. } => {
                format!("create ECR repository {repository}")
            }
            Action::TagRepository { repository, .. } => {
                format!("tag ECR repository {repository} as owned by this stack")
            }
            Action::UntagRepository { repository, .. } => {
                format!("untag ECR repository {repository}: this cluster no longer uses it")
            }
            Action::CreateResource { resource, name, .. } => {
                format!("create {} {name}", resource.noun())
            }
            Action::TagResource { resource, name, .. } => {
                format!("tag {} {name} as owned by this stack", resource.noun())
            }
            Action::UntagResource { resource, name, .. } => format!(
                "untag {} {name}: this cluster no longer uses it",
                resource.noun()
            ),
            Action::DeleteResource {
                resource, name, id, ..
            } => format!("delete {} {name} ({id})", resource.noun()),
            Action::CreateAssociation {
                namespace,
                service_account,
                role_arn,
                ..
            } => {
                format!(
                    "associate service account {namespace}/{service_account} with IAM role {}",
                    role_name(role_arn)
                )
            }
            Action::UpdateAssociation {
                namespace,
                service_account,
                role_arn,
                ..
            } => {
                format!(
                    "point the association of {namespace}/{service_account} at IAM role {}",
                    role_name(role_arn)
                )
            }
            Action::InstallKeda {
                namespace, version, ..
            } => {
                let verb = if change == Change::Create {
                    "install"
                } else {
                    "repair (helm upgrade --install)"
                };
                format!("{verb} KEDA {version} in namespace {namespace} (helm chart kedacore/keda)")
            }
            Action::Apply {
                kind,
                namespace,
                name,
                ..
            } => {
                let verb = if change == Change::Create {
                    "create"
                } else {
                    "update"
                };
                format!(
                    "{verb} {}",
                    crate::observed::describe(kind, namespace.as_deref(), name)
                )
            }
            Action::RestartDeployment {
                namespace,
                deployment,
                reason,
            } => {
                format!("restart Deployment {namespace}/{deployment}: {reason}")
            }
            Action::VerifyPodIdentity {
                namespace,
                deployment,
            } => {
                format!("check that {namespace}/{deployment} pods got Pod Identity credentials")
            }
            Action::DeleteObject {
                kind,
                namespace,
                name,
            } => format!(
                "delete {}",
                crate::observed::describe(kind, namespace.as_deref(), name)
            ),
            Action::UninstallKeda { namespace, .. } => {
                format!("uninstall KEDA from namespace {namespace} (kedactl installed it)")
            }
            Action::DeleteAssociation {
                namespace,
                service_account,
                ..
            } => {
                format!("delete the pod identity association of {namespace}/{service_account}")
            }
            Action::DeleteQueue { queue, .. } => format!("delete SQS queue {queue}"),
            Action::DeleteRepository { repository, force } => {
                if *force {
                    format!("delete ECR repository {repository} and its images (--force)")
                } else {
                    format!("delete ECR repository {repository}")
                }
            }
            Action::DeleteRolePolicy { role, policy } => {
                format!("delete inline policy {policy} from IAM role {role}")
            }
            Action::DetachRolePolicy { role, policy_arn } => {
                format!("detach {policy_arn} from IAM role {role}")
            }
            Action::DeleteRole { role } => format!("delete IAM role {role}"),
            Action::DeleteAddon { addon } => {
                format!("delete EKS add-on {addon} (kedactl created it)")
            }
        }
    }
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// "pods.eks.amazonaws.com (keda/keda-operator), role keda-operator" from a trust policy.
fn principals(trust: &Value) -> String {
    let canon = canonical(trust);
    let mut out: Vec<String> = Vec::new();
    for s in canon["Statement"].as_array().into_iter().flatten() {
        let conds = &s["Condition"]["StringEquals"];
        let sa = match (
            conds["aws:RequestTag/kubernetes-namespace"][0].as_str(),
            conds["aws:RequestTag/kubernetes-service-account"][0].as_str(),
        ) {
            (Some(ns), Some(sa)) => format!(" for {ns}/{sa}"),
            _ => String::new(),
        };
        for (kind, values) in s["Principal"].as_object().into_iter().flatten() {
            for v in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let text = match kind.as_str() {
                    "AWS" => format!("role {}", role_name(v)),
                    "Federated" => "the cluster's OIDC provider".to_string(),
                    _ => format!("{v}{sa}"),
                };
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
    }
    out.join(", ")
}
