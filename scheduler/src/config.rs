//! The `--config` file (`KubeSchedulerConfiguration`, kubescheduler.config.k8s.io/v1). For
//! now only the fields Rudder acts on are read: `clientConnection.kubeconfig`,
//! `leaderElection` (leaderElect, resourceNamespace, resourceName, durations),
//! `percentageOfNodesToScore` and the profiles' `schedulerName`s; plugin enablement and
//! weights are not applied yet.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use common::leader_election::LeaderElectionConfig;

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a valid KubeSchedulerConfiguration.
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    /// Wrong apiVersion/kind.
    #[error("{0}: expected kind KubeSchedulerConfiguration of apiVersion kubescheduler.config.k8s.io/v1")]
    Kind(PathBuf),
    /// A duration such as `15s` could not be parsed.
    #[error("invalid duration {0:?}")]
    Duration(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    client_connection: ClientConnection,
    leader_election: Option<LeaderElection>,
    #[serde(default)]
    profiles: Vec<Profile>,
    percentage_of_nodes_to_score: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientConnection {
    kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaderElection {
    leader_elect: Option<bool>,
    resource_namespace: Option<String>,
    resource_name: Option<String>,
    lease_duration: Option<String>,
    renew_deadline: Option<String>,
    retry_period: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    scheduler_name: Option<String>,
}

/// What the scheduler runs with.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Kubeconfig named by the file.
    pub kubeconfig: Option<PathBuf>,
    /// Whether to elect a leader.
    pub leader_elect: bool,
    /// Lease and timings.
    pub leader_election: LeaderElectionConfig,
    /// One `schedulerName` per profile.
    pub profiles: Vec<String>,
    /// `percentageOfNodesToScore` (None or 0: adaptive).
    pub percentage_of_nodes_to_score: Option<i32>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            kubeconfig: None,
            leader_elect: true,
            leader_election: LeaderElectionConfig::default(),
            profiles: vec!["default-scheduler".into()],
            percentage_of_nodes_to_score: None,
        }
    }
}

/// Go durations as the config file writes them (`15s`, `1m30s`), in the config's error.
fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    common::duration::parse(s).map_err(|_| ConfigError::Duration(s.to_string()))
}

/// Read a KubeSchedulerConfiguration file.
pub fn load(path: &Path) -> Result<SchedulerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.into(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        ConfigError::Parse { source, .. } => ConfigError::Parse {
            path: path.into(),
            source,
        },
        ConfigError::Kind(_) => ConfigError::Kind(path.into()),
        other => other,
    })
}

fn parse(text: &str) -> Result<SchedulerConfig, ConfigError> {
    let file: File = serde_yaml::from_str(text).map_err(|source| ConfigError::Parse {
        path: PathBuf::new(),
        source,
    })?;
    if file.kind.as_deref() != Some("KubeSchedulerConfiguration")
        || file.api_version.as_deref() != Some("kubescheduler.config.k8s.io/v1")
    {
        return Err(ConfigError::Kind(PathBuf::new()));
    }
    let mut config = SchedulerConfig {
        kubeconfig: file.client_connection.kubeconfig,
        percentage_of_nodes_to_score: file.percentage_of_nodes_to_score,
        ..Default::default()
    };
    if let Some(le) = file.leader_election {
        config.leader_elect = le.leader_elect.unwrap_or(true);
        let lec = &mut config.leader_election;
        if let Some(ns) = le.resource_namespace {
            lec.namespace = ns;
        }
        if let Some(name) = le.resource_name {
            lec.name = name;
        }
        if let Some(d) = le.lease_duration {
            lec.lease_duration = parse_duration(&d)?;
        }
        if let Some(d) = le.renew_deadline {
            lec.renew_deadline = parse_duration(&d)?;
        }
        if let Some(d) = le.retry_period {
            lec.retry_period = parse_duration(&d)?;
        }
    }
    let names: Vec<String> = file
        .profiles
        .into_iter()
        .map(|p| {
            p.scheduler_name
                .unwrap_or_else(|| "default-scheduler".into())
        })
        .collect();
    if !names.is_empty() {
        config.profiles = names;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_profiles_and_leader_election() {
        let c = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             percentageOfNodesToScore: 30\n\
             leaderElection:\n  leaderElect: false\n  leaseDuration: 1m30s\n\
             profiles:\n- schedulerName: default-scheduler\n- schedulerName: bin-packer\n",
        )
        .expect("valid");
        assert!(!c.leader_elect);
        assert_eq!(c.leader_election.lease_duration, Duration::from_secs(90));
        assert_eq!(c.profiles, vec!["default-scheduler", "bin-packer"]);
        assert_eq!(c.percentage_of_nodes_to_score, Some(30));
    }

    #[test]
    fn rejects_other_kinds() {
        assert!(matches!(
            parse("apiVersion: v1\nkind: Pod\n"),
            Err(ConfigError::Kind(_))
        ));
        assert!(parse_duration("10x").is_err());
    }
}
