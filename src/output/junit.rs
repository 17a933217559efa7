//! JUnit XML for CI test reports (`doctor -o junit`): one `testsuite` per layer, one
//! `testcase` per check. A failed check is a `failure` carrying its evidence and fix, a check
//! that could not run is `skipped` with its reason (a `failure` under `--strict`, as the exit
//! code says), a warning passes with its evidence in `system-out`.

use crate::doctor::{Finding, Layer, Status};

/// Text safe inside an XML element or a double-quoted attribute: the five entities escaped,
/// and the characters XML 1.0 cannot hold at all (control characters but tab and newlines)
/// dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Options of the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// `doctor --strict`: a check that could not run is a failure.
    pub strict: bool,
    /// Seconds the whole run took (per check is not measured).
    pub seconds: f64,
    /// The stack and cluster, for the top-level name.
    pub name: &'a str,
}

/// The JUnit XML document for doctor's findings. `not_run` are the checks the run did not
/// evaluate at all (`--keda-log`), reported as skipped with `why_not_run`.
pub fn report(
    findings: &[Finding],
    not_run: &[(&str, &str, Layer)],
    why_not_run: &str,
    o: Options,
) -> String {
    struct Case {
        layer: Layer,
        code: String,
        title: String,
        app: Option<String>,
        body: String,
    }
    let mut cases: Vec<Case> = Vec::new();
    let (mut failures, mut skipped) = (0usize, 0usize);
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (f.layer, f.code));
    for f in sorted {
        let evidence = f.evidence.join("\n");
        let body = match f.status {
            Status::Ok => String::new(),
            Status::Warn => format!(
                "      <system-out>{}</system-out>\n",
                escape(&with_fix(&format!("warning: {evidence}"), f.fix.as_deref()))
            ),
            Status::Fail => {
                failures += 1;
                failure(f.title, "fail", &with_fix(&evidence, f.fix.as_deref()))
            }
            Status::Skipped if o.strict => {
                failures += 1;
                failure(
                    &format!("could not be checked (--strict): {}", f.evidence.join("; ")),
                    "skipped",
                    &evidence,
                )
            }
            Status::Skipped => {
                skipped += 1;
                skip(&format!("could not be checked: {}", f.evidence.join("; ")))
            }
            Status::NotApplicable => {
                skipped += 1;
                skip(&format!("not applicable: {}", f.evidence.join("; ")))
            }
        };
        cases.push(Case {
            layer: f.layer,
            code: f.code.to_string(),
            title: f.title.to_string(),
            app: f.app.clone(),
            body,
        });
    }
    for (code, title, layer) in not_run {
        skipped += 1;
        cases.push(Case {
            layer: *layer,
            code: code.to_string(),
            title: title.to_string(),
            app: None,
            body: skip(why_not_run),
        });
    }
    // Stable: a check's apps stay in the config's order.
    cases.sort_by(|a, b| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
        escape(o.name),
        cases.len(),
        o.seconds
    ));
    let mut layers: Vec<Layer> = cases.iter().map(|c| c.layer).collect();
    layers.dedup();
    for layer in layers {
        let in_layer: Vec<&Case> = cases.iter().filter(|c| c.layer == layer).collect();
        let count = |tag: &str| in_layer.iter().filter(|c| c.body.contains(tag)).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">\n",
            layer.as_str().to_lowercase(),
            in_layer.len(),
            count("<failure "),
            count("<skipped "),
        ));
        for c in in_layer {
            // A per-app check is a test case per app: `KD015 [billing] title`.
            let app = c
                .app
                .as_ref()
                .map(|a| format!("[{}] ", escape(a)))
                .unwrap_or_default();
            let open = format!(
                "    <testcase name=\"{} {app}{}\" classname=\"kedactl.doctor.{}\" time=\"0\"",
                escape(&c.code),
                escape(&c.title),
                layer.as_str().to_lowercase()
            );
            if c.body.is_empty() {
                out.push_str(&open);
                out.push_str("/>\n");
            } else {
                out.push_str(&format!("{open}>\n{}    </testcase>\n", c.body));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn with_fix(evidence: &str, fix: Option<&str>) -> String {
    match fix {
        Some(fix) => format!("{evidence}\nfix: {fix}"),
        None => evidence.to_string(),
    }
}

fn failure(message: &str, kind: &str, text: &str) -> String {
    format!(
        "      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n",
        escape(message),
        escape(text)
    )
}

fn skip(message: &str) -> String {
    format!("      <skipped message=\"{}\"/>\n", escape(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &'static str, layer: Layer, status: Status, evidence: &str) -> Finding {
        Finding {
            code,
            title: "A <check> & \"its\" title",
            layer,
            app: None,
            status,
            evidence: vec![evidence.to_string()],
            fix: (status == Status::Fail).then(|| "kedactl up --only iam".to_string()),
            repairs: vec![],
        }
    }

    #[test]
    fn one_testcase_per_check_with_failures_and_skips() {
        let findings = vec![
            finding(
                "KD010",
                Layer::Iam,
                Status::Fail,
                "trust lacks sts:TagSession\u{1b}[0m",
            ),
            finding("KD001", Layer::Eks, Status::Ok, "ACTIVE"),
            finding(
                "KD002",
                Layer::Eks,
                Status::Skipped,
                "cannot reach the cluster",
            ),
            finding("KD009", Layer::Cluster, Status::NotApplicable, "IRSA mode"),
            finding("KD028", Layer::Keda, Status::Warn, "close to the limit"),
        ];
        let o = Options {
            strict: false,
            seconds: 0.5,
            name: "kedactl doctor",
        };
        let xml = report(&findings, &[], "", o);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kedactl doctor\" tests=\"5\" failures=\"1\" errors=\"0\" skipped=\"2\" time=\"0.500\">"), "{xml}");
        assert!(
            xml.contains(
                "<testsuite name=\"eks\" tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"KD010 A &lt;check&gt; &amp; &quot;its&quot; title\" classname=\"kedactl.doctor.iam\" time=\"0\">\n      <failure message=\"A &lt;check&gt; &amp; &quot;its&quot; title\" type=\"fail\">trust lacks sts:TagSession[0m\nfix: kedactl up --only iam</failure>"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"could not be checked: cannot reach the cluster\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"not applicable: IRSA mode\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<system-out>warning: close to the limit</system-out>"),
            "{xml}"
        );
        assert!(!xml.contains('\u{1b}'), "no control characters");

        // --strict: what could not be checked fails, as the exit code does.
        let strict = report(&findings, &[], "", Options { strict: true, ..o });
        assert!(
            strict.contains("failures=\"2\" errors=\"0\" skipped=\"1\""),
            "{strict}"
        );
        assert!(strict.contains("<failure message=\"could not be checked (--strict): cannot reach the cluster\" type=\"skipped\">"), "{strict}");

        // Checks that were not run at all are skipped with the reason.
        let xml = report(
            &[],
            &[("KD001", "t", Layer::Eks)],
            "only the log was read",
            o,
        );
        assert!(
            xml.contains("tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"only the log was read\"/>"),
            "{xml}"
        );
    }
}
