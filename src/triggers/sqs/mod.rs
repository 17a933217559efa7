//! `trigger: sqs` (the default) — the seed's `aws-sqs-queue` trigger on the app's `queue`.
//! Its queues have a lifecycle of their own (attributes, dead-letter queues, encryption, tags
//! shared by the clusters of a stack) in the queue parts of `render`, `plan`, `observe` and
//! `exec`; this module gives the trigger, its grant and its scaling target.

use super::{Kind, Metric, Reading, ScalingTarget, Trigger};
use crate::cloud::{Aws, CallError};
use crate::observed::Observed;
use crate::render::{Document, IDENTITY_POLICY, RenderError, Target, Unique, queue_key, templates};
use crate::scaling::QueueDepth;
use crate::spec::{App, Problem, Spec};
use aws_sdk_sqs::types::QueueAttributeName as Attr;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

pub struct Sqs;

impl Trigger for Sqs {
    fn kind(&self) -> Kind {
        Kind::Sqs
    }

    fn keda_type(&self) -> &'static str {
        "aws-sqs-queue"
    }

    fn consumes(&self) -> bool {
        true
    }

    /// The `queue` section is checked with the rest of the spec (`spec::validate`): it is
    /// always present, defaulted to the seed's queue.
    fn validate(&self, _app: &App, _at: &str, _out: &mut Vec<Problem>) {}

    /// KEDA's aws-sqs-queue scaler calls only GetQueueAttributes; the consumer app needs the
    /// other four, and kms:Decrypt on a customer-managed key (see policies/sqs-access.json).
    fn policy(
        &self,
        spec: &Spec,
        apps: &[&App],
        target: &Target,
        observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        let mut queue_arns: Unique<String, String> = Unique::default();
        let mut key_arns: Unique<String, String> = Unique::default();
        for app in apps {
            queue_arns.add(target.queue_arn(&app.queue.name));
            if let Some(key) =
                queue_key(app, observed).and_then(|k| target.kms_key_arn(k, &observed.kms_aliases))
            {
                key_arns.add(key);
            }
        }
        let consumers = super::consumers(spec, apps);
        templates::policy(
            "sqs-access.json",
            IDENTITY_POLICY,
            &json!({ "queue_arns": queue_arns.into_vec(), "key_arns": key_arns.into_vec(), "consumers": consumers }),
        )
        .map(Some)
    }

    /// Written out in full, not left to KEDA's defaults.
    fn metadata(&self, app: &App, target: &Target, _observed: &Observed) -> Map<String, Value> {
        let s = &app.scaling;
        let mut m = Map::new();
        m.insert("queueURL".into(), target.queue_url(&app.queue.name).into());
        m.insert("queueLength".into(), s.queue_length.to_string().into());
        m.insert(
            "activationQueueLength".into(),
            s.activation_queue_length.to_string().into(),
        );
        m.insert("awsRegion".into(), target.region.clone().into());
        m.insert(
            "scaleOnInFlight".into(),
            s.scale_on_in_flight.to_string().into(),
        );
        m.insert(
            "scaleOnDelayed".into(),
            s.scale_on_delayed.to_string().into(),
        );
        m
    }

    fn env(&self, app: &App, target: &Target) -> Vec<(&'static str, String)> {
        vec![("QUEUE_URL", target.queue_url(&app.queue.name))]
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        ScalingTarget {
            per_replica: u64::from(app.scaling.queue_length.max(1)),
            activation: u64::from(app.scaling.activation_queue_length),
        }
    }

    fn unit(&self) -> &'static str {
        "messages"
    }

    fn source(&self, app: &App) -> String {
        format!("SQS {}", app.queue.name)
    }

    fn needs(
        &self,
        app: &App,
        target: &Target,
        _observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        vec![("sqs:GetQueueAttributes", target.queue_arn(&app.queue.name))]
    }

    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        _target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>> {
        Box::pin(async move {
            let url = queue_url(aws, &app.queue.name).await?;
            Ok(Box::new(Depth { aws, url, app }) as Box<dyn Metric>)
        })
    }
}

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

struct Depth<'a> {
    aws: &'a Aws,
    url: String,
    app: &'a App,
}

impl Metric for Depth<'_> {
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
        Box::pin(async move {
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
