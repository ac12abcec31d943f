//! `kubectl config delete-cluster NAME` and `kubectl config delete-user NAME`. Both name the
//! default file in their messages, even when the entry came from another file of the list.

use crate::cmd::out;
use crate::error::{KubectlError, Result};

use super::access::ConfigAccess;
use super::help::Page;
use super::model::Section;
use super::modify::modify_config;

/// Runs `config delete-cluster`; without exactly one name upstream prints its help and
/// succeeds.
pub fn delete_cluster(access: &ConfigAccess, args: &[String]) -> Result<()> {
    let [name] = args else {
        Page::DeleteCluster.show();
        return Ok(());
    };
    delete(access, Section::Clusters, name, "cluster")
}

/// Runs `config delete-user`.
pub fn delete_user(access: &ConfigAccess, args: &[String]) -> Result<()> {
    // Upstream reads the configuration before it looks at the arguments.
    access.starting_config()?;
    let [name] = args else {
        return Err(KubectlError::usage(
            "user to delete is required\nSee 'kubectl config delete-user -h' for help and examples",
        ));
    };
    delete(access, Section::Users, name, "user")
}

fn delete(access: &ConfigAccess, section: Section, name: &str, noun: &str) -> Result<()> {
    let start = access.starting_config()?;
    let file = access.default_filename();
    if !start.entries(section).contains_key(name) {
        return Err(KubectlError::usage(format!(
            "cannot delete {noun} {name}, not in {}",
            file.display()
        )));
    }
    let mut edited = start.clone();
    edited.entries_mut(section).remove(name);
    modify_config(access, &start, &edited, true)?;
    out(&format!("deleted {noun} {name} from {}\n", file.display()));
    Ok(())
}
