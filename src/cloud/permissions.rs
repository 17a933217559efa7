//! The IAM permission behind every AWS call kedactl makes: one table beside the calls, read by
//! `render --caller-policy` (the least-privilege policy a CI role needs) and checked against
//! the call log in tests, so a new call without its row fails a test instead of an AccessDenied
//! in someone's pipeline.

use crate::model::Group;

/// The commands a caller policy is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Command {
    /// Reads only
    Plan,
    /// plan's reads, the policy simulator, nodegroups and access entries, the metric reads
    Doctor,
    /// Reads, creates, updates, and removes what the config no longer has
    Up,
    /// Reads and deletes
    Down,
    /// `watch`, `scale` and `app-queue`: the triggers' metric reads (doctor reads them too)
    Watch,
    /// `load`: sends messages to the stack's queues
    Load,
}

impl Command {
    pub const DEFAULT: [Command; 4] = [Command::Up, Command::Plan, Command::Doctor, Command::Down];
}

/// What an action is granted on: the stack's resources of one kind (see `caller_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum On {
    /// No resource-level permissions (the Service Authorization Reference lists no resource
    /// type): `Resource: "*"`, always.
    Account,
    /// Resource-less, and only when the stack has an AMP workspace.
    AmpAccount,
    /// Resource-less, and only when an app's trigger is CloudWatch.
    CloudwatchAccount,
    /// The stack's IAM roles (operator and identity roles, on their path).
    Role,
    /// Whose permissions doctor asks the policy simulator about: the stack's roles and the
    /// caller itself (`--caller-arn`).
    Principal,
    /// The roles pod identity associations pass to EKS (`iam:PassRole`; none with IRSA).
    PassedRole,
    /// The IAM OIDC provider of the cluster's issuer (IRSA).
    OidcProvider,
    /// Managed policies attached to the stack's roles or used as their boundary.
    ManagedPolicy,
    /// The stack's SQS queues.
    Queue,
    /// The stack's queue names in any region (doctor looks for a queue created elsewhere).
    QueueAnyRegion,
    /// The KMS keys of the stack's queues.
    Key,
    Repository,
    Cluster,
    Nodegroup,
    /// The Pod Identity Agent add-on.
    Addon,
    Association,
    Workspace,
    Scraper,
    /// What a scraper joins: the cluster and the workspace (CreateScraper needs both).
    ScrapeTargets,
    /// The service-linked role AMP scrapers run as, created on the first scraper.
    ScraperServiceRole,
    /// The cluster's subnets and security groups, read by AMP while it creates a scraper
    /// (resource-less, and only through AMP: `aws:CalledVia`).
    ScraperNetwork,
    Stream,
    Table,
    /// A DynamoDB table's streams.
    TableStream,
}

/// One AWS operation and the IAM action it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// The SDK's service name, lower case (the call log's `Call::service`).
    pub service: &'static str,
    /// The operation (the call log's `Call::operation`).
    pub operation: &'static str,
    pub action: &'static str,
    pub on: On,
    /// The `--only` group whose calls make it; None: every group's.
    pub group: Option<Group>,
    pub used_by: &'static [Command],
}

use Command::{Doctor as D, Down as X, Load as L, Plan as P, Up as U, Watch as W};
/// The reads of `observe`: every command that compares the stack with what exists.
const READ: &[Command] = &[P, D, U, X];
/// Deletes and untags: `down`, and `up` when the plan removes what the config no longer has.
const REMOVE: &[Command] = &[U, X];
const IAM: Option<Group> = Some(Group::Iam);
const QUEUE: Option<Group> = Some(Group::Queue);
const REGISTRY: Option<Group> = Some(Group::Registry);
const EKS: Option<Group> = Some(Group::Eks);
const SOURCE: Option<Group> = Some(Group::Source);

const fn p(
    service: &'static str,
    operation: &'static str,
    action: &'static str,
    on: On,
    group: Option<Group>,
    used_by: &'static [Command],
) -> Permission {
    Permission {
        service,
        operation,
        action,
        on,
        group,
        used_by,
    }
}

/// Every operation kedactl calls (`src/observe`, `src/exec`, `src/doctor/gather.rs`,
/// `src/triggers`), with its IAM action. Resource types follow the Service Authorization
/// Reference (parliament's copy of it checks each rendered statement). An operation may need
/// more than one action (CreatePodIdentityAssociation also passes the role).
#[rustfmt::skip]
pub const PERMISSIONS: &[Permission] = &[
    p("sts", "GetCallerIdentity", "sts:GetCallerIdentity", On::Account, None, READ),
    // IAM: the stack's roles.
    p("iam", "GetRole", "iam:GetRole", On::Role, IAM, READ),
    p("iam", "ListRolePolicies", "iam:ListRolePolicies", On::Role, IAM, READ),
    p("iam", "GetRolePolicy", "iam:GetRolePolicy", On::Role, IAM, READ),
    p("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", On::Role, IAM, READ),
    p("iam", "ListRoleTags", "iam:ListRoleTags", On::Role, IAM, READ),
    p("iam", "GetPolicy", "iam:GetPolicy", On::ManagedPolicy, IAM, READ),
    p("iam", "GetPolicyVersion", "iam:GetPolicyVersion", On::ManagedPolicy, IAM, READ),
    p("iam", "ListOpenIDConnectProviders", "iam:ListOpenIDConnectProviders", On::Account, IAM, READ),
    p("iam", "GetOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", On::OidcProvider, IAM, READ),
    p("iam", "ListRoles", "iam:ListRoles", On::Account, IAM, READ),
    p("iam", "SimulatePrincipalPolicy", "iam:SimulatePrincipalPolicy", On::Principal, IAM, &[D]),
    p("iam", "CreateRole", "iam:CreateRole", On::Role, IAM, &[U]),
    p("iam", "CreateRole", "iam:TagRole", On::Role, IAM, &[U]),
    p("iam", "PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", On::Role, IAM, &[U]),
    p("iam", "AttachRolePolicy", "iam:AttachRolePolicy", On::Role, IAM, &[U]),
    p("iam", "UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", On::Role, IAM, &[U]),
    p("iam", "PutRolePolicy", "iam:PutRolePolicy", On::Role, IAM, &[U]),
    p("iam", "TagRole", "iam:TagRole", On::Role, IAM, &[U]),
    p("iam", "CreateOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider", On::OidcProvider, IAM, &[U]),
    p("iam", "CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", On::OidcProvider, IAM, &[U]),
    p("iam", "DeleteRolePolicy", "iam:DeleteRolePolicy", On::Role, IAM, REMOVE),
    p("iam", "DetachRolePolicy", "iam:DetachRolePolicy", On::Role, IAM, REMOVE),
    p("iam", "UntagRole", "iam:UntagRole", On::Role, IAM, REMOVE),
    p("iam", "DeleteRole", "iam:DeleteRole", On::Role, IAM, REMOVE),
    p("iam", "DeleteOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", On::OidcProvider, IAM, &[X]),
    // SQS, and the KMS keys of encrypted queues.
    p("sqs", "GetQueueUrl", "sqs:GetQueueUrl", On::QueueAnyRegion, QUEUE, &[P, D, U, X, W, L]),
    p("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes", On::Queue, QUEUE, &[P, D, U, X, W, L]),
    p("sqs", "ListQueueTags", "sqs:ListQueueTags", On::Queue, QUEUE, READ),
    p("sqs", "CreateQueue", "sqs:CreateQueue", On::Queue, QUEUE, &[U]),
    p("sqs", "CreateQueue", "sqs:TagQueue", On::Queue, QUEUE, &[U]),
    p("sqs", "SetQueueAttributes", "sqs:SetQueueAttributes", On::Queue, QUEUE, &[U]),
    p("sqs", "TagQueue", "sqs:TagQueue", On::Queue, QUEUE, &[U]),
    p("sqs", "UntagQueue", "sqs:UntagQueue", On::Queue, QUEUE, REMOVE),
    p("sqs", "DeleteQueue", "sqs:DeleteQueue", On::Queue, QUEUE, REMOVE),
    p("sqs", "SendMessageBatch", "sqs:SendMessage", On::Queue, QUEUE, &[L]),
    p("kms", "DescribeKey", "kms:DescribeKey", On::Key, QUEUE, READ),
    // ECR.
    p("ecr", "DescribeRepositories", "ecr:DescribeRepositories", On::Repository, REGISTRY, READ),
    p("ecr", "ListImages", "ecr:ListImages", On::Repository, REGISTRY, READ),
    p("ecr", "ListTagsForResource", "ecr:ListTagsForResource", On::Repository, REGISTRY, READ),
    p("ecr", "CreateRepository", "ecr:CreateRepository", On::Repository, REGISTRY, &[U]),
    p("ecr", "CreateRepository", "ecr:TagResource", On::Repository, REGISTRY, &[U]),
    p("ecr", "TagResource", "ecr:TagResource", On::Repository, REGISTRY, &[U]),
    p("ecr", "UntagResource", "ecr:UntagResource", On::Repository, REGISTRY, REMOVE),
    p("ecr", "DeleteRepository", "ecr:DeleteRepository", On::Repository, REGISTRY, REMOVE),
    // The stack's queues and repositories by tag (what an earlier config named): one search.
    p("resourcegroupstaggingapi", "GetResources", "tag:GetResources", On::Account, None, &[P, U, X]),
    // EKS: the cluster (every group reads it: trusts and associations name it), the add-on
    // and the pod identity associations; doctor's reads of nodegroups and access entries.
    p("eks", "DescribeCluster", "eks:DescribeCluster", On::Cluster, None, READ),
    p("eks", "ListAccessEntries", "eks:ListAccessEntries", On::Cluster, None, &[D]),
    p("eks", "ListNodegroups", "eks:ListNodegroups", On::Cluster, None, &[D]),
    p("eks", "DescribeNodegroup", "eks:DescribeNodegroup", On::Nodegroup, None, &[D]),
    p("eks", "DescribeAddon", "eks:DescribeAddon", On::Addon, EKS, READ),
    p("eks", "ListPodIdentityAssociations", "eks:ListPodIdentityAssociations", On::Cluster, EKS, READ),
    p("eks", "DescribePodIdentityAssociation", "eks:DescribePodIdentityAssociation", On::Association, EKS, READ),
    p("eks", "CreateAddon", "eks:CreateAddon", On::Cluster, EKS, &[U]),
    p("eks", "CreateAddon", "eks:TagResource", On::Addon, EKS, &[U]),
    p("eks", "CreatePodIdentityAssociation", "eks:CreatePodIdentityAssociation", On::Cluster, EKS, &[U]),
    p("eks", "CreatePodIdentityAssociation", "eks:TagResource", On::Association, EKS, &[U]),
    p("eks", "CreatePodIdentityAssociation", "iam:PassRole", On::PassedRole, EKS, &[U]),
    p("eks", "UpdatePodIdentityAssociation", "eks:UpdatePodIdentityAssociation", On::Association, EKS, &[U]),
    p("eks", "UpdatePodIdentityAssociation", "iam:PassRole", On::PassedRole, EKS, &[U]),
    p("eks", "TagResource", "eks:TagResource", On::Association, EKS, &[U]),
    p("eks", "DeletePodIdentityAssociation", "eks:DeletePodIdentityAssociation", On::Association, EKS, REMOVE),
    p("eks", "DeleteAddon", "eks:DeleteAddon", On::Addon, EKS, &[X]),
    // What the triggers create (AMP, Kinesis, DynamoDB) or read (CloudWatch).
    p("amp", "ListWorkspaces", "aps:ListWorkspaces", On::AmpAccount, SOURCE, READ),
    p("amp", "DescribeWorkspace", "aps:DescribeWorkspace", On::Workspace, SOURCE, READ),
    p("amp", "ListScrapers", "aps:ListScrapers", On::AmpAccount, SOURCE, READ),
    p("amp", "DescribeScraper", "aps:DescribeScraper", On::Scraper, SOURCE, READ),
    p("amp", "CreateWorkspace", "aps:CreateWorkspace", On::AmpAccount, SOURCE, &[U]),
    p("amp", "CreateWorkspace", "aps:TagResource", On::Workspace, SOURCE, &[U]),
    p("amp", "CreateScraper", "aps:CreateScraper", On::ScrapeTargets, SOURCE, &[U]),
    // AMP creates the scraper's service-linked role and reads the cluster's network on the
    // caller's behalf (AWS's AmazonPrometheusFullAccess grants the same for it).
    p("amp", "CreateScraper", "iam:CreateServiceLinkedRole", On::ScraperServiceRole, SOURCE, &[U]),
    p("amp", "CreateScraper", "ec2:DescribeSubnets", On::ScraperNetwork, SOURCE, &[U]),
    p("amp", "CreateScraper", "ec2:DescribeSecurityGroups", On::ScraperNetwork, SOURCE, &[U]),
    p("amp", "CreateScraper", "aps:TagResource", On::Scraper, SOURCE, &[U]),
    p("amp", "TagResource", "aps:TagResource", On::Workspace, SOURCE, &[U]),
    p("amp", "UntagResource", "aps:UntagResource", On::Workspace, SOURCE, REMOVE),
    p("amp", "DeleteWorkspace", "aps:DeleteWorkspace", On::Workspace, SOURCE, REMOVE),
    p("amp", "DeleteScraper", "aps:DeleteScraper", On::Scraper, SOURCE, REMOVE),
    p("kinesis", "DescribeStreamSummary", "kinesis:DescribeStreamSummary", On::Stream, SOURCE, READ),
    p("kinesis", "ListTagsForStream", "kinesis:ListTagsForStream", On::Stream, SOURCE, READ),
    p("kinesis", "CreateStream", "kinesis:CreateStream", On::Stream, SOURCE, &[U]),
    p("kinesis", "CreateStream", "kinesis:AddTagsToStream", On::Stream, SOURCE, &[U]),
    p("kinesis", "AddTagsToStream", "kinesis:AddTagsToStream", On::Stream, SOURCE, &[U]),
    p("kinesis", "RemoveTagsFromStream", "kinesis:RemoveTagsFromStream", On::Stream, SOURCE, REMOVE),
    // The triggers' metric reads (doctor reads each once, as `scale` does) and, before a
    // stream or table is deleted, whether it holds records or items.
    p("kinesis", "ListShards", "kinesis:ListShards", On::Stream, SOURCE, &[D, U, X, W]),
    p("kinesis", "GetShardIterator", "kinesis:GetShardIterator", On::Stream, SOURCE, REMOVE),
    p("kinesis", "GetRecords", "kinesis:GetRecords", On::Stream, SOURCE, REMOVE),
    p("kinesis", "DeleteStream", "kinesis:DeleteStream", On::Stream, SOURCE, REMOVE),
    p("dynamodb", "DescribeTable", "dynamodb:DescribeTable", On::Table, SOURCE, &[P, D, U, X, W]),
    p("dynamodb", "ListTagsOfResource", "dynamodb:ListTagsOfResource", On::Table, SOURCE, READ),
    p("dynamodb", "CreateTable", "dynamodb:CreateTable", On::Table, SOURCE, &[U]),
    p("dynamodb", "CreateTable", "dynamodb:TagResource", On::Table, SOURCE, &[U]),
    p("dynamodb", "TagResource", "dynamodb:TagResource", On::Table, SOURCE, &[U]),
    p("dynamodb", "UntagResource", "dynamodb:UntagResource", On::Table, SOURCE, REMOVE),
    p("dynamodb", "Scan", "dynamodb:Scan", On::Table, SOURCE, REMOVE),
    p("dynamodb", "DeleteTable", "dynamodb:DeleteTable", On::Table, SOURCE, REMOVE),
    p("dynamodb", "Query", "dynamodb:Query", On::Table, SOURCE, &[D, W]),
    p("dynamodbstreams", "DescribeStream", "dynamodb:DescribeStream", On::TableStream, SOURCE, &[D, W]),
    p("cloudwatch", "GetMetricData", "cloudwatch:GetMetricData", On::CloudwatchAccount, SOURCE, &[D, W]),
    // The prometheus trigger's query: a SigV4-signed GET kedactl sends itself (not an SDK call).
    p("amp", "QueryMetrics", "aps:QueryMetrics", On::Workspace, SOURCE, &[D, W]),
];

/// The rows of one call (an operation may need several actions), or none: an unregistered call.
pub fn of(service: &str, operation: &str) -> Vec<&'static Permission> {
    PERMISSIONS
        .iter()
        .filter(|p| p.service == service && p.operation == operation)
        .collect()
}
