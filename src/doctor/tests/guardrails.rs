//! KD055: the configured permissions boundary, on the roles and allowing what they do.

use super::*;

const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/org-boundary";

fn guarded() -> Desired {
    let mut s = spec();
    s.roles.permissions_boundary = Some(BOUNDARY.into());
    render::desired(&s).unwrap()
}

/// The guarded stack as `up` leaves it, with the boundary's document `doc`.
fn run_with(doc: Option<Value>, fault: impl FnOnce(&mut Evidence)) -> Finding {
    let d = guarded();
    let mut e = healthy(&d);
    for r in e.observed.roles.values_mut() {
        r.boundary = Some(BOUNDARY.into());
        if let Some(doc) = &doc {
            r.managed.insert(BOUNDARY.into(), doc.clone());
        }
    }
    e.observed.policies.insert(BOUNDARY.into(), doc);
    fault(&mut e);
    checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD055")
        .unwrap()
}

fn allow(actions: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

#[test]
fn a_boundary_that_allows_the_roles_calls_passes() {
    let f = run_with(Some(allow(&["sqs:*", "sts:*"])), |_| {});
    assert_eq!(f.status, Status::Ok, "{f:#?}");
    assert!(f.evidence[0].contains("org-boundary"), "{f:#?}");
}

#[test]
fn a_boundary_without_the_queue_read_fails_before_up_has_put_it_on() {
    // Before `up`: the roles exist without it (or not at all); the document alone is judged.
    let f = run_with(Some(allow(&["sts:*", "s3:*"])), |e| {
        e.observed.roles.clear();
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence.iter().any(|l| l.contains("boundary org-boundary does not let IAM role keda-identity sqs:GetQueueAttributes on arn:aws:sqs:us-east-1:123456789012:event-messages-queue")),
        "{f:#?}"
    );
    assert!(f.fix.as_deref().unwrap().contains("allow these actions"));
    // The operator's chain to the identity role needs sts:TagSession too.
    let f = run_with(Some(allow(&["sqs:*", "sts:AssumeRole"])), |_| {});
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence.iter().any(|l| l.contains(
            "keda-operator sts:TagSession on arn:aws:iam::123456789012:role/keda-identity"
        )),
        "{f:#?}"
    );
}

#[test]
fn a_role_with_another_boundary_or_none_fails_with_up_as_the_fix() {
    let f = run_with(Some(allow(&["sqs:*", "sts:*"])), |e| {
        e.observed.roles.get_mut("keda-operator").unwrap().boundary = None;
        e.observed.roles.get_mut("keda-identity").unwrap().boundary =
            Some("arn:aws:iam::123456789012:policy/old".into());
    });
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        [
            "IAM role keda-operator has permissions boundary (none), the config says org-boundary",
            "IAM role keda-identity has permissions boundary arn:aws:iam::123456789012:policy/old, the config says org-boundary",
        ]
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .starts_with("kedactl up --only iam")
    );
    assert_eq!(
        f.repairs,
        [
            Repair::Converge("iam:role/keda-operator".into()),
            Repair::Converge("iam:role/keda-identity".into())
        ]
    );
}

#[test]
fn a_boundary_that_does_not_exist_fails_and_one_not_read_is_skipped() {
    let f = run_with(None, |_| {});
    assert_eq!(f.status, Status::Fail);
    assert!(f.evidence[0].contains("does not exist"), "{f:#?}");
    let f = run_with(None, |e| {
        e.observed.policies.clear();
    });
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
    // A denied GetPolicy is could-not-check, never a pass.
    let f = run_with(Some(allow(&["sqs:*", "sts:*"])), |e| {
        e.observed.denied.push(crate::observed::Denied {
            operation: "GetPolicy".into(),
            resource: format!("managed policy {BOUNDARY} named in kedactl.yaml"),
            message: "AccessDenied".into(),
        });
    });
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
}

#[test]
fn a_boundary_whose_condition_cannot_be_evaluated_warns() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:*", "sts:*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}}}]});
    let f = run_with(Some(doc), |_| {});
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .all(|l| l.contains("aws:ResourceTag/team")),
        "{f:#?}"
    );
}
