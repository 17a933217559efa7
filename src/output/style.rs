//! Colour and line wrapping of the text a person reads. Decided once at start-up (`init`) from
//! `--color`, `NO_COLOR` and whether stdout is a terminal; everything that builds text asks
//! `paint`, which returns the text unchanged when colour is off (pipes, files, CI logs).

use std::sync::OnceLock;

/// `--color`: when to colour the text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb
    #[default]
    Auto,
    Always,
    Never,
}

/// What a piece of text means, by the usual conventions of plans and test reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `+`, a passing check.
    Add,
    /// `~`, a warning.
    Change,
    /// `-`, a failing check.
    Delete,
    /// A heading, a code.
    Bold,
}

static COLOR: OnceLock<bool> = OnceLock::new();
static WIDTH: OnceLock<Option<usize>> = OnceLock::new();

/// Whether to colour: `never` and `always` win; `auto` colours a terminal unless `NO_COLOR` is
/// set to anything non-empty (no-color.org) or `TERM=dumb`.
pub fn decide(
    choice: ColorChoice,
    stdout_is_tty: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto => {
            stdout_is_tty && no_color.is_none_or(str::is_empty) && term != Some("dumb")
        }
    }
}

/// Set once, before any output (a second call is ignored): colour on or off, and the width
/// to wrap text at (a terminal's; none for a pipe or a file, whose lines stay whole for grep).
pub fn init(color: bool, width: Option<usize>) {
    let _ = COLOR.set(color);
    let _ = WIDTH.set(width.filter(|w| *w >= 20));
}

/// Text as it goes to stdout: wrapped at the terminal's width, if any.
pub fn fit(text: &str) -> std::borrow::Cow<'_, str> {
    match WIDTH.get().copied().flatten() {
        Some(width) => wrap(text, width).into(),
        None => text.into(),
    }
}

fn enabled() -> bool {
    COLOR.get().copied().unwrap_or(false)
}

/// `text` in the style's colour, when colour is on.
pub fn paint(text: &str, style: Style) -> String {
    if !enabled() {
        return text.to_string();
    }
    let code = match style {
        Style::Add => "32",
        Style::Change => "33",
        Style::Delete => "31",
        Style::Bold => "1",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Columns a line takes on screen: characters, without colour escapes.
fn visible(s: &str) -> usize {
    let mut n = 0;
    let mut escape = false;
    for c in s.chars() {
        match (escape, c) {
            (false, '\x1b') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Lines longer than `width` broken at spaces, each continuation indented four more than the
/// line it continues, so a wrapped plan or doctor line still reads as one item. A single word
/// longer than the line (an ARN, a URL) is left whole: breaking it would make it uncopyable.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if visible(line) <= width {
            out.push_str(line);
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let indent = " ".repeat((lead + 4).min(width / 2));
        let mut col = 0;
        let mut first = true;
        for word in line.trim_start().split(' ') {
            let w = visible(word);
            if first {
                out.push_str(&line[..lead]);
                out.push_str(word);
                col = lead + w;
                first = false;
            } else if col + 1 + w > width && col > indent.len() {
                out.push('\n');
                out.push_str(&indent);
                out.push_str(word);
                col = indent.len() + w;
            } else {
                out.push(' ');
                out.push_str(word);
                col += 1 + w;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        use ColorChoice::*;
        assert!(decide(Auto, true, None, Some("xterm-256color")));
        assert!(!decide(Auto, false, None, None), "a pipe or a file");
        assert!(!decide(Auto, true, Some("1"), None), "NO_COLOR=1");
        assert!(
            decide(Auto, true, Some(""), None),
            "an empty NO_COLOR is unset"
        );
        assert!(!decide(Auto, true, None, Some("dumb")));
        assert!(decide(Always, false, Some("1"), None));
        assert!(!decide(Never, true, None, None));
    }

    #[test]
    fn long_lines_break_at_spaces_with_a_hanging_indent() {
        let plan = "   3. ~ iam      update trust policy of IAM role keda-identity (this cluster's statements)";
        let wrapped = wrap(plan, 60);
        for l in wrapped.lines() {
            assert!(l.chars().count() <= 60, "{l:?}");
        }
        assert_eq!(
            wrapped,
            "   3. ~ iam      update trust policy of IAM role\n       keda-identity (this cluster's statements)"
        );
        // Words are never cut, and what fits is left alone.
        assert_eq!(wrap(&wrapped.replace('\n', " "), 200).lines().count(), 1);
        let arn = "  arn:aws:iam::123456789012:role/a-role-name-longer-than-the-terminal-is-wide";
        assert_eq!(wrap(arn, 30), arn);
        assert_eq!(wrap("a\n\nb", 10), "a\n\nb");
    }

    #[test]
    fn colour_escapes_take_no_columns() {
        assert_eq!(visible("\x1b[32m+\x1b[0m create"), 8);
        let line = format!("  {} {}", "\x1b[31m✗\x1b[0m", "word ".repeat(12).trim_end());
        for l in wrap(&line, 30).lines() {
            assert!(visible(l) <= 30, "{l:?}");
        }
    }
}
