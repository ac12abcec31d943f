//! `--admission-control-config-file`: an `apiserver.config.k8s.io/v1 AdmissionConfiguration`
//! (YAML or JSON) whose `plugins[]` give each admission plugin its configuration, inline
//! (`configuration:`) or in a file of its own (`path:`, relative to the configuration file's
//! directory), as upstream reads it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// API versions upstream accepts for the file.
const API_VERSIONS: &[&str] = &["apiserver.config.k8s.io/v1", "apiserver.k8s.io/v1alpha1"];
const KIND: &str = "AdmissionConfiguration";

/// Why the admission configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionConfigError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid YAML/JSON of the expected shape.
    #[error("decoding {path}: {reason}")]
    Decode {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plugin's configuration is invalid.
    #[error("admission plugin {plugin:?}: {reason}")]
    Plugin {
        /// The plugin.
        plugin: String,
        /// What is wrong with its configuration.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdmissionConfiguration {
    api_version: String,
    kind: String,
    #[serde(default)]
    plugins: Vec<PluginEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginEntry {
    name: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    configuration: Option<Value>,
}

fn read(path: &Path) -> Result<String, AdmissionConfigError> {
    std::fs::read_to_string(path).map_err(|source| AdmissionConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Parse YAML or JSON (JSON is YAML) into `T`.
fn decode<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, AdmissionConfigError> {
    serde_yaml::from_str(text).map_err(|e| AdmissionConfigError::Decode {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The configuration `plugin` is given in the admission configuration file at `file`;
/// `Ok(None)` when the file does not mention the plugin.
pub fn plugin_config(file: &Path, plugin: &str) -> Result<Option<Value>, AdmissionConfigError> {
    let config: AdmissionConfiguration = decode(file, &read(file)?)?;
    if config.kind != KIND || !API_VERSIONS.contains(&config.api_version.as_str()) {
        return Err(AdmissionConfigError::Decode {
            path: file.display().to_string(),
            reason: format!(
                "expected kind {KIND} of apiVersion {}, got kind {:?} of apiVersion {:?}",
                API_VERSIONS[0], config.kind, config.api_version
            ),
        });
    }
    let Some(entry) = config.plugins.into_iter().find(|p| p.name == plugin) else {
        return Ok(None);
    };
    match (entry.configuration, entry.path) {
        (Some(_), Some(_)) => Err(AdmissionConfigError::Plugin {
            plugin: plugin.to_string(),
            reason: "only one of path and configuration may be set".into(),
        }),
        (Some(inline), None) => Ok(Some(inline)),
        (None, Some(p)) => {
            // Upstream resolves a relative path against the configuration file's directory.
            let p = PathBuf::from(p);
            let p = if p.is_relative() {
                file.parent().unwrap_or(Path::new(".")).join(p)
            } else {
                p
            };
            Ok(Some(decode(&p, &read(&p)?)?))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn inline_and_path_configurations_are_found() {
        let dir = tempfile::tempdir().expect("dir");
        let inline = write(
            dir.path(),
            "inline.yaml",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration:\n    kind: PodSecurityConfiguration\n",
        );
        let got = plugin_config(&inline, "PodSecurity").expect("ok");
        assert_eq!(got.expect("config")["kind"], "PodSecurityConfiguration");
        assert!(plugin_config(&inline, "LimitRanger").expect("ok").is_none());

        write(dir.path(), "psa.yaml", "kind: PodSecurityConfiguration\n");
        let by_path = write(
            dir.path(),
            "by-path.json",
            r#"{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
                "plugins": [{"name": "PodSecurity", "path": "psa.yaml"}]}"#,
        );
        let got = plugin_config(&by_path, "PodSecurity").expect("ok");
        assert_eq!(got.expect("config")["kind"], "PodSecurityConfiguration");
    }

    #[test]
    fn bad_files_are_errors_naming_the_problem() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("missing.yaml");
        let e = plugin_config(&missing, "PodSecurity").unwrap_err();
        assert!(e.to_string().contains("missing.yaml"), "{e}");

        let wrong_kind = write(dir.path(), "k.yaml", "apiVersion: v1\nkind: ConfigMap\n");
        let e = plugin_config(&wrong_kind, "PodSecurity").unwrap_err();
        assert!(e.to_string().contains("AdmissionConfiguration"), "{e}");

        let gone = write(
            dir.path(),
            "gone.yaml",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  path: nowhere.yaml\n",
        );
        let e = plugin_config(&gone, "PodSecurity").unwrap_err();
        assert!(e.to_string().contains("nowhere.yaml"), "{e}");

        let typo = write(
            dir.path(),
            "typo.yaml",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugin: []\n",
        );
        assert!(plugin_config(&typo, "PodSecurity").is_err());
    }
}
