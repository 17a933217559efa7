//! AWS configuration read as the AWS CLI reads it, end to end through the built binary, each
//! source in a temporary HOME (`~/.aws/config`, `~/.aws/credentials`): the region (--region >
//! kedactl.yaml > AWS_REGION > AWS_DEFAULT_REGION > the profile's), the region codes the SDK
//! knows, and credentials from a profile's keys, `credential_process`, `role_arn` +
//! `source_profile` (moto's STS AssumeRole) and an SSO session (a local SSO portal).

mod common;
use common::{Sandbox, stderr, stdout};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

/// A sandbox whose HOME holds `.aws/config` (and `.aws/credentials` when given), and whose
/// environment points nowhere else: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE unset.
fn home(config: &str, credentials: Option<&str>) -> Sandbox {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path(".aws")).unwrap();
    s.write(".aws/config", config);
    if let Some(c) = credentials {
        s.write(".aws/credentials", c);
    }
    s
}

fn in_home(s: &Sandbox, args: &[&str]) -> std::process::Command {
    let mut c = s.process(args);
    c.env("HOME", s.dir.path())
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE");
    c
}

/// The region `validate` resolved, or the failed run.
fn region(mut cmd: std::process::Command) -> Result<String, std::process::Output> {
    let out = cmd.output().unwrap();
    if out.status.code() != Some(0) {
        return Err(out);
    }
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(doc["spec"]["region"].as_str().unwrap().to_string())
}

const PROFILES: &str = "\
[default]
region = ap-southeast-2

[profile dev]
region = eu-central-1

[profile chained]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = dev
";

#[test]
fn the_region_comes_from_the_profile_last_as_in_the_aws_cli() {
    let s = home(PROFILES, None);
    let v = ["validate", "--cluster", "demo", "-o", "json"];
    let with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = v.to_vec();
        args.extend(extra);
        let mut c = in_home(&s, &args);
        c.envs(env.iter().copied());
        region(c).unwrap_or_else(|o| panic!("{extra:?} {env:?}: {}", stderr(&o)))
    };
    // --profile, AWS_PROFILE, and the default profile without either.
    assert_eq!(with(&["--profile", "dev"], &[]), "eu-central-1");
    assert_eq!(with(&[], &[("AWS_PROFILE", "dev")]), "eu-central-1");
    assert_eq!(with(&[], &[]), "ap-southeast-2");
    // A profile without a region takes its source_profile's (the SDK's chain).
    assert_eq!(with(&["--profile", "chained"], &[]), "eu-central-1");
    // Everything else comes first: AWS_DEFAULT_REGION, AWS_REGION, kedactl.yaml, --region.
    let dev = ["--profile", "dev"];
    assert_eq!(
        with(&dev, &[("AWS_DEFAULT_REGION", "us-west-2")]),
        "us-west-2"
    );
    assert_eq!(
        with(
            &dev,
            &[
                ("AWS_DEFAULT_REGION", "us-west-2"),
                ("AWS_REGION", "us-east-2")
            ]
        ),
        "us-east-2"
    );
    s.write("kedactl.yaml", "region: ca-central-1\n");
    assert_eq!(with(&dev, &[("AWS_REGION", "us-east-2")]), "ca-central-1");
    assert_eq!(
        with(&[dev.as_slice(), &["--region", "sa-east-1"]].concat(), &[]),
        "sa-east-1"
    );
    std::fs::remove_file(s.path("kedactl.yaml")).unwrap();

    // AWS_CONFIG_FILE elsewhere: read instead of ~/.aws/config.
    let other = s.write("other-config", "[profile ci]\nregion = eu-north-1\n");
    let mut c = in_home(&s, &[v.as_slice(), &["--profile", "ci"]].concat());
    c.env("AWS_CONFIG_FILE", &other);
    assert_eq!(region(c).unwrap(), "eu-north-1");

    // render writes the profile's region into its ARNs.
    let out = in_home(
        &s,
        &[
            "render",
            "--cluster",
            "demo",
            "--account",
            "123456789012",
            "--profile",
            "dev",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("arn:aws:eks:eu-central-1:123456789012:cluster/demo"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn no_region_anywhere_says_where_one_can_be_given() {
    let s = home("[profile bare]\noutput = json\n", None);
    let out = in_home(&s, &["validate", "--cluster", "demo", "--profile", "bare"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no AWS region is set"), "{err}");
    assert!(
        err.contains("aws configure set region us-east-1 --profile NAME"),
        "{err}"
    );
    // A profile that does not exist is named, not taken for "no region".
    let out = in_home(&s, &["validate", "--cluster", "demo", "--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("there is no AWS profile \"nope\""),
        "{}",
        stderr(&out)
    );
    // simulate needs no region, so no profile either.
    let out = in_home(&s, &["simulate", "--duration", "1m", "--profile", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn unknown_regions_are_refused_before_any_call_with_the_nearest_known_ones() {
    let (endpoint, calls) = common::bad_input::counting_endpoint();
    let s = home("[profile typo]\nregion = eu-central-3\n", None);
    let cases: [(&[&str], &str); 4] = [
        (
            &["--region", "us-est-1"],
            "did you mean us-east-1 (US East (N. Virginia))",
        ),
        (
            &["--region", "eu-central-3"],
            "eu-central-1 (Europe (Frankfurt)) or eu-central-2 (Europe (Zurich))",
        ),
        (&["--profile", "typo"], "did you mean eu-central-1"),
        (&["--region", "US_EAST_1"], "did you mean us-east-1"),
    ];
    for cmd in ["validate", "render", "plan", "up"] {
        for (flags, near) in cases {
            let mut args = vec![cmd, "--cluster", "demo", "--account", "123456789012"];
            args.extend(flags);
            args.extend(["--endpoint-url", &endpoint]);
            if cmd == "up" {
                args.push("--yes");
            }
            let out = in_home(&s, &args)
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{cmd} {flags:?}: {err}");
            assert!(
                err.contains("is not an AWS region the AWS SDK knows"),
                "{err}"
            );
            assert!(err.contains(near), "{cmd} {flags:?}: {err}");
        }
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "an unknown region reaches no endpoint"
    );
    // Opt-in regions are regions like any other; so are the other partitions'.
    for ok in [
        "af-south-1",
        "ap-east-1",
        "me-south-1",
        "cn-north-1",
        "us-gov-west-1",
    ] {
        let c = in_home(
            &s,
            &[
                "validate",
                "--cluster",
                "demo",
                "--region",
                ok,
                "-o",
                "json",
            ],
        );
        assert_eq!(region(c).map_err(|o| stderr(&o)).unwrap(), ok);
    }
}

/// moto, or None (skipped) as the other moto tests.
fn moto() -> Option<String> {
    common::moto_endpoint()
}

/// `plan --only queue -v` against moto with the sandbox's HOME: the caller it identified.
fn caller(s: &Sandbox, endpoint: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut args = vec![
        "plan",
        "--cluster",
        "demo",
        "--region",
        "us-east-1",
        "--only",
        "queue",
        "-v",
    ];
    args.extend(extra);
    let out = in_home(s, &args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{extra:?}: {err}");
    err.lines()
        .find_map(|l| l.strip_prefix("caller: "))
        .unwrap_or_else(|| panic!("no caller line: {err}"))
        .to_string()
}

#[test]
fn credentials_come_from_every_source_the_sdk_reads() {
    let Some(endpoint) = moto() else {
        return;
    };
    let s = home(
        "[profile keys]\nregion = us-east-1\n\n[profile assumer]\nrole_arn = arn:aws:iam::123456789012:role/kedactl-cfg-deployer\nsource_profile = keys\nrole_session_name = kedactl-cfg-test\n",
        Some("[keys]\naws_access_key_id = testing\naws_secret_access_key = testing\n"),
    );
    // Keys in ~/.aws/credentials: the SDK signs with them (none in the environment).
    assert!(
        caller(&s, &endpoint, &["--profile", "keys"], &[]).contains("123456789012"),
        "keys"
    );
    // role_arn + source_profile: AssumeRole (moto's STS) with the source's keys; the caller is
    // the assumed role.
    let assumed = caller(&s, &endpoint, &["--profile", "assumer"], &[]);
    assert!(
        assumed.starts_with(
            "arn:aws:sts::123456789012:assumed-role/kedactl-cfg-deployer/kedactl-cfg-test"
        ),
        "{assumed}"
    );
    // As in the AWS CLI: --profile wins over keys in the environment, and those win over
    // AWS_PROFILE (the SDK's default chain reads the environment first either way).
    let keys = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let flag = caller(&s, &endpoint, &["--profile", "assumer"], &keys);
    assert!(
        flag.contains(":assumed-role/kedactl-cfg-deployer/"),
        "{flag}"
    );
    let env = caller(
        &s,
        &endpoint,
        &[],
        &[keys[0], keys[1], ("AWS_PROFILE", "assumer")],
    );
    assert!(!env.contains(":assumed-role/"), "{env}");
    // AWS_SHARED_CREDENTIALS_FILE elsewhere.
    let creds = s.write(
        "ci-credentials",
        "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    let ci = caller(
        &s,
        &endpoint,
        &["--profile", "ci"],
        &[("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap())],
    );
    assert!(ci.contains("123456789012"), "{ci}");
}

#[test]
fn credentials_from_a_credential_process() {
    let Some(endpoint) = moto() else {
        return;
    };
    let s = Sandbox::new();
    let ran = s.path("process-ran");
    let script = s.write(
        "creds.sh",
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"testing\", \"SecretAccessKey\": \"testing\"}}'\n",
            ran.display()
        ),
    );
    make_executable(&script);
    std::fs::create_dir_all(s.path(".aws")).unwrap();
    s.write(
        ".aws/config",
        format!(
            "[profile proc]\nregion = us-east-1\ncredential_process = {}\n",
            script.display()
        ),
    );
    let who = caller(&s, &endpoint, &["--profile", "proc"], &[]);
    assert!(who.contains("123456789012"), "{who}");
    assert!(ran.exists(), "the credential process was run");
}

#[test]
fn credentials_from_an_sso_session() {
    let Some(endpoint) = moto() else {
        return;
    };
    let portal = SsoPortal::start();
    let s = home(
        "[profile sso]\nsso_session = kedactl-sso\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n\n[sso-session kedactl-sso]\nsso_region = us-east-1\nsso_start_url = https://d-0000000000.awsapps.com/start\n",
        None,
    );
    // What `aws sso login` leaves: the session's token, cached under sha1("kedactl-sso").
    std::fs::create_dir_all(s.path(".aws/sso/cache")).unwrap();
    s.write(
        ".aws/sso/cache/34ad2108ef9b1fda8e25a8b47a4b5890671eef30.json",
        r#"{"accessToken": "sso-token-42", "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://d-0000000000.awsapps.com/start"}"#,
    );
    let who = caller(
        &s,
        &endpoint,
        &["--profile", "sso"],
        &[("AWS_ENDPOINT_URL_SSO", &portal.url)],
    );
    assert!(who.contains("123456789012"), "{who}");
    let seen = portal.requests();
    assert!(
        seen.iter()
            .any(|r| r.contains("GET /federation/credentials")
                && r.contains("role_name=Deployer")
                && r.contains("account_id=123456789012")
                && r.to_ascii_lowercase()
                    .contains("x-amz-sso_bearer_token: sso-token-42")),
        "{seen:?}"
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The AWS IAM Identity Center portal's GetRoleCredentials, as far as the SDK's SSO provider
/// calls it: one JSON answer to every request, each request's head kept.
struct SsoPortal {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SsoPortal {
    fn start() -> SsoPortal {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut head = String::new();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                log.lock().unwrap().push(head);
                let body = r#"{"roleCredentials":{"accessKeyId":"testing","secretAccessKey":"testing","sessionToken":"sso-session","expiration":4102444800000}}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        SsoPortal { url, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
