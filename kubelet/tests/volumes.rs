//! The volume manager against a real kube-apiserver: configMap files that follow API
//! updates atomically, secrets on tmpfs, downwardAPI labels, projected volumes, fsGroup
//! ownership, memory-backed emptyDir, and a teardown that leaves no mount behind.
//! Needs root (tmpfs mounts) and the kube-apiserver binary (`cargo build -p apiserver`).

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use integration_tests::TestCluster;
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapProjection, ConfigMapVolumeSource, Container, DownwardAPIProjection,
    DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource, ObjectFieldSelector, Pod,
    PodSecurityContext, PodSpec, ProjectedVolumeSource, Secret, SecretVolumeSource,
    ServiceAccountTokenProjection, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use kubelet::volumes::{mount, VolumeManager};

/// Unmounts whatever a failed test left below the root, so tmpfs mounts never leak.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = mount::unmount_all_below(&self.0);
    }
}

/// Stops the reader thread even when the test returns early.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

async fn kube_client(cluster: &TestCluster) -> anyhow::Result<kube::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}

fn volume(name: &str) -> Volume {
    Volume {
        name: name.into(),
        ..Default::default()
    }
}

fn mounts_below(dir: &Path) -> Vec<(PathBuf, String, String)> {
    let text = std::fs::read_to_string("/proc/mounts").unwrap();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let path = PathBuf::from(f.get(1)?);
            path.starts_with(dir)
                .then(|| (path, f[2].to_string(), f.get(3).unwrap_or(&"").to_string()))
        })
        .collect()
}

fn test_pod(uid: &str, volumes: Vec<Volume>, fs_group: Option<i64>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some(uid.into()),
            labels: Some(BTreeMap::from([
                ("app".to_string(), "web".to_string()),
                ("tier".to_string(), "backend".to_string()),
            ])),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                volume_mounts: Some(
                    volumes
                        .iter()
                        .map(|v| VolumeMount {
                            name: v.name.clone(),
                            mount_path: format!("/mnt/{}", v.name),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }],
            volumes: Some(volumes),
            security_context: fs_group.map(|g| PodSecurityContext {
                fs_group: Some(g),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn volumes_follow_the_api_and_tear_down_cleanly() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await?;
    let root = tempfile::tempdir()?;
    let _guard = MountGuard(root.path().to_path_buf());
    let manager = VolumeManager::new(client.clone(), root.path().to_path_buf(), "node-1".into());

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let big_a = "a".repeat(64 * 1024);
    cms.create(
        &PostParams::default(),
        &config_map("cfg", &[("game", &big_a), ("old", "x")]),
    )
    .await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    secrets
        .create(
            &PostParams::default(),
            &Secret {
                metadata: ObjectMeta {
                    name: Some("creds".into()),
                    ..Default::default()
                },
                data: Some(BTreeMap::from([(
                    "password".to_string(),
                    ByteString(b"hunter2".to_vec()),
                )])),
                ..Default::default()
            },
        )
        .await?;

    let mut cfg = volume("cfg");
    cfg.config_map = Some(ConfigMapVolumeSource {
        name: "cfg".into(),
        ..Default::default()
    });
    let mut creds = volume("creds");
    creds.secret = Some(SecretVolumeSource {
        secret_name: Some("creds".into()),
        default_mode: Some(0o400),
        ..Default::default()
    });
    let mut info = volume("info");
    info.downward_api = Some(DownwardAPIVolumeSource {
        items: Some(vec![
            DownwardAPIVolumeFile {
                path: "labels".into(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.labels".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            DownwardAPIVolumeFile {
                path: "name".into(),
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]),
        ..Default::default()
    });
    let mut scratch = volume("scratch");
    scratch.empty_dir = Some(EmptyDirVolumeSource::default());
    let mut mem = volume("mem");
    mem.empty_dir = Some(EmptyDirVolumeSource {
        medium: Some("Memory".into()),
        size_limit: Some(Quantity("16Mi".into())),
    });
    let mut all_in_one = volume("all-in-one");
    all_in_one.projected = Some(ProjectedVolumeSource {
        sources: Some(vec![
            VolumeProjection {
                config_map: Some(ConfigMapProjection {
                    name: "cfg".into(),
                    items: Some(vec![k8s_openapi::api::core::v1::KeyToPath {
                        key: "old".into(),
                        path: "cfg/old".into(),
                        mode: None,
                    }]),
                    // The key goes away below; optional keeps the volume working.
                    optional: Some(true),
                }),
                ..Default::default()
            },
            VolumeProjection {
                downward_api: Some(DownwardAPIProjection {
                    items: Some(vec![DownwardAPIVolumeFile {
                        path: "namespace".into(),
                        field_ref: Some(ObjectFieldSelector {
                            field_path: "metadata.namespace".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            },
        ]),
        ..Default::default()
    });

    let uid = "0e7c2d1a-7a43-4f7e-9a4e-000000000001";
    let pod = test_pod(
        uid,
        vec![cfg, creds, info, scratch, mem, all_in_one],
        Some(2345),
    );
    let volumes = manager.setup(&pod).await?;
    let vol_dir = root.path().join("pods").join(uid).join("volumes");

    // configMap: upstream layout, content, read-only CRI mount.
    let cfg_dir = vol_dir.join("kubernetes.io~configmap/cfg");
    assert_eq!(volumes.get("cfg").unwrap().host_path, cfg_dir);
    assert_eq!(std::fs::read_to_string(cfg_dir.join("game"))?, big_a);
    assert_eq!(
        std::fs::read_link(cfg_dir.join("game"))?,
        Path::new("..data/game")
    );
    let mounts =
        volumes.container_mounts(&pod.spec.as_ref().unwrap().containers[0], &BTreeMap::new())?;
    let cfg_mount = mounts
        .iter()
        .find(|m| m.container_path == "/mnt/cfg")
        .unwrap();
    assert!(cfg_mount.readonly);
    assert_eq!(Path::new(&cfg_mount.host_path), cfg_dir);
    let scratch_mount = mounts
        .iter()
        .find(|m| m.container_path == "/mnt/scratch")
        .unwrap();
    assert!(!scratch_mount.readonly);

    // Update through the API while a reader hammers the file: it only ever sees a whole
    // old or a whole new version, never a mix or a missing file.
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_reader = StopOnDrop(stop.clone());
    let reader = {
        let stop = stop.clone();
        let file = cfg_dir.join("game");
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let content = std::fs::read(&file).expect("file always present");
                assert_eq!(content.len(), 64 * 1024, "partial content seen");
                let first = content[0];
                assert!(content.iter().all(|b| *b == first), "mixed content seen");
                reads += 1;
            }
            reads
        })
    };
    let big_b = "b".repeat(64 * 1024);
    let data_before = std::fs::read_link(cfg_dir.join("..data"))?;
    for round in 0..6 {
        let content = if round % 2 == 0 { &big_b } else { &big_a };
        let mut cm = cms.get("cfg").await?;
        cm.data = Some(BTreeMap::from([("game".to_string(), content.clone())]));
        cms.replace("cfg", &PostParams::default(), &cm).await?;
        manager.setup(&pod).await?;
        assert_eq!(&std::fs::read_to_string(cfg_dir.join("game"))?, content);
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader saw only whole versions");
    assert!(reads > 0);
    assert_ne!(std::fs::read_link(cfg_dir.join("..data"))?, data_before);
    assert!(
        std::fs::symlink_metadata(cfg_dir.join("old")).is_err(),
        "a key removed from the ConfigMap disappears"
    );
    let generations = std::fs::read_dir(&cfg_dir)?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("..") && n != "..data"
        })
        .count();
    assert_eq!(generations, 1, "old generations are removed");

    // secret: on tmpfs, mode from defaultMode, group from fsGroup.
    let secret_dir = vol_dir.join("kubernetes.io~secret/creds");
    let below = mounts_below(root.path());
    assert!(
        below
            .iter()
            .any(|(p, fs, _)| p == &secret_dir && fs == "tmpfs"),
        "secret volume is a tmpfs: {below:?}"
    );
    assert_eq!(
        std::fs::read_to_string(secret_dir.join("password"))?,
        "hunter2"
    );
    let meta = std::fs::metadata(secret_dir.join("password"))?;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o440,
        "0400 | fsGroup read"
    );
    assert_eq!(meta.gid(), 2345);

    // downwardAPI
    let info_dir = vol_dir.join("kubernetes.io~downward-api/info");
    assert_eq!(
        std::fs::read_to_string(info_dir.join("labels"))?,
        "app=\"web\"\ntier=\"backend\""
    );
    assert_eq!(std::fs::read_to_string(info_dir.join("name"))?, "web");

    // projected: sources merged, memory-backed.
    let projected_dir = vol_dir.join("kubernetes.io~projected/all-in-one");
    assert_eq!(
        std::fs::read_to_string(projected_dir.join("namespace"))?,
        "default"
    );
    assert!(
        std::fs::symlink_metadata(projected_dir.join("cfg/old")).is_err(),
        "the ConfigMap key 'old' is gone after the updates"
    );
    assert!(below
        .iter()
        .any(|(p, fs, _)| p == &projected_dir && fs == "tmpfs"));

    // emptyDir with fsGroup: group-owned, setgid, writable; Memory medium sized.
    let scratch_dir = vol_dir.join("kubernetes.io~empty-dir/scratch");
    let meta = std::fs::metadata(&scratch_dir)?;
    assert_eq!(meta.gid(), 2345);
    assert_eq!(meta.permissions().mode() & 0o2000, 0o2000, "setgid");
    let mem_dir = vol_dir.join("kubernetes.io~empty-dir/mem");
    let mem_mount = below
        .iter()
        .find(|(p, _, _)| p == &mem_dir)
        .expect("memory emptyDir mounted");
    assert_eq!(mem_mount.1, "tmpfs");
    assert!(mem_mount.2.contains("size=16384k"), "{}", mem_mount.2);
    let cfg_meta = std::fs::metadata(cfg_dir.join("game"))?;
    assert_eq!(cfg_meta.gid(), 2345);

    // Teardown: nothing mounted below the pod, directory gone; a second call is fine.
    manager.teardown(uid).await?;
    assert!(mounts_below(root.path()).is_empty());
    assert!(!root.path().join("pods").join(uid).exists());
    manager.teardown(uid).await?;
    Ok(())
}

#[tokio::test]
async fn clear_errors_for_missing_objects_unsupported_types_and_tokens() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await?;
    let root = tempfile::tempdir()?;
    let _guard = MountGuard(root.path().to_path_buf());
    let manager = VolumeManager::new(client.clone(), root.path().to_path_buf(), "node-1".into());

    // A missing ConfigMap: an error naming volume and object; optional: an empty volume.
    let mut missing = volume("missing");
    missing.config_map = Some(ConfigMapVolumeSource {
        name: "nope".into(),
        ..Default::default()
    });
    let err = manager
        .setup(&test_pod("uid-a", vec![missing.clone()], None))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "volume \"missing\": configmap \"nope\" not found"
    );
    missing.config_map.as_mut().unwrap().optional = Some(true);
    let vols = manager
        .setup(&test_pod("uid-a", vec![missing], None))
        .await?;
    assert!(vols.get("missing").is_some());

    // An unsupported type is named.
    let mut git = volume("repo");
    git.git_repo = Some(Default::default());
    let err = manager
        .setup(&test_pod("uid-b", vec![git], None))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("\"gitRepo\" is not supported"),
        "{err}"
    );

    // A projected service account token: either the apiserver serves TokenRequest and the
    // token lands in the file, or the error says that the API is missing.
    let mut token = volume("token");
    token.projected = Some(ProjectedVolumeSource {
        sources: Some(vec![VolumeProjection {
            service_account_token: Some(ServiceAccountTokenProjection {
                path: "token".into(),
                expiration_seconds: Some(3600),
                audience: None,
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    match manager.setup(&test_pod("uid-c", vec![token], None)).await {
        Ok(vols) => {
            let dir = &vols.get("token").unwrap().host_path;
            assert!(!std::fs::read_to_string(dir.join("token"))?.is_empty());
        }
        Err(e) => assert!(e.to_string().contains("TokenRequest"), "{e}"),
    }

    for uid in ["uid-a", "uid-b", "uid-c"] {
        manager.teardown(uid).await?;
    }
    assert!(mounts_below(root.path()).is_empty());
    Ok(())
}

#[tokio::test]
async fn persistent_volume_claim_of_a_host_path_volume() -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::{
        HostPathVolumeSource, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
        PersistentVolumeClaimStatus, PersistentVolumeClaimVolumeSource, PersistentVolumeSpec,
        VolumeResourceRequirements,
    };
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await?;
    let root = tempfile::tempdir()?;
    let _guard = MountGuard(root.path().to_path_buf());
    let manager = VolumeManager::new(client.clone(), root.path().to_path_buf(), "node-1".into());
    let export = tempfile::tempdir()?;
    let data = export.path().join("data");

    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    pvs.create(
        &PostParams::default(),
        &PersistentVolume {
            metadata: ObjectMeta {
                name: Some("pv-1".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeSpec {
                capacity: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity("1Gi".into()),
                )])),
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                host_path: Some(HostPathVolumeSource {
                    path: data.to_string_lossy().into_owned(),
                    type_: Some("DirectoryOrCreate".into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("claim-1".into()),
            // Holds the claim once deleted, as pvc-protection would while a pod uses it.
            finalizers: Some(vec!["example.com/hold".into()]),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity("1Gi".into()),
                )])),
                ..Default::default()
            }),
            volume_name: Some("pv-1".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    pvcs.create(&PostParams::default(), &claim).await?;

    let mut v = volume("store");
    v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
        claim_name: "claim-1".into(),
        read_only: Some(true),
    });
    let pod = test_pod("uid-pvc", vec![v.clone()], None);

    // Not bound yet: a clear error.
    let err = manager.setup(&pod).await.unwrap_err();
    assert!(err.to_string().contains("is not bound"), "{err}");

    // Bound (as the PV controller would mark it): the PV's host path, created, read-only.
    let mut bound = pvcs.get("claim-1").await?;
    bound.status = Some(PersistentVolumeClaimStatus {
        phase: Some("Bound".into()),
        ..Default::default()
    });
    pvcs.replace_status("claim-1", &PostParams::default(), &bound)
        .await?;
    let vols = manager.setup(&pod).await?;
    let store = vols.get("store").unwrap();
    assert_eq!(store.host_path, data);
    assert!(store.read_only);
    assert!(data.is_dir(), "DirectoryOrCreate made the directory");

    // The claim is deleted while the pod uses it: the pod keeps it on refresh, but a new
    // pod may not start on it, and nothing is made for that pod.
    pvcs.delete("claim-1", &Default::default()).await?;
    let deleting = pvcs.get("claim-1").await?;
    assert!(deleting.metadata.deletion_timestamp.is_some());
    manager.setup(&pod).await?;
    let err = manager
        .setup(&test_pod("uid-pvc-new", vec![v], None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is being deleted"), "{err}");
    assert!(!root.path().join("pods").join("uid-pvc-new").exists());
    manager.teardown("uid-pvc").await?;
    assert!(data.is_dir(), "teardown never touches the PV's data");
    Ok(())
}

#[tokio::test]
async fn ephemeral_volume_mounts_the_claim_made_for_its_pod() -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    let cluster = TestCluster::start().await?;
    let client = kube_client(&cluster).await?;
    let root = tempfile::tempdir()?;
    let _guard = MountGuard(root.path().to_path_buf());
    let manager = VolumeManager::new(client.clone(), root.path().to_path_buf(), "node-1".into());
    let export = tempfile::tempdir()?;
    let data = export.path().join("scratch");

    let pv: PersistentVolume = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "pv-eph"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "hostPath": {"path": data, "type": "DirectoryOrCreate"}}}))?;
    Api::<PersistentVolume>::all(client.clone())
        .create(&PostParams::default(), &pv)
        .await?;
    // The claim the ephemeral-volume controller makes: `<pod>-<volume>`, controlled by the pod.
    let claim: PersistentVolumeClaim = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web-scratch", "ownerReferences": [{"apiVersion": "v1",
            "kind": "Pod", "name": "web", "uid": "uid-eph", "controller": true}]},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-eph",
                 "resources": {"requests": {"storage": "1Gi"}}}}))?;
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    pvcs.create(&PostParams::default(), &claim).await?;
    let mut bound = pvcs.get("web-scratch").await?;
    bound.status = serde_json::from_value(serde_json::json!({"phase": "Bound"}))?;
    pvcs.replace_status("web-scratch", &PostParams::default(), &bound)
        .await?;

    let mut v = volume("scratch");
    v.ephemeral = serde_json::from_value(serde_json::json!({"volumeClaimTemplate":
        {"spec": {"accessModes": ["ReadWriteOnce"]}}}))?;
    let vols = manager
        .setup(&test_pod("uid-eph", vec![v.clone()], None))
        .await?;
    let scratch = vols.get("scratch").unwrap();
    assert_eq!(scratch.host_path, data);
    assert!(!scratch.read_only);
    manager.teardown("uid-eph").await?;

    // Another pod of the same name (a new uid) does not get a claim it does not control.
    let err = manager
        .setup(&test_pod("uid-other", vec![v], None))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("was not created for the pod"),
        "{err}"
    );
    Ok(())
}
