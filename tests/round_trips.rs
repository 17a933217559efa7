//! Round trips on the critical path, against moto behind an HTTP client that adds 50 ms to
//! every call (as a far-away region would): each wave of calls made together costs one
//! latency, so the count, not CPU, decides how long `plan` takes in a pipeline. The count comes
//! from the call log's start and end times (`CallLog::rounds`): the longest chain of calls each
//! made after the previous one answered.

mod common;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use kedactl::model::{Group, Only};
use std::time::{Duration, Instant};

const LATENCY: Duration = Duration::from_millis(50);

type Hyper = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    aws_smithy_types::body::SdkBody,
>;

/// Plain HTTP to moto, each request held back by `LATENCY` first.
#[derive(Debug, Clone)]
struct Slow(Hyper);

impl HttpConnector for Slow {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.0.clone();
        HttpConnectorFuture::new(async move {
            use http_body_util::BodyExt;
            let failed = |e: String| {
                aws_smithy_runtime_api::client::result::ConnectorError::other(e.into(), None)
            };
            tokio::time::sleep(LATENCY).await;
            let request = request
                .try_into_http1x()
                .map_err(|e| failed(e.to_string()))?;
            let response = client
                .request(request)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| failed(e.to_string()))?
                .to_bytes();
            let response =
                http::Response::from_parts(parts, aws_smithy_types::body::SdkBody::from(bytes));
            aws_smithy_runtime_api::client::orchestrator::HttpResponse::try_from(response)
                .map_err(|e| failed(e.to_string()))
        })
    }
}

#[derive(Debug)]
struct SlowClient;

impl HttpClient for SlowClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        SharedHttpConnector::new(Slow(client))
    }
}

async fn slow_aws(endpoint: &str) -> kedactl::cloud::Aws {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let conf = conf
        .into_builder()
        .http_client(SharedHttpClient::new(SlowClient))
        .build();
    kedactl::cloud::Aws::from_config(&conf)
}

/// The seed's stack with names only this test uses, made with `up` (unslowed), then a converged
/// plan's reads measured: with the account in the config, and without it.
#[tokio::test]
async fn a_converged_plan_reads_in_at_most_three_round_trips() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let p = common::unique("rt");
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        stack: p.clone(),
        ..kedactl::spec::Spec::default()
    };
    spec.roles.operator = format!("{p}-op");
    spec.roles.identity = format!("{p}-id");
    spec.apps[0].queue.name = format!("{p}-q");
    spec.apps[0].repository = format!("{p}-repo");
    let only = Only::new(vec![Group::Iam, Group::Queue, Group::Registry]);

    // Converge it first, at full speed.
    let fast = common::moto_aws(&endpoint, "us-east-1").await;
    let mut with_account = spec.clone();
    with_account.account = Some("123456789012".into());
    let d = kedactl::render::desired(&with_account).unwrap();
    let o = kedactl::observe::by_name(&fast, &d, &only).await.unwrap();
    let plan = kedactl::plan::plan(
        &d,
        &o,
        &kedactl::plan::Options {
            only: only.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    let report = kedactl::exec::execute(
        &fast,
        None,
        &plan,
        &kedactl::exec::Options::new("demo", &p),
        &kedactl::output::progress::Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:#?}");

    for (label, spec) in [
        ("account given", &with_account),
        ("account from STS", &spec),
    ] {
        let aws = slow_aws(&endpoint).await;
        let names = kedactl::render::desired(spec).unwrap();
        let start = Instant::now();
        let (caller, observed) = kedactl::observe::caller_and_names(&aws, &names, &only).await;
        let took = start.elapsed();
        caller.unwrap();
        let mut observed = observed.unwrap();
        observed.caller = None;
        let d = kedactl::render::desired_with(&with_account, &observed).unwrap();
        let again = kedactl::plan::plan(
            &d,
            &observed,
            &kedactl::plan::Options {
                only: only.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(again.is_empty(), "{label}: converged: {:?}", again.steps);
        let rounds = aws.calls.rounds();
        let calls = aws.calls.all().len();
        assert!(
            rounds <= 3,
            "{label}: {rounds} round trips ({calls} calls, {took:?}): {:#?}",
            aws.calls.all()
        );
        // The latency bounds it from below: each round costs at least one.
        assert!(took >= LATENCY * rounds as u32, "{label}: {took:?}");
        eprintln!("{label}: {calls} calls in {rounds} round trips, {took:?}");
    }
}
