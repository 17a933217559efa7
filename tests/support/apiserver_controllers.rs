//! What runs in the cluster besides the API server, as one "tick" per request: the Deployment
//! controller (with the EKS Pod Identity webhook at pod creation), the KEDA operator's
//! finalizers, the garbage collector, and the namespace and CRD finalizers.

use super::{Failure, Key, State, finalizers, not_served, status};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const KEDA_FINALIZER: &str = "finalizer.keda.sh";
const CRD_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";
/// The kinds whose objects KEDA's reconcilers put `finalizer.keda.sh` on.
const KEDA_KINDS: [&str; 4] = [
    "scaledobjects",
    "scaledjobs",
    "triggerauthentications",
    "clustertriggerauthentications",
];

impl State {
    /// Run every controller until nothing changes (the fake's cluster is fast, not instant:
    /// a request sees the state the previous one left, settled).
    pub fn settle(&mut self) {
        self.requests += 1;
        for _ in 0..50 {
            let before = self.counter;
            self.sync_helm();
            self.deployments();
            self.keda_operator();
            self.garbage_collector();
            self.namespaces();
            self.crds();
            if self.counter == before {
                return;
            }
        }
        panic!("the fake cluster's controllers did not settle");
    }

    /// The `/scale` subresource of a Deployment. `spec.replicas` is omitted at 0 (ScaleSpec's
    /// `json:"replicas,omitempty"`), as the real server sends it.
    pub(super) fn scale(
        &mut self,
        method: &Method,
        key: &Key,
        content_type: Option<&str>,
        manager: &Option<String>,
        body: &[u8],
    ) -> Result<(StatusCode, Value), Failure> {
        let Some(mut d) = self.objects.get(key).cloned() else {
            return Err(status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("deployments.apps \"{}\" not found", key.2),
            ));
        };
        if method == Method::PATCH {
            if !content_type.is_some_and(|c| c.contains("merge-patch+json")) {
                return Err(status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "this fake takes merge patches on /scale",
                ));
            }
            let patch: Value = serde_json::from_slice(body).unwrap_or_default();
            let replicas = patch["spec"]["replicas"].as_u64().unwrap_or(0);
            let manager = manager.clone().unwrap_or_else(|| "unknown".into());
            let new = super::fields::update(
                Some(&d),
                &json!({"spec": {"replicas": replicas}}),
                &manager,
                Some(("scale", "autoscaling/v1")),
            );
            d = self.stamp(new, Some(&d));
            self.objects.insert(key.clone(), d.clone());
        } else if method != Method::GET {
            return Err(not_served());
        }
        let r = d["spec"]["replicas"].as_u64().unwrap_or(1);
        let mut scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": key.2, "namespace": key.1, "uid": d["metadata"]["uid"],
                         "resourceVersion": d["metadata"]["resourceVersion"]},
            "spec": {},
            "status": {"replicas": d["status"]["replicas"].as_u64().unwrap_or(0),
                       "selector": super::helm::selector_text(&d)}});
        if r > 0 {
            scale["spec"]["replicas"] = json!(r);
        }
        Ok((StatusCode::OK, scale))
    }

    fn ns_terminating(&self, ns: &str) -> bool {
        self.objects
            .get(&("namespaces".into(), None, ns.to_string()))
            .is_none_or(|n| n["metadata"]["deletionTimestamp"].is_string())
    }

    /// The Deployment controller: a ReplicaSet per template (`<name>-<hash>`, owned by the
    /// Deployment; older ones kept at 0 replicas, as its revision history), whose pods (owned by
    /// it, labelled with the template's hash) are replaced when the template or the replica
    /// count changes, unless paused; a
    /// failing Deployment's new pods never become available. Status and conditions as
    /// pkg/controller/deployment writes them (zero counts omitted).
    fn deployments(&mut self) {
        let keys: Vec<Key> = self
            .objects
            .keys()
            .filter(|k| k.0 == "deployments")
            .cloned()
            .collect();
        for key in keys {
            let d = self.objects[&key].clone();
            if d["metadata"]["deletionTimestamp"].is_string() {
                continue;
            }
            let ns = key.1.clone().unwrap_or_default();
            let name = key.2.clone();
            let uid = d["metadata"]["uid"].clone();
            let hash = template_hash(&d["spec"]["template"]);
            let replicas = d["spec"]["replicas"].as_u64().unwrap_or(1);
            let paused = d["spec"]["paused"] == true;
            let failing = self.failing.contains(&(ns.clone(), name.clone()));
            let owned_by = |o: &Value, uids: &[Value]| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|r| uids.contains(&r["uid"])))
            };
            let sets = |s: &State| -> Vec<Value> {
                s.objects
                    .iter()
                    .filter(|(k, r)| {
                        k.0 == "replicasets"
                            && k.1 == key.1
                            && owned_by(r, std::slice::from_ref(&uid))
                    })
                    .map(|(_, r)| r["metadata"]["uid"].clone())
                    .collect()
            };
            let pods = |s: &State| -> Vec<(Key, bool)> {
                let sets = sets(s);
                s.objects
                    .iter()
                    .filter(|(k, p)| k.0 == "pods" && k.1 == key.1 && owned_by(p, &sets))
                    .map(|(k, p)| {
                        (
                            k.clone(),
                            p["metadata"]["labels"]["pod-template-hash"] == hash,
                        )
                    })
                    .collect()
            };
            let current = pods(self);
            let settled = current.len() as u64 == replicas && current.iter().all(|(_, new)| *new);
            if !paused && !settled && !self.ns_terminating(&ns) {
                for (k, _) in &current {
                    self.counter += 1;
                    self.objects.remove(k);
                }
                let owner = self.replica_set(&d, &hash, replicas);
                for _ in 0..replicas {
                    self.create_pod(&d, &owner, &hash, failing);
                }
            }
            let current = pods(self);
            let n = current.len() as u64;
            let updated = current.iter().filter(|(_, new)| *new).count() as u64;
            let available = if failing { n - updated } else { n };
            let rs = format!("{name}-{hash}");
            let cond = |t: &str, s: &str, reason: &str, message: String| json!({"type": t, "status": s, "reason": reason, "message": message});
            let available_cond = if available >= replicas {
                cond(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.".into(),
                )
            } else {
                cond(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.".into(),
                )
            };
            let progressing = if paused {
                cond(
                    "Progressing",
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused".into(),
                )
            } else if failing {
                cond(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{rs}\" has timed out progressing."),
                )
            } else {
                cond(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{rs}\" has successfully progressed."),
                )
            };
            let mut s = json!({"observedGeneration": d["metadata"]["generation"],
                               "conditions": [available_cond, progressing]});
            for (field, v) in [
                ("replicas", n),
                ("updatedReplicas", updated),
                ("readyReplicas", available),
                ("availableReplicas", available),
                ("unavailableReplicas", replicas.saturating_sub(available)),
            ] {
                if v > 0 {
                    s[field] = json!(v);
                }
            }
            if d["status"] != s {
                let mut d = d;
                d["status"] = s;
                self.put(key, d);
            }
        }
    }

    /// Deployment `d`'s ReplicaSet for template `hash` at `replicas` (the others at 0), created
    /// when missing: its ownerReference for the pods.
    fn replica_set(&mut self, d: &Value, hash: &str, replicas: u64) -> Value {
        let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let uid = &d["metadata"]["uid"];
        let current = format!("{name}-{hash}");
        let ours: Vec<Key> = self
            .objects
            .iter()
            .filter(|(k, r)| {
                k.0 == "replicasets"
                    && k.1.as_deref() == Some(ns)
                    && r["metadata"]["ownerReferences"][0]["uid"] == *uid
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in ours.iter().filter(|k| k.2 != current) {
            let mut r = self.objects[k].clone();
            if r["spec"]["replicas"] != 0 {
                r["spec"]["replicas"] = json!(0);
                self.put(k.clone(), r);
            }
        }
        let key: Key = ("replicasets".into(), Some(ns.to_string()), current.clone());
        let rs = match self.objects.get(&key) {
            Some(rs) => rs.clone(),
            None => {
                self.counter += 1;
                let mut labels = d["spec"]["template"]["metadata"]["labels"].clone();
                if !labels.is_object() {
                    labels = json!({});
                }
                labels["pod-template-hash"] = json!(hash);
                json!({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": current, "namespace": ns, "labels": labels,
                                 "uid": format!("uid-{}", self.counter),
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                                      "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
                    "spec": {"replicas": replicas, "template": d["spec"]["template"]},
                })
            }
        };
        let mut updated = rs.clone();
        updated["spec"]["replicas"] = json!(replicas);
        if updated != rs || !self.objects.contains_key(&key) {
            self.put(key, updated.clone());
        }
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": current,
               "uid": updated["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true})
    }

    /// A new pod of Deployment `d` (owned by its ReplicaSet `owner`), through the Pod Identity
    /// webhook.
    fn create_pod(&mut self, d: &Value, owner: &Value, hash: &str, failing: bool) {
        self.counter += 1;
        let ns = d["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = d["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let template = d["spec"]["template"].clone();
        let sa = template["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let mut labels = template["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels["deployment"] = json!(name);
        labels["pod-template-hash"] = json!(hash);
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
                let mut env = c["env"].as_array().cloned().unwrap_or_default();
                env.push(json!({"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"}));
                env.push(json!({"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}));
                c["env"] = json!(env);
            }
        }
        // IRSA (amazon-eks-pod-identity-webhook): a service account naming a role, read at pod
        // creation, gives the pod the role, the projected token and its path.
        let account = ("serviceaccounts".to_string(), Some(ns.clone()), sa.clone());
        let irsa_role = self
            .objects
            .get(&account)
            .and_then(|a| a["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].as_str())
            .map(str::to_string);
        if let Some(role) = irsa_role
            && let Some(cs) = spec["containers"].as_array_mut()
        {
            for c in cs {
                let mut env = c["env"].as_array().cloned().unwrap_or_default();
                env.push(json!({"name": "AWS_ROLE_ARN", "value": role}));
                env.push(json!({"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}));
                c["env"] = json!(env);
                c["volumeMounts"] = json!([{"name": "aws-iam-token", "readOnly": true, "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount"}]);
            }
            spec["volumes"] = json!([{"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}]);
        }
        spec["nodeName"] = json!("node-1");
        let pod_name = format!("{name}-{hash}-{:05}", self.counter);
        let phase = if failing { "Pending" } else { "Running" };
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "status": {"phase": phase},
            "metadata": {"name": pod_name, "namespace": ns, "labels": labels,
                          "uid": format!("uid-{}", self.counter),
                          "creationTimestamp": format!("2026-11-24T08:{:02}:{:02}Z", self.counter / 60 % 60, self.counter % 60),
                          "ownerReferences": [owner]},
            "spec": spec,
        });
        self.objects
            .insert(("pods".into(), Some(ns), pod_name), pod);
    }

    /// KEDA's operator (while its Deployment has an available replica): `finalizer.keda.sh` on
    /// every scaler and trigger authentication, removed once one is being deleted; and the
    /// `kedaorg-certs` Secret its cert rotation creates (not part of the helm release).
    fn keda_operator(&mut self) {
        let Some(ns) = self
            .objects
            .iter()
            .find(|(k, d)| {
                k.0 == "deployments"
                    && d["metadata"]["labels"]["app"] == "keda-operator"
                    && d["metadata"]["deletionTimestamp"].is_null()
                    && d["status"]["availableReplicas"].as_u64().unwrap_or(0) >= 1
            })
            .and_then(|(k, _)| k.1.clone())
        else {
            return;
        };
        let certs = (
            "secrets".to_string(),
            Some(ns.clone()),
            "kedaorg-certs".to_string(),
        );
        if !self.objects.contains_key(&certs) && !self.ns_terminating(&ns) {
            let s = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "kedaorg-certs", "namespace": ns},
                "data": {"ca.crt": "Q0E=", "tls.crt": "Q1JU", "tls.key": "S0VZ"}});
            let s = super::fields::update(None, &s, "keda", None);
            let s = self.stamp(s, None);
            self.objects.insert(certs, s);
        }
        let keys: Vec<Key> = self
            .objects
            .keys()
            .filter(|k| KEDA_KINDS.contains(&k.0.as_str()))
            .cloned()
            .collect();
        for key in keys {
            let o = self.objects[&key].clone();
            let mut fins = finalizers(&o);
            let deleting = o["metadata"]["deletionTimestamp"].is_string();
            let has = fins.iter().any(|f| f == KEDA_FINALIZER);
            if deleting && has {
                fins.retain(|f| f != KEDA_FINALIZER);
            } else if !deleting && !has {
                fins.push(KEDA_FINALIZER.into());
            } else {
                continue;
            }
            let patch = json!({"metadata": {"finalizers": fins}});
            let new = super::fields::update(Some(&o), &patch, "keda", None);
            self.put(key, new);
        }
    }

    /// The garbage collector: objects being deleted with no finalizer left go; foreground
    /// deletion deletes the dependents first, orphan deletion strips their owner references;
    /// objects whose owners are all gone are deleted (background).
    fn garbage_collector(&mut self) {
        let keys: Vec<Key> = self.objects.keys().cloned().collect();
        let dependents = |s: &State, uid: &Value| -> Vec<Key> {
            s.objects
                .iter()
                .filter(|(_, o)| {
                    o["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| &r["uid"] == uid))
                })
                .map(|(k, _)| k.clone())
                .collect()
        };
        for key in &keys {
            let Some(o) = self.objects.get(key).cloned() else {
                continue;
            };
            // A namespace waits on spec.finalizers, the namespace controller's business.
            if o["metadata"]["deletionTimestamp"].is_null() || key.0 == "namespaces" {
                continue;
            }
            let mut fins = finalizers(&o);
            let uid = o["metadata"]["uid"].clone();
            if fins.iter().any(|f| f == "foregroundDeletion") {
                let deps = dependents(self, &uid);
                if deps.is_empty() {
                    fins.retain(|f| f != "foregroundDeletion");
                } else {
                    for d in deps {
                        self.delete_object(&d, "Background");
                    }
                    continue;
                }
            } else if fins.iter().any(|f| f == "orphan") {
                for d in dependents(self, &uid) {
                    let mut dep = self.objects[&d].clone();
                    if let Some(refs) = dep["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != uid);
                    }
                    self.put(d, dep);
                }
                fins.retain(|f| f != "orphan");
            }
            if fins.is_empty() {
                self.counter += 1;
                self.objects.remove(key);
            } else if fins != finalizers(&o) {
                let mut o = o;
                o["metadata"]["finalizers"] = json!(fins);
                self.put(key.clone(), o);
            }
        }
        let uids: std::collections::BTreeSet<String> = self
            .objects
            .values()
            .filter_map(|o| o["metadata"]["uid"].as_str().map(str::to_string))
            .collect();
        let orphans: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|r| {
                        !r.is_empty()
                            && r.iter()
                                .all(|r| r["uid"].as_str().is_none_or(|u| !uids.contains(u)))
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        self.orphaned_at.retain(|k, _| orphans.contains(k));
        for k in orphans {
            let since = *self.orphaned_at.entry(k.clone()).or_insert(self.requests);
            if self.requests - since >= self.gc_lag {
                self.delete_object(&k, "Background");
            }
        }
    }

    /// The namespace controller: a terminating namespace's objects are deleted (their
    /// finalizers honoured); the namespace goes once it is empty.
    fn namespaces(&mut self) {
        let terminating: Vec<String> = self
            .objects
            .iter()
            .filter(|(k, n)| k.0 == "namespaces" && n["metadata"]["deletionTimestamp"].is_string())
            .map(|(k, _)| k.2.clone())
            .collect();
        for ns in terminating {
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.1.as_deref() == Some(ns.as_str()))
                .cloned()
                .collect();
            if inside.is_empty() {
                self.counter += 1;
                self.objects.remove(&("namespaces".into(), None, ns));
                continue;
            }
            for k in &inside {
                self.delete_object(k, "Background");
            }
            self.namespace_conditions(&ns);
        }
    }

    /// What blocks a terminating namespace, as the namespace controller reports it
    /// (`updateDeleteConditions` in namespaced_resources_deleter.go): content that remains by
    /// resource, and finalizers that remain on it.
    fn namespace_conditions(&mut self, ns: &str) {
        let mut remaining: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut finalizing: std::collections::BTreeMap<String, usize> = Default::default();
        for (k, o) in self
            .objects
            .iter()
            .filter(|(k, _)| k.1.as_deref() == Some(ns))
        {
            *remaining.entry(k.0.as_str()).or_default() += 1;
            for f in finalizers(o) {
                *finalizing.entry(f).or_default() += 1;
            }
        }
        let join = |m: Vec<String>| m.join(", ");
        let content = join(
            remaining
                .iter()
                .map(|(r, n)| format!("{r} has {n} resource instances"))
                .collect(),
        );
        let fins = join(
            finalizing
                .iter()
                .map(|(f, n)| format!("{f} in {n} resource instances"))
                .collect(),
        );
        let condition = |t: &str, on: bool, reason: &str, message: String| {
            json!({"type": t, "status": if on { "True" } else { "False" },
                   "reason": if on { reason } else { "ContentDeleted" }, "message": message})
        };
        let conditions = json!([
            condition(
                "NamespaceDeletionDiscoveryFailure",
                false,
                "DiscoveryFailed",
                String::new()
            ),
            condition(
                "NamespaceContentRemaining",
                !remaining.is_empty(),
                "SomeResourcesRemain",
                format!("Some resources are remaining: {content}")
            ),
            condition(
                "NamespaceFinalizersRemaining",
                !finalizing.is_empty(),
                "SomeFinalizersRemain",
                format!("Some content in the namespace has finalizers remaining: {fins}")
            ),
        ]);
        let key = ("namespaces".to_string(), None, ns.to_string());
        if let Some(mut n) = self.objects.get(&key).cloned()
            && n["status"]["conditions"] != conditions
        {
            n["status"]["conditions"] = conditions;
            self.put(key, n);
        }
    }

    /// The CRD finalizer (apiextensions-apiserver): a deleted CRD is Terminating until every
    /// object of its kind, in all namespaces, is gone; then it goes, and its kind with it.
    fn crds(&mut self) {
        let deleting: Vec<(Key, Value)> = self
            .objects
            .iter()
            .filter(|(k, c)| {
                k.0 == "customresourcedefinitions"
                    && c["metadata"]["deletionTimestamp"].is_string()
                    && finalizers(c).iter().any(|f| f == CRD_FINALIZER)
            })
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect();
        for (key, mut crd) in deleting {
            let plural = key.2.split('.').next().unwrap_or_default().to_string();
            let items: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.0 == plural)
                .cloned()
                .collect();
            if items.is_empty() {
                let mut fins = finalizers(&crd);
                fins.retain(|f| f != CRD_FINALIZER);
                crd["metadata"]["finalizers"] = json!(fins);
                self.put(key, crd);
                continue;
            }
            let terminating = json!({"type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress",
                                     "message": "CustomResource deletion is in progress"});
            if !crd["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.contains(&terminating))
            {
                let hanging: Vec<String> = items
                    .iter()
                    .filter(|k| !finalizers(&self.objects[*k]).is_empty())
                    .map(|k| format!("{}/{}", k.1.as_deref().unwrap_or("-"), k.2))
                    .collect();
                self.events.push(format!(
                    "CustomResourceDefinition {} terminating: deleting {} {plural} ({} with finalizers: {})",
                    key.2,
                    items.len(),
                    hanging.len(),
                    hanging.join(", ")
                ));
                let mut conds = crd["status"]["conditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                conds.push(terminating);
                crd["status"]["conditions"] = json!(conds);
                self.put(key, crd);
            }
            for k in items {
                self.delete_object(&k, "Background");
            }
        }
    }
}

/// A stable short hash of a pod template (the controller's pod-template-hash).
fn template_hash(template: &Value) -> String {
    let text = serde_json::to_string(template).unwrap_or_default();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")[..10].to_string()
}
