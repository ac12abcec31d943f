//! From the metrics' proposal to the replica count applied (upstream's
//! `normalizeDesiredReplicas` and `normalizeDesiredReplicasWithBehaviors`): stabilization
//! over recent recommendations, then the scale-rate limits (the default 2×/+4 rule without
//! `behavior`, the scaleUp/scaleDown policies with it), then min/maxReplicas. Each step
//! names the condition it sets. The memory (recommendations and scale events per HPA)
//! lives in [`History`], as upstream keeps it in the controller, not in the object.

use std::collections::HashMap;

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscalerBehavior};

/// A condition to set: (reason, message).
pub type Reason = (&'static str, &'static str);

const READY_FOR_NEW_SCALE: Reason = ("ReadyForNewScale", "recommended size matches current size");
const SCALE_DOWN_STABILIZED: Reason = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent recommendation",
);
const SCALE_UP_STABILIZED: Reason = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
);
const SCALE_UP_LIMIT: Reason = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
);
const SCALE_DOWN_LIMIT: Reason = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
);
const TOO_MANY: Reason = (
    "TooManyReplicas",
    "the desired replica count is more than the maximum replica count",
);
const TOO_FEW: Reason = (
    "TooFewReplicas",
    "the desired replica count is less than the minimum replica count",
);
const WITHIN_RANGE: Reason = (
    "DesiredWithinRange",
    "the desired count is within the acceptable range",
);

/// The outcome: the count to apply, the AbleToScale reason (stabilization) and the
/// ScalingLimited reason with whether the limit bit (status True).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalized {
    pub replicas: i32,
    pub able_to_scale: Reason,
    pub scaling_limited: Reason,
    pub limited: bool,
}

#[derive(Clone, Copy, Debug)]
struct Recommendation {
    at_ms: i64,
    replicas: i32,
}

#[derive(Clone, Copy, Debug)]
struct ScaleEvent {
    at_ms: i64,
    change: i32,
    outdated: bool,
}

/// What the controller remembers per HPA between syncs.
#[derive(Default)]
pub struct History {
    recommendations: HashMap<String, Vec<Recommendation>>,
    scale_up: HashMap<String, Vec<ScaleEvent>>,
    scale_down: HashMap<String, Vec<ScaleEvent>>,
}

/// The HPA-level inputs of one normalization.
pub struct Args<'a> {
    pub key: &'a str,
    pub behavior: Option<&'a HorizontalPodAutoscalerBehavior>,
    pub min: i32,
    pub max: i32,
    pub current: i32,
    pub desired: i32,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`, seconds.
    pub downscale_window_s: i64,
    pub now_ms: i64,
}

/// A scaling rule set with upstream's defaults filled in.
struct Rules {
    window_s: i64,
    select: String,
    /// (type, value, period seconds)
    policies: Vec<(String, i32, i64)>,
}

fn scale_up_rules(r: Option<&HPAScalingRules>) -> Rules {
    Rules {
        window_s: r
            .and_then(|r| r.stabilization_window_seconds)
            .map_or(0, i64::from),
        select: r
            .and_then(|r| r.select_policy.clone())
            .unwrap_or_else(|| "Max".into()),
        policies: policies(r)
            .unwrap_or_else(|| vec![("Pods".into(), 4, 15), ("Percent".into(), 100, 15)]),
    }
}

fn scale_down_rules(r: Option<&HPAScalingRules>, default_window_s: i64) -> Rules {
    Rules {
        window_s: r
            .and_then(|r| r.stabilization_window_seconds)
            .map_or(default_window_s, i64::from),
        select: r
            .and_then(|r| r.select_policy.clone())
            .unwrap_or_else(|| "Max".into()),
        policies: policies(r).unwrap_or_else(|| vec![("Percent".into(), 100, 15)]),
    }
}

fn policies(r: Option<&HPAScalingRules>) -> Option<Vec<(String, i32, i64)>> {
    let p = r?.policies.as_ref()?;
    Some(
        p.iter()
            .map(|p| (p.type_.clone(), p.value, i64::from(p.period_seconds)))
            .collect(),
    )
}

impl History {
    /// Normalize `args.desired` and, when the result differs from the current count,
    /// the caller applies it and calls [`History::record_scale`].
    pub fn normalize(&mut self, a: &Args) -> Normalized {
        match a.behavior {
            None => self.normalize_plain(a),
            Some(b) => self.normalize_with_behavior(a, b),
        }
    }

    /// Without `behavior`: the highest recommendation of the downscale window, then at most
    /// max(2 × current, 4), then min/max.
    fn normalize_plain(&mut self, a: &Args) -> Normalized {
        let cutoff = a.now_ms - a.downscale_window_s * 1000;
        let recs = self.recommendations.entry(a.key.to_string()).or_default();
        let mut stabilized = a.desired;
        let mut reused = None;
        for (i, r) in recs.iter().enumerate() {
            if r.at_ms > cutoff {
                stabilized = stabilized.max(r.replicas);
            } else {
                reused = Some(i);
            }
        }
        let rec = Recommendation {
            at_ms: a.now_ms,
            replicas: a.desired,
        };
        match reused {
            Some(i) => recs[i] = rec,
            None => recs.push(rec),
        }
        let able_to_scale = if stabilized != a.desired {
            SCALE_DOWN_STABILIZED
        } else {
            READY_FOR_NEW_SCALE
        };
        let scale_up_limit = (a.current.saturating_mul(2)).max(4);
        let (ceiling, ceiling_reason) = if a.max > scale_up_limit {
            (scale_up_limit, SCALE_UP_LIMIT)
        } else {
            (a.max, TOO_MANY)
        };
        let (replicas, reason) = if stabilized < a.min {
            (a.min, TOO_FEW)
        } else if stabilized > ceiling {
            (ceiling, ceiling_reason)
        } else {
            (stabilized, WITHIN_RANGE)
        };
        Normalized {
            replicas,
            able_to_scale,
            scaling_limited: reason,
            limited: replicas != stabilized,
        }
    }

    fn normalize_with_behavior(
        &mut self,
        a: &Args,
        b: &HorizontalPodAutoscalerBehavior,
    ) -> Normalized {
        let up = scale_up_rules(b.scale_up.as_ref());
        let down = scale_down_rules(b.scale_down.as_ref(), a.downscale_window_s);
        // Stabilization: scaling up takes the lowest recommendation of the up window,
        // scaling down the highest of the down window.
        let (window_s, stabilized_reason, up_direction) = if a.desired >= a.current {
            (up.window_s, SCALE_UP_STABILIZED, true)
        } else {
            (down.window_s, SCALE_DOWN_STABILIZED, false)
        };
        let obsolete = a.now_ms - up.window_s.max(down.window_s) * 1000;
        let cutoff = a.now_ms - window_s * 1000;
        let recs = self.recommendations.entry(a.key.to_string()).or_default();
        let mut stabilized = a.desired;
        let mut reused = None;
        for (i, r) in recs.iter().enumerate() {
            if r.at_ms > cutoff {
                stabilized = if up_direction {
                    stabilized.min(r.replicas)
                } else {
                    stabilized.max(r.replicas)
                };
            }
            if r.at_ms < obsolete {
                reused = Some(i);
            }
        }
        let rec = Recommendation {
            at_ms: a.now_ms,
            replicas: a.desired,
        };
        match reused {
            Some(i) => recs[i] = rec,
            None => recs.push(rec),
        }
        let able_to_scale = if stabilized != a.desired {
            stabilized_reason
        } else {
            READY_FOR_NEW_SCALE
        };

        let mut replicas = stabilized;
        let mut reason = WITHIN_RANGE;
        if stabilized > a.current {
            let events = self.scale_up.get(a.key).map(Vec::as_slice).unwrap_or(&[]);
            let limit = scale_up_limit(a.current, events, &up, a.now_ms).max(a.current);
            let (ceiling, ceiling_reason) = if a.max > limit {
                (limit, SCALE_UP_LIMIT)
            } else {
                (a.max, TOO_MANY)
            };
            if stabilized > ceiling {
                (replicas, reason) = (ceiling, ceiling_reason);
            }
        } else if stabilized < a.current {
            let events = self.scale_down.get(a.key).map(Vec::as_slice).unwrap_or(&[]);
            let limit = scale_down_limit(a.current, events, &down, a.now_ms).min(a.current);
            let (floor, floor_reason) = if a.min < limit {
                (limit, SCALE_DOWN_LIMIT)
            } else {
                (a.min, TOO_FEW)
            };
            if stabilized < floor {
                (replicas, reason) = (floor, floor_reason);
            }
        }
        Normalized {
            replicas,
            able_to_scale,
            scaling_limited: reason,
            limited: replicas != stabilized,
        }
    }

    /// Remember a rescale from `from` to `to` for the rate policies (only with `behavior`,
    /// as upstream).
    pub fn record_scale(
        &mut self,
        key: &str,
        behavior: Option<&HorizontalPodAutoscalerBehavior>,
        from: i32,
        to: i32,
        now_ms: i64,
    ) {
        let Some(b) = behavior else { return };
        let (events, rules) = if to > from {
            (&mut self.scale_up, scale_up_rules(b.scale_up.as_ref()))
        } else {
            (
                &mut self.scale_down,
                scale_down_rules(b.scale_down.as_ref(), 0),
            )
        };
        let longest = rules.policies.iter().map(|p| p.2).max().unwrap_or(0);
        let events = events.entry(key.to_string()).or_default();
        for e in events.iter_mut() {
            if e.at_ms <= now_ms - longest * 1000 {
                e.outdated = true;
            }
        }
        let event = ScaleEvent {
            at_ms: now_ms,
            change: (to - from).abs(),
            outdated: false,
        };
        match events.iter().position(|e| e.outdated) {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}

/// Replicas added (or removed) within the last `period_s`.
fn change_in_period(events: &[ScaleEvent], period_s: i64, now_ms: i64) -> i32 {
    let cutoff = now_ms - period_s * 1000;
    events
        .iter()
        .filter(|e| e.at_ms > cutoff)
        .map(|e| e.change)
        .sum()
}

/// upstream's `calculateScaleUpLimitWithScalingRules`.
fn scale_up_limit(current: i32, events: &[ScaleEvent], rules: &Rules, now_ms: i64) -> i32 {
    if rules.select == "Disabled" {
        return current;
    }
    let pick_min = rules.select == "Min";
    let mut result = if pick_min { i32::MAX } else { i32::MIN };
    for (kind, value, period) in &rules.policies {
        let start = current - change_in_period(events, *period, now_ms);
        let proposed = if kind == "Pods" {
            start + value
        } else {
            (f64::from(start) * (1.0 + f64::from(*value) / 100.0)).ceil() as i32
        };
        result = if pick_min {
            result.min(proposed)
        } else {
            result.max(proposed)
        };
    }
    result
}

/// upstream's `calculateScaleDownLimitWithBehaviors`.
fn scale_down_limit(current: i32, events: &[ScaleEvent], rules: &Rules, now_ms: i64) -> i32 {
    if rules.select == "Disabled" {
        return current;
    }
    let pick_min = rules.select == "Min";
    let mut result = if pick_min { i32::MIN } else { i32::MAX };
    for (kind, value, period) in &rules.policies {
        let start = current + change_in_period(events, *period, now_ms);
        let proposed = if kind == "Pods" {
            start - value
        } else {
            (f64::from(start) * (1.0 - f64::from(*value) / 100.0)) as i32
        };
        // "Min" selects the policy allowing the least change: the highest floor.
        result = if pick_min {
            result.max(proposed)
        } else {
            result.min(proposed)
        };
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;

    const T0: i64 = 1_000_000_000;

    fn args(
        current: i32,
        desired: i32,
        now_ms: i64,
        behavior: Option<&HorizontalPodAutoscalerBehavior>,
    ) -> Args<'_> {
        Args {
            key: "ns/hpa",
            behavior,
            min: 1,
            max: 100,
            current,
            desired,
            downscale_window_s: 300,
            now_ms,
        }
    }

    #[test]
    fn without_behavior_scale_up_is_capped_at_double_or_four() {
        let mut h = History::default();
        let n = h.normalize(&args(3, 20, T0, None));
        assert_eq!(n.replicas, 6);
        assert_eq!(n.scaling_limited.0, "ScaleUpLimit");
        assert!(n.limited);
        let n = h.normalize(&args(1, 20, T0, None));
        assert_eq!(n.replicas, 4);
    }

    #[test]
    fn without_behavior_scale_down_waits_for_the_window() {
        let mut h = History::default();
        assert_eq!(h.normalize(&args(10, 10, T0, None)).replicas, 10);
        let n = h.normalize(&args(10, 2, T0 + 60_000, None));
        assert_eq!(n.replicas, 10);
        assert_eq!(n.able_to_scale.0, "ScaleDownStabilized");
        // After the 300 s window the 10 has aged out; the 2 of 60 s is still inside.
        let n = h.normalize(&args(10, 2, T0 + 301_000, None));
        assert_eq!((n.replicas, n.able_to_scale.0), (2, "ReadyForNewScale"));
    }

    #[test]
    fn min_and_max_clamp_with_upstream_reasons() {
        let mut h = History::default();
        let mut a = args(5, 0, T0, None);
        a.min = 2;
        a.downscale_window_s = 0;
        let n = h.normalize(&a);
        assert_eq!(
            (n.replicas, n.scaling_limited.0, n.limited),
            (2, "TooFewReplicas", true)
        );
        let mut a = args(5, 9, T0, None);
        a.max = 8;
        let n = h.normalize(&a);
        assert_eq!((n.replicas, n.scaling_limited.0), (8, "TooManyReplicas"));
    }

    fn behavior(
        up: Vec<(&str, i32, i32)>,
        down_window: Option<i32>,
    ) -> HorizontalPodAutoscalerBehavior {
        let p = |v: Vec<(&str, i32, i32)>| {
            v.into_iter()
                .map(|(t, value, period)| HPAScalingPolicy {
                    type_: t.into(),
                    value,
                    period_seconds: period,
                })
                .collect()
        };
        HorizontalPodAutoscalerBehavior {
            scale_up: Some(HPAScalingRules {
                policies: Some(p(up)),
                select_policy: Some("Max".into()),
                stabilization_window_seconds: Some(0),
                ..Default::default()
            }),
            scale_down: Some(HPAScalingRules {
                stabilization_window_seconds: down_window,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn behavior_pods_policy_counts_scale_events_in_the_period() {
        let b = behavior(vec![("Pods", 2, 60)], Some(0));
        let mut h = History::default();
        let n = h.normalize(&args(3, 10, T0, Some(&b)));
        assert_eq!((n.replicas, n.scaling_limited.0), (5, "ScaleUpLimit"));
        h.record_scale("ns/hpa", Some(&b), 3, 5, T0);
        // 30 s later the 2 pods of this period are used up: no further growth.
        let n = h.normalize(&args(5, 10, T0 + 30_000, Some(&b)));
        assert_eq!(n.replicas, 5);
        // After the 60 s period: 2 more.
        let n = h.normalize(&args(5, 10, T0 + 61_000, Some(&b)));
        assert_eq!(n.replicas, 7);
    }

    #[test]
    fn behavior_default_scale_down_window_and_percent_policy() {
        let b = behavior(vec![("Percent", 100, 15)], None);
        let mut h = History::default();
        h.normalize(&args(8, 8, T0, Some(&b)));
        let n = h.normalize(&args(8, 1, T0 + 10_000, Some(&b)));
        assert_eq!((n.replicas, n.able_to_scale.0), (8, "ScaleDownStabilized"));
        let n = h.normalize(&args(8, 1, T0 + 400_000, Some(&b)));
        assert_eq!(n.replicas, 1);
        // Percent 100 up: at most double.
        let n = h.normalize(&args(4, 50, T0 + 401_000, Some(&b)));
        assert_eq!(n.replicas, 8);
    }

    #[test]
    fn disabled_scale_down_keeps_the_count() {
        let mut b = behavior(vec![("Pods", 4, 15)], Some(0));
        if let Some(d) = b.scale_down.as_mut() {
            d.select_policy = Some("Disabled".into());
        }
        let mut h = History::default();
        let n = h.normalize(&args(6, 2, T0, Some(&b)));
        assert_eq!((n.replicas, n.scaling_limited.0), (6, "ScaleDownLimit"));
    }
}
