//! AWS names derived from region and account: partition, ARNs, endpoints. Pure.

use serde::Serialize;

/// Shown in place of the account ID when it is not known yet (offline `plan` without
/// --account). Never a real-looking number, so it cannot be mistaken for one.
pub const UNKNOWN_ACCOUNT: &str = "<account>";
/// Starts the key part of a KMS key ARN whose alias was not resolved (offline `render`): such
/// a document is shown, never written to IAM.
pub const UNRESOLVED_ALIAS: &str = "<key of ";

/// Where the stack lives: everything an ARN or endpoint needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub region: String,
    pub partition: &'static str,
    /// None until given (--account) or discovered (STS).
    pub account: Option<String>,
    dns_suffix: &'static str,
}

impl Target {
    pub fn new(region: &str, account: Option<&str>) -> Self {
        let (partition, dns_suffix) = partition(region);
        Target {
            region: region.to_string(),
            partition,
            account: account.map(str::to_string),
            dns_suffix,
        }
    }

    /// The DNS suffix of the region's partition (`amazonaws.com`, `amazonaws.com.cn`).
    pub fn dns_suffix(&self) -> &'static str {
        self.dns_suffix
    }

    pub fn account_or_placeholder(&self) -> &str {
        self.account.as_deref().unwrap_or(UNKNOWN_ACCOUNT)
    }

    pub fn role_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:iam::{}:role/{name}",
            self.partition,
            self.account_or_placeholder()
        )
    }

    /// A role's ARN on an IAM path (`/service-roles/` → `role/service-roles/<name>`).
    pub fn role_arn_at(&self, path: &str, name: &str) -> String {
        self.role_arn(&format!("{}{name}", path.trim_start_matches('/')))
    }

    pub fn cluster_arn(&self, cluster: &str) -> String {
        format!(
            "arn:{}:eks:{}:{}:cluster/{cluster}",
            self.partition,
            self.region,
            self.account_or_placeholder()
        )
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition,
            self.region,
            self.account_or_placeholder()
        )
    }

    /// A regional service endpoint's host, e.g. `aps-workspaces.us-east-1.amazonaws.com`.
    pub fn host(&self, service: &str) -> String {
        format!("{service}.{}.{}", self.region, self.dns_suffix)
    }

    pub fn queue_arn(&self, queue: &str) -> String {
        format!(
            "arn:{}:sqs:{}:{}:{queue}",
            self.partition,
            self.region,
            self.account_or_placeholder()
        )
    }

    /// The queue URL KEDA's scaler is given (`https://sqs.<region>.<suffix>/<account>/<name>`).
    pub fn queue_url(&self, queue: &str) -> String {
        format!(
            "https://sqs.{}.{}/{}/{queue}",
            self.region,
            self.dns_suffix,
            self.account_or_placeholder()
        )
    }

    pub fn registry_host(&self) -> String {
        format!(
            "{}.dkr.ecr.{}.{}",
            self.account_or_placeholder(),
            self.region,
            self.dns_suffix
        )
    }

    /// The regional STS endpoint host (EKS authentication tokens are presigned against it).
    pub fn sts_host(&self) -> String {
        format!("sts.{}.{}", self.region, self.dns_suffix)
    }

    /// The EKS access policy that grants a principal the whole cluster (`access_error`'s fix).
    pub fn cluster_admin_policy_arn(&self) -> String {
        format!(
            "arn:{}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            self.partition
        )
    }

    /// The ARN a `kms:Decrypt` grant names for a queue's key reference, with `aliases` (alias →
    /// key ARN, from KMS DescribeKey). None for the SQS-managed key, which needs no grant. An
    /// alias not in `aliases` (offline) gets an ARN that says so and that no key has.
    pub fn kms_key_arn(
        &self,
        reference: &str,
        aliases: &std::collections::BTreeMap<String, String>,
    ) -> Option<String> {
        use crate::spec::names::KmsKey;
        match KmsKey::parse(reference)? {
            KmsKey::SqsManaged => None,
            KmsKey::Arn(arn) => Some(arn.to_string()),
            KmsKey::Id(id) => Some(format!(
                "arn:{}:kms:{}:{}:key/{id}",
                self.partition,
                self.region,
                self.account_or_placeholder()
            )),
            KmsKey::Alias(alias) => Some(aliases.get(alias).cloned().unwrap_or_else(|| {
                format!(
                    "arn:{}:kms:{}:{}:key/{UNRESOLVED_ALIAS}{alias}>",
                    self.partition,
                    self.region,
                    self.account_or_placeholder()
                )
            })),
        }
    }

    pub fn oidc_provider_arn(&self, issuer_host: &str) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{issuer_host}",
            self.partition,
            self.account_or_placeholder()
        )
    }
}

/// The IAM ARN that stands for a caller: an assumed-role session
/// (`arn:aws:sts::1:assumed-role/R/s`) is its role (`arn:aws:iam::1:role/R`), which is what
/// access entries name and the policy simulator evaluates; any other ARN is itself.
pub fn principal_arn(caller: &str) -> String {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    if let [arn, partition, "sts", _, account, resource] = parts[..]
        && let Some(rest) = resource.strip_prefix("assumed-role/")
    {
        let role = rest.split('/').next().unwrap_or(rest);
        return format!("{arn}:{partition}:iam::{account}:role/{role}");
    }
    caller.to_string()
}

/// The regions every account of the region's partition has enabled by default (opt-in regions
/// answer only when enabled): where `doctor` looks for a queue the configured region lacks.
pub fn default_regions(region: &str) -> &'static [&'static str] {
    match partition(region).0 {
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        "aws-us-gov" => &["us-gov-west-1", "us-gov-east-1"],
        "aws" => &[
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "ca-central-1",
            "sa-east-1",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-central-1",
            "eu-north-1",
            "ap-south-1",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-southeast-1",
            "ap-southeast-2",
        ],
        _ => &[],
    }
}

/// Partition and DNS suffix of a region.
/// The partition and DNS suffix of a region, from the SDK's partition data.
fn partition(region: &str) -> (&'static str, &'static str) {
    let p = crate::spec::regions::partition(region);
    (p.id.as_str(), p.dns_suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assumed_role_session_stands_for_its_role() {
        assert_eq!(
            principal_arn("arn:aws:sts::123456789012:assumed-role/ci-deployer/gh-run-42"),
            "arn:aws:iam::123456789012:role/ci-deployer"
        );
        assert_eq!(
            principal_arn("arn:aws-cn:sts::123456789012:assumed-role/r/s"),
            "arn:aws-cn:iam::123456789012:role/r"
        );
        assert_eq!(
            principal_arn("arn:aws:iam::123456789012:user/alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
    }

    #[test]
    fn arns_follow_the_partition() {
        let t = Target::new("us-east-1", Some("123456789012"));
        assert_eq!(
            t.role_arn("keda-operator"),
            "arn:aws:iam::123456789012:role/keda-operator"
        );
        assert_eq!(
            t.queue_url("q"),
            "https://sqs.us-east-1.amazonaws.com/123456789012/q"
        );
        assert_eq!(
            t.cluster_arn("demo"),
            "arn:aws:eks:us-east-1:123456789012:cluster/demo"
        );
        let cn = Target::new("cn-north-1", Some("123456789012"));
        assert_eq!(
            cn.queue_arn("q"),
            "arn:aws-cn:sqs:cn-north-1:123456789012:q"
        );
        assert_eq!(
            cn.registry_host(),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            Target::new("us-gov-west-1", None).role_arn("r"),
            "arn:aws-us-gov:iam::<account>:role/r"
        );
    }
}
