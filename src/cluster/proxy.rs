//! Which proxy the Kubernetes client goes through, decided as kubectl and helm decide it (Go's
//! `httpproxy`): `HTTPS_PROXY` for an https server (`HTTP_PROXY` for http), none for a host
//! `NO_PROXY` names or a loopback one. Pure: the environment is an input.

use anyhow::{Context, bail};
use http::Uri;
use std::net::IpAddr;

/// The proxy for requests to `server`, if any. `env` looks a variable up (unset or empty: None).
pub fn proxy_for(
    server: &Uri,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<Uri>> {
    let var = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
    };
    let https = server.scheme_str() != Some("http");
    let proxy = var(if https {
        ["HTTPS_PROXY", "https_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy"]
    });
    let Some((name, value)) = proxy else {
        return Ok(None);
    };
    let host = server
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
    // As Go does: a loopback server is never proxied.
    if host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
        return Ok(None);
    }
    if let Some((_, list)) = var(["NO_PROXY", "no_proxy"])
        && bypassed(&list, &host, port)
    {
        return Ok(None);
    }
    parse_proxy(&value).map(Some).with_context(|| {
        format!(
            "{name}={value:?} is not a proxy URL kedactl can use: set it to http://host:port \
             (https:// and socks5:// work too), or unset it"
        )
    })
}

/// A proxy URL; a bare `host:port` means http, as in Go.
fn parse_proxy(value: &str) -> anyhow::Result<Uri> {
    let value = value.trim();
    let url = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let uri: Uri = url.parse()?;
    if !matches!(uri.scheme_str(), Some("http" | "https" | "socks5")) {
        bail!("the scheme must be http, https or socks5");
    }
    if uri.host().is_none_or(str::is_empty) {
        bail!("it names no host");
    }
    Ok(uri)
}

/// Whether `NO_PROXY`'s comma-separated list covers host:port: `*`, an IP, a CIDR block, a
/// domain (itself and its subdomains), `.domain` or `*.domain` (subdomains only), each
/// optionally with `:port`.
fn bypassed(list: &str, host: &str, port: u16) -> bool {
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (net.parse::<IpAddr>(), bits.parse::<u32>(), ip) {
                    (Ok(net), Ok(bits), Some(ip)) => in_block(ip, net, bits),
                    _ => false,
                };
            }
            if let Ok(e) = entry.parse::<IpAddr>() {
                return ip == Some(e);
            }
            let (name, want) = split_port(&entry);
            if want.is_some_and(|p| p != port) {
                return false;
            }
            if let Ok(e) = name.parse::<IpAddr>() {
                return ip == Some(e);
            }
            match name.strip_prefix('*').unwrap_or(name).strip_prefix('.') {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == name || host.ends_with(&format!(".{name}")),
            }
        })
}

/// `host:port` or `[v6]:port` → (host, port); anything else is all host.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (host, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(i), IpAddr::V4(n)) => (u32::from(i) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(i), IpAddr::V6(n)) => (u128::from(i), u128::from(n), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
    };
    ip & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(server: &str, vars: &[(&str, &str)]) -> Option<String> {
        let env = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        proxy_for(&server.parse().unwrap(), env)
            .unwrap()
            .map(|u| u.to_string())
    }

    const EKS: &str = "https://ABC.gr7.us-east-1.eks.amazonaws.com";

    #[test]
    fn https_servers_use_https_proxy_upper_case_first() {
        assert_eq!(decide(EKS, &[]), None);
        assert_eq!(
            decide(EKS, &[("https_proxy", "http://lower:3128")]).as_deref(),
            Some("http://lower:3128/")
        );
        assert_eq!(
            decide(
                EKS,
                &[
                    ("HTTPS_PROXY", "http://upper:3128"),
                    ("https_proxy", "http://lower:3128")
                ]
            )
            .as_deref(),
            Some("http://upper:3128/")
        );
        // A bare host:port is http; HTTP_PROXY is for http servers only; empty is unset.
        assert_eq!(
            decide(EKS, &[("HTTPS_PROXY", "proxy.corp:8080")]).as_deref(),
            Some("http://proxy.corp:8080/")
        );
        assert_eq!(decide(EKS, &[("HTTP_PROXY", "http://p:1")]), None);
        assert_eq!(decide(EKS, &[("HTTPS_PROXY", " ")]), None);
        assert_eq!(
            decide("http://kube.corp:8080", &[("HTTP_PROXY", "http://p:1")]).as_deref(),
            Some("http://p:1/")
        );
    }

    #[test]
    fn no_proxy_matches_domains_ips_blocks_ports_and_star() {
        let p = ("HTTPS_PROXY", "http://proxy:3128");
        let bypassed =
            |server: &str, list: &str| decide(server, &[p, ("NO_PROXY", list)]).is_none();
        assert!(bypassed(EKS, "*"));
        assert!(bypassed(EKS, "eks.amazonaws.com"));
        assert!(bypassed(EKS, "foo, .amazonaws.com"));
        assert!(bypassed(EKS, "*.eks.amazonaws.com"));
        assert!(bypassed(EKS, "abc.gr7.us-east-1.eks.amazonaws.com:443"));
        assert!(!bypassed(EKS, "abc.gr7.us-east-1.eks.amazonaws.com:6443"));
        assert!(
            !bypassed(EKS, "ks.amazonaws.com"),
            "a suffix is whole labels"
        );
        assert!(
            !bypassed("https://amazonaws.com", ".amazonaws.com"),
            "subdomains only"
        );
        assert!(bypassed("https://amazonaws.com", "amazonaws.com"));
        assert!(bypassed("https://10.1.2.3", "10.1.2.3"));
        assert!(bypassed("https://10.1.2.3", "10.0.0.0/8"));
        assert!(!bypassed("https://11.1.2.3", "10.0.0.0/8"));
        assert!(bypassed("https://10.1.2.3:6443", "10.1.2.3:6443"));
        assert!(bypassed("https://[fd00::5]", "fd00::/8"));
        assert!(bypassed("https://[fd00::5]:443", "[fd00::5]:443"));
        assert!(!bypassed(EKS, ""));
        assert!(decide(EKS, &[p, ("no_proxy", "amazonaws.com")]).is_none());
        // Loopback is never proxied, as in Go.
        assert!(decide("https://127.0.0.1:6443", &[p]).is_none());
        assert!(decide("https://localhost", &[p]).is_none());
    }

    #[test]
    fn a_bad_proxy_url_names_the_variable_and_the_fix() {
        for bad in ["ftp://proxy:21", "http://", "http://pro xy:1"] {
            let err = proxy_for(&EKS.parse().unwrap(), |k| {
                (k == "HTTPS_PROXY").then(|| bad.to_string())
            })
            .unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("HTTPS_PROXY=") && text.contains("http://host:port"),
                "{text}"
            );
        }
    }
}
