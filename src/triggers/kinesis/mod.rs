//! `trigger: kinesis` — KEDA's `aws-kinesis-stream` scaler (v2.20.2,
//! `pkg/scalers/aws_kinesis_stream_scaler.go`): one DescribeStreamSummary by stream name, whose
//! `OpenShardCount` is the metric; the target is `shardCount` open shards per replica (an
//! integer target, `GetMetricTarget`), active above `activationShardCount`. The stream is one
//! kedactl creates (tagged, deleted with the stack) or an existing one it only reads.

pub mod aws;
pub mod config;

use super::{Kind, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{self, Document, RenderError};
use serde_json::{Map, Value, json};

pub use config::{Config, DEFAULT_SHARD_COUNT, MAX_SHARDS, Stream, stream_name};

/// The permission policy kedactl writes on an identity role whose apps scale on Kinesis.
pub const POLICY: &str = "kedactl-kinesis-read";

pub struct Kinesis;

fn config(app: &App) -> Option<&Config> {
    app.kinesis.as_ref()
}

pub fn stream_arn(target: &Target, name: &str) -> String {
    target.arn("kinesis", &format!("stream/{name}"))
}

impl Trigger for Kinesis {
    fn kind(&self) -> Kind {
        Kind::Kinesis
    }

    fn keda_type(&self) -> &'static str {
        "aws-kinesis-stream"
    }

    fn policy(
        &self,
        spec: &Spec,
        apps: &[&App],
        target: &Target,
        _observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        let arns = |apps: &[&App]| {
            let mut arns: Vec<String> = apps
                .iter()
                .filter_map(|a| config(a))
                .map(|c| stream_arn(target, stream_name(c)))
                .collect();
            arns.sort();
            arns.dedup();
            arns
        };
        let consuming: Vec<&App> = apps.iter().copied().filter(|a| a.consume).collect();
        let ctx = json!({
            "stream_arns": arns(apps),
            "consume_arns": arns(&consuming),
            "consumers": super::consumers(spec, &consuming),
        });
        templates::policy("kinesis-read.json", POLICY, &ctx).map(Some)
    }

    fn metadata(&self, app: &App, target: &Target, _observed: &Observed) -> Map<String, Value> {
        let c = config(app).expect("validated: a kinesis app has its section");
        let mut m = Map::new();
        m.insert("streamName".into(), stream_name(c).into());
        m.insert("shardCount".into(), c.shard_count.to_string().into());
        m.insert(
            "activationShardCount".into(),
            c.activation_shard_count.to_string().into(),
        );
        m.insert("awsRegion".into(), target.region.clone().into());
        m
    }

    /// The app reads the stream's records (KINESIS_STREAM_NAME) itself, as the identity role: the grants it needs
    /// beyond KEDA's read are the user's to attach to that role.
    fn consumes(&self) -> bool {
        true
    }

    fn env(&self, app: &App, _target: &Target) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| vec![("KINESIS_STREAM_NAME", stream_name(c).to_string())])
            .unwrap_or_default()
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        let c = config(app).expect("validated: a kinesis app has its section");
        ScalingTarget {
            per_replica: u64::from(c.shard_count.max(1)),
            activation: u64::from(c.activation_shard_count),
        }
    }

    fn unit(&self) -> &'static str {
        "open shards"
    }

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => format!("Kinesis stream {}", stream_name(c)),
            None => "kinesis (no section)".into(),
        }
    }

    fn needs(
        &self,
        app: &App,
        target: &Target,
        _observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| {
                vec![(
                    "kinesis:DescribeStreamSummary",
                    stream_arn(target, stream_name(c)),
                )]
            })
            .unwrap_or_default()
    }
}

/// The shards a stream is created with, from its `Resource::settings` (None: on demand).
pub fn shards(settings: &serde_json::Value) -> Option<u32> {
    settings["shards"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
}

pub fn ready(status: &str) -> Option<bool> {
    match status {
        "ACTIVE" | "UPDATING" => Some(true),
        "CREATING" => None,
        _ => Some(false),
    }
}

/// AddTagsToStream, ten tags a call.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::{Resource, resource};

    fn app(stream: Stream) -> App {
        App {
            trigger: Kind::Kinesis,
            kinesis: Some(Config {
                stream,
                shard_count: 2,
                activation_shard_count: 0,
            }),
            ..App::default()
        }
    }

    fn named(name: &str, shards: Option<u32>) -> Stream {
        Stream {
            name: Some(name.into()),
            shards,
            existing: None,
        }
    }

    fn existing(name: &str) -> Stream {
        Stream {
            name: None,
            shards: None,
            existing: Some(name.into()),
        }
    }

    fn problems(app: &App) -> Vec<String> {
        let mut out = Vec::new();
        crate::spec::sections::validate(app, "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn the_stream_is_named_once_and_only_a_created_one_is_sized() {
        assert!(problems(&app(named("orders", Some(2)))).is_empty());
        assert!(problems(&app(named("orders", None))).is_empty());
        assert!(problems(&app(existing("orders.v2_x-1"))).is_empty());
        let both = Stream {
            name: Some("a".into()),
            shards: None,
            existing: Some("b".into()),
        };
        assert_eq!(problems(&app(both)), ["apps[0].kinesis.stream"]);
        let neither = Stream {
            name: None,
            shards: None,
            existing: None,
        };
        assert_eq!(problems(&app(neither)), ["apps[0].kinesis.stream"]);
        let mut sized_existing = existing("orders");
        sized_existing.shards = Some(2);
        assert_eq!(
            problems(&app(sized_existing)),
            ["apps[0].kinesis.stream.shards"]
        );
        assert_eq!(
            problems(&app(named("orders/1", None))),
            ["apps[0].kinesis.stream.name"]
        );
        assert_eq!(
            problems(&app(existing(&"s".repeat(129)))),
            ["apps[0].kinesis.stream.existing"]
        );
        assert_eq!(
            problems(&app(existing(""))),
            ["apps[0].kinesis.stream.existing"]
        );
    }

    #[test]
    fn every_number_is_bounded() {
        for shards in [0, MAX_SHARDS + 1] {
            assert_eq!(
                problems(&app(named("s", Some(shards)))),
                ["apps[0].kinesis.stream.shards"]
            );
        }
        assert!(problems(&app(named("s", Some(MAX_SHARDS)))).is_empty());
        let mut a = app(named("s", None));
        let c = a.kinesis.as_mut().unwrap();
        c.shard_count = 0;
        c.activation_shard_count = MAX_SHARDS + 1;
        assert_eq!(
            problems(&a),
            [
                "apps[0].kinesis.shardCount",
                "apps[0].kinesis.activationShardCount"
            ]
        );
        a.kinesis.as_mut().unwrap().shard_count = MAX_SHARDS + 1;
        assert!(problems(&a).contains(&"apps[0].kinesis.shardCount".to_string()));
    }

    #[test]
    fn a_missing_section_and_a_stray_one_are_named() {
        let mut a = App {
            trigger: Kind::Kinesis,
            ..App::default()
        };
        assert_eq!(problems(&a), ["apps[0].kinesis"]);
        a = app(named("s", None));
        a.trigger = Kind::Sqs;
        assert_eq!(problems(&a), ["apps[0].kinesis"]);
    }

    #[test]
    fn the_config_reads_with_keda_defaults_and_refuses_unknown_fields() {
        let c: Config = serde_yaml::from_str("stream: {name: orders}").unwrap();
        assert_eq!(c.shard_count, DEFAULT_SHARD_COUNT);
        assert_eq!(c.activation_shard_count, 0);
        assert!(serde_yaml::from_str::<Config>("stream: {name: o}\nshardcount: 3").is_err());
        assert!(serde_yaml::from_str::<Config>("stream: {name: o, size: 3}").is_err());
    }

    #[test]
    fn metadata_policy_and_needs_name_the_stream() {
        let target = Target::new("eu-west-1", Some("123456789012"));
        let mut a = app(named("orders", Some(3)));
        a.kinesis.as_mut().unwrap().activation_shard_count = 1;
        let observed = Observed::default();
        let m = Kinesis.metadata(&a, &target, &observed);
        assert_eq!(
            Value::Object(m),
            json!({
                "streamName": "orders",
                "shardCount": "2",
                "activationShardCount": "1",
                "awsRegion": "eu-west-1",
            })
        );
        let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
        let mut b = app(existing("clicks"));
        b.deployment = "b".into();
        let policy = Kinesis
            .policy(&Spec::default(), &[&a, &b, &a], &target, &observed)
            .unwrap()
            .unwrap();
        assert_eq!(policy.name, POLICY);
        assert_eq!(
            policy.body["Statement"],
            json!([{
                "Sid": "KedaReadsOpenShards",
                "Effect": "Allow",
                "Action": "kinesis:DescribeStreamSummary",
                "Resource": [
                    "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
                    arn,
                ],
            }])
        );
        assert_eq!(
            Kinesis.needs(&a, &target, &observed),
            [("kinesis:DescribeStreamSummary", arn.to_string())]
        );
        assert_eq!(
            Kinesis.scaling_target(&a),
            ScalingTarget {
                per_replica: 2,
                activation: 1
            }
        );
        assert_eq!(
            Kinesis.resources(&a),
            [Resource {
                kind: resource::Kind::KinesisStream,
                name: "orders".into(),
                managed: true,
                settings: serde_json::json!({ "shards": 3 }),
            }]
        );
        assert!(!Kinesis.resources(&b)[0].managed);
        assert_eq!(
            Kinesis.env(&b, &target),
            [("KINESIS_STREAM_NAME", "clicks".to_string())]
        );
    }

    #[test]
    fn a_reshard_is_usable_and_a_deletion_is_not() {
        assert_eq!(ready("ACTIVE"), Some(true));
        assert_eq!(ready("UPDATING"), Some(true));
        assert_eq!(ready("CREATING"), None);
        assert_eq!(ready("DELETING"), Some(false));
    }
}
