//! `kedactl.yaml`: the user's intent. Every field has a default that reproduces the seed
//! (AWS Prescriptive Guidance "event-driven auto scaling with EKS Pod Identity and KEDA"),
//! and every field can be overridden by a flag (see `overrides`).

pub mod guardrails;
pub mod issuer;
pub mod keda_fields;
pub mod keda_values;
mod load;
pub mod names;
mod overrides;
pub mod regions;
pub mod sections;
pub mod target;
mod validate;
pub mod workload;

pub use load::{ConfigSource, DEFAULT_CONFIG_FILE, load, parse, schema};
pub use overrides::{AppOverrides, Overrides};
pub use validate::{
    Problem, Problems, missing_issuer, validate, validate_offline, validate_online,
};
pub use workload::{PodSecurity, Resources, WorkloadKind};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The KEDA release kedactl installs and renders for (and whose CRDs it validates against).
pub const DEFAULT_KEDA_VERSION: &str = "2.20.2";
/// EKS Pod Identity needs the AWS SDK that KEDA 2.13 introduced with the `aws` provider.
pub const MIN_KEDA_VERSION: (u64, u64) = (2, 13);

/// The seed's ScaledObject name, which belongs to the seed's Deployment (`q-read`).
pub const SEED_SCALER: &str = "k8s-sqs-read-msg-keda";

/// kedactl.yaml — event-driven autoscaling on SQS for EKS, with KEDA and Pod Identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "kedactl.yaml")]
pub struct Spec {
    /// EKS cluster name. Required (here or with --cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// AWS region, e.g. us-east-1. Defaults to AWS_REGION / AWS_DEFAULT_REGION, then the AWS
    /// profile's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// 12-digit AWS account ID, quoted. Discovered from STS when omitted (online commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Stack name: tags every AWS resource and labels every Kubernetes object kedactl owns.
    #[serde(default = "defaults::stack")]
    pub stack: String,
    /// How pods get AWS credentials: EKS Pod Identity (default) or IRSA (OIDC).
    #[serde(default)]
    pub auth_mode: AuthMode,
    /// Restrict the pods.eks.amazonaws.com trust of each role to this cluster and the service
    /// accounts that use it (session-tag conditions). Set false to trust any association.
    #[serde(default = "defaults::yes")]
    pub scoped_trust: bool,
    /// IRSA only: the cluster's OIDC issuer URL (discovered from DescribeCluster when online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// The KEDA installation.
    #[serde(default)]
    pub keda: Keda,
    /// IAM role names.
    #[serde(default)]
    pub roles: Roles,
    /// The workloads to scale, each with its own trigger (an SQS queue by default).
    #[serde(default = "defaults::apps")]
    pub apps: Vec<App>,
    /// Tags put on every AWS resource kedactl creates (roles, queues, repositories,
    /// associations, trigger resources), beside its own ownership tags; e.g. the `cost-center`
    /// or `owner` an organisation's SCP or tag policy requires. Keys may not start with `aws:`
    /// or be kedactl's own (`app.kubernetes.io/managed-by`, `kedactl.io/...`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The Pod Security Standard the namespaces kedactl creates enforce (their label
    /// `pod-security.kubernetes.io/enforce`): restricted (default), baseline, privileged, or
    /// none (no label). The pods kedactl renders meet restricted.
    #[serde(default)]
    pub pod_security: PodSecurity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// EKS Pod Identity: pods.eks.amazonaws.com trust + pod identity associations.
    #[default]
    PodIdentity,
    /// IAM roles for service accounts: OIDC web-identity trust + SA annotations.
    Irsa,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::PodIdentity => "pod-identity",
            AuthMode::Irsa => "irsa",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keda {
    /// Namespace of the KEDA Helm release.
    #[serde(default = "defaults::keda_namespace")]
    pub namespace: String,
    /// Service account of the keda-operator Deployment (the one that needs AWS credentials).
    #[serde(default = "defaults::keda_service_account")]
    pub service_account: String,
    /// KEDA Helm chart version (>= 2.13 for EKS Pod Identity).
    #[serde(default = "defaults::keda_version")]
    pub version: String,
    /// Values for the KEDA Helm chart, e.g. `resources`, `tolerations`, `nodeSelector`,
    /// `priorityClassName`, `podDisruptionBudget`, `metricsServer: {replicaCount: 2}`; merged
    /// over `valuesFile`'s. kedactl's own values win, and one given here that contradicts them
    /// is an error: the operator's service account name (keda.serviceAccount), IRSA
    /// (`podIdentity.aws.irsa.*` and the service account's role annotation: authMode,
    /// roles.operator) and the CRDs' keep annotation. A change is a plan step (helm upgrade).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub values: serde_json::Map<String, serde_json::Value>,
    /// A YAML file of chart values (as `helm install -f` reads), relative to kedactl.yaml's
    /// folder; `values` are merged over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Roles {
    /// Role of the keda-operator service account.
    #[serde(default = "defaults::operator_role")]
    pub operator: String,
    /// Role KEDA assumes (TriggerAuthentication roleArn) to read queue depth; apps use it by default.
    #[serde(default = "defaults::identity_role")]
    pub identity: String,
    /// Give the operator role an identity policy allowing sts:AssumeRole/TagSession on the
    /// identity roles (needed when their trust delegates to the account; a permissions boundary
    /// on the operator role must allow these actions too, whatever grants them).
    #[serde(default = "defaults::yes")]
    pub operator_assume_policy: bool,
    /// Pod Identity: only the apps' own sessions may consume their queues (the consume actions
    /// are conditioned on `aws:PrincipalTag/kubernetes-service-account` and `-namespace`), so
    /// KEDA's chained session, tagged as keda-operator, can only read the depth. `false`: the
    /// seed's layout, one unconditioned grant for KEDA and the app.
    #[serde(default = "defaults::yes")]
    pub scope_consumers: bool,
    /// The account's IAM quota on a role trust policy, in characters: 2,048 unless AWS raised it
    /// (Service Quotas, "Role trust policy length", at most 4,096). Checked before any call.
    #[serde(default = "defaults::trust_policy_quota")]
    #[schemars(range(min = 2048, max = 4096))]
    pub trust_policy_quota: u32,
    /// ARN of a managed policy set as the permissions boundary of every role kedactl creates
    /// (and put on the ones it owns by `up`); many organisations' SCPs deny iam:CreateRole
    /// without one. Unset: kedactl sets none and leaves an existing boundary alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// IAM path of the roles kedactl creates, e.g. `/service-roles/` (part of their ARNs). IAM
    /// cannot move a role: an existing role on another path is a conflict. Default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct App {
    /// Deployment name; also the prefix of the TriggerAuthentication and trigger names.
    #[serde(default = "defaults::deployment")]
    pub deployment: String,
    /// Namespace of the app's objects.
    #[serde(default = "defaults::app_namespace")]
    pub namespace: String,
    /// Service account of the app's pods.
    #[serde(default = "defaults::app_service_account")]
    pub service_account: String,
    /// Container image. Defaults to <account>.dkr.ecr.<region>.amazonaws.com/<repository>:latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// IAM role of the app's service account and of KEDA's queue reads. Defaults to roles.identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_role: Option<String>,
    /// ECR repository for the app's image.
    #[serde(default = "defaults::repository")]
    pub repository: String,
    /// What drives scaling: `sqs` (the `queue` below), or the kind whose section is set
    /// (`prometheus`, `kinesis`, `cloudwatch`, `dynamodb`, `dynamodb-streams` for
    /// `dynamodbStreams`).
    #[serde(
        default,
        skip_serializing_if = "crate::triggers::kind::Kind::is_default"
    )]
    pub trigger: crate::triggers::kind::Kind,
    /// The SQS queue that drives scaling (trigger: sqs).
    #[serde(default)]
    pub queue: Queue,
    /// The AMP workspace and PromQL query that drive scaling (trigger: prometheus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::triggers::prometheus::config::Config>,
    /// The Kinesis stream whose open shards drive scaling (trigger: kinesis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis: Option<crate::triggers::kinesis::config::Config>,
    /// The CloudWatch metric that drives scaling (trigger: cloudwatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<crate::triggers::cloudwatch::config::Config>,
    /// The DynamoDB table and query that drive scaling (trigger: dynamodb).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamodb: Option<crate::triggers::dynamodb::config::Config>,
    /// The DynamoDB table whose stream's shards drive scaling (trigger: dynamodb-streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamodb_streams: Option<crate::triggers::dynamodb_streams::config::Config>,
    /// The app reads its trigger's stream or table itself (kinesis, dynamodb,
    /// dynamodb-streams): its role also gets what a consumer needs (records and shard
    /// iterators; a table's items to update and delete), for the app's own sessions only with
    /// Pod Identity and roles.scopeConsumers. An sqs app always consumes its queue.
    #[serde(default, skip_serializing_if = "is_false")]
    pub consume: bool,
    /// KEDA scaling settings.
    #[serde(default)]
    pub scaling: Scaling,
    /// ARNs of managed policies `up` attaches to this app's identity role, for the app's own
    /// grants (S3, DynamoDB...). kedactl detaches only those it attached, when they leave here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub managed_policies: Vec<String>,
    /// The workload is yours (deployed by Helm, Argo CD...): kedactl never creates, changes or
    /// deletes it, and its ScaledObject scales it (`kind` + `deployment` name it). `up` checks
    /// it exists and runs as `serviceAccount`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub existing: bool,
    /// The workload's kind: Deployment, or StatefulSet (only with `existing: true`).
    #[serde(default, skip_serializing_if = "WorkloadKind::is_default")]
    pub kind: WorkloadKind,
    /// The app container's securityContext, merged over kedactl's restricted default
    /// (runAsNonRoot, runAsUser 65532, allowPrivilegeEscalation false, capabilities.drop [ALL],
    /// seccompProfile RuntimeDefault); `null` removes a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<serde_json::Map<String, serde_json::Value>>,
    /// The app container's resource requests and limits, merged over the defaults
    /// (requests cpu 250m, memory 64Mi; limits cpu 500m, memory 128Mi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Queue {
    /// Queue name (a `.fifo` suffix makes a FIFO queue).
    #[serde(default = "defaults::queue")]
    pub name: String,
    /// Visibility timeout in seconds (0..43200).
    #[serde(default = "defaults::visibility_timeout")]
    #[schemars(range(max = 2147483647))]
    pub visibility_timeout: u32,
    /// Optional dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<DeadLetter>,
    /// Customer-managed KMS key for SSE-KMS: a key ID, key ARN, alias/<name> or alias ARN.
    /// Omitted: SQS-managed encryption (SSE-SQS). The app's role gets kms:Decrypt on the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeadLetter {
    /// DLQ name. Defaults to <queue>-dlq (before any .fifo suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Receives before a message moves to the DLQ (1..1000).
    #[serde(default = "defaults::max_receive_count")]
    #[schemars(range(max = 2147483647))]
    pub max_receive_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum ScalingKind {
    /// Scale a Deployment (KEDA + HPA).
    #[default]
    ScaledObject,
    /// Run one Job per batch of messages.
    ScaledJob,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scaling {
    /// ScaledObject (Deployment) or ScaledJob (Jobs).
    #[serde(default)]
    pub kind: ScalingKind,
    /// Name of the ScaledObject/ScaledJob. Defaults to <deployment>-scaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target messages per replica (KEDA queueLength).
    #[serde(default = "defaults::queue_length")]
    #[schemars(range(max = 2147483647))]
    pub queue_length: u32,
    /// Scale from zero only when the queue holds more than this many messages (a ScaledJob with
    /// minReplicas above 0 counts the queue only above it).
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    pub activation_queue_length: u32,
    /// Minimum replicas; 0 scales to zero.
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    pub min_replicas: u32,
    /// Maximum replicas.
    #[serde(default = "defaults::max_replicas")]
    #[schemars(range(max = 2147483647))]
    pub max_replicas: u32,
    /// Seconds between KEDA's queue reads.
    #[serde(default = "defaults::polling_interval")]
    #[schemars(range(max = 2147483647))]
    pub polling_interval: u32,
    /// Seconds after the last active read before scaling to zero (ScaledObject only).
    #[serde(default = "defaults::cooldown_period")]
    #[schemars(range(max = 2147483647))]
    pub cooldown_period: u32,
    /// Count in-flight (received, not deleted) messages.
    #[serde(default = "defaults::yes")]
    pub scale_on_in_flight: bool,
    /// Count delayed messages.
    #[serde(default)]
    pub scale_on_delayed: bool,
    /// ScaledObject: replicas while the queue is inactive, below minReplicas (KEDA
    /// `idleReplicaCount`; it must be less than minReplicas, or 0 when minReplicas is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub idle_replica_count: Option<u32>,
    /// ScaledObject: seconds after creation before a never-active target may scale to zero
    /// (KEDA `initialCooldownPeriod`; 0 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub initial_cooldown_period: Option<u32>,
    /// ScaledObject: the replicas the HPA is fed when the queue cannot be read (KEDA `fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// ScaledObject: the HPA's behavior and what happens to the replicas on deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// Pause scaling: the annotation `autoscaling.keda.sh/paused: "true"` (KEDA stops its loop
    /// and deletes the HPA; the replicas stay as they are; a ScaledJob starts no Jobs).
    #[serde(default, skip_serializing_if = "is_false")]
    pub paused: bool,
    /// ScaledObject: pause at this many replicas (annotation `autoscaling.keda.sh/paused-replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub paused_replicas: Option<u32>,
    /// ScaledJob: how many Jobs each poll starts (KEDA `scalingStrategy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_strategy: Option<ScalingStrategy>,
    /// ScaledJob: finished Jobs kept (KEDA's default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub successful_jobs_history_limit: Option<u32>,
    /// ScaledJob: failed Jobs kept (KEDA's default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub failed_jobs_history_limit: Option<u32>,
    /// ScaledJob: seconds a Job may run before Kubernetes fails it (Job `activeDeadlineSeconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub active_deadline_seconds: Option<u32>,
    /// ScaledJob: retries of a failed Job pod (Job `backoffLimit`, Kubernetes' default 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub backoff_limit: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// KEDA's defaults for a ScaledObject that leaves them out.
pub const KEDA_POLLING_INTERVAL: u32 = 30;
pub const KEDA_COOLDOWN_PERIOD: u32 = 300;

impl Scaling {
    /// Does a ScaledObject's pollingInterval act? KEDA v2.20.2's webhook
    /// (`scaledobject_webhook.go`) warns on every apply that it is "not relevant" unless
    /// minReplicaCount is 0 or idleReplicaCount is 0 (or a trigger uses cached metrics, which
    /// kedactl does not render). An idleReplicaCount above 0 is counted as acting too: KEDA's
    /// executor moves to it after the cooldown (`scaleToZeroOrIdle`), whatever the webhook says.
    /// A ScaledJob always polls.
    pub fn polling_acts(&self) -> bool {
        self.kind == ScalingKind::ScaledJob
            || self.min_replicas == 0
            || self.idle_replica_count.is_some()
    }

    /// Does a ScaledObject's cooldownPeriod act? The same rule without cached metrics.
    pub fn cooldown_acts(&self) -> bool {
        self.polling_acts()
    }

    /// The interval KEDA polls at: the configured one where it is rendered, else KEDA's.
    pub fn effective_polling_interval(&self) -> u32 {
        match self.polling_acts() {
            true => self.polling_interval,
            false => KEDA_POLLING_INTERVAL,
        }
    }

    /// The cooldown KEDA applies: the configured one where it is rendered, else KEDA's.
    pub fn effective_cooldown_period(&self) -> u32 {
        match self.cooldown_acts() {
            true => self.cooldown_period,
            false => KEDA_COOLDOWN_PERIOD,
        }
    }
}

/// Settings that are valid but do not do what they say: a pollingInterval or cooldownPeriod
/// other than KEDA's default on a ScaledObject where they do not act (kedactl leaves them out),
/// and a custom scalingStrategy without the running-job percentage KEDA needs to select it.
pub fn warnings(spec: &Spec) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, app) in spec.apps.iter().enumerate() {
        let s = &app.scaling;
        // NewScalingStrategy (KEDA v2.20.2 scale_jobs.go) falls back to the default strategy
        // when the percentage does not parse as a float, and an absent one is "".
        if let Some(st) = &s.scaling_strategy
            && st.strategy == JobStrategy::Custom
            && st.custom_scaling_running_job_percentage.is_none()
        {
            out.push(Problem::new(
                format!("apps[{i}].scaling.scalingStrategy.customScalingRunningJobPercentage"),
                "custom without a running-job percentage is the default strategy: KEDA cannot parse the missing customScalingRunningJobPercentage and falls back to default (customScalingQueueLengthDeduction is not applied)",
                "set customScalingRunningJobPercentage (0 to 1; 1 counts every running Job), or strategy: default",
            ));
        }
        let unused = [
            (
                "pollingInterval",
                s.polling_interval,
                KEDA_POLLING_INTERVAL,
                s.polling_acts(),
            ),
            (
                "cooldownPeriod",
                s.cooldown_period,
                KEDA_COOLDOWN_PERIOD,
                s.cooldown_acts(),
            ),
        ];
        for (field, set, default, acts) in unused {
            if !acts && set != default {
                out.push(Problem::new(
                    format!("apps[{i}].scaling.{field}"),
                    format!(
                        "{field} {set} does not act with minReplicas {} (KEDA's webhook calls it not relevant), so kedactl leaves it out: KEDA keeps {default} s, and the HPA reads the metric every 15 s",
                        s.min_replicas
                    ),
                    format!("remove {field}, or set minReplicas: 0 to scale to zero"),
                ));
            }
        }
    }
    out
}

/// `fallback` (KEDA `pkg/fallback/fallback.go`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fallback {
    /// Failed reads in a row before the fallback applies (it applies after more than this many).
    #[schemars(range(max = 2147483647))]
    pub failure_threshold: u32,
    /// Replicas the HPA is steered to (through a metric of queueLength × replicas).
    #[schemars(range(max = 2147483647))]
    pub replicas: u32,
    /// Which count the fallback asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<FallbackBehavior>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FallbackBehavior {
    /// `fallback.replicas` (KEDA's default).
    Static,
    /// The target's current count.
    CurrentReplicas,
    /// The higher of the current count and `fallback.replicas`.
    CurrentReplicasIfHigher,
    /// The lower of the current count and `fallback.replicas`.
    CurrentReplicasIfLower,
}

/// `advanced`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Advanced {
    /// On deletion of the ScaledObject, set the replicas back to the count found at creation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restore_to_original_replica_count: bool,
    /// The HPA KEDA creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaConfig {
    /// autoscaling/v2 `behavior`; unset fields take Kubernetes' defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HpaBehavior>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaBehavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<HpaRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<HpaRules>,
}

/// `HPAScalingRules`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaRules {
    /// Seconds of past recommendations considered (0..3600; scale-up 0, scale-down 300 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 3600))]
    pub stabilization_window_seconds: Option<u32>,
    /// Which policy wins: Max (default), Min, or Disabled (no scaling in this direction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    /// Rate limits; Kubernetes' defaults when omitted (at least one when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10))]
    pub policies: Option<Vec<HpaPolicy>>,
    /// Usage-ratio tolerance for this direction, 0 to 1 (Kubernetes ≥ 1.35; 0.1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub tolerance: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HpaPolicyType {
    Pods,
    Percent,
}

/// `HPAScalingPolicy`: at most `value` pods (or percent) per `periodSeconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaPolicy {
    #[serde(rename = "type")]
    pub kind: HpaPolicyType,
    /// Pods or percent, at least 1.
    #[schemars(range(min = 1, max = 2147483647))]
    pub value: u32,
    /// 1..1800 seconds.
    #[schemars(range(min = 1, max = 1800))]
    pub period_seconds: u32,
}

/// ScaledJob `scalingStrategy` (KEDA `scale_jobs.go`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingStrategy {
    /// default, custom, accurate or eager.
    #[serde(default)]
    pub strategy: JobStrategy,
    /// custom: Jobs fewer than the queue asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2147483647))]
    pub custom_scaling_queue_length_deduction: Option<u32>,
    /// custom: the fraction (0 to 1) of running Jobs counted against the queue. Without it
    /// KEDA uses the default strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub custom_scaling_running_job_percentage: Option<f64>,
    /// Pod conditions (PodScheduled, Initialized, ContainersReady, Ready,
    /// PodReadyToStartContainers) a Job's pod needs before the Job stops counting as pending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub pending_pod_conditions: Vec<String>,
    /// How several triggers combine: max (default), min, avg or sum (one trigger: all agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_scalers_calculation: Option<MultipleScalers>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStrategy {
    #[default]
    Default,
    Custom,
    Accurate,
    Eager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MultipleScalers {
    Max,
    Min,
    Avg,
    Sum,
}

/// The pod condition types `pendingPodConditions` may name (core/v1 `PodConditionType`).
pub const POD_CONDITIONS: [&str; 5] = [
    "PodScheduled",
    "Initialized",
    "ContainersReady",
    "Ready",
    "PodReadyToStartContainers",
];

impl Default for Spec {
    fn default() -> Self {
        Spec {
            cluster: None,
            region: None,
            account: None,
            stack: defaults::stack(),
            auth_mode: AuthMode::default(),
            scoped_trust: true,
            oidc_issuer: None,
            keda: Keda::default(),
            roles: Roles::default(),
            apps: defaults::apps(),
            tags: BTreeMap::new(),
            pod_security: PodSecurity::default(),
        }
    }
}

impl Default for Keda {
    fn default() -> Self {
        Keda {
            namespace: defaults::keda_namespace(),
            service_account: defaults::keda_service_account(),
            version: defaults::keda_version(),
            values: Default::default(),
            values_file: None,
        }
    }
}

impl Default for Roles {
    fn default() -> Self {
        Roles {
            operator: defaults::operator_role(),
            identity: defaults::identity_role(),
            operator_assume_policy: true,
            scope_consumers: true,
            trust_policy_quota: defaults::trust_policy_quota(),
            permissions_boundary: None,
            path: None,
        }
    }
}

impl Default for App {
    fn default() -> Self {
        App {
            deployment: defaults::deployment(),
            namespace: defaults::app_namespace(),
            service_account: defaults::app_service_account(),
            image: None,
            identity_role: None,
            repository: defaults::repository(),
            trigger: crate::triggers::kind::Kind::default(),
            queue: Queue::default(),
            prometheus: None,
            kinesis: None,
            cloudwatch: None,
            dynamodb: None,
            dynamodb_streams: None,
            consume: false,
            scaling: Scaling::default(),
            managed_policies: Vec::new(),
            existing: false,
            kind: WorkloadKind::default(),
            security_context: None,
            resources: None,
        }
    }
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            name: defaults::queue(),
            visibility_timeout: defaults::visibility_timeout(),
            dead_letter: None,
            kms_key: None,
        }
    }
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            kind: ScalingKind::default(),
            name: None,
            queue_length: defaults::queue_length(),
            activation_queue_length: 0,
            min_replicas: 0,
            max_replicas: defaults::max_replicas(),
            polling_interval: defaults::polling_interval(),
            cooldown_period: defaults::cooldown_period(),
            scale_on_in_flight: true,
            scale_on_delayed: false,
            idle_replica_count: None,
            initial_cooldown_period: None,
            fallback: None,
            advanced: None,
            paused: false,
            paused_replicas: None,
            scaling_strategy: None,
            successful_jobs_history_limit: None,
            failed_jobs_history_limit: None,
            active_deadline_seconds: None,
            backoff_limit: None,
        }
    }
}

impl Roles {
    /// The IAM path of kedactl's roles (`/` unless `path` says otherwise).
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or("/")
    }
}

impl App {
    /// The IAM role this app's service account (and KEDA's reads of its queue) use.
    pub fn identity_role<'a>(&'a self, roles: &'a Roles) -> &'a str {
        self.identity_role.as_deref().unwrap_or(&roles.identity)
    }

    /// Name of the ScaledObject or ScaledJob.
    pub fn scaler_name(&self) -> String {
        self.scaling
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-scaler", self.deployment))
    }

    pub fn trigger_auth_name(&self) -> String {
        format!("{}-trigger-auth", self.deployment)
    }

    pub fn trigger_name(&self) -> String {
        format!("{}-trigger", self.deployment)
    }
}

impl Queue {
    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }

    /// The DLQ's name, if the queue has one: explicit, or `<queue>-dlq[.fifo]`.
    pub fn dead_letter_name(&self) -> Option<String> {
        let dlq = self.dead_letter.as_ref()?;
        Some(
            dlq.name
                .clone()
                .unwrap_or_else(|| match self.name.strip_suffix(".fifo") {
                    Some(base) => format!("{base}-dlq.fifo"),
                    None => format!("{}-dlq", self.name),
                }),
        )
    }
}

/// The stack name when the config gives none.
pub const DEFAULT_STACK: &str = "kedactl";

/// Field defaults, one function each because serde's `default = "..."` needs a path.
pub(crate) mod defaults {
    use super::App;

    pub fn yes() -> bool {
        true
    }
    pub fn trust_policy_quota() -> u32 {
        crate::limits::TRUST_POLICY_QUOTA
    }
    pub fn stack() -> String {
        super::DEFAULT_STACK.into()
    }
    pub fn keda_namespace() -> String {
        "keda".into()
    }
    pub fn keda_service_account() -> String {
        "keda-operator".into()
    }
    pub fn keda_version() -> String {
        super::DEFAULT_KEDA_VERSION.into()
    }
    pub fn operator_role() -> String {
        "keda-operator".into()
    }
    pub fn identity_role() -> String {
        "keda-identity".into()
    }
    pub fn deployment() -> String {
        "q-read".into()
    }
    pub fn app_namespace() -> String {
        "security".into()
    }
    pub fn app_service_account() -> String {
        "my-sqs-read-msgs".into()
    }
    pub fn repository() -> String {
        "keda-pod-identity-registry".into()
    }
    pub fn queue() -> String {
        "event-messages-queue".into()
    }
    pub fn visibility_timeout() -> u32 {
        30
    }
    pub fn max_receive_count() -> u32 {
        5
    }
    pub fn queue_length() -> u32 {
        5
    }
    pub fn max_replicas() -> u32 {
        10
    }
    pub fn polling_interval() -> u32 {
        30
    }
    pub fn cooldown_period() -> u32 {
        300
    }
    /// The seed's one app, with its ScaledObject name.
    pub fn apps() -> Vec<App> {
        let mut app = App::default();
        app.scaling.name = Some(super::SEED_SCALER.into());
        vec![app]
    }
}

/// The KMS key each app's queue is encrypted with, as SQS is given it: the config's `kmsKey`,
/// else what the live queue reports (kedactl leaves the encryption of a queue it was not told
/// about alone, but its consumers still need to decrypt).
pub fn queue_key<'a>(app: &'a App, observed: &'a crate::observed::Observed) -> Option<&'a str> {
    app.queue.kms_key.as_deref().or_else(|| {
        observed
            .queues
            .get(&app.queue.name)
            .and_then(|q| q.attributes.get(crate::model::KMS_KEY))
            .map(String::as_str)
            .filter(|k| !k.is_empty())
    })
}
