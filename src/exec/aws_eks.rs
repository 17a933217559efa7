//! The EKS steps of the AWS executor: the Pod Identity add-on and the associations of service
//! accounts with roles. A create that finds one another run of this stack made takes it over.

use super::aws::{Cx, Look, hash_map, same_stack, wait_until};
use super::{StepError, owner, settle};
use crate::cloud::{Aws, CallError, error_code, gone_is_fine};
use crate::observed::Tags;
use crate::plan::Action;

/// One EKS step (`exec::aws::apply` sends only these here).
pub(super) async fn apply(cx: &Cx<'_>) -> Result<(), StepError> {
    match &cx.step.action {
        Action::CreateAddon { addon, tags } => create_addon(cx, addon, tags).await,
        Action::WaitAddonActive { addon } => wait_addon(cx, addon).await,
        Action::DeleteAddon { addon } => delete_addon(cx, addon).await,
        Action::CreateAssociation {
            namespace,
            service_account,
            role_arn,
            tags,
        } => create_association(cx, namespace, service_account, role_arn, tags).await,
        Action::TagAssociation {
            namespace,
            service_account,
            arn,
            tags,
            ..
        } => tag_association(cx, namespace, service_account, arn, tags).await,
        Action::UpdateAssociation {
            association_id,
            namespace,
            service_account,
            role_arn,
        } => update_association(cx, association_id, namespace, service_account, role_arn).await,
        Action::DeleteAssociation {
            association_id,
            namespace,
            service_account,
        } => delete_association(cx, association_id, namespace, service_account).await,
        _ => unreachable!("exec::aws sends only EKS actions here"),
    }
}

async fn create_addon(cx: &Cx<'_>, addon: &str, tags: &Tags) -> Result<(), StepError> {
    let cluster = cx.opts.cluster.as_str();
    let r = cx
        .aws
        .eks
        .create_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .set_tags(Some(hash_map(tags)))
        .send()
        .await;
    match r {
        // Created meanwhile (another run): the wait step that follows checks it.
        Err(e) if error_code(&e) == Some("ResourceInUseException") => {}
        r => {
            r.map_err(|e| {
                CallError::new(
                    "CreateAddon",
                    format!("EKS add-on {addon} on cluster {cluster}"),
                    &e,
                )
            })?;
        }
    }
    Ok(())
}

/// Poll DescribeAddon until ACTIVE, as the AWS AddonActive waiter does.
async fn wait_addon(cx: &Cx<'_>, addon: &str) -> Result<(), StepError> {
    let (aws, cluster) = (cx.aws, cx.opts.cluster.as_str());
    let what = format!("add-on {addon}");
    wait_until(cx, &what, cx.opts.addon_timeout, || async {
        let out = aws
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .send()
            .await
            .map_err(|e| CallError::new("DescribeAddon", format!("EKS add-on {addon}"), &e))?;
        let a = out.addon();
        let status = a
            .and_then(|a| a.status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        Ok(match status.as_str() {
            "ACTIVE" => Look::Done,
            "CREATE_FAILED" | "DEGRADED" | "UPDATE_FAILED" | "DELETE_FAILED" => {
                let issues = a
                    .map(|a| crate::observe::addon_issues(a, "unknown"))
                    .unwrap_or_default();
                Look::Failed(format!(
                    "add-on {addon} is {status}{}; see `aws eks describe-addon --cluster-name {cluster} --addon-name {addon}`",
                    if issues.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", issues.join("; "))
                    }
                ))
            }
            _ => Look::Waiting(status),
        })
    })
    .await
}

async fn delete_addon(cx: &Cx<'_>, addon: &str) -> Result<(), StepError> {
    let r = cx
        .aws
        .eks
        .delete_addon()
        .cluster_name(&cx.opts.cluster)
        .addon_name(addon)
        .send()
        .await;
    gone_is_fine(
        r,
        &["ResourceNotFoundException"],
        "DeleteAddon",
        format!("EKS add-on {addon}"),
    )?;
    Ok(())
}

/// Associate the service account with the role, retrying while EKS does not see the role's
/// trust yet; an association another run of this stack made meanwhile is pointed at the role.
async fn create_association(
    cx: &Cx<'_>,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
    tags: &Tags,
) -> Result<(), StepError> {
    let (aws, opts, cluster) = (cx.aws, cx.opts, cx.opts.cluster.as_str());
    let res = format!("pod identity association {namespace}/{service_account}");
    // EKS checks the role's trust, which IAM may not have propagated yet.
    let trust_not_seen = |e: &CallError| {
        (e.code.as_deref() == Some("InvalidParameterException")
            && e.message.contains("Trust policy"))
        .then_some("EKS does not see the new role's trust yet")
    };
    let created = settle(
        opts.settle_timeout,
        opts.poll,
        (cx.progress, cx.step),
        || async {
            let r = aws
                .eks
                .create_pod_identity_association()
                .cluster_name(cluster)
                .namespace(namespace)
                .service_account(service_account)
                .role_arn(role_arn)
                // Explicit: the scoped trust needs the session tags EKS then sends.
                .disable_session_tags(false)
                .set_tags(Some(hash_map(tags)))
                .send()
                .await;
            r.map(|_| ())
                .map_err(|e| CallError::new("CreatePodIdentityAssociation", &res, &e))
        },
        trust_not_seen,
    )
    .await;
    match created {
        // The service account got an association meanwhile: point it at our role.
        Err(e) if e.code.as_deref() == Some("ResourceInUseException") => {
            repoint_association(aws, cluster, namespace, service_account, role_arn, tags)
                .await
                .map_err(|other| other.unwrap_or(e))?;
        }
        other => other?,
    }
    Ok(())
}

/// Find the service account's existing association and point it at `role_arn`, when this
/// stack made it (another run); `Err(None)` when it is someone else's.
async fn repoint_association(
    aws: &Aws,
    cluster: &str,
    namespace: &str,
    sa: &str,
    role_arn: &str,
    ours: &Tags,
) -> Result<(), Option<CallError>> {
    let res = format!("pod identity association {namespace}/{sa}");
    let list = aws
        .eks
        .list_pod_identity_associations()
        .cluster_name(cluster)
        .namespace(namespace)
        .service_account(sa)
        .send()
        .await
        .map_err(|e| CallError::new("ListPodIdentityAssociations", &res, &e))?;
    let Some(id) = list.associations().first().and_then(|a| a.association_id()) else {
        return Ok(());
    };
    // Only an association another run of this stack made; someone else's is theirs.
    if !same_stack(owner::association_tags(aws, cluster, id, &res).await?, ours) {
        return Err(None);
    }
    aws.eks
        .update_pod_identity_association()
        .cluster_name(cluster)
        .association_id(id)
        .role_arn(role_arn)
        .send()
        .await
        .map_err(|e| CallError::new("UpdatePodIdentityAssociation", &res, &e))?;
    Ok(())
}

async fn tag_association(
    cx: &Cx<'_>,
    namespace: &str,
    service_account: &str,
    arn: &str,
    tags: &Tags,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .eks
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(hash_map(tags)))
        .send()
        .await;
    r.map_err(|e| {
        CallError::new(
            "TagResource",
            format!("pod identity association {namespace}/{service_account}"),
            &e,
        )
    })?;
    Ok(())
}

async fn update_association(
    cx: &Cx<'_>,
    association_id: &str,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .eks
        .update_pod_identity_association()
        .cluster_name(&cx.opts.cluster)
        .association_id(association_id)
        .role_arn(role_arn)
        .disable_session_tags(false)
        .send()
        .await;
    r.map_err(|e| {
        CallError::new(
            "UpdatePodIdentityAssociation",
            format!("pod identity association {namespace}/{service_account}"),
            &e,
        )
    })?;
    Ok(())
}

async fn delete_association(
    cx: &Cx<'_>,
    association_id: &str,
    namespace: &str,
    service_account: &str,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .eks
        .delete_pod_identity_association()
        .cluster_name(&cx.opts.cluster)
        .association_id(association_id)
        .send()
        .await;
    gone_is_fine(
        r,
        &["ResourceNotFoundException"],
        "DeletePodIdentityAssociation",
        format!("pod identity association {namespace}/{service_account}"),
    )?;
    Ok(())
}
