//! kubelet: the node agent. It registers this machine as a Node, runs the pods the scheduler
//! binds here (and static pods from `--pod-manifest-path`) through the container runtime's
//! CRI v1 API, and reports node and pod status back to the apiserver.
//!
//! Modules, one job each:
//! - `certificate`: TLS bootstrapping of the client certificate (`--bootstrap-kubeconfig`)
//!   and the self-signed serving certificate in `--cert-dir`.
//! - `cm`: the container manager: the kubelet's cgroups (node allocatable, QoS, pods).
//! - `config`: the upstream-named flags.
//! - `cri`: the gRPC connection to containerd (runtime + image services).
//! - `fake_runtime`: an in-memory CRI runtime for scale tests (`--fake-runtime`, hollow-node).
//! - `node`: registration, node status and Lease heartbeats.
//! - `network`: the CNI conflist, pods' DNS and /etc/hosts.
//! - `pods`: pod sources (apiserver, static manifests), one worker per pod, the relister.
//! - `volumes`: makes a pod's volumes exist on the host and turns volumeMounts into CRI mounts.
//! - `probes`: liveness, readiness and startup probes (exec, httpGet, tcpSocket).
//! - `events`: Events about pods.
//! - `log_rotation`: rotates and compresses container logs that grew too large.
//! - `server`: the kubelet's HTTPS API on port 10250 (logs, exec/attach/port-forward, metrics).
//! - `run`: wires them together.

pub mod certificate;
pub mod cm;
pub mod config;
pub mod cri;
pub mod events;
pub mod eviction;
pub mod fake_runtime;
pub mod log_rotation;
pub mod metrics;
pub mod network;
pub mod node;
pub mod pods;
pub mod probes;
pub mod run;
pub mod server;
pub mod volumes;

/// The Kubernetes version this kubelet implements (reported in nodeInfo).
pub const KUBELET_VERSION: &str = "v1.33.0";
