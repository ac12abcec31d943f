//! `-o custom-columns=HEADER:path,…`: one column per spec, values from a JSONPath relative to
//! each object, several results joined by commas, nothing found printed as `<none>`.

use serde_json::Value;

use super::jsonpath::{parse_path, to_text, Path};
use super::tabwriter::TabWriter;

/// One `HEADER:path` column.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header exactly as given.
    pub header: String,
    path: Path,
}

/// Parses `NAME:.metadata.name,IMAGE:.spec.containers[*].image`.
pub fn parse(spec: &str) -> Result<Vec<Column>, String> {
    if spec.is_empty() {
        return Err("custom-columns format specified but no custom columns given".to_string());
    }
    let mut cols = Vec::new();
    for part in split_top_level(spec) {
        let Some((header, path)) = part.split_once(':') else {
            return Err(format!(
                "unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            ));
        };
        let path = path.trim();
        let path = path
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .unwrap_or(path);
        cols.push(Column {
            header: header.to_string(),
            path: parse_path(path)?,
        });
    }
    Ok(cols)
}

/// Splits on commas that are not inside brackets (filters may contain commas).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Renders objects as custom columns.
pub fn render(cols: &[Column], objects: &[Value], no_headers: bool) -> String {
    let mut tw = TabWriter::new();
    if !no_headers {
        tw.row(cols.iter().map(|c| c.header.clone()).collect());
    }
    for obj in objects {
        tw.row(
            cols.iter()
                .map(|c| {
                    let vals = c.path.eval(obj, obj);
                    if vals.is_empty() {
                        "<none>".to_string()
                    } else {
                        vals.into_iter().map(to_text).collect::<Vec<_>>().join(",")
                    }
                })
                .collect(),
        );
    }
    tw.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_join_and_default_none() {
        let cols = parse("NAME:.metadata.name,IMAGES:.spec.containers[*].image,NODE:spec.nodeName")
            .unwrap();
        let objs = vec![
            json!({"metadata": {"name": "a"}, "spec": {"containers": [{"image": "x"}, {"image": "y"}]}}),
            json!({"metadata": {"name": "bb"}, "spec": {"nodeName": "n1", "containers": []}}),
        ];
        assert_eq!(
            render(&cols, &objs, false),
            "NAME   IMAGES   NODE\na      x,y      <none>\nbb     <none>   n1\n"
        );
        assert_eq!(render(&cols, &objs[1..], true), "bb    <none>   n1\n");
    }

    #[test]
    fn bad_spec_is_an_error() {
        assert!(parse("NAME").is_err());
        assert!(parse("").is_err());
    }
}
