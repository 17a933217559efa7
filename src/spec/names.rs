//! Naming rules of AWS and Kubernetes, as pure predicates. Each returns `Err(rule)` with the
//! rule in words, so a validation message can say exactly what a valid value looks like.

type Rule = Result<(), String>;

fn check(ok: bool, rule: &str) -> Rule {
    if ok { Ok(()) } else { Err(rule.to_string()) }
}

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Kubernetes DNS-1123 label: namespaces, app names.
pub fn dns_label(s: &str) -> Rule {
    check(
        is_dns_label(s),
        "1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
    )
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| lower_alnum(c) || c == '-')
        && s.starts_with(lower_alnum)
        && s.ends_with(lower_alnum)
}

/// Kubernetes DNS-1123 subdomain: most object names (service accounts, ScaledObjects...).
pub fn dns_subdomain(s: &str) -> Rule {
    check(
        s.len() <= 253 && s.split('.').all(is_dns_label),
        "dot-separated parts of 1-63 lowercase letters, digits or '-', each starting and ending with a letter or digit (253 characters in all)",
    )
}

/// ScaledObject and ScaledJob names: KEDA labels the HPA and the Jobs it creates with the name
/// (`scaledobject.keda.sh/name`), and a label value is at most 63 characters.
pub fn keda_object(s: &str) -> Rule {
    check(
        s.len() <= 63 && dns_subdomain(s).is_ok(),
        "1-63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit (KEDA labels its HPA with the name, and a label value is at most 63 characters)",
    )
}

/// EKS cluster name (CreateCluster: `^[0-9A-Za-z][A-Za-z0-9\-_]*`, 1-100 characters).
pub fn eks_cluster(s: &str) -> Rule {
    check(
        !s.is_empty()
            && s.len() <= 100
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "1-100 letters, digits, '-' or '_', starting with a letter or digit",
    )
}

/// AWS region code such as us-east-1, eu-central-1, us-gov-west-1, cn-north-1.
pub fn region(s: &str) -> Rule {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|_| parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit()));
    check(
        ok,
        "a region code like us-east-1 (lowercase words joined by '-', ending in a number)",
    )
}

/// AWS account ID: exactly 12 digits.
pub fn account(s: &str) -> Rule {
    check(
        s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()),
        "exactly 12 digits, quoted in YAML (account: \"123456789012\")",
    )
}

/// IAM role name: 1-64 of letters, digits and `+=,.@_-`.
pub fn iam_role(s: &str) -> Rule {
    check(
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
        "1-64 letters, digits or any of + = , . @ _ -",
    )
}

/// SQS queue name: 1-80 of letters, digits, `-` and `_`, with `.fifo` allowed as a suffix.
pub fn sqs_queue(s: &str) -> Rule {
    let base = s.strip_suffix(".fifo").unwrap_or(s);
    check(
        !base.is_empty()
            && s.len() <= 80
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "1-80 letters, digits, '-' or '_' (plus an optional .fifo suffix)",
    )
}

/// One path component of an image or ECR repository name: `[a-z0-9]+(?:[._-][a-z0-9]+)*`
/// (Docker also allows `__` and runs of `-`, which ECR accepts too).
fn is_path_component(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(lower_alnum)
        && s.ends_with(lower_alnum)
        && s.chars().all(|c| lower_alnum(c) || "._-".contains(c))
        && !s.contains("..")
        && !s.contains("._")
        && !s.contains("_.")
        && !s.contains(".-")
        && !s.contains("-.")
}

/// ECR repository name: 2-256 characters, lowercase path components separated by '/'.
pub fn ecr_repository(s: &str) -> Rule {
    check(
        (2..=256).contains(&s.len()) && s.split('/').all(is_path_component),
        "2-256 characters: lowercase letters, digits, and '.', '_', '-' between them, in '/'-separated parts",
    )
}

/// Kubernetes label value (kedactl.io/stack=<stack>): 1-63 of letters, digits, `-_.`,
/// starting and ending with a letter or digit. Also valid as an AWS tag value.
pub fn label_value(s: &str) -> Rule {
    check(
        !s.is_empty()
            && s.len() <= 63
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    )
}

/// Container image reference: `[registry[:port]/]path[:tag][@sha256:digest]`.
pub fn image(s: &str) -> Rule {
    check(
        is_image(s),
        "an image reference like 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag (lowercase path, optional :tag or @sha256:digest)",
    )
}

fn is_image(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let hex = d.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
    }
    // A tag is a ':' after the last '/'; a ':' before it belongs to the registry's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return false;
        }
    }
    let mut parts = name.split('/').peekable();
    let first = parts.next().unwrap_or("");
    let is_registry = parts.peek().is_some()
        && (first.contains('.') || first.contains(':') || first == "localhost");
    if is_registry {
        let (host, port) = first.split_once(':').unwrap_or((first, "1"));
        let host_ok = host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !host_ok || port.parse::<u16>().is_err() {
            return false;
        }
    } else if !is_path_component(first) {
        return false;
    }
    parts.all(is_path_component)
}

/// A release version `X.Y.Z` (an optional leading `v` is accepted).
pub fn version(s: &str) -> Result<(u64, u64, u64), String> {
    let rule = "a release version like 2.20.2".to_string();
    let v = s.strip_prefix('v').unwrap_or(s);
    let nums: Vec<u64> = v
        .split('.')
        .map(|p| p.parse::<u64>().map_err(|_| rule.clone()))
        .collect::<Result<_, _>>()?;
    match nums[..] {
        [a, b, c] => Ok((a, b, c)),
        _ => Err(rule),
    }
}

/// Longest URL IAM takes for an OIDC provider (`OpenIDConnectProviderUrlType`, botocore).
pub const OIDC_URL_MAX: usize = 255;

/// IRSA OIDC issuer URL as DescribeCluster returns it, and as CreateOpenIDConnectProvider
/// takes it: https, at most 255 characters, no port, query or fragment.
pub fn oidc_issuer(s: &str) -> Rule {
    let rest = s.strip_prefix("https://").unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    check(
        !host.is_empty()
            && s.len() <= OIDC_URL_MAX
            && !rest.contains(char::is_whitespace)
            && !rest.ends_with('/')
            && !rest.contains(['?', '#'])
            && !host.contains(':'),
        "an https:// URL of at most 255 characters, without port or query, like https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    )
}

/// The AWS managed key SQS uses for SSE-KMS when no customer key is given: its key policy
/// lets every principal that may use the queue decrypt through SQS, so no grant is needed.
pub const SQS_MANAGED_KEY: &str = "alias/aws/sqs";

/// How a queue's `KmsMasterKeyId` names its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsKey<'a> {
    /// `1234abcd-…` or `mrk-…`: the key ARN is built from the queue's region and account.
    Id(&'a str),
    /// `arn:aws:kms:<region>:<account>:key/<id>`: already what a grant names.
    Arn(&'a str),
    /// `alias/<name>` or its ARN: a grant on an alias grants nothing, so it must be resolved
    /// to its key (KMS DescribeKey).
    Alias(&'a str),
    /// `alias/aws/sqs`.
    SqsManaged,
}

fn is_key_id(s: &str) -> bool {
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(rest) = s.strip_prefix("mrk-") {
        return hex(rest, 32);
    }
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| hex(p, n))
}

fn is_alias_name(s: &str) -> bool {
    s.strip_prefix("alias/").is_some_and(|n| {
        (1..=250).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    })
}

impl<'a> KmsKey<'a> {
    /// Classify a key reference as SQS's `KmsMasterKeyId` accepts it; None if it is none.
    pub fn parse(s: &'a str) -> Option<Self> {
        if s == SQS_MANAGED_KEY || s.ends_with(":alias/aws/sqs") {
            return Some(KmsKey::SqsManaged);
        }
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, "kms", region, owner, resource] = parts[..] else {
                return None;
            };
            if partition.is_empty() || region.is_empty() || account(owner).is_err() {
                return None;
            }
            return match resource.strip_prefix("key/") {
                Some(id) if is_key_id(id) => Some(KmsKey::Arn(s)),
                _ if is_alias_name(resource) => Some(KmsKey::Alias(s)),
                _ => None,
            };
        }
        if is_key_id(s) {
            Some(KmsKey::Id(s))
        } else if is_alias_name(s) {
            Some(KmsKey::Alias(s))
        } else {
            None
        }
    }
}

/// A KMS key reference for SSE-KMS: key ID, key ARN, alias name or alias ARN.
pub fn kms_key(s: &str) -> Rule {
    check(
        KmsKey::parse(s).is_some(),
        "a KMS key ID (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-…), a key ARN (arn:aws:kms:<region>:<account>:key/<id>), an alias (alias/<name>: letters, digits, '/', '_', '-') or an alias ARN",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_keys() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
        assert_eq!(KmsKey::parse(id), Some(KmsKey::Id(id)));
        assert_eq!(KmsKey::parse(&arn), Some(KmsKey::Arn(&arn)));
        let mrk = "mrk-1234abcd12ab34cd56ef1234567890ab";
        assert_eq!(KmsKey::parse(mrk), Some(KmsKey::Id(mrk)));
        assert_eq!(
            KmsKey::parse("alias/orders"),
            Some(KmsKey::Alias("alias/orders"))
        );
        let alias_arn = "arn:aws-cn:kms:cn-north-1:123456789012:alias/team/orders";
        assert_eq!(KmsKey::parse(alias_arn), Some(KmsKey::Alias(alias_arn)));
        assert_eq!(KmsKey::parse("alias/aws/sqs"), Some(KmsKey::SqsManaged));
        for bad in [
            "",
            "orders",
            "alias/",
            "alias/a b",
            "1234abcd-12ab-34cd-56ef",
            "arn:aws:kms:us-east-1:123:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:sqs:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/nope",
        ] {
            assert!(kms_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_labels() {
        for ok in ["security", "keda", "a", "q-read", "a1-b2"] {
            assert!(dns_label(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Security", "-a", "a-", "a_b", "a.b", &"a".repeat(64)] {
            assert!(dns_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_subdomains() {
        assert!(dns_subdomain("my-sqs-read-msgs").is_ok());
        assert!(dns_subdomain("a.b-c.d").is_ok());
        for bad in ["", "a..b", "A", "a_b", ".a", &"a".repeat(254)] {
            assert!(dns_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clusters() {
        assert!(eks_cluster("demo").is_ok());
        assert!(eks_cluster("Prod_Cluster-2").is_ok());
        for bad in ["", "-x", "_x", "a b", "a.b", &"a".repeat(101)] {
            assert!(eks_cluster(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-2",
            "us-isob-east-1",
        ] {
            assert!(region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "us_east_1",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "u-east-1",
            "us--1",
        ] {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accounts() {
        assert!(account("123456789012").is_ok());
        assert!(account("012345678901").is_ok());
        for bad in ["", "12345678901", "1234567890123", "12345678901a"] {
            assert!(account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iam_roles() {
        assert!(iam_role("keda-operator").is_ok());
        assert!(iam_role("a+b=c,d.e@f_g-h").is_ok());
        for bad in ["", "a/b", "a b", &"a".repeat(65)] {
            assert!(iam_role(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn queues() {
        assert!(sqs_queue("event-messages-queue").is_ok());
        assert!(sqs_queue("orders_1.fifo").is_ok());
        for bad in ["", ".fifo", "a.b", "a b", "a.fifo.fifo", &"a".repeat(81)] {
            assert!(sqs_queue(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repositories() {
        assert!(ecr_repository("keda-pod-identity-registry").is_ok());
        assert!(ecr_repository("team/app.v2_x").is_ok());
        for bad in ["a", "Repo", "a//b", "/a", "a/", "a..b", "-a", "a b"] {
            assert!(ecr_repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/keda-pod-identity-registry:latest",
            "localhost:5000/app",
            "public.ecr.aws/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-x",
            "host:port/app",
            "a b",
            "app@sha256:xyz",
            "registry.example.com/",
        ] {
            assert!(image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_and_labels() {
        assert_eq!(version("2.20.2"), Ok((2, 20, 2)));
        assert_eq!(version("v2.13.0"), Ok((2, 13, 0)));
        for bad in ["", "2.20", "2.x.1", "latest", "2.20.2.1"] {
            assert!(version(bad).is_err(), "{bad}");
        }
        assert!(label_value("kedactl").is_ok());
        assert!(label_value("Team_A.prod-1").is_ok());
        for bad in ["", "-a", "a-", "a/b", &"a".repeat(64)] {
            assert!(label_value(bad).is_err(), "{bad}");
        }
        assert!(oidc_issuer("https://oidc.eks.us-east-1.amazonaws.com/id/ABC").is_ok());
        assert!(oidc_issuer("oidc.eks.us-east-1.amazonaws.com/id/ABC").is_err());
        // CreateOpenIDConnectProvider's limits: 255 characters, no port or query.
        let long = format!("https://oidc.example.com/{}", "a".repeat(230));
        assert_eq!(long.len(), 255);
        assert!(oidc_issuer(&long).is_ok());
        assert!(oidc_issuer(&format!("{long}a")).is_err());
        assert!(oidc_issuer("https://oidc.example.com:8443/id/ABC").is_err());
        assert!(oidc_issuer("https://oidc.example.com/id/ABC?x=1").is_err());
    }
}
