//! What the benches read about a cluster's processes from /proc: finding a daemon by its
//! command line, its CPU time and its memory high-water mark.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::TestCluster;

/// utime + stime a process has used so far (10 ms ticks); zero when it cannot be read.
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name may hold spaces: count fields after its closing ")", where utime
    // and stime (fields 14 and 15 of the whole line) are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A `/proc/<pid>/status` field given in KiB (`VmRSS`, `VmHWM`, …); 0 when unreadable.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.split(':').next() == Some(field.trim_end_matches(':')))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The process whose program name ends with `program` and that has `arg` as one of its
/// arguments.
pub fn find_pid(program: &str, arg: &str) -> Result<u32> {
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
        let is_program = args.next().is_some_and(|a| a.ends_with(program));
        if is_program && args.any(|a| a == arg) {
            return Ok(pid);
        }
    }
    bail!("no {program} process with argument {arg}")
}

/// The cluster's kube-apiserver (the harness keeps its daemons private), by its unique
/// `--secure-port`.
pub fn apiserver_pid(cluster: &TestCluster) -> Result<u32> {
    let port = cluster
        .base_url()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    find_pid("kube-apiserver", &format!("--secure-port={port}"))
}

/// The cluster's etcd, by its unique client URL.
pub fn etcd_pid(cluster: &TestCluster) -> Result<u32> {
    find_pid("etcd", cluster.etcd().endpoint())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(status_kib(me, "VmHWM") > 0);
        assert_eq!(status_kib(me, "NoSuchField"), 0);
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(50) {
            std::hint::black_box(0u64);
        }
        assert!(cpu_time(me) > Duration::ZERO);
        assert!(find_pid("no-such-program-xyz", "x").is_err());
    }
}
