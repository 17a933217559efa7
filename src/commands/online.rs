//! What `plan`, `up` and `down` share: credentials → account → desired state → observation.

use crate::cloud::Aws;
use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::model::{Group, Only};
use crate::observe;
use crate::plan::Observed;
use crate::render::{self, Desired};
use crate::spec::{Problem, Problems};
use anyhow::Context;

/// The groups this version changes in AWS; keda and app need cluster access.
pub const AWS_GROUPS: [Group; 4] = [Group::Iam, Group::Queue, Group::Registry, Group::Eks];

pub struct Online {
    pub aws: Aws,
    pub desired: Desired,
    pub observed: Observed,
    /// The AWS groups in scope (--only, intersected with what this version can apply).
    pub only: Only,
    /// Whether the user asked for the cluster groups too (all groups, or --only keda/app).
    pub wants_cluster: bool,
}

pub async fn prepare(ctx: &Ctx) -> anyhow::Result<Online> {
    let (mut spec, source) = ctx.spec()?;
    let requested = &ctx.global.only;
    let wants_cluster = requested.is_empty() || requested.iter().any(|g| !AWS_GROUPS.contains(g));
    let groups: Vec<Group> = AWS_GROUPS
        .into_iter()
        .filter(|g| requested.is_empty() || requested.contains(g))
        .collect();
    if groups.is_empty() {
        return Err(UsageError {
            message: "--only names only cluster groups (keda, app), which this version does not apply".into(),
            fix: "apply the app with `kedactl render --only app | kubectl apply -f -`, or use --only iam,queue,registry,eks".into(),
        }
        .into());
    }
    let only = Only::new(groups);

    let aws = ctx.aws(spec.region.clone()).await;
    let caller = observe::caller(&aws).await.context(
        "cannot identify the AWS caller: configure credentials (aws configure, AWS_PROFILE or --profile, or the instance/role credentials of this machine)",
    )?;
    if let Some(given) = &spec.account
        && given != &caller.account
    {
        return Err(Problems {
            origin: source,
            problems: vec![Problem::new(
                "account",
                format!(
                    "the config names account {given}, but the credentials belong to {} ({})",
                    caller.account, caller.arn
                ),
                "use credentials for that account (--profile), or correct `account`",
            )],
        }
        .into());
    }
    spec.account = Some(caller.account.clone());
    let desired = render::desired(&spec)?;
    if ctx.verbose > 0 {
        ctx.note(format!(
            "caller: {} (account {})",
            caller.arn, caller.account
        ));
    }
    let observed = observe::observe(&aws, &desired, &only, caller).await?;
    if only.includes(Group::Eks)
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
                format!("check --cluster and --region (aws eks list-clusters --region {}), or leave EKS out with --only iam,queue,registry", desired.target.region),
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
            observed
                .caller
                .as_ref()
                .map_or("the caller", |c| c.arn.as_str())
        );
    }
    Ok(Online {
        aws,
        desired,
        observed,
        only,
        wants_cluster,
    })
}

/// What a user runs for the cluster side until kedactl applies it itself.
pub fn cluster_next_steps(d: &Desired) -> String {
    let account = d.target.account_or_placeholder();
    format!(
        "Cluster side (not applied by this version of kedactl):\n  \
         helm repo add kedacore https://kedacore.github.io/charts\n  \
         helm upgrade --install keda kedacore/keda --namespace {ns} --create-namespace --version {v}\n  \
         kubectl rollout restart deployment/keda-operator -n {ns}   # pods pick up Pod Identity credentials at start\n  \
         kedactl render --only app --cluster {c} --region {r} --account {account} | kubectl apply -f -",
        ns = d.keda.namespace,
        v = d.keda.version,
        c = d.cluster,
        r = d.target.region,
    )
}
