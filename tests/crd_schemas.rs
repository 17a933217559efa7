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
    check_against(obj, &crd_schema(obj["kind"].as_str().unwrap()))
}

/// Problems with `obj` against a CRD's openAPIV3Schema.
fn check_against(obj: &Value, schema: &Value) -> Vec<String> {
    let schema = schema.clone();
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
    // Every optional ScaledObject field (issue 14 §4, issue 16 item 9).
    let mut so_options = base();
    so_options.apps[0].scaling = serde_yaml::from_str(
        "minReplicas: 2\nidleReplicaCount: 0\ninitialCooldownPeriod: 60\npaused: true\npausedReplicas: 1\n\
         fallback: {failureThreshold: 3, replicas: 2, behavior: currentReplicasIfHigher}\n\
         advanced:\n  restoreToOriginalReplicaCount: true\n  horizontalPodAutoscalerConfig:\n    behavior:\n\
         \x20     scaleUp: {stabilizationWindowSeconds: 30, selectPolicy: Min, tolerance: 0.05,\n\
         \x20       policies: [{type: Pods, value: 2, periodSeconds: 60}, {type: Percent, value: 50, periodSeconds: 30}]}\n\
         \x20     scaleDown: {selectPolicy: Disabled, tolerance: 0.2}\n",
    )
    .unwrap();
    // Seed 002's ScaledJob with every ScaledJob option (issue 16 item 8).
    let mut job_options = base();
    job_options.apps[0].scaling = serde_yaml::from_str(
        "kind: ScaledJob\nqueueLength: 1\nmaxReplicas: 100\npollingInterval: 10\npaused: true\n\
         successfulJobsHistoryLimit: 100\nfailedJobsHistoryLimit: 100\nactiveDeadlineSeconds: 600\nbackoffLimit: 2\n\
         scalingStrategy: {strategy: custom, customScalingQueueLengthDeduction: 1,\n\
         \x20 customScalingRunningJobPercentage: 0.5, pendingPodConditions: [Ready, PodScheduled],\n\
         \x20 multipleScalersCalculation: sum}\n",
    )
    .unwrap();
    vec![
        ("seed", base()),
        ("scaledobject options", so_options),
        ("scaledjob options", job_options),
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
            // The options are rendered where KEDA reads them, not dropped on the way.
            let spec = &obj["spec"];
            match (name, obj["kind"].as_str()) {
                ("scaledobject options", Some("ScaledObject")) => {
                    let a = &obj["metadata"]["annotations"];
                    assert_eq!(a["autoscaling.keda.sh/paused"], "true");
                    assert_eq!(a["autoscaling.keda.sh/paused-replicas"], "1");
                    assert_eq!(spec["idleReplicaCount"], 0);
                    assert_eq!(spec["initialCooldownPeriod"], 60);
                    assert_eq!(spec["fallback"]["behavior"], "currentReplicasIfHigher");
                    assert_eq!(spec["advanced"]["restoreToOriginalReplicaCount"], true);
                    let b = &spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"];
                    assert_eq!(b["scaleUp"]["tolerance"], "0.05");
                    assert_eq!(b["scaleUp"]["policies"][1]["type"], "Percent");
                    assert_eq!(b["scaleDown"]["selectPolicy"], "Disabled");
                    assert!(b["scaleDown"].get("policies").is_none());
                }
                ("scaledjob options", Some("ScaledJob")) => {
                    assert_eq!(
                        obj["metadata"]["annotations"]["autoscaling.keda.sh/paused"],
                        "true"
                    );
                    assert_eq!(spec["jobTargetRef"]["activeDeadlineSeconds"], 600);
                    assert_eq!(spec["jobTargetRef"]["backoffLimit"], 2);
                    assert_eq!(spec["successfulJobsHistoryLimit"], 100);
                    let st = &spec["scalingStrategy"];
                    assert_eq!(st["strategy"], "custom");
                    assert_eq!(st["customScalingRunningJobPercentage"], "0.5");
                    assert_eq!(st["multipleScalersCalculation"], "sum");
                }
                (_, Some("ScaledObject" | "ScaledJob")) => {
                    // Today's configs render none of the optional fields.
                    assert!(obj["metadata"].get("annotations").is_none(), "{name}");
                    for k in [
                        "fallback",
                        "advanced",
                        "scalingStrategy",
                        "idleReplicaCount",
                    ] {
                        assert!(spec.get(k).is_none(), "{name}: {k}");
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        checked, 20,
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
    let every = variants()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .chain(examples());
    for (name, spec) in every {
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

/// Does this `Resource` stand for more than one named resource's own parts: `*`, or an ARN
/// with a wildcard in its service, region, account or resource type? (A wildcard below a named
/// resource, as in a table's `.../stream/*`, stays inside that resource.)
fn any_resource(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, service, region, account, resource] => {
            [service, region, account].iter().any(|p| p.contains('*'))
                || resource.split('/').take(2).any(|p| p.contains('*'))
        }
        _ => true,
    }
}

/// Every examples/*.yaml, as `kedactl -f X render --account 123456789012` reads it.
fn examples() -> Vec<(String, Spec)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<(String, Spec)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            // As kedactl loads it (YAML read into the config's JSON model).
            let mut spec = spec::parse(&std::fs::read(&p).unwrap(), &p.display().to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            spec.account = Some("123456789012".into());
            (p.file_name().unwrap().to_string_lossy().into_owned(), spec)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Each example renders CRD-valid objects with its trigger's type, a TriggerAuthentication with
/// provider aws, and a permission policy on the identity role naming the trigger's resource.
#[test]
fn every_example_renders_its_trigger_valid_against_the_crds() {
    let expected = [
        (
            "amp.yaml",
            "prometheus",
            "aps:QueryMetrics",
            "arn:aws:aps:us-east-1:123456789012:workspace/",
        ),
        (
            "cloudwatch.yaml",
            "aws-cloudwatch",
            "cloudwatch:GetMetricData",
            "*",
        ),
        (
            "kinesis.yaml",
            "aws-kinesis-stream",
            "kinesis:DescribeStreamSummary",
            "arn:aws:kinesis:us-east-1:123456789012:stream/clickstream",
        ),
        (
            "dynamodb.yaml",
            "aws-dynamodb",
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        ),
        (
            "dynamodb-streams.yaml",
            "aws-dynamodb-streams",
            "dynamodb:DescribeStream",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/audit-events/stream/",
        ),
    ];
    let found = examples();
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    for (file, ..) in expected {
        assert!(
            names.contains(&file),
            "examples/{file} is missing: {names:?}"
        );
    }
    for (name, spec) in &found {
        spec::validate(spec, name).unwrap_or_else(|p| panic!("{name}: {p}"));
        let desired = render::desired(spec).unwrap();
        let keda: Vec<&Value> = desired
            .manifests
            .iter()
            .filter(|m| m["apiVersion"] == "keda.sh/v1alpha1")
            .collect();
        for obj in &keda {
            let problems = check(obj);
            assert!(problems.is_empty(), "{name}: {} {problems:#?}", obj["kind"]);
        }
        let Some((_, trigger, action, resource)) = expected.iter().find(|e| e.0 == name) else {
            continue;
        };
        let so = keda.iter().find(|m| m["kind"] == "ScaledObject").unwrap();
        assert_eq!(so["spec"]["triggers"][0]["type"], *trigger, "{name}");
        let ta = keda
            .iter()
            .find(|m| m["kind"] == "TriggerAuthentication")
            .unwrap();
        assert_eq!(ta["spec"]["podIdentity"]["provider"], "aws", "{name}");
        let grants: Vec<&Value> = desired
            .roles
            .iter()
            .filter(|r| r.purpose == render::RolePurpose::Identity)
            .flat_map(|r| &r.policies)
            .flat_map(|p| p.body["Statement"].as_array().unwrap())
            .filter(|s| s["Action"] == *action)
            .collect();
        assert!(
            grants.iter().any(|s| {
                let r = &s["Resource"];
                r == *resource
                    || r.as_array().is_some_and(|a| {
                        a.iter()
                            .any(|x| x.as_str().is_some_and(|x| x.starts_with(resource)))
                    })
            }),
            "{name}: no {action} on {resource}: {grants:#?}"
        );
    }
}

/// `"Resource": "*"` is for `cloudwatch:GetMetricData` alone (IAM cannot scope it), in every
/// rendered policy of every kind: the examples, the SQS variants, and one spec using every kind.
#[test]
fn only_get_metric_data_is_granted_on_every_resource() {
    let mut specs = variants()
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect::<Vec<_>>();
    specs.extend(examples());
    let mut all = base();
    for (i, (_, s)) in examples().into_iter().enumerate() {
        let mut app = s.apps[0].clone();
        app.namespace = format!("ns{i}");
        all.apps.push(app);
    }
    // Seven service accounts trust one role: past the default quota, within AWS's highest.
    all.roles.trust_policy_quota = 4096;
    specs.push(("every kind".into(), all));
    let mut wildcards = 0;
    for (name, spec) in &specs {
        spec::validate(spec, name).unwrap_or_else(|p| panic!("{name}: {p}"));
        let desired = render::desired(spec).unwrap();
        for role in &desired.roles {
            for doc in std::iter::once(&role.trust).chain(&role.policies) {
                for s in doc.body["Statement"].as_array().unwrap() {
                    let resources: Vec<&Value> = match &s["Resource"] {
                        Value::Array(a) => a.iter().collect(),
                        v => vec![v],
                    };
                    if resources
                        .iter()
                        .any(|r| r.as_str().is_some_and(any_resource))
                    {
                        assert_eq!(
                            s["Action"], "cloudwatch:GetMetricData",
                            "{name}: {} {}: {s}",
                            role.name, doc.name
                        );
                        assert_eq!(s["Resource"], "*", "{name}: {s}");
                        assert!(s.get("NotAction").is_none(), "{name}: {s}");
                        wildcards += 1;
                    }
                }
                assert!(
                    render::policy::overly_broad(&doc.body).is_empty(),
                    "{name}: {}",
                    doc.body
                );
            }
        }
    }
    assert_eq!(
        wildcards, 2,
        "the cloudwatch example and the every-kind spec"
    );
}

/// The ScaledObject schema of KEDA release `version`, from tests/crds/keda-v<version>.
fn scaledobject_schema_at(version: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/crds/keda-v{version}/keda.sh_scaledobjects.yaml"
    ));
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .unwrap()["schema"]["openAPIV3Schema"]
        .clone()
}

/// The version gate (`spec::keda_fields`) refuses exactly the fields each KEDA release's own
/// ScaledObject CRD lacks: what the gate lets through is never pruned, and what it refuses
/// would be. `scaling.x` in the config is `.spec.x` in the ScaledObject.
#[test]
fn the_keda_version_gate_matches_each_release_s_crd() {
    let (_, full) = variants()
        .into_iter()
        .find(|(n, _)| *n == "scaledobject options")
        .unwrap();
    let desired = render::desired(&full).unwrap();
    let so = desired
        .manifests
        .iter()
        .find(|m| m["kind"] == "ScaledObject")
        .unwrap();
    for version in ["2.13.0", "2.14.0", "2.17.0", "2.20.2"] {
        let schema = match version {
            "2.20.2" => crd_schema("ScaledObject"),
            v => scaledobject_schema_at(v),
        };
        let mut pruned = Vec::new();
        unknown_fields(so, &schema, "", &mut pruned);
        let v = spec::names::version(version).unwrap();
        let mut gated: Vec<String> = spec::keda_fields::unknown_to(&full.apps[0].scaling, v)
            .into_iter()
            .map(|g| g.field.replacen("scaling.", ".spec.", 1))
            .collect();
        pruned.sort();
        gated.sort();
        assert_eq!(gated, pruned, "KEDA {version}");
        // And validation refuses those fields, naming the release.
        let mut at = full.clone();
        at.keda.version = version.into();
        let mut refused: Vec<String> = match spec::validate(&at, "t") {
            Ok(()) => vec![],
            Err(p) => p
                .problems
                .into_iter()
                .map(|p| p.field.replacen("apps[0].scaling.", ".spec.", 1))
                .collect(),
        };
        refused.sort();
        assert_eq!(refused, gated, "KEDA {version}");
    }
}

/// The openAPIV3Schema of `version` in a vendored CRD file (tests/crds/...).
fn vendored_schema(file: &str, version: &str) -> (String, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/crds")
        .join(file);
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let group = crd["spec"]["group"].as_str().unwrap();
    let v = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{file}: no version {version}"));
    (
        format!(
            "{group}/{version}/{}",
            crd["spec"]["names"]["kind"].as_str().unwrap()
        ),
        v["schema"]["openAPIV3Schema"].clone(),
    )
}

/// The Argo CD ApplicationSet and Flux Kustomization docs/export.md shows are accepted by the
/// upstream CRDs (tests/crds/argo-cd, tests/crds/flux-kustomize-controller), and the check
/// would catch a misspelt field in either.
#[test]
fn the_gitops_objects_of_the_export_page_are_accepted_by_argo_cd_and_flux() {
    let schemas = [
        vendored_schema("argo-cd/applicationset-crd.yaml", "v1alpha1"),
        vendored_schema(
            "flux-kustomize-controller/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
            "v1",
        ),
    ];
    let page =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/export.md"))
            .unwrap();
    let mut found = Vec::new();
    for block in page.split("```yaml\n").skip(1) {
        let obj: Value = serde_yaml::from_str(block.split("```").next().unwrap()).unwrap();
        let key = format!(
            "{}/{}",
            obj["apiVersion"].as_str().unwrap(),
            obj["kind"].as_str().unwrap()
        );
        let Some((_, schema)) = schemas.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        let problems = check_against(&obj, schema);
        assert!(problems.is_empty(), "{key}: {problems:#?}");
        let mut bad = obj.clone();
        bad["spec"]["sourceRefs"] = json!("x");
        assert!(
            !check_against(&bad, schema).is_empty(),
            "{key}: a misspelt field passed"
        );
        found.push(key);
    }
    found.sort();
    assert_eq!(
        found,
        [
            "argoproj.io/v1alpha1/ApplicationSet",
            "kustomize.toolkit.fluxcd.io/v1/Kustomization"
        ],
        "docs/export.md shows one of each"
    );
}
