//! At most `--max-in-flight` requests on the wire per AWS service. A stack of thousands of apps
//! reads thousands of roles at once; unbounded, that is thousands of sockets and a burst no
//! account's rate limit takes. Each service's client gets its own HTTP client wrapper holding a
//! semaphore: an attempt takes a permit before it is sent and gives it back when its answer
//! (or failure) came, so retries and the adaptive rate limiter's waits hold none.
//!
//! The SDK's per-attempt timeout would count the wait for a permit as the attempt's own time,
//! so a request queued behind others could time out unsent. The wrapper times the attempt
//! itself instead, from when it holds its permit: `--call-timeout` still bounds every request
//! on the wire, and the SDK's attempt timeout is turned off for clients built here. A call whose
//! first request waited for its permit starts in the call log when it goes out
//! (`calls::OnTheWire`): `-v`'s round trips count the waves the cap makes.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// `inner` with at most `max` requests in flight at once, each given `attempt` to answer once
/// it is sent (None: no limit of its own).
pub fn limit(inner: SharedHttpClient, max: u32, attempt: Option<Duration>) -> SharedHttpClient {
    SharedHttpClient::new(Limited {
        inner,
        permits: Arc::new(Semaphore::new(max.max(1) as usize)),
        attempt,
    })
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    permits: Arc<Semaphore>,
    attempt: Option<Duration>,
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            permits: self.permits.clone(),
            attempt: self.attempt,
        })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_base_client_config(components, cfg)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    permits: Arc<Semaphore>,
    attempt: Option<Duration>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, permits, attempt) = (self.inner.clone(), self.permits.clone(), self.attempt);
        HttpConnectorFuture::new(async move {
            // Held until the answer's headers are in (the body follows at once on AWS's APIs).
            let _permit = match permits.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    let permit = permits
                        .acquire_owned()
                        .await
                        .map_err(|e| ConnectorError::other(e.into(), None))?;
                    if let Some(wire) = request.extension::<super::calls::OnTheWire>() {
                        wire.waited();
                    }
                    permit
                }
            };
            let sent = inner.call(request);
            match attempt {
                None => sent.await,
                Some(d) => tokio::time::timeout(d, sent).await.map_err(|_| {
                    ConnectorError::timeout(
                        format!("no answer within {} ms (timed out)", d.as_millis()).into(),
                    )
                })?,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers every request after `delay`, counting how many are in flight at once.
    #[derive(Debug, Clone, Default)]
    struct Counting {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
        delay: Duration,
    }

    impl HttpConnector for Counting {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            let c = self.clone();
            HttpConnectorFuture::new(async move {
                let n = c.now.fetch_add(1, Ordering::SeqCst) + 1;
                c.most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(c.delay).await;
                c.now.fetch_sub(1, Ordering::SeqCst);
                Ok(HttpResponse::new(
                    200.try_into().unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                ))
            })
        }
    }

    /// `counting` behind a limit of `max`, as `limit` builds it for each request.
    fn limited(counting: &Counting, max: usize, attempt: Option<Duration>) -> LimitedConnector {
        LimitedConnector {
            inner: SharedHttpConnector::new(counting.clone()),
            permits: Arc::new(Semaphore::new(max)),
            attempt,
        }
    }

    fn request() -> HttpRequest {
        HttpRequest::get("http://localhost/").unwrap()
    }

    #[tokio::test]
    async fn no_more_than_the_limit_is_in_flight() {
        let counting = Counting {
            delay: Duration::from_millis(20),
            ..Counting::default()
        };
        let conn = limited(&counting, 3, None);
        let calls = (0..20).map(|_| conn.call(request()));
        let answers = futures_util::future::join_all(calls).await;
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(counting.most.load(Ordering::SeqCst), 3);
    }

    /// A request waiting for a permit is not timed: only the time on the wire is.
    #[tokio::test]
    async fn the_attempt_timeout_starts_when_the_request_is_sent() {
        let counting = Counting {
            delay: Duration::from_millis(100),
            ..Counting::default()
        };
        let conn = limited(&counting, 1, Some(Duration::from_millis(400)));
        // Eight in a row take 800 ms, each 100 ms on the wire: none times out.
        let answers = futures_util::future::join_all((0..8).map(|_| conn.call(request()))).await;
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(counting.most.load(Ordering::SeqCst), 1);
        let slow = Counting {
            delay: Duration::from_secs(5),
            ..Counting::default()
        };
        let err = limited(&slow, 1, Some(Duration::from_millis(50)))
            .call(request())
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }
}
