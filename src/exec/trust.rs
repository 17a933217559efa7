//! Writes of a trust policy that several clusters of a stack share, safe against another run
//! writing it at the same time. IAM has no conditional write and its reads are eventually
//! consistent, so a plain read-merge-write loses whichever concurrent write lands first.
//! Instead each write re-reads the trust, re-applies only this cluster's edit to it (`Edit`),
//! writes at once (no SDK retry: a retried request could land long after its read), and then
//! watches the trust for `Options::trust_watch`: whenever a read shows the edit undone (another
//! run wrote a trust merged from a read older than ours), it is re-applied to what is there now.
//! Why that cannot lose a write: a run whose write dropped ours read the trust before ours was
//! visible, so it wrote within (propagation + its read-to-write gap) of ours, and we see that
//! write within one more propagation delay; the window is longer than both (see
//! docs/concurrency.md). Every run watches its own statements, so each cluster's survive.

use super::{Options, StepError};
use crate::cloud::{Aws, CallError, error_code};
use crate::observe::decode_policy;
use crate::plan::Step;
use crate::plan::trust::{Edit, Leave, leave, without_sids};
use crate::progress::Progress;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Writes after which a trust that keeps changing under this run is reported, not fought over.
const MAX_WRITES: u32 = 8;

/// The trust of `role` now; None when the role does not exist.
async fn read(aws: &Aws, role: &str) -> Result<Option<Value>, CallError> {
    match aws.iam.get_role().role_name(role).send().await {
        Ok(out) => Ok(out
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .map(decode_policy)),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(CallError::new("GetRole", format!("IAM role {role}"), &e)),
    }
}

async fn write(aws: &Aws, role: &str, trust: &Value) -> Result<(), CallError> {
    let once = aws_sdk_iam::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled());
    aws.iam
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(trust.to_string())
        .customize()
        .config_override(once)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| CallError::new("UpdateAssumeRolePolicy", format!("IAM role {role}"), &e))
}

/// An error that only means "again, after a pause" (the next try reads again first, so a
/// write is never made from a stale read): IAM has not propagated a principal the trust names,
/// it throttles, it failed on its side, or the call never got an answer.
fn transient(e: &CallError) -> bool {
    matches!(
        e.code.as_deref(),
        Some("Throttling" | "ThrottlingException" | "ServiceFailure")
    ) || (e.code.as_deref() == Some("MalformedPolicyDocument")
        && e.message.contains("Invalid principal"))
        || e.status.is_none_or(|s| s >= 500)
}

/// Between two reads while watching: a fifth of the window, within 0.2–2 s.
pub(super) fn poll(window: Duration) -> Duration {
    (window / 5).clamp(Duration::from_millis(200), Duration::from_secs(2))
}

fn same(a: &Value, b: &Value) -> bool {
    crate::render::policy::canonical(a) == crate::render::policy::canonical(b)
}

fn gone(role: &str, cluster: &str) -> StepError {
    StepError::Other(format!(
        "IAM role {role} was deleted while this run was adding cluster {cluster}'s statements to \
         its trust (a concurrent `kedactl down` of another cluster of this stack?): run `kedactl \
         up` again to create it"
    ))
}

/// Apply `edit` of this cluster's `rendered` statements to the live trust of `role`, and keep
/// it applied for the watch window after the last write.
pub(super) async fn edit(
    aws: &Aws,
    role: &str,
    edit: Edit,
    rendered: &Value,
    opts: &Options,
    progress: (&Progress, &Step),
) -> Result<(), StepError> {
    let (say, cluster) = (
        |what: &str| {
            progress
                .0
                .waiting(&progress.1.id, &progress.1.summary, what)
        },
        opts.cluster.as_str(),
    );
    // `up` also takes out this cluster's statements for service accounts no app names.
    let stale = match edit {
        Edit::Put => opts
            .stale_statements
            .get(role)
            .map_or(&[][..], Vec::as_slice),
        Edit::Take | Edit::TakeAll => &[],
    };
    let start = Instant::now();
    let poll = poll(opts.trust_watch);
    let mut writes = 0;
    // What the trust was before our last write, and when that write was made.
    let mut last: Option<(Value, Instant)> = None;
    let mut backoff = Duration::from_millis(500).min(opts.poll);
    loop {
        let live = match read(aws, role).await {
            Ok(Some(live)) => live,
            // Gone with our statements: what taking them out wanted.
            Ok(None) if edit.takes() => return Ok(()),
            // A role another run created a moment ago may not be readable yet.
            Ok(None) if last.is_none() && start.elapsed() < opts.trust_watch * 3 => {
                say("the role is not readable yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.poll);
                continue;
            }
            Ok(None) => return Err(gone(role, cluster)),
            Err(e) if transient(&e) && start.elapsed() < opts.settle_timeout => {
                say("IAM did not answer; reading again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.poll);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some((before, at)) = &last {
            // IAM may still answer with the trust from before our write: a read that is only
            // stale, not another writer's (whose write would carry its own change). Wait for
            // ours to show rather than write again from it.
            if same(&live, before) && at.elapsed() < (opts.trust_watch * 3).max(poll * 4) {
                tokio::time::sleep(poll).await;
                continue;
            }
        }
        if edit.holds(rendered, &live) && same(&without_sids(&live, stale), &live) {
            match &last {
                Some((_, at)) if at.elapsed() < opts.trust_watch => {
                    tokio::time::sleep(poll).await;
                    continue;
                }
                // Held since our last write for the whole window (or it needed no write).
                _ => return complete(aws, role, edit, opts, poll).await,
            }
        }
        if writes == MAX_WRITES {
            return Err(StepError::Other(format!(
                "the trust policy of IAM role {role} was changed under this run {MAX_WRITES} \
                 times, each time without cluster {cluster}'s {}: another `kedactl up` or `down` \
                 of this stack keeps writing it. Run this command again once that one is done",
                match edit {
                    Edit::Put => "statements",
                    Edit::Take | Edit::TakeAll => "statements taken out",
                }
            )));
        }
        let want = edit.apply(rendered, &without_sids(&live, stale));
        if want["Statement"].as_array().is_none_or(Vec::is_empty) {
            // Taking ours out leaves nothing: the others left since the plan.
            return Err(StepError::Other(format!(
                "IAM role {role} admits nobody but cluster {cluster} any more (the other \
                 clusters left after this run read it), so it was kept as it is: run `kedactl \
                 down` again to delete it"
            )));
        }
        if last.is_some() {
            say("another run wrote this trust without this cluster's change; writing it again");
        }
        match write(aws, role, &want).await {
            Ok(()) => {
                writes += 1;
                last = Some((live, Instant::now()));
                say(&format!(
                    "watching the trust for {}s: a concurrent run of another cluster may \
                     overwrite it",
                    opts.trust_watch.as_secs_f64()
                ));
                tokio::time::sleep(poll).await;
            }
            Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {
                return match edit {
                    Edit::Put => Err(gone(role, cluster)),
                    Edit::Take | Edit::TakeAll => Ok(()),
                };
            }
            Err(e) if transient(&e) && start.elapsed() < opts.settle_timeout => {
                say("IAM is not ready; reading again");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(opts.poll);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// After an `up`'s trust held: the role still has the inline policies the stack gives it. A
/// concurrent `down` of the last other cluster may have deleted them after reading a trust
/// without ours; this run then says so instead of leaving a role that grants nothing. A policy
/// this run is still writing gets a few polls to appear.
async fn complete(
    aws: &Aws,
    role: &str,
    edit: Edit,
    opts: &Options,
    poll: Duration,
) -> Result<(), StepError> {
    let want = opts
        .policies
        .get(role)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if edit.takes() || want.is_empty() {
        return Ok(());
    }
    let mut tries = 0;
    loop {
        let have = aws
            .iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(|e| CallError::new("ListRolePolicies", format!("IAM role {role}"), &e));
        let missing: Vec<&str> = match &have {
            Ok(out) => want
                .iter()
                .filter(|w| !out.policy_names().contains(w))
                .map(String::as_str)
                .collect(),
            Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {
                return Err(gone(role, &opts.cluster));
            }
            Err(_) => vec![],
        };
        if missing.is_empty() {
            return have.map(|_| ()).map_err(StepError::from);
        }
        tries += 1;
        if tries == 3 {
            return Err(StepError::Other(format!(
                "IAM role {role} lost its inline polic{} {} while this run added cluster {}'s \
                 statements to its trust (a concurrent `kedactl down` of another cluster of \
                 this stack?): run `kedactl up` again to put {} back",
                if missing.len() == 1 { "y" } else { "ies" },
                missing.join(", "),
                opts.cluster,
                if missing.len() == 1 { "it" } else { "them" },
            )));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Right before a delete of `role` or of one of its policies, read the trust of role `of`
/// (`role` itself, or a role chained to it): the delete is refused when `role` now
/// admits anyone but this cluster, or another role admits another cluster of the stack (whose
/// KEDA chains to `role`); another cluster's `up` came in since the plan. A role gone is fine.
/// `kept`: the role stays for someone else's statement, so only this stack's other clusters
/// count.
pub(super) async fn sole(
    aws: &Aws,
    role: &str,
    of: &str,
    rendered: &Value,
    kept: bool,
    cluster: &str,
) -> Result<(), StepError> {
    let Some(Leave::Keep { kept_by, .. }) = read(aws, of).await?.map(|l| leave(rendered, &l))
    else {
        return Ok(());
    };
    let others: Vec<String> = kept_by
        .into_iter()
        .filter(|s| (of == role && !kept) || s.starts_with(crate::render::SID_PREFIX))
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let whose = if of == role {
        String::new()
    } else {
        format!(" (through IAM role {of}, chained to it)")
    };
    Err(StepError::Other(format!(
        "refused: IAM role {role} is now also used by {}{whose}, added after this run read it \
         (another cluster's `kedactl up`?), so it was not deleted. Run `kedactl down --cluster \
         {cluster}` again: it will take out only this cluster's statements",
        others.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watching_polls_a_fifth_of_the_window_within_bounds() {
        assert_eq!(poll(Duration::from_secs(10)), Duration::from_secs(2));
        assert_eq!(poll(Duration::from_secs(60)), Duration::from_secs(2));
        assert_eq!(poll(Duration::from_secs(2)), Duration::from_millis(400));
        assert_eq!(poll(Duration::ZERO), Duration::from_millis(200));
    }

    #[test]
    fn throttling_and_an_unpropagated_principal_are_retried_after_a_fresh_read() {
        let e = |code: &str, message: &str| CallError {
            operation: "UpdateAssumeRolePolicy",
            resource: "IAM role r".into(),
            code: Some(code.into()),
            message: message.into(),
            status: Some(400),
            fix: None,
        };
        assert!(transient(&e("Throttling", "Rate exceeded")));
        assert!(transient(&e(
            "MalformedPolicyDocument",
            "Invalid principal in policy"
        )));
        assert!(!transient(&e("MalformedPolicyDocument", "Syntax errors")));
        assert!(!transient(&e("LimitExceeded", "too long")));
    }

    use crate::model::Group;
    use crate::plan::{Action, Change};
    use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
    use aws_sdk_iam::operation::update_assume_role_policy::UpdateAssumeRolePolicyOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    fn statement(sid: &str) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
               "Action": ["sts:AssumeRole", "sts:TagSession"]})
    }

    fn doc(sids: &[&str]) -> Value {
        let statements: Vec<Value> = sids.iter().map(|s| statement(s)).collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn sids(doc: &Value) -> Vec<String> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap().to_string())
            .collect()
    }

    /// A stateful IAM role trust (None: no such role). `then` runs after each write this run
    /// makes, on the document it wrote: a concurrent run's write landing right after ours.
    fn iam(
        trust: Arc<Mutex<Option<Value>>>,
        then: impl Fn(&mut Value) + Send + Sync + 'static,
    ) -> (crate::cloud::Aws, Arc<Mutex<u32>>) {
        iam_stale(trust, then, 0)
    }

    /// `iam`, where the first `stale` reads after each write still answer with the trust from
    /// before it (IAM's eventual consistency).
    fn iam_stale(
        trust: Arc<Mutex<Option<Value>>>,
        then: impl Fn(&mut Value) + Send + Sync + 'static,
        stale: u32,
    ) -> (crate::cloud::Aws, Arc<Mutex<u32>>) {
        let writes = Arc::new(Mutex::new(0));
        let before: Arc<Mutex<(Option<Value>, u32)>> = Arc::new(Mutex::new((None, 0)));
        let read = trust.clone();
        let get = mock!(aws_sdk_iam::Client::get_role)
            .match_requests(move |_| read.lock().unwrap().is_some())
            .then_output({
                let trust = trust.clone();
                let before = before.clone();
                move || {
                    let mut old = before.lock().unwrap();
                    let doc = match old.0.clone() {
                        Some(doc) if old.1 > 0 => {
                            old.1 -= 1;
                            doc.to_string()
                        }
                        _ => trust.lock().unwrap().clone().unwrap().to_string(),
                    };
                    GetRoleOutput::builder()
                        .role(
                            aws_sdk_iam::types::Role::builder()
                                .path("/")
                                .role_name("r")
                                .role_id("AROAEXAMPLE")
                                .arn("arn:aws:iam::123456789012:role/r")
                                .create_date(aws_smithy_types::DateTime::from_secs(0))
                                .assume_role_policy_document(doc)
                                .build()
                                .unwrap(),
                        )
                        .build()
                }
            });
        let missing = mock!(aws_sdk_iam::Client::get_role).then_error(|| {
            GetRoleError::NoSuchEntityException(
                aws_sdk_iam::types::error::NoSuchEntityException::builder()
                    .message("The role with name r cannot be found.")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("NoSuchEntity")
                            .build(),
                    )
                    .build(),
            )
        });
        let counted = writes.clone();
        let update = mock!(aws_sdk_iam::Client::update_assume_role_policy)
            .match_requests(move |req| {
                let mut doc: Value = serde_json::from_str(req.policy_document().unwrap()).unwrap();
                then(&mut doc);
                let mut now = trust.lock().unwrap();
                *before.lock().unwrap() = (now.clone(), stale);
                *now = Some(doc);
                *counted.lock().unwrap() += 1;
                true
            })
            .then_output(|| UpdateAssumeRolePolicyOutput::builder().build());
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&get, &missing, &update]);
        let conf = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        (
            crate::cloud::Aws::from_config(&conf).with_iam(client),
            writes,
        )
    }

    fn opts() -> Options {
        Options {
            trust_watch: Duration::from_millis(50),
            ..Options::new("a", "kedactl")
        }
    }

    fn step() -> Step {
        Step {
            id: "iam:role/r/trust".into(),
            group: Group::Iam,
            change: Change::Update,
            summary: "update the trust policy of IAM role r".into(),
            changes: vec![],
            action: Action::DeleteRole { role: "r".into() },
            after: vec![],
        }
    }

    async fn run(
        trust: &Arc<Mutex<Option<Value>>>,
        then: impl Fn(&mut Value) + Send + Sync + 'static,
        e: Edit,
        ours: &Value,
    ) -> (Result<(), StepError>, u32) {
        let (aws, writes) = iam(trust.clone(), then);
        let progress = Progress::new(false, true);
        let r = edit(&aws, "r", e, ours, &opts(), (&progress, &step())).await;
        let n = *writes.lock().unwrap();
        (r, n)
    }

    #[tokio::test]
    async fn a_write_another_run_overwrote_is_made_again_on_top_of_theirs() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlB1"]))));
        let ours = doc(&["KedactlA1"]);
        // The first time, c's write (merged from a read without ours) lands right after ours.
        let once = Mutex::new(true);
        let c_overwrites = move |d: &mut Value| {
            if std::mem::take(&mut *once.lock().unwrap()) {
                *d = doc(&["KedactlB1", "KedactlC1"]);
            }
        };
        let (r, writes) = run(&trust, c_overwrites, Edit::Put, &ours).await;
        r.unwrap();
        assert_eq!(writes, 2, "written, undone by c, written again");
        let now = trust.lock().unwrap().clone().unwrap();
        assert_eq!(sids(&now), ["KedactlB1", "KedactlC1", "KedactlA1"]);
    }

    #[tokio::test]
    async fn a_stale_read_after_our_write_is_waited_out_not_written_over() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlB1"]))));
        let (aws, writes) = iam_stale(trust.clone(), |_| {}, 3);
        let progress = Progress::new(false, true);
        let ours = doc(&["KedactlA1"]);
        edit(&aws, "r", Edit::Put, &ours, &opts(), (&progress, &step()))
            .await
            .unwrap();
        assert_eq!(
            *writes.lock().unwrap(),
            1,
            "one write; three stale reads waited out"
        );
        let now = trust.lock().unwrap().clone().unwrap();
        assert_eq!(sids(&now), ["KedactlB1", "KedactlA1"]);
    }

    /// #38: `up` takes this cluster's statement for a service account the config no longer names
    /// (A2, by the plan's Sid) out of the trust it reads right before the write, also when
    /// another cluster's statement (C1) joined since the plan; the others stay.
    #[tokio::test]
    async fn a_stale_statement_of_ours_is_taken_out_of_the_trust_read_before_the_write() {
        let trust = Arc::new(Mutex::new(Some(doc(&[
            "KedactlB1",
            "KedactlA2",
            "KedactlC1",
        ]))));
        let (aws, writes) = iam(trust.clone(), |_| {});
        let progress = Progress::new(false, true);
        let mut opts = opts();
        opts.stale_statements
            .insert("r".into(), vec!["KedactlA2".into()]);
        let ours = doc(&["KedactlA1"]);
        edit(&aws, "r", Edit::Put, &ours, &opts, (&progress, &step()))
            .await
            .unwrap();
        assert_eq!(*writes.lock().unwrap(), 1);
        let mut now = sids(&trust.lock().unwrap().clone().unwrap());
        now.sort();
        assert_eq!(now, ["KedactlA1", "KedactlB1", "KedactlC1"]);
    }

    #[tokio::test]
    async fn a_trust_that_already_holds_the_edit_is_not_written() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlA1", "KedactlB1"]))));
        let (r, writes) = run(&trust, |_| {}, Edit::Put, &doc(&["KedactlA1"])).await;
        r.unwrap();
        assert_eq!(writes, 0);
    }

    #[tokio::test]
    async fn a_trust_that_keeps_changing_is_reported_after_a_bounded_number_of_writes() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlB1"]))));
        let always = |d: &mut Value| *d = doc(&["KedactlB1"]);
        let (r, writes) = run(&trust, always, Edit::Put, &doc(&["KedactlA1"])).await;
        let e = r.unwrap_err().to_string();
        assert_eq!(writes, MAX_WRITES);
        assert!(
            e.contains("was changed under this run 8 times") && e.contains("cluster a"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_role_deleted_under_an_up_fails_and_says_to_run_up_again() {
        let trust = Arc::new(Mutex::new(None));
        let (r, _) = run(&trust, |_| {}, Edit::Put, &doc(&["KedactlA1"])).await;
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("IAM role r was deleted while this run") && e.contains("`kedactl up` again"),
            "{e}"
        );
        // Taking ours out of a role that is gone is done.
        let (r, _) = run(&trust, |_| {}, Edit::Take, &doc(&["KedactlA1"])).await;
        r.unwrap();
    }

    #[tokio::test]
    async fn taking_ours_out_when_nobody_else_is_left_changes_nothing_and_says_so() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlA1"]))));
        let (r, writes) = run(&trust, |_| {}, Edit::Take, &doc(&["KedactlA1"])).await;
        let e = r.unwrap_err().to_string();
        assert_eq!(writes, 0);
        assert!(e.contains("admits nobody but cluster a"), "{e}");
    }

    #[tokio::test]
    async fn a_delete_is_refused_when_another_cluster_joined_since_the_plan() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlA1", "KedactlB1"]))));
        let (aws, _) = iam(trust.clone(), |_| {});
        let ours = doc(&["KedactlA1"]);
        let e = sole(&aws, "r", "r", &ours, false, "a")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is now also used by KedactlB1") && e.contains("was not deleted"),
            "{e}"
        );
        // Read as a role chained to the one deleted: another cluster's statement there keeps
        // it; a person's statement does not.
        let e = sole(&aws, "identity", "r", &ours, false, "a")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("through IAM role r, chained to it"), "{e}");
        *trust.lock().unwrap() = Some(doc(&["KedactlA1", "Person"]));
        sole(&aws, "identity", "r", &ours, false, "a")
            .await
            .unwrap();
        *trust.lock().unwrap() = Some(doc(&["KedactlA1"]));
        sole(&aws, "r", "r", &ours, false, "a").await.unwrap();
        *trust.lock().unwrap() = None;
        sole(&aws, "r", "r", &ours, false, "a").await.unwrap();
    }

    #[tokio::test]
    async fn a_kept_role_loses_our_policies_unless_another_cluster_joined() {
        let trust = Arc::new(Mutex::new(Some(doc(&["KedactlA1", "Person"]))));
        let (aws, _) = iam(trust.clone(), |_| {});
        let ours = doc(&["KedactlA1"]);
        // The role itself would not be deleted (a person's statement), its policies may go.
        assert!(sole(&aws, "r", "r", &ours, false, "a").await.is_err());
        sole(&aws, "r", "r", &ours, true, "a").await.unwrap();
        *trust.lock().unwrap() = Some(doc(&["KedactlA1", "Person", "KedactlB1"]));
        let e = sole(&aws, "r", "r", &ours, true, "a")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("is now also used by KedactlB1"), "{e}");
    }
}
