//! `doctor --fix`: the failing checks' repairs as one plan for the `up` executor — the `up`
//! steps whose ids the repairs name (trust, policies, associations, the app's objects), then the
//! restarts that give pods Pod Identity credentials (with the operator's env check).

use super::{Finding, Repair, Status};
use crate::model::Group;
use crate::plan::{self, Action, Change, Conflicts, Observed, Plan, Step};
use crate::render::Desired;

pub fn plan(
    desired: &Desired,
    observed: &Observed,
    findings: &[Finding],
    opts: &plan::Options,
    can_restart: bool,
) -> Result<Plan, Conflicts> {
    let repairs: Vec<&Repair> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .flat_map(|f| &f.repairs)
        .collect();
    let prefixes: Vec<&str> = repairs
        .iter()
        .filter_map(|r| match r {
            Repair::Converge(p) => Some(p.as_str()),
            Repair::Restart(_) => None,
        })
        .collect();
    let mut steps: Vec<Step> = plan::plan(desired, observed, opts)?
        .steps
        .into_iter()
        .filter(|s| prefixes.iter().any(|p| covers(p, &s.id)))
        // A key alias doctor could not resolve stays a placeholder: never written to IAM.
        .filter(|s| {
            !matches!(&s.action, Action::PutRolePolicy { document, .. }
            if document.to_string().contains(crate::render::aws::UNRESOLVED_ALIAS))
        })
        .collect();
    let converge: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
    for r in repairs {
        let Repair::Restart(target) = r else { continue };
        let Some((ns, name)) = target.split_once('/') else {
            continue;
        };
        let planned = steps.iter().any(|s| {
            matches!(&s.action, Action::RestartDeployment { namespace, deployment, .. }
                if namespace == ns && deployment == name)
        });
        if !can_restart || planned {
            continue;
        }
        let operator = name == crate::cluster::keda::OPERATOR;
        let group = if operator { Group::Keda } else { Group::App };
        let id = format!("doctor:restart/{ns}/{name}");
        // After the converging steps: a restart before its association is fixed changes nothing.
        push(
            &mut steps,
            id.clone(),
            group,
            Action::RestartDeployment {
                namespace: ns.into(),
                deployment: name.into(),
                reason: "doctor found its pods without Pod Identity credentials".into(),
            },
            converge.clone(),
        );
        if operator && desired.addon.is_some() {
            push(
                &mut steps,
                format!("doctor:verify/{ns}/{name}"),
                group,
                Action::VerifyPodIdentity {
                    namespace: ns.into(),
                    deployment: name.into(),
                },
                vec![id],
            );
        }
    }
    Ok(Plan { steps })
}

/// Whether a repair's prefix names this step: `queue:` (a group) every step under it, a name
/// (`queue:q1`, `iam:role/r`) that step and its parts (`…/policy`), never another name it
/// begins (`queue:q10`), so repairing one app never reaches another's.
fn covers(prefix: &str, id: &str) -> bool {
    match prefix.ends_with([':', '/']) {
        true => id.starts_with(prefix),
        false => id == prefix || id.strip_prefix(prefix).is_some_and(|r| r.starts_with('/')),
    }
}

fn push(steps: &mut Vec<Step>, id: String, group: Group, action: Action, after: Vec<String>) {
    steps.push(Step {
        id,
        group,
        change: Change::Run,
        summary: action.summary(Change::Run),
        changes: Vec::new(),
        action,
        after,
    });
}
