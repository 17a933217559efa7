//! The cluster half of the executor: KEDA install/uninstall through helm, server-side apply,
//! rollout restarts with the Pod Identity check, and deletions that wait until the object is gone.

use super::{Options, StepError};
use crate::cluster::{self, Kube, helm, keda, rollout};
use crate::plan::{Action, Step};
use crate::progress::Progress;
use serde_json::json;
use std::time::{Instant, SystemTime};

/// Carry out a cluster step; `Some(note)` when it did less than its summary says (and why).
/// `live`: the target as the ownership re-check read it (a delete goes only if it is unchanged).
pub(super) async fn apply(
    kube: Option<&Kube>,
    step: &Step,
    live: Option<&serde_json::Value>,
    opts: &Options,
    progress: &Progress,
) -> Result<Option<String>, StepError> {
    let Some(kube) = kube else {
        return Err(StepError::Other(
            "kedactl is not connected to the cluster (internal: cluster step without a client)"
                .into(),
        ));
    };
    let wait = Wait {
        kube,
        step,
        opts,
        progress,
    };
    match &step.action {
        Action::InstallKeda {
            namespace,
            service_account,
            version,
            irsa_role_arn,
            stack,
            values,
            ..
        } => {
            // A namespace that already exists is not taken over (down would delete it).
            if kube.get("Namespace", None, namespace).await?.is_none() {
                kube.apply(
                    &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
                        "name": namespace, "labels": crate::model::ownership(stack)}}),
                    false,
                )
                .await?;
            }
            // The marker goes first: if helm is interrupted, `down` still knows who started it.
            kube.apply(
                &keda::marker(namespace, stack, version, values),
                opts.force_conflicts,
            )
            .await?;
            // The user's chart values, in a file helm reads (kept until helm exits).
            let values_file = match values.is_empty() {
                true => None,
                false => Some(helm::values_file(values).map_err(|e| {
                    StepError::Other(format!("cannot write KEDA's chart values for helm: {e}"))
                })?),
            };
            let args = helm::install_args(&helm::Install {
                namespace: namespace.clone(),
                version: version.clone(),
                service_account: service_account.clone(),
                irsa_role_arn: irsa_role_arn.clone(),
                values_file: values_file.as_ref().map(|f| f.path().display().to_string()),
            });
            progress.waiting(&step.id, &step.summary, "running helm");
            helm::run(&opts.helm, &kube.access, &args)
                .await
                .map_err(StepError::Other)?;
            for d in [keda::OPERATOR, keda::METRICS_SERVER] {
                wait.rollout(namespace, d).await?;
            }
        }
        Action::Apply { manifest, .. } => {
            let (_, warnings) = kube.apply_warned(manifest, opts.force_conflicts).await?;
            if !warnings.is_empty() {
                return Ok(Some(format!(
                    "the API server warned: {}",
                    warnings.join("; ")
                )));
            }
        }
        Action::AnnotateServiceAccount {
            namespace,
            name,
            role_arn,
        } => {
            let manifest = crate::plan::workload::annotation(namespace, name, role_arn.as_deref());
            kube.apply(&manifest, opts.force_conflicts).await?;
        }
        Action::RestartDeployment {
            namespace,
            deployment,
            ..
        } => {
            restart(kube, namespace, deployment).await?;
            wait.rollout(namespace, deployment).await?;
        }
        Action::VerifyPodIdentity {
            namespace,
            deployment,
        }
        | Action::VerifyIrsa {
            namespace,
            deployment,
        } => {
            let mode = match step.action {
                Action::VerifyIrsa { .. } => rollout::Mode::Irsa,
                _ => rollout::Mode::PodIdentity,
            };
            wait.rollout(namespace, deployment).await?;
            // Scaled to zero (minReplicaCount 0): no pod to check until KEDA scales it up.
            let d = rollout::deployment(kube, namespace, deployment).await?;
            if d["spec"]["replicas"].as_u64() == Some(0) {
                return Ok(Some(
                    "not checked: scaled to zero, so no pod runs; `kedactl doctor` checks the \
                     next one"
                        .into(),
                ));
            }
            let mut restarted = false;
            loop {
                let missing =
                    match rollout::pod_credentials(kube, namespace, deployment, mode).await? {
                        None => {
                            return Err(StepError::Other(format!(
                                "Deployment {namespace}/{deployment} has no running pod to check"
                            )));
                        }
                        // The other mode's credentials: a restart gets the same again.
                        Some((pod, c)) if !c.unexpected.is_empty() => {
                            return Err(StepError::Other(wrong_mode(
                                &pod, namespace, deployment, mode, &c,
                            )));
                        }
                        Some((_, c)) if c.missing.is_empty() => break,
                        Some((pod, c)) => format!("pod {pod} lacks {}", c.missing.join(" and ")),
                    };
                if restarted && mode == rollout::Mode::Irsa {
                    return Err(StepError::Other(format!(
                        "{missing} even after a restart: the EKS IRSA webhook did not inject \
                         web identity. Check that the service account of {namespace}/{deployment} \
                         names the operator role in eks.amazonaws.com/role-arn and that the \
                         cluster's OIDC provider exists in IAM (`kedactl doctor`)"
                    )));
                }
                if restarted {
                    return Err(StepError::Other(format!(
                        "{missing} even after a restart: the EKS Pod Identity webhook did not inject \
                         credentials. Check that the eks-pod-identity-agent add-on is ACTIVE and the \
                         association for the service account exists (`kedactl doctor`), then \
                         `kubectl rollout restart deployment/{deployment} -n {namespace}`"
                    )));
                }
                // The webhook's association cache can lag a new association: restart once more.
                progress.waiting(
                    &step.id,
                    &step.summary,
                    &format!("{missing}; restarting once more"),
                );
                restart(kube, namespace, deployment).await?;
                wait.rollout(namespace, deployment).await?;
                restarted = true;
            }
        }
        Action::DeleteObject {
            kind,
            namespace,
            name,
        } => {
            let ns = namespace.as_deref();
            // Read again: the namespace the plan saw empty may have gained content since.
            if kind == "Namespace"
                && let Some(stack) = opts.stack.as_deref()
            {
                let c = cluster::contents::foreign(kube, name, |_, o| {
                    let labels =
                        serde_json::from_value(o["metadata"]["labels"].clone()).unwrap_or_default();
                    crate::model::is_owned(&labels, stack)
                })
                .await;
                if let Some(why) = kept(name, &c) {
                    return Err(StepError::Other(format!("refused: {why}")));
                }
            }
            let deleted = match (live, opts.stack.as_deref()) {
                (Some(read), Some(stack)) => delete_read(kube, kind, ns, name, read, stack).await?,
                _ => kube.delete(kind, ns, name).await?,
            };
            if !deleted {
                return Ok(None);
            }
            // KEDA's finalizer is removed only by its operator: without one, ours would hang.
            let orphaned = keda::KINDS.iter().any(|(k, _)| k == kind)
                && !keda::operator_running(kube).await?
                && release_finalizer(kube, kind, ns, name).await?;
            wait.gone(kind, ns, name).await?;
            if orphaned {
                return Ok(Some(format!(
                    "no KEDA operator runs, so kedactl removed {} itself",
                    keda::FINALIZER
                )));
            }
        }
        Action::UninstallKeda {
            namespace,
            stack,
            delete_namespace,
        } => {
            // Objects created since the plan would lose their finalizers' owner and hang.
            let kinds: Vec<&str> = keda::KINDS.iter().map(|(kind, _)| *kind).collect();
            let holders = keda::objects(kube, &kinds).await?;
            if !holders.is_empty() {
                return Err(StepError::Other(format!(
                    "KEDA was not uninstalled: {} still use{} it (created after this run read the \
                     cluster); uninstalling would delete them with KEDA's CRDs. Nothing was changed",
                    holders.join(", "),
                    if holders.len() == 1 { "s" } else { "" }
                )));
            }
            match helm::run(&opts.helm, &kube.access, &helm::uninstall_args(namespace)).await {
                // An install interrupted before helm recorded it, or a run killed after this.
                Err(e) if e.contains("release: not found") => {}
                r => r.map_err(StepError::Other)?,
            }
            let crds_kept = remove_crds(kube, namespace, &wait).await?;
            kube.delete("ConfigMap", Some(namespace), keda::MARKER)
                .await?;
            let ns = kube.get("Namespace", None, namespace).await?;
            let labels = ns
                .as_ref()
                .and_then(|n| serde_json::from_value(n["metadata"]["labels"].clone()).ok())
                .unwrap_or_default();
            if !delete_namespace || !crate::model::is_owned(&labels, stack) {
                return Ok(crds_kept);
            }
            // Read again: what `down` saw empty may have gained content since.
            let c = cluster::contents::foreign(kube, namespace, keda::part_of_install).await;
            if let Some(why) = kept(namespace, &c) {
                return Err(StepError::Other(format!("KEDA was uninstalled, but {why}")));
            }
            if kube.delete("Namespace", None, namespace).await? {
                wait.gone("Namespace", None, namespace).await?;
            }
            return Ok(crds_kept);
        }
        _ => unreachable!("run_step sends AWS actions to exec::aws"),
    }
    Ok(None)
}

/// The CRDs of the release `helm uninstall` kept (the chart marks them keep): read again that
/// no keda.sh object exists (one created since the check before the uninstall is someone
/// else's), then delete each, exactly as read. Some(note) when they were kept.
async fn remove_crds(
    kube: &Kube,
    namespace: &str,
    wait: &Wait<'_>,
) -> Result<Option<String>, StepError> {
    let kinds: Vec<&str> = keda::KINDS.iter().map(|(kind, _)| *kind).collect();
    let users = keda::objects(kube, &kinds).await?;
    let mut ours = Vec::new();
    for (_, name) in keda::KINDS {
        let Some(crd) = kube.get("CustomResourceDefinition", None, name).await? else {
            continue;
        };
        let a = &crd["metadata"]["annotations"];
        // Only the CRDs of this release, and not already going (an older install without the
        // keep annotation: helm deleted them).
        if a["meta.helm.sh/release-name"] == helm::RELEASE
            && a["meta.helm.sh/release-namespace"] == namespace
            && crd["metadata"]["deletionTimestamp"].is_null()
        {
            ours.push((name, crd));
        }
    }
    if ours.is_empty() {
        return Ok(None);
    }
    if !users.is_empty() {
        let names: Vec<&str> = ours.iter().map(|(n, _)| *n).collect();
        return Ok(Some(format!(
            "KEDA's CRDs were kept ({}): {} still use{} them, and deleting a CRD deletes its \
             objects. Delete them with kubectl once nothing needs them",
            names.join(", "),
            users.join(", "),
            if users.len() == 1 { "s" } else { "" }
        )));
    }
    for (name, crd) in &ours {
        match kube
            .delete_read("CustomResourceDefinition", None, name, crd)
            .await
        {
            Ok(true) => wait.gone("CustomResourceDefinition", None, name).await?,
            Ok(false) => {}
            // Changed since the read (relabelled, replaced): left alone.
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// A pod that carries the other mode's credentials: which, why it matters, the fix.
fn wrong_mode(
    pod: &str,
    namespace: &str,
    deployment: &str,
    mode: rollout::Mode,
    c: &rollout::Credentials,
) -> String {
    let why = match mode {
        rollout::Mode::PodIdentity => format!(
            "the AWS SDK in KEDA resolves web identity before container credentials, so it \
             uses IRSA's role, not the Pod Identity association. Remove the \
             eks.amazonaws.com/role-arn annotation from the service account of \
             {namespace}/{deployment} (helm: podIdentity.aws.irsa.enabled=false), then \
             `kubectl rollout restart deployment/{deployment} -n {namespace}`"
        ),
        rollout::Mode::Irsa => format!(
            "a Pod Identity association exists for its service account while this stack uses \
             IRSA. Delete the association (aws eks list-pod-identity-associations --namespace \
             {namespace}), then `kubectl rollout restart deployment/{deployment} -n {namespace}`"
        ),
    };
    format!(
        "pod {pod} carries {} although this stack uses {}: {why}",
        c.unexpected.join(" and "),
        mode.name()
    )
}

/// Delete the object the ownership re-check read, and only it (preconditions on its uid and
/// resourceVersion). A 409 means it changed since: read it again, and go on only while it is
/// the same object and still ours (a status update by its controller changes the version, not
/// the owner). False when it is already gone.
async fn delete_read(
    kube: &Kube,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    read: &serde_json::Value,
    stack: &str,
) -> Result<bool, StepError> {
    let what = cluster::describe(kind, ns, name);
    let mut read = read.clone();
    for _ in 0..5 {
        match kube.delete_read(kind, ns, name, &read).await {
            Err(e) if e.is_conflict() => {}
            other => return Ok(other?),
        }
        let Some(now) = kube.get(kind, ns, name).await? else {
            return Ok(false);
        };
        let labels = serde_json::from_value(now["metadata"]["labels"].clone()).unwrap_or_default();
        if now["metadata"]["uid"] != read["metadata"]["uid"]
            || !crate::model::is_owned(&labels, stack)
        {
            return Err(StepError::Other(format!(
                "refused: {what} changed hands after its ownership was checked (replaced, or \
                 relabelled), so it was left alone. Run the command again for a fresh plan"
            )));
        }
        read = now;
    }
    Err(StepError::Other(format!(
        "{what} kept changing while kedactl deleted it (409 Conflict five times); run the \
         command again"
    )))
}

/// What the namespace controller says blocks a terminating namespace: its true
/// NamespaceContentRemaining, NamespaceFinalizersRemaining and NamespaceDeletionDiscoveryFailure
/// (and other deletion) conditions, `Type: message`.
fn blocking_conditions(o: &serde_json::Value) -> Vec<String> {
    o["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .filter_map(|c| {
            let t = c["type"].as_str()?;
            t.starts_with("Namespace")
                .then(|| format!("{t}: {}", c["message"].as_str().unwrap_or_default()))
        })
        .collect()
}

/// Why a namespace read right before its delete is kept (None: it may go).
fn kept(namespace: &str, c: &cluster::contents::Contents) -> Option<String> {
    if !c.unchecked.is_empty() {
        return Some(format!(
            "namespace {namespace} was kept: its contents could not be checked ({})",
            c.unchecked.join("; ")
        ));
    }
    (!c.foreign.is_empty()).then(|| {
        format!(
            "namespace {namespace} was kept: it also holds {} (created after this run read it)",
            c.foreign.join(", ")
        )
    })
}

/// Drop KEDA's finalizer from one of our objects being deleted; false when it had none. A JSON
/// patch that tests the finalizer at its index and removes it touches nothing else: a merge
/// patch of the whole list would put back a `foregroundDeletion` the garbage collector removed
/// since the read (422, no new finalizers on an object being deleted). A failed test means the
/// list changed: read it again.
async fn release_finalizer(
    kube: &Kube,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Result<bool, StepError> {
    for _ in 0..5 {
        let Some(o) = kube.get(kind, ns, name).await? else {
            return Ok(false);
        };
        let Some(ops) = remove_finalizer(&o, keda::FINALIZER) else {
            return Ok(false);
        };
        match kube.json_patch(kind, ns, name, &ops).await {
            Ok(_) => return Ok(true),
            Err(e) if e.is_not_found() => return Ok(false),
            Err(e) if matches!(e.code, Some(409 | 422)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StepError::Other(format!(
        "{}: its finalizers kept changing while kedactl removed {}; run the command again",
        cluster::describe(kind, ns, name),
        keda::FINALIZER
    )))
}

/// `test` + `remove` of `finalizer` at its index in the object's finalizers; None without it.
fn remove_finalizer(o: &serde_json::Value, finalizer: &str) -> Option<serde_json::Value> {
    let i = o["metadata"]["finalizers"]
        .as_array()?
        .iter()
        .position(|f| f == finalizer)?;
    let path = format!("/metadata/finalizers/{i}");
    Some(json!([
        {"op": "test", "path": path, "value": finalizer},
        {"op": "remove", "path": path},
    ]))
}

async fn restart(kube: &Kube, namespace: &str, deployment: &str) -> Result<(), StepError> {
    let d = rollout::deployment(kube, namespace, deployment).await?;
    rollout::refuse_paused(&d, namespace, deployment).map_err(StepError::Other)?;
    let now = aws_smithy_types::DateTime::from(SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    kube.merge_patch(
        "Deployment",
        Some(namespace),
        deployment,
        &rollout::restart_patch(&now),
    )
    .await?;
    Ok(())
}

/// Polling with progress, bounded by the options' timeouts.
struct Wait<'a> {
    kube: &'a Kube,
    step: &'a Step,
    opts: &'a Options,
    progress: &'a Progress,
}

impl Wait<'_> {
    async fn rollout(&self, namespace: &str, deployment: &str) -> Result<(), StepError> {
        let start = Instant::now();
        loop {
            let d = rollout::deployment(self.kube, namespace, deployment).await?;
            let state = match rollout::status(&d) {
                rollout::Rollout::Done => return Ok(()),
                rollout::Rollout::Waiting(s) => s,
                rollout::Rollout::Failed(why) => {
                    return Err(StepError::Other(format!(
                        "Deployment {namespace}/{deployment} will not finish rolling out: {why}; \
                         see `kubectl describe deployment/{deployment} -n {namespace}` and its \
                         pods' events"
                    )));
                }
            };
            if start.elapsed() >= self.opts.rollout_timeout {
                return Err(StepError::Other(format!(
                    "Deployment {namespace}/{deployment} did not finish rolling out in {} s ({state}): \
                     see `kubectl describe deployment/{deployment} -n {namespace}` and its pods' events",
                    self.opts.rollout_timeout.as_secs()
                )));
            }
            self.progress.waiting(
                &self.step.id,
                &self.step.summary,
                &format!("{deployment}: {state}"),
            );
            tokio::time::sleep(self.opts.kube_poll).await;
        }
    }

    async fn gone(&self, kind: &str, namespace: Option<&str>, name: &str) -> Result<(), StepError> {
        let start = Instant::now();
        while let Some(o) = self.kube.get(kind, namespace, name).await? {
            if start.elapsed() >= self.opts.delete_timeout {
                let blocking = blocking_conditions(&o);
                return Err(StepError::Other(format!(
                    "{} is still terminating after {} s: {}",
                    cluster::describe(kind, namespace, name),
                    self.opts.delete_timeout.as_secs(),
                    if blocking.is_empty() {
                        format!(
                            "check its finalizers (kubectl get {} -o yaml)",
                            kind.to_lowercase()
                        )
                    } else {
                        blocking.join("; ")
                    }
                )));
            }
            self.progress.waiting(
                &self.step.id,
                &self.step.summary,
                "waiting until it is gone",
            );
            tokio::time::sleep(self.opts.kube_poll).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finalizer_is_removed_where_it_was_read_and_only_there() {
        let o = json!({"metadata": {"finalizers": ["foregroundDeletion", "finalizer.keda.sh"]}});
        assert_eq!(
            remove_finalizer(&o, "finalizer.keda.sh").unwrap(),
            json!([
                {"op": "test", "path": "/metadata/finalizers/1", "value": "finalizer.keda.sh"},
                {"op": "remove", "path": "/metadata/finalizers/1"},
            ])
        );
        assert!(remove_finalizer(&json!({"metadata": {}}), "finalizer.keda.sh").is_none());
    }
}
