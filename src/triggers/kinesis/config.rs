//! `apps[].kinesis`: the section and its validation.

use crate::problem::Problem;
use crate::triggers::kind::resource::{Kind as ResourceKind, Resource};
use crate::triggers::kind::{ConfigSection, Section};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How messages name the section.
pub const SECTION: Section = Section {
    field: "kinesis",
    holds: "stream, shardCount",
    minimal: "kinesis: {stream: {name: <stream>}, shardCount: <open shards per replica>}",
    example: "examples/kinesis.yaml",
};

/// Largest shard count kedactl accepts anywhere: far above the default account quota (500
/// shards in the largest regions, 200 elsewhere), which AWS enforces on its own.
pub const MAX_SHARDS: u32 = 10_000;
/// KEDA's default `shardCount` (`targetShardCountDefault`).
pub const DEFAULT_SHARD_COUNT: u32 = 2;

/// `apps[].kinesis`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "KinesisTrigger")]
pub struct Config {
    /// The stream KEDA counts the open shards of: one kedactl creates (`name`) or an existing
    /// one (`existing`).
    pub stream: Stream,
    /// Open shards per replica (KEDA `shardCount`, default 2): 4 open shards and 2 make 2
    /// replicas.
    #[serde(default = "default_shard_count")]
    #[schemars(range(min = 1, max = 10000))]
    pub shard_count: u32,
    /// Scale from zero only when more shards than this are open (KEDA `activationShardCount`).
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub activation_shard_count: u32,
}

fn default_shard_count() -> u32 {
    DEFAULT_SHARD_COUNT
}

/// Exactly one of `name` and `existing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stream {
    /// Name of the stream kedactl creates, tags with the stack and deletes with `down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// With `name`: the shards it is created with (provisioned capacity). Omitted: on-demand
    /// capacity, where Kinesis adds shards with the traffic. Only the create uses it: kedactl
    /// never reshards a stream, since the open shard count is what KEDA scales on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub shards: Option<u32>,
    /// Name of an existing stream: read, never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
}

/// The app's stream as a resource: one kedactl owns, or an existing one it only reads.
pub fn stream(c: &Config) -> Resource {
    match (&c.stream.name, &c.stream.existing) {
        (Some(name), _) => Resource {
            kind: ResourceKind::KinesisStream,
            name: name.clone(),
            managed: true,
            settings: c.stream.shards.map_or(
                serde_json::Value::Null,
                |n| serde_json::json!({ "shards": n }),
            ),
        },
        (None, existing) => Resource {
            kind: ResourceKind::KinesisStream,
            name: existing.clone().unwrap_or_default(),
            managed: false,
            settings: serde_json::Value::Null,
        },
    }
}

/// The stream's name, whichever way the config gives it.
pub fn stream_name(c: &Config) -> &str {
    c.stream
        .name
        .as_deref()
        .or(c.stream.existing.as_deref())
        .unwrap_or_default()
}

/// A stream name as Kinesis spells it: 1–128 of `[a-zA-Z0-9_.-]`.
fn name_rule(s: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err("1–128 letters, digits, `_`, `.` or `-`".into())
    }
}

impl ConfigSection for Config {
    fn validate(&self, _existing: bool, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.kinesis.{s}");
        let c = self;
        let s = &c.stream;
        match (&s.name, &s.existing) {
            (Some(_), Some(_)) | (None, None) => out.push(Problem::new(
                f("stream"),
                "give exactly one of `name` (a stream kedactl creates) and `existing` (one it only reads)",
                "set stream: {name: <stream>} or stream: {existing: <stream>}",
            )),
            (Some(name), None) => {
                if let Err(rule) = name_rule(name) {
                    out.push(Problem::new(
                        f("stream.name"),
                        format!("{name:?} is not a valid Kinesis stream name"),
                        format!("use {rule}"),
                    ));
                }
            }
            (None, Some(name)) => {
                if let Err(rule) = name_rule(name) {
                    out.push(Problem::new(
                        f("stream.existing"),
                        format!("{name:?} is not a valid Kinesis stream name"),
                        format!("use {rule} (aws kinesis list-streams)"),
                    ));
                }
            }
        }
        match s.shards {
            Some(_) if s.name.is_none() => out.push(Problem::new(
                f("stream.shards"),
                "`shards` sizes a stream kedactl creates; an existing stream keeps its own",
                "remove stream.shards, or create the stream with stream: {name: <stream>, shards: <n>}",
            )),
            Some(n) if !(1..=MAX_SHARDS).contains(&n) => out.push(Problem::new(
                f("stream.shards"),
                format!("{n} shards is out of range"),
                format!("use 1 to {MAX_SHARDS} (AWS also holds it to the account's shard quota), or omit it for on-demand capacity"),
            )),
            _ => {}
        }
        if !(1..=MAX_SHARDS).contains(&c.shard_count) {
            out.push(Problem::new(
                f("shardCount"),
                format!("{} open shards per replica is out of range", c.shard_count),
                format!("use 1 to {MAX_SHARDS} (KEDA's default is {DEFAULT_SHARD_COUNT})"),
            ));
        }
        if c.activation_shard_count > MAX_SHARDS {
            out.push(Problem::new(
                f("activationShardCount"),
                format!("{} is out of range", c.activation_shard_count),
                format!("use 0 to {MAX_SHARDS}"),
            ));
        }
    }

    fn resources(&self) -> Vec<Resource> {
        vec![stream(self)]
    }
}
