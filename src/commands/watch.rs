use crate::cluster::{Kube, describe, rollout};
use crate::ctx::Ctx;
use crate::error::{INTERRUPTED, SilentExit};
use crate::output::{self, watch};
use crate::scaling::Params;
use crate::spec::{App, ScalingKind};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// `watch -o json`: a line per refresh, each a document of this kind.
pub const KIND: &str = "WatchSnapshot";

/// Watch the queue, KEDA's scaler, the HPA and the pods live, refreshed every few seconds
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl watch --cluster demo                    # one screen, redrawn every 5 s; Ctrl-C to stop
  kedactl watch --cluster demo -o json --count 12 # JSON lines for a minute, then exit
  kedactl watch --no-cluster                      # the queue and KEDA's target only

On a terminal the screen is redrawn in place; otherwise each refresh is one line.")]
pub struct Args {
    /// Seconds between refreshes
    #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Stop after this many refreshes [default: until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Show the queue and KEDA's target only; do not reach the cluster
    #[arg(long)]
    pub no_cluster: bool,
}

/// The cluster part of a snapshot: the scaler, its HPA, the workload and its pods.
async fn cluster_part(
    kube: &Kube,
    app: &App,
    s: &mut watch::Snapshot,
) -> crate::cluster::Result<()> {
    let ns = app.namespace.as_str();
    let (kind, name) = match app.scaling.kind {
        ScalingKind::ScaledObject => ("ScaledObject", app.scaler_name()),
        ScalingKind::ScaledJob => ("ScaledJob", app.scaler_name()),
    };
    let hpa_name = format!("keda-hpa-{name}");
    let (scaler, hpa, deployment) = futures_util::future::try_join3(
        kube.get(kind, Some(ns), &name),
        kube.get("HorizontalPodAutoscaler", Some(ns), &hpa_name),
        kube.get("Deployment", Some(ns), &app.deployment),
    )
    .await?;
    s.scaler = Some(match &scaler {
        Some(o) => watch::scaler(describe(kind, Some(ns), &name), o),
        None => watch::Scaler {
            name: describe(kind, Some(ns), &name),
            ready: "missing".into(),
            active: "-".into(),
            fallback: "-".into(),
            problem: Some("it does not exist: run `kedactl up --only app`".into()),
        },
    });
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as u32;
    s.hpa = hpa.map(|h| watch::Hpa {
        name: hpa_name,
        current: n(&h["status"]["currentReplicas"]),
        desired: n(&h["status"]["desiredReplicas"]),
        min: n(&h["spec"]["minReplicas"]),
        max: n(&h["spec"]["maxReplicas"]),
    });
    if let Some(d) = deployment {
        let pods = match rollout::selector(&d) {
            Some(sel) => kube.list("Pod", Some(ns), Some(&sel)).await?,
            None => vec![],
        };
        let phase = |p: &str| pods.iter().filter(|x| x["status"]["phase"] == p).count() as u32;
        let (running, pending) = (phase("Running"), phase("Pending"));
        s.workload = Some(watch::Workload {
            name: describe("Deployment", Some(ns), &app.deployment),
            desired: n(&d["spec"]["replicas"]),
            ready: n(&d["status"]["readyReplicas"]),
            pods_running: running,
            pods_pending: pending,
            pods_other: pods.len() as u32 - running - pending,
        });
    }
    Ok(())
}

/// Where the watched metric comes from.
enum Source<'a> {
    /// The SQS queue's URL.
    Queue(String),
    Reader(Box<dyn crate::triggers::aws::Metric + 'a>),
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let (spec, source) = ctx.spec_offline()?;
    let app = super::app_queue::pick(&spec, ctx.global.overrides.app.app.as_deref(), &source)?;
    let p = Params::from_app(app);
    let aws = ctx.aws(spec.region.clone()).await?;
    let at = crate::render::Target::new(&aws.region, None);
    // SQS shows each count (all three, whatever the trigger counts); others their reading.
    let metric_source = match app.trigger {
        crate::triggers::Kind::Sqs => {
            Source::Queue(crate::triggers::sqs::aws::queue_url(&aws, &app.queue.name).await?)
        }
        _ => Source::Reader(app.trigger.metric(&aws, app, &at).await?),
    };
    let kube = if args.no_cluster {
        None
    } else {
        Some(super::online::cluster_client(ctx, &aws, &spec, &source).await?)
    };
    let redraw = !ctx.json() && std::io::stdout().is_terminal();
    let start = Instant::now();
    let body = async {
        let mut n = 0u64;
        loop {
            let mut s = match &metric_source {
                Source::Queue(url) => {
                    let depth = super::app_queue::depth(&aws, url, true, true).await?;
                    let metric = p.metric(depth);
                    watch::Snapshot {
                        queue: app.queue.name.clone(),
                        depth,
                        metric,
                        target: p.target(metric),
                        ..Default::default()
                    }
                }
                Source::Reader(reader) => {
                    let r = reader.read().await?;
                    watch::Snapshot {
                        queue: app.trigger.imp().source(app),
                        metric: r.value,
                        target: p.target(r.value),
                        reading: Some(r.detail),
                        ..Default::default()
                    }
                }
            };
            s.t = start.elapsed().as_secs();
            match &kube {
                Some(k) => {
                    if let Err(e) = cluster_part(k, app, &mut s).await {
                        // Keep watching the queue; say what the cluster refused.
                        s.cluster_note = Some(e.to_string());
                    }
                }
                None => s.cluster_note = Some("not reached (--no-cluster)".into()),
            }
            // A Value target's count depends on the replicas there are.
            if let Some(w) = &s.workload {
                s.target = p.target_at(s.metric, w.desired);
            }
            if ctx.json() {
                output::text(&output::document_line(KIND, &s)?)?;
            } else if redraw {
                output::prose(&format!(
                    "\x1b[2J\x1b[H{}\n\n{}",
                    watch::header(
                        &describe("Deployment", Some(&app.namespace), &app.deployment),
                        args.interval,
                        std::time::SystemTime::now(),
                    ),
                    watch::screen(&s)
                ))?;
            } else {
                output::text(&watch::line(&s))?;
            }
            n += 1;
            if args.count.is_some_and(|c| n >= c) {
                return Ok::<(), anyhow::Error>(());
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(
                start + Duration::from_secs(n * args.interval),
            ))
            .await;
        }
    };
    tokio::select! {
        r = body => r,
        _ = tokio::signal::ctrl_c() => Err(SilentExit(INTERRUPTED).into()),
    }
}
