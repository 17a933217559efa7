//! A deterministic, second-by-second simulation of a queue, its consumers and the two
//! controllers (KEDA every pollingInterval, the HPA every 15 s), using the same decision code.
//!
//! The model, each simulated second:
//! 1. the second's messages arrive (visible);
//! 2. KEDA and the HPA read visible + in-flight (+ delayed: none here) when their period is due,
//!    and the number of pods follows their decision (new pods start after `startup` seconds);
//! 3. each ready pod holds up to one second of work (`ceil(pod_rate)` messages, at least 1) in
//!    flight, taken oldest first, and completes `pod_rate` messages per second: progress on the
//!    held messages carries across seconds (a pod at 0.5 msg/s finishes one every 2 s), idle
//!    capacity does not.
//!
//! Pods removed by a scale-down hand their messages back (they become visible again).

use super::{HPA_SYNC_SECONDS, Params, State, hpa_sync, keda_poll};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Messages arriving in each second.
    pub arrivals: Vec<u32>,
    /// Messages one ready pod completes per second.
    pub pod_rate: f64,
    /// Seconds from a pod's creation until it processes messages.
    pub startup: u64,
    /// Dollars per pod-hour, for the cost line.
    pub price_per_pod_hour: Option<f64>,
    /// How long to keep simulating after the last arrival for the queue to drain and the
    /// replicas to return to their minimum.
    pub settle_limit: u64,
    /// Seconds from an HPA sync to KEDA's poll (below pollingInterval): 0 makes both act in the
    /// same second, the best case; a real operator's poll is not aligned with the HPA's.
    pub phase: u64,
    /// ScaledJob: seconds a Job works on one message (the seed's `PROCESS_SLEEP_TIME`), at least 1.
    pub job_duration: u64,
    /// A trigger whose metric the pods do not consume (a prometheus query): its value each
    /// second, in the trigger's units. The queue, arrivals and pods' work then play no part.
    pub gauge: Option<Vec<u64>>,
}

impl Workload {
    /// The seconds the input covers: the metric's values, or else the arrivals.
    pub fn seconds(&self) -> u64 {
        self.gauge.as_ref().map_or(self.arrivals.len(), Vec::len) as u64
    }
}

/// One simulated second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    pub t: u64,
    pub arrivals: u32,
    pub visible: u64,
    pub in_flight: u64,
    /// Pods the controllers want (starting or ready).
    pub replicas: u32,
    /// Pods processing messages.
    pub ready: u32,
    /// The queue metric KEDA's poll read this second, when it polled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keda_read: Option<u64>,
    /// The metric the HPA's sync read this second, when it synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa_read: Option<u64>,
    /// ScaledJob: the Jobs KEDA's poll started this second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_created: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub seconds: u64,
    pub messages: u64,
    pub processed: u64,
    pub pod_seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    pub max_backlog: u64,
    pub max_replicas: u32,
    pub scale_changes: u32,
    /// Seconds from arrival to completion.
    pub wait_p50: u64,
    pub wait_p95: u64,
    pub wait_max: u64,
    /// Seconds after the last arrival until the queue was empty; None if it never was.
    pub time_to_drain: Option<u64>,
    /// ScaledJob: Jobs started over the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_created: Option<u64>,
    /// ScaledJob: Jobs failed by their activeDeadlineSeconds (their messages went back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_failed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub timeline: Vec<Tick>,
    pub summary: Summary,
}

/// Messages by arrival second, oldest first.
#[derive(Debug, Default, Clone)]
pub(super) struct Fifo {
    batches: VecDeque<(u64, u64)>,
    pub(super) len: u64,
}

impl Fifo {
    pub(super) fn push_back(&mut self, t: u64, n: u64) {
        if n > 0 {
            self.batches.push_back((t, n));
            self.len += n;
        }
    }

    pub(super) fn push_front(&mut self, t: u64, n: u64) {
        if n > 0 {
            self.batches.push_front((t, n));
            self.len += n;
        }
    }

    /// Take up to `n` oldest messages, calling `each(arrival, count)` for each batch taken.
    pub(super) fn take(&mut self, mut n: u64, mut each: impl FnMut(u64, u64)) {
        while n > 0 {
            let Some((t, count)) = self.batches.front_mut() else {
                break;
            };
            let k = n.min(*count);
            each(*t, k);
            *count -= k;
            self.len -= k;
            n -= k;
            if *count == 0 {
                self.batches.pop_front();
            }
        }
    }
}

/// Run KEDA and the HPA on `w`, keeping the timeline (the chart needs all of it).
pub fn simulate(p: &Params, w: &Workload) -> Run {
    let mut timeline = Vec::with_capacity(w.arrivals.len() + 600);
    let summary = simulate_to(p, w, &mut |k| timeline.push(*k));
    Run { timeline, summary }
}

/// `simulate`, handing each second to `sink` instead of keeping it: memory stays constant
/// however long the run.
pub fn simulate_to(p: &Params, w: &Workload, sink: &mut dyn FnMut(&Tick)) -> Summary {
    // A paused ScaledObject with paused-replicas is set to that count when it is created.
    let mut state = State::new(
        match p.paused {
            Some(Some(n)) => n,
            _ => 0,
        },
        0,
    );
    let mut pods = Pods::default();
    let mut queue = Queue::default();
    let mut tally = Tally::default();
    let per_pod = w.pod_rate.ceil().max(1.0) as u64;
    let end = w.seconds();
    let mut t = 0u64;
    loop {
        let arrivals = w.arrivals.get(t as usize).copied().unwrap_or(0);
        queue.visible.push_back(t, u64::from(arrivals));

        let metric = match &w.gauge {
            // After the trace the source reads 0, so the run ends back at the minimum.
            Some(g) => g.get(t as usize).copied().unwrap_or(0),
            None => p.metric(super::QueueDepth {
                visible: queue.visible.len,
                in_flight: queue.held.len,
                delayed: 0,
            }),
        };
        let before = state.replicas;
        let (keda_read, hpa_read) = controllers(p, &mut state, t, w.phase, metric);
        if state.replicas != before {
            tally.changes += 1;
        }
        pods.follow(u64::from(state.replicas), t);
        let ready = pods.ready(t, w.startup);
        queue.hold(ready.saturating_mul(per_pod));
        queue.work(ready, w.pod_rate, t, &mut tally);

        tally.pod_seconds += pods.count;
        let tick = Tick {
            t,
            arrivals,
            visible: queue.visible.len,
            in_flight: queue.held.len,
            replicas: state.replicas,
            ready: ready as u32,
            keda_read,
            hpa_read,
            jobs_created: None,
        };
        tally.second(&tick, end, sink);
        t += 1;
        let settled = tally.drained()
            && state.replicas <= p.rest_replicas()
            && pods.count == u64::from(state.replicas);
        if t >= end && (settled || t >= end + w.settle_limit) {
            break;
        }
    }
    tally.summary(w, end)
}

/// Second `t` of the two controllers on `metric`: the HPA's sync every 15 s and KEDA's poll
/// every pollingInterval from `phase`, each when due; (what KEDA read, what the HPA read).
fn controllers(
    p: &Params,
    state: &mut State,
    t: u64,
    phase: u64,
    metric: u64,
) -> (Option<u64>, Option<u64>) {
    let keda_read =
        (t >= phase && (t - phase).is_multiple_of(p.polling_interval)).then_some(metric);
    let hpa_read = t.is_multiple_of(HPA_SYNC_SECONDS).then_some(metric);
    // In a second where both act, the HPA syncs first: the HPA controller reads the
    // target's Scale on its own 15 s resync (it does not watch the Deployment), so KEDA's
    // activation 0 → 1 reaches it at its next sync, never in the instant it was written.
    if hpa_read.is_some() {
        hpa_sync(p, state, t, metric);
    }
    if keda_read.is_some() {
        keda_poll(p, state, t, Ok(metric));
    }
    (keda_read, hpa_read)
}

/// Pods as (creation second, how many), oldest first: memory grows with the number of
/// scale-ups (at most one a second), never with the replica count.
#[derive(Debug, Default)]
struct Pods {
    cohorts: VecDeque<(u64, u64)>,
    count: u64,
}

impl Pods {
    /// `want` pods at second `t`: new ones are created now, a scale-down removes the newest
    /// pods first.
    fn follow(&mut self, want: u64, t: u64) {
        if self.count < want {
            match self.cohorts.back_mut() {
                Some((start, n)) if *start == t => *n += want - self.count,
                _ => self.cohorts.push_back((t, want - self.count)),
            }
            self.count = want;
        }
        while self.count > want {
            let Some((_, n)) = self.cohorts.back_mut() else {
                break;
            };
            let k = (self.count - want).min(*n);
            *n -= k;
            self.count -= k;
            if *n == 0 {
                self.cohorts.pop_back();
            }
        }
    }

    /// The pods past their `startup` at second `t`: only the newest cohorts can still be
    /// starting.
    fn ready(&self, t: u64, startup: u64) -> u64 {
        let starting: u64 = self
            .cohorts
            .iter()
            .rev()
            .take_while(|(start, _)| start + startup > t)
            .map(|(_, n)| n)
            .sum();
        self.count - starting
    }
}

/// The queue as the pods see it: the visible messages, those the ready pods hold (in flight),
/// and the pods' progress on the ones they hold.
#[derive(Debug, Default)]
struct Queue {
    visible: Fifo,
    held: Fifo,
    carry: f64,
}

impl Queue {
    /// The ready pods hold up to `capacity` messages: pods that went away give theirs back
    /// (visible again), pods with room take the oldest visible ones.
    fn hold(&mut self, capacity: u64) {
        let (visible, held) = (&mut self.visible, &mut self.held);
        if held.len > capacity {
            let mut all = Vec::new();
            held.take(held.len, |at, n| all.push((at, n)));
            let (mut keep, mut back) = (capacity, Vec::new());
            for (at, n) in all {
                let k = keep.min(n);
                held.push_back(at, k);
                keep -= k;
                back.push((at, n - k));
            }
            for (at, n) in back.into_iter().rev() {
                visible.push_front(at, n);
            }
        }
        let room = capacity - held.len;
        let mut taken = Vec::new();
        visible.take(room, |at, n| taken.push((at, n)));
        for (at, n) in taken {
            held.push_back(at, n);
        }
    }

    /// Second `t` of work by `ready` pods completing `pod_rate` messages each, counted in
    /// `tally`.
    fn work(&mut self, ready: u64, pod_rate: f64, t: u64, tally: &mut Tally) {
        // Progress accumulates across seconds, so a pod slower than one message a second
        // finishes one every 1/pod_rate seconds. Idle capacity is not banked: once the backlog
        // is empty (or no pod is ready) there is no partial message to carry.
        self.carry += ready as f64 * pod_rate;
        let done = (self.carry.floor() as u64).min(self.held.len);
        self.carry -= done as f64;
        if (self.held.len == done && self.visible.len == 0) || ready == 0 {
            self.carry = 0.0;
        }
        self.held.take(done, |at, n| tally.complete(t, at, n));
    }
}

/// What a run counts as it goes, for its summary: the seconds handed on, the waits (seconds →
/// messages), the pods' seconds, the backlog and replicas at their most, the scale changes,
/// and when the queue drained.
#[derive(Debug, Default)]
pub(super) struct Tally {
    seconds: u64,
    max_replicas: u32,
    waits: BTreeMap<u64, u64>,
    processed: u64,
    pub(super) pod_seconds: u64,
    max_backlog: u64,
    pub(super) changes: u32,
    drained_at: Option<u64>,
}

impl Tally {
    /// `n` messages that arrived at second `at` completed at `t`.
    pub(super) fn complete(&mut self, t: u64, at: u64, n: u64) {
        *self.waits.entry(t - at).or_default() += n;
        self.processed += n;
    }

    /// Second `tick.t` is over: counted, handed to `sink`, and the drain noted once the input
    /// (which ends at `end`) is over and nothing is left.
    pub(super) fn second(&mut self, tick: &Tick, end: u64, sink: &mut dyn FnMut(&Tick)) {
        let backlog = tick.visible + tick.in_flight;
        self.max_backlog = self.max_backlog.max(backlog);
        self.seconds += 1;
        self.max_replicas = self.max_replicas.max(tick.replicas);
        sink(tick);
        if tick.t + 1 >= end && backlog == 0 && self.drained_at.is_none() {
            self.drained_at = Some(tick.t + 1);
        }
    }

    /// Whether the queue has drained since the input ended.
    pub(super) fn drained(&self) -> bool {
        self.drained_at.is_some()
    }

    /// The summary of a run on `w` whose input ended at `end`.
    pub(super) fn summary(self, w: &Workload, end: u64) -> Summary {
        let processed = self.processed;
        let percentile = |q: f64| {
            let rank = ((processed as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (wait, n) in &self.waits {
                seen += n;
                if seen >= rank {
                    return *wait;
                }
            }
            0
        };
        let pod_seconds = self.pod_seconds;
        Summary {
            seconds: self.seconds,
            messages: w.arrivals.iter().map(|a| u64::from(*a)).sum(),
            processed,
            pod_seconds,
            cost: w
                .price_per_pod_hour
                .map(|price| (pod_seconds as f64 / 3600.0 * price * 100.0).round() / 100.0),
            max_backlog: self.max_backlog,
            max_replicas: self.max_replicas,
            scale_changes: self.changes,
            wait_p50: percentile(0.50),
            wait_p95: percentile(0.95),
            wait_max: self.waits.keys().next_back().copied().unwrap_or(0),
            time_to_drain: self.drained_at.map(|d| d.saturating_sub(end)),
            jobs_created: None,
            jobs_failed: None,
        }
    }
}

/// Built-in arrival patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// The same rate every second
    Steady,
    /// All of the duration's messages at once, at t = 0
    Burst,
    /// From 0 up to twice the rate
    Ramp,
    /// A wave around the rate (three periods over the duration)
    Sine,
    /// A low base with 20-second bursts about every 5 minutes (repeatable with --seed); the
    /// run's total is still rate × duration
    Spikes,
}

/// Per-second arrivals for a shape, with `rate` messages per second on average.
pub fn shape(shape: Shape, rate: f64, duration: u64, seed: u64) -> Vec<u32> {
    let mut carry = 0.0;
    let mut emit = |x: f64| {
        carry += x.max(0.0);
        let n = carry.floor();
        carry -= n;
        n as u32
    };
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let next = || {
        // xorshift64*: small, deterministic, no dependency.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    if shape == Shape::Spikes {
        return spikes(rate, duration, next, emit);
    }
    (0..duration)
        .map(|t| match shape {
            Shape::Steady => emit(rate),
            Shape::Burst => {
                if t == 0 {
                    (rate * duration as f64).round() as u32
                } else {
                    0
                }
            }
            // At the middle of each second, so the ramp sends rate × duration in all.
            Shape::Ramp => emit(2.0 * rate * (t as f64 + 0.5) / duration.max(1) as f64),
            Shape::Sine => {
                let period = (duration as f64 / 3.0).max(1.0);
                emit(rate * (1.0 + (2.0 * std::f64::consts::PI * t as f64 / period).sin()))
            }
            Shape::Spikes => unreachable!("handled above"),
        })
        .collect()
}

/// A base of 1 per second with 20-second spikes of 12 (starting with a chance of 1 in 300 each
/// second, at least one per run), scaled so the run sends rate × duration in all: random
/// spikes must not change the mean the user asked for.
fn spikes(
    rate: f64,
    duration: u64,
    mut next: impl FnMut() -> f64,
    mut emit: impl FnMut(f64) -> u32,
) -> Vec<u32> {
    const SPIKE: u64 = 20;
    let mut level = vec![1.0; duration as usize];
    let start = |t: u64, level: &mut [f64]| {
        for l in level.iter_mut().skip(t as usize).take(SPIKE as usize) {
            *l = 12.0;
        }
    };
    let mut t = 0;
    let mut any = false;
    while t < duration {
        if next() < 1.0 / 300.0 {
            start(t, &mut level);
            any = true;
            t += SPIKE;
        } else {
            t += 1;
        }
    }
    if !any && duration > 0 {
        start((next() * duration as f64) as u64, &mut level);
    }
    let total: f64 = level.iter().sum();
    let scale = rate * duration as f64 / total.max(1.0);
    level.into_iter().map(|l| emit(l * scale)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::Params;

    fn seed_params() -> Params {
        Params::from_spec(&crate::spec::Scaling::default())
    }

    fn workload(arrivals: Vec<u32>) -> Workload {
        Workload {
            arrivals,
            pod_rate: 1.0,
            startup: 0,
            price_per_pod_hour: Some(0.1),
            settle_limit: 3600,
            phase: 0,
            job_duration: 1,
            gauge: None,
        }
    }

    #[test]
    fn every_shape_sends_rate_times_duration() {
        use clap::ValueEnum;
        for &kind in Shape::value_variants() {
            for (rate, duration) in [(2.0, 600), (0.5, 3600), (3.0, 60), (7.3, 86_400)] {
                for seed in 0..5 {
                    let sent: u64 = shape(kind, rate, duration, seed)
                        .iter()
                        .map(|&n| u64::from(n))
                        .sum();
                    let want = rate * duration as f64;
                    assert!(
                        (sent as f64 - want).abs() <= 1.0,
                        "{kind:?} at {rate}/s for {duration} s (seed {seed}): {sent}, not {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_arrives_nothing_runs() {
        let run = simulate(&seed_params(), &workload(vec![0; 120]));
        assert_eq!(run.summary.pod_seconds, 0);
        assert_eq!(run.summary.max_replicas, 0);
        assert_eq!(run.summary.time_to_drain, Some(0));
        assert_eq!(run.timeline.len(), 120);
    }

    #[test]
    fn a_burst_scales_up_drains_and_returns_to_zero() {
        let mut arrivals = vec![0; 600];
        arrivals[0] = 100;
        let run = simulate(&seed_params(), &workload(arrivals));
        let s = &run.summary;
        assert_eq!(s.messages, 100);
        assert_eq!(s.processed, 100, "every message is processed");
        assert_eq!(s.max_replicas, 10, "100 messages / 5 per pod, capped at 10");
        assert_eq!(
            run.timeline.last().unwrap().replicas,
            0,
            "back to zero after the cooldown"
        );
        assert!(s.wait_max < 120, "{s:?}");
        assert!(s.wait_p50 <= s.wait_p95 && s.wait_p95 <= s.wait_max);
        // Activation waits for KEDA's first poll, then the HPA's next sync.
        let first = run.timeline.iter().find(|k| k.replicas > 0).unwrap();
        assert_eq!(first.t, 0);
        assert!(s.cost.unwrap() > 0.0);
    }

    /// Issue 32: a burst at t = 0 on the defaults (pollingInterval 30, queueLength 5, max 10).
    /// KEDA's first poll activates 0 → 1 (`scaleFromZeroOrIdle`); the HPA synced in that same
    /// second found 0 replicas (ScalingDisabled) and reads the Scale again only at its next
    /// resync, 15 s on: ceil(100/5) = 20, limited by max(2 × 1, 4) = 4; then 8, then max 10.
    #[test]
    fn a_burst_starts_at_one_replica_until_the_hpa_s_next_sync() {
        let mut arrivals = vec![0; 600];
        arrivals[0] = 100;
        let run = simulate(&seed_params(), &workload(arrivals));
        let at = |t: usize| run.timeline[t].replicas;
        assert!((0..15).all(|t| at(t) == 1), "{:?}", &run.timeline[..15]);
        assert_eq!((at(15), at(30), at(45)), (4, 8, 10));
        assert_eq!(run.timeline[0].keda_read, Some(100));
        assert_eq!(run.timeline[0].hpa_read, Some(100));
    }

    #[test]
    fn conservation_of_messages() {
        let arrivals = shape(Shape::Spikes, 3.0, 3600, 7);
        let run = simulate(&seed_params(), &workload(arrivals.clone()));
        let total: u64 = arrivals.iter().map(|a| u64::from(*a)).sum();
        assert_eq!(run.summary.messages, total);
        assert_eq!(run.summary.processed, total, "{:?}", run.summary);
        for k in &run.timeline {
            assert!(k.replicas <= 10);
            assert!(u64::from(k.ready) <= u64::from(k.replicas));
        }
    }

    #[test]
    fn startup_delay_costs_wait_time() {
        let arrivals = shape(Shape::Steady, 2.0, 900, 0);
        let fast = simulate(&seed_params(), &workload(arrivals.clone()));
        let slow = simulate(
            &seed_params(),
            &Workload {
                startup: 60,
                ..workload(arrivals)
            },
        );
        assert!(slow.summary.wait_max > fast.summary.wait_max);
        assert!(slow.summary.max_backlog > fast.summary.max_backlog);
    }

    #[test]
    fn shapes_have_the_requested_mean_and_are_repeatable() {
        for s in [
            Shape::Steady,
            Shape::Burst,
            Shape::Ramp,
            Shape::Sine,
            Shape::Spikes,
        ] {
            let a = shape(s, 4.0, 36_000, 3);
            assert_eq!(a.len(), 36_000);
            let mean = a.iter().map(|x| f64::from(*x)).sum::<f64>() / 36_000.0;
            assert!((mean - 4.0).abs() < 0.4, "{s:?}: mean {mean}");
            assert_eq!(a, shape(s, 4.0, 36_000, 3), "{s:?} is deterministic");
        }
        assert_ne!(
            shape(Shape::Spikes, 4.0, 3600, 1),
            shape(Shape::Spikes, 4.0, 3600, 2)
        );
    }

    #[test]
    fn memory_does_not_grow_with_replicas() {
        // Three billion replicas once sized a Vec of pods (24 GB); pods are counted by cohort.
        let p = Params {
            max: 3_000_000_000,
            queue_length: 1,
            ..seed_params()
        };
        let mut arrivals = vec![0; 900];
        arrivals[0] = u32::MAX;
        let run = simulate(
            &p,
            &Workload {
                settle_limit: 60,
                phase: 0,
                ..workload(arrivals)
            },
        );
        assert_eq!(run.summary.max_replicas, 3_000_000_000);
        assert_eq!(run.summary.messages, u64::from(u32::MAX));
        assert_eq!(run.summary.processed, u64::from(u32::MAX));
        assert!(run.timeline.len() <= 961);
    }

    /// Defect 1 of issue 16: one pod at 0.5 or 0.9 msg/s once processed 0 of 3 messages in
    /// 7,200 s because the carried fraction was capped at one second of work. By hand: KEDA
    /// activates 0 → 1 at t = 0 (`scale_executor` 0 → 1), the HPA keeps ceil(3/5) = 1; the pod
    /// holds one message at a time (ceil(0.5) = 1).
    #[test]
    fn slow_pods_finish_their_messages() {
        let mut arrivals = vec![0; 600];
        arrivals[0] = 3;
        let half = simulate(
            &seed_params(),
            &Workload {
                pod_rate: 0.5,
                ..workload(arrivals.clone())
            },
        );
        // 0.5 + 0.5 = 1 at t = 1, 3 and 5: waits 1, 3, 5.
        assert_eq!(half.summary.processed, 3, "{:?}", half.summary);
        assert_eq!((half.summary.wait_p50, half.summary.wait_max), (3, 5));
        assert_eq!(half.timeline[5].in_flight + half.timeline[5].visible, 0);
        assert_eq!(half.timeline[4].in_flight + half.timeline[4].visible, 1);
        let nine = simulate(
            &seed_params(),
            &Workload {
                pod_rate: 0.9,
                ..workload(arrivals)
            },
        );
        // 0.9, 1.8 → 1 (0.8 left), 1.7 → 1 (0.7), 1.6 → 1: done at t = 1, 2, 3.
        assert_eq!(nine.summary.processed, 3);
        assert_eq!((nine.summary.wait_p50, nine.summary.wait_max), (2, 3));
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Work is conserved for any pod rate: at every second, the messages that arrived so
        /// far are the ones completed plus the backlog (visible + in flight), completions never
        /// go backwards, and the summary agrees.
        #[test]
        fn work_is_conserved_for_any_pod_rate(
            arrivals in prop::collection::vec(0u32..40, 1..120),
            rate_centi in 1u32..500,
            startup in 0u64..60,
            settle in 0u64..900,
        ) {
            let w = Workload {
                pod_rate: f64::from(rate_centi) / 100.0,
                startup,
                settle_limit: settle,
                phase: 0,
                ..workload(arrivals.clone())
            };
            let run = simulate(&seed_params(), &w);
            let (mut arrived, mut completed) = (0u64, 0u64);
            for k in &run.timeline {
                arrived += u64::from(k.arrivals);
                let backlog = k.visible + k.in_flight;
                prop_assert!(backlog <= arrived, "{k:?}");
                let now = arrived - backlog;
                prop_assert!(now >= completed, "completions went backwards at {k:?}");
                completed = now;
            }
            let total: u64 = arrivals.iter().map(|a| u64::from(*a)).sum();
            prop_assert_eq!(arrived, total);
            prop_assert_eq!(run.summary.messages, total);
            prop_assert_eq!(run.summary.processed, completed);
            let last = run.timeline.last().unwrap();
            prop_assert_eq!(total, run.summary.processed + last.visible + last.in_flight);
            // Any pod rate makes progress: with the settle time a slow pod needs, all is done.
            if settle as f64 >= 300.0 + 2.0 * total as f64 / w.pod_rate + startup as f64 {
                prop_assert_eq!(run.summary.processed, total, "{:?}", run.summary);
            }
        }
    }
}
