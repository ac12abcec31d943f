//! kube-scheduler (work in progress).
mod cache;
mod framework;
mod metrics;
mod queue;
fn main() {}
