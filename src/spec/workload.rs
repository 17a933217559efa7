//! The app's workload: the pod template kedactl renders (restricted by default, with the
//! team's overrides merged in), or a Deployment/StatefulSet the team deploys itself
//! (`existing: true`), which kedactl only points its ScaledObject at.

use super::{App, Problem, ScalingKind, Spec};
use crate::pod_security::{self, Level};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The Pod Security Standard the namespaces kedactl creates enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurity {
    /// `pod-security.kubernetes.io/enforce: restricted` (the default).
    #[default]
    Restricted,
    /// `pod-security.kubernetes.io/enforce: baseline`.
    Baseline,
    /// `pod-security.kubernetes.io/enforce: privileged`.
    Privileged,
    /// No label: the cluster's default level applies.
    None,
}

impl PodSecurity {
    /// The level a pod in such a namespace must meet (None: the cluster's default, unknown).
    pub fn level(self) -> Option<Level> {
        match self {
            PodSecurity::Restricted => Some(Level::Restricted),
            PodSecurity::Baseline => Some(Level::Baseline),
            PodSecurity::Privileged => Some(Level::Privileged),
            PodSecurity::None => None,
        }
    }
}

/// The kind of the app's workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum WorkloadKind {
    /// A Deployment (the default).
    #[default]
    Deployment,
    /// Only with `existing: true`: kedactl renders Deployments only.
    StatefulSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == WorkloadKind::Deployment
    }
}

/// Container `resources`: each quantity given replaces kedactl's default; `null` removes it
/// (e.g. `limits: {cpu: null}` for no CPU limit).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// e.g. `{cpu: 250m, memory: 64Mi}` (the defaults).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Option<String>>,
    /// e.g. `{cpu: 500m, memory: 128Mi}` (the defaults).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Option<String>>,
}

/// The container securityContext kedactl renders: what the restricted profile requires, and a
/// numeric non-root user, so the kubelet can verify runAsNonRoot for an image whose USER is
/// root or a name (it refuses to start such a container otherwise).
pub fn default_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "allowPrivilegeEscalation": false,
        "capabilities": { "drop": ["ALL"] },
        "seccompProfile": { "type": "RuntimeDefault" }
    })
}

/// The fields of a core/v1 container `SecurityContext`.
const SECURITY_CONTEXT_FIELDS: [&str; 12] = [
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile",
    "windowsOptions",
];

/// JSON merge patch (RFC 7386): objects merge, `null` removes, anything else replaces.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// The app container's securityContext: the default with `apps[].securityContext` merged in.
pub fn security_context(app: &App) -> Value {
    let mut sc = default_security_context();
    if let Some(o) = &app.security_context {
        merge(&mut sc, &Value::Object(o.clone()));
    }
    sc
}

const DEFAULT_REQUESTS: [(&str, &str); 2] = [("cpu", "250m"), ("memory", "64Mi")];
const DEFAULT_LIMITS: [(&str, &str); 2] = [("cpu", "500m"), ("memory", "128Mi")];

fn quantities(
    defaults: &[(&str, &str)],
    given: Option<&BTreeMap<String, Option<String>>>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = defaults
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in given.into_iter().flatten() {
        match v {
            Some(v) => out.insert(k.clone(), v.clone()),
            None => out.remove(k),
        };
    }
    out
}

/// The app container's `resources`: the defaults with `apps[].resources` merged in.
pub fn resources(app: &App) -> Value {
    let r = app.resources.as_ref();
    let requests = quantities(&DEFAULT_REQUESTS, r.map(|r| &r.requests));
    let limits = quantities(&DEFAULT_LIMITS, r.map(|r| &r.limits));
    let mut out = Map::new();
    if !requests.is_empty() {
        out.insert("requests".into(), json!(requests));
    }
    if !limits.is_empty() {
        out.insert("limits".into(), json!(limits));
    }
    Value::Object(out)
}

/// A Kubernetes quantity's value (`resource.Quantity`: a decimal with an optional binary
/// (Ki..Ei), decimal (n, u, m, k, M..E) or exponent suffix), or None when it is not one.
pub fn quantity(s: &str) -> Option<f64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let digits = number.trim_start_matches(['+', '-']);
    if digits.is_empty()
        || digits == "."
        || digits.matches('.').count() > 1
        || digits.contains(['+', '-'])
    {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => 10f64.powi(e[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(n * scale)
}

/// A resource name Kubernetes accepts on a container: the standard ones, hugepages, or an
/// extended resource (`vendor.example/gpu`).
fn resource_name(k: &str) -> bool {
    matches!(k, "cpu" | "memory" | "ephemeral-storage")
        || k.starts_with("hugepages-")
        || (k.contains('/') && !k.starts_with("kubernetes.io/"))
}

/// A pod spec holding only the app's container, as rendered: what the profile is checked on.
pub fn pod_spec(app: &App) -> Value {
    json!({
        "containers": [{
            "name": app.deployment,
            "securityContext": security_context(app),
        }]
    })
}

/// The problems of `apps[i]`'s workload fields (`f` makes a field path).
pub(super) fn problems(spec: &Spec, app: &App, f: &dyn Fn(&str) -> String) -> Vec<Problem> {
    let mut out = Vec::new();
    if app.existing {
        let owned_fields = [
            ("image", app.image.is_some()),
            ("securityContext", app.security_context.is_some()),
            ("resources", app.resources.is_some()),
        ];
        for (field, set) in owned_fields {
            if set {
                out.push(Problem::new(
                    f(field),
                    format!(
                        "existing: true means the {} {} is your chart's: kedactl renders no pod \
                         template for it, so {field} would be ignored",
                        app.kind.as_str(),
                        app.deployment
                    ),
                    format!("remove {field} (set it in the chart that deploys the workload)"),
                ));
            }
        }
        if app.scaling.kind == ScalingKind::ScaledJob {
            out.push(Problem::new(
                f("existing"),
                "a ScaledJob runs Jobs from its own pod template: there is no existing workload for it to scale",
                "use scaling.kind: ScaledObject to scale your existing workload, or remove existing",
            ));
        }
    } else if app.kind != WorkloadKind::Deployment {
        out.push(Problem::new(
            f("kind"),
            format!(
                "kedactl renders only Deployments; a {} must be deployed by you",
                app.kind.as_str()
            ),
            "set existing: true (kedactl then scales the StatefulSet your chart deploys), or remove kind",
        ));
    }
    if let Some(sc) = &app.security_context {
        let unknown: Vec<&String> = sc
            .keys()
            .filter(|k| !SECURITY_CONTEXT_FIELDS.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            out.push(Problem::new(
                f("securityContext"),
                format!("unknown container securityContext field(s) {unknown:?}"),
                format!("use only {}", SECURITY_CONTEXT_FIELDS.join(", ")),
            ));
        } else if let Err(e) = serde_json::from_value::<k8s_openapi::api::core::v1::SecurityContext>(
            security_context(app),
        ) {
            out.push(Problem::new(
                f("securityContext"),
                format!("not a container securityContext: {e}"),
                "write it as in a Pod's spec.containers[].securityContext (kubectl explain pod.spec.containers.securityContext)",
            ));
        } else if let Some(level) = spec.pod_security.level().filter(|_| !app.existing) {
            for v in pod_security::check(&pod_spec(app), level) {
                out.push(Problem::new(
                    f("securityContext"),
                    format!(
                        "the pods would violate the {} Pod Security Standard that podSecurity \
                         labels the namespaces kedactl creates with: {v}",
                        level.as_str()
                    ),
                    format!(
                        "keep the default for what {} requires (remove the override), or set \
                         podSecurity to a level your pods meet (baseline, privileged, none)",
                        v.check
                    ),
                ));
            }
        }
    }
    if let Some(r) = &app.resources {
        for (side, given) in [("requests", &r.requests), ("limits", &r.limits)] {
            for (k, v) in given {
                if !resource_name(k) {
                    out.push(Problem::new(
                        f(&format!("resources.{side}.{k}")),
                        format!("{k:?} is not a container resource"),
                        "use cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource (<domain>/<name>)",
                    ));
                }
                if let Some(v) = v
                    && quantity(v).is_none_or(|q| q < 0.0)
                {
                    out.push(Problem::new(
                        f(&format!("resources.{side}.{k}")),
                        format!("{v:?} is not a Kubernetes quantity"),
                        "write a non-negative number with an optional suffix: 250m, 0.5, 64Mi, 1Gi",
                    ));
                }
            }
        }
        let requests = quantities(&DEFAULT_REQUESTS, Some(&r.requests));
        let limits = quantities(&DEFAULT_LIMITS, Some(&r.limits));
        for (k, req) in &requests {
            if let (Some(rq), Some(lq)) = (quantity(req), limits.get(k).and_then(|l| quantity(l)))
                && rq > lq
            {
                out.push(Problem::new(
                    f(&format!("resources.requests.{k}")),
                    format!(
                        "the {k} request {req} is above its limit {}: the API server refuses the Deployment",
                        limits[k]
                    ),
                    format!("lower resources.requests.{k} or raise resources.limits.{k} (null removes the limit)"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(yaml: &str) -> App {
        crate::yaml::from_str(yaml).unwrap()
    }

    fn problems_of(a: &App) -> Vec<String> {
        let spec = Spec {
            apps: vec![a.clone()],
            ..Spec::default()
        };
        problems(&spec, a, &|s| format!("apps[0].{s}"))
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn the_default_pod_meets_the_restricted_profile() {
        let a = App::default();
        assert!(pod_security::check(&pod_spec(&a), Level::Restricted).is_empty());
        assert!(problems_of(&a).is_empty());
    }

    #[test]
    fn an_override_merges_and_one_that_breaks_the_profile_is_refused() {
        let a = app("securityContext: {runAsUser: 1000, readOnlyRootFilesystem: true}");
        let sc = security_context(&a);
        assert_eq!(sc["runAsUser"], 1000);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert!(problems_of(&a).is_empty());

        let bad = app("securityContext: {allowPrivilegeEscalation: true, seccompProfile: null}");
        let p = problems_of(&bad);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].starts_with("apps[0].securityContext: the pods would violate the restricted"));
        assert!(p[0].contains("allowPrivilegeEscalation != false"), "{p:#?}");
        assert!(p[1].contains("seccompProfile"), "{p:#?}");
        // baseline namespaces admit it.
        let spec = Spec {
            pod_security: PodSecurity::Baseline,
            ..Spec::default()
        };
        assert!(problems(&spec, &bad, &|s| s.to_string()).is_empty());

        let typo = app("securityContext: {runAsNonroot: true}");
        assert!(problems_of(&typo)[0].contains("unknown container securityContext field"));
        let wrong_type = app("securityContext: {runAsUser: \"root\"}");
        assert!(problems_of(&wrong_type)[0].contains("not a container securityContext"));
    }

    #[test]
    fn resources_merge_and_are_checked() {
        let a = app("resources: {requests: {cpu: '1'}, limits: {cpu: null, memory: 1Gi}}");
        assert_eq!(
            resources(&a),
            json!({ "requests": { "cpu": "1", "memory": "64Mi" }, "limits": { "memory": "1Gi" } })
        );
        assert!(problems_of(&a).is_empty(), "{:?}", problems_of(&a));
        let bad = app("resources: {requests: {cpu: 2, memory: lots}, limits: {gpu: '1'}}");
        let p = problems_of(&bad);
        assert_eq!(
            p,
            [
                "apps[0].resources.requests.memory: \"lots\" is not a Kubernetes quantity",
                "apps[0].resources.limits.gpu: \"gpu\" is not a container resource",
                "apps[0].resources.requests.cpu: the cpu request 2 is above its limit 500m: the API server refuses the Deployment",
            ]
        );
        assert_eq!(quantity("1.5Gi"), Some(1.5 * 1024f64.powi(3)));
        assert_eq!(quantity("2e3"), Some(2000.0));
        assert_eq!(quantity("250m"), Some(0.25));
        assert_eq!(quantity("1.2.3"), None);
        assert_eq!(quantity("m"), None);
    }

    #[test]
    fn existing_workloads_take_no_pod_fields_and_only_existing_ones_may_be_statefulsets() {
        let a = app("existing: true\nimage: x\nresources: {requests: {cpu: 1m}}");
        let p = problems_of(&a);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].starts_with(
            "apps[0].image: existing: true means the Deployment q-read is your chart's"
        ));
        let sts = app("kind: StatefulSet");
        assert!(problems_of(&sts)[0].starts_with("apps[0].kind: kedactl renders only Deployments"));
        let ok = app("kind: StatefulSet\nexisting: true");
        assert!(problems_of(&ok).is_empty());
        let job = app("existing: true\nscaling: {kind: ScaledJob}");
        assert!(problems_of(&job)[0].starts_with("apps[0].existing: a ScaledJob"));
    }
}
