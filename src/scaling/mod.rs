//! The decisions KEDA and the HPA make for an `aws-sqs-queue` ScaledObject, as pure functions
//! of their inputs. Time is an input (seconds), never the wall clock, so the same code drives
//! the simulator, the `scale` loop and doctor's "why is it not scaling" explanations.
//!
//! Sources: KEDA v2.20.2 `aws_sqs_queue_scaler.go`,
//! `scale_executor.go` (0↔1 and cooldown), `controllers/keda/hpa.go` (the HPA it creates), and
//! Kubernetes `pkg/controller/podautoscaler` (sync every 15 s, tolerance 0.1, stabilisation,
//! scale-up limit, behavior policies).

mod hpa;
pub mod job;
pub mod scenario;
pub mod simulate;
pub mod trace;

pub use hpa::{Behavior, Policy, PolicyKind, Rules, Select};

use crate::spec::Scaling;
use serde::Serialize;
use std::collections::VecDeque;

/// How often the HPA controller syncs (kube-controller-manager default).
pub const HPA_SYNC_SECONDS: u64 = 15;
/// HPA tolerance: no change while the usage ratio is within 0.1 of 1 (see `Params::tolerates`).
pub const TOLERANCE: f64 = 0.1;
/// The newest Kubernetes minor version EKS supports (1.36: the EKS user guide's current version
/// in its version-lifecycle page, December 2026), whose rules apply offline unless
/// `--k8s-version` says otherwise. Update when EKS adds a version.
pub const NEWEST_EKS_MINOR: u32 = 36;
/// From 1.33 the HPA tests tolerance as `Tolerances.isWithin`: (1 − down) ≤ ratio ≤ (1 + up).
pub const INCLUSIVE_TOLERANCE_MINOR: u32 = 33;
/// From 1.35 a per-HPA `behavior.scale{Up,Down}.tolerance` applies by default (feature gate
/// HPAConfigurableTolerance: alpha and off in 1.33 and 1.34, which EKS does not turn on).
pub const CONFIGURABLE_TOLERANCE_MINOR: u32 = 35;
/// Default scale-down stabilisation window.
pub const DOWNSCALE_WINDOW_SECONDS: u64 = 300;

/// The three SQS attributes KEDA may read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

/// `fallback.behavior`: which replica count the synthetic metric asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FallbackBehavior {
    /// `static` (the default): `fallback.replicas`.
    #[default]
    Static,
    /// `currentReplicas`: the target's current count.
    CurrentReplicas,
    /// `currentReplicasIfHigher`: the higher of the two.
    CurrentReplicasIfHigher,
    /// `currentReplicasIfLower`: the lower of the two.
    CurrentReplicasIfLower,
}

/// Fallback (`pkg/fallback/fallback.go`): once more than `failure_threshold` consecutive
/// metric reads failed, KEDA answers the HPA's metric request with a synthetic value of
/// `queueLength × replicas`, so the HPA's limits and window still apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    pub failure_threshold: u32,
    pub replicas: u32,
    pub behavior: FallbackBehavior,
}

impl Fallback {
    /// `doFallback`'s replica count for the behavior.
    fn replicas(&self, current: u32) -> u32 {
        match self.behavior {
            FallbackBehavior::Static => self.replicas,
            FallbackBehavior::CurrentReplicas => current,
            FallbackBehavior::CurrentReplicasIfHigher => current.max(self.replicas),
            FallbackBehavior::CurrentReplicasIfLower => current.min(self.replicas),
        }
    }
}

/// Everything that shapes the decisions for one ScaledObject.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub queue_length: u64,
    pub activation_queue_length: u64,
    /// The trigger's metricType is Value: the HPA compares the metric itself with
    /// queue_length, not the metric per replica (AverageValue).
    pub value_target: bool,
    pub min: u32,
    pub max: u32,
    pub polling_interval: u64,
    pub cooldown_period: u64,
    pub scale_on_in_flight: bool,
    pub scale_on_delayed: bool,
    /// `advanced.horizontalPodAutoscalerConfig.behavior`; None is KEDA's default (nil).
    pub behavior: Option<Behavior>,
    pub fallback: Option<Fallback>,
    /// The Kubernetes minor version (1.x) whose HPA rules apply.
    pub k8s_minor: u32,
    /// `idleReplicaCount`: the replicas while inactive, below minReplicas.
    pub idle: Option<u32>,
    /// `initialCooldownPeriod`: seconds after creation before a never-active target scales in.
    pub initial_cooldown: u64,
    /// The pause annotations: None runs; `Some(None)` freezes the replicas where they are
    /// (`autoscaling.keda.sh/paused`), `Some(Some(n))` pins them to n (`paused-replicas`).
    pub paused: Option<Option<u32>>,
}

impl Params {
    /// The app's parameters, with its trigger's target per replica and activation bound
    /// (messages for SQS, thousandths of a query value for prometheus).
    pub fn from_app(app: &crate::spec::App) -> Self {
        let t = app.trigger.imp().scaling_target(app);
        Params {
            queue_length: t.per_replica.max(1),
            activation_queue_length: t.activation,
            value_target: app.trigger.imp().metric_type(app)
                == Some(crate::triggers::MetricType::Value),
            ..Params::from_spec(&app.scaling)
        }
    }

    pub fn from_spec(s: &Scaling) -> Self {
        Params {
            queue_length: u64::from(s.queue_length.max(1)),
            activation_queue_length: u64::from(s.activation_queue_length),
            value_target: false,
            min: s.min_replicas,
            max: s.max_replicas,
            // What KEDA applies: its defaults where kedactl leaves the fields out.
            polling_interval: u64::from(s.effective_polling_interval().max(1)),
            cooldown_period: u64::from(s.effective_cooldown_period()),
            scale_on_in_flight: s.scale_on_in_flight,
            scale_on_delayed: s.scale_on_delayed,
            behavior: s
                .advanced
                .as_ref()
                .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
                .and_then(|h| h.behavior.as_ref())
                .map(Behavior::from_spec),
            fallback: s.fallback.as_ref().map(|f| Fallback {
                failure_threshold: f.failure_threshold,
                replicas: f.replicas,
                behavior: match f.behavior {
                    None | Some(crate::spec::FallbackBehavior::Static) => FallbackBehavior::Static,
                    Some(crate::spec::FallbackBehavior::CurrentReplicas) => {
                        FallbackBehavior::CurrentReplicas
                    }
                    Some(crate::spec::FallbackBehavior::CurrentReplicasIfHigher) => {
                        FallbackBehavior::CurrentReplicasIfHigher
                    }
                    Some(crate::spec::FallbackBehavior::CurrentReplicasIfLower) => {
                        FallbackBehavior::CurrentReplicasIfLower
                    }
                },
            }),
            k8s_minor: NEWEST_EKS_MINOR,
            idle: s.idle_replica_count,
            initial_cooldown: u64::from(s.initial_cooldown_period.unwrap_or(0)),
            // NeedToBePausedByAnnotation: paused-replicas pauses whatever `paused` says.
            paused: match (s.paused, s.paused_replicas) {
                (_, Some(n)) => Some(Some(n)),
                (true, None) => Some(None),
                (false, None) => None,
            },
        }
    }

    /// Where the replicas rest once the queue is idle: the paused count, else idle, else min.
    pub fn rest_replicas(&self) -> u32 {
        match self.paused {
            Some(Some(n)) => n,
            _ => self.idle.unwrap_or(self.min).min(self.max),
        }
    }

    /// Whether the HPA keeps the current count for this usage ratio. Up to 1.32
    /// (`replica_calculator.go`): `math.Abs(1.0-usageRatio) <= tolerance`; from 1.33
    /// `Tolerances.isWithin`: `(1.0-scaleDown) <= usageRatio && usageRatio <= (1.0+scaleUp)`,
    /// with a per-HPA tolerance from `behavior` where the version honours it. The two differ
    /// at a ratio of exactly 1.1 (11 messages on 2 pods of 5): |1 − 1.1| is 0.10000000000000009
    /// in floating point.
    pub fn tolerates(&self, ratio: f64) -> bool {
        if self.k8s_minor < INCLUSIVE_TOLERANCE_MINOR {
            return (1.0 - ratio).abs() <= TOLERANCE;
        }
        let (mut up, mut down) = (TOLERANCE, TOLERANCE);
        if self.k8s_minor >= CONFIGURABLE_TOLERANCE_MINOR
            && let Some(b) = &self.behavior
        {
            up = b.scale_up.tolerance.unwrap_or(up);
            down = b.scale_down.tolerance.unwrap_or(down);
        }
        (1.0 - down) <= ratio && ratio <= (1.0 + up)
    }

    /// The metric KEDA reports: visible, plus in-flight and delayed when enabled.
    pub fn metric(&self, q: QueueDepth) -> u64 {
        q.visible
            + if self.scale_on_in_flight {
                q.in_flight
            } else {
                0
            }
            + if self.scale_on_delayed { q.delayed } else { 0 }
    }

    /// The HPA's minReplicas: KEDA never gives the HPA 0 (it owns 0↔1 itself).
    pub fn hpa_min(&self) -> u32 {
        self.min.max(1)
    }

    /// Replicas for a metric at `current` replicas: ceil(metric / queueLength) for an
    /// AverageValue target, ceil(current × metric / queueLength) for a Value target, within
    /// [min, max], and 0 when the scaler is inactive and min is 0.
    pub fn target_at(&self, metric: u64, current: u32) -> u32 {
        if (self.min == 0 || self.idle.is_some()) && metric <= self.activation_queue_length {
            return self.idle.unwrap_or(0);
        }
        let want = self.wanted(metric, current);
        (want.min(u64::from(self.max)) as u32).clamp(self.hpa_min().min(self.max), self.max)
    }

    /// `target_at` one replica: the steady state of an AverageValue target.
    pub fn target(&self, metric: u64) -> u32 {
        self.target_at(metric, 1)
    }

    /// The HPA's usage ratio and the count it asks for, outside the tolerance
    /// (`replica_calculator.go`): per pod for AverageValue, of the whole for Value.
    fn ratio(&self, metric: u64, current: u32) -> f64 {
        let target = self.queue_length as f64;
        match self.value_target {
            true => metric as f64 / target,
            false => metric as f64 / (target * f64::from(current.max(1))),
        }
    }

    fn wanted(&self, metric: u64, current: u32) -> u64 {
        match self.value_target {
            // getUsageRatioReplicaCount: ceil(usageRatio × currentReplicas), or
            // ceil(usageRatio) from 0.
            true => (self.ratio(metric, current) * f64::from(current.max(1))).ceil() as u64,
            false => metric.div_ceil(self.queue_length),
        }
    }
}

/// What the two controllers remember between steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub replicas: u32,
    /// Last poll at which the scaler was active (seconds).
    pub last_active: Option<u64>,
    /// When the ScaledObject was created (the never-active cooldown starts here).
    pub created_at: u64,
    /// HPA recommendations (time, replicas), for stabilisation windows.
    recommendations: VecDeque<(u64, u32)>,
    /// HPA scale-up and scale-down events, for behavior rate limits (`scaleUpEvents`,
    /// `scaleDownEvents` in `horizontal.go`: only stored when a behavior is set).
    up_events: Vec<hpa::ScaleEvent>,
    down_events: Vec<hpa::ScaleEvent>,
    /// Consecutive metric errors (fallback).
    pub failures: u32,
    /// Whether the HPA has synced once: its first sync records the current replica count as a
    /// recommendation (`recordInitialRecommendation` in `horizontal.go`).
    hpa_started: bool,
}

impl State {
    pub fn new(replicas: u32, now: u64) -> Self {
        State {
            replicas,
            created_at: now,
            ..State::default()
        }
    }
}

/// One decision with its inputs and the reason, for logs and `scale --once`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Decision {
    pub metric: u64,
    pub active: bool,
    pub current: u32,
    pub target: u32,
    pub next: u32,
    pub reason: String,
}

/// KEDA's step, every pollingInterval: activation, 0 → 1, and 1 → 0 after the cooldown.
/// `metric` is `Err` when the scaler failed to read the queue.
pub fn keda_poll(p: &Params, s: &mut State, now: u64, metric: Result<u64, ()>) -> Decision {
    let current = s.replicas;
    if let Some(pinned) = p.paused {
        return paused(s, metric.unwrap_or(0), pinned);
    }
    let Ok(m) = metric else {
        // GetMetricsWithFallback counts the failure; the executor (RequestScale with isError)
        // leaves the replicas alone while a fallback with replicas ≠ 0 is configured, and
        // otherwise treats the scaler as inactive (scaleToZeroOrIdle applies).
        s.failures = s.failures.saturating_add(1);
        let reason = match p.fallback {
            Some(f) if f.replicas != 0 && s.failures > f.failure_threshold => format!(
                "metric error #{} > failureThreshold {}: fallback, the HPA reads {} × {} (replicas unchanged by KEDA)",
                s.failures,
                f.failure_threshold,
                p.queue_length,
                f.replicas(current)
            ),
            Some(f) if f.replicas != 0 => format!(
                "metric error #{} (fallback after more than {}): replicas unchanged",
                s.failures, f.failure_threshold
            ),
            None => format!(
                "metric error #{}: replicas unchanged (no fallback)",
                s.failures
            ),
            // fallback.replicas 0: the error falls through to the inactive path.
            Some(_) => return inactive(p, s, now, 0, current),
        };
        return Decision {
            metric: 0,
            active: false,
            current,
            target: current,
            next: s.replicas,
            reason,
        };
    };
    s.failures = 0;
    // The scaler's IsActive: strictly above activationQueueLength, whatever minReplicas is.
    if m <= p.activation_queue_length {
        return inactive(p, s, now, m, current);
    }
    s.last_active = Some(now);
    // RequestScale, active: from zero, or from idle below minReplicas (scaleFromZeroOrIdle).
    let reason = if s.replicas == 0 || (p.idle.is_some() && s.replicas < p.min) {
        s.replicas = p.min.max(1);
        format!(
            "queue {m} > activation {}: activate, {current} → {}",
            p.activation_queue_length, s.replicas
        )
    } else {
        format!("active ({m} messages): the HPA scales 1..{}", p.max)
    };
    Decision {
        metric: m,
        active: true,
        current,
        target: p.target_at(m, current),
        next: s.replicas,
        reason,
    }
}

/// `RequestScale` with isActive false (`scale_executor`): below minReplicas back to min,
/// otherwise to zero after the cooldown when minReplicas is 0 (`scaleToZeroOrIdle`).
fn inactive(p: &Params, s: &mut State, now: u64, m: u64, current: u32) -> Decision {
    let act = p.activation_queue_length;
    // RequestScale with isActive false, in upstream's order: scaleToZeroOrIdle when above
    // idleReplicaCount (if set) or above 0 with minReplicas 0; else up to minReplicas when no
    // idleReplicaCount is set; else nothing.
    let scale_in = p.idle.is_some_and(|idle| s.replicas > idle) || (s.replicas > 0 && p.min == 0);
    let reason = if scale_in {
        let to = p.idle.unwrap_or(p.min);
        let what = match p.idle {
            Some(_) => "idleReplicaCount",
            None => "minReplicaCount",
        };
        // scaleToZeroOrIdle: once LastActiveTime + cooldownPeriod is in the past; with no
        // LastActiveTime (KEDA never saw the queue active, e.g. the replicas were set outside
        // KEDA) once creation + initialCooldownPeriod is. With initialCooldownPeriod 0 that is
        // at once (the ScaledObject was created before any poll).
        match s.last_active {
            None if p.initial_cooldown == 0 => {
                s.replicas = to;
                format!(
                    "inactive and never seen active (no LastActiveTime): scale to {what} {to} without a cooldown"
                )
            }
            None if s.created_at + p.initial_cooldown < now => {
                s.replicas = to;
                format!(
                    "inactive and never seen active, initialCooldownPeriod {} s over: scale to {what} {to}",
                    p.initial_cooldown
                )
            }
            None => format!(
                "inactive, never seen active: initialCooldownPeriod until {} s (now {now} s)",
                s.created_at + p.initial_cooldown + 1
            ),
            Some(since) if since + p.cooldown_period < now => {
                s.replicas = to;
                format!(
                    "inactive since {since} s, cooldown {} s over: scale to {what} {to}",
                    p.cooldown_period
                )
            }
            Some(since) => format!(
                "inactive: cooldown until {} s (now {now} s)",
                since + p.cooldown_period + 1
            ),
        }
    } else if p.idle.is_none() && s.replicas < p.min {
        s.replicas = p.min;
        format!(
            "queue {m} ≤ activation {act}: inactive, below minReplicas: {current} → {}",
            p.min
        )
    } else if s.replicas == 0 {
        format!("queue {m} ≤ activation {act}: inactive, stay at 0")
    } else if p.idle.is_some() {
        format!("queue {m} ≤ activation {act}: inactive, at idleReplicaCount {current}")
    } else {
        format!(
            "queue {m} ≤ activation {act}: inactive; minReplicas {} > 0, so KEDA leaves the count to the HPA",
            p.min
        )
    };
    Decision {
        metric: m,
        active: false,
        current,
        target: p.target_at(m, current),
        next: s.replicas,
        reason,
    }
}

/// A paused ScaledObject (`handlePaused`, the controller's `handlePause`): KEDA's loop is stopped
/// and its HPA deleted; `paused-replicas` sets the target to that count, `paused` alone leaves it.
fn paused(s: &mut State, metric: u64, pinned: Option<u32>) -> Decision {
    let current = s.replicas;
    let reason = match pinned {
        Some(n) => {
            s.replicas = n;
            format!(
                "paused (autoscaling.keda.sh/paused-replicas {n}): replicas {current} → {n}, no HPA"
            )
        }
        None => {
            "paused (autoscaling.keda.sh/paused): KEDA and its HPA leave the replicas as they are"
                .into()
        }
    };
    Decision {
        metric,
        active: false,
        current,
        target: s.replicas,
        next: s.replicas,
        reason,
    }
}

/// The HPA's step on a metric request that may fail: KEDA's metrics server answers through
/// `GetMetricsWithFallback`, which counts the failure too; once more than failureThreshold
/// reads failed in a row (`NumberOfFailures > FailureThreshold`), `doFallback` returns
/// `queueLength × replicas` (per `fallback.behavior`) and the HPA computes as usual, so its
/// limits and window apply. Without a fallback (or below the threshold) the HPA cannot compute
/// a count and keeps the current one (FailedGetExternalMetric).
pub fn hpa_sync_read(p: &Params, s: &mut State, now: u64, metric: Result<u64, ()>) -> Decision {
    match metric {
        Ok(m) => {
            s.failures = 0;
            hpa_sync(p, s, now, m)
        }
        Err(()) if p.paused.is_some() => hpa_sync(p, s, now, 0),
        Err(()) => {
            s.failures = s.failures.saturating_add(1);
            let current = s.replicas;
            match p.fallback {
                Some(f) if s.failures > f.failure_threshold => {
                    let replicas = f.replicas(current);
                    let mut synthetic = p.queue_length.saturating_mul(u64::from(replicas));
                    // doFallback: a Value target's replicas are divided by the ready ones.
                    if p.value_target {
                        synthetic /= u64::from(current.max(1));
                    }
                    let d = hpa_sync(p, s, now, synthetic);
                    Decision {
                        reason: format!(
                            "metric error #{} > failureThreshold {}: fallback metric {} × {replicas} = {synthetic}; {}",
                            s.failures, f.failure_threshold, p.queue_length, d.reason
                        ),
                        ..d
                    }
                }
                _ => Decision {
                    metric: 0,
                    active: false,
                    current,
                    target: current,
                    next: current,
                    reason: format!(
                        "metric error #{}: the HPA cannot compute a count (FailedGetExternalMetric), replicas unchanged",
                        s.failures
                    ),
                },
            }
        }
    }
}

/// The HPA's step, every 15 s: the usage ratio with tolerance, stabilisation, rate limits.
pub fn hpa_sync(p: &Params, s: &mut State, now: u64, metric: u64) -> Decision {
    if let Some(pinned) = p.paused {
        // The paused ScaledObject's HPA is deleted: nothing syncs.
        return paused(s, metric, pinned);
    }
    let current = s.replicas;
    let target = p.target_at(metric, current);
    // recordInitialRecommendation: a new HPA's first recommendation is the count it found, so
    // a fresh HPA holds that count for its scale-down window.
    if !s.hpa_started {
        s.hpa_started = true;
        s.recommendations.push_back((now, current));
    }
    let done = |s: &mut State, next: u32, reason: String| {
        if next != s.replicas {
            if let Some(b) = &p.behavior {
                hpa::store_scale_event(b, s, now, s.replicas, next);
            }
            s.replicas = next;
        }
        Decision {
            metric,
            active: metric > p.activation_queue_length,
            current,
            target,
            next,
            reason,
        }
    };
    if current == 0 {
        return done(
            s,
            0,
            "replicas 0: the HPA is disabled until KEDA activates (ScalingDisabled)".into(),
        );
    }
    let (lo, hi) = (p.hpa_min(), p.max);
    if current > hi {
        return done(s, hi, format!("above maxReplicas: {current} → {hi}"));
    }
    if current < lo {
        return done(s, lo, format!("below minReplicas: {current} → {lo}"));
    }
    // External metric: AverageValue ratio = total / (target × replicas); Value: total / target.
    let ratio = p.ratio(metric, current);
    let (proposed, why) = if p.tolerates(ratio) {
        (
            current,
            format!(
                "ratio {ratio:.2} within tolerance (Kubernetes 1.{} rule)",
                p.k8s_minor
            ),
        )
    } else {
        let want = p.wanted(metric, current).min(u64::from(u32::MAX)) as u32;
        let how = match p.value_target {
            true => format!("ceil({current} × {metric}/{}) = {want}", p.queue_length),
            false => format!("ceil({metric}/{}) = {want}", p.queue_length),
        };
        (want, how)
    };
    let (next, limits) = match &p.behavior {
        None => hpa::normalize_default(s, now, proposed, current, lo, hi),
        Some(b) => hpa::normalize_behavior(b, s, now, proposed, current, lo, hi),
    };
    let reason = if limits.is_empty() {
        why
    } else {
        format!("{why}; {limits}")
    };
    done(s, next, reason)
}

/// `scale --once`: what a KEDA and an HPA that have just met this Deployment decide on one
/// reading. KEDA polls first, then the HPA syncs; neither has history except what upstream
/// records on its first look (the HPA's initial recommendation, no LastActiveTime).
pub fn decide_once(p: &Params, current: u32, metric: u64) -> Decision {
    let mut s = State::new(current, 0);
    let keda = keda_poll(p, &mut s, 0, Ok(metric));
    let hpa = hpa_sync(p, &mut s, 0, metric);
    Decision {
        current,
        active: keda.active,
        reason: format!("KEDA: {}; HPA: {}", keda.reason, hpa.reason),
        ..hpa
    }
}

#[cfg(test)]
mod tests;
