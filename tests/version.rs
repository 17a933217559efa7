//! Where `kedactl --version` gets its commit (build.rs, included here as a module): the
//! release workflow's and the Dockerfile's `KEDACTL_COMMIT`, else a packaged crate's
//! `.cargo_vcs_info.json`, else "unknown" — never `git`, so a commit does not rebuild kedactl.

#[allow(dead_code)] // its main() is the build script's
#[path = "../build.rs"]
mod build;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn the_commit_comes_from_kedactl_commit_first() {
    let vcs = r#"{"git": {"sha1": "fedcba9876543210fedcba9876543210fedcba98"}}"#;
    assert_eq!(
        build::commit(Some(SHA), Some(vcs)).unwrap().as_deref(),
        Some("0123456789ab")
    );
    assert_eq!(
        build::commit(Some(" ABCDEF1\n"), None).unwrap().as_deref(),
        Some("abcdef1")
    );
    // Empty is unset (a workflow's `${{ github.sha }}` outside a push, a bare build-arg).
    assert_eq!(
        build::commit(Some(""), Some(vcs)).unwrap().as_deref(),
        Some("fedcba987654")
    );
    // Not a commit: the build stops and says which variable and what to set.
    let err = build::commit(Some("v0.1.0"), None).unwrap_err();
    assert!(
        err.contains("KEDACTL_COMMIT") && err.contains("git rev-parse HEAD"),
        "{err}"
    );
    assert!(build::commit(Some("abc"), None).is_err(), "too short");
}

#[test]
fn a_packaged_crate_has_its_commit_in_cargo_vcs_info() {
    // As `cargo package` writes it (pretty-printed), dirty or not.
    let vcs =
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{SHA}\"\n  }},\n  \"path_in_vcs\": \"\"\n}}");
    assert_eq!(
        build::commit(None, Some(&vcs)).unwrap().as_deref(),
        Some("0123456789ab")
    );
    let dirty = format!("{{\"git\":{{\"sha1\":\"{SHA}\",\"dirty\":true}},\"path_in_vcs\":\"\"}}");
    assert_eq!(
        build::commit(None, Some(&dirty)).unwrap().as_deref(),
        Some("0123456789ab-dirty")
    );
    // A source tarball or checkout without it: unknown, not an error.
    assert_eq!(build::commit(None, None).unwrap(), None);
    assert_eq!(build::commit(None, Some("{}")).unwrap(), None);
    assert_eq!(
        build::commit(None, Some(r#"{"git": {"sha1": "not hex"}}"#)).unwrap(),
        None
    );
}
