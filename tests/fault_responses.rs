//! Fault responses on each kind of AWS call the executor and the observer make, injected with
//! aws-smithy-mocks into clients built the way `Aws::connect` builds them (`cloud::sdk_config`:
//! kedactl's retry and timeout policy, only the backoff shortened): throttling and 5xx are
//! retried up to the fifth attempt and the step completes; AccessDenied fails at once (one
//! attempt, no retry storm) with a message naming the missing permission; a silent endpoint
//! ends the call at the call timeout.

mod common;
use aws_smithy_mocks::{RuleMode, mock};
use common::mocked;
use kedactl::cloud::{Aws, Retries, RetryMode, retry_config};
use kedactl::exec::{self, Status};
use kedactl::model::{Group, Only};
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Observed, Plan};
use std::time::Duration;

fn step(id: &str) -> Plan {
    let all = plan::plan(
        &common::seed_desired(),
        &Observed::default(),
        &plan::Options::default(),
    )
    .unwrap();
    Plan {
        steps: all.steps.into_iter().filter(|s| s.id == id).collect(),
    }
}

/// Failed attempts before the one that works: the production policy allows 10 attempts (the
/// SDK's default, 3, would give up).
const RETRIED: usize = 4;

async fn run(aws: &Aws, id: &str) -> exec::Outcome {
    let opts = exec::Options {
        settle_timeout: Duration::from_millis(1),
        poll: Duration::from_millis(1),
        trust_watch: Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    };
    let report = exec::execute(aws, None, &step(id), &opts, &Progress::Silent).await;
    report.outcomes.into_iter().next().expect("one outcome")
}

/// A modeled error with this code (as AWS's error body carries it).
macro_rules! coded {
    ($crate_:ident, $err:ty, $code:expr) => {
        || {
            <$err>::generic(
                $crate_::error::ErrorMetadata::builder()
                    .code($code)
                    .message(format!("{} (injected)", $code))
                    .build(),
            )
        }
    };
}

/// For one create call: throttled twice then OK; 503 twice then OK; AccessDenied once. `extra`:
/// answers for the step's other calls (the reads around a queue's create).
macro_rules! faults {
    ($test:ident, $svc:ident, $op:ident, $err:ty, $output:expr, $with:ident, $id:expr, $action:expr) => {
        faults!($test, $svc, $op, $err, $output, $with, $id, $action, extra: []);
    };
    ($test:ident, $svc:ident, $op:ident, $err:ty, $output:expr, $with:ident, $id:expr, $action:expr, extra: [$($extra:expr),*]) => {
        #[tokio::test]
        async fn $test() {
            use $svc::Client;
            let conf = common::mock_config().await;
            // Throttling, then success.
            let rule = mock!(Client::$op)
                .sequence()
                .error(coded!($svc, $err, "Throttling"))
                .times(RETRIED)
                .output($output)
                .build();
            let c = mocked!(&conf, $svc, RuleMode::MatchAny, [&rule $(, &$extra)*]);
            let o = run(&common::offline_aws().$with(c), $id).await;
            assert_eq!(o.status, Status::Done, "throttled: {:?}", o.error);
            assert_eq!(
                rule.num_calls(),
                RETRIED + 1,
                "throttled attempts, then the one that worked"
            );

            // 503 Service Unavailable, then success.
            let rule = mock!(Client::$op)
                .sequence()
                .http_status(503, None)
                .times(RETRIED)
                .output($output)
                .build();
            let c = mocked!(&conf, $svc, RuleMode::MatchAny, [&rule $(, &$extra)*]);
            let o = run(&common::offline_aws().$with(c), $id).await;
            assert_eq!(o.status, Status::Done, "503: {:?}", o.error);
            assert_eq!(rule.num_calls(), RETRIED + 1);

            // AccessDenied: one attempt, and the message names the permission.
            let rule = mock!(Client::$op).then_error(coded!($svc, $err, "AccessDenied"));
            let c = mocked!(&conf, $svc, RuleMode::MatchAny, [&rule $(, &$extra)*]);
            let o = run(&common::offline_aws().$with(c), $id).await;
            assert_eq!(o.status, Status::Failed);
            assert_eq!(rule.num_calls(), 1, "AccessDenied is not retried");
            let err = o.error.unwrap();
            assert!(
                err.contains("AccessDenied")
                    && err.contains(concat!("the caller needs permission for ", $action)),
                "{err}"
            );
        }
    };
}

faults!(
    create_role,
    aws_sdk_iam,
    create_role,
    aws_sdk_iam::operation::create_role::CreateRoleError,
    || aws_sdk_iam::operation::create_role::CreateRoleOutput::builder()
        .role(
            aws_sdk_iam::types::Role::builder()
                .path("/")
                .role_name("keda-operator")
                .role_id("AROA1")
                .arn("arn:aws:iam::123456789012:role/keda-operator")
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap()
        )
        .build(),
    with_iam,
    "iam:role/keda-operator",
    "iam:CreateRole"
);

faults!(
    create_queue,
    aws_sdk_sqs,
    create_queue,
    aws_sdk_sqs::operation::create_queue::CreateQueueError,
    || aws_sdk_sqs::operation::create_queue::CreateQueueOutput::builder()
        .queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/event-messages-queue")
        .build(),
    with_sqs,
    "queue:event-messages-queue",
    "sqs:CreateQueue",
    extra: [
        // Read right before the create: no such queue yet.
        mock!(aws_sdk_sqs::Client::get_queue_url).then_error(coded!(
            aws_sdk_sqs,
            aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError,
            "AWS.SimpleQueueService.NonExistentQueue"
        )),
        // Read back after it: the stack's tags and this cluster's key, nothing to add.
        mock!(aws_sdk_sqs::Client::list_queue_tags).then_output(|| {
            let plan = step("queue:event-messages-queue");
            let kedactl::plan::Action::CreateQueue { tags, .. } = &plan.steps[0].action else {
                unreachable!()
            };
            aws_sdk_sqs::operation::list_queue_tags::ListQueueTagsOutput::builder()
                .set_tags(Some(tags.clone().into_iter().collect()))
                .build()
        })
    ]
);

faults!(
    create_repository,
    aws_sdk_ecr,
    create_repository,
    aws_sdk_ecr::operation::create_repository::CreateRepositoryError,
    || aws_sdk_ecr::operation::create_repository::CreateRepositoryOutput::builder().build(),
    with_ecr,
    "registry:keda-pod-identity-registry",
    "ecr:CreateRepository"
);

faults!(
    create_addon,
    aws_sdk_eks,
    create_addon,
    aws_sdk_eks::operation::create_addon::CreateAddonError,
    || aws_sdk_eks::operation::create_addon::CreateAddonOutput::builder().build(),
    with_eks,
    "eks:addon/eks-pod-identity-agent",
    "eks:CreateAddon"
);

/// Reads too: a throttled GetRole during observation is retried, and the plan is made.
#[tokio::test]
async fn a_throttled_read_is_retried_during_observation() {
    use aws_sdk_iam::Client;
    use aws_sdk_iam::operation::get_role::GetRoleError;
    let get = mock!(Client::get_role)
        .sequence()
        .error(coded!(aws_sdk_iam, GetRoleError, "Throttling"))
        .times(RETRIED)
        .error(|| {
            GetRoleError::NoSuchEntityException(
                aws_sdk_iam::types::error::NoSuchEntityException::builder()
                    .message("no role")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    // The role's other reads go out in the same round trip; IAM answers them for a role that
    // does not exist with NoSuchEntity too.
    let no_such = || {
        aws_sdk_iam::types::error::NoSuchEntityException::builder()
            .message("no role")
            .build()
    };
    let lists = mock!(Client::list_role_policies).then_error(move || {
        aws_sdk_iam::operation::list_role_policies::ListRolePoliciesError::NoSuchEntityException(
            no_such(),
        )
    });
    let attached = mock!(Client::list_attached_role_policies).then_error(move || {
        aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesError::NoSuchEntityException(no_such())
    });
    let tags = mock!(Client::list_role_tags).then_error(move || {
        aws_sdk_iam::operation::list_role_tags::ListRoleTagsError::NoSuchEntityException(no_such())
    });
    let inline =
        mock!(Client::get_role_policy).then_error(move || {
            aws_sdk_iam::operation::get_role_policy::GetRolePolicyError::NoSuchEntityException(
                no_such(),
            )
        });
    let c = mocked!(
        &common::mock_config().await,
        aws_sdk_iam,
        RuleMode::MatchAny,
        [&get, &lists, &attached, &tags, &inline]
    );
    let aws = common::offline_aws().with_iam(c);
    let caller = kedactl::observed::Caller {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/me".into(),
    };
    let o = kedactl::observe::observe(
        &aws,
        &common::seed_desired(),
        &Only::new(vec![Group::Iam]),
        caller,
    )
    .await
    .unwrap();
    assert!(o.roles.is_empty() && o.denied.is_empty());
    assert!(
        get.num_calls() > RETRIED + 1,
        "throttled attempts + one per role: {}",
        get.num_calls()
    );
}

#[test]
fn production_policy_is_adaptive_with_ten_attempts() {
    let p = retry_config(Retries::default(), None);
    assert_eq!(p.mode(), aws_config::retry::RetryMode::Adaptive);
    assert_eq!(p.max_attempts(), 10);
    // AWS's Retry Behavior 2.1: each retry takes a token from the service's rate limiter, so a
    // throttled burst is not sent again all at once.
    assert!(
        p.retry_spec()
            .is_some_and(|s| s.is_at_least(aws_smithy_types::retry::RetrySpec::V2_1)),
        "{p:?}"
    );
    // --max-attempts / AWS_MAX_ATTEMPTS and --retry-mode / AWS_RETRY_MODE.
    let p = retry_config(
        Retries {
            max_attempts: 9,
            mode: RetryMode::Standard,
        },
        None,
    );
    assert_eq!(p.mode(), aws_config::retry::RetryMode::Standard);
    assert_eq!(p.max_attempts(), 9);
}

/// An endpoint that takes the request and never answers; counts the requests it took.
#[derive(Debug, Clone, Default)]
struct Silent(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl aws_smithy_runtime_api::client::http::HttpConnector for Silent {
    fn call(
        &self,
        _: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(std::future::pending())
    }
}

/// An HTTP client whose every connection is `connector`.
fn client_of(
    connector: impl aws_smithy_runtime_api::client::http::HttpConnector + Clone + 'static,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_runtime_api::client::http::http_client_fn(move |_, _| {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(connector.clone())
    })
}

/// A silent endpoint ends the call at the call timeout instead of hanging the run, after one
/// attempt: retrying what did not answer would multiply the wait by the attempts.
#[tokio::test]
async fn a_silent_endpoint_ends_the_call_at_the_call_timeout() {
    let timeouts = kedactl::limits::Timeouts {
        connect: Duration::from_millis(200),
        call: Duration::from_millis(200),
    };
    let silent = Silent::default();
    let conf = common::client_config(timeouts, client_of(silent.clone())).await;
    let sqs = Aws::from_config(&conf).sqs;
    let call = sqs.list_queues().send();
    let result = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call must end at its timeout, not hang");
    let err = result.expect_err("no answer is an error");
    // Timed from when the request went out (`cloud::in_flight`), not by the SDK's attempt timer.
    assert!(
        matches!(&err, aws_sdk_sqs::error::SdkError::DispatchFailure(d) if d.is_timeout()),
        "{err:?}"
    );
    assert!(
        kedactl::cloud::CallError::new("ListQueues", "SQS", &err)
            .to_string()
            .contains("no answer in time"),
        "{err:?}"
    );
    assert_eq!(silent.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Answers every request after 50 ms, counting how many are in flight at once.
#[derive(Debug, Clone, Default)]
struct Counting {
    now: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    most: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for Counting {
    fn call(
        &self,
        _: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use std::sync::atomic::Ordering::SeqCst;
        let c = self.clone();
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(async move {
            let n = c.now.fetch_add(1, SeqCst) + 1;
            c.most.fetch_max(n, SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            c.now.fetch_sub(1, SeqCst);
            Ok(aws_smithy_runtime_api::http::Response::new(
                200.try_into().unwrap(),
                // SQS's JSON protocol: no queues. (STS cannot parse it: an error, counted all the same.)
                aws_smithy_types::body::SdkBody::from("{}"),
            ))
        })
    }
}

/// Issue 28: at most `--max-in-flight` requests per service are on the wire at once; the rest
/// wait their turn (and are not timed out while they wait), and each service has its own cap.
#[tokio::test]
async fn requests_in_flight_are_capped_per_service() {
    use std::sync::atomic::Ordering::SeqCst;
    let counting = Counting::default();
    let timeouts = kedactl::limits::Timeouts {
        connect: Duration::from_secs(5),
        call: Duration::from_millis(400),
    };
    let conf = common::client_config(timeouts, client_of(counting.clone())).await;
    let calls = |aws: Aws, n: usize| async move {
        let sqs = (0..n).map(|_| aws.sqs.list_queues().send());
        let sts = (0..n).map(|_| aws.sts.get_caller_identity().send());
        let (sqs, _) = futures_util::future::join(
            futures_util::future::join_all(sqs),
            futures_util::future::join_all(sts),
        )
        .await;
        sqs
    };
    // 40 SQS calls of 50 ms, 4 at a time: 500 ms in all, more than the 400 ms call timeout,
    // yet every call answers. STS's 40 go beside them, 4 at a time too.
    let answers = calls(Aws::from_config_limited(&conf, 4), 40).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(counting.most.load(SeqCst), 8, "4 SQS and 4 STS at once");
    // The default cap lets a smaller burst go out at once.
    counting.most.store(0, SeqCst);
    calls(Aws::from_config(&conf), 20).await;
    assert_eq!(counting.most.load(SeqCst), 40);
}
