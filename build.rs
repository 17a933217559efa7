//! Build facts for `kedactl --version`: the target triple and the commit. The commit comes from
//! `KEDACTL_COMMIT` (set by the release workflow and the Dockerfile) or, in a packaged crate
//! (crates.io, `cargo binstall`'s source fallback), from `.cargo_vcs_info.json`; never from
//! `git` itself, so a new commit does not rebuild kedactl and a source tarball without `.git`
//! builds the same way. Without either, the commit is "unknown".

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KEDACTL_COMMIT");
    // A missing file named by rerun-if-changed would rerun this script on every build.
    let vcs_info = std::fs::read_to_string(".cargo_vcs_info.json").ok();
    if vcs_info.is_some() {
        println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    }
    let env = std::env::var("KEDACTL_COMMIT").ok();
    let commit = commit(env.as_deref(), vcs_info.as_deref()).unwrap_or_else(|e| panic!("{e}"));
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!(
        "cargo:rustc-env=KEDACTL_BUILD_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=KEDACTL_BUILD_TARGET={target}");
}

/// The commit to report, 12 hex digits (with `-dirty` for a crate packaged from a dirty tree):
/// `KEDACTL_COMMIT` first (empty counts as unset), then `.cargo_vcs_info.json`'s `git.sha1`.
pub fn commit(env: Option<&str>, vcs_info: Option<&str>) -> Result<Option<String>, String> {
    let short = |sha: &str| sha[..sha.len().min(12)].to_ascii_lowercase();
    let is_sha = |s: &str| (7..=40).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit());
    if let Some(env) = env.map(str::trim).filter(|s| !s.is_empty()) {
        if !is_sha(env) {
            return Err(format!(
                "KEDACTL_COMMIT is {env:?}, not a git commit (7 to 40 hex digits): \
                 set it to `git rev-parse HEAD` or unset it"
            ));
        }
        return Ok(Some(short(env)));
    }
    let Some(info) = vcs_info else {
        return Ok(None);
    };
    // {"git": {"sha1": "…", "dirty": true}, "path_in_vcs": ""}, written by `cargo package`;
    // read by hand: a JSON parser as a build dependency would cost every build more than this.
    let value_after = |key: &str| {
        let rest = &info[info.find(&format!("\"{key}\""))? + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let Some(sha) = value_after("sha1")
        .and_then(|v| Some(v.strip_prefix('"')?.split('"').next()?.to_string()))
        .filter(|s| is_sha(s))
    else {
        return Ok(None);
    };
    let dirty = value_after("dirty").is_some_and(|v| v.starts_with("true"));
    Ok(Some(format!(
        "{}{}",
        short(&sha),
        if dirty { "-dirty" } else { "" }
    )))
}
