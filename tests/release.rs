//! Issue 40: the release archives, as the release workflow makes them with scripts/package.sh,
//! are where `cargo binstall` (Cargo.toml's `[package.metadata.binstall]`) looks for them.

mod common;
use common::Sandbox;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The targets the release workflow builds.
fn release_targets() -> Vec<String> {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let doc: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    doc["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["target"].as_str().unwrap().to_string())
        .collect()
}

/// `key = "value"` lines of each `[section]` of Cargo.toml (enough for the binstall tables).
fn manifest_tables() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut table = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = name.to_string();
        } else if let Some((k, v)) = line.split_once(" = ")
            && let Some(v) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
        {
            out.entry(table.clone())
                .or_default()
                .insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// cargo binstall's `{ name }` templates.
fn expand(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{ {k} }}"), v);
    }
    assert!(!out.contains('{'), "a template variable left in {out}");
    out
}

#[test]
fn cargo_binstall_finds_the_archives_the_release_workflow_publishes() {
    let tables = manifest_tables();
    let base = &tables["package.metadata.binstall"];
    let repo = &tables["package"]["repository"];
    let version = env!("CARGO_PKG_VERSION");
    let targets = release_targets();
    assert_eq!(targets.len(), 5, "{targets:?}");
    for target in &targets {
        let over = tables.get(&format!("package.metadata.binstall.overrides.{target}"));
        let get = |k: &str| over.and_then(|o| o.get(k)).unwrap_or(&base[k]).clone();
        let windows = target.contains("windows");
        let vars = [
            ("repo", repo.as_str()),
            ("version", version),
            ("name", "kedactl"),
            ("target", target),
            ("bin", "kedactl"),
            ("binary-ext", if windows { ".exe" } else { "" }),
        ];
        let (ext, fmt) = if windows {
            ("zip", "zip")
        } else {
            ("tar.gz", "tgz")
        };
        assert_eq!(
            expand(&get("pkg-url"), &vars),
            format!("{repo}/releases/download/v{version}/kedactl-{version}-{target}.{ext}")
        );
        assert_eq!(get("pkg-fmt"), fmt, "{target}");
        assert_eq!(
            expand(&get("bin-dir"), &vars),
            format!(
                "kedactl-{version}-{target}/kedactl{}",
                if windows { ".exe" } else { "" }
            )
        );
    }
}

/// The archive scripts/package.sh makes holds the binary where bin-dir says, under the name
/// pkg-url asks for; a version other than Cargo.toml's is refused (a tag must match it).
#[test]
fn package_sh_makes_the_archive_binstall_and_the_action_expect() {
    let s = Sandbox::new();
    let version = env!("CARGO_PKG_VERSION");
    let target = "aarch64-apple-darwin"; // not runnable here: the script skips its --version check
    let fake = s.write("kedactl", "not a binary");
    let package = |extra: &[&str]| {
        Command::new("bash")
            .arg(root().join("scripts/package.sh"))
            .args(["--target", target, "--binary", fake.to_str().unwrap()])
            .args(["--out", s.path("dist").to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = package(&["--version", &format!("v{version}")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = s.path(&format!("dist/kedactl-{version}-{target}.tar.gz"));
    let listing = Command::new("tar")
        .arg("-tvzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let bin = listing
        .lines()
        .find(|l| l.ends_with(&format!(" kedactl-{version}-{target}/kedactl")))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(bin.starts_with("-rwxr-xr-x"), "{bin}");
    // SHA256SUMS names it, and `sha256sum -c` accepts it.
    let sums = std::fs::read_to_string(s.path("dist/SHA256SUMS")).unwrap();
    assert!(
        sums.ends_with(&format!("  kedactl-{version}-{target}.tar.gz\n")),
        "{sums}"
    );
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(s.path("dist"))
        .output()
        .unwrap();
    assert!(check.status.success());

    let out = package(&["--version", "v99.0.0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("99.0.0") && err.contains("Cargo.toml"),
        "{err}"
    );
}
