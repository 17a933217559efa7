//! Progress of an execution, on stderr: a spinner per running step on a terminal, one plain line
//! per event otherwise (CI logs), nothing with --quiet or JSON output. Call sites never check.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub enum Progress {
    Spinners {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
    Lines,
    Silent,
}

impl Progress {
    pub fn new(tty: bool, quiet: bool) -> Self {
        match (quiet, tty) {
            (true, _) => Progress::Silent,
            (false, true) => Progress::Spinners {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: Mutex::new(HashMap::new()),
            },
            (false, false) => Progress::Lines,
        }
    }

    pub fn started(&self, id: &str, summary: &str) {
        match self {
            Progress::Spinners { multi, bars } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                        .expect("valid template"),
                );
                bar.set_message(summary.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut b) = bars.lock() {
                    b.insert(id.to_string(), bar);
                }
            }
            Progress::Lines => eprintln!("... {summary}"),
            Progress::Silent => {}
        }
    }

    /// A long wait's current state, e.g. "add-on status CREATING".
    pub fn waiting(&self, id: &str, summary: &str, state: &str) {
        match self {
            Progress::Spinners { bars, .. } => {
                if let Some(bar) = bars.lock().ok().and_then(|b| b.get(id).cloned()) {
                    bar.set_message(format!("{summary}: {state}"));
                }
            }
            Progress::Lines => eprintln!("    {summary}: {state}"),
            Progress::Silent => {}
        }
    }

    pub fn finished(&self, id: &str, line: &str) {
        match self {
            Progress::Spinners { multi, bars } => {
                if let Some(bar) = bars.lock().ok().and_then(|mut b| b.remove(id)) {
                    bar.finish_and_clear();
                }
                let _ = multi.println(line);
            }
            Progress::Lines => eprintln!("{line}"),
            Progress::Silent => {}
        }
    }
}
