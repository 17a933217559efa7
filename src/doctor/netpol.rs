//! Does a namespace's NetworkPolicies let a pod reach one IP and TCP port? Standard
//! `networking.k8s.io/v1` semantics (kubernetes `staging/src/k8s.io/api/networking/v1/types.go`):
//! a policy applies to egress when `policyTypes` names Egress, or (when `policyTypes` is unset)
//! when it has an `egress` section; a pod no such policy selects may send anywhere; otherwise
//! the union of their rules decides. A rule without `to` matches every destination, without
//! `ports` every port. Only an `ipBlock` can match an IP outside the pod network (selectors
//! match pods); a named port cannot match it either (it names a destination pod's port).

use serde_json::Value;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Egress {
    /// No policy that selects the pod restricts egress.
    Unrestricted,
    /// Allowed by this policy (its name).
    Allowed(String),
    /// Restricted, and no rule allows it: the policies that select the pod.
    Denied(Vec<String>),
}

/// Egress from a pod with `labels` to `ip`:`port` over TCP under `policies` (all in the pod's
/// namespace).
pub fn egress(policies: &[Value], labels: &Value, ip: IpAddr, port: u16) -> Egress {
    let mut restricting = Vec::new();
    for p in policies {
        let spec = &p["spec"];
        if !selects(&spec["podSelector"], labels) || !restricts_egress(spec) {
            continue;
        }
        let name = p["metadata"]["name"].as_str().unwrap_or("?").to_string();
        let rules = spec["egress"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if rules.iter().any(|r| rule_allows(r, ip, port)) {
            return Egress::Allowed(name);
        }
        restricting.push(name);
    }
    if restricting.is_empty() {
        Egress::Unrestricted
    } else {
        Egress::Denied(restricting)
    }
}

fn restricts_egress(spec: &Value) -> bool {
    match spec["policyTypes"].as_array() {
        Some(types) => types.iter().any(|t| t == "Egress"),
        None => spec.get("egress").is_some_and(|e| !e.is_null()),
    }
}

fn rule_allows(rule: &Value, ip: IpAddr, port: u16) -> bool {
    let to_ok = match rule["to"].as_array() {
        None => true,
        Some(peers) if peers.is_empty() => true,
        Some(peers) => peers.iter().any(|p| ip_block_matches(&p["ipBlock"], ip)),
    };
    let port_ok = match rule["ports"].as_array() {
        None => true,
        Some(ports) if ports.is_empty() => true,
        Some(ports) => ports.iter().any(|p| port_matches(p, port)),
    };
    to_ok && port_ok
}

fn ip_block_matches(block: &Value, ip: IpAddr) -> bool {
    let Some(cidr) = block["cidr"].as_str() else {
        return false;
    };
    in_cidr(cidr, ip)
        && !block["except"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|e| in_cidr(e, ip))
}

fn port_matches(p: &Value, port: u16) -> bool {
    if p["protocol"].as_str().unwrap_or("TCP") != "TCP" {
        return false;
    }
    match &p["port"] {
        Value::Null => true,
        Value::Number(n) => {
            let start = n.as_u64().unwrap_or(0);
            let end = p["endPort"].as_u64().unwrap_or(start);
            (start..=end).contains(&u64::from(port))
        }
        // A number written as a string is still a number; a name is not resolvable here.
        Value::String(s) => s.parse::<u16>() == Ok(port),
        _ => false,
    }
}

/// `ip` is inside `cidr` (`a.b.c.d/n` or an IPv6 prefix); a bare address is a /32 or /128.
pub fn in_cidr(cidr: &str, ip: IpAddr) -> bool {
    let (addr, len) = cidr.split_once('/').unwrap_or((cidr, ""));
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let bits = |a: IpAddr| match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    };
    let ((net, width), (ip, ip_width)) = (bits(net), bits(ip));
    if width != ip_width {
        return false;
    }
    let len = if len.is_empty() {
        width
    } else {
        match len.parse::<u32>() {
            Ok(l) if l <= width => l,
            _ => return false,
        }
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    net & mask == ip & mask
}

/// A LabelSelector (`matchLabels`, `matchExpressions`) matches `labels`; `{}` matches all.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |k: &str| labels[k].as_str();
    let by_labels = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let by_expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or("") {
                "In" => label(key).is_some_and(|v| values.contains(&v)),
                "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AGENT: &str = "169.254.170.23";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn policy(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    fn op() -> Value {
        json!({"app": "keda-operator"})
    }

    fn check(spec: Value) -> Egress {
        egress(&[policy(spec)], &op(), ip(AGENT), 80)
    }

    #[test]
    fn no_policy_or_ingress_only_leaves_egress_open() {
        assert_eq!(egress(&[], &op(), ip(AGENT), 80), Egress::Unrestricted);
        assert_eq!(
            check(json!({"podSelector": {}, "ingress": []})),
            Egress::Unrestricted
        );
        // policyTypes [Ingress] with an egress section: egress is not restricted.
        assert_eq!(
            check(json!({"podSelector": {}, "policyTypes": ["Ingress"], "egress": []})),
            Egress::Unrestricted
        );
    }

    #[test]
    fn empty_egress_denies_all() {
        let denied = Egress::Denied(vec!["p".into()]);
        assert_eq!(
            check(json!({"podSelector": {}, "policyTypes": ["Egress"]})),
            denied
        );
        assert_eq!(check(json!({"podSelector": {}, "egress": []})), denied);
    }

    #[test]
    fn a_rule_without_to_or_ports_allows_everything() {
        let allowed = Egress::Allowed("p".into());
        assert_eq!(check(json!({"podSelector": {}, "egress": [{}]})), allowed);
        assert_eq!(
            check(json!({"podSelector": {}, "egress": [{"ports": [{"port": 80}]}]})),
            allowed
        );
        assert_eq!(
            check(
                json!({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}]}]})
            ),
            allowed
        );
    }

    #[test]
    fn ip_block_except_and_selectors() {
        let spec = |to: Value| json!({"podSelector": {}, "egress": [{"to": to}]});
        assert!(matches!(
            check(spec(
                json!([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}])
            )),
            Egress::Denied(_)
        ));
        assert!(matches!(
            check(spec(json!([{"ipBlock": {"cidr": "169.254.170.23/32"}}]))),
            Egress::Allowed(_)
        ));
        // Selectors match pods, never the agent's link-local address (the KEDA chart's rules).
        assert!(matches!(
            check(spec(
                json!([{"namespaceSelector": {}}, {"podSelector": {}}])
            )),
            Egress::Denied(_)
        ));
        // An IPv4 block does not match the IPv6 agent address, and vice versa.
        let v6 = egress(
            &[policy(spec(json!([{"ipBlock": {"cidr": "0.0.0.0/0"}}])))],
            &op(),
            ip("fd00:ec2::23"),
            80,
        );
        assert!(matches!(v6, Egress::Denied(_)));
        let v6 = egress(
            &[policy(spec(
                json!([{"ipBlock": {"cidr": "fd00:ec2::/64"}}]),
            ))],
            &op(),
            ip("fd00:ec2::23"),
            80,
        );
        assert!(matches!(v6, Egress::Allowed(_)));
    }

    #[test]
    fn ports_protocols_and_ranges() {
        let spec = |ports: Value| json!({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": ports}]});
        let allowed = |ports| matches!(check(spec(ports)), Egress::Allowed(_));
        assert!(!allowed(json!([{"protocol": "TCP", "port": 443}])));
        assert!(!allowed(json!([{"protocol": "UDP", "port": 80}])));
        assert!(!allowed(json!([{"port": "http"}])));
        assert!(allowed(json!([{"port": 80}])));
        assert!(allowed(json!([{"port": "80"}])));
        assert!(allowed(
            json!([{"protocol": "TCP", "port": 1, "endPort": 1024}])
        ));
        assert!(allowed(json!([{"protocol": "TCP"}])));
    }

    #[test]
    fn only_policies_selecting_the_pod_count_and_any_one_allows() {
        let other = json!({"metadata": {"name": "other"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}});
        assert_eq!(
            egress(std::slice::from_ref(&other), &op(), ip(AGENT), 80),
            Egress::Unrestricted
        );
        let deny = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["keda-operator"]}]}, "policyTypes": ["Egress"]}});
        let allow = json!({"metadata": {"name": "allow"}, "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, "egress": [{"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}]}]}});
        assert_eq!(
            egress(&[other.clone(), deny.clone()], &op(), ip(AGENT), 80),
            Egress::Denied(vec!["deny".into()])
        );
        assert_eq!(
            egress(&[deny, allow], &op(), ip(AGENT), 80),
            Egress::Allowed("allow".into())
        );
    }

    #[test]
    fn cidrs() {
        assert!(in_cidr("169.254.170.23", ip(AGENT)));
        assert!(in_cidr("0.0.0.0/0", ip(AGENT)));
        assert!(!in_cidr("169.254.170.0/31", ip(AGENT)));
        assert!(!in_cidr("10.0.0.0/8", ip(AGENT)));
        assert!(!in_cidr("169.254.0.0/33", ip(AGENT)));
        assert!(in_cidr("::/0", ip("fd00:ec2::23")));
        assert!(!in_cidr("garbage", ip(AGENT)));
    }
}
