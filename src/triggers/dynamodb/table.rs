//! A DynamoDB table as a trigger's resource, shared by the `dynamodb` and `dynamodb-streams`
//! triggers: its section (`config::table`) and its ARN. Its calls are in `aws::table`.

use crate::spec::target::Target;

pub use super::config::table::{
    Create, Key, KeyType, StreamView, Table, name_rule, resource, validate,
};

pub fn arn(target: &Target, name: &str) -> String {
    target.arn("dynamodb", &format!("table/{name}"))
}
