//! Trust policies shared by several clusters. IAM roles are account-wide, so every cluster of a
//! stack uses the same `keda-operator` and `keda-identity` roles. Each cluster renders only its
//! own statements (Sids from `render::trust_sid`) and the shared chain statement
//! (`render::CHAIN_SID`): `up` puts those in and keeps every other statement (another
//! cluster's, or one a person added); `down` takes this cluster's out and deletes the role only
//! when nothing but them and the chain is left. Pure, so both are unit-tested here.

use crate::render::CHAIN_SID;
use crate::render::policy::canonical;
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

fn same(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

/// What a write of a shared trust does with this cluster's statements. IAM has no conditional
/// write, so the executor re-applies the edit to the trust it reads right before writing (not
/// to the one the plan saw) and watches that it stays applied: another cluster's statements
/// written in between are kept, and one of its writes that dropped ours is repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// `up`: this cluster's statements in (`merge`).
    Put,
    /// `down`: this cluster's statements out, the chain kept (`leave`'s trust).
    Take,
}

impl Edit {
    /// Which edit a planned trust makes, from what this cluster renders; None when it is
    /// neither (a trust written exactly, as `--adopt` does).
    pub fn of(rendered: &Value, planned: &Value) -> Option<Edit> {
        [Edit::Put, Edit::Take]
            .into_iter()
            .find(|e| e.holds(rendered, planned))
    }

    /// The trust this edit makes of `live`.
    pub fn apply(self, rendered: &Value, live: &Value) -> Value {
        match self {
            Edit::Put => merge(rendered, live),
            Edit::Take => without(rendered, live).0,
        }
    }

    /// `live` already says what this edit wants.
    pub fn holds(self, rendered: &Value, live: &Value) -> bool {
        same(&self.apply(rendered, live), live)
    }
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
    fn an_edit_is_read_off_the_planned_trust_and_reapplied_to_a_newer_one() {
        let a = doc(vec![st("KedactlA1", "app"), chain()]);
        let b = doc(vec![st("KedactlB1", "app"), chain()]);
        let c = doc(vec![st("KedactlC1", "app"), chain()]);
        // b's up planned against a's trust; c wrote its statement before b's write.
        let planned = merge(&b, &a);
        assert_eq!(Edit::of(&b, &planned), Some(Edit::Put));
        let now = merge(&c, &a);
        assert!(!Edit::Put.holds(&b, &now));
        let written = Edit::Put.apply(&b, &now);
        assert_eq!(
            sids(&written),
            ["KedactlA1", CHAIN_SID, "KedactlC1", "KedactlB1"]
        );
        assert!(Edit::Put.holds(&b, &written) && Edit::Put.holds(&c, &written));

        // a's down planned against a + b; c came in meanwhile: a goes, b and c stay.
        let Leave::Keep { trust: planned, .. } = leave(&a, &merge(&b, &a)) else {
            panic!("kept")
        };
        assert_eq!(Edit::of(&a, &planned), Some(Edit::Take));
        let taken = Edit::Take.apply(&a, &written);
        assert_eq!(sids(&taken), [CHAIN_SID, "KedactlC1", "KedactlB1"]);
        assert!(Edit::Take.holds(&a, &taken));
        // A concurrent up that read the trust before a left wrote a's statement back: not held.
        assert!(!Edit::Take.holds(&a, &written));

        // A trust that neither merges nor takes ours (an adopted role's exact trust over others).
        let exact = doc(vec![st("KedactlA1", "other")]);
        assert_eq!(Edit::of(&a, &exact), None);
    }
}
