//! Static pods: manifests in `--pod-manifest-path` (kubeadm's layout) run without the
//! apiserver, and each gets a mirror pod in the API so users can see it. The pod's name is
//! `<name>-<node>`, its UID a hash of the manifest and node, as upstream does it.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, PostParams};
use kube::Api;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{DesiredPod, PodSource, SourceEvent};

pub const ANNOTATION_MIRROR: &str = "kubernetes.io/config.mirror";
pub const ANNOTATION_HASH: &str = "kubernetes.io/config.hash";
pub const ANNOTATION_SOURCE: &str = "kubernetes.io/config.source";

/// Reads one manifest into the pod the kubelet runs (defaults applied as the apiserver would).
pub fn load_manifest(path: &Path, node_name: &str) -> Result<Pod, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut pod: Pod =
        serde_yaml::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
    let name = pod
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{}: pod has no name", path.display()))?;
    let digest = Sha256::digest(format!("{node_name}\n{text}").as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    pod.metadata.name = Some(format!("{name}-{node_name}"));
    pod.metadata.namespace = Some(
        pod.metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into()),
    );
    pod.metadata.uid = Some(hex.clone());
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(ANNOTATION_HASH.into(), hex);
    annotations.insert(ANNOTATION_SOURCE.into(), "file".into());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.node_name = Some(node_name.into());
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        let image = c.image.clone().unwrap_or_default();
        let tag = image.rsplit('/').next().unwrap_or_default();
        let latest = !tag.contains(':') || tag.ends_with(":latest");
        let latest = latest && !image.contains('@');
        c.image_pull_policy.get_or_insert_with(|| {
            if latest {
                "Always".into()
            } else {
                "IfNotPresent".into()
            }
        });
        c.termination_message_path
            .get_or_insert_with(|| "/dev/termination-log".into());
        c.termination_message_policy
            .get_or_insert_with(|| "File".into());
    }
    Ok(pod)
}

fn manifests(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // Editors' and kubeadm's temporary files start with a dot.
            !name.starts_with('.') && p.is_file()
        })
        .collect();
    files.sort();
    files
}

/// The mirror pod for a static pod.
fn mirror_of(pod: &Pod, node_name: &str, node_uid: Option<&str>) -> Pod {
    let mut mirror = pod.clone();
    mirror.metadata.uid = None;
    mirror.metadata.resource_version = None;
    mirror.status = None;
    let hash = pod.metadata.uid.clone().unwrap_or_default();
    mirror
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ANNOTATION_MIRROR.into(), hash);
    mirror.metadata.owner_references = node_uid.map(|uid| {
        vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: node_name.into(),
            uid: uid.into(),
            controller: Some(true),
            ..Default::default()
        }]
    });
    mirror
}

/// Creates or replaces the mirror pods of the current static pods; deletes mirrors of
/// removed ones.
async fn sync_mirrors(
    client: &kube::Client,
    node_name: &str,
    node_uid: Option<&str>,
    pods: &HashMap<String, Pod>,
    removed: &[Pod],
) {
    for pod in pods.values() {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let hash = pod.metadata.uid.as_deref().unwrap_or_default();
        match api.get_opt(name).await {
            Ok(Some(existing)) => {
                let annotations = existing.metadata.annotations.clone().unwrap_or_default();
                match annotations.get(ANNOTATION_MIRROR) {
                    Some(h) if h == hash && existing.metadata.deletion_timestamp.is_none() => {
                        continue
                    }
                    Some(_) => {
                        // An outdated mirror: replace it.
                        let _ = api
                            .delete(
                                name,
                                &DeleteParams {
                                    grace_period_seconds: Some(0),
                                    ..Default::default()
                                },
                            )
                            .await;
                    }
                    None => {
                        tracing::warn!(
                            pod = name,
                            "a pod that is not our mirror holds the static pod's name"
                        );
                        continue;
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(pod = name, error = %e, "reading mirror pod");
                continue;
            }
        }
        match api
            .create(&PostParams::default(), &mirror_of(pod, node_name, node_uid))
            .await
        {
            Ok(_) => tracing::info!(pod = name, "created mirror pod"),
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => tracing::warn!(pod = name, error = %e, "creating mirror pod"),
        }
    }
    for pod in removed {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        if let Ok(Some(existing)) = api.get_opt(name).await {
            if existing
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(ANNOTATION_MIRROR))
            {
                let _ = api
                    .delete(
                        name,
                        &DeleteParams {
                            grace_period_seconds: Some(0),
                            ..Default::default()
                        },
                    )
                    .await;
            }
        }
    }
}

/// The UID of our Node, once the apiserver answers and the node is registered.
async fn registered_node_uid(client: &kube::Client, node_name: &str) -> Option<String> {
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes.get_opt(node_name).await {
        Ok(node) => node.and_then(|n| n.metadata.uid),
        Err(e) => {
            tracing::debug!(error = %e, "the apiserver is not answering yet; mirror pods wait");
            None
        }
    }
}

/// Scans the manifest directory every `period` until the receiver goes away.
pub async fn run(
    client: kube::Client,
    dir: PathBuf,
    node_name: String,
    period: Duration,
    out: mpsc::Sender<SourceEvent>,
) {
    let mut current: HashMap<String, Pod> = HashMap::new();
    // Known once the node is registered: static pods start before that (the apiserver may be
    // one of them), and mirrors are created only when their owner, the Node, exists.
    let mut node_uid: Option<String> = None;
    let mut synced = false;
    loop {
        let mut found: HashMap<String, Pod> = HashMap::new();
        for path in manifests(&dir) {
            match load_manifest(&path, &node_name) {
                Ok(pod) => {
                    found.insert(pod.metadata.uid.clone().unwrap_or_default(), pod);
                }
                Err(message) => tracing::warn!(%message, "skipping static pod manifest"),
            }
        }
        let mut removed = Vec::new();
        for (uid, pod) in &current {
            if !found.contains_key(uid) {
                removed.push(pod.clone());
                if out
                    .send(SourceEvent::Remove { uid: uid.clone() })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        for (uid, pod) in &found {
            if !current.contains_key(uid) {
                tracing::info!(
                    pod = pod.metadata.name.as_deref().unwrap_or_default(),
                    "static pod found"
                );
                let desired = DesiredPod {
                    pod: pod.clone(),
                    source: PodSource::Static,
                };
                if out
                    .send(SourceEvent::Upsert(Box::new(desired)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if !synced {
            synced = true;
            if out
                .send(SourceEvent::Synced(PodSource::Static))
                .await
                .is_err()
            {
                return;
            }
        }
        current = found;
        if node_uid.is_none() {
            node_uid = registered_node_uid(&client, &node_name).await;
        }
        if node_uid.is_some() {
            sync_mirrors(&client, &node_name, node_uid.as_deref(), &current, &removed).await;
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_become_node_named_pods_with_stable_uids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd.yaml");
        std::fs::write(&path, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - name: etcd\n    image: busybox:latest\n").unwrap();
        let a = load_manifest(&path, "node-1").unwrap();
        let b = load_manifest(&path, "node-1").unwrap();
        assert_eq!(a.metadata.name.as_deref(), Some("etcd-node-1"));
        assert_eq!(a.metadata.uid, b.metadata.uid);
        assert_ne!(
            a.metadata.uid,
            load_manifest(&path, "node-2").unwrap().metadata.uid
        );
        let spec = a.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("node-1"));
        assert_eq!(
            spec.containers[0].image_pull_policy.as_deref(),
            Some("Always")
        );
        let mirror = mirror_of(&a, "node-1", Some("n-uid"));
        assert_eq!(
            mirror.metadata.annotations.unwrap()[ANNOTATION_MIRROR],
            a.metadata.uid.clone().unwrap()
        );
        assert_eq!(mirror.metadata.owner_references.unwrap()[0].kind, "Node");
        assert!(mirror.metadata.uid.is_none());
        std::fs::write(dir.path().join(".swp"), "junk").unwrap();
        assert_eq!(manifests(dir.path()), vec![path]);
    }
}
