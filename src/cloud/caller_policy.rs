//! The IAM policy the caller (a CI role) needs to run kedactl's commands on one stack:
//! `PERMISSIONS` rows of those commands and groups, each action on the stack's own ARNs, and
//! `Resource: "*"` only for actions without resource-level permissions. Pure.

use super::permissions::{Command, On, PERMISSIONS, Permission};
use crate::model::Only;
use crate::render::{Desired, POD_IDENTITY_ADDON};
use crate::triggers::{self, resource::Kind};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The service principal pod identity associations pass their role to.
pub const PODS_SERVICE: &str = "pods.eks.amazonaws.com";
/// The service AMP's scrapers' service-linked role is for.
const SCRAPER_SERVICE: &str = "scraper.aps.amazonaws.com";

/// Who the policy is for, when known: an IAM role or user ARN (an assumed-role session stands
/// for its role).
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a>(pub Option<&'a str>);

/// The ARNs `on` stands for in this stack (empty: the stack has none, the rows are left out).
pub fn resources(on: On, d: &Desired, caller: Caller) -> Vec<String> {
    let t = &d.target;
    let acct = t.account_or_placeholder();
    let kind = |k: Kind| d.resources.iter().filter(move |r| r.kind == k);
    let mut out: Vec<String> = match on {
        On::Account => vec!["*".into()],
        On::AmpAccount => match kind(Kind::AmpWorkspace).next() {
            Some(_) => vec!["*".into()],
            None => vec![],
        },
        On::CloudwatchAccount
            if d.triggers
                .iter()
                .any(|a| a.kind == triggers::Kind::CloudWatch) =>
        {
            vec!["*".into()]
        }
        On::CloudwatchAccount => vec![],
        On::Role => d.roles.iter().map(|r| r.arn.clone()).collect(),
        On::Principal => d
            .roles
            .iter()
            .map(|r| r.arn.clone())
            .chain(caller.0.map(crate::render::aws::principal_arn))
            .collect(),
        // Pod identity passes roles to EKS (IRSA passes none): every role of the stack, as
        // doctor's KD029 asks of the caller (an association may name any of them).
        On::PassedRole if d.auth_mode == crate::spec::AuthMode::PodIdentity => {
            d.roles.iter().map(|r| r.arn.clone()).collect()
        }
        On::PassedRole => vec![],
        // The issuer's id is the cluster's, known only once it is read: any of the region's.
        On::OidcProvider => vec![match &d.oidc_provider {
            Some(p) => p.arn.clone(),
            None => t.oidc_provider_arn(&format!("oidc.eks.{}.amazonaws.com/id/*", t.region)),
        }],
        // Whatever is attached to the stack's roles is read: the account's and AWS managed
        // ones (account `aws`, which parliament refuses to see in an ARN: hence `*`).
        On::ManagedPolicy => vec![format!("arn:{}:iam::*:policy/*", t.partition)],
        On::Queue => d.queues.iter().map(|q| q.arn.clone()).collect(),
        On::QueueAnyRegion => d
            .queues
            .iter()
            .map(|q| format!("arn:{}:sqs:*:{acct}:{}", t.partition, q.name))
            .collect(),
        On::Key => d
            .queues
            .iter()
            .filter_map(|q| q.attributes.get(crate::render::KMS_KEY))
            .filter_map(|k| t.kms_key_arn(k, &BTreeMap::new()))
            .map(
                |arn| match arn.contains(crate::render::aws::UNRESOLVED_ALIAS) {
                    // An alias names its key only once resolved: any key, by that alias
                    // (`key_conditions` adds kms:RequestAlias).
                    true => t.arn("kms", "key/*"),
                    false => arn,
                },
            )
            .collect(),
        On::Repository => d
            .repositories
            .iter()
            .map(|r| t.arn("ecr", &format!("repository/{}", r.name)))
            .collect(),
        On::Cluster => vec![d.cluster_arn.clone()],
        On::Nodegroup => vec![t.arn("eks", &format!("nodegroup/{}/*", d.cluster))],
        On::Addon => vec![t.arn(
            "eks",
            &format!("addon/{}/{POD_IDENTITY_ADDON}/*", d.cluster),
        )],
        On::Association => vec![t.arn("eks", &format!("podidentityassociation/{}/*", d.cluster))],
        // A workspace kedactl creates has an id AWS picks: any of the account's.
        On::Workspace => kind(Kind::AmpWorkspace)
            .map(|w| match w.managed {
                true => t.arn("aps", "workspace/*"),
                false => t.arn("aps", &format!("workspace/{}", w.name)),
            })
            .collect(),
        On::Scraper => kind(Kind::AmpScraper)
            .map(|_| t.arn("aps", "scraper/*"))
            .collect(),
        On::ScrapeTargets => match kind(Kind::AmpScraper).next() {
            Some(_) => std::iter::once(d.cluster_arn.clone())
                .chain(resources(On::Workspace, d, caller))
                .collect(),
            None => vec![],
        },
        On::ScraperServiceRole | On::ScraperNetwork if kind(Kind::AmpScraper).next().is_none() => {
            vec![]
        }
        On::ScraperServiceRole => vec![format!(
            "arn:{}:iam::{acct}:role/aws-service-role/{SCRAPER_SERVICE}/AWSServiceRoleForAmazonPrometheusScraper*",
            t.partition
        )],
        On::ScraperNetwork => vec!["*".into()],
        On::Stream => kind(Kind::KinesisStream)
            .map(|s| t.arn("kinesis", &format!("stream/{}", s.name)))
            .collect(),
        On::Table => kind(Kind::DynamodbTable)
            .map(|s| t.arn("dynamodb", &format!("table/{}", s.name)))
            .collect(),
        On::TableStream => kind(Kind::DynamodbTable)
            .map(|s| t.arn("dynamodb", &format!("table/{}/stream/*", s.name)))
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

/// The rows the caller needs for `commands` on the groups `only` selects.
pub fn rows<'a>(
    commands: &'a [Command],
    only: &'a Only,
) -> impl Iterator<Item = &'static Permission> + 'a {
    PERMISSIONS.iter().filter(move |p| {
        p.used_by.iter().any(|c| commands.contains(c)) && p.group.is_none_or(|g| only.includes(g))
    })
}

/// The policy document: one statement per kind of resource, actions and ARNs sorted, so the
/// same stack always renders the same bytes.
pub fn caller_policy(d: &Desired, only: &Only, commands: &[Command], caller: Caller) -> Value {
    let mut by_on: BTreeMap<On, Vec<&str>> = BTreeMap::new();
    for p in rows(commands, only) {
        by_on.entry(p.on).or_default().push(p.action);
    }
    let mut statements = Vec::new();
    for (on, mut actions) in by_on {
        let resources = resources(on, d, caller);
        if resources.is_empty() {
            continue;
        }
        actions.sort();
        actions.dedup();
        let mut s = json!({
            "Sid": sid(on),
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        });
        if let Some(c) = condition(on, d) {
            s["Condition"] = c;
        }
        statements.push(s);
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Conditions that narrow a statement further than its ARNs can.
fn condition(on: On, d: &Desired) -> Option<Value> {
    match on {
        // A role passed to EKS for pod identity, and to nothing else.
        On::PassedRole => Some(json!({"StringEquals": {"iam:PassedToService": PODS_SERVICE}})),
        On::ScraperServiceRole => {
            Some(json!({"StringEquals": {"iam:AWSServiceName": SCRAPER_SERVICE}}))
        }
        On::ScraperNetwork => {
            Some(json!({"ForAnyValue:StringEquals": {"aws:CalledVia": ["aps.amazonaws.com"]}}))
        }
        // A queue key given as an alias: the key must be asked for by that alias.
        On::Key => {
            let aliases: Vec<String> = d
                .queues
                .iter()
                .filter_map(|q| q.attributes.get(crate::render::KMS_KEY))
                .filter(|k| {
                    matches!(
                        crate::spec::names::KmsKey::parse(k),
                        Some(crate::spec::names::KmsKey::Alias(_))
                    )
                })
                .map(|k| {
                    k.rsplit_once(':')
                        .map_or(k.as_str(), |(_, a)| a)
                        .to_string()
                })
                .collect();
            (!aliases.is_empty()).then(|| json!({"StringEquals": {"kms:RequestAlias": aliases}}))
        }
        _ => None,
    }
}

/// Statement ids say what the statement is about (IAM: `[A-Za-z0-9]`).
fn sid(on: On) -> String {
    let name = format!("{on:?}");
    format!("Kedactl{name}")
}

/// The actions this policy grants on `"*"`: those without resource-level permissions.
pub fn resourceless(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = doc["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["Resource"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == "*"))
        })
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::conditions::Context;
    use crate::doctor::policy::{Decision, evaluate};
    use crate::model::Group;
    use crate::spec::Spec;

    fn seed() -> Spec {
        Spec {
            cluster: Some("demo".into()),
            region: Some("eu-west-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        }
    }

    fn actions(doc: &Value) -> Vec<String> {
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn only_keeps_the_groups_calls_and_what_every_group_reads() {
        let d = crate::render::desired(&seed()).unwrap();
        let doc = caller_policy(
            &d,
            &Only::new(vec![Group::Queue]),
            &Command::DEFAULT,
            Caller::default(),
        );
        let got = actions(&doc);
        assert!(got.contains(&"sqs:CreateQueue".to_string()), "{got:?}");
        // Every group reads the caller and the cluster.
        assert!(got.contains(&"sts:GetCallerIdentity".to_string()));
        assert!(got.contains(&"eks:DescribeCluster".to_string()));
        assert!(
            !got.iter()
                .any(|a| a.starts_with("iam:") || a.starts_with("ecr:")),
            "{got:?}"
        );
        // The SQS statement names the stack's queue in its region, nothing wider.
        let sqs = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "KedactlQueue")
            .unwrap();
        assert_eq!(
            sqs["Resource"],
            json!(["arn:aws:sqs:eu-west-1:123456789012:event-messages-queue"])
        );
    }

    #[test]
    fn a_queue_key_by_alias_is_any_key_asked_for_by_that_alias() {
        let mut spec = seed();
        spec.apps[0].queue.kms_key = Some("alias/orders".into());
        let d = crate::render::desired(&spec).unwrap();
        let doc = caller_policy(&d, &Only::default(), &[Command::Plan], Caller::default());
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd";
        let by = |alias: &str| Context::default().set("kms:RequestAlias", &[alias]);
        assert_eq!(
            evaluate(&doc, "kms:DescribeKey", key, &by("alias/orders")).decision,
            Decision::Allow
        );
        assert_ne!(
            evaluate(&doc, "kms:DescribeKey", key, &by("alias/other")).decision,
            Decision::Allow
        );
        // A key given by id is that key alone, without a condition.
        spec.apps[0].queue.kms_key = Some("1234abcd-12ab-34cd-56ef-1234567890ab".into());
        let d = crate::render::desired(&spec).unwrap();
        let doc = caller_policy(&d, &Only::default(), &[Command::Plan], Caller::default());
        let s = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "KedactlKey")
            .unwrap();
        assert_eq!(
            s["Resource"],
            json!(["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
        );
        assert!(s.get("Condition").is_none());
    }

    #[test]
    fn the_caller_may_be_simulated_only_when_named() {
        let d = crate::render::desired(&seed()).unwrap();
        let me = "arn:aws:sts::123456789012:assumed-role/ci/run-42";
        let role = "arn:aws:iam::123456789012:role/ci";
        let without = caller_policy(&d, &Only::default(), &[Command::Doctor], Caller::default());
        let with = caller_policy(&d, &Only::default(), &[Command::Doctor], Caller(Some(me)));
        let ctx = Context::default();
        assert_ne!(
            evaluate(&without, "iam:SimulatePrincipalPolicy", role, &ctx).decision,
            Decision::Allow
        );
        // An assumed-role session is simulated as its role.
        assert_eq!(
            evaluate(&with, "iam:SimulatePrincipalPolicy", role, &ctx).decision,
            Decision::Allow
        );
        assert_eq!(
            resourceless(&with),
            [
                "iam:ListOpenIDConnectProviders",
                "iam:ListRoles",
                "sts:GetCallerIdentity"
            ]
        );
    }

    #[test]
    fn kinds_the_stack_lacks_leave_no_statement() {
        let d = crate::render::desired(&seed()).unwrap();
        let doc = caller_policy(&d, &Only::default(), &Command::DEFAULT, Caller::default());
        let sids: Vec<&str> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        for absent in [
            "KedactlStream",
            "KedactlTable",
            "KedactlWorkspace",
            "KedactlKey",
            "KedactlCloudwatchAccount",
        ] {
            assert!(!sids.contains(&absent), "{absent}: {sids:?}");
        }
        assert!(sids.contains(&"KedactlPassedRole"), "{sids:?}");
    }
}
