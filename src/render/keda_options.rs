//! The optional KEDA fields of an app's ScaledObject or ScaledJob, in KEDA's own shape: only
//! what the config sets is rendered, so a config without them renders what it always did.

use crate::spec::{Scaling, ScalingKind};
use serde_json::{Map, Value, json};

/// The pause annotations (`autoscaling.keda.sh/paused`, `paused-replicas`).
pub fn annotations(s: &Scaling) -> Map<String, Value> {
    let mut out = Map::new();
    if s.paused {
        out.insert("autoscaling.keda.sh/paused".into(), json!("true"));
    }
    if let (ScalingKind::ScaledObject, Some(n)) = (s.kind, s.paused_replicas) {
        out.insert(
            "autoscaling.keda.sh/paused-replicas".into(),
            json!(n.to_string()),
        );
    }
    out
}

/// Extra `spec` fields of the ScaledObject or ScaledJob.
pub fn spec_fields(s: &Scaling) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.into(), v);
    };
    match s.kind {
        ScalingKind::ScaledObject => {
            if let Some(n) = s.idle_replica_count {
                put("idleReplicaCount", json!(n));
            }
            if let Some(n) = s.initial_cooldown_period {
                put("initialCooldownPeriod", json!(n));
            }
            if let Some(f) = &s.fallback {
                put("fallback", serde_json::to_value(f).unwrap_or_default());
            }
            if let Some(a) = &s.advanced {
                let mut v = serde_json::to_value(a).unwrap_or_default();
                // Quantities: a tolerance is written as a string ("0.05"), which the CRD's
                // int-or-string accepts; a bare decimal it does not.
                for dir in ["scaleUp", "scaleDown"] {
                    if let Some(t) = v.pointer_mut(&format!(
                        "/horizontalPodAutoscalerConfig/behavior/{dir}/tolerance"
                    )) && let Some(x) = t.as_f64()
                    {
                        *t = json!(x.to_string());
                    }
                }
                if v.as_object().is_some_and(|m| !m.is_empty()) {
                    put("advanced", v);
                }
            }
        }
        ScalingKind::ScaledJob => {
            if let Some(st) = &s.scaling_strategy {
                let mut v = serde_json::to_value(st).unwrap_or_default();
                // KEDA takes the percentage as a string it parses as a float.
                if let Some(t) = v.pointer_mut("/customScalingRunningJobPercentage")
                    && let Some(x) = t.as_f64()
                {
                    *t = json!(x.to_string());
                }
                put("scalingStrategy", v);
            }
            if let Some(n) = s.successful_jobs_history_limit {
                put("successfulJobsHistoryLimit", json!(n));
            }
            if let Some(n) = s.failed_jobs_history_limit {
                put("failedJobsHistoryLimit", json!(n));
            }
        }
    }
    out
}

/// Extra fields of the ScaledJob's `jobTargetRef` (a Job spec).
pub fn job_fields(s: &Scaling) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(n) = s.active_deadline_seconds {
        out.insert("activeDeadlineSeconds".into(), json!(n));
    }
    if let Some(n) = s.backoff_limit {
        out.insert("backoffLimit".into(), json!(n));
    }
    out
}
