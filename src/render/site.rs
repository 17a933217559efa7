//! What differs between the accounts, regions and clusters one config is deployed to, inside
//! the rendered documents: an export (a StackSet template, a Kustomize base) writes each such
//! value as a mark the engine fills in per site. Pure.

use super::Desired;
use serde_json::Value;

/// How an export writes each per-site value (`${AWS::AccountId}`, `<account>`...).
pub struct Marks<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub dns_suffix: &'a str,
    pub cluster: &'a str,
}

/// The per-site values of one render.
pub struct Site {
    partition: String,
    region: String,
    account: String,
    dns_suffix: String,
    cluster: String,
    cluster_arn: String,
}

impl Site {
    pub fn of(d: &Desired) -> Self {
        Site {
            partition: d.target.partition.to_string(),
            region: d.target.region.clone(),
            account: d.target.account_or_placeholder().to_string(),
            dns_suffix: d.target.dns_suffix().to_string(),
            cluster: d.cluster.clone(),
            cluster_arn: d.cluster_arn.clone(),
        }
    }

    /// `s` with every value of this site written as its mark; None when it holds none. ARNs,
    /// endpoint hosts and the account are matched where they stand (`arn:aws:`, `:us-east-1:`,
    /// `.us-east-1.amazonaws.com`), so a queue named after its region keeps its name; the
    /// region alone only as the whole string. The cluster only in its ARN: a namespace or
    /// service account may share its name.
    pub fn neutral(&self, s: &str, m: &Marks) -> Option<String> {
        if s == self.region {
            return Some(m.region.to_string());
        }
        let cluster_arn = format!(
            "arn:{}:eks:{}:{}:cluster/{}",
            m.partition, m.region, m.account, m.cluster
        );
        let pairs = [
            (self.cluster_arn.clone(), cluster_arn),
            (
                format!("arn:{}:", self.partition),
                format!("arn:{}:", m.partition),
            ),
            (
                format!(".{}.{}", self.region, self.dns_suffix),
                format!(".{}.{}", m.region, m.dns_suffix),
            ),
            (format!(":{}:", self.region), format!(":{}:", m.region)),
            (self.account.clone(), m.account.to_string()),
        ];
        let mut out = s.to_string();
        for (from, to) in pairs {
            out = out.replace(&from, &to);
        }
        (out != s).then_some(out)
    }

    /// The cluster this render is for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }
}

/// Each string value in `v` (not object keys: IAM condition keys and labels stay as they are)
/// through `f`, which returns its replacement or None to keep it.
pub fn map_strings(v: &Value, f: &mut impl FnMut(&str) -> Option<Value>) -> Value {
    match v {
        Value::String(s) => f(s).unwrap_or_else(|| v.clone()),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// The default config for `cluster` in `region` of `account` (the export modules' tests).
#[cfg(test)]
pub(super) fn spec(region: &str, account: &str, cluster: &str) -> crate::spec::Spec {
    crate::spec::Spec {
        cluster: Some(cluster.into()),
        region: Some(region.into()),
        account: Some(account.into()),
        ..crate::spec::Spec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKS: Marks = Marks {
        partition: "P",
        region: "R",
        account: "A",
        dns_suffix: "S",
        cluster: "C",
    };

    fn site() -> Site {
        let spec = spec("cn-north-1", "123456789012", "demo");
        Site::of(&crate::render::desired(&spec).unwrap())
    }

    #[test]
    fn arns_hosts_and_whole_values_are_marked_names_are_not() {
        let s = site();
        let n = |x: &str| s.neutral(x, &MARKS);
        assert_eq!(
            n("arn:aws-cn:eks:cn-north-1:123456789012:cluster/demo").as_deref(),
            Some("arn:P:eks:R:A:cluster/C")
        );
        assert_eq!(
            n("arn:aws-cn:iam::123456789012:role/demo-x").as_deref(),
            Some("arn:P:iam::A:role/demo-x")
        );
        assert_eq!(
            n("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q").as_deref(),
            Some("https://sqs.R.S/A/q")
        );
        assert_eq!(
            n("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/r:latest").as_deref(),
            Some("A.dkr.ecr.R.S/r:latest")
        );
        assert_eq!(n("cn-north-1").as_deref(), Some("R"));
        assert_eq!(n("demo"), None, "a namespace named as the cluster");
        assert_eq!(n("cn-north-1-jobs"), None);
        assert_eq!(n("demo-queue"), None);
    }
}
