//! Container probes. PLACEHOLDER until the probes work of issue 4 lands: containers count as
//! started and ready once running; no liveness.
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

pub struct ProbeManager;

impl ProbeManager {
    pub fn new(_runtime: crate::cri::Runtime, _results: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        ProbeManager
    }
    pub fn sync_pod(&self, _pod: &Pod, _running: &[(String, String, Option<Timestamp>)]) {}
    pub fn remove_pod(&self, _pod_uid: &str) {}
    pub fn is_ready(&self, _pod_uid: &str, _container: &str) -> bool {
        true
    }
    pub fn is_started(&self, _pod_uid: &str, _container: &str) -> bool {
        true
    }
    pub fn liveness_failed(&self, _pod_uid: &str, _container: &str) -> Option<String> {
        None
    }
}
