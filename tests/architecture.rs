//! The crate's layers, bottom to top, and the checks that keep them: no module imports from a
//! layer above its own, the modules of one layer form no cycle, and no function outside tests is
//! longer than `MAX_FN_LINES`. It reads `src/` as text (comments and string literals blanked
//! out, `#[cfg(test)]` items left out) and resolves every `crate::`, `super::`, `self::` and
//! child-module path it finds. `docs/architecture.md` shows the same order
//! (`UPDATE_DOCS=1 cargo test --test architecture` rewrites it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. A unit is a module path; `*` stands for one segment (a trigger kind). A path
/// belongs to the unit that matches the most of its leading segments.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base: data and helpers, no I/O",
        &[
            "version",
            "assets",
            "error",
            "problem",
            "yaml",
            "model",
            "limits",
            "observed",
            "pod_security",
            "templates",
            "unique",
        ],
    ),
    (
        "config: kedactl.yaml and each trigger kind's section",
        &["spec", "triggers::kind", "triggers::*::config"],
    ),
    (
        "trigger kinds, pure: policies, metadata, resources as data",
        &["triggers"],
    ),
    ("desired state: what the stack should be", &["render"]),
    (
        "decisions, pure: plans and scaling math",
        &["plan", "scaling"],
    ),
    (
        "adapters: AWS and Kubernetes calls",
        &[
            "progress",
            "cloud",
            "cluster",
            "observe",
            "exec",
            "triggers::aws",
            "triggers::*::aws",
        ],
    ),
    ("diagnosis", &["doctor"]),
    ("output formats", &["output"]),
    ("command line", &["ctx", "cli", "commands"]),
];

/// The one layer whose units may refer to each other both ways: `cli` declares each command's
/// `Args`, and the commands read the parsed global flags through `ctx`.
const CYCLES_ALLOWED: &str = "command line";

const MAX_FN_LINES: usize = 150;

#[test]
fn modules_import_only_from_their_layer_or_below_and_form_no_cycle() {
    let files = read_src(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path());
    let report = check(&files);
    println!("{}", diagram());
    let problems = report.problems();
    assert!(
        problems.is_empty(),
        "the layers do not hold:\n{}",
        problems.join("\n")
    );
}

#[test]
fn docs_architecture_shows_the_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (start, end) = ("<!-- layers -->\n", "<!-- /layers -->");
    let block = format!("{start}```text\n{}```\n{end}", diagram());
    let current = text
        .find(start)
        .zip(text.find(end))
        .map(|(s, e)| &text[s..e + end.len()]);
    if current == Some(block.as_str()) {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let new = match current {
            Some(old) => text.replace(old, &block),
            None => format!("{text}\n{block}\n"),
        };
        std::fs::write(&path, new).unwrap();
        return;
    }
    panic!(
        "docs/architecture.md does not show the layers of tests/architecture.rs; run `UPDATE_DOCS=1 cargo test --test architecture`, or paste:\n{block}"
    );
}

/// The layer order as a text diagram, top first (as one reads a stack).
fn diagram() -> String {
    let mut out = String::new();
    for (i, (what, units)) in LAYERS.iter().enumerate().rev() {
        out.push_str(&format!("{i}  {what}\n   {}\n", units.join(", ")));
        if i > 0 {
            out.push_str("   ↓ imports only from below\n");
        }
    }
    out
}

// ---- reading the source ------------------------------------------------------------------

/// `src/`'s files: (path relative to the repository, text).
fn read_src(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(dir.parent().unwrap()).unwrap();
                out.push((
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The module path of a file under `src/` (`src/a/b.rs` and `src/a/b/mod.rs` are `a::b`);
/// None for the crate roots.
fn module_of(file: &str) -> Option<Vec<String>> {
    let rel = file.strip_prefix("src/")?.strip_suffix(".rs")?;
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [one] if one == "lib" || one == "main" => None,
        _ => Some(parts),
    }
}

/// The text with comments and the contents of string and character literals replaced by
/// spaces (newlines kept, so line numbers hold).
fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let keep = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        let rest = |k: usize| at(i + k);
        if c[i] == '/' && rest(1) == '/' {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && rest(1) == '*' {
            let mut depth = 0;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(keep(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (rest(1) == '"' || (rest(1) == '#' && (rest(2) == '"' || rest(2) == '#')))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // A raw string: r"…", r#"…"#, …
            let mut hashes = 0;
            let mut j = i + 1;
            while c[j] == '#' {
                hashes += 1;
                j += 1;
            }
            out.extend(std::iter::repeat_n(' ', j - i + 1));
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                    out.extend(std::iter::repeat_n(' ', 1 + hashes));
                    j += 1 + hashes;
                    break;
                }
                out.push(keep(c[j]));
                j += 1;
            }
            i = j;
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(keep(c[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' && (rest(1) == '\\' || rest(2) == '\'') {
            // A character literal ('x', '\n', '\u{7f}'); a lifetime has no closing quote.
            out.push('\'');
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(keep(c[i]));
                i += 1;
            }
            out.push('\'');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The blanked text without its `#[cfg(test)]` items (replaced by spaces, newlines kept).
fn without_tests(text: &str) -> String {
    let mut out: Vec<char> = text.chars().collect();
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + attr.len() <= out.len() {
        if out[i..i + attr.len()] != attr[..] {
            i += 1;
            continue;
        }
        // The item ends at its first `;` outside braces, or where its first brace closes.
        let mut j = i + attr.len();
        let mut depth = 0usize;
        while j < out.len() {
            match out[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        let last = j.min(out.len() - 1);
        for ch in &mut out[i..=last] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = j;
    }
    out.into_iter().collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path the code names that starts at `crate`, `super`, `self` or one of `children`
/// (the file's own submodules), expanded through `{…}` groups, with its line.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<(Vec<String>, usize)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let boundary = i == 0 || !(is_ident(c[i - 1]) || c[i - 1] == ':' || c[i - 1] == '$');
        if boundary && is_ident(c[i]) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            let head: String = c[start..i].iter().collect();
            let rooted =
                matches!(head.as_str(), "crate" | "super" | "self") || children.contains(&head);
            if rooted && c.get(i) == Some(&':') && c.get(i + 1) == Some(&':') {
                let line = c[..start].iter().filter(|&&ch| ch == '\n').count() + 1;
                let mut found = Vec::new();
                i = tree(&c, i, vec![head], &mut found);
                out.extend(found.into_iter().map(|p| (p, line)));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Reads `::seg::seg…` or `::{a, b::c, …}` after `prefix`; returns where it stopped.
fn tree(c: &[char], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        let skip_ws = |mut k: usize| {
            while k < c.len() && c[k].is_whitespace() {
                k += 1;
            }
            k
        };
        let k = skip_ws(i);
        if !(c.get(k) == Some(&':') && c.get(k + 1) == Some(&':')) {
            out.push(prefix);
            return i;
        }
        let k = skip_ws(k + 2);
        if c.get(k) == Some(&'{') {
            let mut j = k + 1;
            loop {
                j = skip_ws(j);
                match c.get(j) {
                    Some('}') | None => return j + 1,
                    Some(',') => j += 1,
                    Some(ch) if is_ident(*ch) => {
                        let s = j;
                        while j < c.len() && is_ident(c[j]) {
                            j += 1;
                        }
                        let seg: String = c[s..j].iter().collect();
                        let mut p = prefix.clone();
                        if seg != "self" {
                            p.push(seg);
                        }
                        j = tree(c, j, p, out);
                        // `a as b`
                        let t = skip_ws(j);
                        if c[t..].starts_with(&['a', 's'])
                            && c.get(t + 2).is_some_and(|x| x.is_whitespace())
                        {
                            j = t + 2;
                            j = skip_ws(j);
                            while j < c.len() && is_ident(c[j]) {
                                j += 1;
                            }
                        }
                    }
                    Some('*') => {
                        out.push(prefix.clone());
                        j += 1;
                    }
                    Some(_) => j += 1,
                }
            }
        }
        if c.get(k) == Some(&'*') {
            out.push(prefix);
            return k + 1;
        }
        let s = k;
        let mut j = k;
        while j < c.len() && is_ident(c[j]) {
            j += 1;
        }
        if j == s {
            out.push(prefix);
            return k;
        }
        prefix.push(c[s..j].iter().collect());
        i = j;
    }
}

/// A path as written in `module`'s file, made absolute (`crate` dropped).
fn absolute(module: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    base.extend(rest.iter().cloned());
    base
}

/// The unit (`LAYERS` entry) a module path belongs to, and its layer.
fn unit_of(path: &[String]) -> Option<(&'static str, usize)> {
    let mut best: Option<(&'static str, usize, usize)> = None;
    for (layer, (_, units)) in LAYERS.iter().enumerate() {
        for unit in *units {
            let segs: Vec<&str> = unit.split("::").collect();
            let matches =
                segs.len() <= path.len() && segs.iter().zip(path).all(|(s, p)| *s == "*" || s == p);
            if matches && best.is_none_or(|(_, _, n)| segs.len() > n) {
                best = Some((unit, layer, segs.len()));
            }
        }
    }
    best.map(|(u, l, _)| (u, l))
}

// ---- the checks --------------------------------------------------------------------------

struct Import {
    from: &'static str,
    to: &'static str,
    file: String,
    line: usize,
    path: String,
}

struct Long {
    file: String,
    line: usize,
    name: String,
    lines: usize,
}

#[derive(Default)]
struct Report {
    imports: Vec<Import>,
    /// Top-level modules no layer names.
    unplaced: BTreeSet<String>,
    long: Vec<Long>,
}

fn check(files: &[(String, String)]) -> Report {
    let mut report = Report::default();
    let blanked: Vec<(&String, Option<Vec<String>>, String)> = files
        .iter()
        .map(|(file, text)| (file, module_of(file), blank(text)))
        .collect();
    let test_only = test_modules(&blanked);
    let top: BTreeSet<&str> = blanked
        .iter()
        .filter_map(|(_, m, _)| Some(m.as_ref()?[0].as_str()))
        .collect();
    for (file, module, code) in &blanked {
        if module.as_ref().is_some_and(|m| test_only.contains(m)) {
            continue;
        }
        let code = without_tests(code);
        let Some(module) = module else {
            // The crate root: every module it declares needs a layer.
            for name in declared_modules(&code) {
                if unit_of(std::slice::from_ref(&name)).is_none() {
                    report.unplaced.insert(name);
                }
            }
            continue;
        };
        let Some((from, _)) = unit_of(module) else {
            report.unplaced.insert(module[0].clone());
            continue;
        };
        let children = declared_modules(&code);
        for (path, line) in paths(&code, &children) {
            let abs = absolute(module, &path);
            if abs.is_empty() {
                continue;
            }
            match unit_of(&abs) {
                Some((to, _)) if to != from => report.imports.push(Import {
                    from,
                    to,
                    file: file.to_string(),
                    line,
                    path: abs.join("::"),
                }),
                Some(_) => {}
                // A path into the crate root's own items, or a module no layer names.
                None if abs.len() > 1 || top.contains(abs[0].as_str()) => {
                    report.unplaced.insert(abs[0].clone());
                }
                None => {}
            }
        }
        report.long.extend(long_functions(file, module, &code));
    }
    report
}

/// The names of the modules `code` declares (`mod x;`, `pub mod x;`, `mod x {`).
fn declared_modules(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "mod")?;
            Some(w.get(i + 1)?.trim_end_matches([';', '{']).to_string())
        })
        .collect()
}

/// The modules declared `#[cfg(test)] mod name;`: their files are tests, whatever they import.
fn test_modules(files: &[(&String, Option<Vec<String>>, String)]) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for (_, module, code) in files {
        let parent = module.clone().unwrap_or_default();
        for (i, _) in code.match_indices("#[cfg(test)]") {
            // `[pub[(…)]] mod name ;`, the name followed by a `;`, not a `{`.
            let rest = code[i + "#[cfg(test)]".len()..].trim_start();
            let rest = match rest.strip_prefix("pub") {
                Some(r) if r.trim_start().starts_with('(') => {
                    r.split_once(')').map_or("", |(_, after)| after)
                }
                Some(r) => r,
                None => rest,
            };
            let Some(rest) = rest.trim_start().strip_prefix("mod ") else {
                continue;
            };
            let rest = rest.trim_start();
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if rest[name.len()..].trim_start().starts_with(';') {
                let mut m = parent.clone();
                m.push(name);
                out.insert(m);
            }
        }
    }
    out
}

/// Functions whose text, from `fn` to the closing brace, is over `MAX_FN_LINES` lines.
fn long_functions(file: &str, module: &[String], code: &str) -> Vec<Long> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < c.len() {
        let at_fn = c[i] == 'f'
            && c[i + 1] == 'n'
            && c[i + 2].is_whitespace()
            && (i == 0 || !is_ident(c[i - 1]));
        if !at_fn {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < c.len() && c[j].is_whitespace() {
            j += 1;
        }
        let s = j;
        while j < c.len() && is_ident(c[j]) {
            j += 1;
        }
        let name: String = c[s..j].iter().collect();
        // The body opens at the first `{` outside parentheses and angle brackets; a `;` first
        // means a declaration without a body.
        let mut parens = 0i32;
        while j < c.len() {
            match c[j] {
                '(' | '[' => parens += 1,
                ')' | ']' => parens -= 1,
                '{' if parens == 0 => break,
                ';' if parens == 0 => break,
                _ => {}
            }
            j += 1;
        }
        if j >= c.len() || c[j] == ';' {
            i = j;
            continue;
        }
        let mut depth = 0;
        let mut k = j;
        while k < c.len() {
            match c[k] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        let line_of = |x: usize| c[..x].iter().filter(|&&ch| ch == '\n').count() + 1;
        let lines = line_of(k.min(c.len() - 1)) - line_of(i) + 1;
        if lines > MAX_FN_LINES {
            out.push(Long {
                file: file.to_string(),
                line: line_of(i),
                name: format!("{}::{name}", module.join("::")),
                lines,
            });
        }
        // Nested functions are measured too.
        i = j + 1;
    }
    out
}

impl Report {
    fn layer(unit: &str) -> usize {
        LAYERS
            .iter()
            .position(|(_, units)| units.contains(&unit))
            .unwrap()
    }

    /// What breaks the order: modules without a layer, upward imports, cycles inside a layer,
    /// and functions over `MAX_FN_LINES`.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.unplaced {
            out.push(format!(
                "module `{m}` has no layer: add it to LAYERS in tests/architecture.rs (and docs/architecture.md)"
            ));
        }
        let edge = |i: &Import| format!("{} -> {}", i.from, i.to);
        let mut first: BTreeMap<String, &Import> = BTreeMap::new();
        for i in &self.imports {
            first.entry(edge(i)).or_insert(i);
        }
        for i in &self.imports {
            if Self::layer(i.to) > Self::layer(i.from) {
                out.push(format!(
                    "{}:{}: `{}` reaches up from {} (layer {}) to {} (layer {}): move what it needs down, or the code up",
                    i.file,
                    i.line,
                    i.path,
                    i.from,
                    Self::layer(i.from),
                    i.to,
                    Self::layer(i.to)
                ));
            }
        }
        for cycle in self.cycles() {
            let shown: Vec<String> = cycle
                .windows(2)
                .map(|pair| {
                    let e = format!("{} -> {}", pair[0], pair[1]);
                    let i = first[&e];
                    format!("  {e}: {}:{} `{}`", i.file, i.line, i.path)
                })
                .collect();
            out.push(format!(
                "a cycle inside layer {}: {}\n{}",
                Self::layer(cycle[0]),
                cycle.join(" -> "),
                shown.join("\n")
            ));
        }
        out.extend(self.long.iter().map(|l| {
            format!(
                "{}:{}: `{}` is {} lines (at most {MAX_FN_LINES} outside tests): split it into functions named for what each part does",
                l.file, l.line, l.name, l.lines
            )
        }));
        out
    }

    /// Cycles between units of one layer, each as a closed walk `a -> b -> … -> a`.
    fn cycles(&self) -> Vec<Vec<&'static str>> {
        let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for i in &self.imports {
            let layer = Self::layer(i.from);
            if layer == Self::layer(i.to) && LAYERS[layer].0 != CYCLES_ALLOWED {
                graph.entry(i.from).or_default().insert(i.to);
            }
        }
        let mut out = Vec::new();
        let mut reported: BTreeSet<BTreeSet<&str>> = BTreeSet::new();
        for &start in graph.keys() {
            // The shortest way back to `start`, breadth first.
            let mut back: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut found = None;
            while let Some(n) = queue.pop_front() {
                for &m in graph.get(n).into_iter().flatten() {
                    if m == start {
                        found = Some(n);
                        break;
                    }
                    if !back.contains_key(m) {
                        back.insert(m, n);
                        queue.push_back(m);
                    }
                }
                if found.is_some() {
                    break;
                }
            }
            if let Some(mut n) = found {
                let mut walk = vec![start];
                let mut rev = vec![n];
                while n != start {
                    n = back[n];
                    if n != start {
                        rev.push(n);
                    }
                }
                walk.extend(rev.into_iter().rev());
                walk.push(start);
                let members: BTreeSet<&str> = walk.iter().copied().collect();
                if reported.insert(members) {
                    out.push(walk);
                }
            }
        }
        out
    }
}

// ---- the checker checked -----------------------------------------------------------------

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

#[test]
fn a_planted_upward_import_is_caught_with_its_file_and_line() {
    let report = check(&files(&[
        (
            "src/model.rs",
            "pub struct A;\n\nuse crate::render::Desired;\n",
        ),
        ("src/render/mod.rs", "pub struct Desired;\n"),
    ]));
    let problems = report.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "src/model.rs:3: `render::Desired` reaches up from model (layer 0) to render (layer 3)"
        ),
        "{}",
        problems[0]
    );
}

#[test]
fn every_way_of_naming_a_module_is_resolved() {
    let report = check(&files(&[
        // A group, a nested group, a rename, a path in an expression, super and a child module.
        (
            "src/spec/mod.rs",
            "mod guard;\nuse crate::{model::X, render::{self, Target as T}};\nfn f() { crate::plan::run(); guard::g(); }\n",
        ),
        (
            "src/triggers/sqs/mod.rs",
            "pub mod aws;\nfn f() { aws::read(); }\n",
        ),
        (
            "src/triggers/sqs/aws.rs",
            "use super::super::kind::Kind;\nuse super::Sqs;\n",
        ),
    ]));
    let mut seen: Vec<String> = report
        .imports
        .iter()
        .map(|i| format!("{} -> {} {}", i.from, i.to, i.path))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "spec -> model model::X",
            "spec -> plan plan::run",
            "spec -> render render",
            "spec -> render render::Target",
            "triggers -> triggers::*::aws triggers::sqs::aws::read",
            "triggers::*::aws -> triggers triggers::sqs::Sqs",
            "triggers::*::aws -> triggers::kind triggers::kind::Kind",
        ]
    );
    let problems = report.problems();
    assert!(problems.iter().any(|p| p.contains("`triggers::sqs::aws::read` reaches up from triggers (layer 2) to triggers::*::aws (layer 5)")), "{problems:?}");
}

#[test]
fn comments_strings_and_tests_are_not_code() {
    let report = check(&files(&[(
        "src/model.rs",
        concat!(
            "// crate::render::A\n/* crate::plan::B /* nested */ crate::exec::C */\n",
            "const S: &str = \"crate::doctor::D {\";\nconst R: &str = r#\"crate::cli::E \"}\"#;\n",
            "const C: char = '{';\nfn f<'a>(x: &'a str) -> &'a str { x }\n",
            "#[cfg(test)]\nmod tests { use crate::commands::F; fn g() { let _ = \"}\"; } }\n",
            "#[cfg(test)]\nuse crate::output::G;\n",
            "pub fn after() { crate::render::H; }\n",
        ),
    )]));
    let paths: Vec<&str> = report.imports.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["render::H"]);
    assert_eq!(report.imports[0].line, 11);
}

#[test]
fn a_test_module_in_its_own_file_is_not_code() {
    let report = check(&files(&[
        (
            "src/plan/mod.rs",
            "#[cfg(test)]\nmod tests;\n#[cfg(test)]\npub(crate) mod fixtures ;\n",
        ),
        ("src/plan/tests.rs", "use crate::commands::X;\n"),
        ("src/plan/fixtures/mod.rs", "use crate::doctor::Y;\n"),
        ("src/plan/real.rs", "use crate::exec::Z;\n"),
    ]));
    let paths: Vec<&str> = report.imports.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["exec::Z"]);
}

#[test]
fn a_cycle_inside_a_layer_is_caught() {
    let report = check(&files(&[
        ("src/plan/mod.rs", "use crate::scaling::Params;\n"),
        ("src/scaling/mod.rs", "fn f() { crate::plan::plan(); }\n"),
    ]));
    let problems = report.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("a cycle inside layer 4: plan -> scaling -> plan"),
        "{}",
        problems[0]
    );
}

#[test]
fn a_module_without_a_layer_is_named() {
    let report = check(&files(&[
        ("src/lib.rs", "pub mod model;\npub mod gadgets;\n"),
        ("src/gadgets.rs", "use crate::model::X;\n"),
    ]));
    assert_eq!(
        report.problems(),
        [
            "module `gadgets` has no layer: add it to LAYERS in tests/architecture.rs (and docs/architecture.md)"
        ]
    );
}

#[test]
fn a_long_function_is_measured_from_fn_to_its_closing_brace() {
    let body = "    let x = 1;\n".repeat(MAX_FN_LINES - 1);
    let text = format!(
        "trait T {{ fn declared(&self); }}\npub fn short() -> Vec<u8> {{ vec![] }}\npub fn long(a: [u8; 2]) {{\n{body}}}\n#[cfg(test)]\nmod tests {{ fn also_long() {{\n{body}{body}}} }}\n"
    );
    let report = check(&files(&[("src/plan/mod.rs", &text)]));
    let long: Vec<(String, usize, usize)> = report
        .long
        .iter()
        .map(|l| (l.name.clone(), l.line, l.lines))
        .collect();
    assert_eq!(long, [("plan::long".to_string(), 3, MAX_FN_LINES + 1)]);
    assert_eq!(
        report.problems(),
        [format!(
            "src/plan/mod.rs:3: `plan::long` is {} lines (at most {MAX_FN_LINES} outside tests): split it into functions named for what each part does",
            MAX_FN_LINES + 1
        )]
    );
}
