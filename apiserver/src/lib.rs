//! kube-apiserver: serves the Kubernetes v1.33 API from etcd.
//!
//! Request path (see [`handlers::handle`]): TLS ([`server`]) → authentication ([`authn`],
//! x509 client certificates) → request-info parsing ([`request`]) → authorization
//! ([`authz`]: Node, RBAC) → handler (discovery,
//! OpenAPI, or a REST verb) → admission ([`admission`]) → strategy ([`registry`]: defaulting,
//! validation) → generic store ([`store`]) → etcd, with a watch cache ([`storage`]) serving
//! watches and lists. Subresources the kubelet serves (logs, exec, attach, port-forward,
//! node proxy) are relayed to it by [`kubelet`].

pub mod admission;
pub mod aggregator;
pub mod audit;
pub mod authn;
pub mod authz;
pub mod bootstrap;
pub mod config;
pub mod discovery;
pub mod endpoint_reconciler;
pub mod errors;
pub mod handlers;
pub mod kubelet;
pub mod metrics;
pub mod openapi;
pub mod patch;
pub mod printers;
pub mod protobuf;
pub mod registry;
pub mod request;
pub mod selectors;
pub mod server;
pub mod storage;
pub mod store;
