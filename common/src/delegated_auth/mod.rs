//! Delegated authentication and authorization for a daemon's secure port, as upstream's
//! `DelegatingAuthenticationOptions` / `DelegatingAuthorizationOptions` (kube-scheduler,
//! kube-controller-manager, extension apiservers): the daemon asks the apiserver who a
//! caller is (TokenReview) and what it may do (SubjectAccessReview), and trusts client
//! certificates signed by the cluster's client CA or, vouching for another user in request
//! headers, by the front proxy's CA.
//!
//! - [`authn`]: the single steps (front-proxy headers, client certificate, bearer token).
//! - [`authz`]: SubjectAccessReviews with a short cache.
//! - [`options`]: upstream's flags and the [`options::DelegatingAuth`] they build, which
//!   runs the whole chain for a request and gives the TLS client-certificate verifier.
//! - [`client_verifier`]: accepts a client certificate signed by either CA, or none.

pub mod authn;
pub mod authz;
pub mod client_verifier;
pub mod options;
