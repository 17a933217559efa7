//! Every AWS API call, recorded by an SDK interceptor: for `-v` logs, the call counts `up`
//! reports, and tests that prove a converged `up` makes no mutating call.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
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
    /// When it was made (when its first attempt went on the wire, once it waited for one of
    /// `--max-in-flight`'s slots) and when its answer (or final error) came, retries included.
    #[serde(skip)]
    pub started: Instant,
    #[serde(skip)]
    pub ended: Option<Instant>,
    /// When AWS last answered one of its attempts with throttling.
    #[serde(skip)]
    pub throttled: Option<Instant>,
}

/// Where this operation's call sits in the log (kept in the operation's config bag).
#[derive(Debug, Clone, Copy)]
struct Index(usize);

impl Storable for Index {
    type Storer = StoreReplace<Self>;
}

/// Put on a call's first request (an HTTP extension) for the in-flight limiter
/// (`cloud::in_flight`): a call that waited there for a free slot starts its round trip when it
/// goes on the wire, so `rounds` counts the waves the limit makes (a retry's wait is the call's
/// own time).
#[derive(Debug, Clone)]
pub struct OnTheWire {
    log: CallLog,
    index: usize,
}

impl OnTheWire {
    /// The request goes on the wire now, after waiting for a slot.
    pub fn waited(&self) {
        if let Ok(mut calls) = self.log.0.lock()
            && let Some(c) = calls.get_mut(self.index)
        {
            c.started = Instant::now();
        }
    }
}

/// A call's first request carries its `OnTheWire` already (kept in the operation's config bag).
#[derive(Debug, Clone, Copy)]
struct Wired;

impl Storable for Wired {
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

    /// Per throttling service (one that throttled a call in the last `window`), how many of its
    /// calls are still waiting for an answer: what the user is told while kedactl slows down.
    pub fn throttled_waiting(
        &self,
        now: Instant,
        window: std::time::Duration,
    ) -> Vec<(String, usize)> {
        let calls = self.all();
        let mut out: Vec<(String, usize)> = Vec::new();
        for c in &calls {
            let recent = c.throttled.is_some_and(|t| now.duration_since(t) <= window);
            if recent && !out.iter().any(|(s, _)| *s == c.service) {
                let waiting = calls
                    .iter()
                    .filter(|o| o.service == c.service && o.ended.is_none())
                    .count();
                out.push((c.service.clone(), waiting));
            }
        }
        out.retain(|(_, n)| *n > 0);
        out.sort();
        out
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
                throttled: None,
            });
            let i = calls.len() - 1;
            cfg.interceptor_state().store_put(Index(i));
        }
        Ok(())
    }

    // Once per call, on its first attempt: the in-flight limiter tells when it went out.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(Index(index)), None) = (cfg.load::<Index>().copied(), cfg.load::<Wired>()) {
            let log = self.clone();
            context
                .request_mut()
                .add_extension(OnTheWire { log, index });
            cfg.interceptor_state().store_put(Wired);
        }
        Ok(())
    }

    // Per attempt: a throttled attempt marks its call (the SDK then waits and retries it).
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let throttled = context.response().is_some_and(|r| {
            is_throttling(r.status().as_u16(), r.body().bytes().unwrap_or_default())
        });
        if throttled
            && let (Some(Index(i)), Ok(mut calls)) = (cfg.load::<Index>().copied(), self.0.lock())
            && let Some(c) = calls.get_mut(i)
        {
            c.throttled = Some(Instant::now());
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

/// While a service throttles, say every few seconds how many calls wait on it (kedactl is slow
/// then, not stuck). Runs until the process ends.
pub fn watch_throttling(log: CallLog, say: impl Fn(String) + Send + 'static) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3);
    tokio::spawn(async move {
        let mut last = Vec::new();
        loop {
            tokio::time::sleep(EVERY).await;
            let now = log.throttled_waiting(Instant::now(), EVERY * 3);
            if now != last {
                for (service, n) in &now {
                    say(format!(
                        "{} is throttling: {n} request{} waiting (kedactl slows down and retries)",
                        service.to_ascii_uppercase(),
                        if *n == 1 { "" } else { "s" }
                    ));
                }
            }
            last = now;
        }
    });
}

/// An answer that says "slow down": HTTP 429, or a 400/503 whose error code is one of AWS's
/// throttling codes (IAM: 400 `Throttling`, "Rate exceeded"; JSON services:
/// `ThrottlingException`; S3-style: `SlowDown`).
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    const CODES: [&str; 6] = [
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "ProvisionedThroughputExceeded",
        "SlowDown",
    ];
    status == 429
        || (matches!(status, 400 | 503)
            && CODES
                .iter()
                .any(|c| body.windows(c.len()).any(|w| w == c.as_bytes())))
}

/// The longest chain of calls, each started after the previous one ended (see `rounds`). A
/// call without an end (the process stopped waiting) ends at the last moment seen. One sweep
/// over the starts and ends in time order: a call started after every call that has ended by
/// then, one deeper than the deepest of them (an end at the very moment of a start counts).
pub fn rounds(calls: &[Call]) -> usize {
    let Some(last) = calls
        .iter()
        .filter_map(|c| c.ended)
        .chain(calls.iter().map(|c| c.started))
        .max()
    else {
        return 0;
    };
    // (time, 0 = end / 1 = start, call): ends sort before starts at the same moment, except a
    // call's own end at its own start.
    let mut events: Vec<(Instant, u8, usize)> = Vec::with_capacity(2 * calls.len());
    for (i, c) in calls.iter().enumerate() {
        let end = c.ended.unwrap_or(last);
        events.push((c.started, 1, i));
        events.push((end, if end <= c.started { 2 } else { 0 }, i));
    }
    events.sort_unstable();
    let (mut depth, mut ended, mut deepest) = (vec![0; calls.len()], 0, 0);
    for (_, kind, i) in events {
        if kind == 1 {
            depth[i] = ended + 1;
            deepest = deepest.max(depth[i]);
        } else {
            ended = ended.max(depth[i]);
        }
    }
    deepest
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
            throttled: None,
        }
    }

    #[test]
    fn throttling_answers_are_told_from_other_errors() {
        let iam = br#"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"#;
        assert!(is_throttling(400, iam));
        assert!(is_throttling(400, br#"{"__type":"ThrottlingException"}"#));
        assert!(is_throttling(429, b""));
        assert!(!is_throttling(400, b"<Code>ValidationError</Code>"));
        assert!(
            !is_throttling(403, iam),
            "a 403 is a denial, whatever it says"
        );
        assert!(!is_throttling(200, b"Throttling"));
    }

    #[test]
    fn waiting_calls_are_counted_per_throttling_service() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(30);
        let open = |service: &str, throttled: Option<Instant>| Call {
            service: service.into(),
            operation: "GetRole".into(),
            started: t0,
            ended: None,
            throttled,
        };
        let log = CallLog::default();
        if let Ok(mut c) = log.0.lock() {
            c.extend([
                open("iam", Some(now - Duration::from_secs(1))),
                open("iam", None),
                call(0, 10, t0),
                // SQS throttled long ago: no longer throttling.
                open("sqs", Some(t0)),
            ]);
        }
        assert_eq!(
            log.throttled_waiting(now, Duration::from_secs(10)),
            vec![("iam".to_string(), 2)]
        );
        assert!(
            log.throttled_waiting(now + Duration::from_secs(60), Duration::from_secs(10))
                .is_empty()
        );
    }

    /// The sweep agrees with the definition (each call one deeper than the deepest call that
    /// ended before it started), checked on pseudo-random logs.
    #[test]
    fn rounds_agree_with_the_pairwise_definition() {
        let pairwise = |calls: &[Call]| {
            let mut depth = vec![0; calls.len()];
            let mut order: Vec<usize> = (0..calls.len()).collect();
            order.sort_by_key(|&i| calls[i].started);
            for (k, &i) in order.iter().enumerate() {
                let before = order[..k]
                    .iter()
                    .filter(|&&j| calls[j].ended.is_some_and(|e| e <= calls[i].started))
                    .map(|&j| depth[j])
                    .max();
                depth[i] = before.unwrap_or(0) + 1;
            }
            depth.into_iter().max().unwrap_or(0)
        };
        let t0 = Instant::now();
        let mut seed: u64 = 7;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..200 {
            let calls: Vec<Call> = (0..next(40))
                .map(|_| {
                    let start = next(100);
                    call(start, start + 1 + next(30), t0)
                })
                .collect();
            assert_eq!(rounds(&calls), pairwise(&calls), "{calls:?}");
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
