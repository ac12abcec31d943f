//! `CycleState`: what a plugin computed once per scheduling cycle (in PreFilter / PreScore)
//! and reads back for every node, so cluster-wide counts are not redone per node.

use std::any::Any;
use std::collections::HashMap;

/// Per-cycle data, one slot per plugin name.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    /// Store `value` under `key` (a plugin's name plus a phase, by convention).
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }

    /// The value stored under `key`, when it is a `T`.
    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|v| v.downcast_ref::<T>())
    }
}
