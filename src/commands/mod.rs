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
