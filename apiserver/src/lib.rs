//! kube-apiserver: serves the Kubernetes v1.33 API from etcd.
//!
//! Request path: TLS → authentication (x509 client certificates) → request-info parsing →
//! handler (discovery | openapi | REST verb) → admission → strategy (defaulting, validation) →
//! generic store → etcd, with a watch cache serving watches and lists.

pub mod discovery;
pub mod errors;
pub mod openapi;
pub mod patch;
pub mod printers;
pub mod registry;
