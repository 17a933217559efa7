use super::app_queue::pick;
use crate::ctx::Ctx;
use crate::limits::{self, ReadError};
use crate::output::{self, API_VERSION, OutputFormat, chart};
use crate::scaling::Params;
use crate::scaling::job::{JobParams, simulate_jobs_to};
use crate::scaling::simulate::{Run, Shape, Summary, Tick, Workload, shape, simulate_to};
use crate::spec::{self, Problem, Problems};
use anyhow::Context;
use serde::Serialize;
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
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
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
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
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
    /// Time from an HPA sync to KEDA's poll, below the app's pollingInterval: 0s (both in the same
    /// second, the best case), 10s
    #[arg(long, default_value = "0s", value_parser = parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub phase: u64,
    /// Kubernetes version whose HPA rules apply, 1.23 to 1.99 (default 1.36, the newest EKS
    /// supports; from 1.33 the tolerance band 0.9..=1.1 is inclusive)
    #[arg(long, value_name = "1.N", value_parser = limits::parse_k8s_version, allow_negative_numbers = true)]
    pub k8s_version: Option<(i128, i128)>,
    /// ScaledJob apps: seconds a Job works on each message it received, like the seed's
    /// PROCESS_SLEEP_TIME: 30s, 2m (1s to 1d)
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
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

/// `90`, `90s`, `30m`, `1h30m`, `1d` as seconds; a value too long to count is refused here,
/// the flag's own limit later (see `limits::seconds_within`).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{s:?} is not a duration\n  fix: use seconds (90), or units like 90s, 30m, 2h, 1h30m"
        )
    };
    let too_long = || {
        format!(
            "{s:?} is too long to count\n  fix: use a duration like 90s, 30m or 2h (each flag allows at most days)"
        )
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map_err(|_| too_long());
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
        if num.is_empty() {
            return Err(bad());
        }
        let n: u64 = num.parse().map_err(|_| too_long())?;
        total = n
            .checked_mul(unit)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(too_long)?;
        num.clear();
    }
    if !num.is_empty() || s.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

fn trace_problem(message: String, fix: &str) -> Problem {
    Problem::new("--trace", message, fix)
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

/// Per-second arrivals from a JSON array, or CSV with one count per line or `t,count` rows
/// (rows for the same second add up). At most `MAX_SIM_SECONDS` seconds, so a trace can never
/// size an allocation beyond that; `name` is the file, for messages.
pub fn parse_trace(bytes: &[u8], name: &str) -> Result<Vec<u32>, Problem> {
    let span = limits::MAX_SIM_SECONDS;
    let beyond = |line: usize, what: String| {
        trace_problem(
            format!(
                "{name} line {line}: {what} is beyond the {} ({span} s) a simulation covers",
                limits::duration(span)
            ),
            "cut the trace to at most 7 days, one count per second",
        )
    };
    let text = trace_text(bytes, name)?;
    if text.trim_start().starts_with('[') {
        let out = serde_json::from_str::<Vec<u32>>(text).map_err(|e| {
            trace_problem(
                format!("{name}: {e}"),
                "use a JSON array of whole numbers, one per second",
            )
        })?;
        if out.len() as u64 > span {
            return Err(beyond(1, format!("entry {}", span + 1)));
        }
        return nonempty(out, name);
    }
    let mut out: Vec<u32> = Vec::new();
    let mut first = true;
    let mut last_t = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        // Only a row of names (`t,count`) is a header; a bad first row of numbers is an error.
        let header = first && cells.iter().all(|c| is_name(c));
        first = false;
        if header {
            continue;
        }
        let not_whole = |c: &str, max: u64| {
            trace_problem(
                format!("{name} line {n}: {c:?} is not a whole number from 0 to {max}"),
                "write counts and seconds as whole numbers (no sign, no decimals)",
            )
        };
        let count = |c: &str| {
            let v = digits(c).ok_or_else(|| not_whole(c, u32::MAX.into()))?;
            u32::try_from(v).map_err(|_| {
                trace_problem(
                    format!("{name} line {n}: {c} is more than {} arrivals", u32::MAX),
                    "write at most 4294967295 arrivals in one second",
                )
            })
        };
        match cells[..] {
            [c] => {
                if out.len() as u64 >= span {
                    return Err(beyond(n, format!("row {}", span + 1)));
                }
                out.push(count(c)?);
            }
            [t, c] => {
                let t = match digits(t) {
                    None => return Err(not_whole(t, span - 1)),
                    Some(v) if v >= span => return Err(beyond(n, format!("t={t}"))),
                    Some(v) => v as usize,
                };
                in_order(name, n, t as u64, &mut last_t)?;
                let count = count(c)?;
                if out.len() <= t {
                    out.resize(t + 1, 0);
                }
                out[t] = out[t].checked_add(count).ok_or_else(|| {
                    trace_problem(
                        format!(
                            "{name} line {n}: second {t} adds up to more than {} arrivals",
                            u32::MAX
                        ),
                        "write at most 4294967295 arrivals per second in total",
                    )
                })?;
            }
            _ => {
                return Err(trace_problem(
                    format!("{name} line {n}: expected `count` or `t,count`"),
                    "one or two columns",
                ));
            }
        }
    }
    nonempty(out, name)
}

/// A metric's value each second (a prometheus query's), from a JSON array of numbers or a CSV
/// of `value` or `t,value` rows (a later row for the same second replaces an earlier one;
/// seconds between rows keep the last value). Values are finite, from 0 to 1e12.
pub fn parse_gauge(bytes: &[u8], name: &str) -> Result<Vec<f64>, Problem> {
    let span = limits::MAX_SIM_SECONDS as usize;
    let text = trace_text(bytes, name)?;
    let value = |c: &str, line: usize| {
        c.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && (0.0..=1e12).contains(v))
            .ok_or_else(|| {
                trace_problem(
                    format!("{name} line {line}: {c:?} is not a value from 0 to 1e12"),
                    "write the query's value each second as a plain number",
                )
            })
    };
    let too_long = || {
        trace_problem(
            format!("{name} covers more than the {span} s a simulation covers"),
            "cut the trace to at most 7 days",
        )
    };
    let mut out: Vec<f64> = Vec::new();
    if text.trim_start().starts_with('[') {
        let all = serde_json::from_str::<Vec<f64>>(text).map_err(|e| {
            trace_problem(
                format!("{name}: {e}"),
                "use a JSON array of numbers, one per second",
            )
        })?;
        for (i, v) in all.iter().enumerate() {
            out.push(value(&v.to_string(), i + 1)?);
        }
    } else {
        let mut first = true;
        let mut last_t = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if line.trim().is_empty() || (first && cells.iter().all(|c| is_name(c))) {
                first = false;
                continue;
            }
            first = false;
            match cells[..] {
                [v] => out.push(value(v, n)?),
                [t, v] => {
                    let t = digits(t)
                        .filter(|t| (*t as usize) < span)
                        .ok_or_else(too_long)? as usize;
                    in_order(name, n, t as u64, &mut last_t)?;
                    let v = value(v, n)?;
                    let last = out.last().copied().unwrap_or(0.0);
                    if out.len() <= t {
                        out.resize(t + 1, last);
                    }
                    out[t] = v;
                }
                _ => {
                    return Err(trace_problem(
                        format!("{name} line {n}: expected `value` or `t,value`"),
                        "one or two columns",
                    ));
                }
            }
        }
    }
    if out.len() > span {
        return Err(too_long());
    }
    if out.is_empty() {
        return Err(trace_problem(
            format!("{name} has no values"),
            "one value per second, e.g. a CSV column",
        ));
    }
    Ok(out)
}

/// `t,…` rows come in time order (the same second again is allowed): a row for an earlier
/// second is almost always a mis-sorted file, whose counts would land in the wrong place.
fn in_order(name: &str, line: usize, t: u64, last: &mut Option<u64>) -> Result<(), Problem> {
    match *last {
        Some(prev) if t < prev => Err(trace_problem(
            format!(
                "{name} line {line}: t={t} comes after t={prev}: the rows are not in time order"
            ),
            "sort the rows by their first column (t), e.g. sort -t, -k1,1n",
        )),
        _ => {
            *last = Some(t);
            Ok(())
        }
    }
}

/// A trace file's text, without a byte-order mark.
fn trace_text<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Problem> {
    std::str::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}'))
        .map_err(|e| {
            trace_problem(
                format!("{name} is not UTF-8 text ({e})"),
                "pass a CSV or JSON text file",
            )
        })
}

/// A cell of digits as a number (`u64::MAX` if it has more digits than fit); None otherwise.
fn digits(cell: &str) -> Option<u64> {
    (!cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()))
        .then(|| cell.parse().unwrap_or(u64::MAX))
}

/// A header cell: a name, not a number (`NaN` and `inf` parse as numbers: they are bad data).
fn is_name(cell: &str) -> bool {
    let cell = cell.trim_matches('"'); // spreadsheets quote their headers
    cell.starts_with(|c: char| c.is_alphabetic() || c == '_') && cell.parse::<f64>().is_err()
}

fn nonempty(out: Vec<u32>, name: &str) -> Result<Vec<u32>, Problem> {
    if out.is_empty() {
        return Err(trace_problem(
            format!("{name} has no arrivals"),
            "one count per second, e.g. a CSV column",
        ));
    }
    Ok(out)
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
    // A burst puts the whole duration's messages in its first second, one u32 count.
    if let (Shape::Burst, None, Some(r), Some(d)) = (args.shape, &args.trace, rate, duration)
        && (r * d as f64).round() > f64::from(u32::MAX)
    {
        found.push(Problem::new(
            "--rate",
            format!(
                "a burst of {} msg/s × {} is more than {} messages at once",
                limits::number(r),
                limits::duration(d),
                u32::MAX
            ),
            "lower --rate or --duration",
        ));
    }
    match (
        rate,
        duration,
        seed,
        pod_rate,
        startup,
        price,
        k8s_minor,
        phase,
        job_duration,
    ) {
        (
            Some(rate),
            Some(duration),
            Some(seed),
            Some(pod_rate),
            Some(startup),
            price,
            Some(k8s_minor),
            Some(phase),
            Some(job_duration),
        ) if found.is_empty() => Ok(Checked {
            rate,
            duration,
            seed,
            pod_rate,
            startup,
            price: price.flatten(),
            k8s_minor,
            phase,
            job_duration,
        }),
        _ => Err(problems(found)),
    }
}

/// The app's options that a run does not depend on, with why: said, never silently ignored.
pub fn unmodelled(s: &spec::Scaling) -> Vec<String> {
    let mut out = Vec::new();
    if s.advanced
        .as_ref()
        .is_some_and(|a| a.restore_to_original_replica_count)
    {
        out.push("advanced.restoreToOriginalReplicaCount acts when the ScaledObject is deleted, not during a run".into());
    }
    if s.successful_jobs_history_limit.is_some() || s.failed_jobs_history_limit.is_some() {
        out.push("successfulJobsHistoryLimit and failedJobsHistoryLimit only decide which finished Jobs KEDA deletes".into());
    }
    if s.backoff_limit.is_some() {
        out.push("backoffLimit: Job pods never fail in the model (only activeDeadlineSeconds fails a Job)".into());
    }
    if s.scaling_strategy
        .as_ref()
        .is_some_and(|st| st.multiple_scalers_calculation.is_some())
    {
        out.push("scalingStrategy.multipleScalersCalculation: with one trigger, max, min, avg and sum agree".into());
    }
    out
}

/// One app's run, each second handed to `sink`: a ScaledObject through KEDA and the HPA, a
/// ScaledJob through its Jobs.
fn run_app_to(
    app: &spec::App,
    k8s_minor: u32,
    w: &Workload,
    sink: &mut dyn FnMut(&Tick),
) -> Summary {
    match app.scaling.kind {
        spec::ScalingKind::ScaledObject => simulate_to(
            &Params {
                k8s_minor,
                ..Params::from_app(app)
            },
            w,
            sink,
        ),
        spec::ScalingKind::ScaledJob => {
            simulate_jobs_to(&JobParams::from_spec(&app.scaling), w, sink)
        }
    }
}

/// The metric of a trigger the pods do not consume, each second in its units (thousandths of a
/// query or CloudWatch value, whole shards or items): the trace's values, or the shape's
/// numbers taken as values.
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
    let units = |v: f64| match thousandths {
        true => crate::triggers::milli(v),
        false => v.round() as u64,
    };
    Ok(values.into_iter().map(units).collect())
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let c = check(&args)?;
    let (spec, source) = ctx.spec_offline()?;
    let app_name = ctx.global.overrides.app.app.as_deref();
    let app = pick(&spec, app_name, &source)?;
    let sqs = app.trigger == crate::triggers::Kind::Sqs;
    let gauge = match sqs {
        true => None,
        false => Some(gauge(&args, app.trigger.imp().thousandths(), || {
            shape(args.shape, c.rate, c.duration, c.seed)
        })?),
    };
    let arrivals = match (&args.trace, sqs) {
        (_, false) => Vec::new(),
        (Some(path), true) => read_trace(path)?,
        (None, true) => shape(args.shape, c.rate, c.duration, c.seed),
    };
    // KEDA's poll repeats every pollingInterval: a phase past it is a smaller one.
    let polling = app.scaling.effective_polling_interval();
    if c.phase >= u64::from(polling) {
        return Err(Problems {
            origin: source.clone(),
            problems: vec![Problem::new(
                "--phase",
                format!(
                    "{} is not below the app's pollingInterval ({} s)",
                    limits::duration(c.phase),
                    polling
                ),
                format!("give a phase from 0s to {}s", polling.saturating_sub(1)),
            )],
        }
        .into());
    }
    let workload = Workload {
        arrivals,
        pod_rate: c.pod_rate,
        startup: c.startup,
        price_per_pod_hour: c.price,
        settle_limit: 7200,
        phase: c.phase,
        job_duration: c.job_duration,
        gauge,
    };
    for note in unmodelled(&app.scaling) {
        ctx.note(format!("note: {note}"));
    }
    let tolerance = app
        .scaling
        .advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.behavior.as_ref())
        .is_some_and(|b| {
            [&b.scale_up, &b.scale_down]
                .iter()
                .any(|r| r.as_ref().is_some_and(|r| r.tolerance.is_some()))
        });
    if tolerance && c.k8s_minor < crate::scaling::CONFIGURABLE_TOLERANCE_MINOR {
        ctx.note(format!(
            "note: Kubernetes 1.{} ignores behavior tolerance (HPAConfigurableTolerance is on from 1.{}): the HPA uses 0.1",
            c.k8s_minor,
            crate::scaling::CONFIGURABLE_TOLERANCE_MINOR
        ));
    }
    // The other config is loaded first, so its problems come before any output.
    let other = match &args.compare {
        Some(path) => {
            let (mut other, name, _) = spec::load(&spec::ConfigSource::Explicit(path.clone()))?;
            // Same target so only the scaling differs; the cluster is not needed offline.
            other.region = other.region.or(spec.region.clone());
            spec::validate_offline(&other, &name)?;
            let theirs = pick(&other, app_name, &name)?;
            // The same arrivals (or query values) only mean the same thing to the same trigger.
            if theirs.trigger != app.trigger {
                return Err(Problems {
                    origin: name,
                    problems: vec![Problem::new(
                        "--compare",
                        format!(
                            "its app scales on {} but {} scales on {}: one trace cannot drive both",
                            theirs.trigger.as_str(),
                            source,
                            app.trigger.as_str()
                        ),
                        "compare configs whose apps use the same trigger",
                    )],
                }
                .into());
            }
            Some((name, other))
        }
        None => None,
    };
    let mut input = Input {
        source: source.clone(),
        app: app.deployment.clone(),
        trace: describe_input(&args),
        metric: None,
        target_per_replica: None,
        pod_rate: None,
        startup_seconds: None,
        job_duration_seconds: None,
    };
    match app.scaling.kind {
        _ if !sqs => {
            input.metric = Some(app.trigger.imp().unit());
            input.target_per_replica = Some(Params::from_app(app).queue_length);
        }
        spec::ScalingKind::ScaledObject => {
            input.pod_rate = Some(args.pod_rate);
            input.startup_seconds = Some(args.startup);
        }
        spec::ScalingKind::ScaledJob => {
            input.job_duration_seconds = Some(args.job_duration);
            input.startup_seconds = Some(args.startup);
        }
    }
    // JSON goes out a second at a time as the run makes it (constant memory however long the
    // trace); only a chart keeps the timelines.
    let mut stream = match ctx.output {
        OutputFormat::Json => Some(Stream::new(false)),
        OutputFormat::Jsonl => Some(Stream::new(true)),
        _ => None,
    };
    let keep = args.chart.is_some();
    let mut timelines: Vec<Vec<Tick>> = Vec::new();
    let mut summaries: Vec<(String, Summary)> = Vec::new();
    let mut apps = vec![(source.clone(), app)];
    if let Some((name, other)) = &other {
        apps.push((name.clone(), pick(other, app_name, name)?));
    }
    for (i, (name, a)) in apps.into_iter().enumerate() {
        if let Some(out) = stream.as_mut() {
            out.begin(i, &name, &input);
        }
        let mut timeline = Vec::new();
        let summary = run_app_to(a, c.k8s_minor, &workload, &mut |k| {
            if keep {
                timeline.push(*k);
            }
            if let Some(out) = stream.as_mut() {
                out.tick(k);
            }
        });
        if let Some(out) = stream.as_mut() {
            out.end(i, &name, &summary);
        }
        timelines.push(timeline);
        summaries.push((name, summary));
    }
    if let Some(path) = &args.chart {
        let runs: Vec<Run> = timelines
            .into_iter()
            .zip(&summaries)
            .map(|(timeline, (_, summary))| Run {
                timeline,
                summary: summary.clone(),
            })
            .collect();
        let named: Vec<(&str, &Run)> = summaries
            .iter()
            .map(|(n, _)| n.as_str())
            .zip(&runs)
            .collect();
        // Another trigger's own metric, in its units, on the left axis: there is no queue, and
        // a shape gives the metric's values, not arrivals.
        let t = app.trigger.imp();
        let title = match sqs {
            true => format!("{} — {}", app.deployment, describe_input(&args)),
            false => format!(
                "{} — {}: {}",
                app.deployment,
                t.unit().trim_end_matches(" (thousandths)"),
                describe_input(&args).replace(" msg/s", "")
            ),
        };
        let per = if t.thousandths() { 1000.0 } else { 1.0 };
        let values: Vec<f64> = workload
            .gauge
            .iter()
            .flatten()
            .map(|v| *v as f64 / per)
            .collect();
        let label = format!(
            "{} — {}",
            t.unit().trim_end_matches(" (thousandths)"),
            t.source(app)
        );
        let metric = (!sqs).then_some(chart::Gauge {
            label: &label,
            values: &values,
        });
        std::fs::write(path, chart::svg(&title, metric.as_ref(), &named))
            .with_context(|| format!("writing {}", path.display()))?;
        ctx.note(format!("chart: {}", path.display()));
    }
    if let Some(out) = stream {
        return out.finish();
    }
    let seconds = workload
        .gauge
        .as_ref()
        .map_or(workload.arrivals.len(), Vec::len) as u64;
    let gauged = (!sqs).then(|| app.trigger.imp().source(app));
    let named: Vec<(&str, &Summary)> = summaries.iter().map(|(n, s)| (n.as_str(), s)).collect();
    output::text(&table(&args, &named, seconds, gauged.as_deref()))
}

/// What was simulated: the config, the arrivals, and the pods' model.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The config file (or "built-in defaults").
    pub source: String,
    /// The app's Deployment (or ScaledJob).
    pub app: String,
    /// The arrival pattern or trace file.
    pub trace: String,
    /// A metric the pods do not consume (a prometheus query): its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<&'static str>,
    /// The metric's target per replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_per_replica: Option<u64>,
    /// Messages a ready pod finishes per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_seconds: Option<u64>,
    /// ScaledJob: seconds a Job works on one message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_duration_seconds: Option<u64>,
}

/// `simulate -o json`: one document, written a second at a time as the run goes (`Stream`);
/// this type only describes it, for `kedactl schema --kind Simulation`.
#[derive(schemars::JsonSchema)]
pub struct Simulation {
    pub input: Input,
    /// A row per simulated second.
    pub timeline: Vec<Tick>,
    pub summary: Summary,
    /// `--compare`: the other config's run on the same arrivals (absent without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<Compared>,
}

/// `--compare`'s run in the `Simulation` document.
#[derive(schemars::JsonSchema)]
pub struct Compared {
    /// The other config file.
    pub source: String,
    pub timeline: Vec<Tick>,
    pub summary: Summary,
}

/// `simulate -o jsonl`: the line that starts a run (0 the config, 1 `--compare`'s); its
/// `SimulationTick` lines and its `SimulationSummary` line follow.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Start<'a> {
    pub run: usize,
    /// The config this run simulates.
    pub source: &'a str,
    pub input: &'a Input,
}

/// `simulate -o jsonl`: the line that ends a run.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Finished<'a> {
    pub run: usize,
    pub source: &'a str,
    pub summary: &'a Summary,
}

/// `{"apiVersion":…,"kind":"SimulationTick",`: how every tick line starts.
static TICK_HEAD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The kinds `simulate` prints: the `-o json` document, and the `-o jsonl` lines.
pub const KIND: &str = "Simulation";
pub const START_KIND: &str = "SimulationStart";
pub const TICK_KIND: &str = "SimulationTick";
pub const SUMMARY_KIND: &str = "SimulationSummary";

/// `simulate -o json` (one document: the runs' timelines and summaries) or `-o jsonl` (each
/// line a document: `SimulationStart`, a `SimulationTick` per second, `SimulationSummary`),
/// written as the runs go. A write error (a closed pipe) is kept and returned at the end.
struct Stream {
    out: std::io::BufWriter<std::io::Stdout>,
    /// A tick line's own object, reused.
    row: Vec<u8>,
    lines: bool,
    first: bool,
    failed: Option<std::io::Error>,
}

impl Stream {
    fn new(lines: bool) -> Self {
        Stream {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
            row: Vec::with_capacity(256),
            lines,
            first: true,
            failed: None,
        }
    }

    fn write(&mut self, text: &str) {
        self.write_bytes(text.as_bytes());
    }

    fn write_bytes(&mut self, bytes: &[u8]) {
        use std::io::Write;
        if self.failed.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.failed = Some(e);
        }
    }

    /// Straight into the buffer: a day is 86,400 rows.
    fn write_value<T: Serialize>(&mut self, v: &T) {
        if self.failed.is_none()
            && let Err(e) = serde_json::to_writer(&mut self.out, v)
        {
            self.failed = Some(e.into());
        }
    }

    fn value<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_else(|e| format!("\"{e}\""))
    }

    /// Run `i` (0 the config, 1 `--compare`) starts.
    fn begin(&mut self, i: usize, source: &str, input: &Input) {
        self.first = true;
        if self.lines {
            let start = Start {
                run: i,
                source,
                input,
            };
            self.write_value(&output::Document::new(START_KIND, &start));
            self.write("\n");
            return;
        }
        let text = match i {
            0 => format!(
                "{{\n  \"apiVersion\": {},\n  \"kind\": {},\n  \"input\": {},\n  \"timeline\": [",
                Self::value(&API_VERSION),
                Self::value(&KIND),
                Self::value(input)
            ),
            _ => format!(
                ",\n  \"compare\": {{\n  \"source\": {},\n  \"timeline\": [",
                Self::value(&source)
            ),
        };
        self.write(&text);
    }

    fn tick(&mut self, k: &Tick) {
        if self.lines {
            // `Document::new(TICK_KIND, k)` as 86,400 lines a day: the constant head written
            // once per line, then the tick's own object after its `{`.
            self.row.clear();
            if let Err(e) = serde_json::to_writer(&mut self.row, k) {
                self.failed.get_or_insert(e.into());
            }
            let head = TICK_HEAD.get_or_init(|| {
                let mut h = output::document_line(TICK_KIND, &serde_json::Map::new())
                    .expect("a document serialises");
                h.pop(); // its closing brace
                h.push(',');
                h
            });
            let row = std::mem::take(&mut self.row);
            self.write(head);
            self.write_bytes(&row[1..]);
            self.write("\n");
            self.row = row;
            return;
        }
        self.write(if self.first { "\n    " } else { ",\n    " });
        self.first = false;
        self.write_value(k);
    }

    fn end(&mut self, i: usize, source: &str, summary: &Summary) {
        if self.lines {
            let end = Finished {
                run: i,
                source,
                summary,
            };
            self.write_value(&output::Document::new(SUMMARY_KIND, &end));
            self.write("\n");
            return;
        }
        let s = Self::value(summary);
        let text = match i {
            0 => format!("\n  ],\n  \"summary\": {s}"),
            _ => format!("\n  ],\n  \"summary\": {s}\n  }}"),
        };
        self.write(&text);
    }

    fn finish(mut self) -> anyhow::Result<()> {
        use std::io::Write;
        if !self.lines {
            self.write("\n}\n");
        }
        if let Some(e) = self.failed.take() {
            return Err(e.into());
        }
        self.out.flush()?;
        Ok(())
    }
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

/// A config name wider than this heads its column by a letter (the name above the table).
const MAX_COLUMN: usize = 24;

/// The summaries side by side; `gauged` names the source of a metric the pods do not consume (then
/// there are no messages, backlog or waits to report).
fn table(args: &Args, runs: &[(&str, &Summary)], seconds: u64, gauged: Option<&str>) -> String {
    let s0 = runs[0].1;
    let work = if s0.jobs_created.is_some() {
        format!(
            "Jobs work {} s per message and start in {} s",
            args.job_duration, args.startup
        )
    } else {
        format!(
            "pods complete {} msg/s and start in {} s",
            args.pod_rate, args.startup
        )
    };
    let mut out = match gauged {
        Some(source) => format!(
            "Simulated {} of {source} ({}, values as the query returns them).\n\n",
            chart::clock(seconds),
            describe_input(args).replace(" msg/s", "")
        ),
        None => format!(
            "Simulated {} of arrivals ({}, {} messages); {work}.\n\n",
            chart::clock(seconds),
            describe_input(args),
            s0.messages,
        ),
    };
    // Compared, a long config path would make both columns as wide: name the runs A and B
    // above the table.
    let long = runs.len() > 1 && runs.iter().any(|(n, _)| n.chars().count() > MAX_COLUMN);
    let names: Vec<String> = runs
        .iter()
        .zip(['A', 'B'])
        .map(|((name, _), letter)| {
            if long {
                out.push_str(&format!("  {letter}: {name}\n"));
                letter.to_string()
            } else {
                name.to_string()
            }
        })
        .collect();
    if long {
        out.push('\n');
    }
    // Rows first: each column is as wide as its widest name or value.
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |label: &str, f: &dyn Fn(&Summary) -> String| {
        rows.push((label.to_string(), runs.iter().map(|(_, r)| f(r)).collect()));
    };
    add("pod-seconds", &|r| r.pod_seconds.to_string());
    if let Some(price) = args.price {
        add(&format!("cost (${price}/pod-hour)"), &|r| {
            format!("${:.2}", r.cost.unwrap_or(0.0))
        });
    }
    let jobs = runs.iter().any(|(_, r)| r.jobs_created.is_some());
    add(
        if jobs {
            "max replicas / jobs"
        } else {
            "max replicas"
        },
        &|r| r.max_replicas.to_string(),
    );
    if jobs {
        add("jobs started / failed", &|r| {
            format!(
                "{} / {}",
                r.jobs_created.unwrap_or(0),
                r.jobs_failed.unwrap_or(0)
            )
        });
    }
    add("scale changes", &|r| r.scale_changes.to_string());
    if gauged.is_none() {
        add("max backlog (messages)", &|r| r.max_backlog.to_string());
        add("wait p50 / p95 / max", &|r| {
            format!("{}s / {}s / {}s", r.wait_p50, r.wait_p95, r.wait_max)
        });
        // Seconds from the last arrival until the queue was empty: 0 means it kept up.
        add("time to drain (1)", &|r| match r.time_to_drain {
            None => "never".into(),
            Some(0) => "already empty".into(),
            Some(d) => format!("{d} s"),
        });
    }
    add("simulated until", &|r| chart::clock(r.seconds));
    let width = names
        .iter()
        .chain(rows.iter().flat_map(|(_, cells)| cells))
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let line = |label: &str, cells: &[String]| {
        let mut line = format!("  {label:<22}");
        for c in cells {
            line.push_str(&format!("{c:>width$}  "));
        }
        line.trim_end().to_string() + "\n"
    };
    out.push_str(&line("", &names));
    for (label, cells) in &rows {
        out.push_str(&line(label, cells));
    }
    if gauged.is_none() {
        out.push_str(
            "\n  (1) from the end of the arrivals (--duration) until the queue is empty\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_out_of_time_order_are_refused_with_the_line() {
        let e = parse_trace(b"t,messages\n60,5\n0,3\n", "t.csv").unwrap_err();
        assert!(
            e.message.contains("t.csv line 3: t=0 comes after t=60"),
            "{}",
            e.message
        );
        assert!(e.fix.contains("sort"), "{}", e.fix);
        let e = parse_gauge(b"t,value\n5,1\n2,0.5\n", "q.csv").unwrap_err();
        assert!(
            e.message.contains("q.csv line 3: t=2 comes after t=5"),
            "{}",
            e.message
        );
        // The same second twice still adds up (counts) or replaces (values).
        assert_eq!(
            parse_trace(b"0,1\n0,2\n3,1\n", "t").unwrap(),
            vec![3, 0, 0, 1]
        );
        assert_eq!(parse_gauge(b"0,1\n0,2\n", "q").unwrap(), vec![2.0]);
    }

    #[test]
    fn a_gauge_trace_holds_each_value_until_the_next_row() {
        let g = parse_gauge(b"t,value\n0,0.5\n3,1.25\n3,2\n5,0\n", "q.csv").unwrap();
        assert_eq!(
            g,
            [0.5, 0.5, 0.5, 2.0, 2.0, 0.0],
            "a later row for a second wins"
        );
        assert_eq!(
            parse_gauge(b"[0, 0.25, 1e3]", "q.json").unwrap(),
            [0.0, 0.25, 1000.0]
        );
        assert_eq!(parse_gauge(b"0.1\n0.2\n", "q").unwrap(), [0.1, 0.2]);
        for (bad, field) in [
            (&b"t,value\n0,NaN\n"[..], "line 2"),
            (b"-1\n", "line 1"),
            (b"1e13\n", "line 1"),
            (b"0,1,2\n", "line 1"),
            (b"", "has no values"),
        ] {
            let p = parse_gauge(bad, "q").unwrap_err();
            assert!(p.message.contains(field), "{bad:?}: {}", p.message);
        }
        let far = format!("{},1\n", limits::MAX_SIM_SECONDS);
        assert!(
            parse_gauge(far.as_bytes(), "q")
                .unwrap_err()
                .message
                .contains("covers more than")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        for bad in ["", "m", "1x", "1h30", "-5", "h5"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.contains("is not a duration") && err.contains("fix:"),
                "{err}"
            );
        }
        // Overflow is refused, not wrapped to a small number.
        for long in [
            "18446744073709551616",
            "5124095576030432h",
            "213503982334601d99999s",
        ] {
            assert!(
                parse_duration(long).unwrap_err().contains("too long"),
                "{long}"
            );
        }
        assert_eq!(parse_duration("18446744073709551615"), Ok(u64::MAX));
    }

    fn problem(bytes: &str) -> String {
        parse_trace(bytes.as_bytes(), "t.csv").unwrap_err().message
    }

    #[test]
    fn trace_defects_name_the_line() {
        let p = |b: &str| parse_trace(b.as_bytes(), "t.csv");
        assert_eq!(p("t,count\n0,1\n").unwrap(), [1]);
        assert_eq!(p("\u{feff}time, arrivals\n\n1,2\n").unwrap(), [0, 2]);
        assert_eq!(p("\"t\",\"count\"\n0,5\n").unwrap(), [5]);
        assert_eq!(p("0,4294967295\n1,1\n").unwrap(), [u32::MAX, 1]);
        // Rows for one second add up: checked, never wrapping to 0.
        assert_eq!(
            problem("0,4294967295\n0,1\n"),
            "t.csv line 2: second 0 adds up to more than 4294967295 arrivals"
        );
        // A first row of numbers is data: a bad one is an error, not a dropped "header".
        assert_eq!(
            problem("1.5\n2\n"),
            "t.csv line 1: \"1.5\" is not a whole number from 0 to 4294967295"
        );
        assert!(problem("NaN\n2\n").starts_with("t.csv line 1: \"NaN\""));
        assert!(problem("0,-1\n").starts_with("t.csv line 1: \"-1\""));
        assert!(problem("3\n4294967296\n").starts_with("t.csv line 2: 4294967296 is more"));
        assert!(
            problem("3\n99999999999999999999999\n")
                .contains("line 2: 99999999999999999999999 is more")
        );
        assert!(problem("+3\n").starts_with("t.csv line 1: \"+3\" is not a whole number"));
        assert_eq!(
            problem("0,1\n4000000000,1\n"),
            "t.csv line 2: t=4000000000 is beyond the 7d (604800 s) a simulation covers"
        );
        assert!(
            problem("99999999999999999999999,1").contains("t=99999999999999999999999 is beyond")
        );
        assert!(problem("604800,1").contains("line 1: t=604800 is beyond"));
        assert_eq!(p("604799,1").unwrap().len(), 604_800);
        let rows = "0\n".repeat(604_801);
        assert!(problem(&rows).starts_with("t.csv line 604801: row 604801 is beyond"));
        let json = format!("[{}0]", "0,".repeat(604_800));
        assert!(problem(&json).contains("beyond the 7d"));
        assert!(problem("[1, -2]").contains("invalid value"));
        assert!(problem("1,2,3").contains("expected `count` or `t,count`"));
        assert!(problem("t,count\n").contains("no arrivals"));
        assert!(
            parse_trace(b"\xff\xfe", "t.csv")
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panic_within_the_span(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            rows in proptest::collection::vec((0u64..700_000, 0u64..5_000_000_000), 0..8),
        ) {
            let _ = parse_trace(&bytes, "any");
            // Rows near the limits: large seconds, counts past u32, sums that would wrap.
            let text: String = rows.iter().map(|(t, n)| format!("{t},{n}\n")).collect();
            for input in [text.as_bytes(), &[text.as_bytes(), &bytes].concat()] {
                if let Ok(out) = parse_trace(input, "rows") {
                    proptest::prop_assert!(!out.is_empty());
                    proptest::prop_assert!(out.len() as u64 <= limits::MAX_SIM_SECONDS);
                }
            }
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
