//! What `up` and `down` share once they have a plan: show it, confirm, execute, report.

use super::online::Online;
use super::plan::{Report, UP_TO_DATE, human};
use crate::ctx::Ctx;
use crate::error::{DECLINED, FAILED, INTERRUPTED, SilentExit};
use crate::exec::{self, Status};
use crate::output;
use crate::plan::Plan;
use crate::render::Desired;
use serde::Serialize;
use std::collections::BTreeMap;

/// `up` and `down` as JSON: the plan's fields, then what each step did.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Outcomes<'a> {
    #[serde(flatten)]
    pub plan: Report<'a>,
    /// One per step that ran or could not (empty when the plan was).
    pub outcomes: &'a [exec::Outcome],
    pub calls: Calls,
    /// Wall time of the execution (absent when there was nothing to do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Why `down` ran none of the steps (what they would lose without `--force`).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub refused: &'a [String],
    /// `up`: what the stack's users need next (absent for `down`, and when `up` failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
}

/// What a user needs after `up`, as `terraform apply` ends with its outputs: the roles' ARNs
/// (for a TriggerAuthentication or a policy elsewhere), the queues' URLs (for producers), the
/// repositories' URIs (for `docker push`). Names as keys, in the stack's order.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Outputs {
    pub roles: BTreeMap<String, String>,
    pub queues: BTreeMap<String, String>,
    pub repositories: BTreeMap<String, String>,
}

impl Outputs {
    pub fn of(desired: &Desired) -> Outputs {
        Outputs {
            roles: desired
                .roles
                .iter()
                .map(|r| (r.name.clone(), r.arn.clone()))
                .collect(),
            queues: desired
                .queues
                .iter()
                .map(|q| (q.name.clone(), q.url.clone()))
                .collect(),
            repositories: desired
                .repositories
                .iter()
                .map(|r| (r.name.clone(), r.uri.clone()))
                .collect(),
        }
    }

    /// "Outputs:" and one aligned line per value.
    pub fn text(&self) -> String {
        let rows: Vec<(String, &String)> = [
            ("role", &self.roles),
            ("queue", &self.queues),
            ("repository", &self.repositories),
        ]
        .into_iter()
        .flat_map(|(kind, map)| map.iter().map(move |(n, v)| (format!("{kind} {n}"), v)))
        .collect();
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::from("\nOutputs:");
        for (k, v) in rows {
            out.push_str(&format!("\n  {k:<width$}  {v}"));
        }
        out
    }
}

/// API calls made: reads and changes.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Calls {
    pub read: usize,
    pub mutating: usize,
}

/// How a confirmed plan is carried out (`up`'s flags; `down` and repairs use the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct How {
    /// Server-side apply takes over fields other managers own.
    pub force_conflicts: bool,
    /// Resources this stack does not own are taken over, so ownership is not re-checked.
    pub adopt: bool,
    /// What the config no longer names goes (not `--no-prune`): here, this cluster's trust
    /// statements for service accounts no app names.
    pub prune: bool,
}

/// "Apply this step?", "Apply these 3 steps?"
pub fn question(verb: &str, n: usize) -> String {
    if n == 1 {
        format!("{verb} this step?")
    } else {
        format!("{verb} these {n} steps?")
    }
}

/// Ask (or take --yes), then run the plan. A "no" ends the command with exit 6 (`DECLINED`),
/// nothing changed. Ctrl-C stops with 130.
pub async fn confirm_and_execute(
    ctx: &Ctx,
    on: &Online,
    plan: &Plan,
    verb: &str,
    how: How,
) -> anyhow::Result<exec::Report> {
    if !ctx.confirm(&question(verb, plan.steps.len()))? {
        ctx.note(format!("Nothing changed (exit {DECLINED})."));
        return Err(SilentExit(DECLINED).into());
    }
    let opts = exec::Options {
        force_conflicts: how.force_conflicts,
        stack: (!how.adopt).then(|| on.desired.stack.clone()),
        trusts: on
            .desired
            .roles
            .iter()
            .map(|r| (r.name.clone(), r.trust.body.clone()))
            .collect(),
        policies: on
            .desired
            .roles
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.policies.iter().map(|p| p.name.clone()).collect(),
                )
            })
            .collect(),
        retired_trusts: crate::plan::prune::retired_roles(&on.desired, &on.observed)
            .into_iter()
            .map(|r| (r.name, r.trust.body))
            .collect(),
        stale_statements: match how.prune {
            true => crate::plan::prune::stale_statements(&on.desired, &on.observed),
            false => Default::default(),
        },
        trust_watch: std::time::Duration::from_secs(ctx.global.trust_watch),
        ..exec::Options::new(&on.desired.cluster, &on.desired.stack)
    };
    let progress = ctx.progress();
    tokio::select! {
        r = exec::execute(&on.aws, on.kube.as_ref(), plan, &opts, &progress) => Ok(r),
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: steps in flight may or may not have completed; run the same command again to converge");
            Err(SilentExit(INTERRUPTED).into())
        }
    }
}

pub async fn run(
    ctx: &Ctx,
    on: &Online,
    plan: &Plan,
    kind: &'static str,
    verb: &str,
    how: How,
) -> anyhow::Result<Applied> {
    let (reads, _) = on.calls();
    if !ctx.json() {
        let empty = if kind == "Down" {
            "Nothing to delete: this stack owns nothing here (in the groups chosen)."
        } else {
            UP_TO_DATE
        };
        let mut text = human(&on.desired, plan, "against what exists now", empty);
        if ctx.verbose > 0 {
            text.push_str(&super::plan::documents(plan));
        }
        output::prose(&text)?;
    }
    if plan.is_empty() {
        if ctx.json() {
            let doc = Outcomes {
                plan: Report::new(&on.desired, plan, false),
                outcomes: &[],
                calls: Calls {
                    read: reads,
                    mutating: 0,
                },
                seconds: None,
                refused: &[],
                outputs: (kind == "Up").then(|| Outputs::of(&on.desired)),
            };
            output::document(kind, &doc)?;
        } else if kind == "Up" {
            output::prose(&Outputs::of(&on.desired).text())?;
        }
        return Ok(Applied::Nothing);
    }
    let n = plan.steps.len();
    let report = confirm_and_execute(ctx, on, plan, verb, how).await?;
    let (read, mutating) = on.calls();
    // The executor's own clock: the time a person spent at the prompt is not the run's.
    let seconds = report.seconds;
    if ctx.json() {
        let doc = Outcomes {
            plan: Report::new(&on.desired, plan, false),
            outcomes: &report.outcomes,
            calls: Calls { read, mutating },
            seconds: Some((seconds * 10.0).round() / 10.0),
            refused: &[],
            outputs: (kind == "Up" && report.ok()).then(|| Outputs::of(&on.desired)),
        };
        output::document(kind, &doc)?;
    } else {
        output::prose(&format!(
            "\n{}: {} done, {} failed, {} not run in {seconds:.1} s ({} API calls, {mutating} changing).",
            kind,
            report.count(Status::Done),
            report.count(Status::Failed),
            report.count(Status::NotRun),
            read + mutating
        ))?;
        if kind == "Up" && report.ok() {
            output::prose(&Outputs::of(&on.desired).text())?;
        }
    }
    if ctx.verbose > 0 {
        ctx.note(format!(
            "critical path: {} step{} one after another, {} AWS round trip{} (reads included), took {seconds:.1} s",
            report.critical_path,
            if report.critical_path == 1 { "" } else { "s" },
            on.aws.calls.rounds(),
            if on.aws.calls.rounds() == 1 { "" } else { "s" },
        ));
    }
    if !report.ok() {
        let failed: Vec<String> = report
            .outcomes
            .iter()
            .filter(|o| o.status != Status::Done)
            .map(|o| {
                format!(
                    "\n  - {}: {}",
                    o.summary,
                    o.error.as_deref().unwrap_or_default()
                )
            })
            .collect();
        eprintln!(
            "error: {} of {n} steps did not complete:{}\nEverything done is kept; run the same command again to finish.",
            n - report.count(Status::Done),
            failed.concat()
        );
        return Err(SilentExit(FAILED).into());
    }
    Ok(Applied::Done)
}

/// How `run` ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The plan was empty.
    Nothing,
    /// Every step completed.
    Done,
}
