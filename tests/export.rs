//! `render --format cloudformation` and `--format kustomize` (issue 31), checked against the
//! engines' own tools: cfn-lint on the template, `kubectl kustomize` on the overlays, and the
//! template's grants resolved back against what `render` writes.
//! `.ci/run` installs cfn-lint and sets KEDACTL_REQUIRE_CFN_LINT and KEDACTL_REQUIRE_KUSTOMIZE,
//! so CI fails instead of skipping when a tool is missing.

mod common;

use common::{DEMO, Sandbox, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A guardrailed IRSA stack with a dead-letter queue and a KMS key: the template branches the
/// examples do not take.
const GUARDED: &str = "\
cluster: guarded
region: eu-west-1
authMode: irsa
oidcIssuer: https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789
roles:
  permissionsBoundary: arn:aws:iam::123456789012:policy/org-boundary
  path: /service-roles/
tags:
  cost-center: \"1234\"
apps:
  - deployment: q-read
    managedPolicies: [arn:aws:iam::123456789012:policy/q-read-s3]
    queue:
      name: jobs
      kmsKey: 1234abcd-12ab-34cd-56ef-1234567890ab
      deadLetter:
        maxReceiveCount: 4
";

/// Each stack the tests export: (name, the render flags that select it).
fn stacks(sb: &Sandbox) -> Vec<(String, Vec<String>)> {
    let mut out = vec![(
        "default".to_string(),
        DEMO.iter().map(|s| s.to_string()).collect(),
    )];
    let guarded = sb.write("guarded.yaml", GUARDED);
    out.push((
        "guarded".into(),
        vec![
            "--config".into(),
            guarded.display().to_string(),
            "--account".into(),
            "123456789012".into(),
        ],
    ));
    for p in common::example_paths() {
        out.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            vec![
                "--config".into(),
                p.display().to_string(),
                "--account".into(),
                "123456789012".into(),
            ],
        ));
    }
    out
}

fn run(sb: &Sandbox, flags: &[String], extra: &[&str]) -> std::process::Output {
    let out = sb
        .kedactl(
            flags
                .iter()
                .map(String::as_str)
                .chain(["render"])
                .chain(extra.iter().copied()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{flags:?} {extra:?}: {}",
        stderr(&out)
    );
    out
}

fn template(sb: &Sandbox, flags: &[String]) -> Value {
    serde_json::from_str(&stdout(&run(sb, flags, &["--format", "cloudformation"]))).unwrap()
}

/// Does `tool` run? When `require` is set (CI), a missing tool fails the test; else it is skipped.
fn available(tool: &str, args: &[&str], require: &str, install: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os(require).is_none_or(|v| v.is_empty()),
            "{require} is set but {tool} does not run: {install}"
        );
        eprintln!("skipped: {tool} is not installed ({install})");
    }
    ok
}

#[test]
fn every_template_lints_clean_with_cfn_lint() {
    if !available(
        "cfn-lint",
        &["--version"],
        "KEDACTL_REQUIRE_CFN_LINT",
        "pip install cfn-lint==1.51.0",
    ) {
        return;
    }
    let sb = Sandbox::new();
    let mut files = Vec::new();
    for (name, flags) in stacks(&sb) {
        let file = sb.path(&format!("{name}.template.json"));
        std::fs::write(&file, template(&sb, &flags).to_string()).unwrap();
        files.push(file);
    }
    // One run for all: cfn-lint takes seconds to load its schemas.
    let out = std::process::Command::new("cfn-lint")
        .args(&files)
        .output()
        .unwrap();
    // cfn-lint's exit code: bit 2 errors, 4 warnings, 8 informational.
    assert!(
        out.status.code() == Some(0),
        "cfn-lint {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    eprintln!("cfn-lint: {} templates, no finding", files.len());
}

/// A template string back as the stack it was rendered for would resolve it: the pseudo
/// parameters, `ClusterName`'s default, and a workspace's id as the placeholder render writes.
fn resolve(v: &Value, t: &Value, site: &[(&str, &str)]) -> Value {
    let sub = |s: &str| {
        let mut s = s.to_string();
        for (k, v) in site {
            s = s.replace(&format!("${{{k}}}"), v);
        }
        for (id, r) in t["Resources"].as_object().unwrap() {
            if r["Type"] == "AWS::APS::Workspace" {
                let alias = r["Properties"]["Alias"].as_str().unwrap();
                s = s.replace(
                    &format!("${{{id}.WorkspaceId}}"),
                    &format!("<id of AMP workspace {alias}>"),
                );
            }
        }
        assert!(!s.contains("${") || s.contains("${!"), "unresolved: {s}");
        s.replace("${!", "${")
    };
    match v {
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
            sub(o["Fn::Sub"].as_str().unwrap()).into()
        }
        Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => {
            sub(&format!("${{{}}}", o["Ref"].as_str().unwrap())).into()
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve(x, t, site)))
                .collect(),
        ),
        Value::Array(a) => a.iter().map(|x| resolve(x, t, site)).collect(),
        _ => v.clone(),
    }
}

fn actions(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect();
    out.sort();
    out
}

/// One source: every role's trust and inline policies in the template are, resolved for the
/// stack they were rendered for, exactly the documents `render` writes — same actions, same
/// resources, same conditions — and the template has no role or policy render does not.
#[test]
fn the_template_grants_exactly_what_render_writes() {
    let sb = Sandbox::new();
    for (name, flags) in stacks(&sb) {
        let t = template(&sb, &flags);
        let rendered: Value =
            serde_json::from_str(&stdout(&run(&sb, &flags, &["--only", "iam", "-o", "json"])))
                .unwrap();
        let mut want: Vec<(String, Value)> = rendered["documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| !d["file"].as_str().unwrap().ends_with(".role.json"))
            .map(|d| (d["file"].as_str().unwrap().to_string(), d["body"].clone()))
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        let cluster = t["Parameters"]["ClusterName"]["Default"].as_str().unwrap();
        // The region the stack was rendered for: the --region flag, or its config's.
        let region = match flags
            .iter()
            .position(|f| f == "--region" || f == "--config")
        {
            Some(i) if flags[i] == "--region" => flags[i + 1].clone(),
            Some(i) => {
                let config: Value =
                    serde_yaml::from_str(&std::fs::read_to_string(&flags[i + 1]).unwrap()).unwrap();
                config["region"].as_str().unwrap().to_string()
            }
            None => unreachable!("{name}: no region"),
        };
        let site = [
            ("AWS::AccountId", "123456789012"),
            ("AWS::Region", &region),
            ("AWS::Partition", "aws"),
            ("AWS::URLSuffix", "amazonaws.com"),
            ("ClusterName", cluster),
        ];
        let mut got: Vec<(String, Value)> = Vec::new();
        for r in t["Resources"].as_object().unwrap().values() {
            if r["Type"] != "AWS::IAM::Role" {
                continue;
            }
            let p = &r["Properties"];
            let role = p["RoleName"].as_str().unwrap();
            got.push((
                format!("iam/{role}.trust.json"),
                resolve(&p["AssumeRolePolicyDocument"], &t, &site),
            ));
            for policy in p["Policies"].as_array().into_iter().flatten() {
                got.push((
                    format!("iam/{role}.{}.json", policy["PolicyName"].as_str().unwrap()),
                    resolve(&policy["PolicyDocument"], &t, &site),
                ));
            }
        }
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let files = |v: &[(String, Value)]| v.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
        assert_eq!(files(&got), files(&want), "{name}: the documents");
        for ((file, g), (_, w)) in got.iter().zip(&want) {
            assert_eq!(actions(g), actions(w), "{name}: {file}: the actions");
            assert_eq!(g, w, "{name}: {file}");
        }
    }
}

/// The objects of a multi-document YAML stream, in a stable order (Kustomize sorts by kind).
fn objects(text: &str) -> Vec<Value> {
    let mut out: Vec<Value> = serde_yaml::Deserializer::from_str(text)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

fn kustomize_build(dir: &Path) -> Vec<Value> {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        stderr(&out)
    );
    objects(&stdout(&out))
}

fn kubectl() -> bool {
    available(
        "kubectl",
        &["kustomize", "--help"],
        "KEDACTL_REQUIRE_KUSTOMIZE",
        "install kubectl (it includes kustomize v5)",
    )
}

#[test]
fn each_overlay_builds_exactly_what_render_only_app_prints() {
    if !kubectl() {
        return;
    }
    let sb = Sandbox::new();
    for (name, flags) in stacks(&sb) {
        let dir = sb.path(&format!("gitops-{name}"));
        run(
            &sb,
            &flags,
            &["--format", "kustomize", "--out-dir", dir.to_str().unwrap()],
        );
        let overlays: Vec<PathBuf> = std::fs::read_dir(dir.join("overlays"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(overlays.len(), 1, "{name}");
        let want = objects(&stdout(&run(&sb, &flags, &["--only", "app"])));
        assert!(!want.is_empty(), "{name}");
        assert_eq!(kustomize_build(&overlays[0]), want, "{name}");
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        match p.is_dir() {
            true => out.extend(snapshot(&p)),
            false => out.push((p.clone(), std::fs::read(&p).unwrap())),
        }
    }
    out.sort();
    out
}

/// Two clusters in other accounts and regions: the second render adds its overlay beside the
/// first and leaves the first's files and the shared base byte for byte; a hand edit in one
/// overlay stops a render before anything (base included) is written.
#[test]
fn a_second_cluster_adds_its_overlay_without_touching_the_first() {
    let sb = Sandbox::new();
    let dir = sb.path("gitops");
    let out_dir = ["--format", "kustomize", "--out-dir", dir.to_str().unwrap()];
    let east: Vec<String> = DEMO.iter().map(|s| s.to_string()).collect();
    let west: Vec<String> = [
        "--cluster",
        "west",
        "--region",
        "eu-west-1",
        "--account",
        "210987654321",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    run(&sb, &east, &out_dir);
    let first = snapshot(&dir);
    run(&sb, &west, &out_dir);
    let after = snapshot(&dir);
    for (path, bytes) in &first {
        let now = after.iter().find(|(p, _)| p == path);
        assert_eq!(
            now.map(|(_, b)| b),
            Some(bytes),
            "{} changed",
            path.display()
        );
    }
    assert!(dir.join("overlays/west/kustomization.yaml").exists());
    assert!(
        after.len() > first.len(),
        "the second cluster wrote nothing"
    );
    if kubectl() {
        for (flags, cluster) in [(&east, "demo"), (&west, "west")] {
            let want = objects(&stdout(&run(&sb, flags, &["--only", "app"])));
            assert_eq!(kustomize_build(&dir.join("overlays").join(cluster)), want);
        }
    }
    // The manifest rules hold per folder, checked for both folders before either is written.
    let edited = dir.join("overlays/demo/kustomization.yaml");
    std::fs::write(&edited, "# mine\n").unwrap();
    std::fs::remove_file(dir.join("base/kustomization.yaml")).unwrap();
    let out = sb
        .kedactl(
            east.iter()
                .map(String::as_str)
                .chain(["render"])
                .chain(out_dir),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("changed since kedactl rendered it: kustomization.yaml"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("base/kustomization.yaml").exists(),
        "base was written"
    );
}

#[test]
fn exports_refuse_what_they_cannot_write() {
    let sb = Sandbox::new();
    let out = sb
        .kedactl(
            DEMO.iter()
                .copied()
                .chain(["render", "--format", "kustomize"]),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--out-dir"), "{}", stderr(&out));
    let out = sb
        .kedactl(DEMO.iter().copied().chain([
            "--only",
            "iam",
            "render",
            "--format",
            "cloudformation",
        ]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--only"), "{}", stderr(&out));
    // A KMS alias: CloudFormation cannot resolve it to the key a grant names.
    let config = sb.write(
        "alias.yaml",
        "cluster: demo\nregion: us-east-1\napps:\n  - deployment: q-read\n    queue:\n      name: jobs\n      kmsKey: alias/orders\n",
    );
    let out = sb
        .kedactl([
            "--config",
            config.to_str().unwrap(),
            "render",
            "--account",
            "123456789012",
            "--format",
            "cloudformation",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("apps[].queue.kmsKey: the template would hold <key of alias/orders>"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// Deploy a template on the moto server with CloudFormation (boto3, which `.ci/run` installs
/// with moto), without the EKS resources moto's CloudFormation does not know. moto 5.2.5
/// stores a CloudFormation role's inline policies as a Python repr, not the JSON CloudFormation
/// stores: they are written back as JSON, as AWS holds them.
const DEPLOY: &str = r#"
import json, sys, boto3
endpoint, name, path = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
t = json.load(open(path))
t["Resources"] = {k: v for k, v in t["Resources"].items() if not v["Type"].startswith("AWS::EKS::")}
cf = boto3.client("cloudformation", **kw)
cf.create_stack(StackName=name, TemplateBody=json.dumps(t), Capabilities=["CAPABILITY_NAMED_IAM"])
assert cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
iam = boto3.client("iam", **kw)
for r in cf.describe_stack_resources(StackName=name)["StackResources"]:
    if r["ResourceType"] == "AWS::IAM::Role":
        role = r["PhysicalResourceId"]
        for p in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=p)["PolicyDocument"]
            if isinstance(doc, str):
                import ast
                doc = ast.literal_eval(doc)
            iam.put_role_policy(RoleName=role, PolicyName=p, PolicyDocument=json.dumps(doc))
"#;

/// Item 3 of issue 31: what the template made is this stack's to `plan` (the same tags,
/// names and documents `up` writes), so moving from CloudFormation to `up` needs no adoption:
/// before the stack exists plan creates the roles, queue and repository; after, it has
/// nothing to do.
#[test]
fn plan_finds_nothing_to_do_on_what_the_template_made() {
    let Some(s) = common::MotoStack::new("cfn") else {
        return;
    };
    s.config("sqs", &format!("    queue:\n      name: {}-q\n", s.prefix));
    let plan = |s: &common::MotoStack| {
        let out = s.run(
            "plan",
            &[
                "-o",
                "json",
                "--only",
                "iam,queue,registry",
                "--account",
                "123456789012",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["steps"].as_array().unwrap().clone()
    };
    let before = plan(&s);
    assert!(
        before.iter().filter(|st| st["change"] == "create").count() >= 4,
        "{before:#?}"
    );
    let out = s.run(
        "render",
        &["--account", "123456789012", "--format", "cloudformation"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let template = s.sandbox.write("template.json", &out.stdout);
    let deploy = std::process::Command::new("python3")
        .args(["-c", DEPLOY, &s.endpoint, &s.prefix])
        .arg(&template)
        .output()
        .unwrap();
    assert!(deploy.status.success(), "{}", stderr(&deploy));
    let after = plan(&s);
    assert!(after.is_empty(), "{after:#?}");
}
