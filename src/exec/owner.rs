//! Ownership, read again right before a change. The observation behind a plan can be minutes
//! old (a person at the prompt): a delete, a tag change or a policy write first confirms that
//! its target still carries this stack's tag, and refuses when it does not.

use super::StepError;
use crate::cloud::{Aws, CallError, error_code};
use crate::cluster::{Kube, keda};
use crate::model::STACK;
use crate::observe::to_tags;
use crate::observed::{Tags, describe};
use crate::plan::Action;

/// What a step changes, when it is something ownership protects.
enum Target<'a> {
    Role(&'a str),
    Queue {
        name: &'a str,
        url: &'a str,
    },
    Repository(&'a str),
    /// A trigger's resource, by its service id.
    Resource {
        kind: crate::triggers::resource::Kind,
        name: &'a str,
        id: &'a str,
    },
    Association {
        id: &'a str,
        what: String,
    },
    Addon(&'a str),
    /// An IAM OIDC provider, by ARN.
    OidcProvider(&'a str),
    Object(&'a str, Option<&'a str>, &'a str),
    /// KEDA, known by the marker ConfigMap written before it was installed.
    Keda(&'a str),
}

fn target(action: &Action) -> Option<Target<'_>> {
    Some(match action {
        Action::UpdateTrustPolicy { role, .. }
        | Action::PutRolePolicy { role, .. }
        | Action::TagRole { role, .. }
        | Action::DeleteRolePolicy { role, .. }
        | Action::DetachRolePolicy { role, .. }
        | Action::PutRolePermissionsBoundary { role, .. }
        | Action::AttachRolePolicy { role, .. }
        | Action::DeleteRole { role } => Target::Role(role),
        Action::SetQueueAttributes { queue, url, .. }
        | Action::TagQueue { queue, url, .. }
        | Action::UntagQueue { queue, url, .. }
        | Action::DeleteQueue { queue, url, .. } => Target::Queue { name: queue, url },
        Action::TagRepository { repository, .. }
        | Action::UntagRepository { repository, .. }
        | Action::DeleteRepository { repository, .. } => Target::Repository(repository),
        Action::TagResource {
            resource,
            name,
            arn,
            ..
        }
        | Action::UntagResource {
            resource,
            name,
            arn,
            ..
        } => Target::Resource {
            kind: *resource,
            name,
            id: crate::triggers::resource::id_from_arn(arn),
        },
        Action::DeleteResource {
            resource, name, id, ..
        } => Target::Resource {
            kind: *resource,
            name,
            id,
        },
        Action::UpdateAssociation {
            association_id,
            namespace,
            service_account,
            ..
        }
        | Action::TagAssociation {
            association_id,
            namespace,
            service_account,
            ..
        }
        | Action::DeleteAssociation {
            association_id,
            namespace,
            service_account,
        } => Target::Association {
            id: association_id,
            what: format!("pod identity association {namespace}/{service_account}"),
        },
        Action::DeleteAddon { addon } => Target::Addon(addon),
        Action::DeleteOidcProvider { arn, .. } => Target::OidcProvider(arn),
        Action::DeleteObject {
            kind,
            namespace,
            name,
        }
        | Action::Apply {
            kind,
            namespace,
            name,
            ..
        } => Target::Object(kind, namespace.as_deref(), name),
        Action::UninstallKeda { namespace, .. } => Target::Keda(namespace),
        _ => return None,
    })
}

impl Target<'_> {
    fn describe(&self) -> String {
        match self {
            Target::Role(r) => format!("IAM role {r}"),
            Target::Queue { name, .. } => format!("SQS queue {name}"),
            Target::Repository(r) => format!("ECR repository {r}"),
            Target::Resource { kind, name, .. } => format!("{} {name}", kind.noun()),
            Target::Association { what, .. } => what.clone(),
            Target::Addon(a) => format!("EKS add-on {a}"),
            Target::OidcProvider(arn) => format!("IAM OIDC provider {arn}"),
            Target::Object(kind, ns, name) => describe(kind, *ns, name),
            Target::Keda(ns) => format!("KEDA in namespace {ns}"),
        }
    }

    /// The target's tags (labels, for the cluster) now, with the object itself for a cluster
    /// object (its uid and resourceVersion make the delete's preconditions); None when it no
    /// longer exists.
    async fn read(
        &self,
        aws: &Aws,
        kube: Option<&Kube>,
        cluster: &str,
    ) -> Result<Option<(Tags, Option<serde_json::Value>)>, StepError> {
        if let Target::Object(kind, ns, name) = self {
            let kube = kube.ok_or_else(no_cluster)?;
            return Ok(kube
                .get(kind, *ns, name)
                .await?
                .map(|o| (labels(&o), Some(o))));
        }
        Ok(self
            .tags(aws, kube, cluster)
            .await?
            .map(|tags| (tags, None)))
    }

    /// The target's tags now; None when it no longer exists.
    async fn tags(
        &self,
        aws: &Aws,
        kube: Option<&Kube>,
        cluster: &str,
    ) -> Result<Option<Tags>, StepError> {
        let res = self.describe();
        Ok(match self {
            Target::Role(role) => role_tags(aws, role).await?,
            Target::Queue { url, .. } => {
                match aws.sqs.list_queue_tags().queue_url(*url).send().await {
                    Ok(out) => Some(to_tags(out.tags())),
                    Err(e)
                        if error_code(&e).is_some_and(|c| {
                            matches!(
                                c,
                                "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist"
                            )
                        }) =>
                    {
                        None
                    }
                    Err(e) => return Err(CallError::new("ListQueueTags", res, &e).into()),
                }
            }
            Target::Repository(name) => repository_tags(aws, name).await?,
            Target::Resource { kind, id, .. } => crate::triggers::aws::status(aws, *kind, id)
                .await?
                .map(|live| live.tags),
            Target::Association { id, what } => association_tags(aws, cluster, id, what).await?,
            Target::Addon(addon) => {
                let r = aws
                    .eks
                    .describe_addon()
                    .cluster_name(cluster)
                    .addon_name(*addon)
                    .send()
                    .await;
                match r {
                    Ok(out) => Some(to_tags(out.addon().and_then(|a| a.tags()))),
                    Err(e) if error_code(&e) == Some("ResourceNotFoundException") => None,
                    Err(e) => return Err(CallError::new("DescribeAddon", res, &e).into()),
                }
            }
            Target::OidcProvider(arn) => {
                let r = aws
                    .iam
                    .get_open_id_connect_provider()
                    .open_id_connect_provider_arn(*arn)
                    .send()
                    .await;
                match r {
                    Ok(out) => Some(tag_map(out.tags().iter().map(|t| (t.key(), t.value())))),
                    Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
                    Err(e) => {
                        return Err(CallError::new("GetOpenIDConnectProvider", res, &e).into());
                    }
                }
            }
            Target::Object(..) => unreachable!("read() reads cluster objects itself"),
            Target::Keda(ns) => {
                let kube = kube.ok_or_else(no_cluster)?;
                let marker = kube.get("ConfigMap", Some(ns), keda::MARKER).await?;
                // The marker's data names the stack (its labels may have been edited away).
                marker.map(|m| {
                    let mut tags = labels(&m);
                    if let Some(s) = m["data"]["stack"].as_str() {
                        tags.insert(STACK.to_string(), s.to_string());
                    }
                    tags
                })
            }
        })
    }
}

fn tag_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Tags {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A role's tags; None when it does not exist.
pub(super) async fn role_tags(aws: &Aws, role: &str) -> Result<Option<Tags>, CallError> {
    match aws.iam.list_role_tags().role_name(role).send().await {
        Ok(out) => Ok(Some(tag_map(
            out.tags().iter().map(|t| (t.key(), t.value())),
        ))),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(CallError::new(
            "ListRoleTags",
            format!("IAM role {role}"),
            &e,
        )),
    }
}

/// A repository's tags; None when it does not exist.
pub(super) async fn repository_tags(aws: &Aws, name: &str) -> Result<Option<Tags>, CallError> {
    Ok(repository(aws, name).await?.map(|(_, tags)| tags))
}

/// A repository's ARN and tags; None when it does not exist.
pub(super) async fn repository(aws: &Aws, name: &str) -> Result<Option<(String, Tags)>, CallError> {
    let res = format!("ECR repository {name}");
    let found = aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await;
    let arn = match found {
        Ok(out) => out
            .repositories()
            .first()
            .and_then(|r| r.repository_arn())
            .map(str::to_string),
        Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => None,
        Err(e) => return Err(CallError::new("DescribeRepositories", res, &e)),
    };
    let Some(arn) = arn else { return Ok(None) };
    match aws
        .ecr
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
    {
        Ok(out) => Ok(Some((
            arn,
            tag_map(out.tags().iter().map(|t| (t.key(), t.value()))),
        ))),
        Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => Ok(None),
        Err(e) => Err(CallError::new("ListTagsForResource", res, &e)),
    }
}

/// An association's tags; None when it does not exist.
pub(super) async fn association_tags(
    aws: &Aws,
    cluster: &str,
    id: &str,
    what: &str,
) -> Result<Option<Tags>, CallError> {
    let r = aws
        .eks
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(id)
        .send()
        .await;
    match r {
        Ok(out) => Ok(Some(to_tags(out.association().and_then(|a| a.tags())))),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(CallError::new("DescribePodIdentityAssociation", what, &e)),
    }
}

fn labels(o: &serde_json::Value) -> Tags {
    serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default()
}

fn no_cluster() -> StepError {
    StepError::Other(
        "kedactl is not connected to the cluster (internal: cluster step without a client)".into(),
    )
}

/// Refuse the step when its target no longer belongs to `stack`, or, for a queue or repository
/// to delete, when another cluster started using it since it was read. A target that is gone
/// passes: a delete then has nothing to do, and a write fails on its own with the service's error.
/// For a cluster object, the object as read: its delete is made conditional on it.
pub(super) async fn confirm(
    aws: &Aws,
    kube: Option<&Kube>,
    cluster: &str,
    stack: &str,
    action: &Action,
) -> Result<Option<serde_json::Value>, StepError> {
    let Some(t) = target(action) else {
        return Ok(None);
    };
    let Some((tags, live)) = t.read(aws, kube, cluster).await? else {
        return Ok(None);
    };
    if !crate::model::is_owned(&tags, stack) {
        return Err(StepError::NotOwned {
            what: t.describe(),
            now: tags.get(STACK).cloned(),
            stack: stack.to_string(),
        });
    }
    let shared = matches!(
        action,
        Action::DeleteQueue { .. }
            | Action::DeleteRepository { .. }
            | Action::DeleteResource { .. }
    );
    let others = crate::model::other_clusters(&tags, cluster);
    if shared && !others.is_empty() {
        return Err(StepError::Other(format!(
            "refused: {} is now used by cluster {} too (it was tagged after this run read it), \
             so it was kept. Run the command again for a fresh plan",
            t.describe(),
            others.join(", ")
        )));
    }
    Ok(live)
}
