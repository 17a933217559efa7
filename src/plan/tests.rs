use super::*;
use crate::model::ownership;
use crate::spec::Spec;
use observed::{Addon, Association, Keda, Queue, Repository, Role};

pub(super) fn desired() -> Desired {
    let spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    render::desired(&spec).unwrap()
}

/// What the account and cluster look like after a successful `up`, as AWS reports it
/// (one-item lists as strings, server-added fields on objects).
pub(super) fn converged(d: &Desired) -> Observed {
    let tags = ownership(&d.stack);
    Observed {
        caller: None,
        cluster: None,
        denied: vec![],
        unread: vec![],
        image_tags: Default::default(),
        kms_aliases: Default::default(),
        unknown_aliases: vec![],
        oidc_provider: None,
        oidc_trusted_by: None,
        addon: Some(Addon {
            status: "ACTIVE".into(),
            issues: vec![],
            tags: tags.clone(),
        }),
        roles: d
            .roles
            .iter()
            .map(|r| {
                let trust = r.trust.body.clone();
                let role = Role {
                    arn: r.arn.clone(),
                    trust,
                    inline: r
                        .policies
                        .iter()
                        .map(|p| (p.name.clone(), p.body.clone()))
                        .collect(),
                    attached: r.managed_policies.clone(),
                    managed: Default::default(),
                    boundary: r.boundary.clone(),
                    // What `up` leaves: the config's tags and a record of each policy it attached.
                    tags: d
                        .aws_tags()
                        .into_iter()
                        .chain(r.managed_policies.iter().map(|p| render::attached_tag(p)))
                        .collect(),
                    path: Some(r.path.clone()),
                };
                (r.name.clone(), role)
            })
            .collect(),
        queues: d
            .queues
            .iter()
            .map(|q| {
                let mut attributes = q.attributes.clone();
                for k in [
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ] {
                    attributes.insert(k.into(), "0".into());
                }
                let queue = Queue {
                    url: q.url.clone(),
                    attributes,
                    tags: d.shared_tags(),
                };
                (q.name.clone(), queue)
            })
            .collect(),
        repositories: d
            .repositories
            .iter()
            .map(|r| {
                let repo = Repository {
                    arn: format!("arn:aws:ecr:us-east-1:123456789012:repository/{}", r.name),
                    images: 0,
                    tags: d.shared_tags(),
                };
                (r.name.clone(), repo)
            })
            .collect(),
        associations: d
            .associations
            .iter()
            .enumerate()
            .map(|(i, a)| Association {
                id: format!("a-{i}"),
                namespace: a.namespace.clone(),
                service_account: a.service_account.clone(),
                role_arn: a.role_arn.clone(),
                tags: d.aws_tags(),
                modified_at: None,
                session_tags_disabled: false,
                target_role_arn: None,
            })
            .collect(),
        keda_unknown: None,
        keda: Some(Keda {
            namespace: "keda".into(),
            version: "2.20.2".into(),
            installed_by: Some(d.stack.clone()),
            objects: vec![],
            release: None,
            missing: vec![],
            values: None,
        }),
        objects: d
            .manifests
            .iter()
            .map(|m| {
                let mut o = m.clone();
                o["metadata"]["uid"] = "0000".into();
                o["status"] = serde_json::json!({});
                o
            })
            .collect(),
        workloads_read: true,
        namespace_contents: Default::default(),
        namespace_unchecked: Default::default(),
        resources: Default::default(),
        data: Default::default(),
        policies: Default::default(),
    }
}

/// `down --force`: an AMP workspace's metrics cannot be counted, so it goes only with it.
fn forced() -> super::teardown::Options {
    super::teardown::Options {
        force: true,
        ..Default::default()
    }
}

fn ids(p: &Plan) -> Vec<&str> {
    p.steps.iter().map(|s| s.id.as_str()).collect()
}

#[test]
fn an_empty_account_gets_the_whole_stack_in_dependency_order() {
    let p = plan(&desired(), &Observed::default(), &Options::default()).unwrap();
    assert_eq!(
        ids(&p),
        [
            "eks:addon/eks-pod-identity-agent",
            "eks:addon/eks-pod-identity-agent/wait",
            "iam:role/keda-operator",
            "iam:role/keda-operator/policy/kedactl-assume-identity",
            "iam:role/keda-identity",
            "iam:role/keda-identity/policy/kedactl-sqs-access",
            "queue:event-messages-queue",
            "registry:keda-pod-identity-registry",
            "eks:association/keda/keda-operator",
            "eks:association/security/my-sqs-read-msgs",
            "keda:install",
            "keda:verify",
            "app:Namespace/security",
            "app:ServiceAccount/security/my-sqs-read-msgs",
            "app:Deployment/security/q-read",
            "app:TriggerAuthentication/security/q-read-trigger-auth",
            "app:ScaledObject/security/k8s-sqs-read-msg-keda",
        ]
    );
    // Every dependency points backwards: the list is a valid execution order.
    for (i, s) in p.steps.iter().enumerate() {
        for a in &s.after {
            let j = p.steps.iter().position(|t| &t.id == a).unwrap();
            assert!(j < i, "{} runs after {}", s.id, a);
        }
    }
    let step = |id: &str| p.steps.iter().find(|s| s.id == id).unwrap();
    assert_eq!(
        step("iam:role/keda-identity").after,
        ["iam:role/keda-operator"]
    );
    assert_eq!(
        step("keda:install").after,
        [
            "eks:association/keda/keda-operator",
            "eks:addon/eks-pod-identity-agent/wait"
        ]
    );
    assert_eq!(
        p.counts(),
        Counts {
            create: 15,
            update: 0,
            delete: 0,
            run: 2
        }
    );
}

#[test]
fn a_converged_stack_plans_nothing() {
    let d = desired();
    let p = plan(&d, &converged(&d), &Options::default()).unwrap();
    assert!(p.is_empty(), "{:#?}", ids(&p));
}

#[test]
fn trust_drift_is_repaired_in_place() {
    let d = desired();
    let mut o = converged(&d);
    o.roles.get_mut("keda-identity").unwrap().trust["Statement"][1]["Action"] =
        "sts:AssumeRole".into();
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["iam:role/keda-identity/trust"]);
    assert_eq!(p.steps[0].change, Change::Update);
}

#[test]
fn a_missing_inline_policy_is_put_back() {
    let d = desired();
    let mut o = converged(&d);
    o.roles.get_mut("keda-identity").unwrap().inline.clear();
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(
        ids(&p),
        ["iam:role/keda-identity/policy/kedactl-sqs-access"]
    );
    assert_eq!(p.steps[0].change, Change::Create);
}

#[test]
fn resources_of_others_are_conflicts_unless_adopted() {
    let d = desired();
    let mut o = converged(&d);
    o.roles.get_mut("keda-operator").unwrap().tags.clear();
    o.queues.get_mut("event-messages-queue").unwrap().tags = ownership("other");
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    let resources: Vec<&str> = err.conflicts.iter().map(|c| c.resource.as_str()).collect();
    assert_eq!(
        resources,
        ["IAM role keda-operator", "SQS queue event-messages-queue"]
    );
    assert!(err.conflicts[1].reason.contains("stack \"other\""));
    assert!(err.to_string().contains("--adopt"));

    let p = plan(
        &d,
        &o,
        &Options {
            adopt: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(
        ids(&p),
        [
            "iam:role/keda-operator/tags",
            "queue:event-messages-queue/tags"
        ]
    );
}

#[test]
fn a_reassociated_service_account_restarts_its_pods() {
    let d = desired();
    let mut o = converged(&d);
    for a in &mut o.associations {
        a.role_arn = "arn:aws:iam::123456789012:role/old".into();
    }
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(
        ids(&p),
        [
            "eks:association/keda/keda-operator",
            "eks:association/security/my-sqs-read-msgs",
            "keda:restart",
            "keda:verify",
            "app:Deployment/security/q-read/restart",
        ]
    );
    assert!(
        matches!(p.steps[0].action, Action::UpdateAssociation { ref association_id, .. } if association_id == "a-0")
    );
}

#[test]
fn without_the_eks_group_unobserved_associations_restart_nothing() {
    let d = desired();
    let mut o = converged(&d);
    o.associations.clear(); // what observation leaves when eks is not in --only
    let only = Options {
        only: crate::model::Only::new(vec![Group::Keda, Group::App]),
        ..Options::default()
    };
    assert!(plan(&d, &o, &only).unwrap().is_empty());
}

#[test]
fn queue_attribute_drift_and_equivalent_redrive_policies() {
    assert!(same_attribute(
        "RedrivePolicy",
        r#"{"deadLetterTargetArn":"arn:q","maxReceiveCount":5}"#,
        Some(&r#"{"deadLetterTargetArn": "arn:q", "maxReceiveCount": "5"}"#.to_string())
    ));
    assert!(!same_attribute(
        "VisibilityTimeout",
        "30",
        Some(&"60".to_string())
    ));
    let d = desired();
    let mut o = converged(&d);
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .attributes
        .insert("VisibilityTimeout".into(), "60".into());
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["queue:event-messages-queue/attributes"]);
}

#[test]
fn a_changed_object_is_applied_and_a_foreign_namespace_is_left_alone() {
    let d = desired();
    let mut o = converged(&d);
    let so = o
        .objects
        .iter_mut()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap();
    so["spec"]["maxReplicaCount"] = 3.into();
    let ns = o
        .objects
        .iter_mut()
        .find(|m| m["kind"] == "Namespace")
        .unwrap();
    ns["metadata"]["labels"] = serde_json::json!({});
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["app:ScaledObject/security/k8s-sqs-read-msg-keda"]);
    assert_eq!(p.steps[0].change, Change::Update);
}

#[test]
fn only_keeps_the_chosen_groups_and_their_internal_order() {
    let only = Only::new(vec![Group::Iam, Group::Queue]);
    let p = plan(
        &desired(),
        &Observed::default(),
        &Options {
            only,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        p.steps
            .iter()
            .all(|s| matches!(s.group, Group::Iam | Group::Queue))
    );
    assert_eq!(p.steps.len(), 5);
    let app_only = Only::new(vec![Group::App]);
    let p = plan(
        &desired(),
        &Observed::default(),
        &Options {
            only: app_only,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        p.steps
            .iter()
            .all(|s| s.after.iter().all(|a| a.starts_with("app:")))
    );
}

#[test]
fn summaries_name_the_principals() {
    let p = plan(&desired(), &Observed::default(), &Options::default()).unwrap();
    assert_eq!(
        p.steps[4].summary,
        "create IAM role keda-identity (trusted by pods.eks.amazonaws.com for security/my-sqs-read-msgs, role keda-operator)"
    );
}

#[test]
fn a_removed_ownership_tag_is_put_back() {
    let d = desired();
    let mut o = converged(&d);
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .tags
        .remove(crate::model::MANAGED_BY);
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["queue:event-messages-queue/tags"]);
    assert_eq!(
        p.steps[0].summary,
        "tag SQS queue event-messages-queue as owned by this stack"
    );
}

#[test]
fn auto_mode_clusters_get_no_agent_add_on() {
    let d = desired();
    let o = Observed {
        cluster: Some(observed::Cluster {
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
        }),
        ..Observed::default()
    };
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert!(
        !ids(&p).iter().any(|i| i.starts_with("eks:addon")),
        "{:?}",
        ids(&p)
    );
    // The associations and the credential check stay.
    assert!(ids(&p).contains(&"eks:association/keda/keda-operator"));
    assert!(ids(&p).contains(&"keda:verify"));
}

#[test]
fn a_keda_this_stack_installed_that_lost_its_operator_is_installed_again() {
    let d = desired();
    let mut o = converged(&d);
    let k = o.keda.as_mut().unwrap();
    k.missing = vec!["Deployment keda/keda-operator".into()];
    k.release = Some(observed::Release {
        revision: 1,
        status: "failed".into(),
    });
    let p = plan(&d, &o, &Options::default()).unwrap();
    let step = p.steps.iter().find(|s| s.id == "keda:install").unwrap();
    assert_eq!(step.change, Change::Update);
    assert!(
        step.summary
            .starts_with("repair (helm upgrade --install) KEDA 2.20.2")
    );
    assert!(ids(&p).contains(&"keda:verify"));
    // Someone else's: left as it is (`up` refuses before planning; see keda::check).
    o.keda.as_mut().unwrap().installed_by = None;
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
}

fn irsa() -> (Desired, Observed) {
    let spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        auth_mode: AuthMode::Irsa,
        oidc_issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into()),
        ..Spec::default()
    };
    let d = render::desired(&spec).unwrap();
    let mut o = converged(&d);
    for r in &d.roles {
        o.roles.get_mut(&r.name).unwrap().trust = r.trust.body.clone();
    }
    let operator = d.roles.iter().find(|r| r.purpose == RolePurpose::Operator);
    o.objects.push(
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "keda-operator", "namespace": "keda",
                     "annotations": {IRSA_ANNOTATION: operator.unwrap().arn}}}),
    );
    let p = d.oidc_provider.as_ref().unwrap();
    o.oidc_provider = Some(crate::observed::OidcProvider {
        arn: p.arn.clone(),
        url: p.host.clone(),
        client_ids: vec!["sts.amazonaws.com".into()],
        tags: crate::model::ownership(&d.stack),
    });
    (d, o)
}

#[test]
fn irsa_creates_the_oidc_provider_before_any_trust_names_it() {
    let (d, mut o) = irsa();
    // Someone else's provider (eksctl's: no tags) is used as it is.
    o.oidc_provider.as_mut().unwrap().tags.clear();
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());

    // An empty account: the provider first, tagged, with STS's audience and no thumbprint.
    let p = plan(&d, &Observed::default(), &Options::default()).unwrap();
    let id = "iam:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
    let step = p
        .steps
        .iter()
        .find(|s| s.id == id)
        .expect("a provider step");
    assert_eq!(
        step.action,
        Action::CreateOidcProvider {
            url: "https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into(),
            client_ids: vec!["sts.amazonaws.com".into()],
            tags: d.tags.clone(),
        }
    );
    assert_eq!((step.group, step.change), (Group::Iam, Change::Create));
    for r in &d.roles {
        let role = p
            .steps
            .iter()
            .find(|s| s.id == format!("iam:role/{}", r.name));
        assert!(role.unwrap().after.contains(&id.to_string()), "{:?}", role);
    }
    // A trust to rewrite waits for it too.
    let mut stale = o.clone();
    stale.oidc_provider = None;
    stale.roles.values_mut().next().unwrap().trust = serde_json::json!({"Statement": []});
    let p = plan(&d, &stale, &Options::default()).unwrap();
    let update = p.steps.iter().find(|s| s.id.ends_with("/trust")).unwrap();
    assert!(update.after.contains(&id.to_string()), "{update:?}");
    // Pod Identity has none.
    let pod_identity = Spec {
        auth_mode: AuthMode::PodIdentity,
        oidc_issuer: None,
        ..Spec::default()
    };
    let pd = render::desired(&Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        ..pod_identity
    })
    .unwrap();
    let p = plan(&pd, &Observed::default(), &Options::default()).unwrap();
    assert!(
        !p.steps
            .iter()
            .any(|s| s.id.starts_with("iam:oidc-provider"))
    );
}

#[test]
fn irsa_restarts_whoever_reads_a_changed_role_annotation() {
    let (d, o) = irsa();
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert!(p.is_empty(), "{:?}", ids(&p));

    // The app's service account names an old role: apply it, then restart its Deployment.
    let mut app = o.clone();
    let sa = app
        .objects
        .iter_mut()
        .find(|m| m["kind"] == "ServiceAccount" && m["metadata"]["namespace"] == "security")
        .unwrap();
    sa["metadata"]["annotations"][IRSA_ANNOTATION] = "arn:aws:iam::123456789012:role/old".into();
    let p = plan(&d, &app, &Options::default()).unwrap();
    assert_eq!(
        ids(&p),
        [
            "app:ServiceAccount/security/my-sqs-read-msgs",
            "app:Deployment/security/q-read/restart"
        ]
    );

    // The operator's: helm sets the annotation again, then the operator restarts.
    let mut op = o.clone();
    let sa = op
        .objects
        .iter_mut()
        .find(|m| m["kind"] == "ServiceAccount" && m["metadata"]["namespace"] == "keda")
        .unwrap();
    sa["metadata"]["annotations"] = serde_json::json!({});
    let p = plan(&d, &op, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["keda:install", "keda:restart", "keda:verify"]);
    assert!(
        p.steps[1].summary.contains("named no role"),
        "{}",
        p.steps[1].summary
    );
    // The restarted pods are checked for IRSA's variables, not Pod Identity's.
    assert!(
        matches!(p.steps[2].action, Action::VerifyIrsa { .. }),
        "{:?}",
        p.steps[2].action
    );
    // A KEDA someone else installed is theirs to fix.
    op.keda.as_mut().unwrap().installed_by = None;
    let err = plan(&d, &op, &Options::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("ServiceAccount keda/keda-operator")
            && err.to_string().contains("podIdentity.aws.irsa.roleArn"),
        "{err}"
    );
}

#[test]
fn an_association_with_session_tags_disabled_is_drift() {
    let d = desired();
    let mut o = converged(&d);
    o.associations[0].session_tags_disabled = true;
    let p = plan(&d, &o, &Options::default()).unwrap();
    let step = p
        .steps
        .iter()
        .find(|s| s.id == "eks:association/keda/keda-operator")
        .unwrap();
    assert_eq!(step.change, Change::Update);
    assert!(matches!(step.action, Action::UpdateAssociation { .. }));
    // The operator restarts to pick up credentials with tags.
    assert!(ids(&p).contains(&"keda:restart"), "{:?}", ids(&p));
}

/// The same stack rendered for another cluster of the account.
fn desired_for(cluster: &str) -> Desired {
    let spec = Spec {
        cluster: Some(cluster.into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    render::desired(&spec).unwrap()
}

/// `observed` after `plan`'s IAM trust and queue/repository tag steps ran.
fn applied(mut o: Observed, p: &Plan) -> Observed {
    for s in &p.steps {
        match &s.action {
            Action::UpdateTrustPolicy { role, trust, .. } => {
                o.roles.get_mut(role).unwrap().trust = trust.clone();
            }
            Action::TagQueue { queue, tags, .. } => {
                o.queues.get_mut(queue).unwrap().tags.extend(tags.clone());
            }
            Action::TagRepository {
                repository, tags, ..
            } => {
                let r = o.repositories.get_mut(repository).unwrap();
                r.tags.extend(tags.clone());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    o
}

#[test]
fn a_second_cluster_adds_its_trust_statements_and_keeps_the_firsts() {
    let (a, b) = (desired(), desired_for("b"));
    let only = Options {
        only: Only::new(vec![Group::Iam, Group::Queue, Group::Registry]),
        ..Options::default()
    };
    let o = converged(&a);
    let p = plan(&b, &o, &only).unwrap();
    assert_eq!(
        ids(&p),
        [
            "iam:role/keda-operator/trust",
            "iam:role/keda-identity/trust",
            "queue:event-messages-queue/tags",
            "registry:keda-pod-identity-registry/tags",
        ]
    );
    let Action::UpdateTrustPolicy { trust, .. } = &p.steps[1].action else {
        panic!()
    };
    let sids = |t: &Value| -> Vec<String> {
        t["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap().to_string())
            .collect()
    };
    let a_sids = sids(&a.roles[1].trust.body);
    let b_sids = sids(&b.roles[1].trust.body);
    assert_eq!(sids(trust), [&a_sids[..], &b_sids[..1]].concat());
    // Both clusters converged: neither plans anything, whichever runs next.
    let o = applied(o, &p);
    assert!(plan(&a, &o, &only).unwrap().is_empty());
    assert!(plan(&b, &o, &only).unwrap().is_empty());
    let tags = &o.queues["event-messages-queue"].tags;
    assert!(
        tags.contains_key("kedactl.io/cluster/demo") && tags.contains_key("kedactl.io/cluster/b")
    );
}

#[test]
fn an_owned_role_keeps_foreign_statements_an_adopted_one_gets_only_ours() {
    let d = desired();
    let mut o = converged(&d);
    let person = serde_json::json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    let role = o.roles.get_mut("keda-operator").unwrap();
    role.trust["Statement"]
        .as_array_mut()
        .unwrap()
        .push(person.clone());
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());

    let role = o.roles.get_mut("keda-operator").unwrap();
    role.tags.clear();
    let adopt = Options {
        adopt: true,
        ..Options::default()
    };
    let p = plan(&d, &o, &adopt).unwrap();
    let trust = p
        .steps
        .iter()
        .find_map(|s| match &s.action {
            Action::UpdateTrustPolicy { trust, .. } => Some(trust),
            _ => None,
        })
        .unwrap();
    assert_eq!(trust, &d.roles[0].trust.body);
}

#[test]
fn a_merged_trust_over_the_quota_is_refused_before_any_change() {
    let a = desired();
    let mut b = desired_for("b");
    // Cluster a's statements plus b's: over a (lowered, for the test) quota.
    b.trust_policy_quota = a.roles[1].trust.body.to_string().len() + 100;
    let only = Options {
        only: Only::new(vec![Group::Iam]),
        ..Options::default()
    };
    let err = plan(&b, &converged(&a), &only).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("IAM role keda-identity: its trust policy would be")
            && text.contains("over the account's quota")
            && !text.contains("--adopt"),
        "{text}"
    );
}

#[test]
fn inline_policies_of_others_that_leave_no_room_for_ours_are_refused_before_any_change() {
    let d = desired();
    let mut o = converged(&d);
    let role = o.roles.get_mut(&d.roles[1].name).unwrap();
    // Someone's own inline policy on the role: with ours, over IAM's 10,240 per role.
    let big = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{}", "b".repeat(10_000))}]});
    role.inline.insert("theirs".into(), big);
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("IAM role keda-identity: its inline policies would be")
            && text.contains("over IAM's limit of 10240 per role")
            && text.contains("theirs ("),
        "{text}"
    );
    // Room for ours: nothing to say.
    let role = o.roles.get_mut(&d.roles[1].name).unwrap();
    role.inline
        .insert("theirs".into(), serde_json::json!({"Statement": []}));
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
}

fn amp_spec(workspace: crate::triggers::prometheus::Workspace) -> Spec {
    let mut spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    let app = &mut spec.apps[0];
    app.trigger = crate::triggers::Kind::Prometheus;
    app.prometheus = Some(crate::triggers::prometheus::Config::sample(workspace));
    spec
}

fn by_alias() -> crate::triggers::prometheus::Workspace {
    crate::triggers::prometheus::Workspace {
        alias: Some("AMP-KEDA".into()),
        id: None,
    }
}

fn live_workspace(tags: Tags) -> observed::Resource {
    observed::Resource {
        id: "ws-1234".into(),
        arn: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234".into(),
        status: "ACTIVE".into(),
        endpoint: None,
        tags,
        ..Default::default()
    }
}

#[test]
fn a_trigger_resource_is_created_first_and_what_names_it_waits_for_it() {
    let d = render::desired(&amp_spec(by_alias())).unwrap();
    assert!(d.queues.is_empty(), "a prometheus app has no queue");
    let p = plan(&d, &Observed::default(), &Options::default()).unwrap();
    let create = "aps:workspace/AMP-KEDA";
    let step = |id: &str| p.steps.iter().find(|s| s.id == id).unwrap();
    assert_eq!(step(create).group, Group::Source);
    assert_eq!(step(create).summary, "create AMP workspace AMP-KEDA");
    // The grant and the ScaledObject name the workspace by a placeholder until it exists.
    let policy = step("iam:role/keda-identity/policy/kedactl-amp-query");
    assert!(policy.after.contains(&create.to_string()), "{policy:#?}");
    let scaler = p
        .steps
        .iter()
        .find(|s| s.id == "app:ScaledObject/security/k8s-sqs-read-msg-keda")
        .unwrap();
    assert!(
        scaler.after.contains(&create.to_string()),
        "{:?}",
        scaler.after
    );
    let Action::Apply { manifest, .. } = &scaler.action else {
        panic!()
    };
    assert_eq!(
        manifest["spec"]["triggers"][0]["metadata"]["serverAddress"],
        "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/<id of AMP workspace AMP-KEDA>"
    );
    // Steps that do not name it do not wait for it.
    assert!(step("iam:role/keda-operator").after.is_empty());
    // The scraper that fills it is made once it exists, for this cluster.
    let scraper = step(SCRAPER);
    assert_eq!(
        scraper.summary,
        "create AMP scraper kedactl-demo-AMP-KEDA (scrapes EKS cluster demo into AMP workspace <id of AMP workspace AMP-KEDA>)"
    );
    assert_eq!(scraper.after, [create]);
    let Action::CreateResource { settings, .. } = &scraper.action else {
        panic!()
    };
    assert_eq!(
        settings["workspaceArn"],
        "arn:aws:aps:us-east-1:123456789012:workspace/<id of AMP workspace AMP-KEDA>"
    );
    assert_eq!(
        settings["clusterArn"],
        "arn:aws:eks:us-east-1:123456789012:cluster/demo"
    );
}

const SCRAPER: &str = "aps:scraper/kedactl-demo-AMP-KEDA";

/// The scraper `up` made, writing from cluster demo to workspace ws-1234.
fn live_scraper(tags: Tags) -> observed::Resource {
    observed::Resource {
        id: "s-1".into(),
        arn: "arn:aws:aps:us-east-1:123456789012:scraper/s-1".into(),
        status: "ACTIVE".into(),
        tags,
        settings: serde_json::json!({
            "clusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/demo",
            "workspaceArn": "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234",
        }),
        ..Default::default()
    }
}

#[test]
fn a_scraper_is_refused_where_amp_could_not_scrape_and_not_made_with_collector_none() {
    let spec = amp_spec(by_alias());
    let d = render::desired(&spec).unwrap();
    let mut o = Observed {
        cluster: Some(observed::Cluster {
            authentication_mode: Some("CONFIG_MAP".into()),
            endpoint_private_access: Some(true),
            ..Default::default()
        }),
        ..Observed::default()
    };
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    assert_eq!(err.conflicts.len(), 1, "{err}");
    assert_eq!(
        err.conflicts[0].resource,
        "AMP scraper kedactl-demo-AMP-KEDA"
    );
    assert!(
        err.conflicts[0]
            .reason
            .contains("--access-config authenticationMode=API_AND_CONFIG_MAP"),
        "{err}"
    );
    // The rest of the plan is still shown beside the conflict.
    let with = crate::plan::plan_marked(&d, &o, &Options::default());
    assert!(ids(&with.0).contains(&"aps:workspace/AMP-KEDA"));
    assert!(!ids(&with.0).contains(&SCRAPER));

    o.cluster.as_mut().unwrap().authentication_mode = Some("API".into());
    assert!(ids(&plan(&d, &o, &Options::default()).unwrap()).contains(&SCRAPER));

    let mut none = amp_spec(by_alias());
    none.apps[0].prometheus.as_mut().unwrap().collector =
        Some(crate::triggers::prometheus::Collector::None);
    let d = render::desired(&none).unwrap();
    assert!(
        d.resources
            .iter()
            .all(|r| !r.id().starts_with("aps:scraper"))
    );
}

/// The AMP stack of `spec` as `up` left it (workspace ws-1234 and its scraper, which `scraper`
/// may change first), rendered with what is live: (desired, observed).
fn amp_live(spec: &Spec, scraper: impl FnOnce(&mut observed::Resource)) -> (Desired, Observed) {
    let d0 = render::desired(spec).unwrap();
    let mut o = Observed::default();
    o.resources.insert(
        "aps:workspace/AMP-KEDA".into(),
        live_workspace(d0.shared_tags()),
    );
    let mut s = live_scraper(d0.shared_tags());
    scraper(&mut s);
    o.resources.insert(SCRAPER.into(), s);
    let d = render::desired_with(spec, &o).unwrap();
    let mut live = converged(&d);
    live.resources = o.resources;
    (d, live)
}

#[test]
fn the_association_an_earlier_kedactl_made_for_a_prometheus_app_goes() {
    let (d, mut live) = amp_live(&amp_spec(by_alias()), |_| {});
    assert_eq!(d.retired_associations.len(), 1);
    let old = |tags: Tags| Association {
        id: "a-old".into(),
        namespace: "security".into(),
        service_account: "my-sqs-read-msgs".into(),
        role_arn: "arn:aws:iam::123456789012:role/keda-identity".into(),
        tags,
        modified_at: None,
        session_tags_disabled: false,
        target_role_arn: None,
    };
    live.associations.push(old(d.tags.clone()));
    let p = plan(&d, &live, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["eks:association/security/my-sqs-read-msgs"]);
    assert!(matches!(
        &p.steps[0].action,
        Action::DeleteAssociation { association_id, .. } if association_id == "a-old"
    ));
    assert_eq!(p.steps[0].change, Change::Delete);
    // Someone else's association on that service account is theirs.
    live.associations.pop();
    live.associations.push(old(Tags::new()));
    assert!(plan(&d, &live, &Options::default()).unwrap().is_empty());
    // down deletes ours too.
    live.associations.pop();
    live.associations.push(old(d.tags.clone()));
    let (down, _) = super::teardown::teardown(&d, &live, &forced()).unwrap();
    assert!(ids(&down).contains(&"eks:association/security/my-sqs-read-msgs"));
}

#[test]
fn a_scraper_the_config_no_longer_wants_goes_with_up_and_before_its_workspace_with_down() {
    let mut spec = amp_spec(by_alias());
    spec.apps[0].prometheus.as_mut().unwrap().collector =
        Some(crate::triggers::prometheus::Collector::None);
    // `observe` lists this stack's scrapers of the cluster the config does not name.
    let (d, live) = amp_live(&spec, |_| {});
    let p = plan(&d, &live, &Options::default()).unwrap();
    assert_eq!(ids(&p), [SCRAPER]);
    assert_eq!(p.steps[0].change, Change::Delete);
    assert!(matches!(
        &p.steps[0].action,
        Action::DeleteResource { resource: crate::triggers::resource::Kind::AmpScraper, id, .. } if id == "s-1"
    ));
    let (down, _) = super::teardown::teardown(&d, &live, &forced()).unwrap();
    let ws = down
        .steps
        .iter()
        .find(|s| s.id == "aps:workspace/AMP-KEDA")
        .unwrap();
    assert_eq!(ws.after, [SCRAPER]);
}

#[test]
fn a_scraper_whose_create_failed_is_a_conflict_with_the_fix() {
    let (d, live) = amp_live(&amp_spec(by_alias()), |failed| {
        failed.status = "CREATION_FAILED".into();
        failed.reason = Some("subnet-0a has no free IP address".into());
    });
    let err = plan(&d, &live, &Options::default()).unwrap_err();
    let reason = &err.conflicts[0].reason;
    assert!(
        reason.starts_with("it is CREATION_FAILED (subnet-0a has no free IP address)")
            && reason.contains("aws amp delete-scraper --scraper-id s-1"),
        "{err}"
    );
}

#[test]
fn our_scraper_writing_to_another_workspace_is_a_conflict_not_a_silent_success() {
    let (d, live) = amp_live(&amp_spec(by_alias()), |stale| {
        stale.settings["workspaceArn"] =
            "arn:aws:aps:us-east-1:123456789012:workspace/ws-old".into();
    });
    let err = plan(&d, &live, &Options::default()).unwrap_err();
    assert_eq!(
        err.conflicts[0].resource,
        "AMP scraper kedactl-demo-AMP-KEDA"
    );
    assert!(
        err.conflicts[0].reason.contains("workspace/ws-old")
            && err.conflicts[0].reason.contains("--scraper-id s-1"),
        "{err}"
    );
}

#[test]
fn a_converged_prometheus_stack_plans_nothing_and_names_the_live_workspace() {
    let (d, live) = amp_live(&amp_spec(by_alias()), |_| {});
    let p = plan(&d, &live, &Options::default()).unwrap();
    assert!(p.is_empty(), "{:?}", ids(&p));
    let text = serde_json::to_string(&d).unwrap();
    assert!(!text.contains("<id of"), "every placeholder is resolved");
    assert!(text.contains("arn:aws:aps:us-east-1:123456789012:workspace/ws-1234"));
}

#[test]
fn a_workspace_of_another_stack_is_a_conflict_and_one_named_by_id_must_exist() {
    let spec = amp_spec(by_alias());
    let d = render::desired(&spec).unwrap();
    let mut o = Observed::default();
    o.resources.insert(
        "aps:workspace/AMP-KEDA".into(),
        live_workspace(ownership("other")),
    );
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    assert_eq!(err.conflicts[0].resource, "AMP workspace AMP-KEDA");
    assert!(err.to_string().contains("--adopt"), "{err}");
    let adopted = plan(
        &d,
        &o,
        &Options {
            adopt: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(matches!(
        adopted
            .steps
            .iter()
            .find(|s| s.id == "aps:workspace/AMP-KEDA/tags")
            .unwrap()
            .action,
        Action::TagResource { .. }
    ));

    // An existing workspace by id: never created, never tagged; its absence stops `up`.
    let by_id = amp_spec(crate::triggers::prometheus::Workspace {
        alias: None,
        id: Some("ws-1234".into()),
    });
    let d = render::desired(&by_id).unwrap();
    let err = plan(&d, &Observed::default(), &Options::default()).unwrap_err();
    assert!(
        err.conflicts[0]
            .reason
            .starts_with("not found in us-east-1"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("--adopt"),
        "adopting cannot create it: {err}"
    );
    let mut o = Observed::default();
    o.resources
        .insert("aps:workspace/ws-1234".into(), live_workspace(Tags::new()));
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert!(
        !ids(&p).iter().any(|id| id.starts_with("aps:workspace")),
        "{:?}",
        ids(&p)
    );
    // Something probably writes to an existing workspace already: no scraper unless asked.
    assert!(!ids(&p).iter().any(|id| id.starts_with("aps:scraper")));
    let mut asked = by_id.clone();
    asked.apps[0].prometheus.as_mut().unwrap().collector =
        Some(crate::triggers::prometheus::Collector::Scraper);
    let d = render::desired(&asked).unwrap();
    let p = plan(&d, &o, &Options::default()).unwrap();
    let scraper = p
        .steps
        .iter()
        .find(|s| s.id == "aps:scraper/kedactl-demo-ws-1234")
        .unwrap();
    let Action::CreateResource { settings, .. } = &scraper.action else {
        panic!()
    };
    assert_eq!(
        settings["workspaceArn"],
        "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234"
    );
    let policy = p
        .steps
        .iter()
        .find(|s| s.id == "iam:role/keda-identity/policy/kedactl-amp-query")
        .unwrap();
    assert_eq!(policy.after, ["iam:role/keda-identity"]);
}

#[test]
fn down_deletes_this_stacks_workspace_and_only_untags_a_shared_one() {
    let spec = amp_spec(by_alias());
    let d = render::desired(&spec).unwrap();
    let mut o = Observed::default();
    o.resources.insert(
        "aps:workspace/AMP-KEDA".into(),
        live_workspace(d.shared_tags()),
    );
    // Its stored metrics cannot be counted: kept unless --force, and the plan line says so.
    let refused = teardown(&d, &o, &teardown::Options::default()).unwrap_err();
    assert!(
        refused.reasons[0].starts_with("AMP workspace AMP-KEDA may hold data"),
        "{refused}"
    );
    let force = teardown::Options {
        force: true,
        ..Default::default()
    };
    let (p, _) = teardown(&d, &o, &force).unwrap();
    let step = p
        .steps
        .iter()
        .find(|s| s.id == "aps:workspace/AMP-KEDA")
        .unwrap();
    assert!(
        step.summary
            .starts_with("delete AMP workspace AMP-KEDA (ws-1234) — its metrics would be lost"),
        "{}",
        step.summary
    );
    assert_eq!(step.change, Change::Delete);

    o.data.insert(
        "aps:workspace/AMP-KEDA".into(),
        crate::observed::Data::counted(0, "metrics"),
    );
    let (p, _) = teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(ids(&p).contains(&"aps:workspace/AMP-KEDA"), "counted empty");

    let mut shared = d.shared_tags();
    shared.insert(model::cluster_tag("other"), "arn".into());
    o.resources
        .insert("aps:workspace/AMP-KEDA".into(), live_workspace(shared));
    let (p, notes) = teardown(&d, &o, &teardown::Options::default()).unwrap();
    let step = p.steps.iter().find(|s| s.id.starts_with("aps:")).unwrap();
    assert!(
        matches!(&step.action, Action::UntagResource { keys, .. } if keys == &[model::cluster_tag("demo")])
    );
    assert!(
        notes.iter().any(|n| n.contains("AMP workspace AMP-KEDA")),
        "{notes:?}"
    );

    o.resources.insert(
        "aps:workspace/AMP-KEDA".into(),
        live_workspace(ownership("other")),
    );
    let (p, notes) = teardown(&d, &o, &teardown::Options::default()).unwrap();
    assert!(!ids(&p).iter().any(|id| id.starts_with("aps:")));
    assert!(
        notes
            .iter()
            .any(|n| n == "left alone: AMP workspace AMP-KEDA (not created by this stack)"),
        "{notes:?}"
    );
}

/// Issue 15: a reviewer sees each update's old and new values, not only the new ones.
#[test]
fn updates_show_old_and_new_values() {
    let d = desired();
    let mut o = converged(&d);
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .attributes
        .insert("VisibilityTimeout".into(), "120".into());
    o.roles.get_mut("keda-identity").unwrap().trust["Statement"][1]["Action"] =
        "sts:AssumeRole".into();
    o.associations[1].role_arn = "arn:aws:iam::123456789012:role/old".into();
    let so = o
        .objects
        .iter_mut()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap();
    so["spec"]["maxReplicaCount"] = 3.into();
    so["spec"]["triggers"][0]["metadata"]["queueLength"] = "50".into();
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .tags
        .remove(crate::model::MANAGED_BY);
    let p = plan(&d, &o, &Options::default()).unwrap();
    let lines = |id: &str| -> Vec<String> {
        let step = p.steps.iter().find(|s| s.id == id).unwrap_or_else(|| {
            panic!("no step {id}: {:?}", ids(&p));
        });
        step.changes.iter().map(FieldChange::line).collect()
    };
    assert_eq!(
        lines("queue:event-messages-queue/attributes"),
        ["VisibilityTimeout: 120 → 30"]
    );
    assert_eq!(
        lines("queue:event-messages-queue/tags"),
        ["tag app.kubernetes.io/managed-by: (none) → kedactl"]
    );
    let trust = lines("iam:role/keda-identity/trust");
    assert_eq!(trust.len(), 1, "{trust:?}");
    assert!(
        trust[0].starts_with("statement ")
            && trust[0].contains("Allow sts:AssumeRole by role keda-operator → Allow sts:AssumeRole, sts:TagSession by role keda-operator"),
        "{trust:?}"
    );
    assert_eq!(
        lines("eks:association/security/my-sqs-read-msgs"),
        ["role: old → keda-identity"]
    );
    assert_eq!(
        lines("app:ScaledObject/security/k8s-sqs-read-msg-keda"),
        [
            "spec.maxReplicaCount: 3 → 10",
            "spec.triggers[0].metadata.queueLength: 50 → 5"
        ]
    );
    // Creates and runs carry no changes; JSON leaves the field out for them.
    let fresh = plan(&d, &Observed::default(), &Options::default()).unwrap();
    assert!(fresh.steps.iter().all(|s| s.changes.is_empty()));
    assert!(
        serde_json::to_value(&fresh.steps[0])
            .unwrap()
            .get("changes")
            .is_none()
    );
    let json = serde_json::to_value(
        p.steps
            .iter()
            .find(|s| s.id == "queue:event-messages-queue/attributes")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["changes"],
        serde_json::json!([{"field": "VisibilityTimeout", "old": "120", "new": "30"}])
    );
}

#[test]
fn a_redrive_change_and_a_dead_letter_queue_read_plainly() {
    let spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    let mut spec = spec;
    spec.apps[0].queue.dead_letter = Some(crate::spec::DeadLetter {
        name: Some("orders-dead".into()),
        max_receive_count: 5,
    });
    let d = render::desired(&spec).unwrap();
    let p = plan(&d, &Observed::default(), &Options::default()).unwrap();
    let summaries: Vec<&str> = p
        .steps
        .iter()
        .filter(|s| s.group == Group::Queue)
        .map(|s| s.summary.as_str())
        .collect();
    assert_eq!(
        summaries,
        [
            "create SQS queue orders-dead",
            "create SQS queue event-messages-queue (dead letters to orders-dead after 5 receives, VisibilityTimeout=30)"
        ]
    );
    let mut o = converged(&d);
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .attributes
        .insert(
            "RedrivePolicy".into(),
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:orders-dead","maxReceiveCount":"2"}"#.into(),
        );
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(
        p.steps[0]
            .changes
            .iter()
            .map(FieldChange::line)
            .collect::<Vec<_>>(),
        ["RedrivePolicy: to orders-dead after 2 receives → to orders-dead after 5 receives"]
    );
}

#[test]
fn plan_marked_keeps_the_plan_beside_its_conflicts() {
    let d = desired();
    let mut o = converged(&d);
    o.roles.get_mut("keda-operator").unwrap().tags.clear();
    o.queues
        .get_mut("event-messages-queue")
        .unwrap()
        .attributes
        .insert("VisibilityTimeout".into(), "120".into());
    let (p, conflicts) = plan_marked(&d, &o, &Options::default());
    assert_eq!(ids(&p), ["queue:event-messages-queue/attributes"]);
    assert_eq!(conflicts.conflicts.len(), 1);
    assert_eq!(conflicts.conflicts[0].resource, "IAM role keda-operator");
    assert_eq!(plan(&d, &o, &Options::default()).unwrap_err(), conflicts);
}

#[test]
fn a_trigger_resource_is_created_with_its_settings() {
    use crate::triggers::resource::{Kind, Resource};
    let mut d = desired();
    let settings = serde_json::json!({ "partitionKey": { "name": "pk", "type": "S" } });
    d.resources.push(Resource {
        kind: Kind::AmpWorkspace,
        name: "w".into(),
        managed: true,
        settings: settings.clone(),
    });
    let o = converged(&desired());
    let p = plan(&d, &o, &Options::default()).unwrap();
    let step = p
        .steps
        .iter()
        .find(|s| s.id == "aps:workspace/w")
        .expect("a create step");
    match &step.action {
        Action::CreateResource { settings: got, .. } => assert_eq!(got, &settings),
        other => panic!("{other:?}"),
    }
    // None: the plan's JSON is what it was before settings existed.
    d.resources[0].settings = serde_json::Value::Null;
    let p = plan(&d, &o, &Options::default()).unwrap();
    let json = serde_json::to_value(&p.steps[0].action).unwrap();
    assert!(json.get("settings").is_none(), "{json}");
}

#[test]
fn a_trust_statement_that_admits_too_much_is_a_conflict_unless_adopted() {
    let d = desired();
    let mut o = converged(&d);
    let open = serde_json::json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"});
    o.roles.get_mut("keda-identity").unwrap().trust["Statement"]
        .as_array_mut()
        .unwrap()
        .push(open);
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    assert_eq!(err.conflicts.len(), 1, "{err}");
    assert_eq!(err.conflicts[0].resource, "IAM role keda-identity");
    assert!(
        err.conflicts[0].reason.contains("any pod of any cluster")
            && err.conflicts[0].reason.contains("--adopt"),
        "{err}"
    );
    // --adopt drops it, and only it.
    let p = plan(
        &d,
        &o,
        &Options {
            adopt: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&p), ["iam:role/keda-identity/trust"]);
    let Action::UpdateTrustPolicy { trust, .. } = &p.steps[0].action else {
        panic!("{:?}", p.steps[0].action)
    };
    assert_eq!(
        render::policy::canonical(trust),
        render::policy::canonical(&d.roles[1].trust.body)
    );
}

mod guardrails;
/// The seed's app as a team's own workload (`existing: true`), its service account too.
fn existing(kind: crate::spec::WorkloadKind, auth: AuthMode) -> Desired {
    let mut spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        auth_mode: auth,
        oidc_issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into()),
        ..Spec::default()
    };
    if auth == AuthMode::PodIdentity {
        spec.oidc_issuer = None;
    }
    spec.apps[0].existing = true;
    spec.apps[0].kind = kind;
    render::desired(&spec).unwrap()
}

/// The team's workload running as `sa`, and its service account without kedactl's labels.
fn teams(d: &Desired, kind: &str, sa: &str, annotation: Option<&str>) -> Observed {
    let mut o = converged(d);
    o.objects.push(serde_json::json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": { "name": "q-read", "namespace": "security", "labels": { "app.kubernetes.io/managed-by": "Helm" } },
        "spec": { "template": { "spec": { "serviceAccountName": sa, "containers": [] } } }
    }));
    for obj in o
        .objects
        .iter_mut()
        .filter(|x| x["kind"] == "ServiceAccount" && x["metadata"]["namespace"] == "security")
    {
        obj["metadata"]["labels"] = serde_json::json!({ "app.kubernetes.io/managed-by": "Helm" });
        obj["metadata"]["annotations"] = match annotation {
            Some(a) => serde_json::json!({ IRSA_ANNOTATION: a }),
            None => serde_json::json!({}),
        };
    }
    o
}

#[test]
fn an_existing_workload_is_scaled_never_applied_and_its_service_account_left_alone() {
    use crate::spec::WorkloadKind;
    let d = existing(WorkloadKind::StatefulSet, AuthMode::PodIdentity);
    assert!(
        d.manifests
            .iter()
            .all(|m| m["kind"] != "Deployment" && m["kind"] != "StatefulSet")
    );
    let so = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap();
    assert_eq!(
        so["spec"]["scaleTargetRef"],
        serde_json::json!({ "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "q-read" })
    );
    // Up to date: the team's StatefulSet and service account (no stack labels) are no conflict.
    let o = teams(&d, "StatefulSet", "my-sqs-read-msgs", None);
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert!(p.is_empty(), "{:?}", ids(&p));
    assert_eq!(
        workload::report(&d.workloads, &o.objects),
        [
            "StatefulSet security/q-read exists (yours: kedactl scales it and never changes it); its pods run as service account my-sqs-read-msgs"
        ]
    );
}

#[test]
fn a_missing_existing_workload_or_another_service_account_stops_up_with_the_fix() {
    use crate::spec::WorkloadKind;
    let d = existing(WorkloadKind::Deployment, AuthMode::PodIdentity);
    let err = plan(&d, &converged(&d), &Options::default()).unwrap_err();
    assert_eq!(err.conflicts.len(), 1, "{err}");
    assert_eq!(err.conflicts[0].resource, "Deployment security/q-read");
    assert!(
        err.conflicts[0]
            .reason
            .starts_with("not found: apps[].existing: true"),
        "{err}"
    );
    assert!(!err.to_string().contains("--adopt"), "{err}");
    let err = plan(
        &d,
        &teams(&d, "Deployment", "default", None),
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.conflicts[0].reason,
        "differs from the config: its pods run as service account default, not my-sqs-read-msgs \
         (apps[].serviceAccount), so the role kedactl associates would not reach them; set \
         serviceAccount: default in kedactl.yaml, or serviceAccountName: my-sqs-read-msgs in its chart"
    );
    assert!(!err.to_string().contains("--adopt"), "{err}");
    // Not read (offline, or --only without app): nothing is claimed.
    let mut offline = converged(&d);
    offline.workloads_read = false;
    assert!(plan(&d, &offline, &Options::default()).is_ok());
}

#[test]
fn irsa_annotates_the_teams_service_account_with_that_field_alone() {
    use crate::spec::WorkloadKind;
    let d = existing(WorkloadKind::Deployment, AuthMode::Irsa);
    let o = teams(&d, "Deployment", "my-sqs-read-msgs", None);
    let only_app = Options {
        only: Only::new(vec![Group::App]),
        ..Options::default()
    };
    let p = plan(&d, &o, &only_app).unwrap();
    assert_eq!(ids(&p), ["app:ServiceAccount/security/my-sqs-read-msgs"]);
    let Action::AnnotateServiceAccount { role_arn, .. } = &p.steps[0].action else {
        panic!("{:?}", p.steps[0].action)
    };
    assert_eq!(p.steps[0].changes.len(), 1, "old (none) → new role");
    let manifest = workload::annotation("security", "my-sqs-read-msgs", role_arn.as_deref());
    assert_eq!(
        manifest,
        serde_json::json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": { "name": "my-sqs-read-msgs", "namespace": "security",
                "annotations": { IRSA_ANNOTATION: "arn:aws:iam::123456789012:role/keda-identity" } }
        })
    );
    // Already annotated: nothing to do.
    let o = teams(
        &d,
        "Deployment",
        "my-sqs-read-msgs",
        Some("arn:aws:iam::123456789012:role/keda-identity"),
    );
    assert!(plan(&d, &o, &only_app).unwrap().is_empty());
}

/// The converged stack, its namespace labelled by someone to enforce the restricted profile.
fn restricted_namespace(d: &Desired) -> Observed {
    let mut o = converged(d);
    for ns in o.objects.iter_mut().filter(|x| x["kind"] == "Namespace") {
        ns["metadata"]["labels"] =
            serde_json::json!({ "pod-security.kubernetes.io/enforce": "restricted" });
    }
    o
}

#[test]
fn pods_a_namespace_that_exists_would_refuse_stop_up() {
    let mut spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        pod_security: crate::spec::PodSecurity::Baseline,
        ..Spec::default()
    };
    // Valid for the baseline namespaces kedactl would create, not for the team's restricted one.
    let sc = serde_json::json!({ "allowPrivilegeEscalation": true });
    spec.apps[0].security_context = sc.as_object().cloned();
    crate::spec::validate(&spec, "test").unwrap();
    let d = render::desired(&spec).unwrap();
    let o = restricted_namespace(&d);
    let err = plan(&d, &o, &Options::default()).unwrap_err();
    assert_eq!(err.conflicts.len(), 1, "{err}");
    assert_eq!(err.conflicts[0].resource, "Deployment security/q-read");
    assert!(
        err.conflicts[0].reason.contains("namespace security enforces the restricted Pod Security Standard and would refuse its pods: allowPrivilegeEscalation != false"),
        "{err}"
    );
    // The default pods pass a restricted namespace.
    let d = desired();
    let o = restricted_namespace(&d);
    assert!(plan(&d, &o, &Options::default()).is_ok());
}

#[test]
fn an_existing_workload_gets_no_repository() {
    let d = existing(crate::spec::WorkloadKind::Deployment, AuthMode::PodIdentity);
    assert!(d.repositories.is_empty(), "{:?}", d.repositories);
    assert_eq!(d.workloads.len(), 1);
}

#[test]
fn a_leftover_irsa_role_is_removed_when_the_stack_uses_pod_identity() {
    let d = desired();
    let mut o = converged(&d);
    o.objects.push(
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "keda-operator", "namespace": "keda",
                     "annotations": {IRSA_ANNOTATION: "arn:aws:iam::123456789012:role/old"}}}),
    );
    // Ours: helm again with IRSA off, a restart, then the pods are checked for Pod Identity.
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["keda:install", "keda:restart", "keda:verify"]);
    assert!(matches!(
        &p.steps[0].action,
        Action::InstallKeda {
            irsa_role_arn: None,
            ..
        }
    ));
    assert!(matches!(
        p.steps[2].action,
        Action::VerifyPodIdentity { .. }
    ));
    // Someone else's KEDA: a conflict that says why the annotation matters.
    o.keda.as_mut().unwrap().installed_by = None;
    let err = plan(&d, &o, &Options::default()).unwrap_err().to_string();
    assert!(
        err.contains("role/old") && err.contains("web identity first"),
        "{err}"
    );
    assert!(err.contains("podIdentity.aws.irsa.enabled=false"), "{err}");
    // No annotation: nothing to do.
    let converged_sa = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "keda-operator", "namespace": "keda"}});
    let mut o = converged(&d);
    o.objects.push(converged_sa);
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
}

#[test]
fn a_changed_keda_version_upgrades_ours_and_leaves_others_alone() {
    let d = desired();
    let mut o = converged(&d);
    o.keda.as_mut().unwrap().version = "2.19.0".into();
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["keda:install", "keda:verify"]);
    let s = &p.steps[0];
    assert_eq!(s.change, Change::Update);
    assert_eq!(
        s.summary,
        "upgrade KEDA 2.19.0 → 2.20.2 in namespace keda (helm upgrade, chart kedacore/keda)"
    );
    assert_eq!(
        s.changes.iter().map(|c| c.line()).collect::<Vec<_>>(),
        ["version: 2.19.0 → 2.20.2"]
    );
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["from"], "2.19.0");
    // Newer than the config: said as a downgrade.
    o.keda.as_mut().unwrap().version = "2.21.0".into();
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert!(
        p.steps[0]
            .summary
            .starts_with("downgrade KEDA 2.21.0 → 2.20.2")
    );
    // Not a release, or not ours: no step (online `up` says so; see keda::version_kept).
    o.keda.as_mut().unwrap().version = "main".into();
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
    o.keda.as_mut().unwrap().version = "2.19.0".into();
    o.keda.as_mut().unwrap().installed_by = None;
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
}

/// Issue 34: a changed `keda.values` is a helm upgrade of the KEDA this stack installed, shown
/// old → new; the same values (or none, on a marker of an older kedactl) plan nothing, and
/// another's KEDA is not upgraded for them.
#[test]
fn changed_chart_values_upgrade_keda_shown_old_to_new() {
    let mut spec = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    let values = |v: serde_json::Value| v.as_object().unwrap().clone();
    spec.keda.values = values(serde_json::json!({
        "priorityClassName": "high",
        "resources": {"operator": {"limits": {"cpu": "2"}}}
    }));
    let d = render::desired(&spec).unwrap();
    let mut o = converged(&d);
    o.keda.as_mut().unwrap().values = Some(values(serde_json::json!({
        "resources": {"operator": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    })));
    let p = plan(&d, &o, &Options::default()).unwrap();
    assert_eq!(ids(&p), ["keda:install", "keda:verify"]);
    let s = &p.steps[0];
    assert_eq!(s.change, Change::Update);
    assert!(
        s.summary.starts_with("change the chart values of KEDA"),
        "{}",
        s.summary
    );
    let lines: Vec<String> = s.changes.iter().map(FieldChange::line).collect();
    assert_eq!(
        lines,
        [
            "values.priorityClassName: (none) → high",
            "values.resources.operator.limits.cpu: 1 → 2",
            "values.resources.operator.limits.memory: 1Gi → (none)",
        ]
    );
    assert!(matches!(&s.action, Action::InstallKeda { values, .. } if *values == spec.keda.values));
    // The same values: nothing to do.
    o.keda.as_mut().unwrap().values = Some(spec.keda.values.clone());
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
    // No values, and a marker that records none: nothing either.
    let plain = desired();
    let mut o = converged(&plain);
    o.keda.as_mut().unwrap().values = None;
    assert!(plan(&plain, &o, &Options::default()).unwrap().is_empty());
    // Someone else's KEDA is not ours to upgrade.
    let mut o = converged(&d);
    o.keda.as_mut().unwrap().installed_by = None;
    assert!(plan(&d, &o, &Options::default()).unwrap().is_empty());
}
