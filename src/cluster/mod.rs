//! The Kubernetes boundary: one `kube::Client` (from a kubeconfig, or built from EKS itself with
//! a presigned STS token), raw REST calls on the handful of kinds kedactl touches, and the error
//! shapes the rest of kedactl needs. Decisions (is a rollout done? which KEDA is this?) are pure
//! functions in the submodules.

pub mod connect;
pub mod contents;
pub mod helm;
pub mod keda;
pub mod proxy;
pub mod rollout;
pub mod token;

use http::{Method, Request, header};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use connect::Access;

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "kedactl";

/// A connected cluster.
#[derive(Clone)]
pub struct Kube {
    client: kube::Client,
    /// How `helm` reaches the same cluster.
    pub access: Access,
    calls: Arc<Calls>,
    /// Reads refused (403) that kedactl went on without: "could not check …".
    unchecked: Arc<std::sync::Mutex<Vec<String>>>,
}

#[derive(Default)]
struct Calls {
    read: AtomicUsize,
    mutating: AtomicUsize,
}

impl fmt::Debug for Kube {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kube")
            .field("access", &self.access)
            .finish()
    }
}

/// Where a kind lives in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

/// The kinds kedactl reads or writes.
pub fn resource(kind: &str) -> Option<Resource> {
    let r = |group, version, plural, namespaced| {
        Some(Resource {
            group,
            version,
            plural,
            namespaced,
        })
    };
    match kind {
        "Namespace" => r("", "v1", "namespaces", false),
        "ServiceAccount" => r("", "v1", "serviceaccounts", true),
        "ConfigMap" => r("", "v1", "configmaps", true),
        "Secret" => r("", "v1", "secrets", true),
        "Service" => r("", "v1", "services", true),
        "Pod" => r("", "v1", "pods", true),
        "Node" => r("", "v1", "nodes", false),
        "Event" => r("", "v1", "events", true),
        "Deployment" => r("apps", "v1", "deployments", true),
        "StatefulSet" => r("apps", "v1", "statefulsets", true),
        "DaemonSet" => r("apps", "v1", "daemonsets", true),
        "ReplicaSet" => r("apps", "v1", "replicasets", true),
        "Job" => r("batch", "v1", "jobs", true),
        "CronJob" => r("batch", "v1", "cronjobs", true),
        "NetworkPolicy" => r("networking.k8s.io", "v1", "networkpolicies", true),
        "HorizontalPodAutoscaler" => r("autoscaling", "v2", "horizontalpodautoscalers", true),
        "ScaledObject" => r("keda.sh", "v1alpha1", "scaledobjects", true),
        "ScaledJob" => r("keda.sh", "v1alpha1", "scaledjobs", true),
        "TriggerAuthentication" => r("keda.sh", "v1alpha1", "triggerauthentications", true),
        "ClusterTriggerAuthentication" => r(
            "keda.sh",
            "v1alpha1",
            "clustertriggerauthentications",
            false,
        ),
        "CloudEventSource" => r("keda.sh", "v1alpha1", "cloudeventsources", true),
        "ClusterCloudEventSource" => r("keda.sh", "v1alpha1", "clustercloudeventsources", false),
        "CustomResourceDefinition" => r(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            false,
        ),
        "APIService" => r("apiregistration.k8s.io", "v1", "apiservices", false),
        _ => None,
    }
}

/// `/apis/apps/v1/namespaces/security/deployments/q-read` and the like. `name` None: the
/// collection; `namespace` None on a namespaced kind: across all namespaces.
pub fn path(kind: &str, namespace: Option<&str>, name: Option<&str>) -> String {
    let r = resource(kind).unwrap_or_else(|| panic!("kedactl does not know the kind {kind}"));
    let mut p = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    if let (true, Some(ns)) = (r.namespaced, namespace) {
        p.push_str(&format!("/namespaces/{ns}"));
    }
    p.push('/');
    p.push_str(r.plural);
    if let Some(n) = name {
        p.push('/');
        p.push_str(n);
    }
    p
}

/// A failed Kubernetes call, with what kedactl was doing.
#[derive(Debug, thiserror::Error)]
pub struct KubeError {
    /// e.g. "apply Deployment security/q-read".
    pub doing: String,
    /// HTTP status when the API server answered.
    pub code: Option<u16>,
    pub reason: String,
    pub message: String,
}

impl KubeError {
    fn new(doing: String, e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => KubeError {
                doing,
                code: Some(s.code),
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            other => {
                let chain = crate::cloud::describe(&other);
                let message = match crate::cloud::network_failure(&chain, false) {
                    Some(why) => format!(
                        "the API server could not be reached: {why} ({chain}); check that it \
                         answers (`kubectl get --raw /healthz`), or raise --call-timeout / \
                         --connect-timeout for a slow link"
                    ),
                    None => chain,
                };
                KubeError {
                    doing,
                    code: None,
                    reason: String::new(),
                    message,
                }
            }
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code == Some(404)
    }

    pub fn is_conflict(&self) -> bool {
        self.code == Some(409)
    }

    /// 401/403: the caller reached the cluster but may not do this.
    pub fn is_denied(&self) -> bool {
        matches!(self.code, Some(401 | 403))
    }
}

/// The two causes of a 401 from EKS, named wherever one is reported: the token itself...
pub const UNAUTHORIZED_TOKEN: &str = "the token is invalid or expired (this machine's clock is \
     off, the token was signed more than 15 minutes ago, it was signed for another cluster name, \
     or a kubeconfig's exec plugin failed)";
/// ...or who signed it.
pub const UNAUTHORIZED_PRINCIPAL: &str =
    "the AWS principal has no access entry (or aws-auth mapping) on this cluster";

impl fmt::Display for KubeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.doing)?;
        match self.code {
            Some(401) => write!(
                f,
                "the API server did not accept kedactl's credentials (401 Unauthorized): \
                 {UNAUTHORIZED_TOKEN}, or {UNAUTHORIZED_PRINCIPAL}"
            ),
            Some(409) if self.reason == "Conflict" && self.message.contains("conflict") => {
                write!(
                    f,
                    "{}; kedactl does not take over fields another manager owns: pass \
                     --force-conflicts to take them",
                    self.message
                )
            }
            Some(code) => write!(f, "{} ({code} {})", self.message, self.reason),
            None => write!(f, "{}", self.message),
        }
    }
}

pub type Result<T> = std::result::Result<T, KubeError>;

pub use crate::observed::describe;

impl Kube {
    /// A client over any service (tests pass a `tower_test` API-server verifier).
    pub fn new(client: kube::Client, access: Access) -> Self {
        Kube {
            client,
            access,
            calls: Arc::default(),
            unchecked: Arc::default(),
        }
    }

    /// Record that a refused read left `what` unchecked, naming the verb and resource to grant.
    pub fn could_not_check(&self, what: &str, verb: &str, kind: &str, e: &KubeError) {
        let resource = resource(kind)
            .map(|r| match r.group {
                "" => r.plural.to_string(),
                g => format!("{}.{g}", r.plural),
            })
            .unwrap_or_else(|| kind.to_string());
        let note = format!(
            "could not check {what}: {verb} {resource} was refused ({} {}); grant it (docs/rbac.yaml)",
            e.code.unwrap_or_default(),
            e.reason
        );
        let mut notes = self.unchecked.lock().unwrap_or_else(|p| p.into_inner());
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// What `could_not_check` recorded so far.
    pub fn unchecked(&self) -> Vec<String> {
        self.unchecked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// (reads, changing calls) made so far.
    pub fn calls(&self) -> (usize, usize) {
        (
            self.calls.read.load(Ordering::Relaxed),
            self.calls.mutating.load(Ordering::Relaxed),
        )
    }

    async fn send(
        &self,
        method: Method,
        uri: String,
        content_type: Option<&str>,
        body: Vec<u8>,
        doing: impl Fn() -> String,
    ) -> Result<Value> {
        Ok(self
            .send_warned(method, uri, content_type, body, doing)
            .await?
            .0)
    }

    /// `send`, with the API server's `Warning` headers (RFC 7234 `299 - "text"`): deprecations,
    /// fields it dropped, Pod Security warnings. kube's `request` discards them.
    async fn send_warned(
        &self,
        method: Method,
        uri: String,
        content_type: Option<&str>,
        body: Vec<u8>,
        doing: impl Fn() -> String,
    ) -> Result<(Value, Vec<String>)> {
        let counter = if method == Method::GET {
            &self.calls.read
        } else {
            &self.calls.mutating
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let req = req.body(body).map_err(|e| KubeError {
            doing: doing(),
            code: None,
            reason: String::new(),
            message: e.to_string(),
        })?;
        let failed = |e: kube::Error| KubeError::new(doing(), e);
        let res = self
            .client
            .send(req.map(kube::client::Body::from))
            .await
            .map_err(failed)?;
        let warnings: Vec<String> = res
            .headers()
            .get_all(header::WARNING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(warning_text)
            .collect();
        let status = res.status();
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .map_err(|e| failed(kube::Error::Service(Box::new(e))))?
            .to_bytes();
        if status.is_client_error() || status.is_server_error() {
            // A Status object, or a plain-text body (`404 page not found`), as kube reads them.
            let s = serde_json::from_slice::<kube::core::Status>(&bytes).unwrap_or_else(|_| {
                kube::core::Status::failure(
                    String::from_utf8_lossy(&bytes).trim(),
                    "Failed to parse error data",
                )
                .with_code(status.as_u16())
            });
            return Err(failed(kube::Error::Api(s.boxed())));
        }
        let value =
            serde_json::from_slice(&bytes).map_err(|e| failed(kube::Error::SerdeError(e)))?;
        Ok((value, warnings))
    }

    /// The object, or None when it does not exist.
    pub async fn get(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>> {
        let uri = path(kind, namespace, Some(name));
        match self
            .send(Method::GET, uri, None, vec![], || {
                format!("read {}", describe(kind, namespace, name))
            })
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET of an API path discovery gave (`/apis`, a group version, a list); `doing` names it
    /// in errors.
    pub async fn get_path(&self, path: String, doing: &str) -> Result<Value> {
        self.send(Method::GET, path, None, vec![], || doing.to_string())
            .await
    }

    /// The items of a list (in one namespace, or all when None), filtered by a label selector.
    pub async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<Value>> {
        let mut uri = path(kind, namespace, None);
        if let Some(s) = selector {
            uri.push_str(&format!("?labelSelector={}", encode(s)));
        }
        let list = self
            .send(Method::GET, uri, None, vec![], || {
                format!(
                    "list {kind}s{}",
                    namespace.map(|n| format!(" in {n}")).unwrap_or_default()
                )
            })
            .await?;
        Ok(match list["items"].clone() {
            Value::Array(items) => items,
            _ => Vec::new(),
        })
    }

    /// Server-side apply with field manager `kedactl`; `force` takes over conflicting fields.
    pub async fn apply(&self, manifest: &Value, force: bool) -> Result<Value> {
        Ok(self.apply_warned(manifest, force).await?.0)
    }

    /// `apply`, with the API server's warnings. Strict field validation: a field the server
    /// does not know (a CRD older than the config assumes) is a 400 naming it, where the default
    /// (Warn) would drop it and only warn, so the setting would silently never take effect.
    pub async fn apply_warned(
        &self,
        manifest: &Value,
        force: bool,
    ) -> Result<(Value, Vec<String>)> {
        let (kind, ns, name) = crate::render::object_ref(manifest);
        let mut uri = format!(
            "{}?fieldManager={FIELD_MANAGER}&fieldValidation=Strict",
            path(&kind, ns.as_deref(), Some(&name))
        );
        if force {
            uri.push_str("&force=true");
        }
        let body = serde_json::to_vec(manifest).expect("a JSON value serializes");
        self.send_warned(
            Method::PATCH,
            uri,
            Some("application/apply-patch+yaml"),
            body,
            || format!("apply {}", describe(&kind, ns.as_deref(), &name)),
        )
        .await
    }

    /// A JSON merge patch (e.g. the restart annotation, as `kubectl rollout restart` does).
    pub async fn merge_patch(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        patch: &Value,
    ) -> Result<Value> {
        self.patch(kind, namespace, name, "application/merge-patch+json", patch)
            .await
    }

    /// An RFC 6902 JSON patch: its `test` operations make it apply only to what was read.
    pub async fn json_patch(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        ops: &Value,
    ) -> Result<Value> {
        self.patch(kind, namespace, name, "application/json-patch+json", ops)
            .await
    }

    /// A PATCH of `body` as `content_type`, with field manager `kedactl`.
    async fn patch(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        content_type: &'static str,
        body: &Value,
    ) -> Result<Value> {
        let uri = format!(
            "{}?fieldManager={FIELD_MANAGER}",
            path(kind, namespace, Some(name))
        );
        self.send(
            Method::PATCH,
            uri,
            Some(content_type),
            serde_json::to_vec(body).expect("a JSON value serializes"),
            || format!("patch {}", describe(kind, namespace, name)),
        )
        .await
    }

    /// Delete with foreground propagation (dependents go first), a namespace in the background
    /// as kubectl does (its controller empties it either way). False when already gone.
    pub async fn delete(&self, kind: &str, namespace: Option<&str>, name: &str) -> Result<bool> {
        self.delete_with(kind, namespace, name, vec![]).await
    }

    /// `delete`, of exactly the object `read`: its uid and resourceVersion go as
    /// `DeleteOptions.preconditions` in the body (kube-apiserver takes them only there), so an
    /// object replaced or changed since answers 409 Conflict instead of being deleted.
    pub async fn delete_read(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        read: &Value,
    ) -> Result<bool> {
        let body = serde_json::json!({
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "preconditions": {
                "uid": read["metadata"]["uid"],
                "resourceVersion": read["metadata"]["resourceVersion"],
            },
        });
        let body = serde_json::to_vec(&body).expect("a JSON value serializes");
        self.delete_with(kind, namespace, name, body).await
    }

    async fn delete_with(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        body: Vec<u8>,
    ) -> Result<bool> {
        let policy = if kind == "Namespace" {
            "Background"
        } else {
            "Foreground"
        };
        let uri = format!(
            "{}?propagationPolicy={policy}",
            path(kind, namespace, Some(name))
        );
        let content_type = (!body.is_empty()).then_some("application/json");
        match self
            .send(Method::DELETE, uri, content_type, body, || {
                format!("delete {}", describe(kind, namespace, name))
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Kube {
    /// The last `tail` lines of a container's log.
    pub async fn logs(&self, ns: &str, pod: &str, container: &str, tail: u32) -> Result<String> {
        let uri = format!(
            "{}/log?container={container}&tailLines={tail}",
            path("Pod", Some(ns), Some(pod))
        );
        self.calls.read.fetch_add(1, Ordering::Relaxed);
        let req = Request::get(uri).body(vec![]).expect("a valid request");
        self.client.request_text(req).await.map_err(|e| {
            KubeError::new(format!("read the log of {container} in pod {ns}/{pod}"), e)
        })
    }

    /// A Deployment's replicas through its `/scale` subresource (what KEDA's HPA sets).
    pub async fn replicas(&self, ns: &str, deployment: &str) -> Result<u32> {
        let uri = format!("{}/scale", path("Deployment", Some(ns), Some(deployment)));
        let scale = self
            .send(Method::GET, uri, None, vec![], || {
                format!("read the scale of Deployment {ns}/{deployment}")
            })
            .await?;
        Ok(scale["spec"]["replicas"].as_u64().unwrap_or(0) as u32)
    }

    /// Set a Deployment's replicas through `/scale`, as the HPA does.
    pub async fn set_replicas(&self, ns: &str, deployment: &str, replicas: u32) -> Result<()> {
        let uri = format!("{}/scale", path("Deployment", Some(ns), Some(deployment)));
        let body = serde_json::to_vec(&serde_json::json!({"spec": {"replicas": replicas}}))
            .expect("a JSON value serializes");
        self.send(
            Method::PATCH,
            uri,
            Some("application/merge-patch+json"),
            body,
            || format!("scale Deployment {ns}/{deployment} to {replicas}"),
        )
        .await?;
        Ok(())
    }

    /// The ScaledObjects and HPAs in `ns` that already scale this Deployment (`kind ns/name`).
    pub async fn controllers_of(&self, ns: &str, deployment: &str) -> Result<Vec<String>> {
        let targets = |items: Vec<Value>, kind: &str| -> Vec<String> {
            items
                .iter()
                .filter(|o| {
                    let t = &o["spec"]["scaleTargetRef"];
                    t["name"] == deployment && t["kind"].as_str().is_none_or(|k| k == "Deployment")
                })
                .map(|o| describe(kind, Some(ns), o["metadata"]["name"].as_str().unwrap_or("")))
                .collect()
        };
        // No KEDA CRDs (404) means no ScaledObjects.
        let scaled = match self.list("ScaledObject", Some(ns), None).await {
            Err(e) if e.is_not_found() => vec![],
            other => other?,
        };
        let hpas = self.list("HorizontalPodAutoscaler", Some(ns), None).await?;
        let mut out = targets(scaled, "ScaledObject");
        out.extend(targets(hpas, "HorizontalPodAutoscaler"));
        Ok(out)
    }
}

/// The text of one `Warning` header value: `299 - "unknown field \"spec.x\""` becomes
/// `unknown field "spec.x"` (k8s.io/apiserver's format: code 299, agent `-`, quoted text).
fn warning_text(v: &str) -> String {
    let quoted = v
        .strip_prefix("299")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('-'))
        .map(str::trim)
        .and_then(|q| q.strip_prefix('"'))
        .map(|q| q.strip_suffix('"').unwrap_or(q));
    match quoted {
        Some(q) => q.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => v.to_string(),
    }
}

/// Percent-encode a query value (label selectors hold `=`, `,` and `!`).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_names_both_causes() {
        let e = KubeError {
            doing: "list Deployments".into(),
            code: Some(401),
            reason: "Unauthorized".into(),
            message: "Unauthorized".into(),
        };
        let text = e.to_string();
        for cause in [
            "invalid or expired",
            "clock",
            "15 minutes",
            "another cluster name",
            "exec plugin",
            "no access entry",
        ] {
            assert!(text.contains(cause), "{cause}: {text}");
        }
    }

    #[test]
    fn warning_headers_are_unquoted() {
        assert_eq!(
            warning_text(r#"299 - "unknown field \"spec.initialCooldownPeriod\"""#),
            r#"unknown field "spec.initialCooldownPeriod""#
        );
        assert_eq!(warning_text("something else"), "something else");
    }

    #[test]
    fn paths_follow_the_api_conventions() {
        assert_eq!(
            path("Namespace", None, Some("security")),
            "/api/v1/namespaces/security"
        );
        assert_eq!(
            path("ServiceAccount", Some("security"), Some("sa")),
            "/api/v1/namespaces/security/serviceaccounts/sa"
        );
        assert_eq!(
            path("ScaledObject", Some("security"), Some("so")),
            "/apis/keda.sh/v1alpha1/namespaces/security/scaledobjects/so"
        );
        assert_eq!(path("Deployment", None, None), "/apis/apps/v1/deployments");
        assert_eq!(
            path(
                "CustomResourceDefinition",
                Some("ignored"),
                Some("scaledobjects.keda.sh")
            ),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/scaledobjects.keda.sh"
        );
        assert_eq!(
            encode("app=keda-operator,tier!=x"),
            "app%3Dkeda-operator%2Ctier%21%3Dx"
        );
    }
}
