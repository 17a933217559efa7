//! `src/spec/partitions.json` (the regions kedactl accepts, their partitions and DNS suffixes)
//! is the partition document the AWS SDK crates in Cargo.lock compile into their endpoint
//! resolvers, not a hand list: read from each SDK crate's `src/endpoint_lib.rs` (found with
//! `cargo metadata`) and compared. `UPDATE_PARTITIONS=1 cargo test --test partitions` copies it
//! again after an SDK upgrade.

use serde_json::Value;
use std::path::PathBuf;

/// The source folders of the aws-sdk-* crates kedactl depends on, as Cargo resolved them.
fn sdk_crates() -> Vec<(String, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // This platform's packages only: the others' are never downloaded, and --offline holds.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().starts_with("aws-sdk-"))
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            (
                format!(
                    "{} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                ),
                manifest.parent().unwrap().to_path_buf(),
            )
        })
        .collect()
}

/// The byte-string literal the generated resolver parses: `new_from_json(b"…")`.
fn embedded_document(endpoint_lib: &str) -> Option<Value> {
    let start = endpoint_lib.find("new_from_json(b\"")? + "new_from_json(b\"".len();
    let mut text = String::new();
    let mut chars = endpoint_lib[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return serde_json::from_str(&text).ok(),
            '\\' => match chars.next()? {
                'n' => text.push('\n'),
                't' => text.push('\t'),
                other => text.push(other),
            },
            c => text.push(c),
        }
    }
    None
}

#[test]
fn the_partition_document_is_the_sdks() {
    let crates = sdk_crates();
    assert!(crates.len() >= 5, "aws-sdk crates: {crates:?}");
    let ours: Value = serde_json::from_str(kedactl::spec::regions::PARTITIONS_JSON).unwrap();
    let mut sdk: Option<Value> = None;
    for (name, dir) in &crates {
        let source = std::fs::read_to_string(dir.join("src/endpoint_lib.rs"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc =
            embedded_document(&source).unwrap_or_else(|| panic!("{name}: no partition document"));
        match &sdk {
            None => sdk = Some(doc),
            // One SDK release, one document: crates that disagree are a half-done upgrade.
            Some(first) => assert_eq!(&doc, first, "{name} ships another partition document"),
        }
    }
    let sdk = sdk.unwrap();
    if std::env::var_os("UPDATE_PARTITIONS").is_some() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/spec/partitions.json");
        std::fs::write(&path, serde_json::to_string_pretty(&sdk).unwrap() + "\n").unwrap();
        return;
    }
    assert!(
        ours == sdk,
        "src/spec/partitions.json differs from the AWS SDK's partition data: run \
         UPDATE_PARTITIONS=1 cargo test --test partitions"
    );
}
