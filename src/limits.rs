//! Limits in one place: every number a user can type has a bound here, and every file kedactl
//! reads is read through `read_bounded`, so no input can make it hang or eat the machine.

use std::io::Read;
use std::path::Path;

/// The largest kedactl.yaml (a wrong path — a binary, a log — is refused before parsing).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The deepest nesting of lists and mappings in kedactl.yaml (a real one nests 4 deep). The YAML
/// parser's time grows with the square of the depth, so a deeper file is refused before parsing.
pub const MAX_YAML_DEPTH: usize = 32;
/// The largest arrival trace for `simulate --trace`.
pub const MAX_TRACE_BYTES: u64 = 16 << 20;
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

/// Read a regular file of at most `max` bytes. FIFOs, devices and sockets are refused before
/// opening (reading `/dev/zero` or an unwritten FIFO never ends), and the read itself stops at
/// `max + 1` bytes, so a file that grows after the size check is still bounded.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
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
    let too_large = || ReadError::TooLarge {
        path: name.clone(),
        limit: bytes(max),
    };
    if meta.len() > max {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut out))
        .map_err(unreadable)?;
    if out.len() as u64 > max {
        return Err(too_large());
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
}
