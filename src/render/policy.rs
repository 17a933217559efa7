//! IAM policy documents as values: a canonical form for comparing what IAM returns with what
//! we render (IAM may turn a one-item list into a string and reorder lists), and the
//! least-privilege guard every rendered document must pass.

use serde_json::Value;

/// Keys whose value may be a string or a list of strings with the same meaning.
const LIST_KEYS: &[&str] = &[
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "AWS",
    "Service",
    "Federated",
];

/// A form in which equal policies are equal values: `Statement` always a list, and each
/// action/resource/principal a sorted, de-duplicated list. Condition values get the same.
pub fn canonical(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(obj) = doc.as_object_mut() {
        if let Some(st) = obj.get_mut("Statement")
            && st.is_object()
        {
            *st = Value::Array(vec![st.take()]);
        }
        if let Some(Value::Array(statements)) = obj.get_mut("Statement") {
            for s in statements.iter_mut() {
                canonical_statement(s);
            }
        }
    }
    doc
}

fn canonical_statement(s: &mut Value) {
    let Some(obj) = s.as_object_mut() else { return };
    for (key, value) in obj.iter_mut() {
        if LIST_KEYS.contains(&key.as_str()) {
            *value = sorted_list(value);
        } else if key == "Principal" || key == "NotPrincipal" {
            if let Some(p) = value.as_object_mut() {
                for v in p.values_mut() {
                    *v = sorted_list(v);
                }
            }
        } else if key == "Condition"
            && let Some(ops) = value.as_object_mut()
        {
            for keys in ops.values_mut().filter_map(Value::as_object_mut) {
                for v in keys.values_mut() {
                    *v = sorted_list(v);
                }
            }
        }
    }
}

fn sorted_list(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    items.sort_by_key(|x| x.to_string());
    items.dedup();
    Value::Array(items)
}

/// The actions IAM cannot scope to a resource, which a grant can only give on `"*"`
/// (the cloudwatch trigger's GetMetricData). A statement with `"Resource": "*"` must hold
/// these and nothing else.
pub const RESOURCELESS: &[&str] = &["cloudwatch:GetMetricData"];

/// Statements that grant more than kedactl ever should: a wildcard resource (unless every
/// action of the statement is `RESOURCELESS`), or a service-wide action like `sqs:*`. Returns a
/// description of each offence.
pub fn overly_broad(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let canon = canonical(doc);
    for s in canon["Statement"].as_array().into_iter().flatten() {
        if s["Effect"] != "Allow" {
            continue;
        }
        let sid = s["Sid"].as_str().unwrap_or("(no Sid)");
        let actions: Vec<&str> = s["Action"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let resourceless = !actions.is_empty() && actions.iter().all(|a| RESOURCELESS.contains(a));
        for r in s["Resource"].as_array().into_iter().flatten() {
            if r == "*" && !resourceless {
                found.push(format!("{sid}: Resource \"*\""));
            }
        }
        for a in &actions {
            if *a == "*" || a.ends_with(":*") {
                found.push(format!("{sid}: Action {a:?}"));
            }
        }
        // A KMS grant names one key: `key/*` is every key, and an alias ARN grants nothing.
        if actions.iter().any(|a| a.starts_with("kms:")) {
            for r in s["Resource"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap_or_default();
                if r.ends_with(":key/*") || r.contains(":alias/") {
                    found.push(format!("{sid}: KMS Resource {r:?} is not one key ARN"));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_policies_are_equal_in_canonical_form() {
        let ours = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:TagSession", "sts:AssumeRole"]}]});
        let iams = json!({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com"]},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}});
        assert_eq!(canonical(&ours), canonical(&iams));
        let other = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": "sts:AssumeRole"}]});
        assert_ne!(canonical(&ours), canonical(&other));
    }

    #[test]
    fn broad_grants_are_found() {
        let doc = json!({"Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:1:q"},
            {"Sid": "B", "Effect": "Allow", "Action": ["sqs:GetQueueAttributes"], "Resource": "*"},
            {"Sid": "C", "Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Sid": "D", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [
                "arn:aws:kms:us-east-1:1:key/*", "arn:aws:kms:us-east-1:1:alias/orders",
                "arn:aws:kms:us-east-1:1:key/1234abcd-12ab-34cd-56ef-1234567890ab"]},
            // The one action IAM cannot scope may have "*", alone; with any other, no.
            {"Sid": "E", "Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"},
            {"Sid": "F", "Effect": "Allow", "Action": ["cloudwatch:GetMetricData", "cloudwatch:PutMetricData"], "Resource": "*"},
            {"Sid": "G", "Effect": "Allow", "NotAction": "cloudwatch:GetMetricData", "Resource": "*"}]});
        assert_eq!(
            overly_broad(&doc),
            [
                "A: Action \"sqs:*\"",
                "B: Resource \"*\"",
                "D: KMS Resource \"arn:aws:kms:us-east-1:1:alias/orders\" is not one key ARN",
                "D: KMS Resource \"arn:aws:kms:us-east-1:1:key/*\" is not one key ARN",
                "F: Resource \"*\"",
                "G: Resource \"*\""
            ]
        );
    }
}
