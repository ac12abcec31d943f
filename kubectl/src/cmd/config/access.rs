//! Which kubeconfig files `kubectl config` reads and writes (client-go's `PathOptions`), and
//! reading and writing one of them.
//!
//! Unlike the other commands, `kubectl config` sees paths as the files spell them (relative
//! ones are not resolved) and takes a missing file for an empty one, which the first write
//! then creates.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{KubectlError, Result};
use crate::kubeconfig;

use super::model::Config;

/// The files in play: `--kubeconfig`, else `$KUBECONFIG`'s list, else `~/.kube/config`.
#[derive(Debug, Clone)]
pub struct ConfigAccess {
    precedence: Vec<PathBuf>,
    explicit: bool,
}

impl ConfigAccess {
    /// The files for a `--kubeconfig` flag (`None` or empty when not given).
    pub fn new(kubeconfig_flag: Option<&str>) -> Result<Self> {
        let explicit = kubeconfig_flag.filter(|p| !p.is_empty());
        let (precedence, explicit) = kubeconfig::config_paths(explicit)?;
        Ok(ConfigAccess {
            precedence,
            explicit,
        })
    }

    /// A fixed list of files, for tests.
    #[cfg(test)]
    pub fn for_test(precedence: Vec<PathBuf>, explicit: bool) -> Self {
        ConfigAccess {
            precedence,
            explicit,
        }
    }

    /// Whether `--kubeconfig` named the one file.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The files in precedence order.
    pub fn precedence(&self) -> &[PathBuf] {
        &self.precedence
    }

    /// Where new entries and a new `current-context` go: the only file, else the first of the
    /// list that exists, else the last.
    pub fn default_filename(&self) -> PathBuf {
        if self.precedence.len() == 1 {
            return self.precedence[0].clone();
        }
        self.precedence
            .iter()
            .find(|p| p.exists())
            .or(self.precedence.last())
            .cloned()
            .unwrap_or_default()
    }

    /// The merged configuration every `kubectl config` command starts from.
    pub fn starting_config(&self) -> Result<Config> {
        let mut files = Vec::new();
        for path in &self.precedence {
            files.push(read_file(path)?);
        }
        Ok(Config::merge(files))
    }
}

/// One file as client-go reads it for editing; a missing file is an empty configuration.
pub fn read_file(path: &Path) -> Result<Config> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(KubectlError::usage(format!("{}: {e}", path.display()))),
    };
    let loading_error = |e: String| {
        KubectlError::usage(format!(
            "error loading config file \"{}\": {e}",
            path.display()
        ))
    };
    let doc = kubeconfig::parse_document(&text).map_err(loading_error)?;
    Config::from_document(&doc, path).map_err(loading_error)
}

/// Writes one file as client-go's `WriteToFile` does; a new file is readable by its owner
/// only (it holds credentials) and its directory is made as needed.
pub fn write_file(path: &Path, config: &Config) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |e: std::io::Error| KubectlError::usage(format!("open {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let text = crate::printers::yaml::to_yaml(&config.to_document());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::config::model::Section;

    #[test]
    fn a_missing_file_reads_empty_and_is_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config");
        let mut cfg = read_file(&path).unwrap();
        assert!(cfg.entries(Section::Clusters).is_empty());
        cfg.current_context = "x".into();
        write_file(&path, &cfg).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: x\nkind: Config\npreferences: {}\nusers: null\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_default_file_is_the_first_existing_one_of_a_list() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        let access = ConfigAccess {
            precedence: vec![a.clone(), b.clone(), c.clone()],
            explicit: false,
        };
        assert_eq!(access.default_filename(), c);
        std::fs::write(&b, "").unwrap();
        assert_eq!(access.default_filename(), b);
    }
}
