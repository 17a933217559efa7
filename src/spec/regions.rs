//! The AWS regions kedactl accepts and their partitions, from the AWS SDK's own partition data:
//! `partitions.json` is the document the aws-sdk-* crates compile into their endpoint resolver
//! (`endpoint_lib.rs`), copied verbatim; `tests/partitions.rs` fails when the SDK in Cargo.lock
//! ships another (`UPDATE_PARTITIONS=1` copies it again). Not a hand list.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The copy of the SDK's partition document.
pub const PARTITIONS_JSON: &str = include_str!("partitions.json");

#[derive(Debug, Deserialize)]
struct Document {
    partitions: Vec<Partition>,
}

#[derive(Debug, Deserialize)]
pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, …: the partition of every ARN in it.
    pub id: String,
    outputs: Outputs,
    regions: BTreeMap<String, Region>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Outputs {
    dns_suffix: String,
}

#[derive(Debug, Deserialize)]
struct Region {
    #[serde(default)]
    description: String,
}

static PARTITIONS: LazyLock<Vec<Partition>> = LazyLock::new(|| {
    serde_json::from_str::<Document>(PARTITIONS_JSON)
        .expect("src/spec/partitions.json is the SDK's partition document")
        .partitions
});

impl Partition {
    /// The DNS suffix of its endpoints (`amazonaws.com`, `amazonaws.com.cn`, …).
    pub fn dns_suffix(&self) -> &str {
        &self.outputs.dns_suffix
    }
}

/// A region's partition: the one that lists it. Not every partition is a prefix away
/// (`eusc-de-east-1` is `aws-eusc`), so the list decides, and `aws` for anything else (an
/// unknown region never gets this far: validation refuses it).
pub fn partition(region: &str) -> &'static Partition {
    let all = &*PARTITIONS;
    all.iter()
        .find(|p| p.regions.contains_key(region))
        .or_else(|| all.iter().find(|p| p.id == "aws"))
        .unwrap_or(&all[0])
}

/// Every region code the SDK knows, with its description (`eu-central-1`, "Europe
/// (Frankfurt)"). Opt-in regions (af-south-1, ap-east-1, me-south-1, …) are listed like any
/// other; the pseudo-regions `aws-global` and `aws-*-global` are not regions a stack lives in.
pub fn known() -> impl Iterator<Item = (&'static str, &'static str)> {
    PARTITIONS.iter().flat_map(|p| {
        p.regions
            .iter()
            .filter(|(code, _)| !(code.starts_with("aws-") && code.ends_with("global")))
            .map(|(code, r)| (code.as_str(), r.description.as_str()))
    })
}

pub fn is_known(region: &str) -> bool {
    known().any(|(code, _)| code == region)
}

/// The known regions closest to a mistyped one (edit distance 2 at most), nearest first.
pub fn closest(region: &str) -> Vec<&'static str> {
    let lower = region.to_ascii_lowercase();
    let mut near: Vec<(usize, &'static str)> = known()
        .map(|(code, _)| (super::load::edit_distance(&lower, code), code))
        .filter(|(d, _)| *d <= 2)
        .collect();
    near.sort();
    let best = near.first().map(|(d, _)| *d);
    near.into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_partitions_come_from_the_sdk_document() {
        for (region, id, suffix) in [
            ("us-east-1", "aws", "amazonaws.com"),
            ("af-south-1", "aws", "amazonaws.com"),
            ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
            ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
            ("us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"),
            ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
            ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
        ] {
            assert!(is_known(region), "{region}");
            assert_eq!(partition(region).id, id, "{region}");
            assert_eq!(partition(region).dns_suffix(), suffix, "{region}");
        }
        for unknown in ["us-est-1", "eu-central-3", "aws-global", "mars-north-1"] {
            assert!(!is_known(unknown), "{unknown}");
        }
        let (_, frankfurt) = known().find(|(c, _)| *c == "eu-central-1").unwrap();
        assert_eq!(frankfurt, "Europe (Frankfurt)");
    }

    #[test]
    fn a_mistyped_region_gets_the_nearest_known_ones() {
        assert_eq!(closest("us-est-1"), ["us-east-1", "us-west-1"]);
        assert_eq!(closest("eu-central-3"), ["eu-central-1", "eu-central-2"]);
        assert_eq!(closest("US-EAST-1"), ["us-east-1"]);
        assert!(closest("antarctica-1").is_empty());
    }
}
