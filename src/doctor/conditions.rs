//! IAM condition blocks, evaluated against what a request would present, as the IAM User
//! Guide's "Condition operators" page defines them: string, ARN, numeric, date, Bool and Null
//! operators, `…IfExists`, the `ForAnyValue:`/`ForAllValues:` set qualifiers, and policy
//! variables in the values. A key whose value kedactl cannot know (a pod's name), or an
//! operator it does not model (IP addresses, binary), makes the result *unknown*: doctor warns
//! and names the key instead of passing.

use super::variables::{self, Resolved, Tok};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The request context: keys (matched case-insensitively) with their values, keys present
/// with values kedactl cannot know, keys that may or may not be present, and keys known to be
/// absent (a trailing `/` covers a family such as `aws:requesttag/`). A key nothing says
/// anything about is unknown.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// By lower-cased key: the key as spelled, and its values.
    present: BTreeMap<String, (String, Vec<String>)>,
    unknowable: BTreeSet<String>,
    uncertain: BTreeSet<String>,
    absent: BTreeSet<String>,
}

pub(crate) enum Lookup<'a> {
    Present(&'a [String]),
    /// Present, with a value kedactl cannot know.
    Unknowable,
    Absent,
    /// Maybe present, maybe not.
    Unknown,
}

impl Context {
    /// A key with its values (replacing what was said about it before).
    pub fn set(mut self, key: &str, values: &[&str]) -> Self {
        let k = key.to_ascii_lowercase();
        self.unknowable.remove(&k);
        self.uncertain.remove(&k);
        self.present.insert(
            k,
            (
                key.to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            ),
        );
        self
    }

    /// A key (or, ending in `/`, a family of keys) the request does not carry.
    pub fn absent(mut self, key: &str) -> Self {
        self.absent.insert(key.to_ascii_lowercase());
        self
    }

    /// A key the request carries, with a value kedactl cannot know.
    pub fn unknowable(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.present.remove(&k);
        self.unknowable.insert(k);
        self
    }

    /// A key the request may or may not carry.
    pub fn uncertain(mut self, key: &str) -> Self {
        let k = key.to_ascii_lowercase();
        self.present.remove(&k);
        self.uncertain.insert(k);
        self
    }

    /// The keys with known values, for an oracle given the same request.
    pub fn known(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.present
            .values()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    pub(crate) fn lookup(&self, key: &str) -> Lookup<'_> {
        let k = key.to_ascii_lowercase();
        if let Some((_, v)) = self.present.get(&k) {
            return match v.is_empty() {
                true => Lookup::Absent,
                false => Lookup::Present(v),
            };
        }
        if self.unknowable.contains(&k) {
            return Lookup::Unknowable;
        }
        if self.uncertain.contains(&k) {
            return Lookup::Unknown;
        }
        let family = self
            .absent
            .iter()
            .any(|a| a == &k || (a.ends_with('/') && k.starts_with(a.as_str())));
        match family {
            true => Lookup::Absent,
            false => Lookup::Unknown,
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

/// A whole `Condition` block of a 2012-10-17 policy: every operator and every key must hold.
pub fn evaluate(block: &Value, ctx: &Context) -> Outcome {
    evaluate_in(block, ctx, true)
}

/// A `Condition` block; `vars` says whether the policy's version substitutes variables.
pub fn evaluate_in(block: &Value, ctx: &Context, vars: bool) -> Outcome {
    let Some(ops) = block.as_object() else {
        return Outcome::Match;
    };
    let mut unknown = None;
    for (op, keys) in ops {
        for (key, wanted) in keys.as_object().into_iter().flatten() {
            match one(op, key, &strings(wanted), ctx, vars) {
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

/// How an operator compares one wanted value (already substituted) with one request value.
type Cmp = fn(&[Tok], &str) -> bool;

fn comparison(base: &str) -> Option<Cmp> {
    use std::cmp::Ordering::*;
    fn num(p: &[Tok], v: &str, want: &[std::cmp::Ordering]) -> bool {
        let (Ok(a), Ok(b)) = (
            v.trim().parse::<f64>(),
            variables::text(p).trim().parse::<f64>(),
        ) else {
            return false;
        };
        a.partial_cmp(&b).is_some_and(|o| want.contains(&o))
    }
    fn date(p: &[Tok], v: &str, want: &[std::cmp::Ordering]) -> bool {
        let (Some(a), Some(b)) = (epoch(v), epoch(&variables::text(p))) else {
            return false;
        };
        want.contains(&a.cmp(&b))
    }
    Some(match base {
        "StringEquals" | "StringNotEquals" => |p, v| variables::text(p) == v,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            |p, v| variables::text(p).eq_ignore_ascii_case(v)
        }
        "StringLike" | "StringNotLike" => |p, v| variables::matches(p, v, false),
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => arn_like,
        "Bool" => |p, v| variables::text(p).eq_ignore_ascii_case(v),
        "NumericEquals" | "NumericNotEquals" => |p, v| num(p, v, &[Equal]),
        "NumericLessThan" => |p, v| num(p, v, &[Less]),
        "NumericLessThanEquals" => |p, v| num(p, v, &[Less, Equal]),
        "NumericGreaterThan" => |p, v| num(p, v, &[Greater]),
        "NumericGreaterThanEquals" => |p, v| num(p, v, &[Greater, Equal]),
        "DateEquals" | "DateNotEquals" => |p, v| date(p, v, &[Equal]),
        "DateLessThan" => |p, v| date(p, v, &[Less]),
        "DateLessThanEquals" => |p, v| date(p, v, &[Less, Equal]),
        "DateGreaterThan" => |p, v| date(p, v, &[Greater]),
        "DateGreaterThanEquals" => |p, v| date(p, v, &[Greater, Equal]),
        _ => return None,
    })
}

/// ArnLike: each of the six colon-separated parts matches on its own (a `*` stays in its part).
fn arn_like(p: &[Tok], v: &str) -> bool {
    let mut parts: Vec<&[Tok]> = Vec::new();
    let mut rest = p;
    while parts.len() < 5 {
        match rest.iter().position(|t| *t == Tok::Lit(':')) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => break,
        }
    }
    parts.push(rest);
    let values: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6
        && values.len() == 6
        && parts
            .iter()
            .zip(values)
            .all(|(p, v)| variables::matches(p, v, false))
}

/// Seconds since the epoch of an ISO 8601 date (`2026-01-01`, `2026-01-01T10:00:00Z`,
/// `…T10:00:00.000Z`, `…+02:00`) or of a number of seconds, as date conditions accept.
pub fn epoch(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, "Z"),
    };
    let clock = clock.split('.').next()?;
    let mut t = clock.splitn(3, ':').map(|x| x.parse::<i64>().ok());
    let (h, mi, sec) = (
        t.next()??,
        t.next().flatten().unwrap_or(0),
        t.next().flatten().unwrap_or(0),
    );
    let shift = match offset {
        "Z" | "" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':').unwrap_or((&o[1..], "0"));
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + sec - shift)
}

/// One operator on one key.
fn one(op: &str, key: &str, wanted: &[String], ctx: &Context, vars: bool) -> Outcome {
    let (set, rest) = match op.split_once(':') {
        Some((q @ ("ForAnyValue" | "ForAllValues"), rest)) => (Some(q), rest),
        _ => (None, op),
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let negated = base.contains("Not");
    let shown = wanted.join(", ");
    let lookup = ctx.lookup(key);
    if base == "Null" {
        let present = match lookup {
            Lookup::Present(_) | Lookup::Unknowable => true,
            Lookup::Absent => false,
            Lookup::Unknown => return Outcome::Unknown(key.to_string()),
        };
        let want = if present { "false" } else { "true" };
        return match wanted.iter().any(|w| w.eq_ignore_ascii_case(want)) {
            true => Outcome::Match,
            false if present => {
                Outcome::NoMatch(format!("Null {key} is true, but the request has {key}"))
            }
            false => Outcome::NoMatch(format!("Null {key} is false, but the request has no {key}")),
        };
    }
    let Some(cmp) = comparison(base) else {
        return Outcome::Unknown(format!("{op} on {key}"));
    };
    let have = match lookup {
        Lookup::Unknown | Lookup::Unknowable => return Outcome::Unknown(key.to_string()),
        // An absent key: a set of no values (ForAllValues holds, ForAnyValue does not), else
        // IfExists and the negated operators hold.
        Lookup::Absent => {
            return match set {
                Some("ForAllValues") => Outcome::Match,
                Some(_) => Outcome::NoMatch(format!(
                    "{op} {key} wants {shown}, but the request has no {key}"
                )),
                None if if_exists || negated => Outcome::Match,
                None => Outcome::NoMatch(format!(
                    "{op} {key} wants {shown}, but the request has no {key}"
                )),
            };
        }
        Lookup::Present(have) => have,
    };
    let mut patterns = Vec::new();
    for w in wanted {
        match variables::resolve(w, ctx, vars) {
            Resolved::Pattern(p) => patterns.push(p),
            // A variable the request lacks: this value matches nothing.
            Resolved::NoValue(_) => {}
            Resolved::Unknown(k) => return Outcome::Unknown(format!("{k} (a policy variable)")),
        }
    }
    let hit = |v: &String| patterns.iter().any(|p| cmp(p, v));
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
