//! Read-only, Kubernetes side: KEDA (where, which version, who installed it) and the objects the
//! stack applies, read concurrently.

use crate::cluster::{self, Kube, KubeError};
use crate::model::{Group, Only};
use crate::observed::Observed;
use crate::render::{Desired, object_ref};
use futures_util::future::try_join_all;

/// Fill `o.keda` and `o.objects` for the groups in `only`.
pub async fn cluster_side(
    kube: &Kube,
    desired: &Desired,
    only: &Only,
    o: &mut Observed,
) -> Result<(), KubeError> {
    let keda = async {
        if only.includes(Group::Keda) || only.includes(Group::App) {
            cluster::keda::detect(kube).await
        } else {
            Ok(None)
        }
    };
    let objects = async {
        if !only.includes(Group::App) {
            return Ok(vec![]);
        }
        try_join_all(desired.manifests.iter().map(|m| {
            let (kind, ns, name) = object_ref(m);
            async move { kube.get(&kind, ns.as_deref(), &name).await }
        }))
        .await
    };
    let (keda, objects) = futures_util::future::try_join(keda, objects).await?;
    o.keda = keda;
    o.objects = objects.into_iter().flatten().collect();
    Ok(())
}

/// Kinds a namespace may hold that mean "someone else uses it".
const CONTENT_KINDS: [&str; 12] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "ScaledObject",
    "ScaledJob",
    "TriggerAuthentication",
];

/// What `ns` holds besides the stack's own objects and what Kubernetes puts in every namespace
/// (`kind name`, sorted): `down` deletes a namespace only when this is empty.
pub async fn namespace_contents(
    kube: &Kube,
    desired: &Desired,
    ns: &str,
) -> Result<Vec<String>, KubeError> {
    let lists = try_join_all(
        CONTENT_KINDS
            .map(|k| async move { Ok::<_, KubeError>((k, kube.list(k, Some(ns), None).await?)) }),
    )
    .await?;
    let ours = |kind: &str, name: &str| {
        desired.manifests.iter().any(|m| {
            let (k, n, nm) = object_ref(m);
            k == kind && n.as_deref() == Some(ns) && nm == name
        })
    };
    let mut others: Vec<String> = lists
        .into_iter()
        .flat_map(|(kind, items)| {
            items.into_iter().filter_map(move |i| {
                let name = i["metadata"]["name"].as_str()?.to_string();
                let built_in = matches!(
                    (kind, name.as_str()),
                    ("ServiceAccount", "default") | ("ConfigMap", "kube-root-ca.crt")
                ) || i["type"] == "kubernetes.io/service-account-token";
                (!built_in).then_some((kind, name))
            })
        })
        .filter(|(k, n)| !ours(k, n))
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    others.sort();
    Ok(others)
}
