//! The EndpointSliceMirroring controller (upstream `pkg/controller/endpointslicemirroring`):
//! for a Service without a selector, whose backends someone writes by hand as a core/v1
//! `Endpoints` object of the same name, it writes `discovery.k8s.io/v1` EndpointSlices
//! mirroring those Endpoints, so that kube-proxy and DNS (which read only slices) see them.
//!
//! Slices are labelled `endpointslice.kubernetes.io/managed-by:
//! endpointslicemirroring-controller.k8s.io` and `kubernetes.io/service-name: <name>`,
//! named `<name>-<random>` and owned by the Endpoints; one per address type and port set
//! (see [`desired`] and [`plan`]). At most `--mirroring-max-endpoints-per-subset` addresses
//! of each subset are mirrored; the rest are dropped with a `TooManyAddressesToMirror`
//! warning event on the Endpoints, as upstream (the `endpoints.kubernetes.io/over-capacity`
//! annotation is the endpoints controller's, on Endpoints it writes itself).
//!
//! Not mirrored (and their mirrored slices deleted): Endpoints labelled
//! `endpointslice.kubernetes.io/skip-mirror: "true"` (the apiserver's own `kubernetes`),
//! Endpoints carrying a leader-election record, Endpoints of Services with a selector (the
//! endpointslice controller serves those) and Endpoints without a Service.
//!
//! Each sync is level-triggered on one Endpoints key and reads the world from the API, so
//! it is right whichever event woke it: the Endpoints (including its deletion), the Service
//! of the same name, or one of our slices.

pub mod desired;
pub mod plan;

use std::sync::Arc;

use common::events::Recorder;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::endpoint_util as util;
use super::endpointslice::{LABEL_MANAGED_BY, LABEL_SERVICE_NAME};

/// Our value of the managed-by label.
pub const CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";
/// Label that keeps an Endpoints object from being mirrored when set to `"true"`.
pub const LABEL_SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// Annotation of Endpoints used as leader-election locks (never mirrored).
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
/// Upstream's default `--mirroring-max-endpoints-per-subset`.
pub const DEFAULT_MAX_ENDPOINTS_PER_SUBSET: usize = 1000;
/// The bounds upstream accepts for `--mirroring-max-endpoints-per-subset`.
const MAX_ENDPOINTS_PER_SUBSET_RANGE: std::ops::RangeInclusive<i64> = 1..=1000;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the apiserver failed.
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

/// The controller's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Addresses of one Endpoints subset mirrored at most (`--mirroring-max-endpoints-per-subset`).
    pub max_endpoints_per_subset: usize,
}

/// Parse `--mirroring-max-endpoints-per-subset`, with upstream's bounds and messages.
pub fn parse_max_endpoints_per_subset(s: &str) -> Result<usize, String> {
    let n: i64 = s.parse().map_err(|e| format!("{e}"))?;
    let (lo, hi) = (
        *MAX_ENDPOINTS_PER_SUBSET_RANGE.start(),
        *MAX_ENDPOINTS_PER_SUBSET_RANGE.end(),
    );
    if n < lo {
        return Err(format!(
            "mirroring-max-endpoints-per-subset must not be less than {lo}, but got {n}"
        ));
    }
    if n > hi {
        return Err(format!(
            "mirroring-max-endpoints-per-subset must not be more than {hi}, but got {n}"
        ));
    }
    usize::try_from(n).map_err(|e| e.to_string())
}

struct Context {
    client: Client,
    config: Config,
    recorder: Recorder,
}

/// Run until the watch streams end.
pub async fn run(client: Client, config: Config) {
    let recorder = Recorder::new(client.clone(), "endpoint-slice-mirroring-controller");
    let ctx = Arc::new(Context {
        client: client.clone(),
        config,
        recorder,
    });
    let endpoints: Api<Endpoints> = Api::all(client.clone());
    let services: Api<Service> = Api::all(client.clone());
    let slices: Api<EndpointSlice> = Api::all(client.clone());
    let ours = watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={CONTROLLER_NAME}"));
    let controller = Controller::new(endpoints.clone(), watcher::Config::default())
        // The main watch triggers on applied Endpoints only; this one also sees deletions,
        // whose slices must go even without the garbage collector.
        .watches(endpoints, watcher::Config::default(), |ep: Endpoints| {
            Some(endpoints_key(&ep.namespace()?, &ep.name_any()))
        })
        // Gaining or losing a selector, or the Service going, changes what is mirrored.
        .watches(services, watcher::Config::default(), |svc: Service| {
            Some(endpoints_key(&svc.namespace()?, &svc.name_any()))
        })
        // A mirrored slice changed or deleted by someone else is repaired.
        .watches(slices, ours, |slice: EndpointSlice| {
            let name = slice.labels().get(LABEL_SERVICE_NAME)?.clone();
            Some(endpoints_key(&slice.namespace()?, &name))
        });
    let gone_ctx = ctx.clone();
    util::run(
        controller,
        "endpointslicemirroring",
        ctx,
        |ep: Arc<Endpoints>, ctx: Arc<Context>| async move {
            let ns = ep.namespace().unwrap_or_default();
            sync(&ctx, &ns, &ep.name_any()).await
        },
        // A key whose Endpoints left the cache: sync it all the same, to delete its slices.
        move |ns, name| {
            let ctx = gone_ctx.clone();
            async move {
                if let Err(e) = sync(&ctx, &ns, &name).await {
                    tracing::warn!(endpoints = %format!("{ns}/{name}"), error = %e, "cleaning up mirrored EndpointSlices failed");
                }
            }
        },
    )
    .await;
}

fn endpoints_key(ns: &str, name: &str) -> ObjectRef<Endpoints> {
    ObjectRef::new(name).within(ns)
}

/// Whether an Endpoints object may be mirrored at all (upstream's `shouldMirror`).
pub fn should_mirror(ep: &Endpoints) -> bool {
    ep.labels().get(LABEL_SKIP_MIRROR).map(String::as_str) != Some("true")
        && !ep.annotations().contains_key(LEADER_ANNOTATION)
}

/// Bring the mirrored slices of Endpoints `ns/name` to the desired state.
async fn sync(ctx: &Context, ns: &str, name: &str) -> Result<Action, Error> {
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), ns);
    let services: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
    let svc = services.get_opt(name).await?;
    let existing = mirrored_slices(&slices, name).await?;
    let mirrored = match svc {
        Some(svc) if !util::has_selector(&svc) => {
            let endpoints: Api<Endpoints> = Api::namespaced(ctx.client.clone(), ns);
            endpoints.get_opt(name).await?.filter(should_mirror)
        }
        _ => None,
    };
    let Some(ep) = mirrored else {
        for slice in &existing {
            delete_slice(&slices, slice).await?;
        }
        return Ok(Action::await_change());
    };
    let want = desired::desired(
        ep.subsets.as_deref().unwrap_or(&[]),
        ctx.config.max_endpoints_per_subset,
    );
    report_skipped(ctx, &ep, &want);
    let todo = plan::plan(&ep, &want.groups, &existing);
    // No new slices for Endpoints on their way out (their slices go with them).
    if ep.metadata.deletion_timestamp.is_none() {
        for slice in &todo.create {
            match slices.create(&PostParams::default(), slice).await {
                Ok(created) => {
                    tracing::info!(slice = %created.name_any(), endpoints = %name, "created mirrored EndpointSlice")
                }
                // Creating in a terminating namespace keeps failing: drop it, as upstream.
                Err(kube::Error::Api(e)) if namespace_terminating(&e) => {
                    return Ok(Action::await_change());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    for slice in &todo.update {
        slices
            .replace(&slice.name_any(), &PostParams::default(), slice)
            .await?;
        tracing::debug!(slice = %slice.name_any(), endpoints = %name, "updated mirrored EndpointSlice");
    }
    for slice in &todo.delete {
        delete_slice(&slices, slice).await?;
    }
    Ok(Action::await_change())
}

/// Our slices for Endpoints `name`: both labels, and a controller reference to an
/// Endpoints. The owner check keeps slices that only borrow our label, like the
/// apiserver's own `default/kubernetes` slice, out of our hands.
async fn mirrored_slices(
    api: &Api<EndpointSlice>,
    name: &str,
) -> Result<Vec<EndpointSlice>, Error> {
    let selector = format!("{LABEL_SERVICE_NAME}={name},{LABEL_MANAGED_BY}={CONTROLLER_NAME}");
    let list = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(list
        .items
        .into_iter()
        .filter(|s| {
            super::podutil::controller_of(&s.metadata)
                .is_some_and(|o| o.kind == "Endpoints" && o.api_version == "v1")
        })
        .collect())
}

/// Whether a refused create carries the `NamespaceTerminating` cause.
fn namespace_terminating(status: &kube::core::Status) -> bool {
    status
        .details
        .as_ref()
        .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
}

async fn delete_slice(api: &Api<EndpointSlice>, slice: &EndpointSlice) -> Result<(), Error> {
    match api
        .delete(&slice.name_any(), &DeleteParams::default())
        .await
    {
        Ok(_) => {
            tracing::info!(slice = %slice.name_any(), "deleted mirrored EndpointSlice");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Upstream's warning events for addresses that were not mirrored: `InvalidIPAddress` for
/// addresses that are not IPs, `TooManyAddressesToMirror` for those beyond the limit.
fn report_skipped(ctx: &Context, ep: &Endpoints, want: &desired::Desired) {
    if want.invalid > 0 {
        ctx.recorder.warning(
            ep,
            "InvalidIPAddress",
            format!(
                "Skipped {} invalid IP addresses when mirroring to EndpointSlices",
                want.invalid
            ),
        );
    }
    if want.skipped > want.invalid {
        ctx.recorder.warning(
            ep,
            "TooManyAddressesToMirror",
            format!(
                "A max of {} addresses can be mirrored to EndpointSlices per Endpoints subset. {} addresses were skipped",
                ctx.config.max_endpoints_per_subset, want.skipped
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn skip_mirror_label_and_leader_locks_are_not_mirrored() {
        let mut ep = Endpoints {
            metadata: ObjectMeta {
                name: Some("ext".into()),
                ..Default::default()
            },
            subsets: None,
        };
        assert!(should_mirror(&ep));
        ep.labels_mut()
            .insert(LABEL_SKIP_MIRROR.into(), "false".into());
        assert!(should_mirror(&ep), "only \"true\" skips");
        ep.labels_mut()
            .insert(LABEL_SKIP_MIRROR.into(), "true".into());
        assert!(!should_mirror(&ep));
        ep.labels_mut().clear();
        ep.annotations_mut()
            .insert(LEADER_ANNOTATION.into(), "{}".into());
        assert!(!should_mirror(&ep));
    }

    #[test]
    fn max_endpoints_per_subset_flag_takes_1_to_1000() {
        assert_eq!(parse_max_endpoints_per_subset("1000"), Ok(1000));
        assert_eq!(parse_max_endpoints_per_subset("1"), Ok(1));
        assert_eq!(
            parse_max_endpoints_per_subset("0"),
            Err("mirroring-max-endpoints-per-subset must not be less than 1, but got 0".into())
        );
        assert!(parse_max_endpoints_per_subset("1001").is_err());
        assert!(parse_max_endpoints_per_subset("many").is_err());
    }
}
