//! What a namespace holds besides what the caller accounts for: `down` deletes a namespace it
//! created only when nothing else lives in it. The namespace controller deletes *every*
//! namespaced resource discovery serves (kube-controller-manager's namespaced resources
//! deleter), so every one of them is listed here: a PersistentVolumeClaim, a RoleBinding, an
//! Ingress or another team's custom resource all hold the namespace.

use super::Kube;
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::BTreeSet;

/// What `foreign` found: others' objects, and what could not be listed (either keeps the
/// namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// `Kind name` of every object not accounted for, sorted.
    pub foreign: Vec<String>,
    /// Resources (or discovery) that could not be read, with why: the namespace could not be
    /// checked.
    pub unchecked: Vec<String>,
}

/// A namespaced resource the namespace controller would delete (verbs list and delete), at a
/// group's preferred version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listable {
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub prefix: String,
    pub plural: String,
    pub kind: String,
}

/// Resources Kubernetes writes about other objects, not content of their own: events (core and
/// events.k8s.io) record what happened to objects that are listed themselves.
fn is_record(l: &Listable) -> bool {
    l.plural == "events"
}

/// The namespaced, listable and deletable resources of one APIResourceList (subresources such
/// as `pods/log` skipped).
pub fn listable(prefix: &str, list: &Value) -> Vec<Listable> {
    list["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["namespaced"] == true)
        .filter(|r| {
            let verbs: Vec<&str> = r["verbs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            verbs.contains(&"list") && verbs.contains(&"delete")
        })
        .filter_map(|r| {
            let plural = r["name"].as_str().filter(|n| !n.contains('/'))?;
            Some(Listable {
                prefix: prefix.to_string(),
                plural: plural.to_string(),
                kind: r["kind"].as_str().unwrap_or(plural).to_string(),
            })
        })
        .collect()
}

/// `/apis/<group>/<preferred version>` of each group in an APIGroupList.
pub fn preferred(groups: &Value) -> Vec<String> {
    groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let gv = g["preferredVersion"]["groupVersion"]
                .as_str()
                .or_else(|| g["versions"][0]["groupVersion"].as_str())?;
            Some(format!("/apis/{gv}"))
        })
        .collect()
}

/// Every namespaced resource the namespace controller would delete; the group versions whose
/// discovery failed go to `unchecked`.
pub async fn discover(kube: &Kube, unchecked: &mut Vec<String>) -> Vec<Listable> {
    let mut prefixes = vec!["/api/v1".to_string()];
    match kube
        .get_path("/apis".into(), "read API discovery (/apis)")
        .await
    {
        Ok(groups) => prefixes.extend(preferred(&groups)),
        Err(e) => unchecked.push(e.to_string()),
    }
    let lists = join_all(prefixes.iter().map(|p| async move {
        let doing = format!("read API discovery ({p})");
        (p, kube.get_path(p.clone(), &doing).await)
    }))
    .await;
    let mut out = Vec::new();
    for (prefix, list) in lists {
        match list {
            Ok(list) => out.extend(listable(prefix, &list)),
            Err(e) => unchecked.push(e.to_string()),
        }
    }
    out
}

/// Every object in `ns` that is not accounted for. `ours(kind, object)` names the caller's
/// objects; whatever they own (`ownerReferences`, transitively) is theirs too, and what
/// Kubernetes puts in every namespace is ignored. A resource that cannot be listed (403, 5xx)
/// is named in `unchecked`; one gone since discovery (404) holds nothing.
pub async fn foreign(kube: &Kube, ns: &str, ours: impl Fn(&str, &Value) -> bool) -> Contents {
    let mut unchecked = Vec::new();
    let resources = discover(kube, &mut unchecked).await;
    let lists = join_all(
        resources
            .iter()
            .filter(|l| !is_record(l))
            .map(|l| async move {
                let path = format!("{}/namespaces/{ns}/{}", l.prefix, l.plural);
                let doing = format!("list {} in {ns}", l.plural);
                (l, kube.get_path(path, &doing).await)
            }),
    )
    .await;
    let mut objects: Vec<(&str, Value)> = Vec::new();
    let mut kinds = BTreeSet::new();
    for (l, list) in lists {
        match list {
            Ok(list) => {
                kinds.insert((group(&l.prefix).to_string(), l.kind.clone()));
                objects.extend(
                    list["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|o| (l.kind.as_str(), o.clone())),
                )
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => unchecked.push(e.to_string()),
        }
    }
    let staying = staying(&objects, &kinds);
    let objects: Vec<(&str, Value)> = objects
        .into_iter()
        // What is already being deleted, or collected, is leaving with the namespace anyway.
        .filter(|(k, o)| {
            !built_in(k, o)
                && o["metadata"]["deletionTimestamp"].is_null()
                && !collected(o, &staying, &kinds)
        })
        .collect();
    unchecked.sort();
    Contents {
        foreign: unaccounted(&objects, ours),
        unchecked,
    }
}

/// `apps` of `/apis/apps/v1`, "" of `/api/v1` (an ownerReference's apiVersion alike).
fn group(prefix_or_api_version: &str) -> &str {
    let v = prefix_or_api_version
        .trim_start_matches("/apis/")
        .trim_start_matches("/api/");
    v.split_once('/').map_or("", |(g, _)| g)
}

/// The uids of the listed objects that stay owners: all but those being deleted without the
/// `orphan` finalizer (whose dependents the garbage collector deletes too).
fn alive(objects: &[(&str, Value)]) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|(_, o)| {
            o["metadata"]["deletionTimestamp"].is_null()
                || o["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f == "orphan"))
        })
        .filter_map(|(_, o)| o["metadata"]["uid"].as_str().map(str::to_string))
        .collect()
}

/// The uids of the listed objects that stay: `alive`, less what the garbage collector takes
/// with them, at any depth (a Deployment gone, then its ReplicaSets, then their pods).
fn staying(objects: &[(&str, Value)], kinds: &BTreeSet<(String, String)>) -> BTreeSet<String> {
    let mut staying = alive(objects);
    loop {
        let going: Vec<String> = objects
            .iter()
            .filter(|(_, o)| collected(o, &staying, kinds))
            .filter_map(|(_, o)| o["metadata"]["uid"].as_str())
            .filter(|u| staying.contains(*u))
            .map(str::to_string)
            .collect();
        if going.is_empty() {
            return staying;
        }
        for u in going {
            staying.remove(&u);
        }
    }
}

/// An object the garbage collector is taking: every owner it names is of a namespaced kind
/// that was listed, and none of them stays (e.g. the pods of a Deployment `down` just
/// deleted, in the seconds before the collector gets to them). An owner of a kind not listed
/// (cluster-scoped, or refused) may be alive: not collected.
fn collected(o: &Value, alive: &BTreeSet<String>, kinds: &BTreeSet<(String, String)>) -> bool {
    let refs = o["metadata"]["ownerReferences"].as_array();
    refs.is_some_and(|refs| {
        !refs.is_empty()
            && refs.iter().all(|r| {
                let kind = (
                    group(r["apiVersion"].as_str().unwrap_or_default()).to_string(),
                    r["kind"].as_str().unwrap_or_default().to_string(),
                );
                kinds.contains(&kind) && r["uid"].as_str().is_some_and(|u| !alive.contains(u))
            })
    })
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
    // The endpoints controller names a Service's Endpoints after it, without an owner reference.
    let services: BTreeSet<&str> = objects
        .iter()
        .filter(|(k, o)| *k == "Service" && uid(o).is_some_and(|u| accounted.contains(&u)))
        .filter_map(|(_, o)| o["metadata"]["name"].as_str())
        .collect();
    for (k, o) in objects {
        if *k == "Endpoints"
            && o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| services.contains(n))
            && let Some(u) = uid(o)
        {
            accounted.insert(u);
        }
    }
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

    #[test]
    fn what_the_garbage_collector_is_taking_is_not_content() {
        let kinds: BTreeSet<(String, String)> = [("apps", "ReplicaSet"), ("apps", "Deployment")]
            .map(|(g, k)| (g.to_string(), k.to_string()))
            .into();
        let owned = |kind: &str, api: &str, uid: &str| json!({"metadata": {"ownerReferences": [{"apiVersion": api, "kind": kind, "uid": uid}]}});
        let alive: BTreeSet<String> = ["rs-2".to_string()].into();
        // Its ReplicaSet is gone: collected.
        assert!(collected(
            &owned("ReplicaSet", "apps/v1", "rs-1"),
            &alive,
            &kinds
        ));
        // Its ReplicaSet is there: not.
        assert!(!collected(
            &owned("ReplicaSet", "apps/v1", "rs-2"),
            &alive,
            &kinds
        ));
        // An owner of a kind not listed (cluster-scoped, or in another group) may live.
        assert!(!collected(
            &owned("ClusterThing", "x.io/v1", "c-1"),
            &alive,
            &kinds
        ));
        assert!(!collected(
            &owned("ReplicaSet", "other.io/v1", "rs-1"),
            &alive,
            &kinds
        ));
        // No owner at all: content.
        assert!(!collected(&json!({"metadata": {}}), &alive, &kinds));
        assert_eq!(group("/api/v1"), "");
        assert_eq!(group("/apis/apps/v1"), "apps");
        assert_eq!(group("batch/v1"), "batch");
        assert_eq!(group("v1"), "");
        // An owner being deleted takes its dependents, unless it orphans them.
        let terminating = |fins: Value| {
            (
                "Deployment",
                json!({"metadata": {"uid": "d", "deletionTimestamp": "t", "finalizers": fins}}),
            )
        };
        assert!(super::alive(&[terminating(json!(["foregroundDeletion"]))]).is_empty());
        assert_eq!(
            super::alive(&[terminating(json!(["orphan"]))]),
            ["d".to_string()].into()
        );
    }

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
    fn discovery_gives_every_namespaced_resource_the_namespace_controller_deletes() {
        let core = json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "namespaced": true, "kind": "Pod", "verbs": ["create", "delete", "get", "list"]},
            {"name": "pods/log", "namespaced": true, "kind": "Pod", "verbs": ["get"]},
            {"name": "persistentvolumeclaims", "namespaced": true, "kind": "PersistentVolumeClaim", "verbs": ["delete", "list"]},
            {"name": "nodes", "namespaced": false, "kind": "Node", "verbs": ["delete", "list"]},
            {"name": "bindings", "namespaced": true, "kind": "Binding", "verbs": ["create"]}
        ]});
        let got: Vec<String> = listable("/api/v1", &core)
            .into_iter()
            .map(|l| format!("{}/{} {}", l.prefix, l.plural, l.kind))
            .collect();
        assert_eq!(
            got,
            [
                "/api/v1/pods Pod",
                "/api/v1/persistentvolumeclaims PersistentVolumeClaim"
            ]
        );
        // metrics.k8s.io serves pods too, but only get and list: nothing to delete there.
        let metrics = json!({"resources": [{"name": "pods", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]}]});
        assert!(listable("/apis/metrics.k8s.io/v1beta1", &metrics).is_empty());
        let groups = json!({"kind": "APIGroupList", "groups": [
            {"name": "apps", "versions": [{"groupVersion": "apps/v1"}], "preferredVersion": {"groupVersion": "apps/v1"}},
            {"name": "keda.sh", "versions": [{"groupVersion": "keda.sh/v1alpha1"}]}
        ]});
        assert_eq!(
            preferred(&groups),
            ["/apis/apps/v1", "/apis/keda.sh/v1alpha1"]
        );
    }

    #[test]
    fn a_services_endpoints_are_its_own() {
        let svc = obj("web", "u1", None);
        let endpoints = obj("web", "u2", None);
        let other = obj("db", "u3", None);
        let objects = vec![
            ("Service", svc),
            ("Endpoints", endpoints),
            ("Endpoints", other),
        ];
        let ours = |k: &str, o: &Value| k == "Service" && o["metadata"]["name"] == "web";
        assert_eq!(unaccounted(&objects, ours), ["Endpoints db"]);
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
