//! AWS resources a trigger kind creates and owns (an AMP workspace today), behind one
//! lifecycle: observe by name, create and wait until usable, tag, delete. The calls of each kind
//! live with the kind; this file names the kinds and dispatches.

use super::dynamodb::table;
use super::kinesis;
use super::prometheus::workspace;
use crate::cloud::{Aws, CallError};
use crate::observe::Read;
use crate::observed::{Resource as Live, Tags};
use crate::spec::{App, Problem};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    AmpWorkspace,
    KinesisStream,
    DynamodbTable,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "AMP workspace",
            Kind::KinesisStream => "Kinesis stream",
            Kind::DynamodbTable => "DynamoDB table",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::AmpWorkspace => "aps:workspace",
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
        Kind::KinesisStream => kinesis::by_name(aws, &r.name).await,
        Kind::DynamodbTable => table::by_name(aws, &r.name, r.managed).await,
    }
}

/// Create it with `tags`; returns once the service says it is ready (or fails).
pub async fn create(aws: &Aws, r: &Resource, tags: &Tags) -> Result<Live, CallError> {
    match r.kind {
        Kind::AmpWorkspace => workspace::create(aws, &r.name, tags).await,
        Kind::KinesisStream => {
            kinesis::create(aws, &r.name, kinesis::shards(&r.settings), tags).await
        }
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
        Kind::AmpWorkspace => workspace::tag(aws, arn, tags).await,
        Kind::KinesisStream => kinesis::tag(aws, arn, tags).await,
        Kind::DynamodbTable => table::tag(aws, arn, tags).await,
    }
}

pub async fn untag(aws: &Aws, kind: Kind, arn: &str, keys: &[String]) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::untag(aws, arn, keys).await,
        Kind::KinesisStream => kinesis::untag(aws, arn, keys).await,
        Kind::DynamodbTable => table::untag(aws, arn, keys).await,
    }
}

/// Delete by service id; a resource already gone is fine.
pub async fn delete(aws: &Aws, kind: Kind, id: &str) -> Result<(), CallError> {
    match kind {
        Kind::AmpWorkspace => workspace::delete(aws, id).await,
        Kind::KinesisStream => kinesis::delete(aws, id).await,
        Kind::DynamodbTable => table::delete(aws, id).await,
    }
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
