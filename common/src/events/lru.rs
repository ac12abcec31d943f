//! A bounded map that forgets its least recently used entry when full, as the
//! `groupcache/lru` caches upstream's event correlator keeps: a long-running component
//! sees an unbounded number of distinct events, and its memory must not grow with them.

use std::collections::{BTreeMap, HashMap};

/// A map of at most `capacity` entries; inserting into a full map drops the entry read
/// or written longest ago.
#[derive(Debug)]
pub(crate) struct Lru<V> {
    capacity: usize,
    /// Key → (value, the tick it was last used at).
    entries: HashMap<String, (V, u64)>,
    /// Tick → key, oldest first: what to drop next.
    order: BTreeMap<u64, String>,
    tick: u64,
}

impl<V> Lru<V> {
    /// An empty map holding at most `capacity` entries (at least one).
    pub(crate) fn new(capacity: usize) -> Lru<V> {
        Lru {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
        }
    }

    /// The value under `key`, which becomes the most recently used.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        let (value, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, key.to_string());
        Some(value)
    }

    /// Store `value` under `key` as the most recently used, dropping the least recently
    /// used entry when the map is full.
    pub(crate) fn insert(&mut self, key: &str, value: V) {
        self.tick += 1;
        let tick = self.tick;
        if let Some((_, used)) = self.entries.insert(key.to_string(), (value, tick)) {
            self.order.remove(&used);
        }
        self.order.insert(tick, key.to_string());
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_drops_the_least_recently_used_entry() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("b", 2);
        // Reading "a" makes "b" the oldest.
        assert_eq!(lru.get_mut("a").copied(), Some(1));
        lru.insert("c", 3);
        assert_eq!(lru.len(), 2);
        assert!(lru.get_mut("b").is_none());
        assert_eq!(lru.get_mut("a").copied(), Some(1));
        assert_eq!(lru.get_mut("c").copied(), Some(3));
    }

    #[test]
    fn overwriting_a_key_keeps_one_entry() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("a", 2);
        lru.insert("b", 3);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get_mut("a").copied(), Some(2));
    }
}
