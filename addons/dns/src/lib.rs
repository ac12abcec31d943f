//! rudder-dns: the cluster DNS add-on (the role CoreDNS plays behind the `kube-dns` Service).
//!
//! It owns the `<zone>` (default `cluster.local`) and the reverse names of cluster addresses:
//! - [`records`] turns Services and EndpointSlices into the records of upstream's DNS-based
//!   service discovery spec (A/AAAA, SRV, PTR, CNAME for ExternalName, headless Services'
//!   endpoints, `dns-version` TXT) and answers questions from that snapshot;
//! - [`informers`] watches the API and swaps in a new snapshot after each change;
//! - [`server`] speaks DNS over UDP and TCP (wire format from `hickory-proto`);
//! - [`forward`] relays names outside the cluster zone to the configured upstream resolvers
//!   (or answers REFUSED when there are none);
//! - [`health`] serves `/health` and `/ready` over HTTP.

pub mod forward;
pub mod health;
pub mod informers;
pub mod records;
pub mod server;
