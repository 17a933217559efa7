//! The AWS half of `trigger: dynamodb-streams`: the table's stream and its shards, read as
//! KEDA's scaler reads them.

use super::MAX_PAGES;
use crate::cloud::{Aws, CallError};
use crate::spec::App;
use crate::spec::target::Target;
use crate::triggers::Reading;

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
pub struct Reader<'a> {
    aws: &'a Aws,
    stream: String,
}

impl<'a> Reader<'a> {
    /// The table's stream, as the scaler finds it when it starts.
    pub async fn open(aws: &'a Aws, app: &'a App, target: &'a Target) -> anyhow::Result<Self> {
        let c = app
            .dynamodb_streams
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app has no dynamodbStreams section"))?;
        let stream = stream_arn(aws, &c.table.name, &target.region).await?;
        Ok(Reader { aws, stream })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
        let (all, open) = shards(self.aws, &self.stream).await?;
        Ok(Reading {
            value: all,
            detail: format!(
                "{all} shards ({open} open, {} closed: KEDA counts every shard listed)",
                all - open
            ),
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
