//! AWS resources a trigger kind creates and owns (an AMP workspace, a Kinesis stream, a DynamoDB
//! table), as the plan sees them: when one is ready, why it cannot be made or must be made
//! again, how a plan step names it. The calls (observe, create, tag, delete) are in
//! `triggers::aws`; the resources themselves are plain data in `kind::resource`.

use super::kinesis;
use super::prometheus::scraper;
use crate::observed::{Observed, Resource as Live};

pub use super::kind::resource::{Kind, PLACEHOLDER, Resource};

/// A resource's kind and name from its id (`aps:scraper/<alias>`).
pub fn parse_id(id: &str) -> Option<(Kind, &str)> {
    [
        Kind::AmpWorkspace,
        Kind::AmpScraper,
        Kind::KinesisStream,
        Kind::DynamodbTable,
    ]
    .into_iter()
    .find_map(|k| Some((k, id.strip_prefix(k.prefix())?.strip_prefix('/')?)))
}

/// A resource's service id from its ARN (an AMP workspace's ARN ends `workspace/<id>`, a
/// DynamoDB table's `table/<name>`).
pub fn id_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Is this status one the resource is usable in? (Anything else but a transition is a failure.)
pub fn ready(kind: Kind, status: &str) -> Option<bool> {
    match kind {
        Kind::AmpWorkspace => match status {
            "ACTIVE" => Some(true),
            "CREATING" | "UPDATING" => None,
            _ => Some(false),
        },
        Kind::AmpScraper => scraper::ready(status),
        Kind::KinesisStream => kinesis::ready(status),
        Kind::DynamodbTable => match status {
            "ACTIVE" => Some(true),
            "CREATING" | "UPDATING" => None,
            _ => Some(false),
        },
    }
}

/// How many times the add-on's wait a create may take: AMP says a scraper takes up to
/// 20 minutes to become ACTIVE.
pub fn patience(kind: Kind) -> u32 {
    match kind {
        Kind::AmpScraper => 3,
        _ => 1,
    }
}

/// Why the resource cannot be created in this cluster as observed (None: nothing known
/// against it): a conflict in the plan, re-checked by the create itself.
pub fn blocked(r: &Resource, cluster: &str, observed: &Observed) -> Option<String> {
    match (r.kind, &observed.cluster) {
        (Kind::AmpScraper, Some(c)) => scraper::blocked(cluster, c),
        _ => None,
    }
}

/// Why an existing resource of ours is not the one the config wants, when the difference
/// cannot be changed in place (None: it is).
pub fn drift(r: &Resource, live: &Live) -> Option<String> {
    match r.kind {
        Kind::AmpScraper => scraper::drift(&r.settings, live),
        _ => None,
    }
}

/// An existing resource of ours that failed in a way AWS does not recover from (an AMP scraper
/// whose create failed), with AMP's reason and the fix: `up` would otherwise leave it there
/// and report the stack converged.
pub fn failed(r: &Resource, live: &Live) -> Option<String> {
    match r.kind {
        Kind::AmpScraper => scraper::failed(live),
        _ => None,
    }
}

/// What a create step's summary adds to the resource's name: what it connects.
pub fn purpose(kind: Kind, settings: &serde_json::Value) -> String {
    let last = |key: &str| id_from_arn(settings[key].as_str().unwrap_or_default()).to_string();
    match kind {
        Kind::AmpScraper => format!(
            " (scrapes EKS cluster {} into AMP workspace {})",
            last("clusterArn"),
            last("workspaceArn")
        ),
        _ => String::new(),
    }
}

/// What `render` shows of a resource for review, besides the grants and manifests that name it:
/// (title, document), e.g. an AMP scraper's scrape configuration.
pub fn review(r: &Resource) -> anyhow::Result<Option<(String, serde_json::Value)>> {
    let Some(text) = r.settings["scrapeConfiguration"].as_str() else {
        return Ok(None);
    };
    let config = crate::yaml::from_str(text)
        .map_err(|e| anyhow::anyhow!("the scrape configuration of {}: {e}", r.describe()))?;
    Ok(Some((
        format!(
            "scrape configuration of {} (from templates/scrape-config.yaml)",
            r.describe()
        ),
        config,
    )))
}
