//! Reading what `kubectl get` prints: one object (or one of its subresources) or a whole
//! collection in chunks, as a server-side Table for human-readable output or as objects
//! for the other formats. With `--server-print=false` objects are read even for tables and
//! shown as upstream's client-side default printer shows them: NAME and AGE.

use http::Method;
use serde_json::{json, Value};

use super::targets::Target;
use crate::client::{q, ApiClient, ACCEPT_TABLE};
use crate::error::Result;

/// What a fetch returned for one target.
pub enum Fetched {
    /// Rows to print as a table (the server's, or NAME/AGE made here).
    Table(Value),
    /// Whole objects for the other formats.
    Objects(Vec<Value>),
}

impl Fetched {
    /// How many objects (rows) it holds.
    pub fn count(&self) -> usize {
        match self {
            Fetched::Table(t) => t["rows"].as_array().map_or(0, Vec::len),
            Fetched::Objects(o) => o.len(),
        }
    }
}

/// How to read.
pub struct Request<'a> {
    /// Human-readable output: rows rather than objects.
    pub table: bool,
    /// Ask the server for the table (`--server-print`, default true).
    pub server_print: bool,
    /// `--sort-by` is set: rows must carry whole objects, and lists come in one piece.
    pub sorting: bool,
    /// `-l`
    pub label_selector: Option<&'a str>,
    /// `--field-selector`
    pub field_selector: Option<&'a str>,
    /// `--chunk-size`
    pub chunk_size: u64,
    /// `--subresource`, for named objects.
    pub subresource: Option<&'a str>,
}

impl Request<'_> {
    /// The Accept header: tables only when the server prints them.
    pub fn accept(&self) -> &'static str {
        if self.server_tables() {
            ACCEPT_TABLE
        } else {
            "application/json"
        }
    }

    /// Whether the server is asked for tables.
    pub fn server_tables(&self) -> bool {
        self.table && self.server_print
    }

    /// The selector parameters of a list or watch (and `includeObject` for sorting tables).
    pub fn list_query(&self) -> Vec<String> {
        let mut qs = Vec::new();
        if let Some(l) = self.label_selector {
            qs.push(format!("labelSelector={}", q(l)));
        }
        if let Some(f) = self.field_selector {
            qs.push(format!("fieldSelector={}", q(f)));
        }
        if self.server_tables() && self.sorting {
            qs.push("includeObject=Object".to_string());
        }
        qs
    }

    /// Upstream reads sorted lists whole, so that they sort as one.
    fn effective_chunk_size(&self) -> u64 {
        if self.sorting {
            0
        } else {
            self.chunk_size
        }
    }
}

/// Reads one target.
pub async fn fetch(client: &ApiClient, req: &Request<'_>, t: &Target) -> Result<Fetched> {
    let accept = req.accept();
    if let Some(name) = &t.name {
        let mut path = t.res.object_path(t.namespace.as_deref(), name);
        if let Some(sub) = req.subresource.filter(|s| !s.is_empty()) {
            path.push('/');
            path.push_str(sub);
        }
        if req.server_tables() && req.sorting {
            path.push_str("?includeObject=Object");
        }
        let v = client.request(Method::GET, &path, accept, None).await?;
        return Ok(if req.table {
            Fetched::Table(as_table(v))
        } else {
            Fetched::Objects(vec![v])
        });
    }
    let base = t.res.collection_path(t.namespace.as_deref());
    let key = if req.server_tables() { "rows" } else { "items" };
    let mut cont = String::new();
    let mut merged: Option<Value> = None;
    loop {
        let path = page_path(&base, req.list_query(), req.effective_chunk_size(), &cont);
        let page = client.request(Method::GET, &path, accept, None).await?;
        cont = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        match &mut merged {
            None => merged = Some(page),
            Some(m) => {
                let more = page[key].as_array().cloned().unwrap_or_default();
                if let Some(a) = m.get_mut(key).and_then(Value::as_array_mut) {
                    a.extend(more);
                }
            }
        }
        if cont.is_empty() {
            break;
        }
    }
    let merged = merged.unwrap_or(Value::Null);
    Ok(if req.table {
        Fetched::Table(as_table(merged))
    } else {
        Fetched::Objects(merged["items"].as_array().cloned().unwrap_or_default())
    })
}

/// The URL of one page of a chunked list: the query plus `limit` and `continue`.
pub fn page_path(base: &str, mut query: Vec<String>, chunk_size: u64, token: &str) -> String {
    if chunk_size > 0 {
        query.push(format!("limit={chunk_size}"));
    }
    if !token.is_empty() {
        query.push(format!("continue={}", q(token)));
    }
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// A Table as it is; an object or a list (the server printed no table, or was not asked
/// to) as upstream's default printer shows it: NAME and AGE.
pub fn as_table(v: Value) -> Value {
    if v["kind"] == "Table" {
        return v;
    }
    let items = if v["kind"].as_str().is_some_and(|k| k.ends_with("List")) || v["items"].is_array()
    {
        v["items"].as_array().cloned().unwrap_or_default()
    } else {
        vec![v]
    };
    let rows: Vec<Value> = items
        .into_iter()
        .map(|o| {
            let name = o["metadata"]["name"].clone();
            let age = crate::printers::age::age_of(o["metadata"]["creationTimestamp"].as_str());
            json!({"cells": [name, age], "object": o})
        })
        .collect();
    json!({
        "kind": "Table",
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "priority": 0},
            {"name": "Age", "type": "string", "priority": 0}
        ],
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(table: bool, server_print: bool, sorting: bool) -> Request<'static> {
        Request {
            table,
            server_print,
            sorting,
            label_selector: Some("app=web"),
            field_selector: None,
            chunk_size: 500,
            subresource: None,
        }
    }

    #[test]
    fn tables_are_asked_of_the_server_only_when_it_prints() {
        assert_eq!(request(true, true, false).accept(), ACCEPT_TABLE);
        assert_eq!(request(true, false, false).accept(), "application/json");
        assert_eq!(request(false, true, false).accept(), "application/json");
    }

    #[test]
    fn sorted_lists_come_whole_with_objects_in_their_rows() {
        let r = request(true, true, true);
        assert_eq!(
            r.list_query(),
            ["labelSelector=app%3Dweb", "includeObject=Object"]
        );
        assert_eq!(r.effective_chunk_size(), 0);
        let r = request(true, false, true);
        assert_eq!(r.list_query(), ["labelSelector=app%3Dweb"]);
        assert_eq!(request(true, true, false).effective_chunk_size(), 500);
    }

    #[test]
    fn pages_carry_limit_and_continue() {
        assert_eq!(page_path("/api/v1/pods", vec![], 0, ""), "/api/v1/pods");
        assert_eq!(
            page_path("/api/v1/pods", vec!["labelSelector=a".into()], 2, "x=y"),
            "/api/v1/pods?labelSelector=a&limit=2&continue=x%3Dy"
        );
    }

    #[test]
    fn objects_become_name_and_age_rows() {
        let list = json!({"kind": "ConfigMapList", "items": [
            {"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]});
        let t = as_table(list);
        assert_eq!(t["rows"].as_array().map(Vec::len), Some(2));
        assert_eq!(t["rows"][0]["cells"], json!(["a", "<unknown>"]));
        assert_eq!(t["columnDefinitions"][0]["name"], "Name");
        let one = as_table(json!({"kind": "Scale", "metadata": {"name": "web"}}));
        assert_eq!(one["rows"][0]["cells"][0], "web");
        let table = json!({"kind": "Table", "rows": []});
        assert_eq!(as_table(table.clone()), table);
    }
}
