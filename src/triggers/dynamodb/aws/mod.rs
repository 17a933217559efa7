//! The AWS half of `trigger: dynamodb`: KEDA's Query, and the table's calls (`table`).

pub mod table;

use super::{AttributeValue, Config};
use crate::cloud::{Aws, CallError};
use crate::spec::App;
use crate::spec::target::Target;
use crate::triggers::Reading;
use aws_sdk_dynamodb::types::{AttributeValue as Av, Select};
use std::collections::HashMap;

/// KEDA's Query: the count of one response.
pub struct Reader<'a> {
    aws: &'a Aws,
    c: &'a Config,
}

impl<'a> Reader<'a> {
    pub async fn open(aws: &'a Aws, app: &'a App, _target: &'a Target) -> anyhow::Result<Self> {
        let c = app
            .dynamodb
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app has no dynamodb section"))?;
        Ok(Reader { aws, c })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
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
        .map(|(k, v)| (k.clone(), sdk_value(v)))
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

/// The value the SDK sends, as KEDA builds it (`attributeValueFromInterface`).
pub(super) fn sdk_value(v: &AttributeValue) -> Av {
    match v {
        AttributeValue::S(s) => Av::S(s.clone()),
        AttributeValue::N(n) => Av::N(n.clone()),
        AttributeValue::B(b) => Av::B(aws_sdk_dynamodb::primitives::Blob::new(b.as_bytes())),
        AttributeValue::Bool(b) => Av::Bool(*b),
        AttributeValue::L(l) => Av::L(l.iter().map(sdk_value).collect()),
        AttributeValue::M(m) => Av::M(m.iter().map(|(k, v)| (k.clone(), sdk_value(v))).collect()),
        AttributeValue::Null(_) => Av::Null(true),
    }
}
