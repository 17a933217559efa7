//! The AWS boundary: one set of SDK clients built from the standard credential chain (with
//! `--profile`, `--region`, `--endpoint-url` / `AWS_ENDPOINT_URL` for moto or LocalStack), a log
//! of every API call, and the error shapes the rest of kedactl needs.

pub mod caller_policy;
mod calls;
mod dns;
pub(crate) mod eks;
mod in_flight;
pub mod permissions;
pub mod profile;
pub(crate) mod read;

pub use calls::{Call, CallLog, watch_throttling};

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use std::fmt;

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// The profile came from --profile, not AWS_PROFILE: its credentials win over keys in the
    /// environment (the AWS CLI's order; the SDK's default chain reads the environment first).
    pub profile_from_flag: bool,
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL`, which the SDK reads itself: only to name the endpoint in errors.
    pub endpoint_from_env: Option<String>,
    pub timeouts: crate::limits::Timeouts,
    pub retries: Retries,
    /// Requests in flight at once per AWS service (`--max-in-flight`); None: the default.
    pub max_in_flight: Option<u32>,
}

/// How AWS calls are retried: `--max-attempts` / AWS_MAX_ATTEMPTS, `--retry-mode` / AWS_RETRY_MODE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    pub max_attempts: u32,
    pub mode: RetryMode,
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            max_attempts: crate::limits::DEFAULT_MAX_ATTEMPTS,
            mode: RetryMode::Adaptive,
        }
    }
}

/// AWS's retry modes (the names the AWS CLI and SDKs read from AWS_RETRY_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RetryMode {
    /// Retries with backoff, and a client-side rate limiter per service that slows down as soon
    /// as AWS throttles and speeds up again as calls succeed
    #[default]
    Adaptive,
    /// Retries with backoff only (`legacy` is read as this)
    #[value(alias = "legacy")]
    Standard,
}

/// The SDK clients kedactl uses, all sharing one configuration and one call log.
#[derive(Clone, Debug)]
pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub eks: aws_sdk_eks::Client,
    /// Only to resolve a queue key's alias to the key a grant must name (DescribeKey).
    pub kms: aws_sdk_kms::Client,
    /// Amazon Managed Service for Prometheus (the prometheus trigger's workspace).
    pub amp: aws_sdk_amp::Client,
    /// CloudWatch metrics (the cloudwatch trigger's GetMetricData).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Kinesis Data Streams (the kinesis trigger's stream).
    pub kinesis: aws_sdk_kinesis::Client,
    /// DynamoDB (the dynamodb and dynamodb-streams triggers' tables, and their Query).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// DynamoDB Streams (the dynamodb-streams trigger's shard count).
    pub dynamodbstreams: aws_sdk_dynamodbstreams::Client,
    /// The Resource Groups Tagging API: the stack's queues and repositories by tag, in one
    /// search (what an earlier config named, for pruning).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub calls: CallLog,
    /// Signs the EKS token kedactl reaches the cluster with.
    pub credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    pub region: String,
}

impl Aws {
    /// Load the standard AWS configuration (env, profile, SSO, IMDS...) with kedactl's overrides.
    pub async fn connect(settings: &Settings) -> Aws {
        let conf = sdk_config(settings, Transport::default()).await;
        remember_network(Network {
            // The flag wins over the environment, as in the loader.
            endpoint: settings
                .endpoint_url
                .clone()
                .or_else(|| settings.endpoint_from_env.clone()),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
            call_timeout: settings.timeouts.call,
            credentials_from: credentials_source(
                settings.profile.as_deref(),
                settings.profile_from_flag,
            ),
        });
        Aws::from_config_limited(
            &conf,
            settings
                .max_in_flight
                .unwrap_or(crate::limits::DEFAULT_MAX_IN_FLIGHT),
        )
    }

    /// Clients from a loaded configuration (tests pass their own, e.g. pointing at moto).
    pub fn from_config(conf: &SdkConfig) -> Aws {
        Aws::from_config_limited(conf, crate::limits::DEFAULT_MAX_IN_FLIGHT)
    }

    /// The same, with at most `max_in_flight` requests on the wire per service.
    pub fn from_config_limited(conf: &SdkConfig, max_in_flight: u32) -> Aws {
        let calls = CallLog::default();
        // Each attempt is timed from when it holds its permit (see `in_flight`).
        let timeouts = conf
            .timeout_config()
            .cloned()
            .unwrap_or_else(|| aws_config::timeout::TimeoutConfig::builder().build());
        let attempt = timeouts.operation_attempt_timeout();
        let http = conf.http_client();
        // Every client logs its calls, has its service's own retry partition (one throttled
        // service must not slow the others) and its own cap on requests in flight, and does
        // not retry a host name that does not resolve or an attempt that got no answer in time.
        macro_rules! client {
            ($sdk:ident, $service:literal) => {{
                let mut b = $sdk::config::Builder::from(conf)
                    .interceptor(calls.clone())
                    .retry_partition(retry_partition($service))
                    .retry_classifier(dns::UnresolvableHost)
                    .retry_classifier(NoRetryWithoutAnswer);
                if let Some(http) = &http {
                    b = b
                        .http_client(in_flight::limit(http.clone(), max_in_flight, attempt))
                        .timeout_config(
                            timeouts.to_builder().disable_operation_attempt_timeout().build(),
                        )
                        // Upload stall protection starts its clock before a request waits for
                        // its permit (and fails it after 5 s of waiting); the attempt timeout
                        // covers a stalled send once it is on the wire.
                        .stalled_stream_protection(
                            aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig::enabled()
                                .upload_enabled(false)
                                .build(),
                        );
                }
                $sdk::Client::from_conf(b.build())
            }};
        }
        Aws {
            iam: client!(aws_sdk_iam, "iam"),
            sts: client!(aws_sdk_sts, "sts"),
            sqs: client!(aws_sdk_sqs, "sqs"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            eks: client!(aws_sdk_eks, "eks"),
            kms: client!(aws_sdk_kms, "kms"),
            amp: client!(aws_sdk_amp, "amp"),
            cloudwatch: client!(aws_sdk_cloudwatch, "cloudwatch"),
            kinesis: client!(aws_sdk_kinesis, "kinesis"),
            dynamodb: client!(aws_sdk_dynamodb, "dynamodb"),
            dynamodbstreams: client!(aws_sdk_dynamodbstreams, "dynamodbstreams"),
            tagging: client!(aws_sdk_resourcegroupstagging, "tagging"),
            calls,
            credentials: conf.credentials_provider(),
            region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// Replace the EKS client (tests use aws-smithy-mocks where moto lacks the API).
    pub fn with_eks(mut self, eks: aws_sdk_eks::Client) -> Aws {
        self.eks = eks;
        self
    }

    /// Replace the SQS client (fault-injection tests).
    pub fn with_sqs(mut self, sqs: aws_sdk_sqs::Client) -> Aws {
        self.sqs = sqs;
        self
    }

    /// Replace the ECR client (fault-injection tests).
    pub fn with_ecr(mut self, ecr: aws_sdk_ecr::Client) -> Aws {
        self.ecr = ecr;
        self
    }

    /// Replace the AMP client (tests answer the scraper calls, which moto lacks).
    pub fn with_amp(mut self, amp: aws_sdk_amp::Client) -> Aws {
        self.amp = amp;
        self
    }

    /// Replace the CloudWatch client (tests: moto 5.2.5 does not speak the SDK's rpcv2Cbor).
    pub fn with_cloudwatch(mut self, cloudwatch: aws_sdk_cloudwatch::Client) -> Aws {
        self.cloudwatch = cloudwatch;
        self
    }

    /// Replace the tag search client (tests answer it where moto would not refuse).
    pub fn with_tagging(mut self, tagging: aws_sdk_resourcegroupstagging::Client) -> Aws {
        self.tagging = tagging;
        self
    }

    /// Replace the IAM client (tests answer the policy simulator, which moto lacks).
    pub fn with_iam(mut self, iam: aws_sdk_iam::Client) -> Aws {
        self.iam = iam;
        self
    }
}

/// What tests change in how the clients reach AWS; `Transport::default()` is production.
#[derive(Debug, Default)]
pub struct Transport {
    /// Replaces the SDK's HTTPS client (tests: aws-smithy-mocks' client, a silent one).
    pub http_client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    /// Test-sized retry backoff: the same attempts, waits of milliseconds.
    pub backoff: Option<Backoff>,
}

/// The wait before the first retry and the longest wait between two.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: std::time::Duration,
    pub max: std::time::Duration,
}

/// The one configuration every client is built from (`Aws::connect`, and the tests that answer
/// calls with mocks): the standard chain, kedactl's retry and timeout policy, the settings.
pub async fn sdk_config(settings: &Settings, transport: Transport) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(settings.retries, transport.backoff))
        .timeout_config(timeout_config(&settings.timeouts, settings.retries));
    if let Some(r) = &settings.region {
        loader = loader.region(Region::new(r.clone()));
    }
    let http = transport
        .http_client
        .unwrap_or_else(|| dns::https_client(settings.timeouts.connect));
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
        if settings.profile_from_flag {
            let conf = aws_config::provider_config::ProviderConfig::without_region()
                .with_region(settings.region.clone().map(Region::new))
                .with_http_client(http.clone());
            loader = loader.credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&conf)
                    .profile_name(p)
                    .build(),
            );
        }
    }
    if let Some(u) = &settings.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    loader = loader.http_client(http);
    // `app/kedactl` in the User-Agent: CloudTrail tells kedactl's calls apart, and the tests'
    // recording proxy tells them from the tests' own setup calls.
    if let Ok(name) = aws_config::AppName::new("kedactl") {
        loader = loader.app_name(name);
    }
    loader.load().await
}

/// Adaptive retries by default (`Retries`): IAM and EKS throttle bursts of control-plane calls,
/// and 5xx are transient; AccessDenied and other client errors are not retried. AWS's Retry
/// Behavior 2.1 (what AWS_NEW_RETRIES_2026=true turns on): each retry first takes a send token
/// from the service's rate limiter, so the retries of a throttled burst go out at the rate AWS
/// allows instead of together again after the same backoff (2.0 only delays them, and a burst
/// of 100 throttled calls is throttled again, attempt after attempt, until it fails).
///
/// With a test `backoff`, standard mode with the same attempts: after a throttle, the adaptive
/// rate limiter holds each retry for seconds, and never releases it under a mock client's
/// frozen clock. What is retried, and how often, is the same in both modes.
pub fn retry_config(retries: Retries, backoff: Option<Backoff>) -> RetryConfig {
    let standard = RetryConfig::standard().with_max_attempts(retries.max_attempts);
    match (backoff, retries.mode) {
        (Some(b), _) => standard
            .with_initial_backoff(b.initial)
            .with_max_backoff(b.max),
        (None, RetryMode::Standard) => standard,
        (None, RetryMode::Adaptive) => RetryConfig::adaptive()
            .with_max_attempts(retries.max_attempts)
            .with_retry_spec(aws_smithy_types::retry::RetrySpec::v2_1()),
    }
}

/// An attempt that got no answer in time (the call timeout, or the connect timeout) ends the
/// call: retrying a silent endpoint would only multiply the wait by the attempts. Throttling,
/// 5xx and broken connections are still retried.
#[derive(Debug)]
struct NoRetryWithoutAnswer;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry for NoRetryWithoutAnswer {
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        match ctx.output_or_error() {
            Some(Err(e))
                if e.is_timeout_error()
                    || e.as_connector_error().is_some_and(|c| c.is_timeout()) =>
            {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "kedactl::NoRetryWithoutAnswer"
    }

    fn priority(
        &self,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Each service's own adaptive rate limiter (IAM's throttling must not slow SQS) and no retry
/// quota: the SDK's default quota (500 tokens, 5 a throttled retry, shared by every client of a
/// service) runs dry after about 100 throttles and then fails calls that still had attempts
/// left; kedactl's calls are bounded by `--max-attempts` and the call budget instead.
fn retry_partition(service: &'static str) -> aws_sdk_iam::config::retry::RetryPartition {
    use aws_sdk_iam::config::retry::{ClientRateLimiter, RetryPartition, TokenBucket};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    RetryPartition::custom(service)
        .token_bucket(TokenBucket::unlimited())
        .client_rate_limiter(ClientRateLimiter::new(now))
        .build()
}

/// What a failed call's message needs to say where it went and as whom: set once by
/// `Aws::connect` (tests that build clients themselves get the generic wording).
#[derive(Debug, Clone, Default)]
struct Network {
    endpoint: Option<String>,
    region: String,
    call_timeout: std::time::Duration,
    credentials_from: String,
}

static NETWORK: std::sync::RwLock<Option<Network>> = std::sync::RwLock::new(None);

fn remember_network(n: Network) {
    if let Ok(mut slot) = NETWORK.write() {
        *slot = Some(n);
    }
}

/// The call timeout `Aws::connect` was given (requests kedactl makes itself use it too).
pub fn call_timeout() -> std::time::Duration {
    let t = network().call_timeout;
    if t.is_zero() {
        crate::limits::Timeouts::default().call
    } else {
        t
    }
}

fn network() -> Network {
    NETWORK
        .read()
        .ok()
        .and_then(|n| n.clone())
        .unwrap_or_default()
}

/// Where the SDK's credential chain will find credentials, in the order it looks.
fn credentials_source(profile: Option<&str>, from_flag: bool) -> String {
    let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if let (Some(p), true) = (profile, from_flag) {
        format!("profile {p} (--profile; SSO if it is an SSO profile)")
    } else if env("AWS_ACCESS_KEY_ID") {
        "the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)".into()
    } else if let Some(p) = profile {
        format!("profile {p} (--profile / AWS_PROFILE; SSO if it is an SSO profile)")
    } else if env("AWS_WEB_IDENTITY_TOKEN_FILE") {
        "the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)".into()
    } else {
        "the default profile, SSO, or this machine's role".into()
    }
}

/// The endpoint an operation went to, as a person would check it.
fn endpoint_of(operation: &str, n: &Network) -> String {
    if let Some(url) = &n.endpoint {
        return url.clone();
    }
    let region = if n.region.is_empty() {
        "<region>"
    } else {
        n.region.as_str()
    };
    match action_name(operation).split(':').next().unwrap_or_default() {
        "iam" => "https://iam.amazonaws.com".into(),
        "ecr" => format!("https://api.ecr.{region}.amazonaws.com"),
        service => format!("https://{service}.{region}.amazonaws.com"),
    }
}

const NO_ANSWER: &str = "no answer in time";

/// Why no answer came, from the transport's error chain: refused, DNS, TLS or timeout.
pub(crate) fn network_failure(chain: &str, timed_out: bool) -> Option<&'static str> {
    let c = chain.to_ascii_lowercase();
    Some(if c.contains(&dns::LOOKUP_TIMED_OUT.to_ascii_lowercase()) {
        "the host name did not resolve within --connect-timeout (DNS)"
    } else if timed_out || c.contains("timed out") || c.contains("timeout") {
        NO_ANSWER
    } else if c.contains("connection refused") {
        "connection refused"
    } else if c.contains("dns error") || c.contains("lookup address") {
        "the host name does not resolve (DNS)"
    } else if c.contains("certificate") || c.contains("tls") {
        "the TLS handshake failed"
    } else if c.contains("connection reset")
        || c.contains("connection closed")
        || c.contains("broken pipe")
    {
        "the connection was closed without an answer"
    } else if c.contains("io error") || c.contains("connect") {
        "the connection failed"
    } else {
        return None;
    })
}

/// A connection must open within `connect`, and each attempt answer within `call`, so a silent
/// endpoint ends the run (after the attempts) instead of hanging it. All attempts together, with
/// the waits for the service's rate limiter while it throttles, get the larger of all attempts'
/// time and `CALL_BUDGET`: a throttled call waits its turn, it has not failed.
pub fn timeout_config(
    t: &crate::limits::Timeouts,
    retries: Retries,
) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .read_timeout(t.call)
        .operation_attempt_timeout(t.call)
        .operation_timeout(
            (t.call.saturating_mul(retries.max_attempts)).max(crate::limits::CALL_BUDGET),
        )
        .build()
}

/// A failed AWS call, with what kedactl was doing and what AWS said.
#[derive(Debug, thiserror::Error)]
pub struct CallError {
    /// e.g. "CreateRole".
    pub operation: &'static str,
    /// e.g. "IAM role keda-operator".
    pub resource: String,
    /// AWS error code, e.g. "AccessDenied", when AWS sent one.
    pub code: Option<String>,
    pub message: String,
    /// HTTP status when there was a response.
    pub status: Option<u16>,
    /// What to do, when kedactl knows (bad credentials, an unreachable endpoint).
    pub fix: Option<String>,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {} failed", self.operation, self.resource)?;
        match (&self.code, self.status) {
            (Some(code), _) => write!(f, ": {code}")?,
            (None, Some(status)) => write!(f, ": HTTP {status}")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        } else if self.is_access_denied() {
            write!(
                f,
                "\n  fix: the caller needs permission for {} (see `kedactl doctor`, or run as an identity allowed to manage this stack)",
                action_name(self.operation)
            )?;
        }
        Ok(())
    }
}

impl CallError {
    /// A failure kedactl finds itself before or without an AWS answer.
    pub fn local(
        operation: &'static str,
        resource: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CallError {
            operation,
            resource: resource.into(),
            code: None,
            message: message.into(),
            status: None,
            fix: None,
        }
    }

    pub fn new<E>(
        operation: &'static str,
        resource: impl Into<String>,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let net = network();
        let mut fix = None;
        let (code, message) = match err {
            SdkError::ServiceError(s) => (
                s.err().code().map(str::to_string),
                s.err()
                    .message()
                    .map_or_else(|| s.err().to_string(), str::to_string),
            ),
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                let chain = describe(err);
                let timed_out = match err {
                    SdkError::DispatchFailure(d) => d.is_timeout(),
                    _ => true,
                };
                if chain.contains("credentials") && !timed_out {
                    fix = Some(format!(
                        "configure AWS credentials: kedactl looked in {} (aws configure, aws sso login, or --profile)",
                        net.credentials_from
                    ));
                    (None, format!("no AWS credentials: {chain}"))
                } else {
                    let endpoint = endpoint_of(operation, &net);
                    let why = match network_failure(&chain, timed_out) {
                        Some(NO_ANSWER) => match net.call_timeout.as_secs() {
                            0 => NO_ANSWER.to_string(),
                            s => format!("{NO_ANSWER} (--connect-timeout, --call-timeout {s} s)"),
                        },
                        Some(why) => why.to_string(),
                        None => format!("no answer ({chain})"),
                    };
                    fix = Some(
                        "check the endpoint (--endpoint-url / AWS_ENDPOINT_URL, --region), the network or proxy (HTTPS_PROXY); raise --call-timeout / --connect-timeout for a slow link"
                            .into(),
                    );
                    (None, format!("could not reach {endpoint}: {why}"))
                }
            }
            other => (None, describe(other)),
        };
        let status = err.raw_response().map(|r| r.status().as_u16());
        if fix.is_none()
            && matches!(
                code.as_deref(),
                Some(
                    "InvalidClientTokenId"
                        | "SignatureDoesNotMatch"
                        | "ExpiredToken"
                        | "ExpiredTokenException"
                        | "UnrecognizedClientException"
                        | "InvalidSignatureException"
                        | "AuthFailure"
                )
            )
        {
            fix = Some(format!(
                "the AWS credentials are invalid or expired (they came from {}): refresh them (aws sso login, new keys) or pick others with --profile",
                net.credentials_from
            ));
        }
        CallError {
            operation,
            resource: resource.into(),
            code,
            message,
            status,
            fix,
        }
    }

    /// AccessDenied, or a bare 403 (moto's enforced-auth 403s carry no parsable code).
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
        ) || (self.code.is_none() && self.status == Some(403))
    }
}

/// An error and all its sources, joined: transport errors keep the cause (refused, timed out)
/// in a source, not in their own text.
pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// "CreateRole" → "iam:CreateRole" for messages about permissions.
fn action_name(operation: &str) -> String {
    if operation.contains(':') {
        // Already service-qualified (operations several services share a name for).
        return operation.to_string();
    }
    let service = match operation {
        op if op.contains("Workspace") || op.contains("Scraper") => "aps",
        "GetCallerIdentity" => "sts",
        "DescribeKey" => "kms",
        op if op.contains("Queue") => "sqs",
        op if op.contains("Repositor") || op.contains("Images") => "ecr",
        op if op.contains("Addon")
            || op.contains("Association")
            || op.contains("Cluster")
            || op.contains("Nodegroup") =>
        {
            "eks"
        }
        _ => "iam",
    };
    format!("{service}:{operation}")
}

/// A delete whose target is already gone (any of the `gone` error codes) has done its job.
pub fn gone_is_fine<T, E>(
    r: Result<T, SdkError<E, HttpResponse>>,
    gone: &[&str],
    operation: &'static str,
    resource: String,
) -> Result<(), CallError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e).is_some_and(|c| gone.contains(&c)) => Ok(()),
        Err(e) => Err(CallError::new(operation, resource, &e)),
    }
}

/// The service error code of a failed call, if AWS returned one.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_calls_name_the_permission() {
        let e = CallError {
            operation: "CreateQueue",
            resource: "SQS queue q".into(),
            code: None,
            message: String::new(),
            status: Some(403),
            fix: None,
        };
        assert!(e.is_access_denied());
        let text = e.to_string();
        assert!(
            text.starts_with("CreateQueue on SQS queue q failed: HTTP 403"),
            "{text}"
        );
        assert!(text.contains("sqs:CreateQueue"), "{text}");
        assert_eq!(
            action_name("CreatePodIdentityAssociation"),
            "eks:CreatePodIdentityAssociation"
        );
        assert_eq!(action_name("PutRolePolicy"), "iam:PutRolePolicy");
        assert_eq!(
            action_name("DescribeRepositories"),
            "ecr:DescribeRepositories"
        );
    }
}
