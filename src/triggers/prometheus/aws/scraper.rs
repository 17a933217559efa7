//! The AMP managed scraper's calls: list, describe, create (into the cluster's network, read
//! right before), delete.

use super::super::scraper::{blocked, setting};
use crate::cloud::read::{Read, found, read};
use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observed::{Resource as Live, Tags};
use crate::triggers::resource;
use aws_sdk_amp::operation::describe_scraper::DescribeScraperError;
use aws_sdk_amp::types::{
    AmpConfiguration, Destination, EksConfiguration, ScrapeConfiguration, Source,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Most subnets, and security groups, a scraper's `eksConfiguration` takes (an EKS cluster may
/// have up to 16 subnets; eksctl makes 6).
const MAX_NETWORK: usize = 5;

fn what(name: &str) -> String {
    format!("AMP scraper {name}")
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
            super::ours(exact.collect(), stack)
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
    let out = found!(read(got, "DescribeScraper", &what(id), not_found));
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
    let cluster = match crate::cloud::eks::cluster(aws, name).await? {
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
