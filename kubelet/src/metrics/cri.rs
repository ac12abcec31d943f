//! Times every CRI gRPC call in one place: a tower service wrapped around the channel both
//! CRI clients share, keyed on the gRPC method path, as upstream's instrumented runtime and
//! image services do per method.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::Service;

/// Upstream's `operation_type` for a CRI method path such as
/// `/runtime.v1.RuntimeService/RunPodSandbox`. Unknown methods keep their own name, so a new
/// RPC shows up in the metrics instead of disappearing.
pub fn operation_type(path: &str) -> &str {
    let method = path.rsplit('/').next().unwrap_or(path);
    match method {
        "Version" => "version",
        "Status" => "status",
        "RunPodSandbox" => "run_podsandbox",
        "StopPodSandbox" => "stop_podsandbox",
        "RemovePodSandbox" => "remove_podsandbox",
        "PodSandboxStatus" => "podsandbox_status",
        "ListPodSandbox" => "list_podsandbox",
        "CreateContainer" => "create_container",
        "StartContainer" => "start_container",
        "StopContainer" => "stop_container",
        "RemoveContainer" => "remove_container",
        "ListContainers" => "list_containers",
        "ContainerStatus" => "container_status",
        // Upstream's name is shorter than the RPC's.
        "UpdateContainerResources" => "update_container",
        "ReopenContainerLog" => "reopen_container_log",
        "ExecSync" => "exec_sync",
        "Exec" => "exec",
        "Attach" => "attach",
        "PortForward" => "port_forward",
        "ContainerStats" => "container_stats",
        "ListContainerStats" => "list_container_stats",
        "PodSandboxStats" => "podsandbox_stats",
        "ListPodSandboxStats" => "list_podsandbox_stats",
        "UpdateRuntimeConfig" => "update_runtime_config",
        "CheckpointContainer" => "checkpoint_container",
        "GetContainerEvents" => "get_container_events",
        "ListMetricDescriptors" => "list_metric_descriptors",
        "ListPodSandboxMetrics" => "list_podsandbox_metrics",
        "RuntimeConfig" => "runtime_config",
        "ListImages" => "list_images",
        "ImageStatus" => "image_status",
        "PullImage" => "pull_image",
        "RemoveImage" => "remove_image",
        "ImageFsInfo" => "image_fs_info",
        other => other,
    }
}

/// Whether a response's head already says the call failed. The runtime answers a failed
/// unary call "trailers-only", so `grpc-status` is in the headers; an error sent in real
/// trailers after a message (streaming calls) is not seen here, since the timer stops at the
/// headers.
fn failed<B>(response: &http::Response<B>) -> bool {
    if response.status() != http::StatusCode::OK {
        return true;
    }
    response
        .headers()
        .get("grpc-status")
        .is_some_and(|s| s.as_bytes() != b"0")
}

/// Wraps the CRI channel; each call counts in `kubelet_runtime_operations_*` once its
/// response headers arrive (for unary calls that is when the runtime has answered).
#[derive(Clone, Debug)]
pub struct Instrumented<S> {
    inner: S,
}

impl<S> Instrumented<S> {
    pub fn new(inner: S) -> Instrumented<S> {
        Instrumented { inner }
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Instrumented<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let operation = operation_type(request.uri().path()).to_string();
        let start = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            let ok = matches!(&result, Ok(response) if !failed(response));
            record(
                super::kubelet(),
                &operation,
                start.elapsed().as_secs_f64(),
                ok,
            );
            result
        })
    }
}

fn record(metrics: &super::KubeletMetrics, operation: &str, seconds: f64, ok: bool) {
    metrics
        .runtime_operations
        .with_label_values(&[operation])
        .inc();
    metrics
        .runtime_operations_duration
        .with_label_values(&[operation])
        .observe(seconds);
    if !ok {
        metrics
            .runtime_operations_errors
            .with_label_values(&[operation])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::KubeletMetrics;

    #[test]
    fn method_paths_map_to_upstream_operation_types() {
        for (path, want) in [
            ("/runtime.v1.RuntimeService/RunPodSandbox", "run_podsandbox"),
            (
                "/runtime.v1.RuntimeService/PodSandboxStatus",
                "podsandbox_status",
            ),
            (
                "/runtime.v1.RuntimeService/ListPodSandbox",
                "list_podsandbox",
            ),
            (
                "/runtime.v1.RuntimeService/CreateContainer",
                "create_container",
            ),
            (
                "/runtime.v1.RuntimeService/ListContainers",
                "list_containers",
            ),
            (
                "/runtime.v1.RuntimeService/UpdateContainerResources",
                "update_container",
            ),
            ("/runtime.v1.RuntimeService/ExecSync", "exec_sync"),
            ("/runtime.v1.RuntimeService/Version", "version"),
            ("/runtime.v1.RuntimeService/Status", "status"),
            ("/runtime.v1.ImageService/PullImage", "pull_image"),
            ("/runtime.v1.ImageService/ImageStatus", "image_status"),
            ("/runtime.v1.ImageService/ImageFsInfo", "image_fs_info"),
            ("/runtime.v1.RuntimeService/SomethingNew", "SomethingNew"),
        ] {
            assert_eq!(operation_type(path), want, "{path}");
        }
    }

    #[test]
    fn trailers_only_error_counts_as_failed() {
        let ok = http::Response::builder()
            .header("grpc-status", "0")
            .body(())
            .unwrap();
        let headers_only = http::Response::builder().body(()).unwrap();
        let not_found = http::Response::builder()
            .header("grpc-status", "5")
            .body(())
            .unwrap();
        let bad_gateway = http::Response::builder().status(502).body(()).unwrap();
        assert!(!failed(&ok));
        assert!(!failed(&headers_only));
        assert!(failed(&not_found));
        assert!(failed(&bad_gateway));
    }

    fn encode(metrics: &KubeletMetrics) -> String {
        let registry = prometheus::Registry::new();
        metrics.register(&registry);
        let mut out = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn histogram_renders_buckets_sum_and_count() {
        let metrics = KubeletMetrics::new();
        // Binary-exact values, so the rendered sum is exact.
        let observed = [0.00390625, 0.125, 3.0];
        record(&metrics, "run_podsandbox", observed[0], true);
        record(&metrics, "run_podsandbox", observed[1], true);
        record(&metrics, "run_podsandbox", observed[2], false);
        let text = encode(&metrics);
        let lines: Vec<&str> = text.lines().collect();
        let has = |line: &str| lines.contains(&line);
        let op = "operation_type=\"run_podsandbox\"";
        let bucket_prefix =
            format!("kubelet_runtime_operations_duration_seconds_bucket{{{op},le=\"");
        let buckets: Vec<(f64, u64)> = lines
            .iter()
            .filter_map(|l| l.strip_prefix(bucket_prefix.as_str()))
            .map(|rest| {
                let (le, count) = rest.split_once("\"} ").unwrap();
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (le, count.parse().unwrap())
            })
            .collect();
        assert_eq!(buckets.len(), 15, "14 upstream buckets plus +Inf: {text}");
        for (i, (le, count)) in buckets.iter().enumerate() {
            if i < 14 {
                let want = 0.005 * 2.5f64.powi(i as i32);
                assert!(
                    (le - want).abs() < want * 1e-9,
                    "bucket {i} is {le}, want {want}"
                );
            }
            let cumulative = observed.iter().filter(|v| **v <= *le).count() as u64;
            assert_eq!(*count, cumulative, "bucket le={le}");
        }
        assert!(has(&format!(
            "kubelet_runtime_operations_duration_seconds_sum{{{op}}} 3.12890625"
        )));
        assert!(has(&format!(
            "kubelet_runtime_operations_duration_seconds_count{{{op}}} 3"
        )));
        assert!(has(&format!("kubelet_runtime_operations_total{{{op}}} 3")));
        assert!(has(&format!(
            "kubelet_runtime_operations_errors_total{{{op}}} 1"
        )));
        assert!(has(
            "# HELP kubelet_runtime_operations_duration_seconds [ALPHA] Duration in seconds of runtime operations. Broken down by operation type."
        ));
        assert!(has(
            "# TYPE kubelet_runtime_operations_duration_seconds histogram"
        ));
    }
}
