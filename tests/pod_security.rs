//! Every pod template kedactl renders (the default stack, its variants and every example) meets
//! the Pod Security Standards' restricted profile: as kedactl's own checks judge it
//! (`kedactl::pod_security`, written from the upstream admission checks) and as an independent
//! package does (k8s-policy-guard, tests/pss-oracle/check.py; `.ci/run` installs it and sets
//! KEDACTL_REQUIRE_PSS_ORACLE so CI cannot pass without it).

use kedactl::pod_security::{self, ENFORCE_LABEL, Level};
use kedactl::render;
use kedactl::spec::{self, AuthMode, PodSecurity, ScalingKind, Spec};
use serde_json::{Value, json};
use std::path::PathBuf;

fn base() -> Spec {
    Spec {
        cluster: Some("demo".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        ..Spec::default()
    }
}

/// The default stack, its variants, and every examples/*.yaml.
fn specs() -> Vec<(String, Spec)> {
    let mut out = vec![("default".to_string(), base())];
    let mut job = base();
    job.apps[0].scaling.kind = ScalingKind::ScaledJob;
    out.push(("scaled-job".into(), job));
    let mut irsa = base();
    irsa.auth_mode = AuthMode::Irsa;
    irsa.oidc_issuer = Some("https://oidc.eks.us-east-1.amazonaws.com/id/ABC".into());
    out.push(("irsa".into(), irsa));
    let mut tuned: Spec = base();
    tuned.apps[0] = kedactl::yaml::from_str(
        "securityContext: {runAsUser: 1000, readOnlyRootFilesystem: true}\n\
         resources: {requests: {cpu: 100m}, limits: {cpu: null}}",
    )
    .unwrap();
    out.push(("overridden".into(), tuned));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 5, "{examples:?}");
    for p in examples {
        let mut s = spec::parse(&std::fs::read(&p).unwrap(), &p.display().to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        s.account = Some("123456789012".into());
        out.push((p.file_name().unwrap().to_string_lossy().into_owned(), s));
    }
    out
}

/// (`<spec>/<kind>/<name>`, pod spec) of every rendered object that holds a pod template.
fn pod_templates() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, s) in specs() {
        spec::validate(&s, &name).unwrap_or_else(|p| panic!("{name}: {p}"));
        let d = render::desired(&s).unwrap();
        for m in &d.manifests {
            if let Some(pod) = pod_security::pod_spec(m)
                && m["kind"] != "ScaledObject"
            {
                let id = format!(
                    "{name}/{}/{}",
                    m["kind"].as_str().unwrap(),
                    m["metadata"]["name"].as_str().unwrap()
                );
                out.push((id, pod.clone()));
            }
        }
    }
    out
}

#[test]
fn every_rendered_pod_template_meets_the_restricted_profile() {
    let pods = pod_templates();
    let kinds = |k: &str| {
        pods.iter()
            .filter(|(id, _)| id.contains(&format!("/{k}/")))
            .count()
    };
    // Not vacuous: the seed's Deployment, every example's, and a ScaledJob's job template.
    assert!(
        kinds("Deployment") >= 6,
        "{:?}",
        pods.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    assert!(kinds("ScaledJob") >= 1);
    for (id, pod) in &pods {
        let v = pod_security::check(pod, Level::Restricted);
        assert!(v.is_empty(), "{id}: {v:#?}");
        let c = &pod["containers"][0];
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"], false,
            "{id}"
        );
        assert!(c["resources"]["requests"]["memory"].is_string(), "{id}");
    }
}

#[test]
fn namespaces_kedactl_creates_enforce_the_configured_level() {
    let label = |s: &Spec| -> Vec<Value> {
        render::desired(s)
            .unwrap()
            .manifests
            .iter()
            .filter(|m| m["kind"] == "Namespace")
            .map(|m| m["metadata"]["labels"][ENFORCE_LABEL].clone())
            .collect()
    };
    for (name, s) in specs() {
        let found = label(&s);
        assert!(!found.is_empty(), "{name}");
        assert!(found.iter().all(|l| l == "restricted"), "{name}: {found:?}");
    }
    let mut s = base();
    s.pod_security = PodSecurity::Baseline;
    assert_eq!(label(&s), [json!("baseline")]);
    s.pod_security = PodSecurity::None;
    assert_eq!(label(&s), [Value::Null]);
}

/// The pod template kedactl rendered before it set a securityContext: what the restricted
/// profile refuses, planted so an oracle that judges nothing cannot pass.
fn planted() -> Value {
    json!({
        "serviceAccountName": "my-sqs-read-msgs",
        "automountServiceAccountToken": false,
        "containers": [{ "name": "q-read", "image": "x",
            "resources": { "requests": { "cpu": "250m" } } }]
    })
}

#[test]
fn the_old_pod_template_fails_the_four_rules_the_api_server_names() {
    let v: Vec<&str> = pod_security::check(&planted(), Level::Restricted)
        .into_iter()
        .map(|v| v.check)
        .collect();
    assert_eq!(
        v,
        [
            "allowPrivilegeEscalation",
            "runAsNonRoot",
            "seccompProfile_restricted",
            "capabilities_restricted"
        ]
    );
}

/// k8s-policy-guard's verdict on each pod: its PSS rule ids found.
fn oracle(pods: &[(String, Value)]) -> Option<Vec<(String, String)>> {
    let required = std::env::var_os("KEDACTL_REQUIRE_PSS_ORACLE").is_some_and(|v| !v.is_empty());
    let probe = std::process::Command::new("python3")
        .args(["-c", "import policy_guard"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "KEDACTL_REQUIRE_PSS_ORACLE is set but policy_guard does not import: pip install k8s-policy-guard==1.0.0"
        );
        eprintln!(
            "skipped: k8s-policy-guard is not installed (pip install k8s-policy-guard==1.0.0)"
        );
        return None;
    }
    let dir = std::env::temp_dir().join(format!("kedactl-pss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("pods.json");
    let list: Vec<Value> = pods
        .iter()
        .map(|(name, spec)| json!({ "name": name, "spec": spec }))
        .collect();
    std::fs::write(&input, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pss-oracle/check.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&input)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        found
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    )
}

#[test]
fn an_independent_pss_checker_agrees() {
    let mut pods = pod_templates();
    pods.push(("planted".into(), planted()));
    let Some(found) = oracle(&pods) else { return };
    let rules = |name: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, r)| r.as_str())
            .collect()
    };
    // The planted pod: its runAsNonRoot, seccomp, capabilities and privilege-escalation rules.
    let mut planted = rules("planted");
    planted.sort();
    assert_eq!(
        planted,
        ["PG-PSS-008", "PG-PSS-009", "PG-PSS-011", "PG-PSS-017"]
    );
    for (id, _) in &pods[..pods.len() - 1] {
        assert!(rules(id).is_empty(), "{id}: {:?}", rules(id));
    }
    eprintln!(
        "k8s-policy-guard: {} rendered pod templates, no finding",
        pods.len() - 1
    );
}
