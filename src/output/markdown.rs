//! Markdown for pull-request comments (`plan -o markdown`): a heading, one table row per step
//! (action, group, resource, change, old → new), the conflicts, and the summary line.

use crate::plan::{Change, Conflicts, Plan};
use crate::render::Desired;

/// A table cell: pipes escaped, line breaks as `<br>`, `<`/`>`/`&` as entities (a policy
/// statement can hold them; GitHub would read them as HTML).
pub fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

fn action(c: Change) -> &'static str {
    match c {
        Change::Create => "+ create",
        Change::Update => "~ change",
        Change::Delete => "- delete",
        Change::Run => "> run",
    }
}

/// The plan as one Markdown document.
pub fn plan(d: &Desired, plan: &Plan, against: &str, conflicts: &Conflicts) -> String {
    let mut out = format!(
        "### kedactl plan: stack `{}` on cluster `{}` ({}, account {})\n\n{} {against}.\n\n",
        d.stack,
        d.cluster,
        d.target.region,
        d.target.account_or_placeholder(),
        if plan.is_empty() {
            "No changes"
        } else {
            "Changes"
        },
    );
    if !plan.is_empty() {
        out.push_str("| # | action | group | resource | change | old → new |\n");
        out.push_str("|--:|---|---|---|---|---|\n");
        for (i, s) in plan.steps.iter().enumerate() {
            // The step id without its group prefix: `role/keda-operator`, `Deployment/security/q-read`.
            let resource = s.id.split_once(':').map_or(s.id.as_str(), |(_, r)| r);
            let changes: Vec<String> = s.changes.iter().map(|c| c.line()).collect();
            out.push_str(&format!(
                "| {} | {} | {} | `{}` | {} | {} |\n",
                i + 1,
                action(s.change),
                s.group.as_str(),
                resource.replace('`', "'").replace('|', "\\|"),
                cell(&s.summary),
                cell(&changes.join("\n")),
            ));
        }
        out.push('\n');
    }
    if !conflicts.conflicts.is_empty() {
        out.push_str(&format!(
            "**Not planned:** kedactl will not change {} resource{}, so `up` would stop before any step:\n\n",
            conflicts.conflicts.len(),
            if conflicts.conflicts.len() == 1 { "" } else { "s" }
        ));
        for c in &conflicts.conflicts {
            out.push_str(&format!(
                "- ⚠️ {}: {}\n",
                cell(&c.resource),
                cell(&c.reason)
            ));
        }
        out.push('\n');
    }
    let c = plan.counts();
    out.push_str(&format!(
        "**Plan:** {} to create, {} to change, {} to delete, {} to run.\n",
        c.create, c.update, c.delete, c.run
    ));
    out
}
