//! What `simulate` runs, apart from its flags and its printing: an app (or two, compared) on
//! one workload, the notes on what the model leaves out, and the description of the input that
//! heads every output.

use super::Params;
use super::job::{JobParams, simulate_jobs_to};
use super::simulate::{Run, Shape, Summary, Tick, Workload, simulate_to};
use crate::limits;
use crate::problem::Problem;
use crate::spec::{self, App};
use serde::Serialize;

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

impl Input {
    /// The input of `app`'s run on `w`; `trace` describes the arrivals. Only the model that
    /// applies is given: a metric the pods do not consume, a Deployment's pods, or Jobs.
    pub fn new(source: &str, app: &App, trace: String, w: &Workload) -> Self {
        let mut input = Input {
            source: source.to_string(),
            app: app.deployment.clone(),
            trace,
            metric: None,
            target_per_replica: None,
            pod_rate: None,
            startup_seconds: None,
            job_duration_seconds: None,
        };
        match app.scaling.kind {
            _ if !consumes(app) => {
                input.metric = Some(app.trigger.imp().unit());
                input.target_per_replica = Some(Params::from_app(app).queue_length);
            }
            spec::ScalingKind::ScaledObject => {
                input.pod_rate = Some(w.pod_rate);
                input.startup_seconds = Some(w.startup);
            }
            spec::ScalingKind::ScaledJob => {
                input.job_duration_seconds = Some(w.job_duration);
                input.startup_seconds = Some(w.startup);
            }
        }
        input
    }
}

/// Whether the app's pods consume what its trigger counts (an SQS queue's messages): otherwise
/// the run follows a metric's values, with no queue, backlog or waits.
pub fn consumes(app: &App) -> bool {
    app.trigger == crate::triggers::Kind::Sqs
}

/// A metric's values each second in the trigger's units: thousandths of a query or CloudWatch
/// value, or whole shards or items.
pub fn gauge_units(values: Vec<f64>, thousandths: bool) -> Vec<u64> {
    let units = |v: f64| match thousandths {
        true => crate::triggers::milli(v),
        false => v.round() as u64,
    };
    values.into_iter().map(units).collect()
}

/// KEDA's poll repeats every pollingInterval: a phase past it is a smaller one, refused.
pub fn phase_problem(phase: u64, s: &spec::Scaling) -> Option<Problem> {
    let polling = s.effective_polling_interval();
    (phase >= u64::from(polling)).then(|| {
        Problem::new(
            "--phase",
            format!(
                "{} is not below the app's pollingInterval ({} s)",
                limits::duration(phase),
                polling
            ),
            format!("give a phase from 0s to {}s", polling.saturating_sub(1)),
        )
    })
}

/// `--compare`: the same arrivals (or query values) only mean the same thing to the same
/// trigger; `theirs` is the other config's app, `source` names `ours`' config.
pub fn trigger_mismatch(theirs: &App, ours: &App, source: &str) -> Option<Problem> {
    (theirs.trigger != ours.trigger).then(|| {
        Problem::new(
            "--compare",
            format!(
                "its app scales on {} but {} scales on {}: one trace cannot drive both",
                theirs.trigger.as_str(),
                source,
                ours.trigger.as_str()
            ),
            "compare configs whose apps use the same trigger",
        )
    })
}

/// What a run of the app does not model, said before it: options it does not depend on, and a
/// behavior tolerance the Kubernetes version ignores.
pub fn notes(s: &spec::Scaling, k8s_minor: u32) -> Vec<String> {
    let mut out = unmodelled(s);
    if sets_tolerance(s) && k8s_minor < super::CONFIGURABLE_TOLERANCE_MINOR {
        out.push(format!(
            "Kubernetes 1.{} ignores behavior tolerance (HPAConfigurableTolerance is on from 1.{}): the HPA uses 0.1",
            k8s_minor,
            super::CONFIGURABLE_TOLERANCE_MINOR
        ));
    }
    out
}

/// Whether either direction of the HPA's behavior sets its own tolerance.
fn sets_tolerance(s: &spec::Scaling) -> bool {
    s.advanced
        .as_ref()
        .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
        .and_then(|h| h.behavior.as_ref())
        .is_some_and(|b| {
            [&b.scale_up, &b.scale_down]
                .iter()
                .any(|r| r.as_ref().is_some_and(|r| r.tolerance.is_some()))
        })
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
pub fn run_app_to(app: &App, k8s_minor: u32, w: &Workload, sink: &mut dyn FnMut(&Tick)) -> Summary {
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

/// What follows the runs as they go (a JSON stream writes each second out as it comes): each
/// run's start (0 the config, 1 `--compare`'s), its seconds, and its summary.
pub trait Watch {
    fn begin(&mut self, i: usize, source: &str, input: &Input);
    fn tick(&mut self, k: &Tick);
    fn end(&mut self, i: usize, source: &str, summary: &Summary);
}

/// Nobody watching: the runs' summaries are all that is wanted.
impl Watch for () {
    fn begin(&mut self, _: usize, _: &str, _: &Input) {}
    fn tick(&mut self, _: &Tick) {}
    fn end(&mut self, _: usize, _: &str, _: &Summary) {}
}

/// Each (config, app) run on `w` in turn, told to `watch` as it goes. A run keeps its
/// timeline only with `keep` (a chart needs it): otherwise memory stays constant however long
/// the trace.
pub fn run_each(
    apps: Vec<(String, &App)>,
    k8s_minor: u32,
    w: &Workload,
    input: &Input,
    keep: bool,
    watch: &mut dyn Watch,
) -> Vec<(String, Run)> {
    let mut runs = Vec::new();
    for (i, (name, app)) in apps.into_iter().enumerate() {
        watch.begin(i, &name, input);
        let mut timeline = Vec::new();
        let summary = run_app_to(app, k8s_minor, w, &mut |k| {
            if keep {
                timeline.push(*k);
            }
            watch.tick(k);
        });
        watch.end(i, &name, &summary);
        runs.push((name, Run { timeline, summary }));
    }
    runs
}

/// A burst puts the whole duration's messages in its first second, one u32 count: more is
/// refused (`--rate` × `--duration`), unless a trace gives the arrivals instead.
pub fn burst_problem(shape: Shape, traced: bool, rate: f64, duration: u64) -> Option<Problem> {
    (shape == Shape::Burst && !traced && (rate * duration as f64).round() > f64::from(u32::MAX))
        .then(|| {
            Problem::new(
                "--rate",
                format!(
                    "a burst of {} msg/s × {} is more than {} messages at once",
                    limits::number(rate),
                    limits::duration(duration),
                    u32::MAX
                ),
                "lower --rate or --duration",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Workload {
        Workload {
            arrivals: vec![1, 2],
            pod_rate: 0.5,
            startup: 20,
            price_per_pod_hour: None,
            settle_limit: 60,
            phase: 0,
            job_duration: 45,
            gauge: None,
        }
    }

    #[test]
    fn the_input_names_only_the_model_that_applies() {
        let app = App::default();
        let i = Input::new("k.yaml", &app, "trace t.csv".into(), &workload());
        assert_eq!(
            (i.pod_rate, i.startup_seconds, i.job_duration_seconds),
            (Some(0.5), Some(20), None)
        );
        assert!(i.metric.is_none() && i.target_per_replica.is_none());
        let mut job = App::default();
        job.scaling.kind = spec::ScalingKind::ScaledJob;
        let i = Input::new("k.yaml", &job, "x".into(), &workload());
        assert_eq!(
            (i.pod_rate, i.startup_seconds, i.job_duration_seconds),
            (None, Some(20), Some(45))
        );
    }

    #[test]
    fn a_phase_is_below_the_polling_interval() {
        let s = spec::Scaling::default();
        let polling = u64::from(s.effective_polling_interval());
        assert!(phase_problem(polling - 1, &s).is_none());
        let p = phase_problem(polling, &s).unwrap();
        assert_eq!(p.field, "--phase");
        assert!(
            p.message.contains("is not below the app's pollingInterval"),
            "{}",
            p.message
        );
    }

    #[test]
    fn a_burst_is_one_count() {
        let week = limits::MAX_SIM_SECONDS;
        assert!(burst_problem(Shape::Burst, false, 100_000.0, week).is_some());
        assert!(burst_problem(Shape::Burst, true, 100_000.0, week).is_none());
        assert!(burst_problem(Shape::Steady, false, 100_000.0, week).is_none());
        assert!(burst_problem(Shape::Burst, false, 1.0, week).is_none());
    }

    #[test]
    fn what_the_model_leaves_out_is_said() {
        let mut s = spec::Scaling::default();
        assert!(notes(&s, crate::scaling::NEWEST_EKS_MINOR).is_empty());
        s.backoff_limit = Some(3);
        let n = notes(&s, crate::scaling::NEWEST_EKS_MINOR);
        assert!(n.len() == 1 && n[0].starts_with("backoffLimit"), "{n:?}");
    }

    #[test]
    fn thousandths_round_and_whole_units_round() {
        assert_eq!(gauge_units(vec![0.0016, 2.0], true), [2, 2000]);
        assert_eq!(gauge_units(vec![2.4, 2.6], false), [2, 3]);
    }
}
