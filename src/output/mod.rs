//! One value → human text or JSON on stdout; notes and progress on stderr.

pub mod chart;
pub mod junit;
pub mod markdown;
pub use crate::progress;
pub mod style;
pub mod watch;

use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Readable text
    #[default]
    Human,
    /// One JSON document on stdout (logs stay on stderr)
    Json,
    /// JUnit XML test report, one testcase per check (doctor only)
    Junit,
    /// A Markdown table for a pull-request comment (plan only)
    Markdown,
    /// JSON lines, written as they are made (simulate only: a line per simulated second)
    Jsonl,
}

/// Version of kedactl's JSON documents, so scripts can pin what they parse.
pub const API_VERSION: &str = "kedactl.io/v1alpha1";

/// A JSON document as every command prints it: `apiVersion` and `kind` first, then the body's
/// fields (camelCase) at the same level. `kedactl schema --kind KIND` publishes each kind's schema.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a, T: Serialize> {
    pub api_version: &'static str,
    pub kind: &'a str,
    #[serde(flatten)]
    pub body: &'a T,
}

impl<'a, T: Serialize> Document<'a, T> {
    pub fn new(kind: &'a str, body: &'a T) -> Self {
        Document {
            api_version: API_VERSION,
            kind,
            body,
        }
    }
}

/// Print `body` as a document of `kind` (pretty JSON) to stdout.
pub fn document<T: Serialize>(kind: &str, body: &T) -> anyhow::Result<()> {
    json(&Document::new(kind, body))
}

/// One line of a JSON lines stream: a whole document of `kind` on one line.
pub fn document_line<T: Serialize>(kind: &str, body: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&Document::new(kind, body))?)
}

/// The JSON Schema of a document of `kind` whose body is `T`: the body's schema derived from
/// its type, with `apiVersion` and `kind` (constants) added in front and required. Objects
/// accept no property their type does not name (`unevaluatedProperties: false`).
pub fn document_schema<T: schemars::JsonSchema>(kind: &str) -> serde_json::Value {
    // What is written, so a field skipped when empty is optional and a null one required.
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<T>()).expect("schema serialises");
    let root = schema.as_object_mut().expect("an object schema");
    let mut properties = serde_json::Map::new();
    properties.insert(
        "apiVersion".into(),
        serde_json::json!({ "const": API_VERSION }),
    );
    properties.insert("kind".into(), serde_json::json!({ "const": kind }));
    if let Some(serde_json::Value::Object(rest)) = root.remove("properties") {
        properties.extend(rest);
    }
    let mut required = vec![serde_json::json!("apiVersion"), serde_json::json!("kind")];
    if let Some(serde_json::Value::Array(rest)) = root.remove("required") {
        required.extend(rest);
    }
    root.insert("title".into(), serde_json::json!(kind));
    root.insert("type".into(), serde_json::json!("object"));
    root.insert("properties".into(), serde_json::Value::Object(properties));
    root.insert("required".into(), serde_json::Value::Array(required));
    close(root);
    if let Some(serde_json::Value::Object(defs)) = root.get_mut("$defs") {
        for def in defs.values_mut() {
            if let Some(def) = def.as_object_mut() {
                close(def);
            }
        }
    }
    schema
}

/// An object schema that names its properties admits no others (a misspelt or snake_case key
/// fails validation). `unevaluatedProperties` sees the properties of `allOf`/`oneOf` branches,
/// so a flattened enum's fields still count.
fn close(schema: &mut serde_json::Map<String, serde_json::Value>) {
    if schema.contains_key("properties")
        && !schema.contains_key("additionalProperties")
        && !schema.contains_key("unevaluatedProperties")
    {
        schema.insert("unevaluatedProperties".into(), false.into());
    }
}

/// Print a JSON document to stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    // Buffered: stdout is line-buffered, and pretty JSON is many short lines (a day's
    // simulation timeline was a million writes).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed pipe surfaces as serde_json's error; `error::is_broken_pipe` looks inside it.
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Print text to stdout (a write error such as a closed pipe propagates to `main`).
pub fn text(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    if !s.ends_with('\n') {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// Text a person reads (a plan, doctor's findings, a summary): as `text`, wrapped at the
/// terminal's width. Machine formats (JSON, YAML, JUnit, Markdown, tables) go through `text`
/// verbatim, so what is copied from the screen still parses.
pub fn prose(s: &str) -> anyhow::Result<()> {
    text(&style::fit(s))
}
