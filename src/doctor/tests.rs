//! One test per failure mode: a healthy stack's evidence, that one fault injected, and exactly
//! the expected check failing (or warning). The healthy stack itself must give no false alarm.

use super::*;
use crate::model::ownership;
use crate::observed::{Addon, Association, Caller, Keda, Queue, Role};
use crate::render::{self, Desired};
use crate::spec::Spec;
use serde_json::json;

fn spec() -> Spec {
    Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    }
}

fn desired() -> Desired {
    render::desired(&spec()).unwrap()
}

fn env() -> Value {
    json!([{"name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials"},
           {"name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}])
}

/// The stack as `up` leaves it, seen by every read doctor makes.
fn healthy(d: &Desired) -> Evidence {
    let tags = ownership(&d.stack);
    let mut o = Observed {
        caller: Some(Caller {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/admin/me".into(),
        }),
        addon: Some(Addon {
            status: "ACTIVE".into(),
            issues: vec![],
            tags: tags.clone(),
        }),
        keda: Some(Keda {
            namespace: "keda".into(),
            version: "2.20.2".into(),
            installed_by: Some(d.stack.clone()),
            objects: vec![],
            release: None,
            missing: vec![],
            values: None,
        }),
        objects: d.manifests.clone().into(),
        ..Observed::default()
    };
    for r in &d.roles {
        o.roles.insert(
            r.name.clone(),
            Role {
                arn: r.arn.clone(),
                trust: r.trust.body.clone(),
                inline: r
                    .policies
                    .iter()
                    .map(|p| (p.name.clone(), p.body.clone()))
                    .collect(),
                attached: vec![],
                managed: Default::default(),
                boundary: None,
                path: None,
                tags: tags.clone(),
            },
        );
    }
    for q in &d.queues {
        let mut attributes = q.attributes.clone();
        attributes.insert("ApproximateNumberOfMessages".into(), "0".into());
        attributes.insert("ApproximateNumberOfMessagesNotVisible".into(), "0".into());
        o.queues.insert(
            q.name.clone(),
            Queue {
                url: q.url.clone(),
                attributes,
                tags: d.shared_tags(),
            },
        );
    }
    for r in &d.repositories {
        o.repositories.insert(
            r.name.clone(),
            crate::observed::Repository {
                arn: format!("arn:aws:ecr:us-east-1:123456789012:repository/{}", r.name),
                images: 1,
                tags: tags.clone(),
            },
        );
        o.image_tags.insert(r.name.clone(), vec!["latest".into()]);
    }
    for (i, a) in d.associations.iter().enumerate() {
        o.associations.push(Association {
            id: format!("a-{i}"),
            namespace: a.namespace.clone(),
            service_account: a.service_account.clone(),
            role_arn: a.role_arn.clone(),
            tags: tags.clone(),
            modified_at: Some("2026-11-24T07:00:00Z".into()),
            session_tags_disabled: false,
            target_role_arn: None,
        });
    }
    let cluster = ClusterEvidence {
        operator: Some(
            json!({"metadata": {"name": "keda-operator", "namespace": "keda"},
            "spec": {"selector": {"matchLabels": {"app": "keda-operator"}},
                     "template": {"spec": {"serviceAccountName": "keda-operator"}}}}),
        ),
        operator_pod: Some(
            json!({"metadata": {"name": "keda-operator-abc", "creationTimestamp": "2026-11-24T08:00:00Z"},
            "spec": {"nodeName": "ip-10-0-0-1", "containers": [{"name": "keda-operator", "env": env()}]}}),
        ),
        operator_node: Some(
            json!({"metadata": {"name": "ip-10-0-0-1", "labels": {"kubernetes.io/os": "linux"}}}),
        ),
        operator_sa: Some(json!({"metadata": {"name": "keda-operator", "namespace": "keda"}})),
        operator_log: "INFO\tscale_handler\tscaled object is active\n".into(),
        agent: Some(json!({"status": {"desiredNumberScheduled": 2, "numberReady": 2}})),
        agent_log: "Starting server\n".into(),
        apps: d
            .triggers
            .iter()
            .map(|t| (t.app.clone(), objects(d, t)))
            .collect(),
        apiservice: Some(
            json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}}),
        ),
        network_policies: Some(Ok(vec![])),
        unread: Default::default(),
    };
    let mut simulations = BTreeMap::new();
    for r in &d.roles {
        simulations.insert(
            simulation_key(
                "arn:aws:sts::123456789012:assumed-role/admin/me",
                "iam:PassRole",
                &r.arn,
            ),
            "allowed".into(),
        );
    }
    Evidence {
        observed: o,
        eks_read: true,
        queues_read: true,
        registry_read: true,
        cluster: Some(cluster),
        simulations,
        node_roles: Some(Ok(vec![node_role(vec![
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly".into(),
        ])])),
        ..Evidence::default()
    }
}

/// One app's objects, live as rendered: its scaler (with KEDA 2.20's report of the HPA it
/// drives), TriggerAuthentication, HPA and a pod with the injected credentials.
fn objects(d: &Desired, t: &crate::render::TriggerUse) -> AppObjects {
    let manifest = |kind: &str, name: &str| t.manifest(d, kind, name).cloned();
    let scaler = manifest(&t.scaler.0, &t.scaler.1).map(|mut so| {
        so["status"] = json!({"conditions": [{"type": "HPAActive", "status": "True", "reason": "HPAActive", "message": ""}]});
        so
    });
    let deployment = t.deployment();
    AppObjects {
        scaler,
        trigger_auth: manifest("TriggerAuthentication", &t.trigger_auth),
        hpa: Some(json!({"status": {"currentReplicas": 1, "desiredReplicas": 1}})),
        app_pod: Some(
            json!({"metadata": {"name": format!("{deployment}-xyz")}, "spec": {"containers": [{"name": deployment, "env": env()}]}}),
        ),
        workload: None,
        hpas: None,
        unread: Default::default(),
    }
}

/// Codes that do not pass (fail or warn) after `fault`.
fn flagged(fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<(&'static str, Status)> {
    let d = desired();
    let mut e = healthy(&d);
    fault(&mut e, &d);
    checks::run(&d, &e)
        .into_iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| (f.code, f.status))
        .collect()
}

fn fails(fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<&'static str> {
    flagged(fault).into_iter().map(|(c, _)| c).collect()
}

fn cluster(e: &mut Evidence) -> &mut ClusterEvidence {
    e.cluster.as_mut().unwrap()
}

/// The (first) app's objects.
fn app(e: &mut Evidence) -> &mut AppObjects {
    cluster(e).apps.values_mut().next().unwrap()
}

fn trust_of<'a>(e: &'a mut Evidence, role: &str) -> &'a mut Value {
    &mut e.observed.roles.get_mut(role).unwrap().trust
}

#[test]
fn a_healthy_stack_raises_nothing() {
    let d = desired();
    let findings = checks::run(&d, &healthy(&d));
    assert_eq!(findings.len(), CATALOGUE.len());
    // The registry wires each code to its own function.
    for (f, c) in findings.iter().zip(CATALOGUE) {
        assert_eq!(f.code, c.code);
    }
    // KD031 never applies to a running stack, KD040 only to a ScaledJob, KD043 only to a queue
    // with a customer-managed key, KD046–KD049 only to triggers other than SQS, KD050 only to
    // an AMP scraper.
    // KD051–KD054 check IRSA only, KD055 a configured permissions boundary, KD056 only an
    // app's existing workload.
    let na = [
        "KD031", "KD040", "KD043", "KD046", "KD047", "KD048", "KD049", "KD050", "KD051", "KD052",
        "KD053", "KD054", "KD055", "KD056",
    ];
    let bad: Vec<_> = findings
        .iter()
        .filter(|f| f.status != Status::Ok && !na.contains(&f.code))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(
        summary(&findings),
        Summary {
            ok: CATALOGUE.len() - na.len(),
            warn: 0,
            fail: 0,
            skipped: 0,
            not_applicable: na.len(),
            apps: Some(1),
            failing_apps: vec![],
        }
    );
}

#[test]
fn kd001_missing_addon() {
    assert_eq!(fails(|e, _| e.observed.addon = None), ["KD001"]);
    assert_eq!(
        fails(|e, _| e.observed.addon.as_mut().unwrap().status = "CREATE_FAILED".into()),
        ["KD001"]
    );
}

#[test]
fn auto_mode_needs_no_add_on() {
    let d = desired();
    let mut e = healthy(&d);
    e.observed.addon = None;
    e.observed.cluster = Some(crate::observed::Cluster {
        arn: d.cluster_arn.clone(),
        status: "ACTIVE".into(),
        version: "1.32".into(),
        oidc_issuer: None,
        endpoint: None,
        certificate_authority: None,
        auto_mode: true,
        endpoint_public_access: None,
        endpoint_private_access: None,
        node_role_arn: None,
        ..Default::default()
    });
    let findings = checks::run(&d, &e);
    for code in ["KD001", "KD002"] {
        let f = findings.iter().find(|f| f.code == code).unwrap();
        assert_eq!(f.status, Status::NotApplicable, "{f:#?}");
        assert!(f.evidence[0].contains("Auto Mode"));
    }
}

#[test]
fn kd002_degraded_agent() {
    assert_eq!(
        fails(|e, _| e.observed.addon.as_mut().unwrap().issues =
            vec!["InsufficientNumberOfReplicas: 1 of 2".into()]),
        ["KD002"]
    );
    assert_eq!(
        fails(|e, _| cluster(e).agent =
            Some(json!({"status": {"desiredNumberScheduled": 3, "numberReady": 1}}))),
        ["KD002"]
    );
    assert_eq!(
        fails(|e, _| cluster(e).agent_log =
            "Failed probe: Get \"http://169.254.170.23:80\": connection refused".into()),
        ["KD002"]
    );
}

#[test]
fn kd003_node_role_denied() {
    assert_eq!(
        fails(|e, _| {
            cluster(e).agent_log = "Error fetching credentials: [req-1]: (AccessDeniedException): User is not authorized to perform: eks-auth:AssumeRoleForPodIdentity, fault: client".into()
        }),
        ["KD003"]
    );
}

#[test]
fn kd004_private_cluster_without_eks_auth_endpoint() {
    assert_eq!(
        fails(|e, _| {
            cluster(e).agent_log = "Error fetching credentials: unable to fetch credentials from EKS Auth: dial tcp 10.0.0.5:443: i/o timeout".into()
        }),
        ["KD004"]
    );
}

#[test]
fn kd005_no_association_for_the_operator() {
    assert_eq!(
        fails(|e, _| e.observed.associations.retain(|a| a.namespace != "keda")),
        ["KD005", "KD014"]
            .iter()
            .filter(|c| **c == "KD005")
            .copied()
            .collect::<Vec<_>>()
    );
    // KEDA installed in another namespace than the config says.
    assert_eq!(
        fails(|e, _| {
            cluster(e).operator.as_mut().unwrap()["metadata"]["namespace"] = "keda-system".into();
        }),
        ["KD005"]
    );
}

#[test]
fn kd006_operator_without_injected_credentials() {
    assert_eq!(
        fails(
            |e, _| cluster(e).operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] =
                json!([])
        ),
        ["KD006"]
    );
}

#[test]
fn kd007_operator_on_fargate_or_windows() {
    assert_eq!(
        fails(
            |e, _| cluster(e).operator_node.as_mut().unwrap()["metadata"]["labels"]["eks.amazonaws.com/compute-type"] =
                "fargate".into()
        ),
        ["KD007"]
    );
    assert_eq!(
        fails(
            |e, _| cluster(e).operator_node.as_mut().unwrap()["metadata"]["labels"]["kubernetes.io/os"] =
                "windows".into()
        ),
        ["KD007"]
    );
}

#[test]
fn kd008_names_a_concurrent_writer_when_another_clusters_statement_replaced_ours() {
    let f = finding("KD008", |e, _| {
        // Cluster b's `up` wrote the trust from a read without ours.
        let s = &mut trust_of(e, "keda-operator")["Statement"][0];
        s["Sid"] = "KedactlBKedaKedaOperator0badcafe".into();
        s["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] =
            "arn:aws:eks:us-east-1:123456789012:cluster/b".into();
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    let said = f.evidence.join("\n");
    assert!(
        said.contains("holds other clusters' statements (KedactlBKedaKedaOperator0badcafe)")
            && said.contains("ran at the same time"),
        "{f:#?}"
    );
    // A fault of another kind names no concurrent writer.
    let f = finding("KD008", |e, _| {
        trust_of(e, "keda-operator")["Statement"][0]["Action"] = "sts:AssumeRole".into();
    });
    assert!(!f.evidence.join("\n").contains("same time"), "{f:#?}");
}

#[test]
fn kd008_trust_without_tag_session() {
    assert_eq!(
        fails(|e, _| {
            let t = trust_of(e, "keda-operator");
            t["Statement"][0]["Action"] = json!("sts:AssumeRole");
        }),
        ["KD008"]
    );
}

#[test]
fn kd009_irsa_mixed_in() {
    assert_eq!(
        fails(
            |e, _| cluster(e).operator_sa.as_mut().unwrap()["metadata"]["annotations"] =
                json!({"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/old"})
        ),
        ["KD009"]
    );
}

/// The identity role's trust without the statement naming the operator role.
fn drop_operator_principal(e: &mut Evidence) {
    let t = trust_of(e, "keda-identity");
    let kept: Vec<Value> = t["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Principal"]["AWS"].is_null())
        .cloned()
        .collect();
    t["Statement"] = json!(kept);
}

#[test]
fn kd010_identity_does_not_trust_the_operator() {
    let f = fails(|e, _| drop_operator_principal(e));
    assert!(f.contains(&"KD010"), "{f:?}");
    // TagSession goes with it; nothing else.
    assert_eq!(f, ["KD010", "KD011"]);
}

#[test]
fn kd011_identity_trust_without_tag_session_for_the_operator() {
    assert_eq!(
        fails(|e, _| {
            let t = trust_of(e, "keda-identity");
            for s in t["Statement"].as_array_mut().unwrap() {
                if !s["Principal"]["AWS"].is_null() {
                    s["Action"] = json!("sts:AssumeRole");
                }
            }
        }),
        ["KD011"]
    );
}

#[test]
fn kd012_root_trust_without_the_operators_own_permission() {
    assert_eq!(
        fails(|e, _| {
            let t = trust_of(e, "keda-identity");
            for s in t["Statement"].as_array_mut().unwrap() {
                if !s["Principal"]["AWS"].is_null() {
                    s["Principal"]["AWS"] = "arn:aws:iam::123456789012:root".into();
                }
            }
            e.observed
                .roles
                .get_mut("keda-operator")
                .unwrap()
                .inline
                .clear();
        }),
        ["KD012"]
    );
}

#[test]
fn kd013_stale_principal() {
    assert_eq!(
        fails(|e, _| {
            let t = trust_of(e, "keda-identity");
            for s in t["Statement"].as_array_mut().unwrap() {
                if !s["Principal"]["AWS"].is_null() {
                    s["Principal"]["AWS"] = "AROAEXAMPLE1234567".into();
                }
            }
        }),
        ["KD010", "KD011", "KD013"]
    );
}

#[test]
fn kd014_role_arn_is_the_operators_role() {
    let f = fails(|e, _| {
        app(e).trigger_auth.as_mut().unwrap()["spec"]["podIdentity"]["roleArn"] =
            "arn:aws:iam::123456789012:role/keda-operator".into()
    });
    assert!(f.contains(&"KD014"), "{f:?}");
}

#[test]
fn kd015_identity_cannot_read_the_queue() {
    assert_eq!(
        fails(|e, _| e
            .observed
            .roles
            .get_mut("keda-identity")
            .unwrap()
            .inline
            .clear()),
        ["KD015"]
    );
    // From the log alone (e.g. a KMS key or an SCP the documents do not show).
    assert_eq!(
        fails(|e, _| {
            cluster(e).operator_log = "error: operation error SQS: GetQueueAttributes, StatusCode: 403, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keda-identity/KEDA is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:event-messages-queue".into()
        }),
        ["KD015"]
    );
    // An explicit deny in the queue policy.
    assert_eq!(
        fails(|e, _| {
            let q = e.observed.queues.get_mut("event-messages-queue").unwrap();
            q.attributes.insert("Policy".into(), json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]}).to_string());
        }),
        ["KD015"]
    );
    // A managed policy that grants it is read and counts.
    assert!(fails(|e, _| {
        let r = e.observed.roles.get_mut("keda-identity").unwrap();
        r.inline.clear();
        let arn = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess".to_string();
        r.managed.insert(arn.clone(), json!({"Statement": [{"Effect": "Allow", "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueues"], "Resource": "*"}]}));
        r.attached = vec![arn];
    })
    .is_empty());
}

/// The finding for one code on the healthy stack with one fault.
fn finding(code: &str, fault: impl FnOnce(&mut Evidence, &Desired)) -> Finding {
    let d = desired();
    let mut e = healthy(&d);
    fault(&mut e, &d);
    checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == code)
        .unwrap()
}

const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

#[test]
fn a_consumer_without_kms_decrypt_on_its_queues_key_fails_kd043() {
    // The queue was switched to a customer key by hand; the role was rendered before.
    let f = finding("KD043", |e, _| {
        let q = e.observed.queues.get_mut("event-messages-queue").unwrap();
        q.attributes
            .insert("KmsMasterKeyId".into(), "alias/orders".into());
        e.observed
            .kms_aliases
            .insert("alias/orders".into(), KEY_ARN.into());
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].contains(KEY_ARN) && f.evidence[0].contains("alias/orders"),
        "{f:#?}"
    );
    assert_eq!(
        f.repairs,
        [Repair::Converge("iam:role/keda-identity".into())]
    );
    // What `up` renders for that queue grants it, and the check passes.
    let mut s = spec();
    s.apps[0].queue.kms_key = Some("alias/orders".into());
    let mut o = Observed::default();
    o.kms_aliases.insert("alias/orders".into(), KEY_ARN.into());
    let d = render::desired_with(&s, &o).unwrap();
    let mut e = healthy(&d);
    e.observed.kms_aliases = o.kms_aliases;
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD043")
        .unwrap();
    assert_eq!(f.status, Status::Ok, "{f:#?}");
    // An alias that could not be resolved is "could not be checked", never a pass.
    e.observed.kms_aliases.clear();
    e.observed.denied.push(crate::observed::Denied {
        operation: "DescribeKey".into(),
        resource: "KMS key alias/orders".into(),
        message: "AccessDenied".into(),
    });
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD043")
        .unwrap();
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
}

#[test]
fn an_empty_repository_fails_kd044_with_the_push_commands() {
    let f = finding("KD044", |e, _| {
        e.observed
            .image_tags
            .insert("keda-pod-identity-registry".into(), vec![]);
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].contains("no image tagged latest (it holds no image)"),
        "{f:#?}"
    );
    let fix = f.fix.unwrap();
    assert!(fix.contains("docker push 123456789012.dkr.ecr.us-east-1.amazonaws.com/keda-pod-identity-registry:latest"), "{fix}");
    // Not read: could not be checked, never passed.
    let f = finding("KD044", |e, _| e.registry_read = false);
    assert_eq!(f.status, Status::Skipped);
}

#[test]
fn a_deny_in_an_attached_managed_policy_is_named_with_its_sid() {
    let f = finding("KD015", |e, _| {
        let r = e.observed.roles.get_mut("keda-identity").unwrap();
        let arn = "arn:aws:iam::123456789012:policy/deny-sqs".to_string();
        r.managed.insert(arn.clone(), json!({"Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}));
        r.attached = vec![arn];
    });
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("denied (policy deny-sqs, statement DenyAll)"),
        "{f:#?}"
    );
}

#[test]
fn a_permissions_boundary_without_sqs_stops_the_queue_read() {
    let f = finding("KD015", |e, _| {
        let r = e.observed.roles.get_mut("keda-identity").unwrap();
        let arn = "arn:aws:iam::123456789012:policy/dev-boundary".to_string();
        r.managed.insert(arn.clone(), json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"}]}));
        r.boundary = Some(arn);
    });
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("permissions boundary dev-boundary")
            && f.evidence[0].contains("the boundary does not allow sqs:GetQueueAttributes"),
        "{f:#?}"
    );
}

#[test]
fn a_deny_in_the_operators_own_policy_is_reported_as_that() {
    let f = finding("KD012", |e, _| {
        let r = e.observed.roles.get_mut("keda-operator").unwrap();
        r.inline.insert("guardrail".into(), json!({"Statement": [{"Sid": "NoChaining", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}));
    });
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("keda-operator's policies deny sts:AssumeRole")
            && f.evidence[0].contains("policy guardrail, statement NoChaining")
            && !f.evidence[0].contains("account root"),
        "{f:#?}"
    );
}

#[test]
fn a_trust_scoped_to_another_service_account_is_caught_with_both_values() {
    let f = finding("KD008", |e, _| {
        let trust = trust_of(e, "keda-identity");
        for s in trust["Statement"].as_array_mut().unwrap() {
            if let Some(c) = s["Condition"]["StringEquals"].as_object_mut() {
                c.insert(
                    "aws:RequestTag/kubernetes-service-account".into(),
                    json!("q-reader"),
                );
            }
        }
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence.iter().any(|e| e
            .contains("does not let pods of security/my-sqs-read-msgs sts:AssumeRole")
            && e.contains("wants q-reader, the request has my-sqs-read-msgs")),
        "{f:#?}"
    );
    // A condition on what kedactl cannot know is a warning naming the key, never a pass.
    let f = finding("KD008", |e, _| {
        let trust = trust_of(e, "keda-identity");
        for s in trust["Statement"].as_array_mut().unwrap() {
            if let Some(c) = s["Condition"]["StringEquals"].as_object_mut() {
                c.insert(
                    "aws:RequestTag/kubernetes-pod-name".into(),
                    json!("q-read-0"),
                );
            }
        }
    });
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("aws:RequestTag/kubernetes-pod-name")),
        "{f:#?}"
    );
}

#[test]
fn kd016_no_role_arn_and_the_operator_cannot_read() {
    assert_eq!(
        fails(|e, _| {
            let ta = app(e).trigger_auth.as_mut().unwrap();
            ta["spec"]["podIdentity"]
                .as_object_mut()
                .unwrap()
                .remove("roleArn");
        }),
        ["KD016"]
    );
}

#[test]
fn kd017_broken_authentication_ref() {
    assert_eq!(
        fails(|e, _| {
            let c = app(e);
            c.scaler.as_mut().unwrap()["spec"]["triggers"][0]
                .as_object_mut()
                .unwrap()
                .remove("authenticationRef");
            c.trigger_auth = None;
        })
        .first(),
        Some(&"KD017")
    );
    assert!(fails(|e, _| app(e).trigger_auth = None).contains(&"KD017"));
    // KEDA's own condition is quoted as evidence.
    let d = desired();
    let mut e = healthy(&d);
    app(&mut e).trigger_auth = None;
    app(&mut e).scaler.as_mut().unwrap()["status"] = json!({"conditions": [{"type": "Ready", "status": "False",
        "reason": "ScaledObjectCheckFailed", "message": "error getting triggerAuth: not found"}]});
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD017")
        .unwrap();
    assert_eq!(
        f.evidence[1],
        "KEDA reports Ready=False (ScaledObjectCheckFailed): error getting triggerAuth: not found"
    );
    assert_eq!(fails(|e, _| app(e).scaler = None).first(), Some(&"KD017"));
}

#[test]
fn kd018_legacy_provider_or_workload_owner() {
    assert_eq!(
        fails(
            |e, _| app(e).trigger_auth.as_mut().unwrap()["spec"]["podIdentity"]["provider"] =
                "aws-eks".into()
        ),
        ["KD018"]
    );
    assert_eq!(
        fails(|e, _| {
            let pi = &mut app(e).trigger_auth.as_mut().unwrap()["spec"]["podIdentity"];
            pi.as_object_mut().unwrap().remove("roleArn");
            pi["identityOwner"] = "workload".into();
        }),
        ["KD016", "KD018"]
    );
}

#[test]
fn kd019_role_arn_with_workload_owner() {
    assert_eq!(
        fails(
            |e, _| app(e).trigger_auth.as_mut().unwrap()["spec"]["podIdentity"]["identityOwner"] =
                "workload".into()
        ),
        ["KD018", "KD019"]
    );
}

#[test]
fn kd020_old_or_missing_keda() {
    assert_eq!(
        fails(|e, _| e.observed.keda.as_mut().unwrap().version = "2.12.1".into()),
        ["KD020"]
    );
    assert_eq!(fails(|e, _| e.observed.keda = None), ["KD020"]);
}

fn trigger(e: &mut Evidence) -> &mut Value {
    &mut app(e).scaler.as_mut().unwrap()["spec"]["triggers"][0]["metadata"]
}

#[test]
fn kd021_no_aws_region() {
    assert_eq!(
        fails(|e, _| {
            trigger(e).as_object_mut().unwrap().remove("awsRegion");
        }),
        // A field removed from our own object is drift that --fix repairs, not another stack.
        ["KD021"]
    );
}

#[test]
fn kd022_region_mismatch_or_missing_queue() {
    assert_eq!(
        fails(|e, _| trigger(e)["awsRegion"] = "eu-west-1".into()),
        ["KD022", "KD033"]
    );
    assert!(fails(|e, _| e.observed.queues.clear()).contains(&"KD022"));
}

#[test]
fn kd023_malformed_queue_url() {
    assert_eq!(
        fails(|e, _| trigger(e)["queueURL"] = "event-messages-queue".into()),
        ["KD023"]
    );
    assert_eq!(
        checks::parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/q"),
        Some(("us-east-1", "123456789012", "q"))
    );
    assert_eq!(
        checks::parse_queue_url("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")
            .map(|p| p.0),
        Some("cn-north-1")
    );
    assert_eq!(
        checks::parse_queue_url("https://sqs.us-east-1.amazonaws.com/12/q"),
        None
    );
}

#[test]
fn kd024_app_pods_without_credentials() {
    assert_eq!(
        fails(|e, _| app(e).app_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] = json!([])),
        ["KD024"]
    );
    assert_eq!(
        fails(|e, _| e
            .observed
            .associations
            .retain(|a| a.namespace != "security")),
        ["KD024"]
    );
    // Pod Identity asked for, IRSA injected too: the SDKs take web identity first.
    let d = desired();
    let mut e = healthy(&d);
    app(&mut e).app_pod.as_mut().unwrap()["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}));
    let f = checks::run(&d, &e);
    let kd024 = f.iter().find(|f| f.code == "KD024").unwrap();
    assert_eq!(kd024.status, Status::Fail);
    assert!(
        kd024
            .evidence
            .iter()
            .any(|e| e.contains("AWS SDKs try web identity (IRSA) before Pod Identity")),
        "{kd024:?}"
    );
    assert!(
        kd024
            .fix
            .as_deref()
            .unwrap()
            .starts_with("kubectl annotate serviceaccount"),
        "{kd024:?}"
    );
}

#[test]
fn kd025_external_metrics_unavailable() {
    assert_eq!(
        fails(|e, _| cluster(e).apiservice = Some(
            json!({"status": {"conditions": [{"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck", "message": "failing or missing response from https://10.0.0.9:6443"}]}})
        )),
        ["KD025"]
    );
}

#[test]
fn kd026_in_flight_messages_hold_replicas_up() {
    assert_eq!(
        flagged(|e, _| {
            let q = e.observed.queues.get_mut("event-messages-queue").unwrap();
            q.attributes
                .insert("ApproximateNumberOfMessagesNotVisible".into(), "3".into());
        }),
        [("KD026", Status::Warn)]
    );
}

#[test]
fn kd027_pod_older_than_the_association_change() {
    assert_eq!(
        fails(|e, _| {
            let a = e
                .observed
                .associations
                .iter_mut()
                .find(|a| a.namespace == "keda")
                .unwrap();
            a.modified_at = Some("2026-11-24T09:00:00Z".into());
        }),
        ["KD027"]
    );
}

#[test]
fn kd028_packed_policy_too_large() {
    assert_eq!(
        fails(|e, _| {
            cluster(e).operator_log = "operation error STS: AssumeRole, api error PackedPolicyTooLarge: Packed policy consumes 105% of allotted space".into()
        }),
        ["KD028"]
    );
}

/// The default trust is scoped on the session tags, so disabling them must come with an
/// unscoped trust: the fix says both, in order, and a stack that did only half is caught.
#[test]
fn kd028_fix_keeps_the_scoped_trust_assumable() {
    let d = desired();
    let find = |e: &Evidence| {
        checks::run(&d, e)
            .into_iter()
            .find(|f| f.code == "KD028")
            .unwrap()
    };
    let mut e = healthy(&d);
    cluster(&mut e).operator_log =
        "api error PackedPolicyTooLarge: Packed policy consumes 105% of allotted space".into();
    let f = find(&e);
    let fix = f.fix.unwrap();
    assert!(
        fix.starts_with("first kedactl up --only iam --scoped-trust false, then aws eks update-pod-identity-association --cluster-name demo --association-id a-0 --disable-session-tags"),
        "{fix}"
    );
    // Tags disabled while the trust still conditions on them: the operator is locked out.
    let mut e = healthy(&d);
    e.observed.associations[0].session_tags_disabled = true;
    let f = find(&e);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[1].contains("the operator cannot assume its role"),
        "{f:#?}"
    );
    // With an unscoped trust, disabling the tags is the whole fix.
    let spec = Spec {
        scoped_trust: false,
        ..spec()
    };
    let d = render::desired(&spec).unwrap();
    let mut e = healthy(&d);
    cluster(&mut e).operator_log = "api error PackedPolicyTooLarge".into();
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD028")
        .unwrap();
    assert!(
        f.fix
            .unwrap()
            .starts_with("aws eks update-pod-identity-association")
    );
}

#[test]
fn kd029_caller_cannot_pass_roles() {
    assert_eq!(
        fails(|e, d| {
            let k = simulation_key(
                "arn:aws:sts::123456789012:assumed-role/admin/me",
                "iam:PassRole",
                &d.roles[0].arn,
            );
            e.simulations.insert(k, "implicitDeny".into());
        }),
        ["KD029"]
    );
    // Without the simulator: skipped, not passed.
    let d = desired();
    let mut e = healthy(&d);
    e.simulator_skipped = Some("the IAM policy simulator did not answer".into());
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD029")
        .unwrap();
    assert_eq!(f.status, Status::Skipped);
    // A role the simulator was not asked about: skipped, never ok.
    let mut e = healthy(&d);
    e.simulations.clear();
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD029")
        .unwrap();
    assert_eq!(f.status, Status::Skipped, "{f:?}");
    // IRSA passes no role to EKS.
    let (d, e) = healthy_irsa();
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD029")
        .unwrap();
    assert_eq!(f.status, Status::NotApplicable, "{f:?}");
}

/// One simulator question refused: only the check that asked it says it could not check; the
/// checks whose answers came (or whose documents decide) keep their verdicts.
#[test]
fn a_refused_simulator_question_is_its_own_checks_could_not_check() {
    let d = desired();
    let mut e = healthy(&d);
    let caller = "arn:aws:sts::123456789012:assumed-role/admin/me";
    let key = simulation_key(caller, "iam:PassRole", &d.roles[1].arn);
    e.simulations.remove(&key);
    e.simulator_unanswered.insert(
        key,
        "the IAM policy simulator did not answer about it: AccessDenied".into(),
    );
    let identity = d
        .roles
        .iter()
        .find(|r| r.purpose == render::RolePurpose::Identity)
        .unwrap();
    let queue = &d.queues[0];
    e.simulator_unanswered.insert(
        simulation_key(&identity.arn, "sqs:GetQueueAttributes", &queue.arn),
        "throttled".into(),
    );
    let findings = checks::run(&d, &e);
    let find = |code: &str| findings.iter().find(|f| f.code == code).unwrap();
    let kd029 = find("KD029");
    assert_eq!(kd029.status, Status::Skipped, "{kd029:?}");
    assert_eq!(
        kd029.evidence,
        ["could not check: the IAM policy simulator did not answer about it: AccessDenied"]
    );
    let kd015 = find("KD015");
    assert_eq!(kd015.status, Status::Ok, "{kd015:?}");
    assert!(
        kd015.evidence[0]
            .contains("policy simulator could not check keda-identity sqs:GetQueueAttributes")
            && kd015.evidence[0].ends_with("throttled)"),
        "{kd015:?}"
    );
    let kd010 = find("KD010");
    assert_eq!(kd010.status, Status::Ok, "{kd010:?}");
    assert!(!kd010.evidence[0].contains("could not check"), "{kd010:?}");
}

#[test]
fn kd030_association_points_elsewhere() {
    assert_eq!(
        flagged(|e, _| e.observed.associations[1].role_arn =
            "arn:aws:iam::123456789012:role/other".into()),
        [("KD030", Status::Warn)]
    );
}

#[test]
fn kd032_proxy_without_no_proxy() {
    assert_eq!(
        fails(|e, _| {
            let env = cluster(e).operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"]
                .as_array_mut()
                .unwrap();
            env.push(json!({"name": "HTTPS_PROXY", "value": "http://proxy:3128"}));
        }),
        ["KD032"]
    );
}

#[test]
fn without_cluster_access_cluster_checks_say_why() {
    let d = desired();
    let mut e = healthy(&d);
    e.cluster = None;
    e.cluster_skipped = Some("no cluster access: 401 Unauthorized".into());
    let findings = checks::run(&d, &e);
    let kd006 = findings.iter().find(|f| f.code == "KD006").unwrap();
    assert_eq!(
        (kd006.status, kd006.evidence[0].as_str()),
        (Status::Skipped, "no cluster access: 401 Unauthorized")
    );
    assert!(
        findings.iter().all(|f| f.status != Status::Fail),
        "{findings:#?}"
    );
}

/// --fix: faults in, the repair plan out (what `up`'s executor then runs).
fn repairs(fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<String> {
    let d = desired();
    let mut e = healthy(&d);
    fault(&mut e, &d);
    let findings = checks::run(&d, &e);
    repair::plan(
        &d,
        &e.observed,
        &findings,
        &crate::plan::Options::default(),
        true,
    )
    .unwrap()
    .steps
    .into_iter()
    .map(|s| s.id)
    .collect()
}

#[test]
fn fix_repairs_trust_policies_associations_objects_and_pods() {
    // Trust (KD008, KD010, KD011, KD013) and the identity policy (KD015), in one plan.
    assert_eq!(
        repairs(|e, _| {
            trust_of(e, "keda-operator")["Statement"][0]["Action"] = json!("sts:AssumeRole");
            drop_operator_principal(e);
            e.observed
                .roles
                .get_mut("keda-identity")
                .unwrap()
                .inline
                .clear();
        }),
        [
            "iam:role/keda-operator/trust",
            "iam:role/keda-identity/trust",
            "iam:role/keda-identity/policy/kedactl-sqs-access"
        ]
    );
    // KD012: the operator's own policy.
    assert_eq!(
        repairs(|e, _| {
            for s in trust_of(e, "keda-identity")["Statement"]
                .as_array_mut()
                .unwrap()
            {
                if !s["Principal"]["AWS"].is_null() {
                    s["Principal"]["AWS"] = "arn:aws:iam::123456789012:root".into();
                }
            }
            e.observed
                .roles
                .get_mut("keda-operator")
                .unwrap()
                .inline
                .clear();
        }),
        ["iam:role/keda-operator/policy/kedactl-assume-identity"]
    );
    // KD001: the add-on (and its wait).
    assert_eq!(
        repairs(|e, _| e.observed.addon = None),
        [
            "eks:addon/eks-pod-identity-agent",
            "eks:addon/eks-pod-identity-agent/wait"
        ]
    );
    // KD005: the association, then the operator restarted and checked.
    let r = repairs(|e, _| e.observed.associations.retain(|a| a.namespace != "keda"));
    assert_eq!(
        r,
        [
            "eks:association/keda/keda-operator",
            "doctor:restart/keda/keda-operator",
            "doctor:verify/keda/keda-operator"
        ]
    );
    // KD006 / KD027: a restart and the env check only.
    assert_eq!(
        repairs(
            |e, _| cluster(e).operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] =
                json!([])
        ),
        [
            "doctor:restart/keda/keda-operator",
            "doctor:verify/keda/keda-operator"
        ]
    );
    // KD024: the app's pods restarted.
    assert_eq!(
        repairs(
            |e, _| app(e).app_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] = json!([])
        ),
        ["doctor:restart/security/q-read"]
    );
    // KD017-KD023: the app's KEDA objects re-applied as rendered.
    let mut broken = healthy(&desired());
    let so = desired()
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap()
        .clone();
    let mut drifted = so.clone();
    drifted["spec"]["triggers"][0]["metadata"]["awsRegion"] = "eu-west-1".into();
    broken
        .observed
        .objects
        .edit(|o| o.retain(|o| o["kind"] != "ScaledObject"));
    broken.observed.objects.push(drifted.clone());
    app(&mut broken).scaler = Some(drifted);
    let d = desired();
    let findings = checks::run(&d, &broken);
    let plan = repair::plan(
        &d,
        &broken.observed,
        &findings,
        &crate::plan::Options::default(),
        true,
    )
    .unwrap();
    assert_eq!(
        plan.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["app:ScaledObject/security/k8s-sqs-read-msg-keda"]
    );
    // Without cluster access, no restart is planned.
    let d = desired();
    let mut e = healthy(&d);
    cluster(&mut e).operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] = json!([]);
    let findings = checks::run(&d, &e);
    assert!(
        repair::plan(
            &d,
            &e.observed,
            &findings,
            &crate::plan::Options::default(),
            false
        )
        .unwrap()
        .is_empty()
    );
}

/// `flagged`, for a stack rendered from another config.
fn flagged_in(
    d: &Desired,
    fault: impl FnOnce(&mut Evidence, &Desired),
) -> Vec<(&'static str, Status)> {
    let mut e = healthy(d);
    fault(&mut e, d);
    checks::run(d, &e)
        .into_iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| (f.code, f.status))
        .collect()
}

fn operator_pod(e: &mut Evidence) -> &mut Value {
    cluster(e).operator_pod.as_mut().unwrap()
}

const TARGET: &str = "arn:aws:iam::123456789012:role/keda-target";

#[test]
fn kd034_operator_target_role_not_in_the_identity_trust() {
    let f = finding("KD034", |e, _| {
        e.observed.associations[0].target_role_arn = Some(TARGET.into())
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.evidence[1].contains("trust of keda-identity does not let keda-target"));
    assert!(f.fix.unwrap().contains(TARGET));
    assert_eq!(
        fails(|e, _| e.observed.associations[0].target_role_arn = Some(TARGET.into())),
        ["KD034"]
    );
    // Named in the trust: the chain works from the target role.
    assert!(
        fails(|e, _| {
            e.observed.associations[0].target_role_arn = Some(TARGET.into());
            let s = trust_of(e, "keda-identity")["Statement"]
                .as_array_mut()
                .unwrap();
            s.push(json!({"Effect": "Allow", "Principal": {"AWS": TARGET}, "Action": ["sts:AssumeRole", "sts:TagSession"]}));
        })
        .is_empty()
    );
}

#[test]
fn kd034_app_target_role_acts_instead_of_the_identity_role() {
    assert_eq!(
        flagged(|e, _| e.observed.associations[1].target_role_arn = Some(TARGET.into())),
        [("KD034", Status::Warn)]
    );
}

#[test]
fn kd035_paused_scaled_object() {
    let annotate = |k: &'static str, v: &'static str| {
        move |e: &mut Evidence, _: &Desired| {
            app(e).scaler.as_mut().unwrap()["metadata"]["annotations"] = json!({k: v});
        }
    };
    assert_eq!(
        flagged(annotate("autoscaling.keda.sh/paused", "true")),
        [("KD035", Status::Warn)]
    );
    assert_eq!(
        flagged(annotate("autoscaling.keda.sh/paused-replicas", "0")),
        [("KD035", Status::Warn)]
    );
    assert_eq!(
        flagged(annotate("autoscaling.keda.sh/paused-scale-out", "yes")),
        [("KD035", Status::Warn)]
    );
    assert!(flagged(annotate("autoscaling.keda.sh/paused", "false")).is_empty());
    let f = finding(
        "KD035",
        annotate("autoscaling.keda.sh/paused-scale-in", "true"),
    );
    assert_eq!(
        f.fix.unwrap(),
        "kubectl annotate scaledobject k8s-sqs-read-msg-keda -n security autoscaling.keda.sh/paused-scale-in-"
    );
}

#[test]
fn kd036_hpa_cannot_fetch_metrics() {
    let set = |reason: &'static str| {
        move |e: &mut Evidence, _: &Desired| {
            app(e).scaler.as_mut().unwrap()["status"]["conditions"] = json!([{"type": "HPAActive", "status": "False", "reason": reason, "message": "the HPA was unable to compute the replica count"}]);
        }
    };
    assert_eq!(
        flagged(set("HPAMetricsUnavailable")),
        [("KD036", Status::Fail)]
    );
    assert_eq!(flagged(set("FailedGetScale")), [("KD036", Status::Warn)]);
    let f = finding("KD036", set("HPAMetricsUnavailable"));
    assert!(f.evidence[0].contains("unable to compute the replica count"));
}

#[test]
fn kd037_operator_on_the_host_network() {
    assert_eq!(
        fails(|e, _| operator_pod(e)["spec"]["hostNetwork"] = json!(true)),
        ["KD037"]
    );
}

#[test]
fn kd038_network_policy_blocks_the_agent() {
    // The KEDA chart's own policy (networkPolicy.enabled, flavor kubernetes), as v2.20.2 renders it.
    let chart = json!({"metadata": {"name": "keda-operator"}, "spec": {
    "podSelector": {"matchLabels": {"app": "keda-operator"}},
    "policyTypes": ["Ingress", "Egress"],
    "egress": [
        {"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]},
        {"to": [{"namespaceSelector": {}}]}
    ]}});
    let with = |p: Value| {
        move |e: &mut Evidence, _: &Desired| {
            operator_pod(e)["metadata"]["labels"] = json!({"app": "keda-operator"});
            cluster(e).network_policies = Some(Ok(vec![p]));
        }
    };
    assert_eq!(fails(with(chart.clone())), ["KD038"]);
    let f = finding("KD038", with(chart.clone()));
    assert!(
        f.fix.unwrap().contains("extraEgressRules"),
        "the chart's value"
    );
    // Its extraEgressRules with an ipBlock for the agent let it through.
    let mut fixed = chart;
    fixed["spec"]["egress"]
        .as_array_mut()
        .unwrap()
        .push(json!({"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}));
    assert!(fails(with(fixed)).is_empty());
    // A policy that does not select the operator does not matter.
    assert!(fails(with(json!({"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}}))).is_empty());
    // A list the caller may not read: could not be checked, never a pass.
    let f = finding("KD038", |e, _| {
        cluster(e).network_policies = Some(Err("networkpolicies is forbidden".into()))
    });
    assert_eq!(f.status, Status::Skipped);
}

#[test]
fn kd039_global_sts_from_a_private_cluster() {
    let global = |e: &mut Evidence| {
        operator_pod(e)["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "AWS_ENDPOINT_URL_STS", "value": "https://sts.amazonaws.com"}));
    };
    let private = |e: &mut Evidence, d: &Desired| {
        global(e);
        e.observed.cluster = Some(crate::observed::Cluster {
            arn: d.cluster_arn.clone(),
            status: "ACTIVE".into(),
            version: "1.32".into(),
            oidc_issuer: None,
            endpoint: None,
            certificate_authority: None,
            auto_mode: false,
            endpoint_public_access: Some(false),
            endpoint_private_access: Some(true),
            node_role_arn: None,
            ..Default::default()
        });
    };
    assert_eq!(flagged(private), [("KD039", Status::Fail)]);
    assert_eq!(flagged(|e, _| global(e)), [("KD039", Status::Warn)]);
    // The SDK v2 ignores the legacy setting: no finding.
    assert!(
        flagged(|e, _| operator_pod(e)["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy"})))
        .is_empty()
    );
    assert_eq!(
        fails(|e, _| {
            cluster(e).operator_log.push_str(
            "ERROR\tscale_handler\toperation error STS: AssumeRole, https response error: Post \"https://sts.amazonaws.com/\": dial tcp 52.94.241.129:443: i/o timeout\n"
        )
        }),
        ["KD039"]
    );
}

fn scaled_job() -> Desired {
    let mut s = spec();
    s.apps[0].scaling.kind = crate::spec::ScalingKind::ScaledJob;
    render::desired(&s).unwrap()
}

fn kd040_status(deadline: Option<u64>) -> Status {
    let d = scaled_job();
    let mut e = healthy(&d);
    let mut sj = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledJob")
        .unwrap()
        .clone();
    if let Some(s) = deadline {
        sj["spec"]["jobTargetRef"]["activeDeadlineSeconds"] = json!(s);
    }
    app(&mut e).scaler = Some(sj);
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD040")
        .unwrap();
    f.status
}

#[test]
fn kd040_scaled_job_runs_longer_than_the_visibility_timeout() {
    // The config's visibility timeout is 30 s.
    assert_eq!(kd040_status(Some(600)), Status::Fail);
    assert_eq!(kd040_status(None), Status::Warn);
    assert_eq!(kd040_status(Some(25)), Status::Ok);
}

#[test]
fn kd041_visibility_timeout_below_the_floor_or_the_config() {
    assert_eq!(
        flagged(|e, d| {
            let q = e.observed.queues.get_mut(&d.queues[0].name).unwrap();
            q.attributes.insert("VisibilityTimeout".into(), "5".into());
        }),
        [("KD041", Status::Warn)]
    );
    // Read failures are not passes.
    let f = finding("KD041", |e, _| e.queues_read = false);
    assert_eq!(f.status, Status::Skipped);
}

fn with_dlq() -> Desired {
    let mut s = spec();
    s.apps[0].queue.dead_letter = Some(crate::spec::DeadLetter {
        name: None,
        max_receive_count: 5,
    });
    render::desired(&s).unwrap()
}

#[test]
fn kd042_redrive_policy_names_a_missing_queue() {
    let d = with_dlq();
    assert!(flagged_in(&d, |_, _| {}).is_empty());
    // The config's DLQ is gone.
    assert_eq!(
        flagged_in(&d, |e, d| {
            e.observed.queues.remove(&d.queues[0].name);
        }),
        [("KD042", Status::Fail)]
    );
    // A DLQ outside the config: looked up by ARN.
    let elsewhere = "arn:aws:sqs:us-west-2:123456789012:old-dlq";
    let point = |e: &mut Evidence, d: &Desired| {
        let q = e.observed.queues.get_mut(&d.queues[1].name).unwrap();
        q.attributes.insert(
            "RedrivePolicy".into(),
            json!({"deadLetterTargetArn": elsewhere, "maxReceiveCount": 5}).to_string(),
        );
    };
    assert_eq!(
        flagged_in(&d, |e, d| {
            point(e, d);
            e.dead_letter_targets.insert(elsewhere.into(), Ok(false));
        }),
        [("KD042", Status::Fail)]
    );
    assert!(
        flagged_in(&d, |e, d| {
            point(e, d);
            e.dead_letter_targets.insert(elsewhere.into(), Ok(true));
        })
        .is_empty()
    );
    // Not looked up: could not be checked.
    let mut e = healthy(&d);
    point(&mut e, &d);
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD042")
        .unwrap();
    assert_eq!(f.status, Status::Skipped);
}

#[test]
fn a_check_whose_cluster_read_failed_is_not_judged_on_the_gap() {
    let d = desired();
    let mut e = healthy(&d);
    let cl = cluster(&mut e);
    cl.apiservice = None;
    cl.unread.insert(
        part::APISERVICE,
        "read APIService …: 500 InternalError".into(),
    );
    let f = checks::run(&d, &e)
        .into_iter()
        .find(|f| f.code == "KD025")
        .unwrap();
    assert_eq!(f.status, Status::Skipped, "not 'does not exist': {f:#?}");
    assert_eq!(
        f.evidence,
        ["could not read the external metrics APIService: read APIService …: 500 InternalError"]
    );
    // Without the failed read, the same gap is a real absence.
    let mut e = healthy(&d);
    cluster(&mut e).apiservice = None;
    assert_eq!(fails(|x, _| *x = e.clone()), ["KD025"]);
}

/// Issue 17 (4): with the default layout, KEDA's chained session (tagged as keda-operator) may
/// read the queue's depth but not consume it; the app's own session may; the seed's layout
/// (`roles.scopeConsumers: false`) lets both. Evaluated with doctor's own IAM logic.
#[test]
fn only_the_app_consumes_and_keda_only_reads_the_depth() {
    use crate::doctor::conditions::Context;
    use crate::doctor::policy::{Decision, evaluate};
    let session = |ns: &str, sa: &str| {
        Context::default()
            .set("aws:PrincipalTag/kubernetes-namespace", &[ns])
            .set("aws:PrincipalTag/kubernetes-service-account", &[sa])
    };
    let keda = session("keda", "keda-operator");
    let app = session("security", "my-sqs-read-msgs");
    let check = |d: &Desired, who: &Context, action: &str| {
        let identity = d.roles.iter().find(|r| r.name == "keda-identity").unwrap();
        let q = &d.queues.last().unwrap().arn;
        evaluate(&identity.policies[0].body, action, q, who).decision
    };
    let d = desired();
    assert_eq!(check(&d, &keda, "sqs:GetQueueAttributes"), Decision::Allow);
    assert_eq!(check(&d, &keda, "sqs:ReceiveMessage"), Decision::Implicit);
    assert_eq!(check(&d, &keda, "sqs:DeleteMessage"), Decision::Implicit);
    assert_eq!(check(&d, &app, "sqs:ReceiveMessage"), Decision::Allow);
    assert_eq!(check(&d, &app, "sqs:DeleteMessage"), Decision::Allow);
    let seed = render::desired(&Spec {
        roles: crate::spec::Roles {
            scope_consumers: false,
            ..spec().roles
        },
        ..spec()
    })
    .unwrap();
    assert_eq!(check(&seed, &keda, "sqs:ReceiveMessage"), Decision::Allow);
}

/// Issue 30: `consume: true` grants a stream's or table's consumer what it calls, for the app's
/// own session only (KEDA's chained session, tagged as keda-operator, keeps its read); without
/// it the app's session gets KEDA's read alone. Evaluated with doctor's own IAM logic.
#[test]
fn consume_grants_the_apps_own_session_what_a_consumer_calls() {
    use crate::doctor::conditions::Context;
    use crate::doctor::policy::{Decision, evaluate};
    let cases: [(&str, &str, &str, &[&str]); 3] = [
        (
            include_str!("../../examples/kinesis.yaml"),
            "arn:aws:kinesis:us-east-1:123456789012:stream/clickstream",
            "kinesis:DescribeStreamSummary",
            &[
                "kinesis:ListShards",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
            ],
        ),
        (
            include_str!("../../examples/dynamodb-streams.yaml"),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/audit-events/stream/2026-12-07T08:00:00.000",
            "dynamodb:DescribeStream",
            &["dynamodb:GetShardIterator", "dynamodb:GetRecords"],
        ),
        (
            include_str!("../../examples/dynamodb.yaml"),
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "dynamodb:Query",
            &["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        ),
    ];
    for (yaml, arn, keda_reads, consumer_calls) in cases {
        let render = |consume: bool| {
            let mut spec = crate::spec::parse(yaml.as_bytes(), "example").unwrap();
            spec.account = Some("123456789012".into());
            spec.apps[0].consume = consume;
            let d = render::desired(&spec).unwrap();
            let role = d
                .roles
                .iter()
                .find(|r| r.name == "keda-identity")
                .unwrap()
                .clone();
            (spec.apps[0].clone(), role)
        };
        let session = |ns: &str, sa: &str| {
            Context::default()
                .set("aws:PrincipalTag/kubernetes-namespace", &[ns])
                .set("aws:PrincipalTag/kubernetes-service-account", &[sa])
        };
        let decide = |role: &render::Role, who: &Context, action: &str| {
            let allowed = role
                .policies
                .iter()
                .any(|p| evaluate(&p.body, action, arn, who).decision == Decision::Allow);
            if allowed {
                Decision::Allow
            } else {
                Decision::Implicit
            }
        };
        let keda = session("keda", "keda-operator");
        let (app, consuming) = render(true);
        let own = session(&app.namespace, &app.service_account);
        assert_eq!(
            decide(&consuming, &keda, keda_reads),
            Decision::Allow,
            "{arn}"
        );
        for action in consumer_calls {
            assert_eq!(
                decide(&consuming, &own, action),
                Decision::Allow,
                "{action} on {arn}"
            );
            assert_eq!(
                decide(&consuming, &keda, action),
                Decision::Implicit,
                "{action}: KEDA only reads"
            );
        }
        let (_, reading) = render(false);
        for action in consumer_calls {
            assert_eq!(
                decide(&reading, &own, action),
                Decision::Implicit,
                "{action} without consume"
            );
        }
    }
}

#[test]
fn consume_on_a_kind_without_a_consumer_grant_is_refused() {
    let mut spec = crate::spec::parse(
        include_str!("../../examples/cloudwatch.yaml").as_bytes(),
        "example",
    )
    .unwrap();
    spec.apps[0].consume = true;
    let mut out = Vec::new();
    crate::spec::sections::validate(&spec.apps[0], "apps[0]", &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].field, "apps[0].consume");
}

fn node_role(attached: Vec<String>) -> Role {
    Role {
        arn: "arn:aws:iam::123456789012:role/eks-node-role".into(),
        trust: json!({}),
        inline: Default::default(),
        attached,
        managed: Default::default(),
        boundary: None,
        path: None,
        tags: Default::default(),
    }
}

#[test]
fn kd045_the_nodes_cannot_pull_the_image() {
    let f = finding("KD045", |e, _| {
        e.node_roles = Some(Ok(vec![node_role(vec![
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy".into(),
        ])]))
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].starts_with("node role eks-node-role may not ecr:GetAuthorizationToken")
            && f.fix
                .as_deref()
                .unwrap()
                .contains("AmazonEC2ContainerRegistryPullOnly"),
        "{f:#?}"
    );
    // An equivalent inline statement is as good as the managed policy.
    let f = finding("KD045", |e, _| {
        let mut r = node_role(vec![]);
        r.inline.insert("pull".into(), json!({"Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*"}]}));
        e.node_roles = Some(Ok(vec![r]));
    });
    assert_eq!(f.status, Status::Ok, "{f:#?}");
    // Nodes kedactl cannot see: not checked, never passed.
    let f = finding("KD045", |e, _| e.node_roles = Some(Ok(vec![])));
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
    let f = finding("KD045", |e, _| {
        e.node_roles = Some(Err("ListNodegroups: AccessDenied".into()))
    });
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
}

/// Seed 003's stack (an AMP workspace, a prometheus trigger) as `up` leaves it.
fn amp() -> (Desired, Evidence) {
    let mut spec = spec();
    let app = &mut spec.apps[0];
    app.trigger = crate::triggers::Kind::Prometheus;
    app.prometheus = Some(crate::triggers::prometheus::Config::sample(
        crate::triggers::prometheus::Workspace {
            alias: Some("AMP-KEDA".into()),
            id: None,
        },
    ));
    let offline = render::desired(&spec).unwrap();
    let mut o = Observed::default();
    o.resources.insert(
        "aps:workspace/AMP-KEDA".into(),
        crate::observed::Resource {
            id: "ws-1234".into(),
            arn: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234".into(),
            status: "ACTIVE".into(),
            endpoint: None,
            tags: offline.shared_tags(),
            ..Default::default()
        },
    );
    o.resources.insert(SCRAPER.into(), live_scraper(&offline));
    let d = render::desired_with(&spec, &o).unwrap();
    let mut e = healthy(&d);
    e.observed.resources = o.resources;
    e.metric_reads
        .insert("security/q-read".into(), Ok("query value 0.75".into()));
    e.scraped.insert(
        "security/q-read".into(),
        Ok(crate::triggers::prometheus::Scraped {
            series: 1,
            up: None,
        }),
    );
    e.observed.cluster = Some(crate::observed::Cluster {
        authentication_mode: Some("API_AND_CONFIG_MAP".into()),
        endpoint_private_access: Some(true),
        ..Default::default()
    });
    // AMP made the scraper's access entry (here under the role's ARN without its path).
    e.access_entries = Some(Ok(vec![
        "arn:aws:iam::123456789012:role/AWSServiceRoleForAmazonPrometheusScraper_1".into(),
    ]));
    (d, e)
}

#[test]
fn kd050_the_scraper_needs_its_access_entry() {
    let findings = amp_findings(|_, _| {});
    let f = findings.iter().find(|f| f.code == "KD050").unwrap();
    assert_eq!(f.status, Status::Ok, "{f:#?}");
    let missing = amp_findings(|e, _| e.access_entries = Some(Ok(vec![])));
    let f = missing.iter().find(|f| f.code == "KD050").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("AWSServiceRoleForAmazonPrometheusScraper_1, which has no access entry on EKS cluster demo"),
        "{f:#?}"
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap_or_default()
            .contains("aws amp delete-scraper"),
        "{f:#?}"
    );
    let config_map = amp_findings(|e, _| {
        e.observed.cluster.as_mut().unwrap().authentication_mode = Some("CONFIG_MAP".into());
    });
    let f = config_map.iter().find(|f| f.code == "KD050").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.fix
            .as_deref()
            .unwrap_or_default()
            .contains("authenticationMode=API_AND_CONFIG_MAP"),
        "{f:#?}"
    );
    let unread = amp_findings(|e, _| e.access_entries = Some(Err("AccessDenied".into())));
    assert_eq!(
        amp_status(&unread, "KD050"),
        Status::Skipped,
        "could not check, said so"
    );
    let creating = amp_findings(|e, _| {
        e.observed.resources.get_mut(SCRAPER).unwrap().status = "CREATING".into();
    });
    assert_eq!(amp_status(&creating, "KD050"), Status::Skipped);
}

const SCRAPER: &str = "aps:scraper/kedactl-demo-AMP-KEDA";

/// The AMP scraper `up` made for cluster demo, writing to workspace ws-1234.
fn live_scraper(d: &Desired) -> crate::observed::Resource {
    crate::observed::Resource {
        id: "s-1".into(),
        arn: "arn:aws:aps:us-east-1:123456789012:scraper/s-1".into(),
        status: "ACTIVE".into(),
        tags: d.shared_tags(),
        settings: serde_json::json!({
            "clusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/demo",
            "workspaceArn": "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234",
            "roleArn": "arn:aws:iam::123456789012:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_1",
        }),
        ..Default::default()
    }
}

fn amp_findings(fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<Finding> {
    let (d, mut e) = amp();
    fault(&mut e, &d);
    checks::run(&d, &e)
}

fn amp_status(findings: &[Finding], code: &str) -> Status {
    findings.iter().find(|f| f.code == code).unwrap().status
}

#[test]
fn a_healthy_amp_stack_passes_the_trigger_checks_and_no_queue_check_fails() {
    let findings = amp_findings(|_, _| {});
    for code in ["KD046", "KD047", "KD048", "KD049"] {
        assert_eq!(
            amp_status(&findings, code),
            Status::Ok,
            "{code}: {findings:#?}"
        );
    }
    let bad: Vec<_> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Skipped))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let kd047 = findings.iter().find(|f| f.code == "KD047").unwrap();
    assert_eq!(
        kd047.evidence,
        [
            "keda-identity may aps:QueryMetrics on arn:aws:aps:us-east-1:123456789012:workspace/ws-1234"
        ]
    );
}

#[test]
fn kd046_a_scraper_that_failed_is_creating_or_writes_elsewhere() {
    let failed = amp_findings(|e, _| {
        let s = e.observed.resources.get_mut(SCRAPER).unwrap();
        s.status = "CREATION_FAILED".into();
        s.reason = Some("Insufficient IP addresses in subnet subnet-a".into());
    });
    let f = failed.iter().find(|f| f.code == "KD046").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(f.evidence.contains(
        &"AMP scraper kedactl-demo-AMP-KEDA (s-1) is CREATION_FAILED, not usable: Insufficient IP addresses in subnet subnet-a".to_string()
    ), "{f:#?}");
    let creating = amp_findings(|e, _| {
        e.observed.resources.get_mut(SCRAPER).unwrap().status = "CREATING".into();
    });
    let f = creating.iter().find(|f| f.code == "KD046").unwrap();
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.evidence[0].contains("no metrics reach the workspace"),
        "{f:#?}"
    );
    let elsewhere = amp_findings(|e, _| {
        e.observed.resources.get_mut(SCRAPER).unwrap().settings["workspaceArn"] =
            "arn:aws:aps:us-east-1:123456789012:workspace/ws-old".into();
    });
    let f = elsewhere.iter().find(|f| f.code == "KD046").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("workspace/ws-old")
            && f.evidence[0].contains("aws amp delete-scraper --scraper-id s-1"),
        "{f:#?}"
    );
}

#[test]
fn kd046_a_missing_or_creating_workspace() {
    let gone = amp_findings(|e, _| {
        e.observed.resources.clear();
    });
    let f = gone.iter().find(|f| f.code == "KD046").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        [
            "AMP workspace AMP-KEDA does not exist in us-east-1",
            "AMP scraper kedactl-demo-AMP-KEDA does not exist in us-east-1"
        ]
    );
    assert_eq!(
        f.repairs,
        [
            Repair::Converge("aps:workspace/AMP-KEDA".into()),
            Repair::Converge(SCRAPER.into())
        ]
    );
    let creating = amp_findings(|e, _| {
        e.observed
            .resources
            .get_mut("aps:workspace/AMP-KEDA")
            .unwrap()
            .status = "CREATING".into();
    });
    assert_eq!(amp_status(&creating, "KD046"), Status::Warn);
    let unread = amp_findings(|e, _| {
        e.observed.resources.clear();
        e.observed.unread.push(crate::observed::Denied {
            operation: "ListWorkspaces".into(),
            resource: "AMP workspace AMP-KEDA".into(),
            message: "HTTP 500".into(),
        });
    });
    assert_eq!(
        amp_status(&unread, "KD046"),
        Status::Skipped,
        "never a pass or a fail without evidence"
    );
}

#[test]
fn kd047_the_identity_role_may_not_query_the_workspace() {
    let findings = amp_findings(|e, _| {
        e.observed
            .roles
            .get_mut("keda-identity")
            .unwrap()
            .inline
            .clear();
    });
    let f = findings.iter().find(|f| f.code == "KD047").unwrap();
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].starts_with("keda-identity may not aps:QueryMetrics on arn:aws:aps:us-east-1:123456789012:workspace/ws-1234"),
        "{:?}",
        f.evidence
    );
    assert_eq!(
        f.repairs,
        [Repair::Converge("iam:role/keda-identity/policy".into())]
    );

    // The grant names another workspace: the same failure.
    let other = amp_findings(|e, _| {
        let doc = e
            .observed
            .roles
            .get_mut("keda-identity")
            .unwrap()
            .inline
            .get_mut("kedactl-amp-query")
            .unwrap();
        doc["Statement"][0]["Resource"] =
            json!("arn:aws:aps:us-east-1:123456789012:workspace/ws-9999");
    });
    assert_eq!(amp_status(&other, "KD047"), Status::Fail);

    // KEDA's log names no principal for a refused query: doctor names the roleArn it signed as.
    let logged = amp_findings(|e, _| {
        cluster(e).operator_log = "ERROR\tprometheus_scaler\terror executing prometheus query\t{\"error\": \"prometheus query api returned error. status: 403\"}\n".into();
    });
    let f = logged.iter().find(|f| f.code == "KD047").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("signed as arn:aws:iam::123456789012:role/keda-identity")),
        "{:?}",
        f.evidence
    );
}

#[test]
fn kd048_the_live_trigger_points_at_another_workspace() {
    let findings = amp_findings(|e, _| {
        let so = app(e).scaler.as_mut().unwrap();
        so["spec"]["triggers"][0]["metadata"]["serverAddress"] =
            json!("https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-old");
    });
    let f = findings.iter().find(|f| f.code == "KD048").unwrap();
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        [
            "serverAddress is \"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-old\" live, the config renders \"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1234\""
        ]
    );
}

#[test]
fn kd049_a_query_of_several_series_and_a_refused_caller() {
    let several = amp_findings(|e, _| {
        e.metric_reads.insert(
            "security/q-read".into(),
            Err((Some(200), "prometheus query sum by (pod) (x) returned multiple elements (3): KEDA needs one; aggregate it (sum, max...)".into())),
        );
    });
    assert_eq!(amp_status(&several, "KD049"), Status::Fail);
    let refused = amp_findings(|e, _| {
        e.metric_reads.insert(
            "security/q-read".into(),
            Err((Some(403), "status: 403".into())),
        );
    });
    assert_eq!(amp_status(&refused, "KD049"), Status::Skipped);
}

#[test]
fn kd049_a_query_with_no_series_fails_unless_the_apps_pods_are_scraped() {
    use crate::triggers::prometheus::Scraped;
    let with = |series: usize, up: Option<Vec<f64>>| {
        amp_findings(move |e, _| {
            e.scraped
                .insert("security/q-read".into(), Ok(Scraped { series, up }));
        })
        .into_iter()
        .find(|f| f.code == "KD049")
        .unwrap()
    };
    // KEDA reads the empty answer as 0 and nothing collects the pods: the app never scales.
    let f = with(0, Some(vec![]));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].contains("no `up` of the app's pods"),
        "{f:#?}"
    );
    assert!(f.fix.as_deref().unwrap().contains("metricsPort"), "{f:#?}");
    // Found but not scrapable (wrong port or path).
    let f = with(0, Some(vec![0.0, 0.0]));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.evidence[0].contains("2 of the app's pods"), "{f:#?}");
    // Scraped, the metric not there yet (a counter appears on its first increment).
    assert_eq!(with(0, Some(vec![1.0])).status, Status::Warn);
    // Another collector: kedactl does not know its labels.
    assert_eq!(with(0, None).status, Status::Warn);
    let f = with(1, None);
    assert_eq!(f.status, Status::Ok);
    assert!(f.evidence.iter().any(|e| e.contains("1 series")), "{f:#?}");
    let unread = amp_findings(|e, _| {
        e.scraped
            .insert("security/q-read".into(), Err("timed out".into()));
    });
    assert_eq!(amp_status(&unread, "KD049"), Status::Skipped);
}

/// An example config's stack as `up` leaves it: every trigger resource live and ACTIVE, the
/// metric read.
fn example(yaml: &str) -> (Desired, Evidence) {
    let mut spec = crate::spec::parse(yaml.as_bytes(), "example").unwrap();
    spec.account = Some("123456789012".into());
    let offline = render::desired(&spec).unwrap();
    let mut o = Observed::default();
    for r in &offline.resources {
        o.resources.insert(
            r.id(),
            crate::observed::Resource {
                id: r.name.clone(),
                arn: format!("arn:aws:{}", r.id()),
                status: "ACTIVE".into(),
                endpoint: None,
                tags: offline.shared_tags(),
                ..Default::default()
            },
        );
    }
    let d = render::desired_with(&spec, &o).unwrap();
    let mut e = healthy(&d);
    e.observed.resources = o.resources;
    for t in &d.triggers {
        e.metric_reads.insert(t.app.clone(), Ok("read".into()));
    }
    (d, e)
}

fn status_of(d: &Desired, e: &Evidence, code: &str) -> Finding {
    checks::run(d, e)
        .into_iter()
        .find(|f| f.code == code)
        .unwrap()
}

#[test]
fn every_example_is_healthy_and_one_fault_per_kind_is_found() {
    let examples = [
        ("amp", include_str!("../../examples/amp.yaml")),
        ("kinesis", include_str!("../../examples/kinesis.yaml")),
        ("cloudwatch", include_str!("../../examples/cloudwatch.yaml")),
        ("dynamodb", include_str!("../../examples/dynamodb.yaml")),
        (
            "dynamodb-streams",
            include_str!("../../examples/dynamodb-streams.yaml"),
        ),
    ];
    for (name, yaml) in examples {
        let (d, e) = example(yaml);
        for code in ["KD046", "KD047", "KD048", "KD049"] {
            let f = status_of(&d, &e, code);
            assert!(
                matches!(f.status, Status::Ok | Status::NotApplicable),
                "{name} {code}: {f:#?}"
            );
        }
        // The grant goes: KEDA's session may no longer read the source.
        let mut no_grant = e.clone();
        let role = &d.triggers[0].role;
        no_grant
            .observed
            .roles
            .get_mut(role)
            .unwrap()
            .inline
            .clear();
        assert_eq!(
            status_of(&d, &no_grant, "KD047").status,
            Status::Fail,
            "{name}"
        );
        // The source goes (for the kinds that read one).
        if !d.resources.is_empty() {
            let mut gone = e.clone();
            gone.observed.resources.clear();
            assert_eq!(status_of(&d, &gone, "KD046").status, Status::Fail, "{name}");
        }
    }
}

mod apps;
mod guardrails;
mod workload;
// Issue 25: each class where doctor disagreed with AWS's evaluation logic, through the checks.

const OPERATOR_ARN: &str = "arn:aws:iam::123456789012:role/keda-operator";
const IDENTITY_ARN: &str = "arn:aws:iam::123456789012:role/keda-identity";
const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:event-messages-queue";

fn role<'a>(e: &'a mut Evidence, name: &str) -> &'a mut Role {
    e.observed.roles.get_mut(name).unwrap()
}

fn queue_policy(e: &mut Evidence, doc: Value) {
    let q = e.observed.queues.get_mut("event-messages-queue").unwrap();
    q.attributes.insert("Policy".into(), doc.to_string());
}

/// The identity trust's statement for keda-operator, to edit.
fn operator_statement(e: &mut Evidence) -> &mut Value {
    trust_of(e, "keda-identity")["Statement"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| !s["Principal"]["AWS"].is_null())
        .unwrap()
}

#[test]
fn class_1_for_any_value_on_an_absent_key_is_false() {
    // The only grant to keda-operator hangs on a key its session does not carry.
    let f = fails(|e, _| {
        operator_statement(e)["Condition"] =
            json!({"ForAnyValue:StringNotEqualsIfExists": {"aws:PrincipalTag/absent": "x"}});
    });
    assert_eq!(f, ["KD010", "KD011"]);
}

#[test]
fn class_2_a_deny_on_the_roles_own_tag_applies() {
    // Every role of the stack carries app.kubernetes.io/managed-by=kedactl: a principal tag.
    let f = finding("KD015", |e, _| {
        role(e, "keda-identity").inline.insert("guard".into(), json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotKedactls", "Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/app.kubernetes.io/managed-by": "kedactl"}}}]}));
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].contains("policy guard, statement NotKedactls"),
        "{f:#?}"
    );
}

#[test]
fn class_3_policy_variables_are_substituted_in_conditions() {
    // kubernetes-namespace is "keda", the service account "keda-operator": not equal.
    let f = fails(|e, _| {
        operator_statement(e)["Condition"] = json!({"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "${aws:PrincipalTag/kubernetes-service-account}"}});
    });
    assert_eq!(f, ["KD010", "KD011"]);
    assert!(fails(|e, _| {
        operator_statement(e)["Condition"] = json!({"StringLike": {"aws:PrincipalTag/kubernetes-service-account": "${aws:PrincipalTag/kubernetes-namespace}-*"}});
    })
    .is_empty());
}

/// The identity trust names the account root instead of keda-operator.
fn root_trust(e: &mut Evidence) {
    operator_statement(e)["Principal"]["AWS"] = "arn:aws:iam::123456789012:root".into();
}

#[test]
fn class_4_the_chain_needs_tag_session_on_the_operators_side_too() {
    // Through the root, keda-operator's own policy allows AssumeRole only.
    let f = finding("KD012", |e, _| {
        root_trust(e);
        role(e, "keda-operator").inline = [(
            "assume".to_string(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": IDENTITY_ARN}]}),
        )]
        .into();
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("must allow sts:TagSession")),
        "{f:#?}"
    );
    // A Deny on TagSession in its own policies stops the chain even with a direct trust.
    let f = finding("KD012", |e, _| {
        role(e, "keda-operator").inline.insert("guard".into(), json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoTags", "Effect": "Deny", "Action": "sts:TagSession", "Resource": "*"}]}));
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.evidence[0].contains("deny sts:TagSession"), "{f:#?}");
}

#[test]
fn class_5_a_boundary_caps_a_trust_that_names_the_role() {
    let f = finding("KD012", |e, _| {
        let r = role(e, "keda-operator");
        let arn = "arn:aws:iam::123456789012:policy/sqs-only".to_string();
        r.managed.insert(arn.clone(), json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}));
        r.boundary = Some(arn);
    });
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.evidence[0].contains("permissions boundary sqs-only"),
        "{f:#?}"
    );
}

#[test]
fn class_6_a_deny_naming_the_account_root_applies_to_the_operator() {
    let f = fails(|e, _| {
        trust_of(e, "keda-identity")["Statement"].as_array_mut().unwrap().push(json!({"Sid": "NoChains", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}));
    });
    assert_eq!(f, ["KD010"]);
}

#[test]
fn class_7_an_allow_on_the_roles_own_tag_holds() {
    assert!(fails(|e, _| {
        role(e, "keda-identity").inline = [(
            "read".to_string(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": QUEUE_ARN, "Condition": {"StringEquals": {"aws:PrincipalTag/app.kubernetes.io/managed-by": "kedactl"}}}]}),
        )]
        .into();
    })
    .is_empty());
}

#[test]
fn class_8_a_variable_in_an_sqs_resource_is_substituted() {
    assert!(fails(|e, _| {
        role(e, "keda-identity").tags.insert("queue".into(), "event-messages-queue".into());
        role(e, "keda-identity").inline = [(
            "read".to_string(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:GetQueueAttributes", "Resource": "arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:${aws:PrincipalTag/queue}"}]}),
        )]
        .into();
    })
    .is_empty());
}

#[test]
fn class_9_the_queue_policy_alone_grants_within_the_account() {
    assert!(fails(|e, _| {
        role(e, "keda-identity").inline.clear();
        queue_policy(e, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": IDENTITY_ARN}, "Action": "sqs:GetQueueAttributes", "Resource": QUEUE_ARN}]}));
    })
    .is_empty());
}

#[test]
fn class_10_a_queue_policy_deny_applies_to_the_principals_it_names() {
    let deny = |who: &str| {
        let who = who.to_string();
        move |e: &mut Evidence, _: &Desired| {
            queue_policy(
                e,
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotYou", "Effect": "Deny", "Principal": {"AWS": who}, "Action": "sqs:*", "Resource": QUEUE_ARN}]}),
            );
        }
    };
    assert!(fails(deny(OPERATOR_ARN)).is_empty());
    let f = finding("KD015", deny(IDENTITY_ARN));
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("queue policy of event-messages-queue, statement NotYou"),
        "{f:#?}"
    );
}

#[test]
fn knowable_request_keys_are_decided_not_warned() {
    // Conditions on what kedactl can know about the pod's request pass outright.
    assert!(flagged(|e, _| {
        let t = trust_of(e, "keda-operator");
        t["Statement"][0]["Condition"] = json!({
            "Bool": {"aws:SecureTransport": "true"},
            "Null": {"aws:RequestTag/kubernetes-pod-uid": "false"},
            "StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:ResourceAccount": "123456789012", "aws:SourceAccount": "123456789012"},
            "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
            "ForAllValues:StringLike": {"aws:TagKeys": ["eks-*", "kubernetes-*"]}
        });
    })
    .is_empty());
    // A pod's name stays unknowable: a warning naming the key.
    let f = finding("KD008", |e, _| {
        trust_of(e, "keda-operator")["Statement"][0]["Condition"] =
            json!({"StringLike": {"aws:RequestTag/kubernetes-pod-name": "keda-operator-*"}});
    });
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.evidence[0].contains("aws:RequestTag/kubernetes-pod-name"),
        "{f:#?}"
    );
}

#[test]
fn a_trust_that_admits_too_much_fails_kd008() {
    for (principal, what) in [
        (
            json!({"Service": "pods.eks.amazonaws.com"}),
            "any pod of any cluster",
        ),
        (json!({"AWS": "*"}), "any AWS principal"),
    ] {
        let f = finding("KD008", |e, _| {
            trust_of(e, "keda-identity")["Statement"]
                .as_array_mut()
                .unwrap()
                .push(json!({"Sid": "ByHand", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}));
        });
        assert_eq!(f.status, Status::Fail, "{f:#?}");
        assert!(
            f.evidence.iter().any(
                |e| e.contains("trust of keda-identity, statement ByHand, lets")
                    && e.contains(what)
            ),
            "{f:#?}"
        );
        assert!(f.fix.as_deref().unwrap().contains("--adopt"), "{f:#?}");
    }
}

#[test]
fn evidence_names_the_principal_the_trust_names_instead() {
    let f = finding("KD008", |e, _| {
        trust_of(e, "keda-operator")["Statement"][0]["Principal"] =
            json!({"Service": "ec2.amazonaws.com"});
    });
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("no statement names pods.eks.amazonaws.com for sts:AssumeRole; it names ec2.amazonaws.com"),
        "{f:#?}"
    );
}

/// An IRSA stack as `up` leaves it: the provider, the annotated service accounts, the pods with
/// the web identity the webhook injects; no add-on or associations.
fn healthy_irsa() -> (Desired, Evidence) {
    let mut spec = spec();
    spec.auth_mode = crate::spec::AuthMode::Irsa;
    spec.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
    let d = render::desired(&spec).unwrap();
    let mut e = healthy(&d);
    e.observed.addon = None;
    e.observed.associations.clear();
    let p = d.oidc_provider.as_ref().unwrap();
    e.observed.oidc_provider = Some(crate::observed::OidcProvider {
        arn: p.arn.clone(),
        url: p.host.clone(),
        client_ids: vec!["sts.amazonaws.com".into()],
        tags: ownership(&d.stack),
    });
    let role = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    let web = |arn: String| {
        json!([{"name": "AWS_ROLE_ARN", "value": arn},
               {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}])
    };
    let c = cluster(&mut e);
    c.operator_sa = Some(
        json!({"metadata": {"name": "keda-operator", "namespace": "keda",
        "annotations": {"eks.amazonaws.com/role-arn": role("keda-operator")}}}),
    );
    c.operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] = web(role("keda-operator"));
    c.apps
        .values_mut()
        .next()
        .unwrap()
        .app_pod
        .as_mut()
        .unwrap()["spec"]["containers"][0]["env"] = web(role("keda-identity"));
    c.agent = None;
    (d, e)
}

/// The finding of check `code` on evidence `e`.
fn finding_of(d: &Desired, e: &Evidence, code: &str) -> Finding {
    checks::run(d, e)
        .into_iter()
        .find(|f| f.code == code)
        .unwrap()
}

/// Codes that do not pass (fail or warn) on the IRSA stack after `fault`.
fn irsa_fails(fault: impl FnOnce(&mut Evidence, &Desired)) -> Vec<&'static str> {
    let (d, mut e) = healthy_irsa();
    fault(&mut e, &d);
    checks::run(&d, &e)
        .into_iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .map(|f| f.code)
        .collect()
}

#[test]
fn a_healthy_irsa_stack_passes_the_irsa_checks() {
    assert_eq!(irsa_fails(|_, _| {}), Vec::<&str>::new());
    let (d, e) = healthy_irsa();
    let found = checks::run(&d, &e);
    for code in ["KD051", "KD052", "KD053", "KD054"] {
        let f = found.iter().find(|f| f.code == code).unwrap();
        assert_eq!(f.status, Status::Ok, "{f:#?}");
    }
}

#[test]
fn kd051_the_provider_is_missing_or_lacks_the_audience() {
    let gone = |e: &mut Evidence, _: &Desired| e.observed.oidc_provider = None;
    assert_eq!(irsa_fails(gone), ["KD051"]);
    let (d, mut e) = healthy_irsa();
    gone(&mut e, &d);
    let f = finding_of(&d, &e, "KD051");
    assert!(
        f.fix.as_deref().unwrap().contains(
            "aws iam create-open-id-connect-provider --url https://oidc.eks.us-east-1.amazonaws.com/id/ABC --client-id-list sts.amazonaws.com"
        ),
        "{f:#?}"
    );
    assert_eq!(
        f.repairs,
        [Repair::Converge(
            "iam:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC".into()
        )]
    );
    assert_eq!(
        irsa_fails(
            |e, _| e.observed.oidc_provider.as_mut().unwrap().client_ids = vec!["other".into()]
        ),
        ["KD051"]
    );
    // A refused read is could-not-check, not a pass or a failure.
    let (d, mut e) = healthy_irsa();
    gone(&mut e, &d);
    e.observed.denied.push(crate::observed::Denied {
        operation: "ListOpenIDConnectProviders".into(),
        resource: "IAM OIDC provider oidc.eks.us-east-1.amazonaws.com/id/ABC".into(),
        message: "AccessDenied".into(),
    });
    let f = finding_of(&d, &e, "KD051");
    assert_eq!(f.status, Status::Skipped, "{f:#?}");
}

#[test]
fn kd052_a_trust_for_another_issuer_or_service_account() {
    // Written for another cluster's issuer: the provider it names is not this cluster's.
    let other = |e: &mut Evidence, _: &Desired| {
        let t = trust_of(e, "keda-operator");
        let text = t.to_string().replace("/id/ABC", "/id/ABCDEF0123456789");
        *t = serde_json::from_str(&text).unwrap();
    };
    assert_eq!(irsa_fails(other), ["KD052"]);
    let (d, mut e) = healthy_irsa();
    other(&mut e, &d);
    let f = finding_of(&d, &e, "KD052");
    assert!(f.evidence[0].contains("id/ABCDEF0123456789"), "{f:#?}");
    assert_eq!(
        f.repairs,
        [Repair::Converge("iam:role/keda-operator".into())]
    );
    // The sub names another service account; the aud another audience.
    assert_eq!(
        irsa_fails(|e, _| {
            trust_of(e, "keda-identity")["Statement"][0]["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"] =
                json!("system:serviceaccount:security:other");
        }),
        ["KD052"]
    );
    assert_eq!(
        irsa_fails(|e, _| {
            trust_of(e, "keda-identity")["Statement"][0]["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:aud"] =
                json!("pods.eks.amazonaws.com");
        }),
        ["KD052"]
    );
}

#[test]
fn kd053_a_service_account_without_its_role() {
    assert_eq!(
        irsa_fails(
            |e, _| cluster(e).operator_sa.as_mut().unwrap()["metadata"]["annotations"] = json!({})
        ),
        ["KD053"]
    );
    let app_sa = |e: &mut Evidence, _: &Desired| {
        let sa = e
            .observed
            .objects
            .iter_mut()
            .find(|o| o["kind"] == "ServiceAccount")
            .unwrap();
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] =
            json!("arn:aws:iam::123456789012:role/old");
    };
    assert_eq!(irsa_fails(app_sa), ["KD053"]);
    let (d, mut e) = healthy_irsa();
    app_sa(&mut e, &d);
    let f = finding_of(&d, &e, "KD053");
    assert_eq!(
        f.repairs,
        [Repair::Converge(
            "app:ServiceAccount/security/my-sqs-read-msgs".into()
        )]
    );
}

#[test]
fn kd054_a_pod_without_web_identity() {
    let (d, mut e) = healthy_irsa();
    cluster(&mut e).operator_pod.as_mut().unwrap()["spec"]["containers"][0]["env"] = json!([]);
    let f = finding_of(&d, &e, "KD054");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence[0].contains("lacks AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{f:#?}"
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("kubectl rollout restart deployment/keda-operator -n keda")
    );
    assert_eq!(f.repairs, [Repair::Restart("keda/keda-operator".into())]);
    // The app's pod with an old role.
    assert_eq!(
        irsa_fails(
            |e, _| app(e).app_pod.as_mut().unwrap()["spec"]["containers"][0]["env"][0]["value"] =
                json!("arn:aws:iam::123456789012:role/old")
        ),
        ["KD054"]
    );
}
