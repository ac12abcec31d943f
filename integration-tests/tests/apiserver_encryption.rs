//! Encryption at rest (`--encryption-provider-config`): etcd holds ciphertext with upstream's
//! `k8s:enc:<provider>:v1:<key>:` prefix while the API returns plaintext; rotation by putting
//! a new key first; a value whose key is gone is a clear internal error, not a crash; and the
//! configuration can be reloaded without a restart.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

// base64 of 32 and 16 random-looking bytes.
const KEY1: &str = "dGhpcnR5LXR3by1ieXRlLWtleS1mb3ItYWVzLWNiYyE=";
const KEY2: &str = "c2l4dGVlbi1ieXRlcy1rIQ==";
const KEY3: &str = "c2VjcmV0Ym94LWtleS10aGlydHktdHdvLWJ5dGVzISE=";
/// The plaintext that must never reach etcd (base64 of it is what the Secret holds).
const PLAIN: &str = "correct horse battery staple";
const PLAIN_B64: &str = "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";

fn write_config(path: &Path, providers: &str) -> Result<()> {
    std::fs::write(
        path,
        format!(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n    providers:\n{providers}"
        ),
    )?;
    Ok(())
}

fn aes(kind: &str, keys: &[(&str, &str)]) -> String {
    let mut s = format!("      - {kind}:\n          keys:\n");
    for (name, secret) in keys {
        s.push_str(&format!(
            "            - name: {name}\n              secret: {secret}\n"
        ));
    }
    s
}

const IDENTITY: &str = "      - identity: {}\n";

async fn create_secret(cluster: &TestCluster, name: &str) -> Result<()> {
    let (status, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/secrets",
            &json!({"metadata": {"name": name}, "data": {"password": PLAIN_B64}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(())
}

async fn raw(cluster: &TestCluster, key: &str) -> Result<Vec<u8>> {
    match cluster.etcd().get_raw(key).await? {
        Some(v) => Ok(v),
        None => bail!("{key} is not in etcd"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn password(cluster: &TestCluster, name: &str) -> Result<(StatusCode, Value)> {
    cluster
        .get_json(&format!("/api/v1/namespaces/default/secrets/{name}"))
        .await
}

#[tokio::test]
async fn secrets_are_encrypted_in_etcd_and_keys_rotate() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("encryption.yaml");
    write_config(&config, &(aes("aescbc", &[("key1", KEY1)]) + IDENTITY))?;
    let flag = format!("--encryption-provider-config={}", config.display());
    let mut cluster = TestCluster::start_with_args(&[&flag]).await?;

    create_secret(&cluster, "s1").await?;
    let stored = raw(&cluster, "/registry/secrets/default/s1").await?;
    assert!(
        stored.starts_with(b"k8s:enc:aescbc:v1:key1:"),
        "{}",
        String::from_utf8_lossy(&stored)
    );
    assert!(!contains(&stored, PLAIN_B64.as_bytes()) && !contains(&stored, b"\"kind\""));
    let (status, body) = password(&cluster, "s1").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["password"], PLAIN_B64);
    // Resources the configuration does not name are stored as they are.
    let (status, _) = cluster
        .post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": "c"}, "data": {"k": PLAIN}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let cm = raw(&cluster, "/registry/configmaps/default/c").await?;
    assert!(cm.starts_with(b"{") && contains(&cm, PLAIN.as_bytes()));
    // Lists are served decrypted too.
    let (_, list) = cluster
        .get_json("/api/v1/namespaces/default/secrets")
        .await?;
    assert!(
        list["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|s| s["data"]["password"] == PLAIN_B64)),
        "{list}"
    );

    // Rotation: a new key (of another provider) first; the old one still reads.
    write_config(
        &config,
        &(aes("aesgcm", &[("key2", KEY2)]) + &aes("aescbc", &[("key1", KEY1)]) + IDENTITY),
    )?;
    cluster.restart_apiserver().await?;
    let (status, body) = password(&cluster, "s1").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["password"], PLAIN_B64);
    create_secret(&cluster, "s2").await?;
    assert!(raw(&cluster, "/registry/secrets/default/s2")
        .await?
        .starts_with(b"k8s:enc:aesgcm:v1:key2:"));
    // Rewriting an old secret moves it to the new key.
    let (status, body) = cluster
        .patch_json(
            "/api/v1/namespaces/default/secrets/s1",
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"rotated": "yes"}}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(raw(&cluster, "/registry/secrets/default/s1")
        .await?
        .starts_with(b"k8s:enc:aesgcm:v1:key2:"));

    // A key removed from the configuration: reads of what it wrote fail clearly, the server
    // keeps serving everything else.
    write_config(&config, &aes("secretbox", &[("key3", KEY3)]))?;
    cluster.restart_apiserver().await?;
    let (status, body) = password(&cluster, "s2").await?;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        body["message"],
        r#"Internal error occurred: unable to transform key "/registry/secrets/default/s2": no matching prefix found"#
    );
    create_secret(&cluster, "s3").await?;
    assert!(raw(&cluster, "/registry/secrets/default/s3")
        .await?
        .starts_with(b"k8s:enc:secretbox:v1:key3:"));
    let (status, body) = password(&cluster, "s3").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["password"], PLAIN_B64);
    let (status, _) = cluster.get_json("/readyz").await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn invalid_configuration_stops_startup() -> Result<()> {
    // The start-up error must be the last thing the apiserver logs, not a backtrace (nextest
    // runs each test in its own process, so this reaches only this test's apiserver).
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("encryption.yaml");
    // A 5-byte AES key.
    write_config(&config, &aes("aescbc", &[("k", "c2hvcnQ=")]))?;
    let flag = format!("--encryption-provider-config={}", config.display());
    let err = match TestCluster::start_with_args(&[&flag]).await {
        Ok(_) => bail!("the apiserver started with an invalid encryption configuration"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("invalid key size 5"), "{err}");
    Ok(())
}

#[tokio::test]
async fn automatic_reload_switches_the_write_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("encryption.yaml");
    write_config(
        &config,
        &(IDENTITY.to_string() + &aes("aesgcm", &[("key2", KEY2)])),
    )?;
    let flag = format!("--encryption-provider-config={}", config.display());
    let cluster =
        TestCluster::start_with_args(&[&flag, "--encryption-provider-config-automatic-reload"])
            .await?;
    create_secret(&cluster, "plain").await?;
    assert!(raw(&cluster, "/registry/secrets/default/plain")
        .await?
        .starts_with(b"{"));

    write_config(&config, &(aes("aesgcm", &[("key2", KEY2)]) + IDENTITY))?;
    let mut encrypted = false;
    for i in 0..100 {
        let name = format!("after-{i}");
        create_secret(&cluster, &name).await?;
        if raw(&cluster, &format!("/registry/secrets/default/{name}"))
            .await?
            .starts_with(b"k8s:enc:aesgcm:v1:key2:")
        {
            encrypted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(encrypted, "the reloaded configuration never took effect");
    // What was written in plain text stays readable through identity.
    let (status, body) = password(&cluster, "plain").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(())
}
