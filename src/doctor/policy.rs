//! IAM's policy evaluation logic, enough to answer doctor's questions from the documents
//! themselves (moto and many accounts do not answer the policy simulator, and the simulator
//! ignores trust policies). `authorize` follows the IAM User Guide's "Policy evaluation logic":
//! an explicit Deny in any policy that applies wins; within one account an Allow in the
//! principal's own policies or a resource policy naming the principal is enough (a role's
//! trust must always allow, and one that names only the account root defers to the caller's
//! own policies); a permissions boundary caps both; across accounts both sides must allow.
//! Wildcards `*` and `?`, actions case-insensitive, policy variables substituted. Conditions
//! are evaluated against the request kedactl can describe (`conditions::Context`); one that
//! depends on what it cannot know makes the answer Unknown.

use super::conditions::{self, Context, Outcome};
use super::variables::{self, Resolved};
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

    fn new(decision: Decision, by: impl Into<String>, why: Option<String>) -> Self {
        Verdict {
            decision,
            by: Some(by.into()),
            why,
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

fn unknowable(key: &str) -> String {
    format!("it depends on {key}, which kedactl cannot know")
}

/// The statements that apply to one request, folded: the first of each kind, by name.
#[derive(Debug, Default)]
struct Tally {
    deny: Option<String>,
    /// A Deny whose condition kedactl cannot decide: (statement, why).
    deny_maybe: Option<(String, String)>,
    allow: Option<String>,
    allow_maybe: Option<(String, String)>,
    /// An Allow whose condition failed, to say why nothing allowed.
    missed: Option<(String, String)>,
}

impl Tally {
    fn add(&mut self, by: String, effect: &str, outcome: Outcome) {
        match (effect, outcome) {
            ("Deny", Outcome::Match) => {
                self.deny.get_or_insert(by);
            }
            ("Deny", Outcome::Unknown(key)) => {
                self.deny_maybe
                    .get_or_insert((by, format!("a Deny {}", unknowable(&key))));
            }
            ("Allow", Outcome::Match) => {
                self.allow.get_or_insert(by);
            }
            ("Allow", Outcome::Unknown(key)) => {
                self.allow_maybe.get_or_insert((by, unknowable(&key)));
            }
            ("Allow", Outcome::NoMatch(reason)) => {
                self.missed.get_or_insert((by, reason));
            }
            _ => {}
        }
    }

    /// Does some Allow grant it: yes, no, or it depends.
    fn allows(&self) -> Tri {
        match (&self.allow, &self.allow_maybe) {
            (Some(_), _) => Tri::Yes,
            (None, Some(_)) => Tri::Maybe,
            _ => Tri::No,
        }
    }

    /// The verdict of these statements alone: a Deny wins; a Deny that may apply makes it
    /// Unknown; then an Allow; then an Allow that may apply; else Implicit with the first
    /// Allow whose condition failed.
    fn verdict(&self) -> Verdict {
        let v = |d, (by, why): &(String, String)| Verdict::new(d, by, Some(why.clone()));
        if let Some(by) = &self.deny {
            return Verdict::new(Decision::Deny, by, None);
        }
        if let Some(d) = &self.deny_maybe {
            return v(Decision::Unknown, d);
        }
        if let Some(by) = &self.allow {
            return Verdict::new(Decision::Allow, by, None);
        }
        if let Some(a) = &self.allow_maybe {
            return v(Decision::Unknown, a);
        }
        self.missed
            .as_ref()
            .map_or_else(Verdict::implicit, |m| v(Decision::Implicit, m))
    }
}

/// Three-valued truth for "does this part allow".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    Maybe,
    No,
}

impl Tri {
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Maybe,
        }
    }
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

/// Only version 2012-10-17 substitutes policy variables.
fn substitutes(doc: &Value) -> bool {
    doc["Version"] == "2012-10-17"
}

/// IAM wildcard match: `*` any run, `?` one character.
pub fn wildcard(pattern: &str, value: &str) -> bool {
    match variables::resolve(pattern, &Context::default(), false) {
        Resolved::Pattern(p) => variables::matches(&p, value, false),
        _ => false,
    }
}

fn action_matches(s: &Value, action: &str) -> bool {
    let hit = |list: &Value| {
        strings(list).iter().any(
            |p| match variables::resolve(p, &Context::default(), false) {
                Resolved::Pattern(p) => variables::matches(&p, action, true),
                _ => false,
            },
        )
    };
    if !s["NotAction"].is_null() {
        return !hit(&s["NotAction"]);
    }
    hit(&s["Action"])
}

/// Does the statement's Resource (or NotResource) cover `resource`, after variables? A
/// statement with neither (a trust policy's) covers its own resource.
fn resource_matches(s: &Value, resource: &str, ctx: &Context, vars: bool) -> Outcome {
    let (list, not) = match (&s["Resource"], &s["NotResource"]) {
        (Value::Null, Value::Null) => return Outcome::Match,
        (Value::Null, n) => (n, true),
        (r, _) => (r, false),
    };
    let mut hit = false;
    for p in strings(list) {
        match variables::resolve(p, ctx, vars) {
            Resolved::Pattern(p) => hit |= variables::matches(&p, resource, false),
            Resolved::NoValue(_) => {}
            Resolved::Unknown(k) => return Outcome::Unknown(format!("{k} (a policy variable)")),
        }
    }
    match hit != not {
        true => Outcome::Match,
        false => Outcome::NoMatch(format!("its Resource does not cover {resource}")),
    }
}

/// A statement's outcome for a request whose action it covers: its resource and condition.
fn applies(s: &Value, resource: &str, ctx: &Context, vars: bool) -> Outcome {
    let cond = conditions::evaluate_in(&s["Condition"], ctx, vars);
    match (resource_matches(s, resource, ctx, vars), cond) {
        (Outcome::NoMatch(_), _) => Outcome::NoMatch(String::new()),
        (_, no @ Outcome::NoMatch(_)) => no,
        (Outcome::Unknown(k), _) | (_, Outcome::Unknown(k)) => Outcome::Unknown(k),
        _ => Outcome::Match,
    }
}

/// Identity policies (by name) folded for `action` on `resource`.
fn tally_identity<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> Tally {
    let mut t = Tally::default();
    for (policy, doc) in docs {
        let vars = substitutes(doc);
        for (i, s) in statements(doc).into_iter().enumerate() {
            if !action_matches(s, action) {
                continue;
            }
            let outcome = applies(s, resource, ctx, vars);
            if matches!(&outcome, Outcome::NoMatch(r) if r.is_empty()) {
                continue;
            }
            let by = match policy {
                "" => name(s, i),
                p => format!("policy {p}, {}", name(s, i)),
            };
            t.add(by, s["Effect"].as_str().unwrap_or(""), outcome);
        }
    }
    t
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
    tally_identity(docs, action, resource, ctx).verdict()
}

/// Who makes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    Service(&'a str),
    /// An IAM role (any session of it) or user, by ARN.
    Aws(&'a str),
}

impl Principal<'_> {
    fn account(&self) -> Option<&str> {
        match self {
            Principal::Aws(arn) => arn.split(':').nth(4).filter(|a| !a.is_empty()),
            Principal::Service(_) => None,
        }
    }
}

/// How a statement's principal block names a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// By its own ARN (or service name).
    Directly,
    /// As anyone: `*`, or a `NotPrincipal` that leaves it out.
    Everyone,
    /// Through its account (`123456789012`, `arn:…:iam::123456789012:root`): an Allow defers to
    /// the principal's own policies; a Deny applies to every principal of the account.
    Account,
}

fn named_in(block: &Value, p: Principal) -> Option<Named> {
    if block == "*" || strings(&block["AWS"]).contains(&"*") {
        return Some(Named::Everyone);
    }
    match p {
        Principal::Service(svc) => strings(&block["Service"])
            .iter()
            .any(|s| s.eq_ignore_ascii_case(svc))
            .then_some(Named::Directly),
        Principal::Aws(arn) => {
            let account = p.account().unwrap_or_default();
            let list = strings(&block["AWS"]);
            if list.contains(&arn) {
                return Some(Named::Directly);
            }
            list.iter()
                .any(|v| *v == account || v.ends_with(&format!(":iam::{account}:root")))
                .then_some(Named::Account)
        }
    }
}

/// Does a resource-policy statement apply to `p`, and how (`NotPrincipal` applies to everyone
/// it does not name).
fn principal_matches(s: &Value, p: Principal) -> Option<Named> {
    if !s["NotPrincipal"].is_null() {
        return named_in(&s["NotPrincipal"], p)
            .is_none()
            .then_some(Named::Everyone);
    }
    named_in(&s["Principal"], p)
}

/// A resource policy (a trust policy, a queue policy) folded for one request: Denies and
/// Allows that name the principal directly, and Allows that name only its account.
#[derive(Debug, Default)]
struct ResourceTally {
    direct: Tally,
    account: Tally,
    /// The Allows among `direct` that name everyone: a permissions boundary does not cap them
    /// (it caps a grant to the role's ARN).
    open: Tally,
}

impl ResourceTally {
    /// Prefix each statement's name with the policy's (`trust of keda-identity, statement #1`).
    fn label(&mut self, label: &str) {
        for t in [&mut self.direct, &mut self.account, &mut self.open] {
            for by in [&mut t.deny, &mut t.allow].into_iter().flatten() {
                *by = format!("{label}, {by}");
            }
            for (by, _) in [&mut t.deny_maybe, &mut t.allow_maybe, &mut t.missed]
                .into_iter()
                .flatten()
            {
                *by = format!("{label}, {by}");
            }
        }
    }
}

fn tally_resource(
    doc: &Value,
    p: Principal,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> ResourceTally {
    let vars = substitutes(doc);
    let mut t = ResourceTally::default();
    for (i, s) in statements(doc).into_iter().enumerate() {
        if !action_matches(s, action) {
            continue;
        }
        let Some(how) = principal_matches(s, p) else {
            continue;
        };
        let outcome = applies(s, resource, ctx, vars);
        if matches!(&outcome, Outcome::NoMatch(r) if r.is_empty()) {
            continue;
        }
        let effect = s["Effect"].as_str().unwrap_or("");
        // A Deny through the account applies as directly as one naming the principal.
        let into = match (how, effect) {
            (Named::Account, "Allow") => &mut t.account,
            _ => &mut t.direct,
        };
        if (how, effect) == (Named::Everyone, "Allow") {
            t.open.add(name(s, i), effect, outcome.clone());
        }
        into.add(name(s, i), effect, outcome);
    }
    t
}

/// What a trust policy says about `principal` doing `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub decision: Decision,
    /// Allowed only through the account root: the principal's own identity policy must allow too.
    pub via_account: bool,
    pub verdict: Verdict,
}

/// The trust policy alone: a Deny that applies (also one naming the account) wins, then a grant
/// naming the principal, then one naming its account (`via_account`).
pub fn trusts(doc: &Value, p: Principal, action: &str, ctx: &Context) -> Trust {
    let t = tally_resource(doc, p, action, "", ctx);
    let direct = t.direct.verdict();
    if direct.decision != Decision::Implicit {
        return Trust {
            decision: direct.decision,
            via_account: false,
            verdict: direct,
        };
    }
    let account = t.account.verdict();
    match account.decision {
        Decision::Implicit => Trust {
            decision: Decision::Implicit,
            via_account: false,
            // The direct statement that missed says more than nothing.
            verdict: if direct.by.is_some() { direct } else { account },
        },
        d => Trust {
            decision: d,
            via_account: d == Decision::Allow,
            verdict: account,
        },
    }
}

/// A principal's permissions boundary, as doctor read it.
#[derive(Debug, Clone, Copy)]
pub enum Boundary<'a> {
    None,
    /// It has one (by name) whose document was not read.
    Unread(&'a str),
    Read(&'a str, &'a Value),
}

/// Everything that decides one request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: Principal<'a>,
    pub action: &'a str,
    /// The resource's ARN (a role's for sts actions).
    pub resource: &'a str,
    pub ctx: &'a Context,
    /// The principal's own (inline and managed) policies, by name.
    pub identity: &'a [(&'a str, &'a Value)],
    pub boundary: Boundary<'a>,
    /// The resource's policy (a role's trust, a queue's policy) and what to call it in
    /// evidence (`trust of keda-identity`).
    pub resource_policy: Option<(&'a str, &'a Value)>,
}

/// AWS's answer to one request, with the two sides doctor reports on their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub decision: Decision,
    /// What decided, in words (the deciding statement).
    pub verdict: Verdict,
    /// The resource policy alone (Allow when it names the principal or its account).
    pub resource: Verdict,
    /// The resource policy names only the principal's account: its own policies must allow.
    pub via_account: bool,
    /// The principal's own policies within its boundary.
    pub identity: Verdict,
    /// The permissions boundary alone, when there is one.
    pub boundary: Option<Verdict>,
    /// Whether the decision needs the identity side to allow (a grant through the account,
    /// across accounts, or no resource grant at all).
    pub identity_needed: bool,
}

/// IAM's decision for one request (see the module comment for the rules).
pub fn authorize(r: &Request) -> Access {
    let own = tally_identity(r.identity.iter().copied(), r.action, r.resource, r.ctx);
    let boundary = match r.boundary {
        Boundary::None => None,
        Boundary::Unread(n) => Some((
            Tri::Maybe,
            Verdict::new(
                Decision::Unknown,
                format!("permissions boundary {n}"),
                Some("the boundary was not read".into()),
            ),
            None,
        )),
        Boundary::Read(n, doc) => {
            let b = tally_identity([(n, doc)], r.action, r.resource, r.ctx);
            let mut v = b.verdict();
            if v.decision == Decision::Implicit {
                v = Verdict::new(
                    Decision::Implicit,
                    format!("permissions boundary {n}"),
                    Some(format!("the boundary does not allow {}", r.action)),
                );
            }
            Some((b.allows(), v, Some(b)))
        }
    };
    let res = r
        .resource_policy
        .map(|(label, d)| {
            let mut t = tally_resource(d, r.principal, r.action, r.resource, r.ctx);
            t.label(label);
            t
        })
        .unwrap_or_default();
    let is_role = r.action.to_ascii_lowercase().starts_with("sts:");
    let same_account = match (r.principal.account(), r.resource.split(':').nth(4)) {
        (Some(a), Some(b)) => a == b || b.is_empty(),
        _ => false,
    };
    // Explicit denies first, wherever they are.
    let tallies = [
        Some(&own),
        boundary.as_ref().and_then(|b| b.2.as_ref()),
        Some(&res.direct),
    ];
    // The identity side: its own Deny, else the boundary's, else a boundary that caps an
    // Allow, else its own policies.
    let identity_verdict = {
        let ov = own.verdict();
        match &boundary {
            Some((_, bv, _))
                if ov.decision != Decision::Deny
                    && (bv.decision == Decision::Deny
                        || (bv.decision != Decision::Allow
                            && matches!(ov.decision, Decision::Allow | Decision::Unknown))) =>
            {
                bv.clone()
            }
            _ => ov,
        }
    };
    let resource_verdict = trust_like(&res);
    let via_account = res.direct.allows() == Tri::No && res.account.allows() != Tri::No;
    let capped = boundary.as_ref().map_or(Tri::Yes, |b| b.0);
    let id_path = own.allows().and(capped);
    // A grant naming the role (not a session, not everyone) is capped by the boundary too.
    let direct = match r.principal {
        Principal::Aws(_) => res.direct.allows().and(capped).or(res.open.allows()),
        Principal::Service(_) => res.direct.allows(),
    };
    let through_account = res.account.allows().and(id_path);
    let (allowed, identity_needed) = match (r.principal, is_role, same_account) {
        // A service acts on the resource policy alone.
        (Principal::Service(_), ..) => (direct, false),
        (_, true, true) => (direct.or(through_account), direct != Tri::Yes),
        (_, false, true) => (id_path.or(direct), direct != Tri::Yes),
        (_, _, false) => (
            id_path.and(res.direct.allows().or(res.account.allows())),
            true,
        ),
    };
    let access = |decision, verdict| Access {
        decision,
        verdict,
        resource: resource_verdict.clone(),
        via_account,
        identity: identity_verdict.clone(),
        boundary: boundary.as_ref().map(|b| b.1.clone()),
        identity_needed,
    };
    for t in tallies.iter().flatten() {
        if t.deny.is_some() {
            return access(Decision::Deny, t.verdict());
        }
    }
    let deny_maybe = tallies.iter().flatten().find(|t| t.deny_maybe.is_some());
    match (allowed, deny_maybe) {
        (Tri::No, _) => {
            // Say what was missing: the resource side when it decides, else the identity side.
            let v = if is_role && res.account.allows() == Tri::No && direct == Tri::No {
                match res.direct.allows() {
                    Tri::No => resource_verdict.clone(),
                    _ => identity_verdict.clone(),
                }
            } else {
                identity_verdict.clone()
            };
            let v = Verdict {
                decision: Decision::Implicit,
                ..v
            };
            access(Decision::Implicit, v)
        }
        (_, Some(t)) => access(Decision::Unknown, t.verdict()),
        (Tri::Maybe, None) => {
            let v = [&identity_verdict, &resource_verdict]
                .into_iter()
                .find(|v| v.decision == Decision::Unknown)
                .cloned()
                .unwrap_or_else(|| identity_verdict.clone());
            access(Decision::Unknown, v)
        }
        (Tri::Yes, None) => {
            let v = match direct {
                Tri::Yes => res.direct.verdict(),
                _ => own.verdict(),
            };
            access(Decision::Allow, v)
        }
    }
}

/// A resource policy's verdict alone: a Deny, a direct grant, a grant through the account.
fn trust_like(res: &ResourceTally) -> Verdict {
    let direct = res.direct.verdict();
    match direct.decision {
        Decision::Implicit => match res.account.verdict() {
            v if v.decision == Decision::Implicit && direct.by.is_some() => direct,
            v => v,
        },
        _ => direct,
    }
}

/// Why no statement of a trust applies to `who`, in words: the principals its Allows of
/// `action` name instead (`ec2.amazonaws.com`), or that none allows `action` at all.
pub fn names_instead(doc: &Value, who: &str, action: &str) -> String {
    let mut others: Vec<&str> = Vec::new();
    for s in statements(doc) {
        if s["Effect"] != "Allow" || !action_matches(s, action) {
            continue;
        }
        let p = &s["Principal"];
        let named = match p {
            Value::String(v) => vec![v.as_str()],
            _ => ["Service", "AWS", "Federated"]
                .iter()
                .flat_map(|k| strings(&p[*k]))
                .collect(),
        };
        for n in named {
            if !others.contains(&n) {
                others.push(n);
            }
        }
    }
    match others.is_empty() {
        true => format!("no statement allows {action}"),
        false => format!(
            "no statement names {who} for {action}; it names {}",
            others.join(", ")
        ),
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
