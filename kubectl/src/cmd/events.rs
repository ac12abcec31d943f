//! `kubectl events [--for TYPE/NAME] [--types=Normal,Warning] [-A] [-w] [-o FORMAT]`: the
//! core/v1 Events of a namespace (or all), oldest first, in upstream's own table (LAST SEEN,
//! TYPE, REASON, OBJECT, MESSAGE) or any `-o` format; `-w` then prints each new one.

use clap::Args;
use serde_json::{json, Value};

use super::get::{name_of, render_go_template};
use super::out;
use super::print_flags::{omit_managed_fields, PrintFlags};
use super::Ctx;
use crate::client::{q, ApiClient};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::printers::age::age_of;
use crate::printers::tabwriter::TabWriter;
use crate::printers::{custom_columns, json as jsonp, yaml, OutputFormat};
use crate::watch::WatchEvents;

/// `kubectl events`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// If present, list the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Filter events to only those pertaining to the specified resource (TYPE/NAME).
    #[arg(long = "for")]
    for_object: Option<String>,
    /// Output only events of given types (Normal, Warning).
    #[arg(long, value_delimiter = ',')]
    types: Vec<String>,
    /// After listing the requested events, watch for more events.
    #[arg(short = 'w', long)]
    watch: bool,
    /// When using the default output format, don't print headers.
    #[arg(long)]
    no_headers: bool,
    /// Return large lists in chunks rather than all at once.
    #[arg(long, default_value_t = 500)]
    chunk_size: u64,
    #[command(flatten)]
    pub print_flags: PrintFlags,
}

/// Runs `kubectl events`.
pub async fn run(ctx: &Ctx, a: EventsArgs) -> Result<()> {
    let format = a.print_flags.format()?;
    if matches!(format, OutputFormat::Wide) {
        return Err(KubectlError::usage("unable to match a printer suitable for the output format \"wide\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml"));
    }
    let client = ctx.client().await?;
    let for_selector = match a.for_object.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => Some(for_selector(&client, f).await?),
        None => None,
    };
    let types = filter_types(&a.types)?;
    let base = if a.all_namespaces {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{}/events", client.namespace)
    };
    let mut query = Vec::new();
    if let Some(s) = &for_selector {
        query.push(format!("fieldSelector={}", q(s)));
    }
    let printer = Printer {
        format,
        show_managed_fields: a.print_flags.show_managed_fields,
        all_namespaces: a.all_namespaces,
        headers: !a.no_headers,
    };
    if a.watch {
        return watch(&client, &base, &query, &types, &printer).await;
    }
    let mut items = list_all(&client, &base, &query, a.chunk_size).await?;
    items.retain(|e| wanted(&types, e));
    if items.is_empty() {
        if a.all_namespaces {
            eprintln!("No events found.");
        } else {
            eprintln!("No events found in {} namespace.", client.namespace);
        }
        return Ok(());
    }
    // A stable sort keeps the server's order among events of the same time.
    items.sort_by_key(event_time);
    printer.print_list(items)
}

/// `--for TYPE/NAME` as a field selector on the involved object's kind and name.
async fn for_selector(client: &ApiClient, for_object: &str) -> Result<String> {
    let mut parts = for_object.split('/');
    let (Some(ty), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KubectlError::usage(if for_object.contains('/') {
            "arguments in resource/name form may not have more than one slash"
        } else {
            "--for must be in resource/name form"
        }));
    };
    let mut disc = Discovery::load(client).await?;
    // Upstream prints this one without its `error: ` prefix.
    let res = disc.resolve(client, ty).await.map_err(|e| match e {
        KubectlError::Usage(message) => {
            eprintln!("{message}");
            KubectlError::Reported
        }
        other => other,
    })?;
    Ok(format!(
        "involvedObject.kind={},involvedObject.name={name}",
        res.kind
    ))
}

/// `--types`, checked and sorted as upstream keeps them.
fn filter_types(types: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for t in types.iter().filter(|t| !t.is_empty()) {
        if !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning") {
            return Err(KubectlError::usage("valid --types are Normal or Warning"));
        }
        out.push(t.clone());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn wanted(types: &[String], event: &Value) -> bool {
    let ty = event["type"].as_str().unwrap_or_default();
    types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(ty))
}

/// Every event of the list, following `continue` tokens chunk by chunk.
async fn list_all(
    client: &ApiClient,
    base: &str,
    query: &[String],
    chunk_size: u64,
) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let path = super::get::page_path(base, query.to_vec(), chunk_size, &token);
        let mut page = client.get(&path).await?;
        if let Some(list) = page["items"].as_array_mut() {
            items.append(list);
        }
        token = page["metadata"]["continue"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if token.is_empty() {
            return Ok(items);
        }
    }
}

/// The time upstream sorts by: the series' last observation, else lastTimestamp, else
/// eventTime (all RFC 3339, so they sort as text once normalised to UTC seconds).
fn event_time(e: &Value) -> String {
    [
        &e["series"]["lastObservedTime"],
        &e["lastTimestamp"],
        &e["eventTime"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .find(|t| !t.is_empty())
    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339())
    .unwrap_or_default()
}

/// `-w`: each new or changed event as it comes (deletions, after an hour, are not shown).
async fn watch(
    client: &ApiClient,
    base: &str,
    query: &[String],
    types: &[String],
    printer: &Printer,
) -> Result<()> {
    let mut qs = query.to_vec();
    qs.push("watch=true".into());
    let path = format!("{base}?{}", qs.join("&"));
    let mut events = WatchEvents::open(client, &path, "application/json").await?;
    let mut tw = TabWriter::new();
    let mut header_done = false;
    while let Some(ev) = events.next().await {
        let ev = ev?;
        if ev.kind == "DELETED" {
            continue;
        }
        let event = with_type(ev.object);
        if !wanted(types, &event) {
            continue;
        }
        if matches!(printer.format, OutputFormat::Table) {
            if printer.headers && !header_done {
                tw.row(printer.header());
                header_done = true;
            }
            tw.row(printer.row(&event));
            out(&tw.flush());
        } else {
            printer.print_object(&event)?;
        }
    }
    Ok(())
}

/// Lists leave out each item's kind; printers name it.
fn with_type(mut e: Value) -> Value {
    if e.get("kind")
        .is_none_or(|k| k.as_str().unwrap_or_default().is_empty())
    {
        e["kind"] = json!("Event");
        e["apiVersion"] = json!("v1");
    }
    e
}

struct Printer {
    format: OutputFormat,
    show_managed_fields: bool,
    all_namespaces: bool,
    headers: bool,
}

impl Printer {
    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = Vec::new();
        if self.all_namespaces {
            h.push("NAMESPACE".into());
        }
        h.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"].map(String::from));
        h
    }

    fn row(&self, e: &Value) -> Vec<String> {
        let mut r = Vec::new();
        if self.all_namespaces {
            r.push(
                e["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        r.push(interval(e));
        r.push(s(&e["type"]));
        r.push(s(&e["reason"]));
        r.push(format!(
            "{}/{}",
            s(&e["involvedObject"]["kind"]),
            s(&e["involvedObject"]["name"])
        ));
        // kubectl 1.32 prints the message whole, line breaks included.
        r.push(s(&e["message"]).trim().to_string());
        r
    }

    fn print_list(&self, items: Vec<Value>) -> Result<()> {
        if matches!(self.format, OutputFormat::Table) {
            let mut tw = TabWriter::new();
            if self.headers {
                tw.row(self.header());
            }
            for e in &items {
                tw.row(self.row(e));
            }
            out(&tw.flush());
            return Ok(());
        }
        let items: Vec<Value> = items.into_iter().map(with_type).collect();
        if matches!(self.format, OutputFormat::Name) {
            // kubectl 1.32 prints nothing for `-o name` here.
            return Ok(());
        }
        let list = json!({"apiVersion": "v1", "kind": "EventList", "metadata": {}, "items": items});
        self.print_object(&list)
    }

    fn print_object(&self, obj: &Value) -> Result<()> {
        let mut obj = obj.clone();
        if !self.show_managed_fields {
            omit_managed_fields(&self.format, &mut obj);
        }
        let obj = &obj;
        match &self.format {
            OutputFormat::Table | OutputFormat::Wide => {}
            OutputFormat::Name => out(&format!("{}\n", name_of(obj))),
            OutputFormat::Yaml => out(&yaml::to_yaml(obj)),
            OutputFormat::Json => out(&jsonp::to_json(obj)),
            OutputFormat::JsonPath(t) => out(&t.execute(obj).map_err(KubectlError::usage)?),
            OutputFormat::GoTemplate(t) => render_go_template(t, obj)?,
            OutputFormat::CustomColumns(c) => {
                let rows = obj["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![obj.clone()]);
                out(&custom_columns::render(c, &rows, false))
            }
        }
        Ok(())
    }
}

/// LAST SEEN: the age, and for a repeated event `AGE (xN over FIRST)`.
fn interval(e: &Value) -> String {
    let micro = e["eventTime"].as_str().filter(|t| !t.is_empty());
    let first = match micro {
        Some(t) => age_of(Some(t)),
        None => age_of(e["firstTimestamp"].as_str()),
    };
    if e["series"].is_object() {
        format!(
            "{} (x{} over {first})",
            age_of(e["series"]["lastObservedTime"].as_str()),
            e["series"]["count"].as_i64().unwrap_or(0)
        )
    } else if let Some(count) = e["count"].as_i64().filter(|c| *c > 1) {
        format!(
            "{} (x{count} over {first})",
            age_of(e["lastTimestamp"].as_str())
        )
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_events_show_their_count_and_first_time() {
        let now = chrono::Utc::now();
        let ago = |s: i64| (now - chrono::Duration::seconds(s)).to_rfc3339();
        let once = json!({"firstTimestamp": ago(30), "lastTimestamp": ago(30), "count": 1});
        assert_eq!(interval(&once), "30s");
        let many = json!({"firstTimestamp": ago(600), "lastTimestamp": ago(5), "count": 4});
        assert_eq!(interval(&many), "5s (x4 over 10m)");
        let series =
            json!({"eventTime": ago(90), "series": {"count": 2, "lastObservedTime": ago(3)}});
        assert_eq!(interval(&series), "3s (x2 over 90s)");
        assert_eq!(interval(&json!({})), "<unknown>");
    }

    #[test]
    fn types_are_checked_and_events_sorted_by_time() {
        assert!(filter_types(&["Bogus".into()]).is_err());
        let types = filter_types(&["warning".into(), "Normal".into()]).unwrap();
        assert!(wanted(&types, &json!({"type": "Warning"})));
        let only_warnings = filter_types(&["Warning".into()]).unwrap();
        assert!(!wanted(&only_warnings, &json!({"type": "Normal"})));
        let mut events = [
            json!({"lastTimestamp": "2026-01-01T00:00:10Z", "n": 1}),
            json!({"eventTime": "2026-01-01T00:00:05.123456Z", "n": 2}),
            json!({"series": {"lastObservedTime": "2026-01-01T00:00:01.000000Z"}, "n": 3}),
        ];
        events.sort_by_key(event_time);
        let order: Vec<i64> = events.iter().map(|e| e["n"].as_i64().unwrap()).collect();
        assert_eq!(order, [3, 2, 1]);
    }
}
