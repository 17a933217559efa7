//! The AWS half of the trigger kinds, bound in one place: each kind's metric reader (what
//! `scale`, `watch` and doctor read, as KEDA's scaler reads it) and the calls of the resources
//! the kinds create (observe by name, create and wait until usable, tag, delete). The calls
//! themselves live with each kind, in `<kind>/aws.rs`.

use super::kind::resource::{Kind, Resource};
use super::prometheus::aws::{scraper, workspace};
use super::{Reading, dynamodb::aws::table, kinesis::aws as kinesis};
use super::{cloudwatch, dynamodb, dynamodb_streams, prometheus, sqs};
use crate::cloud::read::Read;
use crate::cloud::{Aws, CallError};
use crate::observed::{Data, Resource as Live, Tags};
use crate::render::Desired;
use crate::spec::App;
use crate::spec::target::Target;
use futures_util::future::BoxFuture;

/// One source's metric, read as KEDA's scaler reads it.
pub trait Metric: Send + Sync {
    /// One read: what the scaler would hand the HPA now.
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>>;
}

/// Each kind's reader (`<kind>::aws::Reader`: `open` finds the source, `read` reads it once),
/// bound to its `Kind` (`Kind::metric`): one line per kind.
macro_rules! readers {
    ($($kind:ident => $reader:ty),* $(,)?) => {
        $(impl Metric for $reader {
            fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
                Box::pin(<$reader>::read(self))
            }
        })*

        impl super::Kind {
            /// A reader of the app's metric exactly as KEDA's scaler reads it (`scale`, `watch`,
            /// doctor): this kind's `<kind>::aws::Reader`.
            pub async fn metric<'a>(
                self,
                aws: &'a Aws,
                app: &'a App,
                target: &'a Target,
            ) -> anyhow::Result<Box<dyn Metric + 'a>> {
                Ok(match self {
                    $(super::Kind::$kind => Box::new(<$reader>::open(aws, app, target).await?),)*
                })
            }
        }
    };
}

readers! {
    Sqs => sqs::aws::Reader<'_>,
    Prometheus => prometheus::aws::Reader,
    Kinesis => kinesis::Reader<'_>,
    CloudWatch => cloudwatch::aws::Reader<'_>,
    Dynamodb => dynamodb::aws::Reader<'_>,
    DynamodbStreams => dynamodb_streams::aws::Reader<'_>,
}

/// Read one resource. Several live resources may share a name (AMP aliases are not unique):
/// the one tagged with `stack` wins, else the first, which the planner then reports as not ours.
pub(crate) async fn observe(aws: &Aws, r: &Resource, stack: &str) -> Result<Read<Live>, CallError> {
    match r.kind {
        Kind::AmpWorkspace => workspace::find(aws, r, stack).await,
        Kind::AmpScraper => scraper::by_alias(aws, &r.name, stack).await,
        Kind::KinesisStream => kinesis::by_name(aws, &r.name).await,
        Kind::DynamodbTable => table::by_name(aws, &r.name, r.managed).await,
    }
}

/// Resources of this stack in this cluster that the config no longer names, by their id (an
/// AMP scraper after `collector: none`, or whose workspace the config now names by id): the
/// plan deletes them. Listed only where such a resource can be (a config with prometheus
/// apps), so other stacks need no AMP permission.
pub(crate) async fn retired(
    aws: &Aws,
    desired: &Desired,
) -> Result<Read<Vec<(String, Live)>>, CallError> {
    if !desired
        .triggers
        .iter()
        .any(|t| t.kind == super::Kind::Prometheus)
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

/// Create it with `tags`; returns once the service says it is ready (or fails).
pub async fn create(aws: &Aws, r: &Resource, tags: &Tags) -> Result<Live, CallError> {
    match r.kind {
        Kind::AmpWorkspace => workspace::create(aws, &r.name, tags).await,
        Kind::AmpScraper => scraper::create(aws, &r.name, &r.settings, tags).await,
        Kind::KinesisStream => {
            kinesis::create(aws, &r.name, super::kinesis::shards(&r.settings), tags).await
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

/// Tag by ARN (one TagResource for every AMP resource).
pub async fn tag(aws: &Aws, kind: Kind, arn: &str, tags: &Tags) -> Result<(), CallError> {
    match kind {
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
pub async fn data(aws: &Aws, kind: Kind, id: &str) -> Option<Data> {
    let unit = kind.holds()?;
    let counted = match kind {
        Kind::DynamodbTable => table::items(aws, id).await,
        Kind::KinesisStream => kinesis::records(aws, id).await,
        Kind::AmpWorkspace => {
            return Some(Data::unknown(
                unit,
                "AMP has no call that counts a workspace's stored series",
            ));
        }
        Kind::AmpScraper => return None,
    };
    Some(counted.unwrap_or_else(|e| Data::unknown(unit, e.to_string())))
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
