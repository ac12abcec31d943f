//! Facts about this machine for the Node object: capacity and nodeInfo, read from /proc and
//! the filesystem the kubelet's root dir lives on.
use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// CPU, memory, ephemeral-storage and pods, as the Node's `capacity`.
pub fn capacity(root_dir: &Path, max_pods: u32) -> BTreeMap<String, Quantity> {
    let mut capacity = BTreeMap::new();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    capacity.insert("cpu".into(), Quantity(cpus.to_string()));
    if let Some(kib) = meminfo_kib("MemTotal") {
        capacity.insert("memory".into(), Quantity(format!("{kib}Ki")));
    }
    if let Some((total, _)) = filesystem_bytes(root_dir) {
        capacity.insert(
            "ephemeral-storage".into(),
            Quantity(format!("{}Ki", total / 1024)),
        );
    }
    capacity.insert("pods".into(), Quantity(max_pods.to_string()));
    capacity.insert("hugepages-2Mi".into(), Quantity("0".into()));
    capacity
}

/// A value of /proc/meminfo in KiB.
pub fn meminfo_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// (total, available) bytes of the filesystem holding `path`.
pub fn filesystem_bytes(path: &Path) -> Option<(u64, u64)> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct we own; the path is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    let block = stat.f_frsize;
    Some((stat.f_blocks * block, stat.f_bavail * block))
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn os_image() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The Node's `status.nodeInfo`.
pub fn node_info(runtime_version: &str) -> k8s_openapi::api::core::v1::NodeSystemInfo {
    let machine_id = read_trimmed("/etc/machine-id");
    k8s_openapi::api::core::v1::NodeSystemInfo {
        architecture: architecture().into(),
        boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
        container_runtime_version: runtime_version.into(),
        kernel_version: read_trimmed("/proc/sys/kernel/osrelease"),
        kube_proxy_version: String::new(),
        kubelet_version: crate::KUBELET_VERSION.into(),
        machine_id: machine_id.clone(),
        operating_system: "linux".into(),
        os_image: os_image(),
        system_uuid: {
            let uuid = read_trimmed("/sys/class/dmi/id/product_uuid");
            if uuid.is_empty() {
                machine_id
            } else {
                uuid
            }
        },
        swap: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_reports_the_machine() {
        let cap = capacity(Path::new("/"), 110);
        assert_eq!(cap["pods"].0, "110");
        assert!(cap["memory"].0.ends_with("Ki"));
        let cpus: usize = cap["cpu"].0.parse().unwrap();
        assert!(cpus >= 1);
        let (total, avail) = filesystem_bytes(Path::new("/")).unwrap();
        assert!(total > 0 && avail <= total);
    }
}
