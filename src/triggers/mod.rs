//! One module per KEDA trigger kind, and this registry. A kind owns its config section and
//! validation, the AWS resources it creates, its least-privilege policy, its KEDA trigger
//! metadata and how its metric reads as a number for `scale` and `simulate`. Everything else
//! (roles, associations, KEDA, the app's objects, the executor) does not know which kind it is.
//!
//! A kind is one folder, `<kind>/`, in three layers: `config.rs` (its section of `apps[]` and
//! the section's validation, read by `spec`), `mod.rs` (the pure half: the `Trigger` impl, its
//! grant, metadata, resources as descriptions) and `aws.rs` (the AWS half: its metric reader
//! and its resources' calls, bound in `triggers::aws`).
//!
//! Adding a kind touches its folder and one line in each registry:
//! - `kind`: its `Kind` variant, with its arms in `ALL`, `as_str` and `consumable`;
//! - `spec`: its field on `App`, and its line in `spec::sections::section` (how the config
//!   layer finds the section and checks it through `kind::ConfigSection`);
//! - here: its line in `Kind::imp` (the `Trigger` impl);
//! - `triggers::aws`: its line in `readers!` (`Kind::metric`);
//! - when it creates AWS resources: a `kind::resource::Kind` with its arms there and its lines in
//!   `triggers::aws` and `resource`;
//! - a policy template in `policies/`.
//!
//! Plan, execution, `down`, `scale`, `watch` and doctor's KD046–KD049 then need nothing more.

pub mod aws;
pub mod cloudwatch;
pub mod dynamodb;
pub mod dynamodb_streams;
pub mod kind;
pub mod kinesis;
pub mod prometheus;
pub mod resource;
pub mod sqs;

use crate::observed::Observed;
use crate::problem::Problem;
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{Document, RenderError};
use serde::Serialize;
use serde_json::{Map, Value};

pub use kind::{Kind, MetricType, MetricsEndpoint, Section};
pub use resource::Resource;

impl Kind {
    /// The one place a kind is bound to its pure half.
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

    /// The AWS resources this app's trigger creates and owns, as its section names them (SQS
    /// queues have their own pipeline, with attributes and dead-letter queues: `sqs::queues`).
    fn resources(&self, app: &App) -> Vec<Resource> {
        app.section(self.kind())
            .map(|c| c.resources())
            .unwrap_or_default()
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

    /// Where the app's pods serve the metrics its trigger queries, for the pod's `metrics`
    /// port and its `prometheus.io/*` annotations (prometheus: the scraper collects only
    /// annotated pods).
    fn metrics_endpoint(&self, _app: &App) -> Option<MetricsEndpoint> {
        None
    }

    /// The trigger's `metricType` when the config sets one (None: KEDA's AverageValue).
    fn metric_type(&self, _app: &App) -> Option<MetricType> {
        None
    }

    /// Settings KEDA accepts that scale otherwise than their author likely expects, as
    /// problems to print without failing (`at` is `apps[i]`).
    fn warnings(&self, _app: &App, _at: &str, _out: &mut Vec<Problem>) {}

    /// The target per replica and the activation bound, in the metric's integer units.
    fn scaling_target(&self, app: &App) -> ScalingTarget;

    /// The metric's name for people ("messages", "query value").
    fn unit(&self) -> &'static str;

    /// Is the metric a float kedactl counts in thousandths (as KEDA hands it to the HPA), not
    /// a count of whole things (messages, shards, items)?
    fn thousandths(&self) -> bool {
        false
    }

    /// What the app scales on, for people ("SQS queue q", "AMP workspace w: <query>").
    fn source(&self, app: &App) -> String;

    /// What KEDA's session (the identity role, assumed by the operator) calls for this app:
    /// (IAM action, resource ARN). Doctor evaluates the role's policies against each.
    fn needs(&self, app: &App, target: &Target, observed: &Observed)
    -> Vec<(&'static str, String)>;
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

/// The condition that limits a consumer's statement to the apps' own sessions: Pod Identity
/// tags each session with the pod's namespace and service account, and KEDA's chained
/// session carries keda-operator's instead. None with IRSA (no session tags) or
/// roles.scopeConsumers false.
pub fn consumers(spec: &Spec, apps: &[&App]) -> Option<Value> {
    if spec.auth_mode != crate::spec::AuthMode::PodIdentity || !spec.roles.scope_consumers {
        return None;
    }
    let mut namespaces: Vec<&str> = apps.iter().map(|a| a.namespace.as_str()).collect();
    let mut accounts: Vec<&str> = apps.iter().map(|a| a.service_account.as_str()).collect();
    namespaces.sort();
    namespaces.dedup();
    accounts.sort();
    accounts.dedup();
    Some(serde_json::json!({ "namespaces": namespaces, "service_accounts": accounts }))
}

/// What the apps' triggers warn of (`Trigger::warnings`).
pub fn warnings(spec: &Spec) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, app) in spec.apps.iter().enumerate() {
        app.trigger
            .imp()
            .warnings(app, &format!("apps[{i}]"), &mut out);
    }
    out
}

/// Format a float as KEDA's metadata string: the shortest text that parses back to it.
pub fn number(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A float as the milli-units of KEDA v2.20.2's quantity (`quantityFromFloat64` in
/// `pkg/scalers/scaler.go`, behind `GenerateMetricInMili` and `GetMetricTargetMili`):
/// `resource.MustParse(fmt.Sprintf("%.3f", value))`, so rounded to the nearest thousandth (an
/// exact tie to even, as Go's and Rust's `%.3f` both do), and 0 for NaN, ±Inf and negatives.
/// Older KEDA truncated (`int64(value*1000)`): 0.0019 was 1, it is 2.
pub fn milli(v: f64) -> u64 {
    if !v.is_finite() || v <= 0.0 {
        return 0;
    }
    let text = format!("{v:.3}");
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse::<u64>()
        .map_or(i64::MAX as u64, |m| m.min(i64::MAX as u64))
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
    fn milli_units_round_as_keda_v2_20_2_formats_them() {
        // fmt.Sprintf("%.3f", v) of each binary value, as Go prints it.
        for (v, want) in [
            (0.0019, 2),      // truncation gave 1
            (0.2999999, 300), // truncation gave 299
            (0.0025, 3),      // 0.00250000000000000005… rounds up
            (1.0005, 1000),   // 1.000499999999999989… rounds down
            (0.0625, 62),     // an exact tie goes to even
            (0.0635, 64),
            (0.25, 250),
            (1e12, 1_000_000_000_000_000),
        ] {
            assert_eq!(milli(v), want, "{v}");
        }
        // quantityFromFloat64: NaN, ±Inf and negatives are "0".
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0004,
            -0.0,
            -3.0,
        ] {
            assert_eq!(milli(v), 0, "{v}");
        }
        assert_eq!(milli(1e300), i64::MAX as u64, "saturates, never wraps");
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
