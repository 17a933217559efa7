//! AWS resources a trigger kind creates and owns (an AMP workspace today), behind one
//! lifecycle: observe by name, create and wait until usable, tag, delete. The calls of each kind
//! live with the kind; this file names the kinds and dispatches.

use super::dynamodb::table;
use super::kinesis;
use super::prometheus::{scraper, workspace};
use crate::cloud::{Aws, CallError};
use crate::observe::Read;
use crate::observed::{Observed, Resource as Live, Tags};
use crate::spec::{App, Problem};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    AmpWorkspace,
    AmpScraper,
    KinesisStream,
    DynamodbTable,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "AMP workspace",
            Kind::AmpScraper => "AMP scraper",
            Kind::KinesisStream => "Kinesis stream",
            Kind::DynamodbTable => "DynamoDB table",
        }
    }

    /// What it stores that its deletion destroys (plural), if anything: `down` keeps one that
    /// holds some unless `--force`.
    pub fn holds(self) -> Option<&'static str> {
        match self {
            Kind::AmpWorkspace => Some("metrics"),
            Kind::AmpScraper => None,
            Kind::KinesisStream => Some("records"),
            Kind::DynamodbTable => Some("items"),
        }
    }

    /// Its files' names in `render --out-dir` (`aws/<stem>-<name>.yaml`).
    pub fn file_stem(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "workspace",
            Kind::AmpScraper => "scraper",
            Kind::KinesisStream => "stream",
            Kind::DynamodbTable => "table",
        }
    }

    /// What goes wrong while it is not ready yet.
    pub fn until_ready(self) -> &'static str {
        match self {
            Kind::AmpScraper => "no metrics reach the workspace, so the query finds nothing,",
            _ => "KEDA's reads fail",
        }
    }

    /// Its plan depends on the cluster (how it may access it).
    pub fn reads_cluster(self) -> bool {
        self == Kind::AmpScraper
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "aps:workspace",
            Kind::AmpScraper => "aps:scraper",
            Kind::KinesisStream => "kinesis:stream",
            Kind::DynamodbTable => "dynamodb:table",
        }
    }
}

/// How every placeholder starts (`Resource::placeholder`).
pub const PLACEHOLDER: &str = "<id of ";

/// A resource as the config wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub kind: Kind,
    /// Its name (an AMP workspace's alias), or the id of an existing one (`managed: false`).
    pub name: String,
    /// kedactl creates it, tags it and deletes it with the stack. `false`: an existing resource
    /// the config names, only read (its absence stops `up`).
    pub managed: bool,
    /// What its create call needs besides the name (a DynamoDB table's key schema, a Kinesis
    /// stream's shards), as the kind's module writes and reads it; `Null` when the name is all.
    /// Only read by the create.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub settings: serde_json::Value,
}

impl Resource {
    /// Its plan step id and `Observed::resources` key.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind.prefix(), self.name)
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.kind.noun(), self.name)
    }

    /// Stands for the resource's id in what is rendered before it exists (the ScaledObject's
    /// address, the grant's ARN). The executor writes the id in once the create step made it,
    /// and a later `plan` renders with the live id.
    pub fn placeholder(&self) -> String {
        format!("{PLACEHOLDER}{}>", self.describe())
    }
}

/// Read one resource. Several live resources may share a name (AMP aliases are not unique):
/// the one tagged with `stack` wins, else the first, which the planner then reports as not ours.
pub(crate) async fn observe(aws: &Aws, r: &Resource, stack: &str) -> Result<Read<Live>, CallError> {
    match r.kind {
        Kind::AmpWorkspace if r.managed => workspace::by_alias(aws, &r.name, stack).await,
        Kind::AmpWorkspace => workspace::by_id(aws, &r.name).await,
        Kind::AmpScraper => scraper::by_alias(aws, &r.name, stack).await,
        Kind::KinesisStream => kinesis::by_name(aws, &r.name).await,
        Kind::DynamodbTable => table::by_name(aws, &r.name, r.managed).await,
    }
}

/// Of the live resources sharing a name (AMP aliases are not unique), the one tagged with
/// `stack`, else the first (which the planner then reports as not ours).
pub(crate) fn ours(mut found: Vec<Live>, stack: &str) -> Read<Live> {
    let stacks = |l: &Live| l.tags.get(crate::model::STACK).map(String::as_str) == Some(stack);
    match found.iter().position(stacks).unwrap_or(0) {
        _ if found.is_empty() => Read::Missing,
        i => Read::Found(found.swap_remove(i)),
    }
}

/// Resources of this stack in this cluster that the config no longer names, by their id (an
/// AMP scraper after `collector: none`, or whose workspace the config now names by id): the
/// plan deletes them. Listed only where such a resource can be (a config with prometheus
/// apps), so other stacks need no AMP permission.
pub(crate) async fn retired(
    aws: &Aws,
    desired: &crate::render::Desired,
) -> Result<Read<Vec<(String, Live)>>, CallError> {
    if !desired
        .triggers
        .iter()
        .any(|t| t.kind == crate::triggers::Kind::Prometheus)
    {
        return Ok(Read::Missing);
    }
    let listed = scraper::of_cluster(aws, &desired.cluster_arn, &desired.stack).await?;
    Ok(listed.map(|scrapers| {
        scrapers
            .into_iter()
            .map(|(alias, live)| (format!("{}/{alias}", Kind::AmpScraper.prefix()), live))
            .filter(|(id, _)| !desired.resources.iter().any(|r| &r.id() == id))
            .collect()
    }))
}

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

/// Create it with `tags`; returns once the service says it is ready (or fails).
pub async fn create(aws: &Aws, r: &Resource, tags: &Tags) -> Result<Live, CallError> {
    match r.kind {
        Kind::AmpWorkspace => workspace::create(aws, &r.name, tags).await,
        Kind::AmpScraper => scraper::create(aws, &r.name, &r.settings, tags).await,
        Kind::KinesisStream => {
            kinesis::create(aws, &r.name, kinesis::shards(&r.settings), tags).await
        }
        Kind::DynamodbTable => table::create(aws, &r.name, &r.settings, tags).await,
    }
}

/// Read a resource's status by its service id while a create settles.
pub async fn status(aws: &Aws, kind: Kind, id: &str) -> Result<Option<Live>, CallError> {
    let found = |read: Read<Live>, operation: &'static str| match read {
        Read::Found(live) => Ok(Some(live)),
        Read::Missing => Ok(None),
        Read::Denied(d) => Err(CallError {
            code: Some("AccessDeniedException".into()),
            status: Some(403),
            ..CallError::local(operation, d.resource, d.message)
        }),
        Read::Failed(e) => Err(e),
    };
    match kind {
        Kind::AmpWorkspace => found(workspace::by_id(aws, id).await?, "DescribeWorkspace"),
        Kind::AmpScraper => found(scraper::by_id(aws, id).await?, "DescribeScraper"),
        Kind::KinesisStream => kinesis::status(aws, id).await,
        Kind::DynamodbTable => table::status(aws, id).await,
    }
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

pub async fn tag(aws: &Aws, kind: Kind, arn: &str, tags: &Tags) -> Result<(), CallError> {
    match kind {
        // One TagResource for every AMP resource.
        Kind::AmpWorkspace | Kind::AmpScraper => workspace::tag(aws, arn, tags).await,
        Kind::KinesisStream => kinesis::tag(aws, arn, tags).await,
        Kind::DynamodbTable => table::tag(aws, arn, tags).await,
    }
}

pub async fn untag(aws: &Aws, kind: Kind, arn: &str, keys: &[String]) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace | Kind::AmpScraper => workspace::untag(aws, arn, keys).await,
        Kind::KinesisStream => kinesis::untag(aws, arn, keys).await,
        Kind::DynamodbTable => table::untag(aws, arn, keys).await,
    }
}

/// What it holds now (`Kind::holds`), by service id; None for a kind that holds nothing. AMP
/// has no call that counts a workspace's stored series, so a workspace is "unknown": `down`
/// keeps it unless `--force`.
pub async fn data(aws: &Aws, kind: Kind, id: &str) -> Option<crate::observed::Data> {
    let unit = kind.holds()?;
    let counted = match kind {
        Kind::DynamodbTable => table::items(aws, id).await,
        Kind::KinesisStream => kinesis::records(aws, id).await,
        Kind::AmpWorkspace => {
            return Some(crate::observed::Data::unknown(
                unit,
                "AMP has no call that counts a workspace's stored series",
            ));
        }
        Kind::AmpScraper => return None,
    };
    Some(counted.unwrap_or_else(|e| crate::observed::Data::unknown(unit, e.to_string())))
}

/// Delete by service id; a resource already gone is fine.
pub async fn delete(aws: &Aws, kind: Kind, id: &str) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::delete(aws, id).await,
        Kind::AmpScraper => scraper::delete(aws, id).await,
        Kind::KinesisStream => kinesis::delete(aws, id).await,
        Kind::DynamodbTable => table::delete(aws, id).await,
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

/// Apps that name the same resource must want the same one: a stream created with 2 shards by
/// one app and 4 by another, or created by one and only read by another, has no single plan.
pub fn conflicts(apps: &[App], out: &mut Vec<Problem>) {
    let mut seen: Vec<(usize, Resource)> = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        for r in app.trigger.imp().resources(app) {
            match seen.iter().find(|(_, s)| s.id() == r.id()) {
                Some((j, s)) if *s != r => out.push(Problem::new(
                    format!("apps[{i}].{}", app.trigger.as_str()),
                    format!(
                        "apps[{j}] also names {}, {}",
                        r.describe(),
                        if s.managed != r.managed {
                            "but one app creates it and the other names an existing one"
                        } else {
                            "with other settings"
                        }
                    ),
                    format!("describe {} the same way in both apps", r.describe()),
                )),
                Some(_) => {}
                None => seen.push((i, r)),
            }
        }
    }
}
