use clap_complete::Shell;

/// Print a shell completion script
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl completions bash > ~/.local/share/bash-completion/completions/kedactl
  kedactl completions zsh > ~/.zfunc/_kedactl
  kedactl completions fish > ~/.config/fish/completions/kedactl.fish
  kedactl completions powershell >> $PROFILE")]
pub struct Args {
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script(args.shell))?;
    Ok(())
}

/// The completion script for a shell (also what `completions/` holds, checked by a test).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::completion_command(),
        "kedactl",
        &mut out,
    );
    out
}
