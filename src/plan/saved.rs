//! A plan saved to a file (`plan --out`) and applied later exactly (`up --plan`), as CI runs
//! terraform: one job plans, a person reviews, a later job applies *that* plan. The file holds
//! the steps and what they were computed from — kedactl's version, a digest of the config, and
//! a digest of each observed field of every resource a step touches — so `up --plan` can tell
//! that anything changed since and refuse (`stale`). Pure: the command reads and writes files.

use super::{Action, Change, Observed, Step};
use crate::model::Group;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use std::collections::BTreeMap;

/// The `kind` of a saved plan's document.
pub const KIND: &str = "SavedPlan";

/// A resource's digests when it did not exist.
const ABSENT: &str = "absent";

/// What `plan --out` writes. No secret is in it: names, ARNs, tags, the policy documents and
/// manifests the config renders, and digests (never values) of what was observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedPlan {
    /// The kedactl version that made it: `up --plan` refuses another (steps may mean other things).
    pub kedactl: String,
    pub stack: String,
    pub cluster: String,
    pub region: String,
    pub account: String,
    /// The groups planned (`--only`); empty: all of them. `up --plan` observes these.
    #[serde(default)]
    pub only: Vec<Group>,
    /// Planned with `--adopt` (resources without this stack's tags are taken over).
    #[serde(default)]
    pub adopt: bool,
    /// Planned with `--force` (what the config no longer names is deleted even with data).
    #[serde(default)]
    pub force: bool,
    /// Planned with `--no-prune` (what the config no longer names is kept).
    #[serde(default)]
    pub no_prune: bool,
    /// sha256 of the config (file and flags, defaults filled in), whole and per top-level field.
    pub config: Digests,
    /// Per resource a step touches (by its step-id prefix, e.g. `queue:orders`): sha256 of each
    /// observed field (`attributes.VisibilityTimeout`), or `{"": "absent"}` when it did not
    /// exist. Counters that move by themselves (queue depth, image count, status) are left out.
    pub observed: BTreeMap<String, BTreeMap<String, String>>,
    /// The steps, as `plan -o json` prints them: applied exactly, in this order of dependencies.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Digests {
    pub sha256: String,
    /// Each top-level field of the config, so a refusal can say which changed.
    pub fields: BTreeMap<String, String>,
}

/// Who and where the plan is for: the same in the file and in the run that applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stack: String,
    pub cluster: String,
    pub region: String,
    pub account: String,
}

impl SavedPlan {
    /// The file for `steps`, planned from `config` (the resolved config as JSON) against `observed`.
    pub fn new(
        target: Target,
        only: Vec<Group>,
        adopt: bool,
        config: &Value,
        steps: Vec<Step>,
        observed: &Observed,
    ) -> SavedPlan {
        SavedPlan {
            kedactl: env!("CARGO_PKG_VERSION").to_string(),
            stack: target.stack,
            cluster: target.cluster,
            region: target.region,
            account: target.account,
            only,
            adopt,
            force: false,
            no_prune: false,
            config: config_digests(config),
            observed: fingerprints(&steps, observed),
            steps,
        }
    }

    pub fn target(&self) -> Target {
        Target {
            stack: self.stack.clone(),
            cluster: self.cluster.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
        }
    }
}

fn sha256(v: &Value) -> String {
    let digest = sha2::Sha256::digest(sorted(v).to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `v` with every object's keys in order (serde_json keeps the order it read, and an API may
/// answer the same object in another order), so equal values give equal digests.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn config_digests(config: &Value) -> Digests {
    let fields = match config {
        Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), sha256(v))).collect(),
        _ => BTreeMap::new(),
    };
    Digests {
        sha256: sha256(config),
        fields,
    }
}

/// The resource a step reads or writes, by the prefix its step ids share; None for a step that
/// only checks (`verify`), whose outcome nothing in the file could predict.
pub fn touches(action: &Action) -> Option<String> {
    let obj = |kind: &str, ns: Option<&str>, name: &str| match ns {
        Some(ns) => format!("app:{kind}/{ns}/{name}"),
        None => format!("app:{kind}/{name}"),
    };
    Some(match action {
        Action::CreateAddon { addon, .. } | Action::DeleteAddon { addon } => {
            format!("eks:addon/{addon}")
        }
        // Waiting reads a status that is meant to change.
        Action::WaitAddonActive { .. }
        | Action::VerifyPodIdentity { .. }
        | Action::VerifyIrsa { .. } => return None,
        Action::CreateOidcProvider { url, .. } | Action::DeleteOidcProvider { url, .. } => {
            format!("iam:oidc-provider/{url}")
        }
        Action::CreateRole { role, .. }
        | Action::PutRolePermissionsBoundary { role, .. }
        | Action::AttachRolePolicy { role, .. }
        | Action::UpdateTrustPolicy { role, .. }
        | Action::PutRolePolicy { role, .. }
        | Action::TagRole { role, .. }
        | Action::DeleteRolePolicy { role, .. }
        | Action::DetachRolePolicy { role, .. }
        | Action::DeleteRole { role } => format!("iam:role/{role}"),
        Action::CreateQueue { queue, .. }
        | Action::SetQueueAttributes { queue, .. }
        | Action::TagQueue { queue, .. }
        | Action::UntagQueue { queue, .. }
        | Action::DeleteQueue { queue, .. } => format!("queue:{queue}"),
        Action::CreateRepository { repository, .. }
        | Action::TagRepository { repository, .. }
        | Action::UntagRepository { repository, .. }
        | Action::DeleteRepository { repository, .. } => format!("ecr:repository/{repository}"),
        Action::CreateResource { resource, name, .. }
        | Action::TagResource { resource, name, .. }
        | Action::UntagResource { resource, name, .. }
        | Action::DeleteResource { resource, name, .. } => {
            format!("{}/{name}", resource.prefix())
        }
        Action::CreateAssociation {
            namespace,
            service_account,
            ..
        }
        | Action::TagAssociation {
            namespace,
            service_account,
            ..
        }
        | Action::UpdateAssociation {
            namespace,
            service_account,
            ..
        }
        | Action::DeleteAssociation {
            namespace,
            service_account,
            ..
        } => format!("eks:association/{namespace}/{service_account}"),
        Action::InstallKeda { .. } | Action::UninstallKeda { .. } => "keda:install".into(),
        Action::Apply {
            kind,
            namespace,
            name,
            ..
        }
        | Action::DeleteObject {
            kind,
            namespace,
            name,
        } => obj(kind, namespace.as_deref(), name),
        Action::AnnotateServiceAccount {
            namespace, name, ..
        } => obj("ServiceAccount", Some(namespace), name),
        Action::RestartDeployment {
            namespace,
            deployment,
            ..
        } => obj("Deployment", Some(namespace), deployment),
    })
}

/// What was observed of the resource `key` names, without what changes by itself; None: absent.
fn live(key: &str, o: &Observed) -> Option<Value> {
    let (kind, rest) = key.split_once(':').unwrap_or((key, ""));
    let mut v = match (kind, rest) {
        ("iam", r) if r.starts_with("role/") => json(o.roles.get(&r["role/".len()..])?),
        ("iam", _) => json(o.oidc_provider.as_ref()?),
        ("queue", name) => json(o.queues.get(name)?),
        ("ecr", r) => json(o.repositories.get(r.strip_prefix("repository/")?)?),
        ("eks", r) if r.starts_with("addon/") => json(o.addon.as_ref()?),
        ("eks", r) => {
            let (ns, sa) = r.strip_prefix("association/")?.split_once('/')?;
            let a = o
                .associations
                .iter()
                .find(|a| a.namespace == ns && a.service_account == sa)?;
            json(a)
        }
        ("keda", _) => json(o.keda.as_ref()?),
        ("app", r) => {
            let (kind, path) = r.split_once('/')?;
            let (ns, name) = match path.split_once('/') {
                Some((ns, name)) => (Some(ns), name),
                None => (None, path),
            };
            o.object(kind, ns, name)?.clone()
        }
        _ => json(o.resources.get(key)?),
    };
    volatile_out(&mut v);
    Some(v)
}

/// Values that move without anyone changing the resource: a queue's depth, a repository's
/// image count, statuses, a Deployment's replicas (KEDA's to set) and the API server's
/// bookkeeping. Leaving them out keeps a plan appliable while the stack runs.
fn volatile_out(v: &mut Value) {
    let Some(o) = v.as_object_mut() else { return };
    for k in ["status", "images", "modifiedAt"] {
        o.remove(k);
    }
    if let Some(Value::Object(a)) = o.get_mut("attributes") {
        a.retain(|k, _| !k.starts_with("Approximate"));
    }
    if let Some(Value::Object(m)) = o.get_mut("metadata") {
        for k in ["resourceVersion", "managedFields", "generation"] {
            m.remove(k);
        }
        if let Some(Value::Object(a)) = m.get_mut("annotations") {
            a.remove("deployment.kubernetes.io/revision");
        }
    }
    if let Some(Value::Object(s)) = o.get_mut("spec") {
        s.remove("replicas");
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// A digest per field of a live resource: two levels deep (`attributes.VisibilityTimeout`,
/// `tags.team`, `inline.kedactl-sqs`), so a refusal names what changed.
fn fields(v: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Value::Object(top) = v else {
        out.insert(String::new(), sha256(v));
        return out;
    };
    for (k, inner) in top {
        match inner {
            Value::Object(m) if !m.is_empty() => {
                for (k2, v2) in m {
                    out.insert(format!("{k}.{k2}"), sha256(v2));
                }
            }
            _ => {
                out.insert(k.clone(), sha256(inner));
            }
        }
    }
    out
}

/// The digests of every resource the steps touch, as observed now.
pub fn fingerprints(steps: &[Step], o: &Observed) -> BTreeMap<String, BTreeMap<String, String>> {
    steps
        .iter()
        .filter_map(|s| touches(&s.action))
        .map(|key| {
            let digests = match live(&key, o) {
                Some(v) => fields(&v),
                None => BTreeMap::from([(String::new(), ABSENT.to_string())]),
            };
            (key, digests)
        })
        .collect()
}

/// Why `saved` may no longer be applied, of what needs no call: kedactl's version and the
/// config (`config`: this run's, as JSON). Empty: go on and observe.
pub fn changed_inputs(saved: &SavedPlan, config: &Value) -> Vec<String> {
    let mut why = Vec::new();
    let version = env!("CARGO_PKG_VERSION");
    if saved.kedactl != version {
        why.push(format!(
            "it was made by kedactl {}, this is kedactl {version}",
            saved.kedactl
        ));
    }
    let now = config_digests(config);
    if saved.config.sha256 != now.sha256 {
        let changed = changed_keys(&saved.config.fields, &now.fields);
        why.push(format!(
            "the config changed since the plan was made ({})",
            changed.join(", ")
        ));
    }
    why
}

/// Why `saved` may no longer be applied, of what this run observed: who and where it runs
/// (`target`), each resource a step touches (`observed`), and what kedactl plans now (`fresh`).
/// Each reason says what changed; empty: apply it.
pub fn changed_state(
    saved: &SavedPlan,
    target: &Target,
    observed: &Observed,
    fresh: &[Step],
) -> Vec<String> {
    let mut why = Vec::new();
    let (a, b) = (saved.target(), target);
    if &a != b {
        why.push(format!(
            "it is for stack {:?} on cluster {} in {} (account {}), this run is for stack {:?} on cluster {} in {} (account {})",
            a.stack, a.cluster, a.region, a.account, b.stack, b.cluster, b.region, b.account
        ));
        return why;
    }
    let now = fingerprints(&saved.steps, observed);
    let absent = |m: &BTreeMap<String, String>| m.get("").is_some_and(|v| v == ABSENT);
    for (key, then) in &saved.observed {
        let Some(now) = now.get(key).filter(|now| *now != then) else {
            continue;
        };
        let what = match (absent(then), absent(now)) {
            (true, false) => "was created since the plan was made".to_string(),
            (false, true) => "was deleted since the plan was made".to_string(),
            _ => format!(
                "changed since the plan was made ({})",
                changed_keys(then, now).join(", ")
            ),
        };
        why.push(format!("{key} {what}"));
    }
    // Anything else the plan was computed from (the cluster's issuer, another resource a step
    // names): each change step must still be one kedactl plans. Runs (waits, restarts,
    // checks) follow from the changes and are left to them.
    for (i, s) in saved.steps.iter().enumerate() {
        if s.change == Change::Run || fresh.contains(s) {
            continue;
        }
        let now = match fresh.iter().find(|f| f.id == s.id) {
            Some(f) => format!("kedactl now plans {}", described(f)),
            None => "kedactl no longer plans it".to_string(),
        };
        why.push(format!("step {} is {}: {now}", i + 1, described(s)));
    }
    why
}

/// A step as a reviewer read it: its summary and the values it changes, old → new.
fn described(s: &Step) -> String {
    let changes: Vec<String> = s.changes.iter().map(|c| c.line()).collect();
    match changes.is_empty() {
        true => format!("`{}`", s.summary),
        false => format!("`{}` ({})", s.summary, changes.join(", ")),
    }
}

/// The keys whose digests differ (added or removed ones too).
fn changed_keys(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let keys: std::collections::BTreeSet<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            if k.is_empty() {
                "value".into()
            } else {
                k.clone()
            }
        })
        .collect();
    keys.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{converged, desired};
    use super::*;
    use crate::plan::{Options, plan, teardown};
    use crate::render::Desired;
    use serde_json::json;

    fn target(d: &Desired) -> Target {
        Target {
            stack: d.stack.clone(),
            cluster: d.cluster.clone(),
            region: d.target.region.clone(),
            account: "123456789012".into(),
        }
    }

    fn saved(d: &Desired, o: &Observed) -> SavedPlan {
        let steps = plan(d, o, &Options::default()).unwrap().steps;
        SavedPlan::new(
            target(d),
            vec![],
            false,
            &json!({"cluster": "demo"}),
            steps,
            o,
        )
    }

    /// Why `file` is stale against `o`, with what kedactl plans from it now.
    fn stale_now(file: &SavedPlan, d: &Desired, o: &Observed) -> Vec<String> {
        let fresh = plan(d, o, &Options::default()).unwrap().steps;
        changed_state(file, &target(d), o, &fresh)
    }

    /// The file as `plan --out` writes it and `up --plan` reads it back.
    fn through_the_file(p: &SavedPlan) -> SavedPlan {
        let text = serde_json::to_string(&crate::output::Document::new(KIND, p)).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Every step reads back as it was planned, the trust edit the executor re-applies
    /// included (it was `serde(skip)`: a saved plan would have written the planned trust over
    /// another cluster's statements).
    #[test]
    fn a_saved_plan_reads_back_exactly_with_its_trust_edits() {
        let d = desired();
        // Everything created, then drift on the role's trust (an update with an edit).
        let empty = saved(&d, &Observed::default());
        assert!(empty.steps.len() > 10, "{:?}", empty.steps.len());
        assert_eq!(through_the_file(&empty), empty);
        let mut o = converged(&d);
        let role = d.roles[0].name.clone();
        o.roles.get_mut(&role).unwrap().trust = json!({"Version": "2012-10-17", "Statement": []});
        let drift = saved(&d, &o);
        let back = through_the_file(&drift);
        assert_eq!(back, drift);
        let edits: Vec<_> = back
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::UpdateTrustPolicy { edit, .. } => Some(*edit),
                _ => None,
            })
            .collect();
        assert_eq!(edits, [Some(crate::plan::trust::Edit::Put)]);
        // `down`'s steps too (deletes with what they would lose).
        let (down, _) = teardown(&d, &o, &Default::default()).unwrap();
        let file = SavedPlan::new(target(&d), vec![], false, &json!({}), down.steps, &o);
        assert_eq!(through_the_file(&file), file);
    }

    #[test]
    fn a_queue_attribute_changed_since_the_plan_makes_it_stale_and_is_named() {
        let d = desired();
        let q = d.queues[0].name.clone();
        let mut o = converged(&d);
        let attr = |o: &mut Observed, k: &str, v: &str| {
            o.queues
                .get_mut(&q)
                .unwrap()
                .attributes
                .insert(k.into(), v.into());
        };
        attr(&mut o, "VisibilityTimeout", "45");
        let file = saved(&d, &o);
        assert_eq!(file.steps.len(), 1, "{:?}", file.steps);
        // Nothing changed, or only what moves by itself (its depth): apply it.
        assert_eq!(stale_now(&file, &d, &o), Vec::<String>::new());
        let mut busy = o.clone();
        attr(&mut busy, "ApproximateNumberOfMessages", "1200");
        assert_eq!(stale_now(&file, &d, &busy), Vec::<String>::new());
        // The same step planned again, from another old value: still stale, named.
        attr(&mut o, "VisibilityTimeout", "60");
        let why = stale_now(&file, &d, &o);
        assert_eq!(
            why,
            [
                format!("queue:{q} changed since the plan was made (attributes.VisibilityTimeout)"),
                format!(
                    "step 1 is `set VisibilityTimeout on SQS queue {q}` (VisibilityTimeout: 45 → 30): kedactl now plans `set VisibilityTimeout on SQS queue {q}` (VisibilityTimeout: 60 → 30)"
                ),
            ]
        );
    }

    #[test]
    fn a_resource_made_or_removed_since_the_plan_makes_it_stale() {
        let d = desired();
        let file = saved(&d, &Observed::default());
        let q = d.queues[0].name.clone();
        let mut o = Observed::default();
        o.queues.insert(q.clone(), converged(&d).queues[&q].clone());
        let why = stale_now(&file, &d, &o);
        assert!(
            why.contains(&format!("queue:{q} was created since the plan was made")),
            "{why:?}"
        );
        assert!(
            why.iter().any(|w| w.contains("kedactl no longer plans it")),
            "{why:?}"
        );
        // A step touches it (its drift), and it is gone by the time the plan is applied.
        let queue = o.queues.get_mut(&q).unwrap();
        queue
            .attributes
            .insert("VisibilityTimeout".into(), "45".into());
        let file = saved(&d, &o);
        let gone = Observed::default();
        let why = stale_now(&file, &d, &gone);
        assert!(
            why.contains(&format!("queue:{q} was deleted since the plan was made")),
            "{why:?}"
        );
    }

    #[test]
    fn another_config_kedactl_or_account_makes_it_stale() {
        let d = desired();
        let config = json!({"cluster": "demo", "apps": [{"queue": "a"}], "stack": "s"});
        let file = SavedPlan::new(
            target(&d),
            vec![],
            false,
            &config,
            vec![],
            &Observed::default(),
        );
        assert!(changed_inputs(&file, &config).is_empty());
        let other = json!({"cluster": "demo", "apps": [{"queue": "b"}], "stack": "s", "tags": {}});
        assert_eq!(
            changed_inputs(&file, &other),
            ["the config changed since the plan was made (apps, tags)"]
        );
        let mut old = file.clone();
        old.kedactl = "0.0.1".into();
        assert!(changed_inputs(&old, &config)[0].starts_with("it was made by kedactl 0.0.1"));
        let mut elsewhere = target(&d);
        elsewhere.account = "210987654321".into();
        let why = changed_state(&file, &elsewhere, &Observed::default(), &[]);
        assert!(
            why[0].contains("(account 123456789012), this run is for")
                && why[0].contains("210987654321"),
            "{why:?}"
        );
    }

    /// Key order is not meaning: an API answering the same object in another order changes
    /// no digest.
    #[test]
    fn digests_do_not_depend_on_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"a": 1, "b": {"c": 2, "d": [ {"e": 3, "f": 4} ]}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"b": {"d": [ {"f": 4, "e": 3} ], "c": 2}, "a": 1}"#).unwrap();
        assert_eq!(sha256(&a), sha256(&b));
        assert_eq!(fields(&a), fields(&b));
        assert_ne!(sha256(&a), sha256(&json!({"a": 1})));
    }
}
