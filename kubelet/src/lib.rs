//! kubelet: the node agent. It registers this machine as a Node, runs the pods the scheduler
//! binds here (and static pods from `--pod-manifest-path`) through the container runtime's
//! CRI v1 API, and reports node and pod status back to the apiserver.
//!
//! Modules, one job each:
//! - `cri`: the gRPC connection to containerd (runtime + image services).
//! - `volumes`: makes a pod's volumes exist on the host and turns volumeMounts into CRI mounts.
//! - `probes`: liveness, readiness and startup probes (exec, httpGet, tcpSocket).
//! - `server`: the kubelet's HTTPS API on port 10250 (logs, exec/attach/port-forward, metrics).

pub mod cri;
pub mod probes;
pub mod server;
pub mod volumes;
