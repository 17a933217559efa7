//! Finding KEDA in a cluster: by its operator Deployment (any namespace), by the external
//! metrics APIService it registers, or by its CRDs; its version from the image tag; whether
//! kedactl installed it (a marker ConfigMap written before `helm install`), the state of its
//! helm release, and every keda.sh object that still depends on it.

use super::{Kube, KubeError, Result};
use crate::observed::{Keda, Release};
use futures_util::future::{try_join_all, try_join3, try_join4};
use serde_json::{Value, json};

/// Pod Identity credentials need the AWS SDK KEDA ships since 2.13.0.
pub const MIN_VERSION: (u64, u64) = (2, 13);
/// Written by kedactl before it installs KEDA, so `down` uninstalls only what it installed.
pub const MARKER: &str = "kedactl-installed-keda";
pub const OPERATOR: &str = "keda-operator";
pub const METRICS_SERVER: &str = "keda-operator-metrics-apiserver";
/// The certificates KEDA's operator writes into its namespace at start (not part of the chart).
pub const CERTS_SECRET: &str = "kedaorg-certs";
/// The finalizer KEDA's operator puts on its objects (and removes when it has cleaned up).
pub const FINALIZER: &str = "finalizer.keda.sh";
/// The APIService KEDA's metrics server registers.
pub const APISERVICE: &str = "v1beta1.external.metrics.k8s.io";
/// The CRDs the app's objects need.
pub const CRDS: [&str; 3] = [
    "scaledobjects.keda.sh",
    "scaledjobs.keda.sh",
    "triggerauthentications.keda.sh",
];
/// Every kind KEDA v2.20 defines, with its CRD: any object of these needs the operator (its
/// finalizers) and is deleted with the CRDs when the chart is uninstalled.
pub const KINDS: [(&str, &str); 6] = [
    ("ScaledObject", "scaledobjects.keda.sh"),
    ("ScaledJob", "scaledjobs.keda.sh"),
    ("TriggerAuthentication", "triggerauthentications.keda.sh"),
    (
        "ClusterTriggerAuthentication",
        "clustertriggerauthentications.keda.sh",
    ),
    ("CloudEventSource", "cloudeventsources.keda.sh"),
    (
        "ClusterCloudEventSource",
        "clustercloudeventsources.keda.sh",
    ),
];

/// Read what the cluster says about KEDA. `expected` is the namespace the config names: an
/// install interrupted before the operator appeared leaves only kedactl's marker and helm's
/// release record there.
///
/// A refused read (403) of the CRDs, the APIService or the cluster-wide operator list does not
/// stop the observation: it is recorded as "could not check" (`Kube::unchecked`), and what it
/// would have shown is not assumed absent (a CRD that could not be read is not reported missing;
/// without the list, the operator is looked for in `expected` only). When every cluster-wide
/// witness (the operator list, the CRDs, the APIService) was refused and `expected` shows
/// nothing, KEDA may run elsewhere: `Found::Unknown`, never "absent".
pub async fn detect(kube: &Kube, expected: &str) -> Result<Found> {
    // Some(None): the CRD is absent; None: it could not be read.
    let crds = try_join_all(KINDS.map(|(_, crd)| async move {
        match kube.get("CustomResourceDefinition", None, crd).await {
            Err(e) if e.is_denied() => {
                kube.could_not_check(
                    &format!("KEDA's CRD {crd}"),
                    "get",
                    "CustomResourceDefinition",
                    &e,
                );
                Ok(None)
            }
            other => other.map(Some),
        }
    }));
    // The APIService only helps to find KEDA without its operator: a failed read of it is no
    // reason to fail the whole observation.
    let api = async {
        Ok(match kube.get("APIService", None, APISERVICE).await {
            Ok(found) => Witness { found, read: true },
            Err(e) => {
                kube.could_not_check(
                    &format!("the APIService {APISERVICE}"),
                    "get",
                    "APIService",
                    &e,
                );
                Witness {
                    found: None,
                    read: false,
                }
            }
        })
    };
    let operators = async {
        match kube
            .list("Deployment", None, Some(&format!("app={OPERATOR}")))
            .await
        {
            Err(e) if e.is_denied() => {
                kube.could_not_check(
                    &format!("other namespaces for KEDA's operator (looked in {expected} only)"),
                    "list",
                    "Deployment",
                    &e,
                );
                let here = kube.get("Deployment", Some(expected), OPERATOR).await?;
                Ok((here.into_iter().collect(), false))
            }
            other => other.map(|list| (list, true)),
        }
    };
    let ((operators, listed), crds, api) = try_join3(operators, crds, api).await?;
    // Something cluster-wide answered: absence seen there is absence everywhere.
    let witnessed = listed || api.read || crds.iter().any(Option::is_some);
    let api = api.found;
    // A CRD that could not be read counts as there (never "missing", never a reason to repair).
    let unread_crd = json!({});
    let crds: Vec<Option<Value>> = crds
        .into_iter()
        .map(|c| c.unwrap_or_else(|| Some(unread_crd.clone())))
        .collect();
    let found = from_operators(&operators);
    let located = found
        .as_ref()
        .map(|k| k.namespace.clone())
        .or_else(|| api.as_ref().and_then(apiservice_namespace))
        .or_else(|| {
            crds.iter().flatten().find_map(|c| {
                c["metadata"]["annotations"]["meta.helm.sh/release-namespace"]
                    .as_str()
                    .map(str::to_string)
            })
        });
    let ns = located.clone().unwrap_or_else(|| expected.to_string());
    let ns = ns.as_str();
    let exists = |kind: &'static str, name: &'static str| async move {
        Ok::<_, KubeError>(kube.get(kind, Some(ns), name).await?.is_some())
    };
    let (marker, release, operator, metrics) = try_join4(
        kube.get("ConfigMap", Some(ns), MARKER),
        release(kube, ns),
        // Found by its label already: no second read of it by name.
        async {
            match found {
                Some(_) => Ok(true),
                None => exists("Deployment", OPERATOR).await,
            }
        },
        exists("Deployment", METRICS_SERVER),
    )
    .await?;
    if located.is_none() && marker.is_none() && release.is_none() {
        if witnessed {
            return Ok(Found::Absent);
        }
        return Ok(Found::Unknown(format!(
            "nothing of KEDA in namespace {ns}, and the reads that find it elsewhere (the \
             keda-operator Deployments of every namespace, KEDA's CRDs, the APIService \
             {APISERVICE}) were all refused"
        )));
    }
    let served: Vec<&str> = KINDS
        .iter()
        .zip(&crds)
        .filter(|(_, c)| c.is_some())
        .map(|((kind, _), _)| *kind)
        .collect();
    let objects = objects(kube, &served).await?;
    let mut missing: Vec<String> = CRDS
        .iter()
        .filter(|c| {
            KINDS
                .iter()
                .zip(&crds)
                .any(|((_, n), f)| n == *c && f.is_none())
        })
        .map(|c| format!("CRD {c}"))
        .collect();
    for (present, name) in [(operator, OPERATOR), (metrics, METRICS_SERVER)] {
        if !present {
            missing.push(format!("Deployment {ns}/{name}"));
        }
    }
    let base = found.unwrap_or_else(|| Keda {
        namespace: ns.to_string(),
        version: "unknown".into(),
        installed_by: None,
        objects: vec![],
        missing: vec![],
        release: None,
        values: None,
    });
    // The chart values kedactl installed it with (JSON text), when it recorded any.
    let values = marker
        .as_ref()
        .and_then(|m| m["data"]["values"].as_str())
        .and_then(|v| serde_json::from_str(v).ok());
    Ok(Found::Installed(Keda {
        values,
        installed_by: marker.and_then(|m| m["data"]["stack"].as_str().map(str::to_string)),
        objects,
        missing,
        release,
        ..base
    }))
}

/// What `detect` found.
#[derive(Debug)]
pub enum Found {
    Installed(Keda),
    Absent,
    /// KEDA's presence could not be told (why): never a reason to install a second one.
    Unknown(String),
}

impl Found {
    /// The KEDA found, if one was.
    pub fn installed(self) -> Option<Keda> {
        match self {
            Found::Installed(k) => Some(k),
            Found::Absent | Found::Unknown(_) => None,
        }
    }
}

/// A cluster-wide read that may show KEDA: what it found, and whether it was read at all.
struct Witness {
    found: Option<Value>,
    read: bool,
}

/// Does a KEDA operator run anywhere (a Deployment with an available replica)?
pub async fn operator_running(kube: &Kube) -> Result<bool> {
    let operators = kube
        .list("Deployment", None, Some(&format!("app={OPERATOR}")))
        .await?;
    Ok(operators
        .iter()
        .any(|d| d["status"]["availableReplicas"].as_u64().unwrap_or(0) > 0))
}

/// The namespace of the metrics server an APIService points at, when it is KEDA's.
fn apiservice_namespace(api: &Value) -> Option<String> {
    let service = &api["spec"]["service"];
    service["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("keda"))
        .then(|| service["namespace"].as_str().map(str::to_string))
        .flatten()
}

/// The newest record of helm release `keda` in `ns` (helm's Secret storage driver labels each
/// revision with owner, name, status and version). A caller who may not list Secrets sees None.
async fn release(kube: &Kube, ns: &str) -> Result<Option<Release>> {
    let records = match kube
        .list("Secret", Some(ns), Some("owner=helm,name=keda"))
        .await
    {
        Ok(r) => r,
        Err(e) if e.is_denied() => {
            kube.could_not_check(
                &format!("helm's release state in {ns} (a pending helm run)"),
                "list",
                "Secret",
                &e,
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(newest_release(&records))
}

fn newest_release(records: &[Value]) -> Option<Release> {
    records
        .iter()
        .filter_map(|r| {
            let labels = &r["metadata"]["labels"];
            Some(Release {
                revision: labels["version"].as_str()?.parse().ok()?,
                status: labels["status"].as_str()?.to_string(),
            })
        })
        .max_by_key(|r| r.revision)
}

/// Every object of these keda.sh kinds in the cluster (`kind ns/name`), listed at once; a kind
/// whose CRD is gone holds none.
pub async fn objects(kube: &Kube, kinds: &[&str]) -> Result<Vec<String>> {
    let lists = try_join_all(kinds.iter().map(|k| async move {
        match kube.list(k, None, None).await {
            Ok(items) => Ok(items.iter().map(|o| qualified(k, o)).collect::<Vec<_>>()),
            Err(e) if e.is_not_found() => Ok(vec![]),
            Err(e) => Err::<_, KubeError>(e),
        }
    }))
    .await?;
    Ok(lists.into_iter().flatten().collect())
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
        objects: Vec::new(),
        missing: Vec::new(),
        release: None,
        values: None,
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

/// Why `up` cannot use or repair the KEDA it found, with the command that fixes it. A KEDA this
/// stack installed that lost its operator or failed its release is not an error: `up` runs helm
/// again.
pub fn check(keda: &Keda, wanted: &str, stack: &str) -> std::result::Result<(), String> {
    let ns = &keda.namespace;
    let ours = keda.installed_by.as_deref() == Some(stack);
    if let Some(r) = keda.release.as_ref().filter(|r| r.is_pending()) {
        return Err(format!(
            "helm release keda in namespace {ns} is {} (revision {}): an earlier helm run was \
             interrupted, and helm refuses another operation until that is resolved\n  fix: \
             helm rollback keda -n {ns} (back to the last deployed revision), or helm uninstall \
             keda -n {ns} if it never deployed; then run kedactl up again",
            r.status, r.revision
        ));
    }
    if !keda.has_operator() && !ours {
        return Err(format!(
            "KEDA is partly installed in namespace {ns} (missing: {}), by something other than \
             this stack, so kedactl will not reinstall it over it\n  fix: repair it where it was \
             installed (helm upgrade keda keda --repo https://kedacore.github.io/charts \
             --namespace {ns} --version {wanted}), or remove what is left so kedactl installs \
             its own",
            keda.missing.join(", ")
        ));
    }
    let crds: Vec<&str> = keda
        .missing
        .iter()
        .filter_map(|m| m.strip_prefix("CRD "))
        .collect();
    if !crds.is_empty() && !ours {
        return Err(format!(
            "KEDA's operator runs in namespace {ns}, but its CRDs {} are missing, so the app's \
             KEDA objects cannot be applied\n  fix: helm upgrade --install keda keda --repo \
             https://kedacore.github.io/charts --namespace {ns} --version {wanted}",
            crds.join(", "),
        ));
    }
    match parse(&keda.version) {
        Some(v) if v < MIN_VERSION => Err(format!(
            "KEDA {} in namespace {ns} is too old for EKS Pod Identity (needs {}.{} or newer: older \
             releases ship an AWS SDK without container credentials)\n  fix: helm upgrade keda \
             keda --repo https://kedacore.github.io/charts --namespace {ns} --version {wanted}",
            keda.version, MIN_VERSION.0, MIN_VERSION.1
        )),
        _ => Ok(()),
    }
}

/// What `up` says when keda.version differs from a KEDA it will not upgrade (someone else
/// installed it): it runs on as it is. None when there is nothing to say.
pub fn version_kept(keda: &Keda, wanted: &str, stack: &str) -> Option<String> {
    let same = keda.version.trim_start_matches('v') == wanted.trim_start_matches('v');
    if same || keda.installed_by.as_deref() == Some(stack) {
        return None;
    }
    Some(format!(
        "note: KEDA {} in namespace {} was not installed by this stack, so kedactl will not \
         upgrade it to keda.version {wanted}; it stays at {} (upgrade it where it was installed, \
         or set keda.version: {})",
        keda.version, keda.namespace, keda.version, keda.version
    ))
}

/// Is this object in KEDA's namespace part of the install kedactl made? The chart's objects
/// (helm's release annotation), helm's release records, the operator's certificates and
/// kedactl's marker; what these own is accounted for by `contents::foreign`.
pub fn part_of_install(kind: &str, o: &Value) -> bool {
    let m = &o["metadata"];
    m["annotations"]["meta.helm.sh/release-name"] == super::helm::RELEASE
        || (kind == "Secret"
            && (m["name"] == CERTS_SECRET
                || (m["labels"]["owner"] == "helm" && m["labels"]["name"] == super::helm::RELEASE)))
        || (kind == "ConfigMap" && m["name"] == MARKER)
}

/// The marker ConfigMap, applied before `helm install`: who installed KEDA, and with which
/// chart values (`keda.values`, as JSON; absent when none), so a changed value is planned.
pub fn marker(
    namespace: &str,
    stack: &str,
    version: &str,
    values: &serde_json::Map<String, Value>,
) -> Value {
    let mut data = json!({ "stack": stack, "version": version });
    if !values.is_empty() {
        data["values"] = Value::String(Value::Object(values.clone()).to_string());
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": MARKER,
            "namespace": namespace,
            "labels": crate::model::ownership(stack),
        },
        "data": data,
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
            objects: vec![],
            missing: vec![],
            release: None,
            values: None,
        };
        let err = check(&keda("2.12.1"), "2.20.2", "kedactl").unwrap_err();
        assert!(
            err.contains("too old") && err.contains("--version 2.20.2"),
            "{err}"
        );
        assert!(check(&keda("2.13.0"), "2.20.2", "kedactl").is_ok());
        assert!(check(&keda("2.20.2"), "2.20.2", "kedactl").is_ok());
        assert!(check(&keda("10.0.0"), "2.20.2", "kedactl").is_ok());
        // Not a release: cannot tell, so no refusal (doctor reports it).
        assert!(check(&keda("main"), "2.20.2", "kedactl").is_ok());
        assert_eq!(parse("2.9.3"), Some((2, 9)));
        assert!(parse("2.9.3") < Some(MIN_VERSION));
        let mut no_crds = keda("2.20.2");
        no_crds.missing = vec![
            "CRD scaledobjects.keda.sh".into(),
            "Deployment keda/x".into(),
        ];
        let err = check(&no_crds, "2.20.2", "kedactl").unwrap_err();
        assert!(
            err.contains("CRDs scaledobjects.keda.sh are missing"),
            "{err}"
        );
    }

    fn found(installed_by: Option<&str>, missing: &[&str], release: Option<(u64, &str)>) -> Keda {
        Keda {
            namespace: "keda".into(),
            version: "unknown".into(),
            installed_by: installed_by.map(str::to_string),
            objects: vec![],
            missing: missing.iter().map(|m| m.to_string()).collect(),
            release: release.map(|(revision, status)| Release {
                revision,
                status: status.into(),
            }),
            values: None,
        }
    }

    #[test]
    fn a_version_kedactl_will_not_apply_is_said_plainly() {
        let mut k = found(None, &[], None);
        k.version = "2.19.0".into();
        let note = version_kept(&k, "2.20.2", "kedactl").unwrap();
        assert!(
            note.contains("will not upgrade it to keda.version 2.20.2; it stays at 2.19.0"),
            "{note}"
        );
        assert!(version_kept(&k, "2.19.0", "kedactl").is_none());
        k.installed_by = Some("kedactl".into());
        assert!(version_kept(&k, "2.20.2", "kedactl").is_none());
    }

    #[test]
    fn a_pending_release_stops_up_with_the_recovery() {
        let k = found(Some("kedactl"), &[], Some((2, "pending-upgrade")));
        let err = check(&k, "2.20.2", "kedactl").unwrap_err();
        assert!(
            err.contains("is pending-upgrade (revision 2)")
                && err.contains("helm rollback keda -n keda"),
            "{err}"
        );
        assert!(!k.needs_repair("kedactl") || !k.missing.is_empty());
    }

    #[test]
    fn our_broken_install_is_repaired_and_someone_elses_is_refused() {
        let gone = ["Deployment keda/keda-operator"];
        let ours = found(Some("kedactl"), &gone, Some((1, "failed")));
        assert!(check(&ours, "2.20.2", "kedactl").is_ok());
        assert!(ours.needs_repair("kedactl"));
        let failed = found(Some("kedactl"), &[], Some((3, "failed")));
        assert!(failed.needs_repair("kedactl"));
        let healthy = found(Some("kedactl"), &[], Some((3, "deployed")));
        assert!(!healthy.needs_repair("kedactl"));
        let theirs = found(None, &gone, Some((1, "deployed")));
        let err = check(&theirs, "2.20.2", "kedactl").unwrap_err();
        assert!(
            err.contains(
                "partly installed in namespace keda (missing: Deployment keda/keda-operator)"
            ),
            "{err}"
        );
        assert!(!theirs.needs_repair("kedactl"));
    }

    #[test]
    fn releases_and_apiservices_are_read_like_helm_and_kube_aggregator() {
        let record = |v: &str, status: &str| json!({"metadata": {"labels": {"owner": "helm", "name": "keda", "version": v, "status": status}}});
        let r = newest_release(&[
            record("9", "superseded"),
            record("10", "pending-upgrade"),
            record("2", "superseded"),
        ])
        .unwrap();
        assert_eq!((r.revision, r.status.as_str()), (10, "pending-upgrade"));
        assert!(r.is_pending());
        assert!(newest_release(&[]).is_none());
        let api = |name: &str| json!({"spec": {"service": {"name": name, "namespace": "ops"}}});
        assert_eq!(
            apiservice_namespace(&api("keda-operator-metrics-apiserver")).as_deref(),
            Some("ops")
        );
        assert_eq!(apiservice_namespace(&api("prometheus-adapter")), None);
        assert_eq!(apiservice_namespace(&json!({"spec": {}})), None);
    }
}
