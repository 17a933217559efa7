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
    let app = format!("{ns}/{name}");
    if let Some(t) = c.d.triggers.iter().find(|t| t.app == app)
        && !t.kind.imp().consumes()
    {
        return f.na(format!(
            "{app} scales on {}: KEDA alone reads it, the app needs no AWS credentials",
            t.kind.as_str()
        ));
    }
    let mut evidence = Vec::new();
    let mut repairs = Vec::new();
    // Both halves need their own reads: what was not read is said, never passed.
    let associations = c.read_eks(true);
    if associations.is_ok() && c.association(ns, sa).is_none() {
        evidence.push(format!("no pod identity association for {ns}/{sa}"));
        repairs.push(Repair::Converge(format!("eks:association/{ns}/{sa}")));
    }
    let pods = c.objects().map(|o| o.app_pod.as_ref());
    let mut web_identity = false;
    if let Ok(Some(pod)) = pods {
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("?");
        let missing = rollout::missing_env(pod, name);
        if !missing.is_empty() {
            evidence.push(format!("pod {pod_name} lacks {}", missing.join(", ")));
        }
        // The SDKs resolve web identity before container credentials: IRSA wins.
        if env_names(pod)
            .iter()
            .any(|n| n == "AWS_WEB_IDENTITY_TOKEN_FILE")
        {
            web_identity = true;
            evidence.push(format!(
                "pod {pod_name} has AWS_WEB_IDENTITY_TOKEN_FILE too: AWS SDKs try web identity \
                 (IRSA) before Pod Identity, so the app runs as the role its service account's \
                 {} annotation names",
                crate::render::IRSA_ANNOTATION
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
    let unannotate = match web_identity {
        true => format!(
            "kubectl annotate serviceaccount {sa} -n {ns} {}- (IRSA off for it), ",
            crate::render::IRSA_ANNOTATION
        ),
        false => String::new(),
    };
    f.fail(
        evidence,
        format!(
            "{unannotate}kedactl up --only eks,app, then kubectl rollout restart deployment/{name} -n {ns}"
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
        logs::fix::NO_PROXY,
        vec![],
    )
}

/// The operator's pod spec: its newest pod's, else its Deployment's template.
fn operator_pod_spec(cl: &ClusterEvidence) -> Option<&Value> {
    cl.operator_pod
        .as_ref()
        .map(|p| &p["spec"])
        .or(cl.operator.as_ref().map(|d| &d["spec"]["template"]["spec"]))
}

/// Pod Identity serves pods on the pod network: a hostNetwork pod gets
/// `Unauthorized Exception! EKS does not have permissions to assume the associated role`
/// although the same pod works without it (aws/eks-pod-identity-agent#139).
pub(crate) fn kd037(c: &Ctx) -> Finding {
    let f = F { code: "KD037" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: credentials come from STS, not the agent");
    }
    let cl = or_skip!(f, c.cluster());
    let Some(spec) = operator_pod_spec(cl) else {
        return f.skip("no keda-operator Deployment or pod to read");
    };
    if spec["hostNetwork"] != true {
        return f.ok("keda-operator runs on the pod network (no hostNetwork)");
    }
    let (ns, _) = c.operator_sa();
    f.fail(
        vec![format!("keda-operator's pod spec has hostNetwork: true: Pod Identity does not serve host-network pods")],
        format!("helm upgrade keda keda --repo https://kedacore.github.io/charts -n {ns} --reuse-values --set operator.useHostNetwork=false (the chart's value), then check again"),
        vec![],
    )
}

/// The agent's address as the pod's SDK calls it (from AWS_CONTAINER_CREDENTIALS_FULL_URI;
/// 169.254.170.23, or [fd00:ec2::23] in IPv6 clusters).
fn agent_address(pod: &Value) -> std::net::IpAddr {
    let host = env_value(pod, CREDENTIALS_URI)
        .and_then(|u| u.split_once("://"))
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .map(|h| match h.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => h.split(':').next().unwrap_or(h),
        });
    host.and_then(|h| h.parse().ok())
        .unwrap_or(std::net::IpAddr::from([169, 254, 170, 23]))
}

pub(crate) fn kd038(c: &Ctx) -> Finding {
    use crate::doctor::netpol::{self, Egress};
    let f = F { code: "KD038" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: credentials come from STS, not the agent");
    }
    let cl = or_skip!(f, c.cluster());
    let policies = match &cl.network_policies {
        None => return f.skip("the NetworkPolicies were not read"),
        Some(Err(why)) => return f.skip(why.clone()),
        Some(Ok(p)) => p,
    };
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod (its labels decide which policies apply)");
    };
    let labels = match &pod["metadata"]["labels"] {
        Value::Null => cl.operator.as_ref().map_or(Value::Null, |d| {
            d["spec"]["template"]["metadata"]["labels"].clone()
        }),
        l => l.clone(),
    };
    let ip = agent_address(pod);
    let shown = match ip {
        std::net::IpAddr::V6(_) => format!("[{ip}]:80"),
        std::net::IpAddr::V4(_) => format!("{ip}:80"),
    };
    let (ns, _) = c.operator_sa();
    match netpol::egress(policies, &labels, ip, 80) {
        Egress::Unrestricted => f.ok(format!(
            "no NetworkPolicy in {ns} restricts keda-operator's egress ({} read)",
            policies.len()
        )),
        Egress::Allowed(name) => f.ok(format!(
            "NetworkPolicy {ns}/{name} allows egress to {shown}"
        )),
        Egress::Denied(names) => {
            let rule = format!(
                "{{\"to\": [{{\"ipBlock\": {{\"cidr\": \"{ip}/{}\"}}}}], \"ports\": [{{\"protocol\": \"TCP\", \"port\": 80}}]}}",
                if ip.is_ipv4() { 32 } else { 128 }
            );
            // The KEDA chart's own policy (networkPolicy.enabled, flavor kubernetes) is named
            // after the operator and allows only pods, DNS and the API server.
            let chart = names.iter().any(|n| *n == c.operator_deployment_name());
            let fix = if chart {
                format!(
                    "helm upgrade keda keda --repo https://kedacore.github.io/charts -n {ns} --reuse-values --set-json 'networkPolicy.kubernetes.operator.extraEgressRules=[{rule}]'"
                )
            } else {
                format!(
                    "add the egress rule {rule} to NetworkPolicy {ns}/{}",
                    names[0]
                )
            };
            f.fail(
                vec![format!(
                    "NetworkPolicy {} in {ns} select{} keda-operator and allow no egress to {shown}, where the Pod Identity Agent serves credentials",
                    names.join(", "),
                    if names.len() == 1 { "s" } else { "" }
                )],
                fix,
                vec![],
            )
        }
    }
}

/// `https://sts.amazonaws.com[:port][/…]`: the global endpoint, which an STS interface VPC
/// endpoint does not serve.
fn is_global_sts(url: &str) -> bool {
    let host = url.split_once("://").map_or(url, |(_, r)| r);
    let host = host.split(['/', ':']).next().unwrap_or(host);
    host.eq_ignore_ascii_case("sts.amazonaws.com")
}

/// KEDA builds its STS client with `sts.NewFromConfig(cfg)` (kedacore/keda v2.20.2
/// `pkg/scalers/aws/aws_config_cache.go`) on aws-sdk-go-v2, whose STS endpoint resolver never
/// binds UseGlobalEndpoint (`service/sts/endpoints.go`): it calls sts.<region>.amazonaws.com and
/// ignores AWS_STS_REGIONAL_ENDPOINTS. Only an endpoint override or the region `aws-global`
/// sends it to sts.amazonaws.com.
pub(crate) fn kd039(c: &Ctx) -> Finding {
    let f = F { code: "KD039" };
    let cl = or_skip!(f, c.cluster());
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let mut global: Vec<String> = ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
        .iter()
        .filter_map(|k| {
            env_value(pod, k)
                .filter(|v| is_global_sts(v))
                .map(|v| format!("{k}={v}"))
        })
        .collect();
    for t in &c.d.triggers {
        let app = Ctx::for_app(c.d, c.e, t);
        if app
            .trigger()
            .and_then(|t| t["metadata"]["awsRegion"].as_str())
            == Some("aws-global")
        {
            global.push(format!(
                "the trigger of app {} has awsRegion aws-global",
                t.name
            ));
        }
    }
    let logged = logs::find(c.operator_log(), &["sts.amazonaws.com"]);
    let region = &c.d.target.region;
    let fix = format!(
        "remove the override so KEDA calls https://sts.{region}.amazonaws.com (served by the com.amazonaws.{region}.sts interface endpoint): drop {} from the operator's env (helm env values), and set awsRegion to {region}",
        if global.is_empty() {
            "AWS_ENDPOINT_URL_STS".to_string()
        } else {
            global.join(", ")
        }
    );
    let public =
        c.e.observed
            .cluster
            .as_ref()
            .and_then(|k| k.endpoint_public_access);
    if let Some(line) = logged {
        return f.fail(
            global
                .into_iter()
                .chain([format!("KEDA log: {line}")])
                .collect(),
            fix,
            vec![],
        );
    }
    if global.is_empty() {
        let legacy = env_value(pod, "AWS_STS_REGIONAL_ENDPOINTS")
            .map(|v| format!(" (AWS_STS_REGIONAL_ENDPOINTS={v} is ignored by KEDA's SDK)"))
            .unwrap_or_default();
        return f.ok(format!(
            "keda-operator calls the regional STS endpoint sts.{region}.amazonaws.com{legacy}"
        ));
    }
    match public {
        Some(false) => f.fail(
            global
                .into_iter()
                .chain(["the cluster's API endpoint is private only (endpointPublicAccess false): its nodes likely reach AWS through VPC endpoints, which do not serve sts.amazonaws.com".to_string()])
                .collect(),
            fix,
            vec![],
        ),
        _ => f.warn(
            global
                .into_iter()
                .chain(["the global endpoint works only while the nodes reach the internet; an STS VPC endpoint serves the regional one only".to_string()])
                .collect(),
            fix,
        ),
    }
}

pub(crate) fn kd044(c: &Ctx) -> Finding {
    let f = F { code: "KD044" };
    let template = match (c.deployment, c.scaler) {
        (Some(dep), _) => &dep["spec"]["template"],
        (None, Some(job)) => &job["spec"]["jobTargetRef"]["template"],
        _ => return f.na("no app workload in the config"),
    };
    let image = template["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default();
    let Some((repo, tag)) =
        c.d.repositories
            .iter()
            .find_map(|r| Some((r, crate::render::image_tag(image, &r.uri)?)))
    else {
        return f.na(format!("{image} is not in this stack's repository"));
    };
    if !c.e.registry_read {
        return f.skip("the repositories were not read (--only without registry)");
    }
    or_skip!(f, c.read(|r| r == format!("ECR repository {}", repo.name)));
    if !c.e.observed.repositories.contains_key(&repo.name) {
        return f.fail(
            vec![format!("ECR repository {} does not exist", repo.name)],
            "kedactl up --only registry, then push the image",
            vec![Repair::Converge(format!("registry:{}", repo.name))],
        );
    }
    let tags = c.e.observed.image_tags.get(&repo.name);
    if tags.is_some_and(|t| t.contains(&tag)) {
        return f.ok(format!("{image} is in ECR repository {}", repo.name));
    }
    let held = match tags.map(Vec::as_slice).unwrap_or_default() {
        [] => "it holds no image".to_string(),
        t => format!("its tags are {}", t.join(", ")),
    };
    let target = &c.d.target;
    f.fail(
        vec![format!(
            "ECR repository {} has no image tagged {tag} ({held}): the app's pods wait in ImagePullBackOff",
            repo.name
        )],
        format!(
            "aws ecr get-login-password --region {} | docker login --username AWS --password-stdin {}; docker tag <your image> {image}; docker push {image}",
            target.region,
            target.registry_host()
        ),
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_agent_address_comes_from_the_injected_uri() {
        let pod = |uri: &str| json!({"spec": {"containers": [{"env": [{"name": CREDENTIALS_URI, "value": uri}]}]}});
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(
            agent_address(&pod("http://[fd00:ec2::23]/v1/credentials")),
            ip("fd00:ec2::23")
        );
        assert_eq!(
            agent_address(&pod("http://169.254.170.23:80/v1/credentials")),
            ip("169.254.170.23")
        );
        assert_eq!(agent_address(&json!({})), ip("169.254.170.23"));
    }

    #[test]
    fn only_the_global_sts_host_is_global() {
        assert!(is_global_sts("https://sts.amazonaws.com"));
        assert!(is_global_sts("https://STS.amazonaws.com:443/"));
        assert!(!is_global_sts("https://sts.us-east-1.amazonaws.com"));
        assert!(!is_global_sts(
            "https://vpce-1.sts.us-east-1.vpce.amazonaws.com"
        ));
    }
}
