use super::app_queue::pick;
use crate::ctx::Ctx;
use crate::limits::{self, ReadError};
use crate::output::simulation::{self, Stream};
use crate::output::{self, OutputFormat};
use crate::problem::{Problem, Problems};
use crate::scaling::scenario::{self, Input};
use crate::scaling::simulate::{Run, Shape, Workload, shape};
use crate::scaling::trace::{parse_gauge, parse_trace, trace_problem};
use crate::spec::{self, App, Spec};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Simulate KEDA and the HPA on an arrival pattern, offline: replicas, backlog, waits, cost
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl simulate --shape spikes --rate 3 --duration 2h --chart sim.svg
  kedactl simulate --trace arrivals.csv --pod-rate 0.5 --price 0.04
  kedactl simulate --shape sine --polling-interval 10 --compare kedactl.yaml   # what does a 10 s poll buy?
  kedactl simulate --shape burst --rate 1 --duration 10m -o json | jq .summary
  # a ScaledJob app: Jobs of 30 s per message
  kedactl -f examples/scaledjob.yaml simulate --job-duration 30s --shape burst
  # a prometheus app: the query's value each second (`t,value` rows)
  kedactl -f examples/amp.yaml simulate --trace query.csv")]
pub struct Args {
    /// A built-in arrival pattern (ignored with --trace)
    #[arg(long, value_enum, default_value = "spikes")]
    pub shape: Shape,
    /// Mean arrivals per second for --shape (at most 100000)
    #[arg(long, default_value_t = 2.0, value_name = "MSG/S", value_parser = limits::parse_number, allow_negative_numbers = true)]
    pub rate: f64,
    /// Length of the --shape pattern: 90s, 30m, 2h, 1h30m (at most 7d)
    #[arg(long, default_value = "1h", value_parser = limits::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub duration: u64,
    /// Seed of the spikes pattern
    #[arg(long, default_value_t = 1, value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub seed: i128,
    /// Arrivals per second from a file: JSON array, or CSV with one count per line or `t,count`
    /// (at most 7d of seconds, 16 MiB)
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Messages one pod completes per second (at most 100000)
    #[arg(long, default_value_t = 1.0, value_name = "MSG/S", value_parser = limits::parse_number, allow_negative_numbers = true)]
    pub pod_rate: f64,
    /// Time from pod creation until it processes messages: 30s, 2m (at most 1h)
    #[arg(long, default_value = "30s", value_parser = limits::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub startup: u64,
    /// Price of one pod-hour in dollars, to show cost (at most 1000)
    #[arg(long, value_name = "USD", value_parser = limits::parse_number, allow_negative_numbers = true)]
    pub price: Option<f64>,
    /// Write an SVG chart of queue depth and replicas (the file name must end in .svg)
    #[arg(long, value_name = "FILE.svg", value_parser = svg_path)]
    pub chart: Option<PathBuf>,
    /// Run the same arrivals with another kedactl.yaml and show both
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Time from an HPA sync to KEDA's poll, below the app's pollingInterval: 0s (KEDA polls in
    /// the second the HPA syncs, just after it), 10s
    #[arg(long, default_value = "0s", value_parser = limits::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub phase: u64,
    /// Kubernetes version whose HPA rules apply, 1.23 to 1.99 (default 1.36, the newest EKS
    /// supports; from 1.33 the tolerance band 0.9..=1.1 is inclusive)
    #[arg(long, value_name = "1.N", value_parser = limits::parse_k8s_version, allow_negative_numbers = true)]
    pub k8s_version: Option<(i128, i128)>,
    /// ScaledJob apps: seconds a Job works on each message it received, like the seed's
    /// PROCESS_SLEEP_TIME: 30s, 2m (1s to 1d)
    #[arg(long, default_value = "30s", value_parser = limits::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub job_duration: u64,
}

/// `--chart`: the chart is SVG, so a `.png` (or any other) name would hold the wrong format.
fn svg_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("svg") => Ok(path),
        _ => Err(format!(
            "the chart is written as SVG: name it with .svg (e.g. {}); convert it to PNG with any SVG tool",
            path.with_extension("svg").display()
        )),
    }
}

fn problems(problems: Vec<Problem>) -> anyhow::Error {
    Problems {
        origin: "flags".into(),
        problems,
    }
    .into()
}

/// Per-second arrivals from a trace file (see `parse_trace`), read within `MAX_TRACE_BYTES`.
pub fn read_trace(path: &Path) -> anyhow::Result<Vec<u32>> {
    let bytes = limits::read_bounded(path, limits::MAX_TRACE_BYTES).map_err(|e| {
        let fix = match e {
            ReadError::TooLarge { .. } => "trim the trace, or sum it into one count per second",
            ReadError::Unreadable { .. } => "pass an existing, readable file",
            _ => "pass a regular file: a CSV or a JSON array",
        };
        problems(vec![trace_problem(e.to_string(), fix)])
    })?;
    parse_trace(&bytes, &path.display().to_string()).map_err(|p| problems(vec![p]))
}

/// The flags as numbers within their limits.
struct Checked {
    rate: f64,
    duration: u64,
    seed: u64,
    pod_rate: f64,
    startup: u64,
    price: Option<f64>,
    k8s_minor: u32,
    phase: u64,
    job_duration: u64,
}

fn check(args: &Args) -> Result<Checked, anyhow::Error> {
    let mut found = Vec::new();
    let p = &mut found;
    let rate = limits::collect(p, limits::SIM_RATE.check(args.rate));
    let duration = limits::collect(
        p,
        limits::seconds_within("--duration", args.duration, 1, limits::MAX_SIM_SECONDS),
    );
    let seed = limits::collect(p, limits::whole_within("--seed", args.seed, 0, u64::MAX));
    let pod_rate = limits::collect(p, limits::POD_RATE.check(args.pod_rate));
    let startup = limits::collect(
        p,
        limits::seconds_within("--startup", args.startup, 0, limits::MAX_STARTUP_SECONDS),
    );
    let price = args
        .price
        .map(|v| limits::collect(p, limits::PRICE.check(v)));
    let phase = limits::collect(
        p,
        limits::seconds_within("--phase", args.phase, 0, limits::MAX_STARTUP_SECONDS),
    );
    let job_duration = limits::collect(
        p,
        limits::seconds_within(
            "--job-duration",
            args.job_duration,
            1,
            limits::MAX_JOB_SECONDS,
        ),
    );
    let k8s_minor = match args.k8s_version {
        Some(v) => limits::collect(p, limits::k8s_version_within("--k8s-version", v)),
        None => Some(crate::scaling::NEWEST_EKS_MINOR),
    };
    if let (Some(r), Some(d)) = (rate, duration) {
        found.extend(scenario::burst_problem(
            args.shape,
            args.trace.is_some(),
            r,
            d,
        ));
    }
    // Every flag within its limits, or every problem at once.
    let checked = || {
        Some(Checked {
            rate: rate?,
            duration: duration?,
            seed: seed?,
            pod_rate: pod_rate?,
            startup: startup?,
            price: price.flatten(),
            k8s_minor: k8s_minor?,
            phase: phase?,
            job_duration: job_duration?,
        })
    };
    match checked() {
        Some(c) if found.is_empty() => Ok(c),
        _ => Err(problems(found)),
    }
}

/// The metric of a trigger the pods do not consume, each second in its units (see
/// `scenario::gauge_units`): the trace's values, or the shape's numbers taken as values.
fn gauge(
    args: &Args,
    thousandths: bool,
    shape_values: impl FnOnce() -> Vec<u32>,
) -> anyhow::Result<Vec<u64>> {
    let values = match &args.trace {
        Some(path) => {
            let bytes = limits::read_bounded(path, limits::MAX_TRACE_BYTES).map_err(|e| {
                problems(vec![trace_problem(
                    e.to_string(),
                    "pass a readable CSV or JSON file",
                )])
            })?;
            parse_gauge(&bytes, &path.display().to_string()).map_err(|p| problems(vec![p]))?
        }
        None => shape_values().into_iter().map(f64::from).collect(),
    };
    Ok(scenario::gauge_units(values, thousandths))
}

/// The workload the flags give `app`: arrivals when its pods consume a queue, else its
/// metric's values.
fn workload(args: &Args, c: &Checked, app: &App) -> anyhow::Result<Workload> {
    let sqs = scenario::consumes(app);
    let gauge = match sqs {
        true => None,
        false => Some(gauge(args, app.trigger.imp().thousandths(), || {
            shape(args.shape, c.rate, c.duration, c.seed)
        })?),
    };
    let arrivals = match (&args.trace, sqs) {
        (_, false) => Vec::new(),
        (Some(path), true) => read_trace(path)?,
        (None, true) => shape(args.shape, c.rate, c.duration, c.seed),
    };
    Ok(Workload {
        arrivals,
        pod_rate: c.pod_rate,
        startup: c.startup,
        price_per_pod_hour: c.price,
        settle_limit: 7200,
        phase: c.phase,
        job_duration: c.job_duration,
        gauge,
    })
}

/// `--compare`'s config, checked as the main one is, with its app on the same trigger as
/// `app`; `spec` and `source` are the main config's.
fn load_compared(
    path: &Path,
    spec: &Spec,
    app_name: Option<&str>,
    app: &App,
    source: &str,
) -> anyhow::Result<(String, Spec)> {
    let (mut other, name, text) = spec::load(&spec::ConfigSource::Explicit(path.to_path_buf()))?;
    let from_file = other.clone();
    // Same target so only the scaling differs; the cluster is not needed offline.
    other.region = other.region.or(spec.region.clone());
    if let Err(mut p) = spec::validate_offline(&other, &name) {
        // Lines as the main config's problems have them.
        if let Some(text) = &text {
            crate::ctx::locate(&mut p, text, &from_file, &other);
        }
        return Err(p.into());
    }
    let theirs = pick(&other, app_name, &name)?;
    if let Some(p) = scenario::trigger_mismatch(theirs, app, source) {
        return Err(Problems {
            origin: name,
            problems: vec![p],
        }
        .into());
    }
    Ok((name, other))
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let c = check(&args)?;
    let (spec, source) = ctx.spec_offline()?;
    let app_name = ctx.global.overrides.app.app.as_deref();
    let app = pick(&spec, app_name, &source)?;
    let workload = workload(&args, &c, app)?;
    if let Some(p) = scenario::phase_problem(c.phase, &app.scaling) {
        return Err(Problems {
            origin: source.clone(),
            problems: vec![p],
        }
        .into());
    }
    for note in scenario::notes(&app.scaling, c.k8s_minor) {
        ctx.note(format!("note: {note}"));
    }
    // The other config is loaded first, so its problems come before any output.
    let other = match &args.compare {
        Some(path) => Some(load_compared(path, &spec, app_name, app, &source)?),
        None => None,
    };
    let arrivals =
        simulation::describe_arrivals(args.trace.as_deref(), args.shape, args.rate, args.duration);
    let input = Input::new(&source, app, arrivals.clone(), &workload);
    let mut stream = match ctx.output {
        OutputFormat::Json => Some(Stream::new(false)),
        OutputFormat::Jsonl => Some(Stream::new(true)),
        _ => None,
    };
    let mut apps = vec![(source.clone(), app)];
    if let Some((name, other)) = &other {
        apps.push((name.clone(), pick(other, app_name, name)?));
    }
    let (k8s, keep) = (c.k8s_minor, args.chart.is_some());
    let runs = match stream.as_mut() {
        Some(out) => scenario::run_each(apps, k8s, &workload, &input, keep, out),
        None => scenario::run_each(apps, k8s, &workload, &input, keep, &mut ()),
    };
    if let Some(path) = &args.chart {
        let named: Vec<(&str, &Run)> = runs.iter().map(|(n, r)| (n.as_str(), r)).collect();
        std::fs::write(path, simulation::chart(app, &arrivals, &workload, &named))
            .with_context(|| format!("writing {}", path.display()))?;
        ctx.note(format!("chart: {}", path.display()));
    }
    if let Some(out) = stream {
        return out.finish();
    }
    let gauged = (!scenario::consumes(app)).then(|| app.trigger.imp().source(app));
    let named: Vec<_> = runs.iter().map(|(n, r)| (n.as_str(), &r.summary)).collect();
    let seconds = workload.seconds();
    output::text(&simulation::table(
        &arrivals,
        &workload,
        &named,
        seconds,
        gauged.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
