//! Field ownership (`metadata.managedFields`) for server-side apply and updates, simplified from
//! sigs.k8s.io/structured-merge-diff: a manager owns a set of leaf paths (lists are atomic
//! leaves), stored in the real `fieldsV1` shape (`{"f:spec": {"f:replicas": {}}}`).
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

/// `.spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt`
fn display(p: &Path) -> String {
    p.iter().map(|k| format!(".{k}")).collect()
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
                let keyed: Path = p.iter().map(|k| format!("f:{k}")).collect();
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
    let mut obj = existing.cloned().unwrap_or_else(|| json!({}));
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
    Ok(obj)
}

/// An update (merge patch) by `manager`: it takes over the fields whose value it changed;
/// fields it sets to null leave every manager.
pub fn update(
    existing: Option<&Value>,
    patch: &Value,
    manager: &str,
    subresource: Option<(&str, &str)>,
) -> Value {
    let before = existing.cloned().unwrap_or_else(|| json!({}));
    let mut obj = before.clone();
    super::merge(&mut obj, patch);
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
    obj
}

/// The paths a manager owns (for tests): `.spec.replicas` style.
pub fn owned(obj: &Value, manager: &str) -> Vec<String> {
    entries(obj)
        .iter()
        .filter(|e| e.manager == manager)
        .flat_map(|e| e.fields.iter().map(display))
        .collect()
}
