//! Restarting a Deployment the way `kubectl rollout restart` does, deciding when its rollout is
//! done (the `kubectl rollout status` rules), and checking that its newest pod got the Pod
//! Identity credentials the EKS webhook injects at pod creation.

use super::{Kube, KubeError, Result};
use serde_json::{Value, json};

pub const CREDENTIALS_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// What the EKS IRSA webhook injects (the service account's `eks.amazonaws.com/role-arn`).
pub const ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";

/// The credentials a pod should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    PodIdentity,
    Irsa,
}

impl Mode {
    /// (the variables this mode needs, the other mode's).
    fn variables(self) -> ([&'static str; 2], [&'static str; 2]) {
        let pod_identity = [CREDENTIALS_URI, TOKEN_FILE];
        let irsa = [ROLE_ARN, WEB_IDENTITY_TOKEN_FILE];
        match self {
            Mode::PodIdentity => (pod_identity, irsa),
            Mode::Irsa => (irsa, pod_identity),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::PodIdentity => "Pod Identity",
            Mode::Irsa => "IRSA",
        }
    }
}

/// What is wrong with a pod's credentials for `mode`: the variables it lacks, and the other
/// mode's it carries. The AWS SDK for Go (KEDA's) resolves web identity before container
/// credentials (aws-sdk-go-v2 `config/resolve_credentials.go`), so a pod with both uses IRSA:
/// with Pod Identity asked for, IRSA's variables mean the wrong role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub missing: Vec<&'static str>,
    pub unexpected: Vec<&'static str>,
}

pub fn credentials(pod: &Value, container: &str, mode: Mode) -> Credentials {
    let names = env_names(pod, container);
    let (wanted, other) = mode.variables();
    Credentials {
        missing: wanted.into_iter().filter(|v| !names.contains(v)).collect(),
        unexpected: other.into_iter().filter(|v| names.contains(v)).collect(),
    }
}

/// The env variable names of a pod's container (the first when none has that name).
fn env_names<'a>(pod: &'a Value, container: &str) -> Vec<&'a str> {
    let containers = pod["spec"]["containers"].as_array();
    let c = containers
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
        .or_else(|| containers.and_then(|cs| cs.first()));
    c.and_then(|c| c["env"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect()
}

/// The patch `kubectl rollout restart` sends: a new pod-template annotation.
pub fn restart_patch(now_rfc3339: &str) -> Value {
    json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": now_rfc3339
    }}}}})
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Done,
    /// Still going, with a line for the progress display.
    Waiting(String),
    /// It will not finish by itself: the controller gave up (`ProgressDeadlineExceeded`).
    Failed(String),
}

/// `kubectl rollout status` for a Deployment object.
pub fn status(d: &Value) -> Rollout {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let generation = n(&d["metadata"]["generation"]);
    let s = &d["status"];
    if n(&s["observedGeneration"]) < generation {
        return Rollout::Waiting("waiting for the controller to see the new spec".into());
    }
    // kubectl rollout status stops here too: the controller marks it and stops trying.
    let progressing = s["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing");
    if let Some(c) = progressing.filter(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Rollout::Failed(format!(
            "it exceeded its progress deadline ({})",
            c["message"].as_str().unwrap_or("ProgressDeadlineExceeded")
        ));
    }
    let wanted = d["spec"]["replicas"].as_u64().unwrap_or(1);
    let (updated, replicas, available) = (
        n(&s["updatedReplicas"]),
        n(&s["replicas"]),
        n(&s["availableReplicas"]),
    );
    if updated < wanted {
        return Rollout::Waiting(format!("{updated} of {wanted} new pods created"));
    }
    if replicas > updated {
        return Rollout::Waiting(format!("{} old pods terminating", replicas - updated));
    }
    if available < updated {
        return Rollout::Waiting(format!("{available} of {updated} new pods available"));
    }
    Rollout::Done
}

/// `kubectl rollout restart` refuses a paused Deployment: the restart would not roll out.
pub fn refuse_paused(d: &Value, ns: &str, name: &str) -> std::result::Result<(), String> {
    if d["spec"]["paused"] == true {
        return Err(format!(
            "Deployment {ns}/{name} is paused, so a restart would not roll out (kubectl refuses \
             too)\n  fix: kubectl rollout resume deployment/{name} -n {ns}, then run kedactl again"
        ));
    }
    Ok(())
}

/// The pod-identity variables a pod lacks (empty: credentials were injected).
pub fn missing_env(pod: &Value, container: &str) -> Vec<&'static str> {
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let c = containers
        .iter()
        .find(|c| c["name"] == container)
        .or(containers.first());
    let names: Vec<&str> = c
        .and_then(|c| c["env"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    [CREDENTIALS_URI, TOKEN_FILE]
        .into_iter()
        .filter(|v| !names.contains(v))
        .collect()
}

/// The newest running (not terminating) pod among `pods`.
pub fn newest(pods: &[Value]) -> Option<&Value> {
    pods.iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .max_by(|a, b| {
            let t = |p: &Value| {
                p["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            };
            t(a).cmp(&t(b))
        })
}

/// A label selector from a Deployment's `spec.selector.matchLabels`.
pub fn selector(d: &Value) -> Option<String> {
    let labels = d["spec"]["selector"]["matchLabels"].as_object()?;
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The Deployment, or an error saying it does not exist.
pub async fn deployment(kube: &Kube, ns: &str, name: &str) -> Result<Value> {
    kube.get("Deployment", Some(ns), name)
        .await?
        .ok_or_else(|| KubeError {
            doing: format!("read Deployment {ns}/{name}"),
            code: Some(404),
            reason: "NotFound".into(),
            message: "it does not exist".into(),
        })
}

/// The newest running pod of a Deployment (by its selector).
pub async fn newest_pod(kube: &Kube, ns: &str, deployment: &Value) -> Result<Option<Value>> {
    let Some(sel) = selector(deployment) else {
        return Ok(None);
    };
    let pods = kube.list("Pod", Some(ns), Some(&sel)).await?;
    Ok(newest(&pods).cloned())
}

/// The newest pod of a Deployment and what is wrong with its credentials for `mode`.
pub async fn pod_credentials(
    kube: &Kube,
    ns: &str,
    name: &str,
    mode: Mode,
) -> Result<Option<(String, Credentials)>> {
    let d = deployment(kube, ns, name).await?;
    Ok(newest_pod(kube, ns, &d).await?.map(|p| {
        let container = d["spec"]["template"]["spec"]["containers"][0]["name"]
            .as_str()
            .unwrap_or(name);
        (
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            credentials(&p, container, mode),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(generation: u64, spec: u64, status: Value) -> Value {
        json!({"metadata": {"generation": generation}, "spec": {"replicas": spec}, "status": status})
    }

    #[test]
    fn rollout_status_follows_kubectl() {
        let s = |g, r, st| status(&dep(g, r, st));
        assert_eq!(
            s(
                2,
                1,
                json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1})
            ),
            Rollout::Waiting("waiting for the controller to see the new spec".into())
        );
        assert_eq!(
            s(
                2,
                2,
                json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 2})
            ),
            Rollout::Waiting("1 of 2 new pods created".into())
        );
        assert_eq!(
            s(
                2,
                1,
                json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1})
            ),
            Rollout::Waiting("1 old pods terminating".into())
        );
        assert_eq!(
            s(
                2,
                1,
                json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1})
            ),
            Rollout::Waiting("0 of 1 new pods available".into())
        );
        assert_eq!(
            s(
                2,
                1,
                json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1})
            ),
            Rollout::Done
        );
        let stuck = json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1,
            "conditions": [{"type": "Available", "status": "False"},
                           {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                            "message": "ReplicaSet \"q-read-7d\" has timed out progressing."}]});
        assert_eq!(
            s(2, 1, stuck),
            Rollout::Failed(
                "it exceeded its progress deadline (ReplicaSet \"q-read-7d\" has timed out progressing.)"
                    .into()
            )
        );
        let paused = json!({"spec": {"paused": true}});
        let err = refuse_paused(&paused, "security", "q-read").unwrap_err();
        assert!(
            err.contains("kubectl rollout resume deployment/q-read -n security"),
            "{err}"
        );
        assert!(refuse_paused(&json!({"spec": {}}), "security", "q-read").is_ok());
        // Scaled to zero (KEDA's minReplicaCount 0): nothing to wait for.
        assert_eq!(s(3, 0, json!({"observedGeneration": 3})), Rollout::Done);
    }

    #[test]
    fn the_newest_live_pod_is_checked_for_both_variables() {
        let pod = |name: &str, created: &str, env: Value, deleting: bool| {
            let mut p = json!({"metadata": {"name": name, "creationTimestamp": created},
                "spec": {"containers": [{"name": "keda-operator", "env": env}]}});
            if deleting {
                p["metadata"]["deletionTimestamp"] = json!("2026-11-24T08:00:00Z");
            }
            p
        };
        let both = json!([{"name": CREDENTIALS_URI, "value": "http://169.254.170.23/v1/credentials"},
                          {"name": TOKEN_FILE, "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}]);
        let pods = vec![
            pod("old", "2026-11-24T07:00:00Z", json!([]), false),
            pod("new", "2026-11-24T08:00:00Z", both.clone(), false),
            pod(
                "newer-but-terminating",
                "2026-11-24T09:00:00Z",
                json!([]),
                true,
            ),
        ];
        let p = newest(&pods).unwrap();
        assert_eq!(p["metadata"]["name"], "new");
        assert!(missing_env(p, "keda-operator").is_empty());
        assert_eq!(
            missing_env(&pods[0], "keda-operator"),
            [CREDENTIALS_URI, TOKEN_FILE]
        );
        let one = pod("x", "t", json!([{"name": TOKEN_FILE, "value": "f"}]), false);
        assert_eq!(missing_env(&one, "keda-operator"), [CREDENTIALS_URI]);
        assert_eq!(
            selector(&json!({"spec": {"selector": {"matchLabels": {"app": "keda-operator"}}}})),
            Some("app=keda-operator".into())
        );
    }
}

#[cfg(test)]
mod credential_tests {
    use super::*;

    fn pod(vars: &[&str]) -> Value {
        let env: Vec<Value> = vars
            .iter()
            .map(|v| json!({"name": v, "value": "x"}))
            .collect();
        json!({"spec": {"containers": [{"name": "keda-operator", "env": env}]}})
    }

    #[test]
    fn each_mode_needs_its_variables_and_refuses_the_other_s() {
        let both = pod(&[
            CREDENTIALS_URI,
            TOKEN_FILE,
            ROLE_ARN,
            WEB_IDENTITY_TOKEN_FILE,
        ]);
        // Web identity wins in the AWS SDK for Go: Pod Identity asked for, IRSA used.
        let c = credentials(&both, "keda-operator", Mode::PodIdentity);
        assert!(c.missing.is_empty());
        assert_eq!(c.unexpected, [ROLE_ARN, WEB_IDENTITY_TOKEN_FILE]);
        let c = credentials(&both, "keda-operator", Mode::Irsa);
        assert_eq!(c.unexpected, [CREDENTIALS_URI, TOKEN_FILE]);

        let irsa = pod(&[ROLE_ARN, WEB_IDENTITY_TOKEN_FILE]);
        assert_eq!(
            credentials(&irsa, "keda-operator", Mode::Irsa),
            Credentials::default()
        );
        let c = credentials(&irsa, "keda-operator", Mode::PodIdentity);
        assert_eq!(c.missing, [CREDENTIALS_URI, TOKEN_FILE]);
        assert_eq!(c.unexpected, [ROLE_ARN, WEB_IDENTITY_TOKEN_FILE]);

        let none = pod(&[]);
        assert_eq!(
            credentials(&none, "keda-operator", Mode::Irsa).missing,
            [ROLE_ARN, WEB_IDENTITY_TOKEN_FILE]
        );
    }
}
