//! The typed actions a plan is made of, and their one-line descriptions.

use super::observed::{Data, Tags};
use crate::render::policy::canonical;
use crate::triggers::resource::Kind as ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a step does to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Action {
    CreateAddon {
        addon: String,
        tags: Tags,
    },
    WaitAddonActive {
        addon: String,
    },
    /// IRSA: the IAM OIDC identity provider of the cluster's issuer (no thumbprint: IAM
    /// verifies EKS's issuer with its own trusted CAs).
    CreateOidcProvider {
        url: String,
        client_ids: Vec<String>,
        tags: Tags,
    },
    CreateRole {
        role: String,
        trust: Value,
        tags: Tags,
        /// `roles.path`, when not `/`.
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// `roles.permissionsBoundary`.
        #[serde(skip_serializing_if = "Option::is_none")]
        permissions_boundary: Option<String>,
    },
    /// Set (or change) a role's permissions boundary to `roles.permissionsBoundary`.
    PutRolePermissionsBoundary {
        role: String,
        permissions_boundary: String,
    },
    /// Attach one of `apps[].managedPolicies`, after recording it on the role (a tag
    /// `kedactl.io/attached/<hash>`): only what is recorded is ever detached by `up`.
    AttachRolePolicy {
        role: String,
        policy_arn: String,
    },
    UpdateTrustPolicy {
        role: String,
        trust: Value,
        /// How this cluster's statements change, re-applied by the executor to the trust it
        /// reads right before writing (a shared trust); None writes `trust` exactly (a role
        /// taken over with --adopt). A saved plan (`plan --out`) carries it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edit: Option<super::trust::Edit>,
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
        #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
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
        /// The service's id (an AMP workspace id); `resourceId` in JSON, where `id` is the step's.
        #[serde(rename = "resourceId")]
        id: String,
        arn: String,
        /// Delete it even when it holds data (`down --force`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        force: bool,
        /// What it held when read: lost with it.
        #[serde(skip_serializing_if = "Option::is_none")]
        loses: Option<Data>,
    },
    CreateAssociation {
        namespace: String,
        service_account: String,
        role_arn: String,
        tags: Tags,
    },
    /// Put the config's tags (and ownership) back on an association this stack made.
    TagAssociation {
        association_id: String,
        namespace: String,
        service_account: String,
        arn: String,
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
        /// The version running now, when this changes it (keda.version changed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The user's chart values (`keda.values`, `keda.valuesFile`); kedactl's own win.
        #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
        values: serde_json::Map<String, Value>,
        /// The values it was installed with, when this changes them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        values_from: Option<serde_json::Map<String, Value>>,
    },
    /// Server-side apply of one object (field manager `kedactl`).
    Apply {
        kind: String,
        namespace: Option<String>,
        name: String,
        manifest: Value,
    },
    /// IRSA on a team's own service account (an existing workload's): server-side apply of the
    /// role annotation alone, so kedactl owns that one field and nothing else (`None`: release
    /// it, which removes it). Not ownership-checked: the object is the team's by design.
    AnnotateServiceAccount {
        namespace: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        role_arn: Option<String>,
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
    /// Check that the Deployment's newest pod got IRSA's web identity (and no Pod Identity).
    VerifyIrsa {
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
        /// Delete it even when it holds messages (`down --force`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        force: bool,
        /// The messages it held when read: lost with it.
        #[serde(skip_serializing_if = "Option::is_none")]
        loses: Option<Data>,
    },
    DeleteRepository {
        repository: String,
        /// Delete the images too (`down --force`).
        force: bool,
    },
    DeleteRolePolicy {
        role: String,
        policy: String,
        /// `down` of a role someone else's trust statement keeps: only this stack's policies
        /// go, and only another cluster of the stack joining since the plan refuses it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        kept: bool,
    },
    DetachRolePolicy {
        role: String,
        policy_arn: String,
        /// `up`: the record tag of a managed policy kedactl attached and the config no longer
        /// lists (removed with it). None: `down`, detaching before the role is deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<String>,
    },
    DeleteRole {
        role: String,
    },
    /// Only an add-on kedactl created (tagged with this stack).
    DeleteAddon {
        addon: String,
    },
    /// Only a provider this stack created, and only while no role in the account trusts it.
    DeleteOidcProvider {
        arn: String,
        url: String,
    },
}

impl Action {
    /// The documents a step writes (a manifest, a policy, a trust): where a resource's id may
    /// stand as a placeholder until the run creates it.
    pub fn documents_mut(&mut self) -> Vec<&mut Value> {
        match self {
            Action::Apply { manifest, .. } => vec![manifest],
            Action::PutRolePolicy { document, .. } => vec![document],
            // An AMP scraper names the workspace it writes to.
            Action::CreateResource { settings, .. } => vec![settings],
            Action::CreateRole { trust, .. } | Action::UpdateTrustPolicy { trust, .. } => {
                vec![trust]
            }
            _ => vec![],
        }
    }

    /// Runs against the Kubernetes API (or helm) rather than AWS.
    pub fn on_cluster(&self) -> bool {
        self.service() == Service::Cluster
    }

    /// Where this action's calls go.
    pub fn service(&self) -> Service {
        match self {
            Action::CreateOidcProvider { .. }
            | Action::DeleteOidcProvider { .. }
            | Action::CreateRole { .. }
            | Action::PutRolePermissionsBoundary { .. }
            | Action::AttachRolePolicy { .. }
            | Action::UpdateTrustPolicy { .. }
            | Action::PutRolePolicy { .. }
            | Action::TagRole { .. }
            | Action::DeleteRolePolicy { .. }
            | Action::DetachRolePolicy { .. }
            | Action::DeleteRole { .. } => Service::Iam,
            Action::CreateQueue { .. }
            | Action::SetQueueAttributes { .. }
            | Action::TagQueue { .. }
            | Action::UntagQueue { .. }
            | Action::DeleteQueue { .. } => Service::Sqs,
            Action::CreateRepository { .. }
            | Action::TagRepository { .. }
            | Action::UntagRepository { .. }
            | Action::DeleteRepository { .. } => Service::Ecr,
            Action::CreateAddon { .. }
            | Action::WaitAddonActive { .. }
            | Action::DeleteAddon { .. }
            | Action::CreateAssociation { .. }
            | Action::TagAssociation { .. }
            | Action::UpdateAssociation { .. }
            | Action::DeleteAssociation { .. } => Service::Eks,
            Action::CreateResource { .. }
            | Action::TagResource { .. }
            | Action::UntagResource { .. }
            | Action::DeleteResource { .. } => Service::TriggerResource,
            Action::InstallKeda { .. }
            | Action::Apply { .. }
            | Action::AnnotateServiceAccount { .. }
            | Action::RestartDeployment { .. }
            | Action::VerifyPodIdentity { .. }
            | Action::VerifyIrsa { .. }
            | Action::DeleteObject { .. }
            | Action::UninstallKeda { .. } => Service::Cluster,
        }
    }

    /// One line for people.
    pub fn summary(&self, change: Change) -> String {
        match self.service() {
            Service::Iam => self.iam_summary(change),
            Service::Sqs => self.queue_summary(),
            Service::Ecr => self.repository_summary(),
            Service::Eks => self.eks_summary(),
            Service::TriggerResource => self.resource_summary(),
            Service::Cluster => self.cluster_summary(change),
        }
    }

    fn iam_summary(&self, change: Change) -> String {
        match self {
            Action::CreateOidcProvider {
                url, client_ids, ..
            } => format!(
                "create IAM OIDC provider {url} (audience {})",
                client_ids.join(", ")
            ),
            Action::DeleteOidcProvider { url, .. } => {
                format!("delete IAM OIDC provider {url} (kedactl created it; no role trusts it)")
            }
            Action::CreateRole {
                role,
                trust,
                path,
                permissions_boundary,
                ..
            } => create_role_summary(role, trust, path, permissions_boundary),
            Action::PutRolePermissionsBoundary {
                role,
                permissions_boundary,
            } => {
                format!("set the permissions boundary of IAM role {role} to {permissions_boundary}")
            }
            Action::AttachRolePolicy { role, policy_arn } => {
                format!("attach managed policy {policy_arn} to IAM role {role}")
            }
            Action::UpdateTrustPolicy { role, trust, .. } => {
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
            Action::DeleteRolePolicy { role, policy, .. } => {
                format!("delete inline policy {policy} from IAM role {role}")
            }
            Action::DetachRolePolicy {
                role,
                policy_arn,
                record,
            } => match record {
                Some(_) => format!(
                    "detach {policy_arn} from IAM role {role} (kedactl attached it: its record \
                     goes too)"
                ),
                None => format!("detach {policy_arn} from IAM role {role}"),
            },
            Action::DeleteRole { role } => format!("delete IAM role {role}"),
            _ => unreachable!("Action::service sends only IAM actions here"),
        }
    }

    fn queue_summary(&self) -> String {
        match self {
            Action::CreateQueue {
                queue, attributes, ..
            } => create_queue_summary(queue, attributes),
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
            Action::DeleteQueue { queue, loses, .. } => {
                format!("delete SQS queue {queue}{}", lost(loses))
            }
            _ => unreachable!("Action::service sends only SQS actions here"),
        }
    }

    fn repository_summary(&self) -> String {
        match self {
            Action::CreateRepository { repository, .. } => {
                format!("create ECR repository {repository}")
            }
            Action::TagRepository { repository, .. } => {
                format!("tag ECR repository {repository} as owned by this stack")
            }
            Action::UntagRepository { repository, .. } => {
                format!("untag ECR repository {repository}: this cluster no longer uses it")
            }
            Action::DeleteRepository { repository, force } => {
                if *force {
                    format!("delete ECR repository {repository} and its images (--force)")
                } else {
                    format!("delete ECR repository {repository}")
                }
            }
            _ => unreachable!("Action::service sends only ECR actions here"),
        }
    }

    fn eks_summary(&self) -> String {
        match self {
            Action::CreateAddon { addon, .. } => format!("create EKS add-on {addon}"),
            Action::WaitAddonActive { addon } => format!("wait until add-on {addon} is ACTIVE"),
            Action::DeleteAddon { addon } => {
                format!("delete EKS add-on {addon} (kedactl created it)")
            }
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
            Action::TagAssociation {
                namespace,
                service_account,
                ..
            } => format!("tag the pod identity association of {namespace}/{service_account}"),
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
            Action::DeleteAssociation {
                namespace,
                service_account,
                ..
            } => {
                format!("delete the pod identity association of {namespace}/{service_account}")
            }
            _ => unreachable!("Action::service sends only EKS actions here"),
        }
    }

    fn resource_summary(&self) -> String {
        match self {
            Action::CreateResource {
                resource,
                name,
                settings,
                ..
            } => format!(
                "create {} {name}{}",
                resource.noun(),
                crate::triggers::resource::purpose(*resource, settings)
            ),
            Action::TagResource { resource, name, .. } => {
                format!("tag {} {name} as owned by this stack", resource.noun())
            }
            Action::UntagResource { resource, name, .. } => format!(
                "untag {} {name}: this cluster no longer uses it",
                resource.noun()
            ),
            Action::DeleteResource {
                resource,
                name,
                id,
                loses,
                ..
            } => format!("delete {} {name} ({id}){}", resource.noun(), lost(loses)),
            _ => unreachable!("Action::service sends only trigger resource actions here"),
        }
    }

    fn cluster_summary(&self, change: Change) -> String {
        match self {
            Action::InstallKeda {
                namespace,
                version,
                from,
                values_from,
                ..
            } => install_summary(change, namespace, version, from, values_from.is_some()),
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
            Action::AnnotateServiceAccount {
                namespace,
                name,
                role_arn,
            } => annotate_summary(namespace, name, role_arn),
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
            Action::VerifyIrsa {
                namespace,
                deployment,
            } => {
                format!(
                    "check that {namespace}/{deployment} pods got IRSA (web identity) credentials"
                )
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
            _ => unreachable!("Action::service sends only cluster actions here"),
        }
    }
}

/// Where an action's calls go: its summary is written by the function of that service (as the
/// executor's steps are carried out by that service's functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Roles, their policies, and the cluster's OIDC provider.
    Iam,
    Sqs,
    Ecr,
    /// The add-on and the pod identity associations.
    Eks,
    /// A trigger's own resource (an AMP workspace, a Kinesis stream…), in its kind's service.
    TriggerResource,
    /// The Kubernetes API, or helm.
    Cluster,
}

fn create_role_summary(
    role: &str,
    trust: &Value,
    path: &Option<String>,
    permissions_boundary: &Option<String>,
) -> String {
    let mut extra = String::new();
    if let Some(p) = path {
        extra.push_str(&format!(", path {p}"));
    }
    if let Some(b) = permissions_boundary {
        extra.push_str(&format!(", permissions boundary {}", role_name(b)));
    }
    format!(
        "create IAM role {role} (trusted by {}{extra})",
        principals(trust)
    )
}

fn create_queue_summary(queue: &str, attributes: &BTreeMap<String, String>) -> String {
    let attrs: Vec<String> = attributes
        .iter()
        .map(|(k, v)| {
            if k == "RedrivePolicy" {
                format!("dead letters {}", queue_attribute(k, v))
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    // A dead-letter queue often has no attribute of its own: no empty "()".
    if attrs.is_empty() {
        format!("create SQS queue {queue}")
    } else {
        format!("create SQS queue {queue} ({})", attrs.join(", "))
    }
}

/// An install, an upgrade (or downgrade) from `from`, a change of chart values, or a repair.
fn install_summary(
    change: Change,
    namespace: &str,
    version: &str,
    from: &Option<String>,
    values_change: bool,
) -> String {
    if let Some(from) = from {
        let v = |s: &str| crate::spec::names::version(s).ok();
        let verb = match (v(from), v(version)) {
            (Some(a), Some(b)) if a > b => "downgrade",
            _ => "upgrade",
        };
        return format!(
            "{verb} KEDA {from} → {version} in namespace {namespace} (helm upgrade, chart kedacore/keda)"
        );
    }
    if values_change && change == Change::Update {
        return format!(
            "change the chart values of KEDA {version} in namespace {namespace} (helm upgrade, chart kedacore/keda)"
        );
    }
    let verb = if change == Change::Create {
        "install"
    } else {
        "repair (helm upgrade --install)"
    };
    format!("{verb} KEDA {version} in namespace {namespace} (helm chart kedacore/keda)")
}

fn annotate_summary(namespace: &str, name: &str, role_arn: &Option<String>) -> String {
    match role_arn {
        Some(arn) => format!(
            "annotate ServiceAccount {namespace}/{name} (yours) with {IRSA}={arn}",
            IRSA = crate::render::IRSA_ANNOTATION
        ),
        None => format!(
            "remove kedactl's {} annotation from ServiceAccount {namespace}/{name} (yours)",
            crate::render::IRSA_ANNOTATION
        ),
    }
}

/// ` — 2,060 messages would be lost` when a delete takes data with it.
fn lost(data: &Option<Data>) -> String {
    match data {
        Some(d) if d.is_empty() => String::new(),
        Some(d @ Data { count: None, .. }) => format!(
            " — its {} would be lost (not counted: {})",
            d.unit,
            d.unknown.as_deref().unwrap_or("not read")
        ),
        Some(d) => format!(" — {} would be lost", d.describe()),
        None => String::new(),
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

/// One value a step changes, as it is now and as it will be: what a reviewer judges a change
/// by (`VisibilityTimeout: 120 → 30`). `old` is None when the value is absent today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl FieldChange {
    fn new(field: impl Into<String>, old: Option<String>, new: Option<String>) -> Self {
        FieldChange {
            field: field.into(),
            old,
            new,
        }
    }

    /// `VisibilityTimeout: 120 → 30`, `(none)` for an absent side.
    pub fn line(&self) -> String {
        if self.old.is_none() && self.new.is_none() {
            return self.field.clone();
        }
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        format!("{}: {} → {}", self.field, side(&self.old), side(&self.new))
    }
}

/// Longest value shown in a change; longer ones end in "…" (the JSON plan has the documents).
const MAX_VALUE_CHARS: usize = 160;

fn clip(s: String) -> String {
    if s.chars().count() <= MAX_VALUE_CHARS {
        return s;
    }
    let mut out: String = s.chars().take(MAX_VALUE_CHARS - 1).collect();
    out.push('…');
    out
}

/// The tags a tag step sets that differ from what the resource carries now.
fn tag_changes(have: Option<&Tags>, want: &Tags) -> Vec<FieldChange> {
    want.iter()
        .filter(|(k, v)| have.and_then(|h| h.get(*k)) != Some(*v))
        .map(|(k, v)| {
            FieldChange::new(
                format!("tag {k}"),
                have.and_then(|h| h.get(k)).cloned(),
                Some(v.clone()),
            )
        })
        .collect()
}

/// Chart values old → new, one line per value that differs (`values.resources.operator.limits.cpu`).
fn value_changes(
    old: &serde_json::Map<String, Value>,
    new: &serde_json::Map<String, Value>,
) -> Vec<FieldChange> {
    fn leaves(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    leaves(&format!("{prefix}.{k}"), v, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    leaves("values", &Value::Object(old.clone()), &mut a);
    leaves("values", &Value::Object(new.clone()), &mut b);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| FieldChange::new(k.clone(), a.get(k).cloned(), b.get(k).cloned()))
        .collect()
}

/// A queue attribute for people: a RedrivePolicy as "<dead-letter queue> after N receives".
fn queue_attribute(key: &str, value: &str) -> String {
    if key == "RedrivePolicy"
        && let Ok(v) = serde_json::from_str::<Value>(value)
    {
        let target = v["deadLetterTargetArn"].as_str().unwrap_or_default();
        let queue = target.rsplit(':').next().unwrap_or(target);
        let count = match &v["maxReceiveCount"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return format!("to {queue} after {count} receives");
    }
    value.to_string()
}

/// "Allow sts:AssumeRole, sts:TagSession by role keda-operator on … when …" for one statement.
fn statement_line(s: &Value) -> String {
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect(),
            _ => vec![],
        }
    };
    let mut out = format!(
        "{} {}",
        s["Effect"].as_str().unwrap_or("?"),
        list(&s["Action"]).join(", ")
    );
    let mut by = Vec::new();
    for (kind, v) in s["Principal"].as_object().into_iter().flatten() {
        for p in list(v) {
            by.push(match kind.as_str() {
                "AWS" => format!("role {}", role_name(&p)),
                _ => p,
            });
        }
    }
    if !by.is_empty() {
        out.push_str(&format!(" by {}", by.join(", ")));
    }
    let on = list(&s["Resource"]);
    if !on.is_empty() {
        out.push_str(&format!(" on {}", on.join(", ")));
    }
    if let Some(cond) = s["Condition"].as_object().filter(|c| !c.is_empty()) {
        let mut parts = Vec::new();
        for (op, keys) in cond {
            for (k, v) in keys.as_object().into_iter().flatten() {
                parts.push(format!("{k} {op} {}", list(v).join("|")));
            }
        }
        out.push_str(&format!(" when {}", parts.join(", ")));
    }
    out
}

/// A policy document's statements by Sid (`#N` for one without), each as one line.
fn statements(doc: Option<&Value>) -> BTreeMap<String, String> {
    let Some(doc) = doc else {
        return BTreeMap::new();
    };
    let canon = canonical(doc);
    let list: Vec<Value> = match &canon["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    };
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let sid = s["Sid"]
                .as_str()
                .map_or_else(|| format!("#{}", i + 1), str::to_string);
            (sid, statement_line(s))
        })
        .collect()
}

fn statement_changes(old: Option<&Value>, new: &Value) -> Vec<FieldChange> {
    let (old, new) = (statements(old), statements(Some(new)));
    let mut sids: Vec<&String> = old.keys().chain(new.keys()).collect();
    sids.sort();
    sids.dedup();
    sids.into_iter()
        .filter(|sid| old.get(*sid) != new.get(*sid))
        .map(|sid| {
            FieldChange::new(
                format!("statement {sid}"),
                old.get(sid).cloned().map(clip),
                new.get(sid).cloned().map(clip),
            )
        })
        .collect()
}

/// A scalar for people: strings bare, everything else as compact JSON.
fn scalar(v: &Value) -> String {
    clip(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The fields of `want` that `have` lacks or holds differently, by path
/// (`spec.triggers[0].metadata.queueLength`); fields the server adds are not compared.
fn object_changes(path: &str, have: Option<&Value>, want: &Value, out: &mut Vec<FieldChange>) {
    match (have, want) {
        (Some(Value::Object(h)), Value::Object(w)) => {
            for (k, wv) in w {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                object_changes(&p, h.get(k), wv, out);
            }
        }
        (Some(Value::Array(h)), Value::Array(w)) if h.len() == w.len() => {
            for (i, (hv, wv)) in h.iter().zip(w).enumerate() {
                object_changes(&format!("{path}[{i}]"), Some(hv), wv, out);
            }
        }
        (Some(h), w) if h == w => {}
        // Contained is enough for objects: the server adds defaults inside them.
        (Some(h), w) if super::contains(h, w) => {}
        (h, w) => out.push(FieldChange::new(path, h.map(scalar), Some(scalar(w)))),
    }
}

/// Longest list of changed fields shown for one object; the rest are counted.
const MAX_OBJECT_CHANGES: usize = 12;

impl Action {
    /// What this step changes, old → new, read from what was observed. Creates, deletes and
    /// runs have none (the summary says it all); nor do actions with nothing to compare.
    pub fn changes(&self, change: Change, observed: &super::Observed) -> Vec<FieldChange> {
        if change != Change::Update {
            return vec![];
        }
        match self {
            Action::AnnotateServiceAccount {
                namespace,
                name,
                role_arn,
            } => annotation_changes(observed, namespace, name, role_arn),
            Action::SetQueueAttributes {
                queue, attributes, ..
            } => attribute_changes(
                observed.queues.get(queue).map(|q| &q.attributes),
                attributes,
            ),
            Action::TagQueue { queue, tags, .. } => {
                tag_changes(observed.queues.get(queue).map(|q| &q.tags), tags)
            }
            Action::InstallKeda {
                values,
                values_from: Some(old),
                ..
            } => value_changes(old, values),
            Action::TagRole { role, tags } => {
                tag_changes(observed.roles.get(role).map(|r| &r.tags), tags)
            }
            Action::TagAssociation {
                association_id,
                tags,
                ..
            } => tag_changes(
                observed
                    .associations
                    .iter()
                    .find(|a| &a.id == association_id)
                    .map(|a| &a.tags),
                tags,
            ),
            Action::TagRepository {
                repository, tags, ..
            } => tag_changes(observed.repositories.get(repository).map(|r| &r.tags), tags),
            Action::UpdateTrustPolicy { role, trust, .. } => {
                statement_changes(observed.roles.get(role).map(|r| &r.trust), trust)
            }
            Action::PutRolePermissionsBoundary {
                role,
                permissions_boundary,
            } => vec![FieldChange::new(
                "permissions boundary",
                observed.roles.get(role).and_then(|r| r.boundary.clone()),
                Some(permissions_boundary.clone()),
            )],
            Action::PutRolePolicy {
                role,
                policy,
                document,
            } => statement_changes(
                observed.roles.get(role).and_then(|r| r.inline.get(policy)),
                document,
            ),
            Action::InstallKeda {
                version,
                from: Some(from),
                ..
            } => vec![FieldChange::new(
                "version",
                Some(from.clone()),
                Some(version.clone()),
            )],
            Action::UpdateAssociation {
                namespace,
                service_account,
                role_arn,
                ..
            } => association_changes(observed, namespace, service_account, role_arn),
            Action::Apply {
                kind,
                namespace,
                name,
                manifest,
            } => manifest_changes(observed.object(kind, namespace.as_deref(), name), manifest),
            _ => vec![],
        }
    }
}

/// The IRSA annotation on a team's service account, as it is and as it will be.
fn annotation_changes(
    observed: &super::Observed,
    namespace: &str,
    name: &str,
    role_arn: &Option<String>,
) -> Vec<FieldChange> {
    let have = observed
        .object("ServiceAccount", Some(namespace), name)
        .and_then(|o| o["metadata"]["annotations"][crate::render::IRSA_ANNOTATION].as_str())
        .map(str::to_string);
    vec![FieldChange::new(
        crate::render::IRSA_ANNOTATION,
        have,
        role_arn.clone(),
    )]
}

/// Every queue attribute the step sets, old → new, each as people read it.
fn attribute_changes(
    have: Option<&BTreeMap<String, String>>,
    want: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    want.iter()
        .map(|(k, v)| {
            FieldChange::new(
                k.clone(),
                have.and_then(|h| h.get(k)).map(|o| queue_attribute(k, o)),
                Some(queue_attribute(k, v)),
            )
        })
        .collect()
}

/// The role an association points at and its session tags, where they change; nothing when
/// the service account's association was not observed.
fn association_changes(
    observed: &super::Observed,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
) -> Vec<FieldChange> {
    let Some(have) = observed
        .associations
        .iter()
        .find(|a| a.namespace == namespace && a.service_account == service_account)
    else {
        return vec![];
    };
    let mut out = Vec::new();
    if have.role_arn != role_arn {
        out.push(FieldChange::new(
            "role",
            Some(role_name(&have.role_arn).to_string()),
            Some(role_name(role_arn).to_string()),
        ));
    }
    if have.session_tags_disabled {
        out.push(FieldChange::new(
            "session tags",
            Some("disabled".into()),
            Some("enabled".into()),
        ));
    }
    out
}

/// The fields of an applied object that differ from the live one, at most
/// `MAX_OBJECT_CHANGES` lines (the last one counts the rest).
fn manifest_changes(have: Option<&Value>, manifest: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if let Some(have) = have {
        // Only what kedactl sets: identity fields are the same by construction.
        for key in ["metadata", "spec", "data"] {
            if let Some(w) = manifest.get(key) {
                object_changes(key, have.get(key), w, &mut out);
            }
        }
    }
    if out.len() > MAX_OBJECT_CHANGES {
        let more = out.len() - (MAX_OBJECT_CHANGES - 1);
        out.truncate(MAX_OBJECT_CHANGES - 1);
        out.push(FieldChange::new(
            format!("… {more} more fields"),
            None,
            None,
        ));
    }
    out
}
