//! One AWS call (or a short sequence) per action. Deletes treat "already gone" as success, so
//! `down` is idempotent; creates retry what is only eventual consistency.

use super::{Options, Resolved, StepError, owner, settle, trust};
use crate::cloud::{Aws, CallError, error_code, gone_is_fine};
use crate::observed::Tags;
use crate::plan::trust::Edit;
use crate::plan::{Action, Step};
use crate::progress::Progress;
use crate::triggers::aws as resource_calls;
use crate::triggers::resource;
use std::collections::HashMap;
use std::time::{Duration, Instant};

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

fn ecr_tags(tags: &Tags) -> Vec<aws_sdk_ecr::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_ecr::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value are set")
        })
        .collect()
}

fn hash_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn sqs_attributes(
    attributes: &std::collections::BTreeMap<String, String>,
) -> HashMap<aws_sdk_sqs::types::QueueAttributeName, String> {
    attributes
        .iter()
        .map(|(k, v)| {
            (
                aws_sdk_sqs::types::QueueAttributeName::from(k.as_str()),
                v.clone(),
            )
        })
        .collect()
}

/// How long a created queue's tags are watched at most (see `queue_tagged`).
const QUEUE_TAG_WATCH: Duration = Duration::from_secs(2);

/// CreateQueue answers with the URL of a queue of that name that already exists when its
/// attributes match (another cluster's run may have created it since the plan), and what it
/// does with the tags then is not documented (moto replaces them). So it is sent only the
/// stack's tags, the same from every cluster; then, for the watch window, the tags are read
/// back (another stack's queue is refused) and this cluster's missing keys are added by
/// TagQueue, which changes only the keys it names: a concurrent create cannot take them.
async fn queue_tagged(
    aws: &Aws,
    queue: &str,
    url: &str,
    tags: &Tags,
    opts: &Options,
    progress: (&Progress, &Step),
) -> Result<(), StepError> {
    let res = format!("SQS queue {queue}");
    let stack = crate::model::STACK;
    // A peer's create can only land within about one round trip of ours (each run reads
    // right before creating), so a short window suffices; it never exceeds --trust-watch.
    let window = opts.trust_watch.min(QUEUE_TAG_WATCH);
    let mut tagged = Instant::now();
    let mut tags_sent = 0;
    loop {
        let have = aws
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .map_err(|e| CallError::new("ListQueueTags", &res, &e))?
            .tags()
            .cloned()
            .unwrap_or_default();
        if have.get(stack) != tags.get(stack) {
            return Err(StepError::NotOwned {
                what: res,
                now: have.get(stack).cloned(),
                stack: tags.get(stack).cloned().unwrap_or_default(),
            });
        }
        let missing: Tags = tags
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if missing.is_empty() && tagged.elapsed() >= window {
            return Ok(());
        }
        if !missing.is_empty() {
            if tags_sent == 8 {
                return Err(StepError::Other(format!(
                    "{res} lost this cluster's tag 8 times while this run created it: another \
                     run keeps re-creating it. Run `kedactl up` again once that one is done"
                )));
            }
            tags_sent += 1;
            let r = aws
                .sqs
                .tag_queue()
                .queue_url(url)
                .set_tags(Some(hash_map(&missing)))
                .send()
                .await;
            r.map_err(|e| CallError::new("TagQueue", &res, &e))?;
            tagged = Instant::now();
            progress.0.waiting(
                &progress.1.id,
                &progress.1.summary,
                &format!(
                    "watching its tags for {}s: another cluster's run may be creating it too",
                    window.as_secs_f64()
                ),
            );
        }
        tokio::time::sleep(trust::poll(opts.trust_watch)).await;
    }
}

/// A role `down` deletes (or strips of its policies) still admits nobody but this cluster,
/// and no other role of the stack admits another cluster (whose KEDA would chain to it), read
/// again right before: another cluster's `up` may have joined since the plan.
async fn sole_user(aws: &Aws, role: &str, kept: bool, opts: &Options) -> Result<(), StepError> {
    if let Some(ours) = opts
        .retired_trusts
        .get(role)
        .filter(|_| opts.stack.is_some())
    {
        return trust::sole(aws, role, role, ours, kept, &opts.cluster).await;
    }
    if opts.stack.is_none() || !opts.trusts.contains_key(role) {
        return Ok(());
    }
    for (name, rendered) in &opts.trusts {
        trust::sole(aws, role, name, rendered, kept, &opts.cluster).await?;
    }
    Ok(())
}

/// IAM has not yet propagated a role it just created, so a trust naming it is "invalid".
fn iam_not_propagated(e: &CallError) -> Option<&'static str> {
    (e.code.as_deref() == Some("MalformedPolicyDocument")
        && e.message.contains("Invalid principal"))
    .then_some("IAM has not propagated the principal yet")
}

pub(super) async fn apply(
    aws: &Aws,
    step: &Step,
    opts: &Options,
    progress: &Progress,
    resolved: &Resolved,
) -> Result<(), StepError> {
    let cluster = opts.cluster.as_str();
    let retry = |e: &CallError| iam_not_propagated(e);
    match &step.action {
        Action::CreateRole {
            role,
            trust,
            tags,
            path,
            permissions_boundary,
        } => {
            let doc = trust.to_string();
            let res = format!("IAM role {role}");
            let created = settle(
                opts.settle_timeout,
                opts.poll,
                (progress, step),
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
                retry,
            )
            .await;
            match created {
                // Another run on this stack (another cluster's, maybe) created it after we
                // looked: our statements go into the trust it wrote, beside its own.
                Err(e)
                    if e.code.as_deref() == Some("EntityAlreadyExists")
                        && same_stack(owner::role_tags(aws, role).await.ok().flatten(), tags) =>
                {
                    trust::edit(aws, role, Edit::Put, trust, opts, (progress, step)).await?;
                }
                other => other?,
            }
        }
        Action::UpdateTrustPolicy { role, trust, edit } => {
            // A trust this stack owns is shared with its other clusters: this cluster's change
            // is re-applied to what is there now (another run may have written since the plan).
            let rendered = opts.trusts.get(role).or(opts.retired_trusts.get(role));
            if let (Some(edit), Some(rendered)) = (edit, rendered) {
                trust::edit(aws, role, *edit, rendered, opts, (progress, step)).await?;
                return Ok(());
            }
            let doc = trust.to_string();
            let res = format!("IAM role {role}");
            settle(
                opts.settle_timeout,
                opts.poll,
                (progress, step),
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
                retry,
            )
            .await?;
        }
        Action::PutRolePolicy {
            role,
            policy,
            document,
        } => {
            let r = aws
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(policy)
                .policy_document(document.to_string())
                .send()
                .await;
            r.map_err(|e| CallError::new("PutRolePolicy", format!("IAM role {role}"), &e))?;
        }
        Action::PutRolePermissionsBoundary {
            role,
            permissions_boundary,
        } => {
            let r = aws
                .iam
                .put_role_permissions_boundary()
                .role_name(role)
                .permissions_boundary(permissions_boundary)
                .send()
                .await;
            r.map_err(|e| {
                CallError::new("PutRolePermissionsBoundary", format!("IAM role {role}"), &e)
            })?;
        }
        Action::AttachRolePolicy { role, policy_arn } => {
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
        }
        Action::TagRole { role, tags } => {
            let r = aws
                .iam
                .tag_role()
                .role_name(role)
                .set_tags(Some(iam_tags(tags)))
                .send()
                .await;
            r.map_err(|e| CallError::new("TagRole", format!("IAM role {role}"), &e))?;
        }
        Action::CreateQueue {
            queue,
            attributes,
            tags,
        } => {
            let res = format!("SQS queue {queue}");
            // SQS refuses a name deleted less than 60 seconds ago.
            let deleted_recently = |e: &CallError| {
                matches!(
                    e.code.as_deref(),
                    Some("QueueDeletedRecently" | "AWS.SimpleQueueService.QueueDeletedRecently")
                )
                .then_some("SQS keeps a deleted queue's name for 60 s")
            };
            let timeout = opts.settle_timeout.max(std::time::Duration::from_secs(70));
            // The stack's tags are the same from every cluster; this cluster's own key is added
            // after (see `queue_tagged`).
            let stack_tags: Tags = tags
                .iter()
                .filter(|(k, _)| !k.starts_with(crate::model::CLUSTER_PREFIX))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            // Read again right before creating: another cluster's run may have made it since
            // the plan (then it is only joined), which leaves a concurrent create one round trip.
            let found = aws.sqs.get_queue_url().queue_name(queue).send().await;
            let url = match found {
                Ok(out) => out.queue_url().unwrap_or_default().to_string(),
                Err(e)
                    if matches!(
                        error_code(&e),
                        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
                    ) =>
                {
                    settle(
                        timeout,
                        opts.poll,
                        (progress, step),
                        || async {
                            let r = aws
                                .sqs
                                .create_queue()
                                .queue_name(queue)
                                .set_attributes(Some(sqs_attributes(attributes)))
                                .set_tags(Some(hash_map(&stack_tags)))
                                .send()
                                .await;
                            r.map(|o| o.queue_url().unwrap_or_default().to_string())
                                .map_err(|e| CallError::new("CreateQueue", &res, &e))
                        },
                        deleted_recently,
                    )
                    .await?
                }
                Err(e) => return Err(CallError::new("GetQueueUrl", &res, &e).into()),
            };
            queue_tagged(aws, queue, &url, tags, opts, (progress, step)).await?;
        }
        Action::SetQueueAttributes {
            queue,
            url,
            attributes,
        } => {
            let r = aws
                .sqs
                .set_queue_attributes()
                .queue_url(url)
                .set_attributes(Some(sqs_attributes(attributes)))
                .send()
                .await;
            r.map_err(|e| CallError::new("SetQueueAttributes", format!("SQS queue {queue}"), &e))?;
        }
        Action::TagQueue { queue, url, tags } => {
            let r = aws
                .sqs
                .tag_queue()
                .queue_url(url)
                .set_tags(Some(hash_map(tags)))
                .send()
                .await;
            r.map_err(|e| CallError::new("TagQueue", format!("SQS queue {queue}"), &e))?;
        }
        Action::UntagQueue { queue, url, keys } => {
            let r = aws
                .sqs
                .untag_queue()
                .queue_url(url)
                .set_tag_keys(Some(keys.clone()))
                .send()
                .await;
            gone_is_fine(
                r,
                &[
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                ],
                "UntagQueue",
                format!("SQS queue {queue}"),
            )?;
        }
        Action::UntagRepository {
            repository,
            arn,
            keys,
        } => {
            let r = aws
                .ecr
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys.clone()))
                .send()
                .await;
            gone_is_fine(
                r,
                &["RepositoryNotFoundException"],
                "UntagResource",
                format!("ECR repository {repository}"),
            )?;
        }
        Action::CreateRepository { repository, tags } => {
            let scan = aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build();
            let r = aws
                .ecr
                .create_repository()
                .repository_name(repository)
                .image_scanning_configuration(scan)
                .set_tags(Some(ecr_tags(tags)))
                .send()
                .await;
            let res = format!("ECR repository {repository}");
            let created = r
                .map(|_| ())
                .map_err(|e| CallError::new("CreateRepository", &res, &e));
            match created {
                // Another run on this stack (another cluster's, maybe) created it after we
                // looked: this cluster's tag goes on beside the winner's.
                Err(e) if e.code.as_deref() == Some("RepositoryAlreadyExistsException") => {
                    let Some((arn, theirs)) =
                        owner::repository(aws, repository).await.ok().flatten()
                    else {
                        return Err(e.into());
                    };
                    if !same_stack(Some(theirs), tags) {
                        return Err(e.into());
                    }
                    let r = aws
                        .ecr
                        .tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some(ecr_tags(tags)))
                        .send()
                        .await;
                    r.map_err(|e| CallError::new("TagResource", &res, &e))?;
                }
                other => other?,
            }
        }
        Action::TagRepository {
            repository,
            arn,
            tags,
        } => {
            let r = aws
                .ecr
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecr_tags(tags)))
                .send()
                .await;
            r.map_err(|e| {
                CallError::new("TagResource", format!("ECR repository {repository}"), &e)
            })?;
        }
        Action::CreateAddon { addon, tags } => {
            let r = aws
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
        }
        Action::WaitAddonActive { addon } => {
            wait_addon(aws, cluster, addon, opts, progress, step).await?
        }
        Action::CreateAssociation {
            namespace,
            service_account,
            role_arn,
            tags,
        } => {
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
                (progress, step),
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
        }
        Action::TagAssociation {
            namespace,
            service_account,
            arn,
            tags,
            ..
        } => {
            let r = aws
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
        }
        Action::UpdateAssociation {
            association_id,
            namespace,
            service_account,
            role_arn,
        } => {
            let r = aws
                .eks
                .update_pod_identity_association()
                .cluster_name(cluster)
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
        }
        Action::DeleteAssociation {
            association_id,
            namespace,
            service_account,
        } => {
            let r = aws
                .eks
                .delete_pod_identity_association()
                .cluster_name(cluster)
                .association_id(association_id)
                .send()
                .await;
            gone_is_fine(
                r,
                &["ResourceNotFoundException"],
                "DeletePodIdentityAssociation",
                format!("pod identity association {namespace}/{service_account}"),
            )?;
        }
        Action::CreateResource {
            resource: kind,
            name,
            tags,
            settings,
        } => {
            let r = resource::Resource {
                kind: *kind,
                name: name.clone(),
                managed: true,
                settings: settings.clone(),
            };
            let live = resource_calls::create(aws, &r, tags).await?;
            wait_resource(aws, &r, &live.id, live.status, opts, progress, step).await?;
            resolved.insert(r.placeholder(), live.id);
        }
        Action::TagResource {
            resource: kind,
            arn,
            tags,
            ..
        } => resource_calls::tag(aws, *kind, arn, tags).await?,
        Action::UntagResource {
            resource: kind,
            arn,
            keys,
            ..
        } => resource_calls::untag(aws, *kind, arn, keys).await?,
        Action::DeleteResource {
            resource: kind,
            name,
            id,
            force,
            ..
        } => {
            until_settled(aws, *kind, name, id, opts, progress, step).await?;
            if !force && let Some(data) = resource_calls::data(aws, *kind, id).await {
                still_empty(&format!("{} {name}", kind.noun()), &data)?;
            }
            resource_calls::delete(aws, *kind, id).await?
        }
        Action::DeleteQueue {
            queue, url, force, ..
        } => {
            if !force {
                still_empty(
                    &format!("SQS queue {queue}"),
                    &queue_messages(aws, queue, url).await?,
                )?;
            }
            let r = aws.sqs.delete_queue().queue_url(url).send().await;
            gone_is_fine(
                r,
                &[
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                ],
                "DeleteQueue",
                format!("SQS queue {queue}"),
            )?;
        }
        Action::DeleteRepository { repository, force } => {
            let r = aws
                .ecr
                .delete_repository()
                .repository_name(repository)
                .force(*force)
                .send()
                .await;
            gone_is_fine(
                r,
                &["RepositoryNotFoundException"],
                "DeleteRepository",
                format!("ECR repository {repository}"),
            )?;
        }
        Action::DeleteRolePolicy { role, policy, kept } => {
            sole_user(aws, role, *kept, opts).await?;
            let r = aws
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
        }
        Action::DetachRolePolicy {
            role,
            policy_arn,
            record,
        } => {
            // `down` strips a role it deletes: only when no other cluster still uses it. `up`
            // detaches one policy it attached: the role stays, whoever else uses it.
            if record.is_none() {
                sole_user(aws, role, false, opts).await?;
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
        }
        Action::DeleteRole { role } => {
            sole_user(aws, role, false, opts).await?;
            let r = aws.iam.delete_role().role_name(role).send().await;
            gone_is_fine(
                r,
                &["NoSuchEntity"],
                "DeleteRole",
                format!("IAM role {role}"),
            )?;
        }
        Action::DeleteAddon { addon } => {
            let r = aws
                .eks
                .delete_addon()
                .cluster_name(cluster)
                .addon_name(addon)
                .send()
                .await;
            gone_is_fine(
                r,
                &["ResourceNotFoundException"],
                "DeleteAddon",
                format!("EKS add-on {addon}"),
            )?;
        }
        Action::CreateOidcProvider {
            url,
            client_ids,
            tags,
        } => {
            let r = aws
                .iam
                .create_open_id_connect_provider()
                .url(url)
                .set_client_id_list(Some(client_ids.clone()))
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
        }
        Action::DeleteOidcProvider { arn, url } => {
            // A role made since the plan was read may trust it now: it stays then.
            let res = format!("IAM OIDC provider {url}");
            let trusting = crate::observe::roles_trusting(aws, arn).await?;
            if !trusting.is_empty() {
                return Err(StepError::Other(format!(
                    "refused: {res} is trusted by IAM role {} now (it was read before that), so \
                     it was kept. Run the command again for a fresh plan",
                    trusting.join(", ")
                )));
            }
            let r = aws
                .iam
                .delete_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
                .await;
            gone_is_fine(r, &["NoSuchEntity"], "DeleteOpenIDConnectProvider", res)?;
        }
        Action::InstallKeda { .. }
        | Action::Apply { .. }
        | Action::AnnotateServiceAccount { .. }
        | Action::RestartDeployment { .. }
        | Action::VerifyPodIdentity { .. }
        | Action::VerifyIrsa { .. }
        | Action::DeleteObject { .. }
        | Action::UninstallKeda { .. } => {
            unreachable!("run_step sends cluster actions to exec::cluster")
        }
    }
    Ok(())
}

/// Does a resource found in place of one we meant to create carry this run's stack tag?
fn same_stack(found: Option<Tags>, ours: &Tags) -> bool {
    let stack = |t: &Tags| t.get(crate::model::STACK).cloned();
    found.is_some_and(|f| stack(&f).is_some() && stack(&f) == stack(ours))
}

/// One look at something being waited for.
enum Look {
    Done,
    /// It will not get there (a failure status, with what to do).
    Failed(String),
    /// Still on its way, in this status.
    Waiting(String),
}

/// Look until done or failed, `opts.poll` apart, for at most `opts.addon_timeout`; `what`
/// names it in the timeout error.
async fn wait_until<F, Fut>(
    what: &str,
    limit: Duration,
    opts: &Options,
    progress: &Progress,
    step: &Step,
    mut look: F,
) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Look, StepError>>,
{
    let start = Instant::now();
    loop {
        let status = match look().await? {
            Look::Done => return Ok(()),
            Look::Failed(why) => return Err(StepError::Other(why)),
            Look::Waiting(status) => status,
        };
        if start.elapsed() >= limit {
            return Err(StepError::Other(format!(
                "{what} is still {status} after {} s; run `kedactl up` again to keep waiting",
                limit.as_secs()
            )));
        }
        progress.waiting(&step.id, &step.summary, &format!("status {status}"));
        tokio::time::sleep(opts.poll).await;
    }
}

/// Poll DescribeAddon until ACTIVE, as the AWS AddonActive waiter does.
async fn wait_addon(
    aws: &Aws,
    cluster: &str,
    addon: &str,
    opts: &Options,
    progress: &Progress,
    step: &Step,
) -> Result<(), StepError> {
    let what = format!("add-on {addon}");
    wait_until(&what, opts.addon_timeout, opts, progress, step, || async {
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
                let issues: Vec<String> = a
                    .and_then(|a| a.health())
                    .map(|h| h.issues())
                    .unwrap_or_default()
                    .iter()
                    .map(|i| {
                        format!(
                            "{}: {}",
                            i.code().map(|c| c.as_str()).unwrap_or("unknown"),
                            i.message().unwrap_or_default()
                        )
                    })
                    .collect();
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

/// Wait until a created trigger resource is usable (an AMP workspace: CREATING → ACTIVE).
async fn wait_resource(
    aws: &Aws,
    r: &resource::Resource,
    id: &str,
    status: String,
    opts: &Options,
    progress: &Progress,
    step: &Step,
) -> Result<(), StepError> {
    let what = format!("{} ({id})", r.describe());
    let limit = opts.addon_timeout * resource::patience(r.kind);
    // The create's own answer is the first look.
    let mut first = Some(status);
    wait_until(&what, limit, opts, progress, step, || {
        let known = first.take();
        let what = &what;
        async move {
            let (status, reason) = match known {
                Some(s) => (s, None),
                None => match resource_calls::status(aws, r.kind, id).await? {
                    Some(live) => (live.status, live.reason),
                    None => {
                        return Ok(Look::Failed(format!(
                            "{what} disappeared while it was being created"
                        )));
                    }
                },
            };
            Ok(match resource::ready(r.kind, &status) {
                Some(true) => Look::Done,
                Some(false) => Look::Failed(format!(
                    "{what} is {status}, not usable{}; see the AWS console or `kedactl doctor`",
                    reason.map(|why| format!(" ({why})")).unwrap_or_default()
                )),
                None => Look::Waiting(status),
            })
        }
    })
    .await
}

/// Wait while a resource is still being created or updated: AMP refuses to delete a scraper,
/// Kinesis a stream, DynamoDB a table in that state. One gone meanwhile is settled.
/// Read right before the delete: data that arrived after the plan was made (or could not be
/// counted now) keeps the resource, as it would have at the plan.
fn still_empty(what: &str, data: &crate::observed::Data) -> Result<(), StepError> {
    if data.is_empty() {
        return Ok(());
    }
    Err(StepError::Other(format!(
        "refused: {what} now holds {} (read right before the delete; the plan saw it empty), so          it was kept. Run `kedactl down` again to see it, or pass --force to delete it anyway",
        data.describe()
    )))
}

/// A queue's messages now; a queue already gone holds none.
async fn queue_messages(
    aws: &Aws,
    queue: &str,
    url: &str,
) -> Result<crate::observed::Data, StepError> {
    let r = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await;
    match r {
        Ok(out) => Ok(crate::observed::queue_messages(
            &out.attributes()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect(),
        )),
        Err(e)
            if error_code(&e).is_some_and(|c| {
                matches!(
                    c,
                    "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist"
                )
            }) =>
        {
            Ok(crate::observed::Data::counted(0, "messages"))
        }
        Err(e) => {
            Err(CallError::new("GetQueueAttributes", format!("SQS queue {queue}"), &e).into())
        }
    }
}

async fn until_settled(
    aws: &Aws,
    kind: resource::Kind,
    name: &str,
    id: &str,
    opts: &Options,
    progress: &Progress,
    step: &Step,
) -> Result<(), StepError> {
    let what = format!("{} {name} ({id})", kind.noun());
    let limit = opts.addon_timeout * resource::patience(kind);
    wait_until(&what, limit, opts, progress, step, || async {
        Ok(match resource_calls::status(aws, kind, id).await? {
            Some(live) if resource::ready(kind, &live.status).is_none() => {
                Look::Waiting(live.status)
            }
            _ => Look::Done,
        })
    })
    .await
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
