//! Reading `kedactl.yaml`: bytes → YAML → JSON value → JSON-Schema check (reports every
//! unknown key and wrong type at once, with its path) → typed `Spec`.
//!
//! The schema is the one `kedactl schema` publishes, derived from the `Spec` types, so the
//! editor completion and the loader can never disagree.

use super::{Problem, Problems, Spec};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::limits::{MAX_CONFIG_BYTES, MAX_YAML_DEPTH};
use crate::yaml::dotted;

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `--config PATH`: the file must exist.
    Explicit(PathBuf),
    /// `./kedactl.yaml` when present, otherwise the embedded defaults (the seed).
    Discover,
}

pub const DEFAULT_CONFIG_FILE: &str = "kedactl.yaml";

/// The JSON Schema of `kedactl.yaml` (draft 2020-12).
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(Spec)).expect("schema serialises")
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(schema()).expect("the derived schema is valid"))
}

/// Load the spec from its source. Returns the spec, a human name of where it came from, and
/// the file's text (None for the built-in defaults), to point a problem found later at its line.
pub fn load(source: &ConfigSource) -> Result<(Spec, String, Option<String>), Problems> {
    let path: PathBuf = match source {
        ConfigSource::Explicit(p) => p.clone(),
        ConfigSource::Discover => {
            let p = PathBuf::from(DEFAULT_CONFIG_FILE);
            if !p.exists() {
                return Ok((Spec::default(), "built-in defaults".into(), None));
            }
            p
        }
    };
    let name = path.display().to_string();
    let bytes = read(&path).map_err(|p| one(&name, p))?;
    let mut spec = parse(&bytes, &name)?;
    // Chart values from a file of their own, merged under the config's (paths are the config's).
    let base = path.parent().unwrap_or(Path::new("."));
    super::keda_values::read_file(&mut spec, base).map_err(|p| one(&name, p))?;
    // `parse` took it as UTF-8; a byte-order mark is no part of line 1's key.
    let text = String::from_utf8(bytes)
        .ok()
        .map(|t| t.trim_start_matches('\u{feff}').to_string());
    Ok((spec, name, text))
}

fn read(path: &Path) -> Result<Vec<u8>, Problem> {
    use crate::limits::ReadError;
    crate::limits::read_bounded(path, MAX_CONFIG_BYTES).map_err(|e| {
        let fix = match &e {
            ReadError::Unreadable { reason, .. } if reason == "no such file" => {
                "check the path, or run `kedactl init` to write a config there"
            }
            ReadError::Unreadable { .. } => "check the file's permissions",
            ReadError::Directory { .. } => "pass the path of kedactl.yaml itself to --config",
            ReadError::NotRegular { .. } => {
                "pass a regular file to --config (save the config to a file first)"
            }
            ReadError::TooLarge { .. } => "check that --config names your kedactl.yaml",
        };
        Problem::new("(file)", e.to_string(), fix)
    })
}

fn one(source: &str, p: Problem) -> Problems {
    Problems {
        origin: source.to_string(),
        problems: vec![p],
    }
}

/// Parse config text. Structural problems (unknown keys, wrong types) are all reported together.
pub fn parse(bytes: &[u8], source: &str) -> Result<Spec, Problems> {
    let fail = |p: Problem| Err(one(source, p));
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return fail(Problem::new(
            "(file)",
            format!(
                "the config is {} bytes; a kedactl config is at most 1 MiB",
                bytes.len()
            ),
            "check that --config names your kedactl.yaml",
        ));
    }
    // A byte-order mark is how some editors start UTF-8; YAML allows it, the parser does not.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return fail(Problem::new(
            "(file)",
            "the file is not UTF-8 text (is it a binary?)",
            "pass the path of a YAML file to --config",
        ));
    };
    if text.trim().is_empty() {
        return fail(Problem::new(
            "(file)",
            "the file is empty",
            "run `kedactl init` to write a commented kedactl.yaml, or delete the empty file to use the defaults",
        ));
    }
    if let Some((depth, line)) = crate::yaml::nesting_beyond(text, MAX_YAML_DEPTH) {
        return fail(Problem::new(
            "(file)",
            format!(
                "line {line} nests {depth} levels deep; a kedactl config nests at most {MAX_YAML_DEPTH}"
            ),
            "check that --config names your kedactl.yaml (a real one nests 4 levels)",
        ));
    }
    if let Err(d) = crate::yaml::no_duplicate_keys(text) {
        return fail(Problem::new(
            d.field.clone(),
            d.to_string(),
            "keep one of them: YAML would silently use the last",
        ));
    }
    let value: Value = match crate::yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return fail(Problem::new(
                "(file)",
                format!("not valid YAML: {e}"),
                "fix the YAML syntax at the position shown",
            ));
        }
    };
    if !value.is_object() {
        return fail(Problem::new(
            "(file)",
            format!(
                "the top level is {}, not a mapping of keys",
                json_type(&value)
            ),
            "start the file with keys such as `cluster: demo` (see `kedactl init`)",
        ));
    }
    let mut problems: Vec<Problem> = validator()
        .iter_errors(&value)
        .flat_map(|e| describe(&e, &[]))
        .collect();
    not_whole(&value, &mut Vec::new(), &mut problems);
    if !problems.is_empty() {
        let mut problems = Problems {
            origin: source.to_string(),
            problems,
        };
        problems.locate(text, |_| true);
        return Err(problems);
    }
    serde_json::from_value(value).map_err(|e| {
        // Unreachable while the schema matches the types; kept as a clear error, not a panic.
        one(
            source,
            Problem::new("(file)", e.to_string(), "check the value's type"),
        )
    })
}

/// Turn one schema violation into problems with a dotted field path and a fix.
fn describe(e: &jsonschema::ValidationError<'_>, prefix: &[String]) -> Vec<Problem> {
    use jsonschema::error::ValidationErrorKind as K;
    let mut segments = prefix.to_vec();
    segments.extend(pointer_segments(e.instance_path().as_str()));
    let field = dotted(&segments);
    let instance = e.instance();
    match e.kind() {
        K::AdditionalProperties { unexpected } => {
            let known = known_keys(&segments);
            unexpected
                .iter()
                .map(|key| {
                    let path = if field.is_empty() {
                        key.clone()
                    } else {
                        format!("{field}.{key}")
                    };
                    let fix = match closest(key, &known) {
                        Some(k) => {
                            format!("did you mean `{k}`? Known keys here: {}", known.join(", "))
                        }
                        None => format!("remove it; known keys here: {}", known.join(", ")),
                    };
                    Problem::new(path, format!("unknown key `{key}`"), fix)
                })
                .collect()
        }
        K::Type { kind } => {
            let types: Vec<String> = match kind {
                jsonschema::error::TypeKind::Single(t) => vec![t.to_string()],
                jsonschema::error::TypeKind::Multiple(ts) => {
                    ts.iter().map(|t| t.to_string()).collect()
                }
            };
            // Optional fields accept null too; saying so would only confuse.
            let expected = types
                .iter()
                .filter(|t| *t != "null")
                .map(|t| type_name(t))
                .collect::<Vec<_>>()
                .join(" or ");
            let fix = if field == "account" {
                "quote the account ID: account: \"123456789012\" (unquoted, YAML reads a number and drops leading zeros)".to_string()
            } else if instance.as_str().is_some_and(|s| looks_like(s, &expected)) {
                format!("write the {expected} without quotes")
            } else {
                match expected.as_str() {
                    "integer" => "write a whole number, e.g. 10".to_string(),
                    "boolean" => "write true or false".to_string(),
                    "a mapping" => mapping_fix(&segments),
                    _ => format!("write {expected}"),
                }
            };
            let found = match short(instance) {
                s if s.is_empty() => json_type(instance).to_string(),
                s => format!("{} {s}", json_type(instance)),
            };
            vec![Problem::new(
                field,
                format!("expected {expected}, found {found}"),
                fix,
            )]
        }
        // An optional section (`anyOf: [section, null]`) that is present but wrong: say what is
        // wrong inside it rather than "not valid under any of the schemas".
        K::AnyOf { .. } if instance.is_object() || instance.is_array() => {
            let mut node = schema_at(&segments).clone();
            if let Some(obj) = node.as_object_mut() {
                obj.insert("$defs".into(), schema()["$defs"].clone());
            }
            let inner: Vec<Problem> = jsonschema::validator_for(&node)
                .map(|v| {
                    v.iter_errors(instance)
                        .flat_map(|e| describe(&e, &segments))
                        .collect()
                })
                .unwrap_or_default();
            if inner.is_empty() {
                vec![Problem::new(
                    field,
                    e.to_string(),
                    "see `kedactl schema` for the allowed values",
                )]
            } else {
                inner
            }
        }
        K::Enum { .. } | K::OneOfNotValid { .. } | K::AnyOf { .. } | K::Constant { .. } => {
            let allowed = allowed_values(schema_at(&segments));
            if allowed.is_empty() {
                return vec![Problem::new(
                    field,
                    e.to_string(),
                    "see `kedactl schema` for the allowed values",
                )];
            }
            let fix = match instance.as_str().and_then(|v| meant(v, &allowed)) {
                Some(m) => format!("did you mean `{m}`? Use one of: {}", allowed.join(", ")),
                None => format!("use one of: {}", allowed.join(", ")),
            };
            vec![Problem::new(
                field,
                format!("{} is not one of the allowed values", short(instance)),
                fix,
            )]
        }
        K::Minimum { limit } | K::Maximum { limit } => {
            let bound = if matches!(e.kind(), K::Minimum { .. }) {
                "at least"
            } else {
                "at most"
            };
            // A decimal field (a tolerance, a percentage) is a number, not a whole one.
            let ty = schema_at(&segments).get("type");
            let number = |t: &Value| t == "number";
            let kind = match ty {
                Some(Value::Array(ts)) if ts.iter().any(number) => "a number",
                Some(t) if number(t) => "a number",
                _ => "a whole number",
            };
            vec![Problem::new(
                field,
                format!("{} is out of range", short(instance)),
                format!("use {kind} {bound} {limit}"),
            )]
        }
        _ => vec![Problem::new(
            field,
            e.to_string(),
            "see `kedactl schema` for the allowed values",
        )],
    }
}

/// JSON Schema counts `1e3` (1000.0) as an integer; the typed fields do not. Name each one.
fn not_whole(value: &Value, path: &mut Vec<String>, out: &mut Vec<Problem>) {
    match value {
        Value::Number(n)
            if n.is_f64() && schema_at(path).get("type") == Some(&"integer".into()) =>
        {
            out.push(Problem::new(
                dotted(path),
                format!("expected a whole number, found {n}"),
                "write it as digits, e.g. 1000 rather than 1e3",
            ));
        }
        Value::Object(m) => {
            for (k, v) in m {
                path.push(k.clone());
                not_whole(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                not_whole(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The schema node describing the value at a path (following `$ref`s and `Option`'s anyOf).
fn schema_at(segments: &[String]) -> &'static Value {
    let root = schema();
    let resolve = |mut node: &'static Value| -> &'static Value {
        loop {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                node = &root["$defs"][r.trim_start_matches("#/$defs/")];
            } else if let Some(alt) = node.get("anyOf").and_then(Value::as_array)
                && let Some(a) = alt
                    .iter()
                    .find(|a| a.get("type") != Some(&Value::from("null")))
            {
                node = a;
            } else {
                return node;
            }
        }
    };
    let mut node = resolve(root);
    for s in segments {
        node = if s.parse::<usize>().is_ok() {
            resolve(&node["items"])
        } else if let Some(p) = node["properties"].get(s.as_str()) {
            resolve(p)
        } else {
            // A map's entry (`additionalProperties` is its values' schema).
            resolve(&node["additionalProperties"])
        };
    }
    node
}

/// The keys the schema allows at a path, for "did you mean".
fn known_keys(segments: &[String]) -> Vec<String> {
    schema_at(segments)
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The values an enum field allows (`enum`, or a `oneOf` of `const`s with descriptions).
fn allowed_values(node: &Value) -> Vec<String> {
    let text = |v: &Value| v.as_str().map_or(v.to_string(), str::to_string);
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return values.iter().map(text).collect();
    }
    node.get("oneOf")
        .and_then(Value::as_array)
        .map(|alts| {
            alts.iter()
                .filter_map(|a| a.get("const"))
                .map(text)
                .collect()
        })
        .unwrap_or_default()
}

/// Schema type names as a YAML author says them.
fn type_name(t: &str) -> &str {
    match t {
        "array" => "a list",
        "object" => "a mapping",
        other => other,
    }
}

/// How to write the mapping a field expects, shown with its keys (`stream: clickstream` →
/// "write a mapping of name, shards, existing: e.g. stream: {name: …}; Exactly one of …").
fn mapping_fix(segments: &[String]) -> String {
    let node = schema_at(segments);
    let keys: Vec<&String> = node["properties"]
        .as_object()
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    let Some(first) = keys.first() else {
        return "write a mapping (key: value lines, or {key: value})".into();
    };
    let field = segments.last().map_or("", String::as_str);
    let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let mut fix = format!(
        "write a mapping of {}: e.g. {field}: {{{first}: …}}",
        keys.join(", ")
    );
    if let Some(d) = node["description"].as_str() {
        fix.push_str(&format!(" ({})", d.trim_end_matches('.')));
    }
    fix
}

/// Whether a quoted YAML value would be the expected type without its quotes (`"10"`,
/// `"true"`), so "without quotes" is the fix; `ten` is not.
fn looks_like(s: &str, expected: &str) -> bool {
    match expected {
        "integer" => s.trim().parse::<i64>().is_ok(),
        "boolean" => matches!(s.trim(), "true" | "false"),
        _ => false,
    }
}

/// The allowed value a mistyped one meant: within edit distance 2, or the longest allowed
/// value the input holds as a word (`kinesis-stream`, KEDA's `aws-kinesis-stream` → `kinesis`).
fn meant(value: &str, allowed: &[String]) -> Option<String> {
    closest(value, allowed).or_else(|| {
        let value = value.to_ascii_lowercase();
        let words: Vec<&str> = value.split(['-', '_', ' ', '.']).collect();
        allowed
            .iter()
            .filter(|a| {
                let parts: Vec<&str> = a.split('-').collect();
                words.windows(parts.len()).any(|w| w == parts.as_slice())
            })
            .max_by_key(|a| a.len())
            .cloned()
    })
}

/// The known key within edit distance 2 (case-insensitive), if any.
fn closest(key: &str, known: &[String]) -> Option<String> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A value for a message, cut short.
fn short(v: &Value) -> String {
    let s = match v {
        Value::Array(_) | Value::Object(_) => return String::new(),
        other => other.to_string(),
    };
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(String, String)> {
        match parse(text.as_bytes(), "test.yaml") {
            Ok(_) => vec![],
            Err(p) => p
                .problems
                .into_iter()
                .map(|p| (p.field, p.message))
                .collect(),
        }
    }

    #[test]
    fn a_minimal_file_fills_the_seed_defaults() {
        let spec = parse(b"cluster: demo\n", "t").unwrap();
        assert_eq!(spec.cluster.as_deref(), Some("demo"));
        assert_eq!(spec.apps[0].queue.name, "event-messages-queue");
        assert_eq!(spec.apps[0].scaling.queue_length, 5);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_all_reported() {
        let got = problems(
            "clustr: demo\nkeda:\n  version: 2\napps:\n  - scaling:\n      minReplicas: \"1\"\n",
        );
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields.len(), 3, "{got:?}");
        assert!(fields.contains(&"clustr"));
        assert!(fields.contains(&"keda.version"));
        assert!(fields.contains(&"apps[0].scaling.minReplicas"));
    }

    #[test]
    fn a_mistyped_value_gets_the_one_it_meant() {
        let fix = |yaml: &str| {
            parse(yaml.as_bytes(), "t").unwrap_err().problems[0]
                .fix
                .clone()
        };
        for (typed, meant) in [
            ("kinesis-stream", "kinesis"),
            ("aws-kinesis-stream", "kinesis"),
            ("aws-sqs-queue", "sqs"),
            ("aws-dynamodb-streams", "dynamodb-streams"),
            ("promethues", "prometheus"),
        ] {
            let f = fix(&format!("apps:\n  - trigger: {typed}\n"));
            assert!(
                f.starts_with(&format!("did you mean `{meant}`?")),
                "{typed}: {f}"
            );
        }
        assert!(fix("apps:\n  - trigger: redis\n").starts_with("use one of: sqs"));
    }

    #[test]
    fn a_scalar_where_a_mapping_goes_is_shown_the_mapping() {
        let e = parse(
            b"apps:\n  - trigger: kinesis\n    kinesis:\n      stream: clickstream\n",
            "t",
        )
        .unwrap_err();
        let fix = &e.problems[0].fix;
        assert!(fix.contains("stream: {name: …}"), "{fix}");
        assert!(fix.contains("existing"), "{fix}");
    }

    #[test]
    fn without_quotes_only_when_the_quotes_are_the_problem() {
        let fix = |yaml: &str| {
            parse(yaml.as_bytes(), "t").unwrap_err().problems[0]
                .fix
                .clone()
        };
        assert_eq!(
            fix("apps:\n  - scaling: {maxReplicas: \"10\"}\n"),
            "write the integer without quotes"
        );
        assert_eq!(
            fix("apps:\n  - scaling: {maxReplicas: ten}\n"),
            "write a whole number, e.g. 10"
        );
        assert_eq!(
            fix("apps:\n  - scaling: {scaleOnDelayed: \"false\"}\n"),
            "write the boolean without quotes"
        );
    }

    #[test]
    fn did_you_mean() {
        let err = parse(b"apps:\n  - queue:\n      nmae: q\n", "t").unwrap_err();
        assert_eq!(err.problems[0].field, "apps[0].queue.nmae");
        assert!(
            err.problems[0].fix.contains("did you mean `name`"),
            "{}",
            err.problems[0].fix
        );
    }

    #[test]
    fn a_wrong_value_in_a_map_is_named_at_its_key_with_the_allowed_keys() {
        let text = "apps:\n  - trigger: dynamodb\n    dynamodb:\n      table: {name: orders}\n      keyConditionExpression: \"#k = :v\"\n      expressionAttributeNames: {\"#k\": k}\n      expressionAttributeValues: {\":v\": {N: 5}, \":w\": {SS: [a]}}\n      targetValue: 1\n";
        let err = parse(text.as_bytes(), "t").unwrap_err();
        let got: Vec<(&str, &str)> = err
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.fix.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "apps[0].dynamodb.expressionAttributeValues.:v.N",
                    "write string"
                ),
                (
                    "apps[0].dynamodb.expressionAttributeValues.:w.SS",
                    "did you mean `S`? Known keys here: S, N, B, BOOL, L, M, NULL"
                ),
            ]
        );
    }

    #[test]
    fn file_level_problems() {
        assert!(problems("")[0].1.contains("empty"));
        assert!(problems("- a\n- b\n")[0].1.contains("not a mapping"));
        assert!(problems("cluster: [\n")[0].1.contains("not valid YAML"));
        let err = parse(&[0xff, 0xfe, 0x00], "t").unwrap_err();
        assert!(err.problems[0].message.contains("not UTF-8"));
    }

    #[test]
    fn an_unquoted_account_gets_a_quoting_hint() {
        let err = parse(b"account: 123456789012\n", "t").unwrap_err();
        assert_eq!(err.problems[0].field, "account");
        assert!(err.problems[0].fix.contains("quote"));
    }

    #[test]
    fn numbers_beyond_int32_or_not_whole_name_their_field() {
        for (text, field) in [
            (
                "apps:\n  - scaling:\n      maxReplicas: 3000000000\n",
                "apps[0].scaling.maxReplicas",
            ),
            (
                "apps:\n  - scaling:\n      maxReplicas: 4294967296\n",
                "apps[0].scaling.maxReplicas",
            ),
            (
                "apps:\n  - scaling:\n      pollingInterval: 1e3\n",
                "apps[0].scaling.pollingInterval",
            ),
        ] {
            let got = problems(text);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(got[0].0, field, "{got:?}");
        }
    }

    #[test]
    fn a_byte_order_mark_duplicates_and_deep_nesting() {
        assert!(parse("\u{feff}cluster: demo\n".as_bytes(), "t").is_ok());
        let got = problems("cluster: a\nregion: us-east-1\ncluster: b\n");
        assert_eq!(got[0].0, "cluster");
        assert!(got[0].1.contains("line 1 and on line 3"), "{got:?}");
        let got = problems(&format!("cluster: {}\n", "[".repeat(100_000)));
        assert!(got[0].1.contains("at most 32"), "{got:?}");
    }

    proptest::proptest! {
        /// Whatever the bytes, the loader answers (a spec or problems with a field), never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            if let Err(p) = parse(&bytes, "p") {
                proptest::prop_assert!(!p.problems.is_empty());
            }
        }

        /// Text made of YAML's structure characters: nesting, anchors, duplicates, numbers.
        #[test]
        fn yaml_shaped_text_never_panics(text in "(cluster|apps|scaling|maxReplicas|queue|name|[-:\\[\\]{}&*!|>#'\",. \n0-9e])*") {
            let _ = parse(text.as_bytes(), "p");
        }
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("clustr", "cluster"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            closest("queuelenght", &["queueLength".into(), "kind".into()]).as_deref(),
            Some("queueLength")
        );
        assert_eq!(closest("zzz", &["queueLength".into()]), None);
    }
}
