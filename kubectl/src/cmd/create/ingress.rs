//! `kubectl create ingress`: an Ingress from `--rule=host/path=svc:port[,tls[=secret]]`
//! (a trailing `*` on the path makes it a Prefix path), `--default-backend=svc:port`,
//! `--class` and `--annotation=k=v`. Rules for one host share its entry; TLS entries are
//! grouped by secret, each host listed once, as upstream groups them.

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// The flags of `create ingress`.
pub struct Request<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub rules: &'a [String],
    pub default_backend: &'a str,
    pub annotations: &'a [String],
}

/// `[\w-]`: a service name's, port's or secret's character.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether `rule` matches upstream's rule pattern, which is anchored only at the start:
/// host characters up to the first `/`, then, on the same line, some `=svcname:svcport`
/// (what follows it, the `,tls…` part included, is not checked).
fn rule_is_valid(rule: &str) -> bool {
    let Some((host, rest)) = rule.split_once('/') else {
        return false;
    };
    if !host.chars().all(|c| is_word(c) || c == '*' || c == '.') {
        return false;
    }
    let line = rest.split('\n').next().unwrap_or_default();
    line.match_indices('=').any(|(i, _)| {
        let after = &line[i + 1..];
        let name_len = after.find(|c: char| !is_word(c)).unwrap_or(after.len());
        name_len > 0
            && after[name_len..]
                .strip_prefix(':')
                .is_some_and(|port| port.starts_with(is_word))
    })
}

impl Request<'_> {
    /// Upstream's `Validate`, in its order and words.
    fn validate(&self) -> Result<()> {
        if self.default_backend.is_empty() && self.rules.is_empty() {
            return Err(KubectlError::usage("not enough information provided: every ingress has to either specify a default-backend (which catches all traffic) or a list of rules (which catch specific paths)"));
        }
        if let Some(rule) = self.rules.iter().find(|r| !rule_is_valid(r)) {
            return Err(KubectlError::usage(format!(
                "rule {rule} is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]"
            )));
        }
        if let Some(a) = self.annotations.iter().find(|a| !a.contains('=')) {
            return Err(KubectlError::usage(format!(
                "annotation {a} is invalid and should be in format key=[value]"
            )));
        }
        if !self.default_backend.is_empty() && self.default_backend.split(':').count() != 2 {
            return Err(KubectlError::usage(
                "default-backend should be in format servicename:serviceport",
            ));
        }
        Ok(())
    }
}

/// A backend for `svc:port` (text after a second colon ignored, as upstream does); a numeric port is a
/// number (32 bits, as Go's `intstr` keeps it), any other a port name; a zero number or an
/// empty name is left out.
fn backend(service: &str) -> Value {
    let mut parts = service.split(':');
    let name = parts.next().unwrap_or_default();
    let port = parts.next().unwrap_or_default();
    let mut p = Map::new();
    match port.parse::<i64>() {
        Ok(n) if n as i32 != 0 => {
            p.insert("number".into(), json!(n as i32));
        }
        Ok(_) => {}
        Err(_) if port.is_empty() => {}
        Err(_) => {
            p.insert("name".into(), json!(port));
        }
    }
    json!({"service": {"name": name, "port": p}})
}

/// One HTTP path of a rule, from the text after its host's `/`.
fn http_path(path_and_service: &str) -> Value {
    // Upstream takes the texts before the first `=` and between it and the next.
    let mut parts = path_and_service.split('=');
    let path = parts.next().unwrap_or_default();
    let service = parts.next().unwrap_or_default();
    let path = format!("/{path}");
    let (path, kind) = match path.strip_suffix('*') {
        Some(p) => (p.to_string(), "Prefix"),
        None => (path, "Exact"),
    };
    json!({"path": path, "pathType": kind, "backend": backend(service)})
}

/// The rules: one per host (the empty host included), with its paths in order.
fn rules(rules: &[String]) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for rule in rules {
        let without_tls = rule.split(',').next().unwrap_or(rule);
        let (host, rest) = without_tls.split_once('/').unwrap_or((without_tls, ""));
        let path = http_path(rest);
        match out.iter_mut().find(|(h, _)| h == host) {
            Some((_, paths)) => paths.push(path),
            None => out.push((host.to_string(), vec![path])),
        }
    }
    out.into_iter()
        .map(|(host, paths)| {
            let mut r = json!({"http": {"paths": paths}});
            if !host.is_empty() {
                r["host"] = json!(host);
            }
            r
        })
        .collect()
}

/// The TLS entries of the rules marked `,tls`: one per secret, each host taken once (the
/// first time it is seen); an entry with neither host nor secret is not kept.
fn tls(rules: &[String]) -> Vec<Value> {
    let mut entries: Vec<(Vec<String>, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for rule in rules {
        let parts: Vec<&str> = rule.split(',').collect();
        let [_, tls] = parts.as_slice() else {
            continue;
        };
        let host = rule.split('/').next().unwrap_or_default().to_string();
        let secret = tls.split('=').nth(1).unwrap_or_default().to_string();
        if seen.contains(&host) {
            continue;
        }
        if let Some((hosts, _)) = entries.iter_mut().find(|(_, s)| *s == secret) {
            hosts.push(host.clone());
        } else {
            let hosts = if host.is_empty() {
                Vec::new()
            } else {
                vec![host.clone()]
            };
            if !hosts.is_empty() || !secret.is_empty() {
                entries.push((hosts, secret));
            }
        }
        seen.push(host);
    }
    entries
        .into_iter()
        .map(|(hosts, secret)| {
            let mut t = Map::new();
            if !hosts.is_empty() {
                t.insert("hosts".into(), json!(hosts));
            }
            if !secret.is_empty() {
                t.insert("secretName".into(), json!(secret));
            }
            Value::Object(t)
        })
        .collect()
}

/// The Ingress asked for, after upstream's checks.
pub fn ingress(r: &Request<'_>) -> Result<Value> {
    r.validate()?;
    let mut meta = json!({"name": r.name, "creationTimestamp": null});
    let mut annotations = Map::new();
    for a in r.annotations {
        let (k, v) = a.split_once('=').unwrap_or((a, ""));
        annotations.insert(k.to_string(), json!(v));
    }
    if !annotations.is_empty() {
        meta["annotations"] = Value::Object(annotations);
    }
    let mut spec = Map::new();
    if !r.class.is_empty() {
        spec.insert("ingressClassName".into(), json!(r.class));
    }
    if !r.default_backend.is_empty() {
        spec.insert("defaultBackend".into(), backend(r.default_backend));
    }
    let tls = tls(r.rules);
    if !tls.is_empty() {
        spec.insert("tls".into(), json!(tls));
    }
    let rules = rules(r.rules);
    if !rules.is_empty() {
        spec.insert("rules".into(), json!(rules));
    }
    Ok(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
              "spec": spec, "status": {"loadBalancer": {}}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn build(
        rules: &[&str],
        backend: &str,
        annotations: &[&str],
    ) -> std::result::Result<Value, String> {
        let (rules, annotations) = (strings(rules), strings(annotations));
        ingress(&Request {
            name: "i",
            class: "",
            rules: &rules,
            default_backend: backend,
            annotations: &annotations,
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn rule_syntax_is_upstreams_pattern() {
        for ok in [
            "foo.com/bar=svc:80",
            "/=s:http",
            "*.a/p*=s:1,tls",
            "a/b=s:1,tls=sec",
            "a/b=s:1,x",
            "a/b=c=s:1",
            "a/b=s:1,tls=a.b",
        ] {
            assert!(rule_is_valid(ok), "{ok}");
        }
        for bad in [
            "foo.com",
            "a/b=s",
            "a/b=s:",
            "a/b=:1",
            "a:b/c=s:1",
            "a/b\n=s:1",
            "a/b=s:,x",
        ] {
            assert!(!rule_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn paths_group_by_host_and_tls_by_secret() {
        let i = build(
            &[
                "foo.com/bar*=svc:8080,tls=sec",
                "/x=s2:http,tls",
                "foo.com/y=s3:0",
                "bar.com/=s:1,tls=sec",
            ],
            "",
            &[],
        )
        .unwrap();
        let rules = &i["spec"]["rules"];
        assert_eq!(rules[0]["host"], "foo.com");
        assert_eq!(
            rules[0]["http"]["paths"][0],
            json!({"path": "/bar", "pathType": "Prefix",
            "backend": {"service": {"name": "svc", "port": {"number": 8080}}}})
        );
        assert_eq!(
            rules[0]["http"]["paths"][1]["backend"]["service"]["port"],
            json!({})
        );
        assert!(rules[1].get("host").is_none());
        assert_eq!(
            rules[1]["http"]["paths"][0]["backend"]["service"]["port"],
            json!({"name": "http"})
        );
        assert_eq!(
            i["spec"]["tls"],
            json!([{"hosts": ["foo.com", "bar.com"], "secretName": "sec"}])
        );
    }

    #[test]
    fn refusals_are_upstreams() {
        assert!(build(&[], "", &[])
            .unwrap_err()
            .starts_with("error: not enough information provided"));
        assert_eq!(
            build(&["bad"], "", &[]).unwrap_err(),
            "error: rule bad is invalid and should be in format host/path=svcname:svcport[,tls[=secret]]"
        );
        assert_eq!(
            build(&[], "s:1", &["k"]).unwrap_err(),
            "error: annotation k is invalid and should be in format key=[value]"
        );
        assert_eq!(
            build(&[], "s:1:2", &[]).unwrap_err(),
            "error: default-backend should be in format servicename:serviceport"
        );
        let i = build(&[], ":x", &["b=2", "a=1=2"]).unwrap();
        assert_eq!(
            i["spec"]["defaultBackend"],
            json!({"service": {"name": "", "port": {"name": "x"}}})
        );
        assert_eq!(i["metadata"]["annotations"], json!({"a": "1=2", "b": "2"}));
    }
}
