#![allow(dead_code)]

//! An in-memory Kubernetes API server behind a `tower_test` mock, for the kedactl client. It is
//! meant to be as strict as kube-apiserver where kedactl's correctness depends on it:
//! - only registered kinds are served (built-in groups, and CRD kinds while their CRD exists);
//! - DELETE honours finalizers, `propagationPolicy` and owner references (the garbage
//!   collector), namespaces terminate, CRDs take their objects with them;
//! - server-side apply keeps `managedFields` per manager, reports conflicts, removes fields the
//!   applier dropped; merge patch never creates;
//! - label selectors have the full syntax.
//!
//! Controllers run on every request, before and after it ("a controller tick", settled until
//! nothing changes): the Deployment controller (pods with owner references, paused, scaled to
//! zero, or failing), the EKS Pod Identity webhook (injects the two variables into pods whose
//! service account has an association, optionally missing the first N pods), the KEDA operator
//! (finalizers), the garbage collector, the namespace and CRD finalizers, and the releases a fake
//! `helm` records in its log (see apiserver_helm.rs).

#[path = "apiserver_controllers.rs"]
mod controllers;
#[path = "apiserver_discovery.rs"]
mod discovery;
#[path = "apiserver_fields.rs"]
mod fields;
#[path = "apiserver_helm.rs"]
mod helm;
#[path = "apiserver_paths.rs"]
mod paths;
#[path = "apiserver_rbac.rs"]
pub mod rbac;
#[path = "apiserver_validation.rs"]
mod validation;

#[allow(unused_imports)]
pub use helm::{fake_helm, keda_deployment};
pub use paths::matches;
use paths::{Target, builtin, decode, is_builtin_group, parse};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// (plural, namespace, name)
pub type Key = (String, Option<String>, String);
/// An error answer: (status, Status object).
type Failure = (StatusCode, Value);

#[derive(Default)]
pub struct State {
    pub objects: BTreeMap<Key, Value>,
    /// `METHOD path?query` of every request, in order.
    pub log: Vec<String>,
    /// Service accounts (namespace, name) with a pod identity association.
    pub associations: Vec<(String, String)>,
    /// The webhook misses this many pod creations before it injects (its cache race).
    pub miss_injections: usize,
    /// Container logs by pod-name prefix (e.g. "keda-operator"): what `/log` returns.
    pub logs: BTreeMap<String, String>,
    /// Where the fake helm appends its arguments, one line per run.
    pub helm_log: Option<PathBuf>,
    /// Deployments (namespace, name) whose rollout never completes (ProgressDeadlineExceeded).
    pub failing: BTreeSet<(String, String)>,
    /// What helm and the controllers did that a test may want to read (uninstall order, hangs).
    pub events: Vec<String>,
    /// Requests whose path contains one of these answer 500 (an etcd or webhook failure).
    pub broken: Vec<String>,
    /// Objects (plural, name) someone deletes and creates again, same content, just before the
    /// next DELETE of them arrives (once each): a new uid.
    pub recreate_before_delete: Vec<(String, String)>,
    /// Objects (plural, name) whose dependents' finalizers are lifted just before the next
    /// PATCH of them arrives (once each), so the garbage collector finishes a foreground
    /// deletion in between: its `foregroundDeletion` finalizer goes.
    pub release_dependents_before_patch: Vec<(String, String)>,
    /// Objects (plural, name) whose controller updates their status just before the next DELETE
    /// of them arrives (once each): a new resourceVersion, same owner.
    pub touch_before_delete: Vec<(String, String)>,
    /// When set, requests are authorized against these rules (403 otherwise).
    pub rbac: Option<Vec<rbac::Rule>>,
    /// What the rules allowed and denied, (verb, group, resource).
    pub authorized: BTreeSet<rbac::Attributes>,
    pub denied: Vec<rbac::Attributes>,
    /// Objects someone creates right after a replayed `helm uninstall` (in the window before
    /// kedactl's next request).
    pub create_after_uninstall: Vec<Value>,
    /// Requests whose path contains `.0` are answered with the warning `.1` too (a deprecation,
    /// a Pod Security `warn` label: kube-apiserver warns and accepts).
    pub warn_on: Vec<(String, String)>,
    /// `Warning` headers of the request being answered (drained into its response).
    warnings: Vec<String>,
    /// Requests an object whose owners are all gone outlives them before the garbage
    /// collector deletes it (0: at once). The real one works from informer events, seconds
    /// behind the delete of the owner.
    pub gc_lag: u64,
    /// Requests answered so far, and when each orphan was first seen (for `gc_lag`).
    requests: u64,
    orphaned_at: BTreeMap<Key, u64>,
    helm_lines_seen: usize,
    counter: u64,
}

#[derive(Clone, Default)]
pub struct ApiServer(pub Arc<Mutex<State>>);

impl ApiServer {
    /// A kube client whose requests this server answers (on a spawned task).
    pub fn client(&self) -> kube::Client {
        let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let me = self.clone();
        tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let (parts, body) = req.into_parts();
                let body = body.collect_bytes().await.unwrap_or_default().to_vec();
                let content_type = parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                let (status, value, warnings) =
                    me.handle(&parts.method, &parts.uri, content_type, &body);
                // A log, or kube-apiserver's plain-text `404 page not found`.
                let content_type = if value.is_string() {
                    "text/plain; charset=utf-8"
                } else {
                    "application/json"
                };
                let mut resp = Response::builder()
                    .status(status)
                    .header("content-type", content_type);
                for w in warnings {
                    // k8s.io/apiserver's warning recorder: code 299, agent "-", quoted text.
                    let quoted = w.replace('\\', "\\\\").replace('"', "\\\"");
                    resp = resp.header("warning", format!("299 - \"{quoted}\""));
                }
                let resp = resp.body(Body::from(body_bytes(&value))).unwrap();
                send.send_response(resp);
            }
        });
        kube::Client::new(svc, "default")
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// Put an object in place (as if someone else created it, with no field manager), then let
    /// the controllers react.
    pub fn seed(&self, obj: Value) {
        let mut s = self.state();
        let key = key_of(&obj);
        let before = s.objects.get(&key).cloned();
        let obj = s.stamp(obj, before.as_ref());
        s.objects.insert(key, obj);
        s.settle();
        s.write_helm_state();
    }

    pub fn get(&self, plural: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        self.state()
            .objects
            .get(&(plural.to_string(), ns.map(str::to_string), name.to_string()))
            .cloned()
    }

    /// Every object carrying `kedactl.io/stack=<stack>`.
    pub fn labelled(&self, stack: &str) -> Vec<String> {
        self.state()
            .objects
            .iter()
            .filter(|(_, o)| o["metadata"]["labels"]["kedactl.io/stack"] == stack)
            .map(|((p, ns, n), _)| format!("{p} {}/{n}", ns.as_deref().unwrap_or("-")))
            .collect()
    }

    pub fn requests(&self) -> Vec<String> {
        self.state().log.clone()
    }

    /// Answer one request given as text (the HTTP front end), without a content type.
    pub fn respond(&self, method: &str, target: &str, body: &[u8]) -> (StatusCode, Value) {
        self.respond_with(method, target, None, body)
    }

    /// Answer one request given as text, with its `Content-Type` (PATCH needs one).
    pub fn respond_with(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (StatusCode, Value) {
        self.respond_warned(method, target, content_type, body)
            .map(|(s, v, _)| (s, v))
            .unwrap()
    }

    /// `respond_with`, with the `Warning` header texts of the answer.
    pub fn respond_warned(
        &self,
        method: &str,
        target: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<(StatusCode, Value, Vec<String>)> {
        let method = Method::from_bytes(method.as_bytes()).ok()?;
        Some(self.handle(&method, &target.parse().ok()?, content_type, body))
    }

    fn handle(
        &self,
        method: &Method,
        uri: &http::Uri,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (StatusCode, Value, Vec<String>) {
        let mut s = self.state();
        s.log.push(format!("{method} {uri}"));
        if s.broken.iter().any(|b| uri.path().contains(b.as_str())) {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500,
                       "reason": "InternalError", "message": "Internal error occurred: injected"}),
                vec![],
            );
        }
        if let Err((code, value)) = s.authorize(method, uri.path()) {
            return (code, value, vec![]);
        }
        if method == Method::PATCH {
            s.release_dependents(uri.path());
        }
        s.settle();
        s.warnings.clear();
        let (code, value) = s
            .route(method, uri, content_type, body)
            .unwrap_or_else(|e| e);
        let mut warnings = std::mem::take(&mut s.warnings);
        for (on, text) in &s.warn_on {
            if uri.path().contains(on.as_str()) {
                warnings.push(text.clone());
            }
        }
        s.settle();
        s.write_helm_state();
        (code, value, warnings)
    }
}

impl State {
    fn route(
        &mut self,
        method: &Method,
        uri: &http::Uri,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(StatusCode, Value), Failure> {
        if method == Method::GET
            && let Some(answer) = self.discovery(uri.path())
        {
            return answer;
        }
        // Unknown paths and kinds: kube-apiserver's NotFound handler answers a Status.
        let t = parse(uri.path()).ok_or_else(not_served)?;
        self.served(&t)?;
        let query = uri.query().unwrap_or("");
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .map(decode)
        };
        let key = |name: &str| (t.plural.clone(), t.ns.clone(), name.to_string());
        match (method.clone(), t.name.as_deref(), t.subresource.as_deref()) {
            (Method::GET, Some(pod), Some("log")) => {
                let text = self
                    .logs
                    .iter()
                    .find(|(k, _)| pod.starts_with(k.as_str()))
                    .map(|(_, v)| v.clone());
                Ok((StatusCode::OK, Value::String(text.unwrap_or_default())))
            }
            (_, Some(name), Some("scale")) if t.plural == "deployments" => self.scale(
                method,
                &key(name),
                content_type,
                &param("fieldManager"),
                body,
            ),
            (_, _, Some(_)) => Err(not_served()),
            (Method::GET, None, None) => {
                let selector = param("labelSelector");
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|((p, n, _), o)| {
                        p == &t.plural
                            && (t.ns.is_none() || n == &t.ns)
                            && selector.as_deref().is_none_or(|sel| matches(o, sel))
                    })
                    .map(|(_, o)| o.clone())
                    .collect();
                Ok((
                    StatusCode::OK,
                    json!({"kind": "List", "apiVersion": "v1",
                           "metadata": {"resourceVersion": self.counter.to_string()}, "items": items}),
                ))
            }
            (Method::GET, Some(name), None) => match self.objects.get(&key(name)) {
                Some(o) => Ok((StatusCode::OK, o.clone())),
                None => Err(not_found(&t, name)),
            },
            (Method::PATCH, Some(name), None) => {
                let manager = param("fieldManager");
                let force = param("force").as_deref() == Some("true");
                let body = self.checked_body(&t, content_type, &param("fieldValidation"), body)?;
                self.patch(&t, name, content_type, manager, force, &body)
            }
            (Method::DELETE, Some(name), None) => {
                let k = key(name);
                self.before_delete(&k);
                self.preconditions(&t, &k, body)?;
                if t.plural == "namespaces" {
                    return self.delete_namespace(&t, name);
                }
                let policy = param("propagationPolicy").unwrap_or_default();
                match self.delete_object(&k, &policy) {
                    Some(o) => Ok((StatusCode::OK, o)),
                    None => Err(not_found(&t, name)),
                }
            }
            _ => Err(status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )),
        }
    }

    /// Built-in kinds are always served; a CRD kind only while its CRD `<plural>.<group>`
    /// exists. A custom group/resource nobody registered goes past apiextensions' crdHandler to
    /// the end of the delegation chain, whose NotFound handler is Go's `http.NotFound`: plain
    /// text `404 page not found` (k8s.io/apiserver `util/notfoundhandler`), not a Status. An
    /// unknown resource of a built-in group answers a Status.
    fn served(&self, t: &Target) -> Result<(), Failure> {
        if let Some(namespaced) = builtin(&t.group, &t.plural) {
            // A cluster-scoped kind has no namespaced path.
            return if t.ns.is_some() && !namespaced {
                Err(not_served())
            } else {
                Ok(())
            };
        }
        if is_builtin_group(&t.group) {
            return Err(not_served());
        }
        let crd = (
            "customresourcedefinitions".to_string(),
            None,
            format!("{}.{}", t.plural, t.group),
        );
        if self.objects.contains_key(&crd) {
            Ok(())
        } else {
            Err((
                StatusCode::NOT_FOUND,
                Value::String("404 page not found\n".into()),
            ))
        }
    }

    fn patch(
        &mut self,
        t: &Target,
        name: &str,
        content_type: Option<&str>,
        manager: Option<String>,
        force: bool,
        body: &[u8],
    ) -> Result<(StatusCode, Value), Failure> {
        let ct = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        let apply = match ct {
            "application/apply-patch+yaml" => true,
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
            "application/json-patch+json" => return self.json_patch(t, name, manager, body),
            other => {
                return Err(status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
                    ),
                ));
            }
        };
        let Ok(patch) = serde_json::from_slice::<Value>(body) else {
            return Err(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "the body is not JSON (this fake reads JSON only)",
            ));
        };
        let key = (t.plural.clone(), t.ns.clone(), name.to_string());
        let existing = self.objects.get(&key).cloned();
        let what = format!(
            "{} \"{name}\"",
            kind_of(existing.as_ref().unwrap_or(&patch), t)
        );
        if apply && manager.is_none() {
            // metav1.PatchOptions: fieldManager is required for apply requests.
            return Err(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
        let manager = manager.unwrap_or_else(|| "unknown".into());
        let Some(before) = existing else {
            // Only apply creates (a merge or strategic patch of a missing object is 404).
            if !apply {
                return Err(not_found(t, name));
            }
            if patch["metadata"]["name"].as_str() != Some(name) {
                return Err(status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!(
                        "the name of the object ({}) does not match the name on the URL ({name})",
                        patch["metadata"]["name"].as_str().unwrap_or("")
                    ),
                ));
            }
            self.may_create(t, name)?;
            let mut obj = fields::apply(None, &patch, &manager, force).map_err(conflicts)?;
            if let Some(ns) = &t.ns {
                obj["metadata"]["namespace"] = json!(ns);
            }
            let obj = self.stamp(obj, None);
            self.objects.insert(key, obj.clone());
            return Ok((StatusCode::CREATED, obj));
        };
        let obj = if apply {
            fields::apply(Some(&before), &patch, &manager, force).map_err(conflicts)?
        } else {
            fields::update(Some(&before), &patch, &manager, None)
        };
        // apps/v1 ValidateDeploymentUpdate (and the other workload kinds'): the selector is
        // immutable.
        if matches!(
            t.plural.as_str(),
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        ) && obj["spec"]["selector"] != before["spec"]["selector"]
        {
            return Err(status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                &format!(
                    "{what} is invalid: spec.selector: Invalid value: {}: field is immutable",
                    obj["spec"]["selector"]
                ),
            ));
        }
        // ValidateObjectMetaUpdate (apimachinery): on an object being deleted, no finalizer may
        // be added (ValidateNoNewFinalizers); other changes are allowed, deletionTimestamp stays.
        if !before["metadata"]["deletionTimestamp"].is_null() {
            let old = finalizers(&before);
            let new: Vec<String> = finalizers(&obj)
                .into_iter()
                .filter(|f| !old.contains(f))
                .collect();
            if !new.is_empty() {
                return Err(status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid",
                    &format!(
                        "{what} is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                        new.iter()
                            .map(|f| format!("{f:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let obj = self.stamp(obj, Some(&before));
        self.objects.insert(key, obj.clone());
        Ok((StatusCode::OK, obj))
    }

    /// An apply or merge patch body with the fields its kind does not declare dropped (their
    /// warnings recorded), or the Strict failure; other bodies as they are.
    fn checked_body(
        &mut self,
        t: &Target,
        content_type: Option<&str>,
        directive: &Option<String>,
        body: &[u8],
    ) -> Result<Vec<u8>, Failure> {
        let ct = content_type.unwrap_or("").split(';').next().unwrap_or("");
        if !matches!(
            ct.trim(),
            "application/apply-patch+yaml" | "application/merge-patch+json"
        ) {
            return Ok(body.to_vec());
        }
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Ok(body.to_vec());
        };
        let (v, warnings) = self.validate_fields(t, &v, directive.as_deref())?;
        self.warnings.extend(warnings);
        Ok(serde_json::to_vec(&v).unwrap())
    }

    /// The injected change of `release_dependents_before_patch`.
    fn release_dependents(&mut self, path: &str) {
        let Some(t) = parse(path) else { return };
        let Some(name) = t.name.clone() else { return };
        let pair = (t.plural.clone(), name.clone());
        let Some(i) = self
            .release_dependents_before_patch
            .iter()
            .position(|p| *p == pair)
        else {
            return;
        };
        self.release_dependents_before_patch.remove(i);
        let Some(uid) = self
            .objects
            .get(&(t.plural, t.ns, name))
            .map(|o| o["metadata"]["uid"].clone())
        else {
            return;
        };
        let deps: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["uid"] == uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in deps {
            let mut o = self.objects[&k].clone();
            o["metadata"]["finalizers"] = json!([]);
            self.put(k, o);
        }
    }

    /// The injected changes of `recreate_before_delete` and `touch_before_delete`.
    fn before_delete(&mut self, key: &Key) {
        let pair = (key.0.clone(), key.2.clone());
        if let Some(i) = self.recreate_before_delete.iter().position(|p| *p == pair)
            && let Some(mut o) = self.objects.get(key).cloned()
        {
            self.recreate_before_delete.remove(i);
            for f in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
            ] {
                o["metadata"].as_object_mut().map(|m| m.remove(f));
            }
            let o = self.stamp(o, None);
            self.objects.insert(key.clone(), o);
        }
        if let Some(i) = self.touch_before_delete.iter().position(|p| *p == pair)
            && let Some(mut o) = self.objects.get(key).cloned()
        {
            self.touch_before_delete.remove(i);
            o["status"]["observedGeneration"] = json!(self.counter);
            self.put(key.clone(), o);
        }
    }

    /// `DeleteOptions.preconditions` from the body (storage `Preconditions.Check`, which the
    /// registry turns into 409 Conflict): the object must still have this uid and
    /// resourceVersion.
    fn preconditions(&self, t: &Target, key: &Key, body: &[u8]) -> Result<(), Failure> {
        let Ok(options) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        let Some(o) = self.objects.get(key) else {
            return Ok(());
        };
        let p = &options["preconditions"];
        for (field, path) in [("UID", "uid"), ("ResourceVersion", "resourceVersion")] {
            if let Some(want) = p[path].as_str()
                && o["metadata"][path].as_str() != Some(want)
            {
                return Err(status(
                    StatusCode::CONFLICT,
                    "Conflict",
                    &format!(
                        "Operation cannot be fulfilled on {} \"{}\": Precondition failed: {field} in precondition: {want}, {field} in object meta: {}",
                        resource(t),
                        key.2,
                        o["metadata"][path].as_str().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An RFC 6902 JSON patch (add, remove, replace, test) of an existing object; a failed
    /// `test` or a path that is not there is 422, as kube-apiserver answers a patch it cannot
    /// apply. The result is stored as a merge of the whole object would be (with the same
    /// finalizer rule).
    fn json_patch(
        &mut self,
        t: &Target,
        name: &str,
        manager: Option<String>,
        body: &[u8],
    ) -> Result<(StatusCode, Value), Failure> {
        let key = (t.plural.clone(), t.ns.clone(), name.to_string());
        let Some(before) = self.objects.get(&key).cloned() else {
            return Err(not_found(t, name));
        };
        let ops: Value = serde_json::from_slice(body)
            .map_err(|e| status(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string()))?;
        let mut after = before.clone();
        for op in ops.as_array().into_iter().flatten() {
            apply_op(&mut after, op).map_err(|why| {
                status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "UnprocessableEntity",
                    &why,
                )
            })?;
        }
        let body = serde_json::to_vec(&after).unwrap();
        self.patch(
            t,
            name,
            Some("application/merge-patch+json"),
            manager,
            false,
            &body,
        )
    }

    /// Creation rules: the namespace must exist (404) and not be terminating (403, the
    /// NamespaceLifecycle admission plugin); a CRD kind's CRD must not be terminating (405,
    /// apiextensions-apiserver's crdHandler).
    fn may_create(&self, t: &Target, name: &str) -> Result<(), Failure> {
        if let Some(ns) = &t.ns {
            let Some(n) = self.objects.get(&("namespaces".into(), None, ns.clone())) else {
                return Err(status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("namespaces \"{ns}\" not found"),
                ));
            };
            if !n["metadata"]["deletionTimestamp"].is_null() {
                return Err(status(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    // NewForbidden names the group-resource: `configmaps "x"`, `deployments.apps "x"`.
                    &format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        resource(t)
                    ),
                ));
            }
        }
        if builtin(&t.group, &t.plural).is_none() {
            let crd = (
                "customresourcedefinitions".to_string(),
                None,
                format!("{}.{}", t.plural, t.group),
            );
            if self.objects[&crd]["metadata"]["deletionTimestamp"].is_string() {
                return Err(status(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "create not allowed while custom resource definition is terminating",
                ));
            }
        }
        Ok(())
    }

    /// Namespace deletion (pkg/registry/core/namespace/storage, REST.Delete): the first DELETE
    /// sets deletionTimestamp and phase Terminating; later ones, while spec.finalizers remain,
    /// answer the namespace unchanged (200; Kubernetes before 1.8 answered 409 Conflict "The
    /// system is ensuring all content is removed…"). The namespace controller empties it
    /// (controllers::namespaces).
    fn delete_namespace(&mut self, t: &Target, name: &str) -> Result<(StatusCode, Value), Failure> {
        let key = ("namespaces".to_string(), None, name.to_string());
        let Some(mut n) = self.objects.get(&key).cloned() else {
            return Err(not_found(t, name));
        };
        if !n["metadata"]["deletionTimestamp"].is_null() {
            return Ok((StatusCode::OK, n));
        }
        n["metadata"]["deletionTimestamp"] = json!(self.now());
        n["status"]["phase"] = json!("Terminating");
        self.put(key, n.clone());
        Ok((StatusCode::OK, n))
    }

    /// DELETE of one object (the generic registry store + GC finalizers): with finalizers it is
    /// only marked (deletionTimestamp); Foreground adds `foregroundDeletion`, Orphan `orphan`;
    /// otherwise it goes now and the garbage collector removes its dependents (Background).
    /// None when it does not exist.
    fn delete_object(&mut self, key: &Key, policy: &str) -> Option<Value> {
        let mut obj = self.objects.get(key)?.clone();
        if !obj["metadata"]["deletionTimestamp"].is_null() {
            return Some(obj);
        }
        let mut fins = finalizers(&obj);
        match policy {
            "Foreground" => fins.push("foregroundDeletion".into()),
            "Orphan" => fins.push("orphan".into()),
            _ => {}
        }
        if fins.is_empty() {
            self.counter += 1;
            return self.objects.remove(key);
        }
        obj["metadata"]["finalizers"] = json!(fins);
        obj["metadata"]["deletionTimestamp"] = json!(self.now());
        self.put(key.clone(), obj.clone());
        Some(obj)
    }

    /// Store a changed object with a new resourceVersion.
    fn put(&mut self, key: Key, mut obj: Value) {
        self.counter += 1;
        obj["metadata"]["resourceVersion"] = json!(self.counter.to_string());
        self.objects.insert(key, obj);
    }

    /// A timestamp that moves with the server's counter.
    fn now(&self) -> String {
        format!(
            "2026-11-24T{:02}:{:02}:{:02}Z",
            8 + self.counter / 3600 % 12,
            self.counter / 60 % 60,
            self.counter % 60
        )
    }

    /// Server-set metadata: uid, creationTimestamp, resourceVersion, generation (bumped on
    /// spec changes); on creation, what the registry adds (namespace phase and finalizer, the
    /// CRD cleanup finalizer and Established condition).
    fn stamp(&mut self, mut obj: Value, before: Option<&Value>) -> Value {
        self.counter += 1;
        let generation = before.map_or(0, |b| b["metadata"]["generation"].as_u64().unwrap_or(1));
        let bump = before.is_none_or(|b| b["spec"] != obj["spec"]);
        let now = self.now();
        let m = &mut obj["metadata"];
        if m["uid"].is_null() {
            m["uid"] = json!(format!("uid-{}", self.counter));
        }
        if m["creationTimestamp"].is_null() {
            m["creationTimestamp"] = json!(now);
        }
        m["resourceVersion"] = json!(self.counter.to_string());
        m["generation"] = json!(if bump { generation + 1 } else { generation });
        if before.is_none() {
            match obj["kind"].as_str() {
                Some("Namespace") => {
                    obj["spec"]["finalizers"] = json!(["kubernetes"]);
                    obj["status"]["phase"] = json!("Active");
                }
                Some("CustomResourceDefinition") => {
                    let mut f = finalizers(&obj);
                    f.push("customresourcecleanup.apiextensions.k8s.io".into());
                    obj["metadata"]["finalizers"] = json!(f);
                    obj["status"]["conditions"] =
                        json!([{"type": "Established", "status": "True"}]);
                }
                _ => {}
            }
        }
        obj
    }
}

/// The fields (`.spec.replicas` style) `manager` owns in an object's managedFields.
pub fn owned(obj: &Value, manager: &str) -> Vec<String> {
    fields::owned(obj, manager)
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

fn conflicts(c: fields::Conflicts) -> Failure {
    let mut s = status(StatusCode::CONFLICT, "Conflict", &c.message());
    s.1["details"] = json!({"causes": c.causes()});
    s
}

/// "Deployment.apps" style (a qualified kind, as NewInvalid names it): the object's kind, or
/// the plural.
fn kind_of(obj: &Value, t: &Target) -> String {
    let kind = obj["kind"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| t.plural.clone());
    if t.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", t.group)
    }
}

fn not_served() -> Failure {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// `deployments.apps`, `configmaps`: a group-resource as errors name it.
fn resource(t: &Target) -> String {
    if t.group.is_empty() {
        t.plural.clone()
    } else {
        format!("{}.{}", t.plural, t.group)
    }
}

/// `deployments.apps "x" not found`, as the registry words it.
fn not_found(t: &Target, name: &str) -> Failure {
    let mut s = status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{} \"{name}\" not found", resource(t)),
    );
    s.1["details"] = json!({"name": name, "group": t.group, "kind": t.plural});
    s
}

pub fn key_of(obj: &Value) -> Key {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let plural = match kind {
        "Endpoints" => "endpoints".to_string(),
        "NetworkPolicy" => "networkpolicies".to_string(),
        "Ingress" => "ingresses".to_string(),
        other => format!("{}s", other.to_lowercase()),
    };
    (
        plural,
        obj["metadata"]["namespace"].as_str().map(str::to_string),
        obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The response body: JSON, or the raw text of a log.
pub fn body_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    }
}

/// JSON merge patch (RFC 7386).
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Failure {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

/// One JSON patch operation on `doc` (JSON pointer paths; `-` appends).
fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let path = op["path"].as_str().ok_or("an operation without a path")?;
    let (parent, last) = path.rsplit_once('/').ok_or("a path without '/'")?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let missing = || {
        format!(
            "the server rejected our request due to an error in our request: path {path} does not exist"
        )
    };
    let holder = doc.pointer_mut(parent).ok_or_else(missing)?;
    match op["op"].as_str() {
        Some("test") => {
            let v = match holder {
                Value::Array(a) => last.parse::<usize>().ok().and_then(|i| a.get(i)),
                Value::Object(m) => m.get(&last),
                _ => None,
            };
            if v != Some(&op["value"]) {
                return Err(format!(
                    "the server rejected our request due to an error in our request: testing value {path} failed"
                ));
            }
        }
        Some("remove") => match holder {
            Value::Array(a) => {
                let i = last
                    .parse::<usize>()
                    .ok()
                    .filter(|i| *i < a.len())
                    .ok_or_else(missing)?;
                a.remove(i);
            }
            Value::Object(m) => {
                m.remove(&last).ok_or_else(missing)?;
            }
            _ => return Err(missing()),
        },
        Some("add" | "replace") => match holder {
            Value::Array(a) if last == "-" => a.push(op["value"].clone()),
            Value::Array(a) => {
                let i = last.parse::<usize>().map_err(|_| missing())?;
                if op["op"] == "replace" {
                    *a.get_mut(i).ok_or_else(missing)? = op["value"].clone();
                } else if i <= a.len() {
                    a.insert(i, op["value"].clone());
                } else {
                    return Err(missing());
                }
            }
            Value::Object(m) => {
                m.insert(last, op["value"].clone());
            }
            _ => return Err(missing()),
        },
        other => return Err(format!("unknown JSON patch operation {other:?}")),
    }
    Ok(())
}
