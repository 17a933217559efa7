//! Checks of IRSA mode: the cluster's issuer has its IAM OIDC provider, each role's trust admits
//! its service accounts through that provider, the service accounts name their role, and the
//! pods got the web identity the webhook injects.

use super::*;
use crate::render::{IRSA_ANNOTATION, OidcProvider, STS_AUDIENCE};
use serde_json::json;

/// What the EKS Pod Identity webhook injects into a pod whose service account names a role.
pub(crate) const ROLE_ARN: &str = "AWS_ROLE_ARN";
pub(crate) const WEB_IDENTITY_TOKEN: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";

fn irsa<'a>(c: &Ctx<'a>, f: &F) -> Result<&'a OidcProvider, Box<Finding>> {
    c.d.oidc_provider
        .as_ref()
        .ok_or_else(|| Box::new(f.na("Pod Identity mode: no OIDC provider or web identity")))
}

pub(crate) fn kd051(c: &Ctx) -> Finding {
    let f = F { code: "KD051" };
    let want = match irsa(c, &f) {
        Ok(p) => p,
        Err(na) => return *na,
    };
    or_skip!(f, c.read(|r| r.starts_with("IAM OIDC provider")));
    let Some(live) = &c.e.observed.oidc_provider else {
        return f.fail(
            vec![format!(
                "no IAM OIDC provider for {} (ListOpenIDConnectProviders): STS refuses every web identity token of the cluster (\"No OpenIDConnect provider found in your account\")",
                want.url
            )],
            format!(
                "kedactl up --only iam (creates it), or aws iam create-open-id-connect-provider --url {} --client-id-list {STS_AUDIENCE}",
                want.url
            ),
            vec![Repair::Converge(crate::plan::oidc_step_id(&want.host))],
        );
    };
    if !live.client_ids.iter().any(|id| id == STS_AUDIENCE) {
        return f.fail(
            vec![format!(
                "IAM OIDC provider {} lists the audiences [{}], not {STS_AUDIENCE}, the audience of the cluster's IRSA tokens",
                live.arn,
                live.client_ids.join(", ")
            )],
            format!(
                "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {} --client-id {STS_AUDIENCE}",
                live.arn
            ),
            vec![],
        );
    }
    f.ok(format!(
        "IAM OIDC provider {} (audience {STS_AUDIENCE})",
        live.arn
    ))
}

/// The `system:serviceaccount:<ns>:<sa>` subjects a rendered trust admits through `host`.
fn subjects(trust: &Value, host: &str) -> Vec<String> {
    let key = format!("{host}:sub");
    policy::statements(trust)
        .into_iter()
        .filter_map(|s| s["Condition"]["StringEquals"][&key].as_str())
        .map(str::to_string)
        .collect()
}

/// The trust as the evaluator reads principals: a statement federated to `arn` names it as a
/// service (the evaluator matches services by name); everything else is left as it is.
fn as_service(trust: &Value, arn: &str) -> Value {
    let mut doc = trust.clone();
    let one = |s: &mut Value| {
        if crate::observe::names_provider(&json!({"Statement": [s.clone()]}), arn) {
            s["Principal"] = json!({ "Service": [arn] });
        }
    };
    match &mut doc["Statement"] {
        Value::Array(a) => a.iter_mut().for_each(one),
        s @ Value::Object(_) => one(s),
        _ => {}
    }
    doc
}

/// The federated principals a trust names (to show a stale issuer's provider).
fn federated(trust: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in policy::statements(trust) {
        match &s["Principal"]["Federated"] {
            Value::String(v) => out.push(v.clone()),
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            _ => {}
        }
    }
    out.dedup();
    out
}

pub(crate) fn kd052(c: &Ctx) -> Finding {
    let f = F { code: "KD052" };
    let want = match irsa(c, &f) {
        Ok(p) => p,
        Err(na) => return *na,
    };
    or_skip!(f, c.read_roles());
    let (mut evidence, mut unknown, mut repairs, mut admitted) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for role in &c.d.roles {
        let subs = subjects(&role.trust.body, &want.host);
        if subs.is_empty() {
            continue;
        }
        let Some(live) = c.e.observed.roles.get(&role.name) else {
            evidence.push(format!("IAM role {} does not exist", role.name));
            repairs.push(Repair::Converge(format!("iam:role/{}", role.name)));
            continue;
        };
        let doc = as_service(&live.trust, &want.arn);
        for sub in subs {
            // What STS presents for a token the cluster projected for this service account.
            let request = Context::default()
                .set(&format!("{}:sub", want.host), &[&sub])
                .set(&format!("{}:aud", want.host), &[STS_AUDIENCE])
                .absent("aws:RequestTag/")
                .absent("aws:PrincipalTag/");
            let t = policy::trusts(&doc, Principal::Service(&want.arn), WEB_IDENTITY, &request);
            let line = || {
                let mut line = format!(
                    "trust of {} does not admit {sub} through {}: {}",
                    role.name,
                    want.arn,
                    t.verdict.describe()
                );
                let names = federated(&live.trust);
                if !names.iter().any(|n| n == &want.arn) {
                    line.push_str(&format!(
                        " (it names {})",
                        if names.is_empty() {
                            "no OIDC provider".to_string()
                        } else {
                            names.join(", ")
                        }
                    ));
                }
                line
            };
            match t.decision {
                Decision::Allow => admitted.push(format!("{} admits {sub}", role.name)),
                Decision::Unknown => unknown.push(line()),
                _ => {
                    evidence.push(line());
                    repairs.push(Repair::Converge(format!("iam:role/{}", role.name)));
                }
            }
        }
    }
    let fix = format!(
        "kedactl up --only iam (writes the statements with {host}:sub and {host}:aud = {STS_AUDIENCE})",
        host = want.host
    );
    if !evidence.is_empty() {
        evidence.extend(unknown);
        repairs.dedup();
        return f.fail(evidence, fix, repairs);
    }
    if !unknown.is_empty() {
        return f.warn(unknown, fix);
    }
    f.ok(format!(
        "through {} with aud {STS_AUDIENCE}: {}",
        want.arn,
        admitted.join("; ")
    ))
}

/// Each service account that should carry the role annotation: (namespace, name, role ARN, is
/// the operator's).
fn annotated(c: &Ctx) -> Vec<(String, String, String, bool)> {
    let mut out = Vec::new();
    if let Some(op) = c.operator_role {
        let (ns, sa) = c.operator_sa();
        out.push((ns, sa, op.arn.clone(), true));
    }
    for m in
        c.d.manifests
            .iter()
            .filter(|m| m["kind"] == "ServiceAccount")
    {
        if let Some(arn) = m["metadata"]["annotations"][IRSA_ANNOTATION].as_str() {
            let (_, ns, name) = crate::render::object_ref(m);
            out.push((ns.unwrap_or_default(), name, arn.to_string(), false));
        }
    }
    out
}

pub(crate) fn kd053(c: &Ctx) -> Finding {
    let f = F { code: "KD053" };
    if let Err(na) = irsa(c, &f) {
        return *na;
    }
    let cl = or_skip!(f, c.cluster());
    let (mut evidence, mut fixes, mut repairs, mut good) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (ns, sa, arn, operator) in annotated(c) {
        let live = match operator {
            true => cl.operator_sa.as_ref(),
            false => c.e.observed.object("ServiceAccount", Some(&ns), &sa),
        };
        let Some(live) = live else {
            evidence.push(format!("ServiceAccount {ns}/{sa} does not exist"));
            fixes.push(match operator {
                true => "kedactl up --only keda".to_string(),
                false => "kedactl up --only app".to_string(),
            });
            continue;
        };
        let have = live["metadata"]["annotations"][IRSA_ANNOTATION].as_str();
        if have == Some(arn.as_str()) {
            good.push(format!(
                "{ns}/{sa} → {}",
                arn.rsplit('/').next().unwrap_or(&arn)
            ));
            continue;
        }
        evidence.push(format!(
            "ServiceAccount {ns}/{sa} has {IRSA_ANNOTATION}: {}, not {arn}",
            have.unwrap_or("(none)")
        ));
        if operator {
            fixes.push(format!(
                "helm upgrade keda keda --repo https://kedacore.github.io/charts -n {ns} --reuse-values --set podIdentity.aws.irsa.enabled=true --set podIdentity.aws.irsa.roleArn={arn} (kedactl up --only keda when kedactl installed KEDA), then restart the operator"
            ));
        } else {
            fixes.push(format!(
                "kedactl up --only app (or kubectl annotate serviceaccount {sa} -n {ns} --overwrite {IRSA_ANNOTATION}={arn}), then restart its pods"
            ));
            repairs.push(Repair::Converge(format!("app:ServiceAccount/{ns}/{sa}")));
        }
    }
    if evidence.is_empty() {
        return f.ok(good.join("; "));
    }
    f.fail(evidence, fixes.join("; "), repairs)
}

pub(crate) fn kd054(c: &Ctx) -> Finding {
    let f = F { code: "KD054" };
    if let Err(na) = irsa(c, &f) {
        return *na;
    }
    let cl = or_skip!(f, c.cluster());
    let Some(op_pod) = &cl.operator_pod else {
        return f.skip("no running keda-operator pod");
    };
    let (op_ns, _) = c.operator_sa();
    let mut pods = vec![(
        op_pod,
        op_ns,
        c.operator_deployment_name(),
        c.operator_role.map(|r| r.arn.clone()),
    )];
    // Each app's pods, when its service account names a role (a ScaledJob's pods come and go
    // with their jobs: none to read).
    for (pod, dep) in c.d.triggers.iter().filter_map(|t| {
        let pod = cl.apps.get(&t.app)?.app_pod.as_ref()?;
        Some((pod, t.manifest(c.d, "Deployment", t.deployment())?))
    }) {
        let (_, ns, name) = crate::render::object_ref(dep);
        let sa = dep["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default");
        let ns = ns.unwrap_or_default();
        let role =
            c.d.manifests
                .iter()
                .find(|m| {
                    m["kind"] == "ServiceAccount"
                        && m["metadata"]["name"] == sa
                        && m["metadata"]["namespace"] == ns.as_str()
                })
                .and_then(|m| m["metadata"]["annotations"][IRSA_ANNOTATION].as_str())
                .map(str::to_string);
        if role.is_some() {
            pods.push((pod, ns, name, role));
        }
    }
    let (mut evidence, mut repairs, mut good) = (Vec::new(), Vec::new(), Vec::new());
    for (pod, ns, deployment, role) in pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        let names = env_names(pod);
        let missing: Vec<&str> = [ROLE_ARN, WEB_IDENTITY_TOKEN]
            .into_iter()
            .filter(|n| !names.iter().any(|x| x == n))
            .collect();
        let has = env_value(pod, ROLE_ARN);
        if missing.is_empty() && (role.is_none() || has == role.as_deref()) {
            good.push(format!("pod {name} has {ROLE_ARN}={}", has.unwrap_or("?")));
            continue;
        }
        evidence.push(match missing.is_empty() {
            true => format!(
                "pod {name} has {ROLE_ARN}={}, not {}: it started before its service account changed",
                has.unwrap_or("?"),
                role.as_deref().unwrap_or("?")
            ),
            false => format!(
                "pod {name} lacks {}: it started before its service account named the role (or the webhook missed it)",
                missing.join(", ")
            ),
        });
        repairs.push(Repair::Restart(format!("{ns}/{deployment}")));
    }
    if evidence.is_empty() {
        return f.ok(good.join("; "));
    }
    let restarts: Vec<String> = repairs
        .iter()
        .filter_map(|r| match r {
            Repair::Restart(t) => t
                .split_once('/')
                .map(|(ns, d)| format!("kubectl rollout restart deployment/{d} -n {ns}")),
            _ => None,
        })
        .collect();
    f.fail(
        evidence,
        format!(
            "{} once its service account names the role (KD053); kedactl doctor --fix restarts and re-checks",
            restarts.join("; ")
        ),
        repairs,
    )
}
