//! What this stack made that the config no longer names (an app removed, a queue renamed),
//! found by its tags and labels: its queues and repositories tagged with the stack and with
//! this cluster's key, and its Kubernetes objects labelled with the stack. They join the
//! observation beside the configured ones; `plan::prune` turns them into deletions.
//!
//! A listing that fails is not fatal (nothing is deleted that was not seen): it comes back as
//! a sentence for the user, "could not look for …".

use super::{Read, queue, repository};
use crate::cloud::{Aws, CallError};
use crate::cluster::Kube;
use crate::model::{self, Group, Only};
use crate::observed::Observed;
use crate::plan::prune::{APP_KINDS, Named, ours_here, retired_object};
use crate::render::Desired;
use futures_util::{StreamExt, stream};

/// Concurrent reads of what the searches found (each found queue, repository, association).
const CONCURRENT_READS: usize = 8;

/// What the AWS searches found, before they join the observation: they need only the config's
/// names, so they run beside `observe`'s reads instead of after them.
#[derive(Debug)]
pub struct Search {
    queues_and_repositories: Result<Leftovers, CallError>,
    associations: Result<Vec<crate::observed::Association>, CallError>,
}

/// Search this stack's queues, repositories and pod identity associations the config no longer
/// names, for the groups in `only` (`desired` may still lack the account).
pub async fn search(aws: &Aws, desired: &Desired, only: &Only) -> Search {
    let associations = async {
        match only.includes(Group::Eks) {
            true => associations(aws, desired).await,
            false => Ok(vec![]),
        }
    };
    let (queues_and_repositories, associations) =
        tokio::join!(queues_and_repositories(aws, desired, only), associations);
    Search {
        queues_and_repositories,
        associations,
    }
}

/// Add what `found` found to `o`, and the identity roles only those retired apps used (which
/// need the observed operator policy); returns what could not be looked at.
pub async fn aws_side(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
    found: Search,
    o: &mut Observed,
) -> Vec<String> {
    let mut unchecked = Vec::new();
    match found.queues_and_repositories {
        Ok((queues, repositories)) => {
            for (name, q) in queues {
                o.queues.entry(name).or_insert(q);
            }
            for (name, r) in repositories {
                o.repositories.entry(name).or_insert(r);
            }
        }
        Err(e) => unchecked.push(format!("the stack's SQS queues and ECR repositories: {e}")),
    }
    match found.associations {
        Ok(found) => o.associations.extend(found),
        Err(e) => unchecked.push(format!("the stack's pod identity associations: {e}")),
    }
    if only.includes(Group::Iam) {
        match roles(aws, desired, o).await {
            Ok(found) => {
                for (name, r) in found {
                    o.roles.entry(name).or_insert(r);
                }
            }
            Err(e) => unchecked.push(format!("the stack's identity roles: {e}")),
        }
    }
    unchecked
}

/// The identity roles the stack's apps used that the config no longer names: those the
/// operator role may still assume (its kedactl policy lists them) and those a retired
/// association names; read, and kept when this stack's.
async fn roles(
    aws: &Aws,
    desired: &Desired,
    o: &Observed,
) -> Result<Vec<(String, crate::observed::Role)>, CallError> {
    let operator = desired
        .roles
        .iter()
        .find(|r| r.purpose == crate::render::RolePurpose::Operator);
    let assumed = operator
        .and_then(|r| o.roles.get(&r.name))
        .and_then(|r| r.inline.get(crate::render::OPERATOR_POLICY))
        .map(resources)
        .unwrap_or_default();
    let mut names: Vec<String> = assumed
        .into_iter()
        .chain(o.associations.iter().map(|a| a.role_arn.clone()))
        .filter(|arn| !desired.roles.iter().any(|r| &r.arn == arn))
        .filter_map(|arn| Some(arn.rsplit_once(":role/")?.1.rsplit('/').next()?.to_string()))
        .filter(|name| !name.is_empty() && !name.contains('*'))
        .collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        if let Some(r) = settled(super::role(aws, &name, &[]).await)?
            && model::is_owned(&r.tags, &desired.stack)
        {
            out.push((name, r));
        }
    }
    Ok(out)
}

/// Every Resource a policy document's statements name.
fn resources(doc: &serde_json::Value) -> Vec<String> {
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    statements
        .iter()
        .flat_map(|s| match &s["Resource"] {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect(),
            serde_json::Value::String(r) => vec![r.clone()],
            _ => vec![],
        })
        .collect()
}

/// The cluster's pod identity associations of this stack for service accounts the config no
/// longer names (read and described: the list carries no tags).
async fn associations(
    aws: &Aws,
    desired: &Desired,
) -> Result<Vec<crate::observed::Association>, CallError> {
    let cluster = &desired.cluster;
    let mut pages = aws
        .eks
        .list_pod_identity_associations()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    let named = |ns: &str, sa: &str| {
        desired
            .associations
            .iter()
            .chain(&desired.retired_associations)
            .any(|a| a.namespace == ns && a.service_account == sa)
    };
    while let Some(page) = pages.next().await {
        let resource = format!("the pod identity associations of EKS cluster {cluster}");
        let page = match page {
            Ok(page) => page,
            // No cluster, no associations (`up` stops on the missing cluster on its own).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(vec![]);
            }
            Err(e) => return Err(CallError::new("ListPodIdentityAssociations", resource, &e)),
        };
        for a in page.associations() {
            let (ns, sa) = (
                a.namespace().unwrap_or_default(),
                a.service_account().unwrap_or_default(),
            );
            if !named(ns, sa) {
                ids.extend(a.association_id().map(str::to_string));
            }
        }
    }
    let mut out = each(ids.into_iter().map(|id| async move {
        let got = aws
            .eks
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(&id)
            .send()
            .await;
        let resource = format!("pod identity association {id}");
        let read = super::read(got, "DescribePodIdentityAssociation", &resource, |e| {
            e.is_resource_not_found_exception()
        });
        Ok::<_, CallError>(
            settled(read)?
                .and_then(|d| d.association().map(super::association))
                .filter(|a| model::is_owned(&a.tags, &desired.stack)),
        )
    }))
    .await?;
    out.sort_by(|a, b| (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account)));
    Ok(out)
}

/// Run `reads` a few at a time: what they found, or the first error.
async fn each<T, F>(reads: impl Iterator<Item = F>) -> Result<Vec<T>, CallError>
where
    F: std::future::Future<Output = Result<Option<T>, CallError>>,
{
    let done: Vec<_> = stream::iter(reads)
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    let mut out = Vec::new();
    for r in done {
        out.extend(r?);
    }
    Ok(out)
}

/// A read that found nothing, was refused or failed, as one error (listing is all or nothing).
fn settled<T>(read: Result<Read<T>, CallError>) -> Result<Option<T>, CallError> {
    match read? {
        Read::Found(v) => Ok(Some(v)),
        Read::Missing => Ok(None),
        Read::Denied(d) => Err(CallError::local("a read", d.resource, d.message)),
        Read::Failed(e) => Err(e),
    }
}

/// What a tag search found: a queue or a repository, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tagged {
    Queue(String),
    Repository(String),
}

/// The queue or repository an ARN names (SQS: `…:<name>`, ECR: `…:repository/<name>`, where a
/// repository's name may hold slashes).
fn tagged_of(arn: &str) -> Option<Tagged> {
    let mut parts = arn.splitn(6, ':');
    let (service, resource) = (parts.nth(2)?, parts.nth(2)?);
    match service {
        "sqs" if !resource.is_empty() => Some(Tagged::Queue(resource.to_string())),
        "ecr" => Some(Tagged::Repository(
            resource.strip_prefix("repository/")?.to_string(),
        )),
        _ => None,
    }
}

/// The stack's queues and repositories that carry this cluster's key, by one paginated tag
/// search (Resource Groups Tagging API) rather than a listing of the region, which may hold
/// thousands of others' queues, each with its own tag read.
async fn tagged(aws: &Aws, desired: &Desired, only: &Only) -> Result<Vec<Tagged>, CallError> {
    let mut types = Vec::new();
    if only.includes(Group::Queue) {
        types.push("sqs");
    }
    if only.includes(Group::Registry) {
        types.push("ecr:repository");
    }
    if types.is_empty() {
        return Ok(vec![]);
    }
    let filter = |key: String, value: Option<&str>| {
        aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(key)
            .set_values(value.map(|v| vec![v.to_string()]))
            .build()
    };
    let mut pages = aws
        .tagging
        .get_resources()
        .tag_filters(filter(model::STACK.to_string(), Some(&desired.stack)))
        .tag_filters(filter(model::cluster_tag(&desired.cluster), None))
        .set_resource_type_filters(Some(types.iter().map(|t| t.to_string()).collect()))
        .resources_per_page(100)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            CallError::new("GetResources", "the resources tagged with this stack", &e)
        })?;
        for m in page.resource_tag_mapping_list() {
            out.extend(m.resource_arn().and_then(tagged_of));
        }
    }
    Ok(out)
}

/// This stack's queues and repositories (with this cluster's key) the config no longer names,
/// each read as `observe` reads a named one (a tag search may lag: one gone since is skipped).
async fn queues_and_repositories(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
) -> Result<Leftovers, CallError> {
    let found = tagged(aws, desired, only).await?;
    let queues = found.iter().filter_map(|t| match t {
        Tagged::Queue(n) if !desired.queues.iter().any(|q| &q.name == n) => Some(n.clone()),
        _ => None,
    });
    let repositories = found.iter().filter_map(|t| match t {
        Tagged::Repository(n) if !desired.repositories.iter().any(|r| &r.name == n) => {
            Some(n.clone())
        }
        _ => None,
    });
    let (queues, repositories) = tokio::join!(
        each(queues.map(|name| async move {
            let q = settled(queue(aws, &name, None).await)?;
            Ok(q.filter(|q| ours_here(&q.tags, desired)).map(|q| (name, q)))
        })),
        each(repositories.map(|name| async move {
            let r = settled(repository(aws, &name).await)?;
            Ok(r.filter(|(r, _)| ours_here(&r.tags, desired))
                .map(|(r, _)| (name, r)))
        })),
    );
    let (mut queues, mut repositories) = (queues?, repositories?);
    queues.sort_by(|a, b| a.0.cmp(&b.0));
    repositories.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((queues, repositories))
}

type Leftovers = (
    Vec<(String, crate::observed::Queue)>,
    Vec<(String, crate::observed::Repository)>,
);

/// Add the stack's app objects the config no longer names to `o.objects` (app group only), and
/// what each such Namespace holds besides them; returns what could not be looked at.
pub async fn cluster_side(
    kube: &Kube,
    desired: &Desired,
    only: &Only,
    o: &mut Observed,
) -> Vec<String> {
    if !only.includes(Group::App) {
        return vec![];
    }
    let selector = format!("{}={}", model::STACK, desired.stack);
    let lists = futures_util::future::join_all(
        APP_KINDS
            .iter()
            .map(|kind| async { (*kind, kube.list(kind, None, Some(&selector)).await) }),
    )
    .await;
    let mut unchecked = Vec::new();
    let mut namespaces = Vec::new();
    let named = Named::of(desired);
    for (kind, listed) in lists {
        let items = match listed {
            Ok(items) => items,
            // No KEDA (its kinds unknown to the server): nothing of that kind to prune.
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                unchecked.push(format!("the stack's {kind}s: {e}"));
                continue;
            }
        };
        for mut item in items {
            let ns = item["metadata"]["namespace"].as_str().map(str::to_string);
            let name = item["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if o.object(kind, ns.as_deref(), &name).is_some()
                || !retired_object(desired, &named, kind, ns.as_deref(), &name)
            {
                continue;
            }
            // A list's items carry no kind: the plan reads it.
            item["kind"] = kind.into();
            if kind == "Namespace" {
                namespaces.push(name);
            }
            o.objects.push(item);
        }
    }
    for ns in namespaces {
        let c = super::namespace_contents(kube, desired, &ns).await;
        super::cluster::record(o, ns, c);
    }
    unchecked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_search_s_arns_name_queues_and_repositories() {
        let of = |arn: &str| tagged_of(arn);
        assert_eq!(
            of("arn:aws:sqs:eu-west-1:111122223333:orders-dlq"),
            Some(Tagged::Queue("orders-dlq".into()))
        );
        assert_eq!(
            of("arn:aws-cn:ecr:cn-north-1:111122223333:repository/team/worker"),
            Some(Tagged::Repository("team/worker".into()))
        );
        // Neither a queue nor a repository (the search is filtered to both, but may grow).
        assert_eq!(of("arn:aws:ecr:eu-west-1:111122223333:registry"), None);
        assert_eq!(of("arn:aws:sns:eu-west-1:111122223333:topic"), None);
        assert_eq!(of("arn:aws:sqs:eu-west-1:111122223333:"), None);
        assert_eq!(of("not an arn"), None);
    }
}
