//! IRSA's OIDC issuer. Online it is the cluster's (DescribeCluster `identity.oidc.issuer`): a
//! configured `oidcIssuer` must be that one, or every trust would name another cluster's
//! provider and `AssumeRoleWithWebIdentity` would fail at run time. Offline it stays required.

use super::{AuthMode, Problem, Problems, Spec, names, validate::missing_issuer};

/// What the cluster said about its issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen<'a> {
    /// DescribeCluster's `identity.oidc.issuer`.
    Issuer(&'a str),
    /// The cluster does not exist, or reports no issuer.
    Absent,
    /// DescribeCluster was refused or failed: the words say why.
    Unread(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    /// The configured issuer is not the cluster's (exit 4, both named).
    #[error(
        "oidcIssuer is {configured}, but cluster {cluster} has the OIDC issuer {actual}: trusts \
         written for the configured one would name another cluster's provider, and \
         AssumeRoleWithWebIdentity would fail at run time\n  fix: remove oidcIssuer (kedactl reads \
         the cluster's), or set oidcIssuer: {actual}"
    )]
    Conflict {
        cluster: String,
        configured: String,
        actual: String,
    },
    /// No issuer configured and none to be read: a config problem (exit 3).
    #[error("{0}")]
    Missing(Problems),
}

/// Fill `spec.oidc_issuer` from what the cluster said (IRSA only; pod identity is left alone).
pub fn reconcile(spec: &mut Spec, seen: Seen, source: &str) -> Result<(), IssuerError> {
    if spec.auth_mode != AuthMode::Irsa {
        return Ok(());
    }
    let cluster = spec.cluster.clone().unwrap_or_default();
    let missing = |p: Problem| {
        IssuerError::Missing(Problems {
            origin: source.to_string(),
            problems: vec![p],
        })
    };
    match (seen, &spec.oidc_issuer) {
        (Seen::Issuer(actual), configured) => {
            // A trailing slash names the same issuer; IAM stores the URL without it.
            let actual = actual.trim_end_matches('/');
            if let Some(c) = configured
                && c.trim_end_matches('/') != actual
            {
                return Err(IssuerError::Conflict {
                    cluster,
                    configured: c.clone(),
                    actual: actual.to_string(),
                });
            }
            if let Err(rule) = names::oidc_issuer(actual) {
                return Err(missing(Problem::new(
                    "oidcIssuer",
                    format!(
                        "cluster {cluster} reports the OIDC issuer {actual:?}, which IAM cannot take as a provider URL"
                    ),
                    format!("IAM needs {rule}; use authMode: pod-identity for this cluster"),
                )));
            }
            spec.oidc_issuer = Some(actual.to_string());
            Ok(())
        }
        (_, Some(_)) => Ok(()),
        (Seen::Absent, None) => Err(missing(missing_issuer())),
        (Seen::Unread(why), None) => {
            let mut p = missing_issuer();
            p.message = format!("{}, and kedactl could not read it: {why}", p.message);
            p.fix = format!("grant eks:DescribeCluster, or {}", p.fix);
            Err(missing(p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str =
        "https://oidc.eks.us-east-1.amazonaws.com/id/5C5E0D4B1D3A2F6E7A8B9C0D1E2F3A4B";
    const OTHER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789";

    fn irsa(issuer: Option<&str>) -> Spec {
        Spec {
            cluster: Some("demo".into()),
            auth_mode: AuthMode::Irsa,
            oidc_issuer: issuer.map(str::to_string),
            ..Spec::default()
        }
    }

    #[test]
    fn the_clusters_issuer_fills_a_missing_one() {
        let mut s = irsa(None);
        reconcile(&mut s, Seen::Issuer(REAL), "f").unwrap();
        assert_eq!(s.oidc_issuer.as_deref(), Some(REAL));
        // The same issuer configured (with or without the slash) is fine.
        let mut s = irsa(Some(&format!("{REAL}/")));
        reconcile(&mut s, Seen::Issuer(REAL), "f").unwrap();
        assert_eq!(s.oidc_issuer.as_deref(), Some(REAL));
    }

    #[test]
    fn another_issuer_is_a_conflict_naming_both() {
        let mut s = irsa(Some(OTHER));
        let e = reconcile(&mut s, Seen::Issuer(REAL), "f").unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, IssuerError::Conflict { .. })
                && text.contains(OTHER)
                && text.contains(REAL),
            "{text}"
        );
        assert_eq!(s.oidc_issuer.as_deref(), Some(OTHER), "left as configured");
    }

    #[test]
    fn without_the_cluster_the_configured_one_stays_required() {
        let mut s = irsa(Some(OTHER));
        reconcile(&mut s, Seen::Absent, "f").unwrap();
        reconcile(&mut s, Seen::Unread("AccessDenied"), "f").unwrap();
        assert_eq!(s.oidc_issuer.as_deref(), Some(OTHER));
        let mut s = irsa(None);
        match reconcile(&mut s, Seen::Absent, "f") {
            Err(IssuerError::Missing(p)) => assert_eq!(p.problems, vec![missing_issuer()]),
            other => panic!("{other:?}"),
        }
        match reconcile(
            &mut s,
            Seen::Unread("AccessDenied: eks:DescribeCluster"),
            "f",
        ) {
            Err(IssuerError::Missing(p)) => {
                let p = &p.problems[0];
                assert!(
                    p.message.contains("AccessDenied") && p.fix.contains("eks:DescribeCluster")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_issuer_iam_cannot_take_is_said_and_pod_identity_is_left_alone() {
        let mut s = irsa(None);
        let long = format!("https://oidc.example.com/{}", "a".repeat(240));
        assert!(matches!(
            reconcile(&mut s, Seen::Issuer(&long), "f"),
            Err(IssuerError::Missing(_))
        ));
        let mut s = Spec::default();
        reconcile(&mut s, Seen::Issuer(REAL), "f").unwrap();
        assert_eq!(s.oidc_issuer, None);
    }
}
