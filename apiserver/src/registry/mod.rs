//! The registry: for each served resource, its catalog entry and its strategy.
//!
//! As upstream's `pkg/registry/<group>/<resource>/strategy.go`, the generic store does CRUD and
//! watch for every resource; a [`Strategy`] only says how one kind is defaulted and validated,
//! which field selectors it supports and how it converts between served versions.

pub mod conversion;
pub mod strategies;
pub mod strategy;

pub use strategy::Strategy;
