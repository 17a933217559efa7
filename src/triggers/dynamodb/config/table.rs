//! The `table` section shared by the `dynamodb` and `dynamodb-streams` triggers, its
//! validation, and the resource it names.

use crate::problem::Problem;
use crate::triggers::kind::resource::{Kind, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `apps[].dynamodb.table`, `apps[].dynamodbStreams.table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Table {
    /// The table's name (3–255 characters: letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// kedactl creates the table with this key schema (on-demand billing), tags it with the
    /// stack and deletes it with `down`. Omitted: an existing table, only read (never changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Create>,
}

/// How kedactl creates a table: its key schema, and a stream when one is wanted. Nothing else
/// is set: billing is on demand, with no indexes, and AWS-owned encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Create {
    /// The partition (hash) key.
    pub partition_key: Key,
    /// The sort (range) key, if the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<Key>,
    /// A stream of item changes, with this view of each item. The dynamodb-streams trigger
    /// always has one (NEW_AND_OLD_IMAGES unless set); the dynamodb trigger only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<StreamView>,
}

/// A key attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Key {
    /// The attribute's name (1–255 bytes).
    pub name: String,
    /// S (string), N (number) or B (binary).
    #[serde(rename = "type")]
    pub kind: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KeyType {
    S,
    N,
    B,
}

/// What each stream record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamView {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

/// The resource the config names; `stream`: the view a created table's stream gets when the
/// config sets none (None: no stream).
pub fn resource(t: &Table, stream: Option<StreamView>) -> Resource {
    let settings = match &t.create {
        Some(c) => {
            let mut c = c.clone();
            c.stream_view_type = c.stream_view_type.or(stream);
            serde_json::to_value(c).unwrap_or_default()
        }
        None => serde_json::Value::Null,
    };
    Resource {
        kind: Kind::DynamodbTable,
        name: t.name.clone(),
        managed: t.create.is_some(),
        settings,
    }
}

/// A table or index name as DynamoDB accepts it: 3–255 of `[a-zA-Z0-9_.-]`.
pub fn name_rule(s: &str) -> Result<(), String> {
    let ok = (3..=255).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err("3–255 characters, letters, digits, `_`, `-` and `.` only".into())
    }
}

/// Problems with a `table` section at `at` (e.g. `apps[0].dynamodb.table`).
pub fn validate(t: &Table, at: &str, out: &mut Vec<Problem>) {
    if let Err(rule) = name_rule(&t.name) {
        out.push(Problem::new(
            format!("{at}.name"),
            format!("{:?} is not a valid DynamoDB table name", t.name),
            format!("use {rule}"),
        ));
    }
    let Some(c) = &t.create else { return };
    let mut keys = vec![("partitionKey", &c.partition_key)];
    keys.extend(c.sort_key.as_ref().map(|k| ("sortKey", k)));
    for (field, k) in &keys {
        if k.name.is_empty() || k.name.len() > 255 {
            out.push(Problem::new(
                format!("{at}.create.{field}.name"),
                format!(
                    "a key attribute's name is 1–255 bytes, not {}",
                    k.name.len()
                ),
                "name the attribute, e.g. pk",
            ));
        }
    }
    if let [(_, p), (_, s)] = keys.as_slice()
        && p.name == s.name
    {
        out.push(Problem::new(
            format!("{at}.create.sortKey.name"),
            format!("the sort key has the partition key's name {:?}", p.name),
            "give the sort key another attribute, or remove sortKey",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(create: Option<Create>) -> Table {
        Table {
            name: "orders".into(),
            create,
        }
    }

    fn key(name: &str) -> Key {
        Key {
            name: name.into(),
            kind: KeyType::S,
        }
    }

    #[test]
    fn a_created_table_carries_its_key_schema_and_stream_to_the_plan() {
        let c = Create {
            partition_key: key("pk"),
            sort_key: None,
            stream_view_type: None,
        };
        let r = resource(&table(Some(c.clone())), Some(StreamView::NewAndOldImages));
        assert!(r.managed);
        assert_eq!(r.id(), "dynamodb:table/orders");
        assert_eq!(
            r.settings,
            serde_json::json!({"partitionKey": {"name": "pk", "type": "S"}, "streamViewType": "NEW_AND_OLD_IMAGES"})
        );
        let back: Create = serde_json::from_value(r.settings).unwrap();
        assert_eq!(back.partition_key, c.partition_key);
        // The dynamodb trigger: no stream unless asked.
        let r = resource(&table(Some(c)), None);
        assert!(r.settings.get("streamViewType").is_none());
        // An existing table: read, never created.
        let r = resource(&table(None), None);
        assert!(!r.managed && r.settings.is_null());
    }

    #[test]
    fn names_and_keys_are_checked() {
        let mut out = Vec::new();
        let mut t = table(Some(Create {
            partition_key: key("pk"),
            sort_key: Some(key("pk")),
            stream_view_type: None,
        }));
        t.name = "a b".into();
        validate(&t, "apps[0].dynamodb.table", &mut out);
        let fields: Vec<&str> = out.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "apps[0].dynamodb.table.name",
                "apps[0].dynamodb.table.create.sortKey.name"
            ]
        );
        out.clear();
        t.name = "x".repeat(256);
        t.create.as_mut().unwrap().sort_key = Some(key(""));
        validate(&t, "t", &mut out);
        let fields: Vec<&str> = out.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["t.name", "t.create.sortKey.name"]);
        assert!(name_rule("ab").is_err() && name_rule("orders.v2_x-1").is_ok());
    }
}
