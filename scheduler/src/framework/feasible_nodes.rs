//! `percentageOfNodesToScore`: in a large cluster the scheduler stops filtering once it has
//! found enough feasible nodes, and scores only those (upstream's `numFeasibleNodesToFind`).
//! Each cycle starts where the previous one stopped, so every node gets its turn.

/// Below this many nodes every node is evaluated; above it, at least this many feasible
/// nodes are looked for (upstream's `minFeasibleNodesToFind`).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never drops below this (upstream's
/// `minFeasibleNodesPercentageToFind`).
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// How many feasible nodes to find among `all` before scoring. `percentage` is the
/// configured `percentageOfNodesToScore`; unset or 0 means adaptive: 50% minus one point per
/// 125 nodes, at least 5% (so 10% at 5,000 nodes), and never fewer than 100 nodes.
pub fn num_feasible_nodes_to_find(percentage: Option<i32>, all: usize) -> usize {
    if all < MIN_FEASIBLE_NODES_TO_FIND {
        return all;
    }
    let percentage = match percentage {
        Some(p) if p > 0 => p as usize,
        _ => 50usize
            .saturating_sub(all / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
    };
    if percentage >= 100 {
        return all;
    }
    (all * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_as_upstream() {
        assert_eq!(num_feasible_nodes_to_find(None, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(None, 99), 99);
        assert_eq!(num_feasible_nodes_to_find(None, 100), 100);
        // 50 - 1000/125 = 42%.
        assert_eq!(num_feasible_nodes_to_find(None, 1000), 420);
        // 50 - 40 = 10%.
        assert_eq!(num_feasible_nodes_to_find(Some(0), 5000), 500);
        // Floor of 5% at 6,000+ nodes.
        assert_eq!(num_feasible_nodes_to_find(None, 10_000), 500);
        // 49% of 200 is 98: raised to the 100 floor.
        assert_eq!(num_feasible_nodes_to_find(None, 200), 100);
    }

    #[test]
    fn configured_percentage() {
        assert_eq!(num_feasible_nodes_to_find(Some(100), 5000), 5000);
        assert_eq!(num_feasible_nodes_to_find(Some(30), 5000), 1500);
        // Never fewer than 100.
        assert_eq!(num_feasible_nodes_to_find(Some(1), 5000), 100);
    }
}
