//! An app's existing workload (`existing: true`): there, scaled by KEDA's HPA alone, and
//! running as the service account the association (or IRSA annotation) is for.

use super::*;
use crate::plan::workload::service_account;

pub(crate) fn kd056(c: &Ctx) -> Finding {
    let f = F { code: "KD056" };
    let Some(app) = c.app else {
        return f.na("no app");
    };
    let Some(w) =
        c.d.workloads
            .iter()
            .find(|w| w.namespace == app.namespace && w.name == app.deployment())
    else {
        return f.na("kedactl renders this app's Deployment (existing: false)");
    };
    let o = or_skip!(f, c.objects());
    let Some(live) = &o.workload else {
        return f.fail(
            vec![format!("{} does not exist", w.describe())],
            "deploy it with your chart first (kedactl never creates a workload marked existing: true), or correct apps[].deployment, namespace or kind",
            vec![],
        );
    };
    let mut evidence = Vec::new();
    let sa = service_account(live);
    if sa != w.service_account {
        let how = match c.d.auth_mode {
            crate::spec::AuthMode::PodIdentity => "the pod identity association",
            crate::spec::AuthMode::Irsa => "the IRSA role annotation",
        };
        evidence.push(format!(
            "its pods run as service account {sa}; {how} is for {}/{} (apps[].serviceAccount), so they get no AWS credentials from it",
            w.namespace, w.service_account
        ));
    }
    let keda_hpa = format!("keda-hpa-{}", app.scaler.1);
    let Some(hpas) = &o.hpas else {
        return f.skip(format!(
            "the HorizontalPodAutoscalers of {} were not listed",
            w.namespace
        ));
    };
    for h in hpas {
        let t = &h["spec"]["scaleTargetRef"];
        let name = h["metadata"]["name"].as_str().unwrap_or_default();
        if t["kind"] == w.kind.as_str() && t["name"] == w.name.as_str() && name != keda_hpa {
            evidence.push(format!(
                "HorizontalPodAutoscaler {}/{name} also scales it: it and KEDA's {keda_hpa} would fight over its replicas",
                w.namespace
            ));
        }
    }
    if evidence.is_empty() {
        return f.ok(format!(
            "{} exists, runs as service account {sa}, and only KEDA's HPA scales it",
            w.describe()
        ));
    }
    f.fail(
        evidence,
        format!(
            "make its pods run as {} (serviceAccountName in its chart) or set apps[].serviceAccount to theirs; delete any other HPA of it (e.g. the chart's autoscaling.enabled: false)",
            w.service_account
        ),
        vec![],
    )
}
