//! PKI helpers: a cluster CA and certificates signed by it (rcgen). Filled in by the PKI work.
