//! The AMP workspace's create-and-wait paths that moto cannot reach (its workspaces are ACTIVE at
//! once): the real executor over an SDK client answered by aws-smithy-mocks rules.

mod common;
use aws_sdk_amp::Client;
use aws_sdk_amp::operation::create_workspace::CreateWorkspaceOutput;
use aws_sdk_amp::operation::describe_workspace::{DescribeWorkspaceError, DescribeWorkspaceOutput};
use aws_sdk_amp::types::error::ResourceNotFoundException;
use aws_sdk_amp::types::{WorkspaceDescription, WorkspaceStatus, WorkspaceStatusCode};
use aws_smithy_mocks::{RuleMode, mock};
use common::mocked;
use kedactl::exec::{self, Status};
use kedactl::model::Group;
use kedactl::output::progress::Progress;
use kedactl::plan::{Action, Change, Plan, Step};
use kedactl::triggers::resource::Kind;
use std::time::Duration;

const ID: &str = "ws-11111111-2222-3333-4444-555555555555";
const ARN: &str =
    "arn:aws:aps:us-east-1:123456789012:workspace/ws-11111111-2222-3333-4444-555555555555";

fn status(code: WorkspaceStatusCode) -> WorkspaceStatus {
    WorkspaceStatus::builder()
        .status_code(code)
        .build()
        .unwrap()
}

fn created() -> CreateWorkspaceOutput {
    CreateWorkspaceOutput::builder()
        .workspace_id(ID)
        .arn(ARN)
        .status(status(WorkspaceStatusCode::Creating))
        .build()
        .unwrap()
}

fn described(code: WorkspaceStatusCode) -> DescribeWorkspaceOutput {
    DescribeWorkspaceOutput::builder()
        .workspace(
            WorkspaceDescription::builder()
                .workspace_id(ID)
                .arn(ARN)
                .alias("AMP-KEDA")
                .status(status(code))
                .created_at(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
}

fn create_step() -> Plan {
    Plan {
        steps: vec![Step {
            id: "aps:workspace/AMP-KEDA".into(),
            group: Group::Source,
            change: Change::Create,
            summary: "create AMP workspace AMP-KEDA".into(),
            action: Action::CreateResource {
                resource: Kind::AmpWorkspace,
                name: "AMP-KEDA".into(),
                tags: Default::default(),
                settings: serde_json::Value::Null,
            },
            after: vec![],
            changes: vec![],
        }],
    }
}

async fn run(rules: &[&aws_smithy_mocks::Rule], timeout: Duration) -> exec::Report {
    let amp = mocked!(
        &common::mock_config().await,
        aws_sdk_amp,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    let aws = common::offline_aws().with_amp(amp);
    let opts = exec::Options {
        poll: Duration::from_millis(1),
        addon_timeout: timeout,
        ..exec::Options::new("demo", "kedactl")
    };
    exec::execute(&aws, None, &create_step(), &opts, &Progress::Silent).await
}

#[tokio::test]
async fn a_new_workspace_is_waited_for_until_active() {
    let create = mock!(Client::create_workspace).then_output(created);
    let describe = mock!(Client::describe_workspace)
        .sequence()
        .output(|| described(WorkspaceStatusCode::Creating))
        .times(2)
        .output(|| described(WorkspaceStatusCode::Active))
        .build();
    let report = run(&[&create, &describe], Duration::from_secs(5)).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(describe.num_calls(), 3);
}

#[tokio::test]
async fn a_workspace_that_fails_to_create_fails_the_step_with_its_status() {
    let create = mock!(Client::create_workspace).then_output(created);
    let describe = mock!(Client::describe_workspace)
        .then_output(|| described(WorkspaceStatusCode::CreationFailed));
    let report = run(&[&create, &describe], Duration::from_secs(5)).await;
    let o = &report.outcomes[0];
    assert_eq!(o.status, Status::Failed);
    assert_eq!(
        o.error.as_deref().unwrap(),
        format!(
            "AMP workspace AMP-KEDA ({ID}) is CREATION_FAILED, not usable; see the AWS console or `kedactl doctor`"
        )
    );
}

#[tokio::test]
async fn a_workspace_that_disappears_or_never_gets_ready_is_named() {
    let create = mock!(Client::create_workspace).then_output(created);
    let gone = mock!(Client::describe_workspace).then_error(|| {
        DescribeWorkspaceError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("not found")
                .resource_id(ID)
                .resource_type("Workspace")
                .build()
                .unwrap(),
        )
    });
    let report = run(&[&create, &gone], Duration::from_secs(5)).await;
    assert!(
        report.outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .ends_with("disappeared while it was being created"),
        "{report:#?}"
    );

    let create = mock!(Client::create_workspace).then_output(created);
    let creating = mock!(Client::describe_workspace)
        .sequence()
        .output(|| described(WorkspaceStatusCode::Creating))
        .repeatedly()
        .build();
    let report = run(&[&create, &creating], Duration::from_millis(20)).await;
    assert!(
        report.outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .contains("is still CREATING after 0 s; run `kedactl up` again to keep waiting"),
        "{report:#?}"
    );
}
