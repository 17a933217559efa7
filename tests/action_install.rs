//! Issue 40: the Action installs the release binary of its own version, checked against the
//! release's SHA256SUMS, and compiles only with `install: source`. Its steps' scripts run here
//! as GitHub would run them (inputs and step outputs as environment, `$GITHUB_OUTPUT`,
//! `$GITHUB_PATH`) against a local HTTP "release" made by scripts/package.sh from a fake binary,
//! so the download and the checksum check really execute, a tampered archive included. The
//! README's install one-liner runs against the same release.

mod common;
use common::Sandbox;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn steps() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    doc["runs"]["steps"].as_array().unwrap().clone()
}

fn inputs() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    doc["inputs"].clone()
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

#[test]
fn the_action_downloads_the_release_and_compiles_only_with_install_source() {
    let inputs = inputs();
    assert_eq!(inputs["install"]["default"], "release");
    let steps = steps();
    let runs = |s: &Value, what: &str| s["run"].as_str().is_some_and(|r| r.contains(what));
    let when = |s: &Value| s["if"].as_str().unwrap_or("").replace('"', "'");
    let download = steps
        .iter()
        .position(|s| runs(s, "scripts/install.sh"))
        .expect("a step runs scripts/install.sh");
    assert_eq!(when(&steps[download]), "inputs.install == 'release'");
    // Every step that compiles (or caches for compiling) is for install: source only, and
    // comes after the download.
    let mut compiling = 0;
    for (i, step) in steps.iter().enumerate() {
        let cargo = runs(step, "cargo ")
            || step["with"]["path"]
                .as_str()
                .is_some_and(|p| p.contains(".cargo"));
        if cargo {
            compiling += 1;
            assert_eq!(when(step), "inputs.install == 'source'", "{step}");
            assert!(
                i > download,
                "step {i} compiles before the download: {step}"
            );
        }
    }
    assert_eq!(compiling, 2, "the cargo cache and the build");
    // The release binary is cached by version and target, not rebuilt or re-downloaded.
    let cache = steps
        .iter()
        .position(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache@"))
                && when(s) == "inputs.install == 'release'"
        })
        .expect("the release binary is cached");
    assert!(cache < download);
    let key = steps[cache]["with"]["key"].as_str().unwrap();
    assert!(
        key.contains("outputs.version") && key.contains("outputs.target"),
        "{key}"
    );
}

/// A step's `${{ … }}` expressions, from `ctx` (a test that meets one it does not know fails:
/// the step uses something this test does not give it).
fn eval(value: &str, ctx: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").unwrap() + i;
        let expr = rest[i + 3..end].trim();
        out.push_str(
            ctx.get(expr)
                .unwrap_or_else(|| panic!("no value for ${{{{ {expr} }}}} in this test")),
        );
        rest = &rest[end + 2..];
    }
    out + rest
}

struct Runner {
    s: Sandbox,
    /// GitHub's own variables for the step (RUNNER_OS, GITHUB_ACTION_PATH, …).
    env: BTreeMap<String, String>,
    /// `inputs.*` and `steps.*.outputs.*` for the steps' expressions.
    ctx: BTreeMap<String, String>,
}

struct StepRun {
    ok: bool,
    log: String,
    outputs: BTreeMap<String, String>,
    path: Vec<String>,
}

impl Runner {
    fn new(server: &str, with: &[(&str, &str)]) -> Runner {
        let s = Sandbox::new();
        // A remote action is checked out at …/_actions/OWNER/REPO/REF.
        let action = s.path("work/_actions/acme/kedactl/v1");
        std::fs::create_dir_all(action.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(root(), &action).unwrap();
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_ACTION_PATH", action.to_str().unwrap()),
            ("GITHUB_REPOSITORY", "someone/app"),
            ("GITHUB_SERVER_URL", server),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("RUNNER_TOOL_CACHE", s.path("toolcache").to_str().unwrap()),
        ] {
            env.insert(k.to_string(), v.to_string());
        }
        let mut ctx = BTreeMap::new();
        for (name, input) in inputs().as_object().unwrap() {
            let given = with.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            let value = given.or(input["default"].as_str()).unwrap_or_default();
            ctx.insert(format!("inputs.{name}"), value.to_string());
        }
        Runner { s, env, ctx }
    }

    /// Run the step with this id (or whose run script names `runs`), then keep its outputs.
    fn step(&mut self, pick: &str) -> StepRun {
        let steps = steps();
        let step = steps
            .iter()
            .find(|s| s["id"] == pick || s["run"].as_str().is_some_and(|r| r.contains(pick)))
            .unwrap_or_else(|| panic!("no step {pick}"));
        let files = ["github_output", "github_path"].map(|f| {
            let p = self.s.path(f);
            std::fs::write(&p, "").unwrap();
            p
        });
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(step["run"].as_str().unwrap())
            .current_dir(self.s.path("."))
            .envs(&self.env)
            .env("GITHUB_OUTPUT", &files[0])
            .env("GITHUB_PATH", &files[1]);
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            cmd.env(k, eval(v.as_str().unwrap(), &self.ctx));
        }
        let out = cmd.output().unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let outputs: BTreeMap<String, String> = read(&files[0])
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(id) = step["id"].as_str() {
            for (k, v) in &outputs {
                self.ctx
                    .insert(format!("steps.{id}.outputs.{k}"), v.clone());
            }
        }
        StepRun {
            ok: out.status.success(),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            outputs,
            path: read(&files[1]).lines().map(str::to_string).collect(),
        }
    }
}

/// A static file server on 127.0.0.1 (GET only), recording the paths asked for.
fn serve(dir: PathBuf) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&req)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let path = line.split(' ').nth(1).unwrap_or("/").to_string();
            log.lock().unwrap().push(path.clone());
            let file = dir.join(path.trim_start_matches('/'));
            let (status, body) = match std::fs::read(&file) {
                Ok(body) if file.is_file() => ("200 OK", body),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn
                .write_all(head.as_bytes())
                .and_then(|_| conn.write_all(&body));
        }
    });
    (url, seen)
}

/// scripts/package.sh's archive of a fake kedactl (a shell script saying `said`) for `target`,
/// into `out` (with SHA256SUMS).
fn package_fake(s: &Sandbox, target: &str, said: &str, out: &Path) {
    let version = cargo_version();
    std::fs::create_dir_all(s.path(&format!("fake-{said}"))).unwrap();
    let fake = s.write(
        &format!("fake-{said}/kedactl"),
        format!(
            "#!/bin/sh\nif [ \"$1\" = -V ]; then echo 'kedactl {version}'; else echo 'kedactl {version} (commit {said}, {target})'; fi\n"
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out_dir = out.to_str().unwrap();
    let run = Command::new("bash")
        .arg(root().join("scripts/package.sh"))
        .args([
            "--target",
            target,
            "--binary",
            fake.to_str().unwrap(),
            "--out",
            out_dir,
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn the_install_step_downloads_checks_and_caches_the_release_of_its_own_version() {
    let site = Sandbox::new();
    let version = cargo_version();
    let release = site.path(&format!("acme/kedactl/releases/download/v{version}"));
    let target = "x86_64-unknown-linux-musl";
    package_fake(&site, target, "0123456789ab", &release);
    let (server, seen) = serve(site.path("."));

    let mut gh = Runner::new(&server, &[]);
    let setup = gh.step("setup");
    assert!(setup.ok, "{}", setup.log);
    assert_eq!(
        setup.outputs["version"], version,
        "the Action's own version"
    );
    assert_eq!(setup.outputs["target"], target);
    assert_eq!(
        setup.outputs["url"],
        format!("{server}/acme/kedactl/releases/download"),
        "the Action's own repository, from its checkout path"
    );
    let install = gh.step("scripts/install.sh");
    assert!(install.ok, "{}", install.log);
    let archive = format!("kedactl-{version}-{target}.tar.gz");
    assert!(
        install.log.contains(&format!("{archive}: checksum")),
        "{}",
        install.log
    );
    let dir = &setup.outputs["dir"];
    assert_eq!(
        install.path,
        vec![dir.clone()],
        "kedactl's folder is put on PATH"
    );
    let said = Command::new(Path::new(dir).join("kedactl"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&said.stdout).contains("commit 0123456789ab"),
        "the release's binary is installed"
    );
    let base = format!("/acme/kedactl/releases/download/v{version}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![format!("{base}/{archive}"), format!("{base}/SHA256SUMS")]
    );

    // The cached binary (actions/cache restores the folder) is not downloaded again.
    let again = gh.step("scripts/install.sh");
    assert!(again.ok && again.log.contains("cached"), "{}", again.log);
    assert_eq!(seen.lock().unwrap().len(), 2);

    // A tampered archive (SHA256SUMS no longer matches) is refused, and nothing is installed.
    let other = site.path("other");
    package_fake(&site, target, "badbadbadbad", &other);
    std::fs::copy(other.join(&archive), release.join(&archive)).unwrap();
    let mut gh = Runner::new(&server, &[]);
    assert!(gh.step("setup").ok);
    let tampered = gh.step("scripts/install.sh");
    assert!(!tampered.ok, "{}", tampered.log);
    assert!(
        tampered.log.contains("checksum mismatch"),
        "{}",
        tampered.log
    );
    assert!(
        !Path::new(&gh.ctx["steps.setup.outputs.dir"])
            .join("kedactl")
            .exists()
    );
    assert!(tampered.path.is_empty());

    // A version or target not released: the step fails and says how to build instead.
    let mut gh = Runner::new(&server, &[("release-url", &format!("{server}/nowhere"))]);
    assert!(gh.step("setup").ok);
    let missing = gh.step("scripts/install.sh");
    assert!(!missing.ok);
    assert!(missing.log.contains("install: source"), "{}", missing.log);
}

#[test]
fn the_setup_step_picks_the_target_of_the_runner_and_refuses_bad_input() {
    let mut picked = Vec::new();
    for (os, arch) in [
        ("Linux", "X64"),
        ("Linux", "ARM64"),
        ("macOS", "X64"),
        ("macOS", "ARM64"),
        ("Windows", "X64"),
    ] {
        let mut gh = Runner::new("http://127.0.0.1:9", &[]);
        gh.env.insert("RUNNER_OS".into(), os.into());
        gh.env.insert("RUNNER_ARCH".into(), arch.into());
        let run = gh.step("setup");
        assert!(run.ok, "{}", run.log);
        picked.push(run.outputs["target"].clone());
    }
    assert_eq!(
        picked,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    // The targets the release workflow builds are exactly these.
    let release = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    for target in &picked {
        assert!(release.contains(&format!("target: {target}")), "{target}");
    }

    // No release build for this runner: it says to build from source.
    let mut gh = Runner::new("http://127.0.0.1:9", &[]);
    gh.env.insert("RUNNER_ARCH".into(), "ARM".into());
    let run = gh.step("setup");
    assert!(
        !run.ok && run.log.contains("install: source"),
        "{}",
        run.log
    );
    // …which it then can.
    let mut gh = Runner::new("http://127.0.0.1:9", &[("install", "source")]);
    gh.env.insert("RUNNER_ARCH".into(), "ARM".into());
    assert!(gh.step("setup").ok);

    let mut gh = Runner::new("http://127.0.0.1:9", &[("install", "binary")]);
    let run = gh.step("setup");
    assert!(!run.ok, "{}", run.log);
    assert!(
        run.log.contains("install must be release, source or path"),
        "{}",
        run.log
    );
    // Local use (uses: ./ in this repository): its own releases.
    let mut gh = Runner::new("https://github.example", &[]);
    gh.env
        .insert("GITHUB_ACTION_PATH".into(), root().to_str().unwrap().into());
    let run = gh.step("setup");
    assert_eq!(
        run.outputs["url"],
        "https://github.example/someone/app/releases/download"
    );
}

/// The README's install one-liner (and docs/install.md's copy), run against the local release:
/// it installs the binary, and a tampered archive fails `sha256sum -c` before anything is
/// installed. Its version and the Action's `@vX.Y.Z` in the README are Cargo.toml's.
#[test]
fn the_readme_one_liner_downloads_checks_and_installs_a_release() {
    let version = cargo_version();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let install = std::fs::read_to_string(root().join("docs/install.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("v=") && l.contains(" t="))
        .expect("the README's one-liner sets v=… t=…");
    let script = format!("{}\n{}\n", lines[at], lines[at + 1]);
    assert!(
        lines[at].starts_with(&format!("v={version} ")),
        "the README's one-liner installs Cargo.toml's version {version}: {}",
        lines[at]
    );
    assert!(
        install.contains(&script),
        "docs/install.md has the README's one-liner"
    );
    assert!(
        readme.contains(&format!("uses: <owner>/kedactl@v{version}")),
        "the README's Action example pins this version"
    );

    let site = Sandbox::new();
    let release = site.path(&format!("acme/kedactl/releases/download/v{version}"));
    let target = "x86_64-unknown-linux-musl";
    assert!(lines[at].contains(&format!(" t={target} ")));
    package_fake(&site, target, "0123456789ab", &release);
    let (server, _) = serve(site.path("."));
    let script = script.replace(
        "https://github.com/<owner>/kedactl/releases/download",
        &format!("{server}/acme/kedactl/releases/download"),
    );
    assert!(!script.contains("<owner>"), "{script}");
    let run = || {
        let s = Sandbox::new();
        std::fs::create_dir(s.path("home")).unwrap();
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-e", "-c", &script])
            .current_dir(s.path("."))
            .env("HOME", s.path("home"))
            .output()
            .unwrap();
        let bin = s.path("home/.local/bin/kedactl");
        let said = bin.exists().then(|| {
            let out = Command::new(&bin).arg("--version").output().unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        });
        (out, said)
    };
    let (out, said) = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.unwrap().contains("commit 0123456789ab"));

    let other = site.path("other");
    package_fake(&site, target, "badbadbadbad", &other);
    let archive = format!("kedactl-{version}-{target}.tar.gz");
    std::fs::copy(other.join(&archive), release.join(&archive)).unwrap();
    let (out, said) = run();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("FAILED"),
        "sha256sum -c reports the mismatch"
    );
    assert_eq!(said, None, "nothing installed");
}
