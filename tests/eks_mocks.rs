//! The EKS add-on and pod identity association paths, which moto does not implement (404):
//! the real observe/plan/execute code over an SDK client answered by aws-smithy-mocks rules.

mod common;
use aws_sdk_eks::operation::create_pod_identity_association::{
    CreatePodIdentityAssociationError, CreatePodIdentityAssociationOutput,
};
use aws_sdk_eks::operation::describe_addon::{DescribeAddonError, DescribeAddonOutput};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_pod_identity_association::DescribePodIdentityAssociationOutput;
use aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput;
use aws_sdk_eks::types::error::{
    InvalidParameterException, ResourceInUseException, ResourceNotFoundException,
};
use aws_sdk_eks::types::{
    Addon, AddonHealth, AddonIssue, AddonIssueCode, AddonStatus, Cluster, ClusterStatus,
    PodIdentityAssociation, PodIdentityAssociationSummary,
};
use aws_sdk_eks::{Client, operation};
use aws_smithy_mocks::{RuleMode, mock};
use common::mocked;
use kedactl::cloud::Aws;
use kedactl::exec::{self, Status};
use kedactl::model::{Group, Only, ownership};
use kedactl::output::progress::Progress;
use kedactl::plan::{self, Action, Observed, Plan};
use std::time::Duration;

/// The error metadata a real response carries (code and message from the body).
fn meta(code: &str, message: &str) -> aws_sdk_eks::error::ErrorMetadata {
    aws_sdk_eks::error::ErrorMetadata::builder()
        .code(code)
        .message(message)
        .build()
}

const OPERATOR_ARN: &str = "arn:aws:iam::123456789012:role/keda-operator";

fn fast() -> exec::Options {
    exec::Options {
        poll: Duration::from_millis(1),
        addon_timeout: Duration::from_secs(5),
        settle_timeout: Duration::from_secs(5),
        trust_watch: std::time::Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    }
}

fn eks_only() -> Only {
    Only::new(vec![Group::Eks])
}

fn addon(status: AddonStatus) -> DescribeAddonOutput {
    DescribeAddonOutput::builder()
        .addon(
            Addon::builder()
                .addon_name("eks-pod-identity-agent")
                .status(status)
                .build(),
        )
        .build()
}

fn step(plan: &Plan, id: &str) -> Plan {
    Plan {
        steps: plan.steps.iter().filter(|s| s.id == id).cloned().collect(),
    }
}

/// Clients whose EKS calls are answered by mocks; the other services are never called here.
fn aws(eks: Client) -> Aws {
    common::offline_aws().with_eks(eks)
}

#[tokio::test]
async fn observe_then_plan_the_eks_group() {
    let cluster = mock!(Client::describe_cluster).then_output(|| {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name("demo")
                    .arn("arn:aws:eks:us-east-1:123456789012:cluster/demo")
                    .status(ClusterStatus::Active)
                    .version("1.32")
                    .build(),
            )
            .build()
    });
    let no_addon = mock!(Client::describe_addon).then_error(|| {
        DescribeAddonError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No addon")
                .build(),
        )
    });
    let keda_list = mock!(Client::list_pod_identity_associations)
        .match_requests(|r| r.namespace() == Some("keda"))
        .then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(
                    PodIdentityAssociationSummary::builder()
                        .association_id("a-1")
                        .namespace("keda")
                        .service_account("keda-operator")
                        .build(),
                )
                .build()
        });
    let app_list = mock!(Client::list_pod_identity_associations)
        .match_requests(|r| r.namespace() == Some("security"))
        .then_output(|| ListPodIdentityAssociationsOutput::builder().build());
    let describe = mock!(Client::describe_pod_identity_association).then_output(|| {
        DescribePodIdentityAssociationOutput::builder()
            .association(
                PodIdentityAssociation::builder()
                    .association_id("a-1")
                    .namespace("keda")
                    .service_account("keda-operator")
                    .role_arn("arn:aws:iam::123456789012:role/old-role")
                    .set_tags(Some(ownership("kedactl").into_iter().collect()))
                    .build(),
            )
            .build()
    });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&cluster, &no_addon, &keda_list, &app_list, &describe]
    );
    let d = common::seed_desired();
    let caller = kedactl::observed::Caller {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/ci".into(),
    };
    let observed = kedactl::observe::observe(&aws(eks), &d, &eks_only(), caller)
        .await
        .unwrap();
    assert_eq!(observed.cluster.as_ref().unwrap().version, "1.32");
    assert!(observed.addon.is_none());
    assert_eq!(observed.associations.len(), 1);
    assert!(observed.denied.is_empty());

    let p = plan::plan(
        &d,
        &observed,
        &plan::Options {
            adopt: false,
            only: eks_only(),
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "eks:addon/eks-pod-identity-agent",
            "eks:addon/eks-pod-identity-agent/wait",
            "eks:association/keda/keda-operator",
            "eks:association/security/my-sqs-read-msgs",
        ]
    );
    assert!(
        matches!(&p.steps[2].action, Action::UpdateAssociation { association_id, role_arn, .. }
        if association_id == "a-1" && role_arn == OPERATOR_ARN)
    );
    assert_eq!(describe.num_calls(), 1);
}

#[tokio::test]
async fn a_denied_read_is_evidence_not_a_crash() {
    let cluster = mock!(Client::describe_cluster).then_output(|| {
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name("demo")
                    .status(ClusterStatus::Active)
                    .build(),
            )
            .build()
    });
    let denied = mock!(Client::describe_addon)
        .sequence()
        .http_status(403, Some(r#"{"__type":"AccessDeniedException","message":"not authorized to perform eks:DescribeAddon"}"#.into()))
        .build();
    let list = mock!(Client::list_pod_identity_associations)
        .then_output(|| ListPodIdentityAssociationsOutput::builder().build());
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&cluster, &denied, &list]
    );
    let caller = kedactl::observed::Caller {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/ci".into(),
    };
    let observed =
        kedactl::observe::observe(&aws(eks), &common::seed_desired(), &eks_only(), caller)
            .await
            .unwrap();
    assert_eq!(observed.denied.len(), 1);
    assert_eq!(observed.denied[0].operation, "DescribeAddon");
    assert!(
        observed.denied[0].message.contains("AccessDeniedException"),
        "{}",
        observed.denied[0].message
    );
    assert!(
        observed.denied[0].message.contains("eks:DescribeAddon"),
        "names the permission"
    );
}

/// The plan for an empty cluster's EKS group.
fn fresh_plan() -> Plan {
    plan::plan(
        &common::seed_desired(),
        &Observed::default(),
        &plan::Options {
            adopt: false,
            only: eks_only(),
            ..Default::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn the_addon_is_created_then_waited_for_until_active() {
    let create = mock!(Client::create_addon)
        .then_output(|| operation::create_addon::CreateAddonOutput::builder().build());
    let describe = mock!(Client::describe_addon)
        .sequence()
        .output(|| addon(AddonStatus::Creating))
        .times(2)
        .output(|| addon(AddonStatus::Active))
        .build();
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create, &describe]
    );
    let p = fresh_plan();
    let two = Plan {
        steps: p
            .steps
            .iter()
            .filter(|s| s.id.starts_with("eks:addon/"))
            .cloned()
            .collect(),
    };
    let report = exec::execute(&aws(eks), None, &two, &fast(), &Progress::Silent).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(create.num_calls(), 1);
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn a_failed_addon_reports_its_health_issues() {
    let describe = mock!(Client::describe_addon).then_output(|| {
        DescribeAddonOutput::builder()
            .addon(
                Addon::builder()
                    .addon_name("eks-pod-identity-agent")
                    .status(AddonStatus::CreateFailed)
                    .health(
                        AddonHealth::builder()
                            .issues(
                                AddonIssue::builder()
                                    .code(AddonIssueCode::InsufficientNumberOfReplicas)
                                    .message("The add-on is unhealthy because it doesn't have the desired number of replicas.")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&describe]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:addon/eks-pod-identity-agent/wait"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    let o = &report.outcomes[0];
    assert_eq!(o.status, Status::Failed);
    let err = o.error.as_deref().unwrap();
    assert!(
        err.contains("is CREATE_FAILED (InsufficientNumberOfReplicas: The add-on is unhealthy"),
        "{err}"
    );
    assert!(
        err.contains("aws eks describe-addon --cluster-name demo"),
        "{err}"
    );
}

#[tokio::test]
async fn the_addon_wait_gives_up_with_a_clear_message() {
    let describe = mock!(Client::describe_addon)
        .sequence()
        .output(|| addon(AddonStatus::Creating))
        .repeatedly()
        .build();
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&describe]
    );
    let opts = exec::Options {
        addon_timeout: Duration::from_millis(20),
        ..fast()
    };
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:addon/eks-pod-identity-agent/wait"),
        &opts,
        &Progress::Silent,
    )
    .await;
    let err = report.outcomes[0].error.as_deref().unwrap();
    assert!(
        err.contains("still CREATING after 0 s; run `kedactl up` again to keep waiting"),
        "{err}"
    );
}

#[tokio::test]
async fn a_fresh_role_is_retried_until_eks_accepts_its_trust() {
    let create = mock!(Client::create_pod_identity_association)
        .sequence()
        .error(|| {
            CreatePodIdentityAssociationError::InvalidParameterException(
                InvalidParameterException::builder()
                    .message("Trust policy of the role provided is invalid")
                    .meta(meta(
                        "InvalidParameterException",
                        "Trust policy of the role provided is invalid",
                    ))
                    .build(),
            )
        })
        .times(2)
        .output(|| CreatePodIdentityAssociationOutput::builder().build())
        .build();
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:association/keda/keda-operator"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(create.num_calls(), 3);
}

#[tokio::test]
async fn other_invalid_parameters_are_not_retried() {
    let create = mock!(Client::create_pod_identity_association).then_error(|| {
        CreatePodIdentityAssociationError::InvalidParameterException(
            InvalidParameterException::builder()
                .meta(meta(
                    "InvalidParameterException",
                    "Role must be in the same account as the cluster",
                ))
                .build(),
        )
    });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:association/keda/keda-operator"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    assert_eq!(report.outcomes[0].status, Status::Failed);
    assert!(
        report.outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .contains("Role must be in the same account")
    );
    assert_eq!(create.num_calls(), 1);
}

/// CreatePodIdentityAssociation says the service account already has one (another run made it
/// meanwhile): it is re-pointed at our role only when it carries this stack's tag.
async fn resource_in_use(owner: &str) -> (exec::Report, usize) {
    let create = mock!(Client::create_pod_identity_association).then_error(|| {
        CreatePodIdentityAssociationError::ResourceInUseException(
            ResourceInUseException::builder()
                .meta(meta("ResourceInUseException", "Association already exists"))
                .build(),
        )
    });
    let list = mock!(Client::list_pod_identity_associations).then_output(|| {
        ListPodIdentityAssociationsOutput::builder()
            .associations(
                PodIdentityAssociationSummary::builder()
                    .association_id("a-9")
                    .build(),
            )
            .build()
    });
    let tags: std::collections::HashMap<String, String> = ownership(owner).into_iter().collect();
    let describe = mock!(Client::describe_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-9"))
        .then_output(move || {
            DescribePodIdentityAssociationOutput::builder()
                .association(
                    PodIdentityAssociation::builder()
                        .association_id("a-9")
                        .set_tags(Some(tags.clone()))
                        .build(),
                )
                .build()
        });
    let update = mock!(Client::update_pod_identity_association)
        .match_requests(|r| r.association_id() == Some("a-9") && r.role_arn() == Some(OPERATOR_ARN))
        .then_output(|| {
            operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput::builder(
            )
            .build()
        });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create, &list, &describe, &update]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:association/keda/keda-operator"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    assert_eq!((create.num_calls(), list.num_calls()), (1, 1));
    (report, update.num_calls())
}

#[tokio::test]
async fn resource_in_use_repoints_the_existing_association_of_this_stack() {
    let (report, updates) = resource_in_use("kedactl").await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(updates, 1);
}

#[tokio::test]
async fn resource_in_use_leaves_another_stacks_association_alone() {
    let (report, updates) = resource_in_use("payments").await;
    assert_eq!(updates, 0, "someone else's association is not re-pointed");
    let error = report.outcomes[0].error.as_deref().unwrap_or_default();
    assert!(
        report.outcomes[0].status == Status::Failed
            && error.contains("ResourceInUseException")
            && error.contains("another `kedactl up`"),
        "{report:#?}"
    );
}

/// Associations are made and repaired with session tags on, explicitly: the scoped trust
/// conditions on the tags EKS then sends.
#[tokio::test]
async fn associations_are_made_and_repaired_with_session_tags_on() {
    let create = mock!(Client::create_pod_identity_association)
        .match_requests(|r| r.disable_session_tags() == Some(false))
        .then_output(|| CreatePodIdentityAssociationOutput::builder().build());
    let update = mock!(Client::update_pod_identity_association)
        .match_requests(|r| r.disable_session_tags() == Some(false))
        .then_output(|| {
            operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput::builder(
            )
            .build()
        });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&create, &update]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&fresh_plan(), "eks:association/keda/keda-operator"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    // An association found with its tags disabled is drift, repaired the same way.
    let d = common::seed_desired();
    let mut o = Observed::default();
    for (i, a) in d.associations.iter().enumerate() {
        o.associations.push(kedactl::observed::Association {
            id: format!("a-{i}"),
            namespace: a.namespace.clone(),
            service_account: a.service_account.clone(),
            role_arn: a.role_arn.clone(),
            tags: ownership(&d.stack),
            modified_at: None,
            session_tags_disabled: i == 0,
            target_role_arn: None,
        });
    }
    let repair = plan::plan(
        &d,
        &o,
        &plan::Options {
            adopt: false,
            only: eks_only(),
            ..Default::default()
        },
    )
    .unwrap();
    let ownership_check = mock!(Client::describe_pod_identity_association).then_output(|| {
        DescribePodIdentityAssociationOutput::builder()
            .association(
                PodIdentityAssociation::builder()
                    .association_id("a-0")
                    .set_tags(Some(ownership("kedactl").into_iter().collect()))
                    .build(),
            )
            .build()
    });
    let update = mock!(Client::update_pod_identity_association)
        .match_requests(|r| {
            r.disable_session_tags() == Some(false) && r.association_id() == Some("a-0")
        })
        .then_output(|| {
            operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput::builder(
            )
            .build()
        });
    let eks = mocked!(
        &common::mock_config().await,
        aws_sdk_eks,
        RuleMode::MatchAny,
        [&ownership_check, &update]
    );
    let report = exec::execute(
        &aws(eks),
        None,
        &step(&repair, "eks:association/keda/keda-operator"),
        &fast(),
        &Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(update.num_calls(), 1);
}

/// #38: when the tag search that finds what an earlier config named is refused, nothing is
/// added to prune, and what could not be looked at is named with the refusal (the commands say
/// "could not look for …; `up` will not delete any of them").
#[tokio::test]
async fn a_refused_tag_search_prunes_nothing_and_says_what_was_not_looked_at() {
    use aws_sdk_resourcegroupstagging::Client as Tagging;
    let denied = mock!(Tagging::get_resources).sequence().http_status(400, Some(
        r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: tag:GetResources"}"#.into(),
    )).build();
    let tagging = mocked!(
        &common::mock_config().await,
        aws_sdk_resourcegroupstagging,
        RuleMode::MatchAny,
        [&denied]
    );
    let aws = common::offline_aws().with_tagging(tagging);
    let desired = common::seed_desired();
    let only = Only::new(vec![Group::Queue, Group::Registry]);
    let mut o = Observed::default();
    let found = kedactl::observe::leftovers::search(&aws, &desired, &only).await;
    let unchecked =
        kedactl::observe::leftovers::aws_side(&aws, &desired, &only, found, &mut o).await;
    assert_eq!(unchecked.len(), 1, "{unchecked:?}");
    assert!(
        unchecked[0].starts_with("the stack's SQS queues and ECR repositories: ")
            && unchecked[0].contains("tag:GetResources"),
        "{}",
        unchecked[0]
    );
    assert!(o.queues.is_empty() && o.repositories.is_empty(), "{o:?}");
    assert_eq!(denied.num_calls(), 1);
}
