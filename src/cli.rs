//! The command line: global flags (config, output, stack and app overrides, --only) and one
//! subcommand per file in `commands/`.

use crate::commands;
use crate::model::Group;
use crate::output::OutputFormat;
use crate::spec::Overrides;
use clap::{ArgAction, Args, Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str =
    "Event-driven autoscaling on SQS for EKS, in one command: KEDA, Pod Identity, IAM, SQS, ECR";

const LONG_ABOUT: &str = "\
kedactl sets up KEDA to scale a Deployment on an SQS queue's depth with EKS Pod Identity: the
keda-operator and keda-identity IAM roles, the queue, the ECR repository, the Pod Identity
Agent add-on and associations, KEDA itself, the TriggerAuthentication and the ScaledObject.

Configuration comes from ./kedactl.yaml (or --config), with every field also available as a
flag; with neither, the built-in defaults reproduce the AWS sample (roles keda-operator /
keda-identity, queue event-messages-queue, namespace security, one pod per 5 messages).";

const EXAMPLES: &str = "\
Examples:
  kedactl plan --offline --cluster demo --region us-east-1
  kedactl up --cluster demo --only iam,queue,registry --yes
  kedactl render --cluster demo --region us-east-1 --account 123456789012 --out-dir out/
  kedactl init --cluster demo --region us-east-1 && kedactl validate
  kedactl schema > kedactl.schema.json";

#[derive(Debug, Parser)]
#[command(name = "kedactl", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
#[command(
    propagate_version = true,
    max_term_width = 100,
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [default: ./kedactl.yaml if it exists, else the built-in defaults]
    #[arg(
        short = 'f',
        long,
        global = true,
        value_name = "FILE",
        env = "KEDACTL_CONFIG"
    )]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    pub output: OutputFormat,
    /// Work on these groups only (comma-separated), e.g. one CI job per group
    #[arg(
        long,
        global = true,
        value_enum,
        value_delimiter = ',',
        value_name = "GROUPS"
    )]
    pub only: Vec<Group>,
    /// Apply without asking (required when stdin is not a terminal, e.g. in CI)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// AWS shared-config profile
    #[arg(long, global = true, value_name = "NAME", env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or
    /// ~/.kube/config); without it, the current context must point at --cluster's endpoint
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Seconds to wait for a connection to AWS or the cluster
    #[arg(long, global = true, value_name = "SECONDS", env = "KEDACTL_CONNECT_TIMEOUT",
          default_value_t = crate::limits::DEFAULT_CONNECT_TIMEOUT_SECS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u64>(1, crate::limits::MAX_TIMEOUT_SECS))]
    pub connect_timeout: u64,
    /// Seconds to wait for one AWS or Kubernetes call to answer, retries included
    #[arg(long, global = true, value_name = "SECONDS", env = "KEDACTL_CALL_TIMEOUT",
          default_value_t = crate::limits::DEFAULT_CALL_TIMEOUT_SECS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u64>(1, crate::limits::MAX_TIMEOUT_SECS))]
    pub call_timeout: u64,
    /// More detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only results on stdout and errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(flatten)]
    pub overrides: Overrides,
}

impl GlobalArgs {
    pub fn timeouts(&self) -> crate::limits::Timeouts {
        crate::limits::Timeouts {
            connect: std::time::Duration::from_secs(self.connect_timeout),
            call: std::time::Duration::from_secs(self.call_timeout),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Up(commands::up::Args),
    Plan(commands::plan::Args),
    Down(commands::down::Args),
    Doctor(commands::doctor::Args),
    Render(commands::render::Args),
    Simulate(commands::simulate::Args),
    Load(commands::load::Args),
    Scale(commands::scale::Args),
    Watch(commands::watch::Args),
    Validate(commands::validate::Args),
    Init(commands::init::Args),
    Schema(commands::schema::Args),
    Completions(commands::completions::Args),
}

/// Environment variables that stand for a flag but are set to nothing: clap would say "a value
/// is required for '--config'" without naming the variable, so kedactl names it first.
pub fn empty_env_flags(
    get: impl Fn(&std::ffi::OsStr) -> Option<std::ffi::OsString>,
) -> Vec<crate::spec::Problem> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    let cmd = Cli::command();
    let args = cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(|s| s.get_arguments()));
    for arg in args {
        let Some(var) = arg.get_env() else { continue };
        let Some(value) = get(var) else { continue };
        let name = var.to_string_lossy();
        if value.to_string_lossy().trim().is_empty()
            && !out.iter().any(|p: &crate::spec::Problem| p.field == name)
        {
            out.push(crate::spec::Problem::new(
                name.to_string(),
                format!(
                    "{name} is set but empty (it stands for --{})",
                    arg.get_long().unwrap_or_default()
                ),
                format!("unset it (`unset {name}`) or give it a value"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn empty_variables_are_named() {
        let got = empty_env_flags(|k| (k == "KEDACTL_CONFIG").then(|| " ".into()));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].field, "KEDACTL_CONFIG");
        assert!(got[0].message.contains("--config"), "{}", got[0].message);
        assert!(empty_env_flags(|_| Some("x".into())).is_empty());
    }
}
