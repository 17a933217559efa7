//! Checks of the triggers other than SQS (whose queue has checks of its own): the source each
//! reads exists and is ready, KEDA's session may read it, the live trigger is the config's, and
//! the metric reads as KEDA's scaler reads it. They work from what each kind declares
//! (`Trigger::resources`, `needs`, `metadata`, `metric`), so a new kind gets them for free.

use super::*;
use crate::render::TriggerUse;
use crate::triggers::{Kind, resource};

/// The app's trigger when it is not SQS (every such app's for a stack context).
fn others<'a>(c: &Ctx<'a>) -> Vec<&'a TriggerUse> {
    c.d.triggers
        .iter()
        .filter(|t| t.kind != Kind::Sqs && c.app.is_none_or(|a| a.app == t.app))
        .collect()
}

pub(crate) fn kd046(c: &Ctx) -> Finding {
    let f = F { code: "KD046" };
    let wanted: Vec<&crate::triggers::Resource> =
        c.d.resources
            .iter()
            .filter(|r| others(c).iter().any(|t| t.resources.contains(&r.id())))
            .collect();
    if wanted.is_empty() {
        return f.na("no trigger reads a resource besides SQS queues");
    }
    let (mut ok, mut bad, mut pending) = (Vec::new(), Vec::new(), false);
    let mut repairs = Vec::new();
    for r in wanted {
        or_skip!(f, c.read(|res| res == r.describe()));
        match c.e.observed.resources.get(&r.id()) {
            None => {
                bad.push(format!(
                    "{} does not exist in {}{}",
                    r.describe(),
                    c.d.target.region,
                    if r.managed {
                        ""
                    } else {
                        " (the config names it by id)"
                    }
                ));
                if r.managed {
                    repairs.push(Repair::Converge(r.id()));
                }
            }
            Some(live) => match resource::ready(r.kind, &live.status) {
                _ if r.managed && resource::drift(r, live).is_some() => {
                    let why = resource::drift(r, live).unwrap_or_default();
                    bad.push(format!("{} ({}): {why}", r.describe(), live.id));
                }
                Some(true) => ok.push(format!("{} ({}) is {}", r.describe(), live.id, live.status)),
                None => {
                    pending = true;
                    bad.push(format!(
                        "{} ({}) is {}: {} until it is ready",
                        r.describe(),
                        live.id,
                        live.status,
                        r.kind.until_ready()
                    ));
                }
                Some(false) => bad.push(format!(
                    "{} ({}) is {}, not usable{}",
                    r.describe(),
                    live.id,
                    live.status,
                    live.reason
                        .as_deref()
                        .map(|why| format!(": {why}"))
                        .unwrap_or_default()
                )),
            },
        }
    }
    if bad.is_empty() {
        return f.ok(ok.join("; "));
    }
    if pending && repairs.is_empty() {
        return f.warn(
            bad,
            "wait for it to become ready, then run kedactl doctor again",
        );
    }
    f.fail(bad, logs::fix::SOURCE, repairs)
}

pub(crate) fn kd047(c: &Ctx) -> Finding {
    let f = F { code: "KD047" };
    let uses = others(c);
    if uses.is_empty() {
        return f.na("no trigger besides SQS (KD015 checks the queue read)");
    }
    let (mut ok, mut bad, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    let mut repairs = Vec::new();
    for t in uses {
        or_skip!(f, c.read_role(&t.role));
        let Some(role) = c.e.observed.roles.get(&t.role) else {
            bad.push(format!(
                "IAM role {} (the TriggerAuthentication's roleArn) does not exist",
                t.role
            ));
            repairs.push(Repair::Converge(format!("iam:role/{}", t.role)));
            continue;
        };
        for (action, arn) in &t.needs {
            let session = c.operator_session(&role.arn, arn);
            if arn.contains(resource::PLACEHOLDER) {
                return f.skip(format!(
                    "{arn} does not exist yet, so no grant can name it (see KD046)"
                ));
            }
            let v = c.permits(role, action, arn, &session);
            match v.decision {
                Decision::Allow => ok.push(format!("{} may {action} on {arn}", t.role)),
                Decision::Unknown => {
                    unknown.push(format!("{} {action} on {arn}: {}", t.role, v.describe()))
                }
                _ => {
                    bad.push(format!(
                        "{} may not {action} on {arn}: {}",
                        t.role,
                        v.describe()
                    ));
                    repairs.push(Repair::Converge(format!("iam:role/{}/policy", t.role)));
                }
            }
        }
        // KEDA drops the body of a refused query and logs only the status: the principal is
        // the session KEDA signed with, the TriggerAuthentication's roleArn.
        if t.kind == Kind::Prometheus
            && let Some(line) = logs::find(
                c.operator_log(),
                &["prometheus query api returned error. status: 403"],
            )
        {
            bad.push(format!(
                "KEDA log: {} — AMP refused the query signed as {} (KEDA's session for roleArn): it lacks aps:QueryMetrics on the workspace, or the workspace is in another account or region than awsRegion",
                line.trim(),
                c.role_arn().unwrap_or_else(|| t.role.clone())
            ));
        }
    }
    if !bad.is_empty() {
        return f.fail(bad, logs::fix::SOURCE_READ, repairs);
    }
    if !unknown.is_empty() {
        return f.warn(unknown, "check the role's policies and boundary by hand");
    }
    f.ok(ok.join("; "))
}

pub(crate) fn kd048(c: &Ctx) -> Finding {
    let f = F { code: "KD048" };
    if others(c).is_empty() {
        return f.na("no trigger besides SQS (KD021–KD023 check the queue's)");
    }
    let cluster = or_skip!(f, c.objects());
    let (Some(live), Some(want)) = (cluster.scaler.as_ref(), c.scaler) else {
        return f.skip("the app's ScaledObject was not found in the cluster (see KD017)");
    };
    let first = |s: &'_ Value| s["spec"]["triggers"][0].clone();
    let (live, want) = (first(live), first(want));
    let mut diffs = Vec::new();
    if live["type"] != want["type"] {
        diffs.push(format!(
            "the trigger's type is {} live, the config renders {}",
            live["type"], want["type"]
        ));
    }
    if let Some(fields) = want["metadata"].as_object() {
        for (k, v) in fields {
            if live["metadata"][k] != *v {
                diffs.push(format!(
                    "{k} is {} live, the config renders {v}",
                    match &live["metadata"][k] {
                        Value::Null => "unset".to_string(),
                        other => other.to_string(),
                    }
                ));
            }
        }
    }
    if diffs.is_empty() {
        return f.ok(format!(
            "the live {} trigger matches the config ({})",
            want["type"].as_str().unwrap_or(""),
            want["metadata"]["serverAddress"]
                .as_str()
                .or(want["metadata"]["awsRegion"].as_str())
                .unwrap_or("")
        ));
    }
    f.fail(
        diffs,
        "kedactl up --only app (applies the trigger the config renders), or correct kedactl.yaml if the live one is right",
        vec![c.scaler_step()],
    )
}

pub(crate) fn kd049(c: &Ctx) -> Finding {
    let f = F { code: "KD049" };
    if others(c).is_empty() {
        return f.na("no trigger besides SQS (the queue checks read its depth)");
    }
    or_skip!(f, c.aws());
    if c.e.metric_reads.is_empty() {
        return f.skip("the metric was not read (--only without source)");
    }
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    let mine = others(c);
    let reads =
        c.e.metric_reads
            .iter()
            .filter(|(app, _)| mine.iter().any(|t| &t.app == *app));
    for (app, read) in reads {
        match read {
            Ok(detail) => ok.push(format!("{app}: {detail}")),
            // The caller's own refusal says nothing about KEDA's session (KD047 does).
            Err((Some(403), why)) => {
                return f.skip(format!("your credentials may not read it ({why})"));
            }
            Err((_, why)) => bad.push(format!("{app}: {why}")),
        }
    }
    if !bad.is_empty() {
        return f.fail(
            bad,
            "make the query return exactly one element (aggregate with sum() or max()), and check the source exists (KD046)",
            vec![],
        );
    }
    // KEDA reads an empty answer as 0: a prometheus app is judged by the series it finds.
    let (mut empty, mut unread) = (Vec::new(), Vec::new());
    for t in mine.iter().filter(|t| t.kind == Kind::Prometheus) {
        match c.e.scraped.get(&t.app) {
            Some(Ok(s)) if s.series > 0 => ok.push(format!("{}: {} series", t.app, s.series)),
            Some(Ok(s)) => empty.push((t.app.as_str(), s.up.as_deref())),
            Some(Err(why)) => unread.push(format!("{}: {why}", t.app)),
            None => {}
        }
    }
    let scraping = |up: &[f64]| up.iter().filter(|v| **v == 1.0).count();
    let unscraped: Vec<String> = empty
        .iter()
        .filter_map(|(app, up)| match up {
            Some([]) => Some(format!(
                "{app}: the query returns no series, and the workspace has no `up` of the app's pods: nothing collects its metrics, and KEDA reads 0, so it never scales"
            )),
            Some(up) if scraping(up) == 0 => Some(format!(
                "{app}: the scraper finds {} of the app's pods but cannot scrape them (up 0): KEDA reads 0, so it never scales",
                up.len()
            )),
            _ => None,
        })
        .collect();
    if !unscraped.is_empty() {
        return f.fail(
            unscraped,
            "set apps[].prometheus.metricsPort (and metricsPath) to where the app serves its metrics, then kedactl up --only app; the pods need the prometheus.io/* annotations kedactl renders",
            vec![],
        );
    }
    let quiet: Vec<String> = empty
        .iter()
        .map(|(app, up)| match up {
            Some(up) => format!(
                "{app}: the query returns no series although {} of the app's pods are scraped: KEDA reads 0 until it does",
                scraping(up)
            ),
            None => format!(
                "{app}: the query returns no series: KEDA reads 0 (ignoreNullValues), and kedactl cannot tell which labels your collector sets"
            ),
        })
        .collect();
    if !quiet.is_empty() {
        return f.warn(
            quiet,
            "check the query's metric name and labels against what the app serves (curl <pod>:<metricsPort><metricsPath>), or send it traffic: a counter appears on its first increment",
        );
    }
    if !unread.is_empty() {
        return f.skip(format!(
            "could not read the app's series: {}",
            unread.join("; ")
        ));
    }
    f.ok(format!("read as KEDA reads it: {}", ok.join("; ")))
}

/// An IAM role ARN without its path, as EKS names a principal (`role/aws-service-role/…/X` →
/// `role/X`).
fn without_path(arn: &str) -> String {
    match arn.split_once(":role/") {
        Some((head, path)) => format!("{head}:role/{}", path.rsplit('/').next().unwrap_or(path)),
        None => arn.to_string(),
    }
}

pub(crate) fn kd050(c: &Ctx) -> Finding {
    let f = F { code: "KD050" };
    let scrapers: Vec<&crate::triggers::Resource> =
        c.d.resources
            .iter()
            .filter(|r| r.kind == resource::Kind::AmpScraper)
            .collect();
    if scrapers.is_empty() {
        return f.na("no AMP scraper in this config (collector: scraper)");
    }
    let Some(cluster) = &c.e.observed.cluster else {
        return f.skip(format!("EKS cluster {} was not read", c.d.cluster));
    };
    if let Some(why) = crate::triggers::prometheus::scraper::blocked(&c.d.cluster, cluster)
        .filter(|_| cluster.authentication_mode.as_deref() == Some("CONFIG_MAP"))
    {
        let (why, fix) = why.split_once("\n  fix: ").unwrap_or((&why, ""));
        return f.fail(vec![why.to_string()], fix, vec![]);
    }
    let entries = match &c.e.access_entries {
        Some(Ok(entries)) => entries,
        Some(Err(why)) => {
            return f.skip(format!(
                "could not list the cluster's access entries: {why}"
            ));
        }
        None => return f.skip("the cluster's access entries were not read"),
    };
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for r in scrapers {
        or_skip!(f, c.read(|res| res == r.describe()));
        let Some(live) = c.e.observed.resources.get(&r.id()) else {
            return f.skip(format!("{} does not exist (KD046)", r.describe()));
        };
        let role = live.settings["roleArn"].as_str().unwrap_or_default();
        if live.status != "ACTIVE" || role.is_empty() {
            return f.skip(format!("{} is {} (KD046)", r.describe(), live.status));
        }
        if entries
            .iter()
            .any(|e| e == role || *e == without_path(role))
        {
            ok.push(format!(
                "{} runs as {}, which has an access entry on EKS cluster {}",
                r.describe(),
                without_path(role),
                c.d.cluster
            ));
        } else {
            bad.push(format!(
                "{} ({}) runs as {}, which has no access entry on EKS cluster {}: it can list and scrape nothing, and the workspace gets no data",
                r.describe(),
                live.id,
                without_path(role),
                c.d.cluster
            ));
        }
    }
    if bad.is_empty() {
        return f.ok(ok.join("; "));
    }
    f.fail(
        bad,
        "AMP creates the entry with the scraper: delete the scraper (aws amp delete-scraper --scraper-id <id>) and run kedactl up again",
        vec![],
    )
}
