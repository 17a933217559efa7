//! doctor's IAM evaluation against an independent simulator: `@cloud-copilot/iam-simulate`
//! (npm, pinned in tests/iam-oracle/package-lock.json; `.ci/run` installs it with `npm ci` and
//! sets KEDACTL_REQUIRE_IAM_SIMULATOR=1, so a missing simulator fails there instead of skipping).
//!
//! Seeded variants of the requests EKS Pod Identity and KEDA make — a pod's credentials
//! (pods.eks.amazonaws.com assuming a role: trust conditions on the six `aws:RequestTag/*` keys
//! and `aws:TagKeys`), KEDA's chained AssumeRole/TagSession (operator session → identity role:
//! its trust, the operator's inline/managed policies and boundary, transitive tags and role
//! tags as principal tags), and the identity session's GetQueueAttributes (its policies,
//! boundary, role tags, the queue policy, a queue in another account) — with StringLike,
//! IfExists, ForAnyValue/ForAllValues, Null, Bool, Date, Numeric and ARN operators,
//! NotAction/NotResource/NotPrincipal, policy variables and Deny by the account root. Each is
//! decided by kedactl (`doctor::policy::authorize` over the contexts `doctor::request` builds,
//! as the checks do) and by the simulator for the same request context; any disagreement fails.
//!
//! kedactl may answer Unknown only where the request depends on a value it cannot know (a
//! pod's name or uid): those variants are counted, not compared.
//!
//! Simulator workarounds (each a known gap of the simulator, not of AWS):
//! 1. It does not resolve a policy variable in an SQS `Resource` (SQS ARNs have no
//!    resource-type prefix): variables in SQS `Resource`/`NotResource` are substituted here,
//!    from the same context, before the simulator sees the policy.
//! 2. It compares an ARN's account field as text, so `arn:aws:iam::${aws:PrincipalAccount}:…`
//!    never matches ("Account does not match"): variables in the account field of any
//!    `Resource`/`NotResource` are substituted the same way.

use kedactl::doctor::conditions::Context;
use kedactl::doctor::policy::{Boundary, Decision, Principal, Request, authorize};
use kedactl::doctor::request::{self, Env, POD_IDENTITY, Pod};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const ACCT: &str = "123456789012";
const OTHER: &str = "210987654321";
const OP: &str = "arn:aws:iam::123456789012:role/keda-operator";
const ID: &str = "arn:aws:iam::123456789012:role/keda-identity";
const STRANGER: &str = "arn:aws:iam::123456789012:role/someone-else";
const ROOT: &str = "arn:aws:iam::123456789012:root";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:event-messages-queue";
const FOREIGN_QUEUE: &str = "arn:aws:sqs:us-east-1:210987654321:shared-queue";
const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
const POD_NAME: &str = "keda-operator-5d8f7c9b4-x2k8p";
const POD_UID: &str = "0f6c1c3e-6b1a-4f5e-9a51-2d0c3b7e8f11";
/// A fixed clock, so a run is reproducible; the dates below straddle it.
const NOW: u64 = 1_790_000_000;
const ENV: Env = Env {
    account: ACCT,
    region: "us-east-1",
    now: NOW,
};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// One request, with everything that decides it.
struct Case {
    id: String,
    /// The simulator's principal (a service, or a session of a role).
    sim_principal: String,
    /// kedactl's: the service, or the role.
    principal: String,
    service: bool,
    action: String,
    resource: String,
    identity: Vec<(String, Value)>,
    boundary: Option<Value>,
    resource_policy: Option<Value>,
    ctx: Context,
    /// Values kedactl cannot know (the pod's name and uid), as the simulator gets them.
    per_pod: Vec<(String, Value)>,
}

impl Case {
    fn kedactl(&self) -> Decision {
        let identity: Vec<(&str, &Value)> =
            self.identity.iter().map(|(n, d)| (n.as_str(), d)).collect();
        let principal = match self.service {
            true => Principal::Service(&self.principal),
            false => Principal::Aws(&self.principal),
        };
        let boundary = match &self.boundary {
            Some(b) => Boundary::Read("boundary", b),
            None => Boundary::None,
        };
        authorize(&Request {
            principal,
            action: &self.action,
            resource: &self.resource,
            ctx: &self.ctx,
            identity: &identity,
            boundary,
            resource_policy: self
                .resource_policy
                .as_ref()
                .map(|p| ("resource policy", p)),
        })
        .decision
    }

    /// The request context as the simulator takes it: kedactl's known keys plus the per-pod
    /// values.
    fn sim_context(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v) in self.ctx.known() {
            let value = match k.eq_ignore_ascii_case("aws:TagKeys") {
                true => json!(v),
                false => json!(v[0]),
            };
            m.insert(k.to_string(), value);
        }
        for (k, v) in &self.per_pod {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    fn simulation(&self) -> Value {
        let ctx = self.sim_context();
        let fix = |doc: &Value| substitute_resources(doc, &ctx);
        let account = self.resource.split(':').nth(4).unwrap_or(ACCT);
        let mut sim = json!({
            "request": {
                "principal": self.sim_principal,
                "action": self.action,
                "resource": {"resource": self.resource, "accountId": account},
                "contextVariables": ctx,
            },
            "identityPolicies": self.identity.iter().map(|(n, d)| json!({"name": n, "policy": fix(d)})).collect::<Vec<_>>(),
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        });
        if let Some(b) = &self.boundary {
            sim["permissionBoundaryPolicies"] = json!([{"name": "boundary", "policy": fix(b)}]);
        }
        if let Some(p) = &self.resource_policy {
            sim["resourcePolicy"] = fix(p);
        }
        sim
    }

    /// Does the case depend on what kedactl cannot know?
    fn mentions_per_pod(&self) -> bool {
        let all = json!([
            self.identity.iter().map(|(_, d)| d).collect::<Vec<_>>(),
            self.boundary,
            self.resource_policy
        ])
        .to_string();
        all.contains("kubernetes-pod-name") || all.contains("kubernetes-pod-uid")
    }
}

/// Workarounds 1 and 2: substitute `${key}` from the context in SQS `Resource`/`NotResource`
/// ARNs and in the account field of any.
fn substitute_resources(doc: &Value, ctx: &Map<String, Value>) -> Value {
    let mut doc = doc.clone();
    let sub = |s: &str| -> String {
        let mut out = s.to_string();
        for (k, v) in ctx {
            if let Some(v) = v.as_str() {
                let needle = format!("${{{k}}}");
                while let Some(i) = out.to_lowercase().find(&needle.to_lowercase()) {
                    out.replace_range(i..i + needle.len(), v);
                }
            }
        }
        out
    };
    let gap = |s: &str| {
        s.starts_with("arn:aws:sqs:") || s.split(':').nth(4).is_some_and(|a| a.contains("${"))
    };
    let fix = |v: &mut Value| match v {
        Value::String(s) if gap(s) => *s = sub(s),
        Value::Array(a) => {
            for x in a {
                if let Value::String(s) = x
                    && gap(s)
                {
                    *s = sub(s);
                }
            }
        }
        _ => {}
    };
    let statements = match &mut doc["Statement"] {
        Value::Array(a) => a.iter_mut().collect::<Vec<_>>(),
        s => vec![s],
    };
    for s in statements {
        fix(&mut s["Resource"]);
        fix(&mut s["NotResource"]);
        if s["Resource"].is_null() {
            s.as_object_mut().map(|o| o.remove("Resource"));
        }
        if s["NotResource"].is_null() {
            s.as_object_mut().map(|o| o.remove("NotResource"));
        }
    }
    doc
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Which prefix the tag conditions use: the pod's request or a session's principal.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Request,
    Session,
}

/// The value the request has for a tag, if any.
fn tag_value(tag: &str, role_tags: &[(String, String)], scope: Scope) -> Option<String> {
    let pod = match tag {
        "eks-cluster-arn" => Some(CLUSTER_ARN),
        "eks-cluster-name" => Some("demo"),
        "kubernetes-namespace" => Some("keda"),
        "kubernetes-service-account" => Some("keda-operator"),
        "kubernetes-pod-name" => Some(POD_NAME),
        "kubernetes-pod-uid" => Some(POD_UID),
        _ => None,
    };
    if let Some(v) = pod {
        return Some(v.to_string());
    }
    match scope {
        Scope::Session => role_tags
            .iter()
            .find(|(k, _)| k == tag)
            .map(|(_, v)| v.clone()),
        Scope::Request => None,
    }
}

/// One random condition: (operator, key, value).
fn condition(r: &mut Rng, scope: Scope, role_tags: &[(String, String)]) -> (String, String, Value) {
    let prefix = match scope {
        Scope::Request => "aws:RequestTag/",
        Scope::Session => "aws:PrincipalTag/",
    };
    match r.below(20) {
        // Tags (most of it).
        0..=11 => {
            let mut tags = vec![
                "eks-cluster-arn",
                "eks-cluster-name",
                "kubernetes-namespace",
                "kubernetes-service-account",
                "team",
                "queue",
            ];
            if r.chance(10) {
                tags.push(if r.chance(50) {
                    "kubernetes-pod-name"
                } else {
                    "kubernetes-pod-uid"
                });
            }
            let tag = r.pick(&tags);
            let key = format!("{prefix}{tag}");
            let have = tag_value(tag, role_tags, scope);
            let value = match (r.below(6), &have) {
                (0 | 1, Some(v)) => json!(v),
                (2, Some(v)) => json!(format!("{}*", &v[..v.len().min(5)])),
                (3, Some(v)) => json!([v.to_uppercase(), "other"]),
                (4, _) if scope == Scope::Session => {
                    json!(format!(
                        "${{aws:PrincipalTag/{}}}",
                        r.pick(&["kubernetes-namespace", "team", "queue"])
                    ))
                }
                _ => json!(r.pick(&["other", "keda", "payments", "event-*"])),
            };
            let mut ops = vec![
                "StringEquals",
                "StringNotEquals",
                "StringLike",
                "StringNotLike",
                "StringEqualsIgnoreCase",
                "StringEqualsIfExists",
                "StringNotEqualsIfExists",
                "StringLikeIfExists",
                "ForAnyValue:StringEquals",
                "ForAnyValue:StringLike",
                "ForAnyValue:StringEqualsIfExists",
                "ForAnyValue:StringNotEquals",
                "ForAllValues:StringEquals",
                "ForAllValues:StringNotLike",
                "Null",
            ];
            if tag == "eks-cluster-arn" {
                ops.extend(["ArnLike", "ArnEquals", "ArnNotLike"]);
            }
            let op = r.pick(&ops);
            let value = match op {
                "Null" => json!(r.pick(&["true", "false"])),
                "ArnLike" | "ArnNotLike" => json!(r.pick(&[
                    "arn:aws:eks:*:123456789012:cluster/*",
                    "arn:aws:eks:us-east-1:*:cluster/demo",
                    "arn:aws:eks:*:210987654321:cluster/*"
                ])),
                _ => value,
            };
            (op.into(), key, value)
        }
        // The keys EKS sends, on the pod's request.
        12 | 13 if scope == Scope::Request => {
            let op = r.pick(&[
                "ForAllValues:StringEquals",
                "ForAllValues:StringLike",
                "ForAnyValue:StringEquals",
                "ForAnyValue:StringLike",
                "ForAllValues:StringNotEquals",
            ]);
            let value = r.pick(&[
                json!(["kubernetes-*", "eks-*"]),
                json!(["kubernetes-namespace"]),
                json!([
                    "eks-cluster-arn",
                    "eks-cluster-name",
                    "kubernetes-namespace",
                    "kubernetes-service-account",
                    "kubernetes-pod-name",
                    "kubernetes-pod-uid"
                ]),
                json!(["team"]),
            ]);
            (op.into(), "aws:TagKeys".into(), value)
        }
        14 => (
            r.pick(&["Bool", "BoolIfExists"]).into(),
            "aws:SecureTransport".into(),
            json!(r.pick(&["true", "false"])),
        ),
        15 => (
            r.pick(&["DateGreaterThan", "DateLessThan", "DateNotEquals"])
                .into(),
            "aws:CurrentTime".into(),
            json!(r.pick(&["2026-01-01T00:00:00Z", "2027-06-30T12:00:00Z", "2026-09-21"])),
        ),
        16 => (
            r.pick(&["NumericLessThan", "NumericGreaterThanEquals"])
                .into(),
            "aws:EpochTime".into(),
            json!(r.pick(&["1790000001", "1700000000", "1900000000"])),
        ),
        17 => (
            r.pick(&["StringEquals", "StringNotEquals"]).into(),
            r.pick(&["aws:RequestedRegion", "aws:ResourceAccount"])
                .into(),
            json!(r.pick(&["us-east-1", "eu-west-1", ACCT, OTHER])),
        ),
        _ => match scope {
            Scope::Request => (
                r.pick(&["StringEquals", "StringNotEquals", "StringEqualsIfExists"])
                    .into(),
                "aws:SourceAccount".into(),
                json!(r.pick(&[ACCT, OTHER])),
            ),
            Scope::Session => match r.below(3) {
                0 => (
                    "ArnLike".into(),
                    "aws:PrincipalArn".into(),
                    json!(r.pick(&[
                        "arn:aws:iam::123456789012:role/keda-*",
                        "arn:aws:iam::*:role/other"
                    ])),
                ),
                _ => (
                    r.pick(&["StringEquals", "StringNotEquals"]).into(),
                    r.pick(&["aws:PrincipalAccount", "aws:ResourceAccount"])
                        .into(),
                    json!(r.pick(&[ACCT, OTHER, "${aws:PrincipalAccount}"])),
                ),
            },
        },
    }
}

/// 0–`max` random conditions as a Condition block (or nothing).
fn conditions(
    r: &mut Rng,
    max: usize,
    scope: Scope,
    role_tags: &[(String, String)],
) -> Option<Value> {
    let n = r.below(max + 1);
    if n == 0 {
        return None;
    }
    let mut block = Map::new();
    for _ in 0..n {
        let (op, key, value) = condition(r, scope, role_tags);
        block
            .entry(op)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .insert(key, value);
    }
    Some(Value::Object(block))
}

fn with_condition(mut s: Value, c: Option<Value>) -> Value {
    if let Some(c) = c {
        s["Condition"] = c;
    }
    s
}

fn sts_actions(r: &mut Rng) -> (&'static str, Value) {
    match r.below(6) {
        0 | 1 => ("Action", json!(["sts:AssumeRole", "sts:TagSession"])),
        2 => ("Action", json!("sts:AssumeRole")),
        3 => ("Action", json!("sts:*")),
        4 => ("Action", json!("STS:TagSession")),
        _ => ("NotAction", json!("sts:AssumeRoleWithSAML")),
    }
}

fn pod(tags_disabled: bool) -> Pod<'static> {
    Pod {
        cluster_arn: CLUSTER_ARN,
        cluster: "demo",
        namespace: "keda",
        service_account: "keda-operator",
        tags_disabled,
    }
}

fn per_pod(prefix: &str, tags_disabled: bool) -> Vec<(String, Value)> {
    match tags_disabled {
        true => vec![],
        false => vec![
            (format!("{prefix}kubernetes-pod-name"), json!(POD_NAME)),
            (format!("{prefix}kubernetes-pod-uid"), json!(POD_UID)),
        ],
    }
}

fn role_tags(r: &mut Rng, queue: &str) -> Vec<(String, String)> {
    let mut tags = vec![];
    if r.chance(60) {
        tags.push((
            "team".to_string(),
            r.pick(&["payments", "other"]).to_string(),
        ));
    }
    if r.chance(50) {
        tags.push((
            "queue".to_string(),
            r.pick(&[queue, "other-queue"]).to_string(),
        ));
    }
    if r.chance(15) {
        tags.push(("kubernetes-namespace".to_string(), "stale".to_string()));
    }
    tags
}

/// Pod Identity assuming a role: its trust alone decides.
fn pod_case(r: &mut Rng, i: usize) -> Case {
    let disabled = r.chance(10);
    let mut statements = vec![];
    let (k, actions) = sts_actions(r);
    let principal = match r.below(10) {
        0 => json!({"Service": "ec2.amazonaws.com"}),
        1 => json!({"Service": ["ec2.amazonaws.com", POD_IDENTITY]}),
        2 => json!({"AWS": ROOT}),
        _ => json!({"Service": POD_IDENTITY}),
    };
    statements.push(with_condition(
        json!({"Sid": "Pods", "Effect": "Allow", "Principal": principal, k: actions}),
        conditions(r, 2, Scope::Request, &[]),
    ));
    if r.chance(35) {
        let principal = r.pick(&[
            json!("*"),
            json!({"Service": POD_IDENTITY}),
            json!({"AWS": ROOT}),
            json!({"AWS": "*"}),
        ]);
        let (k, actions) = sts_actions(r);
        statements.push(with_condition(
            json!({"Sid": "Guard", "Effect": "Deny", "Principal": principal, k: actions}),
            conditions(r, 1, Scope::Request, &[]),
        ));
    }
    let action = r.pick(&["sts:AssumeRole", "sts:TagSession"]);
    Case {
        id: format!("pod-{i}"),
        sim_principal: POD_IDENTITY.into(),
        principal: POD_IDENTITY.into(),
        service: true,
        action: action.into(),
        resource: OP.into(),
        identity: vec![],
        boundary: None,
        resource_policy: Some(policy(statements)),
        ctx: request::pod_request(&ENV, &pod(disabled), OP),
        per_pod: per_pod("aws:RequestTag/", disabled),
    }
}

/// A session of `role` with these tags, as the simulator names it.
fn session(role: &str) -> String {
    let name = role.rsplit('/').next().unwrap();
    format!("arn:aws:sts::{ACCT}:assumed-role/{name}/eks-demo-keda-opera-1a2b3c")
}

fn boundary(r: &mut Rng, service: &str) -> Option<Value> {
    match r.below(8) {
        0 => Some(policy(vec![
            json!({"Effect": "Allow", "Action": format!("{service}:*"), "Resource": "*"}),
        ])),
        1 => Some(policy(vec![
            json!({"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"}),
        ])),
        2 => Some(policy(vec![
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            json!({"Effect": "Deny", "Action": r.pick(&["sts:TagSession", "sqs:GetQueueAttributes", "sqs:DeleteMessage"]), "Resource": "*"}),
        ])),
        _ => None,
    }
}

/// KEDA's chained call: the operator's session assumes (and tags) the identity role.
fn chain_case(r: &mut Rng, i: usize) -> Case {
    let tags = role_tags(r, "event-messages-queue");
    let mut trust = vec![
        json!({"Sid": "Pods", "Effect": "Allow", "Principal": {"Service": POD_IDENTITY}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
    ];
    let (k, actions) = sts_actions(r);
    let principal = match r.below(10) {
        0..=3 => json!({"AWS": OP}),
        4 | 5 => json!({"AWS": ROOT}),
        6 => json!({"AWS": ACCT}),
        7 => json!({"AWS": "*"}),
        8 => json!({"AWS": [STRANGER, OP]}),
        _ => json!({"AWS": STRANGER}),
    };
    trust.push(with_condition(
        json!({"Sid": "Keda", "Effect": "Allow", "Principal": principal, k: actions}),
        conditions(r, 2, Scope::Session, &tags),
    ));
    if r.chance(30) {
        let principal = r.pick(&[json!({"AWS": ROOT}), json!("*"), json!({"AWS": STRANGER})]);
        let (k, actions) = sts_actions(r);
        trust.push(with_condition(
            json!({"Sid": "Guard", "Effect": "Deny", "Principal": principal, k: actions}),
            conditions(r, 1, Scope::Session, &tags),
        ));
    }
    let mut identity = vec![];
    for n in 0..r.below(3) {
        let (k, actions) = sts_actions(r);
        let resource = r.pick(&[
            json!(ID),
            json!("arn:aws:iam::${aws:PrincipalAccount}:role/keda-*"),
            json!("*"),
            json!(STRANGER),
        ]);
        let rk = if r.chance(15) {
            "NotResource"
        } else {
            "Resource"
        };
        let mut stmts = vec![with_condition(
            json!({"Effect": "Allow", k: actions, rk: resource}),
            conditions(r, 1, Scope::Session, &tags),
        )];
        if r.chance(30) {
            stmts.push(with_condition(
                json!({"Sid": "NoTagging", "Effect": "Deny", "Action": r.pick(&["sts:TagSession", "sts:AssumeRole"]), "Resource": "*"}),
                conditions(r, 1, Scope::Session, &tags),
            ));
        }
        let name = if n == 0 {
            "kedactl-assume-identity"
        } else {
            "managed-extra"
        };
        identity.push((name.to_string(), policy(stmts)));
    }
    let disabled = r.chance(10);
    let action = r.pick(&["sts:AssumeRole", "sts:TagSession"]);
    Case {
        id: format!("chain-{i}"),
        sim_principal: session(OP),
        principal: OP.into(),
        service: false,
        action: action.into(),
        resource: ID.into(),
        identity,
        boundary: boundary(r, "sts"),
        resource_policy: Some(policy(trust)),
        ctx: request::role_session(
            &ENV,
            OP,
            tags.iter().map(|(k, v)| (k, v)),
            &pod(disabled),
            ID,
        ),
        per_pod: per_pod("aws:PrincipalTag/", disabled),
    }
}

/// KEDA's scaler reading the queue as the identity role's session.
fn queue_case(r: &mut Rng, i: usize) -> Case {
    let queue = if r.chance(12) { FOREIGN_QUEUE } else { QUEUE };
    let qname = queue.rsplit(':').next().unwrap();
    let tags = role_tags(r, qname);
    let mut identity = vec![];
    for n in 0..r.below(3) {
        let action = r.pick(&[
            json!("sqs:GetQueueAttributes"),
            json!("sqs:Get*"),
            json!(["sqs:ReceiveMessage", "sqs:GetQueueAttributes"]),
            json!("sqs:*"),
            json!("sqs:SendMessage"),
        ]);
        let resource = r.pick(&[
            json!(queue),
            json!("arn:aws:sqs:*:123456789012:event-*"),
            json!("arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:${aws:PrincipalTag/queue}"),
            json!("*"),
            json!("arn:aws:sqs:us-east-1:123456789012:other-queue"),
        ]);
        let (ak, rk) = match r.below(10) {
            0 => ("NotAction", "Resource"),
            1 => ("Action", "NotResource"),
            _ => ("Action", "Resource"),
        };
        let mut stmts = vec![with_condition(
            json!({"Effect": "Allow", ak: action, rk: resource}),
            conditions(r, 1, Scope::Session, &tags),
        )];
        if r.chance(30) {
            stmts.push(with_condition(
                json!({"Sid": "Guard", "Effect": "Deny", "Action": r.pick(&["sqs:*", "sqs:GetQueueAttributes", "sqs:DeleteMessage"]), "Resource": r.pick(&[json!("*"), json!(queue)])}),
                conditions(r, 1, Scope::Session, &tags),
            ));
        }
        identity.push((format!("policy-{n}"), policy(stmts)));
    }
    let queue_policy = match r.below(10) {
        0..=4 => None,
        n => {
            let (effect, principal) = match n {
                5 => ("Allow", json!({"AWS": ID})),
                6 => ("Allow", json!({"AWS": r.pick(&[ROOT, STRANGER])})),
                7 => ("Deny", json!("*")),
                8 => ("Deny", json!({"AWS": r.pick(&[ID, STRANGER, ROOT])})),
                _ => ("Allow", json!({"AWS": "*"})),
            };
            Some(policy(vec![with_condition(
                json!({"Sid": "QueuePolicy", "Effect": effect, "Principal": principal, "Action": r.pick(&["sqs:*", "sqs:GetQueueAttributes", "SQS:Get*"]), "Resource": queue}),
                conditions(r, 1, Scope::Session, &tags),
            )]))
        }
    };
    let disabled = r.chance(10);
    Case {
        id: format!("queue-{i}"),
        sim_principal: session(ID),
        principal: ID.into(),
        service: false,
        action: "sqs:GetQueueAttributes".into(),
        resource: queue.into(),
        identity,
        boundary: boundary(r, "sqs"),
        resource_policy: queue_policy,
        ctx: request::role_session(
            &ENV,
            ID,
            tags.iter().map(|(k, v)| (k, v)),
            &pod(disabled),
            queue,
        ),
        per_pod: per_pod("aws:PrincipalTag/", disabled),
    }
}

/// One hand-written case per class of issue 25 (what kedactl got wrong), then the seeded ones.
fn cases() -> Vec<Case> {
    let mut out = classes();
    let mut r = Rng(0x6b65_6461_6374_6c25);
    for i in 0..110 {
        out.push(pod_case(&mut r, i));
        out.push(chain_case(&mut r, i));
        out.push(queue_case(&mut r, i));
    }
    out
}

fn classes() -> Vec<Case> {
    let tags = |kv: &[(&str, &str)]| -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let chain =
        |id: &str, action: &str, trust: Value, identity: Vec<Value>, boundary: Option<Value>| {
            Case {
                id: id.into(),
                sim_principal: session(OP),
                principal: OP.into(),
                service: false,
                action: action.into(),
                resource: ID.into(),
                identity: identity
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (format!("p{i}"), d))
                    .collect(),
                boundary,
                resource_policy: Some(trust),
                ctx: request::role_session(&ENV, OP, [], &pod(false), ID),
                per_pod: per_pod("aws:PrincipalTag/", false),
            }
        };
    let queue = |id: &str,
                 t: &[(String, String)],
                 identity: Vec<Value>,
                 queue_policy: Option<Value>| Case {
        id: id.into(),
        sim_principal: session(ID),
        principal: ID.into(),
        service: false,
        action: "sqs:GetQueueAttributes".into(),
        resource: QUEUE.into(),
        identity: identity
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("p{i}"), d))
            .collect(),
        boundary: None,
        resource_policy: queue_policy,
        ctx: request::role_session(&ENV, ID, t.iter().map(|(k, v)| (k, v)), &pod(false), QUEUE),
        per_pod: per_pod("aws:PrincipalTag/", false),
    };
    // The identity trust admits keda-operator's AssumeRole on this condition only.
    let trusted_if = |id: &str, condition: Value| {
        let s = json!({"Effect": "Allow", "Principal": {"AWS": OP}, "Action": "sts:AssumeRole", "Condition": condition});
        chain(id, "sts:AssumeRole", policy(vec![s]), vec![], None)
    };
    let read = json!({"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": QUEUE});
    let team = tags(&[("team", "payments"), ("queue", "event-messages-queue")]);
    vec![
        // 1. ForAnyValue on an absent key is false, also with IfExists.
        trusted_if(
            "class-1",
            json!({"ForAnyValue:StringNotEqualsIfExists": {"aws:PrincipalTag/absent": "x"}}),
        ),
        // 2. A Deny on the role's own tag (a principal tag of every session).
        queue(
            "class-2",
            &team,
            vec![policy(vec![
                read.clone(),
                json!({"Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}}}),
            ])],
            None,
        ),
        // 3. A variable in a condition value.
        trusted_if(
            "class-3",
            json!({"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "${aws:PrincipalTag/kubernetes-service-account}"}}),
        ),
        // 4. Through the account root, TagSession needs the operator's own Allow, and a Deny on it stops the chain.
        chain(
            "class-4",
            "sts:TagSession",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
            ]),
            vec![policy(vec![
                json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ID}),
            ])],
            None,
        ),
        chain(
            "class-4b",
            "sts:TagSession",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": OP}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
            ]),
            vec![policy(vec![
                json!({"Effect": "Deny", "Action": "sts:TagSession", "Resource": "*"}),
            ])],
            None,
        ),
        // 5. A boundary caps a trust that names the role itself.
        chain(
            "class-5",
            "sts:AssumeRole",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": OP}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
            ]),
            vec![],
            Some(policy(vec![
                json!({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}),
            ])),
        ),
        // 6. A Deny naming the account root applies to the operator, whatever allows it directly.
        chain(
            "class-6",
            "sts:AssumeRole",
            policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": OP}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
                json!({"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "keda"}}}),
            ]),
            vec![],
            None,
        ),
        // 7. An Allow conditioned on the role's tag.
        queue(
            "class-7",
            &team,
            vec![policy(vec![
                json!({"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": QUEUE, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}}}),
            ])],
            None,
        ),
        // 8. A variable in an SQS Resource.
        queue(
            "class-8",
            &team,
            vec![policy(vec![
                json!({"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": "arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:${aws:PrincipalTag/queue}"}),
            ])],
            None,
        ),
        // 9. The queue policy alone grants, within the account.
        queue(
            "class-9",
            &[],
            vec![],
            Some(policy(vec![
                json!({"Effect": "Allow", "Principal": {"AWS": ID}, "Action": "sqs:GetQueueAttributes", "Resource": QUEUE}),
            ])),
        ),
        // 10. A queue-policy Deny names someone else.
        queue(
            "class-10",
            &[],
            vec![policy(vec![read])],
            Some(policy(vec![
                json!({"Effect": "Deny", "Principal": {"AWS": STRANGER}, "Action": "sqs:*", "Resource": QUEUE}),
            ])),
        ),
    ]
}

fn oracle_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/iam-oracle")
}

/// The simulator's answers, by case id; None when it is not installed (and not required).
fn simulate(cases: &[Case]) -> Option<Vec<Value>> {
    let dir = oracle_dir();
    let required = std::env::var("KEDACTL_REQUIRE_IAM_SIMULATOR").is_ok_and(|v| v == "1");
    if !dir
        .join("node_modules/@cloud-copilot/iam-simulate")
        .exists()
    {
        assert!(
            !required,
            "KEDACTL_REQUIRE_IAM_SIMULATOR=1 but {} has no node_modules: run `npm ci` there",
            dir.display()
        );
        eprintln!("skipped: the IAM simulator is not installed (cd tests/iam-oracle && npm ci)");
        return None;
    }
    let input: Vec<Value> = cases
        .iter()
        .map(|c| json!({"id": c.id, "simulation": c.simulation()}))
        .collect();
    let mut child = Command::new("node")
        .arg("simulate.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!(input).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "simulate.mjs failed");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn doctor_decides_as_the_iam_simulator_does() {
    let cases = cases();
    assert!(cases.len() >= 300, "{} variants", cases.len());
    let Some(answers) = simulate(&cases) else {
        return;
    };
    let (mut agree, mut unknown, mut bad) = (0, 0, vec![]);
    let mut seen = std::collections::BTreeMap::new();
    for (c, a) in cases.iter().zip(&answers) {
        assert_eq!(a["id"], c.id.as_str());
        if let Some(e) = a.get("error") {
            bad.push(format!(
                "{}: the simulator refused the case: {e}\n{}",
                c.id,
                c.simulation()
            ));
            continue;
        }
        let theirs = a["result"].as_str().unwrap_or("?");
        let ours = c.kedactl();
        *seen.entry(theirs.to_string()).or_insert(0) += 1;
        let same = matches!(
            (ours, theirs),
            (Decision::Allow, "Allowed")
                | (Decision::Deny, "ExplicitlyDenied")
                | (Decision::Implicit, "ImplicitlyDenied")
        );
        if same {
            agree += 1;
        } else if ours == Decision::Unknown && c.mentions_per_pod() {
            unknown += 1;
        } else {
            bad.push(format!(
                "{}: kedactl {ours:?}, simulator {theirs} (ignored keys {})\n{}",
                c.id,
                a["ignored"],
                serde_json::to_string_pretty(&c.simulation()).unwrap()
            ));
        }
    }
    eprintln!(
        "{} variants: {agree} agree, {unknown} unknown to kedactl (per-pod values), {} disagree; simulator: {seen:?}",
        cases.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n\n")
    );
    // Every outcome is exercised.
    for r in ["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"] {
        assert!(seen.get(r).copied().unwrap_or(0) >= 20, "{r}: {seen:?}");
    }
}
