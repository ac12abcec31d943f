//! kubeconfig loading with upstream's precedence rules.
//!
//! Files come from `--kubeconfig` (exactly one file), else `$KUBECONFIG` (a `:`-separated list,
//! merged), else `~/.kube/config`. Merging follows client-go: the first file that defines a
//! cluster/context/user name wins, and the first non-empty `current-context` wins. Entries are
//! kept as raw JSON values. (`kubectl config` reads and writes the files with its own model,
//! in `cmd/config`.)

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// The three named sections of a kubeconfig and the key of each entry's payload.
pub const SECTIONS: [(&str, &str); 3] = [
    ("clusters", "cluster"),
    ("contexts", "context"),
    ("users", "user"),
];

/// One merged view of all kubeconfig files.
#[derive(Debug, Clone, Default)]
pub struct KubeConfig {
    /// The files that were read, in precedence order (missing files of `$KUBECONFIG` skipped).
    pub files: Vec<PathBuf>,
    /// The file new entries and `current-context` are written to.
    pub destination: Option<PathBuf>,
    /// Merged document (`clusters`, `contexts`, `users` as lists sorted by name).
    pub doc: Value,
}

/// Where the kubeconfig comes from, before reading.
pub fn config_paths(explicit: Option<&str>) -> Result<(Vec<PathBuf>, bool)> {
    if let Some(p) = explicit {
        return Ok((vec![PathBuf::from(p)], true));
    }
    if let Ok(list) = std::env::var("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return Ok((paths, false));
        }
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok((vec![home.join(".kube").join("config")], false))
}

impl KubeConfig {
    /// Reads and merges the kubeconfig files. An explicit `--kubeconfig` that does not exist is
    /// an error (as upstream); missing files in `$KUBECONFIG` or `~/.kube/config` are skipped.
    pub fn load(explicit: Option<&str>) -> Result<Self> {
        let (paths, must_exist) = config_paths(explicit)?;
        let mut docs = Vec::new();
        for path in &paths {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    let mut doc = parse_document(&text).map_err(|e| {
                        KubectlError::usage(format!(
                            "error loading config file \"{}\": {e}",
                            path.display()
                        ))
                    })?;
                    absolutize_paths(&mut doc, path.parent().unwrap_or(Path::new(".")));
                    docs.push((path.clone(), doc));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {}
                Err(e) => {
                    return Err(KubectlError::usage(format!(
                        "stat {}: {}",
                        path.display(),
                        crate::go_io::errno_text(&e)
                    )))
                }
            }
        }
        let mut cfg = merge(docs);
        // client-go's default destination: the only file, else the first existing one of
        // the list, else the last one.
        cfg.destination = if paths.len() == 1 {
            paths.first().cloned()
        } else {
            paths.iter().find(|p| p.exists()).or(paths.last()).cloned()
        };
        Ok(cfg)
    }

    /// The `current-context` value (empty when unset).
    pub fn current_context(&self) -> &str {
        self.doc["current-context"].as_str().unwrap_or("")
    }

    /// The payload of a named entry: `find("contexts", "rudder")` → the `context` object.
    pub fn find(&self, section: &str, name: &str) -> Option<&Value> {
        let key = payload_key(section);
        self.doc[section]
            .as_array()?
            .iter()
            .find(|e| e["name"].as_str() == Some(name))
            .map(|e| &e[key])
    }
}

fn payload_key(section: &str) -> &'static str {
    SECTIONS
        .iter()
        .find(|(s, _)| *s == section)
        .map(|(_, k)| *k)
        .unwrap_or("")
}

/// Parses one kubeconfig file (YAML or JSON). An empty file is an empty config.
pub fn parse_document(text: &str) -> std::result::Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    let v: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    match v {
        Value::Object(_) => Ok(v),
        Value::Null => Ok(json!({})),
        _ => Err("kubeconfig is not a mapping".to_string()),
    }
}

/// Relative file references in a kubeconfig are relative to that file's directory.
fn absolutize_paths(doc: &mut Value, dir: &Path) {
    let fields: [(&str, &str, &[&str]); 2] = [
        ("clusters", "cluster", &["certificate-authority"]),
        (
            "users",
            "user",
            &["client-certificate", "client-key", "tokenFile"],
        ),
    ];
    for (section, key, names) in fields {
        let Some(entries) = doc.get_mut(section).and_then(Value::as_array_mut) else {
            continue;
        };
        for entry in entries {
            for name in names {
                if let Some(Value::String(p)) = entry.get_mut(key).and_then(|e| e.get_mut(*name)) {
                    if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                        *p = dir.join(p.as_str()).to_string_lossy().into_owned();
                    }
                }
            }
        }
    }
}

/// Merges documents in precedence order (client-go's rules: first definition wins).
pub fn merge(docs: Vec<(PathBuf, Value)>) -> KubeConfig {
    let mut out = KubeConfig::default();
    let mut merged = Map::new();
    let mut current = String::new();
    let mut preferences = json!({});
    for (path, doc) in &docs {
        out.files.push(path.clone());
        if current.is_empty() {
            if let Some(c) = doc["current-context"].as_str() {
                current = c.to_string();
            }
        }
        if let Some(p) = doc.get("preferences").filter(|p| p.is_object()) {
            if preferences.as_object().is_some_and(|m| m.is_empty()) {
                preferences = p.clone();
            }
        }
        for (section, _) in SECTIONS {
            let Some(entries) = doc[section].as_array() else {
                continue;
            };
            let list = merged
                .entry(section.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            for entry in entries {
                let Some(name) = entry["name"].as_str() else {
                    continue;
                };
                let Some(items) = list.as_array_mut() else {
                    continue;
                };
                if items.iter().any(|e| e["name"].as_str() == Some(name)) {
                    continue;
                }
                items.push(entry.clone());
            }
        }
    }
    for (section, _) in SECTIONS {
        let list = merged
            .entry(section.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(items) = list.as_array_mut() {
            items.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
    }
    merged.insert("apiVersion".into(), json!("v1"));
    merged.insert("kind".into(), json!("Config"));
    merged.insert("current-context".into(), json!(current));
    merged.insert("preferences".into(), preferences);
    out.doc = Value::Object(merged);
    out
}

/// Overrides from the command line that pick or replace parts of the kubeconfig.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--context`
    pub context: Option<String>,
    /// `--cluster`
    pub cluster: Option<String>,
    /// `--user`
    pub user: Option<String>,
    /// `-n/--namespace`
    pub namespace: Option<String>,
    /// `-s/--server`
    pub server: Option<String>,
    /// `--token`
    pub token: Option<String>,
    /// `--insecure-skip-tls-verify`
    pub insecure: bool,
    /// `--certificate-authority`
    pub certificate_authority: Option<String>,
    /// `--as`
    pub impersonate: Option<String>,
    /// `--as-group` (each one given)
    pub impersonate_groups: Vec<String>,
    /// `--as-uid`
    pub impersonate_uid: Option<String>,
    /// `--client-certificate`
    pub client_certificate: Option<String>,
    /// `--client-key`
    pub client_key: Option<String>,
    /// `--tls-server-name`
    pub tls_server_name: Option<String>,
    /// `--username`
    pub username: Option<String>,
    /// `--password`
    pub password: Option<String>,
    /// `--request-timeout`
    pub request_timeout: Option<String>,
}

/// The cluster, user and namespace a command talks to, resolved from config + overrides.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The cluster payload with overrides applied.
    pub cluster: Value,
    /// The user payload with overrides applied.
    pub user: Value,
    /// Namespace for namespaced requests.
    pub namespace: String,
    /// Whether `-n` chose the namespace (client-go's "overridden"; the context's is a default).
    pub namespace_explicit: bool,
}

impl KubeConfig {
    /// Applies client-go's override rules to find the cluster, user and namespace.
    pub fn resolve(&self, o: &Overrides) -> Result<Resolved> {
        let context_name = o
            .context
            .clone()
            .unwrap_or_else(|| self.current_context().to_string());
        let context = if context_name.is_empty() {
            json!({})
        } else {
            match self.find("contexts", &context_name) {
                Some(c) => c.clone(),
                None if o.context.is_some() => {
                    return Err(KubectlError::usage(format!(
                        "context was not found for specified context: {context_name}"
                    )))
                }
                None => json!({}),
            }
        };
        let cluster_name = o
            .cluster
            .clone()
            .or_else(|| context["cluster"].as_str().map(String::from))
            .unwrap_or_default();
        let user_name = o
            .user
            .clone()
            .or_else(|| context["user"].as_str().map(String::from))
            .unwrap_or_default();
        let mut cluster = self
            .find("clusters", &cluster_name)
            .cloned()
            .unwrap_or_else(|| json!({}));
        if o.cluster.is_some() && self.find("clusters", &cluster_name).is_none() {
            return Err(KubectlError::usage(format!(
                "cluster \"{cluster_name}\" does not exist"
            )));
        }
        let mut user = self
            .find("users", &user_name)
            .cloned()
            .unwrap_or_else(|| json!({}));
        if o.user.is_some() && self.find("users", &user_name).is_none() {
            return Err(KubectlError::usage(format!(
                "auth info \"{user_name}\" does not exist"
            )));
        }
        if let Some(s) = &o.server {
            cluster["server"] = json!(s);
        }
        if o.insecure {
            cluster["insecure-skip-tls-verify"] = json!(true);
            if let Some(m) = cluster.as_object_mut() {
                m.remove("certificate-authority-data");
                m.remove("certificate-authority");
            }
        }
        if let Some(ca) = &o.certificate_authority {
            cluster["certificate-authority"] = json!(ca);
        }
        if let Some(t) = &o.token {
            user = json!({ "token": t });
        }
        if let Some(name) = &o.tls_server_name {
            cluster["tls-server-name"] = json!(name);
        }
        apply_user_overrides(&mut user, o);
        if let Err(why) = check_impersonation(&user, &user_name) {
            // client-go finds this while confirming the config usable, which it skips when
            // the namespace was given; then it surfaces as an invalid configuration.
            return Err(match o.namespace {
                Some(_) => KubectlError::Configuration(why),
                None => KubectlError::Usage(why),
            });
        }
        if let Some(timeout) = &o.request_timeout {
            request_timeout(timeout)?;
        }
        let (namespace, namespace_explicit) = match (&o.namespace, context["namespace"].as_str()) {
            (Some(n), _) => (n.clone(), true),
            // client-go counts only the flag as an override: the context's namespace is a
            // default, so a file naming another namespace goes there instead of being refused.
            (None, Some(n)) if !n.is_empty() => (n.to_string(), false),
            _ => ("default".to_string(), false),
        };
        Ok(Resolved {
            cluster,
            user,
            namespace,
            namespace_explicit,
        })
    }
}

/// The credential and impersonation flags, over the user entry's own settings (a file path
/// given on the command line wins over data embedded in the entry).
fn apply_user_overrides(user: &mut Value, o: &Overrides) {
    let Some(entry) = user.as_object_mut() else {
        return;
    };
    for (flag, key, embedded) in [
        (
            &o.client_certificate,
            "client-certificate",
            "client-certificate-data",
        ),
        (&o.client_key, "client-key", "client-key-data"),
    ] {
        if let Some(path) = flag {
            entry.insert(key.into(), json!(path));
            entry.remove(embedded);
        }
    }
    for (flag, key) in [
        (&o.username, "username"),
        (&o.password, "password"),
        (&o.impersonate, "as"),
        (&o.impersonate_uid, "as-uid"),
    ] {
        if let Some(v) = flag {
            entry.insert(key.into(), json!(v));
        }
    }
    if !o.impersonate_groups.is_empty() {
        entry.insert("as-groups".into(), json!(o.impersonate_groups));
    }
}

/// `--request-timeout` as client-go reads it: whole seconds, or a Go duration.
pub fn request_timeout(text: &str) -> Result<std::time::Duration> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    match common::duration::parse(text) {
        Ok(d) => Ok(d),
        Err(_) => Err(KubectlError::usage(
            "Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)",
        )),
    }
}

/// client-go refuses to impersonate a uid, groups or extras without a user to impersonate.
fn check_impersonation(user: &Value, user_name: &str) -> std::result::Result<(), String> {
    let set = |key: &str| match &user[key] {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    };
    if !set("as") && (set("as-uid") || set("as-groups") || set("as-user-extra")) {
        return Err(format!(
            "requesting uid, groups or user-extra for {user_name} without impersonating a user"
        ));
    }
    Ok(())
}

impl Resolved {
    /// The API server URL, defaulting like upstream when no cluster is configured.
    pub fn server(&self) -> String {
        self.cluster["server"]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or("http://localhost:8080")
            .to_string()
    }

    /// A one-context kubeconfig for kube-client's own TLS/auth setup.
    pub fn to_kube(&self) -> Result<kube::config::Kubeconfig> {
        let mut cluster = self.cluster.clone();
        cluster["server"] = json!(self.server());
        let doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": "c", "cluster": cluster }],
            "users": [{ "name": "u", "user": self.user }],
            "contexts": [{ "name": "x", "context": {
                "cluster": "c", "user": "u", "namespace": self.namespace } }],
            "current-context": "x",
        });
        serde_json::from_value(doc)
            .map_err(|e| KubectlError::usage(format!("invalid configuration: {e}")))
    }
}

/// Replaces secret material for `config view` without `--raw`, as upstream does.
pub fn redact(doc: &mut Value) {
    for (section, key) in SECTIONS {
        let Some(entries) = doc.get_mut(section).and_then(Value::as_array_mut) else {
            continue;
        };
        for entry in entries {
            let Some(payload) = entry.get_mut(key).and_then(Value::as_object_mut) else {
                continue;
            };
            for (field, v) in payload.iter_mut() {
                if field.ends_with("-data") && v.as_str().is_some_and(|s| !s.is_empty()) {
                    *v = json!("DATA+OMITTED");
                } else if (field == "token" || field == "password")
                    && v.as_str().is_some_and(|s| !s.is_empty())
                {
                    *v = json!("REDACTED");
                }
            }
        }
    }
}

/// Keeps only what the current (or given) context needs, for `config view --minify`.
pub fn minify(doc: &mut Value, context: &str) -> Result<()> {
    if context.is_empty() {
        return Err(KubectlError::usage(
            "current-context must exist in order to minify",
        ));
    }
    let ctx = doc["contexts"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["name"] == context))
        .cloned()
        .ok_or_else(|| KubectlError::usage(format!("cannot locate context {context}")))?;
    let cluster = ctx["context"]["cluster"].as_str().unwrap_or("").to_string();
    let user = ctx["context"]["user"].as_str().unwrap_or("").to_string();
    for (section, keep) in [
        ("contexts", context),
        ("clusters", &cluster),
        ("users", &user),
    ] {
        if let Some(l) = doc.get_mut(section).and_then(Value::as_array_mut) {
            l.retain(|e| e["name"] == keep);
        }
    }
    doc["current-context"] = json!(context);
    Ok(())
}

/// Inlines referenced files as `*-data`, for `config view --flatten`.
pub fn flatten(doc: &mut Value) -> Result<()> {
    use base64::Engine;
    let fields = [
        ("clusters", "cluster", "certificate-authority"),
        ("users", "user", "client-certificate"),
        ("users", "user", "client-key"),
    ];
    for (section, key, field) in fields {
        let Some(entries) = doc.get_mut(section).and_then(Value::as_array_mut) else {
            continue;
        };
        for entry in entries {
            let Some(payload) = entry.get_mut(key).and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(Value::String(path)) = payload.remove(field) {
                let bytes = std::fs::read(&path)
                    .map_err(|e| KubectlError::usage(format!("open {path}: {e}")))?;
                payload.insert(
                    format!("{field}-data"),
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(y: &str) -> Value {
        parse_document(y).unwrap()
    }

    #[test]
    fn first_definition_and_first_current_context_win() {
        let a = doc("current-context: a\nclusters:\n- name: c1\n  cluster: {server: https://a}\n");
        let b = doc("current-context: b\nclusters:\n- name: c1\n  cluster: {server: https://b}\n- name: c0\n  cluster: {server: https://c0}\n");
        let cfg = merge(vec![("/a".into(), a), ("/b".into(), b)]);
        assert_eq!(cfg.current_context(), "a");
        assert_eq!(cfg.find("clusters", "c1").unwrap()["server"], "https://a");
        // Sorted by name, as config view prints them.
        let names: Vec<_> = cfg.doc["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c0", "c1"]);
    }

    #[test]
    fn resolve_applies_overrides_and_context_namespace() {
        let d = doc("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: team}\n- name: y\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://c, certificate-authority-data: QQ==}\nusers:\n- name: u\n  user: {token: t}\n");
        let cfg = merge(vec![("/a".into(), d)]);
        let r = cfg.resolve(&Overrides::default()).unwrap();
        assert_eq!(
            (r.namespace.as_str(), r.namespace_explicit),
            ("team", false)
        );
        let r = cfg
            .resolve(&Overrides {
                context: Some("y".into()),
                insecure: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.namespace, "default");
        assert_eq!(r.cluster["insecure-skip-tls-verify"], true);
        assert!(r.cluster.get("certificate-authority-data").is_none());
        let err = cfg
            .resolve(&Overrides {
                context: Some("nope".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: context was not found for specified context: nope"
        );
    }

    #[test]
    fn credential_and_impersonation_flags_override_the_user() {
        let d = doc("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: admin}\nclusters:\n- name: c\n  cluster: {server: https://c}\nusers:\n- name: admin\n  user: {client-certificate-data: QQ==, client-key-data: QQ==}\n");
        let cfg = merge(vec![("/a".into(), d)]);
        let r = cfg
            .resolve(&Overrides {
                impersonate: Some("system:serviceaccount:ns:sa".into()),
                impersonate_groups: vec!["devs".into(), "ops".into()],
                client_certificate: Some("/c.crt".into()),
                tls_server_name: Some("kubernetes".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.user["as"], "system:serviceaccount:ns:sa");
        assert_eq!(r.user["as-groups"], json!(["devs", "ops"]));
        assert_eq!(r.user["client-certificate"], "/c.crt");
        assert!(r.user.get("client-certificate-data").is_none());
        assert_eq!(
            r.user["client-key-data"], "QQ==",
            "the key was not overridden"
        );
        assert_eq!(r.cluster["tls-server-name"], "kubernetes");
        let kube = r.to_kube().unwrap();
        assert_eq!(
            kube.auth_infos[0]
                .auth_info
                .as_ref()
                .unwrap()
                .impersonate_groups,
            Some(vec!["devs".to_string(), "ops".to_string()])
        );
        let err = cfg
            .resolve(&Overrides {
                impersonate_groups: vec!["devs".into()],
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: requesting uid, groups or user-extra for admin without impersonating a user"
        );
        let err = cfg
            .resolve(&Overrides {
                impersonate_groups: vec!["devs".into()],
                namespace: Some("ns".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Error in configuration: requesting uid, groups or user-extra for admin without impersonating a user"
        );
        assert_eq!(request_timeout("30").unwrap().as_secs(), 30);
        assert_eq!(request_timeout("1m").unwrap().as_secs(), 60);
        assert!(cfg
            .resolve(&Overrides {
                request_timeout: Some("soon".into()),
                ..Default::default()
            })
            .unwrap_err()
            .to_string()
            .starts_with("error: Invalid timeout value."));
    }

    #[test]
    fn redact_hides_secrets_only() {
        let mut d = doc("users:\n- name: u\n  user: {token: t, client-key-data: QQ==, username: bob}\nclusters:\n- name: c\n  cluster: {server: s, certificate-authority-data: QQ==}\n");
        redact(&mut d);
        assert_eq!(d["users"][0]["user"]["token"], "REDACTED");
        assert_eq!(d["users"][0]["user"]["client-key-data"], "DATA+OMITTED");
        assert_eq!(d["users"][0]["user"]["username"], "bob");
        assert_eq!(
            d["clusters"][0]["cluster"]["certificate-authority-data"],
            "DATA+OMITTED"
        );
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let mut d = doc("clusters:\n- name: c\n  cluster: {certificate-authority: ca.crt}\n");
        absolutize_paths(&mut d, Path::new("/etc/kube"));
        assert_eq!(
            d["clusters"][0]["cluster"]["certificate-authority"],
            "/etc/kube/ca.crt"
        );
    }
}
