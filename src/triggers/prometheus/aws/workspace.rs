//! The AMP workspace's calls (aws-sdk-amp): find by alias or id, create, tag, delete.

use crate::cloud::read::{Read, found, read};
use crate::cloud::{Aws, CallError, gone_is_fine};
use crate::observed::{Resource as Live, Tags};
use crate::triggers::resource::Resource;
use aws_sdk_amp::operation::describe_workspace::DescribeWorkspaceError;
use std::collections::HashMap;

fn what(name: &str) -> String {
    format!("AMP workspace {name}")
}

fn tags_of(t: Option<&HashMap<String, String>>) -> Tags {
    t.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The query endpoint without its trailing slash (KEDA appends `/api/v1/query`).
fn endpoint(e: Option<&str>) -> Option<String> {
    e.map(|e| e.trim_end_matches('/').to_string())
}

fn not_found(e: &DescribeWorkspaceError) -> bool {
    e.is_resource_not_found_exception()
}

/// The workspace with this id (DescribeWorkspace).
/// The app's workspace: one kedactl owns by its alias (the one tagged with `stack` when several
/// share it), an existing one by its id.
pub(crate) async fn find(aws: &Aws, r: &Resource, stack: &str) -> Result<Read<Live>, CallError> {
    match r.managed {
        true => by_alias(aws, &r.name, stack).await,
        false => by_id(aws, &r.name).await,
    }
}

pub(crate) async fn by_id(aws: &Aws, id: &str) -> Result<Read<Live>, CallError> {
    let got = aws.amp.describe_workspace().workspace_id(id).send().await;
    let out = found!(read(got, "DescribeWorkspace", &what(id), not_found));
    let Some(w) = out.workspace() else {
        return Ok(Read::Missing);
    };
    let status = w.status().map(|s| s.status_code().as_str()).unwrap_or("");
    // A deleted workspace is listed for a while as DELETING: for kedactl it is gone.
    if status == "DELETING" {
        return Ok(Read::Missing);
    }
    Ok(Read::Found(Live {
        id: w.workspace_id().to_string(),
        arn: w.arn().to_string(),
        status: status.to_string(),
        endpoint: endpoint(w.prometheus_endpoint()),
        tags: tags_of(w.tags()),
        ..Live::default()
    }))
}

/// The workspace with exactly this alias (ListWorkspaces filters by prefix): the one tagged
/// with `stack` if several share it, else the first.
pub(crate) async fn by_alias(aws: &Aws, alias: &str, stack: &str) -> Result<Read<Live>, CallError> {
    let mut pages = aws
        .amp
        .list_workspaces()
        .alias(alias)
        .into_paginator()
        .send();
    let mut found: Vec<Live> = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match read(page, "ListWorkspaces", &what(alias), |_| false)? {
            Read::Found(p) => p,
            Read::Missing => break,
            Read::Denied(d) => return Ok(Read::Denied(d)),
            Read::Failed(e) => return Ok(Read::Failed(e)),
        };
        for w in page.workspaces() {
            let status = w.status().map(|s| s.status_code().as_str()).unwrap_or("");
            if w.alias() == Some(alias) && status != "DELETING" {
                found.push(Live {
                    id: w.workspace_id().to_string(),
                    arn: w.arn().to_string(),
                    status: status.to_string(),
                    endpoint: None,
                    tags: tags_of(w.tags()),
                    ..Live::default()
                });
            }
        }
    }
    // The summary has no endpoint; it follows from the id, as AMP builds it.
    Ok(super::ours(found, stack))
}

pub async fn create(aws: &Aws, alias: &str, tags: &Tags) -> Result<Live, CallError> {
    let out = aws
        .amp
        .create_workspace()
        .alias(alias)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| CallError::new("CreateWorkspace", what(alias), &e))?;
    Ok(Live {
        id: out.workspace_id().to_string(),
        arn: out.arn().to_string(),
        status: out
            .status()
            .map(|s| s.status_code().as_str().to_string())
            .unwrap_or_default(),
        endpoint: None,
        tags: tags.clone(),
        ..Live::default()
    })
}

pub async fn tag(aws: &Aws, arn: &str, tags: &Tags) -> Result<(), CallError> {
    aws.amp
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| CallError::new("aps:TagResource", arn, &e))?;
    Ok(())
}

pub async fn untag(aws: &Aws, arn: &str, keys: &[String]) -> Result<(), CallError> {
    aws.amp
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| CallError::new("aps:UntagResource", arn, &e))?;
    Ok(())
}

pub async fn delete(aws: &Aws, id: &str) -> Result<(), CallError> {
    let r = aws.amp.delete_workspace().workspace_id(id).send().await;
    gone_is_fine(
        r,
        &["ResourceNotFoundException"],
        "DeleteWorkspace",
        what(id),
    )
}
