//! Storage: etcd access (compare-and-swap writes, paged reads, compaction, failing over
//! between members) and the watch cache that serves watches and consistent lists from memory.

pub mod compaction;
pub mod encryption;
pub mod etcd;
pub mod failover;
pub mod object;
pub mod watch_cache;

pub use etcd::{EtcdStore, StorageError, StoredObject};
pub use object::Object;
pub use watch_cache::{EventType, WatchCache, WatchEvent};
