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

/// One entry of `scaleUpEvents` or `scaleDownEvents` (`timestampedScaleEvent`): the replicas
/// added (or deleted), when, and whether `markScaleEventsOutdated` marked it for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    t: u64,
    change: u64,
    outdated: bool,
}

fn longest_period(rules: &Rules) -> u64 {
    rules.policies.iter().map(|p| p.period).max().unwrap_or(0)
}

/// `storeScaleEvent`: events older than the direction's longest policy period are marked
/// outdated (`markScaleEventsOutdated`: `Before(now − period)`), and the new event replaces the
/// *last* outdated one, else it is appended. Older outdated events stay in the list (and still
/// count for a longer period of the other direction's policies), while the replaced one is
/// forgotten even where such a period would still count it.
pub(super) fn store_scale_event(b: &Behavior, s: &mut State, now: u64, prev: u32, new: u32) {
    let (events, rules, change) = if new > prev {
        (&mut s.up_events, &b.scale_up, new - prev)
    } else {
        (&mut s.down_events, &b.scale_down, prev - new)
    };
    let longest = longest_period(rules);
    let mut last_outdated = None;
    for (i, e) in events.iter_mut().enumerate() {
        if e.t + longest < now {
            e.outdated = true;
        }
        if e.outdated {
            last_outdated = Some(i);
        }
    }
    let event = ScaleEvent {
        t: now,
        change: u64::from(change),
        outdated: false,
    };
    match last_outdated {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}

/// Replicas changed by the events within the last `period` seconds
/// (`getReplicasChangePerPeriod`: `After(now − period)`).
fn changed_in(events: &[ScaleEvent], now: u64, period: u64) -> i64 {
    events
        .iter()
        .filter(|e| e.t + period > now)
        .map(|e| e.change as i64)
        .sum()
}

/// The replica count at the start of a policy's period, counting both directions as
/// `calculateScaleUpLimitWithScalingRules` and `calculateScaleDownLimitWithBehaviors` do:
/// `currentReplicas - replicasAddedInCurrentPeriod + replicasDeletedInCurrentPeriod`.
fn period_start(s: &State, now: u64, period: u64, current: u32) -> i64 {
    let added = changed_in(&s.up_events, now, period);
    let deleted = changed_in(&s.down_events, now, period);
    i64::from(current) - added + deleted
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
    if next > current {
        // calculateScaleUpLimitWithScalingRules: Pods start + value, Percent
        // ceil(start × (1 + value/100)); Max picks the largest, Min the smallest.
        let limits = b.scale_up.policies.iter().map(|p| {
            let start = period_start(s, now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start + i64::from(p.value),
                PolicyKind::Percent => {
                    (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
                }
            }
        });
        let limit = match b.scale_up.select {
            Select::Max => limits.max().unwrap_or(i64::from(next)),
            Select::Min => limits.min().unwrap_or(i64::from(next)),
            Select::Disabled => i64::from(current),
        };
        // convertDesiredReplicasWithBehaviorRate: a limit below current is current.
        let limit = limit.clamp(i64::from(current), i64::from(u32::MAX)) as u32;
        if next > limit {
            notes.push(format!("scale-up policy allows {limit}"));
            next = limit;
        }
    } else if next < current {
        // calculateScaleDownLimitWithBehaviors: Pods start − value, Percent
        // int32(start × (1 − value/100)) (truncated); Max picks the smallest, Min the largest.
        let limits = b.scale_down.policies.iter().map(|p| {
            let start = period_start(s, now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start - i64::from(p.value),
                PolicyKind::Percent => {
                    (start as f64 * (1.0 - f64::from(p.value) / 100.0)).trunc() as i64
                }
            }
        });
        let limit = match b.scale_down.select {
            Select::Max => limits.min().unwrap_or(i64::from(next)),
            Select::Min => limits.max().unwrap_or(i64::from(next)),
            Select::Disabled => i64::from(current),
        };
        // A limit above current is current; below 0 it cannot bind (minReplicas ≥ 1 does).
        let limit = limit.clamp(0, i64::from(current)) as u32;
        if next < limit {
            notes.push(format!("scale-down policy allows {limit}"));
            next = limit;
        }
    }
    (clamp(next, lo, hi, &mut notes), notes.join("; "))
}

impl Behavior {
    /// The behavior KEDA gives its HPA for `advanced.horizontalPodAutoscalerConfig.behavior`, with
    /// what Kubernetes fills in for the fields left out (`SetDefaults_HorizontalPodAutoscalerBehavior`
    /// for selectPolicy, policies and the scale-up window; the controller's
    /// `maybeInitScaleDownStabilizationWindow`, 300 s, for the scale-down window).
    pub fn from_spec(b: &crate::spec::HpaBehavior) -> Self {
        let d = Behavior::default();
        let rules = |r: Option<&crate::spec::HpaRules>, d: Rules| match r {
            None => d,
            Some(r) => Rules {
                stabilization_window: r
                    .stabilization_window_seconds
                    .map_or(d.stabilization_window, u64::from),
                tolerance: r.tolerance,
                select: match r.select_policy {
                    None | Some(crate::spec::SelectPolicy::Max) => Select::Max,
                    Some(crate::spec::SelectPolicy::Min) => Select::Min,
                    Some(crate::spec::SelectPolicy::Disabled) => Select::Disabled,
                },
                policies: match &r.policies {
                    None => d.policies,
                    Some(ps) => ps
                        .iter()
                        .map(|p| Policy {
                            kind: match p.kind {
                                crate::spec::HpaPolicyType::Pods => PolicyKind::Pods,
                                crate::spec::HpaPolicyType::Percent => PolicyKind::Percent,
                            },
                            value: p.value,
                            period: u64::from(p.period_seconds),
                        })
                        .collect(),
                },
            },
        };
        Behavior {
            scale_up: rules(b.scale_up.as_ref(), d.scale_up),
            scale_down: rules(b.scale_down.as_ref(), d.scale_down),
        }
    }
}
