use crate::ctx::Ctx;
use crate::output;

/// Print the JSON Schema of kedactl.yaml, for editor completion and CI checks
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl schema > kedactl.schema.json
  # then, first line of kedactl.yaml (yaml-language-server):
  # yaml-language-server: $schema=./kedactl.schema.json")]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> anyhow::Result<()> {
    output::json(crate::spec::schema())
}
