//! What a namespace holds besides what the caller accounts for: `down` deletes a namespace it
//! created only when nothing else lives in it.

use super::{Kube, KubeError, Result};
use futures_util::future::try_join_all;
use serde_json::Value;
use std::collections::BTreeSet;

/// Kinds whose presence means "someone else uses this namespace". Pods and ReplicaSets count
/// unless an object we account for owns them (a Deployment's, a ScaledJob's Jobs and pods).
const KINDS: [&str; 16] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "ScaledObject",
    "ScaledJob",
    "TriggerAuthentication",
    "CloudEventSource",
    "HorizontalPodAutoscaler",
];

/// `kind name` of every object in `ns` that is not accounted for, sorted. `ours(kind, object)`
/// names the caller's objects; whatever they own (`ownerReferences`, transitively) is theirs
/// too, and what Kubernetes puts in every namespace is ignored. A keda.sh kind whose CRD is
/// absent holds nothing.
pub async fn foreign(
    kube: &Kube,
    ns: &str,
    ours: impl Fn(&str, &Value) -> bool,
) -> Result<Vec<String>> {
    let lists = try_join_all(KINDS.map(|k| async move {
        match kube.list(k, Some(ns), None).await {
            Ok(items) => Ok((k, items)),
            Err(e) if e.is_not_found() => Ok((k, vec![])),
            Err(e) => Err::<_, KubeError>(e),
        }
    }))
    .await?;
    let objects: Vec<(&str, Value)> = lists
        .into_iter()
        .flat_map(|(k, items)| items.into_iter().map(move |i| (k, i)))
        // What is already being deleted is leaving with the namespace anyway.
        .filter(|(k, o)| !built_in(k, o) && o["metadata"]["deletionTimestamp"].is_null())
        .collect();
    Ok(unaccounted(&objects, ours))
}

/// The default service account, the cluster CA bundle and legacy token Secrets.
fn built_in(kind: &str, o: &Value) -> bool {
    matches!(
        (kind, o["metadata"]["name"].as_str().unwrap_or_default()),
        ("ServiceAccount", "default") | ("ConfigMap", "kube-root-ca.crt")
    ) || o["type"] == "kubernetes.io/service-account-token"
}

/// The pure part of `foreign`.
fn unaccounted(objects: &[(&str, Value)], ours: impl Fn(&str, &Value) -> bool) -> Vec<String> {
    let uid = |o: &Value| o["metadata"]["uid"].as_str().map(str::to_string);
    let mut accounted: BTreeSet<String> = objects
        .iter()
        .filter(|(k, o)| ours(k, o))
        .filter_map(|(_, o)| uid(o))
        .collect();
    // Owners come before what they own in no particular order: repeat until nothing is added.
    loop {
        let before = accounted.len();
        for (_, o) in objects {
            let owned = o["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["uid"].as_str().is_some_and(|u| accounted.contains(u)));
            if owned && let Some(u) = uid(o) {
                accounted.insert(u);
            }
        }
        if accounted.len() == before {
            break;
        }
    }
    let foreign: Vec<&(&str, Value)> = objects
        .iter()
        .filter(|(k, o)| !ours(k, o) && uid(o).is_none_or(|u| !accounted.contains(&u)))
        .collect();
    // Name the owners only: another team's Deployment, not also its ReplicaSets and pods.
    let listed: BTreeSet<String> = foreign.iter().filter_map(|(_, o)| uid(o)).collect();
    let mut others: Vec<String> = foreign
        .iter()
        .filter(|(_, o)| {
            !o["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["uid"].as_str().is_some_and(|u| listed.contains(u)))
        })
        .map(|(k, o)| format!("{k} {}", o["metadata"]["name"].as_str().unwrap_or("?")))
        .collect();
    others.sort();
    others
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str, uid: &str, owner: Option<&str>) -> Value {
        let mut o = json!({"metadata": {"name": name, "uid": uid}});
        if let Some(owner) = owner {
            o["metadata"]["ownerReferences"] = json!([{"uid": owner, "kind": "X", "name": "x"}]);
        }
        o
    }

    #[test]
    fn what_our_objects_own_is_ours_at_any_depth() {
        let objects = vec![
            ("ScaledJob", obj("worker", "u1", None)),
            ("Job", obj("worker-abc", "u2", Some("u1"))),
            ("Pod", obj("worker-abc-x", "u3", Some("u2"))),
            ("Deployment", obj("q-read", "u4", None)),
            ("ReplicaSet", obj("q-read-7d", "u5", Some("u4"))),
            ("Pod", obj("q-read-7d-y", "u6", Some("u5"))),
            ("Pod", obj("debug", "u7", None)),
            ("Job", obj("theirs", "u8", Some("u99"))),
            ("Pod", obj("theirs-x", "u9", Some("u8"))),
        ];
        let ours = |k: &str, o: &Value| {
            matches!(
                (k, o["metadata"]["name"].as_str().unwrap()),
                ("ScaledJob", "worker") | ("Deployment", "q-read")
            )
        };
        assert_eq!(unaccounted(&objects, ours), ["Job theirs", "Pod debug"]);
    }

    #[test]
    fn kubernetes_own_objects_are_not_content() {
        assert!(built_in(
            "ServiceAccount",
            &json!({"metadata": {"name": "default"}})
        ));
        assert!(built_in(
            "ConfigMap",
            &json!({"metadata": {"name": "kube-root-ca.crt"}})
        ));
        assert!(built_in(
            "Secret",
            &json!({"metadata": {"name": "t"}, "type": "kubernetes.io/service-account-token"})
        ));
        assert!(!built_in(
            "ConfigMap",
            &json!({"metadata": {"name": "app"}})
        ));
    }
}
