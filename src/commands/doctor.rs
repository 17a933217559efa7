use super::online::{self, Online};
use crate::cluster::connect;
use crate::ctx::Ctx;
use crate::doctor::{self, CATALOGUE, Evidence, Finding, Layer, Status, checks, gather};
use crate::error::{CHECKS_FAILED, SilentExit, UsageError};
use crate::limits::{self, ReadError};
use crate::model::{Group, Only};
use crate::observe;
use crate::output::{self, OutputFormat};
use crate::plan;
use crate::render::{self, Desired};
use crate::spec::{Problem, Problems};
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Find what keeps KEDA from scaling: every known cause of 403 / AssumeRole / "not scaling",
/// each with its evidence and the exact fix
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl doctor --cluster demo                    # every check, grouped by layer; exit 1 on a failure
  kedactl doctor --cluster demo -o json            # {\"checks\": [...], \"summary\": {...}} for CI
  kedactl doctor --cluster demo -o junit > doctor.xml   # a JUnit test report for CI
  kedactl doctor --cluster demo --strict           # CI: a check that could not run fails too
  kedactl doctor --cluster demo --fix              # apply the safe repairs, then check again
  kedactl doctor --cluster demo --app billing      # one app of apps[] (and what the apps share)
  kedactl doctor --explain KD010                   # what a check means and how it is detected
  kedactl doctor --list                            # the catalogue
  kedactl doctor --cluster demo --scaled-object shop/orders-scaler   # a stack built by hand
  kedactl doctor --keda-log keda.log               # classify a saved log offline
  kubectl logs -n keda deploy/keda-operator | kedactl doctor --keda-log -")]
pub struct Args {
    /// Print the catalogue of checks (code, layer, title)
    #[arg(long, conflicts_with_all = ["explain", "fix"])]
    pub list: bool,
    /// Explain one check, e.g. KD010
    #[arg(long, value_name = "CODE", conflicts_with = "fix", value_parser = CheckCode, hide_possible_values = true)]
    pub explain: Option<String>,
    /// Apply the safe repairs (through the same executor as `up`), after showing them and asking
    #[arg(long)]
    pub fix: bool,
    /// With --fix: take over same-named resources that lack this stack's tags
    #[arg(long, requires = "fix")]
    pub adopt: bool,
    /// Exit 1 when a check could not run (a read failed or was out of scope), as on a failure; for CI
    #[arg(long)]
    pub strict: bool,
    /// The ScaledObject to diagnose, when it is not the one the config renders (with several
    /// apps, name the app with --app)
    #[arg(long, value_name = "NS/NAME", value_parser = parse_ref)]
    pub scaled_object: Option<(String, String)>,
    /// Only classify the 403 / AssumeRole failures in this saved keda-operator log (`-`: stdin);
    /// reads neither AWS nor the cluster, so the other checks are not run
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "list", "explain", "scaled_object"])]
    pub keda_log: Option<PathBuf>,
}

/// `--explain`: any spelling `catalogue::find` takes (kd10), with the codes offered to shell
/// completion (a hidden list in `--help`, where 54 codes would drown the flag).
#[derive(Clone)]
struct CheckCode;

impl clap::builder::TypedValueParser for CheckCode {
    type Value = String;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(CATALOGUE.iter().map(|c| {
            clap::builder::PossibleValue::new(c.code).help(c.title)
        })))
    }
}

fn parse_ref(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!(
            "{s:?} is not NAMESPACE/NAME (e.g. security/k8s-sqs-read-msg-keda)"
        )),
    }
}

/// The layers a `--only` selection looks at (the account is always checked).
fn layers(only: &Only) -> Vec<Layer> {
    let mut out = vec![Layer::Account];
    let mut add = |g: Group, ls: &[Layer]| {
        if only.includes(g) {
            out.extend(
                ls.iter()
                    .copied()
                    .filter(|l| !out.contains(l))
                    .collect::<Vec<_>>(),
            );
        }
    };
    add(Group::Eks, &[Layer::Eks]);
    add(Group::Iam, &[Layer::Iam]);
    add(Group::Queue, &[Layer::Scaling]);
    add(Group::Source, &[Layer::Scaling]);
    add(Group::Keda, &[Layer::Keda, Layer::Cluster]);
    add(Group::App, &[Layer::Keda, Layer::Cluster, Layer::Scaling]);
    out
}

struct Diagnosis {
    spec: crate::spec::Spec,
    desired: Desired,
    evidence: Evidence,
    findings: Vec<Finding>,
    aws: crate::cloud::Aws,
    kube: Option<crate::cluster::Kube>,
    seconds: f64,
}

async fn diagnose(ctx: &Ctx, args: &Args, only: &Only) -> anyhow::Result<Diagnosis> {
    let start = Instant::now();
    let (mut spec, source) = ctx.spec_online()?;
    render::precheck(&spec)?;
    let aws = ctx.aws(spec.region.clone()).await?;
    // IRSA: the checks judge the provider and trusts of the cluster's own issuer.
    online::resolve_issuer(&aws, &mut spec, &source).await?;
    let mut e = Evidence::default();
    // Who is asking comes first: bad or absent credentials are not a permission problem, and
    // no check runs on a placeholder account.
    let caller = observe::caller(&aws)
        .await
        .context("cannot identify the AWS caller, so doctor cannot check anything")?;
    online::check_account(&spec, &caller, &source)?;
    spec.account = Some(caller.account.clone());
    let desired = render::desired(&spec)?;
    let focus = focus(ctx, args, &desired)?;
    gather::aws_side(&aws, &desired, only, caller.clone(), &mut e).await;
    // As `up` would render it: kms:Decrypt on the live queue's key.
    let desired = render::desired_with(&spec, &e.observed)?;
    if only.includes(Group::Source) && e.aws_skipped.is_none() {
        e.metric_reads = gather::metric_reads(&aws, &spec, &desired.target).await;
        e.scraped = gather::scraped(&aws, &spec, &desired.target).await;
    }
    let mut kube = None;
    if only.includes(Group::Keda) || only.includes(Group::App) {
        let cluster = match e.observed.cluster.clone() {
            Some(c) => Some(c),
            None if e.aws_skipped.is_none() => observe::describe_cluster(&aws, &desired.cluster)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let opts = online::kube_options(ctx);
        let sts = desired.target.sts_host();
        match connect::connect(&aws, &desired.cluster, cluster.as_ref(), &sts, &opts).await {
            Err(err) => e.cluster_skipped = Some(format!("cannot reach the cluster: {err:#}")),
            Ok(k) => match gather::cluster_side(&k, &desired, only, focus, &mut e).await {
                Ok(()) => kube = Some(k),
                Err(err) => {
                    let why = match err.is_denied() {
                        true => online::access_error(err, &caller, &desired).to_string(),
                        false => err.to_string(),
                    };
                    e.cluster = None;
                    e.cluster_skipped = Some(format!(
                        "no cluster access: {}",
                        why.lines().next().unwrap_or_default()
                    ));
                }
            },
        }
    } else {
        e.cluster_skipped = Some("--only leaves out keda and app".into());
    }
    if ctx.verbose > 0 {
        ctx.note(format!(
            "read AWS: {} calls in {} round trips",
            aws.calls.all().len(),
            aws.calls.rounds()
        ));
    }
    let wanted = layers(only);
    let findings = checks::run_for(&desired, &e, focus)
        .into_iter()
        .filter(|f| wanted.contains(&f.layer))
        .collect();
    Ok(Diagnosis {
        spec,
        desired,
        evidence: e,
        findings,
        aws,
        kube,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The app the global `--app` names (every app without it) and `--scaled-object`'s, checked
/// against the config's apps before any call: an unknown name is an error that lists them.
fn focus<'a>(ctx: &'a Ctx, args: &'a Args, desired: &Desired) -> anyhow::Result<doctor::Focus<'a>> {
    let f = doctor::Focus {
        app: ctx.global.overrides.app.app.as_deref(),
        scaled_object: args
            .scaled_object
            .as_ref()
            .map(|(n, s)| (n.as_str(), s.as_str())),
    };
    let names: Vec<&str> = desired.triggers.iter().map(|t| t.name.as_str()).collect();
    if let Some(app) = f.app
        && f.apps(desired).is_empty()
    {
        return Err(UsageError {
            message: format!("--app {app:?}: the config has no such app"),
            fix: format!("pass one of the config's apps: {}", names.join(", ")),
        }
        .into());
    }
    if f.scaled_object.is_some() && f.apps(desired).len() > 1 {
        return Err(UsageError {
            message: "--scaled-object names one app's scaler, and the config has several apps"
                .into(),
            fix: format!("say which with --app ({})", names.join(", ")),
        }
        .into());
    }
    Ok(f)
}

/// The mark of a status in the text listing, coloured when colour is on: a pass green, a
/// warning yellow, a failure red.
fn mark(s: Status) -> String {
    use crate::output::style::{Style, paint};
    match s {
        Status::Ok => paint("✓", Style::Add),
        Status::Warn => paint("!", Style::Change),
        Status::Fail => paint("✗", Style::Delete),
        Status::Skipped => "?".into(),
        Status::NotApplicable => "-".into(),
    }
}

/// Findings grouped by layer, each with its mark, evidence and fix; a per-app check of a
/// multi-app stack is one line, with a line under it for each app that fails or warns.
fn listing(findings: &[Finding], verbose: bool) -> String {
    let apps = doctor::summary(findings).apps.unwrap_or(0);
    if apps > 1 {
        return by_app(findings, verbose, apps);
    }
    let mut out = String::new();
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (f.layer, f.code));
    let mut layer = None;
    for f in sorted {
        if layer != Some(f.layer) {
            out.push_str(&format!("\n{}\n", f.layer.as_str()));
            layer = Some(f.layer);
        }
        let mark = mark(f.status);
        match f.status {
            Status::NotApplicable => out.push_str(&format!(
                "  {mark} {} {} (not applicable: {})\n",
                f.code,
                f.title,
                f.evidence.join("; ")
            )),
            // A skipped check's reason is printed once for every check it stopped, below.
            _ => out.push_str(&format!("  {mark} {} {}\n", f.code, f.title)),
        }
        if matches!(f.status, Status::Fail | Status::Warn) || (verbose && f.status == Status::Ok) {
            for ev in &f.evidence {
                out.push_str(&format!("      {ev}\n"));
            }
        }
        if let (Some(fix), Status::Fail | Status::Warn) = (&f.fix, f.status) {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    out.push_str(&could_not(findings));
    out
}

/// The listing of a stack with several apps: each check once, its mark the worst of its apps',
/// then one line per app that fails or warns (every app's with -v), with its evidence and fix.
fn by_app(findings: &[Finding], verbose: bool, apps: usize) -> String {
    let mut checks: Vec<(Layer, &str)> = findings.iter().map(|f| (f.layer, f.code)).collect();
    checks.sort();
    checks.dedup();
    let mut out = String::new();
    let mut layer = None;
    for (l, code) in checks {
        if layer != Some(l) {
            out.push_str(&format!("\n{}\n", l.as_str()));
            layer = Some(l);
        }
        let of: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
        // Worst first: fail, warn, skipped, ok, not applicable.
        let rank = |s: Status| match s {
            Status::Fail => 0,
            Status::Warn => 1,
            Status::Skipped => 2,
            Status::Ok => 3,
            Status::NotApplicable => 4,
        };
        let worst = of.iter().map(|f| f.status).min_by_key(|s| rank(*s));
        let worst = worst.unwrap_or(Status::Ok);
        let title = of[0].title;
        let per_app = of.iter().any(|f| f.app.is_some());
        let count = |s: Status| of.iter().filter(|f| f.status == s).count();
        let tally = match (per_app, worst) {
            (false, _) => String::new(),
            (true, Status::Fail | Status::Warn) => format!(
                " — {} of {apps} apps {}",
                count(worst),
                if worst == Status::Fail {
                    "fail"
                } else {
                    "warn"
                }
            ),
            (true, Status::NotApplicable) => String::new(),
            (true, s) => format!(
                " ({} of {apps} apps {})",
                count(s),
                match s {
                    Status::Ok => "ok",
                    _ => "could not be checked",
                }
            ),
        };
        // Not applicable anywhere, for one reason: said once.
        if worst == Status::NotApplicable && of.iter().all(|f| f.evidence == of[0].evidence) {
            out.push_str(&format!(
                "  - {code} {title} (not applicable: {})\n",
                of[0].evidence.join("; ")
            ));
            continue;
        }
        out.push_str(&format!("  {} {code} {title}{tally}\n", mark(worst)));
        for f in of {
            let shown = matches!(f.status, Status::Fail | Status::Warn)
                || (verbose && f.status == Status::Ok);
            if !shown {
                continue;
            }
            let indent = match &f.app {
                Some(app) => {
                    out.push_str(&format!(
                        "    {} {app}: {}\n",
                        mark(f.status),
                        f.evidence.join("; ")
                    ));
                    "        "
                }
                None => {
                    for ev in &f.evidence {
                        out.push_str(&format!("      {ev}\n"));
                    }
                    "      "
                }
            };
            if let (Some(fix), Status::Fail | Status::Warn) = (&f.fix, f.status) {
                out.push_str(&format!("{indent}fix: {fix}\n"));
            }
        }
    }
    out.push_str(&could_not(findings));
    out
}

/// "Could not be checked (?)": each reason once, with the checks it stopped.
fn could_not(findings: &[Finding]) -> String {
    let mut out = String::new();
    let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
    for f in findings.iter().filter(|f| f.status == Status::Skipped) {
        let why = f.evidence.join("; ");
        match reasons.iter_mut().find(|(r, _)| *r == why) {
            Some((_, codes)) if !codes.contains(&f.code) => codes.push(f.code),
            Some(_) => {}
            None => reasons.push((why, vec![f.code])),
        }
    }
    if !reasons.is_empty() {
        out.push_str("\nCould not be checked (?):\n");
        for (why, codes) in &reasons {
            out.push_str(&format!("  {}: {why}\n", codes.join(", ")));
        }
    }
    out
}

fn human(d: &Diagnosis, verbose: bool) -> String {
    let dz = &d.desired;
    let mut out = format!(
        "Doctor for stack {:?} on cluster {} ({}, account {}):\n",
        dz.stack,
        dz.cluster,
        dz.target.region,
        dz.target.account_or_placeholder()
    );
    out.push_str(&listing(&d.findings, verbose));
    let unchecked = d.unchecked();
    if !unchecked.is_empty() {
        out.push_str("\nCluster reads refused (kedactl went on without them):\n");
        for n in &unchecked {
            out.push_str(&format!("  {n}\n"));
        }
    }
    let s = doctor::summary(&d.findings);
    let fixable = d
        .findings
        .iter()
        .filter(|f| f.status != Status::Ok && !f.repairs.is_empty())
        .count();
    let (aws, kubernetes) = d.calls();
    out.push_str(&format!(
        "\nSummary: {} ok, {} warn, {} fail, {} could not be checked, {} not applicable ({:.1} s, {aws} AWS and {kubernetes} Kubernetes reads).",
        s.ok, s.warn, s.fail, s.skipped, s.not_applicable, d.seconds
    ));
    if let Some(apps) = s.apps_line().filter(|_| s.apps > Some(1)) {
        out.push_str(&format!("\n{apps}."));
    }
    if fixable > 0 {
        out.push_str(&format!(
            " `kedactl doctor --fix` repairs {fixable} of them."
        ));
    }
    out.push('\n');
    out
}

impl Diagnosis {
    /// (AWS calls, Kubernetes calls) made so far.
    fn calls(&self) -> (usize, usize) {
        let (r, m) = self
            .kube
            .as_ref()
            .map_or((0, 0), crate::cluster::Kube::calls);
        (self.aws.calls.all().len(), r + m)
    }

    /// The cluster reads refused (403) that the checks went on without, with what to grant.
    fn unchecked(&self) -> Vec<String> {
        self.kube
            .as_ref()
            .map(crate::cluster::Kube::unchecked)
            .unwrap_or_default()
    }
}

/// `doctor -o json`: every check's finding and the counts. Live, the calls it made; with
/// `--keda-log`, the log it read and the checks it could not run.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub checks: &'a [Finding],
    pub summary: doctor::Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<Calls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keda_log: Option<KedaLog<'a>>,
    /// The codes of the checks that need AWS or the cluster (`--keda-log` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<Vec<&'a str>>,
    /// Cluster reads refused (403) that the checks went on without: "could not check X: VERB
    /// RESOURCE was refused …", naming what to grant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

/// Calls a live doctor made.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Calls {
    pub aws: usize,
    pub kubernetes: usize,
}

/// The saved keda-operator log `--keda-log` read.
#[derive(Serialize, schemars::JsonSchema)]
pub struct KedaLog<'a> {
    pub source: &'a str,
    pub lines: usize,
}

/// `doctor --list -o json`: the catalogue.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Catalogue {
    pub checks: &'static [doctor::Check],
}

/// `doctor --explain CODE -o json`: one check and what it means.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Explained {
    #[serde(flatten)]
    pub check: &'static doctor::Check,
    pub explanation: &'static str,
}

/// The kinds of doctor's documents: a report, the catalogue, one check explained.
pub const KIND: &str = "Doctor";
pub const CATALOGUE_KIND: &str = "DoctorChecks";
pub const EXPLAINED_KIND: &str = "DoctorCheck";

fn report_json(d: &Diagnosis) -> anyhow::Result<()> {
    let (aws, kubernetes) = d.calls();
    output::document(
        KIND,
        &Report {
            checks: &d.findings,
            summary: doctor::summary(&d.findings),
            calls: Some(Calls { aws, kubernetes }),
            seconds: Some((d.seconds * 100.0).round() / 100.0),
            keda_log: None,
            not_run: None,
            unchecked: d.unchecked(),
        },
    )
}

fn print(ctx: &Ctx, d: &Diagnosis, strict: bool) -> anyhow::Result<()> {
    if ctx.output == OutputFormat::Junit {
        let name = format!(
            "kedactl doctor: stack {} on cluster {}",
            d.desired.stack, d.desired.cluster
        );
        let o = output::junit::Options {
            strict,
            seconds: d.seconds,
            name: &name,
        };
        return output::text(&output::junit::report(&d.findings, &[], "", o));
    }
    if ctx.json() {
        report_json(d)
    } else {
        output::prose(&human(d, ctx.verbose > 0))
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    if args.list {
        if ctx.json() {
            return output::document(CATALOGUE_KIND, &Catalogue { checks: CATALOGUE });
        }
        let lines: Vec<String> = CATALOGUE
            .iter()
            .map(|c| format!("{}  {:<8} {}", c.code, c.layer.as_str(), c.title))
            .collect();
        return output::text(&lines.join("\n"));
    }
    if let Some(code) = &args.explain {
        let Some(c) = doctor::catalogue::find(code) else {
            return Err(UsageError {
                message: format!("there is no check {code:?}"),
                fix: format!(
                    "kedactl doctor --list shows the codes (KD001 to {})",
                    CATALOGUE.last().map_or("", |c| c.code)
                ),
            }
            .into());
        };
        if ctx.json() {
            return output::document(
                EXPLAINED_KIND,
                &Explained {
                    check: c,
                    explanation: c.explain,
                },
            );
        }
        return output::prose(&format!(
            "{} ({}): {}\n\n{}",
            c.code,
            c.layer.as_str(),
            c.title,
            c.explain
        ));
    }
    if let Some(path) = &args.keda_log {
        return from_log(ctx, path);
    }
    let only = Only::new(ctx.global.only.clone());
    let mut d = diagnose(ctx, &args, &only).await?;
    if args.fix {
        let mismatched: Vec<String> = doctor::guard::mismatches(&d.desired, &d.evidence);
        if !mismatched.is_empty() {
            print(ctx, &d, args.strict)?;
            eprintln!(
                "error: doctor --fix refuses to repair anything: the config disagrees with what is live:{}\n  fix: correct the config to describe the live stack; nothing was changed",
                mismatched
                    .iter()
                    .map(|m| format!("\n  - {m}"))
                    .collect::<String>()
            );
            return Err(SilentExit(CHECKS_FAILED).into());
        }
        let plan = doctor::repair::plan(
            &d.desired,
            &d.evidence.observed,
            &d.findings,
            &plan::Options {
                adopt: args.adopt,
                only: only.clone(),
                ..Default::default()
            },
            d.kube.is_some(),
        )?;
        if plan.is_empty() {
            ctx.note("doctor --fix: nothing to repair automatically (see the fixes above)");
        } else {
            if !ctx.json() {
                output::prose(&human(&d, false))?;
                output::prose(&super::plan::human(
                    &d.desired,
                    &plan,
                    "to repair what doctor found",
                    "",
                ))?;
            }
            let on = Online {
                aws: d.aws.clone(),
                kube: d.kube.clone(),
                desired: d.desired.clone(),
                observed: d.evidence.observed.clone(),
                only: only.clone(),
                spec: d.spec.clone(),
            };
            let report = super::apply::confirm_and_execute(
                ctx,
                &on,
                &plan,
                "Repair",
                super::apply::How::default(),
            )
            .await?;
            ctx.note(format!(
                "doctor --fix: {} of {} repairs done; checking again",
                report.count(crate::exec::Status::Done),
                plan.steps.len()
            ));
            d = diagnose(ctx, &args, &only).await?;
        }
    }
    print(ctx, &d, args.strict)?;
    let failed =
        |f: &Finding| f.status == Status::Fail || (args.strict && f.status == Status::Skipped);
    if d.findings.iter().any(failed) {
        return Err(SilentExit(CHECKS_FAILED).into());
    }
    Ok(())
}

/// `--keda-log`'s text, read within `MAX_KEDA_LOG_BYTES`; a bad file is a problem with the flag.
fn read_keda_log(path: &Path) -> anyhow::Result<String> {
    let problem = |message: String, fix: &str| -> anyhow::Error {
        Problems {
            origin: "flags".into(),
            problems: vec![Problem::new("--keda-log", message, fix)],
        }
        .into()
    };
    if path == Path::new("-") && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(problem(
            "standard input is a terminal, not a log".into(),
            "pipe the log: kubectl logs deploy/keda-operator -n keda | kedactl doctor --keda-log -",
        ));
    }
    let bytes = if path == Path::new("-") {
        limits::read_stdin_bounded("standard input", limits::MAX_KEDA_LOG_BYTES)
    } else {
        limits::read_bounded(path, limits::MAX_KEDA_LOG_BYTES)
    }
    .map_err(|e| {
        let fix = match e {
            ReadError::TooLarge { .. } => {
                "pass its recent part: tail -n 100000 keda.log | kedactl doctor --keda-log -"
            }
            ReadError::Unreadable { .. } => {
                "save the log first (kubectl logs deploy/keda-operator -n keda > keda.log), or pass - to read it from standard input"
            }
            _ => "pass a regular file, or pipe the log: … | kedactl doctor --keda-log -",
        };
        problem(e.to_string(), fix)
    })?;
    // A NUL never occurs in a text log: this is a compressed archive or a binary.
    if bytes.contains(&0) {
        return Err(problem(
            format!("{} is not a text log", path.display()),
            "pass the plain log (gunzip or unzip an archived one first)",
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `doctor --keda-log`: the checks a saved keda-operator log is evidence for, with the fixes
/// the live checks give, and no AWS or cluster call. Role names come from the config and flags.
fn from_log(ctx: &Ctx, path: &Path) -> anyhow::Result<()> {
    let (spec, _) = ctx.spec_offline()?;
    let log = read_keda_log(path)?;
    // The identity role the live checks assume: the first app's (else roles.identity).
    let identity = spec.apps.first().map_or(spec.roles.identity.as_str(), |a| {
        a.identity_role(&spec.roles)
    });
    let refused = doctor::logs::refusals(&log, &spec.roles.operator, identity);
    let findings = doctor::logs::findings(
        &refused,
        (&spec.keda.namespace, &spec.keda.service_account),
        identity,
        spec.cluster.as_deref().unwrap_or("<cluster>"),
    );
    let lines = log.lines().count();
    let source = if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let not_run: Vec<&str> = CATALOGUE
        .iter()
        .map(|c| c.code)
        .filter(|c| !findings.iter().any(|f| f.code == *c))
        .collect();
    if ctx.output == OutputFormat::Junit {
        let skipped: Vec<(&str, &str, Layer)> = CATALOGUE
            .iter()
            .filter(|c| not_run.contains(&c.code))
            .map(|c| (c.code, c.title, c.layer))
            .collect();
        let why =
            format!("not run: only the KEDA log {source} was read (no AWS or cluster access)");
        let name = format!("kedactl doctor --keda-log {source}");
        let o = output::junit::Options {
            strict: false,
            seconds: 0.0,
            name: &name,
        };
        output::text(&output::junit::report(&findings, &skipped, &why, o))?;
    } else if ctx.json() {
        output::document(
            KIND,
            &Report {
                checks: &findings,
                summary: doctor::summary(&findings),
                calls: None,
                seconds: None,
                keda_log: Some(KedaLog {
                    source: &source,
                    lines,
                }),
                not_run: Some(not_run),
                unchecked: vec![],
            },
        )?;
    } else {
        let mut out = format!("KEDA log {source}: {lines} lines read");
        if findings.is_empty() {
            out.push_str(
                ", no failure a check covers found (403, AssumeRole, credentials, the Pod \
                 Identity Agent, a proxy, session tags, a missing queue or source).
",
            );
        } else {
            out.push_str(&format!(
                ", {} checks fail on what KEDA logged.
{}",
                findings.len(),
                listing(&findings, ctx.verbose > 0)
            ));
        }
        out.push_str(&format!(
            "
Only the log was read (no AWS or cluster access): {} checks were not run. \
             `kedactl doctor --cluster <name>` runs them all.\n",
            not_run.len()
        ));
        output::prose(&out)?;
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(SilentExit(CHECKS_FAILED).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_narrows_the_layers() {
        assert_eq!(layers(&Only::default()).len(), 6);
        assert_eq!(
            layers(&Only::new(vec![Group::Iam])),
            [Layer::Account, Layer::Iam]
        );
        assert_eq!(
            parse_ref("security/so"),
            Ok(("security".into(), "so".into()))
        );
        assert!(parse_ref("so").is_err());
    }
}
