//! `kubectl cluster-info`

use super::{out, Ctx};
use crate::client::q;
use crate::error::Result;

/// Prints the control plane address and the cluster services of kube-system.
pub async fn run(ctx: &Ctx) -> Result<()> {
    let client = ctx.client().await?;
    let server = client.server.trim_end_matches('/').to_string();
    // Upstream checks the server first, so a broken cluster fails before printing.
    let services = client
        .get(&format!(
            "/api/v1/namespaces/kube-system/services?labelSelector={}",
            q("kubernetes.io/cluster-service=true")
        ))
        .await?;
    let mut s = format!("Kubernetes control plane is running at {server}\n");
    for svc in services["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let meta = &svc["metadata"];
        let name = meta["labels"]["kubernetes.io/name"]
            .as_str()
            .or(meta["name"].as_str())
            .unwrap_or("");
        let svc_name = meta["name"].as_str().unwrap_or("");
        for port in svc["spec"]["ports"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let pname = port["name"].as_str().unwrap_or("");
            let target = if pname.is_empty() {
                svc_name.to_string()
            } else if pname == "https" {
                format!("https:{svc_name}:{pname}")
            } else {
                format!("{svc_name}:{pname}")
            };
            s.push_str(&format!(
                "{name} is running at {server}/api/v1/namespaces/kube-system/services/{target}/proxy\n"
            ));
        }
    }
    s.push_str(
        "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n",
    );
    out(&s);
    Ok(())
}
