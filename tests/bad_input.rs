//! The bad-input corpus: config files, flags, environment and endpoints. Every case fails in
//! bounded time and memory with the exit code of the table, names the field, flag or variable,
//! gives a fix, never panics, prints nothing on stdout — and (but for the endpoint cases, whose
//! point is the connection) never reaches AWS. `bad_numbers.rs` holds the `load`, `simulate`
//! and `scale` numbers.

mod common;
use common::Sandbox;
use common::bad_input::{Case, Outcome, assert_all_fail_cleanly, counting_endpoint, run_capped};
use std::sync::atomic::Ordering;

const BASE: [&str; 4] = ["--cluster", "demo", "--region", "us-east-1"];

/// `up --yes` (the command that changes things) with BASE and `args`.
fn up(name: &str, args: &[&str], exit: i32, names: &[&str]) -> Case {
    let mut all = vec!["up", "--yes"];
    all.extend(BASE);
    all.extend(args);
    Case::new(name, &all, exit, names)
}

/// A config file in the sandbox, given to `up --yes -f`.
fn file(sandbox: &Sandbox, name: &str, text: &str, names: &[&str]) -> Case {
    let path = sandbox.write(&format!("{name}.yaml"), text);
    let p = path.display().to_string();
    Case::new(name, &["up", "--yes", "-f", &p], 3, names)
}

const HEAD: &str = "cluster: demo\nregion: us-east-1\n";

fn config_cases(s: &Sandbox) -> Vec<Case> {
    let mut cases = vec![
        // Eight service accounts on one identity role: its scoped trust is over IAM's 2,048.
        file(
            s,
            "trust-over-quota",
            &format!(
                "{HEAD}apps:\n  - deployment: worker-0\n    serviceAccount: worker-0-sa\n    queue:\n      name: q-0\n  - deployment: worker-1\n    serviceAccount: worker-1-sa\n    queue:\n      name: q-1\n  - deployment: worker-2\n    serviceAccount: worker-2-sa\n    queue:\n      name: q-2\n  - deployment: worker-3\n    serviceAccount: worker-3-sa\n    queue:\n      name: q-3\n  - deployment: worker-4\n    serviceAccount: worker-4-sa\n    queue:\n      name: q-4\n  - deployment: worker-5\n    serviceAccount: worker-5-sa\n    queue:\n      name: q-5\n  - deployment: worker-6\n    serviceAccount: worker-6-sa\n    queue:\n      name: q-6\n  - deployment: worker-7\n    serviceAccount: worker-7-sa\n    queue:\n      name: q-7\n"
            ),
            &["roles.identity", "quota of 2048", "roles.trustPolicyQuota"],
        ),
        // A KMS key SQS would refuse (a bare name is neither an ID nor an alias).
        file(
            s,
            "kms-key",
            &format!("{HEAD}apps:\n  - queue:\n      kmsKey: my-key\n"),
            &["apps[0].queue.kmsKey", "alias/<name>", "--kms-key"],
        ),
        // KEDA chart values that contradict kedactl's own, a typo, a values file not there.
        file(
            s,
            "keda-values-owned",
            &format!(
                "{HEAD}keda:\n  values:\n    serviceAccount:\n      operator:\n        name: other\n"
            ),
            &[
                "keda.values.serviceAccount.operator.name",
                "keda.serviceAccount",
            ],
        ),
        file(
            s,
            "keda-values-irsa",
            &format!(
                "{HEAD}keda:\n  values:\n    podIdentity:\n      aws:\n        irsa:\n          enabled: true\n"
            ),
            &["keda.values.podIdentity.aws.irsa.enabled", "authMode"],
        ),
        file(
            s,
            "keda-values-typo",
            &format!("{HEAD}keda:\n  values:\n    tolleration: []\n"),
            &["keda.values.tolleration", "helm show values"],
        ),
        file(
            s,
            "keda-values-file-missing",
            &format!("{HEAD}keda:\n  valuesFile: no-such-values.yaml\n"),
            &["keda.valuesFile", "no-such-values.yaml"],
        ),
        // Duplicate keys: silently last-wins in YAML; here an error naming both lines.
        file(
            s,
            "dup-cluster",
            "cluster: a\nregion: us-east-1\ncluster: b\n",
            &["cluster", "line 1 and on line 3"],
        ),
        file(
            s,
            "dup-region",
            "region: us-east-1\ncluster: a\nregion: eu-west-1\n",
            &["region", "line 1 and on line 3"],
        ),
        file(
            s,
            "dup-nested",
            &format!("{HEAD}apps:\n  - queue:\n      name: a\n      name: b\n"),
            &["apps[0].queue.name", "line 5 and on line 6"],
        ),
        file(
            s,
            "dup-second-app",
            &format!("{HEAD}apps:\n  - deployment: a\n  - deployment: b\n    deployment: c\n"),
            &["apps[1].deployment"],
        ),
        file(
            s,
            "dup-scaling",
            &format!(
                "{HEAD}apps:\n  - scaling:\n      maxReplicas: 3\n      minReplicas: 0\n      maxReplicas: 4\n"
            ),
            &["apps[0].scaling.maxReplicas"],
        ),
        file(
            s,
            "dup-flow",
            &format!("{HEAD}keda: {{version: 2.20.2, version: 2.19.0}}\n"),
            &["version", "given twice"],
        ),
        // Nesting that would take the parser minutes.
        file(
            s,
            "nested-brackets",
            &format!("cluster: {}", "[".repeat(100_000)),
            &["at most 32"],
        ),
        file(
            s,
            "nested-braces",
            &format!("cluster: {}", "{a: ".repeat(50_000)),
            &["at most 32"],
        ),
        file(
            s,
            "nested-dashes",
            &format!("cluster: demo\nx:\n{}\n", "- ".repeat(40_000)),
            &["at most 32"],
        ),
        file(
            s,
            "nested-indent",
            &(0..200)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>(),
            &["at most 32"],
        ),
        // int32 fields: KEDA and the HPA cannot hold more.
        file(
            s,
            "i32-max-replicas",
            &format!("{HEAD}apps:\n  - scaling:\n      maxReplicas: 3000000000\n"),
            &["apps[0].scaling.maxReplicas", "2147483647"],
        ),
        file(
            s,
            "u32-overflow",
            &format!("{HEAD}apps:\n  - scaling:\n      maxReplicas: 4294967296\n"),
            &["apps[0].scaling.maxReplicas"],
        ),
        file(
            s,
            "i32-min-replicas",
            &format!("{HEAD}apps:\n  - scaling:\n      minReplicas: 2147483648\n"),
            &["apps[0].scaling.minReplicas"],
        ),
        file(
            s,
            "i32-polling",
            &format!("{HEAD}apps:\n  - scaling:\n      pollingInterval: 2147483648\n"),
            &["apps[0].scaling.pollingInterval"],
        ),
        file(
            s,
            "i32-cooldown",
            &format!("{HEAD}apps:\n  - scaling:\n      cooldownPeriod: 9999999999\n"),
            &["apps[0].scaling.cooldownPeriod"],
        ),
        file(
            s,
            "i32-queue-length",
            &format!("{HEAD}apps:\n  - scaling:\n      queueLength: 2147483648\n"),
            &["apps[0].scaling.queueLength"],
        ),
        file(
            s,
            "i32-activation",
            &format!("{HEAD}apps:\n  - scaling:\n      activationQueueLength: 3000000000\n"),
            &["apps[0].scaling.activationQueueLength"],
        ),
        file(
            s,
            "u64-visibility",
            &format!("{HEAD}apps:\n  - queue:\n      visibilityTimeout: 18446744073709551616\n"),
            &["apps[0].queue.visibilityTimeout"],
        ),
        file(
            s,
            "i32-receive-count",
            &format!(
                "{HEAD}apps:\n  - queue:\n      deadLetter:\n        maxReceiveCount: 2147483648\n"
            ),
            &["apps[0].queue.deadLetter.maxReceiveCount"],
        ),
        file(
            s,
            "float-exponent",
            &format!("{HEAD}apps:\n  - scaling:\n      pollingInterval: 1e3\n"),
            &["apps[0].scaling.pollingInterval", "1e3"],
        ),
        file(
            s,
            "float-half",
            &format!("{HEAD}apps:\n  - scaling:\n      maxReplicas: 2.5\n"),
            &["apps[0].scaling.maxReplicas"],
        ),
        file(
            s,
            "float-cooldown",
            &format!("{HEAD}apps:\n  - scaling:\n      cooldownPeriod: 3e2\n"),
            &["apps[0].scaling.cooldownPeriod"],
        ),
        file(
            s,
            "negative-visibility",
            &format!("{HEAD}apps:\n  - queue:\n      visibilityTimeout: -30\n"),
            &["apps[0].queue.visibilityTimeout"],
        ),
        file(
            s,
            "nan",
            &format!("{HEAD}apps:\n  - scaling:\n      queueLength: .nan\n"),
            &["apps[0].scaling.queueLength"],
        ),
        file(
            s,
            "infinity",
            &format!("{HEAD}apps:\n  - scaling:\n      maxReplicas: .inf\n"),
            &["apps[0].scaling.maxReplicas"],
        ),
        // Names kedactl derives are checked like given ones.
        file(
            s,
            "derived-dlq-84",
            &format!(
                "{HEAD}apps:\n  - queue:\n      name: {}\n      deadLetter: {{}}\n",
                "q".repeat(80)
            ),
            &["apps[0].queue.deadLetter.name", "84 characters"],
        ),
        file(
            s,
            "derived-dlq-fifo",
            &format!(
                "{HEAD}apps:\n  - queue:\n      name: {}.fifo\n      deadLetter: {{}}\n",
                "q".repeat(75)
            ),
            &["apps[0].queue.deadLetter.name"],
        ),
        file(
            s,
            "derived-scaler-name",
            &format!("{HEAD}apps:\n  - deployment: {}\n", "d".repeat(60)),
            &["apps[0].scaling.name", "-scaler"],
        ),
        file(
            s,
            "scaler-name-100",
            &format!(
                "{HEAD}apps:\n  - scaling:\n      name: {}\n",
                "s".repeat(100)
            ),
            &["apps[0].scaling.name", "100 characters", "63"],
        ),
        // A long name is told its length, and the rule it breaks.
        file(
            s,
            "namespace-100",
            &format!("{HEAD}apps:\n  - namespace: {}\n", "n".repeat(100)),
            &["apps[0].namespace", "100 characters", "1-63"],
        ),
        file(
            s,
            "deployment-100",
            &format!("{HEAD}apps:\n  - deployment: {}\n", "d".repeat(100)),
            &["apps[0].deployment", "100 characters"],
        ),
        file(
            s,
            "service-account-100",
            &format!("{HEAD}apps:\n  - serviceAccount: {}\n", "a".repeat(100)),
            &["apps[0].serviceAccount", "100 characters", "1-63"],
        ),
        file(
            s,
            "queue-81",
            &format!("{HEAD}apps:\n  - queue:\n      name: {}\n", "q".repeat(81)),
            &["apps[0].queue.name", "81 characters"],
        ),
        file(
            s,
            "cluster-101",
            &format!("cluster: {}\nregion: us-east-1\n", "c".repeat(101)),
            &["cluster", "101 characters"],
        ),
        file(
            s,
            "role-65",
            &format!("{HEAD}roles:\n  operator: {}\n", "r".repeat(65)),
            &["roles.operator"],
        ),
        file(
            s,
            "stack-64",
            &format!("{HEAD}stack: {}\n", "s".repeat(64)),
            &["stack"],
        ),
        // Files that are not text, or not files at all.
        file(s, "nul-bytes", "cluster: demo\0\n", &["(file)"]),
        file(
            s,
            "tabs",
            &format!("{HEAD}apps:\n\t- deployment: a\n"),
            &["(file)", "YAML"],
        ),
        file(
            s,
            "only-comments",
            "# nothing here\n# at all\n",
            &["(file)"],
        ),
        file(
            s,
            "scalar-top",
            "just a string\n",
            &["(file)", "not a mapping"],
        ),
        file(s, "alias-loop", &format!("{HEAD}a: &x [*x]\n"), &["(file)"]),
    ];
    // Over the size cap, and a file that is a directory, a device or missing.
    let big = s.write("big.yaml", format!("{HEAD}# {}\n", "x".repeat(1 << 20)));
    let dir = s.path("adir");
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = s.path("fifo.yaml");
    std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    for (name, path, says) in [
        ("oversize", big.display().to_string(), "at most 1 MiB"),
        ("directory", dir.display().to_string(), "is a directory"),
        ("fifo", fifo.display().to_string(), "not a regular file"),
        ("dev-zero", "/dev/zero".into(), "not a regular file"),
        ("dev-urandom", "/dev/urandom".into(), "not a regular file"),
        (
            "missing",
            s.path("missing.yaml").display().to_string(),
            "no such file",
        ),
    ] {
        cases.push(Case::new(
            &format!("file-{name}"),
            &["up", "--yes", "-f", &path],
            3,
            &["(file)", says],
        ));
        cases.push(Case::new(
            &format!("file-{name}-validate"),
            &["validate", "-f", &path],
            3,
            &[says],
        ));
    }
    cases
}

fn flag_cases(s: &Sandbox) -> Vec<Case> {
    let kubeconfig_dir = s.path("kube-dir");
    std::fs::create_dir_all(&kubeconfig_dir).unwrap();
    let kd = kubeconfig_dir.display().to_string();
    let mut cases = Vec::new();
    // Every whole-number override: negative, past int32, not a number. The flag is named.
    for flag in [
        "--max-replicas",
        "--min-replicas",
        "--queue-length",
        "--activation-queue-length",
        "--polling-interval",
        "--cooldown-period",
        "--visibility-timeout",
        "--max-receive-count",
    ] {
        for (what, value) in [
            ("negative", "-1"),
            ("past-int32", "2147483648"),
            ("past-u32", "4294967296"),
            ("exponent", "1e3"),
        ] {
            cases.push(up(
                &format!("{flag}-{what}"),
                &[flag, value],
                2,
                &[flag, "from 0 to 2147483647"],
            ));
        }
    }
    cases.extend([
        up(
            "connect-timeout-zero",
            &["--connect-timeout", "0"],
            2,
            &["--connect-timeout", "from 1 to 3600"],
        ),
        up(
            "connect-timeout-negative",
            &["--connect-timeout", "-5"],
            2,
            &["--connect-timeout"],
        ),
        up(
            "call-timeout-huge",
            &["--call-timeout", "99999999999999999999"],
            2,
            &["--call-timeout"],
        ),
        up(
            "call-timeout-words",
            &["--call-timeout", "soon"],
            2,
            &["--call-timeout"],
        ),
        up(
            "trust-watch-zero",
            &["--trust-watch", "0"],
            2,
            &["--trust-watch", "from 1 to 600"],
        ),
        up(
            "trust-watch-huge",
            &["--trust-watch", "601"],
            2,
            &["--trust-watch", "from 1 to 600"],
        ),
        up(
            "endpoint-garbage",
            &["--endpoint-url", "garbage"],
            3,
            &["--endpoint-url", "http://"],
        ),
        up(
            "endpoint-no-host",
            &["--endpoint-url", "http://"],
            3,
            &["--endpoint-url"],
        ),
        up(
            "endpoint-ftp",
            &["--endpoint-url", "ftp://127.0.0.1"],
            3,
            &["--endpoint-url"],
        ),
        up(
            "kubeconfig-missing",
            &["--kubeconfig", "/nonexistent/kubeconfig"],
            3,
            &["--kubeconfig", "no such file"],
        ),
        up(
            "kubeconfig-directory",
            &["--kubeconfig", &kd],
            3,
            &["--kubeconfig", "is a directory"],
        ),
        up(
            "kubeconfig-device",
            &["--kubeconfig", "/dev/zero"],
            3,
            &["--kubeconfig", "not a regular file"],
        ),
        up(
            "profile-unknown",
            &["--profile", "nope"],
            3,
            &["profile", "nope"],
        ),
        up("region-typo", &["--region", "us-east"], 3, &["region"]),
        up(
            "account-letters",
            &["--account", "12345678901x"],
            3,
            &["account"],
        ),
        up(
            "scaler-name-long",
            &["--scaler-name", &"s".repeat(64)],
            3,
            &["apps[0].scaling.name", "64 characters"],
        ),
        up(
            "dlq-derived-long",
            &["--queue", &"q".repeat(78), "--max-receive-count", "3"],
            3,
            &["apps[0].queue.deadLetter.name"],
        ),
    ]);
    // doctor --keda-log: every unreadable log names the flag and never reaches AWS.
    let oversize = s.path("keda-big.log");
    std::fs::File::create(&oversize)
        .unwrap()
        .set_len((16 << 20) + 1)
        .unwrap();
    let gz = s.write("keda.log.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00");
    for (name, path, says) in [
        ("missing", s.path("missing.log"), "no such file"),
        ("directory", kubeconfig_dir.clone(), "is a directory"),
        ("device", "/dev/zero".into(), "not a regular file"),
        ("oversize", oversize, "at most 16 MiB"),
        ("binary", gz, "is not a text log"),
    ] {
        let p = path.display().to_string();
        cases.push(Case::new(
            &format!("keda-log-{name}"),
            &["doctor", "--keda-log", &p],
            3,
            &["--keda-log", says],
        ));
    }
    for cmd in ["plan", "doctor", "down"] {
        let mut args = vec![cmd];
        args.extend(BASE);
        args.extend(["--max-replicas", "-1"]);
        if cmd == "down" {
            args.push("--yes");
        }
        cases.push(Case::new(
            &format!("{cmd}-negative"),
            &args,
            2,
            &["--max-replicas"],
        ));
    }
    cases.extend(plan_file_cases(s));
    cases
}

/// `up --plan FILE` with a file that cannot be applied: refused before any call.
fn plan_file_cases(s: &Sandbox) -> Vec<Case> {
    let path = |name: &str, text: &str| s.write(name, text).display().to_string();
    let missing = s.path("no-such-plan.json").display().to_string();
    let not_json = path(
        "not-json.json",
        "{\n  \"kind\": \"SavedPlan\",\n  oops\n}\n",
    );
    let a_plan = path(
        "a-plan.json",
        r#"{"apiVersion": "kedactl.io/v1alpha1", "kind": "Plan", "steps": []}"#,
    );
    // A saved plan of this kedactl, for another config (its digests are not this one's).
    let other = path(
        "other-config.json",
        &serde_json::json!({
            "apiVersion": "kedactl.io/v1alpha1", "kind": "SavedPlan",
            "kedactl": env!("CARGO_PKG_VERSION"),
            "stack": "kedactl", "cluster": "demo", "region": "us-east-1", "account": "123456789012",
            "config": {"sha256": "0", "fields": {"apps": "0", "cluster": "0"}},
            "observed": {}, "steps": []
        })
        .to_string(),
    );
    let old = path(
        "old-kedactl.json",
        &std::fs::read_to_string(&other)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "0.0.1-old"),
    );
    vec![
        up(
            "plan-file-missing",
            &["--plan", &missing],
            3,
            &["--plan", "cannot read", "no-such-plan.json"],
        ),
        up(
            "plan-file-not-json",
            &["--plan", &not_json],
            3,
            &["line 3", "--plan", "not JSON"],
        ),
        up(
            "plan-file-not-a-saved-plan",
            &["--plan", &a_plan],
            3,
            &["--plan", "not a saved plan", "\"Plan\""],
        ),
        up(
            "plan-file-other-config",
            &["--plan", &other],
            5,
            &["the plan is stale", "the config changed", "apps", "cluster"],
        ),
        up(
            "plan-file-other-kedactl",
            &["--plan", &old],
            5,
            &["the plan is stale", "kedactl 0.0.1-old"],
        ),
    ]
}

fn env_cases() -> Vec<Case> {
    let validate = ["validate", "--cluster", "demo", "--region", "us-east-1"];
    vec![
        Case::new(
            "env-config-empty",
            &validate,
            3,
            &["KEDACTL_CONFIG", "empty"],
        )
        .env("KEDACTL_CONFIG", ""),
        Case::new("env-config-blank", &validate, 3, &["KEDACTL_CONFIG"])
            .env("KEDACTL_CONFIG", "  "),
        Case::new("env-config-dev-zero", &validate, 3, &["not a regular file"])
            .env("KEDACTL_CONFIG", "/dev/zero"),
        Case::new("env-config-missing", &validate, 3, &["no such file"])
            .env("KEDACTL_CONFIG", "/nonexistent/k.yaml"),
        Case::new("env-profile-empty", &validate, 3, &["AWS_PROFILE"]).env("AWS_PROFILE", ""),
        Case::new("env-call-timeout-words", &validate, 2, &["--call-timeout"])
            .env("KEDACTL_CALL_TIMEOUT", "abc"),
        Case::new("env-call-timeout-zero", &validate, 2, &["--call-timeout"])
            .env("KEDACTL_CALL_TIMEOUT", "0"),
        Case::new(
            "env-connect-timeout-empty",
            &validate,
            3,
            &["KEDACTL_CONNECT_TIMEOUT"],
        )
        .env("KEDACTL_CONNECT_TIMEOUT", ""),
        Case::new(
            "env-aws-config-dev-zero",
            &["plan", "--cluster", "demo", "--region", "us-east-1"],
            3,
            &["AWS_CONFIG_FILE", "not a regular file"],
        )
        .env("AWS_CONFIG_FILE", "/dev/zero"),
        Case::new(
            "env-aws-config-dev-zero-profile",
            &[
                "plan",
                "--cluster",
                "demo",
                "--region",
                "us-east-1",
                "--profile",
                "p",
            ],
            3,
            &["AWS_CONFIG_FILE"],
        )
        .env("AWS_CONFIG_FILE", "/dev/zero"),
        Case::new(
            "env-aws-credentials-dir",
            &["plan", "--cluster", "demo", "--region", "us-east-1"],
            3,
            &["AWS_SHARED_CREDENTIALS_FILE"],
        )
        .env("AWS_SHARED_CREDENTIALS_FILE", "/tmp"),
        Case::new(
            "env-endpoint-garbage",
            &["up", "--yes", "--cluster", "demo", "--region", "us-east-1"],
            3,
            &["AWS_ENDPOINT_URL"],
        )
        .env("AWS_ENDPOINT_URL", "not a url"),
    ]
}

/// Every input error is reported before a single connection to AWS.
#[test]
fn the_bad_input_corpus_fails_cleanly_without_reaching_aws() {
    let sandbox = Sandbox::new();
    let (endpoint, count) = counting_endpoint();
    let mut cases = config_cases(&sandbox);
    cases.extend(flag_cases(&sandbox));
    cases.extend(env_cases());
    assert!(cases.len() >= 100, "{} cases", cases.len());
    for c in &mut cases {
        // First, so a case's own AWS_ENDPOINT_URL wins.
        let mut env = vec![
            ("AWS_ENDPOINT_URL".to_string(), endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ];
        env.append(&mut c.env);
        c.env = env;
    }
    assert_all_fail_cleanly(&sandbox, &cases);
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "no bad input may reach AWS"
    );
}

/// `kedactl CMD` for the demo stack against `url`, with test keys (`up` with --yes).
fn against(sandbox: &Sandbox, cmd: &str, url: &str, extra: &[&str]) -> Outcome {
    let mut args: Vec<String> = [
        cmd,
        "--cluster",
        "demo",
        "--region",
        "us-east-1",
        "--endpoint-url",
        url,
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    if cmd == "up" {
        args.push("--yes".into());
    }
    let env = [
        ("AWS_ACCESS_KEY_ID".to_string(), "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
    ];
    run_capped(sandbox, &args, &env)
}

/// An endpoint that refuses, one that does not resolve, and one that accepts and never answers:
/// each ends the run with exit 4, naming the endpoint and the cause, within the timeout.
#[test]
fn unreachable_endpoints_are_named_with_the_cause() {
    let sandbox = Sandbox::new();
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    }; // dropped: the port now refuses
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let cases = [
        (refused.as_str(), "connection refused", vec![]),
        ("http://kedactl-test.invalid", "does not resolve", vec![]),
        (
            silent_url.as_str(),
            "no answer in time",
            vec!["--call-timeout", "2"],
        ),
    ];
    for cmd in ["plan", "up", "doctor"] {
        for (url, cause, extra) in &cases {
            let o = against(&sandbox, cmd, url, extra);
            let case = format!("{cmd} {url}");
            if cmd == "doctor" {
                // doctor reports what it could not check instead of failing on the first call.
                assert!(
                    o.stdout.contains(url) || o.stderr.contains(url),
                    "{case}: {}{}",
                    o.stdout,
                    o.stderr
                );
                continue;
            }
            assert_eq!(o.code, Some(4), "{case}: {}", o.stderr);
            assert!(
                o.stderr.contains(url),
                "{case}: endpoint not named: {}",
                o.stderr
            );
            assert!(
                o.stderr.contains(cause),
                "{case}: cause not named: {}",
                o.stderr
            );
            assert!(o.stderr.contains("fix:"), "{case}: {}", o.stderr);
            assert!(
                !o.stderr.contains("SdkBody") && !o.stderr.contains("panicked"),
                "{case}: {}",
                o.stderr
            );
            assert!(o.took.as_secs() < 15, "{case}: took {:?}", o.took);
        }
    }
    drop(silent);
}

/// The endpoint from `AWS_ENDPOINT_URL` (which the SDK reads itself) is the one an error
/// names, not the default AWS host the call never went to.
#[test]
fn an_endpoint_from_the_environment_is_the_one_named() {
    let sandbox = Sandbox::new();
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let args: Vec<String> = [
        "plan",
        "--cluster",
        "demo",
        "--region",
        "us-east-1",
        "--max-attempts",
        "1",
    ]
    .map(String::from)
    .to_vec();
    let env = [
        ("AWS_ACCESS_KEY_ID".to_string(), "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ("AWS_ENDPOINT_URL".into(), refused.clone()),
    ];
    let o = run_capped(&sandbox, &args, &env);
    assert_eq!(o.code, Some(4), "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("could not reach {refused}")),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("amazonaws.com"), "{}", o.stderr);
}

/// A host name that does not resolve (`.invalid` never does, RFC 6761) is not retried: the run
/// ends within --connect-timeout, not after the SDK's five attempts and back-offs (11.6 s).
#[test]
fn a_host_that_does_not_resolve_fails_within_the_connect_timeout() {
    let sandbox = Sandbox::new();
    for cmd in ["plan", "up"] {
        let invalid = "http://kedactl-test.invalid";
        let o = against(&sandbox, cmd, invalid, &["--connect-timeout", "2"]);
        assert_eq!(o.code, Some(4), "{cmd}: {}", o.stderr);
        assert!(o.stderr.contains("does not resolve"), "{cmd}: {}", o.stderr);
        // 2 s, and the start of a large debug binary on a busy machine.
        assert!(o.took.as_secs_f64() < 5.0, "{cmd}: took {:?}", o.took);
    }
}

/// `kedactl … | head` closes stdout early: whatever is being written, kedactl exits 0, silent.
#[test]
fn a_closed_stdout_exits_zero_and_silent() {
    let sandbox = Sandbox::new();
    let offline = common::DEMO;
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["schema"],
        vec!["doctor", "--list"],
        vec!["completions", "bash"],
        vec!["simulate", "--duration", "10m"],
        vec!["simulate", "--duration", "10m", "-o", "json"],
        vec!["--help"],
    ];
    for base in [vec!["plan", "--offline"], vec!["render"], vec!["validate"]] {
        for json in [false, true] {
            let mut args = base.clone();
            args.extend(offline);
            if json {
                args.extend(["-o", "json"]);
            }
            commands.push(args);
        }
    }
    // The JSON error document is written to stdout too.
    commands.push(vec![
        "validate",
        "--cluster",
        "a b",
        "--region",
        "us-east-1",
        "-o",
        "json",
    ]);
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before kedactl writes a byte
        let out = sandbox
            .process(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let expected = if args.contains(&"a b") { 3 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// Credentials AWS refuses (InvalidClientTokenId from STS, answered by a local HTTP peer) are
/// called invalid or expired, with where they came from — not a missing permission.
#[test]
fn refused_credentials_are_called_invalid_and_traced_to_their_source() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
            let _ = write!(
                conn,
                "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let sandbox = Sandbox::new();
    let args: Vec<String> = [
        "plan",
        "--cluster",
        "demo",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &url,
    ]
    .map(String::from)
    .to_vec();
    let env = [
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            "AKIAWRONGWRONGWRONG0".to_string(),
        ),
        ("AWS_SECRET_ACCESS_KEY".into(), "wrong".into()),
    ];
    let o = run_capped(&sandbox, &args, &env);
    assert_eq!(o.code, Some(4), "{}", o.stderr);
    assert!(o.stderr.contains("InvalidClientTokenId"), "{}", o.stderr);
    assert!(o.stderr.contains("invalid or expired"), "{}", o.stderr);
    assert!(
        o.stderr.contains("AWS_ACCESS_KEY_ID"),
        "source not named: {}",
        o.stderr
    );
    assert!(!o.stderr.contains("needs permission"), "{}", o.stderr);
}
