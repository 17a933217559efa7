//! `--profile` / AWS_PROFILE must name a profile that exists, or the SDK falls through the
//! whole credential chain and reports "no credentials" without saying which name was wrong.
//! Checked before any AWS call, from the same files the SDK reads.

use std::path::PathBuf;

/// Profile names in a config file (`[profile x]`, `[default]`) or credentials file (`[x]`).
pub fn names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.strip_suffix(']')?.trim();
            let name = inner
                .strip_prefix("profile")
                .map(str::trim)
                .unwrap_or(inner);
            (!name.is_empty()
                && !inner.starts_with("sso-session")
                && !inner.starts_with("services"))
            .then(|| name.to_string())
        })
        .collect()
}

fn file(var: &str, default: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws").join(default)),
    }
}

/// Every profile the SDK could load.
pub fn available() -> Vec<String> {
    let mut all = Vec::new();
    for (var, default) in [
        ("AWS_CONFIG_FILE", "config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ] {
        if let Some(text) = file(var, default)
            .and_then(|p| {
                crate::limits::read_bounded(&p, crate::limits::MAX_CREDENTIAL_FILE_BYTES).ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
        {
            for n in names(&text) {
                if !all.contains(&n) {
                    all.push(n);
                }
            }
        }
    }
    all
}

/// The region of the selected profile (`--profile`, else AWS_PROFILE, else `default`) as the
/// SDK's own `ProfileFileRegionProvider` reads it: `region` in the profile's section of
/// AWS_CONFIG_FILE / ~/.aws/config, or else in its `source_profile`'s. Local files only: the
/// provider never awaits anything (the SDK's own tests poll it once), so no runtime is needed.
pub fn region(profile: Option<&str>) -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    use futures_util::FutureExt;
    let mut provider = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        provider = provider.profile_name(p);
    }
    let provider = provider.build();
    provider
        .region()
        .now_or_never()
        .flatten()
        .map(|r| r.to_string())
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_sections_are_named_like_the_sdk_reads_them() {
        let config = "[default]\nregion = us-east-1\n[profile sandbox]\nsso_session = x\n[sso-session x]\nsso_region = us-east-1\n";
        assert_eq!(names(config), ["default", "sandbox"]);
        assert_eq!(names("[ci]\naws_access_key_id = A\n"), ["ci"]);
    }
}
