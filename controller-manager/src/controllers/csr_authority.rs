//! The certificate authority behind a signer (upstream's `certificates/authority`): issues a
//! certificate for a checked request with the request's subject, SANs and public key, the
//! usages of the CSR object, a random 128-bit serial, notBefore backdated by five minutes
//! and notAfter from the requested duration, never past the CA's own expiry.
//!
//! Like upstream's permissive signing policy it copies no extension of the request: the
//! certificate gets keyUsage/extKeyUsage from `spec.usages`, basicConstraints CA:FALSE and
//! the CA's key identifier.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType, SerialNumber};
use ring::rand::SecureRandom;

use super::csr::CertificateRequest;
use super::csr_policy::{self, UnknownUsages};

/// How far notBefore is moved into the past, for clocks that run behind ours. It must stay
/// below the shortest duration a request may ask for ([`MIN_DURATION`]).
pub const BACKDATE: Duration = Duration::from_secs(5 * 60);
/// Below this lifetime a certificate is short-lived: its notAfter is not shortened by the
/// backdate (five minutes are about 1% of eight hours).
pub const SHORT: Duration = Duration::from_secs(8 * 3600);
/// The shortest duration `spec.expirationSeconds` can get (twice the backdate).
pub const MIN_DURATION: Duration = Duration::from_secs(10 * 60);

/// Why the CA could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key is not a PKCS#8 key rcgen can sign with.
    #[error("signing key: {0}")]
    Key(rcgen::Error),
    /// The certificate does not parse.
    #[error("signing certificate: {0}")]
    Certificate(String),
}

/// Why a certificate was not issued.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// `spec.usages` holds a name the API does not define.
    #[error(transparent)]
    Usages(#[from] UnknownUsages),
    /// The CA has expired (or expires before the certificate would start).
    #[error("the signer has expired: NotAfter={0}")]
    SignerExpired(String),
    /// The subject cannot be reproduced (see [`subject`]).
    #[error("unsupported subject: {0}")]
    Subject(String),
    /// rcgen refused to build or sign the certificate.
    #[error("failed to sign certificate: {0}")]
    Sign(#[from] rcgen::Error),
}

/// A CA certificate and its key, ready to sign.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    /// The CA's notAfter, Unix seconds.
    not_after: i64,
}

impl CertificateAuthority {
    /// Load the CA from `--cluster-signing-cert-file` / `--cluster-signing-key-file` (or a
    /// per-signer pair).
    pub fn load_files(cert: &Path, key: &Path) -> Result<Self, LoadError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| LoadError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        Self::from_pem(&read(cert)?, &read(key)?)
    }

    /// Load the CA from its certificate and PKCS#8 private key (PEM).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, LoadError> {
        let key = KeyPair::from_pem(key_pem).map_err(LoadError::Key)?;
        let (_, block) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .map_err(|e| LoadError::Certificate(e.to_string()))?;
        let cert = block
            .parse_x509()
            .map_err(|e| LoadError::Certificate(e.to_string()))?;
        let not_after = cert.validity().not_after.timestamp();
        let issuer = Issuer::from_ca_cert_der(&block.contents.clone().into(), key)
            .map_err(|e| LoadError::Certificate(e.to_string()))?;
        Ok(CertificateAuthority { issuer, not_after })
    }

    /// Issue a certificate for `req` with `usages`, valid for `ttl` from `now` (see
    /// [`validity`]). Returns it PEM encoded.
    pub fn sign(
        &self,
        req: &CertificateRequest,
        usages: &BTreeSet<String>,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<String, SignError> {
        let x509 = csr_policy::x509_usages(usages)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let (not_before, not_after) = validity(now, ttl, self.not_after)?;
        // rcgen takes its times as `time` values; count from its epoch.
        let at =
            |unix: i64| rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(unix.max(0) as u64);
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(req)?;
        params.subject_alt_names = sans(req)?;
        params.key_usages = x509.key_usages;
        params.extended_key_usages = x509.extended_key_usages;
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial()?);
        params.not_before = at(not_before);
        params.not_after = at(not_after);
        let public_key = rcgen::SubjectPublicKeyInfo::from_der(&req.public_key_info)?;
        let cert = params.signed_by(&public_key, &self.issuer)?;
        Ok(cert.pem())
    }
}

/// The certificate's lifetime for `spec.expirationSeconds`: the request's duration when
/// set, at least [`MIN_DURATION`] and at most `cluster_signing_duration`.
pub fn duration(expiration_seconds: Option<i32>, cluster_signing_duration: Duration) -> Duration {
    let Some(secs) = expiration_seconds else {
        return cluster_signing_duration;
    };
    let requested = Duration::from_secs(secs.max(0) as u64);
    if requested > cluster_signing_duration {
        cluster_signing_duration
    } else if requested < MIN_DURATION {
        MIN_DURATION
    } else {
        requested
    }
}

/// notBefore and notAfter (Unix seconds) of a certificate issued at `now` for `ttl` by a
/// CA that expires at `signer_not_after`: notBefore = now − [`BACKDATE`]; notAfter = now +
/// ttl − backdate, or now + ttl for a short-lived one; capped at the CA's notAfter.
pub fn validity(now: i64, ttl: Duration, signer_not_after: i64) -> Result<(i64, i64), SignError> {
    let ttl_s = ttl.as_secs() as i64;
    let backdate = BACKDATE.as_secs() as i64;
    let not_before = now - backdate;
    let mut not_after = if ttl < SHORT {
        now + ttl_s
    } else {
        now + ttl_s - backdate
    };
    if not_after >= signer_not_after {
        not_after = signer_not_after;
    }
    if not_before >= signer_not_after || now >= signer_not_after {
        return Err(SignError::SignerExpired(signer_not_after.to_string()));
    }
    Ok((not_before, not_after))
}

/// The request's subject for rcgen. rcgen keeps one value per attribute type, so a
/// repeated type (a second organization) is written under its raw OID, which encodes the
/// same; a third value of one type cannot be carried and is refused.
pub fn subject(req: &CertificateRequest) -> Result<rcgen::DistinguishedName, SignError> {
    let mut dn = rcgen::DistinguishedName::new();
    for attr in &req.subject {
        let typed = DnType::from_oid(&attr.oid);
        let ty = if dn.get(&typed).is_none() {
            typed
        } else {
            let raw = DnType::CustomDnType(attr.oid.clone());
            if typed == raw || dn.get(&raw).is_some() {
                return Err(SignError::Subject(format!(
                    "more than two attributes of type {}",
                    attr.oid
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(".")
                )));
            }
            raw
        };
        dn.push(ty, attr.value.clone());
    }
    Ok(dn)
}

fn sans(req: &CertificateRequest) -> Result<Vec<SanType>, SignError> {
    let ia5 = |s: &String| {
        rcgen::string::Ia5String::try_from(s.as_str())
            .map_err(|e| SignError::Subject(format!("subjectAltName {s:?}: {e}")))
    };
    let mut out = Vec::new();
    for d in &req.dns_names {
        out.push(SanType::DnsName(ia5(d)?));
    }
    for ip in &req.ip_addresses {
        out.push(SanType::IpAddress(*ip));
    }
    for e in &req.email_addresses {
        out.push(SanType::Rfc822Name(ia5(e)?));
    }
    for u in &req.uris {
        out.push(SanType::URI(ia5(u)?));
    }
    Ok(out)
}

/// A random positive serial below 2^128, as upstream draws it.
fn serial() -> Result<SerialNumber, SignError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SignError::Sign(rcgen::Error::RingUnspecified))?;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::csr::parse_request;
    use crate::controllers::csr::testing::request;
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::*;

    fn test_ca() -> (CertificateAuthority, String) {
        let ca = common::pki::Ca::generate("test-ca").expect("ca");
        let loaded = CertificateAuthority::from_pem(ca.cert_pem(), ca.key_pem()).expect("load");
        (loaded, ca.cert_pem().to_string())
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn issued_certificate_carries_the_request_and_verifies_against_the_ca() {
        let (ca, ca_pem) = test_ca();
        let (pem, key) = request("system:node:n1", &["system:nodes"], &[]);
        let req = parse_request(pem.as_bytes()).expect("parse");
        let ttl = duration(Some(3600), 365 * DAY);
        let now = SystemTime::now();
        let issued = ca
            .sign(&req, &set(&["digital signature", "client auth"]), ttl, now)
            .expect("sign");

        let (_, cert_block) = parse_x509_pem(issued.as_bytes()).expect("pem");
        let cert = cert_block.parse_x509().expect("x509");
        let (_, ca_block) = parse_x509_pem(ca_pem.as_bytes()).expect("ca pem");
        let ca_cert = ca_block.parse_x509().expect("ca x509");
        cert.verify_signature(Some(ca_cert.public_key()))
            .expect("signed by the CA");
        assert_eq!(cert.issuer(), ca_cert.subject());
        // The CSR's subject and key.
        let cn: Vec<_> = cert
            .subject()
            .iter_common_name()
            .filter_map(|a| a.as_str().ok())
            .collect();
        let orgs: Vec<_> = cert
            .subject()
            .iter_organization()
            .filter_map(|a| a.as_str().ok())
            .collect();
        assert_eq!(cn, ["system:node:n1"]);
        assert_eq!(orgs, ["system:nodes"]);
        assert_eq!(
            cert.public_key().raw,
            rcgen::PublicKeyData::subject_public_key_info(&key).as_slice()
        );
        // Usages.
        let eku = cert
            .extended_key_usage()
            .expect("eku")
            .expect("present")
            .value;
        assert!(eku.client_auth && !eku.server_auth);
        let ku = cert.key_usage().expect("ku").expect("present").value;
        assert!(ku.digital_signature() && !ku.key_encipherment());
        assert!(!cert.is_ca());
        // One hour asked (short-lived): notAfter = now + 1h, notBefore = now - 5m.
        let now_s = now.duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
        assert_eq!(cert.validity().not_after.timestamp(), now_s + 3600);
        assert_eq!(cert.validity().not_before.timestamp(), now_s - 300);
    }

    #[test]
    fn serving_certificate_keeps_sans_and_two_organizations() {
        let (ca, _) = test_ca();
        let (pem, _) = request(
            "system:node:n1",
            &["system:nodes", "extra"],
            &["n1.example"],
        );
        let req = parse_request(pem.as_bytes()).expect("parse");
        let issued = ca
            .sign(
                &req,
                &set(&["digital signature", "key encipherment", "server auth"]),
                DAY,
                SystemTime::now(),
            )
            .expect("sign");
        let (_, block) = parse_x509_pem(issued.as_bytes()).expect("pem");
        let cert = block.parse_x509().expect("x509");
        let orgs: Vec<_> = cert
            .subject()
            .iter_organization()
            .filter_map(|a| a.as_str().ok())
            .collect();
        assert_eq!(orgs, ["system:nodes", "extra"]);
        let san = cert
            .subject_alternative_name()
            .expect("san")
            .expect("present")
            .value;
        assert_eq!(san.general_names, vec![GeneralName::DNSName("n1.example")]);
        let eku = cert
            .extended_key_usage()
            .expect("eku")
            .expect("present")
            .value;
        assert!(eku.server_auth && !eku.client_auth);
        assert!(cert
            .key_usage()
            .expect("ku")
            .expect("present")
            .value
            .key_encipherment());
    }

    #[test]
    fn durations_follow_expiration_seconds_within_bounds() {
        let max = 365 * DAY;
        assert_eq!(duration(None, max), max);
        assert_eq!(duration(Some(3600), max), Duration::from_secs(3600));
        assert_eq!(duration(Some(60), max), MIN_DURATION);
        assert_eq!(duration(Some(i32::MAX), max), max);
        assert_eq!(
            duration(Some(7200), Duration::from_secs(3600)),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn long_lived_certificates_end_backdated_and_never_outlive_the_ca() {
        let now = 1_000_000;
        // Long-lived: the backdate comes off the end too.
        assert_eq!(
            validity(now, DAY, i64::MAX).expect("ok"),
            (now - 300, now + 86_400 - 300)
        );
        // Capped at the CA's expiry.
        assert_eq!(
            validity(now, DAY, now + 100).expect("ok"),
            (now - 300, now + 100)
        );
        // An expired CA signs nothing.
        assert!(matches!(
            validity(now, DAY, now),
            Err(SignError::SignerExpired(_))
        ));
    }

    #[test]
    fn unknown_usages_are_refused() {
        let (ca, _) = test_ca();
        let (pem, _) = request("u", &[], &[]);
        let req = parse_request(pem.as_bytes()).expect("parse");
        let err = ca
            .sign(
                &req,
                &set(&["client auth", "bogus"]),
                DAY,
                SystemTime::now(),
            )
            .unwrap_err();
        assert!(matches!(err, SignError::Usages(_)), "{err}");
    }
}
