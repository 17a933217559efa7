//! The apps' existing workloads (`existing: true`): kedactl reads them and never applies or
//! deletes them. A missing one, or one whose pods run as another service account than the
//! config names, stops `up` before any step; the team's service account is left as it is,
//! but for IRSA's role annotation, which kedactl server-side applies as its only field.

use super::{Change, Conflict, NOT_FOUND, Planner, app_step_id};
use crate::model::Group;
use crate::plan::action::Action;
use crate::render::{IRSA_ANNOTATION, Workload};
use serde_json::{Value, json};

/// Starts the reason of a conflict over a workload the config describes otherwise.
pub(super) const DIFFERS: &str = "differs from the config";

/// The service account a workload's pods run as (`default` when its template names none).
pub fn service_account(live: &Value) -> &str {
    let pod = &live["spec"]["template"]["spec"];
    pod["serviceAccountName"]
        .as_str()
        .or_else(|| pod["serviceAccount"].as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
}

/// What the plan reports about each existing workload it read (`up` and `plan` print these).
pub fn report(workloads: &[Workload], objects: &[Value]) -> Vec<String> {
    workloads
        .iter()
        .filter_map(|w| {
            let live = find(objects, w)?;
            Some(format!(
                "{} exists (yours: kedactl scales it and never changes it); its pods run as service account {}",
                w.describe(),
                service_account(live)
            ))
        })
        .collect()
}

fn find<'a>(objects: &'a [Value], w: &Workload) -> Option<&'a Value> {
    objects.iter().find(|o| {
        o["kind"] == w.kind.as_str()
            && o["metadata"]["namespace"] == w.namespace.as_str()
            && o["metadata"]["name"] == w.name.as_str()
    })
}

/// The one-field object kedactl server-side applies to a team's service account: its IRSA
/// role annotation, or (`None`) nothing, which releases the annotation kedactl applied.
pub fn annotation(namespace: &str, name: &str, role_arn: Option<&str>) -> Value {
    let mut metadata = json!({ "name": name, "namespace": namespace });
    if let Some(arn) = role_arn {
        metadata["annotations"] = json!({ IRSA_ANNOTATION: arn });
    }
    json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata })
}

/// Is `ns/sa` the service account of an existing workload's app?
pub(super) fn of_existing(workloads: &[Workload], ns: &str, sa: &str) -> bool {
    workloads
        .iter()
        .any(|w| w.namespace == ns && w.service_account == sa)
}

impl Planner<'_> {
    /// A pod template kedactl applies into a namespace that already enforces a Pod Security
    /// Standard it fails: the API server would accept the Deployment but refuse every pod.
    pub(super) fn pod_security(&mut self) {
        for m in &self.desired.manifests {
            let (Some(pod), Some(ns)) = (
                crate::pod_security::pod_spec(m).filter(|_| m["kind"] != "ScaledObject"),
                m["metadata"]["namespace"].as_str(),
            ) else {
                continue;
            };
            let Some(level) = self
                .observed
                .object("Namespace", None, ns)
                .and_then(|n| n["metadata"]["labels"][crate::pod_security::ENFORCE_LABEL].as_str())
                .and_then(crate::pod_security::Level::parse)
            else {
                continue;
            };
            let found = crate::pod_security::check(pod, level);
            if found.is_empty() {
                continue;
            }
            let (kind, _, name) = crate::render::object_ref(m);
            let why: Vec<String> = found.iter().map(ToString::to_string).collect();
            self.conflicts.push(Conflict {
                resource: crate::observed::describe(&kind, Some(ns), &name),
                reason: format!(
                    "{DIFFERS}: namespace {ns} enforces the {} Pod Security Standard and would refuse its pods: {}; remove the apps[].securityContext overrides that break it, or change the namespace's {} label",
                    level.as_str(),
                    why.join("; "),
                    crate::pod_security::ENFORCE_LABEL
                ),
            });
        }
    }

    /// Each existing workload must be there and run as the configured service account.
    pub(super) fn existing_workloads(&mut self) {
        if !self.observed.workloads_read {
            return;
        }
        for w in &self.desired.workloads {
            let Some(live) = find(&self.observed.objects, w) else {
                self.conflicts.push(Conflict {
                    resource: w.describe(),
                    reason: format!(
                        "{NOT_FOUND}: apps[].existing: true names a workload your chart deploys, \
                         which kedactl scales but never creates; deploy it first, correct \
                         apps[].deployment/namespace/kind, or remove existing to let kedactl \
                         render a Deployment"
                    ),
                });
                continue;
            };
            let sa = service_account(live);
            if sa != w.service_account {
                self.conflicts.push(Conflict {
                    resource: w.describe(),
                    reason: format!(
                        "{DIFFERS}: its pods run as service account {sa}, not {} \
                         (apps[].serviceAccount), so the role kedactl associates would not \
                         reach them; set serviceAccount: {sa} in kedactl.yaml, or \
                         serviceAccountName: {} in its chart",
                        w.service_account, w.service_account
                    ),
                });
            }
        }
    }

    /// An existing workload's service account that the team made (not this stack's): left as
    /// it is, but for the IRSA role annotation, applied alone (true when `m` was handled).
    pub(super) fn teams_service_account(
        &mut self,
        m: &Value,
        live: &Value,
        after: &[&str],
    ) -> bool {
        let (kind, ns, name) = crate::render::object_ref(m);
        let Some(ns) = ns.filter(|ns| {
            kind == "ServiceAccount" && of_existing(&self.desired.workloads, ns, &name)
        }) else {
            return false;
        };
        let labels = serde_json::from_value(live["metadata"]["labels"].clone()).unwrap_or_default();
        if crate::model::is_owned(&labels, &self.desired.stack) {
            return false;
        }
        let role = &m["metadata"]["annotations"][IRSA_ANNOTATION];
        if role.is_null() || live["metadata"]["annotations"][IRSA_ANNOTATION] == *role {
            return true;
        }
        let action = Action::AnnotateServiceAccount {
            namespace: ns.clone(),
            name: name.clone(),
            role_arn: role.as_str().map(str::to_string),
        };
        let id = app_step_id("ServiceAccount", Some(&ns), &name);
        self.push(id, Group::App, Change::Update, action, after);
        true
    }
}
