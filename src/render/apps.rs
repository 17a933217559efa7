//! What the apps add to the stack beside their roles: each one's trigger (what it reads and
//! what KEDA's session needs) and the trigger resources, its queues and repository, its pod
//! identity association, and the team's workloads it scales. Pure.

use super::{
    Association, Inputs, KMS_KEY, Queue, RenderError, Repository, Target, TriggerUse, Unique,
    Workload, repository_uri,
};
use crate::spec::{ScalingKind, Spec};
use crate::triggers::{self, Resource};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One repository per name, in the order apps name them. An existing workload's image is
/// the team's: no repository for it.
pub(super) fn repositories(spec: &Spec, target: &Target) -> Vec<Repository> {
    let mut repositories: Vec<Repository> = Vec::new();
    let mut repository_names: HashSet<&str> = HashSet::new();
    for app in &spec.apps {
        if !app.existing && repository_names.insert(&app.repository) {
            repositories.push(Repository {
                name: app.repository.clone(),
                uri: repository_uri(app, target),
            });
        }
    }
    repositories
}

/// Each app's trigger, and the resources the triggers use (each once, in the order apps
/// first name them).
pub(super) fn trigger_uses(at: &Inputs) -> Result<(Vec<TriggerUse>, Vec<Resource>), RenderError> {
    let spec = at.spec;
    let mut resources: Unique<Resource, String> = Unique::default();
    let mut triggers: Vec<TriggerUse> = Vec::new();
    // Deployment name → the namespaces that have one: a name in two is told with its namespace.
    let mut deployments: HashMap<&str, HashSet<&str>> = HashMap::new();
    for app in &spec.apps {
        deployments
            .entry(&app.deployment)
            .or_default()
            .insert(&app.namespace);
    }
    for app in &spec.apps {
        let t = app.trigger.imp();
        let mut used = t.resources(app);
        used.extend(t.cluster_resources(app, at.cluster, at.target, at.observed)?);
        let scaler_kind = match app.scaling.kind {
            ScalingKind::ScaledObject => "ScaledObject",
            ScalingKind::ScaledJob => "ScaledJob",
        };
        triggers.push(TriggerUse {
            app: format!("{}/{}", app.namespace, app.deployment),
            name: match deployments[app.deployment.as_str()].len() > 1 {
                true => format!("{}/{}", app.namespace, app.deployment),
                false => app.deployment.clone(),
            },
            namespace: app.namespace.clone(),
            service_account: app.service_account.clone(),
            queue: (app.trigger == triggers::Kind::Sqs).then(|| app.queue.name.clone()),
            scaler: (scaler_kind.to_string(), app.scaler_name()),
            trigger_auth: app.trigger_auth_name(),
            kind: app.trigger,
            role: app.identity_role(&spec.roles).to_string(),
            needs: t
                .needs(app, at.target, at.observed)
                .into_iter()
                .map(|(a, r)| (a.to_string(), r))
                .collect(),
            resources: used.iter().map(Resource::id).collect(),
        });
        for r in used {
            resources.push(r.id(), r);
        }
    }
    Ok((triggers, resources.into_vec()))
}

/// The SQS apps' queues, each dead-letter queue before the queue that points at it.
pub(super) fn queues(spec: &Spec, target: &Target) -> Vec<Queue> {
    let mut queues: Vec<Queue> = Vec::new();
    let mut queue_names: HashSet<String> = HashSet::new();
    for app in spec
        .apps
        .iter()
        .filter(|a| a.trigger == triggers::Kind::Sqs)
    {
        let q = &app.queue;
        let mut attributes = BTreeMap::from([(
            "VisibilityTimeout".to_string(),
            q.visibility_timeout.to_string(),
        )]);
        if q.is_fifo() {
            attributes.insert("FifoQueue".into(), "true".into());
        }
        // Only a configured key is managed: without one SQS creates the queue with SSE-SQS.
        if let Some(key) = &q.kms_key {
            attributes.insert(KMS_KEY.into(), key.clone());
        }
        if let (Some(dlq), Some(dl)) = (q.dead_letter_name(), &q.dead_letter) {
            let mut dlq_attributes = BTreeMap::new();
            if q.is_fifo() {
                dlq_attributes.insert("FifoQueue".to_string(), "true".to_string());
            }
            push_queue(
                (&mut queues, &mut queue_names),
                target,
                &dlq,
                dlq_attributes,
            );
            let redrive = json!({ "deadLetterTargetArn": target.queue_arn(&dlq), "maxReceiveCount": dl.max_receive_count });
            attributes.insert("RedrivePolicy".into(), redrive.to_string());
        }
        push_queue((&mut queues, &mut queue_names), target, &q.name, attributes);
    }
    queues
}

/// The first queue of a name is kept (a dead-letter queue two apps share is one queue).
fn push_queue(
    (queues, names): (&mut Vec<Queue>, &mut HashSet<String>),
    target: &Target,
    name: &str,
    attributes: BTreeMap<String, String>,
) {
    if names.insert(name.to_string()) {
        queues.push(Queue {
            name: name.to_string(),
            url: target.queue_url(name),
            arn: target.queue_arn(name),
            attributes,
        });
    }
}

/// Pod identity associations (pod-identity mode only): KEDA's, and those of the apps that
/// call AWS themselves; then those of apps whose trigger KEDA alone reads (retired: an
/// earlier kedactl made them), unless another app still wants that service account's.
pub(super) fn associations(at: &Inputs) -> (Vec<Association>, Vec<Association>) {
    let spec = at.spec;
    let mut associations: Unique<Association, (String, String)> = Unique::default();
    let mut retired_associations: Unique<Association, (String, String)> = Unique::default();
    if at.pod_identity() {
        associations.push(
            (
                spec.keda.namespace.clone(),
                spec.keda.service_account.clone(),
            ),
            Association {
                namespace: spec.keda.namespace.clone(),
                service_account: spec.keda.service_account.clone(),
                role: spec.roles.operator.clone(),
                role_arn: at.role_arn(&spec.roles.operator),
            },
        );
        for app in &spec.apps {
            let role = app.identity_role(&spec.roles);
            let a = Association {
                namespace: app.namespace.clone(),
                service_account: app.service_account.clone(),
                role: role.to_string(),
                role_arn: at.role_arn(role),
            };
            let key = (a.namespace.clone(), a.service_account.clone());
            match app.trigger.imp().consumes() {
                true => associations.push(key, a),
                false => retired_associations.push(key, a),
            };
        }
    }
    let associations = associations.into_vec();
    let wanted: HashSet<(&str, &str)> = associations
        .iter()
        .map(|a| (a.namespace.as_str(), a.service_account.as_str()))
        .collect();
    let mut retired_associations = retired_associations.into_vec();
    retired_associations
        .retain(|r| !wanted.contains(&(r.namespace.as_str(), r.service_account.as_str())));
    (associations, retired_associations)
}

/// The apps' workloads that are the team's (`existing: true`).
pub(super) fn workloads(spec: &Spec) -> Vec<Workload> {
    spec.apps
        .iter()
        .filter(|a| a.existing)
        .map(|a| Workload {
            kind: a.kind.as_str().to_string(),
            namespace: a.namespace.clone(),
            name: a.deployment.clone(),
            service_account: a.service_account.clone(),
        })
        .collect()
}
