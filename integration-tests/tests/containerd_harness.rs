//! The containerd harness kubelet tests build on: a private containerd starts, the CRI's
//! namespace holds usable busybox and pause images, and dropping the harness leaves no
//! process, container or mount behind. Needs root, containerd, runc (or crun) and busybox-static
//! (hack/install-deps.sh).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use integration_tests::containerd::{Containerd, BUSYBOX_IMAGE, PAUSE_IMAGE};

/// Poll `check` every 100 ms until it returns true, for at most `limit`.
fn wait_until(limit: Duration, mut check: impl FnMut() -> Result<bool>) -> Result<bool> {
    let deadline = Instant::now() + limit;
    loop {
        if check()? {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn imported_images_are_seen_by_the_cri_and_run() -> Result<()> {
    let containerd = Containerd::start()?;

    let images = containerd.ctr_output(&["images", "ls", "-q"])?;
    for image in [BUSYBOX_IMAGE, PAUSE_IMAGE] {
        assert!(
            images.lines().any(|l| l == image),
            "{image} not imported; images:\n{images}"
        );
    }
    // The CRI plugin labels the images it manages once it has processed them; an image it
    // never saw would not be usable for a pod.
    let managed = wait_until(Duration::from_secs(10), || {
        let listing = containerd.ctr_output(&["images", "ls"])?;
        Ok([BUSYBOX_IMAGE, PAUSE_IMAGE].iter().all(|image| {
            listing.lines().any(|l| {
                l.split_whitespace().next() == Some(image)
                    && l.contains("io.cri-containerd.image=managed")
            })
        }))
    })?;
    assert!(
        managed,
        "the CRI plugin did not pick up the imported images"
    );

    // Upstream's e2e manifests name busybox as registry.k8s.io/e2e-test-images/busybox:1.3x;
    // build-images.sh tags the imported busybox under those names, the same digest.
    let digest_of = |listing: &str, image: &str| {
        listing
            .lines()
            .find(|l| l.split_whitespace().next() == Some(image))
            .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
    };
    let listing = containerd.ctr_output(&["images", "ls"])?;
    let busybox = digest_of(&listing, BUSYBOX_IMAGE);
    assert!(
        busybox.is_some(),
        "no digest for {BUSYBOX_IMAGE}:\n{listing}"
    );
    for alias in [
        "registry.k8s.io/e2e-test-images/busybox:1.36",
        "registry.k8s.io/e2e-test-images/busybox:1.37",
    ] {
        assert_eq!(
            digest_of(&listing, alias),
            busybox,
            "{alias} does not name the busybox image:\n{listing}"
        );
    }

    let out = containerd.ctr_output(&[
        "run",
        "--rm",
        BUSYBOX_IMAGE,
        "harness-echo",
        "echo",
        "hello",
    ])?;
    assert_eq!(out.trim(), "hello");

    // The image's own config: PATH finds the applets and the user database names root.
    let out = containerd.ctr_output(&["run", "--rm", BUSYBOX_IMAGE, "harness-id", "id", "-un"])?;
    assert_eq!(out.trim(), "root");
    Ok(())
}

/// The sandbox image idles until signalled, and as PID 1 it must still honour SIGTERM
/// (a process without a handler would ignore it and only die by SIGKILL).
#[test]
fn pause_image_idles_and_exits_on_sigterm() -> Result<()> {
    let containerd = Containerd::start()?;
    containerd.ctr_output(&["run", "-d", PAUSE_IMAGE, "harness-pause"])?;
    let status = |containerd: &Containerd| -> Result<String> {
        let tasks = containerd.ctr_output(&["tasks", "ls"])?;
        Ok(tasks
            .lines()
            .find(|l| l.split_whitespace().next() == Some("harness-pause"))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or("")
            .to_string())
    };
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        status(&containerd)?,
        "RUNNING",
        "pause did not keep running"
    );

    containerd.ctr_output(&["tasks", "kill", "--signal", "SIGTERM", "harness-pause"])?;
    let stopped = wait_until(Duration::from_secs(3), || {
        Ok(status(&containerd)? == "STOPPED")
    })?;
    assert!(stopped, "pause ignored SIGTERM: {}", status(&containerd)?);
    Ok(())
}

/// Process ids whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Mount points under `dir`.
fn mounts_under(dir: &Path) -> Result<Vec<String>> {
    let prefix = format!("{}/", dir.display());
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(info
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| m.starts_with(&prefix))
        .map(str::to_string)
        .collect())
}

/// Whether a zombie (exited, not yet reaped by its new parent) is all that is left of `pid`.
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                == Some("Z")
        }
    }
}

#[test]
fn drop_removes_containers_shims_and_mounts() -> Result<()> {
    let containerd = Containerd::start()?;
    let dir: PathBuf = containerd.dir().to_path_buf();
    let socket = containerd.socket_path().display().to_string();
    containerd.ctr_output(&[
        "run",
        "-d",
        BUSYBOX_IMAGE,
        "harness-sleeper",
        "sleep",
        "1000",
    ])?;
    containerd.ctr_output(&["run", "-d", PAUSE_IMAGE, "harness-sandbox"])?;

    // Two shims serve our socket and two root filesystems are mounted under our directory.
    let shims = processes_mentioning(&socket);
    assert!(
        shims.len() >= 2,
        "expected shims for {socket}, found {shims:?}"
    );
    let sleepers = processes_mentioning("sleep\x001000");
    assert!(!sleepers.is_empty(), "the sleeper container is not running");
    assert!(
        mounts_under(&dir)?.len() >= 2,
        "expected rootfs mounts under {}",
        dir.display()
    );

    let pid = containerd.pid().context("containerd pid")?;
    drop(containerd);

    for p in shims.iter().chain(&sleepers).chain([&pid]) {
        assert!(is_gone(*p), "process {p} survived the harness");
    }
    assert_eq!(mounts_under(&dir)?, Vec::<String>::new());
    assert!(!dir.exists(), "{} was not removed", dir.display());
    Ok(())
}

/// `rudder::containerd::write_config DIR` with `RUDDER_OCI_RUNTIME` set to `runtime` (unset
/// for None): its exit status, stderr, and config.toml if it wrote one.
fn write_config_with(runtime: Option<&str>) -> Result<(bool, String, Option<String>)> {
    let dir = tempfile::Builder::new()
        .prefix("rudder-ctrd-cfg-")
        .tempdir()?;
    let lib = integration_tests::process::workspace_root().join("hack/lib");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#"source "$1/util.sh" && source "$1/containerd.sh" && rudder::containerd::write_config "$2""#)
        .arg("bash")
        .arg(&lib)
        .arg(dir.path())
        .env_remove("RUDDER_OCI_RUNTIME");
    if let Some(runtime) = runtime {
        cmd.env("RUDDER_OCI_RUNTIME", runtime);
    }
    let out = cmd.output().context("run bash")?;
    let config = std::fs::read_to_string(dir.path().join("config.toml")).ok();
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        config,
    ))
}

/// The harness runs the configuration the scripts write, OCI runtime included, and
/// `RUDDER_OCI_RUNTIME` picks that runtime or is refused.
#[test]
fn config_comes_from_hack_lib_and_names_the_oci_runtime() -> Result<()> {
    let containerd = Containerd::start()?;
    let chosen = containerd.oci_runtime()?;
    assert!(
        chosen == "runc" || chosen == "crun",
        "unexpected default runtime {chosen:?}"
    );
    let (ok, stderr, config) = write_config_with(None)?;
    assert!(ok, "write_config failed: {stderr}");
    assert!(
        config
            .unwrap_or_default()
            .contains(&format!("default_runtime_name = \"{chosen}\"")),
        "the harness and the scripts chose different runtimes"
    );
    // Its state lies where reap looks for it.
    assert!(containerd.dir().join(&chosen).is_dir());

    let (ok, stderr, config) = write_config_with(Some("runc"))?;
    assert!(ok, "write_config with runc failed: {stderr}");
    let config = config.unwrap_or_default();
    assert!(
        config.contains("default_runtime_name = \"runc\""),
        "{config}"
    );
    assert!(!config.contains("runtimes.crun"), "{config}");

    let (ok, stderr, config) = write_config_with(Some("kata"))?;
    assert!(!ok, "an unknown runtime was accepted");
    assert!(stderr.contains("expected runc or crun"), "{stderr}");
    assert!(config.is_none(), "a config was written: {config:?}");
    Ok(())
}
