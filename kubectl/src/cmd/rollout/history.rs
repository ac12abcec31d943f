//! `rollout history`: the revisions as a table, one revision's pod template described, or
//! (with `-o`) the history's objects themselves, as upstream's HistoryViewer shows them.

use serde_json::{json, Value};

use super::revisions::{controller_revisions, replica_sets, revision_template};
use crate::client::ApiClient;
use crate::cmd::label::Target;
use crate::cmd::out;
use crate::cmd::print_flags::{DryRun, PrintFlags};
use crate::error::{KubectlError, Result};
use crate::printers::tabbed::{align, PrefixWriter};
use crate::printers::OutputFormat;

/// One revision in a rollout history: what `-o` prints (a Deployment's ReplicaSet, or a
/// DaemonSet or StatefulSet as it was at that revision, as upstream's `GetHistory`) and the
/// pod template `--revision` describes.
struct HistoryEntry {
    number: i64,
    object: Value,
    template: Value,
    change_cause: Option<String>,
}

/// The history of a Deployment, DaemonSet or StatefulSet, oldest revision first.
async fn history_entries(client: &ApiClient, kind: &str, obj: &Value) -> Result<Vec<HistoryEntry>> {
    if kind == "Deployment" {
        return Ok(replica_sets(client, obj)
            .await?
            .into_iter()
            .map(|(number, rs)| replica_set_entry(number, rs))
            .collect());
    }
    Ok(controller_revisions(client, obj)
        .await?
        .into_iter()
        .map(|(number, rev)| {
            let template = revision_template(&rev);
            let mut object = obj.clone();
            object["spec"]["template"] = template.clone();
            HistoryEntry {
                number,
                template,
                change_cause: change_cause(&rev),
                object,
            }
        })
        .collect())
}

/// A Deployment's revision from its ReplicaSet (listed, so without kind and apiVersion).
fn replica_set_entry(number: i64, mut rs: Value) -> HistoryEntry {
    rs["kind"] = json!("ReplicaSet");
    rs["apiVersion"] = json!("apps/v1");
    let mut template = rs["spec"]["template"].clone();
    let cause = change_cause(&rs);
    // Upstream shows a revision's change-cause among its template's annotations.
    if let (Some(c), Some(meta)) = (&cause, template["metadata"].as_object_mut()) {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        annotations[CHANGE_CAUSE] = json!(c);
    }
    HistoryEntry {
        number,
        template,
        change_cause: cause,
        object: rs,
    }
}

fn change_cause(o: &Value) -> Option<String> {
    o["metadata"]["annotations"][CHANGE_CAUSE]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Shows one object's history as the flags ask: with `-o`, the revisions' objects (all, or
/// the one `revision` names); otherwise the table or the described revision after the
/// object's name (or, with `--template` alone, the object itself through the template, as
/// upstream's printer then does).
pub async fn history(
    client: &ApiClient,
    t: &Target,
    revision: i64,
    print_flags: &PrintFlags,
) -> Result<()> {
    let obj = client.get(&t.path()).await?;
    let entries = history_entries(client, &t.res.kind, &obj).await?;
    if print_flags.output_specified() {
        let format = print_flags.format()?;
        return print_entries(&entries, revision, &format, print_flags);
    }
    let text = history_text(&entries, revision)?;
    // The printer ends the line itself.
    let text = text.strip_suffix('\n').unwrap_or(&text);
    print_flags.print(&print_flags.format()?, &obj, text, DryRun::None)
}

/// The history's objects in an `-o` format.
fn print_entries(
    entries: &[HistoryEntry],
    revision: i64,
    format: &OutputFormat,
    print_flags: &PrintFlags,
) -> Result<()> {
    let chosen: Vec<&HistoryEntry> = if revision > 0 {
        vec![entries
            .iter()
            .find(|e| e.number == revision)
            .ok_or_else(|| KubectlError::usage("unable to find the specified revision"))?]
    } else {
        entries.iter().collect()
    };
    for (i, e) in chosen.into_iter().enumerate() {
        let mut object = e.object.clone();
        // Upstream prints the typed object, whose template's zero creationTimestamp comes
        // out as null.
        if let Some(meta) = object["spec"]["template"]["metadata"].as_object_mut() {
            meta.entry("creationTimestamp").or_insert(Value::Null);
        }
        // Upstream's YAML printer separates the documents it prints.
        if i > 0 && matches!(format, OutputFormat::Yaml) {
            out("---\n");
        }
        print_flags.print(format, &object, "", DryRun::None)?;
    }
    Ok(())
}

/// What `rollout history` prints after the object's name without `-o`: the table of
/// revisions, or with `--revision` that revision's pod template described.
fn history_text(entries: &[HistoryEntry], revision: i64) -> Result<String> {
    let info = if entries.is_empty() {
        "No rollout history found.".to_string()
    } else if revision > 0 {
        let e = entries
            .iter()
            .find(|e| e.number == revision)
            .ok_or_else(|| KubectlError::usage("unable to find the specified revision"))?;
        let mut w = PrefixWriter::new();
        crate::cmd::describe::pod_template(&mut w, &e.template);
        // Upstream's printTemplate has no tabwriter: the tabs stay.
        w.into_raw()
    } else {
        // Upstream's tabwriter here pads columns by two, not three as `get` does.
        let mut table = "REVISION\tCHANGE-CAUSE\n".to_string();
        for e in entries {
            let cause = e.change_cause.as_deref().unwrap_or("<none>");
            table.push_str(&format!("{}\t{cause}\n", e.number));
        }
        align(&table, 0, 2)
    };
    let with_revision = if revision > 0 {
        format!("with revision #{revision}")
    } else {
        String::new()
    };
    // Upstream hands "with revision #N\n<info>" to its name printer as the operation.
    Ok(format!("{with_revision}\n{info}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lists_revisions_or_describes_one() {
        let rs = |cause: Option<&str>, image: &str| {
            let mut rs = json!({"metadata": {"name": "web-1", "annotations": {}},
                "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": image}]}}}});
            if let Some(c) = cause {
                rs["metadata"]["annotations"][CHANGE_CAUSE] = json!(c);
            }
            rs
        };
        let entries = vec![
            replica_set_entry(1, rs(None, "busybox:1")),
            replica_set_entry(3, rs(Some("kubectl set image"), "busybox:2")),
        ];
        assert_eq!(entries[1].object["kind"], "ReplicaSet");
        assert_eq!(
            history_text(&entries, 0).unwrap(),
            "\nREVISION  CHANGE-CAUSE\n1         <none>\n3         kubectl set image\n\n"
        );
        let described = history_text(&entries, 3).unwrap();
        assert!(
            described.starts_with("with revision #3\nPod Template:\n  Labels:"),
            "{described}"
        );
        assert!(
            described.contains("kubernetes.io/change-cause: kubectl set image"),
            "{described}"
        );
        assert!(
            described.contains("Image:") && described.contains("busybox:2"),
            "{described}"
        );
        assert!(!history_text(&entries, 1).unwrap().contains("Annotations"));
        assert!(history_text(&entries, 2).is_err());
        assert_eq!(
            history_text(&[], 0).unwrap(),
            "\nNo rollout history found.\n"
        );
    }
}
