//! One module per controller, as upstream's `pkg/controller/<name>/`.

pub mod namespace;
