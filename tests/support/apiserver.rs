#![allow(dead_code)]

//! An in-memory Kubernetes API server behind a `tower_test` mock, for the kedactl client: it keeps
//! objects, answers GET/LIST (label selectors), server-side apply, merge patch and DELETE with
//! the API's status codes, and plays the parts kedactl depends on — the Deployment controller
//! (a rollout creates a new pod and completes), the EKS Pod Identity webhook (injects the two
//! variables into pods whose service account has an association, optionally missing the first
//! N pods), and the releases a fake `helm` records in its log.

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// (plural, namespace, name)
type Key = (String, Option<String>, String);

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
                let (status, value) = me.handle(&parts.method, &parts.uri, &body);
                let resp = Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Body::from(body_bytes(&value)))
                    .unwrap();
                send.send_response(resp);
            }
        });
        kube::Client::new(svc, "default")
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// Put an object in place (as if someone else created it).
    pub fn seed(&self, obj: Value) {
        let mut s = self.state();
        let key = key_of(&obj);
        let obj = s.stamp(obj, None);
        s.objects.insert(key, obj);
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

    /// Answer one request given as text (the HTTP front end).
    pub fn respond(&self, method: &str, target: &str, body: &[u8]) -> (StatusCode, Value) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        self.handle(&method, &target.parse().unwrap(), body)
    }

    fn handle(&self, method: &Method, uri: &http::Uri, body: &[u8]) -> (StatusCode, Value) {
        let mut s = self.state();
        s.log.push(format!("{method} {uri}"));
        s.sync_helm();
        let path = uri.path();
        if let Some(base) = path.strip_suffix("/log") {
            let pod = base.rsplit('/').next().unwrap_or_default();
            let text = s
                .logs
                .iter()
                .find(|(k, _)| pod.starts_with(k.as_str()))
                .map(|(_, v)| v.clone());
            return (StatusCode::OK, Value::String(text.unwrap_or_default()));
        }
        if let Some(base) = path.strip_suffix("/scale") {
            return s.scale(method, base, body);
        }
        let Some((plural, ns, name)) = parse(path) else {
            return status(StatusCode::NOT_FOUND, "NotFound", "no such path");
        };
        let query = uri.query().unwrap_or("");
        match (method.clone(), name) {
            (Method::GET, None) => {
                let selector = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("labelSelector="))
                    .map(decode);
                let items: Vec<Value> = s
                    .objects
                    .iter()
                    .filter(|((p, n, _), o)| {
                        p == &plural
                            && (ns.is_none() || n == &ns)
                            && selector.as_deref().is_none_or(|sel| matches(o, sel))
                    })
                    .map(|(_, o)| o.clone())
                    .collect();
                (StatusCode::OK, json!({"kind": "List", "items": items}))
            }
            (Method::GET, Some(name)) => match s.objects.get(&(plural, ns, name.clone())) {
                Some(o) => (StatusCode::OK, o.clone()),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("\"{name}\" not found"),
                ),
            },
            (Method::PATCH, Some(name)) => {
                let Ok(patch) = serde_json::from_slice::<Value>(body) else {
                    return status(StatusCode::BAD_REQUEST, "BadRequest", "body is not JSON");
                };
                let key = (plural.clone(), ns.clone(), name.clone());
                let apply = query.contains("fieldManager=");
                let existing = s.objects.get(&key).cloned();
                if existing.is_none() && !apply {
                    return status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("\"{name}\" not found"),
                    );
                }
                if let Some(ns) = &ns
                    && !s
                        .objects
                        .contains_key(&("namespaces".into(), None, ns.clone()))
                {
                    return status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("namespaces \"{ns}\" not found"),
                    );
                }
                let mut obj = existing.clone().unwrap_or_else(|| json!({}));
                merge(&mut obj, &patch);
                let changed = existing.as_ref().is_none_or(|e| e["spec"] != obj["spec"]);
                let obj = s.stamp(obj, existing.as_ref());
                let obj = if plural == "deployments" && changed {
                    s.roll_out(obj)
                } else {
                    obj
                };
                s.objects.insert(key, obj.clone());
                (StatusCode::OK, obj)
            }
            (Method::DELETE, Some(name)) => {
                let key = (plural.clone(), ns.clone(), name.clone());
                match s.objects.remove(&key) {
                    None => status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("\"{name}\" not found"),
                    ),
                    Some(o) => {
                        if plural == "namespaces" {
                            s.objects
                                .retain(|(_, n, _), _| n.as_deref() != Some(name.as_str()));
                        }
                        if plural == "deployments" {
                            s.objects.retain(|(p, _, _), pod| {
                                !(p == "pods" && pod["metadata"]["labels"]["deployment"] == name)
                            });
                        }
                        (StatusCode::OK, o)
                    }
                }
            }
            _ => status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "not supported",
            ),
        }
    }
}

impl State {
    /// The `/scale` subresource of a Deployment: read or set `spec.replicas`.
    fn scale(&mut self, method: &Method, base: &str, body: &[u8]) -> (StatusCode, Value) {
        let Some((plural, ns, Some(name))) = parse(base) else {
            return status(StatusCode::NOT_FOUND, "NotFound", "no such path");
        };
        let key = (plural, ns, name.clone());
        let Some(mut d) = self.objects.get(&key).cloned() else {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("deployments.apps \"{name}\" not found"),
            );
        };
        if method == Method::PATCH {
            let patch: Value = serde_json::from_slice(body).unwrap_or_default();
            d["spec"]["replicas"] = patch["spec"]["replicas"].clone();
            let before = self.objects.get(&key).cloned();
            let stamped = self.stamp(d, before.as_ref());
            d = self.roll_out(stamped);
            self.objects.insert(key, d.clone());
        }
        let r = d["spec"]["replicas"].as_u64().unwrap_or(1);
        (
            StatusCode::OK,
            json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": name}, "spec": {"replicas": r}, "status": {"replicas": r}}),
        )
    }

    /// Server-set metadata: uid, resourceVersion, generation (bumped on spec changes).
    fn stamp(&mut self, mut obj: Value, before: Option<&Value>) -> Value {
        self.counter += 1;
        let generation = before.map_or(0, |b| b["metadata"]["generation"].as_u64().unwrap_or(1));
        let bump = before.is_none_or(|b| b["spec"] != obj["spec"]);
        let m = &mut obj["metadata"];
        if m["uid"].is_null() {
            m["uid"] = json!(format!("uid-{}", self.counter));
        }
        m["resourceVersion"] = json!(self.counter.to_string());
        m["generation"] = json!(if bump { generation + 1 } else { generation });
        obj
    }

    /// The Deployment controller and the pod identity webhook: replace the pods, finish.
    fn roll_out(&mut self, mut d: Value) -> Value {
        let ns = d["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = d["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.objects.retain(|(p, n, _), pod| {
            !(p == "pods"
                && n.as_deref() == Some(ns.as_str())
                && pod["metadata"]["labels"]["deployment"] == name)
        });
        let replicas = d["spec"]["replicas"].as_u64().unwrap_or(1);
        let template = d["spec"]["template"].clone();
        let sa = template["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        for i in 0..replicas {
            self.counter += 1;
            let mut labels = template["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            labels["deployment"] = json!(name);
            let mut spec = template["spec"].clone();
            let inject = self.associations.contains(&(ns.clone(), sa.clone()));
            let inject = inject && {
                if self.miss_injections > 0 {
                    self.miss_injections -= 1;
                    false
                } else {
                    true
                }
            };
            if inject && let Some(cs) = spec["containers"].as_array_mut() {
                for c in cs {
                    let env = c["env"].as_array().cloned().unwrap_or_default();
                    let mut env = env;
                    env.push(json!({"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"}));
                    env.push(json!({"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}));
                    c["env"] = json!(env);
                }
            }
            let pod_name = format!("{name}-{}-{i}", self.counter);
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "status": {"phase": "Running"},
                "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                              "creationTimestamp": format!("2026-11-24T08:{:02}:{:02}Z", self.counter / 60 % 60, self.counter % 60)},
                "spec": spec,
            });
            let mut pod = pod;
            pod["spec"]["nodeName"] = json!("node-1");
            self.objects
                .insert(("pods".into(), Some(ns.clone()), pod_name), pod);
        }
        let generation = d["metadata"]["generation"].clone();
        d["status"] = json!({"observedGeneration": generation, "replicas": replicas,
                             "updatedReplicas": replicas, "availableReplicas": replicas});
        d
    }

    /// What the KEDA chart creates: its CRDs, the operator and the metrics server.
    pub fn install_keda(&mut self, ns: &str, operator_sa: &str, version: &str) {
        let api = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
            "status": {"conditions": [{"type": "Available", "status": "True"}]}});
        let api = self.stamp(api, None);
        self.objects.insert(
            (
                "apiservices".into(),
                None,
                "v1beta1.external.metrics.k8s.io".into(),
            ),
            api,
        );
        for crd in ["scaledobjects", "scaledjobs", "triggerauthentications"] {
            let name = format!("{crd}.keda.sh");
            let c = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name}});
            let c = self.stamp(c, None);
            self.objects
                .insert(("customresourcedefinitions".into(), None, name), c);
        }
        for (name, account) in [
            ("keda-operator", operator_sa),
            ("keda-operator-metrics-apiserver", "keda-metrics-server"),
        ] {
            let d = keda_deployment(ns, name, account, version);
            let d = self.stamp(d, None);
            let d = self.roll_out(d);
            self.objects
                .insert(("deployments".into(), Some(ns.to_string()), name.into()), d);
        }
    }

    /// Apply what the fake helm recorded since the last request: install or uninstall KEDA.
    fn sync_helm(&mut self) {
        let Some(path) = &self.helm_log else { return };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        for line in lines.iter().skip(self.helm_lines_seen) {
            let args: Vec<&str> = line.split(' ').collect();
            let after = |flag: &str| {
                args.iter()
                    .position(|a| *a == flag)
                    .and_then(|i| args.get(i + 1))
                    .map(|s| s.to_string())
            };
            let ns = after("--namespace").unwrap_or_else(|| "default".into());
            if args.first() == Some(&"upgrade") {
                let version = after("--version").unwrap_or_default();
                let sa = args
                    .iter()
                    .find_map(|a| a.strip_prefix("serviceAccount.operator.name="))
                    .unwrap_or("keda-operator")
                    .to_string();
                if !self
                    .objects
                    .contains_key(&("namespaces".into(), None, ns.clone()))
                {
                    let n =
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                    let n = self.stamp(n, None);
                    self.objects
                        .insert(("namespaces".into(), None, ns.clone()), n);
                }
                self.install_keda(&ns, &sa, &version);
            } else if args.first() == Some(&"uninstall") {
                self.objects.retain(|(p, n, name), o| {
                    p != "customresourcedefinitions"
                        && !(n.as_deref() == Some(ns.as_str())
                            && (p == "deployments" && name.starts_with("keda-operator")
                                || p == "pods"
                                    && o["metadata"]["labels"]["deployment"]
                                        .as_str()
                                        .is_some_and(|d| d.starts_with("keda-operator"))))
                });
            }
        }
        self.helm_lines_seen = lines.len();
    }
}

/// A `helm` that appends its arguments to `<dir>/helm.log` (and fails when told to).
pub fn fake_helm(dir: &Path, exit: i32) -> (PathBuf, PathBuf) {
    let log = dir.join("helm.log");
    let script = dir.join("helm");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nfor a in \"$@\"; do if [ \"$prev\" = --kubeconfig ]; then cp \"$a\" '{}.kubeconfig'; fi; prev=$a; done\n[ {exit} -eq 0 ] || echo 'Error: INSTALLATION FAILED: context deadline exceeded' >&2\nexit {exit}\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, log)
}

/// The operator or metrics-server Deployment as the KEDA chart makes it.
pub fn keda_deployment(ns: &str, name: &str, service_account: &str, version: &str) -> Value {
    let image = if name == "keda-operator" {
        format!("ghcr.io/kedacore/keda:{version}")
    } else {
        format!("ghcr.io/kedacore/keda-metrics-apiserver:{version}")
    };
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns,
                     "labels": {"app": name, "app.kubernetes.io/version": version}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"serviceAccountName": service_account,
                         "containers": [{"name": name, "image": image}]}
            }
        }
    })
}

fn key_of(obj: &Value) -> Key {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let plural = match kind {
        "Namespace" => "namespaces".to_string(),
        "ServiceAccount" => "serviceaccounts".to_string(),
        "ConfigMap" => "configmaps".to_string(),
        "Deployment" => "deployments".to_string(),
        "Pod" => "pods".to_string(),
        "Secret" => "secrets".to_string(),
        "Service" => "services".to_string(),
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

/// `/api/v1/namespaces/ns/pods/x` → ("pods", Some(ns), Some(x)); `/api/v1/namespaces/ns` →
/// ("namespaces", None, Some(ns)).
fn parse(path: &str) -> Option<(String, Option<String>, Option<String>)> {
    let rest = path.strip_prefix("/api/v1/").or_else(|| {
        let r = path.strip_prefix("/apis/")?;
        let mut it = r.splitn(3, '/');
        it.next()?;
        it.next()?;
        it.next()
    })?;
    let seg: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    Some(match seg[..] {
        ["namespaces", ns, plural] => (plural.into(), Some(ns.into()), None),
        ["namespaces", ns, plural, name] => (plural.into(), Some(ns.into()), Some(name.into())),
        [plural] => (plural.into(), None, None),
        [plural, name] => (plural.into(), None, Some(name.into())),
        _ => return None,
    })
}

fn matches(obj: &Value, selector: &str) -> bool {
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => obj["metadata"]["labels"][k] == v,
        None => false,
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The response body: JSON, or the raw text of a log.
pub fn body_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    }
}

/// JSON merge patch (RFC 7386); server-side apply of a full manifest behaves the same here.
fn merge(target: &mut Value, patch: &Value) {
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

fn status(code: StatusCode, reason: &str, message: &str) -> (StatusCode, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
               "message": message, "reason": reason, "code": code.as_u16()}),
    )
}
