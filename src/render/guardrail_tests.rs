//! The guardrails in what render computes: paths in every role ARN, the boundary and managed
//! policies on the roles, the config's tags on AWS resources only.

use super::*;

fn spec() -> Spec {
    let mut s = Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    };
    s.roles.path = Some("/service-roles/".into());
    s.roles.permissions_boundary = Some("arn:aws:iam::123456789012:policy/Boundary".into());
    s.tags.insert("cost-center".into(), "1234".into());
    s.apps[0].managed_policies = vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into()];
    s
}

#[test]
fn attached_records_are_keyed_by_the_arns_hash() {
    let (k, v) = attached_tag("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
    assert!(k.starts_with(model::ATTACHED_PREFIX) && k.len() == model::ATTACHED_PREFIX.len() + 16);
    assert_eq!(v, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
    assert_ne!(
        k,
        attached_tag("arn:aws:iam::aws:policy/AmazonS3FullAccess").0
    );
    // A comma is a valid policy name character but not a tag character: the key still records it.
    let (k2, v2) = attached_tag("arn:aws:iam::123456789012:policy/a,b");
    assert!(k2.starts_with(model::ATTACHED_PREFIX) && v2.is_empty());
}

#[test]
fn a_path_is_in_every_role_arn_render_writes() {
    let d = desired(&spec()).unwrap();
    let arn = |n: &str| format!("arn:aws:iam::123456789012:role/service-roles/{n}");
    assert_eq!(d.roles[0].arn, arn("keda-operator"));
    assert_eq!(d.roles[1].arn, arn("keda-identity"));
    assert!(d.roles.iter().all(|r| r.path == "/service-roles/"));
    assert!(d.associations.iter().all(|a| a.role_arn == arn(&a.role)));
    // The identity role's trust chains from the operator role by its ARN (with the path).
    assert!(
        d.roles[1]
            .trust
            .body
            .to_string()
            .contains(&arn("keda-operator"))
    );
    let auth = d
        .manifests
        .iter()
        .find(|m| m["kind"] == "TriggerAuthentication")
        .unwrap();
    assert!(auth.to_string().contains(&arn("keda-identity")), "{auth}");
    assert!(!serde_json::to_string(&d).unwrap().contains(":role/keda-"));
}

#[test]
fn boundary_and_managed_policies_go_on_the_roles_that_need_them() {
    let mut s = spec();
    let mut second = s.apps[0].clone();
    second.deployment = "b".into();
    second.service_account = "b".into();
    second.queue.name = "b".into();
    second.managed_policies = vec![
        "arn:aws:iam::123456789012:policy/Mine".into(),
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
    ];
    s.apps.push(second);
    let d = desired(&s).unwrap();
    let boundary = "arn:aws:iam::123456789012:policy/Boundary";
    assert!(
        d.roles
            .iter()
            .all(|r| r.boundary.as_deref() == Some(boundary))
    );
    // The operator role serves KEDA only: no app's policies.
    assert!(d.roles[0].managed_policies.is_empty());
    assert_eq!(
        d.roles[1].managed_policies,
        [
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/Mine"
        ]
    );
    // Without the guardrails: the seed's roles at /, no boundary.
    let seed = desired(&Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        ..Spec::default()
    })
    .unwrap();
    assert!(
        seed.roles
            .iter()
            .all(|r| r.path == "/" && r.boundary.is_none())
    );
    assert_eq!(
        seed.roles[0].arn,
        "arn:aws:iam::<account>:role/keda-operator"
    );
}

#[test]
fn the_configs_tags_go_on_aws_resources_not_on_kubernetes_objects() {
    let d = desired(&spec()).unwrap();
    let aws = d.aws_tags();
    assert_eq!(aws["cost-center"], "1234");
    assert_eq!(aws[model::STACK], "kedactl");
    let shared = d.shared_tags();
    assert_eq!(shared["cost-center"], "1234");
    assert!(shared.contains_key(&model::cluster_tag("demo")));
    // Kubernetes labels have other rules (no spaces, 63 characters): ownership only.
    for m in &d.manifests {
        assert!(m["metadata"]["labels"].get("cost-center").is_none(), "{m}");
    }
}

#[test]
fn the_init_template_writes_every_guardrail_back() {
    let mut s = spec();
    s.tags.insert("owner".into(), "team a".into());
    let text = config_file(&s).unwrap();
    let back = crate::spec::parse(text.as_bytes(), "init").unwrap();
    assert_eq!(back.roles.path, s.roles.path);
    assert_eq!(
        back.roles.permissions_boundary,
        s.roles.permissions_boundary
    );
    assert_eq!(back.tags, s.tags);
    assert_eq!(back.apps[0].managed_policies, s.apps[0].managed_policies);
    // Unset, they are commented examples.
    let text = config_file(&Spec::default()).unwrap();
    assert!(text.contains("# permissionsBoundary: arn:aws:iam::") && text.contains("# tags:"));
    let back = crate::spec::parse(text.as_bytes(), "init").unwrap();
    assert!(back.tags.is_empty() && back.roles.path.is_none());
}
