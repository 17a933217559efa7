//! Trust policies shared by several clusters. IAM roles are account-wide, so every cluster of a
//! stack uses the same `keda-operator` and `keda-identity` roles. Each cluster renders only its
//! own statements (Sids from `render::trust_sid`) and the shared chain statement
//! (`render::CHAIN_SID`): `up` puts those in and keeps every other statement (another
//! cluster's, or one a person added); `down` takes this cluster's out and deletes the role only
//! when nothing but them and the chain is left. Pure, so both are unit-tested here.

use crate::render::policy::canonical;
use crate::render::{CHAIN_SID, SID_PREFIX};
use serde_json::{Value, json};

/// Sids kedactl gave its statements before they named their cluster. A live statement with one
/// is this cluster's only when it says exactly what this cluster renders, so an upgraded stack
/// replaces it instead of keeping a duplicate, and another cluster's old statement stays.
fn legacy_sid(sid: &str) -> bool {
    ["EksPodIdentity", "IrsaWebIdentity", "KedaOperatorChain"]
        .iter()
        .any(|p| {
            sid.strip_prefix(p)
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        one => vec![one.clone()],
    }
}

fn sid(s: &Value) -> &str {
    s["Sid"].as_str().unwrap_or_default()
}

/// A statement's meaning, without its Sid (IAM may reorder and reshape lists).
fn content(s: &Value) -> Value {
    let mut s = s.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("Sid");
    }
    canonical(&json!({ "Statement": [s] }))
}

/// Which rendered statement `live` is, when it is one of this cluster's: the same Sid, or a
/// legacy Sid with the same content (`placed`: rendered statements already matched).
fn matching(live: &Value, rendered: &[Value], placed: &[bool]) -> Option<usize> {
    let s = sid(live);
    if !s.is_empty()
        && let Some(i) = rendered.iter().position(|r| sid(r) == s)
    {
        return Some(i);
    }
    if !legacy_sid(s) {
        return None;
    }
    let c = content(live);
    (0..rendered.len()).find(|&i| !placed[i] && content(&rendered[i]) == c)
}

fn with_statements(doc: &Value, statements: Vec<Value>) -> Value {
    let mut doc = doc.clone();
    doc["Statement"] = Value::Array(statements);
    doc
}

/// The trust `up` wants on a role this stack owns: each live statement in place, with this
/// cluster's replaced by what it renders (duplicates dropped), then its missing ones appended.
/// Order-stable: a trust that already holds the rendered statements comes back unchanged, so a
/// converged stack plans nothing whichever cluster ran `up` last.
pub fn merge(rendered: &Value, live: &Value) -> Value {
    let ours = statements(rendered);
    let mut placed = vec![false; ours.len()];
    let mut out = Vec::new();
    for s in statements(live) {
        match matching(&s, &ours, &placed) {
            Some(i) if !placed[i] => {
                placed[i] = true;
                out.push(ours[i].clone());
            }
            Some(_) => {}
            None => out.push(s),
        }
    }
    out.extend(
        ours.iter()
            .zip(&placed)
            .filter(|(_, p)| !**p)
            .map(|(s, _)| s.clone()),
    );
    with_statements(rendered, out)
}

/// `live` without the statements whose Sids are `sids` (this cluster's statements for service
/// accounts the config no longer names: `up` takes them out, see `prune::stale_statements`).
/// A Sid holds a hash of this cluster's ARN, so no other cluster's statement is touched.
pub fn without_sids(live: &Value, sids: &[String]) -> Value {
    if sids.is_empty() {
        return live.clone();
    }
    let kept = statements(live)
        .into_iter()
        .filter(|s| !sids.iter().any(|x| x == sid(s)))
        .collect();
    with_statements(live, kept)
}

/// What `down` does with a role this stack owns.
#[derive(Debug, Clone, PartialEq)]
pub enum Leave {
    /// Nothing but this cluster's statements and the chain: the role (and its policies) go.
    Delete,
    /// Someone else is still admitted: keep the role and its policies, with this trust (this
    /// cluster's statements taken out; the chain stays for the other clusters).
    Keep {
        trust: Value,
        /// The Sids (or "a statement without Sid") that keep it.
        kept_by: Vec<String>,
    },
}

pub fn leave(rendered: &Value, live: &Value) -> Leave {
    let (trust, kept_by) = without(rendered, live);
    if kept_by.is_empty() {
        Leave::Delete
    } else {
        Leave::Keep { trust, kept_by }
    }
}

/// The live trust with this cluster's statements taken out (the shared chain stays for the
/// others), and what else it still admits: the Sids (or "a statement without Sid") left.
fn without(rendered: &Value, live: &Value) -> (Value, Vec<String>) {
    let ours = statements(rendered);
    let mut placed = vec![false; ours.len()];
    let mut out = Vec::new();
    let mut kept_by = Vec::new();
    for s in statements(live) {
        match matching(&s, &ours, &placed) {
            Some(i) => {
                placed[i] = true;
                if sid(&ours[i]) == CHAIN_SID {
                    out.push(s);
                }
            }
            None => {
                kept_by.push(match sid(&s) {
                    "" => "a statement without Sid".to_string(),
                    s => s.to_string(),
                });
                out.push(s);
            }
        }
    }
    (with_statements(live, out), kept_by)
}

/// The trust admits the shared keda-operator chain.
pub fn chains(live: &Value) -> bool {
    statements(live).iter().any(|s| sid(s) == CHAIN_SID)
}

/// The names of the roles a trust's chain statement admits (`Principal.AWS`, one ARN or a
/// list): the roles that chain into the role with this trust.
pub fn chained_from(trust: &Value) -> Vec<String> {
    let mut out = Vec::new();
    // By reference: a role delete asks this of every trust of the stack.
    let statements: Vec<&Value> = match &trust["Statement"] {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        one => vec![one],
    };
    for s in statements.into_iter().filter(|s| sid(s) == CHAIN_SID) {
        let aws = &s["Principal"]["AWS"];
        let arns = aws
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or(vec![aws]);
        for arn in arns.into_iter().filter_map(Value::as_str) {
            if let Some((_, path)) = arn.split_once(":role/") {
                out.push(path.rsplit('/').next().unwrap_or(path).to_string());
            }
        }
    }
    out
}

fn same(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

/// What a write of a shared trust does with this cluster's statements. IAM has no conditional
/// write, so the executor re-applies the edit to the trust it reads right before writing (not
/// to the one the plan saw) and watches that it stays applied: another cluster's statements
/// written in between are kept, and one of its writes that dropped ours is repaired.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Edit {
    /// `up`: this cluster's statements in (`merge`).
    Put,
    /// `down`: this cluster's statements out, the chain kept (`leave`'s trust).
    Take,
    /// `down` of the last cluster of the stack from a role someone else's statement keeps:
    /// the chain goes too (it names an operator role being deleted), unless another cluster
    /// of the stack joined since (its statements are there again).
    TakeAll,
}

impl Edit {
    /// The trust this edit makes of `live`.
    pub fn apply(self, rendered: &Value, live: &Value) -> Value {
        match self {
            // A statement that admits too much is never written back: `plan` makes it a
            // conflict, and `--adopt` drops it (also when re-applied to a newer trust).
            Edit::Put => without_open(rendered, &merge(rendered, live)),
            Edit::Take => without(rendered, live).0,
            Edit::TakeAll => {
                let left = statements(&without(rendered, live).0);
                let stack = |s: &Value| sid(s).starts_with(SID_PREFIX) && sid(s) != CHAIN_SID;
                let joined = left.iter().any(stack);
                let kept = left
                    .into_iter()
                    .filter(|s| joined || sid(s) != CHAIN_SID)
                    .collect();
                with_statements(live, kept)
            }
        }
    }

    /// Does this edit take this cluster's statements out?
    pub fn takes(self) -> bool {
        self != Edit::Put
    }

    /// `live` already says what this edit wants.
    pub fn holds(self, rendered: &Value, live: &Value) -> bool {
        same(&self.apply(rendered, live), live)
    }
}

/// Does an action list name `sts:AssumeRole` (exactly, or by a trailing-`*` pattern)?
fn names_assume_role(actions: &Value) -> bool {
    let list = match actions {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => vec![],
    };
    list.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        match a.strip_suffix('*') {
            Some(prefix) => "sts:assumerole".starts_with(prefix),
            None => a == "sts:assumerole",
        }
    })
}

/// What a trust statement admits when it admits too much: an Allow of sts:AssumeRole with no
/// condition to anyone (`*`), or to EKS Pod Identity as a whole (any pod of any cluster in
/// the account can then take the role).
pub fn too_open(s: &Value) -> Option<&'static str> {
    let conditioned = s["Condition"].as_object().is_some_and(|c| !c.is_empty());
    if s["Effect"] != "Allow" || conditioned {
        return None;
    }
    if !names_assume_role(&s["Action"]) && s["NotAction"].is_null() {
        return None;
    }
    let p = &s["Principal"];
    let has = |list: &Value, what: &str| match list {
        Value::String(v) => v == what,
        Value::Array(a) => a.iter().any(|v| v == what),
        _ => false,
    };
    if p == "*" || has(&p["AWS"], "*") {
        return Some("any AWS principal of any account");
    }
    if has(&p["Service"], "pods.eks.amazonaws.com") {
        return Some(
            "any pod of any cluster in the account (EKS Pod Identity with no condition on the cluster, namespace or service account)",
        );
    }
    None
}

/// The live statements that admit too much and that this config does not render itself (a
/// config with `scopedTrust: false` asks for the unconditioned Pod Identity statement): each
/// with its name (`statement <Sid>` or its position) and what it admits.
pub fn open_statements(rendered: &Value, live: &Value) -> Vec<(String, Value, &'static str)> {
    let ours: Vec<Value> = statements(rendered).iter().map(content).collect();
    statements(live)
        .into_iter()
        .enumerate()
        .filter(|(_, s)| !ours.contains(&content(s)))
        .filter_map(|(i, s)| {
            let what = too_open(&s)?;
            let name = match sid(&s) {
                "" => format!("statement #{}", i + 1),
                sid => format!("statement {sid}"),
            };
            Some((name, s, what))
        })
        .collect()
}

/// `live` without the statements `open_statements` reports (what `up --adopt` puts).
pub fn without_open(rendered: &Value, live: &Value) -> Value {
    let open: Vec<Value> = open_statements(rendered, live)
        .into_iter()
        .map(|(_, s, _)| s)
        .collect();
    let kept = statements(live)
        .into_iter()
        .filter(|s| !open.contains(s))
        .collect();
    with_statements(live, kept)
}

/// Does this trust policy name `arn` as a federated principal?
pub fn names_provider(trust: &serde_json::Value, arn: &str) -> bool {
    let statements = match &trust["Statement"] {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    statements
        .into_iter()
        .any(|s| match &s["Principal"]["Federated"] {
            serde_json::Value::String(v) => v == arn,
            serde_json::Value::Array(a) => a.iter().any(|v| v == arn),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(sid: &str, sa: &str) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
               "Action": ["sts:AssumeRole", "sts:TagSession"],
               "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-service-account": sa}}})
    }

    fn chain() -> Value {
        json!({"Sid": CHAIN_SID, "Effect": "Allow",
               "Principal": {"AWS": ["arn:aws:iam::1:role/keda-operator"]},
               "Action": ["sts:AssumeRole", "sts:TagSession"]})
    }

    fn doc(statements: Vec<Value>) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn the_roles_that_chain_in_are_the_chain_statements_principals() {
        let one = doc(vec![st("KedactlA", "sa"), chain()]);
        assert_eq!(chained_from(&one), ["keda-operator"]);
        // One ARN as a string, a role under a path; a service statement names no role.
        let pathed = json!({"Sid": CHAIN_SID, "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::1:role/team/x/op"}, "Action": "sts:AssumeRole"});
        assert_eq!(chained_from(&doc(vec![pathed])), ["op"]);
        assert!(chained_from(&doc(vec![st("KedactlA", "sa")])).is_empty());
    }

    fn sids(doc: &Value) -> Vec<&str> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap_or(""))
            .collect()
    }

    #[test]
    fn merge_into_nothing_is_the_rendered_trust() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        assert_eq!(merge(&a, &doc(vec![])), a);
    }

    #[test]
    fn merge_keeps_other_clusters_and_people_in_place_and_is_stable() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let b = doc(vec![st("KedactlB1", "app"), chain()]);
        let person = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"});
        let mut live = merge(&a, &doc(vec![]));
        live["Statement"].as_array_mut().unwrap().push(person);
        let both = merge(&b, &live);
        assert_eq!(
            sids(&both),
            ["KedactlA1", CHAIN_SID, "", "KedactlB1"],
            "a's statements and the person's stay where they were, b's is appended"
        );
        // Converged from either side: no change, whichever cluster runs up next.
        assert_eq!(merge(&a, &both), both);
        assert_eq!(merge(&b, &both), both);
    }

    #[test]
    fn merge_repairs_this_clusters_statements_by_sid_and_drops_duplicates() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let mut drifted = chain();
        drifted["Action"] = "sts:AssumeRole".into();
        let live = doc(vec![
            drifted,
            st("KedactlB1", "app"),
            st("KedactlA1", "other"),
            st("KedactlA1", "app"),
        ]);
        let merged = merge(&a, &live);
        assert_eq!(sids(&merged), [CHAIN_SID, "KedactlB1", "KedactlA1"]);
        assert_eq!(merged["Statement"][0], chain());
        assert_eq!(merged["Statement"][2], st("KedactlA1", "app"));
    }

    #[test]
    fn legacy_sids_are_ours_only_when_they_say_what_we_render() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let mut old_chain = chain();
        old_chain["Sid"] = "KedaOperatorChain".into();
        // Before Sids named clusters: ours (same content) and another cluster's (other content).
        let live = doc(vec![
            st("EksPodIdentity", "app"),
            st("EksPodIdentity2", "other"),
            old_chain,
        ]);
        let merged = merge(&a, &live);
        assert_eq!(sids(&merged), ["KedactlA1", "EksPodIdentity2", CHAIN_SID]);
        // A statement a person named like ours is not ours unless its Sid is legacy.
        let theirs = doc(vec![st("Mine", "app")]);
        assert_eq!(sids(&merge(&a, &theirs)), ["Mine", "KedactlA1", CHAIN_SID]);
    }

    #[test]
    fn leave_deletes_a_role_only_this_cluster_uses() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        assert_eq!(leave(&a, &a), Leave::Delete);
        // Already without the chain, or with only the chain: nobody else is admitted.
        assert_eq!(leave(&a, &doc(vec![chain()])), Leave::Delete);
        assert_eq!(leave(&a, &doc(vec![])), Leave::Delete);
    }

    #[test]
    fn leave_keeps_a_role_another_cluster_or_a_person_uses() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let b = doc(vec![st("KedactlB1", "app"), chain()]);
        let both = merge(&b, &a);
        let Leave::Keep { trust, kept_by } = leave(&a, &both) else {
            panic!("kept")
        };
        assert_eq!(
            sids(&trust),
            [CHAIN_SID, "KedactlB1"],
            "the chain stays for b"
        );
        assert_eq!(kept_by, ["KedactlB1"]);
        // Then b leaves: nothing else is left.
        assert_eq!(leave(&b, &trust), Leave::Delete);

        let person = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"});
        let live = doc(vec![st("KedactlA1", "app"), chain(), person.clone()]);
        let Leave::Keep { trust, kept_by } = leave(&a, &live) else {
            panic!("kept")
        };
        assert_eq!(trust, doc(vec![chain(), person]));
        assert_eq!(kept_by, ["a statement without Sid"]);
    }

    #[test]
    fn a_single_statement_object_is_read_like_a_list() {
        let a = doc(vec![st("KedactlA1", "app")]);
        let live = json!({"Version": "2012-10-17", "Statement": st("KedactlB1", "app")});
        assert_eq!(sids(&merge(&a, &live)), ["KedactlB1", "KedactlA1"]);
    }

    #[test]
    fn a_trust_that_admits_too_much_is_named_unless_the_config_renders_it() {
        let ours = doc(vec![st("KedactlA1", "app"), chain()]);
        let open = json!({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"});
        let anyone = json!({"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:*"});
        let live = doc(vec![st("KedactlA1", "app"), chain(), open.clone(), anyone]);
        let found = open_statements(&ours, &live);
        let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["statement #3", "statement Anyone"]);
        assert!(found[0].2.contains("any pod of any cluster"));
        assert!(found[1].2.contains("any AWS principal"));
        assert_eq!(sids(&without_open(&ours, &live)), ["KedactlA1", CHAIN_SID]);
        // What `up --adopt` plans is a Put, and re-applied to the live trust it still drops them.
        let planned = without_open(&ours, &live);
        assert!(Edit::Put.holds(&ours, &planned));
        assert_eq!(
            sids(&Edit::Put.apply(&ours, &live)),
            ["KedactlA1", CHAIN_SID]
        );
        // Conditioned, a Deny, another action, or what the config itself renders: not flagged.
        let mut scoped = open.clone();
        scoped["Condition"] = json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "a"}});
        let mut deny = open.clone();
        deny["Effect"] = "Deny".into();
        let mut tag_only = open.clone();
        tag_only["Action"] = "sts:TagSession".into();
        assert!(open_statements(&ours, &doc(vec![scoped, deny, tag_only])).is_empty());
        assert!(open_statements(&doc(vec![open.clone()]), &doc(vec![open])).is_empty());
    }

    #[test]
    fn an_edit_is_reapplied_to_a_trust_another_cluster_wrote_since_the_plan() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let b = doc(vec![st("KedactlB1", "app"), chain()]);
        let c = doc(vec![st("KedactlC1", "app"), chain()]);
        // b's up planned against a's trust; c wrote its statement before b's write.
        let now = merge(&c, &a);
        assert!(!Edit::Put.holds(&b, &now));
        let written = Edit::Put.apply(&b, &now);
        assert_eq!(
            sids(&written),
            ["KedactlA1", CHAIN_SID, "KedactlC1", "KedactlB1"]
        );
        assert!(Edit::Put.holds(&b, &written) && Edit::Put.holds(&c, &written));

        // a's down planned against a + b; c came in meanwhile: a goes, b and c stay.
        let taken = Edit::Take.apply(&a, &written);
        assert_eq!(sids(&taken), [CHAIN_SID, "KedactlC1", "KedactlB1"]);
        assert!(Edit::Take.holds(&a, &taken));
        // A concurrent up that read the trust before a left wrote a's statement back: not held.
        assert!(!Edit::Take.holds(&a, &written));
    }

    #[test]
    fn a_trust_names_the_provider_in_a_string_or_a_list() {
        let arn = "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A";
        let one = json!({"Statement": {"Principal": {"Federated": arn}}});
        let many = json!({"Statement": [{"Principal": {"Service": "x"}},
                                        {"Principal": {"Federated": ["other", arn]}}]});
        assert!(names_provider(&one, arn) && names_provider(&many, arn));
        let other = json!({"Statement": [{"Principal": {"Federated": format!("{arn}B")}}]});
        assert!(!names_provider(&other, arn) && !names_provider(&json!({}), arn));
    }
}
