//! Request-header authentication: a front proxy (the aggregation layer of another apiserver,
//! an authenticating proxy) that holds a client certificate from
//! `--requestheader-client-ca-file` names the user in request headers (`X-Remote-User`,
//! `X-Remote-Uid`, `X-Remote-Group`, `X-Remote-Extra-<key>`), as upstream's `headerrequest`
//! authenticator reads them.
//!
//! The headers are believed only when the connection's certificate verifies against the
//! request-header CA and its Common Name is in `--requestheader-allowed-names` (an empty list
//! allows any name); from anyone else they mean nothing. After any successful authentication
//! the headers are removed, so they never reach a backend the request is proxied to.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName};
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;

use super::{AuthnConfigError, UserInfo, AUTHENTICATED};
use crate::config::Config;

/// The group that marks an anonymous user; a front proxy that sends it keeps the user out of
/// `system:authenticated`, as upstream's authenticated-group adder does.
const UNAUTHENTICATED: &str = "system:unauthenticated";

/// Upstream's default header names: removed from every authenticated request even when the
/// flags name others, so a backend never sees a client-chosen identity under them.
const STANDARD_USERNAME: &str = "x-remote-user";
const STANDARD_UID: &str = "x-remote-uid";
const STANDARD_GROUP: &str = "x-remote-group";
const STANDARD_EXTRA_PREFIX: &str = "x-remote-extra-";

/// What the request-header CA says about a connection's client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontProxy {
    /// Signed by the request-header CA, with an allowed Common Name: its headers name the user.
    Allowed,
    /// Signed by the request-header CA, but its Common Name is not in
    /// `--requestheader-allowed-names`.
    NameNotAllowed(String),
}

/// The header names one authenticator reads (all lower case, as `http` keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderNames {
    /// User name headers, in order of preference.
    pub username: Vec<HeaderName>,
    /// UID headers, in order of preference.
    pub uid: Vec<HeaderName>,
    /// Group headers; every value of every one is a group.
    pub group: Vec<HeaderName>,
    /// Prefixes of the extra headers.
    pub extra_prefixes: Vec<String>,
}

fn header_names(flag: &str, names: &[String]) -> Result<Vec<HeaderName>, AuthnConfigError> {
    names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|n| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| AuthnConfigError::Flags(format!("{flag}: {n:?} is not a header name")))
        })
        .collect()
}

impl HeaderNames {
    /// The names the `--requestheader-*` flags give.
    pub fn from_config(config: &Config) -> Result<Self, AuthnConfigError> {
        Ok(HeaderNames {
            username: header_names(
                "--requestheader-username-headers",
                &config.requestheader_username_headers,
            )?,
            uid: header_names(
                "--requestheader-uid-headers",
                &config.requestheader_uid_headers,
            )?,
            group: header_names(
                "--requestheader-group-headers",
                &config.requestheader_group_headers,
            )?,
            extra_prefixes: config
                .requestheader_extra_headers_prefix
                .iter()
                .map(|p| p.trim().to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
        })
    }

    /// Upstream's default names (`X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group`,
    /// `X-Remote-Extra-`).
    pub fn standard() -> Self {
        HeaderNames {
            username: vec![HeaderName::from_static(STANDARD_USERNAME)],
            uid: vec![HeaderName::from_static(STANDARD_UID)],
            group: vec![HeaderName::from_static(STANDARD_GROUP)],
            extra_prefixes: vec![STANDARD_EXTRA_PREFIX.to_string()],
        }
    }

    /// These names and `other`'s, without duplicates.
    pub fn union(mut self, other: &HeaderNames) -> Self {
        fn add<T: PartialEq + Clone>(to: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !to.contains(x) {
                    to.push(x.clone());
                }
            }
        }
        add(&mut self.username, &other.username);
        add(&mut self.uid, &other.uid);
        add(&mut self.group, &other.group);
        add(&mut self.extra_prefixes, &other.extra_prefixes);
        self
    }

    /// Remove every header these names cover from `headers`.
    pub fn clear(&self, headers: &mut HeaderMap) {
        for name in self.username.iter().chain(&self.uid).chain(&self.group) {
            headers.remove(name);
        }
        let extra: Vec<HeaderName> = headers
            .keys()
            .filter(|k| self.is_extra(k.as_str()))
            .cloned()
            .collect();
        for name in extra {
            headers.remove(name);
        }
    }

    fn is_extra(&self, name: &str) -> bool {
        self.extra_prefixes.iter().any(|p| name.starts_with(p))
    }
}

/// The first non-empty value of the first header (in preference order) that has one.
fn first_value(headers: &HeaderMap, names: &[HeaderName]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| headers.get(n))
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .find(|v| !v.is_empty())
        .map(String::from)
}

/// An extra key as sent: percent-encoded (so that `/` and upper case survive as a header
/// name). A key that is not valid percent-encoding is kept as sent, as upstream does.
fn unescape_extra_key(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return encoded.to_string();
    }
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(|k| k.into_owned())
        .unwrap_or_else(|_| encoded.to_string())
}

/// The user a trusted front proxy names in `headers`; `None` when no user name header has a
/// value (the request then falls to the other authenticators).
pub fn user_from_headers(names: &HeaderNames, headers: &HeaderMap) -> Option<UserInfo> {
    let name = first_value(headers, &names.username)?;
    let uid = first_value(headers, &names.uid).unwrap_or_default();
    let mut groups: Vec<String> = names
        .group
        .iter()
        .flat_map(|n| headers.get_all(n))
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect();
    if !groups
        .iter()
        .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
    {
        groups.push(AUTHENTICATED.to_string());
    }
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Prefix by prefix, so values keep the order the flags give the prefixes.
    for prefix in &names.extra_prefixes {
        for (header, value) in headers.iter() {
            let Some(encoded) = header.as_str().strip_prefix(prefix.as_str()) else {
                continue;
            };
            let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
                continue;
            };
            extra
                .entry(unescape_extra_key(encoded))
                .or_default()
                .push(value.to_string());
        }
    }
    Some(UserInfo {
        name,
        uid,
        groups,
        extra,
    })
}

/// A client-certificate verifier trusting the CAs of one PEM bundle.
pub fn ca_verifier(path: &Path) -> Result<Arc<dyn ClientCertVerifier>, AuthnConfigError> {
    let ca_error = |reason: String| AuthnConfigError::Ca {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in rustls_pemfile::certs(&mut pem.as_slice()) {
        let ca = ca.map_err(|e| ca_error(e.to_string()))?;
        roots.add(ca).map_err(|e| ca_error(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(ca_error("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| ca_error(e.to_string()))
}

/// Whether `chain` (leaf first) verifies against `verifier`'s CAs now.
pub fn verifies(verifier: &dyn ClientCertVerifier, chain: &[CertificateDer<'static>]) -> bool {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return false;
    };
    verifier
        .verify_client_cert(leaf, intermediates, rustls::pki_types::UnixTime::now())
        .is_ok()
}

/// The request-header authenticator (`--requestheader-client-ca-file` and friends).
#[derive(Debug)]
pub struct RequestHeaderAuthenticator {
    verifier: Arc<dyn ClientCertVerifier>,
    allowed_names: Vec<String>,
    /// The headers it reads.
    pub names: HeaderNames,
}

impl RequestHeaderAuthenticator {
    /// Build from the flags; `None` without `--requestheader-client-ca-file` or without any
    /// user name header (upstream leaves the authenticator out then too).
    pub fn from_config(config: &Config) -> Result<Option<Self>, AuthnConfigError> {
        let Some(ca) = &config.requestheader_client_ca_file else {
            return Ok(None);
        };
        let names = HeaderNames::from_config(config)?;
        if names.username.is_empty() {
            return Ok(None);
        }
        Ok(Some(RequestHeaderAuthenticator {
            verifier: ca_verifier(ca)?,
            allowed_names: config
                .requestheader_allowed_names
                .iter()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect(),
            names,
        }))
    }

    /// Judge a connection's certificate: `None` when it is not from the request-header CA.
    pub fn classify(
        &self,
        chain: &[CertificateDer<'static>],
        common_name: &str,
    ) -> Option<FrontProxy> {
        if !verifies(self.verifier.as_ref(), chain) {
            return None;
        }
        if self.allowed_names.is_empty() || self.allowed_names.iter().any(|n| n == common_name) {
            Some(FrontProxy::Allowed)
        } else {
            Some(FrontProxy::NameNotAllowed(common_name.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::x509::tests::der_of;
    use clap::Parser;
    use http::HeaderValue;

    fn config(extra: &[&str]) -> Config {
        let mut args = vec![
            "kube-apiserver",
            "--etcd-servers=http://127.0.0.1:2379",
            "--tls-cert-file=/x",
            "--tls-private-key-file=/x",
            "--client-ca-file=/x",
        ];
        args.extend_from_slice(extra);
        Config::parse_from(args)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn headers_name_the_user_groups_and_extra() {
        let names = HeaderNames::from_config(&config(&[
            "--requestheader-username-headers=X-First,X-Remote-User",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-,X-Other-",
        ]))
        .expect("names");
        let h = headers(&[
            ("x-first", ""),
            ("x-remote-user", "alice"),
            ("x-remote-uid", "u-1"),
            ("x-remote-group", "devs"),
            ("x-remote-group", "ops"),
            ("x-remote-extra-scopes", "a"),
            ("x-remote-extra-scopes", "b"),
            ("x-other-scopes", "c"),
            ("x-remote-extra-example.org%2fteam", "blue"),
            ("x-remote-extra-bad%zzkey", "v"),
        ]);
        let user = user_from_headers(&names, &h).expect("a user");
        // An empty first header falls through to the next one.
        assert_eq!(user.name, "alice");
        assert_eq!(user.uid, "u-1");
        assert_eq!(user.groups, ["devs", "ops", AUTHENTICATED]);
        assert_eq!(user.extra["scopes"], ["a", "b", "c"]);
        assert_eq!(user.extra["example.org/team"], ["blue"]);
        // Malformed escapes are kept as sent.
        assert_eq!(user.extra["bad%zzkey"], ["v"]);
    }

    #[test]
    fn no_user_header_is_no_user_and_unauthenticated_is_kept() {
        let names = HeaderNames::standard();
        assert!(user_from_headers(&names, &headers(&[("x-remote-group", "g")])).is_none());
        let user = user_from_headers(
            &names,
            &headers(&[("x-remote-user", "x"), ("x-remote-group", UNAUTHENTICATED)]),
        )
        .expect("a user");
        assert_eq!(user.groups, [UNAUTHENTICATED]);
    }

    #[test]
    fn clearing_removes_every_identity_header() {
        let names = HeaderNames::standard().union(
            &HeaderNames::from_config(&config(&[
                "--requestheader-username-headers=X-Proxy-User",
                "--requestheader-extra-headers-prefix=X-Proxy-Extra-",
            ]))
            .expect("names"),
        );
        let mut h = headers(&[
            ("x-remote-user", "a"),
            ("x-proxy-user", "b"),
            ("x-remote-group", "g"),
            ("x-remote-uid", "u"),
            ("x-remote-extra-k", "v"),
            ("x-proxy-extra-k", "v"),
            ("accept", "application/json"),
        ]);
        names.clear(&mut h);
        let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["accept"]);
    }

    #[test]
    fn only_certificates_of_the_request_header_ca_with_allowed_names_are_front_proxies() {
        let dir = tempfile::tempdir().expect("dir");
        let proxy_ca = common::pki::Ca::generate("front-proxy-ca").expect("ca");
        let ca_file = dir.path().join("front-proxy-ca.crt");
        common::pki::write_cert_pem(&ca_file, proxy_ca.cert_pem()).expect("write");
        let ca_flag = format!("--requestheader-client-ca-file={}", ca_file.display());
        let rh = RequestHeaderAuthenticator::from_config(&config(&[
            &ca_flag,
            "--requestheader-allowed-names=front-proxy-client",
        ]))
        .expect("config")
        .expect("configured");
        let chain = |ca: &common::pki::Ca, cn: &str| {
            vec![der_of(&ca.issue_client(cn, &[]).expect("cert").cert_pem)]
        };
        assert_eq!(
            rh.classify(
                &chain(&proxy_ca, "front-proxy-client"),
                "front-proxy-client"
            ),
            Some(FrontProxy::Allowed)
        );
        assert_eq!(
            rh.classify(&chain(&proxy_ca, "intruder"), "intruder"),
            Some(FrontProxy::NameNotAllowed("intruder".into()))
        );
        let cluster_ca = common::pki::Ca::generate("kubernetes").expect("ca");
        assert_eq!(
            rh.classify(
                &chain(&cluster_ca, "front-proxy-client"),
                "front-proxy-client"
            ),
            None
        );
        // Without the CA flag there is no request-header authenticator at all.
        assert!(RequestHeaderAuthenticator::from_config(&config(&[]))
            .expect("config")
            .is_none());
        // An unreadable CA refuses to start.
        let missing = format!(
            "--requestheader-client-ca-file={}",
            dir.path().join("nope").display()
        );
        assert!(RequestHeaderAuthenticator::from_config(&config(&[&missing])).is_err());
    }
}
