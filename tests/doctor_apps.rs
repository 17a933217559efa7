//! doctor on a stack of many apps (`apps[]`), end to end on moto: `up --only iam,queue,registry`
//! builds 40 apps on one service account and identity role, each with its own queue; doctor
//! must judge every app on its own evidence, name each failing app, narrow to one with `--app`,
//! and repair only the broken ones with `--fix`.

mod common;
use common::{Sandbox, stderr, stdout, valid_document};

const APPS: usize = 40;

struct Apps {
    endpoint: String,
    prefix: String,
    sandbox: Sandbox,
}

impl Apps {
    /// A config of `APPS` apps `app1`.., queues `<prefix>-q1`.., one role and service account.
    fn new(test: &str) -> Option<Apps> {
        let s = Apps {
            endpoint: common::moto_endpoint()?,
            prefix: common::unique(test),
            sandbox: Sandbox::new(),
        };
        let apps: String = (1..=APPS)
            .map(|i| {
                format!(
                    "  - deployment: app{i}\n    namespace: work\n    serviceAccount: worker\n    repository: {p}-repo\n    queue:\n      name: {p}-q{i}\n",
                    p = s.prefix
                )
            })
            .collect();
        s.sandbox.write(
            "kedactl.yaml",
            format!(
                "cluster: demo\nregion: us-east-1\nstack: {p}\nroles:\n  operator: {p}-op\n  identity: {p}-id\napps:\n{apps}",
                p = s.prefix
            ),
        );
        Some(s)
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        common::moto_cluster(&self.endpoint, "demo");
        let mut all = vec!["-f", "kedactl.yaml"];
        all.extend(args);
        self.sandbox
            .kedactl(&all)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap()
    }

    /// `doctor --only iam,queue -o json`: its exit code and its (schema-valid) document.
    fn doctor(&self, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut args = vec!["doctor", "--only", "iam,queue", "-o", "json"];
        args.extend(extra);
        let out = self.run(&args);
        let doc = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
        (out.status.code(), valid_document(doc))
    }

    fn queue(&self, i: usize) -> String {
        format!("{}-q{i}", self.prefix)
    }

    async fn sdk(&self) -> kedactl::cloud::Aws {
        common::moto_aws(&self.endpoint, "us-east-1").await
    }

    /// app `i`'s queue deleted, and app `j`'s removed from the identity role's grant.
    async fn break_two(&self, i: usize, j: usize) {
        let aws = self.sdk().await;
        let url = aws
            .sqs
            .get_queue_url()
            .queue_name(self.queue(i))
            .send()
            .await
            .unwrap();
        aws.sqs
            .delete_queue()
            .queue_url(url.queue_url().unwrap())
            .send()
            .await
            .unwrap();
        let role = format!("{}-id", self.prefix);
        let policy = kedactl::render::IDENTITY_POLICY;
        let got = aws
            .iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(policy)
            .send()
            .await
            .unwrap();
        let mut doc = kedactl::observe::decode_policy(got.policy_document());
        let gone = format!(":{}", self.queue(j));
        for s in doc["Statement"].as_array_mut().unwrap() {
            if let Some(rs) = s["Resource"].as_array_mut() {
                rs.retain(|r| !r.as_str().unwrap().ends_with(&gone));
            }
        }
        aws.iam
            .put_role_policy()
            .role_name(&role)
            .policy_name(policy)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }
}

/// The (app, status) of one check's findings.
fn statuses<'a>(doc: &'a serde_json::Value, code: &str) -> Vec<(&'a str, &'a str)> {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| {
            (
                f["app"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn forty_apps_two_faults_fail_naming_both_and_fix_repairs_only_them() {
    let Some(s) = Apps::new("apps40") else {
        return;
    };
    let out = s.run(&["up", "--yes", "--only", "iam,queue,registry", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Healthy: every app judged, with its own evidence.
    let (code, doc) = s.doctor(&[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["summary"]["apps"], APPS);
    let kd015 = statuses(&doc, "KD015");
    assert_eq!(kd015.len(), APPS);
    for (i, (app, status)) in kd015.iter().enumerate() {
        assert_eq!((*app, *status), (format!("app{}", i + 1).as_str(), "ok"));
    }
    for f in doc["checks"].as_array().unwrap() {
        if f["code"] == "KD015" {
            let app = f["app"].as_str().unwrap();
            let q = format!("{}-q{}", s.prefix, &app[3..]);
            assert!(
                f["evidence"][0]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(":{q}")),
                "{f}"
            );
        }
    }

    // App 17's queue deleted, app 25's queue dropped from keda-identity's grant.
    s.break_two(17, 25).await;
    let (code, doc) = s.doctor(&[]);
    assert_eq!(code, Some(1), "{doc:#}");
    let failing: Vec<(&str, Vec<&str>)> = doc["summary"]["failingApps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let codes = a["codes"].as_array().unwrap().iter();
            (
                a["app"].as_str().unwrap(),
                codes.map(|c| c.as_str().unwrap()).collect(),
            )
        })
        .collect();
    assert_eq!(failing.len(), 2, "{failing:?}");
    assert_eq!(failing[0].0, "app17");
    assert!(failing[0].1.contains(&"KD022"), "{failing:?}");
    assert_eq!(failing[1], ("app25", vec!["KD015"]));
    let kd015 = statuses(&doc, "KD015");
    assert!(
        kd015
            .iter()
            .all(|(a, st)| (*a == "app25") == (*st == "fail")),
        "{kd015:?}"
    );

    // The text names both under their checks, and counts the apps.
    let out = s.run(&["doctor", "--only", "iam,queue"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("2 of 40 apps fail: app17 (KD022"), "{text}");
    assert!(text.contains("app25 (KD015)"), "{text}");
    assert!(
        text.contains(&format!("    ✗ app17: GetQueueUrl {}", s.queue(17))),
        "{text}"
    );
    assert!(text.contains("    ✗ app25: "), "{text}");
    assert!(!text.contains("✗ app24"), "{text}");

    // JUnit: a test case per app and check.
    let out = s.run(&["doctor", "--only", "iam,queue", "-o", "junit"]);
    let xml = stdout(&out);
    assert_eq!(
        xml.matches("<testcase name=\"KD015 [").count(),
        APPS,
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"KD015 [app25] "), "{xml}");

    // --app narrows to one app.
    let (code, doc) = s.doctor(&["--app", "app3"]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(statuses(&doc, "KD015"), [("app3", "ok")]);
    let (code, doc) = s.doctor(&["--app", "app25"]);
    assert_eq!(code, Some(1));
    assert_eq!(statuses(&doc, "KD015"), [("app25", "fail")]);
    let out = s.run(&["doctor", "--app", "nope"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("app1, app2"), "{}", stderr(&out));

    // --fix repairs the two apps, and nothing of the other 38.
    let out = s.run(&["doctor", "--only", "iam,queue", "--fix", "--yes"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let q17 = s.queue(17);
    assert!(text.contains(&q17), "{text}");
    for i in (1..=APPS).filter(|i| *i != 17) {
        let q = s.queue(i);
        assert!(
            !text
                .lines()
                .any(|l| l.contains("queue") && l.contains(&format!("{q} "))),
            "the repair plan touches app{i}'s queue: {text}"
        );
    }
    let (code, doc) = s.doctor(&[]);
    assert_eq!(code, Some(0), "{doc:#}");
}
