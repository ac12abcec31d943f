//! The apiserver as a pod source: a watch of the pods bound to this node (mirror pods are
//! skipped — they only reflect static pods). A relist that misses a pod removes it.
use std::collections::HashSet;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::{self, Event};
use kube::Api;
use tokio::sync::mpsc;

use super::static_pods::ANNOTATION_MIRROR;
use super::{DesiredPod, PodSource, SourceEvent};

fn is_mirror(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANNOTATION_MIRROR))
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// Watches until the receiver goes away.
pub async fn run(client: kube::Client, node_name: String, out: mpsc::Sender<SourceEvent>) {
    let pods: Api<Pod> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("spec.nodeName={node_name}"));
    let mut stream = watcher::watcher(pods, config).boxed();
    let mut known: HashSet<String> = HashSet::new();
    let mut relisted: HashSet<String> = HashSet::new();
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(error = %e, "watching pods");
                continue;
            }
        };
        let mut send = Vec::new();
        match event {
            Event::Apply(pod) | Event::InitApply(pod) if !is_mirror(&pod) => {
                let id = uid(&pod);
                relisted.insert(id.clone());
                known.insert(id);
                send.push(SourceEvent::Upsert(Box::new(DesiredPod {
                    pod,
                    source: PodSource::Api,
                })));
            }
            Event::Delete(pod) if !is_mirror(&pod) => {
                let id = uid(&pod);
                known.remove(&id);
                send.push(SourceEvent::Remove { uid: id });
            }
            Event::Init => relisted.clear(),
            Event::InitDone => {
                for gone in known.difference(&relisted).cloned().collect::<Vec<_>>() {
                    known.remove(&gone);
                    send.push(SourceEvent::Remove { uid: gone });
                }
                send.push(SourceEvent::Synced(PodSource::Api));
            }
            _ => {}
        }
        for event in send {
            if out.send(event).await.is_err() {
                return;
            }
        }
    }
}
