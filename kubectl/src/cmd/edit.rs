//! `kubectl edit`: open objects as YAML in `$KUBE_EDITOR`/`$EDITOR` (default `vi`), send the
//! changes as a patch, and reopen the file with the server's complaint in the header when
//! saving fails, as upstream does.

use clap::Args;
use http::Method;
use serde_json::{Map, Value};

use super::create::print_result;
use super::create::DryRun;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::printers::{yaml, OutputFormat};
use crate::resource::ApiResource;

/// `kubectl edit (RESOURCE/NAME | -f FILENAME)`
#[derive(Debug, Args)]
pub struct EditArgs {
    /// TYPE NAME… or TYPE/NAME….
    args: Vec<String>,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long)]
    show_managed_fields: bool,
}

/// The comment block upstream puts above the objects.
pub const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

/// The file's text: the header, the error lines of the last attempt, then the YAML.
pub fn render(body: &str, errors: &[String]) -> String {
    let mut s = HEADER.to_string();
    for e in errors {
        for line in e.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        s.push_str("#\n");
    }
    s.push_str(body);
    s
}

/// Drops comment lines; `None` when nothing but whitespace is left (edit cancelled).
pub fn strip_comments(text: &str) -> Option<String> {
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    (!kept.trim().is_empty()).then_some(kept)
}

/// A JSON merge patch that turns `from` into `to` (lists are replaced whole).
pub fn merge_patch(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(f), Value::Object(t)) => {
            let mut p = Map::new();
            for (k, tv) in t {
                match f.get(k) {
                    Some(fv) if fv == tv => {}
                    Some(fv @ Value::Object(_)) if tv.is_object() => {
                        p.insert(k.clone(), merge_patch(fv, tv));
                    }
                    _ => {
                        p.insert(k.clone(), tv.clone());
                    }
                }
            }
            for k in f.keys() {
                if !t.contains_key(k) {
                    p.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(p)
        }
        _ => to.clone(),
    }
}

/// The command line that opens `path`: upstream's rules for `$KUBE_EDITOR`/`$EDITOR`
/// (a value with quotes or backslashes goes through `sh -c`).
pub fn editor_command(editor: &str, path: &str) -> Vec<String> {
    if !editor.contains(' ') {
        return vec![editor.to_string(), path.to_string()];
    }
    if !editor.contains(['"', '\'', '\\']) {
        let mut v: Vec<String> = editor.split(' ').map(String::from).collect();
        v.push(path.to_string());
        return v;
    }
    vec!["sh".into(), "-c".into(), format!("{editor} {path:?}")]
}

pub(crate) fn launch(path: &str) -> Result<()> {
    let editor = ["KUBE_EDITOR", "EDITOR"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "vi".into());
    let cmd = editor_command(&editor, path);
    let status = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .map_err(|e| {
            KubectlError::usage(format!("unable to launch the editor \"{editor}\": {e}"))
        })?;
    if !status.success() {
        return Err(KubectlError::usage(format!(
            "there was a problem with the editor \"{editor}\""
        )));
    }
    Ok(())
}

pub(crate) fn temp_path() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir()
        .join(format!("kubectl-edit-{}{n}.yaml", std::process::id()))
        .display()
        .to_string()
}

/// Runs `kubectl edit`.
pub async fn run(ctx: &Ctx, a: EditArgs) -> Result<()> {
    if let Some(o) = a
        .output
        .as_deref()
        .filter(|o| !matches!(*o, "json" | "yaml"))
    {
        return Err(KubectlError::usage(format!(
            "unable to match a printer suitable for the output format \"{o}\", allowed formats are: json,yaml"
        )));
    }
    let format = OutputFormat::parse(a.output.as_deref())?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = super::label::resolve_targets(&client, &mut disc, &a.args, None, false).await?;
    let mut objects: Vec<(ApiResource, Value)> = Vec::new();
    for (res, name) in targets {
        let path = res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name);
        let mut obj = client.get(&path).await?;
        if !a.show_managed_fields {
            super::get::omit_managed_fields(&mut obj);
        }
        objects.push((res, obj));
    }
    if objects.is_empty() {
        return Err(KubectlError::usage("edit cancelled, no objects found"));
    }
    let original: Value = if objects.len() == 1 {
        objects[0].1.clone()
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {},
                           "items": objects.iter().map(|o| o.1.clone()).collect::<Vec<_>>()})
    };
    let body = yaml::to_yaml(&original);
    let path = temp_path();
    let mut errors: Vec<String> = Vec::new();
    let mut last_failed: Option<String> = None;
    loop {
        std::fs::write(&path, render(&body_or_last(&body, &last_failed), &errors))
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
        let originals: Vec<&Value> = objects.iter().map(|o| &o.1).collect();
        if edited_items.iter().zip(&originals).all(|(e, o)| e == *o)
            && edited_items.len() == originals.len()
        {
            let _ = std::fs::remove_file(&path);
            eprintln!("Edit cancelled, no changes made.");
            return Ok(());
        }
        let mut failed = Vec::new();
        for ((res, orig), new) in objects.iter().zip(&edited_items) {
            if new == orig {
                continue;
            }
            match apply_edit(&client, res, orig, new).await {
                Ok(obj) => print_result(&format, &obj, "edited", DryRun::None)?,
                Err(EditFailure::Invalid { short, header }) => {
                    eprintln!("error: {short}");
                    failed.push(header);
                }
                Err(EditFailure::Other(msg)) => {
                    eprintln!("error: {msg}");
                    eprintln!("You can run `kubectl replace -f {path}` to try this update again.");
                    return Err(KubectlError::Reported);
                }
            }
        }
        if failed.is_empty() {
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
        errors = failed;
        last_failed = Some(stripped);
    }
}

fn body_or_last(body: &str, last: &Option<String>) -> String {
    last.clone().unwrap_or_else(|| body.to_string())
}

/// Why saving an edit failed.
enum EditFailure {
    /// The server found the object invalid: reopen the file with `header` in it.
    Invalid {
        /// `deployments.apps "web" is invalid`
        short: String,
        /// `deployments.apps "web" was not valid:\n* <cause>`
        header: String,
    },
    /// Anything else: give up.
    Other(String),
}

/// Sends one edited object as a merge patch.
async fn apply_edit(
    client: &ApiClient,
    res: &ApiResource,
    orig: &Value,
    new: &Value,
) -> std::result::Result<Value, EditFailure> {
    let name = orig["metadata"]["name"].as_str().unwrap_or("");
    let ns = orig["metadata"]["namespace"].as_str();
    let what = format!("{} {name:?}", res.qualified_plural());
    if new["metadata"]["name"].as_str() != Some(name) || new["kind"] != orig["kind"] {
        return Err(EditFailure::Invalid {
            short: format!("{what} is invalid"),
            header: format!(
                "{what} was not valid:\n* At least one of apiVersion, kind and name was changed"
            ),
        });
    }
    let patch = merge_patch(orig, new);
    let body = Body {
        content_type: "application/merge-patch+json",
        bytes: patch.to_string().into_bytes(),
    };
    client
        .request(
            Method::PATCH,
            &format!("{}?fieldManager=kubectl-edit", res.object_path(ns, name)),
            "application/json",
            Some(body),
        )
        .await
        .map_err(|e| match e {
            KubectlError::Server {
                code: 422, message, ..
            } => {
                // The causes follow upstream's `<Kind> "<name>" is invalid: ` prefix.
                let cause = message
                    .split_once(" is invalid: ")
                    .map_or(message.as_str(), |(_, c)| c);
                EditFailure::Invalid {
                    short: format!("{what} is invalid"),
                    header: format!("{what} was not valid:\n* {cause}"),
                }
            }
            KubectlError::Server { message, .. } => {
                EditFailure::Other(format!("{what} could not be patched: {message}"))
            }
            other => EditFailure::Other(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_and_errors() {
        let text = render("a: 1\n", &["configmaps \"x\" was not valid:\n* bad".into()]);
        assert!(text.starts_with(HEADER));
        assert!(text.ends_with("# configmaps \"x\" was not valid:\n# * bad\n#\na: 1\n"));
        assert_eq!(strip_comments(&text).unwrap(), "a: 1\n");
        assert_eq!(strip_comments(HEADER), None);
    }

    #[test]
    fn patches_only_what_changed() {
        let a =
            json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v"}});
        let b = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "w"}});
        assert_eq!(
            merge_patch(&a, &b),
            json!({"metadata": {"labels": {"b": null}}, "data": {"k": "w"}})
        );
    }

    #[test]
    fn editor_command_rules() {
        assert_eq!(editor_command("vi", "/f"), vec!["vi", "/f"]);
        assert_eq!(
            editor_command("code --wait", "/f"),
            vec!["code", "--wait", "/f"]
        );
        assert_eq!(
            editor_command("sed -i 's/a/b/'", "/f"),
            vec!["sh", "-c", "sed -i 's/a/b/' \"/f\""]
        );
    }
}
