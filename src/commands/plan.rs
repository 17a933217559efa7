use super::online;
use crate::ctx::Ctx;
use crate::error::{CHANGES_PENDING, FAILED, SilentExit};
use crate::model::Only;
use crate::output::{self, OutputFormat};
use crate::plan::{self, Change, Counts, Observed, Options, Plan, Step};
use crate::render::{self, Desired, aws::UNKNOWN_ACCOUNT};
use serde::Serialize;

/// Show what `up` would change, without changing anything
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl plan --cluster demo                       # against your account (read-only calls)
  kedactl plan --offline --cluster demo --region us-east-1
  kedactl plan --offline --only iam,queue -o json | jq '.steps[].summary'
  kedactl plan --detailed-exitcode || echo \"changes pending (exit 5)\"
  kedactl plan --out plan.json                      # then, after review: kedactl up --plan plan.json")]
pub struct Args {
    /// Plan against an empty account and cluster, with no AWS or Kubernetes call
    #[arg(long)]
    pub offline: bool,
    /// Exit 5 when the plan has changes, 0 when it is empty
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Take over same-named resources that lack this stack's tags (they get tagged)
    #[arg(long)]
    pub adopt: bool,
    /// Also save the plan, with what it was computed from, for `up --plan FILE` to apply
    /// exactly (docs/plan-files.md)
    #[arg(long, value_name = "FILE", conflicts_with = "offline")]
    pub out: Option<std::path::PathBuf>,
    /// Plan as `up --force`: delete what the config no longer names even when it holds data
    #[arg(long)]
    pub force: bool,
    /// Keep what the config no longer names (listed as "kept, no longer in the config")
    #[arg(long)]
    pub no_prune: bool,
}

/// A plan as JSON: the body of the `Plan` document, and of `Up` and `Down` with their outcomes.
/// The kind of `plan -o json`'s document.
pub const KIND: &str = "Plan";

#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub stack: &'a str,
    pub cluster: &'a str,
    pub region: &'a str,
    /// null when unknown (an offline plan without --account).
    pub account: Option<&'a str>,
    /// Planned against an empty account and cluster (`plan --offline`).
    pub offline: bool,
    pub steps: &'a [Step],
    pub summary: Counts,
    /// Resources the plan will not change (not this stack's): the command fails with exit 4.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub conflicts: &'a [plan::Conflict],
    /// The AWS quotas the stack counts against, each with its largest use (`plan --offline`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub quotas: &'a [render::quotas::QuotaUse],
}

impl<'a> Report<'a> {
    pub fn new(d: &'a Desired, plan: &'a Plan, offline: bool) -> Self {
        Report {
            stack: &d.stack,
            cluster: &d.cluster,
            region: &d.target.region,
            account: d.target.account.as_deref(),
            offline,
            steps: &plan.steps,
            summary: plan.counts(),
            conflicts: &[],
            quotas: &[],
        }
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let opts = |only| Options {
        adopt: args.adopt,
        only,
        force: args.force,
        no_prune: args.no_prune,
    };
    let (desired, (plan, conflicts), against) = if args.offline {
        let (spec, _) = ctx.spec()?;
        let desired = render::desired(&spec)?;
        let marked = plan::plan_marked(
            &desired,
            &Observed::default(),
            &opts(Only::new(ctx.global.only.clone())),
        );
        if desired.target.account.is_none() {
            ctx.note(format!(
                "note: no account given, so ARNs show {UNKNOWN_ACCOUNT}; pass --account ID (online plans ask STS)"
            ));
        }
        (desired, marked, "against an empty account and cluster")
    } else {
        let on = online::prepare(ctx, online::Purpose::Plan).await?;
        if args.no_prune {
            for line in plan::prune::kept(&on.desired, &on.observed, &on.only) {
                ctx.note(line);
            }
        }
        let marked = plan::plan_marked(&on.desired, &on.observed, &opts(on.only.clone()));
        if let Some(out) = &args.out {
            super::plan_file::save(ctx, out, &on, &marked, &opts(on.only.clone()))?;
        }
        (on.desired, marked, "against what exists now")
    };
    let blocked = !conflicts.conflicts.is_empty();
    // Offline, the plan is a review of the whole stack: how close it comes to AWS's quotas.
    let quotas = match args.offline {
        true => render::quotas::quotas(&desired),
        false => vec![],
    };
    if ctx.output == OutputFormat::Markdown {
        output::text(&output::markdown::plan(
            &desired, &plan, against, &conflicts,
        ))?;
    } else if ctx.json() {
        let mut report = Report::new(&desired, &plan, args.offline);
        report.conflicts = &conflicts.conflicts;
        report.quotas = &quotas;
        output::document(KIND, &report)?;
    } else {
        let mut text = human(&desired, &plan, against, UP_TO_DATE);
        if ctx.verbose > 0 {
            text.push_str(&documents(&plan));
        }
        if blocked {
            text.push_str(&conflicts_text(&conflicts));
        }
        if !quotas.is_empty() {
            text.push_str("\nQuotas (each one's largest use):\n");
            for q in &quotas {
                text.push_str(&format!("  {}\n", q.line()));
            }
        }
        output::prose(&text)?;
    }
    if blocked {
        // The plan is shown; the refusal still fails the command, as `up` would.
        if ctx.json() {
            // One document on stdout (the plan, with its conflicts): the error goes to stderr.
            eprintln!("error: {conflicts}");
            return Err(SilentExit(FAILED).into());
        }
        return Err(conflicts.into());
    }
    if args.detailed_exitcode && !plan.is_empty() {
        return Err(SilentExit(CHANGES_PENDING).into());
    }
    Ok(())
}

/// The resources the plan leaves alone because the stack does not own them, marked `!`.
fn conflicts_text(c: &plan::Conflicts) -> String {
    let mut out = format!(
        "\nNot planned: kedactl will not change {} resource{} (! below), so `up` would stop before any step:\n",
        c.conflicts.len(),
        if c.conflicts.len() == 1 { "" } else { "s" }
    );
    for x in &c.conflicts {
        out.push_str(&format!("  ! {}: {}\n", x.resource, x.reason));
    }
    out
}

pub const UP_TO_DATE: &str = "No changes: the stack is up to date.";

/// A step's symbol in the convention's colour: `+` green, `~` yellow, `-` red.
fn paint_change(change: Change) -> String {
    use crate::output::style::{Style, paint};
    let style = match change {
        Change::Create => Style::Add,
        Change::Update => Style::Change,
        Change::Delete => Style::Delete,
        Change::Run => return change.symbol().to_string(),
    };
    paint(&change.symbol().to_string(), style)
}

/// `-v`: what each create writes (trust and inline policies as JSON, manifests as YAML), by
/// step number, so a review sees the whole document, not only that it is created.
pub fn documents(plan: &Plan) -> String {
    let mut out = String::new();
    for (i, s) in plan.steps.iter().enumerate() {
        if s.change != Change::Create {
            continue;
        }
        let mut action = s.action.clone();
        for doc in action.documents_mut() {
            let text = match &s.action {
                crate::plan::Action::Apply { .. } => crate::yaml::to_string(doc).ok(),
                _ => serde_json::to_string_pretty(doc).ok(),
            };
            let Some(text) = text else { continue };
            out.push_str(&format!(
                "
{}. {}:
",
                i + 1,
                s.summary
            ));
            for line in text.trim_end().lines() {
                out.push_str(&format!(
                    "    {line}
"
                ));
            }
        }
    }
    if !out.is_empty() {
        out.insert_str(
            0,
            "
What the creates write:
",
        );
    }
    out
}

/// The plan for people: numbered steps in execution order, then the counts.
pub fn human(d: &Desired, plan: &Plan, against: &str, empty: &str) -> String {
    let mut out = format!(
        "Plan for stack {:?} on cluster {} ({}, account {}), {against}:\n\n",
        d.stack,
        d.cluster,
        d.target.region,
        d.target.account_or_placeholder()
    );
    if plan.is_empty() {
        out.push_str(empty);
        out.push('\n');
        return out;
    }
    let width = plan.steps.len().to_string().len();
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!(
            "  {:>width$}. {} {:<8} {}\n",
            i + 1,
            paint_change(s.change),
            s.group.as_str(),
            s.summary
        ));
        for c in &s.changes {
            // Under the summary: number, symbol and group columns.
            out.push_str(&format!("  {:>width$}  {:<12} {}\n", "", "", c.line()));
        }
    }
    let c = plan.counts();
    let mut parts = vec![
        format!("{} to create", c.create),
        format!("{} to change", c.update),
    ];
    if c.delete > 0 {
        parts.push(format!("{} to delete", c.delete));
    }
    parts.push(format!("{} to run", c.run));
    out.push_str(&format!(
        "\nPlan: {} (+ create, ~ change, - delete, > run).\n",
        parts.join(", ")
    ));
    out
}
