//! Checks of the scaling layer: the trigger, the queue and the HPA.

use super::*;

pub(crate) fn kd021(c: &Ctx) -> Finding {
    let f = F { code: "KD021" };
    let Some(t) = c.trigger() else {
        return f.na("no trigger of a type kedactl renders");
    };
    match t["metadata"]["awsRegion"].as_str() {
        Some(r) if !r.is_empty() => f.ok(format!("awsRegion {r}")),
        _ => f.fail(
            vec!["the trigger has no awsRegion".into()],
            format!(
                "set awsRegion: {} (kedactl up --only app)",
                c.d.target.region
            ),
            vec![c.scaler_step()],
        ),
    }
}

pub(crate) fn kd022(c: &Ctx) -> Finding {
    let f = F { code: "KD022" };
    let Some(t) = c.sqs_trigger() else {
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
    f.fail(evidence, format!("set awsRegion to the URL's region and check the queue exists (kedactl up --only queue,app); expected {}", c.queue.map(|q| q.url.as_str()).unwrap_or("")), c.queue_steps().into_iter().chain([c.scaler_step()]).collect())
}

pub(crate) fn kd023(c: &Ctx) -> Finding {
    let f = F { code: "KD023" };
    let Some(t) = c.sqs_trigger() else {
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
        vec![c.scaler_step()],
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
    let scaler = c.scaler_object();
    let min = scaler
        .and_then(|s| s["spec"]["minReplicaCount"].as_u64())
        .unwrap_or(0);
    let on_in_flight = c
        .sqs_trigger()
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

/// KEDA 2.20 mirrors the HPA's ScalingActive condition as `HPAActive` on the ScaledObject
/// (kedacore/keda v2.20.2 `apis/keda/v1alpha1/condition_types.go`): False with reason
/// HPAMetricsUnavailable when the HPA cannot fetch KEDA's metric.
pub(crate) fn kd036(c: &Ctx) -> Finding {
    let f = F { code: "KD036" };
    let cl = or_skip!(f, c.objects());
    let Some(so) = &cl.scaler else {
        return f.skip("the app's scaler does not exist (see KD017)");
    };
    if so["kind"] == "ScaledJob" {
        return f.na("a ScaledJob has no HPA");
    }
    let Some(cond) = so["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "HPAActive"))
    else {
        return f.na("the ScaledObject has no HPAActive condition (KEDA before 2.20, or its HPA does not exist yet)");
    };
    let s = |k: &str| cond[k].as_str().unwrap_or("");
    let said = format!(
        "HPAActive={} ({}): {}",
        s("status"),
        s("reason"),
        s("message")
    );
    let hpa = format!(
        "kubectl describe hpa keda-hpa-{} -n {}",
        so["metadata"]["name"].as_str().unwrap_or("?"),
        so["metadata"]["namespace"].as_str().unwrap_or("default")
    );
    match (s("status"), s("reason")) {
        ("True", "ScalingDisabled") => f.ok(format!("{said} — KEDA scaled the target to zero; the HPA idles")),
        ("True", _) => f.ok(said),
        ("False", "HPAMetricsUnavailable") => f.fail(
            vec![said],
            format!("the HPA cannot read KEDA's metric: see KD025 (external metrics APIService) and {hpa}"),
            vec![],
        ),
        _ => f.warn(vec![said], format!("the HPA is not scaling: {hpa}")),
    }
}

/// A Job that runs past the queue's visibility timeout lets SQS deliver its message again, so
/// KEDA counts it as visible and starts a second Job for it.
pub(crate) fn kd040(c: &Ctx) -> Finding {
    let f = F { code: "KD040" };
    let Some(sj) = c.scaler_object().filter(|s| s["kind"] == "ScaledJob") else {
        return f.na("a ScaledObject: no Jobs");
    };
    let Some(q) = c.queue else {
        return f.na("no queue");
    };
    let vt = or_skip!(f, c.visibility_timeout(q));
    let name = sj["metadata"]["name"].as_str().unwrap_or("?");
    let raise = format!(
        "or raise the visibility timeout above the longest Job: kedactl up --only queue --visibility-timeout <seconds> (now {vt})"
    );
    match sj["spec"]["jobTargetRef"]["activeDeadlineSeconds"].as_u64() {
        None => f.warn(
            vec![format!("ScaledJob {name} sets no jobTargetRef.activeDeadlineSeconds: a Job may run past the queue's visibility timeout ({vt} s), and its message is then delivered again to a second Job")],
            format!("set jobTargetRef.activeDeadlineSeconds to at most {vt}, {raise}"),
        ),
        Some(d) if d > vt => f.fail(
            vec![format!("ScaledJob {name}: a Job may run {d} s (activeDeadlineSeconds), the queue's visibility timeout is {vt} s: its message reappears after {vt} s and KEDA starts a duplicate Job")],
            format!("lower activeDeadlineSeconds to at most {vt}, {raise}"),
            vec![],
        ),
        Some(d) => f.ok(format!(
            "a Job runs at most {d} s (activeDeadlineSeconds), within the visibility timeout of {vt} s"
        )),
    }
}

/// SQS's default visibility timeout: without a processing time in the config, the floor below
/// which doctor warns (SQS developer guide, "Amazon SQS visibility timeout").
const VISIBILITY_FLOOR: u64 = 30;

pub(crate) fn kd041(c: &Ctx) -> Finding {
    let f = F { code: "KD041" };
    let Some(q) = c.queue else {
        return f.na("no queue");
    };
    let vt = or_skip!(f, c.visibility_timeout(q));
    let configured: u64 = q
        .attributes
        .get("VisibilityTimeout")
        .and_then(|v| v.parse().ok())
        .unwrap_or(VISIBILITY_FLOOR);
    let fix = format!(
        "set the visibility timeout to the app's longest processing time (receive to delete): kedactl up --only queue --visibility-timeout <seconds> (config: {configured})"
    );
    let mut evidence = Vec::new();
    if vt < configured {
        evidence.push(format!(
            "queue {} has a visibility timeout of {vt} s, the config says {configured} s",
            q.name
        ));
    }
    if vt < VISIBILITY_FLOOR {
        evidence.push(format!("{vt} s is below SQS's default of {VISIBILITY_FLOOR} s, and the config states no processing time to compare: a message the app holds longer becomes visible again, is processed twice and counted again by KEDA"));
    }
    if evidence.is_empty() {
        return f.ok(format!(
            "visibility timeout {vt} s (config {configured} s; the config states no processing time, so it is taken as the config's intent)"
        ));
    }
    f.warn(evidence, fix)
}

/// A RedrivePolicy whose deadLetterTargetArn names no queue: messages past maxReceiveCount have
/// nowhere to go.
pub(crate) fn kd042(c: &Ctx) -> Finding {
    let f = F { code: "KD042" };
    let queues = c.app_queues();
    if queues.is_empty() {
        return f.na("no queue");
    }
    let mut fails = Vec::new();
    let mut unknown = Vec::new();
    let mut ok = Vec::new();
    let mut repairs = Vec::new();
    let mut checked = 0;
    for q in queues {
        or_skip!(f, c.read_queue(&q.name));
        let Some(seen) = c.e.observed.queues.get(&q.name) else {
            continue;
        };
        checked += 1;
        let Some(arn) = crate::observed::dead_letter_arn(&seen.attributes) else {
            if q.attributes.contains_key("RedrivePolicy") {
                fails.push(format!("queue {} has no RedrivePolicy, the config gives it one: failing messages are never moved to the dead-letter queue", q.name));
                repairs.push(Repair::Converge(format!("queue:{}", q.name)));
            }
            continue;
        };
        let exists = match c.d.queues.iter().find(|d| d.arn == arn) {
            Some(d) => c
                .read_queue(&d.name)
                .map(|()| c.e.observed.queues.contains_key(&d.name)),
            None => {
                c.e.dead_letter_targets
                    .get(&arn)
                    .cloned()
                    .unwrap_or_else(|| Err(format!("{arn} was not looked up")))
            }
        };
        match exists {
            Ok(true) => ok.push(format!("{} → {arn}", q.name)),
            Ok(false) => {
                fails.push(format!("RedrivePolicy of queue {} names deadLetterTargetArn {arn}, which does not exist: messages past maxReceiveCount cannot be moved there", q.name));
                if let Some(d) = c.d.queues.iter().find(|d| d.arn == arn) {
                    repairs.push(Repair::Converge(format!("queue:{}", d.name)));
                }
            }
            Err(why) => unknown.push(why),
        }
    }
    if !fails.is_empty() {
        return f.fail(fails, "create the dead-letter queue (kedactl up --only queue when the config names it), or point the RedrivePolicy at an existing queue: aws sqs set-queue-attributes --queue-url <url> --attributes RedrivePolicy='{\"deadLetterTargetArn\":\"<existing queue ARN>\",\"maxReceiveCount\":\"5\"}'", repairs);
    }
    if let Some(why) = unknown.into_iter().next() {
        return f.skip(why);
    }
    if checked == 0 {
        return f.skip(match c.app {
            Some(_) => "the app's queue does not exist (see KD022)",
            None => "none of the config's queues exists (see KD022)",
        });
    }
    match ok.is_empty() {
        true => f.ok("no queue has a RedrivePolicy (the config declares no dead-letter queue)"),
        false => f.ok(format!("dead-letter queues exist: {}", ok.join(", "))),
    }
}
