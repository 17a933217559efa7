//! `trigger: dynamodb` — KEDA's `aws-dynamodb` scaler (v2.20.2,
//! `pkg/scalers/aws_dynamodb_scaler.go`): the number of items a DynamoDB Query matches, per
//! replica. The scaler runs one Query (no pagination) with the trigger's key condition, optional
//! filter and index, and hands the HPA the response's `Count`. It parses
//! `expressionAttributeNames` as extended JSON into a non-empty map of strings, and
//! `expressionAttributeValues` as JSON objects of one type key each (S, N, BOOL, B, L, M, NULL);
//! `targetValue` has no default for a ScaledObject.

pub mod table;

use super::{Kind, Metric, Reading, Resource, ScalingTarget, Section, Trigger};
use crate::cloud::{Aws, CallError};
use crate::limits::MAX_INT32;
use crate::observed::Observed;
use crate::render::{Document, RenderError, Target, templates};
use crate::spec::{App, Problem, Spec};
use aws_sdk_dynamodb::types::{AttributeValue as Av, Select};
use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The permission policy kedactl writes on an identity role whose apps query DynamoDB.
pub const POLICY: &str = "kedactl-dynamodb-query";
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
    /// The value the SDK sends, as KEDA builds it (`attributeValueFromInterface`).
    fn to_sdk(&self) -> Av {
        match self {
            AttributeValue::S(s) => Av::S(s.clone()),
            AttributeValue::N(n) => Av::N(n.clone()),
            AttributeValue::B(b) => Av::B(aws_sdk_dynamodb::primitives::Blob::new(b.as_bytes())),
            AttributeValue::Bool(b) => Av::Bool(*b),
            AttributeValue::L(l) => Av::L(l.iter().map(Self::to_sdk).collect()),
            AttributeValue::M(m) => Av::M(m.iter().map(|(k, v)| (k.clone(), v.to_sdk())).collect()),
            AttributeValue::Null(_) => Av::Null(true),
        }
    }

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
fn is_number(s: &str) -> bool {
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
fn placeholders(expression: &str, sigil: char) -> BTreeSet<String> {
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

pub struct Dynamodb;

fn config(app: &App) -> Option<&Config> {
    app.dynamodb.as_ref()
}

/// What KEDA's Query is authorised against: the index when it queries one, else the table.
fn query_arn(c: &Config, target: &Target) -> String {
    let table = table::arn(target, &c.table.name);
    match &c.index_name {
        Some(index) => format!("{table}/index/{index}"),
        None => table,
    }
}

/// `expressionAttributeNames` as KEDA is given it.
pub fn names_json(c: &Config) -> String {
    serde_json::to_string(&c.expression_attribute_names).unwrap_or_default()
}

/// `expressionAttributeValues` as KEDA is given it.
pub fn values_json(c: &Config) -> String {
    serde_json::to_string(&c.expression_attribute_values).unwrap_or_default()
}

impl Trigger for Dynamodb {
    fn kind(&self) -> Kind {
        Kind::Dynamodb
    }

    fn keda_type(&self) -> &'static str {
        "aws-dynamodb"
    }

    fn section(&self) -> Option<Section> {
        Some(Section {
            field: "dynamodb",
            holds: "table, keyConditionExpression, expressionAttributeNames, expressionAttributeValues, targetValue",
            minimal: "dynamodb: {table: {name: <table>}, keyConditionExpression: <expr>, expressionAttributeNames: {...}, expressionAttributeValues: {...}, targetValue: <items per replica>}",
            example: "examples/dynamodb.yaml",
        })
    }

    fn has_section(&self, app: &App) -> bool {
        app.dynamodb.is_some()
    }

    fn validate(&self, app: &App, at: &str, out: &mut Vec<Problem>) {
        let f = |s: &str| format!("{at}.dynamodb.{s}");
        // A missing section is reported by `triggers::validate`.
        let Some(c) = config(app) else {
            return;
        };
        table::validate(&c.table, &f("table"), out);
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

    fn resources(&self, app: &App) -> Vec<Resource> {
        config(app)
            .map(|c| table::resource(&c.table, None))
            .into_iter()
            .collect()
    }

    fn policy(
        &self,
        spec: &Spec,
        apps: &[&App],
        target: &Target,
        _observed: &Observed,
    ) -> Result<Option<Document>, RenderError> {
        // IAM authorises a Query with IndexName on the index alone: an app that queries an
        // index gets no grant on its table.
        let mut arns: Vec<String> = apps
            .iter()
            .filter_map(|a| config(a))
            .map(|c| query_arn(c, target))
            .collect();
        arns.sort();
        arns.dedup();
        let consuming: Vec<&App> = apps.iter().copied().filter(|a| a.consume).collect();
        let mut tables: Vec<String> = consuming
            .iter()
            .filter_map(|a| config(a))
            .map(|c| table::arn(target, &c.table.name))
            .collect();
        tables.sort();
        tables.dedup();
        templates::policy(
            "dynamodb-query.json",
            POLICY,
            &json!({
                "query_arns": arns,
                "consume_arns": tables,
                "consumers": super::consumers(spec, &consuming),
            }),
        )
        .map(Some)
    }

    fn consumable(&self) -> bool {
        true
    }

    fn metadata(&self, app: &App, target: &Target, _observed: &Observed) -> Map<String, Value> {
        let c = config(app).expect("validated: a dynamodb app has its section");
        let mut m = Map::new();
        m.insert("tableName".into(), c.table.name.clone().into());
        m.insert("awsRegion".into(), target.region.clone().into());
        m.insert(
            "keyConditionExpression".into(),
            c.key_condition_expression.clone().into(),
        );
        m.insert("expressionAttributeNames".into(), names_json(c).into());
        m.insert("expressionAttributeValues".into(), values_json(c).into());
        m.insert("targetValue".into(), c.target_value.to_string().into());
        m.insert(
            "activationTargetValue".into(),
            c.activation_target_value.to_string().into(),
        );
        if let Some(index) = &c.index_name {
            m.insert("indexName".into(), index.clone().into());
        }
        if let Some(filter) = &c.filter_expression {
            m.insert("filterExpression".into(), filter.clone().into());
        }
        m
    }

    /// The app reads the table's items (DYNAMODB_TABLE) itself, as the identity role: the grants it needs
    /// beyond KEDA's read are the user's to attach to that role.
    fn consumes(&self) -> bool {
        true
    }

    fn env(&self, app: &App, _target: &Target) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| vec![("DYNAMODB_TABLE", c.table.name.clone())])
            .unwrap_or_default()
    }

    fn scaling_target(&self, app: &App) -> ScalingTarget {
        let c = config(app).expect("validated: a dynamodb app has its section");
        ScalingTarget {
            per_replica: u64::from(c.target_value.max(1)),
            activation: u64::from(c.activation_target_value),
        }
    }

    fn unit(&self) -> &'static str {
        "items"
    }

    fn source(&self, app: &App) -> String {
        match config(app) {
            Some(c) => {
                let on = match &c.index_name {
                    Some(i) => format!("DynamoDB table {} (index {i})", c.table.name),
                    None => format!("DynamoDB table {}", c.table.name),
                };
                format!("{on}: {}", c.key_condition_expression)
            }
            None => "dynamodb (no section)".into(),
        }
    }

    fn needs(
        &self,
        app: &App,
        target: &Target,
        _observed: &Observed,
    ) -> Vec<(&'static str, String)> {
        config(app)
            .map(|c| vec![("dynamodb:Query", query_arn(c, target))])
            .unwrap_or_default()
    }

    fn metric<'a>(
        &'a self,
        aws: &'a Aws,
        app: &'a App,
        _target: &'a Target,
    ) -> BoxFuture<'a, anyhow::Result<Box<dyn Metric + 'a>>> {
        Box::pin(async move {
            let c =
                config(app).ok_or_else(|| anyhow::anyhow!("the app has no dynamodb section"))?;
            Ok(Box::new(Count { aws, c }) as Box<dyn Metric>)
        })
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// KEDA's Query: the count of one response.
struct Count<'a> {
    aws: &'a Aws,
    c: &'a Config,
}

impl Metric for Count<'_> {
    fn read(&self) -> BoxFuture<'_, Result<Reading, CallError>> {
        Box::pin(async move {
            let (count, more) = count(self.aws, self.c).await?;
            let mut detail = format!("{count} items match");
            if more {
                detail.push_str(
                    " in DynamoDB's first 1 MB page (KEDA reads one page; more items may match)",
                );
            }
            Ok(Reading {
                value: count,
                detail,
            })
        })
    }
}

/// One Query as KEDA's `GetQueryMetrics` runs it: the key condition, the filter and the index
/// when set, and no pagination: `Count` of the first response (DynamoDB reads at most 1 MB of
/// items per call). kedactl asks for `Select: COUNT`, which returns the same `Count` (the 1 MB
/// limit is on the items read, not returned) without the items. Returns (count, more pages).
pub async fn count(aws: &Aws, c: &Config) -> Result<(u64, bool), CallError> {
    let names: HashMap<String, String> = c
        .expression_attribute_names
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let values: HashMap<String, Av> = c
        .expression_attribute_values
        .iter()
        .map(|(k, v)| (k.clone(), v.to_sdk()))
        .collect();
    let out = aws
        .dynamodb
        .query()
        .table_name(&c.table.name)
        .key_condition_expression(&c.key_condition_expression)
        .set_filter_expression(c.filter_expression.clone())
        .set_index_name(c.index_name.clone())
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .select(Select::Count)
        .send()
        .await
        .map_err(|e| {
            let missing = e
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception());
            let mut err = CallError::new("Query", format!("DynamoDB table {}", c.table.name), &e);
            if missing {
                err.fix = Some(format!(
                    "create it with `kedactl up --only source`, or correct apps[].dynamodb.table.name ({} in this region)",
                    c.table.name
                ));
            }
            err
        })?;
    let more = out.last_evaluated_key().is_some_and(|k| !k.is_empty());
    Ok((u64::try_from(out.count()).unwrap_or(0), more))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn config() -> Config {
        Config {
            table: table::Table {
                name: "orders".into(),
                create: None,
            },
            index_name: None,
            key_condition_expression: "#pk = :open".into(),
            filter_expression: None,
            expression_attribute_names: BTreeMap::from([("#pk".into(), "state".into())]),
            expression_attribute_values: BTreeMap::from([(
                ":open".into(),
                AttributeValue::S("open".into()),
            )]),
            target_value: 10,
            activation_target_value: 0,
        }
    }

    fn app(c: Config) -> App {
        App {
            trigger: Kind::Dynamodb,
            dynamodb: Some(c),
            ..App::default()
        }
    }

    fn problems(app: &App) -> Vec<String> {
        let mut out = Vec::new();
        super::super::validate(app, "apps[0]", &mut out);
        out.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_complete_section_is_valid_and_a_missing_or_stray_one_is_named() {
        assert!(problems(&app(config())).is_empty());
        let none = App {
            trigger: Kind::Dynamodb,
            ..App::default()
        };
        assert_eq!(problems(&none), ["apps[0].dynamodb"]);
        let mut stray = app(config());
        stray.trigger = Kind::Sqs;
        assert_eq!(problems(&stray), ["apps[0].dynamodb"]);
    }

    #[test]
    fn placeholders_must_be_defined_used_and_well_formed() {
        let mut c = config();
        c.filter_expression = Some("#s <> :done".into());
        // #s and :done are used but not defined.
        assert_eq!(
            problems(&app(c.clone())),
            [
                "apps[0].dynamodb.expressionAttributeNames",
                "apps[0].dynamodb.expressionAttributeValues"
            ]
        );
        c.expression_attribute_names
            .insert("#s".into(), "status".into());
        c.expression_attribute_values
            .insert(":done".into(), AttributeValue::Bool(true));
        assert!(problems(&app(c.clone())).is_empty());
        // Defined but unused: DynamoDB refuses the query.
        c.expression_attribute_values
            .insert(":extra".into(), AttributeValue::N("1".into()));
        let mut out = Vec::new();
        Dynamodb.validate(&app(c.clone()), "apps[0]", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains(":extra"), "{:?}", out[0]);
        // KEDA refuses an empty names map.
        let mut c = config();
        c.key_condition_expression = "pk = :open".into();
        c.expression_attribute_names.clear();
        let mut out = Vec::new();
        Dynamodb.validate(&app(c), "apps[0]", &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("refuses an empty"));
        // A placeholder without its sigil.
        let mut c = config();
        c.expression_attribute_names = BTreeMap::from([("pk".into(), "state".into())]);
        assert!(
            problems(&app(c))
                .iter()
                .all(|f| f == "apps[0].dynamodb.expressionAttributeNames")
        );
        assert_eq!(
            placeholders("#a = :b AND begins_with(#c_1, :d2)", ':'),
            BTreeSet::from([":b".to_string(), ":d2".to_string()])
        );
    }

    #[test]
    fn values_are_checked_as_keda_and_dynamodb_read_them() {
        for ok in ["42", "-1.5", "0.001", "1e3", "+7", ".5"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "abc", "1.2.3", "1e", "NaN", "1e1000", &"9".repeat(39)] {
            assert!(!is_number(bad), "{bad}");
        }
        let mut c = config();
        c.expression_attribute_values.insert(
            ":open".into(),
            AttributeValue::L(vec![
                AttributeValue::N("x".into()),
                AttributeValue::Null(false),
            ]),
        );
        assert_eq!(
            problems(&app(c)),
            [
                "apps[0].dynamodb.expressionAttributeValues.:open.L[0].N",
                "apps[0].dynamodb.expressionAttributeValues.:open.L[1].NULL"
            ]
        );
        // Deeper than DynamoDB allows.
        let mut v = AttributeValue::S("x".into());
        for _ in 0..=MAX_DEPTH {
            v = AttributeValue::L(vec![v]);
        }
        let mut c = config();
        c.expression_attribute_values.insert(":open".into(), v);
        assert_eq!(problems(&app(c)).len(), 1);
        // Their JSON is KEDA's: one type key per value.
        let v: BTreeMap<String, AttributeValue> = serde_json::from_str(
            r#"{":a":{"S":"x"},":b":{"N":"5"},":c":{"BOOL":true},":d":{"M":{"k":{"NULL":true}}}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{":a":{"S":"x"},":b":{"N":"5"},":c":{"BOOL":true},":d":{"M":{"k":{"NULL":true}}}}"#
        );
        assert!(serde_json::from_str::<AttributeValue>(r#"{"N":5}"#).is_err());
        assert!(serde_json::from_str::<AttributeValue>(r#"{"SS":["a"]}"#).is_err());
        assert!(serde_json::from_str::<AttributeValue>(r#"{"S":"a","N":"1"}"#).is_err());
        assert_eq!(
            AttributeValue::B("hi".into()).to_sdk(),
            Av::B(aws_sdk_dynamodb::primitives::Blob::new("hi"))
        );
    }

    #[test]
    fn numbers_expressions_and_the_index_are_bounded() {
        let mut c = config();
        c.target_value = 0;
        c.activation_target_value = MAX_INT32 + 1;
        c.key_condition_expression = format!("#pk = :open{}", " ".repeat(MAX_EXPRESSION));
        c.index_name = Some("by state".into());
        assert_eq!(
            problems(&app(c)),
            [
                "apps[0].dynamodb.indexName",
                "apps[0].dynamodb.keyConditionExpression",
                "apps[0].dynamodb.targetValue",
                "apps[0].dynamodb.activationTargetValue"
            ]
        );
        let mut c = config();
        c.filter_expression = Some(" ".into());
        c.index_name = Some("by-state".into());
        c.table.create = Some(table::Create {
            partition_key: table::Key {
                name: "state".into(),
                kind: table::KeyType::S,
            },
            sort_key: None,
            stream_view_type: None,
        });
        assert_eq!(
            problems(&app(c)),
            [
                "apps[0].dynamodb.indexName",
                "apps[0].dynamodb.filterExpression"
            ]
        );
        let mut c = config();
        c.expression_attribute_names
            .insert("#pk".into(), "x".repeat(MAX_ATTRIBUTES_JSON));
        assert_eq!(
            problems(&app(c)),
            [
                "apps[0].dynamodb.expressionAttributeNames.#pk",
                "apps[0].dynamodb.expressionAttributeNames"
            ]
        );
    }

    #[test]
    fn an_app_that_queries_an_index_may_query_the_index_only() {
        let target = Target::new("eu-west-1", Some("123456789012"));
        let mut c = config();
        c.index_name = Some("by-state".into());
        let a = app(c);
        let policy = Dynamodb
            .policy(&Spec::default(), &[&a], &target, &Observed::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            policy.body["Statement"][0]["Resource"],
            json!(["arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-state"]),
            "KEDA's only call is Query with IndexName, authorised on the index's ARN"
        );
    }

    #[test]
    fn metadata_is_what_keda_reads_and_the_grant_is_the_table_and_index() {
        let target = Target::new("eu-west-1", Some("123456789012"));
        let mut c = config();
        c.index_name = Some("by-state".into());
        c.filter_expression = Some("#pk <> :open".into());
        let a = app(c);
        let m = Dynamodb.metadata(&a, &target, &Observed::default());
        assert_eq!(
            Value::Object(m),
            json!({
                "tableName": "orders",
                "awsRegion": "eu-west-1",
                "keyConditionExpression": "#pk = :open",
                "expressionAttributeNames": "{\"#pk\":\"state\"}",
                "expressionAttributeValues": "{\":open\":{\"S\":\"open\"}}",
                "targetValue": "10",
                "activationTargetValue": "0",
                "indexName": "by-state",
                "filterExpression": "#pk <> :open",
            })
        );
        let policy = Dynamodb
            .policy(
                &Spec::default(),
                &[&a, &app(config())],
                &target,
                &Observed::default(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(policy.name, POLICY);
        let statements = policy.body["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Action"], "dynamodb:Query");
        assert_eq!(
            statements[0]["Resource"],
            json!([
                "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
                "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-state"
            ])
        );
        assert!(crate::render::policy::overly_broad(&policy.body).is_empty());
        assert_eq!(
            Dynamodb.needs(&a, &target, &Observed::default()),
            [(
                "dynamodb:Query",
                "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-state".to_string()
            )]
        );
        assert_eq!(
            Dynamodb.scaling_target(&a),
            ScalingTarget {
                per_replica: 10,
                activation: 0
            }
        );
    }
}
