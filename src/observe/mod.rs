//! Read-only: what exists in AWS, as an `Observed` snapshot. Independent reads run
//! concurrently. A missing resource is simply absent; a read AWS denies is kept as evidence
//! (`Observed::denied`) rather than turned into a crash; any other failure is an error.
//! `cluster` does the same for the Kubernetes side.

mod cluster;
pub mod leftovers;

pub use cluster::{cluster_side, namespace_contents, namespace_side};

pub(crate) use crate::cloud::eks::cluster;
pub(crate) use crate::cloud::read::{Read, found, read};
use crate::cloud::{Aws, CallError};
use crate::model::{Group, Only};
use crate::observed::{
    Addon, Association, Caller, Cluster, Denied, Observed, OidcProvider, Queue, Repository,
    Resource as Live, Role, Tags,
};
use crate::render::{Desired, KMS_KEY};
use crate::triggers;
use futures_util::future::try_join_all;
use serde_json::Value;
use std::collections::BTreeMap;

/// For `down`: what each trigger resource it may delete holds (a table's items, a stream's
/// records), counted concurrently. A count that fails is recorded as unknown, which `down`
/// treats as data (kept without `--force`), never as empty.
pub async fn data_side(aws: &Aws, desired: &Desired, only: &Only, o: &mut Observed) {
    if !only.includes(Group::Source) {
        return;
    }
    let counts = desired
        .resources
        .iter()
        .filter(|r| r.managed && r.kind.holds().is_some())
        .filter_map(|r| Some((r.id(), r.kind, o.resources.get(&r.id())?.id.clone())))
        .map(|(key, kind, id)| async move { (key, triggers::aws::data(aws, kind, &id).await) });
    for (key, data) in futures_util::future::join_all(counts).await {
        if let Some(d) = data {
            o.data.insert(key, d);
        }
    }
}

/// What could not be read: refusals (evidence for doctor) and other failures.
#[derive(Default)]
struct Unread {
    denied: Vec<Denied>,
    failed: Vec<CallError>,
}

impl<T> Read<T> {
    /// The value if found; a denial or a failure is recorded.
    fn keep(self, unread: &mut Unread) -> Option<T> {
        match self {
            Read::Found(v) => Some(v),
            Read::Missing => None,
            Read::Denied(d) => {
                unread.denied.push(d);
                None
            }
            Read::Failed(e) => {
                unread.failed.push(e);
                None
            }
        }
    }
}

mod oidc;
pub use crate::plan::trust::names_provider;
pub use oidc::roles_trusting;

fn no_error<E>(_: &E) -> bool {
    false
}

/// Who is calling: the account every ARN is built from.
pub async fn caller(aws: &Aws) -> Result<Caller, CallError> {
    let out = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CallError::new("GetCallerIdentity", "your AWS credentials", &e))?;
    Ok(Caller {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

/// Observe the groups in `only` for the resources `desired` names. A read that fails (other
/// than a denial, kept as evidence) fails the observation: planning does not guess.
pub async fn observe(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
    caller: Caller,
) -> Result<Observed, CallError> {
    let mut o = by_name(aws, desired, only).await?;
    o.caller = Some(caller);
    Ok(o)
}

/// Who is calling (STS) and what exists, at once: every read goes by name, which needs no
/// account. The caller's result comes first so it can be judged first.
pub async fn caller_and_names(
    aws: &Aws,
    names: &Desired,
    only: &Only,
) -> (Result<Caller, CallError>, Result<Observed, CallError>) {
    tokio::join!(caller(aws), by_name(aws, names, only))
}

/// `observe` without the caller: every read goes by name, so it can run while STS is asked
/// who the caller is (`Observed::caller` is left empty).
pub async fn by_name(aws: &Aws, desired: &Desired, only: &Only) -> Result<Observed, CallError> {
    let (o, mut failed) = observe_each(aws, desired, only, None).await;
    match failed.is_empty() {
        true => Ok(o),
        false => Err(failed.swap_remove(0)),
    }
}

/// `observe`, going on past failed reads: each is recorded in `Observed::unread`, and what
/// depends on it (an add-on and associations need their cluster) stays unknown. For doctor.
pub async fn observe_partial(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
    caller: Caller,
) -> Observed {
    let (mut o, failed) = observe_each(aws, desired, only, Some(caller)).await;
    o.unread = failed
        .iter()
        .map(|e| Denied {
            operation: e.operation.to_string(),
            resource: e.resource.clone(),
            message: e.to_string(),
        })
        .collect();
    o
}

async fn observe_each(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
    caller: Option<Caller>,
) -> (Observed, Vec<CallError>) {
    // Boxed: the five reads' state machines side by side overflowed a 2 MiB thread stack
    // (debug builds, doctor's gather).
    let ((roles, queues, repositories, eks, resources), provider) = futures_util::future::join(
        futures_util::future::join5(
            Box::pin(iam_reads(aws, desired, only)),
            Box::pin(queue_reads(aws, desired, only)),
            Box::pin(repository_reads(aws, desired, only)),
            Box::pin(eks_reads(aws, desired, only)),
            Box::pin(resource_reads(aws, desired)),
        ),
        Box::pin(provider_read(aws, desired, only)),
    )
    .await;
    // Reads record their own failures; what is left here cannot happen, but is not lost.
    let mut failed = Vec::new();
    let (roles, policies) = settled(roles, (vec![], vec![]), &mut failed);
    let queues = settled(queues, vec![], &mut failed);
    let repositories = settled(repositories, vec![], &mut failed);
    let (resources, retired) = settled(resources, (vec![], Read::Missing), &mut failed);
    let (cluster, addon, associations) =
        settled(eks, (Read::Missing, Read::Missing, vec![]), &mut failed);
    let provider = settled(provider, Read::Missing, &mut failed);
    let reads = Reads {
        roles,
        policies,
        queues,
        repositories,
        resources,
        retired,
        cluster,
        addon,
        associations,
        provider,
    };

    let mut o = Observed {
        caller,
        ..Observed::default()
    };
    let mut denied = Unread {
        failed,
        ..Unread::default()
    };
    reads.keep(desired, &mut o, &mut denied);
    if only.includes(Group::Queue) {
        kms_aliases(aws, desired, &mut o, &mut denied).await;
    }
    o.denied = denied.denied;
    (o, denied.failed)
}

/// The roles and the managed policies the config names (IAM group).
async fn iam_reads(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
) -> Result<(Vec<Read<Role>>, Vec<(String, Read<Value>)>), CallError> {
    if !only.includes(Group::Iam) {
        return Ok((vec![], vec![]));
    }
    let roles = try_join_all(desired.roles.iter().map(|r| {
        let expected: Vec<&str> = r.policies.iter().map(|p| p.name.as_str()).collect();
        async move { role(aws, &r.name, &expected).await }
    }));
    // The boundary and managed policies the config names: they must exist, and doctor
    // evaluates the boundary before it is on the roles.
    let named = configured_policies(desired);
    let policies = try_join_all(named.iter().map(|arn| async move {
        let r = managed_policy(aws, arn, "named in kedactl.yaml").await?;
        Ok::<_, CallError>((arn.clone(), r))
    }));
    futures_util::future::try_join(roles, policies).await
}

async fn queue_reads(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
) -> Result<Vec<Read<Queue>>, CallError> {
    if !only.includes(Group::Queue) {
        return Ok(vec![]);
    }
    try_join_all(desired.queues.iter().map(|q| {
        let known = !q.url.contains(crate::render::aws::UNKNOWN_ACCOUNT);
        queue(aws, &q.name, known.then_some(q.url.as_str()))
    }))
    .await
}

async fn repository_reads(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
) -> Result<Vec<Read<(Repository, Vec<String>)>>, CallError> {
    if !only.includes(Group::Registry) {
        return Ok(vec![]);
    }
    try_join_all(
        desired
            .repositories
            .iter()
            .map(|r| repository(aws, &r.name)),
    )
    .await
}

/// The trigger resources, whatever the groups: the policies and manifests of the other groups
/// name their ids. With them, the retired ones.
async fn resource_reads(
    aws: &Aws,
    desired: &Desired,
) -> Result<(Vec<Read<Live>>, Read<Vec<(String, Live)>>), CallError> {
    futures_util::future::try_join(
        try_join_all(
            desired
                .resources
                .iter()
                .map(|r| triggers::aws::observe(aws, r, &desired.stack)),
        ),
        retired_of(aws, desired),
    )
    .await
}

/// The cluster, then its add-on and associations.
async fn eks_reads(aws: &Aws, desired: &Desired, only: &Only) -> Result<EksReads, CallError> {
    // keda and app need the cluster's endpoint to connect; an AMP scraper's plan, its
    // access mode.
    let source =
        only.includes(Group::Source) && desired.resources.iter().any(|r| r.kind.reads_cluster());
    if !source
        && ![Group::Eks, Group::Keda, Group::App]
            .into_iter()
            .any(|g| only.includes(g))
    {
        return Ok((Read::Missing, Read::Missing, vec![]));
    }
    // The add-on and associations live in the cluster: without it there is nothing to read.
    let cluster = cluster(aws, &desired.cluster).await?;
    if !matches!(cluster, Read::Found(_)) || !only.includes(Group::Eks) {
        return Ok((cluster, Read::Missing, vec![]));
    }
    let addon = async {
        match &desired.addon {
            Some(a) => addon(aws, &desired.cluster, a).await,
            None => Ok(Read::Missing),
        }
    };
    let associations = try_join_all(
        desired
            .associations
            .iter()
            .chain(&desired.retired_associations)
            .map(|a| associations(aws, &desired.cluster, &a.namespace, &a.service_account)),
    );
    let (addon, associations) = futures_util::future::try_join(addon, associations).await?;
    Ok((cluster, addon, associations))
}

/// IRSA: the provider every trust names (an IAM resource, so with the roles).
async fn provider_read(
    aws: &Aws,
    desired: &Desired,
    only: &Only,
) -> Result<Read<OidcProvider>, CallError> {
    match &desired.oidc_provider {
        Some(p) if only.includes(Group::Iam) => oidc::provider(aws, &p.host).await,
        _ => Ok(Read::Missing),
    }
}

/// The cluster, its add-on, and the associations of each service account.
type EksReads = (Read<Cluster>, Read<Addon>, Vec<Read<Vec<Association>>>);

/// What `observe_each` read, each part settled.
struct Reads {
    roles: Vec<Read<Role>>,
    policies: Vec<(String, Read<Value>)>,
    queues: Vec<Read<Queue>>,
    repositories: Vec<Read<(Repository, Vec<String>)>>,
    resources: Vec<Read<Live>>,
    retired: Read<Vec<(String, Live)>>,
    cluster: Read<Cluster>,
    addon: Read<Addon>,
    associations: Vec<Read<Vec<Association>>>,
    provider: Read<OidcProvider>,
}

impl Reads {
    /// Into the observation, by the names `desired` gave the reads; refusals and failures go
    /// to `denied`.
    fn keep(self, desired: &Desired, o: &mut Observed, denied: &mut Unread) {
        for (name, r) in desired.roles.iter().map(|r| &r.name).zip(self.roles) {
            if let Some(role) = r.keep(denied) {
                o.roles.insert(name.clone(), role);
            }
        }
        for (arn, p) in self.policies {
            match p {
                Read::Missing => {
                    o.policies.insert(arn, None);
                }
                p => {
                    if let Some(doc) = p.keep(denied) {
                        o.policies.insert(arn, Some(doc));
                    }
                }
            }
        }
        for (name, q) in desired.queues.iter().map(|q| &q.name).zip(self.queues) {
            if let Some(queue) = q.keep(denied) {
                o.queues.insert(name.clone(), queue);
            }
        }
        for (name, r) in desired
            .repositories
            .iter()
            .map(|r| &r.name)
            .zip(self.repositories)
        {
            if let Some((repo, tags)) = r.keep(denied) {
                o.repositories.insert(name.clone(), repo);
                o.image_tags.insert(name.clone(), tags);
            }
        }
        for (r, live) in desired.resources.iter().zip(self.resources) {
            if let Some(live) = live.keep(denied) {
                o.resources.insert(r.id(), live);
            }
        }
        keep_retired(o, self.retired, denied);
        o.cluster = self.cluster.keep(denied);
        o.oidc_provider = self.provider.keep(denied);
        o.addon = self.addon.keep(denied);
        for a in self.associations {
            o.associations.extend(a.keep(denied).into_iter().flatten());
        }
    }
}

/// A cluster read on its own (`plan`/`up --only iam`) into an observation: a refusal is
/// recorded like any other read's.
pub(crate) fn keep_cluster(read: Read<Cluster>, o: &mut Observed) -> Result<(), CallError> {
    let mut unread = Unread::default();
    if let Some(c) = read.keep(&mut unread) {
        o.cluster = Some(c);
    }
    o.denied.extend(unread.denied);
    match unread.failed.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The retired resources of the cluster: listed by its ARN, so not before the account is known
/// (a filter on `…:<account>:cluster/…` matches nothing); `retired` reads them then.
async fn retired_of(aws: &Aws, desired: &Desired) -> Result<Read<Vec<(String, Live)>>, CallError> {
    match desired.target.account {
        Some(_) => triggers::aws::retired(aws, desired).await,
        None => Ok(Read::Missing),
    }
}

fn keep_retired(o: &mut Observed, retired: Read<Vec<(String, Live)>>, unread: &mut Unread) {
    for (id, live) in retired.keep(unread).unwrap_or_default() {
        o.resources.entry(id).or_insert(live);
    }
}

/// Read the retired resources into an observation made by name before the account was known
/// (`by_name`), now that `desired` has it.
pub async fn retired(aws: &Aws, desired: &Desired, o: &mut Observed) -> Result<(), CallError> {
    let mut unread = Unread::default();
    keep_retired(o, retired_of(aws, desired).await?, &mut unread);
    o.denied.extend(unread.denied);
    match unread.failed.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Resolve each alias a queue is (or is to be) encrypted with to its key ARN: a grant must
/// name the key. Key IDs and ARNs need no call; neither does the SQS-managed key.
async fn kms_aliases(aws: &Aws, desired: &Desired, o: &mut Observed, unread: &mut Unread) {
    use crate::spec::names::KmsKey;
    let mut aliases: Vec<String> = Vec::new();
    let configured = desired.queues.iter().map(|q| q.attributes.get(KMS_KEY));
    let live = o.queues.values().map(|q| q.attributes.get(KMS_KEY));
    for key in configured.chain(live).flatten() {
        if let Some(KmsKey::Alias(a)) = KmsKey::parse(key)
            && !aliases.iter().any(|x| x == a)
        {
            aliases.push(a.to_string());
        }
    }
    let described = futures_util::future::join_all(aliases.iter().map(|alias| async move {
        let got = aws.kms.describe_key().key_id(alias).send().await;
        read(got, "DescribeKey", &format!("KMS key {alias}"), |e| {
            e.is_not_found_exception()
        })
    }))
    .await;
    for (alias, r) in aliases.into_iter().zip(described) {
        match r {
            Ok(Read::Found(out)) => match out.key_metadata().and_then(|m| m.arn()) {
                Some(arn) => {
                    o.kms_aliases.insert(alias, arn.to_string());
                }
                None => o.unknown_aliases.push(alias),
            },
            Ok(Read::Missing) => o.unknown_aliases.push(alias),
            Ok(Read::Denied(d)) => unread.denied.push(d),
            Ok(Read::Failed(e)) | Err(e) => unread.failed.push(e),
        }
    }
}

/// The value, or `none` with the error recorded.
fn settled<T>(r: Result<T, CallError>, none: T, failed: &mut Vec<CallError>) -> T {
    r.unwrap_or_else(|e| {
        failed.push(e);
        none
    })
}

/// IAM returns policy documents URL-encoded (RFC 3986); decode before parsing.
pub fn decode_policy(text: &str) -> Value {
    let decoded = percent_decode(text);
    serde_json::from_str(&decoded)
        .or_else(|_| serde_json::from_str(text))
        .unwrap_or(Value::String(decoded))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One role: GetRole, its three lists and the inline policies the config expects, all at once
/// (one round trip); inline policies it does not expect are read in a second wave, only when
/// the list names some.
async fn role(aws: &Aws, name: &str, expected: &[&str]) -> Result<Read<Role>, CallError> {
    let resource = format!("IAM role {name}");
    let get_policy = |p: String| async move {
        let got = aws
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&p)
            .send()
            .await;
        let doc = read(
            got,
            "GetRolePolicy",
            &format!("inline policy {p} of IAM role {name}"),
            |e| e.is_no_such_entity_exception(),
        )?;
        Ok::<_, CallError>((p, doc))
    };
    let get = aws.iam.get_role().role_name(name).send();
    let names = aws.iam.list_role_policies().role_name(name).send();
    let attached = aws.iam.list_attached_role_policies().role_name(name).send();
    let tags = aws.iam.list_role_tags().role_name(name).send();
    let wanted = try_join_all(expected.iter().map(|p| get_policy(p.to_string())));
    let (get, names, attached, tags, wanted) = tokio::join!(get, names, attached, tags, wanted);
    let out = found!(read(get, "GetRole", &resource, |e| e
        .is_no_such_entity_exception()));
    let Some(r) = out.role() else {
        return Ok(Read::Missing);
    };
    // A role that vanished between the reads reads as missing, as GetRole would say.
    let gone = |e: &aws_sdk_iam::operation::list_role_policies::ListRolePoliciesError| {
        e.is_no_such_entity_exception()
    };
    let names = found!(read(names, "ListRolePolicies", &resource, gone));
    let attached = found!(read(attached, "ListAttachedRolePolicies", &resource, |e| e
        .is_no_such_entity_exception()));
    let tags = found!(read(tags, "ListRoleTags", &resource, |e| e
        .is_no_such_entity_exception()));
    let extra: Vec<String> = names
        .policy_names()
        .iter()
        .filter(|p| !expected.contains(&p.as_str()))
        .cloned()
        .collect();
    let extra = try_join_all(extra.into_iter().map(get_policy)).await?;
    let mut inline = BTreeMap::new();
    for (p, doc) in wanted?.into_iter().chain(extra) {
        // An expected policy the list does not name is absent, whatever its read said.
        if !names.policy_names().contains(&p) {
            continue;
        }
        match doc {
            Read::Found(d) => {
                inline.insert(p, decode_policy(d.policy_document()));
            }
            Read::Missing => {}
            Read::Denied(d) => return Ok(Read::Denied(d)),
            Read::Failed(e) => return Ok(Read::Failed(e)),
        }
    }
    let attached: Vec<String> = attached
        .attached_policies()
        .iter()
        .filter_map(|a| a.policy_arn().map(str::to_string))
        .collect();
    let boundary = r
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string);
    // Managed policies and the boundary decide too: read each one's default version.
    let of_role = format!("of IAM role {name}");
    let managed = try_join_all(
        attached
            .iter()
            .chain(&boundary)
            .map(|arn| managed_policy(aws, arn, &of_role)),
    )
    .await?;
    let mut documents = BTreeMap::new();
    for (arn, doc) in attached.iter().chain(&boundary).zip(managed) {
        match doc {
            Read::Found(d) => {
                documents.insert(arn.clone(), d);
            }
            Read::Missing => {}
            Read::Denied(d) => return Ok(Read::Denied(d)),
            Read::Failed(e) => return Ok(Read::Failed(e)),
        }
    }
    Ok(Read::Found(Role {
        arn: r.arn().to_string(),
        trust: decode_policy(r.assume_role_policy_document().unwrap_or("{}")),
        inline,
        attached,
        managed: documents,
        boundary,
        path: Some(r.path().to_string()).filter(|p| !p.is_empty()),
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    }))
}

/// The boundary and managed policies the desired roles name, each once.
fn configured_policies(desired: &Desired) -> Vec<String> {
    let mut arns: Vec<String> = desired
        .roles
        .iter()
        .flat_map(|r| r.boundary.iter().chain(&r.managed_policies))
        .cloned()
        .collect();
    arns.sort();
    arns.dedup();
    arns
}

/// A managed policy's default version (GetPolicy, then GetPolicyVersion); `what` says where it
/// is used (`of IAM role keda-identity`).
async fn managed_policy(aws: &Aws, arn: &str, what: &str) -> Result<Read<Value>, CallError> {
    let resource = format!("managed policy {arn} {what}");
    let got = aws.iam.get_policy().policy_arn(arn).send().await;
    let policy = found!(read(got, "GetPolicy", &resource, |e| e
        .is_no_such_entity_exception()));
    let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
        return Ok(Read::Missing);
    };
    let got = aws
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await;
    let v = found!(read(got, "GetPolicyVersion", &resource, |e| e
        .is_no_such_entity_exception()));
    Ok(match v.policy_version().and_then(|v| v.document()) {
        Some(doc) => Read::Found(decode_policy(doc)),
        None => Read::Missing,
    })
}

/// One queue. With the account known its URL is derived (as KEDA is given it) and the first
/// read confirms it, so attributes and tags come in one round trip; otherwise GetQueueUrl first.
async fn queue(aws: &Aws, name: &str, derived: Option<&str>) -> Result<Read<Queue>, CallError> {
    let resource = format!("SQS queue {name}");
    let url = match derived {
        Some(url) => url.to_string(),
        None => {
            let got = aws.sqs.get_queue_url().queue_name(name).send().await;
            let out = found!(read(got, "GetQueueUrl", &resource, |e| e
                .is_queue_does_not_exist()));
            out.queue_url().unwrap_or_default().to_string()
        }
    };
    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send();
    let tags = aws.sqs.list_queue_tags().queue_url(&url).send();
    let (attributes, tags) = tokio::join!(attributes, tags);
    let attributes = found!(read(attributes, "GetQueueAttributes", &resource, |e| e
        .is_queue_does_not_exist()));
    let tags = found!(read(tags, "ListQueueTags", &resource, |e| e
        .is_queue_does_not_exist()));
    Ok(Read::Found(Queue {
        url,
        attributes: attributes
            .attributes()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
            .collect(),
        tags: tags
            .tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }))
}

async fn repository(aws: &Aws, name: &str) -> Result<Read<(Repository, Vec<String>)>, CallError> {
    let resource = format!("ECR repository {name}");
    // ListImages goes by name, so it runs beside DescribeRepositories; the tags need the ARN.
    let got = aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send();
    let images = aws
        .ecr
        .list_images()
        .repository_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>();
    let (got, images) = tokio::join!(got, images);
    let out = found!(read(got, "DescribeRepositories", &resource, |e| e
        .is_repository_not_found_exception()));
    let Some(arn) = out.repositories().first().and_then(|r| r.repository_arn()) else {
        return Ok(Read::Missing);
    };
    let tags = aws
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    let tags = found!(read(tags, "ListTagsForResource", &resource, no_error));
    let mut count = 0;
    let mut image_tags = Vec::new();
    for image in images {
        let image = found!(read(image, "ListImages", &resource, |e| e
            .is_repository_not_found_exception()));
        image_tags.extend(image.image_tag().map(str::to_string));
        count += 1;
    }
    let repo = Repository {
        arn: arn.to_string(),
        images: count,
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    };
    Ok(Read::Found((repo, image_tags)))
}

/// DescribeCluster alone (for commands that only need to connect): None when it does not exist.
pub async fn describe_cluster(aws: &Aws, name: &str) -> anyhow::Result<Option<Cluster>> {
    Ok(match cluster(aws, name).await? {
        Read::Found(c) => Some(c),
        Read::Missing => None,
        Read::Denied(d) => anyhow::bail!("{}", d.message),
        Read::Failed(e) => return Err(e.into()),
    })
}

/// One IAM role as `observe` reads it (policies, managed documents, boundary), for doctor's
/// extra reads; None when it does not exist, Err with the refusal or failure in words.
pub async fn one_role(aws: &Aws, name: &str) -> Result<Option<Role>, String> {
    match role(aws, name, &[]).await {
        Ok(Read::Found(r)) => Ok(Some(r)),
        Ok(Read::Missing) => Ok(None),
        Ok(Read::Denied(d)) => Err(d.message),
        Ok(Read::Failed(e)) | Err(e) => Err(e.to_string()),
    }
}

async fn addon(aws: &Aws, cluster: &str, name: &str) -> Result<Read<Addon>, CallError> {
    let resource = format!("EKS add-on {name}");
    let got = aws
        .eks
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await;
    let out = found!(read(got, "DescribeAddon", &resource, |e| e
        .is_resource_not_found_exception()));
    let Some(a) = out.addon() else {
        return Ok(Read::Missing);
    };
    Ok(Read::Found(Addon {
        status: a
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        issues: addon_issues(a, "issue"),
        tags: to_tags(a.tags()),
    }))
}

/// An add-on's health issues as `code: message`, `no_code` standing for a missing code.
pub(crate) fn addon_issues(a: &aws_sdk_eks::types::Addon, no_code: &str) -> Vec<String> {
    a.health()
        .map(|h| h.issues())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i.code().map_or(no_code, |c| c.as_str()),
                i.message().unwrap_or_default()
            )
        })
        .collect()
}

/// AWS's tag map (SQS, EKS) as kedactl's `Tags`.
pub(crate) fn to_tags(tags: Option<&std::collections::HashMap<String, String>>) -> Tags {
    tags.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn associations(
    aws: &Aws,
    cluster: &str,
    namespace: &str,
    sa: &str,
) -> Result<Read<Vec<Association>>, CallError> {
    let resource = format!("pod identity associations of {namespace}/{sa}");
    let got = aws
        .eks
        .list_pod_identity_associations()
        .cluster_name(cluster)
        .namespace(namespace)
        .service_account(sa)
        .send()
        .await;
    let list = found!(read(got, "ListPodIdentityAssociations", &resource, |e| e
        .is_resource_not_found_exception()));
    let described = try_join_all(
        list.associations()
            .iter()
            .filter_map(|s| s.association_id())
            .map(|id| async move {
                let got = aws
                    .eks
                    .describe_pod_identity_association()
                    .cluster_name(cluster)
                    .association_id(id)
                    .send()
                    .await;
                read(
                    got,
                    "DescribePodIdentityAssociation",
                    &format!("pod identity association {id}"),
                    |e| e.is_resource_not_found_exception(),
                )
            }),
    )
    .await?;
    let mut out = Vec::new();
    for d in described {
        let d = found!(Ok::<_, CallError>(d));
        out.extend(d.association().map(association));
    }
    Ok(Read::Found(out))
}

pub(crate) fn association(a: &aws_sdk_eks::types::PodIdentityAssociation) -> Association {
    Association {
        id: a.association_id().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        service_account: a.service_account().unwrap_or_default().to_string(),
        role_arn: a.role_arn().unwrap_or_default().to_string(),
        tags: to_tags(a.tags()),
        modified_at: a
            .modified_at()
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        session_tags_disabled: a.disable_session_tags().unwrap_or(false),
        target_role_arn: a.target_role_arn().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_policy(encoded),
            serde_json::json!({"Version": "2012-10-17", "Statement": []})
        );
        assert_eq!(
            decode_policy(r#"{"a":"100%"}"#),
            serde_json::json!({"a": "100%"})
        );
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
