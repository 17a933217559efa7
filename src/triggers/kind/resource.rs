//! The AWS resources a trigger kind's section names (an AMP workspace, a Kinesis stream, a
//! DynamoDB table), as plain data: what they are, how the plan names them.

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
