//! kube-proxy in nftables mode: watches Services and EndpointSlices and programs
//! `table ip kube-proxy` with upstream's rule layout (see [`render`]).
//!
//! The pieces: [`changes`] turns API objects into a [`model::ProxyModel`]; [`render`] is a pure
//! function from that model to a [`ruleset::Ruleset`]; [`ruleset`] turns rulesets into `nft`
//! transactions (replace, full rewrite, or partial update); [`nft`] applies them; [`proxier`]
//! runs the rate-limited sync loop; [`server`] serves /healthz and /metrics.
//!
//! Not yet: IPv6 (`table ip6`), loadBalancerSourceRanges, the healthCheckNodePort server for
//! `externalTrafficPolicy: Local`, conntrack clean-up of stale UDP flows, topology hints.

pub mod changes;
pub mod config;
pub mod health;
pub mod informers;
pub mod metrics;
pub mod model;
pub mod nft;
pub mod proxier;
pub mod render;
pub mod ruleset;
pub mod server;
