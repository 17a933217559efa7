//! Templates and policies compiled into the binary, so one file works anywhere and debug and
//! release builds behave the same. A test checks this list against the folders on disk.

/// (file name, source) of every file in `templates/` and `policies/`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "namespace.yaml",
        include_str!("../templates/namespace.yaml"),
    ),
    (
        "serviceaccount.yaml",
        include_str!("../templates/serviceaccount.yaml"),
    ),
    (
        "deployment.yaml",
        include_str!("../templates/deployment.yaml"),
    ),
    (
        "triggerauthentication.yaml",
        include_str!("../templates/triggerauthentication.yaml"),
    ),
    (
        "scaledobject.yaml",
        include_str!("../templates/scaledobject.yaml"),
    ),
    (
        "scaledjob.yaml",
        include_str!("../templates/scaledjob.yaml"),
    ),
    ("kedactl.yaml", include_str!("../templates/kedactl.yaml")),
    (
        "scrape-config.yaml",
        include_str!("../templates/scrape-config.yaml"),
    ),
];

pub const POLICIES: &[(&str, &str)] = &[
    (
        "pod-identity-trust.json",
        include_str!("../policies/pod-identity-trust.json"),
    ),
    (
        "irsa-trust.json",
        include_str!("../policies/irsa-trust.json"),
    ),
    (
        "operator-assume.json",
        include_str!("../policies/operator-assume.json"),
    ),
    (
        "sqs-access.json",
        include_str!("../policies/sqs-access.json"),
    ),
    ("amp-query.json", include_str!("../policies/amp-query.json")),
    (
        "kinesis-read.json",
        include_str!("../policies/kinesis-read.json"),
    ),
    (
        "cloudwatch-read.json",
        include_str!("../policies/cloudwatch-read.json"),
    ),
    (
        "dynamodb-query.json",
        include_str!("../policies/dynamodb-query.json"),
    ),
    (
        "dynamodb-streams-read.json",
        include_str!("../policies/dynamodb-streams-read.json"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn on_disk(dir: &str) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
        names.sort();
        names
    }

    fn embedded(list: &[(&str, &str)]) -> Vec<String> {
        let mut names: Vec<String> = list.iter().map(|(n, _)| n.to_string()).collect();
        names.sort();
        names
    }

    #[test]
    fn every_file_on_disk_is_embedded() {
        assert_eq!(on_disk("templates"), embedded(TEMPLATES));
        assert_eq!(on_disk("policies"), embedded(POLICIES));
    }
}
