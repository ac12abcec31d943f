//! Encryption at rest (`--encryption-provider-config`): upstream's `apiserver.config.k8s.io/v1
//! EncryptionConfiguration`. For each listed resource (`secrets`, `deployments.apps`, the
//! wildcards `*.apps`, `*.` for the core group and `*.*`), an ordered list of providers —
//! `identity`, `aescbc`, `aesgcm`, `secretbox` — of which the first encrypts every write and
//! all of them can read, so keys can be rotated by putting a new key (or provider) first.
//!
//! Values are byte-compatible with upstream's: `k8s:enc:<provider>:v1:<key name>:` followed by
//! the IV and AES-CBC ciphertext (PKCS#7 padded), the 12-byte nonce and AES-GCM ciphertext
//! with the etcd key as additional authenticated data, or the 24-byte nonce and NaCl secretbox
//! (tag first). A value no configured provider or key can read is an error that names the key,
//! never a panic.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use base64::Engine;
use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

/// The marker every encrypted value starts with.
const ENCRYPTED_MARKER: &[u8] = b"k8s:enc:";

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionConfigError {
    /// Unreadable file.
    #[error("error reading encryption provider configuration file {path:?}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a valid configuration.
    #[error("error decoding encryption provider configuration file {path:?}: {why}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// A value that could not be encrypted or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    resources: Vec<ResourceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceConfig {
    resources: Vec<String>,
    providers: Vec<ProviderConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderConfig {
    #[serde(default)]
    identity: Option<serde_yaml::Value>,
    #[serde(default)]
    aescbc: Option<KeysConfig>,
    #[serde(default)]
    aesgcm: Option<KeysConfig>,
    #[serde(default)]
    secretbox: Option<KeysConfig>,
    #[serde(default)]
    kms: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysConfig {
    #[serde(default)]
    keys: Vec<KeyConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyConfig {
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: String,
}

/// An AES key of one of the sizes AES allows.
#[derive(Clone)]
enum AesKey {
    K128([u8; 16]),
    K192([u8; 24]),
    K256([u8; 32]),
}

/// One provider of a resource's list.
#[derive(Clone)]
enum Provider {
    Identity,
    AesCbc(Vec<(String, AesKey)>),
    AesGcm(Vec<(String, AesKey)>),
    Secretbox(Vec<(String, [u8; 32])>),
}

impl Provider {
    fn prefix(&self) -> &'static [u8] {
        match self {
            Provider::Identity => b"",
            Provider::AesCbc(_) => b"k8s:enc:aescbc:v1:",
            Provider::AesGcm(_) => b"k8s:enc:aesgcm:v1:",
            Provider::Secretbox(_) => b"k8s:enc:secretbox:v1:",
        }
    }
}

/// The providers of one resource: the first writes, all read.
#[derive(Clone)]
pub struct ProviderChain {
    providers: Vec<Provider>,
}

fn random<const N: usize>() -> Result<[u8; N], TransformError> {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| TransformError("no randomness available".into()))?;
    Ok(b)
}

fn cbc_encrypt(key: &AesKey, data: &[u8]) -> Result<Vec<u8>, TransformError> {
    let iv = random::<16>()?;
    let ct = match key {
        AesKey::K128(k) => cbc::Encryptor::<aes::Aes128>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
        AesKey::K192(k) => cbc::Encryptor::<aes::Aes192>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
        AesKey::K256(k) => cbc::Encryptor::<aes::Aes256>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
    };
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn cbc_decrypt(key: &AesKey, data: &[u8]) -> Result<Vec<u8>, TransformError> {
    if data.len() < 16 {
        return Err(TransformError(
            "the stored data was shorter than the required size".into(),
        ));
    }
    let (iv, ct) = data.split_at(16);
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(TransformError(
            "the stored data is not a multiple of the block size".into(),
        ));
    }
    let iv: [u8; 16] = iv.try_into().map_err(|_| TransformError("bad IV".into()))?;
    let r = match key {
        AesKey::K128(k) => cbc::Decryptor::<aes::Aes128>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
        AesKey::K192(k) => cbc::Decryptor::<aes::Aes192>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
        AesKey::K256(k) => cbc::Decryptor::<aes::Aes256>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
    };
    r.map_err(|_| TransformError("invalid PKCS7 data (empty or not padded)".into()))
}

type Aes192Gcm = aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

fn gcm_seal(key: &AesKey, data: &[u8], aad: &[u8]) -> Result<Vec<u8>, TransformError> {
    let nonce = random::<12>()?;
    let payload = Payload { msg: data, aad };
    let ct = match key {
        AesKey::K128(k) => aes_gcm::Aes128Gcm::new(k.into()).encrypt(&nonce.into(), payload),
        AesKey::K192(k) => Aes192Gcm::new(k.into()).encrypt(&nonce.into(), payload),
        AesKey::K256(k) => aes_gcm::Aes256Gcm::new(k.into()).encrypt(&nonce.into(), payload),
    }
    .map_err(|_| TransformError("AES-GCM encryption failed".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn gcm_open(key: &AesKey, data: &[u8], aad: &[u8]) -> Result<Vec<u8>, TransformError> {
    if data.len() < 12 + 16 {
        return Err(TransformError(
            "the stored data was shorter than the required size".into(),
        ));
    }
    let (nonce, ct) = data.split_at(12);
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| TransformError("bad nonce".into()))?;
    let payload = Payload { msg: ct, aad };
    match key {
        AesKey::K128(k) => aes_gcm::Aes128Gcm::new(k.into()).decrypt(&nonce.into(), payload),
        AesKey::K192(k) => Aes192Gcm::new(k.into()).decrypt(&nonce.into(), payload),
        AesKey::K256(k) => aes_gcm::Aes256Gcm::new(k.into()).decrypt(&nonce.into(), payload),
    }
    .map_err(|_| TransformError("cipher: message authentication failed".into()))
}

fn secretbox_seal(key: &[u8; 32], data: &[u8]) -> Result<Vec<u8>, TransformError> {
    let nonce = random::<24>()?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.into());
    let mut buf = data.to_vec();
    let tag = cipher
        .encrypt_in_place_detached(&nonce.into(), b"", &mut buf)
        .map_err(|_| TransformError("secretbox encryption failed".into()))?;
    // NaCl's layout, which Go's secretbox.Seal writes: nonce, tag, ciphertext.
    let mut out = nonce.to_vec();
    out.extend_from_slice(&tag);
    out.extend_from_slice(&buf);
    Ok(out)
}

fn secretbox_open(key: &[u8; 32], data: &[u8]) -> Result<Vec<u8>, TransformError> {
    if data.len() < 24 + 16 {
        return Err(TransformError(
            "the stored data was shorter than the required size".into(),
        ));
    }
    let (nonce, rest) = data.split_at(24);
    let (tag, ct) = rest.split_at(16);
    let nonce: [u8; 24] = nonce
        .try_into()
        .map_err(|_| TransformError("bad nonce".into()))?;
    let tag: [u8; 16] = tag
        .try_into()
        .map_err(|_| TransformError("bad tag".into()))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.into());
    let mut buf = ct.to_vec();
    cipher
        .decrypt_in_place_detached(&nonce.into(), b"", &mut buf, &tag.into())
        .map_err(|_| TransformError("output array was not large enough for encryption".into()))?;
    Ok(buf)
}

/// Find the key whose `<name>:` prefix `data` starts with.
fn with_key<'a, K>(keys: &'a [(String, K)], data: &'a [u8]) -> Option<(&'a K, &'a [u8])> {
    keys.iter().find_map(|(name, k)| {
        data.strip_prefix(name.as_bytes())
            .and_then(|r| r.strip_prefix(b":"))
            .map(|rest| (k, rest))
    })
}

impl ProviderChain {
    /// Encrypt a value for `key` with the first provider's first key.
    pub fn encrypt(&self, key: &str, data: &[u8]) -> Result<Vec<u8>, TransformError> {
        let Some(first) = self.providers.first() else {
            return Ok(data.to_vec());
        };
        let (body, name) = match first {
            Provider::Identity => return Ok(data.to_vec()),
            Provider::AesCbc(keys) => {
                let (name, k) = &keys[0];
                (cbc_encrypt(k, data)?, name)
            }
            Provider::AesGcm(keys) => {
                let (name, k) = &keys[0];
                (gcm_seal(k, data, key.as_bytes())?, name)
            }
            Provider::Secretbox(keys) => {
                let (name, k) = &keys[0];
                (secretbox_seal(k, data)?, name)
            }
        };
        let mut out = first.prefix().to_vec();
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypt a stored value of `key` with whichever provider and key wrote it (upstream's
    /// prefix transformer: an identity provider refuses encrypted data but lets the next
    /// provider try).
    pub fn decrypt(&self, key: &str, data: &[u8]) -> Result<Vec<u8>, TransformError> {
        let mut identity_refused = None;
        for p in &self.providers {
            let Some(rest) = data.strip_prefix(p.prefix()) else {
                continue;
            };
            return match p {
                Provider::Identity => {
                    if data.starts_with(ENCRYPTED_MARKER) {
                        identity_refused = Some(TransformError(
                            "identity transformer tried to read encrypted data".into(),
                        ));
                        continue;
                    }
                    Ok(data.to_vec())
                }
                Provider::AesCbc(keys) => match with_key(keys, rest) {
                    Some((k, body)) => cbc_decrypt(k, body),
                    None => Err(aes_no_key()),
                },
                Provider::AesGcm(keys) => match with_key(keys, rest) {
                    Some((k, body)) => gcm_open(k, body, key.as_bytes()),
                    None => Err(aes_no_key()),
                },
                Provider::Secretbox(keys) => match with_key(keys, rest) {
                    Some((k, body)) => secretbox_open(k, body),
                    None => Err(TransformError(
                        "no matching key was found for the provided Secretbox transformer".into(),
                    )),
                },
            };
        }
        Err(identity_refused.unwrap_or_else(|| TransformError("no matching prefix found".into())))
    }
}

fn aes_no_key() -> TransformError {
    TransformError("no matching key was found for the provided AES transformer".into())
}

/// The loaded configuration: the provider chain of each storage prefix.
#[derive(Clone, Default)]
pub struct Encryption {
    /// etcd key prefix with a trailing `/` (`/registry/`).
    prefix: String,
    /// Storage segment (`secrets`, `services/specs`) → its providers.
    by_storage: HashMap<&'static str, Arc<ProviderChain>>,
}

fn decode_keys(kind: &str, keys: &[KeyConfig]) -> Result<Vec<(String, Vec<u8>)>, String> {
    if keys.is_empty() {
        return Err(format!("{kind} provider has no valid keys"));
    }
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for k in keys {
        if k.name.is_empty() {
            return Err("key with invalid name provided".into());
        }
        if k.name.contains(':') {
            return Err(format!("key name {:?} may not contain ':'", k.name));
        }
        if out.iter().any(|(n, _)| n == &k.name) {
            return Err(format!("duplicate key name {:?}", k.name));
        }
        if k.secret.is_empty() {
            return Err(format!("key {} has no provided secret", k.name));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(k.secret.trim())
            .map_err(|e| format!("could not obtain secret for named key {}: {e}", k.name))?;
        out.push((k.name.clone(), bytes));
    }
    Ok(out)
}

fn aes_keys(keys: &[KeyConfig]) -> Result<Vec<(String, AesKey)>, String> {
    decode_keys("aes", keys)?
        .into_iter()
        .map(|(name, b)| {
            let key = match b.len() {
                16 => AesKey::K128(b.try_into().unwrap_or([0; 16])),
                24 => AesKey::K192(b.try_into().unwrap_or([0; 24])),
                32 => AesKey::K256(b.try_into().unwrap_or([0; 32])),
                n => {
                    return Err(format!(
                        "error while creating cipher for named key {name}: crypto/aes: invalid key size {n}"
                    ))
                }
            };
            Ok((name, key))
        })
        .collect()
}

fn provider(p: &ProviderConfig) -> Result<Provider, String> {
    let set = [
        p.identity.is_some(),
        p.aescbc.is_some(),
        p.aesgcm.is_some(),
        p.secretbox.is_some(),
        p.kms.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(
            "provider must contain exactly one of: identity, aescbc, aesgcm, secretbox, kms".into(),
        );
    }
    if let Some(c) = &p.aescbc {
        return Ok(Provider::AesCbc(aes_keys(&c.keys)?));
    }
    if let Some(c) = &p.aesgcm {
        return Ok(Provider::AesGcm(aes_keys(&c.keys)?));
    }
    if let Some(c) = &p.secretbox {
        let keys = decode_keys("secretbox", &c.keys)?
            .into_iter()
            .map(|(name, b)| {
                let n = b.len();
                let k: [u8; 32] = b
                    .try_into()
                    .map_err(|_| format!("expected key size 32 for secretbox provider, got {n}"))?;
                Ok((name, k))
            })
            .collect::<Result<_, String>>()?;
        return Ok(Provider::Secretbox(keys));
    }
    if p.kms.is_some() {
        return Err("the kms provider is not supported by this apiserver".into());
    }
    Ok(Provider::Identity)
}

/// `secrets` → ("", "secrets"); `deployments.apps` → ("apps", "deployments"); the group
/// part of a wildcard is kept as is (`*.apps`, `*.`, `*.*`).
fn split_resource(r: &str) -> (&str, &str) {
    match r.split_once('.') {
        Some((res, group)) => (group, res),
        None => ("", r),
    }
}

impl Encryption {
    /// Read and check a configuration file; `prefix` is `--etcd-prefix`.
    pub fn load(path: &Path, prefix: &str) -> Result<Self, EncryptionConfigError> {
        let bytes = std::fs::read(path).map_err(|source| EncryptionConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&bytes, prefix).map_err(|why| EncryptionConfigError::Invalid {
            path: path.display().to_string(),
            why,
        })
    }

    /// Parse a configuration document (YAML or JSON).
    pub fn parse(bytes: &[u8], prefix: &str) -> Result<Self, String> {
        let cfg: ConfigFile = serde_yaml::from_slice(bytes).map_err(|e| e.to_string())?;
        if cfg.kind != "EncryptionConfiguration" {
            return Err(format!(
                "kind must be EncryptionConfiguration, got {:?}",
                cfg.kind
            ));
        }
        if cfg.api_version != "apiserver.config.k8s.io/v1" {
            return Err(format!(
                "apiVersion must be apiserver.config.k8s.io/v1, got {:?}",
                cfg.api_version
            ));
        }
        if cfg.resources.is_empty() {
            return Err("resources: Required value: resources cannot be empty".into());
        }
        // (group, resource or "*") → chain; the first mention of a resource wins.
        let mut chains: Vec<((String, String), Arc<ProviderChain>)> = Vec::new();
        for (i, rc) in cfg.resources.iter().enumerate() {
            if rc.providers.is_empty() {
                return Err(format!(
                    "resources[{i}].providers: Required value: providers cannot be empty"
                ));
            }
            if rc.resources.is_empty() {
                return Err(format!(
                    "resources[{i}].resources: Required value: resources cannot be empty"
                ));
            }
            let providers = rc
                .providers
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    provider(p).map_err(|e| format!("resources[{i}].providers[{j}]: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let chain = Arc::new(ProviderChain { providers });
            for r in &rc.resources {
                if r != &r.to_ascii_lowercase() {
                    return Err(format!("resources[{i}].resources: Invalid value: {r:?}: resource name must be lower case"));
                }
                let (group, res) = split_resource(r);
                let (group, res) = (group.to_string(), res.to_string());
                if !chains
                    .iter()
                    .any(|(k, _)| k == &(group.clone(), res.clone()))
                {
                    chains.push(((group, res), chain.clone()));
                }
            }
        }
        let find = |group: &str, res: &str| {
            chains
                .iter()
                .find(|((g, r), _)| g == group && r == res)
                .map(|(_, c)| c.clone())
        };
        let mut by_storage = HashMap::new();
        for (group, versions) in api_types::catalog::groups() {
            for version in versions {
                for info in api_types::catalog::resources_in(group, version) {
                    if by_storage.contains_key(info.storage) {
                        continue;
                    }
                    // The storage version decides the group of a shared prefix.
                    let owner = api_types::catalog::storage_version(info.storage).unwrap_or(info);
                    let chain = find(owner.group, owner.plural)
                        .or_else(|| find(owner.group, "*"))
                        .or_else(|| find("*", "*"));
                    if let Some(c) = chain {
                        by_storage.insert(info.storage, c);
                    }
                }
            }
        }
        Ok(Self {
            prefix: format!("{}/", prefix.trim_end_matches('/')),
            by_storage,
        })
    }

    /// The providers of the object stored at `key`, if its resource is configured.
    fn chain_for(&self, key: &str) -> Option<&ProviderChain> {
        let rest = key.strip_prefix(&self.prefix)?;
        // Two-segment prefixes (`services/specs`) before one-segment ones.
        let mut segs = rest.splitn(3, '/');
        let first = segs.next()?;
        if let Some(second) = segs.next() {
            let two = &rest[..first.len() + 1 + second.len()];
            if let Some(c) = self.by_storage.get(two) {
                return Some(c);
            }
        }
        self.by_storage.get(first).map(Arc::as_ref)
    }

    /// The value to store for `key`.
    pub fn encrypt(&self, key: &str, data: &[u8]) -> Result<Vec<u8>, TransformError> {
        match self.chain_for(key) {
            Some(c) => c.encrypt(key, data),
            None => Ok(data.to_vec()),
        }
    }

    /// The plain value of what is stored at `key`.
    pub fn decrypt(&self, key: &str, data: &[u8]) -> Result<Vec<u8>, TransformError> {
        match self.chain_for(key) {
            Some(c) => c.decrypt(key, data),
            None => Ok(data.to_vec()),
        }
    }
}

/// `--encryption-provider-config-automatic-reload`: re-read the file every `interval` and
/// install it when its content changed and it is valid (an invalid edit keeps the previous
/// configuration and is logged, as upstream).
pub async fn reload_on_change(
    etcd: super::EtcdStore,
    path: std::path::PathBuf,
    prefix: String,
    interval: std::time::Duration,
) {
    let mut last = std::fs::read(&path).ok();
    loop {
        tokio::time::sleep(interval).await;
        let Ok(now) = std::fs::read(&path) else {
            continue;
        };
        if last.as_deref() == Some(now.as_slice()) {
            continue;
        }
        match Encryption::parse(&now, &prefix) {
            Ok(config) => {
                etcd.set_encryption(Some(config));
                tracing::info!(path = %path.display(), "reloaded the encryption provider configuration");
            }
            Err(why) => {
                tracing::error!(path = %path.display(), %why, "invalid encryption provider configuration; keeping the previous one")
            }
        }
        last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/IDEyMzQ="; // 32 bytes
    const K2: &str = "MTIzNDU2Nzg5MDEyMzQ1Ng=="; // 16 bytes

    fn config(providers: &str) -> Encryption {
        let doc = format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, '*.apps']\n  providers:\n{providers}"
        );
        Encryption::parse(doc.as_bytes(), "/registry").expect("config")
    }

    #[test]
    fn every_provider_round_trips_with_upstreams_prefix() {
        for (name, secret) in [
            ("aescbc", K1),
            ("aescbc", K2),
            ("aesgcm", K1),
            ("aesgcm", K2),
            ("secretbox", K1),
        ] {
            let e = config(&format!(
                "  - {name}:\n      keys:\n      - name: key1\n        secret: {secret}\n"
            ));
            let key = "/registry/secrets/default/s1";
            let plain = br#"{"kind":"Secret","data":{"a":"Yg=="}}"#;
            let stored = e.encrypt(key, plain).expect("encrypt");
            let prefix = format!("k8s:enc:{name}:v1:key1:");
            assert!(stored.starts_with(prefix.as_bytes()), "{name}");
            assert!(
                !stored.windows(6).any(|w| w == b"Secret"),
                "{name}: plaintext leaked"
            );
            assert_eq!(e.decrypt(key, &stored).expect("decrypt"), plain);
            // Two writes of the same value differ (random IV/nonce).
            assert_ne!(e.encrypt(key, plain).expect("again"), stored);
        }
    }

    #[test]
    fn gcm_binds_the_value_to_its_key() {
        let e = config(&format!(
            "  - aesgcm:\n      keys:\n      - name: k\n        secret: {K1}\n"
        ));
        let stored = e.encrypt("/registry/secrets/a/b", b"{}").expect("encrypt");
        assert!(e.decrypt("/registry/secrets/a/c", &stored).is_err());
    }

    #[test]
    fn rotation_and_missing_keys() {
        let old = config(&format!(
            "  - aescbc:\n      keys:\n      - name: key1\n        secret: {K1}\n"
        ));
        let key = "/registry/secrets/default/s1";
        let by_old = old.encrypt(key, b"{}").expect("encrypt");
        let rotated = config(&format!(
            "  - aescbc:\n      keys:\n      - name: key2\n        secret: {K2}\n      - name: key1\n        secret: {K1}\n  - identity: {{}}\n"
        ));
        assert_eq!(rotated.decrypt(key, &by_old).expect("old key reads"), b"{}");
        assert!(rotated
            .encrypt(key, b"{}")
            .expect("new")
            .starts_with(b"k8s:enc:aescbc:v1:key2:"));
        // Plain values written before encryption was turned on stay readable via identity.
        assert_eq!(
            rotated.decrypt(key, b"{\"a\":1}").expect("plain"),
            b"{\"a\":1}"
        );
        let lost = config(&format!(
            "  - aescbc:\n      keys:\n      - name: key2\n        secret: {K2}\n"
        ));
        assert_eq!(
            lost.decrypt(key, &by_old).unwrap_err().0,
            "no matching key was found for the provided AES transformer"
        );
        assert_eq!(
            lost.decrypt(key, b"{}").unwrap_err().0,
            "no matching prefix found"
        );
        let identity_only = config("  - identity: {}\n");
        assert_eq!(
            identity_only.decrypt(key, &by_old).unwrap_err().0,
            "identity transformer tried to read encrypted data"
        );
    }

    #[test]
    fn resources_and_wildcards_pick_their_chain() {
        let e = config(&format!(
            "  - secretbox:\n      keys:\n      - name: k\n        secret: {K1}\n"
        ));
        assert!(e
            .encrypt("/registry/deployments/d/x", b"{}")
            .expect("apps")
            .starts_with(b"k8s:enc:"));
        assert_eq!(
            e.encrypt("/registry/configmaps/d/x", b"{}").expect("core"),
            b"{}"
        );
        let all = Encryption::parse(
            format!("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: ['*.']\n  providers:\n  - aesgcm:\n      keys:\n      - name: k\n        secret: {K1}\n").as_bytes(),
            "/registry",
        )
        .expect("config");
        assert!(all
            .encrypt("/registry/services/specs/d/x", b"{}")
            .expect("svc")
            .starts_with(b"k8s:enc:aesgcm:v1:k:"));
        assert_eq!(
            all.encrypt("/registry/deployments/d/x", b"{}")
                .expect("apps"),
            b"{}"
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        let bad = |p: &str| {
            Encryption::parse(
                format!("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n{p}").as_bytes(),
                "/registry",
            )
            .is_err()
        };
        assert!(bad(
            "  - aescbc:\n      keys:\n      - name: k\n        secret: c2hvcnQ=\n"
        ));
        assert!(bad("  - secretbox:\n      keys:\n      - name: k\n        secret: MTIzNDU2Nzg5MDEyMzQ1Ng==\n"));
        assert!(bad("  - aescbc:\n      keys: []\n"));
        assert!(bad(
            "  - aescbc:\n      keys:\n      - name: k\n        secret: '%%%'\n"
        ));
        assert!(!bad("  - identity: {}\n"));
    }
}
