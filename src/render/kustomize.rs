//! `render --format kustomize`: the Kubernetes half as a Kustomize base every cluster shares
//! and one overlay per cluster, for Argo CD or Flux to sync. The base holds the manifests
//! `render --only app` prints with each per-site value (a role ARN, the queue URL, the region)
//! written as a mark (`<account>`, `<region>`...); the cluster's overlay puts its values back
//! with one JSON patch per object, so `kubectl kustomize overlays/<cluster>` builds exactly
//! what `render --only app` prints. Pure.

use super::site::{Marks, Site};
use super::{Desired, object_ref};
use serde_json::{Value, json};

const MARKS: Marks = Marks {
    partition: "<partition>",
    region: "<region>",
    account: "<account>",
    dns_suffix: "<dns-suffix>",
    cluster: "<cluster>",
};

const KUSTOMIZATION: &str = "kustomization.yaml";

/// Files of one folder: (path under it, YAML document).
pub type Files = Vec<(String, Value)>;

/// The base (shared by every cluster rendered from this config) and this cluster's overlay, from
/// `manifests` as (file name, object).
pub fn export(d: &Desired, manifests: &[(String, Value)]) -> (Files, Files) {
    let site = Site::of(d);
    let mut base = Vec::new();
    let mut overlay = Vec::new();
    let mut patches = Vec::new();
    for (file, m) in manifests {
        let mut ops = Vec::new();
        let neutral = neutralise(m, "", &site, &mut ops);
        base.push((file.clone(), neutral));
        if ops.is_empty() {
            continue;
        }
        let (kind, namespace, name) = object_ref(m);
        let api = m["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let mut target = json!({ "version": version, "kind": kind, "name": name });
        if !group.is_empty() {
            target["group"] = group.into();
        }
        if let Some(ns) = namespace {
            target["namespace"] = ns.into();
        }
        let path = format!("{}.patch.yaml", file.trim_end_matches(".yaml"));
        patches.push(json!({ "path": path, "target": target }));
        overlay.push((path, Value::Array(ops)));
    }
    let resources: Vec<Value> = base.iter().map(|(f, _)| f.clone().into()).collect();
    base.push((
        KUSTOMIZATION.into(),
        kustomization(json!({ "resources": resources })),
    ));
    overlay.push((
        KUSTOMIZATION.into(),
        kustomization(json!({ "resources": ["../../base"], "patches": patches })),
    ));
    (base, overlay)
}

fn kustomization(mut body: Value) -> Value {
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    });
    if let (Some(k), Some(b)) = (k.as_object_mut(), body.as_object_mut()) {
        k.append(b);
    }
    k
}

/// `v` with each per-site string written as its mark; each one's JSON patch (RFC 6902
/// `replace` at its pointer) that puts the value back goes into `ops`.
fn neutralise(v: &Value, pointer: &str, site: &Site, ops: &mut Vec<Value>) -> Value {
    match v {
        // The patch targets find objects by name and namespace: those stay as they are.
        Value::String(_) if ["/metadata/name", "/metadata/namespace"].contains(&pointer) => {
            v.clone()
        }
        Value::String(s) => match site.neutral(s, &MARKS) {
            Some(n) => {
                ops.push(json!({ "op": "replace", "path": pointer, "value": s }));
                n.into()
            }
            None => v.clone(),
        },
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| neutralise(x, &format!("{pointer}/{i}"), site, ops))
            .collect(),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    (
                        k.clone(),
                        neutralise(x, &format!("{pointer}/{key}"), site, ops),
                    )
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(region: &str, account: &str, cluster: &str) -> Desired {
        let spec = crate::render::site::spec(region, account, cluster);
        crate::render::desired(&spec).unwrap()
    }

    fn files(d: &Desired) -> Vec<(String, Value)> {
        d.manifests
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("{i}.yaml"), m.clone()))
            .collect()
    }

    /// A JSON pointer's value set, as Kustomize applies a `replace`.
    fn apply(mut v: Value, ops: &Value) -> Value {
        for op in ops.as_array().unwrap() {
            let at = v.pointer_mut(op["path"].as_str().unwrap()).unwrap();
            *at = op["value"].clone();
        }
        v
    }

    #[test]
    fn two_sites_share_the_base_and_each_overlay_restores_its_own_objects() {
        let a = desired("us-east-1", "111111111111", "c-one");
        let b = desired("eu-west-1", "222222222222", "c-two");
        let (base_a, overlay_a) = export(&a, &files(&a));
        let (base_b, _) = export(&b, &files(&b));
        assert_eq!(base_a, base_b, "the base must not depend on the site");
        let text = serde_json::to_string(&base_a).unwrap();
        for value in ["111111111111", "us-east-1", "c-one"] {
            assert!(!text.contains(value), "{value} left in the base");
        }
        for (i, m) in a.manifests.iter().enumerate() {
            let file = format!("{i}.yaml");
            let patch = format!("{i}.patch.yaml");
            let base = &base_a.iter().find(|(f, _)| *f == file).unwrap().1;
            let built = match overlay_a.iter().find(|(f, _)| *f == patch) {
                Some((_, ops)) => apply(base.clone(), ops),
                None => base.clone(),
            };
            assert_eq!(&built, m, "{file}");
        }
    }

    #[test]
    fn names_and_namespaces_stay_even_when_they_read_as_a_site_value() {
        let mut spec = crate::render::site::spec("us-east-1", "123456789012", "demo");
        spec.apps[0].namespace = "us-east-1".into();
        let d = crate::render::desired(&spec).unwrap();
        let (base, _) = export(&d, &files(&d));
        for (m, (_, b)) in d.manifests.iter().zip(&base) {
            assert_eq!(m["metadata"]["name"], b["metadata"]["name"]);
            assert_eq!(m["metadata"]["namespace"], b["metadata"]["namespace"]);
        }
    }
}
