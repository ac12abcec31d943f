//! The kubeconfig as `kubectl config` holds it: client-go's `api.Config`, with named entries in
//! maps and each entry remembering the file it came from (`LocationOfOrigin`), which is where
//! an edit of that entry is written back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::canonical;

/// The three named sections, in the order client-go's `ModifyConfig` visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Clusters,
    Contexts,
    Users,
}

impl Section {
    /// Every section, in `ModifyConfig`'s order.
    pub const ALL: [Section; 3] = [Section::Clusters, Section::Contexts, Section::Users];

    /// The list's key in a kubeconfig file.
    pub fn key(self) -> &'static str {
        match self {
            Section::Clusters => "clusters",
            Section::Contexts => "contexts",
            Section::Users => "users",
        }
    }

    /// The key of an entry's payload (`- name: x` / `  cluster: {…}`).
    pub fn payload_key(self) -> &'static str {
        match self {
            Section::Clusters => "cluster",
            Section::Contexts => "context",
            Section::Users => "user",
        }
    }

    /// Go's names of the v1 list item and the internal map value, as conversion errors say.
    fn go_types(self) -> (&'static str, &'static str) {
        match self {
            Section::Clusters => ("NamedCluster", "api.Cluster"),
            Section::Contexts => ("NamedContext", "api.Context"),
            Section::Users => ("NamedAuthInfo", "api.AuthInfo"),
        }
    }
}

/// One cluster, context or user.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The payload in canonical v1 form (see `canonical`).
    pub payload: Map<String, Value>,
    /// The file that defined it; empty for a new entry (it then goes to the default file).
    pub origin: PathBuf,
    /// Set by an edit that Go counts as a change although the payload reads the same: a map
    /// field that was nil became an empty map, which no file can show.
    pub touched: bool,
}

impl Entry {
    /// A new entry with nothing set, as `api.NewCluster()` and friends make it.
    pub fn empty(section: Section) -> Self {
        Entry {
            payload: canonical::payload(section, &Value::Null),
            ..Entry::default()
        }
    }

    /// Whether writing this entry where `before` was would change anything: Go's
    /// `reflect.DeepEqual` on the struct, `LocationOfOrigin` included.
    pub fn differs_from(&self, before: Option<&Entry>) -> bool {
        match before {
            None => true,
            Some(b) => self.touched || self.payload != b.payload || self.origin != b.origin,
        }
    }
}

/// The whole configuration: one file's, or the merge of all files.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `preferences`, canonical.
    pub preferences: Map<String, Value>,
    /// Like `Entry::touched`, for `preferences`.
    pub preferences_touched: bool,
    clusters: BTreeMap<String, Entry>,
    contexts: BTreeMap<String, Entry>,
    users: BTreeMap<String, Entry>,
    /// `current-context` (empty when unset).
    pub current_context: String,
    /// Top-level `extensions`, kept as read (client-go never writes a change of them).
    pub extensions: Vec<Value>,
}

impl Config {
    /// The entries of one section, by name.
    pub fn entries(&self, section: Section) -> &BTreeMap<String, Entry> {
        match section {
            Section::Clusters => &self.clusters,
            Section::Contexts => &self.contexts,
            Section::Users => &self.users,
        }
    }

    /// The entries of one section, to edit.
    pub fn entries_mut(&mut self, section: Section) -> &mut BTreeMap<String, Entry> {
        match section {
            Section::Clusters => &mut self.clusters,
            Section::Contexts => &mut self.contexts,
            Section::Users => &mut self.users,
        }
    }

    /// One file's document read as client-go's `LoadFromFile` reads it: entries canonical and
    /// marked as coming from `origin`; a name used twice in one list is refused.
    pub fn from_document(doc: &Value, origin: &Path) -> std::result::Result<Self, String> {
        let mut cfg = Config {
            preferences: canonical::preferences(&doc["preferences"]),
            current_context: doc["current-context"].as_str().unwrap_or("").to_string(),
            extensions: canonical::extensions(&doc["extensions"]),
            ..Config::default()
        };
        for section in Section::ALL {
            let Some(items) = doc[section.key()].as_array() else {
                continue;
            };
            for item in items {
                let name = item["name"].as_str().unwrap_or("").to_string();
                if cfg.entries(section).contains_key(&name) {
                    let (list, map) = section.go_types();
                    return Err(format!(
                        "error converting *[]{list} into *map[string]*{map}: duplicate name \"{name}\" in list"
                    ));
                }
                let entry = Entry {
                    payload: canonical::payload(section, &item[section.payload_key()]),
                    origin: origin.to_path_buf(),
                    touched: false,
                };
                cfg.entries_mut(section).insert(name, entry);
            }
        }
        Ok(cfg)
    }

    /// Merges files in precedence order as client-go's loader does: the first file that names
    /// an entry wins it whole, the first non-empty `current-context` wins, and a preference
    /// set anywhere is set.
    pub fn merge(files: impl IntoIterator<Item = Config>) -> Config {
        let mut merged = Config::default();
        let mut pref_extensions: Vec<Value> = Vec::new();
        for file in files {
            if merged.current_context.is_empty() {
                merged.current_context = file.current_context.clone();
            }
            if file.preferences.get("colors") == Some(&Value::Bool(true)) {
                merged
                    .preferences
                    .insert("colors".into(), Value::Bool(true));
            }
            if let Some(extensions) = file.preferences.get("extensions") {
                add_missing(&mut pref_extensions, &canonical::extensions(extensions));
            }
            add_missing(&mut merged.extensions, &file.extensions);
            for section in Section::ALL {
                for (name, entry) in file.entries(section) {
                    merged
                        .entries_mut(section)
                        .entry(name.clone())
                        .or_insert_with(|| entry.clone());
                }
            }
        }
        if !pref_extensions.is_empty() {
            merged
                .preferences
                .insert("extensions".into(), Value::Array(pref_extensions));
        }
        merged
    }

    /// The v1 document client-go's `WriteToFile` writes: lists sorted by name, an empty
    /// section as `null`.
    pub fn to_document(&self) -> Value {
        let mut doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": self.preferences,
            "current-context": self.current_context,
        });
        for section in Section::ALL {
            let items: Vec<Value> = self
                .entries(section)
                .iter()
                .map(|(name, e)| json!({ "name": name, section.payload_key(): e.payload }))
                .collect();
            doc[section.key()] = if items.is_empty() {
                Value::Null
            } else {
                Value::Array(items)
            };
        }
        if !self.extensions.is_empty() {
            doc["extensions"] = Value::Array(self.extensions.clone());
        }
        doc
    }
}

/// Appends the named extensions of `more` whose names `list` does not have yet.
fn add_missing(list: &mut Vec<Value>, more: &[Value]) {
    for e in more {
        if !list.iter().any(|have| have["name"] == e["name"]) {
            list.push(e.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(yaml: &str, origin: &str) -> Config {
        let doc: Value = serde_yaml::from_str(yaml).unwrap();
        Config::from_document(&doc, Path::new(origin)).unwrap()
    }

    #[test]
    fn first_file_wins_each_entry_and_the_current_context() {
        let a = file(
            "clusters:\n- name: c\n  cluster: {server: https://a}\n",
            "/a",
        );
        let b = file(
            "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://b}\n- name: d\n",
            "/b",
        );
        let m = Config::merge([a, b]);
        let c = &m.entries(Section::Clusters)["c"];
        assert_eq!(
            (c.payload["server"].as_str(), c.origin.as_path()),
            (Some("https://a"), Path::new("/a"))
        );
        assert_eq!(m.entries(Section::Clusters)["d"].origin, Path::new("/b"));
        assert_eq!(m.current_context, "x");
    }

    #[test]
    fn documents_are_written_sorted_with_empty_sections_null() {
        let cfg = file(
            "foo: bar\ncontexts:\n- name: z\n  context: {cluster: c}\n- name: a\n",
            "/a",
        );
        let doc = cfg.to_document();
        assert_eq!(
            doc["contexts"][0],
            json!({"name": "a", "context": {"cluster": "", "user": ""}})
        );
        assert_eq!(doc["contexts"][1]["name"], "z");
        assert_eq!(doc["clusters"], Value::Null);
        assert_eq!(doc["preferences"], json!({}));
        assert!(doc.get("foo").is_none());
    }

    #[test]
    fn a_name_used_twice_is_refused() {
        let doc: Value = serde_yaml::from_str("users:\n- name: u\n- name: u\n").unwrap();
        let err = Config::from_document(&doc, Path::new("/a")).unwrap_err();
        assert!(err.contains("duplicate name \"u\""), "{err}");
    }

    #[test]
    fn an_entry_differs_by_payload_origin_or_an_invisible_touch() {
        let a = Entry::empty(Section::Clusters);
        assert!(a.differs_from(None));
        assert!(!a.differs_from(Some(&a.clone())));
        let mut moved = a.clone();
        moved.origin = PathBuf::from("/elsewhere");
        assert!(moved.differs_from(Some(&a)));
        let mut touched = a.clone();
        touched.touched = true;
        assert!(touched.differs_from(Some(&a)));
    }
}
