//! The bearer token EKS accepts in place of a kubeconfig: a presigned STS GetCallerIdentity URL
//! bound to the cluster name (the `x-k8s-aws-id` signed header), as `aws eks get-token` and
//! aws-iam-authenticator make it. Pure: credentials and time are inputs.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

pub const PREFIX: &str = "k8s-aws-v1.";
/// The header that binds the token to one cluster.
pub const CLUSTER_HEADER: &str = "x-k8s-aws-id";
/// The presigned URL's own expiry; EKS accepts a token for 15 minutes after its signing time.
pub const EXPIRES: Duration = Duration::from_secs(60);
/// kedactl signs a new token well before EKS stops accepting the old one.
pub const REFRESH_AFTER: Duration = Duration::from_secs(5 * 60);

/// `k8s-aws-v1.<base64url(presigned URL)>`, for `Authorization: Bearer`.
pub fn token(
    credentials: &Credentials,
    region: &str,
    sts_host: &str,
    cluster: &str,
    now: SystemTime,
) -> anyhow::Result<String> {
    let url = presigned_url(credentials, region, sts_host, cluster, now)?;
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    ))
}

fn presigned_url(
    credentials: &Credentials,
    region: &str,
    sts_host: &str,
    cluster: &str,
    now: SystemTime,
) -> anyhow::Result<String> {
    let url = format!("https://{sts_host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        [(CLUSTER_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    let mut request = http::Request::builder().uri(&url).body(())?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn fixed() -> (Credentials, SystemTime) {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        // 2026-11-24T08:00:00Z
        (
            creds,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_507_200),
        )
    }

    fn decode(token: &str) -> (String, BTreeMap<String, String>) {
        let b64 = token.strip_prefix(PREFIX).expect("prefix");
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        let (base, query) = url.split_once('?').unwrap();
        let q = query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        (base.to_string(), q)
    }

    #[test]
    fn the_token_is_a_presigned_get_caller_identity_bound_to_the_cluster() {
        let (creds, now) = fixed();
        let t = token(
            &creds,
            "us-east-1",
            "sts.us-east-1.amazonaws.com",
            "demo",
            now,
        )
        .unwrap();
        assert!(!t.contains('=') && !t.contains('+') && !t.contains('/'));
        let (base, q) = decode(&t);
        assert_eq!(base, "https://sts.us-east-1.amazonaws.com/");
        assert_eq!(q["Action"], "GetCallerIdentity");
        assert_eq!(q["Version"], "2011-06-15");
        assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(
            q["X-Amz-Credential"],
            "AKIDEXAMPLE%2F20261124%2Fus-east-1%2Fsts%2Faws4_request"
        );
        assert_eq!(q["X-Amz-Date"], "20261124T080000Z");
        assert_eq!(q["X-Amz-Expires"], "60");
        assert_eq!(q["X-Amz-SignedHeaders"], "host%3Bx-k8s-aws-id");
        assert_eq!(q["X-Amz-Signature"].len(), 64);
        assert!(!q.contains_key("X-Amz-Security-Token"));
    }

    #[test]
    fn the_signature_depends_on_the_cluster_time_and_session() {
        let (creds, now) = fixed();
        let sig = |c: &Credentials, cluster: &str, at: SystemTime| {
            decode(&token(c, "us-east-1", "sts.us-east-1.amazonaws.com", cluster, at).unwrap()).1
                ["X-Amz-Signature"]
                .clone()
        };
        let base = sig(&creds, "demo", now);
        assert_eq!(base, sig(&creds, "demo", now), "deterministic");
        assert_ne!(base, sig(&creds, "other", now));
        assert_ne!(base, sig(&creds, "demo", now + Duration::from_secs(1)));
        let session = Credentials::new(
            "ASIAEXAMPLE",
            "secret",
            Some("session-token".into()),
            None,
            "test",
        );
        let (_, q) = decode(
            &token(
                &session,
                "eu-west-1",
                "sts.eu-west-1.amazonaws.com",
                "demo",
                now,
            )
            .unwrap(),
        );
        assert_eq!(q["X-Amz-Security-Token"], "session-token");
        assert!(q["X-Amz-Credential"].contains("eu-west-1"));
    }
}
