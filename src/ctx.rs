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
        let stdout_is_tty = std::io::stdout().is_terminal();
        let env = |k: &str| std::env::var(k).ok();
        crate::output::style::init(
            crate::output::style::decide(
                global.color,
                stdout_is_tty,
                env("NO_COLOR").as_deref(),
                env("TERM").as_deref(),
            ),
            stdout_is_tty
                .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
                .flatten(),
        );
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

    /// A --kubeconfig that cannot be read is found before any call, not after the AWS reads.
    fn kubeconfig_exists(&self) -> Result<(), Problems> {
        let Some(path) = &self.global.kubeconfig else {
            return Ok(());
        };
        // Opened, not read: kube reads it.
        match crate::limits::open_regular(path, crate::limits::MAX_CREDENTIAL_FILE_BYTES) {
            Ok(_) => Ok(()),
            Err(e) => Err(Problems {
                origin: "--kubeconfig".into(),
                problems: vec![spec::Problem::new(
                    "--kubeconfig",
                    e.to_string(),
                    "pass the path of a kubeconfig file (`aws eks update-kubeconfig --name <cluster> --kubeconfig FILE` writes one), or drop --kubeconfig to connect through EKS",
                )],
            }),
        }
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
        self.profile_exists()?;
        endpoint_url_problem(
            self.global.endpoint_url.as_deref(),
            std::env::var("AWS_ENDPOINT_URL").ok().as_deref(),
        )?;
        let aws = crate::cloud::Aws::connect(&crate::cloud::Settings {
            region,
            profile: self.global.profile.clone(),
            profile_from_flag: self.global.profile_from_flag,
            endpoint_url: self.global.endpoint_url.clone(),
            endpoint_from_env: std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            timeouts: self.global.timeouts(),
            retries: self.global.retries(),
        })
        .await;
        if !self.quiet {
            crate::cloud::watch_throttling(aws.calls.clone(), |line| eprintln!("{line}"));
        }
        Ok(aws)
    }

    /// The AWS files can be read, and --profile / AWS_PROFILE names a profile in them: else
    /// the SDK would fall through its whole chain and say only "no credentials" or no region.
    fn profile_exists(&self) -> Result<(), Problems> {
        aws_files_problem(|k| std::env::var_os(k))?;
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
        Ok(())
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
                // In JSON mode no plan was printed: point at the command that shows it.
                fix: if self.json() {
                    "run the same command without -o json to review its plan (or `kedactl plan -o json` for up's), then pass --yes".into()
                } else {
                    "review the plan above and pass --yes".into()
                },
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

    /// The same, for commands that reach AWS: IRSA's issuer may come from the cluster.
    pub fn spec_online(&self) -> Result<(Spec, String), Problems> {
        self.spec_checked(spec::validate_online)
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
        self.kubeconfig_exists()?;
        let (mut spec, name, text) = spec::load(&source)?;
        let from_file = spec.clone();
        self.global
            .overrides
            .clone()
            .apply(&mut spec, &name, |k| std::env::var(k).ok())?;
        // Last, as the AWS CLI: the profile's region (after --region, AWS_REGION, AWS_DEFAULT_REGION).
        // A profile that is not there is said only when the region was needed (not by simulate).
        let mut unusable_profile = None;
        if spec.region.is_none() {
            match self.profile_exists() {
                Ok(()) => {
                    spec.region = crate::cloud::profile::region(self.global.profile.as_deref())
                }
                Err(p) => unusable_profile = Some(p),
            }
            if let (Some(r), true) = (&spec.region, self.verbose > 0) {
                self.note(format!(
                    "region: {r} (from AWS profile {})",
                    self.global.profile.as_deref().unwrap_or("default")
                ));
            }
        }
        if let Err(mut p) = check(&spec, &name) {
            // The built-in defaults name no file: no text, no lines.
            if let Some(text) = &text {
                // A line only for a value the file set: not one a flag replaced.
                let (file, now) = (json(&from_file), json(&spec));
                p.locate(text, |field| {
                    let at = pointer(field);
                    file.pointer(&at) == now.pointer(&at)
                });
            }
            p.problems
                .extend(unusable_profile.into_iter().flat_map(|u| u.problems));
            return Err(p);
        }
        // Valid, but likely not what its author means (a per-target metric averaged again).
        for w in crate::triggers::warnings(&spec)
            .into_iter()
            .chain(spec::warnings(&spec))
        {
            self.note(format!(
                "warning: {}: {}\n  fix: {}",
                w.field, w.message, w.fix
            ));
        }
        if self.verbose > 0 {
            self.note(format!("config: {name}"));
        }
        Ok((spec, name))
    }
}

fn json(spec: &Spec) -> serde_json::Value {
    serde_json::to_value(spec).unwrap_or_default()
}

/// `apps[0].queue.name` → `/apps/0/queue/name` (a JSON pointer into the serialized spec).
fn pointer(field: &str) -> String {
    field
        .split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", s.trim_end_matches(']')))
        .collect()
}

/// The SDK reads the AWS config and credentials files to their end: one that is a FIFO or a
/// device (`AWS_CONFIG_FILE=/dev/zero`) would hang it or eat the memory. A missing one is fine.
fn aws_files_problem(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<(), Problems> {
    use crate::limits::ReadError;
    for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let Some(path) = get(var).filter(|p| !p.is_empty()) else {
            continue;
        };
        // No size limit of kedactl's own here; a missing or unreadable file is the SDK's to judge.
        if let Err(e @ (ReadError::Directory { .. } | ReadError::NotRegular { .. })) =
            crate::limits::open_regular(std::path::Path::new(&path), u64::MAX)
        {
            return Err(Problems {
                origin: var.into(),
                problems: vec![spec::Problem::new(
                    var,
                    e.to_string(),
                    format!("point {var} at your AWS file, or unset it to use ~/.aws"),
                )],
            });
        }
    }
    Ok(())
}

/// An endpoint URL the SDK could never use (no scheme, no host) is a config error, found before
/// any call rather than reported as a failed request.
fn endpoint_url_problem(flag: Option<&str>, env: Option<&str>) -> Result<(), Problems> {
    let (field, url) = match (flag, env) {
        (Some(u), _) => ("--endpoint-url", u),
        (None, Some(u)) if !u.is_empty() => ("AWS_ENDPOINT_URL", u),
        _ => return Ok(()),
    };
    let ok = url.parse::<http::Uri>().is_ok_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    if ok {
        return Ok(());
    }
    Err(Problems {
        origin: field.into(),
        problems: vec![spec::Problem::new(
            field,
            format!("{url:?} is not an http:// or https:// URL with a host"),
            "give a URL such as http://127.0.0.1:5000 (moto, LocalStack), or leave it unset for AWS",
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_need_a_scheme_and_a_host() {
        assert!(endpoint_url_problem(Some("http://127.0.0.1:5000"), None).is_ok());
        assert!(endpoint_url_problem(None, Some("https://sqs.example")).is_ok());
        assert!(endpoint_url_problem(None, None).is_ok());
        for bad in [
            "garbage",
            "ftp://x",
            "http://",
            "127.0.0.1:5000",
            "http:// x",
        ] {
            let e = endpoint_url_problem(Some(bad), None).unwrap_err();
            assert_eq!(e.problems[0].field, "--endpoint-url", "{bad}");
        }
        let dev = |k: &str| (k == "AWS_CONFIG_FILE").then(|| "/dev/zero".into());
        assert_eq!(
            aws_files_problem(dev).unwrap_err().problems[0].field,
            "AWS_CONFIG_FILE"
        );
        assert!(aws_files_problem(|_| Some("/nonexistent".into())).is_ok());
        let e = endpoint_url_problem(None, Some("nope")).unwrap_err();
        assert_eq!(e.problems[0].field, "AWS_ENDPOINT_URL");
    }
}
