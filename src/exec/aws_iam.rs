//! The IAM steps of the AWS executor: roles, their trust and policies, and the cluster's OIDC
//! provider. What `down` deletes or strips is read again first: another cluster may use it now.

use super::aws::{Cx, same_stack};
use super::{Options, StepError, owner, settle, trust};
use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observed::Tags;
use crate::plan::Action;
use crate::plan::trust::Edit;
use serde_json::Value;
use std::collections::BTreeMap;

/// One IAM step (`exec::aws::apply` sends only these here).
pub(super) async fn apply(cx: &Cx<'_>) -> Result<(), StepError> {
    match &cx.step.action {
        Action::CreateRole {
            role,
            trust,
            tags,
            path,
            permissions_boundary,
        } => create_role(cx, role, trust, tags, path, permissions_boundary).await,
        Action::UpdateTrustPolicy { role, trust, edit } => {
            update_trust(cx, role, trust, *edit).await
        }
        Action::PutRolePolicy {
            role,
            policy,
            document,
        } => put_policy(cx, role, policy, document).await,
        Action::PutRolePermissionsBoundary {
            role,
            permissions_boundary,
        } => put_boundary(cx, role, permissions_boundary).await,
        Action::AttachRolePolicy { role, policy_arn } => attach_policy(cx, role, policy_arn).await,
        Action::TagRole { role, tags } => tag_role(cx, role, tags).await,
        Action::DeleteRolePolicy { role, policy, kept } => {
            delete_policy(cx, role, policy, *kept).await
        }
        Action::DetachRolePolicy {
            role,
            policy_arn,
            record,
        } => detach_policy(cx, role, policy_arn, record.as_deref()).await,
        Action::DeleteRole { role } => delete_role(cx, role).await,
        Action::CreateOidcProvider {
            url,
            client_ids,
            tags,
        } => create_oidc_provider(cx, url, client_ids, tags).await,
        Action::DeleteOidcProvider { arn, url } => delete_oidc_provider(cx, arn, url).await,
        _ => unreachable!("exec::aws sends only IAM actions here"),
    }
}

fn iam_tags(tags: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

/// IAM has not yet propagated a role it just created, so a trust naming it is "invalid".
fn iam_not_propagated(e: &CallError) -> Option<&'static str> {
    (e.code.as_deref() == Some("MalformedPolicyDocument")
        && e.message.contains("Invalid principal"))
    .then_some("IAM has not propagated the principal yet")
}

async fn create_role(
    cx: &Cx<'_>,
    role: &str,
    trust: &Value,
    tags: &Tags,
    path: &Option<String>,
    permissions_boundary: &Option<String>,
) -> Result<(), StepError> {
    let (aws, opts) = (cx.aws, cx.opts);
    let doc = trust.to_string();
    let res = format!("IAM role {role}");
    let created = settle(
        opts.settle_timeout,
        opts.poll,
        (cx.progress, cx.step),
        || async {
            let r = aws
                .iam
                .create_role()
                .role_name(role)
                .assume_role_policy_document(&doc)
                .set_tags(Some(iam_tags(tags)))
                .set_path(path.clone())
                .set_permissions_boundary(permissions_boundary.clone())
                .send()
                .await;
            r.map(|_| ())
                .map_err(|e| CallError::new("CreateRole", &res, &e))
        },
        iam_not_propagated,
    )
    .await;
    match created {
        // Another run on this stack (another cluster's, maybe) created it after we
        // looked: our statements go into the trust it wrote, beside its own.
        Err(e)
            if e.code.as_deref() == Some("EntityAlreadyExists")
                && same_stack(owner::role_tags(aws, role).await.ok().flatten(), tags) =>
        {
            trust::edit(aws, role, Edit::Put, trust, opts, (cx.progress, cx.step)).await?;
        }
        other => other?,
    }
    Ok(())
}

async fn update_trust(
    cx: &Cx<'_>,
    role: &str,
    trust: &Value,
    edit: Option<Edit>,
) -> Result<(), StepError> {
    let (aws, opts) = (cx.aws, cx.opts);
    // A trust this stack owns is shared with its other clusters: this cluster's change
    // is re-applied to what is there now (another run may have written since the plan).
    let rendered = opts.trusts.get(role).or(opts.retired_trusts.get(role));
    if let (Some(edit), Some(rendered)) = (edit, rendered) {
        trust::edit(aws, role, edit, rendered, opts, (cx.progress, cx.step)).await?;
        return Ok(());
    }
    let doc = trust.to_string();
    let res = format!("IAM role {role}");
    settle(
        opts.settle_timeout,
        opts.poll,
        (cx.progress, cx.step),
        || async {
            let r = aws
                .iam
                .update_assume_role_policy()
                .role_name(role)
                .policy_document(&doc)
                .send()
                .await;
            r.map(|_| ())
                .map_err(|e| CallError::new("UpdateAssumeRolePolicy", &res, &e))
        },
        iam_not_propagated,
    )
    .await?;
    Ok(())
}

async fn put_policy(
    cx: &Cx<'_>,
    role: &str,
    policy: &str,
    document: &Value,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(document.to_string())
        .send()
        .await;
    r.map_err(|e| CallError::new("PutRolePolicy", format!("IAM role {role}"), &e))?;
    Ok(())
}

async fn put_boundary(
    cx: &Cx<'_>,
    role: &str,
    permissions_boundary: &str,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .iam
        .put_role_permissions_boundary()
        .role_name(role)
        .permissions_boundary(permissions_boundary)
        .send()
        .await;
    r.map_err(|e| CallError::new("PutRolePermissionsBoundary", format!("IAM role {role}"), &e))?;
    Ok(())
}

async fn attach_policy(cx: &Cx<'_>, role: &str, policy_arn: &str) -> Result<(), StepError> {
    let aws = cx.aws;
    let res = format!("IAM role {role}");
    // Recorded first: a run stopped between the two leaves a record of a policy not
    // attached (the next `up` attaches it), never an attachment kedactl cannot tell
    // from one a person made.
    let (key, value) = crate::render::attached_tag(policy_arn);
    let r = aws
        .iam
        .tag_role()
        .role_name(role)
        .set_tags(Some(iam_tags(&Tags::from([(key, value)]))))
        .send()
        .await;
    r.map_err(|e| CallError::new("TagRole", &res, &e))?;
    let r = aws
        .iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await;
    r.map_err(|e| CallError::new("AttachRolePolicy", &res, &e))?;
    Ok(())
}

async fn tag_role(cx: &Cx<'_>, role: &str, tags: &Tags) -> Result<(), StepError> {
    let r = cx
        .aws
        .iam
        .tag_role()
        .role_name(role)
        .set_tags(Some(iam_tags(tags)))
        .send()
        .await;
    r.map_err(|e| CallError::new("TagRole", format!("IAM role {role}"), &e))?;
    Ok(())
}

async fn delete_policy(cx: &Cx<'_>, role: &str, policy: &str, kept: bool) -> Result<(), StepError> {
    sole_user(cx.aws, role, kept, cx.opts).await?;
    let r = cx
        .aws
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await;
    gone_is_fine(
        r,
        &["NoSuchEntity"],
        "DeleteRolePolicy",
        format!("inline policy {policy} of IAM role {role}"),
    )?;
    Ok(())
}

/// `record`: the tag that recorded an attachment `up` made, removed with it.
async fn detach_policy(
    cx: &Cx<'_>,
    role: &str,
    policy_arn: &str,
    record: Option<&str>,
) -> Result<(), StepError> {
    let aws = cx.aws;
    // `down` strips a role it deletes: only when no other cluster still uses it. `up`
    // detaches one policy it attached: the role stays, whoever else uses it.
    if record.is_none() {
        sole_user(aws, role, false, cx.opts).await?;
    }
    let r = aws
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await;
    gone_is_fine(
        r,
        &["NoSuchEntity"],
        "DetachRolePolicy",
        format!("IAM role {role}"),
    )?;
    if let Some(key) = record {
        let r = aws
            .iam
            .untag_role()
            .role_name(role)
            .tag_keys(key)
            .send()
            .await;
        gone_is_fine(
            r,
            &["NoSuchEntity"],
            "UntagRole",
            format!("IAM role {role}"),
        )?;
    }
    Ok(())
}

async fn delete_role(cx: &Cx<'_>, role: &str) -> Result<(), StepError> {
    sole_user(cx.aws, role, false, cx.opts).await?;
    let r = cx.aws.iam.delete_role().role_name(role).send().await;
    gone_is_fine(
        r,
        &["NoSuchEntity"],
        "DeleteRole",
        format!("IAM role {role}"),
    )?;
    Ok(())
}

/// A role `down` deletes (or strips of its policies) still admits nobody but this cluster, and
/// no role of the stack chained to it admits another cluster: neither one that chains into it
/// (named by its chain statement: the operator role, whose KEDA assumes the identity role) nor
/// one it chains into (whose chain statement names it: the identity roles another cluster's
/// KEDA reaches through the operator role). Read again right before, all at once: another
/// cluster's `up` may have joined since the plan.
async fn sole_user(aws: &Aws, role: &str, kept: bool, opts: &Options) -> Result<(), StepError> {
    if let Some(ours) = opts
        .retired_trusts
        .get(role)
        .filter(|_| opts.stack.is_some())
    {
        return trust::sole(aws, role, role, ours, kept, &opts.cluster).await;
    }
    let Some(rendered) = opts.trusts.get(role).filter(|_| opts.stack.is_some()) else {
        return Ok(());
    };
    let reads = chained_roles(&opts.trusts, role, rendered)
        .into_iter()
        .map(|(name, rendered)| trust::sole(aws, role, name, rendered, kept, &opts.cluster));
    // Every read is waited for, and the first refusal in the roles' order is the one told.
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect::<Result<(), StepError>>()
}

/// `role` and the roles of `trusts` chained to it either way (see `sole_user`), in name order.
fn chained_roles<'a>(
    trusts: &'a BTreeMap<String, Value>,
    role: &str,
    rendered: &Value,
) -> Vec<(&'a String, &'a Value)> {
    use crate::plan::trust::chained_from;
    let into = chained_from(rendered);
    trusts
        .iter()
        .filter(|(name, trust)| {
            *name == role || into.contains(name) || chained_from(trust).iter().any(|r| r == role)
        })
        .collect()
}

async fn create_oidc_provider(
    cx: &Cx<'_>,
    url: &str,
    client_ids: &[String],
    tags: &Tags,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .iam
        .create_open_id_connect_provider()
        .url(url)
        .set_client_id_list(Some(client_ids.to_vec()))
        .set_tags(Some(iam_tags(tags)))
        .send()
        .await;
    // One made meanwhile (another run, eksctl) serves as well: it is the same issuer's.
    gone_is_fine(
        r,
        &["EntityAlreadyExists"],
        "CreateOpenIDConnectProvider",
        format!("IAM OIDC provider {url}"),
    )?;
    Ok(())
}

async fn delete_oidc_provider(cx: &Cx<'_>, arn: &str, url: &str) -> Result<(), StepError> {
    // A role made since the plan was read may trust it now: it stays then.
    let res = format!("IAM OIDC provider {url}");
    let trusting = crate::observe::roles_trusting(cx.aws, arn).await?;
    if !trusting.is_empty() {
        return Err(StepError::Other(format!(
            "refused: {res} is trusted by IAM role {} now (it was read before that), so \
             it was kept. Run the command again for a fresh plan",
            trusting.join(", ")
        )));
    }
    let r = cx
        .aws
        .iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await;
    gone_is_fine(r, &["NoSuchEntity"], "DeleteOpenIDConnectProvider", res)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The identity roles' chain statements name the operator role: deleting an identity role
    /// re-reads it and the operator role; deleting the operator role re-reads every role that
    /// chains from it, not the others.
    #[test]
    fn a_delete_re_reads_the_roles_chained_to_its_role_either_way() {
        let chain = |from: &str| {
            json!({"Statement": [{"Sid": crate::render::CHAIN_SID, "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::1:role/{from}")},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
        };
        let service = json!({"Statement": [{"Sid": "KedactlX", "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let trusts = BTreeMap::from([
            ("op".to_string(), service.clone()),
            ("id-a".to_string(), chain("op")),
            ("id-b".to_string(), chain("op")),
            ("other".to_string(), chain("elsewhere")),
            ("plain".to_string(), service),
        ]);
        let names = |role: &str| -> Vec<&str> {
            chained_roles(&trusts, role, &trusts[role])
                .into_iter()
                .map(|(n, _)| n.as_str())
                .collect()
        };
        assert_eq!(names("id-a"), ["id-a", "op"]);
        assert_eq!(names("op"), ["id-a", "id-b", "op"]);
        assert_eq!(names("plain"), ["plain"]);
    }
}
