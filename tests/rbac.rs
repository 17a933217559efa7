//! docs/rbac.yaml is exactly the Kubernetes access kedactl needs (issue 24 §6): on the in-memory
//! API server enforcing it, every request of `up` (install, converged, upgrade of the app),
//! `doctor`, `scale` and `down` is allowed, and every verb/resource it grants is used by one of
//! them. helm's own requests are not kedactl's (the fake helm writes the chart directly).

#[path = "support/apiserver.rs"]
mod apiserver;
mod common;

use apiserver::ApiServer;
use apiserver::rbac::{self, Attributes};
use kedactl::cluster::{Access, Kube};
use kedactl::doctor::{Evidence, gather};
use kedactl::exec;
use kedactl::model::{Group, Only};
use kedactl::observe;
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Observed};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

fn rbac_yaml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rbac.yaml")).unwrap()
}

fn options(helm: &Path) -> exec::Options {
    exec::Options {
        kube_poll: Duration::from_millis(1),
        rollout_timeout: Duration::from_secs(5),
        delete_timeout: Duration::from_secs(5),
        helm: helm.to_path_buf(),
        trust_watch: Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    }
}

/// up from an empty cluster, up again, doctor, scale, down: every cluster request kedactl
/// makes in these commands. Panics on any failure.
/// What the cluster shows of `d`'s groups in `only`.
async fn observed(kube: &Kube, d: &kedactl::render::Desired, only: &Only) -> Observed {
    let mut o = Observed::default();
    observe::cluster_side(kube, d, only, &mut o).await.unwrap();
    o
}

/// The plan for `only` against what was observed.
fn planned(d: &kedactl::render::Desired, o: &Observed, only: &Only) -> plan::Plan {
    plan::plan(
        d,
        o,
        &plan::Options {
            only: only.clone(),
            ..Default::default()
        },
    )
    .unwrap()
}

async fn every_command(api: &ApiServer, dir: &Path) {
    let (helm, log) = apiserver::fake_helm(dir, 0);
    {
        let mut s = api.state();
        s.associations = vec![
            ("keda".into(), "keda-operator".into()),
            ("security".into(), "my-sqs-read-msgs".into()),
            ("security".into(), "worker".into()),
            ("shop".into(), "ledger".into()),
        ];
        s.helm_log = Some(log);
    }
    let kube = Kube::new(api.client(), Access::Direct);
    // The seed's ScaledObject app and a ScaledJob app.
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..kedactl::spec::Spec::default()
    };
    let mut job = kedactl::spec::App {
        deployment: "worker".into(),
        service_account: "worker".into(),
        ..kedactl::spec::App::default()
    };
    job.scaling.kind = kedactl::spec::ScalingKind::ScaledJob;
    spec.apps.push(job);
    // And a team's own StatefulSet (`existing: true`): read and scaled, never written.
    let team = serde_json::json!({ "app.kubernetes.io/managed-by": "Helm" });
    api.seed(serde_json::json!({ "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": "shop", "labels": team } }));
    api.seed(
        serde_json::json!({ "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": { "name": "ledger", "namespace": "shop", "labels": team } }),
    );
    api.seed(
        serde_json::json!({ "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": { "name": "ledger", "namespace": "shop", "labels": team },
        "spec": { "replicas": 1, "selector": { "matchLabels": { "app": "ledger" } },
            "template": { "metadata": { "labels": { "app": "ledger" } },
                "spec": { "serviceAccountName": "ledger",
                    "containers": [{ "name": "ledger", "image": "team/ledger:1" }] } } } }),
    );
    spec.apps.push(kedactl::spec::App {
        deployment: "ledger".into(),
        namespace: "shop".into(),
        service_account: "ledger".into(),
        existing: true,
        kind: kedactl::spec::WorkloadKind::StatefulSet,
        queue: kedactl::spec::Queue {
            name: "ledger".into(),
            ..Default::default()
        },
        ..kedactl::spec::App::default()
    });
    let d = kedactl::render::desired(&spec).unwrap();
    let only = Only::new(vec![Group::Keda, Group::App]);
    let aws = common::offline_aws();
    for round in 0..2 {
        let mut o = observed(&kube, &d, &only).await;
        // What the config no longer names, by the stack's label (`up` prunes it).
        let unlisted = observe::leftovers::cluster_side(&kube, &d, &only, &mut o).await;
        assert!(unlisted.is_empty(), "{unlisted:?}");
        let plan = planned(&d, &o, &only);
        assert_eq!(plan.is_empty(), round == 1);
        let report =
            exec::execute(&aws, Some(&kube), &plan, &options(&helm), &Progress::Silent).await;
        assert!(report.ok(), "{report:?}");
    }
    // The app's Deployment changes: an update, and its pods restart.
    let mut d2 = d.clone();
    for m in &mut d2.manifests {
        if m["kind"] == "Deployment" {
            m["spec"]["template"]["metadata"]["annotations"]["example.com/rev"] = "2".into();
        }
    }
    let o = observed(&kube, &d2, &only).await;
    let plan = planned(&d2, &o, &only);
    let report = exec::execute(&aws, Some(&kube), &plan, &options(&helm), &Progress::Silent).await;
    assert!(report.ok(), "{report:?}");

    // doctor follows a scaler's authenticationRef to a ClusterTriggerAuthentication too.
    {
        let mut s = api.state();
        let key = (
            "scaledobjects".to_string(),
            Some("security".to_string()),
            "k8s-sqs-read-msg-keda".to_string(),
        );
        let so = s.objects.get_mut(&key).unwrap();
        so["spec"]["triggers"][0]["authenticationRef"]["kind"] =
            "ClusterTriggerAuthentication".into();
    }
    let mut e = Evidence::default();
    gather::cluster_side(&kube, &d, &only, Default::default(), &mut e)
        .await
        .unwrap();
    // scale: who else drives the Deployment, then its replicas.
    kube.controllers_of("security", "q-read").await.unwrap();
    kube.set_replicas("security", "q-read", 2).await.unwrap();
    assert_eq!(kube.replicas("security", "q-read").await.unwrap(), 2);

    let mut o = observed(&kube, &d, &only).await;
    observe::namespace_side(&kube, &d, &mut o).await.unwrap();
    let (plan, _) = plan::teardown::teardown(
        &d,
        &o,
        &plan::teardown::Options {
            only,
            ..Default::default()
        },
    )
    .unwrap();
    let report = exec::execute(&aws, Some(&kube), &plan, &options(&helm), &Progress::Silent).await;
    assert!(report.ok(), "{report:?}");
    assert!(api.get("namespaces", None, "security").is_none());
    // The team's workload, its service account and namespace stay.
    assert!(api.get("statefulsets", Some("shop"), "ledger").is_some());
    assert!(api.get("namespaces", None, "shop").is_some());
    assert!(api.get("namespaces", None, "keda").is_none());
}

/// Every (verb, group, resource) the rules grant, for rules without wildcards.
fn granted(rules: &[rbac::Rule]) -> BTreeSet<Attributes> {
    let mut out = BTreeSet::new();
    for r in rules
        .iter()
        .filter(|r| !r.resources.contains(&"*".to_string()))
    {
        for g in &r.groups {
            for res in &r.resources {
                for v in &r.verbs {
                    out.insert((v.clone(), g.clone(), res.clone()));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_documented_cluster_role_allows_every_request_and_nothing_unused() {
    let rules = rbac::rules_from_yaml(&rbac_yaml());
    assert!(!rules.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let api = ApiServer::default();
    api.state().rbac = Some(rules.clone());
    every_command(&api, dir.path()).await;
    let s = api.state();
    assert!(s.denied.is_empty(), "denied: {:#?}", s.denied);
    // Nothing more: every explicit grant was used. (The wildcard list rule is the namespace
    // check's: discovery decides which kinds it lists.)
    let unused: Vec<Attributes> = granted(&rules)
        .into_iter()
        .filter(|a| !s.authorized.contains(a))
        .collect();
    assert!(unused.is_empty(), "granted but never used: {unused:#?}");
}

/// The enforcement is live: a request the rules do not allow is 403 in the authorizer's words.
#[tokio::test]
async fn a_request_outside_the_rules_is_forbidden() {
    let rules: Vec<rbac::Rule> = rbac::rules_from_yaml(&rbac_yaml())
        .into_iter()
        .filter(|r| {
            !r.resources.contains(&"deployments".to_string())
                && !r.resources.contains(&"*".to_string())
        })
        .collect();
    let api = ApiServer::default();
    api.state().rbac = Some(rules);
    let kube = Kube::new(api.client(), Access::Direct);
    let err = kube
        .list("Deployment", None, Some("app=keda-operator"))
        .await
        .unwrap_err();
    assert_eq!(err.code, Some(403));
    assert_eq!(
        err.message,
        "deployments.apps is forbidden: User \"kedactl\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
    );
    assert_eq!(
        api.state().denied,
        [(
            "list".to_string(),
            "apps".to_string(),
            "deployments".to_string()
        )]
    );
}

/// A 403 on one of KEDA's discovery reads is "could not check X" naming the verb and resource,
/// not an aborted run, and not a guess: a CRD that could not be read is not reported missing.
#[tokio::test]
async fn a_refused_read_is_could_not_check_naming_what_to_grant() {
    let dir = tempfile::tempdir().unwrap();
    let api = ApiServer::default();
    every_command(&api, dir.path()).await;
    // up again to have KEDA installed, then take four reads away.
    let (helm, _) = apiserver::fake_helm(dir.path(), 0);
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let only = Only::new(vec![Group::Keda, Group::App]);
    let o = observed(&kube, &d, &only).await;
    let plan = planned(&d, &o, &only);
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:?}");

    let mut rules = rbac::rules_from_yaml(&rbac_yaml());
    for r in &mut rules {
        r.verbs.retain(|v| {
            let res = &r.resources;
            !(res.contains(&"customresourcedefinitions".to_string())
                || res.contains(&"apiservices".to_string())
                || res.contains(&"secrets".to_string())
                || (res.contains(&"deployments".to_string()) && v == "list")
                || res.contains(&"*".to_string()))
        });
    }
    api.state().rbac = Some(rules);
    let kube = Kube::new(api.client(), Access::Direct);
    let o = observed(&kube, &d, &only).await;
    let k = o.keda.as_ref().expect("KEDA found in its namespace");
    assert_eq!(
        (k.namespace.as_str(), k.version.as_str()),
        ("keda", "2.20.2")
    );
    assert!(
        k.missing.is_empty(),
        "unread CRDs are not missing: {:?}",
        k.missing
    );
    let notes = kube.unchecked();
    for want in [
        "could not check KEDA's CRD scaledobjects.keda.sh: get customresourcedefinitions.apiextensions.k8s.io was refused (403 Forbidden)",
        "could not check the APIService v1beta1.external.metrics.k8s.io: get apiservices.apiregistration.k8s.io was refused (403 Forbidden)",
        "could not check other namespaces for KEDA's operator (looked in keda only): list deployments.apps was refused (403 Forbidden)",
        "could not check helm's release state in keda (a pending helm run): list secrets was refused (403 Forbidden)",
    ] {
        assert!(
            notes.iter().any(|n| n.starts_with(want)),
            "{want}\n{notes:#?}"
        );
    }
    // Nothing to do: the plan is empty, not a reinstall.
    let plan = planned(&d, &o, &only);
    assert!(plan.is_empty(), "{:?}", plan.steps);

    // A config that looks for KEDA in another namespace finds nothing there, and every read
    // that would find it elsewhere is refused: unknown, not absent (up must not install a
    // second KEDA), and doctor's KD020 says it could not check instead of "not installed".
    let mut elsewhere = common::seed_desired();
    elsewhere.keda.namespace = "autoscaling".into();
    let o = observed(&kube, &elsewhere, &only).await;
    assert!(o.keda.is_none());
    let why = o.keda_unknown.clone().expect("unknown, not absent");
    assert!(why.contains("were all refused"), "{why}");
    let mut e = Evidence::default();
    gather::cluster_side(&kube, &elsewhere, &only, Default::default(), &mut e)
        .await
        .unwrap();
    let found = kedactl::doctor::checks::run(&elsewhere, &e);
    let kd020 = found.iter().find(|f| f.code == "KD020").unwrap();
    assert_eq!(kd020.status, kedactl::doctor::Status::Skipped, "{kd020:?}");
    assert!(
        kd020.evidence.join(" ").contains("were all refused"),
        "{kd020:?}"
    );

    // With the operator list back, absence in every namespace is absence.
    let mut rules = rbac::rules_from_yaml(&rbac_yaml());
    for r in &mut rules {
        r.verbs.retain(|_| {
            !(r.resources
                .contains(&"customresourcedefinitions".to_string())
                || r.resources.contains(&"apiservices".to_string()))
        });
    }
    api.state().rbac = Some(rules);
    let kube = Kube::new(api.client(), Access::Direct);
    let o = observed(&kube, &elsewhere, &only).await;
    assert_eq!(o.keda_unknown, None);
    assert_eq!(
        o.keda.as_ref().map(|k| k.namespace.as_str()),
        Some("keda"),
        "found through the cluster-wide list"
    );
}
