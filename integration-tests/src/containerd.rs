//! A private containerd with the CRI plugin for kubelet tests: its own root, state, socket,
//! OCI runtime state and CNI config directory in a temporary directory, the test images
//! (`hack/build-images.sh`) imported, and everything it started removed on drop.
//!
//! ```no_run
//! let containerd = integration_tests::containerd::Containerd::start()?;
//! // kubelet --container-runtime-endpoint <endpoint> --cni-conf-dir <cni_conf_dir> ...
//! println!("{} {}", containerd.endpoint(), containerd.cni_conf_dir().display());
//! # Ok::<(), anyhow::Error>(())
//! ```
//! The configuration is written by `hack/lib/containerd.sh`'s `write_config`, and clean-up is
//! that library's `remove_all` and `reap`, so scripts and tests share one configuration (the
//! OCI runtime included: crun where the host suits it, else runc) and one way of leaving no
//! containers, shims or mounts behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::process::{self, Daemon};

/// The test image pods run (`busybox`, `busybox:latest` normalise to it in the CRI).
pub const BUSYBOX_IMAGE: &str = "docker.io/library/busybox:latest";
/// The sandbox image the CRI is configured with.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.9";
/// The containerd namespace the CRI plugin keeps its images and containers in.
pub const NAMESPACE: &str = "k8s.io";
/// How long containerd may take to answer on its socket.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long containerd gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running private containerd; stopped and cleaned up on drop.
pub struct Containerd {
    // Field order is drop order; Drop stops the daemon itself, the directory goes last.
    daemon: Option<Daemon>,
    dir: TempDir,
}

impl Containerd {
    /// Write the configuration, start containerd, wait until its socket answers, and import
    /// the busybox and pause images (built by `hack/build-images.sh` into
    /// [`images_dir`] if they are not current). Blocking: a second or two.
    pub fn start() -> Result<Containerd> {
        let bin = containerd_bin().context("containerd not found; run hack/install-deps.sh")?;
        // Unix socket paths are limited to 108 bytes: keep the directory short.
        let dir = tempfile::Builder::new()
            .prefix("rudder-ctrd-")
            .tempdir_in("/tmp")?;
        // The configuration, and the OCI runtime it names, come from the scripts' library,
        // so that what passes in tests is what local-up-cluster runs.
        run_lib("rudder::containerd::write_config", dir.path())?;
        let daemon = Daemon::spawn(
            "containerd",
            &bin,
            &[
                "--config".to_string(),
                dir.path()
                    .join("config.toml")
                    .to_string_lossy()
                    .into_owned(),
            ],
            &dir.path().join("containerd.log"),
        )?;
        // The pid file lets `rudder::containerd::stop DIR` stop this instance by hand too.
        std::fs::write(
            dir.path().join("containerd.pid"),
            format!("{}\n", daemon.pid()),
        )?;
        let mut containerd = Containerd {
            daemon: Some(daemon),
            dir,
        };
        containerd.wait_ready()?;
        containerd.import_images()?;
        Ok(containerd)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let socket = self.socket_path();
        loop {
            let Some(daemon) = self.daemon.as_mut() else {
                bail!("containerd is not running");
            };
            if !daemon.is_running() {
                bail!(
                    "containerd exited during start-up:\n{}",
                    daemon.log_tail(30)
                );
            }
            let answered = Command::new("ctr")
                .arg("--address")
                .arg(&socket)
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("run ctr (install containerd: hack/install-deps.sh)")?;
            if answered.success() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "containerd not answering after {READY_TIMEOUT:?}:\n{}",
                    daemon.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn import_images(&self) -> Result<()> {
        let script = process::workspace_root().join("hack/build-images.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("--import")
            .arg(self.socket_path())
            .env("IMAGES_DIR", images_dir())
            .output()
            .with_context(|| format!("run {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{} --import failed ({}):\n{}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// The containerd socket.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    /// `unix://<socket>`, as `--container-runtime-endpoint` takes it.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket_path().display())
    }

    /// The directory the CRI plugin reads CNI network configs from; the kubelet writes its
    /// conflist here (`--cni-conf-dir`).
    pub fn cni_conf_dir(&self) -> PathBuf {
        self.dir.path().join("net.d")
    }

    /// The instance's directory (config, log, root, state).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Process id of containerd.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Daemon::pid)
    }

    /// A `ctr` command talking to this containerd in the CRI's namespace; add arguments.
    pub fn ctr(&self) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.arg("--address")
            .arg(self.socket_path())
            .args(["--namespace", NAMESPACE]);
        cmd
    }

    /// Run `ctr ARGS…` and return its stdout; fails (with stderr) on a non-zero exit.
    pub fn ctr_output(&self, args: &[&str]) -> Result<String> {
        let out: Output = self
            .ctr()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("run ctr")?;
        if !out.status.success() {
            bail!(
                "ctr {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The OCI runtime the CRI's default handler runs (`runc` or `crun`;
    /// `rudder::containerd::oci_runtime` chose it). Its state lies in `dir()/<runtime>`.
    pub fn oci_runtime(&self) -> Result<String> {
        let config = std::fs::read_to_string(self.dir.path().join("config.toml"))
            .context("read config.toml")?;
        config
            .lines()
            .find_map(|l| l.trim().strip_prefix("default_runtime_name = "))
            .map(|v| v.trim_matches('"').to_string())
            .context("config.toml names no default runtime")
    }

    /// The containerd log's last lines (for assertion messages).
    pub fn log_tail(&self, lines: usize) -> String {
        process::log_tail(&self.dir.path().join("containerd.log"), lines)
    }

    /// Remove every container, stop containerd, and remove its shims and mounts.
    fn stop(&mut self) {
        let Some(mut daemon) = self.daemon.take() else {
            return;
        };
        if daemon.is_running() {
            if let Err(err) = run_lib("rudder::containerd::remove_all", self.dir.path()) {
                eprintln!("warning: removing containers: {err:#}");
            }
            daemon.terminate(STOP_GRACE);
        }
        // SIGKILL if still running, and reap.
        daemon.kill();
        let _ = std::fs::remove_file(self.dir.path().join("containerd.pid"));
        if let Err(err) = run_lib("rudder::containerd::reap", self.dir.path()) {
            eprintln!("warning: cleaning up after containerd: {err:#}");
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- containerd log (last 40 lines) ---\n{}",
                self.log_tail(40)
            );
        }
        self.stop();
    }
}

/// Where the image tarballs are built and cached across tests: `RUDDER_IMAGES_DIR`, else
/// `rudder-images` in the cargo target directory of the running test binary
/// (`<target>/debug/deps/test-xxx`), else the workspace's `target/rudder-images`.
pub fn images_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RUDDER_IMAGES_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .nth(3)
            .filter(|t| t.join("CACHEDIR.TAG").exists())
            .map(Path::to_path_buf)
    });
    target
        .unwrap_or_else(|| process::workspace_root().join("target"))
        .join("rudder-images")
}

fn containerd_bin() -> Option<PathBuf> {
    ["/usr/bin/containerd", "/usr/local/bin/containerd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Run a function of hack/lib/containerd.sh with DIR as its argument.
fn run_lib(function: &str, dir: &Path) -> Result<()> {
    let lib = process::workspace_root().join("hack/lib");
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1/util.sh" && source "$1/containerd.sh" && "$2" "$3""#)
        .arg("bash")
        .arg(&lib)
        .arg(function)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {function}"))?;
    if !out.status.success() {
        bail!(
            "{function} {} failed ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
