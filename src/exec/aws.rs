//! One AWS call (or a short sequence) per action. Deletes treat "already gone" as success, so
//! `down` is idempotent; creates retry what is only eventual consistency. Each service's steps
//! have their own file (`aws_iam`, `aws_sqs`, `aws_eks`); ECR's and the trigger resources' are
//! here, with what they share.

use super::{Options, Resolved, StepError, aws_eks, aws_iam, aws_sqs, owner};
use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observed::Tags;
use crate::plan::{Action, Service, Step};
use crate::progress::Progress;
use crate::triggers::aws as resource_calls;
use crate::triggers::resource;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What an AWS step runs with.
pub(super) struct Cx<'a> {
    pub(super) aws: &'a Aws,
    pub(super) step: &'a Step,
    pub(super) opts: &'a Options,
    pub(super) progress: &'a Progress,
}

/// Carry out one AWS step, by the service it calls.
pub(super) async fn apply(
    aws: &Aws,
    step: &Step,
    opts: &Options,
    progress: &Progress,
    resolved: &Resolved,
) -> Result<(), StepError> {
    let cx = Cx {
        aws,
        step,
        opts,
        progress,
    };
    match step.action.service() {
        Service::Iam => aws_iam::apply(&cx).await,
        Service::Sqs => aws_sqs::apply(&cx).await,
        Service::Eks => aws_eks::apply(&cx).await,
        Service::Ecr => ecr(&cx).await,
        Service::TriggerResource => trigger_resource(&cx, resolved).await,
        Service::Cluster => unreachable!("run_step sends cluster actions to exec::cluster"),
    }
}

async fn ecr(cx: &Cx<'_>) -> Result<(), StepError> {
    match &cx.step.action {
        Action::CreateRepository { repository, tags } => {
            create_repository(cx, repository, tags).await
        }
        Action::TagRepository {
            repository,
            arn,
            tags,
        } => tag_repository(cx, repository, arn, tags).await,
        Action::UntagRepository {
            repository,
            arn,
            keys,
        } => untag_repository(cx, repository, arn, keys).await,
        Action::DeleteRepository { repository, force } => {
            delete_repository(cx, repository, *force).await
        }
        _ => unreachable!("exec::aws sends only ECR actions here"),
    }
}

async fn trigger_resource(cx: &Cx<'_>, resolved: &Resolved) -> Result<(), StepError> {
    match &cx.step.action {
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
            create_resource(cx, &r, tags, resolved).await
        }
        Action::TagResource {
            resource: kind,
            arn,
            tags,
            ..
        } => Ok(resource_calls::tag(cx.aws, *kind, arn, tags).await?),
        Action::UntagResource {
            resource: kind,
            arn,
            keys,
            ..
        } => Ok(resource_calls::untag(cx.aws, *kind, arn, keys).await?),
        Action::DeleteResource {
            resource: kind,
            name,
            id,
            force,
            ..
        } => delete_resource(cx, *kind, name, id, *force).await,
        _ => unreachable!("exec::aws sends only trigger resource actions here"),
    }
}

pub(super) fn hash_map(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Does a resource found in place of one we meant to create carry this run's stack tag?
pub(super) fn same_stack(found: Option<Tags>, ours: &Tags) -> bool {
    let stack = |t: &Tags| t.get(crate::model::STACK).cloned();
    found.is_some_and(|f| stack(&f).is_some() && stack(&f) == stack(ours))
}

/// One look at something being waited for.
pub(super) enum Look {
    Done,
    /// It will not get there (a failure status, with what to do).
    Failed(String),
    /// Still on its way, in this status.
    Waiting(String),
}

/// Look until done or failed, `opts.poll` apart, for at most `limit`; `what` names it in the
/// timeout error.
pub(super) async fn wait_until<F, Fut>(
    cx: &Cx<'_>,
    what: &str,
    limit: Duration,
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
        cx.progress
            .waiting(&cx.step.id, &cx.step.summary, &format!("status {status}"));
        tokio::time::sleep(cx.opts.poll).await;
    }
}

/// Read right before the delete: data that arrived after the plan was made (or could not be
/// counted now) keeps the resource, as it would have at the plan.
pub(super) fn still_empty(what: &str, data: &crate::observed::Data) -> Result<(), StepError> {
    if data.is_empty() {
        return Ok(());
    }
    Err(StepError::Other(format!(
        "refused: {what} now holds {} (read right before the delete; the plan saw it empty), so it was kept. Run `kedactl down` again to see it, or pass --force to delete it anyway",
        data.describe()
    )))
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

/// Create the repository (scanned on push); one another run of this stack created since the
/// plan is joined instead.
async fn create_repository(cx: &Cx<'_>, repository: &str, tags: &Tags) -> Result<(), StepError> {
    let aws = cx.aws;
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
            let Some((arn, theirs)) = owner::repository(aws, repository).await.ok().flatten()
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
    Ok(())
}

async fn tag_repository(
    cx: &Cx<'_>,
    repository: &str,
    arn: &str,
    tags: &Tags,
) -> Result<(), StepError> {
    let r = cx
        .aws
        .ecr
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(ecr_tags(tags)))
        .send()
        .await;
    r.map_err(|e| CallError::new("TagResource", format!("ECR repository {repository}"), &e))?;
    Ok(())
}

async fn untag_repository(
    cx: &Cx<'_>,
    repository: &str,
    arn: &str,
    keys: &[String],
) -> Result<(), StepError> {
    let r = cx
        .aws
        .ecr
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await;
    gone_is_fine(
        r,
        &["RepositoryNotFoundException"],
        "UntagResource",
        format!("ECR repository {repository}"),
    )?;
    Ok(())
}

async fn delete_repository(cx: &Cx<'_>, repository: &str, force: bool) -> Result<(), StepError> {
    let r = cx
        .aws
        .ecr
        .delete_repository()
        .repository_name(repository)
        .force(force)
        .send()
        .await;
    gone_is_fine(
        r,
        &["RepositoryNotFoundException"],
        "DeleteRepository",
        format!("ECR repository {repository}"),
    )?;
    Ok(())
}

/// Create a trigger's resource and wait until it is usable; the steps that name it by its
/// placeholder get its id.
async fn create_resource(
    cx: &Cx<'_>,
    r: &resource::Resource,
    tags: &Tags,
    resolved: &Resolved,
) -> Result<(), StepError> {
    let live = resource_calls::create(cx.aws, r, tags).await?;
    wait_resource(cx, r, &live.id, live.status).await?;
    resolved.insert(r.placeholder(), live.id);
    Ok(())
}

/// Wait until a created trigger resource is usable (an AMP workspace: CREATING → ACTIVE).
async fn wait_resource(
    cx: &Cx<'_>,
    r: &resource::Resource,
    id: &str,
    status: String,
) -> Result<(), StepError> {
    let aws = cx.aws;
    let what = format!("{} ({id})", r.describe());
    let limit = cx.opts.addon_timeout * resource::patience(r.kind);
    // The create's own answer is the first look.
    let mut first = Some(status);
    wait_until(cx, &what, limit, || {
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

/// Delete a trigger's resource once it is settled, unless (without `force`) it holds data now.
async fn delete_resource(
    cx: &Cx<'_>,
    kind: resource::Kind,
    name: &str,
    id: &str,
    force: bool,
) -> Result<(), StepError> {
    until_settled(cx, kind, name, id).await?;
    if !force && let Some(data) = resource_calls::data(cx.aws, kind, id).await {
        still_empty(&format!("{} {name}", kind.noun()), &data)?;
    }
    Ok(resource_calls::delete(cx.aws, kind, id).await?)
}

/// Wait while a resource is still being created or updated: AMP refuses to delete a scraper,
/// Kinesis a stream, DynamoDB a table in that state. One gone meanwhile is settled.
async fn until_settled(
    cx: &Cx<'_>,
    kind: resource::Kind,
    name: &str,
    id: &str,
) -> Result<(), StepError> {
    let what = format!("{} {name} ({id})", kind.noun());
    let limit = cx.opts.addon_timeout * resource::patience(kind);
    wait_until(cx, &what, limit, || async {
        Ok(match resource_calls::status(cx.aws, kind, id).await? {
            Some(live) if resource::ready(kind, &live.status).is_none() => {
                Look::Waiting(live.status)
            }
            _ => Look::Done,
        })
    })
    .await
}
