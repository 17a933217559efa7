use super::{apply, online};
use crate::ctx::Ctx;
use crate::error::{FAILED, SilentExit};
use crate::observe;
use crate::output;
use crate::plan::prune;
use crate::plan::teardown::{self, teardown};

/// Remove what this stack created, in reverse order; anything it does not own is left alone
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl down --cluster demo
  kedactl down --cluster demo --only queue,registry --force --yes   # CI; messages and images too")]
pub struct Args {
    /// Also delete what holds data: a queue's messages, a repository's images, a table's items,
    /// a stream's records, a workspace's metrics (without it, down refuses and deletes nothing)
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
    observe::data_side(&on.aws, &on.desired, &on.only, &mut on.observed).await;
    let opts = teardown::Options {
        force: args.force,
        only: on.only.clone(),
        keep_hint: None,
    };
    // What an earlier config named and this one does not goes too (`prepare` found it, as for
    // `up`).
    let pruned = prune::prune_with(&on.desired, &on.observed, &on.only, args.force, None);
    // This cluster's trust statements for service accounts an earlier config named are its own.
    on.desired = prune::claim_stale_statements(&on.desired, &on.observed);
    let (plan, notes) = match (teardown(&on.desired, &on.observed, &opts), pruned.conflicts) {
        (Ok((mut plan, notes)), c) if c.is_empty() => {
            plan.steps.extend(pruned.steps);
            (plan, notes)
        }
        (planned, conflicts) => {
            let mut refused = match planned {
                Err(r) => r,
                Ok((plan, notes)) => teardown::Refused {
                    reasons: vec![],
                    resources: vec![],
                    plan,
                    notes,
                },
            };
            refused.plan.steps.extend(pruned.steps);
            for c in conflicts {
                refused.reasons.push(format!("{} {}", c.resource, c.reason));
                refused.resources.push(c.resource);
            }
            return refuse(ctx, &on, refused);
        }
    };
    for n in &notes {
        ctx.note(n);
    }
    apply::run(ctx, &on, &plan, "Down", "Delete", apply::How::default())
        .await
        .map(|_| ())
}

/// Show what `--force` would delete and lose, then fail (exit 4) with nothing changed.
fn refuse(ctx: &Ctx, on: &online::Online, refused: teardown::Refused) -> anyhow::Result<()> {
    for n in &refused.notes {
        ctx.note(n);
    }
    if !ctx.json() {
        output::prose(&super::plan::human(
            &on.desired,
            &refused.plan,
            "against what exists now (with --force)",
            "",
        ))?;
        return Err(refused.into());
    }
    let (read, mutating) = on.calls();
    let doc = apply::Outcomes {
        plan: super::plan::Report::new(&on.desired, &refused.plan, false),
        outcomes: &[],
        calls: apply::Calls { read, mutating },
        seconds: None,
        refused: &refused.reasons,
        outputs: None,
    };
    output::document("Down", &doc)?;
    // One document on stdout (the plan and why it was refused): the error goes to stderr.
    eprintln!("error: {refused}");
    Err(SilentExit(FAILED).into())
}
