//! `CycleState`: what a plugin computed once per scheduling cycle (in PreFilter / PreScore)
//! and reads back for every node, so cluster-wide counts are not redone per node.

use std::any::Any;
use std::sync::Arc;

/// Per-cycle data, one slot per plugin name. Cloning is cheap (the values are shared):
/// filtering with nominated pods clones the state and has plugins replace the values they
/// update (upstream's `CycleState.Clone` + PreFilter `AddPod`).
///
/// A short list rather than a hash map: it holds a dozen entries at most and is read for
/// every node by every filter and score, where hashing the key cost more than comparing it.
#[derive(Default, Clone)]
pub struct CycleState {
    data: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl CycleState {
    /// Store `value` under `key` (a plugin's name plus a phase, by convention).
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
        match self.data.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.data.push((key, value)),
        }
    }

    /// The value stored under `key`, when it is a `T`.
    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.downcast_ref::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_and_read_checks_the_type() {
        let mut state = CycleState::default();
        state.write("a", 1u32);
        state.write("b", String::from("x"));
        state.write("a", 2u32);
        assert_eq!(state.read::<u32>("a"), Some(&2));
        assert_eq!(state.read::<String>("b").map(String::as_str), Some("x"));
        assert_eq!(state.read::<u64>("a"), None, "wrong type");
        assert_eq!(state.read::<u32>("c"), None, "absent");
        let mut clone = state.clone();
        clone.write("a", 3u32);
        assert_eq!(
            state.read::<u32>("a"),
            Some(&2),
            "a clone's writes stay its own"
        );
    }
}
