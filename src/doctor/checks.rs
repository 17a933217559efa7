//! One pure function per failure mode: evidence in, a finding out.

use super::logs::{self, Refused};
use super::policy::{self, Decision, Principal};
use super::{ClusterEvidence, Evidence, Finding, Repair, Status, catalogue};
use crate::cluster::rollout::{self, CREDENTIALS_URI, TOKEN_FILE};
use crate::render::{Desired, RolePurpose};
use serde_json::Value;

const POD_IDENTITY: &str = "pods.eks.amazonaws.com";

/// What the checks share: the config's intent, what was seen, and the names in play.
struct Ctx<'a> {
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

    /// The trigger's metadata as deployed (else as rendered).
    fn trigger(&self) -> Option<&'a Value> {
        let live = self.cluster().ok().and_then(|c| c.scaler.as_ref());
        live.or(self.scaler)
            .and_then(|s| s["spec"]["triggers"].as_array())
            .and_then(|t| t.iter().find(|t| t["type"] == "aws-sqs-queue"))
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
    vec![
        kd001(&c),
        kd002(&c),
        kd003(&c),
        kd004(&c),
        kd005(&c),
        kd006(&c),
        kd007(&c),
        kd008(&c),
        kd009(&c),
        kd010(&c),
        kd011(&c),
        kd012(&c),
        kd013(&c),
        kd014(&c),
        kd015(&c),
        kd016(&c),
        kd017(&c),
        kd018(&c),
        kd019(&c),
        kd020(&c),
        kd021(&c),
        kd022(&c),
        kd023(&c),
        kd024(&c),
        kd025(&c),
        kd026(&c),
        kd027(&c),
        kd028(&c),
        kd029(&c),
        kd030(&c),
        kd031(&c),
        kd032(&c),
        kd033(&c),
    ]
}

fn kd001(c: &Ctx) -> Finding {
    let f = F { code: "KD001" };
    let Some(name) = &c.d.addon else {
        return f.na("IRSA mode: no Pod Identity Agent needed");
    };
    or_skip!(f, c.aws());
    if c.auto_mode() {
        return f.na("EKS Auto Mode runs the Pod Identity Agent itself");
    }
    or_skip!(f, c.read_eks(false));
    let cluster = &c.d.cluster;
    let fix = format!(
        "kedactl up --only eks   (or: aws eks create-addon --cluster-name {cluster} --addon-name {name})"
    );
    match &c.e.observed.addon {
        None => f.fail(vec![format!("DescribeAddon {name}: ResourceNotFoundException")], fix, vec![Repair::Converge(format!("eks:addon/{name}"))]),
        Some(a) if a.status == "ACTIVE" || a.status == "DEGRADED" => f.ok(format!("add-on {name} is {}", a.status)),
        Some(a) if a.status == "CREATING" || a.status == "UPDATING" => {
            f.warn(vec![format!("add-on {name} is {}", a.status)], "wait until it is ACTIVE (kedactl up waits for it)")
        }
        Some(a) => f.fail(vec![format!("add-on {name} is {}", a.status)], format!("aws eks describe-addon --cluster-name {cluster} --addon-name {name} (see health.issues), then delete and re-create it"), vec![]),
    }
}

fn kd002(c: &Ctx) -> Finding {
    let f = F { code: "KD002" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no Pod Identity Agent needed");
    }
    if c.auto_mode() {
        return f.na("EKS Auto Mode runs the Pod Identity Agent itself");
    }
    let mut evidence = Vec::new();
    if let Some(a) = &c.e.observed.addon {
        if a.status == "DEGRADED" {
            evidence.push("add-on status DEGRADED".to_string());
        }
        evidence.extend(a.issues.iter().map(|i| format!("add-on health issue: {i}")));
    }
    let cluster = c.cluster();
    if let Ok(cl) = cluster {
        if let Some(ds) = &cl.agent {
            let n = |k: &str| ds["status"][k].as_u64().unwrap_or(0);
            if n("numberReady") < n("desiredNumberScheduled") {
                evidence.push(format!(
                    "DaemonSet kube-system/eks-pod-identity-agent: {} of {} pods ready",
                    n("numberReady"),
                    n("desiredNumberScheduled")
                ));
            }
        }
        if let Some(l) = logs::find(&cl.agent_log, &["failed probe"]) {
            evidence.push(format!("agent log: {l}"));
        }
    }
    if evidence.is_empty() {
        return match cluster {
            Ok(_) => f.ok("add-on and agent DaemonSet healthy"),
            Err(why) => f.skip(format!("agent pods not read: {why}")),
        };
    }
    f.fail(evidence, "kubectl -n kube-system describe ds eks-pod-identity-agent; check host ports 80/2703 on the nodes and IPv6 (see `kedactl doctor --explain KD002`)", vec![])
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

fn kd003(c: &Ctx) -> Finding {
    agent_log_check(
        c,
        "KD003",
        &[&["AssumeRoleForPodIdentity", "AccessDenied"]],
        "attach AmazonEKSWorkerNodePolicy (or eks-auth:AssumeRoleForPodIdentity) to the node role: aws iam attach-role-policy --role-name <node role> --policy-arn arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    )
}

fn kd004(c: &Ctx) -> Finding {
    agent_log_check(
        c,
        "KD004",
        &[
            &["EKS Auth", "i/o timeout"],
            &["EKS Auth", "context canceled"],
            &["eks-auth", "i/o timeout"],
        ],
        "add the com.amazonaws.<region>.eks-auth interface VPC endpoint (private cluster)",
    )
}

fn kd005(c: &Ctx) -> Finding {
    let f = F { code: "KD005" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: no associations");
    }
    or_skip!(f, c.read_eks(true));
    let (ns, sa) = c.operator_sa();
    let cfg = (&c.d.keda.namespace, &c.d.keda.service_account);
    let mut evidence = Vec::new();
    if (cfg.0, cfg.1) != (&ns, &sa) {
        evidence.push(format!(
            "the keda-operator Deployment runs as {ns}/{sa}, the config says {}/{}",
            cfg.0, cfg.1
        ));
    }
    if let Some(a) = c.association(&ns, &sa) {
        if evidence.is_empty() {
            return f.ok(format!(
                "association {} for {ns}/{sa} → {}",
                a.id, a.role_arn
            ));
        }
    } else {
        evidence.push(format!("ListPodIdentityAssociations({ns}, {sa}): none"));
    }
    if let Some(r) = c.refusals().into_iter().find(|r| r.code() == "KD005") {
        evidence.push(r.evidence());
    }
    let fix = if (cfg.0, cfg.1) != (&ns, &sa) {
        format!(
            "set keda.namespace: {ns} and keda.serviceAccount: {sa} in kedactl.yaml, then kedactl up"
        )
    } else {
        logs::fix::ASSOCIATION.to_string()
    };
    f.fail(
        evidence,
        fix,
        vec![
            Repair::Converge(format!("eks:association/{ns}/{sa}")),
            Repair::Restart(format!("{ns}/keda-operator")),
        ],
    )
}

fn kd006(c: &Ctx) -> Finding {
    let f = F { code: "KD006" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    let cl = or_skip!(f, c.cluster());
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("?");
    let missing = rollout::missing_env(pod, "keda-operator");
    if missing.is_empty() {
        return f.ok(format!(
            "pod {pod_name} has {CREDENTIALS_URI} and {TOKEN_FILE}"
        ));
    }
    let (ns, sa) = c.operator_sa();
    let mut evidence = vec![format!(
        "pod {pod_name} lacks {} (env: {})",
        missing.join(", "),
        env_names(pod).join(", ")
    )];
    if let Some(a) = c.association(&ns, &sa) {
        evidence.push(format!("association {} for {ns}/{sa} exists: the pod started before it, or the webhook missed it", a.id));
    }
    let deployment = c.operator_deployment_name();
    f.fail(evidence, format!("kubectl rollout restart deployment/{deployment} -n {ns} (kedactl doctor --fix restarts and re-checks)"), vec![Repair::Restart(format!("{ns}/{deployment}"))])
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

fn kd007(c: &Ctx) -> Finding {
    let f = F { code: "KD007" };
    let cl = or_skip!(f, c.cluster());
    let Some(node) = &cl.operator_node else {
        return f.skip("the operator pod's node was not read");
    };
    let labels = &node["metadata"]["labels"];
    let name = node["metadata"]["name"].as_str().unwrap_or("?");
    let compute = labels["eks.amazonaws.com/compute-type"].as_str();
    let os = labels["kubernetes.io/os"].as_str().unwrap_or("linux");
    match (compute, os) {
        (Some(t @ ("fargate" | "hybrid")), _) | (_, t @ "windows") => f.fail(
            vec![format!("node {name}: compute-type {} os {os}", compute.unwrap_or("ec2"))],
            format!("run KEDA on Linux EC2 nodes (a nodeSelector for the chart), or use authMode: irsa ({t} nodes get no Pod Identity)"),
            vec![],
        ),
        _ => f.ok(format!("node {name}: {} {os}", compute.unwrap_or("ec2"))),
    }
}

fn kd008(c: &Ctx) -> Finding {
    let f = F { code: "KD008" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: roles trust the cluster's OIDC provider");
    }
    or_skip!(f, c.read_roles());
    let mut evidence = Vec::new();
    let mut repairs = Vec::new();
    let mut seen = Vec::new();
    for a in &c.d.associations {
        if seen.contains(&a.role) {
            continue;
        }
        seen.push(a.role.clone());
        let Some(role) = c.e.observed.roles.get(&a.role) else {
            evidence.push(format!("IAM role {} does not exist", a.role));
            repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
            continue;
        };
        for action in ["sts:AssumeRole", "sts:TagSession"] {
            if policy::trusts(&role.trust, Principal::Service(POD_IDENTITY), action).decision
                != Decision::Allow
            {
                evidence.push(format!(
                    "trust of {} does not allow {POD_IDENTITY} {action}: {}",
                    a.role, role.trust
                ));
                repairs.push(Repair::Converge(format!("iam:role/{}", a.role)));
            }
        }
    }
    if evidence.is_empty() {
        return f.ok(format!(
            "{} trust {POD_IDENTITY} for sts:AssumeRole and sts:TagSession",
            seen.join(", ")
        ));
    }
    repairs.dedup();
    f.fail(
        evidence,
        "kedactl up --only iam (puts the canonical trust statement back)",
        repairs,
    )
}

fn kd009(c: &Ctx) -> Finding {
    let f = F { code: "KD009" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode: IRSA is the intended path");
    }
    let cl = or_skip!(f, c.cluster());
    let mut evidence = Vec::new();
    if let Some(arn) = cl
        .operator_sa
        .as_ref()
        .and_then(|s| s["metadata"]["annotations"][crate::render::IRSA_ANNOTATION].as_str())
    {
        evidence.push(format!(
            "service account annotation eks.amazonaws.com/role-arn: {arn}"
        ));
    }
    if let Some(p) = &cl.operator_pod
        && env_names(p)
            .iter()
            .any(|n| n == "AWS_WEB_IDENTITY_TOKEN_FILE")
    {
        evidence.push("pod env has AWS_WEB_IDENTITY_TOKEN_FILE (IRSA is injected too)".into());
    }
    if evidence.is_empty() {
        return f.ok("no IRSA annotation or web identity token on the operator");
    }
    let (ns, sa) = c.operator_sa();
    f.fail(evidence, logs::fix::irsa(&ns, &sa), vec![])
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
    let t = policy::trusts(&role.trust, Principal::Aws(&op.arn), action);
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
    let mut evidence = vec![format!("trust of {name}: {}", role.trust)];
    evidence.extend(refused.map(|r| r.evidence()));
    f.fail(
        evidence,
        logs::fix::trust(&op.arn, action, &name),
        vec![Repair::Converge(format!("iam:role/{name}"))],
    )
}

fn kd010(c: &Ctx) -> Finding {
    chain_check(c, "KD010", "sts:AssumeRole")
}

fn kd011(c: &Ctx) -> Finding {
    chain_check(c, "KD011", "sts:TagSession")
}

fn kd012(c: &Ctx) -> Finding {
    let f = F { code: "KD012" };
    or_skip!(f, c.read_roles());
    let (Some(op), Ok((role, name))) = (c.operator_role, identity_trust(c)) else {
        return f.skip("no roleArn chain to check");
    };
    let Some(op_seen) = c.e.observed.roles.get(&op.name) else {
        return f.skip(format!("IAM role {} was not read", op.name));
    };
    let mut evidence = Vec::new();
    let via_account =
        policy::trusts(&role.trust, Principal::Aws(&op.arn), "sts:AssumeRole").via_account;
    let own = policy::evaluate_all(op_seen.inline.values(), "sts:AssumeRole", &role.arn);
    if own == Decision::Deny
        || (via_account && own != Decision::Allow && op_seen.attached.is_empty())
    {
        evidence.push(format!(
            "{}'s inline policies do not allow sts:AssumeRole on {} (trust names the account root)",
            op.name, role.arn
        ));
    }
    if let Some(d) = c.simulated(&op.arn, "sts:AssumeRole", &role.arn)
        && d != "allowed"
    {
        evidence.push(format!(
            "policy simulator: {} sts:AssumeRole on {}: {d}",
            op.name, role.arn
        ));
    }
    if evidence.is_empty() {
        return f.ok(if via_account {
            format!("{}'s own policy allows assuming {name}", op.name)
        } else {
            format!("{name}'s trust names {} directly", op.name)
        });
    }
    f.fail(evidence, format!("kedactl up --only iam (puts kedactl-assume-identity on {}: sts:AssumeRole and sts:TagSession on {})", op.name, role.arn), vec![Repair::Converge(format!("iam:role/{}/policy", op.name))])
}

fn kd013(c: &Ctx) -> Finding {
    let f = F { code: "KD013" };
    or_skip!(f, c.read_roles());
    let stale: Vec<String> =
        c.e.observed
            .roles
            .iter()
            .flat_map(|(n, r)| {
                policy::stale_principals(&r.trust)
                    .into_iter()
                    .map(move |id| format!("trust of {n} names {id}"))
            })
            .collect();
    if stale.is_empty() {
        return f.ok("every trusted principal is a live ARN");
    }
    let repairs =
        c.e.observed
            .roles
            .iter()
            .filter(|(_, r)| !policy::stale_principals(&r.trust).is_empty())
            .map(|(n, _)| Repair::Converge(format!("iam:role/{n}")))
            .collect();
    f.fail(
        stale,
        "kedactl up --only iam (re-puts the trust with the role's ARN)",
        repairs,
    )
}

fn kd014(c: &Ctx) -> Finding {
    let f = F { code: "KD014" };
    let Some(arn) = c.role_arn() else {
        return f.ok("no roleArn");
    };
    let (ns, sa) = c.operator_sa();
    let op_arn = c
        .association(&ns, &sa)
        .map(|a| a.role_arn.clone())
        .or(c.operator_role.map(|r| r.arn.clone()));
    if op_arn.as_deref() == Some(arn.as_str()) {
        return f.fail(vec![format!("roleArn {arn} is the role of {ns}/{sa} itself")], "point roleArn at a separate identity role (the config's identity role), or remove roleArn", vec![Repair::Converge("app:TriggerAuthentication".into())]);
    }
    f.ok(format!("roleArn {arn} differs from the operator's role"))
}

fn kd015(c: &Ctx) -> Finding {
    let f = F { code: "KD015" };
    or_skip!(f, c.aws());
    let Some(q) = c.queue else {
        return f.na("no queue in the config");
    };
    let (role, name) = match identity_trust(c) {
        Ok(x) => x,
        Err(why) => return f.skip(why),
    };
    let action = "sqs:GetQueueAttributes";
    let mut evidence = Vec::new();
    let mut warn_only = false;
    match policy::evaluate_all(role.inline.values(), action, &q.arn) {
        Decision::Allow => {}
        Decision::Deny => evidence.push(format!(
            "{name}'s inline policies deny {action} on {}",
            q.arn
        )),
        Decision::Implicit if role.attached.is_empty() => evidence.push(format!(
            "no policy of {name} allows {action} on {} (inline: {})",
            q.arn,
            role.inline.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        Decision::Implicit => {
            warn_only = true;
            evidence.push(format!("no inline policy of {name} allows {action} on {}; managed policies {} were not evaluated", q.arn, role.attached.join(", ")));
        }
    }
    if let Some(qp) =
        c.e.observed
            .queues
            .get(&q.name)
            .and_then(|o| o.attributes.get("Policy"))
        && let Ok(doc) = serde_json::from_str::<Value>(qp)
        && policy::statements(&doc).iter().any(|s| {
            s["Effect"] == "Deny"
                && policy::evaluate(&serde_json::json!({"Statement": [s]}), action, &q.arn)
                    == Decision::Deny
        })
    {
        warn_only = false;
        evidence.push(format!(
            "the queue policy of {} denies {action}: {qp}",
            q.name
        ));
    }
    if let Some(d) = c.simulated(&role.arn, action, &q.arn)
        && d != "allowed"
    {
        warn_only = false;
        evidence.push(format!(
            "policy simulator: {name} {action} on {}: {d}",
            q.arn
        ));
    }
    if let Some(r) = c.refusals().into_iter().find(|r| r.code() == "KD015") {
        warn_only = false;
        evidence.push(r.evidence());
    }
    if evidence.is_empty() {
        return f.ok(format!("{name} may {action} on {}", q.arn));
    }
    let fix = logs::fix::QUEUE_READ;
    if warn_only {
        return f.warn(evidence, fix);
    }
    f.fail(
        evidence,
        fix,
        vec![Repair::Converge(format!("iam:role/{name}/policy"))],
    )
}

fn kd016(c: &Ctx) -> Finding {
    let f = F { code: "KD016" };
    if c.role_arn().is_some() {
        return f.ok("the TriggerAuthentication sets roleArn: KEDA reads the queue as that role");
    }
    or_skip!(f, c.read_roles());
    let (Some(op), Some(q)) = (c.operator_role, c.queue) else {
        return f.na("no operator role or queue in the config");
    };
    let Some(seen) = c.e.observed.roles.get(&op.name) else {
        return f.skip(format!("IAM role {} was not read", op.name));
    };
    if policy::evaluate_all(seen.inline.values(), "sqs:GetQueueAttributes", &q.arn)
        == Decision::Allow
    {
        return f.ok(format!("{} may read {}", op.name, q.name));
    }
    f.fail(
        vec![format!(
            "the TriggerAuthentication has no roleArn, and {} may not sqs:GetQueueAttributes on {}",
            op.name, q.arn
        )],
        logs::fix::ROLE_ARN,
        vec![Repair::Converge("app:TriggerAuthentication".into())],
    )
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

fn kd017(c: &Ctx) -> Finding {
    let f = F { code: "KD017" };
    let (cl, so) = match live_scaler(c, &f) {
        Ok(x) => x,
        Err(finding) => return finding,
    };
    let ns = so["metadata"]["namespace"].as_str().unwrap_or("?");
    let trigger = c.trigger();
    let r = trigger
        .map(|t| &t["authenticationRef"])
        .filter(|r| !r.is_null());
    let fix = "kedactl up --only app (re-applies the ScaledObject with authenticationRef to its TriggerAuthentication)";
    let repairs = vec![
        Repair::Converge("app:ScaledObject".into()),
        Repair::Converge("app:TriggerAuthentication".into()),
    ];
    // What KEDA itself says about the ScaledObject, as supporting evidence.
    let status = not_ready(so);
    let Some(r) = r else {
        let mut evidence = vec!["the aws-sqs-queue trigger has no authenticationRef: KEDA takes the legacy path (`awsAccessKeyID not found`)".to_string()];
        evidence.extend(status);
        return f.fail(evidence, fix, repairs);
    };
    let kind = r["kind"].as_str().unwrap_or("TriggerAuthentication");
    let name = r["name"].as_str().unwrap_or("");
    match &cl.trigger_auth {
        Some(_) => f.ok(format!("authenticationRef → {kind} {name}")),
        None => f.fail(
            std::iter::once(format!(
                "authenticationRef names {kind} {name}, which does not exist{}",
                if kind == "TriggerAuthentication" {
                    format!(" in namespace {ns}")
                } else {
                    String::new()
                }
            ))
            .chain(status)
            .collect(),
            fix,
            repairs,
        ),
    }
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

fn kd018(c: &Ctx) -> Finding {
    let f = F { code: "KD018" };
    let cl = or_skip!(f, c.cluster());
    let Some(ta) = &cl.trigger_auth else {
        return f.skip("no TriggerAuthentication to read (see KD017)");
    };
    let pi = &ta["spec"]["podIdentity"];
    let provider = pi["provider"].as_str().unwrap_or("none");
    let owner = pi["identityOwner"].as_str().unwrap_or("keda");
    let fix = "kedactl up --only app (podIdentity: {provider: aws, roleArn: <identity role>})";
    let repairs = vec![Repair::Converge("app:TriggerAuthentication".into())];
    if provider != "aws" {
        let why = if provider == "aws-eks" {
            "deprecated since KEDA 2.13 and IRSA-only: it reads eks.amazonaws.com/role-arn, which Pod Identity does not set"
        } else {
            "KEDA will not use Pod Identity credentials"
        };
        return f.fail(
            vec![format!("podIdentity.provider: {provider}: {why}")],
            fix,
            repairs,
        );
    }
    if owner == "workload" && c.d.addon.is_some() {
        return f.fail(vec!["podIdentity.identityOwner: workload reads the workload's eks.amazonaws.com/role-arn annotation (IRSA only)".into()], fix, repairs);
    }
    f.ok(format!("provider aws, identityOwner {owner}"))
}

fn kd019(c: &Ctx) -> Finding {
    let f = F { code: "KD019" };
    let cl = or_skip!(f, c.cluster());
    let Some(ta) = &cl.trigger_auth else {
        return f.skip("no TriggerAuthentication to read (see KD017)");
    };
    let pi = &ta["spec"]["podIdentity"];
    if pi["roleArn"].is_string() && pi["identityOwner"] == "workload" {
        return f.fail(
            vec![format!(
                "roleArn {} with identityOwner: workload",
                pi["roleArn"]
            )],
            "drop identityOwner (kedactl up --only app)",
            vec![Repair::Converge("app:TriggerAuthentication".into())],
        );
    }
    f.ok("roleArn and identityOwner are consistent")
}

fn kd020(c: &Ctx) -> Finding {
    let f = F { code: "KD020" };
    or_skip!(f, c.cluster());
    match &c.e.observed.keda {
        None => f.fail(
            vec!["no keda-operator Deployment in the cluster".into()],
            "kedactl up --only keda (installs KEDA with helm)",
            vec![Repair::Converge("keda:".into())],
        ),
        Some(k) => match crate::cluster::keda::check(k, &c.d.keda.version, &c.d.stack) {
            Ok(()) if k.needs_repair(&c.d.stack) => f.fail(
                vec![format!(
                    "KEDA in namespace {} (installed by this stack){}{}",
                    k.namespace,
                    if k.missing.is_empty() {
                        String::new()
                    } else {
                        format!("; missing: {}", k.missing.join(", "))
                    },
                    k.release
                        .as_ref()
                        .map(|r| format!("; helm release revision {}: {}", r.revision, r.status))
                        .unwrap_or_default()
                )],
                "kedactl up --only keda (runs helm upgrade --install again)",
                vec![Repair::Converge("keda:".into())],
            ),
            Ok(()) => f.ok(format!("KEDA {} in namespace {}", k.version, k.namespace)),
            Err(e) => f.fail(
                vec![format!(
                    "KEDA {} in namespace {}{}",
                    k.version,
                    k.namespace,
                    if k.missing.is_empty() {
                        String::new()
                    } else {
                        format!("; missing: {}", k.missing.join(", "))
                    }
                )],
                e.lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("fix: ")
                    .to_string(),
                vec![],
            ),
        },
    }
}

fn kd021(c: &Ctx) -> Finding {
    let f = F { code: "KD021" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    match t["metadata"]["awsRegion"].as_str() {
        Some(r) if !r.is_empty() => f.ok(format!("awsRegion {r}")),
        _ => f.fail(
            vec!["the trigger has no awsRegion".into()],
            format!(
                "set awsRegion: {} (kedactl up --only app)",
                c.d.target.region
            ),
            vec![Repair::Converge("app:ScaledObject".into())],
        ),
    }
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

fn kd022(c: &Ctx) -> Finding {
    let f = F { code: "KD022" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    let url = t["metadata"]["queueURL"].as_str().unwrap_or("");
    let Some((region, account, name)) = parse_queue_url(url) else {
        return f.skip("queueURL is malformed (see KD023)");
    };
    let mut evidence = Vec::new();
    if let Some(r) = t["metadata"]["awsRegion"].as_str()
        && r != region
    {
        evidence.push(format!("queueURL is in {region}, awsRegion is {r}"));
    }
    if let Some(a) = &c.d.target.account
        && a != account
    {
        evidence.push(format!(
            "queueURL names account {account}, the stack is in {a}"
        ));
    }
    if c.read_queue(name).is_ok()
        && c.queue.is_some_and(|q| q.name == name)
        && !c.e.observed.queues.contains_key(name)
    {
        evidence.push(format!(
            "GetQueueUrl {name}: AWS.SimpleQueueService.NonExistentQueue"
        ));
    }
    if evidence.is_empty() {
        return f.ok(format!("{url} is in {region}, account {account}"));
    }
    f.fail(evidence, format!("set awsRegion to the URL's region and check the queue exists (kedactl up --only queue,app); expected {}", c.queue.map(|q| q.url.as_str()).unwrap_or("")), vec![Repair::Converge("queue:".into()), Repair::Converge("app:ScaledObject".into())])
}

fn kd023(c: &Ctx) -> Finding {
    let f = F { code: "KD023" };
    let Some(t) = c.trigger() else {
        return f.na("no aws-sqs-queue trigger");
    };
    let url = t["metadata"]["queueURL"].as_str().unwrap_or("");
    if parse_queue_url(url).is_some() {
        return f.ok(format!("queueURL {url}"));
    }
    f.fail(
        vec![format!(
            "queueURL {url:?} is not https://sqs.<region>.amazonaws.com/<account>/<name>"
        )],
        "kedactl up --only app (renders the URL from the queue name)",
        vec![Repair::Converge("app:ScaledObject".into())],
    )
}

fn kd024(c: &Ctx) -> Finding {
    let f = F { code: "KD024" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    let Some(dep) = c.deployment else {
        return f.na("no app Deployment in the config");
    };
    let ns = dep["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = dep["metadata"]["name"].as_str().unwrap_or("?");
    let sa = dep["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .unwrap_or("default");
    let mut evidence = Vec::new();
    let mut repairs = Vec::new();
    // Both halves need their own reads: what was not read is said, never passed.
    let associations = c.read_eks(true);
    if associations.is_ok() && c.association(ns, sa).is_none() {
        evidence.push(format!("no pod identity association for {ns}/{sa}"));
        repairs.push(Repair::Converge(format!("eks:association/{ns}/{sa}")));
    }
    let pods = c.cluster().map(|cl| cl.app_pod.as_ref());
    if let Ok(Some(pod)) = pods {
        let missing = rollout::missing_env(pod, name);
        if !missing.is_empty() {
            evidence.push(format!(
                "pod {} lacks {}",
                pod["metadata"]["name"].as_str().unwrap_or("?"),
                missing.join(", ")
            ));
        }
    }
    if evidence.is_empty() {
        return match (associations, pods) {
            (Ok(()), Ok(Some(pod))) => f.ok(format!(
                "{ns}/{sa} is associated; pod {} has the credentials",
                pod["metadata"]["name"].as_str().unwrap_or("?")
            )),
            (Ok(()), Ok(None)) => f.ok(format!(
                "{ns}/{sa} is associated; no pod runs (its next pod gets the credentials)"
            )),
            (Err(why), _) => f.skip(format!("the association was not checked: {why}")),
            (Ok(()), Err(why)) => f.skip(format!(
                "{ns}/{sa} is associated, but its pods were not checked: {why}"
            )),
        };
    }
    repairs.push(Repair::Restart(format!("{ns}/{name}")));
    f.fail(
        evidence,
        format!(
            "kedactl up --only eks,app, then kubectl rollout restart deployment/{name} -n {ns}"
        ),
        repairs,
    )
}

fn kd025(c: &Ctx) -> Finding {
    let f = F { code: "KD025" };
    let cl = or_skip!(f, c.cluster());
    let Some(api) = &cl.apiservice else {
        return f.fail(
            vec!["APIService v1beta1.external.metrics.k8s.io does not exist".into()],
            "install KEDA (kedactl up --only keda); its metrics server registers it",
            vec![],
        );
    };
    let cond = api["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
        .cloned()
        .unwrap_or_default();
    if cond["status"] == "True" {
        return f.ok("v1beta1.external.metrics.k8s.io is Available");
    }
    f.fail(vec![format!("v1beta1.external.metrics.k8s.io Available={} {}: {}", cond["status"].as_str().unwrap_or("?"), cond["reason"].as_str().unwrap_or(""), cond["message"].as_str().unwrap_or(""))], "allow the control plane to reach the keda-operator-metrics-apiserver on 6443 (node security group from the cluster security group)", vec![])
}

fn kd026(c: &Ctx) -> Finding {
    let f = F { code: "KD026" };
    let Some(q) = c.queue else {
        return f.na("no queue");
    };
    or_skip!(f, c.read_queue(&q.name));
    let Some(seen) = c.e.observed.queues.get(&q.name) else {
        return f.skip("the queue's counts were not read");
    };
    let n = |k: &str| {
        seen.attributes
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (visible, in_flight) = (
        n("ApproximateNumberOfMessages"),
        n("ApproximateNumberOfMessagesNotVisible"),
    );
    let scaler = c
        .cluster()
        .ok()
        .and_then(|cl| cl.scaler.as_ref())
        .or(c.scaler);
    let min = scaler
        .and_then(|s| s["spec"]["minReplicaCount"].as_u64())
        .unwrap_or(0);
    let on_in_flight = c
        .trigger()
        .and_then(|t| t["metadata"]["scaleOnInFlight"].as_str())
        .unwrap_or("true")
        == "true";
    if min == 0 && visible == 0 && in_flight > 0 && on_in_flight {
        return f.warn(vec![format!("{in_flight} messages in flight (scaleOnInFlight true) keep the app at ≥ 1 replica; 0 visible")], "expected: it scales to zero cooldownPeriod after the in-flight messages are deleted; set scaleOnInFlight: \"false\" to ignore them");
    }
    f.ok(format!(
        "minReplicaCount {min}; {visible} visible, {in_flight} in flight"
    ))
}

fn kd027(c: &Ctx) -> Finding {
    let f = F { code: "KD027" };
    let cl = or_skip!(f, c.cluster());
    or_skip!(f, c.read_eks(true));
    let (ns, sa) = c.operator_sa();
    let (Some(pod), Some(a)) = (&cl.operator_pod, c.association(&ns, &sa)) else {
        return f.skip("no operator pod or association to compare");
    };
    let Some(changed) = &a.modified_at else {
        return f.skip("the association's modification time is unknown");
    };
    let started = pod["metadata"]["creationTimestamp"].as_str().unwrap_or("");
    if !started.is_empty() && started < changed.as_str() {
        let deployment = c.operator_deployment_name();
        return f.fail(
            vec![format!(
                "pod {} started {started}, association {} changed {changed}",
                pod["metadata"]["name"].as_str().unwrap_or("?"),
                a.id
            )],
            logs::fix::restart(&ns, &deployment),
            vec![Repair::Restart(format!("{ns}/{deployment}"))],
        );
    }
    f.ok(format!(
        "pod started {started}, after the association's last change ({changed})"
    ))
}

fn kd028(c: &Ctx) -> Finding {
    let f = F { code: "KD028" };
    or_skip!(f, c.cluster());
    match logs::find(c.operator_log(), &["PackedPolicyTooLarge"]) {
        Some(line) => f.fail(vec![format!("KEDA log: {line}")], format!("aws eks update-pod-identity-association --cluster-name {} --association-id <keda-operator association> --disable-session-tags", c.d.cluster), vec![]),
        None => f.ok("no PackedPolicyTooLarge in KEDA's recent log"),
    }
}

fn kd029(c: &Ctx) -> Finding {
    let f = F { code: "KD029" };
    if let Some(why) = &c.e.simulator_skipped {
        return f.skip(why.clone());
    }
    let Some(caller) = &c.e.observed.caller else {
        return f.skip("the caller was not identified");
    };
    let denied: Vec<String> =
        c.d.roles
            .iter()
            .filter_map(|r| {
                let d = c.simulated(&caller.arn, "iam:PassRole", &r.arn)?;
                (d != "allowed").then(|| {
                    format!(
                        "policy simulator: {} iam:PassRole on {}: {d}",
                        caller.arn, r.arn
                    )
                })
            })
            .collect();
    if denied.is_empty() {
        return f.ok(format!("{} may pass the stack's roles", caller.arn));
    }
    f.fail(denied, "grant iam:PassRole on the roles with Condition StringEquals iam:PassedToService = pods.eks.amazonaws.com", vec![])
}

fn kd030(c: &Ctx) -> Finding {
    let f = F { code: "KD030" };
    if c.d.addon.is_none() {
        return f.na("IRSA mode");
    }
    or_skip!(f, c.read_eks(true));
    let wrong: Vec<String> =
        c.d.associations
            .iter()
            .filter_map(|want| {
                let have = c.association(&want.namespace, &want.service_account)?;
                (have.role_arn != want.role_arn).then(|| {
                    format!(
                        "{}/{} → {} (config: {})",
                        want.namespace, want.service_account, have.role_arn, want.role_arn
                    )
                })
            })
            .collect();
    if wrong.is_empty() {
        return f.ok("every association points at the configured role");
    }
    f.warn(
        wrong,
        "kedactl up --only eks (UpdatePodIdentityAssociation, then restarts the pods)",
    )
}

fn kd031(_: &Ctx) -> Finding {
    F { code: "KD031" }.na(
        "nothing to check in a running stack: `kedactl up` waits out SQS's 60 s re-create delay",
    )
}

fn kd032(c: &Ctx) -> Finding {
    let f = F { code: "KD032" };
    let cl = or_skip!(f, c.cluster());
    let Some(pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let proxy = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .find_map(|k| env_value(pod, k).map(|v| format!("{k}={v}")));
    let Some(proxy) = proxy else {
        return f.ok("no proxy variables in the operator pod");
    };
    let no_proxy = ["NO_PROXY", "no_proxy"]
        .iter()
        .find_map(|k| env_value(pod, k))
        .unwrap_or("");
    if no_proxy.contains("169.254.170.23") {
        return f.ok(format!("{proxy}, NO_PROXY includes 169.254.170.23"));
    }
    f.fail(
        vec![format!("{proxy}; NO_PROXY={no_proxy:?}")],
        "add 169.254.170.23,fd00:ec2::23 to NO_PROXY in the operator's env (helm env values)",
        vec![],
    )
}

fn kd033(c: &Ctx) -> Finding {
    let f = F { code: "KD033" };
    let mut m = super::guard::mismatches(c.d, c.e);
    if m.is_empty() {
        let seen = c
            .cluster()
            .is_ok_and(|cl| cl.scaler.is_some() || cl.trigger_auth.is_some());
        let unanswered = &c.e.queue_elsewhere.unanswered;
        return match (seen, c.read_queue(c.queue.map_or("", |q| q.name.as_str()))) {
            (false, Err(why)) => f.skip(format!("neither the KEDA objects nor the queue were read: {why}")),
            _ if !unanswered.is_empty() => f.warn(
                vec![format!("the queue is missing here, and {} did not answer: it may live there", unanswered.join(", "))],
                "check the region (--region) before `kedactl doctor --fix` creates the queue here",
            ),
            _ => f.ok("the live ScaledObject, TriggerAuthentication and queue match the config (where they exist)"),
        };
    }
    m.push("doctor --fix repairs nothing while the config and what is live disagree".into());
    f.fail(
        m,
        "correct the config (or --region, --queue, the role flags) to describe the live stack, then run doctor again",
        vec![],
    )
}
