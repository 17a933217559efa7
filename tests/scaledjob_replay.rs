//! `simulate` of ScaledJob apps against an independent replay of KEDA v2.20.2's decisions
//! (tests/support/scaledjob_replay.py): for every poll of every run, the replay reads the
//! rendered ScaledJob as KEDA would (its strings: the custom percentage, the trigger's
//! queueLength, activationQueueLength and scaleOnInFlight, pendingPodConditions, the replica
//! bounds) and the state the poll saw, and computes the Jobs KEDA starts. A model that decides
//! otherwise than the manifest kedactl renders would make KEDA decide fails here.

mod common;
use common::{Sandbox, stderr};
use serde_json::Value;
use std::process::Command;

const HEAD: &str = "cluster: demo\nregion: us-east-1\naccount: \"123456789012\"\n";

/// The ScaledJob settings replayed: each strategy (custom with and without a percentage),
/// the pending pod conditions, activation with and without minReplicas, min above zero,
/// a deadline, scaleOnInFlight off, a pause.
const SCALINGS: [&str; 16] = [
    "queueLength: 5\n      maxReplicas: 10\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: custom, customScalingQueueLengthDeduction: 3}\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: custom, customScalingQueueLengthDeduction: 1, customScalingRunningJobPercentage: 0.5}\n",
    "queueLength: 2\n      maxReplicas: 8\n      scalingStrategy: {strategy: custom, customScalingRunningJobPercentage: 1}\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: accurate}\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: accurate, pendingPodConditions: [Initialized]}\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: accurate, pendingPodConditions: [PodScheduled, ContainersReady]}\n",
    "queueLength: 3\n      maxReplicas: 12\n      scalingStrategy: {strategy: eager}\n",
    "queueLength: 3\n      maxReplicas: 12\n      scalingStrategy: {strategy: eager, pendingPodConditions: [PodReadyToStartContainers, Initialized]}\n",
    "queueLength: 5\n      maxReplicas: 10\n      scalingStrategy: {strategy: eager, pendingPodConditions: [Ready]}\n",
    "queueLength: 5\n      minReplicas: 2\n      maxReplicas: 10\n      activationQueueLength: 10\n",
    "queueLength: 5\n      minReplicas: 2\n      maxReplicas: 10\n      activationQueueLength: 10\n      scalingStrategy: {strategy: accurate}\n",
    "queueLength: 4\n      maxReplicas: 10\n      activationQueueLength: 6\n      scalingStrategy: {strategy: eager}\n",
    "queueLength: 1\n      minReplicas: 1\n      maxReplicas: 20\n      pollingInterval: 10\n      activeDeadlineSeconds: 40\n",
    "queueLength: 5\n      maxReplicas: 10\n      scaleOnInFlight: false\n      scalingStrategy: {strategy: accurate}\n",
    "queueLength: 5\n      maxReplicas: 10\n      paused: true\n",
];

/// (flags, startup, phase): arrivals, pods' start-up and work, KEDA's phase.
const WORKLOADS: [(&[&str], u64, u64); 4] = [
    (
        &[
            "--shape",
            "spikes",
            "--rate",
            "1",
            "--duration",
            "15m",
            "--job-duration",
            "20s",
        ],
        30,
        0,
    ),
    (
        &[
            "--shape",
            "burst",
            "--rate",
            "0.2",
            "--duration",
            "5m",
            "--job-duration",
            "10s",
        ],
        45,
        0,
    ),
    (
        &[
            "--shape",
            "sine",
            "--rate",
            "0.5",
            "--duration",
            "20m",
            "--job-duration",
            "45s",
        ],
        5,
        7,
    ),
    (
        &[
            "--shape",
            "steady",
            "--rate",
            "3",
            "--duration",
            "3m",
            "--job-duration",
            "1m",
        ],
        20,
        0,
    ),
];

#[test]
fn every_poll_starts_the_jobs_keda_would() {
    let s = Sandbox::new();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/scaledjob_replay.py"
    );
    let mut runs = 0;
    for (i, scaling) in SCALINGS.iter().enumerate() {
        let config = format!("{HEAD}apps:\n  - scaling:\n      kind: ScaledJob\n      {scaling}");
        s.write("job.yaml", &config);
        let spec = kedactl::spec::parse(config.as_bytes(), "job.yaml")
            .unwrap_or_else(|p| panic!("{scaling}: {p}"));
        let desired = kedactl::render::desired(&spec).unwrap();
        let sj = desired
            .manifests
            .iter()
            .find(|m| m["kind"] == "ScaledJob")
            .unwrap();
        s.write("scaledjob.json", serde_json::to_vec(sj).unwrap());
        for (w, (flags, startup, phase)) in WORKLOADS.iter().enumerate() {
            let (startup, phase) = (format!("{startup}"), format!("{phase}"));
            let mut args = vec!["simulate", "-f", "job.yaml", "-o", "json"];
            args.extend(*flags);
            args.extend(["--startup", &startup, "--phase", &phase]);
            let out = s.kedactl(&args).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(doc["summary"]["jobsCreated"].is_u64(), "{scaling}");
            s.write("simulation.json", &out.stdout);
            let replay = Command::new("python3")
                .arg(script)
                .arg(s.path("scaledjob.json"))
                .arg(s.path("simulation.json"))
                .args([&startup, &phase])
                .output()
                .expect("python3 runs the replay (CI has it: .ci/run)");
            assert!(
                replay.status.success(),
                "scaling {i} ({scaling}), workload {w}: kedactl and KEDA disagree:\n{}{}",
                String::from_utf8_lossy(&replay.stdout),
                String::from_utf8_lossy(&replay.stderr)
            );
            runs += 1;
        }
    }
    assert_eq!(runs, SCALINGS.len() * WORKLOADS.len());
}
