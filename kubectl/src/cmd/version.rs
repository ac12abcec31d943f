//! `kubectl version`

use clap::Args;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::error::{KubectlError, Result};

/// The version this kubectl reports: the Kubernetes release it follows.
pub const CLIENT_GIT_VERSION: &str = concat!("v1.33.0-rudder.", env!("CARGO_PKG_VERSION"));

/// `kubectl version`
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// If true, shows client version only (no server required).
    #[arg(long)]
    client: bool,
    /// One of 'yaml' or 'json'.
    #[arg(short = 'o', long)]
    output: Option<String>,
}

fn client_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": CLIENT_GIT_VERSION,
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Runs `kubectl version`.
pub async fn run(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let mut doc = json!({ "clientVersion": client_info() });
    let mut server_err = None;
    if !args.client {
        match ctx.client().await {
            Ok(c) => match c.get("/version").await {
                Ok(v) => doc["serverVersion"] = v,
                Err(e) => server_err = Some(e),
            },
            Err(e) => server_err = Some(e),
        }
    }
    match args.output.as_deref() {
        None | Some("") => {
            let mut s = format!("Client Version: {CLIENT_GIT_VERSION}\n");
            if let Some(v) = doc["serverVersion"]["gitVersion"].as_str() {
                s.push_str(&format!("Server Version: {v}\n"));
            }
            out(&s);
        }
        Some("json") => {
            // Upstream indents `version -o json` with two spaces, unlike `get -o json`.
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            out(&format!("{}\n", crate::printers::json::go_escape(&text)));
        }
        Some("yaml") => out(&crate::printers::yaml::to_yaml(&doc)),
        Some(o) => {
            return Err(KubectlError::usage(format!(
                "--output must be 'yaml' or 'json', got {o:?}"
            )))
        }
    }
    match server_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
