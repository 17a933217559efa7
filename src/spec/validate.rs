//! Semantic validation of a resolved `Spec`: every rule AWS or Kubernetes would enforce later,
//! and the cross-field rules kedactl needs, checked up front and reported all at once.

use super::{AuthMode, MIN_KEDA_VERSION, ScalingKind, Spec, names};
pub use crate::problem::{Problem, Problems};
use std::collections::BTreeMap;

/// IRSA without `oidcIssuer`, where the cluster cannot be asked for it (offline, or it is not
/// there): the same words wherever it is said.
pub fn missing_issuer() -> Problem {
    Problem::new(
        "oidcIssuer",
        "IRSA needs the cluster's OIDC issuer to write the web-identity trust",
        "set oidcIssuer (aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer) or pass --oidc-issuer; or use authMode: pod-identity",
    )
}

/// A region the AWS SDK does not know (a typo such as `us-est-1`, a region that does not exist
/// such as `eu-central-3`): refused before any call, with the nearest known ones. The list is
/// the SDK's partition data, opt-in regions included.
pub fn unknown_region(region: &str) -> Option<Problem> {
    use super::regions;
    if regions::is_known(region) {
        return None;
    }
    let near = regions::closest(region);
    let shape = match names::region(region) {
        Ok(()) => String::new(),
        Err(rule) => format!(" (expected {rule})"),
    };
    let fix = if near.is_empty() {
        "use a region code from `aws account list-regions` (set region in kedactl.yaml, --region, AWS_REGION, or your AWS profile's region)".to_string()
    } else {
        let named: Vec<String> = near
            .iter()
            .map(|code| {
                let description = regions::known()
                    .find(|(c, _)| c == code)
                    .map(|(_, d)| d)
                    .unwrap_or_default();
                format!("{code} ({description})")
            })
            .collect();
        format!(
            "did you mean {}? (set region in kedactl.yaml, --region, AWS_REGION, or your AWS profile's region)",
            named.join(" or ")
        )
    };
    Some(Problem::new(
        "region",
        format!("{region:?} is not an AWS region the AWS SDK knows{shape}"),
        fix,
    ))
}

/// Like `validate`, for commands that reach AWS: with IRSA a missing `oidcIssuer` is read from
/// the cluster (DescribeCluster), so it is not a problem yet.
pub fn validate_online(spec: &Spec, source: &str) -> Result<(), Problems> {
    match validate(spec, source) {
        Ok(()) => Ok(()),
        Err(mut p) => {
            p.problems
                .retain(|p| !(p.field == "oidcIssuer" && spec.oidc_issuer.is_none()));
            if p.problems.is_empty() {
                Ok(())
            } else {
                Err(p)
            }
        }
    }
}

/// Like `validate`, for offline work that needs no AWS target (`init`, `simulate`): a missing
/// cluster or region is not a problem, a bad one still is.
pub fn validate_offline(spec: &Spec, source: &str) -> Result<(), Problems> {
    match validate(spec, source) {
        Ok(()) => Ok(()),
        Err(mut p) => {
            // Nor do they write trusts: IRSA's issuer is not needed either.
            p.problems.retain(|p| {
                !(p.field == "cluster" && spec.cluster.is_none()
                    || p.field == "region" && spec.region.is_none()
                    || p.field == "oidcIssuer" && spec.oidc_issuer.is_none())
            });
            if p.problems.is_empty() {
                Ok(())
            } else {
                Err(p)
            }
        }
    }
}

struct Collector(Vec<Problem>);

impl Collector {
    fn push(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(Problem::new(field, message, fix));
    }

    /// Apply a naming rule; on failure say what the rule is and where to change the value.
    fn name(
        &mut self,
        field: &str,
        value: &str,
        rule: fn(&str) -> Result<(), String>,
        what: &str,
        flag: &str,
    ) {
        if let Err(rule) = rule(value) {
            // A long value's length is usually the reason; say it rather than make people count.
            let length = match value.chars().count() {
                n if n > 32 => format!(" ({n} characters)"),
                _ => String::new(),
            };
            self.push(
                field,
                format!("{value:?}{length} is not a valid {what}"),
                format!("use {rule} (set {field} in kedactl.yaml or pass {flag})"),
            );
        }
    }
}

/// Check a resolved spec; `Err` lists every problem, section by section in the order of the
/// fields.
pub fn validate(spec: &Spec, source: &str) -> Result<(), Problems> {
    let mut c = Collector(Vec::new());
    target(&mut c, spec);
    keda(&mut c, spec);
    roles(&mut c, spec);
    apps(&mut c, spec);
    super::guardrails::check(spec, &mut c.0);
    super::sections::conflicts(&spec.apps, &mut c.0);

    if c.0.is_empty() {
        Ok(())
    } else {
        Err(Problems {
            origin: source.to_string(),
            problems: c.0,
        })
    }
}

/// Where kedactl acts: the cluster, its region and account, the stack, and (IRSA) the
/// cluster's OIDC issuer.
fn target(c: &mut Collector, spec: &Spec) {
    match &spec.cluster {
        None => c.push(
            "cluster",
            "the EKS cluster name is required",
            "set `cluster: <name>` in kedactl.yaml or pass --cluster <name>",
        ),
        Some(v) => c.name(
            "cluster",
            v,
            names::eks_cluster,
            "EKS cluster name",
            "--cluster",
        ),
    }
    match &spec.region {
        None => c.push(
            "region",
            "no AWS region is set",
            "set `region: us-east-1` in kedactl.yaml, pass --region, export AWS_REGION, or give your AWS profile one (aws configure set region us-east-1 --profile NAME)",
        ),
        Some(v) => {
            if let Some(p) = unknown_region(v) {
                c.0.push(p);
            }
        }
    }
    if let Some(v) = &spec.account {
        c.name("account", v, names::account, "AWS account ID", "--account");
    }
    c.name(
        "stack",
        &spec.stack,
        names::label_value,
        "stack name",
        "--stack",
    );

    match (spec.auth_mode, &spec.oidc_issuer) {
        (AuthMode::Irsa, None) => c.0.push(missing_issuer()),
        (AuthMode::Irsa, Some(v)) => c.name(
            "oidcIssuer",
            v,
            names::oidc_issuer,
            "OIDC issuer URL",
            "--oidc-issuer",
        ),
        (AuthMode::PodIdentity, Some(_)) => c.push(
            "oidcIssuer",
            "oidcIssuer is only used with authMode: irsa",
            "remove oidcIssuer, or set authMode: irsa",
        ),
        (AuthMode::PodIdentity, None) => {}
    }
}

/// The KEDA install: its namespace, service account, version and Helm values.
fn keda(c: &mut Collector, spec: &Spec) {
    let k = &spec.keda;
    c.name(
        "keda.namespace",
        &k.namespace,
        names::dns_label,
        "namespace",
        "--keda-namespace",
    );
    c.name(
        "keda.serviceAccount",
        &k.service_account,
        names::dns_subdomain,
        "service account name",
        "--keda-service-account",
    );
    match names::version(&k.version) {
        Err(rule) => c.push(
            "keda.version",
            format!("{:?} is not a valid KEDA version", k.version),
            format!("use {rule} (set keda.version or pass --keda-version)"),
        ),
        Ok((major, minor, _)) if (major, minor) < MIN_KEDA_VERSION => c.push(
            "keda.version",
            format!(
                "KEDA {} cannot use EKS Pod Identity or the `aws` auth provider (needs >= {}.{})",
                k.version, MIN_KEDA_VERSION.0, MIN_KEDA_VERSION.1
            ),
            format!(
                "set keda.version: {} (the version kedactl is tested with)",
                super::DEFAULT_KEDA_VERSION
            ),
        ),
        Ok(_) => {}
    }

    c.0.extend(super::keda_values::problems(spec));
}

/// The operator's and the apps' default IAM roles.
fn roles(c: &mut Collector, spec: &Spec) {
    let r = &spec.roles;
    c.name(
        "roles.operator",
        &r.operator,
        names::iam_role,
        "IAM role name",
        "--operator-role",
    );
    c.name(
        "roles.identity",
        &r.identity,
        names::iam_role,
        "IAM role name",
        "--identity-role",
    );
}

/// Each app on its own, then against the apps before it.
fn apps(c: &mut Collector, spec: &Spec) {
    if spec.apps.is_empty() {
        c.push(
            "apps",
            "no apps are configured",
            "add at least one app under `apps:` (kedactl init writes an example), or remove `apps:` to use the default",
        );
    }
    let mut taken = Taken::default();
    for (i, app) in spec.apps.iter().enumerate() {
        let p = format!("apps[{i}]");
        let f = |s: &str| format!("{p}.{s}");
        let role = app_names(c, spec, app, &f);
        // The trigger's own section (and no section of another kind).
        super::sections::validate(app, &p, &mut c.0);
        queue(c, &app.queue, &f);
        scaler_names(c, app, &f);
        scaling_bounds(c, &app.scaling, &f);
        keda_options(c, &f, &app.scaling);
        c.0.extend(super::workload::problems(spec, app, &f));
        fields_keda_knows(c, spec, &app.scaling, &f);
        taken.claim(c, spec, i, app, role, &f);
    }
}

/// The app's own names (Deployment, namespace, service account, image, identity role,
/// repository); returns its identity role.
fn app_names<'a>(
    c: &mut Collector,
    spec: &'a Spec,
    app: &'a super::App,
    f: &dyn Fn(&str) -> String,
) -> &'a str {
    c.name(
        &f("deployment"),
        &app.deployment,
        names::dns_label,
        "Deployment name (DNS-1123 label)",
        "--deployment",
    );
    c.name(
        &f("namespace"),
        &app.namespace,
        names::dns_label,
        "namespace",
        "--namespace",
    );
    c.name(
        &f("serviceAccount"),
        &app.service_account,
        names::dns_subdomain,
        "service account name",
        "--service-account",
    );
    if let Some(image) = &app.image {
        c.name(
            &f("image"),
            image,
            names::image,
            "container image",
            "--image",
        );
    }
    let r = &spec.roles;
    let role = app.identity_role(r);
    if let Some(v) = &app.identity_role {
        c.name(
            &f("identityRole"),
            v,
            names::iam_role,
            "IAM role name",
            "--app-identity-role",
        );
    }
    if role == r.operator {
        c.push(
            if app.identity_role.is_some() { f("identityRole") } else { "roles.identity".into() },
            format!("the identity role {role:?} is the operator role: KEDA would assume its own role, which AWS denies"),
            "give roles.operator and the identity role different names",
        );
    }
    c.name(
        &f("repository"),
        &app.repository,
        names::ecr_repository,
        "ECR repository name",
        "--repository",
    );
    role
}

/// The app's queue and its dead-letter queue, as SQS allows them.
fn queue(c: &mut Collector, q: &super::Queue, f: &dyn Fn(&str) -> String) {
    c.name(
        &f("queue.name"),
        &q.name,
        names::sqs_queue,
        "SQS queue name",
        "--queue",
    );
    if q.visibility_timeout > 43_200 {
        c.push(
            f("queue.visibilityTimeout"),
            format!(
                "{} s is longer than SQS allows (12 hours)",
                q.visibility_timeout
            ),
            "use 0..43200 seconds (pass --visibility-timeout)",
        );
    }
    if let Some(key) = &q.kms_key {
        c.name(
            &f("queue.kmsKey"),
            key,
            names::kms_key,
            "KMS key",
            "--kms-key",
        );
    }
    if let Some(dlq) = &q.dead_letter {
        let dlq_name = q.dead_letter_name().unwrap_or_default();
        if let Some(n) = &dlq.name {
            c.name(
                &f("queue.deadLetter.name"),
                n,
                names::sqs_queue,
                "SQS queue name",
                "--dlq",
            );
        }
        if dlq_name == q.name {
            c.push(
                f("queue.deadLetter.name"),
                "the dead-letter queue is the queue itself",
                "give the dead-letter queue another name (default <queue>-dlq)",
            );
        }
        if dlq_name.ends_with(".fifo") != q.is_fifo() {
            c.push(
                f("queue.deadLetter.name"),
                format!(
                    "{dlq_name:?} and {:?} must both be FIFO or both standard queues",
                    q.name
                ),
                "add or remove the .fifo suffix so the two queues match",
            );
        }
        if !(1..=1000).contains(&dlq.max_receive_count) {
            c.push(
                f("queue.deadLetter.maxReceiveCount"),
                format!("{} is outside what SQS allows", dlq.max_receive_count),
                "use 1..1000 (pass --max-receive-count)",
            );
        }
    }
}

/// The ScaledObject/ScaledJob name given, and the names kedactl derives from the app's.
fn scaler_names(c: &mut Collector, app: &super::App, f: &dyn Fn(&str) -> String) {
    let (s, q) = (&app.scaling, &app.queue);
    if let Some(n) = &s.name {
        c.name(
            &f("scaling.name"),
            n,
            names::keda_object,
            "ScaledObject/ScaledJob name",
            "--scaler-name",
        );
    }
    // Names kedactl derives must be as valid as given ones: the DLQ, `<deployment>-scaler`,
    // `-trigger-auth` and `-trigger`. Reported on the field that would fix them.
    let mut derived = vec![
        (
            f("deployment"),
            app.trigger_auth_name(),
            names::dns_subdomain as fn(&str) -> Result<(), String>,
            "TriggerAuthentication name",
            "a shorter deployment name",
        ),
        (
            f("deployment"),
            app.trigger_name(),
            names::keda_object,
            "trigger name",
            "a shorter deployment name",
        ),
    ];
    if s.name.is_none() {
        derived.push((
            f("scaling.name"),
            app.scaler_name(),
            names::keda_object,
            "ScaledObject/ScaledJob name",
            "scaling.name (--scaler-name), or a shorter deployment name",
        ));
    }
    if q.dead_letter.as_ref().is_some_and(|d| d.name.is_none()) {
        derived.push((
            f("queue.deadLetter.name"),
            q.dead_letter_name().unwrap_or_default(),
            names::sqs_queue,
            "SQS queue name",
            "queue.deadLetter.name (--dlq), or a shorter queue name",
        ));
    }
    for (field, name, rule, what, fix) in derived {
        if let Err(rule) = rule(&name) {
            c.push(
                field,
                format!(
                    "the derived {what} {name:?} ({} characters) is not valid: {rule}",
                    name.chars().count()
                ),
                format!("set {fix}"),
            );
        }
    }
}

/// The replica counts, queue length and polling interval KEDA needs.
fn scaling_bounds(c: &mut Collector, s: &super::Scaling, f: &dyn Fn(&str) -> String) {
    if s.queue_length < 1 {
        c.push(
            f("scaling.queueLength"),
            "queueLength must be at least 1: it is the number of messages each replica handles",
            "set scaling.queueLength to 1 or more (the seed uses 5), or pass --queue-length",
        );
    }
    if s.max_replicas < 1 {
        c.push(
            f("scaling.maxReplicas"),
            "maxReplicas 0 would never run a replica",
            "set scaling.maxReplicas to 1 or more (or pass --max-replicas)",
        );
    }
    if s.min_replicas > s.max_replicas {
        c.push(
            f("scaling.minReplicas"),
            format!("minReplicas ({}) is greater than maxReplicas ({})", s.min_replicas, s.max_replicas),
            "lower scaling.minReplicas or raise scaling.maxReplicas (--min-replicas / --max-replicas)",
        );
    }
    if s.polling_interval < 1 {
        c.push(
            f("scaling.pollingInterval"),
            "pollingInterval 0 would poll SQS continuously",
            "use 1 second or more (KEDA's default is 30), or pass --polling-interval",
        );
    }
}

/// Fields the configured KEDA version's CRDs do not have yet.
fn fields_keda_knows(
    c: &mut Collector,
    spec: &Spec,
    s: &super::Scaling,
    f: &dyn Fn(&str) -> String,
) {
    if let Ok(version) = names::version(&spec.keda.version) {
        for g in super::keda_fields::unknown_to(s, version) {
            c.push(
                f(&g.field),
                format!(
                    "KEDA {} does not know this field: its CRD introduced it in {} (the API \
                     server would drop it, so it would never take effect)",
                    spec.keda.version,
                    g.since_text()
                ),
                format!(
                    "set keda.version: {} or newer (or pass --keda-version), or remove {}",
                    g.since_text(),
                    g.field
                ),
            );
        }
    }
}

/// What an app takes that no other may: (namespace, Deployment), (namespace, scaler name),
/// and a service account's role (one association per service account).
#[derive(Default)]
struct Taken<'a> {
    deployments: BTreeMap<(&'a str, &'a str), usize>,
    scalers: BTreeMap<(&'a str, String), usize>,
    service_accounts: BTreeMap<(&'a str, &'a str), (usize, &'a str)>,
}

impl<'a> Taken<'a> {
    /// Claim app `i`'s names, with a problem for each an earlier app took, and for KEDA's own
    /// service account.
    fn claim(
        &mut self,
        c: &mut Collector,
        spec: &Spec,
        i: usize,
        app: &'a super::App,
        role: &'a str,
        f: &dyn Fn(&str) -> String,
    ) {
        let k = &spec.keda;
        let same_scaler = self.scalers.insert((&app.namespace, app.scaler_name()), i);
        match (
            self.deployments
                .insert((&app.namespace, &app.deployment), i),
            same_scaler,
        ) {
            (Some(j), _) => c.push(
                f("deployment"),
                format!(
                    "apps[{j}] already defines Deployment {}/{}",
                    app.namespace, app.deployment
                ),
                "give each app its own deployment name or namespace",
            ),
            (None, Some(j)) => c.push(
                f("scaling.name"),
                format!(
                    "apps[{j}] already uses the name {:?} in namespace {}",
                    app.scaler_name(),
                    app.namespace
                ),
                "set a distinct scaling.name",
            ),
            (None, None) => {}
        }
        match self.service_accounts.insert((&app.namespace, &app.service_account), (i, role)) {
            Some((j, other)) if other != role => c.push(
                f("serviceAccount"),
                format!(
                    "{}/{} is also used by apps[{j}] with role {other:?}; a service account has one role",
                    app.namespace, app.service_account
                ),
                "use a separate service account for this app, or the same identityRole",
            ),
            _ => {}
        }
        if app.namespace == k.namespace && app.service_account == k.service_account {
            c.push(
                f("serviceAccount"),
                format!(
                    "{}/{} is KEDA's operator service account",
                    app.namespace, app.service_account
                ),
                "run the app under its own service account",
            );
        }
    }
}

/// The optional KEDA fields: each on the kind that has it, and KEDA's and Kubernetes' own
/// admission rules (`CheckReplicaCountBoundsAreValid`, `CheckFallbackValid` in KEDA v2.20.2's
/// `scaledobject_types.go`; `validateScalingRules` in Kubernetes' autoscaling validation).
fn keda_options(c: &mut Collector, f: &dyn Fn(&str) -> String, s: &super::Scaling) {
    let object_only = [
        ("idleReplicaCount", s.idle_replica_count.is_some()),
        ("initialCooldownPeriod", s.initial_cooldown_period.is_some()),
        ("fallback", s.fallback.is_some()),
        ("advanced", s.advanced.is_some()),
        ("pausedReplicas", s.paused_replicas.is_some()),
    ];
    let job_only = [
        ("scalingStrategy", s.scaling_strategy.is_some()),
        (
            "successfulJobsHistoryLimit",
            s.successful_jobs_history_limit.is_some(),
        ),
        (
            "failedJobsHistoryLimit",
            s.failed_jobs_history_limit.is_some(),
        ),
        ("activeDeadlineSeconds", s.active_deadline_seconds.is_some()),
        ("backoffLimit", s.backoff_limit.is_some()),
    ];
    let (wrong, has, other) = match s.kind {
        ScalingKind::ScaledObject => (&job_only, "ScaledJob", "ScaledObject"),
        ScalingKind::ScaledJob => (&object_only, "ScaledObject", "ScaledJob"),
    };
    for (field, set) in wrong {
        if *set {
            c.push(
                f(&format!("scaling.{field}")),
                format!("{field} is a {has} option: KEDA's {other} has no such field"),
                format!("remove scaling.{field}, or set scaling.kind: {has}"),
            );
        }
    }
    if s.kind == ScalingKind::ScaledObject {
        // CheckReplicaCountBoundsAreValid: idle < minReplicas, where a rendered
        // minReplicaCount of 0 counts as the HPA's 1 (GetHPAMinReplicas).
        let min = s.min_replicas.max(1);
        if let Some(idle) = s.idle_replica_count
            && idle >= min
        {
            c.push(
                f("scaling.idleReplicaCount"),
                if s.min_replicas == 0 {
                    format!("idleReplicaCount ({idle}) must be less than minReplicas, which KEDA counts as 1 when it is 0")
                } else {
                    format!("idleReplicaCount ({idle}) must be less than minReplicas ({min})")
                },
                "lower scaling.idleReplicaCount (0 is the value that works reliably) or raise scaling.minReplicas",
            );
        }
        // CheckFallbackValid needs a trigger that is not cpu or memory, with an AverageValue
        // target: the aws-sqs-queue trigger is one, so a fallback is always valid here.
        let behavior = s
            .advanced
            .as_ref()
            .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
            .and_then(|h| h.behavior.as_ref());
        if let Some(b) = behavior {
            for (dir, rules) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
                if rules
                    .as_ref()
                    .and_then(|r| r.policies.as_ref())
                    .is_some_and(|p| p.is_empty())
                {
                    c.push(
                        f(&format!("scaling.advanced.horizontalPodAutoscalerConfig.behavior.{dir}.policies")),
                        "an empty policy list: Kubernetes requires at least one policy (validateScalingRules)",
                        "list at least one policy, or remove `policies` to get Kubernetes' defaults",
                    );
                }
            }
        }
    }
    if let Some(st) = &s.scaling_strategy {
        let custom = st.strategy == super::JobStrategy::Custom;
        for (field, set) in [
            (
                "customScalingQueueLengthDeduction",
                st.custom_scaling_queue_length_deduction.is_some(),
            ),
            (
                "customScalingRunningJobPercentage",
                st.custom_scaling_running_job_percentage.is_some(),
            ),
        ] {
            if set && !custom {
                c.push(
                    f(&format!("scaling.scalingStrategy.{field}")),
                    format!("{field} is only used by strategy: custom"),
                    format!("set scalingStrategy.strategy: custom, or remove {field}"),
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, cond) in st.pending_pod_conditions.iter().enumerate() {
            let field = f(&format!(
                "scaling.scalingStrategy.pendingPodConditions[{k}]"
            ));
            if !super::POD_CONDITIONS.contains(&cond.as_str()) {
                c.push(
                    field,
                    format!("{cond:?} is not a pod condition type"),
                    format!("use one of {}", super::POD_CONDITIONS.join(", ")),
                );
            } else if !seen.insert(cond.as_str()) {
                c.push(
                    field,
                    format!("{cond:?} is listed twice"),
                    "list each condition once",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{App, DeadLetter};

    fn base() -> Spec {
        Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            ..Spec::default()
        }
    }

    fn fields(spec: &Spec) -> Vec<String> {
        match validate(spec, "test") {
            Ok(()) => vec![],
            Err(p) => p.problems.into_iter().map(|p| p.field).collect(),
        }
    }

    #[test]
    fn seed_defaults_are_valid() {
        assert_eq!(fields(&base()), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut s = base();
        s.cluster = None;
        s.region = Some("us_east_1".into());
        s.apps[0].scaling.min_replicas = 20;
        s.apps[0].scaling.queue_length = 0;
        assert_eq!(
            fields(&s),
            [
                "cluster",
                "region",
                "apps[0].scaling.queueLength",
                "apps[0].scaling.minReplicas"
            ]
        );
    }

    #[test]
    fn cross_field_rules() {
        let mut s = base();
        s.roles.identity = "keda-operator".into();
        assert_eq!(fields(&s), ["roles.identity"]);

        let mut s = base();
        s.apps.push(s.apps[0].clone());
        assert_eq!(fields(&s), ["apps[1].deployment"]);

        let mut s = base();
        let mut other = App {
            deployment: "worker".into(),
            identity_role: Some("worker-role".into()),
            ..App::default()
        };
        s.apps.push(other.clone());
        assert_eq!(fields(&s), ["apps[1].serviceAccount"]);
        other.service_account = "worker".into();
        s.apps[1] = other;
        assert_eq!(fields(&s), Vec::<String>::new());
    }

    /// KEDA v2.20.2 accepts activationQueueLength with minReplicas > 0 on a ScaledJob and
    /// acts on it (`IsScaledJobActive`, `scaledjob/metrics.go`): it is simulated, not refused.
    #[test]
    fn a_scaled_job_takes_activation_with_min_replicas() {
        let mut s = base();
        let sc = &mut s.apps[0].scaling;
        sc.kind = ScalingKind::ScaledJob;
        sc.min_replicas = 2;
        sc.activation_queue_length = 10;
        assert_eq!(fields(&s), Vec::<String>::new());
    }

    #[test]
    fn dead_letter_rules() {
        let mut s = base();
        s.apps[0].queue.dead_letter = Some(DeadLetter {
            name: Some("event-messages-queue".into()),
            max_receive_count: 0,
        });
        assert_eq!(
            fields(&s),
            [
                "apps[0].queue.deadLetter.name",
                "apps[0].queue.deadLetter.maxReceiveCount"
            ]
        );
        s.apps[0].queue.dead_letter = Some(DeadLetter {
            name: Some("dlq.fifo".into()),
            max_receive_count: 5,
        });
        assert_eq!(fields(&s), ["apps[0].queue.deadLetter.name"]);
    }

    #[test]
    fn irsa_needs_an_issuer_and_old_keda_is_refused() {
        let mut s = base();
        s.auth_mode = AuthMode::Irsa;
        s.keda.version = "2.12.1".into();
        assert_eq!(fields(&s), ["oidcIssuer", "keda.version"]);
    }

    #[test]
    fn a_field_newer_than_the_configured_keda_is_refused_with_its_release() {
        let mut s = base();
        s.keda.version = "2.13.0".into();
        s.apps[0].scaling.initial_cooldown_period = Some(30);
        let e = validate(&s, "f").unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e:?}");
        let p = &e.problems[0];
        assert_eq!(p.field, "apps[0].scaling.initialCooldownPeriod");
        let text = format!("{} {}", p.message, p.fix);
        assert!(
            text.contains("KEDA 2.13.0") && text.contains("introduced it in 2.14.0"),
            "{text}"
        );
        assert!(text.contains("keda.version: 2.14.0 or newer"), "{text}");
        s.keda.version = "2.14.0".into();
        assert_eq!(fields(&s), Vec::<String>::new());
    }

    #[test]
    fn the_issuer_is_required_only_where_no_cluster_can_be_asked() {
        let mut s = base();
        s.auth_mode = AuthMode::Irsa;
        // render, validate, plan --offline: required.
        assert_eq!(validate(&s, "f").unwrap_err().problems, [missing_issuer()]);
        // plan, up, down, doctor read it from the cluster; load, scale, simulate write no trust.
        assert_eq!(validate_online(&s, "f"), Ok(()));
        assert_eq!(validate_offline(&s, "f"), Ok(()));
        // A bad one is a problem everywhere.
        s.oidc_issuer = Some("http://oidc.example.com".into());
        for check in [validate, validate_online, validate_offline] {
            assert_eq!(check(&s, "f").unwrap_err().problems[0].field, "oidcIssuer");
        }
    }

    #[test]
    fn the_trigger_section_is_checked_with_the_spec() {
        use crate::triggers::{Kind, prometheus};
        let section = |alias: Option<&str>, id: Option<&str>, threshold: f64| {
            Some(prometheus::Config {
                workspace: prometheus::Workspace {
                    alias: alias.map(Into::into),
                    id: id.map(Into::into),
                },
                query: "up".into(),
                threshold,
                activation_threshold: 0.0,
                ignore_null_values: true,
                collector: Default::default(),
                metrics_port: Some(8080),
                metrics_path: None,
            })
        };
        let mut s = base();
        s.apps[0].trigger = Kind::Prometheus;
        s.apps[0].prometheus = section(Some("w"), None, 0.0);
        assert_eq!(fields(&s), ["apps[0].prometheus.threshold"]);
        s.apps[0].prometheus = None;
        assert_eq!(fields(&s), ["apps[0].prometheus"]);

        // Two apps naming one resource two ways: created by one, only read by the other.
        let mut s = base();
        s.apps[0].trigger = Kind::Prometheus;
        s.apps[0].prometheus = section(Some("ws-1"), None, 1.0);
        let mut other = s.apps[0].clone();
        other.deployment = "worker".into();
        other.scaling.name = None;
        other.prometheus = section(None, Some("ws-1"), 1.0);
        s.apps.push(other.clone());
        assert_eq!(fields(&s), ["apps[1].prometheus"]);
        // The same resource named the same way is one resource.
        s.apps[1].prometheus = section(Some("ws-1"), None, 2.0);
        assert_eq!(fields(&s), Vec::<String>::new());
    }

    #[test]
    fn each_apps_trigger_section_is_checked() {
        let mut s = base();
        s.apps[0].trigger = crate::triggers::Kind::Prometheus;
        assert_eq!(fields(&s), ["apps[0].prometheus"], "a missing section");
        s.apps[0].prometheus = Some(crate::triggers::prometheus::Config {
            workspace: crate::triggers::prometheus::Workspace {
                alias: Some("w".into()),
                id: None,
            },
            query: " ".into(),
            threshold: 1.0,
            activation_threshold: 0.0,
            ignore_null_values: true,
            collector: Default::default(),
            metrics_port: Some(8080),
            metrics_path: None,
        });
        assert_eq!(fields(&s), ["apps[0].prometheus.query"]);
        s.apps[0].trigger = crate::triggers::Kind::Sqs;
        assert_eq!(fields(&s), ["apps[0].prometheus"], "a stray section");
        // The same rule the other way: a queue on a prometheus app is not silently ignored.
        s.apps[0].trigger = crate::triggers::Kind::Prometheus;
        s.apps[0].queue.name = "orders".into();
        assert_eq!(
            fields(&s),
            ["apps[0].queue", "apps[0].prometheus.query"],
            "a stray queue"
        );
    }
}
