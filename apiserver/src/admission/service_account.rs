//! ServiceAccount admission (upstream's `ServiceAccount` plugin), on pod create: default
//! `spec.serviceAccountName` to `default`, refuse a pod whose service account does not exist,
//! copy the account's image pull secrets, and — unless `automountServiceAccountToken` is false
//! on the pod or the account — add the `kube-api-access-<random>` projected volume (a bound
//! token, the cluster CA from the `kube-root-ca.crt` ConfigMap, and the namespace) mounted
//! read-only at `/var/run/secrets/kubernetes.io/serviceaccount` in every container.

use rand::Rng;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::store::Store;

/// Where the token, CA and namespace appear in containers.
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Prefix of the projected volume's name.
pub const VOLUME_PREFIX: &str = "kube-api-access-";
/// Lifetime the kubelet asks for (an hour and a bit, so it is recognisable in audit logs).
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// The ConfigMap every namespace gets with the cluster CA (published by kube-controller-manager).
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
/// The service account a pod runs as when it names none.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// Pods the kubelet mirrors from static manifests carry this annotation; they may not use
/// service accounts.
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Characters of upstream's random suffixes (no vowels, no look-alikes).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Admit a pod being created; mutates it in place.
pub async fn admit_pod(store: &Store, ns: &str, pod: &mut Value) -> Result<(), ApiError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let forbidden = |why: String| {
        ApiError::forbidden(format!("pods \"{name}\" is forbidden: {why}"))
            .with_details(json!({"name": name, "kind": "pods"}))
    };
    if pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION))
        .is_some()
    {
        let named = pod
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if named {
            return Err(forbidden(
                "a mirror pod may not reference service accounts".into(),
            ));
        }
        return Ok(());
    }
    let sa_name = match pod
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
    {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => DEFAULT_SERVICE_ACCOUNT.to_string(),
    };
    let sa = crate::authn::service_account::lookup(store, "serviceaccounts", Some(ns), &sa_name)
        .await
        .map_err(|e| forbidden(format!("error looking up service account {ns}/{sa_name}: {e}")))?
        .ok_or_else(|| {
            forbidden(format!(
                "error looking up service account {ns}/{sa_name}: serviceaccount \"{sa_name}\" not found"
            ))
        })?;
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    spec.insert("serviceAccountName".into(), json!(sa_name));
    // The deprecated alias follows the real field.
    spec.insert("serviceAccount".into(), json!(sa_name));
    let no_pull_secrets = spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if no_pull_secrets {
        if let Some(secrets) = sa
            .get("imagePullSecrets")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        {
            spec.insert("imagePullSecrets".into(), Value::Array(secrets.clone()));
        }
    }
    if should_automount(pod, &sa) {
        mount_token(pod, &random_suffix());
    }
    Ok(())
}

/// The pod's `automountServiceAccountToken` wins; then the account's; then yes.
fn should_automount(pod: &Value, sa: &Value) -> bool {
    pod.pointer("/spec/automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            sa.get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHANUMS[rng.random_range(0..ALPHANUMS.len())] as char)
        .collect()
}

/// The projected volume of a service account token, CA and namespace.
pub fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                {"configMap": {"name": ROOT_CA_CONFIGMAP, "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    })
}

/// Add the volume (unless one already projects a service account token at the mount path)
/// and mount it in every container and init container that has nothing mounted there.
fn mount_token(pod: &mut Value, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let containers_of = |spec: &serde_json::Map<String, Value>| -> Vec<(String, usize)> {
        ["initContainers", "containers"]
            .iter()
            .flat_map(|k| {
                let n = spec.get(*k).and_then(Value::as_array).map_or(0, Vec::len);
                (0..n).map(move |i| (k.to_string(), i))
            })
            .collect()
    };
    let mounts_at_path = |c: &Value| {
        c.get("volumeMounts")
            .and_then(Value::as_array)
            .is_some_and(|ms| {
                ms.iter()
                    .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(MOUNT_PATH))
            })
    };
    let needs: Vec<(String, usize)> = containers_of(spec)
        .into_iter()
        .filter(|(k, i)| !mounts_at_path(&spec[k.as_str()][*i]))
        .collect();
    if needs.is_empty() {
        return;
    }
    let volumes = spec
        .entry("volumes")
        .or_insert_with(|| json!([]))
        .as_array_mut();
    let Some(volumes) = volumes else { return };
    let existing = volumes
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .find(|n| n.starts_with(VOLUME_PREFIX))
        .map(String::from);
    let vol_name = match existing {
        Some(n) => n,
        None => {
            let n = format!("{VOLUME_PREFIX}{suffix}");
            volumes.push(token_volume(&n));
            n
        }
    };
    for (k, i) in needs {
        let c = &mut spec[k.as_str()][i];
        let mount = json!({"name": vol_name, "readOnly": true, "mountPath": MOUNT_PATH});
        match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
            Some(ms) => ms.push(mount),
            None => c["volumeMounts"] = json!([mount]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "i", "image": "x"}],
            "containers": [
                {"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                {"name": "b", "image": "x"},
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }})
    }

    #[test]
    fn every_container_gets_the_token_mount() {
        let mut p = pod();
        mount_token(&mut p, "abcde");
        let vols = p["spec"]["volumes"].as_array().expect("volumes");
        assert_eq!(vols.len(), 2);
        assert_eq!(vols[1]["name"], "kube-api-access-abcde");
        assert_eq!(
            vols[1]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3607
        );
        for c in ["initContainers", "containers"] {
            for ctr in p["spec"][c].as_array().expect("containers") {
                let last = ctr["volumeMounts"]
                    .as_array()
                    .and_then(|m| m.last())
                    .expect("mount");
                assert_eq!(last["mountPath"], MOUNT_PATH);
                assert_eq!(last["readOnly"], true);
                assert_eq!(last["name"], "kube-api-access-abcde");
            }
        }
        // Admitting again (a pod that already has it) adds nothing.
        let before = p.clone();
        mount_token(&mut p, "zzzzz");
        assert_eq!(p, before);
    }

    #[test]
    fn automount_follows_pod_then_service_account() {
        let sa_off = json!({"automountServiceAccountToken": false});
        let sa_default = json!({});
        let mut p = pod();
        assert!(should_automount(&p, &sa_default));
        assert!(!should_automount(&p, &sa_off));
        p["spec"]["automountServiceAccountToken"] = json!(true);
        assert!(should_automount(&p, &sa_off));
        p["spec"]["automountServiceAccountToken"] = json!(false);
        assert!(!should_automount(&p, &sa_default));
    }

    #[test]
    fn suffixes_use_upstream_alphabet() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| ALPHANUMS.contains(&b)));
    }
}
