//! What `simulate`, `load`, `scale` and `watch` share: choosing the app, reaching its queue,
//! reading its depth.

use crate::cloud::{Aws, CallError};
use crate::ctx::Ctx;
use crate::scaling::QueueDepth;
use crate::spec::{App, Problem, Problems, Spec};
use aws_sdk_sqs::types::QueueAttributeName as Attr;

/// The app named by --app, or the only one.
pub fn pick<'a>(spec: &'a Spec, name: Option<&str>, source: &str) -> Result<&'a App, Problems> {
    match name {
        Some(n) => spec.apps.iter().find(|a| a.deployment == n),
        None if spec.apps.len() == 1 => spec.apps.first(),
        None => None,
    }
    .ok_or_else(|| {
        let names: Vec<&str> = spec.apps.iter().map(|a| a.deployment.as_str()).collect();
        Problems {
            origin: source.to_string(),
            problems: vec![Problem::new(
                "--app",
                match name {
                    Some(n) => format!("no app has deployment {n:?}"),
                    None => format!("{} apps are configured; which one?", spec.apps.len()),
                },
                format!("pass --app <deployment>, one of: {}", names.join(", ")),
            )],
        }
    })
}

/// AWS clients for the spec's region, and the URL of the app's queue.
pub async fn connect(ctx: &Ctx, spec: &Spec, app: &App) -> anyhow::Result<(Aws, String)> {
    let aws = ctx.aws(spec.region.clone()).await?;
    let queue = &app.queue.name;
    let url = match aws.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(out) => out.queue_url().unwrap_or_default().to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_queue_does_not_exist()) =>
        {
            anyhow::bail!(
                "SQS queue {queue} does not exist in {}\n  fix: create it with `kedactl up --only queue`, or choose the queue with --queue / --app",
                spec.region.as_deref().unwrap_or("the default region")
            );
        }
        Err(e) => {
            return Err(CallError::new("GetQueueUrl", format!("SQS queue {queue}"), &e).into());
        }
    };
    Ok((aws, url))
}

/// The queue's depth as KEDA's aws-sqs-queue scaler reads it: one GetQueueAttributes, asking for
/// in-flight and delayed counts only when they count.
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
