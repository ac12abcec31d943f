//! `kubectl create secret tls`: a `kubernetes.io/tls` Secret from a certificate and key file,
//! refused as upstream refuses it when a file cannot be read or does not hold the PEM blocks
//! Go's `tls.X509KeyPair` looks for (whether the key matches the certificate is left to the
//! server and its users: parsing X.509 here would add a dependency for one message).

use base64::Engine;
use serde_json::{json, Value};

use super::super::name_hash;
use crate::error::{KubectlError, Result};

/// The Secret for `name` from the files `cert` and `key` (both must be named), its name
/// suffixed with the content's hash when `append_hash`.
pub fn secret(name: &str, cert: &str, key: &str, append_hash: bool) -> Result<Value> {
    if cert.is_empty() || key.is_empty() {
        return Err(KubectlError::usage("key and cert must be specified"));
    }
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    check_pair(&cert_pem, &key_pem).map_err(KubectlError::usage)?;
    let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut s = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
           "metadata": {"name": name, "creationTimestamp": null},
           "data": {"tls.crt": encode(&cert_pem), "tls.key": encode(&key_pem)}});
    if append_hash {
        name_hash::append_to_name(&mut s);
    }
    Ok(s)
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        KubectlError::usage(format!(
            "Cannot read file {path}, {}",
            crate::go_io::read_file_error(path, &e)
        ))
    })
}

/// The types of the PEM blocks in `pem` (`CERTIFICATE`, `RSA PRIVATE KEY`, …), in order.
fn block_types(pem: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(pem)
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("-----BEGIN ")?
                .strip_suffix("-----")
                .map(str::to_string)
        })
        .collect()
}

/// Go's `tls.X509KeyPair` refusals that depend only on which PEM blocks each input holds.
fn check_pair(cert_pem: &[u8], key_pem: &[u8]) -> std::result::Result<(), String> {
    let cert_blocks = block_types(cert_pem);
    if !cert_blocks.iter().any(|t| t == "CERTIFICATE") {
        return Err(match cert_blocks.as_slice() {
            [] => "tls: failed to find any PEM data in certificate input".to_string(),
            [only] if only.ends_with("PRIVATE KEY") => "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched".to_string(),
            skipped => format!(
                "tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping PEM blocks of the following types: [{}]",
                skipped.join(" ")
            ),
        });
    }
    let key_blocks = block_types(key_pem);
    if !key_blocks
        .iter()
        .any(|t| t == "PRIVATE KEY" || t.ends_with(" PRIVATE KEY"))
    {
        return Err(match key_blocks.as_slice() {
            [] => "tls: failed to find any PEM data in key input".to_string(),
            [only] if only == "CERTIFICATE" => {
                "tls: found a certificate rather than a key in the PEM for the private key"
                    .to_string()
            }
            skipped => format!(
                "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after skipping PEM blocks of the following types: [{}]",
                skipped.join(" ")
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &[u8] = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    const RSA_KEY: &[u8] =
        b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";

    #[test]
    fn a_certificate_and_a_key_pass() {
        assert_eq!(check_pair(CERT, KEY), Ok(()));
        assert_eq!(check_pair(CERT, RSA_KEY), Ok(()));
    }

    #[test]
    fn switched_or_missing_blocks_are_refused_in_gos_words() {
        assert_eq!(
            check_pair(KEY, CERT).unwrap_err(),
            "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched"
        );
        assert_eq!(
            check_pair(b"junk", KEY).unwrap_err(),
            "tls: failed to find any PEM data in certificate input"
        );
        assert_eq!(
            check_pair(CERT, CERT).unwrap_err(),
            "tls: found a certificate rather than a key in the PEM for the private key"
        );
        assert_eq!(
            check_pair(CERT, b"").unwrap_err(),
            "tls: failed to find any PEM data in key input"
        );
    }

    #[test]
    fn an_unreadable_file_is_named_twice_as_upstream_does() {
        let e = secret("x", "/nonexistent/c", "/nonexistent/k", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: Cannot read file /nonexistent/c, open /nonexistent/c: no such file or directory"
        );
    }
}
