//! kube-proxy in nftables mode: watches Services and EndpointSlices and programs
//! `table ip kube-proxy` and, on a host with IPv6, `table ip6 kube-proxy` with upstream's
//! rule layout (see [`render`]). Each family has its own model, table and transaction
//! (upstream runs one proxier per family); see [`model::IpFamily`].
//!
//! The pieces: [`changes`] turns API objects into a [`model::ProxyModel`]; [`render`] is a pure
//! function from that model to a [`ruleset::Ruleset`]; [`ruleset`] turns rulesets into `nft`
//! transactions (replace, full rewrite, or partial update); [`nft`] applies them; [`proxier`]
//! runs the rate-limited sync loop; [`server`] serves /healthz and /metrics.
//!
//! After each sync, [`service_health`] serves the health-check node ports of
//! `externalTrafficPolicy: Local` Services and [`conntrack`] clears UDP flows DNATed to
//! endpoints that are gone.
//!
//! Not yet: topology hints.

pub mod changes;
pub mod config;
pub mod conntrack;
pub mod health;
pub mod informers;
pub mod metrics;
pub mod model;
pub mod nft;
pub mod proxier;
pub mod render;
pub mod ruleset;
pub mod server;
pub mod service_health;
