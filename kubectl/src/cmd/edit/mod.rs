//! `kubectl edit`: open objects as YAML (or JSON with `-o json`) in `$KUBE_EDITOR`/`$EDITOR`
//! (default `vi`), send the changes as a patch, and reopen the file with the server's
//! complaint in the header when saving fails, as upstream does.

mod editor;
mod patch;

use clap::Args;
use serde_json::Value;

use super::create::FileArgs;
use super::print_flags::{DryRun, PrintFlags};
use super::write::WriteArgs;
use super::Ctx;
use crate::error::{KubectlError, Result};
use crate::merge;
use crate::printers::{json as jsonp, yaml};
use crate::resource::ApiResource;

pub(crate) use editor::{launch, strip_comments, temp_path};
pub use patch::merge_patch;

use editor::render;
use patch::{EditFailure, Sending};

/// The subresources `--subresource` may name (upstream's `SupportedSubresources`).
const SUBRESOURCES: &[&str] = &["status"];

/// `kubectl edit (RESOURCE/NAME | -f FILENAME)`
#[derive(Debug, Args)]
pub struct EditArgs {
    /// TYPE NAME… or TYPE/NAME….
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// `-o json|yaml` also chooses the editor's format.
    #[command(flatten)]
    print_flags: PrintFlags,
    #[command(flatten)]
    write: WriteArgs,
    /// Output the patch if the resource is edited.
    #[arg(long)]
    output_patch: bool,
    /// If true, the configuration of current object will be saved in its annotation.
    /// Otherwise, the annotation will be unchanged. This flag is useful when you want to
    /// perform kubectl apply on this object in the future.
    #[arg(long)]
    save_config: bool,
    /// If specified, edit will operate on the subresource of the requested object.
    #[arg(long, default_value = "")]
    subresource: String,
    /// Defaults to the line ending native to your platform.
    #[arg(long)]
    windows_line_endings: bool,
}

/// One object being edited: where it lives and what the server gave.
struct Editing {
    res: ApiResource,
    /// The object as the editor shows it: without managedFields.
    object: Value,
    /// Its managedFields, put back for `--save-config`'s record as upstream does.
    managed_fields: Option<Value>,
}

impl Editing {
    /// `new` with the last-applied annotation `--save-config` records: the edited object
    /// with its managedFields restored, as upstream records it.
    fn with_saved_config(&self, new: &Value) -> Value {
        let mut full = new.clone();
        if let Some(mf) = &self.managed_fields {
            full["metadata"]["managedFields"] = mf.clone();
        }
        let mut saved = merge::with_last_applied(&full);
        if let Some(meta) = saved["metadata"].as_object_mut() {
            meta.remove("managedFields");
        }
        saved
    }
}

/// Runs `kubectl edit`.
pub async fn run(ctx: &Ctx, a: EditArgs) -> Result<()> {
    // The editor's file is yaml or json; upstream refuses any other -o there.
    let editor_json = match a.print_flags.output.as_deref() {
        None | Some("") | Some("yaml") => false,
        Some("json") => true,
        Some(o) => {
            return Err(KubectlError::usage(format!(
                "unable to match a printer suitable for the output format \"{o}\", allowed formats are: json,yaml"
            )))
        }
    };
    let format = a.print_flags.format()?;
    let write = a.write.write("kubectl-edit", DryRun::None)?;
    let subresource = (!a.subresource.is_empty()).then_some(a.subresource.as_str());
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = if a.files.filename.is_empty() {
        super::label::resolve_targets(&client, &mut disc, &a.args, None, true)
            .await?
            .into_iter()
            .map(|(res, name)| {
                let ns = res.namespaced.then(|| client.namespace.clone());
                (res, ns, name)
            })
            .collect::<Vec<_>>()
    } else {
        super::get::targets::files_conflict(&a.args)?;
        super::label::file_targets(&client, &disc, &a.files)?
            .into_iter()
            .map(|t| (t.res, t.namespace, t.name))
            .collect()
    };
    let mut objects: Vec<Editing> = Vec::new();
    for (res, ns, name) in targets {
        let mut path = res.object_path(ns.as_deref(), &name);
        if let Some(sub) = subresource {
            path.push('/');
            path.push_str(sub);
        }
        let mut object = client.get(&path).await?;
        // The editor never shows managedFields; `--show-managed-fields` is for the output.
        let managed_fields = object["metadata"].get("managedFields").cloned();
        super::get::omit_managed_fields(&mut object);
        objects.push(Editing {
            res,
            object,
            managed_fields,
        });
    }
    // Upstream checks the subresource only after reading the objects through it, so the
    // server's answer to an unknown one comes first.
    if !a.subresource.is_empty() && !SUBRESOURCES.contains(&a.subresource.as_str()) {
        return Err(KubectlError::usage(format!(
            "invalid subresource value: \"{}\". Must be one of [{}]",
            a.subresource,
            SUBRESOURCES.join(" ")
        )));
    }
    if objects.is_empty() {
        return Err(KubectlError::usage("edit cancelled, no objects found"));
    }
    let original: Value = if objects.len() == 1 {
        objects[0].object.clone()
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {},
                           "items": objects.iter().map(|o| o.object.clone()).collect::<Vec<_>>()})
    };
    let body = if editor_json {
        jsonp::to_json(&original)
    } else {
        yaml::to_yaml(&original)
    };
    let path = editor::temp_path_with(if editor_json { "json" } else { "yaml" });
    let mut sending = Sending {
        client: &client,
        write: &write,
        subresource,
        output_patch: a.output_patch,
        schemas: Default::default(),
    };
    let mut errors: Vec<String> = Vec::new();
    let mut last_failed: Option<String> = None;
    loop {
        let mut text = render(
            last_failed.as_deref().unwrap_or(&body),
            &errors,
            !editor_json,
        );
        if a.windows_line_endings {
            text = editor::with_crlf(&text);
        }
        std::fs::write(&path, text)
            .map_err(|e| KubectlError::usage(format!("writing {path}: {e}")))?;
        launch(&path)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| KubectlError::usage(format!("reading {path}: {e}")))?;
        let Some(stripped) = strip_comments(&text) else {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, no valid changes were saved.");
            return Ok(());
        };
        if last_failed.as_deref() == Some(stripped.as_str()) {
            // The same failing content twice: give up, keep the file.
            eprintln!("A copy of your changes has been stored to {path:?}");
            return Err(KubectlError::usage(
                "Edit cancelled, no valid changes were saved.",
            ));
        }
        let edited = match crate::manifest::parse(&path, &stripped) {
            Ok(ms) => {
                if objects.len() == 1 {
                    ms.into_iter().next().map(|m| m.object)
                } else {
                    Some(Value::Array(ms.into_iter().map(|m| m.object).collect()))
                }
            }
            Err(e) => {
                errors = vec![format!(
                    "The edited file had a syntax error: {}",
                    e.to_string().trim_start_matches("error: ")
                )];
                last_failed = Some(stripped);
                continue;
            }
        };
        let Some(edited) = edited else {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, no valid changes were saved.");
            return Ok(());
        };
        let edited_items: Vec<Value> = match edited {
            Value::Array(v) => v,
            one => vec![one],
        };
        let unchanged = edited_items.len() == objects.len()
            && edited_items
                .iter()
                .zip(&objects)
                .all(|(e, o)| *e == o.object);
        if unchanged {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, no changes made.");
            return Ok(());
        }
        let mut failed = Vec::new();
        let mut missing = false;
        for (editing, new) in objects.iter().zip(&edited_items) {
            let new = if a.save_config {
                editing.with_saved_config(new)
            } else {
                new.clone()
            };
            if new == editing.object {
                a.print_flags
                    .print(&format, &editing.object, "skipped", DryRun::None)?;
                continue;
            }
            match sending.send(&editing.res, &editing.object, &new).await {
                Ok(obj) => a.print_flags.print(&format, &obj, "edited", DryRun::None)?,
                Err(EditFailure::Invalid { short, header }) => {
                    eprintln!("error: {short}");
                    failed.push(header);
                }
                Err(EditFailure::NotFound(msg)) => {
                    eprintln!("error: {msg}");
                    missing = true;
                }
                Err(EditFailure::Other(msg)) => {
                    eprintln!("error: {msg}");
                    eprintln!("You can run `kubectl replace -f {path}` to try this update again.");
                    return Err(KubectlError::Reported);
                }
            }
        }
        if missing {
            eprintln!("The edits you made on deleted resources have been saved to {path:?}");
            return Err(KubectlError::Reported);
        }
        if failed.is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        errors = failed;
        last_failed = Some(stripped);
    }
}
