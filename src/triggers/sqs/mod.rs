//! `trigger: sqs` (the default) — the seed's `aws-sqs-queue` trigger on the app's `queue`.
//! Its queues have a lifecycle of their own (attributes, dead-letter queues, encryption, tags
//! shared by the clusters of a stack) in the queue parts of `render`, `plan`, `observe` and
//! `exec`; this module gives the trigger, its grant and its scaling target.

pub mod aws;

use super::{Kind, ScalingTarget, Trigger};
use crate::model::IDENTITY_POLICY;
use crate::observed::Observed;
use crate::spec::target::Target;
use crate::spec::{App, Spec, queue_key};
use crate::templates::{self, Document, RenderError};
use crate::unique::Unique;
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
}
