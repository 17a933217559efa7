//! Field validation as kube-apiserver does it (`fieldValidation`, k8s.io/apiserver
//! `handlers/rest.go`; apiextensions-apiserver `schemaCoercingDecoder` and structural pruning):
//! a field the kind's schema does not declare is dropped; with `Warn` (the default) each one
//! comes back as a `Warning: 299 - "unknown field \"spec.x\""` header, with `Ignore` silently,
//! and with `Strict` the request fails with 400 `strict decoding error: unknown field
//! "spec.x", …` and nothing is stored.
//!
//! Schemas: a custom resource's is its CRD's `openAPIV3Schema` for the served version (a CRD
//! without one keeps every field, as `x-kubernetes-preserve-unknown-fields` would); a built-in
//! kind's is its k8s-openapi type (a field that does not survive decoding into the type is
//! unknown to it).

use super::paths::Target;
use super::{Failure, State, status};
use http::StatusCode;
use serde_json::Value;

impl State {
    /// `obj` (an applied configuration or a patch body) with the fields its schema lacks
    /// removed, and the warnings to send; or the Strict failure.
    pub(super) fn validate_fields(
        &self,
        t: &Target,
        obj: &Value,
        directive: Option<&str>,
    ) -> Result<(Value, Vec<String>), Failure> {
        let mut pruned = obj.clone();
        let unknown = match self.crd_schema(t, obj) {
            Some(schema) => {
                let mut out = Vec::new();
                prune(&mut pruned, &schema, "", &mut out);
                out
            }
            None => builtin_unknown(&mut pruned),
        };
        // Structural pruning returns them sorted.
        let mut unknown = unknown;
        unknown.sort();
        if unknown.is_empty() {
            return Ok((obj.clone(), vec![]));
        }
        let each: Vec<String> = unknown
            .iter()
            .map(|p| format!("unknown field \"{p}\""))
            .collect();
        match directive.unwrap_or("Warn") {
            "Strict" => Err(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("strict decoding error: {}", each.join(", ")),
            )),
            "Ignore" => Ok((pruned, vec![])),
            _ => Ok((pruned, each)),
        }
    }

    /// The structural schema of a custom resource's served version, when its CRD has one.
    fn crd_schema(&self, t: &Target, obj: &Value) -> Option<Value> {
        let crd = self.objects.get(&(
            "customresourcedefinitions".to_string(),
            None,
            format!("{}.{}", t.plural, t.group),
        ))?;
        let version = obj["apiVersion"].as_str()?.rsplit('/').next()?;
        let v = crd["spec"]["versions"]
            .as_array()?
            .iter()
            .find(|v| v["name"] == version)?;
        let schema = &v["schema"]["openAPIV3Schema"];
        schema.is_object().then(|| schema.clone())
    }
}

/// Remove what `schema` does not declare from `obj`, recording each path (`spec.a[0].b`, as
/// structural pruning names them). ObjectMeta at the root is the server's own.
fn prune(obj: &mut Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match obj {
        Value::Object(map) => {
            let props = schema["properties"].as_object();
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if path.is_empty() && ["apiVersion", "kind", "metadata"].contains(&k.as_str()) {
                    continue;
                }
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let sub = match props.and_then(|p| p.get(&k)) {
                    Some(s) => s,
                    None if schema["additionalProperties"].is_object() => {
                        &schema["additionalProperties"]
                    }
                    None => {
                        map.remove(&k);
                        out.push(here);
                        continue;
                    }
                };
                prune(map.get_mut(&k).unwrap(), sub, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                prune(v, &schema["items"], &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The fields of a built-in object its k8s-openapi type does not have (removed from `obj`).
/// A kind this fake has no type for keeps every field.
fn builtin_unknown(obj: &mut Value) -> Vec<String> {
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core};
    fn round<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Option<Value> {
        serde_json::from_value::<T>(v.clone())
            .ok()
            .and_then(|t| serde_json::to_value(t).ok())
    }
    let typed = match obj["kind"].as_str().unwrap_or("") {
        "Deployment" => round::<apps::Deployment>(obj),
        "ServiceAccount" => round::<core::ServiceAccount>(obj),
        "Namespace" => round::<core::Namespace>(obj),
        "ConfigMap" => round::<core::ConfigMap>(obj),
        "Service" => round::<core::Service>(obj),
        _ => None,
    };
    let Some(typed) = typed else { return vec![] };
    let mut out = Vec::new();
    drop_missing(obj, &typed, "", &mut out);
    out
}

/// Remove from `obj` the fields (not null) that `kept` lacks.
fn drop_missing(obj: &mut Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (obj, kept) {
        (Value::Object(map), Value::Object(k)) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if path.is_empty() && key == "metadata" {
                    continue;
                }
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match k.get(&key) {
                    Some(sub) => drop_missing(map.get_mut(&key).unwrap(), sub, &here, out),
                    None if map[&key].is_null() => {}
                    None => {
                        map.remove(&key);
                        out.push(here);
                    }
                }
            }
        }
        (Value::Array(items), Value::Array(k)) => {
            for (i, (v, kv)) in items.iter_mut().zip(k).enumerate() {
                drop_missing(v, kv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
