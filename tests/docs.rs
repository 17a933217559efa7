//! The documentation says what the binary knows: the README stays short with its two set-up
//! commands first, every link resolves inside the repository, and the reference pages that list
//! things the binary knows (config fields, doctor checks, JSON kinds) are generated from it or
//! checked against it. After a change to the config model, refresh docs/configuration.md with:
//! UPDATE_DOCS=1 cargo test --test docs

mod common;
use common::{Sandbox, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const RUN: &str = "cargo run --release -- plan --offline --cluster demo --region us-east-1";
const TEST: &str = "bash .ci/run";
const GENERATED: &str = "<!-- generated from `kedactl schema` by tests/docs.rs: UPDATE_DOCS=1 cargo test --test docs -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json_of(args: &[&str]) -> Value {
    let out = Sandbox::new().kedactl(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON on stdout")
}

#[test]
fn readme_is_short_and_starts_with_its_two_set_up_commands() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(lines.len() <= 400, "README.md has {} lines", lines.len());
    for command in [RUN, TEST] {
        let at = lines.iter().position(|l| l.trim() == command);
        assert!(
            at.is_some_and(|i| i < 80),
            "`{command}` stands on its own line in the README's first 80 lines"
        );
    }
    // Exactly two set-up commands: the other blocks before "The first five minutes" are none.
    let quick = readme.split("## The first five minutes").next().unwrap();
    assert_eq!(
        quick.matches("```sh").count(),
        2,
        "the Quick start has the two set-up commands and no other"
    );
}

/// Markdown links `](target)` of a page (file and anchor), without web addresses.
fn local_links(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.starts_with("http") && !target.starts_with("mailto") {
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a.to_string())),
                None => (target, None),
            };
            out.push((file.to_string(), anchor));
        }
    }
    out
}

/// The anchors a Markdown page's headings get (GitHub's rule: lower case, punctuation but `-`
/// and `_` dropped, spaces to `-`).
fn headings(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        out.insert(slug);
    }
    out
}

#[test]
fn every_link_of_the_readme_and_docs_resolves_inside_the_repository() {
    let root = root().canonicalize().unwrap();
    let mut pages = vec![PathBuf::from("README.md"), PathBuf::from("tests/README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path.strip_prefix(&root).unwrap().to_path_buf());
        }
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = read(page.to_str().unwrap());
        let dir = root.join(page).parent().unwrap().to_path_buf();
        for (link, anchor) in local_links(&text) {
            let target = if link.is_empty() {
                root.join(page)
            } else {
                dir.join(&link)
            };
            match target.canonicalize() {
                Ok(t) if !t.starts_with(&root) => broken.push(format!(
                    "{}: {link} is outside the repository",
                    page.display()
                )),
                Ok(t) => {
                    if let Some(anchor) = anchor {
                        let text = std::fs::read_to_string(&t).unwrap_or_default();
                        if !headings(&text).contains(&anchor) {
                            broken.push(format!(
                                "{}: {link}#{anchor}: no such heading",
                                page.display()
                            ));
                        }
                    }
                }
                Err(_) => broken.push(format!("{}: {link} does not exist", page.display())),
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_doctor_page_lists_exactly_the_checks_doctor_knows() {
    let doc = json_of(&["doctor", "--list", "-o", "json"]);
    let page = read("docs/doctor.md");
    let rows: BTreeSet<String> = page
        .lines()
        .filter(|l| l.starts_with("| KD"))
        .map(str::to_string)
        .collect();
    let want: BTreeSet<String> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "| {} | {} | {} |",
                c["code"].as_str().unwrap(),
                c["layer"].as_str().unwrap(),
                c["title"].as_str().unwrap()
            )
        })
        .collect();
    let missing: Vec<_> = want.difference(&rows).collect();
    let extra: Vec<_> = rows.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/doctor.md's table differs from `doctor --list`:\nmissing {missing:#?}\nnot a check {extra:#?}"
    );
}

#[test]
fn the_json_page_names_every_kind_of_document() {
    let page = read("docs/json.md");
    let out = Sandbox::new()
        .kedactl(["schema", "--kind", "?"])
        .output()
        .unwrap();
    let err = stderr(&out);
    let list = err
        .split("[possible values: ")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .unwrap_or_else(|| panic!("clap lists the kinds: {err}"));
    for kind in list.split(", ") {
        assert!(
            page.contains(&format!("`{kind}`")),
            "docs/json.md names `{kind}`"
        );
    }
}

/// One row per field of the config: path, type, default, description.
fn field_rows(schema: &Value) -> Vec<[String; 4]> {
    let defs = &schema["$defs"];
    let mut rows = Vec::new();
    walk(defs, schema, "", &mut Vec::new(), &mut rows);
    rows
}

/// The schema a property stands for: its `$ref`, or the non-null branch of an `anyOf`.
fn resolve<'a>(defs: &'a Value, s: &'a Value) -> (&'a Value, Option<String>) {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return (&defs[name], Some(name.to_string()));
    }
    if let Some(any) = s["anyOf"].as_array()
        && let Some(one) = any.iter().find(|b| b["type"] != "null")
    {
        return resolve(defs, one);
    }
    (s, None)
}

fn type_of(defs: &Value, s: &Value) -> String {
    let (t, _) = resolve(defs, s);
    if let Some(one_of) = t["oneOf"].as_array()
        && one_of.iter().all(|b| b.get("const").is_some())
    {
        let values: Vec<String> = one_of
            .iter()
            .map(|b| format!("`{}`", b["const"].as_str().unwrap_or_default()))
            .collect();
        return values.join(" \\| ");
    }
    if let Some(values) = t["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect();
        return values.join(" \\| ");
    }
    let types: Vec<&str> = match &t["type"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| *s != "null")
            .collect(),
        _ => vec![],
    };
    match types.as_slice() {
        ["array"] => format!("list of {}", type_of(defs, &t["items"])),
        ["object"] if t.get("properties").is_none() => "map".into(),
        [] => "value".into(),
        _ => types.join(" or "),
    }
}

fn walk(defs: &Value, s: &Value, path: &str, seen: &mut Vec<String>, rows: &mut Vec<[String; 4]>) {
    let (s, name) = resolve(defs, s);
    if let Some(name) = &name {
        if seen.contains(name) {
            return; // a recursive type (a DynamoDB list of values) is described once
        }
        seen.push(name.clone());
    }
    let array = s["type"] == "array"
        || s["type"]
            .as_array()
            .is_some_and(|t| t.contains(&"array".into()));
    let (s, path) = if array {
        (resolve(defs, &s["items"]).0, format!("{path}[]"))
    } else {
        (s, path.to_string())
    };
    if let Some(props) = s["properties"].as_object() {
        for (key, prop) in props {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let text = |v: &Value| {
                v.as_str()
                    .unwrap_or_default()
                    .replace('\n', " ")
                    .replace('|', "\\|")
            };
            let description = match prop.get("description") {
                Some(d) => text(d),
                None => text(&resolve(defs, prop).0["description"]),
            };
            // An object's default is its fields' defaults, listed on their own rows.
            let default = match prop.get("default") {
                Some(d) if !d.is_object() && !d.is_array() => {
                    format!("`{}`", d.to_string().replace('|', "\\|"))
                }
                _ => String::new(),
            };
            rows.push([
                format!("`{field}`"),
                type_of(defs, prop),
                default,
                description,
            ]);
            walk(defs, prop, &field, seen, rows);
        }
    }
    if name.is_some() {
        seen.pop();
    }
}

/// The `--flags` under a help heading of `kedactl --help`.
fn flags_under(help: &str, heading: &str) -> BTreeSet<String> {
    let section = help
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("`kedactl --help` has the heading {heading}"));
    let section = section.split("\n\n\n").next().unwrap();
    let mut out = BTreeSet::new();
    for line in section
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' '))
    {
        if let Some(flag) = line.trim_start().strip_prefix("--") {
            out.insert(format!("--{}", flag.split([' ', '=']).next().unwrap()));
        }
    }
    out
}

#[test]
fn the_configuration_page_names_exactly_the_flags_that_set_fields() {
    let out = Sandbox::new().kedactl(["--help"]).output().unwrap();
    let help = stdout(&out);
    let mut want = flags_under(&help, "Stack (overrides kedactl.yaml):");
    want.extend(flags_under(
        &help,
        "App (overrides the app chosen by --app, or the only app):",
    ));
    want.remove("--app"); // chooses the app; sets no field
    let page = read("docs/configuration.md");
    let table = page
        .split("## Fields with a flag")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/configuration.md has the section \"Fields with a flag\"");
    let mut documented = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let flags = row.trim_end_matches('|').rsplit('|').next().unwrap();
        for flag in flags.split('/') {
            documented.insert(flag.trim().trim_matches('`').to_string());
        }
    }
    assert!(!want.is_empty(), "the help lists field flags: {help}");
    assert_eq!(
        documented, want,
        "docs/configuration.md's \"Fields with a flag\" table and `kedactl --help` disagree"
    );
}

#[test]
fn the_configuration_page_describes_every_field_of_the_schema() {
    let schema = json_of(&["schema"]);
    let mut table = String::from("| field | type | default | what it is |\n|---|---|---|---|\n");
    for row in field_rows(&schema) {
        table.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    let path = root().join("docs/configuration.md");
    let page = read("docs/configuration.md");
    let (head, _) = page
        .split_once(GENERATED)
        .unwrap_or_else(|| panic!("docs/configuration.md holds the marker {GENERATED}"));
    let want = format!("{head}{GENERATED}\n\n{table}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    assert!(
        page == want || std::env::var_os("UPDATE_DOCS").is_some(),
        "docs/configuration.md's field table is stale: UPDATE_DOCS=1 cargo test --test docs"
    );
    assert!(table.contains("`apps[].queue.deadLetter.maxReceiveCount`"));
}

#[test]
fn the_config_schema_names_its_definitions_for_what_they_are() {
    // An editor shows these names to the user: `Config2` says nothing, `KinesisTrigger` does.
    let schema = json_of(&["schema"]);
    let names: Vec<&String> = schema["$defs"].as_object().unwrap().keys().collect();
    for name in &names {
        let digits = name.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        assert!(
            name.as_str() != "Config"
                && (digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit())),
            "a generic schema name {name} in {names:?}"
        );
    }
    for want in [
        "PrometheusTrigger",
        "KinesisTrigger",
        "CloudWatchTrigger",
        "DynamoDbTrigger",
        "DynamoDbStreamsTrigger",
    ] {
        assert!(names.iter().any(|n| *n == want), "{want} in {names:?}");
    }
}
