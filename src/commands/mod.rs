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
pub mod render;
pub mod scale;
pub mod schema;
pub mod simulate;
pub mod up;
pub mod validate;
pub mod watch;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    formats(&cli)?;
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Up(args) => up::run(&ctx, args).await,
        Command::Plan(args) => plan::run(&ctx, args).await,
        Command::Down(args) => down::run(&ctx, args).await,
        Command::Doctor(args) => doctor::run(&ctx, args).await,
        Command::Render(args) => render::run(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Init(args) => init::run(&ctx, args),
        Command::Load(args) => load::run(&ctx, args).await,
        Command::Scale(args) => scale::run(&ctx, args).await,
        Command::Watch(args) => watch::run(&ctx, args).await,
        Command::Schema(args) => schema::run(&ctx, args),
        Command::Simulate(args) => simulate::run(&ctx, args),
        Command::Completions(args) => completions::run(args),
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
