//! The AWS half of `trigger: kinesis`: the open shard count as KEDA reads it, and the stream's
//! calls (describe, create, tag, count its records, delete).

use super::stream_name;
use crate::cloud::read::{Read, found, read};
use crate::cloud::{Aws, CallError};
use crate::observed::{Resource as Live, Tags};
use crate::spec::App;
use crate::spec::target::Target;
use crate::triggers::Reading;
use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryError;
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails};

/// Tags AddTagsToStream takes in one call.
const TAGS_PER_CALL: usize = 10;

/// The open shard count, read as KEDA reads it.
pub struct Reader<'a> {
    aws: &'a Aws,
    name: &'a str,
}

impl<'a> Reader<'a> {
    /// The app's stream, which must exist.
    pub async fn open(aws: &'a Aws, app: &'a App, target: &'a Target) -> anyhow::Result<Self> {
        let c = app
            .kinesis
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app has no kinesis section"))?;
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
        Ok(Reader { aws, name })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
        let (open, status) = open_shards(self.aws, self.name).await?;
        Ok(Reading {
            value: open,
            detail: format!("{open} open shards (stream {status})"),
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
    let out = found!(read(got, "DescribeStreamSummary", &what(name), not_found));
    let Some(s) = out.stream_description_summary() else {
        return Ok(Read::Missing);
    };
    let status = s.stream_status().as_str().to_string();
    if status == "DELETING" {
        return Ok(Read::Missing);
    }
    let tags = found!(tags_of(aws, name).await);
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
        let page = found!(read(got, "ListTagsForStream", &what(name), |e| {
            e.is_resource_not_found_exception()
        }));
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
