use crate::cloud::{Aws, CallError};
use crate::ctx::Ctx;
use crate::error::{INTERRUPTED, SilentExit};
use crate::output;
use crate::scaling::{Decision, HPA_SYNC_SECONDS, Params, QueueDepth, State, hpa_sync, keda_poll};
use aws_sdk_sqs::types::QueueAttributeName as Attr;
use std::time::{Duration, Instant};

/// Show what KEDA and the HPA would decide for the app's queue, live (no cluster needed)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl scale --dry-run --once --current 2 -o json   # one decision: metric, target, next, reason
  kedactl scale --dry-run                              # follow the queue; Ctrl-C to stop
Setting the Deployment's replicas through /scale needs cluster access, which comes with the
cluster support; until then --dry-run is required.")]
pub struct Args {
    /// Only print decisions (required until kedactl reaches the cluster)
    #[arg(long, required = true)]
    pub dry_run: bool,
    /// Make one decision and exit
    #[arg(long)]
    pub once: bool,
    /// Replicas the Deployment has now
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub current: u32,
}

/// The attributes KEDA's aws-sqs-queue scaler asks for, and their sum as it computes it.
async fn read(aws: &Aws, url: &str, p: &Params) -> Result<QueueDepth, CallError> {
    let mut names = vec![Attr::ApproximateNumberOfMessages];
    if p.scale_on_in_flight {
        names.push(Attr::ApproximateNumberOfMessagesNotVisible);
    }
    if p.scale_on_delayed {
        names.push(Attr::ApproximateNumberOfMessagesDelayed);
    }
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .set_attribute_names(Some(names))
        .send()
        .await
        .map_err(|e| CallError::new("GetQueueAttributes", url, &e))?;
    let get = |a: Attr| {
        out.attributes()
            .and_then(|m| m.get(&a))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(QueueDepth {
        visible: get(Attr::ApproximateNumberOfMessages),
        in_flight: get(Attr::ApproximateNumberOfMessagesNotVisible),
        delayed: get(Attr::ApproximateNumberOfMessagesDelayed),
    })
}

fn print(ctx: &Ctx, t: u64, who: &str, d: &Decision) -> anyhow::Result<()> {
    if ctx.json() {
        let line = serde_json::to_string(d)?;
        output::text(&line)
    } else {
        output::text(&format!(
            "{:>6}s {who:<4} metric {:>5}  replicas {} → {}  (target {})  {}",
            t, d.metric, d.current, d.next, d.target, d.reason
        ))
    }
}

/// Read and decide on KEDA's and the HPA's schedules until interrupted.
async fn follow(
    ctx: &Ctx,
    aws: &Aws,
    url: &str,
    p: &Params,
    state: &mut State,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut t = 0u64;
    loop {
        let (poll, sync) = (
            t.is_multiple_of(p.polling_interval),
            t.is_multiple_of(HPA_SYNC_SECONDS),
        );
        if poll || sync {
            // One GetQueueAttributes per reading, as the scaler does.
            let m = read(aws, url, p).await.map(|q| p.metric(q));
            if poll {
                let d = keda_poll(p, state, t, m.as_ref().map(|v| *v).map_err(|_| ()));
                print(ctx, t, "keda", &d)?;
            }
            match m {
                Ok(m) if sync => print(ctx, t, "hpa", &hpa_sync(p, state, t, m))?,
                Err(e) => ctx.note(format!("{t:>6}s read failed: {e}")),
                Ok(_) => {}
            }
        }
        t += 1;
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            start + Duration::from_secs(t),
        ))
        .await;
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let (spec, source) = ctx.spec_offline()?;
    let app = super::app_queue::pick(&spec, ctx.global.overrides.app.app.as_deref(), &source)?;
    let p = Params::from_spec(&app.scaling);
    let (aws, url) = super::app_queue::connect(ctx, &spec, app).await?;

    let mut state = State::new(args.current.min(p.max), 0);
    if args.once {
        // KEDA's step, then the HPA's, on the same reading: what happens within one poll.
        let m = p.metric(read(&aws, &url, &p).await?);
        let keda = keda_poll(&p, &mut state, 0, Ok(m));
        let hpa = hpa_sync(&p, &mut state, 0, m);
        let d = Decision {
            current: args.current,
            reason: format!("KEDA: {}; HPA: {}", keda.reason, hpa.reason),
            ..hpa
        };
        return if ctx.json() {
            output::json(&d)
        } else {
            print(ctx, 0, "", &d)
        };
    }
    tokio::select! {
        r = follow(ctx, &aws, &url, &p, &mut state) => r,
        _ = tokio::signal::ctrl_c() => {
            ctx.note("stopped; nothing was changed (dry run)");
            Err(SilentExit(INTERRUPTED).into())
        }
    }
}
