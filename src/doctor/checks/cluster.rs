//! Checks of the cluster layer: the pods: injected credentials, the agent, proxies.

use super::*;

pub(crate) fn kd006(c: &Ctx) -> Finding {
    let f = F { code: "KD006" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    let cl = or_skip!(f, c.cluster());
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("?");
    let missing = rollout::missing_env(pod, "keda-operator");
    if missing.is_empty() {
        return f.ok(format!(
            "pod {pod_name} has {CREDENTIALS_URI} and {TOKEN_FILE}"
        ));
    }
    let (ns, sa) = c.operator_sa();
    let mut evidence = vec![format!(
        "pod {pod_name} lacks {} (env: {})",
        missing.join(", "),
        env_names(pod).join(", ")
    )];
    if let Some(a) = c.association(&ns, &sa) {
        evidence.push(format!("association {} for {ns}/{sa} exists: the pod started before it, or the webhook missed it", a.id));
    }
    let deployment = c.operator_deployment_name();
    f.fail(evidence, format!("kubectl rollout restart deployment/{deployment} -n {ns} (kedactl doctor --fix restarts and re-checks)"), vec![Repair::Restart(format!("{ns}/{deployment}"))])
}

pub(crate) fn kd007(c: &Ctx) -> Finding {
    let f = F { code: "KD007" };
    let cl = or_skip!(f, c.cluster());
    let Some(node) = &cl.operator_node else {
        return f.skip("the operator pod's node was not read");
    };
    let labels = &node["metadata"]["labels"];
    let name = node["metadata"]["name"].as_str().unwrap_or("?");
    let compute = labels["eks.amazonaws.com/compute-type"].as_str();
    let os = labels["kubernetes.io/os"].as_str().unwrap_or("linux");
    match (compute, os) {
        (Some(t @ ("fargate" | "hybrid")), _) | (_, t @ "windows") => f.fail(
            vec![format!("node {name}: compute-type {} os {os}", compute.unwrap_or("ec2"))],
            format!("run KEDA on Linux EC2 nodes (a nodeSelector for the chart), or use authMode: irsa ({t} nodes get no Pod Identity)"),
            vec![],
        ),
        _ => f.ok(format!("node {name}: {} {os}", compute.unwrap_or("ec2"))),
    }
}

pub(crate) fn kd009(c: &Ctx) -> Finding {
    let f = F { code: "KD009" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: IRSA is the intended path");
    }
    let cl = or_skip!(f, c.cluster());
    let mut evidence = Vec::new();
    if let Some(arn) = cl
        .operator_sa
        .as_ref()
        .and_then(|s| s["metadata"]["annotations"][crate::render::IRSA_ANNOTATION].as_str())
    {
        evidence.push(format!(
            "service account annotation eks.amazonaws.com/role-arn: {arn}"
        ));
    }
    if let Some(p) = &cl.operator_pod
        && env_names(p)
            .iter()
            .any(|n| n == "AWS_WEB_IDENTITY_TOKEN_FILE")
    {
        evidence.push("pod env has AWS_WEB_IDENTITY_TOKEN_FILE (IRSA is injected too)".into());
    }
    if evidence.is_empty() {
        return f.ok("no IRSA annotation or web identity token on the operator");
    }
    let (ns, sa) = c.operator_sa();
    f.fail(evidence, logs::fix::irsa(&ns, &sa), vec![])
}

pub(crate) fn kd024(c: &Ctx) -> Finding {
    let f = F { code: "KD024" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    let Some(dep) = c.deployment else {
        return f.na("no app Deployment in the config");
    };
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = dep["metadata"]["name"].as_str().unwrap_or("?");
    let sa = dep["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    let mut evidence = Vec::new();
    let mut repairs = Vec::new();
    // Both halves need their own reads: what was not read is said, never passed.
    let associations = c.read_eks(true);
    if associations.is_ok() && c.association(ns, sa).is_none() {
        evidence.push(format!("no pod identity association for {ns}/{sa}"));
        repairs.push(Repair::Converge(format!("eks:association/{ns}/{sa}")));
    }
    let pods = c.cluster().map(|cl| cl.app_pod.as_ref());
    if let Ok(Some(pod)) = pods {
        let missing = rollout::missing_env(pod, name);
        if !missing.is_empty() {
            evidence.push(format!(
                "pod {} lacks {}",
                pod["metadata"]["name"].as_str().unwrap_or("?"),
                missing.join(", ")
            ));
        }
    }
    if evidence.is_empty() {
        return match (associations, pods) {
            (Ok(()), Ok(Some(pod))) => f.ok(format!(
                "{ns}/{sa} is associated; pod {} has the credentials",
                pod["metadata"]["name"].as_str().unwrap_or("?")
            )),
            (Ok(()), Ok(None)) => f.ok(format!(
                "{ns}/{sa} is associated; no pod runs (its next pod gets the credentials)"
            )),
            (Err(why), _) => f.skip(format!("the association was not checked: {why}")),
            (Ok(()), Err(why)) => f.skip(format!(
                "{ns}/{sa} is associated, but its pods were not checked: {why}"
            )),
        };
    }
    repairs.push(Repair::Restart(format!("{ns}/{name}")));
    f.fail(
        evidence,
        format!(
            "kedactl up --only eks,app, then kubectl rollout restart deployment/{name} -n {ns}"
        ),
        repairs,
    )
}

pub(crate) fn kd027(c: &Ctx) -> Finding {
    let f = F { code: "KD027" };
    let cl = or_skip!(f, c.cluster());
    or_skip!(f, c.read_eks(true));
    let (ns, sa) = c.operator_sa();
    let (Some(pod), Some(a)) = (&cl.operator_pod, c.association(&ns, &sa)) else {
        return f.skip("no operator pod or association to compare");
    };
    let Some(changed) = &a.modified_at else {
        return f.skip("the association's modification time is unknown");
    };
    let started = pod["metadata"]["creationTimestamp"].as_str().unwrap_or("");
    if !started.is_empty() && started < changed.as_str() {
        let deployment = c.operator_deployment_name();
        return f.fail(
            vec![format!(
                "pod {} started {started}, association {} changed {changed}",
                pod["metadata"]["name"].as_str().unwrap_or("?"),
                a.id
            )],
            logs::fix::restart(&ns, &deployment),
            vec![Repair::Restart(format!("{ns}/{deployment}"))],
        );
    }
    f.ok(format!(
        "pod started {started}, after the association's last change ({changed})"
    ))
}

pub(crate) fn kd032(c: &Ctx) -> Finding {
    let f = F { code: "KD032" };
    let cl = or_skip!(f, c.cluster());
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let proxy = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .find_map(|k| env_value(pod, k).map(|v| format!("{k}={v}")));
    let Some(proxy) = proxy else {
        return f.ok("no proxy variables in the operator pod");
    };
    let no_proxy = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|k| env_value(pod, k))
        .unwrap_or("");
    if no_proxy.contains("169.254.170.23") {
        return f.ok(format!("{proxy}, NO_PROXY includes 169.254.170.23"));
    }
    f.fail(
        vec![format!("{proxy}; NO_PROXY={no_proxy:?}")],
        "add 169.254.170.23,fd00:ec2::23 to NO_PROXY in the operator's env (helm env values)",
        vec![],
    )
}
