//! The API objects and their rules.
//!
//! Rudder never hand-writes a type that k8s-openapi already has: this crate re-exports
//! `k8s_openapi` (feature `v1_33`) and adds what the types alone do not say — the catalog of
//! resources the API serves (group, version, plural, kind, scope, short names, verbs,
//! subresources), a way to round-trip a JSON object through its typed form (which is how
//! unknown fields are found and wrong field types rejected), and name validation rules.

pub mod catalog;
pub mod names;
pub mod typed;

pub use k8s_openapi;
pub use schemars;
