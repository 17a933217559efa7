//! Checks of the account layer: the caller, its permissions and the config against what is live.

use super::*;

pub(crate) fn kd029(c: &Ctx) -> Finding {
    let f = F { code: "KD029" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no role is passed to EKS (no pod identity association)");
    }
    if let Some(why) = &c.e.simulator_skipped {
        return f.skip(why.clone());
    }
    let Some(caller) = &c.e.observed.caller else {
        return f.skip("the caller was not identified");
    };
    let mut denied = Vec::new();
    for r in &c.d.roles {
        match c.simulated(&caller.arn, "iam:PassRole", &r.arn) {
            // Not asked: no evidence either way.
            None => {
                return f.skip(format!(
                    "the policy simulator was not asked about iam:PassRole on {}",
                    r.arn
                ));
            }
            Some("allowed") => {}
            Some(d) => denied.push(format!(
                "policy simulator: {} iam:PassRole on {}: {d}",
                caller.arn, r.arn
            )),
        }
    }
    if denied.is_empty() {
        return f.ok(format!("{} may pass the stack's roles", caller.arn));
    }
    f.fail(denied, "grant iam:PassRole on the roles with Condition StringEquals iam:PassedToService = pods.eks.amazonaws.com", vec![])
}

pub(crate) fn kd031(_: &Ctx) -> Finding {
    F { code: "KD031" }.na(
        "nothing to check in a running stack: `kedactl up` waits out SQS's 60 s re-create delay",
    )
}

pub(crate) fn kd033(c: &Ctx) -> Finding {
    let f = F { code: "KD033" };
    let Some(app) = c.app else {
        return f.na("not an app");
    };
    let mut m = crate::doctor::guard::app_mismatches(c.d, c.e, app);
    if m.is_empty() {
        let seen = c
            .objects()
            .is_ok_and(|o| o.scaler.is_some() || o.trigger_auth.is_some());
        let unanswered = app
            .queue
            .as_ref()
            .and_then(|q| c.e.queue_elsewhere.get(q))
            .map_or(&[][..], |q| q.unanswered.as_slice());
        return match (seen, c.read_queue(c.queue.map_or("", |q| q.name.as_str()))) {
            (false, Err(why)) => f.skip(format!("neither the KEDA objects nor the queue were read: {why}")),
            _ if !unanswered.is_empty() => f.warn(
                vec![format!("the queue is missing here, and {} did not answer: it may live there", unanswered.join(", "))],
                "check the region (--region) before `kedactl doctor --fix` creates the queue here",
            ),
            _ => f.ok("the live ScaledObject, TriggerAuthentication and queue match the config (where they exist)"),
        };
    }
    m.push("doctor --fix repairs nothing while the config and what is live disagree".into());
    f.fail(
        m,
        "correct the config (or --region, --queue, the role flags) to describe the live stack, then run doctor again",
        vec![],
    )
}
