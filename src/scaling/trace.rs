//! Trace files for `simulate`: per-second arrivals (a queue's messages) or a metric's value
//! each second (a query's), parsed within the span a simulation covers and refused with the
//! line at fault.

use crate::limits;
use crate::problem::Problem;

/// A problem with the `--trace` file.
pub fn trace_problem(message: String, fix: &str) -> Problem {
    Problem::new("--trace", message, fix)
}

/// Per-second arrivals from a JSON array, or CSV with one count per line or `t,count` rows
/// (rows for the same second add up). At most `MAX_SIM_SECONDS` seconds, so a trace can never
/// size an allocation beyond that; `name` is the file, for messages.
pub fn parse_trace(bytes: &[u8], name: &str) -> Result<Vec<u32>, Problem> {
    let span = limits::MAX_SIM_SECONDS;
    let beyond = |line: usize, what: String| {
        trace_problem(
            format!(
                "{name} line {line}: {what} is beyond the {} ({span} s) a simulation covers",
                limits::duration(span)
            ),
            "cut the trace to at most 7 days, one count per second",
        )
    };
    let text = trace_text(bytes, name)?;
    if text.trim_start().starts_with('[') {
        let out = serde_json::from_str::<Vec<u32>>(text).map_err(|e| {
            trace_problem(
                format!("{name}: {e}"),
                "use a JSON array of whole numbers, one per second",
            )
        })?;
        if out.len() as u64 > span {
            return Err(beyond(1, format!("entry {}", span + 1)));
        }
        return nonempty(out, name);
    }
    let mut out: Vec<u32> = Vec::new();
    let mut first = true;
    let mut last_t = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        // Only a row of names (`t,count`) is a header; a bad first row of numbers is an error.
        let header = first && cells.iter().all(|c| is_name(c));
        first = false;
        if header {
            continue;
        }
        let not_whole = |c: &str, max: u64| {
            trace_problem(
                format!("{name} line {n}: {c:?} is not a whole number from 0 to {max}"),
                "write counts and seconds as whole numbers (no sign, no decimals)",
            )
        };
        let count = |c: &str| {
            let v = digits(c).ok_or_else(|| not_whole(c, u32::MAX.into()))?;
            u32::try_from(v).map_err(|_| {
                trace_problem(
                    format!("{name} line {n}: {c} is more than {} arrivals", u32::MAX),
                    "write at most 4294967295 arrivals in one second",
                )
            })
        };
        match cells[..] {
            [c] => {
                if out.len() as u64 >= span {
                    return Err(beyond(n, format!("row {}", span + 1)));
                }
                out.push(count(c)?);
            }
            [t, c] => {
                let t = match digits(t) {
                    None => return Err(not_whole(t, span - 1)),
                    Some(v) if v >= span => return Err(beyond(n, format!("t={t}"))),
                    Some(v) => v as usize,
                };
                in_order(name, n, t as u64, &mut last_t)?;
                let count = count(c)?;
                if out.len() <= t {
                    out.resize(t + 1, 0);
                }
                out[t] = out[t].checked_add(count).ok_or_else(|| {
                    trace_problem(
                        format!(
                            "{name} line {n}: second {t} adds up to more than {} arrivals",
                            u32::MAX
                        ),
                        "write at most 4294967295 arrivals per second in total",
                    )
                })?;
            }
            _ => {
                return Err(trace_problem(
                    format!("{name} line {n}: expected `count` or `t,count`"),
                    "one or two columns",
                ));
            }
        }
    }
    nonempty(out, name)
}

/// A metric's value each second (a prometheus query's), from a JSON array of numbers or a CSV
/// of `value` or `t,value` rows (a later row for the same second replaces an earlier one;
/// seconds between rows keep the last value). Values are finite, from 0 to 1e12.
pub fn parse_gauge(bytes: &[u8], name: &str) -> Result<Vec<f64>, Problem> {
    let span = limits::MAX_SIM_SECONDS as usize;
    let text = trace_text(bytes, name)?;
    let value = |c: &str, line: usize| {
        c.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && (0.0..=1e12).contains(v))
            .ok_or_else(|| {
                trace_problem(
                    format!("{name} line {line}: {c:?} is not a value from 0 to 1e12"),
                    "write the query's value each second as a plain number",
                )
            })
    };
    let too_long = || {
        trace_problem(
            format!("{name} covers more than the {span} s a simulation covers"),
            "cut the trace to at most 7 days",
        )
    };
    let mut out: Vec<f64> = Vec::new();
    if text.trim_start().starts_with('[') {
        let all = serde_json::from_str::<Vec<f64>>(text).map_err(|e| {
            trace_problem(
                format!("{name}: {e}"),
                "use a JSON array of numbers, one per second",
            )
        })?;
        for (i, v) in all.iter().enumerate() {
            out.push(value(&v.to_string(), i + 1)?);
        }
    } else {
        let mut first = true;
        let mut last_t = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if line.trim().is_empty() || (first && cells.iter().all(|c| is_name(c))) {
                first = false;
                continue;
            }
            first = false;
            match cells[..] {
                [v] => out.push(value(v, n)?),
                [t, v] => {
                    let t = digits(t)
                        .filter(|t| (*t as usize) < span)
                        .ok_or_else(too_long)? as usize;
                    in_order(name, n, t as u64, &mut last_t)?;
                    let v = value(v, n)?;
                    let last = out.last().copied().unwrap_or(0.0);
                    if out.len() <= t {
                        out.resize(t + 1, last);
                    }
                    out[t] = v;
                }
                _ => {
                    return Err(trace_problem(
                        format!("{name} line {n}: expected `value` or `t,value`"),
                        "one or two columns",
                    ));
                }
            }
        }
    }
    if out.len() > span {
        return Err(too_long());
    }
    if out.is_empty() {
        return Err(trace_problem(
            format!("{name} has no values"),
            "one value per second, e.g. a CSV column",
        ));
    }
    Ok(out)
}

/// `t,…` rows come in time order (the same second again is allowed): a row for an earlier
/// second is almost always a mis-sorted file, whose counts would land in the wrong place.
fn in_order(name: &str, line: usize, t: u64, last: &mut Option<u64>) -> Result<(), Problem> {
    match *last {
        Some(prev) if t < prev => Err(trace_problem(
            format!(
                "{name} line {line}: t={t} comes after t={prev}: the rows are not in time order"
            ),
            "sort the rows by their first column (t), e.g. sort -t, -k1,1n",
        )),
        _ => {
            *last = Some(t);
            Ok(())
        }
    }
}

/// A trace file's text, without a byte-order mark.
fn trace_text<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Problem> {
    std::str::from_utf8(bytes)
        .map(|t| t.trim_start_matches('\u{feff}'))
        .map_err(|e| {
            trace_problem(
                format!("{name} is not UTF-8 text ({e})"),
                "pass a CSV or JSON text file",
            )
        })
}

/// A cell of digits as a number (`u64::MAX` if it has more digits than fit); None otherwise.
fn digits(cell: &str) -> Option<u64> {
    (!cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit()))
        .then(|| cell.parse().unwrap_or(u64::MAX))
}

/// A header cell: a name, not a number (`NaN` and `inf` parse as numbers: they are bad data).
fn is_name(cell: &str) -> bool {
    let cell = cell.trim_matches('"'); // spreadsheets quote their headers
    cell.starts_with(|c: char| c.is_alphabetic() || c == '_') && cell.parse::<f64>().is_err()
}

fn nonempty(out: Vec<u32>, name: &str) -> Result<Vec<u32>, Problem> {
    if out.is_empty() {
        return Err(trace_problem(
            format!("{name} has no arrivals"),
            "one count per second, e.g. a CSV column",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_out_of_time_order_are_refused_with_the_line() {
        let e = parse_trace(b"t,messages\n60,5\n0,3\n", "t.csv").unwrap_err();
        assert!(
            e.message.contains("t.csv line 3: t=0 comes after t=60"),
            "{}",
            e.message
        );
        assert!(e.fix.contains("sort"), "{}", e.fix);
        let e = parse_gauge(b"t,value\n5,1\n2,0.5\n", "q.csv").unwrap_err();
        assert!(
            e.message.contains("q.csv line 3: t=2 comes after t=5"),
            "{}",
            e.message
        );
        // The same second twice still adds up (counts) or replaces (values).
        assert_eq!(
            parse_trace(b"0,1\n0,2\n3,1\n", "t").unwrap(),
            vec![3, 0, 0, 1]
        );
        assert_eq!(parse_gauge(b"0,1\n0,2\n", "q").unwrap(), vec![2.0]);
    }

    #[test]
    fn a_gauge_trace_holds_each_value_until_the_next_row() {
        let g = parse_gauge(b"t,value\n0,0.5\n3,1.25\n3,2\n5,0\n", "q.csv").unwrap();
        assert_eq!(
            g,
            [0.5, 0.5, 0.5, 2.0, 2.0, 0.0],
            "a later row for a second wins"
        );
        assert_eq!(
            parse_gauge(b"[0, 0.25, 1e3]", "q.json").unwrap(),
            [0.0, 0.25, 1000.0]
        );
        assert_eq!(parse_gauge(b"0.1\n0.2\n", "q").unwrap(), [0.1, 0.2]);
        for (bad, field) in [
            (&b"t,value\n0,NaN\n"[..], "line 2"),
            (b"-1\n", "line 1"),
            (b"1e13\n", "line 1"),
            (b"0,1,2\n", "line 1"),
            (b"", "has no values"),
        ] {
            let p = parse_gauge(bad, "q").unwrap_err();
            assert!(p.message.contains(field), "{bad:?}: {}", p.message);
        }
        let far = format!("{},1\n", limits::MAX_SIM_SECONDS);
        assert!(
            parse_gauge(far.as_bytes(), "q")
                .unwrap_err()
                .message
                .contains("covers more than")
        );
    }

    fn problem(bytes: &str) -> String {
        parse_trace(bytes.as_bytes(), "t.csv").unwrap_err().message
    }

    #[test]
    fn trace_defects_name_the_line() {
        let p = |b: &str| parse_trace(b.as_bytes(), "t.csv");
        assert_eq!(p("t,count\n0,1\n").unwrap(), [1]);
        assert_eq!(p("\u{feff}time, arrivals\n\n1,2\n").unwrap(), [0, 2]);
        assert_eq!(p("\"t\",\"count\"\n0,5\n").unwrap(), [5]);
        assert_eq!(p("0,4294967295\n1,1\n").unwrap(), [u32::MAX, 1]);
        // Rows for one second add up: checked, never wrapping to 0.
        assert_eq!(
            problem("0,4294967295\n0,1\n"),
            "t.csv line 2: second 0 adds up to more than 4294967295 arrivals"
        );
        // A first row of numbers is data: a bad one is an error, not a dropped "header".
        assert_eq!(
            problem("1.5\n2\n"),
            "t.csv line 1: \"1.5\" is not a whole number from 0 to 4294967295"
        );
        assert!(problem("NaN\n2\n").starts_with("t.csv line 1: \"NaN\""));
        assert!(problem("0,-1\n").starts_with("t.csv line 1: \"-1\""));
        assert!(problem("3\n4294967296\n").starts_with("t.csv line 2: 4294967296 is more"));
        assert!(
            problem("3\n99999999999999999999999\n")
                .contains("line 2: 99999999999999999999999 is more")
        );
        assert!(problem("+3\n").starts_with("t.csv line 1: \"+3\" is not a whole number"));
        assert_eq!(
            problem("0,1\n4000000000,1\n"),
            "t.csv line 2: t=4000000000 is beyond the 7d (604800 s) a simulation covers"
        );
        assert!(
            problem("99999999999999999999999,1").contains("t=99999999999999999999999 is beyond")
        );
        assert!(problem("604800,1").contains("line 1: t=604800 is beyond"));
        assert_eq!(p("604799,1").unwrap().len(), 604_800);
        let rows = "0\n".repeat(604_801);
        assert!(problem(&rows).starts_with("t.csv line 604801: row 604801 is beyond"));
        let json = format!("[{}0]", "0,".repeat(604_800));
        assert!(problem(&json).contains("beyond the 7d"));
        assert!(problem("[1, -2]").contains("invalid value"));
        assert!(problem("1,2,3").contains("expected `count` or `t,count`"));
        assert!(problem("t,count\n").contains("no arrivals"));
        assert!(
            parse_trace(b"\xff\xfe", "t.csv")
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panic_within_the_span(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            rows in proptest::collection::vec((0u64..700_000, 0u64..5_000_000_000), 0..8),
        ) {
            let _ = parse_trace(&bytes, "any");
            // Rows near the limits: large seconds, counts past u32, sums that would wrap.
            let text: String = rows.iter().map(|(t, n)| format!("{t},{n}\n")).collect();
            for input in [text.as_bytes(), &[text.as_bytes(), &bytes].concat()] {
                if let Ok(out) = parse_trace(input, "rows") {
                    proptest::prop_assert!(!out.is_empty());
                    proptest::prop_assert!(out.len() as u64 <= limits::MAX_SIM_SECONDS);
                }
            }
        }
    }
}
