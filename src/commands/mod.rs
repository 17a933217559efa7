//! One file per subcommand: its `Args` and a `run` of a few lines over the library.

mod app_queue;
mod apply;
pub mod completions;
pub mod doctor;
pub mod down;
pub mod init;
pub mod load;
mod online;
pub mod plan;
mod plan_file;
pub mod render;
pub mod scale;
pub mod schema;
pub mod simulate;
pub mod up;
pub mod validate;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;

/// Run the commands that need no AWS, cluster or async runtime (`render`, `validate`, `init`,
/// `schema`, `simulate`, `completions`), so `main` builds no runtime for them; any other
/// command is handed back for `run`.
pub fn run_offline(cli: Cli) -> Result<anyhow::Result<()>, Box<Cli>> {
    use Command::*;
    if !matches!(
        cli.command,
        Render(_) | Validate(_) | Init(_) | Schema(_) | Simulate(_) | Completions(_)
    ) {
        return Err(Box::new(cli));
    }
    if let Err(e) = formats(&cli) {
        return Ok(Err(e.into()));
    }
    let ctx = Ctx::new(cli.global);
    Ok(match cli.command {
        Render(args) => render::run(&ctx, args),
        Validate(args) => validate::run(&ctx, args),
        Init(args) => init::run(&ctx, args),
        Schema(args) => schema::run(&ctx, args),
        Simulate(args) => simulate::run(&ctx, args),
        Completions(args) => completions::run(args),
        Up(_) | Plan(_) | Down(_) | Doctor(_) | Load(_) | Scale(_) | Watch(_) => {
            unreachable!("matched above")
        }
    })
}

/// Run any command (the offline ones through `run_offline`).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let cli = match run_offline(cli) {
        Ok(done) => return done,
        Err(cli) => *cli,
    };
    formats(&cli)?;
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Up(args) => up::run(&ctx, args).await,
        Command::Plan(args) => plan::run(&ctx, args).await,
        Command::Down(args) => down::run(&ctx, args).await,
        Command::Doctor(args) => doctor::run(&ctx, args).await,
        Command::Load(args) => load::run(&ctx, args).await,
        Command::Scale(args) => scale::run(&ctx, args).await,
        Command::Watch(args) => watch::run(&ctx, args).await,
        Command::Render(_)
        | Command::Validate(_)
        | Command::Init(_)
        | Command::Schema(_)
        | Command::Simulate(_)
        | Command::Completions(_) => unreachable!("run_offline ran it"),
    }
}

/// `-o junit` is a test report of doctor's checks and `-o markdown` a table of a plan: any
/// other command refuses them rather than print something else.
fn formats(cli: &Cli) -> Result<(), crate::error::UsageError> {
    use crate::output::OutputFormat;
    let ok = match cli.global.output {
        OutputFormat::Junit => {
            matches!(&cli.command, Command::Doctor(a) if !a.list && a.explain.is_none() && !a.fix)
        }
        OutputFormat::Markdown => match &cli.command {
            Command::Plan(_) => true,
            Command::Up(a) => a.dry_run,
            _ => false,
        },
        OutputFormat::Jsonl => matches!(&cli.command, Command::Simulate(_)),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let (format, what) = match cli.global.output {
        OutputFormat::Junit => ("junit", "`doctor` (a run of its checks, or --keda-log)"),
        OutputFormat::Jsonl => ("jsonl", "`simulate` (a line per simulated second)"),
        _ => ("markdown", "`plan` (and `up --dry-run`)"),
    };
    Err(crate::error::UsageError {
        message: format!("-o {format} is an output of {what} only"),
        fix: "use -o human or -o json with this command".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    fn cli(args: &[&str]) -> Cli {
        let matches = crate::cli::command()
            .try_get_matches_from(std::iter::once("kedactl").chain(args.iter().copied()))
            .unwrap();
        Cli::from_arg_matches(&matches).unwrap()
    }

    /// Issue 15, start-up: the offline commands run with no async runtime (a plain test has
    /// none: anything of tokio's would panic); the others are handed back for one.
    #[test]
    fn offline_commands_run_without_a_runtime() {
        let invalid = ["--cluster", "a b", "--region", "us-east-1"];
        for command in ["validate", "render", "simulate"] {
            let mut args = vec![command];
            args.extend(invalid);
            let done = run_offline(cli(&args)).unwrap_or_else(|_| panic!("{command} runs"));
            let err = done.expect_err("the cluster name is invalid");
            assert!(crate::error::problems(&err).is_some(), "{command}: {err:#}");
        }
        for args in [
            &["plan", "--offline"][..],
            &["doctor", "--list"],
            &["up"],
            &["scale", "--dry-run"],
        ] {
            assert!(
                run_offline(cli(args)).is_err(),
                "{args:?} needs the runtime"
            );
        }
    }
}
