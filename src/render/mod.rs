//! Spec → Desired: every name, ARN, tag, policy document and Kubernetes object the stack
//! should have, computed from the configuration alone (no I/O). `render` prints it, `plan`
//! diffs it against what exists.

pub mod cloudformation;
mod keda_options;
pub mod kustomize;
pub mod placeholders;
pub mod policy;
pub mod quotas;
pub mod site;

use crate::model;
pub use crate::model::{IDENTITY_POLICY, KMS_KEY, object_ref};
use crate::observed::Observed;
pub use crate::spec::queue_key;
/// Where the stack lives (`spec::target`), kept at its old path for the layers above.
pub use crate::spec::target::{self as aws, Target};
use crate::spec::{App, AuthMode, ScalingKind, Spec, workload};
pub(crate) use crate::templates;
pub use crate::templates::{Document, RenderError};
use crate::triggers::{self, Resource};
pub(crate) use crate::unique::Unique;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Name of the add-on that runs the Pod Identity Agent on every node.
pub const POD_IDENTITY_ADDON: &str = "eks-pod-identity-agent";
/// Inline policy names kedactl puts on the roles it owns.
pub const OPERATOR_POLICY: &str = "kedactl-assume-identity";
/// The service-account annotation IRSA reads the role from.
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Sid of the keda-operator → identity role chain statement: one statement shared by every
/// cluster of the stack (they chain from the same operator role).
pub const CHAIN_SID: &str = "KedactlOperatorChain";
/// Sids every trust statement kedactl renders for a cluster starts with (see `trust_sid`).
pub const SID_PREFIX: &str = "Kedactl";
/// The readable part of a Sid is cut here; the hash keeps cut Sids apart.
const SID_READABLE_MAX: usize = 48;

/// The Sid of the trust statement admitting `namespace/service_account` of one cluster:
/// `Kedactl` + the cluster, namespace and service account with non-alphanumerics dropped and
/// word starts capitalised (IAM Sids are `[A-Za-z0-9]`), + 8 hex digits of a hash of the exact
/// cluster ARN (region included: IAM is global, clusters are not), namespace and name, so two
/// clusters or service accounts never share a Sid even when their readable parts do
/// (`a-b` and `ab`). Stable across versions: `up` and `down` find their statements by it.
pub fn trust_sid(
    cluster: &str,
    cluster_arn: &str,
    namespace: &str,
    service_account: &str,
) -> String {
    let mut readable = String::from(SID_PREFIX);
    for part in [cluster, namespace, service_account] {
        for word in part.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                readable.push(first.to_ascii_uppercase());
                readable.extend(chars);
            }
        }
    }
    readable.truncate(SID_READABLE_MAX);
    // FNV-1a: deterministic across builds and platforms (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in [cluster_arn, namespace, service_account].join("\0").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{readable}{:08x}", (h ^ (h >> 32)) as u32)
}

/// The record tag of `policy_arn`: key (FNV-1a of the ARN: stable across builds) and value (the
/// ARN, when IAM's tag characters and length allow it; the key alone decides).
pub fn attached_tag(policy_arn: &str) -> (String, String) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in policy_arn.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let value = match crate::spec::guardrails::tag_value(policy_arn) {
        Ok(()) => policy_arn.to_string(),
        Err(_) => String::new(),
    };
    (format!("{}{h:016x}", model::ATTACHED_PREFIX), value)
}

/// Render before any AWS call, so what the config renders is refused (a quota, a missing
/// field) before anything is read or changed; an account not yet known is a 12-digit stand-in.
pub fn precheck(spec: &Spec) -> Result<(), RenderError> {
    let mut probe = spec.clone();
    probe.account.get_or_insert_with(|| "000000000000".into());
    // Online, IRSA's issuer is read from the cluster next; a stand-in of EKS's length until then.
    if probe.auth_mode == AuthMode::Irsa {
        probe.oidc_issuer.get_or_insert_with(|| {
            format!(
                "https://oidc.eks.{}.amazonaws.com/id/{}",
                probe.region.as_deref().unwrap_or("us-east-1"),
                "0".repeat(32)
            )
        });
    }
    desired(&probe).map(|_| ())
}

/// A document's size as IAM will count it: with an account not yet known, each `<account>`
/// stands for the 12 digits it will be.
fn counted_size(doc: &Value) -> usize {
    let placeholders = doc.to_string().matches(aws::UNKNOWN_ACCOUNT).count();
    crate::limits::iam_policy_size(doc) + placeholders * (12 - aws::UNKNOWN_ACCOUNT.len())
}

/// A role's inline policies together, as IAM counts them against its aggregate limit.
fn inline_size(policies: &[Document]) -> usize {
    policies.iter().map(|p| counted_size(&p.body)).sum()
}

/// The config field that names a role.
fn role_field(spec: &Spec, r: &Role) -> String {
    match r.purpose {
        RolePurpose::Operator => "roles.operator".to_string(),
        RolePurpose::Identity if r.name == spec.roles.identity => "roles.identity".to_string(),
        RolePurpose::Identity => format!("apps[].identityRole ({})", r.name),
    }
}

/// Each role's trust policy must fit the account's quota, and its inline policies together
/// IAM's 10,240 characters: IAM refuses a larger one only at apply time (LimitExceeded), after
/// other changes were made.
fn iam_sizes(
    spec: &Spec,
    roles: &[Role],
    fits: &BTreeMap<String, usize>,
) -> Result<(), RenderError> {
    let quota = spec.roles.trust_policy_quota as usize;
    let mut problems = Vec::new();
    for r in roles {
        let size = counted_size(&r.trust.body);
        let statements = r.trust.body["Statement"].as_array().map_or(1, Vec::len);
        if size > quota {
            problems.push(crate::spec::Problem::new(
                role_field(spec, r),
                format!(
                    "the trust policy of IAM role {} would be {size} characters ({statements} \
                     statements, one per service account it admits), over the account's quota \
                     of {quota}: IAM would refuse it with LimitExceeded",
                    r.name
                ),
                "give some apps their own role (apps[].identityRole), or set scopedTrust: \
                 false (one statement for every service account), or have AWS raise the quota \
                 (Service Quotas: \"Role trust policy length\", up to 4096) and set \
                 roles.trustPolicyQuota",
            ));
        }
        if let Some(p) = inline_size_problem(spec, r, fits.get(&r.name).copied()) {
            problems.push(p);
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(RenderError::Invalid(crate::spec::Problems {
            origin: "the rendered IAM policies".into(),
            problems,
        })),
    }
}

/// The role's inline policies over IAM's aggregate limit, with the split that fits (`fit`:
/// how many of its apps one role holds): the grants are per app (queue, key, stream...), so
/// fewer apps per role is the least-privilege way to smaller documents.
fn inline_size_problem(spec: &Spec, r: &Role, fit: Option<usize>) -> Option<crate::spec::Problem> {
    let limit = crate::limits::ROLE_INLINE_POLICIES_QUOTA;
    let size = inline_size(&r.policies);
    if size <= limit {
        return None;
    }
    let names: Vec<&str> = r.policies.iter().map(|p| p.name.as_str()).collect();
    let message = format!(
        "the inline policies of IAM role {} ({}) would be {size} characters together, over \
         IAM's limit of {limit} per role: PutRolePolicy would fail with LimitExceeded",
        r.name,
        names.join(", ")
    );
    let fix = match r.purpose {
        RolePurpose::Operator => {
            let identities = spec
                .apps
                .iter()
                .map(|a| a.identity_role(&spec.roles))
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            format!(
                "its policy lets it assume each of the {identities} identity roles: give the \
                 apps fewer identity roles (apps[].identityRole), or set \
                 roles.operatorAssumePolicy: false and grant sts:AssumeRole yourself"
            )
        }
        RolePurpose::Identity => {
            let apps: Vec<&App> = spec
                .apps
                .iter()
                .filter(|a| a.identity_role(&spec.roles) == r.name)
                .collect();
            // Measured: the policies of the role's first `fit` apps fit, one more would not.
            let fit = fit.unwrap_or(1);
            let roles = apps.len().div_ceil(fit);
            let example = apps.get(fit).map_or(String::new(), |a| {
                format!(
                    " (e.g. identityRole: {}-2 on {} and the apps after it)",
                    r.name, a.deployment
                )
            });
            format!(
                "split its {} apps over at least {roles} identity roles of at most {fit} apps \
                 each with apps[].identityRole{example}: each role then holds only its apps' \
                 grants",
                apps.len()
            )
        }
    };
    Some(crate::spec::Problem::new(role_field(spec, r), message, fix))
}

/// The whole stack as it should be.
#[derive(Debug, Clone, Serialize)]
pub struct Desired {
    pub stack: String,
    /// The account's quota on a trust policy, in characters (`roles.trustPolicyQuota`).
    pub trust_policy_quota: usize,
    pub cluster: String,
    pub cluster_arn: String,
    pub target: Target,
    pub auth_mode: AuthMode,
    /// Ownership tags (AWS) and labels (Kubernetes).
    pub tags: BTreeMap<String, String>,
    /// The config's `tags:`, put on every AWS resource beside the ownership tags (`aws_tags`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_tags: BTreeMap<String, String>,
    /// The Pod Identity Agent add-on (pod-identity mode only).
    pub addon: Option<String>,
    pub roles: Vec<Role>,
    /// Dead-letter queues come before the queues that point at them.
    pub queues: Vec<Queue>,
    pub repositories: Vec<Repository>,
    /// What the apps' triggers create (an AMP workspace...), or only read (`managed: false`).
    pub resources: Vec<Resource>,
    /// Each app's trigger: what it reads and what KEDA's session must be allowed (doctor).
    pub triggers: Vec<TriggerUse>,
    /// The IAM OIDC identity provider of the cluster's issuer (IRSA mode only).
    pub oidc_provider: Option<OidcProvider>,
    /// Pod identity associations (pod-identity mode only).
    pub associations: Vec<Association>,
    /// Associations an earlier kedactl made for apps whose trigger KEDA alone reads
    /// (`Trigger::consumes` is false): read, and deleted when this stack made them.
    pub retired_associations: Vec<Association>,
    pub keda: KedaInstall,
    /// In apply order: Namespace, ServiceAccount, Deployment, TriggerAuthentication, scaler.
    pub manifests: Vec<Value>,
    /// The apps' workloads that are the team's (`existing: true`): read and checked, never
    /// applied or deleted.
    pub workloads: Vec<Workload>,
}

/// A Deployment or StatefulSet the team deploys, which an app's ScaledObject scales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The service account its pods should run as (`apps[].serviceAccount`).
    pub service_account: String,
}

impl Workload {
    /// `Deployment security/q-read`.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

impl Desired {
    /// Tags of every AWS resource kedactl creates: the config's `tags:` and ownership (the
    /// config cannot name kedactl's keys, so neither hides the other).
    pub fn aws_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.user_tags.clone();
        tags.extend(self.tags.clone());
        tags
    }

    /// Tags of a queue or repository: `aws_tags` plus this cluster's user tag
    /// (`model::CLUSTER_PREFIX`), since clusters of one stack share them.
    pub fn shared_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.aws_tags();
        tags.insert(model::cluster_tag(&self.cluster), self.cluster_arn.clone());
        tags
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolePurpose {
    /// Used by the keda-operator service account.
    Operator,
    /// Assumed by KEDA (TriggerAuthentication roleArn) and used by app service accounts.
    Identity,
}

#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub purpose: RolePurpose,
    pub trust: Document,
    /// Inline policies kedactl owns on this role.
    pub policies: Vec<Document>,
    /// IAM path (`roles.path`, `/` by default): part of the ARN, fixed at creation.
    pub path: String,
    /// `roles.permissionsBoundary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
    /// `apps[].managedPolicies` of the apps that use this role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policies: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Queue {
    pub name: String,
    pub url: String,
    pub arn: String,
    /// SQS attributes kedactl sets (names as the SQS API spells them).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Repository {
    pub name: String,
    pub uri: String,
}

/// One app of the stack as doctor checks it: its trigger and the names of its objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerUse {
    /// `namespace/deployment`.
    pub app: String,
    /// The app's name as doctor reports it: the deployment, or `namespace/deployment` when
    /// another app has a Deployment of the same name.
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    /// The SQS queue it scales on (`trigger: sqs` only).
    pub queue: Option<String>,
    /// (kind, name) of its ScaledObject or ScaledJob, and its TriggerAuthentication's name.
    pub scaler: (String, String),
    pub trigger_auth: String,
    pub kind: triggers::Kind,
    /// The identity role KEDA's session runs as (the TriggerAuthentication's roleArn).
    pub role: String,
    /// (IAM action, resource ARN) the scaler calls.
    pub needs: Vec<(String, String)>,
    /// Ids of the resources it reads (`Desired::resources`).
    pub resources: Vec<String>,
}

impl TriggerUse {
    /// The app's Deployment name (`app` without its namespace).
    pub fn deployment(&self) -> &str {
        self.app.split_once('/').map_or(&self.app, |(_, d)| d)
    }

    /// Its rendered object of `kind` named `name` in its namespace.
    pub fn manifest<'d>(&self, d: &'d Desired, kind: &str, name: &str) -> Option<&'d Value> {
        d.manifests.iter().find(|m| {
            m["kind"] == kind
                && m["metadata"]["namespace"] == self.namespace.as_str()
                && m["metadata"]["name"] == name
        })
    }
}

/// The audience EKS projects into IRSA tokens, and the client id the provider must list.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// An IAM OIDC identity provider for the cluster's issuer: what IRSA trusts name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OidcProvider {
    /// The issuer, `https://oidc.eks.<region>.amazonaws.com/id/<ID>`.
    pub url: String,
    /// The issuer without `https://`: the provider's name and the condition keys' prefix.
    pub host: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Association {
    pub namespace: String,
    pub service_account: String,
    pub role: String,
    pub role_arn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KedaInstall {
    pub namespace: String,
    pub service_account: String,
    pub version: String,
    /// The user's chart values (`keda.values` over `keda.valuesFile`'s); kedactl's own win.
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// An identity role, the service accounts of the apps that use it, and those apps.
type IdentityUse<'a> = (&'a str, Vec<ServiceAccountRef<'a>>, Vec<&'a App>);

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ServiceAccountRef<'a> {
    namespace: &'a str,
    name: &'a str,
}

/// One pods.eks.amazonaws.com / web-identity trust statement to render.
#[derive(Serialize)]
struct TrustStatement<'a> {
    sid: String,
    namespace: &'a str,
    name: &'a str,
}

/// Compute the desired state of a validated spec, from the config alone (offline).
pub fn desired(spec: &Spec) -> Result<Desired, RenderError> {
    desired_with(spec, &Observed::default())
}

/// Compute the desired state, with what only the account can tell: each live queue's KMS key
/// and the key each alias names (the app's role gets `kms:Decrypt` on exactly that key).
pub fn desired_with(spec: &Spec, observed: &Observed) -> Result<Desired, RenderError> {
    let cluster = spec
        .cluster
        .clone()
        .ok_or(RenderError::Missing("cluster"))?;
    let region = spec
        .region
        .as_deref()
        .ok_or(RenderError::Missing("region"))?;
    let target = Target::new(region, spec.account.as_deref());
    let cluster_arn = target.cluster_arn(&cluster);
    let tags = model::ownership(&spec.stack);
    let pod_identity = spec.auth_mode == AuthMode::PodIdentity;

    // Identity roles in the order apps first name them, with the service accounts and apps
    // that use each.
    let mut identity: Vec<IdentityUse> = Vec::new();
    let mut role_index: HashMap<&str, usize> = HashMap::new();
    let mut role_sas: HashSet<(usize, &str, &str)> = HashSet::new();
    for app in &spec.apps {
        let role = app.identity_role(&spec.roles);
        let i = *role_index.entry(role).or_insert_with(|| {
            identity.push((role, vec![], vec![]));
            identity.len() - 1
        });
        if app.trigger.imp().consumes()
            && role_sas.insert((i, &app.namespace, &app.service_account))
        {
            identity[i].1.push(ServiceAccountRef {
                namespace: &app.namespace,
                name: &app.service_account,
            });
        }
        identity[i].2.push(app);
    }

    let role_arn = |name: &str| target.role_arn_at(spec.roles.path(), name);
    let operator_arn = role_arn(&spec.roles.operator);
    let operator_sa = vec![ServiceAccountRef {
        namespace: &spec.keda.namespace,
        name: &spec.keda.service_account,
    }];
    let trust = |sas: &[ServiceAccountRef], assumed_by: &[&str]| -> Result<Document, RenderError> {
        let sid = |ns: &str, sa: &str| trust_sid(&cluster, &cluster_arn, ns, sa);
        // Unscoped Pod Identity trust: one statement, for any service account of any cluster.
        let sas: Vec<TrustStatement> = if sas.is_empty() {
            // Only KEDA uses the role (its apps do not call AWS themselves).
            vec![]
        } else if pod_identity && !spec.scoped_trust {
            vec![TrustStatement {
                sid: sid("", "AnyServiceAccount"),
                namespace: "",
                name: "",
            }]
        } else {
            sas.iter()
                .map(|sa| TrustStatement {
                    sid: sid(sa.namespace, sa.name),
                    namespace: sa.namespace,
                    name: sa.name,
                })
                .collect()
        };
        let (source, ctx) = match &spec.oidc_issuer {
            Some(issuer) if !pod_identity => {
                let host = issuer.trim_start_matches("https://");
                let ctx = json!({
                    "service_accounts": sas,
                    "assumed_by": assumed_by,
                    "chain_sid": CHAIN_SID,
                    "oidc_host": host,
                    "oidc_provider_arn": target.oidc_provider_arn(host),
                });
                ("irsa-trust.json", ctx)
            }
            None if !pod_identity => return Err(RenderError::Missing("oidcIssuer")),
            _ => {
                let ctx = json!({
                    "service_accounts": sas,
                    "assumed_by": assumed_by,
                    "chain_sid": CHAIN_SID,
                    "scoped": spec.scoped_trust,
                    "cluster_arn": cluster_arn,
                });
                ("pod-identity-trust.json", ctx)
            }
        };
        templates::policy(source, "trust", &ctx)
    };

    let identity_arns: Vec<String> = identity.iter().map(|(r, ..)| role_arn(r)).collect();
    let mut operator = Role {
        name: spec.roles.operator.clone(),
        arn: operator_arn.clone(),
        purpose: RolePurpose::Operator,
        trust: trust(&operator_sa, &[])?,
        policies: vec![],
        path: spec.roles.path().to_string(),
        boundary: spec.roles.permissions_boundary.clone(),
        managed_policies: vec![],
    };
    if spec.roles.operator_assume_policy {
        operator.policies.push(templates::policy(
            "operator-assume.json",
            OPERATOR_POLICY,
            &json!({ "identity_role_arns": identity_arns }),
        )?);
    }
    let mut roles = vec![operator];
    // One permission policy per trigger kind the role's apps use.
    let permissions = |apps: &[&App]| -> Result<Vec<Document>, RenderError> {
        let mut policies = Vec::new();
        for kind in triggers::Kind::ALL {
            let of_kind: Vec<&App> = apps.iter().copied().filter(|a| a.trigger == kind).collect();
            if !of_kind.is_empty()
                && let Some(p) = kind.imp().policy(spec, &of_kind, &target, observed)?
            {
                policies.push(p);
            }
        }
        Ok(policies)
    };
    // For a role over IAM's aggregate limit: how many of its apps one role can hold.
    let mut fits = BTreeMap::new();
    for ((name, sas, apps), arn) in identity.iter().zip(&identity_arns) {
        let policies = permissions(apps)?;
        if inline_size(&policies) > crate::limits::ROLE_INLINE_POLICIES_QUOTA {
            let (mut lo, mut hi) = (1, apps.len());
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                match inline_size(&permissions(&apps[..mid])?) {
                    n if n <= crate::limits::ROLE_INLINE_POLICIES_QUOTA => lo = mid,
                    _ => hi = mid - 1,
                }
            }
            fits.insert(name.to_string(), lo);
        }
        let mut managed_policies: Unique<String, String> = Unique::default();
        for p in apps.iter().flat_map(|a| &a.managed_policies) {
            managed_policies.add(p.clone());
        }
        let managed_policies = managed_policies.into_vec();
        roles.push(Role {
            name: name.to_string(),
            arn: arn.clone(),
            purpose: RolePurpose::Identity,
            trust: trust(sas, &[operator_arn.as_str()])?,
            policies,
            path: spec.roles.path().to_string(),
            boundary: spec.roles.permissions_boundary.clone(),
            managed_policies,
        });
    }

    iam_sizes(spec, &roles, &fits)?;

    let mut queues: Vec<Queue> = Vec::new();
    let mut queue_names: HashSet<String> = HashSet::new();
    let mut repositories: Vec<Repository> = Vec::new();
    let mut repository_names: HashSet<&str> = HashSet::new();
    let mut resources: Unique<Resource, String> = Unique::default();
    let mut triggers: Vec<TriggerUse> = Vec::new();
    // Deployment name → the namespaces that have one: a name in two is told with its namespace.
    let mut deployments: HashMap<&str, HashSet<&str>> = HashMap::new();
    for app in &spec.apps {
        deployments
            .entry(&app.deployment)
            .or_default()
            .insert(&app.namespace);
    }
    for app in &spec.apps {
        // An existing workload's image is the team's: no repository for it.
        if !app.existing && repository_names.insert(&app.repository) {
            repositories.push(Repository {
                name: app.repository.clone(),
                uri: repository_uri(app, &target),
            });
        }
        let t = app.trigger.imp();
        let mut used = t.resources(app);
        used.extend(t.cluster_resources(app, &cluster, &target, observed)?);
        let scaler_kind = match app.scaling.kind {
            ScalingKind::ScaledObject => "ScaledObject",
            ScalingKind::ScaledJob => "ScaledJob",
        };
        triggers.push(TriggerUse {
            app: format!("{}/{}", app.namespace, app.deployment),
            name: match deployments[app.deployment.as_str()].len() > 1 {
                true => format!("{}/{}", app.namespace, app.deployment),
                false => app.deployment.clone(),
            },
            namespace: app.namespace.clone(),
            service_account: app.service_account.clone(),
            queue: (app.trigger == triggers::Kind::Sqs).then(|| app.queue.name.clone()),
            scaler: (scaler_kind.to_string(), app.scaler_name()),
            trigger_auth: app.trigger_auth_name(),
            kind: app.trigger,
            role: app.identity_role(&spec.roles).to_string(),
            needs: t
                .needs(app, &target, observed)
                .into_iter()
                .map(|(a, r)| (a.to_string(), r))
                .collect(),
            resources: used.iter().map(Resource::id).collect(),
        });
        for r in used {
            resources.push(r.id(), r);
        }
        if app.trigger != triggers::Kind::Sqs {
            continue;
        }
        let q = &app.queue;
        let mut attributes = BTreeMap::from([(
            "VisibilityTimeout".to_string(),
            q.visibility_timeout.to_string(),
        )]);
        if q.is_fifo() {
            attributes.insert("FifoQueue".into(), "true".into());
        }
        // Only a configured key is managed: without one SQS creates the queue with SSE-SQS.
        if let Some(key) = &q.kms_key {
            attributes.insert(KMS_KEY.into(), key.clone());
        }
        if let (Some(dlq), Some(dl)) = (q.dead_letter_name(), &q.dead_letter) {
            let mut dlq_attributes = BTreeMap::new();
            if q.is_fifo() {
                dlq_attributes.insert("FifoQueue".to_string(), "true".to_string());
            }
            push_queue(
                (&mut queues, &mut queue_names),
                &target,
                &dlq,
                dlq_attributes,
            );
            let redrive = json!({ "deadLetterTargetArn": target.queue_arn(&dlq), "maxReceiveCount": dl.max_receive_count });
            attributes.insert("RedrivePolicy".into(), redrive.to_string());
        }
        push_queue(
            (&mut queues, &mut queue_names),
            &target,
            &q.name,
            attributes,
        );
    }
    let resources = resources.into_vec();

    let mut associations: Unique<Association, (String, String)> = Unique::default();
    let mut retired_associations: Unique<Association, (String, String)> = Unique::default();
    if pod_identity {
        associations.push(
            (
                spec.keda.namespace.clone(),
                spec.keda.service_account.clone(),
            ),
            Association {
                namespace: spec.keda.namespace.clone(),
                service_account: spec.keda.service_account.clone(),
                role: spec.roles.operator.clone(),
                role_arn: operator_arn.clone(),
            },
        );
        for app in &spec.apps {
            let role = app.identity_role(&spec.roles);
            let a = Association {
                namespace: app.namespace.clone(),
                service_account: app.service_account.clone(),
                role: role.to_string(),
                role_arn: role_arn(role),
            };
            let key = (a.namespace.clone(), a.service_account.clone());
            match app.trigger.imp().consumes() {
                true => associations.push(key, a),
                false => retired_associations.push(key, a),
            };
        }
    }
    let associations = associations.into_vec();
    let wanted: HashSet<(&str, &str)> = associations
        .iter()
        .map(|a| (a.namespace.as_str(), a.service_account.as_str()))
        .collect();
    let mut retired_associations = retired_associations.into_vec();
    retired_associations
        .retain(|r| !wanted.contains(&(r.namespace.as_str(), r.service_account.as_str())));

    let oidc_provider = match (&spec.oidc_issuer, pod_identity) {
        (Some(issuer), false) => {
            let host = issuer.trim_start_matches("https://").to_string();
            Some(OidcProvider {
                url: issuer.clone(),
                arn: target.oidc_provider_arn(&host),
                host,
            })
        }
        _ => None,
    };
    let manifests = manifests(spec, &target, &tags, observed)?;
    Ok(Desired {
        stack: spec.stack.clone(),
        trust_policy_quota: spec.roles.trust_policy_quota as usize,
        cluster,
        cluster_arn,
        target,
        auth_mode: spec.auth_mode,
        tags,
        user_tags: spec.tags.clone(),
        addon: pod_identity.then(|| POD_IDENTITY_ADDON.to_string()),
        roles,
        queues,
        repositories,
        resources,
        triggers,
        oidc_provider,
        associations,
        retired_associations,
        keda: KedaInstall {
            namespace: spec.keda.namespace.clone(),
            service_account: spec.keda.service_account.clone(),
            version: spec.keda.version.clone(),
            values: spec.keda.values.clone(),
        },
        manifests,
        workloads: spec
            .apps
            .iter()
            .filter(|a| a.existing)
            .map(|a| Workload {
                kind: a.kind.as_str().to_string(),
                namespace: a.namespace.clone(),
                name: a.deployment.clone(),
                service_account: a.service_account.clone(),
            })
            .collect(),
    })
}

/// The first queue of a name is kept (a dead-letter queue two apps share is one queue).
fn push_queue(
    (queues, names): (&mut Vec<Queue>, &mut HashSet<String>),
    target: &Target,
    name: &str,
    attributes: BTreeMap<String, String>,
) {
    if names.insert(name.to_string()) {
        queues.push(Queue {
            name: name.to_string(),
            url: target.queue_url(name),
            arn: target.queue_arn(name),
            attributes,
        });
    }
}

fn manifests(
    spec: &Spec,
    target: &Target,
    labels: &BTreeMap<String, String>,
    observed: &Observed,
) -> Result<Vec<Value>, RenderError> {
    // Objects apps share (a namespace, a service account) are rendered once.
    let mut out: Unique<Value, (String, String, String)> = Unique::default();
    let mut add = |object: Value| {
        let id = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let key = (
            id(&object["kind"]),
            id(&object["metadata"]["namespace"]),
            id(&object["metadata"]["name"]),
        );
        out.push(key, object);
    };
    // Service accounts an app calls AWS from (IRSA annotates them).
    let consumers: HashSet<(&str, &str)> = spec
        .apps
        .iter()
        .filter(|a| a.trigger.imp().consumes())
        .map(|a| (a.namespace.as_str(), a.service_account.as_str()))
        .collect();
    for app in &spec.apps {
        let role_arn = target.role_arn_at(spec.roles.path(), app.identity_role(&spec.roles));
        let trigger = app.trigger.imp();
        let env: Vec<Value> = trigger
            .env(app, target)
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        let ctx = json!({
            "app": app,
            "scaling": &app.scaling,
            "polling_acts": app.scaling.polling_acts(),
            "cooldown_acts": app.scaling.cooldown_acts(),
            "labels": labels,
            "region": target.region,
            "image": app_image(app, target),
            "env": env,
            "metrics": trigger.metrics_endpoint(app),
            "role_arn": role_arn,
            "scaler_name": app.scaler_name(),
            "trigger_type": trigger.keda_type(),
            "trigger_name": app.trigger_name(),
            "metric_type": trigger.metric_type(app).map(triggers::MetricType::as_str),
            "trigger_auth_name": app.trigger_auth_name(),
            "keda_annotations": keda_options::annotations(&app.scaling),
            "keda_spec": keda_options::spec_fields(&app.scaling),
            "job_spec": keda_options::job_fields(&app.scaling),
            // KEDA trigger metadata is a map of strings.
            "trigger_metadata": trigger.metadata(app, target, observed),
            "workload_kind": app.kind.as_str(),
            "security_context": workload::security_context(app),
            "resources": workload::resources(app),
        });
        add(templates::manifest(
            "namespace.yaml",
            &json!({ "namespace": app.namespace, "labels": namespace_labels(spec, labels) }),
        )?);
        // The annotation when an app on this service account calls AWS itself.
        let consumer = consumers.contains(&(app.namespace.as_str(), app.service_account.as_str()));
        let sa_role = (spec.auth_mode == AuthMode::Irsa && consumer).then_some(&role_arn);
        add(templates::manifest(
            "serviceaccount.yaml",
            &json!({ "name": app.service_account, "namespace": app.namespace, "labels": labels, "role_arn": sa_role }),
        )?);
        match app.scaling.kind {
            ScalingKind::ScaledObject => {
                if !app.existing {
                    add(templates::manifest("deployment.yaml", &ctx)?);
                }
                add(templates::manifest("triggerauthentication.yaml", &ctx)?);
                add(templates::manifest("scaledobject.yaml", &ctx)?);
            }
            ScalingKind::ScaledJob => {
                add(templates::manifest("triggerauthentication.yaml", &ctx)?);
                add(templates::manifest("scaledjob.yaml", &ctx)?);
            }
        }
    }
    Ok(out.into_vec())
}

/// A namespace's labels: ownership, and the Pod Security Standard it enforces (`podSecurity`).
fn namespace_labels(spec: &Spec, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = labels.clone();
    if let Some(level) = spec.pod_security.level() {
        out.insert(
            crate::pod_security::ENFORCE_LABEL.to_string(),
            level.as_str().to_string(),
        );
    }
    out
}

/// The app's container image: the config's, else `:latest` in the app's repository.
pub fn app_image(app: &App, target: &Target) -> String {
    app.image
        .clone()
        .unwrap_or_else(|| format!("{}:latest", repository_uri(app, target)))
}

pub fn repository_uri(app: &App, target: &Target) -> String {
    format!("{}/{}", target.registry_host(), app.repository)
}

/// The tag the app pulls from its own repository (`latest` when the image names none), or
/// None when its image lives elsewhere (or is pinned by digest).
pub fn image_tag_in_repository(app: &App, target: &Target) -> Option<String> {
    image_tag(&app_image(app, target), &repository_uri(app, target))
}

/// The tag `image` pulls from the repository at `uri` (see `image_tag_in_repository`).
pub fn image_tag(image: &str, uri: &str) -> Option<String> {
    let rest = image.strip_prefix(uri)?;
    match rest.strip_prefix(':') {
        Some(tag) => Some(tag.to_string()),
        None if rest.is_empty() => Some("latest".into()),
        None => None,
    }
}

/// What to run before an app whose repository is empty can start: its pods wait in
/// ImagePullBackOff until the image is there.
pub fn push_image_note(app: &App, target: &Target) -> Option<String> {
    let tag = image_tag_in_repository(app, target)?;
    let uri = repository_uri(app, target);
    Some(format!(
        "ECR repository {} is empty: push an image to {uri}:{tag} before the app can start (until then its pods wait in ImagePullBackOff):\n  aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {host}\n  docker tag <your image> {uri}:{tag}\n  docker push {uri}:{tag}",
        app.repository,
        region = target.region,
        host = target.registry_host(),
    ))
}

/// A commented kedactl.yaml holding this spec (`kedactl init`).
pub fn config_file(spec: &Spec) -> Result<String, RenderError> {
    templates::text("kedactl.yaml", &json!({ "spec": spec }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        }
    }

    /// The seed's SQS app plus a prometheus app `ns/sa` on the same identity role.
    fn with_prometheus(ns: &str, sa: &str) -> Spec {
        let mut s = spec();
        let mut app = s.apps[0].clone();
        app.deployment = "frontend".into();
        app.namespace = ns.into();
        app.service_account = sa.into();
        app.trigger = triggers::Kind::Prometheus;
        app.prometheus = Some(triggers::prometheus::Config::sample(
            triggers::prometheus::Workspace {
                alias: Some("AMP-KEDA".into()),
                id: None,
            },
        ));
        s.apps.push(app);
        s
    }

    fn trust_sas(d: &Desired) -> Vec<String> {
        d.roles[1].trust.body["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|st| {
                let c = &st["Condition"]["StringEquals"];
                let ns = c["aws:RequestTag/kubernetes-namespace"].as_str()?;
                let sa = c["aws:RequestTag/kubernetes-service-account"].as_str()?;
                Some(format!("{ns}/{sa}"))
            })
            .collect()
    }

    #[test]
    fn only_apps_that_call_aws_get_an_association_and_a_trust_statement() {
        let d = desired(&with_prometheus("ho11y", "frontend")).unwrap();
        let associated: Vec<String> = d
            .associations
            .iter()
            .map(|a| format!("{}/{}", a.namespace, a.service_account))
            .collect();
        assert_eq!(
            associated,
            ["keda/keda-operator", "security/my-sqs-read-msgs"]
        );
        assert_eq!(trust_sas(&d), ["security/my-sqs-read-msgs"]);
        // A role only KEDA uses trusts only the operator role.
        let mut only = with_prometheus("ho11y", "frontend");
        only.apps.remove(0);
        let d = desired(&only).unwrap();
        assert!(trust_sas(&d).is_empty());
        let statements = d.roles[1].trust.body["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{statements:#?}");
        assert_eq!(statements[0]["Sid"], CHAIN_SID);
        assert_eq!(d.associations.len(), 1, "the operator's only");
    }

    #[test]
    fn irsa_annotates_only_service_accounts_an_app_calls_aws_with() {
        let irsa = |mut s: Spec| {
            s.auth_mode = AuthMode::Irsa;
            s.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
            desired(&s).unwrap()
        };
        let annotated = |d: &Desired, ns: &str, sa: &str| {
            let m = d
                .manifests
                .iter()
                .find(|m| {
                    m["kind"] == "ServiceAccount"
                        && m["metadata"]["namespace"] == ns
                        && m["metadata"]["name"] == sa
                })
                .unwrap();
            m["metadata"]["annotations"][IRSA_ANNOTATION].is_string()
        };
        let d = irsa(with_prometheus("ho11y", "frontend"));
        assert!(annotated(&d, "security", "my-sqs-read-msgs"));
        assert!(!annotated(&d, "ho11y", "frontend"));
        // One service account for both apps: one object, annotated for the SQS app.
        let d = irsa(with_prometheus("security", "my-sqs-read-msgs"));
        let sas = d
            .manifests
            .iter()
            .filter(|m| m["kind"] == "ServiceAccount")
            .count();
        assert_eq!(sas, 1);
        assert!(annotated(&d, "security", "my-sqs-read-msgs"));
    }

    fn kinds(d: &Desired) -> Vec<&str> {
        d.manifests
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect()
    }

    fn find<'a>(d: &'a Desired, kind: &str) -> &'a Value {
        d.manifests.iter().find(|m| m["kind"] == kind).unwrap()
    }

    #[test]
    fn the_seed_stack() {
        let d = desired(&spec()).unwrap();
        let names: Vec<&str> = d.roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["keda-operator", "keda-identity"]);
        assert_eq!(
            d.queues[0].url,
            "https://sqs.us-east-1.amazonaws.com/123456789012/event-messages-queue"
        );
        assert_eq!(d.repositories[0].name, "keda-pod-identity-registry");
        assert_eq!(d.addon.as_deref(), Some("eks-pod-identity-agent"));
        let assoc: Vec<(&str, &str, &str)> = d
            .associations
            .iter()
            .map(|a| {
                (
                    a.namespace.as_str(),
                    a.service_account.as_str(),
                    a.role.as_str(),
                )
            })
            .collect();
        assert_eq!(
            assoc,
            [
                ("keda", "keda-operator", "keda-operator"),
                ("security", "my-sqs-read-msgs", "keda-identity")
            ]
        );
        assert_eq!(
            kinds(&d),
            [
                "Namespace",
                "ServiceAccount",
                "Deployment",
                "TriggerAuthentication",
                "ScaledObject"
            ]
        );
        let so = find(&d, "ScaledObject");
        assert_eq!(so["metadata"]["name"], "k8s-sqs-read-msg-keda");
        assert_eq!(so["spec"]["minReplicaCount"], 0);
        assert_eq!(so["spec"]["maxReplicaCount"], 10);
        let trigger = &so["spec"]["triggers"][0];
        assert_eq!(trigger["type"], "aws-sqs-queue");
        assert_eq!(trigger["metadata"]["queueLength"], "5");
        assert_eq!(trigger["authenticationRef"]["name"], "q-read-trigger-auth");
        let ta = find(&d, "TriggerAuthentication");
        assert_eq!(ta["spec"]["podIdentity"]["provider"], "aws");
        assert_eq!(
            ta["spec"]["podIdentity"]["roleArn"],
            "arn:aws:iam::123456789012:role/keda-identity"
        );
        let deploy = find(&d, "Deployment");
        assert!(
            deploy["spec"].get("replicas").is_none(),
            "KEDA owns replicas"
        );
        assert_eq!(
            deploy["spec"]["template"]["spec"]["containers"][0]["image"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/keda-pod-identity-registry:latest"
        );
    }

    #[test]
    fn queue_url_and_region_always_agree() {
        for region in ["eu-west-1", "cn-north-1", "us-gov-west-1"] {
            let mut s = spec();
            s.region = Some(region.into());
            let d = desired(&s).unwrap();
            let md = &find(&d, "ScaledObject")["spec"]["triggers"][0]["metadata"];
            let url = md["queueURL"].as_str().unwrap();
            assert!(url.starts_with(&format!("https://sqs.{region}.")), "{url}");
            assert_eq!(md["awsRegion"], region);
        }
    }

    #[test]
    fn identity_trust_names_the_operator_with_tag_session() {
        let d = desired(&spec()).unwrap();
        let stmts = d.roles[1].trust.body["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[0]["Principal"]["Service"], "pods.eks.amazonaws.com");
        assert_eq!(
            stmts[0]["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"],
            "arn:aws:eks:us-east-1:123456789012:cluster/demo"
        );
        assert_eq!(
            stmts[0]["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"],
            "security"
        );
        assert_eq!(
            stmts[1]["Principal"]["AWS"],
            json!(["arn:aws:iam::123456789012:role/keda-operator"])
        );
        assert_eq!(
            stmts[1]["Action"],
            json!(["sts:AssumeRole", "sts:TagSession"])
        );
    }

    #[test]
    fn trust_sids_name_the_cluster_and_service_account() {
        let d = desired(&spec()).unwrap();
        let sids: Vec<&str> = d.roles[1].trust.body["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        let app = trust_sid(
            "demo",
            "arn:aws:eks:us-east-1:123456789012:cluster/demo",
            "security",
            "my-sqs-read-msgs",
        );
        assert_eq!(sids, [app.as_str(), CHAIN_SID]);
        assert!(app.starts_with("KedactlDemoSecurityMySqsReadMsgs"), "{app}");
        assert_eq!(app.len(), "KedactlDemoSecurityMySqsReadMsgs".len() + 8);
        let arn = |c: &str| format!("arn:aws:eks:us-east-1:1:cluster/{c}");
        let all = [
            trust_sid("a", &arn("a"), "ns", "sa"),
            trust_sid("b", &arn("b"), "ns", "sa"),
            // Same readable part, different names: the hash keeps them apart.
            trust_sid("a-b", &arn("a-b"), "ns", "sa"),
            trust_sid("ab", &arn("ab"), "ns", "sa"),
            // Same name in another region: another cluster.
            trust_sid("a", "arn:aws:eks:eu-west-1:1:cluster/a", "ns", "sa"),
            trust_sid("a", &arn("a"), "ns", "other"),
            trust_sid(&"x".repeat(100), &arn(&"x".repeat(100)), "ns", "sa"),
        ];
        for (i, sid) in all.iter().enumerate() {
            assert!(sid.chars().all(|c| c.is_ascii_alphanumeric()), "{sid}");
            assert!(sid.len() <= SID_READABLE_MAX + 8, "{sid}");
            assert!(!all[..i].contains(sid), "{sid} repeats");
        }
        assert_eq!(
            all[0],
            trust_sid("a", &arn("a"), "ns", "sa"),
            "deterministic"
        );
    }

    #[test]
    fn unscoped_trust_has_no_conditions() {
        let mut s = spec();
        s.scoped_trust = false;
        let d = desired(&s).unwrap();
        assert!(
            d.roles[0].trust.body["Statement"][0]
                .get("Condition")
                .is_none()
        );
        let sid = d.roles[0].trust.body["Statement"][0]["Sid"]
            .as_str()
            .unwrap();
        assert!(sid.starts_with("KedactlDemoAnyServiceAccount"), "{sid}");
    }

    #[test]
    fn irsa_mode() {
        let mut s = spec();
        s.auth_mode = AuthMode::Irsa;
        s.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
        let d = desired(&s).unwrap();
        assert!(d.addon.is_none() && d.associations.is_empty());
        let st = &d.roles[0].trust.body["Statement"][0];
        assert_eq!(st["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            st["Principal"]["Federated"],
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
        );
        assert_eq!(
            st["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"],
            "system:serviceaccount:keda:keda-operator"
        );
        let sa = find(&d, "ServiceAccount");
        assert_eq!(
            sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/keda-identity"
        );
        // The provider every trust names: the same ARN, from the same issuer.
        let p = d.oidc_provider.as_ref().unwrap();
        assert_eq!(p.url, "https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
        assert_eq!(p.host, "oidc.eks.us-east-1.amazonaws.com/id/ABC");
        assert_eq!(st["Principal"]["Federated"], p.arn.as_str());
        assert!(desired(&spec()).unwrap().oidc_provider.is_none());
    }

    #[test]
    fn apps_sharing_a_role_share_its_policy_and_get_one_association_each() {
        let mut s = spec();
        s.apps.push(App {
            deployment: "worker".into(),
            service_account: "worker".into(),
            ..App::default()
        });
        s.apps[1].queue.name = "jobs".into();
        let d = desired(&s).unwrap();
        assert_eq!(d.roles.len(), 2);
        let resources = &d.roles[1].policies[0].body["Statement"][0]["Resource"];
        assert_eq!(
            resources,
            &json!([
                "arn:aws:sqs:us-east-1:123456789012:event-messages-queue",
                "arn:aws:sqs:us-east-1:123456789012:jobs"
            ])
        );
        assert_eq!(d.associations.len(), 3);
        assert_eq!(
            d.repositories.len(),
            1,
            "the shared repository appears once"
        );
        let namespaces = d
            .manifests
            .iter()
            .filter(|m| m["kind"] == "Namespace")
            .count();
        assert_eq!(namespaces, 1, "the shared namespace appears once");
        assert_eq!(
            d.roles[1].trust.body["Statement"].as_array().unwrap().len(),
            3
        );
    }

    #[test]
    fn dead_letter_queue_comes_first_with_a_redrive_policy() {
        let mut s = spec();
        s.apps[0].queue.dead_letter = Some(crate::spec::DeadLetter {
            name: None,
            max_receive_count: 3,
        });
        let d = desired(&s).unwrap();
        assert_eq!(d.queues[0].name, "event-messages-queue-dlq");
        let redrive: Value =
            serde_json::from_str(&d.queues[1].attributes["RedrivePolicy"]).unwrap();
        assert_eq!(redrive["maxReceiveCount"], 3);
        assert_eq!(
            redrive["deadLetterTargetArn"],
            "arn:aws:sqs:us-east-1:123456789012:event-messages-queue-dlq"
        );
    }

    #[test]
    fn values_cannot_inject_into_templates() {
        let mut s = spec();
        s.apps[0].image = Some("x\"\n  evil: true".into());
        let d = desired(&s).unwrap();
        let c = &find(&d, "Deployment")["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "x\"\n  evil: true");
        assert!(c.get("evil").is_none());
    }

    /// The `kms:Decrypt` resources of the identity role's policy (none: no statement).
    fn decrypt(d: &Desired) -> Vec<Value> {
        let stmts = d.roles[1].policies[0].body["Statement"].as_array().unwrap();
        let s = stmts.iter().find(|s| s["Action"] == "kms:Decrypt");
        s.map(|s| s["Resource"].as_array().unwrap().clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_customer_managed_queue_key_is_granted_by_key_arn() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
        // SSE-SQS: no key attribute, no grant.
        let d = desired(&spec()).unwrap();
        assert!(!d.queues[0].attributes.contains_key(KMS_KEY));
        assert!(decrypt(&d).is_empty());
        // A key id in the config: created with it, granted by the ARN built from it.
        let mut s = spec();
        s.apps[0].queue.kms_key = Some(id.into());
        let d = desired(&s).unwrap();
        assert_eq!(d.queues[0].attributes[KMS_KEY], id);
        assert_eq!(decrypt(&d), [json!(arn)]);
        assert!(policy::overly_broad(&d.roles[1].policies[0].body).is_empty());
        // An alias: the key DescribeKey named; unresolved (offline), a placeholder no key has.
        s.apps[0].queue.kms_key = Some("alias/orders".into());
        let mut o = Observed::default();
        o.kms_aliases.insert("alias/orders".into(), arn.clone());
        assert_eq!(decrypt(&desired_with(&s, &o).unwrap()), [json!(arn)]);
        let offline = decrypt(&desired(&s).unwrap());
        assert!(
            offline[0].as_str().unwrap().contains(aws::UNRESOLVED_ALIAS),
            "{offline:?}"
        );
        // No kmsKey, but the live queue has a customer key: granted, the queue left alone.
        s.apps[0].queue.kms_key = None;
        let live = crate::observed::Queue {
            url: String::new(),
            attributes: BTreeMap::from([(KMS_KEY.to_string(), "alias/orders".to_string())]),
            tags: BTreeMap::new(),
        };
        o.queues.insert("event-messages-queue".into(), live.clone());
        let d = desired_with(&s, &o).unwrap();
        assert_eq!(decrypt(&d), [json!(arn)]);
        assert!(!d.queues[0].attributes.contains_key(KMS_KEY));
        // The SQS-managed key needs no grant.
        o.queues.get_mut("event-messages-queue").unwrap().attributes =
            BTreeMap::from([(KMS_KEY.to_string(), "alias/aws/sqs".to_string())]);
        assert!(decrypt(&desired_with(&s, &o).unwrap()).is_empty());
    }

    #[test]
    fn the_push_note_names_the_rendered_repository_uri() {
        let s = spec();
        let t = Target::new("us-east-1", Some("123456789012"));
        let note = push_image_note(&s.apps[0], &t).unwrap();
        let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/keda-pod-identity-registry:latest";
        assert!(note.contains(&format!("docker push {uri}")), "{note}");
        assert!(note.contains("aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com"), "{note}");
        let mut app = s.apps[0].clone();
        app.image = Some(uri.replace(":latest", ":v2"));
        assert_eq!(image_tag_in_repository(&app, &t).as_deref(), Some("v2"));
        app.image = Some("public.ecr.aws/nginx/nginx:1.27".into());
        assert_eq!(
            push_image_note(&app, &t),
            None,
            "an image elsewhere needs no push here"
        );
    }

    /// KEDA v2.20.2's admission warnings for a ScaledObject (`verifyScaledObjects` in
    /// `scaledobject_webhook.go`), from its spec as the webhook reads it.
    fn webhook_warnings(so: &Value) -> Vec<&'static str> {
        let spec = &so["spec"];
        let min = spec["minReplicaCount"].as_i64().unwrap_or(0);
        let idle_not_zero = spec["idleReplicaCount"].as_i64() != Some(0);
        let cached = spec["triggers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["useCachedMetrics"] == true);
        let mut out = Vec::new();
        if !spec["pollingInterval"].is_null() && min > 0 && idle_not_zero && !cached {
            out.push("PollingInterval is configured but is not relevant");
        }
        if !spec["cooldownPeriod"].is_null() && min > 0 && idle_not_zero {
            out.push("CooldownPeriod is configured but is not relevant");
        }
        out
    }

    #[test]
    fn no_rendered_scaled_object_draws_an_admission_warning() {
        let examples = [
            include_str!("../../examples/amp.yaml"),
            include_str!("../../examples/cloudwatch.yaml"),
            include_str!("../../examples/kinesis.yaml"),
            include_str!("../../examples/dynamodb.yaml"),
            include_str!("../../examples/dynamodb-streams.yaml"),
        ];
        let mut specs: Vec<Spec> = examples
            .iter()
            .map(|y| crate::spec::parse(y.as_bytes(), "example").unwrap())
            .collect();
        for min in [0, 1, 3] {
            let mut s = spec();
            s.apps[0].scaling.min_replicas = min;
            specs.push(s);
        }
        for s in specs {
            let d = desired(&s).unwrap();
            let so = find(&d, "ScaledObject");
            assert!(webhook_warnings(so).is_empty(), "{so:#}");
        }
    }

    #[test]
    fn polling_and_cooldown_are_rendered_only_where_they_act() {
        let mut s = spec();
        s.apps[0].scaling.polling_interval = 10;
        s.apps[0].scaling.cooldown_period = 60;
        let so = find(&desired(&s).unwrap(), "ScaledObject").clone();
        assert_eq!(
            (
                &so["spec"]["pollingInterval"],
                &so["spec"]["cooldownPeriod"]
            ),
            (&json!(10), &json!(60)),
            "minReplicas 0: both act"
        );
        assert!(crate::spec::warnings(&s).is_empty());
        s.apps[0].scaling.min_replicas = 2;
        let so = find(&desired(&s).unwrap(), "ScaledObject").clone();
        assert!(so["spec"].get("pollingInterval").is_none(), "{so:#}");
        assert!(so["spec"].get("cooldownPeriod").is_none(), "{so:#}");
        // What was set and dropped is said, and the model runs at KEDA's defaults.
        let warned: Vec<String> = crate::spec::warnings(&s)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            warned,
            [
                "apps[0].scaling.pollingInterval",
                "apps[0].scaling.cooldownPeriod"
            ]
        );
        let p = crate::scaling::Params::from_spec(&s.apps[0].scaling);
        assert_eq!((p.polling_interval, p.cooldown_period), (30, 300));
        // idleReplicaCount 0: KEDA scales to it after the cooldown, polling for activity.
        s.apps[0].scaling.idle_replica_count = Some(0);
        let so = find(&desired(&s).unwrap(), "ScaledObject").clone();
        assert_eq!(so["spec"]["pollingInterval"], 10);
        assert_eq!(so["spec"]["cooldownPeriod"], 60);
        assert!(webhook_warnings(&so).is_empty());
    }

    #[test]
    fn scaled_job_replaces_the_deployment() {
        let mut s = spec();
        s.apps[0].scaling.kind = ScalingKind::ScaledJob;
        let d = desired(&s).unwrap();
        assert_eq!(
            kinds(&d),
            [
                "Namespace",
                "ServiceAccount",
                "TriggerAuthentication",
                "ScaledJob"
            ]
        );
    }

    /// KEDA reads `customScalingRunningJobPercentage` as a string it parses as a float; when
    /// none is set kedactl writes none, KEDA selects the default strategy (`NewScalingStrategy`),
    /// and the warning says so (`scaling::job` models it).
    #[test]
    fn a_custom_strategy_renders_its_percentage_only_when_set() {
        use crate::spec::{JobStrategy, ScalingStrategy};
        let mut s = spec();
        s.apps[0].scaling.kind = ScalingKind::ScaledJob;
        s.apps[0].scaling.scaling_strategy = Some(ScalingStrategy {
            strategy: JobStrategy::Custom,
            custom_scaling_queue_length_deduction: Some(3),
            ..ScalingStrategy::default()
        });
        let sj = find(&desired(&s).unwrap(), "ScaledJob").clone();
        assert_eq!(
            sj["spec"]["scalingStrategy"],
            json!({"strategy": "custom", "customScalingQueueLengthDeduction": 3}),
        );
        let warned: Vec<String> = crate::spec::warnings(&s)
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].starts_with("apps[0].scaling.scalingStrategy.customScalingRunningJobPercentage: custom without a running-job percentage is the default strategy"),
            "{warned:?}"
        );

        let st = s.apps[0].scaling.scaling_strategy.as_mut().unwrap();
        st.custom_scaling_running_job_percentage = Some(0.0);
        let sj = find(&desired(&s).unwrap(), "ScaledJob").clone();
        assert_eq!(
            sj["spec"]["scalingStrategy"]["customScalingRunningJobPercentage"],
            "0"
        );
        assert!(crate::spec::warnings(&s).is_empty());
    }

    #[test]
    fn a_trust_policy_over_the_quota_is_refused_before_any_call() {
        let mut s = spec();
        let app = s.apps[0].clone();
        s.apps = (0..8)
            .map(|i| {
                let mut a = app.clone();
                a.deployment = format!("worker-{i}");
                a.service_account = format!("worker-{i}-sa");
                a.queue.name = format!("q-{i}");
                a
            })
            .collect();
        let err = desired(&s).unwrap_err();
        let RenderError::Invalid(p) = &err else {
            panic!("{err}")
        };
        assert_eq!(p.problems.len(), 1, "{p}");
        let problem = &p.problems[0];
        assert_eq!(problem.field, "roles.identity");
        assert!(
            problem.message.contains("over the account's quota of 2048")
                && problem.message.contains("9 statements"),
            "{problem:?}"
        );
        assert!(
            problem.fix.contains("roles.trustPolicyQuota"),
            "{problem:?}"
        );
        assert!(
            precheck(&Spec {
                account: None,
                ..s.clone()
            })
            .is_err()
        );
        // A raised quota, or one unscoped statement for all, fits.
        s.roles.trust_policy_quota = 4096;
        assert!(desired(&s).is_ok());
        s.roles.trust_policy_quota = 2048;
        s.scoped_trust = false;
        assert!(desired(&s).is_ok());
    }

    /// `n` SQS apps on the default identity role, each with its own queue.
    fn many_apps(n: usize) -> Spec {
        let mut s = spec();
        let app = s.apps[0].clone();
        s.apps = (0..n)
            .map(|i| {
                let mut a = app.clone();
                a.deployment = format!("worker-{i}");
                a.service_account = format!("worker-{i}-sa");
                // Long names, as real ones can be (SQS allows 80 characters).
                a.queue.name = format!(
                    "the-queue-of-the-worker-that-transcodes-the-uploaded-videos-number-{i:02}"
                );
                a
            })
            .collect();
        // One trust statement for all: only the permission policies grow.
        s.scoped_trust = false;
        s
    }

    #[test]
    fn inline_policies_over_iams_aggregate_limit_are_refused_offline_with_the_split_that_fits() {
        let limit = crate::limits::ROLE_INLINE_POLICIES_QUOTA;
        let s = many_apps(50);
        let err = desired(&s).unwrap_err();
        let RenderError::Invalid(p) = &err else {
            panic!("{err}")
        };
        assert_eq!(p.problems.len(), 1, "{p}");
        let problem = &p.problems[0];
        assert_eq!(problem.field, "roles.identity");
        assert!(
            problem
                .message
                .contains("over IAM's limit of 10240 per role")
                && problem.message.contains(IDENTITY_POLICY),
            "{problem:?}"
        );
        // Offline (no account) it is refused alike: `<account>` counts as its 12 digits.
        assert!(
            precheck(&Spec {
                account: None,
                ..s.clone()
            })
            .is_err()
        );
        // The fix names a split; applied, every role fits and each holds only its apps' grants.
        let words: Vec<&str> = problem.fix.split_whitespace().collect();
        let after = |w: &str| words[words.iter().position(|x| *x == w).unwrap() + 1];
        let roles: usize = after("least").parse().unwrap();
        let fit: usize = after("most").parse().unwrap();
        assert!(roles >= 2 && fit * roles >= 50, "{problem:?}");
        let mut split = s.clone();
        for (i, a) in split.apps.iter_mut().enumerate() {
            a.identity_role = Some(format!("keda-identity-{}", i / fit));
        }
        let d = desired(&split).unwrap();
        for r in &d.roles {
            let size = inline_size(&r.policies);
            assert!(size <= limit, "{} has {size}", r.name);
        }
        // `fit` apps fit, one more does not; the seed is tiny.
        assert!(desired(&many_apps(fit)).is_ok());
        assert!(desired(&many_apps(fit + 1)).is_err());
        assert!(desired(&spec()).is_ok());
    }
}

#[cfg(test)]
mod guardrail_tests;
