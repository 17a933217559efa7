//! `down`: the plan that removes what this stack owns, in the reverse order of `up`.
//! Resources without this stack's tags are left alone and named in the plan's notes.
//!
//! Several clusters may share a stack (IAM roles are account-wide; a queue or repository
//! name is regional). What another cluster still uses stays: a role whose trust admits
//! anyone else loses only this cluster's statements (`trust::leave`) and keeps its inline
//! policies (the identity role's SQS policy grants the stack's queues to every cluster that
//! role admits, so it goes only with the role); a queue or repository tagged with another
//! cluster's `kedactl.io/cluster/<name>` key loses only this cluster's key.

use super::trust::{self, Leave};
use super::{Action, Change, Plan, Step, app_step_id, observed::Tags, restrict};
use crate::model::{self, Group, Only};
use crate::observed::{ObjectKey, describe};
use crate::render::{Desired, object_ref, policy::canonical};
use std::collections::HashMap;

use super::Observed;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Delete repositories that still hold images.
    pub force: bool,
    pub only: Only,
    /// How a refused delete is kept instead (default: leave its group out of --only).
    pub keep_hint: Option<&'static str>,
}

/// Why `down` will not go ahead (nothing is deleted), with the plan it would have run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("down refuses to continue, nothing was deleted:{}", .reasons.iter().map(|r| format!("\n  - {r}")).collect::<String>())]
pub struct Refused {
    pub reasons: Vec<String>,
    /// What each reason is about ("SQS queue q"), in the same order.
    pub resources: Vec<String>,
    /// What `--force` would run: its delete steps name what they would lose.
    pub plan: Plan,
    pub notes: Vec<String>,
}

/// The deletions that remove this stack, and notes on what is left alone.
pub fn teardown(
    desired: &Desired,
    observed: &Observed,
    opts: &Options,
) -> Result<(Plan, Vec<String>), Refused> {
    let mut t = Teardown {
        desired,
        observed,
        opts,
        steps: Vec::new(),
        notes: Vec::new(),
        refused: Vec::new(),
    };
    // The cluster first: the scaler stops polling SQS before the credentials it uses go.
    let (mut cluster_ids, deleted) = t.app_objects();
    t.keda(&deleted, &mut cluster_ids);
    let association_ids = t.associations(&cluster_ids);
    t.queues();
    t.repositories();
    t.trigger_resources();
    let roles = t.roles(&association_ids);
    t.oidc_provider(&roles);
    t.addon(&association_ids);
    t.finish()
}

/// One `down` being planned: the steps so far, the notes on what stays, and the deletes
/// refused without `--force` ("SQS queue q", why).
struct Teardown<'a> {
    desired: &'a Desired,
    observed: &'a Observed,
    opts: &'a Options,
    steps: Vec<Step>,
    notes: Vec<String>,
    refused: Vec<(String, String)>,
}

/// The role steps the OIDC provider goes after, and the roles that still trust it once this
/// plan ran (kept with others' statements).
#[derive(Default)]
struct RolesLeft {
    step_ids: Vec<String>,
    still_trusting: Vec<String>,
}

/// Deletions, except what a shared resource keeps: a trust without our statements, a tag.
fn change_of(action: &Action) -> Change {
    match action {
        Action::UpdateTrustPolicy { .. }
        | Action::UntagQueue { .. }
        | Action::UntagRepository { .. }
        | Action::UntagResource { .. }
        | Action::AnnotateServiceAccount { .. } => Change::Update,
        _ => Change::Delete,
    }
}

impl<'a> Teardown<'a> {
    fn push(&mut self, id: String, group: Group, action: Action, after: Vec<String>) {
        let change = change_of(&action);
        let summary = action.summary(change);
        self.steps.push(Step {
            id,
            group,
            change,
            summary,
            changes: Vec::new(),
            action,
            after,
        });
    }

    fn owned(&self, tags: &Tags) -> bool {
        model::is_owned(tags, &self.desired.stack)
    }

    /// The stack's objects in the cluster. Each waits only for the objects that refer to it (a
    /// scaler before its target and auth, a workload before its service account, a namespace
    /// after what it holds), so a stack of many apps goes at once, not one object at a time.
    /// Returns the step ids and what they delete.
    fn app_objects(&mut self) -> (Vec<String>, Vec<String>) {
        let (desired, observed) = (self.desired, self.observed);
        let mut cluster_ids: Vec<String> = Vec::new();
        let mut deleted: Vec<String> = Vec::new();
        // Each step's index, with the object it deletes and the objects that one refers to.
        let mut planned: Vec<(usize, ObjectKey, Vec<ObjectKey>)> = Vec::new();
        let only = &self.opts.only;
        let app = desired
            .manifests
            .iter()
            .filter(|_| only.includes(Group::App));
        for m in app.rev() {
            let (kind, ns, name) = object_ref(m);
            let Some(o) = observed.object(&kind, ns.as_deref(), &name) else {
                continue;
            };
            let what = describe(&kind, ns.as_deref(), &name);
            let labels: Tags =
                serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
            if !self.owned(&labels) {
                self.notes
                    .push(format!("left alone: {what} (not created by this stack)"));
                self.release_irsa(m, o, &mut cluster_ids);
                continue;
            }
            if kind == "Namespace" && self.namespace_kept(&name, &what) {
                continue;
            }
            let id = app_step_id(&kind, ns.as_deref(), &name);
            let action = Action::DeleteObject {
                kind: kind.clone(),
                namespace: ns.clone(),
                name: name.clone(),
            };
            let refs = references(m, &kind, ns.as_deref());
            planned.push((self.steps.len(), (kind, ns, name), refs));
            self.push(id.clone(), Group::App, action, Vec::new());
            cluster_ids.push(id);
            deleted.push(what);
        }
        // Who refers to each object, then each delete after its referrers'.
        let mut referrers: HashMap<ObjectKey, Vec<String>> = HashMap::new();
        for (i, _, refs) in &planned {
            for r in refs {
                referrers
                    .entry(r.clone())
                    .or_default()
                    .push(self.steps[*i].id.clone());
            }
        }
        for (i, key, _) in &planned {
            self.steps[*i].after = referrers.remove(key).unwrap_or_default();
        }
        (cluster_ids, deleted)
    }

    /// IRSA on an existing workload's service account (`live`, not this stack's): release the
    /// one field kedactl applied. Nothing of the stack refers to it once its own objects are
    /// gone, and the workload stays: it waits for nothing.
    fn release_irsa(
        &mut self,
        m: &serde_json::Value,
        live: &serde_json::Value,
        ids: &mut Vec<String>,
    ) {
        let (kind, ns, name) = object_ref(m);
        let role = &m["metadata"]["annotations"][crate::render::IRSA_ANNOTATION];
        if let (Some(ns), "ServiceAccount") = (&ns, kind.as_str())
            && super::workload::of_existing(&self.desired.workloads, ns, &name)
            && role.is_string()
            && live["metadata"]["annotations"][crate::render::IRSA_ANNOTATION] == *role
        {
            let action = Action::AnnotateServiceAccount {
                namespace: ns.clone(),
                name: name.clone(),
                role_arn: None,
            };
            let id = format!("{}/annotation", app_step_id(&kind, Some(ns), &name));
            self.push(id.clone(), Group::App, action, Vec::new());
            ids.push(id);
        }
    }

    /// Is this stack's namespace `name` kept (noted why): it holds more, or was not read?
    fn namespace_kept(&mut self, name: &str, what: &str) -> bool {
        let observed = self.observed;
        if let Some(why) = observed.namespace_unchecked.get(name) {
            self.notes.push(format!(
                "left alone: {what} (its contents could not be checked: {})",
                why.join("; ")
            ));
            return true;
        }
        match observed.namespace_contents.get(name) {
            Some(others) if others.is_empty() => false,
            Some(others) => {
                self.notes.push(format!(
                    "left alone: {what} (it also holds {})",
                    others.join(", ")
                ));
                true
            }
            None => {
                self.notes
                    .push(format!("left alone: {what} (its contents were not read)"));
                true
            }
        }
    }

    /// KEDA goes, after the app objects, when this stack installed it and nothing left holds
    /// it; otherwise it stays, noted why.
    fn keda(&mut self, deleted: &[String], cluster_ids: &mut Vec<String>) {
        let stack = &self.desired.stack;
        let only = &self.opts.only;
        let Some(k) = self
            .observed
            .keda
            .as_ref()
            .filter(|_| only.includes(Group::Keda))
        else {
            return;
        };
        let others: Vec<&str> = k
            .objects
            .iter()
            // Only objects this plan deletes first stop holding KEDA (their finalizers are awaited).
            .filter(|s| !deleted.contains(s))
            .map(String::as_str)
            .collect();
        match k.installed_by.as_deref() {
            Some(s) if s == stack && others.is_empty() => self.uninstall_keda(k, cluster_ids),
            Some(s) if s == stack => self.notes.push(format!(
                "left alone: KEDA in namespace {} (this stack installed it, but {} still use{} it)",
                k.namespace,
                others.join(", "),
                if others.len() == 1 { "s" } else { "" }
            )),
            Some(s) => self.notes.push(format!(
                "left alone: KEDA in namespace {} (installed by kedactl stack {s:?})",
                k.namespace
            )),
            None => self.notes.push(format!(
                "left alone: KEDA in namespace {} (not installed by kedactl)",
                k.namespace
            )),
        }
    }

    /// Uninstall KEDA, with its namespace when that holds nothing else (read and checked).
    fn uninstall_keda(&mut self, k: &crate::observed::Keda, cluster_ids: &mut Vec<String>) {
        let observed = self.observed;
        let contents = observed
            .namespace_contents
            .get(&k.namespace)
            .filter(|_| !observed.namespace_unchecked.contains_key(&k.namespace));
        if let Some(why) = observed.namespace_unchecked.get(&k.namespace) {
            self.notes.push(format!(
                "left alone: Namespace {} (its contents could not be checked: {})",
                k.namespace,
                why.join("; ")
            ));
        }
        if let Some(c) = contents.filter(|c| !c.is_empty()) {
            self.notes.push(format!(
                "left alone: Namespace {} (it also holds {})",
                k.namespace,
                c.join(", ")
            ));
        }
        let action = Action::UninstallKeda {
            namespace: k.namespace.clone(),
            stack: self.desired.stack.clone(),
            delete_namespace: contents.is_some_and(Vec::is_empty),
        };
        self.push(
            "keda:uninstall".into(),
            Group::Keda,
            action,
            cluster_ids.clone(),
        );
        cluster_ids.push("keda:uninstall".into());
    }

    /// The stack's pod identity associations (retired ones too), after the cluster steps.
    /// Returns their step ids.
    fn associations(&mut self, cluster_ids: &[String]) -> Vec<String> {
        let (desired, observed) = (self.desired, self.observed);
        let mut association_ids = Vec::new();
        for a in desired
            .associations
            .iter()
            .chain(&desired.retired_associations)
        {
            let Some(o) = observed
                .associations
                .iter()
                .find(|o| o.namespace == a.namespace && o.service_account == a.service_account)
            else {
                continue;
            };
            if !self.owned(&o.tags) {
                self.notes.push(format!(
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
            self.push(id.clone(), Group::Eks, action, cluster_ids.to_vec());
            association_ids.push(id);
        }
        association_ids
    }

    /// Does a queue, repository or trigger resource go? Not when it is not this stack's, nor
    /// when another cluster still uses it (both noted): then `untag` makes the step taking this
    /// cluster's tag key off, when it carries one.
    fn goes(
        &mut self,
        tags: &Tags,
        what: &str,
        untag: impl FnOnce(String) -> (String, Group, Action),
    ) -> bool {
        if !self.owned(tags) {
            self.notes
                .push(format!("left alone: {what} (not created by this stack)"));
            return false;
        }
        match still_used(self.desired, tags, what, &mut self.notes) {
            None => true,
            Some(ours) => {
                if let Some(key) = ours {
                    let (id, group, action) = untag(key);
                    self.push(id, group, action, vec![]);
                }
                false
            }
        }
    }

    /// A delete that loses `data` waits for `--force` (when its group is planned at all).
    fn refuse_unforced(&mut self, what: &str, data: &crate::observed::Data, group: Group) {
        if !data.is_empty() && !self.opts.force && self.opts.only.includes(group) {
            let refused = refusal(what, data, group, self.opts.keep_hint);
            self.refused.push(refused);
        }
    }

    /// A dead-letter queue goes after the queues that send to it (desired lists DLQs first);
    /// the other queues go at once, whatever their number.
    fn queues(&mut self) {
        let (desired, observed) = (self.desired, self.observed);
        // A DLQ's ARN → the deletes of the queues that send to it.
        let mut senders: HashMap<String, Vec<String>> = HashMap::new();
        for q in desired.queues.iter().rev() {
            let Some(o) = observed.queues.get(&q.name) else {
                continue;
            };
            let what = format!("SQS queue {}", q.name);
            let untag = |key| {
                let action = Action::UntagQueue {
                    queue: q.name.clone(),
                    url: o.url.clone(),
                    keys: vec![key],
                };
                (format!("queue:{}/tags", q.name), Group::Queue, action)
            };
            if !self.goes(&o.tags, &what, untag) {
                continue;
            }
            let data = crate::observed::queue_messages(&o.attributes);
            self.refuse_unforced(&what, &data, Group::Queue);
            let id = format!("queue:{}", q.name);
            let action = Action::DeleteQueue {
                queue: q.name.clone(),
                url: o.url.clone(),
                force: self.opts.force,
                loses: Some(data),
            };
            let after = senders.remove(&q.arn).unwrap_or_default();
            if let Some(dlq) = crate::observed::dead_letter_arn(&q.attributes) {
                senders.entry(dlq).or_default().push(id.clone());
            }
            self.push(id, Group::Queue, action, after);
        }
    }

    fn repositories(&mut self) {
        let (desired, observed) = (self.desired, self.observed);
        for r in &desired.repositories {
            let Some(o) = observed.repositories.get(&r.name) else {
                continue;
            };
            let what = format!("ECR repository {}", r.name);
            let untag = |key| {
                let action = Action::UntagRepository {
                    repository: r.name.clone(),
                    arn: o.arn.clone(),
                    keys: vec![key],
                };
                (format!("registry:{}/tags", r.name), Group::Registry, action)
            };
            if !self.goes(&o.tags, &what, untag) {
                continue;
            }
            let images = crate::observed::Data::counted(o.images as u64, "images");
            self.refuse_unforced(&what, &images, Group::Registry);
            let action = Action::DeleteRepository {
                repository: r.name.clone(),
                force: o.images > 0 && self.opts.force,
            };
            let id = format!("registry:{}", r.name);
            self.push(id, Group::Registry, action, vec![]);
        }
    }

    /// Trigger resources this stack made (one the config names by id is only read), and those
    /// of this stack the config no longer names (a scraper after `collector: none`).
    fn trigger_resources(&mut self) {
        let observed = self.observed;
        let mut deletes = self.managed_resource_deletes();
        for (id, action) in super::retired_resources(self.desired, observed) {
            deletes.push((id.clone(), action, &observed.resources[&id]));
        }
        // A resource goes after those made to use it (a workspace after the scraper writing to it).
        let names = |live: &crate::observed::Resource, arn: &str| {
            !arn.is_empty()
                && live
                    .settings
                    .as_object()
                    .is_some_and(|m| m.values().any(|v| v.as_str() == Some(arn)))
        };
        for (id, action, o) in &deletes {
            let after = deletes
                .iter()
                .filter(|(x, _, live)| x != id && names(live, &o.arn))
                .map(|(x, ..)| x.clone())
                .collect();
            self.push(id.clone(), Group::Source, action.clone(), after);
        }
    }

    /// The deletes of the managed trigger resources this stack alone uses (their untag steps
    /// are pushed here), with each one's live state.
    fn managed_resource_deletes(&mut self) -> Vec<(String, Action, &'a crate::observed::Resource)> {
        let (desired, observed) = (self.desired, self.observed);
        let mut deletes = Vec::new();
        for r in desired.resources.iter().filter(|r| r.managed) {
            let Some(o) = observed.resources.get(&r.id()) else {
                continue;
            };
            let untag = |key| {
                let action = Action::UntagResource {
                    resource: r.kind,
                    name: r.name.clone(),
                    arn: o.arn.clone(),
                    keys: vec![key],
                };
                (format!("{}/tags", r.id()), Group::Source, action)
            };
            if !self.goes(&o.tags, &r.describe(), untag) {
                continue;
            }
            let loses = r.kind.holds().map(|unit| {
                observed.data.get(&r.id()).cloned().unwrap_or_else(|| {
                    crate::observed::Data::unknown(unit, "kedactl did not read what it holds")
                })
            });
            if let Some(data) = &loses {
                self.refuse_unforced(&r.describe(), data, Group::Source);
            }
            let action = Action::DeleteResource {
                resource: r.kind,
                name: r.name.clone(),
                id: o.id.clone(),
                arn: o.arn.clone(),
                force: self.opts.force,
                loses,
            };
            deletes.push((r.id(), action, o));
        }
        deletes
    }

    /// Identity roles before the operator role they trust; each role after its policies and
    /// after the associations that use it. A role someone else still needs is kept.
    fn roles(&mut self, association_ids: &[String]) -> RolesLeft {
        let (desired, observed) = (self.desired, self.observed);
        let mut left = RolesLeft::default();
        let operator_kept = self.operator_kept();
        for role in desired.roles.iter().rev() {
            let Some(o) = observed.roles.get(&role.name) else {
                continue;
            };
            if !self.owned(&o.tags) {
                self.notes.push(format!(
                    "left alone: IAM role {} (not created by this stack)",
                    role.name
                ));
                continue;
            }
            let id = format!("iam:role/{}", role.name);
            match kept_because(role, o, operator_kept) {
                Some((why, edit)) => {
                    self.keep_role(role, o, &id, (why, edit), association_ids, &mut left)
                }
                None => self.delete_role(role, o, id, association_ids, &mut left),
            }
        }
        left
    }

    /// Another cluster's KEDA still chains from the operator role it keeps (by its kedactl
    /// statement): an identity role whose trust holds only the chain (its apps never call AWS)
    /// is still theirs too.
    fn operator_kept(&self) -> bool {
        self.desired.roles.iter().any(|r| {
            r.purpose == crate::render::RolePurpose::Operator
                && self.observed.roles.get(&r.name).is_some_and(|o| {
                    self.owned(&o.tags)
                        && matches!(trust::leave(&r.trust.body, &o.trust),
                            Leave::Keep { kept_by, .. }
                                if kept_by.iter().any(|s| s.starts_with(crate::render::SID_PREFIX)))
                })
        })
    }

    /// A role kept for someone else: its trust loses this cluster's statements (`edit`), and
    /// what goes with it is said in a note.
    fn keep_role(
        &mut self,
        role: &crate::render::Role,
        o: &super::observed::Role,
        id: &str,
        (why, edit): (String, trust::Edit),
        association_ids: &[String],
        left: &mut RolesLeft,
    ) {
        let trust = edit.apply(&role.trust.body, &o.trust);
        if edit == trust::Edit::TakeAll {
            self.strip_role(role, o, id);
            self.notes.push(format!(
                "kept: IAM role {} ({why}); this stack's policies and statements are taken \
                 out. Once nobody needs it: aws iam delete-role --role-name {}",
                role.name, role.name
            ));
        } else {
            self.notes.push(format!(
                "kept: IAM role {} and its policies ({why})",
                role.name
            ));
        }
        let provider_arn = self.desired.oidc_provider.as_ref().map(|p| p.arn.as_str());
        if provider_arn.is_some_and(|arn| trust::names_provider(&trust, arn)) {
            left.still_trusting.push(role.name.clone());
        }
        if canonical(&trust) != canonical(&o.trust) {
            let action = Action::UpdateTrustPolicy {
                role: role.name.clone(),
                trust,
                edit: Some(edit),
            };
            let after = association_ids.to_vec();
            self.push(format!("{id}/trust"), Group::Iam, action, after);
            left.step_ids.push(format!("{id}/trust"));
        }
    }

    /// A role this stack alone uses goes, after its inline policies, its attached ones and
    /// the associations.
    fn delete_role(
        &mut self,
        role: &crate::render::Role,
        o: &super::observed::Role,
        id: String,
        association_ids: &[String],
        left: &mut RolesLeft,
    ) {
        let mut before = association_ids.to_vec();
        for policy in o.inline.keys() {
            let pid = format!("{id}/policy/{policy}");
            let action = Action::DeleteRolePolicy {
                role: role.name.clone(),
                policy: policy.clone(),
                kept: false,
            };
            self.push(pid.clone(), Group::Iam, action, vec![]);
            before.push(pid);
        }
        for arn in &o.attached {
            let pid = format!("{id}/attached/{arn}");
            let action = Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: arn.clone(),
                record: None,
            };
            self.push(pid.clone(), Group::Iam, action, vec![]);
            before.push(pid);
        }
        left.step_ids.push(id.clone());
        let action = Action::DeleteRole {
            role: role.name.clone(),
        };
        self.push(id, Group::Iam, action, before);
    }

    /// `down` of a role someone else's statement keeps: this stack's inline policies and the
    /// managed policies it attached (by their record tags) come off; the rest is theirs.
    fn strip_role(&mut self, role: &crate::render::Role, live: &super::observed::Role, id: &str) {
        for policy in role
            .policies
            .iter()
            .filter(|p| live.inline.contains_key(&p.name))
        {
            let action = Action::DeleteRolePolicy {
                role: role.name.clone(),
                policy: policy.name.clone(),
                kept: true,
            };
            self.push(
                format!("{id}/policy/{}", policy.name),
                Group::Iam,
                action,
                vec![],
            );
        }
        for (key, arn) in super::recorded(live) {
            let action = Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: arn.clone(),
                record: Some(key),
            };
            self.push(format!("{id}/attached/{arn}"), Group::Iam, action, vec![]);
        }
    }

    /// IRSA's provider goes after the roles this plan deletes, and only when this stack made
    /// it and no other role in the account (read by `down`, every role) trusts it.
    fn oidc_provider(&mut self, roles: &RolesLeft) {
        let (desired, observed) = (self.desired, self.observed);
        let (Some(want), Some(live)) = (&desired.oidc_provider, &observed.oidc_provider) else {
            return;
        };
        let what = format!("IAM OIDC provider {}", want.url);
        if !self.owned(&live.tags) {
            self.notes
                .push(format!("left alone: {what} (not created by this stack)"));
            return;
        }
        let Some(trusted_by) = &observed.oidc_trusted_by else {
            self.notes.push(format!(
                "left alone: {what} (the roles that may trust it were not read)"
            ));
            return;
        };
        // This stack's roles go in this plan, unless they are kept with others' statements.
        let ours = |r: &String| desired.roles.iter().any(|d| &d.name == r);
        let mut others: Vec<&String> = trusted_by
            .iter()
            .filter(|r| !ours(r) || roles.still_trusting.contains(r))
            .collect();
        others.dedup();
        if !others.is_empty() {
            let names: Vec<&str> = others.iter().map(|r| r.as_str()).collect();
            self.notes.push(format!(
                "kept: {what} (IAM role{} {} still trust{} it)",
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 { "s" } else { "" }
            ));
            return;
        }
        let action = Action::DeleteOidcProvider {
            arn: live.arn.clone(),
            url: want.url.clone(),
        };
        let id = super::oidc_step_id(&want.host);
        self.push(id, Group::Iam, action, roles.step_ids.clone());
    }

    /// The Pod Identity Agent add-on, when this stack added it, after the associations.
    fn addon(&mut self, association_ids: &[String]) {
        let (Some(name), Some(addon)) = (&self.desired.addon, &self.observed.addon) else {
            return;
        };
        if self.owned(&addon.tags) {
            let action = Action::DeleteAddon {
                addon: name.clone(),
            };
            let id = format!("eks:addon/{name}");
            self.push(id, Group::Eks, action, association_ids.to_vec());
        } else {
            self.notes.push(format!(
                "left alone: EKS add-on {name} (kedactl did not create it)"
            ));
        }
    }

    /// The plan of the groups in `--only`, or why `down` refuses to run it.
    fn finish(self) -> Result<(Plan, Vec<String>), Refused> {
        let plan = restrict(self.steps, &self.opts.only);
        if self.refused.is_empty() {
            return Ok((plan, self.notes));
        }
        let (resources, reasons) = self.refused.into_iter().unzip();
        Err(Refused {
            reasons,
            resources,
            plan,
            notes: self.notes,
        })
    }
}

/// Why an owned role stays, and how its trust is edited: someone else's statement keeps it
/// (this stack's go: all of them, or, kept for another cluster of the stack, this cluster's),
/// or another cluster's KEDA still chains to it. `None`: the role goes.
fn kept_because(
    role: &crate::render::Role,
    o: &super::observed::Role,
    operator_kept: bool,
) -> Option<(String, trust::Edit)> {
    // Kept for another cluster of the stack, the role keeps its policies and the chain
    // (they serve that cluster too). Kept only by someone else's statement, the stack
    // ends here: its grants and the chain (naming an operator role that goes) go.
    // Another cluster's KEDA chains to this identity role from the operator role it keeps.
    let chained = operator_kept
        && role.purpose == crate::render::RolePurpose::Identity
        && trust::chains(&o.trust);
    match trust::leave(&role.trust.body, &o.trust) {
        Leave::Keep { kept_by, .. } => {
            let stack = kept_by
                .iter()
                .any(|s| s.starts_with(crate::render::SID_PREFIX));
            let edit = if stack || chained {
                trust::Edit::Take
            } else {
                trust::Edit::TakeAll
            };
            Some((
                format!("its trust still admits {}", kept_by.join(", ")),
                edit,
            ))
        }
        // This cluster's own service-account statements still go.
        Leave::Delete if chained => Some((
            "another cluster's KEDA still chains to it from the operator role".into(),
            trust::Edit::Take,
        )),
        Leave::Delete => None,
    }
}

/// "SQS queue q holds 2,060 messages: …": why a delete waits for `--force`.
fn refusal(
    what: &str,
    data: &crate::observed::Data,
    group: Group,
    keep: Option<&str>,
) -> (String, String) {
    let holds = match data.count {
        Some(_) => format!("holds {}", data.describe()),
        None => format!("may hold data: {}", data.describe()),
    };
    let keep = match keep {
        Some(k) => k.to_string(),
        None => format!("leave {} out of --only", group.as_str()),
    };
    let reason = format!("{what} {holds}: pass --force to delete it anyway, or {keep} to keep it");
    (what.to_string(), reason)
}

/// A shared queue or repository another cluster still uses is kept (and said so): `Some`, with
/// this cluster's tag key when it carries one (to remove, so it no longer counts as a user).
/// `None`: no other cluster uses it, delete it (one without any cluster key predates them).
fn still_used(
    desired: &Desired,
    tags: &Tags,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<Option<String>> {
    let others = model::other_clusters(tags, &desired.cluster);
    if others.is_empty() {
        return None;
    }
    notes.push(format!(
        "kept: {what} (cluster{} {} still use{} it)",
        if others.len() == 1 { "" } else { "s" },
        others.join(", "),
        if others.len() == 1 { "s" } else { "" }
    ));
    let key = model::cluster_tag(&desired.cluster);
    Some(tags.contains_key(&key).then_some(key))
}

/// The objects a manifest of `kind` in namespace `ns` refers to: its namespace; a scaler's
/// target and authentication; a pod template's service account.
fn references(m: &serde_json::Value, kind: &str, ns: Option<&str>) -> Vec<ObjectKey> {
    let mut out = Vec::new();
    let Some(ns) = ns else { return out };
    let mut named = |kind: &str, name: &serde_json::Value, ns: Option<&str>| {
        if let Some(name) = name.as_str() {
            out.push((kind.to_string(), ns.map(str::to_string), name.to_string()));
        }
    };
    named("Namespace", &serde_json::json!(ns), None);
    let spec = &m["spec"];
    if kind == "ScaledObject" {
        let target = &spec["scaleTargetRef"];
        named(
            target["kind"].as_str().unwrap_or("Deployment"),
            &target["name"],
            Some(ns),
        );
    }
    for t in spec["triggers"].as_array().into_iter().flatten() {
        let auth = &t["authenticationRef"];
        match auth["kind"].as_str().unwrap_or("TriggerAuthentication") {
            "ClusterTriggerAuthentication" => {
                named("ClusterTriggerAuthentication", &auth["name"], None)
            }
            kind => named(kind, &auth["name"], Some(ns)),
        }
    }
    for pod in [
        &spec["template"]["spec"],
        &spec["jobTargetRef"]["template"]["spec"],
    ] {
        named("ServiceAccount", &pod["serviceAccountName"], Some(ns));
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::observed::{Association, Queue, Repository, Role};
    use crate::render;
    use crate::spec::{DeadLetter, Spec};

    fn desired() -> Desired {
        desired_in("demo")
    }

    /// What step `id` of `p` waits for, sorted.
    fn sorted_after(p: &Plan, id: &str) -> Vec<String> {
        let step = p.steps.iter().find(|s| s.id == id).expect(id);
        let mut after = step.after.clone();
        after.sort();
        after
    }

    /// The default spec, in cluster demo of a known account.
    fn demo_spec() -> Spec {
        Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        }
    }

    fn desired_in(cluster: &str) -> Desired {
        let mut spec = Spec {
            cluster: Some(cluster.into()),
            ..demo_spec()
        };
        spec.apps[0].queue.dead_letter = Some(DeadLetter {
            name: None,
            max_receive_count: 5,
        });
        render::desired(&spec).unwrap()
    }

    pub(in crate::plan) fn everything(d: &Desired, tags: &Tags) -> Observed {
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
                path: None,
                tags: tags.clone(),
            };
            o.roles.insert(r.name.clone(), role);
        }
        for q in &d.queues {
            // As SQS reports an empty queue.
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

    /// An IRSA stack with its provider (tagged `tags`) and the roles `trusted_by` read.
    fn irsa(provider_tags: &Tags, trusted_by: Option<Vec<&str>>) -> (Desired, Observed) {
        let spec = Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            auth_mode: crate::spec::AuthMode::Irsa,
            oidc_issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into()),
            ..Spec::default()
        };
        let d = render::desired(&spec).unwrap();
        let mut o = everything(&d, &model::ownership("kedactl"));
        let p = d.oidc_provider.as_ref().unwrap();
        o.oidc_provider = Some(crate::observed::OidcProvider {
            arn: p.arn.clone(),
            url: p.host.clone(),
            client_ids: vec!["sts.amazonaws.com".into()],
            tags: provider_tags.clone(),
        });
        o.oidc_trusted_by = trusted_by.map(|r| r.into_iter().map(String::from).collect());
        (d, o)
    }

    #[test]
    fn the_oidc_provider_goes_last_only_when_ours_and_trusted_by_no_other_role() {
        const ID: &str = "iam:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
        let ours = model::ownership("kedactl");
        // Trusted only by the roles this plan deletes: it goes after them.
        let (d, o) = irsa(&ours, Some(vec!["keda-operator", "keda-identity"]));
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let step = p.steps.iter().find(|s| s.id == ID).expect("deleted");
        assert!(
            matches!(&step.action, Action::DeleteOidcProvider { arn, .. } if arn.ends_with("oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"))
        );
        for role in ["iam:role/keda-operator", "iam:role/keda-identity"] {
            assert!(step.after.contains(&role.to_string()), "{:?}", step.after);
        }
        // Another role of the account trusts it: kept, and said why.
        let (d, o) = irsa(&ours, Some(vec!["keda-operator", "ci-deployer"]));
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(!ids(&p).contains(&ID), "{:?}", ids(&p));
        assert!(
            notes
                .iter()
                .any(|n| n.contains("kept: IAM OIDC provider") && n.contains("ci-deployer")),
            "{notes:?}"
        );
        // Made by someone else (eksctl), or the account's roles unread: never deleted.
        for (tags, trusted) in [(Tags::new(), Some(vec![])), (ours.clone(), None)] {
            let (d, o) = irsa(&tags, trusted);
            let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
            assert!(!ids(&p).contains(&ID), "{:?}", ids(&p));
            assert!(
                notes
                    .iter()
                    .any(|n| n.starts_with("left alone: IAM OIDC provider")),
                "{notes:?}"
            );
        }
        // A role of this stack kept for another cluster's statement still trusts it.
        let (d, mut o) = irsa(&ours, Some(vec!["keda-identity"]));
        let role = o.roles.get_mut("keda-identity").unwrap();
        let mut other = role.trust["Statement"][0].clone();
        other["Sid"] = "KedactlOtherClusterSecurityMySqsReadMsgs00000000".into();
        role.trust["Statement"].as_array_mut().unwrap().push(other);
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(!ids(&p).contains(&ID), "{:?} {notes:?}", ids(&p));
        assert!(
            notes.iter().any(|n| n.contains("kept: IAM OIDC provider")),
            "{notes:?}"
        );
    }

    /// Issue 28: each queue waited for every queue listed before it, a chain as long as the
    /// stack (100 apps: 100 deletes one after another). Only a dead-letter queue waits, and
    /// only for the queues that send to it.
    #[test]
    fn queues_go_at_once_and_a_dead_letter_queue_after_its_senders() {
        let mut spec = demo_spec();
        let shared = Some(DeadLetter {
            name: Some("shared-dlq".into()),
            max_receive_count: 5,
        });
        let app = |n: usize| {
            let mut a = spec.apps[0].clone();
            a.deployment = format!("app{n}");
            a.service_account = format!("sa{n}");
            a.queue.name = format!("q{n}");
            a
        };
        let (mut a1, mut a2, a3) = (app(1), app(2), app(3));
        a1.queue.dead_letter = shared.clone();
        a2.queue.dead_letter = shared;
        spec.apps = vec![a1, a2, a3];
        let d = render::desired(&spec).unwrap();
        let o = everything(&d, &model::ownership("kedactl"));
        let (p, _) = teardown(&d, &o, &Options::default()).unwrap();
        let after = |id: &str| sorted_after(&p, id);
        assert_eq!(after("queue:shared-dlq"), ["queue:q1", "queue:q2"]);
        for q in ["queue:q1", "queue:q2", "queue:q3"] {
            assert!(after(q).is_empty(), "{q} waits for {:?}", after(q));
        }
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
    fn a_workspace_goes_after_the_scraper_that_writes_to_it() {
        let mut spec = demo_spec();
        spec.apps[0].trigger = crate::triggers::Kind::Prometheus;
        spec.apps[0].prometheus = Some(crate::triggers::prometheus::Config::sample(
            crate::triggers::prometheus::Workspace {
                alias: Some("AMP-KEDA".into()),
                id: None,
            },
        ));
        let ws = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1";
        let offline = render::desired(&spec).unwrap();
        let mut o = Observed::default();
        let live = |id: &str, arn: &str, settings| crate::observed::Resource {
            id: id.into(),
            arn: arn.into(),
            status: "ACTIVE".into(),
            tags: offline.shared_tags(),
            settings,
            ..Default::default()
        };
        o.resources.insert(
            "aps:workspace/AMP-KEDA".into(),
            live("ws-1", ws, serde_json::Value::Null),
        );
        o.resources.insert(
            "aps:scraper/kedactl-demo-AMP-KEDA".into(),
            live(
                "s-1",
                "arn:aws:aps:us-east-1:123456789012:scraper/s-1",
                serde_json::json!({"workspaceArn": ws}),
            ),
        );
        let d = render::desired_with(&spec, &o).unwrap();
        let force = Options {
            force: true,
            ..Options::default()
        };
        let (p, _) = teardown(&d, &o, &force).unwrap();
        let step = |id: &str| p.steps.iter().find(|s| s.id == id).unwrap();
        assert_eq!(
            step("aps:workspace/AMP-KEDA").after,
            ["aps:scraper/kedactl-demo-AMP-KEDA"]
        );
        assert!(step("aps:scraper/kedactl-demo-AMP-KEDA").after.is_empty());
    }

    /// Both clusters ran `up`: merged trust, each cluster's user tag on the queues and repository.
    fn shared(a: &Desired, b: &Desired) -> Observed {
        let mut o = everything(a, &model::ownership("kedactl"));
        for (name, r) in o.roles.iter_mut() {
            let rb = b.roles.iter().find(|x| &x.name == name).unwrap();
            r.trust = trust::merge(&rb.trust.body, &r.trust);
        }
        for tags in o
            .queues
            .values_mut()
            .map(|q| &mut q.tags)
            .chain(o.repositories.values_mut().map(|r| &mut r.tags))
        {
            tags.extend(a.shared_tags());
            tags.extend(b.shared_tags());
        }
        o
    }

    #[test]
    fn a_cluster_leaving_a_shared_stack_takes_only_its_own_part() {
        let (a, b) = (desired(), desired_in("b"));
        let o = shared(&a, &b);
        let (p, notes) = teardown(&b, &o, &Options::default()).unwrap();
        assert_eq!(
            ids(&p),
            [
                "eks:association/keda/keda-operator",
                "eks:association/security/my-sqs-read-msgs",
                "queue:event-messages-queue/tags",
                "queue:event-messages-queue-dlq/tags",
                "registry:keda-pod-identity-registry/tags",
                "iam:role/keda-identity/trust",
                "iam:role/keda-operator/trust",
            ]
        );
        let kept_by = |role: usize| a.roles[role].trust.body["Statement"][0]["Sid"].clone();
        assert!(
            notes.contains(&format!(
                "kept: IAM role keda-identity and its policies (its trust still admits {})",
                kept_by(1).as_str().unwrap()
            )),
            "{notes:?}"
        );
        assert!(
            notes.contains(
                &"kept: SQS queue event-messages-queue (cluster demo still uses it)".to_string()
            ),
            "{notes:?}"
        );
        // What is left is exactly cluster demo's trust (the chain included) and its tags.
        let mut after = o.clone();
        for s in &p.steps {
            match &s.action {
                Action::UpdateTrustPolicy { role, trust, .. } => {
                    assert_eq!(s.change, Change::Update);
                    after.roles.get_mut(role).unwrap().trust = trust.clone();
                }
                Action::UntagQueue { queue, keys, .. } => {
                    assert_eq!(keys, &["kedactl.io/cluster/b"]);
                    let tags = &mut after.queues.get_mut(queue).unwrap().tags;
                    tags.retain(|k, _| !keys.contains(k));
                }
                Action::UntagRepository {
                    repository, keys, ..
                } => {
                    let tags = &mut after.repositories.get_mut(repository).unwrap().tags;
                    tags.retain(|k, _| !keys.contains(k));
                }
                Action::DeleteAssociation { .. } => {}
                other => panic!("b's down must not delete {other:?}"),
            }
        }
        for r in &a.roles {
            assert_eq!(
                canonical(&after.roles[&r.name].trust),
                canonical(&r.trust.body),
                "{}",
                r.name
            );
        }
        // The last cluster's down removes everything.
        let (p, notes) = teardown(&a, &after, &Options::default()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert!(ids(&p).contains(&"iam:role/keda-identity"));
        assert!(ids(&p).contains(&"queue:event-messages-queue"));
        assert!(ids(&p).contains(&"registry:keda-pod-identity-registry"));
        assert!(p.steps.iter().all(|s| s.change == Change::Delete));
    }

    #[test]
    fn an_identity_role_only_keda_uses_stays_while_another_cluster_chains_to_it() {
        // Apps that do not call AWS themselves (AMP, CloudWatch): the identity role's trust is
        // the operator chain alone, the same from every cluster.
        let chain_only = |d: &mut Desired| {
            let id = &mut d.roles[1];
            let chain: Vec<serde_json::Value> = id.trust.body["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["Sid"] == render::CHAIN_SID)
                .cloned()
                .collect();
            id.trust.body["Statement"] = serde_json::Value::Array(chain);
        };
        // Cluster a's apps never call AWS; b's app consumes with the same role.
        let (mut a, b) = (desired(), desired_in("b"));
        chain_only(&mut a);
        let o = shared(&a, &b);
        let (p, notes) = teardown(&b, &o, &Options::default()).unwrap();
        assert!(
            !ids(&p).contains(&"iam:role/keda-identity"),
            "{:?}",
            ids(&p)
        );
        // b's own statement goes; the chain stays for a.
        let step = p
            .steps
            .iter()
            .find(|s| s.id == "iam:role/keda-identity/trust")
            .unwrap_or_else(|| panic!("{:?}", ids(&p)));
        let Action::UpdateTrustPolicy { trust, .. } = &step.action else {
            panic!()
        };
        assert_eq!(canonical(trust), canonical(&a.roles[1].trust.body));
        assert!(
            !ids(&p).contains(&"iam:role/keda-identity/policy/kedactl-sqs-access"),
            "{:?}",
            ids(&p)
        );
        assert!(
            notes.iter().any(|n| n.starts_with(
                "kept: IAM role keda-identity and its policies (another cluster's KEDA"
            )),
            "{notes:?}"
        );
        // The last cluster takes it with the operator role.
        let (p, _) = teardown(
            &a,
            &everything(&a, &model::ownership("kedactl")),
            &Options::default(),
        )
        .unwrap();
        assert!(ids(&p).contains(&"iam:role/keda-identity"));
    }

    #[test]
    fn a_role_a_person_added_a_statement_to_is_kept_without_ours() {
        let d = desired();
        let mut o = everything(&d, &model::ownership("kedactl"));
        let person = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"});
        for role in ["keda-operator", "keda-identity"] {
            let role = o.roles.get_mut(role).unwrap();
            role.trust["Statement"]
                .as_array_mut()
                .unwrap()
                .push(person.clone());
            // A policy the person put there is theirs.
            role.inline.insert("theirs".into(), serde_json::json!({}));
        }
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        for role in ["keda-operator", "keda-identity"] {
            assert!(!ids(&p).contains(&format!("iam:role/{role}").as_str()));
            // Only the person's statement stays: the chain on the identity role names an
            // operator role that is no longer this stack's.
            let step = p
                .steps
                .iter()
                .find(|s| s.id == format!("iam:role/{role}/trust"))
                .unwrap();
            let Action::UpdateTrustPolicy { trust, edit, .. } = &step.action else {
                panic!()
            };
            assert_eq!(trust["Statement"], serde_json::json!([person]), "{role}");
            assert_eq!(*edit, Some(trust::Edit::TakeAll));
            assert!(
                notes
                    .iter()
                    .any(|n| n.starts_with(&format!(
                        "kept: IAM role {role} (its trust still admits a statement without Sid)"
                    )) && n.ends_with(&format!("aws iam delete-role --role-name {role}"))),
                "{notes:?}"
            );
            assert!(!ids(&p).contains(&format!("iam:role/{role}/policy/theirs").as_str()));
        }
        // The stack's grants go with it, marked so that only another cluster joining since
        // the plan refuses them.
        for (role, policy) in [
            ("keda-operator", "kedactl-assume-identity"),
            ("keda-identity", render::IDENTITY_POLICY),
        ] {
            let step = p
                .steps
                .iter()
                .find(|s| s.id == format!("iam:role/{role}/policy/{policy}"))
                .unwrap_or_else(|| panic!("{role}/{policy}: {:?}", ids(&p)));
            assert!(matches!(
                step.action,
                Action::DeleteRolePolicy { kept: true, .. }
            ));
        }
    }

    #[test]
    fn a_role_kept_for_another_cluster_and_a_person_keeps_its_policies_and_chain() {
        let (a, b) = (desired(), desired_in("b"));
        let mut o = everything(&a, &model::ownership("kedactl"));
        let person = serde_json::json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"});
        for r in &b.roles {
            let live = o.roles.get_mut(&r.name).unwrap();
            live.trust = trust::Edit::Put.apply(&r.trust.body, &live.trust);
            live.trust["Statement"]
                .as_array_mut()
                .unwrap()
                .push(person.clone());
        }
        let (p, _) = teardown(&a, &o, &Options::default()).unwrap();
        assert!(
            !ids(&p).iter().any(|i| i.contains("/policy/")),
            "{:?}",
            ids(&p)
        );
        let step = p
            .steps
            .iter()
            .find(|s| s.id == "iam:role/keda-identity/trust")
            .unwrap();
        let Action::UpdateTrustPolicy { trust, edit, .. } = &step.action else {
            panic!()
        };
        assert_eq!(*edit, Some(trust::Edit::Take));
        assert!(trust::chains(trust));
    }

    #[test]
    fn a_queue_another_cluster_uses_is_kept_even_without_our_tag() {
        let (a, b) = (desired(), desired_in("b"));
        let mut o = everything(&a, &model::ownership("kedactl"));
        for q in o.queues.values_mut() {
            q.tags.extend(a.shared_tags());
        }
        o.repositories
            .get_mut("keda-pod-identity-registry")
            .unwrap()
            .images = 2;
        o.repositories
            .get_mut("keda-pod-identity-registry")
            .unwrap()
            .tags
            .extend(a.shared_tags());
        // b never ran up here: nothing to untag, nothing deleted, no refusal over images.
        let (p, notes) = teardown(&b, &o, &Options::default()).unwrap();
        assert!(
            !ids(&p)
                .iter()
                .any(|i| i.starts_with("queue:") || i.starts_with("registry:")),
            "{:?}",
            ids(&p)
        );
        assert!(
            notes.contains(
                &"kept: ECR repository keda-pod-identity-registry (cluster demo still uses it)"
                    .to_string()
            ),
            "{notes:?}"
        );
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
    fn a_queue_with_messages_is_refused_and_the_plan_names_the_loss() {
        let d = desired();
        let mut o = everything(&d, &model::ownership("kedactl"));
        let q = o.queues.get_mut("event-messages-queue").unwrap();
        q.attributes
            .insert("ApproximateNumberOfMessages".into(), "2000".into());
        q.attributes
            .insert("ApproximateNumberOfMessagesNotVisible".into(), "60".into());
        let refused = teardown(&d, &o, &Options::default()).unwrap_err();
        assert_eq!(
            refused.reasons,
            [
                "SQS queue event-messages-queue holds 2,060 messages: pass --force to delete it \
              anyway, or leave queue out of --only to keep it"
            ]
        );
        let step = |p: &Plan| {
            p.steps
                .iter()
                .find(|s| s.id == "queue:event-messages-queue")
                .cloned()
                .unwrap()
        };
        assert_eq!(
            step(&refused.plan).summary,
            "delete SQS queue event-messages-queue — 2,060 messages would be lost"
        );
        let json = serde_json::to_value(step(&refused.plan)).unwrap();
        assert_eq!(json["loses"]["count"], 2060);
        assert_eq!(json["loses"]["parts"]["inFlight"], 60);
        // The empty dead-letter queue is no reason to stop.
        assert_eq!(refused.reasons.len(), 1);

        // Not in --only: not deleted, so not refused.
        let iam = Options {
            only: Only::new(vec![Group::Iam]),
            ..Options::default()
        };
        assert!(teardown(&d, &o, &iam).is_ok());
        let (p, _) = teardown(
            &d,
            &o,
            &Options {
                force: true,
                ..Options::default()
            },
        )
        .unwrap();
        assert!(matches!(
            step(&p).action,
            Action::DeleteQueue { force: true, .. }
        ));
    }

    #[test]
    fn a_table_with_items_or_whose_items_were_not_counted_is_refused() {
        let mut d = desired();
        let table = crate::triggers::resource::Resource {
            kind: crate::triggers::resource::Kind::DynamodbTable,
            name: "orders".into(),
            managed: true,
            settings: serde_json::Value::Null,
        };
        d.resources.push(table.clone());
        let mut o = Observed::default();
        o.resources.insert(
            table.id(),
            crate::observed::Resource {
                id: table.name.clone(),
                arn: format!(
                    "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
                    table.name
                ),
                status: "ACTIVE".into(),
                tags: d.shared_tags(),
                ..Default::default()
            },
        );
        let err = teardown(&d, &o, &Options::default()).unwrap_err();
        assert!(
            err.reasons[0].contains("may hold data: an unknown number of items"),
            "{err}"
        );
        let mut items = crate::observed::Data::counted(12, "items");
        items.parts.insert("itemCount".into(), 12);
        o.data.insert(table.id(), items);
        let err = teardown(&d, &o, &Options::default()).unwrap_err();
        assert!(err.reasons[0].contains("holds 12 items"), "{err}");
        o.data
            .insert(table.id(), crate::observed::Data::counted(0, "items"));
        let (p, _) = teardown(&d, &o, &Options::default()).unwrap();
        assert!(ids(&p).contains(&table.id().as_str()));
        // In JSON the step keeps its id; the service's id is `resourceId`.
        let json = serde_json::to_value(&p.steps[0]).unwrap();
        assert_eq!(
            (json["id"].as_str(), json["resourceId"].as_str()),
            (Some("dynamodb:table/orders"), Some("orders"))
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
            values: None,
        });
        o
    }

    /// Issue 28: the cluster objects went one at a time, a chain as long as the stack. Now each
    /// waits only for what refers to it; apps side by side go at once.
    #[test]
    fn each_object_waits_only_for_what_refers_to_it() {
        let mut spec = demo_spec();
        let mut second = spec.apps[0].clone();
        second.deployment = "second".into();
        second.queue.name = "second-queue".into();
        spec.apps.push(second);
        let d = render::desired(&spec).unwrap();
        let mut o = everything(&d, &model::ownership("kedactl"));
        o.objects.extend(d.manifests.iter().cloned());
        o.namespace_contents.insert("security".into(), vec![]);
        let (p, notes) = teardown(&d, &o, &Options::default()).unwrap();
        let after = |id: &str| sorted_after(&p, id);
        // The step ids of a kind's objects, in render order (the first app's first).
        let of = |kind: &str| -> Vec<String> {
            let prefix = format!("app:{kind}/");
            let mut ids: Vec<String> = p
                .steps
                .iter()
                .filter(|s| s.id.starts_with(&prefix))
                .map(|s| s.id.clone())
                .collect();
            ids.reverse();
            ids
        };
        let (so, dep, ta, sa) = (
            of("ScaledObject"),
            of("Deployment"),
            of("TriggerAuthentication"),
            of("ServiceAccount"),
        );
        assert_eq!(
            (so.len(), dep.len(), ta.len(), sa.len()),
            (2, 2, 2, 1),
            "{:?}",
            ids(&p)
        );
        for i in 0..2 {
            assert!(after(&so[i]).is_empty(), "{notes:?}");
            assert_eq!(after(&dep[i]), [so[i].clone()]);
            assert_eq!(after(&ta[i]), [so[i].clone()]);
        }
        let mut both = dep.clone();
        both.sort();
        assert_eq!(after(&sa[0]), both);
        // The namespace goes last: everything in it refers to it.
        let ns = after("app:Namespace/security");
        assert_eq!(ns.len(), 7, "{ns:?}");
    }

    /// Issue 28: `down` of many apps goes side by side. The longest chain of steps one after
    /// another is the same for 40 apps (each with its own namespace, queue, dead-letter queue,
    /// repository and role) as for one.
    #[test]
    fn the_longest_chain_does_not_grow_with_the_apps() {
        let longest = |apps: usize| {
            let mut spec = demo_spec();
            let first = spec.apps[0].clone();
            spec.apps = (0..apps)
                .map(|i| {
                    let mut a = first.clone();
                    a.deployment = format!("app{i}");
                    a.namespace = format!("ns{i}");
                    a.identity_role = Some(format!("app{i}-identity"));
                    a.repository = format!("repo{i}");
                    a.queue.name = format!("q{i}");
                    a.queue.dead_letter = Some(DeadLetter {
                        name: None,
                        max_receive_count: 5,
                    });
                    a
                })
                .collect();
            let d = render::desired(&spec).unwrap();
            let mut o = everything(&d, &model::ownership("kedactl"));
            o.objects.extend(d.manifests.iter().cloned());
            for i in 0..apps {
                o.namespace_contents.insert(format!("ns{i}"), vec![]);
            }
            let (p, _) = teardown(&d, &o, &Options::default()).unwrap();
            assert!(p.steps.len() > 10 * apps, "{} steps", p.steps.len());
            // Passes until nothing deepens: dependencies may point either way in the plan.
            let mut depth: HashMap<&str, usize> = HashMap::new();
            loop {
                let mut deeper = false;
                for s in &p.steps {
                    let before = s.after.iter().filter_map(|a| depth.get(a.as_str())).max();
                    let d = before.copied().unwrap_or(0) + 1;
                    deeper |= depth.insert(&s.id, d) != Some(d);
                }
                if !deeper {
                    break;
                }
            }
            depth.into_values().max().unwrap()
        };
        assert_eq!(longest(40), longest(1));
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
