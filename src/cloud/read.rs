//! The outcome of one read of AWS: found, missing, denied (evidence for doctor) or failed.
//! Shared by `observe` and the trigger kinds' AWS halves.

use super::CallError;
use crate::observed::Denied;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// The outcome of one read.
pub(crate) enum Read<T> {
    Found(T),
    Missing,
    Denied(Denied),
    /// Any other failure (throttled past the retries, 5xx, a timeout): this part is unknown.
    Failed(CallError),
}

impl<T> Read<T> {
    /// What was found, turned into something else; absence, refusal and failure stay.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Read<U> {
        self.and_then(|v| Read::Found(f(v)))
    }

    /// What was found, read further (it may turn out missing).
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Read<U>) -> Read<U> {
        match self {
            Read::Found(v) => f(v),
            Read::Missing => Read::Missing,
            Read::Denied(d) => Read::Denied(d),
            Read::Failed(e) => Read::Failed(e),
        }
    }
}

/// Classify a call's result: found, missing (per `missing`), denied, or failed.
pub(crate) fn read<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    operation: &'static str,
    resource: &str,
    missing: fn(&E) -> bool,
) -> Result<Read<T>, CallError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => Ok(Read::Found(v)),
        Err(e) if e.as_service_error().is_some_and(missing) => Ok(Read::Missing),
        Err(e) => {
            let err = CallError::new(operation, resource, &e);
            if err.is_access_denied() {
                Ok(Read::Denied(Denied {
                    operation: operation.to_string(),
                    resource: resource.to_string(),
                    message: err.to_string(),
                }))
            } else {
                Ok(Read::Failed(err))
            }
        }
    }
}

/// Unwrap a `Read::Found`, or return the missing/denied/failed outcome from the enclosing fn.
macro_rules! found {
    ($read:expr) => {
        match $read? {
            $crate::cloud::read::Read::Found(v) => v,
            $crate::cloud::read::Read::Missing => return Ok($crate::cloud::read::Read::Missing),
            $crate::cloud::read::Read::Denied(d) => return Ok($crate::cloud::read::Read::Denied(d)),
            $crate::cloud::read::Read::Failed(e) => return Ok($crate::cloud::read::Read::Failed(e)),
        }
    };
}
pub(crate) use found;
