//! Opt-in: the whole stack against a REAL EKS cluster and account, never run by default or in CI.
//!   KEDACTL_E2E_CLUSTER=my-sandbox AWS_PROFILE=sandbox AWS_REGION=us-east-1 \
//!     cargo test --test e2e_real_cluster -- --ignored --nocapture
//! Set KEDACTL_E2E_KUBECONFIG=path (and optionally KEDACTL_E2E_CONTEXT) to reach the cluster
//! through a kubeconfig; without it kedactl connects from EKS with a presigned token. It needs
//! `helm` on PATH if KEDA is not installed yet. It creates a uniquely named stack (roles,
//! queue, repository, associations, namespace `e2e-<n>`), checks a second `up` changes nothing,
//! and removes it with `down --force`.

mod common;
use common::real_json as kedactl;
use serde_json::Value;

const RUN: &str = "KEDACTL_E2E_CLUSTER=<name> AWS_PROFILE=<sandbox> AWS_REGION=<region> cargo test --test e2e_real_cluster -- --ignored (KEDACTL_E2E_KUBECONFIG / KEDACTL_E2E_CONTEXT optional)";

#[test]
#[ignore = "changes a real EKS cluster and account: KEDACTL_E2E_CLUSTER=name AWS_PROFILE=… AWS_REGION=… cargo test --test e2e_real_cluster -- --ignored"]
fn up_converge_down_on_a_real_cluster() {
    let cluster = common::required_env("KEDACTL_E2E_CLUSTER", RUN);
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 100_000;
    let stack = format!("e2e-{n}");
    let names = [
        ("--operator-role", format!("{stack}-op")),
        ("--identity-role", format!("{stack}-id")),
        ("--queue", format!("{stack}-q")),
        ("--repository", format!("{stack}-repo")),
        ("--namespace", stack.clone()),
    ];
    let mut args: Vec<String> = vec!["--cluster".into(), cluster, "--stack".into(), stack.clone()];
    for (flag, value) in names {
        args.push(flag.into());
        args.push(value);
    }
    if let Ok(kc) = std::env::var("KEDACTL_E2E_KUBECONFIG") {
        args.extend(["--kubeconfig".into(), kc]);
    }
    if let Ok(ctx) = std::env::var("KEDACTL_E2E_CONTEXT") {
        args.extend(["--context".into(), ctx]);
    }
    fn with<'a>(cmd: &'a str, args: &'a [String]) -> Vec<&'a str> {
        std::iter::once(cmd)
            .chain(args.iter().map(String::as_str))
            .collect()
    }
    let up = kedactl(&with("up", &args));
    let failed: Vec<&Value> = up["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "done")
        .collect();
    assert!(failed.is_empty(), "{up:#}");
    let again = kedactl(&with("up", &args));
    assert_eq!(again["calls"]["mutating"], 0, "{again:#}");
    let mut down = with("down", &args);
    down.push("--force");
    kedactl(&down);
}
