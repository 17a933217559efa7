//! Sending the query KEDA's prometheus scaler runs (`super::super::query` builds and signs it
//! and reads the answer).

pub use super::super::query::Request;
use super::super::query::{signed, value, values};
use crate::cloud::CallError;
use aws_credential_types::Credentials;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use std::time::SystemTime;

/// Largest answer kedactl reads (a one-element vector is a few hundred bytes).
const MAX_BODY: usize = 1 << 20;

/// Run the query once, as KEDA would.
pub async fn run(r: &Request, credentials: &Credentials) -> Result<f64, CallError> {
    let (status, body) = fetch(r, credentials).await?;
    value(&body, &r.query, r.ignore_null_values).map_err(|m| failure(r, m, Some(status)))
}

/// Run the query once and read every series' value.
pub async fn series(r: &Request, credentials: &Credentials) -> Result<Vec<f64>, CallError> {
    let (status, body) = fetch(r, credentials).await?;
    values(&body).map_err(|m| failure(r, m, Some(status)))
}

fn failure(r: &Request, message: String, status: Option<u16>) -> CallError {
    CallError {
        operation: "aps:QueryMetrics",
        resource: r.server.clone(),
        code: None,
        message,
        status,
        fix: None,
    }
}

/// The signed GET and its successful answer (status, body).
async fn fetch(r: &Request, credentials: &Credentials) -> Result<(u16, Bytes), CallError> {
    let fail = |message: String, status: Option<u16>| failure(r, message, status);
    let request =
        signed(r, credentials, SystemTime::now()).map_err(|e| fail(e.to_string(), None))?;
    let (parts, ()) = request.into_parts();
    let request = http::Request::from_parts(parts, Empty::<Bytes>::new());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| fail(format!("no TLS root certificates: {e}"), None))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(https);
    let response = tokio::time::timeout(r.timeout, async {
        let response = client
            .request(request)
            .await
            .map_err(|e| fail(format!("the query could not be sent: {e}"), None))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| fail(format!("the answer could not be read: {e}"), Some(status)))?
            .to_bytes();
        Ok::<_, CallError>((status, body))
    })
    .await
    .map_err(|_| fail(format!("no answer within {} s", r.timeout.as_secs()), None))??;
    let (status, body) = response;
    if !(200..=299).contains(&status) {
        let text = String::from_utf8_lossy(&body);
        let mut e = fail(
            format!(
                "prometheus query api returned error. status: {status}: {}",
                text.trim()
            ),
            Some(status),
        );
        if status == 403 {
            e.code = Some("AccessDenied".into());
            e.fix = Some("the caller needs aps:QueryMetrics on the workspace (kedactl up grants it to the identity role; `kedactl doctor` checks it)".into());
        }
        return Err(e);
    }
    Ok((status, body))
}
