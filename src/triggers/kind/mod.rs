//! The config layer's view of the trigger kinds: which kinds there are, and the plain data a
//! kind's config section needs (`MetricType`, `Section`, the resources a section names).
//! Nothing here knows a kind's policies or calls (those are `triggers` and `triggers::aws`).

pub mod resource;

use crate::problem::Problem;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

    /// May the app say `consume: true`: does the kind's policy hold a consumer's grant?
    pub fn consumable(self) -> bool {
        matches!(self, Kind::Kinesis | Kind::Dynamodb | Kind::DynamodbStreams)
    }
}

/// How the HPA compares a trigger's metric with its target (the trigger's `metricType`, KEDA
/// `GetMetricTargetType`; AverageValue when unset). AverageValue divides the metric by the
/// replicas (`GetExternalPerPodMetricReplicas`: replicas = ceil(metric / target)); Value does
/// not (`GetExternalMetricReplicas`: replicas = ceil(current × metric / target)), for a metric
/// that is already per pod or per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum MetricType {
    #[default]
    AverageValue,
    Value,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::AverageValue => "AverageValue",
            MetricType::Value => "Value",
        }
    }
}

/// A container port serving Prometheus metrics at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricsEndpoint {
    pub port: u16,
    pub path: String,
}

/// A kind's section of `apps[]`, for messages: its field, what it holds, a minimal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub field: &'static str,
    pub holds: &'static str,
    pub minimal: &'static str,
    pub example: &'static str,
}

/// What the config layer asks of a kind's section (`triggers::<kind>::config::Config`).
pub trait ConfigSection {
    /// Problems in the section (`at` is `apps[i]`); `existing` is the app's `existing: true`
    /// (its pods are its chart's).
    fn validate(&self, existing: bool, at: &str, out: &mut Vec<Problem>);

    /// The AWS resources the section names (created and owned, or existing and only read).
    fn resources(&self) -> Vec<resource::Resource> {
        Vec::new()
    }
}
