//! One value → human text or JSON on stdout; notes and progress on stderr.

pub mod chart;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod watch;

use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Readable text
    #[default]
    Human,
    /// One JSON document on stdout (logs stay on stderr)
    Json,
    /// JUnit XML test report, one testcase per check (doctor only)
    Junit,
    /// A Markdown table for a pull-request comment (plan only)
    Markdown,
    /// JSON lines, written as they are made (simulate only: a line per simulated second)
    Jsonl,
}

/// Version of kedactl's JSON documents, so scripts can pin what they parse.
pub const API_VERSION: &str = "kedactl.io/v1alpha1";

/// Print a JSON document to stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    // Buffered: stdout is line-buffered, and pretty JSON is many short lines (a day's
    // simulation timeline was a million writes).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe surfaces as serde_json's error; `error::is_broken_pipe` looks inside it.
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Print text to stdout (a write error such as a closed pipe propagates to `main`).
pub fn text(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    if !s.ends_with('\n') {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}
