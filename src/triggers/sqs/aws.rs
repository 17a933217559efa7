//! The AWS half of `trigger: sqs`: the queue's URL and its depth as KEDA's aws-sqs-queue
//! scaler reads it.

use super::super::Reading;
use crate::cloud::{Aws, CallError};
use crate::scaling::QueueDepth;
use crate::spec::App;
use crate::spec::target::Target;
use aws_sdk_sqs::types::QueueAttributeName as Attr;

/// The URL of a queue (GetQueueUrl); a queue that does not exist says how to make it.
pub async fn queue_url(aws: &Aws, queue: &str) -> anyhow::Result<String> {
    match aws.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(out) => Ok(out.queue_url().unwrap_or_default().to_string()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_queue_does_not_exist()) =>
        {
            anyhow::bail!(
                "SQS queue {queue} does not exist in {}\n  fix: create it with `kedactl up --only queue`, or choose the queue with --queue / --app",
                aws.region
            );
        }
        Err(e) => Err(CallError::new("GetQueueUrl", format!("SQS queue {queue}"), &e).into()),
    }
}

/// The queue's depth, read as KEDA's scaler reads it (`triggers::aws::metric`).
pub struct Reader<'a> {
    aws: &'a Aws,
    url: String,
    app: &'a App,
}

impl<'a> Reader<'a> {
    pub async fn open(aws: &'a Aws, app: &'a App, _target: &'a Target) -> anyhow::Result<Self> {
        let url = queue_url(aws, &app.queue.name).await?;
        Ok(Reader { aws, url, app })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
        let s = &self.app.scaling;
        let d = depth(
            self.aws,
            &self.url,
            s.scale_on_in_flight,
            s.scale_on_delayed,
        )
        .await?;
        let mut detail = format!("{} visible", d.visible);
        if s.scale_on_in_flight {
            detail.push_str(&format!(" + {} in flight", d.in_flight));
        }
        if s.scale_on_delayed {
            detail.push_str(&format!(" + {} delayed", d.delayed));
        }
        Ok(Reading {
            value: d.visible + d.in_flight + d.delayed,
            detail,
        })
    }
}

/// The queue's depth as KEDA's aws-sqs-queue scaler reads it: one GetQueueAttributes, asking for
/// in-flight and delayed counts only when they count (uncounted parts are 0).
pub async fn depth(
    aws: &Aws,
    url: &str,
    in_flight: bool,
    delayed: bool,
) -> Result<QueueDepth, CallError> {
    let mut names = vec![Attr::ApproximateNumberOfMessages];
    if in_flight {
        names.push(Attr::ApproximateNumberOfMessagesNotVisible);
    }
    if delayed {
        names.push(Attr::ApproximateNumberOfMessagesDelayed);
    }
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .set_attribute_names(Some(names.clone()))
        .send()
        .await
        .map_err(|e| CallError::new("GetQueueAttributes", url, &e))?;
    counts(out.attributes(), &names).map_err(|message| CallError {
        operation: "GetQueueAttributes",
        resource: url.to_string(),
        code: None,
        message,
        status: None,
        fix: None,
    })
}

/// The depth from GetQueueAttributes' answer. A requested count that is missing or not a number
/// is an error, as in KEDA's scaler since 2.16 (`processQueueLengthFromSqsQueueAttributesOutput`
/// in pkg/scalers/aws_sqs_queue_scaler.go), never a silent 0.
fn counts(
    attributes: Option<&std::collections::HashMap<Attr, String>>,
    requested: &[Attr],
) -> Result<QueueDepth, String> {
    let get = |a: Attr| -> Result<u64, String> {
        if !requested.contains(&a) {
            return Ok(0);
        }
        let text = attributes
            .and_then(|m| m.get(&a))
            .ok_or_else(|| format!("metric {} not found in SQS queue attributes", a.as_str()))?;
        text.parse()
            .map_err(|_| format!("metric {} is {text:?}, not a count", a.as_str()))
    };
    Ok(QueueDepth {
        visible: get(Attr::ApproximateNumberOfMessages)?,
        in_flight: get(Attr::ApproximateNumberOfMessagesNotVisible)?,
        delayed: get(Attr::ApproximateNumberOfMessagesDelayed)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_missing_or_garbled_count_is_an_error_not_zero() {
        let both = [
            Attr::ApproximateNumberOfMessages,
            Attr::ApproximateNumberOfMessagesNotVisible,
        ];
        let answer = HashMap::from([
            (Attr::ApproximateNumberOfMessages, "7".to_string()),
            (Attr::ApproximateNumberOfMessagesNotVisible, "2".to_string()),
        ]);
        let d = counts(Some(&answer), &both).unwrap();
        assert_eq!((d.visible, d.in_flight, d.delayed), (7, 2, 0));
        let only_visible = HashMap::from([(Attr::ApproximateNumberOfMessages, "7".to_string())]);
        assert_eq!(
            counts(Some(&only_visible), &both).unwrap_err(),
            "metric ApproximateNumberOfMessagesNotVisible not found in SQS queue attributes"
        );
        assert!(counts(None, &both).is_err());
        let garbled = HashMap::from([(Attr::ApproximateNumberOfMessages, "seven".to_string())]);
        assert_eq!(
            counts(Some(&garbled), &[Attr::ApproximateNumberOfMessages]).unwrap_err(),
            "metric ApproximateNumberOfMessages is \"seven\", not a count"
        );
        // What was not asked for is not needed.
        assert_eq!(
            counts(Some(&only_visible), &[Attr::ApproximateNumberOfMessages])
                .unwrap()
                .visible,
            7
        );
    }
}
