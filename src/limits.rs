//! Limits in one place: every number a user can type has a bound here, and every file kedactl
//! reads is opened through `open_regular` (most through `read_bounded`), so no input can make
//! it hang or eat the machine.

use crate::problem::Problem;
use std::io::Read;
use std::path::Path;

/// The largest kedactl.yaml (a wrong path — a binary, a log — is refused before parsing).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The deepest nesting of lists and mappings in kedactl.yaml (a real one nests 4 deep). The YAML
/// parser's time grows with the square of the depth, so a deeper file is refused before parsing.
pub const MAX_YAML_DEPTH: usize = 32;
/// The largest arrival trace for `simulate --trace`.
pub const MAX_TRACE_BYTES: u64 = 16 << 20;
/// The largest keda-operator log for `doctor --keda-log`: the kubelet rotates container logs at
/// 10 MiB (containerLogMaxSize) and `kubectl logs` returns the current file, so a real one fits.
pub const MAX_KEDA_LOG_BYTES: u64 = 16 << 20;
/// KEDA's and the HPA's replica counts, intervals and periods are int32 fields.
pub const MAX_INT32: u32 = i32::MAX as u32;

/// How long kedactl waits on the network. Every AWS and Kubernetes client is built with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection (TCP + TLS).
    pub connect: std::time::Duration,
    /// For one call to answer, retries included.
    pub call: std::time::Duration,
}

pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_CALL_TIMEOUT_SECS: u64 = 60;
/// The longest timeout a flag may set.
pub const MAX_TIMEOUT_SECS: u64 = 3600;
/// Attempts per AWS call (`--max-attempts` / AWS_MAX_ATTEMPTS), throttled attempts included.
/// Ten, not five: at 5 IAM requests a second, a plan of 30 apps (about 155 reads) had a call
/// throttled five times now and then, although the adaptive rate limiter paced the retries.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
pub const MAX_ATTEMPTS: u64 = 100;
/// Requests in flight at once per AWS service (`--max-in-flight` / KEDACTL_MAX_IN_FLIGHT): the
/// AWS SDK for Java's default connection pool size. Converged stacks of up to this many apps
/// still read in one round trip per step.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 50;
/// Each request in flight is a socket: beyond this, a few services at once would exhaust a
/// default open-file limit of 1,024.
pub const MAX_IN_FLIGHT: u64 = 256;
/// The least time one AWS call may take, its waits for the adaptive rate limiter and its retries
/// included (each attempt still ends at the call timeout): under throttling a call queues
/// behind every other call to the same service, at the rate the service allows.
pub const CALL_BUDGET: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How long `up`/`down` watch a trust policy shared with other clusters after writing it
/// (`exec::trust`): longer than IAM's propagation delay twice over plus one write's round trip.
pub const DEFAULT_TRUST_WATCH_SECS: u64 = 10;
pub const MAX_TRUST_WATCH_SECS: u64 = 600;
/// helm installs and uninstalls (`--wait`) wait for Deployments: far longer than one call.
pub const HELM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: std::time::Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            call: std::time::Duration::from_secs(DEFAULT_CALL_TIMEOUT_SECS),
        }
    }
}

/// Why a file could not be read; the caller names the flag or field it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path} is a directory")]
    Directory { path: String },
    #[error("{path} is not a regular file (a FIFO, a device or a socket would never end)")]
    NotRegular { path: String },
    #[error("{path} is too large: at most {limit} is read")]
    TooLarge { path: String, limit: String },
}

/// kubeconfig and AWS config/credentials files: far above any real one.
pub const MAX_CREDENTIAL_FILE_BYTES: u64 = 16 << 20;

/// Open a regular file of at most `max` bytes, with its size. FIFOs, devices and sockets are
/// refused before opening: reading `/dev/zero` or an unwritten FIFO never ends.
pub fn open_regular(path: &Path, max: u64) -> Result<(std::fs::File, u64), ReadError> {
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| ReadError::Unreadable {
        path: name.clone(),
        reason: io_reason(&e),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(ReadError::Directory { path: name });
    }
    if !meta.is_file() {
        return Err(ReadError::NotRegular { path: name });
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge {
            path: name,
            limit: bytes(max),
        });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    Ok((file, meta.len()))
}

/// Read a regular file of at most `max` bytes (see `open_regular`). The read itself stops at
/// `max + 1` bytes, so a file that grows after the size check is still bounded.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open_regular(path, max)?;
    read_capped(file, &path.display().to_string(), max, len)
}

/// Read standard input, at most `max` bytes: a pipe has no size to check first, so the read
/// itself stops past the limit. `name` is how messages call it.
pub fn read_stdin_bounded(name: &str, max: u64) -> Result<Vec<u8>, ReadError> {
    read_capped(std::io::stdin().lock(), name, max, 0)
}

fn read_capped(r: impl Read, name: &str, max: u64, len: u64) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::with_capacity(len as usize);
    r.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| ReadError::Unreadable {
            path: name.to_string(),
            reason: io_reason(&e),
        })?;
    if out.len() as u64 > max {
        return Err(ReadError::TooLarge {
            path: name.to_string(),
            limit: bytes(max),
        });
    }
    Ok(out)
}

/// A clap value parser for a whole number in `min..=max`. Used with `allow_hyphen_values`, so
/// `--max-replicas -1` is refused naming the flag and the range, not taken for another flag.
pub fn whole<T: TryFrom<u64>>(
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let n: Option<u64> = s.trim().parse().ok().filter(|n| (min..=max).contains(n));
        n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
            format!("{s:?} is not a whole number from {min} to {max}\n  fix: give a whole number from {min} to {max}")
        })
    }
}

/// An I/O error as a person says it.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `1048576` → `1 MiB`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

// simulate, load, scale
//
// A flag's text that is not a number at all (`abc`, `1.5` where a count goes, an unknown
// duration unit, more digits than any limit) is a usage error from the parser: exit 2. A number
// outside its flag's limits (negative, zero, NaN, infinite, too large) is a `Problem` naming the
// flag, the limits and a fix: exit 3, like a config field out of range, found before any AWS
// call. The parsers below accept any sign and size so the limit checks see every number.

/// `load --count`: ten million messages is far beyond any load test of one queue (the seed's
/// script sends hundreds) and still sends in minutes; more is a typo.
pub const MAX_LOAD_COUNT: u64 = 10_000_000;
/// `load --rate`. A FIFO queue takes 300 SendMessageBatch calls a second (3,000 messages)
/// without high-throughput mode; a standard queue takes more, but one caller's steady rate is
/// bounded by its round trips too, and a higher rate would silently fall behind.
pub const LOAD_RATE: Decimal = Decimal {
    flag: "--rate",
    noun: "rate",
    unit: "msg/s",
    zero_ok: false,
    max: 3_000.0,
};
/// `load --duration`: one day; a longer soak is several runs.
pub const MAX_LOAD_SECONDS: u64 = 86_400;
/// `load --concurrency`: batches in flight (each holds a connection).
pub const MAX_LOAD_CONCURRENCY: u64 = 256;
/// The longest span `simulate` plays (7 days, one tick a second): bounds its time and memory
/// (the timeline holds one entry a second), whatever the trace, --duration or replica counts.
pub const MAX_SIM_SECONDS: u64 = 604_800;
/// `simulate --rate`, mean arrivals per second: far above what one SQS consumer group sees.
pub const SIM_RATE: Decimal = Decimal {
    flag: "--rate",
    noun: "rate",
    unit: "msg/s",
    zero_ok: true,
    max: 100_000.0,
};
/// `simulate --pod-rate`, messages one pod completes per second.
pub const POD_RATE: Decimal = Decimal {
    flag: "--pod-rate",
    noun: "rate",
    unit: "msg/s",
    zero_ok: false,
    max: 100_000.0,
};
/// `simulate --startup`: a pod that takes over an hour to start is a broken pod.
pub const MAX_STARTUP_SECONDS: u64 = 3_600;
/// `simulate --job-duration`, a ScaledJob's seconds per message: one day (the seed's encoder
/// takes 1 to 3 hours; longer work belongs in smaller messages).
pub const MAX_JOB_SECONDS: u64 = 86_400;
/// `simulate --price`, dollars per pod-hour: above the largest EC2 instance's on-demand price.
pub const PRICE: Decimal = Decimal {
    flag: "--price",
    noun: "price",
    unit: "$/pod-hour",
    zero_ok: true,
    max: 1_000.0,
};

/// A decimal flag's limits: finite, above 0 (or at least 0 with `zero_ok`), at most `max`.
pub struct Decimal {
    pub flag: &'static str,
    /// What the number is, for "0 is not a positive rate".
    pub noun: &'static str,
    pub unit: &'static str,
    pub zero_ok: bool,
    pub max: f64,
}

impl Decimal {
    /// The one check of every rate and price flag.
    pub fn check(&self, value: f64) -> Result<f64, Problem> {
        let low = if self.zero_ok {
            value >= 0.0
        } else {
            value > 0.0
        };
        if low && value <= self.max {
            return Ok(value); // NaN fails both comparisons
        }
        let (max, unit) = (number(self.max), self.unit);
        let message = if !value.is_finite() {
            format!("{} is not a finite number", number(value))
        } else if value > self.max {
            format!("{} is above the limit of {max} {unit}", number(value))
        } else if self.zero_ok {
            format!("{} is not a {} (it is negative)", number(value), self.noun)
        } else {
            format!("{} is not a positive {}", number(value), self.noun)
        };
        let from = if self.zero_ok {
            "from 0"
        } else {
            "greater than 0 and"
        };
        let to = if self.zero_ok { "to" } else { "at most" };
        Err(Problem::new(
            self.flag,
            message,
            format!("use a number {from} {to} {max} {unit}"),
        ))
    }
}

/// A decimal as people write it: `2.5`, `3000`, `1e30` (not thirty zeros), `NaN`, `inf`.
pub fn number(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-4..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// `--k8s-version`: Kubernetes 1.23 (autoscaling/v2, which KEDA's HPA uses) to 1.99.
pub const K8S_MINOR_MIN: u64 = 23;
pub const K8S_MINOR_MAX: u64 = 99;

/// The parser of `--k8s-version`: `1.33`, `v1.33` or `1.33.2` as (major, minor); only text
/// that is no version is refused here, `k8s_version_within` names the supported range.
pub fn parse_k8s_version(s: &str) -> Result<(i128, i128), String> {
    let bad = || format!("{s:?} is not a Kubernetes version\n  fix: write MAJOR.MINOR, e.g. 1.33");
    let t = s.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let mut parts = t.split('.');
    let num = |part: Option<&str>| {
        part.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i128>().ok())
            .ok_or_else(bad)
    };
    let (major, minor) = (num(parts.next())?, num(parts.next())?);
    if let Some(patch) = parts.next() {
        num(Some(patch))?;
    }
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((major, minor))
}

/// A parsed `--k8s-version` within 1.23 ..= 1.99, as its minor version.
pub fn k8s_version_within(flag: &str, (major, minor): (i128, i128)) -> Result<u32, Problem> {
    let (lo, hi) = (K8S_MINOR_MIN, K8S_MINOR_MAX);
    u64::try_from(minor)
        .ok()
        .filter(|m| major == 1 && (lo..=hi).contains(m))
        .map(|m| m as u32)
        .ok_or_else(|| {
            Problem::new(
                flag,
                format!("{major}.{minor} is not a Kubernetes version from 1.{lo} to 1.{hi}"),
                format!("use a version from 1.{lo} to 1.{hi}, e.g. 1.33 (the cluster's `version` in `aws eks describe-cluster`)"),
            )
        })
}

/// The parser of a whole-number flag: any integer, even negative or beyond u64, so that
/// `whole_within` names the flag and its limits; only text that is no integer is refused here.
pub fn parse_whole(s: &str) -> Result<i128, String> {
    s.trim()
        .parse::<i128>()
        .map_err(|_| format!("{s:?} is not a whole number\n  fix: write digits only, e.g. 10"))
}

/// The parser of a decimal flag: NaN and inf parse, and `Decimal::check` refuses them by name.
pub fn parse_number(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number\n  fix: write a decimal number, e.g. 2.5"))
}

/// `value` within `min..=max`, or a problem naming `flag` and the range.
pub fn whole_within(flag: &str, value: i128, min: u64, max: u64) -> Result<u64, Problem> {
    u64::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            Problem::new(
                flag,
                format!("{value} is not a whole number from {min} to {max}"),
                format!("use a whole number from {min} to {max}"),
            )
        })
}

/// A duration flag's seconds within `min..=max` (`parse_duration` has already refused overflow).
pub fn seconds_within(flag: &str, value: u64, min: u64, max: u64) -> Result<u64, Problem> {
    let message = if value > max {
        format!(
            "{} is longer than the limit of {}",
            duration(value),
            duration(max)
        )
    } else if value < min {
        format!("{} is shorter than {}", duration(value), duration(min))
    } else {
        return Ok(value);
    };
    Err(Problem::new(
        flag,
        message,
        format!("use a duration from {} to {}", duration(min), duration(max)),
    ))
}

/// Seconds as the flags write them: `90s`, `30m`, `1h30m`, `7d`.
pub fn duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut left = secs;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if left >= size {
            out.push_str(&format!("{}{unit}", left / size));
            left %= size;
        }
    }
    out
}

/// Keep `r`'s value, or push its problem: so one run reports every bad flag at once.
pub fn collect<T>(problems: &mut Vec<Problem>, r: Result<T, Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

// AWS limits kedactl checks before any call (moto enforces none of them). Sources: the IAM
// User Guide's "IAM and AWS STS quotas" and the SQS Developer Guide's message quotas.

/// IAM's default quota on a role trust policy, in characters (whitespace not counted).
pub const TRUST_POLICY_QUOTA: u32 = 2048;
/// IAM: all inline policies of one role together, in characters (whitespace not counted);
/// not adjustable.
pub const ROLE_INLINE_POLICIES_QUOTA: usize = 10_240;

/// IAM: roles per account, the default quota (Service Quotas can raise it to 5,000); every
/// role of the account counts, not only kedactl's.
pub const ROLES_PER_ACCOUNT_QUOTA: usize = 1_000;
/// EKS: Pod Identity associations per cluster (the EKS User Guide's service quotas).
pub const ASSOCIATIONS_PER_CLUSTER_QUOTA: usize = 5_000;

/// A policy document's size as IAM counts it against its quotas: its characters, whitespace
/// not counted (as GetAccountSummary words it, "in non-whitespace characters").
pub fn iam_policy_size(doc: &serde_json::Value) -> usize {
    doc.to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// SQS: messages in one SendMessageBatch.
pub const SQS_BATCH_ENTRIES: u64 = 10;
/// SQS: the bodies of one SendMessageBatch together, in bytes (and any one message, unless
/// the queue's MaximumMessageSize is lower).
pub const SQS_BATCH_BYTES: usize = 1 << 20;
/// SQS: MessageGroupId and MessageDeduplicationId, 1 to 128 characters.
pub const SQS_ID_MAX: usize = 128;

/// Whether SQS accepts `c` in a message body (the XML 1.0 characters: #x9 | #xA | #xD |
/// #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; a Rust char is never a surrogate).
pub fn sqs_body_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Whether SQS accepts `c` in a MessageGroupId or MessageDeduplicationId: a letter, a digit
/// or ASCII punctuation.
pub fn sqs_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_ascii_punctuation()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok");
        std::fs::write(&ok, b"cluster: demo\n").unwrap();
        assert_eq!(read_bounded(&ok, 100).unwrap(), b"cluster: demo\n");
        assert!(matches!(
            read_bounded(&ok, 4),
            Err(ReadError::TooLarge { .. })
        ));
        assert!(matches!(
            read_bounded(dir.path(), 100),
            Err(ReadError::Directory { .. })
        ));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 100),
            Err(ReadError::NotRegular { .. })
        ));
        let missing = read_bounded(&dir.path().join("nope"), 100).unwrap_err();
        assert!(missing.to_string().contains("no such file"), "{missing}");
        assert_eq!(bytes(1 << 20), "1 MiB");
        assert_eq!(bytes(16 << 20), "16 MiB");
        assert_eq!(bytes(100), "100 bytes");
    }

    #[test]
    fn iam_counts_characters_without_whitespace_and_sqs_its_xml_characters() {
        let doc = serde_json::json!({"Sid": "a b", "Action": ["x:Y"]});
        // {"Action":["x:Y"],"Sid":"a b"} is 30 characters, one a space.
        assert_eq!(iam_policy_size(&doc), 29);
        assert_eq!(
            iam_policy_size(&serde_json::json!("é")),
            3,
            "characters, not bytes"
        );
        for ok in [
            '\t',
            '\n',
            '\r',
            ' ',
            'é',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
        ] {
            assert!(sqs_body_char(ok), "{ok:?}");
        }
        for bad in ['\u{0}', '\u{1}', '\u{7}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!sqs_body_char(bad), "{bad:?}");
        }
        assert!(sqs_id_char('-') && sqs_id_char('~') && sqs_id_char('z'));
        assert!(!sqs_id_char(' ') && !sqs_id_char('é'));
    }

    #[test]
    fn whole_numbers_in_range() {
        let p = whole::<u32>(0, MAX_INT32 as u64);
        assert_eq!(p("7"), Ok(7));
        for bad in ["-1", "2147483648", "4294967296", "1e3", "", "3.5"] {
            let e = p(bad).unwrap_err();
            assert!(
                e.contains("from 0 to 2147483647") && e.contains("fix:"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn numbers_outside_their_limits_name_the_flag() {
        assert_eq!(whole_within("--count", 5, 1, 10), Ok(5));
        for bad in [-1, 0, 11, i128::from(u64::MAX) + 1] {
            let p = whole_within("--count", bad, 1, 10).unwrap_err();
            assert_eq!(p.field, "--count");
            assert_eq!(
                p.message,
                format!("{bad} is not a whole number from 1 to 10")
            );
            assert_eq!(p.fix, "use a whole number from 1 to 10");
        }
        assert_eq!(LOAD_RATE.check(2.5), Ok(2.5));
        assert_eq!(PRICE.check(0.0), Ok(0.0));
        for bad in [
            0.0,
            -1.0,
            3_000.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let p = LOAD_RATE.check(bad).unwrap_err();
            assert_eq!(p.field, "--rate");
            assert_eq!(p.fix, "use a number greater than 0 and at most 3000 msg/s");
        }
        let p = LOAD_RATE.check(1e30).unwrap_err();
        assert_eq!(p.message, "1e30 is above the limit of 3000 msg/s");
        assert_eq!(
            LOAD_RATE.check(0.0).unwrap_err().message,
            "0 is not a positive rate"
        );
        let p = PRICE.check(-1.0).unwrap_err();
        assert_eq!(p.message, "-1 is not a price (it is negative)");
        assert_eq!(p.fix, "use a number from 0 to 1000 $/pod-hour");
        assert_eq!(
            PRICE.check(f64::NAN).unwrap_err().message,
            "NaN is not a finite number"
        );
        let p = seconds_within("--startup", 7_200, 0, 3_600).unwrap_err();
        assert_eq!(p.message, "2h is longer than the limit of 1h");
        assert_eq!(p.fix, "use a duration from 0s to 1h");
        assert_eq!(duration(5_400), "1h30m");
        assert_eq!(duration(604_800), "7d");
        assert_eq!(parse_whole("-3"), Ok(-3));
        assert!(parse_whole("1.5").unwrap_err().contains("fix:"));
        assert!(parse_number("NaN").unwrap().is_nan());
        assert!(parse_number("lots").unwrap_err().contains("fix:"));
    }
}
