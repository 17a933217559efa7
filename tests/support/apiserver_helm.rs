//! The fake `helm` and the KEDA chart it "installs" (kedacore/charts, chart v2.20.2, with the
//! differences of older charts that matter to kedactl).
//!
//! The script only records its arguments in `helm.log` and decides whether to fail from a state
//! file the server rewrites after every request, `helm.log.state`, one fact a line:
//!   `deployed NS`      release `keda` is deployed in NS
//!   `pending NS`       release `keda` in NS is pending-install/upgrade/rollback
//!   `terminating NS`   namespace NS is being deleted
//!   `crd NAME OWNER`   a keda.sh CRD exists (helm's install order), owned by the release in
//!                      namespace OWNER (`-`: no helm ownership metadata)
//!   `hang NS`          uninstalling the release in NS leaves objects of its CRDs with
//!                      finalizers (the operator goes first), so `uninstall --wait` times out
//!                      (after deleting everything: the server still replays it)
//! On the next request the server replays the runs that succeeded (it applies the same rules).

use super::{Key, State, finalizers};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The chart's CRDs in helm's order (sorted template file names: templates/crds/crd-*.yaml),
/// with their kinds and scope.
const CRDS: [(&str, &str, bool); 6] = [
    ("cloudeventsources", "CloudEventSource", true),
    ("clustercloudeventsources", "ClusterCloudEventSource", false),
    (
        "clustertriggerauthentications",
        "ClusterTriggerAuthentication",
        false,
    ),
    ("scaledjobs", "ScaledJob", true),
    ("scaledobjects", "ScaledObject", true),
    ("triggerauthentications", "TriggerAuthentication", true),
];

/// helm's UninstallOrder (pkg/release/util/kind_sorter.go), the kinds this chart model has;
/// unknown kinds go last.
const UNINSTALL_ORDER: [&str; 7] = [
    "APIService",
    "Service",
    "Deployment",
    "CustomResourceDefinition",
    "Secret",
    "ServiceAccount",
    "Namespace",
];

/// A `helm` that appends its arguments to `<dir>/helm.log`, fails with `exit` (and the message
/// of a timed-out install) when that is not 0, and otherwise fails as helm would in the states
/// `helm.log.state` describes.
pub fn fake_helm(dir: &Path, exit: i32) -> (std::path::PathBuf, std::path::PathBuf) {
    let log = dir.join("helm.log");
    let script = dir.join("helm");
    let text = r#"#!/bin/sh
echo "$@" >> 'LOG'
ns=default
for a in "$@"; do
  if [ "$prev" = --kubeconfig ]; then cp "$a" 'LOG.kubeconfig'; fi
  if [ "$prev" = --values ]; then cp "$a" 'LOG.values'; fi
  if [ "$prev" = --namespace ]; then ns=$a; fi
  prev=$a
done
[ EXIT -eq 0 ] || { echo 'Error: INSTALLATION FAILED: context deadline exceeded' >&2; exit EXIT; }
state='LOG.state'
[ -f "$state" ] || exit 0
if [ "$1" = upgrade ]; then
  if grep -qx "pending $ns" "$state"; then
    echo 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress' >&2; exit 1
  fi
  grep -qx "deployed $ns" "$state" && exit 0
  while read -r what name owner; do
    [ "$what" = crd ] && [ "$owner" != "$ns" ] || continue
    if [ "$owner" = - ]; then
      why="label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; annotation validation error: missing key \"meta.helm.sh/release-name\": must be set to \"keda\"; annotation validation error: missing key \"meta.helm.sh/release-namespace\": must be set to \"$ns\""
    else
      why="annotation validation error: key \"meta.helm.sh/release-namespace\" must equal \"$ns\": current value is \"$owner\""
    fi
    echo "Error: INSTALLATION FAILED: Unable to continue with install: CustomResourceDefinition \"$name\" in namespace \"\" exists and cannot be imported into the current release: invalid ownership metadata; $why" >&2
    exit 1
  done < "$state"
  if grep -qx "terminating $ns" "$state"; then
    echo "Error: INSTALLATION FAILED: failed to create resource: serviceaccounts \"keda-operator\" is forbidden: unable to create new content in namespace $ns because it is being terminated" >&2; exit 1
  fi
elif [ "$1" = uninstall ]; then
  grep -qE "^(deployed|pending) $ns\$" "$state" || { echo 'Error: uninstall: Release not loaded: keda: release: not found' >&2; exit 1; }
  for a in "$@"; do
    if [ "$a" = --wait ] && grep -qx "hang $ns" "$state"; then
      echo 'Error: uninstallation completed with 1 error(s): timed out waiting for the condition' >&2; exit 1
    fi
  done
fi
exit 0
"#
    .replace("LOG", &log.display().to_string())
    .replace("EXIT", &exit.to_string());
    std::fs::write(&script, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, log)
}

/// A Deployment as the KEDA chart makes it (operator, metrics server, webhooks), also used for
/// app Deployments in tests.
pub fn keda_deployment(ns: &str, name: &str, service_account: &str, version: &str) -> Value {
    let image = match name {
        "keda-operator" => format!("ghcr.io/kedacore/keda:{version}"),
        "keda-admission-webhooks" => format!("ghcr.io/kedacore/keda-admission-webhooks:{version}"),
        _ => format!("ghcr.io/kedacore/keda-metrics-apiserver:{version}"),
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

/// A keda.sh CustomResourceDefinition, as the chart templates it.
fn crd((plural, kind, namespaced): &(&str, &str, bool)) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.keda.sh"), "labels": {"app.kubernetes.io/name": "keda-operator"}},
        "spec": {"group": "keda.sh", "scope": if *namespaced { "Namespaced" } else { "Cluster" },
                 "names": {"kind": kind, "plural": plural, "listKind": format!("{kind}List"), "singular": kind.to_lowercase()},
                 "versions": [{"name": "v1alpha1", "served": true, "storage": true}]}})
}

/// Does helm leave this object in place on uninstall?
fn kept(o: &Value) -> bool {
    o["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
}

/// The chart's CRD with its versions' schemas, when this repository holds KEDA's CRDs of that
/// release (tests/crds/keda-v<version>); without them, a CRD that keeps every field.
fn with_schema(mut crd: Value, version: &str) -> Value {
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<BTreeMap<String, Option<Value>>>> = OnceLock::new();
    let name = crd["metadata"]["name"].as_str().unwrap_or("").to_string();
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!(
            "tests/crds/keda-v{}",
            version.trim_start_matches('v')
        ))
        .join(format!(
            "keda.sh_{}.yaml",
            name.trim_end_matches(".keda.sh")
        ));
    let key = file.display().to_string();
    let versions = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| {
            let text = std::fs::read_to_string(&file).ok()?;
            let vendored: Value = serde_yaml::from_str(&text).ok()?;
            Some(vendored["spec"]["versions"].clone())
        })
        .clone();
    if let Some(v) = versions {
        crd["spec"]["versions"] = v;
    }
    crd
}

/// `app=x` from a Deployment's matchLabels (the Scale status selector).
pub fn selector_text(d: &Value) -> String {
    d["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn minor(version: &str) -> u64 {
    let mut p = version.trim_start_matches('v').split('.');
    match (p.next(), p.next()) {
        (Some("2"), Some(m)) => m.parse().unwrap_or(99),
        _ => 99,
    }
}

/// What the chart renders for `helm upgrade --install keda … --namespace ns --version v`.
/// Service accounts: charts ≥ 2.14 name the operator's `serviceAccount.operator.name` (falling
/// back to `serviceAccount.name`), the metrics server's and the webhooks' their own; 2.13 and
/// older have one account for all three, `serviceAccount.name` (default keda-operator), and
/// ignore `serviceAccount.operator.name` (templates/manager/deployment.yaml at tag v2.13.2).
fn chart(ns: &str, version: &str, values: &BTreeMap<String, String>) -> Vec<Value> {
    let m = minor(version);
    let v = |k: &str| values.get(k).cloned();
    let shared = v("serviceAccount.name");
    let (operator_sa, metrics_sa, webhook_sa) = if m >= 14 {
        (
            v("serviceAccount.operator.name")
                .or(shared.clone())
                .unwrap_or("keda-operator".into()),
            v("serviceAccount.metricServer.name")
                .or(shared.clone())
                .unwrap_or("keda-metrics-server".into()),
            v("serviceAccount.webhooks.name")
                .or(shared)
                .unwrap_or("keda-webhook".into()),
        )
    } else {
        let one = shared.unwrap_or("keda-operator".into());
        (one.clone(), one.clone(), one)
    };
    let crds = CRDS.iter().filter(|(p, _, _)| match *p {
        "cloudeventsources" => m >= 13,
        "clustercloudeventsources" => m >= 15,
        _ => true,
    });
    let mut out: Vec<Value> = crds.map(|c| with_schema(crd(c), version)).collect();
    let mut accounts = vec![operator_sa.clone(), metrics_sa.clone(), webhook_sa.clone()];
    accounts.dedup();
    for sa in accounts {
        out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}}));
    }
    for (name, sa, port) in [
        ("keda-operator", &operator_sa, 9666),
        ("keda-operator-metrics-apiserver", &metrics_sa, 443),
        ("keda-admission-webhooks", &webhook_sa, 443),
    ] {
        out.push(keda_deployment(ns, name, sa, version));
        out.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": port}]}}));
    }
    out.push(json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
        "spec": {"service": {"name": "keda-operator-metrics-apiserver", "namespace": ns, "port": 443},
                 "group": "external.metrics.k8s.io", "version": "v1beta1",
                 "groupPriorityMinimum": 100, "versionPriority": 100},
        // Set by the aggregator once the metrics server answers.
        "status": {"conditions": [{"type": "Available", "status": "True"}]}}));
    // crds.additionalAnnotations.<name>=<value> (a `\.` in a --set key is a literal dot).
    let crd_annotations: Vec<(String, String)> = values
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("crds.additionalAnnotations.")?;
            Some((name.replace("\\.", "."), v.clone()))
        })
        .collect();
    for o in &mut out {
        let labels = &mut o["metadata"]["labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        labels["app.kubernetes.io/managed-by"] = json!("Helm");
        labels["app.kubernetes.io/part-of"] = json!("keda-operator");
        labels["app.kubernetes.io/instance"] = json!("keda");
        labels["helm.sh/chart"] = json!(format!("keda-{version}"));
        o["metadata"]["annotations"] =
            json!({"meta.helm.sh/release-name": "keda", "meta.helm.sh/release-namespace": ns});
        if o["kind"] == "CustomResourceDefinition" {
            for (k, v) in &crd_annotations {
                o["metadata"]["annotations"][k] = json!(v);
            }
        }
    }
    // podIdentity.aws.irsa.* annotate the operator's account (templates/manager/serviceaccount.yaml).
    if v("podIdentity.aws.irsa.enabled").as_deref() == Some("true") {
        let operator = out.iter_mut().find(|o| {
            o["kind"] == "ServiceAccount" && o["metadata"]["name"] == operator_sa.as_str()
        });
        if let Some(sa) = operator {
            let a = &mut sa["metadata"]["annotations"];
            a["eks.amazonaws.com/audience"] = json!("sts.amazonaws.com");
            a["eks.amazonaws.com/sts-regional-endpoints"] = json!("true");
            a["eks.amazonaws.com/token-expiration"] = json!("86400");
            if let Some(arn) = v("podIdentity.aws.irsa.roleArn").filter(|a| !a.is_empty()) {
                a["eks.amazonaws.com/role-arn"] = json!(arn);
            }
        }
    }
    out
}

impl State {
    /// What the KEDA chart creates, as `helm upgrade --install keda --namespace ns --version v
    /// --set serviceAccount.operator.name=operator_sa` would (then the controllers settle).
    pub fn install_keda(&mut self, ns: &str, operator_sa: &str, version: &str) {
        let values = BTreeMap::from([(
            "serviceAccount.operator.name".to_string(),
            operator_sa.to_string(),
        )]);
        self.helm_upgrade(ns, version, &values);
        self.settle();
    }

    /// KEDA's six CRDs without a release (as `kubectl apply -f keda-crds.yaml` leaves them, no
    /// helm ownership metadata): what a test seeds before keda.sh objects, which kube-apiserver
    /// serves only while their CRD exists.
    pub fn add_keda_crds(&mut self) {
        for c in &CRDS {
            let key = super::key_of(&crd(c));
            if !self.objects.contains_key(&key) {
                let obj = self.stamp(crd(c), None);
                self.objects.insert(key, obj);
            }
        }
    }

    /// The release records of `keda` in `ns`: (key, status label, version).
    fn releases(&self, ns: &str) -> Vec<(Key, String, u64)> {
        self.objects
            .iter()
            .filter(|(k, s)| {
                k.0 == "secrets"
                    && k.1.as_deref() == Some(ns)
                    && s["metadata"]["labels"]["owner"] == "helm"
                    && s["metadata"]["labels"]["name"] == "keda"
            })
            .map(|(k, s)| {
                let l = &s["metadata"]["labels"];
                (
                    k.clone(),
                    l["status"].as_str().unwrap_or("").to_string(),
                    l["version"]
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                )
            })
            .collect()
    }

    /// The facts of the module comment, in the order the script reads them.
    fn helm_facts(&self) -> Vec<String> {
        let mut facts = Vec::new();
        let namespaces: Vec<&Key> = self
            .objects
            .keys()
            .filter(|k| k.0 == "namespaces")
            .collect();
        for k in namespaces {
            for (_, status, _) in self.releases(&k.2) {
                if status == "deployed" {
                    facts.push(format!("deployed {}", k.2));
                } else if status.starts_with("pending-") {
                    facts.push(format!("pending {}", k.2));
                }
            }
            if self.objects[k]["metadata"]["deletionTimestamp"].is_string() {
                facts.push(format!("terminating {}", k.2));
            }
        }
        for (plural, _, _) in CRDS {
            let name = format!("{plural}.keda.sh");
            if let Some(c) =
                self.objects
                    .get(&("customresourcedefinitions".into(), None, name.clone()))
            {
                let owner = match (
                    c["metadata"]["labels"]["app.kubernetes.io/managed-by"].as_str(),
                    c["metadata"]["annotations"]["meta.helm.sh/release-namespace"].as_str(),
                ) {
                    (Some("Helm"), Some(ns)) => ns.to_string(),
                    _ => "-".into(),
                };
                // A CRD helm keeps on uninstall takes no objects with it.
                let held = !kept(c)
                    && self
                        .objects
                        .iter()
                        .any(|(k, o)| k.0 == plural && !finalizers(o).is_empty());
                if held && owner != "-" && !facts.contains(&format!("hang {owner}")) {
                    facts.push(format!("hang {owner}"));
                }
                facts.push(format!("crd {name} {owner}"));
            }
        }
        facts
    }

    pub(super) fn write_helm_state(&self) {
        if let Some(log) = &self.helm_log {
            let mut text = self.helm_facts().join("\n");
            text.push('\n');
            let _ = std::fs::write(format!("{}.state", log.display()), text);
        }
    }

    /// Why the script refused this run (the script's rules, on the same facts).
    fn helm_refusal(&self, args: &[&str], ns: &str) -> Option<String> {
        let facts = self.helm_facts();
        let has = |f: String| facts.contains(&f);
        match args.first() {
            Some(&"upgrade") => {
                if has(format!("pending {ns}")) {
                    return Some(
                        "another operation (install/upgrade/rollback) is in progress".into(),
                    );
                }
                if has(format!("deployed {ns}")) {
                    return None;
                }
                if let Some(f) = facts
                    .iter()
                    .find(|f| f.starts_with("crd ") && !f.ends_with(&format!(" {ns}")))
                {
                    return Some(format!("Unable to continue with install: {f}"));
                }
                has(format!("terminating {ns}")).then(|| format!("namespace {ns} is terminating"))
            }
            Some(&"uninstall") => (!has(format!("deployed {ns}")) && !has(format!("pending {ns}")))
                .then(|| "release: not found".into()),
            _ => None,
        }
    }

    /// Apply what the fake helm recorded since the last request.
    pub(super) fn sync_helm(&mut self) {
        let Some(path) = &self.helm_log else { return };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let new: Vec<String> = lines.iter().skip(self.helm_lines_seen).cloned().collect();
        self.helm_lines_seen = lines.len();
        for line in new {
            let args: Vec<&str> = line.split(' ').collect();
            let after = |flag: &str| {
                args.iter()
                    .position(|a| *a == flag)
                    .and_then(|i| args.get(i + 1))
                    .map(|s| s.to_string())
            };
            let ns = after("--namespace").unwrap_or_else(|| "default".into());
            if let Some(why) = self.helm_refusal(&args, &ns) {
                self.events.push(format!("helm {} refused: {why}", args[0]));
                continue;
            }
            if args.first() == Some(&"upgrade") {
                let version = after("--version").unwrap_or_else(|| "2.20.2".into());
                let values: BTreeMap<String, String> = args
                    .windows(2)
                    .filter(|w| w[0] == "--set")
                    .filter_map(|w| w[1].split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                self.helm_upgrade(&ns, &version, &values);
            } else if args.first() == Some(&"uninstall") {
                self.helm_uninstall(&ns);
                for o in std::mem::take(&mut self.create_after_uninstall) {
                    let key = super::key_of(&o);
                    let o = self.stamp(o, None);
                    self.objects.insert(key, o);
                }
            }
        }
    }

    /// Create or update the release's objects (manager "helm", operation Update, as helm 3's
    /// patches are) and write release record N+1; earlier ones become superseded.
    fn helm_upgrade(&mut self, ns: &str, version: &str, values: &BTreeMap<String, String>) {
        let ns_key = ("namespaces".to_string(), None, ns.to_string());
        if !self.objects.contains_key(&ns_key) {
            // --create-namespace: not part of the release.
            let n = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            let n = super::fields::update(None, &n, "helm", None);
            let n = self.stamp(n, None);
            self.objects.insert(ns_key, n);
        }
        for mut o in chart(ns, version, values) {
            let key = super::key_of(&o);
            let before = self.objects.get(&key).cloned();
            // helm's three-way merge: an annotation the previous release set (helm owns it) and
            // this one no longer renders goes (e.g. IRSA's role-arn once irsa.enabled=false);
            // one someone else added stays.
            if let Some(b) = &before {
                let owned = super::fields::owned(b, "helm");
                for (k, _) in b["metadata"]["annotations"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    let path = format!(".metadata.annotations.{k}");
                    if o["metadata"]["annotations"].get(k).is_none() && owned.contains(&path) {
                        o["metadata"]["annotations"][k] = Value::Null;
                    }
                }
            }
            let new = super::fields::update(before.as_ref(), &o, "helm", None);
            let new = self.stamp(new, before.as_ref());
            self.objects.insert(key, new);
        }
        let releases = self.releases(ns);
        let n = releases.iter().map(|r| r.2).max().unwrap_or(0) + 1;
        for (key, status, _) in releases {
            if status == "deployed" {
                let mut s = self.objects[&key].clone();
                s["metadata"]["labels"]["status"] = json!("superseded");
                self.put(key, s);
            }
        }
        let name = format!("sh.helm.release.v1.keda.v{n}");
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"owner": "helm", "name": "keda", "status": "deployed", "version": n.to_string()}},
            "data": {"release": ""}});
        let secret = super::fields::update(None, &secret, "helm", None);
        let secret = self.stamp(secret, None);
        self.objects
            .insert(("secrets".into(), Some(ns.into()), name), secret);
        self.events
            .push(format!("helm install keda {version} in {ns}: release v{n}"));
    }

    /// `helm uninstall keda --namespace ns`: the release's objects in UninstallOrder
    /// (background deletion, as helm's default cascade), then its records. A CRD's deletion
    /// takes every object of its kind with it (controllers::crds); those with finalizers hang.
    /// Objects annotated `helm.sh/resource-policy: keep` stay (helm's `filterManifestsToKeep`),
    /// with their release metadata.
    fn helm_uninstall(&mut self, ns: &str) {
        let mut owned: Vec<(usize, Key, String)> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                let a = &o["metadata"]["annotations"];
                a["meta.helm.sh/release-name"] == "keda"
                    && a["meta.helm.sh/release-namespace"] == ns
                    && !kept(o)
            })
            .map(|(k, o)| {
                let kind = o["kind"].as_str().unwrap_or("").to_string();
                let rank = UNINSTALL_ORDER
                    .iter()
                    .position(|x| *x == kind)
                    .unwrap_or(99);
                (rank, k.clone(), kind)
            })
            .collect();
        owned.sort();
        for (_, key, kind) in owned {
            let left = self
                .delete_object(&key, "Background")
                .map(|o| finalizers(&o))
                .unwrap_or_default();
            let what = format!(
                "{kind} {}{}",
                key.1.map(|n| format!("{n}/")).unwrap_or_default(),
                key.2
            );
            self.events.push(if left.is_empty() {
                format!("helm uninstall: deleted {what}")
            } else {
                format!(
                    "helm uninstall: deleted {what} (waiting for {})",
                    left.join(", ")
                )
            });
        }
        for (key, _, _) in self.releases(ns) {
            self.delete_object(&key, "Background");
        }
    }
}
