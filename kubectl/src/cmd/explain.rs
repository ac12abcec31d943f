//! `kubectl explain TYPE[.FIELD…]`: documentation of a resource's fields from the server's
//! OpenAPI v3 document, laid out as upstream's plaintext template does (word wrap at 76/78
//! columns without breaking long words, `<type>` guesses from `$ref`/`items`/
//! `additionalProperties`, `-required-`, enums, `--recursive` trees).

use clap::Args;
use serde_json::Value;

use super::{out, Ctx};
use crate::error::{KubectlError, Result};

/// `kubectl explain TYPE[.FIELD…]`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// TYPE[.FIELD…]
    args: Vec<String>,
    /// Print the fields of fields (currently only 1 level deep).
    #[arg(long)]
    recursive: bool,
    /// Use given api-version (group/version) of the resource.
    #[arg(long)]
    api_version: Option<String>,
    /// Format in which to render the schema (plaintext).
    #[arg(long, default_value = "plaintext")]
    output: String,
}

/// The template's `wrap` (go-wordwrap's `WrapString`, as kubectl's word-wrap writer uses
/// it): breaks before a word that would pass `lim` columns, drops the spaces at the break,
/// never splits a word, and keeps existing line breaks.
pub fn wrap(s: &str, lim: usize) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    let mut current = 0usize;
    let mut word = String::new();
    let mut space = String::new();
    let (mut word_len, mut space_len) = (0usize, 0usize);
    for ch in s.chars() {
        if ch == '\n' {
            if word.is_empty() {
                if current + space_len <= lim {
                    out.push_str(&space);
                }
            } else {
                out.push_str(&space);
                out.push_str(&word);
            }
            space.clear();
            word.clear();
            space_len = 0;
            word_len = 0;
            out.push('\n');
            current = 0;
        } else if ch.is_whitespace() && ch != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                out.push_str(&space);
                out.push_str(&word);
                space.clear();
                word.clear();
                space_len = 0;
                word_len = 0;
            }
            space.push(ch);
            space_len += 1;
        } else {
            word.push(ch);
            word_len += 1;
            if current + space_len + word_len > lim && word_len < lim {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= lim {
            out.push_str(&space);
        }
    } else {
        out.push_str(&space);
        out.push_str(&word);
    }
    out
}

/// sprig's `indent`: pads the first line and every line after a newline.
pub fn indent(n: usize, s: &str) -> String {
    let pad = " ".repeat(n);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// The document an explanation reads.
pub struct Doc<'a> {
    /// The group-version's OpenAPI v3 document.
    pub doc: &'a Value,
}

impl<'a> Doc<'a> {
    fn resolve(&self, schema: &'a Value) -> Option<&'a Value> {
        let r = schema.get("$ref")?.as_str()?;
        let name = r.strip_prefix("#/components/schemas/")?;
        self.doc["components"]["schemas"].get(name)
    }

    fn resolved(&self, schema: &'a Value) -> &'a Value {
        self.resolve(schema).unwrap_or(schema)
    }

    /// The template's `typeGuess`.
    pub fn type_guess(&self, s: &'a Value) -> String {
        if let Some(items) = s.get("items") {
            return format!("[]{}", self.type_guess(items));
        }
        if let Some(ap) = s.get("additionalProperties").filter(|v| v.is_object()) {
            return format!("map[string]{}", self.type_guess(ap));
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            if s.get("properties").is_none() && all.len() == 1 {
                return self.type_guess(&all[0]);
            }
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(s);
            let ty = target.and_then(|t| t["type"].as_str());
            return match ty {
                None | Some("object") => {
                    let name = r.rsplit('/').next().unwrap_or("");
                    let last = name.rsplit('.').next().unwrap_or("");
                    if last.is_empty() {
                        "Object".into()
                    } else {
                        last.into()
                    }
                }
                Some(t) => t.into(),
            };
        }
        match s["type"].as_str() {
            Some("object") | None => "Object".into(),
            Some(t) => t.into(),
        }
    }

    /// The template's `description`: this schema's and its allOf/items/map values'.
    fn description(&self, s: &'a Value) -> String {
        let s = self.resolved(s);
        let mut out = String::new();
        if let Some(d) = s["description"].as_str().filter(|d| !d.is_empty()) {
            out.push_str(d);
            out.push('\n');
        }
        for a in s["allOf"].as_array().into_iter().flatten() {
            out.push_str(&self.description(a));
        }
        if let Some(items) = s.get("items") {
            out.push_str(&self.description(items));
        }
        if let Some(ap) = s.get("additionalProperties").filter(|v| v.is_object()) {
            out.push_str(&self.description(ap));
        }
        out
    }

    fn external_docs(s: &Value, base: usize) -> String {
        let Some(ed) = s.get("externalDocs").filter(|v| v.is_object()) else {
            return String::new();
        };
        let mut out = String::new();
        if let Some(d) = ed["description"].as_str().filter(|d| !d.is_empty()) {
            out.push_str(&indent(base + 4, &wrap(d, 76 - base)));
            out.push('\n');
        }
        if let Some(u) = ed["url"].as_str().filter(|u| !u.is_empty()) {
            out.push_str(&indent(base + 4, &format!("URL: {u}")));
            out.push('\n');
        }
        out
    }

    fn enum_text(s: &Value, long: bool, limit: i64, indent_amount: usize) -> String {
        let Some(values) = s["enum"].as_array().filter(|e| !e.is_empty()) else {
            return String::new();
        };
        let mut out = if long {
            "ENUM:".to_string()
        } else {
            format!("\n{}enum: ", " ".repeat(indent_amount))
        };
        for (i, v) in values.iter().enumerate() {
            if limit > -1 && i as i64 >= limit {
                out.push_str(", ....");
                break;
            }
            if i > 0 && !long {
                out.push_str(", ");
            } else if long {
                out.push_str("\n    ");
            }
            match v {
                Value::String(s) if s.is_empty() => out.push_str("\"\""),
                Value::String(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            }
        }
        out
    }

    fn field_detail(&self, name: &str, parent: &'a Value, short: bool, level: usize) -> String {
        let ind = level * 2;
        let field = &parent["properties"][name];
        let mut out = format!("{}\t<{}>", indent(ind, name), self.type_guess(field));
        if parent["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x == name))
        {
            out.push_str(" -required-");
        }
        out.push_str(&Self::enum_text(field, false, 4, ind));
        out.push('\n');
        if !short {
            let d = field["description"]
                .as_str()
                .filter(|d| !d.is_empty())
                .unwrap_or("<no description>");
            out.push_str(&indent(ind + 2, &wrap(d, 78 - ind)));
            out.push('\n');
            if field.get("externalDocs").is_some_and(Value::is_object) {
                out.push('\n');
                out.push_str(&indent(ind + 2, "EXTERNAL DOCS:"));
                out.push('\n');
                let ed = &field["externalDocs"];
                if let Some(d) = ed["description"].as_str().filter(|d| !d.is_empty()) {
                    out.push_str(&indent(ind + 4, &wrap(d, 76 - ind)));
                    out.push('\n');
                }
                if let Some(u) = ed["url"].as_str().filter(|u| !u.is_empty()) {
                    out.push_str(&indent(ind + 4, &format!("URL: {u}")));
                    out.push('\n');
                }
            }
            out.push('\n');
        }
        out
    }

    fn field_list(
        &self,
        s: &'a Value,
        level: usize,
        history: &[String],
        recursive: bool,
    ) -> String {
        let r = s["$ref"].as_str().unwrap_or("").to_string();
        if !r.is_empty() && history.contains(&r) {
            return String::new();
        }
        let mut history = history.to_vec();
        history.push(r);
        let resolved = self.resolved(s);
        let mut out = String::new();
        if let Some(props) = resolved["properties"].as_object() {
            let mut keys: Vec<&String> = props.keys().collect();
            keys.sort();
            for k in keys {
                out.push_str(&self.field_detail(k, resolved, recursive, level));
                if recursive {
                    out.push_str(&self.field_list(
                        &props[k.as_str()],
                        level + 1,
                        &history,
                        recursive,
                    ));
                }
            }
        }
        for a in resolved["allOf"].as_array().into_iter().flatten() {
            out.push_str(&self.field_list(a, level, &history, recursive));
        }
        if let Some(items) = resolved.get("items") {
            out.push_str(&self.field_list(items, level, &history, recursive));
        }
        if let Some(ap) = resolved
            .get("additionalProperties")
            .filter(|v| v.is_object())
        {
            out.push_str(&self.field_list(ap, level, &history, recursive));
        }
        out
    }

    /// The template's `output`: follows `path`, then prints description and fields.
    pub fn output(
        &self,
        s: &'a Value,
        path: &[String],
        history: &[String],
        recursive: bool,
    ) -> String {
        let r = s["$ref"].as_str().unwrap_or("").to_string();
        let mut next_history = history.to_vec();
        next_history.push(r.clone());
        let resolved = self.resolved(s);
        if path.is_empty() {
            let mut out = String::from("DESCRIPTION:\n");
            let d = self.description(resolved);
            let d = if d.is_empty() {
                "<empty>".to_string()
            } else {
                d
            };
            out.push_str(&indent(4, &wrap(&d, 76)));
            out.push('\n');
            let ed = Self::external_docs(resolved, 0);
            if !ed.is_empty() {
                out.push_str("\nEXTERNAL DOCS:\n");
                out.push_str(&ed);
            }
            let fields = self.field_list(resolved, 1, &[], recursive);
            if !fields.is_empty() {
                out.push_str("FIELDS:\n");
                out.push_str(&fields);
            }
            return out;
        }
        if !r.is_empty() && history.contains(&r) {
            return String::new();
        }
        if let Some(sub) = resolved["properties"].get(path[0].as_str()) {
            let mut out = String::new();
            if path.len() == 1 {
                out.push_str(&format!("FIELD: {} <{}>\n", path[0], self.type_guess(sub)));
                out.push_str(&Self::enum_text(sub, true, -1, 0));
                out.push_str("\n\n");
            }
            out.push_str(&self.output(sub, &path[1..], &[], recursive));
            return out;
        }
        if let Some(items) = resolved.get("items") {
            return self.output(items, path, &next_history, recursive);
        }
        if let Some(ap) = resolved
            .get("additionalProperties")
            .filter(|v| v.is_object())
        {
            return self.output(ap, path, &next_history, recursive);
        }
        for a in resolved["allOf"].as_array().into_iter().flatten() {
            let o = self.output(a, path, &next_history, recursive);
            if !o.is_empty() {
                return o;
            }
        }
        String::new()
    }

    /// The schema of a kind (the one whose `x-kubernetes-group-version-kind` names it).
    pub fn schema_for(&self, group: &str, version: &str, kind: &str) -> Option<&'a Value> {
        crate::strategic::schema::kind_schema(self.doc, group, version, kind).map(|(_, s)| s)
    }
}

/// Runs `kubectl explain`.
pub async fn run(ctx: &Ctx, a: ExplainArgs) -> Result<()> {
    let Some(arg) = a.args.first() else {
        return Err(KubectlError::usage(
            "You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.",
        ));
    };
    if a.output != "plaintext" {
        return Err(KubectlError::usage(format!(
            "unsupported output format: {}. Supported formats: [plaintext plaintext-openapiv2]",
            a.output
        )));
    }
    let mut parts = arg.split('.');
    let word = parts.next().unwrap_or("");
    let path: Vec<String> = parts.map(String::from).collect();
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let res = match &a.api_version {
        Some(gv) => {
            let (g, v) = gv.split_once('/').unwrap_or(("", gv.as_str()));
            let base = disc.resolve(&client, word).await.map_err(not_found)?;
            disc.resources
                .iter()
                .find(|r| r.group == g && r.version == v && r.plural == base.plural)
                .cloned()
                .ok_or_else(|| {
                    KubectlError::usage(format!(
                        "couldn't find resource for \"{g}/{v}, Resource={}\"",
                        base.plural
                    ))
                })?
        }
        None => disc.resolve(&client, word).await.map_err(not_found)?,
    };
    let key = if res.group.is_empty() {
        format!("api/{}", res.version)
    } else {
        format!("apis/{}/{}", res.group, res.version)
    };
    let index = client.get("/openapi/v3").await?;
    let url = index["paths"][key.as_str()]["serverRelativeURL"]
        .as_str()
        .map(String::from)
        .unwrap_or(format!("/openapi/v3/{key}"));
    let doc = client.get(&url).await?;
    let d = Doc { doc: &doc };
    let Some(schema) = d.schema_for(&res.group, &res.version, &res.kind) else {
        return Err(KubectlError::usage(format!(
            "GVK {}/{}, Kind={} not found in OpenAPI schema",
            res.group, res.version, res.kind
        )));
    };
    let mut text = String::new();
    if !res.group.is_empty() {
        text.push_str(&format!("GROUP:      {}\n", res.group));
    }
    text.push_str(&format!(
        "KIND:       {}\nVERSION:    {}\n\n",
        res.kind, res.version
    ));
    let body = d.output(schema, &path, &[], a.recursive);
    if body.is_empty() {
        out(&text);
        return Err(KubectlError::usage(format!(
            "field \"{}\" does not exist",
            path.last().map(String::as_str).unwrap_or("")
        )));
    }
    text.push_str(&body);
    text.push('\n');
    out(&text);
    Ok(())
}

/// Upstream prints the mapper's error without the `error: ` prefix.
fn not_found(e: KubectlError) -> KubectlError {
    eprintln!("{}", e.to_string().trim_start_matches("error: "));
    KubectlError::Reported
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrap_like_goutils() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(
            wrap("a https://very-long-url b", 5),
            "a\nhttps://very-long-url\nb"
        );
        // Spaces at a break are dropped; line breaks restart the count.
        assert_eq!(wrap("aaa  bbb\ncc dd", 4), "aaa\nbbb\ncc\ndd");
        assert_eq!(indent(4, "a\nb\n"), "    a\n    b\n    ");
    }

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "io.k8s.api.core.v1.Pod": {"description": "Pod is a pod.", "type": "object",
                "x-kubernetes-group-version-kind": [{"group": "", "kind": "Pod", "version": "v1"}],
                "properties": {
                    "kind": {"description": "Kind.", "type": "string"},
                    "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}], "description": "Spec."}
                }},
            "io.k8s.api.core.v1.PodSpec": {"description": "PodSpec is a spec.", "type": "object", "required": ["containers"],
                "properties": {
                    "containers": {"type": "array", "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}, "description": "Containers."},
                    "restartPolicy": {"type": "string", "enum": ["Always", "Never", "OnFailure"], "description": "Restart."}
                }},
            "io.k8s.api.core.v1.Container": {"type": "object", "properties": {"name": {"type": "string", "description": "Name."}}}
        }}})
    }

    #[test]
    fn fields_types_and_required() {
        let doc = doc();
        let d = Doc { doc: &doc };
        let pod = d.schema_for("", "v1", "Pod").unwrap();
        let out = d.output(pod, &["spec".to_string()], &[], false);
        assert_eq!(
            out,
            "FIELD: spec <PodSpec>\n\n\nDESCRIPTION:\n    Spec.\n    PodSpec is a spec.\n    \nFIELDS:\n  containers\t<[]Container> -required-\n    Containers.\n\n  restartPolicy\t<string>\n  enum: Always, Never, OnFailure\n    Restart.\n\n"
        );
        let rec = d.output(pod, &[], &[], true);
        assert!(rec.ends_with("FIELDS:\n  kind\t<string>\n  spec\t<PodSpec>\n    containers\t<[]Container> -required-\n      name\t<string>\n    restartPolicy\t<string>\n    enum: Always, Never, OnFailure\n"), "{rec}");
        assert_eq!(d.output(pod, &["nope".to_string()], &[], false), "");
    }
}
