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
  kedactl render --out-dir out/     # for GitOps (reads kedactl.yaml)
  kedactl init --cluster demo --region us-east-1 && kedactl validate
  kedactl schema > kedactl.schema.json";

/// The help heading of the flags that say how to reach AWS and the cluster.
const ACCESS: &str = "AWS and cluster access";

/// Example lines longer than this get their `# comment` on a line of its own above the
/// command, so an 80-column terminal never wraps a comment into something that looks like a
/// command.
pub const EXAMPLE_WIDTH: usize = 79;

#[derive(Debug, Parser)]
#[command(name = "kedactl", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
// No `propagate_version`: `kedactl up --version` would print "kedactl-up 0.1.0".
#[command(max_term_width = 100, args_override_self = true)]
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
    /// When to colour the text output
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: crate::output::style::ColorChoice,
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
    /// AWS shared-config profile: its credentials, and its region when no other is given
    #[arg(long, global = true, help_heading = ACCESS, value_name = "NAME", env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// --profile was on the command line (not AWS_PROFILE): its credentials then win over keys
    /// in the environment, as in the AWS CLI. Set by `parse`.
    #[arg(skip)]
    pub profile_from_flag: bool,
    /// Send AWS calls here instead (LocalStack, moto) [env: AWS_ENDPOINT_URL]
    #[arg(long, global = true, help_heading = ACCESS, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Reach the cluster through this kubeconfig [default: from EKS, no kubeconfig needed]
    #[arg(long, global = true, help_heading = ACCESS, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (implies a kubeconfig: --kubeconfig, $KUBECONFIG or
    /// ~/.kube/config); without it, the current context must point at --cluster's endpoint
    #[arg(long, global = true, help_heading = ACCESS, value_name = "NAME")]
    pub context: Option<String>,
    /// Seconds to wait for a connection to AWS or the cluster
    #[arg(long, global = true, help_heading = ACCESS, value_name = "SECONDS", env = "KEDACTL_CONNECT_TIMEOUT",
          default_value_t = crate::limits::DEFAULT_CONNECT_TIMEOUT_SECS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u64>(1, crate::limits::MAX_TIMEOUT_SECS))]
    pub connect_timeout: u64,
    /// Seconds to wait for one AWS or Kubernetes call to answer, retries included
    #[arg(long, global = true, help_heading = ACCESS, value_name = "SECONDS", env = "KEDACTL_CALL_TIMEOUT",
          default_value_t = crate::limits::DEFAULT_CALL_TIMEOUT_SECS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u64>(1, crate::limits::MAX_TIMEOUT_SECS))]
    pub call_timeout: u64,
    /// Seconds to watch a trust policy shared with other clusters after writing it: a
    /// concurrent `up`/`down` of another cluster that overwrote this cluster's change is undone
    /// (IAM has no conditional write; see docs/concurrency.md)
    #[arg(long, global = true, help_heading = ACCESS, value_name = "SECONDS", env = "KEDACTL_TRUST_WATCH",
          default_value_t = crate::limits::DEFAULT_TRUST_WATCH_SECS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u64>(1, crate::limits::MAX_TRUST_WATCH_SECS))]
    pub trust_watch: u64,
    /// More detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only results on stdout and errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Attempts per AWS call, throttled ones included
    #[arg(long, global = true, help_heading = ACCESS, value_name = "N", env = "AWS_MAX_ATTEMPTS",
          default_value_t = crate::limits::DEFAULT_MAX_ATTEMPTS, allow_hyphen_values = true,
          value_parser = crate::limits::whole::<u32>(1, crate::limits::MAX_ATTEMPTS))]
    pub max_attempts: u32,
    /// How AWS calls are retried: adaptive slows down each service as soon as it throttles
    #[arg(long, global = true, help_heading = ACCESS, value_enum, default_value_t,
          value_name = "MODE", env = "AWS_RETRY_MODE")]
    pub retry_mode: crate::cloud::RetryMode,
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

    pub fn retries(&self) -> crate::cloud::Retries {
        crate::cloud::Retries {
            max_attempts: self.max_attempts,
            mode: self.retry_mode,
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

/// Does subcommand `sub` use the global flag `id`? The ones it does not use are still accepted
/// (a script may pass the same flags to every command) but are left out of its help and its
/// completions, so `render --help` does not offer --yes or --kubeconfig.
fn uses(sub: &str, id: &str) -> bool {
    // Reads kedactl.yaml, so the stack and app flags (which override it) apply.
    let spec = !matches!(sub, "schema" | "completions");
    let aws = matches!(
        sub,
        "up" | "plan" | "down" | "doctor" | "load" | "scale" | "watch"
    );
    let cluster = matches!(sub, "up" | "plan" | "down" | "doctor" | "scale" | "watch");
    match id {
        "help" | "version" => true,
        "output" | "color" => !matches!(sub, "schema" | "completions"),
        "verbose" | "quiet" => sub != "completions",
        "config" => spec && sub != "init",
        "only" => matches!(sub, "up" | "plan" | "down" | "doctor" | "render"),
        "yes" | "trust_watch" => matches!(sub, "up" | "down" | "doctor"),
        // The profile's region is the region's last fallback, so whatever reads kedactl.yaml.
        "profile" => aws || (spec && sub != "init"),
        "endpoint_url" | "connect_timeout" | "call_timeout" | "max_attempts" | "retry_mode" => aws,
        "kubeconfig" | "context" => cluster,
        // The stack and app overrides.
        _ => spec,
    }
}

/// An example block with every line that is too long and has a `# comment` split in two: the
/// comment on its own line, then the command.
fn fold_examples(help: &str) -> String {
    let mut out = Vec::new();
    let mut in_examples = false;
    for line in help.lines() {
        if line.starts_with("Examples:") {
            in_examples = true;
        } else if line.trim().is_empty() {
            in_examples = false;
        }
        let split = line
            .match_indices(" # ")
            .next()
            .map(|(i, _)| (line[..i].trim_end(), line[i + 3..].trim()));
        match split {
            Some((cmd, comment))
                if in_examples
                    && line.starts_with("  ")
                    && line.chars().count() > EXAMPLE_WIDTH
                    && !cmd.trim().is_empty() =>
            {
                out.push(format!("  # {comment}"));
                out.push(cmd.to_string());
            }
            _ => out.push(line.to_string()),
        }
    }
    // clap turns "{n}" into a line break (a clap 2 convention it keeps); `load`'s --body
    // placeholder is literally {n}. An empty style reset in between, which clap strips when it
    // prints without colour, keeps it whole.
    out.join("\n").replace("{n}", "{\x1b[0mn}")
}

/// The command line as kedactl shows and parses it: the derive's definition, with each
/// subcommand's help limited to the global flags it uses, and its example comments folded to
/// fit a terminal.
pub fn command() -> clap::Command {
    shaped(false)
}

/// The same command line for shell completion scripts. Their generators offer hidden flags
/// too, so here the flags a subcommand does not use are not there at all (nor global): each
/// subcommand gets its own copy of those it uses.
pub fn completion_command() -> clap::Command {
    shaped(true)
}

fn shaped(for_completion: bool) -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    if for_completion {
        for arg in &globals {
            cmd = cmd.mut_arg(arg.get_id(), |a| a.global(false));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(&name, |mut sub| {
            for arg in &globals {
                let used = uses(&name, arg.get_id().as_str());
                if for_completion && used {
                    sub = sub.arg(arg.clone().global(false));
                } else if !for_completion && !used {
                    // clap propagates a global flag only to a subcommand that lacks it, so
                    // this hidden copy is what the subcommand accepts but does not show.
                    sub = sub.arg(arg.clone().hide(true));
                }
            }
            if let Some(help) = sub.get_after_help().map(|h| h.to_string()) {
                sub = sub.after_help(fold_examples(&help));
            }
            sub
        });
    }
    cmd
}

/// Parse the process's arguments with `command()` (clap's usage errors exit 2, as before);
/// `--version` also names the commit and target (`-V` and the man pages just the version).
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let mut cmd = command().long_version(crate::version::LONG);
    let matches = cmd.get_matches_mut();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    cli.global.profile_from_flag = profile_from_flag(&matches);
    cli
}

/// Was --profile given on the command line (of the top level or the subcommand)?
pub fn profile_from_flag(matches: &clap::ArgMatches) -> bool {
    let on_line = |m: &clap::ArgMatches| {
        m.value_source("profile") == Some(clap::parser::ValueSource::CommandLine)
    };
    on_line(matches) || matches.subcommand().is_some_and(|(_, sub)| on_line(sub))
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
        command().debug_assert();
        completion_command().debug_assert();
    }

    #[test]
    fn long_example_comments_go_above_their_command() {
        let help = format!(
            "Examples:\n  kedactl short   # fits\n  kedactl {}   # a comment that would wrap\nProse {{n}} # not an example",
            "x".repeat(70)
        );
        assert_eq!(
            fold_examples(&help),
            format!(
                "Examples:\n  kedactl short   # fits\n  # a comment that would wrap\n  kedactl {}\nProse {{\x1b[0mn}} # not an example",
                "x".repeat(70)
            )
        );
        assert!(uses("up", "yes") && !uses("render", "yes") && !uses("plan", "yes"));
        assert!(uses("render", "cluster") && !uses("completions", "cluster"));
        assert!(!uses("render", "kubeconfig") && uses("watch", "context"));
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
