//! Enough of IAM's evaluation logic to answer doctor's questions from the documents themselves
//! (moto and many accounts do not answer the policy simulator, and the simulator ignores trust
//! policies): does this policy allow this action on this resource, and does this trust policy
//! let this principal do this. Explicit Deny wins; wildcards `*` and `?`; actions match
//! case-insensitively. Conditions are evaluated against the request kedactl can describe
//! (`conditions::Context`); one that depends on what it cannot know makes the answer Unknown.

use super::conditions::{self, Context, Outcome};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny statement matched.
    Deny,
    /// Nothing matched.
    Implicit,
    /// A statement that would decide depends on a condition kedactl cannot evaluate.
    Unknown,
}

/// A decision with the statement that made it and, when not an Allow, why, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// `statement DenyAll` (its Sid, else its position), prefixed `policy NAME, ` across policies.
    pub by: Option<String>,
    /// What stopped an Allow, or the condition key that is unknown.
    pub why: Option<String>,
}

impl Verdict {
    fn implicit() -> Self {
        Verdict {
            decision: Decision::Implicit,
            by: None,
            why: None,
        }
    }

    /// "Deny in policy deny-sqs, statement DenyAll" and the like, for evidence.
    pub fn describe(&self) -> String {
        let what = match self.decision {
            Decision::Allow => "allowed",
            Decision::Deny => "denied",
            Decision::Implicit => "not allowed by any statement",
            Decision::Unknown => "unknown",
        };
        let mut out = what.to_string();
        if let Some(by) = &self.by {
            out.push_str(&format!(" ({by})"));
        }
        if let Some(why) = &self.why {
            out.push_str(&format!(": {why}"));
        }
        out
    }
}

/// `statement <Sid>`, or its position when it has none.
fn name(s: &Value, i: usize) -> String {
    match s["Sid"].as_str().filter(|sid| !sid.is_empty()) {
        Some(sid) => format!("statement {sid}"),
        None => format!("statement #{}", i + 1),
    }
}

/// Fold the statements that apply (by action, resource, principal), each with its name, into a
/// verdict: a Deny wins; a Deny that may apply makes it Unknown; then an Allow; then an Allow
/// that may apply (Unknown); else Implicit, with the first Allow whose condition failed.
fn decide<'a>(applying: impl Iterator<Item = (String, &'a Value)>, ctx: &Context) -> Verdict {
    let unknowable = |key: &str| format!("it depends on {key}, which kedactl cannot know");
    let (mut allow, mut deny_maybe, mut allow_maybe, mut missed) = (None, None, None, None);
    for (by, s) in applying {
        match (
            s["Effect"].as_str(),
            conditions::evaluate(&s["Condition"], ctx),
        ) {
            (Some("Deny"), Outcome::Match) => {
                return Verdict {
                    decision: Decision::Deny,
                    by: Some(by),
                    why: None,
                };
            }
            (Some("Deny"), Outcome::Unknown(key)) => {
                deny_maybe.get_or_insert((by, format!("a Deny {}", unknowable(&key))));
            }
            (Some("Allow"), Outcome::Match) => {
                allow.get_or_insert(by);
            }
            (Some("Allow"), Outcome::Unknown(key)) => {
                allow_maybe.get_or_insert((by, unknowable(&key)));
            }
            (Some("Allow"), Outcome::NoMatch(reason)) => {
                missed.get_or_insert((by, reason));
            }
            _ => {}
        }
    }
    let verdict = |decision, (by, why): (String, String)| Verdict {
        decision,
        by: Some(by),
        why: Some(why),
    };
    if let Some(d) = deny_maybe {
        return verdict(Decision::Unknown, d);
    }
    if let Some(by) = allow {
        return Verdict {
            decision: Decision::Allow,
            by: Some(by),
            why: None,
        };
    }
    if let Some(a) = allow_maybe {
        return verdict(Decision::Unknown, a);
    }
    missed.map_or_else(Verdict::implicit, |m| verdict(Decision::Implicit, m))
}

/// A string or a list of strings, as IAM allows either.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

pub fn statements(doc: &Value) -> Vec<&Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => vec![],
    }
}

/// IAM wildcard match: `*` any run, `?` one character.
pub fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn action_matches(s: &Value, action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    let hit = |list: &Value| {
        strings(list)
            .iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), &a))
    };
    if !s["NotAction"].is_null() {
        return !hit(&s["NotAction"]);
    }
    hit(&s["Action"])
}

fn resource_matches(s: &Value, resource: &str) -> bool {
    if !s["NotResource"].is_null() {
        return !strings(&s["NotResource"])
            .iter()
            .any(|p| wildcard(p, resource));
    }
    strings(&s["Resource"])
        .iter()
        .any(|p| wildcard(p, resource))
}

/// An identity policy's verdict for `action` on `resource`.
pub fn evaluate(doc: &Value, action: &str, resource: &str, ctx: &Context) -> Verdict {
    evaluate_all([("", doc)], action, resource, ctx)
}

/// Several identity policies together (a role's inline and managed policies, by name), as IAM
/// pools their statements.
pub fn evaluate_all<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> Verdict {
    let applying = docs.into_iter().flat_map(|(policy, doc)| {
        statements(doc)
            .into_iter()
            .enumerate()
            .filter(|(_, s)| action_matches(s, action) && resource_matches(s, resource))
            .map(move |(i, s)| match policy {
                "" => (name(s, i), s),
                p => (format!("policy {p}, {}", name(s, i)), s),
            })
    });
    decide(applying, ctx)
}

/// Who a trust statement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    Service(&'a str),
    /// An IAM role or user ARN.
    Aws(&'a str),
}

/// Does `principal` match a trust statement's principal block? An AWS principal matches its own
/// ARN, `*`, or its account (`123456789012` or `arn:…:iam::123456789012:root`, which delegates to
/// the caller's identity policy: `via_account` says so).
fn principal_matches(s: &Value, p: Principal) -> Option<bool> {
    let block = &s["Principal"];
    if block == "*" {
        return Some(false);
    }
    match p {
        Principal::Service(svc) => strings(&block["Service"]).contains(&svc).then_some(false),
        Principal::Aws(arn) => {
            let account = arn.split(':').nth(4).unwrap_or_default();
            strings(&block["AWS"]).iter().find_map(|v| {
                if *v == "*" || *v == arn {
                    Some(false)
                } else if *v == account || v.ends_with(&format!(":{account}:root")) {
                    Some(true)
                } else {
                    None
                }
            })
        }
    }
}

/// What a trust policy says about `principal` doing `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub decision: Decision,
    /// Allowed only through the account root: the principal's own identity policy must allow too.
    pub via_account: bool,
    pub verdict: Verdict,
}

pub fn trusts(doc: &Value, p: Principal, action: &str, ctx: &Context) -> Trust {
    let all = statements(doc);
    let applying: Vec<(usize, &Value, bool)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| action_matches(s, action))
        .filter_map(|(i, s)| principal_matches(s, p).map(|via| (i, *s, via)))
        .collect();
    // A direct grant beats one through the account: decide on the direct statements first.
    let direct = decide(
        applying
            .iter()
            .filter(|(_, _, via)| !via)
            .map(|(i, s, _)| (name(s, *i), *s)),
        ctx,
    );
    if matches!(direct.decision, Decision::Allow | Decision::Deny) {
        return Trust {
            decision: direct.decision,
            via_account: false,
            verdict: direct,
        };
    }
    let verdict = decide(applying.iter().map(|(i, s, _)| (name(s, *i), *s)), ctx);
    Trust {
        decision: verdict.decision,
        via_account: verdict.decision == Decision::Allow,
        verdict,
    }
}

/// Unique role IDs (`AROA…`) in a trust policy: what IAM shows once a named role was deleted.
pub fn stale_principals(doc: &Value) -> Vec<String> {
    statements(doc)
        .iter()
        .flat_map(|s| strings(&s["Principal"]["AWS"]))
        .filter(|v| v.starts_with("AROA") || v.starts_with("AIDA"))
        .map(str::to_string)
        .collect()
}

/// The statements that mention `needle` (an action or principal), for evidence.
pub fn quote(doc: &Value, needle: &str) -> Vec<String> {
    statements(doc)
        .iter()
        .filter(|s| s.to_string().contains(needle))
        .map(|s| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OP: &str = "arn:aws:iam::123456789012:role/keda-operator";
    const Q: &str = "arn:aws:sqs:us-east-1:123456789012:event-messages-queue";

    #[test]
    fn wildcards_follow_iam() {
        assert!(wildcard("sqs:*", "sqs:getqueueattributes"));
        assert!(wildcard("sqs:Get*", "sqs:GetQueueAttributes"));
        assert!(wildcard("arn:aws:sqs:*:123456789012:event-*", Q));
        assert!(wildcard("arn:aws:sqs:us-east-?:*", Q));
        assert!(!wildcard("arn:aws:sqs:us-west-2:*", Q));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a", ""));
    }

    fn none() -> Context {
        Context::default()
    }

    #[test]
    fn explicit_deny_wins_and_actions_ignore_case() {
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": ["SQS:GetQueueAttributes"], "Resource": Q}]});
        let d = |doc: &Value, a: &str, r: &str| evaluate(doc, a, r, &none()).decision;
        assert_eq!(d(&allow, "sqs:getqueueattributes", Q), Decision::Allow);
        assert_eq!(d(&allow, "sqs:ReceiveMessage", Q), Decision::Implicit);
        assert_eq!(
            d(
                &allow,
                "sqs:GetQueueAttributes",
                "arn:aws:sqs:us-east-1:123456789012:other"
            ),
            Decision::Implicit
        );
        let deny = json!({"Statement": {"Sid": "DenyAll", "Effect": "Deny", "NotAction": "sqs:SendMessage", "Resource": "*"}});
        let v = evaluate_all(
            [("read", &allow), ("deny-sqs", &deny)],
            "sqs:GetQueueAttributes",
            Q,
            &none(),
        );
        assert_eq!(v.decision, Decision::Deny);
        assert_eq!(v.describe(), "denied (policy deny-sqs, statement DenyAll)");
        assert_eq!(
            evaluate_all(
                [("read", &allow), ("deny-sqs", &deny)],
                "sqs:SendMessage",
                Q,
                &none()
            )
            .decision,
            Decision::Implicit
        );
    }

    #[test]
    fn conditions_decide_and_unknowns_are_never_an_allow() {
        let scoped = json!({"Statement": [{"Sid": "ThisTeam", "Effect": "Allow", "Action": "sqs:*", "Resource": Q,
            "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "keda"}}}]});
        let keda = Context::default().set("aws:PrincipalTag/kubernetes-namespace", &["keda"]);
        let other = Context::default().set("aws:PrincipalTag/kubernetes-namespace", &["other"]);
        assert_eq!(
            evaluate(&scoped, "sqs:GetQueueAttributes", Q, &keda).decision,
            Decision::Allow
        );
        let v = evaluate(&scoped, "sqs:GetQueueAttributes", Q, &other);
        assert_eq!(v.decision, Decision::Implicit);
        assert_eq!(
            v.describe(),
            "not allowed by any statement (statement ThisTeam): StringEquals aws:PrincipalTag/kubernetes-namespace wants keda, the request has other"
        );
        let v = evaluate(&scoped, "sqs:GetQueueAttributes", Q, &none());
        assert_eq!(v.decision, Decision::Unknown);
        assert!(
            v.describe()
                .contains("depends on aws:PrincipalTag/kubernetes-namespace"),
            "{}",
            v.describe()
        );
        // A Deny that may apply outranks a definite Allow.
        let both = json!({"Statement": [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
            {"Sid": "OffHours", "Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}
        ]});
        assert_eq!(
            evaluate(&both, "sqs:GetQueueAttributes", Q, &none()).decision,
            Decision::Unknown
        );
    }

    #[test]
    fn trust_names_services_roles_and_accounts() {
        let trust = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Effect": "Allow", "Principal": {"AWS": OP}, "Action": "sts:AssumeRole"}
        ]});
        let svc = Principal::Service("pods.eks.amazonaws.com");
        let t = |doc: &Value, p, a: &str| trusts(doc, p, a, &none());
        assert_eq!(t(&trust, svc, "sts:TagSession").decision, Decision::Allow);
        assert_eq!(
            t(&trust, Principal::Aws(OP), "sts:AssumeRole").decision,
            Decision::Allow
        );
        assert_eq!(
            t(&trust, Principal::Aws(OP), "sts:TagSession").decision,
            Decision::Implicit
        );
        let root = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:*"}});
        let r = t(&root, Principal::Aws(OP), "sts:AssumeRole");
        assert_eq!((r.decision, r.via_account), (Decision::Allow, true));
        let other = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}});
        assert_eq!(
            t(&other, Principal::Aws(OP), "sts:AssumeRole").decision,
            Decision::Implicit
        );
        let stale = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEID123"}, "Action": "sts:AssumeRole"}});
        assert_eq!(stale_principals(&stale), ["AROAEXAMPLEID123"]);
        assert_eq!(quote(&trust, OP).len(), 1);
    }
}
