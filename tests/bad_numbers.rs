//! Numbers out of bounds in `load`, `simulate` and `scale` — flags and trace files — fail
//! cleanly under the corpus harness: no panic, no abort, no wrap, no silent cap, the flag (or
//! the trace line) and its limit named with a fix, and no AWS connection.
//!
//! Text that is no number at all exits 2 (a usage error, from the parser); a number outside the
//! flag's limits exits 3 (invalid configuration), as `src/limits.rs` explains.

mod common;
use common::Sandbox;
use common::bad_input::{Case, assert_all_fail_cleanly, counting_endpoint, run_capped};
use std::sync::atomic::Ordering;

/// A `Case` against the counting endpoint, with credentials, so that a check that came too
/// late would show as a connection.
fn aws(endpoint: &str, name: &str, args: &[&str], exit: i32, names: &[&str]) -> Case {
    Case::new(name, args, exit, names)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
}

fn load_cases(e: &str) -> Vec<Case> {
    let load = |name: &str, args: &[&str], exit: i32, names: &[&str]| {
        aws(e, name, &[&["load"], args].concat(), exit, names)
    };
    vec![
        load(
            "count u64::MAX",
            &["--count", "18446744073709551615"],
            3,
            &["--count", "10000000"],
        ),
        load(
            "count above the limit",
            &["--count", "10000001"],
            3,
            &["--count", "10000000"],
        ),
        load("count 0", &["--count", "0"], 3, &["--count", "from 1 to"]),
        load(
            "count negative",
            &["--count", "-1"],
            3,
            &["--count", "-1 is not a whole number"],
        ),
        load(
            "count not a number",
            &["--count", "abc"],
            2,
            &["--count", "not a whole number"],
        ),
        load(
            "count a fraction",
            &["--count", "1.5"],
            2,
            &["--count", "not a whole number"],
        ),
        load(
            "count beyond 128 bits",
            &["--count", "999999999999999999999999999999999999999999"],
            2,
            &["--count"],
        ),
        load(
            "rate 1e30",
            &["--rate", "1e30", "--duration", "1h"],
            3,
            &["--rate", "3000"],
        ),
        load(
            "rate 1e12 is not capped",
            &["--rate", "1e12", "--duration", "1m"],
            3,
            &["--rate", "limit of 3000"],
        ),
        load(
            "rate just above",
            &["--rate", "3000.5", "--duration", "1m"],
            3,
            &["--rate", "3000"],
        ),
        load(
            "rate NaN",
            &["--rate", "NaN", "--duration", "1m"],
            3,
            &["--rate", "NaN"],
        ),
        load(
            "rate inf",
            &["--rate", "inf", "--duration", "1m"],
            3,
            &["--rate", "finite"],
        ),
        load(
            "rate negative",
            &["--rate", "-1", "--duration", "1m"],
            3,
            &["--rate", "positive"],
        ),
        load(
            "rate 0",
            &["--rate", "0", "--duration", "1m"],
            3,
            &["--rate", "positive"],
        ),
        load(
            "rate 1e9 for an hour",
            &["--rate", "1e9", "--duration", "1h"],
            3,
            &["--rate", "1e9"],
        ),
        load(
            "rate × duration above the count limit",
            &["--rate", "3000", "--duration", "1h"],
            3,
            &["--rate", "10800000 messages", "10000000"],
        ),
        load(
            "duration above a day",
            &["--rate", "5", "--duration", "25h"],
            3,
            &["--duration", "1d"],
        ),
        load(
            "duration 0",
            &["--rate", "5", "--duration", "0"],
            3,
            &["--duration", "1s"],
        ),
        load(
            "duration overflow",
            &["--rate", "5", "--duration", "99999999999999999999h"],
            2,
            &["--duration", "too long"],
        ),
        load(
            "duration overflow by adding",
            &["--rate", "5", "--duration", "213503982334601d99999s"],
            2,
            &["--duration", "too long"],
        ),
        load(
            "duration negative",
            &["--rate", "5", "--duration", "-5"],
            2,
            &["--duration", "not a duration"],
        ),
        load(
            "seed negative",
            &["--count", "5", "--seed", "-1"],
            3,
            &["--seed"],
        ),
        load(
            "concurrency 0",
            &["--count", "5", "--concurrency", "0"],
            3,
            &["--concurrency", "256"],
        ),
        load(
            "concurrency above",
            &["--count", "5", "--concurrency", "257"],
            3,
            &["--concurrency", "256"],
        ),
        load(
            "concurrency negative",
            &["--count", "5", "--concurrency", "-4"],
            3,
            &["--concurrency"],
        ),
    ]
}

fn simulate_cases() -> Vec<Case> {
    let sim = |name: &str, args: &[&str], exit: i32, names: &[&str]| {
        Case::new(name, &[&["simulate"], args].concat(), exit, names)
    };
    vec![
        sim(
            "job duration 0s",
            &["--job-duration", "0s"],
            3,
            &["--job-duration", "shorter than 1s", "from 1s to 1d"],
        ),
        sim(
            "job duration above a day",
            &["--job-duration", "1d1s"],
            3,
            &["--job-duration", "longer than the limit of 1d"],
        ),
        sim(
            "job duration not a duration",
            &["--job-duration", "-5"],
            2,
            &["--job-duration", "not a duration"],
        ),
        sim(
            "k8s version 1.22",
            &["--k8s-version", "1.22"],
            3,
            &["--k8s-version", "1.22 is not", "1.23 to 1.99"],
        ),
        sim(
            "k8s version negative",
            &["--k8s-version", "-1.33"],
            2,
            &["--k8s-version", "not a Kubernetes version"],
        ),
        sim(
            "k8s version 1.33.x",
            &["--k8s-version", "1.33.x"],
            2,
            &["--k8s-version", "MAJOR.MINOR"],
        ),
        sim(
            "duration a billion seconds",
            &["--duration", "1000000000"],
            3,
            &["--duration", "7d"],
        ),
        sim(
            "duration 8 days",
            &["--duration", "8d"],
            3,
            &["--duration", "7d"],
        ),
        sim("duration 0", &["--duration", "0"], 3, &["--duration", "1s"]),
        sim(
            "duration overflow",
            &["--duration", "213503982334602d"],
            2,
            &["--duration", "too long"],
        ),
        sim(
            "duration unknown unit",
            &["--duration", "5y"],
            2,
            &["--duration", "not a duration"],
        ),
        sim(
            "startup u64::MAX is not 0",
            &["--startup", "18446744073709551615"],
            3,
            &["--startup", "1h"],
        ),
        sim("startup 2h", &["--startup", "2h"], 3, &["--startup", "1h"]),
        sim("phase 2h", &["--phase", "2h"], 3, &["--phase", "1h"]),
        // KEDA polls every pollingInterval (30 s by default): a phase must be below it.
        sim(
            "phase 30s",
            &["--phase", "30s"],
            3,
            &["--phase", "pollingInterval", "29s"],
        ),
        sim(
            "price negative",
            &["--price", "-1"],
            3,
            &["--price", "negative"],
        ),
        sim("price NaN", &["--price", "NaN"], 3, &["--price", "NaN"]),
        sim("price inf", &["--price", "inf"], 3, &["--price", "finite"]),
        sim(
            "price too large",
            &["--price", "1e6"],
            3,
            &["--price", "1000"],
        ),
        sim(
            "price not a number",
            &["--price", "cheap"],
            2,
            &["--price", "not a number"],
        ),
        sim("pod-rate NaN", &["--pod-rate", "NaN"], 3, &["--pod-rate"]),
        sim(
            "pod-rate negative",
            &["--pod-rate", "-1"],
            3,
            &["--pod-rate", "positive"],
        ),
        sim(
            "pod-rate 0",
            &["--pod-rate", "0"],
            3,
            &["--pod-rate", "positive"],
        ),
        sim(
            "pod-rate too large",
            &["--pod-rate", "1e9"],
            3,
            &["--pod-rate", "100000"],
        ),
        sim("rate inf", &["--rate", "inf"], 3, &["--rate", "finite"]),
        sim(
            "rate negative",
            &["--rate", "-2"],
            3,
            &["--rate", "negative"],
        ),
        sim(
            "rate too large",
            &["--rate", "1e7"],
            3,
            &["--rate", "100000"],
        ),
        sim("rate NaN", &["--rate", "NaN"], 3, &["--rate", "NaN"]),
        sim("seed negative", &["--seed", "-1"], 3, &["--seed"]),
        sim(
            "seed beyond u64",
            &["--seed", "18446744073709551616"],
            3,
            &["--seed"],
        ),
        sim(
            "a burst beyond one second's count",
            &["--shape", "burst", "--rate", "100000", "--duration", "7d"],
            3,
            &["--rate", "4294967295"],
        ),
        sim(
            "every bad flag at once",
            &["--price", "-1", "--startup", "2h", "--pod-rate", "NaN"],
            3,
            &["--price", "--startup", "--pod-rate", "3 problems"],
        ),
    ]
}

/// Trace files with one defect each, written into the sandbox.
fn trace_cases(s: &Sandbox) -> Vec<Case> {
    let mut files: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "wrap.csv",
            b"0,4294967295\n0,1\n".to_vec(),
            &["line 2", "4294967295"],
        ),
        (
            "first-row.csv",
            b"1.5\n2\n".to_vec(),
            &["line 1", "\"1.5\""],
        ),
        (
            "first-row-pair.csv",
            b"0,x\n1,2\n".to_vec(),
            &["line 1", "\"x\""],
        ),
        (
            "beyond.csv",
            b"0,1\n4000000000,1\n".to_vec(),
            &["line 2", "604800"],
        ),
        (
            "beyond-u64.csv",
            b"99999999999999999999999,1\n".to_vec(),
            &["line 1", "604800"],
        ),
        ("negative.csv", b"0,-1\n".to_vec(), &["line 1", "\"-1\""]),
        ("negative-t.csv", b"-1,3\n".to_vec(), &["line 1", "\"-1\""]),
        ("float.csv", b"3\n2.5\n".to_vec(), &["line 2", "\"2.5\""]),
        ("nan.csv", b"3\nNaN\n".to_vec(), &["line 2", "\"NaN\""]),
        (
            "count-over-u32.csv",
            b"4294967296\n".to_vec(),
            &["line 1", "4294967295"],
        ),
        (
            "three-columns.csv",
            b"1,2,3\n".to_vec(),
            &["line 1", "t,count"],
        ),
        (
            "too-many-rows.csv",
            b"0\n".repeat(604_801),
            &["line 604801", "604800"],
        ),
        ("negative.json", b"[1, -2]".to_vec(), &["negative.json"]),
        ("float.json", b"[1.5]".to_vec(), &["float.json"]),
        ("binary.csv", vec![0xff, 0xfe, 0x00, 0x01], &["UTF-8"]),
        ("header-only.csv", b"t,count\n".to_vec(), &["no arrivals"]),
    ];
    let oversize = s.path("oversize.csv");
    std::fs::File::create(&oversize)
        .unwrap()
        .set_len((16 << 20) + 1)
        .unwrap();
    let fifo = s.path("fifo.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let mut cases: Vec<Case> = files
        .drain(..)
        .map(|(name, bytes, names)| {
            s.write(name, bytes);
            let mut names = names.to_vec();
            names.push("--trace");
            Case::new(
                &format!("trace {name}"),
                &["simulate", "--trace", name],
                3,
                &names,
            )
        })
        .collect();
    for (name, path, says) in [
        ("/dev/zero", "/dev/zero", "not a regular file"),
        ("a FIFO", "fifo.csv", "not a regular file"),
        ("oversize", "oversize.csv", "at most 16 MiB"),
        ("a directory", ".", "is a directory"),
        ("missing", "missing.csv", "no such file"),
    ] {
        cases.push(Case::new(
            &format!("trace {name}"),
            &["simulate", "--trace", path],
            3,
            &["--trace", says],
        ));
    }
    cases
}

fn scale_cases(e: &str) -> Vec<Case> {
    let scale = |name: &str, args: &[&str], exit: i32, names: &[&str]| {
        aws(
            e,
            name,
            &[&["scale", "--dry-run", "--once"], args].concat(),
            exit,
            names,
        )
    };
    vec![
        scale(
            "current negative",
            &["--current", "-3"],
            3,
            &["--current", "-3"],
        ),
        scale(
            "current above int32",
            &["--current", "2147483648"],
            3,
            &["--current", "2147483647"],
        ),
        scale(
            "current not a number",
            &["--current", "x"],
            2,
            &["--current"],
        ),
        scale(
            "k8s version 2.0",
            &["--k8s-version", "2.0"],
            3,
            &["--k8s-version", "1.23 to 1.99"],
        ),
        scale(
            "k8s version 1.100",
            &["--k8s-version", "1.100"],
            3,
            &["--k8s-version", "1.23 to 1.99"],
        ),
        scale(
            "k8s version beyond 128 bits",
            &[
                "--k8s-version",
                "1.1000000000000000000000000000000000000000",
            ],
            2,
            &["--k8s-version", "not a Kubernetes version"],
        ),
        scale(
            "k8s version not a version",
            &["--k8s-version", "latest"],
            2,
            &["--k8s-version", "not a Kubernetes version"],
        ),
    ]
}

#[test]
fn bad_numbers_fail_cleanly_before_any_connection() {
    let s = Sandbox::new();
    let (endpoint, connections) = counting_endpoint();
    let mut cases = load_cases(&endpoint);
    cases.extend(simulate_cases());
    cases.extend(trace_cases(&s));
    cases.extend(scale_cases(&endpoint));
    assert!(cases.len() >= 70, "{} cases", cases.len());
    assert_all_fail_cleanly(&s, &cases);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "input errors are found before any AWS call"
    );
    // Control: numbers within the limits do reach the endpoint (so the 0 above means something).
    let control = aws(&endpoint, "control", &["load", "--count", "5"], 4, &[]);
    let o = run_capped(&s, &control.args, &control.env);
    assert_ne!(o.code, Some(3), "{}", o.stderr);
    assert!(connections.load(Ordering::SeqCst) > 0, "{}", o.stderr);
}

/// A replica count beyond int32 in kedactl.yaml: refused by the config checks or simulated in
/// bounded memory (pods are counted, never allocated one by one), but never an abort.
#[test]
fn huge_max_replicas_never_sizes_memory() {
    let s = Sandbox::new();
    s.write(
        "huge.yaml",
        "apps:\n  - scaling:\n      queueLength: 1\n      maxReplicas: 3000000000\n",
    );
    let args: Vec<String> = [
        "simulate",
        "-f",
        "huge.yaml",
        "--shape",
        "burst",
        "--rate",
        "1e5",
        "--duration",
        "2h",
    ]
    .map(String::from)
    .to_vec();
    let o = run_capped(&s, &args, &[]);
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("memory allocation"),
        "{}",
        o.stderr
    );
    match o.code {
        Some(0) => assert!(o.stdout.contains("max replicas"), "{}", o.stdout),
        Some(3) => assert!(o.stderr.contains("maxReplicas"), "{}", o.stderr),
        other => panic!("exit {other:?}: {}", o.stderr),
    }
}

/// The limits `--help` states are the ones `src/limits.rs` enforces.
#[test]
fn help_states_the_limits() {
    use clap::CommandFactory;
    use kedactl::limits as l;
    let cli = kedactl::cli::Cli::command();
    let help = |cmd: &str, flag: &str| {
        let sub = cli.find_subcommand(cmd).unwrap();
        let arg = sub.get_arguments().find(|a| a.get_long() == Some(flag));
        arg.and_then(|a| a.get_help()).unwrap().to_string()
    };
    for (cmd, flag, limit) in [
        ("load", "count", l::MAX_LOAD_COUNT.to_string()),
        ("load", "rate", l::number(l::LOAD_RATE.max)),
        ("load", "duration", l::duration(l::MAX_LOAD_SECONDS)),
        ("load", "concurrency", l::MAX_LOAD_CONCURRENCY.to_string()),
        ("simulate", "rate", l::number(l::SIM_RATE.max)),
        ("simulate", "duration", l::duration(l::MAX_SIM_SECONDS)),
        ("simulate", "trace", l::duration(l::MAX_SIM_SECONDS)),
        ("simulate", "trace", l::bytes(l::MAX_TRACE_BYTES)),
        ("simulate", "pod-rate", l::number(l::POD_RATE.max)),
        ("simulate", "startup", l::duration(l::MAX_STARTUP_SECONDS)),
        ("simulate", "job-duration", l::duration(l::MAX_JOB_SECONDS)),
        ("simulate", "price", l::number(l::PRICE.max)),
        ("scale", "current", l::MAX_INT32.to_string()),
        ("simulate", "k8s-version", format!("1.{}", l::K8S_MINOR_MAX)),
        ("scale", "k8s-version", format!("1.{}", l::K8S_MINOR_MAX)),
    ] {
        let text = help(cmd, flag);
        assert!(
            text.contains(&limit),
            "{cmd} --{flag}: {text:?} lacks {limit}"
        );
    }
}
