use crate::ctx::Ctx;
use crate::output::{self, API_VERSION};
use serde_json::json;

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
    if ctx.json() {
        return output::json(&json!({
            "apiVersion": API_VERSION,
            "kind": "Validation",
            "valid": true,
            "source": source,
            "problems": [],
            "spec": spec,
        }));
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
    output::text(&format!(
        "{source}: valid. Cluster {} in {}, {} app{}: {}",
        spec.cluster.as_deref().unwrap_or_default(),
        spec.region.as_deref().unwrap_or_default(),
        apps.len(),
        if apps.len() == 1 { "" } else { "s" },
        apps.join(", ")
    ))
}
