//! `apps[].dynamodbStreams`: the section and its validation.

use crate::limits::MAX_INT32;
use crate::problem::Problem;
use crate::triggers::dynamodb::config::table::{self, StreamView};
use crate::triggers::kind::resource::Resource;
use crate::triggers::kind::{ConfigSection, Section};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How messages name the section.
pub const SECTION: Section = Section {
    field: "dynamodbStreams",
    holds: "table, shardCount",
    minimal: "dynamodbStreams: {table: {name: <table>}, shardCount: 2}",
    example: "examples/dynamodb-streams.yaml",
};

/// The view a stream kedactl enables gets unless `table.create.streamViewType` says otherwise.
pub const DEFAULT_VIEW: StreamView = StreamView::NewAndOldImages;

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

impl ConfigSection for Config {
    fn validate(&self, _existing: bool, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.dynamodbStreams.{s}");
        let c = self;
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

    fn resources(&self) -> Vec<Resource> {
        vec![table::resource(&self.table, Some(DEFAULT_VIEW))]
    }
}
