//! An organisation's guardrails on what kedactl creates (issue 26 §2): the roles' permissions
//! boundary and path, `tags:` on every AWS resource, `apps[].managedPolicies`. Offline: what
//! render and plan write, and the config errors. On moto (skipped without
//! KEDACTL_TEST_AWS_ENDPOINT, required by .ci/run): what `up` leaves in the account, read back
//! with the SDK (GetRole, ListAttachedRolePolicies, the tags), and how it keeps them in sync.

mod common;
use common::{DEMO, MotoStack, Sandbox, stderr, stdout};
use kedactl::cloud::Aws;
use serde_json::Value;

const CONFIG: &str = "\
roles:
  path: /service-roles/
  permissionsBoundary: arn:aws:iam::123456789012:policy/Boundary
tags:
  cost-center: \"1234\"
  owner: team-a
apps:
  - managedPolicies:
      - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
";

fn run(s: &Sandbox, args: &[&str]) -> std::process::Output {
    s.kedactl(args).output().unwrap()
}

#[test]
fn render_shows_each_roles_path_boundary_policies_and_tags() {
    let s = Sandbox::new();
    s.write("kedactl.yaml", CONFIG);
    let mut args = vec!["render", "--only", "iam", "-o", "json"];
    args.extend(DEMO);
    let out = run(&s, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    let docs = doc["documents"].as_array().unwrap();
    let find = |file: &str| {
        docs.iter()
            .find(|d| d["file"] == file)
            .unwrap_or_else(|| panic!("no {file}"))["body"]
            .clone()
    };
    let id = find("iam/keda-identity.role.json");
    assert_eq!(id["Path"], "/service-roles/");
    assert_eq!(
        id["Arn"],
        "arn:aws:iam::123456789012:role/service-roles/keda-identity"
    );
    assert_eq!(
        id["PermissionsBoundary"],
        "arn:aws:iam::123456789012:policy/Boundary"
    );
    assert_eq!(
        id["ManagedPolicyArns"],
        serde_json::json!(["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
    );
    let tags = id["Tags"].as_array().unwrap();
    for (k, v) in [
        ("cost-center", "1234"),
        ("owner", "team-a"),
        ("kedactl.io/stack", "kedactl"),
    ] {
        assert!(
            tags.contains(&serde_json::json!({"Key": k, "Value": v})),
            "{tags:?}"
        );
    }
    let op = find("iam/keda-operator.role.json");
    assert!(op.get("ManagedPolicyArns").is_none(), "{op}");
    // The trust of the identity role names the operator role on its path.
    let trust = find("iam/keda-identity.trust.json");
    assert!(
        trust
            .to_string()
            .contains("arn:aws:iam::123456789012:role/service-roles/keda-operator"),
        "{trust}"
    );

    // The manifests name the role by its ARN with the path; labels stay kedactl's own.
    let mut args = vec!["render", "--only", "app"];
    args.extend(DEMO);
    let text = stdout(&run(&s, &args));
    assert!(
        text.contains("roleArn: arn:aws:iam::123456789012:role/service-roles/keda-identity"),
        "{text}"
    );
    assert!(!text.contains("cost-center"));

    // Without guardrails, render prints what it printed before: no role documents.
    let bare = Sandbox::new();
    let mut args = vec!["render", "--only", "iam"];
    args.extend(DEMO);
    assert!(!stdout(&run(&bare, &args)).contains(".role.json"));
}

#[test]
fn the_boundary_flag_overrides_the_config_and_plan_shows_it() {
    let s = Sandbox::new();
    let mut args = vec![
        "plan",
        "--offline",
        "-o",
        "json",
        "--only",
        "iam",
        "--permissions-boundary",
        "arn:aws:iam::123456789012:policy/FromFlag",
    ];
    args.extend(DEMO);
    let out = run(&s, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = common::valid_document(serde_json::from_slice(&out.stdout).unwrap());
    let creates: Vec<&Value> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "create-role")
        .collect();
    assert_eq!(creates.len(), 2);
    for c in creates {
        assert_eq!(
            c["permissionsBoundary"],
            "arn:aws:iam::123456789012:policy/FromFlag"
        );
        assert!(
            c["summary"]
                .as_str()
                .unwrap()
                .contains("permissions boundary FromFlag")
        );
    }
}

#[test]
fn bad_guardrails_are_config_errors_naming_the_field_and_the_fix() {
    let s = Sandbox::new();
    s.write(
        "kedactl.yaml",
        "\
roles:
  path: service-roles
tags:
  aws:owner: me
  team: a,b
apps:
  - managedPolicies: [AmazonS3ReadOnlyAccess]
",
    );
    let mut args = vec!["plan", "--offline", "--permissions-boundary", "Boundary"];
    args.extend(DEMO);
    let out = run(&s, &args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    for line in [
        // A flag's value has no line of the file; the file's values have theirs.
        "  - roles.permissionsBoundary: \"Boundary\" is not a managed policy ARN",
        "  - line 2: roles.path: \"service-roles\" is not a valid IAM path",
        "  - line 7: apps[0].managedPolicies[0]: \"AmazonS3ReadOnlyAccess\" is not a managed policy ARN",
        "  - line 4: tags.aws:owner: \"aws:owner\" is not a tag key kedactl can set: the aws: prefix is reserved",
        "  - line 5: tags.team: the value of tag \"team\" is not valid: ',' is not allowed",
        "fix: use a path that starts and ends with '/'",
        "fix: use a managed policy ARN, arn:aws:iam::123456789012:policy/NAME",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty());
}

// ---------------------------------------------------------------------------------------------
// On moto.

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

async fn create_policy(aws: &Aws, name: &str) -> String {
    let out = aws
        .iam
        .create_policy()
        .policy_name(name)
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .unwrap();
    out.policy().unwrap().arn().unwrap().to_string()
}

fn config(s: &MotoStack, managed: &[&str]) {
    let policies = match managed {
        [] => String::new(),
        list => format!("    managedPolicies: [{}]\n", list.join(", ")),
    };
    let text = format!(
        "cluster: demo\nregion: us-east-1\nstack: {p}\nroles:\n  operator: {p}-op\n  identity: {p}-id\n  path: /service-roles/\ntags:\n  cost-center: \"1234\"\napps:\n  - queue:\n      name: {p}-q\n    repository: {p}-repo\n{policies}",
        p = s.prefix
    );
    s.sandbox.write("kedactl.yaml", text);
}

fn kedactl(s: &MotoStack, cmd: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["-o", "json", "--yes", "--only", "iam,queue,registry"];
    args.extend(extra);
    s.run(cmd, &args)
}

fn json(s: &MotoStack, cmd: &str, extra: &[&str]) -> Value {
    let out = kedactl(s, cmd, extra);
    assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
    common::valid_document(serde_json::from_slice(&out.stdout).unwrap())
}

async fn attached(aws: &Aws, role: &str) -> Vec<String> {
    let out = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    arns.sort();
    arns
}

async fn role_tags(aws: &Aws, role: &str) -> Vec<(String, String)> {
    let out = aws
        .iam
        .list_role_tags()
        .role_name(role)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn up_puts_the_guardrails_on_what_it_creates_and_keeps_them_in_sync() {
    let Some(s) = MotoStack::new("guardrails") else {
        return;
    };
    let aws = s.sdk().await;
    let p = &s.prefix;
    let b1 = create_policy(&aws, &format!("{p}-b1")).await;
    let b2 = create_policy(&aws, &format!("{p}-b2")).await;
    let app = create_policy(&aws, &format!("{p}-app")).await;
    let hand = create_policy(&aws, &format!("{p}-hand")).await;
    let (op, id) = (format!("{p}-op"), format!("{p}-id"));

    config(&s, &[&app]);
    json(&s, "up", &["--permissions-boundary", &b1]);

    // GetRole shows the path (in the ARN too) and the boundary; the tags are the config's and
    // kedactl's own.
    for role in [&op, &id] {
        let got = aws.iam.get_role().role_name(role).send().await.unwrap();
        let r = got.role().unwrap();
        assert_eq!(r.path(), "/service-roles/");
        assert_eq!(
            r.arn(),
            format!("arn:aws:iam::123456789012:role/service-roles/{role}")
        );
        assert_eq!(
            r.permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn()),
            Some(b1.as_str())
        );
        let tags = role_tags(&aws, role).await;
        assert!(
            tags.contains(&("cost-center".into(), "1234".into())),
            "{tags:?}"
        );
        assert!(
            tags.contains(&("kedactl.io/stack".into(), p.clone())),
            "{tags:?}"
        );
    }
    // The app's policy is on its identity role only, and recorded as kedactl's.
    assert_eq!(attached(&aws, &id).await, [app.as_str()]);
    assert!(attached(&aws, &op).await.is_empty());
    let record = role_tags(&aws, &id)
        .await
        .into_iter()
        .find(|(k, _)| k.starts_with("kedactl.io/attached/"))
        .expect("a record of the attached policy");
    assert_eq!(record.1, app);
    // The queue and the repository carry the config's tags too.
    let url = aws
        .sqs
        .get_queue_url()
        .queue_name(format!("{p}-q"))
        .send()
        .await
        .unwrap();
    let qt = aws
        .sqs
        .list_queue_tags()
        .queue_url(url.queue_url().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        qt.tags().unwrap().get("cost-center").map(String::as_str),
        Some("1234")
    );
    let repo = aws
        .ecr
        .describe_repositories()
        .repository_names(format!("{p}-repo"))
        .send()
        .await
        .unwrap();
    let rt = aws
        .ecr
        .list_tags_for_resource()
        .resource_arn(repo.repositories()[0].repository_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        rt.tags()
            .iter()
            .any(|t| t.key() == "cost-center" && t.value() == "1234")
    );

    // Converged: nothing to do.
    let plan = json(&s, "plan", &["--permissions-boundary", &b1]);
    assert_eq!(plan["steps"], serde_json::json!([]), "{plan:#}");

    // Someone attaches their own policy; the config drops the app's and names another boundary.
    aws.iam
        .attach_role_policy()
        .role_name(&id)
        .policy_arn(&hand)
        .send()
        .await
        .unwrap();
    config(&s, &[]);
    let plan = json(&s, "plan", &["--permissions-boundary", &b2]);
    let steps = plan["steps"].as_array().unwrap();
    let boundary = steps
        .iter()
        .find(|st| st["id"] == format!("iam:role/{op}/boundary"))
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(
        boundary["changes"][0],
        serde_json::json!({"field": "permissions boundary", "old": b1, "new": b2})
    );
    let detaches: Vec<&Value> = steps
        .iter()
        .filter(|st| st["action"] == "detach-role-policy")
        .collect();
    assert_eq!(detaches.len(), 1, "{plan:#}");
    assert_eq!(detaches[0]["policyArn"], app.as_str());

    json(&s, "up", &["--permissions-boundary", &b2]);
    let got = aws.iam.get_role().role_name(&id).send().await.unwrap();
    assert_eq!(
        got.role()
            .unwrap()
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(b2.as_str())
    );
    // kedactl's policy went with its record; the one attached by hand stayed.
    assert_eq!(attached(&aws, &id).await, [hand.as_str()]);
    assert!(
        !role_tags(&aws, &id)
            .await
            .iter()
            .any(|(k, _)| k.starts_with("kedactl.io/attached/"))
    );
    let plan = json(&s, "plan", &["--permissions-boundary", &b2]);
    assert_eq!(plan["steps"], serde_json::json!([]), "{plan:#}");

    // down deletes the roles on their path (detaching what is attached, as deleting needs).
    json(&s, "down", &["--force"]);
    assert!(aws.iam.get_role().role_name(&id).send().await.is_err());
}

#[tokio::test]
async fn a_boundary_or_policy_that_does_not_exist_stops_up_before_any_change() {
    let Some(s) = MotoStack::new("guardrails-missing") else {
        return;
    };
    let aws = s.sdk().await;
    let p = &s.prefix;
    let missing = format!("arn:aws:iam::123456789012:policy/{p}-nope");
    config(&s, &[&missing]);
    let out = kedactl(&s, "up", &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "managed policy {missing}: not found in the account (apps[].managedPolicies names it)"
        )),
        "{err}"
    );
    assert!(
        aws.iam
            .get_role()
            .role_name(format!("{p}-op"))
            .send()
            .await
            .is_err()
    );

    config(&s, &[]);
    let out = kedactl(&s, "up", &["--permissions-boundary", &missing]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("(roles.permissionsBoundary names it)"));
    assert!(
        aws.iam
            .get_role()
            .role_name(format!("{p}-op"))
            .send()
            .await
            .is_err()
    );
}
