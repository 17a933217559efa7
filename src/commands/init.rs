use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::output;
use crate::spec::{self, DEFAULT_CONFIG_FILE, Spec, names};
use anyhow::Context;
use std::io::IsTerminal;
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
    // A value given must be valid; cluster and region are asked for, or named as still to fill.
    spec::validate_offline(&spec, "flags")?;
    let region_from_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.is_empty()));
    if !args.stdout && std::io::stdin().is_terminal() {
        if spec.cluster.is_none() {
            spec.cluster = Some(ask("EKS cluster name", names::eks_cluster)?);
        }
        if spec.region.is_none() && !region_from_env {
            spec.region = Some(ask("AWS region (e.g. us-east-1)", names::region)?);
        }
    }
    let mut missing: Vec<&str> = Vec::new();
    if spec.cluster.is_none() {
        missing.push("cluster");
    }
    if spec.region.is_none() && !region_from_env {
        missing.push("region");
    }
    let mut text = crate::render::config_file(&spec)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
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
    let validate = format!(
        "kedactl validate{}",
        if args.path == std::path::Path::new(DEFAULT_CONFIG_FILE) {
            String::new()
        } else {
            format!(" -f {}", args.path.display())
        }
    );
    ctx.note(match missing.as_slice() {
        [] => format!("wrote {}; check it with `{validate}`", args.path.display()),
        fields => format!(
            "wrote {}; fill in {} (uncomment the line{}, or pass {} to `init`), then check it with `{validate}`",
            args.path.display(),
            fields.join(" and "),
            if fields.len() == 1 { "" } else { "s" },
            fields
                .iter()
                .map(|f| format!("--{f}"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    });
    Ok(())
}

/// Ask on the terminal until the answer passes `rule` (three tries).
fn ask(what: &str, rule: fn(&str) -> Result<(), String>) -> anyhow::Result<String> {
    use std::io::Write;
    for _ in 0..3 {
        eprint!("{what}: ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            break;
        }
        let answer = line.trim();
        match rule(answer) {
            Ok(()) => return Ok(answer.to_string()),
            Err(r) => eprintln!("  {answer:?} is not valid: use {r}"),
        }
    }
    Err(UsageError {
        message: format!("no valid {what} was given"),
        fix: "pass it as a flag (kedactl init --cluster NAME --region REGION)".into(),
    }
    .into())
}
