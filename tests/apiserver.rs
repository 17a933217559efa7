//! Self-tests of the in-memory API server (tests/support/apiserver.rs): each rule it shares with
//! kube-apiserver, through a real `kube::Client` making raw requests as kedactl does.

#[path = "support/apiserver.rs"]
mod apiserver;

use apiserver::ApiServer;
use http::Request;
use serde_json::{Value, json};
use std::path::Path;

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

/// A raw request: Ok(body) or Err((code, reason, message)).
async fn call(
    c: &kube::Client,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Option<Value>,
) -> Result<Value, (u16, String, String)> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let body = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    c.request::<Value>(req.body(body).unwrap())
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
            other => panic!("not an API error: {other}"),
        })
}

async fn get(c: &kube::Client, uri: &str) -> Result<Value, (u16, String, String)> {
    call(c, "GET", uri, None, None).await
}

async fn apply(
    c: &kube::Client,
    uri: &str,
    manager: &str,
    body: Value,
) -> Result<Value, (u16, String, String)> {
    call(
        c,
        "PATCH",
        &format!("{uri}?fieldManager={manager}"),
        Some(APPLY),
        Some(body),
    )
    .await
}

async fn delete(c: &kube::Client, uri: &str) -> Result<Value, (u16, String, String)> {
    call(c, "DELETE", uri, None, None).await
}

fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn cm(ns: &str, name: &str, extra: Value) -> Value {
    let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"k": "v"}});
    apiserver::merge(&mut o, &extra);
    o
}

fn scaled_object(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"scaleTargetRef": {"name": "web"}, "triggers": [{"type": "cpu"}]}})
}

fn so_uri(ns: &str, name: &str) -> String {
    format!("/apis/keda.sh/v1alpha1/namespaces/{ns}/scaledobjects/{name}")
}

/// A custom group/resource nobody registered: Go's `http.NotFound` plain text, which kube's
/// client turns into a Status of its own.
fn page_not_found() -> (u16, String, String) {
    (
        404,
        "Failed to parse error data".into(),
        "404 page not found".into(),
    )
}

fn not_served() -> (u16, String, String) {
    (
        404,
        "NotFound".into(),
        "the server could not find the requested resource".into(),
    )
}

#[tokio::test]
async fn crd_kinds_are_served_only_while_their_crd_exists() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    for uri in [
        "/apis/keda.sh/v1alpha1/scaledobjects",
        "/apis/keda.sh/v1alpha1/namespaces/app/scaledobjects",
        "/apis/keda.sh/v1alpha1/namespaces/app/scaledobjects/x",
        "/apis/keda.sh/v1alpha1/clustertriggerauthentications",
    ] {
        assert_eq!(get(&c, uri).await.unwrap_err(), page_not_found(), "{uri}");
    }
    assert_eq!(
        delete(&c, &so_uri("app", "x")).await.unwrap_err(),
        page_not_found()
    );
    assert_eq!(
        apply(&c, &so_uri("app", "x"), "t", scaled_object("app", "x"))
            .await
            .unwrap_err(),
        page_not_found()
    );
    // Built-in kinds are always there; unknown built-in resources are not.
    for uri in [
        "/apis/apps/v1/deployments",
        "/apis/batch/v1/namespaces/app/jobs",
        "/apis/autoscaling/v2/horizontalpodautoscalers",
        "/apis/networking.k8s.io/v1/networkpolicies",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "/apis/apiregistration.k8s.io/v1/apiservices",
        "/api/v1/namespaces/app/configmaps",
    ] {
        assert_eq!(get(&c, uri).await.unwrap()["items"], json!([]), "{uri}");
    }
    assert_eq!(
        get(&c, "/apis/apps/v1/widgets").await.unwrap_err(),
        not_served()
    );

    // With the CRD: served. A terminating CRD still serves reads but refuses creates.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "scaledobjects.keda.sh"},
        "spec": {"group": "keda.sh", "scope": "Namespaced", "names": {"plural": "scaledobjects", "kind": "ScaledObject"}}});
    let crd_uri = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/scaledobjects.keda.sh";
    apply(&c, crd_uri, "t", crd).await.unwrap();
    assert_eq!(
        get(&c, "/apis/keda.sh/v1alpha1/scaledobjects")
            .await
            .unwrap()["items"],
        json!([])
    );
    let mut held = scaled_object("app", "held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    apply(&c, &so_uri("app", "held"), "t", held).await.unwrap();
    delete(&c, crd_uri).await.unwrap();
    let crd = get(&c, crd_uri).await.unwrap();
    assert!(crd["metadata"]["deletionTimestamp"].is_string());
    assert!(
        crd["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Terminating")
    );
    let held = get(&c, &so_uri("app", "held")).await.unwrap();
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    let err = apply(&c, &so_uri("app", "new"), "t", scaled_object("app", "new"))
        .await
        .unwrap_err();
    assert_eq!(err.0, 405, "{err:?}");
    assert_eq!(
        err.2,
        "create not allowed while custom resource definition is terminating"
    );
    // The last object goes: so does the CRD, and its kind.
    call(
        &c,
        "PATCH",
        &so_uri("app", "held"),
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(get(&c, crd_uri).await.unwrap_err().0, 404);
    assert_eq!(
        get(&c, "/apis/keda.sh/v1alpha1/scaledobjects")
            .await
            .unwrap_err(),
        page_not_found()
    );
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_and_updates_may_only_remove_them() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    let uri = "/api/v1/namespaces/app/configmaps/held";
    apply(
        &c,
        uri,
        "t",
        cm(
            "app",
            "held",
            json!({"metadata": {"finalizers": ["example.com/a", "example.com/b"]}}),
        ),
    )
    .await
    .unwrap();
    let answer = delete(&c, uri).await.unwrap();
    assert!(
        answer["metadata"]["deletionTimestamp"].is_string(),
        "{answer}"
    );
    for _ in 0..3 {
        let o = get(&c, uri).await.unwrap();
        assert_eq!(
            o["metadata"]["finalizers"],
            json!(["example.com/a", "example.com/b"])
        );
    }
    let err = call(
        &c,
        "PATCH",
        uri,
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": ["example.com/a", "example.com/c"]}})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.0, err.1.as_str()), (422, "Invalid"), "{err:?}");
    assert!(
        err.2.ends_with(
            "ConfigMap \"held\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/c\"}"
        ),
        "{err:?}"
    );
    call(
        &c,
        "PATCH",
        uri,
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": ["example.com/b"]}})),
    )
    .await
    .unwrap();
    assert!(get(&c, uri).await.is_ok());
    call(
        &c,
        "PATCH",
        uri,
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .unwrap();
    assert_eq!(get(&c, uri).await.unwrap_err().0, 404);
}

fn deployment(ns: &str, name: &str, replicas: u64) -> Value {
    let mut d = apiserver::keda_deployment(ns, name, "default", "1.0");
    d["spec"]["replicas"] = json!(replicas);
    d
}

fn deploy_uri(ns: &str, name: &str) -> String {
    format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
}

/// The pods of Deployment `uid`: owned by its ReplicaSets.
fn pods_of(api: &ApiServer, uid: &Value) -> usize {
    let state = api.state();
    let owner = |o: &Value| o["metadata"]["ownerReferences"][0]["uid"].clone();
    let sets: Vec<Value> = state
        .objects
        .iter()
        .filter(|(k, r)| k.0 == "replicasets" && owner(r) == *uid)
        .map(|(_, r)| r["metadata"]["uid"].clone())
        .collect();
    state
        .objects
        .iter()
        .filter(|(k, p)| k.0 == "pods" && sets.contains(&owner(p)))
        .count()
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents_and_background_collects_them() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    let d = apply(
        &c,
        &deploy_uri("app", "web"),
        "t",
        deployment("app", "web", 2),
    )
    .await
    .unwrap();
    let uid = d["metadata"]["uid"].clone();
    let pods = get(&c, "/api/v1/namespaces/app/pods").await.unwrap();
    assert_eq!(pods["items"].as_array().unwrap().len(), 2);
    // Deployment → ReplicaSet (one per template) → pods, as the Deployment controller makes them.
    let sets = get(&c, "/apis/apps/v1/namespaces/app/replicasets")
        .await
        .unwrap();
    let rs = &sets["items"][0];
    assert_eq!(sets["items"].as_array().unwrap().len(), 1);
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["uid"], uid);
    for p in pods["items"].as_array().unwrap() {
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["uid"],
            rs["metadata"]["uid"]
        );
    }
    assert_eq!(pods_of(&api, &uid), 2);
    // A dependent that holds on: the owner waits for it in foreground deletion.
    let hold = cm(
        "app",
        "dep",
        json!({"metadata": {"finalizers": ["example.com/hold"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": uid}]}}),
    );
    apply(&c, "/api/v1/namespaces/app/configmaps/dep", "t", hold)
        .await
        .unwrap();
    let answer = delete(
        &c,
        &format!("{}?propagationPolicy=Foreground", deploy_uri("app", "web")),
    )
    .await
    .unwrap();
    assert_eq!(
        answer["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    let d = get(&c, &deploy_uri("app", "web")).await.unwrap();
    assert!(d["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(pods_of(&api, &uid), 0, "pods went first");
    let dep = get(&c, "/api/v1/namespaces/app/configmaps/dep")
        .await
        .unwrap();
    assert!(dep["metadata"]["deletionTimestamp"].is_string());
    call(
        &c,
        "PATCH",
        "/api/v1/namespaces/app/configmaps/dep",
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(get(&c, &deploy_uri("app", "web")).await.unwrap_err().0, 404);

    // Background (the default): the owner goes at once, the collector takes the pods.
    let d = apply(
        &c,
        &deploy_uri("app", "bg"),
        "t",
        deployment("app", "bg", 1),
    )
    .await
    .unwrap();
    let uid = d["metadata"]["uid"].clone();
    assert_eq!(pods_of(&api, &uid), 1);
    delete(&c, &deploy_uri("app", "bg")).await.unwrap();
    assert_eq!(get(&c, &deploy_uri("app", "bg")).await.unwrap_err().0, 404);
    assert_eq!(pods_of(&api, &uid), 0);
}

#[tokio::test]
async fn the_keda_operator_adds_and_removes_its_finalizer_while_it_runs() {
    let api = ApiServer::default();
    let c = api.client();
    api.state().install_keda("keda", "keda-operator", "2.20.2");
    api.seed(ns("app"));
    let certs = get(&c, "/api/v1/namespaces/keda/secrets/kedaorg-certs")
        .await
        .unwrap();
    assert!(
        certs["metadata"]["labels"]["app.kubernetes.io/managed-by"].is_null(),
        "not helm's"
    );
    apply(
        &c,
        &so_uri("app", "a"),
        "kedactl",
        scaled_object("app", "a"),
    )
    .await
    .unwrap();
    let ta = json!({"apiVersion": "keda.sh/v1alpha1", "kind": "TriggerAuthentication",
                    "metadata": {"name": "ta", "namespace": "app"}, "spec": {"podIdentity": {"provider": "aws"}}});
    let ta_uri = "/apis/keda.sh/v1alpha1/namespaces/app/triggerauthentications/ta";
    apply(&c, ta_uri, "kedactl", ta).await.unwrap();
    for uri in [so_uri("app", "a"), ta_uri.to_string()] {
        assert_eq!(
            get(&c, &uri).await.unwrap()["metadata"]["finalizers"],
            json!(["finalizer.keda.sh"]),
            "{uri}"
        );
    }
    delete(&c, &so_uri("app", "a")).await.unwrap();
    assert_eq!(get(&c, &so_uri("app", "a")).await.unwrap_err().0, 404);

    // Operator scaled to zero: a deleted scaler hangs; back up, it goes.
    let scale = "/apis/apps/v1/namespaces/keda/deployments/keda-operator/scale";
    call(
        &c,
        "PATCH",
        scale,
        Some(MERGE),
        Some(json!({"spec": {"replicas": 0}})),
    )
    .await
    .unwrap();
    delete(&c, ta_uri).await.unwrap();
    for _ in 0..3 {
        let ta = get(&c, ta_uri).await.unwrap();
        assert!(ta["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(ta["metadata"]["finalizers"], json!(["finalizer.keda.sh"]));
    }
    call(
        &c,
        "PATCH",
        scale,
        Some(MERGE),
        Some(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    assert_eq!(get(&c, ta_uri).await.unwrap_err().0, 404);
}

#[tokio::test]
async fn a_terminating_namespace_refuses_new_content_and_goes_once_empty() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    let held = cm(
        "app",
        "held",
        json!({"metadata": {"finalizers": ["example.com/hold"]}}),
    );
    apply(&c, "/api/v1/namespaces/app/configmaps/held", "t", held)
        .await
        .unwrap();
    apply(
        &c,
        &deploy_uri("app", "web"),
        "t",
        deployment("app", "web", 1),
    )
    .await
    .unwrap();
    let n = delete(&c, "/api/v1/namespaces/app").await.unwrap();
    assert_eq!(n["status"]["phase"], "Terminating");
    assert!(n["metadata"]["deletionTimestamp"].is_string());
    // Deleting it again answers the terminating namespace (current kube-apiserver; no 409).
    let again = delete(&c, "/api/v1/namespaces/app").await.unwrap();
    assert_eq!(again["status"]["phase"], "Terminating");
    let err = apply(
        &c,
        "/api/v1/namespaces/app/configmaps/new",
        "t",
        cm("app", "new", json!({})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        (403, "Forbidden".into(), "configmaps \"new\" is forbidden: unable to create new content in namespace app because it is being terminated".into())
    );
    // Updates of what is still there are allowed; the Deployment and its pods are gone.
    assert_eq!(get(&c, &deploy_uri("app", "web")).await.unwrap_err().0, 404);
    assert_eq!(
        get(&c, "/api/v1/namespaces/app/pods").await.unwrap()["items"],
        json!([])
    );
    assert_eq!(
        get(&c, "/api/v1/namespaces/app").await.unwrap()["status"]["phase"],
        "Terminating"
    );
    call(
        &c,
        "PATCH",
        "/api/v1/namespaces/app/configmaps/held",
        Some(MERGE),
        Some(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(get(&c, "/api/v1/namespaces/app").await.unwrap_err().0, 404);
    let err = apply(
        &c,
        "/api/v1/namespaces/app/configmaps/new",
        "t",
        cm("app", "new", json!({})),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (err.0, err.2.as_str()),
        (404, "namespaces \"app\" not found")
    );
}

fn managers(o: &Value) -> Vec<(String, String)> {
    o["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().into(),
                e["operation"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn server_side_apply_tracks_managers_reports_conflicts_and_removes_dropped_fields() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    let uri = deploy_uri("app", "web");
    // Only apply creates.
    for ct in [MERGE, "application/strategic-merge-patch+json"] {
        let err = call(
            &c,
            "PATCH",
            &format!("{uri}?fieldManager=helm"),
            Some(ct),
            Some(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.0, err.2.as_str()),
            (404, "deployments.apps \"web\" not found"),
            "{ct}"
        );
    }
    let mut d = deployment("app", "web", 2);
    d["metadata"]["labels"]["a"] = json!("1");
    d["metadata"]["labels"]["b"] = json!("1");
    let created = apply(&c, &uri, "kedactl", d.clone()).await.unwrap();
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(created["metadata"]["uid"].is_string());
    assert_eq!(managers(&created), [("kedactl".into(), "Apply".into())]);
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:replicas"],
        json!({})
    );

    // Another applier: same value shares, a different one conflicts, force takes it.
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app", "labels": {"b": "1"}}, "spec": {"replicas": 3}});
    let err = apply(&c, &uri, "other", other.clone()).await.unwrap_err();
    assert_eq!(
        err,
        (
            409,
            "Conflict".into(),
            "Apply failed with 1 conflict: conflict with \"kedactl\": .spec.replicas".into()
        )
    );
    let forced = call(
        &c,
        "PATCH",
        &format!("{uri}?fieldManager=other&force=true"),
        Some(APPLY),
        Some(other),
    )
    .await
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert_eq!(forced["metadata"]["generation"], 2);
    assert!(apiserver::owned(&forced, "other").contains(&".spec.replicas".to_string()));
    assert!(!apiserver::owned(&forced, "kedactl").contains(&".spec.replicas".to_string()));
    assert!(apiserver::owned(&forced, "kedactl").contains(&".metadata.labels.b".to_string()));

    // A merge patch is an Update: it takes what it changes, and applies then conflict with it.
    let patched = call(
        &c,
        "PATCH",
        &format!("{uri}?fieldManager=helm"),
        Some(MERGE),
        Some(json!({"spec": {"minReadySeconds": 5}})),
    )
    .await
    .unwrap();
    assert!(managers(&patched).contains(&("helm".into(), "Update".into())));
    let mut mine = d.clone();
    mine["spec"]["minReadySeconds"] = json!(9);
    mine["spec"]["replicas"] = json!(3);
    let err = apply(&c, &uri, "kedactl", mine).await.unwrap_err();
    assert_eq!(
        err.2,
        "Apply failed with 1 conflict: conflict with \"helm\" using apps/v1: .spec.minReadySeconds"
    );

    // kedactl drops label a (its own: removed) and b (shared with "other": kept) and replicas
    // (now other's: kept).
    let mut fewer = d.clone();
    fewer["metadata"]["labels"] = json!({"app": "web", "app.kubernetes.io/version": "1.0"});
    fewer["spec"].as_object_mut().unwrap().remove("replicas");
    let after = apply(&c, &uri, "kedactl", fewer).await.unwrap();
    assert!(after["metadata"]["labels"]["a"].is_null(), "{after}");
    assert_eq!(after["metadata"]["labels"]["b"], "1");
    assert_eq!(after["spec"]["replicas"], 3);
    assert_eq!(after["spec"]["minReadySeconds"], 5);
    // Without a content type a PATCH is refused.
    let err = call(&c, "PATCH", &uri, None, Some(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.0, 415);
}

fn condition<'a>(d: &'a Value, t: &str) -> &'a Value {
    d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == t)
        .unwrap()
}

#[tokio::test]
async fn deployments_scale_to_zero_pause_and_fail() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    // Normal: available and progressed.
    apply(
        &c,
        &deploy_uri("app", "ok"),
        "t",
        deployment("app", "ok", 1),
    )
    .await
    .unwrap();
    let d = get(&c, &deploy_uri("app", "ok")).await.unwrap();
    assert_eq!(condition(&d, "Available")["status"], "True");
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(d["status"]["availableReplicas"], 1);

    // Zero replicas: no pods, a done rollout, and /scale omits spec.replicas.
    apply(
        &c,
        &deploy_uri("app", "zero"),
        "t",
        deployment("app", "zero", 0),
    )
    .await
    .unwrap();
    let d = get(&c, &deploy_uri("app", "zero")).await.unwrap();
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(d["status"]["replicas"].as_u64().unwrap_or(0), 0);
    assert_eq!(condition(&d, "Available")["status"], "True");
    let pods = get(&c, "/api/v1/namespaces/app/pods?labelSelector=app%3Dzero")
        .await
        .unwrap();
    assert_eq!(pods["items"], json!([]));
    let scale = get(&c, &format!("{}/scale", deploy_uri("app", "zero")))
        .await
        .unwrap();
    assert_eq!(scale["spec"], json!({}), "{scale}");
    let scale = get(&c, &format!("{}/scale", deploy_uri("app", "ok")))
        .await
        .unwrap();
    assert_eq!(scale["spec"]["replicas"], 1);

    // Paused: the controller sees the new spec but makes no new pods.
    let mut p = deployment("app", "ok", 1);
    p["spec"]["paused"] = json!(true);
    p["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    let before: Vec<String> = api
        .state()
        .objects
        .keys()
        .filter(|k| k.0 == "pods")
        .map(|k| k.2.clone())
        .collect();
    apply(&c, &deploy_uri("app", "ok"), "t", p).await.unwrap();
    let d = get(&c, &deploy_uri("app", "ok")).await.unwrap();
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(condition(&d, "Progressing")["reason"], "DeploymentPaused");
    assert!(d["status"]["updatedReplicas"].is_null(), "{d}");
    let after: Vec<String> = api
        .state()
        .objects
        .keys()
        .filter(|k| k.0 == "pods")
        .map(|k| k.2.clone())
        .collect();
    assert_eq!(before, after);

    // Failing: never available, ProgressDeadlineExceeded.
    api.state().failing.insert(("app".into(), "bad".into()));
    apply(
        &c,
        &deploy_uri("app", "bad"),
        "t",
        deployment("app", "bad", 1),
    )
    .await
    .unwrap();
    let d = get(&c, &deploy_uri("app", "bad")).await.unwrap();
    let p = condition(&d, "Progressing");
    assert_eq!(
        (p["status"].as_str(), p["reason"].as_str()),
        (Some("False"), Some("ProgressDeadlineExceeded"))
    );
    let msg = p["message"].as_str().unwrap();
    assert!(
        msg.starts_with("ReplicaSet \"bad-") && msg.ends_with("\" has timed out progressing."),
        "{msg}"
    );
    assert!(d["status"]["availableReplicas"].is_null());
    assert_eq!(condition(&d, "Available")["status"], "False");
}

#[tokio::test]
async fn label_selectors_have_the_full_syntax() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    for (name, labels) in [
        ("a", json!({"tier": "web", "env": "prod"})),
        ("b", json!({"tier": "db", "env": "dev"})),
        ("c", json!({"tier": "cache"})),
    ] {
        apply(
            &c,
            &format!("/api/v1/namespaces/app/configmaps/{name}"),
            "t",
            cm("app", name, json!({"metadata": {"labels": labels}})),
        )
        .await
        .unwrap();
    }
    let names = async |sel: &str| -> Vec<String> {
        let enc: String = sel
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        get(
            &c,
            &format!("/api/v1/namespaces/app/configmaps?labelSelector={enc}"),
        )
        .await
        .unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("tier=web").await, ["a"]);
    assert_eq!(names("tier==db").await, ["b"]);
    assert_eq!(names("env!=prod").await, ["b", "c"]);
    assert_eq!(names("tier in (web, db)").await, ["a", "b"]);
    assert_eq!(names("tier notin (web,db)").await, ["c"]);
    assert_eq!(names("env").await, ["a", "b"]);
    assert_eq!(names("!env").await, ["c"]);
    assert_eq!(names("tier in (web,db,cache),env!=dev,env").await, ["a"]);
}

/// Run the fake helm as kedactl would; (exit code, stderr).
fn run_helm(script: &Path, args: &str) -> (i32, String) {
    let out = std::process::Command::new(script)
        .args(args.split(' '))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

fn helm_server(dir: &Path) -> (ApiServer, std::path::PathBuf) {
    let (script, log) = apiserver::fake_helm(dir, 0);
    let api = ApiServer::default();
    api.state().helm_log = Some(log);
    api.seed(ns("default"));
    (api, script)
}

const INSTALL: &str = "upgrade --install keda keda --repo https://kedacore.github.io/charts --version 2.20.2 --namespace keda --create-namespace --set serviceAccount.operator.name=op-sa";

#[tokio::test]
async fn helm_installs_chart_2_20_2_with_release_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    let c = api.client();
    assert_eq!(run_helm(&helm, INSTALL), (0, String::new()));
    let crds = get(
        &c,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    )
    .await
    .unwrap();
    let names: Vec<&str> = crds["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "cloudeventsources.keda.sh",
            "clustercloudeventsources.keda.sh",
            "clustertriggerauthentications.keda.sh",
            "scaledjobs.keda.sh",
            "scaledobjects.keda.sh",
            "triggerauthentications.keda.sh",
        ]
    );
    for crd in crds["items"].as_array().unwrap() {
        assert!(crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null());
    }
    let api_service = get(
        &c,
        "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.external.metrics.k8s.io",
    )
    .await
    .unwrap();
    assert_eq!(api_service["spec"]["service"]["namespace"], "keda");
    let release = get(&c, "/apis/apps/v1/namespaces/keda/deployments?labelSelector=app.kubernetes.io%2Fmanaged-by%3DHelm").await.unwrap();
    let deps: Vec<&str> = release["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        deps,
        [
            "keda-admission-webhooks",
            "keda-operator",
            "keda-operator-metrics-apiserver"
        ]
    );
    let op = get(&c, &deploy_uri("keda", "keda-operator")).await.unwrap();
    assert_eq!(
        op["spec"]["template"]["spec"]["serviceAccountName"],
        "op-sa"
    );
    assert_eq!(
        op["metadata"]["annotations"],
        json!({"meta.helm.sh/release-name": "keda", "meta.helm.sh/release-namespace": "keda"})
    );
    for sa in ["op-sa", "keda-metrics-server", "keda-webhook"] {
        get(&c, &format!("/api/v1/namespaces/keda/serviceaccounts/{sa}"))
            .await
            .unwrap();
    }
    for svc in [
        "keda-operator",
        "keda-operator-metrics-apiserver",
        "keda-admission-webhooks",
    ] {
        get(&c, &format!("/api/v1/namespaces/keda/services/{svc}"))
            .await
            .unwrap();
    }
    let rel = get(
        &c,
        "/api/v1/namespaces/keda/secrets/sh.helm.release.v1.keda.v1",
    )
    .await
    .unwrap();
    assert_eq!(
        rel["metadata"]["labels"],
        json!({"owner": "helm", "name": "keda", "status": "deployed", "version": "1"})
    );
    // An upgrade: v2 deployed, v1 superseded.
    assert_eq!(run_helm(&helm, INSTALL).0, 0);
    let v2 = get(
        &c,
        "/api/v1/namespaces/keda/secrets/sh.helm.release.v1.keda.v2",
    )
    .await
    .unwrap();
    assert_eq!(v2["metadata"]["labels"]["status"], "deployed");
    let v1 = get(
        &c,
        "/api/v1/namespaces/keda/secrets/sh.helm.release.v1.keda.v1",
    )
    .await
    .unwrap();
    assert_eq!(v1["metadata"]["labels"]["status"], "superseded");
}

#[tokio::test]
async fn helm_chart_2_13_ignores_service_account_operator_name() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    let c = api.client();
    assert_eq!(run_helm(&helm, &INSTALL.replace("2.20.2", "2.13.2")).0, 0);
    let op = get(&c, &deploy_uri("keda", "keda-operator")).await.unwrap();
    assert_eq!(
        op["spec"]["template"]["spec"]["serviceAccountName"],
        "keda-operator"
    );
    let metrics = get(&c, &deploy_uri("keda", "keda-operator-metrics-apiserver"))
        .await
        .unwrap();
    assert_eq!(
        metrics["spec"]["template"]["spec"]["serviceAccountName"],
        "keda-operator"
    );
    assert_eq!(
        get(&c, "/api/v1/namespaces/keda/serviceaccounts/op-sa")
            .await
            .unwrap_err()
            .0,
        404
    );
    let crds = get(
        &c,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    )
    .await
    .unwrap();
    assert_eq!(
        crds["items"].as_array().unwrap().len(),
        5,
        "no clustercloudeventsources before 2.15"
    );
}

#[tokio::test]
async fn helm_uninstall_deletes_deployments_before_crds_and_hangs_on_finalizers() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    let c = api.client();
    assert_eq!(run_helm(&helm, INSTALL).0, 0);
    api.seed(ns("app"));
    apply(
        &c,
        &so_uri("app", "left"),
        "kedactl",
        scaled_object("app", "left"),
    )
    .await
    .unwrap();
    // helm deletes everything, then `--wait` times out on the scaler its finalizer holds.
    let (code, err) = run_helm(&helm, "uninstall keda --namespace keda --wait");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "Error: uninstallation completed with 1 error(s): timed out waiting for the condition"
        )
    );
    // The operator went first, so nobody removes the scaler's finalizer: it and its CRD hang.
    let so = get(&c, &so_uri("app", "left")).await.unwrap();
    assert!(so["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(so["metadata"]["finalizers"], json!(["finalizer.keda.sh"]));
    let crd = get(
        &c,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/scaledobjects.keda.sh",
    )
    .await
    .unwrap();
    assert!(crd["metadata"]["deletionTimestamp"].is_string());
    // The other CRDs (no objects) are gone, and their kinds with them.
    assert_eq!(
        get(&c, "/apis/keda.sh/v1alpha1/scaledjobs")
            .await
            .unwrap_err(),
        page_not_found()
    );
    assert_eq!(
        get(&c, &deploy_uri("keda", "keda-operator"))
            .await
            .unwrap_err()
            .0,
        404
    );
    assert_eq!(
        get(
            &c,
            "/api/v1/namespaces/keda/secrets/sh.helm.release.v1.keda.v1"
        )
        .await
        .unwrap_err()
        .0,
        404
    );
    // Not helm's: the operator's certificate Secret stays.
    get(&c, "/api/v1/namespaces/keda/secrets/kedaorg-certs")
        .await
        .unwrap();
    let events = api.state().events.clone();
    let at = |what: &str| {
        events
            .iter()
            .position(|e| e.contains(what))
            .unwrap_or_else(|| panic!("{what}: {events:#?}"))
    };
    assert!(at("deleted APIService") < at("deleted Deployment keda/keda-operator"));
    assert!(
        at("deleted Deployment keda/keda-operator")
            < at("deleted CustomResourceDefinition scaledobjects.keda.sh")
    );
    assert!(at("CustomResourceDefinition scaledobjects.keda.sh terminating") > 0);
    assert!(
        events
            .iter()
            .any(|e| e.contains("1 with finalizers: app/left")),
        "{events:#?}"
    );
    // A second uninstall: no release.
    let (code, err) = run_helm(&helm, "uninstall keda --namespace keda --wait");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "Error: uninstall: Release not loaded: keda: release: not found"
        )
    );
}

#[tokio::test]
async fn helm_refuses_to_install_over_crds_another_release_owns() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    let c = api.client();
    api.state().install_keda("other", "keda-operator", "2.20.2");
    get(&c, "/api/v1/namespaces").await.unwrap();
    let (code, err) = run_helm(&helm, INSTALL);
    assert_eq!(code, 1);
    // helm checks ownership in manifest order: templates sorted by file name, crd-cloudeventsources first.
    assert_eq!(
        err,
        "Error: INSTALLATION FAILED: Unable to continue with install: CustomResourceDefinition \"cloudeventsources.keda.sh\" in namespace \"\" exists and cannot be imported into the current release: invalid ownership metadata; annotation validation error: key \"meta.helm.sh/release-namespace\" must equal \"keda\": current value is \"other\""
    );
    // The refused run changed nothing.
    assert_eq!(
        get(&c, &deploy_uri("keda", "keda-operator"))
            .await
            .unwrap_err()
            .0,
        404
    );
    assert!(
        api.state()
            .events
            .iter()
            .any(|e| e.starts_with("helm upgrade refused"))
    );

    // Only scaledobjects.keda.sh left, from a release in OTHER: that one is named.
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    api.seed(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "scaledobjects.keda.sh", "labels": {"app.kubernetes.io/managed-by": "Helm"},
                     "annotations": {"meta.helm.sh/release-name": "keda", "meta.helm.sh/release-namespace": "OTHER"}}}));
    let (code, err) = run_helm(
        &helm,
        &INSTALL.replace("--namespace keda", "--namespace NS"),
    );
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "Error: INSTALLATION FAILED: Unable to continue with install: CustomResourceDefinition \"scaledobjects.keda.sh\" in namespace \"\" exists and cannot be imported into the current release: invalid ownership metadata; annotation validation error: key \"meta.helm.sh/release-namespace\" must equal \"NS\": current value is \"OTHER\""
        )
    );
}

#[tokio::test]
async fn a_pending_release_blocks_the_next_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let (api, helm) = helm_server(dir.path());
    let c = api.client();
    api.seed(ns("keda"));
    api.seed(json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.keda.v1", "namespace": "keda",
                     "labels": {"owner": "helm", "name": "keda", "status": "pending-install", "version": "1"}}}));
    let (code, err) = run_helm(&helm, INSTALL);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress"
        )
    );
    assert_eq!(
        get(&c, &deploy_uri("keda", "keda-operator"))
            .await
            .unwrap_err()
            .0,
        404
    );
    // `helm uninstall` is the way out of a pending release (it does not check pending operations).
    assert_eq!(
        run_helm(&helm, "uninstall keda --namespace keda --wait").0,
        0
    );
    assert_eq!(
        get(
            &c,
            "/api/v1/namespaces/keda/secrets/sh.helm.release.v1.keda.v1"
        )
        .await
        .unwrap_err()
        .0,
        404
    );
}

/// DeleteOptions.preconditions in the body: a uid or resourceVersion that no longer matches is
/// 409 Conflict (storage Preconditions.Check), and the object stays; matching ones delete.
#[tokio::test]
async fn delete_preconditions_protect_a_changed_or_replaced_object() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    api.seed(cm("app", "settings", json!({})));
    let uri = "/api/v1/namespaces/app/configmaps/settings";
    let o = get(&c, uri).await.unwrap();
    let (uid, rv) = (
        o["metadata"]["uid"].clone(),
        o["metadata"]["resourceVersion"].clone(),
    );
    let options = |uid: &Value, rv: &Value| json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid, "resourceVersion": rv}});
    let err = call(
        &c,
        "DELETE",
        uri,
        Some("application/json"),
        Some(options(&json!("uid-other"), &rv)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.0, 409);
    assert_eq!(
        err.2,
        format!(
            "Operation cannot be fulfilled on configmaps \"settings\": Precondition failed: UID in precondition: uid-other, UID in object meta: {}",
            uid.as_str().unwrap()
        )
    );
    let err = call(
        &c,
        "DELETE",
        uri,
        Some("application/json"),
        Some(options(&uid, &json!("1"))),
    )
    .await
    .unwrap_err();
    assert!(
        err.2.contains("Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta:"),
        "{err:?}"
    );
    assert!(api.get("configmaps", Some("app"), "settings").is_some());
    call(
        &c,
        "DELETE",
        uri,
        Some("application/json"),
        Some(options(&uid, &rv)),
    )
    .await
    .unwrap();
    assert!(api.get("configmaps", Some("app"), "settings").is_none());
}

/// Discovery: the core and group versions kedactl lists, each group's preferred version, a
/// CRD's kind while its CRD exists, and kube-apiserver's plain-text 404 for a group version
/// nobody serves.
#[tokio::test]
async fn discovery_lists_built_in_and_crd_kinds_and_404s_an_unserved_group_as_text() {
    let api = ApiServer::default();
    let c = api.client();
    let core = get(&c, "/api/v1").await.unwrap();
    let pvc = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "persistentvolumeclaims")
        .unwrap();
    assert_eq!(
        (pvc["kind"].as_str(), pvc["namespaced"].as_bool()),
        (Some("PersistentVolumeClaim"), Some(true))
    );
    let groups = get(&c, "/apis").await.unwrap();
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert!(
        names.contains(&"rbac.authorization.k8s.io") && !names.contains(&"keda.sh"),
        "{names:?}"
    );
    // No CRD of keda.sh: the whole group is unserved, answered as plain text.
    let (status, body) = api.respond("GET", "/apis/keda.sh/v1alpha1", b"");
    assert_eq!(status, 404);
    assert_eq!(body, Value::String("404 page not found\n".into()));
    api.state().add_keda_crds();
    let groups = get(&c, "/apis").await.unwrap();
    let keda = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "keda.sh")
        .unwrap();
    assert_eq!(keda["preferredVersion"]["groupVersion"], "keda.sh/v1alpha1");
    let list = get(&c, "/apis/keda.sh/v1alpha1").await.unwrap();
    assert!(
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "ScaledObject" && r["namespaced"] == true),
        "{list:#}"
    );
}

/// The namespace controller reports what blocks a terminating namespace.
#[tokio::test]
async fn a_terminating_namespace_reports_remaining_content_and_finalizers() {
    let api = ApiServer::default();
    let c = api.client();
    api.seed(ns("app"));
    api.seed(cm(
        "app",
        "held",
        json!({"metadata": {"finalizers": ["example.com/hold"]}}),
    ));
    delete(&c, "/api/v1/namespaces/app").await.unwrap();
    let n = api.get("namespaces", None, "app").unwrap();
    let conditions = n["status"]["conditions"].as_array().unwrap();
    let get = |t: &str| conditions.iter().find(|c| c["type"] == t).unwrap().clone();
    assert_eq!(get("NamespaceContentRemaining")["status"], "True");
    assert_eq!(
        get("NamespaceFinalizersRemaining")["message"],
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    );
    assert_eq!(get("NamespaceDeletionDiscoveryFailure")["status"], "False");
}
