//! `simulate` of a ScaledJob app starts, at every poll, the Jobs KEDA v2.20.2 would start
//! (`RequestJobScale` in `pkg/scaling/executor/scale_jobs.go`, `IsScaledJobActive` in
//! `pkg/scaling/scaledjob/metrics.go`), for the settings of issue #33. Each run is worked out by
//! hand in its comment: the model's seconds are arrivals, KEDA's poll, deadlines, Jobs taking
//! up to queueLength messages once ready, then work (a message every --job-duration seconds,
//! counting the second it was taken).

mod common;
use common::{Sandbox, stderr, valid_document};
use serde_json::Value;

/// (second, Jobs started) of every poll of a run of `config` on per-second `arrivals`.
fn polls(s: &Sandbox, config: &str, arrivals: &[(usize, u32)], extra: &[&str]) -> Vec<(u64, u64)> {
    let len = arrivals.iter().map(|(t, _)| t + 1).max().unwrap();
    let mut trace = vec![0u32; len];
    for (t, n) in arrivals {
        trace[*t] = *n;
    }
    s.write("job.yaml", config);
    s.write("trace.json", serde_json::to_string(&trace).unwrap());
    let mut args = vec![
        "simulate",
        "-f",
        "job.yaml",
        "--trace",
        "trace.json",
        "-o",
        "json",
    ];
    args.extend(extra);
    let out = s.kedactl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = valid_document(serde_json::from_slice(&out.stdout).unwrap());
    doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| Some((k["t"].as_u64()?, k.get("jobsCreated")?.as_u64()?)))
        .collect()
}

/// `validate` of job.yaml passes; its stderr (the warnings).
fn validate_ok(s: &Sandbox) -> String {
    let args = ["validate", "-f", "job.yaml", "--cluster", "demo"];
    let out = s
        .kedactl(args)
        .args(["--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stderr(&out)
}

const JOB: &str = "apps:\n  - scaling:\n      kind: ScaledJob\n      queueLength: 5\n      maxReplicas: 10\n      pollingInterval: 30\n";

/// Item 1: `strategy: custom` with a deduction of 3 and no running-job percentage. KEDA's
/// `NewScalingStrategy` cannot parse the missing percentage and selects the default strategy,
/// `maxScale − running`, maxScale = min(ceil(metric / 5), 10). 3 messages at t = 0, 90 at 30;
/// pods start in 5 s, 10 s a message.
/// - t = 0: 3 → maxScale 1, 0 running: 1 (custom would start 1 − 3 → 0). It takes the 3 at t =
///   5, deletes them at 14, 24, 34.
/// - t = 30: 90 visible + 1 in flight = 91 → 10, 1 running: 9 (custom: 10 − 3 = 7). They take
///   5 each at 35 (45 left), delete at 44 … 84.
/// - t = 60: 45 + 9 × 3 in flight = 72 → 10, 9 running: 1. It takes 5 at 65 (40 left), ends 114.
/// - t = 90: 40 + 3 in flight = 43 → 9, 1 running: 8. They take the 40 at 95, end at 144.
/// - t = 120: 8 × 3 in flight = 24 → 5, 8 running: 5 − 8 → 0. Drained at 144: the run ends.
///
/// Never more than maxReplicas (10) Jobs run; `simulate` warns that custom is default here.
#[test]
fn custom_without_a_percentage_starts_what_the_default_strategy_starts() {
    let s = Sandbox::new();
    let config = format!(
        "{JOB}      scalingStrategy:\n        strategy: custom\n        customScalingQueueLengthDeduction: 3\n"
    );
    let got = polls(
        &s,
        &config,
        &[(0, 3), (30, 90)],
        &["--startup", "5s", "--job-duration", "10s"],
    );
    assert_eq!(got, [(0, 1), (30, 9), (60, 1), (90, 8), (120, 0)]);
    let out = s
        .kedactl(["simulate", "-f", "job.yaml", "--trace", "trace.json"])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("custom without a running-job percentage is the default strategy"),
        "{}",
        stderr(&out)
    );
    let warned = validate_ok(&s);
    assert!(
        warned.contains("warning: apps[0].scaling.scalingStrategy.customScalingRunningJobPercentage: custom without a running-job percentage is the default strategy"),
        "{warned}"
    );
}

/// Item 2: accurate (`maxScale − pending`, or `maxReplicaCount − running` when maxScale +
/// running − pending > maxReplicaCount), pendingPodConditions [Initialized]: a pod without init
/// containers is Initialized at the kubelet's first status sync (`GeneratePodInitializedCondition`),
/// before its image is pulled, so a Job is pending only without conditions (until its pod runs,
/// `isAnyPodRunningOrCompleted`). 1 message at t = 0, 30 at 30; pods start in 45 s, 5 s a message.
/// - t = 0: 1 → maxScale 1: 1 Job (ready at 45).
/// - t = 30: 31 → 7, 1 running. [Initialized]: 0 pending, 7 + 1 ≤ 10: 7. Without: 1 pending,
///   7 + 1 − 1 ≤ 10: 7 − 1 = 6.
/// - [Initialized], t = 60: the first Job took 5 at 45 and deleted 3 (49, 54, 59): 26 + 2 = 28
///   → 6, 8 running, 0 pending: 6 + 8 > 10, so 10 − 8 = 2. At 75 the 7 take 5 × 5 and 1 (26),
///   one waits. t = 90: 5 × 2 in flight = 10 → 2, 8 running (one waiting, five working, two
///   from t = 60), 0 pending: 2 + 8 ≤ 10: 2. Drained at 99.
/// - Without, t = 60: 28 → 6, 7 running (the first and six), 6 pending: 6 + 7 − 6 ≤ 10: 6 − 6
///   = 0. At 75 the six take 5 × 5 and 1 (26). t = 90: 5 × 2 in flight → 2, 5 running, 0
///   pending: 2. Drained at 99.
#[test]
fn initialized_ends_pending_before_the_pod_runs() {
    let s = Sandbox::new();
    let run = |conditions: &str| {
        let config =
            format!("{JOB}      scalingStrategy:\n        strategy: accurate\n{conditions}");
        polls(
            &s,
            &config,
            &[(0, 1), (30, 30)],
            &["--startup", "45s", "--job-duration", "5s"],
        )
    };
    assert_eq!(
        run("        pendingPodConditions: [Initialized]\n"),
        [(0, 1), (30, 7), (60, 2), (90, 2)]
    );
    assert_eq!(run(""), [(0, 1), (30, 6), (60, 0), (90, 2)]);
}

/// Item 3: minReplicas 2 with activationQueueLength 10. `IsScaledJobActive` counts the queue
/// only while the scaler is active (> 10); minReplicaCount makes the ScaledJob active without
/// counting it. 8 messages at t = 0; pods start in 45 s, 5 s a message.
/// - t = 0: 0 running < min 2: 2, whatever the queue (`getScalingDecision`).
/// - activation 10, t = 30: 8 ≤ 10, queue not counted: maxScale 0, 2 − 2 running → 0. At 45 the
///   two take 5 and 3; t = 60: 2 in flight, 1 running (the one of 3 ended at 59) < 2: 1.
/// - activation 0, t = 30: maxScale min(ceil(8/5), 10 − 2) = 2, running − min = 0: 2. At 45 the
///   first two take 5 and 3 (none left for the others); t = 60: 2 in flight → 1, 3 running,
///   1 − (3 − 2) → 0.
#[test]
fn activation_with_min_replicas_is_simulated_not_refused() {
    let s = Sandbox::new();
    let run = |activation: u32| {
        let config =
            format!("{JOB}      minReplicas: 2\n      activationQueueLength: {activation}\n");
        polls(
            &s,
            &config,
            &[(0, 8)],
            &["--startup", "45s", "--job-duration", "5s"],
        )
    };
    assert_eq!(run(10), [(0, 2), (30, 0), (60, 1)]);
    assert_eq!(run(0), [(0, 2), (30, 2), (60, 0)]);
    validate_ok(&s);
}
