#![allow(dead_code)]

//! A stateful EKS for the APIs moto answers with 404 (the add-on and pod identity associations),
//! through aws-smithy-mocks: creates and deletes change what the describes return, created
//! associations feed the in-memory API server's Pod Identity webhook, and a test can break any
//! part (an add-on status, an association's role, session tags, a failing operation).

use super::apiserver::ApiServer;
use aws_sdk_eks::Client;
use aws_sdk_eks::operation::describe_addon::{DescribeAddonError, DescribeAddonOutput};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::types::{
    Addon, AddonStatus, Cluster, ClusterStatus, PodIdentityAssociation,
    PodIdentityAssociationSummary,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Association {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    pub tags: HashMap<String, String>,
    pub disable_session_tags: bool,
    pub target_role_arn: Option<String>,
    /// modifiedAt, seconds since the epoch.
    pub modified: i64,
}

#[derive(Default)]
pub struct State {
    /// (status, tags) of eks-pod-identity-agent.
    pub addon: Option<(AddonStatus, HashMap<String, String>)>,
    pub associations: Vec<Association>,
    /// Operations (e.g. "DescribeAddon") that answer HTTP 500 until removed.
    pub failing: BTreeSet<&'static str>,
    /// The role of the cluster's one managed node group, `workers` (none: no node group).
    pub node_role: Option<String>,
    /// How the cluster is reached and who may: what an AMP scraper needs.
    pub access: Access,
    /// `identity.oidc.issuer`: EKS gives every cluster its own (32 hex digits), set by `stateful`.
    pub issuer: String,
}

/// DescribeCluster's `accessConfig` and `resourcesVpcConfig`.
#[derive(Debug, Clone)]
pub struct Access {
    pub authentication_mode: &'static str,
    pub private_endpoint: bool,
    pub subnets: Vec<String>,
}

impl Default for Access {
    /// A cluster created today: access entries on, both endpoints, subnets in two zones.
    fn default() -> Self {
        Access {
            authentication_mode: "API_AND_CONFIG_MAP",
            private_endpoint: true,
            subnets: vec!["subnet-0a".into(), "subnet-0b".into()],
        }
    }
}

#[derive(Clone, Default)]
pub struct Eks(pub Arc<Mutex<State>>);

impl Eks {
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// The association of `ns/sa`, to break it.
    pub fn association(&self, ns: &str, sa: &str, change: impl FnOnce(&mut Association)) {
        let mut s = self.state();
        let a = s
            .associations
            .iter_mut()
            .find(|a| a.namespace == ns && a.service_account == sa)
            .expect("the association exists");
        change(a);
    }
}

/// A number no other mock of this process has drawn (time and a counter).
fn unique_id() -> u128 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (t << 16) ^ n ^ (u128::from(std::process::id()) << 100)
}

/// EKS's own 500 (`ServerException`), as a modeled error.
fn server_error() -> aws_sdk_eks::types::error::ServerException {
    aws_sdk_eks::types::error::ServerException::builder()
        .message("injected server error")
        .meta(
            aws_sdk_eks::error::ErrorMetadata::builder()
                .code("ServerException")
                .message("injected server error")
                .build(),
        )
        .build()
}

/// The EKS client, its rules (keep them alive), and the state behind them.
pub fn stateful(api: &ApiServer) -> (Client, Vec<Rule>, Eks) {
    let eks = Eks::default();
    eks.state().issuer = format!(
        "https://oidc.eks.us-east-1.amazonaws.com/id/{:032X}",
        unique_id()
    );
    let not_found = || {
        aws_sdk_eks::types::error::ResourceNotFoundException::builder()
            .message("not found")
            .build()
    };
    let s = eks.clone();
    let describe_addon = mock!(Client::describe_addon).then_compute_response(move |_| {
        let st = s.state();
        if st.failing.contains("DescribeAddon") {
            return MockResponse::Error(DescribeAddonError::ServerException(server_error()));
        }
        match &st.addon {
            Some((status, tags)) => MockResponse::Output(
                DescribeAddonOutput::builder()
                    .addon(
                        Addon::builder()
                            .addon_name("eks-pod-identity-agent")
                            .status(status.clone())
                            .set_tags(Some(tags.clone()))
                            .build(),
                    )
                    .build(),
            ),
            None => MockResponse::Error(DescribeAddonError::ResourceNotFoundException(not_found())),
        }
    });
    let (s, cluster) = (eks.clone(), api.clone());
    let create_addon = mock!(Client::create_addon).then_compute_output(move |i| {
        s.state().addon = Some((AddonStatus::Active, i.tags().cloned().unwrap_or_default()));
        // The add-on runs the agent as a DaemonSet in kube-system.
        cluster.seed(serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "eks-pod-identity-agent", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "eks-pod-identity-agent"}}},
            "status": {"desiredNumberScheduled": 1, "numberReady": 1}}));
        aws_sdk_eks::operation::create_addon::CreateAddonOutput::builder().build()
    });
    let s = eks.clone();
    let delete_addon = mock!(Client::delete_addon).then_compute_output(move |_| {
        s.state().addon = None;
        aws_sdk_eks::operation::delete_addon::DeleteAddonOutput::builder().build()
    });
    let s = eks.clone();
    let list = mock!(Client::list_pod_identity_associations).then_compute_response(move |i| {
        let st = s.state();
        if st.failing.contains("ListPodIdentityAssociations") {
            return MockResponse::Error(
                aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsError::ServerException(server_error()),
            );
        }
        let summaries = st
            .associations
            .iter()
            // Each filter is optional, as EKS's are.
            .filter(|a| {
                i.namespace().is_none_or(|n| n == a.namespace)
                    && i.service_account().is_none_or(|n| n == a.service_account)
            })
            .map(|a| {
                PodIdentityAssociationSummary::builder()
                    .association_id(&a.id)
                    .namespace(&a.namespace)
                    .service_account(&a.service_account)
                    .build()
            })
            .collect();
        MockResponse::Output(
            aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput::builder()
                .set_associations(Some(summaries))
                .build(),
        )
    });
    let s = eks.clone();
    let describe = mock!(Client::describe_pod_identity_association).then_compute_output(move |i| {
        let st = s.state();
        let a = st
            .associations
            .iter()
            .find(|a| Some(a.id.as_str()) == i.association_id())
            .cloned();
        aws_sdk_eks::operation::describe_pod_identity_association::DescribePodIdentityAssociationOutput::builder()
            .set_association(a.map(|a| {
                PodIdentityAssociation::builder()
                    .association_id(a.id)
                    .namespace(a.namespace)
                    .service_account(a.service_account)
                    .role_arn(a.role_arn)
                    .set_tags(Some(a.tags))
                    .disable_session_tags(a.disable_session_tags)
                    .set_target_role_arn(a.target_role_arn)
                    .modified_at(aws_smithy_types::DateTime::from_secs(a.modified))
                    .build()
            }))
            .build()
    });
    let (s, webhook) = (eks.clone(), api.clone());
    let create = mock!(Client::create_pod_identity_association).then_compute_output(move |i| {
        let mut st = s.state();
        let id = format!("a-{}", st.associations.len() + 1);
        let (ns, sa) = (
            i.namespace().unwrap().to_string(),
            i.service_account().unwrap().to_string(),
        );
        webhook.state().associations.push((ns.clone(), sa.clone()));
        st.associations.push(Association {
            id,
            namespace: ns,
            service_account: sa,
            role_arn: i.role_arn().unwrap().to_string(),
            tags: i.tags().cloned().unwrap_or_default(),
            disable_session_tags: i.disable_session_tags().unwrap_or(false),
            target_role_arn: i.target_role_arn().map(str::to_string),
            // 2026-11-24T07:00Z, before any pod the fake cluster starts (its clock is 08:…).
            modified: 1_795_503_600,
        });
        aws_sdk_eks::operation::create_pod_identity_association::CreatePodIdentityAssociationOutput::builder().build()
    });
    let s = eks.clone();
    let update = mock!(Client::update_pod_identity_association).then_compute_output(move |i| {
        let mut st = s.state();
        if let Some(a) = st
            .associations
            .iter_mut()
            .find(|a| Some(a.id.as_str()) == i.association_id())
            && let Some(r) = i.role_arn()
        {
            a.role_arn = r.to_string();
        }
        aws_sdk_eks::operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput::builder().build()
    });
    let (s, webhook) = (eks.clone(), api.clone());
    let delete = mock!(Client::delete_pod_identity_association).then_compute_output(move |i| {
        let mut st = s.state();
        if let Some(a) = st
            .associations
            .iter()
            .find(|a| Some(a.id.as_str()) == i.association_id())
            .cloned()
        {
            webhook
                .state()
                .associations
                .retain(|x| !(x.0 == a.namespace && x.1 == a.service_account));
        }
        st.associations
            .retain(|a| Some(a.id.as_str()) != i.association_id());
        aws_sdk_eks::operation::delete_pod_identity_association::DeletePodIdentityAssociationOutput::builder().build()
    });
    let s = eks.clone();
    let cluster = mock!(Client::describe_cluster).then_compute_output(move |_| {
        let access = s.state().access.clone();
        DescribeClusterOutput::builder()
            .cluster(
                Cluster::builder()
                    .name("demo")
                    .arn("arn:aws:eks:us-east-1:123456789012:cluster/demo")
                    .status(ClusterStatus::Active)
                    .version("1.32")
                    .identity(
                        aws_sdk_eks::types::Identity::builder()
                            .oidc(
                                aws_sdk_eks::types::Oidc::builder()
                                    .issuer(s.state().issuer.clone())
                                    .build(),
                            )
                            .build(),
                    )
                    .access_config(
                        aws_sdk_eks::types::AccessConfigResponse::builder()
                            .authentication_mode(access.authentication_mode.into())
                            .build(),
                    )
                    .resources_vpc_config(
                        aws_sdk_eks::types::VpcConfigResponse::builder()
                            .set_subnet_ids(Some(access.subnets))
                            .cluster_security_group_id("sg-cluster")
                            .endpoint_public_access(true)
                            .endpoint_private_access(access.private_endpoint)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let s = eks.clone();
    let nodegroups = mock!(Client::list_nodegroups).then_compute_output(move |_| {
        let groups: Vec<String> = s
            .state()
            .node_role
            .iter()
            .map(|_| "workers".into())
            .collect();
        aws_sdk_eks::operation::list_nodegroups::ListNodegroupsOutput::builder()
            .set_nodegroups(Some(groups))
            .build()
    });
    let s = eks.clone();
    let nodegroup = mock!(Client::describe_nodegroup).then_compute_output(move |_| {
        aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupOutput::builder()
            .nodegroup(
                aws_sdk_eks::types::Nodegroup::builder()
                    .nodegroup_name("workers")
                    .set_node_role(s.state().node_role.clone())
                    .build(),
            )
            .build()
    });
    let rules = vec![
        nodegroups,
        nodegroup,
        describe_addon,
        create_addon,
        delete_addon,
        list,
        describe,
        create,
        update,
        delete,
        cluster,
    ];
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &rules);
    (client, rules, eks)
}
