//! Observing the eviction signals: how much of each resource is left, and of how much.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proto::cri::v1 as cri;

use super::thresholds::Signal;
use crate::cri::Runtime;
use crate::server::node_stats;

/// One signal's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub available: u64,
    pub capacity: u64,
}

/// Readings of every signal that could be read.
pub type Observations = BTreeMap<Signal, Observation>;

/// The filesystem holding the runtime's images (CRI ImageFsInfo), when it says.
pub async fn image_fs_path(runtime: &Runtime) -> Option<PathBuf> {
    let info = runtime
        .images
        .clone()
        .image_fs_info(cri::ImageFsInfoRequest {})
        .await
        .ok()?
        .into_inner();
    info.image_filesystems
        .first()
        .and_then(|fs| fs.fs_id.as_ref())
        .map(|id| PathBuf::from(&id.mountpoint))
        .filter(|p| !p.as_os_str().is_empty())
}

/// Read every signal now. `root_dir` is the kubelet's (nodefs); `image_fs` the runtime's
/// image filesystem (imagefs), the nodefs when unknown.
pub fn observe(root_dir: &Path, image_fs: Option<&Path>) -> Observations {
    let mut out = Observations::new();
    if let Some(m) = node_stats::memory() {
        // available = capacity - working set, as upstream computes memory.available.
        out.insert(
            Signal::MemoryAvailable,
            Observation {
                available: m.available_bytes,
                capacity: m.available_bytes + m.working_set_bytes,
            },
        );
    }
    let mut filesystems = |path: &Path, bytes: Signal, inodes: Signal| {
        if let Some(fs) = node_stats::filesystem(path) {
            out.insert(
                bytes,
                Observation {
                    available: fs.available_bytes,
                    capacity: fs.capacity_bytes,
                },
            );
            if fs.inodes > 0 {
                out.insert(
                    inodes,
                    Observation {
                        available: fs.inodes_free,
                        capacity: fs.inodes,
                    },
                );
            }
        }
    };
    filesystems(root_dir, Signal::NodeFsAvailable, Signal::NodeFsInodesFree);
    filesystems(
        image_fs.unwrap_or(root_dir),
        Signal::ImageFsAvailable,
        Signal::ImageFsInodesFree,
    );
    if let Some((max, used)) = node_stats::process_counts() {
        out.insert(
            Signal::PidAvailable,
            Observation {
                available: max.saturating_sub(used),
                capacity: max,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_reports_memory_disk_and_pids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let obs = observe(dir.path(), None);
        for signal in [
            Signal::MemoryAvailable,
            Signal::NodeFsAvailable,
            Signal::ImageFsAvailable,
            Signal::PidAvailable,
        ] {
            let o = obs
                .get(&signal)
                .unwrap_or_else(|| panic!("{signal:?} missing"));
            assert!(
                o.capacity > 0 && o.available <= o.capacity,
                "{signal:?}: {o:?}"
            );
        }
        // With no image filesystem known, imagefs is the nodefs.
        assert_eq!(
            obs[&Signal::NodeFsAvailable].capacity,
            obs[&Signal::ImageFsAvailable].capacity
        );
    }
}
