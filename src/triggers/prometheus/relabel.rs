//! Test oracle: what the AMP scraper collects from the rendered pods. Prometheus's Kubernetes
//! service discovery (the `pod` and `endpoints` roles) and its relabelling (`keep`, `drop`,
//! `replace`; `model/relabel/relabel.go`: source values joined by `;`, the regex anchored at
//! both ends, `$1` expanded, an empty result removes the label) applied to the scrape
//! configuration kedactl gives the scraper, so a test can say which job scrapes which target.

use serde_json::Value;
use std::collections::BTreeMap;

type Labels = BTreeMap<String, String>;

/// A label name as Prometheus derives it from an annotation or label key.
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The meta labels every target of a pod carries (pod role, and endpoints backed by a pod).
fn pod_meta(pod: &Value, namespace: &str, name: &str, ip: &str) -> Labels {
    let mut l = Labels::new();
    l.insert("__meta_kubernetes_namespace".into(), namespace.into());
    l.insert("__meta_kubernetes_pod_name".into(), name.into());
    l.insert("__meta_kubernetes_pod_ip".into(), ip.into());
    let meta = &pod["metadata"];
    for (field, prefix) in [("labels", "label"), ("annotations", "annotation")] {
        for (k, v) in meta[field].as_object().into_iter().flatten() {
            let k = sanitize(k);
            l.insert(
                format!("__meta_kubernetes_pod_{prefix}_{k}"),
                v.as_str().unwrap_or_default().into(),
            );
            l.insert(
                format!("__meta_kubernetes_pod_{prefix}present_{k}"),
                "true".into(),
            );
        }
    }
    l
}

/// The `pod` role's targets of a pod template: one per declared container port, or one
/// port-less target per container that declares none.
pub fn pod_targets(template: &Value, namespace: &str, name: &str, ip: &str) -> Vec<Labels> {
    let base = pod_meta(template, namespace, name, ip);
    let mut out = Vec::new();
    for c in template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let mut t = base.clone();
        t.insert(
            "__meta_kubernetes_pod_container_name".into(),
            c["name"].as_str().unwrap_or_default().into(),
        );
        let ports = c["ports"].as_array().cloned().unwrap_or_default();
        if ports.is_empty() {
            t.insert("__address__".into(), ip.into());
            out.push(t);
            continue;
        }
        for p in ports {
            let mut t = t.clone();
            let port = p["containerPort"].as_u64().unwrap_or_default();
            t.insert("__address__".into(), format!("{ip}:{port}"));
            t.insert(
                "__meta_kubernetes_pod_container_port_number".into(),
                port.to_string(),
            );
            out.push(t);
        }
    }
    out
}

/// The `endpoints` role's target for a Service port backed by this pod.
pub fn endpoint_target(
    template: &Value,
    namespace: &str,
    name: &str,
    ip: &str,
    service: &str,
    service_annotations: &[(&str, &str)],
    port: u16,
) -> Labels {
    let mut t = pod_meta(template, namespace, name, ip);
    t.insert("__address__".into(), format!("{ip}:{port}"));
    t.insert("__meta_kubernetes_service_name".into(), service.into());
    for (k, v) in service_annotations {
        t.insert(
            format!("__meta_kubernetes_service_annotation_{}", sanitize(k)),
            v.to_string(),
        );
    }
    t
}

/// One job's relabelling of a target: the labels it ends with, or None when it drops it.
pub fn relabel(job: &Value, target: &Labels) -> Option<Labels> {
    let mut l = target.clone();
    l.entry("__metrics_path__".into())
        .or_insert_with(|| job["metrics_path"].as_str().unwrap_or("/metrics").into());
    for rule in job["relabel_configs"].as_array().into_iter().flatten() {
        let sep = rule["separator"].as_str().unwrap_or(";");
        let value = rule["source_labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                l.get(s.as_str().unwrap_or_default())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(sep);
        let pattern = rule["regex"].as_str().unwrap_or("(.*)");
        let re = regex_lite::Regex::new(&format!("^(?s:{pattern})$")).expect("a valid regex");
        let caps = re.captures(&value);
        match rule["action"].as_str().unwrap_or("replace") {
            "keep" if caps.is_none() => return None,
            "drop" if caps.is_some() => return None,
            "keep" | "drop" => {}
            "replace" => {
                if let Some(caps) = caps {
                    let mut out = String::new();
                    caps.expand(rule["replacement"].as_str().unwrap_or("$1"), &mut out);
                    let target = rule["target_label"]
                        .as_str()
                        .expect("replace names a target");
                    match out.is_empty() {
                        true => l.remove(target),
                        false => l.insert(target.into(), out),
                    };
                }
            }
            other => panic!("relabel action {other} is not modelled"),
        }
    }
    Some(l)
}

/// The jobs discovering with `role` (`pod`, `endpoints`) that keep `target`, with its labels
/// after each (meta labels dropped, as Prometheus drops `__`-prefixed labels; `__address__`
/// and `__metrics_path__` kept: they make the URL).
pub fn scraped_by(config: &Value, role: &str, target: &Labels) -> Vec<(String, Labels)> {
    config["scrape_configs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|job| job["kubernetes_sd_configs"][0]["role"] == role)
        .filter_map(|job| {
            let mut l = relabel(job, target)?;
            l.retain(|k, _| !k.starts_with("__meta_"));
            Some((job["job_name"].as_str().unwrap_or_default().to_string(), l))
        })
        .collect()
}
