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
    #[arg(long, value_parser = limits::parse_duration, value_name = "DURATION", allow_negative_numbers = true)]
    pub duration: Option<u64>,
    /// Message body
    #[arg(long, default_value = r#"{"num": "{n}"}"#)]
    pub body: String,
    /// Seed of {n}
    #[arg(long, default_value_t = 1, value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub seed: i128,
    /// Batches (of up to 10 messages, 1 MiB) in flight at once, 1 to 256
    #[arg(long, default_value_t = 8, value_parser = limits::parse_whole, allow_negative_numbers = true)]
    pub concurrency: i128,
    /// MessageGroupId of every message, sent in order one batch at a time (FIFO queues; default:
    /// one group per concurrent sender, so the groups are received in parallel)
    #[arg(long, value_name = "ID")]
    pub group_id: Option<String>,
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

/// A rate as people read it: `4.9/s`, `250/s` (one decimal below 100).
fn per_second(rate: f64) -> String {
    match rate < 100.0 {
        true => format!("{rate:.1}/s"),
        false => format!("{rate:.0}/s"),
    }
}

struct Totals {
    sent: u64,
    failed: u64,
    batches: u64,
    first_error: Option<String>,
}

/// What a FIFO queue needs on every message.
struct Fifo {
    /// `--group-id`, or None: one group per concurrent sender.
    group: Option<String>,
    /// Without content-based deduplication each message needs a MessageDeduplicationId; this
    /// run's prefix of it (a rerun within SQS's 5-minute window must not be dropped).
    dedup: Option<String>,
}

/// The MessageGroupId of batch `batch`: `--group-id`, else sender `batch % concurrency`'s.
fn group_of(fifo: &Fifo, batch: u64, concurrency: usize) -> String {
    match &fifo.group {
        Some(g) => g.clone(),
        None => format!("kedactl-load-{}", batch % concurrency as u64),
    }
}

/// Send messages `from..from + n` as batch number `batch` of the run.
async fn send(
    aws: &Aws,
    url: &str,
    job: &Job,
    batch: u64,
    (from, n): (u64, u64),
) -> (u64, u64, Option<String>) {
    let entries: Vec<_> = (from..from + n)
        .map(|i| {
            let mut e = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body(&job.body, job.seed, i));
            if let Some(fifo) = &job.fifo {
                e = e.message_group_id(group_of(fifo, batch, job.concurrency));
                if let Some(run) = &fifo.dedup {
                    e = e.message_deduplication_id(format!("{run}-{i}"));
                }
            }
            e.build().expect("id and body are set")
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

/// Batches for `count` messages starting at `from`: at most 10 messages, and at most 1 MiB of
/// bodies together (SQS refuses a larger batch whole); `size(i)` is message `i`'s bytes, each
/// already checked to fit alone.
fn batches(from: u64, count: u64, size: impl Fn(u64) -> usize) -> impl Iterator<Item = (u64, u64)> {
    let end = from + count;
    let mut next = from;
    std::iter::from_fn(move || {
        let start = next;
        let mut bytes = 0;
        while next < end && next - start < limits::SQS_BATCH_ENTRIES {
            let b = size(next);
            if next > start && bytes + b > limits::SQS_BATCH_BYTES {
                break;
            }
            bytes += b;
            next += 1;
        }
        (next > start).then_some((start, next - start))
    })
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
    /// Set for a FIFO queue (from its attributes).
    fifo: Option<Fifo>,
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
    if let Err(problem) = body_chars(&args.body) {
        found.push(problem);
    }
    if let Some(g) = &args.group_id
        && let Err(problem) = sqs_id("--group-id", g)
    {
        found.push(problem);
    }
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
            fifo: args.group_id.map(|g| Fifo {
                group: Some(g),
                dedup: None,
            }),
        }),
        _ => Err(Problems {
            origin: "flags".into(),
            problems: found,
        }
        .into()),
    }
}

/// A body SQS would refuse for a character outside XML's, named with its position (in
/// characters, from 1), or an empty one.
fn body_chars(template: &str) -> Result<(), Problem> {
    if template.is_empty() {
        return Err(Problem::new(
            "--body",
            "the message body is empty: SQS requires at least one character",
            "give a body, e.g. --body '{\"order\": {i}}'",
        ));
    }
    match template
        .chars()
        .enumerate()
        .find(|(_, c)| !limits::sqs_body_char(*c))
    {
        None => Ok(()),
        Some((at, c)) => Err(Problem::new(
            "--body",
            format!(
                "character {} is U+{:04X}, which SQS refuses in a message body (it accepts tab, \
                 line feed, carriage return and U+0020 to U+D7FF, U+E000 to U+FFFD, U+10000 to \
                 U+10FFFF)",
                at + 1,
                c as u32
            ),
            "remove the control character, or encode binary data (base64) in the body",
        )),
    }
}

/// A MessageGroupId (or deduplication id) as SQS requires it: 1 to 128 letters, digits and
/// ASCII punctuation.
fn sqs_id(flag: &str, id: &str) -> Result<(), Problem> {
    let max = limits::SQS_ID_MAX;
    let message = match id
        .chars()
        .enumerate()
        .find(|(_, c)| !limits::sqs_id_char(*c))
    {
        _ if id.is_empty() => "is empty".to_string(),
        Some((at, c)) => format!("has {c:?} (U+{:04X}) at character {}", c as u32, at + 1),
        None if id.chars().count() > max => format!("is {} characters long", id.chars().count()),
        None => return Ok(()),
    };
    Err(Problem::new(
        flag,
        format!("{id:?} {message}: SQS takes 1 to {max} letters, digits and ASCII punctuation"),
        format!("give 1 to {max} letters, digits or punctuation (no spaces), e.g. orders-1"),
    ))
}

/// The longest body the run sends: `{i}` longest at the last message, `{n}` at most 40.
fn longest_body(job: &Job) -> usize {
    let last = job.total.saturating_sub(1);
    job.body
        .replace("{i}", &last.to_string())
        .replace("{n}", "40")
        .len()
}

/// The queue's attributes `load` obeys: FIFO ids, and the largest message it takes.
async fn queue_rules(aws: &Aws, url: &str, queue: &str, job: &mut Job) -> anyhow::Result<()> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::FifoQueue)
        .attribute_names(A::ContentBasedDeduplication)
        .attribute_names(A::MaximumMessageSize)
        .send()
        .await
        .map_err(|e| CallError::new("GetQueueAttributes", format!("SQS queue {queue}"), &e))?;
    let attrs = out.attributes();
    let get = |a: A| attrs.and_then(|m| m.get(&a)).map(String::as_str);
    let max = get(A::MaximumMessageSize)
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(limits::SQS_BATCH_BYTES);
    let longest = longest_body(job);
    if longest > max {
        return Err(Problems {
            origin: "flags".into(),
            problems: vec![Problem::new(
                "--body",
                format!(
                    "a message would be {longest} bytes, over SQS queue {queue}'s \
                     MaximumMessageSize of {max}"
                ),
                format!(
                    "send a body of at most {max} bytes (or raise the queue's \
                     MaximumMessageSize, up to {})",
                    limits::SQS_BATCH_BYTES
                ),
            )],
        }
        .into());
    }
    if get(A::FifoQueue) == Some("true") {
        let group = job.fifo.take().and_then(|f| f.group);
        // One group is one ordered stream: batches in flight at once could land out of order.
        if group.is_some() {
            job.concurrency = 1;
        }
        // A nonce per run: SQS drops a repeated id within 5 minutes, and a rerun is new load.
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let dedup = (get(A::ContentBasedDeduplication) != Some("true")).then(|| format!("{run}"));
        job.fifo = Some(Fifo { group, dedup });
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut job = check(args)?;
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
    queue_rules(&aws, &url, queue, &mut job).await?;
    let job = job;

    let total = job.total;
    let bar = if ctx.quiet || ctx.json() || !ctx.stderr_is_tty {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
    } else {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} messages  {rate}  {elapsed} (eta {eta})",
            )
            .expect("valid template")
            // indicatif's {per_sec} shows four decimals: one is what a rate needs.
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", per_second(s.per_sec()));
                },
            ),
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
        let mut batch = 0u64;
        for (second, from, n) in job.groups() {
            if job.rate.is_some() {
                tokio::time::sleep_until(tokio::time::Instant::from_std(
                    start + Duration::from_secs(second),
                ))
                .await;
            }
            let size = |i| body(&job.body, job.seed, i).len();
            let sends = batches(from, n, size).map(|b| {
                batch += 1;
                send(&aws, &url, &job, batch - 1, b)
            });
            let mut results = stream::iter(sends).buffer_unordered(job.concurrency);
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
        // A rate run says how close it came to the rate asked.
        let asked = job
            .rate
            .map(|r| format!(" of the {} asked", per_second(r)))
            .unwrap_or_default();
        output::text(&format!(
            "{}sent {} message{} to {queue} in {seconds:.1} s ({}{asked}, {} batches){}",
            if interrupted { "interrupted: " } else { "" },
            totals.sent,
            if totals.sent == 1 { "" } else { "s" },
            per_second(rate),
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
    fn rates_read_with_one_decimal_below_a_hundred() {
        assert_eq!(per_second(4.99987), "5.0/s");
        assert_eq!(per_second(0.25), "0.2/s");
        assert_eq!(per_second(99.94), "99.9/s");
        assert_eq!(per_second(250.4), "250/s");
    }

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
    fn batches_of_ten_and_at_most_one_mib() {
        let b: Vec<(u64, u64)> = batches(100, 25, |_| 10).collect();
        assert_eq!(b, [(100, 10), (110, 10), (120, 5)]);
        assert_eq!(batches(0, 0, |_| 10).count(), 0);
        // 300 KiB bodies: three to a batch (900 KiB), a fourth would pass 1 MiB.
        let b: Vec<(u64, u64)> = batches(0, 10, |_| 300 << 10).collect();
        assert_eq!(b, [(0, 3), (3, 3), (6, 3), (9, 1)]);
        // Exactly 1 MiB together fits; a message of 1 MiB goes alone.
        let b: Vec<(u64, u64)> =
            batches(0, 4, |i| if i < 2 { 512 << 10 } else { 1 << 20 }).collect();
        assert_eq!(b, [(0, 2), (2, 1), (3, 1)]);
        for (from, n) in batches(0, 1000, |i| 1000 * (i as usize % 300)) {
            let bytes: usize = (from..from + n).map(|i| 1000 * (i as usize % 300)).sum();
            assert!(n <= 10 && bytes <= limits::SQS_BATCH_BYTES);
        }
    }

    #[test]
    fn bodies_sqs_refuses_are_named_by_character_and_position() {
        assert!(body_chars("{\"num\": \"{n}\"}\t\r\n é 😀").is_ok());
        let p = body_chars("ab\u{7}c").unwrap_err();
        assert_eq!(p.field, "--body");
        assert!(
            p.message.starts_with("character 3 is U+0007,"),
            "{}",
            p.message
        );
        let p = body_chars("\u{1}").unwrap_err();
        assert!(
            p.message.starts_with("character 1 is U+0001,"),
            "{}",
            p.message
        );
        assert!(
            body_chars("x\u{FFFE}")
                .unwrap_err()
                .message
                .contains("U+FFFE")
        );
        assert!(body_chars("").unwrap_err().message.contains("empty"));
        assert!(
            problems(&["--count", "1", "--body", "a\u{7}"])[0]
                .starts_with("--body: character 2 is U+0007")
        );
    }

    #[test]
    fn group_ids_are_what_sqs_takes() {
        assert!(sqs_id("--group-id", "orders-1!~").is_ok());
        assert!(sqs_id("--group-id", &"g".repeat(128)).is_ok());
        let long = sqs_id("--group-id", &"g".repeat(129)).unwrap_err();
        assert!(long.message.contains("129 characters"), "{}", long.message);
        let space = sqs_id("--group-id", "a b").unwrap_err();
        assert!(
            space.message.contains("' ' (U+0020) at character 2"),
            "{}",
            space.message
        );
        assert!(
            sqs_id("--group-id", "")
                .unwrap_err()
                .message
                .contains("is empty")
        );
        // One group per sender by default; --group-id is every message's.
        let f = Fifo {
            group: None,
            dedup: None,
        };
        assert_eq!(group_of(&f, 9, 8), "kedactl-load-1");
        let f = Fifo {
            group: Some("g".into()),
            dedup: None,
        };
        assert_eq!(group_of(&f, 9, 8), "g");
    }

    #[test]
    fn the_longest_body_is_the_last_message_with_the_largest_work_size() {
        let mut j = job(None, 1000, 0);
        j.body = "{i}:{n}".into();
        assert_eq!(longest_body(&j), "999:40".len());
        assert!((0..1000).all(|i| body(&j.body, 1, i).len() <= longest_body(&j)));
    }

    fn job(rate: Option<f64>, total: u64, seconds: u64) -> Job {
        Job {
            rate,
            total,
            seconds,
            body: String::new(),
            seed: 1,
            concurrency: 8,
            fifo: None,
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
