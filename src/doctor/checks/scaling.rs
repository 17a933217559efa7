//! Checks of the scaling layer: the trigger, the queue and the HPA.

use super::*;

pub(crate) fn kd021(c: &Ctx) -> Finding {
    let f = F { code: "KD021" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    match t["metadata"]["awsRegion"].as_str() {
        Some(r) if !r.is_empty() => f.ok(format!("awsRegion {r}")),
        _ => f.fail(
            vec!["the trigger has no awsRegion".into()],
            format!(
                "set awsRegion: {} (kedactl up --only app)",
                c.d.target.region
            ),
            vec![Repair::Converge("app:ScaledObject".into())],
        ),
    }
}

pub(crate) fn kd022(c: &Ctx) -> Finding {
    let f = F { code: "KD022" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    let url = t["metadata"]["queueURL"].as_str().unwrap_or("");
    let Some((region, account, name)) = parse_queue_url(url) else {
        return f.skip("queueURL is malformed (see KD023)");
    };
    let mut evidence = Vec::new();
    if let Some(r) = t["metadata"]["awsRegion"].as_str()
        && r != region
    {
        evidence.push(format!("queueURL is in {region}, awsRegion is {r}"));
    }
    if let Some(a) = &c.d.target.account
        && a != account
    {
        evidence.push(format!(
            "queueURL names account {account}, the stack is in {a}"
        ));
    }
    if c.read_queue(name).is_ok()
        && c.queue.is_some_and(|q| q.name == name)
        && !c.e.observed.queues.contains_key(name)
    {
        evidence.push(format!(
            "GetQueueUrl {name}: AWS.SimpleQueueService.NonExistentQueue"
        ));
    }
    if evidence.is_empty() {
        return f.ok(format!("{url} is in {region}, account {account}"));
    }
    f.fail(evidence, format!("set awsRegion to the URL's region and check the queue exists (kedactl up --only queue,app); expected {}", c.queue.map(|q| q.url.as_str()).unwrap_or("")), vec![Repair::Converge("queue:".into()), Repair::Converge("app:ScaledObject".into())])
}

pub(crate) fn kd023(c: &Ctx) -> Finding {
    let f = F { code: "KD023" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    let url = t["metadata"]["queueURL"].as_str().unwrap_or("");
    if parse_queue_url(url).is_some() {
        return f.ok(format!("queueURL {url}"));
    }
    f.fail(
        vec![format!(
            "queueURL {url:?} is not https://sqs.<region>.amazonaws.com/<account>/<name>"
        )],
        "kedactl up --only app (renders the URL from the queue name)",
        vec![Repair::Converge("app:ScaledObject".into())],
    )
}

pub(crate) fn kd025(c: &Ctx) -> Finding {
    let f = F { code: "KD025" };
    let cl = or_skip!(f, c.cluster());
    let Some(api) = &cl.apiservice else {
        return f.fail(
            vec!["APIService v1beta1.external.metrics.k8s.io does not exist".into()],
            "install KEDA (kedactl up --only keda); its metrics server registers it",
            vec![],
        );
    };
    let cond = api["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
        .cloned()
        .unwrap_or_default();
    if cond["status"] == "True" {
        return f.ok("v1beta1.external.metrics.k8s.io is Available");
    }
    f.fail(vec![format!("v1beta1.external.metrics.k8s.io Available={} {}: {}", cond["status"].as_str().unwrap_or("?"), cond["reason"].as_str().unwrap_or(""), cond["message"].as_str().unwrap_or(""))], "allow the control plane to reach the keda-operator-metrics-apiserver on 6443 (node security group from the cluster security group)", vec![])
}

pub(crate) fn kd026(c: &Ctx) -> Finding {
    let f = F { code: "KD026" };
    let Some(q) = c.queue else {
        return f.na("no queue");
    };
    or_skip!(f, c.read_queue(&q.name));
    let Some(seen) = c.e.observed.queues.get(&q.name) else {
        return f.skip("the queue's counts were not read");
    };
    let n = |k: &str| {
        seen.attributes
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (visible, in_flight) = (
        n("ApproximateNumberOfMessages"),
        n("ApproximateNumberOfMessagesNotVisible"),
    );
    let scaler = c
        .cluster()
        .ok()
        .and_then(|cl| cl.scaler.as_ref())
        .or(c.scaler);
    let min = scaler
        .and_then(|s| s["spec"]["minReplicaCount"].as_u64())
        .unwrap_or(0);
    let on_in_flight = c
        .trigger()
        .and_then(|t| t["metadata"]["scaleOnInFlight"].as_str())
        .unwrap_or("true")
        == "true";
    if min == 0 && visible == 0 && in_flight > 0 && on_in_flight {
        return f.warn(vec![format!("{in_flight} messages in flight (scaleOnInFlight true) keep the app at ≥ 1 replica; 0 visible")], "expected: it scales to zero cooldownPeriod after the in-flight messages are deleted; set scaleOnInFlight: \"false\" to ignore them");
    }
    f.ok(format!(
        "minReplicaCount {min}; {visible} visible, {in_flight} in flight"
    ))
}
