//! `trigger: kinesis` — KEDA's `aws-kinesis-stream` scaler (v2.20.2,
//! `pkg/scalers/aws_kinesis_stream_scaler.go`): one DescribeStreamSummary by stream name, whose
//! `OpenShardCount` is the metric; the target is `shardCount` open shards per replica (an
//! integer target, `GetMetricTarget`), active above `activationShardCount`. The stream is one
//! kedactl creates (tagged, deleted with the stack) or an existing one it only reads.

use super::{Kind, Metric, Reading, Resource, ScalingTarget, Section, Trigger, resource};
use crate::cloud::{Aws, CallError};
use crate::observe::{Read, read};
use crate::observed::{Observed, Resource as Live, Tags};
use crate::render::{Document, RenderError, Target, templates};
use crate::spec::{App, Problem, Spec};
use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryError;
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails};
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The permission policy kedactl writes on an identity role whose apps scale on Kinesis.
pub const POLICY: &str = "kedactl-kinesis-read";
/// Largest shard count kedactl accepts anywhere: far above the default account quota (500
/// shards in the largest regions, 200 elsewhere), which AWS enforces on its own.
pub const MAX_SHARDS: u32 = 10_000;
/// KEDA's default `shardCount` (`targetShardCountDefault`).
pub const DEFAULT_SHARD_COUNT: u32 = 2;
/// Tags AddTagsToStream takes in one call.
const TAGS_PER_CALL: usize = 10;

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

pub struct Kinesis;

fn config(app: &App) -> Option<&Config> {
    app.kinesis.as_ref()
}

/// The app's stream as a resource: one kedactl owns, or an existing one it only reads.
fn stream(c: &Config) -> Resource {
    match (&c.stream.name, &c.stream.existing) {
        (Some(name), _) => Resource {
            kind: resource::Kind::KinesisStream,
            name: name.clone(),
            managed: true,
            settings: c.stream.shards.map_or(
                serde_json::Value::Null,
                |n| serde_json::json!({ "shards": n }),
            ),
        },
        (None, existing) => Resource {
            kind: resource::Kind::KinesisStream,
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

pub fn stream_arn(target: &Target, name: &str) -> String {
    target.arn("kinesis", &format!("stream/{name}"))
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

impl Trigger for Kinesis {
    fn kind(&self) -> Kind {
        Kind::Kinesis
    }

    fn keda_type(&self) -> &'static str {
        "aws-kinesis-stream"
    }

    fn section(&self) -> Option<Section> {
        Some(Section {
            field: "kinesis",
            holds: "stream, shardCount",
            minimal: "kinesis: {stream: {name: <stream>}, shardCount: <open shards per replica>}",
            example: "examples/kinesis.yaml",
        })
    }

    fn has_section(&self, app: &App) -> bool {
        app.kinesis.is_some()
    }

    fn validate(&self, app: &App, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.kinesis.{s}");
        // A missing section is reported by `triggers::validate`.
        let Some(c) = config(app) else {
            return;
        };
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

    fn resources(&self, app: &App) -> Vec<Resource> {
        config(app).map(stream).into_iter().collect()
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

    fn consumable(&self) -> bool {
        true
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

    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>> {
        Box::pin(async move {
            let c = config(app).ok_or_else(|| anyhow::anyhow!("the app has no kinesis section"))?;
            let name = stream_name(c);
            match by_name(aws, name).await? {
                Read::Found(_) => {}
                Read::Missing => anyhow::bail!(
                    "Kinesis stream {name} does not exist in {}\n  fix: create it with `kedactl up --only source`, or correct apps[].kinesis.stream",
                    target.region
                ),
                Read::Denied(d) => anyhow::bail!("{}: {}", d.operation, d.message),
                Read::Failed(e) => return Err(e.into()),
            }
            Ok(Box::new(OpenShards { aws, name }) as Box<dyn Metric>)
        })
    }
}

/// The open shard count, read as KEDA reads it.
struct OpenShards<'a> {
    aws: &'a Aws,
    name: &'a str,
}

impl Metric for OpenShards<'_> {
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
        Box::pin(async move {
            let (open, status) = open_shards(self.aws, self.name).await?;
            Ok(Reading {
                value: open,
                detail: format!("{open} open shards (stream {status})"),
            })
        })
    }
}

/// `GetAwsKinesisOpenShardCount`: DescribeStreamSummary by name, its OpenShardCount.
pub async fn open_shards(aws: &Aws, name: &str) -> Result<(u64, String), CallError> {
    let out = aws
        .kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .map_err(|e| CallError::new("DescribeStreamSummary", what(name), &e))?;
    let s = out.stream_description_summary();
    let (open, status) = s
        .map(|s| (s.open_shard_count(), s.stream_status().as_str().to_string()))
        .ok_or_else(|| CallError {
            operation: "DescribeStreamSummary",
            resource: what(name),
            code: None,
            message: "the answer has no StreamDescriptionSummary".into(),
            status: None,
            fix: None,
        })?;
    Ok((u64::try_from(open).unwrap_or(0), status))
}

// The stream's calls (aws-sdk-kinesis): by name, create, tag, delete. Names are unique in an
// account and region, so the service id is the name.

fn what(name: &str) -> String {
    format!("Kinesis stream {name}")
}

fn not_found(e: &DescribeStreamSummaryError) -> bool {
    e.is_resource_not_found_exception()
}

/// The stream with this name and its tags (DescribeStreamSummary, ListTagsForStream). One
/// being deleted is gone for kedactl.
pub(crate) async fn by_name(aws: &Aws, name: &str) -> Result<Read<Live>, CallError> {
    let got = aws
        .kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await;
    let out = match read(got, "DescribeStreamSummary", &what(name), not_found)? {
        Read::Found(out) => out,
        Read::Missing => return Ok(Read::Missing),
        Read::Denied(d) => return Ok(Read::Denied(d)),
        Read::Failed(e) => return Ok(Read::Failed(e)),
    };
    let Some(s) = out.stream_description_summary() else {
        return Ok(Read::Missing);
    };
    let status = s.stream_status().as_str().to_string();
    if status == "DELETING" {
        return Ok(Read::Missing);
    }
    let tags = match tags_of(aws, name).await? {
        Read::Found(t) => t,
        Read::Missing => return Ok(Read::Missing),
        Read::Denied(d) => return Ok(Read::Denied(d)),
        Read::Failed(e) => return Ok(Read::Failed(e)),
    };
    Ok(Read::Found(Live {
        id: s.stream_name().to_string(),
        arn: s.stream_arn().to_string(),
        status,
        endpoint: None,
        tags,
        ..Live::default()
    }))
}

/// Every tag of the stream (ListTagsForStream pages by the last key).
async fn tags_of(aws: &Aws, name: &str) -> Result<Read<Tags>, CallError> {
    let mut tags = Tags::new();
    let mut after: Option<String> = None;
    loop {
        let got = aws
            .kinesis
            .list_tags_for_stream()
            .stream_name(name)
            .set_exclusive_start_tag_key(after.take())
            .send()
            .await;
        let page = match read(got, "ListTagsForStream", &what(name), |e| {
            e.is_resource_not_found_exception()
        })? {
            Read::Found(p) => p,
            Read::Missing => return Ok(Read::Missing),
            Read::Denied(d) => return Ok(Read::Denied(d)),
            Read::Failed(e) => return Ok(Read::Failed(e)),
        };
        for t in page.tags() {
            tags.insert(
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            );
        }
        match page.tags().last() {
            Some(last) if page.has_more_tags() => after = Some(last.key().to_string()),
            _ => return Ok(Read::Found(tags)),
        }
    }
}

/// The shards a stream is created with, from its `Resource::settings` (None: on demand).
pub fn shards(settings: &serde_json::Value) -> Option<u32> {
    settings["shards"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
}

/// CreateStream with the tags: `shards` provisioned, or on-demand capacity. Kinesis answers
/// nothing, so the stream is read back for its ARN and status (CREATING, then ACTIVE).
pub async fn create(
    aws: &Aws,
    name: &str,
    shards: Option<u32>,
    tags: &Tags,
) -> Result<Live, CallError> {
    let mut call = aws
        .kinesis
        .create_stream()
        .stream_name(name)
        .set_tags(Some(tags.clone().into_iter().collect()));
    call = match shards {
        Some(n) => call.shard_count(i32::try_from(n).unwrap_or(i32::MAX)),
        None => call.stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("stream mode is set"),
        ),
    };
    call.send()
        .await
        .map_err(|e| CallError::new("CreateStream", what(name), &e))?;
    let gone = || CallError {
        operation: "DescribeStreamSummary",
        resource: what(name),
        code: None,
        message: "the stream is not there right after CreateStream".into(),
        status: None,
        fix: None,
    };
    let mut live = match by_name(aws, name).await? {
        Read::Found(live) => live,
        Read::Missing => return Err(gone()),
        Read::Denied(d) => return Err(denied("DescribeStreamSummary", d)),
        Read::Failed(e) => return Err(e),
    };
    // An endpoint that creates at once may have dropped CreateStream's tags (AWS applies them
    // with the create; moto ignores them): the stream is ACTIVE, so they can be added now.
    let missing: Tags = tags
        .iter()
        .filter(|(k, v)| live.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() && live.status == "ACTIVE" {
        tag(aws, &live.arn, &missing).await?;
        live.tags.extend(missing);
    }
    Ok(live)
}

fn denied(operation: &'static str, d: crate::observed::Denied) -> CallError {
    CallError {
        operation,
        resource: d.resource,
        code: Some("AccessDeniedException".into()),
        message: d.message,
        status: Some(403),
        fix: None,
    }
}

/// GetRecords calls per shard while counting what `down` would delete (Kinesis serves five a
/// second per shard); a shard read no further counts as "at least".
const COUNT_CALLS_PER_SHARD: usize = 10;

/// The records the stream still holds (within its retention): every shard read from
/// TRIM_HORIZON until it is caught up, `at least` when kedactl stopped before that.
pub async fn records(aws: &Aws, name: &str) -> Result<crate::observed::Data, CallError> {
    use aws_sdk_kinesis::types::ShardIteratorType;
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let call = aws.kinesis.list_shards();
        let call = match token.take() {
            Some(t) => call.next_token(t),
            None => call.stream_name(name),
        };
        let page = call
            .send()
            .await
            .map_err(|e| CallError::new("ListShards", what(name), &e))?;
        shards.extend(page.shards().iter().map(|s| s.shard_id().to_string()));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut data = crate::observed::Data::counted(0, "records");
    for shard in shards {
        let got = aws
            .kinesis
            .get_shard_iterator()
            .stream_name(name)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(|e| CallError::new("GetShardIterator", what(name), &e))?;
        let mut iterator = got.shard_iterator().map(str::to_string);
        let mut count = 0u64;
        let mut calls = 0;
        while let Some(it) = iterator.take() {
            if calls == COUNT_CALLS_PER_SHARD {
                data.at_least = true;
                break;
            }
            calls += 1;
            let page = aws
                .kinesis
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .map_err(|e| CallError::new("GetRecords", what(name), &e))?;
            count += page.records().len() as u64;
            // Caught up: an empty page at the tip (a closed shard ends without an iterator).
            if page.records().is_empty() && page.millis_behind_latest().unwrap_or(0) == 0 {
                break;
            }
            iterator = page.next_shard_iterator().map(str::to_string);
        }
        data.parts.insert(shard, count);
    }
    data.count = Some(data.parts.values().sum());
    Ok(data)
}

/// The stream's state by name while a create settles, or for the ownership re-check.
pub async fn status(aws: &Aws, name: &str) -> Result<Option<Live>, CallError> {
    match by_name(aws, name).await? {
        Read::Found(live) => Ok(Some(live)),
        Read::Missing => Ok(None),
        Read::Denied(d) => Err(denied("DescribeStreamSummary", d)),
        Read::Failed(e) => Err(e),
    }
}

/// ACTIVE and UPDATING (a reshard) serve reads; CREATING is on the way; anything else is not.
pub fn ready(status: &str) -> Option<bool> {
    match status {
        "ACTIVE" | "UPDATING" => Some(true),
        "CREATING" => None,
        _ => Some(false),
    }
}

/// AddTagsToStream, ten tags a call.
pub async fn tag(aws: &Aws, arn: &str, tags: &Tags) -> Result<(), CallError> {
    let all: Vec<(String, String)> = tags.clone().into_iter().collect();
    for chunk in all.chunks(TAGS_PER_CALL) {
        aws.kinesis
            .add_tags_to_stream()
            .stream_arn(arn)
            .set_tags(Some(chunk.iter().cloned().collect()))
            .send()
            .await
            .map_err(|e| CallError::new("AddTagsToStream", arn, &e))?;
    }
    Ok(())
}

pub async fn untag(aws: &Aws, arn: &str, keys: &[String]) -> Result<(), CallError> {
    for chunk in keys.chunks(TAGS_PER_CALL) {
        aws.kinesis
            .remove_tags_from_stream()
            .stream_arn(arn)
            .set_tag_keys(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| CallError::new("RemoveTagsFromStream", arn, &e))?;
    }
    Ok(())
}

/// DeleteStream by name; a stream already gone is fine. Registered (enhanced fan-out)
/// consumers stop it: they are someone's, so kedactl says so rather than force them away.
pub async fn delete(aws: &Aws, name: &str) -> Result<(), CallError> {
    match aws.kinesis.delete_stream().stream_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => {
            let mut err = CallError::new("DeleteStream", what(name), &e);
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception())
                && err.fix.is_none()
            {
                err.fix = Some(
                    "the stream is in use (creating, resharding, or with registered consumers): wait, or deregister its consumers (aws kinesis list-stream-consumers --stream-arn <arn>), then run `kedactl down` again".into(),
                );
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        super::super::validate(app, "apps[0]", &mut out);
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
