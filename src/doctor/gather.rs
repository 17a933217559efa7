//! Filling `Evidence`: the same observation as `plan` (AWS and the cluster), plus what only
//! doctor reads — the operator's pod, node, service account and logs, the agent, the app's
//! scaler, TriggerAuthentication, HPA and pods, the external metrics APIService, and the IAM
//! policy simulator. Nothing here fails the run: a part that cannot be read is recorded with the
//! reason, and its checks report "skipped: <reason>".

use super::{AppObjects, ClusterEvidence, Evidence, Focus, guard, part, simulation_key};
use crate::cloud::Aws;
use crate::cluster::{Kube, KubeError, keda, rollout};
use crate::model::Only;
use crate::observe;
use crate::observed::Caller;
use crate::render::{Desired, TriggerUse};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Lines of log read from the operator and the agent.
const TAIL: u32 = 300;

/// AWS: observation (and simulator questions) as `caller`.
pub async fn aws_side(aws: &Aws, desired: &Desired, only: &Only, caller: Caller, e: &mut Evidence) {
    // Each failed read is recorded where it happened; the checks that need it say so.
    let observed = observe::observe_partial(aws, desired, only, caller.clone());
    let simulations = simulate(aws, desired, &caller);
    let (observed, simulations) = tokio::join!(observed, simulations);
    e.observed = observed;
    e.eks_read = only.includes(crate::model::Group::Eks);
    if only.includes(crate::model::Group::Registry) || only.includes(crate::model::Group::App) {
        e.node_roles = Some(node_roles(aws, desired, e.observed.cluster.as_ref()).await);
    }
    e.queues_read = only.includes(crate::model::Group::Queue);
    e.registry_read = only.includes(crate::model::Group::Registry);
    // Each app's queue that is missing here (not refused): is it elsewhere? All at once.
    let missing = desired
        .triggers
        .iter()
        .filter_map(|t| t.queue.as_deref())
        .filter(|q| {
            e.queues_read
                && !e.observed.queues.contains_key(*q)
                && !e
                    .observed
                    .denied
                    .iter()
                    .chain(&e.observed.unread)
                    .any(|r| r.resource == format!("SQS queue {q}"))
        });
    e.queue_elsewhere = futures_util::future::join_all(
        missing.map(|q| async move { (q.to_string(), queue_elsewhere(aws, desired, q).await) }),
    )
    .await
    .into_iter()
    .collect();
    match simulations {
        Ok(s) => (e.simulations, e.simulator_unanswered) = (s.answers, s.unanswered),
        Err(why) => e.simulator_skipped = Some(why),
    }
    e.dead_letter_targets = dead_letter_targets(aws, desired, &e.observed).await;
    let scraping = desired.resources.iter().any(|r| r.kind.reads_cluster());
    let api_mode = e
        .observed
        .cluster
        .as_ref()
        .is_some_and(|c| c.authentication_mode.as_deref() != Some("CONFIG_MAP"));
    if scraping && api_mode {
        e.access_entries = Some(access_entries(aws, &desired.cluster).await);
    }
}

/// Every principal with an access entry on the cluster (ListAccessEntries, all pages).
async fn access_entries(aws: &Aws, cluster: &str) -> Result<Vec<String>, String> {
    let mut pages = aws
        .eks
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            crate::cloud::CallError::new("ListAccessEntries", format!("EKS cluster {cluster}"), &e)
                .to_string()
        })?;
        all.extend(page.access_entries().iter().cloned());
    }
    Ok(all)
}

/// Read each non-SQS app's metric once, as `scale` would (KD049). SQS depth is read by
/// the queue checks already.
pub async fn metric_reads(
    aws: &Aws,
    spec: &crate::spec::Spec,
    target: &crate::render::Target,
) -> BTreeMap<String, Result<String, (Option<u16>, String)>> {
    let apps = spec
        .apps
        .iter()
        .filter(|a| a.trigger != crate::triggers::Kind::Sqs);
    let reads = futures_util::future::join_all(apps.map(|app| async move {
        let got = match app.trigger.metric(aws, app, target).await {
            Err(e) => Err((None, format!("{e:#}"))),
            Ok(m) => m
                .read()
                .await
                .map(|r| r.detail)
                .map_err(|e| (e.status, e.to_string())),
        };
        (format!("{}/{}", app.namespace, app.deployment), got)
    }))
    .await;
    reads.into_iter().collect()
}

/// For each prometheus app: does its workspace hold its series, or at least its pods' `up`
/// (KD049)? An empty answer reads as 0 to KEDA, so the metric read alone cannot tell.
pub async fn scraped(
    aws: &Aws,
    spec: &crate::spec::Spec,
    target: &crate::render::Target,
) -> BTreeMap<String, Result<crate::triggers::prometheus::Scraped, String>> {
    let apps = spec
        .apps
        .iter()
        .filter(|a| a.trigger == crate::triggers::Kind::Prometheus);
    let reads = futures_util::future::join_all(apps.map(|app| async move {
        let got = crate::triggers::prometheus::aws::scraped(aws, app, target)
            .await
            .map_err(|e| format!("{e:#}"));
        (format!("{}/{}", app.namespace, app.deployment), got)
    }))
    .await;
    reads.into_iter().collect()
}

/// Each live RedrivePolicy's deadLetterTargetArn that names no queue of the config: does it
/// exist? (GetQueueUrl in the ARN's region and account; KD042.)
async fn dead_letter_targets(
    aws: &Aws,
    desired: &Desired,
    observed: &crate::observed::Observed,
) -> std::collections::BTreeMap<String, Result<bool, String>> {
    let arns: std::collections::BTreeSet<String> = observed
        .queues
        .values()
        .filter_map(|q| crate::observed::dead_letter_arn(&q.attributes))
        .filter(|arn| !desired.queues.iter().any(|q| &q.arn == arn))
        .collect();
    let exists = |arn: String| async move {
        let found = match super::checks::parse_queue_arn(&arn) {
            None => Err(format!("{arn} is not an SQS queue ARN")),
            Some((region, account, name)) => aws
                .sqs
                .get_queue_url()
                .queue_name(name)
                .queue_owner_aws_account_id(account)
                .customize()
                .config_override(
                    aws_sdk_sqs::config::Builder::default()
                        .region(aws_config::Region::new(region.to_string())),
                )
                .send()
                .await
                .map(|_| true)
                .or_else(|e| match crate::cloud::error_code(&e) {
                    Some(c) if c.contains("NonExistentQueue") => Ok(false),
                    _ => Err(crate::cloud::CallError::new("GetQueueUrl", &arn, &e).to_string()),
                }),
        };
        (arn, found)
    };
    futures_util::future::join_all(arns.into_iter().map(exists))
        .await
        .into_iter()
        .collect()
}

/// The configured queue is missing where the config says: is it in another region, or is its
/// FIFO/standard twin here? (`--fix` must not build a second stack beside a working one.)
async fn queue_elsewhere(aws: &Aws, desired: &Desired, name: &str) -> guard::Elsewhere {
    let here = desired.target.region.as_str();
    let url = |region: &'static str, name: String| async move {
        let mut call = aws.sqs.get_queue_url().queue_name(&name).customize();
        if !region.is_empty() {
            call = call.config_override(
                aws_sdk_sqs::config::Builder::default().region(aws_config::Region::new(region)),
            );
        }
        match call.send().await {
            Ok(out) => Ok(out.queue_url().map(|u| (region.to_string(), u.to_string()))),
            Err(e)
                if crate::cloud::error_code(&e).is_some_and(|c| c.contains("NonExistentQueue")) =>
            {
                Ok(None)
            }
            Err(_) => Err(region),
        }
    };
    let others = crate::render::aws::default_regions(here)
        .iter()
        .filter(|r| **r != here)
        .map(|r| url(r, name.to_string()));
    let (twin, others) = tokio::join!(
        url("", guard::twin(name)),
        futures_util::future::join_all(others)
    );
    let mut found = guard::Elsewhere {
        twin: twin.ok().flatten().map(|(_, url)| url),
        ..guard::Elsewhere::default()
    };
    for r in others {
        match r {
            Ok(Some(u)) => found.regions.push(u),
            Ok(None) => {}
            Err(region) => found.unanswered.push(region.to_string()),
        }
    }
    found
}

/// The roles the cluster's nodes pull images as: each managed node group's, and Auto Mode's.
/// Self-managed and Karpenter nodes are not listed anywhere kedactl reads: an empty answer.
async fn node_roles(
    aws: &Aws,
    desired: &Desired,
    cluster: Option<&crate::observed::Cluster>,
) -> Result<Vec<crate::observed::Role>, String> {
    let name = &desired.cluster;
    let groups = aws
        .eks
        .list_nodegroups()
        .cluster_name(name)
        .send()
        .await
        .map_err(|e| {
            crate::cloud::CallError::new("ListNodegroups", format!("EKS cluster {name}"), &e)
                .to_string()
        })?;
    let described = futures_util::future::join_all(groups.nodegroups().iter().map(|g| {
        aws.eks
            .describe_nodegroup()
            .cluster_name(name)
            .nodegroup_name(g)
            .send()
    }))
    .await;
    let mut arns: Vec<String> = cluster
        .and_then(|c| c.node_role_arn.clone())
        .into_iter()
        .collect();
    for (g, d) in groups.nodegroups().iter().zip(described) {
        let d = d.map_err(|e| {
            crate::cloud::CallError::new("DescribeNodegroup", format!("node group {g}"), &e)
                .to_string()
        })?;
        if let Some(arn) = d.nodegroup().and_then(|n| n.node_role()) {
            arns.push(arn.to_string());
        }
    }
    arns.sort();
    arns.dedup();
    let roles = futures_util::future::join_all(arns.iter().map(|arn| {
        let role = arn.rsplit('/').next().unwrap_or(arn).to_string();
        async move { observe::one_role(aws, &role).await }
    }))
    .await;
    roles.into_iter().filter_map(Result::transpose).collect()
}

/// The simulator's answers, and the questions it would not answer with why.
#[derive(Debug, Default)]
struct Simulated {
    answers: BTreeMap<String, String>,
    unanswered: BTreeMap<String, String>,
}

/// The questions the simulator can answer better than reading documents (it sees managed
/// policies, boundaries and SCPs). moto and some accounts do not answer at all: then it is
/// skipped. A caller may be allowed to ask about some principals and not others (a policy
/// that names the stack's roles, not the caller itself): a denied question is unanswered on
/// its own, and only the checks that needed it say so.
async fn simulate(aws: &Aws, d: &Desired, caller: &Caller) -> Result<Simulated, String> {
    use crate::render::RolePurpose;
    let mut questions: Vec<(String, String, String)> = Vec::new();
    let op = d.roles.iter().find(|r| r.purpose == RolePurpose::Operator);
    // Each app's chain and queue read (apps sharing a role ask its questions once).
    for app in &d.triggers {
        let id = d
            .roles
            .iter()
            .find(|r| r.purpose == RolePurpose::Identity && r.name == app.role);
        if let (Some(op), Some(id)) = (op, id) {
            questions.push((op.arn.clone(), "sts:AssumeRole".into(), id.arn.clone()));
        }
        let queue = app
            .queue
            .as_ref()
            .and_then(|q| d.queues.iter().find(|dq| &dq.name == q));
        if let (Some(id), Some(q)) = (id, queue) {
            questions.push((
                id.arn.clone(),
                "sqs:GetQueueAttributes".into(),
                q.arn.clone(),
            ));
        }
    }
    // The caller's own ARN: an assumed-role session is simulated as its role.
    let caller_arn = caller.arn.clone();
    for r in &d.roles {
        questions.push((caller_arn.clone(), "iam:PassRole".into(), r.arn.clone()));
    }
    questions.sort();
    questions.dedup();
    let ask = |(principal, action, resource): (String, String, String)| async move {
        let source = crate::render::aws::principal_arn(&principal);
        let key = simulation_key(&principal, &action, &resource);
        let got = aws
            .iam
            .simulate_principal_policy()
            .policy_source_arn(&source)
            .action_names(&action)
            .resource_arns(&resource)
            .customize()
            // Extra evidence only: an account (or moto) that cannot answer is not retried.
            .config_override(
                aws_sdk_iam::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match got {
            Ok(got) => Ok(got
                .evaluation_results()
                .first()
                .map(|r| (key, r.eval_decision().as_str().to_string()))),
            Err(e) => Err((
                key,
                crate::cloud::CallError::new("SimulatePrincipalPolicy", &source, &e),
            )),
        }
    };
    let mut out = Simulated::default();
    // The first question alone: an account (or moto) that does not answer is asked once. A
    // denial is about this question's principal only. Then the rest at once, so 40 apps cost
    // the round trips of one.
    let mut questions = questions.into_iter();
    match questions.next() {
        Some(q) => match ask(q).await {
            Err((_, e)) if !e.is_access_denied() => {
                return Err(format!(
                    "the IAM policy simulator did not answer ({e}); documents were evaluated instead"
                ));
            }
            answer => out.record(answer),
        },
        None => return Ok(out),
    }
    for answer in futures_util::future::join_all(questions.map(ask)).await {
        out.record(answer);
    }
    Ok(out)
}

impl Simulated {
    fn record(
        &mut self,
        answer: Result<Option<(String, String)>, (String, crate::cloud::CallError)>,
    ) {
        match answer {
            Ok(a) => self.answers.extend(a),
            Err((key, e)) => {
                let why = match &e.code {
                    Some(code) => format!("{code}: {}", e.message),
                    None => e.message.clone(),
                };
                let fix = match e.is_access_denied() {
                    true => {
                        " (the caller needs iam:SimulatePrincipalPolicy on it: `kedactl render --caller-policy --caller-arn <its ARN>` writes a caller policy that allows it)"
                    }
                    false => "",
                };
                self.unanswered.insert(
                    key,
                    format!(
                        "the IAM policy simulator did not answer about {}: {why}{fix}",
                        e.resource
                    ),
                );
            }
        }
    }
}

/// The cluster: `plan`'s observation, then doctor's own reads: the stack's (KEDA, the agent)
/// and every app's in focus, all at once.
pub async fn cluster_side(
    kube: &Kube,
    desired: &Desired,
    only: &Only,
    focus: Focus<'_>,
    e: &mut Evidence,
) -> Result<(), KubeError> {
    observe::cluster_side(kube, desired, only, &mut e.observed).await?;
    let ns = e
        .observed
        .keda
        .as_ref()
        .map_or(desired.keda.namespace.clone(), |k| k.namespace.clone());

    // Each read that fails is recorded under its part, and the rest go on.
    let unread = Mutex::new(BTreeMap::new());
    let u = &unread;
    let (operator, apiservice, agent) = futures_util::future::join3(
        tolerate(
            u,
            part::OPERATOR,
            kube.get("Deployment", Some(&ns), keda::OPERATOR),
        ),
        tolerate(
            u,
            part::APISERVICE,
            kube.get("APIService", None, keda::APISERVICE),
        ),
        tolerate(
            u,
            part::AGENT,
            kube.get("DaemonSet", Some("kube-system"), "eks-pod-identity-agent"),
        ),
    )
    .await;
    // The operator's branch (pod, account, logs, node, agent) beside every app's.
    let operator_branch = async {
        let mut c = ClusterEvidence::default();
        let Some(d) = &operator else {
            return c;
        };
        let sa = d["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        let (pod, account) = futures_util::future::join(
            tolerate(u, part::OPERATOR_POD, rollout::newest_pod(kube, &ns, d)),
            tolerate(
                u,
                part::OPERATOR_SA,
                kube.get("ServiceAccount", Some(&ns), sa),
            ),
        )
        .await;
        c.operator_sa = account;
        if let Some(pod) = &pod {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
            let log = tolerate(
                u,
                part::OPERATOR_LOG,
                kube.logs(&ns, name, keda::OPERATOR, TAIL),
            );
            let node_obj = tolerate(u, part::NODE, async {
                match node.is_empty() {
                    true => Ok(None),
                    false => kube.get("Node", None, node).await,
                }
            });
            let agent_log = tolerate(u, part::AGENT_LOG, async {
                if agent.is_none() || node.is_empty() {
                    return Ok(String::new());
                }
                let selector = "app.kubernetes.io/name=eks-pod-identity-agent";
                let agents = kube
                    .list("Pod", Some("kube-system"), Some(selector))
                    .await?;
                match agents.iter().find(|p| p["spec"]["nodeName"] == node) {
                    Some(a) => {
                        let pod = a["metadata"]["name"].as_str().unwrap_or_default();
                        kube.logs("kube-system", pod, "eks-pod-identity-agent", TAIL)
                            .await
                    }
                    None => Ok(String::new()),
                }
            });
            let (log, node_obj, agent_log) =
                futures_util::future::join3(log, node_obj, agent_log).await;
            c.operator_log = log;
            c.operator_node = node_obj;
            c.agent_log = agent_log;
        }
        c.operator_pod = pod;
        c
    };
    let apps =
        futures_util::future::join_all(focus.apps(desired).into_iter().map(|app| async move {
            (
                app.app.clone(),
                app_objects(kube, desired, app, focus).await,
            )
        }));
    let (operator_part, apps, policies) =
        futures_util::future::join3(operator_branch, apps, network_policies(kube, &ns)).await;
    let mut c = operator_part;
    c.apps = apps.into_iter().collect();
    c.operator = operator;
    c.apiservice = apiservice;
    c.agent = agent;
    c.network_policies = Some(policies);
    c.unread = unread.into_inner().unwrap_or_default();
    e.cluster = Some(c);
    Ok(())
}

/// One app's objects: its scaler and KEDA's HPA, then the TriggerAuthentication the scaler
/// names, beside its Deployment's newest pod.
async fn app_objects(
    kube: &Kube,
    desired: &Desired,
    app: &TriggerUse,
    focus: Focus<'_>,
) -> AppObjects {
    let unread = Mutex::new(BTreeMap::new());
    let u = &unread;
    let (kind, ns, name) = match focus.scaled_object {
        Some((ns, name)) => ("ScaledObject", ns.to_string(), name.to_string()),
        None => (
            app.scaler.0.as_str(),
            app.namespace.clone(),
            app.scaler.1.clone(),
        ),
    };
    let hpa_name = format!("keda-hpa-{name}");
    let deployment = app.manifest(desired, "Deployment", app.deployment());
    let scaler_branch = async {
        let (scaler, hpa) = futures_util::future::join(
            tolerate(u, part::SCALER, kube.get(kind, Some(&ns), &name)),
            tolerate(
                u,
                part::HPA,
                kube.get("HorizontalPodAutoscaler", Some(&ns), &hpa_name),
            ),
        )
        .await;
        let trigger_auth = match &scaler {
            Some(s) => tolerate(u, part::TRIGGER_AUTH, trigger_auth(kube, s)).await,
            None => None,
        };
        (scaler, hpa, trigger_auth)
    };
    let pod_branch = tolerate(u, part::APP_POD, async {
        let Some(d) = deployment else {
            return Ok(None);
        };
        let (_, dns, dname) = crate::render::object_ref(d);
        let dns = dns.unwrap_or_default();
        match kube.get("Deployment", Some(&dns), &dname).await? {
            Some(live) => rollout::newest_pod(kube, &dns, &live).await,
            None => Ok(None),
        }
    });
    // The team's own workload (`existing: true`): read with its namespace's HPAs and newest pod.
    let existing = desired
        .workloads
        .iter()
        .find(|w| w.namespace == app.namespace && w.name == app.deployment());
    let existing_branch = async {
        let Some(w) = existing else {
            return (None, None, None);
        };
        let ns = Some(w.namespace.as_str());
        let (live, hpas) = futures_util::future::join(
            tolerate(u, part::WORKLOAD, kube.get(&w.kind, ns, &w.name)),
            tolerate(u, part::HPAS, async {
                kube.list("HorizontalPodAutoscaler", ns, None)
                    .await
                    .map(Some)
            }),
        )
        .await;
        let pod = match &live {
            Some(l) => tolerate(u, part::APP_POD, rollout::newest_pod(kube, &w.namespace, l)).await,
            None => None,
        };
        (live, hpas, pod)
    };
    let ((scaler, hpa, trigger_auth), app_pod, (workload, hpas, existing_pod)) =
        futures_util::future::join3(scaler_branch, pod_branch, existing_branch).await;
    AppObjects {
        scaler,
        trigger_auth,
        hpa,
        app_pod: app_pod.or(existing_pod),
        workload,
        hpas,
        unread: unread.into_inner().unwrap_or_default(),
    }
}

/// The read's value, or its default with the failure recorded under `part`.
async fn tolerate<T: Default>(
    unread: &Mutex<BTreeMap<&'static str, String>>,
    part: &'static str,
    read: impl std::future::Future<Output = Result<T, KubeError>>,
) -> T {
    match read.await {
        Ok(v) => v,
        Err(e) => {
            if let Ok(mut u) = unread.lock() {
                u.insert(part, e.to_string());
            }
            T::default()
        }
    }
}

/// The NetworkPolicies in KEDA's namespace (KD038); a refused list is that check's to report.
async fn network_policies(kube: &Kube, ns: &str) -> Result<Vec<Value>, String> {
    kube.list("NetworkPolicy", Some(ns), None)
        .await
        .map_err(|e| format!("could not list NetworkPolicies in {ns}: {e}"))
}

/// The TriggerAuthentication (or ClusterTriggerAuthentication) the app's trigger names.
async fn trigger_auth(kube: &Kube, scaler: &Value) -> Result<Option<Value>, KubeError> {
    let Some(r) = scaler["spec"]["triggers"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| crate::triggers::is_ours(t)))
        .map(|t| &t["authenticationRef"])
        .filter(|r| r["name"].is_string())
    else {
        return Ok(None);
    };
    let name = r["name"].as_str().unwrap_or_default();
    match r["kind"].as_str() {
        Some("ClusterTriggerAuthentication") => {
            kube.get("ClusterTriggerAuthentication", None, name).await
        }
        _ => {
            let ns = scaler["metadata"]["namespace"].as_str();
            kube.get("TriggerAuthentication", ns, name).await
        }
    }
}
