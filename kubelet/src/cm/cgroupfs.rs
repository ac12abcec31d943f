//! The cgroupfs driver: creates, updates and removes cgroups by writing the cgroup
//! filesystem directly (upstream's `cgroupfs` cgroup driver; the runtime must use the same
//! driver, as containerd does by default). Both layouts are handled: cgroup v1 (one
//! hierarchy per controller, possibly beside a hybrid v2 mount) and the unified v2 tree.
//!
//! A cgroup is named by its absolute path in the hierarchy (`/kubepods/burstable/pod<uid>`),
//! the form the CRI `cgroup_parent` takes.
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::resources::ResourceConfig;

/// The cgroup v2 filesystem magic (`statfs` f_type).
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// A cgroup could not be created, written or removed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no cgroup filesystem is mounted under /sys/fs/cgroup")]
    NotMounted,
    #[error("cgroup {0} does not exist")]
    Missing(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How the cgroup filesystem is laid out on this machine.
#[derive(Clone, Debug)]
pub enum Layout {
    /// cgroup v1: controller name (`cpu`, `memory`, `pids`, `cpuset`, `name=systemd`, …) to
    /// the mount point of its hierarchy, plus any other mounts (a hybrid v2 tree) that the
    /// runtime also places containers in.
    V1 {
        controllers: BTreeMap<String, PathBuf>,
        others: Vec<PathBuf>,
    },
    /// The unified cgroup v2 tree, mounted at this path.
    V2 { root: PathBuf },
}

/// Reads and writes cgroups through the cgroup filesystem.
#[derive(Clone, Debug)]
pub struct CgroupFs {
    layout: Layout,
}

impl CgroupFs {
    /// A driver over an explicit layout (tests use temporary directories).
    pub fn new(layout: Layout) -> CgroupFs {
        CgroupFs { layout }
    }

    /// Finds this machine's layout: v2 when `/sys/fs/cgroup` is a cgroup2 mount, else the v1
    /// hierarchies listed in `/proc/self/mountinfo`.
    pub fn detect() -> Result<CgroupFs, CgroupError> {
        let root = Path::new("/sys/fs/cgroup");
        if is_cgroup2(root) {
            return Ok(CgroupFs::new(Layout::V2 {
                root: root.to_path_buf(),
            }));
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(io(Path::new("/proc/self/mountinfo")))?;
        let (controllers, others) = parse_mountinfo(&mountinfo);
        if controllers.is_empty() {
            return Err(CgroupError::NotMounted);
        }
        Ok(CgroupFs::new(Layout::V1 {
            controllers,
            others,
        }))
    }

    /// Whether this is cgroup v2.
    pub fn is_v2(&self) -> bool {
        matches!(self.layout, Layout::V2 { .. })
    }

    /// Every directory that holds the cgroup `name` (one per v1 hierarchy).
    fn dirs(&self, name: &str) -> Vec<PathBuf> {
        let relative = name.trim_start_matches('/');
        match &self.layout {
            Layout::V2 { root } => vec![root.join(relative)],
            Layout::V1 {
                controllers,
                others,
            } => {
                let mut mounts: Vec<&PathBuf> = controllers.values().chain(others).collect();
                mounts.sort();
                mounts.dedup();
                mounts.into_iter().map(|m| m.join(relative)).collect()
            }
        }
    }

    /// The directory of cgroup `name` in the hierarchy of `controller` (v1), or in the
    /// unified tree (v2).
    pub fn dir(&self, controller: &str, name: &str) -> Option<PathBuf> {
        let relative = name.trim_start_matches('/');
        match &self.layout {
            Layout::V2 { root } => Some(root.join(relative)),
            Layout::V1 { controllers, .. } => controllers.get(controller).map(|m| m.join(relative)),
        }
    }

    /// Whether cgroup `name` exists (in the memory hierarchy on v1).
    pub fn exists(&self, name: &str) -> bool {
        self.dir("memory", name)
            .or_else(|| self.dirs(name).into_iter().next())
            .is_some_and(|d| d.is_dir())
    }

    /// Creates cgroup `name` (and its parents) where missing, then applies `config`.
    pub fn ensure(&self, name: &str, config: &ResourceConfig) -> Result<(), CgroupError> {
        match &self.layout {
            Layout::V2 { root } => {
                enable_v2_controllers(root, name)?;
                let dir = root.join(name.trim_start_matches('/'));
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            }
            Layout::V1 { controllers, .. } => {
                for dir in self.dirs(name) {
                    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                }
                if let Some(mount) = controllers.get("cpuset") {
                    inherit_cpuset(mount, name)?;
                }
            }
        }
        self.apply(name, config)
    }

    /// Writes `config` into an existing cgroup `name`.
    pub fn apply(&self, name: &str, config: &ResourceConfig) -> Result<(), CgroupError> {
        let mut writes: Vec<(&str, &str, String)> = Vec::new();
        match &self.layout {
            Layout::V1 { .. } => {
                if let Some(shares) = config.cpu_shares {
                    writes.push(("cpu", "cpu.shares", shares.to_string()));
                }
                if let Some(period) = config.cpu_period {
                    writes.push(("cpu", "cpu.cfs_period_us", period.to_string()));
                }
                if let Some(quota) = config.cpu_quota {
                    writes.push(("cpu", "cpu.cfs_quota_us", quota.to_string()));
                }
                if let Some(memory) = config.memory {
                    writes.push(("memory", "memory.limit_in_bytes", memory.to_string()));
                }
                if let Some(pids) = config.pids {
                    writes.push(("pids", "pids.max", limit_text(pids)));
                }
            }
            Layout::V2 { .. } => {
                if let Some(shares) = config.cpu_shares {
                    writes.push(("cpu", "cpu.weight", shares_to_weight(shares).to_string()));
                }
                if config.cpu_quota.is_some() || config.cpu_period.is_some() {
                    let period = config
                        .cpu_period
                        .unwrap_or(crate::pods::qos::CPU_PERIOD_US as u64);
                    let quota = config.cpu_quota.map(limit_text).unwrap_or("max".into());
                    writes.push(("cpu", "cpu.max", format!("{quota} {period}")));
                }
                if let Some(memory) = config.memory {
                    writes.push(("memory", "memory.max", limit_text(memory)));
                }
                if let Some(pids) = config.pids {
                    writes.push(("pids", "pids.max", limit_text(pids)));
                }
            }
        }
        for (controller, file, value) in writes {
            // A v1 controller that is not mounted cannot be limited: nothing to write.
            let Some(dir) = self.dir(controller, name) else {
                continue;
            };
            if !dir.is_dir() {
                return Err(CgroupError::Missing(name.to_string()));
            }
            let path = dir.join(file);
            std::fs::write(&path, value.as_bytes()).map_err(io(&path))?;
        }
        Ok(())
    }

    /// Reads one control file of cgroup `name` (trimmed).
    pub fn read(&self, controller: &str, name: &str, file: &str) -> Option<String> {
        let path = self.dir(controller, name)?.join(file);
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// The child cgroups of `name` (their last path segments), from the memory hierarchy on
    /// v1.
    pub fn children(&self, name: &str) -> Vec<String> {
        let Some(dir) = self.dir("memory", name) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Removes cgroup `name` and any child cgroups left in it, in every hierarchy. Fails
    /// (EBUSY) while a process still runs in it; a cgroup that is already gone is fine.
    pub fn remove(&self, name: &str) -> Result<(), CgroupError> {
        let mut first_error = None;
        for dir in self.dirs(name) {
            if let Err(e) = remove_tree(&dir) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Children first: a cgroup directory can only be removed once it has no child cgroups.
/// Only directories are removed (cgroupfs control files go with their directory).
fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(dir)(e)),
    }
}

/// `-1` (or any negative) is "no limit": `max` in the files that take it.
fn limit_text(n: i64) -> String {
    if n < 0 {
        "max".into()
    } else {
        n.to_string()
    }
}

/// cgroup v2 `cpu.weight` (1..10000) for v1 `cpu.shares` (2..262144), the conversion the
/// OCI runtimes use, so both layouts divide CPU the same way.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

fn is_cgroup2(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `buf` a properly sized out-parameter.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
    rc == 0 && buf.f_type as i64 == CGROUP2_SUPER_MAGIC
}

/// v1 hierarchies from mountinfo: controller → mount point, plus cgroup2 mounts (hybrid).
fn parse_mountinfo(text: &str) -> (BTreeMap<String, PathBuf>, Vec<PathBuf>) {
    let mut controllers = BTreeMap::new();
    let mut others = Vec::new();
    for line in text.lines() {
        // `<id> <parent> <dev> <root> <mount point> <options> [optional…] - <fstype> <source> <super options>`
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = match left.split_whitespace().nth(4) {
            Some(m) => PathBuf::from(m),
            None => continue,
        };
        let mut right = right.split_whitespace();
        let fstype = right.next().unwrap_or_default();
        let super_options = right.nth(1).unwrap_or_default();
        match fstype {
            "cgroup" => {
                for option in super_options.split(',') {
                    let known = matches!(
                        option,
                        "cpu"
                            | "cpuacct"
                            | "cpuset"
                            | "memory"
                            | "pids"
                            | "blkio"
                            | "devices"
                            | "freezer"
                            | "hugetlb"
                            | "net_cls"
                            | "net_prio"
                            | "perf_event"
                            | "rdma"
                            | "misc"
                    ) || option.starts_with("name=");
                    if known {
                        controllers.insert(option.to_string(), mount_point.clone());
                    }
                }
            }
            "cgroup2" => others.push(mount_point),
            _ => {}
        }
    }
    (controllers, others)
}

/// A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no task can join it
/// until both are set: copy them down from the nearest ancestor, as runc does.
fn inherit_cpuset(mount: &Path, name: &str) -> Result<(), CgroupError> {
    let mut dir = mount.to_path_buf();
    for segment in name.split('/').filter(|s| !s.is_empty()) {
        let parent = dir.clone();
        dir = dir.join(segment);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let path = dir.join(file);
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if !current.trim().is_empty() {
                continue;
            }
            let Ok(inherited) = std::fs::read_to_string(parent.join(file)) else {
                continue;
            };
            if !inherited.trim().is_empty() {
                std::fs::write(&path, inherited.trim()).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

/// v2: a controller's files appear in a child only when every ancestor lists it in
/// `cgroup.subtree_control`; enable the ones the root offers along the path.
fn enable_v2_controllers(root: &Path, name: &str) -> Result<(), CgroupError> {
    let available = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    let wanted: Vec<&str> = available
        .split_whitespace()
        .filter(|c| matches!(*c, "cpu" | "cpuset" | "memory" | "pids" | "io" | "hugetlb"))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut dir = root.to_path_buf();
    let segments: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    // Every ancestor of the leaf (the root included) must delegate the controllers.
    for (i, segment) in std::iter::once("")
        .chain(segments.iter().copied())
        .enumerate()
    {
        if i > 0 {
            dir = dir.join(segment);
            if i == segments.len() {
                break;
            }
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let control = dir.join("cgroup.subtree_control");
        let enabled = std::fs::read_to_string(&control).unwrap_or_default();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|c| !enabled.split_whitespace().any(|e| e == **c))
            .map(|c| format!("+{c}"))
            .collect();
        if !missing.is_empty() {
            std::fs::write(&control, missing.join(" ")).map_err(io(&control))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(root: &Path) -> CgroupFs {
        let mut controllers = BTreeMap::new();
        for c in ["cpu", "memory", "pids", "cpuset"] {
            let mount = root.join(c);
            std::fs::create_dir_all(&mount).unwrap();
            controllers.insert(c.to_string(), mount);
        }
        std::fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        std::fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        CgroupFs::new(Layout::V1 {
            controllers,
            others: vec![root.join("unified")],
        })
    }

    #[test]
    fn mountinfo_lists_v1_hierarchies_and_hybrid_v2() {
        let text = "\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw shared:5 - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
";
        let (controllers, others) = parse_mountinfo(text);
        assert_eq!(
            controllers["cpu"],
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
        assert_eq!(controllers["cpuacct"], controllers["cpu"]);
        assert_eq!(
            controllers["memory"],
            PathBuf::from("/sys/fs/cgroup/memory")
        );
        assert!(controllers.contains_key("name=systemd"));
        assert!(!controllers.contains_key("rw"));
        assert_eq!(others, vec![PathBuf::from("/sys/fs/cgroup/unified")]);
    }

    #[test]
    fn v1_creates_in_every_hierarchy_writes_limits_and_removes_children_first() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = v1(tmp.path());
        let config = ResourceConfig {
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            memory: Some(64 << 20),
            pids: Some(-1),
        };
        fs.ensure("/kubepods/burstable/podu1", &config).unwrap();
        for c in ["cpu", "memory", "pids", "cpuset", "unified"] {
            assert!(tmp.path().join(c).join("kubepods/burstable/podu1").is_dir());
        }
        let name = "/kubepods/burstable/podu1";
        assert_eq!(fs.read("cpu", name, "cpu.shares").unwrap(), "512");
        assert_eq!(fs.read("cpu", name, "cpu.cfs_quota_us").unwrap(), "50000");
        assert_eq!(
            fs.read("memory", name, "memory.limit_in_bytes").unwrap(),
            (64 << 20).to_string()
        );
        assert_eq!(fs.read("pids", name, "pids.max").unwrap(), "max");
        // cpuset copied down from the root to each new level.
        assert_eq!(fs.read("cpuset", name, "cpuset.cpus").unwrap(), "0-1");
        assert_eq!(fs.read("cpuset", "/kubepods", "cpuset.mems").unwrap(), "0");
        assert!(fs.exists(name));
        assert_eq!(
            fs.children("/kubepods/burstable"),
            vec!["podu1".to_string()]
        );

        // A container's cgroup left inside goes first; the files are the kernel's business
        // on a real cgroupfs, so the test only leaves directories behind.
        std::fs::create_dir_all(tmp.path().join("memory/kubepods/burstable/podu1/ctr")).unwrap();
        for c in ["cpu", "memory", "pids", "cpuset"] {
            for entry in std::fs::read_dir(tmp.path().join(c).join("kubepods/burstable/podu1"))
                .unwrap()
                .flatten()
            {
                if entry.file_type().unwrap().is_file() {
                    std::fs::remove_file(entry.path()).unwrap();
                }
            }
        }
        fs.remove(name).unwrap();
        assert!(!fs.exists(name));
        assert!(fs.exists("/kubepods/burstable"));
        // Removing what is gone is fine.
        fs.remove(name).unwrap();
    }

    #[test]
    fn v2_writes_weight_max_and_delegates_controllers() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        let fs = CgroupFs::new(Layout::V2 {
            root: tmp.path().to_path_buf(),
        });
        let config = ResourceConfig {
            cpu_shares: Some(1024),
            cpu_quota: Some(-1),
            cpu_period: Some(100_000),
            memory: Some(1 << 30),
            pids: Some(1000),
        };
        fs.ensure("/kubepods/podu2", &config).unwrap();
        let name = "/kubepods/podu2";
        assert_eq!(fs.read("cpu", name, "cpu.weight").unwrap(), "39");
        assert_eq!(fs.read("cpu", name, "cpu.max").unwrap(), "max 100000");
        assert_eq!(fs.read("memory", name, "memory.max").unwrap(), "1073741824");
        assert_eq!(fs.read("pids", name, "pids.max").unwrap(), "1000");
        let delegated = std::fs::read_to_string(tmp.path().join("cgroup.subtree_control")).unwrap();
        assert!(delegated.contains("+memory") && delegated.contains("+cpu"));
        assert!(
            std::fs::read_to_string(tmp.path().join("kubepods/cgroup.subtree_control"))
                .unwrap()
                .contains("+pids")
        );
    }

    #[test]
    fn weights_follow_the_oci_conversion() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
    }
}
