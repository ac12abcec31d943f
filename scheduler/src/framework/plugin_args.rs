//! Typed `pluginConfig` args of the in-tree plugins (kubescheduler.config.k8s.io/v1
//! `NodeResourcesFitArgs`, `InterPodAffinityArgs`, …), their defaults and their validation.
//!
//! Args are decoded strictly (an unknown field is an error, as upstream's strict decoding),
//! and every validation error names the field the way upstream's `field.Path` does, so a
//! bad config names what to fix.

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use serde::Deserialize;

/// An invalid plugin args field: the path under the profile (`pluginConfig[0].args.…`) is
/// prefixed by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ArgsError {
    /// The field below `args`, e.g. `scoringStrategy.type`.
    pub field: String,
    /// What is wrong, worded as upstream's field errors (`Invalid value: …`).
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ArgsError {
    ArgsError {
        field: field.into(),
        message: message.into(),
    }
}

/// One scored resource and its weight (`scoringStrategy.resources`, BalancedAllocation's
/// `resources`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSpec {
    /// Resource name (`cpu`, `memory`, `example.com/gpu`).
    pub name: String,
    /// Weight; 0 or absent means 1, as upstream defaults it.
    #[serde(default)]
    pub weight: i64,
}

/// One point of RequestedToCapacityRatio's utilization → score function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UtilizationShapePoint {
    /// Utilization in percent, 0..=100.
    #[serde(default)]
    pub utilization: i32,
    /// Score at that utilization, 0..=10 (scaled by 10 to 0..=100 when scoring).
    #[serde(default)]
    pub score: i32,
}

/// `scoringStrategy.requestedToCapacityRatio`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestedToCapacityRatioParam {
    /// The piecewise linear function, by increasing utilization.
    #[serde(default)]
    pub shape: Vec<UtilizationShapePoint>,
}

/// `NodeResourcesFitArgs.scoringStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoringStrategyConfig {
    /// `LeastAllocated` (default), `MostAllocated` or `RequestedToCapacityRatio`.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// Scored resources; default cpu and memory with weight 1.
    #[serde(default)]
    pub resources: Option<Vec<ResourceSpec>>,
    /// The shape, for `RequestedToCapacityRatio`.
    #[serde(default)]
    pub requested_to_capacity_ratio: Option<RequestedToCapacityRatioParam>,
}

/// `NodeResourcesFitArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeResourcesFitArgs {
    /// Carried by args written with their own `apiVersion`/`kind`; not checked further.
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See `api_version`.
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Extended resources the filter ignores.
    #[serde(default)]
    pub ignored_resources: Vec<String>,
    /// Extended resource groups (the part before `/`) the filter ignores.
    #[serde(default)]
    pub ignored_resource_groups: Vec<String>,
    /// How nodes are scored.
    #[serde(default)]
    pub scoring_strategy: Option<ScoringStrategyConfig>,
}

/// The resolved scoring strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoringStrategyType {
    /// Prefer the emptiest nodes (upstream's default).
    LeastAllocated,
    /// Prefer the fullest nodes (bin packing).
    MostAllocated,
    /// Score by a user-given function of utilization.
    RequestedToCapacityRatio(Vec<UtilizationShapePoint>),
}

/// Upstream's `MaxCustomPriorityScore`: shape scores run 0..=10.
pub const MAX_CUSTOM_PRIORITY_SCORE: i32 = 10;
/// Upstream's `MaxUtilization`.
pub const MAX_UTILIZATION: i32 = 100;
/// Upstream's bounds of a resource weight.
const MAX_RESOURCE_WEIGHT: i64 = 100;

/// cpu and memory, weight 1 each (upstream's default scored resources).
pub fn default_resources() -> Vec<ResourceSpec> {
    ["cpu", "memory"]
        .into_iter()
        .map(|name| ResourceSpec {
            name: name.into(),
            weight: 1,
        })
        .collect()
}

/// Weight 0 means 1 (upstream's defaulting); then each weight must be in 1..=100 and each
/// name appear once.
fn validate_resources(
    resources: &[ResourceSpec],
    field: &str,
) -> Result<Vec<ResourceSpec>, ArgsError> {
    let mut out: Vec<ResourceSpec> = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let weight = if r.weight == 0 { 1 } else { r.weight };
        if !(1..=MAX_RESOURCE_WEIGHT).contains(&weight) {
            return Err(invalid(
                format!("{field}[{i}].weight"),
                format!(
                    "Invalid value: {weight}: resource weight of {} should be in range [1, {MAX_RESOURCE_WEIGHT}]",
                    r.name
                ),
            ));
        }
        if r.name.is_empty() {
            return Err(invalid(format!("{field}[{i}].name"), "Required value"));
        }
        if out.iter().any(|o| o.name == r.name) {
            return Err(invalid(
                format!("{field}[{i}].name"),
                format!("Duplicate value: {:?}", r.name),
            ));
        }
        out.push(ResourceSpec {
            name: r.name.clone(),
            weight,
        });
    }
    Ok(out)
}

fn validate_shape(shape: &[UtilizationShapePoint]) -> Result<(), ArgsError> {
    let field = "scoringStrategy.requestedToCapacityRatio.shape";
    if shape.is_empty() {
        return Err(invalid(
            field,
            "Required value: at least one point must be specified",
        ));
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=MAX_UTILIZATION).contains(&p.utilization) {
            return Err(invalid(
                format!("{field}[{i}].utilization"),
                format!(
                    "Invalid value: {}: not in valid range [0, {MAX_UTILIZATION}]",
                    p.utilization
                ),
            ));
        }
        if i > 0 && p.utilization <= shape[i - 1].utilization {
            return Err(invalid(
                format!("{field}[{i}].utilization"),
                format!(
                    "Invalid value: {}: utilization values must be sorted in increasing order",
                    p.utilization
                ),
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
            return Err(invalid(
                format!("{field}[{i}].score"),
                format!(
                    "Invalid value: {}: not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]",
                    p.score
                ),
            ));
        }
    }
    Ok(())
}

/// NodeResourcesFit's settings after defaulting and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResourcesFitSettings {
    /// Extended resources the filter ignores.
    pub ignored_resources: Vec<String>,
    /// Extended resource groups the filter ignores.
    pub ignored_resource_groups: Vec<String>,
    /// The scoring strategy.
    pub strategy: ScoringStrategyType,
    /// Scored resources with their weights.
    pub resources: Vec<ResourceSpec>,
}

impl Default for NodeResourcesFitSettings {
    fn default() -> Self {
        NodeResourcesFitSettings {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            strategy: ScoringStrategyType::LeastAllocated,
            resources: default_resources(),
        }
    }
}

impl NodeResourcesFitArgs {
    /// Default and validate (upstream's `ValidateNodeResourcesFitArgs`).
    pub fn settings(&self) -> Result<NodeResourcesFitSettings, ArgsError> {
        let strategy = self.scoring_strategy.clone().unwrap_or_default();
        let resources = match &strategy.resources {
            Some(r) if !r.is_empty() => validate_resources(r, "scoringStrategy.resources")?,
            _ => default_resources(),
        };
        let type_ = match strategy.type_.as_deref().unwrap_or("LeastAllocated") {
            "" | "LeastAllocated" => ScoringStrategyType::LeastAllocated,
            "MostAllocated" => ScoringStrategyType::MostAllocated,
            "RequestedToCapacityRatio" => {
                let shape = strategy
                    .requested_to_capacity_ratio
                    .map(|r| r.shape)
                    .unwrap_or_default();
                validate_shape(&shape)?;
                ScoringStrategyType::RequestedToCapacityRatio(shape)
            }
            other => {
                return Err(invalid(
                    "scoringStrategy.type",
                    format!(
                        "Unsupported value: {other:?}: supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""
                    ),
                ))
            }
        };
        for (i, g) in self.ignored_resource_groups.iter().enumerate() {
            if g.contains('/') {
                return Err(invalid(
                    format!("ignoredResourceGroups[{i}]"),
                    format!("Invalid value: {g:?}: resource group name can't contain '/'"),
                ));
            }
        }
        Ok(NodeResourcesFitSettings {
            ignored_resources: self.ignored_resources.clone(),
            ignored_resource_groups: self.ignored_resource_groups.clone(),
            strategy: type_,
            resources,
        })
    }
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BalancedAllocationArgs {
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// The resources whose shares are balanced; default cpu and memory.
    #[serde(default)]
    pub resources: Option<Vec<ResourceSpec>>,
}

impl BalancedAllocationArgs {
    /// The resource names after defaulting and validation (weights do not matter here).
    pub fn resources(&self) -> Result<Vec<String>, ArgsError> {
        let resources = match &self.resources {
            Some(r) if !r.is_empty() => validate_resources(r, "resources")?,
            _ => default_resources(),
        };
        Ok(resources.into_iter().map(|r| r.name).collect())
    }
}

/// `InterPodAffinityArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterPodAffinityArgs {
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// What an existing pod's required affinity to the incoming pod adds to the score;
    /// default 1, 0..=100.
    #[serde(default)]
    pub hard_pod_affinity_weight: Option<i64>,
    /// Score only by the incoming pod's preferred terms.
    #[serde(default)]
    pub ignore_preferred_terms_of_existing_pods: bool,
}

/// InterPodAffinity's settings after defaulting and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterPodAffinitySettings {
    /// `hardPodAffinityWeight`.
    pub hard_pod_affinity_weight: i64,
    /// `ignorePreferredTermsOfExistingPods`.
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinitySettings {
    fn default() -> Self {
        InterPodAffinitySettings {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

impl InterPodAffinityArgs {
    /// Default and validate.
    pub fn settings(&self) -> Result<InterPodAffinitySettings, ArgsError> {
        let weight = self.hard_pod_affinity_weight.unwrap_or(1);
        if !(0..=100).contains(&weight) {
            return Err(invalid(
                "hardPodAffinityWeight",
                format!("Invalid value: {weight}: not in valid range [0, 100]"),
            ));
        }
        Ok(InterPodAffinitySettings {
            hard_pod_affinity_weight: weight,
            ignore_preferred_terms_of_existing_pods: self.ignore_preferred_terms_of_existing_pods,
        })
    }
}

/// `PodTopologySpreadArgs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTopologySpreadArgs {
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Constraints for pods that carry none (`defaultingType: List`).
    #[serde(default)]
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// `System` (default) or `List`.
    #[serde(default)]
    pub defaulting_type: Option<String>,
}

impl PodTopologySpreadArgs {
    /// Upstream's `ValidatePodTopologySpreadArgs`.
    pub fn validate(&self) -> Result<(), ArgsError> {
        let type_ = self.defaulting_type.as_deref().unwrap_or("System");
        match type_ {
            "System" | "" => {
                if !self.default_constraints.is_empty() {
                    return Err(invalid(
                        "defaultConstraints",
                        "Invalid value: when .defaultingType is \"System\", .defaultConstraints must be empty",
                    ));
                }
            }
            "List" => {}
            other => {
                return Err(invalid(
                    "defaultingType",
                    format!("Unsupported value: {other:?}: supported values: \"List\", \"System\""),
                ))
            }
        }
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (i, c) in self.default_constraints.iter().enumerate() {
            let f = |name: &str| format!("defaultConstraints[{i}].{name}");
            if c.max_skew <= 0 {
                return Err(invalid(
                    f("maxSkew"),
                    format!("Invalid value: {}: not in valid range [1, inf)", c.max_skew),
                ));
            }
            if c.topology_key.is_empty() {
                return Err(invalid(
                    f("topologyKey"),
                    "Required value: can not be empty",
                ));
            }
            if !matches!(
                c.when_unsatisfiable.as_str(),
                "DoNotSchedule" | "ScheduleAnyway"
            ) {
                return Err(invalid(
                    f("whenUnsatisfiable"),
                    format!(
                        "Unsupported value: {:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\"",
                        c.when_unsatisfiable
                    ),
                ));
            }
            if c.label_selector.is_some() {
                return Err(invalid(
                    f("labelSelector"),
                    "Forbidden: constraint must not define a selector, as they deduced for each pod",
                ));
            }
            let pair = (c.topology_key.as_str(), c.when_unsatisfiable.as_str());
            if seen.contains(&pair) {
                return Err(invalid(
                    f("{topologyKey, whenUnsatisfiable}"),
                    format!("Duplicate value: {{{:?}, {:?}}}", pair.0, pair.1),
                ));
            }
            seen.push(pair);
        }
        Ok(())
    }

    /// The constraints for pods without their own, and whether they are upstream's system
    /// defaults (`defaultingType: System`, the default).
    pub fn defaults(&self) -> (Vec<TopologySpreadConstraint>, bool) {
        match self.defaulting_type.as_deref().unwrap_or("System") {
            "System" | "" => (
                crate::framework::plugins::pod_topology_spread::system_default_constraints(),
                true,
            ),
            _ => (self.default_constraints.clone(), false),
        }
    }
}

/// `DefaultPreemptionArgs`. Validated; this scheduler's preemption already dry-runs every
/// node that could help, which is at least what these bounds ask for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultPreemptionArgs {
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// 0..=100, default 10.
    #[serde(default)]
    pub min_candidate_nodes_percentage: Option<i32>,
    /// >= 0, default 100.
    #[serde(default)]
    pub min_candidate_nodes_absolute: Option<i32>,
}

impl DefaultPreemptionArgs {
    /// Upstream's `ValidateDefaultPreemptionArgs`.
    pub fn validate(&self) -> Result<(), ArgsError> {
        let pct = self.min_candidate_nodes_percentage.unwrap_or(10);
        let abs = self.min_candidate_nodes_absolute.unwrap_or(100);
        if !(0..=100).contains(&pct) {
            return Err(invalid(
                "minCandidateNodesPercentage",
                format!("Invalid value: {pct}: not in valid range [0, 100]"),
            ));
        }
        if abs < 0 {
            return Err(invalid(
                "minCandidateNodesAbsolute",
                format!("Invalid value: {abs}: not in valid range [0, inf)"),
            ));
        }
        if pct == 0 && abs == 0 {
            return Err(invalid(
                "minCandidateNodesPercentage",
                "Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute",
            ));
        }
        Ok(())
    }
}

/// `VolumeBindingArgs`: how long PreBind waits for the PV controller to finish binding.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeBindingArgs {
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub api_version: Option<String>,
    /// See [`NodeResourcesFitArgs::api_version`].
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<String>,
    /// Seconds, >= 0, default 600.
    #[serde(default)]
    pub bind_timeout_seconds: Option<i64>,
    /// Scoring by storage capacity; upstream accepts it only with the
    /// `StorageCapacityScoring` feature gate (off by default in v1.33).
    #[serde(default)]
    pub shape: Option<serde_yaml::Value>,
}

impl VolumeBindingArgs {
    /// Upstream's `ValidateVolumeBindingArgs`, returning the bind timeout.
    pub fn bind_timeout(&self) -> Result<std::time::Duration, ArgsError> {
        let secs = self.bind_timeout_seconds.unwrap_or(600);
        if secs < 0 {
            return Err(invalid(
                "bindTimeoutSeconds",
                format!("Invalid value: {secs}: invalid BindTimeoutSeconds, should not be a negative value"),
            ));
        }
        if self.shape.as_ref().is_some_and(|s| !s.is_null()) {
            return Err(invalid(
                "shape",
                "Invalid value: shape: unsupported when the StorageCapacityScoring feature gate is disabled",
            ));
        }
        Ok(std::time::Duration::from_secs(secs.unsigned_abs()))
    }
}

/// Decode `args` (absent: all defaults) strictly into `T`; a decoding error names the
/// offending field as serde reports it.
pub fn decode<T: Default + for<'de> Deserialize<'de>>(
    args: &serde_yaml::Value,
) -> Result<T, ArgsError> {
    if args.is_null() {
        return Ok(T::default());
    }
    serde_yaml::from_value(args.clone()).map_err(|e| invalid("", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(yaml: &str) -> Result<NodeResourcesFitSettings, ArgsError> {
        let v: serde_yaml::Value = serde_yaml::from_str(yaml).expect("yaml");
        decode::<NodeResourcesFitArgs>(&v)?.settings()
    }

    #[test]
    fn fit_defaults_and_strategies() {
        assert_eq!(fit("{}"), Ok(NodeResourcesFitSettings::default()));
        let most = fit(
            "scoringStrategy:\n  type: MostAllocated\n  resources:\n  - name: cpu\n    weight: 3\n",
        )
        .expect("valid");
        assert_eq!(most.strategy, ScoringStrategyType::MostAllocated);
        assert_eq!(
            most.resources,
            vec![ResourceSpec {
                name: "cpu".into(),
                weight: 3
            }]
        );
        let ratio = fit("scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape:\n    - {utilization: 0, score: 10}\n    - {utilization: 100, score: 0}\n")
            .expect("valid");
        assert!(matches!(
            ratio.strategy,
            ScoringStrategyType::RequestedToCapacityRatio(ref s) if s.len() == 2
        ));
    }

    #[test]
    fn fit_errors_name_the_field() {
        let e = fit("scoringStrategy:\n  type: Fullest\n").unwrap_err();
        assert_eq!(e.field, "scoringStrategy.type");
        let e = fit("scoringStrategy:\n  type: RequestedToCapacityRatio\n").unwrap_err();
        assert_eq!(e.field, "scoringStrategy.requestedToCapacityRatio.shape");
        let e = fit("scoringStrategy:\n  type: RequestedToCapacityRatio\n  requestedToCapacityRatio:\n    shape:\n    - {utilization: 50, score: 11}\n")
            .unwrap_err();
        assert_eq!(
            e.field,
            "scoringStrategy.requestedToCapacityRatio.shape[0].score"
        );
        let e =
            fit("scoringStrategy:\n  resources:\n  - name: cpu\n    weight: 101\n").unwrap_err();
        assert_eq!(e.field, "scoringStrategy.resources[0].weight");
        let e = fit("scoringStrategy:\n  typo: MostAllocated\n").unwrap_err();
        assert!(e.message.contains("unknown field `typo`"), "{e}");
    }

    #[test]
    fn other_args() {
        let v: serde_yaml::Value =
            serde_yaml::from_str("hardPodAffinityWeight: 101").expect("yaml");
        let e = decode::<InterPodAffinityArgs>(&v)
            .expect("decodes")
            .settings()
            .unwrap_err();
        assert_eq!(e.field, "hardPodAffinityWeight");
        let v: serde_yaml::Value = serde_yaml::from_str("defaultingType: Sometimes").expect("yaml");
        assert_eq!(
            decode::<PodTopologySpreadArgs>(&v)
                .expect("decodes")
                .validate()
                .unwrap_err()
                .field,
            "defaultingType"
        );
        let v: serde_yaml::Value =
            serde_yaml::from_str("minCandidateNodesPercentage: 0\nminCandidateNodesAbsolute: 0")
                .expect("yaml");
        assert!(decode::<DefaultPreemptionArgs>(&v)
            .expect("decodes")
            .validate()
            .is_err());
    }
}
