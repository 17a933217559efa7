//! The Kubernetes half of `up`, `plan` and `down`, with the kube client answered in process
//! (there is no API server on these machines): a scripted verifier that asserts each request
//! (the kube-rs controller-test pattern) and an in-memory API server (tests/support) that plays
//! the Deployment controller, the Pod Identity webhook and the releases of a recording fake helm.

#[path = "support/apiserver.rs"]
mod apiserver;
mod common;

use apiserver::ApiServer;
use http::{Request, Response, StatusCode};
use kedactl::cluster::{self, Access, Kube, keda};
use kedactl::exec::{self, Status};
use kedactl::model::{Group, Only, ownership};
use kedactl::observe;
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Observed, Plan, teardown};
use kedactl::render::Desired;
use kube::client::Body;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn cluster_groups() -> Only {
    Only::new(vec![Group::Keda, Group::App])
}

fn options(helm: &Path) -> exec::Options {
    exec::Options {
        kube_poll: Duration::from_millis(1),
        rollout_timeout: Duration::from_secs(5),
        delete_timeout: Duration::from_secs(5),
        helm: helm.to_path_buf(),
        trust_watch: std::time::Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    }
}

/// The cluster as the EKS half of `up` leaves it: associations for both service accounts.
fn server(dir: &Path) -> ApiServer {
    let api = ApiServer::default();
    {
        let mut s = api.state();
        s.associations = vec![
            ("keda".into(), "keda-operator".into()),
            ("security".into(), "my-sqs-read-msgs".into()),
        ];
        s.helm_log = Some(dir.join("helm.log"));
    }
    api
}

async fn observe(kube: &Kube, d: &Desired) -> Observed {
    let mut o = Observed::default();
    observe::cluster_side(kube, d, &cluster_groups(), &mut o)
        .await
        .unwrap();
    o
}

async fn up(kube: &Kube, d: &Desired, opts: &exec::Options) -> (Plan, exec::Report) {
    let o = observe(kube, d).await;
    let plan = plan::plan(
        d,
        &o,
        &plan::Options {
            only: cluster_groups(),
            ..Default::default()
        },
    )
    .unwrap();
    let aws = common::offline_aws();
    let report = exec::execute(&aws, Some(kube), &plan, opts, &Progress::Silent).await;
    (plan, report)
}

fn ids(p: &Plan) -> Vec<&str> {
    p.steps.iter().map(|s| s.id.as_str()).collect()
}

fn failures(r: &exec::Report) -> Vec<String> {
    r.outcomes
        .iter()
        .filter(|o| o.status != Status::Done)
        .map(|o| format!("{}: {}", o.id, o.error.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn up_installs_keda_applies_the_app_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();

    let (plan, report) = up(&kube, &d, &options(&helm)).await;
    assert_eq!(
        ids(&plan),
        [
            "keda:install",
            "keda:verify",
            "app:Namespace/security",
            "app:ServiceAccount/security/my-sqs-read-msgs",
            "app:Deployment/security/q-read",
            "app:TriggerAuthentication/security/q-read-trigger-auth",
            "app:ScaledObject/security/k8s-sqs-read-msg-keda",
        ]
    );
    assert!(report.ok(), "{:?}", failures(&report));

    // helm ran once, pinned, with IRSA off; the marker says which stack installed KEDA.
    let helm_runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        helm_runs.trim(),
        "upgrade --install keda keda --repo https://kedacore.github.io/charts --version 2.20.2 \
         --namespace keda --create-namespace --set crds.additionalAnnotations.helm\\.sh/resource-policy=keep \
         --set serviceAccount.operator.name=keda-operator --set podIdentity.aws.irsa.enabled=false"
    );
    let marker = api.get("configmaps", Some("keda"), keda::MARKER).unwrap();
    assert_eq!(marker["data"]["stack"], d.stack);

    // Every object went through server-side apply as kedactl, in order, without force.
    let applies: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH") && r.contains("/namespaces/security"))
        .collect();
    assert_eq!(applies.len(), 5, "namespace and four objects: {applies:#?}");
    assert!(
        applies
            .iter()
            .all(|r| r.ends_with("?fieldManager=kedactl&fieldValidation=Strict")),
        "{applies:#?}"
    );
    let so = api
        .get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
        .unwrap();
    assert_eq!(so["spec"]["triggers"][0]["type"], "aws-sqs-queue");
    assert_eq!(
        so["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kedactl"
    );

    // A second `up` has nothing to do, and makes no changing call.
    let before = kube.calls().1;
    let (plan, _) = up(&kube, &d, &options(&helm)).await;
    assert!(plan.is_empty(), "{:#?}", ids(&plan));
    assert_eq!(kube.calls().1, before);
}

#[tokio::test]
async fn a_changed_association_restarts_keda_and_the_app_then_verifies_credentials() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;

    // The EKS half re-created both associations: plan with that observation.
    let o = observe(&kube, &d).await;
    let mut with_aws = o.clone();
    with_aws.associations = vec![]; // both associations to be created
    let plan = plan::plan(&d, &with_aws, &plan::Options::default()).unwrap();
    let cluster_steps: Vec<&str> = ids(&plan)
        .into_iter()
        .filter(|i| i.starts_with("keda:") || i.starts_with("app:"))
        .collect();
    assert_eq!(
        cluster_steps,
        [
            "keda:restart",
            "keda:verify",
            "app:Deployment/security/q-read/restart"
        ]
    );
    let cluster_only = Plan {
        steps: plan
            .steps
            .iter()
            .filter(|s| s.action.on_cluster())
            .cloned()
            .collect(),
    };
    let pods_before = api.state().objects.keys().filter(|k| k.0 == "pods").count();
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &cluster_only,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{:?}", failures(&report));
    let restarts: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH") && r.contains("deployments/"))
        .collect();
    assert!(
        restarts
            .iter()
            .any(|r| r.contains("/namespaces/keda/deployments/keda-operator")),
        "{restarts:#?}"
    );
    let d_op = api
        .get("deployments", Some("keda"), "keda-operator")
        .unwrap();
    assert!(
        d_op["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
    // Old pods replaced, not added to.
    assert_eq!(
        api.state().objects.keys().filter(|k| k.0 == "pods").count(),
        pods_before
    );
}

/// Run keda:verify alone on an operator whose running pod has credentials or not (started
/// before its association existed), with a webhook that then misses `misses` new pods.
async fn verify_after(injected: bool, misses: usize) -> (exec::Report, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (helm, _) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda"}}));
    let associations = std::mem::take(&mut api.state().associations);
    if injected {
        api.state().associations = associations.clone();
    }
    let op = apiserver::keda_deployment("keda", "keda-operator", "keda-operator", "2.20.2");
    let kube = Kube::new(api.client(), Access::Direct);
    kube.apply(&op, false).await.unwrap();
    api.state().associations = associations;
    api.state().miss_injections = misses;
    let setup = api.requests().len();
    let plan = Plan {
        steps: plan::plan(
            &common::seed_desired(),
            &Observed::default(),
            &plan::Options::default(),
        )
        .unwrap()
        .steps
        .into_iter()
        .filter(|s| s.id == "keda:verify")
        .collect(),
    };
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let restarts = api.requests()[setup..]
        .iter()
        .filter(|r| r.starts_with("PATCH") && r.contains("deployments/keda-operator"))
        .cloned()
        .collect();
    (report, restarts)
}

#[tokio::test]
async fn pod_identity_env_present_needs_no_restart() {
    let (report, restarts) = verify_after(true, 0).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(restarts.is_empty(), "{restarts:?}");
}

#[tokio::test]
async fn pod_identity_env_missing_is_fixed_by_one_restart() {
    let (report, restarts) = verify_after(false, 0).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert_eq!(restarts.len(), 1, "{restarts:?}");
}

#[tokio::test]
async fn pod_identity_env_missing_twice_fails_with_the_next_step() {
    let (report, restarts) = verify_after(false, 1).await;
    assert!(!report.ok());
    assert_eq!(
        restarts.len(),
        1,
        "restarts once, not forever: {restarts:?}"
    );
    let err = report.outcomes[0].error.clone().unwrap();
    assert!(
        err.contains("lacks AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE even after a restart")
            && err.contains("kedactl doctor")
            && err.contains("eks-pod-identity-agent"),
        "{err}"
    );
}

#[tokio::test]
async fn down_removes_exactly_what_up_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    // Someone else's objects: must survive.
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}));
    api.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep", "namespace": "other"}}));
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let (_, report) = up(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(!api.labelled(&d.stack).is_empty());

    let mut o = observe(&kube, &d).await;
    observe::namespace_side(&kube, &d, &mut o).await.unwrap();
    assert_eq!(o.namespace_contents["security"], Vec::<String>::new());
    assert_eq!(o.namespace_contents["keda"], Vec::<String>::new());
    let (plan, notes) = teardown::teardown(
        &d,
        &o,
        &teardown::Options {
            only: cluster_groups(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        ids(&plan),
        [
            "app:ScaledObject/security/k8s-sqs-read-msg-keda",
            "app:TriggerAuthentication/security/q-read-trigger-auth",
            "app:Deployment/security/q-read",
            "app:ServiceAccount/security/my-sqs-read-msgs",
            "app:Namespace/security",
            "keda:uninstall",
        ]
    );
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert_eq!(api.labelled(&d.stack), Vec::<String>::new());
    assert!(api.get("namespaces", None, "keda").is_none());
    assert!(api.get("configmaps", Some("other"), "keep").is_some());
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("uninstall keda --namespace keda --wait")
    );
    // Deletions waited: each object was read back until it was gone.
    let deletes = api
        .requests()
        .iter()
        .filter(|r| r.starts_with("DELETE"))
        .count();
    assert_eq!(
        deletes, 13,
        "5 app objects, the 6 CRDs helm kept (resource policy), the marker, the keda namespace"
    );
    for (_, crd) in keda::KINDS {
        assert!(
            api.get("customresourcedefinitions", None, crd).is_none(),
            "{crd}"
        );
    }

    // down again: nothing left to do.
    let o = observe(&kube, &d).await;
    let (plan, _) = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(plan.is_empty(), "{:?}", ids(&plan));
}

/// The garbage collector works seconds behind a delete: the app's pods outlive its Deployment
/// for a while, their owner gone. They are leaving (the collector takes them), not another
/// team's content, so `down` still deletes the namespace it created.
#[tokio::test]
async fn down_deletes_the_namespace_while_the_garbage_collector_lags() {
    let Seeded {
        _dir,
        helm,
        api,
        kube,
        d,
        ..
    } = seeded().await;
    api.state().gc_lag = 1_000;
    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(notes.is_empty(), "{notes:?}");
    assert!(ids(&plan).contains(&"app:Namespace/security"));
    assert!(report.ok(), "{:?}", failures(&report));
    let ns = api.get("namespaces", None, "security");
    assert!(
        ns.as_ref()
            .is_none_or(|n| n["metadata"]["deletionTimestamp"].is_string()),
        "{ns:?}"
    );
    // Another team's pod, owned by nothing of ours and by nothing gone, still keeps one.
    api.state().gc_lag = 0;
    let (_, report) = up(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    api.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "theirs", "namespace": "security"}}));
    api.state().gc_lag = 1_000;
    let (_, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(notes.iter().any(|n| n.contains("Pod theirs")), "{notes:?}");
    assert!(api.get("namespaces", None, "security").is_some());
}

#[tokio::test]
async fn down_leaves_a_shared_namespace_and_a_keda_others_use() {
    let Seeded {
        _dir,
        helm: _,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    // Another team's workload and scaler arrive in the same namespace.
    api.seed(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "billing", "namespace": "security"}, "spec": {}}));
    api.seed(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "billing", "namespace": "security"}, "spec": {}}));

    let mut o = observe(&kube, &d).await;
    observe::namespace_side(&kube, &d, &mut o).await.unwrap();
    assert_eq!(
        o.namespace_contents["security"],
        ["Deployment billing", "ScaledObject billing"]
    );
    let (plan, notes) = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(!ids(&plan).contains(&"app:Namespace/security"));
    assert!(!ids(&plan).contains(&"keda:uninstall"));
    assert_eq!(
        notes,
        [
            "left alone: Namespace security (it also holds Deployment billing, ScaledObject billing)",
            "left alone: KEDA in namespace keda (this stack installed it, but ScaledObject security/billing still uses it)",
        ]
    );
}

#[tokio::test]
async fn keda_installed_by_someone_else_is_used_not_reinstalled_and_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda"}}));
    api.state().install_keda("keda", "keda-operator", "2.17.0");
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let o = observe(&kube, &d).await;
    let k = o.keda.clone().unwrap();
    assert_eq!((k.version.as_str(), k.installed_by), ("2.17.0", None));
    let (plan, report) = up(&kube, &d, &options(&helm)).await;
    assert!(!ids(&plan).contains(&"keda:install"), "{:?}", ids(&plan));
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(!log.exists(), "helm must not run");
    let o = observe(&kube, &d).await;
    let (plan, notes) = teardown::teardown(
        &d,
        &o,
        &teardown::Options {
            only: Only::new(vec![Group::Keda]),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(plan.is_empty());
    assert_eq!(
        notes,
        ["left alone: KEDA in namespace keda (not installed by kedactl)"]
    );
}

#[tokio::test]
async fn detection_reads_the_version_and_refuses_one_too_old_for_pod_identity() {
    let api = ApiServer::default();
    let kube = Kube::new(api.client(), Access::Direct);
    assert!(matches!(
        keda::detect(&kube, "keda").await.unwrap(),
        keda::Found::Absent
    ));
    // No operator, CRD, APIService, marker or release: nothing else is read.
    let reads = api.requests();
    assert_eq!(reads.len(), 12, "{reads:#?}");
    assert!(
        reads
            .iter()
            .all(|r| r.starts_with("GET ") && !r.contains("/apis/keda.sh/")),
        "{reads:#?}"
    );
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}));
    kube.apply(
        &apiserver::keda_deployment("ops", "keda-operator", "keda-operator", "2.12.1"),
        false,
    )
    .await
    .unwrap();
    // An operator without its CRDs and metrics server: reported, and refused with the fix.
    let k = keda::detect(&kube, "keda")
        .await
        .unwrap()
        .installed()
        .unwrap();
    assert_eq!(
        k.missing,
        [
            "CRD scaledobjects.keda.sh",
            "CRD scaledjobs.keda.sh",
            "CRD triggerauthentications.keda.sh",
            "Deployment ops/keda-operator-metrics-apiserver"
        ]
    );
    let err = keda::check(&k, "2.20.2", "kedactl").unwrap_err();
    assert!(err.contains("helm upgrade --install keda keda"), "{err}");
    api.state().install_keda("ops", "keda-operator", "2.12.1");
    let k = keda::detect(&kube, "keda")
        .await
        .unwrap()
        .installed()
        .unwrap();
    assert!(k.missing.is_empty(), "{:?}", k.missing);
    assert_eq!(
        (k.namespace.as_str(), k.version.as_str()),
        ("ops", "2.12.1")
    );
    let err = keda::check(&k, "2.20.2", "kedactl").unwrap_err();
    assert!(
        err.contains("KEDA 2.12.1 in namespace ops is too old"),
        "{err}"
    );
    assert!(err.contains("helm upgrade keda keda --repo https://kedacore.github.io/charts --namespace ops --version 2.20.2"), "{err}");
}

#[tokio::test]
async fn without_helm_install_stops_with_the_exact_command() {
    let dir = tempfile::tempdir().unwrap();
    let api = server(dir.path());
    let kube = Kube::new(api.client(), Access::Direct);
    let (plan, report) = up(
        &kube,
        &common::seed_desired(),
        &options(&dir.path().join("no-helm-here")),
    )
    .await;
    assert_eq!(plan.steps[0].id, "keda:install");
    let err = report.outcomes[0].error.clone().unwrap();
    assert!(err.contains("was not found: install helm"), "{err}");
    assert!(err.contains("helm upgrade --install keda keda --repo https://kedacore.github.io/charts --version 2.20.2"), "{err}");
    // The ScaledObject needs KEDA's CRDs: not attempted.
    let so = report
        .outcomes
        .iter()
        .find(|o| o.id.starts_with("app:ScaledObject"))
        .unwrap();
    assert_eq!(so.status, Status::NotRun);
    // Objects that do not need KEDA went ahead.
    let ns = report
        .outcomes
        .iter()
        .find(|o| o.id == "app:Namespace/security")
        .unwrap();
    assert_eq!(ns.status, Status::Done);
}

#[tokio::test]
async fn a_failing_helm_reports_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, _) = apiserver::fake_helm(dir.path(), 1);
    let api = server(dir.path());
    let kube = Kube::new(api.client(), Access::Direct);
    let (_, report) = up(&kube, &common::seed_desired(), &options(&helm)).await;
    let err = report.outcomes[0].error.clone().unwrap();
    assert!(
        err.contains(
            "failed (exit status: 1): Error: INSTALLATION FAILED: context deadline exceeded"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn helm_reaches_an_eks_cluster_through_a_private_kubeconfig_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let token = cluster::connect::Token::default();
    let access = Access::Eks {
        server: "https://ABC.gr7.us-east-1.eks.amazonaws.com".into(),
        ca_data: "Q0E=".into(),
        token,
    };
    cluster::helm::run(&helm, &access, &cluster::helm::uninstall_args("keda"))
        .await
        .unwrap();
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.contains("--kubeconfig /"), "{args}");
    let kc: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.kubeconfig", log.display())).unwrap(),
    )
    .unwrap();
    assert_eq!(
        kc["clusters"][0]["cluster"]["server"],
        "https://ABC.gr7.us-east-1.eks.amazonaws.com"
    );
    // The temporary kubeconfig is gone once helm has run.
    let path = args.split("--kubeconfig ").nth(1).unwrap().trim();
    assert!(!Path::new(path).exists(), "{path} left behind");
}

// ---- scripted verifier: exact requests and API error responses ----

/// Expect exactly these requests ("METHOD [content-type]", path and query), answering each with
/// (status, body).
async fn verify(
    kube_call: impl AsyncFnOnce(Kube),
    script: Vec<(&'static str, &'static str, u16, Value)>,
) -> Vec<Value> {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let kube = Kube::new(kube::Client::new(svc, "default"), Access::Direct);
    let server = tokio::spawn(async move {
        let mut bodies = Vec::new();
        for (method, uri, code, answer) in script {
            let (req, send) = handle.next_request().await.expect("a request");
            assert_eq!(req.uri().to_string(), uri);
            let (method, content_type) = method.split_once(' ').unwrap_or((method, ""));
            assert_eq!(req.method().as_str(), method);
            if !content_type.is_empty() {
                assert_eq!(req.headers()["content-type"], content_type);
            }
            let body = req.into_body().collect_bytes().await.unwrap();
            bodies.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            send.send_response(
                Response::builder()
                    .status(StatusCode::from_u16(code).unwrap())
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap(),
            );
        }
        bodies
    });
    kube_call(kube).await;
    server.await.unwrap()
}

fn conflict() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
           "message": "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"})
}

#[tokio::test]
async fn apply_is_server_side_as_kedactl_and_conflicts_are_reported_not_forced() {
    let d = common::seed_desired();
    let deployment = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "Deployment")
        .unwrap()
        .clone();
    let sent = deployment.clone();
    let bodies = verify(
        async move |kube| {
            let err = kube.apply(&sent, false).await.unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("apply Deployment security/q-read: Apply failed with 1 conflict: conflict with \"kubectl-edit\""), "{text}");
            assert!(text.contains("pass --force-conflicts"), "{text}");
            assert!(err.is_conflict());
            kube.apply(&sent, true).await.unwrap();
        },
        vec![
            ("PATCH application/apply-patch+yaml", "/apis/apps/v1/namespaces/security/deployments/q-read?fieldManager=kedactl&fieldValidation=Strict", 409, conflict()),
            ("PATCH application/apply-patch+yaml", "/apis/apps/v1/namespaces/security/deployments/q-read?fieldManager=kedactl&fieldValidation=Strict&force=true", 200, deployment.clone()),
        ],
    )
    .await;
    assert_eq!(bodies[0], deployment, "the manifest is the apply body");
}

#[tokio::test]
async fn a_conflict_fails_the_step_with_the_flag_to_take_over() {
    let d = common::seed_desired();
    let mut so = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap()
        .clone();
    so["metadata"]["labels"] = json!(ownership(&d.stack));
    let plan = Plan {
        steps: plan::plan(&d, &Observed::default(), &plan::Options::default())
            .unwrap()
            .steps
            .into_iter()
            .filter(|s| s.id.starts_with("app:ScaledObject"))
            .collect(),
    };
    let bodies = verify(
        async move |kube| {
            let dir = tempfile::tempdir().unwrap();
            let report = exec::execute(&common::offline_aws(), Some(&kube), &plan, &options(&dir.path().join("helm")), &Progress::Silent).await;
            let err = report.outcomes[0].error.clone().unwrap();
            assert!(err.contains("--force-conflicts"), "{err}");
        },
        vec![
            // Ownership is read again right before the change: not there yet, so ours to create.
            ("GET", "/apis/keda.sh/v1alpha1/namespaces/security/scaledobjects/k8s-sqs-read-msg-keda", 404,
             json!({"kind": "Status", "code": 404, "reason": "NotFound", "message": "not found"})),
            ("PATCH application/apply-patch+yaml",
             "/apis/keda.sh/v1alpha1/namespaces/security/scaledobjects/k8s-sqs-read-msg-keda?fieldManager=kedactl&fieldValidation=Strict",
             409, conflict()),
        ],
    )
    .await;
    assert_eq!(
        bodies[1]["spec"]["triggers"][0]["metadata"]["queueLength"],
        "5"
    );
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_told_apart() {
    verify(
        async move |kube| {
            let e = kube
                .list("Deployment", None, Some("app=keda-operator"))
                .await
                .unwrap_err();
            assert!(e.is_denied());
            assert!(e.to_string().contains("no access entry"), "{e}");
            let e = kube.get("Namespace", None, "security").await.unwrap_err();
            assert_eq!(e.code, Some(403));
            assert!(e.to_string().contains("namespaces \"security\" is forbidden"), "{e}");
        },
        vec![
            ("GET", "/apis/apps/v1/deployments?labelSelector=app%3Dkeda-operator", 401,
             json!({"kind": "Status", "code": 401, "reason": "Unauthorized", "message": "Unauthorized"})),
            ("GET", "/api/v1/namespaces/security", 403,
             json!({"kind": "Status", "code": 403, "reason": "Forbidden",
                    "message": "namespaces \"security\" is forbidden: User \"arn:aws:sts::1:assumed-role/ci/x\" cannot get resource \"namespaces\""})),
        ],
    )
    .await;
}

#[tokio::test]
async fn restart_is_the_kubectl_rollout_restart_patch() {
    let bodies = verify(
        async move |kube| {
            kube.merge_patch(
                "Deployment",
                Some("keda"),
                "keda-operator",
                &cluster::rollout::restart_patch("2026-11-24T08:00:00Z"),
            )
            .await
            .unwrap();
            assert!(!kube.delete("ScaledObject", Some("security"), "gone").await.unwrap());
        },
        vec![
            ("PATCH application/merge-patch+json", "/apis/apps/v1/namespaces/keda/deployments/keda-operator?fieldManager=kedactl", 200, json!({})),
            ("DELETE", "/apis/keda.sh/v1alpha1/namespaces/security/scaledobjects/gone?propagationPolicy=Foreground", 404,
             json!({"kind": "Status", "code": 404, "reason": "NotFound", "message": "not found"})),
        ],
    )
    .await;
    assert_eq!(
        bodies[0],
        json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-24T08:00:00Z"}}}}})
    );
}

/// The seed stack after a successful `up` on a fresh server, with a recording helm.
struct Seeded {
    _dir: tempfile::TempDir,
    helm: std::path::PathBuf,
    log: std::path::PathBuf,
    api: ApiServer,
    kube: Kube,
    d: Desired,
}

async fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let (_, report) = up(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    Seeded {
        _dir: dir,
        helm,
        log,
        api,
        kube,
        d,
    }
}

// ---- issue 11: each defect the strict API server exposes, on the path `down` and `up` take ----

/// `down`'s plan as the command makes it: observe, read namespace contents, plan.
async fn plan_down(kube: &Kube, d: &Desired) -> (Plan, Vec<String>) {
    let mut o = observe(kube, d).await;
    observe::namespace_side(kube, d, &mut o).await.unwrap();
    teardown::teardown(
        d,
        &o,
        &teardown::Options {
            only: cluster_groups(),
            ..Default::default()
        },
    )
    .unwrap()
}

/// `down` as the command runs it: observe, read namespace contents, plan, execute.
async fn down(kube: &Kube, d: &Desired, opts: &exec::Options) -> (Plan, Vec<String>, exec::Report) {
    let (plan, notes) = plan_down(kube, d).await;
    let report = exec::execute(
        &common::offline_aws(),
        Some(kube),
        &plan,
        opts,
        &Progress::Silent,
    )
    .await;
    (plan, notes, report)
}

/// Run the fake helm as someone else would, outside kedactl.
fn helm_by_hand(helm: &Path, args: &[&str]) {
    let out = std::process::Command::new(helm)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn down_finishes_and_removes_ours_when_someone_else_removed_keda() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    let so = api
        .get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
        .unwrap();
    assert_eq!(apiserver::finalizers(&so), ["finalizer.keda.sh"]);

    // Another admin uninstalls KEDA: the operator goes, so our objects' finalizers stay; the
    // CRDs stay too (kedactl installs them with helm.sh/resource-policy: keep).
    helm_by_hand(&helm, &["uninstall", "keda", "--namespace", "keda"]);
    kube.get("Namespace", None, "keda").await.unwrap();
    assert!(
        api.get("customresourcedefinitions", None, "scaledjobs.keda.sh")
            .is_some()
    );

    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(notes.is_empty(), "{notes:?}");
    assert!(
        ids(&plan).contains(&"keda:uninstall"),
        "our marker still says we installed it"
    );
    let so_step = report
        .outcomes
        .iter()
        .find(|o| o.id == "app:ScaledObject/security/k8s-sqs-read-msg-keda")
        .unwrap();
    assert_eq!(
        so_step.note.as_deref(),
        Some("no KEDA operator runs, so kedactl removed finalizer.keda.sh itself")
    );
    assert_eq!(api.labelled(&d.stack), Vec::<String>::new());
    assert!(api.get("namespaces", None, "security").is_none());
    // The kept CRDs of the release went with kedactl's uninstall step.
    assert!(
        api.get("customresourcedefinitions", None, "scaledobjects.keda.sh")
            .is_none()
    );
}

#[tokio::test]
async fn every_keda_kind_of_another_team_keeps_keda_and_survives_down() {
    let Seeded {
        _dir,
        helm,
        log,
        api,
        kube,
        d,
    } = seeded().await;
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "billing"}}));
    api.seed(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "invoices", "namespace": "billing"}, "spec": {}}));
    api.seed(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication", "metadata": {"name": "invoices-auth", "namespace": "billing"}, "spec": {}}));
    api.seed(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ClusterTriggerAuthentication", "metadata": {"name": "shared-aws"}, "spec": {}}));

    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(!ids(&plan).contains(&"keda:uninstall"));
    assert_eq!(
        notes,
        [
            "left alone: KEDA in namespace keda (this stack installed it, but ScaledObject billing/invoices, TriggerAuthentication billing/invoices-auth, ClusterTriggerAuthentication shared-aws still use it)"
        ]
    );
    for (plural, ns, name) in [
        ("scaledobjects", Some("billing"), "invoices"),
        ("triggerauthentications", Some("billing"), "invoices-auth"),
        ("clustertriggerauthentications", None, "shared-aws"),
        ("customresourcedefinitions", None, "scaledobjects.keda.sh"),
        ("deployments", Some("keda"), "keda-operator"),
    ] {
        assert!(
            api.get(plural, ns, name).is_some(),
            "{plural} {name} survives"
        );
    }
    assert!(!std::fs::read_to_string(&log).unwrap().contains("uninstall"));
}

#[tokio::test]
async fn a_keda_object_created_after_the_plan_stops_the_uninstall() {
    let Seeded {
        _dir,
        helm,
        log,
        api,
        kube,
        d,
    } = seeded().await;
    let (plan, _) = plan_down(&kube, &d).await;
    assert!(ids(&plan).contains(&"keda:uninstall"));
    // While the prompt waits, another team starts using KEDA.
    api.seed(json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ClusterTriggerAuthentication", "metadata": {"name": "shared-aws"}, "spec": {}}));
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("keda:uninstall: KEDA was not uninstalled: ClusterTriggerAuthentication shared-aws still uses it"),
        "{failed:?}"
    );
    assert!(
        api.get("clustertriggerauthentications", None, "shared-aws")
            .is_some()
    );
    assert!(
        api.get("deployments", Some("keda"), "keda-operator")
            .is_some()
    );
    assert!(!std::fs::read_to_string(&log).unwrap().contains("uninstall"));
}

#[tokio::test]
async fn the_keda_namespace_goes_only_when_nothing_but_the_install_is_left() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    // The operator wrote its certificates; a person added their own ConfigMap.
    assert!(api.get("secrets", Some("keda"), "kedaorg-certs").is_some());
    api.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "team-settings", "namespace": "keda"}}));

    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(ids(&plan).contains(&"keda:uninstall"));
    assert_eq!(
        notes,
        ["left alone: Namespace keda (it also holds ConfigMap team-settings)"]
    );
    assert!(api.get("namespaces", None, "keda").is_some());
    assert!(
        api.get("configmaps", Some("keda"), "team-settings")
            .is_some()
    );
    assert!(
        api.get("deployments", Some("keda"), "keda-operator")
            .is_none()
    );
    assert!(api.get("configmaps", Some("keda"), keda::MARKER).is_none());
}

/// A plan of one restart of the app's Deployment.
fn restart_plan() -> Plan {
    Plan {
        steps: vec![plan::Step {
            id: "app:Deployment/security/q-read/restart".into(),
            group: Group::App,
            change: plan::Change::Run,
            summary: "restart Deployment security/q-read".into(),
            changes: Vec::new(),
            action: plan::Action::RestartDeployment {
                namespace: "security".into(),
                deployment: "q-read".into(),
                reason: "test".into(),
            },
            after: vec![],
        }],
    }
}

#[tokio::test]
async fn a_rollout_past_its_progress_deadline_fails_at_once_with_the_reason() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d: _,
    } = seeded().await;
    api.state()
        .failing
        .insert(("security".into(), "q-read".into()));
    let opts = exec::Options {
        rollout_timeout: Duration::from_secs(600),
        ..options(&helm)
    };
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &restart_plan(),
        &opts,
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed[0].contains("Deployment security/q-read will not finish rolling out: it exceeded its progress deadline (ReplicaSet"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_paused_deployment_is_refused_before_the_restart() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d: _,
    } = seeded().await;
    kube.merge_patch(
        "Deployment",
        Some("security"),
        "q-read",
        &json!({"spec": {"paused": true}}),
    )
    .await
    .unwrap();
    let before = api.requests().len();
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &restart_plan(),
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed[0].contains("is paused")
            && failed[0].contains("kubectl rollout resume deployment/q-read -n security"),
        "{failed:?}"
    );
    let patches: Vec<String> = api.requests()[before..]
        .iter()
        .filter(|r| r.starts_with("PATCH"))
        .cloned()
        .collect();
    assert!(patches.is_empty(), "no restart was sent: {patches:?}");
}

#[tokio::test]
async fn verifying_a_deployment_scaled_to_zero_says_it_checked_nothing() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api: _,
        kube,
        d: _,
    } = seeded().await;
    kube.merge_patch(
        "Deployment",
        Some("keda"),
        "keda-operator",
        &json!({"spec": {"replicas": 0}}),
    )
    .await
    .unwrap();
    let verify = Plan {
        steps: vec![plan::Step {
            id: "keda:verify".into(),
            group: Group::Keda,
            change: plan::Change::Run,
            summary: "verify".into(),
            changes: Vec::new(),
            action: plan::Action::VerifyPodIdentity {
                namespace: "keda".into(),
                deployment: "keda-operator".into(),
            },
            after: vec![],
        }],
    };
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &verify,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(
        report.outcomes[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .starts_with("not checked: scaled to zero"),
        "{:?}",
        report.outcomes[0]
    );
}

#[tokio::test]
async fn chart_2_13_gets_the_operator_service_account_under_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    let kube = Kube::new(api.client(), Access::Direct);
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..kedactl::spec::Spec::default()
    };
    spec.keda.version = "2.13.2".into();
    spec.keda.service_account = "keda-sqs".into();
    let d = kedactl::render::desired(&spec).unwrap();
    api.state()
        .associations
        .push(("keda".into(), "keda-sqs".into()));
    let (_, report) = up(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("--set serviceAccount.name=keda-sqs")
    );
    let op = api
        .get("deployments", Some("keda"), "keda-operator")
        .unwrap();
    assert_eq!(
        op["spec"]["template"]["spec"]["serviceAccountName"],
        "keda-sqs"
    );
}

#[tokio::test]
async fn keda_without_its_operator_is_found_by_its_crds_and_apiservice() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = apiserver::fake_helm(dir.path(), 0);
    let api = server(dir.path());
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}));
    api.state().install_keda("ops", "keda-operator", "2.20.2");
    let kube = Kube::new(api.client(), Access::Direct);
    kube.delete("Deployment", Some("ops"), "keda-operator")
        .await
        .unwrap();
    let k = keda::detect(&kube, "keda")
        .await
        .unwrap()
        .installed()
        .expect("found without its operator");
    assert_eq!(k.namespace, "ops");
    assert_eq!(k.missing, ["Deployment ops/keda-operator"]);
    let err = keda::check(&k, "2.20.2", "kedactl").unwrap_err();
    assert!(
        err.contains("KEDA is partly installed in namespace ops"),
        "{err}"
    );
}

#[tokio::test]
async fn a_pending_release_stops_up_and_down_still_removes_ours() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    // An upgrade was interrupted: helm left its newest record pending and the operator is gone.
    {
        let mut s = api.state();
        let key = s
            .objects
            .keys()
            .find(|k| k.0 == "secrets" && k.2.starts_with("sh.helm.release.v1.keda."))
            .cloned()
            .unwrap();
        s.objects.get_mut(&key).unwrap()["metadata"]["labels"]["status"] = json!("pending-upgrade");
    }
    kube.delete("Deployment", Some("keda"), "keda-operator")
        .await
        .unwrap();
    let k = observe(&kube, &d).await.keda.unwrap();
    assert_eq!(k.release.as_ref().unwrap().status, "pending-upgrade");
    let err = keda::check(&k, &d.keda.version, &d.stack).unwrap_err();
    assert!(
        err.contains("is pending-upgrade") && err.contains("helm rollback keda -n keda"),
        "{err}"
    );

    let (plan, _, report) = down(&kube, &d, &options(&helm)).await;
    assert!(ids(&plan).contains(&"keda:uninstall"), "{:?}", ids(&plan));
    assert!(report.ok(), "{:?}", failures(&report));
    assert_eq!(api.labelled(&d.stack), Vec::<String>::new());
}

#[tokio::test]
async fn jobs_and_pods_of_our_scaled_job_are_not_foreign_content() {
    let api = ApiServer::default();
    api.state().add_keda_crds();
    let kube = Kube::new(api.client(), Access::Direct);
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..kedactl::spec::Spec::default()
    };
    spec.apps[0].scaling.kind = kedactl::spec::ScalingKind::ScaledJob;
    let d = kedactl::render::desired(&spec).unwrap();
    for m in &d.manifests {
        kube.apply(m, false).await.unwrap();
    }
    let sj = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledJob")
        .unwrap();
    let name = sj["metadata"]["name"].as_str().unwrap();
    let uid = api.get("scaledjobs", Some("security"), name).unwrap()["metadata"]["uid"].clone();
    api.seed(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "worker-1", "namespace": "security",
        "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "name": name, "uid": uid}]}}));
    let job_uid = api.get("jobs", Some("security"), "worker-1").unwrap()["metadata"]["uid"].clone();
    api.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worker-1-x", "namespace": "security",
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "worker-1", "uid": job_uid}]}}));
    api.seed(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "security"}}));
    let contents = observe::namespace_contents(&kube, &d, "security").await;
    assert_eq!(contents.foreign, ["Pod debug"]);
    assert!(contents.unchecked.is_empty(), "{contents:?}");
}

#[tokio::test]
async fn a_cluster_object_that_changed_hands_after_the_plan_is_not_deleted() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    let (plan, _) = plan_down(&kube, &d).await;
    // While the prompt waits, another team takes the ScaledObject over.
    kube.merge_patch(
        "ScaledObject",
        Some("security"),
        "k8s-sqs-read-msg-keda",
        &json!({"metadata": {"labels": {"kedactl.io/stack": "payments"}}}),
    )
    .await
    .unwrap();
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed[0].starts_with("app:ScaledObject/security/k8s-sqs-read-msg-keda: refused: ScaledObject security/k8s-sqs-read-msg-keda no longer belongs to stack \"kedactl\" (its kedactl.io/stack tag is now \"payments\")"),
        "{failed:?}"
    );
    assert!(
        api.get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
            .is_some()
    );
    assert!(
        api.get("deployments", Some("keda"), "keda-operator")
            .is_some(),
        "KEDA stays: the plan stopped before it"
    );
}

// ---- issue 24: a namespace goes only when it is really empty of others' objects ----

/// Discovery, not a fixed list of kinds: a PersistentVolumeClaim (a volume's data), a
/// RoleBinding and an Ingress seeded after `up` keep the namespace, as another team's custom
/// resource does; the namespace controller would have deleted every one of them.
#[tokio::test]
async fn every_kind_discovery_serves_holds_the_namespace() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    api.seed(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "security"}, "spec": {}}));
    api.seed(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "readers", "namespace": "security"}}));
    api.seed(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "security"}}));
    api.seed(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "backups.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "backups", "kind": "Backup"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}}));
    api.seed(json!({"apiVersion": "example.com/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "security"}}));
    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(!ids(&plan).contains(&"app:Namespace/security"));
    assert!(
        notes.contains(&"left alone: Namespace security (it also holds Backup nightly, Ingress web, PersistentVolumeClaim data, RoleBinding readers)".to_string()),
        "{notes:?}"
    );
    assert!(api.get("namespaces", None, "security").is_some());
    assert!(
        api.get("persistentvolumeclaims", Some("security"), "data")
            .is_some()
    );
}

/// A kind that cannot be listed leaves the namespace unchecked: kept, and said so.
#[tokio::test]
async fn a_kind_that_cannot_be_listed_keeps_the_namespace_and_says_so() {
    let Seeded {
        _dir,
        helm: _,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    api.state()
        .broken
        .push("/namespaces/security/rolebindings".into());
    let (plan, notes) = plan_down(&kube, &d).await;
    assert!(!ids(&plan).contains(&"app:Namespace/security"));
    let note = notes
        .iter()
        .find(|n| n.starts_with("left alone: Namespace security"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    assert!(
        note.contains("its contents could not be checked: list rolebindings in security")
            && note.contains("500"),
        "{note}"
    );
}

/// An object with a manifest's kind and name but another team's label is theirs: teardown
/// leaves it alone, and the namespace holding it stays too.
#[tokio::test]
async fn a_same_named_object_without_our_label_keeps_the_namespace() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    kube.merge_patch(
        "Deployment",
        Some("security"),
        "q-read",
        &json!({"metadata": {"labels": {"kedactl.io/stack": "payments"}}}),
    )
    .await
    .unwrap();
    let (plan, notes, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(
        !ids(&plan).contains(&"app:Namespace/security"),
        "{:?}",
        ids(&plan)
    );
    assert!(
        notes.contains(
            &"left alone: Deployment security/q-read (not created by this stack)".to_string()
        ),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                .starts_with("left alone: Namespace security (it also holds Deployment q-read")),
        "{notes:?}"
    );
    assert!(api.get("deployments", Some("security"), "q-read").is_some());
}

/// The plan saw the namespace empty; a Deployment created before the delete keeps it (its
/// contents are read again right before the delete), and the delete is Background, as kubectl's.
#[tokio::test]
async fn content_created_after_the_plan_keeps_the_namespace() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    let (plan, _) = plan_down(&kube, &d).await;
    assert!(ids(&plan).contains(&"app:Namespace/security"));
    api.seed(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "late", "namespace": "security"}, "spec": {}}));
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed.iter().any(|f| f.starts_with("app:Namespace/security: refused: namespace security was kept: it also holds Deployment late")),
        "{failed:?}"
    );
    assert!(api.get("deployments", Some("security"), "late").is_some());

    // Emptied, it goes, in the background.
    kube.delete("Deployment", Some("security"), "late")
        .await
        .unwrap();
    let (_, _, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(api.get("namespaces", None, "security").is_none());
    assert!(
        api.requests()
            .iter()
            .any(|r| r == "DELETE /api/v1/namespaces/security?propagationPolicy=Background"),
        "{:#?}",
        api.requests()
    );
}

/// A namespace that does not finish terminating: the timeout names what the namespace
/// controller says blocks it.
#[tokio::test]
async fn a_namespace_stuck_terminating_names_its_conditions() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    let (plan, _) = plan_down(&kube, &d).await;
    let ns_step: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.id == "app:Namespace/security")
        .cloned()
        .collect();
    assert_eq!(ns_step.len(), 1);
    // Ours, with a finalizer nobody removes (a controller that is gone).
    let mut stuck = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "ServiceAccount")
        .unwrap()
        .clone();
    stuck["metadata"]["name"] = json!("stuck");
    stuck["metadata"]["finalizers"] = json!(["example.com/cleanup"]);
    api.seed(stuck);
    let mut only_ns = Plan { steps: ns_step };
    only_ns.steps[0].after.clear();
    let opts = exec::Options {
        delete_timeout: Duration::from_millis(50),
        ..options(&helm)
    };
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &only_ns,
        &opts,
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed[0].contains("NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example.com/cleanup in 1 resource instances")
            && failed[0].contains("NamespaceContentRemaining: Some resources are remaining: serviceaccounts has 1 resource instances"),
        "{failed:?}"
    );
}

/// Each delete after the ownership re-check carries preconditions on what that check read: an
/// object deleted and created again in between (a new uid) is left alone, while one whose
/// controller only updated its status (a new resourceVersion, still ours) is deleted after a
/// fresh read.
#[tokio::test]
async fn a_delete_goes_only_to_the_object_whose_ownership_was_checked() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    {
        let mut s = api.state();
        s.recreate_before_delete
            .push(("scaledobjects".into(), "k8s-sqs-read-msg-keda".into()));
        s.touch_before_delete
            .push(("deployments".into(), "q-read".into()));
    }
    let (plan, _) = plan_down(&kube, &d).await;
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    let failed = failures(&report);
    assert!(
        failed[0].starts_with("app:ScaledObject/security/k8s-sqs-read-msg-keda: refused: ScaledObject security/k8s-sqs-read-msg-keda changed hands after its ownership was checked"),
        "{failed:?}"
    );
    assert!(
        api.get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
            .is_some()
    );
    // Nothing behind the refusal ran; the Deployment goes on the next run despite its update.
    let (_, _, report) = down(&kube, &d, &options(&helm)).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert!(api.get("deployments", Some("security"), "q-read").is_none());
}

/// With no KEDA operator, kedactl lifts finalizer.keda.sh itself. The garbage collector may
/// finish the object's foreground deletion between kedactl's read and its patch: a JSON patch
/// (test + remove at the index read) still applies, where a merge patch of the list read would
/// put `foregroundDeletion` back (422: no new finalizers on an object being deleted).
#[tokio::test]
async fn lifting_kedas_finalizer_does_not_race_the_garbage_collector() {
    let Seeded {
        _dir,
        helm,
        log: _,
        api,
        kube,
        d,
    } = seeded().await;
    // The operator is gone (its CRDs stay): nobody else lifts the finalizer.
    kube.delete("Deployment", Some("keda"), "keda-operator")
        .await
        .unwrap();
    let so = api
        .get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
        .unwrap();
    // A dependent whose own finalizer holds the ScaledObject's foreground deletion until just
    // before kedactl's patch.
    api.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "so-state", "namespace": "security",
        "finalizers": ["example.com/hold"], "labels": ownership(&d.stack),
        "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "k8s-sqs-read-msg-keda", "uid": so["metadata"]["uid"]}]}}));
    api.state()
        .release_dependents_before_patch
        .push(("scaledobjects".into(), "k8s-sqs-read-msg-keda".into()));
    let (plan, _) = plan_down(&kube, &d).await;
    let step: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.id == "app:ScaledObject/security/k8s-sqs-read-msg-keda")
        .cloned()
        .collect();
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &Plan { steps: step },
        &options(&helm),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert_eq!(
        report.outcomes[0].note.as_deref(),
        Some("no KEDA operator runs, so kedactl removed finalizer.keda.sh itself")
    );
    assert!(
        api.get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
            .is_none()
    );
    assert!(
        api.requests().iter().any(|r| r.starts_with(
            "PATCH /apis/keda.sh/v1alpha1/namespaces/security/scaledobjects/k8s-sqs-read-msg-keda"
        )),
        "the finalizer was patched away"
    );
}
