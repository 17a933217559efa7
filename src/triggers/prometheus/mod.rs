//! `trigger: prometheus` — seed 003: scale on a PromQL query against an Amazon Managed Service
//! for Prometheus (AMP) workspace. KEDA v2.20's prometheus scaler signs the query with SigV4
//! itself when the trigger has `awsRegion` and its TriggerAuthentication uses
//! `podIdentity.provider: aws` (`pkg/scalers/aws/aws_sigv4.go`, service `aps`), so the seed's
//! SigV4 proxy is not needed. The scaler GETs `<serverAddress>/api/v1/query` and needs a single
//! element back (`ExecutePromQuery`).

pub mod aws;
pub mod config;
pub mod query;
#[cfg(test)]
mod relabel;
pub mod scraper;

use super::{Kind, Resource, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::render::{Document, RenderError, Target, templates};
use crate::spec::{App, Spec};
use serde_json::{Map, Value, json};

pub use config::{
    Collector, Config, DEFAULT_METRICS_PATH, MAX_QUERY, MAX_THRESHOLD, Workspace,
};

/// The permission policy kedactl writes on an identity role whose apps query AMP.
pub const POLICY: &str = "kedactl-amp-query";
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
    /// The container port the app serves its Prometheus metrics on: rendered as the
    /// container's `metrics` port and the pod annotations the scrape configuration reads
    /// (`prometheus.io/scrape`, `/port`, `/path`). Required with `collector: scraper`, which
    /// collects only the pods that carry them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub metrics_port: Option<u16>,
    /// The HTTP path of the metrics on `metricsPort` (default `/metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_path: Option<String>,
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
            metrics_port: Some(8765),
            metrics_path: None,
        }
    }

    /// Where the app's pods serve their metrics, when it says.
    pub fn endpoint(&self) -> Option<super::MetricsEndpoint> {
        self.metrics_port.map(|port| super::MetricsEndpoint {
            port,
            path: self
                .metrics_path
                .clone()
                .unwrap_or_else(|| DEFAULT_METRICS_PATH.into()),
        })
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
    let r = config::workspace(c);
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

/// The app's metrics endpoint: a port when the scraper must find the pods, a path only with
/// a port, and a path an HTTP GET can name.
fn validate_endpoint(app: &App, c: &Config, f: &dyn Fn(&str) -> String, out: &mut Vec<Problem>) {
    // An existing workload's pod template is its chart's: the chart annotates its pods.
    if app.existing {
        if c.metrics_port.is_some() || c.metrics_path.is_some() {
            out.push(Problem::new(
                f("metricsPort"),
                "existing: true means the workload's pods are your chart's: kedactl renders no port or annotations on them",
                "annotate the chart's pod template with prometheus.io/scrape: \"true\", prometheus.io/port and prometheus.io/path, and remove metricsPort and metricsPath",
            ));
        }
        return;
    }
    if c.metrics_port == Some(0) {
        out.push(Problem::new(
            f("metricsPort"),
            "0 is not a port",
            "use the container port the app serves its metrics on (1–65535)",
        ));
    }
    if c.metrics_port.is_none() && c.collector() == Collector::Scraper {
        out.push(Problem::new(
            f("metricsPort"),
            "the AMP scraper collects only pods annotated with their metrics port, and no port is set: the query would find no data and KEDA would read it as 0",
            "set metricsPort to the container port the app serves its metrics on (and metricsPath if not /metrics), or collector: none if something else collects them",
        ));
    }
    if let Some(path) = &c.metrics_path {
        if c.metrics_port.is_none() {
            out.push(Problem::new(
                f("metricsPath"),
                "a metrics path without a metricsPort is not collected",
                "set metricsPort too, or remove metricsPath",
            ));
        }
        let bad = !path.starts_with('/')
            || path.len() > 1024
            || path.chars().any(|ch| ch.is_whitespace() || ch.is_control());
        if bad {
            out.push(Problem::new(
                f("metricsPath"),
                format!("{path:?} is not an HTTP path"),
                "use an absolute path without spaces, e.g. /metrics",
            ));
        }
    }
}

impl Trigger for Prometheus {
    fn kind(&self) -> Kind {
        Kind::Prometheus
    }

    fn keda_type(&self) -> &'static str {
        "prometheus"
    }

    fn metrics_endpoint(&self, app: &App) -> Option<super::MetricsEndpoint> {
        config(app).and_then(Config::endpoint)
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

    fn thousandths(&self) -> bool {
        true
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

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => format!("{}: {}", config::workspace(c).describe(), c.query),
            None => "prometheus (no section)".into(),
        }
    }
}

/// What the workspace holds of an app (doctor, KD049): KEDA reads an empty answer as 0
/// (`ignoreNullValues`), so an app whose metrics nobody collects sits at its minimum with no
/// error. When the query finds no series, the `up` of the app's pods says whether kedactl's
/// scraper collects them at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scraped {
    /// Series the app's query returns.
    pub series: usize,
    /// The `up` values of the app's pods (`up_selector`), asked only when the query finds
    /// nothing and kedactl's scraper, whose labels it knows, collects the app.
    pub up: Option<Vec<f64>>,
}

/// The app's pods' `up` series, as templates/scrape-config.yaml labels them.
pub fn up_selector(app: &App) -> String {
    format!(
        "up{{job=\"annotated-pods\",namespace=\"{}\",app=\"{}\"}}",
        app.namespace, app.deployment
    )
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

    /// The AMP example as rendered: its pod template and the scraper's configuration.
    fn amp_example() -> (App, Value, Value) {
        let mut spec =
            crate::spec::parse(include_str!("../../examples/amp.yaml").as_bytes(), "amp").unwrap();
        spec.account = Some("123456789012".into());
        let d = crate::render::desired(&spec).unwrap();
        let deployment = d
            .manifests
            .iter()
            .find(|m| m["kind"] == "Deployment")
            .unwrap();
        let scraper = d
            .resources
            .iter()
            .find(|r| r.kind == resource::Kind::AmpScraper)
            .unwrap();
        let config =
            crate::yaml::from_str(scraper.settings["scrapeConfiguration"].as_str().unwrap())
                .unwrap();
        (
            spec.apps[0].clone(),
            deployment["spec"]["template"].clone(),
            config,
        )
    }

    #[test]
    fn the_amp_example_renders_a_pod_the_scraper_collects_once_with_the_querys_labels() {
        let (app, pod, config) = amp_example();
        let targets = relabel::pod_targets(&pod, "ho11y", "downstream0-7d9f-x2", "10.0.1.7");
        assert_eq!(
            targets.len(),
            1,
            "one declared port, one target: {targets:#?}"
        );
        let scraped = relabel::scraped_by(&config, "pod", &targets[0]);
        let [(job, labels)] = scraped.as_slice() else {
            panic!("the pod is scraped by exactly one job: {scraped:#?}")
        };
        assert_eq!(job, "annotated-pods");
        assert_eq!(labels["__address__"], "10.0.1.7:8765", "ho11y's port");
        assert_eq!(labels["__metrics_path__"], "/metrics");
        // Every matcher of the query names a label the series really carry: ho11y's own
        // (http_status_code) or one the scrape job sets, with the value it sets.
        let c = app.prometheus.as_ref().unwrap();
        assert!(
            c.query.starts_with("sum("),
            "one element for KEDA: {}",
            c.query
        );
        let inner = c
            .query
            .split_once('{')
            .unwrap()
            .1
            .split_once('}')
            .unwrap()
            .0;
        for matcher in inner.split(',') {
            let (name, value) = matcher.trim().split_once('=').unwrap();
            let value = value.trim_matches('"');
            assert!(
                name == "http_status_code" || labels.get(name).map(String::as_str) == Some(value),
                "{name}={value:?} is not a label of the scraped series: {labels:?}"
            );
        }
    }

    #[test]
    fn doctors_up_selector_matches_the_series_the_scraper_makes_of_the_pod() {
        let (app, pod, config) = amp_example();
        let targets = relabel::pod_targets(&pod, "ho11y", "downstream0-7d9f-x2", "10.0.1.7");
        let (job, mut labels) = relabel::scraped_by(&config, "pod", &targets[0]).remove(0);
        // Prometheus labels each series of a job with it.
        labels.insert("job".into(), job);
        let selector = up_selector(&app);
        let inner = selector
            .strip_prefix("up{")
            .and_then(|s| s.strip_suffix('}'))
            .unwrap();
        for matcher in inner.split(',') {
            let (name, value) = matcher.split_once('=').unwrap();
            assert_eq!(
                labels.get(name).map(String::as_str),
                Some(value.trim_matches('"')),
                "{selector} vs {labels:?}"
            );
        }
    }

    #[test]
    fn a_pod_behind_an_annotated_service_is_scraped_by_one_job() {
        let (_, pod, config) = amp_example();
        let annotated = [
            ("prometheus.io/scrape", "true"),
            ("prometheus.io/port", "8765"),
        ];
        let behind = relabel::endpoint_target(
            &pod,
            "ho11y",
            "downstream0-7d9f-x2",
            "10.0.1.7",
            "downstream0",
            &annotated,
            8765,
        );
        let mut jobs: Vec<String> = relabel::scraped_by(&config, "endpoints", &behind)
            .into_iter()
            .map(|(job, _)| job)
            .collect();
        let pods = relabel::pod_targets(&pod, "ho11y", "downstream0-7d9f-x2", "10.0.1.7");
        jobs.extend(
            relabel::scraped_by(&config, "pod", &pods[0])
                .into_iter()
                .map(|(job, _)| job),
        );
        assert_eq!(jobs, ["annotated-pods"], "each series once, or sums double");
        // A pod not annotated itself is still collected through its annotated Service.
        let mut plain = pod.clone();
        plain["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        let via_service = relabel::endpoint_target(
            &plain,
            "ho11y",
            "p",
            "10.0.1.8",
            "downstream0",
            &annotated,
            8765,
        );
        let scraped = relabel::scraped_by(&config, "endpoints", &via_service);
        assert_eq!(scraped.len(), 1);
        assert_eq!(scraped[0].0, "annotated-services");
        assert_eq!(scraped[0].1["service"], "downstream0");
    }

    #[test]
    fn a_scraped_app_names_its_metrics_port() {
        let mut a = app(Workspace {
            alias: Some("w".into()),
            id: None,
        });
        let c = a.prometheus.as_mut().unwrap();
        c.metrics_port = None;
        assert_eq!(problems(&a), ["apps[0].prometheus.metricsPort"]);
        // Another collector reads the pods its own way.
        a.prometheus.as_mut().unwrap().collector = Some(Collector::None);
        assert!(problems(&a).is_empty());
        let c = a.prometheus.as_mut().unwrap();
        c.metrics_path = Some("metrics".into());
        assert_eq!(
            problems(&a),
            [
                "apps[0].prometheus.metricsPath",
                "apps[0].prometheus.metricsPath"
            ]
        );
        let c = a.prometheus.as_mut().unwrap();
        c.metrics_port = Some(0);
        c.metrics_path = Some("/m".into());
        assert_eq!(problems(&a), ["apps[0].prometheus.metricsPort"]);
        // An existing workload's chart annotates its pods: no port is needed, none is taken.
        let mut existing = app(Workspace {
            alias: Some("w".into()),
            id: None,
        });
        existing.existing = true;
        assert_eq!(problems(&existing), ["apps[0].prometheus.metricsPort"]);
        existing.prometheus.as_mut().unwrap().metrics_port = None;
        assert!(problems(&existing).is_empty());
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
