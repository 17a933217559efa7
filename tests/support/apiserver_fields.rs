//! Field ownership (`metadata.managedFields`) for server-side apply and updates, simplified from
//! sigs.k8s.io/structured-merge-diff: a manager owns a set of leaf paths, stored in the real
//! `fieldsV1` shape (`{"f:spec": {"f:replicas": {}}}`). Lists the Kubernetes OpenAPI marks
//! `x-kubernetes-list-type: map` (containers, env, volumes… by `name`; volumeMounts by
//! `mountPath`) are merged item by item, each item a `k:{"name":"web"}` element, so two managers
//! may own different containers or variables of one list; other lists are atomic leaves.
//!
//! - Apply (`application/apply-patch+yaml`) conflicts with any other manager (Apply or Update)
//!   owning a field it sets to a different value, unless forced, which takes the field over;
//!   fields the applier owned in its last apply and no longer sends are removed unless someone
//!   else owns them too.
//! - Update (merge patch) never conflicts: the updater takes the fields whose value it changed.

use serde_json::{Value, json};
use std::collections::BTreeSet;

type Path = Vec<String>;

struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    subresource: Option<String>,
    fields: BTreeSet<Path>,
}

pub struct Conflicts(Vec<(String, Path)>);

impl Conflicts {
    /// The message kube-apiserver gives (fieldmanager's getConflictMessage).
    pub fn message(&self) -> String {
        if let [(who, path)] = &self.0[..] {
            return format!(
                "Apply failed with 1 conflict: conflict with {who}: {}",
                display(path)
            );
        }
        let mut by: Vec<(String, Vec<String>)> = Vec::new();
        for (who, path) in &self.0 {
            match by.iter_mut().find(|(w, _)| w == who) {
                Some((_, ps)) => ps.push(display(path)),
                None => by.push((who.clone(), vec![display(path)])),
            }
        }
        by.sort();
        let lines: Vec<String> = by
            .iter()
            .flat_map(|(w, ps)| {
                std::iter::once(format!("conflicts with {w}:"))
                    .chain(ps.iter().map(|p| format!("- {p}")))
            })
            .collect();
        format!(
            "Apply failed with {} conflicts: {}",
            self.0.len(),
            lines.join("\n")
        )
    }

    pub fn causes(&self) -> Vec<Value> {
        self.0
            .iter()
            .map(|(w, p)| json!({"type": "FieldManagerConflict", "message": format!("conflict with {w}"), "field": display(p)}))
            .collect()
    }
}

/// `.spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt`, a keyed item as
/// `.spec.template.spec.containers[name="web"].image` (fieldpath's String()).
fn display(p: &Path) -> String {
    p.iter()
        .map(|k| match k.strip_prefix("k:") {
            Some(key) => {
                let m: serde_json::Map<String, Value> =
                    serde_json::from_str(key).unwrap_or_default();
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            None => format!(".{k}"),
        })
        .collect()
}

/// The key of the map-type lists kedactl's objects use (Kubernetes OpenAPI
/// `x-kubernetes-list-map-keys`), by field name.
fn list_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        _ => None,
    }
}

/// `obj` with every map-type list turned into an object of `k:{"name":"x"}` items.
fn keyed(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let as_map = list_key(k).and_then(|key| {
                        let items = x.as_array()?;
                        let mut out = serde_json::Map::new();
                        for item in items {
                            let id = item.get(key)?;
                            out.insert(format!("k:{}", json!({key: id})), keyed(item));
                        }
                        Some(Value::Object(out))
                    });
                    (k.clone(), as_map.unwrap_or_else(|| keyed(x)))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(keyed).collect()),
        other => other.clone(),
    }
}

/// A keyed item whose every field went goes too (nobody owns it any more).
fn drop_emptied_items(v: &mut Value) {
    if let Value::Object(m) = v {
        for x in m.values_mut() {
            drop_emptied_items(x);
        }
        m.retain(|k, x| !(k.starts_with("k:") && x.as_object().is_some_and(|o| o.is_empty())));
    }
}

/// The inverse of `keyed`: keyed items back into lists, in their order.
fn unkeyed(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let items = x
                        .as_object()
                        .filter(|o| list_key(k).is_some() && o.keys().all(|i| i.starts_with("k:")));
                    let x = match items {
                        Some(o) => Value::Array(o.values().map(unkeyed).collect()),
                        None => unkeyed(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(unkeyed).collect()),
        other => other.clone(),
    }
}

/// Fields nobody owns: identity, server-set metadata and status (set through `/status`).
fn ignored(p: &Path) -> bool {
    match p.first().map(String::as_str) {
        Some("apiVersion" | "kind" | "status") => true,
        Some("metadata") => matches!(
            p.get(1).map(String::as_str),
            Some(
                "name"
                    | "namespace"
                    | "uid"
                    | "resourceVersion"
                    | "generation"
                    | "creationTimestamp"
                    | "managedFields"
                    | "deletionTimestamp"
                    | "selfLink"
            )
        ),
        _ => false,
    }
}

fn leaves(v: &Value) -> BTreeSet<Path> {
    fn walk(v: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
        match v {
            Value::Null => {}
            Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    prefix.push(k.clone());
                    walk(x, prefix, out);
                    prefix.pop();
                }
            }
            _ => {
                out.insert(prefix.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out.retain(|p| !ignored(p));
    out
}

fn get<'a>(v: &'a Value, p: &Path) -> Option<&'a Value> {
    p.iter().try_fold(v, |v, k| v.get(k))
}

fn set(v: &mut Value, p: &Path, x: Value) {
    let mut cur = v;
    for k in p {
        if !cur.is_object() {
            *cur = json!({});
        }
        cur = cur
            .as_object_mut()
            .unwrap()
            .entry(k.clone())
            .or_insert(Value::Null);
    }
    *cur = x;
}

fn remove(v: &mut Value, p: &Path) {
    let Some((last, parent)) = p.split_last() else {
        return;
    };
    let mut cur = v;
    for k in parent {
        match cur.get_mut(k) {
            Some(x) => cur = x,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

fn entries(obj: &Value) -> Vec<Entry> {
    fn decode(v: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, x) in m {
                    if k == "." {
                        continue;
                    }
                    prefix.push(k.strip_prefix("f:").unwrap_or(k).to_string());
                    decode(x, prefix, out);
                    prefix.pop();
                }
            }
            _ => {
                out.insert(prefix.clone());
            }
        }
    }
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut fields = BTreeSet::new();
            decode(&e["fieldsV1"], &mut Vec::new(), &mut fields);
            fields.retain(|p| !p.is_empty());
            Entry {
                manager: e["manager"].as_str().unwrap_or("").into(),
                operation: e["operation"].as_str().unwrap_or("").into(),
                api_version: e["apiVersion"].as_str().unwrap_or("").into(),
                subresource: e["subresource"].as_str().map(str::to_string),
                fields,
            }
        })
        .collect()
}

fn store(obj: &mut Value, entries: Vec<Entry>) {
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut f = json!({});
            for p in &e.fields {
                let keyed: Path = p
                    .iter()
                    .map(|k| match k.starts_with("k:") {
                        true => k.clone(),
                        false => format!("f:{k}"),
                    })
                    .collect();
                set(&mut f, &keyed, json!({}));
            }
            let mut v = json!({"manager": e.manager, "operation": e.operation,
                               "apiVersion": e.api_version, "fieldsType": "FieldsV1", "fieldsV1": f});
            if let Some(s) = e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if list.is_empty() {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("managedFields");
        }
    } else {
        obj["metadata"]["managedFields"] = json!(list);
    }
}

/// How a conflict names its manager (fieldmanager's printManager): Apply managers by name,
/// Update managers with their API version (this fake records no time).
fn who(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

/// Server-side apply of `config` by `manager` onto `existing` (None: create).
pub fn apply(
    existing: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, Conflicts> {
    let mut obj = keyed(&existing.cloned().unwrap_or_else(|| json!({})));
    let config = &keyed(config);
    let mut list = entries(&obj);
    let applied = leaves(config);
    let mine =
        |e: &Entry| e.manager == manager && e.operation == "Apply" && e.subresource.is_none();
    let mut found = Vec::new();
    for e in list.iter().filter(|e| !mine(e)) {
        for p in e.fields.intersection(&applied) {
            if get(&obj, p) != get(config, p) {
                found.push((who(e), p.clone()));
            }
        }
    }
    if !found.is_empty() && !force {
        return Err(Conflicts(found));
    }
    // Forced: the conflicting fields change hands.
    for e in list.iter_mut().filter(|e| !mine(e)) {
        for (_, p) in &found {
            e.fields.remove(p);
        }
    }
    // Fields this manager applied before and omits now go, unless someone else owns them.
    let previous = list
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    for p in previous.difference(&applied) {
        let shared = list.iter().filter(|e| !mine(e)).any(|e| {
            e.fields
                .iter()
                .any(|q| q.starts_with(p) || p.starts_with(q))
        });
        if !shared {
            remove(&mut obj, p);
        }
    }
    drop_emptied_items(&mut obj);
    for p in &applied {
        set(&mut obj, p, get(config, p).cloned().unwrap_or(Value::Null));
    }
    for k in ["apiVersion", "kind"] {
        if config[k].is_string() {
            obj[k] = config[k].clone();
        }
    }
    obj["metadata"]["name"] = config["metadata"]["name"].clone();
    list.retain(|e| !mine(e));
    list.push(Entry {
        manager: manager.into(),
        operation: "Apply".into(),
        api_version: config["apiVersion"].as_str().unwrap_or("").into(),
        subresource: None,
        fields: applied,
    });
    store(&mut obj, list);
    Ok(unkeyed(&obj))
}

/// An update (merge patch) by `manager`: it takes over the fields whose value it changed;
/// fields it sets to null leave every manager.
pub fn update(
    existing: Option<&Value>,
    patch: &Value,
    manager: &str,
    subresource: Option<(&str, &str)>,
) -> Value {
    let mut obj = existing.cloned().unwrap_or_else(|| json!({}));
    // A merge patch replaces lists whole; ownership is still counted per keyed item.
    super::merge(&mut obj, patch);
    let before = keyed(&existing.cloned().unwrap_or_else(|| json!({})));
    let mut obj = keyed(&obj);
    let mut list = entries(&before);
    let changed: BTreeSet<Path> = leaves(&obj)
        .into_iter()
        .filter(|p| get(&before, p) != get(&obj, p))
        .collect();
    let gone: BTreeSet<Path> = leaves(&before)
        .into_iter()
        .filter(|p| get(&obj, p).is_none())
        .collect();
    for e in &mut list {
        e.fields
            .retain(|p| !changed.contains(p) && !gone.contains(p));
    }
    let api_version = match subresource {
        Some((_, v)) => v.to_string(),
        None => obj["apiVersion"].as_str().unwrap_or("").to_string(),
    };
    let sub = subresource.map(|(s, _)| s.to_string());
    match list
        .iter_mut()
        .find(|e| e.manager == manager && e.operation == "Update" && e.subresource == sub)
    {
        Some(e) => e.fields.extend(changed),
        None => list.push(Entry {
            manager: manager.into(),
            operation: "Update".into(),
            api_version,
            subresource: sub,
            fields: changed,
        }),
    }
    store(&mut obj, list);
    unkeyed(&obj)
}

/// The paths a manager owns (for tests): `.spec.replicas` style.
pub fn owned(obj: &Value, manager: &str) -> Vec<String> {
    entries(obj)
        .iter()
        .filter(|e| e.manager == manager)
        .flat_map(|e| e.fields.iter().map(display))
        .collect()
}
