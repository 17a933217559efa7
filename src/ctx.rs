//! Settings resolved once from the global flags and the terminal, then passed to commands;
//! nothing below this checks a TTY or an environment variable itself.

use crate::cli::GlobalArgs;
use crate::output::OutputFormat;
use crate::spec::{self, ConfigSource, Problems, Spec};
use std::io::IsTerminal;

pub struct Ctx {
    pub output: OutputFormat,
    pub quiet: bool,
    pub verbose: u8,
    pub stderr_is_tty: bool,
    pub stdin_is_tty: bool,
    pub global: GlobalArgs,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Self {
        Ctx {
            output: global.output,
            quiet: global.quiet,
            verbose: global.verbose,
            stderr_is_tty: std::io::stderr().is_terminal(),
            stdin_is_tty: std::io::stdin().is_terminal(),
            global,
        }
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// A note on stderr, unless --quiet.
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// AWS clients for `region`, with --profile and --endpoint-url applied.
    /// A profile that does not exist is a configuration error, before any call.
    pub async fn aws(&self, region: Option<String>) -> Result<crate::cloud::Aws, Problems> {
        if let Some(p) = &self.global.profile {
            let known = crate::cloud::profile::available();
            if !known.contains(p) {
                return Err(Problems {
                    origin: "--profile / AWS_PROFILE".into(),
                    problems: vec![spec::Problem::new(
                        "profile",
                        format!(
                            "there is no AWS profile {p:?} in the AWS config or credentials files"
                        ),
                        if known.is_empty() {
                            format!(
                                "create it with `aws configure --profile {p}` (or `aws configure sso`)"
                            )
                        } else {
                            format!(
                                "use one of: {} (or `aws configure --profile {p}`)",
                                known.join(", ")
                            )
                        },
                    )],
                });
            }
        }
        Ok(crate::cloud::Aws::connect(&crate::cloud::Settings {
            region,
            profile: self.global.profile.clone(),
            endpoint_url: self.global.endpoint_url.clone(),
        })
        .await)
    }

    /// Progress for an execution: spinners on a terminal, lines in logs, nothing for JSON/-q.
    pub fn progress(&self) -> crate::output::progress::Progress {
        crate::output::progress::Progress::new(self.stderr_is_tty, self.quiet || self.json())
    }

    /// Ask before changing anything: --yes, or a "y" on a terminal. Without a terminal and
    /// without --yes, refuse rather than hang or guess.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if self.global.yes {
            return Ok(true);
        }
        if !self.stdin_is_tty {
            return Err(crate::error::UsageError {
                message: "refusing to change AWS without confirmation: stdin is not a terminal"
                    .into(),
                fix: "review the plan above and pass --yes".into(),
            }
            .into());
        }
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
    }

    /// kedactl.yaml (or the defaults) with the flags applied, validated. Returns the spec and
    /// where it came from.
    pub fn spec(&self) -> Result<(Spec, String), Problems> {
        self.spec_checked(spec::validate)
    }

    /// The same, for offline work that needs no cluster or region (`simulate`).
    pub fn spec_offline(&self) -> Result<(Spec, String), Problems> {
        self.spec_checked(spec::validate_offline)
    }

    fn spec_checked(
        &self,
        check: fn(&Spec, &str) -> Result<(), Problems>,
    ) -> Result<(Spec, String), Problems> {
        let source = match &self.global.config {
            Some(p) => ConfigSource::Explicit(p.clone()),
            None => ConfigSource::Discover,
        };
        let (mut spec, name) = spec::load(&source)?;
        self.global
            .overrides
            .clone()
            .apply(&mut spec, &name, |k| std::env::var(k).ok())?;
        check(&spec, &name)?;
        if self.verbose > 0 {
            self.note(format!("config: {name}"));
        }
        Ok((spec, name))
    }
}
