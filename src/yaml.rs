//! The one place YAML is parsed and printed. serde_yaml is archived upstream (kube moved to
//! serde-saphyr in 2026); keeping it behind these two functions makes the swap a one-file change.

use serde::{Serialize, de::DeserializeOwned};

/// A YAML syntax or shape error, with the position when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(serde_yaml::Error);

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str(text).map_err(Error)
}

pub fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_yaml::to_string(value).map_err(Error)
}

/// `["apps","0","scaling"]` → `apps[0].scaling`.
pub fn dotted(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        if s.parse::<usize>().is_ok() {
            out.push_str(&format!("[{s}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(s);
        }
    }
    out
}

/// A line's content past its list markers (`- - key: v` → 2 markers, column offset 4, `key: v`).
fn after_dashes(content: &str) -> (usize, usize, &str) {
    let (mut dashes, mut rest) = (0, content);
    while let Some(r) = rest
        .strip_prefix('-')
        .filter(|r| r.is_empty() || r.starts_with(' '))
    {
        dashes += 1;
        rest = r.trim_start();
    }
    (dashes, content.len() - rest.len(), rest)
}

/// The first line where `text` nests lists and mappings deeper than `max`, with the depth
/// there. A linear scan that over- rather than under-counts (indentation levels, `- ` markers
/// and open flow brackets), so it can run before the parser, whose time grows with the square
/// of the depth.
pub fn nesting_beyond(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut indents: Vec<usize> = Vec::new();
    let (mut flow, mut quote) = (0usize, None::<char>);
    for (n, line) in text.lines().enumerate() {
        let content = line.trim_start_matches([' ', '\t']);
        let mut block = indents.len();
        if flow == 0 && quote.is_none() && !content.is_empty() && !content.starts_with('#') {
            let indent = line.len() - content.len();
            while indents.last().is_some_and(|&top| top >= indent) {
                indents.pop();
            }
            indents.push(indent);
            block = indents.len() + after_dashes(content).0;
        }
        let mut prev = ' ';
        for c in content.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '#') if prev == ' ' || prev == '\t' => break,
                (None, '"' | '\'') if "[{, :".contains(prev) => quote = Some(c),
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            if block + flow > max {
                return Some((block + flow, n + 1));
            }
            prev = c;
        }
        if block > max {
            return Some((block, n + 1));
        }
    }
    None
}

/// One line of a block-style YAML text that may hold a key: (line index, indentation, number
/// of `- ` markers, column of the content past them, the key). Blank lines, comments and the
/// text of `key: |` blocks are skipped.
struct Keyed<'a> {
    n: usize,
    col: usize,
    dashes: usize,
    key_col: usize,
    key: Option<&'a str>,
}

fn keyed<'a>(lines: &[&'a str]) -> Vec<Keyed<'a>> {
    let mut out = Vec::new();
    let mut scalar_above: Option<usize> = None;
    for (n, l) in lines.iter().enumerate() {
        let content = l.trim_start_matches(' ');
        let col = l.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(c) = scalar_above {
            if col > c {
                continue; // the text of a `key: |` block
            }
            scalar_above = None;
        }
        let (dashes, offset, rest) = after_dashes(content);
        // A plain key ends at `: ` or a `:` that ends the line (`aws:owner: me` is one key).
        let (key, value) = match rest
            .find(": ")
            .map(|i| (&rest[..i], &rest[i + 2..]))
            .or_else(|| rest.strip_suffix(':').map(|k| (k, "")))
        {
            Some((k, v)) => (Some(k.trim().trim_matches(['"', '\''])), v),
            None => (None, ""),
        };
        if key.is_some() && value.trim_start().starts_with(['|', '>']) {
            scalar_above = Some(col + offset);
        }
        out.push(Keyed {
            n,
            col,
            dashes,
            key_col: col + offset,
            key,
        });
    }
    out
}

/// A key given twice in one mapping (YAML parsers keep the last one silently).
#[derive(Debug, thiserror::Error)]
#[error("`{key}` is given twice, on line {first} and on line {second}")]
pub struct DuplicateKey {
    pub key: String,
    /// The dotted path of the key, e.g. `apps[0].queue.name`.
    pub field: String,
    pub first: usize,
    pub second: usize,
}

/// Refuse a mapping with a key given twice, naming both lines. Other syntax errors are left to
/// `from_str`, which reports them with their position.
pub fn no_duplicate_keys(text: &str) -> Result<(), DuplicateKey> {
    let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Ok(());
    };
    let message = e.to_string();
    // serde_yaml says `apps[1].queue: duplicate entry with key "name" at line 5 column 7`.
    let Some(key) = message
        .split_once("duplicate entry with key ")
        .and_then(|(_, rest)| rest.split(" at line ").next())
    else {
        return Ok(());
    };
    let key = key.trim_matches('"').trim_matches('`').to_string();
    let lines: Vec<&str> = text.lines().collect();
    // Block mappings, scanned forward: one frame per open mapping, (key column, keys → line).
    let mut frames: Vec<(usize, Vec<(String, usize)>)> = Vec::new();
    for l in keyed(&lines) {
        if l.dashes > 0 {
            // A new list item: the mappings of the previous item end here.
            frames.retain(|(c, _)| *c <= l.col);
        }
        let (Some(k), col) = (l.key, l.key_col) else {
            continue;
        };
        frames.retain(|(c, _)| *c <= col);
        if frames.last().is_none_or(|(c, _)| *c < col) {
            frames.push((col, Vec::new()));
        }
        let keys = &mut frames.last_mut().expect("pushed above").1;
        if let Some((_, first)) = keys.iter().find(|(seen, _)| seen == k) {
            if k == key {
                return Err(DuplicateKey {
                    field: field_path(&lines, l.n, col, &key),
                    key,
                    first: first + 1,
                    second: l.n + 1,
                });
            }
        } else {
            keys.push((k.to_string(), l.n));
        }
    }
    // A flow mapping (`{a: 1, a: 2}`): the parser knows the key, not the lines.
    let line = e.location().map_or(1, |l| l.line());
    Err(DuplicateKey {
        field: key.clone(),
        key,
        first: line,
        second: line,
    })
}

/// Lines of a config `line_of` reads (its walk is quadratic; a real config is a few dozen).
const LOCATABLE_LINES: usize = 5_000;

/// The line (1-based) of the block-mapping key at `field` (`apps[0].queue.name`), or of its
/// nearest parent written in the text (a missing key's mapping); None when not even the first
/// segment is there, or in flow style (`{…}`), or beyond `LOCATABLE_LINES`.
pub fn line_of(text: &str, field: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > LOCATABLE_LINES {
        return None;
    }
    // The open keys and list items above, by column: (column, segment, is an item).
    let mut frames: Vec<(usize, String, bool)> = Vec::new();
    let path = |frames: &[(usize, String, bool)]| {
        dotted(&frames.iter().map(|(_, s, _)| s.clone()).collect::<Vec<_>>())
    };
    let mut best: Option<(usize, usize)> = None;
    for l in keyed(&lines) {
        let mut found = Vec::new();
        if l.dashes > 0 {
            // The next item of the list at this column, or its first.
            while frames.last().is_some_and(|(c, ..)| *c > l.col) {
                frames.pop();
            }
            let index = match frames.last() {
                Some((c, s, true)) if *c == l.col => {
                    let next = s.parse::<usize>().unwrap_or(0) + 1;
                    frames.pop();
                    next
                }
                _ => 0,
            };
            frames.push((l.col, index.to_string(), true));
            found.push(path(&frames));
        } else {
            while frames.last().is_some_and(|(c, ..)| *c >= l.col) {
                frames.pop();
            }
        }
        if let Some(key) = l.key {
            frames.push((l.key_col, key.to_string(), false));
            found.push(path(&frames));
        }
        for p in found {
            // The path itself, or the longest of its parents (whole segments only).
            let within = field == p
                || field
                    .strip_prefix(&p)
                    .is_some_and(|rest| rest.starts_with(['.', '[']));
            if within && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), l.n + 1));
            }
        }
        if best.is_some_and(|(len, _)| len == field.len()) {
            break;
        }
    }
    best.map(|(_, line)| line)
}

/// The dotted path of the key at `line` (column `col`): its parents are the nearest lines above
/// with a smaller key column; a `- ` item's index counts its siblings above.
fn field_path(lines: &[&str], line: usize, col: usize, key: &str) -> String {
    let mut parts = vec![key.to_string()];
    let mut col = col;
    for i in (0..line).rev() {
        let l = lines[i];
        let content = l.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let at = l.len() - content.len();
        if at >= col {
            continue;
        }
        // `  - queue:` holds a key (column 4) inside a list item (column 2).
        let (dashes, offset, rest) = after_dashes(content);
        if at + offset < col
            && let Some((k, _)) = rest.split_once(':')
        {
            parts.push(k.trim().trim_matches(['"', '\'']).to_string());
            col = at + offset;
        }
        if dashes > 0 && at < col {
            // The item's index: the items above it at this column, up to the list's parent.
            let index = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let c = l.trim_start_matches(' ');
                    c.is_empty() || l.len() - c.len() >= at
                })
                .filter(|l| l.len() - l.trim_start_matches(' ').len() == at)
                .filter(|l| after_dashes(l.trim_start()).0 > 0)
                .count();
            parts.push(index.to_string());
            col = at;
        }
    }
    parts.reverse();
    dotted(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_before_parsing() {
        assert_eq!(
            nesting_beyond("cluster: demo\napps:\n  - queue:\n      name: q\n", 8),
            None
        );
        assert!(nesting_beyond(&"[".repeat(100_000), 32).is_some());
        let deep: String = (0..40)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(nesting_beyond(&deep, 32).map(|(_, line)| line), Some(33));
        assert!(nesting_beyond(&"- ".repeat(50), 32).is_some());
        // Brackets inside quotes or comments do not count.
        assert_eq!(nesting_beyond("a: \"[[[[[[\" # [[[[[[\n", 3), None);
    }

    #[test]
    fn a_field_is_found_on_its_line_or_its_parent_s() {
        let text = "# kedactl\ncluster: demo\napps:\n  - deployment: a\n    queue:\n      name: q\n  - deployment: b\n    notes: |\n      name: not a key\n    queue:\n      name: r\n    scaling:\n      maxReplicas: 0\n";
        assert_eq!(line_of(text, "cluster"), Some(2));
        assert_eq!(line_of(text, "apps[0].queue.name"), Some(6));
        assert_eq!(line_of(text, "apps[1].queue.name"), Some(11));
        assert_eq!(line_of(text, "apps[1].scaling.maxReplicas"), Some(13));
        // A key that is not written: its nearest parent that is.
        assert_eq!(line_of(text, "apps[1].scaling.minReplicas"), Some(12));
        assert_eq!(line_of(text, "apps[1]"), Some(7));
        // A prefix of a name is not its parent; nothing at all is None.
        assert_eq!(line_of(text, "clusterName"), None);
        assert_eq!(line_of(text, "region"), None);
        assert_eq!(line_of(&"a: 1\n".repeat(LOCATABLE_LINES + 1), "a"), None);
        // Items at their key's own column.
        let flat =
            "apps:\n- deployment: a\n  queue:\n    name: q\n- deployment: b\nkeda:\n  version: x\n";
        assert_eq!(line_of(flat, "apps[0].queue.name"), Some(4));
        assert_eq!(line_of(flat, "apps[1]"), Some(5));
        assert_eq!(line_of(flat, "keda.version"), Some(7));
        // A key with a colon in it (a tag key).
        let tags = "tags:\n  aws:owner: me\n  team: a\n";
        assert_eq!(line_of(tags, "tags.aws:owner"), Some(2));
        assert_eq!(line_of(tags, "tags.team"), Some(3));
    }

    #[test]
    fn duplicate_keys_name_both_lines_and_the_field() {
        let d = no_duplicate_keys("cluster: a\nregion: us-east-1\ncluster: b\n").unwrap_err();
        assert_eq!((d.field.as_str(), d.first, d.second), ("cluster", 1, 3));
        let nested = "cluster: a\napps:\n  - deployment: a\n  - deployment: b\n    queue:\n      name: q\n      visibilityTimeout: 30\n      name: r\n";
        let d = no_duplicate_keys(nested).unwrap_err();
        assert_eq!(d.field, "apps[1].queue.name");
        assert_eq!((d.first, d.second), (6, 8));
        assert!(no_duplicate_keys("apps:\n  - name: a\n  - name: b\n").is_ok());
        let d = no_duplicate_keys("apps:\n  - queue:\n      name: a\n      name: b\n").unwrap_err();
        assert_eq!(d.field, "apps[0].queue.name");
    }
}
