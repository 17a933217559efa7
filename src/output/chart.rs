//! An SVG chart of a simulation: queue depth (left axis, filled) and replicas (right axis,
//! steps) over time, with an optional second run drawn dashed and in its own colours for
//! comparison.

use crate::scaling::simulate::Run;
use std::fmt::Write;

const W: f64 = 960.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 60.0;
/// Above the plot with a one-row legend; each further legend row adds `LEGEND_ROW`.
const TOP: f64 = 50.0;
const LEGEND_ROW: f64 = 16.0;
/// Average advance of a 12 px sans-serif character, a little generous so a label fits.
const CHAR_WIDTH: f64 = 7.0;
/// The same for the 15 px bold title.
const TITLE_CHAR_WIDTH: f64 = 9.5;
const BOTTOM: f64 = 50.0;
/// (queue, replicas) colours of each run: the first run's match the axes; a compared run's
/// differ in hue as well as dash, so the two are told apart at a glance (and in grey print).
const PALETTE: [(&str, &str); 2] = [("#1f6fb2", "#d9480f"), ("#0b7285", "#862e9c")];

/// At most this many points per series: one per pixel column is all a reader can see.
const MAX_POINTS: usize = 900;

/// A trigger's own metric for the left axis, in place of the queue: its label (name, unit,
/// source) and its value each second, the same input for every run.
pub struct Gauge<'a> {
    pub label: &'a str,
    pub values: &'a [f64],
}

/// (label, run) pairs: the first solid, the second dashed. The left axis is the queue (visible
/// + in flight), or `metric` when the trigger has no queue.
pub fn svg(title: &str, metric: Option<&Gauge>, runs: &[(&str, &Run)]) -> String {
    let legend = legend(runs.iter().map(|(label, _)| *label));
    let rows = legend.iter().map(|e| e.row).max().unwrap_or(0) + 1;
    let frame = Frame::new(metric, runs, rows);
    let mut s = String::new();
    let h = frame.h;
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{h}" fill="white"/>
<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{}</text>
"#,
        escape(&fit(title, W - LEFT - 10.0, TITLE_CHAR_WIDTH))
    );
    value_axes(&mut s, &frame, metric.is_some());
    time_axis(&mut s, &frame);
    let left_label = metric.map_or("messages in queue (visible + in flight)", |g| g.label);
    axis_titles(&mut s, &frame, left_label);
    for (i, (_, run)) in runs.iter().enumerate() {
        series(&mut s, &frame, metric, i, run);
    }
    legend_lines(&mut s, &legend);
    s.push_str("</svg>\n");
    s
}

/// Where the plot sits and what its axes span.
struct Frame {
    /// The longest run's seconds (at least 1): the time axis.
    seconds: usize,
    /// The left axis' top: the queue's depth or the metric's value.
    depth_max: f64,
    /// The right axis' top: replicas.
    replicas_max: f64,
    /// The plot's top (below the title and legend) and the chart's height.
    top: f64,
    h: f64,
    /// The plot's width and height.
    pw: f64,
    ph: f64,
}

impl Frame {
    /// The frame of `runs` under a legend of `rows` rows.
    fn new(metric: Option<&Gauge>, runs: &[(&str, &Run)], rows: usize) -> Self {
        let seconds = runs
            .iter()
            .map(|(_, r)| r.timeline.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let depth_max = match metric {
            // A value may be fractional (a query's rate): the axis follows it, above 0.
            Some(g) => nice(g.values.iter().copied().fold(0.0, f64::max).max(1e-3)),
            None => nice(
                runs.iter()
                    .flat_map(|(_, r)| r.timeline.iter().map(|k| k.visible + k.in_flight))
                    .max()
                    .unwrap_or(0)
                    .max(1) as f64,
            )
            .max(4.0),
        };
        // A multiple of 4, so each of the four grid steps is a whole number of replicas.
        let replicas_max = f64::from(
            runs.iter()
                .flat_map(|(_, r)| r.timeline.iter().map(|k| k.replicas))
                .max()
                .unwrap_or(0)
                .max(1)
                .div_ceil(4)
                * 4,
        );
        let top = TOP + LEGEND_ROW * (rows - 1) as f64;
        let h = H + LEGEND_ROW * (rows - 1) as f64;
        Frame {
            seconds,
            depth_max,
            replicas_max,
            top,
            h,
            pw: W - LEFT - RIGHT,
            ph: h - top - BOTTOM,
        }
    }

    fn x(&self, t: f64) -> f64 {
        LEFT + self.pw * t / self.seconds as f64
    }

    fn y_depth(&self, v: f64) -> f64 {
        self.top + self.ph * (1.0 - v / self.depth_max)
    }

    fn y_rep(&self, v: f64) -> f64 {
        self.top + self.ph * (1.0 - v / self.replicas_max)
    }
}

/// The grid, with the left axis' values (a metric's with decimals) and the replicas' on the
/// right.
fn value_axes(s: &mut String, f: &Frame, metric: bool) {
    for i in 0..=4 {
        let step = f64::from(i) / 4.0;
        let gy = f.top + f.ph * (1.0 - step);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="#e5e5e5"/>"##,
            W - RIGHT
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#1f6fb2">{}</text>"##,
            LEFT - 8.0,
            gy + 4.0,
            match metric {
                true => fmt_value(f.depth_max * step),
                false => fmt_num(f.depth_max * step),
            }
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#d9480f">{}</text>"##,
            W - RIGHT + 8.0,
            gy + 4.0,
            fmt_num(f.replicas_max * step)
        );
    }
}

/// Time: a tick at each multiple of a round step (1, 2, 5, 10, 15, 30 s or min, 1, 2, 3, 6,
/// 12 h, days), at most eight of them after 0.
fn time_axis(s: &mut String, f: &Frame) {
    let h = f.h;
    let step = time_step(f.seconds as u64);
    for t in (0..=f.seconds as u64).step_by(step as usize) {
        let tx = f.x(t as f64);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#999"/>"##,
            h - BOTTOM,
            h - BOTTOM + 4.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            h - BOTTOM + 18.0,
            tick(t)
        );
    }
}

/// The axes' names: `left_label` up the left side, replicas down the right, time below.
fn axis_titles(s: &mut String, f: &Frame, left_label: &str) {
    let (top, ph) = (f.top, f.ph);
    let _ = writeln!(
        s,
        r##"<text x="14" y="{:.1}" fill="#1f6fb2" transform="rotate(-90 14 {:.1})" text-anchor="middle">{}</text>"##,
        top + ph / 2.0,
        top + ph / 2.0,
        escape(&fit(left_label, ph, CHAR_WIDTH))
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" fill="#d9480f" transform="rotate(90 {:.1} {:.1})" text-anchor="middle">replicas</text>"##,
        W - 16.0,
        top + ph / 2.0,
        W - 16.0,
        top + ph / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">time</text>"##,
        LEFT + f.pw / 2.0,
        f.h - 12.0
    );
}

/// Run `i`'s dash (none for the first) and its (queue, replicas) colours.
fn run_style(i: usize) -> (&'static str, &'static str, &'static str) {
    let dash = if i == 0 {
        ""
    } else {
        r#" stroke-dasharray="6 4""#
    };
    let (queue_colour, replicas_colour) = PALETTE[i.min(PALETTE.len() - 1)];
    (dash, queue_colour, replicas_colour)
}

/// Run `i`'s two lines (the first run's queue filled too): its left-axis value and its
/// replicas, at most `MAX_POINTS` points each (the highest of each bucket of seconds).
fn series(s: &mut String, f: &Frame, metric: Option<&Gauge>, i: usize, run: &Run) {
    let (dash, queue_colour, replicas_colour) = run_style(i);
    let step = run.timeline.len().div_ceil(MAX_POINTS).max(1);
    let left = |k: &crate::scaling::simulate::Tick| match metric {
        Some(g) => g.values.get(k.t as usize).copied().unwrap_or(0.0),
        None => (k.visible + k.in_flight) as f64,
    };
    let buckets: Vec<(f64, f64, u32)> = run
        .timeline
        .chunks(step)
        .map(|c| {
            let depth = c.iter().map(left).fold(0.0, f64::max);
            let reps = c.iter().map(|k| k.replicas).max().unwrap_or(0);
            (c[0].t as f64, depth, reps)
        })
        .collect();
    let mut depth = String::new();
    let mut reps = String::new();
    for (j, (t, d, r)) in buckets.iter().enumerate() {
        let _ = write!(
            depth,
            "{}{:.1},{:.1} ",
            if j == 0 { "M" } else { "L" },
            f.x(*t),
            f.y_depth(*d)
        );
        // Replicas change in steps: horizontal, then vertical.
        if j == 0 {
            let _ = write!(reps, "M{:.1},{:.1} ", f.x(*t), f.y_rep(f64::from(*r)));
        } else {
            let _ = write!(reps, "H{:.1} V{:.1} ", f.x(*t), f.y_rep(f64::from(*r)));
        }
    }
    let end = f.x(run.timeline.len() as f64);
    if i == 0 {
        let _ = writeln!(
            s,
            r##"<path d="{depth}L{end:.1},{:.1} L{LEFT},{:.1} Z" fill="#1f6fb2" fill-opacity="0.18" stroke="none"/>"##,
            f.y_depth(0.0),
            f.y_depth(0.0)
        );
    }
    let _ = writeln!(
        s,
        r##"<path d="{depth}" fill="none" stroke="{queue_colour}" stroke-width="1.5"{dash}/>"##
    );
    let _ = writeln!(
        s,
        r##"<path d="{reps}H{end:.1}" fill="none" stroke="{replicas_colour}" stroke-width="2"{dash}/>"##
    );
}

/// The legend's entries: each run's two colours, each in its dash (queue then replicas), then
/// its label.
fn legend_lines(s: &mut String, legend: &[Entry]) {
    for (i, e) in legend.iter().enumerate() {
        let (dash, queue_colour, replicas_colour) = run_style(i);
        let (lx, ly) = (e.x, 38.0 + LEGEND_ROW * e.row as f64);
        let _ = writeln!(
            s,
            r##"<line class="legend" x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{queue_colour}" stroke-width="2"{dash}/><line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{replicas_colour}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"##,
            ly - 2.0,
            lx + 24.0,
            ly - 2.0,
            ly + 2.0,
            lx + 24.0,
            ly + 2.0,
            lx + 30.0,
            ly + 4.0,
            escape(&e.label)
        );
    }
}

/// One legend entry: its line and label start at `x` on legend row `row`.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    label: String,
    x: f64,
    row: usize,
}

/// The legend under the title, entries left to right from the plot's left edge; an entry
/// that would pass the right edge starts a new row, and a label longer than a whole row is
/// shortened in the middle (the file name at its end stays), so no label is cut off.
fn legend<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<Entry> {
    // The sample line and the gap before the label, and the space after it.
    const SAMPLE: f64 = 30.0;
    const GAP: f64 = 24.0;
    let right = W - RIGHT;
    let mut out: Vec<Entry> = Vec::new();
    let (mut x, mut row) = (LEFT, 0);
    for label in labels {
        let label = fit(label, right - LEFT - SAMPLE, CHAR_WIDTH);
        let width = SAMPLE + CHAR_WIDTH * label.chars().count() as f64;
        if x > LEFT && x + width > right {
            (x, row) = (LEFT, row + 1);
        }
        out.push(Entry { label, x, row });
        x += width + GAP;
    }
    out
}

/// `text` if it fits in `width` at `char_width` a character, else its start and end around
/// an ellipsis.
fn fit(text: &str, width: f64, char_width: f64) -> String {
    let max = (width / char_width).floor().max(3.0) as usize;
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    // More of the end: a path's file name tells configs apart.
    let tail = (max - 1) * 2 / 3;
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The time axis' step for a run of `seconds`: the smallest round step (1, 2, 5, 10, 15 or
/// 30 seconds or minutes; 1, 2, 3, 6 or 12 hours; whole days) giving at most 8 ticks after 0.
fn time_step(seconds: u64) -> u64 {
    const STEPS: [u64; 17] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    ];
    let fits = |step: u64| seconds / step <= 8;
    STEPS
        .into_iter()
        .find(|s| fits(*s))
        .unwrap_or_else(|| 86_400 * seconds.div_ceil(8 * 86_400).max(1))
}

/// A round axis maximum at or above `v` (1, 2 or 5 × 10ⁿ).
fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// A metric's axis value: up to three decimals, trailing zeros dropped (0.25, 1.5, 20).
fn fmt_value(v: f64) -> String {
    if v >= 10_000.0 {
        return fmt_num(v);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn fmt_num(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else {
        format!("{}", v.round())
    }
}

/// 0:05, 1:30:00 — hours only when needed.
pub fn clock(t: u64) -> String {
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A time axis label: the clock within the first day, then days (`1d`, `2d 06:00`), so a
/// week reads as days rather than `168:00:00`.
fn tick(t: u64) -> String {
    let (d, rest) = (t / 86_400, t % 86_400);
    match (d, rest) {
        (0, _) => clock(t),
        (_, 0) => format!("{d}d"),
        _ => format!("{d}d {:02}:{:02}", rest / 3600, rest / 60 % 60),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round_and_times_readable() {
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(11.0), 20.0);
        assert_eq!(nice(430.0), 500.0);
        assert_eq!(nice(1.0), 1.0);
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(3725), "1:02:05");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    /// Issue 15: ticks at round times (not 16:15, 32:30 for a 65-minute run).
    #[test]
    fn time_ticks_are_round() {
        let ticks = |seconds: u64| -> Vec<String> {
            let step = time_step(seconds);
            (0..=seconds).step_by(step as usize).map(clock).collect()
        };
        assert_eq!(
            ticks(3900),
            [
                "0:00", "10:00", "20:00", "30:00", "40:00", "50:00", "1:00:00"
            ]
        );
        assert_eq!(
            ticks(60),
            ["0:00", "0:10", "0:20", "0:30", "0:40", "0:50", "1:00"]
        );
        assert_eq!(ticks(1200), ["0:00", "5:00", "10:00", "15:00", "20:00"]);
        assert_eq!(time_step(7), 1);
        assert_eq!(time_step(86_400), 3 * 3600);
        assert_eq!(time_step(7 * 86_400), 86_400);
        let week: Vec<String> = (0..=7 * 86_400).step_by(86_400).map(tick).collect();
        assert_eq!(week, ["0:00", "1d", "2d", "3d", "4d", "5d", "6d", "7d"]);
        let two_days: Vec<String> = (0..=2 * 86_400)
            .step_by(time_step(2 * 86_400) as usize)
            .map(tick)
            .collect();
        assert_eq!(
            two_days,
            [
                "0:00", "6:00:00", "12:00:00", "18:00:00", "1d", "1d 06:00", "1d 12:00",
                "1d 18:00", "2d"
            ]
        );
        for seconds in [1, 9, 61, 599, 3601, 86_399, 604_800, 10_000_000] {
            let n = seconds / time_step(seconds);
            assert!((1..=8).contains(&n), "{seconds}: {n} ticks");
        }
    }

    /// Issue 15: a long `--compare` label is never cut off: it moves to its own row, and one
    /// longer than a row is shortened in the middle, keeping its file name.
    #[test]
    fn the_legend_fits_whatever_the_labels() {
        let short = legend(["built-in defaults", "eager.yaml"].into_iter());
        assert_eq!(short.iter().map(|e| e.row).collect::<Vec<_>>(), [0, 0]);
        let long = "/home/someone/work/platform/configs/staging/eu-west-1/orders-fast-poll.yaml";
        let two = legend(["built-in defaults", long].into_iter());
        assert_eq!(two[1].label, long, "it fits on a row of its own");
        let huge = format!("/{}/orders-fast-poll.yaml", "deep/".repeat(40));
        for entries in [two, legend(["kedactl.yaml", &huge].into_iter())] {
            for e in &entries {
                let end = e.x + 30.0 + CHAR_WIDTH * e.label.chars().count() as f64;
                assert!(end <= W - RIGHT, "{e:?} ends at {end}");
            }
        }
        let cut = &legend([huge.as_str()].into_iter())[0].label;
        assert!(
            cut.contains('…') && cut.ends_with("/orders-fast-poll.yaml"),
            "{cut}"
        );
        assert_eq!(fit("abc", 100.0, 7.0), "abc");
    }
}
