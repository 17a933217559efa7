//! Every AWS API call, recorded by an SDK interceptor: for `-v` logs, the call counts `up`
//! reports, and tests that prove a converged `up` makes no mutating call.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// e.g. "iam", "sqs".
    pub service: String,
    /// e.g. "CreateRole".
    pub operation: String,
    /// When it was made and when its answer (or final error) came, retries included.
    #[serde(skip)]
    pub started: Instant,
    #[serde(skip)]
    pub ended: Option<Instant>,
}

/// Where this operation's call sits in the log (kept in the operation's config bag).
#[derive(Debug, Clone, Copy)]
struct Index(usize);

impl Storable for Index {
    type Storer = StoreReplace<Self>;
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

    /// Round trips on the critical path: the longest chain of calls each made after the one
    /// before it answered. Calls in flight together count once, however many there are, so on
    /// a network of latency L a command takes about `rounds() × L`.
    pub fn rounds(&self) -> usize {
        rounds(&self.all())
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
                started: Instant::now(),
                ended: None,
            });
            let i = calls.len() - 1;
            cfg.interceptor_state().store_put(Index(i));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(Index(i)), Ok(mut calls)) = (cfg.load::<Index>().copied(), self.0.lock())
            && let Some(c) = calls.get_mut(i)
        {
            c.ended = Some(Instant::now());
        }
        Ok(())
    }
}

/// The longest chain of calls, each started after the previous one ended (see `rounds`). A
/// call without an end (the process stopped waiting) ends at the last moment seen.
pub fn rounds(calls: &[Call]) -> usize {
    let last = calls
        .iter()
        .filter_map(|c| c.ended)
        .chain(calls.iter().map(|c| c.started))
        .max();
    let mut order: Vec<&Call> = calls.iter().collect();
    order.sort_by_key(|c| c.started);
    let mut depth: Vec<usize> = Vec::with_capacity(order.len());
    for (i, c) in order.iter().enumerate() {
        let before = (0..i)
            .filter(|&j| order[j].ended.or(last).is_some_and(|e| e <= c.started))
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(start: u64, end: u64, t0: Instant) -> Call {
        Call {
            service: "iam".into(),
            operation: "GetRole".into(),
            started: t0 + Duration::from_millis(start),
            ended: Some(t0 + Duration::from_millis(end)),
        }
    }

    #[test]
    fn rounds_count_what_waits_for_what_not_how_many() {
        let t0 = Instant::now();
        assert_eq!(rounds(&[]), 0);
        // Five at once, then two at once after them, then one: three rounds.
        let mut calls: Vec<Call> = (0..5).map(|_| call(0, 10, t0)).collect();
        calls.extend([call(11, 20, t0), call(12, 25, t0), call(26, 30, t0)]);
        assert_eq!(rounds(&calls), 3);
        // A slow call beside a chain of three: still three.
        calls.push(call(0, 29, t0));
        assert_eq!(rounds(&calls), 3);
        // Overlapping calls are one round even when not started together.
        assert_eq!(rounds(&[call(0, 10, t0), call(5, 15, t0)]), 1);
    }
}
