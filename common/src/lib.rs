//! What every Rudder daemon shares: logging set-up, shutdown signals, PKI helpers (a cluster
//! CA and the certificates signed by it, generated with rcgen), Go-syntax duration flags and
//! Lease-based leader election, resource quantities and what an object charges to a
//! ResourceQuota, delegated authentication/authorization for secure ports, and the Kubernetes
//! Events recorder every component reports through, and the SPDY framing and connection
//! splicing the streaming proxies share.

pub mod atomic_file;
pub mod delegated_auth;
pub mod duration;
pub mod events;
pub mod leader_election;
pub mod logging;
pub mod pki;
pub mod quantity;
pub mod quota;
pub mod signals;
pub mod spdy;
pub mod splice;
pub mod tls;
pub mod volume;
