//! `kubectl config set PROPERTY_NAME PROPERTY_VALUE` and `kubectl config unset PROPERTY_NAME`:
//! one field, named by a dotted path (see `property_path`), set or cleared in the merged
//! configuration and written back to the file it belongs to.

use clap::Args;
use serde_json::{Map, Value};

use crate::cmd::out;
use crate::error::{KubectlError, Result};

use super::access::ConfigAccess;
use super::canonical;
use super::go_fmt;
use super::help::Page;
use super::model::{Config, Entry, Section};
use super::modify::modify_config;
use super::property_path::{self, field, Kind, PathError, Step};

/// `kubectl config set`
#[derive(Debug, Args)]
pub struct SetArgs {
    args: Vec<String>,
    /// When writing a []byte PROPERTY_VALUE, write the given string directly without base64 decoding.
    #[arg(long)]
    set_raw_bytes: bool,
}

/// `kubectl config unset`
#[derive(Debug, Args)]
pub struct UnsetArgs {
    args: Vec<String>,
}

/// What to do at the end of the path.
#[derive(Debug, Clone, Copy)]
pub enum Edit<'a> {
    Set { value: &'a str, raw_bytes: bool },
    Unset,
}

/// Runs `config set`.
pub fn run_set(access: &ConfigAccess, args: SetArgs) -> Result<()> {
    let [name, value] = args.args.as_slice() else {
        return Err(Page::Set.unexpected_args(&args.args));
    };
    if value.is_empty() {
        return Err(KubectlError::usage(
            "you cannot use set to unset a property",
        ));
    }
    let edit = Edit::Set {
        value,
        raw_bytes: args.set_raw_bytes,
    };
    edit_property(access, name, edit)?;
    out(&format!("Property {} set.\n", go_fmt::quote(name)));
    Ok(())
}

/// Runs `config unset`.
pub fn run_unset(access: &ConfigAccess, args: UnsetArgs) -> Result<()> {
    let [name] = args.args.as_slice() else {
        return Err(Page::Unset.unexpected_args(&args.args));
    };
    edit_property(access, name, Edit::Unset)?;
    out(&format!("Property {} unset.\n", go_fmt::quote(name)));
    Ok(())
}

/// Applies `edit` at `name` and writes the result; paths are written as given (no making
/// them relative), as upstream's set and unset do.
fn edit_property(access: &ConfigAccess, name: &str, edit: Edit) -> Result<()> {
    if name.is_empty() {
        return Err(KubectlError::usage("you must specify a property"));
    }
    let start = access.starting_config()?;
    let steps = property_path::parse(name).map_err(reported)?;
    let mut edited = start.clone();
    apply(&mut edited, &steps, edit).map_err(reported)?;
    modify_config(access, &start, &edited, false)
}

fn reported(e: PathError) -> KubectlError {
    match e {
        PathError::Error(message) => KubectlError::usage(message),
        PathError::Panic(message) => go_fmt::panic(&message),
    }
}

/// Applies `edit` to the field `steps` lead to, as upstream's `modifyConfig` does.
pub fn apply(
    config: &mut Config,
    steps: &[Step],
    edit: Edit,
) -> std::result::Result<(), PathError> {
    let Some((first, rest)) = steps.split_first() else {
        return Ok(());
    };
    let unset = matches!(edit, Edit::Unset);
    if rest.is_empty() && unset {
        clear_top_level(config, &first.name);
        return Ok(());
    }
    match first.kind {
        Kind::Str => {
            // `kind` and `apiVersion` can be set, but client-go never writes them back.
            if let Edit::Set { value, .. } = edit {
                if first.name == "current-context" {
                    config.current_context = value.to_string();
                }
            }
            Ok(())
        }
        Kind::Preferences => apply_to_preferences(config, rest, edit),
        Kind::Entries(section) => apply_to_entries(config, section, rest, edit),
        Kind::Objects => Err(cannot_set_map(go_fmt::pointer_map(names(
            &config.extensions,
        )))),
        _ => Ok(()),
    }
}

/// `unset` of a whole top-level field: its zero value.
fn clear_top_level(config: &mut Config, tag: &str) {
    match tag {
        "preferences" => {
            config.preferences = Map::new();
            // Go's zero Preferences has a nil extensions map where the loaded one had an
            // empty one: a change, though the file reads the same.
            config.preferences_touched = true;
        }
        "clusters" => config.entries_mut(Section::Clusters).clear(),
        "users" => config.entries_mut(Section::Users).clear(),
        "contexts" => config.entries_mut(Section::Contexts).clear(),
        "current-context" => config.current_context.clear(),
        "extensions" => config.extensions.clear(),
        _ => {}
    }
}

fn apply_to_preferences(
    config: &mut Config,
    steps: &[Step],
    edit: Edit,
) -> std::result::Result<(), PathError> {
    let Some(step) = steps.first() else {
        // `set preferences VALUE`: Go finds no field named "" in the struct.
        let colors = config.preferences.get("colors") == Some(&Value::Bool(true));
        let extensions = config
            .preferences
            .get("extensions")
            .map(canonical::extensions)
            .unwrap_or_default();
        return Err(PathError::Error(format!(
            "unable to locate path config.navigationStep{{stepValue:\"\", stepType:reflect.Type(nil)}} under {{{colors} {}}}",
            go_fmt::pointer_map(names(&extensions))
        )));
    };
    match (step.name.as_str(), edit) {
        ("colors", Edit::Unset) => {
            config.preferences.remove("colors");
        }
        ("colors", Edit::Set { value, .. }) => {
            if to_bool(value)? {
                config
                    .preferences
                    .insert("colors".into(), Value::Bool(true));
            } else {
                config.preferences.remove("colors");
            }
        }
        (_, Edit::Unset) => {
            config.preferences.remove(&step.name);
            config.preferences_touched = true;
        }
        (_, Edit::Set { .. }) => {
            let extensions = config
                .preferences
                .get("extensions")
                .map(canonical::extensions)
                .unwrap_or_default();
            return Err(cannot_set_map(go_fmt::pointer_map(names(&extensions))));
        }
    }
    Ok(())
}

fn apply_to_entries(
    config: &mut Config,
    section: Section,
    steps: &[Step],
    edit: Edit,
) -> std::result::Result<(), PathError> {
    let entries = config.entries_mut(section);
    let map_text = || go_fmt::pointer_map(entries.keys().map(String::as_str));
    let Some((key, rest)) = steps.split_first() else {
        return Err(cannot_set_map(map_text()));
    };
    if rest.is_empty() {
        if let Edit::Set { .. } = edit {
            return Err(cannot_set_map(map_text()));
        }
        entries.remove(&key.name);
        return Ok(());
    }
    if !entries.contains_key(&key.name) {
        if let Edit::Unset = edit {
            return Err(PathError::Error(format!(
                "current map key `{}` is invalid",
                key.name
            )));
        }
        entries.insert(key.name.clone(), Entry::empty(section));
    }
    let Some(entry) = entries.get_mut(&key.name) else {
        return Ok(());
    };
    apply_to_entry(section, entry, rest, edit)?;
    entry.payload = canonical::payload(section, &Value::Object(std::mem::take(&mut entry.payload)));
    Ok(())
}

fn apply_to_entry(
    section: Section,
    entry: &mut Entry,
    steps: &[Step],
    edit: Edit,
) -> std::result::Result<(), PathError> {
    let Some(step) = steps.first() else {
        return Ok(());
    };
    let Some(fd) = field(Kind::Entry(section), &step.name) else {
        return Ok(());
    };
    let payload = &mut entry.payload;
    match (fd.kind, edit) {
        (Kind::Objects | Kind::StrLists, Edit::Unset) => {
            payload.remove(fd.key);
            // A nil map becomes an empty one, a full one nil: Go sees a change either way.
            entry.touched = true;
        }
        (Kind::Objects, Edit::Set { .. }) => {
            let extensions = payload
                .get(fd.key)
                .map(canonical::extensions)
                .unwrap_or_default();
            return Err(cannot_set_map(go_fmt::pointer_map(names(&extensions))));
        }
        (Kind::StrLists, Edit::Set { .. }) => {
            return Err(cannot_set_map(go_string_lists(payload.get(fd.key))));
        }
        (Kind::Origin, Edit::Unset) => entry.origin = Default::default(),
        (Kind::Origin, Edit::Set { value, .. }) => entry.origin = value.into(),
        (_, Edit::Unset) => {
            payload.remove(fd.key);
        }
        (Kind::Str, Edit::Set { value, .. }) => {
            payload.insert(fd.key.into(), Value::String(value.into()));
        }
        (Kind::Bool, Edit::Set { value, .. }) => {
            payload.insert(fd.key.into(), Value::Bool(to_bool(value)?));
        }
        (Kind::Bytes, Edit::Set { value, raw_bytes }) => {
            use base64::Engine;
            let bytes = if raw_bytes {
                value.as_bytes().to_vec()
            } else {
                decode_base64(value).map_err(|at| {
                    PathError::Error(format!(
                        "error decoding input value: illegal base64 data at input byte {at}"
                    ))
                })?
            };
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            payload.insert(fd.key.into(), Value::String(text));
        }
        (Kind::StrList, Edit::Set { .. }) => {
            return Err(PathError::Error("unrecognized slice type. string".into()));
        }
        (_, Edit::Set { .. }) => {
            // A pointer field: upstream's walk has no case for it and panics.
            let shown = if payload.contains_key(fd.key) {
                "&{...}"
            } else {
                "<nil>"
            };
            return Err(PathError::Panic(format!("unrecognized type: {shown}")));
        }
    }
    Ok(())
}

fn cannot_set_map(shown: String) -> PathError {
    PathError::Error(format!("can't set a map to a value: {shown}"))
}

/// The names of a `[]NamedExtension` list.
fn names(extensions: &[Value]) -> impl Iterator<Item = &str> {
    extensions.iter().map(|e| e["name"].as_str().unwrap_or(""))
}

/// Go's `%v` of a `map[string][]string`.
fn go_string_lists(map: Option<&Value>) -> String {
    let items: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let values: Vec<String> = v
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|s| s.as_str().unwrap_or("").to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("{k}:{}", go_fmt::list(&values))
                })
                .collect()
        })
        .unwrap_or_default();
    format!("map[{}]", items.join(" "))
}

/// Upstream's `toBool`: empty is false, anything else as Go's `strconv.ParseBool`.
fn to_bool(value: &str) -> std::result::Result<bool, PathError> {
    if value.is_empty() {
        return Ok(false);
    }
    crate::flags::go_bool(value).map_err(|e| PathError::Error(e.to_string()))
}

/// Go's `base64.StdEncoding.DecodeString`, with its error offsets (where the text stops
/// being base64): line breaks are skipped, padding is required, and after the padding only
/// line breaks may follow.
fn decode_base64(text: &str) -> std::result::Result<Vec<u8>, usize> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let src = text.as_bytes();
    let skip_newlines = |mut i: usize| {
        while i < src.len() && matches!(src[i], b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut si = 0;
    loop {
        let mut quantum = [0u32; 4];
        let mut j = 0;
        let mut last = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = ALPHABET.iter().position(|a| *a == c) {
                quantum[j] = v as u32;
                j += 1;
                continue;
            }
            if matches!(c, b'\n' | b'\r') {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                si = skip_newlines(si);
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            si = skip_newlines(si);
            if si < src.len() {
                return Err(si);
            }
            last = true;
            break;
        }
        let bits = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3];
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(&bytes[..j - 1]);
        if last {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn config() -> Config {
        let doc = json!({
            "current-context": "a",
            "clusters": [{"name": "c", "cluster": {"server": "https://c", "insecure-skip-tls-verify": true}}],
            "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
        });
        Config::from_document(&doc, Path::new("/k/config")).unwrap()
    }

    fn edit(cfg: &mut Config, path: &str, edit: Edit) -> std::result::Result<(), PathError> {
        let steps = property_path::parse(path)?;
        apply(cfg, &steps, edit)
    }

    fn set(value: &str) -> Edit<'_> {
        Edit::Set {
            value,
            raw_bytes: false,
        }
    }

    #[test]
    fn set_creates_entries_and_writes_file_keys() {
        let mut cfg = config();
        edit(&mut cfg, "contexts.new.ctx.namespace", set("x")).unwrap();
        let new = &cfg.entries(Section::Contexts)["new.ctx"];
        assert_eq!(
            Value::Object(new.payload.clone()),
            json!({"cluster": "", "user": "", "namespace": "x"})
        );
        assert!(new.origin.as_os_str().is_empty());
        edit(&mut cfg, "users.u.act-as", set("admin")).unwrap();
        assert_eq!(cfg.entries(Section::Users)["u"].payload["as"], "admin");
        edit(&mut cfg, "clusters.c.insecure-skip-tls-verify", set("F")).unwrap();
        assert!(!cfg.entries(Section::Clusters)["c"]
            .payload
            .contains_key("insecure-skip-tls-verify"));
        edit(&mut cfg, "current-context", set("other")).unwrap();
        assert_eq!(cfg.current_context, "other");
    }

    #[test]
    fn binary_fields_take_base64_or_raw_bytes() {
        let mut cfg = config();
        edit(&mut cfg, "users.u.client-key-data", set("QUJD")).unwrap();
        assert_eq!(
            cfg.entries(Section::Users)["u"].payload["client-key-data"],
            "QUJD"
        );
        let raw = Edit::Set {
            value: "ABC",
            raw_bytes: true,
        };
        edit(&mut cfg, "users.u.client-key-data", raw).unwrap();
        assert_eq!(
            cfg.entries(Section::Users)["u"].payload["client-key-data"],
            "QUJD"
        );
        assert_eq!(
            edit(&mut cfg, "users.u.client-key-data", set("ABC")),
            Err(PathError::Error(
                "error decoding input value: illegal base64 data at input byte 0".into()
            ))
        );
    }

    #[test]
    fn base64_errors_point_where_go_points() {
        assert_eq!(decode_base64("QUJDRA=="), Ok(b"ABCD".to_vec()));
        assert_eq!(decode_base64("QUJD\n"), Ok(b"ABC".to_vec()));
        // Bits past the last byte are ignored, as Go (not strict) ignores them.
        assert_eq!(decode_base64("QUJDRB=="), Ok(b"ABCD".to_vec()));
        for (text, at) in [
            ("QUJD!", 4),
            ("QUJDRA", 4),
            ("QUJDRA=", 7),
            ("QU=D", 2),
            ("QUJD====", 4),
            ("QUJ D", 3),
            ("QQ=", 3),
            ("QQ==x", 4),
        ] {
            assert_eq!(decode_base64(text), Err(at), "{text}");
        }
    }

    #[test]
    fn unset_clears_fields_entries_and_refuses_missing_keys() {
        let mut cfg = config();
        edit(&mut cfg, "contexts.a.namespace", Edit::Unset).unwrap();
        assert!(!cfg.entries(Section::Contexts)["a"]
            .payload
            .contains_key("namespace"));
        edit(&mut cfg, "clusters.c.server", Edit::Unset).unwrap();
        assert_eq!(cfg.entries(Section::Clusters)["c"].payload["server"], "");
        edit(&mut cfg, "users.nobody", Edit::Unset).unwrap();
        edit(&mut cfg, "users.u", Edit::Unset).unwrap();
        assert!(cfg.entries(Section::Users).is_empty());
        assert_eq!(
            edit(&mut cfg, "contexts.nope.namespace", Edit::Unset),
            Err(PathError::Error("current map key `nope` is invalid".into()))
        );
        edit(&mut cfg, "clusters.c.extensions", Edit::Unset).unwrap();
        assert!(cfg.entries(Section::Clusters)["c"].touched);
    }

    #[test]
    fn values_where_a_map_or_list_is_are_refused() {
        let mut cfg = config();
        assert_eq!(
            edit(&mut cfg, "users.u.as", set("x")),
            Err(PathError::Error(
                "can't set a map to a value: map[u:0xc000400000]".into()
            ))
        );
        assert_eq!(
            edit(&mut cfg, "users.u.act-as-groups", set("x")),
            Err(PathError::Error("unrecognized slice type. string".into()))
        );
        assert_eq!(
            edit(
                &mut cfg,
                "clusters.c.insecure-skip-tls-verify",
                set("maybe")
            ),
            Err(PathError::Error(
                "strconv.ParseBool: parsing \"maybe\": invalid syntax".into()
            ))
        );
        assert!(matches!(
            edit(&mut cfg, "users.u.exec", set("x")),
            Err(PathError::Panic(_))
        ));
        assert_eq!(
            edit(&mut cfg, "preferences", set("x")),
            Err(PathError::Error(
                "unable to locate path config.navigationStep{stepValue:\"\", stepType:reflect.Type(nil)} under {false map[]}".into()
            ))
        );
    }
}
