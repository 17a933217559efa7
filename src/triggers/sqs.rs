//! `trigger: sqs` (the default) — the seed's `aws-sqs-queue` trigger on the app's `queue`.
//! Its queues have a lifecycle of their own (attributes, dead-letter queues, encryption, tags
//! shared by the clusters of a stack) in the queue parts of `render`, `plan`, `observe` and
//! `exec`; this module gives the trigger, its grant and its scaling target.

use super::{Kind, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::render::{
    Document, IDENTITY_POLICY, RenderError, Target, push_unique, queue_key, templates,
};
use crate::spec::{App, AuthMode, Problem, Spec};
use serde_json::{Map, Value, json};

pub struct Sqs;

impl Trigger for Sqs {
    fn kind(&self) -> Kind {
        Kind::Sqs
    }

    fn keda_type(&self) -> &'static str {
        "aws-sqs-queue"
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
        let mut queue_arns: Vec<String> = Vec::new();
        let mut key_arns: Vec<String> = Vec::new();
        let mut namespaces: Vec<&str> = Vec::new();
        let mut accounts: Vec<&str> = Vec::new();
        for app in apps {
            push_unique(&mut queue_arns, target.queue_arn(&app.queue.name));
            if let Some(key) =
                queue_key(app, observed).and_then(|k| target.kms_key_arn(k, &observed.kms_aliases))
            {
                push_unique(&mut key_arns, key);
            }
            namespaces.push(&app.namespace);
            accounts.push(&app.service_account);
        }
        namespaces.sort();
        namespaces.dedup();
        accounts.sort();
        accounts.dedup();
        // Pod Identity sessions carry the pod's namespace and service account as principal tags.
        let consumers = (spec.auth_mode == AuthMode::PodIdentity && spec.roles.scope_consumers)
            .then(|| json!({ "namespaces": namespaces, "service_accounts": accounts }));
        templates::policy(
            "sqs-access.json",
            IDENTITY_POLICY,
            &json!({ "queue_arns": queue_arns, "key_arns": key_arns, "consumers": consumers }),
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
}
