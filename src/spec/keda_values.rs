//! `keda.values` and `keda.valuesFile`: a team's settings for the KEDA Helm chart (resources,
//! tolerations, a PodDisruptionBudget, …), passed under the values kedactl must own, which win.
//! A user value that contradicts one of them is a config error naming the field and the fix, so
//! nothing is installed with a setting that silently does not apply. Pure but for `read_file`.

use super::{AuthMode, Problem, Spec};
use serde_json::{Map, Value};
use std::path::Path;

/// A chart value kedactl sets (`--set`), or reserves for what it sets another way.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    /// The path of keys under the chart's values (a key may hold dots: `helm.sh/resource-policy`).
    pub path: Vec<String>,
    /// What kedactl sets; None: no value may be given (kedactl decides it, e.g. the role ARN
    /// before the account is known, or an annotation the association must not be overridden by).
    pub value: Option<Value>,
    /// What to do instead of setting it here.
    pub fix: String,
}

impl Owned {
    fn new(path: &[&str], value: Option<Value>, fix: impl Into<String>) -> Owned {
        Owned {
            path: path.iter().map(|s| s.to_string()).collect(),
            value,
            fix: fix.into(),
        }
    }

    /// `a.b.c` as helm's `--set` spells it (a dot inside a key escaped).
    pub fn set_key(&self) -> String {
        let keys: Vec<String> = self.path.iter().map(|k| k.replace('.', r"\.")).collect();
        keys.join(".")
    }

    /// `keda.values.a.b.c`, the field a problem names.
    pub fn field(&self) -> String {
        format!("keda.values.{}", self.path.join("."))
    }
}

/// The annotation IRSA reads on a service account.
const ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// The values kedactl owns for KEDA chart `version` (its service account key moved in 2.14.0):
/// the operator's service account, IRSA on or off (`irsa_role`: the operator role's ARN when
/// known), and the CRDs kept on uninstall. In `--set` order.
pub fn owned(
    version: &str,
    service_account: &str,
    mode: AuthMode,
    irsa_role: Option<&str>,
) -> Vec<Owned> {
    let per_component = !matches!(super::names::version(version), Ok((2, m, _)) if m < 14);
    let sa: &[&str] = match per_component {
        true => &["serviceAccount", "operator"],
        false => &["serviceAccount"],
    };
    let with =
        |last: &[&'static str]| -> Vec<&'static str> { sa.iter().chain(last).copied().collect() };
    let irsa = mode == AuthMode::Irsa;
    let mut out = vec![
        // helm leaves an object with this annotation on uninstall. The chart templates its
        // CRDs, so without it `helm uninstall` deletes them once the operator is gone, and a
        // keda.sh object created in between hangs on its finalizer: kedactl deletes them
        // itself, after checking nothing uses them.
        Owned::new(
            &["crds", "additionalAnnotations", "helm.sh/resource-policy"],
            Some("keep".into()),
            "remove it: kedactl keeps KEDA's CRDs on helm uninstall and deletes them itself once nothing uses them",
        ),
        Owned::new(
            &with(&["name"]),
            Some(service_account.into()),
            "set keda.serviceAccount instead (the pod identity association and the roles' trust name it)",
        ),
        Owned::new(
            &["podIdentity", "aws", "irsa", "enabled"],
            Some(irsa.into()),
            "set authMode instead (irsa or pod-identity)",
        ),
    ];
    let arn_fix = match irsa {
        true => "remove it: kedactl sets the operator role's ARN (roles.operator)",
        false => {
            "remove it: with authMode pod-identity the operator gets credentials from its association (or set authMode: irsa)"
        }
    };
    // Pod Identity: no role ARN at all (IRSA's web identity would win over the association).
    let arn = irsa_role.filter(|_| irsa).map(Value::from);
    out.push(Owned::new(
        &["podIdentity", "aws", "irsa", "roleArn"],
        arn,
        arn_fix,
    ));
    out.push(Owned::new(
        &with(&["annotations", ROLE_ANNOTATION]),
        None,
        arn_fix,
    ));
    out
}

fn at<'a>(values: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = values.get(first)?;
    match rest.is_empty() {
        true => Some(v),
        false => at(v.as_object()?, rest),
    }
}

/// Every user value that contradicts one kedactl owns.
pub fn conflicts(values: &Map<String, Value>, owned: &[Owned]) -> Vec<Problem> {
    owned
        .iter()
        .filter_map(|o| {
            let given = at(values, &o.path)?;
            if o.value.as_ref() == Some(given) {
                return None;
            }
            let message = match &o.value {
                Some(v) => {
                    format!("kedactl sets this to {v} and it wins, so {given} would not apply")
                }
                None => format!("kedactl decides this value, so {given} would not apply"),
            };
            Some(Problem::new(o.field(), message, o.fix.clone()))
        })
        .collect()
}

/// The chart's top-level values by the release that added them, read in the chart's
/// `keda/values.yaml` at each tag of github.com/kedacore/charts (2.13.0 … 2.20.2).
type Release = (u64, u64, u64);

const CHART_KEYS: &[(Release, &[&str])] = &[
    (
        (2, 13, 0),
        &[
            "additionalAnnotations",
            "additionalLabels",
            "affinity",
            "asciiArt",
            "certificates",
            "clusterDomain",
            "clusterName",
            "crds",
            "env",
            "extraArgs",
            "extraObjects",
            "global",
            "grpcTLSCertsSecret",
            "hashiCorpVaultTLS",
            "http",
            "image",
            "imagePullSecrets",
            "logging",
            "metricsServer",
            "networkPolicy",
            "nodeSelector",
            "opentelemetry",
            "operator",
            "permissions",
            "podAnnotations",
            "podDisruptionBudget",
            "podIdentity",
            "podLabels",
            "podSecurityContext",
            "priorityClassName",
            "profiling",
            "prometheus",
            "rbac",
            "resources",
            "securityContext",
            "service",
            "serviceAccount",
            "tolerations",
            "topologySpreadConstraints",
            "upgradeStrategy",
            "volumes",
            "watchNamespace",
            "webhooks",
        ],
    ),
    ((2, 14, 0), &["customManagedBy"]),
    ((2, 17, 0), &["enableServiceLinks"]),
    ((2, 17, 2), &["hostAliases"]),
];

/// The newest chart `CHART_KEYS` was read at: a newer one may have keys it does not list.
const CHART_KEYS_READ: Release = (2, 20, 2);

/// Top-level keys chart `version` does not have (a typo helm would silently ignore); nothing
/// for a version newer than the table.
pub fn unknown_keys(values: &Map<String, Value>, version: &str) -> Vec<Problem> {
    let Ok(v) = super::names::version(version) else {
        return vec![];
    };
    if v > CHART_KEYS_READ {
        return vec![];
    }
    let known: Vec<&str> = CHART_KEYS
        .iter()
        .filter(|(since, _)| *since <= v)
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect();
    values
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            let newer = CHART_KEYS
                .iter()
                .find(|(_, keys)| keys.contains(&k.as_str()))
                .map(|((a, b, c), _)| format!(" (the chart has it from {a}.{b}.{c} on)"));
            Problem::new(
                format!("keda.values.{k}"),
                format!(
                    "the KEDA chart {version} has no value {k:?}{}, so helm would ignore it",
                    newer.unwrap_or_default()
                ),
                "check the name against the chart's values (helm show values keda --repo https://kedacore.github.io/charts --version <keda.version>)",
            )
        })
        .collect()
}

/// Every problem with `keda.values` (after `valuesFile` was merged in): unknown keys, and
/// contradictions of what kedactl owns.
pub fn problems(spec: &Spec) -> Vec<Problem> {
    let k = &spec.keda;
    let owned = owned(&k.version, &k.service_account, spec.auth_mode, None);
    let mut out = unknown_keys(&k.values, &k.version);
    out.extend(conflicts(&k.values, &owned));
    out
}

/// `over` merged into `base`: mappings key by key, anything else replaced (as helm merges
/// `-f a.yaml -f b.yaml`).
pub fn merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What helm gets: the user's values with kedactl's own set over them.
pub fn effective(user: &Map<String, Value>, owned: &[Owned]) -> Map<String, Value> {
    let mut out = user.clone();
    for o in owned {
        let Some(v) = &o.value else { continue };
        let mut node = &mut out;
        let (last, parents) = o.path.split_last().expect("a path has a key");
        for p in parents {
            let entry = node
                .entry(p.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = entry.as_object_mut().expect("made an object");
        }
        node.insert(last.clone(), v.clone());
    }
    out
}

/// `keda.valuesFile` (relative to the config's folder `base`), merged under `keda.values`.
pub fn read_file(spec: &mut Spec, base: &Path) -> Result<(), Problem> {
    let Some(name) = spec.keda.values_file.clone() else {
        return Ok(());
    };
    let path = base.join(&name);
    let fail = |why: String, fix: &str| Problem::new("keda.valuesFile", why, fix);
    let bytes =
        crate::limits::read_bounded(&path, crate::limits::MAX_CONFIG_BYTES).map_err(|e| {
            fail(
                e.to_string(),
                "check the path (relative to kedactl.yaml's folder)",
            )
        })?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed: Value = crate::yaml::from_str(&text).map_err(|e| {
        fail(
            format!("{} is not YAML: {e}", path.display()),
            "fix the file: it holds chart values, as `helm install -f FILE` reads them",
        )
    })?;
    let file = match parsed {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            return Err(fail(
                format!(
                    "{} holds {other}, not a mapping of chart values",
                    path.display()
                ),
                "write the chart's values as a mapping (resources:, tolerations:, …)",
            ));
        }
    };
    let mut values = file;
    merge(&mut values, &spec.keda.values);
    spec.keda.values = values;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn kedactl_s_values_win_over_the_user_s_and_the_rest_is_merged() {
        let mine = owned(
            "2.20.2",
            "keda-operator",
            AuthMode::Irsa,
            Some("arn:aws:iam::1:role/op"),
        );
        let user = map(json!({
            "resources": {"operator": {"limits": {"cpu": "1"}}},
            "serviceAccount": {"operator": {"annotations": {"team": "a"}}},
            "priorityClassName": "high"
        }));
        let all = effective(&user, &mine);
        assert_eq!(
            Value::Object(all),
            json!({
                "resources": {"operator": {"limits": {"cpu": "1"}}},
                "serviceAccount": {"operator": {"annotations": {"team": "a"}, "name": "keda-operator"}},
                "priorityClassName": "high",
                "crds": {"additionalAnnotations": {"helm.sh/resource-policy": "keep"}},
                "podIdentity": {"aws": {"irsa": {"enabled": true, "roleArn": "arn:aws:iam::1:role/op"}}}
            })
        );
        // The same keys helm's --set gets.
        let keys: Vec<String> = mine
            .iter()
            .filter(|o| o.value.is_some())
            .map(Owned::set_key)
            .collect();
        assert_eq!(
            keys,
            [
                r"crds.additionalAnnotations.helm\.sh/resource-policy",
                "serviceAccount.operator.name",
                "podIdentity.aws.irsa.enabled",
                "podIdentity.aws.irsa.roleArn"
            ]
        );
        // Before 2.14 the chart has one service account key.
        let old = owned("2.13.2", "sa", AuthMode::PodIdentity, None);
        assert_eq!(old[1].set_key(), "serviceAccount.name");
        assert_eq!(old[2].value, Some(json!(false)));
        assert_eq!(old[3].value, None, "no role ARN with Pod Identity");
    }

    #[test]
    fn a_file_s_values_are_merged_under_the_config_s() {
        let mut base = map(
            json!({"resources": {"operator": {"limits": {"cpu": "1", "memory": "1Gi"}}}, "tolerations": [{"key": "a"}]}),
        );
        merge(
            &mut base,
            &map(json!({"resources": {"operator": {"limits": {"cpu": "2"}}}, "tolerations": []})),
        );
        assert_eq!(
            Value::Object(base),
            json!({"resources": {"operator": {"limits": {"cpu": "2", "memory": "1Gi"}}}, "tolerations": []})
        );
    }

    #[test]
    fn a_value_that_contradicts_kedactl_s_is_named_with_its_fix() {
        let mut spec = Spec::default();
        spec.keda.values = map(json!({
            "serviceAccount": {"operator": {"name": "other", "annotations": {ROLE_ANNOTATION: "arn:aws:iam::1:role/x"}}},
            "podIdentity": {"aws": {"irsa": {"enabled": true}}},
            "crds": {"additionalAnnotations": {"helm.sh/resource-policy": "keep"}},
            "resources": {}
        }));
        let p = problems(&spec);
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "keda.values.serviceAccount.operator.name",
                "keda.values.podIdentity.aws.irsa.enabled",
                "keda.values.serviceAccount.operator.annotations.eks.amazonaws.com/role-arn"
            ]
        );
        assert!(
            p[0].message.contains("\"keda-operator\"") && p[0].fix.contains("keda.serviceAccount"),
            "{:?}",
            p[0]
        );
        assert!(p[1].fix.contains("authMode"), "{:?}", p[1]);
        // The value kedactl sets anyway is no contradiction.
        spec.keda.values = map(json!({"serviceAccount": {"operator": {"name": "keda-operator"}}}));
        assert!(problems(&spec).is_empty());
    }

    #[test]
    fn keys_the_chart_does_not_have_are_named() {
        let values = map(json!({"tolerations": [], "tolleration": [], "hostAliases": []}));
        let p = unknown_keys(&values, "2.16.0");
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["keda.values.tolleration", "keda.values.hostAliases"]
        );
        assert!(p[1].message.contains("from 2.17.2 on"), "{:?}", p[1]);
        assert!(unknown_keys(&values, "2.18.0").len() == 1);
        // A chart newer than the table: not judged.
        assert!(unknown_keys(&values, "2.99.0").is_empty());
    }

    #[test]
    fn a_values_file_is_read_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("keda.yaml"),
            "resources:\n  operator:\n    limits:\n      cpu: '1'\npriorityClassName: low\n",
        )
        .unwrap();
        let mut spec = Spec::default();
        spec.keda.values_file = Some("keda.yaml".into());
        spec.keda.values = map(json!({"priorityClassName": "high"}));
        read_file(&mut spec, dir.path()).unwrap();
        assert_eq!(
            Value::Object(spec.keda.values.clone()),
            json!({"resources": {"operator": {"limits": {"cpu": "1"}}}, "priorityClassName": "high"})
        );
        spec.keda.values_file = Some("missing.yaml".into());
        let e = read_file(&mut spec, dir.path()).unwrap_err();
        assert_eq!(e.field, "keda.valuesFile");
        assert!(e.message.contains("missing.yaml"), "{e:?}");
        std::fs::write(dir.path().join("list.yaml"), "- a\n").unwrap();
        spec.keda.values_file = Some("list.yaml".into());
        assert!(
            read_file(&mut spec, dir.path())
                .unwrap_err()
                .message
                .contains("not a mapping")
        );
    }
}
