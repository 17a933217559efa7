//! `apps[].existing: true` against the in-memory API server: the team's Deployment (and its
//! service account) made by "their chart" are read and scaled, never applied or deleted; IRSA's
//! role annotation is the one field kedactl applies on the team's service account; doctor's
//! KD056 reads them through its real gather.

#[path = "support/apiserver.rs"]
mod apiserver;
mod common;

use apiserver::ApiServer;
use kedactl::cluster::{Access, Kube};
use kedactl::doctor::{Evidence, Status, checks, gather};
use kedactl::exec::{self, Status as StepStatus};
use kedactl::model::{Group, Only};
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Observed, teardown};
use kedactl::render::{Desired, IRSA_ANNOTATION};
use kedactl::spec::{AuthMode, Spec, WorkloadKind};
use serde_json::{Value, json};
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/keda-identity";

fn desired(kind: WorkloadKind) -> Desired {
    let mut spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        auth_mode: AuthMode::Irsa,
        oidc_issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into()),
        ..Spec::default()
    };
    spec.apps[0].existing = true;
    spec.apps[0].kind = kind;
    kedactl::spec::validate(&spec, "test").unwrap();
    kedactl::render::desired(&spec).unwrap()
}

fn groups() -> Only {
    Only::new(vec![Group::Keda, Group::App])
}

/// What the team's chart made: its namespace, service account and workload, none labelled by
/// kedactl, the pods running as `sa`.
fn teams_chart(api: &ApiServer, kind: &str, sa: &str) {
    let helm = json!({ "app.kubernetes.io/managed-by": "Helm" });
    api.seed(json!({ "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": "security", "labels": helm } }));
    api.seed(json!({ "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": { "name": "my-sqs-read-msgs", "namespace": "security", "labels": helm } }));
    api.seed(json!({ "apiVersion": "apps/v1", "kind": kind,
        "metadata": { "name": "q-read", "namespace": "security", "labels": helm },
        "spec": { "replicas": 2, "selector": { "matchLabels": { "app": "q-read" } },
            "template": { "metadata": { "labels": { "app": "q-read" } },
                "spec": { "serviceAccountName": sa, "containers": [{ "name": "q-read", "image": "team/app:1" }] } } } }));
}

async fn observe(kube: &Kube, d: &Desired) -> Observed {
    let mut o = Observed::default();
    kedactl::observe::cluster_side(kube, d, &groups(), &mut o)
        .await
        .unwrap();
    o
}

async fn run(kube: &Kube, p: &plan::Plan, helm: &std::path::Path) -> exec::Report {
    let opts = exec::Options {
        kube_poll: Duration::from_millis(1),
        rollout_timeout: Duration::from_secs(5),
        delete_timeout: Duration::from_secs(5),
        helm: helm.to_path_buf(),
        trust_watch: Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    };
    let report = exec::execute(
        &common::offline_aws(),
        Some(kube),
        p,
        &opts,
        &Progress::Silent,
    )
    .await;
    let failed: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.status != StepStatus::Done)
        .map(|o| format!("{}: {:?}", o.id, o.error))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    report
}

/// Requests that wrote the team's objects (anything but GET/LIST on them).
fn writes_to_teams(api: &ApiServer) -> Vec<String> {
    api.requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET"))
        .filter(|r| {
            r.contains("/deployments/q-read")
                || r.contains("/statefulsets/q-read")
                || r.ends_with("/namespaces/security")
        })
        .collect()
}

#[tokio::test]
async fn up_scales_the_teams_workload_and_down_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, _) = apiserver::fake_helm(dir.path(), 0);
    let api = ApiServer::default();
    api.state().helm_log = Some(dir.path().join("helm.log"));
    teams_chart(&api, "StatefulSet", "my-sqs-read-msgs");
    let before = api.get("statefulsets", Some("security"), "q-read").unwrap();
    let kube = Kube::new(api.client(), Access::Direct);
    let d = desired(WorkloadKind::StatefulSet);

    let o = observe(&kube, &d).await;
    let only = plan::Options {
        only: groups(),
        ..Default::default()
    };
    let p = plan::plan(&d, &o, &only).unwrap();
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "keda:install",
            "keda:verify",
            "app:ServiceAccount/security/my-sqs-read-msgs",
            "app:TriggerAuthentication/security/q-read-trigger-auth",
            "app:ScaledObject/security/k8s-sqs-read-msg-keda",
        ]
    );
    run(&kube, &p, &helm).await;

    // The workload is as the chart left it; the ScaledObject targets it.
    assert_eq!(
        api.get("statefulsets", Some("security"), "q-read").unwrap()["spec"],
        before["spec"]
    );
    assert!(
        writes_to_teams(&api).is_empty(),
        "{:#?}",
        writes_to_teams(&api)
    );
    let so = api
        .get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
        .unwrap();
    assert_eq!(so["spec"]["scaleTargetRef"]["kind"], "StatefulSet");
    assert_eq!(so["spec"]["scaleTargetRef"]["name"], "q-read");
    // The team's service account: annotated, kedactl owning that one field, no stack label.
    let sa = api
        .get("serviceaccounts", Some("security"), "my-sqs-read-msgs")
        .unwrap();
    assert_eq!(sa["metadata"]["annotations"][IRSA_ANNOTATION], ROLE);
    assert_eq!(
        sa["metadata"]["labels"],
        json!({ "app.kubernetes.io/managed-by": "Helm" })
    );
    let owned = apiserver::owned(&sa, "kedactl");
    assert!(
        owned.iter().all(|f| f.contains("annotations")),
        "kedactl owns only the annotation: {owned:?}"
    );
    // A second plan is empty: converged without touching the team's objects.
    let again = plan::plan(&d, &observe(&kube, &d).await, &only).unwrap();
    assert!(
        again.is_empty(),
        "{:?}",
        again.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );

    // down: the scaler and its auth go; the workload, its service account and namespace stay.
    let mut o = observe(&kube, &d).await;
    kedactl::observe::namespace_side(&kube, &d, &mut o)
        .await
        .unwrap();
    let (down, notes) = teardown::teardown(
        &d,
        &o,
        &teardown::Options {
            only: Only::new(vec![Group::App]),
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<&str> = down.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "app:ScaledObject/security/k8s-sqs-read-msg-keda",
            "app:TriggerAuthentication/security/q-read-trigger-auth",
            "app:ServiceAccount/security/my-sqs-read-msgs/annotation",
        ]
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("ServiceAccount security/my-sqs-read-msgs")),
        "{notes:?}"
    );
    run(&kube, &down, &helm).await;
    assert_eq!(
        api.get("statefulsets", Some("security"), "q-read").unwrap()["spec"],
        before["spec"]
    );
    // The team's service account stays, without the annotation kedactl applied.
    let sa = api
        .get("serviceaccounts", Some("security"), "my-sqs-read-msgs")
        .unwrap();
    assert!(
        sa["metadata"]["annotations"][IRSA_ANNOTATION].is_null(),
        "{sa:#}"
    );
    assert_eq!(
        sa["metadata"]["labels"],
        json!({ "app.kubernetes.io/managed-by": "Helm" })
    );
    assert!(api.get("namespaces", None, "security").is_some());
    assert!(
        writes_to_teams(&api).is_empty(),
        "{:#?}",
        writes_to_teams(&api)
    );
}

#[tokio::test]
async fn up_stops_on_a_missing_workload_or_another_service_account() {
    let api = ApiServer::default();
    let kube = Kube::new(api.client(), Access::Direct);
    let d = desired(WorkloadKind::Deployment);
    let only = plan::Options {
        only: groups(),
        ..Default::default()
    };
    let err = plan::plan(&d, &observe(&kube, &d).await, &only).unwrap_err();
    assert_eq!(err.conflicts[0].resource, "Deployment security/q-read");
    assert!(err.conflicts[0].reason.starts_with("not found"), "{err}");

    teams_chart(&api, "Deployment", "default");
    let err = plan::plan(&d, &observe(&kube, &d).await, &only).unwrap_err();
    assert!(
        err.conflicts[0]
            .reason
            .contains("its pods run as service account default, not my-sqs-read-msgs"),
        "{err}"
    );
}

async fn kd056(kube: &Kube, d: &Desired) -> kedactl::doctor::Finding {
    let mut e = Evidence::default();
    gather::cluster_side(kube, d, &groups(), Default::default(), &mut e)
        .await
        .unwrap();
    checks::run(d, &e)
        .into_iter()
        .find(|f| f.code == "KD056")
        .unwrap()
}

#[tokio::test]
async fn doctor_reads_the_workload_and_the_hpas_that_scale_it() {
    let api = ApiServer::default();
    let kube = Kube::new(api.client(), Access::Direct);
    let d = desired(WorkloadKind::Deployment);
    let f = kd056(&kube, &d).await;
    assert_eq!(
        (f.status, f.evidence.clone()),
        (
            Status::Fail,
            vec!["Deployment security/q-read does not exist".to_string()]
        )
    );

    teams_chart(&api, "Deployment", "my-sqs-read-msgs");
    let f = kd056(&kube, &d).await;
    assert_eq!(f.status, Status::Ok, "{f:?}");

    // The chart's own HPA on the same Deployment.
    api.seed(hpa("q-read"));
    let f = kd056(&kube, &d).await;
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert!(
        f.evidence[0].starts_with("HorizontalPodAutoscaler security/q-read also scales it"),
        "{f:?}"
    );
}

fn hpa(name: &str) -> Value {
    json!({ "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": { "name": name, "namespace": "security" },
        "spec": { "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "q-read" },
            "minReplicas": 1, "maxReplicas": 5 } })
}
