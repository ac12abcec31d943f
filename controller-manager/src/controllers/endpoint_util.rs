//! What the `endpoints` and `endpointslice` controllers share: which pods a Service
//! selects, which of them may be endpoints, their addresses and resolved ports, and the
//! watch wiring (a pod event requeues every Service of its namespace) and the controller
//! loop, which the `endpointslicemirroring` controller shares too.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

/// Whether a Service's endpoints are computed by the controllers: it has a non-empty
/// selector. Selector-less Services are managed by hand (or mirrored).
pub fn has_selector(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// Whether the Service's selector matches the pod's labels (a Service selector is a plain
/// equality map).
pub fn selects(svc: &Service, pod: &Pod) -> bool {
    let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return false;
    };
    let labels = pod.labels();
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether `publishNotReadyAddresses` is set: every selected pod counts as ready.
pub fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// Whether the Service is headless (`clusterIP: None`).
pub fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// The pod's address of `family` (`IPv4` or `IPv6`, as an EndpointSlice's `addressType`),
/// if it has one yet (`status.podIPs`, else `status.podIP`).
pub fn pod_ip_of_family(pod: &Pod, family: &str) -> Option<String> {
    let want_v6 = family == "IPv6";
    let of_family = |ip: &String| {
        ip.parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_ipv6() == want_v6)
    };
    let status = pod.status.as_ref()?;
    let from_list = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .find(of_family);
    from_list.or_else(|| status.pod_ip.clone().filter(of_family))
}

/// Whether a pod belongs in a Service's endpoints at all, as upstream's
/// `ShouldPodBeInEndpoints`: it has an IP (of any family), has not finished for good, and
/// (unless `include_terminating`) is not being deleted.
pub fn should_be_endpoint(pod: &Pod, include_terminating: bool) -> bool {
    let has_ip = pod.status.as_ref().is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
            || s.pod_ips.as_ref().is_some_and(|ips| !ips.is_empty())
    });
    if !has_ip {
        return false;
    }
    if !include_terminating && pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    let restart = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
    !matches!(
        (restart, phase),
        (Some("Never"), Some("Succeeded" | "Failed")) | (Some("OnFailure"), Some("Succeeded"))
    )
}

/// The pod port a Service port sends to: `targetPort` as a number, a name looked up in
/// the pod's container ports (with the same protocol), or `port` when unset. `None`
/// when a named port is missing from the pod (the pod is skipped for that port).
pub fn target_port(port: &ServicePort, pod: &Pod) -> Option<i32> {
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(s)) => match s.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                let protocol = port.protocol.as_deref().unwrap_or("TCP");
                pod.spec
                    .as_ref()?
                    .containers
                    .iter()
                    .flat_map(|c| c.ports.iter().flatten())
                    .find(|p| {
                        p.name.as_deref() == Some(s.as_str())
                            && p.protocol.as_deref().unwrap_or("TCP") == protocol
                    })
                    .map(|p| p.container_port)
            }
        },
    }
}

/// One resolved endpoint port: (name, port, protocol), the shape both APIs publish.
pub type ResolvedPort = (String, i32, String);

/// The Service's ports as resolved for one pod, in Service order; ports whose name
/// the pod lacks are left out.
pub fn resolved_ports(svc: &Service, pod: &Pod) -> Vec<ResolvedPort> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let n = target_port(p, pod)?;
            Some((
                p.name.clone().unwrap_or_default(),
                n,
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            ))
        })
        .collect()
}

/// Labels both controllers copy from the Service onto what they write: the Service's own
/// labels (minus `reserved`) and `service.kubernetes.io/headless` for headless Services.
pub fn inherited_labels(svc: &Service, reserved: &[&str]) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = svc
        .labels()
        .iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()) && k.as_str() != HEADLESS_LABEL)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if is_headless(svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    labels
}

/// Label marking objects that belong to a headless Service.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// A Service controller that reconciles on Service events and, for any pod event, every
/// Service of the pod's namespace (simple and always correct; each sync lists the pods
/// itself). Callers add a watch on what they write, then [`run`] it.
pub fn service_controller(client: Client) -> Controller<Service> {
    let services: Api<Service> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client);
    let controller = Controller::new(services, watcher::Config::default());
    let store = controller.store();
    controller.watches(pods, watcher::Config::default(), move |pod: Pod| {
        let ns = pod.namespace();
        store
            .state()
            .into_iter()
            .filter(|s| s.namespace() == ns)
            .map(|s| ObjectRef::from_obj(s.as_ref()))
            .collect::<Vec<_>>()
    })
}

/// Run `controller` until its watch streams end, retrying failed syncs after 2 s.
/// `on_gone(namespace, name)` is called when a triggered object (a Service, or the
/// Endpoints of the mirroring controller) no longer exists.
pub async fn run<K, Ctx, R, Fut, E, G, GFut>(
    controller: Controller<K>,
    name: &'static str,
    ctx: Arc<Ctx>,
    reconcile: R,
    on_gone: G,
) where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
    G: Fn(String, String) -> GFut,
    GFut: Future<Output = ()>,
    Ctx: Send + Sync + 'static,
    R: FnMut(Arc<K>, Arc<Ctx>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    controller
        .run(
            reconcile,
            move |_obj, err: &E, _ctx| {
                tracing::warn!(controller = name, error = %err, "sync failed: retrying");
                Action::requeue(Duration::from_secs(2))
            },
            ctx,
        )
        .for_each(|result| {
            let gone = match result {
                Err(kube::runtime::controller::Error::ObjectNotFound(r)) => {
                    Some((r.namespace.clone().unwrap_or_default(), r.name.clone()))
                }
                Err(e) => {
                    tracing::debug!(controller = name, error = %e, "sync failed");
                    None
                }
                Ok(_) => None,
            };
            let fut = gone.map(|(ns, n)| on_gone(ns, n));
            async move {
                if let Some(f) = fut {
                    f.await;
                }
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodIP, PodSpec, PodStatus, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(ip: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("http".into()),
                        container_port: 8080,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: ip.map(String::from),
                pod_ips: ip.map(|i| vec![PodIP { ip: i.into() }]),
                ..Default::default()
            }),
        }
    }

    fn svc_port(target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            name: Some("web".into()),
            port: 80,
            target_port: target,
            ..Default::default()
        }
    }

    #[test]
    fn named_target_port_resolves_from_container_ports() {
        let p = pod(Some("10.0.0.1"));
        assert_eq!(
            target_port(&svc_port(Some(IntOrString::String("http".into()))), &p),
            Some(8080)
        );
        assert_eq!(
            target_port(&svc_port(Some(IntOrString::String("nope".into()))), &p),
            None
        );
        assert_eq!(
            target_port(&svc_port(Some(IntOrString::Int(9000))), &p),
            Some(9000)
        );
        assert_eq!(target_port(&svc_port(None), &p), Some(80));
    }

    #[test]
    fn pods_without_ip_or_finished_are_not_endpoints() {
        assert!(!should_be_endpoint(&pod(None), true));
        assert!(should_be_endpoint(&pod(Some("10.0.0.1")), true));
        let mut done = pod(Some("10.0.0.1"));
        if let Some(s) = done.spec.as_mut() {
            s.restart_policy = Some("Never".into());
        }
        if let Some(s) = done.status.as_mut() {
            s.phase = Some("Succeeded".into());
        }
        assert!(!should_be_endpoint(&done, true));
    }

    #[test]
    fn selector_matches_labels_and_empty_selects_nothing() {
        let mut svc = Service {
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(selects(&svc, &pod(None)));
        if let Some(s) = svc.spec.as_mut() {
            s.selector = Some(Default::default());
        }
        assert!(!selects(&svc, &pod(None)));
        assert!(!has_selector(&svc));
    }
}
