//! Every KEDA object kedactl renders must be accepted by KEDA v2.20.2's CRDs — by the schema
//! (types, enums, required fields) and by structural pruning (a field the CRD does not know
//! would be silently dropped by the API server, so it counts as an error here).
//! The schemas are vendored in tests/crds/keda-v2.20.2 (or $KEDACTL_CRD_SCHEMAS).

use kedactl::render;
use kedactl::spec::{self, AuthMode, DeadLetter, ScalingKind, Spec};
use serde_json::{Value, json};
use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    let dir = std::env::var_os("KEDACTL_CRD_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/crds/keda-v2.20.2")
        });
    assert!(
        dir.join("keda.sh_scaledobjects.yaml").exists(),
        "KEDA CRD schemas not found at {}: set KEDACTL_CRD_SCHEMAS to the folder holding keda.sh_*.yaml",
        dir.display()
    );
    dir
}

/// The openAPIV3Schema of a CRD, by kind.
fn crd_schema(kind: &str) -> Value {
    let file = format!("keda.sh_{}s.yaml", kind.to_lowercase());
    let text = std::fs::read_to_string(schema_dir().join(&file)).unwrap();
    let crd: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(crd["spec"]["names"]["kind"], kind, "{file}");
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .unwrap();
    version["schema"]["openAPIV3Schema"].clone()
}

/// Paths in `obj` that the structural schema does not declare (the API server would prune them).
fn unknown_fields(obj: &Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match obj {
        Value::Object(map) => {
            let props = schema["properties"].as_object();
            for (k, v) in map {
                // ObjectMeta is validated by the API server itself, not by the CRD schema.
                if path.is_empty() && ["apiVersion", "kind", "metadata"].contains(&k.as_str()) {
                    continue;
                }
                let sub = match props.and_then(|p| p.get(k)) {
                    Some(s) => s,
                    None if schema["additionalProperties"].is_object() => {
                        &schema["additionalProperties"]
                    }
                    None => {
                        out.push(format!("{path}.{k}"));
                        continue;
                    }
                };
                unknown_fields(v, sub, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                unknown_fields(v, &schema["items"], &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Problems with one object: schema violations and pruned fields.
fn check(obj: &Value) -> Vec<String> {
    let kind = obj["kind"].as_str().unwrap();
    let schema = crd_schema(kind);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let mut problems: Vec<String> = validator
        .iter_errors(obj)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    let mut pruned = Vec::new();
    unknown_fields(obj, &schema, "", &mut pruned);
    problems.extend(
        pruned
            .into_iter()
            .map(|p| format!("{p}: not in the CRD (would be pruned)")),
    );
    problems
}

fn base() -> Spec {
    Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    }
}

/// Specs covering every template branch.
fn variants() -> Vec<(&'static str, Spec)> {
    let mut job = base();
    job.apps[0].scaling.kind = ScalingKind::ScaledJob;
    let mut tuned = base();
    let s = &mut tuned.apps[0].scaling;
    (
        s.activation_queue_length,
        s.min_replicas,
        s.max_replicas,
        s.scale_on_delayed,
    ) = (3, 1, 50, true);
    tuned.apps[0].queue.dead_letter = Some(DeadLetter {
        name: None,
        max_receive_count: 4,
    });
    let mut irsa = base();
    irsa.auth_mode = AuthMode::Irsa;
    irsa.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
    let mut multi = base();
    multi.apps.push(spec::App {
        deployment: "worker".into(),
        service_account: "worker".into(),
        identity_role: Some("worker-identity".into()),
        ..spec::App::default()
    });
    let mut kms = base();
    kms.apps[0].queue.kms_key = Some("1234abcd-12ab-34cd-56ef-1234567890ab".into());
    // The seed's single grant for KEDA and the app (both layouts must pass the guard).
    let mut unscoped = base();
    unscoped.roles.scope_consumers = false;
    vec![
        ("seed", base()),
        ("unscoped consumers", unscoped),
        ("kms key", kms),
        ("scaledjob", job),
        ("tuned", tuned),
        ("irsa", irsa),
        ("two apps", multi),
    ]
}

#[test]
fn every_rendered_keda_object_is_accepted_by_the_crds() {
    let mut checked = 0;
    for (name, spec) in variants() {
        spec::validate(&spec, name).unwrap();
        let desired = render::desired(&spec).unwrap();
        for obj in desired
            .manifests
            .iter()
            .filter(|m| m["apiVersion"] == "keda.sh/v1alpha1")
        {
            let problems = check(obj);
            assert!(
                problems.is_empty(),
                "{name}: {} {}: {problems:#?}",
                obj["kind"],
                obj["metadata"]["name"]
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked, 16,
        "TriggerAuthentication + scaler for each app of each variant"
    );
}

#[test]
fn the_check_catches_what_the_crds_reject() {
    let spec = base();
    let desired = render::desired(&spec).unwrap();
    let so = desired
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap()
        .clone();

    let mut wrong_type = so.clone();
    wrong_type["spec"]["minReplicaCount"] = json!("zero");
    assert!(
        check(&wrong_type)
            .iter()
            .any(|p| p.contains("minReplicaCount")),
        "{:?}",
        check(&wrong_type)
    );

    let mut typo = so.clone();
    typo["spec"]["pollingIntervall"] = json!(30);
    assert_eq!(
        check(&typo),
        [".spec.pollingIntervall: not in the CRD (would be pruned)"]
    );

    let mut missing = so;
    missing["spec"].as_object_mut().unwrap().remove("triggers");
    assert!(!check(&missing).is_empty());

    let ta = desired
        .manifests
        .iter()
        .find(|m| m["kind"] == "TriggerAuthentication")
        .unwrap()
        .clone();
    let mut bad_provider = ta;
    bad_provider["spec"]["podIdentity"]["provider"] = json!("aws-kiam");
    assert!(
        check(&bad_provider).iter().any(|p| p.contains("provider")),
        "{:?}",
        check(&bad_provider)
    );
}

#[test]
fn no_rendered_policy_grants_more_than_the_stack_needs() {
    for (name, spec) in variants() {
        let desired = render::desired(&spec).unwrap();
        for role in &desired.roles {
            for doc in std::iter::once(&role.trust).chain(&role.policies) {
                let text = doc.body.to_string();
                assert!(
                    !text.contains(r#""Resource":"*""#),
                    "{name}: {} {}",
                    role.name,
                    doc.name
                );
                assert!(
                    !text.contains("sqs:*") && !text.contains(r#""Action":"*""#),
                    "{name}: {text}"
                );
                assert!(
                    render::policy::overly_broad(&doc.body).is_empty(),
                    "{name}: {text}"
                );
            }
        }
    }
}

/// Every rendered IAM permission policy of every variant passes parliament (Duo Labs' IAM linter:
/// unknown actions, malformed conditions and ARNs, actions that do not apply to the resources).
/// It lints identity policies only (a trust policy has no Resource by design): trust policies
/// are held to the least-privilege guard above and doctor's evaluator. `.ci/run` installs it and sets
/// KEDACTL_REQUIRE_PARLIAMENT, so CI cannot pass without running it.
#[test]
fn every_rendered_policy_passes_parliament() {
    let required = std::env::var_os("KEDACTL_REQUIRE_PARLIAMENT").is_some_and(|v| !v.is_empty());
    let probe = std::process::Command::new("parliament")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "KEDACTL_REQUIRE_PARLIAMENT is set but parliament does not run: pip install parliament==1.6.4"
        );
        eprintln!("skipped: parliament is not installed (pip install parliament==1.6.4)");
        return;
    }
    let mut checked = 0;
    for (name, spec) in variants() {
        let desired = render::desired(&spec).unwrap();
        for role in &desired.roles {
            for doc in &role.policies {
                let out = std::process::Command::new("parliament")
                    .args(["--json", "--string", &doc.body.to_string()])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .unwrap();
                let findings = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success() && findings.trim().is_empty(),
                    "{name}: {} {}: {findings}{}",
                    role.name,
                    doc.name,
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    eprintln!("parliament: {checked} documents, no finding");
}

/// The dynamodb and dynamodb-streams examples, as `kedactl -f examples/X.yaml render` renders
/// them: every KEDA object passes the CRDs, with that trigger type.
#[test]
fn the_dynamodb_examples_are_accepted_by_the_crds() {
    for (file, keda_type) in [
        ("dynamodb.yaml", "aws-dynamodb"),
        ("dynamodb-streams.yaml", "aws-dynamodb-streams"),
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(file);
        let mut spec = spec::parse(&std::fs::read(&path).unwrap(), file).unwrap();
        spec.account = Some("123456789012".into());
        spec::validate(&spec, file).unwrap();
        let desired = render::desired(&spec).unwrap();
        let keda: Vec<&Value> = desired
            .manifests
            .iter()
            .filter(|m| m["apiVersion"] == "keda.sh/v1alpha1")
            .collect();
        assert_eq!(
            keda.len(),
            2,
            "{file}: TriggerAuthentication + ScaledObject"
        );
        for obj in keda {
            let problems = check(obj);
            assert!(problems.is_empty(), "{file}: {} {problems:#?}", obj["kind"]);
            if obj["kind"] == "ScaledObject" {
                assert_eq!(obj["spec"]["triggers"][0]["type"], keda_type);
            }
        }
        for role in &desired.roles {
            for doc in &role.policies {
                assert!(
                    render::policy::overly_broad(&doc.body).is_empty(),
                    "{file}: {}",
                    doc.body
                );
            }
        }
    }
}
