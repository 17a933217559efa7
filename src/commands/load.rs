use crate::cloud::{Aws, CallError};
use crate::ctx::Ctx;
use crate::error::{FAILED, INTERRUPTED, SilentExit, UsageError};
use crate::limits;
use crate::output;
use crate::spec::{Problem, Problems};
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Send test messages to the app's queue: a count, or a rate for a duration
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl load --count 500                       # as fast as batching allows
  kedactl load --rate 5 --duration 10m           # like the seed's sqs_send_msg.py, but steady
  kedactl load --count 100 --body '{\"order\": {i}}'

Placeholders in --body: {i} the message number (0, 1, ...), {n} a work size like the seed's (1-38, sometimes 40), from --seed.")]
pub struct Args {
    /// Send this many messages, then stop (at most 10000000)
    #[arg(long, conflicts_with_all = ["rate", "duration"], required_unless_present = "rate", value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub count: Option<i128>,
    /// Messages per second, at most 3000 (with --duration)
    #[arg(long, requires = "duration", value_name = "MSG/S", value_parser = limits::parse_number, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// How long to send at --rate: 90s, 10m, 1h (at most 1d)
    #[arg(long, value_parser = super::simulate::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub duration: Option<u64>,
    /// Message body
    #[arg(long, default_value = r#"{"num": "{n}"}"#)]
    pub body: String,
    /// Seed of {n}
    #[arg(long, default_value_t = 1, value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub seed: i128,
    /// Batches (of up to 10 messages) in flight at once, 1 to 256
    #[arg(long, default_value_t = 8, value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub concurrency: i128,
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

/// `load -o json`: what was sent.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Report<'a> {
    pub queue: &'a str,
    pub sent: u64,
    pub failed: u64,
    /// SendMessageBatch calls.
    pub batches: u64,
    pub seconds: f64,
    /// Messages per second.
    pub rate: f64,
    /// Stopped by Ctrl-C before every message was sent.
    pub interrupted: bool,
}

pub const KIND: &str = "Load";

struct Totals {
    sent: u64,
    failed: u64,
    batches: u64,
    first_error: Option<String>,
}

async fn send(aws: &Aws, url: &str, job: &Job, from: u64, n: u64) -> (u64, u64, Option<String>) {
    let entries: Vec<_> = (from..from + n)
        .map(|i| {
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body(&job.body, job.seed, i))
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

/// What to send, the flags checked.
struct Job {
    /// Messages per second, or None: all at once.
    rate: Option<f64>,
    total: u64,
    /// Seconds the run lasts (0 with --count).
    seconds: u64,
    body: String,
    seed: u64,
    concurrency: usize,
}

impl Job {
    /// Each second's group as (second, first message, messages), computed as it is reached so
    /// memory does not grow with the count or the duration: `floor(rate × s)` messages are
    /// due by second `s`, so fractions carry without drift.
    fn groups(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        let due = |s: u64| match self.rate {
            Some(rate) => ((rate * s as f64).floor() as u64).min(self.total),
            // All at once: everything is due by the end of the first "second".
            None if s == 0 => 0,
            None => self.total,
        };
        (0..self.seconds.max(1)).map(move |s| (s, due(s), due(s + 1) - due(s)))
    }
}

/// The flags within their limits (see `limits`), or every problem at once; before any AWS call.
fn check(args: Args) -> anyhow::Result<Job> {
    let mut found = Vec::new();
    let p = &mut found;
    let count = args.count.map(|c| {
        limits::collect(
            p,
            limits::whole_within("--count", c, 1, limits::MAX_LOAD_COUNT),
        )
    });
    let rate = args
        .rate
        .map(|r| limits::collect(p, limits::LOAD_RATE.check(r)));
    let seconds = args.duration.map(|d| {
        limits::collect(
            p,
            limits::seconds_within("--duration", d, 1, limits::MAX_LOAD_SECONDS),
        )
    });
    let seed = limits::collect(p, limits::whole_within("--seed", args.seed, 0, u64::MAX));
    let concurrency = limits::collect(
        p,
        limits::whole_within(
            "--concurrency",
            args.concurrency,
            1,
            limits::MAX_LOAD_CONCURRENCY,
        ),
    );
    let total = match (count, rate, seconds) {
        (Some(Some(n)), _, _) => Some(n),
        (None, Some(Some(r)), Some(Some(d))) => {
            let total = (r * d as f64).floor() as u64;
            if total > limits::MAX_LOAD_COUNT {
                found.push(Problem::new(
                    "--rate",
                    format!(
                        "{} msg/s for {} is {total} messages, more than the limit of {} per run",
                        limits::number(r),
                        limits::duration(d),
                        limits::MAX_LOAD_COUNT
                    ),
                    "lower --rate or --duration, or split the load into several runs",
                ));
            }
            Some(total)
        }
        _ => None,
    };
    match (total, seed, concurrency) {
        (Some(total), Some(seed), Some(concurrency)) if found.is_empty() => Ok(Job {
            rate: rate.flatten(),
            total,
            seconds: seconds.flatten().unwrap_or(0),
            body: args.body,
            seed,
            concurrency: concurrency as usize,
        }),
        _ => Err(Problems {
            origin: "flags".into(),
            problems: found,
        }
        .into()),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let job = check(args)?;
    let (spec, source) = ctx.spec_offline()?;
    let app = super::app_queue::pick(&spec, ctx.global.overrides.app.app.as_deref(), &source)?;
    if app.trigger != crate::triggers::Kind::Sqs {
        return Err(UsageError {
            message: format!(
                "app {} scales on {} (trigger: {}): `load` sends SQS messages, which it does not read",
                app.deployment,
                app.trigger.imp().source(app),
                app.trigger.as_str()
            ),
            fix: "pick an SQS app with --app, or drive the trigger's own source (for prometheus: load the service whose metric the query reads)".into(),
        }
        .into());
    }
    let queue = &app.queue.name;
    let (aws, url) = super::app_queue::connect(ctx, &spec, app).await?;

    let total = job.total;
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
    let lines = !ctx.quiet && !ctx.json() && !ctx.stderr_is_tty;
    let work = async {
        for (second, from, n) in job.groups() {
            if job.rate.is_some() {
                tokio::time::sleep_until(tokio::time::Instant::from_std(
                    start + Duration::from_secs(second),
                ))
                .await;
            }
            let mut results =
                stream::iter(batches(from, n).map(|(from, n)| send(&aws, &url, &job, from, n)))
                    .buffer_unordered(job.concurrency);
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
        if job.rate.is_some() {
            tokio::time::sleep_until(tokio::time::Instant::from_std(
                start + Duration::from_secs(job.seconds),
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
        output::document(
            KIND,
            &Report {
                queue,
                sent: totals.sent,
                failed: totals.failed,
                batches: totals.batches,
                seconds: (seconds * 100.0).round() / 100.0,
                rate: (rate * 10.0).round() / 10.0,
                interrupted,
            },
        )?;
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

    fn job(rate: Option<f64>, total: u64, seconds: u64) -> Job {
        Job {
            rate,
            total,
            seconds,
            body: String::new(),
            seed: 1,
            concurrency: 8,
        }
    }

    #[test]
    fn groups_are_computed_per_second() {
        let g: Vec<_> = job(Some(2.5), 10, 4).groups().collect();
        assert_eq!(g, [(0, 0, 2), (1, 2, 3), (2, 5, 2), (3, 7, 3)]);
        assert_eq!(job(None, 25, 0).groups().collect::<Vec<_>>(), [(0, 0, 25)]);
        // The largest run is planned lazily: nothing is allocated per second or per batch.
        let big = job(Some(3000.0), 259_200_000, 86_400);
        assert_eq!(big.groups().map(|(_, _, n)| n).sum::<u64>(), 259_200_000);
    }

    fn args(extra: &[&str]) -> Args {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        T::try_parse_from([&["t"], extra].concat()).unwrap().a
    }

    fn problems(extra: &[&str]) -> Vec<String> {
        let err = check(args(extra)).err().expect("refused");
        let p = err.downcast::<Problems>().expect("Problems");
        p.problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn flags_beyond_their_limits_are_problems() {
        assert_eq!(check(args(&["--count", "25"])).unwrap().total, 25);
        let j = check(args(&["--rate", "5", "--duration", "10m"])).unwrap();
        assert_eq!((j.total, j.seconds), (3000, 600));
        assert_eq!(
            problems(&["--count", "18446744073709551615"]),
            ["--count: 18446744073709551615 is not a whole number from 1 to 10000000"]
        );
        assert_eq!(
            problems(&["--count", "-1", "--seed", "-2", "--concurrency", "0"]),
            [
                "--count: -1 is not a whole number from 1 to 10000000",
                "--seed: -2 is not a whole number from 0 to 18446744073709551615",
                "--concurrency: 0 is not a whole number from 1 to 256",
            ]
        );
        assert_eq!(
            problems(&["--rate", "1e30", "--duration", "1h"]),
            ["--rate: 1e30 is above the limit of 3000 msg/s"]
        );
        assert_eq!(
            problems(&["--rate", "1e9", "--duration", "25h"]),
            [
                "--rate: 1e9 is above the limit of 3000 msg/s",
                "--duration: 1d1h is longer than the limit of 1d",
            ]
        );
        assert_eq!(
            problems(&["--rate", "3000", "--duration", "1h"]),
            [
                "--rate: 3000 msg/s for 1h is 10800000 messages, more than the limit of 10000000 per run"
            ]
        );
    }
}
