//! Finding KEDA in a cluster: the operator Deployment (any namespace), its version from the image
//! tag, and whether kedactl installed it (a marker ConfigMap written before `helm install`).

use super::{Kube, Result};
use crate::observed::Keda;
use serde_json::{Value, json};

/// Pod Identity credentials need the AWS SDK KEDA ships since 2.13.0.
pub const MIN_VERSION: (u64, u64) = (2, 13);
/// Written by kedactl before it installs KEDA, so `down` uninstalls only what it installed.
pub const MARKER: &str = "kedactl-installed-keda";
pub const OPERATOR: &str = "keda-operator";
pub const METRICS_SERVER: &str = "keda-operator-metrics-apiserver";
/// The CRDs the app's objects need.
pub const CRDS: [&str; 3] = [
    "scaledobjects.keda.sh",
    "scaledjobs.keda.sh",
    "triggerauthentications.keda.sh",
];

/// Read what the cluster says about KEDA.
pub async fn detect(kube: &Kube) -> Result<Option<Keda>> {
    let operators = kube
        .list("Deployment", None, Some(&format!("app={OPERATOR}")))
        .await?;
    let Some(found) = from_operators(&operators) else {
        return Ok(None);
    };
    let ns = found.namespace.as_str();
    let crds = futures_util::future::try_join_all(CRDS.map(|c| async move {
        Ok::<_, super::KubeError>(
            kube.get("CustomResourceDefinition", None, c)
                .await?
                .is_none()
                .then(|| format!("CRD {c}")),
        )
    }));
    let metrics = async {
        Ok::<_, super::KubeError>(
            kube.get("Deployment", Some(ns), METRICS_SERVER)
                .await?
                .is_none()
                .then(|| format!("Deployment {ns}/{METRICS_SERVER}")),
        )
    };
    let (marker, crds, metrics) =
        futures_util::future::try_join3(kube.get("ConfigMap", Some(ns), MARKER), crds, metrics)
            .await?;
    let missing: Vec<String> = crds.into_iter().chain([metrics]).flatten().collect();
    // Without the CRDs there can be no scalers to list.
    let scalers = if missing.iter().any(|m| m.starts_with("CRD")) {
        vec![]
    } else {
        let (objects, jobs) = futures_util::future::try_join(
            kube.list("ScaledObject", None, None),
            kube.list("ScaledJob", None, None),
        )
        .await?;
        let objects = objects.iter().map(|o| qualified("ScaledObject", o));
        objects
            .chain(jobs.iter().map(|o| qualified("ScaledJob", o)))
            .collect()
    };
    Ok(Some(Keda {
        installed_by: marker.and_then(|m| m["data"]["stack"].as_str().map(str::to_string)),
        scalers,
        missing,
        ..found
    }))
}

/// `ScaledObject security/x` (list items carry no kind).
fn qualified(kind: &str, o: &Value) -> String {
    let (_, ns, name) = crate::render::object_ref(o);
    super::describe(kind, ns.as_deref(), &name)
}

/// KEDA as seen from its operator Deployments (the first one with a keda image).
pub fn from_operators(deployments: &[Value]) -> Option<Keda> {
    let d = deployments.first()?;
    let namespace = d["metadata"]["namespace"].as_str()?.to_string();
    let image = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == OPERATOR)
        .or_else(|| d["spec"]["template"]["spec"]["containers"].get(0))
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default();
    let version = image_tag(image)
        .or_else(|| d["metadata"]["labels"]["app.kubernetes.io/version"].as_str())
        .unwrap_or("unknown")
        .to_string();
    Some(Keda {
        namespace,
        version,
        installed_by: None,
        scalers: Vec::new(),
        missing: Vec::new(),
    })
}

/// `ghcr.io/kedacore/keda:2.20.2@sha256:…` → `2.20.2` (a registry port is not a tag).
fn image_tag(image: &str) -> Option<&str> {
    let image = image.split('@').next()?;
    let last = image.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    Some(tag.trim_start_matches('v'))
}

/// (major, minor) of a version like `2.20.2`; None when it is not a release (e.g. `main`).
pub fn parse(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Too old for Pod Identity, or without its CRDs: the error, with the command that fixes it.
pub fn check_version(keda: &Keda, wanted: &str) -> std::result::Result<(), String> {
    let crds: Vec<&str> = keda
        .missing
        .iter()
        .filter_map(|m| m.strip_prefix("CRD "))
        .collect();
    if !crds.is_empty() {
        return Err(format!(
            "KEDA's operator runs in namespace {ns}, but its CRDs {} are missing, so the app's \
             KEDA objects cannot be applied\n  fix: helm upgrade --install keda keda --repo \
             https://kedacore.github.io/charts --namespace {ns} --version {wanted}",
            crds.join(", "),
            ns = keda.namespace
        ));
    }
    match parse(&keda.version) {
        Some(v) if v < MIN_VERSION => Err(format!(
            "KEDA {} in namespace {} is too old for EKS Pod Identity (needs {}.{} or newer: older \
             releases ship an AWS SDK without container credentials)\n  fix: helm upgrade keda \
             keda --repo https://kedacore.github.io/charts --namespace {} --version {wanted}",
            keda.version, keda.namespace, MIN_VERSION.0, MIN_VERSION.1, keda.namespace
        )),
        _ => Ok(()),
    }
}

/// The marker ConfigMap, applied before `helm install`.
pub fn marker(namespace: &str, stack: &str, version: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": MARKER,
            "namespace": namespace,
            "labels": crate::model::ownership(stack),
        },
        "data": { "stack": stack, "version": version },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator(ns: &str, image: &str) -> Value {
        json!({
            "metadata": {"name": OPERATOR, "namespace": ns, "labels": {"app": OPERATOR}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "busybox:1"},
                {"name": OPERATOR, "image": image}
            ]}}}
        })
    }

    #[test]
    fn the_version_comes_from_the_operator_image() {
        let k = from_operators(&[operator("keda", "ghcr.io/kedacore/keda:2.20.2")]).unwrap();
        assert_eq!(
            (k.namespace.as_str(), k.version.as_str()),
            ("keda", "2.20.2")
        );
        let k = from_operators(&[operator(
            "ops",
            "registry.local:5000/kedacore/keda:v2.12.1@sha256:abc",
        )])
        .unwrap();
        assert_eq!(
            (k.namespace.as_str(), k.version.as_str()),
            ("ops", "2.12.1")
        );
        let k = from_operators(&[operator("keda", "registry.local:5000/keda")]).unwrap();
        assert_eq!(k.version, "unknown");
        assert!(from_operators(&[]).is_none());
    }

    #[test]
    fn pod_identity_needs_2_13() {
        let keda = |v: &str| Keda {
            namespace: "keda".into(),
            version: v.into(),
            installed_by: None,
            scalers: vec![],
            missing: vec![],
        };
        let err = check_version(&keda("2.12.1"), "2.20.2").unwrap_err();
        assert!(
            err.contains("too old") && err.contains("--version 2.20.2"),
            "{err}"
        );
        assert!(check_version(&keda("2.13.0"), "2.20.2").is_ok());
        assert!(check_version(&keda("2.20.2"), "2.20.2").is_ok());
        assert!(check_version(&keda("10.0.0"), "2.20.2").is_ok());
        // Not a release: cannot tell, so no refusal (doctor reports it).
        assert!(check_version(&keda("main"), "2.20.2").is_ok());
        assert_eq!(parse("2.9.3"), Some((2, 9)));
        assert!(parse("2.9.3") < Some(MIN_VERSION));
        let mut no_crds = keda("2.20.2");
        no_crds.missing = vec![
            "CRD scaledobjects.keda.sh".into(),
            "Deployment keda/x".into(),
        ];
        let err = check_version(&no_crds, "2.20.2").unwrap_err();
        assert!(
            err.contains("CRDs scaledobjects.keda.sh are missing"),
            "{err}"
        );
    }
}
