use crate::ctx::Ctx;
use crate::output;
use crate::spec::{Problem, Spec};
use serde::Serialize;

/// `validate -o json` on a valid config (an invalid one gives the `Error` document, exit 3).
#[derive(Serialize, schemars::JsonSchema)]
pub struct Validation<'a> {
    pub valid: bool,
    /// Where the config came from: a path, or "built-in defaults".
    pub source: &'a str,
    /// Always empty here: problems fail the command with an `Error` document.
    pub problems: Vec<Problem>,
    /// The config with the flags applied and the defaults filled in.
    pub spec: &'a Spec,
}

pub const KIND: &str = "Validation";

/// Check kedactl.yaml and the flags; report every problem with its field and fix (exit 3)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl validate
  kedactl validate -f staging.yaml --region eu-west-1
  kedactl validate -o json | jq .problems   # in CI")]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> anyhow::Result<()> {
    let (spec, source) = ctx.spec()?;
    // What the config renders must fit AWS's quotas too: knowable offline, so reported here.
    crate::render::precheck(&spec)?;
    if ctx.json() {
        return output::document(
            KIND,
            &Validation {
                valid: true,
                source: &source,
                problems: Vec::new(),
                spec: &spec,
            },
        );
    }
    let apps: Vec<String> = spec
        .apps
        .iter()
        .map(|a| {
            format!(
                "{}/{} ← {}",
                a.namespace,
                a.deployment,
                a.trigger.imp().source(a)
            )
        })
        .collect();
    output::prose(&format!(
        "{source}: valid. Cluster {} in {}, {} app{}: {}",
        spec.cluster.as_deref().unwrap_or_default(),
        spec.region.as_deref().unwrap_or_default(),
        apps.len(),
        if apps.len() == 1 { "" } else { "s" },
        apps.join(", ")
    ))
}
