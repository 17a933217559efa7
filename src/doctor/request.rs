//! The request contexts doctor evaluates policies against: what AWS presents when a pod's
//! credentials are fetched (EKS Pod Identity assuming the association's role as the service
//! pods.eks.amazonaws.com) and when a session of a role that began as a pod calls on (KEDA's
//! chained AssumeRole, its GetQueueAttributes). Keys whose values are knowable are set (the
//! EKS User Guide's "pod identity ABAC" lists the six session tags; the SDKs use TLS; the time
//! is the time of the check); per-pod values are present but unknowable; the rest is unknown.

use super::conditions::Context;

pub const POD_IDENTITY: &str = "pods.eks.amazonaws.com";

/// The session tags EKS Pod Identity sets, all transitive.
pub const POD_TAGS: [&str; 4] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
];
/// The two that vary per pod: always sent, never knowable ahead.
pub const POD_TAGS_PER_POD: [&str; 2] = ["kubernetes-pod-name", "kubernetes-pod-uid"];

/// Where and when the requests are made.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// Seconds since the epoch.
    pub now: u64,
}

/// The pod whose credentials start the chain.
#[derive(Debug, Clone, Copy)]
pub struct Pod<'a> {
    pub cluster_arn: &'a str,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    /// The association disables session tags.
    pub tags_disabled: bool,
}

impl Pod<'_> {
    /// The pod's session tags as `<prefix><tag>` keys (none when disabled).
    fn tags(&self, mut ctx: Context, prefix: &str) -> Context {
        if self.tags_disabled {
            return ctx;
        }
        let values = [
            self.cluster_arn,
            self.cluster,
            self.namespace,
            self.service_account,
        ];
        for (tag, value) in POD_TAGS.iter().zip(values) {
            ctx = ctx.set(&format!("{prefix}{tag}"), &[value]);
        }
        for tag in POD_TAGS_PER_POD {
            ctx = ctx.unknowable(&format!("{prefix}{tag}"));
        }
        ctx
    }
}

/// What every request carries: TLS, the time, the region, the account of the resource.
fn basics(env: &Env, ctx: Context, resource: &str) -> Context {
    let ctx = ctx
        .set("aws:SecureTransport", &["true"])
        .set("aws:CurrentTime", &[&iso8601(env.now)])
        .set("aws:EpochTime", &[&env.now.to_string()])
        .set("aws:RequestedRegion", &[env.region]);
    match resource.split(':').nth(4).filter(|a| !a.is_empty()) {
        Some(account) => ctx.set("aws:ResourceAccount", &[account]),
        None => ctx,
    }
}

/// EKS Pod Identity assuming `role_arn` for `pod`: the request tags and their keys, the
/// cluster's account as the source; the service principal has no principal tags.
pub fn pod_request(env: &Env, pod: &Pod, role_arn: &str) -> Context {
    let base = Context::default()
        .set("aws:SourceAccount", &[env.account])
        // Which ARN EKS sends as the source (the cluster's, an association's) is not
        // documented for this principal: a condition on it is unknown, not a pass.
        .uncertain("aws:SourceArn")
        .uncertain("aws:PrincipalAccount")
        .absent("aws:PrincipalTag/")
        .absent("aws:RequestTag/");
    let base = match pod.tags_disabled {
        true => base.absent("aws:TagKeys"),
        false => base.set(
            "aws:TagKeys",
            &POD_TAGS
                .iter()
                .chain(&POD_TAGS_PER_POD)
                .copied()
                .collect::<Vec<_>>(),
        ),
    };
    basics(env, pod.tags(base, "aws:RequestTag/"), role_arn)
}

/// A session of `role_arn` that began as `pod`, calling on `resource`: the role's own tags
/// are its principal tags, and the pod's session tags (transitive, so also after chaining)
/// override those with the same key.
pub fn role_session<'t>(
    env: &Env,
    role_arn: &str,
    role_tags: impl IntoIterator<Item = (&'t String, &'t String)>,
    pod: &Pod,
    resource: &str,
) -> Context {
    let mut base = Context::default()
        .set("aws:PrincipalArn", &[role_arn])
        .set("aws:PrincipalAccount", &[env.account])
        .absent("aws:SourceAccount")
        .absent("aws:SourceArn")
        .absent("aws:PrincipalTag/")
        // Whether a chained call re-sends the transitive tags as request tags is not
        // documented: a condition on them is unknown, not a pass.
        .uncertain("aws:TagKeys");
    for (k, v) in role_tags {
        base = base.set(&format!("aws:PrincipalTag/{k}"), &[v]);
    }
    basics(env, pod.tags(base, "aws:PrincipalTag/"), resource)
}

/// `2026-01-01T00:00:00Z` for seconds since the epoch (aws:CurrentTime's form).
pub fn iso8601(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    // The civil date of a day number (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::conditions::{Outcome, epoch, evaluate};
    use serde_json::json;

    const ENV: Env = Env {
        account: "123456789012",
        region: "us-east-1",
        now: 1_790_000_000,
    };
    const POD: Pod = Pod {
        cluster_arn: "arn:aws:eks:us-east-1:123456789012:cluster/demo",
        cluster: "demo",
        namespace: "keda",
        service_account: "keda-operator",
        tags_disabled: false,
    };
    const ROLE: &str = "arn:aws:iam::123456789012:role/keda-identity";

    #[test]
    fn the_time_round_trips() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_790_000_000), "2026-09-21T14:13:20Z");
        assert_eq!(epoch(&iso8601(1_790_000_000)), Some(1_790_000_000));
        assert_eq!(
            epoch("2026-09-21"),
            Some(1_790_000_000 - 14 * 3600 - 13 * 60 - 20)
        );
        assert_eq!(epoch("2026-09-21T16:13:20+02:00"), Some(1_790_000_000));
    }

    /// The over-cautious keys: what kedactl can know is decided, not a warning.
    #[test]
    fn knowable_keys_are_known() {
        let pod = pod_request(&ENV, &POD, ROLE);
        let holds = |c: serde_json::Value, ctx: &Context| evaluate(&c, ctx);
        for c in [
            json!({"StringEquals": {"aws:ResourceAccount": "123456789012"}}),
            json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}),
            json!({"NumericLessThan": {"aws:EpochTime": "1790000001"}}),
            json!({"StringEquals": {"aws:SourceAccount": "123456789012"}}),
            json!({"Null": {"aws:RequestTag/kubernetes-pod-uid": "false"}}),
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace", "kubernetes-service-account", "kubernetes-pod-name", "kubernetes-pod-uid"]}}),
        ] {
            assert_eq!(holds(c.clone(), &pod), Outcome::Match, "{c}");
        }
        assert!(matches!(
            holds(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["kubernetes-namespace"]}}),
                &pod
            ),
            Outcome::NoMatch(_)
        ));
        let session = role_session(&ENV, ROLE, [], &POD, "arn:aws:sqs:us-east-1:999999999999:q");
        assert_eq!(
            holds(
                json!({"StringEquals": {"aws:PrincipalAccount": "123456789012", "aws:ResourceAccount": "999999999999"}}),
                &session
            ),
            Outcome::Match
        );
        // Unknowable values stay unknown, named.
        assert_eq!(
            holds(
                json!({"StringEquals": {"aws:RequestTag/kubernetes-pod-name": "x"}}),
                &pod
            ),
            Outcome::Unknown("aws:RequestTag/kubernetes-pod-name".into())
        );
        assert_eq!(
            holds(json!({"ArnLike": {"aws:SourceArn": "arn:aws:eks:*"}}), &pod),
            Outcome::Unknown("aws:SourceArn".into())
        );
    }

    /// Class 2/7: the role's own tags are principal tags of every session; the pod's session
    /// tags override the same key.
    #[test]
    fn role_tags_are_principal_tags_and_session_tags_override_them() {
        let tags: Vec<(String, String)> = [("team", "payments"), ("kubernetes-namespace", "stale")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let s = role_session(&ENV, ROLE, tags.iter().map(|(k, v)| (k, v)), &POD, ROLE);
        assert_eq!(
            evaluate(
                &json!({"StringEquals": {"aws:PrincipalTag/team": "payments", "aws:PrincipalTag/kubernetes-namespace": "keda"}}),
                &s
            ),
            Outcome::Match
        );
        assert!(matches!(
            evaluate(
                &json!({"StringEquals": {"aws:PrincipalTag/other": "x"}}),
                &s
            ),
            Outcome::NoMatch(_)
        ));
    }
}
