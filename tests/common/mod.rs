//! Shared by the integration tests: the built binary, in an empty directory, with no
//! environment that could leak in (AWS region, a config path).

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::PathBuf;

/// Set by `.ci/run`: every moto test must run, not skip.
pub const REQUIRE_MOTO: &str = "KEDACTL_REQUIRE_MOTO";

/// The moto server the tests talk to, or None (the test says it was skipped) when none is set
/// up; when `.ci/run` (or CI) requires one, its absence fails the test.
pub fn moto_endpoint() -> Option<String> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    match std::env::var("KEDACTL_TEST_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if set(REQUIRE_MOTO) || set("CI") => panic!(
            "the moto tests must run here ({REQUIRE_MOTO} or CI is set), but KEDACTL_TEST_AWS_ENDPOINT \
             is not: start python3 tests/support/moto_server.py -p PORT and set it to its URL (bash .ci/run does both)"
        ),
        _ => {
            eprintln!(
                "skipped: KEDACTL_TEST_AWS_ENDPOINT is not set (bash .ci/run starts moto and sets it)"
            );
            None
        }
    }
}

/// kedactl's AWS clients on the moto server at `endpoint`, in `region`, with moto's test keys.
/// A name prefix no other test (or earlier run) uses on the shared moto server: the test's name
/// and a nonce from the clock.
pub fn unique(test: &str) -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
        % 1_000_000;
    format!("{test}-{nonce}")
}

pub async fn moto_aws(endpoint: &str, region: &str) -> kedactl::cloud::Aws {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    kedactl::cloud::Aws::from_config(&conf)
}

/// Make sure moto has the EKS cluster `name` in us-east-1 (once per process): `plan`/`up`
/// read the cluster the roles' trust names even with `--only iam`. Blocking, so a sync command
/// builder can call it from inside a test's runtime (on a thread of its own). The lock is held
/// until the cluster exists: a test that finds it taken waits for the create, where it used to
/// go on at once and now and then read the cluster before moto had it.
pub fn moto_cluster(endpoint: &str, name: &str) {
    use std::sync::{Mutex, OnceLock};
    static MADE: OnceLock<Mutex<std::collections::BTreeSet<(String, String)>>> = OnceLock::new();
    let key = (endpoint.to_string(), name.to_string());
    let mut made = MADE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if made.contains(&key) {
        return;
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let aws = moto_aws(endpoint, "us-east-1").await;
                    let created = aws
                        .eks
                        .create_cluster()
                        .name(name)
                        .role_arn("arn:aws:iam::123456789012:role/eks")
                        .resources_vpc_config(
                            aws_sdk_eks::types::VpcConfigRequest::builder().build(),
                        )
                        .send()
                        .await;
                    if let Err(e) = created {
                        let in_use = e
                            .as_service_error()
                            .is_some_and(|e| e.is_resource_in_use_exception());
                        assert!(in_use, "creating moto cluster {name}: {e:?}");
                    }
                });
            })
            .join()
            .unwrap();
    });
    made.insert(key);
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// `kedactl ARGS` run inside the sandbox.
    pub fn kedactl<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Command::from_std(self.process(args))
    }

    /// The same, as a std Command (to spawn several at once).
    pub fn process<I, S>(&self, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kedactl"));
        cmd.current_dir(self.dir.path())
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("KEDACTL_CONFIG")
            .env_remove("KUBECONFIG")
            // Never reach a real account or instance metadata from a test by accident.
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/kedactl-test")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kedactl-test")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .args(args);
        cmd
    }
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}

/// The flags that make render/plan fully offline and deterministic.
pub const DEMO: [&str; 6] = [
    "--cluster",
    "demo",
    "--region",
    "us-east-1",
    "--account",
    "123456789012",
];

/// `kedactl ARGS -o json --yes` with the caller's own environment (the opt-in real-account
/// tests), expecting success; the JSON document.
pub fn real_json(args: &[&str]) -> serde_json::Value {
    let out = Command::cargo_bin("kedactl")
        .unwrap()
        .args(args)
        .args(["-o", "json", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A variable an `#[ignore]`d real-environment test needs: run with `--ignored` without it, the
/// test fails and says what to set, rather than passing without having run.
pub fn required_env(name: &str, run: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: this test needs it (and AWS credentials and a region). Run: {run}"
        ),
    }
}

/// The seed's desired state for cluster demo in us-east-1, account 123456789012.
pub fn seed_desired() -> kedactl::render::Desired {
    let spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..kedactl::spec::Spec::default()
    };
    kedactl::render::desired(&spec).unwrap()
}

/// SDK clients with no endpoint and no credentials: tests swap in mock clients for the services
/// they exercise (`with_eks`, `with_iam`, …); any other call fails rather than reach AWS.
pub fn offline_aws() -> kedactl::cloud::Aws {
    let conf = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    kedactl::cloud::Aws::from_config(&conf)
}

/// The client configuration `Aws::connect` builds (`cloud::sdk_config`: kedactl's retry and
/// timeout policy) for us-east-1, with `http` answering, test credentials and only the retry
/// backoff shortened.
pub async fn client_config(
    timeouts: kedactl::limits::Timeouts,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> aws_config::SdkConfig {
    let settings = kedactl::cloud::Settings {
        region: Some("us-east-1".into()),
        timeouts,
        ..Default::default()
    };
    let transport = kedactl::cloud::Transport {
        http_client: Some(http),
        backoff: Some(kedactl::cloud::Backoff {
            initial: std::time::Duration::from_millis(1),
            max: std::time::Duration::from_millis(5),
        }),
    };
    kedactl::cloud::sdk_config(&settings, transport)
        .await
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "test"),
            ),
        )
        .build()
}

/// `client_config` with calls answered by aws-smithy-mocks rules (see `mocked!`).
pub async fn mock_config() -> aws_config::SdkConfig {
    client_config(
        kedactl::limits::Timeouts::default(),
        aws_smithy_mocks::create_mock_http_client(),
    )
    .await
}

/// `mock_client!` on kedactl's own client configuration (`mock_config`) instead of the SDK's
/// test defaults: `mocked!(&conf, aws_sdk_iam, RuleMode::Sequential, [&rule])`.
#[allow(unused_macros)]
macro_rules! mocked {
    ($conf:expr, $svc:ident, $mode:expr, $rules:expr) => {{
        let mut mocks = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode($mode);
        for rule in $rules {
            mocks = mocks.with_rule(rule);
        }
        $svc::Client::from_conf(
            $svc::config::Builder::from($conf)
                .interceptor(mocks)
                .build(),
        )
    }};
}
#[allow(unused_imports)]
pub(crate) use mocked;

pub mod bad_input;

/// Issue 15, one JSON shape: `doc` carries `apiVersion` and `kind` at the top and validates
/// against the schema the binary publishes for its kind (`kedactl schema --kind KIND`), which
/// admits no property its type does not name. Returns `doc`; panics with every error.
pub fn valid_document(doc: serde_json::Value) -> serde_json::Value {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static VALIDATORS: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
        OnceLock::new();
    assert_eq!(
        doc["apiVersion"],
        kedactl::output::API_VERSION,
        "apiVersion at the top: {doc:#}"
    );
    let kind = doc["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("kind at the top: {doc:#}"))
        .to_string();
    let validator = {
        let mut cache = VALIDATORS.get_or_init(Default::default).lock().unwrap();
        cache
            .entry(kind.clone())
            .or_insert_with(|| {
                let out = Sandbox::new()
                    .kedactl(["schema", "--kind", &kind])
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
                let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                Arc::new(jsonschema::validator_for(&schema).expect("a valid JSON Schema"))
            })
            .clone()
    };
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{kind} document does not match `kedactl schema --kind {kind}`:\n  {}\n{doc:#}",
        errors.join("\n  ")
    );
    doc
}

/// `valid_document` of each line of a JSON lines stream; the lines, parsed.
pub fn valid_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| valid_document(serde_json::from_str(l).expect("each line is one JSON document")))
        .collect()
}

/// One test's one-app stack on the shared moto server (the trigger tests): a config file and
/// names no other test uses.
pub struct MotoStack {
    pub endpoint: String,
    pub prefix: String,
    pub sandbox: Sandbox,
}

impl MotoStack {
    pub fn new(test: &str) -> Option<MotoStack> {
        Some(MotoStack {
            endpoint: moto_endpoint()?,
            prefix: unique(test),
            sandbox: Sandbox::new(),
        })
    }

    pub fn identity(&self) -> String {
        format!("{}-id", self.prefix)
    }

    /// Write kedactl.yaml: one app on `trigger`, whose `section` (YAML indented for `apps[0]`,
    /// its key included) follows.
    pub fn config(&self, trigger: &str, section: &str) -> PathBuf {
        let text = format!(
            "cluster: demo\nregion: us-east-1\nstack: {stack}\nroles:\n  operator: {stack}-op\n  identity: {id}\napps:\n  - deployment: worker\n    namespace: work\n    serviceAccount: worker\n    repository: {stack}-repo\n    trigger: {trigger}\n{section}",
            stack = self.prefix,
            id = self.identity(),
        );
        self.sandbox.write("kedactl.yaml", text)
    }

    /// `kedactl -f kedactl.yaml <cmd> <extra>` against moto.
    pub fn run(&self, cmd: &str, extra: &[&str]) -> std::process::Output {
        moto_cluster(&self.endpoint, "demo");
        let mut args = vec!["-f", "kedactl.yaml", cmd];
        args.extend(extra);
        self.sandbox
            .kedactl(&args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap()
    }

    /// `run` with JSON output and --yes on the trigger's AWS groups; it must succeed, and its
    /// document validate against its kind's schema.
    pub fn json(&self, cmd: &str) -> serde_json::Value {
        let out = self.run(cmd, &["-o", "json", "--yes", "--only", "iam,source"]);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
        valid_document(
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", stdout(&out))),
        )
    }

    pub async fn sdk(&self) -> kedactl::cloud::Aws {
        moto_aws(&self.endpoint, "us-east-1").await
    }
}

/// An `up` or `down` document's outcomes, every one of them done.
pub fn all_done(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    let outcomes = doc["outcomes"].as_array().expect("outcomes");
    assert!(outcomes.iter().all(|o| o["status"] == "done"), "{doc:#}");
    outcomes
}

/// The example configs (examples/*.yaml), sorted.
pub fn example_paths() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}
