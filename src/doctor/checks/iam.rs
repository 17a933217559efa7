//! Checks of the iam layer: the roles, their trust and permissions.

use super::*;

pub(crate) fn kd008(c: &Ctx) -> Finding {
    let f = F { code: "KD008" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: roles trust the cluster's OIDC provider");
    }
    or_skip!(f, c.read_roles());
    let mut evidence = Vec::new();
    let mut repairs = Vec::new();
    let mut seen = Vec::new();
    for a in &c.d.associations {
        if seen.contains(&a.role) {
            continue;
        }
        seen.push(a.role.clone());
        let Some(role) = c.e.observed.roles.get(&a.role) else {
            evidence.push(format!("IAM role {} does not exist", a.role));
            repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
            continue;
        };
        for action in ["sts:AssumeRole", "sts:TagSession"] {
            if policy::trusts(&role.trust, Principal::Service(POD_IDENTITY), action).decision
                != Decision::Allow
            {
                evidence.push(format!(
                    "trust of {} does not allow {POD_IDENTITY} {action}: {}",
                    a.role, role.trust
                ));
                repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
            }
        }
    }
    if evidence.is_empty() {
        return f.ok(format!(
            "{} trust {POD_IDENTITY} for sts:AssumeRole and sts:TagSession",
            seen.join(", ")
        ));
    }
    repairs.dedup();
    f.fail(
        evidence,
        "kedactl up --only iam (puts the canonical trust statement back)",
        repairs,
    )
}

pub(crate) fn kd010(c: &Ctx) -> Finding {
    chain_check(c, "KD010", "sts:AssumeRole")
}

pub(crate) fn kd011(c: &Ctx) -> Finding {
    chain_check(c, "KD011", "sts:TagSession")
}

pub(crate) fn kd012(c: &Ctx) -> Finding {
    let f = F { code: "KD012" };
    or_skip!(f, c.read_roles());
    let (Some(op), Ok((role, name))) = (c.operator_role, identity_trust(c)) else {
        return f.skip("no roleArn chain to check");
    };
    let Some(op_seen) = c.e.observed.roles.get(&op.name) else {
        return f.skip(format!("IAM role {} was not read", op.name));
    };
    let mut evidence = Vec::new();
    let via_account =
        policy::trusts(&role.trust, Principal::Aws(&op.arn), "sts:AssumeRole").via_account;
    let own = policy::evaluate_all(op_seen.inline.values(), "sts:AssumeRole", &role.arn);
    if own == Decision::Deny
        || (via_account && own != Decision::Allow && op_seen.attached.is_empty())
    {
        evidence.push(format!(
            "{}'s inline policies do not allow sts:AssumeRole on {} (trust names the account root)",
            op.name, role.arn
        ));
    }
    if let Some(d) = c.simulated(&op.arn, "sts:AssumeRole", &role.arn)
        && d != "allowed"
    {
        evidence.push(format!(
            "policy simulator: {} sts:AssumeRole on {}: {d}",
            op.name, role.arn
        ));
    }
    if evidence.is_empty() {
        return f.ok(if via_account {
            format!("{}'s own policy allows assuming {name}", op.name)
        } else {
            format!("{name}'s trust names {} directly", op.name)
        });
    }
    f.fail(evidence, format!("kedactl up --only iam (puts kedactl-assume-identity on {}: sts:AssumeRole and sts:TagSession on {})", op.name, role.arn), vec![Repair::Converge(format!("iam:role/{}/policy", op.name))])
}

pub(crate) fn kd013(c: &Ctx) -> Finding {
    let f = F { code: "KD013" };
    or_skip!(f, c.read_roles());
    let stale: Vec<String> =
        c.e.observed
            .roles
            .iter()
            .flat_map(|(n, r)| {
                policy::stale_principals(&r.trust)
                    .into_iter()
                    .map(move |id| format!("trust of {n} names {id}"))
            })
            .collect();
    if stale.is_empty() {
        return f.ok("every trusted principal is a live ARN");
    }
    let repairs =
        c.e.observed
            .roles
            .iter()
            .filter(|(_, r)| !policy::stale_principals(&r.trust).is_empty())
            .map(|(n, _)| Repair::Converge(format!("iam:role/{n}")))
            .collect();
    f.fail(
        stale,
        "kedactl up --only iam (re-puts the trust with the role's ARN)",
        repairs,
    )
}

pub(crate) fn kd015(c: &Ctx) -> Finding {
    let f = F { code: "KD015" };
    or_skip!(f, c.aws());
    let Some(q) = c.queue else {
        return f.na("no queue in the config");
    };
    let (role, name) = match identity_trust(c) {
        Ok(x) => x,
        Err(why) => return f.skip(why),
    };
    let action = "sqs:GetQueueAttributes";
    let mut evidence = Vec::new();
    let mut warn_only = false;
    match policy::evaluate_all(role.inline.values(), action, &q.arn) {
        Decision::Allow => {}
        Decision::Deny => evidence.push(format!(
            "{name}'s inline policies deny {action} on {}",
            q.arn
        )),
        Decision::Implicit if role.attached.is_empty() => evidence.push(format!(
            "no policy of {name} allows {action} on {} (inline: {})",
            q.arn,
            role.inline.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        Decision::Implicit => {
            warn_only = true;
            evidence.push(format!("no inline policy of {name} allows {action} on {}; managed policies {} were not evaluated", q.arn, role.attached.join(", ")));
        }
    }
    if let Some(qp) =
        c.e.observed
            .queues
            .get(&q.name)
            .and_then(|o| o.attributes.get("Policy"))
        && let Ok(doc) = serde_json::from_str::<Value>(qp)
        && policy::statements(&doc).iter().any(|s| {
            s["Effect"] == "Deny"
                && policy::evaluate(&serde_json::json!({"Statement": [s]}), action, &q.arn)
                    == Decision::Deny
        })
    {
        warn_only = false;
        evidence.push(format!(
            "the queue policy of {} denies {action}: {qp}",
            q.name
        ));
    }
    if let Some(d) = c.simulated(&role.arn, action, &q.arn)
        && d != "allowed"
    {
        warn_only = false;
        evidence.push(format!(
            "policy simulator: {name} {action} on {}: {d}",
            q.arn
        ));
    }
    if let Some(r) = c.refusals().into_iter().find(|r| r.code() == "KD015") {
        warn_only = false;
        evidence.push(r.evidence());
    }
    if evidence.is_empty() {
        return f.ok(format!("{name} may {action} on {}", q.arn));
    }
    let fix = logs::fix::QUEUE_READ;
    if warn_only {
        return f.warn(evidence, fix);
    }
    f.fail(
        evidence,
        fix,
        vec![Repair::Converge(format!("iam:role/{name}/policy"))],
    )
}

pub(crate) fn kd016(c: &Ctx) -> Finding {
    let f = F { code: "KD016" };
    if c.role_arn().is_some() {
        return f.ok("the TriggerAuthentication sets roleArn: KEDA reads the queue as that role");
    }
    or_skip!(f, c.read_roles());
    let (Some(op), Some(q)) = (c.operator_role, c.queue) else {
        return f.na("no operator role or queue in the config");
    };
    let Some(seen) = c.e.observed.roles.get(&op.name) else {
        return f.skip(format!("IAM role {} was not read", op.name));
    };
    if policy::evaluate_all(seen.inline.values(), "sqs:GetQueueAttributes", &q.arn)
        == Decision::Allow
    {
        return f.ok(format!("{} may read {}", op.name, q.name));
    }
    f.fail(
        vec![format!(
            "the TriggerAuthentication has no roleArn, and {} may not sqs:GetQueueAttributes on {}",
            op.name, q.arn
        )],
        logs::fix::ROLE_ARN,
        vec![Repair::Converge("app:TriggerAuthentication".into())],
    )
}
