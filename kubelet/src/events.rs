//! Events about pods (Pulled, Created, Started, Killing, BackOff, Unhealthy …), sent in the
//! background. Repeats of the same event bump its count instead of creating new objects, as
//! upstream's event correlator does.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::Api;

/// (object uid, reason, message): what makes two events the same.
type EventKey = (String, String, String);
/// (event name, namespace, count) of the event already recorded for a key.
type RecordedEvent = (String, String, i32);

#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    node_name: String,
    /// (object uid, reason, message) → (event name, namespace, count)
    seen: Arc<Mutex<HashMap<EventKey, RecordedEvent>>>,
}

impl Recorder {
    pub fn new(client: kube::Client, node_name: String) -> Recorder {
        Recorder {
            client,
            node_name,
            seen: Arc::default(),
        }
    }

    /// Records an event on the pod (or one of its containers: `field_path` like
    /// `spec.containers{web}`). Never blocks the caller.
    pub fn pod_event(
        &self,
        pod: &Pod,
        field_path: Option<String>,
        warning: bool,
        reason: &str,
        message: impl Into<String>,
    ) {
        let message = message.into();
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let key = (uid.clone(), reason.to_string(), message.clone());
        let involved = ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: pod.metadata.name.clone(),
            namespace: Some(namespace.clone()),
            uid: Some(uid),
            field_path,
            ..Default::default()
        };
        let repeat = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() > 4096 {
                seen.clear();
            }
            match seen.get_mut(&key) {
                Some(entry) => {
                    entry.2 += 1;
                    Some(entry.clone())
                }
                None => {
                    let name = format!(
                        "{}.{:x}",
                        pod.metadata.name.as_deref().unwrap_or("pod"),
                        Utc::now().timestamp_nanos_opt().unwrap_or_default()
                    );
                    seen.insert(key, (name.clone(), namespace.clone(), 1));
                    None
                }
            }
        };
        let client = self.client.clone();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let (name, count) = match &repeat {
            Some((name, _, count)) => (name.clone(), *count),
            None => {
                let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                let name = seen
                    .get(&(
                        involved.uid.clone().unwrap_or_default(),
                        reason.to_string(),
                        message.clone(),
                    ))
                    .map(|e| e.0.clone())
                    .unwrap_or_default();
                (name, 1)
            }
        };
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(reason.into()),
            message: Some(message),
            type_: Some(if warning { "Warning" } else { "Normal" }.into()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.node_name.clone()),
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now.clone()),
            event_time: None::<MicroTime>,
            count: Some(count),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.node_name.clone()),
            ..Default::default()
        };
        tokio::spawn(async move {
            let events: Api<Event> = Api::namespaced(client, &namespace);
            let result = if repeat.is_some() {
                let patch = serde_json::json!({"count": count, "lastTimestamp": now});
                events
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map(|_| ())
            } else {
                events
                    .create(&PostParams::default(), &event)
                    .await
                    .map(|_| ())
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "recording event");
            }
        });
    }
}
