//! Events about pods (Pulled, Created, Started, Killing, BackOff, Unhealthy …), recorded
//! through the shared recorder with the kubelet as source and its node as host, so repeats
//! bump a count and floods are aggregated as upstream's event correlator does.
use common::events::{self, EventType};
use k8s_openapi::api::core::v1::Pod;

#[derive(Clone)]
pub struct Recorder {
    inner: events::Recorder,
}

impl Recorder {
    pub fn new(client: kube::Client, node_name: String) -> Recorder {
        Recorder {
            inner: events::Recorder::with_host(client, "kubelet", Some(node_name)),
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
        let involved = k8s_openapi::api::core::v1::ObjectReference {
            field_path,
            ..events::reference(pod)
        };
        let type_ = if warning {
            EventType::Warning
        } else {
            EventType::Normal
        };
        self.inner.record(involved, type_, reason, message);
    }
}
