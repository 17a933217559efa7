//! What `kedactl --version` says: the crate version, the commit it was built from and the
//! target triple (set by build.rs). `-V` and the man pages keep the bare crate version.

/// `0.1.0 (commit 0123456789ab, x86_64-unknown-linux-musl)`; "commit unknown" for a build
/// from a checkout without `KEDACTL_COMMIT` (see build.rs).
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KEDACTL_BUILD_COMMIT"),
    ", ",
    env!("KEDACTL_BUILD_TARGET"),
    ")"
);
