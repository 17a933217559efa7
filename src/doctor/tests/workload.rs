//! KD056: an app's existing workload (`existing: true`) is there, runs as the app's service
//! account, and no other HPA scales it.

use super::*;
use serde_json::Value;

/// The seed's app as the team's Deployment, read live with KEDA's HPA beside it.
fn existing() -> (Desired, Evidence) {
    let mut s = spec();
    s.apps[0].existing = true;
    let d = render::desired(&s).unwrap();
    let mut e = healthy(&d);
    let o = app(&mut e);
    o.workload = Some(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "q-read", "namespace": "security" },
        "spec": { "template": { "spec": { "serviceAccountName": "my-sqs-read-msgs" } } }
    }));
    o.hpas = Some(vec![hpa("keda-hpa-k8s-sqs-read-msg-keda", "q-read")]);
    (d, e)
}

fn hpa(name: &str, target: &str) -> Value {
    json!({
        "metadata": { "name": name, "namespace": "security" },
        "spec": { "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": target } }
    })
}

fn kd056(d: &Desired, e: &Evidence) -> Finding {
    checks::run(d, e)
        .into_iter()
        .find(|f| f.code == "KD056")
        .unwrap()
}

#[test]
fn a_healthy_existing_workload_passes_and_a_rendered_one_is_not_judged() {
    let (d, e) = existing();
    let f = kd056(&d, &e);
    assert_eq!(f.status, Status::Ok, "{f:?}");
    assert_eq!(
        f.evidence,
        [
            "Deployment security/q-read exists, runs as service account my-sqs-read-msgs, and only KEDA's HPA scales it"
        ]
    );
    let d = desired();
    assert_eq!(kd056(&d, &healthy(&d)).status, Status::NotApplicable);
}

#[test]
fn missing_another_service_account_or_another_hpa_fails_with_the_fix() {
    let (d, mut e) = existing();
    app(&mut e).workload = None;
    let f = kd056(&d, &e);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.evidence, ["Deployment security/q-read does not exist"]);

    let (d, mut e) = existing();
    let w = app(&mut e).workload.as_mut().unwrap();
    w["spec"]["template"]["spec"]["serviceAccountName"] = json!("q-read");
    app(&mut e)
        .hpas
        .as_mut()
        .unwrap()
        .push(hpa("q-read", "q-read"));
    app(&mut e).hpas.as_mut().unwrap().push(hpa("other", "web"));
    let f = kd056(&d, &e);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        [
            "its pods run as service account q-read; the pod identity association is for security/my-sqs-read-msgs (apps[].serviceAccount), so they get no AWS credentials from it",
            "HorizontalPodAutoscaler security/q-read also scales it: it and KEDA's keda-hpa-k8s-sqs-read-msg-keda would fight over its replicas",
        ]
    );
    assert!(
        f.fix
            .unwrap()
            .starts_with("make its pods run as my-sqs-read-msgs")
    );
}

#[test]
fn hpas_that_could_not_be_listed_are_could_not_check() {
    let (d, mut e) = existing();
    app(&mut e).hpas = None;
    app(&mut e)
        .unread
        .insert(crate::doctor::part::HPAS, "403 Forbidden".into());
    assert_eq!(kd056(&d, &e).status, Status::Skipped);
}
