//! Profiles (upstream's `pkg/scheduler/profile` with the v1 defaulting of
//! `apis/config/v1/default_plugins.go` and the framework's multiPoint expansion): each
//! `profiles[]` entry becomes its own [`Framework`], reached through its `schedulerName`.
//!
//! How a profile's `plugins` combine with the defaults, as upstream:
//! 1. Per extension point (and for `multiPoint`), the user's set is merged over the
//!    default set: `disabled: [{name: "*"}]` drops every default, a disabled name drops that
//!    default, an enabled name that is a default replaces it in place (its weight wins), other
//!    enabled names are appended.
//! 2. Each `multiPoint` plugin is then enabled at every extension point it implements, unless
//!    that point disables it (or `*`), or names it itself (the point's own entry wins).
//! 3. A score weight of 0 means 1.

use std::collections::HashMap;

use crate::config::{PluginConfig, PluginRef, PluginSet, Plugins, ProfileConfig};
use crate::framework::handle::Handle;
use crate::framework::registry::{self, ExtensionPoint, DEFAULT_MULTI_POINT};
use crate::framework::runtime::Framework;
use crate::framework::{FilterPlugin, ReservePlugin, ScorePlugin};

/// Why a profile could not be built; names the field as upstream's validation does.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProfileError {
    /// The field (`profiles[1].plugins.filter.enabled[0].name`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn error(field: String, message: impl Into<String>) -> ProfileError {
    ProfileError {
        field,
        message: message.into(),
    }
}

/// Upstream's `MaxTotalScore` guard: weights × 100 summed must fit an i64 comfortably;
/// bounding each weight keeps the totals exact.
const MAX_WEIGHT: i32 = 1_000_000;

fn points_set(plugins: &Plugins, point: ExtensionPoint) -> &PluginSet {
    match point {
        ExtensionPoint::PreEnqueue => &plugins.pre_enqueue,
        ExtensionPoint::QueueSort => &plugins.queue_sort,
        ExtensionPoint::PreFilter => &plugins.pre_filter,
        ExtensionPoint::Filter => &plugins.filter,
        ExtensionPoint::PostFilter => &plugins.post_filter,
        ExtensionPoint::PreScore => &plugins.pre_score,
        ExtensionPoint::Score => &plugins.score,
        ExtensionPoint::Reserve => &plugins.reserve,
        ExtensionPoint::Permit => &plugins.permit,
        ExtensionPoint::PreBind => &plugins.pre_bind,
        ExtensionPoint::Bind => &plugins.bind,
        ExtensionPoint::PostBind => &plugins.post_bind,
    }
}

/// Step 1: the user's set over the default set (upstream's `mergePluginSet`).
fn merge(defaults: &[PluginRef], custom: &PluginSet) -> PluginSet {
    let disabled_all = custom.disabled.iter().any(|p| p.name == "*");
    let mut replaced = vec![false; custom.enabled.len()];
    let mut enabled = Vec::new();
    if !disabled_all {
        for d in defaults {
            if custom.disabled.iter().any(|p| p.name == d.name) {
                continue;
            }
            match custom.enabled.iter().position(|p| p.name == d.name) {
                Some(i) => {
                    replaced[i] = true;
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(d.clone()),
            }
        }
    }
    for (i, p) in custom.enabled.iter().enumerate() {
        if !replaced[i] {
            enabled.push(p.clone());
        }
    }
    PluginSet {
        enabled,
        disabled: custom.disabled.clone(),
    }
}

/// A plugin resolved at one extension point.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Enabled {
    name: String,
    weight: i32,
}

/// Step 2: the plugins running at `point` (upstream's `expandMultiPointPlugins` order:
/// the point's own entries that override a multiPoint plugin, then the multiPoint
/// plugins, then the point's other entries).
fn expand(
    multi: &PluginSet,
    own: &PluginSet,
    point: ExtensionPoint,
    path: &str,
) -> Result<Vec<Enabled>, ProfileError> {
    let field = format!("{path}.plugins.{}", point.field());
    for (i, p) in own.enabled.iter().enumerate() {
        let spec = registry::lookup(&p.name).ok_or_else(|| {
            error(
                format!("{field}.enabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: {} {:?} does not exist",
                    p.name,
                    point.interface(),
                    p.name
                ),
            )
        })?;
        if !spec.points.contains(&point) {
            return Err(error(
                format!("{field}.enabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} does not extend {} plugin",
                    p.name,
                    p.name,
                    point.interface()
                ),
            ));
        }
        if own.enabled[..i].iter().any(|q| q.name == p.name) {
            return Err(error(
                format!("{field}.enabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} already registered as {:?}",
                    p.name,
                    p.name,
                    point.interface()
                ),
            ));
        }
    }
    for (i, p) in own.disabled.iter().enumerate() {
        if p.name != "*" && registry::lookup(&p.name).is_none() {
            return Err(error(
                format!("{field}.disabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} does not exist",
                    p.name, p.name
                ),
            ));
        }
    }
    let mut overrides = Vec::new();
    let mut from_multi = Vec::new();
    let all_disabled = own.disabled.iter().any(|p| p.name == "*");
    if !all_disabled {
        for p in &multi.enabled {
            // Names were checked when multiPoint was validated.
            let Some(spec) = registry::lookup(&p.name) else {
                continue;
            };
            if !spec.points.contains(&point) || own.disabled.iter().any(|d| d.name == p.name) {
                continue;
            }
            if own.enabled.iter().any(|o| o.name == p.name) {
                overrides.push(p.name.clone());
                continue;
            }
            from_multi.push(Enabled {
                name: p.name.clone(),
                weight: p.weight,
            });
        }
    }
    let own_entry = |name: &str| {
        own.enabled
            .iter()
            .find(|o| o.name == name)
            .map(|o| Enabled {
                name: o.name.clone(),
                weight: o.weight,
            })
    };
    let mut out: Vec<Enabled> = overrides.iter().filter_map(|n| own_entry(n)).collect();
    out.extend(from_multi);
    for o in &own.enabled {
        if !overrides.contains(&o.name) {
            out.push(Enabled {
                name: o.name.clone(),
                weight: o.weight,
            });
        }
    }
    Ok(out)
}

/// The defaulted plugins of a profile: upstream's default multiPoint set with the user's
/// plugins merged over every point.
fn merged_plugins(user: &Plugins) -> (PluginSet, HashMap<ExtensionPoint, PluginSet>) {
    let defaults: Vec<PluginRef> = DEFAULT_MULTI_POINT
        .iter()
        .map(|(name, weight)| PluginRef {
            name: (*name).to_string(),
            weight: *weight,
        })
        .collect();
    let multi = merge(&defaults, &user.multi_point);
    let points = ExtensionPoint::ALL
        .iter()
        .map(|&p| (p, merge(&[], points_set(user, p))))
        .collect();
    (multi, points)
}

/// The plugins each extension point of a profile runs, with score weights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedPlugins {
    points: HashMap<ExtensionPoint, Vec<Enabled>>,
}

impl ResolvedPlugins {
    /// Names enabled at `point`, in order.
    pub fn names(&self, point: ExtensionPoint) -> Vec<&str> {
        self.points
            .get(&point)
            .into_iter()
            .flatten()
            .map(|e| e.name.as_str())
            .collect()
    }

    /// `(name, weight)` of the score plugins, weight 0 read as 1.
    pub fn score_weights(&self) -> Vec<(&str, i64)> {
        self.points
            .get(&ExtensionPoint::Score)
            .into_iter()
            .flatten()
            .map(|e| (e.name.as_str(), i64::from(e.weight.max(1))))
            .collect()
    }
}

/// Steps 1–3 and the checks upstream's framework makes at start: every named plugin
/// exists and implements the point it is named at, weights are sane, exactly one
/// queueSort and at least one bind plugin.
pub fn resolve(profile: &ProfileConfig, path: &str) -> Result<ResolvedPlugins, ProfileError> {
    let (multi, points) = merged_plugins(&profile.plugins);
    // Checked as written, so the index is the user's.
    let user_multi = &profile.plugins.multi_point;
    for (i, p) in user_multi.disabled.iter().enumerate() {
        if p.name != "*" && registry::lookup(&p.name).is_none() {
            return Err(error(
                format!("{path}.plugins.multiPoint.disabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} does not exist",
                    p.name, p.name
                ),
            ));
        }
    }
    for (i, p) in user_multi.enabled.iter().enumerate() {
        if registry::lookup(&p.name).is_none() {
            return Err(error(
                format!("{path}.plugins.multiPoint.enabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} does not exist",
                    p.name, p.name
                ),
            ));
        }
        if user_multi.enabled[..i].iter().any(|q| q.name == p.name) {
            return Err(error(
                format!("{path}.plugins.multiPoint.enabled[{i}].name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} already registered",
                    p.name, p.name
                ),
            ));
        }
    }
    let mut resolved = ResolvedPlugins::default();
    for point in ExtensionPoint::ALL {
        let own = &points[&point];
        let enabled = expand(&multi, own, point, path)?;
        resolved.points.insert(point, enabled);
    }
    for (i, p) in profile.plugins.score.enabled.iter().enumerate() {
        check_weight(
            p.weight,
            format!("{path}.plugins.score.enabled[{i}].weight"),
        )?;
    }
    for (i, p) in profile.plugins.multi_point.enabled.iter().enumerate() {
        check_weight(
            p.weight,
            format!("{path}.plugins.multiPoint.enabled[{i}].weight"),
        )?;
    }
    let queue_sort = resolved.names(ExtensionPoint::QueueSort).len();
    if queue_sort != 1 {
        return Err(error(
            format!("{path}.plugins.queueSort"),
            format!(
                "Invalid value: {queue_sort} plugins: exactly one queue sort plugin is required"
            ),
        ));
    }
    if resolved.names(ExtensionPoint::Bind).is_empty() {
        return Err(error(
            format!("{path}.plugins.bind"),
            "Required value: at least one bind plugin is needed",
        ));
    }
    Ok(resolved)
}

fn check_weight(weight: i32, field: String) -> Result<(), ProfileError> {
    if (0..=MAX_WEIGHT).contains(&weight) {
        return Ok(());
    }
    Err(error(
        field,
        format!("Invalid value: {weight}: not in valid range [0, {MAX_WEIGHT}]"),
    ))
}

/// The args of `name` in `pluginConfig` (null when absent).
fn args_of<'a>(configs: &'a [PluginConfig], name: &str) -> &'a serde_yaml::Value {
    static NULL: serde_yaml::Value = serde_yaml::Value::Null;
    configs
        .iter()
        .find(|c| c.name == name)
        .map(|c| &c.args)
        .unwrap_or(&NULL)
}

/// Build one framework per profile; the first error names its field
/// (`profiles[1].pluginConfig[0].args.scoringStrategy.type: Unsupported value: …`).
pub fn build_frameworks(
    profiles: &[ProfileConfig],
    handle: &Handle,
) -> Result<Vec<Framework>, ProfileError> {
    profiles
        .iter()
        .enumerate()
        .map(|(i, p)| build(p, &format!("profiles[{i}]"), handle))
        .collect()
}

/// One profile's framework; its plugins read `handle`'s stores.
pub fn build(
    profile: &ProfileConfig,
    path: &str,
    handle: &Handle,
) -> Result<Framework, ProfileError> {
    for (j, c) in profile.plugin_config.iter().enumerate() {
        let field = format!("{path}.pluginConfig[{j}]");
        if registry::lookup(&c.name).is_none() {
            return Err(error(
                format!("{field}.name"),
                format!(
                    "Invalid value: {:?}: plugin {:?} does not exist",
                    c.name, c.name
                ),
            ));
        }
        if profile.plugin_config[..j].iter().any(|o| o.name == c.name) {
            return Err(error(field, format!("Duplicate value: {:?}", c.name)));
        }
        registry::validate_args(&c.name, &c.args).map_err(|e| {
            let sub = if e.field.is_empty() {
                String::new()
            } else {
                format!(".{}", e.field)
            };
            error(format!("{field}.args{sub}"), e.message)
        })?;
    }
    let resolved = resolve(profile, path)?;
    let to_err = |name: &str, e: crate::framework::plugin_args::ArgsError| {
        error(
            format!("{path}.pluginConfig[{name}].args.{}", e.field),
            e.message,
        )
    };
    let mut filters: Vec<Box<dyn FilterPlugin>> = Vec::new();
    for name in resolved.names(ExtensionPoint::Filter) {
        let args = args_of(&profile.plugin_config, name);
        if let Some(f) = registry::new_filter(name, args, handle).map_err(|e| to_err(name, e))? {
            filters.push(f);
        }
    }
    let mut reserves: Vec<Box<dyn ReservePlugin>> = Vec::new();
    for name in resolved.names(ExtensionPoint::Reserve) {
        let args = args_of(&profile.plugin_config, name);
        if let Some(r) = registry::new_reserve(name, args, handle).map_err(|e| to_err(name, e))? {
            reserves.push(r);
        }
    }
    let mut scores: Vec<(Box<dyn ScorePlugin>, i64)> = Vec::new();
    for (name, weight) in resolved.score_weights() {
        let args = args_of(&profile.plugin_config, name);
        if let Some(s) = registry::new_score(name, args, handle).map_err(|e| to_err(name, e))? {
            scores.push((s, weight));
        }
    }
    let preemption = resolved
        .names(ExtensionPoint::PostFilter)
        .contains(&"DefaultPreemption");
    for point in ExtensionPoint::ALL {
        for name in resolved.names(point) {
            if registry::lookup(name).is_some_and(|s| !s.implemented) {
                tracing::debug!(
                    profile = profile.name(),
                    plugin = name,
                    "plugin not implemented; it has no effect"
                );
            }
        }
    }
    Ok(Framework::new(
        profile.name(),
        profile.percentage_of_nodes_to_score,
        filters,
        scores,
        reserves,
        preemption,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(yaml: &str) -> ProfileConfig {
        serde_yaml::from_str(yaml).expect("profile yaml")
    }

    #[test]
    fn defaults_match_upstream() {
        let r = resolve(&ProfileConfig::named("default-scheduler"), "profiles[0]").expect("valid");
        assert_eq!(
            r.score_weights(),
            vec![
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("VolumeBinding", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1),
            ]
        );
        assert_eq!(
            r.names(ExtensionPoint::Filter),
            vec![
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity",
            ]
        );
        assert_eq!(
            r.names(ExtensionPoint::PostFilter),
            vec!["DefaultPreemption"]
        );
    }

    #[test]
    fn disabling_and_reweighting() {
        let p = profile(
            "schedulerName: x\nplugins:\n  filter:\n    disabled:\n    - name: TaintToleration\n  score:\n    enabled:\n    - name: NodeResourcesFit\n      weight: 7\n    disabled:\n    - name: ImageLocality\n",
        );
        let r = resolve(&p, "profiles[0]").expect("valid");
        assert!(!r.names(ExtensionPoint::Filter).contains(&"TaintToleration"));
        // Still scored: only its filter was disabled.
        assert!(r.score_weights().contains(&("TaintToleration", 3)));
        // The explicit entry overrides the multiPoint weight and comes first.
        assert_eq!(r.score_weights()[0], ("NodeResourcesFit", 7));
        assert!(!r.names(ExtensionPoint::Score).contains(&"ImageLocality"));

        let star = profile(
            "plugins:\n  score:\n    disabled:\n    - name: '*'\n    enabled:\n    - name: ImageLocality\n",
        );
        let r = resolve(&star, "profiles[0]").expect("valid");
        assert_eq!(r.score_weights(), vec![("ImageLocality", 1)]);

        let multi = profile(
            "plugins:\n  multiPoint:\n    enabled:\n    - name: TaintToleration\n      weight: 9\n    disabled:\n    - name: NodeAffinity\n",
        );
        let r = resolve(&multi, "profiles[0]").expect("valid");
        assert!(r.score_weights().contains(&("TaintToleration", 9)));
        assert!(!r.names(ExtensionPoint::Filter).contains(&"NodeAffinity"));
    }

    #[test]
    fn errors_name_the_field() {
        let err = |yaml: &str| {
            build(&profile(yaml), "profiles[1]", &Handle::empty())
                .err()
                .expect("invalid")
                .to_string()
        };
        assert!(err("plugins:\n  filter:\n    enabled:\n    - name: Nope\n")
            .starts_with("profiles[1].plugins.filter.enabled[0].name: Invalid value: \"Nope\""),);
        assert!(
            err("plugins:\n  filter:\n    enabled:\n    - name: ImageLocality\n")
                .contains("does not extend FilterPlugin")
        );
        assert!(
            err("plugins:\n  multiPoint:\n    enabled:\n    - name: Nope\n")
                .starts_with("profiles[1].plugins.multiPoint.enabled[0].name")
        );
        assert!(err("plugins:\n  bind:\n    disabled:\n    - name: '*'\n")
            .starts_with("profiles[1].plugins.bind: Required value"));
        assert!(err("pluginConfig:\n- name: NodeResourcesFit\n  args:\n    scoringStrategy:\n      type: Fullest\n")
            .starts_with("profiles[1].pluginConfig[0].args.scoringStrategy.type: Unsupported value: \"Fullest\""));
        assert!(
            err("pluginConfig:\n- name: Nope\n").starts_with("profiles[1].pluginConfig[0].name")
        );
        assert!(err(
            "plugins:\n  score:\n    enabled:\n    - name: ImageLocality\n      weight: -1\n"
        )
        .starts_with("profiles[1].plugins.score.enabled[0].weight"));
    }

    #[test]
    fn preemption_can_be_disabled() {
        let fw = build(
            &profile("plugins:\n  postFilter:\n    disabled:\n    - name: DefaultPreemption\n"),
            "profiles[0]",
            &Handle::empty(),
        )
        .expect("valid");
        assert!(!fw.preemption);
        assert!(
            build(&ProfileConfig::default(), "profiles[0]", &Handle::empty())
                .expect("valid")
                .preemption
        );
    }
}
