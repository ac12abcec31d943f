//! Prometheus metrics with upstream's names, registered in one registry served on /metrics.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};

/// The scheduler's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// The registry /metrics encodes.
    pub registry: Registry,
    /// `scheduler_schedule_attempts_total{result,profile}`; result is `scheduled`,
    /// `unschedulable` or `error`.
    pub schedule_attempts: IntCounterVec,
    /// `scheduler_pending_pods{queue}`; queue is `active`, `backoff`, `unschedulable`, `gated`.
    pub pending_pods: IntGaugeVec,
    /// `scheduler_scheduling_attempt_duration_seconds{result,profile}`.
    pub attempt_duration: HistogramVec,
    /// `scheduler_scheduling_algorithm_duration_seconds`: filter + score of one attempt,
    /// without binding.
    pub algorithm_duration: Histogram,
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let schedule_attempts = IntCounterVec::new(
            Opts::new(
                "scheduler_schedule_attempts_total",
                "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
            ),
            &["result", "profile"],
        )?;
        let pending_pods = IntGaugeVec::new(
            Opts::new(
                "scheduler_pending_pods",
                "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods; 'gated' is the number of unschedulable pods that failed due to scheduling gates.",
            ),
            &["queue"],
        )?;
        // Upstream's buckets: exponential from 1ms, factor 2, 15 buckets.
        let buckets = prometheus::exponential_buckets(0.001, 2.0, 15)?;
        let attempt_duration = HistogramVec::new(
            HistogramOpts::new(
                "scheduler_scheduling_attempt_duration_seconds",
                "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            )
            .buckets(buckets),
            &["result", "profile"],
        )?;
        // Upstream's buckets: exponential from 1ms, factor 2, 15 buckets.
        let algorithm_duration = Histogram::with_opts(
            HistogramOpts::new(
                "scheduler_scheduling_algorithm_duration_seconds",
                "Scheduling algorithm latency in seconds",
            )
            .buckets(prometheus::exponential_buckets(0.001, 2.0, 15)?),
        )?;
        registry.register(Box::new(algorithm_duration.clone()))?;
        registry.register(Box::new(schedule_attempts.clone()))?;
        registry.register(Box::new(pending_pods.clone()))?;
        registry.register(Box::new(attempt_duration.clone()))?;
        for queue in ["active", "backoff", "unschedulable", "gated"] {
            pending_pods.with_label_values(&[queue]).set(0);
        }
        Ok(Metrics {
            registry,
            schedule_attempts,
            pending_pods,
            attempt_duration,
            algorithm_duration,
        })
    }

    /// Record one attempt's result and duration.
    pub fn observe_attempt(&self, result: &str, profile: &str, seconds: f64) {
        self.schedule_attempts
            .with_label_values(&[result, profile])
            .inc();
        self.attempt_duration
            .with_label_values(&[result, profile])
            .observe(seconds);
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let families = self.registry.gather();
        if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&families, &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }
}
