//! Reading KEDA's and the Pod Identity Agent's logs: a 403 names the principal that made the
//! call, and that principal says which hop of the chain is broken.

use super::{Finding, Status, catalogue};

/// Who KEDA was when AWS refused it, or why it had no usable credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// `assumed-role/<node role>/i-…`: no Pod Identity credentials were injected.
    NodeRole { line: String },
    /// `assumed-role/<operator role>/eks-…`: Pod Identity works; roleArn/trust/permission of the
    /// next hop is wrong.
    OperatorRole { action: String, line: String },
    /// `assumed-role/<identity role>/KEDA`: the chain works; the queue permission is wrong.
    IdentityRole { action: String, line: String },
    /// `no EC2 IMDS role found`: no Pod Identity credentials, and the node role is out of reach
    /// too (IMDS hop limit 1): the same missing association or injection as `NodeRole`.
    NoCredentials { line: String },
    /// `AssumeRoleWithWebIdentity` (`WebIdentityErr` in SDK v1): IRSA is injected beside Pod
    /// Identity, and KEDA tries it first.
    WebIdentity { line: String },
    /// `ExpiredToken`: KEDA still signs with credentials that expired.
    ExpiredToken { line: String },
    /// `AWS.SimpleQueueService.NonExistentQueue`: the queueURL names no queue KEDA can see
    /// (another region or account, or a typo).
    MissingQueue { line: String },
    /// A failure that names no principal, for the check `code`: the Pod Identity Agent
    /// refusing (KD002) or not answering (KD038) connections, a proxy in the way (KD032),
    /// session tags too large (KD028), a trigger's source missing (KD046) or refusing a query
    /// KEDA signed (KD047).
    Logged { code: &'static str, line: String },
}

impl Refused {
    /// The check (catalogue code) this refusal is evidence for.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::NodeRole { .. } | Refused::NoCredentials { .. } => "KD005",
            Refused::OperatorRole { action, .. }
                if action.eq_ignore_ascii_case("sts:TagSession") =>
            {
                "KD011"
            }
            // The operator itself read the queue (or a trigger's source): the
            // TriggerAuthentication has no roleArn.
            Refused::OperatorRole { action, .. } if !sts(action) => "KD016",
            Refused::OperatorRole { .. } => "KD010",
            // The chain works; the grant on the queue, or on another trigger's source, is wrong.
            Refused::IdentityRole { action, .. } if sts(action) || sqs(action) => "KD015",
            Refused::IdentityRole { .. } => "KD047",
            Refused::WebIdentity { .. } => "KD009",
            Refused::ExpiredToken { .. } => "KD027",
            Refused::MissingQueue { .. } => "KD022",
            Refused::Logged { code, .. } => code,
        }
    }

    pub fn line(&self) -> &str {
        match self {
            Refused::NodeRole { line }
            | Refused::OperatorRole { line, .. }
            | Refused::IdentityRole { line, .. }
            | Refused::NoCredentials { line }
            | Refused::WebIdentity { line }
            | Refused::ExpiredToken { line }
            | Refused::MissingQueue { line }
            | Refused::Logged { line, .. } => line,
        }
    }

    /// The evidence line a finding shows for it: the part of the log line that says why.
    pub fn evidence(&self) -> String {
        match self {
            Refused::NodeRole { line } => {
                format!("KEDA called AWS as the node role: {}", excerpt(line))
            }
            Refused::NoCredentials { line } => format!(
                "KEDA had no credentials (no Pod Identity, no node role): {}",
                excerpt(line)
            ),
            r => format!("KEDA log: {}", excerpt(r.line())),
        }
    }
}

/// An STS action, or none named (a denial whose action the line does not say).
fn sts(action: &str) -> bool {
    action.is_empty() || action.to_ascii_lowercase().starts_with("sts:")
}

fn sqs(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("sqs:")
}

/// The Pod Identity Agent's addresses (IPv4 and IPv6) that a credential fetch dials.
const AGENT: [&str; 2] = ["169.254.170.23", "fd00:ec2::23"];

/// The first refusal for each check in KEDA's log, given the role names in play. Roles named
/// otherwise are told apart by their session: `i-…` is an instance, `eks-…` a Pod Identity
/// session, `KEDA` the session KEDA names when it assumes roleArn (aws_config_cache.go).
pub fn refusals(log: &str, operator_role: &str, identity_role: &str) -> Vec<Refused> {
    let mut out: Vec<Refused> = Vec::new();
    for raw in log.lines() {
        let Some(r) = classify(raw, operator_role, identity_role) else {
            continue;
        };
        if !out.iter().any(|o| o.code() == r.code()) {
            out.push(r);
        }
    }
    out
}

fn classify(raw: &str, operator_role: &str, identity_role: &str) -> Option<Refused> {
    let lower = raw.to_ascii_lowercase();
    let line = readable(raw);
    let refused =
        lower.contains("403") || lower.contains("accessdenied") || lower.contains("not authorized");
    // The principal first: a chain that failed deeper down names no assumed role.
    if refused && let Some((role, session)) = assumed_role(raw) {
        let action = denied_action(raw).unwrap_or_default();
        return if role == identity_role || (role != operator_role && session == "KEDA") {
            Some(Refused::IdentityRole { action, line })
        } else if role == operator_role || session.starts_with("eks-") {
            Some(Refused::OperatorRole { action, line })
        } else if session.starts_with("i-") {
            Some(Refused::NodeRole { line })
        } else {
            None
        };
    }
    if lower.contains("assumerolewithwebidentity") || lower.contains("webidentityerr") {
        Some(Refused::WebIdentity { line })
    } else if lower.contains("no ec2 imds role found") {
        Some(Refused::NoCredentials { line })
    } else if lower.contains("expiredtoken") {
        Some(Refused::ExpiredToken { line })
    } else if lower.contains("nonexistentqueue") || lower.contains("queuedoesnotexist") {
        Some(Refused::MissingQueue { line })
    } else {
        let code = logged(&lower)?;
        Some(Refused::Logged { code, line })
    }
}

/// The check a failure that names no principal is evidence for (`lower`: the line, lowercase).
fn logged(lower: &str) -> Option<&'static str> {
    let agent = AGENT.iter().any(|a| lower.contains(a));
    Some(if lower.contains("proxyconnect") {
        "KD032"
    } else if agent && lower.contains("connection refused") {
        // Nothing listens on the node: the agent is not running there.
        "KD002"
    } else if agent && (lower.contains("i/o timeout") || lower.contains("deadline exceeded")) {
        // Packets to the agent are dropped: a NetworkPolicy (or the node's firewall).
        "KD038"
    } else if lower.contains("packedpolicytoolarge") {
        "KD028"
    } else if lower.contains("resourcenotfoundexception") {
        // Kinesis DescribeStreamSummary and DynamoDB Query on a stream or table not there.
        "KD046"
    } else if lower.contains("prometheus query api returned error. status: 403") {
        // KEDA drops the body of a refused query: the principal is its signed session.
        "KD047"
    } else {
        return None;
    })
}

/// The lines of `log` about one app: those naming one of `mine` (its scaler, its queue), and
/// those naming none of `all` (every app's), which may concern any app. A name counts only as a
/// whole word, so `q1` is not found in `q10`.
pub fn about(log: &str, mine: &[String], all: &[String]) -> String {
    let names = |line: &str, names: &[String]| names.iter().any(|n| names_word(line, n));
    log.lines()
        .filter(|l| names(l, mine) || !names(l, all))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `word` in `line`, not inside a longer name (IAM, SQS and Kubernetes names use `-`, `_`, `.`).
fn names_word(line: &str, word: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || "-_".contains(c);
    !word.is_empty()
        && line.match_indices(word).any(|(i, _)| {
            let before = line[..i].chars().next_back();
            let mut after = line[i + word.len()..].chars();
            // A full stop ends a name; `.fifo` continues it.
            let continues = match after.next() {
                Some('.') => after.next().is_some_and(part),
                next => next.is_some_and(part),
            };
            !before.is_some_and(|c| part(c) || c == '.') && !continues
        })
}

/// Characters of a log line a finding shows: a zap line with its request ids and a wrapped
/// error chain runs to 400 and more, where the reason is a few words.
const EXCERPT: usize = 200;

/// The part of a long log line around what it says went wrong (the denial, the missing queue,
/// the expired token), cut at spaces with `…` where text was left out; a short line whole.
pub fn excerpt(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= EXCERPT {
        return line.to_string();
    }
    let lower = line.to_ascii_lowercase();
    let marker = [
        "not authorized",
        "accessdenied",
        "403",
        "expiredtoken",
        "nonexistentqueue",
        "queuedoesnotexist",
        "webidentity",
        "imds",
        "proxyconnect",
        "connection refused",
        "i/o timeout",
        "packedpolicytoolarge",
        "resourcenotfound",
    ]
    .iter()
    .filter_map(|m| lower.find(m))
    .min()
    .map_or(0, |byte| line[..byte].chars().count());
    // A third of the window before the reason (who asked), the rest after it (what and why).
    let mut start = marker.saturating_sub(EXCERPT / 3);
    let mut end = (start + EXCERPT).min(chars.len());
    start = end.saturating_sub(EXCERPT).min(start);
    // Whole words: move each cut to the nearest space inside the window.
    if start > 0
        && let Some(s) = chars[start..marker.max(start)]
            .iter()
            .position(|c| *c == ' ')
    {
        start += s + 1;
    }
    if end < chars.len()
        && let Some(e) = chars[marker.min(end)..end].iter().rposition(|c| *c == ' ')
    {
        end = marker.min(end) + e;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// A zap JSON line (`{"level":"error","ts":…,"logger":…,"msg":…,"error":…}`) as one readable
/// line, without its stack trace; a console line as it is.
fn readable(line: &str) -> String {
    let line = line.trim();
    let json = line
        .starts_with('{')
        .then(|| serde_json::from_str::<serde_json::Value>(line).ok())
        .flatten();
    let Some(v) = json.filter(|v| v["msg"].is_string()) else {
        return line.to_string();
    };
    let s = |k: &str| match &v[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    format!(
        "{} {} {}: {}: {}",
        s("ts"),
        s("level").to_ascii_uppercase(),
        s("logger"),
        s("msg"),
        s("error")
    )
}

/// What `doctor --keda-log` reports: a failing finding per check the log is evidence for, with
/// that check's fix. The roles come from the log's own ARNs where it names them; `keda` is the
/// operator's namespace and service account, `identity_role` the fallback roleArn name.
pub fn findings(
    refused: &[Refused],
    keda: (&str, &str),
    identity_role: &str,
    cluster: &str,
) -> Vec<Finding> {
    let (ns, sa) = keda;
    refused
        .iter()
        .map(|r| {
            let c = catalogue::find(r.code()).expect("a catalogued code");
            let fix = match (c.code, r) {
                ("KD010" | "KD011", Refused::OperatorRole { action, line }) => fix::trust(
                    &operator_arn(line).unwrap_or_else(|| "<keda-operator role ARN>".into()),
                    action,
                    resource_role(line).unwrap_or(identity_role),
                ),
                ("KD005", _) => fix::ASSOCIATION.into(),
                ("KD009", _) => fix::irsa(ns, sa),
                ("KD015", _) => fix::QUEUE_READ.into(),
                ("KD016", _) => fix::ROLE_ARN.into(),
                ("KD027", _) => fix::restart(ns, "keda-operator"),
                ("KD022", _) => fix::QUEUE_URL.into(),
                ("KD002", _) => fix::AGENT.into(),
                ("KD032", _) => fix::NO_PROXY.into(),
                ("KD038", _) => fix::AGENT_EGRESS.into(),
                ("KD028", _) => fix::packed(cluster),
                ("KD046", _) => fix::SOURCE.into(),
                ("KD047", _) => fix::SOURCE_READ.into(),
                (code, _) => unreachable!("Refused::code gave {code}, which has no fix here"),
            };
            Finding {
                code: c.code,
                title: c.title,
                layer: c.layer,
                app: None,
                status: Status::Fail,
                evidence: vec![r.evidence()],
                fix: Some(fix),
                repairs: vec![],
            }
        })
        .collect()
}

/// `arn:aws:iam::123456789012:role/keda-operator` from the session ARN
/// `arn:aws:sts::123456789012:assumed-role/keda-operator/eks-…` the line names.
fn operator_arn(line: &str) -> Option<String> {
    let at = line.find(":assumed-role/")?;
    let head = &line[..at];
    let arn = &head[head.rfind("arn:")?..];
    let (role, _) = assumed_role(line)?;
    Some(format!("{}:role/{role}", arn.replacen(":sts:", ":iam:", 1)))
}

/// `keda-identity` from `… on resource: arn:aws:iam::123456789012:role/keda-identity`.
fn resource_role(line: &str) -> Option<&str> {
    let rest = &line[line.find("on resource: ")? + "on resource: ".len()..];
    // IAM names are alphanumeric and `+=,.@_-`; paths add `/`. The line's quoting ends it.
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "+=,.@_-/:".contains(c)))
        .unwrap_or(rest.len());
    let (_, name) = rest[..end].split_once(":role/")?;
    Some(name.rsplit('/').next().unwrap_or(name))
}

/// The fixes of the checks KEDA's log speaks to, shared by the live checks (checks.rs) and
/// `doctor --keda-log`, so both say the same thing.
pub mod fix {
    pub const ASSOCIATION: &str =
        "kedactl up --only eks,keda (creates the association and restarts the operator)";
    pub const QUEUE_READ: &str = "kedactl up --only iam (puts kedactl-sqs-access: sqs:GetQueueAttributes on the queue ARN); remove explicit denies from the queue policy";
    pub const ROLE_ARN: &str = "kedactl up --only app (sets roleArn to the identity role)";
    pub const QUEUE_URL: &str = "set the trigger's queueURL and awsRegion to the queue's URL and region, and check the queue exists (kedactl up --only queue,app)";
    pub const AGENT: &str = "kubectl -n kube-system describe ds eks-pod-identity-agent; check host ports 80/2703 on the nodes and IPv6 (see `kedactl doctor --explain KD002`)";
    pub const NO_PROXY: &str =
        "add 169.254.170.23,fd00:ec2::23 to NO_PROXY in the operator's env (helm env values)";
    pub const AGENT_EGRESS: &str = "allow keda-operator's egress to the Pod Identity Agent (TCP 169.254.170.23:80, [fd00:ec2::23]:80 on IPv6) in the NetworkPolicies that select it; `kedactl doctor` with cluster access names them and the rule";
    pub const SOURCE: &str = "kedactl up --only source creates what kedactl owns; for a resource named by id, correct the id in kedactl.yaml (aws amp list-workspaces)";
    pub const SOURCE_READ: &str =
        "kedactl up --only iam (puts back the trigger's grant on the identity role)";
    /// `--scoped-trust false` and `--disable-session-tags` together: KD028's two fixes.
    pub const UNSCOPE: &str = "kedactl up --only iam --scoped-trust false";

    /// KD028: stop the session tags that overflow the chained AssumeRole, after a trust that
    /// conditions on them is unscoped (or the operator is locked out).
    pub fn packed(cluster: &str) -> String {
        format!(
            "if the operator role's trust conditions on aws:RequestTag/…, first {UNSCOPE}; then {}",
            disable_tags(cluster, "<keda-operator association id>")
        )
    }

    /// KD028: the association update that stops EKS sending session tags.
    pub fn disable_tags(cluster: &str, id: &str) -> String {
        format!(
            "aws eks update-pod-identity-association --cluster-name {cluster} --association-id {id} --disable-session-tags"
        )
    }

    /// KD010/KD011: let `operator_arn` do `action` in the trust of `role`.
    pub fn trust(operator_arn: &str, action: &str, role: &str) -> String {
        format!(
            "kedactl up --only iam (adds {{\"AWS\": \"{operator_arn}\"}} with {action} to the trust of {role})"
        )
    }

    /// KD009: drop the IRSA annotation from the operator's service account `ns/sa`.
    pub fn irsa(ns: &str, sa: &str) -> String {
        format!(
            "helm upgrade keda keda --repo https://kedacore.github.io/charts -n {ns} --reuse-values --set podIdentity.aws.irsa.enabled=false (or kubectl annotate sa {sa} -n {ns} eks.amazonaws.com/role-arn-), then restart the operator"
        )
    }

    /// KD027: restart `ns/deployment` so it gets fresh credentials.
    pub fn restart(ns: &str, deployment: &str) -> String {
        format!("kubectl rollout restart deployment/{deployment} -n {ns}")
    }
}

/// (role, session) from `…:assumed-role/<role>/<session> is not authorized…`.
fn assumed_role(line: &str) -> Option<(&str, &str)> {
    let rest = &line[line.find("assumed-role/")? + "assumed-role/".len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .unwrap_or(rest.len());
    let (role, session) = rest[..end].split_once('/')?;
    Some((role, session))
}

/// `sts:AssumeRole` from `… is not authorized to perform: sts:AssumeRole on resource …`.
fn denied_action(line: &str) -> Option<String> {
    let rest = &line[line.find("perform: ")? + "perform: ".len()..];
    Some(
        rest.split_whitespace()
            .next()?
            .trim_end_matches(',')
            .to_string(),
    )
}

/// The first line holding every one of `needles` (case-insensitive).
pub fn find<'a>(log: &'a str, needles: &[&str]) -> Option<&'a str> {
    log.lines().find(|l| {
        let lower = l.to_ascii_lowercase();
        needles
            .iter()
            .all(|n| lower.contains(&n.to_ascii_lowercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_around_the_reason() {
        let head = "2026-12-07T10:00:00Z ERROR scalers_cache error getting metric for trigger \
                    {\"scaledObject.Namespace\": \"security\", \"scaledObject.Name\": \"k8s-sqs-read-msg-keda\", \
                    \"trigger\": \"awsSQSQueueScaler\", \"requestID\": \"0f3c2a71-5d9e-4c1b-9a55-3f6a2f1d2e4b\"}";
        let reason = "operation error SQS: GetQueueAttributes, https response error StatusCode: 403, \
                      RequestID: 9b2f…, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keda-identity/KEDA \
                      is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:q";
        let line = format!("{head} {reason} {}", "stacktrace frame ".repeat(20));
        assert!(line.chars().count() > 400);
        let e = excerpt(&line);
        assert!(
            e.chars().count() <= EXCERPT + 2,
            "{} chars: {e}",
            e.chars().count()
        );
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.contains("StatusCode: 403"), "the reason is shown: {e}");
        assert!(!e.contains("stacktrace frame stacktrace frame stacktrace frame stacktrace frame stacktrace frame stacktrace"), "{e}");
        // Cut at spaces: no word is broken at either end.
        let inner = e.trim_start_matches('…').trim_end_matches('…');
        assert!(line.contains(&format!(" {inner} ")), "{e}");
        // A short line, whole.
        assert_eq!(excerpt("KEDA: AccessDenied"), "KEDA: AccessDenied");
    }

    const LOG: &str = r#"2026-11-24T08:00:01Z	ERROR	scale_handler	error getting scale decision	{"scaledObject.Namespace": "security", "error": "operation error SQS: GetQueueAttributes, https response error StatusCode: 403, RequestID: 1, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eksctl-demo-NodeInstanceRole-ABC/i-0abc123 is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:event-messages-queue because no identity-based policy allows the sqs:getqueueattributes action"}
2026-11-24T08:00:31Z	ERROR	scale_handler	error getting scale decision	{"error": "operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 2, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keda-operator/eks-demo-keda-opera-4f1 is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/keda-identity"}
2026-11-24T08:01:01Z	ERROR	scale_handler	error getting scale decision	{"error": "operation error SQS: GetQueueAttributes, https response error StatusCode: 403, RequestID: 3, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/keda-identity/KEDA is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:us-east-1:123456789012:event-messages-queue"}
"#;

    #[test]
    fn each_refusal_is_classified_by_its_principal() {
        let r = refusals(LOG, "keda-operator", "keda-identity");
        assert_eq!(r.len(), 3);
        assert!(matches!(&r[0], Refused::NodeRole { line } if line.contains("NodeInstanceRole")));
        assert!(
            matches!(&r[1], Refused::OperatorRole { action, .. } if action == "sts:TagSession")
        );
        assert!(
            matches!(&r[2], Refused::IdentityRole { action, .. } if action == "sqs:getqueueattributes")
        );
        assert!(refusals("all good\n", "keda-operator", "keda-identity").is_empty());
        assert!(find(LOG, &["tagsession", "keda-identity"]).is_some());
    }

    /// KEDA v2.20.2's own lines, both zap encodings; how they are built from the upstream format
    /// strings (scale_handler.go, aws_sqs_queue_scaler.go, aws_config_cache.go, aws-sdk-go-v2)
    /// is in tests/support/keda-logs/gen.py.
    const CONSOLE: &str = include_str!("../../tests/support/keda-logs/refused.console.log");
    const JSON: &str = include_str!("../../tests/support/keda-logs/refused.json.log");
    const HEALTHY: &str = include_str!("../../tests/support/keda-logs/healthy.console.log");

    fn codes(log: &str, operator: &str, identity: &str) -> Vec<&'static str> {
        refusals(log, operator, identity)
            .iter()
            .map(Refused::code)
            .collect()
    }

    #[test]
    fn real_keda_lines_are_classified_in_both_encodings() {
        // The queue KEDA was pointed at does not exist (two lines), then the refusals.
        let want = [
            "KD022", "KD005", "KD009", "KD010", "KD011", "KD016", "KD015", "KD027",
        ];
        for log in [CONSOLE, JSON] {
            assert_eq!(codes(log, "keda-operator", "keda-identity"), want);
            let r = refusals(log, "keda-operator", "keda-identity");
            assert!(
                matches!(&r[0], Refused::MissingQueue { line } if line.contains("AWS.SimpleQueueService.NonExistentQueue")),
                "{:?}",
                r[0]
            );
            // The node role refused sts:AssumeRole first: that is the KD005 evidence.
            assert!(r[1].line().contains("NodeInstanceRole"), "{:?}", r[1]);
            assert!(
                r[1].evidence()
                    .starts_with("KEDA called AWS as the node role: ")
            );
            assert!(
                matches!(&r[3], Refused::OperatorRole { action, .. } if action == "sts:AssumeRole")
            );
            assert!(
                matches!(&r[6], Refused::IdentityRole { action, .. } if action == "sqs:getqueueattributes")
            );
            // No stack trace and no JSON braces in the evidence.
            assert!(r.iter().all(|r| !r.line().contains("stacktrace")), "{r:?}");
        }
        let json = refusals(JSON, "keda-operator", "keda-identity");
        assert!(
            json[2].line().starts_with(
                "2026-11-24T08:02:01Z ERROR aws_credentials_cache: error retrieving arnRole"
            ),
            "{:?}",
            json[2]
        );
        // Renamed roles are told apart by their sessions (eks-…, KEDA, i-…).
        assert_eq!(codes(CONSOLE, "op", "id"), want);
    }

    #[test]
    fn each_class_alone_gets_its_code_and_unrelated_lines_none() {
        for (needle, code) in [
            (
                "i-0abc123def4567890 is not authorized to perform: sts:AssumeRole",
                "KD005",
            ),
            ("no EC2 IMDS role found", "KD005"),
            ("AssumeRoleWithWebIdentity", "KD009"),
            (
                "keda-opera-5b2c9d8e-7f41-4a4b-9d6e-0c1f2a3b4c5d is not authorized to perform: sts:AssumeRole",
                "KD010",
            ),
            ("sts:TagSession", "KD011"),
            ("assumed-role/keda-identity/KEDA", "KD015"),
            (
                "keda-opera-5b2c9d8e-7f41-4a4b-9d6e-0c1f2a3b4c5d is not authorized to perform: sqs:",
                "KD016",
            ),
            ("ExpiredToken", "KD027"),
            ("AWS.SimpleQueueService.NonExistentQueue", "KD022"),
        ] {
            let line = CONSOLE.lines().find(|l| l.contains(needle)).expect(needle);
            assert_eq!(
                codes(line, "keda-operator", "keda-identity"),
                [code],
                "{line}"
            );
        }
        let nodes = refusals(CONSOLE, "keda-operator", "keda-identity");
        let imds = CONSOLE.lines().find(|l| l.contains("IMDS")).unwrap();
        assert!(matches!(
            &refusals(imds, "", "")[0],
            Refused::NoCredentials { .. }
        ));
        assert!(matches!(&nodes[1], Refused::NodeRole { .. }));
        // Its two ERRORs are NonExistentQueue (KD022: the queueURL names no queue); stack traces
        // and INFO lines are nothing.
        assert_eq!(
            HEALTHY.lines().filter(|l| l.contains("\tERROR\t")).count(),
            2
        );
        assert_eq!(codes(HEALTHY, "keda-operator", "keda-identity"), ["KD022"]);
        assert!(
            refusals(
                &HEALTHY.replace("NonExistentQueue", "X"),
                "keda-operator",
                "keda-identity"
            )
            .is_empty()
        );
    }

    const MORE_CONSOLE: &str = include_str!("../../tests/support/keda-logs/more.console.log");
    const MORE_JSON: &str = include_str!("../../tests/support/keda-logs/more.json.log");

    /// Issue 25: every failure a check covers, beyond the 403s: the agent refusing or silent, a
    /// proxy, session tags, a trigger's source missing or refusing KEDA's session.
    #[test]
    fn failures_without_a_principal_get_their_checks_code() {
        let want = ["KD002", "KD038", "KD032", "KD028", "KD047"];
        for log in [MORE_CONSOLE, MORE_JSON] {
            let each: Vec<&str> = log
                .lines()
                .filter(|l| !l.starts_with("github.com") && !l.starts_with('\t'))
                .map(|l| {
                    let c = codes(l, "keda-operator", "keda-identity");
                    assert_eq!(c.len(), 1, "{l}");
                    c[0]
                })
                .collect();
            // Kinesis refused (KD047), the stream then table missing (KD046), AMP refused.
            assert_eq!(each[..5], want, "{log}");
            assert_eq!(each[5..], ["KD046", "KD046", "KD047"]);
            // The first line per check: six checks.
            assert_eq!(codes(log, "keda-operator", "keda-identity").len(), 6);
        }
        // The identity role refused a Kinesis read: the trigger's grant (KD047), not the queue's.
        let r = refusals(MORE_CONSOLE, "keda-operator", "keda-identity");
        assert!(
            r.iter()
                .any(|r| matches!(r, Refused::IdentityRole { action, .. }
            if action == "kinesis:DescribeStreamSummary"))
        );
        // The operator itself refused a source read: no roleArn (KD016), not its trust.
        let line = MORE_CONSOLE
            .lines()
            .find(|l| l.contains("kinesis:DescribeStreamSummary"))
            .unwrap()
            .replace(
                "assumed-role/keda-identity/KEDA",
                "assumed-role/keda-operator/eks-demo-x",
            );
        assert_eq!(codes(&line, "keda-operator", "keda-identity"), ["KD016"]);
        // A proxy in the way is KD032, though the line also names the agent and a timeout.
        let proxy = MORE_CONSOLE
            .lines()
            .find(|l| l.contains("proxyconnect"))
            .unwrap();
        assert!(proxy.contains("169.254.170.23") && proxy.contains("i/o timeout"));
        assert_eq!(codes(proxy, "", ""), ["KD032"]);
        // The evidence shows the reason, not the request ids before it.
        let f = findings(&r, ("keda", "keda-operator"), "keda-identity", "demo");
        let kd002 = f.iter().find(|f| f.code == "KD002").unwrap();
        assert!(
            kd002.evidence[0].contains("connection refused"),
            "{:?}",
            kd002.evidence
        );
        assert_eq!(kd002.fix.as_deref(), Some(fix::AGENT));
        let kd028 = f.iter().find(|f| f.code == "KD028").unwrap();
        assert!(
            kd028
                .fix
                .as_deref()
                .unwrap()
                .contains("--cluster-name demo"),
            "{:?}",
            kd028.fix
        );
        assert!(codes("dial tcp 10.0.0.1:443: connection refused", "", "").is_empty());
    }

    #[test]
    fn findings_carry_the_checks_fixes_with_the_logs_arns() {
        let r = refusals(CONSOLE, "keda-operator", "keda-identity");
        let f = findings(&r, ("keda", "keda-operator"), "keda-identity", "demo");
        assert_eq!(f.len(), 8);
        assert!(f.iter().all(|f| f.status == Status::Fail));
        let kd010 = f.iter().find(|f| f.code == "KD010").unwrap();
        assert_eq!(
            kd010.fix.as_deref(),
            Some(
                fix::trust(
                    "arn:aws:iam::123456789012:role/keda-operator",
                    "sts:AssumeRole",
                    "keda-identity"
                )
                .as_str()
            )
        );
        assert_eq!(kd010.title, catalogue::find("KD010").unwrap().title);
        let kd009 = f.iter().find(|f| f.code == "KD009").unwrap();
        assert_eq!(kd009.fix, Some(fix::irsa("keda", "keda-operator")));
        let kd027 = f.iter().find(|f| f.code == "KD027").unwrap();
        assert_eq!(
            kd027.fix.as_deref(),
            Some("kubectl rollout restart deployment/keda-operator -n keda")
        );
    }
}
