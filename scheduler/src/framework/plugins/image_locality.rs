//! ImageLocality: prefer nodes that already hold the pod's container images
//! (`node.status.images`), weighing each image by its size and by how many nodes have it,
//! so one huge image present everywhere does not pull every pod onto the same nodes.
//!
//! As upstream: per image, size × (nodes with it / all nodes); the sum over the pod's
//! containers and init containers is clamped to [23 MiB, 1000 MiB × containers] and scaled to
//! 0..=100.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;

use crate::framework::{CycleState, NodeInfo, ScorePlugin, MAX_NODE_SCORE};

const MB: i64 = 1024 * 1024;
/// Below this sum a node scores 0 (small images are cheap to pull anyway).
const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container: at or above this sum a node scores the maximum.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;
const SCORE_STATE: &str = "PreScoreImageLocality";

/// `busybox` and `busybox:latest` are the same image; tags and digests stay as written.
pub fn normalized_image_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// PreScore result: per normalized image name the pod wants, how many nodes have it.
struct ImageStates {
    images: HashMap<String, usize>,
    total_nodes: usize,
}

fn pod_images(pod: &Pod) -> Vec<String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .filter_map(|c| c.image.as_deref())
        .map(normalized_image_name)
        .collect()
}

/// The ImageLocality score.
pub struct ImageLocality;

impl ScorePlugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        _feasible: &[usize],
    ) {
        let wanted = pod_images(pod);
        if wanted.is_empty() {
            return;
        }
        let mut images: HashMap<String, usize> = HashMap::new();
        for node in nodes {
            let node_images = node
                .node
                .status
                .as_ref()
                .and_then(|s| s.images.as_deref())
                .unwrap_or_default();
            for image in node_images {
                // One image may be listed under several names (tag and digest).
                for n in image
                    .names
                    .iter()
                    .flatten()
                    .map(|n| normalized_image_name(n))
                {
                    if wanted.contains(&n) {
                        *images.entry(n).or_insert(0) += 1;
                    }
                }
            }
        }
        state.write(
            SCORE_STATE,
            ImageStates {
                images,
                total_nodes: nodes.len(),
            },
        );
    }

    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        let Some(st) = state.read::<ImageStates>(SCORE_STATE) else {
            return 0;
        };
        let wanted = pod_images(pod);
        // The node's own size for each image it holds, by normalized name.
        let on_node: HashMap<String, i64> = node
            .node
            .status
            .as_ref()
            .and_then(|s| s.images.as_deref())
            .unwrap_or_default()
            .iter()
            .flat_map(|i| {
                i.names
                    .iter()
                    .flatten()
                    .map(|n| (normalized_image_name(n), i.size_bytes.unwrap_or(0)))
            })
            .collect();
        let sum: i64 = wanted
            .iter()
            .filter_map(|w| Some((on_node.get(w)?, st.images.get(w)?)))
            .map(|(size, count)| {
                // Spread: an image on few nodes counts little, one on all counts fully.
                let spread = *count as f64 / st.total_nodes.max(1) as f64;
                (*size as f64 * spread) as i64
            })
            .sum();
        calculate_priority(sum, wanted.len() as i64)
    }
}

/// Clamp `sum` to the thresholds and scale it to 0..=MAX_NODE_SCORE.
fn calculate_priority(sum: i64, containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * containers.max(1);
    let sum = sum.clamp(MIN_THRESHOLD, max_threshold);
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn with_images(name: &str, images: serde_json::Value) -> NodeInfo {
        node(name, json!({"status": {"images": images}}))
    }

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalized_image_name("busybox"), "busybox:latest");
        assert_eq!(normalized_image_name("busybox:1.36"), "busybox:1.36");
        assert_eq!(normalized_image_name("reg:5000/app"), "reg:5000/app:latest");
        assert_eq!(normalized_image_name("app@sha256:ab"), "app@sha256:ab");
    }

    #[test]
    fn big_images_present_everywhere_score_by_size_and_spread() {
        let big = json!([{"names": ["example.com/big:1"], "sizeBytes": 600 * MB}]);
        let nodes = vec![
            with_images("has", big.clone()),
            with_images("has-too", big),
            with_images("lacks", json!([])),
            with_images(
                "small",
                json!([{"names": ["example.com/big:1"], "sizeBytes": MB}]),
            ),
        ];
        let p = pod(json!({"containers": [{"name": "c", "image": "example.com/big:1"}]}));
        let mut state = CycleState::default();
        ImageLocality.pre_score(&mut state, &p, &nodes, &[0, 1, 2, 3]);
        let scores: Vec<i64> = nodes
            .iter()
            .map(|n| ImageLocality.score(&state, &p, n))
            .collect();
        // Three of four nodes list it: 600 MiB × 3/4 = 450 MiB → (450 - 23) / (1000 - 23).
        assert_eq!(scores, vec![43, 43, 0, 0]);
        assert_eq!(calculate_priority(10 * MB, 1), 0);
        assert_eq!(calculate_priority(2000 * MB, 1), 100);
        assert_eq!(calculate_priority(1000 * MB, 2), (100 * 977) / 1977);
    }
}
