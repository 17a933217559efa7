//! IRSA's IAM OIDC identity provider: the one for the cluster's issuer (by name, so it needs no
//! account), and, for `down`, every role in the account whose trust names it.

use super::{CallError, Read, decode_policy, found, read};
use crate::cloud::Aws;
use crate::observed::OidcProvider;
use crate::plan::trust::names_provider;

/// The provider whose URL is `host` (the issuer without `https://`): ListOpenIDConnectProviders
/// names them by ARN only, so the one ending in `oidc-provider/<host>` is read.
pub(super) async fn provider(aws: &Aws, host: &str) -> Result<Read<OidcProvider>, CallError> {
    let resource = format!("IAM OIDC provider {host}");
    let got = aws.iam.list_open_id_connect_providers().send().await;
    let list = found!(read(got, "ListOpenIDConnectProviders", &resource, |_| {
        false
    }));
    let suffix = format!(":oidc-provider/{host}");
    let Some(arn) = list
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|a| a.ends_with(&suffix))
    else {
        return Ok(Read::Missing);
    };
    let got = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await;
    let p = found!(read(got, "GetOpenIDConnectProvider", &resource, |e| e
        .is_no_such_entity_exception()));
    Ok(Read::Found(OidcProvider {
        arn: arn.to_string(),
        url: p.url().unwrap_or(host).to_string(),
        client_ids: p.client_id_list().to_vec(),
        tags: p
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    }))
}

/// Every role in the account (ListRoles, every page) whose trust names the provider `arn`: a
/// provider goes only when none does, whoever made the role.
pub async fn roles_trusting(aws: &Aws, arn: &str) -> Result<Vec<String>, CallError> {
    let mut pages = aws.iam.list_roles().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CallError::new("ListRoles", "the account's IAM roles", &e))?;
        for r in page.roles() {
            let trust = decode_policy(r.assume_role_policy_document().unwrap_or("{}"));
            if names_provider(&trust, arn) {
                out.push(r.role_name().to_string());
            }
        }
    }
    Ok(out)
}
