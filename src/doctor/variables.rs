//! IAM policy variables (`${aws:PrincipalTag/queue}`, `${aws:PrincipalAccount, 'default'}`)
//! and the wildcard patterns they are substituted into. IAM replaces a variable with the
//! request's value before matching, in `Resource` and in condition values, and only in
//! policies of version 2012-10-17 (an older policy matches `${…}` as text). A substituted value
//! is literal: its `*` is not a wildcard, nor are the escapes `${*}`, `${?}`, `${$}`.

use super::conditions::{Context, Lookup};

/// One element of a pattern: a literal character, or a wildcard from the policy text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
}

/// A policy string after substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Pattern(Vec<Tok>),
    /// A variable with no value in the request and no default: matches nothing.
    NoValue(String),
    /// A variable whose value kedactl cannot know.
    Unknown(String),
}

/// Does the text use a policy variable (other than the escapes)?
pub fn has_variable(text: &str) -> bool {
    text.contains("${")
}

/// `text` with its variables replaced (`vars` false: an old-version policy, taken as text).
pub fn resolve(text: &str, ctx: &Context, vars: bool) -> Resolved {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if vars
            && rest.starts_with("${")
            && let Some(end) = rest.find('}')
        {
            let inner = &rest[2..end];
            rest = &rest[end + 1..];
            match inner.trim() {
                "*" => out.push(Tok::Lit('*')),
                "?" => out.push(Tok::Lit('?')),
                "$" => out.push(Tok::Lit('$')),
                v => {
                    let (key, default) = match v.split_once(',') {
                        Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                        None => (v, None),
                    };
                    let value = match ctx.lookup(key) {
                        Lookup::Present(vals) if vals.len() == 1 => vals[0].clone(),
                        // A multi-valued key cannot stand in a single value.
                        Lookup::Present(_) => return Resolved::NoValue(key.to_string()),
                        Lookup::Absent => match default {
                            Some(d) => d.to_string(),
                            None => return Resolved::NoValue(key.to_string()),
                        },
                        Lookup::Unknown | Lookup::Unknowable => {
                            return Resolved::Unknown(key.to_string());
                        }
                    };
                    out.extend(value.chars().map(Tok::Lit));
                }
            }
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        out.push(match c {
            '*' => Tok::Any,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Resolved::Pattern(out)
}

/// The pattern as text, its wildcards as characters (for exact comparisons).
pub fn text(p: &[Tok]) -> String {
    p.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Any => '*',
            Tok::One => '?',
        })
        .collect()
}

/// IAM wildcard match: `*` any run, `?` one character; `fold` ignores ASCII case.
pub fn matches(p: &[Tok], value: &str, fold: bool) -> bool {
    let v: Vec<char> = value.chars().collect();
    let eq = |a: char, b: char| a == b || (fold && a.eq_ignore_ascii_case(&b));
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        match p.get(pi) {
            Some(Tok::One) => {
                pi += 1;
                vi += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, v[vi]) => {
                pi += 1;
                vi += 1;
            }
            Some(Tok::Any) => {
                star = Some(pi);
                mark = vi;
                pi += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    vi = mark;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == Tok::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::default()
            .set("aws:PrincipalTag/queue", &["orders"])
            .set("aws:PrincipalAccount", &["123456789012"])
            .absent("aws:RequestTag/")
            .unknowable("aws:SourceArn")
    }

    fn show(r: Resolved) -> String {
        match r {
            Resolved::Pattern(p) => text(&p),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn variables_are_substituted_before_matching() {
        let c = ctx();
        assert_eq!(
            show(resolve(
                "arn:aws:sqs:*:${aws:PrincipalAccount}:${aws:PrincipalTag/queue}",
                &c,
                true
            )),
            "arn:aws:sqs:*:123456789012:orders"
        );
        // Keys ignore case; a default stands in for an absent key.
        assert_eq!(
            show(resolve("${AWS:principaltag/QUEUE}", &c, true)),
            "orders"
        );
        assert_eq!(
            show(resolve("q-${aws:RequestTag/team, 'none'}", &c, true)),
            "q-none"
        );
        assert_eq!(
            resolve("q-${aws:RequestTag/team}", &c, true),
            Resolved::NoValue("aws:RequestTag/team".into())
        );
        assert_eq!(
            resolve("${aws:SourceArn}", &c, true),
            Resolved::Unknown("aws:SourceArn".into())
        );
        // An old-version policy takes the text as it is.
        assert_eq!(
            show(resolve("${aws:PrincipalTag/queue}", &c, false)),
            "${aws:PrincipalTag/queue}"
        );
    }

    #[test]
    fn substituted_text_and_escapes_are_literal() {
        let c = Context::default().set("aws:PrincipalTag/queue", &["a*"]);
        let Resolved::Pattern(p) = resolve("${aws:PrincipalTag/queue}", &c, true) else {
            panic!()
        };
        assert!(matches(&p, "a*", false));
        assert!(!matches(&p, "abc", false));
        let Resolved::Pattern(p) = resolve("x${*}y*", &c, true) else {
            panic!()
        };
        assert!(matches(&p, "x*yzz", false));
        assert!(!matches(&p, "xayzz", false));
        let Resolved::Pattern(p) = resolve("Keda-?", &c, true) else {
            panic!()
        };
        assert!(matches(&p, "keda-1", true));
        assert!(!matches(&p, "keda-1", false));
    }
}
