//! `up` keeps the guardrails in sync: boundary, path, tags and managed policies.

use super::*;

const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/Boundary";
const S3: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const MINE: &str = "arn:aws:iam::123456789012:policy/Mine";

fn spec() -> Spec {
    let mut s = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    s.roles.path = Some("/service-roles/".into());
    s.roles.permissions_boundary = Some(BOUNDARY.into());
    s.tags.insert("cost-center".into(), "1234".into());
    s.apps[0].managed_policies = vec![S3.into()];
    s
}

fn plan_of(d: &Desired, o: &Observed) -> Result<Plan, Conflicts> {
    plan(d, o, &Options::default())
}

fn step<'p>(p: &'p Plan, id: &str) -> &'p Step {
    p.steps.iter().find(|s| s.id == id).unwrap_or_else(|| {
        panic!(
            "no step {id} in {:#?}",
            p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
        )
    })
}

#[test]
fn a_converged_stack_with_guardrails_plans_nothing() {
    let d = render::desired(&spec()).unwrap();
    let p = plan_of(&d, &converged(&d)).unwrap();
    assert!(p.is_empty(), "{:#?}", p.steps);
}

#[test]
fn new_roles_are_created_on_the_path_with_the_boundary_tags_and_policies() {
    let d = render::desired(&spec()).unwrap();
    let p = plan_of(&d, &Observed::default()).unwrap();
    let Action::CreateRole {
        path,
        permissions_boundary,
        tags,
        ..
    } = &step(&p, "iam:role/keda-operator").action
    else {
        panic!()
    };
    assert_eq!(path.as_deref(), Some("/service-roles/"));
    assert_eq!(permissions_boundary.as_deref(), Some(BOUNDARY));
    assert_eq!(tags["cost-center"], "1234");
    assert_eq!(tags[model::STACK], "kedactl");
    let s = step(&p, "iam:role/keda-operator");
    assert!(
        s.summary.contains("path /service-roles/") && s.summary.contains("boundary Boundary"),
        "{}",
        s.summary
    );
    // The app's policy goes on its identity role, after the role exists.
    let attach = step(&p, &format!("iam:role/keda-identity/attached/{S3}"));
    assert_eq!(attach.change, Change::Create);
    assert_eq!(attach.after, ["iam:role/keda-identity"]);
    assert!(
        !p.steps
            .iter()
            .any(|s| s.id.starts_with("iam:role/keda-operator/attached/"))
    );
    // Every AWS resource gets the config's tags; no Kubernetes object does.
    for s in &p.steps {
        let json = serde_json::to_value(&s.action).unwrap();
        match &s.action {
            Action::CreateQueue { .. }
            | Action::CreateRepository { .. }
            | Action::CreateAssociation { .. }
            | Action::CreateAddon { .. }
            | Action::CreateRole { .. } => {
                assert_eq!(json["tags"]["cost-center"], "1234", "{}", s.id)
            }
            Action::Apply { manifest, .. } => {
                assert!(manifest["metadata"]["labels"].get("cost-center").is_none())
            }
            _ => {}
        }
    }
    // Defaults: no path or boundary in the action (nor in the JSON plan).
    let seed = render::desired(&Spec {
        account: Some("123456789012".into()),
        ..spec_without_guardrails()
    })
    .unwrap();
    let p = plan_of(&seed, &Observed::default()).unwrap();
    let json = serde_json::to_value(&step(&p, "iam:role/keda-operator").action).unwrap();
    assert!(
        json.get("path").is_none() && json.get("permissionsBoundary").is_none(),
        "{json}"
    );
}

fn spec_without_guardrails() -> Spec {
    Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        ..Spec::default()
    }
}

#[test]
fn a_changed_boundary_is_put_back_old_to_new() {
    let d = render::desired(&spec()).unwrap();
    let mut o = converged(&d);
    o.roles.get_mut("keda-operator").unwrap().boundary =
        Some("arn:aws:iam::123456789012:policy/Old".into());
    o.roles.get_mut("keda-identity").unwrap().boundary = None;
    let p = plan_of(&d, &o).unwrap();
    assert_eq!(p.steps.len(), 2, "{:#?}", p.steps);
    let op = step(&p, "iam:role/keda-operator/boundary");
    assert_eq!(op.change, Change::Update);
    assert_eq!(
        op.changes[0].line(),
        format!("permissions boundary: arn:aws:iam::123456789012:policy/Old → {BOUNDARY}")
    );
    let id = step(&p, "iam:role/keda-identity/boundary");
    assert_eq!(
        id.changes[0].line(),
        format!("permissions boundary: (none) → {BOUNDARY}")
    );
    // Without a configured boundary, one that is there (an organisation's) is left alone.
    let seed = render::desired(&Spec {
        account: Some("123456789012".into()),
        ..spec_without_guardrails()
    })
    .unwrap();
    let mut o = converged(&seed);
    o.roles.get_mut("keda-operator").unwrap().boundary = Some(BOUNDARY.into());
    assert!(plan_of(&seed, &o).unwrap().is_empty());
}

#[test]
fn a_new_tag_or_value_is_put_on_the_roles_old_to_new() {
    let mut s = spec();
    s.tags.insert("cost-center".into(), "5678".into());
    s.tags.insert("owner".into(), "team-a".into());
    let before = render::desired(&spec()).unwrap();
    let d = render::desired(&s).unwrap();
    let p = plan_of(&d, &converged(&before)).unwrap();
    let tag = step(&p, "iam:role/keda-operator/tags");
    let lines: Vec<String> = tag.changes.iter().map(FieldChange::line).collect();
    assert_eq!(
        lines,
        ["tag cost-center: 1234 → 5678", "tag owner: (none) → team-a"]
    );
    assert!(
        p.steps
            .iter()
            .any(|s| s.id == "queue:event-messages-queue/tags")
    );
    assert!(
        p.steps
            .iter()
            .any(|s| s.id == "registry:keda-pod-identity-registry/tags")
    );
}

#[test]
fn managed_policies_kedactl_attached_are_detached_when_they_leave_the_config_others_never() {
    let d = render::desired(&spec()).unwrap();
    let mut o = converged(&d);
    let identity = o.roles.get_mut("keda-identity").unwrap();
    // Attached by someone else (no record): not kedactl's to detach.
    identity.attached.push(MINE.into());
    let p = plan_of(&d, &o).unwrap();
    assert!(p.is_empty(), "{:#?}", p.steps);

    // The config drops S3 (kedactl recorded it) and adds MINE (already there: left as it is).
    let mut s = spec();
    s.apps[0].managed_policies = vec![MINE.into()];
    let d2 = render::desired(&s).unwrap();
    let p = plan_of(&d2, &o).unwrap();
    assert_eq!(p.steps.len(), 1, "{:#?}", p.steps);
    let detach = step(&p, &format!("iam:role/keda-identity/attached/{S3}"));
    assert_eq!(detach.change, Change::Delete);
    assert_eq!(
        detach.action,
        Action::DetachRolePolicy {
            role: "keda-identity".into(),
            policy_arn: S3.into(),
            record: Some(render::attached_tag(S3).0),
        }
    );
    assert!(
        detach.summary.contains("kedactl attached it"),
        "{}",
        detach.summary
    );

    // A record whose policy someone detached meanwhile: only the record goes (detach is idempotent).
    let identity = o.roles.get_mut("keda-identity").unwrap();
    identity.attached.retain(|a| a != S3);
    let p = plan_of(&d2, &o).unwrap();
    assert_eq!(p.steps.len(), 1);
    assert!(matches!(
        &p.steps[0].action,
        Action::DetachRolePolicy {
            record: Some(_),
            ..
        }
    ));
}

#[test]
fn a_role_on_another_path_or_a_missing_policy_is_a_conflict_before_any_change() {
    let d = render::desired(&spec()).unwrap();
    let mut o = converged(&d);
    o.roles.get_mut("keda-operator").unwrap().path = Some("/".into());
    let err = plan_of(&d, &o).unwrap_err();
    assert_eq!(err.conflicts.len(), 1);
    assert!(
        err.conflicts[0].reason.contains("IAM path /")
            && err.conflicts[0].reason.contains("roles.path")
    );
    // --adopt cannot move a role: the hint is not given.
    assert!(!err.to_string().contains("--adopt"), "{err}");

    let mut o = Observed::default();
    o.policies.insert(BOUNDARY.into(), None);
    o.policies.insert(S3.into(), Some(serde_json::json!({})));
    let err = plan_of(&d, &o).unwrap_err();
    assert_eq!(err.conflicts.len(), 1, "{err}");
    assert_eq!(
        err.conflicts[0].resource,
        format!("managed policy {BOUNDARY}")
    );
    assert!(
        err.conflicts[0].reason.starts_with("not found")
            && err.conflicts[0]
                .reason
                .contains("roles.permissionsBoundary")
    );
}

#[test]
fn an_association_this_stack_did_not_make_is_not_tagged() {
    let d = render::desired(&spec()).unwrap();
    let mut o = converged(&d);
    for a in &mut o.associations {
        a.tags.clear();
    }
    let p = plan_of(&d, &o).unwrap();
    assert!(p.is_empty(), "{:#?}", p.steps);
}
