//! `hack/build-images.sh --addons` builds images containerd imports and runs: each add-on's
//! binary starts inside its image (its shared libraries are in the layer) and prints its
//! help.

use std::process::Command;

use anyhow::{bail, Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::process;

#[test]
fn addon_images_import_and_run() -> Result<()> {
    let containerd = Containerd::start()?;
    let images = tempfile::Builder::new()
        .prefix("rudder-addon-images-")
        .tempdir()?;
    let out = Command::new("bash")
        .arg(process::workspace_root().join("hack/build-images.sh"))
        .arg("--addons")
        .arg("--import")
        .arg(containerd.socket_path())
        .env("IMAGES_DIR", images.path())
        .env("ADDON_BIN_DIR", process::bin_dir()?)
        .output()
        .context("running hack/build-images.sh --addons")?;
    if !out.status.success() {
        bail!(
            "build-images.sh --addons failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (binary, expect) in [
        ("rudder-dns", "Cluster DNS for Rudder"),
        ("rudder-ingress", "Ingress controller for Rudder"),
    ] {
        let image = format!("docker.io/rudder/{binary}:dev");
        let help = containerd
            // ctr's arguments after the id replace the image's entrypoint, so name the binary.
            .ctr_output(&[
                "run",
                "--rm",
                &image,
                &format!("{binary}-help"),
                &format!("/usr/local/bin/{binary}"),
                "--help",
            ])
            .with_context(|| format!("running {image}\n{}", containerd.log_tail(20)))?;
        assert!(help.contains(expect), "{image} --help printed:\n{help}");
    }
    Ok(())
}
