//! What `simulate`, `load` and `scale` share: choosing the app, and reaching its queue.

use crate::cloud::{Aws, CallError};
use crate::ctx::Ctx;
use crate::spec::{App, Problem, Problems, Spec};

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
    let aws = ctx.aws(spec.region.clone()).await;
    let queue = &app.queue.name;
    let url = match aws.sqs.get_queue_url().queue_name(queue).send().await {
        Ok(out) => out.queue_url().unwrap_or_default().to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_queue_does_not_exist()) =>
        {
            anyhow::bail!(
                "SQS queue {queue} does not exist in {}\n  fix: create it with `kedactl up --only queue`, or choose the queue with --queue / --app",
                spec.region.as_deref().unwrap_or("the default region")
            );
        }
        Err(e) => {
            return Err(CallError::new("GetQueueUrl", format!("SQS queue {queue}"), &e).into());
        }
    };
    Ok((aws, url))
}
