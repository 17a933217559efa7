//! Every config field as a flag. Flags are written into the same `Spec` the file fills
//! (flags win), so validation, rendering and planning see one model whatever the input.

use super::{AuthMode, DeadLetter, Problem, Problems, SEED_SCALER, ScalingKind, Spec, defaults};
use crate::limits::{MAX_INT32, whole};
use clap::Args;

/// Stack-wide overrides of kedactl.yaml.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Stack (overrides kedactl.yaml)")]
pub struct Overrides {
    /// EKS cluster name
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS account ID, so offline commands can write ARNs (online ones ask STS)
    #[arg(long, global = true, value_name = "ID")]
    pub account: Option<String>,
    /// Stack name used in ownership tags and labels [default: kedactl]
    #[arg(long, global = true, value_name = "NAME")]
    pub stack: Option<String>,
    /// How pods get AWS credentials
    #[arg(long, global = true, value_enum, value_name = "MODE")]
    pub auth_mode: Option<AuthModeArg>,
    /// IRSA: the cluster's OIDC issuer URL
    #[arg(long, global = true, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// Scope role trust to this cluster and its service accounts [default: true]
    #[arg(long, global = true, value_name = "BOOL")]
    pub scoped_trust: Option<bool>,
    /// Namespace of KEDA [default: keda]
    #[arg(long, global = true, value_name = "NS")]
    pub keda_namespace: Option<String>,
    /// Service account of the keda-operator [default: keda-operator]
    #[arg(long, global = true, value_name = "NAME")]
    pub keda_service_account: Option<String>,
    /// KEDA chart version [default: 2.20.2]
    #[arg(long, global = true, value_name = "VERSION")]
    pub keda_version: Option<String>,
    /// IAM role of the keda-operator [default: keda-operator]
    #[arg(long, global = true, value_name = "NAME")]
    pub operator_role: Option<String>,
    /// IAM role KEDA assumes to read the queue [default: keda-identity]
    #[arg(long, global = true, value_name = "NAME")]
    pub identity_role: Option<String>,

    #[command(flatten)]
    pub app: AppOverrides,
}

/// Overrides of one app: the one named by --app, or the only one.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "App (overrides the app chosen by --app, or the only app)")]
pub struct AppOverrides {
    /// Which app (its deployment name) the app flags change, when there are several
    #[arg(long, global = true, value_name = "DEPLOYMENT")]
    pub app: Option<String>,
    /// Deployment name [default: q-read]
    #[arg(long, global = true, value_name = "NAME")]
    pub deployment: Option<String>,
    /// App namespace [default: security]
    #[arg(long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// App service account [default: my-sqs-read-msgs]
    #[arg(long, global = true, value_name = "NAME")]
    pub service_account: Option<String>,
    /// Container image [default: the app's ECR repository, :latest]
    #[arg(long, global = true, value_name = "IMAGE")]
    pub image: Option<String>,
    /// IAM role of this app [default: the identity role]
    #[arg(long, global = true, value_name = "NAME")]
    pub app_identity_role: Option<String>,
    /// ECR repository [default: keda-pod-identity-registry]
    #[arg(long, global = true, value_name = "NAME")]
    pub repository: Option<String>,
    /// SQS queue name [default: event-messages-queue]
    #[arg(long, global = true, value_name = "NAME")]
    pub queue: Option<String>,
    /// Queue visibility timeout in seconds [default: 30]
    #[arg(long, global = true, value_name = "SECONDS", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub visibility_timeout: Option<u32>,
    /// Add a dead-letter queue with this name
    #[arg(long, global = true, value_name = "NAME")]
    pub dlq: Option<String>,
    /// Receives before a message moves to the dead-letter queue [default: 5]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub max_receive_count: Option<u32>,
    /// Encrypt the queue with this KMS key (key ID, key ARN or alias/NAME) [default: SSE-SQS]
    #[arg(long, global = true, value_name = "KEY")]
    pub kms_key: Option<String>,
    /// ScaledObject (Deployment) or ScaledJob (Jobs)
    #[arg(long, global = true, value_enum, value_name = "KIND")]
    pub scaling_kind: Option<ScalingKindArg>,
    /// Name of the ScaledObject/ScaledJob
    #[arg(long, global = true, value_name = "NAME")]
    pub scaler_name: Option<String>,
    /// Messages per replica [default: 5]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub queue_length: Option<u32>,
    /// Messages needed to scale from zero [default: 0]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub activation_queue_length: Option<u32>,
    /// Minimum replicas [default: 0]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub min_replicas: Option<u32>,
    /// Maximum replicas [default: 10]
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub max_replicas: Option<u32>,
    /// Seconds between queue reads [default: 30]
    #[arg(long, global = true, value_name = "SECONDS", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub polling_interval: Option<u32>,
    /// Seconds before scaling to zero [default: 300]
    #[arg(long, global = true, value_name = "SECONDS", allow_hyphen_values = true, value_parser = whole::<u32>(0, MAX_INT32 as u64))]
    pub cooldown_period: Option<u32>,
    /// Count in-flight messages [default: true]
    #[arg(long, global = true, value_name = "BOOL")]
    pub scale_on_in_flight: Option<bool>,
    /// Count delayed messages [default: false]
    #[arg(long, global = true, value_name = "BOOL")]
    pub scale_on_delayed: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthModeArg {
    PodIdentity,
    Irsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScalingKindArg {
    #[value(name = "ScaledObject", alias = "scaledobject", alias = "scaled-object")]
    ScaledObject,
    #[value(name = "ScaledJob", alias = "scaledjob", alias = "scaled-job")]
    ScaledJob,
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

fn set_opt<T>(field: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *field = value;
    }
}

impl Overrides {
    /// Write the flags into `spec`, then fill the region from the environment as the AWS CLI
    /// does. `env` is a lookup so tests need not touch the process environment.
    pub fn apply(
        self,
        spec: &mut Spec,
        source: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), Problems> {
        set_opt(&mut spec.cluster, self.cluster);
        set_opt(&mut spec.region, self.region);
        set_opt(&mut spec.account, self.account);
        set(&mut spec.stack, self.stack);
        set(
            &mut spec.auth_mode,
            self.auth_mode.map(|m| match m {
                AuthModeArg::PodIdentity => AuthMode::PodIdentity,
                AuthModeArg::Irsa => AuthMode::Irsa,
            }),
        );
        set_opt(&mut spec.oidc_issuer, self.oidc_issuer);
        set(&mut spec.scoped_trust, self.scoped_trust);
        set(&mut spec.keda.namespace, self.keda_namespace);
        set(&mut spec.keda.service_account, self.keda_service_account);
        set(&mut spec.keda.version, self.keda_version);
        set(&mut spec.roles.operator, self.operator_role);
        set(&mut spec.roles.identity, self.identity_role);
        if spec.region.is_none() {
            spec.region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .into_iter()
                .find_map(|k| env(k).filter(|v| !v.is_empty()));
        }
        self.app.apply(spec, source)
    }
}

impl AppOverrides {
    fn is_empty(&self) -> bool {
        let AppOverrides {
            app: _,
            deployment,
            namespace,
            service_account,
            image,
            app_identity_role,
            repository,
            queue,
            visibility_timeout,
            dlq,
            max_receive_count,
            kms_key,
            scaling_kind,
            scaler_name,
            queue_length,
            activation_queue_length,
            min_replicas,
            max_replicas,
            polling_interval,
            cooldown_period,
            scale_on_in_flight,
            scale_on_delayed,
        } = self;
        [
            deployment.is_none(),
            namespace.is_none(),
            service_account.is_none(),
            image.is_none(),
            app_identity_role.is_none(),
            repository.is_none(),
            queue.is_none(),
            visibility_timeout.is_none(),
            dlq.is_none(),
            max_receive_count.is_none(),
            kms_key.is_none(),
            scaling_kind.is_none(),
            scaler_name.is_none(),
            queue_length.is_none(),
            activation_queue_length.is_none(),
            min_replicas.is_none(),
            max_replicas.is_none(),
            polling_interval.is_none(),
            cooldown_period.is_none(),
            scale_on_in_flight.is_none(),
            scale_on_delayed.is_none(),
        ]
        .iter()
        .all(|b| *b)
    }

    fn apply(self, spec: &mut Spec, source: &str) -> Result<(), Problems> {
        if self.is_empty() && self.app.is_none() {
            return Ok(());
        }
        let fail = |field: &str, message: String, fix: String| {
            Err(Problems {
                origin: source.to_string(),
                problems: vec![Problem::new(field, message, fix)],
            })
        };
        let deployments = || {
            spec.apps
                .iter()
                .map(|a| a.deployment.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let index = match &self.app {
            Some(name) => match spec.apps.iter().position(|a| &a.deployment == name) {
                Some(i) => i,
                None => {
                    return fail(
                        "--app",
                        format!("no app has deployment {name:?}"),
                        format!("use one of: {}", deployments()),
                    );
                }
            },
            None if spec.apps.len() == 1 => 0,
            None => {
                return fail(
                    "--app",
                    format!(
                        "{} apps are configured; app flags need to know which one to change",
                        spec.apps.len()
                    ),
                    format!("add --app <deployment>, one of: {}", deployments()),
                );
            }
        };
        let app = &mut spec.apps[index];
        // The seed's ScaledObject name goes with the seed's Deployment: a renamed one gets its
        // own `<deployment>-scaler` (unless --scaler-name names one).
        if self
            .deployment
            .as_ref()
            .is_some_and(|d| *d != app.deployment)
            && app.deployment == defaults::deployment()
            && app.scaling.name.as_deref() == Some(SEED_SCALER)
        {
            app.scaling.name = None;
        }
        set(&mut app.deployment, self.deployment);
        set(&mut app.namespace, self.namespace);
        set(&mut app.service_account, self.service_account);
        set_opt(&mut app.image, self.image);
        set_opt(&mut app.identity_role, self.app_identity_role);
        set(&mut app.repository, self.repository);
        set(&mut app.queue.name, self.queue);
        set(&mut app.queue.visibility_timeout, self.visibility_timeout);
        set_opt(&mut app.queue.kms_key, self.kms_key);
        if self.dlq.is_some() || self.max_receive_count.is_some() {
            let dlq = app.queue.dead_letter.get_or_insert(DeadLetter {
                name: None,
                max_receive_count: 5,
            });
            set_opt(&mut dlq.name, self.dlq);
            set(&mut dlq.max_receive_count, self.max_receive_count);
        }
        let s = &mut app.scaling;
        set(
            &mut s.kind,
            self.scaling_kind.map(|k| match k {
                ScalingKindArg::ScaledObject => ScalingKind::ScaledObject,
                ScalingKindArg::ScaledJob => ScalingKind::ScaledJob,
            }),
        );
        set_opt(&mut s.name, self.scaler_name);
        set(&mut s.queue_length, self.queue_length);
        set(&mut s.activation_queue_length, self.activation_queue_length);
        set(&mut s.min_replicas, self.min_replicas);
        set(&mut s.max_replicas, self.max_replicas);
        set(&mut s.polling_interval, self.polling_interval);
        set(&mut s.cooldown_period, self.cooldown_period);
        set(&mut s.scale_on_in_flight, self.scale_on_in_flight);
        set(&mut s.scale_on_delayed, self.scale_on_delayed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::App;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_win_over_the_file() {
        let mut spec = Spec {
            cluster: Some("from-file".into()),
            ..Spec::default()
        };
        let o = Overrides {
            cluster: Some("from-flag".into()),
            app: AppOverrides {
                min_replicas: Some(2),
                dlq: Some("dead".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        o.apply(&mut spec, "t", no_env).unwrap();
        assert_eq!(spec.cluster.as_deref(), Some("from-flag"));
        assert_eq!(spec.apps[0].scaling.min_replicas, 2);
        assert_eq!(
            spec.apps[0].queue.dead_letter_name().as_deref(),
            Some("dead")
        );
    }

    #[test]
    fn a_renamed_seed_deployment_gets_its_own_scaler_name() {
        let with = |app: AppOverrides| {
            let mut spec = Spec::default();
            let o = Overrides {
                app,
                ..Default::default()
            };
            o.apply(&mut spec, "t", no_env).unwrap();
            spec.apps[0].scaler_name()
        };
        let deployment = |d: &str| AppOverrides {
            deployment: Some(d.into()),
            ..Default::default()
        };
        assert_eq!(with(deployment("worker")), "worker-scaler");
        assert_eq!(with(deployment("q-read")), SEED_SCALER);
        assert_eq!(with(AppOverrides::default()), SEED_SCALER);
        let named = AppOverrides {
            scaler_name: Some("mine".into()),
            ..deployment("worker")
        };
        assert_eq!(with(named), "mine");
    }

    #[test]
    fn region_falls_back_to_the_environment() {
        let mut spec = Spec::default();
        let env = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "eu-west-1".to_string());
        Overrides::default().apply(&mut spec, "t", env).unwrap();
        assert_eq!(spec.region.as_deref(), Some("eu-west-1"));

        let mut spec = Spec {
            region: Some("us-east-2".into()),
            ..Spec::default()
        };
        Overrides::default().apply(&mut spec, "t", env).unwrap();
        assert_eq!(
            spec.region.as_deref(),
            Some("us-east-2"),
            "the file wins over the environment"
        );
    }

    #[test]
    fn app_flags_need_a_target_when_there_are_several_apps() {
        let mut spec = Spec::default();
        spec.apps.push(App {
            deployment: "worker".into(),
            ..App::default()
        });
        let flags = |app: Option<&str>| Overrides {
            app: AppOverrides {
                app: app.map(str::to_string),
                queue_length: Some(7),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = flags(None)
            .apply(&mut spec.clone(), "t", no_env)
            .unwrap_err();
        assert_eq!(err.problems[0].field, "--app");
        assert!(err.problems[0].fix.contains("q-read, worker"));
        let err = flags(Some("nope"))
            .apply(&mut spec.clone(), "t", no_env)
            .unwrap_err();
        assert!(
            err.problems[0]
                .message
                .contains("no app has deployment \"nope\"")
        );
        flags(Some("worker")).apply(&mut spec, "t", no_env).unwrap();
        assert_eq!(spec.apps[1].scaling.queue_length, 7);
        assert_eq!(spec.apps[0].scaling.queue_length, 5);
    }
}
