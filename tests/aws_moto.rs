//! `up`, `plan` and `down` against a local moto server, through the real AWS SDK: the binary
//! changes the account, and the tests check the account with their own SDK calls.
//! `bash .ci/run` starts moto, sets KEDACTL_TEST_AWS_ENDPOINT and KEDACTL_REQUIRE_MOTO=1; without
//! the endpoint these tests say they were skipped, and with KEDACTL_REQUIRE_MOTO (or CI) set they
//! fail instead, so a CI run can never pass without running them.

#[path = "support/amp.rs"]
mod amp;
#[path = "support/apiserver.rs"]
mod apiserver;
mod common;
#[path = "support/eks.rs"]
mod eks;
#[path = "support/http.rs"]
mod http_front;
use aws_sdk_sqs::types::QueueAttributeName;
use common::{Sandbox, stderr, stdout};
use kedactl::cloud::Aws;
use kedactl::observe::decode_policy;
use serde_json::Value;

use common::REQUIRE_MOTO as REQUIRE;

fn endpoint() -> Option<String> {
    common::moto_endpoint()
}

/// The guard above, run for real: this test binary, one moto test, no endpoint, the variable
/// `.ci/run` sets. And `.ci/run` does set it.
#[test]
fn a_required_moto_run_without_an_endpoint_fails() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_cluster_that_does_not_exist_is_a_config_error",
            "--test-threads=1",
        ])
        .env_remove("KEDACTL_TEST_AWS_ENDPOINT")
        .env_remove("CI")
        .env(REQUIRE, "1")
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "it must fail, not skip:\n{text}");
    assert!(text.contains("KEDACTL_TEST_AWS_ENDPOINT is not"), "{text}");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.contains(&format!("export {REQUIRE}=1")),
        ".ci/run exports {REQUIRE}=1"
    );
}

/// One test's stack: names no other test uses, on the shared moto server.
struct Stack {
    endpoint: String,
    prefix: String,
    sandbox: Sandbox,
}

impl Stack {
    fn new(test: &str) -> Option<Stack> {
        let endpoint = endpoint()?;
        Some(Stack {
            endpoint,
            prefix: common::unique(test),
            sandbox: Sandbox::new(),
        })
    }

    fn operator(&self) -> String {
        format!("{}-op", self.prefix)
    }
    fn identity(&self) -> String {
        format!("{}-id", self.prefix)
    }
    fn queue(&self) -> String {
        format!("{}-q", self.prefix)
    }
    fn repository(&self) -> String {
        format!("{}-repo", self.prefix)
    }

    /// `kedactl <cmd> <stack flags> <extra>` against moto.
    fn run(&self, cmd: &str, extra: &[&str]) -> std::process::Output {
        self.run_with(cmd, extra, &[])
    }

    /// `run` with extra environment (e.g. PATH with a fake helm).
    fn run_with(&self, cmd: &str, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        self.run_in("demo", cmd, extra, env)
    }

    /// `run_with` for another cluster of the same stack and account.
    fn run_in(
        &self,
        cluster: &str,
        cmd: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Output {
        self.command_in(cluster, cmd, extra, env).output().unwrap()
    }

    /// `run_in`'s command, not yet started (to run several at once).
    fn command_in(
        &self,
        cluster: &str,
        cmd: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Command {
        let (op, id, q, repo) = (
            self.operator(),
            self.identity(),
            self.queue(),
            self.repository(),
        );
        let mut args = vec![
            cmd,
            "--cluster",
            cluster,
            "--region",
            "us-east-1",
            "--stack",
            &self.prefix,
            "--operator-role",
            &op,
            "--identity-role",
            &id,
            "--queue",
            &q,
            "--repository",
            &repo,
        ];
        // --only accumulates: the AWS groups unless the test names its own.
        if !extra.contains(&"--only") {
            args.extend(["--only", "iam,queue,registry"]);
        }
        args.extend(extra);
        common::moto_cluster(&self.endpoint, cluster);
        let mut c = self.sandbox.process(&args);
        // moto is strongly consistent: two seconds of watching a shared trust after writing it
        // cover a concurrent local run on a busy machine (real IAM needs the default's margin).
        c.env("KEDACTL_TRUST_WATCH", "2")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .envs(env.iter().copied());
        c
    }

    /// Run with -o json and --yes, expecting success; the JSON document.
    fn json(&self, cmd: &str, extra: &[&str]) -> Value {
        self.json_in("demo", cmd, extra)
    }

    /// `json` for another cluster of the same stack and account.
    fn json_in(&self, cluster: &str, cmd: &str, extra: &[&str]) -> Value {
        let mut args = vec!["-o", "json", "--yes"];
        args.extend(extra);
        let out = self.run_in(cluster, cmd, &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
        common::valid_document(
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", stdout(&out))),
        )
    }

    async fn sdk(&self) -> Aws {
        self.sdk_in("us-east-1").await
    }

    async fn sdk_in(&self, region: &str) -> Aws {
        common::moto_aws(&self.endpoint, region).await
    }
}

/// The seed's stack under one test's names, with an in-memory API server for the cluster (fake
/// helm, the stateful EKS mock): what the whole-stack tests converge and remove.
struct Whole {
    api: apiserver::ApiServer,
    aws: Aws,
    kube: kedactl::cluster::Kube,
    spec: kedactl::spec::Spec,
    opts: kedactl::exec::Options,
}

impl Stack {
    async fn whole(&self) -> Whole {
        use kedactl::cluster::{Access, Kube};
        let api = apiserver::ApiServer::default();
        let dir = self.sandbox.path("bin");
        std::fs::create_dir(&dir).unwrap();
        let (helm, log) = apiserver::fake_helm(&dir, 0);
        api.state().helm_log = Some(log);
        let (eks, _rules, _) = eks::stateful(&api);
        let aws = self.sdk().await.with_eks(eks);
        let kube = Kube::new(api.client(), Access::Direct);
        let mut spec = kedactl::spec::Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            stack: self.prefix.clone(),
            ..kedactl::spec::Spec::default()
        };
        spec.roles.operator = self.operator();
        spec.roles.identity = self.identity();
        spec.apps[0].queue.name = self.queue();
        spec.apps[0].repository = self.repository();
        let opts = kedactl::exec::Options {
            poll: std::time::Duration::from_millis(1),
            kube_poll: std::time::Duration::from_millis(1),
            helm,
            trust_watch: std::time::Duration::from_millis(1),
            ..kedactl::exec::Options::new("demo", &self.prefix)
        };
        Whole {
            api,
            aws,
            kube,
            spec,
            opts,
        }
    }
}

/// Every group of the stack `d` as `plan` observes it: AWS, then the cluster.
async fn observe_all(
    aws: &Aws,
    kube: &kedactl::cluster::Kube,
    d: &kedactl::render::Desired,
) -> kedactl::plan::Observed {
    let all = kedactl::model::Only::default();
    let caller = kedactl::observe::caller(aws).await.unwrap();
    let mut o = kedactl::observe::observe(aws, d, &all, caller)
        .await
        .unwrap();
    kedactl::observe::cluster_side(kube, d, &all, &mut o)
        .await
        .unwrap();
    o
}

fn step_ids(doc: &Value, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = doc[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Write `role`'s trust by hand, as a person or another tool would.
async fn put_trust(aws: &Aws, role: &str, trust: &Value) {
    aws.iam
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
}

async fn role_trust(aws: &Aws, role: &str) -> Option<Value> {
    let out = aws.iam.get_role().role_name(role).send().await.ok()?;
    Some(decode_policy(out.role()?.assume_role_policy_document()?))
}

async fn queue_url(aws: &Aws, name: &str) -> String {
    let out = aws
        .sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap();
    out.queue_url().unwrap().to_string()
}

async fn queue_attribute(aws: &Aws, url: &str, name: QueueAttributeName) -> String {
    let out = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .unwrap();
    out.attributes().unwrap()[&name].clone()
}

async fn queue_exists(aws: &Aws, name: &str) -> bool {
    aws.sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn up_creates_the_seed_stack_converges_and_down_removes_it() {
    let Some(s) = Stack::new("converge") else {
        return;
    };
    let aws = s.sdk().await;

    let first = s.json("up", &[]);
    let outcomes = common::all_done(&first);
    assert_eq!(outcomes.len(), 6, "{first:#}");
    // Six steps; the queue's is two calls: CreateQueue with the stack's tags, then TagQueue with
    // this cluster's key (a create another cluster's run won must not lose it: exec::aws).
    assert_eq!(first["calls"]["mutating"], 7);

    // The account now holds exactly the seed's objects, least-privilege and tagged.
    let trust = role_trust(&aws, &s.operator())
        .await
        .expect("operator role");
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Action"],
        serde_json::json!(["sts:AssumeRole", "sts:TagSession"])
    );
    let trust = role_trust(&aws, &s.identity())
        .await
        .expect("identity role");
    assert!(
        trust
            .to_string()
            .contains(&format!(":role/{}", s.operator())),
        "{trust}"
    );
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(s.identity())
        .policy_name("kedactl-sqs-access")
        .send()
        .await
        .unwrap();
    let policy = decode_policy(policy.policy_document());
    assert_eq!(
        policy["Statement"][0]["Resource"][0],
        format!("arn:aws:sqs:us-east-1:123456789012:{}", s.queue())
    );
    assert!(!policy.to_string().contains("sqs:*") && !policy.to_string().contains("\"*\""));
    let tags = aws
        .iam
        .list_role_tags()
        .role_name(s.operator())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "kedactl.io/stack" && t.value() == s.prefix)
    );
    let url = queue_url(&aws, &s.queue()).await;
    let qtags = aws
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(
        qtags
            .tags()
            .unwrap()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("kedactl")
    );
    let repo = aws
        .ecr
        .describe_repositories()
        .repository_names(s.repository())
        .send()
        .await
        .unwrap();
    let arn = repo.repositories()[0].repository_arn().unwrap();
    let rtags = aws
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(
        rtags
            .tags()
            .iter()
            .any(|t| t.key() == "kedactl.io/stack" && t.value() == s.prefix)
    );

    // `up` ends with what its users need next: the live role ARN, queue URL, repository URI.
    let live_role = aws
        .iam
        .get_role()
        .role_name(s.operator())
        .send()
        .await
        .unwrap();
    assert_eq!(
        first["outputs"]["roles"][s.operator()],
        live_role.role().unwrap().arn()
    );
    let queue = first["outputs"]["queues"].as_object().unwrap();
    for (name, url) in queue {
        let live = aws
            .sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .unwrap();
        // moto answers with its own host; AWS with sqs.<region>.amazonaws.com, as rendered.
        let path = |u: &str| u.splitn(4, '/').nth(3).unwrap_or_default().to_string();
        assert_eq!(
            path(url.as_str().unwrap()),
            path(live.queue_url().unwrap()),
            "{name}"
        );
        assert!(
            url.as_str()
                .unwrap()
                .starts_with("https://sqs.us-east-1.amazonaws.com/")
        );
    }
    let repos = first["outputs"]["repositories"].as_object().unwrap();
    assert_eq!(repos.len(), 1, "{first:#}");
    // Converged: the same command again plans nothing and changes nothing.
    let second = s.json("up", &[]);
    assert!(
        second["outputs"]["roles"].is_object(),
        "outputs also when nothing changed"
    );
    assert_eq!(second["outcomes"], serde_json::json!([]));
    assert_eq!(second["calls"]["mutating"], 0, "{second:#}");
    assert!(second["calls"]["read"].as_u64().unwrap() > 0);

    let down = s.json("down", &[]);
    assert_eq!(down["outcomes"].as_array().unwrap().len(), 6, "{down:#}");
    assert!(role_trust(&aws, &s.operator()).await.is_none());
    assert!(role_trust(&aws, &s.identity()).await.is_none());
    assert!(!queue_exists(&aws, &s.queue()).await);
    assert!(
        aws.ecr
            .describe_repositories()
            .repository_names(s.repository())
            .send()
            .await
            .is_err()
    );

    // down is idempotent.
    let again = s.json("down", &[]);
    assert_eq!(again["outcomes"], serde_json::json!([]));
    assert_eq!(again["calls"]["mutating"], 0);
}

#[tokio::test]
async fn drift_is_planned_exactly_and_repaired() {
    let Some(s) = Stack::new("drift") else { return };
    let aws = s.sdk().await;
    s.json("up", &[]);

    // By hand: the chain loses sts:TagSession, a policy is deleted, a tag is removed.
    let mut trust = role_trust(&aws, &s.identity()).await.unwrap();
    trust["Statement"][1]["Action"] = "sts:AssumeRole".into();
    put_trust(&aws, &s.identity(), &trust).await;
    aws.iam
        .delete_role_policy()
        .role_name(s.operator())
        .policy_name("kedactl-assume-identity")
        .send()
        .await
        .unwrap();
    let url = queue_url(&aws, &s.queue()).await;
    aws.sqs
        .untag_queue()
        .queue_url(&url)
        .tag_keys("app.kubernetes.io/managed-by")
        .send()
        .await
        .unwrap();

    let plan = s.json("plan", &[]);
    assert_eq!(
        step_ids(&plan, "steps"),
        [
            format!("iam:role/{}/trust", s.identity()),
            format!("iam:role/{}/policy/kedactl-assume-identity", s.operator()),
            format!("queue:{}/tags", s.queue()),
        ]
    );
    let up = s.json("up", &[]);
    assert_eq!(up["calls"]["mutating"], 3, "{up:#}");
    let trust = role_trust(&aws, &s.identity()).await.unwrap();
    assert!(trust.to_string().contains("sts:TagSession"));
    assert_eq!(
        s.json("plan", &[])["steps"],
        serde_json::json!([]),
        "repaired"
    );
    s.json("down", &[]);
}

/// Issue 34: a saved plan is applied exactly (without --yes in a pipeline: it was reviewed)
/// and the next plan is empty; a queue attribute changed between `plan --out` and `up --plan`
/// makes it refuse with exit 5 and change nothing.
#[tokio::test]
async fn a_saved_plan_is_applied_exactly_or_refused_when_stale() {
    let Some(s) = Stack::new("planfile") else {
        return;
    };
    let aws = s.sdk().await;
    let out = s.run("plan", &["--out", "p.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !queue_exists(&aws, &s.queue()).await,
        "plan changes nothing"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(s.sandbox.path("p.json")).unwrap()).unwrap();
    assert_eq!(saved["kind"], "SavedPlan");
    let out = s.run("up", &["-o", "json", "--plan", "p.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let up: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(step_ids(&up, "outcomes"), step_ids(&saved, "steps"));
    assert_eq!(step_ids(&saved, "steps").len(), 6, "{saved:#}");
    assert!(
        up["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "done"),
        "{up:#}"
    );
    assert_eq!(
        s.json("plan", &[])["steps"],
        serde_json::json!([]),
        "applied"
    );

    let url = queue_url(&aws, &s.queue()).await;
    let visibility = |v: &'static str| {
        let (aws, url) = (&aws, &url);
        async move {
            aws.sqs
                .set_queue_attributes()
                .queue_url(url)
                .attributes(QueueAttributeName::VisibilityTimeout, v)
                .send()
                .await
                .unwrap();
        }
    };
    visibility("45").await;
    let out = s.run("plan", &["--out", "p2.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    visibility("60").await;
    let out = s.run("up", &["--yes", "--plan", "p2.json"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(
        text.contains("the plan is stale")
            && text.contains(&format!("queue:{}", s.queue()))
            && text.contains("attributes.VisibilityTimeout")
            && text.contains("Nothing was changed"),
        "{text}"
    );
    let now = queue_attribute(&aws, &url, QueueAttributeName::VisibilityTimeout).await;
    assert_eq!(now, "60", "nothing applied");
    s.json("down", &[]);
}

/// Issue 25: a role `down` keeps because a person's trust statement still uses it keeps no live
/// grant of the deleted stack: its inline policies, this cluster's statements and the chain
/// (naming the deleted operator role) go; the person's statement and policy stay.
#[tokio::test]
async fn down_strips_a_role_a_person_still_uses_of_the_stack_s_grants() {
    let Some(s) = Stack::new("strip") else { return };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let person = serde_json::json!({"Sid": "OnCall", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", "123456789012")},
        "Action": "sts:AssumeRole"});
    let mut trust = role_trust(&aws, &s.identity()).await.unwrap();
    trust["Statement"]
        .as_array_mut()
        .unwrap()
        .push(person.clone());
    put_trust(&aws, &s.identity(), &trust).await;
    let theirs = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
    aws.iam
        .put_role_policy()
        .role_name(s.identity())
        .policy_name("on-call")
        .policy_document(theirs.to_string())
        .send()
        .await
        .unwrap();

    let down = s.run("down", &["--yes"]);
    assert_eq!(down.status.code(), Some(0), "{}", stderr(&down));
    assert!(
        stderr(&down).contains(&format!("aws iam delete-role --role-name {}", s.identity())),
        "{}",
        stderr(&down)
    );
    let trust = role_trust(&aws, &s.identity())
        .await
        .expect("the role the person uses stays");
    assert_eq!(trust["Statement"], serde_json::json!([person]), "{trust}");
    let left = aws
        .iam
        .list_role_policies()
        .role_name(s.identity())
        .send()
        .await
        .unwrap();
    assert_eq!(left.policy_names(), ["on-call"]);
    assert!(
        role_trust(&aws, &s.operator()).await.is_none(),
        "the operator role went"
    );

    // Nothing of the stack is left to take out: down again changes nothing.
    let again = s.json("down", &[]);
    assert_eq!(again["calls"]["mutating"], 0, "{again:#}");
    aws.iam
        .delete_role_policy()
        .role_name(s.identity())
        .policy_name("on-call")
        .send()
        .await
        .unwrap();
    aws.iam
        .delete_role()
        .role_name(s.identity())
        .send()
        .await
        .unwrap();
}

/// Issue 15: `plan` shows each change's old value beside the new one (text and JSON), and a
/// resource of someone else's is marked in the plan it still shows, with exit 4.
#[tokio::test]
async fn plan_shows_old_and_new_values_and_marks_what_it_will_not_change() {
    let Some(s) = Stack::new("oldnew") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let url = queue_url(&aws, &s.queue()).await;
    aws.sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "120",
        )
        .send()
        .await
        .unwrap();

    let out = s.run("plan", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "  1. ~ queue    set VisibilityTimeout on SQS queue {}\n                  VisibilityTimeout: 120 → 30\n",
            s.queue()
        )),
        "{text}"
    );
    let plan = s.json("plan", &[]);
    assert_eq!(
        plan["steps"][0]["changes"],
        serde_json::json!([{"field": "VisibilityTimeout", "old": "120", "new": "30"}])
    );

    // The repository now belongs to another stack: the plan is still shown, with it marked.
    let arn = format!(
        "arn:aws:ecr:us-east-1:123456789012:repository/{}",
        s.repository()
    );
    let retag = |stack: &str| {
        aws.ecr
            .tag_resource()
            .resource_arn(&arn)
            .tags(
                aws_sdk_ecr::types::Tag::builder()
                    .key("kedactl.io/stack")
                    .value(stack)
                    .build()
                    .unwrap(),
            )
            .send()
    };
    retag("other").await.unwrap();
    let out = s.run("plan", &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("VisibilityTimeout: 120 → 30"), "{text}");
    assert!(
        text.contains(&format!(
            "Not planned: kedactl will not change 1 resource (! below), so `up` would stop before any step:\n  ! ECR repository {}: it belongs to kedactl stack \"other\"",
            s.repository()
        )),
        "{text}"
    );
    assert!(stderr(&out).contains("--adopt"), "{}", stderr(&out));
    // JSON: one document on stdout, the plan with its conflicts; the error on stderr.
    let out = s.run("plan", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let doc: Value =
        common::valid_document(serde_json::from_slice(&out.stdout).expect("one JSON document"));
    assert_eq!(doc["kind"], "Plan");
    assert_eq!(doc["steps"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["conflicts"][0]["resource"],
        format!("ECR repository {}", s.repository())
    );
    assert!(stderr(&out).contains("kedactl will not change 1 existing resource(s)"));
    // Markdown for a pull request: the row shows old → new, the conflict is listed.
    let out = s.run("plan", &["-o", "markdown"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(
        md.contains(&format!(
            "| 1 | ~ change | queue | `{}/attributes` | set VisibilityTimeout on SQS queue {} | VisibilityTimeout: 120 → 30 |",
            s.queue(),
            s.queue()
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "- ⚠️ ECR repository {}: it belongs to kedactl stack \"other\"",
            s.repository()
        )),
        "{md}"
    );
    assert!(
        md.contains("**Plan:** 0 to create, 1 to change, 0 to delete, 0 to run."),
        "{md}"
    );

    retag(&s.prefix).await.unwrap();
    s.json("down", &[]);
}

#[tokio::test]
async fn a_same_named_role_of_someone_else_is_refused_untouched_until_adopted() {
    let Some(s) = Stack::new("foreign") else {
        return;
    };
    let aws = s.sdk().await;
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam
        .create_role()
        .role_name(s.operator())
        .assume_role_policy_document(theirs)
        .send()
        .await
        .unwrap();

    let out = s.run("up", &["--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "IAM role {}: it exists but was not created by kedactl",
            s.operator()
        )),
        "{err}"
    );
    assert!(err.contains("--adopt"), "{err}");
    assert!(!queue_exists(&aws, &s.queue()).await, "nothing was changed");
    assert_eq!(
        role_trust(&aws, &s.operator()).await.unwrap()["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );

    let adopted = s.json("up", &["--adopt"]);
    assert!(step_ids(&adopted, "steps").contains(&format!("iam:role/{}/tags", s.operator())));
    assert_eq!(
        role_trust(&aws, &s.operator()).await.unwrap()["Statement"][0]["Principal"]["Service"],
        "pods.eks.amazonaws.com"
    );
    s.json("down", &[]);
    assert!(
        role_trust(&aws, &s.operator()).await.is_none(),
        "adopted, so owned, so removed"
    );
}

#[tokio::test]
async fn without_a_terminal_up_and_down_need_yes() {
    let Some(s) = Stack::new("confirm") else {
        return;
    };
    let aws = s.sdk().await;
    for cmd in ["up", "down"] {
        let out = s.run(cmd, &[]);
        if cmd == "down" {
            // Nothing exists yet: an empty plan needs no confirmation.
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("Plan: 6 to create"),
            "the plan is shown first"
        );
    }
    // In JSON mode no plan was printed, so the fix does not point "above".
    let out = s.run("up", &["-o", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains("above") && err.contains("without -o json") && err.contains("--yes"),
        "{err}"
    );
    // The Error document on stdout says the same, with no plan "above" it either.
    let doc = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(
        (&doc["kind"], &doc["exitCode"]),
        (&"Error".into(), &2.into())
    );
    let message = doc["error"].as_str().unwrap();
    assert!(
        !message.contains("above") && message.contains("without -o json"),
        "{message}"
    );
    assert!(!queue_exists(&aws, &s.queue()).await);
    assert!(role_trust(&aws, &s.operator()).await.is_none());
}

/// Issue 15: on a terminal, answering "n" ends `up` with exit 6 (DECLINED), nothing changed,
/// and the question counts its steps in good English. util-linux `script` gives the prompt a
/// terminal.
#[tokio::test]
async fn answering_no_at_the_prompt_exits_6_and_changes_nothing() {
    let Some(s) = Stack::new("declined") else {
        return;
    };
    let aws = s.sdk().await;
    let bin = assert_cmd::cargo::cargo_bin("kedactl");
    let on_a_terminal = |only: &str, answer: &str| {
        let command = format!(
            "{} up --cluster demo --region us-east-1 --stack {} --queue {} --repository {} --operator-role {} --identity-role {} --only {only}",
            bin.display(),
            s.prefix,
            s.queue(),
            s.repository(),
            s.operator(),
            s.identity()
        );
        let mut child = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .current_dir(s.sandbox.path("."))
            .env("AWS_ENDPOINT_URL", &s.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/kedactl-test")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("util-linux script runs the prompt on a terminal");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = on_a_terminal("queue", "n\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(6), "{text}{}", stderr(&out));
    assert!(text.contains("Apply this step? [y/N]"), "{text}");
    assert!(text.contains("Nothing changed (exit 6)."), "{text}");
    assert!(!queue_exists(&aws, &s.queue()).await, "nothing was changed");

    let out = on_a_terminal("queue,registry", "no\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(text.contains("Apply these 2 steps? [y/N]"), "{text}");

    // "y" goes ahead (exit 0), so 6 is the answer, not the terminal.
    let out = on_a_terminal("queue", "y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(queue_exists(&aws, &s.queue()).await);
    s.json("down", &["--only", "queue"]);
}

/// Issue 15: `up --dry-run` is `plan`: the same plan, nothing changed.
#[tokio::test]
async fn up_dry_run_shows_the_plan_and_changes_nothing() {
    let Some(s) = Stack::new("dryrun") else {
        return;
    };
    let aws = s.sdk().await;
    let out = s.run("up", &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = s.run("plan", &[]);
    assert_eq!(stdout(&out), stdout(&plan));
    assert!(
        stdout(&out).contains("Plan: 6 to create"),
        "{}",
        stdout(&out)
    );
    assert!(!queue_exists(&aws, &s.queue()).await);
    let doc = s.json("up", &["--dry-run"]);
    assert_eq!(doc["kind"], "Plan");
    assert!(role_trust(&aws, &s.operator()).await.is_none());
}

#[tokio::test]
async fn down_keeps_a_repository_with_images_unless_forced() {
    let Some(s) = Stack::new("images") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
    aws.ecr
        .put_image()
        .repository_name(s.repository())
        .image_manifest(manifest)
        .image_tag("v1")
        .send()
        .await
        .unwrap();

    let out = s.run("down", &["--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "ECR repository {} holds 1 image: pass --force",
            s.repository()
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        role_trust(&aws, &s.operator()).await.is_some(),
        "refused before deleting anything"
    );

    s.json("down", &["--force"]);
    assert!(
        aws.ecr
            .describe_repositories()
            .repository_names(s.repository())
            .send()
            .await
            .is_err()
    );
}

/// A queue that holds messages is data: `down` names what would be lost, refuses (exit 4)
/// without deleting anything, and `--force` deletes it; the JSON carries the counts.
#[tokio::test]
async fn down_keeps_a_queue_that_holds_messages_unless_forced() {
    let Some(s) = Stack::new("msgs") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let out = s.run("load", &["--count", "40", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = s.run("down", &["--only", "iam,queue,registry", "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let q = s.queue();
    assert!(
        stdout(&out).contains(&format!("delete SQS queue {q} — 40 messages would be lost")),
        "the plan line names the loss: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!("SQS queue {q} holds 40 messages: pass --force")),
        "{}",
        stderr(&out)
    );
    assert!(queue_exists(&aws, &q).await, "the queue is kept");
    assert!(
        role_trust(&aws, &s.operator()).await.is_some(),
        "nothing at all is deleted"
    );

    let out = s.run("down", &["-o", "json", "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let doc = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    let step = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["id"] == format!("queue:{q}"))
        .unwrap();
    assert_eq!(step["loses"]["count"], 40, "{step:#}");
    assert_eq!(step["loses"]["parts"]["visible"], 40, "{step:#}");
    assert!(
        doc["refused"][0].as_str().unwrap().contains("40 messages"),
        "{doc:#}"
    );
    assert_eq!(doc["outcomes"], serde_json::json!([]));

    let down = s.json("down", &["--force"]);
    common::all_done(&down);
    assert!(!queue_exists(&aws, &q).await, "--force deletes it");
}

/// A queue created with a customer-managed key given as an alias: `up` creates it with that
/// key, grants the app's role kms:Decrypt on the key's ARN (DescribeKey resolved the alias), says
/// how to push the image into the empty repository, and converges; an alias KMS does not know is
/// a config error naming the field.
#[tokio::test]
async fn up_with_a_kms_key_grants_decrypt_on_the_key_and_names_the_image_to_push() {
    let Some(s) = Stack::new("kms") else {
        return;
    };
    let aws = s.sdk().await;
    let key = aws.kms.create_key().send().await.unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    let alias = format!("alias/{}", s.prefix);
    aws.kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();

    let out = s.run("up", &["--yes", "--kms-key", "alias/nope-not-here"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("apps[0].queue.kmsKey")
            && stderr(&out).contains("KMS has no key with the alias \"alias/nope-not-here\""),
        "{}",
        stderr(&out)
    );
    assert!(!queue_exists(&aws, &s.queue()).await, "nothing was created");

    let out = s.run("up", &["--yes", "--kms-key", &alias]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let uri = format!("{host}/{}:latest", s.repository());
    for want in [
        format!("push an image to {uri} before the app can start"),
        format!(
            "aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin {host}"
        ),
        format!("docker push {uri}"),
    ] {
        assert!(stderr(&out).contains(&want), "{want}: {}", stderr(&out));
    }
    let url = queue_url(&aws, &s.queue()).await;
    assert_eq!(
        queue_attribute(&aws, &url, QueueAttributeName::KmsMasterKeyId).await,
        alias
    );
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(s.identity())
        .policy_name("kedactl-sqs-access")
        .send()
        .await
        .unwrap();
    let doc = decode_policy(policy.policy_document());
    let decrypt: Vec<&Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["Action"] == "kms:Decrypt")
        .collect();
    assert_eq!(decrypt.len(), 1, "{doc}");
    assert_eq!(
        decrypt[0]["Resource"],
        serde_json::json!([key_arn]),
        "{doc}"
    );

    // Converged: nothing to change (the alias is read again, and compared as given).
    let plan = s.json("plan", &["--kms-key", &alias]);
    assert_eq!(step_ids(&plan, "steps"), Vec::<String>::new(), "{plan}");
    s.json("down", &["--force", "--kms-key", &alias]);
}

/// The plan behind `down` can be minutes old when a person answers its prompt, so each deletion
/// re-reads its target's stack tag first. A queue that changed hands meanwhile (retagged to
/// another team's stack, holding their message) is refused and survives; the rest goes.
#[tokio::test]
async fn ownership_is_read_again_right_before_each_deletion() {
    use kedactl::model::{Group, Only, STACK};
    use kedactl::plan::teardown;
    let Some(s) = Stack::new("recheck") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        stack: s.prefix.clone(),
        ..kedactl::spec::Spec::default()
    };
    spec.roles.operator = s.operator();
    spec.roles.identity = s.identity();
    spec.apps[0].queue.name = s.queue();
    spec.apps[0].repository = s.repository();
    let caller = kedactl::observe::caller(&aws).await.unwrap();
    spec.account = Some(caller.account.clone());
    let desired = kedactl::render::desired(&spec).unwrap();
    let only = Only::new(vec![Group::Iam, Group::Queue, Group::Registry]);
    let observed = kedactl::observe::observe(&aws, &desired, &only, caller)
        .await
        .unwrap();
    let (plan, notes) = teardown::teardown(
        &desired,
        &observed,
        &teardown::Options {
            only,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert!(
        plan.steps
            .iter()
            .any(|st| st.id == format!("queue:{}", s.queue()))
    );

    // While the prompt waits, the queue becomes another team's and takes their message.
    let url = queue_url(&aws, &s.queue()).await;
    aws.sqs
        .tag_queue()
        .queue_url(&url)
        .tags(STACK, "payments")
        .send()
        .await
        .unwrap();
    aws.sqs
        .send_message()
        .queue_url(&url)
        .message_body("theirs")
        .send()
        .await
        .unwrap();

    let opts = kedactl::exec::Options {
        poll: std::time::Duration::from_millis(10),
        settle_timeout: std::time::Duration::from_secs(5),
        trust_watch: std::time::Duration::from_millis(1),
        ..kedactl::exec::Options::new("demo", &s.prefix)
    };
    let report = kedactl::exec::execute(
        &aws,
        None,
        &plan,
        &opts,
        &kedactl::output::progress::Progress::Silent,
    )
    .await;
    let failed: Vec<(&str, &str)> = report
        .outcomes
        .iter()
        .filter(|o| o.status != kedactl::exec::Status::Done)
        .map(|o| (o.id.as_str(), o.error.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(failed.len(), 1, "only the queue is refused: {failed:#?}");
    assert_eq!(failed[0].0, format!("queue:{}", s.queue()));
    assert!(
        failed[0].1.contains(&format!(
            "SQS queue {} no longer belongs to stack \"{}\" (its kedactl.io/stack tag is now \"payments\")",
            s.queue(),
            s.prefix
        )),
        "{}",
        failed[0].1
    );
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("their queue is still there");
    assert_eq!(
        attrs.attributes().unwrap()
            [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages],
        "1"
    );
    assert!(role_trust(&aws, &s.operator()).await.is_none());
    assert!(role_trust(&aws, &s.identity()).await.is_none());
}

/// Messages that arrive between the plan (queue empty) and the delete keep the queue: the count
/// is read again right before the delete, as ownership is.
#[tokio::test]
async fn messages_sent_after_the_plan_keep_the_queue() {
    use kedactl::model::{Group, Only};
    use kedactl::plan::teardown;
    let Some(s) = Stack::new("late-msgs") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &["--only", "queue"]);
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        stack: s.prefix.clone(),
        ..kedactl::spec::Spec::default()
    };
    spec.apps[0].queue.name = s.queue();
    let caller = kedactl::observe::caller(&aws).await.unwrap();
    spec.account = Some(caller.account.clone());
    let desired = kedactl::render::desired(&spec).unwrap();
    let only = Only::new(vec![Group::Queue]);
    let observed = kedactl::observe::observe(&aws, &desired, &only, caller)
        .await
        .unwrap();
    let opts = teardown::Options {
        only,
        ..Default::default()
    };
    let (plan, _) = teardown::teardown(&desired, &observed, &opts).unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan:#?}");
    let url = queue_url(&aws, &s.queue()).await;
    aws.sqs
        .send_message()
        .queue_url(&url)
        .message_body("late")
        .delay_seconds(60)
        .send()
        .await
        .unwrap();
    let report = kedactl::exec::execute(
        &aws,
        None,
        &plan,
        &kedactl::exec::Options {
            trust_watch: std::time::Duration::from_millis(1),
            ..kedactl::exec::Options::new("demo", &s.prefix)
        },
        &kedactl::output::progress::Progress::Silent,
    )
    .await;
    let error = report.outcomes[0].error.as_deref().unwrap_or_default();
    assert!(
        error.contains(&format!("SQS queue {} now holds 1 message", s.queue())),
        "{report:#?}"
    );
    assert!(queue_exists(&aws, &s.queue()).await, "kept");
    s.json("down", &["--only", "queue", "--force"]);
    assert!(!queue_exists(&aws, &s.queue()).await);
}

/// A role whose trust would pass IAM's quota is refused before any call: exit 3, and the
/// account has no trace of the stack (IAM would otherwise refuse it mid-apply).
#[tokio::test]
async fn a_trust_over_the_quota_creates_nothing() {
    let Some(s) = Stack::new("quota") else {
        return;
    };
    let aws = s.sdk().await;
    let q = s.queue();
    let apps = format!(
        "apps:\n  - deployment: worker-0\n    serviceAccount: worker-0-sa\n    queue:\n      name: {q}-0\n  - deployment: worker-1\n    serviceAccount: worker-1-sa\n    queue:\n      name: {q}-1\n  - deployment: worker-2\n    serviceAccount: worker-2-sa\n    queue:\n      name: {q}-2\n  - deployment: worker-3\n    serviceAccount: worker-3-sa\n    queue:\n      name: {q}-3\n  - deployment: worker-4\n    serviceAccount: worker-4-sa\n    queue:\n      name: {q}-4\n  - deployment: worker-5\n    serviceAccount: worker-5-sa\n    queue:\n      name: {q}-5\n  - deployment: worker-6\n    serviceAccount: worker-6-sa\n    queue:\n      name: {q}-6\n  - deployment: worker-7\n    serviceAccount: worker-7-sa\n    queue:\n      name: {q}-7\n"
    );
    let cfg = s.sandbox.write("quota.yaml", apps.replace("{q}", &q));
    let out = s.run(
        "up",
        &["--yes", "-f", cfg.to_str().unwrap(), "--app", "worker-0"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("roles.identity")
            && stderr(&out).contains("over the account's quota of 2048"),
        "{}",
        stderr(&out)
    );
    assert!(role_trust(&aws, &s.operator()).await.is_none());
    assert!(role_trust(&aws, &s.identity()).await.is_none());
    assert!(!queue_exists(&aws, &format!("{q}-0")).await);
}

#[tokio::test]
async fn credentials_for_another_account_are_a_config_error() {
    let Some(s) = Stack::new("account") else {
        return;
    };
    let out = s.run("plan", &["--account", "111122223333"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the credentials belong to 123456789012"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_cluster_that_does_not_exist_is_a_config_error() {
    let Some(s) = Stack::new("nocluster") else {
        return;
    };
    let out = s.run("plan", &["--only", "eks", "--cluster", "no-such-cluster"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("  - cluster: there is no EKS cluster \"no-such-cluster\" in us-east-1"),
        "{err}"
    );
    assert!(
        err.contains("aws eks list-clusters --region us-east-1"),
        "{err}"
    );
}

/// The roles' trust names the cluster: `--only iam` must not plan a trust for a cluster that
/// is not there (a typo), though it leaves the EKS group out. `down` still runs without it.
#[tokio::test]
async fn only_iam_checks_the_cluster_the_trust_names() {
    let Some(s) = Stack::new("iamcluster") else {
        return;
    };
    for cmd in ["plan", "up"] {
        let out = s.run(cmd, &["--only", "iam", "--cluster", "dmeo", "--yes"]);
        assert_eq!(out.status.code(), Some(3), "{cmd}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("  - cluster: there is no EKS cluster \"dmeo\" in us-east-1"),
            "{cmd}: {err}"
        );
        assert!(
            err.contains("create it before `--only iam`"),
            "{cmd}: {err}"
        );
    }
    assert!(
        role_trust(&s.sdk().await, &s.operator()).await.is_none(),
        "nothing was created"
    );
    let out = s.run("down", &["--only", "iam", "--cluster", "dmeo", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "down: {}", stderr(&out));
    // The cluster that is there passes.
    let out = s.run("plan", &["--only", "iam"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn load_sends_exactly_the_count_in_batches_of_ten() {
    let Some(s) = Stack::new("load") else { return };
    let aws = s.sdk().await;
    let out = s.run("load", &["--count", "25"]);
    assert_eq!(out.status.code(), Some(4), "no queue yet: {}", stderr(&out));
    assert!(
        stderr(&out).contains("kedactl up --only queue"),
        "{}",
        stderr(&out)
    );

    s.json("up", &["--only", "queue"]);
    let out = s.run("load", &["--count", "25", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(
        (
            doc["sent"].as_u64(),
            doc["failed"].as_u64(),
            doc["batches"].as_u64()
        ),
        (Some(25), Some(0), Some(3))
    );

    let url = queue_url(&aws, &s.queue()).await;
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let visible = attrs
        .attributes()
        .unwrap()
        .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .unwrap();
    assert_eq!(visible, "25", "every message arrived exactly once");
    let msg = aws
        .sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(msg.messages()[0].body().unwrap()).unwrap();
    let n: u64 = body["num"].as_str().unwrap().parse().unwrap();
    assert!((1..=40).contains(&n), "the seed's body shape: {body}");
    // A rate run says how close it came to the rate asked (issue 32).
    let out = s.run("load", &["--rate", "4", "--duration", "2s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("sent 8 messages to {} in ", s.queue()))
            && text.contains("/s of the 4.0/s asked, "),
        "{text}"
    );
    // The messages sent above go with it.
    s.json("down", &["--only", "queue", "--force"]);
}

#[tokio::test]
async fn scale_once_decides_like_keda_and_the_hpa_from_the_live_queue() {
    let Some(s) = Stack::new("scale") else { return };
    s.json("up", &["--only", "queue"]);
    let sent = s.run("load", &["--count", "23", "-q"]);
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));

    let out = s.run(
        "scale",
        &["--dry-run", "--once", "--current", "1", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    // queueLength 5, 23 messages: steady state 5 replicas; from 1 the HPA may go to 4 at once.
    assert_eq!(
        (
            d["metric"].as_u64(),
            d["active"].as_bool(),
            d["current"].as_u64()
        ),
        (Some(23), Some(true), Some(1))
    );
    assert_eq!(
        (d["target"].as_u64(), d["next"].as_u64()),
        (Some(5), Some(4))
    );
    assert!(
        d["reason"].as_str().unwrap().contains("max(2×1, 4) = 4"),
        "{d}"
    );

    // A new HPA records the current count first (recordInitialRecommendation): from 8 it holds
    // 8 for the 300 s window; above maxReplicas 10 it goes straight to 10 (issue 16, defect 3).
    for (current, next) in [("8", 8), ("15", 10)] {
        let out = s.run(
            "scale",
            &["--dry-run", "--once", "--current", current, "-o", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let d: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
        assert_eq!(d["next"].as_u64(), Some(next), "{d}");
    }

    // The same queue read for a ScaledJob: no HPA, the Jobs KEDA's default strategy starts
    // (`RequestJobScale`): maxScale min(ceil(23/5), max 10) = 5, minus the 2 running = 3 new.
    let out = s.run(
        "scale",
        &[
            "--dry-run",
            "--once",
            "--current",
            "2",
            "--scaling-kind",
            "ScaledJob",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(
        (d["metric"].as_u64(), d["next"].as_u64()),
        (Some(23), Some(5)),
        "{d}"
    );
    assert!(d["reason"].as_str().unwrap().ends_with("create 3"), "{d}");
    // Without --dry-run there is no Deployment to set.
    let out = s.run("scale", &["--once", "--scaling-kind", "ScaledJob"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no Deployment whose replicas kedactl could set"));

    let out = s.run("scale", &["--once", "--current", "1"]);
    assert_eq!(out.status.code(), Some(2), "--current needs --dry-run");
    // The messages sent above go with it.
    s.json("down", &["--only", "queue", "--force"]);
}

/// A moto cluster named after the stack, so kedactl can describe it.
async fn moto_cluster(s: &Stack) -> String {
    let cluster = format!("{}-c", s.prefix);
    s.sdk()
        .await
        .eks
        .create_cluster()
        .name(&cluster)
        .role_arn("arn:aws:iam::123456789012:role/eks")
        .resources_vpc_config(aws_sdk_eks::types::VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap();
    cluster
}

/// A kubeconfig file whose one (current) context `name` reaches `server` with a static token.
fn kubeconfig(s: &Stack, name: &str, server: &str) -> String {
    let path = s.sandbox.write(
        "kubeconfig",
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: {name}, cluster: {{server: '{server}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: {name}, context: {{cluster: {name}, user: u}}}}]\n\
             current-context: {name}\n"
        ),
    );
    path.to_str().unwrap().to_string()
}

/// The fake API server on HTTP and a kubeconfig (context `fake`) that reaches it.
fn fake_cluster(s: &Stack) -> (apiserver::ApiServer, String) {
    let api = apiserver::ApiServer::default();
    let url = http_front::serve(api.clone());
    (api, kubeconfig(s, "fake", &url))
}

#[tokio::test]
async fn scale_sets_replicas_through_the_scale_subresource_and_refuses_to_fight_keda() {
    let Some(s) = Stack::new("scalelive") else {
        return;
    };
    let cluster = moto_cluster(&s).await;
    s.json("up", &["--only", "queue"]);
    let sent = s.run("load", &["--count", "23", "-q"]);
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    let (api, kc) = fake_cluster(&s);
    api.seed(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "security"}}));
    let mut d = apiserver::keda_deployment("security", "q-read", "my-sqs-read-msgs", "1");
    d["spec"]["replicas"] = 1.into();
    api.seed(d);
    let flags = [
        "--cluster",
        &cluster,
        "--kubeconfig",
        &kc,
        "--context",
        "fake",
    ];

    let mut args = vec!["--once", "-o", "json"];
    args.extend(flags);
    let out = s.run("scale", &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(
        (d["current"].as_u64(), d["next"].as_u64()),
        (Some(1), Some(4)),
        "{d}"
    );
    let dep = api.get("deployments", Some("security"), "q-read").unwrap();
    assert_eq!(dep["spec"]["replicas"], 4);
    assert!(
        api.requests()
            .iter()
            .any(|r| r == "PATCH /apis/apps/v1/namespaces/security/deployments/q-read/scale"),
        "{:#?}",
        api.requests()
    );

    // Once KEDA scales it, kedactl stays out unless forced.
    api.state().add_keda_crds();
    api.seed(
        serde_json::json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "q-read-so", "namespace": "security"},
        "spec": {"scaleTargetRef": {"name": "q-read"}}}),
    );
    let out = s.run("scale", &args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("ScaledObject security/q-read-so already scales Deployment security/q-read")
            && err.contains("--force"),
        "{err}"
    );
    let mut forced = args.clone();
    forced.push("--force");
    let out = s.run("scale", &forced);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(
        (d["current"].as_u64(), d["next"].as_u64()),
        (Some(4), Some(5)),
        "{d}"
    );
    // The messages sent above go with it.
    s.json("down", &["--only", "queue", "--force"]);
}

/// The whole cluster half through the built binary: moto answers STS and DescribeCluster, the
/// in-memory API server answers over HTTP through a kubeconfig, a fake helm on PATH records
/// the KEDA release.
#[tokio::test]
async fn up_and_down_reach_the_cluster_through_a_kubeconfig() {
    let Some(fs) = FullStack::new("kube", "keda,app").await else {
        return;
    };
    let (s, api, log) = (&fs.stack, &fs.api, &fs.helm_log);
    let run = |cmd: &str, extra: &[&str]| fs.cmd(cmd, extra);

    let out = run("plan", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("install KEDA 2.20.2 in namespace keda (helm chart kedacore/keda)")
            && text.contains("create ScaledObject security/k8s-sqs-read-msg-keda"),
        "{text}"
    );

    let out = run("up", &["-o", "json", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    let done: Vec<&str> = doc["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["done"; 7], "{doc:#}");
    assert!(doc["calls"]["mutating"].as_u64().unwrap() >= 7, "{doc:#}");
    assert!(
        std::fs::read_to_string(log)
            .unwrap()
            .starts_with("upgrade --install keda keda"),
    );
    assert!(!api.labelled(&s.prefix).is_empty());

    let out = run("up", &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("No changes"), "{}", stdout(&out));

    let out = run("down", &["-o", "json", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(api.labelled(&s.prefix), Vec::<String>::new());
    assert!(
        std::fs::read_to_string(log)
            .unwrap()
            .contains("uninstall keda --namespace keda --wait")
    );
}

/// A KEDA too old for Pod Identity (installed by someone else) stops `up` with the fix; `plan`
/// says `up` would stop and still shows its plan, and `down` goes ahead.
#[tokio::test]
async fn an_old_keda_stops_up_but_not_plan_or_down() {
    let Some(fs) = FullStack::new("oldkeda", "keda,app").await else {
        return;
    };
    let (s, api) = (&fs.stack, &fs.api);
    api.seed(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda"}}),
    );
    api.state().install_keda("keda", "keda-operator", "2.12.1");
    let run = |cmd: &str, extra: &[&str]| fs.cmd(cmd, extra);

    let out = run("up", &["--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("KEDA 2.12.1 in namespace keda is too old for EKS Pod Identity"),
        "{}",
        stderr(&out)
    );
    assert!(api.labelled(&s.prefix).is_empty(), "nothing applied");

    let out = run("plan", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("note: `up` would stop here: KEDA 2.12.1 in namespace keda is too old"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("create ScaledObject security/"),
        "{}",
        stdout(&out)
    );

    // down is not stopped: it has nothing of ours to remove, and leaves their KEDA.
    let out = run("down", &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("left alone: KEDA in namespace keda (not installed by kedactl)"),
        "{}",
        stderr(&out)
    );
    assert!(
        api.get("deployments", Some("keda"), "keda-operator")
            .is_some()
    );
}

#[tokio::test]
async fn cluster_access_errors_name_the_fix_before_any_change() {
    let Some(s) = Stack::new("kubeerr") else {
        return;
    };
    let cluster = moto_cluster(&s).await;
    let up = |kc: &str| {
        let extra = [
            "--cluster",
            &cluster,
            "--only",
            "app,keda",
            "--yes",
            "--kubeconfig",
            kc,
        ];
        s.run("up", &extra)
    };
    // A missing kubeconfig is a config error found before any call (exit 3), not after the
    // AWS reads.
    let out = up(s.sandbox.path("no-such-kubeconfig").to_str().unwrap());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--kubeconfig: cannot read") && stderr(&out).contains("no such file"),
        "{}",
        stderr(&out)
    );

    // A kubeconfig whose current context is another cluster is refused.
    let out = up(&kubeconfig(&s, "kind", "https://127.0.0.1:6443"));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("current context points at https://127.0.0.1:6443/")
            && err.contains("--context"),
        "{err}"
    );

    // Without a kubeconfig, kedactl connects from EKS: moto's CA data is not a certificate.
    let out = s.run(
        "up",
        &["--cluster", &cluster, "--only", "app,keda", "--yes"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("CA data"), "{}", stderr(&out));
}

/// An API server that accepts connections and never answers ends the run at --call-timeout
/// (exit 4), naming what was being done, instead of hanging a CI job.
#[tokio::test]
async fn a_silent_api_server_times_out() {
    let Some(s) = Stack::new("silentapi") else {
        return;
    };
    let cluster = moto_cluster(&s).await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let kc = kubeconfig(&s, "silent", &url);
    let start = std::time::Instant::now();
    let out = s.run(
        "up",
        &[
            "--cluster",
            &cluster,
            "--only",
            "app",
            "--yes",
            "--kubeconfig",
            &kc,
            "--context",
            "silent",
            "--call-timeout",
            "2",
        ],
    );
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(took.as_secs() < 30, "took {took:?}: {}", stderr(&out));
    let err = stderr(&out).to_lowercase();
    assert!(
        err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
    drop(silent);
}

#[tokio::test]
async fn watch_shows_the_queue_the_scaler_the_hpa_and_the_pods() {
    let Some(s) = Stack::new("watch") else {
        return;
    };
    let cluster = moto_cluster(&s).await;
    s.json("up", &["--only", "queue"]);
    let sent = s.run("load", &["--count", "7", "-q"]);
    assert_eq!(sent.status.code(), Some(0), "{}", stderr(&sent));
    let (api, kc) = fake_cluster(&s);
    api.seed(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "security"}}));
    api.state().add_keda_crds();
    api.seed(serde_json::json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "k8s-sqs-read-msg-keda", "namespace": "security"},
        "spec": {"scaleTargetRef": {"name": "q-read"}},
        "status": {"conditions": [
            {"type": "Ready", "status": "False", "message": "error parsing SQS queue metadata: awsAccessKeyID not found"},
            {"type": "Active", "status": "False"}]}}));
    api.seed(
        serde_json::json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "keda-hpa-k8s-sqs-read-msg-keda", "namespace": "security"},
        "spec": {"minReplicas": 1, "maxReplicas": 10},
        "status": {"currentReplicas": 1, "desiredReplicas": 2}}),
    );
    let mut d = apiserver::keda_deployment("security", "q-read", "my-sqs-read-msgs", "1");
    d["spec"]["replicas"] = 2.into();
    api.seed(d);
    let flags = [
        "--cluster",
        &cluster,
        "--kubeconfig",
        &kc,
        "--context",
        "fake",
        "--scaler-name",
        "k8s-sqs-read-msg-keda",
    ];

    let mut args = vec!["-o", "json", "--count", "2", "--interval", "1"];
    args.extend(flags);
    let out = s.run("watch", &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<Value> = common::valid_lines(&stdout(&out));
    assert_eq!(lines.len(), 2, "one JSON line per refresh");
    assert!(lines.iter().all(|l| l["kind"] == "WatchSnapshot"));
    let v = &lines[1];
    assert_eq!(
        (v["metric"].as_u64(), v["target"].as_u64()),
        (Some(7), Some(2)),
        "{v}"
    );
    assert_eq!(v["depth"]["visible"], 7);
    assert_eq!(v["scaler"]["ready"], "False");
    assert_eq!(
        v["scaler"]["problem"],
        "error parsing SQS queue metadata: awsAccessKeyID not found"
    );
    assert_eq!(
        (v["hpa"]["current"].as_u64(), v["hpa"]["desired"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["workload"]["desired"], 2);
    assert!(
        v["t"].as_u64().unwrap() >= 1,
        "the second refresh waits the interval: {v}"
    );

    // Without the cluster, and not on a terminal: one plain line.
    let out = s.run("watch", &["--count", "1", "--no-cluster"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "t=0s visible=7 in_flight=0 delayed=0 metric=7 target=2"
    );
    // The messages sent above go with it.
    s.json("down", &["--only", "queue", "--force"]);
}

/// doctor end to end: a stack `up` built (moto for IAM/SQS, the fake cluster with KEDA from the
/// fake helm), then faults injected in the account and in the cluster, found, and repaired by
/// `doctor --fix`.
/// `doctor --fix` on a config that disagrees with what is live repairs nothing: a wrong
/// `--region` and a `.fifo` name for the standard queue are diagnosed (KD033, both values), it
/// exits 1, and the account is unchanged, resource by resource; a wrong `account` stops it with
/// exit 3 before any check.
#[tokio::test]
async fn doctor_fix_refuses_a_config_that_disagrees_with_what_is_live() {
    let Some(s) = Stack::new("fixguard") else {
        return;
    };
    let aws = s.sdk().await;
    s.json("up", &[]);
    let fingerprint = async || {
        let mut out = Vec::new();
        for role in [s.operator(), s.identity()] {
            let r = aws.iam.get_role().role_name(&role).send().await.unwrap();
            let policies = aws
                .iam
                .list_role_policies()
                .role_name(&role)
                .send()
                .await
                .unwrap();
            out.push(format!(
                "{role} {} {:?}",
                r.role()
                    .unwrap()
                    .assume_role_policy_document()
                    .unwrap_or_default(),
                policies.policy_names()
            ));
            for p in policies.policy_names() {
                let doc = aws
                    .iam
                    .get_role_policy()
                    .role_name(&role)
                    .policy_name(p)
                    .send()
                    .await
                    .unwrap();
                out.push(doc.policy_document().to_string());
            }
        }
        let queues = aws
            .sqs
            .list_queues()
            .queue_name_prefix(&s.prefix)
            .send()
            .await
            .unwrap();
        out.push(format!("{:?}", queues.queue_urls()));
        out
    };
    let before = fingerprint().await;
    let west = s.sdk_in("us-west-2").await;

    let out = s.run(
        "doctor",
        &[
            "--fix",
            "--yes",
            "--region",
            "us-west-2",
            "--only",
            "iam,queue",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("✗ KD033"), "{text}");
    assert!(
        text.contains(&format!(
            "queue {} does not exist in us-west-2 (the config's region), but it does in us-east-1",
            s.queue()
        )),
        "{text}"
    );
    assert!(
        stderr(&out).contains("doctor --fix refuses to repair anything"),
        "{}",
        stderr(&out)
    );
    let made = west
        .sqs
        .list_queues()
        .queue_name_prefix(&s.prefix)
        .send()
        .await
        .unwrap();
    assert!(
        made.queue_urls().is_empty(),
        "no queue was created in us-west-2"
    );

    let fifo = format!("{}.fifo", s.queue());
    let out = s.run(
        "doctor",
        &["--fix", "--yes", "--queue", &fifo, "--only", "iam,queue"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("the config names a FIFO queue")
            && stdout(&out).contains("is a standard queue"),
        "{}",
        stdout(&out)
    );
    assert_eq!(fingerprint().await, before, "nothing changed");

    let cfg = s
        .sandbox
        .write("wrong-account.yaml", "account: \"999999999999\"\n");
    let out = s.run(
        "doctor",
        &[
            "--fix",
            "--yes",
            "-f",
            cfg.to_str().unwrap(),
            "--only",
            "iam,queue",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the config names account 999999999999"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fingerprint().await, before, "nothing changed");
}

#[tokio::test]
async fn doctor_finds_injected_faults_and_fix_repairs_them() {
    let Some(fs) = FullStack::new("doctor", "iam,queue,keda,app").await else {
        return;
    };
    let (s, api) = (&fs.stack, &fs.api);
    api.seed(
        serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "eks-pod-identity-agent", "namespace": "kube-system"},
        "status": {"desiredNumberScheduled": 1, "numberReady": 1}}),
    );
    api.seed(serde_json::json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/os": "linux"}}}));
    let run = |cmd: &str, extra: &[&str]| fs.cmd(cmd, extra);
    let doctor = |extra: &[&str]| {
        let mut args = vec!["-o", "json"];
        args.extend(extra);
        let out = run("doctor", &args);
        let doc: Value = common::valid_document(
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out))),
        );
        let failing: Vec<String> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail" || c["status"] == "warn")
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect();
        (out.status.code(), failing, doc)
    };

    let out = run("up", &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // What a plain `up` with a correct config produces: --fix must end exactly here.
    let converged = fs.fingerprint().await;

    // Healthy: nothing fails; what cannot be known here is skipped with its reason.
    let (code, failing, doc) = doctor(&[]);
    assert_eq!((code, failing.clone()), (Some(0), vec![]), "{doc:#}");
    assert_eq!(doc["summary"]["fail"], 0);
    // The figures the README quotes (reads are concurrent; moto + the in-memory API server).
    eprintln!(
        "doctor, healthy stack: {} s, calls {}",
        doc["seconds"], doc["calls"]
    );
    assert!(
        doc["calls"]["aws"].as_u64().unwrap() > 0
            && doc["calls"]["kubernetes"].as_u64().unwrap() > 0
    );
    let kd029 = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "KD029")
        .unwrap();
    assert_eq!(
        kd029["status"], "skipped",
        "moto has no policy simulator: {kd029}"
    );

    // Fault 1 (account): the identity role's trust loses sts:TagSession for the operator.
    let aws = s.sdk().await;
    let identity = s.identity();
    let trust = role_trust(&aws, &identity).await.unwrap();
    let mut broken = trust.clone();
    for st in broken["Statement"].as_array_mut().unwrap() {
        if !st["Principal"]["AWS"].is_null() {
            st["Action"] = "sts:AssumeRole".into();
        }
    }
    put_trust(&aws, &identity, &broken).await;
    // Fault 2 (cluster): the TriggerAuthentication asks for the workload's identity (IRSA-only).
    {
        let mut st = api.state();
        let ta = st
            .objects
            .iter_mut()
            .find(|(k, _)| k.0 == "triggerauthentications")
            .map(|(_, v)| v)
            .unwrap();
        ta["spec"]["podIdentity"]["identityOwner"] = "workload".into();
    }
    // Fault 3 (logs): KEDA's log shows the chained AssumeRole refused for TagSession.
    api.state().logs.insert(
        "keda-operator".into(),
        format!("ERROR scale_handler error getting scale decision {{\"error\": \"operation error STS: AssumeRole, StatusCode: 403, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/{}/eks-demo-keda is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/{identity}\"}}\n", s.operator()),
    );
    let (code, failing, doc) = doctor(&[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(failing, ["KD011", "KD018", "KD019"], "{doc:#}");
    let kd011 = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "KD011")
        .unwrap();
    let evidence = kd011["evidence"].to_string();
    assert!(
        evidence.contains("KEDA log:") && evidence.contains("sts:TagSession"),
        "{kd011}"
    );

    // Human report: grouped by layer, with the fix.
    let out = run("doctor", &[]);
    let text = stdout(&out);
    assert!(
        text.contains("\nIAM\n")
            && text.contains("✗ KD011")
            && text.contains("fix: kedactl up --only iam"),
        "{text}"
    );

    // --fix repairs both (trust re-put, TriggerAuthentication re-applied), then checks again.
    api.state().logs.clear();
    let (code, failing, doc) = doctor(&["--fix", "--yes"]);
    assert_eq!((code, failing), (Some(0), vec![]), "{doc:#}");
    let trust = role_trust(&aws, &identity).await.unwrap();
    assert!(trust.to_string().contains("sts:TagSession"), "{trust}");
    assert_eq!(
        fs.fingerprint().await,
        converged,
        "after --fix the account and cluster are what `up` made, resource by resource"
    );

    let out = run("down", &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Every group moto and the fake cluster serve (moto has no EKS add-ons or associations).
const ALL_BUT_EKS: &str = "iam,queue,registry,keda,app";

/// A stack with its own moto cluster, fake API server (KEDA from a fake helm) and flags for
/// every group moto and the fake can serve.
struct FullStack {
    stack: Stack,
    api: apiserver::ApiServer,
    flags: Vec<String>,
    path: String,
    /// What the fake helm ran, a line per run.
    helm_log: std::path::PathBuf,
}

impl FullStack {
    /// `groups`: the `--only` every command of this stack gets.
    async fn new(test: &str, groups: &str) -> Option<FullStack> {
        let stack = Stack::new(test)?;
        let cluster = moto_cluster(&stack).await;
        let bin = stack.sandbox.path("bin");
        std::fs::create_dir(&bin).unwrap();
        let (_, log) = apiserver::fake_helm(&bin, 0);
        let (api, kc) = fake_cluster(&stack);
        {
            let mut st = api.state();
            st.associations = vec![
                ("keda".into(), "keda-operator".into()),
                ("security".into(), "my-sqs-read-msgs".into()),
            ];
            st.helm_log = Some(log.clone());
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let flags = [
            "--cluster",
            &cluster,
            "--only",
            groups,
            "--kubeconfig",
            &kc,
            "--context",
            "fake",
        ]
        .map(String::from)
        .to_vec();
        Some(FullStack {
            stack,
            api,
            flags,
            path,
            helm_log: log,
        })
    }

    /// `kedactl <cmd> <the stack's flags> <extra>`, with the fake helm on PATH.
    fn cmd(&self, cmd: &str, extra: &[&str]) -> std::process::Output {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend(extra);
        self.stack
            .run_with(cmd, &args, &[("PATH", self.path.as_str())])
    }

    /// `kedactl <cmd> --yes`, optionally killed after `exit_after` steps.
    fn run(&self, cmd: &str, exit_after: Option<usize>) -> std::process::Output {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend(["--yes", "-o", "json"]);
        let k = exit_after.map(|k| k.to_string()).unwrap_or_default();
        let mut env = vec![("PATH", self.path.as_str())];
        if exit_after.is_some() {
            env.push(("KEDACTL_TEST_EXIT_AFTER_STEPS", k.as_str()));
        }
        self.stack.run_with(cmd, &args, &env)
    }

    /// `cmd` killed after `k` steps (it must die there), then run again to completion.
    fn kill_then_finish(&self, cmd: &str, k: usize) {
        let killed = self.run(cmd, Some(k));
        let err = stderr(&killed);
        assert_eq!(
            killed.status.code(),
            Some(137),
            "{cmd} killed after {k}: {err}"
        );
        let again = self.run(cmd, None);
        let err = stderr(&again);
        assert_eq!(
            again.status.code(),
            Some(0),
            "{cmd} after a kill at {k}: {err}"
        );
    }

    /// Everything this stack created, as AWS and the cluster report it, with the stack's
    /// unique prefix replaced so two stacks compare equal.
    async fn fingerprint(&self) -> String {
        let aws = self.stack.sdk().await;
        let mut out = Vec::new();
        for role in [self.stack.operator(), self.stack.identity()] {
            let Some(mut trust) = role_trust(&aws, &role).await else {
                continue;
            };
            // A statement's Sid names its cluster, whose name holds the unique prefix.
            for st in trust["Statement"].as_array_mut().into_iter().flatten() {
                if st["Sid"] != "KedactlOperatorChain" {
                    st["Sid"] = "<cluster sid>".into();
                }
            }
            let names = aws
                .iam
                .list_role_policies()
                .role_name(&role)
                .send()
                .await
                .unwrap();
            let mut policies = Vec::new();
            for p in names.policy_names() {
                let doc = aws
                    .iam
                    .get_role_policy()
                    .role_name(&role)
                    .policy_name(p)
                    .send()
                    .await
                    .unwrap();
                policies.push(format!("{p}={}", decode_policy(doc.policy_document())));
            }
            let tags = aws
                .iam
                .list_role_tags()
                .role_name(&role)
                .send()
                .await
                .unwrap();
            let mut tags: Vec<String> = tags
                .tags()
                .iter()
                .map(|t| format!("{}={}", t.key(), t.value()))
                .collect();
            tags.sort();
            out.push(format!(
                "role {role} trust={trust} policies={policies:?} tags={tags:?}"
            ));
        }
        if queue_exists(&aws, &self.stack.queue()).await {
            let url = queue_url(&aws, &self.stack.queue()).await;
            let attrs = aws
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .unwrap();
            let mut kept: Vec<String> = attrs
                .attributes()
                .into_iter()
                .flatten()
                .filter(|(k, _)| {
                    !k.as_str().starts_with("Approximate") && !k.as_str().ends_with("Timestamp")
                })
                .map(|(k, v)| format!("{}={v}", k.as_str()))
                .collect();
            kept.sort();
            let tags = aws
                .sqs
                .list_queue_tags()
                .queue_url(&url)
                .send()
                .await
                .unwrap();
            let mut tags: Vec<String> = tags
                .tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            tags.sort();
            out.push(format!("queue attrs={kept:?} tags={tags:?}"));
        }
        let repos = aws
            .ecr
            .describe_repositories()
            .repository_names(self.stack.repository())
            .send()
            .await;
        if let Ok(r) = repos {
            for repo in r.repositories() {
                let tags = aws
                    .ecr
                    .list_tags_for_resource()
                    .resource_arn(repo.repository_arn().unwrap())
                    .send()
                    .await
                    .unwrap();
                let mut tags: Vec<String> = tags
                    .tags()
                    .iter()
                    .map(|t| format!("{}={}", t.key(), t.value()))
                    .collect();
                tags.sort();
                out.push(format!(
                    "repository {} tags={tags:?}",
                    repo.repository_name().unwrap()
                ));
            }
        }
        let objects = self.api.state().objects.clone();
        for ((plural, ns, name), o) in objects {
            if o["metadata"]["labels"]["kedactl.io/stack"] != self.stack.prefix.as_str()
                && plural != "deployments"
            {
                continue;
            }
            let spec = o
                .get("spec")
                .or_else(|| o.get("data"))
                .cloned()
                .unwrap_or_default();
            let mut spec = spec;
            if let Some(a) = spec.pointer_mut("/template/metadata/annotations") {
                a.as_object_mut()
                    .unwrap()
                    .remove("kubectl.kubernetes.io/restartedAt");
            }
            out.push(format!(
                "{plural} {}/{name} {spec} labels={}",
                ns.unwrap_or_default(),
                o["metadata"]["labels"]
            ));
        }
        out.join("\n").replace(&self.stack.prefix, "<stack>")
    }

    /// Nothing that carries this stack's tag or label is left.
    async fn assert_gone(&self, context: &str) {
        let aws = self.stack.sdk().await;
        for role in [self.stack.operator(), self.stack.identity()] {
            assert!(
                role_trust(&aws, &role).await.is_none(),
                "{context}: role {role} left"
            );
        }
        assert!(
            !queue_exists(&aws, &self.stack.queue()).await,
            "{context}: queue left"
        );
        let repos = aws
            .ecr
            .describe_repositories()
            .repository_names(self.stack.repository())
            .send()
            .await;
        assert!(repos.is_err(), "{context}: repository left");
        assert_eq!(
            self.api.labelled(&self.stack.prefix),
            Vec::<String>::new(),
            "{context}"
        );
    }
}

fn outcomes(out: &std::process::Output) -> usize {
    let doc: Value = common::valid_document(
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out))),
    );
    doc["outcomes"].as_array().unwrap().len()
}

/// Killed after each step in turn, `up` run again converges to exactly what an uninterrupted
/// run makes; `down` killed after each step, run again, leaves nothing tagged.
#[tokio::test]
async fn up_and_down_killed_at_every_step_boundary_converge() {
    let Some(reference) = FullStack::new("crashref", ALL_BUT_EKS).await else {
        return;
    };
    let out = reference.run("up", None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let steps = outcomes(&out);
    assert!(steps >= 12, "{steps} steps");
    let want = reference.fingerprint().await;
    for part in [
        "role <stack>-op trust=",
        "role <stack>-id trust=",
        "queue attrs=",
        "repository <stack>-repo",
        "scaledobjects security/",
        "triggerauthentications security/",
        "deployments keda/keda-operator",
    ] {
        assert!(
            want.contains(part),
            "the fingerprint covers {part}:\n{want}"
        );
    }
    let out = reference.run("down", None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let down_steps = outcomes(&out);
    reference.assert_gone("reference down").await;

    let mut converged = 0;
    for k in 1..steps {
        let s = FullStack::new(&format!("crash{k}"), ALL_BUT_EKS)
            .await
            .unwrap();
        s.kill_then_finish("up", k);
        assert_eq!(s.fingerprint().await, want, "up killed after step {k}");
        let plan = s.run("plan", None);
        assert!(
            stdout(&plan).contains("\"steps\": []"),
            "after {k}: {}",
            stdout(&plan)
        );
        // And down, killed part-way through, then finished.
        let kill_down_at = 1 + k % (down_steps - 1);
        s.kill_then_finish("down", kill_down_at);
        s.assert_gone(&format!("up killed at {k}, down killed at {kill_down_at}"))
            .await;
        converged += 1;
    }
    eprintln!(
        "crash safety: killed at each of {} boundaries: converged {converged}/{}; down killed and finished {converged} times",
        steps - 1,
        steps - 1
    );
}

/// Two `up` runs on one stack at the same time: no lock is taken; creates are atomic in AWS,
/// and a run that finds a resource its twin just created (same stack tag) carries on, so both
/// complete and the stack ends converged — a third run changes nothing.
#[tokio::test]
async fn two_concurrent_ups_end_converged_and_the_loser_says_why() {
    let Some(s) = Stack::new("concurrent") else {
        return;
    };
    let args = |cmd: &str| {
        let mut c = s.sandbox.process([
            cmd,
            "--cluster",
            "demo",
            "--region",
            "us-east-1",
            "--stack",
            &s.prefix,
            "--operator-role",
            &s.operator(),
            "--identity-role",
            &s.identity(),
            "--queue",
            &s.queue(),
            "--repository",
            &s.repository(),
            "--only",
            "iam,queue,registry",
            "--yes",
        ]);
        c.env("AWS_ENDPOINT_URL", &s.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        c
    };
    let a = args("up")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let b = args("up")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(codes.contains(&Some(0)), "one run completes: {codes:?}");
    for out in [&a, &b] {
        if out.status.code() != Some(0) {
            assert_eq!(out.status.code(), Some(4));
            let err = stderr(out);
            assert!(
                err.contains("is another `kedactl up` working on this stack?"),
                "{err}"
            );
        }
    }
    let mut plan = args("plan");
    plan.arg("--detailed-exitcode");
    let out = plan.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "converged: {}", stdout(&out));
    s.json("down", &[]);
}

/// The seed end to end with every group in one run: moto (IAM, SQS, ECR, STS), a stateful EKS
/// (add-on, associations), the fake cluster (KEDA via fake helm, the app). A second `up` plans
/// nothing; `down` removes everything it made.
#[tokio::test]
async fn the_whole_seed_converges_and_goes_with_every_group() {
    use kedactl::exec;
    use kedactl::output::progress::Progress;
    use kedactl::plan::{self, teardown};
    let Some(s) = Stack::new("whole") else {
        return;
    };
    let Whole {
        api,
        aws,
        kube,
        spec,
        opts,
    } = s.whole().await;
    let d = kedactl::render::desired(&spec).unwrap();
    let observe = async || observe_all(&aws, &kube, &d).await;

    let o = observe().await;
    let p = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    assert!(
        p.steps.len() >= 17,
        "{:#?}",
        p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
    let failed: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.status != exec::Status::Done)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // The operator's pod got credentials from the association made in the same run.
    let op_pods: Vec<_> = api
        .state()
        .objects
        .iter()
        .filter(|(k, v)| k.0 == "pods" && v["metadata"]["labels"]["deployment"] == "keda-operator")
        .map(|(_, v)| v.clone())
        .collect();
    assert!(
        op_pods
            .iter()
            .all(|p| p.to_string().contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
    );

    let o = observe().await;
    let again = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    assert!(
        again.is_empty(),
        "{:#?}",
        again.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );

    let mut o = observe().await;
    kedactl::observe::namespace_side(&kube, &d, &mut o)
        .await
        .unwrap();
    let (down, notes) = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let report = exec::execute(&aws, Some(&kube), &down, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);
    let o = observe().await;
    assert!(
        o.roles.is_empty()
            && o.queues.is_empty()
            && o.repositories.is_empty()
            && o.associations.is_empty()
            && o.addon.is_none(),
        "{o:#?}"
    );
    assert_eq!(api.labelled(&s.prefix), Vec::<String>::new());
}

/// Does this trust admit `ns/sa` of `cluster` through Pod Identity (scoped by session tags)?
fn admits(trust: &Value, cluster: &str, ns: &str, sa: &str) -> bool {
    let one = |v: &Value, want: &str| match v {
        Value::Array(a) => a.len() == 1 && a[0] == want,
        other => other == want,
    };
    let arn = format!("arn:aws:eks:us-east-1:123456789012:cluster/{cluster}");
    let statements = match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    statements.iter().any(|s| {
        let c = &s["Condition"]["StringEquals"];
        s["Effect"] == "Allow"
            && one(&s["Principal"]["Service"], "pods.eks.amazonaws.com")
            && one(&c["aws:RequestTag/eks-cluster-arn"], &arn)
            && one(&c["aws:RequestTag/kubernetes-namespace"], ns)
            && one(&c["aws:RequestTag/kubernetes-service-account"], sa)
    })
}

/// The names of a role's inline policies (none when the role is gone).
async fn inline_policies(aws: &Aws, role: &str) -> Vec<String> {
    match aws.iam.list_role_policies().role_name(role).send().await {
        Ok(out) => out.policy_names().to_vec(),
        Err(_) => vec![],
    }
}

async fn queue_tags(aws: &Aws, name: &str) -> std::collections::HashMap<String, String> {
    let url = queue_url(aws, name).await;
    let out = aws
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    out.tags().cloned().unwrap_or_default()
}

async fn repository_tags(aws: &Aws, name: &str) -> std::collections::BTreeMap<String, String> {
    let repo = aws
        .ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .unwrap();
    let arn = repo.repositories()[0].repository_arn().unwrap().to_string();
    let out = aws
        .ecr
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn repository_exists(aws: &Aws, name: &str) -> bool {
    aws.ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn two_clusters_share_a_stack_and_down_of_one_leaves_the_other_working() {
    let Some(s) = Stack::new("twoclusters") else {
        return;
    };
    let aws = s.sdk().await;
    let (op, id) = (s.operator(), s.identity());
    let keda = ("keda", "keda-operator");
    let app = ("security", "my-sqs-read-msgs");

    s.json_in("a", "up", &[]);
    s.json_in("b", "up", &[]);
    // Both converged, whichever ran last: neither plans a change.
    for c in ["a", "b"] {
        let plan = s.json_in(c, "plan", &[]);
        assert_eq!(plan["steps"], serde_json::json!([]), "{c}: {plan:#}");
    }
    let trust_op = role_trust(&aws, &op).await.unwrap();
    let trust_id = role_trust(&aws, &id).await.unwrap();
    for c in ["a", "b"] {
        assert!(admits(&trust_op, c, keda.0, keda.1), "{c}: {trust_op}");
        assert!(admits(&trust_id, c, app.0, app.1), "{c}: {trust_id}");
    }
    let tags = queue_tags(&aws, &s.queue()).await;
    assert!(
        tags.contains_key("kedactl.io/cluster/a") && tags.contains_key("kedactl.io/cluster/b"),
        "{tags:?}"
    );

    // b goes: a keeps its roles, their trust for its service accounts, policies, queue, repo.
    let down = s.run_in("b", "down", &["--yes"], &[]);
    assert_eq!(down.status.code(), Some(0), "{}", stderr(&down));
    let said = format!("{}{}", stdout(&down), stderr(&down));
    assert!(
        said.contains(&format!("kept: IAM role {id} and its policies"))
            && said.contains(&format!(
                "kept: SQS queue {} (cluster a still uses it)",
                s.queue()
            )),
        "{said}"
    );
    let trust_op = role_trust(&aws, &op).await.expect("operator role kept");
    let trust_id = role_trust(&aws, &id).await.expect("identity role kept");
    assert!(admits(&trust_op, "a", keda.0, keda.1), "{trust_op}");
    assert!(admits(&trust_id, "a", app.0, app.1), "{trust_id}");
    assert!(!admits(&trust_op, "b", keda.0, keda.1), "{trust_op}");
    assert!(!admits(&trust_id, "b", app.0, app.1), "{trust_id}");
    // The chain from the operator role is still there for a's KEDA.
    let chain = trust_id["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "KedactlOperatorChain")
        .unwrap_or_else(|| panic!("chain statement: {trust_id}"));
    assert!(chain.to_string().contains("sts:TagSession"), "{chain}");
    assert_eq!(
        inline_policies(&aws, &op).await,
        ["kedactl-assume-identity"]
    );
    assert_eq!(inline_policies(&aws, &id).await, ["kedactl-sqs-access"]);
    assert!(queue_exists(&aws, &s.queue()).await);
    assert!(repository_exists(&aws, &s.repository()).await);
    let tags = queue_tags(&aws, &s.queue()).await;
    assert!(
        tags.contains_key("kedactl.io/cluster/a") && !tags.contains_key("kedactl.io/cluster/b"),
        "{tags:?}"
    );
    // a is still exactly as its up left it.
    let plan = s.json_in("a", "plan", &[]);
    assert_eq!(plan["steps"], serde_json::json!([]), "{plan:#}");

    // a goes too: nothing is left.
    s.json_in("a", "down", &[]);
    assert!(role_trust(&aws, &op).await.is_none());
    assert!(role_trust(&aws, &id).await.is_none());
    assert!(!queue_exists(&aws, &s.queue()).await);
    assert!(!repository_exists(&aws, &s.repository()).await);
    let again = s.json_in("b", "down", &[]);
    assert_eq!(again["calls"]["mutating"], 0, "{again:#}");
}

/// Several clusters of one stack and account change the shared roles at the same moment
/// (pipelines rolling out a fleet): three first `up`s at once, or two joining an existing
/// stack at once, then a `down` of one beside an `up` of another, ten times (IAM's default
/// trust quota fits four clusters' statements). Every cluster that ran `up` keeps its trust statements (both roles), its
/// tag on the queue and the inline grants; the one that went down is out of the trust.
#[tokio::test]
async fn concurrent_ups_and_downs_of_different_clusters_lose_no_cluster_s_trust() {
    let Some(s) = Stack::new("fleet") else {
        return;
    };
    let aws = s.sdk().await;
    let at_once = |runs: &[(&str, &str)]| {
        let children: Vec<_> = runs
            .iter()
            .map(|(cluster, cmd)| {
                let mut c = s.command_in(cluster, cmd, &["--yes"], &[]);
                c.stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                ((*cluster, *cmd), c.spawn().unwrap())
            })
            .collect();
        for ((cluster, cmd), child) in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{cmd} of {cluster}: {}",
                stderr(&out)
            );
        }
    };
    for round in 0..10 {
        if round % 2 == 0 {
            // Three first `up`s: all plan to create the roles; the losers join the winner's.
            at_once(&[("a", "up"), ("b", "up"), ("c", "up")]);
        } else {
            // Two clusters join an existing stack at once: both update the same trusts.
            s.json_in("a", "up", &[]);
            at_once(&[("b", "up"), ("c", "up")]);
        }
        fleet_intact(&s, &aws, round, &["a", "b", "c"], &[]).await;
        at_once(&[("a", "down"), ("d", "up")]);
        fleet_intact(&s, &aws, round, &["b", "c", "d"], &["a"]).await;
        for c in ["b", "c", "d"] {
            s.json_in(c, "down", &[]);
        }
        assert!(
            role_trust(&aws, &s.operator()).await.is_none(),
            "round {round}"
        );
    }
}

/// Every cluster in `present` is in both roles' trust, tags the queue and has the grants; every
/// one in `absent` is out of both trusts.
async fn fleet_intact(s: &Stack, aws: &Aws, round: usize, present: &[&str], absent: &[&str]) {
    let trust_op = role_trust(aws, &s.operator()).await.expect("operator role");
    let trust_id = role_trust(aws, &s.identity()).await.expect("identity role");
    let tags = queue_tags(aws, &s.queue()).await;
    let repository_tags = repository_tags(aws, &s.repository()).await;
    for c in present {
        assert!(
            admits(&trust_op, c, "keda", "keda-operator"),
            "round {round}: {c} lost its operator trust: {trust_op}"
        );
        assert!(
            admits(&trust_id, c, "security", "my-sqs-read-msgs"),
            "round {round}: {c} lost its identity trust: {trust_id}"
        );
        assert!(
            tags.contains_key(&format!("kedactl.io/cluster/{c}")),
            "round {round}: {c} lost its queue tag: {tags:?}"
        );
        assert!(
            repository_tags.contains_key(&format!("kedactl.io/cluster/{c}")),
            "round {round}: {c} lost its repository tag: {repository_tags:?}"
        );
    }
    for c in absent {
        assert!(
            !admits(&trust_op, c, "keda", "keda-operator")
                && !admits(&trust_id, c, "security", "my-sqs-read-msgs"),
            "round {round}: {c} went down but is still trusted: {trust_op} {trust_id}"
        );
    }
    assert_eq!(
        inline_policies(aws, &s.operator()).await,
        ["kedactl-assume-identity"]
    );
    assert_eq!(
        inline_policies(aws, &s.identity()).await,
        ["kedactl-sqs-access"]
    );
}

/// Seed 003 end to end: the AMP workspace is created in the same run as the grant and the
/// ScaledObject that name it, both get its real id, a second plan is empty, and down removes it.
#[tokio::test]
async fn the_amp_stack_converges_with_the_workspace_id_filled_in_and_goes() {
    // moto has no scrapers: the stack that writes its own metrics.
    amp_stack(kedactl::triggers::prometheus::Collector::None).await;
}

/// The same with the default collector, an AMP managed scraper, over a stateful AMP mock (moto
/// lacks scrapers): made for this cluster once the workspace exists, writing to its real id,
/// and deleted before the workspace.
#[tokio::test]
async fn the_amp_stack_with_its_scraper_converges_and_goes() {
    amp_stack(kedactl::triggers::prometheus::Collector::Scraper).await;
}

async fn amp_stack(collector: kedactl::triggers::prometheus::Collector) {
    use kedactl::exec;
    use kedactl::model::Only;
    use kedactl::output::progress::Progress;
    use kedactl::plan::{self, teardown};
    use kedactl::triggers::{Kind, prometheus};
    let Some(s) = Stack::new("amp") else {
        return;
    };
    let Whole {
        api,
        mut aws,
        kube,
        mut spec,
        opts,
    } = s.whole().await;
    let scraping = collector == prometheus::Collector::Scraper;
    let (mocked, _rules, amp_state) = amp::stateful();
    if scraping {
        amp_state.state().settle = 2;
        aws = aws.with_amp(mocked);
    }
    let alias = format!("{}-ws", s.prefix);
    let app = &mut spec.apps[0];
    app.trigger = Kind::Prometheus;
    app.prometheus = Some(prometheus::Config {
        workspace: prometheus::Workspace {
            alias: Some(alias.clone()),
            id: None,
        },
        query: "sum(rate(ho11y_total[1m]))".into(),
        threshold: 0.25,
        activation_threshold: 0.0,
        ignore_null_values: true,
        collector: Some(collector),
        metrics_port: Some(8080),
        metrics_path: None,
    });
    let all = Only::default();
    // As `up` does: observe with the offline render, then render with what was observed.
    let observe = async |spec: &kedactl::spec::Spec| {
        let d = kedactl::render::desired(spec).unwrap();
        let caller = kedactl::observe::caller(&aws).await.unwrap();
        let mut o = kedactl::observe::observe_partial(&aws, &d, &all, caller).await;
        // moto has no scrapers: its 404 to the listing of the cluster's scrapers (which finds
        // one `collector: none` left behind) is the one read allowed to fail.
        o.unread
            .retain(|u| u.operation != "ListScrapers" || scraping);
        assert!(o.unread.is_empty() && o.denied.is_empty(), "{o:#?}");
        let d = kedactl::render::desired_with(spec, &o).unwrap();
        kedactl::observe::cluster_side(&kube, &d, &all, &mut o)
            .await
            .unwrap();
        (d, o)
    };

    let (d, o) = observe(&spec).await;
    assert!(o.resources.is_empty());
    let p = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);

    let live = aws
        .amp
        .list_workspaces()
        .alias(&alias)
        .send()
        .await
        .unwrap();
    let ws = &live.workspaces()[0];
    assert_eq!(ws.status().unwrap().status_code().as_str(), "ACTIVE");
    assert_eq!(
        ws.tags().unwrap().get("kedactl.io/stack"),
        Some(&s.prefix),
        "tagged with the stack"
    );
    let id = ws.workspace_id();
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(s.identity())
        .policy_name("kedactl-amp-query")
        .send()
        .await
        .unwrap();
    let policy = decode_policy(policy.policy_document());
    assert_eq!(
        policy["Statement"][0]["Resource"],
        serde_json::json!([format!("arn:aws:aps:us-east-1:123456789012:workspace/{id}")])
    );
    assert_eq!(policy["Statement"][0]["Action"], "aps:QueryMetrics");
    let scaler = api
        .state()
        .objects
        .iter()
        .find(|(k, _)| k.0 == "scaledobjects")
        .map(|(_, v)| v.clone())
        .expect("the ScaledObject");
    let trigger = &scaler["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "prometheus");
    assert_eq!(
        trigger["metadata"]["serverAddress"],
        format!("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{id}")
    );
    assert_eq!(trigger["metadata"]["awsRegion"], "us-east-1");
    if scraping {
        let st = amp_state.state();
        assert_eq!(st.scrapers.len(), 1, "{:?}", st.calls);
        let scraper = &st.scrapers[0];
        assert_eq!(scraper.status, "ACTIVE");
        assert_eq!(scraper.workspace_arn, ws.arn(), "the workspace's real id");
        assert_eq!(scraper.alias, format!("kedactl-demo-{alias}"));
        assert_eq!(scraper.subnets, ["subnet-0a", "subnet-0b"]);
        let create_ws = st.calls.iter().position(|c| *c == "CreateWorkspace");
        let create_scraper = st.calls.iter().position(|c| *c == "CreateScraper");
        assert!(create_ws < create_scraper, "{:?}", st.calls);
    }

    let (d, o) = observe(&spec).await;
    let again = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    assert!(
        again.is_empty(),
        "{:#?}",
        again.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    if scraping {
        // `collector: none` now: the scraper this stack made goes, nothing else changes.
        spec.apps[0].prometheus.as_mut().unwrap().collector = Some(prometheus::Collector::None);
        let (d, o) = observe(&spec).await;
        let none = plan::plan(&d, &o, &plan::Options::default()).unwrap();
        let ids: Vec<&str> = none.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [format!("aps:scraper/kedactl-demo-{alias}")]);
        let report = exec::execute(&aws, Some(&kube), &none, &opts, &Progress::Silent).await;
        assert!(report.ok(), "{:#?}", report.outcomes);
        assert_eq!(amp_state.state().scrapers[0].status, "DELETING");
        let (d, o) = observe(&spec).await;
        assert!(
            plan::plan(&d, &o, &plan::Options::default())
                .unwrap()
                .is_empty()
        );
    }

    let (d, mut o) = observe(&spec).await;
    kedactl::observe::namespace_side(&kube, &d, &mut o)
        .await
        .unwrap();
    kedactl::observe::data_side(&aws, &d, &Default::default(), &mut o).await;
    // AMP cannot count a workspace's stored metrics: it goes only with --force.
    let refused = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap_err();
    assert!(
        refused.reasons[0].starts_with(&format!("AMP workspace {alias} may hold data")),
        "{refused}"
    );
    let force = teardown::Options {
        force: true,
        ..Default::default()
    };
    let (down, notes) = teardown::teardown(&d, &o, &force).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let report = exec::execute(&aws, Some(&kube), &down, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);
    let (_, o) = observe(&spec).await;
    assert!(o.resources.is_empty() && o.roles.is_empty(), "{o:#?}");
    if scraping {
        let st = amp_state.state();
        assert!(
            st.scrapers.iter().all(|s| s.status == "DELETING"),
            "{:?}",
            st.calls
        );
        let delete_scraper = st.calls.iter().position(|c| *c == "DeleteScraper");
        let delete_ws = st.calls.iter().position(|c| *c == "DeleteWorkspace");
        assert!(
            delete_scraper.is_some() && delete_scraper < delete_ws,
            "{:?}",
            st.calls
        );
    }
    let gone = aws
        .amp
        .list_workspaces()
        .alias(&alias)
        .send()
        .await
        .unwrap();
    assert!(
        gone.workspaces()
            .iter()
            .all(|w| w.status().unwrap().status_code().as_str() == "DELETING"),
        "{gone:?}"
    );
}

/// The IAM OIDC providers moto holds for `issuer` (ARNs).
async fn oidc_providers(aws: &Aws, issuer: &str) -> Vec<String> {
    let host = issuer.trim_start_matches("https://");
    let out = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    out.open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .filter(|a| a.ends_with(&format!(":oidc-provider/{host}")))
        .map(str::to_string)
        .collect()
}

/// The check `code` of a `doctor -o json` document.
fn check<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no {code}: {doc:#}"))
}

/// Seeds 001/002 run IRSA: with no --oidc-issuer the issuer is the cluster's (DescribeCluster),
/// a different one is refused naming both, `up` creates the cluster's IAM OIDC provider tagged
/// with the stack, doctor fails once it is deleted, and `down` removes it (this stack made it,
/// and its roles, the only ones trusting it, go first). One made by someone else is used and left.
#[tokio::test]
async fn irsa_takes_the_clusters_issuer_and_manages_its_oidc_provider() {
    let Some(s) = Stack::new("irsa") else {
        return;
    };
    let cluster = moto_cluster(&s).await;
    let aws = s.sdk().await;
    let described = aws
        .eks
        .describe_cluster()
        .name(&cluster)
        .send()
        .await
        .unwrap();
    let issuer = described
        .cluster()
        .and_then(|c| c.identity())
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .expect("moto gives clusters an OIDC issuer, as EKS does")
        .to_string();
    let host = issuer.trim_start_matches("https://").to_string();
    // moto draws one issuer per region and process: a provider an earlier run left goes first.
    for arn in oidc_providers(&aws, &issuer).await {
        let _ = aws
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await;
    }
    let irsa = ["--only", "iam", "--auth-mode", "irsa"];
    let run = |cmd: &str, extra: &[&str]| {
        let mut args: Vec<&str> = irsa.to_vec();
        args.extend(extra);
        s.run_in(&cluster, cmd, &args, &[])
    };
    let json = |cmd: &str, extra: &[&str]| {
        let mut args = vec!["-o", "json", "--yes"];
        args.extend(extra);
        let out = run(cmd, &args);
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{cmd}: {e}: {}\n{}", stdout(&out), stderr(&out)));
        (out.status.code(), common::valid_document(doc))
    };

    // Offline the issuer stays required, with the same words as before.
    let out = s.run_in(
        &cluster,
        "plan",
        &["--offline", "--only", "iam", "--auth-mode", "irsa"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("IRSA needs the cluster's OIDC issuer"),
        "{}",
        stderr(&out)
    );

    // No --oidc-issuer: the plan uses the cluster's, and creates its provider first.
    let (code, plan) = json("plan", &[]);
    assert_eq!(code, Some(0), "{plan:#}");
    let id = format!("iam:oidc-provider/{host}");
    let steps = plan["steps"].as_array().unwrap();
    let create = steps
        .iter()
        .find(|st| st["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(create["action"], "create-oidc-provider");
    assert_eq!(create["url"], issuer.as_str());
    assert_eq!(
        create["clientIds"],
        serde_json::json!(["sts.amazonaws.com"])
    );
    let provider_arn = format!("arn:aws:iam::123456789012:oidc-provider/{host}");
    for st in steps.iter().filter(|st| st["action"] == "create-role") {
        assert!(
            st["after"]
                .as_array()
                .unwrap()
                .contains(&id.as_str().into()),
            "{st:#}"
        );
        assert!(st["trust"].to_string().contains(&provider_arn), "{st:#}");
    }

    // A configured issuer of another cluster is refused, naming both, before any change.
    let wrong = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789";
    let out = run("up", &["--yes", "--oidc-issuer", wrong]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(wrong) && err.contains(&issuer), "{err}");
    assert!(oidc_providers(&aws, &issuer).await.is_empty());
    assert!(role_trust(&aws, &s.operator()).await.is_none());
    // The right one, configured, is fine.
    let (code, _) = json("plan", &["--oidc-issuer", &issuer]);
    assert_eq!(code, Some(0));

    // up creates it, tagged with the stack, with STS's audience.
    let (code, up) = json("up", &[]);
    assert_eq!(code, Some(0), "{up:#}");
    common::all_done(&up);
    assert_eq!(oidc_providers(&aws, &issuer).await, [provider_arn.as_str()]);
    let got = aws
        .iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);
    assert!(
        got.tags()
            .iter()
            .any(|t| t.key() == "kedactl.io/stack" && t.value() == s.prefix),
        "{:?}",
        got.tags()
    );
    let (_, again) = json("plan", &[]);
    assert_eq!(again["steps"], serde_json::json!([]), "{again:#}");

    // doctor: the provider and the trusts pass; with the provider deleted, KD051 fails.
    let (code, doc) = json("doctor", &[]);
    assert_eq!(check(&doc, "KD051")["status"], "ok", "{doc:#}");
    assert_eq!(check(&doc, "KD052")["status"], "ok", "{doc:#}");
    assert_eq!(code, Some(0), "{doc:#}");
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider_arn)
        .send()
        .await
        .unwrap();
    let (code, doc) = json("doctor", &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    let kd051 = check(&doc, "KD051");
    assert_eq!(kd051["status"], "fail", "{doc:#}");
    assert!(
        kd051["fix"]
            .as_str()
            .unwrap()
            .contains("kedactl up --only iam"),
        "{kd051:#}"
    );

    // up puts it back; down removes it with the roles that trusted it.
    let (code, _) = json("up", &[]);
    assert_eq!(code, Some(0));
    assert_eq!(oidc_providers(&aws, &issuer).await.len(), 1);
    let (code, down) = json("down", &[]);
    assert_eq!(code, Some(0), "{down:#}");
    common::all_done(&down);
    assert!(oidc_providers(&aws, &issuer).await.is_empty());
    assert!(role_trust(&aws, &s.operator()).await.is_none());

    // One made by someone else (eksctl: no tags) is used, and left by down.
    aws.iam
        .create_open_id_connect_provider()
        .url(&issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .unwrap();
    let (code, plan) = json("plan", &[]);
    assert_eq!(code, Some(0));
    assert!(
        !plan.to_string().contains("create-oidc-provider"),
        "{plan:#}"
    );
    json("up", &[]);
    let out = run("down", &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "left alone: IAM OIDC provider {issuer} (not created by this stack)"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(oidc_providers(&aws, &issuer).await, [provider_arn.as_str()]);
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider_arn)
        .send()
        .await
        .unwrap();
}

/// Seed 002 in IRSA mode, end to end: a ScaledJob app, no --oidc-issuer. The issuer comes from
/// DescribeCluster (the EKS double gives every cluster its own, as EKS does), `up` creates the
/// IAM OIDC provider before the trusts that name it, KEDA's chart annotates the operator's
/// account and the webhook gives its pods the web identity; doctor's IRSA checks pass, and fail
/// on the provider once it is deleted; `down` removes it with the roles.
#[tokio::test]
async fn the_scaledjob_seed_runs_on_irsa_end_to_end() {
    use kedactl::doctor::{Evidence, Status, checks, gather};
    use kedactl::exec;
    use kedactl::model::Only;
    use kedactl::output::progress::Progress;
    use kedactl::plan::{self, Action, teardown};
    use kedactl::spec::issuer::{Seen, reconcile};
    let Some(s) = Stack::new("irsajob") else {
        return;
    };
    let Whole {
        api,
        aws,
        kube,
        mut spec,
        opts,
    } = s.whole().await;
    spec.auth_mode = kedactl::spec::AuthMode::Irsa;
    spec.apps[0].scaling.kind = kedactl::spec::ScalingKind::ScaledJob;
    let cluster = kedactl::observe::describe_cluster(&aws, "demo")
        .await
        .unwrap()
        .unwrap();
    let issuer = cluster.oidc_issuer.clone().expect("EKS reports the issuer");
    reconcile(&mut spec, Seen::Issuer(&issuer), "test").unwrap();
    let d = kedactl::render::desired(&spec).unwrap();
    let provider = d.oidc_provider.clone().unwrap();
    assert!(d.addon.is_none() && d.associations.is_empty());
    assert!(d.manifests.iter().any(|m| m["kind"] == "ScaledJob"));
    let all = Only::default();
    let observe = async || observe_all(&aws, &kube, &d).await;
    let doctor = async || {
        let caller = kedactl::observe::caller(&aws).await.unwrap();
        let mut e = Evidence::default();
        gather::aws_side(&aws, &d, &all, caller, &mut e).await;
        gather::cluster_side(&kube, &d, &all, Default::default(), &mut e)
            .await
            .unwrap();
        checks::run(&d, &e)
    };
    let status = |found: &[kedactl::doctor::Finding], code: &str| {
        found.iter().find(|f| f.code == code).unwrap().status
    };

    let o = observe().await;
    let p = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    let id = format!("iam:oidc-provider/{}", provider.host);
    assert!(
        p.steps.iter().any(|st| st.id == id
            && matches!(&st.action, Action::CreateOidcProvider { url, .. } if *url == issuer)),
        "{:#?}",
        p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);
    let listed = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .open_id_connect_provider_list()
            .iter()
            .any(|e| e.arn() == Some(provider.arn.as_str())),
        "{listed:?}"
    );
    // The operator's pods run as the operator role, by web identity.
    let operator = &d.roles[0].arn;
    let op_pods: Vec<_> = api
        .state()
        .objects
        .iter()
        .filter(|(k, v)| k.0 == "pods" && v["metadata"]["labels"]["deployment"] == "keda-operator")
        .map(|(_, v)| v.to_string())
        .collect();
    assert!(!op_pods.is_empty());
    assert!(
        op_pods
            .iter()
            .all(|p| p.contains("AWS_WEB_IDENTITY_TOKEN_FILE") && p.contains(operator.as_str())),
        "{op_pods:#?}"
    );
    let again = plan::plan(&d, &observe().await, &plan::Options::default()).unwrap();
    assert!(again.is_empty(), "{:#?}", again.steps);

    let found = doctor().await;
    for code in ["KD051", "KD052", "KD053", "KD054"] {
        assert_eq!(status(&found, code), Status::Ok, "{code}: {found:#?}");
    }
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&provider.arn)
        .send()
        .await
        .unwrap();
    let found = doctor().await;
    assert_eq!(status(&found, "KD051"), Status::Fail, "{found:#?}");
    let p = plan::plan(&d, &observe().await, &plan::Options::default()).unwrap();
    assert_eq!(
        p.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);

    let mut o = observe().await;
    kedactl::observe::namespace_side(&kube, &d, &mut o)
        .await
        .unwrap();
    o.oidc_trusted_by = Some(
        kedactl::observe::roles_trusting(&aws, &provider.arn)
            .await
            .unwrap(),
    );
    let (down, notes) = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    assert!(down.steps.iter().any(|st| st.id == id));
    // A role that came to trust the provider after the plan was read keeps it: the delete
    // reads every role again right before it runs.
    let late = format!("{}-late", s.prefix);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": provider.arn}, "Action": "sts:AssumeRoleWithWebIdentity"}]});
    aws.iam
        .create_role()
        .role_name(&late)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let report = exec::execute(&aws, Some(&kube), &down, &opts, &Progress::Silent).await;
    let refused = report.outcomes.iter().find(|o| o.id == id).unwrap();
    assert!(
        refused.status != exec::Status::Done
            && format!("{refused:?}").contains(&format!("trusted by IAM role {late}")),
        "{refused:#?}"
    );
    assert!(observe().await.oidc_provider.is_some());
    aws.iam.delete_role().role_name(&late).send().await.unwrap();
    let mut o = observe().await;
    o.oidc_trusted_by = Some(
        kedactl::observe::roles_trusting(&aws, &provider.arn)
            .await
            .unwrap(),
    );
    let (down, _) = teardown::teardown(&d, &o, &teardown::Options::default()).unwrap();
    let report = exec::execute(&aws, Some(&kube), &down, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);
    let o = observe().await;
    assert!(o.roles.is_empty() && o.oidc_provider.is_none(), "{o:#?}");
    assert_eq!(api.labelled(&s.prefix), Vec::<String>::new());
}

/// The IAM OIDC provider calls against botocore's IAM model (the oracle the AWS CLI and moto
/// share, installed with moto): the URL limit kedactl validates is the model's, the client id
/// fits, and CreateOpenIDConnectProvider needs no thumbprint.
#[test]
fn the_oidc_provider_request_fits_botocores_iam_model() {
    if endpoint().is_none() {
        return;
    }
    let script = r#"
import json
from botocore.loaders import Loader
m = Loader().load_service_model("iam", "service-2")
s = m["shapes"]
req = s[m["operations"]["CreateOpenIDConnectProvider"]["input"]["shape"]]
print(json.dumps({
    "required": req.get("required", []),
    "url": [s[req["members"]["Url"]["shape"]].get(k) for k in ("min", "max")],
    "client": [s[s[req["members"]["ClientIDList"]["shape"]]["member"]["shape"]].get(k) for k in ("min", "max")],
    "list_roles_has_trust": "AssumeRolePolicyDocument" in s["Role"]["members"],
}))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 (moto's interpreter) runs");
    assert!(
        out.status.success(),
        "botocore is installed with moto: {}",
        stderr(&out)
    );
    let model: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(model["required"], serde_json::json!(["Url"]), "{model}");
    assert_eq!(
        model["url"],
        serde_json::json!([1, kedactl::spec::names::OIDC_URL_MAX]),
        "{model}"
    );
    let (min, max) = (
        model["client"][0].as_u64().unwrap(),
        model["client"][1].as_u64().unwrap(),
    );
    let audience = kedactl::render::STS_AUDIENCE.len() as u64;
    assert!(min <= audience && audience <= max, "{model}");
    // ListRoles returns each role's trust: `down` reads every role's from it.
    assert_eq!(model["list_roles_has_trust"], true, "{model}");
}

/// `down` reads every role's trust before it deletes a provider: ListRoles pages (100 roles
/// each) are all read, so a role on the second page still keeps it.
#[tokio::test]
async fn the_roles_trusting_a_provider_are_read_on_every_page() {
    let Some(s) = Stack::new("pages") else {
        return;
    };
    let aws = s.sdk().await;
    let arn = format!(
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/{}",
        s.prefix.replace('-', "").to_uppercase()
    );
    let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let trusting = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
    .to_string();
    let names: Vec<String> = (0..101).map(|i| format!("{}-r{i}", s.prefix)).collect();
    let create = |name: &String, doc: &str| {
        aws.iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(doc)
            .send()
    };
    // Filler first, so the trusting role is listed after at least 100 others.
    for chunk in names[..100].chunks(20) {
        futures_util::future::join_all(chunk.iter().map(|n| create(n, other))).await;
    }
    create(&names[100], &trusting).await.unwrap();
    let listed = aws.iam.list_roles().send().await.unwrap();
    assert!(listed.is_truncated(), "more than one page");
    let found = kedactl::observe::roles_trusting(&aws, &arn).await.unwrap();
    assert_eq!(found, [names[100].as_str()]);
    for chunk in names.chunks(20) {
        futures_util::future::join_all(
            chunk
                .iter()
                .map(|n| aws.iam.delete_role().role_name(n).send()),
        )
        .await;
    }
}

/// A config of apps `wanted` (of 1..=3), each with its own queue `<prefix>-q<i>` and repository
/// `<prefix>-repo<i>`, under the stack's roles; `renamed` renames app 1's queue to `…-q1b`.
fn apps_config(s: &Stack, wanted: &[usize], renamed: bool) -> std::path::PathBuf {
    apps_config_with(s, wanted, renamed, false)
}

/// `apps_config`, app 2 with an identity role of its own (`<prefix>-id2`) when `own_role`.
fn apps_config_with(
    s: &Stack,
    wanted: &[usize],
    renamed: bool,
    own_role: bool,
) -> std::path::PathBuf {
    let p = &s.prefix;
    let mut yaml = format!(
        "roles:\n  operator: {}\n  identity: {}\napps:\n",
        s.operator(),
        s.identity()
    );
    for i in wanted {
        let q = match (i, renamed) {
            (1, true) => format!("{p}-q1b"),
            _ => format!("{p}-q{i}"),
        };
        yaml.push_str(&format!(
            "  - deployment: worker-{i}\n    serviceAccount: worker-{i}-sa\n    repository: {p}-repo{i}\n    queue:\n      name: {q}\n"
        ));
        if *i == 2 && own_role {
            yaml.push_str(&format!("    identityRole: {p}-id2\n"));
        }
    }
    let name: String = wanted.iter().map(|i| i.to_string()).collect();
    s.sandbox
        .write(&format!("apps-{name}-{renamed}-{own_role}.yaml"), yaml)
}

/// `kedactl <cmd> -f <cfg> <extra>` on the stack's cluster, against moto.
fn run_config(s: &Stack, cfg: &std::path::Path, cmd: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        cmd,
        "-f",
        cfg.to_str().unwrap(),
        "--cluster",
        "demo",
        "--region",
        "us-east-1",
        "--stack",
        &s.prefix,
    ];
    args.extend(extra);
    common::moto_cluster(&s.endpoint, "demo");
    s.sandbox
        .process(&args)
        .env("KEDACTL_TRUST_WATCH", "2")
        .env("AWS_ENDPOINT_URL", &s.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap()
}

/// `up --only iam,queue,registry --yes -f cfg`, expecting success.
fn up_aws(s: &Stack, cfg: &std::path::Path) {
    let out = run_config(s, cfg, "up", &["--only", "iam,queue,registry", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The queue ARNs the identity role's SQS grant names.
async fn granted_queues(aws: &Aws, role: &str) -> Vec<String> {
    let doc = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("kedactl-sqs-access")
        .send()
        .await
        .unwrap();
    let doc = decode_policy(doc.policy_document());
    let mut arns: Vec<String> = doc["Statement"][0]["Resource"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![doc["Statement"][0]["Resource"].clone()])
        .iter()
        .filter_map(|v| Some(v.as_str()?.rsplit(':').next()?.to_string()))
        .collect();
    arns.sort();
    arns
}

/// The summaries of a plan document's steps.
fn summaries(doc: &Value) -> Vec<String> {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["summary"].as_str().unwrap().to_string())
        .collect()
}

/// #38: app 2 taken out of a 3-app config. `plan` lists its queue and repository as deletions
/// ("no longer in the config"); `up` refuses while the queue holds a message, changing nothing
/// (not even the grant), deletes both once the queue is empty, and narrows the grant; the other
/// apps' queues and repositories stay. `--no-prune` keeps them and says so.
#[tokio::test]
async fn removing_an_app_from_the_config_deletes_its_queue_and_repository() {
    let Some(s) = Stack::new("prune") else {
        return;
    };
    let aws = s.sdk().await;
    let p = s.prefix.clone();
    let aws_only = ["--only", "iam,queue,registry"];
    let three = apps_config(&s, &[1, 2, 3], false);
    up_aws(&s, &three);
    let q2 = format!("{p}-q2");
    let repo2 = format!("{p}-repo2");
    // Another stack's queue, and one of this stack without this cluster's key: never candidates.
    let foreign = format!("{p}-foreign");
    aws.sqs
        .create_queue()
        .queue_name(&foreign)
        .tags("kedactl.io/stack", "someone-else")
        .send()
        .await
        .unwrap();
    let keyless = format!("{p}-keyless");
    aws.sqs
        .create_queue()
        .queue_name(&keyless)
        .tags("kedactl.io/stack", &p)
        .send()
        .await
        .unwrap();

    let two = apps_config(&s, &[1, 3], false);
    let out = run_config(&s, &two, "plan", &[&aws_only[..], &["-o", "json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = summaries(&doc);
    for want in [
        format!("delete SQS queue {q2} (no longer in the config)"),
        format!("delete ECR repository {repo2} (no longer in the config)"),
    ] {
        assert!(lines.contains(&want), "{want} in {lines:#?}");
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(&foreign) || l.contains(&keyless)),
        "{lines:#?}"
    );

    // A message in q2: `up` refuses, and nothing changes, not even the grant.
    let url = queue_url(&aws, &q2).await;
    aws.sqs
        .send_message()
        .queue_url(&url)
        .message_body("still here")
        .send()
        .await
        .unwrap();
    let before = granted_queues(&aws, &s.identity()).await;
    assert_eq!(before.len(), 3, "{before:?}");
    let out = run_config(&s, &two, "up", &[&aws_only[..], &["--yes"]].concat());
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "SQS queue {q2}: no longer in the config, and it holds 1 message: pass --force"
        )) && stderr(&out).contains("--no-prune"),
        "{}",
        stderr(&out)
    );
    assert!(queue_exists(&aws, &q2).await && repository_exists(&aws, &repo2).await);
    assert_eq!(granted_queues(&aws, &s.identity()).await, before);

    // --no-prune: the rest converges, the two are kept and named.
    let out = run_config(&s, &two, "plan", &[&aws_only[..], &["--no-prune"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("kept, no longer in the config: SQS queue {q2}"))
            && stderr(&out).contains(&format!(
                "kept, no longer in the config: ECR repository {repo2}"
            )),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains(&format!("delete SQS queue {q2}")),
        "{}",
        stdout(&out)
    );

    // Emptied: `up` deletes both and narrows the grant.
    aws.sqs.purge_queue().queue_url(&url).send().await.unwrap();
    let out = run_config(
        &s,
        &two,
        "up",
        &[&aws_only[..], &["--yes", "-o", "json"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!queue_exists(&aws, &q2).await, "q2 is deleted");
    assert!(!repository_exists(&aws, &repo2).await, "repo2 is deleted");
    for kept in [format!("{p}-q1"), format!("{p}-q3"), foreign, keyless] {
        assert!(queue_exists(&aws, &kept).await, "{kept} stays");
    }
    assert!(repository_exists(&aws, &format!("{p}-repo1")).await);
    assert_eq!(
        granted_queues(&aws, &s.identity()).await,
        [format!("{p}-q1"), format!("{p}-q3")]
    );
    // The shared identity role no longer admits app 2's service account; 1's and 3's stay.
    let trust = role_trust(&aws, &s.identity()).await.unwrap().to_string();
    assert!(
        !trust.contains("worker-2-sa")
            && trust.contains("worker-1-sa")
            && trust.contains("worker-3-sa"),
        "{trust}\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Converged: nothing left to do.
    let out = run_config(
        &s,
        &two,
        "plan",
        &[&aws_only[..], &["--detailed-exitcode"]].concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// #38: a renamed queue is a create and a delete in one plan, shown together, and refused
/// while the old one holds data (nothing changes, the new queue is not created either).
#[tokio::test]
async fn a_renamed_queue_is_created_and_the_old_one_deleted_unless_it_holds_data() {
    let Some(s) = Stack::new("rename") else {
        return;
    };
    let aws = s.sdk().await;
    let p = s.prefix.clone();
    let aws_only = ["--only", "iam,queue,registry"];
    let before = apps_config(&s, &[1, 2], false);
    up_aws(&s, &before);
    let (q1, q1b) = (format!("{p}-q1"), format!("{p}-q1b"));
    let url = queue_url(&aws, &q1).await;
    for body in ["a", "b"] {
        aws.sqs
            .send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let after = apps_config(&s, &[1, 2], true);
    let out = run_config(&s, &after, "plan", &aws_only);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let line = format!(
        "{q1} → {q1b}: the new queue is created, the old one (2 messages) would be deleted"
    );
    assert!(
        stdout(&out).contains(&format!("create SQS queue {q1b} ({line})"))
            && stdout(&out).contains(&format!("delete SQS queue {q1} ({line})")),
        "{}",
        stdout(&out)
    );
    let out = run_config(&s, &after, "up", &[&aws_only[..], &["--yes"]].concat());
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds 2 messages"),
        "{}",
        stderr(&out)
    );
    assert!(queue_exists(&aws, &q1).await && !queue_exists(&aws, &q1b).await);

    // --force: the rename goes through, and the grant names the new queue.
    let out = run_config(
        &s,
        &after,
        "up",
        &[&aws_only[..], &["--yes", "--force"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!queue_exists(&aws, &q1).await && queue_exists(&aws, &q1b).await);
    assert_eq!(
        granted_queues(&aws, &s.identity()).await,
        [q1b.clone(), format!("{p}-q2")]
    );
}

/// #38: the groups in either order (one CI job per group) converge to the same account: the
/// grant narrowed, app 2's queue and repository gone, the other apps' kept.
#[tokio::test]
async fn pruning_converges_whichever_group_runs_first() {
    for (name, order) in [
        ("prune-iam-first", ["iam", "queue,registry"]),
        ("prune-queue-first", ["queue,registry", "iam"]),
    ] {
        let Some(s) = Stack::new(name) else {
            return;
        };
        let aws = s.sdk().await;
        let p = s.prefix.clone();
        let three = apps_config(&s, &[1, 2, 3], false);
        let out = run_config(&s, &three, "up", &["--only", "iam,queue,registry", "--yes"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let two = apps_config(&s, &[1, 3], false);
        for group in order {
            let out = run_config(&s, &two, "up", &["--only", group, "--yes"]);
            assert_eq!(out.status.code(), Some(0), "{group}: {}", stderr(&out));
        }
        assert!(!queue_exists(&aws, &format!("{p}-q2")).await, "{order:?}");
        assert!(
            !repository_exists(&aws, &format!("{p}-repo2")).await,
            "{order:?}"
        );
        assert!(queue_exists(&aws, &format!("{p}-q3")).await, "{order:?}");
        assert!(
            repository_exists(&aws, &format!("{p}-repo3")).await,
            "{order:?}"
        );
        assert_eq!(
            granted_queues(&aws, &s.identity()).await,
            [format!("{p}-q1"), format!("{p}-q3")],
            "{order:?}"
        );
        let out = run_config(
            &s,
            &two,
            "plan",
            &["--only", "iam,queue,registry", "--detailed-exitcode"],
        );
        assert_eq!(out.status.code(), Some(0), "{order:?}: {}", stdout(&out));
    }
}

/// #38 on the test API server: app 2 (in a namespace of its own) taken out of the config. `up`
/// deletes its ScaledObject, TriggerAuthentication, Deployment, ServiceAccount and Namespace,
/// its queue and repository, and narrows the grant only after the ScaledObject is gone (KEDA
/// never polls without permission); the other apps' objects stay and the stack converges.
#[tokio::test]
async fn removing_an_app_removes_its_kubernetes_objects_before_its_grant() {
    use kedactl::exec;
    use kedactl::model::Only;
    use kedactl::observe::leftovers;
    use kedactl::output::progress::Progress;
    use kedactl::plan;
    let Some(s) = Stack::new("prune-k8s") else {
        return;
    };
    let Whole {
        api,
        aws,
        kube,
        mut spec,
        opts,
    } = s.whole().await;
    let first = spec.apps[0].clone();
    for i in [2, 3] {
        let mut app = first.clone();
        app.deployment = format!("worker-{i}");
        app.service_account = format!("worker-{i}-sa");
        app.namespace = format!("team{i}");
        app.queue.name = format!("{}-q{i}", s.prefix);
        app.repository = format!("{}-repo{i}", s.prefix);
        spec.apps.push(app);
    }
    let all = Only::default();
    let converge = async |d: &kedactl::render::Desired| {
        let mut o = observe_all(&aws, &kube, d).await;
        let found = leftovers::search(&aws, d, &all).await;
        assert!(
            leftovers::aws_side(&aws, d, &all, found, &mut o)
                .await
                .is_empty()
        );
        assert!(
            leftovers::cluster_side(&kube, d, &all, &mut o)
                .await
                .is_empty()
        );
        let p = plan::plan(d, &o, &plan::Options::default()).unwrap();
        let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
        assert!(report.ok(), "{:#?}", report.outcomes);
        p
    };
    let three = kedactl::render::desired(&spec).unwrap();
    converge(&three).await;
    assert!(
        api.labelled(&s.prefix)
            .iter()
            .any(|o| o.contains("team2/worker-2"))
    );

    spec.apps.remove(1);
    let two = kedactl::render::desired(&spec).unwrap();
    let p = converge(&two).await;
    let step = |id: &str| p.steps.iter().find(|s| s.id == id);
    let scaler = "app:ScaledObject/team2/k8s-sqs-read-msg-keda";
    for id in [
        scaler,
        "app:TriggerAuthentication/team2/worker-2-trigger-auth",
        "app:Deployment/team2/worker-2",
        "app:ServiceAccount/team2/worker-2-sa",
        "app:Namespace/team2",
        "eks:association/team2/worker-2-sa",
        &format!("queue:{}-q2", s.prefix),
        &format!("registry:{}-repo2", s.prefix),
    ] {
        let st = step(id).unwrap_or_else(|| {
            panic!(
                "{id} in {:#?}",
                p.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
            )
        });
        assert!(st.summary.ends_with("(no longer in the config)"), "{st:#?}");
    }
    let grant = format!("iam:role/{}/policy/kedactl-sqs-access", s.identity());
    assert!(
        step(&grant).unwrap().after.iter().any(|a| a == scaler),
        "{:#?}",
        step(&grant)
    );
    let left = api.labelled(&s.prefix);
    assert!(!left.iter().any(|o| o.contains("team2")), "{left:#?}");
    assert!(
        left.iter().any(|o| o.contains("team3/worker-3")),
        "{left:#?}"
    );
    let mut o = observe_all(&aws, &kube, &two).await;
    let found = leftovers::search(&aws, &two, &all).await;
    leftovers::aws_side(&aws, &two, &all, found, &mut o).await;
    leftovers::cluster_side(&kube, &two, &all, &mut o).await;
    let again = plan::plan(&two, &o, &plan::Options::default()).unwrap();
    assert!(again.is_empty(), "{:#?}", again.steps);
}

/// #38: an identity role app 2 had alone goes with it (its policies first), once its queue is
/// empty; the shared identity role and the operator role stay. A role of the stack whose trust
/// admits no service account of this cluster is not this cluster's to delete.
#[tokio::test]
async fn an_identity_role_the_removed_app_had_alone_is_deleted() {
    let Some(s) = Stack::new("prune-role") else {
        return;
    };
    let aws = s.sdk().await;
    let p = s.prefix.clone();
    let aws_only = ["--only", "iam,queue,registry"];
    let three = apps_config_with(&s, &[1, 2, 3], false, true);
    up_aws(&s, &three);
    let id2 = format!("{p}-id2");
    assert!(role_trust(&aws, &id2).await.is_some());
    let two = apps_config_with(&s, &[1, 3], false, true);
    let out = run_config(&s, &two, "plan", &[&aws_only[..], &["-o", "json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = summaries(&doc);
    let want = format!("delete IAM role {id2} (no longer in the config)");
    assert!(lines.contains(&want), "{want} in {lines:#?}");
    up_aws(&s, &two);
    assert!(
        role_trust(&aws, &id2).await.is_none(),
        "app 2's own role is deleted"
    );
    assert!(role_trust(&aws, &s.identity()).await.is_some());
    assert!(role_trust(&aws, &s.operator()).await.is_some());
    let out = run_config(
        &s,
        &two,
        "plan",
        &[&aws_only[..], &["--detailed-exitcode"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// #38: `down` with a config that no longer names app 2 removes app 2's queue and repository
/// too (they are not forgotten), and keeps them while the queue holds a message.
#[tokio::test]
async fn down_also_removes_what_an_earlier_config_named() {
    let Some(s) = Stack::new("prune-down") else {
        return;
    };
    let aws = s.sdk().await;
    let p = s.prefix.clone();
    let aws_only = ["--only", "iam,queue,registry"];
    let three = apps_config(&s, &[1, 2, 3], false);
    up_aws(&s, &three);
    let q2 = format!("{p}-q2");
    let url = queue_url(&aws, &q2).await;
    aws.sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .unwrap();
    let two = apps_config(&s, &[1, 3], false);
    let out = run_config(&s, &two, "down", &[&aws_only[..], &["--yes"]].concat());
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "SQS queue {q2} no longer in the config, and it holds 1 message"
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        queue_exists(&aws, &format!("{p}-q1")).await,
        "nothing is deleted"
    );
    let out = run_config(
        &s,
        &two,
        "down",
        &[&aws_only[..], &["--yes", "--force"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for q in [1, 2, 3] {
        assert!(!queue_exists(&aws, &format!("{p}-q{q}")).await, "q{q}");
        assert!(
            !repository_exists(&aws, &format!("{p}-repo{q}")).await,
            "repo{q}"
        );
    }
    assert!(role_trust(&aws, &s.identity()).await.is_none());
}
