//! The pure part of the StatefulSet controller: from the set's spec and the facts about
//! its pods, which pods to create and delete in this sync (upstream's
//! `defaultStatefulSetControl.updateStatefulSet`). OrderedReady stops at the first pod
//! that is not yet Running and Ready; Parallel acts on every ordinal at once.

/// One owned pod as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFacts {
    /// Pod name (`<set>-<ordinal>`).
    pub name: String,
    /// The ordinal parsed from the name.
    pub ordinal: i32,
    /// Its `controller-revision-hash` label (a revision name).
    pub revision: String,
    /// Being deleted.
    pub terminating: bool,
    /// Phase Succeeded or Failed: it must be recreated.
    pub finished: bool,
    /// Phase Running and condition Ready.
    pub running_ready: bool,
    /// Running, Ready for at least minReadySeconds.
    pub available: bool,
}

impl PodFacts {
    fn healthy(&self) -> bool {
        self.running_ready && self.available && !self.terminating
    }
}

/// The update strategy of a set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpdateStrategy {
    /// Replace pods from the highest ordinal down to `partition`.
    RollingUpdate { partition: i32 },
    /// Pods are only updated when someone deletes them.
    OnDelete,
}

/// What the planner needs to know about the set.
#[derive(Debug, Clone)]
pub struct SetFacts {
    /// spec.replicas.
    pub replicas: i32,
    /// spec.ordinals.start.
    pub start: i32,
    /// podManagementPolicy is OrderedReady (not Parallel).
    pub ordered: bool,
    /// spec.updateStrategy.
    pub strategy: UpdateStrategy,
    /// Name of the current revision (status.currentRevision, resolved).
    pub current_revision: String,
    /// Name of the revision of the current template.
    pub update_revision: String,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create the pod for `ordinal` (and its claims) from the current revision when
    /// `from_current`, else from the update revision.
    Create { ordinal: i32, from_current: bool },
    /// Delete a pod (a finished one, a condemned one, or one being updated).
    Delete { name: String, condemned: bool },
}

/// The revision a new pod at `ordinal` gets: below the partition a rolling update keeps
/// the current revision (upstream's `newVersionedStatefulSetPod`).
fn from_current(set: &SetFacts, ordinal: i32) -> bool {
    match set.strategy {
        UpdateStrategy::RollingUpdate { partition } => {
            set.current_revision != set.update_revision && ordinal < set.start + partition
        }
        // OnDelete: new pods (replacing deleted ones) get the update revision.
        UpdateStrategy::OnDelete => false,
    }
}

/// Plan one sync.
pub fn plan(set: &SetFacts, pods: &[PodFacts]) -> Vec<Step> {
    let mut steps = Vec::new();
    let end = set.start + set.replicas.max(0);
    let in_range = |o: i32| o >= set.start && o < end;
    let mut condemned: Vec<&PodFacts> = pods.iter().filter(|p| !in_range(p.ordinal)).collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(p.ordinal));
    // The first unhealthy pod, in the order upstream looks: replicas ascending, then the
    // condemned descending.
    let first_unhealthy = (set.start..end)
        .filter_map(|o| pods.iter().find(|p| p.ordinal == o))
        .chain(condemned.iter().copied())
        .find(|p| !p.healthy())
        .map(|p| p.name.clone());

    let mut all_present = true;
    for ordinal in set.start..end {
        let Some(pod) = pods.iter().find(|p| p.ordinal == ordinal) else {
            all_present = false;
            steps.push(Step::Create {
                ordinal,
                from_current: from_current(set, ordinal),
            });
            if set.ordered {
                return steps;
            }
            continue;
        };
        if pod.finished {
            if !pod.terminating {
                steps.push(Step::Delete {
                    name: pod.name.clone(),
                    condemned: false,
                });
            }
            // Recreated on a later sync, once the old pod is gone.
            all_present = false;
            if set.ordered {
                return steps;
            }
            continue;
        }
        if set.ordered && !pod.healthy() {
            return steps;
        }
    }

    for pod in &condemned {
        if pod.terminating {
            if set.ordered {
                return steps;
            }
            continue;
        }
        if set.ordered && !pod.healthy() && first_unhealthy.as_deref() != Some(&pod.name) {
            return steps;
        }
        steps.push(Step::Delete {
            name: pod.name.clone(),
            condemned: true,
        });
        if set.ordered {
            return steps;
        }
    }

    let UpdateStrategy::RollingUpdate { partition } = set.strategy else {
        return steps;
    };
    if !all_present {
        return steps;
    }
    let update_min = set.start + partition.max(0);
    for ordinal in (update_min..end).rev() {
        let Some(pod) = pods.iter().find(|p| p.ordinal == ordinal) else {
            return steps;
        };
        if pod.revision != set.update_revision && !pod.terminating {
            steps.push(Step::Delete {
                name: pod.name.clone(),
                condemned: false,
            });
            return steps;
        }
        if !pod.healthy() {
            return steps;
        }
    }
    steps
}

/// The ordinal in a pod name `<set>-<ordinal>`, if the pod is one of `set`'s.
pub fn ordinal_of(set: &str, pod: &str) -> Option<i32> {
    let rest = pod.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(replicas: i32, ordered: bool) -> SetFacts {
        SetFacts {
            replicas,
            start: 0,
            ordered,
            strategy: UpdateStrategy::RollingUpdate { partition: 0 },
            current_revision: "web-a".into(),
            update_revision: "web-a".into(),
        }
    }

    fn pod(ordinal: i32, ready: bool, revision: &str) -> PodFacts {
        PodFacts {
            name: format!("web-{ordinal}"),
            ordinal,
            revision: revision.into(),
            terminating: false,
            finished: false,
            running_ready: ready,
            available: ready,
        }
    }

    fn create(ordinal: i32) -> Step {
        Step::Create {
            ordinal,
            from_current: false,
        }
    }

    fn delete(ordinal: i32, condemned: bool) -> Step {
        Step::Delete {
            name: format!("web-{ordinal}"),
            condemned,
        }
    }

    #[test]
    fn ordered_ready_creates_one_pod_and_waits_for_it() {
        let s = set(3, true);
        assert_eq!(plan(&s, &[]), vec![create(0)]);
        assert_eq!(plan(&s, &[pod(0, false, "web-a")]), vec![]);
        assert_eq!(plan(&s, &[pod(0, true, "web-a")]), vec![create(1)]);
        assert_eq!(
            plan(&s, &[pod(0, true, "web-a"), pod(1, true, "web-a")]),
            vec![create(2)]
        );
    }

    #[test]
    fn parallel_creates_every_missing_ordinal() {
        let s = set(3, false);
        assert_eq!(plan(&s, &[]), vec![create(0), create(1), create(2)]);
        assert_eq!(
            plan(&s, &[pod(1, false, "web-a")]),
            vec![create(0), create(2)]
        );
    }

    #[test]
    fn scale_down_removes_the_highest_ordinal_first_one_at_a_time() {
        let s = set(1, true);
        let pods = [
            pod(0, true, "web-a"),
            pod(1, true, "web-a"),
            pod(2, true, "web-a"),
        ];
        assert_eq!(plan(&s, &pods), vec![delete(2, true)]);
        let mut terminating = pods.clone();
        terminating[2].terminating = true;
        assert_eq!(plan(&s, &terminating), vec![]);
        let parallel = set(1, false);
        assert_eq!(
            plan(&parallel, &pods),
            vec![delete(2, true), delete(1, true)]
        );
    }

    #[test]
    fn finished_pods_are_deleted_for_recreation() {
        let s = set(2, true);
        let mut p0 = pod(0, false, "web-a");
        p0.finished = true;
        assert_eq!(plan(&s, &[p0]), vec![delete(0, false)]);
    }

    #[test]
    fn rolling_update_goes_from_the_highest_ordinal_down_to_the_partition() {
        let mut s = set(3, true);
        s.update_revision = "web-b".into();
        let old = [
            pod(0, true, "web-a"),
            pod(1, true, "web-a"),
            pod(2, true, "web-a"),
        ];
        assert_eq!(plan(&s, &old), vec![delete(2, false)]);
        // web-2 recreated at the new revision but not ready yet: wait.
        let mut mid = old.clone();
        mid[2] = pod(2, false, "web-b");
        assert_eq!(plan(&s, &mid), vec![]);
        mid[2] = pod(2, true, "web-b");
        assert_eq!(plan(&s, &mid), vec![delete(1, false)]);
        // Partition 2: only ordinals >= 2 are updated.
        s.strategy = UpdateStrategy::RollingUpdate { partition: 2 };
        assert_eq!(plan(&s, &mid), vec![]);
        // And a missing pod below the partition is recreated at the current revision.
        assert_eq!(
            plan(&s, &mid[1..]),
            vec![Step::Create {
                ordinal: 0,
                from_current: true
            }]
        );
    }

    #[test]
    fn on_delete_never_deletes_for_an_update() {
        let mut s = set(2, false);
        s.strategy = UpdateStrategy::OnDelete;
        s.update_revision = "web-b".into();
        assert_eq!(
            plan(&s, &[pod(0, true, "web-a"), pod(1, true, "web-a")]),
            vec![]
        );
    }

    #[test]
    fn ordinals_parse_only_from_the_sets_own_names() {
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
    }
}
