//! `kedactl doctor`: every known cause of 403 / AssumeRole / "not scaling" (the catalogue in
//! `catalogue.rs`), checked by pure functions (`checks/`) over one snapshot of evidence
//! (`Evidence`, gathered by `gather.rs` from AWS and the cluster). Each finding carries the
//! evidence it saw and the exact fix; `--fix` turns the fixable ones into executor steps.

pub mod catalogue;
pub mod checks;
pub mod conditions;
pub mod gather;
pub mod guard;
pub mod logs;
pub mod netpol;
pub mod policy;
pub mod repair;
pub mod request;
pub mod variables;

use crate::plan::Observed;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub use catalogue::{CATALOGUE, Check, Layer, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Could not be checked (a read failed or was out of scope); `--strict` counts it as a failure.
    Skipped,
    /// Nothing to check for this stack (e.g. the agent in IRSA mode).
    #[serde(rename = "not-applicable")]
    NotApplicable,
}

/// What a failing check's fix does when `--fix` applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "target")]
pub enum Repair {
    /// Converge the `up` steps whose id starts with this (e.g. `iam:role/keda-identity`).
    Converge(String),
    /// Restart this Deployment (`ns/name`) so its pods get Pod Identity credentials.
    Restart(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub code: &'static str,
    pub title: &'static str,
    pub layer: Layer,
    /// The app (`Desired::triggers[].name`) a per-app check judged; absent for the stack's
    /// shared parts (KEDA, the agent, the operator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    pub status: Status,
    /// What the check saw: a trust statement, a log line, an env list, or why it was skipped.
    pub evidence: Vec<String>,
    /// The exact command or kedactl flag that fixes it (fail/warn only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repairs: Vec<Repair>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skipped: usize,
    pub not_applicable: usize,
    /// How many apps the per-app checks judged (absent when none did, e.g. `--keda-log`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apps: Option<usize>,
    /// The apps with a failing check, in the config's order, each with the codes that fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_apps: Vec<FailingApp>,
}

/// An app with at least one failing check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FailingApp {
    pub app: String,
    pub codes: Vec<&'static str>,
}

pub fn summary(findings: &[Finding]) -> Summary {
    let n = |s| findings.iter().filter(|f| f.status == s).count();
    // Findings come check by check, each over the apps in the config's order.
    let mut apps: Vec<&str> = Vec::new();
    for a in findings.iter().filter_map(|f| f.app.as_deref()) {
        if !apps.contains(&a) {
            apps.push(a);
        }
    }
    let failing_apps = apps
        .iter()
        .filter_map(|a| {
            let codes: Vec<&'static str> = findings
                .iter()
                .filter(|f| f.app.as_deref() == Some(*a) && f.status == Status::Fail)
                .map(|f| f.code)
                .collect();
            (!codes.is_empty()).then(|| FailingApp {
                app: a.to_string(),
                codes,
            })
        })
        .collect();
    Summary {
        ok: n(Status::Ok),
        warn: n(Status::Warn),
        fail: n(Status::Fail),
        skipped: n(Status::Skipped),
        not_applicable: n(Status::NotApplicable),
        apps: (!apps.is_empty()).then_some(apps.len()),
        failing_apps,
    }
}

impl Summary {
    /// "2 of 40 apps fail: order-worker (KD022), billing (KD015)", or None when no app was
    /// judged.
    pub fn apps_line(&self) -> Option<String> {
        let total = self.apps?;
        let noun = if total == 1 { "app" } else { "apps" };
        if self.failing_apps.is_empty() {
            return Some(format!("0 of {total} {noun} fail"));
        }
        let named: Vec<String> = self
            .failing_apps
            .iter()
            .map(|a| format!("{} ({})", a.app, a.codes.join(", ")))
            .collect();
        Some(format!(
            "{} of {total} {noun} fail: {}",
            self.failing_apps.len(),
            named.join(", ")
        ))
    }
}

/// Everything doctor looked at. Absent parts say why (`*_skipped`), so checks can report
/// "skipped: <reason>" instead of guessing.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// AWS (and, when reached, KEDA and the stack's objects) as `plan` observes it.
    pub observed: Observed,
    pub aws_skipped: Option<String>,
    /// The add-on and associations were read (the eks group was in scope and AWS answered).
    pub eks_read: bool,
    /// The queues were read (the queue group was in scope).
    pub queues_read: bool,
    /// The repositories and their image tags were read (the registry group was in scope).
    pub registry_read: bool,
    pub cluster: Option<ClusterEvidence>,
    pub cluster_skipped: Option<String>,
    /// IAM policy simulator answers, keyed `principal-arn action resource` → decision
    /// ("allowed", "implicitDeny", "explicitDeny").
    pub simulations: BTreeMap<String, String>,
    /// The simulator does not answer at all (moto, an account without it): every question.
    pub simulator_skipped: Option<String>,
    /// Questions it would not answer (keyed as `simulations`) and why: AccessDenied on
    /// SimulatePrincipalPolicy for that principal, which leaves the other questions answered.
    pub simulator_unanswered: BTreeMap<String, String>,
    /// Each app's configured queue, by name, found only elsewhere (read only for the queues
    /// the configured region lacks).
    pub queue_elsewhere: BTreeMap<String, guard::Elsewhere>,
    /// The roles the cluster's nodes run as (managed node groups, Auto Mode): None when not
    /// read, Err when the reads failed.
    pub node_roles: Option<Result<Vec<crate::observed::Role>, String>>,
    /// Dead-letter queues named by a live RedrivePolicy that are not among the config's queues,
    /// by ARN: whether GetQueueUrl found them, or why it could not tell.
    pub dead_letter_targets: BTreeMap<String, Result<bool, String>>,
    /// Each non-SQS app's metric, read as KEDA's scaler reads it but with the caller's
    /// credentials (`namespace/deployment` → what it read, or the HTTP status and error).
    pub metric_reads: BTreeMap<String, Result<String, (Option<u16>, String)>>,
    /// Each prometheus app's series in its workspace (`namespace/deployment` → what the query
    /// and the pods' `up` found, or why they could not be read).
    pub scraped: BTreeMap<String, Result<crate::triggers::prometheus::Scraped, String>>,
    /// The principal ARNs with an access entry on the cluster (ListAccessEntries), read when
    /// the config has an AMP scraper: None when not read, Err when the read failed.
    pub access_entries: Option<Result<Vec<String>, String>>,
}

/// The cluster side doctor reads beyond `plan`'s observation.
#[derive(Debug, Clone, Default)]
pub struct ClusterEvidence {
    /// The keda-operator Deployment, its newest pod, that pod's node and service account.
    pub operator: Option<Value>,
    pub operator_pod: Option<Value>,
    pub operator_node: Option<Value>,
    pub operator_sa: Option<Value>,
    /// Recent `keda-operator` container logs.
    pub operator_log: String,
    /// `kube-system/eks-pod-identity-agent` DaemonSet and its logs (on the operator's node).
    pub agent: Option<Value>,
    pub agent_log: String,
    /// Each app's objects, by `namespace/deployment` (`TriggerUse::app`).
    pub apps: BTreeMap<String, AppObjects>,
    /// `v1beta1.external.metrics.k8s.io`.
    pub apiservice: Option<Value>,
    /// NetworkPolicies in the operator's namespace (None: not read; Err: why the list failed).
    pub network_policies: Option<Result<Vec<Value>, String>>,
    /// doctor's own reads that failed, by part (`part::HPA` …), with the error: the checks that
    /// read a part are "could not be checked" (the registry says which), never passed on absence.
    pub unread: BTreeMap<&'static str, String>,
}

/// Which apps doctor reads and judges, and where their scaler is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Focus<'a> {
    /// One app (`--app`: its name or `namespace/deployment`); None: every app.
    pub app: Option<&'a str>,
    /// `--scaled-object ns/name`: the (one) app's scaler, when not the config's.
    pub scaled_object: Option<(&'a str, &'a str)>,
}

impl Focus<'_> {
    /// The apps in focus, in the config's order.
    pub fn apps<'d>(
        &self,
        desired: &'d crate::render::Desired,
    ) -> Vec<&'d crate::render::TriggerUse> {
        desired
            .triggers
            .iter()
            .filter(|t| {
                self.app
                    .is_none_or(|a| t.name == a || t.app == a || t.deployment() == a)
            })
            .collect()
    }
}

/// One app's objects in the cluster, read for doctor.
#[derive(Debug, Clone, Default)]
pub struct AppObjects {
    /// The app's ScaledObject/ScaledJob, the TriggerAuthentication it references, KEDA's HPA.
    pub scaler: Option<Value>,
    pub trigger_auth: Option<Value>,
    pub hpa: Option<Value>,
    /// The app Deployment's newest pod.
    pub app_pod: Option<Value>,
    /// The app's existing workload (`existing: true`) as read: None when it is not there.
    pub workload: Option<Value>,
    /// The HorizontalPodAutoscalers in an existing workload's namespace (None: not listed).
    pub hpas: Option<Vec<Value>>,
    /// This app's reads that failed, by part (`part::SCALER` …), as `ClusterEvidence::unread`.
    pub unread: BTreeMap<&'static str, String>,
}

#[cfg(test)]
mod tests;

/// The parts of the cluster doctor reads beyond `plan`'s observation, as a failed read names
/// them.
pub mod part {
    pub const OPERATOR: &str = "the keda-operator Deployment";
    pub const OPERATOR_POD: &str = "keda-operator's pod";
    pub const OPERATOR_SA: &str = "keda-operator's service account";
    pub const OPERATOR_LOG: &str = "keda-operator's log";
    pub const NODE: &str = "the operator pod's node";
    pub const AGENT: &str = "the eks-pod-identity-agent DaemonSet";
    pub const AGENT_LOG: &str = "the agent's log";
    pub const SCALER: &str = "the app's ScaledObject";
    pub const TRIGGER_AUTH: &str = "its TriggerAuthentication";
    pub const HPA: &str = "KEDA's HPA";
    pub const APISERVICE: &str = "the external metrics APIService";
    pub const APP_POD: &str = "the app's pods";
    pub const WORKLOAD: &str = "the app's existing workload";
    pub const HPAS: &str = "the HorizontalPodAutoscalers of its namespace";
}

/// The simulator key for one question.
pub fn simulation_key(principal: &str, action: &str, resource: &str) -> String {
    format!("{principal} {action} {resource}")
}
