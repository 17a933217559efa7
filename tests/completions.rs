//! The completion scripts in completions/ are what `kedactl completions <shell>` prints today.
//! After changing the CLI, refresh them with: UPDATE_COMPLETIONS=1 cargo test --test completions

use clap_complete::Shell;
use kedactl::commands::completions::script;
use std::path::PathBuf;

const FILES: [(Shell, &str); 4] = [
    (Shell::Bash, "kedactl.bash"),
    (Shell::Zsh, "_kedactl"),
    (Shell::Fish, "kedactl.fish"),
    (Shell::PowerShell, "_kedactl.ps1"),
];

#[test]
fn checked_in_completions_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in FILES {
        let path = dir.join(file);
        let fresh = script(shell);
        assert!(
            String::from_utf8_lossy(&fresh).contains("max-replicas"),
            "{shell} script is incomplete"
        );
        if update {
            std::fs::write(&path, &fresh).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "completions/{stale:?} are out of date: run UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}

/// `doctor --explain <TAB>` offers the check codes, not file names.
#[test]
fn explain_completes_check_codes() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bash = std::fs::read_to_string(dir.join("kedactl.bash")).unwrap();
    let at = bash.find("--explain)").expect("a case for --explain");
    let case = &bash[at..at + 600];
    assert!(case.contains("KD001") && case.contains("KD050"), "{case}");
    let fish = std::fs::read_to_string(dir.join("kedactl.fish")).unwrap();
    let line = fish
        .lines()
        .find(|l| l.contains("-l explain"))
        .expect("fish completes --explain");
    assert!(line.contains("KD010"), "{line}");
}
