//! The exit-code table, and the mapping from errors to it. `main` is the only place that exits.

use crate::problem::{Problem, Problems};
use serde::Serialize;

pub const OK: u8 = 0;
/// doctor found failing checks.
pub const CHECKS_FAILED: u8 = 1;
/// Usage error (clap's own code).
pub const USAGE: u8 = 2;
/// The configuration (file or flags) is invalid; nothing was changed.
pub const INVALID_CONFIG: u8 = 3;
/// An operation failed: an AWS or cluster call, writing files.
pub const FAILED: u8 = 4;
/// `plan --detailed-exitcode`: the plan has changes.
pub const CHANGES_PENDING: u8 = 5;
/// The person answered no at the confirmation prompt (`up`, `down`, `doctor --fix`): nothing
/// was changed. Distinct from 0 so a wrapper script does not take a declined run for a done one.
pub const DECLINED: u8 = 6;
pub const INTERRUPTED: u8 = 130;

/// Exit with a code and print nothing more (the command already reported).
#[derive(Debug, thiserror::Error)]
#[error("exit {0}")]
pub struct SilentExit(pub u8);

/// `up --plan`: the saved plan no longer describes what is there, so nothing was applied
/// (exit 5, as a plan with changes: planning again is what it takes).
#[derive(Debug, thiserror::Error)]
#[error(
    "the plan is stale: {}\nNothing was changed.\n  fix: make a new plan (kedactl plan --out FILE), review it, and apply that file",
    match .0.as_slice() { [one] => one.clone(), all => all.iter().map(|r| format!("\n  - {r}")).collect() }
)]
pub struct StalePlan(pub Vec<String>);

/// A usage mistake kedactl detects itself (a flag combination clap cannot express).
#[derive(Debug, thiserror::Error)]
#[error("{message}\n  fix: {fix}")]
pub struct UsageError {
    pub message: String,
    pub fix: String,
}

/// A failed command's document with `-o json` (the message also goes to stderr): CI reads
/// stdout.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub exit_code: u8,
    /// The message, as on stderr.
    pub error: String,
    /// An invalid configuration's problems, each with its field and fix; null for other errors.
    pub problems: Option<&'a [Problem]>,
}

pub const KIND: &str = "Error";

impl<'a> Report<'a> {
    pub fn new(err: &'a anyhow::Error) -> Self {
        Report {
            exit_code: exit_code(err),
            error: format!("{err:#}"),
            problems: problems(err).map(|p| p.problems.as_slice()),
        }
    }
}

/// The exit code for an error that reached `main`.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if let Some(SilentExit(code)) = err.downcast_ref() {
        return *code;
    }
    if err.downcast_ref::<StalePlan>().is_some() {
        return CHANGES_PENDING;
    }
    if problems(err).is_some() {
        return INVALID_CONFIG;
    }
    if err.downcast_ref::<UsageError>().is_some() {
        return USAGE;
    }
    FAILED
}

/// The config problems behind an error, wherever they are in its chain (a render refusal wraps
/// them).
pub fn problems(err: &anyhow::Error) -> Option<&Problems> {
    err.chain().find_map(|e| e.downcast_ref::<Problems>())
}

/// `kedactl … | head` closing the pipe early is not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| e.downcast_ref::<serde_json::Error>()?.io_error_kind())
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_table() {
        let problems = Problems {
            origin: "x".into(),
            problems: vec![],
        };
        let cases: Vec<(anyhow::Error, u8)> = vec![
            (SilentExit(CHANGES_PENDING).into(), 5),
            (SilentExit(CHECKS_FAILED).into(), 1),
            (SilentExit(DECLINED).into(), 6),
            (StalePlan(vec!["the config changed".into()]).into(), 5),
            (problems.into(), 3),
            (
                UsageError {
                    message: "m".into(),
                    fix: "f".into(),
                }
                .into(),
                2,
            ),
            (anyhow::anyhow!("CreateRole failed"), 4),
        ];
        for (err, code) in cases {
            assert_eq!(exit_code(&err), code, "{err}");
        }
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing");
        assert!(is_broken_pipe(&pipe));
        let json = serde_json::Error::io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&anyhow::Error::new(json).context("writing")));
        assert_eq!((OK, USAGE, INTERRUPTED), (0, 2, 130));
    }
}
