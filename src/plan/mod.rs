//! (Desired, Observed) → Plan: the ordered, typed actions that make what exists match what is
//! wanted. Pure and serialisable, so `plan` prints it, `up` confirms and executes it, JSON
//! output and snapshot tests read the same value. A converged stack gives an empty plan.

mod action;
pub use crate::observed;
pub mod prune;
pub mod saved;
pub mod teardown;
pub mod trust;
pub mod workload;

pub use action::{Action, Change, FieldChange, Service};
pub use teardown::teardown;

use crate::model::{self, Group, Only};
use crate::render::{self, Desired, IRSA_ANNOTATION, RolePurpose, policy::canonical};
use crate::spec::AuthMode;
use crate::triggers::resource;
pub use observed::Observed;
use observed::Tags;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Step {
    /// Stable id, e.g. `iam:role/keda-operator`; `after` refers to these.
    pub id: String,
    pub group: Group,
    pub change: Change,
    /// One line for people.
    pub summary: String,
    /// What an update changes, old → new (empty for creates, deletes and runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(flatten)]
    pub action: Action,
    /// Steps that must finish first; steps with no path between them may run concurrently.
    pub after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub run: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.steps {
            match s.change {
                Change::Create => c.create += 1,
                Change::Update => c.update += 1,
                Change::Delete => c.delete += 1,
                Change::Run => c.run += 1,
            }
        }
        c
    }
}

/// Starts the reason of a conflict over a resource the config names but kedactl does not make.
const NOT_FOUND: &str = "not found";
/// In the reason of a conflict over a role on another IAM path (`--adopt` cannot change it).
const CANNOT_MOVE: &str = "IAM cannot move a role";

/// A resource kedactl will not change: one with our name that this stack does not own, or
/// one the change would push past an AWS quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Conflict {
    pub resource: String,
    pub reason: String,
}

impl Conflict {
    /// Ownership conflicts are the ones `--adopt` resolves.
    fn is_ownership(&self) -> bool {
        !self.reason.contains("quota")
            && !self.reason.starts_with(NOT_FOUND)
            && !self.reason.contains(CANNOT_MOVE)
            && !self.reason.starts_with(workload::DIFFERS)
            && !self.reason.starts_with(prune::NO_LONGER)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Conflicts {
    pub stack: String,
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kedactl will not change {} existing resource(s) of stack {:?}:",
            self.conflicts.len(),
            self.stack
        )?;
        for c in &self.conflicts {
            write!(f, "\n  - {}: {}", c.resource, c.reason)?;
        }
        if self.conflicts.iter().any(Conflict::is_ownership) {
            write!(
                f,
                "\nkedactl changes only what carries the tag {}={}. Pass --adopt to take these over, \
                 or choose other names (--stack, role/queue/repository flags).",
                model::STACK,
                self.stack
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Take over same-named resources that lack this stack's tags (tagging them).
    pub adopt: bool,
    pub only: Only,
    /// Delete what the config no longer names even when it holds data (`up --force`).
    pub force: bool,
    /// Keep what the config no longer names (`--no-prune`): `prune::kept` lists it.
    pub no_prune: bool,
}

/// Delete steps (id, action) for the live resources of this stack that `desired` no longer
/// names: `up` and `down` both remove them.
pub(crate) fn retired_resources(desired: &Desired, observed: &Observed) -> Vec<(String, Action)> {
    observed
        .resources
        .iter()
        .filter(|(id, live)| {
            !desired.resources.iter().any(|r| &r.id() == *id)
                && model::is_owned(&live.tags, &desired.stack)
        })
        .filter_map(|(id, live)| {
            let (kind, name) = resource::parse_id(id)?;
            let action = Action::DeleteResource {
                resource: kind,
                name: name.to_string(),
                id: live.id.clone(),
                arn: live.arn.clone(),
                force: false,
                loses: None,
            };
            Some((id.clone(), action))
        })
        .collect()
}

/// Delete steps (id, action) for the pod identity associations an earlier kedactl made for an
/// app KEDA alone reads for: this stack's, still on the identity role they were made for.
pub(crate) fn retired_associations(
    desired: &Desired,
    observed: &Observed,
) -> Vec<(String, Action)> {
    let mut out = Vec::new();
    for r in &desired.retired_associations {
        let Some(o) = observed.associations.iter().find(|o| {
            o.namespace == r.namespace
                && o.service_account == r.service_account
                && o.role_arn == r.role_arn
                && model::is_owned(&o.tags, &desired.stack)
        }) else {
            continue;
        };
        let action = Action::DeleteAssociation {
            association_id: o.id.clone(),
            namespace: r.namespace.clone(),
            service_account: r.service_account.clone(),
        };
        let id = format!("eks:association/{}/{}", r.namespace, r.service_account);
        out.push((id, action));
    }
    out
}

/// Plan the changes that make `observed` match `desired`.
pub fn plan(desired: &Desired, observed: &Observed, opts: &Options) -> Result<Plan, Conflicts> {
    let (plan, conflicts) = plan_marked(desired, observed, opts);
    if conflicts.conflicts.is_empty() {
        Ok(plan)
    } else {
        Err(conflicts)
    }
}

/// The same plan, with the resources it will not change beside it rather than instead of it:
/// `plan` shows both (and still fails), so a reviewer sees the rest of the change too.
pub fn plan_marked(desired: &Desired, observed: &Observed, opts: &Options) -> (Plan, Conflicts) {
    let mut p = Planner {
        desired,
        observed,
        adopt: opts.adopt,
        stale: match opts.no_prune {
            true => Default::default(),
            false => prune::stale_statements(desired, observed),
        },
        steps: Vec::new(),
        ids: std::collections::HashSet::new(),
        conflicts: Vec::new(),
    };
    p.addon();
    // Before what names them: their ids are filled into policies and manifests once made.
    p.resources();
    if !opts.no_prune {
        p.retired_resources();
    }
    p.oidc_provider();
    p.policies_exist();
    p.roles();
    p.queues();
    p.repositories();
    let mut changed_sas = p.associations();
    if !opts.no_prune {
        p.retired_associations();
    }
    if !opts.only.includes(Group::Eks) {
        // Associations were not observed: nothing is known to have changed, so no restarts.
        changed_sas.clear();
    }
    p.keda(&changed_sas);
    p.existing_workloads();
    p.pod_security();
    p.manifests(&changed_sas);
    if !opts.no_prune {
        p.prune(&opts.only, opts.force);
    }
    let conflicts = Conflicts {
        stack: desired.stack.clone(),
        conflicts: p.conflicts,
    };
    (restrict(p.steps, &opts.only), conflicts)
}

/// Does `up` move a KEDA this stack installed to another release? (keda.version changed; a
/// version that is not a release, such as `main`, is left alone.)
fn version_changes(found: &observed::Keda, wanted: &str, stack: &str) -> bool {
    found.installed_by.as_deref() == Some(stack)
        && crate::spec::names::version(&found.version).is_ok()
        && found.version.trim_start_matches('v') != wanted.trim_start_matches('v')
}

/// The deployment KEDA's chart names its operator.
const KEDA_OPERATOR: &str = "keda-operator";

/// What planning KEDA's install or upgrade works from.
struct KedaContext<'a> {
    keda: &'a render::KedaInstall,
    stack: &'a str,
    /// The steps an install waits for: the operator's association, the add-on being active.
    assoc: String,
    addon_wait: String,
    /// The operator role, in IRSA mode.
    irsa_role_arn: Option<String>,
    /// The recorded chart values of a KEDA this stack installed, when `keda.values` changed.
    values_from: Option<serde_json::Map<String, Value>>,
    /// The role the operator's service account names now, when it exists.
    service_account_role: Option<String>,
    /// That role is not the one it should name.
    irsa_stale: bool,
}

impl<'a> KedaContext<'a> {
    fn new(desired: &'a Desired, observed: &'a Observed) -> Self {
        let k = &desired.keda;
        let irsa_role_arn = (desired.auth_mode == AuthMode::Irsa)
            .then(|| {
                desired
                    .roles
                    .iter()
                    .find(|r| r.purpose == RolePurpose::Operator)
                    .map(|r| r.arn.clone())
            })
            .flatten();
        // A KEDA this stack installed with other chart values (none recorded: none given).
        let ours = |f: &observed::Keda| f.installed_by.as_deref() == Some(desired.stack.as_str());
        let values_from = observed
            .keda
            .as_ref()
            .filter(|f| ours(f))
            .map(|f| f.values.clone().unwrap_or_default())
            .filter(|v| *v != k.values);
        // The operator's service account names the operator role in IRSA mode (the chart sets
        // it), and no role in Pod Identity mode: the AWS SDK for Go resolves web identity
        // before container credentials, so a leftover annotation would win over the association.
        let annotation = |o: &Value| {
            o["metadata"]["annotations"][IRSA_ANNOTATION]
                .as_str()
                .map(str::to_string)
        };
        let operator_sa = observed.object("ServiceAccount", Some(&k.namespace), &k.service_account);
        KedaContext {
            keda: k,
            stack: &desired.stack,
            assoc: format!("eks:association/{}/{}", k.namespace, k.service_account),
            addon_wait: desired
                .addon
                .as_ref()
                .map(|a| format!("eks:addon/{a}/wait"))
                .unwrap_or_default(),
            irsa_stale: operator_sa.is_some_and(|sa| annotation(sa) != irsa_role_arn),
            service_account_role: operator_sa.and_then(annotation),
            irsa_role_arn,
            values_from,
        }
    }

    fn install(&self, from: Option<String>) -> Action {
        let k = self.keda;
        Action::InstallKeda {
            namespace: k.namespace.clone(),
            service_account: k.service_account.clone(),
            version: k.version.clone(),
            irsa_role_arn: self.irsa_role_arn.clone(),
            stack: self.stack.to_string(),
            from,
            values: k.values.clone(),
            values_from: self.values_from.clone(),
        }
    }
}

/// The step id of the IAM OIDC provider for issuer host `host`.
pub fn oidc_step_id(host: &str) -> String {
    format!("iam:oidc-provider/{host}")
}

/// Keep the steps of the chosen groups; dependencies on the others are assumed satisfied.
fn restrict(steps: Vec<Step>, only: &Only) -> Plan {
    let kept: Vec<Step> = steps
        .into_iter()
        .filter(|s| only.includes(s.group))
        .collect();
    let ids: std::collections::HashSet<String> = kept.iter().map(|s| s.id.clone()).collect();
    let steps = kept
        .into_iter()
        .map(|mut s| {
            s.after.retain(|a| ids.contains(a));
            s
        })
        .collect();
    Plan { steps }
}

struct Planner<'a> {
    desired: &'a Desired,
    observed: &'a Observed,
    adopt: bool,
    /// Per role, the Sids of this cluster's statements for service accounts the config no
    /// longer names (none with `--no-prune`): its trust update takes them out.
    stale: std::collections::BTreeMap<String, Vec<String>>,
    steps: Vec<Step>,
    /// The steps' ids, so a lookup does not walk every step (plans of thousands of apps).
    ids: std::collections::HashSet<String>,
    conflicts: Vec<Conflict>,
}

impl Planner<'_> {
    fn has(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Add a step; `after` ids that are not in the plan (already satisfied) are dropped.
    fn push(&mut self, id: String, group: Group, change: Change, action: Action, deps: &[&str]) {
        let mut after: Vec<String> = Vec::new();
        for a in deps {
            if self.has(a) && !after.iter().any(|x| x == a) {
                after.push(a.to_string());
            }
        }
        // A step that names a resource still to be created (by its placeholder) waits for it.
        let text = match self.desired.resources.is_empty() {
            true => String::new(),
            false => serde_json::to_string(&action).unwrap_or_default(),
        };
        for r in &self.desired.resources {
            let create = r.id();
            if text.contains(&r.placeholder()) && self.has(&create) && !after.contains(&create) {
                after.push(create);
            }
        }
        let summary = action.summary(change);
        let changes = action.changes(change, self.observed);
        self.ids.insert(id.clone());
        self.steps.push(Step {
            id,
            group,
            change,
            summary,
            changes,
            action,
            after,
        });
    }

    /// Ownership: a same-named resource without our tags is a conflict, or with --adopt, a tag step.
    /// `None`: someone else's (a conflict is recorded). `Some(retag)`: ours (or adopted), and
    /// whether any of the tags it should carry (`want`) is missing and must be put back.
    fn owned(&mut self, resource: String, tags: &Tags, want: &Tags) -> Option<bool> {
        if model::is_owned(tags, &self.desired.stack) || self.adopt {
            return Some(want.iter().any(|(k, v)| tags.get(k) != Some(v)));
        }
        let reason = match tags.get(model::STACK) {
            Some(other) => format!("it belongs to kedactl stack {other:?}"),
            None => "it exists but was not created by kedactl".to_string(),
        };
        self.conflicts.push(Conflict { resource, reason });
        None
    }

    fn addon(&mut self) {
        let Some(addon) = &self.desired.addon else {
            return;
        };
        // EKS Auto Mode runs the Pod Identity Agent itself.
        if self.observed.cluster.as_ref().is_some_and(|c| c.auto_mode) {
            return;
        }
        let create = format!("eks:addon/{addon}");
        match self.observed.addon.as_ref().map(|a| a.status.as_str()) {
            None => {
                let tags = self.desired.aws_tags();
                self.push(
                    create.clone(),
                    Group::Eks,
                    Change::Create,
                    Action::CreateAddon {
                        addon: addon.clone(),
                        tags,
                    },
                    &[],
                );
            }
            Some("CREATING" | "UPDATING") => {}
            // ACTIVE, or a failure state that doctor explains: nothing to plan.
            Some(_) => return,
        }
        let wait = Action::WaitAddonActive {
            addon: addon.clone(),
        };
        self.push(
            format!("{create}/wait"),
            Group::Eks,
            Change::Run,
            wait,
            &[&create],
        );
    }

    /// IRSA: the cluster's issuer needs its IAM provider before a trust can name it. One that
    /// exists (eksctl's, Terraform's, another stack's) is used as it is.
    fn oidc_provider(&mut self) {
        let Some(p) = &self.desired.oidc_provider else {
            return;
        };
        if self.observed.oidc_provider.is_some() {
            return;
        }
        let action = Action::CreateOidcProvider {
            url: p.url.clone(),
            client_ids: vec![render::STS_AUDIENCE.to_string()],
            tags: self.desired.aws_tags(),
        };
        self.push(
            oidc_step_id(&p.host),
            Group::Iam,
            Change::Create,
            action,
            &[],
        );
    }

    fn roles(&mut self) {
        let operator_id = self
            .desired
            .roles
            .first()
            .map(|r| format!("iam:role/{}", r.name));
        let provider_id = self
            .desired
            .oidc_provider
            .as_ref()
            .map(|p| oidc_step_id(&p.host));
        for role in &self.desired.roles {
            let id = format!("iam:role/{}", role.name);
            // A trust naming the operator role needs that role to exist first; one naming the
            // OIDC provider, the provider (IAM refuses a principal it does not know).
            let mut after: Vec<&str> = match (&role.purpose, &operator_id) {
                (render::RolePurpose::Identity, Some(op)) => vec![op.as_str()],
                _ => vec![],
            };
            after.extend(provider_id.as_deref());
            let existing = self.observed.roles.get(&role.name);
            match existing {
                None => self.create_role(role, &id, &after),
                Some(r) => {
                    if !self.update_role(role, r, &id, &after) {
                        continue;
                    }
                }
            }
            if let Some(reason) = existing.and_then(|r| inline_overflow(role, r)) {
                self.conflicts.push(Conflict {
                    resource: format!("IAM role {}", role.name),
                    reason,
                });
                continue;
            }
            self.inline_policies(role, existing, &id);
            self.managed_policies(role, existing, &id);
        }
    }

    fn create_role(&mut self, role: &render::Role, id: &str, after: &[&str]) {
        let action = Action::CreateRole {
            role: role.name.clone(),
            trust: role.trust.body.clone(),
            tags: self.desired.aws_tags(),
            path: (role.path != "/").then(|| role.path.clone()),
            permissions_boundary: role.boundary.clone(),
        };
        self.push(id.to_string(), Group::Iam, Change::Create, action, after);
    }

    /// An existing role gets the config's boundary, tags and trust. `false`: it is left as it
    /// is, policies included (someone else's, or a conflict was recorded).
    fn update_role(
        &mut self,
        role: &render::Role,
        r: &observed::Role,
        id: &str,
        after: &[&str],
    ) -> bool {
        let want = &self.desired.aws_tags();
        let Some(retag) = self.owned(format!("IAM role {}", role.name), &r.tags, want) else {
            return false;
        };
        if let Some(reason) = moved(role, r) {
            self.conflicts.push(Conflict {
                resource: format!("IAM role {}", role.name),
                reason,
            });
            return false;
        }
        if let Some(b) = role
            .boundary
            .as_ref()
            .filter(|b| r.boundary.as_ref() != Some(*b))
        {
            let action = Action::PutRolePermissionsBoundary {
                role: role.name.clone(),
                permissions_boundary: b.clone(),
            };
            self.push(
                format!("{id}/boundary"),
                Group::Iam,
                Change::Update,
                action,
                &[],
            );
        }
        if retag {
            let tags = want.clone();
            self.push(
                format!("{id}/tags"),
                Group::Iam,
                Change::Update,
                Action::TagRole {
                    role: role.name.clone(),
                    tags,
                },
                &[],
            );
        }
        let Some((trust, edit)) = self.trust_update(role, r) else {
            return false;
        };
        if canonical(&r.trust) != canonical(&trust) {
            let action = Action::UpdateTrustPolicy {
                role: role.name.clone(),
                trust,
                edit,
            };
            self.push(
                format!("{id}/trust"),
                Group::Iam,
                Change::Update,
                action,
                after,
            );
        }
        true
    }

    /// The trust an existing role should have, and how it was made from the live one. `None`:
    /// it would admit too much or break the quota (a conflict is recorded).
    fn trust_update(
        &mut self,
        role: &render::Role,
        r: &observed::Role,
    ) -> Option<(Value, Option<trust::Edit>)> {
        // Other clusters' statements (and people's) stay: only ours are rewritten.
        // A role taken over with --adopt gets exactly ours (what adopting means).
        let (trust, edit) = if model::is_owned(&r.tags, &self.desired.stack) {
            // Put's merge, before it drops what admits too much (looked at next).
            let stale = self.stale.get(&role.name).map_or(&[][..], Vec::as_slice);
            let live = trust::without_sids(&r.trust, stale);
            let merged = trust::merge(&role.trust.body, &live);
            (merged, Some(trust::Edit::Put))
        } else {
            (role.trust.body.clone(), None)
        };
        // A kept statement that admits too much is a conflict; --adopt drops it.
        let open = trust::open_statements(&role.trust.body, &trust);
        let trust = match (open.is_empty(), self.adopt) {
            (true, _) => trust,
            (false, true) => trust::without_open(&role.trust.body, &trust),
            (false, false) => {
                for (name, s, what) in open {
                    self.conflicts.push(Conflict {
                        resource: format!("IAM role {}", role.name),
                        reason: format!(
                            "{name} of its trust ({s}) lets {what} assume it: remove \
                             it, or pass --adopt to have kedactl drop it"
                        ),
                    });
                }
                return None;
            }
        };
        // Other clusters' statements count too: IAM would refuse the update.
        let size = crate::limits::iam_policy_size(&trust);
        if size > self.desired.trust_policy_quota {
            self.conflicts.push(Conflict {
                resource: format!("IAM role {}", role.name),
                reason: format!(
                    "its trust policy would be {size} characters with this cluster's \
                     statements beside the ones it already has, over the account's \
                     quota of {}: give this cluster its own roles (roles.operator, \
                     roles.identity), or have AWS raise the quota (up to 4096) and set \
                     roles.trustPolicyQuota",
                    self.desired.trust_policy_quota
                ),
            });
            return None;
        }
        Some((trust, edit))
    }

    /// The role's inline policies that are missing or differ (all created with a new role).
    fn inline_policies(
        &mut self,
        role: &render::Role,
        existing: Option<&observed::Role>,
        id: &str,
    ) {
        for doc in &role.policies {
            let current = existing.and_then(|r| r.inline.get(&doc.name));
            if current.is_some_and(|c| canonical(c) == canonical(&doc.body)) {
                continue;
            }
            let action = Action::PutRolePolicy {
                role: role.name.clone(),
                policy: doc.name.clone(),
                document: doc.body.clone(),
            };
            let change = if current.is_none() {
                Change::Create
            } else {
                Change::Update
            };
            let change = if existing.is_none() {
                Change::Create
            } else {
                change
            };
            self.push(
                format!("{id}/policy/{}", doc.name),
                Group::Iam,
                change,
                action,
                &[id],
            );
        }
    }

    /// The boundary and managed policies the config names must exist (IAM refuses CreateRole
    /// or AttachRolePolicy otherwise, after other changes were made).
    fn policies_exist(&mut self) {
        let mut named: Vec<(&str, &str)> = Vec::new();
        for role in &self.desired.roles {
            if let Some(b) = &role.boundary {
                named.push((b, "roles.permissionsBoundary"));
            }
            for p in &role.managed_policies {
                named.push((p, "apps[].managedPolicies"));
            }
        }
        named.sort();
        named.dedup();
        for (arn, field) in named {
            if let Some(None) = self.observed.policies.get(arn) {
                self.conflicts.push(Conflict {
                    resource: format!("managed policy {arn}"),
                    reason: format!(
                        "{NOT_FOUND} in the account ({field} names it): create it (aws iam \
                         create-policy) or correct the ARN"
                    ),
                });
            }
        }
    }

    /// `apps[].managedPolicies` on an identity role: attach the missing ones (recorded), and
    /// detach those kedactl recorded that the config no longer lists. Policies attached by
    /// anyone else are never touched.
    fn managed_policies(&mut self, role: &render::Role, live: Option<&observed::Role>, id: &str) {
        let attached: &[String] = live.map_or(&[], |r| r.attached.as_slice());
        for arn in &role.managed_policies {
            if attached.contains(arn) {
                continue;
            }
            let action = Action::AttachRolePolicy {
                role: role.name.clone(),
                policy_arn: arn.clone(),
            };
            self.push(
                format!("{id}/attached/{arn}"),
                Group::Iam,
                Change::Create,
                action,
                &[id],
            );
        }
        let Some(live) = live else { return };
        let wanted: Vec<String> = role
            .managed_policies
            .iter()
            .map(|p| render::attached_tag(p).0)
            .collect();
        for (key, arn) in recorded(live) {
            if wanted.contains(&key) {
                continue;
            }
            let action = Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: arn.clone(),
                record: Some(key),
            };
            self.push(
                format!("{id}/attached/{arn}"),
                Group::Iam,
                Change::Delete,
                action,
                &[],
            );
        }
    }

    fn queues(&mut self) {
        let by_arn: HashMap<&str, &str> = self
            .desired
            .queues
            .iter()
            .map(|q| (q.arn.as_str(), q.name.as_str()))
            .collect();
        for q in &self.desired.queues {
            let id = format!("queue:{}", q.name);
            // A redrive policy needs its dead-letter queue to exist.
            let dlq_ids: Vec<String> = crate::observed::dead_letter_arn(&q.attributes)
                .and_then(|arn| by_arn.get(arn.as_str()).map(|d| format!("queue:{d}")))
                .into_iter()
                .collect();
            let after: Vec<&str> = dlq_ids.iter().map(String::as_str).collect();
            match self.observed.queues.get(&q.name) {
                None => {
                    let action = Action::CreateQueue {
                        queue: q.name.clone(),
                        attributes: q.attributes.clone(),
                        tags: self.desired.shared_tags(),
                    };
                    self.push(id, Group::Queue, Change::Create, action, &after);
                }
                Some(existing) => {
                    let want = &self.desired.shared_tags();
                    let resource = format!("SQS queue {}", q.name);
                    let Some(retag) = self.owned(resource, &existing.tags, want) else {
                        continue;
                    };
                    if retag {
                        let tags = want.clone();
                        self.push(
                            format!("{id}/tags"),
                            Group::Queue,
                            Change::Update,
                            Action::TagQueue {
                                queue: q.name.clone(),
                                url: existing.url.clone(),
                                tags,
                            },
                            &[],
                        );
                    }
                    let drift: BTreeMap<String, String> = q
                        .attributes
                        .iter()
                        .filter(|(k, v)| !same_attribute(k, v, existing.attributes.get(*k)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if !drift.is_empty() {
                        let action = Action::SetQueueAttributes {
                            queue: q.name.clone(),
                            url: existing.url.clone(),
                            attributes: drift,
                        };
                        self.push(
                            format!("{id}/attributes"),
                            Group::Queue,
                            Change::Update,
                            action,
                            &after,
                        );
                    }
                }
            }
        }
    }

    /// Trigger resources: created and tagged like queues; one the config names by id must exist.
    fn resources(&mut self) {
        for r in &self.desired.resources {
            let id = r.id();
            match self.observed.resources.get(&id) {
                None if r.managed => {
                    let cluster = &self.desired.cluster;
                    if let Some(reason) = resource::blocked(r, cluster, self.observed) {
                        let resource = r.describe();
                        self.conflicts.push(Conflict { resource, reason });
                        continue;
                    }
                    let action = Action::CreateResource {
                        resource: r.kind,
                        name: r.name.clone(),
                        tags: self.desired.shared_tags(),
                        settings: r.settings.clone(),
                    };
                    self.push(id, Group::Source, Change::Create, action, &[]);
                }
                None => self.conflicts.push(Conflict {
                    resource: r.describe(),
                    reason: format!(
                        "{NOT_FOUND} in {}: the config names an existing one by id, which kedactl reads but does not create",
                        self.desired.target.region
                    ),
                }),
                Some(_) if !r.managed => {}
                Some(live) => {
                    let want = &self.desired.shared_tags();
                    let owned = self.owned(r.describe(), &live.tags, want);
                    let wrong = || resource::drift(r, live).or_else(|| resource::failed(r, live));
                    if let Some(reason) = owned.and_then(|_| wrong()) {
                        let resource = r.describe();
                        self.conflicts.push(Conflict { resource, reason });
                    } else if owned == Some(true) {
                        let action = Action::TagResource {
                            resource: r.kind,
                            name: r.name.clone(),
                            arn: live.arn.clone(),
                            tags: want.clone(),
                        };
                        self.push(format!("{id}/tags"), Group::Source, Change::Update, action, &[]);
                    }
                }
            }
        }
    }

    fn repositories(&mut self) {
        for r in &self.desired.repositories {
            let id = format!("registry:{}", r.name);
            let tags = self.desired.shared_tags();
            match self.observed.repositories.get(&r.name) {
                None => {
                    let action = Action::CreateRepository {
                        repository: r.name.clone(),
                        tags,
                    };
                    self.push(id, Group::Registry, Change::Create, action, &[]);
                }
                Some(existing) => {
                    if self.owned(format!("ECR repository {}", r.name), &existing.tags, &tags)
                        == Some(true)
                    {
                        let action = Action::TagRepository {
                            repository: r.name.clone(),
                            arn: existing.arn.clone(),
                            tags,
                        };
                        self.push(
                            format!("{id}/tags"),
                            Group::Registry,
                            Change::Update,
                            action,
                            &[],
                        );
                    }
                }
            }
        }
    }

    /// Returns the (namespace, service account) pairs whose association is created or changed:
    /// their running pods must be recreated to pick up credentials.
    fn associations(&mut self) -> Vec<(String, String)> {
        let mut changed = Vec::new();
        for a in &self.desired.associations {
            let id = format!("eks:association/{}/{}", a.namespace, a.service_account);
            let role_id = format!("iam:role/{}", a.role);
            let existing = self
                .observed
                .associations
                .iter()
                .find(|o| o.namespace == a.namespace && o.service_account == a.service_account);
            // An association this stack made gets the config's tags put back (`tags:` changed);
            // one it did not make is left as it is.
            if let Some(o) = existing
                && model::is_owned(&o.tags, &self.desired.stack)
            {
                let want = self.desired.aws_tags();
                if want.iter().any(|(k, v)| o.tags.get(k) != Some(v)) {
                    let action = Action::TagAssociation {
                        association_id: o.id.clone(),
                        namespace: a.namespace.clone(),
                        service_account: a.service_account.clone(),
                        arn: self.desired.target.arn(
                            "eks",
                            &format!("podidentityassociation/{}/{}", self.desired.cluster, o.id),
                        ),
                        tags: want,
                    };
                    self.push(
                        format!("{id}/tags"),
                        Group::Eks,
                        Change::Update,
                        action,
                        &[],
                    );
                }
            }
            match existing {
                None => {
                    let action = Action::CreateAssociation {
                        namespace: a.namespace.clone(),
                        service_account: a.service_account.clone(),
                        role_arn: a.role_arn.clone(),
                        tags: self.desired.aws_tags(),
                    };
                    self.push(id, Group::Eks, Change::Create, action, &[&role_id]);
                }
                // Session tags off is drift: the scoped trust conditions on them.
                Some(o) if o.role_arn != a.role_arn || o.session_tags_disabled => {
                    let resource = format!(
                        "pod identity association {}/{}",
                        a.namespace, a.service_account
                    );
                    if self
                        .owned(resource, &o.tags, &self.desired.aws_tags())
                        .is_none()
                    {
                        continue;
                    }
                    let action = Action::UpdateAssociation {
                        association_id: o.id.clone(),
                        namespace: a.namespace.clone(),
                        service_account: a.service_account.clone(),
                        role_arn: a.role_arn.clone(),
                    };
                    self.push(id, Group::Eks, Change::Update, action, &[&role_id]);
                }
                Some(_) => continue,
            }
            changed.push((a.namespace.clone(), a.service_account.clone()));
        }
        changed
    }

    /// Resources of this stack the config no longer names (`triggers::resource::retired`).
    fn retired_resources(&mut self) {
        for step in retired_resources(self.desired, self.observed) {
            self.push(step.0, Group::Source, Change::Delete, step.1, &[]);
        }
    }

    fn retired_associations(&mut self) {
        for (id, action) in retired_associations(self.desired, self.observed) {
            self.push(id, Group::Eks, Change::Delete, action, &[]);
        }
    }

    /// What the config no longer names (`prune`), deleted after what still points at it and
    /// before what KEDA reads it with: a scaler goes before its grant is narrowed.
    fn prune(&mut self, only: &Only, force: bool) {
        let pruned = prune::prune(self.desired, self.observed, only, force);
        let renames = prune::renames(self.desired, self.observed, &self.steps, &pruned.steps);
        let scalers: Vec<String> = pruned
            .steps
            .iter()
            .filter(|s| {
                s.id.starts_with("app:ScaledObject/")
                    || s.id.starts_with("app:ScaledJob/")
                    || s.id.starts_with("app:TriggerAuthentication/")
            })
            .map(|s| s.id.clone())
            .collect();
        for s in self.steps.iter_mut().filter(|s| s.group == Group::Iam) {
            if s.change != Change::Create {
                s.after.extend(scalers.iter().cloned());
            }
        }
        // A queue whose redrive policy still names a retired DLQ is changed first.
        let redrives: Vec<String> = self
            .steps
            .iter()
            .filter(|s| matches!(s.action, Action::SetQueueAttributes { .. }))
            .map(|s| s.id.clone())
            .collect();
        for mut s in pruned.steps {
            if matches!(s.action, Action::DeleteQueue { .. }) {
                s.after.extend(redrives.iter().cloned());
            }
            self.ids.insert(s.id.clone());
            self.steps.push(s);
        }
        prune::show_renames(&mut self.steps, &renames);
        self.conflicts.extend(pruned.conflicts);
    }

    fn keda(&mut self, changed: &[(String, String)]) {
        let k = &self.desired.keda;
        let stack = self.desired.stack.as_str();
        let c = KedaContext::new(self.desired, self.observed);
        let (install, restart) = ("keda:install".to_string(), "keda:restart".to_string());
        // Installed after its association so the operator's first pods get credentials.
        let deps = [c.assoc.as_str(), c.addon_wait.as_str()];
        match &self.observed.keda {
            None => self.push(install, Group::Keda, Change::Create, c.install(None), &deps),
            Some(found) if found.needs_repair(stack) => {
                self.push(install, Group::Keda, Change::Update, c.install(None), &deps);
            }
            // keda.values changed too: helm upgrade with the new ones, shown old → new.
            Some(found)
                if c.irsa_stale
                    || version_changes(found, &k.version, stack)
                    || c.values_from.is_some() =>
            {
                if !self.upgrade_keda(found, &c) {
                    return;
                }
            }
            Some(_) if changed.contains(&(k.namespace.clone(), k.service_account.clone())) => {
                let action = Action::RestartDeployment {
                    namespace: k.namespace.clone(),
                    deployment: KEDA_OPERATOR.to_string(),
                    reason: "its pod identity association changed".into(),
                };
                self.push(restart, Group::Keda, Change::Run, action, &deps);
            }
            Some(_) => return,
        }
        if self.desired.addon.is_some() || c.irsa_role_arn.is_some() {
            let (namespace, deployment) = (k.namespace.clone(), KEDA_OPERATOR.to_string());
            let verify = match c.irsa_role_arn {
                Some(_) => Action::VerifyIrsa {
                    namespace,
                    deployment,
                },
                None => Action::VerifyPodIdentity {
                    namespace,
                    deployment,
                },
            };
            self.push(
                "keda:verify".into(),
                Group::Keda,
                Change::Run,
                verify,
                &["keda:install", "keda:restart"],
            );
        }
    }

    /// helm upgrade of a KEDA whose version, values or service account role differ, and a
    /// restart when the role changes. `false`: KEDA is not this stack's to change (a conflict
    /// is recorded).
    fn upgrade_keda(&mut self, found: &observed::Keda, c: &KedaContext) -> bool {
        let k = c.keda;
        let ours = found.installed_by.as_deref() == Some(c.stack);
        let have = c.service_account_role.as_deref().unwrap_or("no role");
        if c.irsa_stale && !ours {
            let reason = match &c.irsa_role_arn {
                Some(_) => format!(
                    "it names {have} in {IRSA_ANNOTATION}, not the operator role; KEDA was \
                     not installed by this stack, so set podIdentity.aws.irsa.roleArn \
                     where it was installed"
                ),
                None => format!(
                    "it names {have} in {IRSA_ANNOTATION} (IRSA), but this stack uses EKS \
                     Pod Identity, and the AWS SDK in KEDA takes IRSA's web identity first, \
                     so the association would be ignored; KEDA was not installed by this \
                     stack, so set podIdentity.aws.irsa.enabled=false where it was \
                     installed (or authMode: irsa)"
                ),
            };
            self.conflicts.push(Conflict {
                resource: format!("ServiceAccount {}/{}", k.namespace, k.service_account),
                reason,
            });
            return false;
        }
        let from = version_changes(found, &k.version, c.stack).then(|| found.version.clone());
        self.push(
            "keda:install".into(),
            Group::Keda,
            Change::Update,
            c.install(from),
            &[&c.assoc, &c.addon_wait],
        );
        // helm sets or drops the annotation; running pods keep their credentials until
        // restarted.
        if c.irsa_stale {
            let action = Action::RestartDeployment {
                namespace: k.namespace.clone(),
                deployment: KEDA_OPERATOR.to_string(),
                reason: format!("its service account named {have}"),
            };
            self.push(
                "keda:restart".into(),
                Group::Keda,
                Change::Run,
                action,
                &["keda:install"],
            );
        }
        true
    }

    fn manifests(&mut self, changed: &[(String, String)]) {
        let mut previous: Option<String> = None;
        // IRSA: a service account whose role annotation changes needs its pods restarted too.
        let mut changed = changed.to_vec();
        for m in &self.desired.manifests {
            let (kind, ns, name) = render::object_ref(m);
            let role = |o: &Value| o["metadata"]["annotations"][IRSA_ANNOTATION].clone();
            if let ("ServiceAccount", Some(ns)) = (kind.as_str(), &ns)
                && let Some(o) = self.observed.object(&kind, Some(ns), &name)
                && role(o) != role(m)
            {
                changed.push((ns.clone(), name.clone()));
            }
        }
        let changed = changed.as_slice();
        for m in &self.desired.manifests {
            let (kind, ns, name) = render::object_ref(m);
            let id = app_step_id(&kind, ns.as_deref(), &name);
            let mut after: Vec<String> = previous.iter().cloned().collect();
            if let Some(ns) = &ns {
                after.push(format!("app:Namespace/{ns}"));
                if kind == "Deployment" {
                    let sa = m["spec"]["template"]["spec"]["serviceAccountName"]
                        .as_str()
                        .unwrap_or_default();
                    after.push(format!("eks:association/{ns}/{sa}"));
                }
            }
            if m["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("keda.sh/"))
            {
                after.push("keda:install".into());
            }
            let existing = self.observed.object(&kind, ns.as_deref(), &name);
            if let Some(live) = existing {
                let deps: Vec<&str> = after.iter().map(String::as_str).collect();
                if self.teams_service_account(m, live, &deps) {
                    continue;
                }
            }
            let change = match existing {
                None => Change::Create,
                // Any namespace will do: kedactl does not take over one it finds.
                Some(_) if kind == "Namespace" => continue,
                Some(o) => {
                    let labels: Tags =
                        serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
                    let resource = format!("{kind} {}", id.trim_start_matches("app:"));
                    let Some(relabel) = self.owned(resource, &labels, &self.desired.tags) else {
                        continue;
                    };
                    if !relabel && contains(o, m) {
                        self.restart_app(m, &kind, ns.as_deref(), &name, changed, &id);
                        continue;
                    }
                    Change::Update
                }
            };
            let action = Action::Apply {
                kind: kind.clone(),
                namespace: ns.clone(),
                name: name.clone(),
                manifest: m.clone(),
            };
            let after: Vec<&str> = after.iter().map(String::as_str).collect();
            self.push(id.clone(), Group::App, change, action, &after);
            if existing.is_some() {
                self.restart_app(m, &kind, ns.as_deref(), &name, changed, &id);
            }
            previous = Some(id);
        }
    }

    /// An existing Deployment whose service account's association changed gets a restart.
    fn restart_app(
        &mut self,
        m: &Value,
        kind: &str,
        ns: Option<&str>,
        name: &str,
        changed: &[(String, String)],
        id: &str,
    ) {
        let (Some(ns), "Deployment") = (ns, kind) else {
            return;
        };
        let sa = m["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or_default();
        if !changed.contains(&(ns.to_string(), sa.to_string())) {
            return;
        }
        let assoc = format!("eks:association/{ns}/{sa}");
        let action = Action::RestartDeployment {
            namespace: ns.to_string(),
            deployment: name.to_string(),
            reason: format!("the pod identity association of {ns}/{sa} changed"),
        };
        self.push(
            format!("{id}/restart"),
            Group::App,
            Change::Run,
            action,
            &[&assoc, id],
        );
    }
}

/// Why a live role cannot be the configured one: IAM cannot change a role's path, and its ARN
/// (which trusts, associations and TriggerAuthentications name) holds the path.
fn moved(role: &render::Role, live: &observed::Role) -> Option<String> {
    let have = live.path.as_deref()?;
    (have != role.path).then(|| {
        format!(
            "it is on IAM path {have}, the config says {} (roles.path), and {CANNOT_MOVE}: set \
             roles.path: {have}, or delete the role (kedactl down --only iam) and run up again",
            role.path
        )
    })
}

/// The step id of a Kubernetes object: `app:Deployment/security/q-read` (`up` and `down`).
fn app_step_id(kind: &str, ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("app:{kind}/{ns}/{name}"),
        None => format!("app:{kind}/{name}"),
    }
}

/// SQS returns RedrivePolicy as JSON text whose spacing and number types may differ from ours.
fn same_attribute(key: &str, want: &str, have: Option<&String>) -> bool {
    let Some(have) = have else { return false };
    if key == "RedrivePolicy" {
        let parse = |s: &str| -> Option<(String, String)> {
            let v: Value = serde_json::from_str(s).ok()?;
            let count = match &v["maxReceiveCount"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((v["deadLetterTargetArn"].as_str()?.to_string(), count))
        };
        return parse(want).is_some() && parse(want) == parse(have);
    }
    want == have
}

/// Does `have` contain every field of `want`? (The server adds defaults and status; only the
/// fields kedactl sets are compared.)
fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(hv, wv)| contains(hv, wv))
        }
        _ => have == want,
    }
}

/// Why this stack's inline policies cannot join the ones the live role already has: IAM counts
/// all of a role's inline policies against one limit, so others' policies count too.
fn inline_overflow(role: &render::Role, live: &crate::observed::Role) -> Option<String> {
    let limit = crate::limits::ROLE_INLINE_POLICIES_QUOTA;
    let ours = |name: &str| role.policies.iter().any(|p| p.name == name);
    let others: Vec<(&String, usize)> = live
        .inline
        .iter()
        .filter(|(name, _)| !ours(name))
        .map(|(name, doc)| (name, crate::limits::iam_policy_size(doc)))
        .collect();
    let mine: usize = role
        .policies
        .iter()
        .map(|p| crate::limits::iam_policy_size(&p.body))
        .sum();
    let total = mine + others.iter().map(|(_, n)| n).sum::<usize>();
    (total > limit).then(|| {
        let named: Vec<String> = others.iter().map(|(n, s)| format!("{n} ({s})")).collect();
        format!(
            "its inline policies would be {total} characters together ({mine} kedactl's, the \
             rest {}), over IAM's limit of {limit} per role: move the others to managed \
             policies (aws iam create-policy, then attach-role-policy) or give the apps another \
             identity role (apps[].identityRole)",
            named.join(", ")
        )
    })
}

/// The managed policies kedactl attached to a role, by the record tag it left (key, ARN): the
/// ARN attached now (found by its hash), else the one the record names.
pub(crate) fn recorded(live: &observed::Role) -> Vec<(String, String)> {
    live.tags
        .iter()
        .filter(|(key, _)| key.starts_with(model::ATTACHED_PREFIX))
        .filter_map(|(key, value)| {
            let arn = live
                .attached
                .iter()
                .find(|a| &render::attached_tag(a).0 == key)
                .cloned()
                .or_else(|| (!value.is_empty()).then(|| value.clone()))?;
            Some((key.clone(), arn))
        })
        .collect()
}

#[cfg(test)]
mod tests;
