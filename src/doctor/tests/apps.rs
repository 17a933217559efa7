//! A stack of several apps (`apps[]`): every per-app check judges each app on its own evidence,
//! a fault in one app fails that app only and names it, `--app` narrows to one app, and
//! `--fix` plans repairs for the failing app only.

use super::*;

/// `n` SQS apps `app1`..`appN` on one shared service account and identity role, each with its
/// own queue `q1`..`qN`.
fn spec_of(n: usize) -> Spec {
    let mut s = spec();
    let first = s.apps[0].clone();
    s.apps = (1..=n)
        .map(|i| {
            let mut a = first.clone();
            a.deployment = format!("app{i}");
            a.queue.name = format!("q{i}");
            a.scaling.name = None;
            a
        })
        .collect();
    crate::spec::validate(&s, "test").unwrap();
    s
}

/// The findings of a fault in the healthy n-app stack.
fn run_with(n: usize, fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<Finding> {
    let d = render::desired(&spec_of(n)).unwrap();
    let mut e = healthy(&d);
    fault(&mut e, &d);
    checks::run(&d, &e)
}

/// (app, code) of every finding that fails.
fn failing(findings: &[Finding]) -> Vec<(String, &'static str)> {
    findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| (f.app.clone().unwrap_or_default(), f.code))
        .collect()
}

/// The identity role's kedactl-sqs-access grant without one queue (as if edited by hand).
fn drop_from_grant(e: &mut Evidence, queue: &str) {
    let role = e.observed.roles.get_mut("keda-identity").unwrap();
    let doc = role.inline.get_mut(crate::render::IDENTITY_POLICY).unwrap();
    for s in doc["Statement"].as_array_mut().unwrap() {
        if let Some(rs) = s["Resource"].as_array_mut() {
            rs.retain(|r| !r.as_str().unwrap().ends_with(&format!(":{queue}")));
        }
    }
}

#[test]
fn every_per_app_check_judges_every_app_and_a_healthy_stack_passes() {
    let d = render::desired(&spec_of(3)).unwrap();
    let findings = checks::run(&d, &healthy(&d));
    for check in CATALOGUE {
        let of: Vec<&Finding> = findings.iter().filter(|f| f.code == check.code).collect();
        match check.scope() {
            Scope::App => {
                let apps: Vec<&str> = of.iter().filter_map(|f| f.app.as_deref()).collect();
                assert_eq!(apps, ["app1", "app2", "app3"], "{}", check.code);
            }
            Scope::Stack => {
                assert_eq!(of.len(), 1, "{}", check.code);
                assert_eq!(of[0].app, None, "{}", check.code);
            }
        }
    }
    assert!(failing(&findings).is_empty(), "{:#?}", failing(&findings));
    // Each app's evidence is about its own queue.
    for (i, app) in ["app1", "app2", "app3"].iter().enumerate() {
        let kd015 = findings
            .iter()
            .find(|f| f.code == "KD015" && f.app.as_deref() == Some(app))
            .unwrap();
        let q = format!(":q{}", i + 1);
        assert!(
            kd015.evidence[0].ends_with(&q),
            "{app}: {:?}",
            kd015.evidence
        );
    }
    let s = summary(&findings);
    assert_eq!(s.apps, Some(3));
    assert!(s.failing_apps.is_empty());
    assert_eq!(s.apps_line().unwrap(), "0 of 3 apps fail");
}

#[test]
fn a_fault_in_each_of_two_apps_fails_those_apps_only_and_names_them() {
    let findings = run_with(3, |e, _| {
        // app2's queue deleted; app3's queue removed from the identity role's grant.
        e.observed.queues.remove("q2");
        drop_from_grant(e, "q3");
    });
    let failing = failing(&findings);
    assert!(failing.contains(&("app2".into(), "KD022")), "{failing:?}");
    assert!(failing.contains(&("app3".into(), "KD015")), "{failing:?}");
    assert!(
        failing
            .iter()
            .all(|(app, _)| app == "app2" || app == "app3"),
        "only the broken apps fail: {failing:?}"
    );
    assert!(!failing.contains(&("app2".into(), "KD015")), "{failing:?}");
    let kd015 = findings
        .iter()
        .find(|f| f.code == "KD015" && f.app.as_deref() == Some("app3"))
        .unwrap();
    assert!(
        kd015.evidence[0].contains("arn:aws:sqs:us-east-1:123456789012:q3"),
        "{:?}",
        kd015.evidence
    );
    let kd022 = findings
        .iter()
        .find(|f| f.code == "KD022" && f.app.as_deref() == Some("app2"))
        .unwrap();
    assert!(
        kd022.evidence.iter().any(|e| e.contains("GetQueueUrl q2")),
        "{kd022:?}"
    );
    let s = summary(&findings);
    assert_eq!(
        s.failing_apps
            .iter()
            .map(|a| a.app.as_str())
            .collect::<Vec<_>>(),
        ["app2", "app3"]
    );
    let line = s.apps_line().unwrap();
    assert!(line.starts_with("2 of 3 apps fail: app2 (KD022"), "{line}");
    assert!(line.ends_with("app3 (KD015)"), "{line}");
}

#[test]
fn forty_apps_with_two_faults_name_both_and_a_healthy_forty_passes() {
    let findings = run_with(40, |e, _| {
        e.observed.queues.remove("q17");
        drop_from_grant(e, "q25");
    });
    let s = summary(&findings);
    assert_eq!(s.apps, Some(40));
    let named: Vec<&str> = s.failing_apps.iter().map(|a| a.app.as_str()).collect();
    assert_eq!(named, ["app17", "app25"], "{s:?}");
    assert!(s.failing_apps[1].codes == ["KD015"], "{s:?}");
    assert!(s.failing_apps[0].codes.contains(&"KD022"), "{s:?}");

    let healthy = run_with(40, |_, _| {});
    assert!(failing(&healthy).is_empty());
    let kd015: Vec<&Finding> = healthy.iter().filter(|f| f.code == "KD015").collect();
    assert_eq!(kd015.len(), 40);
    assert!(kd015.iter().all(|f| f.status == Status::Ok));
}

#[test]
fn one_app_in_focus_is_judged_alone() {
    let d = render::desired(&spec_of(3)).unwrap();
    let mut e = healthy(&d);
    e.observed.queues.remove("q2");
    let focus = |app| Focus {
        app: Some(app),
        scaled_object: None,
    };
    let only3 = checks::run_for(&d, &e, focus("app3"));
    assert!(
        only3
            .iter()
            .all(|f| f.app.is_none() || f.app.as_deref() == Some("app3"))
    );
    assert!(failing(&only3).is_empty(), "{:?}", failing(&only3));
    let only2 = checks::run_for(&d, &e, focus("security/app2"));
    assert_eq!(summary(&only2).apps, Some(1));
    assert!(failing(&only2).contains(&("app2".into(), "KD022")));
}

#[test]
fn the_live_objects_of_each_app_are_its_own() {
    // app2's ScaledObject lost its authenticationRef; app1's and app3's are intact.
    let findings = run_with(3, |e, _| {
        let so = cluster(e).apps.get_mut("security/app2").unwrap();
        so.scaler.as_mut().unwrap()["spec"]["triggers"][0]
            .as_object_mut()
            .unwrap()
            .remove("authenticationRef");
    });
    assert_eq!(failing(&findings), [("app2".to_string(), "KD017")]);
    let kd017 = findings
        .iter()
        .find(|f| f.code == "KD017" && f.status == Status::Fail)
        .unwrap();
    // The repair converges app2's objects only.
    assert_eq!(
        kd017.repairs,
        [
            Repair::Converge("app:ScaledObject/security/app2-scaler".into()),
            Repair::Converge("app:TriggerAuthentication/security/app2-trigger-auth".into()),
        ]
    );
}

#[test]
fn a_read_that_failed_for_one_app_skips_that_apps_checks_only() {
    let findings = run_with(3, |e, _| {
        let o = cluster(e).apps.get_mut("security/app1").unwrap();
        o.unread.insert(part::SCALER, "403 Forbidden".into());
    });
    let kd035: Vec<(Option<&str>, Status)> = findings
        .iter()
        .filter(|f| f.code == "KD035")
        .map(|f| (f.app.as_deref(), f.status))
        .collect();
    assert_eq!(
        kd035,
        [
            (Some("app1"), Status::Skipped),
            (Some("app2"), Status::Ok),
            (Some("app3"), Status::Ok)
        ]
    );
}

#[test]
fn keda_refusing_one_apps_queue_fails_that_app() {
    let line = "ERROR\tsqs_scaler\terror\t{\"scaledObject\": \"app2-scaler\", \"error\": \"operation error SQS: GetQueueAttributes, https response error StatusCode: 403, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keda-identity/KEDA is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:q2\"}\n";
    let findings = run_with(3, |e, _| cluster(e).operator_log = line.into());
    assert_eq!(failing(&findings), [("app2".to_string(), "KD015")]);
}

#[test]
fn fix_repairs_the_failing_app_and_never_a_healthy_one() {
    let d = render::desired(&spec_of(12)).unwrap();
    let mut e = healthy(&d);
    // app1's queue is gone; app10's and app11's ScaledObjects drifted, but only app1 fails.
    e.observed.queues.remove("q1");
    for app in ["security/app10", "security/app11"] {
        let so = &mut e.observed.objects.iter_mut().find(|o| {
            o["kind"] == "ScaledObject"
                && format!("security/{}", o["metadata"]["name"].as_str().unwrap())
                    == format!("{app}-scaler")
        });
        so.as_mut().unwrap()["spec"]["minReplicaCount"] = json!(3);
    }
    let findings = checks::run(&d, &e);
    // `up` would converge the drifted objects; the repairs must not.
    let up = crate::plan::plan(&d, &e.observed, &crate::plan::Options::default()).unwrap();
    assert!(
        up.steps
            .iter()
            .any(|s| s.id == "app:ScaledObject/security/app10-scaler"),
        "{:?}",
        up.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let plan = repair::plan(
        &d,
        &e.observed,
        &findings,
        &crate::plan::Options::default(),
        true,
    )
    .unwrap();
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert!(ids.contains(&"queue:q1"), "{ids:?}");
    assert!(
        ids.iter()
            .all(|i| !i.contains("q10") && !i.contains("q11") && !i.contains("app1")),
        "{ids:?}"
    );
}

#[test]
fn a_log_line_belongs_to_the_app_it_names() {
    let all = ["a-scaler", "q1", "b-scaler", "q10"].map(String::from);
    let log = "about q1 here\nabout q10 here\nabout q1.fifo\nnothing in particular\nend of q1.\n";
    assert_eq!(
        logs::about(log, &all[..2], &all),
        "about q1 here\nabout q1.fifo\nnothing in particular\nend of q1.\n"
    );
    assert_eq!(
        logs::about(log, &all[2..], &all),
        "about q10 here\nabout q1.fifo\nnothing in particular\n"
    );
}

#[test]
fn the_simulator_is_asked_about_each_apps_queue() {
    let findings = run_with(3, |e, d| {
        let role = &d.roles[1].arn;
        let q2 = "arn:aws:sqs:us-east-1:123456789012:q2";
        let key = simulation_key(role, "sqs:GetQueueAttributes", q2);
        e.simulations.insert(key, "explicitDeny".into());
    });
    assert_eq!(failing(&findings), [("app2".to_string(), "KD015")]);
}
