use super::app_queue::pick;
use crate::ctx::Ctx;
use crate::output::{self, API_VERSION, chart};
use crate::scaling::Params;
use crate::scaling::simulate::{Run, Shape, Workload, shape, simulate};
use crate::spec::{self, Problem, Problems};
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Simulate KEDA and the HPA on an arrival pattern, offline: replicas, backlog, waits, cost
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl simulate --shape spikes --rate 3 --duration 2h --chart sim.svg
  kedactl simulate --trace arrivals.csv --pod-rate 0.5 --startup 45s --price 0.04
  kedactl simulate --shape sine --rate 5 --polling-interval 10 --compare kedactl.yaml   # what does a 10 s poll buy?
  kedactl simulate --shape burst --rate 1 --duration 10m -o json | jq .summary")]
pub struct Args {
    /// A built-in arrival pattern (ignored with --trace)
    #[arg(long, value_enum, default_value = "spikes")]
    pub shape: Shape,
    /// Mean arrivals per second for --shape
    #[arg(long, default_value_t = 2.0, value_name = "MSG/S")]
    pub rate: f64,
    /// Length of the --shape pattern: 90s, 30m, 2h, 1h30m
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "DURATION")]
    pub duration: u64,
    /// Seed of the spikes pattern
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Arrivals per second from a file: JSON array, or CSV with one count per line or `t,count`
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Messages one pod completes per second
    #[arg(long, default_value_t = 1.0, value_name = "MSG/S")]
    pub pod_rate: f64,
    /// Time from pod creation until it processes messages: 30s, 2m
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub startup: u64,
    /// Price of one pod-hour in dollars, to show cost
    #[arg(long, value_name = "USD")]
    pub price: Option<f64>,
    /// Write an SVG chart of queue depth and replicas
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Run the same arrivals with another kedactl.yaml and show both
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
}

pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad =
        || format!("{s:?} is not a duration: use seconds (90), or units like 90s, 30m, 2h, 1h30m");
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let (mut total, mut num) = (0u64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        total += n * unit;
        num.clear();
    }
    if !num.is_empty() || s.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

fn invalid(field: &str, message: String, fix: &str) -> anyhow::Error {
    Problems {
        origin: "flags".into(),
        problems: vec![Problem::new(field, message, fix)],
    }
    .into()
}

/// Per-second arrivals from a JSON array or CSV.
pub fn read_trace(path: &Path) -> anyhow::Result<Vec<u32>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(
            "--trace",
            format!("cannot read {}: {e}", path.display()),
            "pass an existing file",
        )
    })?;
    if text.trim_start().starts_with('[') {
        return serde_json::from_str::<Vec<u32>>(&text).map_err(|e| {
            invalid(
                "--trace",
                format!("{}: {e}", path.display()),
                "use a JSON array of whole numbers, one per second",
            )
        });
    }
    let mut out: Vec<u32> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if line.trim().is_empty() || (i == 0 && cells.iter().any(|c| c.parse::<f64>().is_err())) {
            continue; // blank line or header
        }
        let parse = |c: &str| {
            c.parse::<u32>().map_err(|_| {
                invalid(
                    "--trace",
                    format!(
                        "{} line {}: {c:?} is not a whole number",
                        path.display(),
                        i + 1
                    ),
                    "write counts as whole numbers",
                )
            })
        };
        match cells[..] {
            [n] => out.push(parse(n)?),
            [t, n] => {
                let t = parse(t)? as usize;
                if out.len() <= t {
                    out.resize(t + 1, 0);
                }
                out[t] += parse(n)?;
            }
            _ => {
                return Err(invalid(
                    "--trace",
                    format!(
                        "{} line {}: expected `count` or `t,count`",
                        path.display(),
                        i + 1
                    ),
                    "one or two columns",
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "--trace",
            format!("{} has no arrivals", path.display()),
            "one count per second, e.g. a CSV column",
        ));
    }
    Ok(out)
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    if !(args.pod_rate > 0.0 && args.pod_rate.is_finite()) {
        return Err(invalid(
            "--pod-rate",
            format!("{} is not a positive rate", args.pod_rate),
            "use messages per second per pod, e.g. 0.5",
        ));
    }
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        return Err(invalid(
            "--rate",
            format!("{} is not a rate", args.rate),
            "use messages per second, e.g. 2",
        ));
    }
    let (spec, source) = ctx.spec_offline()?;
    let app_name = ctx.global.overrides.app.app.as_deref();
    let app = pick(&spec, app_name, &source)?;
    let arrivals = match &args.trace {
        Some(path) => read_trace(path)?,
        None => shape(args.shape, args.rate, args.duration.max(1), args.seed),
    };
    let workload = Workload {
        arrivals,
        pod_rate: args.pod_rate,
        startup: args.startup,
        price_per_pod_hour: args.price,
        settle_limit: 7200,
    };
    let main = simulate(&Params::from_spec(&app.scaling), &workload);
    let other = match &args.compare {
        Some(path) => {
            let (mut other, name) = spec::load(&spec::ConfigSource::Explicit(path.clone()))?;
            // Same target so only the scaling differs; the cluster is not needed offline.
            other.region = other.region.or(spec.region.clone());
            spec::validate_offline(&other, &name)?;
            let app = pick(&other, app_name, &name)?;
            Some((name, simulate(&Params::from_spec(&app.scaling), &workload)))
        }
        None => None,
    };
    let mut runs: Vec<(&str, &Run)> = vec![(source.as_str(), &main)];
    if let Some((name, run)) = &other {
        runs.push((name, run));
    }
    if let Some(path) = &args.chart {
        let title = format!("{} — {}", app.deployment, describe_input(&args));
        std::fs::write(path, chart::svg(&title, &runs))
            .with_context(|| format!("writing {}", path.display()))?;
        ctx.note(format!("chart: {}", path.display()));
    }
    if ctx.json() {
        let one = |r: &Run| json!({ "timeline": r.timeline, "summary": r.summary });
        let mut doc = json!({
            "apiVersion": API_VERSION,
            "kind": "Simulation",
            "input": { "source": source, "app": app.deployment, "trace": describe_input(&args), "podRate": args.pod_rate, "startupSeconds": args.startup },
        });
        doc["timeline"] = json!(main.timeline);
        doc["summary"] = json!(main.summary);
        if let Some((name, run)) = &other {
            doc["compare"] = one(run);
            doc["compare"]["source"] = json!(name);
        }
        return output::json(&doc);
    }
    output::text(&table(&args, &runs, workload.arrivals.len() as u64))
}

fn describe_input(args: &Args) -> String {
    match &args.trace {
        Some(p) => format!("trace {}", p.display()),
        None => format!(
            "{:?} {} msg/s for {}",
            args.shape,
            args.rate,
            chart::clock(args.duration)
        )
        .to_lowercase(),
    }
}

/// The summaries side by side.
fn table(args: &Args, runs: &[(&str, &Run)], seconds: u64) -> String {
    let s0 = &runs[0].1.summary;
    let mut out = format!(
        "Simulated {} of arrivals ({}, {} messages); pods complete {} msg/s and start in {} s.\n\n",
        chart::clock(seconds),
        describe_input(args),
        s0.messages,
        args.pod_rate,
        args.startup
    );
    let width = runs.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(12);
    let row = |label: &str, f: &dyn Fn(&Run) -> String| {
        let mut line = format!("  {label:<22}");
        for (_, r) in runs {
            line.push_str(&format!("{:>width$}  ", f(r)));
        }
        line.trim_end().to_string() + "\n"
    };
    let mut header = format!("  {:<22}", "");
    for (name, _) in runs {
        header.push_str(&format!("{name:>width$}  "));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    out.push_str(&row("pod-seconds", &|r| r.summary.pod_seconds.to_string()));
    if let Some(price) = args.price {
        out.push_str(&row(&format!("cost (${price}/pod-hour)"), &|r| {
            format!("${:.2}", r.summary.cost.unwrap_or(0.0))
        }));
    }
    out.push_str(&row("max replicas", &|r| {
        r.summary.max_replicas.to_string()
    }));
    out.push_str(&row("scale changes", &|r| {
        r.summary.scale_changes.to_string()
    }));
    out.push_str(&row("max backlog (messages)", &|r| {
        r.summary.max_backlog.to_string()
    }));
    out.push_str(&row("wait p50 / p95 / max", &|r| {
        format!(
            "{}s / {}s / {}s",
            r.summary.wait_p50, r.summary.wait_p95, r.summary.wait_max
        )
    }));
    out.push_str(&row("drained after the last", &|r| {
        r.summary
            .time_to_drain
            .map_or("never".into(), |d| format!("{d} s"))
    }));
    out.push_str(&row("simulated until", &|r| {
        chart::clock(r.summary.seconds)
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        for bad in ["", "m", "1x", "1h30", "-5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn traces() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "t,arrivals\n0,3\n2,5\n2,1\n").unwrap();
        assert_eq!(read_trace(&csv).unwrap(), [3, 0, 6]);
        std::fs::write(&csv, "4\n\n7\n").unwrap();
        assert_eq!(read_trace(&csv).unwrap(), [4, 7]);
        let json = dir.path().join("a.json");
        std::fs::write(&json, "[1, 2, 3]").unwrap();
        assert_eq!(read_trace(&json).unwrap(), [1, 2, 3]);
        std::fs::write(&csv, "1\nx\n").unwrap();
        let err = read_trace(&csv).unwrap_err().to_string();
        assert!(err.contains("invalid configuration"), "{err}");
        std::fs::write(&csv, "").unwrap();
        assert!(read_trace(&csv).is_err());
    }
}
