//! Before `--fix` repairs anything, the config must describe what is live. A config that names
//! another region, a FIFO queue for a standard one, or a role the TriggerAuthentication does not
//! use would have `--fix` build a second stack beside the working one and move its permissions
//! there. Each disagreement is evidence with both values; any one of them stops the repairs.

use super::Evidence;
use crate::render::{Desired, TriggerUse};
use serde_json::Value;

/// Where the configured queue is, when the configured region lacks it (gathered only then).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elsewhere {
    /// (region, URL) of a queue with the configured name in other regions.
    pub regions: Vec<(String, String)>,
    /// The URL of its FIFO/standard twin (`name` ⇄ `name.fifo`) in the configured region.
    pub twin: Option<String>,
    /// Regions that did not answer (not enabled, or a network failure).
    pub unanswered: Vec<String>,
}

/// The twin name: a standard queue's FIFO counterpart or the reverse.
pub fn twin(name: &str) -> String {
    match name.strip_suffix(".fifo") {
        Some(base) => base.to_string(),
        None => format!("{name}.fifo"),
    }
}

/// Every way the config disagrees with what is live, over every app, each line naming its app
/// when the stack has several.
pub fn mismatches(d: &Desired, e: &Evidence) -> Vec<String> {
    d.triggers
        .iter()
        .flat_map(|app| {
            let name = (d.triggers.len() > 1).then(|| format!("app {}: ", app.name));
            app_mismatches(d, e, app)
                .into_iter()
                .map(move |m| format!("{}{m}", name.as_deref().unwrap_or("")))
        })
        .collect()
}

/// Every way the config disagrees with what is live for one app, in words, with both values.
pub fn app_mismatches(d: &Desired, e: &Evidence, app: &TriggerUse) -> Vec<String> {
    let mut out = Vec::new();
    let rendered = |kind: &str, name: &str| app.manifest(d, kind, name);
    let trigger = |o: &Value| -> Option<Value> {
        o["spec"]["triggers"]
            .as_array()?
            .iter()
            .find(|t| t["type"].as_str().is_some_and(|t| t.starts_with("aws-")))
            .or_else(|| o["spec"]["triggers"].get(0))
            .cloned()
    };
    let live = e.cluster.as_ref().and_then(|c| c.apps.get(&app.app));
    let want_scaler = rendered(&app.scaler.0, &app.scaler.1);
    if let (Some(have), Some(want)) = (live.and_then(|c| c.scaler.as_ref()), want_scaler) {
        let (have, want) = (trigger(have), trigger(want));
        let field = |t: &Option<Value>, f: &str| {
            t.as_ref()
                .and_then(|t| t["metadata"][f].as_str().or(t[f].as_str()))
                .map(str::to_string)
        };
        // A field missing or malformed on the live object is drift of our own object, which
        // `--fix` repairs; a well-formed value naming something else is another stack.
        let well_formed =
            |path: &str, v: &str| path != "queueURL" || super::checks::parse_queue_url(v).is_some();
        for (what, path) in [
            ("trigger type", "type"),
            ("queueURL", "queueURL"),
            ("awsRegion", "awsRegion"),
        ] {
            if let (Some(h), Some(w)) = (field(&have, path), field(&want, path))
                && h != w
                && well_formed(path, &h)
            {
                out.push(format!(
                    "the live ScaledObject's {what} is {h}, the config renders {w}"
                ));
            }
        }
    }
    let want_role = rendered("TriggerAuthentication", &app.trigger_auth)
        .and_then(|t| t["spec"]["podIdentity"]["roleArn"].as_str());
    let have_role = live
        .and_then(|c| c.trigger_auth.as_ref())
        .and_then(|t| t["spec"]["podIdentity"]["roleArn"].as_str());
    if let (Some(h), Some(w)) = (have_role, want_role)
        && h != w
    {
        out.push(format!(
            "the live TriggerAuthentication's roleArn is {h}, the config renders {w}"
        ));
    }
    if let Some(q) = &app.queue
        && let Some(elsewhere) = e.queue_elsewhere.get(q)
    {
        let region = &d.target.region;
        for (other, url) in &elsewhere.regions {
            out.push(format!(
                "queue {q} does not exist in {region} (the config's region), but it does in {other}: {url}"
            ));
        }
        if let Some(url) = &elsewhere.twin {
            let (want, have) = match q.ends_with(".fifo") {
                true => ("a FIFO queue", "a standard queue"),
                false => ("a standard queue", "a FIFO queue"),
            };
            out.push(format!(
                "the config names {want}, {q}, but what exists in {region} is {have}: {url}"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{AppObjects, ClusterEvidence};
    use serde_json::json;

    fn desired() -> Desired {
        let spec = crate::spec::Spec {
            cluster: Some("demo".into()),
            region: Some("us-west-2".into()),
            account: Some("123456789012".into()),
            ..crate::spec::Spec::default()
        };
        crate::render::desired(&spec).unwrap()
    }

    fn live(d: &Desired) -> Evidence {
        let find = |k: &str| d.manifests.iter().find(|m| m["kind"] == k).cloned();
        let objects = AppObjects {
            scaler: find("ScaledObject"),
            trigger_auth: find("TriggerAuthentication"),
            ..AppObjects::default()
        };
        Evidence {
            cluster: Some(ClusterEvidence {
                apps: [(d.triggers[0].app.clone(), objects)].into(),
                ..ClusterEvidence::default()
            }),
            ..Evidence::default()
        }
    }

    #[test]
    fn a_config_that_matches_what_is_live_passes() {
        let d = desired();
        assert!(mismatches(&d, &live(&d)).is_empty());
        assert!(mismatches(&d, &Evidence::default()).is_empty());
        assert_eq!(twin("q"), "q.fifo");
        assert_eq!(twin("q.fifo"), "q");
    }

    #[test]
    fn each_disagreement_names_both_values() {
        let d = desired();
        let mut e = live(&d);
        let app = d.triggers[0].app.clone();
        let cl = e.cluster.as_mut().unwrap().apps.get_mut(&app).unwrap();
        let so = cl.scaler.as_mut().unwrap();
        so["spec"]["triggers"][0]["metadata"]["awsRegion"] = json!("us-east-1");
        so["spec"]["triggers"][0]["metadata"]["queueURL"] =
            json!("https://sqs.us-east-1.amazonaws.com/123456789012/event-messages-queue");
        cl.trigger_auth.as_mut().unwrap()["spec"]["podIdentity"]["roleArn"] =
            json!("arn:aws:iam::123456789012:role/other");
        let q = d.triggers[0].queue.clone().unwrap();
        let elsewhere = Elsewhere {
            regions: vec![(
                "us-east-1".into(),
                "https://sqs.us-east-1.amazonaws.com/123456789012/event-messages-queue".into(),
            )],
            twin: Some(
                "https://sqs.us-west-2.amazonaws.com/123456789012/event-messages-queue.fifo".into(),
            ),
            unanswered: vec![],
        };
        e.queue_elsewhere = [(q, elsewhere)].into();
        let m = mismatches(&d, &e);
        assert_eq!(m.len(), 5, "{m:#?}");
        assert!(
            m[0].contains("queueURL is https://sqs.us-east-1")
                && m[0].contains("renders https://sqs.us-west-2"),
            "{}",
            m[0]
        );
        assert!(
            m[1].contains("awsRegion is us-east-1, the config renders us-west-2"),
            "{}",
            m[1]
        );
        assert!(
            m[2].contains("roleArn is arn:aws:iam::123456789012:role/other"),
            "{}",
            m[2]
        );
        assert!(m[3].contains("does not exist in us-west-2 (the config's region), but it does in us-east-1: https://sqs.us-east-1"), "{}", m[3]);
        assert!(m[4].contains("the config names a standard queue, event-messages-queue, but what exists in us-west-2 is a FIFO queue"), "{}", m[4]);
    }
}
