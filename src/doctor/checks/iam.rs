//! Checks of the iam layer: the roles, their trust and permissions.

use super::*;

pub(crate) fn kd008(c: &Ctx) -> Finding {
    let f = F { code: "KD008" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: roles trust the cluster's OIDC provider");
    }
    or_skip!(f, c.read_roles());
    let (mut evidence, mut unknown, mut repairs) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = Vec::new();
    for a in &c.d.associations {
        if !seen.contains(&a.role) {
            seen.push(a.role.clone());
        }
        let Some(role) = c.e.observed.roles.get(&a.role) else {
            if !evidence
                .iter()
                .any(|e: &String| e.starts_with(&format!("IAM role {} ", a.role)))
            {
                evidence.push(format!("IAM role {} does not exist", a.role));
                repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
            }
            continue;
        };
        // What EKS presents for this association's pods: its tags and the cluster.
        let request = c.pod_request(&a.namespace, &a.service_account, &role.arn);
        for action in ["sts:AssumeRole", "sts:TagSession"] {
            let t = policy::trusts(
                &role.trust,
                Principal::Service(POD_IDENTITY),
                action,
                &request,
            );
            // Nothing applied: say what the trust names instead.
            let said = match (&t.verdict.by, t.decision) {
                (None, Decision::Implicit) => {
                    policy::names_instead(&role.trust, POD_IDENTITY, action)
                }
                _ => t.verdict.describe(),
            };
            let line = format!(
                "trust of {} does not let pods of {}/{} {action}: {said}",
                a.role, a.namespace, a.service_account,
            );
            match t.decision {
                Decision::Allow => {}
                Decision::Unknown => unknown.push(line),
                _ => {
                    evidence.push(line);
                    repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
                }
            }
        }
    }
    // A statement that lets anyone (or any pod of the account) in is a failure even when the
    // chain works: it is a hole, not a pass.
    let mut open = Vec::new();
    for name in &seen {
        let (Some(live), Some(ours)) = (
            c.e.observed.roles.get(name),
            c.d.roles.iter().find(|r| &r.name == name),
        ) else {
            continue;
        };
        for (which, s, what) in crate::plan::trust::open_statements(&ours.trust.body, &live.trust) {
            open.push(format!(
                "trust of {name}, {which}, lets {what} assume it: {s}"
            ));
        }
    }
    if !open.is_empty() {
        evidence.extend(open);
        evidence.extend(unknown);
        return f.fail(evidence, "remove the statement named above (aws iam update-assume-role-policy with the trust without it), or kedactl up --only iam --adopt, which drops it", repairs);
    }
    let fix = "kedactl up --only iam (puts the canonical trust statement back)";
    if evidence.is_empty() && unknown.is_empty() {
        return f.ok(format!(
            "{} trust {POD_IDENTITY} for sts:AssumeRole and sts:TagSession from their service accounts",
            seen.join(", ")
        ));
    }
    if evidence.is_empty() {
        return f.warn(unknown, fix);
    }
    for name in &seen {
        if let (Some(live), Some(ours)) = (
            c.e.observed.roles.get(name),
            c.d.roles.iter().find(|r| &r.name == name),
        ) && let Some(line) = overwritten(name, &ours.trust.body, &live.trust)
        {
            evidence.push(line);
        }
    }
    repairs.dedup();
    evidence.extend(unknown);
    f.fail(evidence, fix, repairs)
}

/// When a trust lacks this cluster's kedactl statements but holds other clusters', the likely
/// cause: a concurrent `up`/`down` of another cluster that wrote the trust from an older read
/// (kedactl before it re-applied and watched shared trusts), or an edit by hand.
fn overwritten(role: &str, rendered: &Value, live: &Value) -> Option<String> {
    let sids = |doc: &Value| -> Vec<String> {
        let list = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        list.iter()
            .filter_map(|s| s["Sid"].as_str())
            .filter(|s| s.starts_with(crate::render::SID_PREFIX) && *s != crate::render::CHAIN_SID)
            .map(str::to_string)
            .collect()
    };
    let (ours, there) = (sids(rendered), sids(live));
    let missing: Vec<&String> = ours.iter().filter(|s| !there.contains(s)).collect();
    let others: Vec<&String> = there.iter().filter(|s| !ours.contains(s)).collect();
    (!missing.is_empty() && !others.is_empty()).then(|| {
        format!(
            "trust of {role} holds other clusters' statements ({}) but not this cluster's ({}): \
             the likely cause is an `up` or `down` of another cluster of this stack that ran at \
             the same time and wrote the trust from an older read (kedactl before it re-applied \
             and watched shared trusts: docs/concurrency.md), or an edit by hand",
            join(&others),
            join(&missing)
        )
    })
}

fn join(sids: &[&String]) -> String {
    sids.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn kd010(c: &Ctx) -> Finding {
    chain_check(c, "KD010", "sts:AssumeRole")
}

pub(crate) fn kd011(c: &Ctx) -> Finding {
    if c.d.addon.is_none() {
        // A web identity session has no tags to pass on: the chain needs sts:AssumeRole only.
        return F { code: "KD011" }.na("IRSA mode: web identity sessions carry no session tags");
    }
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
    let session = c.operator_session(&op.arn, &role.arn);
    // `definite`: a failure that does not hang on an unknown condition.
    let (mut evidence, mut definite, mut deny, mut via_account) = (vec![], false, None, false);
    // Simulator questions it would not answer: said, never taken as an answer.
    let mut unchecked = Vec::new();
    // Both actions of the chain; the trust's side is KD010/KD011's, this is the operator's.
    for action in ["sts:AssumeRole", "sts:TagSession"] {
        let trust = format!("trust of {name}");
        let a = c.access(
            op_seen,
            action,
            &role.arn,
            Some((trust.as_str(), &role.trust)),
            &session,
        );
        via_account |= a.via_account;
        let own = &a.identity;
        match own.decision {
            // A Deny stops the chain whatever the trust says.
            Decision::Deny => {
                definite = true;
                deny.get_or_insert(own.by.clone().unwrap_or_default());
                evidence.push(format!(
                    "{}'s policies deny {action} on {}: {}",
                    op.name,
                    role.arn,
                    own.describe()
                ));
            }
            _ if !a.identity_needed || a.resource.decision != Decision::Allow => {}
            Decision::Allow => {}
            // Through the account root, the operator's own policies must allow it.
            d if a.via_account => {
                definite |= d != Decision::Unknown;
                evidence.push(format!(
                    "{name}'s trust names the account root, so {}'s own policies must allow {action} on it, and {}: {}",
                    op.name,
                    if d == Decision::Unknown { "whether they do is unknown" } else { "they do not" },
                    own.describe()
                ));
            }
            // A permissions boundary caps even a trust that names the role.
            d => {
                definite |= d != Decision::Unknown;
                let b = a.boundary.as_ref().unwrap_or(own);
                evidence.push(format!(
                    "{}'s permissions boundary caps what {name}'s trust grants it, and does not allow {action} on {}: {}",
                    op.name,
                    role.arn,
                    b.describe()
                ));
            }
        }
        if let Some(d) = c.simulated(&op.arn, action, &role.arn)
            && d != "allowed"
        {
            definite = true;
            evidence.push(format!(
                "policy simulator: {} {action} on {}: {d}",
                op.name, role.arn
            ));
        }
        unchecked.extend(c.unanswered(&op.arn, action, &role.arn).map(|why| {
            format!(
                "policy simulator could not check {} {action} on {}: {why}",
                op.name, role.arn
            )
        }));
    }
    if evidence.is_empty() {
        let found = if via_account {
            format!(
                "{}'s own policy allows sts:AssumeRole and sts:TagSession on {name}",
                op.name
            )
        } else {
            format!("{name}'s trust names {} directly", op.name)
        };
        return f.ok(with_unchecked(found, &unchecked));
    }
    evidence.extend(unchecked);
    if !definite {
        return f.warn(
            evidence,
            format!("check the condition named above on {}'s policies", op.name),
        );
    }
    if let Some(by) = deny {
        return f.fail(evidence, format!("remove or narrow the Deny ({by}) on {}; kedactl does not edit policies it did not write", op.name), vec![]);
    }
    f.fail(evidence, format!("kedactl up --only iam (puts kedactl-assume-identity on {}: sts:AssumeRole and sts:TagSession on {}); a permissions boundary must allow both too", op.name, role.arn), vec![Repair::Converge(format!("iam:role/{}/policy", op.name))])
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
    let session = c.operator_session(&role.arn, &q.arn);
    let (label, queue_policy) = queue_policy(c, &q.name);
    let a = c.access(
        role,
        action,
        &q.arn,
        queue_policy.as_ref().map(|p| (label.as_str(), p)),
        &session,
    );
    match a.decision {
        Decision::Allow => {}
        Decision::Unknown => {
            warn_only = true;
            evidence.push(format!(
                "{name} {action} on {}: {}",
                q.arn,
                a.verdict.describe()
            ));
        }
        _ => evidence.push(format!(
            "{name} may not {action} on {}: {}",
            q.arn,
            a.verdict.describe()
        )),
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
    let unchecked: Vec<String> = c
        .unanswered(&role.arn, action, &q.arn)
        .map(|why| {
            format!(
                "policy simulator could not check {name} {action} on {}: {why}",
                q.arn
            )
        })
        .into_iter()
        .collect();
    if evidence.is_empty() {
        return f.ok(with_unchecked(
            format!("{name} may {action} on {}", q.arn),
            &unchecked,
        ));
    }
    evidence.extend(unchecked);
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
    let session = c.operator_session(&op.arn, &q.arn);
    let (label, queue_policy) = queue_policy(c, &q.name);
    let a = c.access(
        seen,
        "sqs:GetQueueAttributes",
        &q.arn,
        queue_policy.as_ref().map(|p| (label.as_str(), p)),
        &session,
    );
    if a.decision == Decision::Allow {
        return f.ok(format!("{} may read {}", op.name, q.name));
    }
    f.fail(
        vec![format!(
            "the TriggerAuthentication has no roleArn, and {} may not sqs:GetQueueAttributes on {}",
            op.name, q.arn
        )],
        logs::fix::ROLE_ARN,
        vec![c.app_step("TriggerAuthentication")],
    )
}

/// A target role (EKS "assign target role": EKS assumes the association's role, then the target
/// role with it, and the pod gets the target's credentials — UpdatePodIdentityAssociation API
/// reference) changes the principal that starts KEDA's chain and that the app acts as.
pub(crate) fn kd034(c: &Ctx) -> Finding {
    let f = F { code: "KD034" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no pod identity associations");
    }
    or_skip!(f, c.read_eks(true));
    let (ns, sa) = c.operator_sa();
    let targeted = |ns: &str, sa: &str| {
        c.association(ns, sa)
            .and_then(|a| Some((a, a.target_role_arn.as_deref()?)))
    };
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    let mut seen = Vec::new();
    if let Some((a, target)) = targeted(&ns, &sa) {
        seen.push(format!("{ns}/{sa} → {target}"));
        match c.role_arn() {
            Some(arn) if arn == target => fails.push(format!(
                "association {} for {ns}/{sa} has target role {target}, which is also the TriggerAuthentication's roleArn: KEDA would assume the role it already holds",
                a.id
            )),
            Some(_) => {
                let (role, name) = or_skip!(f, identity_trust(c));
                let t = policy::trusts(
                    &role.trust,
                    Principal::Aws(target),
                    "sts:AssumeRole",
                    &c.operator_session(target, &role.arn),
                );
                if t.decision != Decision::Allow {
                    fails.push(format!(
                        "association {} for {ns}/{sa} has target role {target}: keda-operator holds its credentials, not {}'s",
                        a.id, a.role_arn
                    ));
                    fails.push(trust_evidence(
                        &role.trust,
                        &name,
                        target.rsplit('/').next().unwrap_or(target),
                        target,
                        "sts:AssumeRole",
                        &t,
                    ));
                }
            }
            None => warns.push(format!(
                "association {} for {ns}/{sa} has target role {target}: without roleArn KEDA reads the queue as {target}, which needs sqs:GetQueueAttributes on it",
                a.id
            )),
        }
    }
    // The app's own association (every app's for a stack context).
    let mine = |w: &&crate::render::Association| {
        c.app.is_none_or(|a| {
            (&a.namespace, &a.service_account) == (&w.namespace, &w.service_account)
        })
    };
    for want in
        c.d.associations
            .iter()
            .filter(|w| (w.namespace.as_str(), w.service_account.as_str()) != (&ns, &sa))
            .filter(mine)
    {
        let (wns, wsa) = (&want.namespace, &want.service_account);
        if let Some((a, target)) = targeted(wns, wsa) {
            seen.push(format!("{wns}/{wsa} → {target}"));
            if target != want.role_arn {
                warns.push(format!("association {} for {wns}/{wsa} has target role {target}: the app's pods act as it, not as {}, so it needs the queue's sqs:ReceiveMessage and sqs:DeleteMessage", a.id, want.role_arn));
            }
        }
    }
    let drop = format!(
        "or remove the target role from the association (aws eks update-pod-identity-association --cluster-name {} --association-id <id> with the target role cleared), then restart the pods",
        c.d.cluster
    );
    if !fails.is_empty() {
        let id = c.role_arn().unwrap_or_default();
        let name = id.rsplit('/').next().unwrap_or(&id);
        let target = targeted(&ns, &sa).map_or("", |(_, t)| t);
        return f.fail(
            fails.into_iter().chain(warns).collect(),
            format!("add {{\"AWS\": \"{target}\"}} with sts:AssumeRole and sts:TagSession to the trust of {name} (aws iam update-assume-role-policy --role-name {name}), {drop}"),
            vec![],
        );
    }
    if !warns.is_empty() {
        return f.warn(
            warns,
            format!(
                "grant the target role the queue permissions the config gives its own role, {drop}"
            ),
        );
    }
    match seen.is_empty() {
        true => f.ok("no association sets a target role: pods get their association's role"),
        false => f.ok(format!("target roles fit the chain: {}", seen.join(", "))),
    }
}

pub(crate) fn kd043(c: &Ctx) -> Finding {
    use crate::spec::names::KmsKey;
    let f = F { code: "KD043" };
    let Some(q) = c.queue else {
        return f.na("no queue in the config");
    };
    or_skip!(f, c.read_queue(&q.name));
    let Some(seen) = c.e.observed.queues.get(&q.name) else {
        return f.skip(format!("SQS queue {} does not exist (see KD022)", q.name));
    };
    let key = match seen.attributes.get(crate::render::KMS_KEY) {
        Some(k) if !k.is_empty() => k,
        _ => {
            return f.na(format!(
                "{} uses SSE-SQS (or no encryption): no key to decrypt with",
                q.name
            ));
        }
    };
    if KmsKey::parse(key) == Some(KmsKey::SqsManaged) {
        return f.na(format!(
            "{} uses the AWS managed key {key}: its key policy lets SQS decrypt for any principal of the account that may use the queue",
            q.name
        ));
    }
    if c.e.observed.unknown_aliases.iter().any(|a| a == key) {
        return f.fail(
            vec![format!("{} is encrypted with {key}, an alias KMS does not know", q.name)],
            "point the queue at a live key: set kmsKey in kedactl.yaml and run kedactl up --only queue,iam",
            vec![],
        );
    }
    or_skip!(f, c.read(|r| r == format!("KMS key {key}")));
    let Some(arn) = c.d.target.kms_key_arn(key, &c.e.observed.kms_aliases) else {
        return f.skip(format!(
            "{key} is not a KMS key reference kedactl understands"
        ));
    };
    let Some(dep) = c.deployment else {
        return f.na("no app Deployment in the config");
    };
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or("default");
    let sa = dep["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    let Some(name) = c.identity_role.map(|r| r.name.as_str()) else {
        return f.na("no app role in the config");
    };
    or_skip!(f, c.read_role(name));
    let Some(role) = c.e.observed.roles.get(name) else {
        return f.skip(format!("IAM role {name} does not exist (see KD008)"));
    };
    // The app's own session: Pod Identity tags it as the app's service account.
    let session = c.app_session(&role.arn, ns, sa, &arn);
    let v = c.permits(role, "kms:Decrypt", &arn, &session);
    let line = format!(
        "{name} (the consumer {ns}/{sa}) kms:Decrypt on {arn} ({key}, the key of {}): {}",
        q.name,
        v.describe()
    );
    let fix = format!(
        "kedactl up --only iam (adds kms:Decrypt on {arn} to {name}'s {} policy); a key in another account must also allow {name} in its key policy",
        crate::render::IDENTITY_POLICY
    );
    match v.decision {
        Decision::Allow => f.ok(line),
        Decision::Unknown => f.warn(vec![line], fix),
        _ => f.fail(
            vec![line],
            fix,
            vec![Repair::Converge(format!("iam:role/{name}"))],
        ),
    }
}

/// AWS managed policies that let a node pull from ECR (moto and some accounts cannot show their
/// documents, so they are known by ARN).
const PULL_POLICIES: [&str; 4] = [
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess",
];

pub(crate) fn kd045(c: &Ctx) -> Finding {
    let f = F { code: "KD045" };
    let image = c
        .deployment
        .or(c.scaler)
        .and_then(|m| {
            m["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .or(
                    m["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]["image"]
                        .as_str(),
                )
        })
        .unwrap_or_default();
    let Some(repo) =
        c.d.repositories
            .iter()
            .find(|r| crate::render::image_tag(image, &r.uri).is_some())
    else {
        return f.na(format!("{image} is not in this stack's repository"));
    };
    let roles = match &c.e.node_roles {
        None => return f.skip("the node roles were not read (--only without registry or app)"),
        Some(Err(why)) => return f.skip(format!("could not read the node roles: {why}")),
        Some(Ok(r)) if r.is_empty() => {
            return f.skip("no managed node group or Auto Mode node role: with self-managed or Karpenter nodes kedactl cannot tell which role pulls images");
        }
        Some(Ok(r)) => r,
    };
    let arn = format!(
        "arn:{}:ecr:{}:{}:repository/{}",
        c.d.target.partition,
        c.d.target.region,
        c.d.target.account_or_placeholder(),
        repo.name
    );
    let ctx = crate::doctor::conditions::Context::default();
    let (mut evidence, mut unknown) = (Vec::new(), Vec::new());
    for role in roles {
        let name = role.arn.rsplit('/').next().unwrap_or(&role.arn);
        if role.attached.iter().any(|a| {
            PULL_POLICIES
                .iter()
                .any(|p| a.ends_with(&format!(":policy/{p}")))
        }) && role.boundary.is_none()
        {
            continue;
        }
        for (action, resource) in [
            ("ecr:GetAuthorizationToken", "*"),
            ("ecr:BatchGetImage", arn.as_str()),
            ("ecr:GetDownloadUrlForLayer", arn.as_str()),
        ] {
            let v = c.permits(role, action, resource, &ctx);
            let line = format!("node role {name} may not {action}: {}", v.describe());
            match v.decision {
                Decision::Allow => {}
                Decision::Unknown => unknown.push(line),
                _ => evidence.push(line),
            }
        }
    }
    let names: Vec<&str> = roles
        .iter()
        .map(|r| r.arn.rsplit('/').next().unwrap_or(&r.arn))
        .collect();
    let fix = format!(
        "aws iam attach-role-policy --role-name {} --policy-arn arn:{}:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        names.first().copied().unwrap_or("<node role>"),
        c.d.target.partition
    );
    match (evidence.is_empty(), unknown.is_empty()) {
        (true, true) => f.ok(format!(
            "node roles {} may pull from {}",
            names.join(", "),
            repo.name
        )),
        (true, false) => f.warn(unknown, fix),
        _ => {
            evidence.extend(unknown);
            f.fail(evidence, fix, vec![])
        }
    }
}

/// The queue's policy as observed (none, or one that does not parse: no grant, no deny), with
/// its name for evidence.
fn queue_policy(c: &Ctx, queue: &str) -> (String, Option<Value>) {
    let doc =
        c.e.observed
            .queues
            .get(queue)
            .and_then(|o| o.attributes.get("Policy"))
            .and_then(|p| serde_json::from_str(p).ok());
    (format!("queue policy of {queue}"), doc)
}

/// An ok verdict from the documents, with what the simulator could not check said after it.
fn with_unchecked(found: String, unchecked: &[String]) -> String {
    match unchecked.is_empty() {
        true => found,
        false => format!("{found} (documents evaluated; {})", unchecked.join("; ")),
    }
}
