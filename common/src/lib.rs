//! What every Rudder daemon shares: logging set-up, shutdown signals, PKI helpers (a cluster
//! CA and the certificates signed by it, generated with rcgen), Go-syntax duration flags and
//! Lease-based leader election, resource quantities and what an object charges to a
//! ResourceQuota, and delegated authentication/authorization for secure ports.

pub mod atomic_file;
pub mod delegated_auth;
pub mod duration;
pub mod leader_election;
pub mod logging;
pub mod pki;
pub mod quantity;
pub mod quota;
pub mod signals;
pub mod spdy;
pub mod tls;
pub mod volume;
