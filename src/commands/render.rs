use crate::cloud::caller_policy;
use crate::cloud::permissions::Command;
use crate::ctx::Ctx;
use crate::error::UsageError;
use crate::model::{Group, Only};
use crate::output::{self, API_VERSION};
use crate::render::placeholders::{self, Placeholder};
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
  # check the manifests against the cluster (the account from kedactl.yaml)
  kedactl render --only app | kubectl apply --dry-run=server -f -
  kedactl render --account 123456789012 --out-dir out/   # out/iam/*.json, out/k8s/NN-*.yaml
  # the IAM policy a CI role needs for this stack (docs/permissions.md)
  kedactl render --caller-policy --account 123456789012
  kedactl render --caller-policy --commands plan,doctor   # a read-only review role
  # for StackSets and for Argo CD or Flux (docs/export.md)
  kedactl render --format cloudformation > kedactl.template.json
  kedactl render --format kustomize --out-dir gitops/")]
pub struct Args {
    /// Write one file per object into this folder instead of printing; the folder then holds
    /// exactly this render (files an earlier render wrote and this one does not are removed,
    /// as listed in DIR/.kedactl-render.json); a folder kedactl did not write must be empty
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// With --out-dir: write into a non-empty folder kedactl did not write, and overwrite or
    /// remove files of an earlier render that were edited since
    #[arg(long, requires = "out_dir")]
    pub force: bool,
    /// Exit 3, printing and writing nothing, when a document would hold a placeholder (a value
    /// only AWS knows, such as the id of a workspace `up` has not created yet)
    #[arg(long)]
    pub strict: bool,
    /// Print instead the IAM policy the caller of kedactl (a CI role) needs to run --commands
    /// on this stack: every action kedactl calls, on the stack's ARNs (`*` only for actions
    /// without resource-level permissions)
    #[arg(long, conflicts_with_all = ["out_dir", "strict"])]
    pub caller_policy: bool,
    /// With --caller-policy: the commands the policy is for
    #[arg(
        long,
        value_delimiter = ',',
        requires = "caller_policy",
        value_name = "COMMANDS",
        default_value = "up,plan,doctor,down"
    )]
    pub commands: Vec<Command>,
    /// With --caller-policy: the ARN of the role or user that will hold the policy, so doctor
    /// may ask the IAM policy simulator about it (without it, doctor's simulator questions
    /// are answered from the policy documents instead)
    #[arg(long, requires = "caller_policy", value_name = "ARN")]
    pub caller_arn: Option<String>,
    /// What to write (kustomize needs --out-dir: DIR/base and DIR/overlays/<cluster>;
    /// docs/export.md)
    #[arg(
        long,
        value_enum,
        default_value_t = Format::Documents,
        conflicts_with = "caller_policy"
    )]
    pub format: Format,
}

/// `render --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The IAM policies and Kubernetes manifests, as a stream or one file each
    Documents,
    /// The AWS half as one CloudFormation template (for a StackSet)
    Cloudformation,
    /// The Kubernetes half as a Kustomize base and this cluster's overlay (for Argo CD, Flux)
    Kustomize,
}

/// One rendered document and where it goes.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Doc {
    /// Path under --out-dir.
    pub file: String,
    /// What it is, for the `# Source:` header.
    pub title: String,
    #[serde(skip)]
    yaml: bool,
    /// The policy (JSON) or manifest (YAML in the stream).
    pub body: Value,
}

/// `render -o json`: every policy and manifest.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Report<'a> {
    pub documents: &'a [Doc],
    /// Values render could not know and wrote as placeholders (also said on stderr).
    pub placeholders: &'a [Placeholder],
}

/// The kinds of render's documents: the stream, and what `--out-dir` wrote.
pub const KIND: &str = "Rendered";
pub const FILES_KIND: &str = "RenderedFiles";

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
    if args.caller_policy {
        if let Some(arn) = &args.caller_arn
            && !(arn.starts_with("arn:") && (arn.contains(":iam::") || arn.contains(":sts::")))
        {
            return Err(UsageError {
                message: format!("--caller-arn {arn:?} is not an IAM role or user ARN"),
                fix: "pass the ARN `aws sts get-caller-identity` prints for the CI role, e.g. arn:aws:iam::123456789012:role/ci".into(),
            }
            .into());
        }
        let doc = caller_policy::caller_policy(
            &desired,
            &only,
            &args.commands,
            caller_policy::Caller(args.caller_arn.as_deref()),
        );
        if doc["Statement"].as_array().is_none_or(Vec::is_empty) {
            return Err(UsageError {
                message: "the groups given to --only make no AWS calls for these --commands".into(),
                fix: "add a group with AWS resources (iam, queue, registry, source, eks) or drop --only".into(),
            }
            .into());
        }
        return output::text(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
    }
    if args.format != Format::Documents && !ctx.global.only.is_empty() {
        return Err(UsageError {
            message: "--only does not apply to --format cloudformation or kustomize".into(),
            fix: "drop --only: the template holds the AWS half, the Kustomize folders the Kubernetes half".into(),
        }
        .into());
    }
    if args.format == Format::Kustomize && args.out_dir.is_none() {
        return Err(UsageError {
            message: "--format kustomize writes folders, and no --out-dir was given".into(),
            fix: "pass --out-dir DIR (DIR/base and DIR/overlays/<cluster> are written)".into(),
        }
        .into());
    }
    if args.format == Format::Cloudformation {
        return cloudformation(ctx, &desired, &args, source);
    }
    let only = match args.format {
        Format::Kustomize => Only::new(vec![Group::App]),
        _ => only,
    };
    let docs = documents(&desired, &only)?;
    if docs.is_empty() {
        return Err(UsageError {
            message: "the groups given to --only have no documents to render".into(),
            fix: "render covers iam (policies) and app (manifests): use --only iam, --only app, or neither".into(),
        }
        .into());
    }
    let guessed = placeholders::find(
        docs.iter().map(|d| (d.file.as_str(), &d.body)),
        &desired.resources,
    );
    if args.strict && !guessed.is_empty() {
        return Err(Problems {
            origin: format!("{source} (render --strict)"),
            problems: guessed
                .iter()
                .map(|p| {
                    Problem::new(
                        p.field.clone(),
                        format!(
                            "render would write {} into {}",
                            p.placeholder,
                            p.files.join(", ")
                        ),
                        p.fix.clone(),
                    )
                })
                .collect(),
        }
        .into());
    }
    // Said before the documents, so a reader of a terminal sees it whatever they pipe.
    if !guessed.is_empty() {
        ctx.note(guesses_note(&guessed));
    }
    match &args.out_dir {
        Some(dir) if args.format == Format::Kustomize => {
            let mut w = kustomize(&desired, dir, &docs, args.force)?;
            w.placeholders = guessed;
            report_written(ctx, dir, &w)?;
        }
        Some(dir) => {
            let mut w = write(dir, &docs, args.force)?;
            w.placeholders = guessed;
            report_written(ctx, dir, &w)?;
        }
        None if ctx.json() => output::document(
            KIND,
            &Report {
                documents: &docs,
                placeholders: &guessed,
            },
        )?,
        None => output::text(&stream(&docs)?)?,
    }
    Ok(())
}

/// What a render into folders wrote: `-o json`'s document, or a line on stderr.
fn report_written(ctx: &Ctx, dir: &Path, w: &Written) -> anyhow::Result<()> {
    if ctx.json() {
        return output::document(FILES_KIND, w);
    }
    let mut note = format!("wrote {} files to {}", w.files.len(), dir.display());
    if !w.removed.is_empty() {
        note.push_str(&format!(
            "; removed {} an earlier render wrote: {}",
            w.removed.len(),
            w.removed.join(", ")
        ));
    }
    ctx.note(note);
    Ok(())
}

/// `--format cloudformation`: the template on stdout, or as DIR/kedactl.template.json.
fn cloudformation(ctx: &Ctx, d: &Desired, args: &Args, source: String) -> anyhow::Result<()> {
    let template = render::cloudformation::template(d).map_err(|e| {
        let (field, fix) = placeholders::resolve(&e.placeholder, &d.resources);
        Problems {
            origin: format!("{source} (render --format cloudformation)"),
            problems: vec![Problem::new(
                field,
                format!(
                    "the template would hold {}, a value only AWS knows and the template does not create",
                    e.placeholder
                ),
                fix,
            )],
        }
    })?;
    match &args.out_dir {
        Some(dir) => {
            let doc = Doc {
                file: "kedactl.template.json".into(),
                title: "CloudFormation template".into(),
                yaml: false,
                body: template,
            };
            let w = write(dir, std::slice::from_ref(&doc), args.force)?;
            report_written(ctx, dir, &w)
        }
        None => output::text(&format!("{}\n", serde_json::to_string_pretty(&template)?)),
    }
}

/// `--format kustomize`: DIR/base (shared by the clusters rendered from this config) and
/// DIR/overlays/<cluster>, each its own render folder (its own manifest), so one cluster's
/// render never removes another's overlay. Both are checked before either is written.
fn kustomize(d: &Desired, dir: &Path, docs: &[Doc], force: bool) -> anyhow::Result<Written> {
    let manifests: Vec<(String, Value)> = docs
        .iter()
        .map(|doc| {
            let file = doc.file.strip_prefix("k8s/").unwrap_or(&doc.file);
            (file.to_string(), doc.body.clone())
        })
        .collect();
    let (base, overlay) = render::kustomize::export(d, &manifests);
    let folder = |files: render::kustomize::Files| -> Vec<Doc> {
        files
            .into_iter()
            .map(|(file, body)| Doc {
                title: format!("Kustomize {file}"),
                file,
                yaml: true,
                body,
            })
            .collect()
    };
    let pending = [
        prepare(&dir.join("base"), &folder(base), force)?,
        prepare(
            &dir.join("overlays").join(&d.cluster),
            &folder(overlay),
            force,
        )?,
    ];
    let mut out = Written::default();
    for p in pending {
        let w = p.commit()?;
        out.files.extend(w.files);
        out.removed.extend(w.removed);
    }
    Ok(out)
}

/// The stderr lines for the placeholders render wrote: each, where, and how to resolve it.
fn guesses_note(guessed: &[Placeholder]) -> String {
    let mut note = format!(
        "warning: render wrote {} placeholder{} where a value only AWS knows belongs (render --strict refuses):",
        guessed.len(),
        if guessed.len() == 1 { "" } else { "s" }
    );
    for p in guessed {
        note.push_str(&format!(
            "\n  - {} in {}\n    fix ({}): {}",
            p.placeholder,
            p.files.join(", "),
            p.field,
            p.fix
        ));
    }
    note
}

fn documents(d: &Desired, only: &Only) -> anyhow::Result<Vec<Doc>> {
    let mut docs = Vec::new();
    if only.includes(Group::Iam) {
        // The guardrails, when the config sets any: each role as CreateRole and
        // AttachRolePolicy are given it (AWS::IAM::Role property names, and the Arn).
        let guarded = !d.user_tags.is_empty()
            || d.roles
                .iter()
                .any(|r| r.path != "/" || r.boundary.is_some() || !r.managed_policies.is_empty());
        for role in d.roles.iter().filter(|_| guarded) {
            docs.push(Doc {
                file: format!("iam/{}.role.json", role.name),
                title: format!(
                    "IAM role {}: path, permissions boundary, managed policies and tags",
                    role.name
                ),
                yaml: false,
                body: role_properties(d, role),
            });
        }
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
    if only.includes(Group::Source) {
        for r in &d.resources {
            if let Some((title, body)) = crate::triggers::resource::review(r)? {
                docs.push(Doc {
                    file: format!("aws/{}-{}.yaml", r.kind.file_stem(), r.name),
                    title,
                    yaml: true,
                    body,
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
    if only.includes(Group::Keda) {
        docs.push(keda_install(d));
    }
    Ok(docs)
}

/// KEDA's install as `up` runs it: the helm command, and the values the chart gets (the
/// config's `keda.values` under kedactl's own).
fn keda_install(d: &Desired) -> Doc {
    use crate::cluster::helm;
    use crate::spec::keda_values;
    const FILE: &str = "keda/values.yaml";
    let k = &d.keda;
    let irsa_role_arn = (d.auth_mode == crate::spec::AuthMode::Irsa)
        .then(|| {
            d.roles
                .iter()
                .find(|r| r.purpose == render::RolePurpose::Operator)
        })
        .flatten()
        .map(|r| r.arn.clone());
    let owned = keda_values::owned(
        &k.version,
        &k.service_account,
        d.auth_mode,
        irsa_role_arn.as_deref(),
    );
    let args = helm::install_args(&helm::Install {
        namespace: k.namespace.clone(),
        version: k.version.clone(),
        service_account: k.service_account.clone(),
        irsa_role_arn,
        values_file: (!k.values.is_empty()).then(|| FILE.to_string()),
    });
    Doc {
        file: FILE.into(),
        title: format!(
            "KEDA's chart values (keda.values under kedactl's own); up runs: {}",
            helm::command_line(&args)
        ),
        yaml: true,
        body: Value::Object(keda_values::effective(&k.values, &owned)),
    }
}

/// A role's own settings, beside its policy documents.
fn role_properties(d: &Desired, role: &render::Role) -> Value {
    let tags: Vec<Value> = d
        .aws_tags()
        .into_iter()
        .map(|(k, v)| serde_json::json!({ "Key": k, "Value": v }))
        .collect();
    let mut body = serde_json::json!({
        "RoleName": role.name,
        "Arn": role.arn,
        "Path": role.path,
    });
    if let Some(b) = &role.boundary {
        body["PermissionsBoundary"] = b.clone().into();
    }
    if !role.managed_policies.is_empty() {
        body["ManagedPolicyArns"] = role.managed_policies.clone().into();
    }
    body["Tags"] = tags.into();
    body
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

/// The file in an `--out-dir` folder that lists what kedactl wrote there, with each file's
/// SHA-256, so the next render removes exactly its own stale files and notices hand edits.
pub const MANIFEST: &str = ".kedactl-render.json";
const MANIFEST_KIND: &str = "RenderManifest";

#[derive(Debug, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    api_version: String,
    kind: String,
    /// Path under the folder → "sha256:<hex>" of what kedactl wrote.
    files: std::collections::BTreeMap<String, String>,
}

/// What a render into a folder did (`render --out-dir -o json`).
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Written {
    /// Paths under the folder, written now.
    pub files: Vec<String>,
    /// Files an earlier render wrote that this one does not: removed.
    pub removed: Vec<String>,
    /// Values render could not know and wrote as placeholders (also said on stderr).
    pub placeholders: Vec<Placeholder>,
}

fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A manifest entry must stay inside the folder: `iam/x.json`, never `../x` or `/etc/x`.
fn inside(rel: &str) -> bool {
    let p = Path::new(rel);
    !rel.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

fn refuse(message: String, fix: String) -> anyhow::Error {
    UsageError { message, fix }.into()
}

/// Read the folder's manifest: None when the folder is new or empty; a refusal when it holds
/// files kedactl did not write (unless `force`).
fn previous(dir: &Path, force: bool) -> anyhow::Result<Manifest> {
    if !dir.exists() {
        return Ok(Manifest::default());
    }
    if !dir.is_dir() {
        return Err(refuse(
            format!("--out-dir {} exists and is not a folder", dir.display()),
            "pass the path of a folder (new, empty, or one kedactl render wrote)".into(),
        ));
    }
    let path = dir.join(MANIFEST);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if m.kind == MANIFEST_KIND && m.files.keys().all(|f| inside(f)) => Ok(m),
            _ if force => Ok(Manifest::default()),
            _ => Err(refuse(
                format!(
                    "{} is not a manifest kedactl render wrote, so it cannot tell which files in {} are its own",
                    path.display(),
                    dir.display()
                ),
                format!(
                    "remove {} and render into an empty folder, or pass --force to write over it (files it does not list are left alone)",
                    path.display()
                ),
            )),
        };
    }
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading folder {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    if entries.is_empty() || force {
        return Ok(Manifest::default());
    }
    entries.sort();
    entries.truncate(3);
    Err(refuse(
        format!(
            "--out-dir {} is not empty ({}…) and kedactl render did not write it (it has no {MANIFEST})",
            dir.display(),
            entries.join(", ")
        ),
        format!(
            "render into a new or empty folder, or pass --force to write into {} anyway (its other files are left alone and it becomes a render folder)",
            dir.display()
        ),
    ))
}

/// Write one file per document into `dir` so that it ends holding exactly this render: files
/// an earlier render wrote and this one does not are removed; files kedactl did not write are
/// never touched. A file kedactl wrote and someone edited since, or a file of ours whose name
/// another file already has, stops the render before anything is written (unless `force`).
fn write(dir: &Path, docs: &[Doc], force: bool) -> anyhow::Result<Written> {
    prepare(dir, docs, force)?.commit()
}

/// A render into one folder, checked and not yet written.
struct Pending {
    dir: PathBuf,
    old: Manifest,
    new: Manifest,
    bodies: Vec<(String, String)>,
}

/// Check a render into `dir` (as `write` describes) without changing anything.
fn prepare(dir: &Path, docs: &[Doc], force: bool) -> anyhow::Result<Pending> {
    let old = previous(dir, force)?;
    let mut new = Manifest {
        api_version: API_VERSION.into(),
        kind: MANIFEST_KIND.into(),
        files: Default::default(),
    };
    let mut bodies = Vec::new();
    for doc in docs {
        let body = body_text(doc)?;
        new.files.insert(doc.file.clone(), digest(body.as_bytes()));
        bodies.push((doc.file.clone(), body));
    }
    // Check everything before changing anything.
    let mut edited = Vec::new();
    let mut foreign = Vec::new();
    for (file, want) in old.files.iter().map(|(f, h)| (f, Some(h))).chain(
        new.files
            .keys()
            .filter(|f| !old.files.contains_key(*f))
            .map(|f| (f, None)),
    ) {
        let Ok(have) = std::fs::read(dir.join(file)) else {
            continue;
        };
        match want {
            Some(hash) if digest(&have) != *hash => edited.push(file.clone()),
            Some(_) => {}
            None => foreign.push(file.clone()),
        }
    }
    if !force && !edited.is_empty() {
        return Err(refuse(
            format!(
                "{} in {} changed since kedactl rendered it: {}; nothing was written",
                if edited.len() == 1 { "a file" } else { "files" },
                dir.display(),
                edited.join(", ")
            ),
            "keep your edit in kedactl.yaml or flags instead (render would overwrite or remove it), \
             move the file away, or pass --force to overwrite it"
                .into(),
        ));
    }
    if !force && !foreign.is_empty() {
        return Err(refuse(
            format!(
                "{} already holds {} that kedactl did not write: {}; nothing was written",
                dir.display(),
                if foreign.len() == 1 {
                    "a file"
                } else {
                    "files"
                },
                foreign.join(", ")
            ),
            "move them away, or pass --force to overwrite them".into(),
        ));
    }
    Ok(Pending {
        dir: dir.to_path_buf(),
        old,
        new,
        bodies,
    })
}

impl Pending {
    fn commit(self) -> anyhow::Result<Written> {
        let Pending {
            dir,
            old,
            new,
            bodies,
        } = self;
        let dir = dir.as_path();
        let mut out = Written::default();
        for file in old.files.keys().filter(|f| !new.files.contains_key(*f)) {
            let path = dir.join(file);
            match std::fs::remove_file(&path) {
                Ok(()) => out.removed.push(file.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
            // Its folder (iam/, k8s/) goes too when nothing else is left in it.
            if let Some(parent) = path.parent()
                && parent != dir
            {
                let _ = std::fs::remove_dir(parent);
            }
        }
        for (file, body) in &bodies {
            let path = dir.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating directory {}", parent.display()))?;
            }
            std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
            out.files.push(path.display().to_string());
        }
        let path = dir.join(MANIFEST);
        std::fs::write(&path, serde_json::to_string_pretty(&new)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(out)
    }
}
