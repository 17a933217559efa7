use super::{apply, online};
use crate::ctx::Ctx;
use crate::plan::{self, Options};

/// Create or repair the stack: plan, confirm, apply (idempotent; only touches what it owns)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl up --cluster demo                          # shows the plan, asks, applies
  kedactl up --cluster demo --context my-admin       # reach the cluster through a kubeconfig context
  kedactl up --cluster demo --only iam,queue,registry --yes   # one CI job per group
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 kedactl up --cluster demo --only iam --yes   # moto")]
pub struct Args {
    /// Take over same-named resources that lack this stack's tags (they get tagged)
    #[arg(long)]
    pub adopt: bool,
    /// Server-side apply takes over fields another field manager owns (e.g. kubectl edits)
    #[arg(long)]
    pub force_conflicts: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let on = online::prepare(ctx, online::Purpose::Up).await?;
    let opts = Options {
        adopt: args.adopt,
        only: on.only.clone(),
    };
    let plan = plan::plan(&on.desired, &on.observed, &opts)?;
    let how = apply::How {
        force_conflicts: args.force_conflicts,
        adopt: args.adopt,
    };
    apply::run(ctx, &on, &plan, "Up", "Apply", how).await
}
