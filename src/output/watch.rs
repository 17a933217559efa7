//! What `kedactl watch` shows: one snapshot of the queue, KEDA's view and the workload, as a
//! screen (terminal), a line (logs) or JSON. Gathering lives in the command; this is pure.

use crate::scaling::QueueDepth;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Seconds since the watch started.
    pub t: u64,
    pub queue: String,
    pub depth: QueueDepth,
    /// What KEDA's scaler reports (visible, plus in-flight/delayed when configured).
    pub metric: u64,
    /// Steady-state replicas KEDA and the HPA aim for: ceil(metric/queueLength) in [min, max].
    pub target: u32,
    /// A trigger other than SQS: what its metric read (`queue` then names its source and
    /// `depth` stays empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaler: Option<Scaler>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa: Option<Hpa>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<Workload>,
    /// Why the cluster part is missing (no access, --no-cluster, not found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Scaler {
    /// `ScaledObject security/name`.
    pub name: String,
    /// Condition statuses: "True", "False", "Unknown", or "-" when absent.
    pub ready: String,
    pub active: String,
    pub fallback: String,
    /// The message of a condition that is not healthy (Ready False, Fallback True).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hpa {
    pub name: String,
    pub current: u32,
    pub desired: u32,
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// `Deployment security/q-read`.
    pub name: String,
    pub desired: u32,
    pub ready: u32,
    pub pods_running: u32,
    pub pods_pending: u32,
    pub pods_other: u32,
}

/// A scaler's view from its status conditions.
pub fn scaler(name: String, object: &serde_json::Value) -> Scaler {
    let conditions = object["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let get = |t: &str| conditions.iter().find(|c| c["type"] == t);
    let status = |t: &str| {
        get(t)
            .and_then(|c| c["status"].as_str())
            .unwrap_or("-")
            .to_string()
    };
    let problem = [("Ready", "False"), ("Fallback", "True")]
        .iter()
        .find_map(|(t, bad)| {
            get(t)
                .filter(|c| c["status"] == *bad)
                .and_then(|c| c["message"].as_str())
                .map(str::to_string)
        });
    Scaler {
        name,
        ready: status("Ready"),
        active: status("Active"),
        fallback: status("Fallback"),
        problem,
    }
}

/// The screen: a few aligned lines.
pub fn screen(s: &Snapshot) -> String {
    let mut out = match &s.reading {
        Some(r) => format!("{}: {r}  → metric {}\n", s.queue, s.metric),
        None => format!(
            "queue {:<28} visible {:>6}  in flight {:>6}  delayed {:>6}  → metric {}\n",
            s.queue, s.depth.visible, s.depth.in_flight, s.depth.delayed, s.metric
        ),
    };
    out.push_str(&format!("KEDA target   {} replicas\n", s.target));
    if let Some(sc) = &s.scaler {
        out.push_str(&format!(
            "{:<44} Ready {:<7} Active {:<7} Fallback {}\n",
            sc.name, sc.ready, sc.active, sc.fallback
        ));
        if let Some(p) = &sc.problem {
            out.push_str(&format!("  ! {p}\n"));
        }
    }
    if let Some(h) = &s.hpa {
        out.push_str(&format!(
            "HPA {:<40} replicas {} → {}  (min {}, max {})\n",
            h.name, h.current, h.desired, h.min, h.max
        ));
    }
    if let Some(w) = &s.workload {
        out.push_str(&format!(
            "{:<44} {} desired, {} ready   pods: {} running, {} pending{}\n",
            w.name,
            w.desired,
            w.ready,
            w.pods_running,
            w.pods_pending,
            if w.pods_other > 0 {
                format!(", {} other", w.pods_other)
            } else {
                String::new()
            }
        ));
    }
    if let Some(n) = &s.cluster_note {
        out.push_str(&format!("cluster: {n}\n"));
    }
    out
}

/// The screen's first line: what is watched, how often, and when it was last refreshed (UTC), so
/// a screen left open after the network dropped does not pass for a live one.
pub fn header(what: &str, interval: u64, now: std::time::SystemTime) -> String {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!(
        "kedactl watch: {what} every {interval} s, refreshed {:02}:{:02}:{:02} UTC (Ctrl-C to stop)",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// One line per refresh, for logs.
pub fn line(s: &Snapshot) -> String {
    let mut out = match &s.reading {
        Some(_) => format!("t={}s metric={} target={}", s.t, s.metric, s.target),
        None => format!(
            "t={}s visible={} in_flight={} delayed={} metric={} target={}",
            s.t, s.depth.visible, s.depth.in_flight, s.depth.delayed, s.metric, s.target
        ),
    };
    if let Some(sc) = &s.scaler {
        out.push_str(&format!(" ready={} active={}", sc.ready, sc.active));
    }
    if let Some(h) = &s.hpa {
        out.push_str(&format!(" hpa={}→{}", h.current, h.desired));
    }
    if let Some(w) = &s.workload {
        out.push_str(&format!(
            " replicas={}/{} pods_running={}",
            w.ready, w.desired, w.pods_running
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Snapshot {
        Snapshot {
            t: 10,
            queue: "event-messages-queue".into(),
            depth: QueueDepth {
                visible: 23,
                in_flight: 2,
                delayed: 0,
            },
            metric: 23,
            target: 5,
            reading: None,
            scaler: Some(scaler(
                "ScaledObject security/k8s-sqs-read-msg-keda".into(),
                &json!({"status": {"conditions": [
                    {"type": "Ready", "status": "False", "message": "error getting queue attributes: AccessDenied"},
                    {"type": "Active", "status": "True"}
                ]}}),
            )),
            hpa: Some(Hpa {
                name: "keda-hpa-k8s-sqs-read-msg-keda".into(),
                current: 4,
                desired: 5,
                min: 1,
                max: 10,
            }),
            workload: Some(Workload {
                name: "Deployment security/q-read".into(),
                desired: 5,
                ready: 4,
                pods_running: 4,
                pods_pending: 1,
                pods_other: 0,
            }),
            cluster_note: None,
        }
    }

    #[test]
    fn conditions_become_statuses_and_the_problem_is_quoted() {
        let s = snapshot();
        let sc = s.scaler.as_ref().unwrap();
        assert_eq!(
            (sc.ready.as_str(), sc.active.as_str(), sc.fallback.as_str()),
            ("False", "True", "-")
        );
        assert_eq!(
            sc.problem.as_deref(),
            Some("error getting queue attributes: AccessDenied")
        );
    }

    #[test]
    fn the_header_says_when_the_screen_was_refreshed() {
        // 2026-12-07T10:42:07Z
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_640_127);
        assert_eq!(
            header("Deployment security/q-read", 5, at),
            "kedactl watch: Deployment security/q-read every 5 s, refreshed 10:42:07 UTC (Ctrl-C to stop)"
        );
    }

    #[test]
    fn screen_and_line_show_every_part() {
        let s = snapshot();
        let text = screen(&s);
        assert!(text.contains("visible     23  in flight      2"), "{text}");
        assert!(text.contains("KEDA target   5 replicas"), "{text}");
        assert!(
            text.contains("  ! error getting queue attributes: AccessDenied"),
            "{text}"
        );
        assert!(text.contains("replicas 4 → 5  (min 1, max 10)"), "{text}");
        assert!(
            text.contains("5 desired, 4 ready   pods: 4 running, 1 pending"),
            "{text}"
        );
        assert_eq!(
            line(&s),
            "t=10s visible=23 in_flight=2 delayed=0 metric=23 target=5 ready=False active=True hpa=4→5 replicas=4/5 pods_running=4"
        );
        let bare = Snapshot {
            cluster_note: Some("not reached (--no-cluster)".into()),
            ..Snapshot::default()
        };
        assert!(screen(&bare).ends_with("cluster: not reached (--no-cluster)\n"));
    }

    #[test]
    fn a_reading_replaces_the_queue_counts() {
        let mut s = snapshot();
        s.queue = "AMP workspace w: sum(x)".into();
        s.depth = QueueDepth::default();
        s.metric = 750;
        s.reading = Some("query value 0.75".into());
        assert!(
            screen(&s).starts_with("AMP workspace w: sum(x): query value 0.75  → metric 750\n")
        );
        assert!(line(&s).starts_with("t=10s metric=750 target=5"));
    }
}
