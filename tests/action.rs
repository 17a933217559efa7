//! The composite GitHub Action (`action.yml` at the repository root): its interface, its
//! script run as GitHub would run it (inputs as env, outputs to $GITHUB_OUTPUT) on the built
//! binary, and actionlint over a workflow that uses it. `.ci/run` installs actionlint and sets
//! KEDACTL_REQUIRE_ACTIONLINT, so CI cannot pass without linting it.

mod common;
use common::Sandbox;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn action() -> (String, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    (text, doc)
}

#[test]
fn the_action_has_the_documented_inputs_and_outputs() {
    let (_, doc) = action();
    assert_eq!(doc["runs"]["using"], "composite");
    for input in ["command", "config", "only", "args"] {
        assert!(doc["inputs"].get(input).is_some(), "input {input}");
    }
    assert_eq!(doc["inputs"]["command"]["default"], "plan");
    for output in ["exit-code", "has-changes", "report"] {
        assert!(
            doc["outputs"][output]["value"]
                .as_str()
                .unwrap()
                .contains("steps.run.outputs"),
            "output {output}"
        );
    }
    // The `only` input names every group `--only` takes, and the description no one trigger.
    let only = doc["inputs"]["only"]["description"].as_str().unwrap();
    for group in <kedactl::model::Group as clap::ValueEnum>::value_variants() {
        let name = clap::ValueEnum::to_possible_value(group).unwrap();
        assert!(
            only.contains(name.get_name()),
            "action.yml's `only` input lists {}: {only}",
            name.get_name()
        );
    }
    let about = doc["description"].as_str().unwrap();
    assert!(!about.contains("on SQS"), "{about}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains("uses: "),
        "the README shows the Action in a workflow"
    );
}

/// The `Run kedactl` step's script, run by bash with the env GitHub would give it.
fn run_step(s: &Sandbox, inputs: &[(&str, &str)]) -> (Option<i32>, BTreeMap<String, String>) {
    run_step_with(s, inputs, &[])
}

/// `run_step` with more environment (moto's endpoint and keys).
fn run_step_with(
    s: &Sandbox,
    inputs: &[(&str, &str)],
    extra_env: &[(&str, &str)],
) -> (Option<i32>, BTreeMap<String, String>) {
    let (_, doc) = action();
    let step = doc["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["id"] == "run")
        .unwrap();
    let script = step["run"].as_str().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("kedactl");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let outputs = s.path("github_output");
    std::fs::write(&outputs, "").unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-e", "-c", script])
        .current_dir(s.path("."))
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &outputs)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("KEDACTL_CONFIG")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    // The defaults of action.yml, then the inputs given.
    let mut env: BTreeMap<&str, String> = BTreeMap::new();
    for (input, var) in [
        ("command", "KEDACTL_COMMAND"),
        ("config", "KEDACTL_CONFIG_PATH"),
        ("only", "KEDACTL_ONLY"),
        ("args", "KEDACTL_ARGS"),
        ("fail-on-changes", "KEDACTL_FAIL_ON_CHANGES"),
        ("plan-out", "KEDACTL_PLAN_OUT"),
        ("plan-file", "KEDACTL_PLAN_FILE"),
        ("report", "KEDACTL_REPORT"),
    ] {
        assert!(
            step["env"][var]
                .as_str()
                .unwrap()
                .contains(&format!("inputs.{input}")),
            "{var} carries inputs.{input}"
        );
        let default = doc["inputs"][input]["default"]
            .as_str()
            .unwrap()
            .to_string();
        let given = inputs
            .iter()
            .find(|(k, _)| *k == input)
            .map(|(_, v)| v.to_string());
        env.insert(var, given.unwrap_or(default));
    }
    cmd.envs(env);
    cmd.envs(extra_env.iter().copied());
    let out = cmd.output().unwrap();
    let text = std::fs::read_to_string(&outputs).unwrap();
    let outs = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (out.status.code(), outs)
}

/// A JSON file the step wrote into the sandbox.
fn json_file(s: &Sandbox, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(s.path(name)).unwrap()).unwrap()
}

#[test]
fn the_action_runs_kedactl_and_sets_its_outputs() {
    let s = Sandbox::new();
    let demo = "--offline --cluster demo --region us-east-1 --account 123456789012";
    // A plan with changes: exit code 5 reported, the step itself succeeds.
    let (code, outs) = run_step(&s, &[("args", demo), ("only", "queue")]);
    assert_eq!(code, Some(0), "{outs:?}");
    assert_eq!(outs["exit-code"], "5");
    assert_eq!(outs["has-changes"], "true");
    assert_eq!(outs["report"], "kedactl-report.json");
    let report = json_file(&s, "kedactl-report.json");
    assert_eq!(report["kind"], "Plan");
    assert_eq!(report["steps"].as_array().unwrap().len(), 1, "--only queue");

    // fail-on-changes: the step fails with 5.
    let (code, _) = run_step(&s, &[("args", demo), ("fail-on-changes", "true")]);
    assert_eq!(code, Some(5));

    // validate with a config file and a report path.
    s.write("stack.yaml", "cluster: demo\nregion: us-east-1\n");
    let (code, outs) = run_step(
        &s,
        &[
            ("command", "validate"),
            ("config", "stack.yaml"),
            ("report", "v.json"),
        ],
    );
    assert_eq!(code, Some(0), "{outs:?}");
    assert_eq!(outs["exit-code"], "0");
    assert_eq!(outs["has-changes"], "false");
    let report = json_file(&s, "v.json");
    assert_eq!(report["valid"], true);

    // A failure is the step's failure, with its code as the output.
    let (code, outs) = run_step(&s, &[("command", "validate"), ("config", "missing.yaml")]);
    assert_eq!(code, Some(3));
    assert_eq!(outs["exit-code"], "3");

    // An unknown command is refused before kedactl runs.
    let (code, outs) = run_step(&s, &[("command", "down")]);
    assert_eq!(code, Some(2));
    assert!(outs.is_empty());
}

/// Issue 34: one step plans to a file, a later one applies exactly it; a stale file fails the
/// step with exit 5 (up's 5 is no "changes" to forgive).
#[test]
fn the_action_saves_a_plan_and_a_later_step_applies_exactly_it() {
    let s = Sandbox::new();
    // A saved plan for another config: refused before any call, and the step fails.
    let stale = serde_json::json!({
        "apiVersion": "kedactl.io/v1alpha1", "kind": "SavedPlan",
        "kedactl": env!("CARGO_PKG_VERSION"), "stack": "kedactl", "cluster": "demo",
        "region": "us-east-1", "account": "123456789012",
        "config": {"sha256": "0", "fields": {}}, "observed": {}, "steps": []
    });
    s.write("stale.json", stale.to_string());
    let demo = "--cluster demo --region us-east-1";
    let (code, outs) = run_step(
        &s,
        &[
            ("command", "up"),
            ("args", demo),
            ("plan-file", "stale.json"),
        ],
    );
    assert_eq!(code, Some(5), "{outs:?}");
    assert_eq!(outs["exit-code"], "5");
    assert_eq!(outs["has-changes"], "false");
    let report = json_file(&s, "kedactl-report.json");
    assert_eq!(report["kind"], "Error");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("the plan is stale"),
        "{report:#}"
    );

    // The whole flow, on moto.
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let stack = common::unique("action-plan");
    common::moto_cluster(&endpoint, "demo");
    let args = format!(
        "--cluster demo --region us-east-1 --stack {stack} --operator-role {stack}-op \
         --identity-role {stack}-id --queue {stack}-q --repository {stack}-repo"
    );
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("KEDACTL_TRUST_WATCH", "2"),
    ];
    let aws_groups = ("only", "iam,queue,registry");
    let (code, outs) = run_step_with(
        &s,
        &[("args", &args), aws_groups, ("plan-out", "saved.json")],
        &env,
    );
    assert_eq!(
        (code, outs["exit-code"].as_str()),
        (Some(0), "5"),
        "{outs:?}"
    );
    let saved = json_file(&s, "saved.json");
    assert_eq!(saved["kind"], "SavedPlan");
    let (code, outs) = run_step_with(
        &s,
        &[
            ("command", "up"),
            ("args", &args),
            aws_groups,
            ("plan-file", "saved.json"),
        ],
        &env,
    );
    assert_eq!(code, Some(0), "{outs:?}");
    assert_eq!(outs["has-changes"], "true");
    let (code, outs) = run_step_with(&s, &[("args", &args), aws_groups], &env);
    assert_eq!(
        (code, outs["exit-code"].as_str()),
        (Some(0), "0"),
        "applied: {outs:?}"
    );
    let down = s
        .kedactl(format!("down --yes --only iam,queue,registry {args}").split_whitespace())
        .envs(env)
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", common::stderr(&down));
}

const WORKFLOW: &str = "\
name: stack
on:
  pull_request:
jobs:
  plan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - id: kedactl
        uses: ./
        with:
          command: plan
          only: iam,queue
          args: --cluster demo
      - run: echo \"${{ steps.kedactl.outputs.exit-code }} ${{ steps.kedactl.outputs.has-changes }}\"
";

#[test]
fn actionlint_accepts_a_workflow_using_the_action() {
    let required = std::env::var_os("KEDACTL_REQUIRE_ACTIONLINT").is_some_and(|v| !v.is_empty());
    let probe = std::process::Command::new("actionlint")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "KEDACTL_REQUIRE_ACTIONLINT is set but actionlint does not run (see .ci/run)"
        );
        eprintln!("skipped: actionlint is not installed (see .ci/run)");
        return;
    }
    let (text, _) = action();
    let lint = |workflow: &str| {
        let s = Sandbox::new();
        std::fs::create_dir_all(s.path(".github/workflows")).unwrap();
        s.write("action.yml", &text);
        s.write(".github/workflows/stack.yml", workflow);
        // actionlint finds the repository by its .git.
        std::fs::create_dir_all(s.path(".git")).unwrap();
        let out = std::process::Command::new("actionlint")
            .args(["-no-color", "-shellcheck=", ".github/workflows/stack.yml"])
            .current_dir(s.path("."))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, report) = lint(WORKFLOW);
    assert!(ok, "{report}");
    // actionlint reads action.yml: an input it does not declare is an error.
    let (ok, report) = lint(&WORKFLOW.replace("only: iam,queue", "groups: iam,queue"));
    assert!(!ok && report.contains("groups"), "{report}");
    // So is an output it does not declare.
    let (ok, report) = lint(&WORKFLOW.replace("outputs.has-changes", "outputs.changed"));
    assert!(!ok && report.contains("changed"), "{report}");
}

/// The GitLab CI example's kedactl command lines parse: a renamed flag breaks this test.
#[test]
fn the_gitlab_example_uses_real_flags() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/gitlab-ci.yml"))
        .unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let mut checked = 0;
    for (_, job) in doc.as_object().unwrap() {
        for line in job["script"].as_array().into_iter().flatten() {
            let line = line.as_str().unwrap();
            let Some(rest) = line.strip_prefix("kedactl ") else {
                continue;
            };
            let args = rest.split(['>', '|']).next().unwrap();
            let argv = std::iter::once("kedactl").chain(args.split_whitespace());
            kedactl::cli::command()
                .try_get_matches_from(argv)
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 5, "validate, plan (2), doctor, up");
    assert!(text.contains("junit: doctor.xml"));
}
