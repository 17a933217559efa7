use super::{apply, online};
use crate::ctx::Ctx;
use crate::observe;
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
    let mut on = online::prepare(ctx, online::Purpose::Down).await?;
    if let Some(kube) = &on.kube {
        observe::namespace_side(kube, &on.desired, &mut on.observed).await?;
    }
    // IRSA: a provider this stack made goes only when no role in the account trusts it.
    if let Some(p) = on.observed.oidc_provider.as_ref()
        && on.only.includes(crate::model::Group::Iam)
    {
        on.observed.oidc_trusted_by = Some(observe::roles_trusting(&on.aws, &p.arn).await?);
    }
    let opts = teardown::Options {
        force: args.force,
        only: on.only.clone(),
    };
    let (plan, notes) = teardown(&on.desired, &on.observed, &opts)?;
    for n in &notes {
        ctx.note(n);
    }
    apply::run(ctx, &on, &plan, "Down", "Delete", apply::How::default())
        .await
        .map(|_| ())
}
