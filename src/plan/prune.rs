//! `up` removes what the config no longer names: an app taken out of `kedactl.yaml` takes its
//! queue (and DLQ), repository and Kubernetes objects with it; a renamed queue is a create and
//! a delete in one plan. The live resources come from `observe::leftovers` (found by this
//! stack's tags, and this cluster's key, or labels); the deletions are `down`'s own
//! (`teardown` over just them), so the same rules hold: data is kept without `--force`, a
//! resource another cluster still uses loses only this cluster's key, a Namespace goes only
//! when nothing else lives in it.

use super::teardown::{self, teardown};
use super::{Action, Change, Conflict, Observed, Step};
use crate::model::{self, Group, Only};
use crate::observed::{Tags, describe};
use crate::render::{self, Desired, object_ref};
use serde_json::{Value, json};

/// Starts the reason of every deletion and refusal this module plans.
pub const NO_LONGER: &str = "no longer in the config";

/// The kinds of an app's objects `up` deletes when the config no longer names them, in apply
/// order (`teardown` deletes in reverse: the scaler first).
pub const APP_KINDS: [&str; 6] = [
    "Namespace",
    "ServiceAccount",
    "Deployment",
    "TriggerAuthentication",
    "ScaledObject",
    "ScaledJob",
];

/// Is a queue's or repository's tag set this stack's, in this cluster? (One without this
/// cluster's key belongs to other clusters, or predates the keys: never a candidate.)
pub fn ours_here(tags: &Tags, desired: &Desired) -> bool {
    model::is_owned(tags, &desired.stack)
        && tags.contains_key(&model::cluster_tag(&desired.cluster))
}

/// An object no manifest names and that is not KEDA's own (its namespace, its operator's
/// service account): a candidate when it carries the stack's label.
pub fn retired_object(desired: &Desired, kind: &str, ns: Option<&str>, name: &str) -> bool {
    let keda = &desired.keda.namespace;
    let installs = match kind {
        "Namespace" => name == keda,
        _ => ns == Some(keda.as_str()),
    };
    let named = desired.manifests.iter().any(|m| {
        let (k, n, x) = object_ref(m);
        k == kind && n.as_deref() == ns && x == name
    });
    APP_KINDS.contains(&kind) && !installs && !named
}

/// What `up` deletes because the config no longer names it.
#[derive(Debug, Default)]
pub struct Pruned {
    pub steps: Vec<Step>,
    /// Deletions refused (what they would lose): `up` stops before any step.
    pub conflicts: Vec<Conflict>,
}

/// The steps deleting this stack's retired queues, repositories and objects, as `teardown`
/// plans them, with their reason in the summary.
pub fn prune(desired: &Desired, observed: &Observed, only: &Only, force: bool) -> Pruned {
    let (gone, seen) = retired(desired, observed);
    let opts = teardown::Options {
        force,
        only: only.clone(),
        keep_hint: Some("pass --no-prune"),
    };
    let (plan, conflicts) = match teardown(&gone, &seen, &opts) {
        Ok((plan, _)) => (plan, vec![]),
        Err(refused) => {
            let conflicts = refused
                .resources
                .iter()
                .zip(&refused.reasons)
                .map(|(what, reason)| Conflict {
                    resource: what.clone(),
                    reason: format!(
                        "{NO_LONGER}, and it {}",
                        reason.strip_prefix(&format!("{what} ")).unwrap_or(reason)
                    ),
                })
                .collect();
            (refused.plan, conflicts)
        }
    };
    let mut steps = plan.steps;
    for s in &mut steps {
        s.summary = format!("{} ({NO_LONGER})", s.summary);
    }
    Pruned { steps, conflicts }
}

/// What `--no-prune` keeps, one line each: "kept, no longer in the config: SQS queue q2".
pub fn kept(desired: &Desired, observed: &Observed, only: &Only) -> Vec<String> {
    let mut steps = prune(desired, observed, only, true).steps;
    steps.extend(
        super::retired_resources(desired, observed)
            .into_iter()
            .map(|(id, action)| step(id, Group::Source, action)),
    );
    steps.extend(
        super::retired_associations(desired, observed)
            .into_iter()
            .map(|(id, action)| step(id, Group::Eks, action)),
    );
    steps
        .iter()
        .filter(|s| only.includes(s.group) && s.change == Change::Delete)
        .filter_map(|s| what(&s.action))
        .map(|w| format!("kept, {NO_LONGER}: {w}"))
        .collect()
}

fn step(id: String, group: Group, action: Action) -> Step {
    Step {
        id,
        group,
        change: Change::Delete,
        summary: String::new(),
        changes: vec![],
        action,
        after: vec![],
    }
}

/// What a deletion removes, for people.
fn what(action: &Action) -> Option<String> {
    Some(match action {
        Action::DeleteQueue { queue, .. } => format!("SQS queue {queue}"),
        Action::DeleteRepository { repository, .. } => format!("ECR repository {repository}"),
        Action::DeleteObject {
            kind,
            namespace,
            name,
        } => describe(kind, namespace.as_deref(), name),
        Action::DeleteResource { resource, name, .. } => format!("{} {name}", resource.noun()),
        Action::DeleteAssociation {
            namespace,
            service_account,
            ..
        } => format!("pod identity association {namespace}/{service_account}"),
        _ => return None,
    })
}

/// A desired state naming only what is retired, and the observation of only that: `teardown`
/// over the two deletes exactly the retired resources.
fn retired(desired: &Desired, observed: &Observed) -> (Desired, Observed) {
    let mut seen = Observed::default();
    let named = |n: &str| desired.queues.iter().any(|q| q.name == n);
    let mut queues: Vec<render::Queue> = Vec::new();
    for (name, q) in &observed.queues {
        if named(name) || !ours_here(&q.tags, desired) {
            continue;
        }
        seen.queues.insert(name.clone(), q.clone());
        let mut attributes = std::collections::BTreeMap::new();
        if let Some(r) = q.attributes.get("RedrivePolicy") {
            attributes.insert("RedrivePolicy".to_string(), r.clone());
        }
        queues.push(render::Queue {
            name: name.clone(),
            url: q.url.clone(),
            arn: q.attributes.get("QueueArn").cloned().unwrap_or_default(),
            attributes,
        });
    }
    // Dead-letter queues first, as `render` lists them (`teardown` deletes in reverse).
    let is_dlq = |q: &render::Queue| {
        !q.arn.is_empty()
            && queues.iter().any(|other| {
                other
                    .attributes
                    .get("RedrivePolicy")
                    .is_some_and(|r| r.contains(&format!("\"{}\"", q.arn)))
            })
    };
    let (mut dlqs, mains): (Vec<_>, Vec<_>) = queues.iter().cloned().partition(is_dlq);
    dlqs.extend(mains);
    let repositories = observed
        .repositories
        .iter()
        .filter(|(name, r)| {
            !desired.repositories.iter().any(|d| &d.name == *name) && ours_here(&r.tags, desired)
        })
        .map(|(name, r)| {
            seen.repositories.insert(name.clone(), r.clone());
            render::Repository {
                name: name.clone(),
                uri: String::new(),
            }
        })
        .collect();
    let mut manifests = Vec::new();
    for kind in APP_KINDS {
        for o in observed.objects.iter().filter(|o| o["kind"] == kind) {
            let ns = o["metadata"]["namespace"].as_str();
            let name = o["metadata"]["name"].as_str().unwrap_or_default();
            let labels: Tags =
                serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
            if !model::is_owned(&labels, &desired.stack) || !retired_object(desired, kind, ns, name)
            {
                continue;
            }
            seen.objects.push(o.clone());
            manifests.push(json!({
                "kind": kind,
                "metadata": match ns {
                    Some(ns) => json!({"name": name, "namespace": ns}),
                    None => json!({"name": name}),
                },
            }));
            if kind == "Namespace" {
                for (from, to) in [
                    (&observed.namespace_contents, &mut seen.namespace_contents),
                    (&observed.namespace_unchecked, &mut seen.namespace_unchecked),
                ] {
                    if let Some(c) = from.get(name) {
                        to.insert(name.to_string(), c.clone());
                    }
                }
            }
        }
    }
    let gone = Desired {
        addon: None,
        roles: vec![],
        queues: dlqs,
        repositories,
        resources: vec![],
        triggers: vec![],
        oidc_provider: None,
        associations: vec![],
        retired_associations: vec![],
        manifests,
        workloads: vec![],
        ..desired.clone()
    };
    (gone, seen)
}

/// Renamed queues, old → new: a retired queue and a created one the same app's live scaler
/// links (its queueURL was the old one's); without the cluster, the one queue retired and the
/// one created when there is exactly one of each. Their dead-letter queues pair the same way
/// through the redrive policies.
pub fn renames(
    desired: &Desired,
    observed: &Observed,
    planned: &[Step],
    pruned: &[Step],
) -> Vec<(String, String)> {
    let created: Vec<&str> = planned
        .iter()
        .filter_map(|s| match &s.action {
            Action::CreateQueue { queue, .. } => Some(queue.as_str()),
            _ => None,
        })
        .collect();
    let deleted: Vec<&str> = pruned
        .iter()
        .filter_map(|s| match &s.action {
            Action::DeleteQueue { queue, .. } => Some(queue.as_str()),
            _ => None,
        })
        .collect();
    let name_of = |url: &str| url.rsplit('/').next().unwrap_or_default().to_string();
    let url_in = |o: &Value| {
        o["spec"]["triggers"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|t| t["metadata"]["queueURL"].as_str())
            .map(name_of)
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    for m in &desired.manifests {
        let (kind, ns, name) = object_ref(m);
        if kind != "ScaledObject" && kind != "ScaledJob" {
            continue;
        }
        let (Some(live), Some(new)) = (observed.object(&kind, ns.as_deref(), &name), url_in(m))
        else {
            continue;
        };
        if let Some(old) = url_in(live)
            && deleted.contains(&old.as_str())
            && created.contains(&new.as_str())
        {
            pairs.push((old, new));
        }
    }
    // The DLQ a queue's redrive policy names, live (old) or configured (new).
    let dlq = |attrs: Option<&std::collections::BTreeMap<String, String>>| {
        let arn = serde_json::from_str::<Value>(attrs?.get("RedrivePolicy")?).ok()?
            ["deadLetterTargetArn"]
            .as_str()?
            .to_string();
        Some(arn.rsplit(':').next()?.to_string())
    };
    let old_dlq = |q: &str| dlq(observed.queues.get(q).map(|q| &q.attributes));
    let new_dlq = |q: &str| {
        dlq(desired
            .queues
            .iter()
            .find(|d| d.name == q)
            .map(|d| &d.attributes))
    };
    let dlqs: Vec<String> = deleted
        .iter()
        .filter_map(|q| old_dlq(q))
        .chain(created.iter().filter_map(|q| new_dlq(q)))
        .collect();
    if pairs.is_empty() {
        let main = |qs: &[&str]| -> Vec<String> {
            qs.iter()
                .filter(|q| !dlqs.iter().any(|d| d == *q))
                .map(|q| q.to_string())
                .collect()
        };
        if let ([old], [new]) = (main(&deleted).as_slice(), main(&created).as_slice()) {
            pairs.push((old.clone(), new.clone()));
        }
    }
    let mut with_dlqs = pairs.clone();
    for (old, new) in &pairs {
        if let (Some(o), Some(n)) = (old_dlq(old), new_dlq(new))
            && o != n
            && deleted.contains(&o.as_str())
            && created.contains(&n.as_str())
        {
            with_dlqs.push((o, n));
        }
    }
    with_dlqs
}

/// Show each rename on its two steps: "q1 → q1b: the new queue is created, the old one (12
/// messages) would be deleted".
pub fn show_renames(steps: &mut [Step], renames: &[(String, String)]) {
    for (old, new) in renames {
        let held = steps.iter().find_map(|s| match &s.action {
            Action::DeleteQueue {
                queue,
                loses: Some(d),
                ..
            } if queue == old && !d.is_empty() => Some(format!(" ({})", d.describe())),
            _ => None,
        });
        let line = format!(
            "{old} → {new}: the new queue is created, the old one{} would be deleted",
            held.unwrap_or_default()
        );
        for s in steps.iter_mut() {
            match &s.action {
                Action::CreateQueue { queue, .. } if queue == new => {
                    s.summary = format!("create SQS queue {new} ({line})");
                }
                Action::DeleteQueue { queue, .. } if queue == old => {
                    s.summary = format!("delete SQS queue {old} ({line})");
                }
                _ => {}
            }
        }
    }
}
