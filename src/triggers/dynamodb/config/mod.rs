//! `apps[].dynamodb`: the section and its validation (and the `table` section it shares with
//! `dynamodbStreams`).

pub mod table;

use crate::limits::MAX_INT32;
use crate::problem::Problem;
use crate::triggers::kind::resource::Resource;
use crate::triggers::kind::{ConfigSection, Section};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How messages name the section.
pub const SECTION: Section = Section {
    field: "dynamodb",
    holds: "table, keyConditionExpression, expressionAttributeNames, expressionAttributeValues, targetValue",
    minimal: "dynamodb: {table: {name: <table>}, keyConditionExpression: <expr>, expressionAttributeNames: {...}, expressionAttributeValues: {...}, targetValue: <items per replica>}",
    example: "examples/dynamodb.yaml",
};

/// Longest key condition or filter expression (DynamoDB's limit on an expression: 4 KB).
pub const MAX_EXPRESSION: usize = 4096;
/// Largest `expressionAttributeNames` / `expressionAttributeValues` as the JSON KEDA is given.
pub const MAX_ATTRIBUTES_JSON: usize = 64 * 1024;
/// Deepest nesting of L and M values (DynamoDB's limit on a document).
pub const MAX_DEPTH: usize = 32;

/// `apps[].dynamodb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "DynamoDbTrigger")]
pub struct Config {
    /// The table queried: one kedactl creates (`create`) or an existing one.
    pub table: table::Table,
    /// A secondary index to query instead of the table (KEDA `indexName`). Only for an existing
    /// table: kedactl creates tables without indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    /// The items that count (KEDA `keyConditionExpression`), e.g. `#pk = :open`. Attribute
    /// names are written as `#placeholders`: KEDA requires at least one.
    pub key_condition_expression: String,
    /// Applied to the items the key condition reads (KEDA `filterExpression`), e.g.
    /// `#state <> :done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_expression: Option<String>,
    /// `#placeholder: attribute name` for every `#placeholder` in the expressions (KEDA
    /// `expressionAttributeNames`; not empty).
    pub expression_attribute_names: BTreeMap<String, String>,
    /// `:placeholder: {TYPE: value}` for every `:placeholder` in the expressions (KEDA
    /// `expressionAttributeValues`), e.g. `":open": {S: open}`, `":n": {N: "5"}`.
    pub expression_attribute_values: BTreeMap<String, AttributeValue>,
    /// Matching items per replica (KEDA `targetValue`, required for a ScaledObject).
    #[schemars(range(min = 1, max = 2147483647))]
    pub target_value: u32,
    /// Scale from zero only when more items than this match (KEDA `activationTargetValue`).
    #[serde(default)]
    #[schemars(range(max = 2147483647))]
    pub activation_target_value: u32,
}

/// A DynamoDB value, as KEDA's scaler reads it: an object with exactly one type key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeValue {
    /// A string.
    S(String),
    /// A number, written as a string ("42", "-1.5"): KEDA refuses a JSON number here.
    N(String),
    /// Binary: the string's bytes as they are (KEDA does not base64-decode it).
    B(String),
    /// true or false.
    #[serde(rename = "BOOL")]
    Bool(bool),
    /// A list of values.
    L(Vec<AttributeValue>),
    /// A map of values.
    M(BTreeMap<String, AttributeValue>),
    /// The null value, written `NULL: true`.
    #[serde(rename = "NULL")]
    Null(bool),
}

/// Written by hand so that a wrong value is reported at its key (`…:v.N: 5 is not of type
/// "string"`, `SS` is not allowed) rather than as "not valid under any of the schemas".
impl JsonSchema for AttributeValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AttributeValue".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = generator.subschema_for::<AttributeValue>();
        schemars::json_schema!({
            "description": "A DynamoDB value as KEDA reads it: exactly one of S, N, B, BOOL, L, M, NULL.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": false,
            "properties": {
                "S": {"type": "string", "description": "A string."},
                "N": {"type": "string", "description": "A number, written as a string (\"42\"): KEDA refuses a JSON number."},
                "B": {"type": "string", "description": "Binary: the string's bytes as they are (KEDA does not base64-decode it)."},
                "BOOL": {"type": "boolean"},
                "L": {"type": "array", "items": value, "description": "A list of values."},
                "M": {"type": "object", "additionalProperties": value, "description": "A map of values."},
                "NULL": {"const": true, "description": "The null value: NULL: true."}
            }
        })
    }
}

impl AttributeValue {
    /// What is wrong with it (at `path`), if anything.
    fn check(&self, path: &str, depth: usize, out: &mut Vec<(String, String, String)>) {
        if depth > MAX_DEPTH {
            out.push((
                path.to_string(),
                format!("values nest more than {MAX_DEPTH} levels deep"),
                "flatten the value (DynamoDB's limit)".into(),
            ));
            return;
        }
        match self {
            AttributeValue::N(n) if !is_number(n) => out.push((
                format!("{path}.N"),
                format!("{n:?} is not a number DynamoDB accepts"),
                "write a decimal number as a string, e.g. \"42\" or \"-1.5\"".into(),
            )),
            AttributeValue::Null(false) => out.push((
                format!("{path}.NULL"),
                "NULL: false is not a DynamoDB value".into(),
                "write NULL: true".into(),
            )),
            AttributeValue::L(l) => {
                for (i, v) in l.iter().enumerate() {
                    v.check(&format!("{path}.L[{i}]"), depth + 1, out);
                }
            }
            AttributeValue::M(m) => {
                for (k, v) in m {
                    v.check(&format!("{path}.M.{k}"), depth + 1, out);
                }
            }
            _ => {}
        }
    }
}

/// A DynamoDB number: decimal digits with an optional sign, fraction and exponent, at most 38
/// significant digits.
pub(super) fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.len() <= 3 && digits(e)
    });
    let significant = format!("{int}{frac}");
    let significant = significant.trim_start_matches('0').trim_end_matches('0');
    !(int.is_empty() && frac.is_empty())
        && digits(int)
        && digits(frac)
        && exponent_ok
        && significant.len() <= 38
}

/// The `#names` or `:values` an expression uses.
pub(super) fn placeholders(expression: &str, sigil: char) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut chars = expression.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != sigil {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if d.is_ascii_alphanumeric() || d == '_' {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        if end > i + 1 {
            out.insert(expression[i..end].to_string());
        }
    }
    out
}

/// Is `s` a placeholder DynamoDB accepts: the sigil, then letters, digits or `_`?
fn placeholder_rule(s: &str, sigil: char) -> bool {
    s.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `expressionAttributeNames` as KEDA is given it.
pub fn names_json(c: &Config) -> String {
    serde_json::to_string(&c.expression_attribute_names).unwrap_or_default()
}

/// `expressionAttributeValues` as KEDA is given it.
pub fn values_json(c: &Config) -> String {
    serde_json::to_string(&c.expression_attribute_values).unwrap_or_default()
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The index KEDA queries: a name DynamoDB accepts, on a table that has it.
fn check_index(c: &Config, f: &dyn Fn(&str) -> String, out: &mut Vec<Problem>) {
    if let Some(index) = &c.index_name {
        if let Err(rule) = table::name_rule(index) {
            out.push(Problem::new(
                f("indexName"),
                format!("{index:?} is not a valid DynamoDB index name"),
                format!("use {rule}"),
            ));
        } else if c.table.create.is_some() {
            out.push(Problem::new(
                f("indexName"),
                format!("kedactl creates table {} without indexes, so index {index} would not exist", c.table.name),
                "query the table (remove indexName), or create the table and its index yourself and remove table.create",
            ));
        }
    }
}

/// The key condition and filter, each not empty and within DynamoDB's size; returns them by
/// field.
fn check_expressions<'a>(
    c: &'a Config,
    f: &dyn Fn(&str) -> String,
    out: &mut Vec<Problem>,
) -> Vec<(&'static str, &'a str)> {
    let mut expressions = vec![(
        "keyConditionExpression",
        c.key_condition_expression.as_str(),
    )];
    expressions.extend(
        c.filter_expression
            .as_deref()
            .map(|e| ("filterExpression", e)),
    );
    for (field, e) in &expressions {
        if e.trim().is_empty() {
            let fix = match *field {
                "filterExpression" => "remove filterExpression, or give a condition",
                _ => "give the key condition KEDA queries with, e.g. #pk = :open",
            };
            out.push(Problem::new(f(field), "the expression is empty", fix));
        } else if e.len() > MAX_EXPRESSION {
            out.push(Problem::new(
                f(field),
                format!("the expression is {} bytes long", e.len()),
                format!("keep it within DynamoDB's {MAX_EXPRESSION} bytes"),
            ));
        }
    }
    expressions
}

/// The placeholders: well formed, and each defined one used and each used one defined.
fn check_placeholders(
    c: &Config,
    expressions: &[(&str, &str)],
    f: &dyn Fn(&str) -> String,
    out: &mut Vec<Problem>,
) {
    let used = |sigil| -> BTreeSet<String> {
        expressions
            .iter()
            .flat_map(|(_, e)| placeholders(e, sigil))
            .collect()
    };
    // Names: KEDA refuses an empty map; DynamoDB refuses one it does not use, or a
    // placeholder it does not define.
    let names = &c.expression_attribute_names;
    if names.is_empty() {
        out.push(Problem::new(
            f("expressionAttributeNames"),
            "KEDA's aws-dynamodb scaler refuses an empty expressionAttributeNames",
            "write the key attribute as a #placeholder in keyConditionExpression and map it here, e.g. {\"#pk\": pk}",
        ));
    }
    for (k, v) in names {
        if !placeholder_rule(k, '#') {
            out.push(Problem::new(
                f("expressionAttributeNames"),
                format!("{k:?} is not a name placeholder"),
                "start it with # followed by letters, digits or _, e.g. #pk",
            ));
        }
        if v.is_empty() || v.len() > 65535 {
            out.push(Problem::new(
                format!("{}.{k}", f("expressionAttributeNames")),
                "an attribute name is 1–65535 bytes",
                "give the attribute's name",
            ));
        }
    }
    let values = &c.expression_attribute_values;
    for (k, v) in values {
        if !placeholder_rule(k, ':') {
            out.push(Problem::new(
                f("expressionAttributeValues"),
                format!("{k:?} is not a value placeholder"),
                "start it with : followed by letters, digits or _, e.g. :open",
            ));
        }
        let mut bad = Vec::new();
        v.check(
            &format!("{}.{k}", f("expressionAttributeValues")),
            0,
            &mut bad,
        );
        out.extend(bad.into_iter().map(|(a, b, c)| Problem::new(a, b, c)));
    }
    for (field, sigil, defined) in [
        (
            "expressionAttributeNames",
            '#',
            names.keys().cloned().collect::<BTreeSet<_>>(),
        ),
        (
            "expressionAttributeValues",
            ':',
            values.keys().cloned().collect(),
        ),
    ] {
        let used = used(sigil);
        let missing: Vec<&String> = used.difference(&defined).collect();
        if !missing.is_empty() {
            out.push(Problem::new(
                f(field),
                format!("the expressions use {missing:?}, which {field} does not define"),
                format!("add {} to {field}", join(&missing)),
            ));
        }
        let unused: Vec<&String> = defined.difference(&used).collect();
        if !unused.is_empty() {
            out.push(Problem::new(
                f(field),
                format!("{} not used by the expressions: DynamoDB refuses the query", join(&unused)),
                format!("use it in keyConditionExpression or filterExpression, or remove it from {field}"),
            ));
        }
    }
}

/// The attribute maps' size as KEDA is given them, and the targets' range.
fn check_numbers(c: &Config, f: &dyn Fn(&str) -> String, out: &mut Vec<Problem>) {
    for (field, json) in [
        ("expressionAttributeNames", names_json(c)),
        ("expressionAttributeValues", values_json(c)),
    ] {
        if json.len() > MAX_ATTRIBUTES_JSON {
            out.push(Problem::new(
                f(field),
                format!("{} bytes as JSON", json.len()),
                format!("keep it within {MAX_ATTRIBUTES_JSON} bytes"),
            ));
        }
    }
    if c.target_value < 1 || c.target_value > MAX_INT32 {
        out.push(Problem::new(
            f("targetValue"),
            format!(
                "{} is not a usable number of items per replica",
                c.target_value
            ),
            format!("use a whole number from 1 to {MAX_INT32}"),
        ));
    }
    if c.activation_target_value > MAX_INT32 {
        out.push(Problem::new(
            f("activationTargetValue"),
            format!("{} is out of range", c.activation_target_value),
            format!("use a whole number from 0 to {MAX_INT32}"),
        ));
    }
}

impl ConfigSection for Config {
    fn validate(&self, _existing: bool, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.dynamodb.{s}");
        table::validate(&self.table, &f("table"), out);
        check_index(self, &f, out);
        let expressions = check_expressions(self, &f, out);
        check_placeholders(self, &expressions, &f, out);
        check_numbers(self, &f, out);
    }

    fn resources(&self) -> Vec<Resource> {
        vec![table::resource(&self.table, None)]
    }
}
