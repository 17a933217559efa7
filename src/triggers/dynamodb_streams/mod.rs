//! `trigger: dynamodb-streams` — KEDA's `aws-dynamodb-streams` scaler (v2.20.2,
//! `pkg/scalers/aws_dynamodb_streams_scaler.go`): the number of shards of a table's stream, per
//! replica (`shardCount`, default 2). When the scaler starts it reads the table's
//! `LatestStreamArn` once (DescribeTable; a table without one is an error), then each poll pages
//! through DescribeStream by `ExclusiveStartShardId` and counts every shard listed — closed
//! shards (with an ending sequence number, listed for 24 hours) count as much as open ones.

use super::dynamodb::table::{self, StreamView};
use super::{Kind, Metric, Reading, Resource, ScalingTarget, Section, Trigger};
use crate::cloud::{Aws, CallError};
use crate::limits::MAX_INT32;
use crate::observed::Observed;
use crate::render::{Document, RenderError, Target, templates};
use crate::spec::{App, Problem, Spec};
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The permission policy kedactl writes on an identity role whose apps scale on a stream.
pub const POLICY: &str = "kedactl-dynamodb-streams-read";
/// The view a stream kedactl enables gets unless `table.create.streamViewType` says otherwise.
pub const DEFAULT_VIEW: StreamView = StreamView::NewAndOldImages;
/// Most DescribeStream pages one read follows (100 shards a page).
pub const MAX_PAGES: usize = 10_000;

/// `apps[].dynamodbStreams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "DynamoDbStreamsTrigger")]
pub struct Config {
    /// The table whose stream is counted: one kedactl creates with a stream (`create`), or an
    /// existing one with its stream enabled.
    pub table: table::Table,
    /// Shards per replica (KEDA `shardCount`).
    #[serde(default = "two")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub shard_count: u32,
    /// Scale from zero only when the stream has more shards than this (KEDA
    /// `activationShardCount`).
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    pub activation_shard_count: u32,
}

fn two() -> u32 {
    2
}

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

    fn section(&self) -> Option<Section> {
        Some(Section {
            field: "dynamodbStreams",
            holds: "table, shardCount",
            minimal: "dynamodbStreams: {table: {name: <table>}, shardCount: 2}",
            example: "examples/dynamodb-streams.yaml",
        })
    }

    fn has_section(&self, app: &App) -> bool {
        app.dynamodb_streams.is_some()
    }

    fn validate(&self, app: &App, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.dynamodbStreams.{s}");
        // A missing section is reported by `triggers::validate`.
        let Some(c) = config(app) else {
            return;
        };
        table::validate(&c.table, &f("table"), out);
        if c.shard_count < 1 || c.shard_count > MAX_INT32 {
            out.push(Problem::new(
                f("shardCount"),
                format!(
                    "{} is not a usable number of shards per replica",
                    c.shard_count
                ),
                format!("use a whole number from 1 to {MAX_INT32} (KEDA's default is 2)"),
            ));
        }
        if c.activation_shard_count > MAX_INT32 {
            out.push(Problem::new(
                f("activationShardCount"),
                format!("{} is out of range", c.activation_shard_count),
                format!("use a whole number from 0 to {MAX_INT32}"),
            ));
        }
    }

    fn resources(&self, app: &App) -> Vec<Resource> {
        config(app)
            .map(|c| table::resource(&c.table, Some(DEFAULT_VIEW)))
            .into_iter()
            .collect()
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

    fn consumable(&self) -> bool {
        true
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

    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>> {
        Box::pin(async move {
            let c = config(app)
                .ok_or_else(|| anyhow::anyhow!("the app has no dynamodbStreams section"))?;
            let stream = stream_arn(aws, &c.table.name, &target.region).await?;
            Ok(Box::new(Shards { aws, stream }) as Box<dyn Metric>)
        })
    }
}

/// The table's `LatestStreamArn`, as the scaler reads it when it starts (`getDynamoDBStreamsArn`).
pub async fn stream_arn(aws: &Aws, name: &str, region: &str) -> anyhow::Result<String> {
    let out = match aws.dynamodb.describe_table().table_name(name).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            anyhow::bail!(
                "DynamoDB table {name} does not exist in {region}\n  fix: create it with `kedactl up --only source`, or correct apps[].dynamodbStreams.table.name"
            )
        }
        Err(e) => {
            return Err(
                CallError::new("DescribeTable", format!("DynamoDB table {name}"), &e).into(),
            );
        }
    };
    match out.table().and_then(|t| t.latest_stream_arn()) {
        Some(arn) => Ok(arn.to_string()),
        None => anyhow::bail!(
            "dynamodb stream arn for the table {name} is empty (KEDA's scaler fails to start the same way)\n  fix: enable a stream on the table (aws dynamodb update-table --table-name {name} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES), or let kedactl create the table (table.create)"
        ),
    }
}

/// The stream's shards, counted as KEDA's scaler counts them.
struct Shards<'a> {
    aws: &'a Aws,
    stream: String,
}

impl Metric for Shards<'_> {
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
        Box::pin(async move {
            let (all, open) = shards(self.aws, &self.stream).await?;
            Ok(Reading {
                value: all,
                detail: format!(
                    "{all} shards ({open} open, {} closed: KEDA counts every shard listed)",
                    all - open
                ),
            })
        })
    }
}

/// Every shard DescribeStream lists, following `LastEvaluatedShardId` as KEDA does
/// (`getDynamoDBStreamShardCount`), and how many of them are open (no ending sequence number).
pub async fn shards(aws: &Aws, stream: &str) -> Result<(u64, u64), CallError> {
    let (mut all, mut open) = (0u64, 0u64);
    let mut start: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = aws
            .dynamodbstreams
            .describe_stream()
            .stream_arn(stream)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .map_err(|e| CallError::new("DescribeStream", stream, &e))?;
        let Some(d) = out.stream_description() else {
            return Ok((all, open));
        };
        for s in d.shards() {
            all += 1;
            let ended = s
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some();
            if !ended {
                open += 1;
            }
        }
        match d.last_evaluated_shard_id() {
            Some(id) => start = Some(id.to_string()),
            None => return Ok((all, open)),
        }
    }
    Err(CallError {
        operation: "DescribeStream",
        resource: stream.to_string(),
        code: None,
        message: format!("more than {MAX_PAGES} pages of shards: the count is not trustworthy"),
        status: None,
        fix: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        super::super::validate(app, "apps[0]", &mut out);
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
