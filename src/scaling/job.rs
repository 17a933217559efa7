//! How many Jobs a ScaledJob starts per poll (KEDA `scale_jobs.go`, `scaledjob/metrics.go`), and
//! a ScaledJob's run simulated second by second.

use super::QueueDepth;
use super::simulate::{Fifo, Run, Summary, Tally, Tick, Workload};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    Default,
    /// `customScalingQueueLengthDeduction`, `customScalingRunningJobPercentage`.
    Custom {
        deduction: u64,
        running_percentage: f64,
    },
    Accurate,
    Eager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs {
    /// Unfinished jobs (`getRunningJobCount`).
    pub running: u64,
    /// Unfinished jobs whose pod is not running yet (`getPendingJobCount`).
    pub pending: u64,
}

/// New jobs to create this poll, given the metric of an *active* scaler (0 when the scaler is
/// inactive: `IsScaledJobActive` drops an inactive scaler's queue length). Upstream:
/// `getScaledJobMetrics` → `maxScale = ceil(min(queueLength / target, MaxReplicaCount()))`,
/// `scaleTo = ceil(queueLength)`; `getScalingDecision` tops up to minReplicaCount first, else asks
/// the strategy (`GetEffectiveMaxScale`) with running − min and `MaxReplicaCount()`, which is
/// `maxReplicaCount − minReplicaCount`; `createJobs` starts min(scaleTo, effectiveMaxScale) when
/// that is above 0. `min` and `max` are the ScaledJob's minReplicaCount and maxReplicaCount.
pub fn to_create(
    strategy: Strategy,
    metric: u64,
    target: u64,
    min: u64,
    max: u64,
    jobs: Jobs,
) -> u64 {
    // MinReplicaCount() and MaxReplicaCount() (scaledjob_types.go): min above max is max, and
    // the max the strategies see is what is left above min.
    let (min, max_left) = if min > max {
        (max, max)
    } else {
        (min, max - min)
    };
    if jobs.running < min {
        return min - jobs.running;
    }
    let max_scale = metric.div_ceil(target.max(1)).min(max_left) as i64;
    let running = (jobs.running - min) as i64;
    let pending = jobs.pending as i64;
    let max_left = max_left as i64;
    let (effective, scale_to) = match strategy {
        Strategy::Default => (max_scale - running, metric as i64),
        Strategy::Custom {
            deduction,
            running_percentage,
        } => (
            // int64(float64(runningJobCount) * runningPercentage) truncates.
            (max_scale - deduction as i64 - (running as f64 * running_percentage) as i64)
                .min(max_left),
            metric as i64,
        ),
        Strategy::Accurate => {
            if max_scale + running - pending > max_left {
                (max_left - running, metric as i64)
            } else {
                (max_scale - pending, metric as i64)
            }
        }
        Strategy::Eager => ((max_left - running - pending).min(max_scale), max_left),
    };
    if effective <= 0 {
        return 0;
    }
    scale_to.min(effective).max(0) as u64
}

/// What shapes a ScaledJob's decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct JobParams {
    pub queue_length: u64,
    pub activation_queue_length: u64,
    pub min: u64,
    pub max: u64,
    pub polling_interval: u64,
    pub scale_on_in_flight: bool,
    pub scale_on_delayed: bool,
    pub strategy: Strategy,
    /// When a Job stops counting as pending.
    pub pending_until: PendingUntil,
    /// The Job's `activeDeadlineSeconds`.
    pub active_deadline: Option<u64>,
    /// `autoscaling.keda.sh/paused`: no Jobs start.
    pub paused: bool,
}

/// When a Job stops counting as pending (`getPendingJobCount` in KEDA v2.20.2's
/// `scale_jobs.go`), on the model's two moments of a pod: its creation and its startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingUntil {
    /// Its pod runs: without `pendingPodConditions` (`isAnyPodRunningOrCompleted`), or when
    /// they name ContainersReady or Ready, which the kubelet sets once the container runs.
    Startup,
    /// Every condition named is one a pod has before its image is pulled: PodScheduled (bound
    /// at creation here), Initialized (no init containers, as kedactl renders: the kubelet's
    /// first status sync sets it, `GeneratePodInitializedCondition`), PodReadyToStartContainers
    /// (the sandbox and its network are up: seconds the model does not count).
    Creation,
}

impl PendingUntil {
    /// `areAllPendingPodConditionsFulfilled`: pending until every named condition is true, so
    /// until the latest of them.
    pub fn from_conditions(conditions: &[String]) -> Self {
        let early = ["PodScheduled", "Initialized", "PodReadyToStartContainers"];
        if !conditions.is_empty() && conditions.iter().all(|c| early.contains(&c.as_str())) {
            PendingUntil::Creation
        } else {
            PendingUntil::Startup
        }
    }
}

impl Strategy {
    /// `NewScalingStrategy`: custom needs a running-job percentage that parses as a float;
    /// without one (kedactl then renders none) KEDA selects the default strategy.
    pub fn from_spec(st: &crate::spec::ScalingStrategy) -> Self {
        use crate::spec::JobStrategy;
        match (st.strategy, st.custom_scaling_running_job_percentage) {
            (JobStrategy::Default, _) | (JobStrategy::Custom, None) => Strategy::Default,
            (JobStrategy::Custom, Some(running_percentage)) => Strategy::Custom {
                deduction: u64::from(st.custom_scaling_queue_length_deduction.unwrap_or(0)),
                running_percentage,
            },
            (JobStrategy::Accurate, _) => Strategy::Accurate,
            (JobStrategy::Eager, _) => Strategy::Eager,
        }
    }
}

impl JobParams {
    pub fn from_spec(s: &crate::spec::Scaling) -> Self {
        let st = s.scaling_strategy.clone().unwrap_or_default();
        JobParams {
            queue_length: u64::from(s.queue_length.max(1)),
            activation_queue_length: u64::from(s.activation_queue_length),
            min: u64::from(s.min_replicas),
            max: u64::from(s.max_replicas),
            polling_interval: u64::from(s.polling_interval.max(1)),
            scale_on_in_flight: s.scale_on_in_flight,
            scale_on_delayed: s.scale_on_delayed,
            strategy: Strategy::from_spec(&st),
            pending_until: PendingUntil::from_conditions(&st.pending_pod_conditions),
            active_deadline: s.active_deadline_seconds.map(u64::from),
            paused: s.paused,
        }
    }

    /// The metric the SQS scaler reports.
    pub fn metric(&self, q: super::QueueDepth) -> u64 {
        q.visible
            + if self.scale_on_in_flight {
                q.in_flight
            } else {
                0
            }
            + if self.scale_on_delayed { q.delayed } else { 0 }
    }

    /// (active, the queue length the strategies see, Jobs to start) for one poll.
    /// `IsScaledJobActive` (`scaledjob/metrics.go`): active when the scaler is (strictly above
    /// activationQueueLength) or minReplicaCount > 0, but an inactive scaler's queue length is
    /// not counted either way: minReplicaCount forces the ScaledJob active, not the queue, so
    /// activation still acts with minReplicas > 0. `RequestJobScale` creates Jobs only while
    /// active.
    pub fn create(&self, metric: u64, jobs: Jobs) -> (bool, u64, u64) {
        if self.paused {
            return (false, 0, 0);
        }
        let scaler_active = metric > self.activation_queue_length;
        let active = scaler_active || self.min > 0;
        let queue = if scaler_active { metric } else { 0 };
        let create = if active {
            to_create(
                self.strategy,
                queue,
                self.queue_length,
                self.min,
                self.max,
                jobs,
            )
        } else {
            0
        };
        (active, queue, create)
    }

    /// One poll of `RequestJobScale`: jobs to create, as a `Decision` (current: running jobs,
    /// target: maxScale, next: running + created).
    pub fn decide(&self, metric: u64, jobs: Jobs) -> super::Decision {
        let running = u32::try_from(jobs.running).unwrap_or(u32::MAX);
        if self.paused {
            return super::Decision {
                metric,
                active: false,
                current: running,
                target: running,
                next: running,
                reason: "paused (autoscaling.keda.sh/paused): KEDA starts no Jobs".into(),
            };
        }
        let (active, queue, create) = self.create(metric, jobs);
        let max_left = if self.min > self.max {
            self.max
        } else {
            self.max - self.min
        };
        let max_scale = queue.div_ceil(self.queue_length).min(max_left);
        let reason = if !active {
            format!(
                "queue {metric} ≤ activation {}: inactive, no Jobs",
                self.activation_queue_length
            )
        } else if queue < metric {
            format!(
                "queue {metric} ≤ activation {}: not counted (minReplicas {} keeps the ScaledJob active), {} running: create {create}",
                self.activation_queue_length, self.min, jobs.running
            )
        } else {
            format!(
                "{} {metric} messages: maxScale min(ceil({queue}/{}), {max_left}) = {max_scale}, {} running, {} pending: create {create}",
                match self.strategy {
                    Strategy::Default => "default:",
                    Strategy::Custom { .. } => "custom:",
                    Strategy::Accurate => "accurate:",
                    Strategy::Eager => "eager:",
                },
                self.queue_length,
                jobs.running,
                jobs.pending
            )
        };
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        super::Decision {
            metric,
            active,
            current: running,
            target: clamp(max_scale),
            next: clamp(jobs.running.saturating_add(create)),
            reason,
        }
    }
}

/// Jobs started in the same second that took their messages together: they move in lockstep,
/// so memory grows with polls and batch splits, never with the number of Jobs.
#[derive(Debug, Clone)]
struct Group {
    created: u64,
    n: u64,
    /// Whether the Jobs received their messages (before that they wait for some).
    taken: bool,
    /// Messages each Job still holds.
    left: u64,
    /// Seconds of work on the current message.
    progress: u64,
    /// All the group's held messages (n × left), oldest first.
    held: Fifo,
}

/// A ScaledJob, second by second: KEDA polls every pollingInterval (`--phase` after t = 0) and
/// starts Jobs by its strategy; there is no HPA and no cooldown. A Job's pod is ready `startup`
/// seconds after its creation (until then the Job is pending), then receives up to queueLength
/// messages at once (in flight from then on; a Job that finds the queue empty waits for a
/// message, as the seed's script does), works `job_duration` seconds on each and deletes it,
/// and completes after its last one. `activeDeadlineSeconds` fails a Job that many seconds after
/// its creation; its unfinished messages become visible again at once.
/// Run KEDA's ScaledJob on `w`, keeping the timeline (the chart needs all of it).
pub fn simulate_jobs(p: &JobParams, w: &Workload) -> Run {
    let mut timeline = Vec::with_capacity(w.arrivals.len() + 600);
    let summary = simulate_jobs_to(p, w, &mut |k| timeline.push(*k));
    Run { timeline, summary }
}

/// `simulate_jobs`, handing each second to `sink` instead of keeping it.
pub fn simulate_jobs_to(p: &JobParams, w: &Workload, sink: &mut dyn FnMut(&Tick)) -> Summary {
    let mut groups = Groups::default();
    let mut visible = Fifo::default();
    let mut tally = Tally::default();
    let (mut jobs_created, mut jobs_failed) = (0u64, 0u64);
    let end = w.arrivals.len() as u64;
    let mut t = 0u64;
    loop {
        let arrivals = w.arrivals.get(t as usize).copied().unwrap_or(0);
        visible.push_back(t, u64::from(arrivals));

        let metric = p.metric(QueueDepth {
            visible: visible.len,
            in_flight: groups.in_flight(),
            delayed: 0,
        });
        let poll = t >= w.phase && (t - w.phase).is_multiple_of(p.polling_interval);
        let mut created = None;
        if poll {
            let n = groups.start(p, t, w.startup, metric);
            if n > 0 {
                jobs_created += n;
                tally.changes += 1;
            }
            created = Some(n);
        }
        if let Some(deadline) = p.active_deadline {
            jobs_failed += groups.fail_past(deadline, t, &mut visible);
        }
        groups.hand_out(&mut visible, t, w.startup, p.queue_length.max(1));
        tally.pod_seconds += groups.running();
        groups.work(t, w.job_duration.max(1), &mut tally);

        let running = groups.running();
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let tick = Tick {
            t,
            arrivals,
            visible: visible.len,
            in_flight: groups.in_flight(),
            replicas: clamp(running),
            ready: clamp(groups.ready(t, w.startup)),
            keda_read: poll.then_some(metric),
            hpa_read: None,
            jobs_created: created,
        };
        tally.second(&tick, end, sink);
        t += 1;
        // Settled: drained, no Job holds work, and what still runs waits for good (at most
        // minReplicaCount, or Jobs no deadline will end).
        let settled =
            tally.drained() && !groups.busy() && (running <= p.min || p.active_deadline.is_none());
        if t >= end && (settled || t >= end + w.settle_limit) {
            break;
        }
    }
    let mut summary = tally.summary(w, end);
    summary.jobs_created = Some(jobs_created);
    summary.jobs_failed = Some(jobs_failed);
    summary
}

/// A ScaledJob's unfinished Jobs, in groups started together (see `Group`).
#[derive(Debug, Default)]
struct Groups(Vec<Group>);

impl Groups {
    /// Unfinished Jobs (`getRunningJobCount`).
    fn running(&self) -> u64 {
        self.0.iter().map(|g| g.n).sum()
    }

    /// Jobs whose pod is past its `startup` at second `t`.
    fn ready(&self, t: u64, startup: u64) -> u64 {
        self.0
            .iter()
            .filter(|g| t >= g.created + startup)
            .map(|g| g.n)
            .sum()
    }

    /// Messages the Jobs hold (in flight).
    fn in_flight(&self) -> u64 {
        self.0.iter().map(|g| g.held.len).sum()
    }

    /// Whether any Job still holds work.
    fn busy(&self) -> bool {
        self.0.iter().any(|g| g.taken)
    }

    /// KEDA's poll at second `t` on `metric`: the Jobs its strategy starts (a new group), how
    /// many.
    fn start(&mut self, p: &JobParams, t: u64, startup: u64, metric: u64) -> u64 {
        let running = self.running();
        // getPendingJobCount: no pod Running yet, or not all pendingPodConditions true.
        let pending: u64 = self
            .0
            .iter()
            .filter(|g| {
                let until = match p.pending_until {
                    PendingUntil::Creation => g.created,
                    PendingUntil::Startup => g.created + startup,
                };
                t < until
            })
            .map(|g| g.n)
            .sum();
        let (_, _, n) = p.create(metric, Jobs { running, pending });
        if n > 0 {
            self.0.push(Group {
                created: t,
                n,
                taken: false,
                left: 0,
                progress: 0,
                held: Fifo::default(),
            });
        }
        n
    }

    /// activeDeadlineSeconds: a Job `deadline` seconds old at `t` fails, its pod stops, its
    /// messages go back to `visible`; how many failed.
    fn fail_past(&mut self, deadline: u64, t: u64, visible: &mut Fifo) -> u64 {
        let mut failed = 0;
        for g in self.0.iter_mut().filter(|g| t >= g.created + deadline) {
            failed += g.n;
            let mut back = Vec::new();
            g.held.take(g.held.len, |at, k| back.push((at, k)));
            for (at, k) in back.into_iter().rev() {
                visible.push_front(at, k);
            }
            g.n = 0;
        }
        self.0.retain(|g| g.n > 0);
        failed
    }

    /// Ready Jobs waiting for messages receive up to queueLength (`ql`) each, oldest first: a
    /// group splits into the Jobs that got a full share, one that got the rest, and those
    /// still waiting.
    fn hand_out(&mut self, visible: &mut Fifo, t: u64, startup: u64, ql: u64) {
        let mut split = Vec::new();
        for g in self
            .0
            .iter_mut()
            .filter(|g| !g.taken && t >= g.created + startup)
        {
            if visible.len == 0 {
                break;
            }
            let full = (visible.len / ql).min(g.n);
            let take = |jobs: u64, each: u64, visible: &mut Fifo| {
                let mut held = Fifo::default();
                visible.take(jobs * each, |at, k| held.push_back(at, k));
                Group {
                    created: g.created,
                    n: jobs,
                    taken: true,
                    left: each,
                    progress: 0,
                    held,
                }
            };
            if full > 0 {
                split.push(take(full, ql, visible));
            }
            let rest = visible.len.min(ql);
            let partial = u64::from(full < g.n && rest > 0);
            if partial == 1 {
                split.push(take(1, rest, visible));
            }
            g.n -= full + partial;
        }
        self.0.retain(|g| g.n > 0);
        self.0.extend(split);
    }

    /// Second `t` of work: every `duration` seconds each Job of a group finishes (deletes) one
    /// message; a Job with none left completes.
    fn work(&mut self, t: u64, duration: u64, tally: &mut Tally) {
        for g in self.0.iter_mut().filter(|g| g.taken) {
            g.progress += 1;
            if g.progress >= duration {
                g.progress = 0;
                g.left -= 1;
                let done = g.n.min(g.held.len);
                g.held.take(done, |at, k| tally.complete(t, at, k));
            }
        }
        self.0.retain(|g| !(g.taken && g.left == 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Jobs = Jobs {
        running: 0,
        pending: 0,
    };

    #[test]
    fn strategies_follow_keda() {
        // 23 messages, 5 per job, max 10.
        assert_eq!(to_create(Strategy::Default, 23, 5, 0, 10, IDLE), 5);
        assert_eq!(
            to_create(
                Strategy::Default,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 0
                }
            ),
            2
        );
        assert_eq!(
            to_create(
                Strategy::Default,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 7,
                    pending: 0
                }
            ),
            0
        );
        // Accurate subtracts pending jobs (the docs omit this; the code has it).
        assert_eq!(
            to_create(
                Strategy::Accurate,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 2
                }
            ),
            3
        );
        assert_eq!(
            to_create(
                Strategy::Accurate,
                40,
                5,
                0,
                10,
                Jobs {
                    running: 4,
                    pending: 0
                }
            ),
            6
        );
        // Eager fills up to max.
        assert_eq!(
            to_create(
                Strategy::Eager,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 1
                }
            ),
            5
        );
        assert_eq!(
            to_create(
                Strategy::Eager,
                100,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 1
                }
            ),
            6
        );
        let custom = Strategy::Custom {
            deduction: 1,
            running_percentage: 0.5,
        };
        assert_eq!(
            to_create(
                custom,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 4,
                    pending: 0
                }
            ),
            2
        );
        // Below min: top up to min first.
        assert_eq!(
            to_create(
                Strategy::Default,
                0,
                5,
                2,
                10,
                Jobs {
                    running: 1,
                    pending: 0
                }
            ),
            1
        );
    }

    /// `MaxReplicaCount()` is maxReplicaCount − minReplicaCount (scaledjob_types.go), and it is
    /// what both `CalculateQueueLengthAndMaxValue` and the strategies get: 100 messages of 5,
    /// min 2, max 10, 2 running: maxScale = min(ceil(100/5), 10 − 2) = 8, running − min = 0, so
    /// the default strategy starts 8 and 10 run (it once started 10: 12 running, above max).
    #[test]
    fn the_strategies_see_max_minus_min() {
        let two = Jobs {
            running: 2,
            pending: 0,
        };
        assert_eq!(to_create(Strategy::Default, 100, 5, 2, 10, two), 8);
        // Eager: scaleTo is MaxReplicaCount() = 8; effective min(8 − 0 − 0, 8) = 8.
        assert_eq!(to_create(Strategy::Eager, 100, 5, 2, 10, two), 8);
        // Accurate: 8 + 0 − 0 > 8 is false, so maxScale − pending = 8.
        assert_eq!(to_create(Strategy::Accurate, 100, 5, 2, 10, two), 8);
        // createJobs starts min(scaleTo, effective), scaleTo being ceil(queueLength) = 3
        // messages and effective maxScale − 0 = min(ceil(3/1), 10) = 3.
        assert_eq!(to_create(Strategy::Default, 3, 1, 0, 10, IDLE), 3);
        // minReplicaCount above maxReplicaCount: MinReplicaCount() is max (4), so 4 are topped up.
        assert_eq!(to_create(Strategy::Default, 0, 5, 9, 4, IDLE), 4);
    }

    /// Upstream, the custom strategy caps only the Jobs started per poll
    /// (`min(result, maxReplicaCount)`), not the Jobs running: with a percentage of 0 and no
    /// deduction, each poll of a long queue starts maxScale again. 100 messages of 1, max 10,
    /// 10 running: 100 → maxScale min(100, 10) = 10, result 10 − 0 − int64(10 × 0) = 10.
    #[test]
    fn the_custom_strategy_can_run_more_than_max() {
        let custom = Strategy::Custom {
            deduction: 0,
            running_percentage: 0.0,
        };
        let ten = Jobs {
            running: 10,
            pending: 0,
        };
        assert_eq!(to_create(custom, 100, 1, 0, 10, ten), 10);
        // With percentage 1 it is the default strategy minus the deduction: 10 − 0 − 10 = 0.
        let full = Strategy::Custom {
            deduction: 0,
            running_percentage: 1.0,
        };
        assert_eq!(to_create(full, 100, 1, 0, 10, ten), 0);
        // Over a run: 100 messages, Jobs of 1 message × 1000 s, polls every 10 s: 10 at t = 0,
        // 10 more at t = 10 (the 10 running hold 10 messages in flight; the metric is still 100).
        let mut p = seed_002();
        p.max = 10;
        p.strategy = custom;
        let run = simulate_jobs(&p, &workload(vec![100], 1000, 0, 20));
        assert_eq!(run.timeline[0].jobs_created, Some(10));
        assert_eq!(run.timeline[10].jobs_created, Some(10));
        assert_eq!(
            run.timeline[10].replicas, 20,
            "20 Jobs run with maxReplicaCount 10"
        );
    }

    /// KEDA v2.20.2 `NewScalingStrategy` (`pkg/scaling/executor/scale_jobs.go`): `custom`
    /// parses `customScalingRunningJobPercentage` with `strconv.ParseFloat`; kedactl renders no
    /// percentage when none is set, "" fails to parse, and KEDA selects `defaultScalingStrategy`
    /// (`maxScale − running`). Issue #33: queueLength 5, maxReplicaCount 10, deduction 3; the
    /// polls read 3, 93 and 183 messages with 0, 0 and 7 Jobs running. Default: maxScale
    /// min(ceil(3/5), 10) = 1 → 1; min(ceil(93/5), 10) = 10 → 10; 10 − 7 → 3. Custom at 0 %
    /// (what kedactl modelled): 1 − 3 → 0; 10 − 3 − 0 → 7; 10 − 3 − int64(7 × 0) → 7.
    #[test]
    fn custom_without_a_running_job_percentage_is_the_default_strategy() {
        use crate::spec::{JobStrategy, ScalingStrategy};
        let mut st = ScalingStrategy {
            strategy: JobStrategy::Custom,
            custom_scaling_queue_length_deduction: Some(3),
            ..ScalingStrategy::default()
        };
        assert_eq!(Strategy::from_spec(&st), Strategy::Default);
        let p = JobParams {
            queue_length: 5,
            max: 10,
            polling_interval: 30,
            strategy: Strategy::from_spec(&st),
            ..seed_002()
        };
        let polls = [(3, 0), (93, 0), (183, 7)];
        let started = |p: &JobParams| -> Vec<u64> {
            polls
                .iter()
                .map(|&(metric, running)| {
                    p.create(
                        metric,
                        Jobs {
                            running,
                            pending: 0,
                        },
                    )
                    .2
                })
                .collect()
        };
        assert_eq!(started(&p), [1, 10, 3]);
        let zero = JobParams {
            strategy: Strategy::Custom {
                deduction: 3,
                running_percentage: 0.0,
            },
            ..p.clone()
        };
        assert_eq!(
            started(&zero),
            [0, 7, 7],
            "custom at 0 % is another strategy"
        );
        // A percentage that parses keeps custom, with its deduction.
        st.custom_scaling_running_job_percentage = Some(0.5);
        assert_eq!(
            Strategy::from_spec(&st),
            Strategy::Custom {
                deduction: 3,
                running_percentage: 0.5
            }
        );
        // Over a run at 3 msg/s with Jobs that outlast it: the default strategy never runs
        // more than maxReplicaCount (custom at 0 % started 7 a poll, up to 28).
        let run = simulate_jobs(&p, &workload(vec![3; 121], 1000, 5, 0));
        let most = run.timeline.iter().map(|k| k.replicas).max().unwrap();
        assert_eq!(most, 10);
        let run = simulate_jobs(&zero, &workload(vec![3; 121], 1000, 5, 0));
        let most = run.timeline.iter().map(|k| k.replicas).max().unwrap();
        assert_eq!(most, 28);
    }

    /// `areAllPendingPodConditionsFulfilled` (`scale_jobs.go`) against when the kubelet sets
    /// each condition: `GeneratePodInitializedCondition` (kubernetes `pkg/kubelet/status/
    /// generate.go`) returns Initialized=True for a pod without init containers at its first
    /// status sync, before the image pull; ContainersReady and Ready wait for the container.
    /// Issue #33: accurate, queueLength 5, pods start in 45 s; 1 message at t = 0 (one Job),
    /// 30 more at t = 30. At t = 30: maxScale ceil(31/5) = 7, 1 running. Pending until it runs:
    /// 7 + 1 − 1 ≤ 100, so 7 − 1 = 6. With [Initialized] it is not pending: 7 − 0 = 7.
    #[test]
    fn a_job_stops_pending_when_the_kubelet_sets_the_named_conditions() {
        let mut arrivals = vec![0; 31];
        arrivals[0] = 1;
        arrivals[30] = 30;
        let at_30 = |conditions: &[&str]| {
            let conditions: Vec<String> = conditions.iter().map(|c| c.to_string()).collect();
            let p = JobParams {
                queue_length: 5,
                polling_interval: 30,
                strategy: Strategy::Accurate,
                pending_until: PendingUntil::from_conditions(&conditions),
                ..seed_002()
            };
            let run = simulate_jobs(&p, &workload(arrivals.clone(), 30, 45, 0));
            assert_eq!(run.timeline[0].jobs_created, Some(1));
            assert_eq!(run.timeline[30].keda_read, Some(31));
            run.timeline[30].jobs_created.unwrap()
        };
        assert_eq!(at_30(&[]), 6);
        assert_eq!(at_30(&["Initialized"]), 7);
        assert_eq!(at_30(&["PodScheduled", "Initialized"]), 7);
        assert_eq!(at_30(&["PodReadyToStartContainers"]), 7);
        assert_eq!(at_30(&["Initialized", "ContainersReady"]), 6);
        assert_eq!(at_30(&["Ready"]), 6);
    }

    /// `IsScaledJobActive` (`pkg/scaling/scaledjob/metrics.go`) counts a scaler's queue only
    /// while it is active (queue > activationQueueLength); minReplicaCount > 0 sets the
    /// ScaledJob active afterwards and leaves the queue at 0. Issue #33: min 2, max 10,
    /// queueLength 5, 8 messages, 2 running: activation 10 → maxScale 0, 0 − 0 → 0 Jobs;
    /// activation 0 → maxScale min(ceil(8/5), 10 − 2) = 2, 2 − 0 → 2 Jobs.
    #[test]
    fn activation_acts_with_min_replicas() {
        let p = JobParams {
            queue_length: 5,
            min: 2,
            max: 10,
            activation_queue_length: 10,
            polling_interval: 30,
            ..seed_002()
        };
        let two = Jobs {
            running: 2,
            pending: 2,
        };
        assert_eq!(p.create(8, two), (true, 0, 0));
        let d = p.decide(8, two);
        assert_eq!((d.next, d.active), (2, true));
        assert!(d.reason.contains("not counted"), "{}", d.reason);
        let open = JobParams {
            activation_queue_length: 0,
            ..p.clone()
        };
        assert_eq!(open.create(8, two), (true, 8, 2));
        // A run: 8 messages at t = 0, pods start in 45 s. The poll at 0 tops up to min (2,
        // whatever the queue); the poll at 30 sees 8 messages and 2 running.
        let mut arrivals = vec![0; 31];
        arrivals[0] = 8;
        let started = |p: &JobParams| {
            let run = simulate_jobs(p, &workload(arrivals.clone(), 30, 45, 0));
            [0, 30].map(|t| run.timeline[t].jobs_created.unwrap())
        };
        assert_eq!(started(&p), [2, 0]);
        assert_eq!(started(&open), [2, 2]);
    }

    fn seed_002() -> JobParams {
        // Seed 002's ScaledJob: queueLength 1, pollingInterval 10, maxReplicaCount 100, default.
        JobParams {
            queue_length: 1,
            activation_queue_length: 0,
            min: 0,
            max: 100,
            polling_interval: 10,
            scale_on_in_flight: true,
            scale_on_delayed: false,
            strategy: Strategy::Default,
            pending_until: PendingUntil::Startup,
            active_deadline: None,
            paused: false,
        }
    }

    fn workload(arrivals: Vec<u32>, job_duration: u64, startup: u64, settle: u64) -> Workload {
        Workload {
            arrivals,
            pod_rate: 1.0,
            startup,
            price_per_pod_hour: None,
            settle_limit: settle,
            phase: 0,
            job_duration,
            gauge: None,
        }
    }

    /// Seed 002: 12 messages at t = 0, one message per Job, PROCESS_SLEEP_TIME 30 s, pods ready
    /// 5 s after creation. By hand: the poll at t = 0 reads 12 (maxScale min(12, 100) = 12, none
    /// running) and starts 12 Jobs; each receives one message at t = 5 and deletes it after 30 s
    /// of work, at t = 34 (wait 34 s); the polls at 10, 20, 30 read 12 in flight with 12 running
    /// (12 − 12 = 0 new). No HPA, no cooldown: the Jobs are gone when done.
    #[test]
    fn seed_002_runs_one_job_per_message() {
        let run = simulate_jobs(&seed_002(), &workload(vec![12], 30, 5, 120));
        let k = &run.timeline;
        assert_eq!(k[0].jobs_created, Some(12));
        assert_eq!((k[0].replicas, k[0].ready), (12, 0));
        assert_eq!((k[5].visible, k[5].in_flight, k[5].ready), (0, 12, 12));
        for t in [10, 20, 30] {
            assert_eq!(k[t].keda_read, Some(12));
            assert_eq!(k[t].jobs_created, Some(0));
        }
        assert_eq!((k[33].in_flight, k[33].replicas), (12, 12));
        assert_eq!((k[34].in_flight, k[34].replicas), (0, 0));
        assert_eq!(k[34].hpa_read, None);
        let s = &run.summary;
        assert_eq!((s.processed, s.wait_max, s.wait_p50), (12, 34, 34));
        assert_eq!(s.pod_seconds, 12 * 35, "12 pods from t = 0 to 34");
        assert_eq!((s.jobs_created, s.jobs_failed), (Some(12), Some(0)));
    }

    /// `activeDeadlineSeconds` 10 with 30 s of work: the Job started at 0 fails at 10 and its
    /// message is visible again; the poll at 10 ran first and saw 1 running with 1 in flight (no
    /// new Job); the poll at 20 starts one again, which fails at 30, and so on: Jobs at 0, 20,
    /// 40, 60, failures at 10, 30, 50, nothing processed.
    #[test]
    fn a_deadline_fails_the_job_and_returns_its_message() {
        let mut p = seed_002();
        p.active_deadline = Some(10);
        let run = simulate_jobs(&p, &workload(vec![1], 30, 0, 60));
        let started: Vec<u64> = run
            .timeline
            .iter()
            .filter(|k| k.jobs_created.is_some_and(|n| n > 0))
            .map(|k| k.t)
            .collect();
        assert_eq!(started, [0, 20, 40, 60]);
        assert_eq!(run.summary.processed, 0);
        assert_eq!(run.summary.jobs_failed, Some(3));
        assert_eq!(run.timeline[10].visible, 1);
    }

    /// Pending Jobs: a Job is pending until its pod runs (`isAnyPodRunningOrCompleted`), or
    /// with pendingPodConditions [PodScheduled] until it is scheduled (at once here). Accurate
    /// subtracts pending Jobs: 3 messages, pods start in 25 s. At t = 0: 3 Jobs. At t = 10
    /// (new messages: 3 more, 6 in all, none received yet): maxScale 6, running 3, pending 3:
    /// 6 + 3 − 3 > 100 is false, so maxScale − pending = 3 more. With PodScheduled the 3 are
    /// not pending: 6 − 0 = 6 more.
    #[test]
    fn accurate_counts_pending_jobs_by_the_pod_conditions() {
        let mut p = seed_002();
        p.strategy = Strategy::Accurate;
        let mut arrivals = vec![0; 11];
        arrivals[0] = 3;
        arrivals[10] = 3;
        let run = simulate_jobs(&p, &workload(arrivals.clone(), 30, 25, 0));
        assert_eq!(run.timeline[10].jobs_created, Some(3));
        p.pending_until = PendingUntil::Creation;
        let run = simulate_jobs(&p, &workload(arrivals, 30, 25, 0));
        assert_eq!(run.timeline[10].jobs_created, Some(6));
    }

    use proptest::prelude::{
        Just, ProptestConfig, any, prop, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };
    use proptest::strategy::Strategy as _;

    fn capped_strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
        prop_oneof![
            Just(Strategy::Default),
            Just(Strategy::Accurate),
            Just(Strategy::Eager),
            (0u64..5).prop_map(|deduction| Strategy::Custom {
                deduction,
                running_percentage: 1.0
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// For the same queue, a Job run never has more than maxReplicaCount Jobs running
        /// (default, accurate, eager, and custom counting every running Job), and work is
        /// conserved every second: arrivals = deleted + visible + in flight.
        #[test]
        fn jobs_never_exceed_max_and_work_is_conserved(
            arrivals in prop::collection::vec(0u32..30, 1..90),
            strategy in capped_strategy(),
            queue_length in 1u64..6,
            max in 1u64..25,
            min in 0u64..4,
            duration in 1u64..40,
            startup in 0u64..20,
            deadline in prop::option::of(1u64..60),
            scheduled in any::<bool>(),
        ) {
            let p = JobParams {
                queue_length,
                min: min.min(max),
                max,
                strategy,
                active_deadline: deadline,
                pending_until: if scheduled { PendingUntil::Creation } else { PendingUntil::Startup },
                ..seed_002()
            };
            let run = simulate_jobs(&p, &workload(arrivals.clone(), duration, startup, 300));
            let mut arrived = 0u64;
            for k in &run.timeline {
                arrived += u64::from(k.arrivals);
                prop_assert!(u64::from(k.replicas) <= max, "{k:?}");
                prop_assert!(k.visible + k.in_flight <= arrived);
            }
            let last = run.timeline.last().unwrap();
            prop_assert_eq!(arrived, run.summary.processed + last.visible + last.in_flight);
        }
    }
}
