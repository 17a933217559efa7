//! The kinesis and cloudwatch triggers against a local moto server: `up --only iam,source`
//! through the binary (the account checked with the tests' own SDK calls), and the metric
//! readers `scale` and `watch` use, on data the tests put into moto. Skipped without
//! KEDACTL_TEST_AWS_ENDPOINT, failed instead when KEDACTL_REQUIRE_MOTO (or CI) is set.

mod common;
use common::{stderr, stdout};
use kedactl::cloud::Aws;
use kedactl::observe::decode_policy;
use kedactl::render::Target;
use kedactl::spec::{App, Spec};
use serde_json::Value;

type Stack = common::MotoStack;

impl Stack {
    fn stream(&self) -> String {
        format!("{}-stream", self.prefix)
    }

    fn spec(&self) -> Spec {
        let text = std::fs::read_to_string(self.sandbox.path("kedactl.yaml")).unwrap();
        serde_yaml::from_str(&text).unwrap()
    }
}

/// The app's `trigger` section holding `body` (YAML indented for it).
fn section(trigger: &str, body: &str) -> String {
    format!("    {trigger}:\n{body}")
}

fn target() -> Target {
    Target::new("us-east-1", Some("123456789012"))
}

/// The one app of the stack's config.
fn app(spec: &Spec) -> &App {
    &spec.apps[0]
}

/// The identity role's inline policy, decoded.
async fn role_policy(aws: &Aws, role: &str, name: &str) -> Option<Value> {
    let out = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .ok()?;
    Some(decode_policy(out.policy_document()))
}

async fn stream_summary(
    aws: &Aws,
    name: &str,
) -> Option<aws_sdk_kinesis::types::StreamDescriptionSummary> {
    let out = aws
        .kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .ok()?;
    out.stream_description_summary().cloned()
}

async fn stream_tags(aws: &Aws, name: &str) -> Vec<(String, String)> {
    let out = aws
        .kinesis
        .list_tags_for_stream()
        .stream_name(name)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// What `scale` reads: the trigger's metric, once.
async fn read_metric(aws: &Aws, app: &App) -> anyhow::Result<kedactl::triggers::Reading> {
    let target = target();
    let metric = app.trigger.metric(aws, app, &target).await?;
    Ok(metric.read().await?)
}

#[tokio::test]
async fn kinesis_up_creates_the_tagged_stream_and_its_grant_converges_and_down_removes_it() {
    let Some(s) = Stack::new("kinesis") else {
        return;
    };
    s.config(
        "kinesis",
        &section(
            "kinesis",
            &format!(
                "      stream: {{name: {}, shards: 3}}\n      shardCount: 2\n",
                s.stream()
            ),
        ),
    );
    let aws = s.sdk().await;

    let first = s.json("up");
    let outcomes = common::all_done(&first);
    assert!(
        outcomes
            .iter()
            .any(|o| o["id"] == format!("kinesis:stream/{}", s.stream())),
        "{first:#}"
    );
    let summary = stream_summary(&aws, &s.stream())
        .await
        .expect("stream created");
    assert_eq!(summary.open_shard_count(), 3, "created with its shards");
    assert_eq!(summary.stream_status().as_str(), "ACTIVE");
    let tags = stream_tags(&aws, &s.stream()).await;
    assert!(
        tags.contains(&("kedactl.io/stack".to_string(), s.prefix.clone())),
        "owned by the stack: {tags:?}"
    );
    assert!(
        tags.iter().any(|(k, _)| k == "kedactl.io/cluster/demo"),
        "{tags:?}"
    );
    let arn = format!(
        "arn:aws:kinesis:us-east-1:123456789012:stream/{}",
        s.stream()
    );
    assert_eq!(summary.stream_arn(), arn);
    let policy = role_policy(&aws, &s.identity(), "kedactl-kinesis-read")
        .await
        .expect("the identity role has the kinesis grant");
    assert_eq!(
        policy["Statement"],
        serde_json::json!([{
            "Sid": "KedaReadsOpenShards",
            "Effect": "Allow",
            "Action": "kinesis:DescribeStreamSummary",
            "Resource": [arn],
        }])
    );

    // Converged: a second up plans nothing and changes nothing.
    let second = s.json("up");
    assert_eq!(second["calls"]["mutating"], 0, "{second:#}");

    // The reader KEDA's scaler is: the real open shard count, in shards.
    let spec = s.spec();
    let reading = read_metric(&aws, app(&spec)).await.unwrap();
    assert_eq!(reading.value, 3, "{reading:?}");
    assert_eq!(reading.detail, "3 open shards (stream ACTIVE)");
    // A reshard is what KEDA follows: the next read sees it.
    aws.kinesis
        .update_shard_count()
        .stream_name(s.stream())
        .target_shard_count(6)
        .scaling_type(aws_sdk_kinesis::types::ScalingType::UniformScaling)
        .send()
        .await
        .unwrap();
    assert_eq!(read_metric(&aws, app(&spec)).await.unwrap().value, 6);

    // Records in the stream are data: down names them and keeps it unless --force.
    for i in 0..5 {
        aws.kinesis
            .put_record()
            .stream_name(s.stream())
            .partition_key(format!("k{i}"))
            .data(aws_smithy_types::Blob::new(b"event".to_vec()))
            .send()
            .await
            .unwrap();
    }
    let kept = s.run("down", &["--yes", "--only", "iam,source"]);
    assert_eq!(kept.status.code(), Some(4), "{}", common::stderr(&kept));
    assert!(
        common::stderr(&kept).contains(&format!("Kinesis stream {} holds 5 records", s.stream())),
        "{}",
        common::stderr(&kept)
    );
    assert!(stream_summary(&aws, &s.stream()).await.is_some());
    let forced = s.run(
        "down",
        &["-o", "json", "--yes", "--only", "iam,source", "--force"],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", common::stderr(&forced));
    let down = common::valid_document(serde_json::from_slice(&forced.stdout).unwrap());
    common::all_done(&down);
    assert!(
        stream_summary(&aws, &s.stream()).await.is_none(),
        "down deletes the stream it created"
    );
    assert!(
        role_policy(&aws, &s.identity(), "kedactl-kinesis-read")
            .await
            .is_none()
    );
    let err = read_metric(&aws, app(&spec)).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("Kinesis stream {} does not exist", s.stream()))
            && err.contains("kedactl up --only source"),
        "{err}"
    );
}

#[tokio::test]
async fn kinesis_on_demand_stream_has_no_shard_count_and_an_existing_stream_is_only_read() {
    let Some(s) = Stack::new("kinesis-existing") else {
        return;
    };
    let aws = s.sdk().await;

    // Created without `shards`: on-demand capacity (moto opens 4 shards for it).
    s.config(
        "kinesis",
        &section(
            "kinesis",
            &format!("      stream: {{name: {}}}\n", s.stream()),
        ),
    );
    s.json("up");
    let summary = stream_summary(&aws, &s.stream()).await.unwrap();
    assert_eq!(
        summary
            .stream_mode_details()
            .map(|m| m.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    s.json("down");
    assert!(stream_summary(&aws, &s.stream()).await.is_none());

    // Someone else's stream, named as existing: never created, tagged or deleted.
    let theirs = format!("{}-theirs", s.prefix);
    s.config(
        "kinesis",
        &section(
            "kinesis",
            &format!("      stream: {{existing: {theirs}}}\n"),
        ),
    );
    let missing = s.run("up", &["--yes", "--only", "iam,source"]);
    assert_ne!(missing.status.code(), Some(0));
    let said = format!("{}{}", stdout(&missing), stderr(&missing));
    assert!(
        said.contains(&format!("Kinesis stream {theirs}")) && said.contains("does not create"),
        "{said}"
    );
    aws.kinesis
        .create_stream()
        .stream_name(&theirs)
        .shard_count(2)
        .send()
        .await
        .unwrap();
    let up = s.json("up");
    assert!(
        !up.to_string().contains("CreateStream") && !up.to_string().contains("AddTagsToStream"),
        "{up:#}"
    );
    assert_eq!(stream_tags(&aws, &theirs).await, []);
    let policy = role_policy(&aws, &s.identity(), "kedactl-kinesis-read")
        .await
        .unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        serde_json::json!([format!(
            "arn:aws:kinesis:us-east-1:123456789012:stream/{theirs}"
        )])
    );
    let spec = s.spec();
    assert_eq!(read_metric(&aws, app(&spec)).await.unwrap().value, 2);
    s.json("down");
    assert!(
        stream_summary(&aws, &theirs).await.is_some(),
        "down leaves an existing stream alone"
    );
}

fn cloudwatch_section(extra: &str) -> String {
    format!(
        "      namespace: Kedactl/Orders\n      metricName: Backlog\n      dimensions: {{Queue: orders}}\n      metricStatPeriod: 60\n      metricCollectionTime: 600\n      targetMetricValue: 4\n      minMetricValue: 1.5\n{extra}"
    )
}

#[tokio::test]
async fn cloudwatch_grant_is_get_metric_data_alone_on_every_resource_and_converges() {
    let Some(s) = Stack::new("cloudwatch") else {
        return;
    };
    let aws = s.sdk().await;
    s.config(
        "cloudwatch",
        &section("cloudwatch", &cloudwatch_section("")),
    );

    let first = s.json("up");
    common::all_done(&first);
    // Issue 15: up's document has the plan's fields at the top, beside its outcomes.
    assert_eq!(first["kind"], "Up");
    let steps = first["steps"].as_array().unwrap();
    assert!(
        !steps.is_empty() && steps.iter().all(|st| st["group"] == "iam"),
        "cloudwatch creates nothing: {first:#}"
    );
    let policy = role_policy(&aws, &s.identity(), "kedactl-cloudwatch-read")
        .await
        .expect("the identity role has the cloudwatch grant");
    assert_eq!(
        policy["Statement"],
        serde_json::json!([{
            "Sid": "KedaReadsMetricData",
            "Effect": "Allow",
            "Action": "cloudwatch:GetMetricData",
            "Resource": "*",
        }])
    );
    assert_eq!(s.json("up")["calls"]["mutating"], 0);
    s.json("down");
    assert!(
        role_policy(&aws, &s.identity(), "kedactl-cloudwatch-read")
            .await
            .is_none()
    );
}

/// The reader through the real SDK client. moto 5.2.5 serves GetMetricData only in the query
/// protocol, and aws-sdk-cloudwatch 1.102 speaks rpcv2Cbor (moto answers 404), so the service
/// is answered here, and the request KEDA's `createCloudwatchMetricDataInput` would send is
/// checked field by field.
#[tokio::test]
async fn cloudwatch_reader_sends_kedas_query_and_applies_its_rules_to_the_answer() {
    use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataInput, GetMetricDataOutput};
    use aws_sdk_cloudwatch::types::{MetricDataResult, ScanBy};
    use aws_smithy_mocks::{RuleMode, mock};

    fn kedas_query(r: &GetMetricDataInput) -> bool {
        let (start, end) = (r.start_time().unwrap().secs(), r.end_time().unwrap().secs());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let q = &r.metric_data_queries()[0];
        let stat = q.metric_stat().unwrap();
        let metric = stat.metric().unwrap();
        let dims: Vec<(&str, &str)> = metric
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap(), d.value().unwrap()))
            .collect();
        r.scan_by() == Some(&ScanBy::TimestampDescending)
            && end % 60 == 0
            && end <= now
            && now - end < 60
            && end - start == 600
            && r.metric_data_queries().len() == 1
            && q.id() == Some("c1")
            && q.return_data() == Some(true)
            && stat.period() == Some(60)
            && stat.stat() == Some("Maximum")
            && stat.unit().is_none()
            && metric.namespace() == Some("Kedactl/Orders")
            && metric.metric_name() == Some("Backlog")
            && dims == [("Queue", "orders")]
    }
    let answer = |values: Option<Vec<f64>>| {
        let mut out = GetMetricDataOutput::builder();
        if let Some(values) = values {
            out = out.metric_data_results(
                MetricDataResult::builder()
                    .id("c1")
                    .set_values(Some(values))
                    .build(),
            );
        }
        out.build()
    };
    let newest = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(kedas_query)
        .then_output(move || answer(Some(vec![15.25, 100.0])));
    let no_values = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(kedas_query)
        .then_output(move || answer(Some(vec![])));
    let no_result = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(kedas_query)
        .then_output(move || answer(None));
    let strict_no_values = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(kedas_query)
        .then_output(move || answer(Some(vec![])));
    let strict_no_result = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(kedas_query)
        .then_output(move || answer(None));
    let conf = common::mock_config().await;
    let cloudwatch = common::mocked!(
        &conf,
        aws_sdk_cloudwatch,
        RuleMode::Sequential,
        [
            &newest,
            &no_values,
            &no_result,
            &strict_no_values,
            &strict_no_result
        ]
    );
    let aws = Aws::from_config(&conf).with_cloudwatch(cloudwatch);
    let spec = |extra: &str| -> Spec {
        let yaml = format!(
            "cluster: demo\nregion: us-east-1\napps:\n  - trigger: cloudwatch\n    cloudwatch:\n{}",
            cloudwatch_section(&format!("      metricStat: Maximum\n{extra}"))
        );
        let spec: Spec = serde_yaml::from_str(&yaml).unwrap();
        kedactl::spec::validate(&spec, "test").unwrap();
        spec
    };

    let lenient = spec("");
    // The newest datapoint (the answer is newest first), in thousandths for the HPA.
    let r = read_metric(&aws, app(&lenient)).await.unwrap();
    assert_eq!(r.value, 15_250, "{r:?}");
    assert_eq!(r.detail, "15.25 (Maximum of the last 60 s period)");
    // No datapoint: minMetricValue, whether the result is empty or absent.
    for _ in 0..2 {
        let r = read_metric(&aws, app(&lenient)).await.unwrap();
        assert_eq!(r.value, 1_500, "{r:?}");
        assert_eq!(r.detail, "1.5 (no datapoint: minMetricValue)");
    }
    let strict = spec("      ignoreNullValues: false\n");
    let err = read_metric(&aws, app(&strict))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("empty metric data received, ignoreNullValues is false"),
        "{err}"
    );
    // KEDA errs only on a result without values: no result at all is minMetricValue.
    assert_eq!(read_metric(&aws, app(&strict)).await.unwrap().value, 1_500);
    assert_eq!(
        newest.num_calls() + no_values.num_calls() + no_result.num_calls(),
        3
    );
    assert_eq!(
        strict_no_values.num_calls() + strict_no_result.num_calls(),
        2
    );
}
