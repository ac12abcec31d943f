//! `kubectl create secret docker-registry`: a `kubernetes.io/dockerconfigjson` Secret, either
//! a docker `config.json` for one registry made from the `--docker-*` flags, or the files
//! given with `--from-file` (taken as they are, as upstream does).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::super::{data_sources, name_hash};
use crate::error::{KubectlError, Result};
use crate::printers::json::go_escape;

/// Upstream's default for `--docker-server`.
pub const DEFAULT_SERVER: &str = "https://index.docker.io/v1/";

/// What the command line says about the registry.
pub struct DockerRegistry<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    pub email: &'a str,
    pub server: &'a str,
    pub from_file: &'a [String],
    pub append_hash: bool,
}

/// The Secret, refused as upstream refuses it when neither the files nor the whole set of
/// credentials are given.
pub fn secret(r: &DockerRegistry) -> Result<Value> {
    if r.from_file.is_empty()
        && (r.username.is_empty() || r.password.is_empty() || r.server.is_empty())
    {
        return Err(KubectlError::usage(
            "either --from-file or the combination of --docker-username, --docker-password and --docker-server is required",
        ));
    }
    let data = if r.from_file.is_empty() {
        let config = config_json(r.username, r.password, r.email, r.server);
        let mut data = Map::new();
        data.insert(
            ".dockerconfigjson".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(config)),
        );
        data
    } else {
        let sources = data_sources::Sources {
            files: r.from_file,
            literals: &[],
            env_files: &[],
        };
        data_sources::collect(sources, data_sources::Holder::Secret, r.name)?
    };
    let mut s = json!({"kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": r.name, "creationTimestamp": null},
        "data": data, "type": "kubernetes.io/dockerconfigjson"});
    if r.append_hash {
        name_hash::append_to_name(&mut s);
    }
    Ok(s)
}

/// `{"auths":{SERVER:{…}}}` as Go's encoder writes upstream's struct: fields in declaration
/// order, empty ones left out, `auth` the base64 of `user:password`.
fn config_json(username: &str, password: &str, email: &str, server: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let fields = [
        ("username", username),
        ("password", password),
        ("email", email),
        ("auth", auth.as_str()),
    ];
    let entry: Vec<String> = fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("\"{k}\":{}", Value::String((*v).to_string())))
        .collect();
    go_escape(&format!(
        "{{\"auths\":{{{}:{{{}}}}}}}",
        Value::String(server.to_string()),
        entry.join(",")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry<'a>(username: &'a str, password: &'a str, email: &'a str) -> DockerRegistry<'a> {
        DockerRegistry {
            name: "regcred",
            username,
            password,
            email,
            server: DEFAULT_SERVER,
            from_file: &[],
            append_hash: false,
        }
    }

    #[test]
    fn the_config_is_upstreams_json_for_one_registry() {
        assert_eq!(
            config_json("me", "p<w>", "", "r.example:5000"),
            "{\"auths\":{\"r.example:5000\":{\"username\":\"me\",\"password\":\"p\\u003cw\\u003e\",\"auth\":\"bWU6cDx3Pg==\"}}}"
        );
        let s = secret(&registry("me", "pw", "me@example.com")).unwrap();
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(s["data"][".dockerconfigjson"].as_str().unwrap())
            .unwrap();
        let config: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(
            config["auths"][DEFAULT_SERVER]["email"], "me@example.com",
            "{config}"
        );
    }

    #[test]
    fn credentials_or_files_are_required() {
        let err = secret(&registry("me", "", "")).unwrap_err();
        assert!(err.to_string().contains("either --from-file"), "{err}");
    }
}
