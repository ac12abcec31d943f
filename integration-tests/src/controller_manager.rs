//! Starting kube-controller-manager against a [`TestCluster`](crate::TestCluster).

use anyhow::Result;

use crate::process::{self, Daemon};
use crate::TestCluster;

/// Start the kube-controller-manager binary (next to kube-apiserver) with the admin
/// kubeconfig and `extra_args` (e.g. `--controllers=replicaset`); its log is
/// `kube-controller-manager.log` in the cluster directory. Killed on drop.
pub fn start_controller_manager(cluster: &TestCluster, extra_args: &[&str]) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-controller-manager");
    let mut args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "-v=4".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    Daemon::spawn(
        "kube-controller-manager",
        &bin,
        &args,
        &cluster.dir().join("kube-controller-manager.log"),
    )
}
