//! The AWS quotas a stack uses and how close it comes to each, from the desired state alone:
//! `plan --offline` states them, so a stack of hundreds of apps meets a limit in review rather
//! than as LimitExceeded half-way through `up`. Per-role quotas show the role nearest its limit.

use super::{Desired, counted_size, inline_size};
use crate::limits;
use crate::observed::thousands;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUse {
    /// e.g. "role trust policy".
    pub quota: String,
    /// What uses it most, e.g. "IAM role keda-identity", "account 123456789012".
    pub resource: String,
    pub used: usize,
    pub limit: usize,
    /// What is counted, e.g. "characters", "roles".
    pub unit: String,
}

impl QuotaUse {
    /// `trust policy 1,812/2,048 characters on IAM role keda-identity (88%)`.
    pub fn line(&self) -> String {
        format!(
            "{} {}/{} {} on {} ({}%)",
            self.quota,
            thousands(self.used as u64),
            thousands(self.limit as u64),
            self.unit,
            self.resource,
            (self.used * 100).div_ceil(self.limit.max(1))
        )
    }
}

/// Each quota the stack's resources count against, with its largest use.
pub fn quotas(d: &Desired) -> Vec<QuotaUse> {
    let role = |name: &str| format!("IAM role {name}");
    let mut out = Vec::new();
    let largest = |size: &dyn Fn(&super::Role) -> usize| {
        d.roles
            .iter()
            .rev()
            .map(|r| (size(r), r.name.as_str()))
            // The first role of the largest use: reversed, max_by_key keeps the last.
            .max_by_key(|(n, _)| *n)
    };
    if let Some((used, name)) = largest(&|r| counted_size(&r.trust.body)) {
        out.push(QuotaUse {
            quota: "role trust policy".into(),
            resource: role(name),
            used,
            limit: d.trust_policy_quota,
            unit: "characters".into(),
        });
    }
    if let Some((used, name)) = largest(&|r| inline_size(&r.policies)) {
        out.push(QuotaUse {
            quota: "role inline policies".into(),
            resource: role(name),
            used,
            limit: limits::ROLE_INLINE_POLICIES_QUOTA,
            unit: "characters".into(),
        });
    }
    if !d.roles.is_empty() {
        out.push(QuotaUse {
            quota: "roles per account (its other roles count too)".into(),
            resource: format!("account {}", d.target.account_or_placeholder()),
            used: d.roles.len(),
            limit: limits::ROLES_PER_ACCOUNT_QUOTA,
            unit: "roles".into(),
        });
    }
    if !d.associations.is_empty() {
        out.push(QuotaUse {
            quota: "pod identity associations".into(),
            resource: format!("cluster {}", d.cluster),
            used: d.associations.len(),
            limit: limits::ASSOCIATIONS_PER_CLUSTER_QUOTA,
            unit: "associations".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{App, Spec};

    fn spec(apps: usize, own_roles: bool) -> Spec {
        let mut s = Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        };
        s.apps = (0..apps)
            .map(|i| App {
                deployment: format!("app{i}"),
                namespace: format!("ns{i}"),
                service_account: format!("sa{i}"),
                identity_role: own_roles.then(|| format!("app{i}-identity")),
                ..s.apps[0].clone()
            })
            .collect();
        s
    }

    #[test]
    fn each_quota_shows_its_largest_use() {
        let d = crate::render::desired(&spec(5, false)).unwrap();
        let q = quotas(&d);
        let names: Vec<&str> = q.iter().map(|q| q.quota.as_str()).collect();
        assert_eq!(
            names,
            [
                "role trust policy",
                "role inline policies",
                "roles per account (its other roles count too)",
                "pod identity associations"
            ]
        );
        // The shared identity role admits all five service accounts: its trust is the largest,
        // measured as IAM counts it.
        let identity = d.roles.iter().find(|r| r.name == "keda-identity").unwrap();
        assert_eq!(q[0].resource, "IAM role keda-identity");
        assert_eq!(
            q[0].used,
            crate::limits::iam_policy_size(&identity.trust.body)
        );
        assert_eq!(q[0].limit, 2048);
        assert_eq!((q[2].used, q[2].limit), (2, 1000));
        // KEDA's association and one per app.
        assert_eq!((q[3].used, q[3].resource.as_str()), (6, "cluster demo"));
        assert!(
            q[0].line().starts_with("role trust policy ")
                && q[0]
                    .line()
                    .contains("/2,048 characters on IAM role keda-identity ("),
            "{}",
            q[0].line()
        );
    }

    #[test]
    fn more_roles_count_against_the_account() {
        let d = crate::render::desired(&spec(40, true)).unwrap();
        let roles = quotas(&d)
            .into_iter()
            .find(|q| q.quota.starts_with("roles per account"))
            .unwrap();
        // The operator role, the default identity role is unused, 40 apps' own roles.
        assert_eq!(roles.used, d.roles.len());
        assert!(roles.used >= 41, "{roles:?}");
    }
}
