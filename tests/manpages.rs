//! The man pages in man/ (kedactl.1 and one kedactl-<command>.1 per subcommand) are what
//! clap_mangen makes of the command line today. After changing the CLI, refresh them with:
//! UPDATE_MANPAGES=1 cargo test --test manpages

use std::path::PathBuf;

/// Every page: (file name, roff text).
fn pages() -> Vec<(String, Vec<u8>)> {
    // `kedactl help X` works, but gets no page: its SEE ALSO entry would name a
    // kedactl-help(1) that says only what `--help` says.
    let mut cmd = kedactl::cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut top)
        .expect("render kedactl.1");
    out.push(("kedactl.1".to_string(), top));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // After build(), clap names it `kedactl-up` (its display name) with the synopsis
        // `kedactl up`, as man(7) pages of git-style subcommands read.
        let name = format!("kedactl-{}", sub.get_name());
        let page = sub.clone();
        let mut text = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut text)
            .unwrap_or_else(|e| panic!("render {name}.1: {e}"));
        out.push((format!("{name}.1"), text));
    }
    out
}

#[test]
fn checked_in_man_pages_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let update = std::env::var_os("UPDATE_MANPAGES").is_some();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let pages = pages();
    let cli = kedactl::cli::command();
    assert_eq!(
        pages.len(),
        1 + cli.get_subcommands().count(),
        "one page for kedactl and one per subcommand"
    );
    let mut stale = Vec::new();
    for (file, text) in &pages {
        let roff = String::from_utf8_lossy(text);
        assert!(roff.contains(".TH "), "{file} is a man page");
        let path = dir.join(file);
        if update {
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            stale.push(file.clone());
        }
    }
    // No page of a subcommand that is gone.
    let names: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if update && !names.contains(&file.as_str()) {
            std::fs::remove_file(dir.join(&file)).unwrap();
        } else if !names.contains(&file.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "man/{stale:?} are out of date: run UPDATE_MANPAGES=1 cargo test --test manpages"
    );
}

/// Every page another page refers to (`kedactl-up(1)`) exists.
#[test]
fn every_page_named_in_see_also_exists() {
    let pages = pages();
    let names: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
    for (file, text) in &pages {
        let roff = String::from_utf8_lossy(text);
        for (i, _) in roff.match_indices("(1)") {
            let start = roff[..i]
                .rfind(|c: char| c.is_whitespace())
                .map_or(0, |s| s + 1);
            let name = roff[start..i].replace("\\-", "-");
            if name.starts_with("kedactl") {
                let page = format!("{name}.1");
                assert!(
                    names.contains(&page.as_str()),
                    "{file} refers to {name}(1), which does not exist"
                );
            }
        }
    }
}

/// A subcommand's page documents its own flags and none it does not use, like its --help.
#[test]
fn a_subcommand_page_lists_the_flags_it_uses() {
    let pages = pages();
    let page = |name: &str| {
        let (_, text) = pages.iter().find(|(f, _)| f == name).unwrap();
        String::from_utf8(text.clone()).unwrap()
    };
    let render = page("kedactl-render.1");
    assert!(render.contains("kedactl\\-render"), "{render}");
    assert!(render.contains("\\-\\-out\\-dir"), "{render}");
    assert!(!render.contains("\\-\\-kubeconfig"), "{render}");
    let up = page("kedactl-up.1");
    assert!(
        up.contains("\\-\\-kubeconfig") && up.contains("\\-\\-dry\\-run"),
        "{up}"
    );
}
