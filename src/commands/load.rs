use crate::cloud::{Aws, CallError};
use crate::ctx::Ctx;
use crate::error::{FAILED, INTERRUPTED, SilentExit};
use crate::output::{self, API_VERSION};
use crate::spec::{Problem, Problems};
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::time::{Duration, Instant};

/// Send test messages to the app's queue: a count, or a rate for a duration
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl load --count 500                       # as fast as batching allows
  kedactl load --rate 5 --duration 10m           # like the seed's sqs_send_msg.py, but steady
  kedactl load --count 100 --body '{\"order\": {i}}'
Placeholders in --body: {i} the message number (0, 1, ...), {n} a work size like the seed's
(1-38, sometimes 40), from --seed.")]
pub struct Args {
    /// Send this many messages, then stop
    #[arg(long, conflicts_with_all = ["rate", "duration"], required_unless_present = "rate")]
    pub count: Option<u64>,
    /// Messages per second (with --duration)
    #[arg(long, requires = "duration", value_name = "MSG/S")]
    pub rate: Option<f64>,
    /// How long to send at --rate: 90s, 10m, 1h
    #[arg(long, value_parser = super::simulate::parse_duration, value_name = "DURATION")]
    pub duration: Option<u64>,
    /// Message body
    #[arg(long, default_value = r#"{"num": "{n}"}"#)]
    pub body: String,
    /// Seed of {n}
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Batches (of up to 10 messages) in flight at once
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
}

/// The seed's work size: 1..=38, or 40 one time in 20.
fn work_size(seed: u64, i: u64) -> u64 {
    let mut x = (seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(0x2545_F491_4F6C_DD1D);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    if x.is_multiple_of(20) {
        40
    } else {
        1 + (x >> 8) % 38
    }
}

pub fn body(template: &str, seed: u64, i: u64) -> String {
    template
        .replace("{i}", &i.to_string())
        .replace("{n}", &work_size(seed, i).to_string())
}

struct Totals {
    sent: u64,
    failed: u64,
    batches: u64,
    first_error: Option<String>,
}

async fn send(aws: &Aws, url: &str, args: &Args, from: u64, n: u64) -> (u64, u64, Option<String>) {
    let entries: Vec<_> = (from..from + n)
        .map(|i| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body(&args.body, args.seed, i))
                .build()
                .expect("id and body are set")
        })
        .collect();
    match aws
        .sqs
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await
    {
        Ok(out) => {
            let failed = out.failed().len() as u64;
            let why = out
                .failed()
                .first()
                .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or_default()));
            (n - failed, failed, why)
        }
        Err(e) => (
            0,
            n,
            Some(CallError::new("SendMessageBatch", url, &e).to_string()),
        ),
    }
}

/// Batches of up to 10 for `count` messages starting at `from`.
fn batches(from: u64, count: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..count.div_ceil(10)).map(move |b| (from + b * 10, (count - b * 10).min(10)))
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let (spec, source) = ctx.spec_offline()?;
    let app = super::app_queue::pick(&spec, ctx.global.overrides.app.app.as_deref(), &source)?;
    if let Some(rate) = args.rate
        && !(rate > 0.0 && rate.is_finite())
    {
        return Err(Problems {
            origin: "flags".into(),
            problems: vec![Problem::new(
                "--rate",
                format!("{rate} is not a positive rate"),
                "use messages per second, e.g. 5",
            )],
        }
        .into());
    }
    let queue = &app.queue.name;
    let (aws, url) = super::app_queue::connect(ctx, &spec, app).await?;

    let total = args.count.unwrap_or_else(|| {
        (args.rate.unwrap_or(0.0) * args.duration.unwrap_or(0) as f64).round() as u64
    });
    let bar = if ctx.quiet || ctx.json() || !ctx.stderr_is_tty {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
    } else {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} messages  {per_sec}  {elapsed} (eta {eta})",
            )
            .expect("valid template"),
        );
        b
    };
    let start = Instant::now();
    let mut totals = Totals {
        sent: 0,
        failed: 0,
        batches: 0,
        first_error: None,
    };
    let plan: Vec<(u64, Vec<(u64, u64)>)> = match (args.count, args.rate) {
        // Everything at once, as fast as the concurrency allows.
        (Some(n), _) => vec![(0, batches(0, n).collect())],
        // One group per second; fractions carry to the next second.
        (None, Some(rate)) => {
            let (mut carry, mut next, mut out) = (0.0, 0u64, Vec::new());
            for second in 0..args.duration.unwrap_or(0) {
                carry += rate;
                let n = carry.floor() as u64;
                carry -= n as f64;
                out.push((second, batches(next, n).collect()));
                next += n;
            }
            out
        }
        (None, None) => unreachable!("clap requires --count or --rate"),
    };
    let lines = !ctx.quiet && !ctx.json() && !ctx.stderr_is_tty;
    let work = async {
        for (second, group) in plan {
            if args.rate.is_some() {
                tokio::time::sleep_until(tokio::time::Instant::from_std(
                    start + Duration::from_secs(second),
                ))
                .await;
            }
            let mut results = stream::iter(
                group
                    .into_iter()
                    .map(|(from, n)| send(&aws, &url, &args, from, n)),
            )
            .buffer_unordered(args.concurrency as usize);
            while let Some((ok, failed, why)) = results.next().await {
                totals.sent += ok;
                totals.failed += failed;
                totals.batches += 1;
                if totals.first_error.is_none() {
                    totals.first_error = why;
                }
                bar.inc(ok + failed);
            }
            if lines && second % 10 == 9 {
                eprintln!(
                    "sent {} of {total} messages in {} s",
                    totals.sent,
                    second + 1
                );
            }
        }
        // A rate run lasts its whole duration, including the last second.
        if let Some(d) = args.duration.filter(|_| args.rate.is_some()) {
            tokio::time::sleep_until(tokio::time::Instant::from_std(
                start + Duration::from_secs(d),
            ))
            .await;
        }
    };
    let interrupted = tokio::select! {
        () = work => false,
        _ = tokio::signal::ctrl_c() => true,
    };
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let rate = totals.sent as f64 / seconds.max(0.001);
    if ctx.json() {
        output::json(&json!({
            "apiVersion": API_VERSION, "kind": "Load", "queue": queue, "sent": totals.sent, "failed": totals.failed,
            "batches": totals.batches, "seconds": (seconds * 100.0).round() / 100.0, "rate": (rate * 10.0).round() / 10.0,
            "interrupted": interrupted,
        }))?;
    } else {
        output::text(&format!(
            "{}sent {} message{} to {queue} in {seconds:.1} s ({rate:.1}/s, {} batches){}",
            if interrupted { "interrupted: " } else { "" },
            totals.sent,
            if totals.sent == 1 { "" } else { "s" },
            totals.batches,
            if totals.failed > 0 {
                format!(", {} failed", totals.failed)
            } else {
                String::new()
            }
        ))?;
    }
    if interrupted {
        return Err(SilentExit(INTERRUPTED).into());
    }
    if totals.failed > 0 {
        eprintln!(
            "error: {} messages were not sent: {}",
            totals.failed,
            totals.first_error.unwrap_or_default()
        );
        return Err(SilentExit(FAILED).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_seed() {
        assert_eq!(body("{\"order\": {i}}", 1, 7), "{\"order\": 7}");
        let sizes: Vec<u64> = (0..2000).map(|i| work_size(3, i)).collect();
        assert!(sizes.iter().all(|n| (1..=38).contains(n) || *n == 40));
        let forties = sizes.iter().filter(|n| **n == 40).count();
        assert!((60..=140).contains(&forties), "about one in 20: {forties}");
        assert_eq!(body("{n}", 5, 9), body("{n}", 5, 9), "repeatable");
    }

    #[test]
    fn batches_of_ten() {
        let b: Vec<(u64, u64)> = batches(100, 25).collect();
        assert_eq!(b, [(100, 10), (110, 10), (120, 5)]);
        assert_eq!(batches(0, 0).count(), 0);
    }
}
