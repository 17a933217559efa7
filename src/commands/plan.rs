use crate::ctx::Ctx;
use crate::error::{CHANGES_PENDING, SilentExit};
use crate::model::Only;
use crate::output::{self, API_VERSION};
use crate::plan::{self, Counts, Observed, Options, Plan};
use crate::render::{self, Desired, aws::UNKNOWN_ACCOUNT};
use serde::Serialize;

/// Show what `up` would change, without changing anything
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl plan --offline --cluster demo --region us-east-1
  kedactl plan --offline --only iam,queue -o json | jq '.steps[].summary'
  kedactl plan --offline --detailed-exitcode || echo \"changes pending (exit 5)\"")]
pub struct Args {
    /// Plan against an empty account and cluster, with no AWS or Kubernetes call
    /// (required until observation of live state lands)
    #[arg(long, required = true)]
    pub offline: bool,
    /// Exit 5 when the plan has changes, 0 when it is empty
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    api_version: &'static str,
    kind: &'static str,
    stack: &'a str,
    cluster: &'a str,
    region: &'a str,
    account: Option<&'a str>,
    offline: bool,
    steps: &'a [plan::Step],
    summary: Counts,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let (spec, _) = ctx.spec()?;
    let desired = render::desired(&spec)?;
    let opts = Options {
        adopt: false,
        only: Only::new(ctx.global.only.clone()),
    };
    let plan = plan::plan(&desired, &Observed::default(), &opts)?;
    if desired.target.account.is_none() {
        ctx.note(format!(
            "note: no account given, so ARNs show {UNKNOWN_ACCOUNT}; pass --account ID (online plans ask STS)"
        ));
    }
    if ctx.json() {
        output::json(&Report {
            api_version: API_VERSION,
            kind: "Plan",
            stack: &desired.stack,
            cluster: &desired.cluster,
            region: &desired.target.region,
            account: desired.target.account.as_deref(),
            offline: args.offline,
            steps: &plan.steps,
            summary: plan.counts(),
        })?;
    } else {
        output::text(&human(&desired, &plan))?;
    }
    if args.detailed_exitcode && !plan.is_empty() {
        return Err(SilentExit(CHANGES_PENDING).into());
    }
    Ok(())
}

fn human(d: &Desired, plan: &Plan) -> String {
    let mut out = format!(
        "Plan for stack {:?} on cluster {} ({}, account {}), against an empty account and cluster:\n\n",
        d.stack,
        d.cluster,
        d.target.region,
        d.target.account_or_placeholder()
    );
    if plan.is_empty() {
        out.push_str("No changes: the stack is up to date.\n");
        return out;
    }
    let width = plan.steps.len().to_string().len();
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!(
            "  {:>width$}. {} {:<8} {}\n",
            i + 1,
            s.change.symbol(),
            s.group.as_str(),
            s.summary
        ));
    }
    let c = plan.counts();
    out.push_str(&format!(
        "\nPlan: {} to create, {} to change, {} to run (+ create, ~ change, > run).\n",
        c.create, c.update, c.run
    ));
    out
}
