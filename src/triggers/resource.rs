//! AWS resources a trigger kind creates and owns (an AMP workspace today), behind one
//! lifecycle: observe by name, create and wait until usable, tag, delete. The calls of each kind
//! live with the kind; this file names the kinds and dispatches.

use super::dynamodb::table;
use super::prometheus::workspace;
use crate::cloud::{Aws, CallError};
use crate::observe::Read;
use crate::observed::{Resource as Live, Tags};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    AmpWorkspace,
    DynamodbTable,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "AMP workspace",
            Kind::DynamodbTable => "DynamoDB table",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "aps:workspace",
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
    /// What its create call needs besides the name (a DynamoDB table's key schema), as the
    /// kind's module writes and reads it; `Null` when the name is all.
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
        Kind::DynamodbTable => table::by_name(aws, &r.name, r.managed).await,
    }
}

/// Create it with `tags`; returns once the service says it is ready (or fails).
pub async fn create(aws: &Aws, r: &Resource, tags: &Tags) -> Result<Live, CallError> {
    match r.kind {
        Kind::AmpWorkspace => workspace::create(aws, &r.name, tags).await,
        Kind::DynamodbTable => table::create(aws, &r.name, &r.settings, tags).await,
    }
}

/// Read a resource's status by its service id while a create settles.
pub async fn status(aws: &Aws, kind: Kind, id: &str) -> Result<Option<Live>, CallError> {
    match kind {
        Kind::AmpWorkspace => match workspace::by_id(aws, id).await? {
            Read::Found(live) => Ok(Some(live)),
            Read::Missing => Ok(None),
            Read::Denied(d) => Err(CallError {
                operation: "DescribeWorkspace",
                resource: d.resource,
                code: Some("AccessDeniedException".into()),
                message: d.message,
                status: Some(403),
                fix: None,
            }),
            Read::Failed(e) => Err(e),
        },
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
        Kind::DynamodbTable => match status {
            "ACTIVE" => Some(true),
            "CREATING" | "UPDATING" => None,
            _ => Some(false),
        },
    }
}

pub async fn tag(aws: &Aws, kind: Kind, arn: &str, tags: &Tags) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::tag(aws, arn, tags).await,
        Kind::DynamodbTable => table::tag(aws, arn, tags).await,
    }
}

pub async fn untag(aws: &Aws, kind: Kind, arn: &str, keys: &[String]) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::untag(aws, arn, keys).await,
        Kind::DynamodbTable => table::untag(aws, arn, keys).await,
    }
}

/// Delete by service id; a resource already gone is fine.
pub async fn delete(aws: &Aws, kind: Kind, id: &str) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::delete(aws, id).await,
        Kind::DynamodbTable => table::delete(aws, id).await,
    }
}
