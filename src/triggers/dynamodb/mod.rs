//! `trigger: dynamodb` — KEDA's `aws-dynamodb` scaler (v2.20.2,
//! `pkg/scalers/aws_dynamodb_scaler.go`): the number of items a DynamoDB Query matches, per
//! replica. The scaler runs one Query (no pagination) with the trigger's key condition, optional
//! filter and index, and hands the HPA the response's `Count`. It parses
//! `expressionAttributeNames` as extended JSON into a non-empty map of strings, and
//! `expressionAttributeValues` as JSON objects of one type key each (S, N, BOOL, B, L, M, NULL);
//! `targetValue` has no default for a ScaledObject.

pub mod aws;
pub mod config;
pub mod table;

use super::{Kind, ScalingTarget, Trigger};
use crate::observed::Observed;
use crate::spec::target::Target;
use crate::spec::{App, Spec};
use crate::templates::{self, Document, RenderError};
use serde_json::{Map, Value, json};

pub use config::{
    AttributeValue, Config, MAX_ATTRIBUTES_JSON, MAX_DEPTH, MAX_EXPRESSION, names_json, values_json,
};

/// The permission policy kedactl writes on an identity role whose apps query DynamoDB.
pub const POLICY: &str = "kedactl-dynamodb-query";

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

impl Trigger for Dynamodb {
    fn kind(&self) -> Kind {
        Kind::Dynamodb
    }

    fn keda_type(&self) -> &'static str {
        "aws-dynamodb"
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_INT32;
    use crate::triggers::kind::ConfigSection;
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    use config::{is_number, placeholders};
    use std::collections::{BTreeMap, BTreeSet};

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
        crate::spec::sections::validate(app, "apps[0]", &mut out);
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
        c.clone().validate(false, "apps[0]", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains(":extra"), "{:?}", out[0]);
        // KEDA refuses an empty names map.
        let mut c = config();
        c.key_condition_expression = "pk = :open".into();
        c.expression_attribute_names.clear();
        let mut out = Vec::new();
        c.validate(false, "apps[0]", &mut out);
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
            aws::sdk_value(&AttributeValue::B("hi".into())),
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
