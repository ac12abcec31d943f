//! Child processes of a test cluster: free loopback ports, finding the binaries built by
//! hack/test.sh, log files, and killing on drop.

use std::collections::HashSet;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use anyhow::{bail, Context, Result};

/// Ports handed out by this process, so two clusters in one test binary never share one.
fn taken_ports() -> &'static Mutex<HashSet<u16>> {
    static TAKEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    TAKEN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, then release). The
/// kernel hands out ephemeral ports in sequence, so another process grabbing it before our
/// daemon binds is unlikely; callers retry start-up on failure anyway.
pub fn free_port() -> Result<u16> {
    for _ in 0..50 {
        let listener = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let mut taken = taken_ports().lock().unwrap_or_else(|e| e.into_inner());
        if taken.insert(port) {
            return Ok(port);
        }
    }
    bail!("no free loopback port found")
}

/// The directory holding kube-apiserver and the other binaries of the workspace.
///
/// Order: `RUDDER_BIN_DIR`; the directory of the running test executable's parent
/// (`<target>/debug/deps/test-xxx` → `<target>/debug`); `$CARGO_TARGET_DIR/debug`; the
/// workspace's `target/debug`. The first one containing `kube-apiserver` wins.
pub fn bin_dir() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("RUDDER_BIN_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(profile_dir) = exe.parent().and_then(Path::parent) {
            candidates.push(profile_dir.to_path_buf());
        }
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug"));
    }
    candidates.push(workspace_root().join("target").join("debug"));
    for dir in &candidates {
        if dir.join("kube-apiserver").is_file() {
            return Ok(dir.clone());
        }
    }
    bail!(
        "kube-apiserver binary not found in {candidates:?}; run `cargo build --workspace` \
         (hack/test.sh does) or set RUDDER_BIN_DIR"
    )
}

/// The workspace root (parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Path of the etcd binary (Debian's etcd-server), `ETCD_BIN` overriding.
pub fn etcd_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ETCD_BIN") {
        return PathBuf::from(bin);
    }
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let path = Path::new(dir).join("etcd");
        if path.is_file() {
            return path;
        }
    }
    PathBuf::from("etcd")
}

/// Install the nftables traffic guard once per test process (shared/RUNTIME-NOTES.md): no
/// test packet for a private-range address may leave the machine. Failing to install it is
/// reported, not fatal: apiserver-level tests send no traffic to Service or pod addresses.
pub fn ensure_traffic_guard() {
    static GUARD: OnceLock<()> = OnceLock::new();
    GUARD.get_or_init(|| {
        let script = workspace_root().join("hack/lib/guard.sh");
        match Command::new("bash")
            .arg(&script)
            .stdout(Stdio::null())
            .status()
        {
            Ok(status) if status.success() => {}
            other => eprintln!("warning: traffic guard not installed ({other:?})"),
        }
    });
}

/// A child process that is killed (SIGKILL) and reaped when dropped.
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Spawn `program args…` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Daemon> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("open {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .args(args)
            // An error a daemon exits with stays one readable report: anyhow's backtraces
            // (on when the test runner sets RUST_BACKTRACE) would push it out of a log tail.
            // Panics keep their backtraces.
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("spawn {}", program.display()))?;
        Ok(Daemon {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait up to `grace` for the exit (a graceful shutdown); SIGKILL and reap
    /// if it is still running then. Returns whether it exited within `grace`.
    pub fn terminate(&mut self, grace: std::time::Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = std::time::Instant::now() + grace;
        while self.is_running() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let exited = !self.is_running();
        self.kill();
        exited
    }

    /// SIGKILL and reap: the abrupt death a crash or OOM kill would be.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `lines` lines of the log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }

    /// The daemon's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Poll `check` until it returns `Some`, or fail after [`EVENTUALLY`] with this daemon's
    /// log tail (what a test waiting on a controller's reaction needs to explain a failure).
    pub async fn eventually<T, F, Fut>(&self, what: &str, check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        self.eventually_within(EVENTUALLY, what, check).await
    }

    /// [`Daemon::eventually`] with an explicit limit.
    pub async fn eventually_within<T, F, Fut>(
        &self,
        limit: std::time::Duration,
        what: &str,
        mut check: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(v) = check().await? {
                return Ok(v);
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "timed out waiting for {what}\n--- {} log ---\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

/// How long [`Daemon::eventually`] waits: generous, for a debug build on a busy 2-core machine.
pub const EVENTUALLY: std::time::Duration = std::time::Duration::from_secs(60);

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `lines` lines of a file (empty if unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Unmounts everything mounted under `dir`, deepest first: the tmpfs a test kubelet mounts
/// for secret and projected volumes outlive it when it is killed, and would keep the test's
/// temporary directory (and the mounts) on the machine after the test.
pub fn unmount_under(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount_path(p)))
        .filter(|p| p.starts_with(dir) && p != dir)
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for point in points {
        let status = Command::new("umount")
            .arg(&point)
            .stderr(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("warning: could not unmount {}", point.display());
        }
    }
}

/// A mount point as mountinfo writes it, with space, tab, newline and backslash escaped in
/// octal (`\040`).
fn unescape_mount_path(p: &str) -> String {
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod mount_tests {
    use super::*;

    #[test]
    fn mountinfo_paths_are_unescaped() {
        assert_eq!(unescape_mount_path(r"/tmp/a\040b/c"), "/tmp/a b/c");
        assert_eq!(unescape_mount_path(r"/plain"), "/plain");
        assert_eq!(unescape_mount_path(r"/odd\09"), r"/odd\09");
    }
}
