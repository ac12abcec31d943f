//! Which containers of a pod `kubectl logs` reads (upstream's `logsForObject` for a Pod):
//! the one asked for, else the default-container annotation's, else the first; or all of
//! them, init containers first, with `--all-containers`.

use serde_json::Value;

use crate::error::{KubectlError, Result};

/// Annotation naming the container commands default to.
const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// One log stream: a container of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name.
    pub container: String,
}

impl LogSource {
    /// What `--prefix` puts before each line.
    pub fn prefix(&self) -> String {
        format!("[pod/{}/{}] ", self.pod, self.container)
    }
}

/// The containers chosen in one pod, and what upstream tells the user on stderr about
/// the choice.
#[derive(Debug, Default, PartialEq)]
pub struct Chosen {
    /// In reading order.
    pub sources: Vec<LogSource>,
    /// Lines for stderr.
    pub notices: Vec<String>,
}

/// The containers of the pod in the three lists of its spec.
struct Containers {
    regular: Vec<String>,
    init: Vec<String>,
    ephemeral: Vec<String>,
}

impl Containers {
    fn of(pod: &Value) -> Self {
        let names = |key: &str| -> Vec<String> {
            pod["spec"][key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        };
        Containers {
            regular: names("containers"),
            init: names("initContainers"),
            ephemeral: names("ephemeralContainers"),
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.regular
            .iter()
            .chain(&self.init)
            .chain(&self.ephemeral)
            .any(|c| c == name)
    }

    /// Upstream's `AllContainerNames`: regular, then ephemeral, then init, marked.
    fn described(&self) -> String {
        self.regular
            .iter()
            .cloned()
            .chain(self.ephemeral.iter().map(|n| format!("{n} (ephem)")))
            .chain(self.init.iter().map(|n| format!("{n} (init)")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The containers of `pod` to read. `requested` is `-c` or the inline container ("" for
/// none); with `all_pods` upstream does not say which container it defaulted to.
pub fn containers_to_read(
    pod: &Value,
    requested: &str,
    all_containers: bool,
    all_pods: bool,
) -> Result<Chosen> {
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
    let source = |container: &str| LogSource {
        namespace: namespace.to_string(),
        pod: pod_name.to_string(),
        container: container.to_string(),
    };
    let containers = Containers::of(pod);
    if all_containers {
        let sources = containers
            .init
            .iter()
            .chain(&containers.regular)
            .chain(&containers.ephemeral)
            .map(|c| source(c))
            .collect();
        return Ok(Chosen {
            sources,
            notices: Vec::new(),
        });
    }
    let mut notices = Vec::new();
    let mut container = requested.to_string();
    if container.is_empty() {
        if let Some(annotated) = pod["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION]
            .as_str()
            .filter(|a| !a.is_empty())
        {
            if containers.contains(annotated) {
                container = annotated.to_string();
            } else {
                notices.push(format!(
                    "Default container name {annotated:?} not found in pod {pod_name}"
                ));
            }
        }
    }
    if container.is_empty() {
        let Some(first) = containers.regular.first() else {
            return Err(KubectlError::usage(format!(
                "pod {namespace}/{pod_name} does not have any containers"
            )));
        };
        container = first.clone();
        let choice = containers.regular.len() > 1
            || !containers.init.is_empty()
            || !containers.ephemeral.is_empty();
        if choice && !all_pods {
            notices.push(format!(
                "Defaulted container {container:?} out of: {}",
                containers.described()
            ));
        }
    }
    if !containers.contains(&container) {
        return Err(KubectlError::usage(format!(
            "container {container} is not valid for pod {pod_name}"
        )));
    }
    Ok(Chosen {
        sources: vec![source(&container)],
        notices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "p", "namespace": "ns", "annotations": {}},
            "spec": {
                "containers": [{"name": "app"}, {"name": "side"}],
                "initContainers": [{"name": "setup"}],
                "ephemeralContainers": [{"name": "debugger"}]
            }
        })
    }

    fn names(c: &Chosen) -> Vec<&str> {
        c.sources.iter().map(|s| s.container.as_str()).collect()
    }

    #[test]
    fn the_first_container_by_default_with_upstreams_notice() {
        let chosen = containers_to_read(&pod(), "", false, false).unwrap();
        assert_eq!(names(&chosen), ["app"]);
        assert_eq!(
            chosen.notices,
            ["Defaulted container \"app\" out of: app, side, debugger (ephem), setup (init)"]
        );
        // --all-pods keeps quiet about it.
        let quiet = containers_to_read(&pod(), "", false, true).unwrap();
        assert!(quiet.notices.is_empty());
        // A pod with one container needs no notice.
        let single = json!({"metadata": {"name": "s"}, "spec": {"containers": [{"name": "c"}]}});
        assert!(containers_to_read(&single, "", false, false)
            .unwrap()
            .notices
            .is_empty());
    }

    #[test]
    fn the_annotation_names_the_default_when_it_exists() {
        let mut p = pod();
        p["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION] = json!("side");
        let chosen = containers_to_read(&p, "", false, false).unwrap();
        assert_eq!(names(&chosen), ["side"]);
        assert!(chosen.notices.is_empty());
        p["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION] = json!("gone");
        let chosen = containers_to_read(&p, "", false, false).unwrap();
        assert_eq!(names(&chosen), ["app"]);
        assert_eq!(
            chosen.notices[0],
            "Default container name \"gone\" not found in pod p"
        );
    }

    #[test]
    fn a_requested_container_must_exist() {
        assert_eq!(
            names(&containers_to_read(&pod(), "setup", false, false).unwrap()),
            ["setup"]
        );
        assert_eq!(
            containers_to_read(&pod(), "nope", false, false)
                .unwrap_err()
                .to_string(),
            "error: container nope is not valid for pod p"
        );
    }

    #[test]
    fn all_containers_reads_init_then_regular_then_ephemeral() {
        let chosen = containers_to_read(&pod(), "", true, false).unwrap();
        assert_eq!(names(&chosen), ["setup", "app", "side", "debugger"]);
        assert_eq!(chosen.sources[1].prefix(), "[pod/p/app] ");
    }
}
