//! The HPA's normalisation of a proposed replica count: stabilisation windows and rate limits,
//! for KEDA's default (no `behavior`) and for configured behavior policies.

use super::{DOWNSCALE_WINDOW_SECONDS, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// "At most `value` pods (or percent) per `period` seconds".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub value: u32,
    pub period: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No change in this direction.
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub stabilization_window: u64,
    /// `tolerance` (Kubernetes ≥ 1.35 by default); None is the controller's 0.1.
    pub tolerance: Option<f64>,
    pub select: Select,
    pub policies: Vec<Policy>,
}

/// `advanced.horizontalPodAutoscalerConfig.behavior`, with Kubernetes' defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub scale_up: Rules,
    pub scale_down: Rules,
}

impl Default for Behavior {
    /// What Kubernetes fills in for a behavior with no fields set (`autoscaling/v2` defaults).
    fn default() -> Self {
        Behavior {
            scale_up: Rules {
                stabilization_window: 0,
                tolerance: None,
                select: Select::Max,
                policies: vec![
                    Policy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period: 15,
                    },
                    Policy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period: 15,
                    },
                ],
            },
            scale_down: Rules {
                stabilization_window: DOWNSCALE_WINDOW_SECONDS,
                tolerance: None,
                select: Select::Max,
                policies: vec![Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period: 15,
                }],
            },
        }
    }
}

fn remember(s: &mut State, now: u64, proposed: u32, keep: u64) {
    s.recommendations.push_back((now, proposed));
    while s
        .recommendations
        .front()
        .is_some_and(|(t, _)| *t + keep < now)
    {
        s.recommendations.pop_front();
    }
}

/// KEDA's HPA has no behavior: the highest recommendation of the last 300 s (which delays only
/// scale-down), then at most max(2 × current, 4) replicas, then [min, max].
pub(super) fn normalize_default(
    s: &mut State,
    now: u64,
    proposed: u32,
    current: u32,
    lo: u32,
    hi: u32,
) -> (u32, String) {
    remember(s, now, proposed, DOWNSCALE_WINDOW_SECONDS);
    let stabilized = s
        .recommendations
        .iter()
        // stabilizeRecommendation drops only recommendations `Before(now − window)`: one
        // exactly 300 s old still counts.
        .filter(|(t, _)| *t + DOWNSCALE_WINDOW_SECONDS >= now)
        .map(|(_, r)| *r)
        .max()
        .unwrap_or(proposed);
    let mut notes = Vec::new();
    if stabilized > proposed {
        let first = s.recommendations.len() == 2 && s.recommendations[0].1 == stabilized;
        notes.push(format!(
            "held at {stabilized} by the {DOWNSCALE_WINDOW_SECONDS} s scale-down window{}",
            if first {
                " (a new HPA's first recommendation is the current count)"
            } else {
                ""
            }
        ));
    }
    let limit = (current.saturating_mul(2)).max(4);
    let mut next = stabilized;
    if next > limit {
        notes.push(format!("scale-up limited to max(2×{current}, 4) = {limit}"));
        next = limit;
    }
    (clamp(next, lo, hi, &mut notes), notes.join("; "))
}

fn clamp(next: u32, lo: u32, hi: u32, notes: &mut Vec<String>) -> u32 {
    if next > hi {
        notes.push(format!("capped at maxReplicas {hi}"));
        hi
    } else if next < lo {
        notes.push(format!("kept at the HPA's minReplicas {lo}"));
        lo
    } else {
        next
    }
}

/// Replicas (added, deleted) by this HPA within the last `period` seconds
/// (`getReplicasChangePerPeriod` over scaleUpEvents and scaleDownEvents: `After(now − period)`).
fn changed_in(s: &State, now: u64, period: u64) -> (i64, i64) {
    s.events
        .iter()
        .filter(|(t, _)| *t + period > now)
        .fold((0, 0), |(up, down), (_, d)| {
            (up + (*d).max(0), down + (-*d).max(0))
        })
}

/// The replica count at the start of a policy's period, counting both directions as
/// `calculateScaleUpLimitWithScalingRules` and `calculateScaleDownLimitWithBehaviors` do:
/// `currentReplicas - replicasAddedInCurrentPeriod + replicasDeletedInCurrentPeriod`.
fn period_start(s: &State, now: u64, period: u64, current: u32) -> u32 {
    let (added, deleted) = changed_in(s, now, period);
    (i64::from(current) - added + deleted).clamp(0, i64::from(u32::MAX)) as u32
}

/// Configured behavior: per-direction stabilisation windows, then policy rate limits.
pub(super) fn normalize_behavior(
    b: &Behavior,
    s: &mut State,
    now: u64,
    proposed: u32,
    current: u32,
    lo: u32,
    hi: u32,
) -> (u32, String) {
    let (up_w, down_w) = (
        b.scale_up.stabilization_window,
        b.scale_down.stabilization_window,
    );
    let (mut up_rec, mut down_rec) = (proposed, proposed);
    for (t, r) in &s.recommendations {
        if *t + up_w > now {
            up_rec = up_rec.min(*r);
        }
        if *t + down_w > now {
            down_rec = down_rec.max(*r);
        }
    }
    let mut next = current.max(up_rec).min(down_rec);
    let mut notes = Vec::new();
    if next != proposed {
        notes.push(format!("stabilised to {next}"));
    }
    let keep = up_w.max(down_w);
    remember(s, now, proposed, keep);
    let max_period = b
        .scale_up
        .policies
        .iter()
        .chain(&b.scale_down.policies)
        .map(|p| p.period)
        .max()
        .unwrap_or(0);
    while s.events.front().is_some_and(|(t, _)| *t + max_period < now) {
        s.events.pop_front();
    }
    if next > current {
        let limits = b.scale_up.policies.iter().map(|p| {
            let start = period_start(s, now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start.saturating_add(p.value),
                PolicyKind::Percent => {
                    (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as u32
                }
            }
        });
        let limit = match b.scale_up.select {
            Select::Max => limits.max().unwrap_or(next),
            Select::Min => limits.min().unwrap_or(next),
            Select::Disabled => current,
        };
        if next > limit {
            notes.push(format!("scale-up policy allows {limit}"));
            next = limit.max(current);
        }
    } else if next < current {
        let limits = b.scale_down.policies.iter().map(|p| {
            let start = period_start(s, now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start.saturating_sub(p.value),
                PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0))
                    .floor()
                    .max(0.0) as u32,
            }
        });
        let limit = match b.scale_down.select {
            Select::Max => limits.min().unwrap_or(next),
            Select::Min => limits.max().unwrap_or(next),
            Select::Disabled => current,
        };
        if next < limit {
            notes.push(format!("scale-down policy allows {limit}"));
            next = limit.min(current);
        }
    }
    (clamp(next, lo, hi, &mut notes), notes.join("; "))
}
