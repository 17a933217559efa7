//! The AMP workspace's create-and-wait paths that moto cannot reach (its workspaces are ACTIVE at
//! once), and the AMP managed scraper, which moto lacks: the real executor over SDK clients
//! answered by aws-smithy-mocks rules (`support/amp.rs` keeps AMP's state and its refusals).

#[path = "support/amp.rs"]
mod amp;
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
        trust_watch: std::time::Duration::from_millis(1),
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

const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:123456789012:cluster/demo";

/// An EKS that answers DescribeCluster for `demo` with this access mode, private endpoint and
/// subnets (keep the rule alive).
fn eks(
    mode: &'static str,
    private: bool,
    subnets: &[&str],
) -> (aws_sdk_eks::Client, aws_smithy_mocks::Rule) {
    use aws_sdk_eks::types::{AccessConfigResponse, Cluster, VpcConfigResponse};
    let subnets: Vec<String> = subnets.iter().map(|s| s.to_string()).collect();
    let rule = mock!(aws_sdk_eks::Client::describe_cluster).then_compute_output(move |_| {
        aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name("demo")
                    .arn(CLUSTER_ARN)
                    .access_config(
                        AccessConfigResponse::builder()
                            .authentication_mode(mode.into())
                            .build(),
                    )
                    .resources_vpc_config(
                        VpcConfigResponse::builder()
                            .set_subnet_ids(Some(subnets.clone()))
                            .cluster_security_group_id("sg-cluster")
                            .security_group_ids("sg-extra")
                            .endpoint_private_access(private)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let client = aws_smithy_mocks::mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&rule]);
    (client, rule)
}

/// An ACTIVE workspace in the mocked AMP; its ARN.
fn workspace(state: &amp::Amp) -> String {
    let arn = "arn:aws:aps:us-east-1:123456789012:workspace/ws-live".to_string();
    state.state().workspaces.push(amp::Workspace {
        id: "ws-live".into(),
        arn: arn.clone(),
        alias: "AMP-KEDA".into(),
        status: "ACTIVE",
        tags: Default::default(),
        polls: 0,
    });
    arn
}

fn one(id: &str, action: Action) -> Plan {
    Plan {
        steps: vec![Step {
            id: id.into(),
            group: Group::Source,
            change: Change::Create,
            summary: id.into(),
            action,
            after: vec![],
            changes: vec![],
        }],
    }
}

fn create_scraper(workspace_arn: &str) -> (Plan, serde_json::Value) {
    let r = kedactl::triggers::prometheus::scraper::resource(
        "demo",
        CLUSTER_ARN,
        "AMP-KEDA",
        workspace_arn.to_string(),
    )
    .unwrap();
    let tags = kedactl::model::ownership("kedactl");
    let settings = r.settings.clone();
    let id = r.id();
    let action = Action::CreateResource {
        resource: Kind::AmpScraper,
        name: r.name,
        tags,
        settings: r.settings,
    };
    (one(&id, action), settings)
}

async fn execute(aws: &kedactl::cloud::Aws, plan: &Plan) -> exec::Report {
    let opts = exec::Options {
        poll: Duration::from_millis(1),
        addon_timeout: Duration::from_secs(5),
        trust_watch: std::time::Duration::from_millis(1),
        ..exec::Options::new("demo", "kedactl")
    };
    exec::execute(aws, None, plan, &opts, &Progress::Silent).await
}

#[tokio::test]
async fn a_scraper_is_made_in_the_clusters_network_and_waited_for_until_active() {
    let (client, _rules, state) = amp::stateful();
    state.state().settle = 2;
    let ws = workspace(&state);
    let (eks, _eks_rule) = eks("API_AND_CONFIG_MAP", true, &["subnet-0a", "subnet-0b"]);
    let aws = common::offline_aws().with_amp(client).with_eks(eks);
    let (plan, settings) = create_scraper(&ws);
    let report = execute(&aws, &plan).await;
    assert!(report.ok(), "{report:#?}");

    let st = state.state();
    let s = &st.scrapers[0];
    assert_eq!(s.status, "ACTIVE", "waited for");
    assert_eq!(s.alias, "kedactl-demo-AMP-KEDA");
    assert_eq!(s.cluster_arn, CLUSTER_ARN);
    assert_eq!(
        s.subnets,
        ["subnet-0a", "subnet-0b"],
        "the cluster's subnets"
    );
    assert_eq!(s.security_groups, ["sg-cluster", "sg-extra"]);
    assert_eq!(s.workspace_arn, ws);
    assert_eq!(
        s.config,
        settings["scrapeConfiguration"].as_str().unwrap(),
        "the configuration arrives as rendered (the SDK base64-encodes the blob)"
    );
    assert_eq!(
        s.tags.get("kedactl.io/stack").map(String::as_str),
        Some("kedactl")
    );
    assert!(
        st.calls.iter().filter(|c| **c == "DescribeScraper").count() >= 2,
        "{:?}",
        st.calls
    );
}

/// An EKS cluster may have 16 subnets (eksctl makes 6); AMP takes at most five.
#[tokio::test]
async fn a_cluster_with_many_subnets_gets_a_scraper_in_five_of_them() {
    let (client, _rules, state) = amp::stateful();
    let ws = workspace(&state);
    let many = [
        "subnet-1", "subnet-2", "subnet-3", "subnet-4", "subnet-5", "subnet-6", "subnet-7",
    ];
    let (eks, _eks_rule) = eks("API", true, &many);
    let aws = common::offline_aws().with_amp(client).with_eks(eks);
    let report = execute(&aws, &create_scraper(&ws).0).await;
    assert!(report.ok(), "{report:#?}");
    assert_eq!(state.state().scrapers[0].subnets, many[..5]);
}

#[tokio::test]
async fn a_scraper_that_fails_to_create_says_why() {
    let (client, _rules, state) = amp::stateful();
    state.state().fail_scraper = Some("Insufficient free IP addresses in subnet subnet-0a".into());
    let ws = workspace(&state);
    let (eks, _eks_rule) = eks("API", true, &["subnet-0a", "subnet-0b"]);
    let aws = common::offline_aws().with_amp(client).with_eks(eks);
    let report = execute(&aws, &create_scraper(&ws).0).await;
    let error = report.outcomes[0].error.as_deref().unwrap();
    assert!(
        error.contains(
            "is CREATION_FAILED, not usable (Insufficient free IP addresses in subnet subnet-0a)"
        ),
        "{error}"
    );
}

/// The plan's check is repeated by the create: the cluster may have changed since, or the plan
/// was made without reading it (`--only source` from an older kedactl, a plan file).
#[tokio::test]
async fn a_cluster_amp_cannot_scrape_is_refused_before_anything_is_made() {
    for (mode, private, subnets, says) in [
        (
            "CONFIG_MAP",
            true,
            vec!["subnet-0a", "subnet-0b"],
            "authenticationMode=API_AND_CONFIG_MAP",
        ),
        (
            "API",
            false,
            vec!["subnet-0a", "subnet-0b"],
            "endpointPrivateAccess=true",
        ),
        ("API", true, vec!["subnet-0a"], "two Availability Zones"),
    ] {
        let (client, _rules, state) = amp::stateful();
        let ws = workspace(&state);
        let (eks, _eks_rule) = eks(mode, private, &subnets);
        let aws = common::offline_aws().with_amp(client).with_eks(eks);
        let report = execute(&aws, &create_scraper(&ws).0).await;
        let error = report.outcomes[0].error.as_deref().unwrap();
        assert!(error.contains(says), "{mode}: {error}");
        assert!(!state.state().calls.contains(&"CreateScraper"), "{mode}");
    }
}

#[tokio::test]
async fn a_scraper_still_being_created_is_waited_for_then_deleted() {
    let (client, _rules, state) = amp::stateful();
    let ws = workspace(&state);
    state.state().scrapers.push(amp::Scraper {
        id: "s-1".into(),
        arn: "arn:aws:aps:us-east-1:123456789012:scraper/s-1".into(),
        alias: "kedactl-demo-AMP-KEDA".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        cluster_arn: CLUSTER_ARN.into(),
        subnets: vec!["subnet-0a".into(), "subnet-0b".into()],
        security_groups: vec![],
        workspace_arn: ws,
        config: String::new(),
        status: "CREATING",
        reason: None,
        tags: kedactl::model::ownership("kedactl").into_iter().collect(),
        polls: 3,
    });
    let aws = common::offline_aws().with_amp(client);
    let plan = one(
        "aps:scraper/kedactl-demo-AMP-KEDA",
        Action::DeleteResource {
            resource: Kind::AmpScraper,
            name: "kedactl-demo-AMP-KEDA".into(),
            id: "s-1".into(),
            arn: "arn:aws:aps:us-east-1:123456789012:scraper/s-1".into(),
            force: false,
            loses: None,
        },
    );
    let report = execute(&aws, &plan).await;
    assert!(report.ok(), "{report:#?}");
    let st = state.state();
    assert_eq!(
        st.calls.iter().filter(|c| **c == "DeleteScraper").count(),
        1,
        "one delete, once it was ACTIVE (AMP refuses one while CREATING): {:?}",
        st.calls
    );
    assert_eq!(st.scrapers[0].status, "DELETING");
}
