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
    slow_aws_limited(endpoint, kedactl::limits::DEFAULT_MAX_IN_FLIGHT).await
}

/// `slow_aws` with at most `max_in_flight` requests on the wire per service.
async fn slow_aws_limited(endpoint: &str, max_in_flight: u32) -> kedactl::cloud::Aws {
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
    kedactl::cloud::Aws::from_config_limited(&conf, max_in_flight)
}

/// Issue 28: calls that wait for a free slot (`--max-in-flight`) start their round trip when
/// they go out, so `-v`'s count shows the waves the limit makes: six reads at once with room
/// for two are three round trips, not one.
#[tokio::test]
async fn calls_waiting_for_a_slot_are_later_round_trips() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let aws = slow_aws_limited(&endpoint, 2).await;
    let start = Instant::now();
    let reads = (0..6).map(|_| aws.sts.get_caller_identity().send());
    for r in futures_util::future::join_all(reads).await {
        r.unwrap();
    }
    let took = start.elapsed();
    assert_eq!(aws.calls.rounds(), 3, "{took:?}: {:#?}", aws.calls.all());
    assert!(took >= LATENCY * 3, "{took:?}");
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
        &kedactl::exec::Options {
            trust_watch: std::time::Duration::from_millis(1),
            ..kedactl::exec::Options::new("demo", &p)
        },
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
        // As `plan` reads: the search for what the config no longer names beside the reads.
        let ((caller, observed), found) = tokio::join!(
            kedactl::observe::caller_and_names(&aws, &names, &only),
            kedactl::observe::leftovers::search(&aws, &names, &only)
        );
        caller.unwrap();
        let mut observed = observed.unwrap();
        observed.caller = None;
        let d = kedactl::render::desired_with(&with_account, &observed).unwrap();
        let unchecked =
            kedactl::observe::leftovers::aws_side(&aws, &d, &only, found, &mut observed).await;
        let took = start.elapsed();
        assert!(unchecked.is_empty(), "{label}: {unchecked:?}");
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

/// doctor's AWS reads (`gather::aws_side`: the observation, the simulator's questions, where
/// a missing queue is) on a 40-app stack take as many round trips as on one app: each app's
/// reads join the waves the first app's make. With room for all of them in flight: at the
/// default 50 a service's 80 reads are two waves, which the count shows since it counts the
/// cap's waves too (`calls_waiting_for_a_slot_are_later_round_trips`).
#[tokio::test]
async fn doctor_reads_forty_apps_in_the_round_trips_of_one() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let p = common::unique("rtapps");
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        stack: p.clone(),
        ..kedactl::spec::Spec::default()
    };
    spec.roles.operator = format!("{p}-op");
    spec.roles.identity = format!("{p}-id");
    let first = spec.apps[0].clone();
    spec.apps = (1..=40)
        .map(|i| {
            let mut a = first.clone();
            a.deployment = format!("app{i}");
            a.scaling.name = None;
            a.queue.name = format!("{p}-q{i}");
            a.repository = format!("{p}-repo");
            a
        })
        .collect();
    let only = Only::new(vec![Group::Iam, Group::Queue]);
    let fast = common::moto_aws(&endpoint, "us-east-1").await;
    let d = kedactl::render::desired(&spec).unwrap();
    let o = kedactl::observe::by_name(&fast, &d, &only).await.unwrap();
    let opts = kedactl::plan::Options {
        only: only.clone(),
        ..Default::default()
    };
    let plan = kedactl::plan::plan(&d, &o, &opts).unwrap();
    let report = kedactl::exec::execute(
        &fast,
        None,
        &plan,
        &kedactl::exec::Options {
            trust_watch: std::time::Duration::from_millis(1),
            ..kedactl::exec::Options::new("demo", &p)
        },
        &kedactl::output::progress::Progress::Silent,
    )
    .await;
    assert!(report.ok(), "{report:#?}");
    // One queue deleted, so the reads that look for it elsewhere run too.
    let url = fast
        .sqs
        .get_queue_url()
        .queue_name(format!("{p}-q17"))
        .send()
        .await
        .unwrap();
    fast.sqs
        .delete_queue()
        .queue_url(url.queue_url().unwrap())
        .send()
        .await
        .unwrap();

    // The one app is the broken one: both runs look for its queue elsewhere.
    let mut one = spec.clone();
    one.apps = vec![spec.apps[16].clone()];
    let mut rounds = Vec::new();
    for (label, spec) in [("1 app", &one), ("40 apps", &spec)] {
        let aws = slow_aws_limited(&endpoint, 256).await;
        let d = kedactl::render::desired(spec).unwrap();
        let caller = kedactl::observe::caller(&fast).await.unwrap();
        let mut e = kedactl::doctor::Evidence::default();
        let start = Instant::now();
        kedactl::doctor::gather::aws_side(&aws, &d, &only, caller, &mut e).await;
        let took = start.elapsed();
        let (n, calls) = (aws.calls.rounds(), aws.calls.all().len());
        eprintln!("doctor, {label}: {calls} calls in {n} round trips, {took:?}");
        rounds.push((n, calls));
    }
    assert!(rounds[1].1 > rounds[0].1, "40 apps read more: {rounds:?}");
    assert_eq!(
        rounds[0].0, rounds[1].0,
        "round trips, 1 app vs 40: {rounds:?}"
    );
}
