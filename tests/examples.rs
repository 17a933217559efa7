//! Every example command a user can copy runs as written: the `Examples:` of `kedactl --help`
//! and of each subcommand (the man pages carry the same text), the `kedactl …` lines of the
//! README's and docs' shell blocks, and the commands in the comments of examples/*.yaml.
//!
//! Each runs in its own folder holding what the example presumes the user has: a kedactl.yaml
//! (the seed's stack for cluster `demo`), examples/, and the files it names (a trace, a saved
//! KEDA log, another config). Offline commands run to the end and must succeed. Commands that
//! need AWS or a cluster run against an endpoint that refuses every connection: they must get
//! past parsing and validation (exit 4 naming the endpoint, never the usage error 2 or the
//! configuration error 3).

mod common;
use common::{Sandbox, stderr, stdout};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Shell words of one command line, with quotes as sh reads them (no expansion needed here).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The `kedactl …` commands of a line of shell: env assignments before it, its words up to a
/// pipe, redirection, `||`, `&&` or comment. `a && kedactl b` gives both.
/// Environment assignments and arguments of one `kedactl` command.
type Command = (Vec<(String, String)>, Vec<String>);

fn commands(line: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for part in line.split("&&") {
        let mut env = Vec::new();
        let mut args = Vec::new();
        let mut seen = false;
        for w in words(part) {
            if !seen {
                if w == "kedactl" {
                    seen = true;
                } else if let Some((k, v)) = w.split_once('=')
                    && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                {
                    env.push((k.to_string(), v.to_string()));
                } else {
                    break;
                }
                continue;
            }
            if matches!(w.as_str(), "|" | ">" | ">>" | "||") || w.starts_with('#') {
                break;
            }
            args.push(w);
        }
        if seen {
            out.push((env, args));
        }
    }
    out
}

/// (where it is documented, the line) for every example.
fn documented() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut helps = vec![(String::from("kedactl --help"), vec!["--help".to_string()])];
    let cli = kedactl::cli::command();
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        helps.push((
            format!("kedactl {} --help", sub.get_name()),
            vec![sub.get_name().to_string(), "--help".into()],
        ));
    }
    for (source, args) in helps {
        let help = stdout(&Sandbox::new().kedactl(&args).output().unwrap());
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{source} has examples"));
        for line in examples
            .lines()
            .take_while(|l| l.is_empty() || l.starts_with("  "))
        {
            out.push((source.clone(), line.trim().to_string()));
        }
    }
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            pages.push(p);
        }
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        // Inside a fence whose language is a shell (or none): ```sh, ```, ```console.
        let mut fence: Option<bool> = None;
        // A line ending in `\` goes on on the next, as in sh.
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            if let Some(lang) = line.strip_prefix("```") {
                fence = match fence {
                    Some(_) => None,
                    None => Some(matches!(lang, "sh" | "" | "console")),
                };
                continue;
            }
            let line = line.trim().trim_start_matches("$ ");
            if fence == Some(true) && line.starts_with("kedactl ") {
                out.push((name(&page), line.to_string()));
            }
        }
    }
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for line in text.lines() {
            if let Some(cmd) = line.trim_start_matches('#').trim().strip_prefix("kedactl ")
                && line.starts_with('#')
            {
                out.push((name(&p), format!("kedactl {cmd}")));
            }
        }
    }
    out
}

fn name(p: &Path) -> String {
    p.strip_prefix(root()).unwrap().display().to_string()
}

const SEED: &str = "cluster: demo\nregion: us-east-1\naccount: \"123456789012\"\n";

/// The folder a user runs the example in.
fn sandbox(args: &[String]) -> Sandbox {
    let s = Sandbox::new();
    let copy = |dir: &str| {
        std::fs::create_dir_all(s.path(dir)).unwrap();
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, s.path(dir).join(p.file_name().unwrap())).unwrap();
        }
    };
    copy("examples");
    copy("docs");
    if args.first().map(String::as_str) != Some("init") {
        // `--app NAME` names an app of the user's config: give the config that app too.
        let mut config = SEED.to_string();
        if let Some(i) = args.iter().position(|a| a == "--app") {
            config.push_str(&format!(
                "apps:\n  - deployment: q-read\n  - deployment: {0}\n    namespace: {0}\n    serviceAccount: {0}\n    queue: {{name: {0}}}\n",
                args[i + 1]
            ));
        }
        s.write("kedactl.yaml", config);
    }
    s.write("staging.yaml", SEED);
    // A saved plan of the seed's stack, as `plan --out` writes it (for `up --plan FILE`).
    let plan = saved_plan();
    for file in ["plan.json", "kedactl-plan.json"] {
        s.write(file, &plan);
    }
    s.write("arrivals.csv", "t,messages\n0,10\n60,40\n120,0\n");
    s.write("query.csv", "t,value\n0,0.5\n60,3.25\n120,0\n");
    s.write(
        "keda.log",
        "2026-12-07T10:00:00Z\tINFO\tReconciling ScaledObject\t{\"ScaledObject.Namespace\": \"security\"}\n",
    );
    s.write(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\ncurrent-context: my-admin\nclusters:\n- name: demo\n  cluster: {server: \"https://127.0.0.1:9\"}\ncontexts:\n- name: my-admin\n  context: {cluster: demo, user: admin}\nusers:\n- name: admin\n  user: {token: t}\n",
    );
    s
}

/// An empty plan for the seed's config, as this kedactl saves it.
fn saved_plan() -> String {
    use kedactl::plan::saved::{KIND, SavedPlan, Target};
    let spec = kedactl::spec::parse(SEED.as_bytes(), "kedactl.yaml").unwrap();
    let target = Target {
        stack: spec.stack.clone(),
        cluster: "demo".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let config = serde_json::to_value(&spec).unwrap();
    let plan = SavedPlan::new(target, vec![], false, &config, vec![], &Default::default());
    serde_json::to_string(&kedactl::output::Document::new(KIND, &plan)).unwrap()
}

fn offline(args: &[String]) -> bool {
    let has = |f: &str| args.iter().any(|a| a == f);
    let sub = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with('-') && (*i == 0 || args[i - 1] != "-f" && args[i - 1] != "--config")
        })
        .map(|(_, a)| a.as_str());
    match sub {
        Some("render" | "validate" | "init" | "schema" | "completions" | "simulate") => true,
        Some("plan") => has("--offline"),
        Some("doctor") => has("--list") || has("--explain") || has("--keda-log"),
        _ => false,
    }
}

/// An AWS endpoint that refuses every call as AWS refuses a bad key (HTTP 403,
/// InvalidClientTokenId), so an online example stops at its first call, past parsing and
/// validation, without waiting for retries.
fn refusing_endpoint() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                let mut json = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    json |= line.to_ascii_lowercase().starts_with("x-amz-target:");
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                // In the protocol of the service asked: query (IAM, STS) or JSON (SQS, ECR, …).
                let (kind, body) = if json {
                    (
                        "application/x-amz-json-1.0",
                        r#"{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}"#,
                    )
                } else {
                    (
                        "text/xml",
                        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                         <Message>The security token included in the request is invalid.</Message>\
                         </Error><RequestId>examples</RequestId></ErrorResponse>",
                    )
                };
                let _ = write!(
                    reader.get_mut(),
                    "HTTP/1.1 403 Forbidden\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

#[test]
fn every_documented_example_runs_as_written() {
    let endpoint = refusing_endpoint();
    let examples = documented();
    assert!(examples.len() > 40, "examples found: {examples:#?}");
    let mut failed = Vec::new();
    let mut ran = (0, 0);
    for (source, line) in &examples {
        for (env, args) in commands(line) {
            let s = sandbox(&args);
            let mut cmd = s.process(&args);
            cmd.env("KUBECONFIG", s.path("kubeconfig"))
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("KEDACTL_CONNECT_TIMEOUT", "2")
                .env("KEDACTL_CALL_TIMEOUT", "5")
                .stdin(std::fs::File::open(s.path("keda.log")).unwrap());
            for (k, v) in &env {
                if k != "AWS_ENDPOINT_URL" {
                    cmd.env(k, v);
                }
            }
            let out = cmd.output().unwrap();
            let code = out.status.code();
            let ok = if offline(&args) {
                ran.0 += 1;
                // doctor exits 1 when it finds a failing check: that is its answer, not an error.
                code == Some(0) || (code == Some(1) && args.iter().any(|a| a == "doctor"))
            } else {
                ran.1 += 1;
                code == Some(4)
                    && stderr(&out)
                        .contains("The security token included in the request is invalid")
            };
            if !ok {
                failed.push(format!(
                    "{source}: `{line}` → exit {code:?}\n{}",
                    stderr(&out).lines().take(6).collect::<Vec<_>>().join("\n")
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} documented examples fail as written:\n\n{}",
        failed.len(),
        examples.len(),
        failed.join("\n\n")
    );
    assert!(
        ran.0 > 20 && ran.1 > 15,
        "offline {} / online {}",
        ran.0,
        ran.1
    );
}
