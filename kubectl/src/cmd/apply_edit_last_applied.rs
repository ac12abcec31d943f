//! `kubectl apply edit-last-applied`: the last-applied records of live objects opened in the
//! editor (as `kubectl edit` opens objects, with upstream's header for records); each record
//! changed is written back as the object's new annotation, nothing else of it touched.

use clap::Args;
use http::Method;
use serde_json::Value;

use super::apply_last_applied::{live_objects, record, record_of, record_patch, Wanted};
use super::create::FileArgs;
use super::edit::{launch, strip_comments, temp_path};
use super::print_flags::{DryRun, PrintFlags};
use super::write::{FieldValidation, Write, WriteArgs};
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::printers::{json::to_json, yaml::to_yaml, OutputFormat};

/// `kubectl apply edit-last-applied (RESOURCE/NAME | -f FILENAME)`
#[derive(Debug, Args)]
pub struct EditLastAppliedArgs {
    /// TYPE NAME…, TYPE/NAME…, or TYPE (all of that type).
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    #[command(flatten)]
    print_flags: PrintFlags,
    /// Write the file with CRLF line endings.
    #[arg(long)]
    windows_line_endings: bool,
    #[command(flatten)]
    write: WriteArgs,
}

/// The comment block upstream puts above records.
const HEADER: &str = "# Please edit the 'last-applied-configuration' annotations below.\n# Lines beginning with a '#' will be ignored, and an empty file will abort the edit.\n#\n";

/// Runs `apply edit-last-applied`.
pub async fn run(ctx: &Ctx, a: EditLastAppliedArgs) -> Result<()> {
    let format = a.print_flags.format()?;
    let write = a.write.write("kubectl-client-side-apply", DryRun::None)?;
    let wanted = Wanted {
        args: &a.args,
        files: &a.files,
        selector: None,
        all: false,
        type_selects_all: true,
    };
    wanted.check()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let mut records: Vec<Value> = Vec::new();
    for live in live_objects(&client, &mut disc, &wanted).await? {
        let Some(text) = record(&live.object) else {
            continue;
        };
        if let Some(m) = manifest::parse("edited-file", text)?.into_iter().next() {
            records.push(m.object);
        }
    }
    if records.is_empty() {
        return Err(KubectlError::usage("no last-applied-configuration annotation found on resources, to create the annotation, use command `kubectl apply set-last-applied --create-annotation`"));
    }
    let json = a.print_flags.output.as_deref() == Some("json");
    let validated = match write.validation {
        Some(FieldValidation::Ignore) => None,
        _ => {
            let first = Manifest {
                source: String::new(),
                object: records[0].clone(),
            };
            let res = manifest::resource_for(&disc, &first)?;
            let name = records[0]["metadata"]["name"].as_str().unwrap_or("");
            Some((res.qualified_plural(), name.to_string()))
        }
    };
    let session = Session {
        validated,
        client: &client,
        disc: &disc,
        write: &write,
        json,
        crlf: a.windows_line_endings,
        format: &format,
        print_flags: &a.print_flags,
    };
    session.edit(&records).await
}

/// One editing session over a set of records.
struct Session<'a> {
    client: &'a ApiClient,
    disc: &'a Discovery,
    write: &'a Write,
    /// `-o json`: the file is JSON, without the header.
    json: bool,
    /// `--windows-line-endings`
    crlf: bool,
    /// With validation (not `--validate=false`): how upstream names the first record's object
    /// when the file does not parse (`configmaps`, its name).
    validated: Option<(String, String)>,
    /// How each record saved (or skipped) is reported.
    format: &'a OutputFormat,
    print_flags: &'a PrintFlags,
}

impl Session<'_> {
    /// Opens the editor until the records are saved, the edit is cancelled, or it fails.
    async fn edit(&self, records: &[Value]) -> Result<()> {
        let shown = match records {
            [one] => one.clone(),
            many => {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": many})
            }
        };
        let body = if self.json {
            to_json(&shown)
        } else {
            to_yaml(&shown)
        };
        let mut path = temp_path();
        if self.json {
            path = format!("{}.json", path.trim_end_matches(".yaml"));
        }
        let preserved = |e: KubectlError| {
            eprintln!("A copy of your changes has been stored to {path:?}");
            e
        };
        let mut original = String::new();
        let mut reasons: Vec<String> = Vec::new();
        let mut failed: Option<String> = None;
        loop {
            let mut text = String::new();
            if !self.json {
                text.push_str(HEADER);
                for r in &reasons {
                    text.push_str(&format!("# {}\n#\n", hash_on_line_break(r)));
                }
            }
            match &failed {
                None => {
                    text.push_str(&body);
                    original = text.clone();
                }
                Some(edited) => text.push_str(&strip_comments(edited).unwrap_or_default()),
            }
            if self.crlf {
                text = text.replace('\n', "\r\n");
            }
            std::fs::write(&path, &text)
                .map_err(|e| KubectlError::usage(format!("writing {path}: {e}")))?;
            launch(&path)?;
            let edited = std::fs::read_to_string(&path)
                .map_err(|e| KubectlError::usage(format!("reading {path}: {e}")))?;
            if failed.as_deref().is_some_and(|f| same_content(f, &edited)) {
                return Err(preserved(KubectlError::usage(
                    "Edit cancelled, no valid changes were saved.",
                )));
            }
            // The check reads the file without its comment lines, the update the file as it is
            // (so their line numbers differ, as upstream's do).
            let checked =
                manifest::parse("edited-file", &strip_comments(&edited).unwrap_or_default());
            // Unless --validate=false, upstream checks the syntax before anything else, and
            // words a failure as the first record's type being invalid.
            if let (Err(e), Some((what, name))) = (&checked, &self.validated) {
                let why = e.to_string();
                let yaml = why
                    .split_once("error converting YAML to JSON: ")
                    .map_or(why.as_str(), |(_, y)| y);
                eprintln!("error: {what} {name:?} is invalid");
                reasons = vec![format!(
                    "{what} {name:?} was not valid:\n* <nil>: Invalid value: \"The edited file failed validation\": {yaml}"
                )];
                failed = Some(edited);
                continue;
            }
            if same_content(&original, &edited) {
                let _ = std::fs::remove_file(&path);
                eprintln!("Edit cancelled, no changes made.");
                return Ok(());
            }
            if strip_comments(&edited).is_none() {
                let _ = std::fs::remove_file(&path);
                eprintln!("Edit cancelled, saved file was empty.");
                return Ok(());
            }
            let updated = match manifest::parse("edited-file", &edited) {
                Ok(ms) => ms,
                Err(e) => {
                    let why = e.to_string();
                    reasons = vec![format!(
                        "The edited file had a syntax error: {}",
                        why.trim_start_matches("error: ")
                    )];
                    failed = Some(edited);
                    continue;
                }
            };
            let updated = updated
                .into_iter()
                .map(|m| self.in_namespace(m))
                .collect::<Result<Vec<_>>>()
                .map_err(&preserved)?;
            for m in &updated {
                let verb = self.save(records, m).await.map_err(&preserved)?;
                self.print_flags
                    .print(self.format, &m.object, verb, DryRun::None)
                    .map_err(&preserved)?;
            }
            let _ = std::fs::remove_file(&path);
            return Ok(());
        }
    }

    /// The edited record in the command's namespace (upstream refuses another).
    fn in_namespace(&self, m: Manifest) -> Result<Manifest> {
        let res = manifest::resource_for(self.disc, &m)?;
        let ns = &self.client.namespace;
        match m.object["metadata"]["namespace"].as_str() {
            Some(own) if !own.is_empty() && own != ns => Err(KubectlError::usage(format!(
                "the namespace from the provided object \"{own}\" does not match the namespace \"{ns}\". You must pass '--namespace={own}' to perform this operation."
            ))),
            _ if res.namespaced => Ok(manifest::with_namespace(&m, Some(ns))),
            _ => Ok(m),
        }
    }

    /// Writes one edited record back, unless it equals the record it stands for (matched as
    /// upstream matches them, by uid — which records seldom carry, so mostly the first).
    async fn save(&self, records: &[Value], m: &Manifest) -> Result<&'static str> {
        let uid = |v: &Value| v["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let Some(before) = records.iter().find(|r| uid(r) == uid(&m.object)) else {
            return Err(KubectlError::usage(format!(
                "no original object found for {}",
                m.object
            )));
        };
        if *before == m.object {
            return Ok("skipped");
        }
        let res = manifest::resource_for(self.disc, m)?;
        let name = m.object["metadata"]["name"].as_str().unwrap_or("");
        let ns = res.namespaced.then_some(self.client.namespace.as_str());
        self.client
            .request(
                Method::PATCH,
                &format!("{}{}", res.object_path(ns, name), self.write.query()),
                "application/json",
                Some(Body {
                    content_type: "application/merge-patch+json",
                    bytes: record_patch(&record_of(&m.object)).to_string().into_bytes(),
                }),
            )
            .await?;
        Ok("edited")
    }
}

/// Whether two versions of the file say the same, comments aside (upstream compares them
/// converted to JSON, falling back to the text without comment lines).
fn same_content(a: &str, b: &str) -> bool {
    let parse = |t: &str| serde_yaml::from_str::<Value>(t).ok();
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => strip_comments(a) == strip_comments(b),
    }
}

/// A reason's later lines commented out too.
fn hash_on_line_break(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\n' && chars.peek().is_some_and(|n| *n != '#') {
            out.push_str("# ");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_layout_do_not_count_as_changes() {
        let original = format!("{HEADER}data:\n  a: \"1\"\nkind: ConfigMap\n");
        assert!(same_content(&original, "kind: ConfigMap\ndata: {a: '1'}\n"));
        assert!(!same_content(
            &original,
            "kind: ConfigMap\ndata: {a: '2'}\n"
        ));
        assert!(same_content("a: [\n", "# c\na: [\n"));
    }

    #[test]
    fn later_lines_of_a_reason_are_comments() {
        assert_eq!(hash_on_line_break("a\nb\n#c"), "a\n# b\n#c");
    }
}
