use crate::cluster::Kube;
use crate::ctx::Ctx;
use crate::error::{INTERRUPTED, SilentExit, UsageError};
use crate::output;
use crate::scaling::{Decision, HPA_SYNC_SECONDS, Params, State, hpa_sync_read, keda_poll};
use crate::spec::Problems;
use crate::triggers::aws::Metric;
use std::time::{Duration, Instant};

/// Scale the app's Deployment on its queue with KEDA's and the HPA's exact rules (or, with
/// --dry-run, show what they would decide)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl scale --cluster demo                          # the loop: read, decide, set /scale; Ctrl-C stops
  kedactl scale --cluster demo --once -o json           # one decision, applied, as JSON
  kedactl scale --dry-run --once --current 2 -o json    # no cluster needed: metric, target, next, reason
  kedactl scale --dry-run                               # follow the queue, print decisions only
  # a ScaledJob: the Jobs KEDA would start with 2 running
  kedactl -f examples/scaledjob.yaml scale --dry-run --once --current 2

kedactl refuses to scale a Deployment that a ScaledObject or an HPA already scales (two controllers would fight); --force takes over anyway.")]
pub struct Args {
    /// Only print decisions; needs no cluster access
    #[arg(long)]
    pub dry_run: bool,
    /// Make one decision (and apply it unless --dry-run) and exit
    #[arg(long)]
    pub once: bool,
    /// Replicas the Deployment has now, or a ScaledJob's running Jobs, 0 to 2147483647
    /// (--dry-run; otherwise read from the cluster)
    #[arg(long, value_name = "N", requires = "dry_run", value_parser = crate::limits::parse_whole, allow_negative_numbers = true)]
    pub current: Option<i128>,
    /// Scale even though a ScaledObject or HPA already scales the Deployment
    #[arg(long)]
    pub force: bool,
    /// Kubernetes version whose HPA rules apply, 1.23 to 1.99 (default: the cluster's version
    /// from DescribeCluster; with --dry-run 1.36, the newest EKS supports)
    #[arg(long, value_name = "1.N", value_parser = crate::limits::parse_k8s_version, allow_negative_numbers = true)]
    pub k8s_version: Option<(i128, i128)>,
}

/// `scale -o json`: a decision with its inputs and reason; a line each in the loop, one
/// document with `--once`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Line<'a> {
    /// Seconds since the loop started (absent with --once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
    /// Whose rule decided: `keda` (every pollingInterval) or `hpa` (every 15 s); absent with --once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<&'a str>,
    #[serde(flatten)]
    pub decision: &'a Decision,
}

pub const KIND: &str = "ScaleDecision";

/// `--once -o json`: the one decision as a document.
fn once_json(d: &Decision) -> anyhow::Result<()> {
    output::document(
        KIND,
        &Line {
            t: None,
            by: None,
            decision: d,
        },
    )
}

/// Where decisions go: printed only, or set on the Deployment.
enum Target<'a> {
    DryRun,
    Cluster {
        kube: &'a Kube,
        namespace: &'a str,
        deployment: &'a str,
    },
}

impl Target<'_> {
    /// The Deployment's replicas now (None: keep the loop's own count).
    async fn current(&self) -> anyhow::Result<Option<u32>> {
        Ok(match self {
            Target::DryRun => None,
            Target::Cluster {
                kube,
                namespace,
                deployment,
            } => Some(kube.replicas(namespace, deployment).await?),
        })
    }

    async fn apply(&self, ctx: &Ctx, d: &Decision) -> anyhow::Result<()> {
        if let Target::Cluster {
            kube,
            namespace,
            deployment,
        } = self
            && d.next != d.current
        {
            kube.set_replicas(namespace, deployment, d.next).await?;
            if !ctx.json() {
                ctx.note(format!(
                    "        set Deployment {namespace}/{deployment} replicas {} → {}",
                    d.current, d.next
                ));
            }
        }
        Ok(())
    }
}

fn print(ctx: &Ctx, t: u64, who: &str, d: &Decision) -> anyhow::Result<()> {
    if ctx.json() {
        let line = Line {
            t: Some(t),
            by: Some(who),
            decision: d,
        };
        output::text(&output::document_line(KIND, &line)?)
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
    metric: &dyn Metric,
    p: &Params,
    state: &mut State,
    target: &Target<'_>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut t = 0u64;
    loop {
        let (poll, sync) = (
            t.is_multiple_of(p.polling_interval),
            t.is_multiple_of(HPA_SYNC_SECONDS),
        );
        if poll || sync {
            // Someone (a person, a rollout) may have changed it since.
            if let Some(now) = target.current().await? {
                state.replicas = now;
            }
            // One GetQueueAttributes per reading, as the scaler does.
            let m = metric.read().await.map(|r| r.value);
            if poll {
                let d = keda_poll(p, state, t, m.as_ref().map(|v| *v).map_err(|_| ()));
                print(ctx, t, "keda", &d)?;
                target.apply(ctx, &d).await?;
            }
            if let Err(e) = &m {
                ctx.note(format!("{t:>6}s read failed: {e}"));
            }
            if sync {
                // A failed read counts toward fallback here too (GetMetricsWithFallback).
                let d = hpa_sync_read(p, state, t, m.map_err(|_| ()));
                print(ctx, t, "hpa", &d)?;
                target.apply(ctx, &d).await?;
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
    // Replicas are an int32 in the Deployment's /scale; checked before any call.
    let flags = |p| Problems {
        origin: "flags".into(),
        problems: vec![p],
    };
    let current = args
        .current
        .map(|n| crate::limits::whole_within("--current", n, 0, crate::limits::MAX_INT32.into()))
        .transpose()
        .map_err(flags)?;
    let k8s_minor = args
        .k8s_version
        .map(|v| crate::limits::k8s_version_within("--k8s-version", v))
        .transpose()
        .map_err(flags)?;
    let (spec, source) = ctx.spec_offline()?;
    let app = super::app_queue::pick(&spec, ctx.global.overrides.app.app.as_deref(), &source)?;
    let mut p = Params::from_app(app);
    if let Some(minor) = k8s_minor {
        p.k8s_minor = minor;
    }
    if !args.dry_run && app.scaling.kind == crate::spec::ScalingKind::ScaledJob {
        return Err(UsageError {
            message: format!(
                "app {} runs one Job per batch of messages (scaling.kind ScaledJob): there is no Deployment whose replicas kedactl could set",
                app.deployment
            ),
            fix: "let KEDA's ScaledJob run the Jobs".into(),
        }
        .into());
    }
    let aws = ctx.aws(spec.region.clone()).await?;
    let at = crate::render::Target::new(&aws.region, None);
    let metric = app.trigger.metric(&aws, app, &at).await?;
    if app.scaling.kind == crate::spec::ScalingKind::ScaledJob {
        // --dry-run only (refused above otherwise): the Jobs KEDA would start per poll, with
        // --current Jobs running (none pending): offline, kedactl cannot see the Jobs.
        let jp = crate::scaling::job::JobParams::from_spec(&app.scaling);
        let running = u64::from(current.map_or(0, |n| n as u32));
        let jobs = crate::scaling::job::Jobs {
            running,
            pending: 0,
        };
        let mut t = 0u64;
        let start = Instant::now();
        loop {
            let m = metric.read().await?.value;
            let d = jp.decide(m, jobs);
            if args.once {
                return if ctx.json() {
                    once_json(&d)
                } else {
                    print(ctx, 0, "", &d)
                };
            }
            print(ctx, t, "keda", &d)?;
            t += jp.polling_interval;
            tokio::select! {
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(start + Duration::from_secs(t))) => {}
                _ = tokio::signal::ctrl_c() => {
                    ctx.note("stopped; nothing was changed (dry run)");
                    return Err(SilentExit(INTERRUPTED).into());
                }
            }
        }
    }
    let kube = if args.dry_run {
        None
    } else {
        let (kube, version) =
            super::online::cluster_client_and_version(ctx, &aws, &spec, &source).await?;
        // Online, the cluster's own version decides which HPA rules apply.
        if k8s_minor.is_none() {
            match version
                .as_deref()
                .and_then(|v| crate::limits::parse_k8s_version(v).ok())
                .and_then(|v| crate::limits::k8s_version_within("version", v).ok())
            {
                Some(minor) => p.k8s_minor = minor,
                None => ctx.note(format!(
                    "the cluster's version {:?} is not one kedactl knows: the HPA rules of 1.{} apply (--k8s-version to choose)",
                    version.unwrap_or_default(),
                    p.k8s_minor
                )),
            }
        }
        Some(kube)
    };
    let target = match &kube {
        None => Target::DryRun,
        Some(kube) => {
            let (namespace, deployment) = (app.namespace.as_str(), app.deployment.as_str());
            let others = kube.controllers_of(namespace, deployment).await?;
            if !others.is_empty() && !args.force {
                return Err(UsageError {
                    message: format!(
                        "{} already scale{} Deployment {namespace}/{deployment}: two controllers would fight over its replicas",
                        others.join(", "),
                        if others.len() == 1 { "s" } else { "" }
                    ),
                    fix: "watch KEDA's decisions with `kedactl scale --dry-run`, or pass --force to take over (KEDA's HPA will set its own value again)".into(),
                }
                .into());
            }
            Target::Cluster {
                kube,
                namespace,
                deployment,
            }
        }
    };
    let current = match target.current().await? {
        Some(n) => n,
        None => current.map_or(0, |n| n as u32),
    };

    let mut state = State::new(current, 0);
    if args.once {
        // What a KEDA and an HPA meeting this Deployment now decide on one reading.
        let m = metric.read().await?.value;
        let d = crate::scaling::decide_once(&p, current, m);
        if ctx.json() {
            once_json(&d)?;
        } else {
            print(ctx, 0, "", &d)?;
        }
        return target.apply(ctx, &d).await;
    }
    tokio::select! {
        r = follow(ctx, metric.as_ref(), &p, &mut state, &target) => r,
        _ = tokio::signal::ctrl_c() => {
            ctx.note(match target {
                Target::DryRun => "stopped; nothing was changed (dry run)".to_string(),
                Target::Cluster { .. } => format!("stopped; replicas left at {}", state.replicas),
            });
            Err(SilentExit(INTERRUPTED).into())
        }
    }
}
