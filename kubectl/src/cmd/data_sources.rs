//! The data of `create configmap` and `create secret generic`: `--from-file` (files, or every
//! regular file of a directory), `--from-literal` and `--from-env-file`, taken in upstream's
//! order with its key checks and its wording for each refusal.

use std::path::Path;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// Which object the data is for; the two word their errors differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Text values, `data` of a ConfigMap.
    ConfigMap,
    /// Base64 values, `data` of a Secret.
    Secret,
}

/// The three flags.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// `--from-file`: `PATH` or `KEY=PATH`.
    pub files: &'a [String],
    /// `--from-literal`: `KEY=VALUE`.
    pub literals: &'a [String],
    /// `--from-env-file`: `KEY=VALUE` lines.
    pub env_files: &'a [String],
}

/// The `data` map of the object `name`.
pub fn collect(sources: Sources, holder: Holder, name: &str) -> Result<Map<String, Value>> {
    let others = !sources.files.is_empty() || !sources.literals.is_empty();
    if !sources.env_files.is_empty() && others {
        return Err(KubectlError::usage(
            "from-env-file cannot be combined with from-file or from-literal",
        ));
    }
    let mut data = Data {
        holder,
        name,
        map: Map::new(),
    };
    for source in sources.files {
        data.add_file_source(source)?;
    }
    for source in sources.literals {
        let (key, value) = source
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| {
                KubectlError::usage(format!(
                    "invalid literal source {source}, expected key=value"
                ))
            })?;
        data.add(key, value.as_bytes())?;
    }
    for path in sources.env_files {
        let text = read(path)?;
        for (key, value) in env_file_pairs(&text)? {
            data.add(&key, value.as_bytes())?;
        }
    }
    Ok(data.map)
}

/// The map being filled.
struct Data<'a> {
    holder: Holder,
    name: &'a str,
    map: Map<String, Value>,
}

impl Data<'_> {
    /// `PATH` (a file, or each regular file of a directory, named after itself) or
    /// `KEY=PATH`.
    fn add_file_source(&mut self, source: &str) -> Result<()> {
        if let Some((key, path)) = source.split_once('=') {
            let bytes = read(path)?;
            return self.add(key, &bytes);
        }
        let path = Path::new(source);
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| KubectlError::usage(format!("error listing files in {source}: {e}")))?
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let key = entry.file_name().to_string_lossy().into_owned();
                let bytes = read(&entry.path().to_string_lossy())?;
                self.add(&key, &bytes)?;
            }
            return Ok(());
        }
        let key = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = read(source)?;
        self.add(&key, &bytes)
    }

    fn add(&mut self, key: &str, value: &[u8]) -> Result<()> {
        let problems = config_key_problems(key);
        if !problems.is_empty() {
            return Err(KubectlError::usage(match self.holder {
                Holder::ConfigMap => format!(
                    "{} is not a valid key name for a ConfigMap: {}",
                    quote(key),
                    problems.join(";")
                ),
                Holder::Secret => format!(
                    "{} is not valid key name for a Secret {}",
                    quote(key),
                    problems.join(";")
                ),
            }));
        }
        if self.map.contains_key(key) {
            return Err(KubectlError::usage(match self.holder {
                Holder::ConfigMap => format!(
                    "cannot add key {}, another key by that name already exists in Data for ConfigMap {}",
                    quote(key),
                    quote(self.name)
                ),
                Holder::Secret => {
                    format!("cannot add key {key}, another key by that name already exists")
                }
            }));
        }
        let value = match self.holder {
            Holder::ConfigMap => json!(String::from_utf8_lossy(value)),
            Holder::Secret => json!(base64::engine::general_purpose::STANDARD.encode(value)),
        };
        self.map.insert(key.to_string(), value);
        Ok(())
    }
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        KubectlError::usage(format!(
            "error reading {path}: {}",
            crate::go_io::errno_text(&e)
        ))
    })
}

fn quote(s: &str) -> String {
    crate::printers::go_template::go_quote(s)
}

/// The `KEY=VALUE` pairs of an env file: blank lines and `#` comments skipped, leading
/// space trimmed, a UTF-8 BOM dropped from the first line, and a bare `KEY` taking its value
/// from this process's environment.
fn env_file_pairs(text: &[u8]) -> Result<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(text);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut pairs = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (line.to_string(), std::env::var(line).unwrap_or_default()),
        };
        let problems = env_var_name_problems(&key);
        if !problems.is_empty() {
            return Err(KubectlError::usage(format!(
                "{} is not a valid key name: {}",
                quote(&key),
                problems.join(";")
            )));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// What the API's ConfigMap/Secret key check finds wrong with `key`.
fn config_key_problems(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > 253 {
        problems.push("must be no more than 253 characters".to_string());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if key.is_empty() || !key.chars().all(allowed) {
        problems.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    problems.extend(dot_problems(key));
    problems
}

/// What the API's environment variable name check finds wrong with `name`.
fn env_var_name_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| allowed(c) && !c.is_ascii_digit());
    if !first_ok || !name.chars().all(allowed) {
        problems.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".to_string());
    }
    problems.extend(dot_problems(name));
    problems
}

/// Keys become file names in volumes, so `.`, `..` and `..x` are refused.
fn dot_problems(key: &str) -> Option<String> {
    match key {
        "." => Some("must not be '.'".to_string()),
        ".." => Some("must not be '..'".to_string()),
        k if k.starts_with("..") => Some("must not start with '..'".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn env_files_skip_comments_trim_and_read_the_environment() {
        std::env::set_var("RUDDER_ENV_FILE_TEST", "from-env");
        let pairs =
            env_file_pairs("\u{feff}# c\n\nA=1\n  B=two\nRUDDER_ENV_FILE_TEST\nD=x=y\n".as_bytes())
                .unwrap();
        assert_eq!(
            pairs,
            [
                ("A".to_string(), "1".to_string()),
                ("B".into(), "two".into()),
                ("RUDDER_ENV_FILE_TEST".into(), "from-env".into()),
                ("D".into(), "x=y".into()),
            ]
        );
        let err = env_file_pairs(b"1BAD=x\n").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "error: \"1BAD\" is not a valid key name: a valid environment variable name"
            ),
            "{err}"
        );
    }

    #[test]
    fn keys_are_checked_and_duplicates_refused_in_each_holders_words() {
        let literals = strings(&["a=1", "a=2"]);
        let sources = Sources {
            files: &[],
            literals: &literals,
            env_files: &[],
        };
        assert_eq!(
            collect(sources, Holder::ConfigMap, "x").unwrap_err().to_string(),
            "error: cannot add key \"a\", another key by that name already exists in Data for ConfigMap \"x\""
        );
        assert_eq!(
            collect(sources, Holder::Secret, "x")
                .unwrap_err()
                .to_string(),
            "error: cannot add key a, another key by that name already exists"
        );
        let bad = strings(&["..=1"]);
        let sources = Sources {
            literals: &bad,
            ..sources
        };
        assert_eq!(
            collect(sources, Holder::ConfigMap, "x")
                .unwrap_err()
                .to_string(),
            "error: \"..\" is not a valid key name for a ConfigMap: must not be '..'"
        );
        let empty_key = strings(&["=1"]);
        let sources = Sources {
            literals: &empty_key,
            ..sources
        };
        assert_eq!(
            collect(sources, Holder::Secret, "x")
                .unwrap_err()
                .to_string(),
            "error: invalid literal source =1, expected key=value"
        );
    }

    #[test]
    fn env_files_do_not_mix_with_other_sources() {
        let literals = strings(&["a=1"]);
        let env = strings(&["/nonexistent"]);
        let sources = Sources {
            files: &[],
            literals: &literals,
            env_files: &env,
        };
        assert_eq!(
            collect(sources, Holder::Secret, "x")
                .unwrap_err()
                .to_string(),
            "error: from-env-file cannot be combined with from-file or from-literal"
        );
    }
}
