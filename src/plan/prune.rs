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
use std::collections::HashSet;

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

/// The objects the config's manifests name, by kind, namespace and name.
pub struct Named(HashSet<crate::observed::ObjectKey>);

impl Named {
    pub fn of(desired: &Desired) -> Self {
        Named(desired.manifests.iter().map(object_ref).collect())
    }

    fn contains(&self, kind: &str, ns: Option<&str>, name: &str) -> bool {
        let key = (kind.to_string(), ns.map(str::to_string), name.to_string());
        self.0.contains(&key)
    }
}

/// An object no manifest names (`named`: `Named::of(desired)`) and that is not KEDA's own (its
/// namespace, its operator's service account): a candidate when it carries the stack's label.
pub fn retired_object(
    desired: &Desired,
    named: &Named,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> bool {
    let keda = &desired.keda.namespace;
    let installs = match kind {
        "Namespace" => name == keda,
        _ => ns == Some(keda.as_str()),
    };
    APP_KINDS.contains(&kind) && !installs && !named.contains(kind, ns, name)
}

/// What `up` deletes because the config no longer names it.
#[derive(Debug, Default)]
pub struct Pruned {
    pub steps: Vec<Step>,
    /// Deletions refused (what they would lose): `up` stops before any step.
    pub conflicts: Vec<Conflict>,
}

/// The steps deleting this stack's retired queues, repositories and objects, as `teardown`
/// plans them, with their reason in the summary (`up`: a refusal suggests `--no-prune`).
pub fn prune(desired: &Desired, observed: &Observed, only: &Only, force: bool) -> Pruned {
    prune_with(desired, observed, only, force, Some("pass --no-prune"))
}

/// `prune`, with `keep` saying how a refused delete is kept instead (`down`: None, leave its
/// group out of --only).
pub fn prune_with(
    desired: &Desired,
    observed: &Observed,
    only: &Only,
    force: bool,
    keep: Option<&'static str>,
) -> Pruned {
    let (gone, seen) = retired(desired, observed);
    let opts = teardown::Options {
        force,
        only: only.clone(),
        keep_hint: keep,
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
    // Sets, not scans: a stack of thousands of apps meets thousands of resources.
    let queue_names: HashSet<&str> = desired.queues.iter().map(|q| q.name.as_str()).collect();
    let named = |n: &str| queue_names.contains(n);
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
    let dead_letter_arns: HashSet<String> = queues
        .iter()
        .filter_map(|q| crate::observed::dead_letter_arn(&q.attributes))
        .collect();
    let is_dlq = |q: &render::Queue| !q.arn.is_empty() && dead_letter_arns.contains(&q.arn);
    let (mut dlqs, mains): (Vec<_>, Vec<_>) = queues.iter().cloned().partition(is_dlq);
    dlqs.extend(mains);
    let repository_names: HashSet<&str> = desired
        .repositories
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let repositories = observed
        .repositories
        .iter()
        .filter(|(name, r)| {
            !repository_names.contains(name.as_str()) && ours_here(&r.tags, desired)
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
    let named = Named::of(desired);
    for kind in APP_KINDS {
        for o in observed.objects.iter().filter(|o| o["kind"] == kind) {
            let ns = o["metadata"]["namespace"].as_str();
            let name = o["metadata"]["name"].as_str().unwrap_or_default();
            let labels: Tags =
                serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
            if !model::is_owned(&labels, &desired.stack)
                || !retired_object(desired, &named, kind, ns, name)
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
    // Associations of service accounts no app names any more (this stack's, in this cluster).
    let service_accounts: HashSet<(&str, &str)> = desired
        .associations
        .iter()
        .chain(&desired.retired_associations)
        .map(|d| (d.namespace.as_str(), d.service_account.as_str()))
        .collect();
    let associations = observed
        .associations
        .iter()
        .filter(|a| {
            model::is_owned(&a.tags, &desired.stack)
                && !service_accounts.contains(&(a.namespace.as_str(), a.service_account.as_str()))
        })
        .map(|a| {
            seen.associations.push(a.clone());
            render::Association {
                namespace: a.namespace.clone(),
                service_account: a.service_account.clone(),
                role: a
                    .role_arn
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                role_arn: a.role_arn.clone(),
            }
        })
        .collect();
    let roles = retired_roles(desired, observed);
    for r in &roles {
        seen.roles
            .insert(r.name.clone(), observed.roles[&r.name].clone());
    }
    // Field by field: cloning the whole stack to keep its names would cost more than the rest.
    let gone = Desired {
        stack: desired.stack.clone(),
        trust_policy_quota: desired.trust_policy_quota,
        cluster: desired.cluster.clone(),
        cluster_arn: desired.cluster_arn.clone(),
        target: desired.target.clone(),
        auth_mode: desired.auth_mode,
        tags: desired.tags.clone(),
        user_tags: desired.user_tags.clone(),
        keda: desired.keda.clone(),
        addon: None,
        roles,
        queues: dlqs,
        repositories,
        resources: vec![],
        triggers: vec![],
        oidc_provider: None,
        associations,
        retired_associations: vec![],
        manifests,
        workloads: vec![],
    };
    (gone, seen)
}

/// This stack's identity roles the config no longer names whose trust admits a service account
/// of this cluster, each with the statements this cluster owns (its own, by Sid, and the shared
/// chain) as its "rendered" trust: `teardown` deletes the role when nothing else is left in it,
/// and otherwise takes this cluster's statements out. A role whose trust names no service
/// account of this cluster is not known to be this cluster's and stays.
pub fn retired_roles(desired: &Desired, observed: &Observed) -> Vec<render::Role> {
    let named: HashSet<&str> = desired.roles.iter().map(|r| r.name.as_str()).collect();
    observed
        .roles
        .iter()
        .filter(|(name, r)| {
            !named.contains(name.as_str()) && model::is_owned(&r.tags, &desired.stack)
        })
        .filter_map(|(name, r)| {
            Some(render::Role {
                name: name.clone(),
                arn: r.arn.clone(),
                purpose: render::RolePurpose::Identity,
                trust: render::Document {
                    name: "trust".into(),
                    source: "",
                    body: this_clusters(desired, &r.trust)?,
                },
                policies: vec![],
                path: r.path.clone().unwrap_or_else(|| "/".into()),
                boundary: None,
                managed_policies: vec![],
            })
        })
        .collect()
}

/// Per role of `desired` (a role this stack owns), the statements of its live trust that this
/// cluster wrote for service accounts the config no longer names (by Sid; the chain is never
/// one): `up` takes them out, `down` takes them with the rest of this cluster's.
fn stale(desired: &Desired, observed: &Observed) -> Vec<(String, Vec<Value>)> {
    desired
        .roles
        .iter()
        .filter_map(|role| {
            let live = observed.roles.get(&role.name)?;
            if !model::is_owned(&live.tags, &desired.stack) {
                return None;
            }
            let ours = this_clusters(desired, &live.trust)?;
            let rendered: Vec<&str> = match &role.trust.body["Statement"] {
                Value::Array(a) => a.iter().filter_map(|s| s["Sid"].as_str()).collect(),
                _ => vec![],
            };
            let stale: Vec<Value> = ours["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| {
                    let sid = s["Sid"].as_str().unwrap_or_default();
                    sid != render::CHAIN_SID && !rendered.contains(&sid)
                })
                .cloned()
                .collect();
            (!stale.is_empty()).then(|| (role.name.clone(), stale))
        })
        .collect()
}

/// The Sids `up` takes out of each role's trust (see `stale`): a service account no app names
/// any more is not admitted by this cluster's statements any more either.
pub fn stale_statements(
    desired: &Desired,
    observed: &Observed,
) -> std::collections::BTreeMap<String, Vec<String>> {
    stale(desired, observed)
        .into_iter()
        .map(|(role, statements)| {
            let sids = statements
                .iter()
                .filter_map(|s| s["Sid"].as_str().map(str::to_string))
                .collect();
            (role, sids)
        })
        .collect()
}

/// `desired` with each role's trust also claiming the live statements this cluster wrote for
/// service accounts the config no longer names: `down` takes them out with the rest of this
/// cluster's, instead of reading them as another user who keeps the role.
pub fn claim_stale_statements(desired: &Desired, observed: &Observed) -> Desired {
    let mut d = desired.clone();
    for (name, statements) in stale(desired, observed) {
        let role = d.roles.iter_mut().find(|r| r.name == name);
        if let Some(list) = role.and_then(|r| r.trust.body["Statement"].as_array_mut()) {
            list.extend(statements);
        }
    }
    d
}

/// The statements of a live trust this cluster owns: one whose Sid is the one
/// `render::trust_sid` gives this cluster for the service account its conditions name (a Sid
/// holds a hash of the cluster's ARN, so no other cluster's matches), and the chain. None when
/// there is no such service-account statement.
fn this_clusters(desired: &Desired, live: &Value) -> Option<Value> {
    let statements = match &live["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    };
    let sid_for =
        |ns: &str, sa: &str| render::trust_sid(&desired.cluster, &desired.cluster_arn, ns, sa);
    let mut ours = Vec::new();
    let mut admits = false;
    for s in statements {
        let sid = s["Sid"].as_str().unwrap_or_default();
        if sid == render::CHAIN_SID {
            ours.push(s);
            continue;
        }
        let cond = &s["Condition"]["StringEquals"];
        // Pod Identity unscoped, scoped (session tags), IRSA (the token's subject).
        let mut accounts = vec![(String::new(), "AnyServiceAccount".to_string())];
        let tag = |k: &str| cond[format!("aws:RequestTag/kubernetes-{k}")].as_str();
        if let (Some(ns), Some(sa)) = (tag("namespace"), tag("service-account")) {
            accounts.push((ns.to_string(), sa.to_string()));
        }
        for (k, v) in cond.as_object().into_iter().flatten() {
            let subject = v.as_str().filter(|_| k.ends_with(":sub"));
            if let Some((ns, sa)) = subject
                .and_then(|v| v.strip_prefix("system:serviceaccount:"))
                .and_then(|v| v.split_once(':'))
            {
                accounts.push((ns.to_string(), sa.to_string()));
            }
        }
        if accounts.iter().any(|(ns, sa)| sid_for(ns, sa) == sid) {
            ours.push(s);
            admits = true;
        }
    }
    admits.then(|| json!({"Version": "2012-10-17", "Statement": ours}))
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
        let arn = crate::observed::dead_letter_arn(attrs?)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{DeadLetter, Spec};

    /// Apps `a` (with a DLQ, its own identity role) and `b`, or `b` alone, on cluster `demo`.
    fn desired(with_a: bool) -> Desired {
        let mut spec = Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        };
        let mut b = spec.apps[0].clone();
        b.deployment = "b".into();
        b.service_account = "b-sa".into();
        b.queue.name = "qb".into();
        b.repository = "repo-b".into();
        let a = &mut spec.apps[0];
        a.deployment = "a".into();
        a.service_account = "a-sa".into();
        a.queue.name = "qa".into();
        a.repository = "repo-a".into();
        a.identity_role = Some("id-a".into());
        a.queue.dead_letter = Some(DeadLetter {
            name: None,
            max_receive_count: 5,
        });
        spec.apps.push(b);
        if !with_a {
            spec.apps.remove(0);
        }
        crate::render::desired(&spec).unwrap()
    }

    /// What `up` of `d` left (`teardown`'s fixture), its queues and repositories with this
    /// cluster's key, and each queue's ARN as SQS reports it.
    fn left_by(d: &Desired) -> Observed {
        let mut o = super::super::teardown::tests::everything(d, &d.shared_tags());
        for q in &d.queues {
            let live = o.queues.get_mut(&q.name).unwrap();
            live.attributes.insert("QueueArn".into(), q.arn.clone());
        }
        o
    }

    fn ids(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// `up` after app `a` (sharing the identity role with `b`) left the config: this cluster's
    /// statement for a's service account goes from the shared trust, b's and the chain stay;
    /// `--no-prune` keeps it (no trust step at all).
    #[test]
    fn a_removed_app_s_statement_leaves_the_shared_identity_trust() {
        let shared = |with_a: bool| {
            let mut d = desired(with_a);
            if with_a {
                let mut spec = Spec {
                    cluster: Some("demo".into()),
                    region: Some("us-east-1".into()),
                    account: Some("123456789012".into()),
                    ..Spec::default()
                };
                let mut b = spec.apps[0].clone();
                (b.deployment, b.service_account) = ("b".into(), "b-sa".into());
                let a = &mut spec.apps[0];
                (a.deployment, a.service_account) = ("a".into(), "a-sa".into());
                spec.apps.push(b);
                d = crate::render::desired(&spec).unwrap();
            }
            d
        };
        let (before, after) = (shared(true), shared(false));
        let identity = &after
            .roles
            .iter()
            .find(|r| r.purpose == render::RolePurpose::Identity);
        let identity = identity.unwrap().name.clone();
        let a = before
            .associations
            .iter()
            .find(|a| a.service_account == "a-sa");
        let ns = a.unwrap().namespace.clone();
        let sid = render::trust_sid(&before.cluster, &before.cluster_arn, &ns, "a-sa");
        let o = left_by(&before);
        let live = &o.roles[&identity].trust;
        assert!(live.to_string().contains(&sid), "{live}");
        assert_eq!(
            stale_statements(&after, &o)[&identity],
            std::slice::from_ref(&sid)
        );

        let trust_step = |no_prune: bool| {
            let opts = super::super::Options {
                no_prune,
                only: Only::new(vec![Group::Iam]),
                ..Default::default()
            };
            let plan = super::super::plan(&after, &o, &opts).unwrap();
            plan.steps.into_iter().find_map(|s| match s.action {
                Action::UpdateTrustPolicy { role, trust, .. } if role == identity => Some(trust),
                _ => None,
            })
        };
        let trust = trust_step(false).expect("a trust update");
        let sids: Vec<&str> = trust["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert!(!sids.contains(&sid.as_str()), "{sids:?}");
        let b = render::trust_sid(&after.cluster, &after.cluster_arn, &ns, "b-sa");
        assert!(
            sids.contains(&b.as_str()) && sids.contains(&render::CHAIN_SID),
            "{sids:?}"
        );
        assert_eq!(trust_step(true), None);
    }

    #[test]
    fn what_a_removed_app_had_alone_is_deleted_dlq_after_its_queue() {
        let (before, after) = (desired(true), desired(false));
        let o = left_by(&before);
        let p = prune(&after, &o, &Only::default(), false);
        assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
        let got = ids(&p.steps);
        for id in [
            "queue:qa",
            "queue:qa-dlq",
            "registry:repo-a",
            "iam:role/id-a",
        ] {
            assert!(got.contains(&id), "{id} in {got:?}");
        }
        assert!(!got.iter().any(|i| i.contains("qb") || i.contains("repo-b")));
        let dlq = p.steps.iter().find(|s| s.id == "queue:qa-dlq").unwrap();
        assert!(dlq.after.contains(&"queue:qa".to_string()), "{dlq:?}");
        assert!(
            p.steps
                .iter()
                .all(|s| s.summary.ends_with("(no longer in the config)"))
        );
    }

    #[test]
    fn only_this_stack_in_this_cluster_is_a_candidate() {
        let (before, after) = (desired(true), desired(false));
        let mut o = left_by(&before);
        // Another cluster's queue of the same stack; a queue of no cluster; another stack's.
        let key = model::cluster_tag("demo");
        o.queues.get_mut("qa").unwrap().tags.remove(&key);
        let tags = &mut o.queues.get_mut("qa-dlq").unwrap().tags;
        tags.insert(model::STACK.into(), "other".into());
        o.repositories
            .get_mut("repo-a")
            .unwrap()
            .tags
            .insert(model::cluster_tag("prod"), "arn".into());
        let p = prune(&after, &o, &Only::default(), false);
        let got = ids(&p.steps);
        assert!(!got.iter().any(|i| i.starts_with("queue:")), "{got:?}");
        // Shared with cluster prod: this cluster's key goes, the repository stays.
        assert!(got.contains(&"registry:repo-a/tags"), "{got:?}");
        assert!(!got.contains(&"registry:repo-a"), "{got:?}");
    }

    #[test]
    fn a_queue_with_messages_is_refused_without_force() {
        let (before, after) = (desired(true), desired(false));
        let mut o = left_by(&before);
        let q = o.queues.get_mut("qa").unwrap();
        q.attributes
            .insert("ApproximateNumberOfMessages".into(), "12".into());
        let p = prune(&after, &o, &Only::default(), false);
        assert_eq!(p.conflicts.len(), 1, "{:?}", p.conflicts);
        assert_eq!(p.conflicts[0].resource, "SQS queue qa");
        assert!(
            p.conflicts[0]
                .reason
                .starts_with("no longer in the config, and it holds 12 messages: pass --force"),
            "{}",
            p.conflicts[0].reason
        );
        assert!(p.conflicts[0].reason.contains("--no-prune"));
        // Out of the chosen groups, nothing is refused.
        let iam = Only::new(vec![Group::Iam]);
        assert!(prune(&after, &o, &iam, false).conflicts.is_empty());
        assert!(
            prune(&after, &o, &Only::default(), true)
                .conflicts
                .is_empty()
        );
    }

    #[test]
    fn a_role_another_cluster_still_uses_only_loses_this_clusters_statements() {
        let (before, after) = (desired(true), desired(false));
        let mut o = left_by(&before);
        let role = o.roles.get_mut("id-a").unwrap();
        let mut other = role.trust["Statement"][0].clone();
        other["Sid"] = "KedactlProdSecurityASa01234567".into();
        role.trust["Statement"].as_array_mut().unwrap().push(other);
        let p = prune(&after, &o, &Only::default(), false);
        let got = ids(&p.steps);
        assert!(got.contains(&"iam:role/id-a/trust"), "{got:?}");
        assert!(!got.contains(&"iam:role/id-a"), "{got:?}");
        // A role whose trust names none of this cluster's service accounts is not a candidate.
        let role = o.roles.get_mut("id-a").unwrap();
        role.trust["Statement"].as_array_mut().unwrap().remove(0);
        assert!(retired_roles(&after, &o).is_empty());
    }

    #[test]
    fn no_prune_lists_what_it_keeps() {
        let (before, after) = (desired(true), desired(false));
        let o = left_by(&before);
        let kept = kept(&after, &o, &Only::new(vec![Group::Queue, Group::Registry]));
        assert_eq!(
            kept,
            [
                "kept, no longer in the config: SQS queue qa",
                "kept, no longer in the config: SQS queue qa-dlq",
                "kept, no longer in the config: ECR repository repo-a",
            ]
        );
    }

    #[test]
    fn a_rename_pairs_the_created_queue_with_the_retired_one() {
        let created = |q: &str| Step {
            id: format!("queue:{q}"),
            group: Group::Queue,
            change: Change::Create,
            summary: format!("create SQS queue {q}"),
            changes: vec![],
            action: Action::CreateQueue {
                queue: q.into(),
                attributes: Default::default(),
                tags: Default::default(),
            },
            after: vec![],
        };
        let deleted = |q: &str, n: u64| Step {
            id: format!("queue:{q}"),
            group: Group::Queue,
            change: Change::Delete,
            summary: format!("delete SQS queue {q}"),
            changes: vec![],
            action: Action::DeleteQueue {
                queue: q.into(),
                url: String::new(),
                force: false,
                loses: Some(crate::observed::Data::counted(n, "messages")),
            },
            after: vec![],
        };
        let d = desired(false);
        let o = Observed::default();
        let pairs = renames(&d, &o, &[created("q1b")], &[deleted("q1", 12)]);
        assert_eq!(pairs, [("q1".to_string(), "q1b".to_string())]);
        let mut steps = vec![created("q1b"), deleted("q1", 12)];
        show_renames(&mut steps, &pairs);
        let line = "q1 → q1b: the new queue is created, the old one (12 messages) would be deleted";
        assert_eq!(steps[0].summary, format!("create SQS queue q1b ({line})"));
        assert_eq!(steps[1].summary, format!("delete SQS queue q1 ({line})"));
        // Two retired, one created: which one was renamed is not known, so none is paired.
        let two = [deleted("q1", 0), deleted("q2", 0)];
        assert!(renames(&d, &o, &[created("q1b")], &two).is_empty());
        // The app's live scaler says which: its queueURL named q1.
        let mut o = Observed::default();
        let scaler = d
            .manifests
            .iter()
            .find(|m| m["kind"] == "ScaledObject")
            .unwrap();
        let mut live = scaler.clone();
        live["spec"]["triggers"][0]["metadata"]["queueURL"] =
            "https://sqs.us-east-1.amazonaws.com/123456789012/q1".into();
        o.objects.push(live);
        let new = scaler["spec"]["triggers"][0]["metadata"]["queueURL"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let pairs = renames(&d, &o, &[created(&new)], &two);
        assert_eq!(pairs, [("q1".to_string(), new)]);
    }
}
