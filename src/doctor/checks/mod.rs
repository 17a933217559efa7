//! One pure function per failure mode: evidence in, a finding out. The shared context and
//! helpers live here; the checks, one file per layer, are registered in `catalogue.rs`.

use super::conditions::Context;
use super::logs::{self, Refused};
use super::policy::{self, Decision, Principal, Verdict};
use super::{ClusterEvidence, Evidence, Finding, Repair, Status, catalogue};
use crate::cluster::rollout::{self, CREDENTIALS_URI, TOKEN_FILE};
use crate::render::{Desired, RolePurpose};
use serde_json::Value;

const POD_IDENTITY: &str = "pods.eks.amazonaws.com";
/// The session tags EKS Pod Identity sets (pod-id-abac); the pod's name and uid vary per pod.
const POD_TAGS: [&str; 4] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
];
const POD_TAGS_PER_POD: [&str; 2] = ["kubernetes-pod-name", "kubernetes-pod-uid"];

/// What the checks share: the config's intent, what was seen, and the names in play.
pub(crate) struct Ctx<'a> {
    d: &'a Desired,
    e: &'a Evidence,
    operator_role: Option<&'a crate::render::Role>,
    identity_role: Option<&'a crate::render::Role>,
    queue: Option<&'a crate::render::Queue>,
    /// The app's Deployment, service account and scaler as rendered.
    deployment: Option<&'a Value>,
    scaler: Option<&'a Value>,
}

impl<'a> Ctx<'a> {
    fn new(d: &'a Desired, e: &'a Evidence) -> Self {
        let role = |p: RolePurpose| d.roles.iter().find(|r| r.purpose == p);
        let manifest = |kind: &str| d.manifests.iter().find(|m| m["kind"] == kind);
        Ctx {
            d,
            e,
            operator_role: role(RolePurpose::Operator),
            identity_role: role(RolePurpose::Identity),
            // The app's queue: the last one (dead-letter queues come first).
            queue: d.queues.last(),
            deployment: manifest("Deployment"),
            scaler: manifest("ScaledObject").or_else(|| manifest("ScaledJob")),
        }
    }

    fn cluster(&self) -> Result<&'a ClusterEvidence, String> {
        self.e.cluster.as_ref().ok_or_else(|| {
            self.e
                .cluster_skipped
                .clone()
                .unwrap_or_else(|| "the cluster was not read".into())
        })
    }

    fn aws(&self) -> Result<(), String> {
        match &self.e.aws_skipped {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// Ok when every AWS read about the resources `about` names succeeded; else why not (the
    /// first refused or failed read, as AWS put it). Absence is not failure: a check then says
    /// what is missing.
    fn read(&self, about: impl Fn(&str) -> bool) -> Result<(), String> {
        self.aws()?;
        let o = &self.e.observed;
        match o
            .denied
            .iter()
            .chain(&o.unread)
            .find(|r| about(&r.resource))
        {
            Some(r) => Err(format!("could not read {}: {}", r.resource, r.message)),
            None => Ok(()),
        }
    }

    /// A role's reads (GetRole, its tags, policy lists and each inline policy).
    fn read_role(&self, name: &str) -> Result<(), String> {
        let target = format!("IAM role {name}");
        self.read(|r| r == target || r.ends_with(&format!(" of {target}")))
    }

    /// Every role of the config.
    fn read_roles(&self) -> Result<(), String> {
        self.d
            .roles
            .iter()
            .try_for_each(|r| self.read_role(&r.name))
    }

    fn read_queue(&self, name: &str) -> Result<(), String> {
        if !self.e.queues_read {
            return Err("the queues were not read (--only without queue)".into());
        }
        let target = format!("SQS queue {name}");
        self.read(|r| r == target)
    }

    /// The cluster and the add-on (and the associations): EKS reads them only once the cluster
    /// is described, and only when the eks group is in scope.
    fn read_eks(&self, associations: bool) -> Result<(), String> {
        if !self.e.eks_read {
            return Err("the add-on and associations were not read (--only without eks)".into());
        }
        self.read(|r| {
            r.starts_with("EKS cluster ")
                || r.starts_with("EKS add-on ")
                || (associations && r.starts_with("pod identity association"))
        })
    }

    /// The operator's actual namespace and service account (the config's when not seen).
    fn operator_sa(&self) -> (String, String) {
        let live = self
            .cluster()
            .ok()
            .and_then(|c| c.operator.as_ref())
            .and_then(|o| {
                Some((
                    o["metadata"]["namespace"].as_str()?.to_string(),
                    o["spec"]["template"]["spec"]["serviceAccountName"]
                        .as_str()
                        .unwrap_or("default")
                        .to_string(),
                ))
            });
        live.unwrap_or_else(|| {
            (
                self.d.keda.namespace.clone(),
                self.d.keda.service_account.clone(),
            )
        })
    }

    fn association(&self, ns: &str, sa: &str) -> Option<&'a crate::observed::Association> {
        self.e
            .observed
            .associations
            .iter()
            .find(|a| a.namespace == ns && a.service_account == sa)
    }

    /// The TriggerAuthentication's roleArn as deployed (else as the config renders it).
    fn role_arn(&self) -> Option<String> {
        let live = self
            .cluster()
            .ok()
            .and_then(|c| c.trigger_auth.as_ref())
            .map(|ta| {
                ta["spec"]["podIdentity"]["roleArn"]
                    .as_str()
                    .map(str::to_string)
            });
        match live {
            Some(v) => v,
            None => self.identity_role.map(|r| r.arn.clone()),
        }
    }

    fn operator_log(&self) -> &'a str {
        self.cluster()
            .map(|c| c.operator_log.as_str())
            .unwrap_or("")
    }

    fn refusals(&self) -> Vec<Refused> {
        fn name(r: Option<&crate::render::Role>) -> &str {
            r.map(|r| r.name.as_str()).unwrap_or("")
        }
        logs::refusals(
            self.operator_log(),
            name(self.operator_role),
            name(self.identity_role),
        )
    }

    fn simulated(&self, principal: &str, action: &str, resource: &str) -> Option<&'a str> {
        self.e
            .simulations
            .get(&super::simulation_key(principal, action, resource))
            .map(String::as_str)
    }

    /// The app's trigger as deployed (else as rendered): the first of a type kedactl renders.
    fn trigger(&self) -> Option<&'a Value> {
        let live = self.cluster().ok().and_then(|c| c.scaler.as_ref());
        live.or(self.scaler)
            .and_then(|s| s["spec"]["triggers"].as_array())
            .and_then(|t| t.iter().find(|t| crate::triggers::is_ours(t)))
    }

    /// The app's trigger when it is `aws-sqs-queue` (the queue checks).
    fn sqs_trigger(&self) -> Option<&'a Value> {
        self.trigger().filter(|t| t["type"] == "aws-sqs-queue")
    }
}

impl Ctx<'_> {
    /// The Pod Identity tags of a pod of `ns/sa`, as `<prefix><tag>` keys (none when the
    /// association disables session tags).
    fn with_pod_tags(&self, ctx: Context, prefix: &str, ns: &str, sa: &str) -> Context {
        let disabled = self
            .association(ns, sa)
            .is_some_and(|a| a.session_tags_disabled);
        let mut ctx = ctx.absent(prefix);
        if disabled {
            return ctx;
        }
        let cluster_arn = self.d.target.cluster_arn(&self.d.cluster);
        let values = [cluster_arn.as_str(), self.d.cluster.as_str(), ns, sa];
        for (tag, value) in POD_TAGS.iter().zip(values) {
            ctx = ctx.set(&format!("{prefix}{tag}"), &[value]);
        }
        for tag in POD_TAGS_PER_POD {
            ctx = ctx.unknowable(&format!("{prefix}{tag}"));
        }
        ctx
    }

    /// What EKS presents when a pod of `ns/sa` assumes its role (the service principal
    /// pods.eks.amazonaws.com: request tags, and the cluster as the source).
    fn pod_request(&self, ns: &str, sa: &str) -> Context {
        let base = Context::default()
            .set(
                "aws:SourceAccount",
                &[self.d.target.account_or_placeholder()],
            )
            // Which ARN EKS sends as the source (the cluster's, an association's) is not
            // documented for this principal: a condition on it is unknown, not a pass.
            .unknowable("aws:SourceArn")
            .absent("aws:PrincipalTag/");
        self.with_pod_tags(base, "aws:RequestTag/", ns, sa)
    }

    /// A session of `role_arn` that began as the keda-operator's pod: Pod Identity's tags are
    /// transitive, so they are the session's principal tags, also after chaining.
    fn operator_session(&self, role_arn: &str) -> Context {
        let (ns, sa) = self.operator_sa();
        let base = Context::default()
            .set("aws:PrincipalArn", &[role_arn])
            .set(
                "aws:PrincipalAccount",
                &[self.d.target.account_or_placeholder()],
            )
            .absent("aws:SourceAccount")
            .absent("aws:SourceArn");
        self.with_pod_tags(base, "aws:PrincipalTag/", &ns, &sa)
    }

    /// What a role's own policies (inline and managed) allow, within its permissions boundary.
    fn permits(
        &self,
        role: &crate::observed::Role,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> Verdict {
        let short = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
        let docs: Vec<(String, &Value)> = role
            .inline
            .iter()
            .map(|(n, d)| (n.clone(), d))
            .chain(
                role.attached
                    .iter()
                    .filter_map(|arn| role.managed.get(arn).map(|d| (short(arn), d))),
            )
            .collect();
        let own = policy::evaluate_all(
            docs.iter().map(|(n, d)| (n.as_str(), *d)),
            action,
            resource,
            ctx,
        );
        let Some(boundary) = &role.boundary else {
            return own;
        };
        if own.decision == Decision::Deny {
            return own;
        }
        let Some(doc) = role.managed.get(boundary) else {
            return Verdict {
                decision: Decision::Unknown,
                by: Some(format!("permissions boundary {}", short(boundary))),
                why: Some("the boundary was not read".into()),
            };
        };
        let name = format!("boundary {}", short(boundary));
        let limit = policy::evaluate_all([(name.as_str(), doc)], action, resource, ctx);
        match limit.decision {
            Decision::Allow => own,
            Decision::Implicit => Verdict {
                decision: Decision::Implicit,
                by: Some(format!("permissions boundary {}", short(boundary))),
                why: Some(format!("the boundary does not allow {action}")),
            },
            _ => limit,
        }
    }
}

/// The value, or return the check as skipped with the reason.
macro_rules! or_skip {
    ($f:expr, $r:expr) => {
        match $r {
            Ok(v) => v,
            Err(why) => return $f.skip(why),
        }
    };
}

// After the macro: the layer files use it (macros are scoped by text order).
mod account;
mod cluster;
mod eks;
mod iam;
mod irsa;
mod keda;
mod scaling;
mod trigger;

pub(crate) use account::*;
pub(crate) use cluster::*;
pub(crate) use eks::*;
pub(crate) use iam::*;
pub(crate) use irsa::*;
pub(crate) use keda::*;
pub(crate) use scaling::*;
pub(crate) use trigger::*;

/// Build findings tersely.
struct F {
    code: &'static str,
}

impl F {
    fn make(
        &self,
        status: Status,
        evidence: Vec<String>,
        fix: Option<String>,
        repairs: Vec<Repair>,
    ) -> Finding {
        let c = catalogue::find(self.code).expect("a catalogued code");
        Finding {
            code: c.code,
            title: c.title,
            layer: c.layer,
            status,
            evidence,
            fix,
            repairs,
        }
    }
    fn ok(&self, evidence: impl Into<String>) -> Finding {
        self.make(Status::Ok, vec![evidence.into()], None, vec![])
    }
    /// Could not be checked: a read it needs failed or was out of scope.
    fn skip(&self, why: impl Into<String>) -> Finding {
        self.make(Status::Skipped, vec![why.into()], None, vec![])
    }
    /// Does not apply to this stack (its mode or config leaves nothing to check).
    fn na(&self, why: impl Into<String>) -> Finding {
        self.make(Status::NotApplicable, vec![why.into()], None, vec![])
    }
    fn fail(&self, evidence: Vec<String>, fix: impl Into<String>, repairs: Vec<Repair>) -> Finding {
        self.make(Status::Fail, evidence, Some(fix.into()), repairs)
    }
    fn warn(&self, evidence: Vec<String>, fix: impl Into<String>) -> Finding {
        self.make(Status::Warn, evidence, Some(fix.into()), vec![])
    }
}

fn env_names(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .collect()
}

fn env_value<'v>(pod: &'v Value, name: &str) -> Option<&'v str> {
    pod["spec"]["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
}

/// Run every check in catalogue order.
pub fn run(d: &Desired, e: &Evidence) -> Vec<Finding> {
    let c = Ctx::new(d, e);
    let unread = e.cluster.as_ref().map(|cl| &cl.unread);
    let mut out: Vec<Finding> = catalogue::CATALOGUE
        .iter()
        .map(|check| {
            let f = (check.run)(&c);
            // A part it reads failed: what it made of the gap is not evidence.
            let failed = check
                .reads
                .iter()
                .find_map(|p| unread.and_then(|u| u.get(p)).map(|why| (p, why)));
            match failed {
                Some((part, why)) if f.status != Status::NotApplicable => {
                    F { code: check.code }.skip(format!("could not read {part}: {why}"))
                }
                _ => f,
            }
        })
        .collect();
    // What KEDA logged outranks a check that saw nothing wrong (or could not look): a refusal
    // turns its check into a failure, with the line and the same fix `--keda-log` gives.
    let (ns, sa) = c.operator_sa();
    let identity = c.identity_role.map_or("", |r| r.name.as_str());
    for logged in logs::findings(&c.refusals(), (&ns, &sa), identity) {
        if let Some(f) = out
            .iter_mut()
            .find(|f| f.code == logged.code && matches!(f.status, Status::Ok | Status::Skipped))
        {
            f.status = Status::Fail;
            f.evidence = logged.evidence;
            f.fix = logged.fix;
        }
    }
    out
}

/// Checks that only read the agent's log.
fn agent_log_check(c: &Ctx, code: &'static str, needles: &[&[&str]], fix: &str) -> Finding {
    let f = F { code };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no Pod Identity Agent");
    }
    let cl = or_skip!(f, c.cluster());
    if cl.agent.is_none() {
        return f.skip("the eks-pod-identity-agent DaemonSet was not found");
    }
    for n in needles {
        if let Some(line) = logs::find(&cl.agent_log, n) {
            return f.fail(vec![format!("agent log: {line}")], fix, vec![]);
        }
    }
    f.ok("no such error in the agent's recent log")
}

impl Ctx<'_> {
    fn auto_mode(&self) -> bool {
        self.e
            .observed
            .cluster
            .as_ref()
            .is_some_and(|c| c.auto_mode)
    }

    fn operator_deployment_name(&self) -> String {
        self.cluster()
            .ok()
            .and_then(|c| c.operator.as_ref())
            .and_then(|o| o["metadata"]["name"].as_str())
            .unwrap_or("keda-operator")
            .to_string()
    }
}

/// The identity role's trust as observed, with its name and ARN.
fn identity_trust<'a>(c: &Ctx<'a>) -> Result<(&'a crate::observed::Role, String), String> {
    let arn = c
        .role_arn()
        .ok_or("the TriggerAuthentication has no roleArn")?;
    let name = arn.rsplit('/').next().unwrap_or(&arn).to_string();
    c.read_role(&name)?;
    c.e.observed
        .roles
        .get(&name)
        .map(|r| (r, name.clone()))
        .ok_or(format!(
            "IAM role {name} (the roleArn) was not read or does not exist"
        ))
}

fn chain_check(c: &Ctx, code: &'static str, action: &str) -> Finding {
    let f = F { code };
    or_skip!(f, c.read_roles());
    let (Some(op), Ok((role, name))) = (c.operator_role, identity_trust(c)) else {
        return f.skip(
            identity_trust(c)
                .err()
                .unwrap_or_else(|| "no operator role in the config".into()),
        );
    };
    let t = policy::trusts(
        &role.trust,
        Principal::Aws(&op.arn),
        action,
        &c.operator_session(&op.arn),
    );
    let refused = c.refusals().into_iter().find(
        |r| matches!(r, Refused::OperatorRole { action: a, .. } if a.eq_ignore_ascii_case(action)),
    );
    if t.decision == Decision::Allow && refused.is_none() {
        let via = if t.via_account {
            " (through the account root)"
        } else {
            ""
        };
        return f.ok(format!("trust of {name} allows {} {action}{via}", op.name));
    }
    let mut evidence = vec![trust_evidence(
        &role.trust,
        &name,
        &op.name,
        &op.arn,
        action,
        &t,
    )];
    evidence.extend(refused.map(|r| r.evidence()));
    if t.decision == Decision::Unknown && evidence.len() == 1 {
        return f.warn(evidence, logs::fix::trust(&op.arn, action, &name));
    }
    f.fail(
        evidence,
        logs::fix::trust(&op.arn, action, &name),
        vec![Repair::Converge(format!("iam:role/{name}"))],
    )
}

/// Why a trust does not let `who` do `action`, in words, with the deciding statement beside it.
fn trust_evidence(
    trust: &Value,
    role: &str,
    who: &str,
    who_arn: &str,
    action: &str,
    t: &policy::Trust,
) -> String {
    let statements = policy::quote(trust, who_arn);
    let said = match (&t.verdict.by, statements.is_empty()) {
        (None, true) => format!("no statement names {who}"),
        _ => t.verdict.describe(),
    };
    let mut out = format!("trust of {role} does not let {who} {action}: {said}");
    if let Some(s) = statements.first() {
        out.push_str(&format!(" — {s}"));
    }
    out
}

/// The deployed scaler, or the reason it cannot be checked.
fn live_scaler<'a>(c: &Ctx<'a>, f: &F) -> Result<(&'a ClusterEvidence, &'a Value), Finding> {
    let cl = c.cluster().map_err(|why| f.skip(why))?;
    let so = cl.scaler.as_ref().ok_or_else(|| {
        let name = c
            .scaler
            .map(|s| {
                crate::cluster::describe(
                    s["kind"].as_str().unwrap_or("ScaledObject"),
                    s["metadata"]["namespace"].as_str(),
                    s["metadata"]["name"].as_str().unwrap_or("?"),
                )
            })
            .unwrap_or_default();
        f.fail(
            vec![format!("{name} does not exist")],
            "kedactl up --only app (or name it with --scaled-object ns/name)",
            vec![Repair::Converge("app:".into())],
        )
    })?;
    Ok((cl, so))
}

/// `ScaledObject Ready=False: <message>` from the scaler's status, when KEDA reports one.
fn not_ready(scaler: &Value) -> Option<String> {
    let c = scaler["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "False")?;
    Some(format!(
        "KEDA reports Ready=False ({}): {}",
        c["reason"].as_str().unwrap_or("-"),
        c["message"].as_str().unwrap_or("")
    ))
}

/// (region, account, name) of `https://sqs.<region>.amazonaws.com[.cn]/<account>/<name>`.
pub fn parse_queue_url(url: &str) -> Option<(&str, &str, &str)> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let region = host.strip_prefix("sqs.")?.split('.').next()?;
    let (account, name) = path.split_once('/')?;
    (account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.contains('/'))
    .then_some((region, account, name))
}

/// (region, account, name) of `arn:<partition>:sqs:<region>:<account>:<name>`.
pub fn parse_queue_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("sqs"), Some(region), Some(account), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!region.is_empty() && !account.is_empty() && !name.is_empty())
        .then_some((region, account, name))
}

/// The `deadLetterTargetArn` of a queue's RedrivePolicy (a JSON string attribute).
pub fn dead_letter_arn(q: &crate::observed::Queue) -> Option<String> {
    let policy: Value = serde_json::from_str(q.attributes.get("RedrivePolicy")?).ok()?;
    policy["deadLetterTargetArn"].as_str().map(str::to_string)
}

impl<'a> Ctx<'a> {
    /// The app's ScaledObject/ScaledJob as deployed (else as rendered).
    fn scaler_object(&self) -> Option<&'a Value> {
        let live = self.cluster().ok().and_then(|c| c.scaler.as_ref());
        live.or(self.scaler)
    }

    /// The app queue's visibility timeout in seconds, as live (else why it is unknown).
    fn visibility_timeout(&self, q: &crate::render::Queue) -> Result<u64, String> {
        self.read_queue(&q.name)?;
        let seen = self
            .e
            .observed
            .queues
            .get(&q.name)
            .ok_or(format!("SQS queue {} does not exist (see KD022)", q.name))?;
        seen.attributes
            .get("VisibilityTimeout")
            .and_then(|v| v.parse().ok())
            .ok_or(format!("SQS queue {} reports no VisibilityTimeout", q.name))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn queue_arns() {
        assert_eq!(
            super::parse_queue_arn("arn:aws:sqs:us-west-2:123456789012:old-dlq"),
            Some(("us-west-2", "123456789012", "old-dlq"))
        );
        assert_eq!(super::parse_queue_arn("arn:aws:sns:us-west-2:1:t"), None);
        assert_eq!(super::parse_queue_arn("arn:aws:sqs:::"), None);
    }
}
