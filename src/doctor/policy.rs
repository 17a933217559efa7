//! Enough of IAM's evaluation logic to answer doctor's questions from the documents themselves
//! (moto and many accounts do not answer the policy simulator, and the simulator ignores trust
//! policies): does this policy allow this action on this resource, and does this trust policy
//! let this principal do this. Explicit Deny wins; wildcards `*` and `?`; actions match
//! case-insensitively. Conditions are not evaluated (they only narrow an Allow), so an Allow
//! under a condition is reported as an Allow, and the evidence shows the statement.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny statement matched.
    Deny,
    /// Nothing matched.
    Implicit,
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

/// An identity policy's decision for `action` on `resource`.
pub fn evaluate(doc: &Value, action: &str, resource: &str) -> Decision {
    let mut allowed = false;
    for s in statements(doc) {
        if !action_matches(s, action) || !resource_matches(s, resource) {
            continue;
        }
        match s["Effect"].as_str() {
            Some("Deny") => return Decision::Deny,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::Implicit
    }
}

/// Several identity policies together (a role's inline policies).
pub fn evaluate_all<'a>(
    docs: impl IntoIterator<Item = &'a Value>,
    action: &str,
    resource: &str,
) -> Decision {
    let mut out = Decision::Implicit;
    for d in docs {
        match evaluate(d, action, resource) {
            Decision::Deny => return Decision::Deny,
            Decision::Allow => out = Decision::Allow,
            Decision::Implicit => {}
        }
    }
    out
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
}

pub fn trusts(doc: &Value, p: Principal, action: &str) -> Trust {
    let mut out = Trust {
        decision: Decision::Implicit,
        via_account: false,
    };
    for s in statements(doc) {
        if !action_matches(s, action) {
            continue;
        }
        let Some(via_account) = principal_matches(s, p) else {
            continue;
        };
        match s["Effect"].as_str() {
            Some("Deny") => {
                return Trust {
                    decision: Decision::Deny,
                    via_account: false,
                };
            }
            // A direct grant beats one through the account.
            Some("Allow") if out.decision != Decision::Allow || !via_account => {
                out = Trust {
                    decision: Decision::Allow,
                    via_account,
                };
            }
            _ => {}
        }
    }
    out
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

    #[test]
    fn explicit_deny_wins_and_actions_ignore_case() {
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": ["SQS:GetQueueAttributes"], "Resource": Q}]});
        assert_eq!(
            evaluate(&allow, "sqs:getqueueattributes", Q),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&allow, "sqs:ReceiveMessage", Q),
            Decision::Implicit
        );
        assert_eq!(
            evaluate(
                &allow,
                "sqs:GetQueueAttributes",
                "arn:aws:sqs:us-east-1:123456789012:other"
            ),
            Decision::Implicit
        );
        let deny = json!({"Statement": {"Effect": "Deny", "NotAction": "sqs:SendMessage", "Resource": "*"}});
        assert_eq!(
            evaluate_all([&allow, &deny], "sqs:GetQueueAttributes", Q),
            Decision::Deny
        );
        assert_eq!(
            evaluate_all([&allow, &deny], "sqs:SendMessage", Q),
            Decision::Implicit
        );
    }

    #[test]
    fn trust_names_services_roles_and_accounts() {
        let trust = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
            {"Effect": "Allow", "Principal": {"AWS": OP}, "Action": "sts:AssumeRole"}
        ]});
        let svc = Principal::Service("pods.eks.amazonaws.com");
        assert_eq!(
            trusts(&trust, svc, "sts:TagSession").decision,
            Decision::Allow
        );
        assert_eq!(
            trusts(&trust, Principal::Aws(OP), "sts:AssumeRole").decision,
            Decision::Allow
        );
        assert_eq!(
            trusts(&trust, Principal::Aws(OP), "sts:TagSession").decision,
            Decision::Implicit
        );
        let root = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:*"}});
        let t = trusts(&root, Principal::Aws(OP), "sts:AssumeRole");
        assert_eq!((t.decision, t.via_account), (Decision::Allow, true));
        let other = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}});
        assert_eq!(
            trusts(&other, Principal::Aws(OP), "sts:AssumeRole").decision,
            Decision::Implicit
        );
        let stale = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEID123"}, "Action": "sts:AssumeRole"}});
        assert_eq!(stale_principals(&stale), ["AROAEXAMPLEID123"]);
        assert_eq!(quote(&trust, OP).len(), 1);
    }
}
