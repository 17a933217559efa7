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
        .set_attribute_names(Some(names))
        .send()
        .await
        .map_err(|e| CallError::new("GetQueueAttributes", url, &e))?;
    let get = |a: Attr| {
        out.attributes()
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(QueueDepth {
        visible: get(Attr::ApproximateNumberOfMessages),
        in_flight: get(Attr::ApproximateNumberOfMessagesNotVisible),
        delayed: get(Attr::ApproximateNumberOfMessagesDelayed),
    })
}
