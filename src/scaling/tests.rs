use super::*;
use proptest::prelude::*;

/// The seed: queueLength 5, min 0, max 10, KEDA defaults.
fn seed() -> Params {
    Params::from_spec(&crate::spec::Scaling::default())
}

#[test]
fn the_metric_counts_what_the_trigger_asks_for() {
    let q = QueueDepth {
        visible: 10,
        in_flight: 3,
        delayed: 2,
    };
    let mut p = seed();
    assert_eq!(
        p.metric(q),
        13,
        "scaleOnInFlight defaults to true, scaleOnDelayed to false"
    );
    p.scale_on_delayed = true;
    p.scale_on_in_flight = false;
    assert_eq!(p.metric(q), 12);
}

#[test]
fn targets() {
    let p = seed();
    assert_eq!(p.target(0), 0);
    assert_eq!(p.target(1), 1);
    assert_eq!(p.target(23), 5, "one pod per 5 messages");
    assert_eq!(p.target(500), 10, "capped at max");
    let mut p = seed();
    p.activation_queue_length = 10;
    assert_eq!(p.target(10), 0, "activation is a strict >");
    assert_eq!(p.target(11), 3);
}

/// domain.md §4.3, step by step.
#[test]
fn the_worked_example() {
    let p = seed();
    let mut s = State::new(0, 0);
    assert_eq!(
        keda_poll(&p, &mut s, 0, Ok(0)).next,
        0,
        "empty queue: stays at 0"
    );
    assert_eq!(
        hpa_sync(&p, &mut s, 15, 0).next,
        0,
        "the HPA is disabled at 0"
    );

    let d = keda_poll(&p, &mut s, 30, Ok(12));
    assert_eq!((d.active, d.next), (true, 1), "{}", d.reason);
    let d = hpa_sync(&p, &mut s, 45, 12);
    assert_eq!(d.next, 3, "ratio 2.4 → ceil(12/5) = 3: {}", d.reason);

    let d = hpa_sync(&p, &mut s, 60, 60);
    assert_eq!(
        d.next, 6,
        "ceil(60/5) = 12, limited to max(2×3, 4): {}",
        d.reason
    );
    let d = hpa_sync(&p, &mut s, 75, 60);
    assert_eq!(d.next, 10, "limit 12, capped at maxReplicas: {}", d.reason);

    let d = hpa_sync(&p, &mut s, 90, 8);
    assert_eq!(
        d.next, 10,
        "scale-down waits for the 300 s window: {}",
        d.reason
    );
    assert!(d.reason.contains("300 s scale-down window"), "{}", d.reason);
    let d = hpa_sync(&p, &mut s, 75 + 300 + 15, 8);
    assert_eq!(
        d.next, 2,
        "the high recommendations left the window: {}",
        d.reason
    );

    // Queue empty: the HPA keeps 1; KEDA goes to 0 only after the cooldown.
    keda_poll(&p, &mut s, 400, Ok(8));
    let d = hpa_sync(&p, &mut s, 405, 0);
    assert_eq!(d.next, 2, "still held by the window");
    let d = keda_poll(&p, &mut s, 430, Ok(0));
    assert_eq!(d.next, 2, "{}", d.reason);
    assert!(d.reason.contains("cooldown until 701"), "{}", d.reason);
    let d = keda_poll(&p, &mut s, 700, Ok(0));
    assert_eq!(d.next, 2, "lastActive + cooldown must be in the past");
    let d = keda_poll(&p, &mut s, 701, Ok(0));
    assert_eq!(d.next, 0, "{}", d.reason);
}

#[test]
fn tolerance() {
    let p = seed();
    let at = |replicas: u32, metric: u64| {
        let mut s = State::new(replicas, 0);
        hpa_sync(&p, &mut s, 15, metric).next
    };
    assert_eq!(at(1, 5), 1, "ratio 1.0");
    assert_eq!(at(4, 21), 4, "ratio 1.05 is within tolerance");
    assert_eq!(at(4, 19), 4, "ratio 0.95 is within tolerance");
    // 11 / (5 × 2) is 1.1 in float64: inside the 1.33+ band (1.0 + 0.1 is the same float), so
    // the newest EKS version holds; 1.32's |1 − r| ≤ 0.1 scales (see the next test).
    assert_eq!(at(2, 11), 2);
    assert_eq!(at(1, 6), 2, "ratio 1.2 → ceil(6/5)");
}

#[test]
fn min_replicas_above_zero_ignores_activation() {
    let mut p = seed();
    p.min = 2;
    p.activation_queue_length = 100;
    let mut s = State::new(0, 0);
    // RequestScale: not active (0 ≤ 100), currentReplicas 0 < minReplicas 2 → set 2.
    let d = keda_poll(&p, &mut s, 0, Ok(0));
    assert_eq!((d.active, d.next), (false, 2), "{}", d.reason);
    assert!(
        d.reason.contains("inactive, below minReplicas"),
        "{}",
        d.reason
    );
    let d = keda_poll(&p, &mut s, 1000, Ok(0));
    assert_eq!(d.next, 2, "never to zero");
    assert_eq!(hpa_sync(&p, &mut s, 1015, 0).next, 2);
}

/// Issue 16, defect 5, by hand from `pkg/fallback/fallback.go` v2.20.2:
/// `GetMetricsWithFallback` increments NumberOfFailures on every failed read (KEDA's poll and
/// the HPA's metric request alike) and falls back only when `NumberOfFailures >
/// FailureThreshold`; `doFallback` returns `AverageValue × replicas` (here 5 × 4 = 20) for the
/// HPA, which then applies its own rules: from 1 replica, ceil(20/5) = 4 within max(2×1, 4).
/// RequestScale with isError and fallback.replicas ≠ 0 leaves the replicas to the HPA.
#[test]
fn fallback_after_the_failure_threshold() {
    let mut p = seed();
    p.fallback = Some(Fallback {
        failure_threshold: 3,
        replicas: 4,
        behavior: FallbackBehavior::Static,
    });
    let mut s = State::new(1, 0);
    assert_eq!(keda_poll(&p, &mut s, 30, Err(())).next, 1);
    assert_eq!(hpa_sync_read(&p, &mut s, 45, Err(())).next, 1, "failure #2");
    let d = keda_poll(&p, &mut s, 60, Err(()));
    assert_eq!((s.failures, d.next), (3, 1), "3 is not > 3: {}", d.reason);
    let d = keda_poll(&p, &mut s, 90, Err(()));
    assert_eq!(
        d.next, 1,
        "KEDA itself never sets the fallback count: {}",
        d.reason
    );
    let d = hpa_sync_read(&p, &mut s, 90, Err(()));
    assert_eq!((d.metric, d.next), (20, 4), "{}", d.reason);
    assert!(
        d.reason.contains("fallback metric 5 × 4 = 20"),
        "{}",
        d.reason
    );

    // The HPA's rules still apply: fallback 40 replicas from 1 is limited to max(2×1, 4) = 4,
    // and capped at maxReplicas 10 later.
    p.fallback = Some(Fallback {
        failure_threshold: 0,
        replicas: 40,
        behavior: FallbackBehavior::Static,
    });
    let mut s = State::new(1, 0);
    let d = hpa_sync_read(&p, &mut s, 15, Err(()));
    assert_eq!(d.next, 4, "{}", d.reason);
    assert_eq!(hpa_sync_read(&p, &mut s, 30, Err(())).next, 8);
    assert_eq!(hpa_sync_read(&p, &mut s, 45, Err(())).next, 10);
    // The window holds the fallback count after the metric returns.
    assert_eq!(hpa_sync_read(&p, &mut s, 60, Ok(0)).next, 10);
    assert_eq!(s.failures, 0, "a good read resets the count");

    // fallback.behavior: currentReplicasIfHigher keeps 6 over fallback 2; IfLower takes 2.
    let f = |behavior| Fallback {
        failure_threshold: 0,
        replicas: 2,
        behavior,
    };
    assert_eq!(f(FallbackBehavior::CurrentReplicasIfHigher).replicas(6), 6);
    assert_eq!(f(FallbackBehavior::CurrentReplicasIfLower).replicas(6), 2);
    assert_eq!(f(FallbackBehavior::CurrentReplicas).replicas(6), 6);
    assert_eq!(f(FallbackBehavior::Static).replicas(6), 2);

    // No fallback: the HPA keeps the count, KEDA leaves it (isError && fallback == nil).
    let p = seed();
    let mut s = State::new(3, 0);
    assert_eq!(keda_poll(&p, &mut s, 0, Err(())).next, 3);
    assert_eq!(hpa_sync_read(&p, &mut s, 15, Err(())).next, 3);
}

/// metricType Value (`replica_calculator.go` GetExternalMetricReplicas): usageRatio =
/// metric / target, replicas = ceil(usageRatio × current); the tolerance applies to the same
/// ratio. Its fallback (`doFallback`) divides the fallback replicas by the ready ones.
#[test]
fn a_value_target_scales_the_current_count_by_the_ratio() {
    let mut p = seed();
    p.value_target = true;
    p.queue_length = 500;
    p.min = 1;
    p.max = 100;
    let mut s = State::new(3, 0);
    // 3 × 750/500 = 4.5 → 5 (AverageValue would want ceil(750/500) = 2).
    let d = hpa_sync(&p, &mut s, 15, 750);
    assert_eq!((d.target, d.next), (5, 5), "{}", d.reason);
    assert!(d.reason.contains("ceil(3 × 750/500) = 5"), "{}", d.reason);
    // Within tolerance: 520/500 = 1.04.
    assert_eq!(hpa_sync(&p, &mut s, 30, 520).next, 5);

    p.fallback = Some(Fallback {
        failure_threshold: 0,
        replicas: 12,
        behavior: FallbackBehavior::Static,
    });
    let mut s = State::new(10, 0);
    let d = hpa_sync_read(&p, &mut s, 15, Err(()));
    // 500 × 12 / 10 ready = 600: ratio 1.2, ceil(1.2 × 10) = 12.
    assert_eq!((d.metric, d.next), (600, 12), "{}", d.reason);
}

#[test]
fn behavior_policies_limit_the_rate() {
    let mut p = seed();
    p.max = 100;
    let mut b = Behavior::default();
    b.scale_up.policies = vec![Policy {
        kind: PolicyKind::Pods,
        value: 2,
        period: 60,
    }];
    b.scale_down.stabilization_window = 0;
    b.scale_down.policies = vec![Policy {
        kind: PolicyKind::Percent,
        value: 50,
        period: 60,
    }];
    p.behavior = Some(b);
    let mut s = State::new(1, 0);
    assert_eq!(
        hpa_sync(&p, &mut s, 15, 100).next,
        3,
        "at most +2 pods per 60 s"
    );
    assert_eq!(
        hpa_sync(&p, &mut s, 30, 100).next,
        3,
        "the 60 s period already used its 2 pods"
    );
    assert_eq!(hpa_sync(&p, &mut s, 90, 100).next, 5, "a new period");
    assert_eq!(
        hpa_sync(&p, &mut s, 200, 1).next,
        2,
        "-50 % per 60 s: floor(5 × 0.5)"
    );
    assert_eq!(
        hpa_sync(&p, &mut s, 215, 1).next,
        2,
        "that period's 50 % is used up"
    );

    let mut disabled = Behavior::default();
    disabled.scale_down.select = Select::Disabled;
    disabled.scale_down.stabilization_window = 0;
    p.behavior = Some(disabled);
    let mut s = State::new(6, 0);
    assert_eq!(hpa_sync(&p, &mut s, 15, 1).next, 6, "scale-down disabled");
}

#[test]
fn default_behavior_struct_matches_the_nil_path_for_scale_up() {
    // With behavior set to Kubernetes' defaults, scale-up allows max(+4, +100 %) per 15 s,
    // which equals the nil path's max(2×, 4) for one step.
    let mut p = seed();
    p.max = 100;
    p.behavior = Some(Behavior::default());
    let mut s = State::new(3, 0);
    assert_eq!(hpa_sync(&p, &mut s, 15, 500).next, 7, "3 + 4");
    let p = Params {
        behavior: None,
        ..p
    };
    let mut s = State::new(3, 0);
    assert_eq!(hpa_sync(&p, &mut s, 15, 500).next, 6, "max(2×3, 4)");
}

fn params() -> impl Strategy<Value = Params> {
    (1u64..20, 0u64..20, 0u32..5, 1u32..40, 1u64..60, 0u64..600).prop_map(
        |(ql, act, min, span, poll, cool)| Params {
            value_target: false,
            queue_length: ql,
            activation_queue_length: act,
            min,
            max: min.max(1) + span,
            polling_interval: poll,
            cooldown_period: cool,
            scale_on_in_flight: true,
            scale_on_delayed: false,
            behavior: None,
            fallback: None,
            k8s_minor: 30 + ql as u32 % 7,
            idle: None,
            initial_cooldown: 0,
            paused: None,
        },
    )
}

/// Drive both controllers over a metric series, one value per 15 s.
fn run(p: &Params, metrics: &[u64], mut check: impl FnMut(&State, u64, &Decision)) {
    let mut s = State::new(0, 0);
    for (i, m) in metrics.iter().enumerate() {
        let now = i as u64 * HPA_SYNC_SECONDS;
        let before = s.clone();
        let d = keda_poll(p, &mut s, now, Ok(*m));
        check(&before, now, &d);
        let before = s.clone();
        let d = hpa_sync(p, &mut s, now, *m);
        check(&before, now, &d);
    }
}

proptest! {
    #[test]
    fn replicas_stay_within_bounds(p in params(), metrics in prop::collection::vec(0u64..2000, 1..80)) {
        run(&p, &metrics, |_, _, d| {
            assert!(d.next <= p.max, "{d:?}");
            assert!(d.next == 0 || d.next >= p.hpa_min().min(p.max), "{d:?}");
            assert!(d.next >= p.min.min(p.max), "below minReplicas: {d:?}");
        });
    }

    #[test]
    fn never_scales_to_zero_before_the_cooldown(p in params(), metrics in prop::collection::vec(0u64..200, 1..80)) {
        run(&p, &metrics, |before, now, d| {
            if before.replicas > 0 && d.next == 0 {
                let since = before.last_active.unwrap_or(before.created_at);
                assert!(before.last_active.is_none() || since + p.cooldown_period < now, "{d:?} at {now}");
            }
        });
    }

    #[test]
    fn the_target_is_monotone_in_queue_length(p in params(), a in 0u64..5000, b in 0u64..5000) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(p.target(lo) <= p.target(hi));
    }

    #[test]
    fn a_steady_queue_converges_to_its_target(p in params(), m in 0u64..2000, start in 0u32..40) {
        let mut s = State::new(start.min(p.max), 0);
        let mut now = 0;
        // Long enough for the cooldown, the 300 s window and doubling steps.
        while now <= 300 + p.cooldown_period + 40 * HPA_SYNC_SECONDS {
            if now.is_multiple_of(p.polling_interval) {
                keda_poll(&p, &mut s, now, Ok(m));
            }
            if now.is_multiple_of(HPA_SYNC_SECONDS) {
                hpa_sync(&p, &mut s, now, m);
            }
            now += 1;
        }
        let target = p.target(m);
        let ratio = m as f64 / (p.queue_length as f64 * f64::from(s.replicas.max(1)));
        prop_assert!(
            s.replicas == target || (s.replicas > 0 && target > 0 && p.tolerates(ratio)),
            "replicas {} target {target} metric {m}", s.replicas
        );
    }
}

/// Issue 16, defect 3, by hand from `horizontal.go`: `reconcileAutoscaler` calls
/// `recordInitialRecommendation(currentReplicas)` before anything else, then
/// `currentReplicas > MaxReplicas` → desired = max ("Current number of replicas above
/// Spec.MaxReplicas"); otherwise `stabilizeRecommendation` keeps the highest recommendation of
/// the last 300 s, which for a new HPA includes the count it found. 23 messages, queueLength 5.
#[test]
fn scale_once_starts_from_a_fresh_controllers_state() {
    let p = seed();
    // From 1: ceil(23/5) = 5, scale-up limit max(2×1, 4) = 4.
    let d = decide_once(&p, 1, 23);
    assert_eq!((d.target, d.next), (5, 4), "{}", d.reason);
    // From 8: proposal ceil(23/5) = 5, but the initial recommendation 8 is inside the window.
    let d = decide_once(&p, 8, 23);
    assert_eq!((d.current, d.target, d.next), (8, 5, 8), "{}", d.reason);
    assert!(
        d.reason
            .contains("held at 8 by the 300 s scale-down window")
            && d.reason.contains("first recommendation"),
        "{}",
        d.reason
    );
    // From 15 with max 10: straight to max, whatever the metric says.
    let d = decide_once(&p, 15, 23);
    assert_eq!((d.current, d.next), (15, 10), "{}", d.reason);
    assert!(
        d.reason.contains("above maxReplicas: 15 → 10"),
        "{}",
        d.reason
    );
    // An empty queue at 3: scaleToZeroOrIdle with no LastActiveTime scales to 0 at once, and
    // the reason says so rather than claiming a cooldown ran.
    let d = decide_once(&p, 3, 0);
    assert_eq!((d.active, d.next), (false, 0), "{}", d.reason);
    assert!(
        d.reason.contains("never seen active") && !d.reason.contains("cooldown 300 s over"),
        "{}",
        d.reason
    );
    // Once KEDA has seen the queue active, the cooldown applies (LastActiveTime + 300 s).
    let mut s = State::new(3, 0);
    keda_poll(&p, &mut s, 0, Ok(12));
    let d = keda_poll(&p, &mut s, 30, Ok(0));
    assert_eq!(d.next, 3, "{}", d.reason);
    let d = keda_poll(&p, &mut s, 301, Ok(0));
    assert_eq!(d.next, 0, "{}", d.reason);
    assert!(d.reason.contains("cooldown 300 s over"), "{}", d.reason);
}

proptest! {
    /// `scale --once` never moves down while a higher recommendation (the current count a new
    /// HPA records) is inside the window; above maxReplicas it goes to max.
    #[test]
    fn scale_once_never_moves_down_inside_the_window(p in params(), current in 1u32..60, m in 0u64..2000) {
        let d = decide_once(&p, current, m);
        if m > p.activation_queue_length || p.min > 0 {
            prop_assert!(d.next >= current.min(p.max), "{d:?}");
        }
        if current > p.max && d.next > 0 {
            prop_assert_eq!(d.next, p.max);
        }
    }

    /// Along any run, the HPA without behavior moves down only to the highest recommendation
    /// still inside its 300 s window.
    #[test]
    fn the_hpa_never_moves_below_a_recommendation_in_its_window(p in params(), metrics in prop::collection::vec(0u64..2000, 1..80)) {
        let p = Params { behavior: None, ..p };
        run(&p, &metrics, |before, now, d| {
            if d.next < d.current && before.replicas > 0 && d.current <= p.max && before.hpa_started {
                let held = before
                    .recommendations
                    .iter()
                    .filter(|(t, _)| *t + DOWNSCALE_WINDOW_SECONDS >= now)
                    .map(|(_, r)| *r)
                    .max()
                    .unwrap_or(0);
                assert!(d.next >= held.min(p.max) || d.reason.starts_with("inactive"), "{d:?} at {now}, held {held}");
            }
        });
    }
}

/// Issue 16, defect 4, by hand from `replica_calculator.go`. Up to 1.32 the HPA keeps the count
/// while `math.Abs(1.0-usageRatio) <= tolerance`; from 1.33 while `Tolerances.isWithin`, i.e.
/// `(1.0-scaleDown) <= usageRatio && usageRatio <= (1.0+scaleUp)`. An external AverageValue
/// metric has usageRatio = 11 / (5 × 2) = 1.1 for 11 messages on 2 pods of queueLength 5:
/// |1 − 1.1| = 0.10000000000000009 > 0.1 (scale to ceil(11/5) = 3), but 1.1 ≤ 1.0 + 0.1 (hold).
#[test]
fn tolerance_follows_the_kubernetes_version() {
    let decide = |minor: u32, max: u32, replicas: u32, metric: u64| {
        let p = Params {
            k8s_minor: minor,
            max,
            ..seed()
        };
        hpa_sync(&p, &mut State::new(replicas, 0), 15, metric).next
    };
    assert_eq!(
        decide(32, 10, 2, 11),
        3,
        "1.32: |1 − r| ≤ 0.1 is false at 1.1"
    );
    assert_eq!(decide(33, 10, 2, 11), 2, "1.33: 0.9 ≤ r ≤ 1.1 holds at 1.1");
    assert_eq!(decide(34, 10, 2, 11), 2);
    // 55 on 10: ratio 1.1 again; 1.32 goes to ceil(55/5) = 11.
    assert_eq!(decide(32, 20, 10, 55), 11);
    assert_eq!(decide(33, 20, 10, 55), 10);
    // The lower edge: 9 on 2 is 0.9, within both (|1 − 0.9| = 0.09999999999999998).
    assert_eq!(decide(32, 10, 2, 9), 2);
    assert_eq!(decide(33, 10, 2, 9), 2);
    // The offline default is the newest EKS version, with the 1.33 rule.
    assert_eq!(seed().k8s_minor, NEWEST_EKS_MINOR);
    assert!(seed().tolerates(1.1));

    // A per-HPA tolerance (behavior.scaleUp.tolerance) applies from 1.35, where the
    // HPAConfigurableTolerance gate is on by default; in 1.33 and 1.34 it is alpha and off.
    let mut b = Behavior::default();
    b.scale_up.tolerance = Some(0.05);
    let p = |minor| Params {
        k8s_minor: minor,
        behavior: Some(b.clone()),
        ..seed()
    };
    assert!(!p(35).tolerates(1.1), "1.1 > 1 + 0.05");
    assert!(p(35).tolerates(0.9), "scale-down keeps the default 0.1");
    assert!(p(34).tolerates(1.1), "the gate is off before 1.35");
    assert_eq!(hpa_sync(&p(35), &mut State::new(2, 0), 15, 11).next, 3);
}

/// Issue 16, defect 6, by hand from `horizontal.go`: both limits start a policy period at
/// `currentReplicas - replicasAddedInCurrentPeriod + replicasDeletedInCurrentPeriod`. With
/// scaleDown Percent 50 / 60 s and window 0: 2 → 4 at t = 0 (+2, Kubernetes' default scale-up
/// allows max(2 + 4, 2 × 2)), then desired 1 at t = 15: the period started at 4 − 2 + 0 = 2,
/// and int32(2 × (1 − 0.5)) = 1. Counting only scale-down events would start at 4 and stop at 2.
#[test]
fn policy_periods_count_both_directions() {
    let mut b = Behavior::default();
    b.scale_down.stabilization_window = 0;
    b.scale_down.policies = vec![Policy {
        kind: PolicyKind::Percent,
        value: 50,
        period: 60,
    }];
    let p = Params {
        behavior: Some(b),
        ..seed()
    };
    let mut s = State::new(2, 0);
    assert_eq!(hpa_sync(&p, &mut s, 0, 20).next, 4, "ceil(20/5) = 4");
    let d = hpa_sync(&p, &mut s, 15, 5);
    assert_eq!(d.next, 1, "{}", d.reason);
    // And the other way: 8 → 4 at t = 0 (Percent 50), then desired 20 at t = 15 under a
    // scale-up policy Pods 2 / 60 s: the period started at 4 − 0 + 4 = 8, so 8 + 2 = 10.
    let mut b = Behavior::default();
    b.scale_down.stabilization_window = 0;
    b.scale_down.policies = vec![Policy {
        kind: PolicyKind::Percent,
        value: 50,
        period: 60,
    }];
    b.scale_up.policies = vec![Policy {
        kind: PolicyKind::Pods,
        value: 2,
        period: 60,
    }];
    let p = Params {
        behavior: Some(b),
        max: 30,
        ..seed()
    };
    let mut s = State::new(8, 0);
    assert_eq!(hpa_sync(&p, &mut s, 0, 5).next, 4, "int32(8 × 0.5) = 4");
    let d = hpa_sync(&p, &mut s, 15, 100);
    assert_eq!(d.next, 10, "{}", d.reason);
}

/// `--phase`: KEDA polls `phase` seconds after the HPA's sync (both run from t=0). A burst at
/// t=0 activates the app at KEDA's first poll: at once with phase 0, 10 s later with phase 10 —
/// the HPA then acts at its next sync (15 s).
#[test]
fn keda_polls_phase_seconds_after_the_hpa() {
    use crate::scaling::simulate::{Workload, simulate};
    let p = seed();
    let first_up = |phase: u64| {
        let w = Workload {
            arrivals: vec![100],
            pod_rate: 1.0,
            startup: 0,
            price_per_pod_hour: None,
            settle_limit: 120,
            phase,
            job_duration: 1,
            gauge: None,
        };
        simulate(&p, &w)
            .timeline
            .iter()
            .find(|t| t.replicas > 0)
            .map(|t| t.t)
    };
    assert_eq!(first_up(0), Some(0));
    assert_eq!(first_up(10), Some(10));
    // The timeline says what each controller read, and when.
    let w = Workload {
        arrivals: vec![100],
        pod_rate: 1.0,
        startup: 0,
        price_per_pod_hour: None,
        settle_limit: 120,
        phase: 10,
        job_duration: 1,
        gauge: None,
    };
    let run = simulate(&p, &w);
    let keda: Vec<(u64, u64)> = run
        .timeline
        .iter()
        .filter_map(|t| Some((t.t, t.keda_read?)))
        .take(2)
        .collect();
    let hpa: Vec<u64> = run
        .timeline
        .iter()
        .filter(|t| t.hpa_read.is_some())
        .map(|t| t.t)
        .take(3)
        .collect();
    assert_eq!(keda[0], (10, 100));
    assert_eq!(keda[1].0, 40);
    assert_eq!(hpa, [0, 15, 30]);
}

/// `storeScaleEvent` (horizontal.go) keeps scale-up and scale-down events apart; a new event
/// replaces the last one older than its own direction's longest policy period
/// (`markScaleEventsOutdated`), even where the other direction's longer period would still count
/// it. Scale-up Pods 4 / 15 s, scale-down Percent 50 / 120 s, windows 0, queueLength 1:
/// t = 0: 2 → 4 (+2); t = 30: 4 → 6 (+2), which replaces the t = 0 event (older than 15 s);
/// t = 45: desired 1. `calculateScaleDownLimitWithBehaviors` over 120 s: added 2 (only the
/// t = 30 event is left), deleted 0, so the period starts at 6 − 2 = 4 and int32(4 × 0.5) = 2.
/// Keeping both events would start at 2 and allow 1.
#[test]
fn an_outdated_scale_event_is_replaced_not_counted() {
    let mut b = Behavior::default();
    b.scale_up.policies = vec![Policy {
        kind: PolicyKind::Pods,
        value: 4,
        period: 15,
    }];
    b.scale_down.stabilization_window = 0;
    b.scale_down.policies = vec![Policy {
        kind: PolicyKind::Percent,
        value: 50,
        period: 120,
    }];
    let p = Params {
        behavior: Some(b),
        queue_length: 1,
        max: 100,
        ..seed()
    };
    let mut s = State::new(2, 0);
    assert_eq!(
        hpa_sync(&p, &mut s, 0, 4).next,
        4,
        "ratio 4/2: desired 4, limit 2 + 4"
    );
    assert_eq!(
        hpa_sync(&p, &mut s, 30, 6).next,
        6,
        "ratio 6/4: desired 6, limit 4 + 4"
    );
    let d = hpa_sync(&p, &mut s, 45, 1);
    assert_eq!(d.next, 2, "{}", d.reason);
}

/// `idleReplicaCount` 0 with minReplicas 2 (`RequestScale`): active from 0 goes to min (2,
/// scaleFromZeroOrIdle); inactive, KEDA scales to idle once LastActiveTime + cooldown is past
/// (scaleToZeroOrIdle, strictly: 0 + 300 < 330), and the HPA leaves 0 alone (ScalingDisabled).
/// Without idleReplicaCount, minReplicas 2 stays.
#[test]
fn idle_replicas_are_where_keda_rests_below_min() {
    let p = Params {
        min: 2,
        idle: Some(0),
        ..seed()
    };
    let mut s = State::new(0, 0);
    assert_eq!(keda_poll(&p, &mut s, 0, Ok(10)).next, 2);
    assert_eq!(keda_poll(&p, &mut s, 30, Ok(0)).next, 2, "cooling down");
    assert_eq!(
        keda_poll(&p, &mut s, 300, Ok(0)).next,
        2,
        "0 + 300 < 300 is false"
    );
    let d = keda_poll(&p, &mut s, 330, Ok(0));
    assert_eq!(d.next, 0, "{}", d.reason);
    assert_eq!((d.target, d.active), (0, false));
    assert_eq!(hpa_sync(&p, &mut s, 345, 0).next, 0, "ScalingDisabled");
    assert_eq!(
        keda_poll(&p, &mut s, 360, Ok(10)).next,
        2,
        "idle < min: to min"
    );
    let no_idle = Params { min: 2, ..seed() };
    let mut s = State::new(0, 0);
    keda_poll(&no_idle, &mut s, 0, Ok(10));
    assert_eq!(keda_poll(&no_idle, &mut s, 330, Ok(0)).next, 2);
}

/// An idleReplicaCount above 0 fights the HPA, as upstream: min 3, idle 1. KEDA sets 1 after
/// the cooldown; the HPA's next sync finds 1 below its minReplicas 3 and sets 3 ("Current
/// number of replicas below Spec.MinReplicas" in reconcileAutoscaler).
#[test]
fn an_idle_count_above_zero_is_undone_by_the_hpa() {
    let p = Params {
        min: 3,
        idle: Some(1),
        ..seed()
    };
    let mut s = State::new(0, 0);
    keda_poll(&p, &mut s, 0, Ok(10));
    assert_eq!(s.replicas, 3);
    assert_eq!(keda_poll(&p, &mut s, 330, Ok(0)).next, 1);
    assert_eq!(hpa_sync(&p, &mut s, 345, 0).next, 3);
}

/// `initialCooldownPeriod` 60: a target KEDA never saw active (no LastActiveTime) scales in
/// once creationTimestamp + 60 s is before now (scaleToZeroOrIdle): not at 30 or 60, at 90.
#[test]
fn the_initial_cooldown_holds_a_never_active_target() {
    let p = Params {
        initial_cooldown: 60,
        ..seed()
    };
    let mut s = State::new(3, 0);
    assert_eq!(keda_poll(&p, &mut s, 30, Ok(0)).next, 3);
    assert_eq!(keda_poll(&p, &mut s, 60, Ok(0)).next, 3);
    let d = keda_poll(&p, &mut s, 90, Ok(0));
    assert_eq!(d.next, 0, "{}", d.reason);
    // scale --once: a ScaledObject created now holds 3 (and the HPA's first recommendation,
    // the current count, holds it too).
    assert_eq!(decide_once(&p, 3, 0).next, 3);
    assert_eq!(
        decide_once(&seed(), 3, 0).next,
        0,
        "initialCooldownPeriod 0: at once"
    );
}

/// Pause annotations (`handlePause`: the scale loop stops and the HPA is deleted;
/// `scaleTargetToPausedCount`): `paused` leaves the replicas, `paused-replicas` sets them.
#[test]
fn a_paused_scaled_object_does_not_scale() {
    use crate::scaling::simulate::{Workload, simulate};
    let frozen = Params {
        paused: Some(None),
        ..seed()
    };
    let mut s = State::new(4, 0);
    assert_eq!(keda_poll(&frozen, &mut s, 0, Ok(500)).next, 4);
    assert_eq!(hpa_sync(&frozen, &mut s, 15, 500).next, 4);
    assert_eq!(decide_once(&frozen, 4, 0).next, 4);
    let pinned = Params {
        paused: Some(Some(2)),
        ..seed()
    };
    assert_eq!(decide_once(&pinned, 7, 500).next, 2);
    let w = Workload {
        arrivals: vec![10; 60],
        pod_rate: 1.0,
        startup: 0,
        price_per_pod_hour: None,
        settle_limit: 600,
        phase: 0,
        job_duration: 1,
        gauge: None,
    };
    let run = simulate(&frozen, &w);
    assert!(run.timeline.iter().all(|k| k.replicas == 0));
    assert_eq!(run.summary.processed, 0);
    let run = simulate(&pinned, &w);
    assert!(run.timeline.iter().all(|k| k.replicas == 2));
    // 2 pods × 1 msg/s against 10 msg/s for 60 s: 480 left at t = 59, gone 240 s later.
    assert_eq!(run.summary.processed, 600);
    assert_eq!(run.summary.time_to_drain, Some(240));
}

/// The config reaches the model: `advanced.horizontalPodAutoscalerConfig.behavior` with
/// Kubernetes' defaults for what is left out (`SetDefaults_HorizontalPodAutoscalerBehavior`:
/// scale-up window 0, Max, Pods 4 / 15 s and Percent 100 / 15 s; the controller's 300 s
/// scale-down window), fallback, idle and pause.
#[test]
fn the_config_reaches_the_model() {
    let s: crate::spec::Scaling = serde_yaml::from_str(
        "minReplicas: 2\nidleReplicaCount: 0\ninitialCooldownPeriod: 45\npausedReplicas: 3\n\
         fallback: {failureThreshold: 3, replicas: 6, behavior: currentReplicasIfLower}\n\
         advanced:\n  horizontalPodAutoscalerConfig:\n    behavior:\n      scaleDown:\n        \
         selectPolicy: Min\n        policies: [{type: Pods, value: 1, periodSeconds: 60}]\n        tolerance: 0.2\n",
    )
    .unwrap();
    let p = Params::from_spec(&s);
    let b = p.behavior.clone().unwrap();
    assert_eq!(b.scale_up, Behavior::default().scale_up);
    assert_eq!(b.scale_down.stabilization_window, 300);
    assert_eq!(b.scale_down.select, Select::Min);
    assert_eq!(b.scale_down.tolerance, Some(0.2));
    assert_eq!(
        b.scale_down.policies,
        [Policy {
            kind: PolicyKind::Pods,
            value: 1,
            period: 60
        }]
    );
    assert_eq!(
        p.fallback,
        Some(Fallback {
            failure_threshold: 3,
            replicas: 6,
            behavior: FallbackBehavior::CurrentReplicasIfLower
        })
    );
    assert_eq!(
        (p.idle, p.initial_cooldown, p.paused),
        (Some(0), 45, Some(Some(3)))
    );
    // An empty behavior is not KEDA's nil: Kubernetes fills in every default.
    let s: crate::spec::Scaling =
        serde_yaml::from_str("advanced: {horizontalPodAutoscalerConfig: {behavior: {}}}").unwrap();
    assert_eq!(Params::from_spec(&s).behavior, Some(Behavior::default()));
    assert_eq!(
        Params::from_spec(&crate::spec::Scaling::default()).behavior,
        None
    );
}
