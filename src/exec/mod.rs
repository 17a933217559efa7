//! Plan → Report: carries out each step against AWS or the cluster, in dependency order, running the steps
//! whose dependencies are done concurrently. A failed step stops the steps that depend on it;
//! the rest finish, so the report says exactly what was done and what was not, and `up` can be
//! run again to finish the job.

mod aws;
mod aws_eks;
mod aws_iam;
mod aws_sqs;
mod cluster;
mod owner;
mod trust;

use crate::cloud::{Aws, CallError};
use crate::cluster::Kube;
use crate::plan::{Plan, Step};
use crate::progress::Progress;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Timing knobs (tests shorten them).
#[derive(Debug, Clone)]
pub struct Options {
    pub cluster: String,
    /// Between polls of a long wait (add-on status).
    pub poll: Duration,
    /// How long the add-on may take to become ACTIVE (the AWS waiter allows 10 minutes).
    pub addon_timeout: Duration,
    /// How long to retry errors that only mean "not propagated yet" (IAM principals, SQS re-create).
    pub settle_timeout: Duration,
    /// Between polls of a rollout or a deletion in the cluster.
    pub kube_poll: Duration,
    /// How long a Deployment may take to roll out (kubectl's progress deadline is 10 minutes).
    pub rollout_timeout: Duration,
    /// How long a deleted object may take to go (finalizers, foreground deletion of pods).
    pub delete_timeout: Duration,
    /// The stack whose tag a delete, tag change or policy write re-reads on its target first,
    /// refusing when it changed since the plan was made. None: `--adopt`, where taking over
    /// resources this stack does not own is the point.
    pub stack: Option<String>,
    /// Server-side apply takes over fields other managers own (`--force-conflicts`).
    pub force_conflicts: bool,
    /// The helm executable ("helm" from PATH; tests pass a recording fake).
    pub helm: std::path::PathBuf,
    /// This cluster's own trust of each role (what `render` makes of the config): a trust step
    /// re-applies its edit of these statements to the trust read right before the write, never
    /// writing the planned document over what another cluster's run wrote since (`exec::trust`).
    pub trusts: std::collections::BTreeMap<String, serde_json::Value>,
    /// The inline policies the stack gives each role: an `up` that joined a shared role checks
    /// they are still there once its trust held (a concurrent `down` may have deleted them).
    pub policies: std::collections::BTreeMap<String, Vec<String>>,
    /// This cluster's statements of each identity role `up` prunes (`plan::prune`): deleted
    /// only if, read again right before, the role admits no one else.
    pub retired_trusts: std::collections::BTreeMap<String, serde_json::Value>,
    /// The Sids of this cluster's statements for service accounts the config no longer names,
    /// per role (`plan::prune::stale_statements`): `up`'s trust write takes them out of the
    /// trust it reads right before, as the plan did.
    pub stale_statements: std::collections::BTreeMap<String, Vec<String>>,
    /// After writing a shared trust (or tagging a shared queue), how long to watch that no
    /// concurrent run undid the write.
    pub trust_watch: Duration,
    /// Crash-safety tests: end the process abruptly (exit 137, no cleanup, like `kill -9`)
    /// once this many steps have finished. Set by `KEDACTL_TEST_EXIT_AFTER_STEPS`, read only
    /// by builds with the `test-hooks` feature.
    pub exit_after_steps: Option<usize>,
}

impl Options {
    /// `stack`: whose ownership destructive steps re-check (set `stack: None` for `--adopt`).
    pub fn new(cluster: &str, stack: &str) -> Self {
        Options {
            cluster: cluster.to_string(),
            poll: Duration::from_secs(10),
            addon_timeout: Duration::from_secs(600),
            settle_timeout: Duration::from_secs(90),
            kube_poll: Duration::from_secs(2),
            rollout_timeout: Duration::from_secs(600),
            delete_timeout: Duration::from_secs(300),
            stack: Some(stack.to_string()),
            force_conflicts: false,
            helm: "helm".into(),
            trusts: Default::default(),
            policies: Default::default(),
            retired_trusts: Default::default(),
            stale_statements: Default::default(),
            trust_watch: Duration::from_secs(crate::limits::DEFAULT_TRUST_WATCH_SECS),
            exit_after_steps: exit_after_steps(
                cfg!(feature = "test-hooks"),
                std::env::var("KEDACTL_TEST_EXIT_AFTER_STEPS")
                    .ok()
                    .as_deref(),
            ),
        }
    }
}

/// The crash hook's step count. Only test builds (feature `test-hooks`, which `cargo test`
/// turns on through the self dev-dependency) read it: in a real `up` a stray variable must not
/// kill the process mid-apply.
fn exit_after_steps(hooks: bool, value: Option<&str>) -> Option<usize> {
    value.filter(|_| hooks).and_then(|v| v.parse().ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Done,
    Failed,
    /// Not attempted because a step it depends on failed.
    NotRun,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    pub id: String,
    pub summary: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What a finished step did not do, and why (e.g. a check with nothing to check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub seconds: f64,
}

impl Outcome {
    fn not_run(step: &Step, why: String) -> Self {
        Outcome {
            id: step.id.clone(),
            summary: step.summary.clone(),
            status: Status::NotRun,
            error: Some(format!("not run: {why}")),
            note: None,
            seconds: 0.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// The longest chain of steps that ran one after the other (each waiting for the one
    /// before): what no concurrency can shorten.
    #[serde(skip)]
    pub critical_path: usize,
    /// Wall time of the execution alone (a confirmation prompt before it is not counted).
    #[serde(skip)]
    pub seconds: f64,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.outcomes.iter().all(|o| o.status == Status::Done)
    }

    pub fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Kube(#[from] crate::cluster::KubeError),
    #[error("{0}")]
    Other(String),
    /// The target changed hands after the plan was made: nothing was done to it.
    #[error(
        "refused: {what} no longer belongs to stack {stack:?} ({}); it changed after this run \
         read it, so nothing was done to it. Run the command again for a fresh plan",
        match now { Some(s) => format!("its {} tag is now {s:?}", crate::model::STACK), None => format!("it has no {} tag", crate::model::STACK) }
    )]
    NotOwned {
        what: String,
        now: Option<String>,
        stack: String,
    },
}

impl StepError {
    /// A create that lost a race: the resource appeared between observation and execution.
    pub fn created_concurrently(&self) -> bool {
        matches!(self, StepError::Call(c) if c.operation.starts_with("Create")
            && matches!(c.code.as_deref(), Some("EntityAlreadyExists" | "RepositoryAlreadyExistsException"
                | "QueueAlreadyExists" | "ResourceInUseException")))
    }
}

/// Run every step of the plan. Each step starts as soon as its own dependencies are done, not
/// with a wave; the bookkeeping is linear in the steps and their dependencies (a plan of 5,000
/// apps has some 35,000 steps).
pub async fn execute(
    aws: &Aws,
    kube: Option<&Kube>,
    plan: &Plan,
    opts: &Options,
    progress: &Progress,
) -> Report {
    let start = Instant::now();
    let resolved = Resolved::default();
    let steps = &plan.steps;
    let graph = Graph::of(plan);
    let mut waiting: Vec<usize> = graph.needs.iter().map(Vec::len).collect();
    // A step with an outcome has run, or never will.
    let mut outcomes: Vec<Option<Outcome>> = vec![None; steps.len()];
    let mut ready: Vec<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    // The steps that ran, in the order they ended: each after what it waited for.
    let mut ended: Vec<usize> = Vec::new();
    let mut running = futures_util::stream::FuturesUnordered::new();
    loop {
        for i in ready.drain(..) {
            let (s, resolved) = (&steps[i], &resolved);
            running
                .push(async move { (i, run_step(aws, kube, s, opts, progress, resolved).await) });
        }
        let Some((i, outcome)) = running.next().await else {
            break;
        };
        let done = outcome.status == Status::Done;
        ended.push(i);
        outcomes[i] = Some(outcome);
        if done {
            for &d in &graph.dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 && outcomes[d].is_none() {
                    ready.push(d);
                }
            }
            continue;
        }
        // Steps behind a failure will never run (and neither will theirs).
        let mut behind = vec![i];
        while let Some(j) = behind.pop() {
            for &d in &graph.dependents[j] {
                if outcomes[d].is_some() {
                    continue;
                }
                let why = format!("{} did not complete", steps[j].id);
                progress.finished(
                    &steps[d].id,
                    &format!("  - not run: {} ({why})", steps[d].summary),
                );
                outcomes[d] = Some(Outcome::not_run(&steps[d], why));
                behind.push(d);
            }
        }
    }
    // Nothing runs and nothing can start: what is left waits on itself. Unreachable for plans
    // from `plan`/`teardown`, whose dependencies form no cycle.
    for (i, s) in steps.iter().enumerate() {
        if outcomes[i].is_none() {
            outcomes[i] = Some(Outcome::not_run(s, "its dependencies form a cycle".into()));
        }
    }
    Report {
        critical_path: chain(&graph, &ended),
        seconds: start.elapsed().as_secs_f64(),
        outcomes: outcomes.into_iter().flatten().collect(),
    }
}

/// A plan's dependencies by step index: the steps each waits for (an id the plan does not hold
/// is no dependency, a repeated one counts once) and which steps wait for each.
struct Graph {
    needs: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    fn of(plan: &Plan) -> Self {
        debug_assert!(
            {
                let mut ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
                ids.sort_unstable();
                ids.windows(2).all(|w| w[0] != w[1])
            },
            "a plan's step ids are unique"
        );
        let index: HashMap<&str, usize> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut dependents = vec![Vec::new(); plan.steps.len()];
        let needs: Vec<Vec<usize>> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut needs: Vec<usize> = s
                    .after
                    .iter()
                    .filter_map(|a| index.get(a.as_str()).copied())
                    .collect();
                needs.sort_unstable();
                needs.dedup();
                for &d in &needs {
                    dependents[d].push(i);
                }
                needs
            })
            .collect();
        Graph { needs, dependents }
    }
}

/// Ids of the resources this run created, by the placeholder that stood for each in the plan
/// (`triggers::Resource::placeholder`): the steps that name one get the id before they run.
#[derive(Default)]
pub(crate) struct Resolved(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

impl Resolved {
    pub(crate) fn insert(&self, placeholder: String, id: String) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(placeholder, id);
    }

    /// The step with every placeholder filled in. A placeholder left over means the resource
    /// was not created in this run (`--only` left it out): the step refuses rather than write
    /// a name that points nowhere.
    fn fill(&self, step: &Step) -> Result<Step, StepError> {
        let known = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut step = step.clone();
        let mut unknown = None;
        for value in step.action.documents_mut() {
            replace_in(value, &known, &mut unknown);
        }
        match unknown {
            None => Ok(step),
            Some(p) => Err(StepError::Other(format!(
                "it names {p}, a resource this run did not create, so its id is not known; run `kedactl up` without --only (or with --only source first)"
            ))),
        }
    }
}

fn replace_in(
    v: &mut serde_json::Value,
    known: &std::collections::BTreeMap<String, String>,
    unknown: &mut Option<String>,
) {
    use crate::triggers::resource::PLACEHOLDER;
    match v {
        serde_json::Value::String(s) if s.contains(PLACEHOLDER) => {
            for (p, id) in known {
                *s = s.replace(p.as_str(), id);
            }
            if let Some(at) = s.find(PLACEHOLDER) {
                let rest = &s[at..];
                let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                *unknown = Some(rest[..end].to_string());
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_in(x, known, unknown)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_in(x, known, unknown)),
        _ => {}
    }
}

/// The longest chain of steps that ran, each after one it depends on.
/// The longest run of steps one after another among those that ran (`ended`, in the order they
/// ended, so each comes after the steps it waited for).
fn chain(graph: &Graph, ended: &[usize]) -> usize {
    let mut depth: Vec<Option<usize>> = vec![None; graph.needs.len()];
    for &i in ended {
        let before = graph.needs[i].iter().filter_map(|&d| depth[d]).max();
        depth[i] = Some(before.unwrap_or(0) + 1);
    }
    depth.into_iter().flatten().max().unwrap_or(0)
}

/// Steps finished in this process (for `exit_after_steps`).
static FINISHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn run_step(
    aws: &Aws,
    kube: Option<&Kube>,
    step: &Step,
    opts: &Options,
    progress: &Progress,
    resolved: &Resolved,
) -> Outcome {
    let outcome = run_step_inner(aws, kube, step, opts, progress, resolved).await;
    let finished = FINISHED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    if opts.exit_after_steps == Some(finished) {
        // Whatever else is in flight dies with the process, as it would on a kill.
        std::process::exit(137);
    }
    outcome
}

async fn run_step_inner(
    aws: &Aws,
    kube: Option<&Kube>,
    step: &Step,
    opts: &Options,
    progress: &Progress,
    resolved: &Resolved,
) -> Outcome {
    let start = Instant::now();
    progress.started(&step.id, &step.summary);
    let result = async {
        let filled = resolved.fill(step)?;
        let step = &filled;
        let live = match &opts.stack {
            Some(stack) => owner::confirm(aws, kube, &opts.cluster, stack, &step.action).await?,
            None => None,
        };
        if step.action.on_cluster() {
            cluster::apply(kube, step, live.as_ref(), opts, progress).await
        } else {
            aws::apply(aws, step, opts, progress, resolved)
                .await
                .map(|()| None)
        }
    }
    .await;
    let seconds = start.elapsed().as_secs_f64();
    let (status, error, note) = match result {
        Ok(note) => {
            let suffix = note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            progress.finished(
                &step.id,
                &format!("  {} {}{suffix}", step.change.symbol(), step.summary),
            );
            (Status::Done, None, note)
        }
        Err(e) => {
            let mut text = e.to_string();
            if e.created_concurrently() {
                text.push_str(
                    " (it was created after this run read the account: is another `kedactl up` \
                     working on this stack? Run `kedactl up` again to converge)",
                );
            }
            progress.finished(&step.id, &format!("  ✗ {}: {text}", step.summary));
            (Status::Failed, Some(text), None)
        }
    };
    Outcome {
        id: step.id.clone(),
        summary: step.summary.clone(),
        status,
        error,
        note,
        seconds: (seconds * 1000.0).round() / 1000.0,
    }
}

/// Retry `call` while `transient` says the error only means "not yet", until `timeout`.
async fn settle<T, F, Fut>(
    timeout: Duration,
    poll: Duration,
    progress: (&Progress, &Step),
    mut call: F,
    transient: impl Fn(&CallError) -> Option<&'static str>,
) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(500).min(poll);
    loop {
        match call().await {
            Err(e) if start.elapsed() < timeout => match transient(&e) {
                Some(why) => {
                    progress.0.waiting(
                        &progress.1.id,
                        &progress.1.summary,
                        &format!("{why}; retrying"),
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(poll);
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Group;
    use crate::plan::{Action, Change};

    #[test]
    fn the_crash_hook_is_read_only_by_test_builds() {
        assert_eq!(exit_after_steps(false, Some("3")), None, "a normal build");
        assert_eq!(exit_after_steps(true, Some("3")), Some(3));
        assert_eq!(exit_after_steps(true, Some("x")), None);
        assert_eq!(exit_after_steps(true, None), None);
    }

    fn step(id: &str, after: &[&str]) -> Step {
        Step {
            id: id.into(),
            group: Group::Keda,
            change: Change::Run,
            summary: id.into(),
            changes: Vec::new(),
            action: Action::VerifyPodIdentity {
                namespace: "keda".into(),
                deployment: "keda-operator".into(),
            },
            after: after.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Clients with no endpoint to reach: cluster actions fail without a cluster, which is
    /// enough to exercise the scheduling.
    fn no_endpoint() -> Aws {
        let conf = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        Aws::from_config(&conf)
    }

    #[tokio::test]
    async fn a_failure_stops_only_what_depends_on_it() {
        let aws = no_endpoint();
        let plan = Plan {
            steps: vec![
                step("a", &[]),
                step("b", &["a"]),
                step("c", &["b"]),
                step("d", &[]),
            ],
        };
        let report = execute(
            &aws,
            None,
            &plan,
            &Options::new("demo", "kedactl"),
            &Progress::Silent,
        )
        .await;
        let statuses: Vec<(&str, Status)> = report
            .outcomes
            .iter()
            .map(|o| (o.id.as_str(), o.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("a", Status::Failed),
                ("b", Status::NotRun),
                ("c", Status::NotRun),
                ("d", Status::Failed)
            ]
        );
        assert!(
            report.outcomes[1]
                .error
                .as_deref()
                .unwrap()
                .contains("a did not complete")
        );
        assert!(!report.ok());
        assert!(aws.calls.all().is_empty());
        // a and d ran (and failed); what waited on a never ran.
        assert_eq!(report.critical_path, 1);
    }

    #[test]
    fn an_id_outside_the_plan_is_no_dependency_and_a_repeated_one_counts_once() {
        let plan = Plan {
            steps: vec![
                step("a", &["gone"]),
                step("b", &["a", "a", "elsewhere"]),
                step("c", &["a", "b"]),
            ],
        };
        let g = Graph::of(&plan);
        assert_eq!(g.needs, [vec![], vec![0], vec![0, 1]]);
        assert_eq!(g.dependents, [vec![1, 2], vec![2], vec![]]);
    }

    #[tokio::test]
    async fn steps_that_wait_on_each_other_are_not_run_and_said_so() {
        let aws = no_endpoint();
        let plan = Plan {
            steps: vec![step("a", &["b"]), step("b", &["a"])],
        };
        let opts = Options::new("demo", "kedactl");
        let report = execute(&aws, None, &plan, &opts, &Progress::Silent).await;
        for o in &report.outcomes {
            assert_eq!(o.status, Status::NotRun);
            assert!(
                o.error.as_deref().unwrap().contains("form a cycle"),
                "{o:?}"
            );
        }
        assert_eq!(report.critical_path, 0);
    }

    #[test]
    fn the_critical_path_is_the_longest_chain_that_ran() {
        let plan = Plan {
            steps: vec![
                step("a", &[]),
                step("b", &["a"]),
                step("c", &["b"]),
                step("d", &[]),
                step("e", &["d", "c"]),
            ],
        };
        let graph = Graph::of(&plan);
        assert_eq!(chain(&graph, &[3, 0, 1, 2, 4]), 4);
        // c and e did not run.
        assert_eq!(chain(&graph, &[0, 3, 1]), 2);
    }

    #[test]
    fn placeholders_are_filled_with_what_the_run_created_and_a_leftover_refuses() {
        let manifest = serde_json::json!({
            "kind": "ScaledObject",
            "spec": {"triggers": [{"metadata": {
                "serverAddress": "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/<id of AMP workspace w>"
            }}]}
        });
        let step = Step {
            id: "app:ScaledObject".into(),
            group: Group::App,
            change: Change::Create,
            summary: "apply".into(),
            action: Action::Apply {
                kind: "ScaledObject".into(),
                namespace: Some("ns".into()),
                name: "s".into(),
                manifest,
            },
            after: vec![],
            changes: Vec::new(),
        };
        let resolved = Resolved::default();
        let err = resolved.fill(&step).unwrap_err().to_string();
        assert!(
            err.contains("it names <id of AMP workspace w>, a resource this run did not create"),
            "{err}"
        );
        resolved.insert("<id of AMP workspace w>".into(), "ws-42".into());
        let filled = resolved.fill(&step).unwrap();
        let Action::Apply { manifest, .. } = filled.action else {
            panic!()
        };
        assert_eq!(
            manifest["spec"]["triggers"][0]["metadata"]["serverAddress"],
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-42"
        );
    }
}
