//! IAM condition blocks, evaluated against what a request would present. Only the operators
//! and keys EKS Pod Identity and kedactl's policies use are modelled; anything else, and any key
//! whose value kedactl cannot know (a pod's name), makes the result *unknown*: doctor warns and
//! names the key instead of passing.

use super::policy::wildcard;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The request context: keys (matched case-insensitively) with their values, keys known to be
/// absent (a trailing `/` covers a family such as `aws:requesttag/`), and keys that are present
/// with values kedactl cannot know.
#[derive(Debug, Clone, Default)]
pub struct Context {
    present: BTreeMap<String, Vec<String>>,
    absent: BTreeSet<String>,
    unknowable: BTreeSet<String>,
}

enum Lookup<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
}

impl Context {
    pub fn set(mut self, key: &str, values: &[&str]) -> Self {
        self.present.insert(
            key.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        );
        self
    }

    /// A key (or, ending in `/`, a family of keys) the request does not carry.
    pub fn absent(mut self, key: &str) -> Self {
        self.absent.insert(key.to_ascii_lowercase());
        self
    }

    pub fn unknowable(mut self, key: &str) -> Self {
        self.unknowable.insert(key.to_ascii_lowercase());
        self
    }

    fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        if let Some(v) = self.present.get(&k) {
            return Lookup::Present(v);
        }
        if self.unknowable.contains(&k) {
            return Lookup::Unknown;
        }
        let family = self
            .absent
            .iter()
            .any(|a| a == &k || (a.ends_with('/') && k.starts_with(a.as_str())));
        if family {
            Lookup::Absent
        } else {
            Lookup::Unknown
        }
    }
}

/// What a condition block comes to for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Match,
    /// It does not hold; the words say which condition and why.
    NoMatch(String),
    /// It depends on this key, whose value kedactl cannot know (or an operator it does not model).
    Unknown(String),
}

/// A whole `Condition` block: every operator and every key must hold.
pub fn evaluate(block: &Value, ctx: &Context) -> Outcome {
    let Some(ops) = block.as_object() else {
        return Outcome::Match;
    };
    let mut unknown = None;
    for (op, keys) in ops {
        for (key, wanted) in keys.as_object().into_iter().flatten() {
            match one(op, key, &strings(wanted), ctx) {
                Outcome::Match => {}
                no @ Outcome::NoMatch(_) => return no,
                Outcome::Unknown(k) => {
                    unknown.get_or_insert(k);
                }
            }
        }
    }
    match unknown {
        Some(k) => Outcome::Unknown(k),
        None => Outcome::Match,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One operator on one key.
fn one(op: &str, key: &str, wanted: &[String], ctx: &Context) -> Outcome {
    let (set, rest) = match op.split_once(':') {
        Some((q @ ("ForAnyValue" | "ForAllValues"), rest)) => (Some(q), rest),
        _ => (None, op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let negated = base.contains("Not");
    let matches: fn(&str, &str) -> bool = match base {
        "StringEquals" | "StringNotEquals" => |p, v| p == v,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => |p, v| p.eq_ignore_ascii_case(v),
        "StringLike" | "StringNotLike" | "ArnEquals" | "ArnLike" | "ArnNotEquals"
        | "ArnNotLike" => wildcard,
        "Bool" => |p, v| p.eq_ignore_ascii_case(v),
        "Null" => |_, _| true,
        _ => return Outcome::Unknown(format!("{op} on {key}")),
    };
    if wanted.iter().any(|w| w.contains("${")) {
        return Outcome::Unknown(format!("{key} (a policy variable)"));
    }
    let shown = wanted.join(", ");
    match ctx.lookup(key) {
        Lookup::Unknown => Outcome::Unknown(key.to_string()),
        Lookup::Absent if base == "Null" => match wanted.iter().any(|w| w == "true") {
            true => Outcome::Match,
            false => Outcome::NoMatch(format!("Null {key} is false, but the request has no {key}")),
        },
        Lookup::Absent if if_exists || negated || set == Some("ForAllValues") => Outcome::Match,
        Lookup::Absent => Outcome::NoMatch(format!(
            "{op} {key} wants {shown}, but the request has no {key}"
        )),
        Lookup::Present(_) if base == "Null" => match wanted.iter().any(|w| w == "false") {
            true => Outcome::Match,
            false => Outcome::NoMatch(format!("Null {key} is true, but the request has {key}")),
        },
        Lookup::Present(have) => {
            let hit = |v: &String| wanted.iter().any(|w| matches(w, v));
            let each = |v: &String| hit(v) != negated;
            let holds = match set {
                Some("ForAllValues") => have.iter().all(each),
                Some(_) => have.iter().any(each),
                None if negated => have.iter().all(each),
                None => have.iter().any(each),
            };
            match holds {
                true => Outcome::Match,
                false => Outcome::NoMatch(format!(
                    "{op} {key} wants {shown}, the request has {}",
                    have.join(", ")
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ns: &str, sa: &str) -> Context {
        Context::default()
            .set(
                "aws:RequestTag/eks-cluster-arn",
                &["arn:aws:eks:us-east-1:123456789012:cluster/demo"],
            )
            .set("aws:RequestTag/kubernetes-namespace", &[ns])
            .set("aws:RequestTag/kubernetes-service-account", &[sa])
            .unknowable("aws:RequestTag/kubernetes-pod-name")
            .absent("aws:RequestTag/")
            .set("aws:SourceAccount", &["123456789012"])
    }

    #[test]
    fn string_operators_and_case() {
        let c = pod("keda", "keda-operator");
        let cond = |v: Value| evaluate(&v, &c);
        assert_eq!(
            cond(json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "keda"}})),
            Outcome::Match
        );
        // Keys ignore case; values do not (unless IgnoreCase).
        assert_eq!(
            cond(json!({"StringEquals": {"AWS:REQUESTTAG/KUBERNETES-NAMESPACE": "keda"}})),
            Outcome::Match
        );
        assert!(matches!(
            cond(json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "KEDA"}})),
            Outcome::NoMatch(_)
        ));
        assert_eq!(
            cond(
                json!({"StringEqualsIgnoreCase": {"aws:RequestTag/kubernetes-namespace": "KEDA"}})
            ),
            Outcome::Match
        );
        assert_eq!(
            cond(
                json!({"StringNotEquals": {"aws:RequestTag/kubernetes-namespace": ["default", "kube-system"]}})
            ),
            Outcome::Match
        );
        assert_eq!(
            cond(json!({"StringLike": {"aws:RequestTag/kubernetes-service-account": "keda-*"}})),
            Outcome::Match
        );
        assert!(matches!(
            cond(json!({"StringNotLike": {"aws:RequestTag/kubernetes-service-account": "keda-*"}})),
            Outcome::NoMatch(_)
        ));
        assert_eq!(
            cond(
                json!({"ArnLike": {"aws:RequestTag/eks-cluster-arn": "arn:aws:eks:*:123456789012:cluster/*"}})
            ),
            Outcome::Match
        );
        assert_eq!(
            cond(
                json!({"ArnEquals": {"aws:RequestTag/eks-cluster-arn": "arn:aws:eks:us-east-1:123456789012:cluster/demo"}})
            ),
            Outcome::Match
        );
        assert_eq!(
            cond(json!({"StringEquals": {"aws:SourceAccount": 123456789012u64}})),
            Outcome::Match
        );
    }

    #[test]
    fn a_wrong_service_account_is_named_with_both_values() {
        let c = pod("security", "my-sqs-read-msgs");
        let got = evaluate(
            &json!({"StringEquals": {
            "aws:RequestTag/kubernetes-namespace": "security",
            "aws:RequestTag/kubernetes-service-account": "q-reader"}}),
            &c,
        );
        assert_eq!(
            got,
            Outcome::NoMatch("StringEquals aws:RequestTag/kubernetes-service-account wants q-reader, the request has my-sqs-read-msgs".into())
        );
    }

    #[test]
    fn absent_keys_null_if_exists_and_sets() {
        let c = pod("keda", "keda-operator");
        let cond = |v: Value| evaluate(&v, &c);
        // Absent: positive operators fail, negated ones and IfExists hold.
        assert!(matches!(
            cond(json!({"StringEquals": {"aws:RequestTag/team": "a"}})),
            Outcome::NoMatch(_)
        ));
        assert_eq!(
            cond(json!({"StringNotEquals": {"aws:RequestTag/team": "a"}})),
            Outcome::Match
        );
        assert_eq!(
            cond(json!({"StringEqualsIfExists": {"aws:RequestTag/team": "a"}})),
            Outcome::Match
        );
        assert_eq!(
            cond(json!({"Null": {"aws:RequestTag/team": "true"}})),
            Outcome::Match
        );
        assert_eq!(
            cond(json!({"Null": {"aws:RequestTag/kubernetes-namespace": "false"}})),
            Outcome::Match
        );
        assert!(matches!(
            cond(json!({"Null": {"aws:RequestTag/kubernetes-namespace": "true"}})),
            Outcome::NoMatch(_)
        ));
        let tags =
            Context::default().set("aws:TagKeys", &["kubernetes-namespace", "eks-cluster-arn"]);
        let t = |v: Value| evaluate(&v, &tags);
        assert_eq!(
            t(json!({"ForAllValues:StringLike": {"aws:TagKeys": ["kubernetes-*", "eks-*"]}})),
            Outcome::Match
        );
        assert!(matches!(
            t(json!({"ForAllValues:StringLike": {"aws:TagKeys": ["kubernetes-*"]}})),
            Outcome::NoMatch(_)
        ));
        assert_eq!(
            t(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["eks-cluster-arn", "x"]}})),
            Outcome::Match
        );
        assert!(matches!(
            t(json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["x"]}})),
            Outcome::NoMatch(_)
        ));
        let b = Context::default().set("aws:SecureTransport", &["true"]);
        assert_eq!(
            evaluate(&json!({"Bool": {"aws:SecureTransport": "true"}}), &b),
            Outcome::Match
        );
    }

    #[test]
    fn what_cannot_be_known_is_unknown_not_a_pass() {
        let c = pod("keda", "keda-operator");
        let cond = |v: Value| evaluate(&v, &c);
        assert_eq!(
            cond(json!({"StringEquals": {"aws:RequestTag/kubernetes-pod-name": "x"}})),
            Outcome::Unknown("aws:RequestTag/kubernetes-pod-name".into())
        );
        assert_eq!(
            cond(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
            Outcome::Unknown("IpAddress on aws:SourceIp".into())
        );
        assert_eq!(
            cond(json!({"StringEquals": {"aws:PrincipalTag/team": "a"}})),
            Outcome::Unknown("aws:PrincipalTag/team".into())
        );
        assert!(matches!(
            cond(
                json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "${aws:username}"}})
            ),
            Outcome::Unknown(_)
        ));
        // A definite failure wins over an unknown elsewhere in the block.
        assert!(matches!(
            cond(
                json!({"StringEquals": {"aws:RequestTag/kubernetes-pod-name": "x", "aws:RequestTag/kubernetes-namespace": "other"}})
            ),
            Outcome::NoMatch(_)
        ));
    }
}
