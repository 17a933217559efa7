//! Every AWS API call, recorded by an SDK interceptor: for `-v` logs, the call counts `up`
//! reports, and tests that prove a converged `up` makes no mutating call.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// e.g. "iam", "sqs".
    pub service: String,
    /// e.g. "CreateRole".
    pub operation: String,
}

impl Call {
    /// Reads (Get/List/Describe) change nothing; every other call may.
    pub fn is_mutating(&self) -> bool {
        !["Get", "List", "Describe"]
            .iter()
            .any(|p| self.operation.starts_with(p))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    pub fn all(&self) -> Vec<Call> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn mutating(&self) -> Vec<Call> {
        self.all().into_iter().filter(Call::is_mutating).collect()
    }

    pub fn clear(&self) {
        if let Ok(mut c) = self.0.lock() {
            c.clear();
        }
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "kedactl::CallLog"
    }

    // Once per operation, not per retry attempt: what a user would call "an API call". (The
    // operation's name is in the config bag from this hook on, not at `read_before_execution`.)
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(meta), Ok(mut calls)) = (cfg.load::<Metadata>(), self.0.lock()) {
            calls.push(Call {
                service: meta.service().to_ascii_lowercase(),
                operation: meta.name().to_string(),
            });
        }
        Ok(())
    }
}
