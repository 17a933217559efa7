//! The built binary, end to end: the README's commands, render and plan output (snapshots),
//! JSON documents parsed back, files written, exit codes.

mod common;
use common::{DEMO, Sandbox, stderr, stdout};
use serde_json::Value;

/// The README's main command.
const README_PLAN: [&str; 6] = [
    "plan",
    "--offline",
    "--cluster",
    "demo",
    "--region",
    "us-east-1",
];

fn run_ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.kedactl(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&run_ok(sandbox, &args)).expect("one JSON document on stdout")
}

#[test]
fn readme_main_command_plans_the_seed_stack_offline() {
    let s = Sandbox::new();
    let out = s.kedactl(README_PLAN).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("plan_offline_no_account", stdout(&out));
    assert!(
        stderr(&out).contains("no account given"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plan_json_is_the_same_plan() {
    let s = Sandbox::new();
    let mut args = vec!["plan", "--offline"];
    args.extend(DEMO);
    let doc = json(&s, &args);
    assert_eq!(doc["kind"], "Plan");
    assert_eq!(doc["account"], "123456789012");
    assert_eq!(
        doc["summary"],
        serde_json::json!({"create": 15, "update": 0, "delete": 0, "run": 2})
    );
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 17);
    assert_eq!(steps[2]["action"], "create-role");
    assert_eq!(steps[2]["role"], "keda-operator");
    assert_eq!(steps[2]["tags"]["kedactl.io/stack"], "kedactl");
    insta::assert_json_snapshot!("plan_offline_json", doc);
}

#[test]
fn plan_only_and_detailed_exitcode() {
    let s = Sandbox::new();
    let mut args = vec!["plan", "--offline", "--only", "queue,registry"];
    args.extend(DEMO);
    let doc = json(&s, &args);
    let groups: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["queue", "registry"]);

    args.push("--detailed-exitcode");
    let out = s.kedactl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "changes pending");
    assert!(stdout(&out).contains("2 to create"));
}

#[test]
fn render_reproduces_the_seed_objects() {
    let s = Sandbox::new();
    let mut args = vec!["render"];
    args.extend(DEMO);
    let text = run_ok(&s, &args);
    insta::assert_snapshot!("render_seed", text);
    for seed_fact in [
        "name: q-read",
        "namespace: security",
        "serviceAccountName: my-sqs-read-msgs",
        "name: k8s-sqs-read-msg-keda",
        "name: q-read-trigger-auth",
        "queueLength: '5'",
        "minReplicaCount: 0",
        "maxReplicaCount: 10",
        "provider: aws",
        "roleArn: arn:aws:iam::123456789012:role/keda-identity",
        "queueURL: https://sqs.us-east-1.amazonaws.com/123456789012/event-messages-queue",
        "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/keda-pod-identity-registry:latest",
    ] {
        assert!(text.contains(seed_fact), "render lacks {seed_fact:?}");
    }
    // KEDA owns the identity (roleArn); never the deprecated provider or the IRSA-only owner.
    assert!(!text.contains("aws-eks") && !text.contains("identityOwner: workload"));
    assert!(text.contains("identityOwner: keda"));
    assert!(!text.contains("\"Resource\": \"*\"") && !text.contains("sqs:*"));
}

#[test]
fn render_only_app_is_a_kubectl_stream_and_json_parses_back() {
    let s = Sandbox::new();
    let mut args = vec!["render", "--only", "app"];
    args.extend(DEMO);
    let text = run_ok(&s, &args);
    assert_eq!(text.matches("\n---\n").count() + 1, 5, "five manifests");
    assert!(!text.contains("Statement"));
    let docs: Vec<Value> = text
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    assert_eq!(docs[4]["kind"], "ScaledObject");

    let mut args = vec!["render", "--only", "iam"];
    args.extend(DEMO);
    let doc = json(&s, &args);
    let files: Vec<&str> = doc["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "iam/keda-operator.trust.json",
            "iam/keda-operator.kedactl-assume-identity.json",
            "iam/keda-identity.trust.json",
            "iam/keda-identity.kedactl-sqs-access.json",
        ]
    );
}

#[test]
fn render_out_dir_writes_one_file_per_object() {
    let s = Sandbox::new();
    let mut args = vec!["render", "--out-dir", "out"];
    args.extend(DEMO);
    let out = s.kedactl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("wrote 9 files to out"));
    let so = std::fs::read_to_string(
        s.path("out/k8s/05-scaledobject-security-k8s-sqs-read-msg-keda.yaml"),
    )
    .unwrap();
    let so: Value = serde_yaml::from_str(&so).unwrap();
    assert_eq!(so["spec"]["scaleTargetRef"]["name"], "q-read");
    let trust: Value = serde_json::from_str(
        &std::fs::read_to_string(s.path("out/iam/keda-identity.trust.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        trust["Statement"][1]["Principal"]["AWS"][0],
        "arn:aws:iam::123456789012:role/keda-operator"
    );
}

#[test]
fn render_needs_an_account_and_something_to_render() {
    let s = Sandbox::new();
    let out = s
        .kedactl(["render", "--cluster", "demo", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("  - account: render writes ARNs"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let mut args = vec!["render", "--only", "queue"];
    args.extend(DEMO);
    let out = s.kedactl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--only iam, --only app"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn init_writes_a_config_that_validates_and_renders_the_same() {
    let s = Sandbox::new();
    let out = s
        .kedactl([
            "init",
            "--cluster",
            "demo",
            "--region",
            "eu-west-1",
            "--queue",
            "orders",
            "--dlq",
            "orders-dead",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path("kedactl.yaml")).unwrap();
    assert!(
        text.contains("# Messages per replica"),
        "the file is commented"
    );

    // ./kedactl.yaml is picked up without --config.
    let doc = json(&s, &["validate"]);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["spec"]["region"], "eu-west-1");
    assert_eq!(
        doc["spec"]["apps"][0]["queue"]["deadLetter"]["name"],
        "orders-dead"
    );

    // A second init does not overwrite.
    let out = s.kedactl(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"));
    assert!(
        std::fs::read_to_string(s.path("kedactl.yaml"))
            .unwrap()
            .contains("orders-dead")
    );

    // The default init round-trips to the default spec: the file says what the defaults are.
    let defaults = run_ok(&s, &["init", "--stdout"]);
    s.write("defaults.yaml", defaults);
    let from_file = json(
        &s,
        &[
            "validate",
            "-f",
            "defaults.yaml",
            "--cluster",
            "demo",
            "--region",
            "us-east-1",
        ],
    );
    let builtin = {
        let empty = Sandbox::new();
        json(
            &empty,
            &["validate", "--cluster", "demo", "--region", "us-east-1"],
        )
    };
    assert_eq!(from_file["spec"], builtin["spec"]);
}

#[test]
fn init_refuses_invalid_flags_but_not_a_missing_cluster() {
    let s = Sandbox::new();
    let out = s
        .kedactl([
            "init",
            "--stdout",
            "--min-replicas",
            "9",
            "--max-replicas",
            "3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    let out = s.kedactl(["init", "--stdout"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("# cluster: my-eks-cluster"));
}

#[test]
fn the_schema_describes_the_config_and_accepts_what_init_writes() {
    let s = Sandbox::new();
    let schema: Value = serde_json::from_str(&run_ok(&s, &["schema"])).unwrap();
    assert_eq!(schema["title"], "kedactl.yaml");
    assert_eq!(schema["additionalProperties"], false);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let file: Value =
        serde_yaml::from_str(&run_ok(&s, &["init", "--stdout", "--cluster", "demo"])).unwrap();
    assert!(validator.is_valid(&file));
    let bad: Value = serde_json::json!({"cluster": "demo", "typo": 1});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn verbose_names_the_config_and_quiet_silences_notes() {
    let s = Sandbox::new();
    let out = s.kedactl(README_PLAN).arg("-v").output().unwrap();
    assert!(
        stderr(&out).contains("config: built-in defaults"),
        "{}",
        stderr(&out)
    );
    let out = s.kedactl(README_PLAN).arg("-q").output().unwrap();
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn region_comes_from_the_environment_like_the_aws_cli() {
    let s = Sandbox::new();
    let out = s
        .kedactl(["validate", "--cluster", "demo", "-o", "json"])
        .env("AWS_DEFAULT_REGION", "ap-southeast-2")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["spec"]["region"], "ap-southeast-2");
}

#[test]
fn help_for_every_command_has_examples() {
    let s = Sandbox::new();
    let cli = <kedactl::cli::Cli as clap::CommandFactory>::command();
    let commands: Vec<String> = cli
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(commands.len() >= 12, "{commands:?}");
    for cmd in &commands {
        let cmd = cmd.as_str();
        let help = run_ok(&s, &[cmd, "--help"]);
        assert!(help.contains("Examples:"), "{cmd} --help has no examples");
        insta::assert_snapshot!(format!("help_{cmd}"), help);
    }
    let top = run_ok(&s, &["--help"]);
    assert!(top.contains("Examples:"));
    insta::assert_snapshot!("help", top);
}

#[test]
fn version_prints_the_crate_version() {
    let s = Sandbox::new();
    assert_eq!(
        run_ok(&s, &["--version"]).trim(),
        format!("kedactl {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn simulate_reports_a_timeline_a_summary_and_a_chart() {
    let s = Sandbox::new();
    let doc = json(
        &s,
        &[
            "simulate",
            "--shape",
            "burst",
            "--rate",
            "0.05",
            "--duration",
            "20m",
            "--chart",
            "sim.svg",
        ],
    );
    assert_eq!(doc["kind"], "Simulation");
    let timeline = doc["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 1200);
    for key in ["t", "arrivals", "visible", "in_flight", "replicas"] {
        assert!(
            timeline[0].get(key).is_some(),
            "timeline entries have {key}"
        );
    }
    assert_eq!(timeline[0]["arrivals"], 60);
    assert_eq!(doc["summary"]["messages"], 60);
    assert_eq!(doc["summary"]["processed"], 60);
    assert_eq!(doc["summary"]["max_replicas"], 10);
    let svg = std::fs::read_to_string(s.path("sim.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("replicas") && svg.trim_end().ends_with("</svg>")
    );

    // The same arrivals against another config, side by side.
    s.write(
        "eager.yaml",
        "apps:\n  - scaling:\n      queueLength: 1\n      maxReplicas: 60\n",
    );
    let text = run_ok(
        &s,
        &[
            "simulate",
            "--shape",
            "burst",
            "--rate",
            "0.05",
            "--duration",
            "20m",
            "--compare",
            "eager.yaml",
        ],
    );
    assert!(
        text.contains("built-in defaults") && text.contains("eager.yaml"),
        "{text}"
    );
    let doc = json(
        &s,
        &[
            "simulate",
            "--shape",
            "burst",
            "--rate",
            "0.05",
            "--duration",
            "20m",
            "--compare",
            "eager.yaml",
        ],
    );
    assert!(doc["compare"]["summary"]["max_replicas"].as_u64().unwrap() > 10);
}

#[test]
fn simulate_rejects_bad_inputs_clearly() {
    let s = Sandbox::new();
    s.write("bad.csv", "3\nlots\n");
    for (args, says) in [
        (
            vec!["simulate", "--pod-rate", "0"],
            "--pod-rate: 0 is not a positive rate",
        ),
        (
            vec!["simulate", "--trace", "bad.csv"],
            "bad.csv line 2: \"lots\" is not a whole number",
        ),
        (
            vec!["simulate", "--trace", "missing.csv"],
            "cannot read missing.csv",
        ),
        (
            vec!["simulate", "--min-replicas", "9", "--max-replicas", "2"],
            "minReplicas (9) is greater than maxReplicas (2)",
        ),
    ] {
        let out = s.kedactl(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let out = s
        .kedactl(["simulate", "--duration", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a duration"));
}

/// Issue 16, defect 2 (not modelled yet): a ScaledJob app is refused by `simulate` and
/// `scale --dry-run` rather than silently simulated as a ScaledObject.
#[test]
fn simulate_runs_a_scaled_job_as_jobs() {
    // Seed 002: one message per Job, pollingInterval 10, maxReplicaCount 100, 30 s a message.
    let s = Sandbox::new();
    s.write(
        "job.yaml",
        "apps:\n  - scaling:\n      kind: ScaledJob\n      queueLength: 1\n      maxReplicas: 100\n      pollingInterval: 10\n      successfulJobsHistoryLimit: 100\n",
    );
    let args = [
        "simulate",
        "-f",
        "job.yaml",
        "--shape",
        "burst",
        "--rate",
        "0.2",
        "--duration",
        "60",
        "--job-duration",
        "30s",
        "--startup",
        "5s",
    ];
    // By hand (RequestJobScale): 12 messages at t = 0, 12 Jobs at the first poll, each receives
    // its message at t = 5 and deletes it 30 s of work later, at t = 34.
    let doc = json(&s, &args);
    assert_eq!(doc["input"]["jobDurationSeconds"], 30);
    let sum = &doc["summary"];
    assert_eq!(sum["jobs_created"], 12);
    assert_eq!(sum["jobs_failed"], 0);
    assert_eq!(sum["processed"], 12);
    assert_eq!(sum["wait_max"], 34);
    assert_eq!(sum["max_replicas"], 12);
    let timeline = doc["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().all(|k| k.get("hpa_read").is_none()),
        "no HPA"
    );
    assert_eq!(timeline[0]["jobs_created"], 12);
    let out = s.kedactl(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Jobs work 30 s per message"), "{text}");
    assert!(
        text.contains("jobs started / failed") && text.contains("12 / 0"),
        "{text}"
    );
    // An option the run does not depend on is said, not silently ignored.
    assert!(
        stderr(&out).contains("successfulJobsHistoryLimit and failedJobsHistoryLimit only decide"),
        "{}",
        stderr(&out)
    );
    // scale without --dry-run still has no Deployment to set.
    let out = s
        .kedactl(["scale", "-f", "job.yaml", "--once"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no Deployment"), "{}", stderr(&out));
}

#[test]
fn doctor_lists_and_explains_its_checks_offline() {
    let s = Sandbox::new();
    let list = run_ok(&s, &["doctor", "--list"]);
    assert_eq!(list.lines().count(), kedactl::doctor::CATALOGUE.len());
    assert!(
        list.starts_with("KD001  EKS      Pod Identity Agent add-on is installed and ACTIVE"),
        "{list}"
    );
    let doc = json(&s, &["doctor", "--list"]);
    assert_eq!(
        doc["checks"].as_array().unwrap().len(),
        kedactl::doctor::CATALOGUE.len()
    );
    assert_eq!(doc["checks"][9]["code"], "KD010");
    assert_eq!(doc["checks"][9]["layer"], "iam");
    let text = run_ok(&s, &["doctor", "--explain", "kd010"]);
    assert!(
        text.starts_with("KD010 (IAM): The identity role trusts the keda-operator role"),
        "{text}"
    );

    let out = s
        .kedactl(["doctor", "--explain", "KD999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no check \"KD999\"") && stderr(&out).contains("--list"),
        "{}",
        stderr(&out)
    );
    let out = s
        .kedactl(["doctor", "--scaled-object", "no-namespace"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not NAMESPACE/NAME"),
        "{}",
        stderr(&out)
    );
    let out = s.kedactl(["doctor", "--list", "--fix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--list and --fix conflict");
}

#[test]
fn scale_refuses_a_scaled_job_app_before_any_call() {
    let s = Sandbox::new();
    let out = s
        .kedactl([
            "scale",
            "--once",
            "--cluster",
            "demo",
            "--region",
            "us-east-1",
            "--scaling-kind",
            "scaled-job",
        ])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        // Not `scale --dry-run` either: it refuses a ScaledJob app (issue 16, defect 2).
        err.contains("runs one Job per batch") && err.contains("ScaledJob run the Jobs"),
        "{err}"
    );
}

/// `doctor --keda-log`: KEDA v2.20.2's lines (tests/support/keda-logs/gen.py), from a file and
/// from stdin, with no AWS or cluster access (the sandbox has neither).
#[test]
fn doctor_classifies_a_saved_keda_log_file_offline() {
    let s = Sandbox::new();
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/keda-logs/refused.console.log"
    );
    let out = s.kedactl(["doctor", "--keda-log", log]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for code in [
        "KD005", "KD009", "KD010", "KD011", "KD015", "KD016", "KD027",
    ] {
        assert!(text.contains(&format!("✗ {code} ")), "{code}: {text}");
    }
    assert!(text.contains("66 lines read"), "{text}");
    let not_run = kedactl::doctor::CATALOGUE.len() - 7;
    assert!(
        text.contains(&format!("{not_run} checks were not run")),
        "{text}"
    );
    assert!(!text.contains('✓'), "nothing was evaluated as ok: {text}");
    assert!(
        text.contains("fix: kedactl up --only iam (adds {\"AWS\": \"arn:aws:iam::123456789012:role/keda-operator\"} with sts:AssumeRole to the trust of keda-identity)"),
        "{text}"
    );
}

#[test]
fn doctor_classifies_a_keda_log_from_stdin() {
    let s = Sandbox::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/keda-logs");
    let json_log = std::fs::read(format!("{dir}/refused.json.log")).unwrap();
    let out = s
        .kedactl(["doctor", "--keda-log", "-", "-o", "json"])
        .write_stdin(json_log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["kedaLog"]["source"], "standard input");
    assert_eq!(doc["kedaLog"]["lines"], 16);
    let codes: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "KD005", "KD009", "KD010", "KD011", "KD016", "KD015", "KD027"
        ]
    );
    assert_eq!(doc["summary"]["fail"], 7);
    assert_eq!(doc["summary"]["ok"], 0);
    assert_eq!(
        doc["notRun"].as_array().unwrap().len(),
        kedactl::doctor::CATALOGUE.len() - 7
    );

    // A healthy log: exit 0, the count of lines, and no ✓ for checks that were not run.
    let healthy = std::fs::read(format!("{dir}/healthy.console.log")).unwrap();
    let out = s
        .kedactl(["doctor", "--keda-log", "-"])
        .write_stdin(healthy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("KEDA log standard input: 13 lines read, no 403, AssumeRole or credential failure found."),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} checks were not run",
            kedactl::doctor::CATALOGUE.len()
        )) && !text.contains('✓'),
        "{text}"
    );
    // --fix needs AWS and the cluster.
    let out = s
        .kedactl(["doctor", "--keda-log", "-", "--fix"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

const AMP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/amp.yaml");

#[test]
fn seed_003_renders_a_prometheus_trigger_and_plans_the_workspace_first() {
    let s = Sandbox::new();
    let text = run_ok(&s, &["-f", AMP, "render", "--account", "123456789012"]);
    assert!(text.contains("type: prometheus"), "{text}");
    assert!(text.contains("aps:QueryMetrics"), "{text}");
    assert!(
        !text.contains("aws-sqs-queue") && !text.contains("QUEUE_URL"),
        "{text}"
    );
    let plan = json(
        &s,
        &["-f", AMP, "plan", "--offline", "--account", "123456789012"],
    );
    let steps = plan["steps"].as_array().unwrap();
    let ws = steps
        .iter()
        .position(|s| s["id"] == "aps:workspace/AMP-KEDA")
        .expect("the workspace is created");
    assert_eq!(steps[ws]["summary"], "create AMP workspace AMP-KEDA");
    assert!(
        !steps
            .iter()
            .any(|s| s["id"].as_str().unwrap().starts_with("queue:"))
    );
}

#[test]
fn load_refuses_an_app_that_does_not_scale_on_sqs() {
    let s = Sandbox::new();
    let out = s
        .kedactl(["-f", AMP, "load", "--count", "5"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("scales on AMP workspace AMP-KEDA"), "{err}");
    assert!(err.contains("trigger: prometheus"), "{err}");
}

/// Seed 003's app (threshold 0.25, minReplicas 1, max 20, pollingInterval 30) on a query that
/// reads 1.2 from t=60 s and 0.1 from t=600 s. KEDA hands the HPA 1200 m against a 250 m
/// target: ceil(1200/250) = 5. KEDA's HPA has no behavior, so the legacy scale-up limit
/// applies (`calculateScaleUpLimit`: max(2 × current, 4)): 1 → 4 at the 60 s sync, then 5 at
/// 75 s. At 0.1 the recommendation is ceil(100/250) = 1, held by the 300 s scale-down window
/// until the sync at 900 s.
#[test]
fn simulate_runs_a_threshold_trace_for_the_prometheus_trigger() {
    let s = Sandbox::new();
    let trace = s.path("amp.csv");
    std::fs::write(&trace, "t,value\n0,0\n60,1.2\n600,0.1\n900,0\n").unwrap();
    let doc = json(
        &s,
        &["-f", AMP, "simulate", "--trace", trace.to_str().unwrap()],
    );
    assert_eq!(doc["input"]["targetPerReplica"], 250);
    let replicas = |t: u64| {
        doc["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["t"] == t)
            .unwrap()["replicas"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(replicas(59), 1);
    assert_eq!(replicas(60), 4);
    assert_eq!(replicas(74), 4);
    assert_eq!(replicas(75), 5);
    assert_eq!(replicas(899), 5);
    assert_eq!(replicas(900), 1);
    assert_eq!(doc["summary"]["messages"], 0);
    let text = run_ok(
        &s,
        &["-f", AMP, "simulate", "--trace", trace.to_str().unwrap()],
    );
    assert!(text.contains("of AMP workspace AMP-KEDA"), "{text}");
    assert!(!text.contains("backlog"), "no queue to report: {text}");
    // A value the query cannot return is named with its line.
    std::fs::write(&trace, "t,value\n0,0\n60,-1\n").unwrap();
    let out = s
        .kedactl(["-f", AMP, "simulate", "--trace", trace.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: \"-1\" is not a value from 0 to 1e12"),
        "{}",
        stderr(&out)
    );
}
