//! One module per KEDA trigger kind, and this registry. A kind owns its config section and
//! validation, the AWS resources it creates, its least-privilege policy, its KEDA trigger
//! metadata and how its metric reads as a number for `scale` and `simulate`. Everything else
//! (roles, associations, KEDA, the app's objects, the executor) does not know which kind it is.
//!
//! Adding a kind: its module here (the `Trigger` impl, its config section, a policy template
//! in `policies/`), a `Kind` variant with its arms in `ALL`, `imp` and `as_str`, its field on
//! `spec::App`, and, when it creates AWS resources, a `resource::Kind` with its calls. Plan,
//! execution, `down`, `scale`, `watch` and doctor's KD046–KD049 then need nothing more.

pub mod cloudwatch;
pub mod dynamodb;
pub mod dynamodb_streams;
pub mod kinesis;
pub mod prometheus;
pub mod resource;
pub mod sqs;

use crate::cloud::{Aws, CallError};
use crate::observed::Observed;
use crate::render::{Document, RenderError, Target};
use crate::spec::{App, Problem, Spec};
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use resource::Resource;

/// What drives an app's scaling (`apps[].trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// SQS queue depth (`aws-sqs-queue`), from the app's `queue` section.
    #[default]
    Sqs,
    /// A PromQL query against an Amazon Managed Service for Prometheus workspace
    /// (`prometheus`, SigV4-signed by KEDA), from the app's `prometheus` section.
    Prometheus,
    /// The open shard count of a Kinesis data stream (`aws-kinesis-stream`), from the app's
    /// `kinesis` section.
    Kinesis,
    /// A CloudWatch metric or metric math expression (`aws-cloudwatch`), from the app's
    /// `cloudwatch` section.
    #[serde(rename = "cloudwatch")]
    CloudWatch,
    /// The count of items a DynamoDB Query matches (`aws-dynamodb`), from the app's
    /// `dynamodb` section.
    Dynamodb,
    /// The shard count of a DynamoDB table's stream (`aws-dynamodb-streams`), from the app's
    /// `dynamodbStreams` section.
    DynamodbStreams,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Sqs,
        Kind::Prometheus,
        Kind::Kinesis,
        Kind::CloudWatch,
        Kind::Dynamodb,
        Kind::DynamodbStreams,
    ];

    /// The one place a kind is bound to its module.
    pub fn imp(self) -> &'static dyn Trigger {
        match self {
            Kind::Sqs => &sqs::Sqs,
            Kind::Prometheus => &prometheus::Prometheus,
            Kind::Kinesis => &kinesis::Kinesis,
            Kind::CloudWatch => &cloudwatch::CloudWatch,
            Kind::Dynamodb => &dynamodb::Dynamodb,
            Kind::DynamodbStreams => &dynamodb_streams::DynamodbStreams,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sqs => "sqs",
            Kind::Prometheus => "prometheus",
            Kind::Kinesis => "kinesis",
            Kind::CloudWatch => "cloudwatch",
            Kind::Dynamodb => "dynamodb",
            Kind::DynamodbStreams => "dynamodb-streams",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Kind::Sqs
    }
}

/// How a trigger's metric becomes replicas, in KEDA's integer units: SQS counts messages;
/// float metrics (prometheus) are compared in milli-units, as KEDA hands them to the HPA
/// (`GenerateMetricInMili`, `GetMetricTargetMili`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingTarget {
    /// The AverageValue target per replica.
    pub per_replica: u64,
    /// Active only above this.
    pub activation: u64,
}

/// What one trigger kind does. Implementations are unit structs; `Kind::imp` picks one.
pub trait Trigger: Sync {
    fn kind(&self) -> Kind;

    /// KEDA's trigger `type`.
    fn keda_type(&self) -> &'static str;

    /// The app's section this kind reads (None for sqs, whose `queue` is always there).
    fn section(&self) -> Option<Section> {
        None
    }

    /// Is this kind's section set on the app?
    fn has_section(&self, _app: &App) -> bool {
        false
    }

    /// Problems in this kind's section of `apps[i]` (`at` is `apps[i]`). Sections of other
    /// kinds are refused by the caller.
    fn validate(&self, app: &App, at: &str, out: &mut Vec<Problem>);

    /// The AWS resources this app's trigger creates and owns (SQS queues have their own
    /// pipeline, with attributes and dead-letter queues: `sqs::queues`).
    fn resources(&self, _app: &App) -> Vec<Resource> {
        Vec::new()
    }

    /// Resources the app needs in this cluster beside those `resources` names, which depend on
    /// the cluster and on the others' live ids (the AMP scraper that fills the app's workspace).
    /// Apps that need the same one share it.
    fn cluster_resources(
        &self,
        _app: &App,
        _cluster: &str,
        _target: &Target,
        _observed: &Observed,
    ) -> Result<Vec<Resource>, RenderError> {
        Ok(Vec::new())
    }

    /// The identity role's permission policy for the apps of this kind that use the role
    /// (`apps` is never empty), or None when the kind needs no grant.
    fn policy(
        &self,
        spec: &Spec,
        apps: &[&App],
        target: &Target,
        observed: &Observed,
    ) -> Result<Option<Document>, RenderError>;

    /// The trigger's `metadata` (KEDA reads a map of strings), every tuning field written out.
    fn metadata(&self, app: &App, target: &Target, observed: &Observed) -> Map<String, Value>;

    /// The app itself calls AWS as the identity role (SQS: it receives and deletes the messages
    /// KEDA counts; Kinesis and DynamoDB: it reads the stream or table its env names), so its
    /// service account gets an association (or the IRSA annotation) and a statement in the
    /// role's trust. An app of a kind that answers false (prometheus, cloudwatch) gets none:
    /// KEDA alone reads the source.
    fn consumes(&self) -> bool {
        false
    }

    /// The container's environment for the app to find its source (name, value).
    fn env(&self, _app: &App, _target: &Target) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The target per replica and the activation bound, in the metric's integer units.
    fn scaling_target(&self, app: &App) -> ScalingTarget;

    /// The metric's name for people ("messages", "query value").
    fn unit(&self) -> &'static str;

    /// What the app scales on, for people ("SQS queue q", "AMP workspace w: <query>").
    fn source(&self, app: &App) -> String;

    /// What KEDA's session (the identity role, assumed by the operator) calls for this app:
    /// (IAM action, resource ARN). Doctor evaluates the role's policies against each.
    fn needs(&self, app: &App, target: &Target, observed: &Observed)
    -> Vec<(&'static str, String)>;

    /// A reader of the metric exactly as KEDA's scaler reads it (`scale`, `watch`).
    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>>;
}

/// One source's metric, read as KEDA's scaler reads it.
pub trait Metric: Send + Sync {
    /// One read: what the scaler would hand the HPA now.
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>>;
}

/// A metric value in the trigger's integer units (`ScalingTarget`), and what it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reading {
    pub value: u64,
    /// For people: "12 visible + 3 in flight", "0.75 (query value)".
    pub detail: String,
}

/// Is `t` (a ScaledObject's trigger) of a type kedactl renders?
pub fn is_ours(t: &serde_json::Value) -> bool {
    Kind::ALL.iter().any(|k| t["type"] == k.imp().keda_type())
}

/// Does this app use `kind`?
pub fn uses(app: &App, kind: Kind) -> bool {
    app.trigger == kind
}

/// A kind's section of `apps[]`, for messages: its field, what it holds, a minimal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub field: &'static str,
    pub holds: &'static str,
    pub minimal: &'static str,
    pub example: &'static str,
}

/// Check an app's trigger: its own section, and no section of another kind.
pub fn validate(app: &App, at: &str, out: &mut Vec<Problem>) {
    for kind in Kind::ALL.into_iter().filter(|k| k.imp().has_section(app)) {
        let field = kind.imp().section().map_or("", |s| s.field);
        if kind != app.trigger {
            out.push(Problem::new(
                format!("{at}.{field}"),
                format!(
                    "a `{field}` section is set but the app's trigger is {}",
                    app.trigger.as_str()
                ),
                format!(
                    "set {at}.trigger: {} to use it, or remove the section",
                    kind.as_str()
                ),
            ));
        }
    }
    // The queue has defaults rather than being optional: one that differs from them was
    // written (or set by a flag), and on another trigger it would be silently ignored.
    if app.trigger != Kind::Sqs && app.queue != crate::spec::Queue::default() {
        out.push(Problem::new(
            format!("{at}.queue"),
            format!(
                "a `queue` section is set but the app's trigger is {}",
                app.trigger.as_str()
            ),
            format!("set {at}.trigger: sqs to use it, or remove the section (and --queue flags)"),
        ));
    }
    if app.trigger != Kind::Sqs && app.scaling.kind == crate::spec::ScalingKind::ScaledJob {
        out.push(Problem::new(
            format!("{at}.scaling.kind"),
            format!(
                "a ScaledJob runs one Job per batch of messages; kedactl renders and models it for the sqs trigger only, not {}",
                app.trigger.as_str()
            ),
            "use scaling.kind: ScaledObject, or trigger: sqs",
        ));
    }
    let own = app.trigger.imp();
    if let Some(s) = own.section()
        && !own.has_section(app)
    {
        out.push(Problem::new(
            format!("{at}.{}", s.field),
            format!(
                "trigger: {} needs a `{}` section ({})",
                app.trigger.as_str(),
                s.field,
                s.holds
            ),
            format!("add {} (see {})", s.minimal, s.example),
        ));
    }
    own.validate(app, at, out);
}

/// Format a float as KEDA's metadata string: the shortest text that parses back to it.
pub fn number(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A float as KEDA's milli-quantity (`resource.NewMilliQuantity(int64(value*1000))`).
pub fn milli(v: f64) -> u64 {
    (v * 1000.0).max(0.0).min(i64::MAX as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_keda_parses_them() {
        assert_eq!(number(5.0), "5");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1e-3), "0.001");
        assert_eq!(milli(0.25), 250);
        assert_eq!(milli(1.0), 1000);
        assert_eq!(milli(-1.0), 0);
    }

    #[test]
    fn every_kind_is_registered_under_its_own_name() {
        for k in Kind::ALL {
            assert_eq!(k.imp().kind(), k);
            let json = serde_json::to_value(k).unwrap();
            assert_eq!(json, k.as_str());
        }
    }
}
