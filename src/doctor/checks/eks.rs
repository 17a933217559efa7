//! Checks of the eks layer: the Pod Identity Agent add-on and the pod identity associations.

use super::*;

pub(crate) fn kd001(c: &Ctx) -> Finding {
    let f = F { code: "KD001" };
    let Some(name) = &c.d.addon else {
        return f.na("IRSA mode: no Pod Identity Agent needed");
    };
    or_skip!(f, c.aws());
    if c.auto_mode() {
        return f.na("EKS Auto Mode runs the Pod Identity Agent itself");
    }
    or_skip!(f, c.read_eks(false));
    let cluster = &c.d.cluster;
    let fix = format!(
        "kedactl up --only eks   (or: aws eks create-addon --cluster-name {cluster} --addon-name {name})"
    );
    match &c.e.observed.addon {
        None => f.fail(vec![format!("DescribeAddon {name}: ResourceNotFoundException")], fix, vec![Repair::Converge(format!("eks:addon/{name}"))]),
        Some(a) if a.status == "ACTIVE" || a.status == "DEGRADED" => f.ok(format!("add-on {name} is {}", a.status)),
        Some(a) if a.status == "CREATING" || a.status == "UPDATING" => {
            f.warn(vec![format!("add-on {name} is {}", a.status)], "wait until it is ACTIVE (kedactl up waits for it)")
        }
        Some(a) => f.fail(vec![format!("add-on {name} is {}", a.status)], format!("aws eks describe-addon --cluster-name {cluster} --addon-name {name} (see health.issues), then delete and re-create it"), vec![]),
    }
}

pub(crate) fn kd002(c: &Ctx) -> Finding {
    let f = F { code: "KD002" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no Pod Identity Agent needed");
    }
    if c.auto_mode() {
        return f.na("EKS Auto Mode runs the Pod Identity Agent itself");
    }
    let mut evidence = Vec::new();
    if let Some(a) = &c.e.observed.addon {
        if a.status == "DEGRADED" {
            evidence.push("add-on status DEGRADED".to_string());
        }
        evidence.extend(a.issues.iter().map(|i| format!("add-on health issue: {i}")));
    }
    let cluster = c.cluster();
    if let Ok(cl) = cluster {
        if let Some(ds) = &cl.agent {
            let n = |k: &str| ds["status"][k].as_u64().unwrap_or(0);
            if n("numberReady") < n("desiredNumberScheduled") {
                evidence.push(format!(
                    "DaemonSet kube-system/eks-pod-identity-agent: {} of {} pods ready",
                    n("numberReady"),
                    n("desiredNumberScheduled")
                ));
            }
        }
        if let Some(l) = logs::find(&cl.agent_log, &["failed probe"]) {
            evidence.push(format!("agent log: {l}"));
        }
    }
    if evidence.is_empty() {
        return match cluster {
            Ok(cl) if cl.agent.is_some() => f.ok("add-on and agent DaemonSet healthy"),
            Ok(_) => f.skip("the eks-pod-identity-agent DaemonSet was not found (see KD001)"),
            Err(why) => f.skip(format!("agent pods not read: {why}")),
        };
    }
    f.fail(evidence, logs::fix::AGENT, vec![])
}

pub(crate) fn kd003(c: &Ctx) -> Finding {
    agent_log_check(
        c,
        "KD003",
        &[&["AssumeRoleForPodIdentity", "AccessDenied"]],
        "attach AmazonEKSWorkerNodePolicy (or eks-auth:AssumeRoleForPodIdentity) to the node role: aws iam attach-role-policy --role-name <node role> --policy-arn arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    )
}

pub(crate) fn kd004(c: &Ctx) -> Finding {
    agent_log_check(
        c,
        "KD004",
        &[
            &["EKS Auth", "i/o timeout"],
            &["EKS Auth", "context canceled"],
            &["eks-auth", "i/o timeout"],
        ],
        "add the com.amazonaws.<region>.eks-auth interface VPC endpoint (private cluster)",
    )
}

pub(crate) fn kd005(c: &Ctx) -> Finding {
    let f = F { code: "KD005" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no associations");
    }
    or_skip!(f, c.read_eks(true));
    let (ns, sa) = c.operator_sa();
    let cfg = (&c.d.keda.namespace, &c.d.keda.service_account);
    let mut evidence = Vec::new();
    if (cfg.0, cfg.1) != (&ns, &sa) {
        evidence.push(format!(
            "the keda-operator Deployment runs as {ns}/{sa}, the config says {}/{}",
            cfg.0, cfg.1
        ));
    }
    // KEDA calling AWS as the node role says its pod has no Pod Identity credentials, even
    // when the association exists (the pod predates it): the log outranks the listing.
    let refused = c.refusals().into_iter().find(|r| r.code() == "KD005");
    let association = c.association(&ns, &sa);
    match association {
        Some(a) if evidence.is_empty() && refused.is_none() => {
            return f.ok(format!(
                "association {} for {ns}/{sa} → {}",
                a.id, a.role_arn
            ));
        }
        Some(a) => evidence.push(format!("association {} for {ns}/{sa} exists", a.id)),
        None => evidence.push(format!("ListPodIdentityAssociations({ns}, {sa}): none")),
    }
    evidence.extend(refused.map(|r| r.evidence()));
    let fix = if (cfg.0, cfg.1) != (&ns, &sa) {
        format!(
            "set keda.namespace: {ns} and keda.serviceAccount: {sa} in kedactl.yaml, then kedactl up"
        )
    } else if association.is_some() {
        let deployment = c.operator_deployment_name();
        format!(
            "kubectl rollout restart deployment/{deployment} -n {ns}: its pods started before the association and have no credentials (kedactl doctor --fix restarts them)"
        )
    } else {
        logs::fix::ASSOCIATION.to_string()
    };
    f.fail(
        evidence,
        fix,
        vec![
            Repair::Converge(format!("eks:association/{ns}/{sa}")),
            Repair::Restart(format!("{ns}/keda-operator")),
        ],
    )
}

pub(crate) fn kd030(c: &Ctx) -> Finding {
    let f = F { code: "KD030" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    or_skip!(f, c.read_eks(true));
    let wrong: Vec<String> =
        c.d.associations
            .iter()
            .filter_map(|want| {
                let have = c.association(&want.namespace, &want.service_account)?;
                (have.role_arn != want.role_arn).then(|| {
                    format!(
                        "{}/{} → {} (config: {})",
                        want.namespace, want.service_account, have.role_arn, want.role_arn
                    )
                })
            })
            .collect();
    if wrong.is_empty() {
        return f.ok("every association points at the configured role");
    }
    f.warn(
        wrong,
        "kedactl up --only eks (UpdatePodIdentityAssociation, then restarts the pods)",
    )
}
