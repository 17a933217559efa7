//! Read-only, Kubernetes side: KEDA (where, which version, who installed it) and the objects the
//! stack applies, read concurrently.

use crate::cluster::contents::Contents;
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
            cluster::keda::detect(kube, &desired.keda.namespace).await
        } else {
            Ok(cluster::keda::Found::Absent)
        }
    };
    let objects = async {
        if !only.includes(Group::App) {
            return Ok(vec![]);
        }
        // The operator's service account: the role the chart annotated it with (IRSA), or
        // none (Pod Identity: a leftover IRSA role would win over the association).
        let operator_sa = Some((
            "ServiceAccount".to_string(),
            Some(desired.keda.namespace.clone()),
            desired.keda.service_account.clone(),
        ));
        // The team's workloads (`existing: true`): read to check, never applied.
        let workloads = desired
            .workloads
            .iter()
            .map(|w| (w.kind.clone(), Some(w.namespace.clone()), w.name.clone()));
        let refs = desired
            .manifests
            .iter()
            .map(object_ref)
            .chain(operator_sa)
            .chain(workloads);
        try_join_all(
            refs.map(|(kind, ns, name)| async move { kube.get(&kind, ns.as_deref(), &name).await }),
        )
        .await
    };
    let (keda, objects) = futures_util::future::try_join(keda, objects).await?;
    (o.keda, o.keda_unknown) = match keda {
        cluster::keda::Found::Installed(k) => (Some(k), None),
        cluster::keda::Found::Absent => (None, None),
        cluster::keda::Found::Unknown(why) => (None, Some(why)),
    };
    o.objects = objects.into_iter().flatten().collect();
    o.workloads_read = only.includes(Group::App);
    Ok(())
}

/// What `ns` holds besides the stack's objects (what carries its stack label, and what those
/// own) and what Kubernetes puts in every namespace: `down` deletes a namespace only when this
/// is empty and nothing was left unchecked. An object with a manifest's kind and name but
/// without the stack's label is someone else's.
pub async fn namespace_contents(kube: &Kube, desired: &Desired, ns: &str) -> Contents {
    let stack = desired.stack.as_str();
    cluster::contents::foreign(kube, ns, |_, o| {
        let labels = serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
        crate::model::is_owned(&labels, stack)
    })
    .await
}

/// For `down`: what else lives in each namespace it might delete — the stack's own namespaces,
/// and KEDA's when this stack installed KEDA (the install itself excepted).
pub async fn namespace_side(
    kube: &Kube,
    desired: &Desired,
    o: &mut Observed,
) -> Result<(), KubeError> {
    for m in &desired.manifests {
        let (kind, _, name) = object_ref(m);
        if kind != "Namespace" || o.object(&kind, None, &name).is_none() {
            continue;
        }
        let c = namespace_contents(kube, desired, &name).await;
        record(o, name, c);
    }
    if let Some(k) = o.keda.as_ref()
        && k.installed_by.as_deref() == Some(desired.stack.as_str())
    {
        let ns = k.namespace.clone();
        let c = cluster::contents::foreign(kube, &ns, cluster::keda::part_of_install).await;
        record(o, ns, c);
    }
    Ok(())
}

pub(super) fn record(o: &mut Observed, ns: String, c: Contents) {
    if !c.unchecked.is_empty() {
        o.namespace_unchecked.insert(ns.clone(), c.unchecked);
    }
    o.namespace_contents.insert(ns, c.foreign);
}
