//! Prometheus metrics with upstream's names: `apiserver_request_total`,
//! `apiserver_request_duration_seconds`, `etcd_request_duration_seconds`.

use std::sync::OnceLock;
use std::time::Instant;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    etcd: HistogramVec,
    inflight: IntGauge,
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("apiserver_request_total", "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code."),
            &["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"],
        )
        .expect("valid metric");
        let durations = HistogramVec::new(
            HistogramOpts::new("apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.")
                .buckets(vec![0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0]),
            &["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"],
        )
        .expect("valid metric");
        let etcd = HistogramVec::new(
            HistogramOpts::new("etcd_request_duration_seconds", "Etcd request latency in seconds for each operation and object type.")
                .buckets(vec![0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0]),
            &["operation", "type"],
        )
        .expect("valid metric");
        let inflight = IntGauge::new("apiserver_current_inflight_requests", "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.")
            .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(durations.clone()),
            Box::new(etcd.clone()),
            Box::new(inflight.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        Metrics { registry, requests, durations, etcd, inflight }
    })
}

/// Labels of one API request.
pub struct RequestLabels<'a> {
    pub verb: &'a str,
    pub dry_run: bool,
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub scope: &'a str,
}

/// Record a finished request.
pub fn observe_request(l: &RequestLabels<'_>, code: u16, start: Instant) {
    let m = metrics();
    let dry = if l.dry_run { "All" } else { "" };
    let code = code.to_string();
    m.requests
        .with_label_values(&[
            l.verb,
            dry,
            l.group,
            l.version,
            l.resource,
            l.subresource,
            l.scope,
            "apiserver",
            &code,
        ])
        .inc();
    m.durations
        .with_label_values(&[
            l.verb,
            dry,
            l.group,
            l.version,
            l.resource,
            l.subresource,
            l.scope,
            "apiserver",
        ])
        .observe(start.elapsed().as_secs_f64());
}

/// Record an etcd call.
pub fn observe_etcd(operation: &str, start: Instant) {
    metrics()
        .etcd
        .with_label_values(&[operation, ""])
        .observe(start.elapsed().as_secs_f64());
}

/// Track in-flight requests.
pub fn inflight(delta: i64) {
    metrics().inflight.add(delta);
}

/// The text exposition of all metrics.
pub fn render() -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&metrics().registry.gather(), &mut buf);
    buf
}
