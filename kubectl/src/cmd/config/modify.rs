//! Writing an edited configuration back: client-go's `ModifyConfig`.
//!
//! Commands edit the merged view; this finds what changed and writes each change to the file
//! it belongs in. A changed or new entry goes to the file that defined it (a new one to the
//! default file), a deleted entry is removed from the file that defined it, and a changed
//! `current-context` or `preferences` goes where client-go's rules put it. Every file written
//! is re-read and rewritten whole, in canonical form; files with no change are not touched.

use std::path::PathBuf;

use crate::error::{KubectlError, Result};

use super::access::{read_file, write_file, ConfigAccess};
use super::file_refs;
use super::model::{Config, Section};

/// Writes the difference between `start` (as loaded) and `edited`. `relativize` is what most
/// commands ask for: file references of the entries written become relative to their file.
pub fn modify_config(
    access: &ConfigAccess,
    start: &Config,
    edited: &Config,
    relativize: bool,
) -> Result<()> {
    if start.current_context != edited.current_context {
        write_current_context(access, &edited.current_context)?;
    }
    if edited.preferences_touched || start.preferences != edited.preferences {
        write_preferences(access, edited)?;
    }
    for section in Section::ALL {
        for (name, entry) in edited.entries(section) {
            if !entry.differs_from(start.entries(section).get(name)) {
                continue;
            }
            let file = destination(access, &entry.origin);
            let mut on_disk = read_file(&file)?;
            let mut written = entry.clone();
            written.origin = file.clone();
            written.touched = false;
            if relativize {
                file_refs::relativize(section, &mut written.payload, &file);
            }
            on_disk.entries_mut(section).insert(name.clone(), written);
            write_file(&file, &on_disk)?;
        }
    }
    for section in Section::ALL {
        for (name, entry) in start.entries(section) {
            if edited.entries(section).contains_key(name) {
                continue;
            }
            let file = destination(access, &entry.origin);
            let mut on_disk = read_file(&file)?;
            on_disk.entries_mut(section).remove(name);
            write_file(&file, &on_disk)?;
        }
    }
    Ok(())
}

/// An entry's file, or the default file for an entry that has none yet.
fn destination(access: &ConfigAccess, origin: &std::path::Path) -> PathBuf {
    if origin.as_os_str().is_empty() {
        access.default_filename()
    } else {
        origin.to_path_buf()
    }
}

/// A new `current-context` goes to the `--kubeconfig` file or the default file; clearing it
/// clears the first file of the list that sets one.
fn write_current_context(access: &ConfigAccess, current: &str) -> Result<()> {
    let file = if access.is_explicit() || !current.is_empty() {
        access.default_filename()
    } else {
        let mut setting = None;
        for file in access.precedence().iter().filter(|f| f.exists()) {
            if !read_file(file)?.current_context.is_empty() {
                setting = Some(file.clone());
                break;
            }
        }
        setting.ok_or_else(|| KubectlError::usage("no config found to write context"))?
    };
    let mut on_disk = read_file(&file)?;
    on_disk.current_context = current.to_string();
    write_file(&file, &on_disk)
}

/// New preferences go to the `--kubeconfig` file, else to the first file whose preferences
/// differ from them.
fn write_preferences(access: &ConfigAccess, edited: &Config) -> Result<()> {
    for file in access.precedence() {
        let mut on_disk = read_file(file)?;
        if access.is_explicit()
            || edited.preferences_touched
            || on_disk.preferences != edited.preferences
        {
            on_disk.preferences = edited.preferences.clone();
            return write_file(file, &on_disk);
        }
    }
    Err(KubectlError::usage("no config found to write preferences"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::config::model::Entry;
    use serde_json::json;

    struct Files {
        _dir: tempfile::TempDir,
        a: PathBuf,
        b: PathBuf,
        access: ConfigAccess,
    }

    /// Two files merged as `$KUBECONFIG=a:b` would merge them.
    fn two_files(a: &str, b: &str) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let (pa, pb) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&pa, a).unwrap();
        std::fs::write(&pb, b).unwrap();
        let list = format!("{}:{}", pa.display(), pb.display());
        let access = std::env::split_paths(&list).collect::<Vec<_>>();
        Files {
            _dir: dir,
            a: pa,
            b: pb,
            access: ConfigAccess::for_test(access, false),
        }
    }

    #[test]
    fn each_change_goes_to_the_file_that_defined_the_entry() {
        let f = two_files(
            "clusters:\n- name: ca\n  cluster: {server: https://a}\n",
            "clusters:\n- name: cb\n  cluster: {server: https://b}\n",
        );
        let start = f.access.starting_config().unwrap();
        let mut edited = start.clone();
        let cb = edited.entries_mut(Section::Clusters).get_mut("cb").unwrap();
        cb.payload.insert("server".into(), json!("https://new"));
        edited
            .entries_mut(Section::Clusters)
            .insert("fresh".into(), Entry::empty(Section::Clusters));
        modify_config(&f.access, &start, &edited, true).unwrap();
        let a = std::fs::read_to_string(&f.a).unwrap();
        let b = std::fs::read_to_string(&f.b).unwrap();
        assert!(
            a.contains("name: fresh") && !a.contains("https://new"),
            "{a}"
        );
        assert!(
            b.contains("server: https://new") && !b.contains("fresh"),
            "{b}"
        );
    }

    #[test]
    fn unchanged_files_are_left_as_they_are() {
        let f = two_files("clusters:\n- {name: ca}\n", "current-context: x\n");
        let start = f.access.starting_config().unwrap();
        modify_config(&f.access, &start, &start.clone(), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(&f.a).unwrap(),
            "clusters:\n- {name: ca}\n"
        );
    }

    #[test]
    fn clearing_the_current_context_clears_the_file_that_set_it() {
        let f = two_files("clusters: []\n", "current-context: x\n");
        let start = f.access.starting_config().unwrap();
        let mut edited = start.clone();
        edited.current_context.clear();
        modify_config(&f.access, &start, &edited, false).unwrap();
        assert!(std::fs::read_to_string(&f.b)
            .unwrap()
            .contains("current-context: \"\""));
        assert_eq!(std::fs::read_to_string(&f.a).unwrap(), "clusters: []\n");
    }
}
