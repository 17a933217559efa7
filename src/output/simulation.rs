//! What `simulate` prints: the `-o json` document or `-o jsonl` lines written as the runs go,
//! the table of summaries, and the chart's title and metric.

use super::{API_VERSION, chart};
use crate::scaling::scenario::{Input, Watch};
use crate::scaling::simulate::{Run, Shape, Summary, Tick, Workload};
use crate::spec::App;
use serde::Serialize;
use std::path::Path;

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
pub struct Stream {
    out: std::io::BufWriter<std::io::Stdout>,
    /// A tick line's own object, reused.
    row: Vec<u8>,
    lines: bool,
    first: bool,
    failed: Option<std::io::Error>,
}

impl Stream {
    pub fn new(lines: bool) -> Self {
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

    pub fn finish(mut self) -> anyhow::Result<()> {
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

impl Watch for Stream {
    /// Run `i` (0 the config, 1 `--compare`) starts.
    fn begin(&mut self, i: usize, source: &str, input: &Input) {
        self.first = true;
        if self.lines {
            let start = Start {
                run: i,
                source,
                input,
            };
            self.write_value(&super::Document::new(START_KIND, &start));
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
                let mut h = super::document_line(TICK_KIND, &serde_json::Map::new())
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
            self.write_value(&super::Document::new(SUMMARY_KIND, &end));
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
}

/// The arrivals in a few words: the trace file, or the shape, its rate and duration.
pub fn describe_arrivals(trace: Option<&Path>, shape: Shape, rate: f64, duration: u64) -> String {
    match trace {
        Some(p) => format!("trace {}", p.display()),
        None => format!("{:?} {} msg/s for {}", shape, rate, chart::clock(duration)).to_lowercase(),
    }
}

/// A config name wider than this heads its column by a letter (the name above the table).
const MAX_COLUMN: usize = 24;

/// The summaries side by side, of runs on `w` whose arrivals `arrivals` describes; `gauged`
/// names the source of a metric the pods do not consume (then there are no messages, backlog or
/// waits to report).
pub fn table(
    arrivals: &str,
    w: &Workload,
    runs: &[(&str, &Summary)],
    seconds: u64,
    gauged: Option<&str>,
) -> String {
    let s0 = runs[0].1;
    let work = if s0.jobs_created.is_some() {
        format!(
            "Jobs work {} s per message and start in {} s",
            w.job_duration, w.startup
        )
    } else {
        format!(
            "pods complete {} msg/s and start in {} s",
            w.pod_rate, w.startup
        )
    };
    let mut out = match gauged {
        Some(source) => format!(
            "Simulated {} of {source} ({}, values as the query returns them).\n\n",
            chart::clock(seconds),
            arrivals.replace(" msg/s", "")
        ),
        None => format!(
            "Simulated {} of arrivals ({}, {} messages); {work}.\n\n",
            chart::clock(seconds),
            arrivals,
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
    if let Some(price) = w.price_per_pod_hour {
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

/// The SVG chart of `app`'s runs on `w`, each named by its config. A trigger whose metric the
/// pods do not consume has its own metric, in its units, on the left axis: there is no queue,
/// and a shape gives the metric's values, not arrivals.
pub fn chart(app: &App, arrivals: &str, w: &Workload, runs: &[(&str, &Run)]) -> String {
    let sqs = crate::scaling::scenario::consumes(app);
    let t = app.trigger.imp();
    let title = match sqs {
        true => format!("{} — {}", app.deployment, arrivals),
        false => format!(
            "{} — {}: {}",
            app.deployment,
            t.unit().trim_end_matches(" (thousandths)"),
            arrivals.replace(" msg/s", "")
        ),
    };
    let per = if t.thousandths() { 1000.0 } else { 1.0 };
    let values: Vec<f64> = w.gauge.iter().flatten().map(|v| *v as f64 / per).collect();
    let label = format!(
        "{} — {}",
        t.unit().trim_end_matches(" (thousandths)"),
        t.source(app)
    );
    let metric = (!sqs).then_some(chart::Gauge {
        label: &label,
        values: &values,
    });
    chart::svg(&title, metric.as_ref(), runs)
}
