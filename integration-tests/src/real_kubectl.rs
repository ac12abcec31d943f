//! The real kubectl (`/usr/bin/kubectl`), for tests that check upstream's client agrees with
//! our apiserver.
//!
//! Each kubeconfig gets a discovery cache of its own (`--cache-dir` next to the kubeconfig).
//! kubectl's default cache, `~/.kube/cache`, is keyed by host:port and trusted for hours: an
//! earlier test apiserver on the same free port, started with other flags, would answer
//! discovery for this one and hide its resources.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

/// Where the real kubectl is installed on this machine.
pub const PATH: &str = "/usr/bin/kubectl";

/// Whether the real kubectl is installed.
pub fn installed() -> bool {
    Path::new(PATH).is_file()
}

/// Fails when the real kubectl is missing. The real kubectl is the judge of the API (hack/e2e
/// needs it too), so a test that checks with it fails without it rather than pass having
/// checked nothing.
pub fn require() -> Result<()> {
    anyhow::ensure!(installed(), "the real kubectl ({PATH}) is not installed");
    Ok(())
}

/// The real kubectl bound to one kubeconfig and a private discovery cache.
#[derive(Debug, Clone)]
pub struct RealKubectl {
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
}

impl RealKubectl {
    /// kubectl for `kubeconfig`, caching discovery in `kubectl-cache` beside it.
    pub fn new(kubeconfig: &Path) -> RealKubectl {
        let cache_dir = kubeconfig
            .parent()
            .unwrap_or(Path::new("."))
            .join("kubectl-cache");
        RealKubectl {
            kubeconfig: kubeconfig.to_path_buf(),
            cache_dir,
        }
    }

    /// The command line up to (not including) `args`, for callers that add stdin or env.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PATH);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args);
        command
    }

    /// Runs kubectl with `args` and returns its output whatever the exit code.
    pub fn output(&self, args: &[&str]) -> Result<Output> {
        self.command(args)
            .output()
            .with_context(|| format!("running {PATH} {args:?}"))
    }

    /// Runs kubectl with `args`; its stdout, or an error with both streams if it failed.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let out = self.output(args)?;
        if !out.status.success() {
            bail!(
                "kubectl {args:?} exited with {}: {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
