//! The query KEDA's prometheus scaler runs (`ExecutePromQuery`, v2.20.2): GET
//! `<serverAddress>/api/v1/query?query=<escaped>&time=<RFC 3339>`, SigV4-signed for service
//! `aps` with the hash of an empty body (`aws_sigv4.go`), then exactly one element, or zero
//! when `ignoreNullValues`. This is the request and the reading of the answer; `aws::query`
//! sends it.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// Where and how to run one query.
#[derive(Debug, Clone)]
pub struct Request {
    /// `serverAddress` (no trailing slash).
    pub server: String,
    pub query: String,
    pub region: String,
    pub ignore_null_values: bool,
    pub timeout: Duration,
}

/// `application/x-www-form-urlencoded` escaping, as Go's `url.QueryEscape`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The signed request: the URL and its headers (`Authorization`, `X-Amz-Date`, a session
/// token when the credentials have one). Pure: credentials and time are inputs.
pub fn signed(
    r: &Request,
    credentials: &Credentials,
    now: SystemTime,
) -> anyhow::Result<http::Request<()>> {
    let time = humantime_rfc3339(now);
    let url = format!(
        "{}/api/v1/query?query={}&time={}",
        r.server.trim_end_matches('/'),
        escape(&r.query),
        escape(&time)
    );
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&r.region)
        .name("aps")
        .time(now)
        .settings(SigningSettings::default())
        .build()?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    let mut request = http::Request::builder().method("GET").uri(&url).body(())?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

/// RFC 3339 in UTC, seconds precision (Go's `time.RFC3339` of a UTC time).
fn humantime_rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    aws_smithy_types::DateTime::from_secs(secs as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// The query's value from the API's answer, with KEDA's rules: an empty result or value list
/// is 0 when `ignoreNullValues` (else an error); several elements are an error; so is a value
/// that is not a number; ±Inf and NaN are 0 when ignoring nulls.
pub fn value(body: &[u8], query: &str, ignore_null_values: bool) -> Result<f64, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not Prometheus API JSON: {e}"))?;
    let empty = |what: &str| {
        if ignore_null_values {
            Ok(0.0)
        } else {
            Err(format!(
                "prometheus metrics 'prometheus' target may be lost, the {what} is empty"
            ))
        }
    };
    let result = doc["data"]["result"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let element = match result {
        [] => return empty("result"),
        [one] => one,
        _ => {
            return Err(format!(
                "prometheus query {query} returned multiple elements ({}): KEDA needs one; aggregate it (sum, max...)",
                result.len()
            ));
        }
    };
    let pair = element["value"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let v = match pair {
        [] => return empty("value list"),
        [_] => {
            return Err(format!(
                "prometheus query {query} didn't return enough values"
            ));
        }
        [_, v, ..] => v,
    };
    let v = match v {
        Value::Null => -1.0,
        Value::String(s) => s
            .parse::<f64>()
            .map_err(|e| format!("the value {s:?} is not a number: {e}"))?,
        other => return Err(format!("the value {other} is not a string")),
    };
    if v.is_nan() || v.is_infinite() {
        return match ignore_null_values {
            true => Ok(0.0),
            false => Err(format!("prometheus query returns {v}")),
        };
    }
    Ok(v)
}

/// Each element's value of an instant vector answer (doctor counts the series a query finds).
pub fn values(body: &[u8]) -> Result<Vec<f64>, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not Prometheus API JSON: {e}"))?;
    let result = doc["data"]["result"]
        .as_array()
        .ok_or("the answer has no data.result list")?;
    result
        .iter()
        .map(|e| match &e["value"][1] {
            Value::String(s) => s
                .parse::<f64>()
                .map_err(|e| format!("the value {s:?} is not a number: {e}")),
            other => Err(format!("the value {other} is not a string")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_read_with_kedas_rules() {
        let one = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.75"]}]}}"#;
        assert_eq!(value(one, "q", true), Ok(0.75));
        let none = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(value(none, "q", true), Ok(0.0));
        assert!(value(none, "q", false).unwrap_err().contains("is empty"));
        let two = br#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}"#;
        assert!(
            value(two, "q", true)
                .unwrap_err()
                .contains("multiple elements (2)")
        );
        let scalar =
            br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#;
        // A scalar's `result` is the pair itself: KEDA reads it as two elements.
        assert!(value(scalar, "q", true).is_err());
        let nan = br#"{"data":{"result":[{"value":[1,"NaN"]}]}}"#;
        assert_eq!(value(nan, "q", true), Ok(0.0));
        assert!(value(nan, "q", false).is_err());
        assert_eq!(values(two), Ok(vec![1.0, 2.0]));
        assert_eq!(values(none), Ok(vec![]));
        let short = br#"{"data":{"result":[{"value":[1]}]}}"#;
        assert!(
            value(short, "q", true)
                .unwrap_err()
                .contains("enough values")
        );
    }

    #[test]
    fn the_query_is_escaped_as_go_does_and_signed_for_aps() {
        assert_eq!(
            escape(r#"sum(rate(x{a="b"}[1m]))"#),
            "sum%28rate%28x%7Ba%3D%22b%22%7D%5B1m%5D%29%29"
        );
        assert_eq!(escape("a b"), "a+b");
        let creds = Credentials::new("AKID", "secret", Some("token".into()), None, "test");
        let r = Request {
            server: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1".into(),
            query: "up".into(),
            region: "us-east-1".into(),
            ignore_null_values: true,
            timeout: Duration::from_secs(5),
        };
        // 2026-11-24T08:00:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_507_200);
        let req = signed(&r, &creds, now).unwrap();
        assert_eq!(
            req.uri().to_string(),
            "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/query?query=up&time=2026-11-24T08%3A00%3A00Z"
        );
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/aps/aws4_request"
            ),
            "{auth}"
        );
        assert_eq!(req.headers()["x-amz-security-token"], "token");
    }
}
