//! Request paths, the resources kube-apiserver serves itself, and label selectors.

use serde_json::Value;

/// A parsed resource path.
pub struct Target {
    pub group: String,
    pub plural: String,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Groups kube-apiserver serves itself: "" (core), a few named ones, and `*.k8s.io`.
pub fn is_builtin_group(group: &str) -> bool {
    matches!(group, "" | "apps" | "batch" | "autoscaling" | "policy") || group.ends_with(".k8s.io")
}

/// The built-in resources: (group, version, plural, kind, namespaced).
pub const BUILTIN: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "pods", "Pod", true),
    ("", "v1", "services", "Service", true),
    ("", "v1", "configmaps", "ConfigMap", true),
    ("", "v1", "secrets", "Secret", true),
    ("", "v1", "serviceaccounts", "ServiceAccount", true),
    ("", "v1", "events", "Event", true),
    ("", "v1", "endpoints", "Endpoints", true),
    (
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
    ),
    ("", "v1", "limitranges", "LimitRange", true),
    ("", "v1", "resourcequotas", "ResourceQuota", true),
    ("", "v1", "namespaces", "Namespace", false),
    ("", "v1", "nodes", "Node", false),
    ("", "v1", "persistentvolumes", "PersistentVolume", false),
    ("apps", "v1", "deployments", "Deployment", true),
    ("apps", "v1", "replicasets", "ReplicaSet", true),
    ("apps", "v1", "statefulsets", "StatefulSet", true),
    ("apps", "v1", "daemonsets", "DaemonSet", true),
    ("batch", "v1", "jobs", "Job", true),
    ("batch", "v1", "cronjobs", "CronJob", true),
    (
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
    ),
    (
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        true,
    ),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", true),
    ("coordination.k8s.io", "v1", "leases", "Lease", true),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
    ),
    (
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "APIService",
        false,
    ),
];

/// Some(namespaced) for a built-in resource; None otherwise.
pub fn builtin(group: &str, plural: &str) -> Option<bool> {
    BUILTIN
        .iter()
        .find(|(g, _, p, ..)| *g == group && *p == plural)
        .map(|(.., namespaced)| *namespaced)
}

/// `/api/v1/namespaces/ns/pods/x/log` → ("", "pods", Some(ns), Some(x), Some("log"));
/// `/api/v1/namespaces/ns` → ("", "namespaces", None, Some(ns), None).
pub fn parse(path: &str) -> Option<Target> {
    let (group, rest) = if let Some(r) = path.strip_prefix("/api/v1/") {
        (String::new(), r)
    } else {
        let r = path.strip_prefix("/apis/")?;
        let mut it = r.splitn(3, '/');
        let group = it.next()?.to_string();
        it.next()?;
        (group, it.next()?)
    };
    let seg: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let t = |plural: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
        group: group.clone(),
        plural: plural.into(),
        ns: ns.map(str::to_string),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    };
    Some(match seg[..] {
        ["namespaces", ns, plural] => t(plural, Some(ns), None, None),
        ["namespaces", ns, plural, name] => t(plural, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] => t(plural, Some(ns), Some(name), Some(sub)),
        [plural] => t(plural, None, None, None),
        [plural, name] => t(plural, None, Some(name), None),
        _ => return None,
    })
}

/// A label selector (k8s.io/apimachinery/pkg/labels): `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`, joined by commas. `!=` and `notin` match objects without `k`.
pub fn matches(obj: &Value, selector: &str) -> bool {
    let labels = &obj["metadata"]["labels"];
    let label = |k: &str| labels[k.trim()].as_str().map(str::to_string);
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|t| {
            if let Some((head, values)) = t.split_once('(') {
                let values: Vec<&str> = values
                    .trim_end_matches(')')
                    .split(',')
                    .map(str::trim)
                    .collect();
                let mut words = head.split_whitespace();
                let (k, op) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                let v = label(k);
                match op {
                    "in" => v.is_some_and(|v| values.contains(&v.as_str())),
                    "notin" => v.is_none_or(|v| !values.contains(&v.as_str())),
                    _ => false,
                }
            } else if let Some((k, v)) = t.split_once("!=") {
                label(k).is_none_or(|l| l != v.trim())
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                label(k).is_some_and(|l| l == v.trim())
            } else if let Some(k) = t.strip_prefix('!') {
                label(k).is_none()
            } else {
                label(t).is_some()
            }
        })
}

/// Percent-decoding of a query value (`+` is a space).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
