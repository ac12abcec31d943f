//! `CycleState`: what a plugin computed once per scheduling cycle (in PreFilter / PreScore)
//! and reads back for every node, so cluster-wide counts are not redone per node.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

/// Per-cycle data, one slot per plugin name. Cloning is cheap (the values are shared):
/// filtering with nominated pods clones the state and has plugins replace the values they
/// update (upstream's `CycleState.Clone` + PreFilter `AddPod`).
#[derive(Default, Clone)]
pub struct CycleState {
    data: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl CycleState {
    /// Store `value` under `key` (a plugin's name plus a phase, by convention).
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Arc::new(value));
    }

    /// The value stored under `key`, when it is a `T`.
    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|v| v.downcast_ref::<T>())
    }
}
