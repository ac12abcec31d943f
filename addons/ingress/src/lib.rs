//! rudder-ingress: an Ingress controller that is itself the data plane, a hyper reverse proxy.
//!
//! It owns the Ingresses whose IngressClass names its controller (`rudder.dev/ingress` by
//! default), or that have no class when one of its classes is the default:
//! - [`class`] decides which Ingresses are ours;
//! - [`routes`] turns them, with Services and EndpointSlices, into a route table (hosts exact
//!   and `*.` wildcard, paths Exact/Prefix/ImplementationSpecific, a default backend) whose
//!   backends are ready pod endpoints;
//! - [`controller`] watches the API and swaps in a new table and TLS certificates after each
//!   change (requests in flight keep theirs), and has [`status`] write
//!   `status.loadBalancer.ingress`;
//! - [`tls`] picks the certificate by SNI from the Ingresses' `kubernetes.io/tls` Secrets;
//! - [`proxy`] serves HTTP and HTTPS, answering 404 when no rule matches and 503 when the
//!   backend has no ready endpoint, with an access log line per request;
//! - [`metrics`] serves `/metrics`, `/healthz` and `/readyz`.

pub mod class;
pub mod controller;
pub mod metrics;
pub mod proxy;
pub mod routes;
pub mod status;
pub mod tls;
