//! Reading KEDA's and the Pod Identity Agent's logs: a 403 names the principal that made the
//! call, and that principal says which hop of the chain is broken.

/// Who KEDA was when AWS refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// `assumed-role/<node role>/i-…`: no Pod Identity credentials were injected.
    NodeRole { line: String },
    /// `assumed-role/<operator role>/eks-…`: Pod Identity works; roleArn/trust/permission of the
    /// next hop is wrong.
    OperatorRole { action: String, line: String },
    /// `assumed-role/<identity role>/KEDA`: the chain works; the queue permission is wrong.
    IdentityRole { action: String, line: String },
}

/// The first refusal of each kind in KEDA's log, given the role names in play.
pub fn refusals(log: &str, operator_role: &str, identity_role: &str) -> Vec<Refused> {
    let mut out: Vec<Refused> = Vec::new();
    for line in log.lines() {
        let lower = line.to_ascii_lowercase();
        if !(lower.contains("403")
            || lower.contains("accessdenied")
            || lower.contains("not authorized"))
        {
            continue;
        }
        let Some(role) = assumed_role(line) else {
            continue;
        };
        let action = denied_action(line).unwrap_or_default();
        let r = if role.0 == identity_role {
            Refused::IdentityRole {
                action,
                line: line.trim().to_string(),
            }
        } else if role.0 == operator_role {
            Refused::OperatorRole {
                action,
                line: line.trim().to_string(),
            }
        } else if role.1.starts_with("i-") {
            Refused::NodeRole {
                line: line.trim().to_string(),
            }
        } else {
            continue;
        };
        if !out
            .iter()
            .any(|o| std::mem::discriminant(o) == std::mem::discriminant(&r))
        {
            out.push(r);
        }
    }
    out
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
}
