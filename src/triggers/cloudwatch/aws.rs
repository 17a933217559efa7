//! The AWS half of `trigger: cloudwatch`: GetMetricData as KEDA's scaler calls it.

use super::{Config, describe, query, value, window};
use crate::cloud::{Aws, CallError};
use crate::spec::App;
use crate::spec::target::Target;
use crate::triggers::{Reading, milli, number};
use aws_sdk_cloudwatch::types::ScanBy;
use aws_smithy_types::DateTime;
use std::time::SystemTime;

/// The metric, read as KEDA's scaler reads it: one GetMetricData over the window.
pub struct Reader<'a> {
    aws: &'a Aws,
    c: &'a Config,
}

impl<'a> Reader<'a> {
    pub async fn open(aws: &'a Aws, app: &'a App, _target: &'a Target) -> anyhow::Result<Self> {
        let c = app
            .cloudwatch
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app has no cloudwatch section"))?;
        Ok(Reader { aws, c })
    }

    pub async fn read(&self) -> Result<Reading, CallError> {
        let c = self.c;
        let (start, end) = window(
            SystemTime::now(),
            c.metric_stat_period,
            c.metric_end_time_offset,
            c.metric_collection_time,
        );
        let what = describe(c);
        let out = self
            .aws
            .cloudwatch
            .get_metric_data()
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .scan_by(ScanBy::TimestampDescending)
            .metric_data_queries(query(c))
            .send()
            .await
            .map_err(|e| CallError::new("GetMetricData", what.clone(), &e))?;
        let first = out.metric_data_results().first().map(|r| r.values());
        let v = value(first, c).map_err(|message| CallError {
            operation: "GetMetricData",
            resource: what,
            code: None,
            message,
            status: None,
            fix: Some(
                "check that the metric has datapoints in the window (namespace, name, dimensions, unit), or set ignoreNullValues: true".into(),
            ),
        })?;
        Ok(match v {
            Some(v) => Reading {
                value: milli(v),
                detail: format!(
                    "{} ({} of the last {} s period)",
                    number(v),
                    c.metric_stat,
                    c.metric_stat_period
                ),
            },
            None => Reading {
                value: milli(c.min_metric_value),
                detail: format!(
                    "{} (no datapoint: minMetricValue)",
                    number(c.min_metric_value)
                ),
            },
        })
    }
}
