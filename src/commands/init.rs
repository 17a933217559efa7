use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::output;
use crate::spec::{self, DEFAULT_CONFIG_FILE, Spec};
use anyhow::Context;
use std::path::PathBuf;

/// Write a commented kedactl.yaml (the seed's defaults, with any flags given)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl init --cluster demo --region us-east-1
  kedactl init --cluster demo --queue orders --queue-length 10 orders.yaml
  kedactl init --stdout > kedactl.yaml")]
pub struct Args {
    /// Where to write it
    #[arg(default_value = DEFAULT_CONFIG_FILE, value_name = "PATH")]
    pub path: PathBuf,
    /// Print to stdout instead of writing a file
    #[arg(long, conflicts_with = "force")]
    pub stdout: bool,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    // Start from the defaults, not from an existing kedactl.yaml: init writes a fresh file.
    let mut spec = Spec::default();
    ctx.global
        .overrides
        .clone()
        .apply(&mut spec, "flags", |k| std::env::var(k).ok())?;
    // A value given must be valid; cluster and region may be filled in later.
    spec::validate_offline(&spec, "flags")?;
    let text = crate::render::config_file(&spec)?;
    if args.stdout {
        return output::text(&text);
    }
    if args.path.exists() && !args.force {
        return Err(UsageError {
            message: format!("{} already exists", args.path.display()),
            fix: "pass --force to overwrite it, --stdout to print instead, or another PATH".into(),
        }
        .into());
    }
    std::fs::write(&args.path, &text)
        .with_context(|| format!("writing {}", args.path.display()))?;
    ctx.note(format!(
        "wrote {}; check it with `kedactl validate{}`",
        args.path.display(),
        if args.path == std::path::Path::new(DEFAULT_CONFIG_FILE) {
            String::new()
        } else {
            format!(" -f {}", args.path.display())
        }
    ));
    Ok(())
}
