//! `apps[].cloudwatch`: the section and its validation.

use crate::problem::Problem;
use crate::triggers::kind::{ConfigSection, MetricType, Section};
use aws_sdk_cloudwatch::types::StandardUnit;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How messages name the section.
pub const SECTION: Section = Section {
    field: "cloudwatch",
    holds: "the metric and targetMetricValue",
    minimal: "cloudwatch: {namespace: <ns>, metricName: <name>, dimensions: {<name>: <value>}, targetMetricValue: <value per replica>}",
    example: "examples/cloudwatch.yaml",
};

/// Largest target kedactl accepts: KEDA hands it to the HPA in milli-units (int64).
pub const MAX_VALUE: f64 = 1e12;
/// Longest metricStatPeriod (a day), in seconds.
pub const MAX_PERIOD: u32 = 86_400;
/// Longest metricCollectionTime (a week), in seconds.
pub const MAX_COLLECTION: u32 = 604_800;
/// Longest metricEndTimeOffset (a day), in seconds.
pub const MAX_END_OFFSET: u32 = 86_400;
/// CloudWatch's limits: dimensions per metric, and the lengths of names and values.
const MAX_DIMENSIONS: usize = 30;
const MAX_NAME: usize = 255;
const MAX_DIMENSION_VALUE: usize = 1024;
const MAX_EXPRESSION: usize = 2048;

/// `apps[].cloudwatch`: a metric (namespace, metricName, dimensions) or a metric math /
/// Metrics Insights `expression`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "CloudWatchTrigger")]
pub struct Config {
    /// The metric's namespace, e.g. AWS/SQS (without `expression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The metric's name, e.g. ApproximateNumberOfMessagesVisible (without `expression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// The metric's dimensions, name to value (KEDA `dimensionName` / `dimensionValue`); at
    /// least one without `expression`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// A metric math or Metrics Insights expression instead of a metric (KEDA then ignores
    /// namespace, metricName, dimensions, metricStat and metricUnit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The metric's target value per replica (KEDA `targetMetricValue`).
    #[schemars(range(min = 0.001, max = 1e12))]
    pub target_metric_value: f64,
    /// Scale from zero only when the metric is above this.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1e12))]
    pub activation_target_metric_value: f64,
    /// The value used when the window holds no datapoint (KEDA requires it; 0 here by default).
    #[serde(default)]
    #[schemars(range(min = -1e12, max = 1e12))]
    pub min_metric_value: f64,
    /// The statistic: Average (default), Sum, Minimum, Maximum, SampleCount, IQM, or a
    /// percentile / trimmed statistic such as p99, tm90, TM(10%:90%).
    #[serde(default = "average")]
    pub metric_stat: String,
    /// Seconds per datapoint: 1, 5, 10, 30, 60 or a multiple of 60 (default 300).
    #[serde(default = "five_minutes")]
    #[schemars(range(min = 1, max = 86400))]
    pub metric_stat_period: u32,
    /// Seconds of history each read asks for, a multiple of metricStatPeriod (default 300).
    #[serde(default = "five_minutes")]
    #[schemars(range(min = 1, max = 604800))]
    pub metric_collection_time: u32,
    /// Seconds to leave out at the end of the window, for metrics that arrive late (default 0).
    #[serde(default)]
    #[schemars(range(min = 0, max = 86400))]
    pub metric_end_time_offset: u32,
    /// Only datapoints in this unit (a CloudWatch standard unit such as Count or Percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_unit: Option<String>,
    /// No datapoint counts as minMetricValue (KEDA's default). `false`: a result without
    /// values is an error, which counts toward `fallback`.
    #[serde(default = "yes")]
    pub ignore_null_values: bool,
    /// How the HPA compares the metric with targetMetricValue (the trigger's `metricType`):
    /// AverageValue (KEDA's default) divides it by the replicas; Value does not, for a metric
    /// that is already per target, such as AWS/ApplicationELB RequestCountPerTarget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<MetricType>,
}

fn average() -> String {
    "Average".into()
}
fn five_minutes() -> u32 {
    300
}
fn yes() -> bool {
    true
}

/// The statistics GetMetricData takes: the five standard ones, IQM, the short percentile and
/// trimmed forms (`p99`, `tm99.9`...) and the range forms (`TM(10%:90%)`, `PR(:300)`...).
pub(super) fn stat_rule(s: &str) -> bool {
    const SHORT: [&str; 5] = ["p", "tm", "wm", "tc", "ts"];
    const RANGE: [&str; 5] = ["PR", "TM", "WM", "TC", "TS"];
    if ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"].contains(&s) {
        return true;
    }
    let percent = |n: &str| {
        let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
        !whole.is_empty()
            && whole.len() <= 3
            && frac.len() <= 10
            && whole
                .chars()
                .chain(frac.chars())
                .all(|c| c.is_ascii_digit())
            && n.parse::<f64>().is_ok_and(|v| (0.0..=100.0).contains(&v))
    };
    let lower = s.to_ascii_lowercase();
    if let Some(n) = SHORT.iter().find_map(|p| lower.strip_prefix(p))
        && n.starts_with(|c: char| c.is_ascii_digit())
    {
        return percent(n);
    }
    RANGE.iter().any(|p| {
        s.strip_prefix(p)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|inner| {
                inner.contains(':')
                    && inner.len() <= 40
                    && inner
                        .chars()
                        .all(|c| c.is_ascii_digit() || ".:%".contains(c))
            })
    })
}

/// KEDA's `checkMetricStatPeriod`.
fn period_rule(p: u32) -> bool {
    match p {
        1 | 5 | 10 | 30 | 60 => true,
        p => p > 60 && p % 60 == 0 && p <= MAX_PERIOD,
    }
}

impl ConfigSection for Config {
    fn validate(&self, _existing: bool, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.cloudwatch.{s}");
        let c = self;
        let mut push = |field: &str, message: String, fix: &str| {
            out.push(Problem::new(f(field), message, fix));
        };
        let name_ok = |s: &str, max: usize| {
            !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
        };
        if let Some(e) = &c.expression {
            if e.trim().is_empty() || e.chars().count() > MAX_EXPRESSION {
                push(
                    "expression",
                    format!("the expression is {} characters long", e.chars().count()),
                    "give a metric math or Metrics Insights expression of 1 to 2048 characters",
                );
            }
            for (field, set) in [
                ("namespace", c.namespace.is_some()),
                ("metricName", c.metric_name.is_some()),
                ("dimensions", !c.dimensions.is_empty()),
                ("metricUnit", c.metric_unit.is_some()),
            ] {
                if set {
                    push(
                        field,
                        format!("KEDA ignores {field} when an expression is given"),
                        "remove it, or remove the expression to read the metric itself",
                    );
                }
            }
        } else {
            for (field, v) in [("namespace", &c.namespace), ("metricName", &c.metric_name)] {
                match v {
                    None => push(
                        field,
                        format!("{field} is required without an expression"),
                        "name the metric (namespace, metricName, dimensions), or give an expression",
                    ),
                    Some(v) if !name_ok(v, MAX_NAME) => push(
                        field,
                        format!("{v:?} is not a valid CloudWatch {field}"),
                        "use 1 to 255 characters, no control characters",
                    ),
                    Some(_) => {}
                }
            }
            if c.dimensions.is_empty() || c.dimensions.len() > MAX_DIMENSIONS {
                push(
                    "dimensions",
                    format!("{} dimensions are given", c.dimensions.len()),
                    "give 1 to 30 dimensions (KEDA requires dimensionName), e.g. {QueueName: orders}",
                );
            }
            for (k, v) in &c.dimensions {
                // KEDA splits both lists on `;` and trims each element.
                let fits =
                    |s: &str, max: usize| name_ok(s, max) && !s.contains(';') && s.trim() == s;
                if !fits(k, MAX_NAME) || !fits(v, MAX_DIMENSION_VALUE) {
                    push(
                        &format!("dimensions.{k}"),
                        format!("dimension {k:?} = {v:?} cannot be passed to KEDA"),
                        "use a name of 1 to 255 and a value of 1 to 1024 characters, without `;` (KEDA's separator) or leading/trailing spaces",
                    );
                }
            }
            if let Some(u) = &c.metric_unit
                && !StandardUnit::values().contains(&u.as_str())
            {
                push(
                    "metricUnit",
                    format!("{u:?} is not a CloudWatch standard unit"),
                    "use one of Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None",
                );
            }
            if !stat_rule(&c.metric_stat) {
                push(
                    "metricStat",
                    format!("{:?} is not a CloudWatch statistic", c.metric_stat),
                    "use Average, Sum, Minimum, Maximum, SampleCount, IQM, or a percentile such as p99",
                );
            }
        }
        let bounded = |v: f64, min: f64| v.is_finite() && v >= min && v <= MAX_VALUE;
        if !bounded(c.target_metric_value, 0.001) {
            push(
                "targetMetricValue",
                format!(
                    "{} is not a usable target value per replica",
                    c.target_metric_value
                ),
                "use a number from 0.001 to 1e12 (KEDA compares in thousandths)",
            );
        }
        if !bounded(c.activation_target_metric_value, 0.0) {
            push(
                "activationTargetMetricValue",
                format!("{} is out of range", c.activation_target_metric_value),
                "use a number from 0 to 1e12",
            );
        }
        if !bounded(c.min_metric_value, -MAX_VALUE) {
            push(
                "minMetricValue",
                format!("{} is out of range", c.min_metric_value),
                "use a number from -1e12 to 1e12",
            );
        }
        let period = c.metric_stat_period;
        if !period_rule(period) {
            push(
                "metricStatPeriod",
                format!("{period} s is not a CloudWatch period"),
                "use 1, 5, 10, 30, 60 or a multiple of 60 up to 86400 seconds",
            );
        }
        let collection = c.metric_collection_time;
        if collection < period
            || !collection.is_multiple_of(period.max(1))
            || collection > MAX_COLLECTION
        {
            // KEDA accepts 0, but an empty window is refused by GetMetricData on every read.
            push(
                "metricCollectionTime",
                format!("{collection} s is not a window of whole periods of {period} s"),
                "use a multiple of metricStatPeriod, at least one period and at most 604800 seconds",
            );
        }
        if c.metric_end_time_offset > MAX_END_OFFSET {
            push(
                "metricEndTimeOffset",
                format!("{} s is out of range", c.metric_end_time_offset),
                "use 0 to 86400 seconds",
            );
        }
    }
}
