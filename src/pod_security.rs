//! The Pod Security Standards as the pod-security admission plugin evaluates them: a pod spec
//! (JSON, as rendered or read from the cluster) against the `baseline` or `restricted` level.
//! Written from the upstream checks' documented rules (k8s.io/pod-security-admission/policy,
//! Kubernetes 1.34), one function per check id, so a finding names the check the API server
//! would name. Pure; imports nothing of the crate.

use serde_json::Value;

/// A Pod Security Standards level (the value of `pod-security.kubernetes.io/enforce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// The level a namespace label names; the API server treats a missing label as privileged
    /// (unless the cluster's admission configuration says otherwise).
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

/// The namespace label the admission plugin enforces.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// One failed check, worded like the API server's `violates PodSecurity` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The upstream check id (`allowPrivilegeEscalation`, `runAsNonRoot`...).
    pub check: &'static str,
    /// The forbidden reason and its detail: `allowPrivilegeEscalation != false (container "x"
    /// must set securityContext.allowPrivilegeEscalation=false)`.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every check of `level` (and the levels below it) that `pod_spec` fails.
pub fn check(pod_spec: &Value, level: Level) -> Vec<Violation> {
    let mut out = Vec::new();
    if level >= Level::Baseline {
        for (id, f) in BASELINE {
            // restrictedVolumes overrides hostPathVolumes at the restricted level.
            if level == Level::Restricted && *id == "hostPathVolumes" {
                continue;
            }
            if let Some(message) = f(pod_spec) {
                out.push(Violation { check: id, message });
            }
        }
    }
    if level >= Level::Restricted {
        for (id, f) in RESTRICTED {
            if let Some(message) = f(pod_spec) {
                out.push(Violation { check: id, message });
            }
        }
    }
    out
}

type CheckFn = fn(&Value) -> Option<String>;

const BASELINE: &[(&str, CheckFn)] = &[
    ("hostNamespaces", host_namespaces),
    ("privileged", privileged),
    ("capabilities_baseline", capabilities_baseline),
    ("hostPathVolumes", host_path_volumes),
    ("hostPorts", host_ports),
    ("appArmorProfile", app_armor),
    ("seLinuxOptions", se_linux),
    ("procMount", proc_mount),
    ("seccompProfile_baseline", seccomp_baseline),
    ("sysctls", sysctls),
    ("windowsHostProcess", windows_host_process),
];

const RESTRICTED: &[(&str, CheckFn)] = &[
    ("restrictedVolumes", restricted_volumes),
    ("allowPrivilegeEscalation", allow_privilege_escalation),
    ("runAsNonRoot", run_as_non_root),
    ("runAsUser", run_as_user),
    ("seccompProfile_restricted", seccomp_restricted),
    ("capabilities_restricted", capabilities_restricted),
];

/// Containers, init containers and ephemeral containers, as the admission plugin visits them.
fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|k| pod[k].as_array().into_iter().flatten())
}

fn name(c: &Value) -> &str {
    c["name"].as_str().unwrap_or("")
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn containers_word(n: usize) -> &'static str {
    if n == 1 { "container" } else { "containers" }
}

/// "reason (detail)" when `bad` names any container.
fn per_container(
    pod: &Value,
    reason: &str,
    what: &str,
    bad: impl Fn(&Value) -> bool,
) -> Option<String> {
    let names: Vec<String> = containers(pod)
        .filter(|c| bad(c))
        .map(|c| name(c).to_string())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "{reason} ({} {} {what})",
            containers_word(names.len()),
            quoted(&names)
        )
    })
}

/// Pod-level and container-level settings of one securityContext field together: the
/// "pod or container must set" rules. `good` judges a set value; an unset container value
/// inherits a good pod value.
fn pod_or_containers(
    pod: &Value,
    field: &str,
    good: impl Fn(&Value) -> bool,
) -> (Vec<String>, Vec<String>) {
    let pod_value = &pod["securityContext"][field];
    let mut explicit = Vec::new();
    if !pod_value.is_null() && !good(pod_value) {
        explicit.push("pod".to_string());
    }
    let pod_good = !pod_value.is_null() && good(pod_value);
    let mut bad_containers = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(pod) {
        let v = &c["securityContext"][field];
        if v.is_null() {
            if !pod_good {
                implicit.push(name(c).to_string());
            }
        } else if !good(v) {
            bad_containers.push(name(c).to_string());
        }
    }
    if !bad_containers.is_empty() {
        explicit.push(format!(
            "{} {}",
            containers_word(bad_containers.len()),
            quoted(&bad_containers)
        ));
    }
    (explicit, implicit)
}

fn host_namespaces(pod: &Value) -> Option<String> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| pod[*k] == true)
        .map(|k| format!("{k}=true"))
        .collect();
    (!set.is_empty()).then(|| format!("host namespaces ({})", set.join(", ")))
}

fn privileged(pod: &Value) -> Option<String> {
    per_container(
        pod,
        "privileged",
        "must not set securityContext.privileged=true",
        |c| c["securityContext"]["privileged"] == true,
    )
}

/// Capabilities a baseline pod may add (the Docker/containerd default set).
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added(c: &Value) -> Vec<&str> {
    c["securityContext"]["capabilities"]["add"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn capabilities_baseline(pod: &Value) -> Option<String> {
    per_container(
        pod,
        "non-default capabilities",
        "must not add capabilities beyond the default set",
        |c| added(c).iter().any(|a| !BASELINE_CAPABILITIES.contains(a)),
    )
}

fn host_path_volumes(pod: &Value) -> Option<String> {
    let names: Vec<String> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| !v["hostPath"].is_null())
        .map(|v| v["name"].as_str().unwrap_or("").to_string())
        .collect();
    (!names.is_empty()).then(|| format!("hostPath volumes (volumes {})", quoted(&names)))
}

fn host_ports(pod: &Value) -> Option<String> {
    per_container(pod, "hostPort", "must not use hostPort", |c| {
        c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["hostPort"].as_i64().is_some_and(|h| h != 0))
    })
}

fn app_armor(pod: &Value) -> Option<String> {
    let ok = |p: &Value| {
        p.is_null() || matches!(p["type"].as_str(), Some("RuntimeDefault" | "Localhost"))
    };
    let pod_bad = !ok(&pod["securityContext"]["appArmorProfile"]);
    let containers = per_container(
        pod,
        "forbidden AppArmor profile",
        "must not set securityContext.appArmorProfile.type to Unconfined",
        |c| !ok(&c["securityContext"]["appArmorProfile"]),
    );
    match (pod_bad, containers) {
        (_, Some(m)) => Some(m),
        (true, None) => Some(
            "forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to Unconfined)"
                .into(),
        ),
        (false, None) => None,
    }
}

fn se_linux(pod: &Value) -> Option<String> {
    let bad = |o: &Value| {
        let ty_ok = matches!(
            o["type"].as_str(),
            None | Some(
                "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t"
            )
        );
        !o.is_null() && (!ty_ok || !o["user"].is_null() || !o["role"].is_null())
    };
    let pod_bad = bad(&pod["securityContext"]["seLinuxOptions"]);
    let c = per_container(
        pod,
        "seLinuxOptions",
        "must not set a forbidden seLinuxOptions type, user or role",
        |c| bad(&c["securityContext"]["seLinuxOptions"]),
    );
    c.or_else(|| {
        pod_bad.then(|| {
            "seLinuxOptions (pod must not set a forbidden seLinuxOptions type, user or role)".into()
        })
    })
}

fn proc_mount(pod: &Value) -> Option<String> {
    per_container(
        pod,
        "procMount",
        "must not set securityContext.procMount to Unmasked",
        |c| {
            c["securityContext"]["procMount"]
                .as_str()
                .is_some_and(|p| p != "Default")
        },
    )
}

fn seccomp_baseline(pod: &Value) -> Option<String> {
    let unconfined = |s: &Value| s["type"] == "Unconfined";
    let pod_bad = unconfined(&pod["securityContext"]["seccompProfile"]);
    let c = per_container(
        pod,
        "seccompProfile",
        "must not set securityContext.seccompProfile.type to \"Unconfined\"",
        |c| unconfined(&c["securityContext"]["seccompProfile"]),
    );
    c.or_else(|| pod_bad.then(|| "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")".into()))
}

/// Sysctls namespaced to the pod and isolated from the node (as of Kubernetes 1.32).
const SAFE_SYSCTLS: [&str; 13] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_syn_retries",
];

fn sysctls(pod: &Value) -> Option<String> {
    let bad: Vec<&str> = pod["securityContext"]["sysctls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .collect();
    (!bad.is_empty()).then(|| format!("forbidden sysctls ({})", bad.join(", ")))
}

fn windows_host_process(pod: &Value) -> Option<String> {
    let host = |sc: &Value| sc["windowsOptions"]["hostProcess"] == true;
    let any = host(&pod["securityContext"]) || containers(pod).any(|c| host(&c["securityContext"]));
    any.then(|| "hostProcess (pod or containers must not set securityContext.windowsOptions.hostProcess=true)".into())
}

/// The inline volume sources a restricted pod may use.
const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn restricted_volumes(pod: &Value) -> Option<String> {
    let names: Vec<String> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| {
            !v.as_object().is_some_and(|o| {
                o.iter()
                    .any(|(k, v)| RESTRICTED_VOLUMES.contains(&k.as_str()) && !v.is_null())
            })
        })
        .map(|v| v["name"].as_str().unwrap_or("").to_string())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "restricted volume types (volumes {} use types other than {})",
            quoted(&names),
            RESTRICTED_VOLUMES.join(", ")
        )
    })
}

fn allow_privilege_escalation(pod: &Value) -> Option<String> {
    per_container(
        pod,
        "allowPrivilegeEscalation != false",
        "must set securityContext.allowPrivilegeEscalation=false",
        |c| c["securityContext"]["allowPrivilegeEscalation"] != false,
    )
}

/// A pod with its own user namespace (`hostUsers: false`) may run as root inside it.
fn user_namespaced(pod: &Value) -> bool {
    pod["hostUsers"] == false
}

fn run_as_non_root(pod: &Value) -> Option<String> {
    if user_namespaced(pod) {
        return None;
    }
    required_setting(
        pod,
        "runAsNonRoot",
        |v| *v == true,
        "runAsNonRoot != true",
        "securityContext.runAsNonRoot=false",
        "securityContext.runAsNonRoot=true",
    )
}

/// The "pod or each container must set" rules: `reason (… must not set <bad>)` when a value
/// is set wrong, else `reason (pod or … must set <good>)` for containers that inherit nothing.
fn required_setting(
    pod: &Value,
    field: &str,
    good: impl Fn(&Value) -> bool,
    reason: &str,
    bad: &str,
    wanted: &str,
) -> Option<String> {
    let (explicit, implicit) = pod_or_containers(pod, field, good);
    if !explicit.is_empty() {
        return Some(format!(
            "{reason} ({} must not set {bad})",
            explicit.join(" and ")
        ));
    }
    (!implicit.is_empty()).then(|| {
        format!(
            "{reason} (pod or {} {} must set {wanted})",
            containers_word(implicit.len()),
            quoted(&implicit)
        )
    })
}

fn run_as_user(pod: &Value) -> Option<String> {
    if user_namespaced(pod) {
        return None;
    }
    let zero = |sc: &Value| sc["runAsUser"].as_i64() == Some(0);
    let mut setters = Vec::new();
    if zero(&pod["securityContext"]) {
        setters.push("pod".to_string());
    }
    let names: Vec<String> = containers(pod)
        .filter(|c| zero(&c["securityContext"]))
        .map(|c| name(c).to_string())
        .collect();
    if !names.is_empty() {
        setters.push(format!(
            "{} {}",
            containers_word(names.len()),
            quoted(&names)
        ));
    }
    (!setters.is_empty()).then(|| {
        format!(
            "runAsUser=0 ({} must not set runAsUser=0)",
            setters.join(" and ")
        )
    })
}

fn seccomp_restricted(pod: &Value) -> Option<String> {
    required_setting(
        pod,
        "seccompProfile",
        |p| matches!(p["type"].as_str(), Some("RuntimeDefault" | "Localhost")),
        "seccompProfile",
        "securityContext.seccompProfile.type to a profile other than \"RuntimeDefault\" or \"Localhost\"",
        "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
    )
}

fn capabilities_restricted(pod: &Value) -> Option<String> {
    let drops_all = |c: &Value| {
        c["securityContext"]["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
    };
    let mut details = Vec::new();
    let missing: Vec<String> = containers(pod)
        .filter(|c| !drops_all(c))
        .map(|c| name(c).to_string())
        .collect();
    if !missing.is_empty() {
        details.push(format!(
            "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_word(missing.len()),
            quoted(&missing)
        ));
    }
    let adding: Vec<String> = containers(pod)
        .filter(|c| added(c).iter().any(|a| *a != "NET_BIND_SERVICE"))
        .map(|c| name(c).to_string())
        .collect();
    if !adding.is_empty() {
        details.push(format!(
            "{} {} must not add capabilities other than NET_BIND_SERVICE",
            containers_word(adding.len()),
            quoted(&adding)
        ));
    }
    (!details.is_empty()).then(|| format!("unrestricted capabilities ({})", details.join("; ")))
}

/// The pod spec inside a workload object: a Pod's `spec`, a Deployment's, StatefulSet's or
/// Job's `spec.template.spec`, a CronJob's `spec.jobTemplate.spec.template.spec`, a KEDA
/// ScaledJob's `spec.jobTargetRef.template.spec`.
pub fn pod_spec(object: &Value) -> Option<&Value> {
    let spec = &object["spec"];
    let found = match object["kind"].as_str()? {
        "Pod" => spec,
        "CronJob" => &spec["jobTemplate"]["spec"]["template"]["spec"],
        "ScaledJob" => &spec["jobTargetRef"]["template"]["spec"],
        _ => &spec["template"]["spec"],
    };
    found.is_object().then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn restricted_container() -> Value {
        json!({
            "name": "app",
            "image": "x",
            "securityContext": {
                "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
                "capabilities": { "drop": ["ALL"] },
                "seccompProfile": { "type": "RuntimeDefault" }
            }
        })
    }

    fn ids(pod: &Value, level: Level) -> Vec<&'static str> {
        check(pod, level).into_iter().map(|v| v.check).collect()
    }

    #[test]
    fn a_pod_without_a_security_context_fails_exactly_the_four_restricted_rules() {
        let pod = json!({ "containers": [{ "name": "app", "image": "x" }] });
        assert_eq!(
            ids(&pod, Level::Restricted),
            [
                "allowPrivilegeEscalation",
                "runAsNonRoot",
                "seccompProfile_restricted",
                "capabilities_restricted"
            ]
        );
        assert!(ids(&pod, Level::Baseline).is_empty());
        assert!(ids(&pod, Level::Privileged).is_empty());
        let v = check(&pod, Level::Restricted);
        assert_eq!(
            v[0].message,
            "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false)"
        );
    }

    #[test]
    fn the_restricted_container_passes_and_each_field_it_sets_is_needed() {
        let pod = json!({ "containers": [restricted_container()] });
        assert!(check(&pod, Level::Restricted).is_empty());
        for (field, bad, id) in [
            (
                "allowPrivilegeEscalation",
                json!(true),
                "allowPrivilegeEscalation",
            ),
            ("runAsNonRoot", json!(false), "runAsNonRoot"),
            (
                "capabilities",
                json!({ "drop": ["NET_RAW"] }),
                "capabilities_restricted",
            ),
            (
                "capabilities",
                json!({ "drop": ["ALL"], "add": ["SYS_ADMIN"] }),
                "capabilities_restricted",
            ),
            (
                "seccompProfile",
                json!({ "type": "Unconfined" }),
                "seccompProfile_restricted",
            ),
            ("runAsUser", json!(0), "runAsUser"),
            ("privileged", json!(true), "privileged"),
            ("procMount", json!("Unmasked"), "procMount"),
        ] {
            let mut c = restricted_container();
            c["securityContext"][field] = bad;
            let found = ids(&json!({ "containers": [c] }), Level::Restricted);
            assert!(found.contains(&id), "{field}: {found:?}");
        }
        // NET_BIND_SERVICE is the one capability restricted pods may add.
        let mut c = restricted_container();
        c["securityContext"]["capabilities"]["add"] = json!(["NET_BIND_SERVICE"]);
        assert!(check(&json!({ "containers": [c] }), Level::Restricted).is_empty());
    }

    #[test]
    fn pod_level_settings_cover_containers_that_leave_them_unset() {
        let pod = json!({
            "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
            "containers": [{ "name": "app", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } } }],
            "initContainers": [{ "name": "init", "securityContext": {
                "runAsNonRoot": false, "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } } }]
        });
        let v = check(&pod, Level::Restricted);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            v[0].message,
            "runAsNonRoot != true (container \"init\" must not set securityContext.runAsNonRoot=false)"
        );
        // A user-namespaced pod may run as root inside its namespace.
        let mut userns = pod.clone();
        userns["hostUsers"] = json!(false);
        assert!(check(&userns, Level::Restricted).is_empty());
    }

    #[test]
    fn baseline_rules_and_volumes() {
        let pod = json!({
            "hostNetwork": true,
            "securityContext": { "sysctls": [{ "name": "kernel.msgmax", "value": "1" }, { "name": "net.ipv4.tcp_syncookies", "value": "1" }] },
            "volumes": [{ "name": "host", "hostPath": { "path": "/" } }, { "name": "tmp", "emptyDir": {} }],
            "containers": [{ "name": "app", "ports": [{ "containerPort": 80, "hostPort": 80 }],
                "securityContext": { "capabilities": { "add": ["CHOWN", "SYS_ADMIN"] } } }]
        });
        assert_eq!(
            ids(&pod, Level::Baseline),
            [
                "hostNamespaces",
                "capabilities_baseline",
                "hostPathVolumes",
                "hostPorts",
                "sysctls"
            ]
        );
        let restricted = ids(&pod, Level::Restricted);
        assert!(restricted.contains(&"restrictedVolumes"), "{restricted:?}");
        assert!(!restricted.contains(&"hostPathVolumes"), "{restricted:?}");
        let v = check(&pod, Level::Baseline);
        assert_eq!(
            v.last().unwrap().message,
            "forbidden sysctls (kernel.msgmax)"
        );
    }

    #[test]
    fn the_pod_spec_of_each_workload_kind() {
        let tpl = json!({ "spec": { "containers": [] } });
        let dep = json!({ "kind": "Deployment", "spec": { "template": tpl } });
        assert!(pod_spec(&dep).is_some());
        let sj = json!({ "kind": "ScaledJob", "spec": { "jobTargetRef": { "template": tpl } } });
        assert!(pod_spec(&sj).is_some());
        assert!(pod_spec(&json!({ "kind": "ScaledObject", "spec": {} })).is_none());
    }
}
