//! The AMP managed scraper (`prometheus.collector: scraper`, the default): an agentless
//! collector AMP runs in the cluster's VPC, which scrapes the pods and Services that ask for it
//! (`templates/scrape-config.yaml`) and writes into the workspace. One per cluster and workspace.
//!
//! Access: in authentication mode API or API_AND_CONFIG_MAP, AMP gives the scraper's
//! service-linked role an access entry on the cluster itself; with CONFIG_MAP only it cannot,
//! and kedactl refuses rather than create a scraper that could read nothing (it does not edit
//! aws-auth). AMP also needs the cluster's private endpoint and two subnets (two AZs).
//! This is the scraper as the plan sees it; `aws::scraper` makes the calls.

use crate::observed::{Cluster, Resource as Live};
use crate::templates::{self, RenderError};
use crate::triggers::resource::{self, Resource};
use serde_json::{Value, json};

/// Longest scraper alias AMP accepts.
const MAX_ALIAS: usize = 100;
/// The scraper's alias for `cluster` and the workspace's alias or id: `kedactl-<cluster>-<ws>`,
/// with what AMP does not accept in an alias (`[0-9A-Za-z][-.0-9A-Z_a-z]*`) turned into `-`.
pub fn alias(cluster: &str, workspace: &str) -> String {
    format!("kedactl-{cluster}-{workspace}")
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '_' => c,
            _ => '-',
        })
        .take(MAX_ALIAS)
        .collect()
}

/// The scraper the config wants: settings are what CreateScraper needs besides the cluster's
/// network (read from DescribeCluster when it runs). `workspace_arn` may hold the workspace's
/// placeholder; the executor fills it in.
pub fn resource(
    cluster: &str,
    cluster_arn: &str,
    workspace: &str,
    workspace_arn: String,
) -> Result<Resource, RenderError> {
    let config = templates::text(
        "scrape-config.yaml",
        &json!({ "cluster": cluster, "cluster_arn": cluster_arn }),
    )?;
    Ok(Resource {
        kind: resource::Kind::AmpScraper,
        name: alias(cluster, workspace),
        managed: true,
        settings: json!({
            "clusterArn": cluster_arn,
            "workspaceArn": workspace_arn,
            "scrapeConfiguration": config,
        }),
    })
}

/// A setting of the scraper's `Resource::settings` (empty when absent).
pub fn setting<'a>(settings: &'a Value, key: &str) -> &'a str {
    settings[key].as_str().unwrap_or_default()
}

/// Why AMP could not scrape this cluster, with the fix; None when nothing is known against it.
pub fn blocked(cluster_name: &str, c: &Cluster) -> Option<String> {
    if c.authentication_mode.as_deref() == Some("CONFIG_MAP") {
        return Some(format!(
            "EKS cluster {cluster_name} grants access through the aws-auth ConfigMap only (authenticationMode CONFIG_MAP), \
             so AMP cannot give the scraper the access entry it needs to read the cluster\n  \
             fix: allow access entries with `aws eks update-cluster-config --name {cluster_name} --access-config authenticationMode=API_AND_CONFIG_MAP` \
             (aws-auth keeps working; the change cannot be undone), or set apps[].prometheus.collector: none and run your own collector"
        ));
    }
    if (1..2).contains(&c.subnet_ids.len()) {
        return Some(format!(
            "EKS cluster {cluster_name} has one subnet, and an AMP scraper needs subnets in two Availability Zones\n  \
             fix: set apps[].prometheus.collector: none and run your own collector"
        ));
    }
    if c.endpoint_private_access == Some(false) {
        return Some(format!(
            "the scraper reaches the API server from inside the VPC, and EKS cluster {cluster_name} has no private endpoint\n  \
             fix: `aws eks update-cluster-config --name {cluster_name} --resources-vpc-config endpointPrivateAccess=true`, \
             or set apps[].prometheus.collector: none"
        ));
    }
    None
}

/// A live scraper that is ours but scrapes another cluster or writes to another workspace than
/// the config's (the workspace was re-created): AMP cannot change either in place.
pub fn drift(want: &Value, live: &Live) -> Option<String> {
    let differs = |key: &str| {
        let (w, l) = (setting(want, key), setting(&live.settings, key));
        !w.is_empty() && !l.is_empty() && !w.contains(resource::PLACEHOLDER) && w != l
    };
    let (key, noun) = if differs("workspaceArn") {
        ("workspaceArn", "workspace")
    } else if differs("clusterArn") {
        ("clusterArn", "cluster")
    } else {
        return None;
    };
    Some(format!(
        "it writes from {} to {}, not to {} as the config says, and a scraper's {noun} cannot be changed\n  \
         fix: `aws amp delete-scraper --scraper-id {}`, then `kedactl up` creates the right one",
        setting(&live.settings, "clusterArn"),
        setting(&live.settings, key),
        setting(want, key),
        live.id,
    ))
}

/// A scraper whose create or update failed stays so: it must be deleted and made again.
pub fn failed(live: &Live) -> Option<String> {
    matches!(live.status.as_str(), "CREATION_FAILED" | "UPDATE_FAILED" | "DELETION_FAILED").then(|| {
        format!(
            "it is {}{}, and AMP does not retry it\n  fix: `aws amp delete-scraper --scraper-id {}`, then `kedactl up` creates it again",
            live.status,
            live.reason
                .as_deref()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default(),
            live.id
        )
    })
}

pub fn ready(status: &str) -> Option<bool> {
    match status {
        "ACTIVE" => Some(true),
        "CREATING" | "UPDATING" | "DELETING" => None,
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alias_is_one_amp_accepts() {
        assert_eq!(alias("demo", "AMP-KEDA"), "kedactl-demo-AMP-KEDA");
        assert_eq!(alias("demo", "my ws/1"), "kedactl-demo-my-ws-1");
        let long = alias(&"c".repeat(100), "w");
        assert_eq!(long.len(), MAX_ALIAS);
        assert!(long.starts_with("kedactl-c"));
    }

    #[test]
    fn the_scrape_configuration_is_prometheus_yaml_amp_accepts() {
        let arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
        let r = resource("demo", arn, "AMP-KEDA", "arn:aws:aps:x".into()).unwrap();
        let text = r.settings["scrapeConfiguration"].as_str().unwrap();
        let config: Value = crate::yaml::from_str(text).unwrap();
        assert_eq!(config["global"]["scrape_interval"], "30s", "AMP's minimum");
        assert_eq!(config["global"]["external_labels"]["clusterArn"], arn);
        let jobs = config["scrape_configs"].as_array().unwrap();
        assert_eq!(jobs.len(), 2);
        for job in jobs {
            // The only service discovery AMP's scraper supports.
            let sd = job["kubernetes_sd_configs"].as_array().unwrap();
            assert!(!sd.is_empty());
            assert_eq!(job["relabel_configs"][0]["action"], "keep");
            assert_eq!(job["relabel_configs"][0]["regex"], "true");
        }
        assert_eq!(r.settings["workspaceArn"], "arn:aws:aps:x");
        assert_eq!(r.name, "kedactl-demo-AMP-KEDA");
    }

    #[test]
    fn a_cluster_amp_cannot_scrape_is_refused_with_the_fix() {
        let mut c = Cluster {
            authentication_mode: Some("CONFIG_MAP".into()),
            endpoint_private_access: Some(true),
            ..Cluster::default()
        };
        let why = blocked("demo", &c).unwrap();
        assert!(
            why.contains("authenticationMode=API_AND_CONFIG_MAP"),
            "{why}"
        );
        assert!(why.contains("collector: none"), "{why}");
        c.authentication_mode = Some("API_AND_CONFIG_MAP".into());
        assert_eq!(blocked("demo", &c), None);
        c.endpoint_private_access = Some(false);
        assert!(
            blocked("demo", &c)
                .unwrap()
                .contains("endpointPrivateAccess=true")
        );
        // Not reported: nothing is known against it (the create reads the cluster again).
        assert_eq!(blocked("demo", &Cluster::default()), None);
    }

    #[test]
    fn a_scraper_writing_to_another_workspace_is_drift_with_the_fix() {
        let want = json!({"clusterArn": "c", "workspaceArn": "arn:ws/new"});
        let mut live = Live {
            id: "s-1".into(),
            settings: json!({"clusterArn": "c", "workspaceArn": "arn:ws/old", "roleArn": "r"}),
            ..Live::default()
        };
        let why = drift(&want, &live).unwrap();
        assert!(
            why.contains("arn:ws/old") && why.contains("arn:ws/new"),
            "{why}"
        );
        assert!(why.contains("delete-scraper --scraper-id s-1"), "{why}");
        live.settings["workspaceArn"] = "arn:ws/new".into();
        assert_eq!(drift(&want, &live), None);
        // A workspace still to be created is not a difference yet.
        let pending = json!({"clusterArn": "c", "workspaceArn": "arn:<id of AMP workspace w>"});
        live.settings["workspaceArn"] = "arn:ws/old".into();
        assert_eq!(drift(&pending, &live), None);
    }
}
