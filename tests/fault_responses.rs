//! Fault responses on each kind of AWS call the executor and the observer make, injected with
//! aws-smithy-mocks under kedactl's own retry policy (`cloud::retry_config`, backoff shortened):
//! throttling and 5xx are retried and the step completes; AccessDenied fails at once (one
//! attempt, no retry storm) with a message naming the missing permission.

mod common;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use kedactl::cloud::{Aws, retry_config};
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

/// kedactl's retry policy with a test-sized backoff. The mock clients run on a frozen test clock,
/// under which adaptive mode's client-side rate limiter never refills (the call would wait
/// forever); what is retried, and how often, is the same in standard mode, which is what these
/// tests pin down. `production_policy_is_adaptive_with_five_attempts` pins the mode itself.
fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(retry_config().max_attempts())
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

async fn run(aws: &Aws, id: &str) -> exec::Outcome {
    let opts = exec::Options {
        settle_timeout: Duration::from_millis(1),
        poll: Duration::from_millis(1),
        ..exec::Options::new("demo")
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

/// For one create call: throttled twice then OK; 503 twice then OK; AccessDenied once.
macro_rules! faults {
    ($test:ident, $svc:ident, $op:ident, $err:ty, $output:expr, $with:ident, $id:expr, $action:expr) => {
        #[tokio::test]
        async fn $test() {
            use $svc::Client;
            // Throttling, then success.
            let rule = mock!(Client::$op)
                .sequence()
                .error(coded!($svc, $err, "Throttling"))
                .times(2)
                .output($output)
                .build();
            let c = mock_client!($svc, RuleMode::Sequential, [&rule], |c| c
                .retry_config(retries()));
            let o = run(&common::offline_aws().$with(c), $id).await;
            assert_eq!(o.status, Status::Done, "throttled: {:?}", o.error);
            assert_eq!(
                rule.num_calls(),
                3,
                "two throttled attempts, then the one that worked"
            );

            // 503 Service Unavailable, then success.
            let rule = mock!(Client::$op)
                .sequence()
                .http_status(503, None)
                .times(2)
                .output($output)
                .build();
            let c = mock_client!($svc, RuleMode::Sequential, [&rule], |c| c
                .retry_config(retries()));
            let o = run(&common::offline_aws().$with(c), $id).await;
            assert_eq!(o.status, Status::Done, "503: {:?}", o.error);
            assert_eq!(rule.num_calls(), 3);

            // AccessDenied: one attempt, and the message names the permission.
            let rule = mock!(Client::$op).then_error(coded!($svc, $err, "AccessDenied"));
            let c = mock_client!($svc, RuleMode::Sequential, [&rule], |c| c
                .retry_config(retries()));
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
    "sqs:CreateQueue"
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
        .times(2)
        .error(|| {
            GetRoleError::NoSuchEntityException(
                aws_sdk_iam::types::error::NoSuchEntityException::builder()
                    .message("no role")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let c = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&get], |c| c
        .retry_config(retries()));
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
        get.num_calls() >= 4,
        "2 throttled + one per role: {}",
        get.num_calls()
    );
}

#[test]
fn production_policy_is_adaptive_with_five_attempts() {
    let p = retry_config();
    assert_eq!(p.mode(), aws_config::retry::RetryMode::Adaptive);
    assert_eq!(p.max_attempts(), 5);
}
