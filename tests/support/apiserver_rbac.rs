//! RBAC as kube-apiserver authorizes a request: the request's attributes (k8s.io/apiserver
//! `endpoints/request` RequestInfoFactory: verb from the method and whether a name is given,
//! API group, resource with its subresource as `deployments/scale`, namespace) checked against
//! PolicyRules (k8s.io/kubernetes `pkg/apis/rbac/v1/evaluation_helpers.go`: a rule matches when
//! its verbs, apiGroups and resources each match, `*` matching all). Discovery paths are
//! non-resource URLs every authenticated user may GET (the default `system:discovery` role).
//! A denied request answers 403 Forbidden with the authorizer's wording.

use super::paths::parse;
use super::{Failure, State, status};
use http::{Method, StatusCode};
use serde_json::Value;

/// One PolicyRule of a ClusterRole.
#[derive(Debug, Clone)]
pub struct Rule {
    pub groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
}

/// (verb, group, resource): what one request asks to do.
pub type Attributes = (String, String, String);

/// The rules of every ClusterRole in a YAML stream (e.g. docs/rbac.yaml).
pub fn rules_from_yaml(text: &str) -> Vec<Rule> {
    use serde::Deserialize;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| Value::deserialize(d).ok())
        .filter(|d| d["kind"] == "ClusterRole")
        .flat_map(|d| {
            d["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|r| Rule {
                    groups: strings(&r["apiGroups"]),
                    resources: strings(&r["resources"]),
                    verbs: strings(&r["verbs"]),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The attributes of a resource request; None for a discovery (non-resource) path.
pub fn attributes(method: &Method, path: &str) -> Option<(Attributes, Option<String>)> {
    let t = parse(path)?;
    let verb = match (method.as_str(), t.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    };
    let resource = match &t.subresource {
        Some(sub) => format!("{}/{sub}", t.plural),
        None => t.plural.clone(),
    };
    Some(((verb.into(), t.group.clone(), resource), t.ns.clone()))
}

impl Rule {
    fn allows(&self, (verb, group, resource): &Attributes) -> bool {
        let has = |list: &[String], x: &str| list.iter().any(|v| v == "*" || v == x);
        has(&self.verbs, verb) && has(&self.groups, group) && has(&self.resources, resource)
    }
}

impl State {
    /// 403 unless a rule allows the request; records what was allowed.
    pub(super) fn authorize(&mut self, method: &Method, path: &str) -> Result<(), Failure> {
        let Some(rules) = &self.rbac else {
            return Ok(());
        };
        let Some((attrs, ns)) = attributes(method, path) else {
            return Ok(());
        };
        if rules.iter().any(|r| r.allows(&attrs)) {
            self.authorized.insert(attrs);
            return Ok(());
        }
        let (verb, group, resource) = &attrs;
        let t = parse(path).expect("parsed above");
        let what = match (&t.name, group.is_empty()) {
            (Some(n), true) => format!("{} \"{n}\"", t.plural),
            (Some(n), false) => format!("{}.{group} \"{n}\"", t.plural),
            (None, true) => t.plural.clone(),
            (None, false) => format!("{}.{group}", t.plural),
        };
        let scope = match ns {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        self.denied.push(attrs.clone());
        Err(status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{what} is forbidden: User \"kedactl\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}"
            ),
        ))
    }
}
