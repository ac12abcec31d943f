//! Node allocatable enforcement with real containers (issue 4): the kubelet takes
//! `--kube-reserved`, `--system-reserved` and the hard eviction threshold off the node's
//! allocatable, holds the `kubepods` cgroup to capacity minus the reservations, and runs each
//! pod in its own cgroup (under its QoS cgroup) with the pod's limits — verified on the
//! machine's cgroup filesystem and in `/proc/<pid>/cgroup` of the containers' processes.
//!
//! The kubelet runs with a private `--cgroup-root`, so tests running side by side never
//! share (or resize) one `kubepods`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, start_kubelet_with, wait_pod, POD_LIMIT};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const MI: i64 = 1 << 20;

/// The v1 hierarchy of `controller` on this machine (the test machines are cgroup v1).
fn hierarchy(controller: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup").join(controller)
}

fn read_cgroup(controller: &str, cgroup: &str, file: &str) -> Result<String> {
    let path = hierarchy(controller)
        .join(cgroup.trim_start_matches('/'))
        .join(file);
    Ok(std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .trim()
        .to_string())
}

/// Removes the test's cgroup tree (deepest first) from every hierarchy when dropped — after
/// the containerd harness (declared later, dropped earlier) has removed the containers.
struct CgroupTree(String);

impl Drop for CgroupTree {
    fn drop(&mut self) {
        fn remove(dir: &Path) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        remove(&e.path());
                    }
                }
            }
            let _ = std::fs::remove_dir(dir);
        }
        if let Ok(mounts) = std::fs::read_dir("/sys/fs/cgroup") {
            for m in mounts.flatten() {
                remove(&m.path().join(self.0.trim_start_matches('/')));
            }
        }
    }
}

/// Bytes of a Kubernetes quantity as the kubelet reports memory (`Ki` suffix or plain).
fn bytes(q: &Value) -> Result<i64> {
    let s = q.as_str().context("quantity is not a string")?;
    let (n, unit) = match s.strip_suffix("Ki") {
        Some(n) => (n, 1024),
        None => match s.strip_suffix("Mi") {
            Some(n) => (n, MI),
            None => (s, 1),
        },
    };
    Ok(n.parse::<i64>().with_context(|| format!("quantity {s}"))? * unit)
}

/// Millicores of a cpu quantity (`2`, `1800m`).
fn millis(q: &Value) -> Result<i64> {
    let s = q.as_str().context("quantity is not a string")?;
    Ok(match s.strip_suffix('m') {
        Some(m) => m.parse()?,
        None => s.parse::<i64>()? * 1000,
    })
}

fn sleeper(resources: Value) -> Value {
    json!({
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": "app",
            "image": "busybox:latest",
            "imagePullPolicy": "Never",
            "command": ["sleep", "3600"],
            "resources": resources
        }]
    })
}

/// The pid of the pod's running app container, found through its containerd id: the
/// runtime puts the container's processes in `<pod cgroup>/<container id>`.
fn container_pid(pod_cgroup: &str, pod: &Value) -> Result<u32> {
    let id = pod["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .and_then(|s| s.strip_prefix("containerd://"))
        .context("no container id")?;
    let procs = read_cgroup("memory", &format!("{pod_cgroup}/{id}"), "cgroup.procs")?;
    procs
        .lines()
        .next()
        .context("no process in the container's cgroup")?
        .parse()
        .context("pid")
}

/// The memory-hierarchy cgroup of a process, from `/proc/<pid>/cgroup`.
fn memory_cgroup_of(pid: u32) -> Result<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    text.lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == "memory")
                .then(|| path.to_string())
        })
        .context("no memory line in /proc/<pid>/cgroup")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocatable_is_enforced_through_kubepods_and_pod_cgroups() -> Result<()> {
    if std::fs::metadata("/sys/fs/cgroup/memory").is_err() {
        bail!("this test reads cgroup v1 hierarchies; /sys/fs/cgroup/memory is missing");
    }
    let root = format!("/rudder-it-{}", std::process::id());
    let _tree = CgroupTree(root.clone());
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let node = "kubelet-node-allocatable";
    let kubelet = start_kubelet_with(
        &cluster,
        &containerd,
        node,
        "10.244.113.0/24",
        &[
            format!("--cgroup-root={root}"),
            "--kube-reserved=cpu=100m,memory=256Mi".into(),
            "--system-reserved=cpu=150m,memory=128Mi,pid=1000".into(),
        ],
    )?;

    // 1. The Node: allocatable = capacity − kube-reserved − system-reserved − eviction-hard
    //    (the harness runs with memory.available<100Mi).
    let status = kubelet
        .daemon
        .eventually_within(POD_LIMIT, "node registered", || async {
            let (code, n) = cluster.get_json(&format!("/api/v1/nodes/{node}")).await?;
            Ok(
                (code.is_success() && n["status"]["allocatable"].is_object())
                    .then(|| n["status"].clone()),
            )
        })
        .await?;
    let capacity_memory = bytes(&status["capacity"]["memory"])?;
    let allocatable_memory = bytes(&status["allocatable"]["memory"])?;
    assert_eq!(
        allocatable_memory,
        capacity_memory - 256 * MI - 128 * MI - 100 * MI
    );
    let capacity_cpu = millis(&status["capacity"]["cpu"])?;
    assert_eq!(millis(&status["allocatable"]["cpu"])?, capacity_cpu - 250);

    // 2. kubepods holds what the reservations leave; the eviction threshold stays inside,
    //    so the kubelet evicts before the kernel OOM-kills (upstream's choice). The kernel
    //    rounds memory limits down to whole pages.
    let kubepods = format!("{root}/kubepods");
    let limit: i64 = read_cgroup("memory", &kubepods, "memory.limit_in_bytes")?.parse()?;
    let want = capacity_memory - 256 * MI - 128 * MI;
    assert_eq!(limit, want / 4096 * 4096, "kubepods memory limit");
    assert_eq!(
        read_cgroup("cpu", &kubepods, "cpu.shares")?,
        ((capacity_cpu - 250) * 1024 / 1000).to_string()
    );
    let pid_max: i64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")?
        .trim()
        .parse()?;
    assert_eq!(
        read_cgroup("pids", &kubepods, "pids.max")?,
        (pid_max - 1000).to_string()
    );
    assert_eq!(
        read_cgroup("cpu", &format!("{kubepods}/besteffort"), "cpu.shares")?,
        "2"
    );

    // 3. Pods of each QoS class, in their cgroups with their limits.
    let guaranteed = json!({"limits": {"cpu": "200m", "memory": "64Mi"}});
    let burstable =
        json!({"requests": {"cpu": "300m", "memory": "32Mi"}, "limits": {"memory": "96Mi"}});
    create_bound_pod(&cluster, node, "guaranteed", json!({}), sleeper(guaranteed)).await?;
    create_bound_pod(&cluster, node, "burstable", json!({}), sleeper(burstable)).await?;
    create_bound_pod(&cluster, node, "besteffort", json!({}), sleeper(json!({}))).await?;
    let mut cgroups = Vec::new();
    for (name, parent) in [
        ("guaranteed", kubepods.clone()),
        ("burstable", format!("{kubepods}/burstable")),
        ("besteffort", format!("{kubepods}/besteffort")),
    ] {
        let pod = wait_pod(&cluster, &kubelet, name, "Running", |p| {
            p["status"]["phase"] == "Running"
        })
        .await?;
        let uid = pod["metadata"]["uid"].as_str().context("uid")?.to_string();
        let cgroup = format!("{parent}/pod{uid}");
        let pid = container_pid(&cgroup, &pod)?;
        let actual = memory_cgroup_of(pid)?;
        assert!(
            actual.starts_with(&format!("{cgroup}/")),
            "{name}: its container's process {pid} is in {actual}, not under {cgroup}"
        );
        cgroups.push((name, cgroup));
    }
    let (_, guaranteed_cgroup) = &cgroups[0];
    assert_eq!(
        read_cgroup("memory", guaranteed_cgroup, "memory.limit_in_bytes")?,
        (64 * MI).to_string()
    );
    assert_eq!(
        read_cgroup("cpu", guaranteed_cgroup, "cpu.cfs_quota_us")?,
        "20000"
    );
    assert_eq!(
        read_cgroup("cpu", guaranteed_cgroup, "cpu.cfs_period_us")?,
        "100000"
    );
    assert_eq!(read_cgroup("cpu", guaranteed_cgroup, "cpu.shares")?, "204");
    let (_, burstable_cgroup) = &cgroups[1];
    assert_eq!(
        read_cgroup("memory", burstable_cgroup, "memory.limit_in_bytes")?,
        (96 * MI).to_string()
    );
    assert_eq!(
        read_cgroup("cpu", burstable_cgroup, "cpu.cfs_quota_us")?,
        "-1"
    );
    assert_eq!(read_cgroup("cpu", burstable_cgroup, "cpu.shares")?, "307");
    // The burstable QoS cgroup weighs its one pod's 300m request.
    assert_eq!(
        read_cgroup("cpu", &format!("{kubepods}/burstable"), "cpu.shares")?,
        "307"
    );
    let (_, besteffort_cgroup) = &cgroups[2];
    assert_eq!(read_cgroup("cpu", besteffort_cgroup, "cpu.shares")?, "2");

    // 4. Deleting the pods removes their cgroups from every hierarchy.
    for (name, _) in &cgroups {
        let (code, body) = cluster
            .delete(&format!("/api/v1/namespaces/default/pods/{name}"))
            .await?;
        if !code.is_success() {
            bail!("deleting {name}: {code} {body}");
        }
    }
    for (name, cgroup) in &cgroups {
        kubelet
            .daemon
            .eventually_within(
                POD_LIMIT,
                &format!("{name}: pod cgroup removed"),
                || async {
                    let gone = ["memory", "cpu", "pids", "cpuset"]
                        .iter()
                        .all(|c| !hierarchy(c).join(cgroup.trim_start_matches('/')).exists());
                    Ok(gone.then_some(()))
                },
            )
            .await?;
    }
    assert_eq!(
        read_cgroup("cpu", &format!("{kubepods}/burstable"), "cpu.shares")?,
        "2",
        "burstable re-weighed once its pod left"
    );
    Ok(())
}
