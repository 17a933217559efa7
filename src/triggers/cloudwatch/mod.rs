//! `trigger: cloudwatch` — KEDA's `aws-cloudwatch` scaler (v2.20.2,
//! `pkg/scalers/aws_cloudwatch_scaler.go`): one GetMetricData over the window
//! `[end - metricCollectionTime, end)`, `end` = now - metricEndTimeOffset truncated to
//! metricStatPeriod, newest first; the metric is the first value of the first result, or
//! `minMetricValue` when there is none (an error instead when `ignoreNullValues` is false and the
//! result came back empty). The value is a float, handed to the HPA in milli-units like
//! prometheus'. It creates nothing: CloudWatch metrics exist once someone puts them.

pub mod aws;
pub mod config;

use super::{Kind, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::problem::Problem;
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{self, Document, RenderError};
use aws_sdk_cloudwatch::types::{
    Dimension, Metric as CwMetric, MetricDataQuery, MetricStat, StandardUnit,
};
use serde_json::{Map, Value, json};
use std::time::SystemTime;

pub use config::{Config, MAX_COLLECTION, MAX_END_OFFSET, MAX_PERIOD, MAX_VALUE};

/// The permission policy kedactl writes on an identity role whose apps scale on CloudWatch.
pub const POLICY: &str = "kedactl-cloudwatch-read";
/// Seconds from Go's zero time (year 1) to the Unix epoch: `time.Truncate` rounds down to a
/// multiple of the period counted from year 1, which differs from the epoch's for periods that
/// do not divide a day.
const GO_ZERO_TO_UNIX: i64 = 62_135_596_800;

/// Metrics CloudWatch has already divided by the targets behind them: as an AverageValue the
/// HPA divides them by the replicas again, and the replicas settle near √(total / target)
/// instead of total / target.
const PER_TARGET: [(&str, &str); 1] = [("AWS/ApplicationELB", "RequestCountPerTarget")];

/// Is the app's metric one of `PER_TARGET` (by name, or named in its expression)?
fn per_target(c: &Config) -> Option<&'static str> {
    PER_TARGET.iter().find_map(|(ns, name)| {
        let named = c.namespace.as_deref() == Some(ns) && c.metric_name.as_deref() == Some(name);
        let in_expression = c.expression.as_deref().is_some_and(|e| e.contains(name));
        (named || in_expression).then_some(*name)
    })
}

pub struct CloudWatch;

fn config(app: &App) -> Option<&Config> {
    app.cloudwatch.as_ref()
}

/// `computeQueryWindow`: `end = (now - offset).Truncate(period)`, `start = end - collection`,
/// in Unix seconds.
pub fn window(now: SystemTime, period: u32, offset: u32, collection: u32) -> (i64, i64) {
    let now = match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    };
    let shifted = now - i64::from(offset);
    let period = i64::from(period.max(1));
    let end = shifted - (shifted + GO_ZERO_TO_UNIX).rem_euclid(period);
    (end - i64::from(collection), end)
}

impl Trigger for CloudWatch {
    fn kind(&self) -> Kind {
        Kind::CloudWatch
    }

    fn keda_type(&self) -> &'static str {
        "aws-cloudwatch"
    }

    /// `cloudwatch:GetMetricData` has no resource-level permissions: see
    /// policies/cloudwatch-read.json.
    fn policy(
        &self,
        _spec: &Spec,
        _apps: &[&App],
        _target: &Target,
        _observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        templates::policy("cloudwatch-read.json", POLICY, &json!({})).map(Some)
    }

    fn metric_type(&self, app: &App) -> Option<super::MetricType> {
        config(app).and_then(|c| c.metric_type)
    }

    fn warnings(&self, app: &App, at: &str, out: &mut Vec<Problem>) {
        let Some(c) = config(app) else {
            return;
        };
        if c.metric_type.unwrap_or_default() != super::MetricType::AverageValue {
            return;
        }
        if let Some(name) = per_target(c) {
            out.push(Problem::new(
                format!("{at}.cloudwatch.metricType"),
                format!(
                    "{name} is already divided by the load balancer's targets, and as an AverageValue (KEDA's default) the HPA divides it by the replicas again: they settle near the square root of total / targetMetricValue, and flap"
                ),
                "set metricType: Value, so the HPA scales by metric / targetMetricValue",
            ));
        }
    }

    fn metadata(&self, app: &App, target: &Target, _observed: &Observed) -> Map<String, Value> {
        let c = config(app).expect("validated: a cloudwatch app has its section");
        let mut m = Map::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.into(), v.into());
        };
        match &c.expression {
            Some(e) => put("expression", e.clone()),
            None => {
                put("namespace", c.namespace.clone().unwrap_or_default());
                put("metricName", c.metric_name.clone().unwrap_or_default());
                let names: Vec<&str> = c.dimensions.keys().map(String::as_str).collect();
                let values: Vec<&str> = c.dimensions.values().map(String::as_str).collect();
                put("dimensionName", names.join(";"));
                put("dimensionValue", values.join(";"));
                put("metricStat", c.metric_stat.clone());
                if let Some(u) = &c.metric_unit {
                    put("metricUnit", u.clone());
                }
            }
        }
        put("targetMetricValue", super::number(c.target_metric_value));
        put(
            "activationTargetMetricValue",
            super::number(c.activation_target_metric_value),
        );
        put("minMetricValue", super::number(c.min_metric_value));
        put("metricStatPeriod", c.metric_stat_period.to_string());
        put("metricCollectionTime", c.metric_collection_time.to_string());
        put("metricEndTimeOffset", c.metric_end_time_offset.to_string());
        put("ignoreNullValues", c.ignore_null_values.to_string());
        put("awsRegion", target.region.clone());
        m
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        let c = config(app).expect("validated: a cloudwatch app has its section");
        ScalingTarget {
            per_replica: super::milli(c.target_metric_value).max(1),
            activation: super::milli(c.activation_target_metric_value),
        }
    }

    fn thousandths(&self) -> bool {
        true
    }

    fn unit(&self) -> &'static str {
        "metric value (thousandths)"
    }

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => format!("CloudWatch {}", describe(c)),
            None => "cloudwatch (no section)".into(),
        }
    }

    fn needs(
        &self,
        _app: &App,
        _target: &Target,
        _observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        vec![("cloudwatch:GetMetricData", "*".into())]
    }
}

/// The metric for people: `AWS/SQS ApproximateNumberOfMessagesVisible{QueueName=q} Average`.
pub fn describe(c: &Config) -> String {
    match &c.expression {
        Some(e) => format!("expression {e}"),
        None => {
            let dims: Vec<String> = c
                .dimensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "{} {}{{{}}} {}",
                c.namespace.as_deref().unwrap_or_default(),
                c.metric_name.as_deref().unwrap_or_default(),
                dims.join(","),
                c.metric_stat
            )
        }
    }
}

/// The one query KEDA's `createCloudwatchMetricDataInput` builds (`c1` for a metric, `q1` for
/// an expression).
pub fn query(c: &Config) -> MetricDataQuery {
    let period = i32::try_from(c.metric_stat_period).unwrap_or(i32::MAX);
    match &c.expression {
        Some(e) => MetricDataQuery::builder()
            .id("q1")
            .expression(e)
            .period(period)
            .build(),
        None => {
            let dimensions = c
                .dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect();
            let metric = CwMetric::builder()
                .namespace(c.namespace.clone().unwrap_or_default())
                .metric_name(c.metric_name.clone().unwrap_or_default())
                .set_dimensions(Some(dimensions))
                .build();
            let stat = MetricStat::builder()
                .metric(metric)
                .period(period)
                .stat(&c.metric_stat)
                .set_unit(c.metric_unit.as_deref().map(StandardUnit::from))
                .build();
            MetricDataQuery::builder()
                .id("c1")
                .metric_stat(stat)
                .return_data(true)
                .build()
        }
    }
}

/// `GetCloudwatchMetrics`' rules on the answer: the first value of the first result (the
/// newest, scanning descending); none: `minMetricValue`, unless the first result came back
/// without values and `ignoreNullValues` is false.
pub fn value(first_values: Option<&[f64]>, c: &Config) -> Result<Option<f64>, String> {
    match first_values {
        Some([]) if !c.ignore_null_values => {
            Err("empty metric data received, ignoreNullValues is false, returning error".into())
        }
        Some([v, ..]) => Ok(Some(*v)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::stat_rule;
    use std::collections::BTreeMap;

    fn section() -> Config {
        serde_yaml::from_str(
            "namespace: AWS/SQS\nmetricName: ApproximateNumberOfMessagesVisible\ndimensions: {QueueName: orders}\ntargetMetricValue: 2.5",
        )
        .unwrap()
    }

    fn app(c: Config) -> App {
        App {
            trigger: Kind::CloudWatch,
            cloudwatch: Some(c),
            ..App::default()
        }
    }

    fn problems(c: Config) -> Vec<String> {
        let mut out = Vec::new();
        crate::spec::sections::validate(&app(c), "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    fn warned(c: Config) -> Vec<String> {
        let mut out = Vec::new();
        CloudWatch.warnings(&app(c), "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_per_target_metric_as_an_average_value_is_warned_of() {
        let alb: Config = serde_yaml::from_str(
            "namespace: AWS/ApplicationELB\nmetricName: RequestCountPerTarget\ndimensions: {TargetGroup: targetgroup/web/1}\ntargetMetricValue: 500",
        )
        .unwrap();
        assert_eq!(warned(alb.clone()), ["apps[0].cloudwatch.metricType"]);
        let explicit = Config {
            metric_type: Some(crate::triggers::MetricType::AverageValue),
            ..alb.clone()
        };
        assert_eq!(warned(explicit), ["apps[0].cloudwatch.metricType"]);
        let value = Config {
            metric_type: Some(crate::triggers::MetricType::Value),
            ..alb
        };
        assert!(warned(value).is_empty());
        assert!(warned(section()).is_empty(), "a queue depth is a total");
    }

    #[test]
    fn the_metric_type_is_the_triggers_and_absent_when_unset() {
        let target = Target::new("us-east-1", Some("123456789012"));
        let yaml = |extra: &str| {
            format!(
                "cluster: demo\nregion: us-east-1\napps:\n  - trigger: cloudwatch\n    cloudwatch:\n      namespace: AWS/SQS\n      metricName: M\n      dimensions: {{QueueName: q}}\n      targetMetricValue: 5\n{extra}"
            )
        };
        let trigger = |yaml: String| {
            let mut spec = crate::spec::parse(yaml.as_bytes(), "t").unwrap();
            spec.account = target.account.clone();
            let d = crate::render::desired(&spec).unwrap();
            let so = d
                .manifests
                .iter()
                .find(|m| m["kind"] == "ScaledObject")
                .unwrap()
                .clone();
            so["spec"]["triggers"][0].clone()
        };
        // KEDA's GetMetricTargetType: unset is AverageValue.
        assert!(trigger(yaml("")).get("metricType").is_none());
        assert_eq!(
            trigger(yaml("      metricType: Value\n"))["metricType"],
            "Value"
        );
        assert_eq!(
            trigger(yaml("      metricType: AverageValue\n"))["metricType"],
            "AverageValue"
        );
        assert!(
            crate::spec::parse(yaml("      metricType: Utilization\n").as_bytes(), "t").is_err()
        );
    }

    /// RequestCountPerTarget is total / replicas. With the example's Value target the HPA
    /// settles at total / 500 (`GetExternalMetricReplicas`); KEDA's default AverageValue would
    /// divide by the replicas again (`GetExternalPerPodMetricReplicas`) and settle near
    /// √(total / 500).
    #[test]
    fn the_example_scales_a_per_target_metric_to_total_over_target() {
        let spec = crate::spec::parse(
            include_str!("../../../examples/cloudwatch.yaml").as_bytes(),
            "cw",
        )
        .unwrap();
        let app = &spec.apps[0];
        let settle = |p: &crate::scaling::Params| {
            let mut s = crate::scaling::State::new(1, 0);
            for i in 0..200u64 {
                // 10 000 requests a minute spread over the replicas.
                let per_target = 10_000.0 / f64::from(s.replicas);
                crate::scaling::hpa_sync(p, &mut s, i * 15, crate::triggers::milli(per_target));
            }
            s.replicas
        };
        let p = crate::scaling::Params::from_app(app);
        assert!(p.value_target);
        assert_eq!(settle(&p), 20, "10 000 / 500");
        let average = crate::scaling::Params {
            value_target: false,
            ..p
        };
        assert!(settle(&average) <= 5, "√20 ≈ 4.5: the bug Value avoids");
    }

    #[test]
    fn keda_defaults_fill_what_is_not_given() {
        let c = section();
        assert_eq!(c.metric_stat, "Average");
        assert_eq!((c.metric_stat_period, c.metric_collection_time), (300, 300));
        assert_eq!(c.metric_end_time_offset, 0);
        assert_eq!(c.min_metric_value, 0.0);
        assert!(c.ignore_null_values);
        assert!(problems(c).is_empty());
        assert!(
            serde_yaml::from_str::<Config>("expression: x\ntargetMetricValue: 1\nmetricname: m")
                .is_err()
        );
    }

    #[test]
    fn a_metric_needs_its_name_and_a_dimension_and_an_expression_stands_alone() {
        let mut c = section();
        c.namespace = None;
        c.dimensions.clear();
        assert_eq!(
            problems(c),
            [
                "apps[0].cloudwatch.namespace",
                "apps[0].cloudwatch.dimensions"
            ]
        );
        let mut c = section();
        c.expression = Some("SELECT AVG(CPUUtilization) FROM \"AWS/EC2\"".into());
        c.metric_unit = Some("Count".into());
        assert_eq!(
            problems(c.clone()),
            [
                "apps[0].cloudwatch.namespace",
                "apps[0].cloudwatch.metricName",
                "apps[0].cloudwatch.dimensions",
                "apps[0].cloudwatch.metricUnit"
            ]
        );
        c.namespace = None;
        c.metric_name = None;
        c.dimensions.clear();
        c.metric_unit = None;
        assert!(problems(c.clone()).is_empty());
        c.expression = Some(" ".into());
        assert_eq!(problems(c), ["apps[0].cloudwatch.expression"]);
    }

    #[test]
    fn dimensions_units_and_statistics_are_what_keda_and_cloudwatch_take() {
        let mut c = section();
        c.dimensions.insert("A".into(), "x;y".into());
        c.dimensions.insert(" B".into(), "v".into());
        c.metric_unit = Some("Messages".into());
        c.metric_stat = "p100.5".into();
        assert_eq!(
            problems(c),
            [
                "apps[0].cloudwatch.dimensions. B",
                "apps[0].cloudwatch.dimensions.A",
                "apps[0].cloudwatch.metricUnit",
                "apps[0].cloudwatch.metricStat"
            ]
        );
        for ok in [
            "Sum",
            "SampleCount",
            "IQM",
            "p99",
            "p99.9",
            "tm90",
            "TM(10%:90%)",
            "PR(:300)",
        ] {
            assert!(stat_rule(ok), "{ok}");
        }
        for bad in ["avg", "p", "p101", "TM(10%)", "TM10%:90%", "max"] {
            assert!(!stat_rule(bad), "{bad}");
        }
        let mut c = section();
        c.metric_unit = Some("Bytes/Second".into());
        assert!(problems(c).is_empty());
    }

    #[test]
    fn every_number_is_bounded() {
        let mut c = section();
        c.target_metric_value = 0.0;
        c.activation_target_metric_value = f64::NAN;
        c.min_metric_value = -2e12;
        c.metric_stat_period = 45;
        c.metric_end_time_offset = MAX_END_OFFSET + 1;
        assert_eq!(
            problems(c),
            [
                "apps[0].cloudwatch.targetMetricValue",
                "apps[0].cloudwatch.activationTargetMetricValue",
                "apps[0].cloudwatch.minMetricValue",
                "apps[0].cloudwatch.metricStatPeriod",
                "apps[0].cloudwatch.metricCollectionTime",
                "apps[0].cloudwatch.metricEndTimeOffset"
            ]
        );
        for (period, collection, ok) in [
            (60, 600, true),
            (1, 1, true),
            (30, 90, true),
            (120, 60, false),
            (60, 0, false),
            (300, 450, false),
            (MAX_PERIOD, MAX_PERIOD, true),
            (MAX_PERIOD + 60, MAX_PERIOD + 60, false),
            (60, MAX_COLLECTION + 60, false),
            (0, 0, false),
        ] {
            let mut c = section();
            c.metric_stat_period = period;
            c.metric_collection_time = collection;
            assert_eq!(problems(c).is_empty(), ok, "{period} {collection}");
        }
    }

    #[test]
    fn the_window_ends_on_a_period_counted_from_gos_zero_time() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(s * 1000 + 750);
        // 1_700_000_123 s: 5-minute periods end at ...000 (a period that divides a day).
        assert_eq!(
            window(at(1_700_000_123), 300, 0, 600),
            (1_699_999_500, 1_700_000_100)
        );
        // The offset moves the end back before it is truncated.
        assert_eq!(
            window(at(1_700_000_123), 60, 120, 60),
            (1_699_999_920, 1_699_999_980)
        );
        // 7 minutes does not divide a day: Go counts from year 1, not from 1970.
        let (_, end) = window(at(1_700_000_123), 420, 0, 420);
        assert_eq!((end + GO_ZERO_TO_UNIX) % 420, 0);
        assert_ne!(end % 420, 0);
        assert!(end <= 1_700_000_123 && end > 1_700_000_123 - 420);
    }

    #[test]
    fn the_answer_is_read_with_kedas_rules() {
        let mut c = section();
        c.min_metric_value = 1.5;
        assert_eq!(value(Some(&[7.0, 3.0]), &c), Ok(Some(7.0)), "the newest");
        assert_eq!(value(Some(&[]), &c), Ok(None), "ignored: minMetricValue");
        assert_eq!(value(None, &c), Ok(None));
        c.ignore_null_values = false;
        assert!(value(Some(&[]), &c).is_err());
        // No result at all is not "empty values" for KEDA: minMetricValue even then.
        assert_eq!(value(None, &c), Ok(None));
    }

    #[test]
    fn metadata_is_every_field_as_keda_reads_it() {
        let target = Target::new("eu-west-1", Some("123456789012"));
        let mut c = section();
        c.dimensions.insert("Env".into(), "prod".into());
        c.metric_unit = Some("Count".into());
        let m = CloudWatch.metadata(&app(c.clone()), &target, &Observed::default());
        assert_eq!(
            Value::Object(m),
            json!({
                "namespace": "AWS/SQS",
                "metricName": "ApproximateNumberOfMessagesVisible",
                "dimensionName": "Env;QueueName",
                "dimensionValue": "prod;orders",
                "metricStat": "Average",
                "metricUnit": "Count",
                "targetMetricValue": "2.5",
                "activationTargetMetricValue": "0",
                "minMetricValue": "0",
                "metricStatPeriod": "300",
                "metricCollectionTime": "300",
                "metricEndTimeOffset": "0",
                "ignoreNullValues": "true",
                "awsRegion": "eu-west-1",
            })
        );
        let e = Config {
            namespace: None,
            metric_name: None,
            dimensions: BTreeMap::new(),
            metric_unit: None,
            expression: Some("SUM(METRICS())".into()),
            ..c
        };
        let m = CloudWatch.metadata(&app(e.clone()), &target, &Observed::default());
        assert_eq!(m["expression"], "SUM(METRICS())");
        assert!(!m.contains_key("namespace") && !m.contains_key("metricStat"));
        assert_eq!(
            CloudWatch.scaling_target(&app(e.clone())),
            ScalingTarget {
                per_replica: 2500,
                activation: 0
            }
        );
        let q = query(&e);
        assert_eq!(
            (q.id(), q.expression(), q.period()),
            (Some("q1"), Some("SUM(METRICS())"), Some(300))
        );
        assert!(
            q.return_data().is_none(),
            "KEDA leaves ReturnData unset for an expression"
        );
        let q = query(&section());
        let stat = q.metric_stat().unwrap();
        assert_eq!((q.id(), q.return_data()), (Some("c1"), Some(true)));
        assert_eq!(
            (stat.stat(), stat.period(), stat.unit()),
            (Some("Average"), Some(300), None)
        );
    }

    #[test]
    fn the_grant_is_get_metric_data_alone_on_every_resource() {
        let target = Target::new("us-east-1", Some("123456789012"));
        let a = app(section());
        let p = CloudWatch
            .policy(&Spec::default(), &[&a], &target, &Observed::default())
            .unwrap()
            .unwrap();
        assert_eq!(p.name, POLICY);
        assert_eq!(
            p.body["Statement"],
            json!([{
                "Sid": "KedaReadsMetricData",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricData",
                "Resource": "*",
            }])
        );
        assert!(crate::render::policy::overly_broad(&p.body).is_empty());
        assert_eq!(
            CloudWatch.needs(&a, &target, &Observed::default()),
            [("cloudwatch:GetMetricData", "*".to_string())]
        );
    }
}
