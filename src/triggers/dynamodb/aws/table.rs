//! A DynamoDB table's calls (aws-sdk-dynamodb), shared by the `dynamodb` and
//! `dynamodb-streams` triggers: find by name, create (on-demand billing, the config's key
//! schema, a stream when asked), tag, untag, count its items, delete.
//!
//! A table's name is its id: unique in an account and region, and the last part of its ARN
//! (`arn:aws:dynamodb:<region>:<account>:table/<name>`), so nothing waits for a placeholder.

use crate::cloud::read::{Read, found, read};
use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observed::{Resource as Live, Tags};
use crate::triggers::dynamodb::table::{Create, KeyType, StreamView};
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType as Role, ScalarAttributeType,
    StreamSpecification, StreamViewType, Tag,
};

fn what(name: &str) -> String {
    format!("DynamoDB table {name}")
}

fn not_found(e: &DescribeTableError) -> bool {
    e.is_resource_not_found_exception()
}

/// The table with this name (DescribeTable), with its tags (ListTagsOfResource) when `tags`.
/// `endpoint` is its latest stream's ARN while the stream is enabled.
pub(crate) async fn by_name(aws: &Aws, name: &str, tags: bool) -> Result<Read<Live>, CallError> {
    let got = aws.dynamodb.describe_table().table_name(name).send().await;
    let out = found!(read(got, "DescribeTable", &what(name), not_found));
    let Some(t) = out.table() else {
        return Ok(Read::Missing);
    };
    let status = t.table_status().map(|s| s.as_str()).unwrap_or("");
    // A deleted table is described for a while as DELETING: for kedactl it is gone.
    if status == "DELETING" {
        return Ok(Read::Missing);
    }
    let arn = t.table_arn().unwrap_or_default().to_string();
    let streaming = t.stream_specification().is_some_and(|s| s.stream_enabled());
    let mut live = Live {
        id: t.table_name().unwrap_or(name).to_string(),
        arn: arn.clone(),
        status: status.to_string(),
        endpoint: t
            .latest_stream_arn()
            .filter(|_| streaming)
            .map(str::to_string),
        tags: Tags::new(),
        ..Live::default()
    };
    if tags {
        live.tags = found!(tags_of(aws, &arn, name).await);
    }
    Ok(Read::Found(live))
}

/// The items `down` would delete with the table. DescribeTable's `ItemCount` is refreshed only
/// about every six hours, so a Scan of one item (Select COUNT) says for sure whether any exist.
pub async fn items(aws: &Aws, name: &str) -> Result<crate::observed::Data, CallError> {
    let described = aws.dynamodb.describe_table().table_name(name).send();
    let scanned = aws
        .dynamodb
        .scan()
        .table_name(name)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .limit(1)
        .send();
    let (described, scanned) = tokio::join!(described, scanned);
    let described = described.map_err(|e| CallError::new("DescribeTable", what(name), &e))?;
    let scanned = scanned.map_err(|e| CallError::new("Scan", what(name), &e))?;
    let approximate = described
        .table()
        .and_then(|t| t.item_count())
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let any = scanned.count() > 0 || scanned.last_evaluated_key().is_some();
    Ok(counted_items(approximate, any))
}

/// The pure half of `items`: the scan decides whether any exist, `ItemCount` how many.
fn counted_items(approximate: u64, any: bool) -> crate::observed::Data {
    let mut data = crate::observed::Data::counted(0, "items");
    if any {
        data.count = Some(approximate.max(1));
        // A table written since DynamoDB last refreshed ItemCount: one item is all that is known.
        data.at_least = approximate == 0;
        data.parts.insert("itemCount".into(), approximate);
    }
    data
}

/// The table while a create settles, or for the owner re-check (with its tags).
pub async fn status(aws: &Aws, name: &str) -> Result<Option<Live>, CallError> {
    match by_name(aws, name, true).await? {
        Read::Found(live) => Ok(Some(live)),
        Read::Missing => Ok(None),
        Read::Denied(d) => Err(CallError {
            operation: "DescribeTable",
            resource: d.resource,
            code: Some("AccessDeniedException".into()),
            message: d.message,
            status: Some(403),
            fix: None,
        }),
        Read::Failed(e) => Err(e),
    }
}

async fn tags_of(aws: &Aws, arn: &str, name: &str) -> Result<Read<Tags>, CallError> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    // ListTagsOfResource pages by NextToken (10 tags a page at most on AWS; a table has ≤ 50).
    for _ in 0..100 {
        let got = aws
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.take())
            .send()
            .await;
        let page = found!(read(got, "ListTagsOfResource", &what(name), |e| {
            e.is_resource_not_found_exception()
        }));
        for t in page.tags() {
            tags.insert(t.key().to_string(), t.value().to_string());
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(Read::Found(tags)),
        }
    }
    Ok(Read::Found(tags))
}

fn internal(operation: &'static str, name: &str, message: String) -> CallError {
    CallError {
        operation,
        resource: what(name),
        code: None,
        message,
        status: None,
        fix: None,
    }
}

fn scalar(k: KeyType) -> ScalarAttributeType {
    match k {
        KeyType::S => ScalarAttributeType::S,
        KeyType::N => ScalarAttributeType::N,
        KeyType::B => ScalarAttributeType::B,
    }
}

fn view(v: StreamView) -> StreamViewType {
    match v {
        StreamView::KeysOnly => StreamViewType::KeysOnly,
        StreamView::NewImage => StreamViewType::NewImage,
        StreamView::OldImage => StreamViewType::OldImage,
        StreamView::NewAndOldImages => StreamViewType::NewAndOldImages,
    }
}

fn dynamo_tags(tags: &Tags) -> Result<Vec<Tag>, String> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// CreateTable: the settings' key schema, on-demand billing, the stream when asked, `tags`.
pub async fn create(
    aws: &Aws,
    name: &str,
    settings: &serde_json::Value,
    tags: &Tags,
) -> Result<Live, CallError> {
    let c: Create = serde_json::from_value(settings.clone()).map_err(|e| {
        internal(
            "CreateTable",
            name,
            format!("the plan's table settings are not a key schema: {e}"),
        )
    })?;
    let build =
        |e: aws_sdk_dynamodb::error::BuildError| internal("CreateTable", name, e.to_string());
    let mut request = aws
        .dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_tags(Some(
            dynamo_tags(tags).map_err(|m| internal("CreateTable", name, m))?,
        ));
    let mut keys = vec![(Role::Hash, &c.partition_key)];
    keys.extend(c.sort_key.as_ref().map(|k| (Role::Range, k)));
    for (role, k) in keys {
        request = request
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(&k.name)
                    .key_type(role)
                    .build()
                    .map_err(build)?,
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&k.name)
                    .attribute_type(scalar(k.kind))
                    .build()
                    .map_err(build)?,
            );
    }
    if let Some(v) = c.stream_view_type {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view(v))
                .build()
                .map_err(build)?,
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| CallError::new("CreateTable", what(name), &e))?;
    let t = out.table_description();
    Ok(Live {
        id: name.to_string(),
        arn: t
            .and_then(|t| t.table_arn())
            .unwrap_or_default()
            .to_string(),
        status: t
            .and_then(|t| t.table_status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        endpoint: t.and_then(|t| t.latest_stream_arn()).map(str::to_string),
        tags: tags.clone(),
        ..Live::default()
    })
}

pub async fn tag(aws: &Aws, arn: &str, tags: &Tags) -> Result<(), CallError> {
    aws.dynamodb
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            dynamo_tags(tags).map_err(|m| internal("dynamodb:TagResource", arn, m))?,
        ))
        .send()
        .await
        .map_err(|e| CallError::new("dynamodb:TagResource", arn, &e))?;
    Ok(())
}

pub async fn untag(aws: &Aws, arn: &str, keys: &[String]) -> Result<(), CallError> {
    aws.dynamodb
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| CallError::new("dynamodb:UntagResource", arn, &e))?;
    Ok(())
}

/// DeleteTable; a table already gone is fine.
pub async fn delete(aws: &Aws, name: &str) -> Result<(), CallError> {
    let r = aws.dynamodb.delete_table().table_name(name).send().await;
    gone_is_fine(r, &["ResourceNotFoundException"], "DeleteTable", what(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_decides_whether_a_table_holds_items() {
        assert!(counted_items(0, false).is_empty());
        // ItemCount lags by hours: a stale 5 after the table was emptied is not data.
        assert!(counted_items(5, false).is_empty());
        let fresh = counted_items(0, true);
        assert_eq!(fresh.describe(), "at least 1 item");
        assert_eq!(counted_items(1200, true).describe(), "1,200 items");
    }
}
