//! `plan --out FILE` writes the plan with what it was computed from; `up --plan FILE` applies
//! exactly that plan, through the same executor as `up`, or refuses (exit 5) when it is stale.
//! What the file holds: docs/plan-files.md; the checks themselves: `plan::saved`.

use super::apply::{self, How};
use super::online::{self, Online};
use crate::ctx::Ctx;
use crate::error::{StalePlan, UsageError};
use crate::output::{API_VERSION, Document};
use crate::plan::saved::{self, SavedPlan, Target};
use crate::plan::{self, Plan};
use crate::spec::{Problem, Problems};
use std::path::Path;

/// The config the plan is computed from, as JSON: the file and flags, defaults filled in (read
/// before the account and issuer are resolved online, so it is the same wherever it runs).
fn config(ctx: &Ctx) -> anyhow::Result<serde_json::Value> {
    // Read quietly: the command reads it again, and says its warnings then.
    let quiet = with_global(ctx, ctx.global.clone());
    let quiet = Ctx {
        quiet: true,
        verbose: 0,
        ..quiet
    };
    Ok(serde_json::to_value(quiet.spec_online()?.0)?)
}

/// `ctx` with other global arguments.
fn with_global(ctx: &Ctx, global: crate::cli::GlobalArgs) -> Ctx {
    Ctx {
        global,
        output: ctx.output,
        quiet: ctx.quiet,
        verbose: ctx.verbose,
        stderr_is_tty: ctx.stderr_is_tty,
        stdin_is_tty: ctx.stdin_is_tty,
    }
}

fn target(on: &Online) -> Target {
    let d = &on.desired;
    Target {
        stack: d.stack.clone(),
        cluster: d.cluster.clone(),
        region: d.target.region.clone(),
        account: d.target.account.clone().unwrap_or_default(),
    }
}

/// Write `plan` (made by `plan` online) to `path`; not one `up` would refuse (conflicts).
pub fn save(
    ctx: &Ctx,
    path: &Path,
    on: &Online,
    (plan, conflicts): &(Plan, plan::Conflicts),
    opts: &plan::Options,
) -> anyhow::Result<()> {
    if !conflicts.conflicts.is_empty() {
        ctx.note(format!(
            "The plan was not saved to {}: `up` would not apply it (the resources marked !).",
            path.display()
        ));
        return Ok(());
    }
    let mut file = SavedPlan::new(
        target(on),
        groups(ctx),
        opts.adopt,
        &config(ctx)?,
        plan.steps.clone(),
        &on.observed,
    );
    file.force = opts.force;
    file.no_prune = opts.no_prune;
    let text = serde_json::to_string_pretty(&Document::new(saved::KIND, &file))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| anyhow::anyhow!("cannot write the plan to {}: {e}", path.display()))?;
    ctx.note(format!(
        "Saved the plan to {} ({} step{}): apply exactly it with `kedactl up --plan {}`.",
        path.display(),
        plan.steps.len(),
        if plan.steps.len() == 1 { "" } else { "s" },
        path.display()
    ));
    Ok(())
}

/// A plan file that cannot be used: exit 3, before any call.
fn bad(path: &Path, message: String, line: Option<usize>) -> anyhow::Error {
    let mut p = Problem::new(
        "--plan",
        message,
        "pass the file `kedactl plan --out FILE` wrote (make a new one with it)",
    );
    p.line = line;
    Problems {
        origin: format!("plan file {}", path.display()),
        problems: vec![p],
    }
    .into()
}

/// Read a saved plan: a JSON document of kind SavedPlan.
pub fn read(path: &Path) -> anyhow::Result<SavedPlan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(path, format!("cannot read {}: {e}", path.display()), None))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let line = Some(e.line()).filter(|&l| l > 0);
        bad(path, format!("not JSON: {e}"), line)
    })?;
    if doc["apiVersion"] != API_VERSION || doc["kind"] != saved::KIND {
        return Err(bad(
            path,
            format!(
                "not a saved plan: its apiVersion and kind are {} and {}, a saved plan's are {API_VERSION:?} and {:?}",
                doc["apiVersion"],
                doc["kind"],
                saved::KIND
            ),
            None,
        ));
    }
    serde_json::from_value(doc).map_err(|e| bad(path, format!("not a saved plan: {e}"), None))
}

/// `up --plan FILE`: the plan's groups are observed again; the plan is applied only when
/// nothing it was computed from changed.
pub async fn apply(ctx: &Ctx, path: &Path, force_conflicts: bool) -> anyhow::Result<()> {
    let file = read(path)?;
    let only = groups(ctx);
    let mut planned = file.only.clone();
    planned.sort();
    planned.dedup();
    if !only.is_empty() && only != planned {
        return Err(UsageError {
            message: format!(
                "--only {} differs from the groups the plan covers ({})",
                names(&only),
                if planned.is_empty() {
                    "all".into()
                } else {
                    names(&planned)
                }
            ),
            fix: "leave out --only: `up --plan` applies the groups the plan was made for".into(),
        }
        .into());
    }
    // What needs no call first: another kedactl or config refuses before any read.
    let config = config(ctx)?;
    let why = saved::changed_inputs(&file, &config);
    if !why.is_empty() {
        return Err(StalePlan(why).into());
    }
    let mut global = ctx.global.clone();
    global.only = file.only.clone();
    // Reviewed when it was planned: a pipeline applies it without --yes (a terminal still asks).
    global.yes |= !ctx.stdin_is_tty;
    let ctx = with_global(ctx, global);
    let on = online::prepare(&ctx, online::Purpose::Up).await?;
    let opts = plan::Options {
        adopt: file.adopt,
        only: on.only.clone(),
        force: file.force,
        no_prune: file.no_prune,
    };
    let fresh = plan::plan(&on.desired, &on.observed, &opts)?;
    let why = saved::changed_state(&file, &target(&on), &on.observed, &fresh.steps);
    if !why.is_empty() {
        return Err(StalePlan(why).into());
    }
    let how = How {
        force_conflicts,
        adopt: file.adopt,
        prune: !file.no_prune,
    };
    let plan = Plan { steps: file.steps };
    apply::run(&ctx, &on, &plan, "Up", "Apply", how).await?;
    Ok(())
}

/// `--only`'s groups, sorted, each once.
fn groups(ctx: &Ctx) -> Vec<crate::model::Group> {
    let mut only = ctx.global.only.clone();
    only.sort();
    only.dedup();
    only
}

fn names(groups: &[crate::model::Group]) -> String {
    let v: Vec<&str> = groups.iter().map(|g| g.as_str()).collect();
    v.join(",")
}
