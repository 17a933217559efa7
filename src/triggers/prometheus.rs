//! `trigger: prometheus` — seed 003: scale on a PromQL query against an Amazon Managed Service
//! for Prometheus (AMP) workspace. KEDA v2.20's prometheus scaler signs the query with SigV4
//! itself when the trigger has `awsRegion` and its TriggerAuthentication uses
//! `podIdentity.provider: aws` (`pkg/scalers/aws/aws_sigv4.go`, service `aps`), so the seed's
//! SigV4 proxy is not needed. The scaler GETs `<serverAddress>/api/v1/query` and needs a single
//! element back (`ExecutePromQuery`).

use super::{Kind, Metric, Reading, Resource, ScalingTarget, Section, Trigger, resource};
use crate::cloud::{Aws, CallError};
use crate::observe::Read;
use crate::observed::Observed;
use crate::render::{Document, RenderError, Target, templates};
use crate::spec::{App, Problem, Spec};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub mod query;
pub mod scraper;
pub mod workspace;

/// The permission policy kedactl writes on an identity role whose apps query AMP.
pub const POLICY: &str = "kedactl-amp-query";
/// Largest threshold kedactl accepts: KEDA hands it to the HPA in milli-units (int64).
pub const MAX_THRESHOLD: f64 = 1e12;
/// Longest PromQL query kedactl accepts (characters).
pub const MAX_QUERY: usize = 8192;

/// `apps[].prometheus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "PrometheusTrigger")]
pub struct Config {
    /// The AMP workspace the query runs against: one kedactl creates (`alias`) or an existing
    /// one (`id`).
    pub workspace: Workspace,
    /// PromQL; it must return one element (a scalar, or a vector of one series): KEDA refuses
    /// a result with several.
    pub query: String,
    /// The query's target value per replica (KEDA `threshold`).
    #[schemars(range(min = 0.001, max = 1e12))]
    pub threshold: f64,
    /// Scale from zero only when the query returns more than this.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1e12))]
    pub activation_threshold: f64,
    /// An empty result counts as 0 (KEDA's default). `false`: an empty result is an error,
    /// which counts toward `fallback`.
    #[serde(default = "yes")]
    pub ignore_null_values: bool,
    /// What writes the cluster's metrics into the workspace: by default a scraper for a
    /// workspace kedactl creates (nothing else writes to it yet), none for an existing one
    /// (something probably does already, and a second writer would double every sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<Collector>,
}

impl Config {
    /// Seed 003's query on `workspace`, for tests.
    #[cfg(test)]
    pub(crate) fn sample(workspace: Workspace) -> Config {
        Config {
            workspace,
            query: "sum(rate(ho11y_total[1m]))".into(),
            threshold: 0.25,
            activation_threshold: 0.0,
            ignore_null_values: true,
            collector: None,
        }
    }

    pub fn collector(&self) -> Collector {
        self.collector.unwrap_or(match self.workspace.alias {
            Some(_) => Collector::Scraper,
            None => Collector::None,
        })
    }
}

/// `apps[].prometheus.collector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Collector {
    /// An AMP managed scraper kedactl creates for this cluster and workspace, which scrapes the
    /// pods and Services annotated `prometheus.io/scrape: "true"`; deleted with the stack.
    Scraper,
    /// Something already writes to the workspace (ADOT, Prometheus remote_write).
    None,
}

fn yes() -> bool {
    true
}

/// Exactly one of `alias` and `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workspace {
    /// Alias of the workspace kedactl creates, tags with the stack and deletes with `down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Id (`ws-…`) of an existing workspace: read, never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

pub struct Prometheus;

fn config(app: &App) -> Option<&Config> {
    app.prometheus.as_ref()
}

/// The app's workspace: one kedactl owns (by alias), or an existing one it only reads (by id).
fn workspace(c: &Config) -> Resource {
    match (&c.workspace.alias, &c.workspace.id) {
        (Some(alias), _) => Resource {
            kind: resource::Kind::AmpWorkspace,
            name: alias.clone(),
            managed: true,
            settings: Value::Null,
        },
        (None, id) => Resource {
            kind: resource::Kind::AmpWorkspace,
            name: id.clone().unwrap_or_default(),
            managed: false,
            settings: Value::Null,
        },
    }
}

/// The workspace id: the config's, the live one of the alias, or the placeholder the executor
/// replaces once it has created it.
pub fn workspace_id(c: &Config, observed: &Observed) -> String {
    if let Some(id) = &c.workspace.id {
        return id.clone();
    }
    let r = workspace(c);
    observed
        .resources
        .get(&r.id())
        .map(|live| live.id.clone())
        .unwrap_or_else(|| r.placeholder())
}

pub fn workspace_arn(target: &Target, id: &str) -> String {
    target.arn("aps", &format!("workspace/{id}"))
}

/// The query base URL KEDA appends `/api/v1/query` to (no trailing slash: AMP's
/// `prometheusEndpoint` has one, and `…//api/v1/query` is not found).
pub fn server_address(target: &Target, id: &str) -> String {
    format!("https://{}/workspaces/{id}", target.host("aps-workspaces"))
}

/// Is `c` a workspace alias AMP accepts (1–100 characters)?
fn alias_rule(s: &str) -> Result<(), String> {
    match s.chars().count() {
        1..=100 if !s.chars().any(char::is_control) => Ok(()),
        _ => Err("1–100 characters, no control characters".into()),
    }
}

/// A workspace id as AMP spells it: `[0-9A-Za-z][-.0-9A-Z_a-z]*`, 1–64 characters.
fn id_rule(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    let ok = s.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if ok {
        Ok(())
    } else {
        Err("a workspace id such as ws-12345678-abcd-1234-abcd-123456789012".into())
    }
}

impl Trigger for Prometheus {
    fn kind(&self) -> Kind {
        Kind::Prometheus
    }

    fn keda_type(&self) -> &'static str {
        "prometheus"
    }

    fn section(&self) -> Option<Section> {
        Some(Section {
            field: "prometheus",
            holds: "workspace, query, threshold",
            minimal: "prometheus: {workspace: {alias: <name>}, query: <PromQL>, threshold: <value per replica>}",
            example: "examples/amp.yaml",
        })
    }

    fn has_section(&self, app: &App) -> bool {
        app.prometheus.is_some()
    }

    fn validate(&self, app: &App, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.prometheus.{s}");
        // A missing section is reported by `triggers::validate`.
        let Some(c) = config(app) else {
            return;
        };
        match (&c.workspace.alias, &c.workspace.id) {
            (Some(_), Some(_)) | (None, None) => out.push(Problem::new(
                f("workspace"),
                "give exactly one of `alias` (a workspace kedactl creates) and `id` (an existing one)",
                "set workspace: {alias: <name>} or workspace: {id: ws-…}",
            )),
            (Some(alias), None) => {
                if let Err(rule) = alias_rule(alias) {
                    out.push(Problem::new(
                        f("workspace.alias"),
                        format!("{alias:?} is not a valid AMP workspace alias"),
                        format!("use {rule}"),
                    ));
                }
            }
            (None, Some(id)) => {
                if let Err(rule) = id_rule(id) {
                    out.push(Problem::new(
                        f("workspace.id"),
                        format!("{id:?} is not an AMP workspace id"),
                        format!("use {rule} (aws amp list-workspaces)"),
                    ));
                }
            }
        }
        let q = c.query.trim();
        if q.is_empty() {
            out.push(Problem::new(
                f("query"),
                "the query is empty",
                "give the PromQL expression KEDA evaluates, e.g. sum(rate(http_requests_total[2m]))",
            ));
        } else if c.query.chars().count() > MAX_QUERY {
            out.push(Problem::new(
                f("query"),
                format!("the query is {} characters long", c.query.chars().count()),
                format!("keep it under {MAX_QUERY} characters (a recording rule can stand for a long expression)"),
            ));
        }
        let bounded = |v: f64, min: f64| v.is_finite() && v >= min && v <= MAX_THRESHOLD;
        if !bounded(c.threshold, 0.001) {
            out.push(Problem::new(
                f("threshold"),
                format!("{} is not a usable target value per replica", c.threshold),
                "use a number from 0.001 to 1e12 (KEDA compares in thousandths)",
            ));
        }
        if !bounded(c.activation_threshold, 0.0) {
            out.push(Problem::new(
                f("activationThreshold"),
                format!("{} is out of range", c.activation_threshold),
                "use a number from 0 to 1e12",
            ));
        }
    }

    fn resources(&self, app: &App) -> Vec<Resource> {
        config(app).map(workspace).into_iter().collect()
    }

    fn cluster_resources(
        &self,
        app: &App,
        cluster: &str,
        target: &Target,
        observed: &Observed,
    ) -> Result<Vec<Resource>, RenderError> {
        let Some(c) = config(app).filter(|c| c.collector() == Collector::Scraper) else {
            return Ok(Vec::new());
        };
        let key = c.workspace.alias.as_ref().or(c.workspace.id.as_ref());
        let arn = workspace_arn(target, &workspace_id(c, observed));
        Ok(vec![scraper::resource(
            cluster,
            &target.cluster_arn(cluster),
            key.map(String::as_str).unwrap_or_default(),
            arn,
        )?])
    }

    fn policy(
        &self,
        _spec: &Spec,
        apps: &[&App],
        target: &Target,
        observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        let mut arns: Vec<String> = apps
            .iter()
            .filter_map(|a| config(a))
            .map(|c| workspace_arn(target, &workspace_id(c, observed)))
            .collect();
        arns.sort();
        arns.dedup();
        templates::policy("amp-query.json", POLICY, &json!({ "workspace_arns": arns })).map(Some)
    }

    fn metadata(&self, app: &App, target: &Target, observed: &Observed) -> Map<String, Value> {
        let c = config(app).expect("validated: a prometheus app has its section");
        let id = workspace_id(c, observed);
        let mut m = Map::new();
        m.insert("serverAddress".into(), server_address(target, &id).into());
        m.insert("query".into(), c.query.clone().into());
        m.insert("threshold".into(), super::number(c.threshold).into());
        m.insert(
            "activationThreshold".into(),
            super::number(c.activation_threshold).into(),
        );
        m.insert(
            "ignoreNullValues".into(),
            c.ignore_null_values.to_string().into(),
        );
        // Makes the scaler sign with SigV4 for service `aps` in this region.
        m.insert("awsRegion".into(), target.region.clone().into());
        m
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        let c = config(app).expect("validated: a prometheus app has its section");
        ScalingTarget {
            per_replica: super::milli(c.threshold).max(1),
            activation: super::milli(c.activation_threshold),
        }
    }

    fn unit(&self) -> &'static str {
        "query value (thousandths)"
    }

    fn needs(
        &self,
        app: &App,
        target: &Target,
        observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| {
                let arn = workspace_arn(target, &workspace_id(c, observed));
                vec![("aps:QueryMetrics", arn)]
            })
            .unwrap_or_default()
    }

    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>> {
        Box::pin(async move {
            let c =
                config(app).ok_or_else(|| anyhow::anyhow!("the app has no prometheus section"))?;
            let w = workspace(c);
            let live = match resource::observe(aws, &w, "").await? {
                Read::Found(live) => live,
                Read::Missing => anyhow::bail!(
                    "{} does not exist in {}\n  fix: create it with `kedactl up --only source`, or correct apps[].prometheus.workspace",
                    w.describe(),
                    target.region
                ),
                Read::Denied(d) => anyhow::bail!("{}: {}", d.operation, d.message),
                Read::Failed(e) => return Err(e.into()),
            };
            let credentials = aws
                .credentials
                .clone()
                .ok_or_else(|| anyhow::anyhow!("no AWS credentials to sign the query with"))?;
            Ok(Box::new(Query {
                request: query::Request {
                    server: server_address(target, &live.id),
                    query: c.query.clone(),
                    region: target.region.clone(),
                    ignore_null_values: c.ignore_null_values,
                    timeout: crate::cloud::call_timeout(),
                },
                credentials,
            }) as Box<dyn Metric>)
        })
    }

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => format!("{}: {}", workspace(c).describe(), c.query),
            None => "prometheus (no section)".into(),
        }
    }
}

/// The query KEDA runs, signed with the caller's credentials.
struct Query {
    request: query::Request,
    credentials: SharedCredentialsProvider,
}

impl Metric for Query {
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
        Box::pin(async move {
            let credentials =
                self.credentials
                    .provide_credentials()
                    .await
                    .map_err(|e| CallError {
                        operation: "aps:QueryMetrics",
                        resource: self.request.server.clone(),
                        code: None,
                        message: format!("cannot load AWS credentials to sign the query: {e}"),
                        status: None,
                        fix: None,
                    })?;
            let v = query::run(&self.request, &credentials).await?;
            Ok(Reading {
                value: super::milli(v),
                detail: format!("query value {}", super::number(v)),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::Resource as Live;

    fn app(workspace: Workspace) -> App {
        App {
            trigger: Kind::Prometheus,
            prometheus: Some(Config::sample(workspace)),
            ..App::default()
        }
    }

    fn problems(app: &App) -> Vec<String> {
        let mut out = Vec::new();
        super::super::validate(app, "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn the_workspace_is_named_once_by_alias_or_by_id() {
        let by_alias = app(Workspace {
            alias: Some("AMP-KEDA".into()),
            id: None,
        });
        assert!(problems(&by_alias).is_empty());
        let both = app(Workspace {
            alias: Some("AMP-KEDA".into()),
            id: Some("ws-1".into()),
        });
        assert_eq!(problems(&both), ["apps[0].prometheus.workspace"]);
        let bad_id = app(Workspace {
            alias: None,
            id: Some("ws 1".into()),
        });
        assert_eq!(problems(&bad_id), ["apps[0].prometheus.workspace.id"]);
    }

    #[test]
    fn numbers_and_the_query_are_bounded() {
        let mut a = app(Workspace {
            alias: Some("w".into()),
            id: None,
        });
        let c = a.prometheus.as_mut().unwrap();
        c.threshold = 0.0;
        c.activation_threshold = f64::INFINITY;
        c.query = " ".into();
        assert_eq!(
            problems(&a),
            [
                "apps[0].prometheus.query",
                "apps[0].prometheus.threshold",
                "apps[0].prometheus.activationThreshold"
            ]
        );
    }

    #[test]
    fn a_missing_section_and_a_stray_one_are_named() {
        let mut a = App {
            trigger: Kind::Prometheus,
            ..App::default()
        };
        assert_eq!(problems(&a), ["apps[0].prometheus"]);
        a = app(Workspace {
            alias: Some("w".into()),
            id: None,
        });
        a.trigger = Kind::Sqs;
        assert_eq!(problems(&a), ["apps[0].prometheus"]);
    }

    #[test]
    fn the_server_address_and_grant_follow_the_live_workspace() {
        let target = Target::new("us-east-1", Some("123456789012"));
        let a = app(Workspace {
            alias: Some("AMP-KEDA".into()),
            id: None,
        });
        let c = a.prometheus.as_ref().unwrap();
        let mut observed = Observed::default();
        assert_eq!(
            workspace_id(c, &observed),
            "<id of AMP workspace AMP-KEDA>",
            "not created yet: a placeholder the executor fills in"
        );
        observed.resources.insert(
            "aps:workspace/AMP-KEDA".into(),
            Live {
                id: "ws-abc".into(),
                arn: "arn:aws:aps:us-east-1:123456789012:workspace/ws-abc".into(),
                status: "ACTIVE".into(),
                endpoint: None,
                tags: Default::default(),
                ..Default::default()
            },
        );
        let m = Prometheus.metadata(&a, &target, &observed);
        assert_eq!(
            m["serverAddress"],
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-abc"
        );
        assert_eq!(m["threshold"], "0.25");
        assert_eq!(m["awsRegion"], "us-east-1");
        let policy = Prometheus
            .policy(&Spec::default(), &[&a], &target, &observed)
            .unwrap()
            .unwrap();
        let s = &policy.body["Statement"][0];
        assert_eq!(s["Action"], "aps:QueryMetrics");
        assert_eq!(
            s["Resource"],
            json!(["arn:aws:aps:us-east-1:123456789012:workspace/ws-abc"])
        );
        assert_eq!(
            Prometheus.scaling_target(&a),
            ScalingTarget {
                per_replica: 250,
                activation: 0
            }
        );
    }
}
