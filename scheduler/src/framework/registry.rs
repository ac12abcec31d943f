//! The in-tree plugin registry (upstream's `plugins/registry.go`): every plugin name a
//! profile may use, the extension points it implements, and how its filter and score are
//! built from its `pluginConfig` args.
//!
//! Plugins upstream ships that Rudder does not implement yet (the volume plugins other than
//! VolumeBinding; `SchedulingGates`, which the informers already honour) are known names
//! with no effect, so upstream's default configuration and configs naming them stay valid.

use super::handle::Handle;
use super::plugin_args::{
    decode, ArgsError, BalancedAllocationArgs, DefaultPreemptionArgs, InterPodAffinityArgs,
    NodeResourcesFitArgs, PodTopologySpreadArgs, VolumeBindingArgs,
};
use super::plugins::{
    balanced_allocation::BalancedAllocation, image_locality::ImageLocality,
    inter_pod_affinity::InterPodAffinity, node_affinity::NodeAffinity, node_name::NodeName,
    node_ports::NodePorts, node_resources_fit::NodeResourcesFit,
    node_unschedulable::NodeUnschedulable, pod_topology_spread::PodTopologySpread,
    taint_toleration::TaintToleration, volume_binding::VolumeBinding,
};
use super::{FilterPlugin, ReservePlugin, ScorePlugin};

/// An extension point of the framework, named as the config file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionPoint {
    /// `preEnqueue`.
    PreEnqueue,
    /// `queueSort`.
    QueueSort,
    /// `preFilter`.
    PreFilter,
    /// `filter`.
    Filter,
    /// `postFilter`.
    PostFilter,
    /// `preScore`.
    PreScore,
    /// `score`.
    Score,
    /// `reserve`.
    Reserve,
    /// `permit`.
    Permit,
    /// `preBind`.
    PreBind,
    /// `bind`.
    Bind,
    /// `postBind`.
    PostBind,
}

impl ExtensionPoint {
    /// Every point, in the order the framework runs them.
    pub const ALL: [ExtensionPoint; 12] = [
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::QueueSort,
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::Reserve,
        ExtensionPoint::Permit,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
    ];

    /// The field name in `plugins`.
    pub fn field(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "preEnqueue",
            ExtensionPoint::QueueSort => "queueSort",
            ExtensionPoint::PreFilter => "preFilter",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::PostFilter => "postFilter",
            ExtensionPoint::PreScore => "preScore",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Reserve => "reserve",
            ExtensionPoint::Permit => "permit",
            ExtensionPoint::PreBind => "preBind",
            ExtensionPoint::Bind => "bind",
            ExtensionPoint::PostBind => "postBind",
        }
    }

    /// Upstream's interface name, for error messages (`FilterPlugin`).
    pub fn interface(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "PreEnqueuePlugin",
            ExtensionPoint::QueueSort => "QueueSortPlugin",
            ExtensionPoint::PreFilter => "PreFilterPlugin",
            ExtensionPoint::Filter => "FilterPlugin",
            ExtensionPoint::PostFilter => "PostFilterPlugin",
            ExtensionPoint::PreScore => "PreScorePlugin",
            ExtensionPoint::Score => "ScorePlugin",
            ExtensionPoint::Reserve => "ReservePlugin",
            ExtensionPoint::Permit => "PermitPlugin",
            ExtensionPoint::PreBind => "PreBindPlugin",
            ExtensionPoint::Bind => "BindPlugin",
            ExtensionPoint::PostBind => "PostBindPlugin",
        }
    }
}

use ExtensionPoint as E;

/// A registered plugin: its name and the points it implements.
#[derive(Debug, Clone, Copy)]
pub struct PluginSpec {
    /// Upstream's name.
    pub name: &'static str,
    /// Extension points it implements.
    pub points: &'static [ExtensionPoint],
    /// Whether Rudder implements it (otherwise it is accepted and does nothing).
    pub implemented: bool,
}

const fn spec(name: &'static str, points: &'static [E], implemented: bool) -> PluginSpec {
    PluginSpec {
        name,
        points,
        implemented,
    }
}

/// Every in-tree plugin.
pub const REGISTRY: &[PluginSpec] = &[
    spec("PrioritySort", &[E::QueueSort], true),
    spec("SchedulingGates", &[E::PreEnqueue], true),
    spec("NodeUnschedulable", &[E::Filter], true),
    spec("NodeName", &[E::Filter], true),
    spec("TaintToleration", &[E::Filter, E::PreScore, E::Score], true),
    spec(
        "NodeAffinity",
        &[E::PreFilter, E::Filter, E::PreScore, E::Score],
        true,
    ),
    spec("NodePorts", &[E::PreFilter, E::Filter], true),
    spec(
        "NodeResourcesFit",
        &[E::PreFilter, E::Filter, E::PreScore, E::Score],
        true,
    ),
    spec("VolumeRestrictions", &[E::PreFilter, E::Filter], false),
    spec("NodeVolumeLimits", &[E::PreFilter, E::Filter], false),
    spec("EBSLimits", &[E::PreFilter, E::Filter], false),
    spec("GCEPDLimits", &[E::PreFilter, E::Filter], false),
    spec("AzureDiskLimits", &[E::PreFilter, E::Filter], false),
    spec(
        "VolumeBinding",
        &[
            E::PreFilter,
            E::Filter,
            E::Reserve,
            E::PreBind,
            E::PreScore,
            E::Score,
        ],
        true,
    ),
    spec("VolumeZone", &[E::PreFilter, E::Filter], false),
    spec(
        "PodTopologySpread",
        &[E::PreFilter, E::Filter, E::PreScore, E::Score],
        true,
    ),
    spec(
        "InterPodAffinity",
        &[E::PreFilter, E::Filter, E::PreScore, E::Score],
        true,
    ),
    spec("DefaultPreemption", &[E::PostFilter], true),
    spec(
        "NodeResourcesBalancedAllocation",
        &[E::PreScore, E::Score],
        true,
    ),
    spec("ImageLocality", &[E::Score], true),
    spec("DefaultBinder", &[E::Bind], true),
];

/// The registered plugin called `name`.
pub fn lookup(name: &str) -> Option<&'static PluginSpec> {
    REGISTRY.iter().find(|p| p.name == name)
}

/// Upstream's default profile (`getDefaultPlugins`): everything in `multiPoint`, score
/// weights TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2,
/// NodeResourcesFit 1, NodeResourcesBalancedAllocation 1, ImageLocality 1.
pub const DEFAULT_MULTI_POINT: &[(&str, i32)] = &[
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
];

/// Validate `args` for the plugin `name` (plugins without args accept none).
pub fn validate_args(name: &str, args: &serde_yaml::Value) -> Result<(), ArgsError> {
    match name {
        "NodeResourcesFit" => decode::<NodeResourcesFitArgs>(args)?.settings().map(drop),
        "NodeResourcesBalancedAllocation" => decode::<BalancedAllocationArgs>(args)?
            .resources()
            .map(drop),
        "InterPodAffinity" => decode::<InterPodAffinityArgs>(args)?.settings().map(drop),
        "PodTopologySpread" => decode::<PodTopologySpreadArgs>(args)?.validate(),
        "DefaultPreemption" => decode::<DefaultPreemptionArgs>(args)?.validate(),
        "VolumeBinding" => decode::<VolumeBindingArgs>(args)?.bind_timeout().map(drop),
        // NodeAffinityArgs.addedAffinity is not applied yet:
        // accepting them would silently schedule differently than asked.
        _ if args.is_null() => Ok(()),
        _ => Err(ArgsError {
            field: String::new(),
            message: format!("Forbidden: args for plugin {name:?} are not supported"),
        }),
    }
}

/// The filter of plugin `name`, built from its (already validated) args and reading
/// `handle`'s stores; `None` for plugins without a filter or not implemented.
pub fn new_filter(
    name: &str,
    args: &serde_yaml::Value,
    handle: &Handle,
) -> Result<Option<Box<dyn FilterPlugin>>, ArgsError> {
    Ok(match name {
        "NodeUnschedulable" => Some(Box::new(NodeUnschedulable)),
        "NodeName" => Some(Box::new(NodeName)),
        "TaintToleration" => Some(Box::new(TaintToleration)),
        "NodeAffinity" => Some(Box::new(NodeAffinity)),
        "NodePorts" => Some(Box::new(NodePorts)),
        "NodeResourcesFit" => Some(Box::new(NodeResourcesFit::new(
            decode::<NodeResourcesFitArgs>(args)?.settings()?,
        ))),
        "PodTopologySpread" => {
            let (defaults, system) = decode::<PodTopologySpreadArgs>(args)?.defaults();
            Some(Box::new(PodTopologySpread::new(
                defaults,
                system,
                handle.clone(),
            )))
        }
        "InterPodAffinity" => Some(Box::new(InterPodAffinity {
            settings: decode::<InterPodAffinityArgs>(args)?.settings()?,
        })),
        "VolumeBinding" => Some(Box::new(VolumeBinding::new(
            handle.clone(),
            decode::<VolumeBindingArgs>(args)?.bind_timeout()?,
        ))),
        _ => None,
    })
}

/// The Reserve/PreBind plugin `name`, as [`new_filter`].
pub fn new_reserve(
    name: &str,
    args: &serde_yaml::Value,
    handle: &Handle,
) -> Result<Option<Box<dyn ReservePlugin>>, ArgsError> {
    Ok(match name {
        "VolumeBinding" => Some(Box::new(VolumeBinding::new(
            handle.clone(),
            decode::<VolumeBindingArgs>(args)?.bind_timeout()?,
        ))),
        _ => None,
    })
}

/// The score of plugin `name`, as [`new_filter`].
pub fn new_score(
    name: &str,
    args: &serde_yaml::Value,
    handle: &Handle,
) -> Result<Option<Box<dyn ScorePlugin>>, ArgsError> {
    Ok(match name {
        "TaintToleration" => Some(Box::new(TaintToleration)),
        "NodeAffinity" => Some(Box::new(NodeAffinity)),
        "NodeResourcesFit" => Some(Box::new(NodeResourcesFit::new(
            decode::<NodeResourcesFitArgs>(args)?.settings()?,
        ))),
        "PodTopologySpread" => {
            let (defaults, system) = decode::<PodTopologySpreadArgs>(args)?.defaults();
            Some(Box::new(PodTopologySpread::new(
                defaults,
                system,
                handle.clone(),
            )))
        }
        "InterPodAffinity" => Some(Box::new(InterPodAffinity {
            settings: decode::<InterPodAffinityArgs>(args)?.settings()?,
        })),
        "NodeResourcesBalancedAllocation" => Some(Box::new(BalancedAllocation {
            resources: decode::<BalancedAllocationArgs>(args)?.resources()?,
        })),
        "ImageLocality" => Some(Box::new(ImageLocality)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_registered_and_built() {
        let null = serde_yaml::Value::Null;
        let handle = Handle::empty();
        for (name, weight) in DEFAULT_MULTI_POINT {
            let spec = lookup(name).expect("registered");
            // VolumeBinding's score (storage capacity) is behind an alpha feature gate
            // upstream: registered at Score, weightless by default, and built as no score.
            let scores = spec.points.contains(&E::Score) && *name != "VolumeBinding";
            if spec.implemented {
                assert_eq!(scores, *weight > 0, "{name}");
                assert_eq!(
                    new_filter(name, &null, &handle).expect("args").is_some(),
                    spec.points.contains(&E::Filter),
                    "{name}"
                );
                assert_eq!(
                    new_score(name, &null, &handle).expect("args").is_some(),
                    scores,
                    "{name}"
                );
                assert_eq!(
                    new_reserve(name, &null, &handle).expect("args").is_some(),
                    spec.points.contains(&E::Reserve),
                    "{name}"
                );
            }
        }
    }
}
