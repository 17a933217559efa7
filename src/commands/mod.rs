//! One file per subcommand: its `Args` and a `run` of a few lines over the library.

pub mod completions;
pub mod init;
pub mod plan;
pub mod render;
pub mod schema;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Plan(args) => plan::run(&ctx, args),
        Command::Render(args) => render::run(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Init(args) => init::run(&ctx, args),
        Command::Schema(args) => schema::run(&ctx, args),
        Command::Completions(args) => completions::run(args),
    }
}
