//! Node-level usage read from /proc and statvfs, in the units of the kubelet's stats API
//! (nanoseconds of CPU, bytes, inodes). Upstream gets these from cAdvisor's root cgroup;
//! /proc gives the same machine-wide picture without it.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cumulative and current CPU use of the whole node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeCpu {
    pub usage_core_nano_seconds: u64,
    pub usage_nano_cores: u64,
}

/// Memory use of the whole node, as cAdvisor reports the root cgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeMemory {
    pub available_bytes: u64,
    pub usage_bytes: u64,
    pub working_set_bytes: u64,
    pub rss_bytes: u64,
    pub page_faults: u64,
    pub major_page_faults: u64,
}

/// Capacity and use of one filesystem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsUsage {
    pub capacity_bytes: u64,
    pub available_bytes: u64,
    pub used_bytes: u64,
    pub inodes: u64,
    pub inodes_free: u64,
    pub inodes_used: u64,
}

/// Busy CPU time from the aggregate `cpu` line of /proc/stat, in clock ticks: everything but
/// idle and iowait (guest time is already inside user).
pub fn parse_proc_stat_cpu(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    Some(get(0) + get(1) + get(2) + get(5) + get(6) + get(7))
}

/// Boot time (seconds since the epoch) from /proc/stat's `btime`.
pub fn parse_boot_time(stat: &str) -> Option<i64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Memory figures from /proc/meminfo and /proc/vmstat.
pub fn parse_memory(meminfo: &str, vmstat: &str) -> Option<NodeMemory> {
    let kib = |key: &str| -> Option<u64> {
        meminfo.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
                .map(|v| v * 1024)
        })
    };
    let counter = |key: &str| -> u64 {
        vmstat
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0)
    };
    let total = kib("MemTotal")?;
    let usage = total.saturating_sub(kib("MemFree")?);
    // cAdvisor's working set: usage minus inactive page cache, which the kernel can drop.
    let working_set = usage.saturating_sub(kib("Inactive(file)").unwrap_or(0));
    Some(NodeMemory {
        available_bytes: total.saturating_sub(working_set),
        usage_bytes: usage,
        working_set_bytes: working_set,
        rss_bytes: kib("AnonPages").unwrap_or(0),
        page_faults: counter("pgfault"),
        major_page_faults: counter("pgmajfault"),
    })
}

/// Node memory now.
pub fn memory() -> Option<NodeMemory> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let vmstat = std::fs::read_to_string("/proc/vmstat").unwrap_or_default();
    parse_memory(&meminfo, &vmstat)
}

/// Boot time of the node, seconds since the epoch.
pub fn boot_time() -> Option<i64> {
    parse_boot_time(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The process limit and the current number of processes (the summary's `rlimit`).
pub fn process_counts() -> Option<(u64, u64)> {
    let max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // /proc/loadavg's fourth field is "running/total" scheduling entities.
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let total = loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .nth(1)?
        .parse()
        .ok()?;
    Some((max, total))
}

/// statvfs of `path`, or of its nearest existing ancestor (the root dir may not exist yet).
pub fn filesystem(path: &Path) -> Option<FsUsage> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let c_path = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct and reads only the NUL-terminated path.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let frsize = s.f_frsize as u64;
    Some(FsUsage {
        capacity_bytes: s.f_blocks as u64 * frsize,
        available_bytes: s.f_bavail as u64 * frsize,
        used_bytes: (s.f_blocks as u64).saturating_sub(s.f_bfree as u64) * frsize,
        inodes: s.f_files as u64,
        inodes_free: s.f_ffree as u64,
        inodes_used: (s.f_files as u64).saturating_sub(s.f_ffree as u64),
    })
}

fn busy_nanos() -> Option<u64> {
    let ticks = parse_proc_stat_cpu(&std::fs::read_to_string("/proc/stat").ok()?)?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Some(ticks.saturating_mul(1_000_000_000 / hz))
}

/// Turns the cumulative CPU counter into a rate: remembers the previous reading so that
/// `usageNanoCores` is the average since the last scrape (at least `MIN_WINDOW` long).
#[derive(Default)]
pub struct CpuSampler {
    last: Mutex<Option<Reading>>,
}

#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    busy: u64,
    rate: Option<u64>,
}

const MIN_WINDOW: Duration = Duration::from_secs(1);
/// On the very first scrape there is no earlier reading: measure over this long instead.
const FIRST_WINDOW: Duration = Duration::from_millis(100);

impl CpuSampler {
    /// The node's CPU use now.
    pub async fn sample(&self) -> Option<NodeCpu> {
        let previous = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        let previous = match previous {
            Some(p) => p,
            None => {
                let first = Reading {
                    at: Instant::now(),
                    busy: busy_nanos()?,
                    rate: None,
                };
                tokio::time::sleep(FIRST_WINDOW).await;
                first
            }
        };
        let now = Instant::now();
        let busy = busy_nanos()?;
        let elapsed = now.duration_since(previous.at);
        let reading = if elapsed >= MIN_WINDOW || previous.rate.is_none() {
            let delta = busy.saturating_sub(previous.busy) as f64;
            Reading {
                at: now,
                busy,
                rate: Some((delta / elapsed.as_secs_f64().max(1e-9)) as u64),
            }
        } else {
            previous
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(reading);
        Some(NodeCpu {
            usage_core_nano_seconds: busy,
            usage_nano_cores: reading.rate.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_busy_ticks_exclude_idle_and_iowait() {
        let stat = "cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nbtime 1700000000\n";
        assert_eq!(parse_proc_stat_cpu(stat), Some(161));
        assert_eq!(parse_boot_time(stat), Some(1_700_000_000));
        assert_eq!(parse_proc_stat_cpu("intr 1 2"), None);
    }

    #[test]
    fn memory_working_set_excludes_inactive_file_cache() {
        let meminfo = "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n\
                       Inactive(file):  300 kB\nAnonPages:       250 kB\n";
        let vmstat = "pgfault 77\npgmajfault 7\n";
        let m = parse_memory(meminfo, vmstat).unwrap();
        assert_eq!(m.usage_bytes, 800 * 1024);
        assert_eq!(m.working_set_bytes, 500 * 1024);
        assert_eq!(m.available_bytes, 500 * 1024);
        assert_eq!(m.rss_bytes, 250 * 1024);
        assert_eq!((m.page_faults, m.major_page_faults), (77, 7));
        assert_eq!(parse_memory("MemFree: 1 kB\n", ""), None);
    }

    #[test]
    fn this_machine_has_readable_stats() {
        let fs = filesystem(Path::new("/definitely/not/here")).expect("falls back to /");
        assert!(fs.capacity_bytes > 0 && fs.used_bytes <= fs.capacity_bytes);
        let m = memory().unwrap();
        assert!(m.working_set_bytes > 0 && m.working_set_bytes <= m.usage_bytes);
        let (max, cur) = process_counts().unwrap();
        assert!(cur > 0 && max >= cur);
    }

    #[tokio::test]
    async fn cpu_sampler_reports_a_rate_on_the_first_scrape() {
        let sampler = CpuSampler::default();
        let a = sampler.sample().await.unwrap();
        let b = sampler.sample().await.unwrap();
        assert!(b.usage_core_nano_seconds >= a.usage_core_nano_seconds);
        // The rate is bounded by the number of CPUs.
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1) as u64;
        assert!(a.usage_nano_cores <= cpus * 1_000_000_000 * 11 / 10);
    }
}
