//! The prometheus trigger's query against a local server speaking Prometheus' HTTP API
//! (`GET /api/v1/query`, the JSON of a vector) that, like AMP, refuses any request whose SigV4
//! signature for service `aps` does not verify. The server recomputes the signature from what
//! it received (method, path, query, host, x-amz-date, session token) with the secret key, so a
//! request kedactl signed wrongly, or for another service or region, is refused as AMP would.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use kedactl::triggers::prometheus::aws::query::{Request, run};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, SystemTime};

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// What the server answers for a verified query, by the query's text.
fn answer(query: &str) -> String {
    match query {
        "sum(rate(ho11y_total[1m]))" => r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795507200,"0.75"]}]}}"#.into(),
        "rate(ho11y_total[1m])" => r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1,"1"]},{"metric":{"pod":"b"},"value":[1,"2"]}]}}"#.into(),
        _ => r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.into(),
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The signature AMP would expect for this request, from the signed headers it carries.
fn expected_authorization(target: &str, host: &str, date: &str, token: Option<&str>) -> String {
    let time = chrono_like(date);
    let creds = Credentials::new(KEY, SECRET, token.map(str::to_string), None, "server");
    let identity = creds.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("aps")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{host}{target}");
    let signable =
        SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[])).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder().uri(&url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req.headers()["authorization"].to_str().unwrap().to_string()
}

/// `20261124T080000Z` as a time.
fn chrono_like(date: &str) -> SystemTime {
    let n = |a: usize, b: usize| date[a..b].parse::<i64>().unwrap();
    let (y, mo, d, h, mi, s) = (n(0, 4), n(4, 6), n(6, 8), n(9, 11), n(11, 13), n(13, 15));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    SystemTime::UNIX_EPOCH + Duration::from_secs((days * 86_400 + h * 3600 + mi * 60 + s) as u64)
}

/// Serve on a free port; every request is checked like AMP checks it.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                let mut reader = BufReader::new(conn);
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut headers = std::collections::HashMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let get = |k: &str| headers.get(k).map(String::as_str);
                let (status, body) = match (get("authorization"), get("x-amz-date"), get("host"))
                {
                    (Some(auth), Some(date), Some(host))
                        if auth
                            == expected_authorization(
                                &target,
                                host,
                                date,
                                get("x-amz-security-token"),
                            ) =>
                    {
                        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                        let q = query
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("query="))
                            .map(decode)
                            .unwrap_or_default();
                        let has_time = query.split('&').any(|kv| kv.starts_with("time="));
                        if path != "/workspaces/ws-1/api/v1/query" || !has_time {
                            ("404 Not Found", r#"{"message":"not found"}"#.to_string())
                        } else {
                            ("200 OK", answer(&q))
                        }
                    }
                    _ => (
                        "403 Forbidden",
                        r#"{"message":"The request signature we calculated does not match the signature you provided."}"#.to_string(),
                    ),
                };
                let _ = write!(
                    out,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    base
}

fn request(base: &str, query: &str) -> Request {
    Request {
        server: format!("{base}/workspaces/ws-1"),
        query: query.into(),
        region: "us-east-1".into(),
        ignore_null_values: true,
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_signed_query_reads_one_element_as_keda_does() {
    let base = serve();
    let creds = Credentials::new(KEY, SECRET, Some("session".into()), None, "test");
    let v = run(&request(&base, "sum(rate(ho11y_total[1m]))"), &creds)
        .await
        .unwrap();
    assert_eq!(v, 0.75);
    // An empty result is 0 with ignoreNullValues (KEDA's default), an error without.
    assert_eq!(run(&request(&base, "absent"), &creds).await.unwrap(), 0.0);
    let mut strict = request(&base, "absent");
    strict.ignore_null_values = false;
    let e = run(&strict, &creds).await.unwrap_err();
    assert!(e.message.contains("is empty"), "{e}");
}

#[tokio::test]
async fn several_series_are_refused_as_keda_refuses_them() {
    let base = serve();
    let creds = Credentials::new(KEY, SECRET, None, None, "test");
    let e = run(&request(&base, "rate(ho11y_total[1m])"), &creds)
        .await
        .unwrap_err();
    assert!(e.message.contains("returned multiple elements (2)"), "{e}");
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_403_and_the_grant_to_check() {
    let base = serve();
    let creds = Credentials::new(KEY, "not the secret", None, None, "test");
    let e = run(&request(&base, "sum(rate(ho11y_total[1m]))"), &creds)
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(403));
    assert!(e.to_string().contains("status: 403"), "{e}");
    assert!(e.fix.as_deref().unwrap().contains("aps:QueryMetrics"));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // Accepts the connection, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let _held: Vec<_> = listener.incoming().flatten().collect();
    });
    let mut r = request(&base, "up");
    r.timeout = Duration::from_millis(300);
    let creds = Credentials::new(KEY, SECRET, None, None, "test");
    let e = run(&r, &creds).await.unwrap_err();
    assert!(e.message.contains("no answer within"), "{e}");
}

/// doctor's KD049 counts the series a query finds: KEDA reads an empty answer as 0, so only
/// the count tells "nothing collected" from "zero".
#[tokio::test]
async fn doctor_counts_every_series_of_a_signed_query() {
    use kedactl::triggers::prometheus::aws::query::series;
    let base = serve();
    let creds = Credentials::new(KEY, SECRET, Some("session".into()), None, "test");
    let two = series(&request(&base, "rate(ho11y_total[1m])"), &creds)
        .await
        .unwrap();
    assert_eq!(two, [1.0, 2.0]);
    let none = series(&request(&base, "absent_metric"), &creds)
        .await
        .unwrap();
    assert!(none.is_empty());
    // The same query KEDA reads as 0.
    assert_eq!(
        run(&request(&base, "absent_metric"), &creds).await.unwrap(),
        0.0
    );
}
