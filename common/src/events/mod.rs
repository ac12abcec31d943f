//! Kubernetes Events (core/v1) as upstream's legacy `record.EventRecorder` writes them:
//! what `kubectl describe` lists under "Events".
//!
//! A [`Recorder`] names its source (`deployment-controller`, `kubelet` …) and records
//! Normal or Warning events about any object. Recording never blocks and never fails the
//! caller: events go on a bounded queue to a background task ([`sink`]) that correlates
//! them ([`correlator`]: repeats bump a count, floods of similar events are aggregated and
//! rate limited) and writes them to the apiserver.

pub mod correlator;
mod lru;
mod sink;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::{Client, Resource};
use tokio::sync::mpsc;

/// Events waiting to be written beyond which new ones are dropped (upstream's
/// broadcaster queue length).
const MAX_QUEUED: usize = 1000;

/// An event's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Records events from one source; clones share the queue and its correlation.
#[derive(Clone, Debug)]
pub struct Recorder {
    source: EventSource,
    queue: mpsc::Sender<Event>,
}

impl Recorder {
    /// A recorder for a controller (`source.component = component`, no host), writing
    /// with `client`. Starts its writer on the current tokio runtime.
    pub fn new(client: Client, component: &str) -> Recorder {
        Recorder::with_host(client, component, None)
    }

    /// A recorder for a per-node component (the kubelet: `source.host` is the node).
    pub fn with_host(client: Client, component: &str, host: Option<String>) -> Recorder {
        let (queue, events) = mpsc::channel(MAX_QUEUED);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(sink::run(client, events));
            }
            // Without a runtime the queue is closed and every event is dropped; recording
            // must never panic.
            Err(_) => tracing::warn!(component, "no async runtime; events will not be recorded"),
        }
        Recorder {
            source: EventSource {
                component: Some(component.to_string()),
                host,
            },
            queue,
        }
    }

    /// Record a Normal event about `object`.
    pub fn normal<K>(&self, object: &K, reason: &str, message: impl Into<String>)
    where
        K: Resource<DynamicType = ()>,
    {
        self.record(reference(object), EventType::Normal, reason, message);
    }

    /// Record a Warning event about `object`.
    pub fn warning<K>(&self, object: &K, reason: &str, message: impl Into<String>)
    where
        K: Resource<DynamicType = ()>,
    {
        self.record(reference(object), EventType::Warning, reason, message);
    }

    /// Record an event about the object `involved` refers to (with a `fieldPath` for a
    /// part of it, such as one container of a pod).
    pub fn record(
        &self,
        involved: ObjectReference,
        type_: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        let event = self.make_event(involved, type_, reason, message.into(), Timestamp::now());
        match self.queue.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(e)) => {
                tracing::warn!(reason = ?e.reason, object = ?e.involved_object.name, "too many queued events; dropping event")
            }
            Err(mpsc::error::TrySendError::Closed(e)) => {
                tracing::debug!(reason = ?e.reason, "event writer gone; dropping event")
            }
        }
    }

    /// The event as upstream's `makeEvent` builds it: named after the object and the time,
    /// in the object's namespace (`default` for cluster-scoped objects), count 1, and the
    /// source as reporting controller and instance.
    fn make_event(
        &self,
        involved: ObjectReference,
        type_: EventType,
        reason: &str,
        message: String,
        now: Timestamp,
    ) -> Event {
        let namespace = involved
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".into());
        let name = correlator::event_name(involved.name.as_deref().unwrap_or_default(), now);
        Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(reason.to_string()),
            message: Some(message),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            type_: Some(type_.as_str().into()),
            source: Some(self.source.clone()),
            reporting_component: self.source.component.clone(),
            reporting_instance: Some(self.source.host.clone().unwrap_or_default()),
            ..Default::default()
        }
    }
}

/// The reference an event keeps to `object` (upstream's `ref.GetReference`): kind,
/// apiVersion, name, namespace, uid and resourceVersion.
pub fn reference<K: Resource<DynamicType = ()>>(object: &K) -> ObjectReference {
    ObjectReference {
        resource_version: object.meta().resource_version.clone(),
        ..object.object_ref(&())
    }
}

/// An API error as upstream prints it in event messages: the server's message for a
/// refused request, the error itself otherwise.
pub fn error_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Whether the server refused a create because the namespace is being deleted, which
/// upstream's controllers do not report as an event.
pub fn is_namespace_terminating(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status_says_namespace_terminating(status))
}

/// Whether a refusal `Status` names the terminating namespace as its cause (upstream sets
/// `details.causes[].reason = NamespaceTerminating` on such a refusal).
pub(crate) fn status_says_namespace_terminating(status: &kube::core::Status) -> bool {
    status
        .details
        .as_ref()
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Namespace;

    fn recorder() -> Recorder {
        // No runtime: nothing is written, the event is only built.
        let (queue, _events) = mpsc::channel(1);
        Recorder {
            source: EventSource {
                component: Some("deployment-controller".into()),
                host: None,
            },
            queue,
        }
    }

    #[test]
    fn events_are_built_as_upstream_makes_them() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some("team-a".into()),
                uid: Some("u1".into()),
                resource_version: Some("7".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let now = Timestamp::from_second(1_700_000_000).expect("valid timestamp");
        let e = recorder().make_event(
            reference(&ns),
            EventType::Warning,
            "Why",
            "what".into(),
            now,
        );
        assert_eq!(e.metadata.name.as_deref(), Some("team-a.17979cfe362a0000"));
        // Cluster-scoped objects' events live in `default`.
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
        let o = &e.involved_object;
        assert_eq!(
            (
                o.kind.as_deref(),
                o.api_version.as_deref(),
                o.uid.as_deref()
            ),
            (Some("Namespace"), Some("v1"), Some("u1"))
        );
        assert_eq!(o.resource_version.as_deref(), Some("7"));
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.count, Some(1));
        assert_eq!(e.first_timestamp, e.last_timestamp);
        assert_eq!(
            e.reporting_component.as_deref(),
            Some("deployment-controller")
        );
        assert_eq!(e.reporting_instance.as_deref(), Some(""));
        assert_eq!(
            e.source.and_then(|s| s.component).as_deref(),
            Some("deployment-controller")
        );
    }
}
