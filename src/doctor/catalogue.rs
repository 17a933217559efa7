//! The registry of checks: a stable code, the layer, the function, a title and the long
//! explanation (`doctor --explain`), in one table. Codes follow the reference's failure modes
//! (§6); later ones are appended.

use super::{checks, part};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Account,
    Eks,
    Iam,
    Cluster,
    Keda,
    Scaling,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Account => "account",
            Layer::Eks => "EKS",
            Layer::Iam => "IAM",
            Layer::Cluster => "cluster",
            Layer::Keda => "KEDA",
            Layer::Scaling => "scaling",
        }
    }
}

/// What one run of a check judges: the stack's shared parts once, or each app of `apps[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Stack,
    App,
}

#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct Check {
    pub code: &'static str,
    pub title: &'static str,
    pub layer: Layer,
    #[serde(skip)]
    pub explain: &'static str,
    /// The check itself (`checks/<layer>.rs`).
    #[serde(skip)]
    pub(crate) run: fn(&checks::Ctx) -> super::Finding,
    /// The cluster parts it reads beyond `plan`'s observation: if one could not be read, the
    /// check could not be checked, whatever its function concluded from the gap.
    #[serde(skip)]
    pub reads: &'static [&'static str],
}

macro_rules! check {
    ($code:literal, $layer:ident, $run:ident, $title:literal, $explain:literal) => {
        check!($code, $layer, $run, [], $title, $explain)
    };
    ($code:literal, $layer:ident, $run:ident, [$($part:ident),*], $title:literal, $explain:literal) => {
        Check {
            code: $code,
            title: $title,
            layer: Layer::$layer,
            explain: $explain,
            run: checks::$run,
            reads: &[$(part::$part),*],
        }
    };
}

/// The checks that run once per app: everything about an app's queue, roles' grants on it, its
/// objects, pods, image and trigger source. The rest judge what the apps share.
const PER_APP: &[&str] = &[
    "KD010", "KD011", "KD012", "KD014", "KD015", "KD016", "KD017", "KD018", "KD019", "KD021",
    "KD022", "KD023", "KD024", "KD026", "KD033", "KD034", "KD035", "KD036", "KD040", "KD041",
    "KD042", "KD043", "KD044", "KD045", "KD046", "KD047", "KD048", "KD049",
];

impl Check {
    pub fn scope(&self) -> Scope {
        match PER_APP.contains(&self.code) {
            true => Scope::App,
            false => Scope::Stack,
        }
    }
}

pub const CATALOGUE: &[Check] = &[
    check!(
        "KD001",
        Eks,
        kd001,
        "Pod Identity Agent add-on is installed and ACTIVE",
        "EKS Pod Identity needs the eks-pod-identity-agent add-on: its DaemonSet serves credentials on 169.254.170.23 to pods whose service account has an association. Without it, the pods get the environment variables but the SDK's calls to the agent are refused, and KEDA falls back to the node role. doctor reads DescribeAddon (missing, status other than ACTIVE)."
    ),
    check!(
        "KD002",
        Eks,
        kd002,
        [AGENT, AGENT_LOG],
        "Pod Identity Agent is healthy on the nodes",
        "A DEGRADED add-on (InsufficientNumberOfReplicas), agent pods not ready, or agent logs with `Failed probe` mean some nodes serve no credentials. Known causes: port 2703 taken (amazon-eks-ami#2650), hostPort 80 conflicts with ingress pods, IPv6 disabled on the node. doctor reads the add-on health, the DaemonSet's ready count and the agent's log."
    ),
    check!(
        "KD003",
        Eks,
        kd003,
        [OPERATOR_POD, AGENT, AGENT_LOG],
        "Node role may call eks-auth:AssumeRoleForPodIdentity",
        "The agent exchanges the pod's token with EKS Auth using the node's role. Without eks-auth:AssumeRoleForPodIdentity (in AmazonEKSWorkerNodePolicy) it logs `Error fetching credentials: … AssumeRoleForPodIdentity … AccessDeniedException` and pods get 403 from 169.254.170.23. doctor reads the agent's log on the operator's node."
    ),
    check!(
        "KD004",
        Eks,
        kd004,
        [OPERATOR_POD, AGENT, AGENT_LOG],
        "The agent reaches the EKS Auth API",
        "In a private cluster the agent needs the com.amazonaws.<region>.eks-auth interface endpoint; without it it logs `unable to fetch credentials from EKS Auth … i/o timeout`. doctor reads the agent's log."
    ),
    check!(
        "KD005",
        Eks,
        kd005,
        [OPERATOR],
        "keda-operator's service account has a pod identity association",
        "KEDA's operator reads credentials through the association of its *actual* namespace and service account (e.g. keda-system, or a custom serviceAccount.operator.name). Without one, KEDA uses the node role (`assumed-role/<node role>/i-…` in 403s). doctor compares the operator Deployment's namespace/serviceAccountName with the associations."
    ),
    check!(
        "KD006",
        Cluster,
        kd006,
        [OPERATOR, OPERATOR_POD],
        "The running keda-operator pod got Pod Identity credentials",
        "The webhook injects AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE at pod creation only: a pod started before its association (or hit by the webhook's cache race) has none. Fix: restart the operator, check again, restart once more if needed."
    ),
    check!(
        "KD007",
        Cluster,
        kd007,
        [OPERATOR_POD, NODE],
        "keda-operator runs where Pod Identity works",
        "Pod Identity works on Linux EC2 nodes only: not on Fargate, Windows or hybrid nodes. doctor reads the operator's node labels eks.amazonaws.com/compute-type and kubernetes.io/os."
    ),
    check!(
        "KD008",
        Iam,
        kd008,
        "Roles used by associations trust pods.eks.amazonaws.com with sts:TagSession",
        "A role used by a pod identity association must trust the service principal pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession; otherwise CreatePodIdentityAssociation fails with `Trust policy of the role provided is invalid` or the agent is refused at run time. doctor parses the trust policies."
    ),
    check!(
        "KD009",
        Cluster,
        kd009,
        [OPERATOR_POD, OPERATOR_SA],
        "keda-operator does not mix IRSA with Pod Identity",
        "When the operator's service account also carries eks.amazonaws.com/role-arn (helm podIdentity.aws.irsa.enabled=true), the SDK tries web identity first and KEDA may use the wrong role. doctor reads the service account's annotations and the pod's AWS_WEB_IDENTITY_TOKEN_FILE."
    ),
    check!(
        "KD010",
        Iam,
        kd010,
        [SCALER, TRIGGER_AUTH],
        "The identity role trusts the keda-operator role (sts:AssumeRole)",
        "With a TriggerAuthentication roleArn, KEDA assumes that role with the operator's credentials: its trust must name the keda-operator role. Otherwise: `assumed-role/keda-operator/eks-… is not authorized to perform: sts:AssumeRole on resource …keda-identity`."
    ),
    check!(
        "KD011",
        Iam,
        kd011,
        [SCALER, TRIGGER_AUTH],
        "The identity role lets the keda-operator role tag the session",
        "Pod Identity sessions carry transitive tags, so the chained AssumeRole also needs sts:TagSession in the identity role's trust: `… is not authorized to perform: sts:TagSession`."
    ),
    check!(
        "KD012",
        Iam,
        kd012,
        [SCALER, TRIGGER_AUTH],
        "keda-operator's own policy allows assuming the identity role where needed",
        "A trust that names the account (`:root`) instead of the role delegates to the caller's identity policy: then keda-operator needs sts:AssumeRole and sts:TagSession on the identity role in its own policy (a permissions boundary or SCP can deny it too). doctor evaluates the operator's inline policies, and the policy simulator when the account answers it."
    ),
    check!(
        "KD013",
        Iam,
        kd013,
        "Trust policies name live roles, not stale unique IDs",
        "When a role named in a trust policy is deleted, IAM replaces its ARN by its unique ID (AROA…); recreating the role does not restore it. doctor looks for AROA/AIDA principals."
    ),
    check!(
        "KD014",
        Keda,
        kd014,
        [OPERATOR, SCALER, TRIGGER_AUTH],
        "roleArn is not the operator's own role",
        "Pointing the TriggerAuthentication's roleArn at keda-operator's own role makes KEDA assume the role it already has, which is denied unless the role trusts itself. Use a separate identity role, or drop roleArn."
    ),
    check!(
        "KD015",
        Iam,
        kd015,
        [SCALER, TRIGGER_AUTH],
        "The identity role may read the queue (sqs:GetQueueAttributes)",
        "KEDA's scaler calls GetQueueAttributes as the identity role: `assumed-role/keda-identity/KEDA is not authorized to perform: sqs:getqueueattributes`. doctor evaluates the role's inline policies against the queue ARN, the queue policy's explicit denies, and the simulator when available."
    ),
    check!(
        "KD016",
        Iam,
        kd016,
        [SCALER, TRIGGER_AUTH],
        "Without roleArn, keda-operator itself may read the queue",
        "A TriggerAuthentication without roleArn makes KEDA call SQS as keda-operator: that role then needs sqs:GetQueueAttributes on the queue."
    ),
    check!(
        "KD017",
        Keda,
        kd017,
        [SCALER, TRIGGER_AUTH],
        "The ScaledObject references an existing TriggerAuthentication",
        "A missing authenticationRef, a wrong name, a TriggerAuthentication in another namespace, or a ClusterTriggerAuthentication without `kind` sends KEDA down the legacy path: `error parsing SQS queue metadata: awsAccessKeyID not found`."
    ),
    check!(
        "KD018",
        Keda,
        kd018,
        [SCALER, TRIGGER_AUTH],
        "The TriggerAuthentication uses provider aws with KEDA as identity owner",
        "provider aws-eks (deprecated in 2.13, IRSA only) or identityOwner: workload read the eks.amazonaws.com/role-arn annotation, which Pod Identity does not set: `annotation 'eks.amazonaws.com/role-arn' not found`. Use provider aws with roleArn."
    ),
    check!(
        "KD019",
        Keda,
        kd019,
        [SCALER, TRIGGER_AUTH],
        "roleArn and identityOwner: workload are not combined",
        "KEDA's webhook rejects `roleArn of PodIdentity can't be set if KEDA isn't identityOwner`. Pick one."
    ),
    check!(
        "KD020",
        Keda,
        kd020,
        "KEDA is installed and is 2.13 or newer",
        "KEDA before 2.13 ships an AWS SDK without container credentials and has no `aws` provider, so Pod Identity credentials are never used."
    ),
    check!(
        "KD021",
        Scaling,
        kd021,
        [SCALER],
        "The trigger sets awsRegion",
        "Without awsRegion KEDA stops with `missing required parameter \"awsRegion\"`."
    ),
    check!(
        "KD022",
        Scaling,
        kd022,
        [SCALER],
        "queueURL matches awsRegion and the account, and the queue exists",
        "A queueURL in another region or account than awsRegion (or a typo) gives `AWS.SimpleQueueService.NonExistentQueue`."
    ),
    check!(
        "KD023",
        Scaling,
        kd023,
        [SCALER],
        "queueURL is well formed",
        "KEDA needs https://sqs.<region>.amazonaws.com/<account>/<name>; otherwise `cannot get queueName from queueURL`."
    ),
    check!(
        "KD024",
        Cluster,
        kd024,
        [APP_POD],
        "The app's pods have credentials to consume the queue",
        "KEDA scales the app, but the app itself must read and delete messages: its service account needs an association and its pods the injected variables (restart them after the association is created)."
    ),
    check!(
        "KD025",
        Scaling,
        kd025,
        [APISERVICE],
        "KEDA's external metrics API is available to the HPA",
        "The HPA reads KEDA's metric through the APIService v1beta1.external.metrics.k8s.io. If the control plane cannot reach the metrics server (security group on 6443), the HPA shows FailedGetExternalMetric and nothing scales."
    ),
    check!(
        "KD026",
        Scaling,
        kd026,
        [SCALER],
        "Scale to zero can happen",
        "With minReplicaCount 0, KEDA scales to zero only after cooldownPeriod with no activity; in-flight messages (scaleOnInFlight, default true) count as activity, and SQS's approximate counts lag about a minute. doctor explains what holds the replicas up."
    ),
    check!(
        "KD027",
        Cluster,
        kd027,
        [OPERATOR, OPERATOR_POD],
        "keda-operator's pod is newer than its association's last change",
        "The agent caches credentials (up to 6 hours): pods started before the association was pointed at another role keep using the old one. Restart them."
    ),
    check!(
        "KD028",
        Keda,
        kd028,
        [OPERATOR, OPERATOR_LOG],
        "Session tags fit in the chained AssumeRole",
        "Chaining from a Pod Identity session with many tags can fail with PackedPolicyTooLarge; the way out is to disable session tags on the keda-operator association (`--disable-session-tags`). kedactl's default trust is scoped on those very tags (aws:RequestTag/eks-cluster-arn, kubernetes-namespace, kubernetes-service-account), so disabling them alone locks the operator out: first drop the tag conditions (`kedactl up --only iam --scoped-trust false`), then disable the tags. doctor also fails an association whose tags are disabled while the trust still conditions on them."
    ),
    check!(
        "KD029",
        Account,
        kd029,
        "The caller may pass the stack's roles to EKS (iam:PassRole)",
        "CreatePodIdentityAssociation needs iam:PassRole on the role, for iam:PassedToService pods.eks.amazonaws.com. doctor asks the policy simulator (skipped when the account does not answer it)."
    ),
    check!(
        "KD030",
        Eks,
        kd030,
        "Each service account's association points at the intended role",
        "A service account can have one association; creating another fails with ResourceInUseException. An association pointing at another role than the config's is repointed by `kedactl up` (UpdatePodIdentityAssociation)."
    ),
    check!(
        "KD031",
        Account,
        kd031,
        "A just-deleted queue is not being re-created",
        "SQS refuses to re-create a queue within 60 s of deleting it (QueueDeletedRecently). `kedactl up` waits and retries; there is nothing to check in a running stack, so this check never applies to a running stack (not applicable)."
    ),
    check!(
        "KD032",
        Cluster,
        kd032,
        [OPERATOR_POD],
        "No proxy intercepts the Pod Identity credential calls",
        "With HTTP(S)_PROXY set in the operator pod, the SDK sends the credential call to 169.254.170.23 through the proxy, which fails. Add 169.254.170.23 and fd00:ec2::23 to NO_PROXY."
    ),
    check!(
        "KD033",
        Account,
        kd033,
        [SCALER, TRIGGER_AUTH],
        "The config describes the stack that is live",
        "doctor compares the config with what runs: the live ScaledObject's trigger type, queueURL and awsRegion, the TriggerAuthentication's roleArn, and, when the configured queue is missing, whether it exists in another region or as its FIFO/standard twin. A config that disagrees (a wrong --region, a `.fifo` name for a standard queue, another role) would have `--fix` build a second stack beside the working one and move its permissions there, so `--fix` refuses to repair anything while this check fails. Correct the config to match what is live (or remove the live stack first)."
    ),
    check!(
        "KD034",
        Iam,
        kd034,
        [SCALER, TRIGGER_AUTH],
        "A target role on an association fits the chain",
        "An association with a target role (EKS Pod Identity's targetRoleArn) makes EKS assume the association's role and then the target role, and the pod gets the target role's credentials. For keda-operator that changes the principal KEDA's chain starts from: the identity role's trust must name the target role (not only keda-operator's role) for sts:AssumeRole, or KEDA gets `assumed-role/<target>/eks-… is not authorized to perform: sts:AssumeRole`. For the app, its pods act as the target role, which then needs the queue's permissions. doctor reads targetRoleArn on the operator's and the app's associations and evaluates the identity role's trust for the target role."
    ),
    check!(
        "KD035",
        Keda,
        kd035,
        [SCALER],
        "The ScaledObject is not paused",
        "KEDA stops or limits scaling while the live object carries autoscaling.keda.sh/paused (a boolean; any non-boolean value counts as true), autoscaling.keda.sh/paused-replicas (any value: replicas held at that count), autoscaling.keda.sh/paused-scale-in or autoscaling.keda.sh/paused-scale-out (ScaledObjects; a ScaledJob honours paused only). Everything else looks healthy and nothing scales. doctor reads the live object's annotations and names each one with the `kubectl annotate … <annotation>-` that removes it."
    ),
    check!(
        "KD036",
        Scaling,
        kd036,
        [SCALER],
        "KEDA reports the HPA active (HPAActive)",
        "KEDA 2.20 mirrors the HPA's ScalingActive condition on the ScaledObject as the HPAActive condition: True (reason HPAActive, or ScalingDisabled when KEDA scaled the target to zero), or False, e.g. reason HPAMetricsUnavailable when the HPA cannot fetch KEDA's metric. Ready stays True meanwhile (HPA health no longer affects Ready), so this is where a stuck HPA shows. doctor fails on HPAMetricsUnavailable and warns on any other False, with KEDA's message; older KEDA versions do not set it (not applicable)."
    ),
    check!(
        "KD037",
        Cluster,
        kd037,
        [OPERATOR, OPERATOR_POD],
        "keda-operator does not run on the host network",
        "The Pod Identity Agent serves credentials to pods on the pod network at 169.254.170.23 ([fd00:ec2::23] in IPv6 clusters). A keda-operator with hostNetwork: true (the chart's operator.useHostNetwork) gets the injected variables but its credential calls fail with `Unauthorized Exception! EKS does not have permissions to assume the associated role` (aws/eks-pod-identity-agent#139). doctor reads hostNetwork from the operator's pod (or its Deployment)."
    ),
    check!(
        "KD038",
        Cluster,
        kd038,
        [OPERATOR, OPERATOR_POD],
        "No NetworkPolicy blocks keda-operator from the Pod Identity Agent",
        "A NetworkPolicy that selects keda-operator and restricts egress must allow TCP 80 to 169.254.170.23 (or [fd00:ec2::23]), or the SDK's credential call times out and KEDA falls back to no credentials. The KEDA chart's own policy (networkPolicy.enabled with flavor kubernetes) allows only DNS, the API server and pods, so it blocks the agent until networkPolicy.kubernetes.operator.extraEgressRules adds an ipBlock for it. doctor lists the NetworkPolicies in the operator's namespace and evaluates them as Kubernetes does: the policies whose podSelector matches the pod's labels and whose policyTypes include Egress (or that have an egress section), any rule allowing is enough, an empty rule list denies, ipBlock with except, ports with protocol and endPort; selectors never match the agent's address. CiliumNetworkPolicies are not read, and Cilium may treat the agent as the host entity, which an ipBlock does not match."
    ),
    check!(
        "KD039",
        Cluster,
        kd039,
        [OPERATOR_POD, OPERATOR_LOG, SCALER],
        "keda-operator calls the regional STS endpoint",
        "KEDA chains roles through STS with aws-sdk-go-v2, which calls the regional endpoint sts.<region>.amazonaws.com and ignores AWS_STS_REGIONAL_ENDPOINTS. An override in the operator's env (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL naming sts.amazonaws.com) or awsRegion aws-global sends it to the global endpoint, which an STS interface VPC endpoint does not serve: in a private cluster the call times out. doctor reads the operator pod's env, the trigger's awsRegion, KEDA's log for sts.amazonaws.com, and the cluster's endpointPublicAccess (private only: fail; otherwise warn)."
    ),
    check!(
        "KD040",
        Scaling,
        kd040,
        "A ScaledJob's Jobs finish within the queue's visibility timeout",
        "SQS hides a received message for the visibility timeout only: a Job still running after it lets the message reappear, KEDA counts it as visible again and starts a second Job for it (duplicate processing). The config states no run time, so doctor compares the ScaledJob's jobTargetRef.activeDeadlineSeconds (the longest a Job may run) with the live queue's VisibilityTimeout: longer fails, unset warns."
    ),
    check!(
        "KD041",
        Scaling,
        kd041,
        "The queue's visibility timeout covers the app's processing",
        "A message the app holds longer than the visibility timeout is delivered again: processed twice, counted again by KEDA, and sent to the dead-letter queue after maxReceiveCount receives. The config states no processing time, so doctor compares the live VisibilityTimeout with the config's (lower warns) and warns below SQS's default of 30 s. Set it to the longest time the app takes from receive to delete."
    ),
    check!(
        "KD042",
        Scaling,
        kd042,
        "A queue's dead-letter queue exists",
        "A RedrivePolicy whose deadLetterTargetArn names a queue that does not exist (deleted, or in another region or account) leaves SQS nowhere to move messages received maxReceiveCount times. doctor reads each queue's RedrivePolicy and looks the target up: among the config's queues, else with GetQueueUrl in the ARN's region and account. A config with a dead-letter queue whose live queue has no RedrivePolicy fails too."
    ),
    check!(
        "KD043",
        Iam,
        kd043,
        "The app may decrypt its queue's messages (kms:Decrypt on a customer-managed key)",
        "A queue encrypted with a customer-managed KMS key (KmsMasterKeyId other than alias/aws/sqs) delivers nothing to a consumer without kms:Decrypt on that key: ReceiveMessage fails with KMS.AccessDeniedException while KEDA, which only calls GetQueueAttributes, keeps scaling the app up. doctor reads the live KmsMasterKeyId, resolves an alias to its key with DescribeKey (a grant on an alias grants nothing), and evaluates the app role's policies and boundary for kms:Decrypt on the key ARN. It does not read the key policy: the default one delegates to IAM in the key's account; a key in another account must name the role itself."
    ),
    check!(
        "KD044",
        Cluster,
        kd044,
        "The app's image is in the stack's ECR repository",
        "kedactl creates the repository empty, so the app's first pods sit in ImagePullBackOff (`manifest unknown` / `not found`) until someone pushes the image. When the app's image is in this stack's repository, doctor lists the repository's image tags (ListImages) and looks for the app's tag (latest when the image names none). An image elsewhere, or pinned by digest, is not applicable."
    ),
    check!(
        "KD045",
        Iam,
        kd045,
        "The nodes may pull the app's image from ECR",
        "The kubelet pulls images with the node's role, not the pod's: without ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (the managed policy AmazonEC2ContainerRegistryPullOnly, or ReadOnly) the app's pods wait in ImagePullBackOff with 403 in their events. doctor reads the node roles of the cluster's managed node groups (DescribeNodegroup) and Auto Mode's, and evaluates their policies on the stack's repository. Nodes kedactl cannot see (self-managed groups, Karpenter) make it could-not-be-checked, never a pass."
    ),
    check!(
        "KD046",
        Scaling,
        kd046,
        "The trigger's source exists and is ready",
        "Triggers other than SQS read a resource kedactl makes or the config names: an AMP workspace (prometheus), a Kinesis stream, a DynamoDB table. KEDA's reads of a missing one fail with 404, and one still CREATING answers nothing yet; the ScaledObject then reports no metric and never scales. A prometheus app's AMP scraper must be ACTIVE and write from this cluster to the app's workspace, or the query finds no data. doctor reads each resource (DescribeWorkspace or ListWorkspaces by alias, ListScrapers by alias...) and its status, with AMP's reason for a failed scraper. A resource kedactl owns is recreated by `kedactl up --only source`; one the config names by id must be corrected in kedactl.yaml."
    ),
    check!(
        "KD047",
        Iam,
        kd047,
        "KEDA's session may read the trigger's source",
        "KEDA signs each trigger's calls as the TriggerAuthentication's roleArn (the identity role, assumed by the operator): for prometheus a SigV4 GET of /api/v1/query that AMP authorizes as aps:QueryMetrics on the workspace ARN. doctor evaluates the role's inline and managed policies and its boundary for exactly the calls each trigger kind declares, in the chained session's context. KEDA logs a refused query only as `prometheus query api returned error. status: 403` (it discards AMP's message), so doctor names the principal itself: the session KEDA signed with."
    ),
    check!(
        "KD048",
        Keda,
        kd048,
        "The live trigger is the one the config renders",
        "A ScaledObject whose trigger points elsewhere (a prometheus serverAddress of another workspace, an awsRegion of another region, an edited query or threshold) scales on the wrong thing or on nothing. doctor compares the live ScaledObject's first trigger, its type and every metadata field, with what kedactl renders from the config."
    ),
    check!(
        "KD049",
        Scaling,
        kd049,
        "The trigger's metric reads as KEDA reads it",
        "doctor reads each non-SQS trigger's metric once exactly as KEDA's scaler does, with your credentials: for prometheus the SigV4-signed GET of /api/v1/query against the workspace. KEDA refuses a query that returns several series (`returned multiple elements`) and, with ignoreNullValues: false, an empty one; a vector of several series must be aggregated (sum, max). A refusal of your own credentials is could-not-check: KD047 judges KEDA's."
    ),
    check!(
        "KD050",
        Eks,
        kd050,
        "The AMP scraper may read the cluster (its access entry)",
        "An AMP managed scraper discovers and scrapes pods as its service-linked role (AWSServiceRoleForAmazonPrometheusScraper_…), which the cluster only admits through an access entry. AMP creates that entry with the scraper when the cluster's authentication mode is API or API_AND_CONFIG_MAP; with CONFIG_MAP it cannot, and the scraper stays ACTIVE while the workspace gets nothing, so KEDA's query finds no data and the app never scales. doctor reads the scraper's role (ListScrapers) and the cluster's access entries (ListAccessEntries), matching the role with and without its path, as EKS names it."
    ),
    check!(
        "KD051",
        Iam,
        kd051,
        "IRSA: the cluster's OIDC issuer has its IAM identity provider",
        "IRSA tokens are signed by the cluster's OIDC issuer (DescribeCluster identity.oidc.issuer); STS accepts them only when the account has an IAM OIDC identity provider for that URL that lists the audience sts.amazonaws.com. Without it every pod and KEDA get `No OpenIDConnect provider found in your account` although roles and annotations look right. doctor reads ListOpenIDConnectProviders and GetOpenIDConnectProvider for the cluster's issuer. kedactl creates the provider when it is missing (tagged with the stack) and deletes it only when the stack made it and no role in the account still trusts it."
    ),
    check!(
        "KD052",
        Iam,
        kd052,
        "IRSA: each role's trust admits its service accounts through the provider",
        "An IRSA role must trust the cluster's provider (Federated: arn:…:oidc-provider/<issuer>) for sts:AssumeRoleWithWebIdentity, with conditions <issuer>:sub = system:serviceaccount:<namespace>:<name> and <issuer>:aud = sts.amazonaws.com. A trust written for another cluster's issuer, or a sub naming another service account, makes STS refuse with `Not authorized to perform sts:AssumeRoleWithWebIdentity`. doctor evaluates each role's trust, conditions included, for the token each service account gets."
    ),
    check!(
        "KD053",
        Cluster,
        kd053,
        [OPERATOR_SA],
        "IRSA: the service accounts name their role (eks.amazonaws.com/role-arn)",
        "The EKS pod identity webhook gives a pod web identity credentials only when its service account carries eks.amazonaws.com/role-arn. The operator's comes from the KEDA chart (podIdentity.aws.irsa.enabled=true, podIdentity.aws.irsa.roleArn), an app's from kedactl's ServiceAccount. doctor reads both and compares the annotation with the role the config names."
    ),
    check!(
        "KD054",
        Cluster,
        kd054,
        [OPERATOR_POD, APP_POD],
        "IRSA: the pods got AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE",
        "The webhook injects AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (and the projected token) at pod creation only: a pod started before its service account named the role, or before the annotation changed, has no or the old credentials until it is restarted. doctor reads the newest keda-operator pod and the app's (a ScaledJob's pods come and go with their jobs) and compares AWS_ROLE_ARN with the role."
    ),
];

/// A check by code, case-insensitively (`kd010` works).
/// A check by its code, as a person types it: `KD010`, `kd010`, `kd10`, `10`.
pub fn find(code: &str) -> Option<&'static Check> {
    let code = code.trim();
    let digits = match code.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("kd") => &code[2..],
        _ => code,
    };
    let number: u32 = digits.parse().ok()?;
    let code = format!("KD{number:03}");
    CATALOGUE.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_in_order() {
        for (i, c) in CATALOGUE.iter().enumerate() {
            assert_eq!(c.code, format!("KD{:03}", i + 1));
            assert!(!c.explain.is_empty() && !c.title.is_empty());
        }
        assert_eq!(find("kd010").unwrap().layer, Layer::Iam);
        assert!(find("KD999").is_none());
    }

    #[test]
    fn a_code_is_found_as_a_person_types_it() {
        for typed in ["KD010", "kd010", "kd10", "Kd10", "10", " KD10 "] {
            assert_eq!(find(typed).map(|c| c.code), Some("KD010"), "{typed:?}");
        }
        for typed in ["", "kd", "KD0x1", "trust", "KD-10"] {
            assert!(find(typed).is_none(), "{typed:?}");
        }
    }
}
