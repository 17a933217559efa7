//! What `render` had to guess: values only AWS knows (the id of a resource still to be created,
//! the key behind a KMS alias) that the offline render writes as a placeholder. Each is named
//! with the documents it is in and how to make it real, so a GitOps render never ships one
//! silently (`render --strict` refuses). Pure.

use super::aws::{UNKNOWN_ACCOUNT, UNRESOLVED_ALIAS};
use crate::triggers::resource::{Kind, PLACEHOLDER};
use serde::Serialize;
use serde_json::Value;

/// One placeholder in the rendered documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Placeholder {
    /// Exactly as written, e.g. `<id of AMP workspace AMP-KEDA>`.
    pub placeholder: String,
    /// The documents (their `--out-dir` paths) that hold it.
    pub files: Vec<String>,
    /// The config field that would name the real value.
    pub field: String,
    /// How to resolve it.
    pub fix: String,
}

/// Every placeholder in `docs` (file, body), in order of first appearance, with what resolves it.
/// `resources` are the desired resources, to name the kind behind an `<id of …>`.
pub fn find<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    resources: &[crate::triggers::Resource],
) -> Vec<Placeholder> {
    let mut out: Vec<Placeholder> = Vec::new();
    for (file, body) in docs {
        let mut found = Vec::new();
        strings(body, &mut |s| found.extend(tokens(s)));
        for token in found {
            match out.iter_mut().find(|p| p.placeholder == token) {
                Some(p) if !p.files.iter().any(|f| f == file) => p.files.push(file.to_string()),
                Some(_) => {}
                None => {
                    let (field, fix) = resolve(&token, resources);
                    out.push(Placeholder {
                        placeholder: token,
                        files: vec![file.to_string()],
                        field,
                        fix,
                    });
                }
            }
        }
    }
    out
}

fn strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|v| strings(v, f)),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            f(k);
            strings(v, f)
        }),
        _ => {}
    }
}

/// The placeholders in one string: `<id of …>`, `<key of …>`, `<account>`. Other text with
/// angle brackets (a PromQL comparison) is not one.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        let tail = &rest[start..];
        let known = [PLACEHOLDER, UNRESOLVED_ALIAS, UNKNOWN_ACCOUNT]
            .iter()
            .any(|p| tail.starts_with(p.trim_end_matches('>')));
        match tail.find('>') {
            Some(end) if known => {
                out.push(tail[..=end].to_string());
                rest = &tail[end + 1..];
            }
            _ => rest = &tail[1..],
        }
    }
    out
}

/// The field that names the real value, and how to get it.
pub fn resolve(token: &str, resources: &[crate::triggers::Resource]) -> (String, String) {
    if let Some(r) = resources.iter().find(|r| r.placeholder() == token) {
        let field = match r.kind {
            Kind::AmpWorkspace => "apps[].prometheus.workspace",
            Kind::AmpScraper => "apps[].prometheus.collector",
            Kind::KinesisStream => "apps[].kinesis.stream",
            Kind::DynamodbTable => "apps[].dynamodb.table",
        };
        let name_it = match r.kind {
            Kind::AmpWorkspace => format!(
                ", then render with workspace: {{id: <its id>}} (`aws amp list-workspaces --alias {}`; a workspace named by id is only read, never deleted)",
                r.name
            ),
            _ => ", then name it in kedactl.yaml by its id".into(),
        };
        return (
            field.to_string(),
            format!(
                "render reads no AWS, so it cannot know the id of the {} kedactl creates: `kedactl up` writes the id into what it applies; for a GitOps render, create it first (`kedactl up --only source`){name_it}",
                r.describe()
            ),
        );
    }
    if let Some(alias) = token
        .strip_prefix(UNRESOLVED_ALIAS)
        .and_then(|t| t.strip_suffix('>'))
    {
        return (
            "apps[].queue.kmsKey".into(),
            format!(
                "render reads no AWS, so it cannot resolve the alias to its key: name the key by its ARN or id instead (`aws kms describe-key --key-id {alias} --query KeyMetadata.Arn`); plan and up resolve the alias themselves"
            ),
        );
    }
    if token == UNKNOWN_ACCOUNT {
        return (
            "account".into(),
            "pass --account 123456789012 or set account: \"123456789012\" in kedactl.yaml".into(),
        );
    }
    (
        "render".into(),
        "a value only AWS knows: `kedactl up` fills it in; `kedactl plan` shows it once it exists"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_the_placeholders_only() {
        assert_eq!(
            tokens("https://x/workspaces/<id of AMP workspace A>/api <account> <key of alias/k>"),
            ["<id of AMP workspace A>", "<account>", "<key of alias/k>"]
        );
        assert!(tokens("sum(rate(x[1m])) < 5 and y > 2").is_empty());
        assert!(tokens("<unterminated id of").is_empty());
    }

    #[test]
    fn each_placeholder_is_named_once_with_its_files_and_fix() {
        let r = crate::triggers::Resource {
            kind: Kind::AmpWorkspace,
            name: "AMP-KEDA".into(),
            managed: true,
            settings: Value::Null,
        };
        let id = r.placeholder();
        let policy = json!({"Statement": [{"Resource": [format!("arn:aws:aps:us-east-1:1:workspace/{id}"), format!("arn:aws:kms:us-east-1:1:key/{UNRESOLVED_ALIAS}alias/q>")]}]});
        let so = json!({"spec": {"triggers": [{"metadata": {"serverAddress": format!("https://h/workspaces/{id}"), "query": "x < 5"}}]}});
        let clean = json!({"kind": "ServiceAccount"});
        let got = find(
            [
                ("iam/a.json", &policy),
                ("k8s/so.yaml", &so),
                ("k8s/sa.yaml", &clean),
            ],
            std::slice::from_ref(&r),
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].placeholder, id);
        assert_eq!(got[0].files, ["iam/a.json", "k8s/so.yaml"]);
        assert_eq!(got[0].field, "apps[].prometheus.workspace");
        assert!(
            got[0].fix.contains("kedactl up --only source"),
            "{}",
            got[0].fix
        );
        assert!(
            got[0]
                .fix
                .contains("aws amp list-workspaces --alias AMP-KEDA")
        );
        assert_eq!(got[1].placeholder, "<key of alias/q>");
        assert_eq!(got[1].field, "apps[].queue.kmsKey");
        assert!(got[1].fix.contains("aws kms describe-key --key-id alias/q"));
        assert!(find([("k8s/sa.yaml", &clean)], &[]).is_empty());
    }
}
