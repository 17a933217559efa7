//! doctor's evidence gathering, tested through its real reads: a stack made by `up` on moto (IAM,
//! SQS, ECR, STS), a stateful EKS mock (add-on, associations) and the strict in-memory API server
//! (KEDA by the fake helm, the app), then one fault injected where it would happen — an IAM
//! call, an SQS attribute, an association, a Kubernetes object, a log line — and
//! `gather::aws_side` + `gather::cluster_side` + the checks. Each fault must fail exactly the
//! check that names it; a healthy stack raises nothing and skips only what moto cannot answer.

#[path = "support/apiserver.rs"]
mod apiserver;
mod common;
#[path = "support/eks.rs"]
mod eks;

use kedactl::cloud::Aws;
use kedactl::cluster::{Access, Kube};
use kedactl::doctor::{Evidence, Finding, Status, checks, gather};
use kedactl::model::Only;
use kedactl::output::progress::Progress;
use kedactl::render::Desired;
use kedactl::{exec, plan};
use serde_json::{Value, json};

/// An image manifest moto accepts for PutImage.
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;

/// One stack, up and healthy, and the handles to break it.
struct World {
    aws: Aws,
    api: apiserver::ApiServer,
    eks: eks::Eks,
    kube: Kube,
    d: Desired,
    spec: kedactl::spec::Spec,
    prefix: String,
    _rules: Vec<aws_smithy_mocks::Rule>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new(test: &str) -> Option<World> {
        Self::with(test, |_| {}).await
    }

    /// A stack whose config is edited first (e.g. a ScaledJob app). Boxed: the setup's future
    /// is large, and a test makes dozens of them.
    async fn with(test: &str, edit: impl FnOnce(&mut kedactl::spec::Spec)) -> Option<World> {
        Box::pin(Self::build(test, edit)).await
    }

    async fn build(test: &str, edit: impl FnOnce(&mut kedactl::spec::Spec)) -> Option<World> {
        let endpoint = common::moto_endpoint()?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000;
        let prefix = format!("{test}-{nonce}");
        let dir = tempfile::tempdir().unwrap();
        let api = apiserver::ApiServer::default();
        // What every EKS cluster has: kube-system, and the Linux node the pods run on.
        api.seed(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
        );
        api.seed(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1",
            "labels": {"kubernetes.io/os": "linux", "eks.amazonaws.com/compute-type": "ec2"}}}),
        );
        // The agent's pod on that node (the add-on's DaemonSet), whose log doctor reads.
        api.seed(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "eks-pod-identity-agent-x1", "namespace": "kube-system",
                         "labels": {"app.kubernetes.io/name": "eks-pod-identity-agent"}},
            "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}}));
        let (helm, log) = apiserver::fake_helm(dir.path(), 0);
        api.state().helm_log = Some(log);
        let (client, rules, eks) = eks::stateful(&api);
        let aws = common::moto_aws(&endpoint, "us-east-1")
            .await
            .with_eks(client);
        let kube = Kube::new(api.client(), Access::Direct);
        let mut spec = kedactl::spec::Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            stack: prefix.clone(),
            ..kedactl::spec::Spec::default()
        };
        spec.roles.operator = format!("{prefix}-op");
        spec.roles.identity = format!("{prefix}-id");
        spec.apps[0].queue.name = format!("{prefix}-q");
        spec.apps[0].repository = format!("{prefix}-repo");
        edit(&mut spec);
        let d = kedactl::render::desired(&spec).unwrap();
        let opts = exec::Options {
            poll: std::time::Duration::from_millis(1),
            kube_poll: std::time::Duration::from_millis(1),
            helm,
            trust_watch: std::time::Duration::from_millis(1),
            ..exec::Options::new("demo", &d.stack)
        };
        let all = Only::default();
        let caller = kedactl::observe::caller(&aws).await.unwrap();
        let mut o = kedactl::observe::observe(&aws, &d, &all, caller)
            .await
            .unwrap();
        kedactl::observe::cluster_side(&kube, &d, &all, &mut o)
            .await
            .unwrap();
        let p = plan::plan(&d, &o, &plan::Options::default()).unwrap();
        let report = exec::execute(&aws, Some(&kube), &p, &opts, &Progress::Silent).await;
        assert!(report.ok(), "{:#?}", report.outcomes);
        // The node group's role, allowed to pull from ECR (moto has no AWS managed policies).
        let node = format!("{prefix}-node");
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let made = aws
            .iam
            .create_role()
            .role_name(&node)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap();
        let pull = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]});
        aws.iam
            .put_role_policy()
            .role_name(&node)
            .policy_name("ecr-pull")
            .policy_document(pull.to_string())
            .send()
            .await
            .unwrap();
        eks.state().node_role = made.role().map(|r| r.arn().to_string());
        // The app's image, pushed as a person would after `up` (it starts empty: KD044).
        let repo = &spec.apps[0].repository;
        aws.ecr
            .put_image()
            .repository_name(repo)
            .image_manifest(MANIFEST)
            .image_tag("latest")
            .send()
            .await
            .unwrap();
        Some(World {
            aws,
            api,
            eks,
            kube,
            d,
            spec,
            prefix,
            _rules: rules,
            _dir: dir,
        })
    }

    fn role(&self, which: &str) -> String {
        format!("{}-{which}", self.prefix)
    }

    fn queue(&self) -> String {
        format!("{}-q", self.prefix)
    }

    async fn queue_url(&self) -> String {
        let out = self
            .aws
            .sqs
            .get_queue_url()
            .queue_name(self.queue())
            .send()
            .await;
        out.unwrap().queue_url().unwrap().to_string()
    }

    /// What doctor sees now: its gather code, then every check.
    async fn doctor(&self) -> Vec<Finding> {
        let mut e = Evidence::default();
        let only = Only::default();
        let caller = kedactl::observe::caller(&self.aws).await.unwrap();
        gather::aws_side(&self.aws, &self.d, &only, caller, &mut e).await;
        if let Err(err) =
            gather::cluster_side(&self.kube, &self.d, &only, Default::default(), &mut e).await
        {
            e.cluster_skipped = Some(err.to_string());
        }
        // As doctor renders it: kms:Decrypt on the live queue's key.
        let d = kedactl::render::desired_with(&self.spec, &e.observed).unwrap();
        checks::run(&d, &e)
    }

    /// The codes that fail or warn now.
    async fn flagged(&self) -> Vec<&'static str> {
        self.doctor()
            .await
            .into_iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
            .map(|f| f.code)
            .collect()
    }

    /// A trust policy, edited.
    async fn edit_trust(&self, role: &str, edit: impl FnOnce(&mut Value)) {
        let out = self
            .aws
            .iam
            .get_role()
            .role_name(role)
            .send()
            .await
            .unwrap();
        let mut doc = kedactl::observe::decode_policy(
            out.role().unwrap().assume_role_policy_document().unwrap(),
        );
        edit(&mut doc);
        self.aws
            .iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }

    async fn put_inline(&self, role: &str, name: &str, doc: Value) {
        self.aws
            .iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
    }

    /// A live Kubernetes object, edited through the API (a merge patch).
    async fn patch(&self, kind: &str, ns: Option<&str>, name: &str, patch: Value) {
        self.kube.merge_patch(kind, ns, name, &patch).await.unwrap();
    }

    /// (namespace, name) of the app's TriggerAuthentication.
    fn trigger_auth(&self) -> (String, String) {
        let ta = self
            .d
            .manifests
            .iter()
            .find(|m| m["kind"] == "TriggerAuthentication")
            .unwrap();
        (
            ta["metadata"]["namespace"].as_str().unwrap().to_string(),
            ta["metadata"]["name"].as_str().unwrap().to_string(),
        )
    }

    /// The live ScaledObject's first trigger's metadata, edited.
    async fn edit_trigger(&self, edit: impl FnOnce(&mut Value)) {
        let (ns, name) = self.scaler();
        let mut so = self
            .kube
            .get("ScaledObject", Some(&ns), &name)
            .await
            .unwrap()
            .unwrap();
        edit(&mut so["spec"]["triggers"][0]["metadata"]);
        let patch = json!({"spec": {"triggers": so["spec"]["triggers"]}});
        self.patch("ScaledObject", Some(&ns), &name, patch).await
    }

    fn scaler(&self) -> (String, String) {
        let so = self
            .d
            .manifests
            .iter()
            .find(|m| m["kind"] == "ScaledObject")
            .unwrap();
        (
            so["metadata"]["namespace"].as_str().unwrap().to_string(),
            so["metadata"]["name"].as_str().unwrap().to_string(),
        )
    }
}

macro_rules! world {
    ($name:expr) => {
        match World::new($name).await {
            Some(w) => w,
            None => return,
        }
    };
}

/// The checks that cannot run against moto and the in-memory cluster, each with its reason:
/// anything else skipped on a healthy stack is a gather defect.
fn expected_skips() -> Vec<(&'static str, &'static str)> {
    vec![("KD029", "the IAM policy simulator did not answer")]
}

#[tokio::test]
async fn a_healthy_stack_raises_nothing_and_skips_only_what_moto_cannot_answer() {
    let w = world!("healthy");
    let findings = w.doctor().await;
    let bad: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let skipped: Vec<(&str, String)> = findings
        .iter()
        .filter(|f| f.status == Status::Skipped)
        .map(|f| (f.code, f.evidence.join("; ")))
        .collect();
    let want = expected_skips();
    assert_eq!(
        skipped.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        want.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "{skipped:#?}"
    );
    for ((code, why), (_, want)) in skipped.iter().zip(&want) {
        assert!(why.contains(want), "{code}: {why}");
    }
}

/// One read failing (DescribeAddon answers 500) skips the add-on check with that read's error;
/// every IAM, SQS and cluster check still runs and passes.
#[tokio::test]
async fn one_failed_read_skips_only_the_checks_that_need_it() {
    let w = world!("partial");
    w.eks.state().failing.insert("DescribeAddon");
    let findings = w.doctor().await;
    let skipped: Vec<(&str, String)> = findings
        .iter()
        .filter(|f| f.status == Status::Skipped)
        .map(|f| (f.code, f.evidence.join("; ")))
        .collect();
    let codes: Vec<&str> = skipped.iter().map(|(c, _)| *c).collect();
    assert!(codes.contains(&"KD001"), "{skipped:#?}");
    let kd001 = &skipped.iter().find(|(c, _)| *c == "KD001").unwrap().1;
    assert!(
        kd001.contains("could not read EKS add-on eks-pod-identity-agent"),
        "{kd001}"
    );
    for code in ["KD008", "KD010", "KD015", "KD022", "KD006", "KD020"] {
        let f = findings.iter().find(|f| f.code == code).unwrap();
        assert_eq!(f.status, Status::Ok, "{f:#?}");
    }
    assert!(
        findings.iter().all(|f| f.status != Status::Fail),
        "nothing is failed for a read that did not happen"
    );
}

/// One failing cluster read (KEDA's HPA, the APIService) makes only the checks that read it
/// "could not be checked", with the error; the others still run.
#[tokio::test]
async fn one_failed_cluster_read_skips_only_the_checks_that_read_it() {
    let w = world!("partialk8s");
    w.api.state().broken = vec!["/apiservices/".into(), "/pods/keda-operator".into()];
    let findings = w.doctor().await;
    let status = |code: &str| findings.iter().find(|f| f.code == code).unwrap().clone();
    let kd025 = status("KD025");
    assert_eq!(kd025.status, Status::Skipped, "{kd025:#?}");
    assert!(
        kd025.evidence[0].starts_with("could not read the external metrics APIService:")
            && kd025.evidence[0].contains("500"),
        "{kd025:#?}"
    );
    let kd028 = status("KD028");
    assert_eq!(
        kd028.status,
        Status::Skipped,
        "the operator's log was not read: {kd028:#?}"
    );
    for code in ["KD006", "KD017", "KD024", "KD008", "KD015"] {
        assert_eq!(status(code).status, Status::Ok, "{:#?}", status(code));
    }
    assert!(
        findings.iter().all(|f| f.status != Status::Fail),
        "{findings:#?}"
    );
}

/// A config that describes another stack than the live one (another region, the FIFO twin of
/// the queue) is diagnosed with both values (KD033), which stops `--fix`.
#[tokio::test]
async fn a_config_for_another_region_or_the_fifo_twin_is_diagnosed() {
    let w = world!("guard");
    let mut e = Evidence::default();
    let only = Only::default();
    let caller = kedactl::observe::caller(&w.aws).await.unwrap();
    let mut spec = kedactl::spec::Spec {
        cluster: Some("demo".into()),
        region: Some("us-west-2".into()),
        account: Some("123456789012".into()),
        stack: w.prefix.clone(),
        ..kedactl::spec::Spec::default()
    };
    spec.roles.operator = w.role("op");
    spec.roles.identity = w.role("id");
    spec.apps[0].queue.name = w.queue();
    spec.apps[0].repository = format!("{}-repo", w.prefix);
    let west = kedactl::render::desired(&spec).unwrap();
    // kedactl's clients are in the config's region.
    let aws_west = common::moto_aws(&common::moto_endpoint().unwrap(), "us-west-2")
        .await
        .with_eks(w.aws.eks.clone());
    gather::aws_side(&aws_west, &west, &only, caller.clone(), &mut e).await;
    gather::cluster_side(&w.kube, &west, &only, Default::default(), &mut e)
        .await
        .unwrap();
    let m = kedactl::doctor::guard::mismatches(&west, &e);
    assert!(
        m.iter().any(|m| m.contains(&format!("queue {} does not exist in us-west-2 (the config's region), but it does in us-east-1: ", w.queue()))),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|m| m.contains("awsRegion is us-east-1, the config renders us-west-2")),
        "{m:#?}"
    );

    spec.region = Some("us-east-1".into());
    spec.apps[0].queue.name = format!("{}.fifo", w.queue());
    let fifo = kedactl::render::desired(&spec).unwrap();
    let mut e = Evidence::default();
    gather::aws_side(&w.aws, &fifo, &only, caller, &mut e).await;
    let m = kedactl::doctor::guard::mismatches(&fifo, &e);
    assert!(
        m.iter().any(|m| m.contains("the config names a FIFO queue")
            && m.contains("what exists in us-east-1 is a standard queue")),
        "{m:#?}"
    );
    let f = checks::run(&fifo, &e)
        .into_iter()
        .find(|f| f.code == "KD033")
        .unwrap();
    assert_eq!(f.status, Status::Fail, "{f:#?}");
}

/// Each fault, injected through the real APIs, fails exactly its check.
#[tokio::test]
async fn every_injected_fault_is_caught_by_its_check() {
    type Fault = (&'static str, &'static [&'static str]);
    let mut results: Vec<(Fault, Vec<&str>)> = Vec::new();
    // Each fault in its own boxed future, made in a closure's own frame: built in this one,
    // the 55 futures' temporaries would sit side by side on this frame and overflow the stack.
    macro_rules! fault {
        ($name:expr, $codes:expr, |$w:ident| $body:expr) => {{
            let make =
                || -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Vec<&str>>>>> {
                    Box::pin(async {
                        let $w = World::new($name).await?;
                        $body;
                        Some($w.flagged().await)
                    })
                };
            let got = make().await;
            let Some(got) = got else { return };
            results.push((($name, $codes), got));
        }};
    }
    // IAM, through moto.
    fault!("trust-no-tagsession", &["KD008"], |w| {
        let id = w.role("id");
        w.edit_trust(&id, |t| {
            t["Statement"][0]["Action"] = json!("sts:AssumeRole");
        })
        .await
    });
    fault!("trust-wrong-sa", &["KD008"], |w| {
        let id = w.role("id");
        w.edit_trust(&id, |t| {
            t["Statement"][0]["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] = json!("q-reader");
        })
        .await
    });
    fault!("chain-missing", &["KD010", "KD011"], |w| {
        let id = w.role("id");
        w.edit_trust(&id, |t| {
            let s = t["Statement"].as_array_mut().unwrap();
            s.retain(|s| s["Principal"]["AWS"].is_null());
        })
        .await
    });
    fault!("chain-no-tagsession", &["KD011"], |w| {
        let id = w.role("id");
        w.edit_trust(&id, |t| {
            for s in t["Statement"].as_array_mut().unwrap() {
                if !s["Principal"]["AWS"].is_null() {
                    s["Action"] = json!("sts:AssumeRole");
                }
            }
        })
        .await
    });
    fault!("operator-deny", &["KD012"], |w| {
        let op = w.role("op");
        w.put_inline(&op, "guardrail", json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoChaining", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]})).await
    });
    fault!("identity-no-read", &["KD015"], |w| {
        let id = w.role("id");
        w.aws
            .iam
            .delete_role_policy()
            .role_name(&id)
            .policy_name(kedactl::render::IDENTITY_POLICY)
            .send()
            .await
            .unwrap()
    });
    fault!("managed-deny", &["KD015"], |w| {
        let id = w.role("id");
        let p = w
            .aws
            .iam
            .create_policy()
            .policy_name(format!("{}-deny", w.prefix))
            .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}).to_string())
            .send()
            .await
            .unwrap();
        let arn = p.policy().unwrap().arn().unwrap().to_string();
        w.aws
            .iam
            .attach_role_policy()
            .role_name(&id)
            .policy_arn(arn)
            .send()
            .await
            .unwrap()
    });
    fault!("boundary-no-sqs", &["KD015"], |w| {
        let id = w.role("id");
        let p = w
            .aws
            .iam
            .create_policy()
            .policy_name(format!("{}-boundary", w.prefix))
            .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"}]}).to_string())
            .send()
            .await
            .unwrap();
        let arn = p.policy().unwrap().arn().unwrap().to_string();
        w.aws
            .iam
            .put_role_permissions_boundary()
            .role_name(&id)
            .permissions_boundary(arn)
            .send()
            .await
            .unwrap()
    });
    fault!("queue-policy-deny", &["KD015"], |w| {
        let url = w.queue_url().await;
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]});
        w.aws
            .sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::Policy,
                policy.to_string(),
            )
            .send()
            .await
            .unwrap()
    });
    fault!("stale-principal", &["KD010", "KD011", "KD013"], |w| {
        let id = w.role("id");
        w.edit_trust(&id, |t| {
            for s in t["Statement"].as_array_mut().unwrap() {
                if !s["Principal"]["AWS"].is_null() {
                    s["Principal"]["AWS"] = json!("AROAEXAMPLEID1234567");
                }
            }
        })
        .await
    });
    // SQS.
    fault!("queue-gone", &["KD022"], |w| {
        let url = w.queue_url().await;
        w.aws
            .sqs
            .delete_queue()
            .queue_url(url)
            .send()
            .await
            .unwrap()
    });
    // EKS, through the stateful mock.
    fault!("addon-gone", &["KD001"], |w| w.eks.state().addon = None);
    fault!("addon-failed", &["KD001"], |w| {
        let mut s = w.eks.state();
        s.addon.as_mut().unwrap().0 = aws_sdk_eks::types::AddonStatus::CreateFailed;
    });
    fault!("operator-unassociated", &["KD005"], |w| {
        w.eks.state().associations.retain(|a| a.namespace != "keda")
    });
    fault!("app-unassociated", &["KD024"], |w| {
        w.eks.state().associations.retain(|a| a.namespace == "keda")
    });
    fault!("association-elsewhere", &["KD030"], |w| {
        w.eks.association("security", "my-sqs-read-msgs", |a| {
            a.role_arn = "arn:aws:iam::123456789012:role/someone-else".into()
        })
    });
    fault!("tags-disabled", &["KD008", "KD028"], |w| {
        w.eks
            .association("keda", "keda-operator", |a| a.disable_session_tags = true)
    });
    // The cluster, through the strict API server.
    fault!("trigger-auth-gone", &["KD017"], |w| {
        let (ns, name) = w.trigger_auth();
        w.kube
            .delete("TriggerAuthentication", Some(&ns), &name)
            .await
            .unwrap();
    });
    fault!("provider-aws-eks", &["KD016", "KD018"], |w| {
        let (ns, name) = w.trigger_auth();
        w.patch(
            "TriggerAuthentication",
            Some(&ns),
            &name,
            json!({"spec": {"podIdentity": {"provider": "aws-eks", "roleArn": null}}}),
        )
        .await
    });
    fault!("identity-owner-workload", &["KD018", "KD019"], |w| {
        let (ns, name) = w.trigger_auth();
        w.patch(
            "TriggerAuthentication",
            Some(&ns),
            &name,
            json!({"spec": {"podIdentity": {"identityOwner": "workload"}}}),
        )
        .await
    });
    fault!("no-aws-region", &["KD021"], |w| {
        w.edit_trigger(|m| {
            m.as_object_mut().unwrap().remove("awsRegion");
        })
        .await
    });
    fault!("malformed-url", &["KD023"], |w| {
        w.edit_trigger(|m| {
            m["queueURL"] = json!("event-messages-queue");
        })
        .await
    });
    fault!("metrics-api-down", &["KD025"], |w| {
        w.patch("APIService", None, "v1beta1.external.metrics.k8s.io", json!({"status": {"conditions": [{"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck", "message": "no response from https://10.0.0.1:6443"}]}})).await
    });
    fault!("keda-gone", &["KD020"], |w| {
        w.kube
            .delete("Deployment", Some("keda"), "keda-operator")
            .await
            .unwrap();
    });
    fault!("operator-proxy", &["KD032"], |w| {
        w.patch("Deployment", Some("keda"), "keda-operator", json!({"spec": {"template": {"spec": {"containers": [{"name": "keda-operator", "image": "ghcr.io/kedacore/keda:2.20.2", "env": [{"name": "HTTPS_PROXY", "value": "http://proxy.corp:3128"}]}]}}}})).await
    });
    fault!("operator-irsa-annotation", &["KD009"], |w| {
        w.patch("ServiceAccount", Some("keda"), "keda-operator", json!({"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/old"}}})).await
    });
    fault!("operator-missed-injection", &["KD006"], |w| {
        w.api.state().miss_injections = 5;
        w.patch(
            "Deployment",
            Some("keda"),
            "keda-operator",
            json!({"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}),
        )
        .await
    });
    fault!("app-missed-injection", &["KD024"], |w| {
        w.api.state().miss_injections = 5;
        w.patch(
            "Deployment",
            Some("security"),
            "q-read",
            json!({"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}),
        )
        .await
    });
    fault!("association-changed-after-pod", &["KD027"], |w| {
        // 2026-11-24T09:00Z: after the fake cluster's pods started.
        w.eks
            .association("keda", "keda-operator", |a| a.modified = 1_795_510_800)
    });
    fault!("addon-degraded", &["KD002"], |w| {
        let mut s = w.eks.state();
        s.addon.as_mut().unwrap().0 = aws_sdk_eks::types::AddonStatus::Degraded;
    });
    fault!("agent-not-ready", &["KD002"], |w| {
        w.patch(
            "DaemonSet",
            Some("kube-system"),
            "eks-pod-identity-agent",
            json!({"status": {"numberReady": 0}}),
        )
        .await
    });
    fault!("operator-on-fargate", &["KD007"], |w| {
        w.patch(
            "Node",
            None,
            "node-1",
            json!({"metadata": {"labels": {"eks.amazonaws.com/compute-type": "fargate"}}}),
        )
        .await
    });
    fault!("no-role-arn", &["KD016"], |w| {
        let (ns, name) = w.trigger_auth();
        w.patch(
            "TriggerAuthentication",
            Some(&ns),
            &name,
            json!({"spec": {"podIdentity": {"roleArn": null}}}),
        )
        .await
    });
    fault!("keda-too-old", &["KD020"], |w| {
        w.patch("Deployment", Some("keda"), "keda-operator", json!({"spec": {"template": {"spec": {"containers": [{"name": "keda-operator", "image": "ghcr.io/kedacore/keda:2.12.1"}]}}}})).await
    });
    fault!("trigger-region-elsewhere", &["KD022", "KD033"], |w| {
        w.edit_trigger(|m| {
            m["awsRegion"] = json!("eu-west-1");
        })
        .await
    });
    fault!("messages-in-flight", &["KD026"], |w| {
        let url = w.queue_url().await;
        w.aws
            .sqs
            .send_message()
            .queue_url(&url)
            .message_body("m")
            .send()
            .await
            .unwrap();
        w.aws
            .sqs
            .receive_message()
            .queue_url(&url)
            .send()
            .await
            .unwrap();
    });
    // KEDA's log, as the operator would write it.
    let log = |w: &World, line: String| {
        w.api.state().logs.insert("keda-operator".into(), line);
    };
    fault!("log-node-role", &["KD005"], |w| log(
        &w,
        format!(
            "ERROR\tscale_handler\terror getting scale decision\t{{\"error\": \"operation error SQS: GetQueueAttributes, https response error StatusCode: 403, RequestID: 1, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc123 is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:{}\"}}",
            w.queue()
        )
    ));
    fault!("log-assume-refused", &["KD010"], |w| log(
        &w,
        format!(
            "ERROR\tscale_handler\terror getting scale decision\t{{\"error\": \"operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 2, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/{}/eks-demo-keda-opera-1 is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/{}\"}}",
            w.role("op"),
            w.role("id")
        )
    ));
    fault!("log-identity-refused", &["KD015"], |w| log(
        &w,
        format!(
            "ERROR\tscale_handler\terror getting scale decision\t{{\"error\": \"operation error SQS: GetQueueAttributes, https response error StatusCode: 403, RequestID: 3, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/{}/KEDA is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:{}\"}}",
            w.role("id"),
            w.queue()
        )
    ));
    fault!("log-packed-policy", &["KD028"], |w| {
        log(&w, "ERROR\tscale_handler\toperation error STS: AssumeRole, https response error StatusCode: 400, api error PackedPolicyTooLarge: Packed policy consumes 105% of allotted space".into())
    });

    fault!("log-expired-token", &["KD027"], |w| {
        log(&w, "ERROR\tscale_handler\terror getting scale decision\t{\"error\": \"operation error SQS: GetQueueAttributes, https response error StatusCode: 403, api error ExpiredToken: The security token included in the request is expired\"}".into())
    });
    fault!("log-web-identity", &["KD009"], |w| {
        log(&w, "ERROR\taws_credentials_cache\tfailed to retrieve credentials\t{\"error\": \"operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\"}".into())
    });

    // Checks added for issue 12's failure modes.
    // The chain then starts and ends at the operator role, which neither trusts itself nor
    // reads the queue: those checks fail too, truthfully.
    fault!(
        "role-arn-is-the-operator",
        &["KD010", "KD011", "KD014", "KD015", "KD033"],
        |w| {
            let (ns, name) = w.trigger_auth();
            let op = format!("arn:aws:iam::123456789012:role/{}", w.role("op"));
            w.patch(
                "TriggerAuthentication",
                Some(&ns),
                &name,
                json!({"spec": {"podIdentity": {"roleArn": op}}}),
            )
            .await
        }
    );
    fault!("agent-cannot-assume", &["KD003"], |w| {
        w.api.state().logs.insert("eks-pod-identity-agent".into(), "level=error msg=\"Error assuming role\" error=\"AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0abc is not authorized to perform: eks-auth:AssumeRoleForPodIdentity\"".into());
    });
    fault!("agent-no-eks-auth", &["KD004"], |w| {
        w.api.state().logs.insert("eks-pod-identity-agent".into(), "level=error msg=\"Error fetching credentials\" error=\"operation error EKS Auth: AssumeRoleForPodIdentity, https response error: dial tcp: lookup eks-auth.us-east-1.api.aws: i/o timeout\"".into());
    });
    fault!("node-role-cannot-pull", &["KD045"], |w| {
        w.aws
            .iam
            .delete_role_policy()
            .role_name(w.role("node"))
            .policy_name("ecr-pull")
            .send()
            .await
            .unwrap()
    });
    fault!("target-role", &["KD034"], |w| {
        w.eks.association("keda", "keda-operator", |a| {
            a.target_role_arn = Some("arn:aws:iam::999999999999:role/shared-keda".into())
        })
    });
    fault!("paused", &["KD035"], |w| {
        let (ns, name) = w.scaler();
        w.patch(
            "ScaledObject",
            Some(&ns),
            &name,
            json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}}}),
        )
        .await
    });
    fault!("hpa-inactive", &["KD036"], |w| {
        let (ns, name) = w.scaler();
        w.patch("ScaledObject", Some(&ns), &name, json!({"status": {"conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "HPAActive", "status": "False", "reason": "HPAMetricsUnavailable", "message": "the HPA was unable to compute the replica count"}]}})).await
    });
    fault!("operator-host-network", &["KD037"], |w| {
        w.patch(
            "Deployment",
            Some("keda"),
            "keda-operator",
            json!({"spec": {"template": {"spec": {"hostNetwork": true}}}}),
        )
        .await
    });
    fault!("network-policy", &["KD038"], |w| {
        w.api.seed(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "keda-egress", "namespace": "keda"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"ports": [{"port": 443}, {"port": 53, "protocol": "UDP"}]}]}}),
        );
    });
    fault!("global-sts", &["KD039"], |w| {
        w.patch("Deployment", Some("keda"), "keda-operator", json!({"spec": {"template": {"spec": {"containers": [{"name": "keda-operator", "image": "ghcr.io/kedacore/keda:2.20.2", "env": [{"name": "AWS_ENDPOINT_URL_STS", "value": "https://sts.amazonaws.com"}]}]}}}})).await
    });
    fault!("short-visibility", &["KD041"], |w| {
        let url = w.queue_url().await;
        w.aws
            .sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "5",
            )
            .send()
            .await
            .unwrap()
    });
    fault!("dlq-missing", &["KD042"], |w| {
        // SQS checks the target exists when the redrive is set: it is deleted afterwards.
        let dlq = format!("{}-gone-dlq", w.prefix);
        let made = w
            .aws
            .sqs
            .create_queue()
            .queue_name(&dlq)
            .send()
            .await
            .unwrap();
        let url = w.queue_url().await;
        let redrive = json!({"deadLetterTargetArn": format!("arn:aws:sqs:us-east-1:123456789012:{dlq}"), "maxReceiveCount": 5});
        w.aws
            .sqs
            .set_queue_attributes()
            .queue_url(url)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                redrive.to_string(),
            )
            .send()
            .await
            .unwrap();
        w.aws
            .sqs
            .delete_queue()
            .queue_url(made.queue_url().unwrap())
            .send()
            .await
            .unwrap()
    });
    {
        let got = Box::pin(async {
            let w = World::with("scaledjob", |spec| {
                spec.apps[0].scaling.kind = kedactl::spec::ScalingKind::ScaledJob;
            })
            .await?;
            Some(w.flagged().await)
        })
        .await;
        let Some(got) = got else { return };
        // kedactl's ScaledJob sets no activeDeadlineSeconds: a job may outlive the timeout.
        results.push((("scaled-job-without-deadline", &["KD040"]), got));
    }

    let wrong: Vec<String> = results
        .iter()
        .filter(|((_, want), got)| got.as_slice() != *want)
        .map(|((name, want), got)| format!("{name}: wanted {want:?}, got {got:?}"))
        .collect();
    eprintln!(
        "doctor through its reads: {} of {} injected faults caught by exactly the right checks",
        results.len() - wrong.len(),
        results.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A queue switched by hand to a customer-managed key (through an alias) leaves the app without
/// kms:Decrypt: KD043 alone fails; the policy `up` renders from the live key (DescribeKey
/// resolves the alias) grants it on the key ARN, and doctor is clean again.
#[tokio::test]
async fn a_consumer_without_decrypt_on_the_queues_key_fails_kd043_until_up_grants_it() {
    let w = world!("kms");
    let key = w.aws.kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    let alias = format!("alias/{}", w.prefix);
    let a = w
        .aws
        .kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id);
    a.send().await.unwrap();
    let url = w.queue_url().await;
    w.aws
        .sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::KmsMasterKeyId,
            &alias,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(w.flagged().await, ["KD043"]);

    // `up` (the same plan and executor) with the live key in the rendered policy.
    let caller = kedactl::observe::caller(&w.aws).await.unwrap();
    let all = Only::default();
    let mut o = kedactl::observe::observe(&w.aws, &w.d, &all, caller)
        .await
        .unwrap();
    kedactl::observe::cluster_side(&w.kube, &w.d, &all, &mut o)
        .await
        .unwrap();
    let d = kedactl::render::desired_with(&w.spec, &o).unwrap();
    let p = plan::plan(&d, &o, &plan::Options::default()).unwrap();
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [format!(
            "iam:role/{}/policy/kedactl-sqs-access",
            w.role("id")
        )],
        "{ids:?}"
    );
    let opts = exec::Options {
        trust_watch: std::time::Duration::from_millis(1),
        ..exec::Options::new("demo", &d.stack)
    };
    let report = exec::execute(&w.aws, Some(&w.kube), &p, &opts, &Progress::Silent).await;
    assert!(report.ok(), "{:#?}", report.outcomes);
    assert_eq!(w.flagged().await, Vec::<&str>::new());
}

/// The repository emptied (as `up` creates it): KD044 alone fails; the image pushed, it passes.
#[tokio::test]
async fn an_empty_repository_fails_kd044_and_a_pushed_image_passes() {
    let w = world!("ecr");
    let repo = w.spec.apps[0].repository.clone();
    let id = aws_sdk_ecr::types::ImageIdentifier::builder()
        .image_tag("latest")
        .build();
    let del = w
        .aws
        .ecr
        .batch_delete_image()
        .repository_name(&repo)
        .image_ids(id);
    del.send().await.unwrap();
    assert_eq!(w.flagged().await, ["KD044"]);
    let put = w
        .aws
        .ecr
        .put_image()
        .repository_name(&repo)
        .image_manifest(MANIFEST);
    put.image_tag("latest").send().await.unwrap();
    assert_eq!(w.flagged().await, Vec::<&str>::new());
}

/// Three apps on one service account and identity role, each with its own queue: a fault in
/// each of two — app2's ScaledObject lost its authenticationRef in the cluster, app3's queue
/// was dropped from the identity role's grant in IAM — fails those two apps only, each named
/// on its finding, and leaves app1 ok.
#[tokio::test]
async fn three_apps_with_a_fault_in_each_of_two_name_both_and_leave_the_third_ok() {
    let apps = |s: &mut kedactl::spec::Spec| {
        let first = s.apps[0].clone();
        s.apps = (1..=3)
            .map(|i| {
                let mut a = first.clone();
                a.deployment = format!("app{i}");
                a.scaling.name = None;
                a.queue.name = format!("{}{i}", first.queue.name);
                a
            })
            .collect();
    };
    let Some(w) = World::with("apps3", apps).await else {
        return;
    };
    let per_app = |findings: &[Finding], code: &str| -> Vec<(String, Status)> {
        findings
            .iter()
            .filter(|f| f.code == code)
            .map(|f| (f.app.clone().unwrap_or_default(), f.status))
            .collect()
    };
    let healthy = w.doctor().await;
    let bad: Vec<&Finding> = healthy
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let ok = |app: &str| (app.to_string(), Status::Ok);
    assert_eq!(
        per_app(&healthy, "KD017"),
        [ok("app1"), ok("app2"), ok("app3")]
    );

    // app2: the ScaledObject without authenticationRef.
    let ns = &w.spec.apps[1].namespace;
    let mut so = w
        .kube
        .get("ScaledObject", Some(ns), "app2-scaler")
        .await
        .unwrap()
        .unwrap();
    so["spec"]["triggers"][0]
        .as_object_mut()
        .unwrap()
        .remove("authenticationRef");
    let patch = json!({"spec": {"triggers": so["spec"]["triggers"]}});
    w.patch("ScaledObject", Some(ns), "app2-scaler", patch)
        .await;
    // app3: its queue dropped from the identity role's grant.
    let policy = kedactl::render::IDENTITY_POLICY;
    let got = w
        .aws
        .iam
        .get_role_policy()
        .role_name(w.role("id"))
        .policy_name(policy)
        .send()
        .await
        .unwrap();
    let mut doc = kedactl::observe::decode_policy(got.policy_document());
    let q3 = format!(":{}3", w.queue());
    for s in doc["Statement"].as_array_mut().unwrap() {
        if let Some(rs) = s["Resource"].as_array_mut() {
            rs.retain(|r| !r.as_str().unwrap().ends_with(&q3));
        }
    }
    w.put_inline(&w.role("id"), policy, doc).await;

    let findings = w.doctor().await;
    let failing: Vec<(String, &str)> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| (f.app.clone().unwrap_or_default(), f.code))
        .collect();
    assert_eq!(
        failing,
        [("app3".to_string(), "KD015"), ("app2".to_string(), "KD017")],
        "{findings:#?}"
    );
    let kd015 = findings
        .iter()
        .find(|f| f.code == "KD015" && f.status == Status::Fail)
        .unwrap();
    assert!(kd015.evidence[0].contains(&q3), "{kd015:?}");
    assert_eq!(per_app(&findings, "KD015")[..2], [ok("app1"), ok("app2")]);
    let s = kedactl::doctor::summary(&findings);
    assert_eq!(
        s.apps_line().unwrap(),
        "2 of 3 apps fail: app2 (KD017), app3 (KD015)"
    );
    assert!(
        findings
            .iter()
            .filter(|f| f.app.as_deref() == Some("app1"))
            .all(|f| !matches!(f.status, Status::Fail | Status::Warn)),
        "app1 is ok"
    );
}
