//! Checks of the keda layer: the KEDA install and its objects.

use super::*;

pub(crate) fn kd014(c: &Ctx) -> Finding {
    let f = F { code: "KD014" };
    let Some(arn) = c.role_arn() else {
        return f.ok("no roleArn");
    };
    let (ns, sa) = c.operator_sa();
    let op_arn = c
        .association(&ns, &sa)
        .map(|a| a.role_arn.clone())
        .or(c.operator_role.map(|r| r.arn.clone()));
    if op_arn.as_deref() == Some(arn.as_str()) {
        return f.fail(vec![format!("roleArn {arn} is the role of {ns}/{sa} itself")], "point roleArn at a separate identity role (the config's identity role), or remove roleArn", vec![c.app_step("TriggerAuthentication")]);
    }
    f.ok(format!("roleArn {arn} differs from the operator's role"))
}

pub(crate) fn kd017(c: &Ctx) -> Finding {
    let f = F { code: "KD017" };
    let (cl, so) = match live_scaler(c, &f) {
        Ok(x) => x,
        Err(finding) => return *finding,
    };
    let ns = so["metadata"]["namespace"].as_str().unwrap_or("?");
    let trigger = c.trigger();
    let r = trigger
        .map(|t| &t["authenticationRef"])
        .filter(|r| !r.is_null());
    let fix = "kedactl up --only app (re-applies the ScaledObject with authenticationRef to its TriggerAuthentication)";
    let repairs = vec![c.scaler_step(), c.app_step("TriggerAuthentication")];
    // What KEDA itself says about the ScaledObject, as supporting evidence.
    let status = not_ready(so);
    let Some(r) = r else {
        let kind = trigger.map_or("aws-sqs-queue", |t| t["type"].as_str().unwrap_or("?"));
        let mut evidence = vec![format!(
            "the {kind} trigger has no authenticationRef: KEDA takes the legacy path (`awsAccessKeyID not found`)"
        )];
        evidence.extend(status);
        return f.fail(evidence, fix, repairs);
    };
    let kind = r["kind"].as_str().unwrap_or("TriggerAuthentication");
    let name = r["name"].as_str().unwrap_or("");
    match &cl.trigger_auth {
        Some(_) => f.ok(format!("authenticationRef → {kind} {name}")),
        None => f.fail(
            std::iter::once(format!(
                "authenticationRef names {kind} {name}, which does not exist{}",
                if kind == "TriggerAuthentication" {
                    format!(" in namespace {ns}")
                } else {
                    String::new()
                }
            ))
            .chain(status)
            .collect(),
            fix,
            repairs,
        ),
    }
}

pub(crate) fn kd018(c: &Ctx) -> Finding {
    let f = F { code: "KD018" };
    let cl = or_skip!(f, c.objects());
    let Some(ta) = &cl.trigger_auth else {
        return f.skip("no TriggerAuthentication to read (see KD017)");
    };
    let pi = &ta["spec"]["podIdentity"];
    let provider = pi["provider"].as_str().unwrap_or("none");
    let owner = pi["identityOwner"].as_str().unwrap_or("keda");
    let fix = "kedactl up --only app (podIdentity: {provider: aws, roleArn: <identity role>})";
    let repairs = vec![c.app_step("TriggerAuthentication")];
    if provider != "aws" {
        let why = if provider == "aws-eks" {
            "deprecated since KEDA 2.13 and IRSA-only: it reads eks.amazonaws.com/role-arn, which Pod Identity does not set"
        } else {
            "KEDA will not use Pod Identity credentials"
        };
        return f.fail(
            vec![format!("podIdentity.provider: {provider}: {why}")],
            fix,
            repairs,
        );
    }
    if owner == "workload" && c.d.addon.is_some() {
        return f.fail(vec!["podIdentity.identityOwner: workload reads the workload's eks.amazonaws.com/role-arn annotation (IRSA only)".into()], fix, repairs);
    }
    f.ok(format!("provider aws, identityOwner {owner}"))
}

pub(crate) fn kd019(c: &Ctx) -> Finding {
    let f = F { code: "KD019" };
    let cl = or_skip!(f, c.objects());
    let Some(ta) = &cl.trigger_auth else {
        return f.skip("no TriggerAuthentication to read (see KD017)");
    };
    let pi = &ta["spec"]["podIdentity"];
    if pi["roleArn"].is_string() && pi["identityOwner"] == "workload" {
        return f.fail(
            vec![format!(
                "roleArn {} with identityOwner: workload",
                pi["roleArn"]
            )],
            "drop identityOwner (kedactl up --only app)",
            vec![c.app_step("TriggerAuthentication")],
        );
    }
    f.ok("roleArn and identityOwner are consistent")
}

pub(crate) fn kd020(c: &Ctx) -> Finding {
    let f = F { code: "KD020" };
    or_skip!(f, c.cluster());
    match &c.e.observed.keda {
        None if let Some(why) = &c.e.observed.keda_unknown => f.skip(why.clone()),
        None => f.fail(
            vec!["no keda-operator Deployment in the cluster".into()],
            "kedactl up --only keda (installs KEDA with helm)",
            vec![Repair::Converge("keda:".into())],
        ),
        Some(k) => match crate::cluster::keda::check(k, &c.d.keda.version, &c.d.stack) {
            Ok(()) if k.needs_repair(&c.d.stack) => f.fail(
                vec![format!(
                    "KEDA in namespace {} (installed by this stack){}{}",
                    k.namespace,
                    if k.missing.is_empty() {
                        String::new()
                    } else {
                        format!("; missing: {}", k.missing.join(", "))
                    },
                    k.release
                        .as_ref()
                        .map(|r| format!("; helm release revision {}: {}", r.revision, r.status))
                        .unwrap_or_default()
                )],
                "kedactl up --only keda (runs helm upgrade --install again)",
                vec![Repair::Converge("keda:".into())],
            ),
            Ok(()) => f.ok(format!("KEDA {} in namespace {}", k.version, k.namespace)),
            Err(e) => f.fail(
                vec![format!(
                    "KEDA {} in namespace {}{}",
                    k.version,
                    k.namespace,
                    if k.missing.is_empty() {
                        String::new()
                    } else {
                        format!("; missing: {}", k.missing.join(", "))
                    }
                )],
                e.lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("fix: ")
                    .to_string(),
                vec![],
            ),
        },
    }
}

pub(crate) fn kd028(c: &Ctx) -> Finding {
    let f = F { code: "KD028" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no Pod Identity session tags");
    }
    let (ns, sa) = c.operator_sa();
    let association = c.read_eks(true).map(|()| c.association(&ns, &sa));
    let packed = c
        .cluster()
        .ok()
        .and_then(|_| logs::find(c.operator_log(), &["PackedPolicyTooLarge"]));
    // The scoped trust conditions on the very tags `--disable-session-tags` stops: the two
    // must change together or the operator cannot assume its role at all.
    let (role, scoped) = match c.operator_role {
        Some(r) => {
            let seen = c
                .read_role(&r.name)
                .ok()
                .and(c.e.observed.roles.get(&r.name));
            let trust = seen.map_or(&r.trust.body, |s| &s.trust);
            (
                r.name.as_str(),
                trust.to_string().contains("aws:RequestTag/"),
            )
        }
        None => ("keda-operator", false),
    };
    let id = match &association {
        Ok(Some(a)) => a.id.clone(),
        _ => "<keda-operator association>".into(),
    };
    let disable = logs::fix::disable_tags(&c.d.cluster, &id);
    let unscope = logs::fix::UNSCOPE;
    if let Ok(Some(a)) = &association
        && a.session_tags_disabled
        && scoped
    {
        return f.fail(
            vec![
                format!("association {} for {ns}/{sa} has session tags disabled", a.id),
                format!("the trust of {role} conditions on aws:RequestTag/… session tags, which EKS then does not send: the operator cannot assume its role"),
            ],
            format!("{unscope} (a trust without tag conditions), or send the tags again: aws eks update-pod-identity-association --cluster-name {} --association-id {} --no-disable-session-tags", c.d.cluster, a.id),
            vec![],
        );
    }
    match (packed, scoped) {
        (Some(line), true) => f.fail(
            vec![
                format!("KEDA log: {line}"),
                format!("the trust of {role} conditions on the session tags: disabling them alone would lock the operator out"),
            ],
            format!("first {unscope}, then {disable}"),
            vec![],
        ),
        (Some(line), false) => f.fail(vec![format!("KEDA log: {line}")], disable, vec![]),
        (None, _) => match (c.cluster(), association) {
            (Err(why), _) => f.skip(format!("KEDA's log was not read: {why}")),
            (Ok(_), Err(why)) => f.skip(format!("the association was not read: {why}")),
            (Ok(_), Ok(_)) => f.ok("no PackedPolicyTooLarge in KEDA's recent log, and the trust matches the association's session tags"),
        },
    }
}

/// KEDA's pause annotations (kedacore/keda v2.20.2 `apis/keda/v1alpha1/scaledobject_types.go`):
/// paused-replicas pauses whatever its value; the others are Go booleans, and a value that is
/// not one counts as true. A ScaledJob honours `paused` only.
const PAUSES: [(&str, &str); 4] = [
    (
        "autoscaling.keda.sh/paused",
        "KEDA stops scaling it altogether",
    ),
    (
        "autoscaling.keda.sh/paused-replicas",
        "KEDA holds the replicas at this count",
    ),
    (
        "autoscaling.keda.sh/paused-scale-in",
        "KEDA never scales it in",
    ),
    (
        "autoscaling.keda.sh/paused-scale-out",
        "KEDA never scales it out",
    ),
];

/// Go's strconv.ParseBool, with KEDA's rule that anything else means true.
fn keda_bool(v: &str) -> bool {
    !matches!(v, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

pub(crate) fn kd035(c: &Ctx) -> Finding {
    let f = F { code: "KD035" };
    let cl = or_skip!(f, c.objects());
    let Some(so) = &cl.scaler else {
        return f.skip("the app's scaler does not exist (see KD017)");
    };
    let kind = so["kind"].as_str().unwrap_or("ScaledObject");
    let (ns, name) = (
        so["metadata"]["namespace"].as_str().unwrap_or("default"),
        so["metadata"]["name"].as_str().unwrap_or("?"),
    );
    let annotations = &so["metadata"]["annotations"];
    let paused: Vec<(&str, String)> = PAUSES
        .iter()
        .filter(|(key, _)| kind == "ScaledObject" || *key == PAUSES[0].0)
        .filter_map(|(key, effect)| {
            let v = annotations[*key].as_str()?;
            (key.ends_with("paused-replicas") || keda_bool(v))
                .then(|| (*key, format!("{key}: {v:?}: {effect}")))
        })
        .collect();
    if paused.is_empty() {
        return f.ok(format!("{kind} {ns}/{name} carries no pause annotation"));
    }
    let remove: Vec<String> = paused.iter().map(|(k, _)| format!("{k}-")).collect();
    f.warn(
        paused.into_iter().map(|(_, e)| e).collect(),
        format!(
            "kubectl annotate {} {name} -n {ns} {}",
            kind.to_ascii_lowercase(),
            remove.join(" ")
        ),
    )
}
