//! The bad-input corpus harness: each case runs the built binary under a memory cap and a time
//! bound, against an AWS endpoint that counts connections, and must fail cleanly: the expected
//! exit code, the field, flag or variable named, a fix or tip, no panic, nothing on stdout.

use super::Sandbox;
use std::io::Read;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Virtual memory a case may use (KiB, for `ulimit -v`): far above what kedactl needs, far below
/// the gigabytes an unbounded allocation asks for, so a regression fails instead of eating the
/// machine.
pub const MEMORY_CAP_KIB: u64 = 2 << 20;
/// Wall time a case may take; every input error is found before any network call.
pub const TIME_BOUND: Duration = Duration::from_secs(20);

/// One bad input and what kedactl must say about it.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Exit code expected (3 invalid config, 2 usage, 4 a call failed).
    pub exit: i32,
    /// Text the message must contain: the field, flag or variable (and any other words).
    pub names: Vec<String>,
}

impl Case {
    pub fn new(name: &str, args: &[&str], exit: i32, names: &[&str]) -> Case {
        Case {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: vec![],
            exit,
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Case {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// An AWS endpoint that counts the connections made to it (and answers none).
pub fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (url, count)
}

/// What a run printed and how it ended.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Run `kedactl ARGS` in the sandbox under the memory cap, killed at the time bound.
pub fn run_capped(sandbox: &Sandbox, args: &[String], env: &[(String, String)]) -> Outcome {
    let bin = assert_cmd::cargo::cargo_bin("kedactl");
    let mut cmd = sandbox.process(["-c", "ulimit -v \"$0\" && exec \"$@\""]);
    cmd.arg(MEMORY_CAP_KIB.to_string()).arg(&bin).args(args);
    // `process` builds a kedactl command; run the same environment through sh instead.
    let mut sh = std::process::Command::new("sh");
    sh.args(cmd.get_args())
        .current_dir(sandbox.dir.path())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = sh.spawn().expect("spawn kedactl");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        took,
    }
}

/// Run every case and fail with every case that misbehaved, so one run shows them all.
pub fn assert_all_fail_cleanly(sandbox: &Sandbox, cases: &[Case]) {
    let failures = check_all(sandbox, cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Run every case; the failures, one message each.
fn check_all(sandbox: &Sandbox, cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let o = run_capped(sandbox, &case.args, &case.env);
        let mut wrong = Vec::new();
        if o.took >= TIME_BOUND {
            wrong.push(format!("still running after {TIME_BOUND:?} (killed)"));
        }
        if o.code != Some(case.exit) {
            wrong.push(format!("exit {:?}, expected {}", o.code, case.exit));
        }
        if o.stderr.contains("panicked") || o.stderr.contains("memory allocation") {
            wrong.push("panicked or aborted".into());
        }
        for n in &case.names {
            if !o.stderr.contains(n.as_str()) {
                wrong.push(format!("does not name {n:?}"));
            }
        }
        if !(o.stderr.contains("fix:") || o.stderr.contains("tip:")) {
            wrong.push("no fix or tip".into());
        }
        if !o.stdout.trim().is_empty() {
            wrong.push(format!("printed on stdout: {}", o.stdout.trim()));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n    kedactl {}\n    stderr: {}",
                case.name,
                wrong.join("; "),
                case.args.join(" "),
                o.stderr.trim().replace('\n', "\n            ")
            ));
        }
    }
    failures
}
