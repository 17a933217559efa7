//! Opt-in: a round trip against a REAL AWS account, never run by default or in CI.
//!   KEDACTL_E2E=1 AWS_PROFILE=sandbox AWS_REGION=us-east-1 cargo test --test e2e_real_account -- --nocapture
//! It creates uniquely named IAM roles, an SQS queue and an ECR repository (stack `e2e-<n>`),
//! checks a second `up` changes nothing, and removes them with `down`. The caller needs IAM,
//! SQS and ECR write permissions in that account. No EKS cluster is needed or touched.

mod common;
use common::real_json as kedactl;

#[test]
fn up_converge_down_in_a_real_account() {
    if std::env::var("KEDACTL_E2E").as_deref() != Ok("1") {
        eprintln!("skipped: set KEDACTL_E2E=1 (and AWS credentials) to run against a real account");
        return;
    }
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
    assert_eq!(up["calls"]["mutating"], 6, "{up:#}");
    let again = kedactl(&[&["up"][..], &args].concat());
    assert_eq!(again["calls"]["mutating"], 0, "{again:#}");
    let down = kedactl(&[&["down"][..], &args].concat());
    assert_eq!(down["calls"]["mutating"], 6, "{down:#}");
}
