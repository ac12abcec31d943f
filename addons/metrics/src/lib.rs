//! rudder-metrics: the resource metrics pipeline's server (upstream's metrics-server).
//!
//! Every `--metric-resolution` it lists the Nodes and scrapes each kubelet's
//! `/metrics/resource`; from two successive cumulative CPU counters it computes usage rates,
//! and serves them with the latest memory working sets as `metrics.k8s.io/v1beta1`
//! NodeMetrics and PodMetrics behind the apiserver's aggregation layer.
//!
//! Modules, one job each:
//! - [`scrape`]: parsing the kubelet's Prometheus text into samples; fetching it.
//! - [`storage`]: the last two samples per node and container, and the rates from them.
//! - [`quantity`]: CPU and memory as Kubernetes quantities.
//! - who the caller is (front-proxy request headers, bearer tokens) and SubjectAccessReview
//!   delegation come from [`common::delegated_auth`], shared with kube-scheduler.
//! - [`api`]: the `metrics.k8s.io` REST and discovery handlers.
//! - [`server`]: TLS (self-signed unless a certificate is given) and the accept loop.

pub mod api;
pub mod quantity;
pub mod scrape;
pub mod server;
pub mod storage;
