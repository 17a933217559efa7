//! `apps[].prometheus`: the section and its validation.

use crate::problem::Problem;
use crate::triggers::kind::resource::{Kind as ResourceKind, Resource};
use crate::triggers::kind::{ConfigSection, MetricsEndpoint, Section};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How messages name the section.
pub const SECTION: Section = Section {
    field: "prometheus",
    holds: "workspace, query, threshold",
    minimal: "prometheus: {workspace: {alias: <name>}, query: <PromQL>, threshold: <value per replica>}",
    example: "examples/amp.yaml",
};

/// Largest threshold kedactl accepts: KEDA hands it to the HPA in milli-units (int64).
pub const MAX_THRESHOLD: f64 = 1e12;
/// Longest PromQL query kedactl accepts (characters).
pub const MAX_QUERY: usize = 8192;
/// Where Prometheus client libraries serve metrics unless told otherwise.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

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
    pub fn endpoint(&self) -> Option<MetricsEndpoint> {
        self.metrics_port.map(|port| MetricsEndpoint {
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

/// The app's workspace: one kedactl owns (by alias), or an existing one it only reads (by id).
pub fn workspace(c: &Config) -> Resource {
    match (&c.workspace.alias, &c.workspace.id) {
        (Some(alias), _) => Resource {
            kind: ResourceKind::AmpWorkspace,
            name: alias.clone(),
            managed: true,
            settings: Value::Null,
        },
        (None, id) => Resource {
            kind: ResourceKind::AmpWorkspace,
            name: id.clone().unwrap_or_default(),
            managed: false,
            settings: Value::Null,
        },
    }
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
fn validate_endpoint(
    existing: bool,
    c: &Config,
    f: &dyn Fn(&str) -> String,
    out: &mut Vec<Problem>,
) {
    // An existing workload's pod template is its chart's: the chart annotates its pods.
    if existing {
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

impl ConfigSection for Config {
    fn validate(&self, existing: bool, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.prometheus.{s}");
        let c = self;
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
        validate_endpoint(existing, c, &f, out);
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

    fn resources(&self) -> Vec<Resource> {
        vec![workspace(self)]
    }
}
