//! Scaling a Deployment whose ReplicaSets are mid-rollout: upstream's proportional
//! scaling, which spreads added or removed replicas over the active ReplicaSets in
//! proportion to their size so a rollout in progress keeps its shape.

use common::events::Recorder;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::Api;
use kube::ResourceExt;

use super::deployment::{max_surge, scale, Error};
use super::deployment_util as util;

/// Whether the Deployment's replicas changed since its active ReplicaSets were last sized
/// (their `desired-replicas` annotation says otherwise).
pub fn is_scaling_event(d: &Deployment, owned: &[ReplicaSet]) -> bool {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    owned
        .iter()
        .filter(|rs| util::rs_replicas(rs) > 0)
        .any(|rs| {
            rs.annotations()
                .get(util::DESIRED_REPLICAS)
                .and_then(|v| v.parse::<i32>().ok())
                .is_some_and(|v| v != desired)
        })
}

/// One active ReplicaSet as the arithmetic sees it.
#[derive(Debug, Clone, Copy)]
pub struct Sized {
    /// Current `spec.replicas`.
    pub replicas: i32,
    /// Its `max-replicas` annotation, if any.
    pub annotated_max: Option<i32>,
}

/// New sizes for `sets` (ordered largest first) when the Deployment wants `desired`
/// replicas with `surge`: each gets its share of `desired + surge`, rounded, and the
/// rounding leftover goes to the first (largest) one (upstream's `getProportion`).
pub fn proportional_sizes(
    sets: &[Sized],
    desired: i32,
    surge: i32,
    status_replicas: i32,
) -> Vec<i32> {
    let total: i32 = sets.iter().map(|s| s.replicas).sum();
    let allowed = if desired > 0 { desired + surge } else { 0 };
    let to_add = allowed - total;
    let mut added = 0;
    let mut sizes: Vec<i32> = sets
        .iter()
        .map(|s| {
            if s.replicas == 0 || to_add == 0 || to_add == added {
                return s.replicas;
            }
            let fraction = if desired == 0 {
                -s.replicas
            } else {
                let annotated = s.annotated_max.unwrap_or(status_replicas).max(1);
                let size = (f64::from(s.replicas) * f64::from(desired + surge)
                    / f64::from(annotated))
                .round() as i32;
                size - s.replicas
            };
            let room = to_add - added;
            let proportion = if to_add > 0 {
                fraction.min(room)
            } else {
                fraction.max(room)
            };
            added += proportion;
            s.replicas + proportion
        })
        .collect();
    if let Some(first) = sizes.first_mut() {
        *first = (*first + to_add - added).max(0);
    }
    sizes
}

/// Resize the ReplicaSets toward the Deployment's replicas without rolling anything out.
pub async fn scale_proportionally(
    d: &Deployment,
    api: &Api<ReplicaSet>,
    recorder: &Recorder,
    owned: &[ReplicaSet],
    new_uid: Option<&str>,
) -> Result<(), Error> {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let mut active: Vec<&ReplicaSet> = owned
        .iter()
        .filter(|rs| util::rs_replicas(rs) > 0)
        .collect();
    // One active ReplicaSet (or none: then the newest) simply takes all replicas.
    if active.len() <= 1 {
        let target = active
            .first()
            .copied()
            .or_else(|| owned.iter().find(|rs| rs.uid().as_deref() == new_uid))
            .or_else(|| owned.last());
        if let Some(rs) = target {
            scale(d, api, recorder, rs, desired).await?;
        }
        return Ok(());
    }
    // The new ReplicaSet is complete: old ones go to zero.
    if let Some(new) = owned.iter().find(|rs| rs.uid().as_deref() == new_uid) {
        if util::rs_replicas(new) == desired && util::rs_available(new) == desired {
            for rs in owned.iter().filter(|rs| rs.uid().as_deref() != new_uid) {
                scale(d, api, recorder, rs, 0).await?;
            }
            return Ok(());
        }
    }
    // Largest first; ties: newer first when growing, older first when shrinking.
    let total: i32 = active.iter().map(|rs| util::rs_replicas(rs)).sum();
    let surge = if desired > 0 { max_surge(d) } else { 0 };
    let growing = desired + surge > total;
    let created = |rs: &ReplicaSet| {
        rs.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .unwrap_or_default()
    };
    active.sort_by(|a, b| {
        let by_size = util::rs_replicas(b).cmp(&util::rs_replicas(a));
        let by_age = if growing {
            created(b).cmp(&created(a))
        } else {
            created(a).cmp(&created(b))
        };
        by_size.then(by_age)
    });
    let status_replicas = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let sets: Vec<Sized> = active
        .iter()
        .map(|rs| Sized {
            replicas: util::rs_replicas(rs),
            annotated_max: rs
                .annotations()
                .get(util::MAX_REPLICAS)
                .and_then(|v| v.parse().ok()),
        })
        .collect();
    let sizes = proportional_sizes(&sets, desired, surge, status_replicas);
    for (rs, size) in active.iter().zip(sizes) {
        scale(d, api, recorder, rs, size).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(replicas: i32, max: i32) -> Sized {
        Sized {
            replicas,
            annotated_max: Some(max),
        }
    }

    #[test]
    fn scaling_up_mid_rollout_keeps_proportions() {
        // 10 replicas, surge 3: old 8 + new 5 = 13. Scaled to 20 (surge 5): 25 allowed.
        assert_eq!(
            proportional_sizes(&[s(8, 13), s(5, 13)], 20, 5, 13),
            vec![15, 10]
        );
    }

    #[test]
    fn scaling_down_puts_the_rounding_leftover_on_the_largest() {
        // 3 + 1 at max 4, scaled to 1 with surge 1: 2 allowed.
        assert_eq!(proportional_sizes(&[s(3, 4), s(1, 4)], 1, 1, 4), vec![1, 1]);
    }

    #[test]
    fn scaling_to_zero_empties_everything() {
        assert_eq!(proportional_sizes(&[s(3, 4), s(1, 4)], 0, 1, 4), vec![0, 0]);
    }
}
