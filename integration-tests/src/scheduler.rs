//! Starting kube-scheduler against a [`TestCluster`](crate::TestCluster).

use anyhow::Result;

use crate::process::{self, Daemon};
use crate::TestCluster;

/// Start the kube-scheduler binary (next to kube-apiserver) with the admin kubeconfig and
/// `extra_args`; its log is `kube-scheduler.log` in the cluster directory. Killed on drop.
pub fn start_scheduler(cluster: &TestCluster, extra_args: &[&str]) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-scheduler");
    let mut args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "-v=4".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    Daemon::spawn(
        "kube-scheduler",
        &bin,
        &args,
        &cluster.dir().join("kube-scheduler.log"),
    )
}
