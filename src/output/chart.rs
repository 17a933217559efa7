//! An SVG chart of a simulation: queue depth (left axis, filled) and replicas (right axis,
//! steps) over time, with an optional second run drawn dashed for comparison.

use crate::scaling::simulate::Run;
use std::fmt::Write;

const W: f64 = 960.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 60.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 50.0;
/// At most this many points per series: one per pixel column is all a reader can see.
const MAX_POINTS: usize = 900;

/// (label, run) pairs: the first solid, the second dashed.
pub fn svg(title: &str, runs: &[(&str, &Run)]) -> String {
    let seconds = runs
        .iter()
        .map(|(_, r)| r.timeline.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let depth_max = nice(
        runs.iter()
            .flat_map(|(_, r)| r.timeline.iter().map(|k| k.visible + k.in_flight))
            .max()
            .unwrap_or(0)
            .max(1) as f64,
    )
    .max(4.0);
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
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |t: f64| LEFT + pw * t / seconds as f64;
    let y_depth = |v: f64| TOP + ph * (1.0 - v / depth_max);
    let y_rep = |v: f64| TOP + ph * (1.0 - v / replicas_max);

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{}</text>
"#,
        escape(title)
    );
    // Grid and axes.
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let gy = TOP + ph * (1.0 - f);
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
            fmt_num(depth_max * f)
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#d9480f">{}</text>"##,
            W - RIGHT + 8.0,
            gy + 4.0,
            fmt_num(replicas_max * f)
        );
        let t = seconds as f64 * f;
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            x(t),
            H - BOTTOM + 18.0,
            clock(t as u64)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="14" y="{:.1}" fill="#1f6fb2" transform="rotate(-90 14 {:.1})" text-anchor="middle">messages in queue (visible + in flight)</text>"##,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" fill="#d9480f" transform="rotate(90 {:.1} {:.1})" text-anchor="middle">replicas</text>"##,
        W - 16.0,
        TOP + ph / 2.0,
        W - 16.0,
        TOP + ph / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">time</text>"##,
        LEFT + pw / 2.0,
        H - 12.0
    );

    for (i, (label, run)) in runs.iter().enumerate() {
        let dash = if i == 0 {
            ""
        } else {
            r#" stroke-dasharray="6 4""#
        };
        let step = run.timeline.len().div_ceil(MAX_POINTS).max(1);
        let buckets: Vec<(f64, u64, u32)> = run
            .timeline
            .chunks(step)
            .map(|c| {
                let depth = c.iter().map(|k| k.visible + k.in_flight).max().unwrap_or(0);
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
                x(*t),
                y_depth(*d as f64)
            );
            // Replicas change in steps: horizontal, then vertical.
            if j == 0 {
                let _ = write!(reps, "M{:.1},{:.1} ", x(*t), y_rep(f64::from(*r)));
            } else {
                let _ = write!(reps, "H{:.1} V{:.1} ", x(*t), y_rep(f64::from(*r)));
            }
        }
        let end = x(run.timeline.len() as f64);
        if i == 0 {
            let _ = writeln!(
                s,
                r##"<path d="{depth}L{end:.1},{:.1} L{LEFT},{:.1} Z" fill="#1f6fb2" fill-opacity="0.18" stroke="none"/>"##,
                y_depth(0.0),
                y_depth(0.0)
            );
        }
        let _ = writeln!(
            s,
            r##"<path d="{depth}" fill="none" stroke="#1f6fb2" stroke-width="1.5"{dash}/>"##
        );
        let _ = writeln!(
            s,
            r##"<path d="{reps}H{end:.1}" fill="none" stroke="#d9480f" stroke-width="2"{dash}/>"##
        );
        // Legend.
        let ly = 38.0;
        let lx = W - RIGHT - 330.0 + 170.0 * i as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="#555" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"##,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0,
            escape(label)
        );
    }
    s.push_str("</svg>\n");
    s
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
}
