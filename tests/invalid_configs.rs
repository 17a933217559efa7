//! Every bad input a user can give — files and flags — fails with exit 3, names the field and
//! a fix on stderr, prints nothing on stdout, and (with -o json) gives CI the same problems.

mod common;
use common::bad_input::counting_endpoint;
use common::{Sandbox, stderr, stdout};
use std::path::Path;

/// The `# expect: FIELD` and `# args: ...` header lines of a corpus file.
fn expectations(text: &str) -> (Vec<String>, Vec<String>) {
    let mut fields = Vec::new();
    let mut args = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("# expect: ") {
            fields.push(f.trim().to_string());
        } else if let Some(a) = line.strip_prefix("# args: ") {
            args.extend(a.split_whitespace().map(str::to_string));
        }
    }
    if fields.is_empty() {
        fields.push("(file)".into());
    }
    (fields, args)
}

fn assert_rejected(sandbox: &Sandbox, args: &[String], fields: &[String], case: &str) {
    let out = sandbox.kedactl(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{case}: exit code; stderr:\n{err}"
    );
    assert!(
        stdout(&out).is_empty(),
        "{case}: nothing on stdout, got {}",
        stdout(&out)
    );
    assert!(err.contains("invalid configuration"), "{case}: {err}");
    for f in fields {
        // With the line of the file that sets it, when the file does.
        assert!(
            err.contains(&format!("  - {f}: "))
                || err
                    .lines()
                    .any(|l| l.starts_with("  - line ") && l.contains(&format!(": {f}: "))),
            "{case}: field {f} not named in:\n{err}"
        );
    }
    assert!(err.contains("fix: "), "{case}: no fix in:\n{err}");
    assert_eq!(
        err.matches("\n  - ").count(),
        fields.len(),
        "{case}: exactly the expected problems:\n{err}"
    );

    // The same failure as a JSON document for CI.
    let mut json_args = args.to_vec();
    json_args.extend(["-o".into(), "json".into()]);
    let out = sandbox.kedactl(&json_args).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{case} (json)");
    let doc: serde_json::Value =
        common::valid_document(serde_json::from_slice(&out.stdout).expect("a JSON error document"));
    assert_eq!(doc["kind"], "Error");
    let got: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for f in fields {
        assert!(got.contains(&f.as_str()), "{case} (json): {got:?}");
    }
}

#[test]
fn every_file_in_the_corpus_is_rejected_with_its_field() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let sandbox = Sandbox::new();
    for path in cases {
        let text = std::fs::read_to_string(&path).unwrap();
        let (fields, extra) = expectations(&text);
        let mut args = vec![
            "validate".to_string(),
            "-f".into(),
            path.display().to_string(),
        ];
        args.extend(extra);
        assert_rejected(&sandbox, &args, &fields, &path.display().to_string());
    }
}

#[test]
fn binary_garbage_and_huge_files_are_refused_before_parsing() {
    let sandbox = Sandbox::new();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    let bin = sandbox.write("garbage.yaml", garbage);
    let huge = sandbox.write(
        "huge.yaml",
        format!("cluster: demo\n# {}\n", "x".repeat(2 << 20)),
    );
    for (path, says) in [(bin, "not UTF-8"), (huge, "at most 1 MiB")] {
        let args = vec![
            "validate".to_string(),
            "-f".into(),
            path.display().to_string(),
        ];
        assert_rejected(&sandbox, &args, &["(file)".into()], says);
        let out = sandbox.kedactl(&args).output().unwrap();
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
}

#[test]
fn a_missing_config_file_or_a_directory_is_named() {
    let sandbox = Sandbox::new();
    for (path, says) in [("missing.yaml", "no such file"), (".", "is a directory")] {
        let args: Vec<String> = ["validate", "--config", path].map(String::from).to_vec();
        assert_rejected(&sandbox, &args, &["(file)".into()], path);
        let out = sandbox.kedactl(&args).output().unwrap();
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
}

#[test]
fn bad_flags_are_rejected_like_bad_config() {
    let sandbox = Sandbox::new();
    let two_apps = sandbox.write("two.yaml", "cluster: demo\nregion: us-east-1\napps:\n  - deployment: a\n  - deployment: b\n    serviceAccount: b\n");
    let two = two_apps.display().to_string();
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["--min-replicas", "5", "--max-replicas", "2"],
            &["apps[0].scaling.minReplicas"],
        ),
        (vec!["--region", "us-east"], &["region"]),
        (vec!["--account", "12"], &["account"]),
        (vec!["--cluster", "a b"], &["cluster"]),
        (vec!["--queue", "bad name"], &["apps[0].queue.name"]),
        (vec!["--keda-version", "2.10.0"], &["keda.version"]),
        (vec!["--namespace", "Prod"], &["apps[0].namespace"]),
        (
            vec!["--dlq", "same", "--queue", "same"],
            &["apps[0].queue.deadLetter.name"],
        ),
        (
            vec!["--identity-role", "keda-operator"],
            &["roles.identity"],
        ),
        (vec!["--auth-mode", "irsa"], &["oidcIssuer"]),
        (vec!["--stack", "a/b"], &["stack"]),
        (vec!["--app", "nope", "--queue-length", "3"], &["--app"]),
        (vec!["-f", &two, "--queue-length", "3"], &["--app"]),
    ];
    for (flags, fields) in cases {
        let mut args: Vec<String> = ["validate", "--cluster", "demo", "--region", "us-east-1"]
            .map(String::from)
            .to_vec();
        // Later flags win, so a case may override the cluster and region above.
        args.extend(flags.iter().map(|s| s.to_string()));
        let fields: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        assert_rejected(&sandbox, &args, &fields, &flags.join(" "));
    }
}

#[test]
fn flags_that_clap_cannot_parse_are_usage_errors() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["validate", "--min-replicas", "lots"],
        vec!["validate", "--auth-mode", "kiam"],
        vec!["plan", "--only", "network", "--offline"],
        // `up --force` exists (#38: delete what the config no longer names, data and all).
        vec!["up", "--offline"],
        vec!["down", "--adopt"],
    ] {
        let out = sandbox.kedactl(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
}

/// `up --yes` (the command that changes things) on every bad input: rejected before a single
/// connection to AWS. A file marked `# online: valid` is bad only where AWS cannot be asked
/// (IRSA's issuer, which online commands read from the cluster).
#[test]
fn bad_input_makes_no_aws_call() {
    let (endpoint, count) = counting_endpoint();
    let sandbox = Sandbox::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut cases: Vec<Vec<String>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| l.starts_with("# online: valid"))
        })
        .map(|p| {
            let (_, extra) = expectations(&std::fs::read_to_string(&p).unwrap());
            let mut args = vec!["-f".to_string(), p.display().to_string()];
            args.extend(extra);
            args
        })
        .collect();
    for flags in [
        vec!["--min-replicas", "5", "--max-replicas", "2"],
        vec!["--region", "us-east"],
        vec!["--cluster", "a b"],
        vec!["--profile", "no-such-profile"],
        vec!["--queue", "bad name"],
        // Online too, an issuer IAM could never take is refused before asking the cluster.
        vec![
            "--auth-mode",
            "irsa",
            "--oidc-issuer",
            "http://oidc.example.com/id/A",
        ],
    ] {
        let mut args: Vec<String> = ["--cluster", "demo", "--region", "us-east-1"]
            .map(String::from)
            .to_vec();
        args.extend(flags.iter().map(|s| s.to_string()));
        cases.push(args);
    }
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in &cases {
        for cmd in ["up", "down", "doctor"] {
            let out = sandbox
                .kedactl(
                    std::iter::once(cmd.to_string())
                        .chain(case.iter().cloned())
                        .chain(
                            ["--yes".to_string()]
                                .into_iter()
                                .filter(|_| cmd != "doctor"),
                        ),
                )
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(3),
                "{cmd} {case:?}: {}",
                stderr(&out)
            );
        }
    }
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no bad input may reach AWS"
    );
    // Control: a valid config does reach the endpoint (so the count above means something).
    let out = sandbox
        .kedactl(["plan", "--cluster", "demo", "--region", "us-east-1"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(count.load(std::sync::atomic::Ordering::SeqCst) > 0);
}
