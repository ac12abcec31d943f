//! Where the machine's CPU goes while a kubelet starts pods through containerd: two
//! snapshots of every process's CPU time (`/proc/<pid>/stat`) and of the machine's busy
//! time (`/proc/stat`), then the difference split by role.
//!
//! Short-lived processes are counted through whoever reaps them: the CNI plugins and the
//! shims' `start` launchers are containerd's children (its `cutime`/`cstime`), the OCI
//! runtime (runc or crun) is a shim's child, and runc's `runc init` becomes the container
//! process itself (pause or the app), which is still alive at the second snapshot.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// One process's CPU as `/proc/<pid>/stat` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessCpu {
    /// `comm` (at most 15 bytes).
    pub comm: String,
    /// Parent pid.
    pub ppid: u32,
    /// utime + stime.
    pub own: Duration,
    /// cutime + cstime: the children it has waited for.
    pub children: Duration,
}

/// USER_HZ is 100 on Linux.
fn ticks(n: u64) -> Duration {
    Duration::from_millis(n * 10)
}

/// Parse one `/proc/<pid>/stat` line.
pub fn parse_stat(stat: &str) -> Option<ProcessCpu> {
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    // Fields after the command: state, ppid, … utime (12th), stime, cutime, cstime.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some(ProcessCpu {
        comm,
        ppid: num(1)? as u32,
        own: ticks(num(11)? + num(12)?),
        children: ticks(num(13)? + num(14)?),
    })
}

/// Busy (everything but idle and iowait) CPU time of the whole machine, from the `cpu` line
/// of `/proc/stat`.
pub fn parse_machine_busy(proc_stat: &str) -> Option<Duration> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let busy = values.iter().take(8).enumerate();
    Some(ticks(
        busy.filter(|(i, _)| *i != 3 && *i != 4)
            .map(|(_, v)| v)
            .sum(),
    ))
}

/// Every process's CPU and the machine's busy time at one moment.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    /// By pid.
    pub processes: HashMap<u32, ProcessCpu>,
    /// Machine busy time so far.
    pub machine_busy: Duration,
}

impl CpuSnapshot {
    /// Read `/proc` now.
    pub fn take() -> CpuSnapshot {
        let mut processes = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                if let Some(cpu) = parse_stat(&stat) {
                    processes.insert(pid, cpu);
                }
            }
        }
        let machine_busy = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| parse_machine_busy(&s))
            .unwrap_or_default();
        CpuSnapshot {
            processes,
            machine_busy,
        }
    }
}

/// The processes whose roles are known up front.
#[derive(Debug, Clone)]
pub struct Roles {
    /// containerd.
    pub containerd: u32,
    /// containerd's socket: its shims name it on their command line.
    pub containerd_socket: std::path::PathBuf,
    /// Named daemons (kubelet, kube-apiserver, etcd, the bench …), each its own row.
    pub daemons: Vec<(String, u32)>,
}

/// Whether `pid` is a shim serving the containerd on `socket`.
fn is_shim_of(pid: u32, socket: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let socket = socket.to_string_lossy();
    cmdline
        .split(|b| *b == 0)
        .any(|arg| String::from_utf8_lossy(arg) == socket)
}

/// CPU used between `before` and `after`, by role, in the order printed; the last row is
/// what no role accounts for (kernel threads, interrupts, other processes).
pub fn breakdown(
    before: &CpuSnapshot,
    after: &CpuSnapshot,
    roles: &Roles,
    shim_filter: impl Fn(u32) -> bool,
) -> Vec<(String, Duration)> {
    let delta = |pid: u32, pick: fn(&ProcessCpu) -> Duration| -> Duration {
        let now = after.processes.get(&pid).map(pick).unwrap_or_default();
        let then = before.processes.get(&pid).map(pick).unwrap_or_default();
        now.saturating_sub(then)
    };
    let own = |p: &ProcessCpu| p.own;
    let reaped = |p: &ProcessCpu| p.children;
    let shims: Vec<u32> = after
        .processes
        .iter()
        .filter(|(pid, p)| p.comm.starts_with("containerd-shim") && shim_filter(**pid))
        .map(|(pid, _)| *pid)
        .collect();
    let containers: Vec<u32> = after
        .processes
        .iter()
        .filter(|(_, p)| shims.contains(&p.ppid))
        .map(|(pid, _)| *pid)
        .collect();
    let sum = |pids: &[u32], pick: fn(&ProcessCpu) -> Duration| -> Duration {
        pids.iter().map(|pid| delta(*pid, pick)).sum()
    };
    let mut rows = vec![
        ("containerd".to_string(), delta(roles.containerd, own)),
        (
            "run by containerd (CNI plugins, shim launchers)".to_string(),
            delta(roles.containerd, reaped),
        ),
        (
            format!("containerd-shim-runc-v2 ({} shims)", shims.len()),
            sum(&shims, own),
        ),
        (
            "run by the shims (the OCI runtime)".to_string(),
            sum(&shims, reaped),
        ),
        (
            format!(
                "container processes ({}: pause and app, with runc's init)",
                containers.len()
            ),
            sum(&containers, own) + sum(&containers, reaped),
        ),
    ];
    for (name, pid) in &roles.daemons {
        rows.push((name.clone(), delta(*pid, own) + delta(*pid, reaped)));
    }
    let accounted: Duration = rows.iter().map(|(_, d)| *d).sum();
    let busy = after.machine_busy.saturating_sub(before.machine_busy);
    rows.push((
        "everything else (kernel threads, interrupts, other processes)".to_string(),
        busy.saturating_sub(accounted),
    ));
    rows
}

/// [`breakdown`] for the containerd in `roles`, its shims found by their command line.
pub fn breakdown_for(
    before: &CpuSnapshot,
    after: &CpuSnapshot,
    roles: &Roles,
) -> Vec<(String, Duration)> {
    breakdown(before, after, roles, |pid| {
        is_shim_of(pid, &roles.containerd_socket)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let line = "4242 (containerd-shim) S 1 4242 4242 0 -1 4194560 900 0 0 0 12 3 40 7 20 0 11 0 1000 0 0";
        let cpu = parse_stat(line).expect("parsed");
        assert_eq!(cpu.comm, "containerd-shim");
        assert_eq!(cpu.ppid, 1);
        assert_eq!(cpu.own, Duration::from_millis(150));
        assert_eq!(cpu.children, Duration::from_millis(470));
        let odd = parse_stat("7 (a) b) S 3 7 7 0 -1 0 0 0 0 0 1 1 0 0 20").expect("parsed");
        assert_eq!(odd.comm, "a) b");
        assert_eq!(odd.ppid, 3);
        assert_eq!(odd.own, Duration::from_millis(20));
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 5 50 1000 30 2 3 0 0 0\ncpu0 50 2 25 500 15 1 1 0 0 0\n";
        assert_eq!(
            parse_machine_busy(stat),
            Some(Duration::from_millis((100 + 5 + 50 + 2 + 3) * 10))
        );
    }

    fn process(comm: &str, ppid: u32, own_ms: u64, children_ms: u64) -> ProcessCpu {
        ProcessCpu {
            comm: comm.into(),
            ppid,
            own: Duration::from_millis(own_ms),
            children: Duration::from_millis(children_ms),
        }
    }

    #[test]
    fn splits_the_difference_by_role() {
        let before = CpuSnapshot {
            processes: HashMap::from([
                (10, process("containerd", 1, 1000, 200)),
                (20, process("kubelet", 1, 500, 0)),
                (30, process("containerd-shim", 1, 40, 100)),
                (31, process("pause", 30, 10, 0)),
            ]),
            machine_busy: Duration::from_secs(10),
        };
        let after = CpuSnapshot {
            processes: HashMap::from([
                (10, process("containerd", 1, 1600, 500)),
                (20, process("kubelet", 1, 700, 0)),
                (30, process("containerd-shim", 1, 40, 100)),
                (31, process("pause", 30, 10, 0)),
                // New during the wave: counted from zero.
                (40, process("containerd-shim", 1, 30, 120)),
                (41, process("pause", 40, 15, 0)),
                (42, process("sleep", 40, 25, 0)),
                // Another containerd's shim: not ours.
                (50, process("containerd-shim", 1, 999, 999)),
            ]),
            machine_busy: Duration::from_secs(12),
        };
        let roles = Roles {
            containerd: 10,
            containerd_socket: "/unused".into(),
            daemons: vec![("kubelet".into(), 20)],
        };
        let rows = breakdown(&before, &after, &roles, |pid| pid != 50);
        let get = |prefix: &str| {
            rows.iter()
                .find(|(name, _)| name.starts_with(prefix))
                .map(|(_, d)| d.as_millis())
        };
        assert_eq!(get("containerd"), Some(600));
        assert_eq!(get("run by containerd"), Some(300));
        assert_eq!(get("containerd-shim-runc-v2 (2 shims)"), Some(30));
        assert_eq!(get("run by the shims"), Some(120));
        assert_eq!(get("container processes (3:"), Some(40));
        assert_eq!(get("kubelet"), Some(200));
        // 2000 ms busy − 1290 ms accounted.
        assert_eq!(get("everything else"), Some(710));
    }
}
