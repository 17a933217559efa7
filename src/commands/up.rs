use super::{apply, online};
use crate::ctx::Ctx;
use crate::plan::{self, Action, Options};
use crate::render;

/// Create or repair the stack: plan, confirm, apply (idempotent; only touches what it owns)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl up --cluster demo                          # shows the plan, asks, applies
  kedactl up --cluster demo --dry-run                # only the plan (= kedactl plan)
  kedactl up --cluster demo --context my-admin       # reach the cluster through a kubeconfig context
  kedactl up --cluster demo --only iam,queue,registry --yes   # one CI job per group
  kedactl up --plan plan.json                        # exactly what `plan --out plan.json` saved
  # against moto or LocalStack
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 kedactl up --cluster demo --yes")]
pub struct Args {
    /// Take over same-named resources that lack this stack's tags (they get tagged)
    #[arg(long)]
    pub adopt: bool,
    /// Server-side apply takes over fields another field manager owns (e.g. kubectl edits)
    #[arg(long)]
    pub force_conflicts: bool,
    /// Delete what the config no longer names even when it holds data: a queue's messages, a
    /// repository's images (without it, up refuses and changes nothing)
    #[arg(long)]
    pub force: bool,
    /// Keep what the config no longer names (listed as "kept, no longer in the config")
    #[arg(long)]
    pub no_prune: bool,
    /// Show the plan and change nothing: the same as `kedactl plan` (which also has
    /// --offline and --detailed-exitcode)
    #[arg(long)]
    pub dry_run: bool,
    /// Apply exactly the plan `kedactl plan --out FILE` saved, or change nothing and exit 5
    /// when the config, kedactl or a resource it touches changed since (docs/plan-files.md)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "adopt", "force", "no_prune"])]
    pub plan: Option<std::path::PathBuf>,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    if args.dry_run {
        let plan = super::plan::Args {
            offline: false,
            detailed_exitcode: false,
            adopt: args.adopt,
            out: None,
            force: args.force,
            no_prune: args.no_prune,
        };
        return super::plan::run(ctx, plan).await;
    }
    if let Some(file) = &args.plan {
        return super::plan_file::apply(ctx, file, args.force_conflicts).await;
    }
    let on = online::prepare(ctx, online::Purpose::Up).await?;
    let opts = Options {
        adopt: args.adopt,
        only: on.only.clone(),
        force: args.force,
        no_prune: args.no_prune,
    };
    if args.no_prune {
        for line in plan::prune::kept(&on.desired, &on.observed, &on.only) {
            ctx.note(line);
        }
    }
    let plan = plan::plan(&on.desired, &on.observed, &opts)?;
    let how = apply::How {
        force_conflicts: args.force_conflicts,
        adopt: args.adopt,
        prune: !args.no_prune,
    };
    apply::run(ctx, &on, &plan, "Up", "Apply", how).await?;
    // A repository this run created, or found, empty: the app's pods cannot start yet.
    let mut notes: Vec<String> = Vec::new();
    for app in on.spec.apps.iter().filter(|a| !a.existing) {
        let created = plan.steps.iter().any(|s| {
            matches!(&s.action, Action::CreateRepository { repository, .. } if *repository == app.repository)
        });
        let empty = on
            .observed
            .repositories
            .get(&app.repository)
            .is_some_and(|r| r.images == 0);
        if (created || empty)
            && let Some(note) = render::push_image_note(app, &on.desired.target)
            && !notes.contains(&note)
        {
            ctx.note(format!("note: {note}"));
            notes.push(note);
        }
    }
    Ok(())
}
