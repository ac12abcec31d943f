//! rudder-dns: the cluster DNS add-on (the role CoreDNS plays behind the `kube-dns` Service).
//!
//! It owns the `<zone>` (default `cluster.local`) and the reverse names of cluster addresses:
//! - [`records`] turns Services and EndpointSlices into the records of upstream's DNS-based
//!   service discovery spec (A/AAAA, SRV, PTR, CNAME for ExternalName, headless Services'
//!   endpoints, `dns-version` TXT) and answers questions from that snapshot;
//! - [`informers`] watches the API and swaps in a new snapshot after each change;
//! - [`server`] speaks DNS over UDP and TCP (wire format from `hickory-proto`);
//! - [`hosts`] answers names outside the zone from a hosts file (CoreDNS's `hosts` plugin);
//! - [`forward`] relays the other names to the configured upstream resolvers (loopback ones
//!   only from resolv.conf; SERVFAIL at once when none may be asked, REFUSED when none is
//!   configured);
//! - [`health`] serves `/health` and `/ready` over HTTP.

pub mod forward;
pub mod health;
pub mod hosts;
pub mod informers;
pub mod records;
pub mod server;
