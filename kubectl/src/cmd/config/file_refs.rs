//! The file references inside entries (`certificate-authority`, `client-certificate`,
//! `client-key`, `tokenFile`, an exec plugin's command path) and the lexical path rules client-go
//! applies to them: flags are made absolute against the working directory, and an entry written
//! back is made relative to its file's directory unless that would need `../`.

use std::path::Path;

use serde_json::{Map, Value};

use super::model::Section;

/// Go's `filepath.Clean`: the shortest lexically equal path (`.` for nothing).
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Abs`: relative paths (the empty one too) join the working directory.
pub fn abs(path: &str) -> String {
    if path.starts_with('/') {
        return clean(path);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    clean(&format!("{cwd}/{path}"))
}

/// Go's `filepath.Dir`.
pub fn dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => clean(&path[..=i]),
        None => ".".to_string(),
    }
}

/// Go's `filepath.Rel` for two absolute paths.
fn rel(base: &str, target: &str) -> String {
    let (base, target) = (clean(base), clean(target));
    if base == target {
        return ".".to_string();
    }
    let b: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    let t: Vec<&str> = target.split('/').filter(|p| !p.is_empty()).collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out: Vec<&str> = vec![".."; b.len() - common];
    out.extend(&t[common..]);
    out.join("/")
}

/// The keys of `payload` that name files, as client-go's `Get*FileReferences` lists them.
/// An exec command counts only when it is a path, not a name looked up in `$PATH`.
fn references(section: Section, payload: &mut Map<String, Value>) -> Vec<&mut String> {
    let keys: &[&str] = match section {
        Section::Clusters => &["certificate-authority"],
        Section::Users => &["client-certificate", "client-key", "tokenFile"],
        Section::Contexts => &[],
    };
    let mut refs = Vec::new();
    let mut exec = None;
    for (key, value) in payload.iter_mut() {
        match value {
            Value::String(s) if keys.contains(&key.as_str()) => refs.push(s),
            Value::Object(e) if section == Section::Users && key == "exec" => exec = Some(e),
            _ => {}
        }
    }
    if let Some(Value::String(command)) = exec.and_then(|e| e.get_mut("command")) {
        if command.contains('/') {
            refs.push(command);
        }
    }
    refs
}

/// Relative references become absolute against `base_dir` (client-go's `ResolvePaths`).
fn resolve(section: Section, payload: &mut Map<String, Value>, base_dir: &str) {
    for r in references(section, payload) {
        if !r.is_empty() && !r.starts_with('/') {
            *r = clean(&format!("{base_dir}/{r}"));
        }
    }
}

/// What client-go does to an entry it writes to `file` with relative paths wanted: every
/// reference is resolved against the file's directory, then made relative to it unless that
/// takes a step up (`../`), in which case it stays absolute.
pub fn relativize(section: Section, payload: &mut Map<String, Value>, file: &Path) {
    let base = abs(&dir(&file.to_string_lossy()));
    resolve(section, payload, &base);
    for r in references(section, payload) {
        if r.is_empty() {
            continue;
        }
        let relative = rel(&base, r);
        if !relative.starts_with("../") {
            *r = relative;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_and_rel_follow_go() {
        assert_eq!(clean(""), ".");
        assert_eq!(clean("a/./b/../c/"), "a/c");
        assert_eq!(clean("/../x//y"), "/x/y");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(rel("/a/b", "/a/b"), ".");
        assert_eq!(rel("/a/b", "/a/b/c/d"), "c/d");
        assert_eq!(rel("/a/b", "/a/x"), "../x");
        assert_eq!(rel("/", "/etc/ca"), "etc/ca");
        assert_eq!(dir("/tmp/x/config"), "/tmp/x");
        assert_eq!(dir("config"), ".");
    }

    #[test]
    fn written_entries_are_relative_to_their_file_without_backsteps() {
        let mut user = json!({
            "client-certificate": "/etc/k/bob.crt",
            "client-key": "keys/bob.key",
            "tokenFile": "/etc/token",
            "exec": {"command": "/etc/k/bin/plugin"},
            "username": "/etc/k/not-a-path",
        });
        let m = user.as_object_mut().unwrap();
        relativize(Section::Users, m, Path::new("/etc/k/config"));
        assert_eq!(
            user,
            json!({
                "client-certificate": "bob.crt",
                "client-key": "keys/bob.key",
                "tokenFile": "/etc/token",
                "exec": {"command": "bin/plugin"},
                "username": "/etc/k/not-a-path",
            })
        );
    }

    #[test]
    fn a_command_from_path_is_not_a_reference() {
        let mut user = json!({"exec": {"command": "gke-auth"}});
        relativize(
            Section::Users,
            user.as_object_mut().unwrap(),
            Path::new("/k/config"),
        );
        assert_eq!(user["exec"]["command"], "gke-auth");
        let mut cluster = json!({"certificate-authority": "ca.crt"});
        resolve(Section::Clusters, cluster.as_object_mut().unwrap(), "/k");
        assert_eq!(cluster["certificate-authority"], "/k/ca.crt");
    }
}
