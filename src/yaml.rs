//! The one place YAML is parsed and printed. serde_yaml is archived upstream (kube moved to
//! serde-saphyr in 2026); keeping it behind these two functions makes the swap a one-file change.

use serde::{Serialize, de::DeserializeOwned};

/// A YAML syntax or shape error, with the position when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(serde_yaml::Error);

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str(text).map_err(Error)
}

pub fn to_string<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_yaml::to_string(value).map_err(Error)
}
