//! One pure function per failure mode: evidence in, a finding out. The shared context and
//! helpers live here; the checks, one file per layer, are registered in `catalogue.rs`.

use super::conditions::Context;
use super::logs::{self, Refused};
use super::policy::{self, Decision, Principal, Verdict};
use super::{AppObjects, ClusterEvidence, Evidence, Finding, Repair, Scope, Status, catalogue};
use crate::cluster::rollout::{self, CREDENTIALS_URI, TOKEN_FILE};
use crate::render::{Desired, RolePurpose, TriggerUse};
use serde_json::Value;

use super::request::{self, POD_IDENTITY};

/// What the checks share: the config's intent, what was seen, and the names in play. A stack
/// check sees no app; a per-app check (`Scope::App`) sees one app's queue, role and objects.
pub(crate) struct Ctx<'a> {
    d: &'a Desired,
    e: &'a Evidence,
    operator_role: Option<&'a crate::render::Role>,
    /// The app's identity role (the stack's first for a stack check).
    identity_role: Option<&'a crate::render::Role>,
    /// The app's queue (SQS apps only).
    queue: Option<&'a crate::render::Queue>,
    /// The app's Deployment and scaler as rendered.
    deployment: Option<&'a Value>,
    scaler: Option<&'a Value>,
    /// The app judged; None for a stack check.
    app: Option<&'a TriggerUse>,
    /// KEDA's log lines about this app, or about no app in particular.
    log: std::borrow::Cow<'a, str>,
}

/// An app whose objects were not read (the cluster was not, or not for it).
static UNREAD: AppObjects = AppObjects {
    scaler: None,
    trigger_auth: None,
    hpa: None,
    app_pod: None,
    workload: None,
    hpas: None,
    unread: std::collections::BTreeMap::new(),
};

impl<'a> Ctx<'a> {
    fn new(d: &'a Desired, e: &'a Evidence) -> Self {
        let role = |p: RolePurpose| d.roles.iter().find(|r| r.purpose == p);
        Ctx {
            d,
            e,
            operator_role: role(RolePurpose::Operator),
            identity_role: role(RolePurpose::Identity),
            queue: None,
            deployment: None,
            scaler: None,
            app: None,
            log: std::borrow::Cow::Borrowed(
                e.cluster.as_ref().map_or("", |c| c.operator_log.as_str()),
            ),
        }
    }

    /// The context of one app: its role, queue, rendered objects and log lines.
    fn for_app(d: &'a Desired, e: &'a Evidence, app: &'a TriggerUse) -> Self {
        let stack = Ctx::new(d, e);
        let queue = app
            .queue
            .as_deref()
            .and_then(|q| d.queues.iter().find(|dq| dq.name == q));
        Ctx {
            identity_role: d
                .roles
                .iter()
                .find(|r| r.purpose == RolePurpose::Identity && r.name == app.role),
            queue,
            deployment: app.manifest(d, "Deployment", app.deployment()),
            scaler: app.manifest(d, &app.scaler.0, &app.scaler.1),
            log: std::borrow::Cow::Owned(logs::about(
                &stack.log,
                &app_names(app),
                &d.triggers.iter().flat_map(app_names).collect::<Vec<_>>(),
            )),
            app: Some(app),
            ..stack
        }
    }

    /// The app's live objects; an app that was not read has none (its reads say why).
    fn objects(&self) -> Result<&'a AppObjects, String> {
        let cl = self.cluster()?;
        Ok(self
            .app
            .and_then(|a| cl.apps.get(&a.app))
            .unwrap_or(&UNREAD))
    }

    /// What `--fix` converges for one of the app's objects of `kind` (`Repair::Converge` of
    /// its `up` step), so a repair never reaches another app's.
    fn app_step(&self, kind: &str) -> Repair {
        let Some(a) = self.app else {
            return Repair::Converge(format!("app:{kind}/"));
        };
        let name = match kind {
            "ScaledObject" | "ScaledJob" => a.scaler.1.clone(),
            "TriggerAuthentication" => a.trigger_auth.clone(),
            "ServiceAccount" => a.service_account.clone(),
            _ => a.deployment().to_string(),
        };
        Repair::Converge(format!("app:{kind}/{}/{name}", a.namespace))
    }

    /// Every `up` step of the app's own objects (what `up --only app` would apply for it).
    fn app_steps(&self) -> Vec<Repair> {
        let Some(a) = self.app else {
            return vec![Repair::Converge("app:".into())];
        };
        let mut out = vec![Repair::Converge(format!("app:Namespace/{}", a.namespace))];
        out.push(self.app_step("ServiceAccount"));
        if self.deployment.is_some() {
            out.push(self.app_step("Deployment"));
        }
        out.push(self.app_step("TriggerAuthentication"));
        out.push(self.scaler_step());
        out
    }

    /// The app's scaler step (ScaledObject or ScaledJob).
    fn scaler_step(&self) -> Repair {
        self.app_step(self.app.map_or("ScaledObject", |a| a.scaler.0.as_str()))
    }

    /// The app's dead-letter queue and queue, as the config renders them (every queue of the
    /// config for a stack context).
    fn app_queues(&self) -> Vec<&'a crate::render::Queue> {
        if self.app.is_none() {
            return self.d.queues.iter().collect();
        }
        let Some(q) = self.queue else {
            return vec![];
        };
        let dlq = q.attributes.get("RedrivePolicy").and_then(|r| {
            self.d
                .queues
                .iter()
                .find(|d| r.contains(&format!("\"{}\"", d.arn)))
        });
        dlq.into_iter().chain([q]).collect()
    }

    /// The `up` steps of the app's queue and its dead-letter queue.
    fn queue_steps(&self) -> Vec<Repair> {
        self.app_queues()
            .into_iter()
            .map(|q| Repair::Converge(format!("queue:{}", q.name)))
            .collect()
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
            .objects()
            .ok()
            .and_then(|o| o.trigger_auth.as_ref())
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

    /// KEDA's log: for an app, the lines about it or about no app in particular.
    fn operator_log(&self) -> &str {
        &self.log
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

    /// Why the simulator did not answer this one question (others may have been answered).
    fn unanswered(&self, principal: &str, action: &str, resource: &str) -> Option<&'a str> {
        self.e
            .simulator_unanswered
            .get(&super::simulation_key(principal, action, resource))
            .map(String::as_str)
    }

    /// The app's trigger as deployed (else as rendered): the first of a type kedactl renders.
    fn trigger(&self) -> Option<&'a Value> {
        let live = self.objects().ok().and_then(|o| o.scaler.as_ref());
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
    /// Where and when doctor's requests are made.
    fn env(&self) -> request::Env<'_> {
        request::Env {
            account: self.d.target.account_or_placeholder(),
            region: &self.d.target.region,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// A pod of `ns/sa` (its cluster, and whether its association sends session tags); the
    /// caller keeps the cluster's ARN alive.
    fn pod<'p>(&'p self, cluster_arn: &'p str, ns: &'p str, sa: &'p str) -> request::Pod<'p> {
        request::Pod {
            cluster_arn,
            cluster: &self.d.cluster,
            namespace: ns,
            service_account: sa,
            tags_disabled: self
                .association(ns, sa)
                .is_some_and(|a| a.session_tags_disabled),
        }
    }

    /// What EKS presents when a pod of `ns/sa` assumes `role_arn`.
    fn pod_request(&self, ns: &str, sa: &str, role_arn: &str) -> Context {
        let arn = self.d.target.cluster_arn(&self.d.cluster);
        request::pod_request(&self.env(), &self.pod(&arn, ns, sa), role_arn)
    }

    /// A session of `role_arn` (with its tags, when read) that began as the keda-operator's
    /// pod, calling on `resource`.
    fn operator_session(&self, role_arn: &str, resource: &str) -> Context {
        let (ns, sa) = self.operator_sa();
        let arn = self.d.target.cluster_arn(&self.d.cluster);
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let tags = self.e.observed.roles.get(name).map(|r| &r.tags);
        request::role_session(
            &self.env(),
            role_arn,
            tags.into_iter().flatten(),
            &self.pod(&arn, &ns, &sa),
            resource,
        )
    }

    /// The app's own session (`ns/sa`'s pod as `role_arn`) calling on `resource`.
    fn app_session(&self, role_arn: &str, ns: &str, sa: &str, resource: &str) -> Context {
        let arn = self.d.target.cluster_arn(&self.d.cluster);
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let tags = self.e.observed.roles.get(name).map(|r| &r.tags);
        request::role_session(
            &self.env(),
            role_arn,
            tags.into_iter().flatten(),
            &self.pod(&arn, ns, sa),
            resource,
        )
    }

    /// IAM's decision on `role` (a session of it) doing `action` on `resource`, with the
    /// resource's policy (a trust, a queue policy) when it has one.
    fn access(
        &self,
        role: &crate::observed::Role,
        action: &str,
        resource: &str,
        resource_policy: Option<(&str, &Value)>,
        ctx: &Context,
    ) -> policy::Access {
        let short = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
        let names: Vec<(String, &Value)> = role
            .inline
            .iter()
            .map(|(n, d)| (n.clone(), d))
            .chain(
                role.attached
                    .iter()
                    .filter_map(|arn| role.managed.get(arn).map(|d| (short(arn), d))),
            )
            .collect();
        let identity: Vec<(&str, &Value)> = names.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let boundary_name = role.boundary.as_deref().map(short);
        let boundary = match (&role.boundary, &boundary_name) {
            (Some(arn), Some(n)) => match role.managed.get(arn) {
                Some(doc) => policy::Boundary::Read(n, doc),
                None => policy::Boundary::Unread(n),
            },
            _ => policy::Boundary::None,
        };
        policy::authorize(&policy::Request {
            principal: Principal::Aws(&role.arn),
            action,
            resource,
            ctx,
            identity: &identity,
            boundary,
            resource_policy,
        })
    }

    /// What a role's own policies (inline and managed) allow, within its permissions boundary.
    fn permits(
        &self,
        role: &crate::observed::Role,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> Verdict {
        self.access(role, action, resource, None, ctx).identity
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
mod guardrails;
mod iam;
mod irsa;
mod keda;
mod scaling;
mod trigger;
mod workload;

pub(crate) use account::*;
pub(crate) use cluster::*;
pub(crate) use eks::*;
pub(crate) use guardrails::*;
pub(crate) use iam::*;
pub(crate) use irsa::*;
pub(crate) use keda::*;
pub(crate) use scaling::*;
pub(crate) use trigger::*;
pub(crate) use workload::*;

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
            app: None,
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

/// Run every check in catalogue order, the per-app ones for every app.
pub fn run(d: &Desired, e: &Evidence) -> Vec<Finding> {
    run_for(d, e, super::Focus::default())
}

/// Run every check, the per-app ones for the apps in focus.
pub fn run_for(d: &Desired, e: &Evidence, focus: super::Focus) -> Vec<Finding> {
    let stack = Ctx::new(d, e);
    let apps: Vec<Ctx> = focus
        .apps(d)
        .into_iter()
        .map(|t| Ctx::for_app(d, e, t))
        .collect();
    let mut out = Vec::new();
    for check in catalogue::CATALOGUE {
        let ctxs: Vec<&Ctx> = match check.scope() {
            Scope::Stack => vec![&stack],
            Scope::App => apps.iter().collect(),
        };
        out.extend(ctxs.into_iter().map(|c| judged(check, c)));
    }
    // What KEDA logged outranks a check that saw nothing wrong (or could not look): a refusal
    // turns its check into a failure, with the line and the same fix `--keda-log` gives.
    let (ns, sa) = stack.operator_sa();
    for c in std::iter::once(&stack).chain(&apps) {
        let identity = c.identity_role.map_or("", |r| r.name.as_str());
        let name = c.app.map(|a| a.name.as_str());
        for logged in logs::findings(&c.refusals(), (&ns, &sa), identity, &c.d.cluster) {
            if let Some(f) = out.iter_mut().find(|f| {
                f.code == logged.code
                    && f.app.as_deref() == name
                    && matches!(f.status, Status::Ok | Status::Skipped)
            }) {
                f.status = Status::Fail;
                f.evidence = logged.evidence;
                f.fix = logged.fix;
            }
        }
    }
    out
}

/// One check over one context, with the app it judged.
fn judged(check: &catalogue::Check, c: &Ctx) -> Finding {
    let f = (check.run)(c);
    // A part it reads failed: what it made of the gap is not evidence.
    let stack = c.e.cluster.as_ref().map(|cl| &cl.unread);
    let app = c.objects().ok().map(|o| &o.unread);
    let failed = check.reads.iter().find_map(|p| {
        stack
            .and_then(|u| u.get(p))
            .or_else(|| app.and_then(|u| u.get(p)))
            .map(|why| (p, why))
    });
    let mut f = match failed {
        Some((part, why)) if f.status != Status::NotApplicable => {
            F { code: check.code }.skip(format!("could not read {part}: {why}"))
        }
        _ => f,
    };
    f.app = c.app.map(|a| a.name.clone());
    f
}

/// The names that tell one app's lines in KEDA's log: its scaler's and its queue's.
fn app_names(t: &TriggerUse) -> Vec<String> {
    std::iter::once(t.scaler.1.clone())
        .chain(t.queue.clone())
        .collect()
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
        &c.operator_session(&op.arn, &role.arn),
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
        (None, true) => policy::names_instead(trust, who, action),
        _ => t.verdict.describe(),
    };
    let mut out = format!("trust of {role} does not let {who} {action}: {said}");
    if let Some(s) = statements.first() {
        out.push_str(&format!(" — {s}"));
    }
    out
}

/// The deployed scaler, or the finding that says why it cannot be checked (boxed: a finding is
/// large beside the two references).
fn live_scaler<'a>(c: &Ctx<'a>, f: &F) -> Result<(&'a AppObjects, &'a Value), Box<Finding>> {
    let cl = c.objects().map_err(|why| Box::new(f.skip(why)))?;
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
        Box::new(f.fail(
            vec![format!("{name} does not exist")],
            "kedactl up --only app (or name it with --scaled-object ns/name)",
            c.app_steps(),
        ))
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

impl<'a> Ctx<'a> {
    /// The app's ScaledObject/ScaledJob as deployed (else as rendered).
    fn scaler_object(&self) -> Option<&'a Value> {
        let live = self.objects().ok().and_then(|o| o.scaler.as_ref());
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
