//! The EKS cluster as DescribeCluster shows it (read by `observe`, and by the AMP scraper's
//! create for the cluster's network).

use super::read::{Read, found, read};
use super::{Aws, CallError};
use crate::observed::Cluster;

pub(crate) async fn cluster(aws: &Aws, name: &str) -> Result<Read<Cluster>, CallError> {
    let resource = format!("EKS cluster {name}");
    let got = aws.eks.describe_cluster().name(name).send().await;
    let out = found!(read(got, "DescribeCluster", &resource, |e| {
        e.is_resource_not_found_exception()
    }));
    let Some(c) = out.cluster() else {
        return Ok(Read::Missing);
    };
    Ok(Read::Found(Cluster {
        arn: c.arn().unwrap_or_default().to_string(),
        status: c
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        version: c.version().unwrap_or_default().to_string(),
        oidc_issuer: c
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer())
            .map(str::to_string),
        endpoint: c.endpoint().map(str::to_string),
        certificate_authority: c
            .certificate_authority()
            .and_then(|ca| ca.data())
            .map(str::to_string),
        auto_mode: c
            .compute_config()
            .and_then(|cc| cc.enabled())
            .unwrap_or(false),
        endpoint_public_access: c.resources_vpc_config().map(|v| v.endpoint_public_access()),
        endpoint_private_access: c
            .resources_vpc_config()
            .map(|v| v.endpoint_private_access()),
        node_role_arn: c
            .compute_config()
            .and_then(|cc| cc.node_role_arn())
            .map(str::to_string),
        authentication_mode: c
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_string()),
        subnet_ids: c
            .resources_vpc_config()
            .map(|v| v.subnet_ids().to_vec())
            .unwrap_or_default(),
        security_group_ids: c
            .resources_vpc_config()
            .map(|v| {
                v.cluster_security_group_id()
                    .into_iter()
                    .chain(v.security_group_ids().iter().map(String::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }))
}
