//! The bare-metal LoadBalancer controller (like k3s ServiceLB / MetalLB in layer-2 mode,
//! but for a single host): Services of `type: LoadBalancer` without a
//! `loadBalancerClass`, or with ours ([`LOAD_BALANCER_CLASS`]), get an address from
//! `--service-lb-pool` in `status.loadBalancer.ingress` (kube-proxy then serves it).
//!
//! Allocations are never kept only in memory: the addresses in use are read from the
//! Services' own status (the watch cache), so a restart rebuilds them. When two Services
//! claim one address (e.g. written by an older instance), the older Service keeps it.
//! A finalizer (upstream's `service.kubernetes.io/load-balancer-cleanup`) makes sure a
//! deleted Service's address is released before it goes.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::servicelb_pool::Pool;

/// The `spec.loadBalancerClass` this controller answers to (besides no class at all).
pub const LOAD_BALANCER_CLASS: &str = "rudder.io/service-lb";
/// Finalizer held while a Service has an address from us.
pub const CLEANUP_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";
/// The default pool: inside 127.0.0.0/8, so addresses are local by nature.
pub const DEFAULT_POOL: &str = "127.240.0.0/24";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
    pool: Pool,
    services: Store<Service>,
    /// Addresses handed out but perhaps not yet visible in the watch cache:
    /// address -> `namespace/name`.
    claimed: Mutex<HashMap<Ipv4Addr, String>>,
    /// Told when an address is freed, so Services waiting for one look again at once.
    freed: futures::channel::mpsc::UnboundedSender<()>,
}

/// Run until the watch ends.
pub async fn run(client: Client, pool: Pool) {
    let api: Api<Service> = Api::all(client.clone());
    let controller = Controller::new(api, watcher::Config::default());
    let (freed, freed_rx) = futures::channel::mpsc::unbounded();
    let ctx = Arc::new(Context {
        client,
        pool,
        services: controller.store(),
        claimed: Mutex::new(HashMap::new()),
        freed,
    });
    let results = controller
        .reconcile_all_on(freed_rx)
        .run(reconcile, error_policy, ctx);
    super::drain("service-lb", results).await;
}

fn error_policy(_svc: Arc<Service>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

fn key(svc: &Service) -> String {
    format!("{}/{}", svc.namespace().unwrap_or_default(), svc.name_any())
}

/// Whether the Service is one we serve: LoadBalancer, not deleted, no class or ours.
pub fn wants_address(svc: &Service) -> bool {
    let spec = svc.spec.clone().unwrap_or_default();
    spec.type_.as_deref() == Some("LoadBalancer")
        && svc.metadata.deletion_timestamp.is_none()
        && spec
            .load_balancer_class
            .as_deref()
            .is_none_or(|c| c == LOAD_BALANCER_CLASS)
}

/// The IPv4 ingress addresses in the Service's status.
pub fn ingress_ips(svc: &Service) -> Vec<Ipv4Addr> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|ing| {
            ing.iter()
                .filter_map(|i| i.ip.as_deref()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Age order: older Services win address conflicts (name breaks ties).
fn seniority(svc: &Service) -> (i64, String) {
    (
        svc.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .unwrap_or(i64::MAX),
        key(svc),
    )
}

/// Choose the address for `svc` given the other Services. `None`: nothing to give (pool
/// exhausted, or the requested `loadBalancerIP` is outside the pool or taken).
pub fn choose(
    pool: &Pool,
    svc: &Service,
    others: &[&Service],
    claimed_by_others: &HashSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    let mine = seniority(svc);
    // Addresses others hold: claimed ones, and ones in the status of a Service we serve
    // that is older than this one (a younger holder of a duplicate gives way).
    let held_against = |ip: Ipv4Addr| {
        claimed_by_others.contains(&ip)
            || others
                .iter()
                .any(|o| wants_address(o) && ingress_ips(o).contains(&ip) && seniority(o) < mine)
    };
    let requested = svc
        .spec
        .as_ref()
        .and_then(|s| s.load_balancer_ip.as_deref())
        .filter(|s| !s.is_empty());
    if let Some(req) = requested {
        let ip: Ipv4Addr = req.parse().ok()?;
        return (pool.contains(ip) && !held_against(ip)).then_some(ip);
    }
    if let Some(ip) = ingress_ips(svc)
        .into_iter()
        .find(|ip| pool.contains(*ip) && !held_against(*ip))
    {
        return Some(ip);
    }
    let mut used: HashSet<Ipv4Addr> = claimed_by_others.clone();
    for o in others.iter().filter(|o| wants_address(o)) {
        used.extend(ingress_ips(o));
    }
    pool.first_free(&used)
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    // Allocation decisions need the full picture of who holds what.
    if ctx.services.wait_until_ready().await.is_err() {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let api: Api<Service> =
        Api::namespaced(ctx.client.clone(), &svc.namespace().unwrap_or_default());
    let name = svc.name_any();
    let me = key(&svc);
    let finalizers = svc.finalizers().to_vec();
    let has_finalizer = finalizers.iter().any(|f| f == CLEANUP_FINALIZER);

    if !wants_address(&svc) {
        release(&ctx, &me);
        if has_finalizer {
            // We served it: take our address back out of status, then let it go.
            if ingress_ips(&svc).iter().any(|ip| ctx.pool.contains(*ip)) {
                let patch = json!({"status": {"loadBalancer": {"ingress": null}}});
                ignore_gone(
                    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await,
                )?;
            }
            let rest: Vec<&String> = finalizers
                .iter()
                .filter(|f| *f != CLEANUP_FINALIZER)
                .collect();
            let patch = json!({"metadata": {"finalizers": rest, "resourceVersion": svc.resource_version()}});
            ignore_gone(
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await,
            )?;
            tracing::info!(service = %me, "released load balancer address");
            let _ = ctx.freed.unbounded_send(());
        }
        return Ok(Action::await_change());
    }

    if !has_finalizer {
        let mut all = finalizers.clone();
        all.push(CLEANUP_FINALIZER.into());
        let patch =
            json!({"metadata": {"finalizers": all, "resourceVersion": svc.resource_version()}});
        ignore_gone(
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
        // The update brings us back here with the finalizer in place.
        return Ok(Action::await_change());
    }

    let chosen = {
        let mut claimed = ctx.claimed.lock().unwrap_or_else(|e| e.into_inner());
        let all = ctx.services.state();
        let others: Vec<&Service> = all.iter().map(|s| &**s).filter(|s| key(s) != me).collect();
        let by_others: HashSet<Ipv4Addr> = claimed
            .iter()
            .filter(|(_, k)| **k != me)
            .map(|(ip, _)| *ip)
            .collect();
        let chosen = choose(&ctx.pool, &svc, &others, &by_others);
        claimed.retain(|_, k| *k != me);
        if let Some(ip) = chosen {
            claimed.insert(ip, me.clone());
        }
        chosen
    };
    let Some(ip) = chosen else {
        tracing::warn!(service = %me, "no load balancer address available (pool exhausted, or loadBalancerIP outside the pool or taken)");
        return Ok(Action::requeue(Duration::from_secs(30)));
    };
    if ingress_ips(&svc) != vec![ip] {
        let patch = json!({"status": {"loadBalancer": {"ingress": [{"ip": ip.to_string(), "ipMode": "VIP"}]}}});
        match api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => tracing::info!(service = %me, %ip, "assigned load balancer address"),
            Err(kube::Error::Api(e)) if e.code == 404 => release(&ctx, &me),
            Err(e) => {
                release(&ctx, &me);
                return Err(e.into());
            }
        }
    }
    Ok(Action::await_change())
}

fn release(ctx: &Context, me: &str) {
    ctx.claimed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|_, k| k != me);
}

fn ignore_gone<T>(r: Result<T, kube::Error>) -> Result<(), Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        LoadBalancerIngress, LoadBalancerStatus, ServiceSpec, ServiceStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn svc(
        name: &str,
        created: i64,
        class: Option<&str>,
        ip: Option<&str>,
        requested: Option<&str>,
    ) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                creation_timestamp: Some(Time(
                    k8s_openapi::jiff::Timestamp::from_second(created).unwrap_or_default(),
                )),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                type_: Some("LoadBalancer".into()),
                load_balancer_class: class.map(Into::into),
                load_balancer_ip: requested.map(Into::into),
                ..Default::default()
            }),
            status: ip.map(|ip| ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(vec![LoadBalancerIngress {
                        ip: Some(ip.into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            }),
        }
    }

    fn pool() -> Pool {
        "127.240.0.0/29".parse().expect("pool")
    }

    fn ip(s: &str) -> Option<Ipv4Addr> {
        s.parse().ok()
    }

    #[test]
    fn first_free_and_keeps_its_own() {
        let a = svc("a", 1, None, Some("127.240.0.1"), None);
        let b = svc("b", 2, None, None, None);
        assert_eq!(
            choose(&pool(), &b, &[&a], &HashSet::new()),
            ip("127.240.0.2")
        );
        assert_eq!(
            choose(&pool(), &a, &[&b], &HashSet::new()),
            ip("127.240.0.1")
        );
    }

    #[test]
    fn duplicates_resolve_to_the_older_service() {
        let old = svc("old", 1, None, Some("127.240.0.1"), None);
        let young = svc("young", 2, None, Some("127.240.0.1"), None);
        assert_eq!(
            choose(&pool(), &old, &[&young], &HashSet::new()),
            ip("127.240.0.1")
        );
        assert_eq!(
            choose(&pool(), &young, &[&old], &HashSet::new()),
            ip("127.240.0.2")
        );
    }

    #[test]
    fn requested_address_must_be_in_pool_and_free() {
        let a = svc("a", 1, None, Some("127.240.0.3"), None);
        let want3 = svc("b", 2, None, None, Some("127.240.0.3"));
        assert_eq!(choose(&pool(), &want3, &[&a], &HashSet::new()), None);
        let want4 = svc("c", 2, None, None, Some("127.240.0.4"));
        assert_eq!(
            choose(&pool(), &want4, &[&a], &HashSet::new()),
            ip("127.240.0.4")
        );
        let outside = svc("d", 2, None, None, Some("10.0.0.1"));
        assert_eq!(choose(&pool(), &outside, &[], &HashSet::new()), None);
    }

    #[test]
    fn claims_and_other_classes() {
        let b = svc("b", 2, None, None, None);
        let claimed: HashSet<Ipv4Addr> = ip("127.240.0.1").into_iter().collect();
        assert_eq!(choose(&pool(), &b, &[], &claimed), ip("127.240.0.2"));
        assert!(!wants_address(&svc(
            "x",
            1,
            Some("example.com/other"),
            None,
            None
        )));
        assert!(wants_address(&svc(
            "y",
            1,
            Some(LOAD_BALANCER_CLASS),
            None,
            None
        )));
    }
}
