//! kedactl: event-driven autoscaling on SQS for EKS with KEDA and Pod Identity.
//!
//! One model serves every command: `spec` (kedactl.yaml + flags) → `render::desired` (pure) →
//! `plan::plan(desired, observed)` (pure) → an executor. See the README's module map.

pub mod assets;
pub mod cli;
pub mod cloud;
pub mod cluster;
pub mod commands;
pub mod ctx;
pub mod doctor;
pub mod error;
pub mod exec;
pub mod limits;
pub mod model;
pub mod observe;
pub mod observed;
pub mod output;
pub mod plan;
pub mod pod_security;
pub mod problem;
pub mod progress;
pub mod render;
pub mod scaling;
pub mod spec;
pub mod templates;
pub mod triggers;
pub mod unique;
pub mod version;
pub mod yaml;
