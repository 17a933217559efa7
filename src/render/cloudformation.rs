//! `render --format cloudformation`: the AWS half of the stack as one CloudFormation template,
//! for a StackSet to deploy across accounts and regions. Every policy document, name and tag is
//! the one `render` and `up` use (`Desired`); only the per-site values become
//! `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}`, `${AWS::URLSuffix}` and the
//! `ClusterName` parameter (`site`), and the id of a resource the template itself creates (an
//! AMP workspace's) its `Fn::GetAtt`. Pure.

use super::site::{Marks, Site, map_strings};
use super::{Desired, Role};
use crate::triggers::resource::{Kind, PLACEHOLDER};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The parameter the cluster's name is.
pub const CLUSTER_PARAMETER: &str = "ClusterName";
const SUBNETS: &str = "ScraperSubnetIds";
const GROUPS: &str = "ScraperSecurityGroupIds";
const HAS_GROUPS: &str = "HasScraperSecurityGroups";

const MARKS: Marks = Marks {
    partition: "${AWS::Partition}",
    region: "${AWS::Region}",
    account: "${AWS::AccountId}",
    dns_suffix: "${AWS::URLSuffix}",
    cluster: "${ClusterName}",
};

/// A value the template cannot write: a placeholder for something the template does not
/// create (the key behind a KMS alias).
#[derive(Debug, thiserror::Error)]
#[error("the template would hold {placeholder}, which CloudFormation cannot resolve")]
pub struct Unresolved {
    pub placeholder: String,
}

/// The template's logical ids: letters and digits from `name` after `prefix`, numbered when
/// two names give the same id (`a-b` and `ab`).
#[derive(Default)]
struct Ids(std::collections::BTreeSet<String>);

impl Ids {
    fn id(&mut self, prefix: &str, name: &str) -> String {
        let mut id = prefix.to_string();
        for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                id.push(first.to_ascii_uppercase());
                id.extend(chars);
            }
        }
        let mut unique = id.clone();
        for n in 2.. {
            if !self.0.contains(&unique) {
                break;
            }
            unique = format!("{id}{n}");
        }
        self.0.insert(unique.clone());
        unique
    }
}

struct Builder<'a> {
    d: &'a Desired,
    site: Site,
    ids: Ids,
    /// A placeholder (`<id of AMP workspace x>`) → what stands for it (`${Workspace.WorkspaceId}`).
    made: Vec<(String, String)>,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
}

impl Builder<'_> {
    /// A string of the rendered documents as the template writes it: `Ref`, `Fn::Sub`, or as is.
    fn value(&self, s: &str) -> Result<Value, Unresolved> {
        let escaped = s.replace("${", "${!");
        let mut out = self
            .site
            .neutral(&escaped, &MARKS)
            .unwrap_or_else(|| escaped.clone());
        for (placeholder, by) in &self.made {
            out = out.replace(placeholder, by);
        }
        if let Some(start) = out.find(PLACEHOLDER).or_else(|| out.find("<key of ")) {
            let end = out[start..].find('>').map_or(out.len(), |e| start + e + 1);
            return Err(Unresolved {
                placeholder: out[start..end].to_string(),
            });
        }
        if out == escaped {
            return Ok(Value::String(s.to_string()));
        }
        Ok(
            match out.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(name) if !name.contains(['$', '{', '.']) => json!({ "Ref": name }),
                _ => json!({ "Fn::Sub": out }),
            },
        )
    }

    /// A rendered document with every string as `value` writes it.
    fn document(&self, v: &Value) -> Result<Value, Unresolved> {
        let mut err = None;
        let out = map_strings(v, &mut |s| match self.value(s) {
            Ok(x) => Some(x),
            Err(e) => {
                err.get_or_insert(e);
                None
            }
        });
        err.map_or(Ok(out), Err)
    }

    fn tags(&self, tags: &BTreeMap<String, String>) -> Result<Value, Unresolved> {
        let list: Vec<Value> = tags
            .iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        self.document(&Value::Array(list))
    }

    fn add(&mut self, id: &str, kind: &str, properties: Value) {
        self.resources
            .insert(id.into(), json!({ "Type": kind, "Properties": properties }));
    }

    fn output(&mut self, id: &str, what: &str, value: Value) {
        self.outputs
            .insert(id.into(), json!({ "Description": what, "Value": value }));
    }

    /// `depends`: (ARN, logical id) of the principals the template creates, which IAM
    /// refuses in a trust policy until they exist.
    fn role(&mut self, role: &Role, depends: &[(String, String)]) -> Result<String, Unresolved> {
        let id = self.ids.id("Role", &role.name);
        let trust = role.trust.body.to_string();
        let after: Vec<&String> = depends
            .iter()
            .filter(|(arn, _)| trust.contains(&format!("\"{arn}\"")))
            .map(|(_, id)| id)
            .collect();
        let mut p = json!({
            "RoleName": role.name,
            "Path": role.path,
            "AssumeRolePolicyDocument": self.document(&role.trust.body)?,
            "Tags": self.tags(&self.d.aws_tags())?,
        });
        if !role.policies.is_empty() {
            let mut policies = Vec::new();
            for doc in &role.policies {
                policies.push(json!({
                    "PolicyName": doc.name,
                    "PolicyDocument": self.document(&doc.body)?,
                }));
            }
            p["Policies"] = policies.into();
        }
        if let Some(b) = &role.boundary {
            p["PermissionsBoundary"] = self.value(b)?;
        }
        if !role.managed_policies.is_empty() {
            let arns: Vec<Value> = role
                .managed_policies
                .iter()
                .map(|a| a.clone().into())
                .collect();
            p["ManagedPolicyArns"] = self.document(&Value::Array(arns))?;
        }
        self.add(&id, "AWS::IAM::Role", p);
        if !after.is_empty() {
            self.resources[&id]["DependsOn"] = json!(after);
        }
        let out = format!("{id}Arn");
        self.output(
            &out,
            &format!("ARN of IAM role {}", role.name),
            json!({ "Fn::GetAtt": [id, "Arn"] }),
        );
        Ok(id)
    }

    fn queues(&mut self) -> Result<(), Unresolved> {
        // Dead-letter queues come first: the queue that points at one names it by GetAtt.
        let mut ids: Vec<(String, String)> = Vec::new();
        for q in &self.d.queues {
            let id = self.ids.id("Queue", &q.name);
            let mut p = json!({ "QueueName": q.name, "Tags": self.tags(&self.d.shared_tags())? });
            for (k, v) in &q.attributes {
                p[k] = match k.as_str() {
                    "FifoQueue" => (v == "true").into(),
                    "RedrivePolicy" => {
                        let mut r: Value = serde_json::from_str(v).unwrap_or_default();
                        let target = r["deadLetterTargetArn"].as_str().unwrap_or_default();
                        r["deadLetterTargetArn"] = match ids.iter().find(|(arn, _)| arn == target) {
                            Some((_, dlq)) => json!({ "Fn::GetAtt": [dlq, "Arn"] }),
                            None => self.value(target)?,
                        };
                        r
                    }
                    _ => match v.parse::<u64>() {
                        Ok(n) => n.into(),
                        Err(_) => self.value(v)?,
                    },
                };
            }
            self.add(&id, "AWS::SQS::Queue", p);
            self.output(
                &format!("{id}Url"),
                &format!("URL of SQS queue {}", q.name),
                json!({ "Ref": id }),
            );
            ids.push((q.arn.clone(), id));
        }
        Ok(())
    }

    fn repositories(&mut self) -> Result<(), Unresolved> {
        for r in &self.d.repositories {
            let id = self.ids.id("Repository", &r.name);
            // As `up` creates it: scanned on push.
            let p = json!({
                "RepositoryName": r.name,
                "ImageScanningConfiguration": { "ScanOnPush": true },
                "Tags": self.tags(&self.d.shared_tags())?,
            });
            self.add(&id, "AWS::ECR::Repository", p);
            self.output(
                &format!("{id}Uri"),
                &format!("URI of ECR repository {}", r.name),
                json!({ "Fn::GetAtt": [id, "RepositoryUri"] }),
            );
        }
        Ok(())
    }

    fn eks(&mut self, roles: &BTreeMap<String, String>) -> Result<(), Unresolved> {
        let cluster = json!({ "Ref": CLUSTER_PARAMETER });
        if let Some(addon) = &self.d.addon {
            let id = self.ids.id("Addon", addon);
            let p = json!({
                "AddonName": addon,
                "ClusterName": cluster,
                "Tags": self.tags(&self.d.aws_tags())?,
            });
            self.add(&id, "AWS::EKS::Addon", p);
        }
        for a in &self.d.associations {
            let id = self.ids.id(
                "Association",
                &format!("{}-{}", a.namespace, a.service_account),
            );
            let role = match roles.get(&a.role) {
                Some(r) => json!({ "Fn::GetAtt": [r, "Arn"] }),
                None => self.value(&a.role_arn)?,
            };
            let p = json!({
                "ClusterName": cluster,
                "Namespace": a.namespace,
                "ServiceAccount": a.service_account,
                "RoleArn": role,
                "Tags": self.tags(&self.d.aws_tags())?,
            });
            self.add(&id, "AWS::EKS::PodIdentityAssociation", p);
        }
        Ok(())
    }

    /// IRSA: the cluster's OIDC provider, as (ARN, logical id).
    fn oidc_provider(&mut self) -> Result<Option<(String, String)>, Unresolved> {
        let Some(o) = &self.d.oidc_provider else {
            return Ok(None);
        };
        let id = self.ids.id("OidcProvider", &self.d.cluster);
        let p = json!({
            "Url": o.url,
            "ClientIdList": [super::STS_AUDIENCE],
            "Tags": self.tags(&self.d.aws_tags())?,
        });
        self.add(&id, "AWS::IAM::OIDCProvider", p);
        Ok(Some((o.arn.clone(), id)))
    }

    /// The trigger resources kedactl creates (`managed`); the ones the config only names are
    /// read, never created.
    fn trigger_resources(&mut self) -> Result<(), Unresolved> {
        for r in self.d.resources.iter().filter(|r| r.managed) {
            let tags = self.tags(&self.d.shared_tags())?;
            let s = &r.settings;
            let (prefix, kind, p) = match r.kind {
                Kind::AmpWorkspace => (
                    "Workspace",
                    "AWS::APS::Workspace",
                    json!({ "Alias": r.name, "Tags": tags }),
                ),
                Kind::AmpScraper => {
                    let eks = json!({
                        "ClusterArn": self.value(s["clusterArn"].as_str().unwrap_or_default())?,
                        "SubnetIds": { "Ref": SUBNETS },
                        "SecurityGroupIds": { "Fn::If": [HAS_GROUPS, { "Ref": GROUPS }, { "Ref": "AWS::NoValue" }] },
                    });
                    let config = s["scrapeConfiguration"].as_str().unwrap_or_default();
                    (
                        "Scraper",
                        "AWS::APS::Scraper",
                        json!({
                            "Alias": r.name,
                            "Source": { "EksConfiguration": eks },
                            "Destination": { "AmpConfiguration": {
                                "WorkspaceArn": self.value(s["workspaceArn"].as_str().unwrap_or_default())?,
                            } },
                            // AMP takes the file base64-encoded.
                            "ScrapeConfiguration": { "ConfigurationBlob": { "Fn::Base64": self.value(config)? } },
                            "Tags": tags,
                        }),
                    )
                }
                Kind::KinesisStream => {
                    let mut p = json!({ "Name": r.name, "Tags": tags });
                    match crate::triggers::kinesis::shards(s) {
                        Some(n) => p["ShardCount"] = n.into(),
                        None => p["StreamModeDetails"] = json!({ "StreamMode": "ON_DEMAND" }),
                    }
                    ("Stream", "AWS::Kinesis::Stream", p)
                }
                Kind::DynamodbTable => ("Table", "AWS::DynamoDB::Table", table(&r.name, s, tags)),
            };
            let id = self.ids.id(prefix, &r.name);
            if r.kind == Kind::AmpWorkspace {
                self.made
                    .push((r.placeholder(), format!("${{{id}.WorkspaceId}}")));
            }
            self.add(&id, kind, p);
        }
        Ok(())
    }
}

/// A DynamoDB table as `up` creates it: the key schema, on-demand, the stream when asked.
fn table(name: &str, s: &Value, tags: Value) -> Value {
    let mut keys = Vec::new();
    let mut attributes = Vec::new();
    for (key, role) in [("partitionKey", "HASH"), ("sortKey", "RANGE")] {
        if let Some(k) = s[key].as_object() {
            keys.push(json!({ "AttributeName": k["name"], "KeyType": role }));
            attributes.push(json!({ "AttributeName": k["name"], "AttributeType": k["type"] }));
        }
    }
    let mut p = json!({
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": keys,
        "AttributeDefinitions": attributes,
        "Tags": tags,
    });
    if let Some(view) = s["streamViewType"].as_str() {
        p["StreamSpecification"] = json!({ "StreamViewType": view });
    }
    p
}

/// The template for the AWS half of `d`.
pub fn template(d: &Desired) -> Result<Value, Unresolved> {
    let mut b = Builder {
        d,
        site: Site::of(d),
        ids: Ids::default(),
        made: Vec::new(),
        resources: Map::new(),
        outputs: Map::new(),
    };
    // Resources first: the placeholders they stand for are resolved in the roles' grants.
    b.trigger_resources()?;
    let mut principals: Vec<(String, String)> = b.oidc_provider()?.into_iter().collect();
    let mut ids = Ids::default();
    principals.extend(
        d.roles
            .iter()
            .map(|r| (r.arn.clone(), ids.id("Role", &r.name))),
    );
    let mut roles = BTreeMap::new();
    for role in &d.roles {
        let id = b.role(role, &principals)?;
        roles.insert(role.name.clone(), id);
    }
    b.queues()?;
    b.repositories()?;
    b.eks(&roles)?;
    let mut parameters = json!({
        CLUSTER_PARAMETER: {
            "Type": "String",
            "Description": "The EKS cluster's name",
            "Default": b.site.cluster(),
        },
    });
    let mut t = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("kedactl stack {}: the AWS half (kedactl render --format cloudformation)", d.stack),
    });
    if d.resources
        .iter()
        .any(|r| r.managed && r.kind == Kind::AmpScraper)
    {
        parameters[SUBNETS] = json!({
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets the AMP scraper reaches the cluster from (the cluster's: aws eks describe-cluster --query cluster.resourcesVpcConfig.subnetIds)",
        });
        parameters[GROUPS] = json!({
            "Type": "CommaDelimitedList",
            "Description": "Security groups of the AMP scraper (the cluster's: cluster.resourcesVpcConfig.securityGroupIds); empty for none",
            "Default": "",
        });
        t["Conditions"] = json!({
            HAS_GROUPS: { "Fn::Not": [{ "Fn::Equals": [{ "Fn::Join": [",", { "Ref": GROUPS }] }, ""] }] },
        });
    }
    t["Parameters"] = parameters;
    t["Resources"] = b.resources.into();
    if !b.outputs.is_empty() {
        t["Outputs"] = b.outputs.into();
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(d: &Desired) -> Builder<'_> {
        Builder {
            d,
            site: Site::of(d),
            ids: Ids::default(),
            made: Vec::new(),
            resources: Map::new(),
            outputs: Map::new(),
        }
    }

    #[test]
    fn per_site_values_become_refs_or_subs_and_policy_variables_stay_literal() {
        let spec = crate::render::site::spec("us-east-1", "123456789012", "demo");
        let d = crate::render::desired(&spec).unwrap();
        let b = builder(&d);
        let v = |s: &str| b.value(s).unwrap();
        assert_eq!(v("demo"), json!("demo"), "a namespace may share its name");
        assert_eq!(v("us-east-1"), json!({ "Ref": "AWS::Region" }));
        assert_eq!(v("keda"), json!("keda"));
        // A policy variable is literal text to CloudFormation: escaped inside a Sub, left
        // alone outside one.
        assert_eq!(
            v("arn:aws:s3:::b/${aws:username}/123456789012"),
            json!({ "Fn::Sub": "arn:${AWS::Partition}:s3:::b/${!aws:username}/${AWS::AccountId}" })
        );
        assert_eq!(v("home/${aws:username}"), json!("home/${aws:username}"));
        assert!(
            b.value("arn:aws:kms:us-east-1:1:key/<key of alias/x>")
                .is_err()
        );
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_never_shared() {
        let mut ids = Ids::default();
        assert_eq!(ids.id("Queue", "a-b"), "QueueAB");
        assert_eq!(ids.id("Queue", "a-b2"), "QueueAB2");
        assert_eq!(ids.id("Queue", "a_b"), "QueueAB3");
        assert_eq!(ids.id("Role", "keda-operator"), "RoleKedaOperator");
    }

    #[test]
    fn a_namespace_named_as_the_cluster_is_no_parameter() {
        let mut spec = crate::render::site::spec("us-east-1", "123456789012", "demo");
        spec.apps[0].namespace = "demo".into();
        let t = template(&crate::render::desired(&spec).unwrap()).unwrap();
        let trust = &t["Resources"]["RoleKedaIdentity"]["Properties"]["AssumeRolePolicyDocument"];
        let namespaces: Vec<&Value> = trust["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| {
                s["Condition"]["StringEquals"].get("aws:RequestTag/kubernetes-namespace")
            })
            .collect();
        assert!(namespaces.contains(&&json!("demo")), "{trust:#}");
    }
}
