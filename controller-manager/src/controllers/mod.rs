//! One module per controller, as upstream's `pkg/controller/<name>/`.

pub mod namespace;
pub mod podutil;
pub mod replicaset;
pub mod selector;
pub mod serviceaccount;
