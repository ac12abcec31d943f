//! The kubelet's own metrics, with upstream's names, help texts and buckets, registered in
//! the default prometheus registry that `/metrics` encodes.

pub mod cri;

use std::sync::LazyLock;

use prometheus::{exponential_buckets, CounterVec, HistogramOpts, HistogramVec, Opts};

/// Upstream's `operation_type` values for `kubelet_pod_worker_duration_seconds`.
pub const POD_WORKER_CREATE: &str = "create";
pub const POD_WORKER_UPDATE: &str = "update";
pub const POD_WORKER_SYNC: &str = "sync";

/// Upstream's `metrics.DefBuckets` (the prometheus client's default buckets).
const DEF_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The kubelet's metric families.
pub struct KubeletMetrics {
    /// `kubelet_runtime_operations_total`.
    pub runtime_operations: CounterVec,
    /// `kubelet_runtime_operations_duration_seconds`.
    pub runtime_operations_duration: HistogramVec,
    /// `kubelet_runtime_operations_errors_total`.
    pub runtime_operations_errors: CounterVec,
    /// `kubelet_pod_worker_duration_seconds`.
    pub pod_worker_duration: HistogramVec,
}

impl KubeletMetrics {
    /// Builds the families (unregistered), so tests can encode them on their own.
    pub fn new() -> KubeletMetrics {
        let label = &["operation_type"];
        let counter = |name: &str, help: &str| {
            CounterVec::new(Opts::new(name, help).subsystem("kubelet"), label)
                .expect("static counter options are valid")
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            HistogramVec::new(
                HistogramOpts::new(name, help)
                    .subsystem("kubelet")
                    .buckets(buckets),
                label,
            )
            .expect("static histogram options are valid")
        };
        KubeletMetrics {
            runtime_operations: counter(
                "runtime_operations_total",
                "[ALPHA] Cumulative number of runtime operations by operation type.",
            ),
            runtime_operations_duration: histogram(
                "runtime_operations_duration_seconds",
                "[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.",
                // Upstream: prometheus.ExponentialBuckets(.005, 2.5, 14).
                exponential_buckets(0.005, 2.5, 14).expect("static buckets are valid"),
            ),
            runtime_operations_errors: counter(
                "runtime_operations_errors_total",
                "[ALPHA] Cumulative number of runtime operation errors by operation type.",
            ),
            pod_worker_duration: histogram(
                "pod_worker_duration_seconds",
                "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
                DEF_BUCKETS.to_vec(),
            ),
        }
    }

    fn register(&self, registry: &prometheus::Registry) {
        let families: [Box<dyn prometheus::core::Collector>; 4] = [
            Box::new(self.runtime_operations.clone()),
            Box::new(self.runtime_operations_duration.clone()),
            Box::new(self.runtime_operations_errors.clone()),
            Box::new(self.pod_worker_duration.clone()),
        ];
        for family in families {
            if let Err(e) = registry.register(family) {
                tracing::warn!(error = %e, "registering a kubelet metric failed");
            }
        }
    }
}

impl Default for KubeletMetrics {
    fn default() -> Self {
        KubeletMetrics::new()
    }
}

/// The process-wide families, registered in the default registry on first use.
pub fn kubelet() -> &'static KubeletMetrics {
    static METRICS: LazyLock<KubeletMetrics> = LazyLock::new(|| {
        let m = KubeletMetrics::new();
        m.register(prometheus::default_registry());
        m
    });
    &METRICS
}
