//! What the cluster accepts is what kedactl meant (issue 24 §4), on the in-memory API server:
//! strict field validation against the installed KEDA's CRDs, API warnings on the step that got
//! them, a changed keda.version upgrading KEDA, and the operator's credentials verified in the
//! mode the stack asks for (IRSA ↔ Pod Identity).

#[path = "support/apiserver.rs"]
mod apiserver;
mod common;

use apiserver::ApiServer;
use kedactl::cluster::{Access, Kube};
use kedactl::exec::{self, Status};
use kedactl::model::{Group, Only};
use kedactl::observe;
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Observed, Plan};
use kedactl::render::{self, Desired};
use kedactl::spec::{AuthMode, Spec};
use std::path::Path;
use std::time::Duration;

const OPERATOR_ROLE: &str = "arn:aws:iam::123456789012:role/keda-operator";

fn spec(edit: impl FnOnce(&mut Spec)) -> Spec {
    let mut s = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    edit(&mut s);
    s
}

fn irsa(s: &mut Spec) {
    s.auth_mode = AuthMode::Irsa;
    s.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
}

/// A server whose pod identity webhook knows `associations`, with a recording fake helm.
fn server(dir: &Path, associations: &[(&str, &str)]) -> (ApiServer, std::path::PathBuf) {
    let (helm, log) = apiserver::fake_helm(dir, 0);
    let api = ApiServer::default();
    {
        let mut s = api.state();
        s.associations = associations
            .iter()
            .map(|(n, sa)| (n.to_string(), sa.to_string()))
            .collect();
        s.helm_log = Some(log);
    }
    (api, helm)
}

const BOTH: [(&str, &str); 2] = [("keda", "keda-operator"), ("security", "my-sqs-read-msgs")];

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

async fn up(kube: &Kube, d: &Desired, helm: &Path) -> (Plan, exec::Report) {
    let only = Only::new(vec![Group::Keda, Group::App]);
    let mut o = Observed::default();
    observe::cluster_side(kube, d, &only, &mut o).await.unwrap();
    let plan = plan::plan(
        d,
        &o,
        &plan::Options {
            only,
            ..Default::default()
        },
    )
    .unwrap();
    let opts = options(helm);
    let report = exec::execute(
        &common::offline_aws(),
        Some(kube),
        &plan,
        &opts,
        &Progress::Silent,
    )
    .await;
    (plan, report)
}

fn outcome<'a>(r: &'a exec::Report, id: &str) -> &'a exec::Outcome {
    r.outcomes
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no step {id}: {r:?}"))
}

fn failures(r: &exec::Report) -> Vec<String> {
    r.outcomes
        .iter()
        .filter(|o| o.status != Status::Done)
        .map(|o| format!("{}: {}", o.id, o.error.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn an_older_keda_s_crd_refuses_a_newer_field_instead_of_dropping_it() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    // Someone else's KEDA 2.13.0: its ScaledObject CRD has no initialCooldownPeriod.
    api.state().install_keda("keda", "keda-operator", "2.13.0");
    let s = spec(|s| s.apps[0].scaling.initial_cooldown_period = Some(120));
    let d = render::desired(&s).unwrap();
    let kube = Kube::new(api.client(), Access::Direct);

    // Online, `up` refuses before any change, from the version it detected.
    let mut o = Observed::default();
    let only = Only::new(vec![Group::Keda, Group::App]);
    observe::cluster_side(&kube, &d, &only, &mut o)
        .await
        .unwrap();
    let k = o.keda.as_ref().unwrap();
    assert_eq!(
        (k.version.as_str(), k.installed_by.as_deref()),
        ("2.13.0", None)
    );
    let problems =
        kedactl::spec::keda_fields::unknown_to_installed(&s.apps, &k.version, &k.namespace);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "apps[0].scaling.initialCooldownPeriod");

    // Past that gate, the apply itself is strict: the API server refuses the field by name
    // instead of dropping it and answering 200.
    let (_, report) = up(&kube, &d, &helm).await;
    let so = outcome(&report, "app:ScaledObject/security/k8s-sqs-read-msg-keda");
    let err = so.error.clone().unwrap_or_default();
    assert_eq!(so.status, Status::Failed, "{report:?}");
    assert!(
        err.contains("unknown field \"spec.initialCooldownPeriod\"") && err.contains("400"),
        "{err}"
    );
    assert!(
        api.get("scaledobjects", Some("security"), "k8s-sqs-read-msg-keda")
            .is_none()
    );
}

#[tokio::test]
async fn api_server_warnings_are_reported_on_the_step_that_got_them() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    let warning =
        "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false";
    api.state()
        .warn_on
        .push(("/deployments/q-read".into(), warning.into()));
    let kube = Kube::new(api.client(), Access::Direct);
    let (_, report) = up(&kube, &common::seed_desired(), &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let note = outcome(&report, "app:Deployment/security/q-read")
        .note
        .clone();
    assert_eq!(
        note.as_deref(),
        Some(format!("the API server warned: {warning}").as_str())
    );
    assert!(outcome(&report, "app:Namespace/security").note.is_none());
}

#[tokio::test]
async fn a_changed_keda_version_upgrades_the_keda_this_stack_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    let kube = Kube::new(api.client(), Access::Direct);
    let old = render::desired(&spec(|s| s.keda.version = "2.19.0".into())).unwrap();
    let (_, report) = up(&kube, &old, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));

    let new = common::seed_desired();
    let (plan, report) = up(&kube, &new, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let install = plan
        .steps
        .iter()
        .find(|s| s.id == "keda:install")
        .expect("an upgrade step");
    assert_eq!(
        install.summary,
        "upgrade KEDA 2.19.0 → 2.20.2 in namespace keda (helm upgrade, chart kedacore/keda)"
    );
    let runs = std::fs::read_to_string(dir.path().join("helm.log")).unwrap();
    let versions: Vec<&str> = runs
        .lines()
        .map(|l| {
            l.split("--version ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(versions, ["2.19.0", "2.20.2"]);
    let operator = api
        .get("deployments", Some("keda"), "keda-operator")
        .unwrap();
    assert_eq!(
        operator["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/kedacore/keda:2.20.2"
    );
    let marker = api
        .get("configmaps", Some("keda"), "kedactl-installed-keda")
        .unwrap();
    assert_eq!(marker["data"]["version"], "2.20.2");
    // Converged.
    let (plan, _) = up(&kube, &new, &helm).await;
    assert!(plan.is_empty(), "{:?}", plan.steps);
}

/// Issue 34: `keda.values` reach helm (a values file under kedactl's own `--set`), are
/// recorded on the marker, and a changed one is a helm upgrade shown old → new; then converged.
#[tokio::test]
async fn chart_values_reach_helm_and_a_changed_one_upgrades_keda() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    let kube = Kube::new(api.client(), Access::Direct);
    let with = |cpu: &str| {
        let v = serde_json::json!({"resources": {"operator": {"limits": {"cpu": cpu}}}, "priorityClassName": "high"});
        render::desired(&spec(|s| s.keda.values = v.as_object().unwrap().clone())).unwrap()
    };
    let (_, report) = up(&kube, &with("1"), &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let given = || -> serde_json::Value {
        let text = std::fs::read_to_string(dir.path().join("helm.log.values")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(given()["resources"]["operator"]["limits"]["cpu"], "1");
    let run = std::fs::read_to_string(dir.path().join("helm.log")).unwrap();
    assert!(
        run.contains("--values ")
            && run.contains("--set serviceAccount.operator.name=keda-operator"),
        "{run}"
    );
    let marker = api
        .get("configmaps", Some("keda"), "kedactl-installed-keda")
        .unwrap();
    assert!(marker["data"]["values"].as_str().unwrap().contains("high"));

    let (plan, report) = up(&kube, &with("2"), &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let install = plan.steps.iter().find(|s| s.id == "keda:install").unwrap();
    let lines: Vec<String> = install.changes.iter().map(|c| c.line()).collect();
    assert_eq!(lines, ["values.resources.operator.limits.cpu: 1 → 2"]);
    assert_eq!(given()["resources"]["operator"]["limits"]["cpu"], "2");
    let (plan, _) = up(&kube, &with("2"), &helm).await;
    assert!(plan.is_empty(), "{:?}", plan.steps);
}

fn env_names(api: &ApiServer, ns: &str, prefix: &str) -> Vec<String> {
    let s = api.state();
    let pod = s
        .objects
        .iter()
        .filter(|((p, n, name), o)| {
            p == "pods"
                && n.as_deref() == Some(ns)
                && name.starts_with(prefix)
                && o["metadata"]["deletionTimestamp"].is_null()
        })
        .map(|(_, o)| o)
        .max_by_key(|o| {
            o["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .unwrap();
    pod["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn switching_from_irsa_to_pod_identity_drops_the_role_and_verifies_the_new_mode() {
    let dir = tempfile::tempdir().unwrap();
    // IRSA first: no associations.
    let (api, helm) = server(dir.path(), &[]);
    let kube = Kube::new(api.client(), Access::Direct);
    let d = render::desired(&spec(irsa)).unwrap();
    let (plan, report) = up(&kube, &d, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    assert_eq!(
        outcome(&report, "keda:verify").summary,
        "check that keda/keda-operator pods got IRSA (web identity) credentials"
    );
    assert!(plan.steps.iter().any(|s| s.id == "keda:verify"));
    let sa = api
        .get("serviceaccounts", Some("keda"), "keda-operator")
        .unwrap();
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        OPERATOR_ROLE
    );

    // Then Pod Identity: the EKS half made the associations; helm runs again with IRSA off,
    // the operator restarts, and its new pod is checked for Pod Identity and against IRSA.
    api.state().associations = BOTH
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let d = common::seed_desired();
    let (plan, report) = up(&kube, &d, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert!(
        ids.starts_with(&["keda:install", "keda:restart", "keda:verify"]),
        "{ids:?}"
    );
    let runs = std::fs::read_to_string(dir.path().join("helm.log")).unwrap();
    assert!(
        runs.lines()
            .last()
            .unwrap()
            .ends_with("podIdentity.aws.irsa.enabled=false"),
        "{runs}"
    );
    let sa = api
        .get("serviceaccounts", Some("keda"), "keda-operator")
        .unwrap();
    assert!(
        sa["metadata"]["annotations"]
            .get("eks.amazonaws.com/role-arn")
            .is_none(),
        "{sa}"
    );
    let env = env_names(&api, "keda", "keda-operator-");
    assert!(
        env.contains(&"AWS_CONTAINER_CREDENTIALS_FULL_URI".to_string()),
        "{env:?}"
    );
    assert!(
        !env.contains(&"AWS_WEB_IDENTITY_TOKEN_FILE".to_string()),
        "{env:?}"
    );
}

#[tokio::test]
async fn pod_identity_fails_on_a_role_annotation_helm_does_not_own() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let (_, report) = up(&kube, &d, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    // Someone annotates the operator's account by hand (`kubectl annotate`): helm's three-way
    // merge keeps what it did not set, so the restarted pod gets both kinds of credentials, and
    // the AWS SDK would use the IRSA role.
    let mut sa = api
        .get("serviceaccounts", Some("keda"), "keda-operator")
        .unwrap();
    sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] =
        "arn:aws:iam::123456789012:role/other".into();
    api.seed(sa);
    let (_, report) = up(&kube, &d, &helm).await;
    let verify = outcome(&report, "keda:verify");
    let err = verify.error.clone().unwrap_or_default();
    assert_eq!(verify.status, Status::Failed, "{report:?}");
    assert!(
        err.contains("carries AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE although this stack uses Pod Identity")
            && err.contains("web identity before container credentials"),
        "{err}"
    );
}

/// `helm uninstall` keeps the chart's CRDs (helm.sh/resource-policy: keep); kedactl deletes them
/// only after reading again that no keda.sh object exists. One created in the window between
/// the uninstall and that read keeps them, and with them the object.
#[tokio::test]
async fn crds_outlive_helm_uninstall_until_nothing_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = server(dir.path(), &BOTH);
    let kube = Kube::new(api.client(), Access::Direct);
    let d = common::seed_desired();
    let (_, report) = up(&kube, &d, &helm).await;
    assert!(report.ok(), "{:?}", failures(&report));
    let crd = api
        .get("customresourcedefinitions", None, "scaledobjects.keda.sh")
        .unwrap();
    assert_eq!(
        crd["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );

    api.seed(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}));
    let theirs = serde_json::json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "b", "namespace": "team-b", "labels": {"kedactl.io/stack": "team-b"}},
        "spec": {"scaleTargetRef": {"name": "b"}, "triggers": []}});
    api.state().create_after_uninstall.push(theirs);

    let only = Only::new(vec![Group::Keda, Group::App]);
    let mut o = Observed::default();
    observe::cluster_side(&kube, &d, &only, &mut o)
        .await
        .unwrap();
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
    let opts = options(&helm);
    let report = exec::execute(
        &common::offline_aws(),
        Some(&kube),
        &plan,
        &opts,
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{:?}", failures(&report));
    let note = outcome(&report, "keda:uninstall")
        .note
        .clone()
        .unwrap_or_default();
    assert!(
        note.contains("KEDA's CRDs were kept") && note.contains("ScaledObject team-b/b"),
        "{note}"
    );
    // The operator is gone; the CRDs and the other team's object are not.
    assert!(
        api.get("deployments", Some("keda"), "keda-operator")
            .is_none()
    );
    assert!(
        api.get("customresourcedefinitions", None, "scaledobjects.keda.sh")
            .is_some()
    );
    assert!(api.get("scaledobjects", Some("team-b"), "b").is_some());
}
