//! `render --caller-policy`: the IAM policy kedactl's own caller needs. Every AWS call in `src/`
//! has its row in `cloud::permissions`; the rendered policy passes parliament, grants `*` only
//! for actions the Service Authorization Reference (parliament's copy) gives no resource type;
//! and every request `up`, `plan`, `doctor` and `down` really send to moto — the default stack
//! and every example — is allowed by the policy rendered for that command, as kedactl's own IAM
//! evaluator reads it.

mod common;
use common::{Sandbox, stderr, stdout};
use kedactl::cloud::caller_policy::{self, PODS_SERVICE};
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

fn example_paths() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

const COMMAND_SETS: [&[Command]; 3] = [
    &Command::DEFAULT,
    &[Command::Plan, Command::Doctor],
    &[Command::Watch, Command::Load],
];

/// What IAM knows of a request that the policy's conditions read.
fn context() -> Context {
    Context::default().set("iam:PassedToService", &[PODS_SERVICE])
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
            let doc = caller_policy::caller_policy(&d, &only, commands);
            let selected: Vec<_> = caller_policy::rows(commands, &only).collect();
            for row in PERMISSIONS {
                for pattern in caller_policy::resources(row.on, &d) {
                    let r = instance(&pattern);
                    let expected = selected.iter().any(|s| {
                        s.action == row.action
                            && caller_policy::resources(s.on, &d)
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
fn pass_role_is_the_identity_roles_to_eks_pods_only() {
    let d = render::desired(&base()).unwrap();
    let doc = caller_policy::caller_policy(&d, &Only::default(), &[Command::Up]);
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
    // A review role passes nothing.
    let read =
        caller_policy::caller_policy(&d, &Only::default(), &[Command::Plan, Command::Doctor]);
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
doc, readonly = json.loads(sys.argv[1]), sys.argv[2] == "1"
for s in doc["Statement"]:
    star = "*" in s["Resource"]
    for a in s["Action"]:
        p = privs.get(a.lower())
        if p is None:
            print(f"{a}: not in the reference"); continue
        typed = any(r["resource_type"] for r in p["resource_types"])
        if star and typed:
            print(f"{a}: on * but it has resource types {[r['resource_type'] for r in p['resource_types']]}")
        if not star and not typed:
            print(f"{a}: scoped but it has no resource type")
        if readonly and p["access_level"] not in ("Read", "List"):
            print(f"{a}: {p['access_level']} in a read-only policy")
"#;

#[test]
fn every_caller_policy_passes_parliament_and_grants_star_only_without_resource_types() {
    if !parliament() {
        return;
    }
    let mut checked = 0;
    for (name, spec) in specs() {
        let d = render::desired(&spec).unwrap();
        for commands in COMMAND_SETS {
            let doc = caller_policy::caller_policy(&d, &Only::default(), commands);
            if doc["Statement"].as_array().is_none_or(Vec::is_empty) {
                continue;
            }
            let text = doc.to_string();
            let out = std::process::Command::new("parliament")
                .args(["--json", "--string", &text])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let findings = stdout(&out);
            assert!(
                out.status.success() && findings.trim().is_empty(),
                "{name} {commands:?}: {findings}{}",
                stderr(&out)
            );
            let readonly = commands
                .iter()
                .all(|c| matches!(c, Command::Plan | Command::Doctor));
            let out = std::process::Command::new("python3")
                .args(["-c", SAR_CHECK, &text, if readonly { "1" } else { "0" }])
                .output()
                .unwrap();
            assert!(
                out.status.success() && stdout(&out).trim().is_empty(),
                "{name} {commands:?}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            checked += 1;
        }
    }
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
    let clients = [
        "iam",
        "sts",
        "sqs",
        "ecr",
        "eks",
        "kms",
        "amp",
        "cloudwatch",
        "kinesis",
        "dynamodb",
        "dynamodbstreams",
    ];
    // Methods of `Option<Client>` and the like, not operations.
    let not_calls = [
        "clone", "as_ref", "as_mut", "is_some", "is_none", "take", "config",
    ];
    let re = regex_lite::Regex::new(r"\b([a-z]+)\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)").unwrap();
    let mut out = Vec::new();
    for c in re.captures_iter(src) {
        let (client, method) = (&c[1], &c[2]);
        if clients.contains(&client)
            && !not_calls.contains(&method)
            && operation_of(method, client).is_none()
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
