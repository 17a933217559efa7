//! Requests real AWS would refuse, which moto accepts: the AWS oracle in front of moto
//! (tests/support/aws_oracle.py, started by `.ci/run`) refuses them as AWS would, and kedactl
//! must never send them. `load` on FIFO queues, by the byte limits of a batch and of the queue,
//! with bodies SQS takes; AMP scrapers listed by the cluster's real ARN; and the oracle itself
//! shown live with planted bad requests.

#[path = "support/amp.rs"]
mod amp;
mod common;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName as A};
use common::{MotoStack, stderr};
use serde_json::Value;

/// Set by `.ci/run`: the oracle's violations file, and that the planted test must run.
const ORACLE: &str = "KEDACTL_TEST_AWS_ORACLE";
const REQUIRE_ORACLE: &str = "KEDACTL_REQUIRE_AWS_ORACLE";
/// What the oracle marks as a planted (deliberate) bad request.
const PLANTED: &str = "kedactl-oracle-planted";

/// A stack whose one SQS app reads `queue`.
fn sqs_app(test: &str, queue: impl Fn(&str) -> String) -> Option<(MotoStack, String)> {
    let s = MotoStack::new(test)?;
    let q = queue(&s.prefix);
    s.config("sqs", &format!("    queue:\n      name: {q}\n"));
    Some((s, q))
}

async fn make_queue(aws: &kedactl::cloud::Aws, name: &str, attrs: &[(A, &str)]) -> String {
    let mut req = aws.sqs.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    req.send().await.unwrap().queue_url().unwrap().to_string()
}

/// Every message on the queue (a FIFO queue gives a group's next messages only once the ones
/// before are deleted), with its MessageGroupId.
async fn drain(aws: &kedactl::cloud::Aws, url: &str) -> Vec<(String, Option<String>)> {
    let mut got = Vec::new();
    for _ in 0..100 {
        let out = aws
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            let group = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                .cloned();
            got.push((m.body().unwrap_or_default().to_string(), group));
            aws.sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    got
}

fn load(s: &MotoStack, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["--yes", "-o", "json"];
    args.extend(extra);
    let out = s.run("load", &args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), doc, stderr(&out))
}

#[tokio::test]
async fn load_on_a_fifo_queue_sends_group_and_deduplication_ids() {
    let Some((s, q)) = sqs_app("fifo", |p| format!("{p}-q.fifo")) else {
        return;
    };
    let aws = common::moto_aws(&s.endpoint, "us-east-1").await;
    let url = make_queue(&aws, &q, &[(A::FifoQueue, "true")]).await;

    // Without content-based deduplication: every message has its own id, and a rerun within
    // SQS's 5-minute window is new load, not dropped as a repeat.
    for _ in 0..2 {
        let (code, doc, err) = load(&s, &["--count", "25", "--concurrency", "3"]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(
            (doc["sent"].as_u64(), doc["failed"].as_u64()),
            (Some(25), Some(0))
        );
    }
    let got = drain(&aws, &url).await;
    assert_eq!(got.len(), 50, "both runs arrived whole");
    // One group per sender: three concurrent senders, three groups.
    let mut groups: Vec<String> = got.iter().filter_map(|(_, g)| g.clone()).collect();
    groups.sort();
    groups.dedup();
    assert_eq!(
        groups,
        ["kedactl-load-0", "kedactl-load-1", "kedactl-load-2"]
    );

    // --group-id: one group, in order.
    let (code, _, err) = load(
        &s,
        &["--count", "12", "--group-id", "orders-7", "--body", "{i}"],
    );
    assert_eq!(code, Some(0), "{err}");
    let got = drain(&aws, &url).await;
    let bodies: Vec<&str> = got.iter().map(|(b, _)| b.as_str()).collect();
    let expected: Vec<String> = (0..12).map(|i| i.to_string()).collect();
    assert_eq!(bodies, expected, "one group keeps the order");
    assert!(got.iter().all(|(_, g)| g.as_deref() == Some("orders-7")));

    // A group id SQS would refuse is refused before any call.
    let (code, _, err) = load(&s, &["--count", "1", "--group-id", "two words"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("--group-id") && err.contains("' ' (U+0020) at character 4"),
        "{err}"
    );

    // With content-based deduplication SQS takes the body's hash: no ids are sent (the oracle
    // refuses an id where it does not belong, and a missing one where it does).
    let dedup_q = format!("{}-dedup.fifo", s.prefix);
    s.config("sqs", &format!("    queue:\n      name: {dedup_q}\n"));
    let attrs = [
        (A::FifoQueue, "true"),
        (A::ContentBasedDeduplication, "true"),
    ];
    let dedup_url = make_queue(&aws, &dedup_q, &attrs).await;
    let (code, _, err) = load(&s, &["--count", "5", "--body", "{i}"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(drain(&aws, &dedup_url).await.len(), 5);
}

#[tokio::test]
async fn load_splits_batches_at_one_mib_and_refuses_what_sqs_would_before_sending() {
    let Some((s, q)) = sqs_app("bytes", |p| format!("{p}-q")) else {
        return;
    };
    let aws = common::moto_aws(&s.endpoint, "us-east-1").await;
    let url = make_queue(&aws, &q, &[]).await;

    // Ten bodies of 120,000 bytes are 1.2 MB: two batches (8 + 2), not one of ten.
    let big = "x".repeat(120_000);
    let (code, doc, err) = load(&s, &["--count", "10", "--body", &big]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        (doc["sent"].as_u64(), doc["batches"].as_u64()),
        (Some(10), Some(2)),
        "{doc}"
    );
    assert_eq!(drain(&aws, &url).await.len(), 10);

    // A message over the queue's MaximumMessageSize: refused before sending, naming both sizes.
    aws.sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap();
    let (code, _, err) = load(
        &s,
        &["--count", "3", "--body", &"y".repeat(1020), "--seed", "5"],
    );
    assert_eq!(code, Some(0), "1,020 bytes fit: {err}");
    let (code, _, err) = load(
        &s,
        &[
            "--count",
            "3",
            "--body",
            &format!("{}{{i}}", "y".repeat(1024)),
        ],
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("--body")
            && err.contains("1025 bytes")
            && err.contains("MaximumMessageSize of 1024"),
        "{err}"
    );

    // A character SQS refuses: named with its position, nothing sent.
    let (code, _, err) = load(&s, &["--count", "3", "--body", "ok\u{7}"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("character 3 is U+0007"), "{err}");
    assert_eq!(
        drain(&aws, &url).await.len(),
        3,
        "only the run that fitted sent"
    );
}

/// `up` and `down` find this cluster's retired scrapers by listing the cluster's ARN, which
/// needs the account: the read by name runs before STS has answered, so the listing waits.
#[tokio::test]
async fn retired_scrapers_are_listed_by_the_clusters_real_arn() {
    use kedactl::model::Only;
    use kedactl::triggers::{Kind, prometheus};
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let stack = common::unique("scrapers");
    let (mocked, _rules, st) = amp::stateful();
    let aws = common::moto_aws(&endpoint, "us-east-1")
        .await
        .with_amp(mocked);
    let cluster_arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo";
    st.state().scrapers.push(amp::Scraper {
        id: "s-1".into(),
        arn: "arn:aws:aps:us-east-1:123456789012:scraper/s-1".into(),
        alias: "kedactl-demo-old".into(),
        role_arn: String::new(),
        cluster_arn: cluster_arn.into(),
        subnets: vec![],
        security_groups: vec![],
        workspace_arn: String::new(),
        config: String::new(),
        status: "ACTIVE",
        reason: None,
        tags: [("kedactl.io/stack".to_string(), stack.clone())].into(),
        polls: 0,
    });
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        stack: stack.clone(),
        ..kedactl::spec::Spec::default()
    };
    let app = &mut spec.apps[0];
    app.trigger = Kind::Prometheus;
    app.prometheus = Some(prometheus::Config {
        workspace: prometheus::Workspace {
            alias: Some(format!("{stack}-ws")),
            id: None,
        },
        query: "sum(up)".into(),
        threshold: 1.0,
        activation_threshold: 0.0,
        ignore_null_values: true,
        collector: Some(prometheus::Collector::None),
        metrics_port: Some(8080),
        metrics_path: None,
    });
    // As `up` does: read by name while STS answers, then render with the account.
    let names = kedactl::render::desired(&spec).unwrap();
    let only = Only::new(vec![kedactl::model::Group::Source]);
    let (caller, o) = kedactl::observe::caller_and_names(&aws, &names, &only).await;
    let mut o = o.unwrap();
    spec.account = Some(caller.unwrap().account);
    let d = kedactl::render::desired_with(&spec, &o).unwrap();
    kedactl::observe::retired(&aws, &d, &mut o).await.unwrap();
    let filters = st.state().list_filters.clone();
    assert_eq!(
        filters,
        [format!("sourceArn={cluster_arn}")],
        "never <account>"
    );
    assert!(
        o.resources.contains_key("aps:scraper/kedactl-demo-old"),
        "{:?}",
        o.resources.keys()
    );
}

/// The oracle is live: a request breaking a botocore model limit and one breaking a documented
/// limit botocore does not encode are both refused and recorded (as planted, so the final report
/// counts them as proof, not as violations).
#[tokio::test]
async fn the_aws_oracle_refuses_and_records_planted_bad_requests() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let record = match std::env::var(ORACLE) {
        Ok(p) if !p.is_empty() => p,
        _ if std::env::var_os(REQUIRE_ORACLE).is_some() => {
            panic!("{REQUIRE_ORACLE} is set but {ORACLE} is not: run through bash .ci/run")
        }
        _ => {
            eprintln!("skipped: {ORACLE} is not set (bash .ci/run starts the AWS oracle)");
            return;
        }
    };
    let aws = common::moto_aws(&endpoint, "us-east-1").await;
    let nonce = common::unique("x");
    // botocore: a role name is 1 to 64 characters.
    let long = format!("{PLANTED}-{nonce}-{}", "r".repeat(64));
    let err = aws
        .iam
        .create_role()
        .role_name(&long)
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap_err();
    let text = format!("{}", aws_sdk_iam::error::DisplayErrorContext(&err));
    assert!(
        text.contains("RoleName") && text.contains("above the maximum 64"),
        "{text}"
    );
    // Documented, not in botocore: SQS refuses U+0007 in a body.
    let q = format!("{PLANTED}-{nonce}");
    let url = make_queue(&aws, &q, &[]).await;
    let err = aws
        .sqs
        .send_message()
        .queue_url(&url)
        .message_body(format!("{PLANTED} \u{7}"))
        .send()
        .await
        .unwrap_err();
    let text = format!("{}", aws_sdk_sqs::error::DisplayErrorContext(&err));
    assert!(text.contains("U+0007"), "{text}");
    let recorded = std::fs::read_to_string(&record).unwrap();
    let planted: Vec<Value> = recorded
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["planted"] == true)
        .collect();
    let ops: Vec<&str> = planted
        .iter()
        .filter_map(|v| v["operation"].as_str())
        .collect();
    assert!(
        ops.contains(&"CreateRole") && ops.contains(&"SendMessage"),
        "{recorded}"
    );
}
