use super::{apply, doctor, load, plan, render, scale, validate, watch};
use crate::ctx::Ctx;
use crate::output::{self, document_schema, simulation};
use serde_json::Value;

/// Print the JSON Schema of kedactl.yaml, or of the JSON documents a command prints (--kind)
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl schema > kedactl.schema.json
  # then, first line of kedactl.yaml (yaml-language-server):
  # yaml-language-server: $schema=./kedactl.schema.json
  # the schema of what `kedactl plan -o json` prints:
  kedactl schema --kind Plan > plan.schema.json

Every JSON document carries `apiVersion` and `kind` at the top; `--kind` takes that kind.")]
pub struct Args {
    /// The schema of this kind of JSON document instead (the `kind` field of `-o json`
    /// output)
    #[arg(long, value_name = "KIND", ignore_case = true, value_parser = kind_names())]
    pub kind: Option<String>,
}

/// One kind of JSON document: its name, what prints it, and its schema.
pub struct Kind {
    pub name: &'static str,
    pub printed_by: &'static str,
    pub schema: fn() -> Value,
}

/// Every kind of document kedactl prints, each with the Rust type it is serialised from.
pub const KINDS: &[Kind] = &[
    Kind {
        name: plan::KIND,
        printed_by: "plan -o json, up --dry-run -o json",
        schema: || document_schema::<plan::Report>(plan::KIND),
    },
    Kind {
        name: crate::plan::saved::KIND,
        printed_by: "plan --out FILE (the file; up --plan FILE applies it)",
        schema: || document_schema::<crate::plan::saved::SavedPlan>(crate::plan::saved::KIND),
    },
    Kind {
        name: "Up",
        printed_by: "up -o json",
        schema: || document_schema::<apply::Outcomes>("Up"),
    },
    Kind {
        name: "Down",
        printed_by: "down -o json",
        schema: || document_schema::<apply::Outcomes>("Down"),
    },
    Kind {
        name: doctor::KIND,
        printed_by: "doctor -o json, doctor --keda-log FILE -o json",
        schema: || document_schema::<doctor::Report>(doctor::KIND),
    },
    Kind {
        name: doctor::CATALOGUE_KIND,
        printed_by: "doctor --list -o json",
        schema: || document_schema::<doctor::Catalogue>(doctor::CATALOGUE_KIND),
    },
    Kind {
        name: doctor::EXPLAINED_KIND,
        printed_by: "doctor --explain CODE -o json",
        schema: || document_schema::<doctor::Explained>(doctor::EXPLAINED_KIND),
    },
    Kind {
        name: validate::KIND,
        printed_by: "validate -o json",
        schema: || document_schema::<validate::Validation>(validate::KIND),
    },
    Kind {
        name: render::KIND,
        printed_by: "render -o json",
        schema: || document_schema::<render::Report>(render::KIND),
    },
    Kind {
        name: render::FILES_KIND,
        printed_by: "render --out-dir DIR -o json",
        schema: || document_schema::<render::Written>(render::FILES_KIND),
    },
    Kind {
        name: scale::KIND,
        printed_by: "scale -o json (a line per decision), scale --once -o json",
        schema: || document_schema::<scale::Line>(scale::KIND),
    },
    Kind {
        name: watch::KIND,
        printed_by: "watch -o json (a line per refresh)",
        schema: || document_schema::<crate::output::watch::Snapshot>(watch::KIND),
    },
    Kind {
        name: load::KIND,
        printed_by: "load -o json",
        schema: || document_schema::<load::Report>(load::KIND),
    },
    Kind {
        name: simulation::KIND,
        printed_by: "simulate -o json",
        schema: || document_schema::<simulation::Simulation>(simulation::KIND),
    },
    Kind {
        name: simulation::START_KIND,
        printed_by: "simulate -o jsonl (the first line of each run)",
        schema: || document_schema::<simulation::Start>(simulation::START_KIND),
    },
    Kind {
        name: simulation::TICK_KIND,
        printed_by: "simulate -o jsonl (a line per simulated second)",
        schema: || document_schema::<crate::scaling::simulate::Tick>(simulation::TICK_KIND),
    },
    Kind {
        name: simulation::SUMMARY_KIND,
        printed_by: "simulate -o jsonl (the last line of each run)",
        schema: || document_schema::<simulation::Finished>(simulation::SUMMARY_KIND),
    },
    Kind {
        name: crate::error::KIND,
        printed_by: "any command with -o json that fails (beside the message on stderr)",
        schema: || document_schema::<crate::error::Report>(crate::error::KIND),
    },
];

/// The schema of the documents of `kind` (any case), None for a kind kedactl does not print.
pub fn of_kind(kind: &str) -> Option<Value> {
    KINDS
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(kind))
        .map(|k| (k.schema)())
}

/// `--kind`'s values: clap refuses any other with a usage error (exit 2) that lists them.
fn kind_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        KINDS
            .iter()
            .map(|k| clap::builder::PossibleValue::new(k.name).help(k.printed_by)),
    )
}

pub fn run(_ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match &args.kind {
        None => output::json(crate::spec::schema()),
        Some(kind) => {
            let schema = of_kind(kind).expect("clap admits only the kinds listed");
            output::json(&schema)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Document;
    use serde::Serialize;

    fn property_names(schema: &Value, out: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                map.values().for_each(|v| property_names(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| property_names(v, out)),
            _ => {}
        }
    }

    /// Each kind once, each schema a valid JSON Schema whose every property name is camelCase
    /// (but for the config a `Validation` carries, whose DynamoDB values are DynamoDB's `S`, `N`).
    #[test]
    fn every_kind_has_a_camel_case_schema() {
        let mut config = Vec::new();
        property_names(crate::spec::schema(), &mut config);
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len(), "a kind is listed twice");
        for kind in KINDS {
            let schema = (kind.schema)();
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{}: not a valid schema: {e}", kind.name));
            assert_eq!(schema["properties"]["kind"]["const"], kind.name);
            let mut keys = Vec::new();
            property_names(&schema, &mut keys);
            for key in keys.into_iter().filter(|k| !config.contains(k)) {
                let camel = key.starts_with(|c: char| c.is_ascii_lowercase())
                    && key.chars().all(|c| c.is_ascii_alphanumeric());
                assert!(camel, "{}: property {key:?} is not camelCase", kind.name);
            }
        }
    }

    /// The documents only AWS or a cluster produces, serialised from values here: each matches
    /// its kind's schema (the moto tests check the real runs' output the same way).
    #[test]
    fn online_documents_match_their_schemas() {
        fn check<T: Serialize>(kind: &str, body: &T) {
            let doc = serde_json::to_value(Document::new(kind, body)).unwrap();
            let schema = of_kind(kind).unwrap();
            let validator = jsonschema::validator_for(&schema).unwrap();
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{kind}: {errors:#?}\n{doc:#}");
        }
        let spec = crate::spec::Spec {
            cluster: Some("demo".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            ..crate::spec::Spec::default()
        };
        let desired = crate::render::desired(&spec).unwrap();
        let plan = crate::plan::plan(
            &desired,
            &crate::plan::Observed::default(),
            &crate::plan::Options {
                adopt: false,
                only: crate::model::Only::default(),
                ..Default::default()
            },
        )
        .unwrap();
        let outcomes: Vec<crate::exec::Outcome> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| crate::exec::Outcome {
                id: s.id.clone(),
                summary: s.summary.clone(),
                status: if i == 0 {
                    crate::exec::Status::Failed
                } else {
                    crate::exec::Status::Done
                },
                error: (i == 0).then(|| "AccessDenied".into()),
                note: (i == 1).then(|| "nothing to check".into()),
                seconds: 0.5,
            })
            .collect();
        for kind in ["Up", "Down"] {
            check(
                kind,
                &apply::Outcomes {
                    plan: plan::Report::new(&desired, &plan, false),
                    outcomes: &outcomes,
                    calls: apply::Calls {
                        read: 9,
                        mutating: 17,
                    },
                    seconds: Some(3.2),
                    refused: &["SQS queue q holds 40 messages: pass --force".into()],
                    outputs: (kind == "Up").then(|| apply::Outputs::of(&desired)),
                },
            );
        }
        // Strict: a snake_case key in a step, or a key no type names, fails.
        let mut doc = serde_json::to_value(Document::new(
            plan::KIND,
            &plan::Report::new(&desired, &plan, false),
        ))
        .unwrap();
        let validator = jsonschema::validator_for(&of_kind(plan::KIND).unwrap()).unwrap();
        assert!(validator.is_valid(&doc));
        doc["steps"][0]["role_arn"] = "arn".into();
        assert!(
            !validator.is_valid(&doc),
            "an unknown key in a step is refused"
        );
        doc["steps"][0].as_object_mut().unwrap().remove("role_arn");
        doc["extra"] = true.into();
        assert!(
            !validator.is_valid(&doc),
            "an unknown top-level key is refused"
        );

        let decision = crate::scaling::Decision {
            metric: 23,
            active: true,
            current: 1,
            target: 5,
            next: 4,
            reason: "scale up".into(),
        };
        for (t, by) in [(None, None), (Some(30), Some("keda"))] {
            check(
                scale::KIND,
                &scale::Line {
                    t,
                    by,
                    decision: &decision,
                },
            );
        }
        let snapshot = crate::output::watch::Snapshot {
            scaler: Some(Default::default()),
            hpa: Some(Default::default()),
            workload: Some(Default::default()),
            cluster_note: Some("not reached".into()),
            reading: Some("12 series".into()),
            ..Default::default()
        };
        check(watch::KIND, &snapshot);
        check(
            load::KIND,
            &load::Report {
                queue: "q",
                sent: 25,
                failed: 0,
                batches: 3,
                seconds: 0.4,
                rate: 62.5,
                interrupted: false,
            },
        );
    }
}
