//! Opt-in: a round trip against a REAL AWS account, never run by default or in CI.
//!   KEDACTL_E2E=1 AWS_PROFILE=sandbox AWS_REGION=us-east-1 cargo test --test e2e_real_account -- --ignored --nocapture
//! It creates uniquely named IAM roles, an SQS queue and an ECR repository (stack `e2e-<n>`),
//! checks a second `up` changes nothing, and removes them with `down`. The caller needs IAM,
//! SQS and ECR write permissions in that account. No EKS cluster is needed or touched.

mod common;
use common::real_json as kedactl;

const RUN: &str = "KEDACTL_E2E=1 AWS_PROFILE=<sandbox> AWS_REGION=<region> cargo test --test e2e_real_account -- --ignored";

#[test]
#[ignore = "changes a real AWS account: KEDACTL_E2E=1 AWS_PROFILE=… AWS_REGION=… cargo test --test e2e_real_account -- --ignored"]
fn up_converge_down_in_a_real_account() {
    // KEDACTL_E2E=1 as well as --ignored: `--include-ignored` alone must not touch an account.
    let confirmed = common::required_env("KEDACTL_E2E", RUN);
    assert_eq!(confirmed, "1", "KEDACTL_E2E must be 1. Run: {RUN}");
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 100_000;
    let stack = format!("e2e-{n}");
    let (op, id, q, repo) = (
        format!("{stack}-op"),
        format!("{stack}-id"),
        format!("{stack}-q"),
        format!("{stack}-repo"),
    );
    let args = [
        "--cluster",
        "e2e",
        "--stack",
        &stack,
        "--operator-role",
        &op,
        "--identity-role",
        &id,
        "--queue",
        &q,
        "--repository",
        &repo,
        "--only",
        "iam,queue,registry",
    ];
    let up = kedactl(&[&["up"][..], &args].concat());
    // Six steps; the queue's is CreateQueue + TagQueue (this cluster's key).
    assert_eq!(up["calls"]["mutating"], 7, "{up:#}");
    let again = kedactl(&[&["up"][..], &args].concat());
    assert_eq!(again["calls"]["mutating"], 0, "{again:#}");
    let down = kedactl(&[&["down"][..], &args].concat());
    assert_eq!(down["calls"]["mutating"], 6, "{down:#}");
}
