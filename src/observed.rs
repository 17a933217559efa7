//! What exists, as plain data. The AWS and Kubernetes adapters fill it (read-only); `plan` and
//! `doctor` read it. `Observed::default()` is an empty account and cluster (`plan --offline`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Who is calling (STS), when observed online.
    pub caller: Option<Caller>,
    /// The EKS cluster, when the eks group was observed.
    pub cluster: Option<Cluster>,
    /// Reads AWS refused: kept as evidence (doctor reads them); planning refuses to guess.
    #[serde(default)]
    pub denied: Vec<Denied>,
    /// Reads that failed for another reason (doctor only; `plan` stops instead): the parts
    /// they cover are unknown, not absent.
    #[serde(default)]
    pub unread: Vec<Denied>,
    pub addon: Option<Addon>,
    /// By role name.
    pub roles: BTreeMap<String, Role>,
    /// By queue name.
    pub queues: BTreeMap<String, Queue>,
    /// By repository name.
    pub repositories: BTreeMap<String, Repository>,
    /// The tags of each repository's images (ListImages), by repository name: doctor looks for
    /// the app's image among them.
    #[serde(default)]
    pub image_tags: BTreeMap<String, Vec<String>>,
    /// The key ARN of each KMS alias a queue is (or is to be) encrypted with (DescribeKey).
    #[serde(default)]
    pub kms_aliases: BTreeMap<String, String>,
    /// Aliases KMS does not know (DescribeKey: NotFound).
    #[serde(default)]
    pub unknown_aliases: Vec<String>,
    pub associations: Vec<Association>,
    /// The IAM OIDC provider of the cluster's issuer (IRSA), when it exists.
    #[serde(default)]
    pub oidc_provider: Option<OidcProvider>,
    /// The roles in the account whose trust names that provider (every role, read by `down`
    /// only): None when not read.
    #[serde(default)]
    pub oidc_trusted_by: Option<Vec<String>>,
    pub keda: Option<Keda>,
    /// Why KEDA's presence could not be told (`keda` is None then, meaning "not seen", not
    /// "absent"): every cluster-wide read that would show it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keda_unknown: Option<String>,
    /// Kubernetes objects as the API server returns them.
    pub objects: Objects,
    /// The apps' existing workloads were looked for (their objects are in `objects`): false
    /// offline, or when `--only` leaves the app out.
    #[serde(default)]
    pub workloads_read: bool,
    /// What the stack's own namespaces hold besides its objects (`kind name`), read by `down`.
    #[serde(default)]
    pub namespace_contents: BTreeMap<String, Vec<String>>,
    /// What could not be listed in those namespaces (why): such a namespace is kept.
    #[serde(default)]
    pub namespace_unchecked: BTreeMap<String, Vec<String>>,
    /// The managed policies the config names (`roles.permissionsBoundary`,
    /// `apps[].managedPolicies`), by ARN, when read: the default version's document, or None
    /// when IAM has no such policy.
    #[serde(default)]
    pub policies: BTreeMap<String, Option<Value>>,
    /// Trigger resources (an AMP workspace...), by their step id (`aps:workspace/<alias>`).
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
    /// What each trigger resource holds (a table's items, a stream's records), by step id;
    /// read by `down` only.
    #[serde(default)]
    pub data: BTreeMap<String, Data>,
}

/// What a resource holds that its deletion destroys: `down` deletes it only with `--force`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// How many; null when they could not be counted (`unknown` says why).
    pub count: Option<u64>,
    /// What is counted, plural: messages, items, records, images, metrics.
    pub unit: String,
    /// `count` is a lower bound (kedactl stopped counting there).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_least: bool,
    /// The parts of `count` (an SQS queue's visible, in-flight and delayed messages).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, u64>,
    /// Why it could not be counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

impl Data {
    pub fn counted(count: u64, unit: &str) -> Self {
        Data {
            count: Some(count),
            unit: unit.to_string(),
            at_least: false,
            parts: BTreeMap::new(),
            unknown: None,
        }
    }

    pub fn unknown(unit: &str, why: impl Into<String>) -> Self {
        Data {
            count: None,
            unknown: Some(why.into()),
            ..Data::counted(0, unit)
        }
    }

    /// Nothing would be lost: counted, and none.
    pub fn is_empty(&self) -> bool {
        self.count == Some(0)
    }

    /// `2,060 messages`, `at least 500 records`, `an unknown number of items (why)`.
    pub fn describe(&self) -> String {
        match self.count {
            Some(n) => {
                let unit = if n == 1 {
                    self.unit.strip_suffix('s').unwrap_or(&self.unit)
                } else {
                    &self.unit
                };
                let at_least = if self.at_least { "at least " } else { "" };
                format!("{at_least}{} {unit}", thousands(n))
            }
            None => format!(
                "an unknown number of {} ({})",
                self.unit,
                self.unknown.as_deref().unwrap_or("not read")
            ),
        }
    }
}

/// `2060` → `2,060`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The `deadLetterTargetArn` of a queue's RedrivePolicy (a JSON string attribute), live or
/// configured.
pub fn dead_letter_arn(attributes: &BTreeMap<String, String>) -> Option<String> {
    let policy: serde_json::Value = serde_json::from_str(attributes.get("RedrivePolicy")?).ok()?;
    policy["deadLetterTargetArn"].as_str().map(str::to_string)
}

/// An SQS queue's messages from its attributes: visible, in flight (received, not yet deleted)
/// and delayed, each approximate as SQS says; an attribute that is absent or not a number makes
/// the count unknown.
pub fn queue_messages(attributes: &BTreeMap<String, String>) -> Data {
    let mut data = Data::counted(0, "messages");
    for (key, part) in [
        ("ApproximateNumberOfMessages", "visible"),
        ("ApproximateNumberOfMessagesNotVisible", "inFlight"),
        ("ApproximateNumberOfMessagesDelayed", "delayed"),
    ] {
        match attributes.get(key).and_then(|v| v.parse::<u64>().ok()) {
            Some(n) => {
                data.parts.insert(part.to_string(), n);
            }
            None => return Data::unknown("messages", format!("SQS did not report {key}")),
        }
    }
    data.count = Some(data.parts.values().sum());
    data
}

/// A live AWS resource a trigger kind uses (`triggers::resource`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The service's own id (an AMP workspace id, a stream or table name).
    pub id: String,
    pub arn: String,
    /// As the service spells it: ACTIVE, CREATING...
    pub status: String,
    /// Where clients reach it, when it has its own address (an AMP workspace's query endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// Why the service put it in a failed status (an AMP scraper's `statusReason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What it was made with, in the shape of `triggers::resource::Resource::settings`, where
    /// the kind compares it with the config (an AMP scraper's cluster and workspace).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub arn: String,
    pub status: String,
    pub version: String,
    pub oidc_issuer: Option<String>,
    /// The API server URL (absent while the cluster is being created).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `certificateAuthority.data`: base64 of the PEM CA bundle.
    #[serde(default)]
    pub certificate_authority: Option<String>,
    /// EKS Auto Mode (`computeConfig.enabled`): Pod Identity works without the add-on.
    #[serde(default)]
    pub auto_mode: bool,
    /// `resourcesVpcConfig.endpointPublicAccess` / `endpointPrivateAccess`: a cluster without
    /// public access is usually one whose nodes reach AWS through VPC endpoints only.
    #[serde(default)]
    pub endpoint_public_access: Option<bool>,
    #[serde(default)]
    pub endpoint_private_access: Option<bool>,
    /// Auto Mode's node role (`computeConfig.nodeRoleArn`).
    #[serde(default)]
    pub node_role_arn: Option<String>,
    /// `accessConfig.authenticationMode`: API, API_AND_CONFIG_MAP or CONFIG_MAP (None: not
    /// reported). An AMP scraper gets its access entry only in the first two.
    #[serde(default)]
    pub authentication_mode: Option<String>,
    /// `resourcesVpcConfig.subnetIds`: where an AMP scraper puts its network interfaces.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// The cluster security group and `resourcesVpcConfig.securityGroupIds`.
    #[serde(default)]
    pub security_group_ids: Vec<String>,
}

/// A read that did not succeed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Denied {
    /// e.g. "GetRole".
    pub operation: String,
    pub resource: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Addon {
    /// CREATING, ACTIVE, CREATE_FAILED, UPDATING, DELETING, DELETE_FAILED, DEGRADED, UPDATE_FAILED.
    pub status: String,
    /// `health.issues`: "<code>: <message>".
    #[serde(default)]
    pub issues: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub arn: String,
    /// The trust policy, already URL-decoded and parsed.
    pub trust: Value,
    /// Inline policies by name, decoded and parsed.
    #[serde(default)]
    pub inline: BTreeMap<String, Value>,
    /// ARNs of attached managed policies (must be detached before the role can be deleted).
    #[serde(default)]
    pub attached: Vec<String>,
    /// The default version of each attached policy and of the boundary, by ARN.
    #[serde(default)]
    pub managed: BTreeMap<String, Value>,
    /// The permissions boundary's ARN: what the role may do at most.
    #[serde(default)]
    pub boundary: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// The IAM path (`/service-roles/`), when read (GetRole).
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub url: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    pub arn: String,
    /// Images it holds: `down` refuses to delete a non-empty repository without --force.
    #[serde(default)]
    pub images: usize,
    #[serde(default)]
    pub tags: Tags,
}

/// An IAM OIDC identity provider (GetOpenIDConnectProvider).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcProvider {
    pub arn: String,
    /// As IAM stores it: the issuer without `https://`.
    pub url: String,
    /// The audiences it accepts (`sts.amazonaws.com` for IRSA).
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    #[serde(default)]
    pub tags: Tags,
    /// Last change (RFC 3339): pods started before it may use an old role.
    #[serde(default)]
    pub modified_at: Option<String>,
    /// `disableSessionTags`: EKS sends no session tags, so trust conditions on them fail.
    #[serde(default)]
    pub session_tags_disabled: bool,
    /// `targetRoleArn`: EKS assumes this role too, and the pod gets its credentials.
    #[serde(default)]
    pub target_role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keda {
    pub namespace: String,
    /// From the operator image tag; "unknown" when no operator runs.
    pub version: String,
    /// The stack whose `up` installed it (kedactl's marker ConfigMap); None: installed otherwise.
    #[serde(default)]
    pub installed_by: Option<String>,
    /// Every keda.sh object in the cluster (`kind ns/name`), of each kind whose CRD exists:
    /// KEDA is uninstalled only when none but this stack's remain.
    #[serde(default)]
    pub objects: Vec<String>,
    /// Parts of a KEDA install that are absent (`CRD scaledobjects.keda.sh`, `Deployment keda/…`).
    #[serde(default)]
    pub missing: Vec<String>,
    /// The helm release `keda` in its namespace, when helm installed it.
    #[serde(default)]
    pub release: Option<Release>,
    /// The chart values (`keda.values`) this stack's `up` installed it with, from kedactl's
    /// marker; None when the marker records none (nothing given, or an older kedactl).
    #[serde(default)]
    pub values: Option<serde_json::Map<String, Value>>,
}

/// A helm release, from its newest record (`sh.helm.release.v1.<name>.v<N>` Secret labels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub revision: u64,
    /// deployed, failed, pending-install, pending-upgrade, pending-rollback, uninstalling, …
    pub status: String,
}

impl Release {
    /// Another helm operation holds the release: helm refuses the next one until it is resolved.
    pub fn is_pending(&self) -> bool {
        self.status.starts_with("pending") || self.status == "uninstalling"
    }
}

impl Keda {
    /// Does `up` need to run helm again on a KEDA this stack installed? (Its operator or CRDs
    /// are gone, or its last release failed.)
    pub fn needs_repair(&self, stack: &str) -> bool {
        self.installed_by.as_deref() == Some(stack)
            && (!self.missing.is_empty()
                || self.release.as_ref().is_some_and(|r| r.status == "failed"))
    }

    /// The operator Deployment is there (it may still be starting).
    pub fn has_operator(&self) -> bool {
        !self
            .missing
            .iter()
            .any(|m| m.starts_with("Deployment ") && m.ends_with("/keda-operator"))
    }
}

impl Observed {
    /// The object with this kind, namespace and name, if it exists.
    pub fn object(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(kind, namespace, name)
    }
}

/// A Kubernetes object's kind, namespace and name.
pub type ObjectKey = (String, Option<String>, String);

/// Kubernetes objects in the order read, indexed by kind, namespace and name: `plan`, `down`
/// and pruning look one up per manifest, and a stack of thousands of apps has five each. The
/// index is kept by every change of their number (`push`, `extend`, `edit`); reads and
/// in-place changes go through the slice.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Value>", into = "Vec<Value>")]
pub struct Objects {
    items: Vec<Value>,
    /// Where the first object of each key is.
    index: std::collections::HashMap<ObjectKey, usize>,
}

impl Objects {
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Value> {
        let key = (
            kind.to_string(),
            namespace.map(str::to_string),
            name.to_string(),
        );
        let found = &self.items[*self.index.get(&key)?];
        // Changes through the slice keep names (rename with `edit`); one renamed there anyway
        // is not found by its old name.
        match crate::model::object_ref(found) == key {
            true => Some(found),
            false => self
                .items
                .iter()
                .find(|o| crate::model::object_ref(o) == key),
        }
    }

    pub fn push(&mut self, object: Value) {
        self.index
            .entry(crate::model::object_ref(&object))
            .or_insert(self.items.len());
        self.items.push(object);
    }

    /// Change the objects in place; the index is built again after.
    pub fn edit(&mut self, change: impl FnOnce(&mut Vec<Value>)) {
        change(&mut self.items);
        *self = std::mem::take(&mut self.items).into();
    }
}

impl std::ops::Deref for Objects {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.items
    }
}

/// In-place changes of the objects' contents (not their number: `push`, `extend`, `edit`).
impl std::ops::DerefMut for Objects {
    fn deref_mut(&mut self) -> &mut [Value] {
        &mut self.items
    }
}

impl PartialEq for Objects {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl Extend<Value> for Objects {
    fn extend<I: IntoIterator<Item = Value>>(&mut self, objects: I) {
        for o in objects {
            self.push(o);
        }
    }
}

impl FromIterator<Value> for Objects {
    fn from_iter<I: IntoIterator<Item = Value>>(objects: I) -> Self {
        let mut out = Objects::default();
        out.extend(objects);
        out
    }
}

impl From<Vec<Value>> for Objects {
    fn from(objects: Vec<Value>) -> Self {
        objects.into_iter().collect()
    }
}

impl From<Objects> for Vec<Value> {
    fn from(objects: Objects) -> Self {
        objects.items
    }
}

impl<'a> IntoIterator for &'a Objects {
    type Item = &'a Value;
    type IntoIter = std::slice::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// `kind ns/name` for messages.
pub fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_found_by_kind_namespace_and_name_and_stay_found_through_changes() {
        let ns = |n: &str| serde_json::json!({"kind": "Namespace", "metadata": {"name": n}});
        let sa = |n: &str, x: u32| {
            serde_json::json!({"kind": "ServiceAccount",
            "metadata": {"name": n, "namespace": "a"}, "x": x})
        };
        let mut o: Objects = vec![ns("a"), sa("s", 1), sa("s", 2)].into();
        // The first of a key, as a walk would find it.
        assert_eq!(o.get("ServiceAccount", Some("a"), "s").unwrap()["x"], 1);
        assert!(o.get("ServiceAccount", None, "s").is_none());
        assert!(o.get("Namespace", None, "a").is_some());
        o.push(ns("b"));
        assert!(o.get("Namespace", None, "b").is_some());
        o.edit(|v| v.retain(|x| x["x"] != 1));
        assert_eq!(o.get("ServiceAccount", Some("a"), "s").unwrap()["x"], 2);
        // Renamed in place: not found by its old name.
        o[0]["metadata"]["name"] = "c".into();
        assert!(o.get("Namespace", None, "a").is_none());
        // Serialized as the list it is.
        let text = serde_json::to_string(&o).unwrap();
        assert!(text.starts_with('['), "{text}");
        let back: Objects = serde_json::from_str(&text).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn a_queue_holds_its_visible_in_flight_and_delayed_messages() {
        let attrs = |v: &str, nv: &str, d: &str| -> BTreeMap<String, String> {
            [
                ("ApproximateNumberOfMessages", v),
                ("ApproximateNumberOfMessagesNotVisible", nv),
                ("ApproximateNumberOfMessagesDelayed", d),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let d = queue_messages(&attrs("2000", "50", "10"));
        assert_eq!(d.count, Some(2060));
        assert_eq!(d.parts["inFlight"], 50);
        assert_eq!(d.describe(), "2,060 messages");
        assert!(queue_messages(&attrs("0", "0", "0")).is_empty());
        assert_eq!(
            queue_messages(&attrs("0", "1", "0")).describe(),
            "1 message"
        );
        // A count SQS did not give is unknown, never zero.
        let mut partial = attrs("0", "0", "0");
        partial.remove("ApproximateNumberOfMessagesDelayed");
        let d = queue_messages(&partial);
        assert!(!d.is_empty() && d.count.is_none());
        assert!(d.describe().contains("ApproximateNumberOfMessagesDelayed"));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
