//! What is wrong with the input, said the same way everywhere: the field, what is wrong, the
//! fix, and the config line when there is one. Below every module that validates something.

use serde::Serialize;
use std::fmt;

/// One thing wrong with the configuration: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// Field path, e.g. `apps[0].scaling.minReplicas`.
    pub field: String,
    pub message: String,
    pub fix: String,
    /// The line of the config file that sets `field` (or its nearest parent there), when the
    /// value came from the file (not a flag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Problem {
    pub fn new(
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            field: field.into(),
            message: message.into(),
            fix: fix.into(),
            line: None,
        }
    }
}

/// Every problem found, in the order of the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Problems {
    /// Where the configuration came from (a file path, or "flags and defaults").
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid configuration ({}): {n} problem{}",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            // `line 7: apps[0].queue.name: …`: the line first, as a compiler points.
            let line = p.line.map(|n| format!("line {n}: ")).unwrap_or_default();
            write!(
                f,
                "\n  - {line}{}: {}\n    fix: {}",
                p.field, p.message, p.fix
            )?;
        }
        Ok(())
    }
}

impl Problems {
    /// Give each problem the line of `text` that sets its field, where `from_text(field)` says
    /// the value there is the file's (a flag may have replaced it).
    pub fn locate(&mut self, text: &str, from_text: impl Fn(&str) -> bool) {
        for p in &mut self.problems {
            if p.line.is_none() && from_text(&p.field) {
                p.line = crate::yaml::line_of(text, &p.field);
            }
        }
    }
}
