use super::{apply, online};
use crate::ctx::Ctx;
use crate::plan::teardown::{self, teardown};

/// Remove what this stack created, in reverse order; anything it does not own is left alone
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl down --cluster demo
  kedactl down --cluster demo --only queue,registry --force --yes   # CI; repository images too")]
pub struct Args {
    /// Also delete the images in the ECR repositories
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let on = online::prepare(ctx).await?;
    let opts = teardown::Options {
        force: args.force,
        only: on.only.clone(),
    };
    let (plan, notes) = teardown(&on.desired, &on.observed, &opts)?;
    for n in &notes {
        ctx.note(n);
    }
    let next = on.wants_cluster.then(|| {
        format!(
            "Cluster side (not removed by this version of kedactl):\n  \
             kedactl render --only app --account {} | kubectl delete --ignore-not-found -f -\n  \
             helm uninstall keda --namespace {}   # only if nothing else uses KEDA",
            on.desired.target.account_or_placeholder(),
            on.desired.keda.namespace
        )
    });
    apply::run(ctx, &on, &plan, "Down", "Delete", next.as_deref()).await
}
