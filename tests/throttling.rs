//! IAM throttling is waited out, not fatal: `up` of 30 apps, each with its own identity role,
//! through tests/support/throttle_proxy.py (IAM's own `Throttling: Rate exceeded` answer beyond
//! 5 IAM requests a second, in front of moto or the AWS oracle) finishes, says that IAM is
//! throttling while it waits, and the next plan is empty.

mod common;
use common::{Sandbox, stderr, stdout};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const APPS: usize = 30;
const IAM_PER_SECOND: &str = "5";

/// The proxy process, stopped when the test ends however it ends.
struct Proxy {
    child: Child,
    url: String,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        Proxy::start_with(upstream, IAM_PER_SECOND, "0")
    }

    /// At `rate` IAM requests a second, each forwarded one held `delay` seconds.
    fn start_with(upstream: &str, rate: &str, delay: &str) -> Proxy {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/throttle_proxy.py"
        );
        let mut child = Command::new("python3")
            .args([script, upstream, rate])
            .env("THROTTLE_PROXY_IAM_DELAY", delay)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the throttling proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the proxy printed no port: {line:?}"));
        Proxy {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn stats(&self) -> serde_json::Value {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
                &format!("{}/throttle-proxy/stats", self.url),
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).expect("the proxy's stats")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(prefix: &str) -> String {
    let mut y = format!(
        "cluster: demo\nregion: us-east-1\nstack: {prefix}\nroles:\n  operator: {prefix}-op\n  identity: {prefix}-id\napps:\n"
    );
    for i in 0..APPS {
        y.push_str(&format!(
            "  - deployment: app{i}\n    namespace: ns{i}\n    serviceAccount: sa{i}\n    repository: {prefix}-repo{i}\n    identityRole: {prefix}-app{i}-identity\n    queue:\n      name: {prefix}-q{i}\n"
        ));
    }
    y
}

#[test]
fn up_of_thirty_apps_waits_out_iam_throttling_and_converges() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let proxy = Proxy::start(&endpoint);
    let sandbox = Sandbox::new();
    let prefix = common::unique("thr");
    sandbox.write("kedactl.yaml", config(&prefix));
    let run = |args: &[&str]| {
        let mut c = sandbox.process(args);
        c.args(["--only", "iam,queue,registry", "--endpoint-url", &proxy.url])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("KEDACTL_TRUST_WATCH", "2");
        c.output().unwrap()
    };

    let up = run(&["up", "--yes"]);
    let stats = proxy.stats();
    assert_eq!(
        up.status.code(),
        Some(0),
        "up under throttling: {}\nproxy: {stats}",
        stderr(&up)
    );
    // The run really was throttled, and said so while it waited.
    assert!(
        stats["throttled"].as_u64().unwrap() > 0,
        "the proxy throttled nothing: {stats}"
    );
    assert!(
        stderr(&up).contains("IAM is throttling: "),
        "no word of the throttling: {}",
        stderr(&up)
    );

    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "the next plan must be empty: {}{}",
        stdout(&plan),
        stderr(&plan)
    );
    // For the log: how hard the run was throttled (docs/scale.md quotes these figures).
    eprintln!("throttle proxy after up and plan: {}", proxy.stats());
}

/// Issue 28: `--max-in-flight` caps the requests kedactl has open against one service. A plan of
/// 30 apps reads their 30 roles at once; through a proxy that holds each IAM request 0.2 s (and
/// throttles none), the proxy sees at most 3 IAM requests open at a time with `--max-in-flight
/// 3`, and far more with the default. The last requests wait over 5 s for their turn: neither
/// the call timeout nor the SDK's stalled-upload check may count that wait.
#[test]
fn requests_in_flight_to_iam_are_capped() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    common::moto_cluster(&endpoint, "demo");
    let sandbox = Sandbox::new();
    let prefix = common::unique("inflight");
    sandbox.write("kedactl.yaml", config(&prefix));
    let most = |extra: &[&str]| {
        let proxy = Proxy::start_with(&endpoint, "100000", "0.2");
        let mut c = sandbox.process(["plan"]);
        c.args(["--only", "iam", "--endpoint-url", &proxy.url])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
        proxy.stats()["iamMostInFlight"].as_u64().unwrap()
    };
    let capped = most(&["--max-in-flight", "3"]);
    assert!((2..=3).contains(&capped), "{capped} IAM requests at once");
    let free = most(&[]);
    assert!(free >= 10, "{free} IAM requests at once without a cap");
}
