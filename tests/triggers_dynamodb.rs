//! The dynamodb and dynamodb-streams triggers against moto, through the real AWS SDK: `up --only
//! iam,source` creates the table (tagged) and the identity role's grant with the exact ARNs, a
//! second `up` changes nothing, `down` deletes the table; the metric readers read what KEDA's
//! scalers read. Without KEDACTL_TEST_AWS_ENDPOINT these say they were skipped (and fail when
//! KEDACTL_REQUIRE_MOTO or CI is set), like tests/aws_moto.rs. DescribeStream paging, which moto
//! does not do (one shard a table), is answered by aws-smithy-mocks.

mod common;
use aws_sdk_dynamodb::types::AttributeValue;
use common::{Sandbox, mocked, stderr, stdout};
use kedactl::cloud::Aws;
use kedactl::observe::decode_policy;
use kedactl::render::Target;
use kedactl::spec::App;
use kedactl::triggers::Kind;
use serde_json::{Value, json};

type Stack = common::MotoStack;

impl Stack {
    fn table(&self) -> String {
        format!("{}-t", self.prefix)
    }

    fn table_arn(&self) -> String {
        format!(
            "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
            self.table()
        )
    }
}

/// The app as the config file has it (its `apps[0]`).
fn app(trigger: &str, section: &str) -> App {
    let yaml = format!(
        "deployment: worker\nnamespace: work\nserviceAccount: worker\ntrigger: {trigger}\n{}",
        section
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // As kedactl loads it: YAML to JSON, then the types (serde_yaml alone would want a `!S` tag
    // for an attribute value).
    let value: Value = serde_yaml::from_str(&yaml).unwrap();
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}: {yaml}"))
}

fn target() -> Target {
    Target::new("us-east-1", Some("123456789012"))
}

async fn table_tags(aws: &Aws, arn: &str) -> Vec<(String, String)> {
    let out = aws
        .dynamodb
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn table_exists(aws: &Aws, name: &str) -> bool {
    match aws.dynamodb.describe_table().table_name(name).send().await {
        Ok(out) => out
            .table()
            .and_then(|t| t.table_status())
            .is_some_and(|s| s.as_str() != "DELETING"),
        Err(e) => {
            assert!(
                e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()),
                "{e:?}"
            );
            false
        }
    }
}

async fn identity_policy(aws: &Aws, role: &str, name: &str) -> Value {
    let out = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .unwrap();
    decode_policy(out.policy_document())
}

fn dynamodb_section(table: &str, create: bool) -> String {
    let create = if create {
        "        create:\n          partitionKey: {name: state, type: S}\n          sortKey: {name: at, type: N}\n"
    } else {
        ""
    };
    format!(
        "    dynamodb:\n      table:\n        name: {table}\n{create}      keyConditionExpression: \"#s = :open\"\n      expressionAttributeNames: {{\"#s\": state}}\n      expressionAttributeValues: {{\":open\": {{S: open}}}}\n      targetValue: 5\n"
    )
}

fn streams_section(table: &str, create: bool) -> String {
    let create = if create {
        "        create:\n          partitionKey: {name: id, type: S}\n"
    } else {
        ""
    };
    format!(
        "    dynamodbStreams:\n      table:\n        name: {table}\n{create}      shardCount: 1\n"
    )
}

#[tokio::test]
async fn dynamodb_up_creates_the_table_and_grant_converges_reads_the_count_and_down_deletes_it() {
    let Some(s) = Stack::new("ddb") else { return };
    let aws = s.sdk().await;
    let section = dynamodb_section(&s.table(), true);
    s.config("dynamodb", &section);

    let first = s.json("up");
    let outcomes = common::all_done(&first);
    assert!(
        outcomes
            .iter()
            .any(|o| o["id"] == format!("dynamodb:table/{}", s.table())),
        "{first:#}"
    );

    // The table: the configured key schema, on demand, no stream, tagged with the stack.
    let t = aws
        .dynamodb
        .describe_table()
        .table_name(s.table())
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    assert_eq!(t.table_status().unwrap().as_str(), "ACTIVE");
    let keys: Vec<(&str, &str)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, [("state", "HASH"), ("at", "RANGE")]);
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert!(t.latest_stream_arn().is_none());
    let tags = table_tags(&aws, &s.table_arn()).await;
    assert!(
        tags.contains(&("kedactl.io/stack".into(), s.prefix.clone())),
        "{tags:?}"
    );

    // The grant: Query on exactly that table.
    let policy = identity_policy(&aws, &s.identity(), "kedactl-dynamodb-query").await;
    assert_eq!(
        policy["Statement"],
        json!([{"Sid": "KedaQueriesTable", "Effect": "Allow", "Action": "dynamodb:Query", "Resource": [s.table_arn()]}])
    );

    // Converged: nothing planned, nothing changed.
    let second = s.json("up");
    assert_eq!(second["outcomes"], json!([]), "{second:#}");
    assert_eq!(second["calls"]["mutating"], 0, "{second:#}");

    // The metric, as KEDA's scaler reads it: the items the key condition matches.
    let a = app("dynamodb", &section);
    let imp = Kind::Dynamodb.imp();
    let t = target();
    let metric = Kind::Dynamodb.metric(&aws, &a, &t).await.unwrap();
    let zero = metric.read().await.unwrap();
    assert_eq!(zero.value, 0, "{zero:?}");
    for (state, at) in [("open", "1"), ("open", "2"), ("open", "3"), ("done", "4")] {
        aws.dynamodb
            .put_item()
            .table_name(s.table())
            .item("state", AttributeValue::S(state.into()))
            .item("at", AttributeValue::N(at.into()))
            .send()
            .await
            .unwrap();
    }
    let three = metric.read().await.unwrap();
    assert_eq!(three.value, 3, "{three:?}");
    assert_eq!(three.detail, "3 items match");
    assert_eq!(imp.scaling_target(&a).per_replica, 5);

    // The table holds items: down names them, refuses (exit 4) and keeps it.
    let kept = s.run("down", &["-o", "json", "--yes", "--only", "iam,source"]);
    assert_eq!(kept.status.code(), Some(4), "{}", stderr(&kept));
    assert!(
        stderr(&kept).contains(&format!("DynamoDB table {} holds 4 items", s.table())),
        "{}",
        stderr(&kept)
    );
    let doc: serde_json::Value =
        common::valid_document(serde_json::from_slice(&kept.stdout).unwrap());
    let step = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["id"] == format!("dynamodb:table/{}", s.table()))
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(step["loses"]["count"], 4, "{step:#}");
    assert!(table_exists(&aws, &s.table()).await);
    let forced = s.run(
        "down",
        &["-o", "json", "--yes", "--only", "iam,source", "--force"],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    let down: serde_json::Value =
        common::valid_document(serde_json::from_slice(&forced.stdout).unwrap());
    assert!(
        down["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == format!("dynamodb:table/{}", s.table()) && o["status"] == "done"),
        "{down:#}"
    );
    assert!(!table_exists(&aws, &s.table()).await);
    // The reader says where the table went.
    let err = metric.read().await.unwrap_err();
    assert!(
        err.fix
            .as_deref()
            .is_some_and(|f| f.contains("kedactl up --only source")),
        "{err:?}"
    );
    let again = s.json("down");
    assert_eq!(again["outcomes"], json!([]), "{again:#}");
    assert_eq!(again["calls"]["mutating"], 0);
}

#[tokio::test]
async fn dynamodb_streams_up_creates_a_streaming_table_converges_counts_shards_and_down_deletes_it()
{
    let Some(s) = Stack::new("ddbs") else { return };
    let aws = s.sdk().await;
    let section = streams_section(&s.table(), true);
    s.config("dynamodb-streams", &section);

    let first = s.json("up");
    common::all_done(&first);
    let t = aws
        .dynamodb
        .describe_table()
        .table_name(s.table())
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    let spec = t.stream_specification().unwrap();
    assert!(spec.stream_enabled());
    assert_eq!(
        spec.stream_view_type().unwrap().as_str(),
        "NEW_AND_OLD_IMAGES"
    );
    let stream = t.latest_stream_arn().unwrap().to_string();
    assert!(stream.starts_with(&format!("{}/stream/", s.table_arn())));
    assert!(
        table_tags(&aws, &s.table_arn())
            .await
            .contains(&("kedactl.io/stack".into(), s.prefix.clone()))
    );

    // DescribeTable on the table, DescribeStream on its streams; nothing else.
    let policy = identity_policy(&aws, &s.identity(), "kedactl-dynamodb-streams-read").await;
    assert_eq!(
        policy["Statement"],
        json!([
            {"Sid": "KedaFindsStream", "Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": [s.table_arn()]},
            {"Sid": "KedaCountsShards", "Effect": "Allow", "Action": "dynamodb:DescribeStream", "Resource": [format!("{}/stream/*", s.table_arn())]}
        ])
    );

    let second = s.json("up");
    assert_eq!(second["outcomes"], json!([]), "{second:#}");
    assert_eq!(second["calls"]["mutating"], 0, "{second:#}");

    // The metric: the shards of the table's latest stream (moto opens one a table).
    let a = app("dynamodb-streams", &section);
    let t = target();
    let metric = Kind::DynamodbStreams.metric(&aws, &a, &t).await.unwrap();
    let r = metric.read().await.unwrap();
    assert_eq!(r.value, 1, "{r:?}");
    assert!(r.detail.starts_with("1 shards (1 open"), "{r:?}");
    // doctor's question names the live stream once observed.
    let mut observed = kedactl::observed::Observed::default();
    observed.resources.insert(
        format!("dynamodb:table/{}", s.table()),
        kedactl::observed::Resource {
            id: s.table(),
            arn: s.table_arn(),
            status: "ACTIVE".into(),
            endpoint: Some(stream.clone()),
            ..Default::default()
        },
    );
    assert_eq!(
        Kind::DynamodbStreams.imp().needs(&a, &t, &observed)[1],
        ("dynamodb:DescribeStream", stream)
    );

    s.json("down");
    assert!(!table_exists(&aws, &s.table()).await);
    let err = Kind::DynamodbStreams
        .metric(&aws, &a, &t)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("does not exist") && err.contains("kedactl up --only source"),
        "{err}"
    );
}

#[tokio::test]
async fn an_existing_table_is_required_read_and_never_changed() {
    let Some(s) = Stack::new("ddbx") else { return };
    let aws = s.sdk().await;
    let section = streams_section(&s.table(), false);
    s.config("dynamodb-streams", &section);

    // Named but absent: up stops before changing anything, and says which table.
    let out = s.run("up", &["--yes", "--only", "iam,source"]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stderr(&out);
    assert!(
        text.contains(&format!("DynamoDB table {}", s.table())) && text.contains("not found"),
        "{text}"
    );
    assert!(
        aws.iam
            .get_role()
            .role_name(s.identity())
            .send()
            .await
            .is_err(),
        "nothing was created"
    );

    // Someone else's table, without a stream: up grants, never tags or changes it; the reader
    // fails as KEDA's scaler does.
    aws.dynamodb
        .create_table()
        .table_name(s.table())
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let up = s.json("up");
    assert!(
        up["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| !o["id"].as_str().unwrap().starts_with("dynamodb:")),
        "{up:#}"
    );
    assert_eq!(table_tags(&aws, &s.table_arn()).await, vec![]);
    let a = app("dynamodb-streams", &section);
    let t = target();
    let err = Kind::DynamodbStreams
        .metric(&aws, &a, &t)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!(
            "dynamodb stream arn for the table {} is empty",
            s.table()
        )) && err.contains("update-table"),
        "{err}"
    );

    // down leaves it where it was.
    s.json("down");
    assert!(table_exists(&aws, &s.table()).await);
    aws.dynamodb
        .delete_table()
        .table_name(s.table())
        .send()
        .await
        .unwrap();
}

/// KEDA pages DescribeStream by LastEvaluatedShardId and counts every shard listed, closed ones
/// too; moto lists one shard, so the pages are answered by mocks.
#[tokio::test]
async fn every_page_of_shards_is_counted_closed_ones_too() {
    use aws_sdk_dynamodbstreams::operation::describe_stream::DescribeStreamOutput;
    use aws_sdk_dynamodbstreams::types::{SequenceNumberRange, Shard, StreamDescription};
    use aws_smithy_mocks::{RuleMode, mock};
    let shard = |id: &str, closed: bool| {
        let mut range = SequenceNumberRange::builder().starting_sequence_number("1");
        if closed {
            range = range.ending_sequence_number("9");
        }
        Shard::builder()
            .shard_id(id)
            .sequence_number_range(range.build())
            .build()
    };
    let first = mock!(aws_sdk_dynamodbstreams::Client::describe_stream)
        .match_requests(|r| r.exclusive_start_shard_id().is_none())
        .then_output(move || {
            DescribeStreamOutput::builder()
                .stream_description(
                    StreamDescription::builder()
                        .shards(shard("s-1", true))
                        .shards(shard("s-2", false))
                        .last_evaluated_shard_id("s-2")
                        .build(),
                )
                .build()
        });
    let second = mock!(aws_sdk_dynamodbstreams::Client::describe_stream)
        .match_requests(|r| r.exclusive_start_shard_id() == Some("s-2"))
        .then_output(move || {
            DescribeStreamOutput::builder()
                .stream_description(
                    StreamDescription::builder()
                        .shards(shard("s-3", false))
                        .build(),
                )
                .build()
        });
    let conf = common::mock_config().await;
    let mut aws = Aws::from_config(&conf);
    aws.dynamodbstreams = mocked!(
        &conf,
        aws_sdk_dynamodbstreams,
        RuleMode::Sequential,
        [&first, &second]
    );
    let got = kedactl::triggers::dynamodb_streams::aws::shards(
        &aws,
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    )
    .await
    .unwrap();
    assert_eq!(got, (3, 2), "all shards, of which open");
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

/// The examples render objects of the trigger's type, a TriggerAuthentication with provider
/// aws, and a grant naming the trigger's table.
#[test]
fn the_examples_render_the_trigger_its_authentication_and_its_grant() {
    for (file, keda_type, policy, resource) in [
        (
            "dynamodb.yaml",
            "aws-dynamodb",
            "keda-identity.kedactl-dynamodb-query.json",
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        ),
        (
            "dynamodb-streams.yaml",
            "aws-dynamodb-streams",
            "keda-identity.kedactl-dynamodb-streams-read.json",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/audit-events/stream/*",
        ),
    ] {
        let s = Sandbox::new();
        let example = format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = s
            .kedactl([
                "-f",
                &example,
                "render",
                "--account",
                "123456789012",
                "--out-dir",
                "out",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        let k8s: Vec<Value> = std::fs::read_dir(s.path("out/k8s"))
            .unwrap()
            .map(|e| {
                serde_yaml::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
            })
            .collect();
        let so = k8s.iter().find(|o| o["kind"] == "ScaledObject").unwrap();
        assert_eq!(so["spec"]["triggers"][0]["type"], keda_type, "{file}");
        let meta = so["spec"]["triggers"][0]["metadata"].as_object().unwrap();
        assert!(meta.values().all(Value::is_string), "{file}: {meta:?}");
        let ta = k8s
            .iter()
            .find(|o| o["kind"] == "TriggerAuthentication")
            .unwrap();
        assert_eq!(ta["spec"]["podIdentity"]["provider"], "aws", "{file}");
        let grant = std::fs::read_to_string(s.path("out/iam").join(policy)).unwrap();
        assert!(grant.contains(resource), "{file}: {grant}");
    }
}

/// What a user can get wrong in the two sections is refused before any AWS call (exit 3), each
/// problem at its field with a fix.
#[test]
fn invalid_sections_are_refused_field_by_field() {
    let cases: [(&str, &[&str]); 4] = [
        (
            // KEDA refuses empty names; an undefined and an unused value; an index on a table
            // kedactl creates.
            "    trigger: dynamodb\n    dynamodb:\n      table:\n        name: t1x\n        create: {partitionKey: {name: pk, type: S}}\n      indexName: by-state\n      keyConditionExpression: \"pk = :v\"\n      expressionAttributeNames: {}\n      expressionAttributeValues: {\":w\": {S: x}}\n      targetValue: 1\n",
            &[
                "apps[0].dynamodb.indexName",
                "apps[0].dynamodb.expressionAttributeNames: KEDA's aws-dynamodb scaler refuses an empty",
                "apps[0].dynamodb.expressionAttributeValues: the expressions use [\":v\"]",
                "apps[0].dynamodb.expressionAttributeValues: :w not used",
            ],
        ),
        (
            "    trigger: dynamodb\n    dynamodb:\n      table: {name: t1x}\n      keyConditionExpression: \"#k = :v\"\n      expressionAttributeNames: {\"#k\": k}\n      expressionAttributeValues: {\":v\": {N: \"five\"}}\n      targetValue: 3000000000\n",
            &["apps[0].dynamodb.targetValue"],
        ),
        (
            "    trigger: dynamodb\n    dynamodb:\n      table: {name: t1x}\n      keyConditionExpression: \"#k = :v\"\n      expressionAttributeNames: {\"#k\": k}\n      expressionAttributeValues: {\":v\": {N: \"five\"}}\n      targetValue: 3\n",
            &["apps[0].dynamodb.expressionAttributeValues.:v.N: \"five\" is not a number"],
        ),
        (
            "    trigger: dynamodb-streams\n    dynamodbStreams:\n      table: {name: ab, create: {partitionKey: {name: id, type: X}}}\n      shardCount: 0\n",
            &["apps[0].dynamodbStreams.table.create.partitionKey.type"],
        ),
    ];
    for (section, expected) in cases {
        let s = Sandbox::new();
        s.write(
            "kedactl.yaml",
            format!("cluster: demo\nregion: us-east-1\napps:\n  - deployment: worker\n{section}"),
        );
        let out = s
            .kedactl(["validate"])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{section}\n{text}");
        for e in expected {
            assert!(text.contains(e), "{e:?} not in:\n{text}");
        }
    }
    // Numbers: the schema first (zero shards), then the streams section's own rule.
    let s = Sandbox::new();
    s.write(
        "kedactl.yaml",
        "cluster: demo\nregion: us-east-1\napps:\n  - trigger: dynamodb-streams\n    dynamodbStreams:\n      table: {name: ab}\n      shardCount: 0\n",
    );
    let out = s.kedactl(["validate"]).output().unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("apps[0].dynamodbStreams.shardCount"),
        "{text}"
    );
    let s = Sandbox::new();
    s.write(
        "kedactl.yaml",
        "cluster: demo\nregion: us-east-1\napps:\n  - trigger: dynamodb-streams\n    dynamodbStreams:\n      table: {name: ab}\n",
    );
    let out = s.kedactl(["validate"]).output().unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(
            "apps[0].dynamodbStreams.table.name: \"ab\" is not a valid DynamoDB table name"
        ),
        "{text}"
    );
}
