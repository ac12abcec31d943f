//! Service account key material: the public keys tokens are verified with
//! (`--service-account-key-file`) and the private key they are signed with
//! (`--service-account-signing-key-file`), RSA or ECDSA (P-256, P-384), PEM encoded.
//!
//! Every key carries its key ID as upstream computes it: the unpadded base64url SHA-256 of
//! the public key's PKIX (SubjectPublicKeyInfo) DER. The same ID goes into the `kid` header of
//! issued tokens and into the JWKS served at `/openid/v1/jwks`.

use std::io::BufReader;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pemfile::Item;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey as ParsedKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Why key material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no usable key, or a key of a kind we do not support.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The signature algorithms service account tokens may use (JWS `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
}

impl Algorithm {
    /// The JWS name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
        }
    }

    /// Parse a JWS `alg`; everything else (`none`, `HS256`, …) is refused.
    pub fn from_name(alg: &str) -> Option<Self> {
        match alg {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            _ => None,
        }
    }
}

/// A public key tokens are verified with.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// Algorithm the key verifies.
    pub alg: Algorithm,
    /// Key ID (base64url SHA-256 of the PKIX DER).
    pub kid: String,
    /// What ring verifies with: PKCS#1 `RSAPublicKey` DER, or the uncompressed EC point.
    raw: Vec<u8>,
    /// The JWK form.
    jwk: Value,
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki(spki_der: &[u8]) -> Result<Self, String> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| format!("invalid public key: {e}"))?;
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(spki.raw));
        match spki.parsed() {
            Ok(ParsedKey::RSA(rsa)) => {
                let n = strip_zeros(rsa.modulus);
                let e = strip_zeros(rsa.exponent);
                if n.len() * 8 < 2048 {
                    return Err("RSA keys must have at least 2048 bits".into());
                }
                Ok(PublicKey {
                    alg: Algorithm::Rs256,
                    jwk: json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256",
                        "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)}),
                    kid,
                    raw: spki.subject_public_key.data.to_vec(),
                })
            }
            Ok(ParsedKey::EC(point)) => {
                let point = point.data();
                let (alg, crv, half) = match point.len() {
                    65 => (Algorithm::Es256, "P-256", 32),
                    97 => (Algorithm::Es384, "P-384", 48),
                    _ => return Err("unsupported elliptic curve (P-256 and P-384 are)".into()),
                };
                if point[0] != 0x04 {
                    return Err("compressed EC points are not supported".into());
                }
                Ok(PublicKey {
                    alg,
                    jwk: json!({"use": "sig", "kty": "EC", "kid": kid, "crv": crv, "alg": alg.name(),
                        "x": URL_SAFE_NO_PAD.encode(&point[1..1 + half]),
                        "y": URL_SAFE_NO_PAD.encode(&point[1 + half..])}),
                    kid,
                    raw: point.to_vec(),
                })
            }
            _ => Err("unsupported public key type (RSA and ECDSA are)".into()),
        }
    }

    /// Check a JWS signature made with `alg` over `message`.
    pub fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> bool {
        if alg != self.alg {
            return false;
        }
        let params: &dyn signature::VerificationAlgorithm = match alg {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
        };
        signature::UnparsedPublicKey::new(params, &self.raw)
            .verify(message, sig)
            .is_ok()
    }

    /// The key as a JSON Web Key.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }
}

enum Signer {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// The private key tokens are signed with.
pub struct SigningKey {
    signer: Signer,
    /// Its public half (and key ID).
    pub public: PublicKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({} {})",
            self.public.alg.name(),
            self.public.kid
        )
    }
}

impl SigningKey {
    /// Load the first private key of a PEM file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = read(path)?;
        let perr = |message: String| KeyError::Parse {
            path: path.display().to_string(),
            message,
        };
        for item in rustls_pemfile::read_all(&mut BufReader::new(pem.as_slice())) {
            let item = item.map_err(|e| perr(format!("invalid PEM: {e}")))?;
            if let Some(key) = private_key(&item) {
                return key.map_err(perr);
            }
        }
        Err(perr("no private key found".into()))
    }

    /// From PKCS#8 DER (RSA or ECDSA).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let rng = SystemRandom::new();
        if let Ok(rsa) = RsaKeyPair::from_pkcs8(der) {
            return Self::rsa(rsa, rng);
        }
        for (alg, params) in [
            (
                Algorithm::Es256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
            (
                Algorithm::Es384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
        ] {
            if let Ok(ec) = EcdsaKeyPair::from_pkcs8(params, der, &rng) {
                let spki = ec_spki(alg, ec.public_key().as_ref());
                return Ok(SigningKey {
                    public: PublicKey::from_spki(&spki)?,
                    signer: Signer::Ecdsa(ec),
                    rng,
                });
            }
        }
        Err("unsupported private key (RSA and ECDSA P-256/P-384 in PKCS#8 are)".into())
    }

    fn rsa(rsa: RsaKeyPair, rng: SystemRandom) -> Result<Self, String> {
        let spki = der_seq(&[
            der_seq(&[RSA_ENCRYPTION_OID.to_vec(), vec![0x05, 0x00]]),
            der_bit_string(rsa.public_key().as_ref()),
        ]);
        Ok(SigningKey {
            public: PublicKey::from_spki(&spki)?,
            signer: Signer::Rsa(rsa),
            rng,
        })
    }

    /// Sign `message` (the JWS signing input).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        match &self.signer {
            Signer::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
                    .map_err(|_| "RSA signing failed".to_string())?;
                Ok(sig)
            }
            Signer::Ecdsa(k) => k
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_string()),
        }
    }
}

/// Load every public key of a PEM file: public keys, certificates, or private keys (whose
/// public half is used), as upstream's `--service-account-key-file` accepts.
pub fn load_public_keys(path: &Path) -> Result<Vec<PublicKey>, KeyError> {
    let pem = read(path)?;
    let perr = |message: String| KeyError::Parse {
        path: path.display().to_string(),
        message,
    };
    let mut keys = Vec::new();
    for item in rustls_pemfile::read_all(&mut BufReader::new(pem.as_slice())) {
        let item = item.map_err(|e| perr(format!("invalid PEM: {e}")))?;
        let key = match &item {
            Item::SubjectPublicKeyInfo(spki) => PublicKey::from_spki(spki.as_ref()),
            Item::X509Certificate(cert) => X509Certificate::from_der(cert.as_ref())
                .map_err(|e| format!("invalid certificate: {e}"))
                .and_then(|(_, c)| PublicKey::from_spki(c.public_key().raw)),
            other => match private_key(other) {
                Some(k) => k.map(|k| k.public),
                None => continue,
            },
        };
        keys.push(key.map_err(perr)?);
    }
    if keys.is_empty() {
        return Err(perr("no public key found".into()));
    }
    Ok(keys)
}

fn private_key(item: &Item) -> Option<Result<SigningKey, String>> {
    match item {
        Item::Pkcs8Key(k) => Some(SigningKey::from_pkcs8(k.secret_pkcs8_der())),
        Item::Pkcs1Key(k) => Some(
            RsaKeyPair::from_der(k.secret_pkcs1_der())
                .map_err(|e| format!("invalid RSA key: {e}"))
                .and_then(|rsa| SigningKey::rsa(rsa, SystemRandom::new())),
        ),
        Item::Sec1Key(_) => Some(Err(
            "SEC1 (\"EC PRIVATE KEY\") keys are not supported; convert to PKCS#8".into(),
        )),
        _ => None,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

/// `rsaEncryption` (1.2.840.113549.1.1.1), DER encoded with its tag.
const RSA_ENCRYPTION_OID: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// `id-ecPublicKey` (1.2.840.10045.2.1).
const EC_PUBLIC_KEY_OID: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `prime256v1` (1.2.840.10045.3.1.7).
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `secp384r1` (1.3.132.0.34).
const P384_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

fn ec_spki(alg: Algorithm, point: &[u8]) -> Vec<u8> {
    let curve = if alg == Algorithm::Es384 {
        P384_OID.to_vec()
    } else {
        P256_OID.to_vec()
    };
    der_seq(&[
        der_seq(&[EC_PUBLIC_KEY_OID.to_vec(), curve]),
        der_bit_string(point),
    ])
}

fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    let mut out = vec![0x30];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

fn der_bit_string(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x03];
    out.extend(der_len(data.len() + 1));
    out.push(0);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 key pair as the PKI tool writes it (PKCS#8 private, SPKI public).
    fn p256() -> (String, String) {
        let k = rcgen::KeyPair::generate().expect("key");
        (k.serialize_pem(), k.public_key_pem())
    }

    #[test]
    fn signing_key_public_half_matches_the_public_key_file() {
        let dir = tempfile::tempdir().expect("dir");
        let (private, public) = p256();
        std::fs::write(dir.path().join("sa.key"), &private).expect("write");
        std::fs::write(dir.path().join("sa.pub"), &public).expect("write");
        let signer = SigningKey::load(&dir.path().join("sa.key")).expect("signing key");
        let pubs = load_public_keys(&dir.path().join("sa.pub")).expect("public keys");
        assert_eq!(pubs.len(), 1);
        assert_eq!(signer.public.kid, pubs[0].kid);
        assert_eq!(signer.public.alg, Algorithm::Es256);
        let sig = signer.sign(b"payload").expect("sign");
        assert!(pubs[0].verify(Algorithm::Es256, b"payload", &sig));
        assert!(!pubs[0].verify(Algorithm::Es256, b"other", &sig));
        assert!(!pubs[0].verify(Algorithm::Rs256, b"payload", &sig));
        // A private key in --service-account-key-file stands for its public half.
        let from_private = load_public_keys(&dir.path().join("sa.key")).expect("from private");
        assert_eq!(from_private[0].kid, signer.public.kid);
        let jwk = pubs[0].jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["x"].as_str().map(str::len), Some(43));
    }

    #[test]
    fn rsa_keys_sign_rs256() {
        let dir = tempfile::tempdir().expect("dir");
        let key = dir.path().join("rsa.key");
        // hack/install-deps.sh installs openssl; without it this test fails rather than
        // pass having checked nothing.
        let ok = std::process::Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048")
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "openssl genrsa failed or openssl is not installed");
        let signer = SigningKey::load(&key).expect("rsa key");
        assert_eq!(signer.public.alg, Algorithm::Rs256);
        let sig = signer.sign(b"m").expect("sign");
        assert_eq!(sig.len(), 256);
        assert!(signer.public.verify(Algorithm::Rs256, b"m", &sig));
        assert_eq!(signer.public.jwk()["e"], "AQAB");
    }

    #[test]
    fn files_without_keys_are_errors() {
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("empty.pem");
        std::fs::write(&f, "not a pem").expect("write");
        assert!(load_public_keys(&f).is_err());
        assert!(SigningKey::load(&f).is_err());
        assert!(load_public_keys(&dir.path().join("missing")).is_err());
    }
}
