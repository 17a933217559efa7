//! `trigger: dynamodb-streams` — KEDA's `aws-dynamodb-streams` scaler (v2.20.2,
//! `pkg/scalers/aws_dynamodb_streams_scaler.go`): the number of shards of a table's stream, per
//! replica (`shardCount`, default 2). When the scaler starts it reads the table's
//! `LatestStreamArn` once (DescribeTable; a table without one is an error), then each poll pages
//! through DescribeStream by `ExclusiveStartShardId` and counts every shard listed — closed
//! shards (with an ending sequence number, listed for 24 hours) count as much as open ones.

pub mod aws;
pub mod config;

use super::dynamodb::table;
use super::{Kind, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{self, Document, RenderError};
use serde_json::{Map, Value, json};

pub use config::{Config, DEFAULT_VIEW};

/// The permission policy kedactl writes on an identity role whose apps scale on a stream.
pub const POLICY: &str = "kedactl-dynamodb-streams-read";
/// Most DescribeStream pages one read follows (100 shards a page).
pub const MAX_PAGES: usize = 10_000;

pub struct DynamodbStreams;

fn config(app: &App) -> Option<&Config> {
    app.dynamodb_streams.as_ref()
}

/// The table's streams, whatever the label DynamoDB gives the current one.
fn streams_arn(target: &Target, name: &str) -> String {
    format!("{}/stream/*", table::arn(target, name))
}

impl Trigger for DynamodbStreams {
    fn kind(&self) -> Kind {
        Kind::DynamodbStreams
    }

    fn keda_type(&self) -> &'static str {
        "aws-dynamodb-streams"
    }

    fn policy(
        &self,
        spec: &Spec,
        apps: &[&App],
        target: &Target,
        _observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        let names = |apps: &[&App]| {
            let mut names: Vec<String> = apps
                .iter()
                .filter_map(|a| config(a))
                .map(|c| c.table.name.clone())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let consuming: Vec<&App> = apps.iter().copied().filter(|a| a.consume).collect();
        let streams = |names: Vec<String>| -> Vec<String> {
            names.iter().map(|n| streams_arn(target, n)).collect()
        };
        let tables: Vec<String> = names(apps).iter().map(|n| table::arn(target, n)).collect();
        templates::policy(
            "dynamodb-streams-read.json",
            POLICY,
            &json!({
                "table_arns": tables,
                "stream_arns": streams(names(apps)),
                "consume_arns": streams(names(&consuming)),
                "consumers": super::consumers(spec, &consuming),
            }),
        )
        .map(Some)
    }

    fn metadata(&self, app: &App, target: &Target, _observed: &Observed) -> Map<String, Value> {
        let c = config(app).expect("validated: a dynamodb-streams app has its section");
        let mut m = Map::new();
        m.insert("tableName".into(), c.table.name.clone().into());
        m.insert("awsRegion".into(), target.region.clone().into());
        m.insert("shardCount".into(), c.shard_count.to_string().into());
        m.insert(
            "activationShardCount".into(),
            c.activation_shard_count.to_string().into(),
        );
        m
    }

    /// The app reads the table's stream (DYNAMODB_TABLE) itself, as the identity role: the grants it needs
    /// beyond KEDA's read are the user's to attach to that role.
    fn consumes(&self) -> bool {
        true
    }

    fn env(&self, app: &App, _target: &Target) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| vec![("DYNAMODB_TABLE", c.table.name.clone())])
            .unwrap_or_default()
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        let c = config(app).expect("validated: a dynamodb-streams app has its section");
        ScalingTarget {
            per_replica: u64::from(c.shard_count.max(1)),
            activation: u64::from(c.activation_shard_count),
        }
    }

    fn unit(&self) -> &'static str {
        "shards"
    }

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => format!("the stream of DynamoDB table {}", c.table.name),
            None => "dynamodb-streams (no section)".into(),
        }
    }

    /// DescribeTable on the table; DescribeStream on the live stream when observed, else on
    /// the table's streams.
    fn needs(
        &self,
        app: &App,
        target: &Target,
        observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        let Some(c) = config(app) else {
            return Vec::new();
        };
        let r = table::resource(&c.table, Some(DEFAULT_VIEW));
        let stream = observed
            .resources
            .get(&r.id())
            .and_then(|live| live.endpoint.clone())
            .unwrap_or_else(|| streams_arn(target, &c.table.name));
        vec![
            ("dynamodb:DescribeTable", table::arn(target, &c.table.name)),
            ("dynamodb:DescribeStream", stream),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_INT32;

    fn app(c: Config) -> App {
        App {
            trigger: Kind::DynamodbStreams,
            dynamodb_streams: Some(c),
            ..App::default()
        }
    }

    fn config() -> Config {
        Config {
            table: table::Table {
                name: "orders".into(),
                create: None,
            },
            shard_count: 2,
            activation_shard_count: 0,
        }
    }

    fn problems(app: &App) -> Vec<String> {
        let mut out = Vec::new();
        crate::spec::sections::validate(app, "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn the_section_and_its_numbers_are_checked() {
        assert!(problems(&app(config())).is_empty());
        let none = App {
            trigger: Kind::DynamodbStreams,
            ..App::default()
        };
        assert_eq!(problems(&none), ["apps[0].dynamodbStreams"]);
        let mut stray = app(config());
        stray.trigger = Kind::Prometheus;
        assert_eq!(
            problems(&stray),
            ["apps[0].dynamodbStreams", "apps[0].prometheus"]
        );
        let mut c = config();
        c.shard_count = 0;
        c.activation_shard_count = MAX_INT32 + 1;
        c.table.name = "x".into();
        assert_eq!(
            problems(&app(c)),
            [
                "apps[0].dynamodbStreams.table.name",
                "apps[0].dynamodbStreams.shardCount",
                "apps[0].dynamodbStreams.activationShardCount"
            ]
        );
        let defaults: Config = serde_json::from_value(json!({"table": {"name": "t1x"}})).unwrap();
        assert_eq!(
            (defaults.shard_count, defaults.activation_shard_count),
            (2, 0),
            "KEDA's defaults"
        );
    }

    #[test]
    fn metadata_policy_and_needs_name_the_table_and_its_streams() {
        let target = Target::new("us-west-2", Some("123456789012"));
        let a = app(config());
        let m = DynamodbStreams.metadata(&a, &target, &Observed::default());
        assert_eq!(
            Value::Object(m),
            json!({"tableName": "orders", "awsRegion": "us-west-2", "shardCount": "2", "activationShardCount": "0"})
        );
        let policy = DynamodbStreams
            .policy(&Spec::default(), &[&a, &a], &target, &Observed::default())
            .unwrap()
            .unwrap();
        assert_eq!(policy.name, POLICY);
        assert_eq!(
            policy.body["Statement"],
            json!([
                {"Sid": "KedaFindsStream", "Effect": "Allow", "Action": "dynamodb:DescribeTable",
                 "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/orders"]},
                {"Sid": "KedaCountsShards", "Effect": "Allow", "Action": "dynamodb:DescribeStream",
                 "Resource": ["arn:aws:dynamodb:us-west-2:123456789012:table/orders/stream/*"]}
            ])
        );
        assert!(crate::render::policy::overly_broad(&policy.body).is_empty());
        let mut observed = Observed::default();
        assert_eq!(
            DynamodbStreams.needs(&a, &target, &observed)[1].1,
            "arn:aws:dynamodb:us-west-2:123456789012:table/orders/stream/*"
        );
        let live =
            "arn:aws:dynamodb:us-west-2:123456789012:table/orders/stream/2026-01-01T00:00:00.000";
        observed.resources.insert(
            "dynamodb:table/orders".into(),
            crate::observed::Resource {
                id: "orders".into(),
                arn: "arn:aws:dynamodb:us-west-2:123456789012:table/orders".into(),
                status: "ACTIVE".into(),
                endpoint: Some(live.into()),
                tags: Default::default(),
                ..Default::default()
            },
        );
        assert_eq!(
            DynamodbStreams.needs(&a, &target, &observed),
            [
                (
                    "dynamodb:DescribeTable",
                    "arn:aws:dynamodb:us-west-2:123456789012:table/orders".to_string()
                ),
                ("dynamodb:DescribeStream", live.to_string())
            ]
        );
        // A created table gets a stream even when the config names no view.
        let mut c = config();
        c.table.create = Some(table::Create {
            partition_key: table::Key {
                name: "pk".into(),
                kind: table::KeyType::S,
            },
            sort_key: None,
            stream_view_type: None,
        });
        let r = &DynamodbStreams.resources(&app(c))[0];
        assert_eq!(r.settings["streamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(
            DynamodbStreams.scaling_target(&a),
            ScalingTarget {
                per_replica: 2,
                activation: 0
            }
        );
    }
}
