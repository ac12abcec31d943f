//! The pv-protection controller (upstream `pkg/controller/volume/pvprotection`): a
//! PersistentVolume being deleted keeps its `kubernetes.io/pv-protection` finalizer while
//! its phase is `Bound`; once the binder has moved it on (its claim gone: `Released`, or
//! never bound: `Available`) the finalizer goes and the apiserver removes the volume.
//! Volumes created without the finalizer get it.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::PersistentVolume;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::volume_protection::{
    is_deletion_candidate, needs_finalizer, set_finalizer, PV_PROTECTION_FINALIZER,
};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    api: Api<PersistentVolume>,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let volumes: Api<PersistentVolume> = Api::all(client);
    let ctx = Arc::new(Context {
        api: volumes.clone(),
    });
    let results =
        Controller::new(volumes, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("pv-protection", results).await;
}

fn error_policy(_pv: Arc<PersistentVolume>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(pv: Arc<PersistentVolume>, ctx: Arc<Context>) -> Result<Action, Error> {
    if is_deletion_candidate(&pv.metadata, PV_PROTECTION_FINALIZER) {
        if !is_bound(&pv) {
            set_finalizer(&ctx.api, &pv, PV_PROTECTION_FINALIZER, false).await?;
            tracing::info!(volume = %pv.name_any(),
                "removed the protection finalizer of an unbound volume");
        }
        // Bound: its phase changes when the claim goes, and that change wakes us.
        return Ok(Action::await_change());
    }
    if needs_finalizer(&pv.metadata, PV_PROTECTION_FINALIZER) {
        set_finalizer(&ctx.api, &pv, PV_PROTECTION_FINALIZER, true).await?;
    }
    Ok(Action::await_change())
}

/// In use: the binder has it bound to a claim.
fn is_bound(pv: &PersistentVolume) -> bool {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_bound_phase_holds_a_volume() {
        let pv = |phase: serde_json::Value| -> PersistentVolume {
            serde_json::from_value(json!({"metadata": {"name": "v"}, "status": {"phase": phase}}))
                .expect("a volume")
        };
        assert!(is_bound(&pv(json!("Bound"))));
        for phase in [
            json!("Released"),
            json!("Available"),
            json!("Failed"),
            json!(null),
        ] {
            assert!(!is_bound(&pv(phase)));
        }
    }
}
