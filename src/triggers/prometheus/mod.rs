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
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{self, Document, RenderError};
use serde_json::{Map, Value, json};

pub use config::{Collector, Config, DEFAULT_METRICS_PATH, MAX_QUERY, MAX_THRESHOLD, Workspace};

/// The permission policy kedactl writes on an identity role whose apps query AMP.
pub const POLICY: &str = "kedactl-amp-query";

pub struct Prometheus;

fn config(app: &App) -> Option<&Config> {
    app.prometheus.as_ref()
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
    use crate::triggers::resource;

    fn app(workspace: Workspace) -> App {
        App {
            trigger: Kind::Prometheus,
            prometheus: Some(Config::sample(workspace)),
            ..App::default()
        }
    }

    fn problems(app: &App) -> Vec<String> {
        let mut out = Vec::new();
        crate::spec::sections::validate(app, "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    /// The AMP example as rendered: its pod template and the scraper's configuration.
    fn amp_example() -> (App, Value, Value) {
        let mut spec =
            crate::spec::parse(include_str!("../../../examples/amp.yaml").as_bytes(), "amp")
                .unwrap();
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
