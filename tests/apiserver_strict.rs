//! Self-tests of the in-memory API server's field validation and warnings (issue 24 §5), each
//! rule as kube-apiserver has it: unknown fields are dropped with a `Warning` header unless the
//! request asks for `fieldValidation=Strict` (then 400 listing them, nothing stored).

#[path = "support/apiserver.rs"]
mod apiserver;

use apiserver::ApiServer;
use http::StatusCode;
use serde_json::{Value, json};

const APPLY: &str = "application/apply-patch+yaml";

fn so(extra: Value) -> Value {
    let mut o = json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "so", "namespace": "app"},
        "spec": {"scaleTargetRef": {"name": "web"}, "minReplicaCount": 0,
                 "triggers": [{"type": "aws-sqs-queue", "metadata": {"queueLength": "5"}}]}});
    apiserver::merge(&mut o, &extra);
    o
}

/// A server with namespace `app` and the KEDA 2.13.0 chart installed (its CRDs' schemas).
fn keda_2_13() -> ApiServer {
    let api = ApiServer::default();
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}));
    api.state().install_keda("keda", "keda-operator", "2.13.0");
    api
}

fn apply(api: &ApiServer, query: &str, body: &Value) -> (StatusCode, Value, Vec<String>) {
    api.respond_warned(
        "PATCH",
        &format!("/apis/keda.sh/v1alpha1/namespaces/app/scaledobjects/so?fieldManager=t{query}"),
        Some(APPLY),
        &serde_json::to_vec(body).unwrap(),
    )
    .unwrap()
}

#[test]
fn unknown_fields_of_a_custom_resource_are_dropped_with_a_warning_unless_strict() {
    let api = keda_2_13();
    let newer = so(json!({"spec": {"initialCooldownPeriod": 60,
        "fallback": {"failureThreshold": 3, "replicas": 2, "behavior": "currentReplicas"}}}));

    // Strict: 400 naming every unknown field (apiextensions' "strict decoding error"), nothing
    // stored.
    let (code, status, warnings) = apply(&api, "&fieldValidation=Strict", &newer);
    assert_eq!(code, StatusCode::BAD_REQUEST, "{status}");
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        "strict decoding error: unknown field \"spec.fallback.behavior\", unknown field \"spec.initialCooldownPeriod\""
    );
    assert!(warnings.is_empty());
    assert!(api.get("scaledobjects", Some("app"), "so").is_none());

    // The default (Warn): accepted, the fields dropped, one warning each.
    let (code, stored, warnings) = apply(&api, "", &newer);
    assert_eq!(code, StatusCode::CREATED, "{stored}");
    assert_eq!(
        warnings,
        [
            "unknown field \"spec.fallback.behavior\"",
            "unknown field \"spec.initialCooldownPeriod\""
        ]
    );
    assert!(stored["spec"].get("initialCooldownPeriod").is_none());
    assert!(stored["spec"]["fallback"].get("behavior").is_none());
    assert_eq!(stored["spec"]["fallback"]["replicas"], 2);

    // Ignore: dropped silently. Known fields alone: no warning in any mode.
    let (code, _, warnings) = apply(&api, "&fieldValidation=Ignore", &newer);
    assert_eq!((code, warnings.len()), (StatusCode::OK, 0));
    let (code, _, warnings) = apply(&api, "&fieldValidation=Strict", &so(json!({})));
    assert_eq!((code, warnings.len()), (StatusCode::OK, 0));

    // The same fields are known to the 2.20.2 chart's CRDs.
    let api = ApiServer::default();
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}));
    api.state().install_keda("keda", "keda-operator", "2.20.2");
    let (code, stored, warnings) = apply(&api, "&fieldValidation=Strict", &newer);
    assert_eq!(code, StatusCode::CREATED, "{stored}");
    assert!(warnings.is_empty());
    assert_eq!(stored["spec"]["initialCooldownPeriod"], 60);
}

#[test]
fn unknown_fields_of_a_built_in_kind_follow_the_same_rule() {
    let api = ApiServer::default();
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}));
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "replica": 3,
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx", "enviroment": []}]}}}});
    let target = "/apis/apps/v1/namespaces/app/deployments/web?fieldManager=t";
    let body = serde_json::to_vec(&d).unwrap();
    let (code, status, _) = api
        .respond_warned(
            "PATCH",
            &format!("{target}&fieldValidation=Strict"),
            Some(APPLY),
            &body,
        )
        .unwrap();
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        status["message"],
        "strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].enviroment\""
    );
    let (code, stored, warnings) = api
        .respond_warned("PATCH", target, Some(APPLY), &body)
        .unwrap();
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(stored["spec"].get("replica").is_none());
    assert_eq!(stored["spec"]["replicas"], 1);
}

/// The warnings reach a kube client as `Warning: 299 - "…"` headers, and kedactl's client
/// reads them (kube's own `request` drops them).
#[tokio::test]
async fn warnings_travel_as_headers_and_kedactl_reads_them() {
    let api = keda_2_13();
    api.state().warn_on.push((
        "/scaledobjects/".into(),
        "would violate PodSecurity \"restricted:latest\"".into(),
    ));
    let kube = kedactl::cluster::Kube::new(api.client(), kedactl::cluster::Access::Direct);
    let (_, warnings) = kube.apply_warned(&so(json!({})), false).await.unwrap();
    assert_eq!(
        warnings,
        ["would violate PodSecurity \"restricted:latest\""]
    );
    // kedactl applies strictly: a field the installed CRD lacks is an error naming it.
    let err = kube
        .apply_warned(&so(json!({"spec": {"initialCooldownPeriod": 60}})), false)
        .await
        .unwrap_err();
    assert_eq!(err.code, Some(400));
    assert!(
        err.to_string()
            .contains("unknown field \"spec.initialCooldownPeriod\""),
        "{err}"
    );
    assert!(
        api.requests()
            .iter()
            .filter(|r| r.starts_with("PATCH"))
            .all(|r| r.contains("fieldValidation=Strict"))
    );
}

fn deployment(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": containers}}}})
}

fn apply_as(api: &ApiServer, manager: &str, body: &Value) -> (StatusCode, Value) {
    let (code, v, _) = api
        .respond_warned(
            "PATCH",
            &format!("/apis/apps/v1/namespaces/app/deployments/web?fieldManager={manager}"),
            Some(APPLY),
            &serde_json::to_vec(body).unwrap(),
        )
        .unwrap();
    (code, v)
}

/// Server-side apply merges `containers` and `env` by `name` (x-kubernetes-list-type: map), so
/// two managers own different items of one list; a conflict names the item.
#[test]
fn apply_merges_keyed_lists_item_by_item() {
    let api = ApiServer::default();
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}));
    let (code, _) = apply_as(
        &api,
        "a",
        &deployment(json!([
        {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}]}])),
    );
    assert_eq!(code, StatusCode::CREATED);
    // Another manager adds a container and a variable to `web`: no conflict, nothing lost.
    let (code, d) = apply_as(
        &api,
        "b",
        &deployment(json!([
        {"name": "web", "env": [{"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "proxy:1"}])),
    );
    assert_eq!(code, StatusCode::OK, "{d}");
    let containers = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], "web:1");
    assert_eq!(
        containers[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    assert_eq!(containers[1]["name"], "sidecar");
    let owned = apiserver::owned(&d, "b");
    assert!(
        owned.contains(&".spec.template.spec.containers[name=\"sidecar\"].image".to_string()),
        "{owned:?}"
    );
    // A field of an item another manager set, to another value: a conflict naming the item.
    let (code, s) = apply_as(
        &api,
        "b",
        &deployment(json!([
        {"name": "web", "image": "web:2", "env": [{"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "proxy:1"}])),
    );
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        s["message"],
        "Apply failed with 1 conflict: conflict with \"a\": .spec.template.spec.containers[name=\"web\"].image"
    );
    // `a` drops its variable: only that item goes; `b`'s stays.
    let (_, d) = apply_as(
        &api,
        "a",
        &deployment(json!([{"name": "web", "image": "web:1"}])),
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "B", "value": "2"}])
    );
    // `b` drops its sidecar: it goes.
    let (_, d) = apply_as(
        &api,
        "b",
        &deployment(json!([
        {"name": "web", "env": [{"name": "B", "value": "2"}]}])),
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A Deployment's selector cannot change (apps/v1 ValidateDeploymentUpdate): 422.
#[test]
fn a_deployment_selector_is_immutable() {
    let api = ApiServer::default();
    api.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}));
    let d = deployment(json!([{"name": "web", "image": "web:1"}]));
    assert_eq!(apply_as(&api, "a", &d).0, StatusCode::CREATED);
    let mut moved = d.clone();
    moved["spec"]["selector"] = json!({"matchLabels": {"app": "other"}});
    moved["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let (code, s) = apply_as(&api, "a", &moved);
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{s}");
    assert_eq!(s["reason"], "Invalid");
    let m = s["message"].as_str().unwrap();
    assert!(
        m.starts_with("Deployment.apps \"web\" is invalid: spec.selector: Invalid value: ")
            && m.ends_with("field is immutable"),
        "{m}"
    );
    let stored = api.get("deployments", Some("app"), "web").unwrap();
    assert_eq!(stored["spec"]["selector"]["matchLabels"]["app"], "web");
}

/// kedactl reads the plain-text 404 of a custom group nobody registered as "not found".
#[tokio::test]
async fn an_unregistered_group_is_plain_text_404_and_kedactl_reads_it_as_absent() {
    let api = ApiServer::default();
    let (code, body, _) = api
        .respond_warned(
            "GET",
            "/apis/keda.sh/v1alpha1/namespaces/app/scaledobjects/x",
            None,
            b"",
        )
        .unwrap();
    assert_eq!(
        (code, body),
        (StatusCode::NOT_FOUND, json!("404 page not found\n"))
    );
    let kube = kedactl::cluster::Kube::new(api.client(), kedactl::cluster::Access::Direct);
    assert!(
        kube.get("ScaledObject", Some("app"), "x")
            .await
            .unwrap()
            .is_none()
    );
    let err = kube
        .list("ScaledObject", Some("app"), None)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
