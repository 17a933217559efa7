//! The stack's IAM roles as they should be: the operator role and each identity role, with
//! their trust and permission policies, and the OIDC provider IRSA's trusts name. Pure.

use super::{
    CHAIN_SID, Document, Inputs, OPERATOR_POLICY, OidcProvider, RenderError, Role, RolePurpose,
    Unique, inline_size, templates, trust_sid,
};
use crate::spec::{App, Spec};
use crate::triggers;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An identity role, the service accounts of the apps that use it, and those apps.
type IdentityUse<'a> = (&'a str, Vec<ServiceAccountRef<'a>>, Vec<&'a App>);

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ServiceAccountRef<'a> {
    namespace: &'a str,
    name: &'a str,
}

/// One pods.eks.amazonaws.com / web-identity trust statement to render.
#[derive(Serialize)]
struct TrustStatement<'a> {
    sid: String,
    namespace: &'a str,
    name: &'a str,
}

/// The operator role, then the identity roles in the order apps first name them; with, for
/// each identity role over IAM's aggregate limit on inline policies, how many of its apps one
/// role can hold.
pub(super) fn roles(at: &Inputs) -> Result<(Vec<Role>, BTreeMap<String, usize>), RenderError> {
    let spec = at.spec;
    let identity = identity_uses(spec);
    let identity_arns: Vec<String> = identity.iter().map(|(r, ..)| at.role_arn(r)).collect();
    let operator_arn = at.role_arn(&spec.roles.operator);
    let mut roles = vec![operator_role(at, &operator_arn, &identity_arns)?];
    let mut fits = BTreeMap::new();
    for ((name, sas, apps), arn) in identity.iter().zip(&identity_arns) {
        let policies = permissions(at, apps)?;
        if inline_size(&policies) > crate::limits::ROLE_INLINE_POLICIES_QUOTA {
            fits.insert(name.to_string(), apps_per_role(at, apps)?);
        }
        let mut managed_policies: Unique<String, String> = Unique::default();
        for p in apps.iter().flat_map(|a| &a.managed_policies) {
            managed_policies.add(p.clone());
        }
        roles.push(Role {
            name: name.to_string(),
            arn: arn.clone(),
            purpose: RolePurpose::Identity,
            trust: trust(at, sas, &[operator_arn.as_str()])?,
            policies,
            path: spec.roles.path().to_string(),
            boundary: spec.roles.permissions_boundary.clone(),
            managed_policies: managed_policies.into_vec(),
        });
    }
    Ok((roles, fits))
}

/// Identity roles in the order apps first name them, with the service accounts and apps
/// that use each.
fn identity_uses(spec: &Spec) -> Vec<IdentityUse<'_>> {
    let mut identity: Vec<IdentityUse> = Vec::new();
    let mut role_index: HashMap<&str, usize> = HashMap::new();
    let mut role_sas: HashSet<(usize, &str, &str)> = HashSet::new();
    for app in &spec.apps {
        let role = app.identity_role(&spec.roles);
        let i = *role_index.entry(role).or_insert_with(|| {
            identity.push((role, vec![], vec![]));
            identity.len() - 1
        });
        if app.trigger.imp().consumes()
            && role_sas.insert((i, &app.namespace, &app.service_account))
        {
            identity[i].1.push(ServiceAccountRef {
                namespace: &app.namespace,
                name: &app.service_account,
            });
        }
        identity[i].2.push(app);
    }
    identity
}

/// The role KEDA's operator runs as: trusted by its service account, allowed (unless
/// `roles.operatorAssumePolicy` is off) to assume each identity role.
fn operator_role(
    at: &Inputs,
    operator_arn: &str,
    identity_arns: &[String],
) -> Result<Role, RenderError> {
    let spec = at.spec;
    let operator_sa = vec![ServiceAccountRef {
        namespace: &spec.keda.namespace,
        name: &spec.keda.service_account,
    }];
    let mut operator = Role {
        name: spec.roles.operator.clone(),
        arn: operator_arn.to_string(),
        purpose: RolePurpose::Operator,
        trust: trust(at, &operator_sa, &[])?,
        policies: vec![],
        path: spec.roles.path().to_string(),
        boundary: spec.roles.permissions_boundary.clone(),
        managed_policies: vec![],
    };
    if spec.roles.operator_assume_policy {
        operator.policies.push(templates::policy(
            "operator-assume.json",
            OPERATOR_POLICY,
            &json!({ "identity_role_arns": identity_arns }),
        )?);
    }
    Ok(operator)
}

/// A role's trust policy: admitting `sas` (Pod Identity or IRSA), and the roles in
/// `assumed_by` (the operator role's chain).
fn trust(
    at: &Inputs,
    sas: &[ServiceAccountRef],
    assumed_by: &[&str],
) -> Result<Document, RenderError> {
    let (spec, target) = (at.spec, at.target);
    let pod_identity = at.pod_identity();
    let sid = |ns: &str, sa: &str| trust_sid(at.cluster, at.cluster_arn, ns, sa);
    // Unscoped Pod Identity trust: one statement, for any service account of any cluster.
    let sas: Vec<TrustStatement> = if sas.is_empty() {
        // Only KEDA uses the role (its apps do not call AWS themselves).
        vec![]
    } else if pod_identity && !spec.scoped_trust {
        vec![TrustStatement {
            sid: sid("", "AnyServiceAccount"),
            namespace: "",
            name: "",
        }]
    } else {
        sas.iter()
            .map(|sa| TrustStatement {
                sid: sid(sa.namespace, sa.name),
                namespace: sa.namespace,
                name: sa.name,
            })
            .collect()
    };
    let (source, ctx) = match &spec.oidc_issuer {
        Some(issuer) if !pod_identity => {
            let host = issuer.trim_start_matches("https://");
            let ctx = json!({
                "service_accounts": sas,
                "assumed_by": assumed_by,
                "chain_sid": CHAIN_SID,
                "oidc_host": host,
                "oidc_provider_arn": target.oidc_provider_arn(host),
            });
            ("irsa-trust.json", ctx)
        }
        None if !pod_identity => return Err(RenderError::Missing("oidcIssuer")),
        _ => {
            let ctx = json!({
                "service_accounts": sas,
                "assumed_by": assumed_by,
                "chain_sid": CHAIN_SID,
                "scoped": spec.scoped_trust,
                "cluster_arn": at.cluster_arn,
            });
            ("pod-identity-trust.json", ctx)
        }
    };
    templates::policy(source, "trust", &ctx)
}

/// One permission policy per trigger kind the role's apps use.
fn permissions(at: &Inputs, apps: &[&App]) -> Result<Vec<Document>, RenderError> {
    let mut policies = Vec::new();
    for kind in triggers::Kind::ALL {
        let of_kind: Vec<&App> = apps.iter().copied().filter(|a| a.trigger == kind).collect();
        if !of_kind.is_empty()
            && let Some(p) = kind
                .imp()
                .policy(at.spec, &of_kind, at.target, at.observed)?
        {
            policies.push(p);
        }
    }
    Ok(policies)
}

/// For a role over IAM's aggregate limit: how many of its first apps one role can hold (a
/// binary search over the policies of the first n).
fn apps_per_role(at: &Inputs, apps: &[&App]) -> Result<usize, RenderError> {
    let (mut lo, mut hi) = (1, apps.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        match inline_size(&permissions(at, &apps[..mid])?) {
            n if n <= crate::limits::ROLE_INLINE_POLICIES_QUOTA => lo = mid,
            _ => hi = mid - 1,
        }
    }
    Ok(lo)
}

/// The IAM OIDC provider of the cluster's issuer (IRSA mode only).
pub(super) fn oidc_provider(at: &Inputs) -> Option<OidcProvider> {
    match (&at.spec.oidc_issuer, at.pod_identity()) {
        (Some(issuer), false) => {
            let host = issuer.trim_start_matches("https://").to_string();
            Some(OidcProvider {
                url: issuer.clone(),
                arn: at.target.oidc_provider_arn(&host),
                host,
            })
        }
        _ => None,
    }
}
