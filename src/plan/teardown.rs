//! `down`: the plan that removes what this stack owns, in the reverse order of `up`.
//! Resources without this stack's tags are left alone and named in the plan's notes.

use super::{Action, Change, Plan, Step, app_step_id, observed::Tags, restrict};
use crate::model::{self, Group, Only};
use crate::observed::describe;
use crate::render::{Desired, object_ref};
use serde::Serialize;

use super::Observed;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Delete repositories that still hold images.
    pub force: bool,
    pub only: Only,
}

/// Why `down` will not go ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("down refuses to continue:{}", .reasons.iter().map(|r| format!("\n  - {r}")).collect::<String>())]
pub struct Refused {
    pub reasons: Vec<String>,
}

/// The deletions that remove this stack, and notes on what is left alone.
pub fn teardown(
    desired: &Desired,
    observed: &Observed,
    opts: &Options,
) -> Result<(Plan, Vec<String>), Refused> {
    let stack = &desired.stack;
    let owned = |tags: &Tags| model::is_owned(tags, stack);
    let mut steps: Vec<Step> = Vec::new();
    let mut notes = Vec::new();
    let mut refused = Vec::new();
    let mut push = |id: String, group: Group, action: Action, after: Vec<String>| {
        let summary = action.summary(Change::Delete);
        steps.push(Step {
            id,
            group,
            change: Change::Delete,
            summary,
            action,
            after,
        });
    };

    // The cluster first: the scaler stops polling SQS before the credentials it uses go.
    let mut cluster_ids: Vec<String> = Vec::new();
    let mut deleted: Vec<String> = Vec::new();
    let app = desired
        .manifests
        .iter()
        .filter(|_| opts.only.includes(Group::App));
    for m in app.rev() {
        let (kind, ns, name) = object_ref(m);
        let Some(o) = observed.object(&kind, ns.as_deref(), &name) else {
            continue;
        };
        let what = describe(&kind, ns.as_deref(), &name);
        let labels: Tags =
            serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
        if !owned(&labels) {
            notes.push(format!("left alone: {what} (not created by this stack)"));
            continue;
        }
        if kind == "Namespace" {
            match observed.namespace_contents.get(&name) {
                Some(others) if others.is_empty() => {}
                Some(others) => {
                    notes.push(format!(
                        "left alone: {what} (it also holds {})",
                        others.join(", ")
                    ));
                    continue;
                }
                None => {
                    notes.push(format!("left alone: {what} (its contents were not read)"));
                    continue;
                }
            }
        }
        let id = app_step_id(&kind, ns.as_deref(), &name);
        let action = Action::DeleteObject {
            kind: kind.clone(),
            namespace: ns.clone(),
            name: name.clone(),
        };
        // One at a time, in reverse apply order: the scaler before its target and auth.
        push(
            id.clone(),
            Group::App,
            action,
            cluster_ids.last().cloned().into_iter().collect(),
        );
        cluster_ids.push(id);
        deleted.push(what);
    }
    if let Some(k) = observed
        .keda
        .as_ref()
        .filter(|_| opts.only.includes(Group::Keda))
    {
        let others: Vec<&str> = k
            .objects
            .iter()
            // Only objects this plan deletes first stop holding KEDA (their finalizers are awaited).
            .filter(|s| !deleted.contains(s))
            .map(String::as_str)
            .collect();
        match k.installed_by.as_deref() {
            Some(s) if s == stack && others.is_empty() => {
                let contents = observed.namespace_contents.get(&k.namespace);
                if let Some(c) = contents.filter(|c| !c.is_empty()) {
                    notes.push(format!(
                        "left alone: Namespace {} (it also holds {})",
                        k.namespace,
                        c.join(", ")
                    ));
                }
                let action = Action::UninstallKeda {
                    namespace: k.namespace.clone(),
                    stack: stack.clone(),
                    delete_namespace: contents.is_some_and(Vec::is_empty),
                };
                push(
                    "keda:uninstall".into(),
                    Group::Keda,
                    action,
                    cluster_ids.clone(),
                );
                cluster_ids.push("keda:uninstall".into());
            }
            Some(s) if s == stack => notes.push(format!(
                "left alone: KEDA in namespace {} (this stack installed it, but {} still use{} it)",
                k.namespace,
                others.join(", "),
                if others.len() == 1 { "s" } else { "" }
            )),
            Some(s) => notes.push(format!(
                "left alone: KEDA in namespace {} (installed by kedactl stack {s:?})",
                k.namespace
            )),
            None => notes.push(format!(
                "left alone: KEDA in namespace {} (not installed by kedactl)",
                k.namespace
            )),
        }
    }

    let mut association_ids = Vec::new();
    for a in &desired.associations {
        let Some(o) = observed
            .associations
            .iter()
            .find(|o| o.namespace == a.namespace && o.service_account == a.service_account)
        else {
            continue;
        };
        if !owned(&o.tags) {
            notes.push(format!(
                "left alone: pod identity association {}/{} (not created by this stack)",
                a.namespace, a.service_account
            ));
            continue;
        }
        let id = format!("eks:association/{}/{}", a.namespace, a.service_account);
        let action = Action::DeleteAssociation {
            association_id: o.id.clone(),
            namespace: a.namespace.clone(),
            service_account: a.service_account.clone(),
        };
        push(id.clone(), Group::Eks, action, cluster_ids.clone());
        association_ids.push(id);
    }

    // Queues that point at a dead-letter queue go first (desired lists DLQs first).
    let mut queue_ids: Vec<String> = Vec::new();
    for q in desired.queues.iter().rev() {
        let Some(o) = observed.queues.get(&q.name) else {
            continue;
        };
        if !owned(&o.tags) {
            notes.push(format!(
                "left alone: SQS queue {} (not created by this stack)",
                q.name
            ));
            continue;
        }
        let id = format!("queue:{}", q.name);
        let action = Action::DeleteQueue {
            queue: q.name.clone(),
            url: o.url.clone(),
        };
        push(id.clone(), Group::Queue, action, queue_ids.clone());
        queue_ids.push(id);
    }

    for r in &desired.repositories {
        let Some(o) = observed.repositories.get(&r.name) else {
            continue;
        };
        if !owned(&o.tags) {
            notes.push(format!(
                "left alone: ECR repository {} (not created by this stack)",
                r.name
            ));
            continue;
        }
        if o.images > 0 && !opts.force {
            refused.push(format!(
                "ECR repository {} holds {} image{}: pass --force to delete them with it, or --only to skip the registry",
                r.name,
                o.images,
                if o.images == 1 { "" } else { "s" }
            ));
            continue;
        }
        let action = Action::DeleteRepository {
            repository: r.name.clone(),
            force: o.images > 0,
        };
        push(
            format!("registry:{}", r.name),
            Group::Registry,
            action,
            vec![],
        );
    }

    // Identity roles before the operator role they trust; each role after its policies and
    // after the associations that use it.
    for role in desired.roles.iter().rev() {
        let Some(o) = observed.roles.get(&role.name) else {
            continue;
        };
        if !owned(&o.tags) {
            notes.push(format!(
                "left alone: IAM role {} (not created by this stack)",
                role.name
            ));
            continue;
        }
        let id = format!("iam:role/{}", role.name);
        let mut before = association_ids.clone();
        for policy in o.inline.keys() {
            let pid = format!("{id}/policy/{policy}");
            let action = Action::DeleteRolePolicy {
                role: role.name.clone(),
                policy: policy.clone(),
            };
            push(pid.clone(), Group::Iam, action, vec![]);
            before.push(pid);
        }
        for arn in &o.attached {
            let pid = format!("{id}/attached/{arn}");
            let action = Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: arn.clone(),
            };
            push(pid.clone(), Group::Iam, action, vec![]);
            before.push(pid);
        }
        push(
            id,
            Group::Iam,
            Action::DeleteRole {
                role: role.name.clone(),
            },
            before,
        );
    }

    if let (Some(name), Some(addon)) = (&desired.addon, &observed.addon) {
        if owned(&addon.tags) {
            push(
                format!("eks:addon/{name}"),
                Group::Eks,
                Action::DeleteAddon {
                    addon: name.clone(),
                },
                association_ids.clone(),
            );
        } else {
            notes.push(format!(
                "left alone: EKS add-on {name} (kedactl did not create it)"
            ));
        }
    }

    if !refused.is_empty() {
        return Err(Refused { reasons: refused });
    }
    Ok((restrict(steps, &opts.only), notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{Association, Queue, Repository, Role};
    use crate::render;
    use crate::spec::{DeadLetter, Spec};

    fn desired() -> Desired {
        let mut spec = Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        };
        spec.apps[0].queue.dead_letter = Some(DeadLetter {
            name: None,
            max_receive_count: 5,
        });
        render::desired(&spec).unwrap()
    }

    fn everything(d: &Desired, tags: &Tags) -> Observed {
        let mut o = Observed::default();
        for r in &d.roles {
            let inline = r
                .policies
                .iter()
                .map(|p| (p.name.clone(), p.body.clone()))
                .collect();
            let role = Role {
                arn: r.arn.clone(),
                trust: r.trust.body.clone(),
                inline,
                attached: vec![],
                managed: Default::default(),
                boundary: None,
                tags: tags.clone(),
            };
            o.roles.insert(r.name.clone(), role);
        }
        for q in &d.queues {
            let queue = Queue {
                url: q.url.clone(),
                attributes: q.attributes.clone(),
                tags: tags.clone(),
            };
            o.queues.insert(q.name.clone(), queue);
        }
        for r in &d.repositories {
            let repo = Repository {
                arn: format!("arn:{}", r.name),
                images: 0,
                tags: tags.clone(),
            };
            o.repositories.insert(r.name.clone(), repo);
        }
        for (i, a) in d.associations.iter().enumerate() {
            o.associations.push(Association {
                id: format!("a-{i}"),
                namespace: a.namespace.clone(),
                service_account: a.service_account.clone(),
                role_arn: a.role_arn.clone(),
                tags: tags.clone(),
                modified_at: None,
                session_tags_disabled: false,
                target_role_arn: None,
            });
        }
        o
    }

    fn ids(p: &Plan) -> Vec<&str> {
        p.steps.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn owned_resources_go_in_reverse_order() {
        let d = desired();
        let mut o = everything(&d, &model::ownership("kedactl"));
        o.roles.get_mut("keda-identity").unwrap().attached =
            vec!["arn:aws:iam::aws:policy/X".into()];
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            ids(&p),
            [
                "eks:association/keda/keda-operator",
                "eks:association/security/my-sqs-read-msgs",
                "queue:event-messages-queue",
                "queue:event-messages-queue-dlq",
                "registry:keda-pod-identity-registry",
                "iam:role/keda-identity/policy/kedactl-sqs-access",
                "iam:role/keda-identity/attached/arn:aws:iam::aws:policy/X",
                "iam:role/keda-identity",
                "iam:role/keda-operator/policy/kedactl-assume-identity",
                "iam:role/keda-operator",
            ]
        );
        let role = p
            .steps
            .iter()
            .find(|s| s.id == "iam:role/keda-identity")
            .unwrap();
        assert_eq!(
            role.after.len(),
            4,
            "associations, the inline policy and the attachment: {:?}",
            role.after
        );
        assert!(p.steps.iter().all(|s| s.change == Change::Delete));
    }

    #[test]
    fn nothing_owned_means_nothing_deleted() {
        let d = desired();
        let (p, notes) = teardown(
            &d,
            &everything(&d, &model::ownership("other")),
            &Options::default(),
        )
        .unwrap();
        assert!(p.is_empty());
        assert_eq!(notes.len(), 7, "{notes:?}");
        assert!(notes.iter().all(|n| n.starts_with("left alone: ")));
        let (p, notes) = teardown(&d, &Observed::default(), &Options::default()).unwrap();
        assert!(
            p.is_empty() && notes.is_empty(),
            "down on nothing is a no-op"
        );
    }

    #[test]
    fn a_repository_with_images_needs_force() {
        let d = desired();
        let mut o = everything(&d, &model::ownership("kedactl"));
        o.repositories
            .get_mut("keda-pod-identity-registry")
            .unwrap()
            .images = 3;
        let err = teardown(&d, &o, &Options::default()).unwrap_err();
        assert!(
            err.to_string().contains("holds 3 images: pass --force"),
            "{err}"
        );
        let (p, _) = teardown(
            &d,
            &o,
            &Options {
                force: true,
                ..Options::default()
            },
        )
        .unwrap();
        let repo = p.steps.iter().find(|s| s.group == Group::Registry).unwrap();
        assert_eq!(
            repo.action,
            Action::DeleteRepository {
                repository: "keda-pod-identity-registry".into(),
                force: true
            }
        );
    }

    #[test]
    fn only_an_addon_kedactl_created_is_deleted() {
        let d = desired();
        let mut o = everything(&d, &model::ownership("kedactl"));
        o.addon = Some(crate::observed::Addon {
            status: "ACTIVE".into(),
            issues: vec![],
            tags: Tags::new(),
        });
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(!ids(&p).contains(&"eks:addon/eks-pod-identity-agent"));
        assert!(notes[0].contains("kedactl did not create it"));
        o.addon.as_mut().unwrap().tags = model::ownership("kedactl");
        let (p, _) = teardown(
            &d,
            &o,
            &Options {
                only: Only::new(vec![Group::Eks]),
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            ids(&p),
            [
                "eks:association/keda/keda-operator",
                "eks:association/security/my-sqs-read-msgs",
                "eks:addon/eks-pod-identity-agent"
            ]
        );
    }

    fn with_keda(d: &Desired, objects: &[&str]) -> Observed {
        let mut o = everything(d, &model::ownership("kedactl"));
        for m in &d.manifests {
            o.objects.push(m.clone());
        }
        o.keda = Some(crate::observed::Keda {
            namespace: "keda".into(),
            version: "2.20.2".into(),
            installed_by: Some("kedactl".into()),
            objects: objects.iter().map(|s| s.to_string()).collect(),
            missing: vec![],
            release: None,
        });
        o
    }

    #[test]
    fn keda_goes_only_when_no_keda_object_but_those_this_plan_deletes_remains() {
        let d = desired();
        let so = "ScaledObject security/k8s-sqs-read-msg-keda";
        let ta = "TriggerAuthentication security/q-read-trigger-auth";
        let mut o = with_keda(&d, &[so, ta]);
        o.namespace_contents.insert("keda".into(), vec![]);
        o.namespace_contents.insert("security".into(), vec![]);
        let (p, _) = teardown(&d, &o, &Options::default()).unwrap();
        let uninstall = p.steps.iter().find(|s| s.id == "keda:uninstall").unwrap();
        assert_eq!(
            uninstall.action,
            Action::UninstallKeda {
                namespace: "keda".into(),
                stack: "kedactl".into(),
                delete_namespace: true
            }
        );
        assert!(
            uninstall
                .after
                .contains(&"app:ScaledObject/security/k8s-sqs-read-msg-keda".to_string())
        );

        // Another team's objects of any keda.sh kind hold it.
        let theirs = "ClusterTriggerAuthentication shared-aws";
        let (p, notes) =
            teardown(&d, &with_keda(&d, &[so, ta, theirs]), &Options::default()).unwrap();
        assert!(!ids(&p).contains(&"keda:uninstall"));
        assert!(
            notes
                .iter()
                .any(|n| n.contains("but ClusterTriggerAuthentication shared-aws still uses it")),
            "{notes:?}"
        );

        // `down --only keda` deletes none of ours first, so ours hold it too.
        let only_keda = Options {
            only: Only::new(vec![Group::Keda]),
            ..Options::default()
        };
        let (p, notes) = teardown(&d, &with_keda(&d, &[so, ta]), &only_keda).unwrap();
        assert!(p.is_empty());
        assert!(
            notes.iter().any(|n| n.contains(so) && n.contains(ta)),
            "{notes:?}"
        );

        // KEDA's namespace holding something else is kept (and said so).
        let mut o = with_keda(&d, &[so, ta]);
        o.namespace_contents
            .insert("keda".into(), vec!["Deployment metrics-relay".into()]);
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        let uninstall = p.steps.iter().find(|s| s.id == "keda:uninstall").unwrap();
        assert!(matches!(
            uninstall.action,
            Action::UninstallKeda {
                delete_namespace: false,
                ..
            }
        ));
        assert!(
            notes.contains(
                &"left alone: Namespace keda (it also holds Deployment metrics-relay)".to_string()
            ),
            "{notes:?}"
        );
    }
}
