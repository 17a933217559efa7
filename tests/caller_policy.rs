//! `render --caller-policy`: the IAM policy kedactl's own caller needs. Every AWS call in `src/`
//! has its row in `cloud::permissions`; the rendered policy passes parliament, grants `*` only
//! for actions the Service Authorization Reference (parliament's copy) gives no resource type;
//! and every request `up`, `plan`, `doctor` and `down` really send to moto — the default stack
//! and every example — is allowed by the policy rendered for that command, as kedactl's own IAM
//! evaluator reads it.

mod common;
use common::{Sandbox, example_paths, stderr, stdout};
use kedactl::cloud::caller_policy::{self, Caller, PODS_SERVICE};
use kedactl::cloud::permissions::{self, Command, PERMISSIONS};
use kedactl::doctor::conditions::Context;
use kedactl::doctor::policy::{Decision, evaluate};
use kedactl::model::Only;
use kedactl::render;
use kedactl::spec::{self, AuthMode, Spec};
use serde_json::Value;
use std::path::PathBuf;

const ACCOUNT: &str = "123456789012";

fn base() -> Spec {
    Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some(ACCOUNT.into()),
        ..Spec::default()
    }
}

/// The default stack, its IRSA form, and every example.
fn specs() -> Vec<(String, Spec)> {
    let mut irsa = base();
    irsa.auth_mode = AuthMode::Irsa;
    irsa.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
    let mut out = vec![("default".to_string(), base()), ("irsa".to_string(), irsa)];
    for p in example_paths() {
        let mut spec = spec::parse(&std::fs::read(&p).unwrap(), &p.display().to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        spec.account = Some(ACCOUNT.into());
        out.push((p.file_name().unwrap().to_string_lossy().into_owned(), spec));
    }
    out
}

const COMMAND_SETS: [&[Command]; 3] = [
    &Command::DEFAULT,
    &[Command::Plan, Command::Doctor],
    &[Command::Watch, Command::Load],
];

/// What IAM knows of a request that the policy's conditions read.
fn context() -> Context {
    Context::default()
        .set("iam:PassedToService", &[PODS_SERVICE])
        .set("iam:AWSServiceName", &["scraper.aps.amazonaws.com"])
        .set("aws:CalledVia", &["aps.amazonaws.com"])
}

/// A resource an ARN pattern stands for (`workspace/*` → `workspace/x`).
fn instance(pattern: &str) -> String {
    match pattern {
        "*" => "*".into(),
        p => p.replace('*', "x"),
    }
}

/// Each row of the commands' policy is allowed on every resource of its kind; a row of other
/// commands only where a selected row grants the same action there (the read-only policy
/// allows no write).
#[test]
fn the_policy_allows_its_commands_rows_and_no_other() {
    for (name, spec) in specs() {
        let d = render::desired(&spec).unwrap();
        for commands in COMMAND_SETS {
            let only = Only::default();
            let doc = caller_policy::caller_policy(&d, &only, commands, Caller::default());
            let selected: Vec<_> = caller_policy::rows(commands, &only).collect();
            for row in PERMISSIONS {
                for pattern in caller_policy::resources(row.on, &d, Caller::default()) {
                    let r = instance(&pattern);
                    let expected = selected.iter().any(|s| {
                        s.action == row.action
                            && caller_policy::resources(s.on, &d, Caller::default())
                                .iter()
                                .any(|p| kedactl::doctor::policy::wildcard(p, &r))
                    });
                    let got = evaluate(&doc, row.action, &r, &context());
                    assert_eq!(
                        got.decision == Decision::Allow,
                        expected,
                        "{name} {commands:?}: {} on {r}: {}",
                        row.action,
                        got.describe()
                    );
                }
            }
        }
    }
}

#[test]
fn pass_role_is_the_stacks_roles_to_eks_pods_only_with_pod_identity() {
    let d = render::desired(&base()).unwrap();
    let doc = caller_policy::caller_policy(&d, &Only::default(), &[Command::Up], Caller::default());
    let identity = format!("arn:aws:iam::{ACCOUNT}:role/keda-identity");
    assert_eq!(
        evaluate(&doc, "iam:PassRole", &identity, &context()).decision,
        Decision::Allow
    );
    let to_ec2 = Context::default().set("iam:PassedToService", &["ec2.amazonaws.com"]);
    assert_ne!(
        evaluate(&doc, "iam:PassRole", &identity, &to_ec2).decision,
        Decision::Allow,
        "passed to another service"
    );
    let other = format!("arn:aws:iam::{ACCOUNT}:role/admin");
    assert_ne!(
        evaluate(&doc, "iam:PassRole", &other, &context()).decision,
        Decision::Allow
    );
    // What doctor's KD029 asks the simulator: every role of every pod-identity stack.
    for (name, spec) in specs() {
        let d = render::desired(&spec).unwrap();
        let doc =
            caller_policy::caller_policy(&d, &Only::default(), &[Command::Up], Caller::default());
        for r in &d.roles {
            let got = evaluate(&doc, "iam:PassRole", &r.arn, &context()).decision;
            assert_eq!(
                got == Decision::Allow,
                spec.auth_mode == AuthMode::PodIdentity,
                "{name}: {}: {got:?}",
                r.arn
            );
        }
    }
    // A review role passes nothing.
    let read = caller_policy::caller_policy(
        &d,
        &Only::default(),
        &[Command::Plan, Command::Doctor],
        Caller::default(),
    );
    assert!(!read.to_string().contains("iam:PassRole"), "{read:#}");
}

/// parliament, when installed (`.ci/run` installs it and sets KEDACTL_REQUIRE_PARLIAMENT).
fn parliament() -> bool {
    let required = std::env::var_os("KEDACTL_REQUIRE_PARLIAMENT").is_some_and(|v| !v.is_empty());
    let runs = std::process::Command::new("parliament")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        runs || !required,
        "KEDACTL_REQUIRE_PARLIAMENT is set but parliament does not run: pip install parliament==1.6.4"
    );
    if !runs {
        eprintln!("skipped: parliament is not installed (pip install parliament==1.6.4)");
    }
    runs
}

/// Against parliament's copy of the Service Authorization Reference: a statement on `*` holds
/// only actions with no resource type, a scoped one only actions that have one; the read-only
/// policy holds only Read and List actions. Prints one line per offence.
const SAR_CHECK: &str = r#"
import json, os, sys, parliament
d = json.load(open(os.path.join(os.path.dirname(parliament.__file__), "iam_definition.json")))
privs = {f"{s['prefix']}:{p['privilege']}".lower(): p for s in d for p in s["privileges"]}
for f in sorted(os.listdir(sys.argv[1])):
  doc, readonly = json.load(open(os.path.join(sys.argv[1], f))), f.endswith(".ro.json")
  for s in doc["Statement"]:
      star = "*" in s["Resource"]
      for a in s["Action"]:
          p = privs.get(a.lower())
          if p is None:
              print(f"{f}: {a}: not in the reference"); continue
          typed = any(r["resource_type"] for r in p["resource_types"])
          if star and typed:
              print(f"{f}: {a}: on * but it has resource types {[r['resource_type'] for r in p['resource_types']]}")
          if not star and not typed:
              print(f"{f}: {a}: scoped but it has no resource type")
          if readonly and p["access_level"] not in ("Read", "List"):
              print(f"{f}: {a}: {p['access_level']} in a read-only policy")
"#;

#[test]
fn every_caller_policy_passes_parliament_and_grants_star_only_without_resource_types() {
    if !parliament() {
        return;
    }
    // Every policy in one folder, so parliament and the reference load once (`*.ro.json`: the
    // read-only ones).
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, spec) in specs() {
        let d = render::desired(&spec).unwrap();
        for (i, commands) in COMMAND_SETS.iter().enumerate() {
            let doc =
                caller_policy::caller_policy(&d, &Only::default(), commands, Caller::default());
            if doc["Statement"].as_array().is_none_or(Vec::is_empty) {
                continue;
            }
            let readonly = commands
                .iter()
                .all(|c| matches!(c, Command::Plan | Command::Doctor));
            let file = format!("{name}-{i}{}.json", if readonly { ".ro" } else { "" });
            std::fs::write(dir.path().join(file), doc.to_string()).unwrap();
            checked += 1;
        }
    }
    let out = std::process::Command::new("parliament")
        .args(["--json", "--directory"])
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let findings = stdout(&out);
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "{findings}{}",
        stderr(&out)
    );
    let out = std::process::Command::new("python3")
        .args(["-c", SAR_CHECK])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && stdout(&out).trim().is_empty(),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    eprintln!("parliament and the reference: {checked} caller policies, no finding");
}

/// `Call::operation` of a client method (`get_role` → `GetRole`; the SDK's own spelling of
/// acronyms is kept by the table: `list_open_id_connect_providers` → `ListOpenIDConnectProviders`).
fn operation_of(method: &str, service: &str) -> Option<&'static str> {
    let squash = |s: &str| s.replace('_', "").to_ascii_lowercase();
    PERMISSIONS
        .iter()
        .find(|p| p.service == service && squash(p.operation) == squash(method))
        .map(|p| p.operation)
}

/// The SDK calls in `src/` (`<client>.<operation>()`, clients named for their service as
/// `Aws`'s fields are): each must have its row, so a new call cannot ship without its action.
fn unregistered_calls_in(src: &str) -> Vec<String> {
    // `Aws`'s field, and the service name the table uses (botocore's).
    let clients = [
        ("iam", "iam"),
        ("sts", "sts"),
        ("sqs", "sqs"),
        ("ecr", "ecr"),
        ("eks", "eks"),
        ("kms", "kms"),
        ("amp", "amp"),
        ("cloudwatch", "cloudwatch"),
        ("kinesis", "kinesis"),
        ("dynamodb", "dynamodb"),
        ("dynamodbstreams", "dynamodbstreams"),
        ("tagging", "resourcegroupstaggingapi"),
    ];
    // Methods of `Option<Client>` and the like, not operations.
    let not_calls = [
        "clone", "as_ref", "as_mut", "is_some", "is_none", "take", "config",
    ];
    let re = regex_lite::Regex::new(r"\b([a-z]+)\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)").unwrap();
    let mut out = Vec::new();
    for c in re.captures_iter(src) {
        let (client, method) = (&c[1], &c[2]);
        let service = clients.iter().find(|(field, _)| *field == client);
        if let Some((_, service)) = service
            && !not_calls.contains(&method)
            && operation_of(method, service).is_none()
        {
            out.push(format!("{client}.{method}()"));
        }
    }
    out
}

#[test]
fn every_aws_call_in_src_has_its_permission() {
    let mut missing = Vec::new();
    let mut files = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut scanned = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            missing.extend(
                unregistered_calls_in(&text)
                    .into_iter()
                    .map(|c| format!("{}: {c}", p.display())),
            );
            scanned += 1;
        }
    }
    assert!(scanned > 50, "{scanned} files");
    assert!(
        missing.is_empty(),
        "AWS calls without a row in src/cloud/permissions.rs (add the IAM action they need): {missing:#?}"
    );
    // And the check sees a new call, across lines as rustfmt writes them.
    let new_call =
        "let out = aws\n    .sqs\n    .receive_message()\n    .queue_url(u)\n    .send()";
    assert_eq!(unregistered_calls_in(new_call), ["sqs.receive_message()"]);
    assert!(unregistered_calls_in("aws.sqs.get_queue_url()").is_empty());
}

// ---------------------------------------------------------------------------------------------
// On moto: what the commands really call.

/// A private AWS oracle (tests/support/aws_oracle.py) in front of moto, recording each request's
/// service, operation, region and naming parameters; None (skipped) without python3 and
/// botocore, unless KEDACTL_REQUIRE_AWS_ORACLE is set.
struct Recorder {
    child: std::process::Child,
    url: String,
    calls: PathBuf,
    seen: usize,
    _dir: tempfile::TempDir,
}

impl Recorder {
    fn start(upstream: &str) -> Option<Recorder> {
        let required =
            std::env::var_os("KEDACTL_REQUIRE_AWS_ORACLE").is_some_and(|v| !v.is_empty());
        let has = std::process::Command::new("python3")
            .args(["-c", "import botocore"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            has || !required,
            "KEDACTL_REQUIRE_AWS_ORACLE is set but python3 cannot import botocore"
        );
        if !has {
            eprintln!("skipped: python3 with botocore is needed for the recording oracle");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("oracle.jsonl");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/aws_oracle.py");
        let child = std::process::Command::new("python3")
            .arg(script)
            .args(["serve", &port.to_string(), upstream])
            .arg(&record)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the recording oracle did not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(Recorder {
            child,
            url: format!("http://127.0.0.1:{port}"),
            calls: record.with_extension("jsonl.calls"),
            seen: 0,
            _dir: dir,
        })
    }

    /// The requests since the last `take`.
    fn take(&mut self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.calls).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .skip(self.seen)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        self.seen += lines.len();
        lines
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resources IAM authorizes a recorded request against, from its own parameters (not from
/// kedactl's table): the ARN of each role, queue, repository... it names, or `*`. GetRecords
/// names only a shard iterator: its stream is the one `stream` last asked an iterator of.
fn resources_of(call: &Value, stream: &mut Option<String>) -> Vec<String> {
    let one = resource_of(call);
    let op = call["operation"].as_str().unwrap_or_default();
    match (call["service"].as_str().unwrap_or_default(), op) {
        ("kinesis", "GetShardIterator") => *stream = Some(one.clone()),
        ("kinesis", "GetRecords") if one == "*" => return stream.iter().cloned().collect(),
        ("ecr", _) if one == "*" => {
            let names = call["params"]["repositoryNames"].as_array();
            return names
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|r| format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{r}"))
                .collect();
        }
        _ => {}
    }
    vec![one]
}

fn resource_of(call: &Value) -> String {
    let p = &call["params"];
    let s = |k: &str| p[k].as_str();
    let region = call["region"].as_str().unwrap_or("us-east-1");
    let arn = |service: &str, r: String| format!("arn:aws:{service}:{region}:{ACCOUNT}:{r}");
    let last = |u: &str| u.rsplit('/').next().unwrap_or(u).to_string();
    let named = match call["service"].as_str().unwrap_or_default() {
        "iam" => s("RoleName")
            .map(|r| format!("arn:aws:iam::{ACCOUNT}:role/{r}"))
            .or(s("OpenIDConnectProviderArn").map(str::to_string))
            .or(s("PolicySourceArn").map(str::to_string))
            .or(s("PolicyArn").map(str::to_string)),
        "sqs" => s("QueueUrl")
            .or(s("QueueName"))
            .map(|q| arn("sqs", last(q))),
        "ecr" => s("resourceArn")
            .map(str::to_string)
            .or(s("repositoryName").map(|r| arn("ecr", format!("repository/{r}")))),
        "eks" => s("resourceArn").map(str::to_string).or_else(|| {
            let c = s("clusterName").or(s("name"))?;
            Some(
                match (s("addonName"), s("associationId"), s("nodegroupName")) {
                    (Some(a), _, _) => arn("eks", format!("addon/{c}/{a}/x")),
                    (_, Some(id), _) => arn("eks", format!("podidentityassociation/{c}/{id}")),
                    (_, _, Some(n)) => arn("eks", format!("nodegroup/{c}/{n}/x")),
                    _ => arn("eks", format!("cluster/{c}")),
                },
            )
        }),
        "kinesis" => s("StreamARN")
            .map(str::to_string)
            .or(s("StreamName").map(|n| arn("kinesis", format!("stream/{n}")))),
        "dynamodb" => s("ResourceArn")
            .map(str::to_string)
            .or(s("TableName").map(|t| arn("dynamodb", format!("table/{t}")))),
        "dynamodbstreams" => s("StreamArn").map(str::to_string),
        "amp" => s("resourceArn")
            .map(str::to_string)
            .or(s("workspaceId").map(|w| arn("aps", format!("workspace/{w}"))))
            .or(s("scraperId").map(|w| arn("aps", format!("scraper/{w}")))),
        "kms" => s("KeyId").map(|k| match k.starts_with("arn:") {
            true => k.to_string(),
            false => arn("kms", format!("key/{k}")),
        }),
        _ => None,
    };
    named.unwrap_or_else(|| "*".into())
}

/// A config for one example with names no other test uses on the shared moto server.
fn unique_example(path: &std::path::Path, prefix: &str) -> String {
    let mut v: serde_yaml::Value = serde_yaml::from_slice(&std::fs::read(path).unwrap()).unwrap();
    fn rename(v: &mut serde_yaml::Value, prefix: &str, under: &str) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                for (k, val) in m.iter_mut() {
                    let key = k.as_str().unwrap_or_default().to_string();
                    let names = matches!(under, "queue" | "deadLetter" | "stream" | "table");
                    match val {
                        serde_yaml::Value::String(s)
                            if (names && key == "name")
                                || key == "repository"
                                || key == "alias" =>
                        {
                            *s = format!("{prefix}-{s}");
                        }
                        _ => rename(val, prefix, &key),
                    }
                }
            }
            serde_yaml::Value::Sequence(items) => {
                for i in items {
                    rename(i, prefix, under);
                }
            }
            _ => {}
        }
    }
    rename(&mut v, prefix, "");
    serde_yaml::to_string(&v).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_of_up_plan_doctor_down_on_moto_is_allowed_by_the_caller_policy() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let Some(mut oracle) = Recorder::start(&endpoint) else {
        return;
    };
    common::moto_cluster(&endpoint, "demo");
    let url = oracle.url.clone();
    let caller = format!("arn:aws:iam::{ACCOUNT}:user/moto");
    let mut stacks: Vec<(String, Option<PathBuf>)> = vec![("default".into(), None)];
    // moto has no AMP scrapers (HTTP 404), which even the amp example's roles depend on: it is
    // held to the table by the tests above only.
    let on_moto = |p: &PathBuf| p.file_stem().is_some_and(|s| s != "amp");
    stacks.extend(example_paths().into_iter().filter(on_moto).map(|p| {
        (
            p.file_stem().unwrap().to_string_lossy().into_owned(),
            Some(p),
        )
    }));
    let mut problems = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    let mut total = 0;
    let mut stream = None;
    for (name, example) in stacks {
        let prefix = common::unique(&format!("cp{}", &name[..name.len().min(6)]));
        let sandbox = Sandbox::new();
        let (op, id) = (format!("{prefix}-op"), format!("{prefix}-id"));
        let groups = "iam,queue,registry,source";
        let mut flags: Vec<String> = [
            "--cluster",
            "demo",
            "--region",
            "us-east-1",
            "--stack",
            &prefix,
            "--operator-role",
            &op,
            "--identity-role",
            &id,
            "--only",
            groups,
        ]
        .map(str::to_string)
        .to_vec();
        match &example {
            Some(path) => {
                let cfg = sandbox.write("kedactl.yaml", unique_example(path, &prefix));
                flags.extend(["-f".into(), cfg.display().to_string()]);
            }
            None => flags.extend([
                "--queue".into(),
                format!("{prefix}-q"),
                "--repository".into(),
                format!("{prefix}-repo"),
            ]),
        }
        let run = |cmd: &str, extra: &[&str]| {
            let mut args: Vec<String> = vec![cmd.into()];
            args.extend(flags.iter().cloned());
            args.extend(extra.iter().map(|s| s.to_string()));
            sandbox
                .process(&args)
                .env("KEDACTL_TRUST_WATCH", "2")
                .env("AWS_ENDPOINT_URL", &url)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .unwrap()
        };
        for (cmd, command, extra) in [
            ("up", Command::Up, &["--yes"][..]),
            ("plan", Command::Plan, &[][..]),
            ("doctor", Command::Doctor, &[][..]),
            ("down", Command::Down, &["--yes"][..]),
        ] {
            let out = run(cmd, extra);
            // doctor finds the cluster side unreachable (exit 1): its AWS reads are the point.
            assert!(
                out.status.code() == Some(0) || cmd == "doctor",
                "{name}: {cmd}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let calls = oracle.take();
            assert!(!calls.is_empty(), "{name}: {cmd} made no AWS call");
            let policy = run(
                "render",
                &[
                    "--caller-policy",
                    "--account",
                    ACCOUNT,
                    "--commands",
                    cmd,
                    "--caller-arn",
                    &caller,
                ],
            );
            assert!(policy.status.success(), "{name}: {}", stderr(&policy));
            let policy: Value = serde_json::from_slice(&policy.stdout).unwrap();
            for call in &calls {
                total += 1;
                let (service, operation) = (
                    call["service"].as_str().unwrap(),
                    call["operation"].as_str().unwrap(),
                );
                let rows = permissions::of(service, operation);
                let Some(first) = rows.first() else {
                    problems.push(format!("{name}: {cmd}: {service} {operation} has no row"));
                    continue;
                };
                if !first.used_by.contains(&command) {
                    problems.push(format!(
                        "{name}: {cmd} calls {service} {operation}, its row says {:?}",
                        first.used_by
                    ));
                }
                let resources = resources_of(call, &mut stream);
                if resources.is_empty() {
                    problems.push(format!(
                        "{name}: {cmd}: {service} {operation} names nothing: {call}"
                    ));
                }
                for (row, resource) in rows
                    .iter()
                    .filter(|r| r.on == first.on)
                    .flat_map(|r| resources.iter().map(move |x| (r, x)))
                {
                    let got = evaluate(&policy, row.action, resource, &context());
                    if got.decision != Decision::Allow {
                        problems.push(format!(
                            "{name}: {cmd}: {service} {operation} needs {} on {resource}: {}",
                            row.action,
                            got.describe()
                        ));
                    }
                    covered.insert(row.action);
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {total} calls not covered:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{total} calls, {} actions, all allowed: {covered:?}",
        covered.len()
    );
}

const TABLE_START: &str = "<!-- generated from src/cloud/permissions.rs by tests/caller_policy.rs: UPDATE_DOCS=1 cargo test --test caller_policy -->";
const TABLE_END: &str = "<!-- end of generated table -->";

/// docs/permissions.md lists every row of the table, as the code has it.
#[test]
fn the_permissions_page_lists_every_call_and_its_action() {
    let mut table = String::from(
        "| service | operation | IAM action | on | commands |\n|---|---|---|---|---|\n",
    );
    for p in PERMISSIONS {
        let commands: Vec<String> = p
            .used_by
            .iter()
            .map(|c| format!("{c:?}").to_ascii_lowercase())
            .collect();
        table.push_str(&format!(
            "| {} | {} | `{}` | {:?} | {} |\n",
            p.service,
            p.operation,
            p.action,
            p.on,
            commands.join(", ")
        ));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/permissions.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = page
        .split_once(TABLE_START)
        .expect("the table's start marker");
    let (_, tail) = rest.split_once(TABLE_END).expect("the table's end marker");
    let want = format!("{head}{TABLE_START}\n{table}{TABLE_END}{tail}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    assert!(
        page == want || std::env::var_os("UPDATE_DOCS").is_some(),
        "docs/permissions.md's table is stale: UPDATE_DOCS=1 cargo test --test caller_policy"
    );
}
