//! Payloads of the API-backed volumes: which files a configMap, secret or downwardAPI
//! source projects (keys, `items` with paths and modes, `defaultMode`, `optional`).
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::Api;

use super::atomic_writer::{FileProjection, Payload};
use super::downward_api::{field_value, resource_value};
use super::VolumeError;

/// Mode of projected files when neither `mode` nor `defaultMode` says otherwise (0644).
pub const DEFAULT_MODE: i32 = 0o644;

/// Which object a key came from, for upstream's error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    ConfigMap,
    Secret,
}

/// Projects `data` through `items` (or every key when there are none).
///
/// A key named in `items` but missing from `data` is an error unless the source is
/// `optional`, as upstream: "configmap references non-existent config key: K".
pub fn project_keys(
    kind: SourceKind,
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: Option<i32>,
    optional: bool,
) -> Result<Payload, VolumeError> {
    let default_mode = default_mode.unwrap_or(DEFAULT_MODE);
    let mut payload = Payload::new();
    match items {
        None | Some([]) => {
            for (key, value) in data {
                payload.insert(key.clone(), file(value, default_mode));
            }
        }
        Some(items) => {
            for item in items {
                match data.get(&item.key) {
                    Some(value) => {
                        payload.insert(
                            item.path.clone(),
                            file(value, item.mode.unwrap_or(default_mode)),
                        );
                    }
                    None if optional => {}
                    None => {
                        return Err(VolumeError::MissingKey {
                            what: match kind {
                                SourceKind::ConfigMap => {
                                    "configmap references non-existent config key"
                                }
                                SourceKind::Secret => "references non-existent secret key",
                            },
                            key: item.key.clone(),
                        })
                    }
                }
            }
        }
    }
    Ok(payload)
}

fn file(data: &[u8], mode: i32) -> FileProjection {
    FileProjection {
        data: data.to_vec(),
        // Only permission bits; validation keeps modes within 0..=0777 anyway.
        mode: (mode as u32) & 0o7777,
    }
}

/// The data of a ConfigMap (`data` and `binaryData`), or `None` if it does not exist.
pub async fn config_map_data(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, VolumeError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Some(cm) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let mut data: BTreeMap<String, Vec<u8>> = cm
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    for (k, v) in cm.binary_data.unwrap_or_default() {
        data.insert(k, v.0);
    }
    Ok(Some(data))
}

/// The decoded data of a Secret (`data`, plus `stringData` should a server return it), or
/// `None` if it does not exist.
pub async fn secret_data(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, VolumeError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let Some(secret) = api.get_opt(name).await? else {
        return Ok(None);
    };
    let mut data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.entry(k).or_insert_with(|| v.into_bytes());
    }
    Ok(Some(data))
}

/// Fetches and projects one configMap or secret source. A missing object is an empty
/// payload when `optional`, else upstream's `configmap "x" not found`.
pub async fn fetch_and_project(
    client: &kube::Client,
    kind: SourceKind,
    namespace: &str,
    name: &str,
    items: Option<&[KeyToPath]>,
    default_mode: Option<i32>,
    optional: bool,
) -> Result<Payload, VolumeError> {
    let data = match kind {
        SourceKind::ConfigMap => config_map_data(client, namespace, name).await?,
        SourceKind::Secret => secret_data(client, namespace, name).await?,
    };
    match data {
        Some(data) => project_keys(kind, &data, items, default_mode, optional),
        None if optional => Ok(Payload::new()),
        None => Err(VolumeError::ObjectNotFound {
            kind: match kind {
                SourceKind::ConfigMap => "configmap",
                SourceKind::Secret => "secret",
            },
            name: name.to_string(),
        }),
    }
}

/// The files of a downwardAPI source. `node_allocatable` stands in for limits a container
/// leaves unset.
pub fn downward_api_payload(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: Option<i32>,
    node_allocatable: Option<&BTreeMap<String, Quantity>>,
) -> Result<Payload, VolumeError> {
    let default_mode = default_mode.unwrap_or(DEFAULT_MODE);
    let mut payload = Payload::new();
    for item in items {
        let value = if let Some(field) = &item.field_ref {
            field_value(pod, &field.field_path)?
        } else if let Some(res) = &item.resource_field_ref {
            let name = res.container_name.as_deref().unwrap_or_default();
            let container = find_container(pod, name)
                .ok_or_else(|| VolumeError::UnknownContainer(name.to_string()))?;
            resource_value(
                container,
                &res.resource,
                res.divisor.as_ref(),
                node_allocatable,
            )?
        } else {
            return Err(VolumeError::InvalidPath {
                path: item.path.clone(),
                reason: "downwardAPI item needs fieldRef or resourceFieldRef".into(),
            });
        };
        payload.insert(
            item.path.clone(),
            file(value.as_bytes(), item.mode.unwrap_or(default_mode)),
        );
    }
    Ok(payload)
}

/// Whether any item needs a container limit that may fall back to the node's allocatable.
pub fn needs_node_allocatable(items: &[DownwardAPIVolumeFile]) -> bool {
    items.iter().any(|i| {
        i.resource_field_ref
            .as_ref()
            .is_some_and(|r| r.resource.starts_with("limits."))
    })
}

fn find_container<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            ("a".to_string(), b"1".to_vec()),
            ("b".to_string(), b"2".to_vec()),
        ])
    }

    #[test]
    fn all_keys_with_default_mode() {
        let p = project_keys(SourceKind::ConfigMap, &data(), None, Some(0o400), false).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p["a"].mode, 0o400);
        assert_eq!(p["b"].data, b"2");
    }

    #[test]
    fn items_choose_paths_and_modes() {
        let items = vec![KeyToPath {
            key: "b".into(),
            path: "dir/bee".into(),
            mode: Some(0o600),
        }];
        let p = project_keys(SourceKind::Secret, &data(), Some(&items), None, false).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), vec!["dir/bee"]);
        assert_eq!(p["dir/bee"].mode, 0o600);
    }

    #[test]
    fn missing_key_fails_unless_optional() {
        let items = vec![KeyToPath {
            key: "zzz".into(),
            path: "z".into(),
            mode: None,
        }];
        let err =
            project_keys(SourceKind::ConfigMap, &data(), Some(&items), None, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configmap references non-existent config key: zzz"
        );
        let p = project_keys(SourceKind::ConfigMap, &data(), Some(&items), None, true).unwrap();
        assert!(p.is_empty());
    }
}
