use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::model::{Group, Only};
use crate::output::{self, API_VERSION};
use crate::render::{self, Desired, policy};
use crate::spec::{Problem, Problems};
use anyhow::Context;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Print the IAM policies and Kubernetes manifests, for GitOps and review
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  kedactl render --cluster demo --region us-east-1 --account 123456789012
  kedactl render --account 123456789012 --only app | kubectl apply --dry-run=server -f -
  kedactl render --account 123456789012 --out-dir out/   # out/iam/*.json, out/k8s/NN-*.yaml")]
pub struct Args {
    /// Write one file per object into this directory instead of printing
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// One rendered document and where it goes.
#[derive(Debug, Serialize)]
struct Doc {
    /// Path under --out-dir.
    file: String,
    /// What it is, for the `# Source:` header.
    title: String,
    #[serde(skip)]
    yaml: bool,
    body: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    api_version: &'static str,
    kind: &'static str,
    documents: &'a [Doc],
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let (spec, source) = ctx.spec()?;
    if spec.account.is_none() {
        return Err(Problems {
            origin: source,
            problems: vec![Problem::new(
                "account",
                "render writes ARNs and image URIs, which need the AWS account ID",
                "pass --account 123456789012 or set account: \"123456789012\" in kedactl.yaml",
            )],
        }
        .into());
    }
    let desired = render::desired(&spec)?;
    let only = Only::new(ctx.global.only.clone());
    let docs = documents(&desired, &only)?;
    if docs.is_empty() {
        return Err(UsageError {
            message: "the groups given to --only have no documents to render".into(),
            fix: "render covers iam (policies) and app (manifests): use --only iam, --only app, or neither".into(),
        }
        .into());
    }
    match &args.out_dir {
        Some(dir) => {
            let files = write(dir, &docs)?;
            if ctx.json() {
                output::json(
                    &serde_json::json!({ "apiVersion": API_VERSION, "kind": "RenderedFiles", "files": files }),
                )?;
            } else {
                ctx.note(format!("wrote {} files to {}", files.len(), dir.display()));
            }
        }
        None if ctx.json() => output::json(&Report {
            api_version: API_VERSION,
            kind: "Rendered",
            documents: &docs,
        })?,
        None => output::text(&stream(&docs)?)?,
    }
    Ok(())
}

fn documents(d: &Desired, only: &Only) -> anyhow::Result<Vec<Doc>> {
    let mut docs = Vec::new();
    if only.includes(Group::Iam) {
        for role in &d.roles {
            for (doc, what) in std::iter::once((&role.trust, "trust policy".to_string())).chain(
                role.policies
                    .iter()
                    .map(|p| (p, format!("inline policy {}", p.name))),
            ) {
                // The least-privilege promise, enforced on every document we emit.
                let broad = policy::overly_broad(&doc.body);
                anyhow::ensure!(
                    broad.is_empty(),
                    "refusing to render a broad grant: {}",
                    broad.join("; ")
                );
                docs.push(Doc {
                    file: format!("iam/{}.{}.json", role.name, doc.name),
                    title: format!(
                        "{what} of IAM role {} (from policies/{})",
                        role.name, doc.source
                    ),
                    yaml: false,
                    body: doc.body.clone(),
                });
            }
        }
    }
    if only.includes(Group::App) {
        for (i, m) in d.manifests.iter().enumerate() {
            let (kind, ns, name) = render::object_ref(m);
            let id = match &ns {
                Some(ns) => format!("{ns}-{name}"),
                None => name.clone(),
            };
            let title = match &ns {
                Some(ns) => format!("{kind} {ns}/{name}"),
                None => format!("{kind} {name}"),
            };
            docs.push(Doc {
                file: format!("k8s/{:02}-{}-{id}.yaml", i + 1, kind.to_lowercase()),
                title,
                yaml: true,
                body: m.clone(),
            });
        }
    }
    Ok(docs)
}

fn body_text(doc: &Doc) -> anyhow::Result<String> {
    Ok(if doc.yaml {
        crate::yaml::to_string(&doc.body)?
    } else {
        serde_json::to_string_pretty(&doc.body)? + "\n"
    })
}

/// One multi-document YAML stream (JSON documents are valid YAML), each with a source header.
fn stream(docs: &[Doc]) -> anyhow::Result<String> {
    let mut out = String::new();
    for doc in docs {
        out.push_str(&format!("---\n# Source: {} — {}\n", doc.file, doc.title));
        out.push_str(&body_text(doc)?);
    }
    Ok(out)
}

fn write(dir: &Path, docs: &[Doc]) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    for doc in docs {
        let path = dir.join(&doc.file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating directory {}", parent.display()))?;
        }
        std::fs::write(&path, body_text(doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
        files.push(path.display().to_string());
    }
    Ok(files)
}
