//! The AMP managed scraper (`prometheus.collector: scraper`, the default): an agentless
//! collector AMP runs in the cluster's VPC, which scrapes the pods and Services that ask for it
//! (`templates/scrape-config.yaml`) and writes into the workspace. One per cluster and workspace.
//!
//! Access: in authentication mode API or API_AND_CONFIG_MAP, AMP gives the scraper's
//! service-linked role an access entry on the cluster itself; with CONFIG_MAP only it cannot,
//! and kedactl refuses rather than create a scraper that could read nothing (it does not edit
//! aws-auth). AMP also needs the cluster's private endpoint and two subnets (two AZs).

use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observe::{Read, read};
use crate::observed::{Cluster, Resource as Live, Tags};
use crate::render::{RenderError, templates};
use crate::triggers::resource::{self, Resource};
use aws_sdk_amp::operation::describe_scraper::DescribeScraperError;
use aws_sdk_amp::types::{
    AmpConfiguration, Destination, EksConfiguration, ScrapeConfiguration, Source,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Longest scraper alias AMP accepts.
const MAX_ALIAS: usize = 100;
/// Most subnets, and security groups, a scraper's `eksConfiguration` takes (an EKS cluster may
/// have up to 16 subnets; eksctl makes 6).
const MAX_NETWORK: usize = 5;

fn what(name: &str) -> String {
    format!("AMP scraper {name}")
}

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

fn setting<'a>(settings: &'a Value, key: &str) -> &'a str {
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

fn tags_of(t: Option<&HashMap<String, String>>) -> Tags {
    t.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn workspace_of(d: Option<&Destination>) -> String {
    match d {
        Some(Destination::AmpConfiguration(a)) => a.workspace_arn().to_string(),
        _ => String::new(),
    }
}

fn cluster_of(s: Option<&Source>) -> String {
    match s {
        Some(Source::EksConfiguration(e)) => e.cluster_arn().to_string(),
        _ => String::new(),
    }
}

/// A scraper as AMP lists or describes it (ScraperSummary and ScraperDescription share these
/// fields but no type).
macro_rules! live {
    ($s:expr) => {
        Live {
            id: $s.scraper_id().to_string(),
            arn: $s.arn().to_string(),
            status: $s
                .status()
                .map(|s| s.status_code().as_str().to_string())
                .unwrap_or_default(),
            endpoint: None,
            tags: tags_of($s.tags()),
            reason: $s.status_reason().map(str::to_string),
            settings: json!({
                "clusterArn": cluster_of($s.source()),
                "workspaceArn": workspace_of($s.destination()),
                "roleArn": $s.role_arn(),
            }),
        }
    };
}

/// The scrapers ListScrapers finds with one filter (`alias`, `sourceArn`), by alias, without
/// those being deleted (gone, for kedactl).
async fn list(
    aws: &Aws,
    key: &str,
    value: &str,
    what: &str,
) -> Result<Read<Vec<(String, Live)>>, CallError> {
    let mut pages = aws
        .amp
        .list_scrapers()
        .filters(key, vec![value.to_string()])
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match read(page, "ListScrapers", what, |_| false)? {
            Read::Found(p) => p,
            Read::Missing => break,
            Read::Denied(d) => return Ok(Read::Denied(d)),
            Read::Failed(e) => return Ok(Read::Failed(e)),
        };
        for s in page.scrapers() {
            let live = live!(s);
            if live.status != "DELETING" {
                found.push((s.alias().unwrap_or_default().to_string(), live));
            }
        }
    }
    Ok(Read::Found(found))
}

/// The scraper with exactly this alias: the one tagged with `stack` if several share it, else
/// the first.
pub(crate) async fn by_alias(aws: &Aws, alias: &str, stack: &str) -> Result<Read<Live>, CallError> {
    Ok(list(aws, "alias", alias, &what(alias))
        .await?
        .and_then(|all| {
            let exact = all.into_iter().filter(|(a, _)| a == alias).map(|(_, l)| l);
            resource::ours(exact.collect(), stack)
        }))
}

/// This stack's scrapers of the cluster (by source), with their aliases.
pub(crate) async fn of_cluster(
    aws: &Aws,
    cluster_arn: &str,
    stack: &str,
) -> Result<Read<Vec<(String, Live)>>, CallError> {
    let what = format!("AMP scrapers of {cluster_arn}");
    let ours = |l: &Live| l.tags.get(crate::model::STACK).map(String::as_str) == Some(stack);
    Ok(list(aws, "sourceArn", cluster_arn, &what)
        .await?
        .map(|all| all.into_iter().filter(|(_, l)| ours(l)).collect()))
}

/// The scraper with this id (DescribeScraper), while a create or delete settles.
pub(crate) async fn by_id(aws: &Aws, id: &str) -> Result<Read<Live>, CallError> {
    let got = aws.amp.describe_scraper().scraper_id(id).send().await;
    let not_found = |e: &DescribeScraperError| e.is_resource_not_found_exception();
    let out = match read(got, "DescribeScraper", &what(id), not_found)? {
        Read::Found(out) => out,
        Read::Missing => return Ok(Read::Missing),
        Read::Denied(d) => return Ok(Read::Denied(d)),
        Read::Failed(e) => return Ok(Read::Failed(e)),
    };
    let Some(s) = out.scraper() else {
        return Ok(Read::Missing);
    };
    Ok(Read::Found(live!(s)))
}

/// The cluster's network, read right before the create: the scraper's interfaces go into the
/// cluster's subnets with its security groups, as AMP asks.
async fn network(aws: &Aws, cluster_arn: &str) -> Result<(Vec<String>, Vec<String>), CallError> {
    let name = resource::id_from_arn(cluster_arn);
    let refuse =
        |message: String| CallError::local("CreateScraper", format!("EKS cluster {name}"), message);
    let cluster = match crate::observe::cluster(aws, name).await? {
        Read::Found(c) => c,
        Read::Missing => return Err(refuse(format!("EKS cluster {name} does not exist"))),
        Read::Denied(d) => return Err(refuse(d.message)),
        Read::Failed(e) => return Err(e),
    };
    if let Some(why) = blocked(name, &cluster) {
        return Err(refuse(why));
    }
    if cluster.subnet_ids.len() < 2 {
        return Err(refuse(format!(
            "EKS cluster {name} reports {} subnet(s); an AMP scraper needs subnets in at least two Availability Zones",
            cluster.subnet_ids.len()
        )));
    }
    // The cluster's own subnets span two zones (EKS requires it); AMP takes five at most, and
    // refuses the create with its reason should the first five not.
    let mut subnets = cluster.subnet_ids;
    subnets.truncate(MAX_NETWORK);
    let mut groups = cluster.security_group_ids;
    groups.truncate(MAX_NETWORK);
    Ok((subnets, groups))
}

pub async fn create(
    aws: &Aws,
    alias: &str,
    settings: &Value,
    tags: &Tags,
) -> Result<Live, CallError> {
    let cluster_arn = setting(settings, "clusterArn");
    let (subnets, groups) = network(aws, cluster_arn).await?;
    let source = EksConfiguration::builder()
        .cluster_arn(cluster_arn)
        .set_subnet_ids(Some(subnets))
        // None rather than an empty list, which AMP refuses.
        .set_security_group_ids((!groups.is_empty()).then_some(groups))
        .build()
        .map_err(|e| CallError::local("CreateScraper", what(alias), e.to_string()))?;
    let destination = AmpConfiguration::builder()
        .workspace_arn(setting(settings, "workspaceArn"))
        .build()
        .map_err(|e| CallError::local("CreateScraper", what(alias), e.to_string()))?;
    // The SDK base64-encodes the blob on the wire.
    let config = setting(settings, "scrapeConfiguration").as_bytes().to_vec();
    let out = aws
        .amp
        .create_scraper()
        .alias(alias)
        .source(Source::EksConfiguration(source))
        .destination(Destination::AmpConfiguration(destination))
        .scrape_configuration(ScrapeConfiguration::ConfigurationBlob(config.into()))
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| CallError::new("CreateScraper", what(alias), &e))?;
    Ok(Live {
        id: out.scraper_id().to_string(),
        arn: out.arn().to_string(),
        status: out
            .status()
            .map(|s| s.status_code().as_str().to_string())
            .unwrap_or_default(),
        tags: tags.clone(),
        ..Live::default()
    })
}

pub async fn delete(aws: &Aws, id: &str) -> Result<(), CallError> {
    let r = aws.amp.delete_scraper().scraper_id(id).send().await;
    gone_is_fine(r, &["ResourceNotFoundException"], "DeleteScraper", what(id))
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
