//! Reading `-f` arguments: files, directories (`-R` to descend), `-` for stdin; multi-document
//! YAML or JSON; `kind: List` flattened into its items.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// One object read from a manifest, with where it came from (for messages).
#[derive(Debug, Clone)]
pub struct Manifest {
    /// File name as given (or "STDIN").
    pub source: String,
    /// The object.
    pub object: Value,
}

/// Reads every object named by `-f` arguments, in order.
pub fn read_all(filenames: &[String], recursive: bool) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for f in filenames {
        if f == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| KubectlError::usage(format!("reading stdin: {e}")))?;
            out.extend(parse("STDIN", &text)?);
            continue;
        }
        let path = Path::new(f);
        if !path.exists() {
            return Err(KubectlError::usage(format!(
                "the path \"{f}\" does not exist"
            )));
        }
        if path.is_dir() {
            for file in dir_files(path, recursive)? {
                let text = read(&file)?;
                out.extend(parse(&file.to_string_lossy(), &text)?);
            }
        } else {
            out.extend(parse(f, &read(path)?)?);
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| KubectlError::usage(format!("open {}: {e}", path.display())))
}

/// Manifest files of a directory, sorted, descending only with `-R` (as upstream).
fn dir_files(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| KubectlError::usage(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                out.extend(dir_files(&p, true)?);
            }
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Parses a YAML/JSON stream into objects. Documents are split on `---` lines first, as
/// upstream's reader does, so error line numbers count from the start of the document.
pub fn parse(source: &str, text: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for doc in split_documents(text) {
        if doc.trim().is_empty() {
            continue;
        }
        let v = Value::deserialize(serde_yaml::Deserializer::from_str(&doc)).map_err(|e| {
            KubectlError::usage(format!(
                "error parsing {source}: error converting YAML to JSON: yaml: {}",
                go_yaml_error(&e)
            ))
        })?;
        push_object(source, v, &mut out)?;
    }
    Ok(out)
}

fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                docs.push(String::new());
                continue;
            }
        }
        if let Some(d) = docs.last_mut() {
            d.push_str(line);
        }
    }
    docs
}

/// go-yaml's wording of a syntax error: `line N: problem`, where N is libyaml's 0-based mark
/// for parser errors and 1-based for scanner errors (go-yaml's own quirk).
fn go_yaml_error(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    let problem = text.split(" at line ").next().unwrap_or(&text).to_string();
    const SCANNER: &[&str] = &[
        "mapping values are not allowed in this context",
        "found character that cannot start any token",
        "could not find expected ':'",
        "found unknown escape character",
        "did not find expected comment or line break",
        "found a tab character that violates indentation",
        "block sequence entries are not allowed in this context",
        "found unexpected end of stream",
        "did not find URI escaped octet",
    ];
    let Some(loc) = e.location() else {
        return problem;
    };
    let line = if SCANNER.iter().any(|s| problem.starts_with(s)) {
        loc.line()
    } else {
        loc.line().saturating_sub(1)
    };
    if line == 0 {
        problem
    } else {
        format!("line {line}: {problem}")
    }
}

fn push_object(source: &str, v: Value, out: &mut Vec<Manifest>) -> Result<()> {
    match v {
        Value::Null => Ok(()),
        Value::Object(ref m) if m.is_empty() => Ok(()),
        Value::Object(_) => {
            if v["kind"].as_str().is_none_or(str::is_empty) {
                return Err(KubectlError::usage(format!(
                    "unable to decode \"{source}\": Object 'Kind' is missing in '{v}'"
                )));
            }
            let kind = v["kind"].as_str().unwrap_or("");
            if kind.ends_with("List") && v["items"].is_array() {
                for item in v["items"].as_array().cloned().unwrap_or_default() {
                    push_object(source, item, out)?;
                }
                return Ok(());
            }
            out.push(Manifest {
                source: source.to_string(),
                object: v,
            });
            Ok(())
        }
        other => Err(KubectlError::usage(format!(
            "error parsing {source}: object is not a mapping: {other}"
        ))),
    }
}

/// The resource type of an object, by its apiVersion and kind.
pub fn resource_for<'a>(disc: &'a Discovery, m: &Manifest) -> Result<&'a ApiResource> {
    let api_version = m.object["apiVersion"].as_str().unwrap_or("");
    let kind = m.object["kind"].as_str().unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    disc.resources
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
        .ok_or_else(|| {
            KubectlError::usage(format!(
                "resource mapping not found for name: \"{}\" namespace: \"{}\" from \"{}\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first",
                m.object["metadata"]["name"].as_str().unwrap_or(""),
                m.object["metadata"]["namespace"].as_str().unwrap_or(""),
                m.source
            ))
        })
}

/// A copy of the manifest with `metadata.namespace` set (namespaced types only).
pub fn with_namespace(m: &Manifest, ns: Option<&str>) -> Manifest {
    let mut m = m.clone();
    if let Some(ns) = ns {
        if !m.object["metadata"].is_object() {
            m.object["metadata"] = Value::Object(serde_json::Map::new());
        }
        m.object["metadata"]["namespace"] = Value::String(ns.to_string());
    }
    m
}

/// The namespace an object goes to: its own, checked against an explicit `-n`.
pub fn namespace_for(
    m: &Manifest,
    res: &ApiResource,
    default_ns: &str,
    explicit: bool,
) -> Result<Option<String>> {
    if !res.namespaced {
        return Ok(None);
    }
    match m.object["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => {
            if explicit && ns != default_ns {
                return Err(KubectlError::usage(format!(
                    "the namespace from the provided object \"{ns}\" does not match the namespace \"{default_ns}\". You must pass '--namespace={ns}' to perform this operation."
                )));
            }
            Ok(Some(ns.to_string()))
        }
        _ => Ok(Some(default_ns.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_and_lists() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\nkind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n- {apiVersion: v1, kind: Secret, metadata: {name: c}}\n";
        let objs = parse("f.yaml", text).unwrap();
        let names: Vec<_> = objs
            .iter()
            .map(|m| m.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn missing_kind_and_bad_yaml_are_errors() {
        let e = parse("f.yaml", "apiVersion: v1\nmetadata: {name: a}\n").unwrap_err();
        assert!(e.to_string().contains("Object 'Kind' is missing"), "{e}");
        let e = parse("f.yaml", "a: b\n c: d\n").unwrap_err();
        assert!(
            e.to_string().starts_with("error: error parsing f.yaml:"),
            "{e}"
        );
        assert!(
            e.to_string()
                .ends_with("yaml: line 2: mapping values are not allowed in this context"),
            "{e}"
        );
        // Line numbers count from the start of the failing document.
        let e = parse(
            "f.yaml",
            "kind: A\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n data: x\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("yaml: line 4: did not find expected key"),
            "{e}"
        );
    }

    #[test]
    fn directories_read_manifest_files_and_recurse_only_with_r() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/b.json"),
            r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"}}"#,
        )
        .unwrap();
        let d = dir.path().to_string_lossy().to_string();
        assert_eq!(read_all(std::slice::from_ref(&d), false).unwrap().len(), 1);
        assert_eq!(read_all(&[d], true).unwrap().len(), 2);
        let e = read_all(&["/nonexistent.yaml".into()], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: the path \"/nonexistent.yaml\" does not exist"
        );
    }
}
