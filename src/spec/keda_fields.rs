//! Which KEDA release first knows each optional field kedactl renders. kube-apiserver prunes a
//! field the installed CRD does not declare (and only warns, unless the request asks for strict
//! field validation), so a field set for an older KEDA would silently never take effect. Each
//! release below was read in the ScaledObject CRD (`config/crd/bases/keda.sh_scaledobjects.yaml`)
//! at the KEDA tags: absent at the release before, present at this one.

use super::{Scaling, ScalingKind};

/// A field newer than KEDA 2.13 (the oldest release kedactl accepts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gated {
    /// Path under the app, e.g. `scaling.fallback.behavior`.
    pub field: String,
    /// The release whose CRD introduced it.
    pub since: (u64, u64, u64),
}

impl Gated {
    pub fn since_text(&self) -> String {
        let (a, b, c) = self.since;
        format!("{a}.{b}.{c}")
    }
}

const INITIAL_COOLDOWN: (u64, u64, u64) = (2, 14, 0);
const FALLBACK_BEHAVIOR: (u64, u64, u64) = (2, 17, 0);
const HPA_TOLERANCE: (u64, u64, u64) = (2, 18, 0);

/// Every field the app's scaling sets that this KEDA `version` does not know yet.
pub fn unknown_to(s: &Scaling, version: (u64, u64, u64)) -> Vec<Gated> {
    if s.kind != ScalingKind::ScaledObject {
        return vec![];
    }
    let mut set: Vec<(String, (u64, u64, u64))> = Vec::new();
    if s.initial_cooldown_period.is_some() {
        set.push(("scaling.initialCooldownPeriod".into(), INITIAL_COOLDOWN));
    }
    if s.fallback.as_ref().is_some_and(|f| f.behavior.is_some()) {
        set.push(("scaling.fallback.behavior".into(), FALLBACK_BEHAVIOR));
    }
    let behavior = s
        .advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.behavior.as_ref());
    if let Some(b) = behavior {
        for (dir, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
            if rules.as_ref().is_some_and(|r| r.tolerance.is_some()) {
                set.push((
                    format!(
                        "scaling.advanced.horizontalPodAutoscalerConfig.behavior.{dir}.tolerance"
                    ),
                    HPA_TOLERANCE,
                ));
            }
        }
    }
    set.into_iter()
        .filter(|(_, since)| version < *since)
        .map(|(field, since)| Gated { field, since })
        .collect()
}

/// The fields of `apps` that a KEDA installed by someone else (so kedactl will not upgrade it)
/// does not know: `detected` is the operator's version, `namespace` where it runs. A version
/// that is not a release (e.g. `main`) cannot be judged, so nothing is refused.
pub fn unknown_to_installed(
    apps: &[super::App],
    detected: &str,
    namespace: &str,
) -> Vec<super::Problem> {
    let Ok(version) = super::names::version(detected) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        for g in unknown_to(&app.scaling, version) {
            out.push(super::Problem::new(
                format!("apps[{i}].{}", g.field),
                format!(
                    "the cluster runs KEDA {detected} (namespace {namespace}, not installed by \
                     this stack, so kedactl will not upgrade it), whose CRD does not know this \
                     field: KEDA {} introduced it (the API server would drop it)",
                    g.since_text()
                ),
                format!(
                    "remove {} from the config, or upgrade that KEDA to {} or newer where it \
                     was installed",
                    g.field,
                    g.since_text()
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{
        Advanced, Fallback, FallbackBehavior, HpaBehavior, HpaConfig, HpaRules, Spec,
    };

    fn full() -> Scaling {
        let mut s = Spec::default().apps[0].scaling.clone();
        s.initial_cooldown_period = Some(60);
        s.fallback = Some(Fallback {
            failure_threshold: 3,
            replicas: 2,
            behavior: Some(FallbackBehavior::CurrentReplicas),
        });
        s.advanced = Some(Advanced {
            restore_to_original_replica_count: false,
            horizontal_pod_autoscaler_config: Some(HpaConfig {
                behavior: Some(HpaBehavior {
                    scale_up: None,
                    scale_down: Some(HpaRules {
                        tolerance: Some(0.05),
                        ..Default::default()
                    }),
                }),
            }),
        });
        s
    }

    fn fields(v: (u64, u64, u64)) -> Vec<String> {
        unknown_to(&full(), v)
            .into_iter()
            .map(|g| format!("{} {}", g.field, g.since_text()))
            .collect()
    }

    #[test]
    fn each_field_is_refused_below_the_release_that_introduced_it() {
        let tolerance =
            "scaling.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.tolerance 2.18.0";
        assert_eq!(
            fields((2, 13, 2)),
            [
                "scaling.initialCooldownPeriod 2.14.0",
                "scaling.fallback.behavior 2.17.0",
                tolerance
            ]
        );
        assert_eq!(
            fields((2, 14, 0)),
            ["scaling.fallback.behavior 2.17.0", tolerance]
        );
        assert_eq!(
            fields((2, 16, 9)),
            ["scaling.fallback.behavior 2.17.0", tolerance]
        );
        assert_eq!(fields((2, 17, 0)), [tolerance]);
        assert!(fields((2, 18, 0)).is_empty());
        assert!(fields((2, 20, 2)).is_empty());
        // Without the optional fields nothing is gated.
        let plain = Spec::default().apps[0].scaling.clone();
        assert!(unknown_to(&plain, (2, 13, 0)).is_empty());
        // A fallback without a behavior is as old as 2.13.
        let mut s = plain;
        s.fallback = Some(Fallback {
            failure_threshold: 3,
            replicas: 2,
            behavior: None,
        });
        assert!(unknown_to(&s, (2, 13, 0)).is_empty());
    }

    #[test]
    fn an_installed_keda_is_judged_by_its_own_version() {
        let mut spec = Spec::default();
        spec.apps[0].scaling = full();
        let p = unknown_to_installed(&spec.apps, "2.16.1", "ops");
        let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "apps[0].scaling.fallback.behavior",
                "apps[0].scaling.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.tolerance"
            ]
        );
        assert!(
            p[0].message.contains("KEDA 2.16.1 (namespace ops")
                && p[0].message.contains("KEDA 2.17.0 introduced it"),
            "{}",
            p[0].message
        );
        assert!(unknown_to_installed(&spec.apps, "2.20.2", "ops").is_empty());
        assert!(unknown_to_installed(&spec.apps, "main", "ops").is_empty());
    }
}
