//! Installing and removing KEDA with `helm` (the chart's own install path, not a copy of its
//! manifests). The arguments are built by pure functions; `run` executes them.

use super::connect::Access;
use crate::spec::{AuthMode, keda_values};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

pub const REPO: &str = "https://kedacore.github.io/charts";
pub const RELEASE: &str = "keda";

/// What to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub namespace: String,
    pub version: String,
    pub service_account: String,
    /// IRSA mode: the operator role the chart annotates its service account with.
    pub irsa_role_arn: Option<String>,
    /// A file of the user's chart values (`keda.values`), given to helm with `--values`
    /// (kedactl's own `--set` values win over it).
    pub values_file: Option<String>,
}

/// `helm upgrade --install keda keda --repo … --version …` (idempotent, no `helm repo add`).
pub fn install_args(i: &Install) -> Vec<String> {
    let mut a: Vec<String> = [
        "upgrade",
        "--install",
        RELEASE,
        "keda",
        "--repo",
        REPO,
        "--version",
        &i.version,
        "--namespace",
        &i.namespace,
        "--create-namespace",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(f) = &i.values_file {
        a.extend(["--values".into(), f.clone()]);
    }
    // Every supported chart (2.13.0 on) has `crds.additionalAnnotations`; the operator's
    // service account key moved in 2.14.0; Pod Identity needs IRSA off (it would win).
    let mode = match i.irsa_role_arn {
        Some(_) => AuthMode::Irsa,
        None => AuthMode::PodIdentity,
    };
    let owned = keda_values::owned(
        &i.version,
        &i.service_account,
        mode,
        i.irsa_role_arn.as_deref(),
    );
    for o in owned {
        let Some(v) = &o.value else { continue };
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        a.extend(["--set".into(), format!("{}={v}", o.set_key())]);
    }
    a
}

pub fn uninstall_args(namespace: &str) -> Vec<String> {
    ["uninstall", RELEASE, "--namespace", namespace, "--wait"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The command line to show a person (when helm is missing, or with -v).
pub fn command_line(args: &[String]) -> String {
    let mut s = String::from("helm");
    for a in args {
        s.push(' ');
        s.push_str(a);
    }
    s
}

/// Run helm (`program`: "helm" from PATH, or a path) against the cluster kedactl is connected
/// to; the error carries its stderr.
pub async fn run(program: &Path, access: &Access, args: &[String]) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    // Keep the kubeconfig file alive until helm exits.
    let _kubeconfig = match access {
        Access::Kubeconfig { path, context } => {
            if let Some(p) = path {
                cmd.arg("--kubeconfig").arg(p);
            }
            if let Some(c) = context {
                cmd.arg("--kube-context").arg(c);
            }
            None
        }
        Access::Eks {
            server,
            ca_data,
            token,
        } => {
            let file = kubeconfig(server, ca_data, &token.current())
                .map_err(|e| format!("cannot write a kubeconfig for helm: {e}"))?;
            cmd.arg("--kubeconfig").arg(file.path());
            Some(file)
        }
        Access::Direct => None,
    };
    // helm's own client has no request timeout: bound the whole run, and kill it when it ends.
    cmd.kill_on_drop(true);
    let out = match tokio::time::timeout(crate::limits::HELM_TIMEOUT, cmd.output()).await {
        Err(_) => {
            return Err(format!(
                "`{}` did not finish within {} minutes (killed): check that the cluster answers \
                 (`kubectl get nodes`) and `helm status {RELEASE} -n <namespace>`",
                command_line(args),
                crate::limits::HELM_TIMEOUT.as_secs() / 60
            ));
        }
        Ok(Ok(out)) => out,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "{} was not found: install helm (https://helm.sh/docs/intro/install/) and run \
                 kedactl again, or run it yourself:\n    {}",
                program.display(),
                command_line(args)
            ));
        }
        Ok(Err(e)) => return Err(format!("cannot run helm: {e}")),
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!(
        "`{}` failed ({}): {}",
        command_line(args),
        out.status,
        stderr.trim()
    ))
}

/// The user's chart values as a file for `helm --values` (JSON is YAML).
pub fn values_file(
    values: &serde_json::Map<String, serde_json::Value>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut f = tempfile::Builder::new()
        .prefix("kedactl-keda-values-")
        .suffix(".yaml")
        .tempfile()?;
    f.write_all(
        serde_json::Value::Object(values.clone())
            .to_string()
            .as_bytes(),
    )?;
    f.flush()?;
    Ok(f)
}

/// A private (0600) kubeconfig holding the EKS endpoint, CA and current token.
fn kubeconfig(
    server: &str,
    ca_data: &str,
    token: &str,
) -> std::io::Result<tempfile::NamedTempFile> {
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "eks", "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": "kedactl", "user": {"token": token}}],
        "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "kedactl"}}],
        "current-context": "eks",
    });
    let mut f = tempfile::Builder::new()
        .prefix("kedactl-kubeconfig-")
        .tempfile()?;
    f.write_all(doc.to_string().as_bytes())?;
    f.flush()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(irsa: Option<&str>) -> Install {
        Install {
            namespace: "keda".into(),
            version: "2.20.2".into(),
            service_account: "keda-operator".into(),
            irsa_role_arn: irsa.map(str::to_string),
            values_file: None,
        }
    }

    #[test]
    fn install_pins_the_chart_and_keeps_irsa_off_for_pod_identity() {
        assert_eq!(
            command_line(&install_args(&install(None))),
            "helm upgrade --install keda keda --repo https://kedacore.github.io/charts --version 2.20.2 \
             --namespace keda --create-namespace --set crds.additionalAnnotations.helm\\.sh/resource-policy=keep \
             --set serviceAccount.operator.name=keda-operator --set podIdentity.aws.irsa.enabled=false"
        );
        let irsa = install_args(&install(Some("arn:aws:iam::1:role/keda-operator")));
        assert!(irsa.contains(&"podIdentity.aws.irsa.enabled=true".to_string()));
        assert!(irsa.contains(
            &"podIdentity.aws.irsa.roleArn=arn:aws:iam::1:role/keda-operator".to_string()
        ));
        let old = install_args(&Install {
            version: "2.13.2".into(),
            ..install(None)
        });
        assert!(
            old.contains(&"serviceAccount.name=keda-operator".to_string()),
            "{old:?}"
        );
        assert!(!old.iter().any(|a| a.starts_with("serviceAccount.operator")));
        let with = install_args(&Install {
            values_file: Some("/tmp/v.yaml".into()),
            ..install(None)
        });
        let at = with.iter().position(|a| a == "--values").unwrap();
        assert_eq!(with[at + 1], "/tmp/v.yaml");
        assert_eq!(
            command_line(&uninstall_args("keda")),
            "helm uninstall keda --namespace keda --wait"
        );
    }

    #[test]
    fn the_eks_kubeconfig_is_private_and_complete() {
        let f = kubeconfig("https://x.eks.amazonaws.com", "Q0E=", "k8s-aws-v1.abc").unwrap();
        let text = std::fs::read_to_string(f.path()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["users"][0]["user"]["token"], "k8s-aws-v1.abc");
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            "Q0E="
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "kubeconfig must not be readable by others");
        }
    }
}
