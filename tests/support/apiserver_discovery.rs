//! API discovery as kube-apiserver serves it: `/api` (APIVersions), `/api/v1` and
//! `/apis/<group>/<version>` (APIResourceList), `/apis` (APIGroupList with each group's
//! preferred version). Built-in resources come from `paths::BUILTIN`; a CRD's kind is listed
//! in its group at its first served version while the CRD exists (apiextensions-apiserver's
//! discovery controller). A group version nobody serves is kube-apiserver's NotFound handler:
//! plain text `404 page not found`.

use super::paths::BUILTIN;
use super::{Failure, State};
use http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Verbs of every built-in and custom resource listed here (collections and objects alike).
const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource: (group, version, plural, kind, namespaced).
type Served = (String, String, String, String, bool);

impl State {
    /// Every served resource: the built-in ones and each existing CRD's.
    fn served_resources(&self) -> Vec<Served> {
        let mut out: Vec<Served> = BUILTIN
            .iter()
            .map(|(g, v, p, k, n)| {
                (
                    g.to_string(),
                    v.to_string(),
                    p.to_string(),
                    k.to_string(),
                    *n,
                )
            })
            .collect();
        for ((plural, _, _), crd) in &self.objects {
            if plural != "customresourcedefinitions" {
                continue;
            }
            let spec = &crd["spec"];
            let version = spec["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["served"] != false)
                .and_then(|v| v["name"].as_str());
            if let (Some(g), Some(v), Some(p), Some(k)) = (
                spec["group"].as_str(),
                version,
                spec["names"]["plural"].as_str(),
                spec["names"]["kind"].as_str(),
            ) {
                out.push((
                    g.into(),
                    v.into(),
                    p.into(),
                    k.into(),
                    spec["scope"] == "Namespaced",
                ));
            }
        }
        out
    }

    /// The discovery document at `path`; None when the path is not a discovery path.
    pub(super) fn discovery(&self, path: &str) -> Option<Result<(StatusCode, Value), Failure>> {
        let path = path.trim_end_matches('/');
        let served = self.served_resources();
        let list = |group: &str, version: &str| {
            let resources: Vec<Value> = served
                .iter()
                .filter(|(g, v, ..)| g == group && v == version)
                .map(|(_, _, p, k, n)| json!({"name": p, "singularName": "", "namespaced": n, "kind": k, "verbs": VERBS}))
                .collect();
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            (!resources.is_empty()).then(|| {
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
            })
        };
        let page_not_found = || {
            Ok((
                StatusCode::NOT_FOUND,
                Value::String("404 page not found\n".into()),
            ))
        };
        Some(match path {
            "/api" => Ok((
                StatusCode::OK,
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            )),
            "/api/v1" => Ok((StatusCode::OK, list("", "v1").expect("core resources"))),
            "/apis" => {
                let mut groups: BTreeMap<&str, &str> = BTreeMap::new();
                for (g, v, ..) in served.iter().filter(|s| !s.0.is_empty()) {
                    groups.entry(g).or_insert(v);
                }
                let groups: Vec<Value> = groups
                    .into_iter()
                    .map(|(g, v)| {
                        let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                        json!({"name": g, "versions": [gv], "preferredVersion": gv})
                    })
                    .collect();
                Ok((
                    StatusCode::OK,
                    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
                ))
            }
            _ => {
                let rest = path.strip_prefix("/apis/")?;
                let (group, version) = rest.split_once('/')?;
                if version.contains('/') {
                    return None;
                }
                match list(group, version) {
                    Some(l) => Ok((StatusCode::OK, l)),
                    None => page_not_found(),
                }
            }
        })
    }
}
