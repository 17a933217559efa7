//! What `simulate`, `load`, `scale` and `watch` share: choosing the app, reaching its queue,
//! reading its depth.

use crate::cloud::Aws;
use crate::ctx::Ctx;
use crate::spec::{App, Problem, Problems, Spec};
use crate::triggers::sqs::aws as sqs;

/// The app named by --app, or the only one.
pub fn pick<'a>(spec: &'a Spec, name: Option<&str>, source: &str) -> Result<&'a App, Problems> {
    match name {
        Some(n) => spec.apps.iter().find(|a| a.deployment == n),
        None if spec.apps.len() == 1 => spec.apps.first(),
        None => None,
    }
    .ok_or_else(|| {
        let names: Vec<&str> = spec.apps.iter().map(|a| a.deployment.as_str()).collect();
        Problems {
            origin: source.to_string(),
            problems: vec![Problem::new(
                "--app",
                match name {
                    Some(n) => format!("no app has deployment {n:?}"),
                    None => format!("{} apps are configured; which one?", spec.apps.len()),
                },
                format!("pass --app <deployment>, one of: {}", names.join(", ")),
            )],
        }
    })
}

/// AWS clients for the spec's region, and the URL of the app's queue.
pub async fn connect(ctx: &Ctx, spec: &Spec, app: &App) -> anyhow::Result<(Aws, String)> {
    let aws = ctx.aws(spec.region.clone()).await?;
    let url = sqs::queue_url(&aws, &app.queue.name).await?;
    Ok((aws, url))
}

pub use sqs::depth;
