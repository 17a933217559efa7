//! The IAM policy simulator path of doctor (moto answers SimulatePrincipalPolicy with HTTP 500):
//! the real gathering code over an IAM client answered by aws-smithy-mocks, then the checks.

mod common;
use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
use aws_sdk_iam::operation::list_role_tags::ListRoleTagsOutput;
use aws_sdk_iam::operation::simulate_principal_policy::{
    SimulatePrincipalPolicyError, SimulatePrincipalPolicyOutput,
};
use aws_sdk_iam::types::{EvaluationResult, PolicyEvaluationDecisionType, Role};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use kedactl::cloud::Aws;
use kedactl::doctor::{Evidence, Status, checks, gather};
use kedactl::model::{Group, Only};
use kedactl::observed::Caller;

const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/ci/run-7";

fn caller() -> Caller {
    Caller {
        account: "123456789012".into(),
        arn: CALLER.into(),
    }
}

/// Answers for the role reads of the iam group (roles exist, no policies: not under test).
macro_rules! role_reads {
    () => {
        [
            mock!(Client::get_role).then_output(|| {
                GetRoleOutput::builder()
                    .role(
                        Role::builder()
                            .path("/")
                            .role_name("r")
                            .role_id("AROAEXAMPLE")
                            .arn("arn:aws:iam::123456789012:role/r")
                            .create_date(aws_smithy_types::DateTime::from_secs(0))
                            .assume_role_policy_document("%7B%7D")
                            .build()
                            .unwrap(),
                    )
                    .build()
            }),
            mock!(Client::list_role_policies).then_output(|| {
                ListRolePoliciesOutput::builder()
                    .set_policy_names(Some(vec![]))
                    .build()
                    .unwrap()
            }),
            mock!(Client::list_attached_role_policies)
                .then_output(|| ListAttachedRolePoliciesOutput::builder().build()),
            mock!(Client::list_role_tags).then_output(|| {
                ListRoleTagsOutput::builder()
                    .set_tags(Some(vec![]))
                    .build()
                    .unwrap()
            }),
            // The inline policies the config expects are asked for in the same round trip;
            // IAM answers NoSuchEntity for one the role does not have.
            mock!(Client::get_role_policy).then_error(|| {
                aws_sdk_iam::operation::get_role_policy::GetRolePolicyError::NoSuchEntityException(
                    aws_sdk_iam::types::error::NoSuchEntityException::builder()
                        .message(
                            "The role policy with name kedactl-assume-identity cannot be found.",
                        )
                        .build(),
                )
            }),
        ]
    };
}

/// Clients whose IAM calls are answered by mocks.
fn aws(iam: Client) -> Aws {
    common::offline_aws().with_iam(iam)
}

/// The seed stack's AWS side (the iam group), gathered through `iam`.
async fn gathered(iam: Client) -> (kedactl::render::Desired, Evidence) {
    let d = common::seed_desired();
    let mut e = Evidence::default();
    gather::aws_side(
        &aws(iam),
        &d,
        &Only::new(vec![Group::Iam]),
        caller(),
        &mut e,
    )
    .await;
    (d, e)
}

#[tokio::test]
async fn a_pass_role_the_simulator_denies_fails_kd029() {
    let sim = mock!(Client::simulate_principal_policy).then_output(|| {
        SimulatePrincipalPolicyOutput::builder()
            .evaluation_results(
                EvaluationResult::builder()
                    .eval_action_name("iam:PassRole")
                    .eval_decision(PolicyEvaluationDecisionType::ImplicitDeny)
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let [a, b, c, d, p] = role_reads!();
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&a, &b, &c, &d, &p, &sim]);
    let (d, e) = gathered(iam).await;
    assert!(e.simulator_skipped.is_none(), "{:?}", e.simulator_skipped);
    // The session was simulated as its role; every question got an answer.
    assert!(
        e.simulations
            .keys()
            .any(|k| k.starts_with(CALLER) && k.contains("iam:PassRole")),
        "{:?}",
        e.simulations
    );
    assert!(sim.num_calls() >= 3);
    let findings = checks::run(&d, &e);
    let kd029 = findings.iter().find(|f| f.code == "KD029").unwrap();
    assert_eq!(kd029.status, Status::Fail, "{kd029:#?}");
    assert!(
        kd029.evidence[0]
            .contains("iam:PassRole on arn:aws:iam::123456789012:role/keda-operator: implicitDeny"),
        "{kd029:#?}"
    );
    assert!(
        kd029
            .fix
            .as_deref()
            .unwrap()
            .contains("iam:PassedToService")
    );
}

#[tokio::test]
async fn a_simulator_that_cannot_answer_skips_its_checks_once() {
    let sim = mock!(Client::simulate_principal_policy)
        .then_error(|| SimulatePrincipalPolicyError::unhandled("HTTP 500: NotImplementedError"));
    let [a, b, c, d, p] = role_reads!();
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&a, &b, &c, &d, &p, &sim]);
    let (d, e) = gathered(iam).await;
    assert_eq!(
        sim.num_calls(),
        1,
        "asked once, not retried, not asked again"
    );
    assert!(
        e.simulator_skipped
            .as_deref()
            .unwrap()
            .contains("documents were evaluated instead")
    );
    let kd029 = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD029")
        .unwrap();
    assert_eq!(kd029.status, Status::Skipped);
}

/// Without `render --caller-policy --caller-arn`, the caller may not ask the simulator about
/// itself: that one question is refused (AccessDenied), the others are answered. Only KD029,
/// whose question it was, could not check; KD015 keeps the simulator's answer about the queue.
#[tokio::test]
async fn a_refused_question_leaves_the_others_answered() {
    const CALLER_ROLE: &str = "arn:aws:iam::123456789012:role/ci";
    let refused = mock!(Client::simulate_principal_policy)
        .match_requests(|r| r.policy_source_arn() == Some(CALLER_ROLE))
        .then_error(|| {
            SimulatePrincipalPolicyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message(format!(
                        "User: {CALLER} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: {CALLER_ROLE}"
                    ))
                    .build(),
            )
        });
    let sim = mock!(Client::simulate_principal_policy).then_output(|| {
        SimulatePrincipalPolicyOutput::builder()
            .evaluation_results(
                EvaluationResult::builder()
                    .eval_action_name("sqs:GetQueueAttributes")
                    .eval_decision(PolicyEvaluationDecisionType::ImplicitDeny)
                    .build()
                    .unwrap(),
            )
            .build()
    });
    // KD015 reads the identity role as the roleArn names it.
    let identity = mock!(Client::get_role)
        .match_requests(|r| r.role_name() == Some("keda-identity"))
        .then_output(|| {
            GetRoleOutput::builder()
                .role(
                    Role::builder()
                        .path("/")
                        .role_name("keda-identity")
                        .role_id("AROAIDENTITY")
                        .arn("arn:aws:iam::123456789012:role/keda-identity")
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .assume_role_policy_document("%7B%7D")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let [a, b, c, d, p] = role_reads!();
    let iam = mock_client!(
        aws_sdk_iam,
        RuleMode::MatchAny,
        [&identity, &a, &b, &c, &d, &p, &refused, &sim]
    );
    let (d, e) = gathered(iam).await;
    assert!(e.simulator_skipped.is_none(), "{:?}", e.simulator_skipped);
    assert!(refused.num_calls() >= 1 && sim.num_calls() >= 2);
    let findings = checks::run(&d, &e);
    let find = |code: &str| findings.iter().find(|f| f.code == code).unwrap();
    let kd029 = find("KD029");
    assert_eq!(kd029.status, Status::Skipped, "{kd029:#?}");
    assert!(
        kd029.evidence[0].starts_with("could not check: ")
            && kd029.evidence[0].contains(CALLER_ROLE)
            && kd029.evidence[0].contains("AccessDenied")
            && !kd029.evidence[0].contains('\n'),
        "{kd029:#?}"
    );
    let kd015 = find("KD015");
    assert!(
        kd015
            .evidence
            .iter()
            .any(|l| l.starts_with("policy simulator: ")
                && l.contains("sqs:GetQueueAttributes")
                && l.ends_with("implicitDeny")),
        "{kd015:#?}"
    );
    assert!(
        !kd015.evidence.iter().any(|l| l.contains("could not check")),
        "{kd015:#?}"
    );
}
