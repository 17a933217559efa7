//! The configured permissions boundary (`roles.permissionsBoundary`): on every role, and
//! allowing what each role is there to do. Other IAM checks evaluate a role's live boundary
//! with its policies; this one judges the configured boundary itself, also before `up` has put
//! it on (an organisation's boundary that lacks sqs:GetQueueAttributes breaks KEDA silently).

use super::*;

pub(crate) fn kd055(c: &Ctx) -> Finding {
    let f = F { code: "KD055" };
    let Some(arn) = c.d.roles.iter().find_map(|r| r.boundary.as_deref()) else {
        return f.na("roles.permissionsBoundary is not set");
    };
    or_skip!(f, c.read_roles());
    or_skip!(
        f,
        c.read(|r| r.starts_with(&format!("managed policy {arn} ")))
    );
    let short = arn.rsplit('/').next().unwrap_or(arn);
    let fix = "kedactl up --only iam (puts the configured boundary on the roles)";
    let doc = match c.e.observed.policies.get(arn) {
        None => {
            return f.skip(format!(
                "the boundary {arn} was not read (--only without iam)"
            ));
        }
        Some(None) => {
            return f.fail(
                vec![format!(
                    "managed policy {arn} (roles.permissionsBoundary) does not exist: IAM refuses \
                     CreateRole and PutRolePermissionsBoundary with it"
                )],
                "create the policy (aws iam create-policy) or correct roles.permissionsBoundary",
                vec![],
            );
        }
        Some(Some(doc)) => doc,
    };
    let (mut evidence, mut unknown, mut repairs) = (Vec::new(), Vec::new(), Vec::new());
    let ctx = Context::default();
    let mut checked = 0;
    for role in &c.d.roles {
        if let Some(live) = c.e.observed.roles.get(&role.name)
            && live.boundary.as_deref() != Some(arn)
        {
            evidence.push(format!(
                "IAM role {} has permissions boundary {}, the config says {short}",
                role.name,
                live.boundary.as_deref().unwrap_or("(none)")
            ));
            repairs.push(Repair::Converge(format!("iam:role/{}", role.name)));
        }
        for (action, resource) in needs(c.d, role) {
            checked += 1;
            let access = policy::authorize(&policy::Request {
                principal: Principal::Aws(&role.arn),
                action: &action,
                resource: &resource,
                ctx: &ctx,
                identity: &[],
                boundary: policy::Boundary::Read(short, doc),
                resource_policy: None,
            });
            let Some(v) = access.boundary else { continue };
            let line = format!(
                "boundary {short} does not let IAM role {} {action} on {resource}: {}",
                role.name,
                v.describe()
            );
            match v.decision {
                Decision::Allow => {}
                Decision::Unknown => unknown.push(line),
                _ => evidence.push(line),
            }
        }
    }
    let names: Vec<&str> = c.d.roles.iter().map(|r| r.name.as_str()).collect();
    match (evidence.is_empty(), unknown.is_empty()) {
        (true, true) => f.ok(format!(
            "IAM roles {} carry permissions boundary {short}, which allows the {checked} calls \
             KEDA and the chain make",
            names.join(", ")
        )),
        (true, false) => f.warn(unknown, "check the boundary's conditions by hand"),
        _ => {
            let fix = match repairs.is_empty() {
                true => format!(
                    "have the boundary {short} allow these actions on these resources (or set \
                     roles.permissionsBoundary to one that does)"
                ),
                false => fix.to_string(),
            };
            evidence.extend(unknown);
            f.fail(evidence, fix, repairs)
        }
    }
}

/// What a role must be allowed within its boundary: the operator assumes and tags sessions of
/// the identity roles; an identity role makes the calls its apps' scalers make.
fn needs(d: &Desired, role: &crate::render::Role) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |a: &str, r: &str| {
        let item = (a.to_string(), r.to_string());
        if !out.contains(&item) {
            out.push(item);
        }
    };
    match role.purpose {
        RolePurpose::Operator => {
            for id in d
                .roles
                .iter()
                .filter(|r| r.purpose == RolePurpose::Identity)
            {
                add("sts:AssumeRole", &id.arn);
                add("sts:TagSession", &id.arn);
            }
        }
        RolePurpose::Identity => {
            for t in d.triggers.iter().filter(|t| t.role == role.name) {
                for (a, r) in &t.needs {
                    add(a, r);
                }
            }
        }
    }
    out
}
