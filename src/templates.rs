//! The template engine over the embedded `templates/` and `policies/`. Undefined variables are
//! errors, and `.yaml`/`.json` templates JSON-encode every `{{ value }}` (minijinja's default
//! auto-escape for those extensions), so no value can break out of its field.

use crate::assets;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;
use std::sync::OnceLock;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0} is not set (validate the spec before rendering)")]
    Missing(&'static str),
    #[error("template {name} failed to render: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("template {name} rendered invalid {format}: {message}")]
    Parse {
        name: String,
        format: &'static str,
        message: String,
    },
    /// What the config renders would break an AWS limit (exit 3, like any config problem).
    #[error("the IAM documents this config renders break an AWS quota")]
    Invalid(#[source] crate::problem::Problems),
}

/// A policy document, parsed, with the policies/ file it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// The inline policy name, or "trust" for the trust policy.
    pub name: String,
    pub source: &'static str,
    pub body: Value,
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in assets::TEMPLATES.iter().chain(assets::POLICIES) {
            env.add_template(name, source)
                .expect("embedded templates compile");
        }
        env
    })
}

/// Render a template to text.
pub fn text(name: &str, ctx: &Value) -> Result<String, RenderError> {
    let template = env()
        .get_template(name)
        .map_err(|source| RenderError::Template {
            name: name.to_string(),
            source,
        })?;
    template
        .render(minijinja::value::Serde(ctx))
        .map_err(|source| RenderError::Template {
            name: name.to_string(),
            source,
        })
}

/// Render a Kubernetes manifest and parse it into a value.
pub fn manifest(name: &str, ctx: &Value) -> Result<Value, RenderError> {
    let text = text(name, ctx)?;
    crate::yaml::from_str(&text).map_err(|e| RenderError::Parse {
        name: format!("templates/{name}"),
        format: "YAML",
        message: e.to_string(),
    })
}

/// Render an IAM policy document and parse it.
pub fn policy(name: &'static str, policy_name: &str, ctx: &Value) -> Result<Document, RenderError> {
    let text = text(name, ctx)?;
    let body = serde_json::from_str(&text).map_err(|e| RenderError::Parse {
        name: format!("policies/{name}"),
        format: "JSON",
        message: e.to_string(),
    })?;
    Ok(Document {
        name: policy_name.to_string(),
        source: name,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_an_error_not_an_empty_string() {
        let err = manifest("namespace.yaml", &serde_json::json!({ "namespace": "x" })).unwrap_err();
        assert!(err.to_string().contains("namespace.yaml"), "{err}");
    }
}
