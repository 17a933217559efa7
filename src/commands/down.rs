use super::{apply, online};
use crate::ctx::Ctx;
use crate::plan::teardown::{self, teardown};
use crate::{cluster, observe, render};

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
        // A namespace this stack created is deleted only when nothing else lives in it.
        for m in &on.desired.manifests {
            let (kind, _, name) = render::object_ref(m);
            if kind != "Namespace" || on.observed.object(&kind, None, &name).is_none() {
                continue;
            }
            let others = observe::namespace_contents(kube, &on.desired, &name).await?;
            on.observed.namespace_contents.insert(name, others);
        }
        // KEDA's namespace, when this stack installed KEDA: the same rule, the install excepted.
        if let Some(k) = on.observed.keda.as_ref()
            && k.installed_by.as_deref() == Some(on.desired.stack.as_str())
        {
            let ns = k.namespace.clone();
            let others =
                cluster::contents::foreign(kube, &ns, cluster::keda::part_of_install).await?;
            on.observed.namespace_contents.insert(ns, others);
        }
    }
    let opts = teardown::Options {
        force: args.force,
        only: on.only.clone(),
    };
    let (plan, notes) = teardown(&on.desired, &on.observed, &opts)?;
    for n in &notes {
        ctx.note(n);
    }
    apply::run(ctx, &on, &plan, "Down", "Delete", apply::How::default()).await
}
