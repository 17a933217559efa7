//! The AWS half of `trigger: prometheus`: the app's query against its live workspace, signed
//! with the caller's credentials (`scale`, `watch`, doctor's KD049), and the calls of the AMP
//! workspace and scraper.

pub mod query;
pub mod scraper;
pub mod workspace;

use super::{Collector, Scraped, config, server_address, up_selector};
use crate::cloud::read::Read;
use crate::cloud::{Aws, CallError};
use crate::observed::Resource as Live;
use crate::spec::App;
use crate::spec::target::Target;
use crate::triggers::Reading;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

/// The app's query against its live workspace, and the caller's credentials to sign it with.
async fn live_query(
    aws: &Aws,
    app: &App,
    target: &Target,
) -> anyhow::Result<(query::Request, SharedCredentialsProvider)> {
    let c = app
        .prometheus
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the app has no prometheus section"))?;
    let w = config::workspace(c);
    let live = match workspace::find(aws, &w, "").await? {
        Read::Found(live) => live,
        Read::Missing => anyhow::bail!(
            "{} does not exist in {}\n  fix: create it with `kedactl up --only source`, or correct apps[].prometheus.workspace",
            w.describe(),
            target.region
        ),
        Read::Denied(d) => anyhow::bail!("{}: {}", d.operation, d.message),
        Read::Failed(e) => return Err(e.into()),
    };
    let credentials = aws
        .credentials
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no AWS credentials to sign the query with"))?;
    let request = query::Request {
        server: server_address(target, &live.id),
        query: c.query.clone(),
        region: target.region.clone(),
        ignore_null_values: c.ignore_null_values,
        timeout: crate::cloud::call_timeout(),
    };
    Ok((request, credentials))
}

/// Run the app's query, and `up_selector` when it finds nothing, with the caller's credentials.
pub async fn scraped(aws: &Aws, app: &App, target: &Target) -> anyhow::Result<Scraped> {
    let c = app
        .prometheus
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the app has no prometheus section"))?;
    let (request, credentials) = live_query(aws, app, target).await?;
    let credentials = credentials
        .provide_credentials()
        .await
        .map_err(|e| anyhow::anyhow!("cannot load AWS credentials to sign the query: {e}"))?;
    let series = query::series(&request, &credentials).await?.len();
    let up = match series == 0 && c.collector() == Collector::Scraper {
        true => {
            let up = query::Request {
                query: up_selector(app),
                ..request
            };
            Some(query::series(&up, &credentials).await?)
        }
        false => None,
    };
    Ok(Scraped { series, up })
}

/// The query KEDA runs, signed with the caller's credentials.
pub struct Reader {
    request: query::Request,
    credentials: SharedCredentialsProvider,
}

impl Reader {
    pub async fn open(aws: &Aws, app: &App, target: &Target) -> anyhow::Result<Self> {
        let (request, credentials) = live_query(aws, app, target).await?;
        Ok(Reader {
            request,
            credentials,
        })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| CallError {
                operation: "aps:QueryMetrics",
                resource: self.request.server.clone(),
                code: None,
                message: format!("cannot load AWS credentials to sign the query: {e}"),
                status: None,
                fix: None,
            })?;
        let v = query::run(&self.request, &credentials).await?;
        Ok(Reading {
            value: crate::triggers::milli(v),
            detail: format!("query value {}", crate::triggers::number(v)),
        })
    }
}

/// Of the live resources sharing a name (AMP aliases are not unique), the one tagged with
/// `stack`, else the first (which the planner then reports as not ours).
fn ours(mut found: Vec<Live>, stack: &str) -> Read<Live> {
    let stacks = |l: &Live| l.tags.get(crate::model::STACK).map(String::as_str) == Some(stack);
    match found.iter().position(stacks).unwrap_or(0) {
        _ if found.is_empty() => Read::Missing,
        i => Read::Found(found.swap_remove(i)),
    }
}
