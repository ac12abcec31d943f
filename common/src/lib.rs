//! What every Rudder daemon shares: logging set-up, shutdown signals and PKI helpers
//! (a cluster CA and the certificates signed by it, generated with rcgen).

pub mod leader_election;
pub mod logging;
pub mod pki;
pub mod signals;
pub mod tls;
