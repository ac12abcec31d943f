//! The `--config` file (`KubeSchedulerConfiguration`, kubescheduler.config.k8s.io/v1):
//! `clientConnection.kubeconfig`, `leaderElection` (leaderElect, resourceNamespace,
//! resourceName, durations), `percentageOfNodesToScore`, and `profiles` — each with its
//! `schedulerName`, `percentageOfNodesToScore`, `plugins` and `pluginConfig`, which
//! [`crate::profile`] turns into one framework per profile.
//!
//! Decoding is strict, as upstream's: an unknown field is an error naming it. Fields upstream
//! has that Rudder does not act on (parallelism, backoff seconds, extenders, …) are accepted.

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
    /// A field holds a value upstream's validation refuses.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as upstream's field paths write it (`profiles[1].schedulerName`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    client_connection: ClientConnection,
    leader_election: Option<LeaderElection>,
    #[serde(default)]
    profiles: Vec<ProfileConfig>,
    percentage_of_nodes_to_score: Option<i32>,
    // Upstream fields accepted (strict decoding must not refuse them) and not acted on.
    #[allow(dead_code)]
    parallelism: Option<i32>,
    #[allow(dead_code)]
    pod_initial_backoff_seconds: Option<i64>,
    #[allow(dead_code)]
    pod_max_backoff_seconds: Option<i64>,
    #[allow(dead_code)]
    extenders: Option<serde_yaml::Value>,
    #[allow(dead_code)]
    delay_cache_until_active: Option<bool>,
    #[allow(dead_code)]
    enable_profiling: Option<bool>,
    #[allow(dead_code)]
    enable_contention_profiling: Option<bool>,
    #[allow(dead_code)]
    healthz_bind_address: Option<String>,
    #[allow(dead_code)]
    metrics_bind_address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientConnection {
    kubeconfig: Option<PathBuf>,
    #[allow(dead_code)]
    accept_content_types: Option<String>,
    #[allow(dead_code)]
    content_type: Option<String>,
    #[allow(dead_code)]
    qps: Option<f64>,
    #[allow(dead_code)]
    burst: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LeaderElection {
    leader_elect: Option<bool>,
    #[allow(dead_code)]
    resource_lock: Option<String>,
    resource_namespace: Option<String>,
    resource_name: Option<String>,
    lease_duration: Option<String>,
    renew_deadline: Option<String>,
    retry_period: Option<String>,
}

/// One `profiles[]` entry as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileConfig {
    /// `schedulerName`; absent means `default-scheduler`.
    pub scheduler_name: Option<String>,
    /// This profile's `percentageOfNodesToScore` (overrides the global one).
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Plugin enablement per extension point.
    #[serde(default)]
    pub plugins: Plugins,
    /// Per-plugin args.
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

impl ProfileConfig {
    /// A profile with upstream's defaults under `name`.
    pub fn named(name: &str) -> ProfileConfig {
        ProfileConfig {
            scheduler_name: Some(name.to_string()),
            ..Default::default()
        }
    }

    /// The `schedulerName`, defaulted.
    pub fn name(&self) -> &str {
        self.scheduler_name
            .as_deref()
            .unwrap_or("default-scheduler")
    }
}

/// `profiles[].plugins`: a plugin set per extension point, plus `multiPoint`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugins {
    /// `preEnqueue`.
    #[serde(default)]
    pub pre_enqueue: PluginSet,
    /// `queueSort`.
    #[serde(default)]
    pub queue_sort: PluginSet,
    /// `preFilter`.
    #[serde(default)]
    pub pre_filter: PluginSet,
    /// `filter`.
    #[serde(default)]
    pub filter: PluginSet,
    /// `postFilter`.
    #[serde(default)]
    pub post_filter: PluginSet,
    /// `preScore`.
    #[serde(default)]
    pub pre_score: PluginSet,
    /// `score`.
    #[serde(default)]
    pub score: PluginSet,
    /// `reserve`.
    #[serde(default)]
    pub reserve: PluginSet,
    /// `permit`.
    #[serde(default)]
    pub permit: PluginSet,
    /// `preBind`.
    #[serde(default)]
    pub pre_bind: PluginSet,
    /// `bind`.
    #[serde(default)]
    pub bind: PluginSet,
    /// `postBind`.
    #[serde(default)]
    pub post_bind: PluginSet,
    /// `multiPoint`: plugins enabled at every point they implement.
    #[serde(default)]
    pub multi_point: PluginSet,
}

/// `enabled` and `disabled` plugins of one extension point.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSet {
    /// Enabled, in order; a default plugin named here is reconfigured in place.
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    /// Disabled; `*` disables every default.
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

/// A plugin named in a plugin set.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginRef {
    /// The plugin's name.
    pub name: String,
    /// Score weight (score and multiPoint only); 0 or absent means the default.
    #[serde(default)]
    pub weight: i32,
}

/// `profiles[].pluginConfig[]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfig {
    /// The plugin the args are for.
    pub name: String,
    /// The args, decoded per plugin (see `framework::plugin_args`).
    #[serde(default)]
    pub args: serde_yaml::Value,
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
    /// The profiles, at least one.
    pub profiles: Vec<ProfileConfig>,
    /// `percentageOfNodesToScore` (None or 0: adaptive).
    pub percentage_of_nodes_to_score: Option<i32>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            kubeconfig: None,
            leader_elect: true,
            leader_election: LeaderElectionConfig::default(),
            profiles: vec![ProfileConfig::named("default-scheduler")],
            percentage_of_nodes_to_score: None,
        }
    }
}

/// Go durations as the config file writes them (`15s`, `1m30s`), in the config's error.
fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    common::duration::parse(s).map_err(|_| ConfigError::Duration(s.to_string()))
}

fn validate_percentage(p: i32, field: &str) -> Result<(), ConfigError> {
    if (0..=100).contains(&p) {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        field: field.to_string(),
        message: format!("Invalid value: {p}: not in valid range [0-100]"),
    })
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
    if let Some(p) = file.percentage_of_nodes_to_score {
        validate_percentage(p, "percentageOfNodesToScore")?;
    }
    for (i, profile) in file.profiles.iter().enumerate() {
        if let Some(p) = profile.percentage_of_nodes_to_score {
            validate_percentage(p, &format!("profiles[{i}].percentageOfNodesToScore"))?;
        }
        if profile.scheduler_name.as_deref() == Some("") {
            return Err(ConfigError::Invalid {
                field: format!("profiles[{i}].schedulerName"),
                message: "Required value".into(),
            });
        }
        if file.profiles[..i]
            .iter()
            .any(|p| p.name() == profile.name())
        {
            return Err(ConfigError::Invalid {
                field: format!("profiles[{i}].schedulerName"),
                message: format!("Duplicate value: {:?}", profile.name()),
            });
        }
    }
    if !file.profiles.is_empty() {
        config.profiles = file.profiles;
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
        let names: Vec<&str> = c.profiles.iter().map(ProfileConfig::name).collect();
        assert_eq!(names, vec!["default-scheduler", "bin-packer"]);
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

    #[test]
    fn reads_plugins_and_refuses_unknown_fields() {
        let c = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             profiles:\n- schedulerName: packer\n  percentageOfNodesToScore: 50\n  plugins:\n    score:\n      disabled:\n      - name: '*'\n      enabled:\n      - name: NodeResourcesFit\n        weight: 5\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: MostAllocated\n",
        )
        .expect("valid");
        let p = &c.profiles[0];
        assert_eq!(p.percentage_of_nodes_to_score, Some(50));
        assert_eq!(p.plugins.score.disabled[0].name, "*");
        assert_eq!(p.plugins.score.enabled[0].weight, 5);
        assert_eq!(p.plugin_config[0].name, "NodeResourcesFit");
        let e = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             profiles:\n- schedulerName: a\n  plugins:\n    fliter: {}\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `fliter`"), "{e}");
        let e = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             profiles:\n- schedulerName: a\n- schedulerName: a\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("profiles[1].schedulerName: Duplicate"),
            "{e}"
        );
        let e = parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n\
             percentageOfNodesToScore: 101\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("percentageOfNodesToScore: Invalid value: 101"),
            "{e}"
        );
    }
}
