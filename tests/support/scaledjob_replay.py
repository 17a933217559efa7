#!/usr/bin/env python3
"""Replay KEDA v2.20.2's ScaledJob decisions over a `kedactl simulate -o json` timeline.

An implementation apart from kedactl's own (src/scaling/job.rs), written from the upstream
sources, and reading what KEDA would read: the rendered ScaledJob manifest (its strings, as the
CRD stores them), not kedactl's config or model. For every poll of the timeline it takes the
state the poll saw (the metric, Jobs running and pending, from the timeline and the Jobs started
before) and computes the Jobs KEDA starts; any disagreement is printed and the exit code is 1.

    scaledjob_replay.py SCALEDJOB.json SIMULATION.json STARTUP_SECONDS PHASE_SECONDS

Upstream (kedacore/keda v2.20.2):
- pkg/scalers/aws_sqs_queue_scaler.go: queueLength (default 5) and activationQueueLength
  (default 0) from the metadata; the metric counts in-flight messages with scaleOnInFlight
  (default true); the trigger is active when metric > activationQueueLength.
- pkg/scaling/scaledjob/metrics.go: CalculateQueueLengthAndMaxValue (maxValue = min(queue /
  target, MaxReplicaCount())), IsScaledJobActive (an inactive scaler is not counted;
  minReplicaCount > 0 makes the ScaledJob active), ceil of both.
- apis/keda/v1alpha1/scaledjob_types.go: MinReplicaCount() / MaxReplicaCount() (defaults 0 /
  100; max − min, or max when min > max).
- pkg/scaling/executor/scale_jobs.go: RequestJobScale, getScalingDecision, NewScalingStrategy
  (custom needs a percentage strconv.ParseFloat accepts, else default), the four strategies,
  createJobs (min(scaleTo, effectiveMaxScale) when above 0), getPendingJobCount with
  isAnyPodRunningOrCompleted / areAllPendingPodConditionsFulfilled.
- kubernetes pkg/kubelet/status/generate.go: when the kubelet sets each pod condition (below).
"""

import json
import math
import re
import sys

# When a pod has each condition, on the simulation's two moments of a pod: "created" (the
# scheduler binds it, and the kubelet's first sync sets Initialized for a pod without init
# containers, GeneratePodInitializedCondition; the sandbox follows within seconds) and "ready"
# (the container runs, is ready: ContainersReady, Ready).
CONDITION_AT = {
    "PodScheduled": "created",
    "Initialized": "created",
    "PodReadyToStartContainers": "created",
    "ContainersReady": "ready",
    "Ready": "ready",
}

# strconv.ParseFloat's decimal syntax (what a rendered percentage can hold), plus its special
# values; anything else fails and selects the default strategy.
GO_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.I)


def go_parse_float(text):
    return float(text) if GO_FLOAT.fullmatch(text or "") else None


def truthy(text, default):
    return default if text is None else text.strip().lower() == "true"


def main(scaledjob_path, simulation_path, startup, phase):
    with open(scaledjob_path) as f:
        sj = json.load(f)
    with open(simulation_path) as f:
        sim = json.load(f)
    spec = sj["spec"]
    meta = spec["triggers"][0]["metadata"]
    target = float(meta.get("queueLength", "5"))
    activation = float(meta.get("activationQueueLength", "0"))
    in_flight_counts = truthy(meta.get("scaleOnInFlight"), True)
    polling = spec.get("pollingInterval", 30)
    paused = sj["metadata"].get("annotations", {}).get("autoscaling.keda.sh/paused") == "true"

    min_spec, max_spec = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
    if min_spec is not None and max_spec is not None and min_spec > max_spec:
        min_rc, max_rc = max_spec, max_spec
    else:
        min_rc = min_spec or 0
        max_rc = (max_spec - min_rc) if max_spec is not None else 100

    st = spec.get("scalingStrategy", {})
    strategy = st.get("strategy", "default")
    percentage = None
    if strategy == "custom":
        percentage = go_parse_float(st.get("customScalingRunningJobPercentage", ""))
        if percentage is None:
            strategy = "default"
    deduction = st.get("customScalingQueueLengthDeduction", 0)
    conditions = st.get("pendingPodConditions", [])
    pod = spec["jobTargetRef"]["template"]["spec"]
    if pod.get("initContainers"):
        sys.exit("the replay's condition times assume a pod without init containers")
    not_pending_at = "ready" if not conditions else (
        "ready" if any(CONDITION_AT[c] == "ready" for c in conditions) else "created")
    deadline = spec["jobTargetRef"].get("activeDeadlineSeconds")

    timeline = sim["timeline"]
    started = []  # (second, Jobs)
    wrong = []
    polls = 0
    for k in timeline:
        t = k["t"]
        is_poll = t >= phase and (t - phase) % polling == 0
        if ("jobsCreated" in k) != is_poll:
            wrong.append(f"t={t}: a poll {'missing' if is_poll else 'where none is due'}")
            continue
        if not is_poll:
            continue
        polls += 1
        prev = timeline[t - 1] if t > 0 else {"visible": 0, "inFlight": 0, "replicas": 0}
        metric = prev["visible"] + k["arrivals"] + (prev["inFlight"] if in_flight_counts else 0)
        if k.get("kedaRead") != metric:
            wrong.append(f"t={t}: the poll read {k.get('kedaRead')}, the queue held {metric}")
        running = prev["replicas"]
        alive = [(c, n) for c, n in started if deadline is None or t <= c + deadline]
        pending = sum(n for c, n in alive if not_pending_at == "ready" and t < c + startup)

        scaler_active = metric > activation
        queue = float(metric) if scaler_active else 0.0
        max_value = min(queue / target, max_rc) if scaler_active else 0.0
        active = scaler_active or min_rc > 0
        scale_to, max_scale = math.ceil(queue), math.ceil(min(max_value, max_rc))

        if running < min_rc:
            effective = scale_to = min_rc - running
        else:
            r = running - min_rc
            if strategy == "custom":
                effective = min(max_scale - deduction - int(r * percentage), max_rc)
            elif strategy == "accurate":
                effective = (max_rc - r) if max_scale + r - pending > max_rc else max_scale - pending
            elif strategy == "eager":
                effective, scale_to = min(max_rc - r - pending, max_scale), max_rc
            else:
                effective = max_scale - r
        effective = max(effective, 0)
        want = min(scale_to, effective) if active and effective > 0 and not paused else 0
        if k["jobsCreated"] != want:
            wrong.append(
                f"t={t}: kedactl started {k['jobsCreated']}, KEDA starts {want} "
                f"(metric {metric}, {running} running, {pending} pending, {strategy})")
        if want:
            started.append((t, want))
    if wrong:
        print("\n".join(wrong))
        sys.exit(1)
    print(f"{polls} polls replayed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
