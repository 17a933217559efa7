//! The SQS steps of the AWS executor. A queue may be shared by the clusters of a stack: a
//! create joins one another run made meanwhile, and `down` of one cluster only untags it.

use super::aws::{Cx, hash_map, still_empty};
use super::{StepError, settle, trust};
use crate::cloud::{Aws, CallError, error_code, gone_is_fine};
use crate::observed::Tags;
use crate::plan::Action;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// The codes SQS answers for a queue that does not exist (JSON and query protocols).
const NO_QUEUE: [&str; 2] = [
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
];

/// One SQS step (`exec::aws::apply` sends only these here).
pub(super) async fn apply(cx: &Cx<'_>) -> Result<(), StepError> {
    match &cx.step.action {
        Action::CreateQueue {
            queue,
            attributes,
            tags,
        } => create_queue(cx, queue, attributes, tags).await,
        Action::SetQueueAttributes {
            queue,
            url,
            attributes,
        } => set_attributes(cx, queue, url, attributes).await,
        Action::TagQueue { queue, url, tags } => tag_queue(cx, queue, url, tags).await,
        Action::UntagQueue { queue, url, keys } => untag_queue(cx, queue, url, keys).await,
        Action::DeleteQueue {
            queue, url, force, ..
        } => delete_queue(cx, queue, url, *force).await,
        _ => unreachable!("exec::aws sends only SQS actions here"),
    }
}

fn sqs_attributes(
    attributes: &BTreeMap<String, String>,
) -> HashMap<aws_sdk_sqs::types::QueueAttributeName, String> {
    attributes
        .iter()
        .map(|(k, v)| {
            (
                aws_sdk_sqs::types::QueueAttributeName::from(k.as_str()),
                v.clone(),
            )
        })
        .collect()
}

/// Create the queue, or join the one another cluster's run made since the plan; then this
/// cluster's tags (`queue_tagged`).
async fn create_queue(
    cx: &Cx<'_>,
    queue: &str,
    attributes: &BTreeMap<String, String>,
    tags: &Tags,
) -> Result<(), StepError> {
    let (aws, opts) = (cx.aws, cx.opts);
    let res = format!("SQS queue {queue}");
    // SQS refuses a name deleted less than 60 seconds ago.
    let deleted_recently = |e: &CallError| {
        matches!(
            e.code.as_deref(),
            Some("QueueDeletedRecently" | "AWS.SimpleQueueService.QueueDeletedRecently")
        )
        .then_some("SQS keeps a deleted queue's name for 60 s")
    };
    let timeout = opts.settle_timeout.max(Duration::from_secs(70));
    // The stack's tags are the same from every cluster; this cluster's own key is added
    // after (see `queue_tagged`).
    let stack_tags: Tags = tags
        .iter()
        .filter(|(k, _)| !k.starts_with(crate::model::CLUSTER_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Read again right before creating: another cluster's run may have made it since
    // the plan (then it is only joined), which leaves a concurrent create one round trip.
    let found = aws.sqs.get_queue_url().queue_name(queue).send().await;
    let url = match found {
        Ok(out) => out.queue_url().unwrap_or_default().to_string(),
        Err(e) if error_code(&e).is_some_and(|c| NO_QUEUE.contains(&c)) => {
            settle(
                timeout,
                opts.poll,
                (cx.progress, cx.step),
                || async {
                    let r = aws
                        .sqs
                        .create_queue()
                        .queue_name(queue)
                        .set_attributes(Some(sqs_attributes(attributes)))
                        .set_tags(Some(hash_map(&stack_tags)))
                        .send()
                        .await;
                    r.map(|o| o.queue_url().unwrap_or_default().to_string())
                        .map_err(|e| CallError::new("CreateQueue", &res, &e))
                },
                deleted_recently,
            )
            .await?
        }
        Err(e) => return Err(CallError::new("GetQueueUrl", &res, &e).into()),
    };
    queue_tagged(cx, queue, &url, tags).await
}

/// How long a created queue's tags are watched at most (see `queue_tagged`).
const QUEUE_TAG_WATCH: Duration = Duration::from_secs(2);

/// CreateQueue answers with the URL of a queue of that name that already exists when its
/// attributes match (another cluster's run may have created it since the plan), and what it
/// does with the tags then is not documented (moto replaces them). So it is sent only the
/// stack's tags, the same from every cluster; then, for the watch window, the tags are read
/// back (another stack's queue is refused) and this cluster's missing keys are added by
/// TagQueue, which changes only the keys it names: a concurrent create cannot take them.
async fn queue_tagged(cx: &Cx<'_>, queue: &str, url: &str, tags: &Tags) -> Result<(), StepError> {
    let (aws, opts) = (cx.aws, cx.opts);
    let res = format!("SQS queue {queue}");
    let stack = crate::model::STACK;
    // A peer's create can only land within about one round trip of ours (each run reads
    // right before creating), so a short window suffices; it never exceeds --trust-watch.
    let window = opts.trust_watch.min(QUEUE_TAG_WATCH);
    let mut tagged = Instant::now();
    let mut tags_sent = 0;
    loop {
        let have = aws
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .map_err(|e| CallError::new("ListQueueTags", &res, &e))?
            .tags()
            .cloned()
            .unwrap_or_default();
        if have.get(stack) != tags.get(stack) {
            return Err(StepError::NotOwned {
                what: res,
                now: have.get(stack).cloned(),
                stack: tags.get(stack).cloned().unwrap_or_default(),
            });
        }
        let missing: Tags = tags
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if missing.is_empty() && tagged.elapsed() >= window {
            return Ok(());
        }
        if !missing.is_empty() {
            if tags_sent == 8 {
                return Err(StepError::Other(format!(
                    "{res} lost this cluster's tag 8 times while this run created it: another \
                     run keeps re-creating it. Run `kedactl up` again once that one is done"
                )));
            }
            tags_sent += 1;
            let r = aws
                .sqs
                .tag_queue()
                .queue_url(url)
                .set_tags(Some(hash_map(&missing)))
                .send()
                .await;
            r.map_err(|e| CallError::new("TagQueue", &res, &e))?;
            tagged = Instant::now();
            cx.progress.waiting(
                &cx.step.id,
                &cx.step.summary,
                &format!(
                    "watching its tags for {}s: another cluster's run may be creating it too",
                    window.as_secs_f64()
                ),
            );
        }
        tokio::time::sleep(trust::poll(opts.trust_watch)).await;
    }
}

async fn set_attributes(
    cx: &Cx<'_>,
    queue: &str,
    url: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .sqs
        .set_queue_attributes()
        .queue_url(url)
        .set_attributes(Some(sqs_attributes(attributes)))
        .send()
        .await;
    r.map_err(|e| CallError::new("SetQueueAttributes", format!("SQS queue {queue}"), &e))?;
    Ok(())
}

async fn tag_queue(cx: &Cx<'_>, queue: &str, url: &str, tags: &Tags) -> Result<(), StepError> {
    let r = cx
        .aws
        .sqs
        .tag_queue()
        .queue_url(url)
        .set_tags(Some(hash_map(tags)))
        .send()
        .await;
    r.map_err(|e| CallError::new("TagQueue", format!("SQS queue {queue}"), &e))?;
    Ok(())
}

async fn untag_queue(
    cx: &Cx<'_>,
    queue: &str,
    url: &str,
    keys: &[String],
) -> Result<(), StepError> {
    let r = cx
        .aws
        .sqs
        .untag_queue()
        .queue_url(url)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await;
    gone_is_fine(r, &NO_QUEUE, "UntagQueue", format!("SQS queue {queue}"))?;
    Ok(())
}

/// Delete the queue, unless (without `force`) it holds messages now.
async fn delete_queue(cx: &Cx<'_>, queue: &str, url: &str, force: bool) -> Result<(), StepError> {
    if !force {
        still_empty(
            &format!("SQS queue {queue}"),
            &queue_messages(cx.aws, queue, url).await?,
        )?;
    }
    let r = cx.aws.sqs.delete_queue().queue_url(url).send().await;
    gone_is_fine(r, &NO_QUEUE, "DeleteQueue", format!("SQS queue {queue}"))?;
    Ok(())
}

/// A queue's messages now; a queue already gone holds none.
async fn queue_messages(
    aws: &Aws,
    queue: &str,
    url: &str,
) -> Result<crate::observed::Data, StepError> {
    let r = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await;
    match r {
        Ok(out) => Ok(crate::observed::queue_messages(
            &out.attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect(),
        )),
        Err(e) if error_code(&e).is_some_and(|c| NO_QUEUE.contains(&c)) => {
            Ok(crate::observed::Data::counted(0, "messages"))
        }
        Err(e) => {
            Err(CallError::new("GetQueueAttributes", format!("SQS queue {queue}"), &e).into())
        }
    }
}
