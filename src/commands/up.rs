use super::{apply, online};
use crate::ctx::Ctx;
use crate::plan::{self, Options};

/// Create or repair the stack: plan, confirm, apply (idempotent; only touches what it owns)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl up --cluster demo                          # shows the plan, asks, applies
  kedactl up --cluster demo --only iam,queue,registry --yes   # one CI job per group
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 kedactl up --cluster demo --only iam --yes   # moto")]
pub struct Args {
    /// Take over same-named resources that lack this stack's tags (they get tagged)
    #[arg(long)]
    pub adopt: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let on = online::prepare(ctx).await?;
    let opts = Options {
        adopt: args.adopt,
        only: on.only.clone(),
    };
    let plan = plan::plan(&on.desired, &on.observed, &opts)?;
    let next = on
        .wants_cluster
        .then(|| online::cluster_next_steps(&on.desired));
    apply::run(ctx, &on, &plan, "Up", "Apply", next.as_deref()).await
}
