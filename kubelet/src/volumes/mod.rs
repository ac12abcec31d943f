//! Pod volumes on the host: [`VolumeManager::setup`] makes every volume of a pod exist
//! under `<root-dir>/pods/<uid>/volumes/<plugin>/<name>` (upstream's layout, e.g.
//! `kubernetes.io~configmap`), and [`PodVolumes::container_mounts`] turns a container's
//! volumeMounts into CRI mounts. [`VolumeManager::teardown`] unmounts and removes it all.
//!
//! Supported: emptyDir (disk, or tmpfs for `medium: Memory` sized by `sizeLimit`), hostPath
//! (all `type`s with upstream's checks), configMap, secret (on tmpfs), downwardAPI,
//! projected (configMap, secret, downwardAPI, serviceAccountToken), persistentVolumeClaim
//! bound to hostPath/local/NFS PVs, and inline nfs. API-backed contents are written with
//! upstream's atomic `..data` symlink swap, so calling `setup` again refreshes them safely.
//! Anything else fails with an error naming the volume type.
//!
//! The filesystem work is synchronous: volumes hold few, small files, and keeping it in
//! plain functions keeps it testable on a temporary directory.

pub mod atomic_writer;
pub mod container_mounts;
pub mod downward_api;
pub mod host_path;
pub mod mount;
pub mod ownership;
pub mod pvc;
pub mod sources;
pub mod token;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Node, Pod, Volume};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::Api;

pub use atomic_writer::{AtomicWriter, FileProjection, Payload};
pub use container_mounts::{expand, PodVolume, PodVolumes};
use sources::SourceKind;

/// The claim a volume mounts and whether the pod asks for it read-only: its
/// persistentVolumeClaim, or for a generic ephemeral volume the claim `<pod>-<volume>`
/// the ephemeral-volume controller made for this pod (mounted like any other claim).
fn claim_of(pod: &Pod, v: &Volume) -> Option<(String, bool)> {
    if let Some(src) = &v.persistent_volume_claim {
        return Some((src.claim_name.clone(), src.read_only.unwrap_or(false)));
    }
    v.ephemeral.as_ref().map(|_| {
        let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
        (format!("{pod_name}-{}", v.name), false)
    })
}

/// Upstream's plugin directory names.
pub const EMPTY_DIR: &str = "kubernetes.io~empty-dir";
pub const CONFIG_MAP: &str = "kubernetes.io~configmap";
pub const SECRET: &str = "kubernetes.io~secret";
pub const DOWNWARD_API: &str = "kubernetes.io~downward-api";
pub const PROJECTED: &str = "kubernetes.io~projected";
pub const NFS: &str = "kubernetes.io~nfs";

/// Why a volume could not be set up, torn down or mounted.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("pod has no metadata.uid")]
    MissingUid,
    #[error("invalid pod uid {0:?}")]
    InvalidPodUid(String),
    #[error("volume {volume:?}: {source}")]
    Volume {
        volume: String,
        #[source]
        source: Box<VolumeError>,
    },
    #[error("volume type {0:?} is not supported by this kubelet")]
    Unsupported(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    #[error("{what} mount of {}: {source}", path.display())]
    Mount {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("NFS volumes need the system's NFS mount helper (mount.nfs, Debian package nfs-common), which is not installed")]
    NfsHelperMissing,
    #[error("mount of {} failed: {output}", path.display())]
    MountCommand { path: PathBuf, output: String },
    #[error("{0}")]
    HostPathType(String),
    #[error("unsupported field path or resource {0:?}")]
    UnsupportedField(String),
    #[error("invalid quantity {0:?}")]
    InvalidQuantity(String),
    #[error("{what}: {key}")]
    MissingKey { what: &'static str, key: String },
    #[error("{kind} {name:?} not found")]
    ObjectNotFound { kind: &'static str, name: String },
    #[error("persistentvolumeclaim {claim:?} is not bound (phase {phase})")]
    ClaimNotBound { claim: String, phase: String },
    #[error("PVC {claim} was not created for the pod (pod is not owner)")]
    ClaimNotOwned { claim: String },
    #[error("persistentvolumeclaim {claim:?} is being deleted; a pod cannot start on it")]
    ClaimBeingDeleted { claim: String },
    #[error("no container {0:?} in the pod (resourceFieldRef.containerName)")]
    UnknownContainer(String),
    #[error("cannot get a token for service account {namespace}/{service_account}: the apiserver does not serve the TokenRequest API (serviceaccounts/token): {message}")]
    TokenRequestUnavailable {
        namespace: String,
        service_account: String,
        message: String,
    },
    #[error("volumeMount of container {container:?} names volume {volume:?}, which the pod does not have")]
    UnknownVolume { volume: String, container: String },
    #[error("{0}")]
    Propagation(String),
    #[error("{}: still mounted after unmounting; not removing the pod directory", path.display())]
    StillMounted { path: PathBuf },
    #[error("apiserver: {0}")]
    Api(#[from] kube::Error),
}

/// Sets up and tears down pod volumes below the kubelet's root directory.
pub struct VolumeManager {
    client: kube::Client,
    root_dir: PathBuf,
    node_name: String,
    tokens: token::TokenManager,
}

/// What every volume of one pod shares during a `setup` call.
struct PodContext<'a> {
    pod: &'a Pod,
    namespace: String,
    volumes_dir: PathBuf,
    fs_group: Option<u32>,
    only_on_root_mismatch: bool,
}

impl VolumeManager {
    /// `root_dir` is the kubelet's `--root-dir` (upstream default `/var/lib/kubelet`);
    /// `node_name` is used to read the node's allocatable for downwardAPI limits.
    ///
    /// A serviceAccountToken projection needs the TokenRequest API; when the apiserver
    /// does not serve it (404/405) setup fails with [`VolumeError::TokenRequestUnavailable`].
    pub fn new(client: kube::Client, root_dir: PathBuf, node_name: String) -> VolumeManager {
        VolumeManager {
            client,
            root_dir,
            node_name,
            tokens: token::TokenManager::default(),
        }
    }

    /// `<root>/pods/<uid>`: everything the kubelet keeps for one pod.
    pub fn pod_dir(&self, pod_uid: &str) -> PathBuf {
        self.root_dir.join("pods").join(pod_uid)
    }

    /// Creates or refreshes every volume of `pod` and says where each lives. Idempotent:
    /// call it before starting containers and again periodically, so configMap, secret,
    /// downwardAPI and projected contents follow the API. Stops at the first volume that
    /// fails; the error names it.
    pub async fn setup(&self, pod: &Pod) -> Result<PodVolumes, VolumeError> {
        let uid = pod.metadata.uid.as_deref().ok_or(VolumeError::MissingUid)?;
        check_uid(uid)?;
        let spec = pod.spec.as_ref();
        let security = spec.and_then(|s| s.security_context.as_ref());
        let pod_dir = self.pod_dir(uid);
        let ctx = PodContext {
            pod,
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            volumes_dir: pod_dir.join("volumes"),
            fs_group: security
                .and_then(|s| s.fs_group)
                .and_then(|g| u32::try_from(g).ok()),
            only_on_root_mismatch: security.and_then(|s| s.fs_group_change_policy.as_deref())
                == Some("OnRootMismatch"),
        };
        let volumes = spec.and_then(|s| s.volumes.as_ref()).into_iter().flatten();
        self.admit_new_pod_claims(&ctx, &pod_dir, volumes.clone())
            .await?;
        let mut out = PodVolumes::default();
        for volume in volumes {
            let set_up =
                self.setup_volume(&ctx, volume)
                    .await
                    .map_err(|source| VolumeError::Volume {
                        volume: volume.name.clone(),
                        source: Box::new(source),
                    })?;
            out.insert(volume.name.clone(), set_up);
        }
        Ok(out)
    }

    /// Upstream's volume manager checks claims once, when it first takes a pod in: a pod
    /// this node has never set up (no pod directory yet) must not start on a claim that is
    /// being deleted, while a running pod keeps the claim it already mounted. The check
    /// comes before anything is made, so every retry gets the same answer; the directory
    /// made after it marks the pod's claims as checked.
    async fn admit_new_pod_claims<'v>(
        &self,
        ctx: &PodContext<'_>,
        pod_dir: &Path,
        volumes: impl Iterator<Item = &'v Volume>,
    ) -> Result<(), VolumeError> {
        if std::fs::symlink_metadata(pod_dir).is_ok() {
            return Ok(());
        }
        for volume in volumes {
            if let Some((claim, _)) = claim_of(ctx.pod, volume) {
                pvc::refuse_claim_being_deleted(&self.client, &ctx.namespace, &claim)
                    .await
                    .map_err(|source| VolumeError::Volume {
                        volume: volume.name.clone(),
                        source: Box::new(source),
                    })?;
            }
        }
        std::fs::create_dir_all(pod_dir).map_err(|source| VolumeError::Io {
            path: pod_dir.to_path_buf(),
            source,
        })
    }

    /// Unmounts everything mounted below `<root>/pods/<uid>` (tmpfs, NFS) and removes the
    /// directory. Call it once every container of the pod is gone. A pod that has no
    /// directory is fine.
    pub async fn teardown(&self, pod_uid: &str) -> Result<(), VolumeError> {
        check_uid(pod_uid)?;
        let dir = self.pod_dir(pod_uid);
        self.tokens.forget_pod(pod_uid);
        if std::fs::symlink_metadata(&dir).is_err() {
            return Ok(());
        }
        mount::unmount_all_below(&dir)?;
        // Never delete through a mount that is still there: that would delete the data of
        // a hostPath/NFS export.
        if let Some(path) = mount::mount_points()?
            .into_iter()
            .find(|p| p.starts_with(&dir))
        {
            return Err(VolumeError::StillMounted { path });
        }
        std::fs::remove_dir_all(&dir).map_err(|source| VolumeError::Io { path: dir, source })
    }

    async fn setup_volume(
        &self,
        ctx: &PodContext<'_>,
        v: &Volume,
    ) -> Result<PodVolume, VolumeError> {
        let writable = |host_path: PathBuf| PodVolume {
            host_path,
            read_only: false,
        };
        if let Some(src) = &v.empty_dir {
            let dir = plugin_dir(ctx, EMPTY_DIR, &v.name)?;
            match src.medium.as_deref().unwrap_or_default() {
                "" => {}
                "Memory" => {
                    let size = match &src.size_limit {
                        Some(q) => Some(bytes(q)?),
                        None => pod_memory_limit(ctx.pod)?,
                    };
                    mount::ensure_tmpfs(&dir, size)?;
                }
                other => return Err(VolumeError::Unsupported(format!("emptyDir medium {other}"))),
            }
            self.apply_fs_group(ctx, &dir, false)?;
            return Ok(writable(dir));
        }
        if let Some(src) = &v.host_path {
            let path = PathBuf::from(&src.path);
            host_path::check_type(&path, src.type_.as_deref())?;
            return Ok(writable(path));
        }
        if let Some(src) = &v.config_map {
            let dir = plugin_dir(ctx, CONFIG_MAP, &v.name)?;
            let payload = sources::fetch_and_project(
                &self.client,
                SourceKind::ConfigMap,
                &ctx.namespace,
                &src.name,
                src.items.as_deref(),
                src.default_mode,
                src.optional.unwrap_or(false),
            )
            .await?;
            return self.write_projection(ctx, dir, &payload);
        }
        if let Some(src) = &v.secret {
            let dir = plugin_dir(ctx, SECRET, &v.name)?;
            // Secret bytes never touch the disk.
            mount::ensure_tmpfs(&dir, None)?;
            let name = src.secret_name.clone().unwrap_or_default();
            let payload = sources::fetch_and_project(
                &self.client,
                SourceKind::Secret,
                &ctx.namespace,
                &name,
                src.items.as_deref(),
                src.default_mode,
                src.optional.unwrap_or(false),
            )
            .await?;
            return self.write_projection(ctx, dir, &payload);
        }
        if let Some(src) = &v.downward_api {
            let dir = plugin_dir(ctx, DOWNWARD_API, &v.name)?;
            let items = src.items.as_deref().unwrap_or_default();
            let allocatable = self
                .node_allocatable_if(sources::needs_node_allocatable(items))
                .await;
            let payload = sources::downward_api_payload(
                ctx.pod,
                items,
                src.default_mode,
                allocatable.as_ref(),
            )?;
            return self.write_projection(ctx, dir, &payload);
        }
        if let Some(src) = &v.projected {
            let dir = plugin_dir(ctx, PROJECTED, &v.name)?;
            // Projected volumes may hold secrets and tokens: memory-backed as upstream.
            mount::ensure_tmpfs(&dir, None)?;
            let payload = self.projected_payload(ctx, src).await?;
            return self.write_projection(ctx, dir, &payload);
        }
        if let Some((claim_name, claim_read_only)) = claim_of(ctx.pod, v) {
            let owner = v
                .ephemeral
                .as_ref()
                .map(|_| ctx.pod.metadata.uid.as_deref().unwrap_or_default());
            let pv = pvc::bound_volume(&self.client, &ctx.namespace, &claim_name, owner).await?;
            let spec = pv.spec.as_ref();
            if let Some(hp) = spec.and_then(|s| s.host_path.as_ref()) {
                let path = PathBuf::from(&hp.path);
                host_path::check_type(&path, hp.type_.as_deref())?;
                return Ok(PodVolume {
                    host_path: path,
                    read_only: claim_read_only,
                });
            }
            if let Some(local) = spec.and_then(|s| s.local.as_ref()) {
                let path = PathBuf::from(&local.path);
                // A local PV's path is prepared by the admin; a missing one is an error.
                std::fs::metadata(&path).map_err(|source| VolumeError::Io {
                    path: path.clone(),
                    source,
                })?;
                return Ok(PodVolume {
                    host_path: path,
                    read_only: claim_read_only,
                });
            }
            if let Some(nfs) = spec.and_then(|s| s.nfs.as_ref()) {
                let pv_name = pv.metadata.name.clone().unwrap_or_else(|| v.name.clone());
                let dir = plugin_dir(ctx, NFS, &pv_name)?;
                let read_only = claim_read_only || nfs.read_only.unwrap_or(false);
                mount::ensure_nfs(&nfs.server, &nfs.path, read_only, &dir).await?;
                return Ok(PodVolume {
                    host_path: dir,
                    read_only,
                });
            }
            return Err(VolumeError::Unsupported(format!(
                "persistentVolume source {}",
                pvc::source_name(&pv)
            )));
        }
        if let Some(nfs) = &v.nfs {
            let dir = plugin_dir(ctx, NFS, &v.name)?;
            let read_only = nfs.read_only.unwrap_or(false);
            mount::ensure_nfs(&nfs.server, &nfs.path, read_only, &dir).await?;
            return Ok(PodVolume {
                host_path: dir,
                read_only,
            });
        }
        Err(VolumeError::Unsupported(volume_type_name(v)))
    }

    async fn projected_payload(
        &self,
        ctx: &PodContext<'_>,
        src: &k8s_openapi::api::core::v1::ProjectedVolumeSource,
    ) -> Result<Payload, VolumeError> {
        let mut payload = Payload::new();
        for source in src.sources.iter().flatten() {
            let part = if let Some(cm) = &source.config_map {
                sources::fetch_and_project(
                    &self.client,
                    SourceKind::ConfigMap,
                    &ctx.namespace,
                    &cm.name,
                    cm.items.as_deref(),
                    src.default_mode,
                    cm.optional.unwrap_or(false),
                )
                .await?
            } else if let Some(secret) = &source.secret {
                sources::fetch_and_project(
                    &self.client,
                    SourceKind::Secret,
                    &ctx.namespace,
                    &secret.name,
                    secret.items.as_deref(),
                    src.default_mode,
                    secret.optional.unwrap_or(false),
                )
                .await?
            } else if let Some(dapi) = &source.downward_api {
                let items = dapi.items.as_deref().unwrap_or_default();
                let allocatable = self
                    .node_allocatable_if(sources::needs_node_allocatable(items))
                    .await;
                sources::downward_api_payload(
                    ctx.pod,
                    items,
                    src.default_mode,
                    allocatable.as_ref(),
                )?
            } else if let Some(sat) = &source.service_account_token {
                let token = self
                    .tokens
                    .token(
                        &self.client,
                        ctx.pod,
                        sat.audience.as_deref(),
                        sat.expiration_seconds,
                    )
                    .await?;
                let mode = src.default_mode.unwrap_or(sources::DEFAULT_MODE);
                Payload::from([(
                    sat.path.clone(),
                    FileProjection {
                        data: token.into_bytes(),
                        mode: (mode as u32) & 0o7777,
                    },
                )])
            } else if source.cluster_trust_bundle.is_some() {
                return Err(VolumeError::Unsupported(
                    "projected clusterTrustBundle".into(),
                ));
            } else {
                return Err(VolumeError::Unsupported(
                    "projected source (empty or unknown)".into(),
                ));
            };
            payload.extend(part);
        }
        Ok(payload)
    }

    /// Writes an API-backed payload atomically; these volumes are read-only by nature.
    fn write_projection(
        &self,
        ctx: &PodContext<'_>,
        dir: PathBuf,
        payload: &Payload,
    ) -> Result<PodVolume, VolumeError> {
        let writer = AtomicWriter::new(&dir);
        match ctx.fs_group {
            Some(gid) => {
                // The new generation gets its group before it becomes visible.
                let hook = |generation: &Path| {
                    ownership::set_volume_ownership(generation, gid, true, false)
                };
                writer.write(payload, Some(&hook))?;
            }
            None => {
                writer.write(payload, None)?;
            }
        }
        self.apply_fs_group(ctx, &dir, true)?;
        Ok(PodVolume {
            host_path: dir,
            read_only: true,
        })
    }

    fn apply_fs_group(
        &self,
        ctx: &PodContext<'_>,
        dir: &Path,
        read_only: bool,
    ) -> Result<(), VolumeError> {
        let Some(gid) = ctx.fs_group else {
            return Ok(());
        };
        ownership::set_volume_ownership(dir, gid, read_only, ctx.only_on_root_mismatch).map_err(
            |source| VolumeError::Io {
                path: dir.to_path_buf(),
                source,
            },
        )
    }

    /// The node's allocatable, read only when a downwardAPI item may need it. A failure is
    /// logged and treated as "unknown" (limits then read as 0) rather than blocking the pod.
    async fn node_allocatable_if(&self, needed: bool) -> Option<BTreeMap<String, Quantity>> {
        if !needed {
            return None;
        }
        let nodes: Api<Node> = Api::all(self.client.clone());
        match nodes.get_opt(&self.node_name).await {
            Ok(node) => node.and_then(|n| n.status).and_then(|s| s.allocatable),
            Err(e) => {
                tracing::warn!(node = %self.node_name, error = %e, "reading node allocatable for downwardAPI");
                None
            }
        }
    }
}

/// `<volumes>/<plugin>/<name>`, created if missing (0755 for API-backed volumes, 0777 for
/// emptyDir as upstream).
fn plugin_dir(ctx: &PodContext<'_>, plugin: &str, name: &str) -> Result<PathBuf, VolumeError> {
    use std::os::unix::fs::PermissionsExt;
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(VolumeError::InvalidPath {
            path: name.to_string(),
            reason: "volume name must be a single path component".into(),
        });
    }
    let dir = ctx.volumes_dir.join(plugin).join(name);
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|source| VolumeError::Io {
            path: dir.clone(),
            source,
        })?;
        let mode = if plugin == EMPTY_DIR { 0o777 } else { 0o755 };
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).map_err(
            |source| VolumeError::Io {
                path: dir.clone(),
                source,
            },
        )?;
    }
    Ok(dir)
}

/// Pod UIDs come from the API; refuse anything that could walk out of `<root>/pods`.
fn check_uid(uid: &str) -> Result<(), VolumeError> {
    if uid.is_empty() || uid.contains('/') || uid == "." || uid == ".." || uid.contains('\0') {
        return Err(VolumeError::InvalidPodUid(uid.to_string()));
    }
    Ok(())
}

fn bytes(q: &Quantity) -> Result<u64, VolumeError> {
    let nanos = downward_api::parse_quantity(&q.0)?;
    let whole = (nanos + 999_999_999) / 1_000_000_000;
    u64::try_from(whole).map_err(|_| VolumeError::InvalidQuantity(q.0.clone()))
}

/// The pod's memory limit (sum over app containers) when every container has one: the
/// size upstream gives a memory-backed emptyDir without a sizeLimit.
fn pod_memory_limit(pod: &Pod) -> Result<Option<u64>, VolumeError> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(None);
    };
    let mut total = 0u64;
    for c in &spec.containers {
        let limit = c
            .resources
            .as_ref()
            .and_then(|r| r.limits.as_ref())
            .and_then(|l| l.get("memory"));
        match limit {
            Some(q) => total = total.saturating_add(bytes(q)?),
            None => return Ok(None),
        }
    }
    Ok((total > 0).then_some(total))
}

/// The API name of a volume's source (`csi`, `gitRepo`, …) for "not supported" errors.
fn volume_type_name(v: &Volume) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| {
            j.as_object()
                .and_then(|o| o.keys().find(|k| k.as_str() != "name").cloned())
        })
        .unwrap_or_else(|| "<none>".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::CSIVolumeSource;

    #[test]
    fn unsupported_types_are_named() {
        let v = Volume {
            name: "x".into(),
            csi: Some(CSIVolumeSource {
                driver: "d".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(volume_type_name(&v), "csi");
        assert_eq!(
            VolumeError::Unsupported(volume_type_name(&v)).to_string(),
            "volume type \"csi\" is not supported by this kubelet"
        );
    }

    #[test]
    fn pod_uids_cannot_escape() {
        for bad in ["", "..", "a/b", "."] {
            assert!(check_uid(bad).is_err(), "{bad:?}");
        }
        assert!(check_uid("3f1c2a8e-0000-4000-8000-000000000001").is_ok());
    }
}
