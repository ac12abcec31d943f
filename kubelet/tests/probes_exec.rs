//! exec probes through a real containerd's CRI ExecSync, on a busybox container that also
//! has a volume bound in from `PodVolumes::container_mounts`.
//!
//! Needs a containerd with the CRI plugin and the busybox and pause images imported
//! (hack/lib/containerd.sh, hack/build-images.sh), so it is opt-in:
//! `RUDDER_CRI_ENDPOINT=unix:///…/containerd.sock cargo test -p kubelet --test probes_exec -- --ignored`

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ExecAction, Probe, VolumeMount};
use kubelet::cri::Runtime;
use kubelet::probes::{probe_once, ProbeKind, ProbeOutcome};
use kubelet::volumes::{PodVolume, PodVolumes};
use proto::cri::v1 as cri;

fn exec_probe(script: &str) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec!["sh".into(), "-c".into(), script.into()]),
        }),
        timeout_seconds: Some(2),
        ..Default::default()
    }
}

#[tokio::test]
#[ignore = "needs a containerd with CRI: set RUDDER_CRI_ENDPOINT"]
async fn exec_probe_through_cri() -> anyhow::Result<()> {
    let endpoint = std::env::var("RUDDER_CRI_ENDPOINT")
        .map_err(|_| anyhow::anyhow!("set RUDDER_CRI_ENDPOINT to a containerd CRI socket"))?;
    let runtime = Runtime::connect(&endpoint).await?;
    let mut rs = runtime.runtime.clone();

    let data = tempfile::tempdir()?;
    std::fs::write(data.path().join("key"), "hello")?;
    let mut volumes = PodVolumes::default();
    volumes.insert(
        "data",
        PodVolume {
            host_path: data.path().to_path_buf(),
            read_only: true,
        },
    );
    let container = Container {
        name: "app".into(),
        volume_mounts: Some(vec![VolumeMount {
            name: "data".into(),
            mount_path: "/mnt/data".into(),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let mounts = volumes.container_mounts(&container, &BTreeMap::new())?;

    let uid = format!("kvol-exec-{}", std::process::id());
    let sandbox_config = cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: "probe-exec".into(),
            uid: uid.clone(),
            namespace: "default".into(),
            attempt: 0,
        }),
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                // Host network: no CNI needed for this test.
                namespace_options: Some(cri::NamespaceOption {
                    network: cri::NamespaceMode::Node as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sandbox_id = rs
        .run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(sandbox_config.clone()),
            runtime_handler: String::new(),
        })
        .await?
        .into_inner()
        .pod_sandbox_id;

    let result = async {
        let container_id = rs
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox_id.clone(),
                config: Some(cri::ContainerConfig {
                    metadata: Some(cri::ContainerMetadata {
                        name: "app".into(),
                        attempt: 0,
                    }),
                    image: Some(cri::ImageSpec {
                        image: "docker.io/library/busybox:latest".into(),
                        ..Default::default()
                    }),
                    command: vec!["sleep".into(), "3600".into()],
                    mounts,
                    ..Default::default()
                }),
                sandbox_config: Some(sandbox_config.clone()),
            })
            .await?
            .into_inner()
            .container_id;
        rs.start_container(cri::StartContainerRequest {
            container_id: container_id.clone(),
        })
        .await?;

        let ok = exec_probe("test \"$(cat /mnt/data/key)\" = hello");
        let outcome = probe_once(
            &runtime,
            ProbeKind::Liveness,
            &ok,
            &container,
            &container_id,
            None,
        )
        .await;
        assert_eq!(outcome, ProbeOutcome::Success);

        let bad = exec_probe("echo not healthy; exit 3");
        let outcome = probe_once(
            &runtime,
            ProbeKind::Liveness,
            &bad,
            &container,
            &container_id,
            None,
        )
        .await;
        assert_eq!(
            outcome,
            ProbeOutcome::Failure("Liveness probe failed: not healthy\n".into())
        );

        // The volume is read-only inside: writing fails.
        let write = exec_probe("echo x > /mnt/data/new");
        let outcome = probe_once(
            &runtime,
            ProbeKind::Readiness,
            &write,
            &container,
            &container_id,
            None,
        )
        .await;
        assert!(
            matches!(outcome, ProbeOutcome::Failure(ref m) if m.contains("Read-only")),
            "{outcome:?}"
        );

        let slow = exec_probe("sleep 10");
        let started = std::time::Instant::now();
        let outcome = probe_once(
            &runtime,
            ProbeKind::Readiness,
            &slow,
            &container,
            &container_id,
            None,
        )
        .await;
        assert!(
            matches!(outcome, ProbeOutcome::Failure(ref m) if m.contains("timed out")),
            "{outcome:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(8));
        anyhow::Ok(())
    }
    .await;

    // Clean up whatever happened above.
    let _ = rs
        .stop_pod_sandbox(cri::StopPodSandboxRequest {
            pod_sandbox_id: sandbox_id.clone(),
        })
        .await;
    let _ = rs
        .remove_pod_sandbox(cri::RemovePodSandboxRequest {
            pod_sandbox_id: sandbox_id,
        })
        .await;
    result
}
