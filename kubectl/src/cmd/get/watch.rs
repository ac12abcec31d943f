//! `kubectl get -w/--watch-only`: the objects as they are (unless `--watch-only`), then
//! every change the server reports, printed as it arrives. With `--output-watch-events`
//! each is printed as the event it is: tables gain a leading EVENT column, the other
//! formats print the `{"type": …, "object": …}` event itself (listed objects as ADDED).

use http::Method;
use serde_json::{json, Value};

use super::super::out;
use super::fetch::{as_table, Request};
use super::print::{render_go_template, run_template, set_type, TableStyle};
use super::targets::Target;
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use crate::printers::table;
use crate::printers::tabwriter::TabWriter;
use crate::printers::{custom_columns, json as jsonp, yaml, OutputFormat};
use crate::watch::WatchEvents;

/// How watched objects are printed.
pub struct WatchPrint<'a> {
    /// `-o`
    pub format: &'a OutputFormat,
    /// Table decorations.
    pub style: TableStyle,
    /// `--output-watch-events`
    pub events: bool,
    /// `--show-managed-fields`
    pub show_managed_fields: bool,
}

/// Watches the one type (or object) `targets` names.
pub async fn watch(
    client: &ApiClient,
    req: &Request<'_>,
    targets: &[Target],
    watch_only: bool,
    print: WatchPrint<'_>,
) -> Result<()> {
    let [t] = targets else {
        return Err(KubectlError::usage(
            "you may only specify a single resource type",
        ));
    };
    if t.lacks_namespace() {
        return Err(t.no_namespace_error());
    }
    let base = t.res.collection_path(t.namespace.as_deref());
    let mut qs = req.list_query();
    if let Some(n) = &t.name {
        qs.push(format!(
            "fieldSelector={}",
            q(&format!("metadata.name={n}"))
        ));
    }
    let initial = client
        .request(
            Method::GET,
            &format!("{base}?{}", qs.join("&")),
            req.accept(),
            None,
        )
        .await?;
    let rv = initial["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut printer = EventPrinter::new(&print, t);
    if !watch_only {
        if req.table {
            printer.print("ADDED", initial)?;
        } else {
            for o in initial["items"].as_array().cloned().unwrap_or_default() {
                printer.print("ADDED", o)?;
            }
        }
    }
    qs.push("watch=true".to_string());
    qs.push(format!("resourceVersion={}", q(&rv)));
    let path = format!("{base}?{}", qs.join("&"));
    let mut events = WatchEvents::open(client, &path, req.accept()).await?;
    while let Some(event) = events.next().await {
        let event = event?;
        printer.print(&event.kind, event.object)?;
    }
    Ok(())
}

/// Prints one listed object or event at a time, keeping what the next one needs: whether
/// the header is out, the column widths so far, the last columns the server described.
struct EventPrinter<'a> {
    print: &'a WatchPrint<'a>,
    target: &'a Target,
    tw: TabWriter,
    header_done: bool,
    columns: Value,
    yaml_documents: usize,
}

impl<'a> EventPrinter<'a> {
    fn new(print: &'a WatchPrint<'a>, target: &'a Target) -> Self {
        EventPrinter {
            print,
            target,
            tw: TabWriter::new(),
            header_done: print.style.no_headers,
            columns: Value::Null,
            yaml_documents: 0,
        }
    }

    fn print(&mut self, kind: &str, obj: Value) -> Result<()> {
        if self.print.format.is_table() {
            self.print_rows(kind, obj);
            return Ok(());
        }
        let mut obj = obj;
        set_type(&mut obj, &self.target.res);
        // Upstream's managedFields filter only knows objects; an event passes it whole.
        let doc = if self.print.events {
            json!({"type": kind, "object": obj})
        } else {
            if !self.print.show_managed_fields {
                super::print::omit_managed_fields_for(self.print.format, &mut obj);
            }
            obj
        };
        self.print_object(&doc)
    }

    fn print_rows(&mut self, kind: &str, obj: Value) {
        let mut t = as_table(obj);
        // The server describes the columns once per watch; later tables reuse them.
        if t["columnDefinitions"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
        {
            self.columns = t["columnDefinitions"].clone();
        } else {
            t["columnDefinitions"] = self.columns.clone();
        }
        let opts = self.print.style.options(&self.target.res);
        let rows = table::rows(&t, &opts);
        if rows.is_empty() {
            return;
        }
        let event = self.print.events.then(|| event_cell(kind));
        if !self.header_done {
            let mut header = table::header(&t, &opts);
            if event.is_some() {
                header.insert(0, "EVENT".to_string());
            }
            self.tw.row(header);
            self.header_done = true;
        }
        for mut row in rows {
            if let Some(e) = &event {
                row.insert(0, e.clone());
            }
            self.tw.row(row);
        }
        out(&self.tw.flush());
    }

    fn print_object(&mut self, doc: &Value) -> Result<()> {
        match self.print.format {
            OutputFormat::Yaml => {
                // go-yaml documents after the first are preceded by a separator.
                let sep = if self.yaml_documents > 0 { "---\n" } else { "" };
                self.yaml_documents += 1;
                out(&format!("{sep}{}", yaml::to_yaml(doc)));
            }
            OutputFormat::Json if self.print.events => out(&compact_event(doc)),
            OutputFormat::Json => out(&jsonp::to_json(doc)),
            // Names are of the objects, events or not.
            OutputFormat::Name if self.print.events => {
                out(&format!("{}\n", super::print::name_of(&doc["object"])))
            }
            OutputFormat::Name => out(&format!("{}\n", super::print::name_of(doc))),
            OutputFormat::JsonPath(t) => out(&run_template(t, doc)?),
            OutputFormat::GoTemplate(t) => render_go_template(t, doc)?,
            OutputFormat::CustomColumns(cols) => out(&custom_columns::render(
                cols,
                std::slice::from_ref(doc),
                true,
            )),
            OutputFormat::Table | OutputFormat::Wide => {}
        }
        Ok(())
    }
}

/// The EVENT cell: upstream pads the common types to one width.
fn event_cell(kind: &str) -> String {
    match kind {
        "ADDED" => "ADDED   ",
        "MODIFIED" => "MODIFIED",
        "DELETED" => "DELETED ",
        "ERROR" => "ERROR   ",
        other => other,
    }
    .to_string()
}

/// A watch event as upstream's JSON printer writes one (`json.Marshal` of the event: one
/// line, `type` before `object`, object keys sorted).
fn compact_event(doc: &Value) -> String {
    let object = serde_json::to_string(&doc["object"]).unwrap_or_default();
    let kind = serde_json::to_string(&doc["type"]).unwrap_or_default();
    format!(
        "{}\n",
        jsonp::go_escape(&format!("{{\"type\":{kind},\"object\":{object}}}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_padded_to_one_width() {
        assert_eq!(event_cell("ADDED"), "ADDED   ");
        assert_eq!(event_cell("MODIFIED"), "MODIFIED");
        assert_eq!(event_cell("DELETED"), "DELETED ");
        assert_eq!(event_cell("BOOKMARK"), "BOOKMARK");
    }

    #[test]
    fn json_events_are_one_line_type_first() {
        let doc =
            json!({"type": "ADDED", "object": {"metadata": {"name": "a<b"}, "kind": "ConfigMap"}});
        assert_eq!(
            compact_event(&doc),
            "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\\u003cb\"}}}\n"
        );
    }
}
