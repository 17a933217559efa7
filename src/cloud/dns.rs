//! A host name that does not resolve costs at most `--connect-timeout`, then fails: hyper's
//! connect timeout covers the TCP connect, not the DNS lookup before it (a resolver that drops
//! a packet waits 5 s), and the SDK counts every dispatch failure as transient and backs off up
//! to five times (about 12 s). So the lookup gets the connect timeout, and an answer of "no such
//! host" (or no answer in that time) is not retried; a resolver that could not answer at once
//! ("temporary failure") still is.

use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use std::time::Duration;

/// What a lookup that outlived the connect timeout says (and the classifier looks for).
pub(crate) const LOOKUP_TIMED_OUT: &str = "DNS lookup timed out";

/// The SDK's default HTTPS client (rustls with aws-lc, the proxy from HTTPS_PROXY / NO_PROXY,
/// as `aws-smithy-runtime`'s `default_https_client` builds it) with a lookup bounded by
/// `connect`.
pub fn https_client(connect: Duration) -> SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build_with_resolver(TimedResolver { timeout: connect })
    })
}

/// getaddrinfo on a blocking thread (as the SDK's own resolver), given up after `timeout`.
#[derive(Debug, Clone)]
struct TimedResolver {
    timeout: Duration,
}

impl ResolveDns for TimedResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let (name, timeout) = (name.to_string(), self.timeout);
        DnsFuture::new(async move {
            match tokio::time::timeout(timeout, tokio::net::lookup_host((name.as_str(), 0))).await {
                Ok(Ok(addrs)) => Ok(addrs.map(|a| a.ip()).collect()),
                Ok(Err(e)) => Err(ResolveDnsError::new(e)),
                Err(_) => Err(ResolveDnsError::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{LOOKUP_TIMED_OUT} after {} s (--connect-timeout)",
                        timeout.as_secs()
                    ),
                ))),
            }
        })
    }
}

/// Forbids retrying a call whose host does not resolve or refuses the connection.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnresolvableHost;

impl ClassifyRetry for UnresolvableHost {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(connector) = err.as_connector_error() else {
            return RetryAction::NoActionIndicated;
        };
        let mut chain = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(connector);
        while let Some(e) = source {
            chain.push(e.to_string());
            source = e.source();
        }
        match host_not_found(&chain.join(": ")) || refused(&chain.join(": ")) {
            true => RetryAction::RetryForbidden,
            false => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "kedactl: host name does not resolve, or nothing listens there"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Nothing listens at the endpoint (TCP reset on connect). AWS's endpoints do not refuse: this is
/// a wrong --endpoint-url or proxy, and with ten attempts per call (throttling is normal) its
/// retries would only delay the error by minutes.
fn refused(chain: &str) -> bool {
    chain.to_ascii_lowercase().contains("connection refused")
}

/// The error chain of a failed connection says the name has no address (hyper-util's "dns
/// error", getaddrinfo's EAI_NONAME / EAI_NODATA) or no answer came within the connect timeout,
/// not that the resolver could not be asked this time.
fn host_not_found(chain: &str) -> bool {
    let c = chain.to_ascii_lowercase();
    c.contains(&LOOKUP_TIMED_OUT.to_ascii_lowercase())
        || ((c.contains("dns error") || c.contains("failed to lookup address"))
            && !c.contains("temporary failure")
            && !c.contains("try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answered_lookup_is_final() {
        assert!(host_not_found(
            "io error: client error (Connect): dns error: failed to lookup address information: Name or service not known"
        ));
        assert!(host_not_found(
            "dns error: failed to lookup address information: No address associated with hostname"
        ));
        assert!(!host_not_found(
            "dns error: failed to lookup address information: Temporary failure in name resolution"
        ));
        assert!(host_not_found(
            "dns error: DNS lookup timed out after 2 s (--connect-timeout)"
        ));
        assert!(!host_not_found("tcp connect error: Connection refused"));
        assert!(!host_not_found("connection timed out"));
    }

    #[test]
    fn a_refused_connection_is_final() {
        assert!(refused(
            "io error: client error (Connect): tcp connect error: Connection refused (os error 111)"
        ));
        assert!(!refused("connection timed out"));
        assert!(!refused("connection reset by peer"));
    }
}
