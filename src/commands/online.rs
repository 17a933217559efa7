//! What `plan`, `up` and `down` share: credentials → account → desired state → observation of
//! AWS and, for the keda and app groups, of the cluster.

use crate::cloud::Aws;
use crate::cluster::{self, Kube, KubeError, connect};
use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::model::{Group, Only};
use crate::observe;
use crate::observed::Caller;
use crate::plan::Observed;
use crate::render::{self, Desired};
use crate::spec::{Problem, Problems, Spec, keda_fields};
use anyhow::Context;

pub struct Online {
    pub aws: Aws,
    /// Connected when the keda or app group is in scope.
    pub kube: Option<Kube>,
    pub desired: Desired,
    pub observed: Observed,
    pub only: Only,
    /// The resolved config (its account from STS).
    pub spec: Spec,
}

impl Online {
    /// (reads, changing calls) across AWS and the cluster.
    pub fn calls(&self) -> (usize, usize) {
        let aws = self.aws.calls.all();
        let aws_mutating = aws.iter().filter(|c| c.is_mutating()).count();
        let (kr, km) = self.kube.as_ref().map_or((0, 0), Kube::calls);
        (aws.len() - aws_mutating + kr, aws_mutating + km)
    }
}

/// Which command the observation is for: only `up` changes KEDA, so only `up` is stopped by a
/// KEDA it cannot use; `plan` and `down` say so and go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Up,
    Plan,
    Down,
}

impl Purpose {
    /// A search for what the config no longer names that could not be made: nothing of it is
    /// deleted.
    fn not_looked_for(self, what: &str) -> String {
        let command = match self {
            Purpose::Up | Purpose::Plan => "up",
            Purpose::Down => "down",
        };
        format!("note: could not look for {what}; `{command}` will not delete any of them")
    }
}

pub async fn prepare(ctx: &Ctx, purpose: Purpose) -> anyhow::Result<Online> {
    let (mut spec, source) = ctx.spec_online()?;
    let only = Only::new(ctx.global.only.clone());
    let wants_cluster = only.includes(Group::Keda) || only.includes(Group::App);

    render::precheck(&spec)?;
    let aws = ctx.aws(spec.region.clone()).await?;
    resolve_issuer(&aws, &mut spec, &source).await?;
    // Who is calling and what exists are read at once: reads go by name, which needs no
    // account. The caller is judged first all the same: with no credentials, bad ones, or an
    // endpoint that does not answer, that is the error, whatever the reads said.
    let names = render::desired(&spec)?;
    // The roles' trust names the cluster: `--only iam` must not write one for a cluster that
    // is not there, so its cluster is read too (concurrently) when nothing else reads it.
    // `down` is exempt: it removes what is left of a stack whose cluster may be gone.
    let cluster_for_trust = purpose != Purpose::Down
        && only.includes(Group::Iam)
        && ![Group::Eks, Group::Keda, Group::App]
            .into_iter()
            .any(|g| only.includes(g));
    // What an earlier config named and this one does not is searched at the same time: `up`
    // and `down` delete it too (see plan::prune).
    let ((caller, observed), trust_cluster, leftovers) = tokio::join!(
        observe::caller_and_names(&aws, &names, &only),
        async {
            match cluster_for_trust {
                true => Some(observe::cluster(&aws, &names.cluster).await),
                false => None,
            }
        },
        observe::leftovers::search(&aws, &names, &only)
    );
    let caller = caller.context("cannot identify the AWS caller")?;
    check_account(&spec, &caller, &source)?;
    spec.account = Some(caller.account.clone());
    if ctx.verbose > 0 {
        ctx.note(format!(
            "caller: {} (account {})",
            caller.arn, caller.account
        ));
    }
    let mut observed = observed?;
    observed.caller = Some(caller.clone());
    if let Some(read) = trust_cluster {
        observe::keep_cluster(read?, &mut observed)?;
    }
    if ctx.verbose > 0 {
        ctx.note(format!(
            "read AWS: {} calls in {} round trips",
            aws.calls.all().len(),
            aws.calls.rounds()
        ));
    }
    check_keys(&spec, &observed, &source)?;
    // The app's role needs kms:Decrypt on its queue's key, which only the account can name.
    let desired = render::desired_with(&spec, &observed)?;
    if names.target.account.is_none() {
        observe::retired(&aws, &desired, &mut observed).await?;
    }
    let leftovers =
        observe::leftovers::aws_side(&aws, &desired, &only, leftovers, &mut observed).await;
    for what in leftovers {
        ctx.note(purpose.not_looked_for(&what));
    }
    let needs_cluster = only.includes(Group::Eks) || wants_cluster || cluster_for_trust;
    if needs_cluster
        && observed.cluster.is_none()
        && !observed
            .denied
            .iter()
            .any(|d| d.operation == "DescribeCluster")
    {
        return Err(Problems {
            origin: source,
            problems: vec![Problem::new(
                "cluster",
                format!("there is no EKS cluster {:?} in {} (account {})", desired.cluster, desired.target.region, desired.target.account_or_placeholder()),
                format!("check --cluster and --region (aws eks list-clusters --region {}); the roles' trust names the cluster, so create it before `--only iam` (or leave the cluster out with --only queue,registry)", desired.target.region),
            )],
        }
        .into());
    }
    if !observed.denied.is_empty() {
        let reads: Vec<String> = observed
            .denied
            .iter()
            .map(|d| format!("\n  - {}", d.message))
            .collect();
        anyhow::bail!(
            "AWS denied {} read{} kedactl needs to plan safely:{}\n  fix: grant these read permissions to {}, or narrow the run with --only",
            observed.denied.len(),
            if observed.denied.len() == 1 { "" } else { "s" },
            reads.concat(),
            caller.arn
        );
    }
    let kube = if wants_cluster {
        let kube = connect::connect(
            &aws,
            &desired.cluster,
            observed.cluster.as_ref(),
            &desired.target.sts_host(),
            &kube_options(ctx),
        )
        .await?;
        observe::cluster_side(&kube, &desired, &only, &mut observed)
            .await
            .map_err(|e| access_error(e, &caller, &desired))?;
        if purpose != Purpose::Down {
            for line in crate::plan::workload::report(&desired.workloads, &observed.objects) {
                ctx.note(line);
            }
        }
        let leftovers = observe::leftovers::cluster_side(&kube, &desired, &only, &mut observed);
        for what in leftovers.await {
            ctx.note(purpose.not_looked_for(&what));
        }
        for note in kube.unchecked() {
            ctx.note(format!("note: {note}"));
        }
        if let Some(k) = &observed.keda
            && let Some(note) =
                cluster::keda::version_kept(k, &desired.keda.version, &desired.stack)
        {
            ctx.note(note);
        }
        if let Err(e) = check_keda(&spec, &desired, &observed, &only, &source) {
            match purpose {
                Purpose::Up => return Err(e),
                Purpose::Plan => ctx.note(format!("note: `up` would stop here: {e:#}")),
                Purpose::Down => {}
            }
        }
        Some(kube)
    } else {
        None
    };
    Ok(Online {
        aws,
        kube,
        desired,
        observed,
        only,
        spec,
    })
}

/// IRSA: the issuer is the cluster's (DescribeCluster); a configured one must be the same.
pub(super) async fn resolve_issuer(aws: &Aws, spec: &mut Spec, source: &str) -> anyhow::Result<()> {
    use crate::spec::issuer::{self, IssuerError, Seen};
    let Some(name) = spec
        .cluster
        .clone()
        .filter(|_| spec.auth_mode == crate::spec::AuthMode::Irsa)
    else {
        return Ok(());
    };
    let described = observe::describe_cluster(aws, &name).await;
    let why: String;
    let seen = match &described {
        Ok(Some(c)) => c.oidc_issuer.as_deref().map_or(Seen::Absent, Seen::Issuer),
        Ok(None) => Seen::Absent,
        Err(e) => {
            why = format!("{e:#}");
            Seen::Unread(&why)
        }
    };
    match issuer::reconcile(spec, seen, source) {
        Ok(()) => Ok(()),
        Err(IssuerError::Missing(p)) => Err(p.into()),
        Err(e) => Err(e.into()),
    }
}

/// Every alias a queue's key is named by must exist: a grant names the key it stands for.
fn check_keys(spec: &Spec, observed: &Observed, source: &str) -> Result<(), Problems> {
    let problems: Vec<Problem> = spec
        .apps
        .iter()
        .enumerate()
        .filter_map(|(i, app)| {
            let key = render::queue_key(app, observed)?;
            observed.unknown_aliases.iter().any(|a| a == key).then(|| {
                let region = spec.region.as_deref().unwrap_or_default();
                match &app.queue.kms_key {
                    Some(_) => Problem::new(
                        format!("apps[{i}].queue.kmsKey"),
                        format!("KMS has no key with the alias {key:?} in {region}"),
                        format!("create it (aws kms create-key, then aws kms create-alias --alias-name {key} --target-key-id <key id> --region {region}), or name an existing key (aws kms list-aliases --region {region})"),
                    ),
                    None => Problem::new(
                        format!("apps[{i}].queue.name"),
                        format!("SQS queue {} is encrypted with {key:?}, an alias KMS does not know: nobody can send or receive its messages", app.queue.name),
                        format!("point the queue at a live key (set apps[{i}].queue.kmsKey, or aws sqs set-queue-attributes --attributes KmsMasterKeyId=<key>)"),
                    ),
                }
            })
        })
        .collect();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Problems {
            origin: source.to_string(),
            problems,
        }),
    }
}

/// The config's account must be the credentials' (checked before anything is read or changed).
pub(super) fn check_account(spec: &Spec, caller: &Caller, source: &str) -> Result<(), Problems> {
    match &spec.account {
        Some(given) if given != &caller.account => Err(Problems {
            origin: source.to_string(),
            problems: vec![Problem::new(
                "account",
                format!(
                    "the config names account {given}, but the credentials belong to {} ({})",
                    caller.account, caller.arn
                ),
                "use credentials for that account (--profile), or correct `account`",
            )],
        }),
        _ => Ok(()),
    }
}

pub(super) fn kube_options(ctx: &Ctx) -> connect::Options {
    connect::Options {
        kubeconfig: ctx.global.kubeconfig.clone(),
        timeouts: ctx.global.timeouts(),
        context: ctx.global.context.clone(),
    }
}

/// A cluster client for commands that only need to reach the cluster (scale, watch): the
/// cluster is described, then reached as `plan`/`up` would.
pub async fn cluster_client(
    ctx: &Ctx,
    aws: &Aws,
    spec: &crate::spec::Spec,
    source: &str,
) -> anyhow::Result<Kube> {
    Ok(cluster_client_and_version(ctx, aws, spec, source).await?.0)
}

/// A cluster client and the cluster's Kubernetes version (DescribeCluster's `version`, which
/// `scale` uses to pick the HPA's rules).
pub async fn cluster_client_and_version(
    ctx: &Ctx,
    aws: &Aws,
    spec: &crate::spec::Spec,
    source: &str,
) -> anyhow::Result<(Kube, Option<String>)> {
    let Some(name) = spec.cluster.as_deref() else {
        return Err(Problems {
            origin: source.to_string(),
            problems: vec![Problem::new(
                "cluster",
                "no cluster is named, so kedactl cannot reach it",
                "pass --cluster NAME (or set `cluster` in kedactl.yaml)",
            )],
        }
        .into());
    };
    let cluster = observe::describe_cluster(aws, name).await?;
    let region = spec.region.clone().unwrap_or_else(|| aws.region.clone());
    let target = render::aws::Target::new(&region, None);
    let kube = connect::connect(
        aws,
        name,
        cluster.as_ref(),
        &target.sts_host(),
        &kube_options(ctx),
    )
    .await?;
    Ok((kube, cluster.map(|c| c.version).filter(|v| !v.is_empty())))
}

/// KEDA must be new enough, where the config says, and present before the app's KEDA objects.
fn check_keda(
    spec: &Spec,
    desired: &Desired,
    observed: &Observed,
    only: &Only,
    source: &str,
) -> anyhow::Result<()> {
    let want = &desired.keda;
    match &observed.keda {
        Some(k) => {
            if k.namespace != want.namespace {
                return Err(Problems {
                    origin: source.to_string(),
                    problems: vec![Problem::new(
                        "keda.namespace",
                        format!(
                            "KEDA runs in namespace {:?}, but the config says {:?}: the pod identity association must name the operator's real namespace",
                            k.namespace, want.namespace
                        ),
                        format!("set keda.namespace: {}", k.namespace),
                    )],
                }
                .into());
            }
            cluster::keda::check(k, &want.version, &desired.stack).map_err(anyhow::Error::msg)?;
            // A KEDA this stack installed is upgraded to keda.version (validated offline).
            if k.installed_by.as_deref() == Some(desired.stack.as_str()) {
                return Ok(());
            }
            let problems = keda_fields::unknown_to_installed(&spec.apps, &k.version, &k.namespace);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(Problems {
                    origin: source.to_string(),
                    problems,
                }
                .into())
            }
        }
        // Installing now could put a second KEDA beside one this caller may not see.
        None if let Some(why) = &observed.keda_unknown => Err(anyhow::anyhow!(
            "could not tell whether KEDA is installed: {why}. Installing it now could put a \
             second KEDA beside one that runs elsewhere.\n  fix: grant list deployments.apps, \
             get customresourcedefinitions.apiextensions.k8s.io and get \
             apiservices.apiregistration.k8s.io cluster-wide (docs/rbac.yaml), or set \
             keda.namespace to the namespace KEDA runs in"
        )),
        None if !only.includes(Group::Keda) => Err(UsageError {
            message: "KEDA is not installed in the cluster, and --only leaves out the keda group: the app's ScaledObject needs KEDA's CRDs".into(),
            fix: "add keda to --only (kedactl installs it with helm), or install KEDA first".into(),
        }
        .into()),
        None => Ok(()),
    }
}

/// A refused cluster read, explained: who kedactl is, the causes, and how to grant it access
/// (the policy ARN in the cluster's partition).
pub(super) fn access_error(e: KubeError, caller: &Caller, desired: &Desired) -> anyhow::Error {
    let cluster = &desired.cluster;
    let principal = render::aws::principal_arn(&caller.arn);
    let policy = desired.target.cluster_admin_policy_arn();
    match e.code {
        Some(401) => anyhow::anyhow!(
            "cluster {cluster} does not accept {} (401 Unauthorized while trying to {}). Either \
             {} — check the clock, --cluster, and that the kubeconfig works with kubectl — or \
             {}.\n  fix: aws eks create-access-entry --cluster-name {cluster} --principal-arn \
             {principal}\n       aws eks associate-access-policy --cluster-name {cluster} \
             --principal-arn {principal} --policy-arn {policy} --access-scope type=cluster\n  \
             (or map {principal} in the aws-auth ConfigMap; or use a kubeconfig that works with \
             --kubeconfig/--context)",
            caller.arn,
            e.doing,
            cluster::UNAUTHORIZED_TOKEN,
            cluster::UNAUTHORIZED_PRINCIPAL,
        ),
        Some(403) => anyhow::anyhow!(
            "cluster {cluster} refused to let {} {} (403 Forbidden: {}).\n  fix: give the principal \
             rights on namespaces, deployments, pods, configmaps and keda.sh objects, e.g. \
             aws eks associate-access-policy --cluster-name {cluster} --principal-arn {principal} \
             --policy-arn {policy} --access-scope type=cluster",
            caller.arn,
            e.doing,
            e.message
        ),
        _ => anyhow::Error::new(e).context(format!("cannot read the state of cluster {cluster}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(region: &str) -> Desired {
        let spec = crate::spec::Spec {
            cluster: Some("demo".into()),
            region: Some(region.into()),
            account: Some("123456789012".into()),
            ..crate::spec::Spec::default()
        };
        render::desired(&spec).unwrap()
    }

    #[test]
    fn cluster_refusals_name_the_fix() {
        let caller = Caller {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/ci/x".into(),
        };
        let e = |code| KubeError {
            doing: "list Deployments".into(),
            code: Some(code),
            reason: "Unauthorized".into(),
            message: "Unauthorized".into(),
        };
        let text = access_error(e(401), &caller, &desired("us-east-1")).to_string();
        assert!(text.contains("create-access-entry --cluster-name demo --principal-arn arn:aws:iam::123456789012:role/ci"), "{text}");
        // Both causes of a 401: the token, and the principal's access.
        for cause in [
            "invalid or expired",
            "clock",
            "15 minutes",
            "exec plugin",
            "access entry",
        ] {
            assert!(text.contains(cause), "{cause}: {text}");
        }
        assert!(
            text.contains(
                "--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            ),
            "{text}"
        );
        let text = access_error(e(403), &caller, &desired("us-east-1")).to_string();
        assert!(
            text.contains("403 Forbidden") && text.contains("associate-access-policy"),
            "{text}"
        );
    }

    /// KEDA's presence unknown (every cluster-wide read refused) stops `up` before it installs
    /// a second KEDA, with every --only; absent is fine with keda in --only.
    #[test]
    fn keda_unknown_is_no_reason_to_install_it() {
        let spec = crate::spec::Spec::default();
        let d = desired("us-east-1");
        let mut o = Observed {
            keda_unknown: Some("the reads were all refused".into()),
            ..Observed::default()
        };
        for only in [Only::default(), Only::new(vec![Group::App])] {
            let e = check_keda(&spec, &d, &o, &only, "kedactl.yaml").unwrap_err();
            let text = format!("{e:#}");
            assert!(
                text.contains("could not tell whether KEDA is installed")
                    && text.contains("list deployments.apps"),
                "{text}"
            );
        }
        o.keda_unknown = None;
        check_keda(&spec, &d, &o, &Only::default(), "kedactl.yaml").unwrap();
    }

    #[test]
    fn the_access_policy_is_in_the_clusters_partition() {
        let caller = Caller {
            account: "123456789012".into(),
            arn: "arn:aws-cn:sts::123456789012:assumed-role/ci/x".into(),
        };
        for (region, partition) in [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")] {
            for code in [401, 403] {
                let e = KubeError {
                    doing: "list Deployments".into(),
                    code: Some(code),
                    reason: String::new(),
                    message: String::new(),
                };
                let text = access_error(e, &caller, &desired(region)).to_string();
                let want = format!(
                    "--policy-arn arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
                );
                assert!(text.contains(&want), "{region} {code}: {text}");
            }
        }
    }
}
