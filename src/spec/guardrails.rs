//! An organisation's guardrails on what kedactl creates: the roles' permissions boundary and
//! path, the tags on every AWS resource, and the managed policies on the apps' identity roles.
//! The rules are IAM's (botocore's `iam` model: `pathType`, `arnType`, `tagKeyType`,
//! `tagValueType`, `tagListType`) and the tagging rules every service shares (`aws:` is AWS's).

use super::{Problem, Spec};
use crate::model;
use std::collections::{BTreeMap, BTreeSet};

/// Most tags one IAM role (or queue, repository, association) carries (`tagListType`).
pub const MAX_TAGS: usize = 50;
/// Most managed policies IAM lets one role hold (the quota's ceiling; 10 by default).
pub const MAX_MANAGED_POLICIES: usize = 20;
/// `arnType` in botocore's IAM model.
const ARN_MIN: usize = 20;
const ARN_MAX: usize = 2048;
/// `pathType`.
const PATH_MAX: usize = 512;
/// `tagKeyType`, `tagValueType`.
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;

/// `^/([\x21-\x7E]+/)?$`, at most 512 characters.
pub fn path(s: &str) -> Result<(), String> {
    let inner = s.strip_prefix('/').and_then(|r| r.strip_suffix('/'));
    let ok = s == "/"
        || inner.is_some_and(|i| !i.is_empty() && i.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    match ok && s.len() <= PATH_MAX {
        true => Ok(()),
        false => Err(format!(
            "a path that starts and ends with '/' (/ or /service-roles/), of printable ASCII \
             without spaces, at most {PATH_MAX} characters"
        )),
    }
}

/// The partitions an IAM policy ARN may name.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A managed policy ARN, `arn:<partition>:iam::<account or aws>:policy/[<path>/]<name>`:
/// `(partition, account)`, or the rule in words.
pub fn policy_arn(s: &str) -> Result<(&str, &str), String> {
    let rule = || {
        "a managed policy ARN, arn:aws:iam::123456789012:policy/NAME (or \
         arn:aws:iam::aws:policy/NAME for an AWS managed one; aws iam list-policies shows them)"
            .to_string()
    };
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(rule());
    };
    let account_ok =
        account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let name = resource
        .strip_prefix("policy/")
        .map(|p| p.rsplit('/').next().unwrap_or(p));
    let name_ok = name.is_some_and(|n| {
        (1..=128).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    });
    let path_ok = resource
        .strip_prefix("policy")
        .and_then(|p| p.rsplit_once('/'))
        .is_some_and(|(dir, _)| path(&format!("{dir}/")).is_ok());
    match PARTITIONS.contains(&partition)
        && account_ok
        && name_ok
        && path_ok
        && (ARN_MIN..=ARN_MAX).contains(&s.len())
    {
        true => Ok((partition, account)),
        false => Err(rule()),
    }
}

/// IAM's tag characters: letters, numbers, separators (spaces) and `_ . : / = + - @`.
fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

/// The tag key rule, or why `key` breaks it.
pub fn tag_key(key: &str) -> Result<(), String> {
    let n = key.chars().count();
    if n == 0 || n > TAG_KEY_MAX {
        return Err(format!(
            "a tag key is 1 to {TAG_KEY_MAX} characters (this one is {n})"
        ));
    }
    if let Some(c) = key.chars().find(|c| !tag_char(*c)) {
        return Err(format!(
            "{c:?} is not allowed in a tag key: use letters, numbers, spaces and _ . : / = + - @"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err("the aws: prefix is reserved for AWS's own tags".into());
    }
    if key == model::MANAGED_BY || key.starts_with("kedactl.io/") {
        return Err(format!(
            "{} and kedactl.io/... are kedactl's ownership tags",
            model::MANAGED_BY
        ));
    }
    Ok(())
}

/// The tag value rule, or why `value` breaks it.
pub fn tag_value(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n > TAG_VALUE_MAX {
        return Err(format!(
            "a tag value is at most {TAG_VALUE_MAX} characters (this one is {n})"
        ));
    }
    match value.chars().find(|c| !tag_char(*c)) {
        Some(c) => Err(format!(
            "{c:?} is not allowed in a tag value: use letters, numbers, spaces and _ . : / = + - @"
        )),
        None => Ok(()),
    }
}

/// The partition of a region, as render names it in ARNs.
fn partition_of(region: &str) -> &'static str {
    super::target::Target::new(region, None).partition
}

/// Every guardrail problem, each naming its field and the fix.
pub(super) fn check(spec: &Spec, out: &mut Vec<Problem>) {
    let partition = spec.region.as_deref().map(partition_of);
    let arn = |field: &str, value: &str, out: &mut Vec<Problem>| match policy_arn(value) {
        Err(rule) => out.push(Problem::new(
            field,
            format!("{value:?} is not a managed policy ARN"),
            format!("use {rule}"),
        )),
        Ok((p, _)) if partition.is_some_and(|want| want != p) => out.push(Problem::new(
            field,
            format!(
                "{value:?} is in partition {p}, but region {} is in {}",
                spec.region.as_deref().unwrap_or_default(),
                partition.unwrap_or_default()
            ),
            format!(
                "use the policy's ARN in partition {}",
                partition.unwrap_or_default()
            ),
        )),
        Ok((_, account))
            if account != "aws" && spec.account.as_deref().is_some_and(|a| a != account) =>
        {
            out.push(Problem::new(
                field,
                format!(
                    "{value:?} is a policy of account {account}, not of {}: IAM attaches only \
                     the account's own or AWS managed policies",
                    spec.account.as_deref().unwrap_or_default()
                ),
                "create the policy in this account (aws iam create-policy) and name its ARN",
            ))
        }
        Ok(_) => {}
    };

    if let Some(b) = &spec.roles.permissions_boundary {
        arn("roles.permissionsBoundary", b, out);
    }
    if let Some(p) = &spec.roles.path
        && let Err(rule) = path(p)
    {
        out.push(Problem::new(
            "roles.path",
            format!("{p:?} is not a valid IAM path"),
            format!("use {rule}"),
        ));
    }

    // Per role: the managed policies its apps ask for (IAM counts them per role).
    let mut per_role: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, app) in spec.apps.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (j, p) in app.managed_policies.iter().enumerate() {
            let field = format!("apps[{i}].managedPolicies[{j}]");
            arn(&field, p, out);
            if !seen.insert(p.as_str()) {
                out.push(Problem::new(
                    field,
                    format!("{p} is listed twice"),
                    "list each policy once",
                ));
            }
            per_role
                .entry(app.identity_role(&spec.roles))
                .or_default()
                .insert(p);
        }
    }
    for (role, policies) in &per_role {
        if policies.len() > MAX_MANAGED_POLICIES {
            out.push(Problem::new(
                "apps[].managedPolicies",
                format!(
                    "IAM role {role} would hold {} managed policies; IAM allows at most \
                     {MAX_MANAGED_POLICIES} per role (10 unless the quota was raised)",
                    policies.len()
                ),
                "combine them into fewer policies, or give some apps their own identityRole",
            ));
        }
    }

    let mut lower: BTreeMap<String, &str> = BTreeMap::new();
    for (k, v) in &spec.tags {
        let field = format!("tags.{k}");
        if let Err(why) = tag_key(k) {
            out.push(Problem::new(
                &field,
                format!("{k:?} is not a tag key kedactl can set: {why}"),
                "rename the key under tags: in kedactl.yaml",
            ));
        }
        if let Err(why) = tag_value(v) {
            out.push(Problem::new(
                &field,
                format!("the value of tag {k:?} is not valid: {why}"),
                "change the value under tags: in kedactl.yaml",
            ));
        }
        // IAM keys are unique whatever their case: `Owner` and `owner` are one tag.
        if let Some(other) = lower.insert(k.to_lowercase(), k) {
            out.push(Problem::new(
                &field,
                format!("{k:?} and {other:?} differ only in case; IAM treats them as one key"),
                "keep one of them",
            ));
        }
    }
    // Besides the user's: the two ownership tags, a shared resource's cluster key, and on an
    // identity role one record per managed policy kedactl attached.
    let most_records = per_role.values().map(BTreeSet::len).max().unwrap_or(0);
    let room = MAX_TAGS - 3 - most_records.min(MAX_TAGS - 3);
    if spec.tags.len() > room {
        out.push(Problem::new(
            "tags",
            format!(
                "{} tags are too many: AWS allows {MAX_TAGS} per resource and kedactl adds up \
                 to {} of its own (ownership, cluster{})",
                spec.tags.len(),
                MAX_TAGS - room,
                if most_records > 0 {
                    ", one per attached managed policy"
                } else {
                    ""
                }
            ),
            format!("keep at most {room} tags under tags:"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::validate;

    fn base() -> Spec {
        Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..Spec::default()
        }
    }

    fn problems(spec: &Spec) -> Vec<(String, String)> {
        match validate(spec, "test") {
            Ok(()) => vec![],
            Err(p) => p
                .problems
                .into_iter()
                .map(|p| (p.field, format!("{} | {}", p.message, p.fix)))
                .collect(),
        }
    }

    #[test]
    fn paths_follow_iams_pattern_and_length() {
        for ok in ["/", "/service-roles/", "/a/b/c/", "/x~!/"] {
            assert_eq!(path(ok), Ok(()), "{ok}");
        }
        let long = format!("/{}/", "a".repeat(PATH_MAX - 2));
        assert_eq!(path(&long), Ok(()));
        let too_long = format!("/{}/", "a".repeat(PATH_MAX - 1));
        for bad in [
            "",
            "service-roles/",
            "/service-roles",
            "//",
            "/a b/",
            "/é/",
            too_long.as_str(),
        ] {
            assert!(path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn policy_arns_name_partition_account_and_policy() {
        assert_eq!(
            policy_arn("arn:aws:iam::123456789012:policy/Boundary"),
            Ok(("aws", "123456789012"))
        );
        assert_eq!(
            policy_arn("arn:aws-us-gov:iam::aws:policy/service-role/AmazonS3ReadOnlyAccess"),
            Ok(("aws-us-gov", "aws"))
        );
        for bad in [
            "Boundary",
            "arn:aws:iam::123456789012:role/Boundary",
            "arn:aws:iam:us-east-1:123456789012:policy/B",
            "arn:aws:iam::12345:policy/B",
            "arn:aws:iam::123456789012:policy/",
            "arn:aws:iam::123456789012:policy/a b",
            "arn:aws:s3:::bucket",
            "arn:nope:iam::123456789012:policy/B",
        ] {
            assert!(policy_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_keys_and_values_follow_the_tagging_rules() {
        assert_eq!(tag_key("cost-center"), Ok(()));
        assert_eq!(tag_key("Équipe propriétaire"), Ok(()));
        assert!(tag_key("aws:created-by").unwrap_err().contains("aws:"));
        assert!(tag_key("AWS:x").unwrap_err().contains("aws:"));
        assert!(
            tag_key("kedactl.io/stack")
                .unwrap_err()
                .contains("ownership")
        );
        assert!(tag_key(model::MANAGED_BY).is_err());
        assert!(tag_key("").is_err());
        assert!(tag_key(&"k".repeat(129)).unwrap_err().contains("129"));
        assert_eq!(tag_key(&"k".repeat(128)), Ok(()));
        assert!(tag_key("a,b").unwrap_err().contains("','"));
        assert_eq!(tag_value(""), Ok(()));
        assert_eq!(tag_value(&"v".repeat(256)), Ok(()));
        assert!(tag_value(&"v".repeat(257)).is_err());
        assert!(tag_value("tab\there").is_err());
    }

    #[test]
    fn each_problem_names_its_field_and_fix() {
        let mut s = base();
        s.roles.permissions_boundary = Some("Boundary".into());
        s.roles.path = Some("service-roles".into());
        s.tags.insert("aws:owner".into(), "me".into());
        s.tags.insert("Owner".into(), "me".into());
        s.tags.insert("owner".into(), "bad,value".into());
        s.apps[0].managed_policies = vec![
            "arn:aws:iam::123456789012:policy/A".into(),
            "arn:aws:iam::123456789012:policy/A".into(),
            "arn:aws-cn:iam::aws:policy/B".into(),
            "arn:aws:iam::210987654321:policy/C".into(),
        ];
        let p = problems(&s);
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "roles.permissionsBoundary",
                "roles.path",
                "apps[0].managedPolicies[1]",
                "apps[0].managedPolicies[2]",
                "apps[0].managedPolicies[3]",
                "tags.aws:owner",
                "tags.owner",
                "tags.owner",
            ]
        );
        assert!(p[0].1.contains("arn:aws:iam::123456789012:policy/NAME"));
        assert!(p[1].1.contains("/service-roles/"));
        assert!(p[3].1.contains("partition aws-cn") && p[3].1.contains("partition aws"));
        assert!(p[4].1.contains("account 210987654321"));
        assert!(p[5].1.contains("reserved"));
        assert!(p[6].1.contains("','"));
        assert!(p[7].1.contains("differ only in case"));
    }

    #[test]
    fn tags_leave_room_for_kedactls_own_and_the_policy_records() {
        let mut s = base();
        s.tags = (0..47).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(problems(&s).is_empty());
        s.apps[0].managed_policies = vec!["arn:aws:iam::aws:policy/A".into()];
        let p = problems(&s);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "tags");
        assert!(p[0].1.contains("at most 46"), "{}", p[0].1);
    }

    #[test]
    fn a_role_holds_at_most_twenty_managed_policies() {
        let mut s = base();
        let arns: Vec<String> = (0..21)
            .map(|i| format!("arn:aws:iam::aws:policy/P{i}"))
            .collect();
        s.apps[0].managed_policies = arns[..11].to_vec();
        let mut second = s.apps[0].clone();
        second.deployment = "other".into();
        second.service_account = "other".into();
        second.managed_policies = arns[10..].to_vec();
        s.apps.push(second);
        let p = problems(&s);
        assert!(
            p.iter()
                .any(|(f, m)| f == "apps[].managedPolicies" && m.contains("21 managed")),
            "{p:?}"
        );
    }
}
